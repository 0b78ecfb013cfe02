/*
 * store.c: the SQLite database: opening, migrations, writing a fetch.
 *
 * Durability: WAL with synchronous=NORMAL.  A committed transaction survives
 * a crash of the process; a power loss may take back the last transactions
 * but never corrupts the file.  Each fetch is one BEGIN IMMEDIATE
 * transaction (a deferred one that upgrades to a write gets SQLITE_BUSY
 * without waiting), holding its items and the feed's new validators, so
 * the ETag we send next time always matches the items we kept.  When a
 * write fails (disk full, read-only, locked) the whole fetch is rolled back
 * and reported; what was stored before is untouched and still served, and
 * the next poll, which sends the old validators, tries again.
 *
 * Identity in a feed: UNIQUE(feed_id, identity), the identity being the
 * guid, else the link, else a hash (store_identity).  Each item is looked up
 * by identity first; a digest of everything we store of it says whether it
 * changed, so an unchanged item costs one index read and no write.  A
 * changed one is updated in place (version + 1, changed_at, a new seq).
 *
 * Bad guids: some feeds give one guid to the whole feed, or one per day.
 * Two items of a fetch with one guid and different links, or a stored item
 * whose guid comes back with a different link and a different title, give
 * the feed away.  From then on the feed's items are told apart by link
 * (feeds.identity_by_link, shown in /status): its stored rows are re-keyed
 * by link and the fetch is stored again.
 *
 * Stories across feeds: each item keeps its normalised link (items.story,
 * feeds/urlnorm).  The first item of a story, among feeds that allow
 * merging, represents it (dup_of NULL); later ones from other feeds point
 * at it (dup_of = its id) and are shown as its other sources.  When the
 * representative goes (pruned, its feed removed from the config), the
 * oldest remaining copy takes over (store_promote).
 *
 * Change sequence: every insert and every update takes the next value of
 * a counter stored with the item (items.seq), so /events can resume from
 * "seq > N" without knowing anything about the scheduler.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <jansson.h>

#include "feeds/urlnorm.h"
#include "storage/store_private.h"
#include "util/util.h"

/* An item dated further ahead than this is "in the future" and sorts when first seen. */
#define STORE_FUTURE_SLACK ((time_t)10 * 60)
#define STORE_IDENTITY_MAX 2048
/* How long a busy database may hold up the event loop before we give up on a write. */
#define STORE_BUSY_MS 200

