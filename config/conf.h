/*
 * config: the feedmux configuration file (feedmux.conf(5)).
 *
 * conf_load reads and validates a whole file into a fresh struct conf; the
 * daemon swaps it in only when it is valid.  Every problem is reported, each
 * as "file:line: reason", before conf_load gives up.  This module touches
 * neither the network nor the database.
 */
#ifndef FEEDMUX_CONF_H
#define FEEDMUX_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "util/util.h"

/* Longest Unix socket path that fits in sockaddr_un.sun_path. */
#define CONF_UNIX_PATH_MAX 107

/* One listen address: a Unix socket path or a TCP host and port. */
struct conf_listen {
	bool is_unix;
	char *path; /* Unix socket path, as written (relative to the working directory) */
	char *host; /* TCP host, brackets removed */
	char *port; /* TCP port, digits */
};

struct conf_feed {
	char *name;
	char *url;	     /* absolute URL; a relative file: URL is resolved against the config's folder */
	unsigned interval;   /* seconds; the global interval when the section sets none */
	char **tags;
	size_t ntags;
	bool allow_file;     /* file:// URLs are refused unless this is set */
	unsigned line;	     /* line of the section header, for messages */
	unsigned keep;	     /* seconds items are kept; 0: the global keep */
	unsigned max_items;  /* items kept at most; 0: the global max_items */
	bool merge;	     /* its stories merge with the same story from other feeds (default yes) */
};

struct conf_output {
	char *name;
	char **tags;
	size_t ntags;
	char **feeds;
	size_t nfeeds;
	unsigned line;
	char **include; /* glob patterns on title and content: at least one must match */
	size_t ninclude;
	char **exclude; /* glob patterns on title and content: none may match */
	size_t nexclude;
};

struct conf {
	char *path; /* the file this was read from */
	char *database;
	struct conf_listen *listen;
	size_t nlisten;
	unsigned interval; /* default poll interval, seconds */
	int log_level;	   /* enum log_level */
	struct conf_feed *feeds;
	size_t nfeeds;
	struct conf_output *outputs;
	size_t noutputs;
	unsigned keep;	      /* seconds items are kept after their date; 0: for ever */
	unsigned max_items;   /* items kept per feed at most; 0: no limit */
	unsigned listen_mode; /* permissions of Unix sockets (default 0660) */
	char *listen_group;   /* group of Unix sockets, or NULL: the daemon's */
	unsigned max_connections; /* HTTP connections at once; 0: the default */
	unsigned heartbeat;	  /* seconds between /events heartbeats; 0: the default */

	/* Fetching and scheduling (README.md, "Fetching"). */
	unsigned min_interval;	      /* seconds: no feed is polled more often, whatever it asks */
	unsigned max_interval;	      /* seconds: cap of failure backoff, server hints and adaptation */
	bool adaptive;		      /* poll at the feed's own posting rate, within those bounds */
	unsigned connect_timeout;     /* seconds */
	unsigned timeout;	      /* seconds for a whole transfer */
	unsigned low_speed_time;      /* seconds under low_speed_limit before a transfer is dropped */
	unsigned long long low_speed_limit; /* bytes per second */
	unsigned long long max_body;  /* bytes of body, counted after decompression */
	unsigned long long max_transfers;    /* transfers at once, in all */
	unsigned long long host_connections; /* transfers at once to one host */
	unsigned host_delay_ms;	      /* at least this long between two requests to one host */
	unsigned start_spread_ms;     /* feeds with no planned poll start within this at startup */
	char *user_agent;	      /* NULL: feedmux/VERSION, then " (+FEEDMUX_URL)" if built with one */
	bool refuse_private;	      /* refuse loopback, private and link-local peers */
};

/* Messages, each "file:line: reason" (or "file: reason"), in file order. */
struct conf_errors {
	char **msgs;
	size_t n;
};

/*
 * Read and validate `path`.  Returns a new struct conf (free with
 * conf_free), or NULL with every problem appended to `errs`.
 */
struct conf *conf_load(const char *path, struct conf_errors *errs);
void conf_free(struct conf *conf);
void conf_errors_free(struct conf_errors *errs);

/*
 * conf_load for programs: on failure, log each error and a count at error
 * level (feedmuxd, feedmuxctl check) and return NULL.
 */
struct conf *conf_load_logged(const char *path);

/*
 * Reload: each key a reload may not change (database, listen and others,
 * feedmux.conf(5)) that `fresh` sets differently from `old` takes its old
 * value back in `fresh`, with a warning that a restart is needed.  Returns
 * how many.
 */
size_t conf_keep_fixed(struct conf *fresh, const struct conf *old);

/* The feed called `name`, or NULL. */
const struct conf_feed *conf_find_feed(const struct conf *conf, const char *name);

/*
 * Parse a duration: a number of seconds, or numbers with units s, m, h, d, w
 * ("90", "15m", "1h30m").  Returns 0 and sets *secs, or -1.
 */
int conf_parse_duration(const char *s, unsigned *secs);

#endif
