/*
 * check_store.c: the SQLite store: schema and migrations, dedupe, bad guids,
 * stories across feeds, dates, retention, faults, queries, changes.
 */
#include <check.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/store.h"
#include "tests/testutil.h"

static char *dir;
static char *dbpath;
static struct store *st;
static int64_t feed_ids[2];

static void
setup(void)
{
	const char *names[] = {"alpha", "beta"};
	const char *urls[] = {"https://a.example/feed", "https://b.example/feed"};
	char err[256];

	dir = tu_mkdtemp();
	dbpath = xasprintf("%s/test.db", dir);
	st = store_open(dbpath, err, sizeof err);
	ck_assert_msg(st != NULL, "%s", err);
	ck_assert_int_eq(store_set_feeds(st, names, urls, 2, feed_ids), 0);
}

static void
teardown(void)
{
	store_close(st);
	tu_rmtree(dir);
	free(dbpath);
	free(dir);
}

static struct item *
mkitem(const char *id, const char *title, const char *link, time_t published)
{
	struct item *it = xcalloc(1, sizeof *it);

	it->id = id != NULL ? xstrdup(id) : NULL;
	it->title = title != NULL ? xstrdup(title) : NULL;
	it->link = link != NULL ? xstrdup(link) : NULL;
	it->published = published;
	return it;
}

/* Commit `n` items for feed `idx`; returns the stats. */
static struct store_fetch_stats
commit(int idx, struct item **items, size_t n, time_t now)
{
	struct store_fetch f = {0};
	struct store_fetch_stats stats;
	char err[256];

	f.feed_id = feed_ids[idx];
	f.fetched_at = now;
	f.next_poll = now + 60;
	f.http_status = 200;
	f.items = items;
	f.nitems = n;
	ck_assert_msg(store_commit_fetch(st, &f, &stats, err, sizeof err) == 0, "%s", err);
	return stats;
}

