/*
 * server_events.c: /events, Server-Sent Events.
 *
 * Every new or updated story is one event: "id:" its change sequence
 * (storage's items.seq), "event: item", "data:" the story as a JSON Feed
 * item.  A client that reconnects with Last-Event-ID: N gets every change
 * after N from the store ("seq > N"), so nothing is lost across a
 * reconnect, and the server needs nothing from the scheduler but a nudge
 * (srv_store_changed) to push at once; a one-second watch catches what a
 * nudge missed.
 *
 * Subscribers that are up to date share one rendered chunk per batch of
 * changes (10,000 of them cost one query and one rendering).  One whose
 * connection has more than SRV_SSE_MAX_QUEUE bytes unsent is sent nothing
 * more: it falls behind and catches up on its own from the store as it
 * reads.  One that stays over that for SRV_SSE_STALL seconds is too slow:
 * it is dropped, never waited for, and may reconnect with its
 * Last-Event-ID.  (A single big batch can put any reader over the mark for
 * a moment; only one that does not drain it is slow.)
 * A comment line every heartbeat keeps idle connections through proxies.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "config/conf.h"
#include "daemon/server_private.h"
#include "feeds/render.h"
#include "storage/store.h"
#include "util/util.h"

#define SRV_SSE_BATCH	    200			/* changes read per query */
#define SRV_SSE_MAX_BATCHES 20			/* per subscriber per turn of the loop */
#define SRV_SSE_MAX_QUEUE   ((size_t)256 * 1024) /* unsent bytes before a client is sent no more */
#define SRV_SSE_STALL	    5			/* seconds over that before it is dropped */
#define SRV_SSE_HEARTBEAT   15			/* seconds, unless the config says */
#define SRV_SSE_TIMEOUT	    (24 * 3600)		/* an idle subscriber is not a stuck request */
#define SRV_SSE_HELLO	    ": feedmux events\nretry: 5000\n\n"
#define SRV_SSE_COPY_MAX    4096 /* bodies up to this are copied to each subscriber, not shared */

struct srv_sub {
	struct srv *srv;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	int64_t seq;	  /* the last change it was sent */
	bool chunked;	  /* HTTP/1.1: each send is one chunk */
	time_t over_since; /* when its unsent bytes went over SRV_SSE_MAX_QUEUE; 0: under */
	struct srv_sub *prev, *next;
};

static void
srv_sub_unlink(struct srv_sub *sub)
{
	struct srv *srv = sub->srv;

	if (srv->subs == sub)
		srv->subs = sub->next;
	else if (sub->prev != NULL)
		sub->prev->next = sub->next;
	if (sub->next != NULL)
		sub->next->prev = sub->prev;
	srv->nsubs--;
	free(sub);
}

/*
 * A subscriber's connection closed.  When the client went away (or timed
 * out), evhttp has already detached the unfinished request from the
 * connection and leaves it to us: ending it frees it.  When we dropped the
 * connection ourselves the request is still attached, and evhttp frees it.
 */
static void
srv_sub_closed(struct evhttp_connection *evcon, void *arg)
{
	struct srv_sub *sub = arg;

	(void)evcon;
	if (evhttp_request_get_connection(sub->req) == NULL)
		evhttp_send_reply_end(sub->req);
	srv_sub_unlink(sub);
}

static size_t
srv_sub_queued(const struct srv_sub *sub)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(sub->evcon);

	return bev != NULL ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
}

/*
 * Drop a slow subscriber: its connection is closed now (the close callback
 * then forgets it), whatever it had not read yet is discarded.
 */
static void
srv_sub_drop(struct srv_sub *sub)
{
	log_info("events: a subscriber fell %zu bytes behind: dropped", srv_sub_queued(sub));
	evhttp_connection_free(sub->evcon); /* its close callback unlinks it */
}

/*
 * Is the subscriber over SRV_SSE_MAX_QUEUE unsent bytes?  Notes since when;
 * drops it (it is then freed) if `may_drop` and it has not drained for
 * SRV_SSE_STALL seconds.  Never drop from inside a request callback:
 * evhttp still holds the connection there.
 */
static bool
srv_sub_over(struct srv_sub *sub, bool may_drop)
{
	time_t now;

	if (srv_sub_queued(sub) <= SRV_SSE_MAX_QUEUE) {
		sub->over_since = 0;
		return false;
	}
	now = time(NULL);
	if (sub->over_since == 0)
		sub->over_since = now;
	else if (may_drop && now - sub->over_since >= SRV_SSE_STALL)
		srv_sub_drop(sub);
	return true;
}

/*
 * An event body: `len` bytes of events, then (outside its length) the
 * CRLF that ends an HTTP chunk, so a chunk can be sent from it whole.
 */
static struct srv_body *
srv_event_body(struct buf *b)
{
	struct srv_body *body;
	size_t len = b->len;

	buf_adds(b, "\r\n");
	body = srv_body_new(b->data, b->len);
	body->len = len;
	return body;
}

/* An event body of a constant text (the greeting, a heartbeat). */
static struct srv_body *
srv_event_text(const char *text)
{
	struct buf b;
	struct srv_body *body;

	buf_init(&b, 0);
	buf_adds(&b, text);
	body = srv_event_body(&b);
	buf_free(&b);
	return body;
}

