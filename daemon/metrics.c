/*
 * metrics.c: the registry, and the Prometheus text format.
 *
 * Rows of one family (a name with several label sets) sit together in the
 * table, so # HELP and # TYPE are written once, before the first of them,
 * as the format requires.  Every series is written even at 0: a series that
 * appears only after its first event breaks rate() and alerts on absence.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/metrics.h"
#include "util/util.h"

enum metric_type { MT_COUNTER, MT_GAUGE, MT_HISTOGRAM };

static const struct {
	const char *family;
	const char *labels; /* {...} without the braces, or NULL */
	enum metric_type type;
	const char *help;
} metric_table[METRIC_COUNT] = {
	[METRIC_FETCH_OK] = {"feedmux_fetches_total", "result=\"ok\"", MT_COUNTER,
	    "Fetches, by how they ended."},
	[METRIC_FETCH_NOT_MODIFIED] = {"feedmux_fetches_total", "result=\"not_modified\"",
	    MT_COUNTER, NULL},
	[METRIC_FETCH_HTTP_ERROR] = {"feedmux_fetches_total", "result=\"http_error\"", MT_COUNTER,
	    NULL},
	[METRIC_FETCH_FAILED] = {"feedmux_fetches_total", "result=\"failed\"", MT_COUNTER, NULL},
	[METRIC_FETCH_TOO_LARGE] = {"feedmux_fetches_total", "result=\"too_large\"", MT_COUNTER,
	    NULL},
	[METRIC_FETCH_INVALID] = {"feedmux_fetches_total", "result=\"invalid\"", MT_COUNTER, NULL},
	[METRIC_FETCH_BYTES] = {"feedmux_fetch_received_bytes_total", NULL, MT_COUNTER,
	    "Bytes received from feed servers: headers, and bodies as sent (compressed)."},
	[METRIC_FETCH_BYTES_DECODED] = {"feedmux_fetch_decoded_bytes_total", NULL, MT_COUNTER,
	    "Body bytes of fetches after decompression."},
	[METRIC_FETCH_BYTES_SAVED] = {"feedmux_fetch_saved_bytes_total", NULL, MT_COUNTER,
	    "Bytes not transferred thanks to 304 Not Modified: the size of each feed's last full"
	    " response."},
	[METRIC_ITEMS_STORED] = {"feedmux_items_total", "outcome=\"stored\"", MT_COUNTER,
	    "Items of stored fetches: new (stored), changed (updated), or seen before unchanged."},
	[METRIC_ITEMS_UPDATED] = {"feedmux_items_total", "outcome=\"updated\"", MT_COUNTER, NULL},
	[METRIC_ITEMS_UNCHANGED] = {"feedmux_items_total", "outcome=\"unchanged\"", MT_COUNTER,
	    NULL},
	[METRIC_ITEMS_MERGED] = {"feedmux_items_merged_total", NULL, MT_COUNTER,
	    "New items that were another feed's story, shown once in the merged feed."},
	[METRIC_STORE_ERRORS] = {"feedmux_store_errors_total", NULL, MT_COUNTER,
	    "Fetches the database could not store."},
	[METRIC_RELOAD_OK] = {"feedmux_reloads_total", "result=\"ok\"", MT_COUNTER,
	    "Configuration reloads (SIGHUP), applied or refused."},
	[METRIC_RELOAD_FAILED] = {"feedmux_reloads_total", "result=\"refused\"", MT_COUNTER, NULL},
	[METRIC_REFRESHES] = {"feedmux_refreshes_total", NULL, MT_COUNTER,
	    "Feeds queued for a poll by a refresh request."},
	[METRIC_FEEDS] = {"feedmux_feeds", NULL, MT_GAUGE, "Feeds in the configuration."},
	[METRIC_SUBSCRIBERS] = {"feedmux_subscribers", NULL, MT_GAUGE,
	    "Clients connected to /events."},
	[METRIC_CONNECTIONS] = {"feedmux_http_connections", NULL, MT_GAUGE,
	    "HTTP connections open, subscribers included."},
	[METRIC_DB_BYTES] = {"feedmux_database_size_bytes", "file=\"main\"", MT_GAUGE,
	    "Size of the database on disk: the main file and its write-ahead log."},
	[METRIC_DB_WAL_BYTES] = {"feedmux_database_size_bytes", "file=\"wal\"", MT_GAUGE, NULL},
	[METRIC_FETCH_SECONDS] = {"feedmux_fetch_duration_seconds", NULL, MT_HISTOGRAM,
	    "How long each transfer took, whatever its result."},
};

/* Upper bounds of the fetch duration buckets, seconds (+Inf is implied). */
static const double metric_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
#define METRIC_NBOUNDS (sizeof metric_bounds / sizeof metric_bounds[0])

static struct {
	int64_t value; /* counters, gauges; a histogram's count */
	uint64_t buckets[METRIC_NBOUNDS];
	double sum;
} metric_values[METRIC_COUNT];

void
metrics_add(enum metric_id id, uint64_t n)
{
	metric_values[id].value += (int64_t)n;
}

void
metrics_set(enum metric_id id, int64_t v)
{
	metric_values[id].value = v;
}

void
metrics_observe(enum metric_id id, double v)
{
	metric_values[id].value++;
	metric_values[id].sum += v;
	for (size_t i = 0; i < METRIC_NBOUNDS; i++)
		if (v <= metric_bounds[i])
			metric_values[id].buckets[i]++;
}

int64_t
metrics_get(enum metric_id id)
{
	return metric_values[id].value;
}

static void
metrics_render_histogram(struct buf *out, const char *family, enum metric_id id)
{
	for (size_t i = 0; i < METRIC_NBOUNDS; i++)
		buf_addf(out, "%s_bucket{le=\"%g\"} %llu\n", family, metric_bounds[i],
		    (unsigned long long)metric_values[id].buckets[i]);
	buf_addf(out, "%s_bucket{le=\"+Inf\"} %lld\n", family, (long long)metric_values[id].value);
	buf_addf(out, "%s_sum %.6f\n", family, metric_values[id].sum);
	buf_addf(out, "%s_count %lld\n", family, (long long)metric_values[id].value);
}

void
metrics_render(struct buf *out)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};
	const char *family = NULL;

	for (int id = 0; id < METRIC_COUNT; id++) {
		const char *name = metric_table[id].family;
		const char *labels = metric_table[id].labels;

		if (family == NULL || strcmp(family, name) != 0) {
			buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, metric_table[id].help, name,
			    types[metric_table[id].type]);
			family = name;
		}
		if (metric_table[id].type == MT_HISTOGRAM)
			metrics_render_histogram(out, name, (enum metric_id)id);
		else
			buf_addf(out, "%s%s%s%s %lld\n", name, labels != NULL ? "{" : "",
			    labels != NULL ? labels : "", labels != NULL ? "}" : "",
			    (long long)metric_values[id].value);
	}
}
