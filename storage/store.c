/*
 * store.c: the SQLite database.
 *
 * Durability: WAL with synchronous=NORMAL.  A committed transaction survives
 * a crash of the process; a power loss may take back the last transactions
 * but never corrupts the file.  Each fetch is one BEGIN IMMEDIATE
 * transaction (a deferred one that upgrades to a write gets SQLITE_BUSY
 * without waiting), holding its items and the feed's new validators, so
 * the ETag we send next time always matches the items we kept.
 *
 * Dedupe: UNIQUE(feed_id, identity).  The upsert rewrites a row only when
 * something in it changed (its WHERE clause), so an unchanged item costs no
 * write; the row's version counts its changes, which tells a new item
 * (version 1) from an updated one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <sqlite3.h>

#include "storage/store.h"
#include "util/util.h"

/* An item dated further ahead than this is "in the future" and sorts when first seen. */
#define STORE_FUTURE_SLACK ((time_t)10 * 60)
#define STORE_IDENTITY_MAX 2048

enum stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_UPSERT_ITEM,
	ST_UPDATE_FEED,
	ST_FEED_STATE,
	ST_QUERY_ITEMS,
	ST_LIST_FEEDS,
	ST_ITEM_TOTAL,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_UPSERT_ITEM] =
	    "INSERT INTO items(feed_id, identity, guid, title, link, author, summary,"
	    " summary_type, content, content_type, published, updated, first_seen, sort_time)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
	    " ON CONFLICT(feed_id, identity) DO UPDATE SET guid = excluded.guid,"
	    " title = excluded.title, link = excluded.link, author = excluded.author,"
	    " summary = excluded.summary, summary_type = excluded.summary_type,"
	    " content = excluded.content, content_type = excluded.content_type,"
	    " published = excluded.published, updated = excluded.updated,"
	    " changed_at = excluded.first_seen, version = version + 1"
	    " WHERE guid IS NOT excluded.guid OR title IS NOT excluded.title"
	    " OR link IS NOT excluded.link OR author IS NOT excluded.author"
	    " OR summary IS NOT excluded.summary OR summary_type IS NOT excluded.summary_type"
	    " OR content IS NOT excluded.content OR content_type IS NOT excluded.content_type"
	    " OR published IS NOT excluded.published OR updated IS NOT excluded.updated"
	    " RETURNING version",
	[ST_UPDATE_FEED] =
	    "UPDATE feeds SET last_fetch = ?2, next_poll = ?3, http_status = ?4, error = ?5,"
	    " etag = CASE WHEN ?6 THEN ?7 ELSE etag END,"
	    " last_modified = CASE WHEN ?6 THEN ?8 ELSE last_modified END,"
	    " title = coalesce(?9, title), link = coalesce(?10, link),"
	    " item_count = item_count + ?11 WHERE id = ?1",
	[ST_FEED_STATE] = "SELECT etag, last_modified, last_fetch, next_poll FROM feeds WHERE id = ?1",
	[ST_QUERY_ITEMS] =
	    "SELECT i.id, i.guid, i.title, i.link, i.author, i.summary, i.summary_type,"
	    " i.content, i.content_type, i.published, i.updated, i.sort_time, i.first_seen,"
	    " f.name, f.title, f.link, f.url"
	    " FROM items i JOIN feeds f ON f.id = i.feed_id"
	    " WHERE f.active AND (?2 IS NULL OR i.sort_time >= ?2) AND (?3 IS NULL OR f.name = ?3)"
	    " ORDER BY i.sort_time DESC, i.id DESC LIMIT ?1",
	[ST_LIST_FEEDS] = ("SELECT name, url, title, last_fetch, next_poll, http_status, error,"
			   " item_count FROM feeds WHERE active ORDER BY name"),
	[ST_ITEM_TOTAL] = "SELECT coalesce(sum(item_count), 0) FROM feeds WHERE active",
};

/*
 * Schema migrations: migrations[v] takes a database from user_version v to
 * v + 1, each in its own transaction together with the new user_version.
 */
