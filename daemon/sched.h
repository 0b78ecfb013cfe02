/*
 * sched: when each feed is polled, and what happens to what comes back.
 *
 * The scheduler owns one timer per feed.  When it fires, the feed is fetched;
 * the body streams into a parser; the parsed items are collected and, when
 * the transfer ends, written with the feed's new state in one transaction.
 */
#ifndef FEEDMUX_SCHED_H
#define FEEDMUX_SCHED_H

#include <stddef.h>

struct event_base;
struct fetcher;
struct store;
struct conf;
struct sched;

/* Called after each fetch is stored (the store may have changed). */
typedef void (*sched_stored_cb)(void *arg);

/*
 * A scheduler for the feeds of `conf` (which must outlive it).  Registers the
 * feeds with the store; returns NULL (after logging why) when that fails.
 */
struct sched *sched_new(struct event_base *base, struct fetcher *fetcher, struct store *store,
    const struct conf *conf);
/* Cancels transfers in flight (nothing of them is stored) and frees. */
void sched_free(struct sched *s);

void sched_on_stored(struct sched *s, sched_stored_cb cb, void *arg);

/* Poll every feed at its interval, starting when its stored next poll is due. */
void sched_start(struct sched *s);
/* Poll every feed once now; `done` runs when the last one is stored. */
void sched_run_once(struct sched *s, void (*done)(void *arg), void *arg);

#endif
