/*
 * sched.c: per-feed timers, per-host queues, and the path fetch -> parse -> store.
 *
 * Items of one fetch are collected in memory and stored together when the
 * transfer ends, so that a fetch is one transaction.  The collection is
 * bounded: the body is capped (fetch_limits.max_body) and what the parser
 * makes of it cannot be much larger, and at most SCHED_MAX_ITEMS are kept.
 *
 * Politeness: every feed belongs to the host of the URL it polls.  A due
 * feed waits in its host's queue until the host has a free connection
 * (host_connections), host_delay has passed since the host's last request
 * started, and the fetcher has a free slot (max_transfers).  A 429 or a
 * 503 doubles that host's spacing and holds it for Retry-After; the other
 * hosts go on.  One slow or hanging host holds at most host_connections
 * slots, so it cannot keep another host's feeds waiting.
 *
 * What a 304 costs: no parse and no SQL.  Its new times (last fetch, next
 * poll) are kept in memory and written for all such feeds in one
 * transaction every SCHED_FLUSH_EVERY seconds and at shutdown, so a
 * restart still finds each feed's planned poll (after a crash, feeds whose
 * times were not written yet are overdue, and start within start_spread).
 * A 304 is written at once only when the row must change for people or for
 * the next request: the feed was failing (its error must go), the server
 * sent new validators, or permanent redirects are moving the feed.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "config/conf.h"
#include "daemon/metrics.h"
#include "daemon/sched.h"
#include "feeds/fetch.h"
#include "feeds/parse.h"
#include "feeds/text.h"
#include "storage/store.h"
#include "util/util.h"

#define SCHED_MAX_ITEMS	       10000 /* per fetch; the rest are counted and dropped */
#define SCHED_FLUSH_EVERY      600   /* s: 304 times are written at most this late */
#define SCHED_MOVE_CONFIRM     3     /* permanent redirects in a row that move a feed */
#define SCHED_ADAPT_ITEMS      20    /* newest items the posting rate is taken from */
#define SCHED_NEW_SPREAD_MS    10000 /* feeds never polled start within this, at most */
#define SCHED_NEW_SPREAD_PER   1     /* ms of that spread per configured feed */
#define SCHED_HOST_DELAY_MAX   300000 /* ms: a 429 doubles a host's spacing up to this */

struct sched_host {
	char *name;
	struct sched_host *hnext; /* hash chain */
	struct sched *s;
	bool polite;		  /* file: URLs are read without spacing or caps per host */
	unsigned active;	  /* transfers running */
	unsigned delay_ms;	  /* spacing now: host_delay, raised by 429 and 503 */
	int64_t next_start;	  /* monotonic ms: no request to this host before */
	struct sched_feed *qhead, *qtail; /* due feeds, in order */
	bool starved;		  /* on the sched's list of hosts waiting for a global slot */
	struct sched_host *snext;
	struct event *timer; /* wakes the host when its spacing has passed */
};

/* What the feed said about polling in its last full fetch. */
struct sched_hints {
	unsigned ttl;
	unsigned update_period;
	uint32_t skip_hours;
	uint8_t skip_days;
};

struct sched_feed {
	struct sched *s;
	const struct conf_feed *cf;
	int64_t id;
	struct event *timer;
	struct sched_host *host;
	struct sched_feed *qnext;
	bool queued;

	/* Kept between polls. */
	char *etag, *last_modified;
	struct store_feed_poll poll; /* failures, move, 410 */
	char *last_error;	     /* the error logged last, so a lasting one is logged once */
	bool row_has_error;	     /* the stored row shows an error: a success must clear it */
	unsigned adaptive; /* seconds, from the posting rate; 0 when unknown */
	struct sched_hints hints;
	bool polled_before; /* the store has a fetch of it */
	bool dirty;	    /* `touch` waits for the next flush */
	struct store_feed_touch touch;
	size_t full_bytes;  /* received for its last full answer: what a 304 saves */
	bool kept;	    /* sched_reconfigure: named by the new configuration too */

	/* The poll in flight, if any. */
	struct fetch *fx;
	struct parser *parser;
	struct item **items;
	size_t nitems;
	size_t dropped;
};

struct sched {
	struct event_base *base;
	struct fetcher *fetcher;
	struct store *store;
	const struct conf *conf;
	/*
	 * Each feed is allocated on its own: its timer, its transfer, its
	 * parser and its host's queue point at it, and a reload must be able
	 * to add and remove feeds without moving the others.
	 */
	struct sched_feed **feeds;
	size_t nfeeds;
	/*
	 * Hosts stay for the scheduler's life, even when a reload removes
	 * their last feed: a host slowed down by 429s stays slow if it comes back.
	 */
	struct sched_host **buckets; /* hash table of hosts, chained */
	size_t nbuckets;
	struct sched_host *starved_head, *starved_tail;
	unsigned active;
	struct event *flush_timer;

	sched_stored_cb on_stored;
	void *on_stored_arg;

	/* --once: how many polls are left, and whom to tell at the end. */
	size_t once_left;
	void (*once_done)(void *);
	void *once_arg;
};

static void sched_due(struct sched_feed *sf);
static void sched_pump(struct sched_host *h);

