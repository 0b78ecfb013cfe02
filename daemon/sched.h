/*
 * sched: when each feed is polled, and what happens to what comes back.
 *
 * The scheduler owns one timer per feed.  When it fires, the feed joins the
 * queue of its host; a host starts a transfer when it has a free connection
 * (host_connections), its spacing has passed (host_delay) and the fetcher has
 * a free slot (max_transfers).  The body streams into a parser; the parsed
 * items are collected and, when the transfer ends, written with the feed's
 * new state in one transaction.  A 304 writes nothing at once: its new times
 * are kept in memory and written in batches.
 */
#ifndef FEEDMUX_SCHED_H
#define FEEDMUX_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct event_base;
struct fetcher;
struct store;
struct conf;
struct sched;

/* Called after each fetch is stored (the store may have changed). */
typedef void (*sched_stored_cb)(void *arg);

/*
 * A scheduler for the feeds of `conf` (which must outlive it).  Registers the
 * feeds with the store and reads their state; returns NULL (after logging
 * why) when that fails.
 */
struct sched *sched_new(struct event_base *base, struct fetcher *fetcher, struct store *store,
    const struct conf *conf);
/*
 * Stops every transfer in flight and stores the items each had already
 * parsed (without the new validators, so the next fetch is a full one),
 * writes the times of 304s not yet written, and frees.
 */
void sched_free(struct sched *s);

void sched_on_stored(struct sched *s, sched_stored_cb cb, void *arg);

/* Poll every feed at its interval, starting when its stored next poll is due. */
void sched_start(struct sched *s);
/* Poll every feed once now (politeness still applies); `done` runs when the last one is stored. */
void sched_run_once(struct sched *s, void (*done)(void *arg), void *arg);

/* What decides when a feed is polled next (see sched_next_poll). */
struct sched_plan {
	time_t now;
	unsigned interval;     /* the feed's interval, or its adaptive one */
	unsigned min_interval; /* never sooner than this */
	unsigned max_interval; /* backoff and hints stop here */
	int failures;	       /* consecutive failures, this one included; 0 after a success */
	long retry_after;      /* seconds, or -1 */
	long max_age;	       /* seconds, or -1 */
	unsigned ttl;	       /* the feed's own hints, 0 when absent */
	unsigned update_period;
	uint32_t skip_hours; /* bit h: do not poll in hour h (UTC) */
	uint8_t skip_days;   /* bit d: do not poll on weekday d (0 = Sunday, UTC) */
	unsigned jitter;     /* 0..999: where in the jitter band this poll falls */
};

/* The time of the next poll: a pure function of `p`, documented in sched.c. */
time_t sched_next_poll(const struct sched_plan *p);

#endif
