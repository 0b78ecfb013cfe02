/*
 * server.c: evhttp on Unix sockets and TCP: listeners, limits, routes.
 *
 * evhttp's defaults are made for a trusting world (unlimited header sizes,
 * every method, no timeouts): we allow GET and HEAD only (and POST
 * /refresh on Unix sockets, see srv_route_refresh), cap what a request
 * may send and how long it may take, and cap the connections.  libevent
 * 2.1 has no connection cap of its own, so we count: evhttp asks us for
 * each new connection's bufferevent (evhttp_set_bevcb), which counts it,
 * and a sweep every second uncounts those evhttp has let go (srv_sweep):
 * a connection closed before it sent anything is counted out as surely as
 * one that was answered.  At the cap the listeners pause, leaving new
 * connections in the kernel's backlog.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <jansson.h>
#include <systemd/sd-daemon.h>

#include "config/conf.h"
#include "daemon/metrics.h"
#include "daemon/sched.h"
#include "daemon/server_private.h"
#include "feeds/render.h"
#include "storage/store.h"
#include "util/util.h"

#define SRV_MAX_HEADERS	  ((ev_ssize_t)8 * 1024) /* request line and headers */
#define SRV_MAX_URI	  2048
#define SRV_TIMEOUT	  30 /* seconds a connection may take to send a request or read a reply */
#define SRV_MAX_CONNS	  16384
#define SRV_FD_RESERVE	  ((size_t)64) /* descriptors kept for the database, fetches, logs */
#define SRV_SWEEP_SECONDS 1
#define SRV_MAX_SINGLE_WRITE ((size_t)1 << 20)

typedef void (*srv_route_fn)(struct srv *srv, struct evhttp_request *req);

void
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

/*
 * The client's Host header names us in the URLs we write (self, paging);
 * it is the client's to choose, so only a plain host[:port] is believed.
 */
