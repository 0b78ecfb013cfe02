/*
 * feedmuxctl: talk to a running feedmuxd over its socket, and help with its
 * configuration.
 *
 *	feedmuxctl [-s SOCKET] status
 *	feedmuxctl [-s SOCKET] feeds
 *	feedmuxctl [-s SOCKET] refresh [NAME]
 *	feedmuxctl [-s SOCKET] export [--format atom|rss|json]
 *	feedmuxctl [-s SOCKET] opml
 *	feedmuxctl [-c CONFIG] import-opml FILE
 *	feedmuxctl [-c CONFIG] check [CONFIG]
 *
 * SOCKET is a Unix socket path or HOST:PORT.  Exit status (feedmuxctl(1)):
 * 0 success; 1 the daemon answered with an error, or a file could not be
 * read; 2 a bad command line or an invalid configuration; 3 the daemon is
 * not running (no socket, nothing listening); 4 the socket is there but we
 * may not use it (permission denied).  3 and 4 follow the LSB status codes,
 * so scripts can tell "stopped" from "broken".
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libxml/parser.h>

#include "config/conf.h"
#include "daemon/opml.h"
#include "feeds/date.h"
#include "feeds/parse.h"
#include "util/util.h"

#define DEFAULT_SOCKET	 "/run/feedmux/feedmux.sock"
#define DEFAULT_CONFIG	 "/etc/feedmux/feedmux.conf"
#define CTL_MAX_RESPONSE ((size_t)64 * 1024 * 1024)

/* Exit statuses, see the top of the file. */
enum {
	CTL_OK = 0,
	CTL_ERROR = 1,
	CTL_USAGE = 2,
	CTL_NOT_RUNNING = 3,
	CTL_NO_ACCESS = 4,
};

/* Config lines are read by inih into a 200-byte buffer (feedmux.conf(5)). */
#define CONF_LINE_MAX 198
#define IMPORT_NAME_MAX 60

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: feedmuxctl [-s SOCKET] [-c CONFIG] COMMAND\n"
	    "  -s, --socket SOCKET  the daemon's Unix socket or HOST:PORT\n"
	    "                       (default " DEFAULT_SOCKET ")\n"
	    "  -c, --config CONFIG  the configuration file (default " DEFAULT_CONFIG ")\n"
	    "commands:\n"
	    "  status                the daemon: uptime, feeds, items, failing feeds\n"
	    "  feeds                 each feed's health: last fetch, HTTP status, items, next poll, error\n"
	    "  refresh [NAME]        poll every feed, or feed NAME, now (Unix socket only)\n"
	    "  export [--format atom|rss|json]  print the merged feed\n"
	    "  opml                  print the feeds as an OPML subscription list\n"
	    "  import-opml FILE      print [feed] sections for the subscriptions in FILE\n"
	    "                        that CONFIG does not have yet\n"
	    "  check [CONFIG]        validate a configuration file\n");
}

/* ---- talking to the daemon ---- */

static size_t
ctl_on_write(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	return buf_add(b, data, size * n) == 0 ? size * n : 0;
}

/* True when `s` is HOST:PORT rather than a socket path. */
static bool
ctl_is_tcp(const char *s)
{
	const char *colon = strrchr(s, ':');

	if (colon == NULL || colon[1] == '\0' || strchr(s, '/') != NULL)
		return false;
	return strspn(colon + 1, "0123456789") == strlen(colon + 1);
}

/*
 * Try the Unix socket first with a plain connect(), so that "not running",
 * "no such socket" and "not allowed" each get their own message and status.
 */
