/*
 * store_private.h: what the files of storage/ share and nobody else sees.
 * store.c opens, migrates and writes; store_read.c answers the output's
 * queries; store_prune.c applies retention.
 */
#ifndef FEEDMUX_STORE_PRIVATE_H
#define FEEDMUX_STORE_PRIVATE_H

#include <sqlite3.h>

#include "storage/store.h"

/* Prepared once at open, reused for the life of the store. */
enum stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_FEED_INFO,
	ST_FIND_ITEM,
	ST_INSERT_ITEM,
	ST_UPDATE_ITEM,
	ST_BACKFILL_DIGEST,
	ST_FIND_REP,
	ST_PROMOTE_PICK,
	ST_PROMOTE_SET,
	ST_SET_DUP,
	ST_UPDATE_FEED,
	ST_FEED_STATE,
	ST_LIST_FEEDS,
	ST_ITEM_TOTAL,
	ST_VIA,
	ST_ITEM_BY_ID,
	ST_CHANGES,
	ST_PRUNE_FEEDS,
	ST_PRUNE_OLD,
	ST_PRUNE_OVER,
	ST_TOMBSTONE,
	ST_FEED_UNCOUNT,
	ST_COUNT
};

/* Queries whose shape depends on the request, prepared on first use and kept. */
#define STORE_QUERY_CACHE 16

struct store_cached_query {
	char *sql;
	sqlite3_stmt *stmt;
	uint64_t last_used;
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	char instance_id[40];

	int64_t seq;	     /* the last change sequence handed out */
	uint64_t generation; /* bumped by every change the output can see */
	time_t last_change;

	struct store_cached_query cache[STORE_QUERY_CACHE];
	uint64_t cache_clock;
	double deadline; /* reads past this monotonic time are interrupted (0: none) */
};

/* The columns store_read_story reads, in this order, from items i JOIN feeds f. */
#define STORE_STORY_COLUMNS                                                                    \
	"i.id, i.guid, i.title, i.link, i.author, i.summary, i.summary_type, i.content,"       \
	" i.content_type, i.published, i.updated, i.sort_time, i.first_seen, i.changed_at,"   \
	" i.seq, i.comments, i.id_is_permalink, i.extra, f.name, f.title, f.link, f.url,"     \
	" f.feed_id_text"

int store_fail(struct store *s, char *err, size_t errlen, const char *what);
sqlite3_stmt *store_stmt(struct store *s, enum stmt which);
int store_step_done(sqlite3_stmt *st);
char *store_column_strdup(sqlite3_stmt *st, int col);
void store_bind_text_or_null(sqlite3_stmt *st, int col, const char *text);
void store_bind_time_or_null(sqlite3_stmt *st, int col, time_t t);

/* Make another item of the story of `rep` carry it, when `rep` cannot (pruned, retired). */
int store_promote(struct store *s, int64_t rep);

/* The authors, categories, links and enclosures of `it` as JSON, or NULL when it has none. */
char *store_extra_encode(const struct item *it);
void store_extra_decode(const char *json, struct item *it);

#endif
