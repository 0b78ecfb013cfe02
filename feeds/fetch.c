/*
 * fetch.c: libcurl multi glued to libevent.
 *
 * curl tells us which sockets to watch (fetch_on_socket) and when to wake it
 * (fetch_on_timer); libevent tells curl when a socket is ready or the timer
 * fired (curl_multi_socket_action), after which we collect the transfers
 * that ended (fetch_check_done).  Two rules from libcurl's documentation
 * shape this file: never call back into curl from its timer callback, and
 * never add or remove easy handles from inside a curl callback; so done
 * callbacks run only from fetch_check_done, outside curl.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "feeds/fetch.h"
#include "util/util.h"

#define FETCH_HEADER_MAX 1024 /* longest header value we keep */
#define FETCH_MAX_REDIRS 5L
#define FETCH_POOL_MAX	 64
/*
 * Where publishers can read about this feedmux, for the User-Agent's "(+URL)":
 * set at build time (cmake -DFEEDMUX_URL=...), since feedmux has no address
 * of its own to put there.  Empty: the User-Agent is just feedmux/VERSION.
 */
#ifndef FEEDMUX_URL
#define FEEDMUX_URL ""
#endif

struct fetcher {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct fetch_limits limits;
	char *user_agent;
	struct fetch *active; /* doubly linked list of running transfers */
	size_t nactive;
	/*
	 * Easy handles of finished transfers, reset and kept for the next ones
	 * (at most FETCH_POOL_MAX): making a new handle for each of thousands
	 * of feeds costs its buffers again and again.
	 */
	CURL *pool[FETCH_POOL_MAX];
	size_t npool;
};

struct fetch {
	struct fetcher *f;
	struct fetch *prev, *next;
	CURL *easy;
	struct curl_slist *headers;
	char *url;
	fetch_body_cb on_body;
	fetch_done_cb on_done;
	void *arg;

	long status_seen; /* the HTTP status whose body we are receiving, once known */
	bool deliver;	  /* that body goes to on_body (2xx, or a file) */
	size_t bytes;
	enum fetch_status stop; /* FETCH_OK, or why the write callback stopped curl */
	bool temporary_redirect; /* a 302, 303 or 307 was on the way */

	/* Headers of the latest response (each status line starts afresh). */
	char *etag;
	char *last_modified;
	char *cache_control;
	char *expires;
	char *date;
	char *retry_after;

	char refused[128]; /* why the open-socket callback refused a peer, or "" */
	char errbuf[CURL_ERROR_SIZE];
};

/* A socket curl asked us to watch. */
struct fetch_sock {
	struct event *ev;
	struct fetcher *f;
};

void
fetch_limits_default(struct fetch_limits *limits)
{
	memset(limits, 0, sizeof *limits);
	limits->connect_timeout = 30;
	limits->total_timeout = 120;
	limits->low_speed_time = 30;
	limits->low_speed_limit = 64;
	limits->max_body = (size_t)16 * 1024 * 1024;
	limits->max_total_connections = 64;
	limits->max_host_connections = 6;
}

static void fetch_check_done(struct fetcher *f);

static void
fetch_on_event(evutil_socket_t fd, short what, void *arg)
{
	struct fetch_sock *s = arg;
	struct fetcher *f = s->f;
	int flags = 0, running;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	/* `s` may be freed inside this call (CURL_POLL_REMOVE): use `f` after it. */
	curl_multi_socket_action(f->multi, fd, flags, &running);
	fetch_check_done(f);
}

static void
fetch_on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct fetcher *f = arg;
	int running;

	(void)fd, (void)what;
	curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	fetch_check_done(f);
}

/* CURLMOPT_SOCKETFUNCTION: watch `fd` as curl asks. */
static int
fetch_on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct fetcher *f = userp;
	struct fetch_sock *s = socketp;
	short events = EV_PERSIST;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			event_free(s->ev);
			free(s);
			curl_multi_assign(f->multi, fd, NULL);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EV_READ;
	if (what & CURL_POLL_OUT)
		events |= EV_WRITE;
	if (s == NULL) {
		s = xcalloc(1, sizeof *s);
		s->f = f;
		curl_multi_assign(f->multi, fd, s);
	} else
		event_free(s->ev);
	s->ev = event_new(f->base, fd, events, fetch_on_event, s);
	if (s->ev == NULL || event_add(s->ev, NULL) != 0)
		fatalx("event_add for a curl socket failed");
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: only (re)arm our timer; curl must not be called from here. */
static int
fetch_on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct fetcher *f = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(f->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(f->timer, &tv);
	return 0;
}