char *
srv_self_url(struct evhttp_request *req, const char *path_and_query)
{
	const char *host = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");

	if (host == NULL || host[0] == '\0' || strlen(host) > 255 ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
		strlen(host))
		host = "localhost";
	return xasprintf("http://%s%s", host, path_and_query);
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
	json_object_set_new(o, "identity", json_string(f->identity_by_link ? "link" : "guid"));
	json_object_set_new(o, "identity_note", srv_json_string_or_null(f->identity_note));
	json_object_set_new(o, "warning", srv_json_string_or_null(f->warning));
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
	json_object_set_new(root, "connections", json_integer((json_int_t)srv->nconns));
	json_object_set_new(root, "subscribers", json_integer((json_int_t)srv->nsubs));
	json_object_set_new(root, "renders", json_integer((json_int_t)srv->renders));
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

static void
srv_route_opml(struct srv *srv, struct evhttp_request *req)
{
	struct store_feed_status *feeds = NULL;
	struct render_outline *outlines;
	size_t n = 0;
	struct buf out;

	if (store_list_feeds(srv->store, &feeds, &n) != 0) {
		srv_send_text(req, HTTP_INTERNAL, "Internal Server Error", "database error");
		return;
	}
	outlines = xcalloc(n + 1, sizeof *outlines);
	for (size_t i = 0; i < n; i++) {
		const struct conf_feed *cf = conf_find_feed(srv->conf, feeds[i].name);

		outlines[i].name = feeds[i].name;
		outlines[i].title = feeds[i].title;
		outlines[i].xml_url = feeds[i].url;
		outlines[i].html_url = feeds[i].link;
		if (cf != NULL) {
			outlines[i].tags = (const char *const *)cf->tags;
			outlines[i].ntags = cf->ntags;
		}
	}
	buf_init(&out, 0);
	render_opml(&out, "feedmux sources", time(NULL), outlines, n);
	srv_send(req, "text/x-opml; charset=utf-8", out.data, out.len);
	buf_free(&out);
	free(outlines);
	store_feed_status_free(feeds, n);
}

/*
 * The daemon's metrics: counters kept where their events happen (see
 * metrics.h), gauges sampled now.
 */
static void
srv_route_metrics(struct srv *srv, struct evhttp_request *req)
{
	int64_t main_bytes = 0, wal_bytes = 0;
	struct buf out;

	if (store_disk_usage(srv->store, &main_bytes, &wal_bytes) != 0)
		log_debug("metrics: cannot read the size of the database");
	metrics_set(METRIC_FEEDS, (int64_t)srv->conf->nfeeds);
	metrics_set(METRIC_SUBSCRIBERS, (int64_t)srv->nsubs);
	metrics_set(METRIC_CONNECTIONS, (int64_t)srv->nconns);
	metrics_set(METRIC_DB_BYTES, main_bytes);
	metrics_set(METRIC_DB_WAL_BYTES, wal_bytes);
	buf_init(&out, 0);
	metrics_render(&out);
	srv_send(req, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
	buf_free(&out);
}

/* Did the request come through a Unix socket (ours, or one systemd passed)? */
static bool
srv_on_unix_socket(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon != NULL ? evhttp_connection_get_bufferevent(evcon) : NULL;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	memset(&ss, 0, sizeof ss);
	return bev != NULL &&
	    getsockname(bufferevent_getfd(bev), (struct sockaddr *)&ss, &len) == 0 &&
	    ss.ss_family == AF_UNIX;
}

/*
 * POST /refresh[?feed=NAME]: poll now.  It changes what the daemon does,
 * so it is not for everyone who may read the feeds: it is answered only on
 * Unix sockets, where the socket file's owner, group and mode decide who
 * may connect, and a web page cannot send it (a browser reaches TCP
 * only).  On TCP it does not exist: POST gets the 405 every POST gets.
 * 202: the feeds joined their hosts' queues; the poll itself comes later.
 */
static void
srv_route_refresh(struct srv *srv, struct evhttp_request *req)
{
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct sched_refresh done;
	struct evkeyvalq params;
	struct evbuffer *body;
	const char *name = NULL;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
		srv_send_text(req, 405, "Method Not Allowed", "refresh is a POST");
		return;
	}
	TAILQ_INIT(&params);
	if (query != NULL && evhttp_parse_query_str(query, &params) != 0) {
		srv_send_text(req, HTTP_BADREQUEST, "Bad Request", "malformed query string");
		return;
	}
	name = evhttp_find_header(&params, "feed");
	if (srv->on_refresh == NULL || srv->on_refresh(srv->on_refresh_arg, name, &done) != 0) {
		srv_send_text(req, HTTP_NOTFOUND, "Not Found", "no feed has that name");
		evhttp_clear_headers(&params);
		return;
	}
	evhttp_clear_headers(&params);
	if ((body = evbuffer_new()) == NULL)
		fatalx("evbuffer_new failed");
	evbuffer_add_printf(body, "{\"queued\": %zu, \"busy\": %zu, \"disabled\": %zu}\n",
	    done.queued, done.busy, done.gone);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "application/json");
	evhttp_send_reply(req, 202, "Accepted", body);
	evbuffer_free(body);
}

void
srv_on_refresh(struct srv *srv, srv_refresh_cb cb, void *arg)
{
	srv->on_refresh = cb;
	srv->on_refresh_arg = arg;
}

void
srv_reconfigure(struct srv *srv, const struct conf *conf)
{
	srv->conf = conf;
	/* Outputs, tags and feeds may mean other answers now, though the store did not change. */
	srv_cache_free(srv);
	srv_events_reconfigure(srv);
}

static const struct {
	const char *path;
	srv_route_fn fn;
} srv_routes[] = {
	{"/feed.atom", srv_route_feed},
	{"/feed.rss", srv_route_feed},
	{"/feed.json", srv_route_feed},
	{"/events", srv_route_events},
	{"/status", srv_route_status},
	{"/opml", srv_route_opml},
	{"/metrics", srv_route_metrics},
};