static int
ctl_probe_unix(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, rc, saved;

	if (strlen(path) >= sizeof sun.sun_path) {
		fprintf(stderr, "feedmuxctl: %s: socket path too long\n", path);
		return CTL_USAGE;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		fprintf(stderr, "feedmuxctl: socket: %s\n", strerror(errno));
		return CTL_ERROR;
	}
	rc = connect(fd, (struct sockaddr *)&sun, sizeof sun);
	saved = errno;
	close(fd);
	if (rc == 0)
		return CTL_OK;
	switch (saved) {
	case ENOENT:
		fprintf(stderr, "feedmuxctl: no socket at %s: is feedmuxd running? (see -s)\n", path);
		return CTL_NOT_RUNNING;
	case ECONNREFUSED:
		fprintf(stderr, "feedmuxctl: nothing listens on %s: feedmuxd is not running\n", path);
		return CTL_NOT_RUNNING;
	case EACCES:
	case EPERM:
		fprintf(stderr,
		    "feedmuxctl: %s: permission denied (run as root, or join the socket's group, "
		    "e.g. feedmux-clients)\n",
		    path);
		return CTL_NO_ACCESS;
	default:
		fprintf(stderr, "feedmuxctl: %s: %s\n", path, strerror(saved));
		return CTL_ERROR;
	}
}

/*
 * GET (or, when `post`, POST without a body) `path` from the daemon into
 * `out`.  Returns CTL_OK; or, after printing why, CTL_NOT_RUNNING /
 * CTL_NO_ACCESS when the daemon cannot be reached, or CTL_ERROR.  An HTTP
 * error status is returned in *status (when not NULL) and left to the
 * caller to explain; without `status` anything but 200 is an error.
 */
