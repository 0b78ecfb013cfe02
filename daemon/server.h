/*
 * server: the HTTP interface on every listen address (Unix socket or TCP,
 * or sockets systemd passed us): the merged feed in Atom, RSS and JSON Feed,
 * named outputs, live events, OPML and the daemon's status.
 */
#ifndef FEEDMUX_SERVER_H
#define FEEDMUX_SERVER_H

#include <stddef.h>
#include <time.h>

struct event_base;
struct conf;
struct store;
struct srv;

/*
 * Listen on the sockets systemd passed (socket activation), else on every
 * address of `conf` (which, like `store`, must outlive the server).
 * Returns NULL with the reason in `err` when one cannot be bound.
 */
struct srv *srv_new(struct event_base *base, const struct conf *conf, struct store *store,
    char *err, size_t errlen);
/* Stop listening, close connections, remove our socket files. */
void srv_free(struct srv *srv);

/*
 * Tell the server the store may have changed (a sched_stored_cb): /events
 * subscribers get what is new at once.  Without it they get it within a
 * second.
 */
void srv_store_changed(void *srv);

/*
 * Reload: serve `conf` from now on (the old one may then be freed): its
 * feeds, tags and named outputs, its heartbeat.  Listeners, connections
 * and subscribers stay as they are (listen and its kin need a restart).
 */
void srv_reconfigure(struct srv *srv, const struct conf *conf);

/*
 * POST /refresh[?feed=NAME], accepted on Unix socket listeners only: their
 * file permissions say who may ask (feedmuxd(8)).  `cb` polls the feed
 * named (every feed for NULL) and returns 0, or -1 when there is none.
 */
struct sched_refresh;
typedef int (*srv_refresh_cb)(void *arg, const char *name, struct sched_refresh *out);
void srv_on_refresh(struct srv *srv, srv_refresh_cb cb, void *arg);

#endif
