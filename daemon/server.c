/*
 * server.c: evhttp on Unix sockets and TCP.
 *
 * evhttp's defaults are made for a trusting world (unlimited header sizes,
 * every method, no timeouts): we allow GET and HEAD only, cap what a request
 * may send, and time idle connections out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "config/conf.h"
#include "daemon/server.h"
#include "feeds/date.h"
#include "feeds/render.h"
#include "storage/store.h"
#include "util/util.h"

#define SRV_DEFAULT_LIMIT 50
#define SRV_MAX_LIMIT	  1000
#define SRV_MAX_HEADERS	  ((ev_ssize_t)16 * 1024)
#define SRV_TIMEOUT	  30 /* seconds a connection may sit idle */
#define SRV_SOCKET_MODE	  0660

struct srv_listener {
	char *unix_path; /* a socket file we made and must remove, or NULL */
};

struct srv {
	struct event_base *base;
	struct evhttp *http;
	const struct conf *conf;
	struct store *store;
	time_t started;
	struct srv_listener *listeners;
	size_t nlisteners;
};

typedef void (*srv_route_fn)(struct srv *srv, struct evhttp_request *req);

static void
srv_send_text(struct evhttp_request *req, int code, const char *reason, const char *text)
{
	struct evbuffer *body = evbuffer_new();

	if (body == NULL)
		fatalx("evbuffer_new failed");
	evbuffer_add_printf(body, "%s\n", text);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "text/plain; charset=utf-8");
	evhttp_send_reply(req, code, reason, body);
	evbuffer_free(body);
}

/* Send `data` (len bytes) with `type`; the buffer is copied. */
static void
srv_send(struct evhttp_request *req, const char *type, const char *data, size_t len)
{
	struct evbuffer *body = evbuffer_new();

	if (body == NULL || evbuffer_add(body, data, len) != 0)
		fatalx("evbuffer: out of memory");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	evhttp_send_reply(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
}

/* Read ?limit, ?feed and ?since into `q`; on a bad value, set *why and return -1. */
static int
srv_parse_query(struct evhttp_request *req, struct store_query *q, struct evkeyvalq *params,
    const char **why)
{
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	const char *v;
	char *end;

	q->limit = SRV_DEFAULT_LIMIT;
	if (query == NULL)
		return 0;
	if (evhttp_parse_query_str(query, params) != 0) {
		*why = "malformed query string";
		return -1;
	}
	if ((v = evhttp_find_header(params, "limit")) != NULL) {
		unsigned long n = strtoul(v, &end, 10);

		if (*v < '0' || *v > '9' || *end != '\0' || n < 1 || n > SRV_MAX_LIMIT) {
			*why = "limit must be a number from 1 to 1000";
			return -1;
		}
		q->limit = n;
	}
	if ((v = evhttp_find_header(params, "since")) != NULL) {
		time_t t = date_parse(v);

		if (t <= 0) {
			*why = "since must be a date such as 2026-01-31T12:00:00Z";
			return -1;
		}
		q->since = t;
	}
	q->feed = evhttp_find_header(params, "feed");
	return 0;
}

static void
srv_route_atom(struct srv *srv, struct evhttp_request *req)
{
	struct evkeyvalq params = {0};
	struct store_query q = {0};
	struct stored_item *items = NULL;
	struct render_feed meta = {0};
	const char *why = NULL;
	size_t n = 0;
	struct buf out;
	char *id;

	if (srv_parse_query(req, &q, &params, &why) != 0) {
		srv_send_text(req, HTTP_BADREQUEST, "Bad Request", why);
		evhttp_clear_headers(&params);
		return;
	}
	if (store_query_items(srv->store, &q, &items, &n) != 0) {
		srv_send_text(req, HTTP_INTERNAL, "Internal Server Error", "database error");
		evhttp_clear_headers(&params);
		return;
	}
	id = xasprintf("urn:uuid:%s", store_instance_id(srv->store));
	meta.title = "feedmux";
	meta.id = id;
	meta.version = FEEDMUX_VERSION;
	buf_init(&out, 0);
	render_atom(&out, &meta, items, n);
	srv_send(req, "application/atom+xml; charset=utf-8", out.data, out.len);
	buf_free(&out);
	free(id);
	store_items_free(items, n);
	evhttp_clear_headers(&params);
}

static json_t *
srv_json_time(time_t t)
{
	char date[32];

	if (t <= 0)
		return json_null();
	format_rfc3339(t, date);
	return json_string(date);
}

static json_t *
srv_json_string_or_null(const char *s)
{
	json_t *j = s != NULL ? json_string(s) : NULL;

	/* json_string refuses invalid UTF-8: an error text from a server might be that. */
	return j != NULL ? j : json_null();
}

static json_t *
srv_status_feed(const struct store_feed_status *f)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", srv_json_string_or_null(f->name));
	json_object_set_new(o, "url", srv_json_string_or_null(f->url));
	json_object_set_new(o, "title", srv_json_string_or_null(f->title));
	json_object_set_new(o, "last_fetch", srv_json_time(f->last_fetch));
	json_object_set_new(o, "http_status",
	    f->http_status != 0 ? json_integer(f->http_status) : json_null());
	json_object_set_new(o, "error", srv_json_string_or_null(f->error));
	json_object_set_new(o, "items", json_integer(f->items));
	json_object_set_new(o, "next_poll", srv_json_time(f->next_poll));
	return o;
}

