/*
 * store_read.c: the queries behind the merged feed, /events and /status.
 *
 * The merged feed reads the partial index items_stories (sort_time, id of
 * the stories' representatives that are not pruned), newest first, so a
 * page of 100 costs 100 index steps whatever the size of the store.  Its
 * other sources come from items_dups, one short lookup per story.  Filters
 * that depend on the request (feeds, words, patterns, a paging cursor) make
 * the SQL; each shape is prepared once and kept in a small cache.
 *
 * A read is interrupted past STORE_READ_MS (a ?q that matches nothing scans
 * everything): the event loop must not stall on one request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/store_private.h"
#include "util/util.h"

#define STORE_READ_MS 1000
/* A date this far past when we last saw the item changed is not believed. */
#define STORE_DATE_SLACK ((time_t)10 * 60)

static double
store_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
store_on_progress(void *arg)
{
	const struct store *s = arg;

	return s->deadline > 0 && store_now() > s->deadline;
}

static void
store_read_source(sqlite3_stmt *st, int col, struct item_source *src)
{
	src->name = store_column_strdup(st, col);
	src->title = store_column_strdup(st, col + 1);
	src->link = store_column_strdup(st, col + 2);
	src->url = store_column_strdup(st, col + 3);
	src->id = store_column_strdup(st, col + 4);
}

/* A row of STORE_STORY_COLUMNS into `si`. */
static void
store_read_story(sqlite3_stmt *st, struct stored_item *si)
{
	struct item *it = &si->item;
	time_t seen;

	si->rowid = sqlite3_column_int64(st, 0);
	it->id = store_column_strdup(st, 1);
	it->title = store_column_strdup(st, 2);
	it->link = store_column_strdup(st, 3);
	it->author = store_column_strdup(st, 4);
	it->summary = store_column_strdup(st, 5);
	it->summary_type = (enum text_type)sqlite3_column_int(st, 6);
	it->content = store_column_strdup(st, 7);
	it->content_type = (enum text_type)sqlite3_column_int(st, 8);
	it->published = (time_t)sqlite3_column_int64(st, 9);
	it->updated = (time_t)sqlite3_column_int64(st, 10);
	si->sort_time = (time_t)sqlite3_column_int64(st, 11);
	si->first_seen = (time_t)sqlite3_column_int64(st, 12);
	si->changed_at = (time_t)sqlite3_column_int64(st, 13);
	if (si->changed_at == 0)
		si->changed_at = si->first_seen;
	si->seq = sqlite3_column_int64(st, 14);
	it->comments = store_column_strdup(st, 15);
	it->id_is_permalink = sqlite3_column_int(st, 16) != 0;
	store_extra_decode((const char *)sqlite3_column_text(st, 17), it);
	store_read_source(st, 18, &si->source);
	si->source.item_link = it->link != NULL ? xstrdup(it->link) : NULL;
	/* Its own dates, when plausible: none from after we last saw it. */
	seen = si->changed_at + STORE_DATE_SLACK;
	if (it->published > seen)
		it->published = 0;
	if (it->updated > seen)
		it->updated = 0;
}

/* The other feeds that carried the story `si` represents. */
static int
store_read_via(struct store *s, struct stored_item *si)
{
	sqlite3_stmt *st = store_stmt(s, ST_VIA);
	int rc;

	sqlite3_bind_int64(st, 1, si->rowid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct item_source *src;

		si->via = xreallocarray(si->via, si->nvia + 1, sizeof *si->via);
		src = &si->via[si->nvia++];
		memset(src, 0, sizeof *src);
		store_read_source(st, 0, src);
		src->item_link = store_column_strdup(st, 5);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* A statement for `sql` from the cache, preparing it on first use. */
static sqlite3_stmt *
store_cached(struct store *s, const char *sql)
{
	struct store_cached_query *victim = &s->cache[0];

	for (int i = 0; i < STORE_QUERY_CACHE; i++) {
		struct store_cached_query *c = &s->cache[i];

		if (c->sql != NULL && strcmp(c->sql, sql) == 0) {
			c->last_used = ++s->cache_clock;
			sqlite3_reset(c->stmt);
			sqlite3_clear_bindings(c->stmt);
			return c->stmt;
		}
		if (c->last_used < victim->last_used)
			victim = c;
	}
	sqlite3_finalize(victim->stmt);
	free(victim->sql);
	victim->sql = NULL;
	victim->last_used = 0;
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &victim->stmt, NULL) !=
	    SQLITE_OK) {
		log_warnx("database: preparing a query: %s", sqlite3_errmsg(s->db));
		victim->stmt = NULL;
		return NULL;
	}
	victim->sql = xstrdup(sql);
	victim->last_used = ++s->cache_clock;
	return victim->stmt;
}

/* "?, ?, ?" for n parameters. */
static void
store_add_params(struct buf *sql, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_adds(sql, i == 0 ? "?" : ", ?");
}