static int
ctl_request(const char *sock, bool post, const char *path, struct buf *out, long *status)
{
	CURL *c;
	char errbuf[CURL_ERROR_SIZE] = "";
	char *url;
	long code = 0;
	CURLcode rc;
	int probe;

	if (!ctl_is_tcp(sock) && (probe = ctl_probe_unix(sock)) != CTL_OK)
		return probe;
	if ((c = curl_easy_init()) == NULL) {
		fprintf(stderr, "feedmuxctl: curl_easy_init failed\n");
		return CTL_ERROR;
	}
	if (ctl_is_tcp(sock))
		url = xasprintf("http://%s%s", sock, path);
	else {
		url = xasprintf("http://localhost%s", path);
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (post)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ctl_on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	free(url);
	if (rc == CURLE_COULDNT_CONNECT) {
		fprintf(stderr, "feedmuxctl: no feedmuxd answers on %s (is it running? see -s)\n",
		    sock);
		return CTL_NOT_RUNNING;
	}
	if (rc != CURLE_OK) {
		fprintf(stderr, "feedmuxctl: %s: %s\n", sock, errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return CTL_ERROR;
	}
	if (status != NULL) {
		*status = code;
		return CTL_OK;
	}
	if (code != 200) {
		fprintf(stderr, "feedmuxctl: %s%s: HTTP %ld: %s", sock, path, code,
		    out->data != NULL ? out->data : "\n");
		return CTL_ERROR;
	}
	return CTL_OK;
}

static int
ctl_get(const char *sock, const char *path, struct buf *out, long *status)
{
	return ctl_request(sock, false, path, out, status);
}

/* GET /status as JSON into *root.  Returns as ctl_get does. */
static int
ctl_get_status(const char *sock, json_t **root)
{
	struct buf body;
	json_error_t jerr;
	int rc;

	buf_init(&body, CTL_MAX_RESPONSE);
	if ((rc = ctl_get(sock, "/status", &body, NULL)) != CTL_OK) {
		buf_free(&body);
		return rc;
	}
	*root = json_loadb(body.data != NULL ? body.data : "", body.len, 0, &jerr);
	buf_free(&body);
	if (*root == NULL || !json_is_array(json_object_get(*root, "feeds"))) {
		fprintf(stderr, "feedmuxctl: %s: /status is not what feedmuxd sends: %s\n", sock,
		    *root == NULL ? jerr.text : "no feeds");
		json_decref(*root);
		return CTL_ERROR;
	}
	return CTL_OK;
}

/* ---- formatting ---- */

static const char *
ctl_str(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

/* A JSON RFC 3339 time as UTC seconds; 0 when null or unreadable. */
static time_t
ctl_time(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	time_t t = s != NULL ? date_parse(s) : -1;

	return t > 0 ? t : 0;
}

/* "45s", "12m", "3h 5m", "2d 4h": a span as an operator reads it. */
static void
ctl_span(long long secs, char *out, size_t outlen)
{
	if (secs < 60)
		snprintf(out, outlen, "%llds", secs);
	else if (secs < 3600)
		snprintf(out, outlen, "%lldm", secs / 60);
	else if (secs < 86400)
		snprintf(out, outlen, "%lldh %lldm", secs / 3600, secs % 3600 / 60);
	else
		snprintf(out, outlen, "%lldd %lldh", secs / 86400, secs % 86400 / 3600);
}

/* `t` relative to `now`: "5m ago", "in 25m", or `never` when t is 0. */
static void
ctl_when(time_t t, time_t now, const char *never, char *out, size_t outlen)
{
	char span[32];

	if (t == 0) {
		snprintf(out, outlen, "%s", never);
		return;
	}
	ctl_span(t > now ? (long long)(t - now) : (long long)(now - t), span, sizeof span);
	if (t > now)
		snprintf(out, outlen, "in %s", span);
	else
		snprintf(out, outlen, "%s ago", span);
}

/* Display width of UTF-8 text: one column per code point (wide scripts are rare in names). */
static size_t
ctl_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

/*
 * A table: rows of cells, the first row the header; columns sized to their
 * widest cell, numbers right-aligned, the last column left ragged.
 */
struct ctl_table {
	size_t ncols;
	const bool *right; /* per column */
	char **cells;	   /* nrows * ncols, owned */
	size_t nrows;
};

static void
ctl_table_row(struct ctl_table *t, const char *const *cells)
{
	t->cells = xreallocarray(t->cells, (t->nrows + 1) * t->ncols, sizeof *t->cells);
	for (size_t c = 0; c < t->ncols; c++)
		t->cells[t->nrows * t->ncols + c] = xstrdup(cells[c]);
	t->nrows++;
}

static void
ctl_table_print(struct ctl_table *t)
{
	size_t *width = xcalloc(t->ncols, sizeof *width);

	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		if (ctl_width(t->cells[i]) > width[i % t->ncols])
			width[i % t->ncols] = ctl_width(t->cells[i]);
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			int pad = (int)(width[c] - ctl_width(cell));
			bool last = c + 1 == t->ncols;

			if (t->right[c])
				printf("%*s%s", pad, "", cell);
			else
				printf("%s%*s", cell, last ? 0 : pad, "");
			fputs(last ? "\n" : "  ", stdout);
		}
	}
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(width);
}

/* ---- commands ---- */

static int
ctl_status(const char *sock)
{
	json_t *root, *feeds;
	time_t now = time(NULL), started, last = 0, next = 0;
	size_t nfailing = 0;
	char when[64];
	struct buf failing;
	int rc;

	if ((rc = ctl_get_status(sock, &root)) != CTL_OK)
		return rc;
	feeds = json_object_get(root, "feeds");
	buf_init(&failing, 0);
	for (size_t i = 0; i < json_array_size(feeds); i++) {
		const json_t *f = json_array_get(feeds, i);
		time_t lf = ctl_time(f, "last_fetch"), np = ctl_time(f, "next_poll");

		if (lf > last)
			last = lf;
		if (np != 0 && (next == 0 || np < next))
			next = np;
		if (json_is_string(json_object_get(f, "error")))
			buf_addf(&failing, "%s%s", nfailing++ > 0 ? ", " : "", ctl_str(f, "name", "?"));
	}
	started = ctl_time(root, "started");
	ctl_when(started, now, "?", when, sizeof when);
	printf("feedmuxd %s on %s\n", ctl_str(root, "version", "?"), sock);
	printf("started     %s (%s)\n", ctl_str(root, "started", "?"), when);
	printf("feeds       %lld", (long long)json_integer_value(json_object_get(root, "feeds_total")));
	if (nfailing > 0)
		printf(", %zu failing: %s\n", nfailing, failing.data);
	else
		printf(", none failing\n");
	printf("items       %lld\n", (long long)json_integer_value(json_object_get(root, "items_total")));
	ctl_when(last, now, "never", when, sizeof when);
	printf("last fetch  %s\n", when);
	ctl_when(next, now, "none planned", when, sizeof when);
	printf("next poll   %s\n", when);
	buf_free(&failing);
	json_decref(root);
	return CTL_OK;
}

static int
ctl_feeds(const char *sock)
{
	static const bool right[] = {false, true, true, false, false, false};
	static const char *const header[] = {"FEED", "HTTP", "ITEMS", "LAST FETCH", "NEXT POLL",
		"ERROR"};
	struct ctl_table t = {.ncols = 6, .right = right};
	json_t *root, *feeds;
	time_t now = time(NULL);
	int rc;

	if ((rc = ctl_get_status(sock, &root)) != CTL_OK)
		return rc;
	feeds = json_object_get(root, "feeds");
	ctl_table_row(&t, header);
	for (size_t i = 0; i < json_array_size(feeds); i++) {
		const json_t *f = json_array_get(feeds, i);
		const json_t *http = json_object_get(f, "http_status");
		char status[16] = "-", items[24], last[32], next[32];
		const char *row[6];

		if (json_is_integer(http))
			snprintf(status, sizeof status, "%lld", (long long)json_integer_value(http));
		snprintf(items, sizeof items, "%lld",
		    (long long)json_integer_value(json_object_get(f, "items")));
		ctl_when(ctl_time(f, "last_fetch"), now, "never", last, sizeof last);
		ctl_when(ctl_time(f, "next_poll"), now, "-", next, sizeof next);
		row[0] = ctl_str(f, "name", "?");
		row[1] = status;
		row[2] = items;
		row[3] = last;
		row[4] = next;
		row[5] = ctl_str(f, "error", ctl_str(f, "warning", "-")); /* a failure, else a recovery */
		ctl_table_row(&t, row);
	}
	ctl_table_print(&t);
	json_decref(root);
	return CTL_OK;
}

/*
 * Print what a GET answered (rc and status from ctl_get), or explain why
 * there is nothing: a 404 means this daemon does not offer `what`.
 */
static int
ctl_emit(const char *sock, const char *path, const char *what, int rc, long status,
    const struct buf *body)
{
	if (rc != CTL_OK)
		return rc;
	if (status == 200) {
		fwrite(body->data != NULL ? body->data : "", 1, body->len, stdout);
		return CTL_OK;
	}
	if (status == 404)
		fprintf(stderr, "feedmuxctl: the feedmuxd on %s does not serve %s (%s)\n", sock, what,
		    path);
	else
		fprintf(stderr, "feedmuxctl: %s%s: HTTP %ld: %s", sock, path, status,
		    body->data != NULL ? body->data : "\n");
	return CTL_ERROR;
}

static int
ctl_print_get(const char *sock, const char *path, const char *what)
{
	struct buf body;
	long status = 0;
	int rc;

	buf_init(&body, CTL_MAX_RESPONSE);
	rc = ctl_get(sock, path, &body, &status);
	rc = ctl_emit(sock, path, what, rc, status, &body);
	buf_free(&body);
	return rc;
}

static int
ctl_export(const char *sock, int argc, char *argv[])
{
	static const char *const formats[] = {"atom", "rss", "json"};
	const char *format = "atom";
	char path[32];
	bool known = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
			format = argv[++i];
		else if (strncmp(argv[i], "--format=", 9) == 0)
			format = argv[i] + 9;
		else {
			usage(stderr);
			return CTL_USAGE;
		}
	}
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		known = known || strcmp(format, formats[i]) == 0;
	if (!known) {
		fprintf(stderr, "feedmuxctl: export: unknown format %s (atom, rss or json)\n", format);
		return CTL_USAGE;
	}
	snprintf(path, sizeof path, "/feed.%s", format);
	return ctl_print_get(sock, path, format);
}