struct fetcher *
fetcher_new(struct event_base *base, const struct fetch_limits *limits)
{
	struct fetcher *f = xcalloc(1, sizeof *f);

	f->base = base;
	f->limits = *limits;
	if (limits->user_agent != NULL)
		f->user_agent = xstrdup(limits->user_agent);
	else if (FEEDMUX_URL[0] != '\0')
		f->user_agent = xstrdup("feedmux/" FEEDMUX_VERSION " (+" FEEDMUX_URL ")");
	else
		f->user_agent = xstrdup("feedmux/" FEEDMUX_VERSION);
	f->limits.user_agent = f->user_agent;
	if ((f->multi = curl_multi_init()) == NULL)
		fatalx("curl_multi_init failed");
	if ((f->timer = evtimer_new(base, fetch_on_timeout, f)) == NULL)
		fatalx("evtimer_new failed");
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, fetch_on_socket);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, fetch_on_timer);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, limits->max_total_connections);
	curl_multi_setopt(f->multi, CURLMOPT_MAX_HOST_CONNECTIONS, limits->max_host_connections);
	/* Several feeds of one HTTP/2 host share one connection. */
	curl_multi_setopt(f->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	return f;
}

static void
fetch_unlink(struct fetch *fx)
{
	struct fetcher *f = fx->f;

	if (fx->prev != NULL)
		fx->prev->next = fx->next;
	else
		f->active = fx->next;
	if (fx->next != NULL)
		fx->next->prev = fx->prev;
	f->nactive--;
}

/* Forget the headers of a response (a redirect, a 100) once the next one starts. */
static void
fetch_forget_headers(struct fetch *fx)
{
	free(fx->etag);
	free(fx->last_modified);
	free(fx->cache_control);
	free(fx->expires);
	free(fx->date);
	free(fx->retry_after);
	fx->etag = fx->last_modified = fx->cache_control = NULL;
	fx->expires = fx->date = fx->retry_after = NULL;
}

static void
fetch_destroy(struct fetch *fx)
{
	fetch_unlink(fx);
	curl_multi_remove_handle(fx->f->multi, fx->easy);
	if (fx->f->npool < FETCH_POOL_MAX) {
		curl_easy_reset(fx->easy);
		fx->f->pool[fx->f->npool++] = fx->easy;
	} else
		curl_easy_cleanup(fx->easy);
	curl_slist_free_all(fx->headers);
	fetch_forget_headers(fx);
	free(fx->url);
	free(fx);
}

void
fetcher_free(struct fetcher *f)
{
	if (f == NULL)
		return;
	for (struct fetch *fx = f->active, *next; fx != NULL; fx = next) {
		next = fx->next;
		fetch_destroy(fx);
	}
	while (f->npool > 0)
		curl_easy_cleanup(f->pool[--f->npool]);
	/* curl may still call fetch_on_socket from here: our events must outlive it. */
	curl_multi_cleanup(f->multi);
	event_free(f->timer);
	free(f->user_agent);
	free(f);
}

size_t
fetcher_active(const struct fetcher *f)
{
	return f->nactive;
}

