/* check_store.c: the SQLite store: schema, dedupe, updates, feed state, queries. */
#include <check.h>
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

int
main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");
	SRunner *sr;
	int failed;

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
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
