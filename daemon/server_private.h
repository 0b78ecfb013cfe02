/*
 * server_private.h: what the files of the HTTP server share.  server.c
 * listens, limits and routes; server_feed.c answers the feeds (queries,
 * the render cache, conditional GET, gzip); server_events.c holds the
 * Server-Sent Events subscribers.
 */
#ifndef FEEDMUX_SERVER_PRIVATE_H
#define FEEDMUX_SERVER_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <event2/http.h>

#include "daemon/server.h"

struct conf;
struct store;
struct evconnlistener;
struct bufferevent;

struct srv_listener {
	char *unix_path; /* a socket file we made and must remove, or NULL */
	struct evhttp_bound_socket *bound;
};

/* A connection evhttp accepted, counted until evhttp lets it go (see server.c). */
struct srv_conn {
	struct bufferevent *bev; /* we hold a reference */
	struct srv_conn *prev, *next;
};

/* A rendered body, shared by the cache and the replies being sent from it. */
struct srv_body {
	unsigned refs;
	size_t len;
	char data[];
};

struct srv_cache_entry {
	char *key; /* the request's path and query */
	uint64_t generation;
	uint64_t last_used;
	const char *type;
	struct srv_body *body, *gzip;
	char etag[40], gzip_etag[44];
	time_t last_modified;
};

#define SRV_CACHE_SLOTS 32

struct srv_sub;

struct srv {
	struct event_base *base;
	struct evhttp *http;
	const struct conf *conf;
	struct store *store;
	time_t started;
	struct srv_listener *listeners;
	size_t nlisteners;
	bool activated; /* listeners came from systemd */

	/* Connections: counted against a cap, the listeners paused at it. */
	struct srv_conn *conns;
	size_t nconns, max_conns;
	bool paused;
	struct event *sweep;

	struct srv_cache_entry cache[SRV_CACHE_SLOTS];
	uint64_t cache_clock;
	uint64_t renders; /* feed bodies rendered (the rest came from the cache) */

	/* Server-Sent Events. */
	struct srv_sub *subs;
	size_t nsubs;
	unsigned heartbeat_s;
	int64_t pushed_seq; /* every subscriber has been sent the changes up to here */
	struct event *heartbeat, *watch;

	srv_refresh_cb on_refresh;
	void *on_refresh_arg;
};

struct srv_body *srv_body_new(const char *data, size_t len);
void srv_body_unref(struct srv_body *b);
/* An evbuffer cleanup callback for a body added by reference (arg: the body). */
void srv_body_sent(const void *data, size_t len, void *arg);

void srv_send_text(struct evhttp_request *req, int code, const char *reason, const char *text);
/* The absolute URL of `path_and_query` as the client reached us. */
char *srv_self_url(struct evhttp_request *req, const char *path_and_query);

void srv_route_feed(struct srv *srv, struct evhttp_request *req);
void srv_route_output(struct srv *srv, struct evhttp_request *req);
void srv_cache_free(struct srv *srv);

void srv_events_init(struct srv *srv);
/* The heartbeat of srv->conf, after a reload. */
void srv_events_reconfigure(struct srv *srv);
void srv_route_events(struct srv *srv, struct evhttp_request *req);
void srv_events_free(struct srv *srv);

#endif