/*
 * Send `body`: written straight into the connection's output as one HTTP
 * chunk (or as it is to an HTTP/1.0 client), not through
 * evhttp_send_reply_chunk.  That one costs each subscriber two evbuffer
 * chains per event, and the one for its closing CRLF is allocated as big
 * as the body before it (libevent sizes a new chain from the last one):
 * some 3 KB per subscriber for a 600-byte event, 1 KB+ per subscriber for
 * a 1 KB batch, all of it unseen by the queue limit below.  Here a small
 * body is copied (queued events then cost their bytes), a big one is
 * referenced (shared by every subscriber).  False when the subscriber has
 * too much unsent (it is left to read what it has first, or dropped:
 * srv_sub_over).
 */
static bool
srv_sub_send(struct srv_sub *sub, struct srv_body *body, bool may_drop)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(sub->evcon);
	struct evbuffer *out;
	size_t n = body->len + (sub->chunked ? 2 : 0);

	if (srv_sub_over(sub, may_drop))
		return false;
	if (bev == NULL || body->len == 0)
		return true;
	out = bufferevent_get_output(bev);
	if (sub->chunked && evbuffer_add_printf(out, "%zx\r\n", body->len) < 0)
		fatalx("evbuffer_add_printf failed");
	if (n <= SRV_SSE_COPY_MAX) {
		if (evbuffer_add(out, body->data, n) != 0)
			fatalx("evbuffer_add failed");
	} else {
		body->refs++;
		if (evbuffer_add_reference(out, body->data, n, srv_body_sent, body) != 0)
			fatalx("evbuffer_add_reference failed");
	}
	/* evhttp_send_reply_start enabled writing; this keeps it so whatever evhttp did since */
	bufferevent_enable(bev, EV_WRITE);
	return true;
}

/* The events for the changes after `after` (at most one batch); *last gets the last seq. */
static struct srv_body *
srv_render_changes(struct srv *srv, int64_t after, int64_t *last)
{
	struct stored_item *items = NULL;
	struct srv_body *body;
	struct buf b;
	size_t n = 0;

	*last = after;
	if (store_changes(srv->store, after, SRV_SSE_BATCH, &items, &n) != 0 || n == 0) {
		store_items_free(items, n);
		return NULL;
	}
	buf_init(&b, 0);
	for (size_t i = 0; i < n; i++) {
		buf_addf(&b, "id: %" PRId64 "\nevent: item\ndata: ", items[i].seq);
		render_json_item(&b, &items[i]);
		buf_adds(&b, "\n\n");
	}
	*last = items[n - 1].seq;
	body = srv_event_body(&b);
	buf_free(&b);
	store_items_free(items, n);
	return body;
}

/*
 * Bring one subscriber up to date on its own (a reconnect, or one that
 * lagged), as fast as it reads: the rest at the next turn.  `may_drop`:
 * as for srv_sub_send.
 */
static void
srv_sub_catch_up(struct srv_sub *sub, bool may_drop)
{
	int64_t last = store_last_seq(sub->srv->store);

	for (int i = 0; i < SRV_SSE_MAX_BATCHES && sub->seq < last; i++) {
		int64_t upto;
		struct srv_body *body = srv_render_changes(sub->srv, sub->seq, &upto);
		bool ok;

		if (body == NULL)
			break;
		ok = srv_sub_send(sub, body, may_drop);
		srv_body_unref(body);
		if (!ok)
			return;
		sub->seq = upto;
	}
}

/* Send what changed since the last push: once rendered for every subscriber up to date. */
static void
srv_push(struct srv *srv)
{
	int64_t last = store_last_seq(srv->store);

	for (int i = 0; i < SRV_SSE_MAX_BATCHES && srv->pushed_seq < last; i++) {
		int64_t from = srv->pushed_seq, upto;
		struct srv_body *body = srv_render_changes(srv, from, &upto);
		struct srv_sub *sub, *next;

		if (body == NULL)
			break;
		for (sub = srv->subs; sub != NULL; sub = next) {
			next = sub->next;
			if (sub->seq == from && srv_sub_send(sub, body, true))
				sub->seq = upto;
		}
		srv_body_unref(body);
		srv->pushed_seq = upto;
	}
	/* Those behind (reconnected, or ahead of an old push) go on their own. */
	for (struct srv_sub *sub = srv->subs, *next; sub != NULL; sub = next) {
		next = sub->next;
		if (sub->seq != srv->pushed_seq)
			srv_sub_catch_up(sub, true);
	}
}

void
srv_store_changed(void *arg)
{
	struct srv *srv = arg;

	if (srv != NULL && srv->nsubs > 0)
		srv_push(srv);
	else if (srv != NULL)
		srv->pushed_seq = store_last_seq(srv->store);
}

static void
srv_on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct srv *srv = arg;

	(void)fd, (void)what;
	/* those that stopped reading, even with nothing new to send them */
	for (struct srv_sub *sub = srv->subs, *next; sub != NULL; sub = next) {
		next = sub->next;
		srv_sub_over(sub, true);
	}
	srv_store_changed(srv); /* news a nudge missed, and subscribers still catching up */
}