/* Keep the value of header `name` from `line` in *slot, if that is the header. */
static void
fetch_keep_header(const char *line, size_t len, const char *name, char **slot)
{
	size_t nlen = strlen(name);

	if (len <= nlen + 1 || strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
		return;
	line += nlen + 1;
	len -= nlen + 1;
	while (len > 0 && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
		len--;
	if (len == 0 || len > FETCH_HEADER_MAX)
		return;
	free(*slot);
	*slot = xstrndup(line, len);
}

static size_t
fetch_on_header(char *line, size_t size, size_t n, void *arg)
{
	struct fetch *fx = arg;
	size_t len = size * n;

	/* A new status line starts a new response (a redirect, a 100): forget the old one's headers. */
	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		const char *sp = memchr(line, ' ', len);
		long code = sp != NULL ? strtol(sp + 1, NULL, 10) : 0;

		if (code == 302 || code == 303 || code == 307)
			fx->temporary_redirect = true;
		fetch_forget_headers(fx);
		return len;
	}
	fetch_keep_header(line, len, "ETag", &fx->etag);
	fetch_keep_header(line, len, "Last-Modified", &fx->last_modified);
	fetch_keep_header(line, len, "Cache-Control", &fx->cache_control);
	fetch_keep_header(line, len, "Expires", &fx->expires);
	fetch_keep_header(line, len, "Date", &fx->date);
	fetch_keep_header(line, len, "Retry-After", &fx->retry_after);
	return len;
}

static size_t
fetch_on_write(char *data, size_t size, size_t n, void *arg)
{
	struct fetch *fx = arg;
	size_t len = size * n;
	char *ctype = NULL;

	if (fx->status_seen < 0) {
		curl_easy_getinfo(fx->easy, CURLINFO_RESPONSE_CODE, &fx->status_seen);
		/* file: has no status (0); for HTTP only a 2xx body is a feed. */
		fx->deliver = fx->status_seen == 0 || (fx->status_seen >= 200 && fx->status_seen < 300);
	}
	fx->bytes += len;
	if (fx->bytes > fx->f->limits.max_body) {
		fx->stop = FETCH_TOO_LARGE;
		return CURL_WRITEFUNC_ERROR;
	}
	if (!fx->deliver)
		return len;
	curl_easy_getinfo(fx->easy, CURLINFO_CONTENT_TYPE, &ctype);
	if (fx->on_body(fx->arg, ctype, data, len) != 0) {
		fx->stop = FETCH_ABORTED;
		return CURL_WRITEFUNC_ERROR;
	}
	return len;
}

/* CURLOPT_DEBUGFUNCTION: curl's own trace, one log line per line of it. */
static int
fetch_on_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *arg)
{
	const char *mark = type == CURLINFO_TEXT ? "*" : type == CURLINFO_HEADER_IN ? "<" :
	    type == CURLINFO_HEADER_OUT					 ? ">" :
									   NULL;
	struct fetch *fx = arg;

	(void)easy;
	if (mark == NULL)
		return 0; /* bodies and TLS records are not worth a log line */
	while (size > 0) {
		size_t n = 0;

		while (n < size && data[n] != '\n' && data[n] != '\r')
			n++;
		if (n > 0)
			log_debug("curl %s: %s %.*s", fx->url, mark, (int)n, data);
		while (n < size && (data[n] == '\n' || data[n] == '\r'))
			n++;
		data += n;
		size -= n;
	}
	return 0;
}

/*
 * Why `sa` is no place for a feed fetcher to connect to when refuse_private
 * is set: loopback, private, shared (CGNAT), link-local, multicast,
 * unspecified or reserved addresses, in IPv4 or IPv6 (IPv4-mapped ones
 * included).  NULL when it is a public address.
 */
static const char *
fetch_private_kind(const struct sockaddr *sa)
{
	uint32_t a;

	if (sa->sa_family == AF_INET6) {
		const uint8_t *b = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		static const uint8_t zero[15] = {0};

		if (memcmp(b, mapped, 12) == 0)
			a = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
		else if (memcmp(b, zero, 15) == 0)
			return b[15] == 1 ? "a loopback address" : "the unspecified address";
		else if ((b[0] & 0xfe) == 0xfc)
			return "a unique local address";
		else if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
			return "a link-local address";
		else if (b[0] == 0xff)
			return "a multicast address";
		else
			return NULL;
	} else if (sa->sa_family == AF_INET)
		a = ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr);
	else
		return "not an Internet address";
	if ((a >> 24) == 127)
		return "a loopback address";
	if ((a >> 24) == 10 || (a >> 20) == (172u << 4 | 1) || (a >> 16) == (192u << 8 | 168))
		return "a private address";
	if ((a >> 22) == (100u << 2 | 1))
		return "a shared (carrier-grade NAT) address";
	if ((a >> 16) == (169u << 8 | 254))
		return "a link-local address";
	if ((a >> 24) == 0 || (a >> 28) >= 14)
		return "a reserved, multicast or unspecified address";
	return NULL;
}

/*
 * CURLOPT_OPENSOCKETFUNCTION, set only with refuse_private: the address is
 * checked here, after DNS and just before connect(), so a name that
 * resolves to a private address (or re-resolves to one, DNS rebinding)
 * cannot get through.  Another address of the same name may still be tried.
 */
static curl_socket_t
fetch_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct fetch *fx = arg;
	const char *kind = fetch_private_kind(&addr->addr);
	curl_socket_t fd;

	(void)purpose;
	if (kind != NULL) {
		char host[INET6_ADDRSTRLEN] = "?";
		const void *in = addr->family == AF_INET6 ?
		    (const void *)&((const struct sockaddr_in6 *)(const void *)&addr->addr)->sin6_addr :
		    (const void *)&((const struct sockaddr_in *)(const void *)&addr->addr)->sin_addr;

		if (addr->family == AF_INET || addr->family == AF_INET6)
			inet_ntop(addr->family, in, host, sizeof host);
		snprintf(fx->refused, sizeof fx->refused,
		    "refused to connect to %s, %s (refuse_private = yes)", host, kind);
		return CURL_SOCKET_BAD;
	}
	fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
	return fd < 0 ? CURL_SOCKET_BAD : fd;
}