/* ---- bodies shared between the cache and replies in flight ---- */

struct srv_body *
srv_body_new(const char *data, size_t len)
{
	struct srv_body *b = xmalloc(sizeof *b + len + 1);

	b->refs = 1;
	b->len = len;
	memcpy(b->data, data, len);
	b->data[len] = '\0';
	return b;
}

void
srv_body_unref(struct srv_body *b)
{
	if (b != NULL && --b->refs == 0)
		free(b);
}

void
srv_body_sent(const void *data, size_t len, void *arg)
{
	(void)data, (void)len;
	srv_body_unref(arg);
}

/* ---- counting connections ---- */

static void
srv_conn_forget(struct srv *srv, struct srv_conn *c)
{
	if (srv->conns == c)
		srv->conns = c->next;
	else if (c->prev != NULL)
		c->prev->next = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->nconns--;
	/* Our reference was the last: this closes the socket. */
	bufferevent_decref(c->bev);
	free(c);
}

static void
srv_pause(struct srv *srv, bool pause)
{
	if (srv->paused == pause)
		return;
	srv->paused = pause;
	for (size_t i = 0; i < srv->nlisteners; i++) {
		struct evconnlistener *l = evhttp_bound_socket_get_listener(srv->listeners[i].bound);

		if (pause)
			evconnlistener_disable(l);
		else
			evconnlistener_enable(l);
	}
	if (pause)
		log_warnx("%zu connections: not accepting more until some close", srv->nconns);
}

/*
 * Forget the connections evhttp is done with.  bufferevent_free clears a
 * bufferevent's callbacks before it drops evhttp's reference; ours keeps
 * the struct alive to be looked at, and releasing it closes the socket.
 */
static void
srv_sweep(struct srv *srv)
{
	struct srv_conn *c, *next;

	for (c = srv->conns; c != NULL; c = next) {
		bufferevent_data_cb readcb = NULL, writecb = NULL;
		bufferevent_event_cb eventcb = NULL;

		next = c->next;
		bufferevent_getcb(c->bev, &readcb, &writecb, &eventcb, NULL);
		if (readcb == NULL && writecb == NULL && eventcb == NULL)
			srv_conn_forget(srv, c);
	}
	if (srv->nconns < srv->max_conns)
		srv_pause(srv, false);
}

static void
srv_on_sweep(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	srv_sweep(arg);
}

/*
 * evhttp asks for a new connection's bufferevent: count the connection.
 * (Its callbacks are set once we return: a sweep now must not see it.)
 */
static struct bufferevent *
srv_on_new_conn(struct event_base *base, void *arg)
{
	struct srv *srv = arg;
	struct srv_conn *c = xcalloc(1, sizeof *c);

	if (srv->nconns + 1 >= srv->max_conns)
		srv_sweep(srv);
	c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		fatalx("bufferevent_socket_new failed");
	/* libevent writes 16 KB per turn of the loop by default: a feed is half a megabyte. */
	bufferevent_set_max_single_write(c->bev, SRV_MAX_SINGLE_WRITE);
	bufferevent_incref(c->bev);
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	if (++srv->nconns >= srv->max_conns)
		srv_pause(srv, true);
	return c->bev;
}

static void
srv_on_request(struct evhttp_request *req, void *arg)
{
	struct srv *srv = arg;
	const char *uri = evhttp_request_get_uri(req);
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));

	if (path != NULL && strcmp(path, "/refresh") == 0 && srv_on_unix_socket(req)) {
		srv_route_refresh(srv, req);
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
		srv_send_text(req, 405, "Method Not Allowed", "only GET and HEAD are served");
		return;
	}
	if (uri == NULL || strlen(uri) > SRV_MAX_URI) {
		srv_send_text(req, 414, "URI Too Long", "the request URI is too long");
		return;
	}
	for (size_t i = 0; path != NULL && i < sizeof srv_routes / sizeof srv_routes[0]; i++)
		if (strcmp(path, srv_routes[i].path) == 0) {
			srv_routes[i].fn(srv, req);
			return;
		}
	if (path != NULL && strncmp(path, "/outputs/", 9) == 0) {
		srv_route_output(srv, req);
		return;
	}
	srv_send_text(req, HTTP_NOTFOUND, "Not Found", "not found");
}

