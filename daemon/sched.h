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
 * A scheduler for the feeds of `conf` (which must outlive it, or be
 * replaced by sched_reconfigure).  Registers the
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

/*
 * Reload: take the feeds of `conf`, which replaces the configuration the
 * scheduler had (the old one may be freed once this returns 0; `conf` must
 * outlive the scheduler).  Added feeds are registered and armed as at
 * startup; removed ones stop (a transfer in flight is dropped) and their
 * items stay in the store; a feed whose URL changed starts afresh there,
 * soon; a shorter interval brings a far planned poll closer.  Every other
 * feed, and its transfer in flight, goes on untouched.  Returns 0, or -1
 * when the store fails: then nothing changed and the old configuration is
 * still the one in use.
 */
struct sched_changes {
	size_t added, removed, moved; /* moved: the url changed */
};
int sched_reconfigure(struct sched *s, const struct conf *conf, struct sched_changes *ch);

/* What a refresh did. */
struct sched_refresh {
	size_t queued; /* joined their host's queue (politeness still applies) */
	size_t busy;   /* already waiting in a queue or being fetched */
	size_t gone;   /* disabled by a 410 Gone until their url changes */
};
/*
 * Poll the feed called `name` (every feed when NULL) now rather than at its
 * planned time.  Returns 0, or -1 when no feed has that name.
 */
int sched_refresh(struct sched *s, const char *name, struct sched_refresh *out);

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
