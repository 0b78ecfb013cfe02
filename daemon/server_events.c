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

struct srv_sub {
	struct srv *srv;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	int64_t seq;	  /* the last change it was sent */
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
 * Send `body` by reference.  False when the subscriber has too much unsent
 * (it is left to read what it has first, or dropped: srv_sub_over).
 */
static bool
srv_sub_send(struct srv_sub *sub, struct srv_body *body, bool may_drop)
{
	struct evbuffer *evb;

	if (srv_sub_over(sub, may_drop))
		return false;
	if ((evb = evbuffer_new()) == NULL)
		fatalx("evbuffer_new failed");
	body->refs++;
	if (evbuffer_add_reference(evb, body->data, body->len, srv_body_sent, body) != 0)
		fatalx("evbuffer_add_reference failed");
	evhttp_send_reply_chunk(sub->req, evb);
	evbuffer_free(evb);
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
	body = srv_body_new(b.data, b.len);
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
	struct srv_body *beat = srv_body_new(":\n\n", 3);
	struct srv_sub *sub, *next;

	(void)fd, (void)what;
	for (sub = srv->subs; sub != NULL; sub = next) {
		next = sub->next;
		srv_sub_send(sub, beat, true);
	}
	srv_body_unref(beat);
}

void
srv_events_init(struct srv *srv)
{
	struct timeval watch = {1, 0};
	struct timeval beat = {0, 0};

	srv->heartbeat_s = srv->conf->heartbeat != 0 ? srv->conf->heartbeat : SRV_SSE_HEARTBEAT;
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
	hello = srv_body_new(SRV_SSE_HELLO, strlen(SRV_SSE_HELLO));
	if (srv_sub_send(sub, hello, false))
		srv_sub_catch_up(sub, false);
	srv_body_unref(hello);
}
