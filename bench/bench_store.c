/*
 * bench_store: storage throughput and query time (issue 4).
 *
 *	bench_store [DIR] [ITEMS]
 *
 * Ingests ITEMS (default 1,000,000) synthetic items in batches of 50 per
 * feed (1,000 feeds) through store_commit_fetch, and the same rows in the
 * same transactions through a bare SQLite loop of INSERTs into the same
 * schema (the floor); prints both rates, the database size per 100,000
 * items, and the time of the merged feed's query (limit 100) on the full
 * store.  Files go to DIR (default: a temporary folder), removed at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "storage/store.h"
#include "util/util.h"

#define NFEEDS 1000L
#define BATCH  50L

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char filler[1024];

/* Item `n` (of feed n % NFEEDS): fixed-size text, distinct ids and links. */
static void
make_item(struct item *it, long n)
{
	char buf[128];

	memset(it, 0, sizeof *it);
	snprintf(buf, sizeof buf, "tag:bench.example,2026:%ld", n);
	it->id = xstrdup(buf);
	snprintf(buf, sizeof buf, "Synthetic story number %ld about something", n);
	it->title = xstrdup(buf);
	snprintf(buf, sizeof buf, "https://site%ld.example/2026/01/story-%ld.html",
	    n % NFEEDS, n);
	it->link = xstrdup(buf);
	it->author = xstrdup("A. Writer");
	it->summary = xstrndup(filler, 200);
	it->content = xstrndup(filler, 600);
	it->content_type = TEXT_HTML;
	it->published = 1700000000 + n;
}

static void
make_names(char ***names, char ***urls)
{
	*names = xcalloc(NFEEDS, sizeof **names);
	*urls = xcalloc(NFEEDS, sizeof **urls);
	for (int i = 0; i < NFEEDS; i++) {
		(*names)[i] = xasprintf("feed%04d", i);
		(*urls)[i] = xasprintf("https://site%d.example/feed.xml", i);
	}
}

static long long
file_size(const char *path)
{
	struct stat st;
	char wal[4096];
	long long size = stat(path, &st) == 0 ? (long long)st.st_size : 0;

	snprintf(wal, sizeof wal, "%s-wal", path);
	if (stat(wal, &st) == 0)
		size += (long long)st.st_size;
	return size;
}

/* The store API: returns items per second. */
static double
run_store(const char *path, long total, struct store **out)
{
	char **names, **urls, err[256];
	int64_t ids[NFEEDS];
	struct store *s = store_open(path, err, sizeof err);
	struct item items[BATCH], *ptrs[BATCH];
	double t0;

	if (s == NULL)
		fatalx("%s: %s", path, err);
	make_names(&names, &urls);
	if (store_set_feeds(s, (const char *const *)names, (const char *const *)urls, NFEEDS, ids) !=
	    0)
		fatalx("set feeds");
	t0 = now_s();
	for (long base = 0; base < total; base += BATCH * NFEEDS) {
		for (int f = 0; f < NFEEDS && base + (long)f * BATCH < total; f++) {
			struct store_fetch fx = {.feed_id = ids[f], .fetched_at = 1800000000,
				.next_poll = 1800003600, .http_status = 200, .etag = "\"e\"",
				.items = ptrs, .nitems = BATCH};
			struct store_fetch_stats stats;

			for (int i = 0; i < BATCH; i++) {
				make_item(&items[i], base + (long)i * NFEEDS + f);
				ptrs[i] = &items[i];
			}
			if (store_commit_fetch(s, &fx, &stats, err, sizeof err) != 0)
				fatalx("commit: %s", err);
			for (int i = 0; i < BATCH; i++)
				item_clear(&items[i]);
		}
	}
	t0 = now_s() - t0;
	for (int i = 0; i < NFEEDS; i++)
		free(names[i]), free(urls[i]);
	free(names), free(urls);
	*out = s;
	return (double)total / t0;
}

/*
 * The floor: the same rows, the same schema and transactions, bare INSERTs
 * with nothing computed (identity and digest are the guid; no lookups).
 */