/*
 * Beside a feed's row: "moved_to", the URL polled since permanent redirects
 * moved the feed (its "url" is still the configured one), and "disabled"
 * when it answered 410 Gone.  `notes` is in name order, as the feeds are.
 */
static void
srv_status_note(json_t *o, const char *name, const struct store_feed_note *notes, size_t nnotes,
    size_t *next)
{
	const struct store_feed_note *note = NULL;

	while (*next < nnotes && strcmp(notes[*next].name, name) < 0)
		(*next)++;
	if (*next < nnotes && strcmp(notes[*next].name, name) == 0)
		note = &notes[*next];
	json_object_set_new(o, "moved_to", srv_json_string_or_null(note != NULL ? note->moved_to : NULL));
	json_object_set_new(o, "disabled", json_boolean(note != NULL && note->gone));
}

static void
srv_route_status(struct srv *srv, struct evhttp_request *req)
{
	struct store_feed_status *feeds = NULL;
	struct store_feed_note *notes = NULL;
	size_t n = 0, nnotes = 0, next_note = 0;
	json_t *root, *list;
	char *text;

	if (store_list_feeds(srv->store, &feeds, &n) != 0) {
		srv_send_text(req, HTTP_INTERNAL, "Internal Server Error", "database error");
		return;
	}
	root = json_object();
	list = json_array();
	json_object_set_new(root, "version", json_string(FEEDMUX_VERSION));
	json_object_set_new(root, "started", srv_json_time(srv->started));
	json_object_set_new(root, "feeds_total", json_integer((json_int_t)n));
	json_object_set_new(root, "items_total", json_integer(store_item_total(srv->store)));
	if (store_list_feed_notes(srv->store, &notes, &nnotes) != 0)
		nnotes = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *o = srv_status_feed(&feeds[i]);

		srv_status_note(o, feeds[i].name, notes, nnotes, &next_note);
		json_array_append_new(list, o);
	}
	store_feed_notes_free(notes, nnotes);
	json_object_set_new(root, "feeds", list);
	text = json_dumps(root, JSON_INDENT(2));
	if (text == NULL)
		fatalx("json_dumps: out of memory");
	srv_send(req, "application/json", text, strlen(text));
	free(text);
	json_decref(root);
	store_feed_status_free(feeds, n);
}

static const struct {
	const char *path;
	srv_route_fn fn;
} srv_routes[] = {
	{"/feed.atom", srv_route_atom},
	{"/status", srv_route_status},
};

