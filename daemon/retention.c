/*
 * retention.c: pruning off the hot path.
 *
 * A timer runs a pass every RETENTION_PERIOD.  A pass prunes RETENTION_BATCH
 * items per loop turn (one short transaction each) and yields to the loop
 * between batches, then hands freed pages back a few at a time the same way,
 * so neither a big backlog nor a big vacuum ever holds up requests or
 * fetches for long.
 */
#include <stdlib.h>

#include <event2/event.h>

#include "config/conf.h"
#include "daemon/retention.h"
#include "storage/store.h"
#include "util/util.h"

#define RETENTION_FIRST	 10  /* seconds after start: let the first fetches go first */
#define RETENTION_PERIOD 300 /* seconds between passes */
#define RETENTION_BATCH	 500 /* items per transaction */
#define RETENTION_PAGES	 256 /* pages given back per turn */
#define RETENTION_YIELD_MS 5 /* pause between batches of one pass */
#define RETENTION_SOON_MS 1000 /* a pass after a reload */

struct retention {
	struct store *store;
	struct event *timer;
	size_t pruned; /* in this pass */
	bool reclaiming;
};

static void
retention_arm(struct retention *r, long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(r->timer, &tv);
}

static void
retention_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct retention *r = arg;
	size_t n = 0;
	int left;

	(void)fd, (void)what;
	if (!r->reclaiming) {
		if (store_prune(r->store, time(NULL), RETENTION_BATCH, &n) == 0 &&
		    n == RETENTION_BATCH) {
			r->pruned += n;
			retention_arm(r, RETENTION_YIELD_MS);
			return;
		}
		r->pruned += n;
		if (r->pruned > 0)
			log_info("retention: %zu items pruned", r->pruned);
		r->pruned = 0;
		r->reclaiming = true;
	}
	left = store_reclaim(r->store, RETENTION_PAGES);
	if (left > 0) {
		retention_arm(r, RETENTION_YIELD_MS);
		return;
	}
	r->reclaiming = false;
	retention_arm(r, RETENTION_PERIOD * 1000L);
}

/* Every feed's keep, max_items and merge, from `conf`, into the store. */
static void
retention_set_policies(struct store *store, const struct conf *conf)
{
	for (size_t i = 0; i < conf->nfeeds; i++) {
		const struct conf_feed *f = &conf->feeds[i];
		struct store_feed_policy p = {
			.merge = f->merge,
			.keep = f->keep != 0 ? f->keep : conf->keep,
			.max_items = f->max_items != 0 ? f->max_items : conf->max_items,
		};

		if (store_set_feed_policy(store, f->name, &p) != 0)
			log_warnx("feed %s: cannot record its retention policy", f->name);
	}
}

struct retention *
retention_new(struct event_base *base, const struct conf *conf, struct store *store)
{
	struct retention *r = xcalloc(1, sizeof *r);

	r->store = store;
	retention_set_policies(store, conf);
	if ((r->timer = evtimer_new(base, retention_on_timer, r)) == NULL)
		fatalx("evtimer_new failed");
	retention_arm(r, RETENTION_FIRST * 1000L);
	return r;
}

void
retention_reconfigure(struct retention *r, const struct conf *conf)
{
	retention_set_policies(r->store, conf);
	/* A shorter keep or a smaller max_items applies soon, unless a pass is under way. */
	if (!r->reclaiming && r->pruned == 0)
		retention_arm(r, RETENTION_SOON_MS);
}

void
retention_free(struct retention *r)
{
	if (r == NULL)
		return;
	event_free(r->timer);
	free(r);
}
