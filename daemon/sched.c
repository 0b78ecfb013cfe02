/*
 * sched.c: per-feed timers, and the path fetch -> parse -> store.
 *
 * Items of one fetch are collected in memory and stored together when the
 * transfer ends, so that a fetch is one transaction.  The collection is
 * bounded: the body is capped (fetch_limits.max_body) and what the parser
 * makes of it cannot be much larger, and at most SCHED_MAX_ITEMS are kept.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config/conf.h"
#include "daemon/sched.h"
#include "feeds/fetch.h"
#include "feeds/parse.h"
#include "storage/store.h"
#include "util/util.h"

#define SCHED_MAX_ITEMS	   10000 /* per fetch; the rest are counted and dropped */
#define SCHED_START_SPREAD 5	 /* seconds over which overdue feeds start, at most */

struct sched_feed {
	struct sched *s;
	const struct conf_feed *cf;
	int64_t id;
	struct event *timer;

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
	struct sched_feed *feeds;
	size_t nfeeds;

	sched_stored_cb on_stored;
	void *on_stored_arg;

	/* --once: how many polls are left, and whom to tell at the end. */
	size_t once_left;
	void (*once_done)(void *);
	void *once_arg;
};

static void sched_poll(struct sched_feed *sf);

static void
sched_on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	sched_poll(arg);
}

static void
sched_arm(struct sched_feed *sf, long delay_ms)
{
	struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};

	evtimer_add(sf->timer, &tv);
}

struct sched *
sched_new(struct event_base *base, struct fetcher *fetcher, struct store *store,
    const struct conf *conf)
{
	struct sched *s = xcalloc(1, sizeof *s);
	const char **names = xcalloc(conf->nfeeds, sizeof *names);
	const char **urls = xcalloc(conf->nfeeds, sizeof *urls);
	int64_t *ids = xcalloc(conf->nfeeds, sizeof *ids);
	int rc;

	s->base = base;
	s->fetcher = fetcher;
	s->store = store;
	s->conf = conf;
	for (size_t i = 0; i < conf->nfeeds; i++) {
		names[i] = conf->feeds[i].name;
		urls[i] = conf->feeds[i].url;
	}
	rc = store_set_feeds(store, names, urls, conf->nfeeds, ids);
	free(names);
	free(urls);
	if (rc != 0) {
		free(ids);
		free(s);
		return NULL;
	}
	s->feeds = xcalloc(conf->nfeeds, sizeof *s->feeds);
	s->nfeeds = conf->nfeeds;
	for (size_t i = 0; i < conf->nfeeds; i++) {
		struct sched_feed *sf = &s->feeds[i];

		sf->s = s;
		sf->cf = &conf->feeds[i];
		sf->id = ids[i];
		if ((sf->timer = evtimer_new(base, sched_on_timer, sf)) == NULL)
			fatalx("evtimer_new failed");
	}
	free(ids);
	return s;
}

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

void
sched_free(struct sched *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nfeeds; i++) {
		fetch_cancel(s->feeds[i].fx);
		sched_reset_poll(&s->feeds[i]);
		event_free(s->feeds[i].timer);
	}
	free(s->feeds);
	free(s);
}

void
sched_on_stored(struct sched *s, sched_stored_cb cb, void *arg)
{
	s->on_stored = cb;
	s->on_stored_arg = arg;
}

void
sched_start(struct sched *s)
{
	time_t now = time(NULL);

	for (size_t i = 0; i < s->nfeeds; i++) {
		struct sched_feed *sf = &s->feeds[i];
		struct store_feed_state st;
		long spread = (long)(sf->cf->interval < SCHED_START_SPREAD ? sf->cf->interval :
		    SCHED_START_SPREAD) * 1000;
		long delay_ms = spread > 0 ? random() % spread : 0;

		/* A feed polled before waits for its planned time; overdue ones start soon, spread out. */
		if (store_feed_state(s->store, sf->id, &st) == 0 && st.next_poll > now)
			delay_ms = (long)(st.next_poll - now) * 1000;
		store_feed_state_clear(&st);
		sched_arm(sf, delay_ms);
	}
}