static const char *const migrations[] = {
	/* 0 -> 1: the first schema. */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE feeds("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" url TEXT NOT NULL,"
	" active INTEGER NOT NULL DEFAULT 1,"
	" title TEXT, link TEXT,"
	" etag TEXT, last_modified TEXT,"
	" last_fetch INTEGER, next_poll INTEGER,"
	" http_status INTEGER, error TEXT,"
	" item_count INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE items("
	" id INTEGER PRIMARY KEY,"
	" feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,"
	" identity TEXT NOT NULL,"
	" guid TEXT, title TEXT, link TEXT, author TEXT,"
	" summary TEXT, summary_type INTEGER NOT NULL DEFAULT 0,"
	" content TEXT, content_type INTEGER NOT NULL DEFAULT 0,"
	" published INTEGER, updated INTEGER,"
	" first_seen INTEGER NOT NULL,"
	" changed_at INTEGER,"
	" sort_time INTEGER NOT NULL,"
	" version INTEGER NOT NULL DEFAULT 1,"
	" UNIQUE(feed_id, identity));"
	"CREATE INDEX items_by_time ON items(sort_time DESC, id DESC);",
	/* 1 -> 2: scheduling state kept across restarts (store_feed_poll_*). */
	"ALTER TABLE feeds ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE feeds ADD COLUMN move_candidate TEXT;"
	"ALTER TABLE feeds ADD COLUMN move_seen INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE feeds ADD COLUMN moved_from TEXT;"
	"ALTER TABLE feeds ADD COLUMN moved_url TEXT;"
	"ALTER TABLE feeds ADD COLUMN gone_url TEXT;",
};
#define STORE_NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	char instance_id[40];
};

static int
store_fail(struct store *s, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(s->db));
	return -1;
}

static sqlite3_stmt *
store_stmt(struct store *s, enum stmt which)
{
	sqlite3_stmt *st = s->stmt[which];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static int
store_exec(struct store *s, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "%s", msg != NULL ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	return -1;
}

static int
store_user_version(struct store *s)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int
store_migrate(struct store *s, char *err, size_t errlen)
{
	int v = store_user_version(s);

	if (v < 0)
		return store_fail(s, err, errlen, "reading the schema version");
	if (v > STORE_NMIGRATIONS) {
		snprintf(err, errlen, "schema version %d is newer than this feedmux (%d)", v,
		    STORE_NMIGRATIONS);
		return -1;
	}
	for (; v < STORE_NMIGRATIONS; v++) {
		char *bump = xasprintf("PRAGMA user_version = %d", v + 1);
		int rc = store_exec(s, "BEGIN IMMEDIATE", err, errlen);

		if (rc == 0)
			rc = store_exec(s, migrations[v], err, errlen);
		if (rc == 0)
			rc = store_exec(s, bump, err, errlen);
		if (rc == 0)
			rc = store_exec(s, "COMMIT", err, errlen);
		free(bump);
		if (rc != 0) {
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	return 0;
}

/* A random (version 4) UUID, made once per database. */
static void
store_make_uuid(char out[40])
{
	unsigned char r[16];

	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		fatal("getrandom");
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, 40,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
	    r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
	    r[15]);
}

static int
store_load_instance(struct store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	char uuid[40];
	int rc;

	store_make_uuid(uuid);
	if (sqlite3_prepare_v2(s->db,
		"INSERT INTO meta(key, value) VALUES ('instance_id', ?1) ON CONFLICT DO NOTHING;",
		-1, &st, NULL) != SQLITE_OK)
		return store_fail(s, err, errlen, "instance id");
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, err, errlen, "instance id");
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'instance_id'", -1, &st,
		NULL) != SQLITE_OK)
		return store_fail(s, err, errlen, "instance id");
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(s->instance_id, sizeof s->instance_id, "%s",
		    (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return 0;
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
	struct store *s = xcalloc(1, sizeof *s);

	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		store_fail(s, err, errlen, path);
		goto fail;
	}
	/* The loop waits on a busy database: keep the wait short. */
	sqlite3_busy_timeout(s->db, 200);
	if (store_exec(s,
		"PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
		err, errlen) != 0 ||
	    store_migrate(s, err, errlen) != 0 || store_load_instance(s, err, errlen) != 0)
		goto fail;
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
			NULL) != SQLITE_OK) {
			store_fail(s, err, errlen, "preparing statements");
			goto fail;
		}
	return s;
fail:
	store_close(s);
	return NULL;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s);
}