static void
srv_on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct srv *srv = arg;
	struct srv_body *beat = srv_event_text(":\n\n");
	struct srv_sub *sub, *next;

	(void)fd, (void)what;
	for (sub = srv->subs; sub != NULL; sub = next) {
		next = sub->next;
		srv_sub_send(sub, beat, true);
	}
	srv_body_unref(beat);
}

static unsigned
srv_heartbeat_of(const struct conf *conf)
{
	return conf->heartbeat != 0 ? conf->heartbeat : SRV_SSE_HEARTBEAT;
}

void
srv_events_reconfigure(struct srv *srv)
{
	struct timeval beat = {0, 0};

	if (srv_heartbeat_of(srv->conf) == srv->heartbeat_s)
		return;
	srv->heartbeat_s = srv_heartbeat_of(srv->conf);
	beat.tv_sec = srv->heartbeat_s;
	if (event_add(srv->heartbeat, &beat) != 0) /* re-adding a pending event re-times it */
		log_warnx("events: cannot re-arm the heartbeat");
}

void
srv_events_init(struct srv *srv)
{
	struct timeval watch = {1, 0};
	struct timeval beat = {0, 0};

	srv->heartbeat_s = srv_heartbeat_of(srv->conf);
	beat.tv_sec = srv->heartbeat_s;
	srv->pushed_seq = store_last_seq(srv->store);
	if ((srv->watch = event_new(srv->base, -1, EV_PERSIST, srv_on_watch, srv)) == NULL ||
	    (srv->heartbeat = event_new(srv->base, -1, EV_PERSIST, srv_on_heartbeat, srv)) ==
		NULL ||
	    event_add(srv->watch, &watch) != 0 || event_add(srv->heartbeat, &beat) != 0)
		fatalx("event_new failed");
}

void
srv_events_free(struct srv *srv)
{
	/* evhttp_free will close their connections: their close callbacks must find nothing. */
	for (struct srv_sub *sub = srv->subs, *next; sub != NULL; sub = next) {
		next = sub->next;
		evhttp_connection_set_closecb(sub->evcon, NULL, NULL);
		free(sub);
	}
	srv->subs = NULL;
	srv->nsubs = 0;
	if (srv->watch != NULL)
		event_free(srv->watch);
	if (srv->heartbeat != NULL)
		event_free(srv->heartbeat);
	srv->watch = srv->heartbeat = NULL;
}

/* Last-Event-ID (the header, or ?last_event_id= for clients that cannot set it). */
static int
srv_last_event_id(struct evhttp_request *req, int64_t *out)
{
	const char *s = evhttp_find_header(evhttp_request_get_input_headers(req), "Last-Event-ID");
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct evkeyvalq params;
	char *end;
	int rc = 0;

	TAILQ_INIT(&params);
	if (s == NULL && query != NULL && evhttp_parse_query_str(query, &params) == 0)
		s = evhttp_find_header(&params, "last_event_id");
	if (s != NULL) {
		long long v;

		errno = 0;
		v = strtoll(s, &end, 10);
		if (*s < '0' || *s > '9' || *end != '\0' || errno != 0)
			rc = -1;
		else
			*out = (int64_t)v;
	}
	evhttp_clear_headers(&params);
	return rc;
}

void
srv_route_events(struct srv *srv, struct evhttp_request *req)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct srv_sub *sub;
	int64_t since = store_last_seq(srv->store);
	struct srv_body *hello;
	const char *te;

	if (srv_last_event_id(req, &since) != 0) {
		srv_send_text(req, HTTP_BADREQUEST, "Bad Request",
		    "Last-Event-ID must be the id of an event");
		return;
	}
	evhttp_add_header(out, "Content-Type", "text/event-stream; charset=utf-8");
	evhttp_add_header(out, "Cache-Control", "no-cache");
	evhttp_add_header(out, "X-Accel-Buffering", "no");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		evhttp_send_reply(req, HTTP_OK, "OK", NULL);
		return;
	}
	sub = xcalloc(1, sizeof *sub);
	sub->srv = srv;
	sub->req = req;
	sub->evcon = evhttp_request_get_connection(req);
	sub->seq = since;
	sub->next = srv->subs;
	if (srv->subs != NULL)
		srv->subs->prev = sub;
	srv->subs = sub;
	srv->nsubs++;
	evhttp_connection_set_timeout(sub->evcon, SRV_SSE_TIMEOUT);
	evhttp_connection_set_closecb(sub->evcon, srv_sub_closed, sub);
	evhttp_send_reply_start(req, HTTP_OK, "OK");
	/* evhttp chose chunked encoding (HTTP/1.1) or none (HTTP/1.0, the connection ends the body) */
	te = evhttp_find_header(out, "Transfer-Encoding");
	sub->chunked = te != NULL && strcasecmp(te, "chunked") == 0;
	hello = srv_event_text(SRV_SSE_HELLO);
	if (srv_sub_send(sub, hello, false))
		srv_sub_catch_up(sub, false);
	srv_body_unref(hello);
}
