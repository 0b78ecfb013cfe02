/*
 * fetch: many HTTP(S) transfers at once from one libevent loop, through
 * libcurl's multi interface (curl_multi_socket_action).
 *
 * The body is handed to the caller as it arrives, never buffered whole, and
 * counted after decompression so a small compressed body cannot grow past the
 * cap.  Each transfer ends with exactly one call of its done callback, unless
 * it is cancelled first.
 */
#ifndef FEEDMUX_FETCH_H
#define FEEDMUX_FETCH_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct fetcher;
struct fetch;

struct fetch_limits {
	long connect_timeout; /* seconds */
	long total_timeout;   /* seconds, the whole transfer */
	long low_speed_time;  /* seconds under low_speed_limit before giving up (0: never) */
	long low_speed_limit; /* bytes per second */
	size_t max_body;      /* bytes after decompression */
	long max_total_connections; /* connections curl may open, in all and per host */
	long max_host_connections;
	const char *user_agent; /* NULL: feedmux/VERSION, then " (+FEEDMUX_URL)" if built with one */
	bool refuse_private;	/* refuse loopback, private, link-local... peers at connect time */
	bool debug;		/* curl's own trace of each transfer, through log_debug */
};

/*
 * Defaults a daemon can live with: 30 s to connect, 120 s in all, under 64
 * bytes a second for 30 s is a stall, 16 MB of body.
 */
void fetch_limits_default(struct fetch_limits *limits);

enum fetch_status {
	FETCH_OK,	    /* 2xx (or a file), the body was delivered */
	FETCH_NOT_MODIFIED, /* 304: nothing was delivered */
	FETCH_HTTP_ERROR,   /* another HTTP status */
	FETCH_FAILED,	    /* a transport error: DNS, connect, TLS, timeout, protocol refused... */
	FETCH_TOO_LARGE,    /* the body passed max_body */
	FETCH_ABORTED,	    /* the body callback asked to stop */
};

struct fetch_result {
	enum fetch_status status;
	long http_status;	   /* 0 when there was no HTTP response (file:, failures) */
	const char *error;	   /* why it failed, for people; NULL when status is OK or 304 */
	const char *etag;	   /* validators of the final response, or NULL */
	const char *last_modified;
	const char *effective_url; /* after redirects */
	size_t bytes;		   /* body bytes delivered, after decompression */

	/* Hints of the final response, for the scheduler; -1 when absent. */
	long max_age;	  /* Cache-Control max-age, else Expires minus Date, in seconds */
	long retry_after; /* Retry-After (seconds, or an HTTP date turned into seconds) */
	long redirects;	  /* redirects followed */
	bool permanent;	  /* at least one redirect, and every one was permanent (301, 308) */

	/* For the daemon's metrics. */
	double seconds;	     /* the whole transfer, redirects included */
	size_t received;     /* bytes from the network: headers, and the body as sent */
};

struct fetch_request {
	const char *url;
	bool allow_file; /* allow file:// (never reachable by a redirect) */
	const char *etag; /* sent as If-None-Match, or NULL */
	const char *last_modified; /* sent as If-Modified-Since, or NULL */
};

/* Body bytes, as they arrive; return 0 to go on, -1 to abort the transfer. */
typedef int (*fetch_body_cb)(void *arg, const char *content_type, const char *data, size_t len);
/* The end of a transfer; `res` and its strings live only during the call. */
typedef void (*fetch_done_cb)(void *arg, const struct fetch_result *res);

struct fetcher *fetcher_new(struct event_base *base, const struct fetch_limits *limits);
/* Cancels every transfer still running (no done callbacks), then frees. */
void fetcher_free(struct fetcher *f);
size_t fetcher_active(const struct fetcher *f);

/*
 * Start a transfer.  The request's strings are copied.  Returns a handle
 * valid until the done callback returns or fetch_cancel is called.
 */
struct fetch *fetch_start(struct fetcher *f, const struct fetch_request *req, fetch_body_cb on_body,
    fetch_done_cb on_done, void *arg);
/* Stop a transfer; its done callback is not called.  Never call from a fetch callback. */
void fetch_cancel(struct fetch *fx);

/* Turn curl's trace of transfers started from now on (limits.debug) on or off. */
void fetcher_set_debug(struct fetcher *f, bool debug);

#endif