/* "(title LIKE ? OR summary LIKE ? OR content LIKE ?)" once per pattern, joined by `op`. */
static void
store_add_matches(struct buf *sql, size_t n, const char *op)
{
	for (size_t i = 0; i < n; i++)
		buf_addf(sql, "%s(ifnull(i.title, '') LIKE ? ESCAPE '\\'"
			      " OR ifnull(i.summary, '') LIKE ? ESCAPE '\\'"
			      " OR ifnull(i.content, '') LIKE ? ESCAPE '\\')",
		    i == 0 ? "" : op);
}

/*
 * The SQL for `q`.  Without a feed filter only representatives are read
 * (the partial index).  With one, a copy of a story is shown unless the
 * copy that represents it is among the chosen feeds too.
 */
static void
store_query_sql(const struct store_query *q, struct buf *sql)
{
	buf_adds(sql, "SELECT " STORE_STORY_COLUMNS " FROM items i JOIN feeds f ON f.id = i.feed_id"
		      " WHERE i.pruned = 0 AND f.active");
	if (q->feeds == NULL)
		buf_adds(sql, " AND i.dup_of IS NULL");
	else {
		buf_adds(sql, " AND f.name IN (");
		store_add_params(sql, q->nfeeds);
		buf_adds(sql, ") AND (i.dup_of IS NULL OR NOT EXISTS (SELECT 1 FROM items r JOIN feeds"
			      " rf ON rf.id = r.feed_id WHERE r.id = i.dup_of AND rf.name IN (");
		store_add_params(sql, q->nfeeds);
		buf_adds(sql, ")))");
	}
	if (q->since > 0)
		buf_adds(sql, " AND i.sort_time >= ?");
	if (q->before_id > 0)
		buf_adds(sql, " AND (i.sort_time, i.id) < (?, ?)");
	if (q->nwords > 0) {
		buf_adds(sql, " AND ");
		store_add_matches(sql, q->nwords, " AND ");
	}
	if (q->ninclude > 0) {
		buf_adds(sql, " AND (");
		store_add_matches(sql, q->ninclude, " OR ");
		buf_adds(sql, ")");
	}
	if (q->nexclude > 0) {
		buf_adds(sql, " AND NOT (");
		store_add_matches(sql, q->nexclude, " OR ");
		buf_adds(sql, ")");
	}
	buf_adds(sql, " ORDER BY i.sort_time DESC, i.id DESC LIMIT ?");
}

/*
 * A LIKE pattern for `text`: "%text%" with LIKE's own characters escaped;
 * with `glob`, * and ? become % and _.
 */
static char *
store_like_pattern(const char *text, bool glob)
{
	struct buf b;

	buf_init(&b, 0);
	buf_addc(&b, '%');
	for (const char *p = text; *p != '\0'; p++) {
		if (glob && *p == '*')
			buf_addc(&b, '%');
		else if (glob && *p == '?')
			buf_addc(&b, '_');
		else {
			if (*p == '%' || *p == '_' || *p == '\\')
				buf_addc(&b, '\\');
			buf_addc(&b, *p);
		}
	}
	buf_addc(&b, '%');
	return buf_steal(&b);
}

/* Bind each pattern three times (title, summary, content); the strings go to `keep`. */
static void
store_bind_matches(sqlite3_stmt *st, int *col, const char *const *v, size_t n, bool glob,
    char **keep, size_t *nkeep)
{
	for (size_t i = 0; i < n; i++) {
		char *pat = store_like_pattern(v[i], glob);

		keep[(*nkeep)++] = pat;
		for (int k = 0; k < 3; k++)
			sqlite3_bind_text(st, (*col)++, pat, -1, SQLITE_STATIC);
	}
}

static void
store_query_bind(sqlite3_stmt *st, const struct store_query *q, char **keep, size_t *nkeep)
{
	int col = 1;

	for (int twice = 0; q->feeds != NULL && twice < 2; twice++)
		for (size_t i = 0; i < q->nfeeds; i++)
			sqlite3_bind_text(st, col++, q->feeds[i], -1, SQLITE_STATIC);
	if (q->since > 0)
		sqlite3_bind_int64(st, col++, (sqlite3_int64)q->since);
	if (q->before_id > 0) {
		sqlite3_bind_int64(st, col++, (sqlite3_int64)q->before_time);
		sqlite3_bind_int64(st, col++, q->before_id);
	}
	store_bind_matches(st, &col, q->words, q->nwords, false, keep, nkeep);
	store_bind_matches(st, &col, q->include, q->ninclude, true, keep, nkeep);
	store_bind_matches(st, &col, q->exclude, q->nexclude, true, keep, nkeep);
	sqlite3_bind_int64(st, col, (sqlite3_int64)q->limit);
}