static int64_t
sched_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sched_add_timer(struct event *ev, int64_t delay_ms)
{
	struct timeval tv;

	if (delay_ms < 0)
		delay_ms = 0;
	tv.tv_sec = (time_t)(delay_ms / 1000);
	tv.tv_usec = (suseconds_t)(delay_ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

/* ---- Planning: when is the next poll ---- */

static unsigned
sched_clamp(unsigned long long v, unsigned lo, unsigned hi)
{
	if (v > hi)
		v = hi;
	return v < lo ? lo : (unsigned)v;
}

/*
 * The next poll, from what we know after a fetch:
 *
 *  - After a success, the feed's interval (or its adaptive one), raised to
 *    what the server and the feed ask: Cache-Control max-age or Expires,
 *    RSS ttl, sy:updatePeriod.  Those hints are capped at max_interval, so a
 *    feed saying "ttl: a year" is still looked at daily.
 *  - After the n-th failure in a row, interval * 2^(n-1), capped at
 *    max_interval; a Retry-After (429, 503) is honoured up to max_interval.
 *  - Never sooner than min_interval, whatever the above says.
 *  - Then up to 10% later (p->jitter), so feeds polled together drift apart.
 *  - Then, after a success, out of the hours and days the feed skips
 *    (skipHours, skipDays; UTC), unless it skips every one of them.
 */
time_t
sched_next_poll(const struct sched_plan *p)
{
	unsigned long long delay = p->interval;
	unsigned hint = 0;
	time_t t;

	if (p->failures > 0) {
		int shift = p->failures - 1 < 20 ? p->failures - 1 : 20;

		delay = sched_clamp(delay << shift, 0, p->max_interval > p->interval ?
		    p->max_interval : p->interval);
		if (p->retry_after > 0)
			hint = sched_clamp((unsigned long long)p->retry_after, 0, p->max_interval);
	} else {
		if (p->max_age > 0)
			hint = sched_clamp((unsigned long long)p->max_age, 0, p->max_interval);
		if (p->ttl > hint)
			hint = sched_clamp(p->ttl, 0, p->max_interval);
		if (p->update_period > hint)
			hint = sched_clamp(p->update_period, 0, p->max_interval);
	}
	if (hint > delay)
		delay = hint;
	if (delay < p->min_interval)
		delay = p->min_interval;
	delay += delay * (p->jitter % 1000) / 10000;
	t = p->now + (time_t)delay;
	if (p->failures > 0 || (p->skip_hours == 0 && p->skip_days == 0))
		return t;
	for (int i = 0; i < 7 * 24; i++) {
		struct tm tm;
		time_t u = t + (time_t)i * 3600;

		gmtime_r(&u, &tm);
		if (!(p->skip_hours & (1u << tm.tm_hour)) && !(p->skip_days & (1u << tm.tm_wday)))
			return i == 0 ? t : u - (time_t)tm.tm_min * 60 - tm.tm_sec; /* the hour's start */
	}
	return t;
}

static int
sched_cmp_time_desc(const void *a, const void *b)
{
	time_t x = *(const time_t *)a, y = *(const time_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * The adaptive interval: the mean time between the newest items, counting
 * the time since the newest (so a feed that has gone quiet is polled less),
 * within [min_interval, max_interval].  0 when fewer than two items are dated.
 */
static unsigned
sched_adaptive_interval(const struct sched_feed *sf, time_t now)
{
	const struct conf *conf = sf->s->conf;
	time_t *dates, span;
	size_t n = 0;
	unsigned interval;

	if (sf->nitems < 2)
		return 0;
	dates = xcalloc(sf->nitems, sizeof *dates);
	for (size_t i = 0; i < sf->nitems; i++) {
		time_t d = sf->items[i]->published ? sf->items[i]->published : sf->items[i]->updated;

		if (d > 0 && d <= now)
			dates[n++] = d;
	}
	if (n < 2) {
		free(dates);
		return 0;
	}
	qsort(dates, n, sizeof dates[0], sched_cmp_time_desc);
	if (n > SCHED_ADAPT_ITEMS)
		n = SCHED_ADAPT_ITEMS;
	span = now - dates[n - 1];
	interval = sched_clamp((unsigned long long)span / n, conf->min_interval, conf->max_interval);
	free(dates);
	return interval;
}

/* ---- Hosts ---- */

/* The host part of `url`, lower case ("" for file: URLs); a new string. */
static char *
sched_host_of(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *out;

	if (u == NULL)
		fatalx("curl_url: out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host != NULL) {
		out = xstrdup(host);
		for (char *p = out; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	} else
		out = xstrdup("");
	curl_free(host);
	curl_url_cleanup(u);
	return out;
}

static void
sched_on_host_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	sched_pump(arg);
}

static struct sched_host *
sched_host_get(struct sched *s, const char *url)
{
	char *name = sched_host_of(url);
	const char *parts[1] = {name};
	char hex[33];
	size_t b;
	struct sched_host *h;

	hash_hex(parts, 1, hex);
	b = strtoul(hex + 24, NULL, 16) & (s->nbuckets - 1);
	for (h = s->buckets[b]; h != NULL; h = h->hnext)
		if (strcmp(h->name, name) == 0) {
			free(name);
			return h;
		}
	h = xcalloc(1, sizeof *h);
	h->name = name;
	h->s = s;
	h->polite = strncmp(url, "file:", 5) != 0;
	h->delay_ms = s->conf->host_delay_ms;
	if ((h->timer = evtimer_new(s->base, sched_on_host_timer, h)) == NULL)
		fatalx("evtimer_new failed");
	h->hnext = s->buckets[b];
	s->buckets[b] = h;
	return h;
}

static void
sched_starve(struct sched_host *h)
{
	struct sched *s = h->s;

	if (h->starved)
		return;
	h->starved = true;
	h->snext = NULL;
	if (s->starved_tail != NULL)
		s->starved_tail->snext = h;
	else
		s->starved_head = h;
	s->starved_tail = h;
}

/* Hosts that waited for a global slot get one, first come first served. */
static void
sched_feed_starved(struct sched *s)
{
	while (s->starved_head != NULL && s->active < s->conf->max_transfers) {
		struct sched_host *h = s->starved_head;

		s->starved_head = h->snext;
		if (s->starved_head == NULL)
			s->starved_tail = NULL;
		h->starved = false;
		sched_pump(h);
	}
}

/* ---- Polling ---- */

/* The URL a feed is polled at: the configured one, or where it moved. */
static const char *
sched_url(const struct sched_feed *sf)
{
	const struct store_feed_poll *p = &sf->poll;

	if (p->moved_url != NULL && p->moved_from != NULL && strcmp(p->moved_from, sf->cf->url) == 0)
		return p->moved_url;
	return sf->cf->url;
}

/* True when the URL polled answered 410 Gone: the feed waits for a new url. */
static bool
sched_gone(const struct sched_feed *sf)
{
	return sf->poll.gone_url != NULL && strcmp(sf->poll.gone_url, sched_url(sf)) == 0;
}

static void
sched_on_feed_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	sched_due(arg);
}

static void
sched_on_flush_timer(evutil_socket_t fd, short what, void *arg);

/* Drop what a poll collected; the poll is over (or abandoned). */
static void
sched_reset_poll(struct sched_feed *sf)
{
	parse_free(sf->parser);
	sf->parser = NULL;
	for (size_t i = 0; i < sf->nitems; i++)
		item_free(sf->items[i]);
	free(sf->items);
	sf->items = NULL;
	sf->nitems = 0;
	sf->dropped = 0;
	sf->fx = NULL;
}

/* Forget a feed; a transfer in flight is dropped with what it had parsed. */
static void
sched_feed_free(struct sched_feed *sf)
{
	if (sf == NULL)
		return;
	if (sf->fx != NULL)
		fetch_cancel(sf->fx);
	sched_reset_poll(sf);
	event_free(sf->timer);
	free(sf->etag);
	free(sf->last_modified);
	free(sf->last_error);
	store_feed_poll_clear(&sf->poll);
	free(sf);
}

/* What polling needs to know of a feed, read from the store; NULL (logged) when that fails. */
static struct sched_feed *
sched_feed_new(struct sched *s, const struct conf_feed *cf, int64_t id)
{
	struct sched_feed *sf = xcalloc(1, sizeof *sf);
	struct store_feed_state st;

	sf->s = s;
	sf->cf = cf;
	sf->id = id;
	if ((sf->timer = evtimer_new(s->base, sched_on_feed_timer, sf)) == NULL)
		fatalx("evtimer_new failed");
	if (store_feed_state(s->store, id, &st) != 0 ||
	    store_feed_poll_load(s->store, id, &sf->poll) != 0) {
		log_warnx("database: cannot read the state of feed %s", cf->name);
		store_feed_state_clear(&st);
		sched_feed_free(sf);
		return NULL;
	}
	sf->etag = st.etag;
	sf->last_modified = st.last_modified;
	sf->touch.feed_id = id;
	sf->touch.next_poll = st.next_poll;
	sf->polled_before = st.last_fetch > 0;
	sf->row_has_error = sf->poll.has_error;
	sf->host = sched_host_get(s, sched_url(sf));
	return sf;
}

/* Register the feeds of `conf` with the store (ids[i] gets the id of feed i); 0 or -1. */
static int
sched_register(struct store *store, const struct conf *conf, int64_t *ids)
{
	const char **names = xcalloc(conf->nfeeds + 1, sizeof *names);
	const char **urls = xcalloc(conf->nfeeds + 1, sizeof *urls);
	int rc;

	for (size_t i = 0; i < conf->nfeeds; i++) {
		names[i] = conf->feeds[i].name;
		urls[i] = conf->feeds[i].url;
	}
	rc = store_set_feeds(store, names, urls, conf->nfeeds, ids);
	free(names);
	free(urls);
	return rc;
}

struct sched *
sched_new(struct event_base *base, struct fetcher *fetcher, struct store *store,
    const struct conf *conf)
{
	struct sched *s = xcalloc(1, sizeof *s);
	int64_t *ids = xcalloc(conf->nfeeds + 1, sizeof *ids);
	int rc;

	s->base = base;
	s->fetcher = fetcher;
	s->store = store;
	s->conf = conf;
	rc = sched_register(store, conf, ids);
	for (s->nbuckets = 16; s->nbuckets < 2 * conf->nfeeds; s->nbuckets *= 2)
		;
	s->buckets = xcalloc(s->nbuckets, sizeof(struct sched_host *));
	s->feeds = xcalloc(conf->nfeeds + 1, sizeof(struct sched_feed *));
	if ((s->flush_timer = evtimer_new(base, sched_on_flush_timer, s)) == NULL)
		fatalx("evtimer_new failed");
	for (size_t i = 0; rc == 0 && i < conf->nfeeds; i++) {
		if ((s->feeds[i] = sched_feed_new(s, &conf->feeds[i], ids[i])) == NULL)
			rc = -1;
		else
			s->nfeeds++;
	}
	free(ids);
	if (rc != 0) {
		sched_free(s);
		return NULL;
	}
	return s;
}

/* Write the 304s kept in memory, all in one transaction. */
static void
sched_flush(struct sched *s)
{
	struct store_feed_touch *t = NULL;
	size_t n = 0;

	for (size_t i = 0; i < s->nfeeds; i++)
		if (s->feeds[i]->dirty) {
			t = xreallocarray(t, n + 1, sizeof *t);
			t[n++] = s->feeds[i]->touch;
		}
	if (n > 0 && store_touch_feeds(s->store, t, n) == 0)
		for (size_t i = 0; i < s->nfeeds; i++)
			s->feeds[i]->dirty = false;
	free(t);
}

static void
sched_on_flush_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sched *s = arg;

	(void)fd, (void)what;
	sched_flush(s);
	sched_add_timer(s->flush_timer, (int64_t)SCHED_FLUSH_EVERY * 1000);
}

/* Count what storing a fetch did to its items. */
static void
sched_count_stored(const struct store_fetch_stats *stats)
{
	metrics_add(METRIC_ITEMS_STORED, stats->added);
	metrics_add(METRIC_ITEMS_UPDATED, stats->updated);
	metrics_add(METRIC_ITEMS_UNCHANGED, stats->unchanged);
	metrics_add(METRIC_ITEMS_MERGED, stats->merged);
}

/*
 * A transfer stopped by shutdown: keep the items it had parsed, but not the
 * new validators (the old ones are cleared), so the next fetch is a full one
 * and brings what this one did not get to.  The feed is due at the next start.
 */
static void
sched_store_interrupted(struct sched_feed *sf)
{
	struct store_fetch sfx;
	struct store_fetch_stats stats;
	char err[512];

	if (sf->nitems == 0)
		return;
	memset(&sfx, 0, sizeof sfx);
	sfx.feed_id = sf->id;
	sfx.fetched_at = time(NULL);
	sfx.next_poll = sfx.fetched_at;
	sfx.items = sf->items;
	sfx.nitems = sf->nitems;
	if (store_commit_fetch(sf->s->store, &sfx, &stats, err, sizeof err) != 0) {
		metrics_add(METRIC_STORE_ERRORS, 1);
		log_warnx("feed %s: not stored: %s", sf->cf->name, err);
		return;
	}
	sched_count_stored(&stats);
	log_info("feed %s: interrupted by shutdown; %zu items stored (%zu new)", sf->cf->name,
	    sf->nitems, stats.added);
}

void
sched_free(struct sched *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nfeeds; i++) {
		struct sched_feed *sf = s->feeds[i];

		if (sf->fx != NULL) {
			fetch_cancel(sf->fx);
			sf->fx = NULL;
			sched_store_interrupted(sf);
		}
	}
	sched_flush(s);
	for (size_t i = 0; i < s->nfeeds; i++)
		sched_feed_free(s->feeds[i]);
	for (size_t b = 0; b < s->nbuckets; b++)
		for (struct sched_host *h = s->buckets[b], *next; h != NULL; h = next) {
			next = h->hnext;
			event_free(h->timer);
			free(h->name);
			free(h);
		}
	event_free(s->flush_timer);
	free(s->buckets);
	free(s->feeds);
	free(s);
}

void
sched_on_stored(struct sched *s, sched_stored_cb cb, void *arg)
{
	s->on_stored = cb;
	s->on_stored_arg = arg;
}

static void
sched_log_gone(const struct sched_feed *sf)
{
	log_warnx("feed %s: not polled: %s answered 410 Gone; change its url to poll it again",
	    sf->cf->name, sched_url(sf));
}

/*
 * Arm a feed's first poll: one polled before waits for its planned time (at
 * most max_interval); an overdue one starts at a random point of its
 * interval, or of start_spread when that is shorter, so a restart does not
 * send every request at once; a new one within SCHED_NEW_SPREAD_MS, as
 * whoever added it expects (the per-host queues keep that polite), and
 * sooner in a small configuration: 10,000 feeds need the 10 s to spread
 * their first connections, three need no wait at all.
 */
static void
sched_arm(struct sched_feed *sf, time_t now)
{
	const struct conf *conf = sf->s->conf;
	time_t planned = sf->touch.next_poll;
	int64_t spread = (int64_t)sf->cf->interval * 1000;
	int64_t delay_ms;

	if (spread > conf->start_spread_ms)
		spread = conf->start_spread_ms;
	if (!sf->polled_before) {
		int64_t most = (int64_t)conf->nfeeds * SCHED_NEW_SPREAD_PER;

		if (most > SCHED_NEW_SPREAD_MS)
			most = SCHED_NEW_SPREAD_MS;
		if (spread > most)
			spread = most;
	}
	delay_ms = spread > 0 ? random() % spread : 0;

	if (sched_gone(sf)) {
		sched_log_gone(sf);
		return;
	}
	if (planned > now)
		delay_ms = (int64_t)(planned - now < conf->max_interval ? planned - now :
		    conf->max_interval) * 1000;
	sched_add_timer(sf->timer, delay_ms);
}

void
sched_start(struct sched *s)
{
	time_t now = time(NULL);

	for (size_t i = 0; i < s->nfeeds; i++)
		sched_arm(s->feeds[i], now);
	sched_add_timer(s->flush_timer, (int64_t)SCHED_FLUSH_EVERY * 1000);
}

static void
sched_once_step(struct sched *s)
{
	if (s->once_done != NULL && --s->once_left == 0)
		s->once_done(s->once_arg);
}

void
sched_run_once(struct sched *s, void (*done)(void *arg), void *arg)
{
	s->once_left = s->nfeeds + 1;
	s->once_done = done;
	s->once_arg = arg;
	for (size_t i = 0; i < s->nfeeds; i++) {
		if (sched_gone(s->feeds[i])) {
			sched_log_gone(s->feeds[i]);
			sched_once_step(s);
		} else
			sched_due(s->feeds[i]);
	}
	sched_once_step(s); /* the +1: `done` runs once, even with no feeds */
}

static void
sched_on_item(void *arg, struct item *item)
{
	struct sched_feed *sf = arg;

	if (sf->nitems >= SCHED_MAX_ITEMS) {
		sf->dropped++;
		item_free(item);
		return;
	}
	sf->items = xreallocarray(sf->items, sf->nitems + 1, sizeof(struct item *));
	sf->items[sf->nitems++] = item;
}

static int
sched_on_body(void *arg, const char *content_type, const char *data, size_t len)
{
	struct sched_feed *sf = arg;

	if (sf->parser == NULL)
		sf->parser = parse_new(sched_url(sf), content_type, sched_on_item, sf);
	return parse_push(sf->parser, data, len);
}

/*
 * What /status should say about a document read in full but not cleanly,
 * into `buf`: "ill-formed: line N: the first problem" when it was read in
 * spite of errors, "truncated: N items past the first M ignored" when it had
 * too many, both joined by "; ".  NULL when there is nothing to say.
 */
static const char *
sched_parse_warning(const struct sched_feed *sf, char *buf, size_t len)
{
	int n = 0;

	buf[0] = '\0';
	if (parse_illformed(sf->parser)) /* parse_error starts "line N: " when it can */
		n = snprintf(buf, len, "ill-formed: %s",
		    parse_error(sf->parser) != NULL ? parse_error(sf->parser) : "unknown error");
	if (sf->dropped > 0 && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "%struncated: %zu items past the first %d ignored",
		    n > 0 ? "; " : "", sf->dropped, SCHED_MAX_ITEMS);
	if (buf[0] == '\0')
		return NULL;
	buf[text_utf8_cut(buf, strlen(buf))] = '\0'; /* snprintf may cut a character */
	return buf;
}

/*
 * Finish parsing a complete body; returns the error to record, or NULL and
 * in *warning what sched_parse_warning says (written into `buf`), or NULL.
 */
static const char *
sched_finish_parse(struct sched_feed *sf, const char **warning, char *buf, size_t len)
{
	if (sf->parser == NULL)
		return "empty document";
	if (parse_finish(sf->parser) != 0)
		return parse_error(sf->parser);
	*warning = sched_parse_warning(sf, buf, len);
	if (*warning != NULL)
		log_warnx("feed %s: %zu items read, %zu kept: %s", sf->cf->name,
		    parse_item_count(sf->parser), sf->nitems, *warning);
	return NULL;
}

/* Log an error once while it lasts (then at debug level), and its end. */
static void
sched_log_error(struct sched_feed *sf, const char *error)
{
	if (error == NULL) {
		if (sf->last_error != NULL)
			log_info("feed %s: fetched again after: %s", sf->cf->name, sf->last_error);
		free(sf->last_error);
		sf->last_error = NULL;
		return;
	}
	if (sf->last_error != NULL && strcmp(sf->last_error, error) == 0) {
		log_debug("feed %s: still failing (%d times): %s", sf->cf->name, sf->poll.failures,
		    error);
		return;
	}
	log_warnx("feed %s: %s", sf->cf->name, error);
	free(sf->last_error);
	sf->last_error = xstrdup(error);
}

/*
 * The validator to send next after a good answer: the one it carried; else,
 * after a 304 (which need not repeat both), the one we had; after a full
 * answer without one, none.
 */
static const char *
sched_next_validator(const char *had, const char *sent, bool full)
{
	return sent != NULL ? sent : full ? NULL : had;
}

static bool
sched_same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Make `to` the validator kept in *slot (only once what it belongs to is stored). */
static void
sched_set_validator(char **slot, const char *to)
{
	if (sched_same(*slot, to))
		return;
	free(*slot);
	*slot = to != NULL ? xstrdup(to) : NULL;
}

/*
 * Permanent redirects: a feed whose fetch went only through 301s and 308s
 * SCHED_MOVE_CONFIRM times in a row, to the same place, has moved; from then
 * on it is polled there (the config still names the old URL, /status says
 * both).  A temporary redirect, or none, starts the count again.  The count
 * is stored (it changes only while a feed is moving), so --once runs from
 * cron see a move as the daemon does.
 */
static void
sched_follow_move(struct sched_feed *sf, const struct fetch_result *res)
{
	struct store_feed_poll *p = &sf->poll;

	if (!res->permanent || strcmp(res->effective_url, sched_url(sf)) == 0) {
		if (p->move_seen == 0)
			return;
		free(p->move_candidate);
		p->move_candidate = NULL;
		p->move_seen = 0;
		store_feed_poll_save(sf->s->store, sf->id, p);
		return;
	}
	if (p->move_candidate == NULL || strcmp(p->move_candidate, res->effective_url) != 0) {
		free(p->move_candidate);
		p->move_candidate = xstrdup(res->effective_url);
		p->move_seen = 0;
	}
	if (++p->move_seen >= SCHED_MOVE_CONFIRM) {
		log_warnx("feed %s: moved permanently to %s (%d fetches in a row); polled there from"
			  " now on, though the configuration still says %s", sf->cf->name,
		    p->move_candidate, p->move_seen, sf->cf->url);
		free(p->moved_from);
		free(p->moved_url);
		p->moved_from = xstrdup(sf->cf->url);
		p->moved_url = p->move_candidate;
		p->move_candidate = NULL;
		p->move_seen = 0;
		sf->host = sched_host_get(sf->s, sched_url(sf));
	}
	store_feed_poll_save(sf->s->store, sf->id, p);
}

/* 429 and 503: that host slows down (twice the spacing, and Retry-After); the others do not. */
static void
sched_slow_host(struct sched_host *h, long retry_after)
{
	int64_t until = sched_now_ms() + (retry_after > 0 ? (int64_t)retry_after * 1000 : 0);

	h->delay_ms = h->delay_ms < 500 ? 1000 : h->delay_ms * 2;
	if (h->delay_ms > SCHED_HOST_DELAY_MAX)
		h->delay_ms = SCHED_HOST_DELAY_MAX;
	if (until > h->next_start)
		h->next_start = until;
	log_info("host %s: slowing down: one request every %u ms%s", h->name, h->delay_ms,
	    retry_after > 0 ? ", after Retry-After" : "");
}

/* A success from a host that was slowed: come back towards host_delay. */
static void
sched_relax_host(struct sched_host *h)
{
	unsigned base = h->s->conf->host_delay_ms;

	if (h->delay_ms > base)
		h->delay_ms = h->delay_ms / 2 > base ? h->delay_ms / 2 : base;
}

/* The error to record for a fetch that did not deliver a feed, or NULL. */
static const char *
sched_fetch_error(struct sched_feed *sf, const struct fetch_result *res, char *buf, size_t len)
{
	if (res->status == FETCH_HTTP_ERROR && res->http_status == 410) {
		snprintf(buf, len, "HTTP status 410 Gone: %s is no longer polled; change the feed's"
				   " url to poll it again", sched_url(sf));
		return buf;
	}
	if (res->status == FETCH_HTTP_ERROR &&
	    (res->http_status == 429 || res->http_status == 503) && res->retry_after >= 0) {
		snprintf(buf, len, "HTTP status %ld, Retry-After %ld s", res->http_status,
		    res->retry_after);
		return buf;
	}
	if (res->status == FETCH_ABORTED && sf->parser != NULL && parse_error(sf->parser) != NULL)
		return parse_error(sf->parser);
	return res->error;
}

/* Plan the next poll after this result (see sched_next_poll). */
static time_t
sched_plan_next(struct sched_feed *sf, const struct fetch_result *res, time_t now)
{
	const struct conf *conf = sf->s->conf;
	struct sched_plan p;

	memset(&p, 0, sizeof p);
	p.now = now;
	p.interval = conf->adaptive && sf->adaptive > 0 ? sf->adaptive : sf->cf->interval;
	/* what the operator wrote for this feed is honoured, even under min_interval */
	p.min_interval = conf->min_interval < sf->cf->interval ? conf->min_interval :
	    sf->cf->interval;
	p.max_interval = conf->max_interval;
	p.failures = sf->poll.failures;
	p.retry_after = res->retry_after;
	p.max_age = res->max_age;
	p.ttl = sf->hints.ttl;
	p.update_period = sf->hints.update_period;
	p.skip_hours = sf->hints.skip_hours;
	p.skip_days = sf->hints.skip_days;
	p.jitter = (unsigned)(random() % 1000);
	return sched_next_poll(&p);
}

/* What a full fetch taught us about the feed: its hints and its posting rate. */
static void
sched_learn(struct sched_feed *sf, time_t now)
{
	const struct feed_info *info = parse_feed_info(sf->parser);

	sf->hints.ttl = info->ttl;
	sf->hints.update_period = info->update_period;
	sf->hints.skip_hours = info->skip_hours;
	sf->hints.skip_days = info->skip_days;
	if (sf->s->conf->adaptive) {
		unsigned a = sched_adaptive_interval(sf, now);

		if (a > 0)
			sf->adaptive = a;
	}
}

/*
 * Write a fetch's outcome (its times are in sf->touch): nothing now for a
 * plain 304 (see the top of this file), else one transaction with its
 * items, validators, error and warning.
 */
static void
sched_write(struct sched_feed *sf, const struct fetch_result *res, const char *error,
    const char *warning, int failures_before)
{
	struct store_fetch sfx;
	struct store_fetch_stats stats;
	char err[512];
	bool ok = error == NULL, full = res->status == FETCH_OK;
	const char *etag = ok ? sched_next_validator(sf->etag, res->etag, full) : sf->etag;
	const char *lm = ok ? sched_next_validator(sf->last_modified, res->last_modified, full) :
	    sf->last_modified;
	bool changed = !sched_same(etag, sf->etag) || !sched_same(lm, sf->last_modified);

	memset(&sfx, 0, sizeof sfx);
	sfx.feed_id = sf->id;
	sfx.fetched_at = sf->touch.fetched_at;
	sfx.next_poll = sf->touch.next_poll;
	sfx.http_status = res->http_status;
	sfx.not_modified = res->status == FETCH_NOT_MODIFIED;
	if (sfx.not_modified && !changed && !sf->row_has_error && failures_before == 0) {
		sf->dirty = true; /* the cheap path: written with the next flush */
		log_info("feed %s: not modified", sf->cf->name);
		return;
	}
	sfx.error = error;
	sfx.etag = etag;
	sfx.last_modified = lm;
	if (res->status == FETCH_OK && ok) {
		sfx.items = sf->items;
		sfx.nitems = sf->nitems;
		sfx.info = parse_feed_info(sf->parser);
		sfx.warning = warning;
	}
	if (store_commit_fetch(sf->s->store, &sfx, &stats, err, sizeof err) != 0) {
		/* the validators stay the old ones, so the next fetch brings what was lost */
		metrics_add(METRIC_STORE_ERRORS, 1);
		log_warnx("feed %s: not stored: %s", sf->cf->name, err);
		return;
	}
	sched_count_stored(&stats);
	sched_set_validator(&sf->etag, etag);
	sched_set_validator(&sf->last_modified, lm);
	sf->dirty = false;
	sf->row_has_error = !ok;
	if (failures_before != sf->poll.failures || res->http_status == 410)
		store_feed_poll_save(sf->s->store, sf->id, &sf->poll);
	if (ok && sfx.not_modified)
		log_info("feed %s: not modified", sf->cf->name);
	else if (ok)
		log_info("feed %s: %zu items (%zu new, %zu updated)", sf->cf->name, sfx.nitems,
		    stats.added, stats.updated);
}

/*
 * Count a fetch by how it ended (`error`: the one recorded, or NULL), its
 * bytes and its time.  A 304 saved what the feed's last full answer cost,
 * less the 304's own headers; until this process has seen one, nothing.
 */
static void
sched_count_fetch(struct sched_feed *sf, const struct fetch_result *res, const char *error)
{
	static const enum metric_id by_status[] = {
		[FETCH_OK] = METRIC_FETCH_OK,
		[FETCH_NOT_MODIFIED] = METRIC_FETCH_NOT_MODIFIED,
		[FETCH_HTTP_ERROR] = METRIC_FETCH_HTTP_ERROR,
		[FETCH_FAILED] = METRIC_FETCH_FAILED,
		[FETCH_TOO_LARGE] = METRIC_FETCH_TOO_LARGE,
		[FETCH_ABORTED] = METRIC_FETCH_INVALID, /* the parser gave up on the body */
	};
	enum metric_id id = by_status[res->status];

	if (res->status == FETCH_OK && error != NULL)
		id = METRIC_FETCH_INVALID;
	metrics_add(id, 1);
	metrics_add(METRIC_FETCH_BYTES, res->received);
	metrics_add(METRIC_FETCH_BYTES_DECODED, res->bytes);
	metrics_observe(METRIC_FETCH_SECONDS, res->seconds);
	if (res->status == FETCH_OK)
		sf->full_bytes = res->received;
	else if (res->status == FETCH_NOT_MODIFIED && sf->full_bytes > res->received)
		metrics_add(METRIC_FETCH_BYTES_SAVED, sf->full_bytes - res->received);
}

/* What a fetch's result means for the feed, its host and its next poll; then write it. */
static void
sched_record(struct sched_feed *sf, const struct fetch_result *res)
{
	char why[512];
	/* cppcheck-suppress variableScope ; `warning` points into it until the write below */
	char note[512];
	const char *error = NULL, *warning = NULL;
	int failures_before = sf->poll.failures;
	time_t now = time(NULL);

	if (res->status == FETCH_OK)
		error = sched_finish_parse(sf, &warning, note, sizeof note);
	else if (res->status != FETCH_NOT_MODIFIED)
		error = sched_fetch_error(sf, res, why, sizeof why);
	sched_count_fetch(sf, res, error);
	sf->poll.failures = error == NULL ? 0 : sf->poll.failures + 1;
	if (error == NULL) {
		sched_follow_move(sf, res);
		sched_relax_host(sf->host);
		if (res->status == FETCH_OK)
			sched_learn(sf, now);
	} else if (res->http_status == 429 || res->http_status == 503)
		sched_slow_host(sf->host, res->retry_after);
	if (res->http_status == 410) {
		free(sf->poll.gone_url);
		sf->poll.gone_url = xstrdup(sched_url(sf));
	}
	sched_log_error(sf, error);
	sf->touch.fetched_at = now;
	sf->touch.next_poll = sched_gone(sf) ? 0 : sched_plan_next(sf, res, now);
	sf->touch.http_status = res->http_status;
	sched_write(sf, res, error, warning, failures_before);
}

static void
sched_on_done(void *arg, const struct fetch_result *res)
{
	struct sched_feed *sf = arg;
	struct sched *s = sf->s;
	struct sched_host *h = sf->host;

	sched_record(sf, res);
	sched_reset_poll(sf);
	h->active--;
	s->active--;
	if (!sched_gone(sf) && s->once_done == NULL)
		sched_add_timer(sf->timer, ((int64_t)sf->touch.next_poll - time(NULL)) * 1000);
	if (s->on_stored != NULL)
		s->on_stored(s->on_stored_arg);
	/* The host that moved (sf->host changed) and the old one may both start more. */
	sched_pump(h);
	if (sf->host != h)
		sched_pump(sf->host);
	sched_feed_starved(s);
	sched_once_step(s);
}

static void
sched_start_fetch(struct sched_feed *sf)
{
	struct fetch_request req;

	memset(&req, 0, sizeof req);
	req.url = sched_url(sf);
	req.allow_file = sf->cf->allow_file;
	req.etag = sf->etag;
	req.last_modified = sf->last_modified;
	log_debug("feed %s: fetching %s", sf->cf->name, req.url);
	sf->host->active++;
	sf->s->active++;
	sf->fx = fetch_start(sf->s->fetcher, &req, sched_on_body, sched_on_done, sf);
}

/* Start what the host's queue, its caps and spacing, and the global cap allow. */
static void
sched_pump(struct sched_host *h)
{
	struct sched *s = h->s;

	while (h->qhead != NULL) {
		struct sched_feed *sf = h->qhead;
		int64_t now = sched_now_ms();

		if (s->active >= s->conf->max_transfers) {
			sched_starve(h);
			return;
		}
		if (h->polite && h->active >= s->conf->host_connections)
			return; /* a transfer's end pumps again */
		if (h->polite && now < h->next_start) {
			if (!evtimer_pending(h->timer, NULL))
				sched_add_timer(h->timer, h->next_start - now);
			return;
		}
		h->qhead = sf->qnext;
		if (h->qhead == NULL)
			h->qtail = NULL;
		sf->queued = false;
		h->next_start = now + h->delay_ms;
		sched_start_fetch(sf);
	}
}

/* A feed is due: it joins its host's queue, unless it is already waiting or being fetched. */
static void
sched_due(struct sched_feed *sf)
{
	struct sched_host *h = sf->host;

	if (sf->fx != NULL || sf->queued)
		return;
	sf->queued = true;
	sf->qnext = NULL;
	if (h->qtail != NULL)
		h->qtail->qnext = sf;
	else
		h->qhead = sf;
	h->qtail = sf;
	sched_pump(h);
}

/* ---- Reload and refresh ---- */

/* Take a feed out of its host's queue. */
static void
sched_unqueue(struct sched_feed *sf)
{
	struct sched_host *h = sf->host;
	struct sched_feed *prev = NULL, *q;

	for (q = h->qhead; q != NULL && q != sf; q = q->qnext)
		prev = q;
	if (q == NULL)
		return;
	if (prev != NULL)
		prev->qnext = sf->qnext;
	else
		h->qhead = sf->qnext;
	if (h->qtail == sf)
		h->qtail = prev;
	sf->qnext = NULL;
	sf->queued = false;
}

/* Stop whatever the feed was doing: its timer, its place in a queue, its transfer. */
static void
sched_abandon(struct sched_feed *sf)
{
	evtimer_del(sf->timer);
	if (sf->queued)
		sched_unqueue(sf);
	if (sf->fx != NULL) {
		fetch_cancel(sf->fx);
		sf->host->active--;
		sf->s->active--;
	}
	sched_reset_poll(sf);
}

static int
sched_cmp_feed_name(const void *a, const void *b)
{
	const struct sched_feed *x = *(const struct sched_feed *const *)a;
	const struct sched_feed *y = *(const struct sched_feed *const *)b;

	return strcmp(x->cf->name, y->cf->name);
}

static int
sched_cmp_name_feed(const void *name, const void *elt)
{
	return strcmp(name, (*(const struct sched_feed *const *)elt)->cf->name);
}

/* The feed called `name` in `sorted` (n feeds in name order), or NULL. */
static struct sched_feed *
sched_lookup(struct sched_feed **sorted, size_t n, const char *name)
{
	struct sched_feed **hit =
	    bsearch(name, sorted, n, sizeof(struct sched_feed *), sched_cmp_name_feed);

	return hit != NULL ? *hit : NULL;
}

/*
 * A feed that stays, with its new settings.  A new URL is another resource:
 * what was known of the old one (validators, failures, hints, a transfer in
 * flight) is dropped and it is polled soon, as a new feed.  A shorter
 * interval brings a poll planned further away closer.  The rest (tags,
 * retention) is not the scheduler's; a transfer in flight goes on.
 */
static bool
sched_feed_update(struct sched_feed *sf, const struct conf_feed *cf, time_t now)
{
	const struct conf_feed *old = sf->cf;

	sf->cf = cf;
	if (strcmp(old->url, cf->url) != 0) {
		log_info("feed %s: url changed to %s: polled anew", cf->name, cf->url);
		sched_abandon(sf);
		free(sf->etag);
		free(sf->last_modified);
		free(sf->last_error);
		sf->etag = sf->last_modified = sf->last_error = NULL;
		/* (a move or a 410 of the old URL no longer matches: sched_url, sched_gone) */
		sf->poll.failures = 0;
		free(sf->poll.move_candidate);
		sf->poll.move_candidate = NULL;
		sf->poll.move_seen = 0;
		store_feed_poll_save(sf->s->store, sf->id, &sf->poll);
		sf->adaptive = 0;
		memset(&sf->hints, 0, sizeof sf->hints);
		sf->full_bytes = 0;
		sf->polled_before = false;
		sf->touch.next_poll = 0;
		sf->host = sched_host_get(sf->s, sched_url(sf));
		sched_arm(sf, now);
		return true;
	}
	if (cf->interval < old->interval && evtimer_pending(sf->timer, NULL) &&
	    (sf->touch.next_poll == 0 || sf->touch.next_poll - now > (time_t)cf->interval)) {
		log_info("feed %s: interval now %u s: next poll in %u s at most", cf->name,
		    cf->interval, cf->interval);
		sf->touch.next_poll = now + (time_t)cf->interval;
		sched_add_timer(sf->timer, (int64_t)cf->interval * 1000);
	}
	return false;
}

/* After feeds came and went: every host with waiting feeds may start what it can. */
static void
sched_pump_all(struct sched *s)
{
	for (size_t b = 0; b < s->nbuckets; b++)
		for (struct sched_host *h = s->buckets[b]; h != NULL; h = h->hnext)
			if (h->qhead != NULL)
				sched_pump(h);
	sched_feed_starved(s);
}

/*
 * The new feeds of `conf`, as fresh state read from the store; NULL (every
 * one of them freed) when the store fails.  `sorted`: the current feeds in
 * name order; a feed found there is reused as it is (marked `kept`).
 */
static struct sched_feed **
sched_feeds_for(struct sched *s, const struct conf *conf, struct sched_feed **sorted,
    const int64_t *ids)
{
	struct sched_feed **next = xcalloc(conf->nfeeds + 1, sizeof(struct sched_feed *));

	for (size_t i = 0; i < conf->nfeeds; i++) {
		struct sched_feed *sf = sched_lookup(sorted, s->nfeeds, conf->feeds[i].name);

		if (sf != NULL) {
			sf->kept = true;
			next[i] = sf;
			continue;
		}
		if ((next[i] = sched_feed_new(s, &conf->feeds[i], ids[i])) != NULL)
			continue;
		for (size_t j = 0; j < i; j++)
			if (!next[j]->kept)
				sched_feed_free(next[j]);
		for (size_t j = 0; j < s->nfeeds; j++)
			s->feeds[j]->kept = false;
		free(next);
		return NULL;
	}
	return next;
}

int
sched_reconfigure(struct sched *s, const struct conf *conf, struct sched_changes *ch)
{
	struct sched_feed **sorted = xcalloc(s->nfeeds + 1, sizeof(struct sched_feed *));
	int64_t *ids = xcalloc(conf->nfeeds + s->nfeeds + 1, sizeof *ids);
	struct sched_feed **next = NULL;
	time_t now = time(NULL);
	int rc;

	memset(ch, 0, sizeof *ch);
	/* 304 times not written yet, of feeds that may be about to go */
	sched_flush(s);
	if (s->nfeeds > 0)
		memcpy(sorted, s->feeds, s->nfeeds * sizeof(struct sched_feed *));
	qsort(sorted, s->nfeeds, sizeof(struct sched_feed *), sched_cmp_feed_name);
	if ((rc = sched_register(s->store, conf, ids)) != 0 ||
	    (next = sched_feeds_for(s, conf, sorted, ids)) == NULL) {
		/* as it was: the old feeds the active ones (a failed registration rolled back) */
		if (rc == 0 && sched_register(s->store, s->conf, ids) != 0)
			log_warnx("database: cannot restore the feeds of the running configuration");
		free(sorted);
		free(ids);
		return -1;
	}
	/* From here on nothing fails: the new configuration is the scheduler's. */
	for (size_t i = 0; i < s->nfeeds; i++) {
		struct sched_feed *sf = s->feeds[i];

		if (sf->kept)
			continue;
		log_info("feed %s: no longer in the configuration: not polled; its items are kept",
		    sf->cf->name);
		sched_abandon(sf);
		sched_feed_free(sf);
		ch->removed++;
	}
	s->conf = conf;
	for (size_t i = 0; i < conf->nfeeds; i++) {
		struct sched_feed *sf = next[i];

		if (!sf->kept) {
			log_info("feed %s: added", sf->cf->name);
			sched_arm(sf, now);
			ch->added++;
			continue;
		}
		sf->kept = false;
		ch->moved += sched_feed_update(sf, &conf->feeds[i], now);
	}
	free(s->feeds);
	s->feeds = next;
	s->nfeeds = conf->nfeeds;
	free(sorted);
	free(ids);
	sched_pump_all(s);
	return 0;
}

int
sched_refresh(struct sched *s, const char *name, struct sched_refresh *out)
{
	bool found = false;

	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < s->nfeeds; i++) {
		struct sched_feed *sf = s->feeds[i];

		if (name != NULL && strcmp(sf->cf->name, name) != 0)
			continue;
		found = true;
		if (sched_gone(sf)) {
			out->gone++;
		} else if (sf->fx != NULL || sf->queued) {
			out->busy++;
		} else {
			evtimer_del(sf->timer);
			out->queued++;
			sched_due(sf);
		}
	}
	metrics_add(METRIC_REFRESHES, out->queued);
	if (out->queued > 0)
		log_info("refresh: %zu feed%s queued%s%s", out->queued, out->queued == 1 ? "" : "s",
		    name != NULL ? ": " : "", name != NULL ? name : "");
	return found || name == NULL ? 0 : -1;
}