#define ITEM_COLUMNS                                                                           \
	"guid, title, link, author, summary, summary_type, content, content_type, published,"  \
	" updated, comments, id_is_permalink, extra, digest, story, sort_time"

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_FEED_INFO] = "SELECT merge, identity_by_link, name, title, link, feed_id_text"
			 " FROM feeds WHERE id = ?1",
	[ST_FIND_ITEM] = "SELECT id, digest, link, title, pruned, dup_of, story, first_seen,"
			 " content, summary, published, updated"
			 " FROM items WHERE feed_id = ?1 AND identity = ?2",
	/* ?1..?16 are the ITEM_COLUMNS in order, as store_bind_item binds them. */
	[ST_INSERT_ITEM] = "INSERT INTO items(" ITEM_COLUMNS ", feed_id, identity, first_seen,"
			   " dup_of, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
			   " ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
	[ST_UPDATE_ITEM] = "UPDATE items SET guid = ?1, title = ?2, link = ?3, author = ?4,"
			   " summary = ?5, summary_type = ?6, content = ?7, content_type = ?8,"
			   " published = ?9, updated = ?10, comments = ?11, id_is_permalink = ?12,"
			   " extra = ?13, digest = ?14, story = ?15, sort_time = ?16,"
			   " changed_at = ?17, seq = ?18, version = version + 1 WHERE id = ?19",
	[ST_BACKFILL_DIGEST] = "UPDATE items SET digest = ?2, extra = ?3, story = ?4 WHERE id = ?1",
	[ST_FIND_REP] = "SELECT i.id FROM items i JOIN feeds f ON f.id = i.feed_id"
			" WHERE i.story = ?1 AND i.feed_id != ?2 AND i.dup_of IS NULL"
			" AND i.pruned = 0 AND f.active AND f.merge ORDER BY i.id LIMIT 1",
	[ST_PROMOTE_PICK] = "SELECT i.id FROM items i JOIN feeds f ON f.id = i.feed_id"
			    " WHERE i.dup_of = ?1 AND i.pruned = 0 AND f.active ORDER BY i.id LIMIT 1",
	[ST_PROMOTE_SET] = "UPDATE items SET dup_of = nullif(?2, id)"
			   " WHERE dup_of = ?1 OR id = ?1 OR id = ?2",
	[ST_SET_DUP] = "UPDATE items SET dup_of = ?2 WHERE id = ?1",
	[ST_UPDATE_FEED] =
	    "UPDATE feeds SET last_fetch = ?2, next_poll = ?3, http_status = ?4, error = ?5,"
	    " etag = CASE WHEN ?6 THEN ?7 ELSE etag END,"
	    " last_modified = CASE WHEN ?6 THEN ?8 ELSE last_modified END,"
	    " title = coalesce(?9, title), link = coalesce(?10, link),"
	    " feed_id_text = coalesce(?12, feed_id_text),"
	    " warning = CASE WHEN ?5 IS NULL AND ?13 THEN ?14 ELSE warning END,"
	    " item_count = item_count + ?11 WHERE id = ?1",
	[ST_FEED_STATE] = "SELECT etag, last_modified, last_fetch, next_poll FROM feeds WHERE id = ?1",
	[ST_LIST_FEEDS] = "SELECT name, url, title, link, last_fetch, next_poll, http_status, error,"
			  " item_count, identity_by_link, identity_note, warning"
			  " FROM feeds WHERE active ORDER BY name",
	[ST_ITEM_TOTAL] = "SELECT coalesce(sum(item_count), 0) FROM feeds WHERE active",
	[ST_VIA] = "SELECT f.name, f.title, f.link, f.url, f.feed_id_text, i.link"
		   " FROM items i JOIN feeds f ON f.id = i.feed_id"
		   " WHERE i.dup_of = ?1 AND i.pruned = 0 AND f.active ORDER BY i.id",
	[ST_ITEM_BY_ID] = "SELECT " STORE_STORY_COLUMNS " FROM items i JOIN feeds f"
			  " ON f.id = i.feed_id WHERE i.id = ?1",
	[ST_CHANGES] = "SELECT i.id, coalesce(i.dup_of, i.id), i.seq FROM items i"
		       " JOIN feeds f ON f.id = i.feed_id"
		       " WHERE i.seq > ?1 AND i.pruned = 0 AND f.active ORDER BY i.seq LIMIT ?2",
	[ST_PRUNE_FEEDS] = "SELECT id, keep, max_items FROM feeds WHERE keep > 0 OR max_items > 0",
	[ST_PRUNE_OLD] = "SELECT id FROM items WHERE feed_id = ?1 AND pruned = 0 AND sort_time < ?2"
			 " LIMIT ?3",
	[ST_PRUNE_OVER] = "SELECT id FROM items WHERE feed_id = ?1 AND pruned = 0"
			  " ORDER BY sort_time DESC, id DESC LIMIT ?3 OFFSET ?2",
	/* A tombstone keeps what identity needs (identity, link, story) and nothing else. */
	[ST_TOMBSTONE] = "UPDATE items SET pruned = 1, guid = NULL, title = NULL, author = NULL,"
			 " summary = NULL, content = NULL, comments = NULL, extra = NULL"
			 " WHERE id = ?1 AND pruned = 0 RETURNING feed_id, dup_of",
	[ST_FEED_UNCOUNT] = "UPDATE feeds SET item_count = max(item_count - ?2, 0) WHERE id = ?1",
};

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
	/*
	 * 1 -> 2: every item field the parser fills, the digest that makes an
	 * unchanged item cost no write, cross-feed stories, tombstones, the
	 * change sequence, per-feed policy and identity mode.  The old time
	 * index becomes partial indexes over what output and retention read.
	 */
	"ALTER TABLE feeds ADD COLUMN feed_id_text TEXT;"
	"ALTER TABLE feeds ADD COLUMN merge INTEGER NOT NULL DEFAULT 1;"
	"ALTER TABLE feeds ADD COLUMN keep INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE feeds ADD COLUMN max_items INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE feeds ADD COLUMN identity_by_link INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE feeds ADD COLUMN identity_note TEXT;"
	"ALTER TABLE items ADD COLUMN comments TEXT;"
	"ALTER TABLE items ADD COLUMN id_is_permalink INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE items ADD COLUMN extra TEXT;"
	"ALTER TABLE items ADD COLUMN digest TEXT;"
	"ALTER TABLE items ADD COLUMN story TEXT;"
	"ALTER TABLE items ADD COLUMN dup_of INTEGER;"
	"ALTER TABLE items ADD COLUMN pruned INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE items ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
	"UPDATE items SET seq = id;"
	"DROP INDEX items_by_time;"
	"CREATE INDEX items_stories ON items(sort_time DESC, id DESC)"
	" WHERE pruned = 0 AND dup_of IS NULL;"
	"CREATE INDEX items_by_feed ON items(feed_id, sort_time DESC, id DESC) WHERE pruned = 0;"
	"CREATE INDEX items_by_seq ON items(seq);"
	"CREATE INDEX items_by_story ON items(story) WHERE story IS NOT NULL;"
	"CREATE INDEX items_dups ON items(dup_of) WHERE dup_of IS NOT NULL;",
	/* 2 -> 3: scheduling state kept across restarts (store_feed_poll_*). */
	"ALTER TABLE feeds ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE feeds ADD COLUMN move_candidate TEXT;"
	"ALTER TABLE feeds ADD COLUMN move_seen INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE feeds ADD COLUMN moved_from TEXT;"
	"ALTER TABLE feeds ADD COLUMN moved_url TEXT;"
	"ALTER TABLE feeds ADD COLUMN gone_url TEXT;",
	/* 3 -> 4: why the last document read was ill-formed (store_fetch.warning). */
	"ALTER TABLE feeds ADD COLUMN warning TEXT;",
};
#define STORE_NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