const char *
store_instance_id(const struct store *s)
{
	return s->instance_id;
}

static int
store_step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

int
store_set_feeds(struct store *s, const char *const *names, const char *const *urls, size_t n,
    int64_t *ids)
{
	sqlite3_stmt *up = NULL;
	char err[256];
	int rc = -1;

	if (store_exec(s, "BEGIN IMMEDIATE; UPDATE feeds SET active = 0;", err, sizeof err) != 0) {
		log_warnx("database: %s", err);
		return -1;
	}
	if (sqlite3_prepare_v2(s->db,
		"INSERT INTO feeds(name, url, active) VALUES (?1, ?2, 1)"
		" ON CONFLICT(name) DO UPDATE SET url = excluded.url, active = 1 RETURNING id",
		-1, &up, NULL) != SQLITE_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(up);
		sqlite3_bind_text(up, 1, names[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 2, urls[i], -1, SQLITE_STATIC);
		if (sqlite3_step(up) != SQLITE_ROW)
			goto out;
		ids[i] = sqlite3_column_int64(up, 0);
	}
	rc = 0;
out:
	if (rc != 0)
		log_warnx("database: registering feeds: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(up);
	sqlite3_exec(s->db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static char *
store_column_strdup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t != NULL ? xstrdup((const char *)t) : NULL;
}

int
store_feed_state(struct store *s, int64_t feed_id, struct store_feed_state *out)
{
	sqlite3_stmt *st = store_stmt(s, ST_FEED_STATE);
	int rc;

	memset(out, 0, sizeof *out);
	sqlite3_bind_int64(st, 1, feed_id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->etag = store_column_strdup(st, 0);
		out->last_modified = store_column_strdup(st, 1);
		out->last_fetch = (time_t)sqlite3_column_int64(st, 2);
		out->next_poll = (time_t)sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

void
store_feed_state_clear(struct store_feed_state *st)
{
	free(st->etag);
	free(st->last_modified);
	memset(st, 0, sizeof *st);
}

void
store_item_identity(const struct item *it, char *out, size_t outlen)
{
	const char *parts[4];
	char date[24], hex[33];

	if (it->id != NULL && it->id[0] != '\0') {
		snprintf(out, outlen, "%s", it->id);
		return;
	}
	if (it->link != NULL && it->link[0] != '\0') {
		snprintf(out, outlen, "%s", it->link);
		return;
	}
	snprintf(date, sizeof date, "%lld", (long long)(it->published ? it->published : it->updated));
	parts[0] = it->title;
	parts[1] = date;
	parts[2] = it->content != NULL ? it->content : it->summary;
	parts[3] = NULL;
	hash_hex(parts, 3, hex);
	snprintf(out, outlen, "hash:%s", hex);
}

/* When an item sorts: its own date when plausible, else when we first saw it. */
static time_t
store_sort_time(const struct item *it, time_t now)
{
	time_t t = it->published ? it->published : it->updated;

	return t > 0 && t <= now + STORE_FUTURE_SLACK ? t : now;
}

static void
store_bind_text_or_null(sqlite3_stmt *st, int col, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, col, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, col);
}

static void
store_bind_time_or_null(sqlite3_stmt *st, int col, time_t t)
{
	if (t > 0)
		sqlite3_bind_int64(st, col, (sqlite3_int64)t);
	else
		sqlite3_bind_null(st, col);
}

/* Upsert one item; counts it in `stats`. */
static int
store_upsert_item(struct store *s, int64_t feed_id, const struct item *it, time_t now,
    struct store_fetch_stats *stats)
{
	sqlite3_stmt *st = store_stmt(s, ST_UPSERT_ITEM);
	char identity[STORE_IDENTITY_MAX];
	int rc;

	store_item_identity(it, identity, sizeof identity);
	sqlite3_bind_int64(st, 1, feed_id);
	sqlite3_bind_text(st, 2, identity, -1, SQLITE_STATIC);
	store_bind_text_or_null(st, 3, it->id);
	store_bind_text_or_null(st, 4, it->title);
	store_bind_text_or_null(st, 5, it->link);
	store_bind_text_or_null(st, 6, it->author);
	store_bind_text_or_null(st, 7, it->summary);
	sqlite3_bind_int(st, 8, (int)it->summary_type);
	store_bind_text_or_null(st, 9, it->content);
	sqlite3_bind_int(st, 10, (int)it->content_type);
	store_bind_time_or_null(st, 11, it->published);
	store_bind_time_or_null(st, 12, it->updated);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 14, (sqlite3_int64)store_sort_time(it, now));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_int64(st, 0) == 1)
			stats->added++;
		else
			stats->updated++;
		rc = sqlite3_step(st);
	} else if (rc == SQLITE_DONE)
		stats->unchanged++;
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
store_update_feed(struct store *s, const struct store_fetch *fx, size_t added)
{
	sqlite3_stmt *st = store_stmt(s, ST_UPDATE_FEED);
	bool replace = fx->error == NULL && (!fx->not_modified || fx->etag != NULL ||
	    fx->last_modified != NULL);

	sqlite3_bind_int64(st, 1, fx->feed_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)fx->fetched_at);
	store_bind_time_or_null(st, 3, fx->next_poll);
	if (fx->http_status != 0)
		sqlite3_bind_int64(st, 4, fx->http_status);
	store_bind_text_or_null(st, 5, fx->error);
	sqlite3_bind_int(st, 6, replace);
	store_bind_text_or_null(st, 7, fx->etag);
	store_bind_text_or_null(st, 8, fx->last_modified);
	if (fx->info != NULL) {
		store_bind_text_or_null(st, 9, fx->info->title);
		store_bind_text_or_null(st, 10, fx->info->link);
	}
	sqlite3_bind_int64(st, 11, (sqlite3_int64)added);
	return store_step_done(st);
}

int
store_commit_fetch(struct store *s, const struct store_fetch *fetch,
    struct store_fetch_stats *stats, char *err, size_t errlen)
{
	memset(stats, 0, sizeof *stats);
	if (store_step_done(store_stmt(s, ST_BEGIN)) != 0)
		return store_fail(s, err, errlen, "begin");
	for (size_t i = 0; i < fetch->nitems; i++)
		if (store_upsert_item(s, fetch->feed_id, fetch->items[i], fetch->fetched_at, stats) !=
		    0)
			goto fail;
	if (store_update_feed(s, fetch, stats->added) != 0)
		goto fail;
	if (store_step_done(store_stmt(s, ST_COMMIT)) != 0)
		goto fail;
	return 0;
fail:
	store_fail(s, err, errlen, "storing the fetch");
	store_step_done(store_stmt(s, ST_ROLLBACK));
	memset(stats, 0, sizeof *stats);
	return -1;
}

static void
store_read_item(sqlite3_stmt *st, struct stored_item *si)
{
	struct item *it = &si->item;

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
	si->source.name = store_column_strdup(st, 13);
	si->source.title = store_column_strdup(st, 14);
	si->source.link = store_column_strdup(st, 15);
	si->source.url = store_column_strdup(st, 16);
}

int
store_query_items(struct store *s, const struct store_query *q, struct stored_item **out,
    size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, ST_QUERY_ITEMS);
	struct stored_item *items = NULL;
	size_t count = 0;
	int rc;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)q->limit);
	store_bind_time_or_null(st, 2, q->since);
	store_bind_text_or_null(st, 3, q->feed);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		items = xreallocarray(items, count + 1, sizeof *items);
		memset(&items[count], 0, sizeof *items);
		store_read_item(st, &items[count++]);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_warnx("database: reading items: %s", sqlite3_errmsg(s->db));
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
		f->last_fetch = (time_t)sqlite3_column_int64(st, 3);
		f->next_poll = (time_t)sqlite3_column_int64(st, 4);
		f->http_status = (long)sqlite3_column_int64(st, 5);
		f->error = store_column_strdup(st, 6);
		f->items = sqlite3_column_int64(st, 7);
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
		free(feeds[i].error);
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