static void
fetch_set_options(struct fetch *fx, const struct fetch_request *req)
{
	struct fetcher *f = fx->f;
	CURL *e = fx->easy;

	curl_easy_setopt(e, CURLOPT_URL, fx->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, fx);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, fx->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, req->allow_file ? "http,https,file" : "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, FETCH_MAX_REDIRS);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, f->limits.connect_timeout);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, f->limits.total_timeout);
	/* Give up on a server that drips, or stops, for low_speed_time. */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, f->limits.low_speed_limit);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, f->limits.low_speed_time);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* every encoding this curl decodes */
	/* HTTP/2 over TLS when the server offers it; wait for a connection to multiplex on. */
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	/* Proxies: libcurl reads http_proxy, https_proxy, all_proxy and no_proxy itself. */
	if (f->limits.refuse_private) {
		curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, fetch_open_socket);
		curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, fx);
	}
	if (f->limits.debug) {
		curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, fetch_on_debug);
		curl_easy_setopt(e, CURLOPT_DEBUGDATA, fx);
		curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
	}
	curl_easy_setopt(e, CURLOPT_USERAGENT, f->user_agent);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fetch_on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, fx);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fetch_on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, fx);
	if (req->etag != NULL) {
		char *h = xasprintf("If-None-Match: %s", req->etag);

		fx->headers = curl_slist_append(fx->headers, h);
		free(h);
	}
	if (req->last_modified != NULL) {
		char *h = xasprintf("If-Modified-Since: %s", req->last_modified);

		fx->headers = curl_slist_append(fx->headers, h);
		free(h);
	}
	if (fx->headers != NULL)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, fx->headers);
}

struct fetch *
fetch_start(struct fetcher *f, const struct fetch_request *req, fetch_body_cb on_body,
    fetch_done_cb on_done, void *arg)
{
	struct fetch *fx = xcalloc(1, sizeof *fx);

	fx->f = f;
	fx->url = xstrdup(req->url);
	fx->on_body = on_body;
	fx->on_done = on_done;
	fx->arg = arg;
	fx->status_seen = -1;
	fx->stop = FETCH_OK;
	if (f->npool > 0)
		fx->easy = f->pool[--f->npool];
	else if ((fx->easy = curl_easy_init()) == NULL)
		fatalx("curl_easy_init failed");
	fetch_set_options(fx, req);
	fx->next = f->active;
	if (f->active != NULL)
		f->active->prev = fx;
	f->active = fx;
	f->nactive++;
	if (curl_multi_add_handle(f->multi, fx->easy) != CURLM_OK)
		fatalx("curl_multi_add_handle failed");
	return fx;
}

void
fetch_cancel(struct fetch *fx)
{
	if (fx != NULL)
		fetch_destroy(fx);
}

void
fetcher_set_debug(struct fetcher *f, bool debug)
{
	f->limits.debug = debug;
}

/* Cache-Control max-age (which wins, RFC 9111), else Expires - Date; -1 when neither says. */
static long
fetch_max_age(const struct fetch *fx)
{
	time_t expires, date;

	if (fx->cache_control != NULL) {
		const char *p = fx->cache_control;

		if (strcasestr(p, "no-cache") != NULL || strcasestr(p, "no-store") != NULL)
			return 0;
		while ((p = strcasestr(p, "max-age")) != NULL) {
			/* not s-maxage: that one is for shared caches in front of many users */
			bool own = p == fx->cache_control || p[-1] == ' ' || p[-1] == ',';

			p += 7;
			while (*p == ' ')
				p++;
			if (own && *p == '=') {
				long v = strtol(p + 1 + (p[1] == '"'), NULL, 10);

				return v > 0 ? v : 0;
			}
		}
	}
	if (fx->expires == NULL)
		return -1;
	if ((expires = curl_getdate(fx->expires, NULL)) < 0)
		return 0; /* "Expires: 0" and other invalid dates mean already expired */
	date = fx->date != NULL ? curl_getdate(fx->date, NULL) : -1;
	if (date < 0)
		date = time(NULL);
	return expires > date ? (long)(expires - date) : 0;
}

/* Retry-After in seconds, from a number or an HTTP date; -1 when absent or unreadable. */
static long
fetch_retry_after(const struct fetch *fx)
{
	const char *v = fx->retry_after;
	time_t when;

	if (v == NULL)
		return -1;
	if (*v >= '0' && *v <= '9')
		return strtol(v, NULL, 10);
	if ((when = curl_getdate(v, NULL)) < 0)
		return -1;
	return when > time(NULL) ? (long)(when - time(NULL)) : 0;
}

