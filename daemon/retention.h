/*
 * retention: applying the configuration's keep, max_items and merge to the
 * store, and pruning in the background.
 */
#ifndef FEEDMUX_RETENTION_H
#define FEEDMUX_RETENTION_H

struct event_base;
struct conf;
struct store;
struct retention;

/*
 * Give every feed of `conf` its policy in `store` (call after the feeds are
 * registered, before the first fetch) and start pruning on a timer.  The
 * store must outlive it; the configuration is read, not kept.
 */
struct retention *retention_new(struct event_base *base, const struct conf *conf,
    struct store *store);
/* Reload: the policies of `conf` (nothing is kept of it), and a pass soon. */
void retention_reconfigure(struct retention *r, const struct conf *conf);
void retention_free(struct retention *r);

#endif