int
store_feed_poll_load(struct store *s, int64_t feed_id, struct store_feed_poll *out)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof *out);
	if (sqlite3_prepare_v2(s->db,
		"SELECT failures, moved_from, moved_url, gone_url, error IS NOT NULL,"
		" move_candidate, move_seen FROM feeds WHERE id = ?1", -1, &st,
		NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, feed_id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->failures = sqlite3_column_int(st, 0);
		out->moved_from = store_column_strdup(st, 1);
		out->moved_url = store_column_strdup(st, 2);
		out->gone_url = store_column_strdup(st, 3);
		out->has_error = sqlite3_column_int(st, 4) != 0;
		out->move_candidate = store_column_strdup(st, 5);
		out->move_seen = sqlite3_column_int(st, 6);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int
store_feed_poll_save(struct store *s, int64_t feed_id, const struct store_feed_poll *p)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db,
		"UPDATE feeds SET failures = ?2, moved_from = ?3, moved_url = ?4, gone_url = ?5,"
		" move_candidate = ?6, move_seen = ?7 WHERE id = ?1",
		-1, &st, NULL) != SQLITE_OK) {
		log_warnx("database: saving poll state: %s", sqlite3_errmsg(s->db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, feed_id);
	sqlite3_bind_int(st, 2, p->failures);
	store_bind_text_or_null(st, 3, p->moved_from);
	store_bind_text_or_null(st, 4, p->moved_url);
	store_bind_text_or_null(st, 5, p->gone_url);
	store_bind_text_or_null(st, 6, p->move_candidate);
	sqlite3_bind_int(st, 7, p->move_seen);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		log_warnx("database: saving poll state: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

void
store_feed_poll_clear(struct store_feed_poll *p)
{
	free(p->move_candidate);
	free(p->moved_from);
	free(p->moved_url);
	free(p->gone_url);
	memset(p, 0, sizeof *p);
}

int
store_touch_feeds(struct store *s, const struct store_feed_touch *t, size_t n)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (n == 0)
		return 0;
	if (store_step_done(store_stmt(s, ST_BEGIN)) != 0)
		goto out;
	if (sqlite3_prepare_v2(s->db,
		"UPDATE feeds SET last_fetch = ?2, next_poll = ?3, http_status = ?4 WHERE id = ?1",
		-1, &st, NULL) != SQLITE_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, t[i].feed_id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)t[i].fetched_at);
		store_bind_time_or_null(st, 3, t[i].next_poll);
		sqlite3_bind_int64(st, 4, t[i].http_status);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
	}
	rc = store_step_done(store_stmt(s, ST_COMMIT));
out:
	if (rc != 0) {
		log_warnx("database: recording %zu fetches: %s", n, sqlite3_errmsg(s->db));
		store_step_done(store_stmt(s, ST_ROLLBACK));
	}
	sqlite3_finalize(st);
	return rc;
}