static int64_t
count_rows(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t n = -1;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

START_TEST(test_schema)
{
	ck_assert_int_eq(count_rows("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	ck_assert_uint_eq(strlen(store_instance_id(st)), 36);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM feeds"), 2);
}
END_TEST

START_TEST(test_dedupe_in_feed)
{
	struct item *items[3] = {
		mkitem("g1", "One", "https://a.example/1", 1000),
		mkitem("g1", "One", "https://a.example/1", 1000),
		mkitem("g2", "Two", "https://a.example/2", 2000),
	};
	struct store_fetch_stats s;

	s = commit(0, items, 3, 5000);
	ck_assert_uint_eq(s.added, 2);
	ck_assert_uint_eq(s.unchanged, 1);
	/* the same items again: nothing new, nothing written */
	s = commit(0, items, 3, 6000);
	ck_assert_uint_eq(s.added, 0);
	ck_assert_uint_eq(s.updated, 0);
	ck_assert_uint_eq(s.unchanged, 3);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM items"), 2);
	ck_assert_int_eq(count_rows("SELECT max(version) FROM items"), 1);
	ck_assert_int_eq(store_item_total(st), 2);
	for (int i = 0; i < 3; i++)
		item_free(items[i]);
}
END_TEST

START_TEST(test_update_not_copy)
{
	struct item *v1 = mkitem("g1", "Old title", "https://a.example/1", 1000);
	struct item *v2 = mkitem("g1", "New title", "https://a.example/1", 1000);
	struct store_query q = {.limit = 10};
	struct stored_item *out;
	struct store_fetch_stats s;
	size_t n;

	commit(0, &v1, 1, 5000);
	s = commit(0, &v2, 1, 6000);
	ck_assert_uint_eq(s.updated, 1);
	ck_assert_uint_eq(s.added, 0);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM items"), 1);
	ck_assert_int_eq(count_rows("SELECT changed_at FROM items"), 6000);
	ck_assert_int_eq(store_query_items(st, &q, &out, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(out[0].item.title, "New title");
	ck_assert_int_eq(out[0].first_seen, 5000);
	store_items_free(out, n);
	item_free(v1);
	item_free(v2);
}
END_TEST

START_TEST(test_identity)
{
	struct item *a = mkitem(NULL, "T", "https://a.example/x", 0);
	struct item *b = mkitem(NULL, "T", NULL, 0);
	struct item *c = mkitem(NULL, "T", NULL, 0);
	char ida[64], idb[64], idc[64];

	store_item_identity(a, ida, sizeof ida);
	ck_assert_str_eq(ida, "https://a.example/x");
	store_item_identity(b, idb, sizeof idb);
	ck_assert_msg(strncmp(idb, "hash:", 5) == 0, "%s", idb);
	free(c->title);
	c->title = xstrdup("U");
	store_item_identity(c, idc, sizeof idc);
	ck_assert_str_ne(idb, idc);
	item_free(a), item_free(b), item_free(c);
}
END_TEST

/* Same guid in two feeds: two items (cross-feed merging is by link, later). */
START_TEST(test_identity_is_per_feed)
{
	struct item *it = mkitem("shared", "S", "https://x.example/s", 1000);

	commit(0, &it, 1, 5000);
	commit(1, &it, 1, 5000);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM items"), 2);
	item_free(it);
}
END_TEST

START_TEST(test_order_and_future_dates)
{
	struct item *items[3] = {
		mkitem("old", "Old", NULL, 1000),
		mkitem("future", "Future", NULL, 999999999),
		mkitem("undated", "Undated", NULL, 0),
	};
	struct store_query q = {.limit = 10};
	struct stored_item *out;
	size_t n;

	commit(0, items, 3, 5000);
	ck_assert_int_eq(store_query_items(st, &q, &out, &n), 0);
	ck_assert_uint_eq(n, 3);
	/* future and undated sort at first seen (5000), ahead of the old one */
	ck_assert_int_eq(out[0].sort_time, 5000);
	ck_assert_int_eq(out[1].sort_time, 5000);
	ck_assert_str_eq(out[2].item.title, "Old");
	ck_assert_int_eq(out[2].sort_time, 1000);
	ck_assert_str_eq(out[2].source.name, "alpha");
	store_items_free(out, n);

	q.limit = 1;
	ck_assert_int_eq(store_query_items(st, &q, &out, &n), 0);
	ck_assert_uint_eq(n, 1);
	store_items_free(out, n);
	q.limit = 10;
	q.since = 2000;
	ck_assert_int_eq(store_query_items(st, &q, &out, &n), 0);
	ck_assert_uint_eq(n, 2);
	store_items_free(out, n);
	for (int i = 0; i < 3; i++)
		item_free(items[i]);
}
END_TEST

START_TEST(test_feed_state)
{
	struct store_fetch f = {.feed_id = feed_ids[0], .fetched_at = 100, .http_status = 200,
		.etag = "\"v1\"", .last_modified = "Mon, 03 Mar 2025 10:00:00 GMT"};
	struct store_feed_state fs;
	struct store_fetch_stats stats;
	struct store_feed_status *list;
	size_t n;
	char err[256];

	ck_assert_int_eq(store_commit_fetch(st, &f, &stats, err, sizeof err), 0);
	ck_assert_int_eq(store_feed_state(st, feed_ids[0], &fs), 0);
	ck_assert_str_eq(fs.etag, "\"v1\"");
	ck_assert_int_eq(fs.last_fetch, 100);
	store_feed_state_clear(&fs);

	/* a 304 without validators keeps them */
	f = (struct store_fetch){.feed_id = feed_ids[0], .fetched_at = 200, .http_status = 304,
		.not_modified = true};
	ck_assert_int_eq(store_commit_fetch(st, &f, &stats, err, sizeof err), 0);
	ck_assert_int_eq(store_feed_state(st, feed_ids[0], &fs), 0);
	ck_assert_str_eq(fs.etag, "\"v1\"");
	store_feed_state_clear(&fs);

	/* a failure is recorded and keeps the validators */
	f = (struct store_fetch){.feed_id = feed_ids[0], .fetched_at = 300, .http_status = 500,
		.error = "HTTP status 500"};
	ck_assert_int_eq(store_commit_fetch(st, &f, &stats, err, sizeof err), 0);
	ck_assert_int_eq(store_list_feeds(st, &list, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0].name, "alpha");
	ck_assert_str_eq(list[0].error, "HTTP status 500");
	ck_assert_int_eq(list[0].http_status, 500);
	ck_assert_int_eq(list[0].last_fetch, 300);
	ck_assert_ptr_null(list[1].error);
	store_feed_status_free(list, n);
	ck_assert_int_eq(store_feed_state(st, feed_ids[0], &fs), 0);
	ck_assert_str_eq(fs.etag, "\"v1\"");
	store_feed_state_clear(&fs);

	/* a 200 without an ETag replaces the old one with none */
	f = (struct store_fetch){.feed_id = feed_ids[0], .fetched_at = 400, .http_status = 200};
	ck_assert_int_eq(store_commit_fetch(st, &f, &stats, err, sizeof err), 0);
	ck_assert_int_eq(store_feed_state(st, feed_ids[0], &fs), 0);
	ck_assert_ptr_null(fs.etag);
	store_feed_state_clear(&fs);
	ck_assert_int_eq(store_list_feeds(st, &list, &n), 0);
	ck_assert_ptr_null(list[0].error);
	store_feed_status_free(list, n);
}
END_TEST

/* Items survive a reopen; a feed dropped from the config is hidden, not deleted. */
START_TEST(test_reopen_and_retire)
{
	struct item *it = mkitem("g", "Kept", NULL, 1000);
	const char *names[] = {"beta"};
	const char *urls[] = {"https://b.example/feed"};
	struct store_query q = {.limit = 10};
	struct stored_item *out;
	char err[256];
	int64_t id;
	size_t n;

	commit(0, &it, 1, 5000);
	store_close(st);
	st = store_open(dbpath, err, sizeof err);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(store_query_items(st, &q, &out, &n), 0);
	ck_assert_uint_eq(n, 1);
	store_items_free(out, n);
	ck_assert_int_eq(store_set_feeds(st, names, urls, 1, &id), 0);
	ck_assert_int_eq(id, feed_ids[1]);
	ck_assert_int_eq(store_query_items(st, &q, &out, &n), 0);
	ck_assert_uint_eq(n, 0);
	store_items_free(out, n);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM items"), 1);
	item_free(it);
}
END_TEST

START_TEST(test_wal_mode)
{
	ck_assert_int_eq(count_rows("SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
}
END_TEST

/* What the store answers for `q`; the caller frees with store_items_free. */
static struct stored_item *
query(const struct store_query *q, size_t *n)
{
	struct stored_item *out = NULL;

	ck_assert_int_eq(store_query_items(st, q, &out, n), 0);
	return out;
}

static size_t
count_stories(void)
{
	struct store_query q = {.limit = 1000};
	struct stored_item *out;
	size_t n;

	out = query(&q, &n);
	store_items_free(out, n);
	return n;
}

START_TEST(test_migrate_from_v1)
{
	struct store_query q = {.limit = 10};
	struct stored_item *out;
	struct item *again;
	struct store_fetch_stats s;
	char *sql = tu_read_file(tu_data("store/v1.sql"), NULL);
	char err[256];
	sqlite3 *db;
	size_t n;

	store_close(st);
	tu_rmtree(dir);
	free(dir);
	free(dbpath);
	dir = tu_mkdtemp();
	dbpath = xasprintf("%s/v1.db", dir);
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	free(sql);

	st = store_open(dbpath, err, sizeof err);
	ck_assert_msg(st != NULL, "%s", err);
	ck_assert_int_eq(count_rows("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	ck_assert_int_eq(count_rows("PRAGMA auto_vacuum"), 2);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM items"), 3);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check != 'ok'"), 0);
	ck_assert_str_eq(store_instance_id(st), "5b0e6a52-6c1a-4bb0-9d0e-7d7d1f9f4a11");
	/* the two spellings of one link became one story with two sources */
	out = query(&q, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(out[0].item.title, "Alpha only");
	ck_assert_str_eq(out[1].item.title, "Shared story");
	ck_assert_str_eq(out[1].source.name, "alpha");
	ck_assert_uint_eq(out[1].nvia, 1);
	ck_assert_str_eq(out[1].via[0].name, "beta");
	store_items_free(out, n);
	ck_assert_int_eq(store_last_seq(st), 3);

	/* an item stored before digests, seen again unchanged, is not an update */
	feed_ids[0] = 1;
	again = mkitem("a-2", "Alpha only", "https://a.example/2", 2000);
	s = commit(0, &again, 1, 9000);
	ck_assert_uint_eq(s.unchanged, 1);
	ck_assert_uint_eq(s.updated, 0);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM items WHERE digest IS NULL"), 2);
	item_free(again);
}
END_TEST

/* Every field the parser fills comes back as it went in. */
START_TEST(test_all_fields_round_trip)
{
	struct item *it = mkitem("urn:x:1", "Full", "https://a.example/full", 1000);
	struct store_query q = {.limit = 10};
	struct stored_item *out;
	size_t n;

	it->id_is_permalink = true;
	it->comments = xstrdup("https://a.example/full#comments");
	it->author = xstrdup("Ann");
	it->summary = xstrdup("<p>sum</p>");
	it->summary_type = TEXT_HTML;
	it->content = xstrdup("body");
	it->updated = 1100;
	it->nauthors = 2;
	it->authors = xcalloc(2, sizeof *it->authors);
	it->authors[0].name = xstrdup("Ann");
	it->authors[0].email = xstrdup("ann@a.example");
	it->authors[1].uri = xstrdup("https://bob.example/");
	it->ncategories = 1;
	it->categories = xcalloc(1, sizeof *it->categories);
	it->categories[0].term = xstrdup("linux");
	it->categories[0].scheme = xstrdup("https://a.example/tags");
	it->categories[0].label = xstrdup("Linux");
	it->nlinks = 1;
	it->links = xcalloc(1, sizeof *it->links);
	it->links[0].rel = LINK_OTHER;
	it->links[0].rel_name = xstrdup("license");
	it->links[0].href = xstrdup("https://a.example/cc");
	it->links[0].length = -1;
	it->nenclosures = 1;
	it->enclosures = xcalloc(1, sizeof *it->enclosures);
	it->enclosures[0].kind = ENCLOSURE_MEDIA;
	it->enclosures[0].url = xstrdup("https://a.example/a.mp3");
	it->enclosures[0].type = xstrdup("audio/mpeg");
	it->enclosures[0].length = 12345678901LL;
	commit(0, &it, 1, 5000);

	out = query(&q, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert(out[0].item.id_is_permalink);
	ck_assert_str_eq(out[0].item.comments, "https://a.example/full#comments");
	ck_assert_int_eq(out[0].item.summary_type, TEXT_HTML);
	ck_assert_int_eq(out[0].item.updated, 1100);
	ck_assert_uint_eq(out[0].item.nauthors, 2);
	ck_assert_str_eq(out[0].item.authors[0].email, "ann@a.example");
	ck_assert_ptr_null(out[0].item.authors[1].name);
	ck_assert_str_eq(out[0].item.authors[1].uri, "https://bob.example/");
	ck_assert_uint_eq(out[0].item.ncategories, 1);
	ck_assert_str_eq(out[0].item.categories[0].label, "Linux");
	ck_assert_uint_eq(out[0].item.nlinks, 1);
	ck_assert_int_eq(out[0].item.links[0].rel, LINK_OTHER);
	ck_assert_str_eq(out[0].item.links[0].rel_name, "license");
	ck_assert_int_eq(out[0].item.links[0].length, -1);
	ck_assert_uint_eq(out[0].item.nenclosures, 1);
	ck_assert_int_eq(out[0].item.enclosures[0].kind, ENCLOSURE_MEDIA);
	ck_assert_int_eq(out[0].item.enclosures[0].length, 12345678901LL);
	store_items_free(out, n);

	/* a category changed is a change */
	free(it->categories[0].term);
	it->categories[0].term = xstrdup("bsd");
	ck_assert_uint_eq(commit(0, &it, 1, 6000).updated, 1);
	item_free(it);
}
END_TEST

/* Seeing a feed again unchanged writes nothing at all. */
START_TEST(test_unchanged_costs_no_write)
{
	struct item *items[2] = {
		mkitem("g1", "One", "https://a.example/1", 1000),
		mkitem("g2", "Two", "https://a.example/2", 2000),
	};
	sqlite3 *db = store_sqlite(st);
	int before;

	commit(0, items, 2, 5000);
	before = sqlite3_total_changes(db);
	ck_assert_uint_eq(commit(0, items, 2, 6000).unchanged, 2);
	/* the feed row's state is the only write */
	ck_assert_int_eq(sqlite3_total_changes(db) - before, 1);
	ck_assert_int_eq(store_last_seq(st), 2);
	for (int i = 0; i < 2; i++)
		item_free(items[i]);
}
END_TEST

/* One guid for the whole feed: found within one fetch. */
START_TEST(test_bad_guid_one_for_all)
{
	struct item *items[3] = {
		mkitem("same", "One", "https://a.example/1", 1000),
		mkitem("same", "Two", "https://a.example/2", 2000),
		mkitem("same", "Three", "https://a.example/3", 3000),
	};
	struct store_feed_status *list;
	size_t n;

	ck_assert_uint_eq(commit(0, items, 3, 5000).added, 3);
	ck_assert_uint_eq(count_stories(), 3);
	ck_assert_int_eq(store_list_feeds(st, &list, &n), 0);
	ck_assert(list[0].identity_by_link);
	ck_assert_ptr_nonnull(strstr(list[0].identity_note, "\"same\""));
	ck_assert(!list[1].identity_by_link);
	store_feed_status_free(list, n);
	/* and it stays stable */
	ck_assert_uint_eq(commit(0, items, 3, 6000).unchanged, 3);
	for (int i = 0; i < 3; i++)
		item_free(items[i]);
}
END_TEST

/* A guid per day: each fetch looks fine, the next day's reuse gives it away. */
START_TEST(test_bad_guid_per_day)
{
	struct item *day1 = mkitem("2026-01-01", "Monday story", "https://a.example/mon", 1000);
	struct item *day2 = mkitem("2026-01-01", "Tuesday story", "https://a.example/tue", 2000);
	struct item *both[2];
	struct store_fetch_stats s;

	commit(0, &day1, 1, 5000);
	s = commit(0, &day2, 1, 6000);
	ck_assert_uint_eq(s.added, 1);
	ck_assert_uint_eq(s.updated, 0);
	ck_assert_uint_eq(count_stories(), 2);
	/* the first story was re-keyed by its link: seeing it again adds nothing */
	both[0] = day1;
	both[1] = day2;
	ck_assert_uint_eq(commit(0, both, 2, 7000).unchanged, 2);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM items"), 2);
	item_free(day1);
	item_free(day2);
}
END_TEST

/* A guid kept, the title fixed: an update, not a bad guid. */
START_TEST(test_guid_update_is_not_collision)
{
	struct item *v1 = mkitem("g", "Typo", "https://a.example/x", 1000);
	struct item *v2 = mkitem("g", "Fixed", "https://a.example/x", 1000);
	struct store_feed_status *list;
	size_t n;

	commit(0, &v1, 1, 5000);
	ck_assert_uint_eq(commit(0, &v2, 1, 6000).updated, 1);
	ck_assert_int_eq(store_list_feeds(st, &list, &n), 0);
	ck_assert(!list[0].identity_by_link);
	store_feed_status_free(list, n);
	item_free(v1);
	item_free(v2);
}
END_TEST

START_TEST(test_cross_feed_story)
{
	struct item *a = mkitem("a1", "Story", "https://News.Example:443/s?b=2&a=1&utm_source=x#c",
	    1000);
	struct item *b = mkitem("b1", "Story (B)", "https://news.example/s?a=1&b=2&fbclid=z", 1200);
	struct store_query q = {.limit = 10};
	const char *only_b[] = {"beta"};
	struct stored_item *out;
	size_t n;

	commit(0, &a, 1, 5000);
	commit(1, &b, 1, 6000);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM items"), 2);
	out = query(&q, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(out[0].item.title, "Story");
	ck_assert_str_eq(out[0].source.name, "alpha");
	ck_assert_uint_eq(out[0].nvia, 1);
	ck_assert_str_eq(out[0].via[0].name, "beta");
	ck_assert_str_eq(out[0].via[0].item_link, "https://news.example/s?a=1&b=2&fbclid=z");
	store_items_free(out, n);
	/* asked for beta alone, beta's copy is shown */
	q.feeds = only_b;
	q.nfeeds = 1;
	out = query(&q, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(out[0].item.title, "Story (B)");
	store_items_free(out, n);
	item_free(a);
	item_free(b);
}
END_TEST

START_TEST(test_cross_feed_merge_off)
{
	struct item *a = mkitem("a1", "Story", "https://news.example/s", 1000);
	struct item *b = mkitem("b1", "Story", "https://news.example/s", 1000);
	struct store_feed_policy p = {.merge = false};

	ck_assert_int_eq(store_set_feed_policy(st, "beta", &p), 0);
	ck_assert_int_eq(store_set_feed_policy(st, "nosuch", &p), -1);
	commit(0, &a, 1, 5000);
	commit(1, &b, 1, 6000);
	ck_assert_uint_eq(count_stories(), 2);
	item_free(a);
	item_free(b);
}
END_TEST

/* The feed that first carried a story leaves the config: the other copy takes over. */
START_TEST(test_story_survives_retired_feed)
{
	struct item *a = mkitem("a1", "Story", "https://news.example/s", 1000);
	struct item *b = mkitem("b1", "Story", "https://news.example/s", 1000);
	const char *names[] = {"beta"};
	const char *urls[] = {"https://b.example/feed"};
	struct store_query q = {.limit = 10};
	struct stored_item *out;
	int64_t id;
	size_t n;

	commit(0, &a, 1, 5000);
	commit(1, &b, 1, 6000);
	ck_assert_int_eq(store_set_feeds(st, names, urls, 1, &id), 0);
	out = query(&q, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(out[0].source.name, "beta");
	ck_assert_uint_eq(out[0].nvia, 0);
	store_items_free(out, n);
	item_free(a);
	item_free(b);
}
END_TEST

/* Own dates kept when plausible; from the future they give way to when we saw it. */
START_TEST(test_dates_in_output)
{
	struct item *ok = mkitem("ok", "Ok", NULL, 1000);
	struct item *fut = mkitem("fut", "Future", NULL, 999999999);
	struct store_query q = {.limit = 10};
	struct stored_item *out;
	size_t n;

	ok->updated = 1500;
	commit(0, &ok, 1, 5000);
	commit(0, &fut, 1, 5000);
	out = query(&q, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(out[0].item.title, "Future");
	ck_assert_int_eq(out[0].item.published, 0);
	ck_assert_int_eq(out[0].sort_time, 5000);
	ck_assert_int_eq(out[1].item.published, 1000);
	ck_assert_int_eq(out[1].item.updated, 1500);
	store_items_free(out, n);
	item_free(ok);
	item_free(fut);
}
END_TEST

static void
commit_many(int idx, int first, int count, time_t now)
{
	struct item **items = xcalloc((size_t)count, sizeof(struct item *));

	for (int i = 0; i < count; i++) {
		char id[32], link[64];

		snprintf(id, sizeof id, "n%d", first + i);
		snprintf(link, sizeof link, "https://a.example/%d", first + i);
		items[i] = mkitem(id, id, link, 1000 + first + i);
		items[i]->content = xstrdup("a fairly long body, repeated to take some room ........"
					    "..........................................................");
	}
	commit(idx, items, (size_t)count, now);
	for (int i = 0; i < count; i++)
		item_free(items[i]);
	free(items);
}

START_TEST(test_retention_max_items_and_tombstones)
{
	struct store_feed_policy p = {.merge = true, .max_items = 5};
	struct store_query q = {.limit = 100};
	struct stored_item *out;
	size_t n, pruned;

	commit_many(0, 0, 12, 5000);
	ck_assert_int_eq(store_set_feed_policy(st, "alpha", &p), 0);
	ck_assert_int_eq(store_prune(st, 6000, 4, &pruned), 0);
	ck_assert_uint_eq(pruned, 4); /* a full batch: there is more */
	ck_assert_int_eq(store_prune(st, 6000, 100, &pruned), 0);
	ck_assert_uint_eq(pruned, 3);
	ck_assert_int_eq(store_prune(st, 6000, 100, &pruned), 0);
	ck_assert_uint_eq(pruned, 0);
	out = query(&q, &n);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(out[4].item.title, "n7"); /* the newest five */
	store_items_free(out, n);
	ck_assert_int_eq(store_item_total(st), 5);
	/* the feed still carries the pruned ones: they do not come back */
	commit_many(0, 0, 12, 7000);
	ck_assert_uint_eq(count_stories(), 5);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM items WHERE pruned AND content IS NULL"),
	    7);
}
END_TEST

START_TEST(test_retention_keep_and_reclaim)
{
	struct store_feed_policy p = {.merge = true, .keep = 3600};
	size_t pruned;
	int free_pages;

	commit_many(0, 0, 400, 5000);
	ck_assert_int_eq(store_set_feed_policy(st, "alpha", &p), 0);
	/* sort times are 1000..1399: at 1000 + 3600 + 200 the first 200 are too old */
	ck_assert_int_eq(store_prune(st, 4800, 1000, &pruned), 0);
	ck_assert_uint_eq(pruned, 200);
	ck_assert_int_gt(count_rows("PRAGMA freelist_count"), 0);
	free_pages = store_reclaim(st, 1000000);
	ck_assert_int_eq(free_pages, 0);
	ck_assert_int_eq(count_rows("PRAGMA freelist_count"), 0);
}
END_TEST

/* A representative pruned while another feed still keeps the story: it stays, via the other. */
START_TEST(test_retention_promotes)
{
	struct item *a = mkitem("a1", "Story", "https://news.example/s", 1000);
	struct item *b = mkitem("b1", "Story", "https://news.example/s", 1000);
	struct store_feed_policy p = {.merge = true, .keep = 60};
	struct store_query q = {.limit = 10};
	struct stored_item *out;
	size_t n, pruned;

	commit(0, &a, 1, 5000);
	commit(1, &b, 1, 6000);
	ck_assert_int_eq(store_set_feed_policy(st, "alpha", &p), 0);
	ck_assert_int_eq(store_prune(st, 9000, 10, &pruned), 0);
	ck_assert_uint_eq(pruned, 1);
	out = query(&q, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(out[0].source.name, "beta");
	store_items_free(out, n);
	item_free(a);
	item_free(b);
}
END_TEST

/* Disk full: the fetch fails whole, with a clear reason; what was stored stays readable. */
START_TEST(test_disk_full)
{
	struct store_fetch f = {0};
	struct store_fetch_stats stats;
	struct item *big = mkitem("big", "Big", "https://a.example/big", 1000);
	char err[256], sql[64];
	size_t len = (size_t)512 * 1024;

	commit_many(0, 0, 3, 5000);
	big->content = xcalloc(len + 1, 1);
	memset(big->content, 'x', len);
	snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld",
	    (long long)count_rows("PRAGMA page_count"));
	ck_assert_int_eq(sqlite3_exec(store_sqlite(st), sql, NULL, NULL, NULL), SQLITE_OK);
	f.feed_id = feed_ids[0];
	f.fetched_at = 6000;
	f.http_status = 200;
	f.etag = "\"new\"";
	f.items = &big;
	f.nitems = 1;
	ck_assert_int_eq(store_commit_fetch(st, &f, &stats, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "full") != NULL, "%s", err);
	ck_assert_uint_eq(stats.added, 0);
	ck_assert_uint_eq(count_stories(), 3);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM feeds WHERE etag = '\"new\"'"), 0);
	/* room again: the retry stores it */
	ck_assert_int_eq(sqlite3_exec(store_sqlite(st), "PRAGMA max_page_count = 1073741823", NULL,
			     NULL, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(store_commit_fetch(st, &f, &stats, err, sizeof err), 0);
	ck_assert_uint_eq(count_stories(), 4);
	item_free(big);
}
END_TEST

/* Read-only and locked databases: refused with a reason, nothing half-written. */
START_TEST(test_readonly_and_locked)
{
	struct item *it = mkitem("g", "T", "https://a.example/t", 1000);
	struct store_fetch f = {.feed_id = feed_ids[0], .fetched_at = 5000, .items = &it,
		.nitems = 1};
	struct store_fetch_stats stats;
	char err[256];
	sqlite3 *other;

	sqlite3_exec(store_sqlite(st), "PRAGMA query_only = 1", NULL, NULL, NULL);
	ck_assert_int_eq(store_commit_fetch(st, &f, &stats, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "readonly") != NULL || strstr(err, "read-only") != NULL ||
		strstr(err, "query_only") != NULL, "%s", err);
	sqlite3_exec(store_sqlite(st), "PRAGMA query_only = 0", NULL, NULL, NULL);

	ck_assert_int_eq(sqlite3_open(dbpath, &other), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(store_commit_fetch(st, &f, &stats, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "locked") != NULL, "%s", err);
	/* reads go on while another process writes */
	ck_assert_uint_eq(count_stories(), 0);
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
	ck_assert_int_eq(store_commit_fetch(st, &f, &stats, err, sizeof err), 0);
	ck_assert_uint_eq(stats.added, 1);
	ck_assert_int_eq(store_last_seq(st), 1);
	item_free(it);
}
END_TEST

START_TEST(test_change_sequence)
{
	struct item *a = mkitem("a", "A", "https://a.example/a", 1000);
	struct item *b = mkitem("b", "B", "https://a.example/b", 1000);
	struct stored_item *out;
	uint64_t gen = store_generation(st);
	size_t n;

	commit(0, &a, 1, 5000);
	commit(0, &b, 1, 5000);
	ck_assert_uint_gt(store_generation(st), gen);
	free(a->title);
	a->title = xstrdup("A2");
	commit(0, &a, 1, 6000);
	ck_assert_int_eq(store_last_seq(st), 3);
	ck_assert_int_eq(store_last_change(st), 6000);
	ck_assert_int_eq(store_changes(st, 1, 10, &out, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(out[0].item.title, "B");
	ck_assert_int_eq(out[0].seq, 2);
	ck_assert_str_eq(out[1].item.title, "A2");
	ck_assert_int_eq(out[1].seq, 3);
	store_items_free(out, n);
	ck_assert_int_eq(store_changes(st, 3, 10, &out, &n), 0);
	ck_assert_uint_eq(n, 0);
	store_items_free(out, n);
	/* unchanged: the generation stays */
	gen = store_generation(st);
	commit(0, &a, 1, 7000);
	ck_assert_uint_eq(store_generation(st), gen);
	item_free(a);
	item_free(b);
}
END_TEST

START_TEST(test_query_filters)
{
	struct item *items[4] = {
		mkitem("1", "Linux kernel 6.9", "https://a.example/1", 1000),
		mkitem("2", "BSD news", "https://a.example/2", 2000),
		mkitem("3", "Kernel 100% done_", "https://a.example/3", 3000),
		mkitem("4", "Other", "https://a.example/4", 4000),
	};
	const char *words[] = {"kernel"}, *pct[] = {"100%"}, *under[] = {"e_"};
	const char *inc[] = {"*bsd*", "linux*6?9"}, *exc[] = {"bsd"};
	struct store_query q = {.limit = 10};
	struct stored_item *out;
	size_t n;

	items[3]->content = xstrdup("mentions the KERNEL in passing");
	commit(0, items, 4, 5000);
	q.words = words;
	q.nwords = 1;
	out = query(&q, &n);
	ck_assert_uint_eq(n, 3);
	store_items_free(out, n);
	q.words = pct; /* LIKE's own characters are matched as themselves */
	out = query(&q, &n);
	ck_assert_uint_eq(n, 1);
	store_items_free(out, n);
	q.words = under;
	out = query(&q, &n);
	ck_assert_uint_eq(n, 1);
	store_items_free(out, n);
	q = (struct store_query){.limit = 10, .include = inc, .ninclude = 2};
	out = query(&q, &n);
	ck_assert_uint_eq(n, 2);
	store_items_free(out, n);
	q.exclude = exc;
	q.nexclude = 1;
	out = query(&q, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(out[0].item.title, "Linux kernel 6.9");
	store_items_free(out, n);
	/* paging: two at a time, walking back */
	q = (struct store_query){.limit = 2};
	out = query(&q, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(out[1].item.title, "Kernel 100% done_");
	q.before_time = out[1].sort_time;
	q.before_id = out[1].rowid;
	store_items_free(out, n);
	out = query(&q, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(out[0].item.title, "BSD news");
	ck_assert_str_eq(out[1].item.title, "Linux kernel 6.9");
	store_items_free(out, n);
	for (int i = 0; i < 4; i++)
		item_free(items[i]);
}
END_TEST

/* A newer database than this build: refused, named. */
START_TEST(test_newer_schema_refused)
{
	char err[256], sql[64];

	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", STORE_SCHEMA_VERSION + 1);
	ck_assert_int_eq(sqlite3_exec(store_sqlite(st), sql, NULL, NULL, NULL), SQLITE_OK);
	store_close(st);
	st = store_open(dbpath, err, sizeof err);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, "newer than this feedmux") != NULL, "%s", err);
	st = NULL;
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_schema);
	tcase_add_test(tc, test_dedupe_in_feed);
	tcase_add_test(tc, test_update_not_copy);
	tcase_add_test(tc, test_identity);
	tcase_add_test(tc, test_identity_is_per_feed);
	tcase_add_test(tc, test_order_and_future_dates);
	tcase_add_test(tc, test_feed_state);
	tcase_add_test(tc, test_reopen_and_retire);
	tcase_add_test(tc, test_wal_mode);
	tcase_add_test(tc, test_migrate_from_v1);
	tcase_add_test(tc, test_all_fields_round_trip);
	tcase_add_test(tc, test_unchanged_costs_no_write);
	tcase_add_test(tc, test_bad_guid_one_for_all);
	tcase_add_test(tc, test_bad_guid_per_day);
	tcase_add_test(tc, test_guid_update_is_not_collision);
	tcase_add_test(tc, test_cross_feed_story);
	tcase_add_test(tc, test_cross_feed_merge_off);
	tcase_add_test(tc, test_story_survives_retired_feed);
	tcase_add_test(tc, test_dates_in_output);
	tcase_add_test(tc, test_retention_max_items_and_tombstones);
	tcase_add_test(tc, test_retention_keep_and_reclaim);
	tcase_add_test(tc, test_retention_promotes);
	tcase_add_test(tc, test_disk_full);
	tcase_add_test(tc, test_readonly_and_locked);
	tcase_add_test(tc, test_change_sequence);
	tcase_add_test(tc, test_query_filters);
	tcase_add_test(tc, test_newer_schema_refused);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
