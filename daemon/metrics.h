/*
 * metrics: the daemon's counters, gauges and one histogram, in one
 * process-wide registry, written in the Prometheus text format (0.0.4) for
 * GET /metrics.
 *
 * The registry is a table (metrics.c): a row per series, with its family
 * name, labels, type and help.  Counters are bumped where their events
 * happen (the scheduler when a fetch ends or is stored, the main loop on a
 * reload); gauges that describe a state (subscribers, connections, the
 * database's size) are sampled by the server when /metrics is asked for.
 * One thread, so no locking; nothing is allocated.
 */
#ifndef FEEDMUX_METRICS_H
#define FEEDMUX_METRICS_H

#include <stdint.h>

struct buf;

enum metric_id {
	/* Fetches by how they ended (feedmux_fetches_total{result=...}). */
	METRIC_FETCH_OK,	   /* a feed came and was parsed */
	METRIC_FETCH_NOT_MODIFIED, /* 304 */
	METRIC_FETCH_HTTP_ERROR,   /* another HTTP status */
	METRIC_FETCH_FAILED,	   /* DNS, connect, TLS, timeout, refused... */
	METRIC_FETCH_TOO_LARGE,	   /* past max_body */
	METRIC_FETCH_INVALID,	   /* the body was not a feed the parser could read */
	METRIC_FETCH_BYTES,	   /* bytes received: headers and body as sent (compressed) */
	METRIC_FETCH_BYTES_DECODED, /* body bytes after decompression */
	METRIC_FETCH_BYTES_SAVED,   /* a 304's saving: the feed's last full response */
	/* What storing fetches did to items (feedmux_items_total{outcome=...}). */
	METRIC_ITEMS_STORED,	/* new */
	METRIC_ITEMS_UPDATED,	/* seen again, changed */
	METRIC_ITEMS_UNCHANGED, /* seen again unchanged (or pruned): not stored twice */
	METRIC_ITEMS_MERGED,	/* new, and another feed's story: shown once */
	METRIC_STORE_ERRORS,	/* fetches that could not be stored */
	METRIC_RELOAD_OK,
	METRIC_RELOAD_FAILED,
	METRIC_REFRESHES,	/* feeds queued by a refresh request */
	/* Gauges, sampled at each scrape. */
	METRIC_FEEDS,
	METRIC_SUBSCRIBERS,
	METRIC_CONNECTIONS,
	METRIC_DB_BYTES,
	METRIC_DB_WAL_BYTES,
	/* The one histogram. */
	METRIC_FETCH_SECONDS, /* how long a transfer took, whatever its end */
	METRIC_COUNT
};

/* Add `n` to a counter. */
void metrics_add(enum metric_id id, uint64_t n);
/* Set a gauge. */
void metrics_set(enum metric_id id, int64_t v);
/* Count one observation of a histogram. */
void metrics_observe(enum metric_id id, double v);
/* A counter's or gauge's value (a histogram's count). */
int64_t metrics_get(enum metric_id id);

/* Append every series, with its # HELP and # TYPE, to `out`. */
void metrics_render(struct buf *out);

#endif
