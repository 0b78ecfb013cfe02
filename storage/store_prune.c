/*
 * store_prune.c: retention.
 *
 * Each feed keeps its items for `keep` seconds after their sort time and at
 * most `max_items` of them (store_set_feed_policy).  An item past either
 * becomes a tombstone: its content goes, its identity (and link) stay, so
 * a feed that still carries it, or republishes it, does not bring it back.
 * Work is done in small batches, each its own short transaction, so the
 * event loop never waits long; store_reclaim hands freed pages back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/store_private.h"
#include "util/util.h"

/* Ids of up to `limit` items of `feed` that its policy no longer keeps. */
static size_t
store_prune_pick(struct store *s, int64_t feed, time_t cutoff, int64_t max_items, size_t limit,
    int64_t *ids)
{
	size_t n = 0;

	for (int pass = 0; pass < 2 && n < limit; pass++) {
		sqlite3_stmt *st;

		if (pass == 0 && cutoff > 0) {
			st = store_stmt(s, ST_PRUNE_OLD);
			sqlite3_bind_int64(st, 2, (sqlite3_int64)cutoff);
		} else if (pass == 1 && max_items > 0) {
			st = store_stmt(s, ST_PRUNE_OVER);
			sqlite3_bind_int64(st, 2, max_items);
		} else
			continue;
		sqlite3_bind_int64(st, 1, feed);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)(limit - n));
		while (n < limit && sqlite3_step(st) == SQLITE_ROW)
			ids[n++] = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	return n;
}

/* Tombstone one item; a story it represented passes to another copy. */
static int
store_tombstone(struct store *s, int64_t id, size_t *pruned)
{
	sqlite3_stmt *st = store_stmt(s, ST_TOMBSTONE);
	int64_t feed = 0;
	bool rep = false;
	int rc;

	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		feed = sqlite3_column_int64(st, 0);
		rep = sqlite3_column_type(st, 1) == SQLITE_NULL;
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -1;
	if (feed == 0)
		return 0; /* already a tombstone */
	(*pruned)++;
	st = store_stmt(s, ST_FEED_UNCOUNT);
	sqlite3_bind_int64(st, 1, feed);
	sqlite3_bind_int64(st, 2, 1);
	if (store_step_done(st) != 0)
		return -1;
	return rep ? store_promote(s, id) : 0;
}

int
store_prune(struct store *s, time_t now, size_t batch, size_t *pruned)
{
	sqlite3_stmt *st;
	int64_t *ids = xcalloc(batch + 1, sizeof *ids);
	size_t n = 0;
	int rc = 0;

	*pruned = 0;
	if (store_step_done(store_stmt(s, ST_BEGIN)) != 0) {
		log_warnx("database: retention: %s", sqlite3_errmsg(s->db));
		free(ids);
		return -1;
	}
	st = store_stmt(s, ST_PRUNE_FEEDS);
	while (n < batch && sqlite3_step(st) == SQLITE_ROW) {
		int64_t feed = sqlite3_column_int64(st, 0);
		time_t keep = (time_t)sqlite3_column_int64(st, 1);

		/* Each feed's pick is read before any row changes, from its own statement. */
		n += store_prune_pick(s, feed, keep > 0 ? now - keep : 0, sqlite3_column_int64(st, 2),
		    batch - n, ids + n);
	}
	sqlite3_reset(st);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = store_tombstone(s, ids[i], pruned);
	free(ids);
	if (rc == 0 && store_step_done(store_stmt(s, ST_COMMIT)) == 0) {
		if (*pruned > 0) {
			s->generation++;
			s->last_change = now;
		}
		return 0;
	}
	log_warnx("database: retention: %s", sqlite3_errmsg(s->db));
	store_step_done(store_stmt(s, ST_ROLLBACK));
	*pruned = 0;
	return -1;
}

int
store_reclaim(struct store *s, unsigned pages)
{
	sqlite3_stmt *st;
	char sql[64];
	int left = -1;

	/* incremental_vacuum frees a page per row it returns: step it to the end. */
	snprintf(sql, sizeof sql, "PRAGMA incremental_vacuum(%u)", pages);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	while (sqlite3_step(st) == SQLITE_ROW)
		;
	if (sqlite3_finalize(st) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "PRAGMA freelist_count", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_step(st) == SQLITE_ROW)
		left = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return left;
fail:
	log_warnx("database: reclaiming space: %s", sqlite3_errmsg(s->db));
	return -1;
}