static double
run_floor(const char *path, long total)
{
	char **names, **urls, err[256];
	int64_t ids[NFEEDS];
	struct store *s = store_open(path, err, sizeof err);
	sqlite3 *db;
	sqlite3_stmt *ins, *upd, *begin, *commit;
	struct item it;
	double t0;
	long seq = 0;

	if (s == NULL)
		fatalx("%s: %s", path, err);
	make_names(&names, &urls);
	store_set_feeds(s, (const char *const *)names, (const char *const *)urls, NFEEDS, ids);
	db = store_sqlite(s);
	sqlite3_prepare_v2(db,
	    "INSERT INTO items(feed_id, identity, guid, title, link, author, summary, summary_type,"
	    " content, content_type, published, first_seen, sort_time, digest, story, seq)"
	    " VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, 0, ?7, 1, ?8, ?9, ?8, ?2, ?4, ?10)",
	    -1, &ins, NULL);
	sqlite3_prepare_v2(db, "UPDATE feeds SET last_fetch = ?2, etag = '\"e\"' WHERE id = ?1", -1,
	    &upd, NULL);
	sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL);
	sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL);
	t0 = now_s();
	for (long base = 0; base < total; base += BATCH * NFEEDS) {
		for (int f = 0; f < NFEEDS && base + (long)f * BATCH < total; f++) {
			sqlite3_step(begin);
			sqlite3_reset(begin);
			for (int i = 0; i < BATCH; i++) {
				make_item(&it, base + (long)i * NFEEDS + f);
				sqlite3_bind_int64(ins, 1, ids[f]);
				sqlite3_bind_text(ins, 2, it.id, -1, SQLITE_STATIC);
				sqlite3_bind_text(ins, 3, it.title, -1, SQLITE_STATIC);
				sqlite3_bind_text(ins, 4, it.link, -1, SQLITE_STATIC);
				sqlite3_bind_text(ins, 5, it.author, -1, SQLITE_STATIC);
				sqlite3_bind_text(ins, 6, it.summary, -1, SQLITE_STATIC);
				sqlite3_bind_text(ins, 7, it.content, -1, SQLITE_STATIC);
				sqlite3_bind_int64(ins, 8, it.published);
				sqlite3_bind_int64(ins, 9, 1800000000);
				sqlite3_bind_int64(ins, 10, ++seq);
				if (sqlite3_step(ins) != SQLITE_DONE)
					fatalx("floor insert: %s", sqlite3_errmsg(db));
				sqlite3_reset(ins);
				item_clear(&it);
			}
			sqlite3_bind_int64(upd, 1, ids[f]);
			sqlite3_bind_int64(upd, 2, 1800000000);
			sqlite3_step(upd);
			sqlite3_reset(upd);
			if (sqlite3_step(commit) != SQLITE_DONE)
				fatalx("floor commit: %s", sqlite3_errmsg(db));
			sqlite3_reset(commit);
		}
	}
	t0 = now_s() - t0;
	sqlite3_finalize(ins), sqlite3_finalize(upd), sqlite3_finalize(begin);
	sqlite3_finalize(commit);
	store_close(s);
	for (int i = 0; i < NFEEDS; i++)
		free(names[i]), free(urls[i]);
	free(names), free(urls);
	return (double)total / t0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The merged feed's query, limit 100: median and worst of `reps` runs, in ms. */
static void
time_query(struct store *s, int reps, const char *what, const struct store_query *q)
{
	double *t = xcalloc((size_t)reps, sizeof *t);

	for (int i = 0; i < reps; i++) {
		struct stored_item *out;
		size_t n;
		double t0 = now_s();

		/* (a small run may have fewer than the limit: one feed has total / 1000 items) */
		if (store_query_items(s, q, &out, &n) != 0 || n == 0)
			fatalx("query %s: failed", what);
		t[i] = (now_s() - t0) * 1000;
		store_items_free(out, n);
	}
	qsort(t, (size_t)reps, sizeof *t, cmp_double);
	printf("query %-28s median %.3f ms, p99 %.3f ms, max %.3f ms (%d runs)\n", what,
	    t[reps / 2], t[reps * 99 / 100], t[reps - 1], reps);
	free(t);
}

/* Remove what the run wrote in its temporary folder, and the folder. */
static void
remove_files(const char *dir)
{
	static const char *const files[] = {"store.db", "store.db-wal", "store.db-shm", "floor.db",
		"floor.db-wal", "floor.db-shm"};

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char *path = xasprintf("%s/%s", dir, files[i]);

		unlink(path);
		free(path);
	}
	rmdir(dir);
}

int
main(int argc, char *argv[])
{
	bool tmp = argc <= 1 || argv[1][0] == '\0';
	char *dir = tmp ? xstrdup("/tmp/feedmux-bench-XXXXXX") : xstrdup(argv[1]);
	long total = argc > 2 ? strtol(argv[2], NULL, 10) : 1000000;
	char *store_db, *floor_db;
	struct store *s;
	double api, bare;
	const char *feed_one[] = {"feed0007"};
	struct store_query q = {.limit = 100};

	log_init("bench_store");
	memset(filler, 'x', sizeof filler - 1);
	for (size_t i = 0; i < sizeof filler - 1; i += 7)
		filler[i] = ' ';
	if (tmp && mkdtemp(dir) == NULL)
		fatal("mkdtemp");
	store_db = xasprintf("%s/store.db", dir);
	floor_db = xasprintf("%s/floor.db", dir);
	printf("bench_store: %ld items, %ld feeds, batches of %ld, SQLite %s\n", total, NFEEDS, BATCH,
	    sqlite3_libversion());
	/* BENCH_ONLY=store or floor runs one side (for profiling). */
	bare = getenv("BENCH_ONLY") != NULL && strcmp(getenv("BENCH_ONLY"), "store") == 0 ? 1 :
	    run_floor(floor_db, total);
	printf("floor (bare INSERTs, same schema and transactions): %.0f items/s\n", bare);
	if (getenv("BENCH_ONLY") != NULL && strcmp(getenv("BENCH_ONLY"), "floor") == 0) {
		if (tmp)
			remove_files(dir);
		free(store_db), free(floor_db), free(dir);
		return 0;
	}
	api = run_store(store_db, total, &s);
	printf("store_commit_fetch:                                 %.0f items/s (%.0f%% of the floor)\n",
	    api, 100 * api / bare);
	sqlite3_exec(store_sqlite(s), "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	printf("database size: %.1f MB per 100,000 items (%lld bytes for %ld)\n",
	    (double)file_size(store_db) / ((double)total / 100000) / 1e6, file_size(store_db), total);
	time_query(s, 1000, "merged feed, limit 100", &q);
	q.feeds = feed_one;
	q.nfeeds = 1;
	time_query(s, 1000, "?feed=NAME, limit 100", &q);
	q = (struct store_query){.limit = 100, .before_time = 1700000000 + total / 2,
		.before_id = total};
	time_query(s, 1000, "page in the middle, limit 100", &q);
	store_close(s);
	if (tmp)
		remove_files(dir);
	free(store_db), free(floor_db), free(dir);
	return 0;
}