/* ---- listeners ---- */

static int
srv_add_listener(struct srv *srv, int fd, const char *unix_path, char *err, size_t errlen)
{
	struct evhttp_bound_socket *bound = evhttp_accept_socket_with_handle(srv->http, fd);

	if (bound == NULL) {
		snprintf(err, errlen, "%s: evhttp cannot accept on it",
		    unix_path != NULL ? unix_path : "socket");
		return -1;
	}
	srv->listeners = xreallocarray(srv->listeners, srv->nlisteners + 1,
	    sizeof *srv->listeners);
	srv->listeners[srv->nlisteners].bound = bound;
	srv->listeners[srv->nlisteners++].unix_path = unix_path != NULL ? xstrdup(unix_path) : NULL;
	return 0;
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

/* The group of listen_group, or (gid_t)-1 when none is configured. */
static int
srv_listen_gid(const struct conf *conf, gid_t *gid, char *err, size_t errlen)
{
	struct group *gr;

	*gid = (gid_t)-1;
	if (conf->listen_group == NULL)
		return 0;
	errno = 0;
	if ((gr = getgrnam(conf->listen_group)) == NULL) {
		snprintf(err, errlen, "listen_group %s: %s", conf->listen_group,
		    errno != 0 ? strerror(errno) : "no such group");
		return -1;
	}
	*gid = gr->gr_gid;
	return 0;
}

static int
srv_listen_unix(struct srv *srv, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	mode_t mode = (mode_t)srv->conf->listen_mode, old;
	gid_t gid;
	int fd, rc;

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if (srv_listen_gid(srv->conf, &gid, err, errlen) != 0)
		return -1;
	if (make_parent_dir(path) != 0)
		log_warn("%s: cannot create its folder", path);
	if (srv_clear_stale(path, &sun, err, errlen) != 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return snprintf(err, errlen, "socket: %s", strerror(errno)), -1;
	/*
	 * Create it with no more than its mode, whatever our umask, and give it
	 * its group before anyone may connect: there is no window where it is wider.
	 */
	old = umask(0777 & ~mode);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old);
	if (rc != 0 || (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) != 0) ||
	    chmod(path, mode) != 0 || listen(fd, 1024) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (srv_add_listener(srv, fd, path, err, errlen) != 0) {
		close(fd);
		return -1;
	}
	log_info("listening on %s (read the merged feed with: curl --unix-socket %s "
		 "http://localhost/feed.atom)", path, path);
	return 0;
}

static int
srv_listen_tcp(struct srv *srv, const char *host, const char *port, char *err, size_t errlen)
{
	unsigned long p = strtoul(port, NULL, 10);
	struct evhttp_bound_socket *bound;

	if ((bound = evhttp_bind_socket_with_handle(srv->http, host, (ev_uint16_t)p)) == NULL) {
		snprintf(err, errlen, "%s:%s: cannot listen: %s", host, port, strerror(errno));
		return -1;
	}
	srv->listeners = xreallocarray(srv->listeners, srv->nlisteners + 1,
	    sizeof *srv->listeners);
	srv->listeners[srv->nlisteners].bound = bound;
	srv->listeners[srv->nlisteners++].unix_path = NULL;
	log_info("listening on http://%s:%s/feed.atom", host, port);
	return 0;
}

/*
 * Socket activation: listening stream sockets from fd 3 on.  systemd owns
 * their files (we never unlink them) and does not make them non-blocking.
 * Returns how many were taken, or -1.
 */
static int
srv_listen_activated(struct srv *srv, char *err, size_t errlen)
{
	int n = sd_listen_fds(1);

	if (n < 0) {
		snprintf(err, errlen, "socket activation: %s", strerror(-n));
		return -1;
	}
	for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
		int flags = fcntl(fd, F_GETFL);

		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
			snprintf(err, errlen, "socket activation: fd %d is not a listening stream socket",
			    fd);
			return -1;
		}
		if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
			snprintf(err, errlen, "socket activation: fd %d: %s", fd, strerror(errno));
			return -1;
		}
		if (srv_add_listener(srv, fd, NULL, err, errlen) != 0)
			return -1;
	}
	if (n > 0)
		log_info("listening on %d socket%s passed by systemd", n, n == 1 ? "" : "s");
	return n;
}

