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
#define STORE_SCHEMA_VERSION 4

struct store;
struct sqlite3;

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
 * existing name keeps its items and takes the new URL, dropping the old
 * URL's ETag and Last-Modified) and its id in ids[i]; feeds not named are
 * kept but hidden from output.  Called at startup and on every reload.
 */
int store_set_feeds(struct store *s, const char *const *names, const char *const *urls, size_t n,
    int64_t *ids);

/* What the configuration says about keeping a feed's items. */
struct store_feed_policy {
	bool merge;	  /* its stories may merge with the same story from other feeds */
	time_t keep;	  /* seconds an item is kept after its sort time; 0: for ever */
	size_t max_items; /* at most this many items (the newest); 0: no limit */
};
/* Returns 0, or -1 when no feed has that name. */
int store_set_feed_policy(struct store *s, const char *name, const struct store_feed_policy *p);

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
	const char *warning;	      /* the document was ill-formed: why and where, or NULL */
	struct item *const *items;
	size_t nitems;
};

struct store_fetch_stats {
	size_t added;
	size_t updated;
	size_t unchanged; /* seen before unchanged, or pruned and kept out (tombstones) */
	size_t merged;	  /* of the added: another feed's story, shown once (as its other source) */
};

/* Returns 0, or -1 with the reason in `err` (nothing of the fetch is stored then). */
int store_commit_fetch(struct store *s, const struct store_fetch *fetch,
    struct store_fetch_stats *stats, char *err, size_t errlen);

/* Which stories the merged feed shows.  Every list is ANDed with the others. */
struct store_query {
	size_t limit;			 /* at most this many, newest first */
	time_t since;			 /* 0: no lower bound on sort time */
	const char *const *feeds;	 /* only stories these feeds carried (NULL: every active feed) */
	size_t nfeeds;
	const char *const *words;	 /* each must appear in the title, summary or content */
	size_t nwords;
	const char *const *include;	 /* at least one must match (glob, * and ?), if any */
	size_t ninclude;
	const char *const *exclude;	 /* none may match */
	size_t nexclude;
	time_t before_time;		 /* paging: only stories older than (before_time, before_id) */
	int64_t before_id;		 /* 0: the first page */
};

/* store_query_items failed because the query ran too long (a too broad ?q, say). */
#define STORE_ETIMEOUT (-2)

/*
 * Stories newest first into a new array (free with store_items_free).
 * Returns 0, -1 on a database error, STORE_ETIMEOUT past the time limit.
 */
int store_query_items(struct store *s, const struct store_query *q, struct stored_item **out,
    size_t *n);
void store_items_free(struct stored_item *items, size_t n);

/*
 * The stories added or changed after change sequence `after`, oldest change
 * first, at most `limit` (for /events).  A story's seq is that of the change.
 */
int store_changes(struct store *s, int64_t after, size_t limit, struct stored_item **out,
    size_t *n);
/* The latest change sequence (0 for an empty store). */
int64_t store_last_seq(const struct store *s);
/* A number that changes whenever what the output shows may have changed. */
uint64_t store_generation(const struct store *s);
/* When that last happened (the newest item's time after store_open). */
time_t store_last_change(const struct store *s);

/* A feed's health, for /status and /opml. */
struct store_feed_status {
	char *name;
	char *url;
	char *title;
	char *link;
	time_t last_fetch;
	time_t next_poll;
	long http_status;
	char *error;
	int64_t items;
	bool identity_by_link; /* its guids proved unreliable: items are told apart by link */
	char *identity_note;   /* why, or NULL */
	char *warning;	       /* the last document read was ill-formed: why and where */
};

/* Active feeds in name order (free with store_feed_status_free). */
int store_list_feeds(struct store *s, struct store_feed_status **out, size_t *n);
void store_feed_status_free(struct store_feed_status *feeds, size_t n);

/* Items stored (not pruned) for active feeds. */
int64_t store_item_total(struct store *s);

/*
 * The identity of an item inside its feed (DESIGN.md): its guid, else its
 * link, else a hash of title, date and content.  Written into `out`.
 */
void store_item_identity(const struct item *it, char *out, size_t outlen);

/*
 * Retention: turn up to `batch` items that their feed's policy no longer
 * keeps into tombstones (identity kept, content dropped).  *pruned gets how
 * many; a full batch means there may be more.  Returns 0 or -1.
 */
int store_prune(struct store *s, time_t now, size_t batch, size_t *pruned);
/*
 * Give up to `pages` free pages back to the file system (incremental
 * vacuum).  Returns how many free pages are left, or -1.
 */
int store_reclaim(struct store *s, unsigned pages);

/* The SQLite handle, for tests and benchmarks that look underneath. */
struct sqlite3 *store_sqlite(struct store *s);

/*
 * Scheduling state beside a feed (schema 3), read at startup and written
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

/*
 * The size on disk of the database file and of its write-ahead log (0 when
 * there is none), for /metrics.  Returns 0, or -1 when the file cannot be
 * looked at.
 */
int store_disk_usage(struct store *s, int64_t *main_bytes, int64_t *wal_bytes);

#endif