static int store_backfill_stories(struct store *s, char *err, size_t errlen);

/*
 * What a migration needs beyond SQL, run in its transaction after the SQL:
 * migration_code[v] for the step v -> v + 1, or NULL.
 */
static int (*const migration_code[])(struct store *, char *, size_t) = {
	[1] = store_backfill_stories,
};
#define STORE_NMIGRATION_CODE ((int)(sizeof migration_code / sizeof migration_code[0]))

int
store_fail(struct store *s, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(s->db));
	return -1;
}

sqlite3_stmt *
store_stmt(struct store *s, enum stmt which)
{
	sqlite3_stmt *st = s->stmt[which];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

int
store_step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

char *
store_column_strdup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t != NULL ? xstrdup((const char *)t) : NULL;
}

void
store_bind_text_or_null(sqlite3_stmt *st, int col, const char *text)
{
	if (text != NULL)
		sqlite3_bind_text(st, col, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, col);
}

void
store_bind_time_or_null(sqlite3_stmt *st, int col, time_t t)
{
	if (t > 0)
		sqlite3_bind_int64(st, col, (sqlite3_int64)t);
	else
		sqlite3_bind_null(st, col);
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

static int64_t
store_pragma_int(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int
store_migrate(struct store *s, char *err, size_t errlen)
{
	int v = (int)store_pragma_int(s, "PRAGMA user_version");

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
		if (rc == 0 && v < STORE_NMIGRATION_CODE && migration_code[v] != NULL)
			rc = migration_code[v](s, err, errlen);
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

/*
 * A database made before incremental vacuum was switched on is converted
 * once; VACUUM rewrites the file, so it cannot share a transaction.
 */
static int
store_enable_reclaim(struct store *s, char *err, size_t errlen)
{
	if (store_pragma_int(s, "PRAGMA auto_vacuum") == 2)
		return 0;
	log_info("database: switching on incremental vacuum (a one-time rewrite of the file)");
	return store_exec(s, "PRAGMA auto_vacuum = INCREMENTAL; VACUUM", err, errlen);
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

/* The instance id, made on first open; later opens only read it (a locked file is no obstacle). */
static int
store_load_instance(struct store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	char uuid[40];

	for (int attempt = 0; attempt < 2; attempt++) {
		int rc;

		if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'instance_id'", -1,
			&st, NULL) != SQLITE_OK)
			return store_fail(s, err, errlen, "instance id");
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			snprintf(s->instance_id, sizeof s->instance_id, "%s",
			    (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		if (rc == SQLITE_ROW)
			return 0;
		store_make_uuid(uuid);
		if (sqlite3_prepare_v2(s->db,
			"INSERT INTO meta(key, value) VALUES ('instance_id', ?1) ON CONFLICT DO NOTHING",
			-1, &st, NULL) != SQLITE_OK)
			return store_fail(s, err, errlen, "instance id");
		sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return store_fail(s, err, errlen, "instance id");
	}
	return store_fail(s, err, errlen, "instance id");
}

/* Where the change sequence and the output's Last-Modified start after a restart. */
static void
store_load_counters(struct store *s)
{
	sqlite3_stmt *st;

	s->generation = 1;
	s->last_change = time(NULL);
	if (sqlite3_prepare_v2(s->db,
		"SELECT seq, coalesce(changed_at, first_seen) FROM items ORDER BY seq DESC LIMIT 1",
		-1, &st, NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(st) == SQLITE_ROW) {
		s->seq = sqlite3_column_int64(st, 0);
		s->last_change = (time_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
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
	sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	/*
	 * auto_vacuum first: a new database takes it only before WAL writes its
	 * header (an old one is converted by store_enable_reclaim).
	 */
	if (store_exec(s,
		"PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL;"
		" PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
		err, errlen) != 0 ||
	    store_migrate(s, err, errlen) != 0 || store_enable_reclaim(s, err, errlen) != 0 ||
	    store_load_instance(s, err, errlen) != 0)
		goto fail;
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
			NULL) != SQLITE_OK) {
			store_fail(s, err, errlen, "preparing statements");
			goto fail;
		}
	store_load_counters(s);
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
	for (int i = 0; i < STORE_QUERY_CACHE; i++) {
		sqlite3_finalize(s->cache[i].stmt);
		free(s->cache[i].sql);
	}
	sqlite3_close(s->db);
	free(s);
}

const char *
store_instance_id(const struct store *s)
{
	return s->instance_id;
}

struct sqlite3 *
store_sqlite(struct store *s)
{
	return s->db;
}

int64_t
store_last_seq(const struct store *s)
{
	return s->seq;
}

uint64_t
store_generation(const struct store *s)
{
	return s->generation;
}

time_t
store_last_change(const struct store *s)
{
	return s->last_change;
}

int
store_promote(struct store *s, int64_t rep)
{
	sqlite3_stmt *st = store_stmt(s, ST_PROMOTE_PICK);
	int64_t next = 0;
	int rc;

	sqlite3_bind_int64(st, 1, rep);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		next = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : -1;
	st = store_stmt(s, ST_PROMOTE_SET);
	sqlite3_bind_int64(st, 1, rep);
	sqlite3_bind_int64(st, 2, next);
	return store_step_done(st);
}

/* Representatives in retired feeds hand their stories to a copy in an active feed. */
static int
store_promote_retired(struct store *s)
{
	sqlite3_stmt *st;
	int64_t *reps = NULL;
	size_t n = 0;
	int rc = 0;

	if (sqlite3_prepare_v2(s->db,
		"SELECT i.id FROM items i JOIN feeds f ON f.id = i.feed_id"
		" WHERE NOT f.active AND i.dup_of IS NULL AND i.pruned = 0"
		" AND EXISTS (SELECT 1 FROM items d WHERE d.dup_of = i.id)",
		-1, &st, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		reps = xreallocarray(reps, n + 1, sizeof *reps);
		reps[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = store_promote(s, reps[i]);
	free(reps);
	return rc;
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
		" ON CONFLICT(name) DO UPDATE SET url = excluded.url, active = 1,"
		/* a new URL is another server's resource: the old one's validators mean nothing there */
		" etag = iif(url = excluded.url, etag, NULL),"
		" last_modified = iif(url = excluded.url, last_modified, NULL) RETURNING id",
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
	rc = store_promote_retired(s);
out:
	if (rc != 0)
		log_warnx("database: registering feeds: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(up);
	sqlite3_exec(s->db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
	s->generation++;
	return rc;
}

int
store_set_feed_policy(struct store *s, const char *name, const struct store_feed_policy *p)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db,
		"UPDATE feeds SET merge = ?2, keep = ?3, max_items = ?4 WHERE name = ?1", -1, &st,
		NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, p->merge);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)p->keep);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)p->max_items);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_warnx("database: feed %s: %s", name, sqlite3_errmsg(s->db));
		return -1;
	}
	return sqlite3_changes(s->db) == 1 ? 0 : -1;
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

/* The fallback identity: a hash of what the item says. */
static void
store_hash_identity(const struct item *it, char *out, size_t outlen)
{
	const char *parts[3];
	char date[24], hex[33];

	snprintf(date, sizeof date, "%lld", (long long)(it->published ? it->published : it->updated));
	parts[0] = it->title;
	parts[1] = date;
	parts[2] = it->content != NULL ? it->content : it->summary;
	hash_hex(parts, 3, hex);
	snprintf(out, outlen, "hash:%s", hex);
}

/* The identity of `it` in its feed; `by_link` once the feed's guids proved useless. */
static void
store_identity(const struct item *it, bool by_link, char *out, size_t outlen)
{
	if (!by_link && it->id != NULL && it->id[0] != '\0')
		snprintf(out, outlen, "%s", it->id);
	else if (it->link != NULL && it->link[0] != '\0')
		snprintf(out, outlen, "%s", it->link);
	else
		store_hash_identity(it, out, outlen);
}

void
store_item_identity(const struct item *it, char *out, size_t outlen)
{
	store_identity(it, false, out, outlen);
}

/* When an item sorts: its own date when plausible, else when we first saw it. */
static time_t
store_sort_time(const struct item *it, time_t first_seen)
{
	time_t t = it->published ? it->published : it->updated;

	return t > 0 && t <= first_seen + STORE_FUTURE_SLACK ? t : first_seen;
}

static json_t *
store_json_str(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

char *
store_extra_encode(const struct item *it)
{
	json_t *o, *a;
	char *text;

	if (it->nauthors + it->ncategories + it->nlinks + it->nenclosures == 0)
		return NULL;
	o = json_object();
	a = json_array();
	for (size_t i = 0; i < it->nauthors; i++)
		json_array_append_new(a, json_pack("[ooo]", store_json_str(it->authors[i].name),
		    store_json_str(it->authors[i].email), store_json_str(it->authors[i].uri)));
	json_object_set_new(o, "a", a);
	a = json_array();
	for (size_t i = 0; i < it->ncategories; i++)
		json_array_append_new(a, json_pack("[ooo]", store_json_str(it->categories[i].term),
		    store_json_str(it->categories[i].scheme), store_json_str(it->categories[i].label)));
	json_object_set_new(o, "c", a);
	a = json_array();
	for (size_t i = 0; i < it->nlinks; i++) {
		const struct item_link *l = &it->links[i];

		json_array_append_new(a, json_pack("[iooooI]", (int)l->rel, store_json_str(l->rel_name),
		    store_json_str(l->href), store_json_str(l->type), store_json_str(l->title),
		    (json_int_t)l->length));
	}
	json_object_set_new(o, "l", a);
	a = json_array();
	for (size_t i = 0; i < it->nenclosures; i++) {
		const struct item_enclosure *e = &it->enclosures[i];

		json_array_append_new(a, json_pack("[iooI]", (int)e->kind, store_json_str(e->url),
		    store_json_str(e->type), (json_int_t)e->length));
	}
	json_object_set_new(o, "e", a);
	/* Parser output is valid UTF-8; were it not, json_string gave null and we drop that string. */
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

static char *
store_json_dup(const json_t *arr, size_t i)
{
	const char *v = json_string_value(json_array_get(arr, i));

	return v != NULL ? xstrdup(v) : NULL;
}

void
store_extra_decode(const char *text, struct item *it)
{
	json_t *o = text != NULL ? json_loads(text, 0, NULL) : NULL;
	json_t *a, *e;
	size_t i;

	if (o == NULL)
		return;
	a = json_object_get(o, "a");
	it->authors = xcalloc(json_array_size(a) + 1, sizeof *it->authors);
	json_array_foreach(a, i, e) {
		struct item_person *p = &it->authors[it->nauthors++];

		p->name = store_json_dup(e, 0);
		p->email = store_json_dup(e, 1);
		p->uri = store_json_dup(e, 2);
	}
	a = json_object_get(o, "c");
	it->categories = xcalloc(json_array_size(a) + 1, sizeof *it->categories);
	json_array_foreach(a, i, e) {
		struct item_category *c = &it->categories[it->ncategories++];

		c->term = store_json_dup(e, 0);
		c->scheme = store_json_dup(e, 1);
		c->label = store_json_dup(e, 2);
	}
	a = json_object_get(o, "l");
	it->links = xcalloc(json_array_size(a) + 1, sizeof *it->links);
	json_array_foreach(a, i, e) {
		struct item_link *l = &it->links[it->nlinks++];

		l->rel = (enum link_rel)json_integer_value(json_array_get(e, 0));
		l->rel_name = store_json_dup(e, 1);
		l->href = store_json_dup(e, 2);
		l->type = store_json_dup(e, 3);
		l->title = store_json_dup(e, 4);
		l->length = (int64_t)json_integer_value(json_array_get(e, 5));
	}
	a = json_object_get(o, "e");
	it->enclosures = xcalloc(json_array_size(a) + 1, sizeof *it->enclosures);
	json_array_foreach(a, i, e) {
		struct item_enclosure *en = &it->enclosures[it->nenclosures++];

		en->kind = (enum enclosure_kind)json_integer_value(json_array_get(e, 0));
		en->url = store_json_dup(e, 1);
		en->type = store_json_dup(e, 2);
		en->length = (int64_t)json_integer_value(json_array_get(e, 3));
	}
	json_decref(o);
}

/* An item ready to be written: what it says, encoded once. */
struct store_row {
	const struct item *it;
	char identity[STORE_IDENTITY_MAX];
	char *extra;
	char *story;
	char digest[33];
};

static void
store_row_init(struct store_row *r, const struct item *it, bool by_link)
{
	char flags[32], dates[48];
	const char *parts[13];

	r->it = it;
	store_identity(it, by_link, r->identity, sizeof r->identity);
	r->extra = store_extra_encode(it);
	r->story = urlnorm_story_key(it->link);
	snprintf(flags, sizeof flags, "%d/%d/%d", (int)it->summary_type, (int)it->content_type,
	    (int)it->id_is_permalink);
	snprintf(dates, sizeof dates, "%lld/%lld", (long long)it->published,
	    (long long)it->updated);
	parts[0] = it->id;
	parts[1] = it->title;
	parts[2] = it->link;
	parts[3] = it->author;
	parts[4] = it->summary;
	parts[5] = it->content;
	parts[6] = it->comments;
	parts[7] = flags;
	parts[8] = dates;
	parts[9] = r->extra;
	hash_hex(parts, 10, r->digest);
}

static void
store_row_clear(struct store_row *r)
{
	free(r->extra);
	free(r->story);
}

/* Bind ?1..?16 of ST_INSERT_ITEM / ST_UPDATE_ITEM (the ITEM_COLUMNS). */
static void
store_bind_item(sqlite3_stmt *st, const struct store_row *r, time_t first_seen)
{
	const struct item *it = r->it;

	store_bind_text_or_null(st, 1, it->id);
	store_bind_text_or_null(st, 2, it->title);
	store_bind_text_or_null(st, 3, it->link);
	store_bind_text_or_null(st, 4, it->author);
	store_bind_text_or_null(st, 5, it->summary);
	sqlite3_bind_int(st, 6, (int)it->summary_type);
	store_bind_text_or_null(st, 7, it->content);
	sqlite3_bind_int(st, 8, (int)it->content_type);
	store_bind_time_or_null(st, 9, it->published);
	store_bind_time_or_null(st, 10, it->updated);
	store_bind_text_or_null(st, 11, it->comments);
	sqlite3_bind_int(st, 12, it->id_is_permalink);
	store_bind_text_or_null(st, 13, r->extra);
	sqlite3_bind_text(st, 14, r->digest, -1, SQLITE_STATIC);
	store_bind_text_or_null(st, 15, r->story);
	sqlite3_bind_int64(st, 16, (sqlite3_int64)store_sort_time(it, first_seen));
}

/* The feed a fetch belongs to, as storing it needs to know. */
struct store_feed_ctx {
	int64_t id;
	bool merge;
	bool by_link;
	char *name;
	bool info_changed;
	char *collision; /* set when its guids proved bad: the reason */
};

/* The representative of `story` in another feed, or 0. */
static int64_t
store_find_rep(struct store *s, const struct store_feed_ctx *fc, const char *story)
{
	sqlite3_stmt *st;
	int64_t rep = 0;

	if (!fc->merge || story == NULL)
		return 0;
	st = store_stmt(s, ST_FIND_REP);
	sqlite3_bind_text(st, 1, story, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, fc->id);
	if (sqlite3_step(st) == SQLITE_ROW)
		rep = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rep;
}

/* Insert a new item; *merged says whether it joined another feed's story. */
static int
store_insert(struct store *s, const struct store_feed_ctx *fc, const struct store_row *r,
    time_t now, bool *merged)
{
	sqlite3_stmt *st = store_stmt(s, ST_INSERT_ITEM);
	int64_t rep = store_find_rep(s, fc, r->story);
	int rc;

	store_bind_item(st, r, now);
	sqlite3_bind_int64(st, 17, fc->id);
	sqlite3_bind_text(st, 18, r->identity, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 19, (sqlite3_int64)now);
	if (rep != 0)
		sqlite3_bind_int64(st, 20, rep);
	*merged = rep != 0;
	sqlite3_bind_int64(st, 21, ++s->seq);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* What ST_FIND_ITEM found. */
struct store_found {
	int64_t id;
	bool digest_null;
	bool same;
	bool pruned;
	bool was_rep;
	bool story_changed;
	bool collision;
	time_t first_seen;
};

static bool
store_col_differs(sqlite3_stmt *st, int col, const char *v)
{
	const char *old = (const char *)sqlite3_column_text(st, col);

	return old != NULL && v != NULL && strcmp(old, v) != 0;
}

static bool
store_col_equal(sqlite3_stmt *st, int col, const char *v)
{
	const char *old = (const char *)sqlite3_column_text(st, col);

	return (old == NULL && v == NULL) || (old != NULL && v != NULL && strcmp(old, v) == 0);
}

/* Look `r` up by identity; returns 1 when found (filling *f), 0 when new, -1 on error. */
static int
store_find(struct store *s, const struct store_feed_ctx *fc, const struct store_row *r,
    struct store_found *f)
{
	sqlite3_stmt *st = store_stmt(s, ST_FIND_ITEM);
	const struct item *it = r->it;
	int rc;

	memset(f, 0, sizeof *f);
	sqlite3_bind_int64(st, 1, fc->id);
	sqlite3_bind_text(st, 2, r->identity, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	f->id = sqlite3_column_int64(st, 0);
	f->digest_null = sqlite3_column_type(st, 1) == SQLITE_NULL;
	f->same = store_col_equal(st, 1, r->digest);
	f->pruned = sqlite3_column_int(st, 4) != 0;
	f->was_rep = sqlite3_column_type(st, 5) == SQLITE_NULL;
	f->story_changed = !store_col_equal(st, 6, r->story);
	f->first_seen = (time_t)sqlite3_column_int64(st, 7);
	/* A row stored before digests (schema 1) is the same when what it kept is. */
	if (f->digest_null)
		f->same = store_col_equal(st, 3, it->title) && store_col_equal(st, 2, it->link) &&
		    store_col_equal(st, 8, it->content) && store_col_equal(st, 9, it->summary) &&
		    sqlite3_column_int64(st, 10) == (sqlite3_int64)it->published &&
		    sqlite3_column_int64(st, 11) == (sqlite3_int64)it->updated;
	/* One guid, another link and another title: not an update but another story. */
	f->collision = !fc->by_link && !f->same && !f->pruned && store_col_differs(st, 2, it->link) &&
	    store_col_differs(st, 3, it->title);
	sqlite3_reset(st);
	return 1;
}

static int
store_update(struct store *s, const struct store_feed_ctx *fc, const struct store_row *r,
    const struct store_found *f, time_t now)
{
	sqlite3_stmt *st = store_stmt(s, ST_UPDATE_ITEM);

	store_bind_item(st, r, f->first_seen);
	sqlite3_bind_int64(st, 17, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 18, ++s->seq);
	sqlite3_bind_int64(st, 19, f->id);
	if (store_step_done(st) != 0)
		return -1;
	if (!f->story_changed)
		return 0;
	/* Its link now names another story: it leaves the old one, and may join a new one. */
	if (f->was_rep && store_promote(s, f->id) != 0)
		return -1;
	st = store_stmt(s, ST_SET_DUP);
	sqlite3_bind_int64(st, 1, f->id);
	if (store_find_rep(s, fc, r->story) != 0)
		sqlite3_bind_int64(st, 2, store_find_rep(s, fc, r->story));
	return store_step_done(st);
}

static int
store_backfill(struct store *s, const struct store_row *r, const struct store_found *f)
{
	sqlite3_stmt *st = store_stmt(s, ST_BACKFILL_DIGEST);

	sqlite3_bind_int64(st, 1, f->id);
	sqlite3_bind_text(st, 2, r->digest, -1, SQLITE_STATIC);
	store_bind_text_or_null(st, 3, r->extra);
	store_bind_text_or_null(st, 4, r->story);
	return store_step_done(st);
}

/* Store one item; counts it in `stats`.  Returns 0, -1 on error, 1 on a guid collision. */
static int
store_put_item(struct store *s, struct store_feed_ctx *fc, const struct item *it, time_t now,
    struct store_fetch_stats *stats)
{
	struct store_row r;
	struct store_found f;
	bool merged = false;
	int rc;

	store_row_init(&r, it, fc->by_link);
	rc = store_find(s, fc, &r, &f);
	if (rc == 0) {
		rc = store_insert(s, fc, &r, now, &merged);
		stats->added += rc == 0;
		stats->merged += rc == 0 && merged;
	} else if (rc > 0 && (f.pruned || f.same)) {
		/* A tombstone keeps a pruned item out; an unchanged one costs nothing. */
		rc = f.digest_null && !f.pruned ? store_backfill(s, &r, &f) : 0;
		stats->unchanged++;
	} else if (rc > 0 && f.collision) {
		free(fc->collision);
		fc->collision = xasprintf("guid \"%.200s\" names different items (\"%.200s\" and"
					  " another); items are told apart by link",
		    it->id, it->link);
		rc = 1;
	} else if (rc > 0) {
		rc = store_update(s, fc, &r, &f, now);
		stats->updated += rc == 0;
	}
	store_row_clear(&r);
	return rc;
}

static int
store_cmp_items_by_id(const void *a, const void *b)
{
	const struct item *x = *(const struct item *const *)a, *y = *(const struct item *const *)b;

	return strcmp(x->id, y->id);
}

/* Two items of one fetch with the same guid and different links: the guids are bad. */
static char *
store_batch_collision(struct item *const *items, size_t n)
{
	const struct item **v = xcalloc(n + 1, sizeof(const struct item *));
	char *why = NULL;
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (items[i]->id != NULL && items[i]->id[0] != '\0' && items[i]->link != NULL)
			v[m++] = items[i];
	qsort(v, m, sizeof(const struct item *), store_cmp_items_by_id);
	for (size_t i = 1; why == NULL && i < m; i++)
		if (strcmp(v[i - 1]->id, v[i]->id) == 0 && strcmp(v[i - 1]->link, v[i]->link) != 0)
			why = xasprintf("guid \"%.200s\" names different items (\"%.200s\" and"
					" \"%.200s\"); items are told apart by link",
			    v[i]->id, v[i - 1]->link, v[i]->link);
	free(v);
	return why;
}

/*
 * The feed's guids are bad: switch it to identity by link, re-keying what it
 * stored (a row whose link another row already holds keeps its old key).
 */
static int
store_switch_to_links(struct store *s, struct store_feed_ctx *fc)
{
	sqlite3_stmt *st;
	int rc;

	log_warnx("feed %s: %s", fc->name, fc->collision);
	if (sqlite3_prepare_v2(s->db,
		"UPDATE feeds SET identity_by_link = 1, identity_note = ?2 WHERE id = ?1;", -1, &st,
		NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, fc->id);
	sqlite3_bind_text(st, 2, fc->collision, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || sqlite3_prepare_v2(s->db,
		"UPDATE OR IGNORE items SET identity = link WHERE feed_id = ?1 AND link IS NOT NULL",
		-1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, fc->id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	fc->by_link = true;
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
store_load_feed_ctx(struct store *s, const struct store_fetch *fx, struct store_feed_ctx *fc)
{
	sqlite3_stmt *st = store_stmt(s, ST_FEED_INFO);
	int rc;

	memset(fc, 0, sizeof *fc);
	fc->id = fx->feed_id;
	sqlite3_bind_int64(st, 1, fx->feed_id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fc->merge = sqlite3_column_int(st, 0) != 0;
		fc->by_link = sqlite3_column_int(st, 1) != 0;
		fc->name = store_column_strdup(st, 2);
		if (fx->info != NULL)
			fc->info_changed = store_col_differs(st, 3, fx->info->title) ||
			    store_col_differs(st, 4, fx->info->link) ||
			    store_col_differs(st, 5, fx->info->id) ||
			    (sqlite3_column_type(st, 3) == SQLITE_NULL && fx->info->title != NULL);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -1;
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
		store_bind_text_or_null(st, 12, fx->info->id);
	}
	sqlite3_bind_int64(st, 11, (sqlite3_int64)added);
	/* a parsed document says whether it was well-formed; a 304 says nothing */
	sqlite3_bind_int(st, 13, !fx->not_modified);
	store_bind_text_or_null(st, 14, fx->warning);
	return store_step_done(st);
}

/*
 * One attempt at storing the fetch, in its own transaction: 0 when
 * committed, -1 on error (the transaction may still be open), 1 when the
 * guids proved bad half-way: the transaction was rolled back and
 * fc->collision says why; the next attempt switches the feed to links first.
 */
static int
store_try_fetch(struct store *s, const struct store_fetch *fx, struct store_feed_ctx *fc,
    struct store_fetch_stats *stats)
{
	char *pending = fc->collision;
	int rc = 0;

	free(fc->name);
	memset(fc, 0, sizeof *fc);
	memset(stats, 0, sizeof *stats);
	rc = store_step_done(store_stmt(s, ST_BEGIN)) != 0 || store_load_feed_ctx(s, fx, fc) != 0;
	fc->collision = pending;
	if (rc != 0)
		return -1;
	if (!fc->by_link && fc->collision == NULL)
		fc->collision = store_batch_collision(fx->items, fx->nitems);
	if (!fc->by_link && fc->collision != NULL && store_switch_to_links(s, fc) != 0)
		return -1;
	for (size_t i = 0; rc == 0 && i < fx->nitems; i++)
		rc = store_put_item(s, fc, fx->items[i], fx->fetched_at, stats);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		/* Rare: a whole new transaction is cheaper than a savepoint on every fetch. */
		return store_step_done(store_stmt(s, ST_ROLLBACK)) == 0 ? 1 : -1;
	}
	if (store_update_feed(s, fx, stats->added) != 0 ||
	    store_step_done(store_stmt(s, ST_COMMIT)) != 0)
		return -1;
	return 0;
}

int
store_commit_fetch(struct store *s, const struct store_fetch *fetch,
    struct store_fetch_stats *stats, char *err, size_t errlen)
{
	struct store_feed_ctx fc;
	int64_t seq0 = s->seq;
	int rc = 1;

	memset(&fc, 0, sizeof fc);
	for (int attempt = 0; rc == 1 && attempt < 2; attempt++) {
		s->seq = seq0;
		rc = store_try_fetch(s, fetch, &fc, stats);
	}
	if (rc != 0) {
		store_fail(s, err, errlen, "storing the fetch");
		store_step_done(store_stmt(s, ST_ROLLBACK));
		s->seq = seq0;
		memset(stats, 0, sizeof *stats);
	} else if (stats->added + stats->updated > 0 || fc.info_changed || fc.collision != NULL) {
		s->generation++;
		s->last_change = fetch->fetched_at;
	}
	free(fc.name);
	free(fc.collision);
	return rc == 0 ? 0 : -1;
}

/*
 * Migration 1 -> 2: stories of items stored before there were stories.
 * Rows are visited in id order and only their story and dup_of change, so
 * the cursor is not disturbed; the oldest item of a story represents it.
 */
static int
store_backfill_stories(struct store *s, char *err, size_t errlen)
{
	sqlite3_stmt *rd, *wr;
	int rc = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT id, link FROM items WHERE link IS NOT NULL ORDER BY id",
		-1, &rd, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db,
		"UPDATE items SET story = ?2, dup_of = (SELECT r.id FROM items r"
		" WHERE r.story = ?2 AND r.feed_id != items.feed_id AND r.dup_of IS NULL"
		" AND r.id < items.id ORDER BY r.id LIMIT 1) WHERE id = ?1",
		-1, &wr, NULL) != SQLITE_OK) {
		sqlite3_finalize(rd);
		return store_fail(s, err, errlen, "migration 2");
	}
	while (rc == 0 && sqlite3_step(rd) == SQLITE_ROW) {
		char *story = urlnorm_story_key((const char *)sqlite3_column_text(rd, 1));

		sqlite3_reset(wr);
		sqlite3_bind_int64(wr, 1, sqlite3_column_int64(rd, 0));
		store_bind_text_or_null(wr, 2, story);
		if (sqlite3_step(wr) != SQLITE_DONE)
			rc = store_fail(s, err, errlen, "migration 2");
		free(story);
	}
	sqlite3_finalize(rd);
	sqlite3_finalize(wr);
	return rc;
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

int
store_disk_usage(struct store *s, int64_t *main_bytes, int64_t *wal_bytes)
{
	const char *path = sqlite3_db_filename(s->db, "main");
	struct stat st;
	char *wal;

	*main_bytes = *wal_bytes = 0;
	if (path == NULL || path[0] == '\0' || stat(path, &st) != 0)
		return -1;
	*main_bytes = (int64_t)st.st_size;
	wal = xasprintf("%s-wal", path);
	if (stat(wal, &st) == 0)
		*wal_bytes = (int64_t)st.st_size;
	free(wal);
	return 0;
}