/*
 * Raise the descriptor limit to what we may (10,000 subscribers need as many
 * descriptors) and size the connection cap to fit under it.
 */
static size_t
srv_connection_cap(const struct conf *conf)
{
	struct rlimit rl;
	size_t want = conf->max_connections != 0 ? conf->max_connections : SRV_MAX_CONNS;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return want;
	if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < want + SRV_FD_RESERVE) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want + SRV_FD_RESERVE) {
		size_t fit = rl.rlim_cur > 2 * SRV_FD_RESERVE ? rl.rlim_cur - SRV_FD_RESERVE :
		    rl.rlim_cur / 2;

		log_warnx("open file limit %llu: at most %zu connections",
		    (unsigned long long)rl.rlim_cur, fit);
		want = fit;
	}
	return want;
}

struct srv *
srv_new(struct event_base *base, const struct conf *conf, struct store *store, char *err,
    size_t errlen)
{
	struct srv *srv = xcalloc(1, sizeof *srv);
	struct timeval sweep = {SRV_SWEEP_SECONDS, 0};
	int activated;

	srv->base = base;
	srv->conf = conf;
	srv->store = store;
	srv->started = time(NULL);
	srv->max_conns = srv_connection_cap(conf);
	if ((srv->http = evhttp_new(base)) == NULL)
		fatalx("evhttp_new failed");
	/* Methods evhttp knows reach us, to be told 405 with an Allow header (it would say 501). */
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(srv->http, SRV_MAX_HEADERS);
	evhttp_set_max_body_size(srv->http, 0);
	evhttp_set_timeout(srv->http, SRV_TIMEOUT);
	evhttp_set_gencb(srv->http, srv_on_request, srv);
	evhttp_set_bevcb(srv->http, srv_on_new_conn, srv);
	if ((srv->sweep = event_new(base, -1, EV_PERSIST, srv_on_sweep, srv)) == NULL ||
	    event_add(srv->sweep, &sweep) != 0)
		fatalx("event_new failed");
	srv_events_init(srv);
	if ((activated = srv_listen_activated(srv, err, errlen)) < 0)
		goto fail;
	srv->activated = activated > 0;
	for (size_t i = 0; !srv->activated && i < conf->nlisten; i++) {
		const struct conf_listen *l = &conf->listen[i];
		int rc = l->is_unix ? srv_listen_unix(srv, l->path, err, errlen) :
		    srv_listen_tcp(srv, l->host, l->port, err, errlen);

		if (rc != 0)
			goto fail;
	}
	return srv;
fail:
	srv_free(srv);
	return NULL;
}

void
srv_free(struct srv *srv)
{
	if (srv == NULL)
		return;
	srv_events_free(srv);
	if (srv->http != NULL)
		evhttp_free(srv->http);
	for (struct srv_conn *c = srv->conns, *next; c != NULL; c = next) {
		next = c->next;
		bufferevent_decref(c->bev);
		free(c);
	}
	srv->conns = NULL;
	if (srv->sweep != NULL)
		event_free(srv->sweep);
	srv_cache_free(srv);
	for (size_t i = 0; i < srv->nlisteners; i++) {
		if (srv->listeners[i].unix_path != NULL)
			unlink(srv->listeners[i].unix_path);
		free(srv->listeners[i].unix_path);
	}
	free(srv->listeners);
	free(srv);
}