void
sched_run_once(struct sched *s, void (*done)(void *arg), void *arg)
{
	s->once_left = s->nfeeds;
	s->once_done = done;
	s->once_arg = arg;
	if (s->nfeeds == 0) {
		done(arg);
		return;
	}
	for (size_t i = 0; i < s->nfeeds; i++)
		sched_poll(&s->feeds[i]);
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
		sf->parser = parse_new(sf->cf->url, content_type, sched_on_item, sf);
	return parse_push(sf->parser, data, len);
}

/* Finish parsing a complete body; returns the error to record, or NULL. */
static const char *
sched_finish_parse(struct sched_feed *sf)
{
	if (sf->parser == NULL)
		return "empty document";
	if (parse_finish(sf->parser) != 0)
		return parse_error(sf->parser);
	if (parse_illformed(sf->parser))
		log_warnx("feed %s: ill-formed, %zu items recovered: %s", sf->cf->name,
		    parse_item_count(sf->parser), parse_error(sf->parser));
	if (sf->dropped > 0)
		log_warnx("feed %s: %zu items past the first %d were ignored", sf->cf->name,
		    sf->dropped, SCHED_MAX_ITEMS);
	return NULL;
}

static void
sched_log_result(struct sched_feed *sf, const struct store_fetch *sfx,
    const struct store_fetch_stats *stats)
{
	if (sfx->error != NULL)
		log_warnx("feed %s: %s", sf->cf->name, sfx->error);
	else if (sfx->not_modified)
		log_info("feed %s: not modified", sf->cf->name);
	else
		log_info("feed %s: %zu items (%zu new, %zu updated)", sf->cf->name, sfx->nitems,
		    stats->added, stats->updated);
}

static void
sched_on_done(void *arg, const struct fetch_result *res)
{
	struct sched_feed *sf = arg;
	struct sched *s = sf->s;
	struct store_fetch sfx;
	struct store_fetch_stats stats;
	char err[512];
	const char *parse_err = NULL;

	memset(&sfx, 0, sizeof sfx);
	sfx.feed_id = sf->id;
	sfx.fetched_at = time(NULL);
	sfx.next_poll = sfx.fetched_at + sf->cf->interval;
	sfx.http_status = res->http_status;
	sfx.not_modified = res->status == FETCH_NOT_MODIFIED;
	sfx.etag = res->etag;
	sfx.last_modified = res->last_modified;
	if (res->status == FETCH_OK)
		parse_err = sched_finish_parse(sf);
	else if (res->status == FETCH_ABORTED && sf->parser != NULL)
		parse_err = parse_error(sf->parser);
	sfx.error = parse_err != NULL ? parse_err : res->error;
	if (res->status == FETCH_OK && parse_err == NULL) {
		sfx.items = sf->items;
		sfx.nitems = sf->nitems;
		sfx.info = parse_feed_info(sf->parser);
	}
	if (store_commit_fetch(s->store, &sfx, &stats, err, sizeof err) != 0)
		log_warnx("feed %s: not stored: %s", sf->cf->name, err);
	else
		sched_log_result(sf, &sfx, &stats);
	sched_reset_poll(sf);
	sched_arm(sf, (long)sf->cf->interval * 1000);
	if (s->on_stored != NULL)
		s->on_stored(s->on_stored_arg);
	if (s->once_done != NULL && --s->once_left == 0)
		s->once_done(s->once_arg);
}

static void
sched_poll(struct sched_feed *sf)
{
	struct store_feed_state st;
	struct fetch_request req;

	if (sf->fx != NULL)
		return; /* still busy with the last one */
	if (store_feed_state(sf->s->store, sf->id, &st) != 0)
		memset(&st, 0, sizeof st);
	memset(&req, 0, sizeof req);
	req.url = sf->cf->url;
	req.allow_file = sf->cf->allow_file;
	req.etag = st.etag;
	req.last_modified = st.last_modified;
	log_debug("feed %s: fetching %s", sf->cf->name, sf->cf->url);
	sf->fx = fetch_start(sf->s->fetcher, &req, sched_on_body, sched_on_done, sf);
	store_feed_state_clear(&st);
}