/*
 * POST /refresh[?feed=NAME].  The daemon takes it on its Unix sockets only
 * (their permissions say who may), so over TCP we say so rather than ask.
 */
static int
ctl_refresh(const char *sock, const char *name)
{
	struct buf body;
	json_t *root;
	char *path, *quoted;
	long status = 0;
	size_t queued, busy, gone;
	int rc;

	if (ctl_is_tcp(sock)) {
		fprintf(stderr, "feedmuxctl: refresh: %s is TCP, where feedmuxd serves only GET and"
				" HEAD; use its Unix socket (-s PATH)\n", sock);
		return CTL_USAGE;
	}
	quoted = name != NULL ? curl_easy_escape(NULL, name, 0) : NULL;
	path = name != NULL ? xasprintf("/refresh?feed=%s", quoted) : xstrdup("/refresh");
	curl_free(quoted);
	buf_init(&body, CTL_MAX_RESPONSE);
	rc = ctl_request(sock, true, path, &body, &status);
	free(path);
	if (rc == CTL_OK && status != 202) {
		if (status == 404 && name != NULL)
			fprintf(stderr, "feedmuxctl: refresh: no feed is called %s\n", name);
		else
			fprintf(stderr, "feedmuxctl: %s: refresh: HTTP %ld: %s", sock, status,
			    body.data != NULL ? body.data : "\n");
		rc = CTL_ERROR;
	}
	root = rc == CTL_OK ? json_loadb(body.data != NULL ? body.data : "", body.len, 0, NULL) : NULL;
	buf_free(&body);
	if (rc != CTL_OK)
		return rc;
	queued = (size_t)json_integer_value(json_object_get(root, "queued"));
	busy = (size_t)json_integer_value(json_object_get(root, "busy"));
	gone = (size_t)json_integer_value(json_object_get(root, "disabled"));
	json_decref(root);
	if (name != NULL && gone > 0) {
		fprintf(stderr, "feedmuxctl: refresh: %s is disabled: it answered 410 Gone; change its"
				" url to poll it again\n", name);
		return CTL_ERROR;
	}
	if (name != NULL)
		printf("%s: %s\n", name, busy > 0 ? "already queued or being fetched" : "queued");
	else
		printf("%zu feed%s queued, %zu already queued or being fetched, %zu disabled (410 Gone)\n",
		    queued, queued == 1 ? "" : "s", busy, gone);
	return CTL_OK;
}

