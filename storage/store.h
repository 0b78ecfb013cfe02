/*
 * store: every story feedmux has seen, in one SQLite database.
 *
 * One transaction per fetch (store_commit_fetch) holds the fetch's items and
 * the feed's new state together, so a crash leaves either all of a fetch or
 * none of it.  This module knows SQL and nothing of HTTP or XML.
 */
#ifndef FEEDMUX_STORE_H
#define FEEDMUX_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "feeds/item.h"

/* The schema version this build writes (PRAGMA user_version). */
#define STORE_SCHEMA_VERSION 2

struct store;

/*
 * Open (creating and migrating as needed) the database at `path`.  On
 * failure returns NULL with the reason in `err`.
 */
struct store *store_open(const char *path, char *err, size_t errlen);
void store_close(struct store *s);

/* A UUID made when the database was created: the merged feed's identity. */
const char *store_instance_id(const struct store *s);

/*
 * Make the configured feeds the active ones: each (name, url) gets a row (an
 * existing name keeps its items and takes the new URL) and its id in
 * ids[i]; feeds not named are kept but hidden from output.
 */
int store_set_feeds(struct store *s, const char *const *names, const char *const *urls, size_t n,
    int64_t *ids);

/* What polling needs to know about a feed between fetches. */
struct store_feed_state {
	char *etag;
	char *last_modified;
	time_t last_fetch; /* 0: never */
	time_t next_poll;  /* 0: not planned */
};
int store_feed_state(struct store *s, int64_t feed_id, struct store_feed_state *out);
void store_feed_state_clear(struct store_feed_state *st);

/* One fetch's outcome, written in one transaction. */
struct store_fetch {
	int64_t feed_id;
	time_t fetched_at;
	time_t next_poll;
	long http_status;  /* 0: none */
	const char *error; /* NULL when the fetch succeeded */
	bool not_modified; /* a 304: no items, validators kept unless new ones came */
	const char *etag;  /* validators from the response (NULL: none sent) */
	const char *last_modified;
	const struct feed_info *info; /* the feed's own title and link, or NULL */
	struct item *const *items;
	size_t nitems;
};

struct store_fetch_stats {
	size_t added;
	size_t updated;
	size_t unchanged;
};

/* Returns 0, or -1 with the reason in `err` (nothing of the fetch is stored then). */
int store_commit_fetch(struct store *s, const struct store_fetch *fetch,
    struct store_fetch_stats *stats, char *err, size_t errlen);

/* Which items the merged feed shows. */
struct store_query {
	size_t limit;	  /* at most this many, newest first */
	time_t since;	  /* 0: no lower bound on sort time */
	const char *feed; /* NULL: every active feed */
};

/* Items newest first into a new array (free with store_items_free). */
int store_query_items(struct store *s, const struct store_query *q, struct stored_item **out,
    size_t *n);
void store_items_free(struct stored_item *items, size_t n);

/* A feed's health, for /status. */
struct store_feed_status {
	char *name;
	char *url;
	char *title;
	time_t last_fetch;
	time_t next_poll;
	long http_status;
	char *error;
	int64_t items;
};

/* Active feeds in name order (free with store_feed_status_free). */
int store_list_feeds(struct store *s, struct store_feed_status **out, size_t *n);
void store_feed_status_free(struct store_feed_status *feeds, size_t n);

/* Items stored for active feeds. */
int64_t store_item_total(struct store *s);

/*
 * The identity of an item inside its feed (DESIGN.md): its guid, else its
 * link, else a hash of title, date and content.  Written into `out`.
 */
void store_item_identity(const struct item *it, char *out, size_t outlen);

/*
 * Scheduling state beside a feed (schema 2), read at startup and written
 * only when it changes: a failure, a confirmed move, a 410.  Strings are
 * owned by the struct (store_feed_poll_clear).
 */
struct store_feed_poll {
	int failures;	  /* consecutive failed fetches, for backoff */
	char *move_candidate; /* where permanent redirects led, move_seen fetches in a row */
	int move_seen;
	char *moved_from; /* the configured URL a permanent redirect replaced, or NULL */
	char *moved_url;  /* the URL polled instead of it */
	char *gone_url;	  /* a URL that answered 410 Gone: not polled again, or NULL */
	bool has_error;	  /* read only: the row records an error (feeds.error) */
};
int store_feed_poll_load(struct store *s, int64_t feed_id, struct store_feed_poll *out);
int store_feed_poll_save(struct store *s, int64_t feed_id, const struct store_feed_poll *p);
void store_feed_poll_clear(struct store_feed_poll *p);

/*
 * A fetch that changed nothing but its time (a 304): the scheduler keeps
 * these in memory and writes them in batches, n rows in one transaction.
 */
struct store_feed_touch {
	int64_t feed_id;
	time_t fetched_at;
	time_t next_poll;
	long http_status;
};
int store_touch_feeds(struct store *s, const struct store_feed_touch *t, size_t n);

/* What /status says beside a feed's row: where it moved, whether it is gone. */
struct store_feed_note {
	char *name;
	char *moved_to; /* the URL polled instead of the configured one, or NULL */
	bool gone;	/* disabled by a 410 Gone */
};
/* Active feeds that moved or are gone, in name order (free with store_feed_notes_free). */
int store_list_feed_notes(struct store *s, struct store_feed_note **out, size_t *n);
void store_feed_notes_free(struct store_feed_note *notes, size_t n);

/*
 * Checkpoint the WAL every `pages` pages (SQLite's default is 1000).  A
 * poll of thousands of feeds commits thousands of small transactions; each
 * checkpoint costs an fdatasync and rewrites pages that the next commits
 * change again.  Returns 0, or -1.
 */
int store_set_wal_autocheckpoint(struct store *s, int pages);

#endif