/* Why curl gave up, for people: say which limit it was where curl's words do not. */
static void
fetch_failure_reason(struct fetch *fx, CURLcode code, long redirects, char *why, size_t whylen)
{
	const char *text = fx->errbuf[0] != '\0' ? fx->errbuf : curl_easy_strerror(code);
	char *next = NULL;

	if (fx->refused[0] != '\0')
		snprintf(why, whylen, "%s", fx->refused);
	else if (code == CURLE_UNSUPPORTED_PROTOCOL && redirects > 0 &&
	    curl_easy_getinfo(fx->easy, CURLINFO_EFFECTIVE_URL, &next) == CURLE_OK && next != NULL)
		snprintf(why, whylen, "redirect to %.200s refused: only http and https may be followed",
		    next);
	else if (code == CURLE_UNSUPPORTED_PROTOCOL)
		snprintf(why, whylen, "%s (only http and https are fetched)", text);
	else if (code == CURLE_TOO_MANY_REDIRECTS)
		snprintf(why, whylen, "more than %ld redirects (a loop?)", FETCH_MAX_REDIRS);
	else if (code == CURLE_OPERATION_TIMEDOUT && strstr(text, "too slow") != NULL)
		snprintf(why, whylen, "too slow: %s", text);
	else if (code == CURLE_OPERATION_TIMEDOUT)
		snprintf(why, whylen, "timed out: %s", text);
	else
		snprintf(why, whylen, "%s", text);
}

/* Fill `res` for a transfer curl finished with `code`. */
static void
fetch_result(struct fetch *fx, CURLcode code, struct fetch_result *res, char *why, size_t whylen)
{
	char *url = NULL;
	curl_off_t usec = 0, body = 0;
	long headers = 0;

	memset(res, 0, sizeof *res);
	curl_easy_getinfo(fx->easy, CURLINFO_TOTAL_TIME_T, &usec);
	curl_easy_getinfo(fx->easy, CURLINFO_SIZE_DOWNLOAD_T, &body);
	curl_easy_getinfo(fx->easy, CURLINFO_HEADER_SIZE, &headers);
	res->seconds = (double)usec / 1e6;
	res->received = (size_t)body + (size_t)headers;
	curl_easy_getinfo(fx->easy, CURLINFO_RESPONSE_CODE, &res->http_status);
	curl_easy_getinfo(fx->easy, CURLINFO_EFFECTIVE_URL, &url);
	curl_easy_getinfo(fx->easy, CURLINFO_REDIRECT_COUNT, &res->redirects);
	res->effective_url = url != NULL ? url : fx->url;
	res->bytes = fx->bytes;
	res->etag = fx->etag;
	res->last_modified = fx->last_modified;
	res->max_age = fetch_max_age(fx);
	res->retry_after = fetch_retry_after(fx);
	res->permanent = res->redirects > 0 && !fx->temporary_redirect;

	if (fx->stop == FETCH_TOO_LARGE) {
		res->status = FETCH_TOO_LARGE;
		snprintf(why, whylen, "body larger than %zu bytes after decompression (max_body)",
		    fx->f->limits.max_body);
	} else if (fx->stop == FETCH_ABORTED) {
		res->status = FETCH_ABORTED;
		snprintf(why, whylen, "stopped while reading the body");
	} else if (code != CURLE_OK) {
		res->status = FETCH_FAILED;
		fetch_failure_reason(fx, code, res->redirects, why, whylen);
	} else if (res->http_status == 304) {
		res->status = FETCH_NOT_MODIFIED;
		return;
	} else if (res->http_status != 0 && (res->http_status < 200 || res->http_status > 299)) {
		res->status = FETCH_HTTP_ERROR;
		snprintf(why, whylen, "HTTP status %ld", res->http_status);
	} else {
		res->status = FETCH_OK;
		return;
	}
	res->error = why;
}

static void
fetch_check_done(struct fetcher *f)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(f->multi, &left)) != NULL) {
		struct fetch *fx;
		struct fetch_result res;
		char *priv = NULL;
		char why[CURL_ERROR_SIZE + 64];

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		fx = (struct fetch *)priv;
		fetch_result(fx, msg->data.result, &res, why, sizeof why);
		/* Detach first: the callback may start new transfers, or free what `arg` points to. */
		curl_multi_remove_handle(f->multi, fx->easy);
		fx->on_done(fx->arg, &res);
		fetch_destroy(fx);
	}
}