/* The feeds as OPML 2.0, as the daemon serves them at /opml. */
static int
ctl_opml(const char *sock)
{
	return ctl_print_get(sock, "/opml", "OPML");
}

/*
 * Paths the packaged service can write (feedmux.service: ProtectSystem=strict
 * with StateDirectory and RuntimeDirectory).  Only a hint: the file may be
 * meant for a daemon run some other way.
 */
static void
ctl_check_sandbox(const struct conf *conf)
{
	if (strncmp(conf->database, "/var/lib/feedmux/", 17) != 0)
		printf("note: database %s: under feedmux.service only /var/lib/feedmux is writable\n",
		    conf->database);
	/* /run/feedmux.sock is feedmux.socket's: systemd makes it, not the daemon. */
	for (size_t i = 0; i < conf->nlisten; i++)
		if (conf->listen[i].is_unix && strncmp(conf->listen[i].path, "/run/feedmux/", 13) != 0 &&
		    strcmp(conf->listen[i].path, "/run/feedmux.sock") != 0)
			printf("note: listen %s: under feedmux.service only /run/feedmux is writable\n",
			    conf->listen[i].path);
}

static int
ctl_check(const char *path)
{
	struct conf *conf = conf_load_logged(path);

	if (conf == NULL)
		return CTL_USAGE;
	printf("%s: configuration valid: %zu feed%s, %zu output%s\n", path, conf->nfeeds,
	    conf->nfeeds == 1 ? "" : "s", conf->noutputs, conf->noutputs == 1 ? "" : "s");
	if (strncmp(path, "/etc/feedmux/", 13) == 0)
		ctl_check_sandbox(conf);
	conf_free(conf);
	return CTL_OK;
}

/* ---- import-opml ---- */

/*
 * A feed name from a title: ASCII letters and digits in lower case, every
 * other run as one '-', short enough to type (`feedmuxctl`, `?feed=`).  ""
 * when nothing is left, as for a title in another script: the caller then
 * names the feed after its host, and the title stays in a comment.
 */