/* Step `st` to the end, reading each row as a story with its other sources. */
static int
store_collect(struct store *s, sqlite3_stmt *st, struct stored_item **out, size_t *n)
{
	struct stored_item *items = NULL;
	size_t count = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		items = xreallocarray(items, count + 1, sizeof *items);
		memset(&items[count], 0, sizeof *items);
		store_read_story(st, &items[count++]);
	}
	sqlite3_reset(st);
	for (size_t i = 0; rc == SQLITE_DONE && i < count; i++)
		if (store_read_via(s, &items[i]) != 0)
			rc = SQLITE_ERROR;
	if (rc != SQLITE_DONE) {
		store_items_free(items, count);
		return -1;
	}
	*out = items;
	*n = count;
	return 0;
}

int
store_query_items(struct store *s, const struct store_query *q, struct stored_item **out,
    size_t *n)
{
	size_t npat = q->nwords + q->ninclude + q->nexclude, nkeep = 0;
	char **keep = xcalloc(npat + 1, sizeof *keep);
	sqlite3_stmt *st;
	struct buf sql;
	int rc = -1;

	*out = NULL;
	*n = 0;
	buf_init(&sql, 0);
	store_query_sql(q, &sql);
	if ((st = store_cached(s, sql.data)) != NULL) {
		store_query_bind(st, q, keep, &nkeep);
		s->deadline = store_now() + STORE_READ_MS / 1000.0;
		sqlite3_progress_handler(s->db, 1000, store_on_progress, s);
		rc = store_collect(s, st, out, n);
		sqlite3_progress_handler(s->db, 0, NULL, NULL);
		if (rc != 0 && s->deadline > 0 && store_now() > s->deadline)
			rc = STORE_ETIMEOUT;
		else if (rc != 0)
			log_warnx("database: reading items: %s", sqlite3_errmsg(s->db));
		s->deadline = 0;
		sqlite3_clear_bindings(st);
	}
	for (size_t i = 0; i < nkeep; i++)
		free(keep[i]);
	free(keep);
	buf_free(&sql);
	return rc;
}

/* The story whose representative is `id`, with its other sources, into *si. */
static int
store_read_by_id(struct store *s, int64_t id, struct stored_item *si)
{
	sqlite3_stmt *st = store_stmt(s, ST_ITEM_BY_ID);
	int rc;

	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		store_read_story(st, si);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return -1;
	return store_read_via(s, si);
}

int
store_changes(struct store *s, int64_t after, size_t limit, struct stored_item **out, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, ST_CHANGES);
	struct stored_item *items = NULL;
	int64_t *reps = NULL, *seqs = NULL;
	size_t count = 0;
	int rc;

	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		reps = xreallocarray(reps, count + 1, sizeof *reps);
		seqs = xreallocarray(seqs, count + 1, sizeof *seqs);
		reps[count] = sqlite3_column_int64(st, 1);
		seqs[count++] = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE && count > 0) {
		items = xcalloc(count, sizeof *items);
		for (size_t i = 0; rc == SQLITE_DONE && i < count; i++) {
			if (store_read_by_id(s, reps[i], &items[i]) != 0)
				rc = SQLITE_ERROR;
			items[i].seq = seqs[i];
		}
	}
	free(reps);
	free(seqs);
	if (rc != SQLITE_DONE) {
		log_warnx("database: reading changes: %s", sqlite3_errmsg(s->db));
		store_items_free(items, count);
		return -1;
	}
	*out = items;
	*n = count;
	return 0;
}

void
store_items_free(struct stored_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		stored_item_clear(&items[i]);
	free(items);
}

int
store_list_feeds(struct store *s, struct store_feed_status **out, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, ST_LIST_FEEDS);
	struct store_feed_status *feeds = NULL;
	size_t count = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_feed_status *f;

		feeds = xreallocarray(feeds, count + 1, sizeof *feeds);
		f = &feeds[count++];
		f->name = store_column_strdup(st, 0);
		f->url = store_column_strdup(st, 1);
		f->title = store_column_strdup(st, 2);
		f->link = store_column_strdup(st, 3);
		f->last_fetch = (time_t)sqlite3_column_int64(st, 4);
		f->next_poll = (time_t)sqlite3_column_int64(st, 5);
		f->http_status = (long)sqlite3_column_int64(st, 6);
		f->error = store_column_strdup(st, 7);
		f->items = sqlite3_column_int64(st, 8);
		f->identity_by_link = sqlite3_column_int(st, 9) != 0;
		f->identity_note = store_column_strdup(st, 10);
		f->warning = store_column_strdup(st, 11);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_warnx("database: listing feeds: %s", sqlite3_errmsg(s->db));
		store_feed_status_free(feeds, count);
		return -1;
	}
	*out = feeds;
	*n = count;
	return 0;
}

void
store_feed_status_free(struct store_feed_status *feeds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(feeds[i].name);
		free(feeds[i].url);
		free(feeds[i].title);
		free(feeds[i].link);
		free(feeds[i].error);
		free(feeds[i].identity_note);
		free(feeds[i].warning);
	}
	free(feeds);
}

int64_t
store_item_total(struct store *s)
{
	sqlite3_stmt *st = store_stmt(s, ST_ITEM_TOTAL);
	int64_t total = 0;

	if (sqlite3_step(st) == SQLITE_ROW)
		total = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return total;
}