int
store_list_feed_notes(struct store *s, struct store_feed_note **out, size_t *n)
{
	sqlite3_stmt *st;
	struct store_feed_note *notes = NULL;
	size_t count = 0;
	int rc;

	/* A move or a 410 holds only while the config still names the URL it was seen for. */
	if (sqlite3_prepare_v2(s->db,
		"SELECT name, moved, gone_url IS NOT NULL AND gone_url = coalesce(moved, url) FROM"
		" (SELECT name, url, gone_url, CASE WHEN moved_from = url THEN moved_url END AS moved"
		"  FROM feeds WHERE active AND (moved_url IS NOT NULL OR gone_url IS NOT NULL))"
		" WHERE moved IS NOT NULL OR gone_url = coalesce(moved, url) ORDER BY name",
		-1, &st, NULL) != SQLITE_OK) {
		log_warnx("database: listing feed notes: %s", sqlite3_errmsg(s->db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		notes = xreallocarray(notes, count + 1, sizeof *notes);
		notes[count].name = store_column_strdup(st, 0);
		notes[count].moved_to = store_column_strdup(st, 1);
		notes[count++].gone = sqlite3_column_int(st, 2) != 0;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_warnx("database: listing feed notes: %s", sqlite3_errmsg(s->db));
		store_feed_notes_free(notes, count);
		return -1;
	}
	*out = notes;
	*n = count;
	return 0;
}

void
store_feed_notes_free(struct store_feed_note *notes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(notes[i].name);
		free(notes[i].moved_to);
	}
	free(notes);
}

int
store_set_wal_autocheckpoint(struct store *s, int pages)
{
	return sqlite3_wal_autocheckpoint(s->db, pages) == SQLITE_OK ? 0 : -1;
}
