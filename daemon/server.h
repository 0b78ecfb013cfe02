/*
 * server: the HTTP interface on every listen address (Unix socket or TCP):
 * the merged feed and the daemon's status.
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
 * Listen on every address of `conf` (which, like `store`, must outlive the
 * server).  Returns NULL with the reason in `err` when one cannot be bound.
 */
struct srv *srv_new(struct event_base *base, const struct conf *conf, struct store *store,
    char *err, size_t errlen);
/* Stop listening, close connections, remove our socket files. */
void srv_free(struct srv *srv);

#endif