static void
srv_on_request(struct evhttp_request *req, void *arg)
{
	struct srv *srv = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));

	for (size_t i = 0; path != NULL && i < sizeof srv_routes / sizeof srv_routes[0]; i++)
		if (strcmp(path, srv_routes[i].path) == 0) {
			srv_routes[i].fn(srv, req);
			return;
		}
	srv_send_text(req, HTTP_NOTFOUND, "Not Found", "not found");
}

/*
 * A socket file left by a daemon that died can be replaced; one that a live
 * daemon answers on, or a file that is not a socket, must not be.
 */
static int
srv_clear_stale(const char *path, const struct sockaddr_un *sun, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: exists and is not a socket", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return snprintf(err, errlen, "socket: %s", strerror(errno)), -1;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof *sun);
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "%s: another process is listening there", path);
		return -1;
	}
	if (unlink(path) != 0 && errno != ENOENT)
		return snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1;
	return 0;
}

static int
srv_listen_unix(struct srv *srv, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	mode_t old;
	int fd, rc;

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if (make_parent_dir(path) != 0)
		log_warn("%s: cannot create its folder", path);
	if (srv_clear_stale(path, &sun, err, errlen) != 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return snprintf(err, errlen, "socket: %s", strerror(errno)), -1;
	/* Create it with the right mode, whatever our umask, with no window where it is wider. */
	old = umask(0777 & ~SRV_SOCKET_MODE);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old);
	if (rc != 0 || chmod(path, SRV_SOCKET_MODE) != 0 || listen(fd, 128) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (evhttp_accept_socket_with_handle(srv->http, fd) == NULL) {
		snprintf(err, errlen, "%s: evhttp cannot accept on it", path);
		close(fd);
		return -1;
	}
	srv->listeners[srv->nlisteners++].unix_path = xstrdup(path);
	log_info("listening on %s (read the merged feed with: curl --unix-socket %s "
		 "http://localhost/feed.atom)", path, path);
	return 0;
}

static int
srv_listen_tcp(struct srv *srv, const char *host, const char *port, char *err, size_t errlen)
{
	unsigned long p = strtoul(port, NULL, 10);

	if (evhttp_bind_socket_with_handle(srv->http, host, (ev_uint16_t)p) == NULL) {
		snprintf(err, errlen, "%s:%s: cannot listen: %s", host, port, strerror(errno));
		return -1;
	}
	srv->listeners[srv->nlisteners++].unix_path = NULL;
	log_info("listening on http://%s:%s/feed.atom", host, port);
	return 0;
}

struct srv *
srv_new(struct event_base *base, const struct conf *conf, struct store *store, char *err,
    size_t errlen)
{
	struct srv *srv = xcalloc(1, sizeof *srv);

	srv->base = base;
	srv->conf = conf;
	srv->store = store;
	srv->started = time(NULL);
	if ((srv->http = evhttp_new(base)) == NULL)
		fatalx("evhttp_new failed");
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(srv->http, SRV_MAX_HEADERS);
	evhttp_set_max_body_size(srv->http, 0);
	evhttp_set_timeout(srv->http, SRV_TIMEOUT);
	evhttp_set_gencb(srv->http, srv_on_request, srv);
	srv->listeners = xcalloc(conf->nlisten, sizeof *srv->listeners);
	for (size_t i = 0; i < conf->nlisten; i++) {
		const struct conf_listen *l = &conf->listen[i];
		int rc = l->is_unix ? srv_listen_unix(srv, l->path, err, errlen) :
		    srv_listen_tcp(srv, l->host, l->port, err, errlen);

		if (rc != 0) {
			srv_free(srv);
			return NULL;
		}
	}
	return srv;
}

void
srv_free(struct srv *srv)
{
	if (srv == NULL)
		return;
	evhttp_free(srv->http);
	for (size_t i = 0; i < srv->nlisteners; i++) {
		if (srv->listeners[i].unix_path != NULL)
			unlink(srv->listeners[i].unix_path);
		free(srv->listeners[i].unix_path);
	}
	free(srv->listeners);
	free(srv);
}