static void
ctl_slug(const char *title, char out[IMPORT_NAME_MAX + 1])
{
	size_t len = 0;

	for (const unsigned char *p = (const unsigned char *)title;
	     *p != '\0' && len < IMPORT_NAME_MAX; p++) {
		if (*p < 0x80 && (isalnum(*p) || *p == '.' || *p == '_'))
			out[len++] = (char)tolower(*p);
		else if (len > 0 && out[len - 1] != '-')
			out[len++] = '-';
	}
	while (len > 0 && out[len - 1] == '-')
		len--;
	out[len] = '\0';
}

/* The feed URL in normal form when it is http(s); NULL (with *why) otherwise. */
static char *
ctl_import_url(const char *raw, const char **why)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *url = NULL, *out = NULL;

	if (u == NULL)
		fatalx("curl_url: out of memory");
	if (curl_url_set(u, CURLUPART_URL, raw, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
		*why = "not a URL";
	else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		*why = "only http and https feeds are imported";
	else if (strlen(url) + strlen("url = ") > CONF_LINE_MAX)
		*why = "URL too long for a configuration line (198 characters)";
	else
		out = xstrdup(url);
	curl_free(scheme);
	curl_free(url);
	curl_url_cleanup(u);
	return out;
}

/* What is taken already: the configuration's feeds, then what we printed. */
struct ctl_import {
	const struct conf *conf; /* may be NULL */
	struct ctl_added {
		char *name;
		char *url;
	} *added;
	size_t n;
};

static bool
ctl_import_has_name(const struct ctl_import *im, const char *name)
{
	if (im->conf != NULL && conf_find_feed(im->conf, name) != NULL)
		return true;
	for (size_t i = 0; i < im->n; i++)
		if (strcmp(im->added[i].name, name) == 0)
			return true;
	return false;
}

/* Whether a feed has `url` already; its name goes to *had. */
static bool
ctl_import_has_url(const struct ctl_import *im, const char *url, const char **had)
{
	for (size_t i = 0; im->conf != NULL && i < im->conf->nfeeds; i++)
		if (strcmp(im->conf->feeds[i].url, url) == 0) {
			*had = im->conf->feeds[i].name;
			return true;
		}
	for (size_t i = 0; i < im->n; i++)
		if (strcmp(im->added[i].url, url) == 0) {
			*had = im->added[i].name;
			return true;
		}
	return false;
}

/* A name for the feed: from its title, else its host; "-2", "-3"... when taken. */
static void
ctl_import_name(const struct ctl_import *im, const struct opml_feed *f, const char *url,
    char *out, size_t outlen)
{
	char base[IMPORT_NAME_MAX + 1] = "";

	if (f->title != NULL)
		ctl_slug(f->title, base);
	if (base[0] == '\0') {
		const char *host = strstr(url, "://");

		host = host != NULL ? host + 3 : url;
		char tmp[IMPORT_NAME_MAX + 1];

		snprintf(tmp, sizeof tmp, "%.*s", (int)strcspn(host, "/:?#"), host);
		ctl_slug(tmp, base);
	}
	if (base[0] == '\0')
		snprintf(base, sizeof base, "feed");
	snprintf(out, outlen, "%s", base);
	for (unsigned i = 2; ctl_import_has_name(im, out); i++)
		snprintf(out, outlen, "%s-%u", base, i);
}

/* One [feed] section; its tags, made config-safe, as many as fit on a line. */
static void
ctl_import_print(const struct opml_feed *f, const char *name, const char *url)
{
	size_t linelen = strlen("tags = ");
	bool any = false;

	printf("\n");
	if (f->title != NULL && strcmp(f->title, name) != 0)
		printf("# %.150s\n", f->title);
	printf("[feed \"%s\"]\nurl = %s\n", name, url);
	for (size_t i = 0; i < f->ntags; i++) {
		char tag[IMPORT_NAME_MAX + 1] = "";

		ctl_slug(f->tags[i], tag);
		if (tag[0] == '\0' || linelen + strlen(tag) + 1 > CONF_LINE_MAX)
			continue;
		printf("%s%s", any ? " " : "tags = ", tag);
		linelen += strlen(tag) + 1;
		any = true;
	}
	if (any)
		printf("\n");
}

static int
ctl_import_opml(const char *config, bool config_given, const char *file)
{
	struct ctl_import im = {0};
	struct opml_feed *feeds = NULL;
	struct conf *conf = NULL;
	size_t n = 0, known = 0, skipped = 0;
	char err[512];

	/* Compare with the configuration when there is one: named, or the default when present. */
	if (config_given || access(config, F_OK) == 0) {
		if ((conf = conf_load_logged(config)) == NULL)
			return CTL_USAGE;
		im.conf = conf;
	}
	if (opml_read(file, &feeds, &n, err, sizeof err) != 0) {
		fprintf(stderr, "feedmuxctl: %s\n", err);
		conf_free(conf);
		return CTL_ERROR;
	}
	printf("# feedmuxctl import-opml %s: sections to add to %s\n", file,
	    conf != NULL ? config : "your feedmux.conf");
	for (size_t i = 0; i < n; i++) {
		const char *why = NULL, *had = NULL;
		char *url = ctl_import_url(feeds[i].url, &why);
		char name[IMPORT_NAME_MAX + 16];

		if (url == NULL) {
			fprintf(stderr, "feedmuxctl: %s:%u: %s: skipped: %s\n", file, feeds[i].line,
			    feeds[i].url, why);
			skipped++;
			continue;
		}
		if (ctl_import_has_url(&im, url, &had)) {
			fprintf(stderr, "feedmuxctl: %s:%u: %s: already there as feed \"%s\"\n", file,
			    feeds[i].line, url, had);
			known++;
			free(url);
			continue;
		}
		ctl_import_name(&im, &feeds[i], url, name, sizeof name);
		ctl_import_print(&feeds[i], name, url);
		im.added = xreallocarray(im.added, im.n + 1, sizeof *im.added);
		im.added[im.n].name = xstrdup(name);
		im.added[im.n++].url = url;
	}
	fprintf(stderr, "feedmuxctl: %s: %zu feed%s to add, %zu already there, %zu skipped\n", file,
	    im.n, im.n == 1 ? "" : "s", known, skipped);
	for (size_t i = 0; i < im.n; i++)
		free(im.added[i].name), free(im.added[i].url);
	free(im.added);
	opml_feeds_free(feeds, n);
	conf_free(conf);
	return CTL_OK;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *sock = DEFAULT_SOCKET, *config = DEFAULT_CONFIG, *cmd;
	bool config_given = false;
	int ch, rc;

	log_init("feedmuxctl");
	while ((ch = getopt_long(argc, argv, "+s:c:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 's': sock = optarg; break;
		case 'c': config = optarg, config_given = true; break;
		case 'h': usage(stdout); return CTL_OK;
		case 'V': printf("feedmuxctl %s\n", FEEDMUX_VERSION); return CTL_OK;
		default: usage(stderr); return CTL_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return CTL_USAGE;
	}
	cmd = argv[0];
	curl_global_init(CURL_GLOBAL_DEFAULT);
	parse_init();
	if (strcmp(cmd, "status") == 0 && argc == 1)
		rc = ctl_status(sock);
	else if (strcmp(cmd, "feeds") == 0 && argc == 1)
		rc = ctl_feeds(sock);
	else if (strcmp(cmd, "export") == 0)
		rc = ctl_export(sock, argc, argv);
	else if (strcmp(cmd, "refresh") == 0 && argc <= 2)
		rc = ctl_refresh(sock, argc == 2 ? argv[1] : NULL);
	else if (strcmp(cmd, "opml") == 0 && argc == 1)
		rc = ctl_opml(sock);
	else if (strcmp(cmd, "import-opml") == 0 && argc == 2)
		rc = ctl_import_opml(config, config_given, argv[1]);
	else if (strcmp(cmd, "check") == 0 && argc <= 2)
		rc = ctl_check(argc == 2 ? argv[1] : config);
	else {
		fprintf(stderr, "feedmuxctl: %s: unknown command or wrong arguments\n", cmd);
		usage(stderr);
		rc = CTL_USAGE;
	}
	xmlCleanupParser();
	curl_global_cleanup();
	return rc;
}
