/*
 * check_fetch.c: fetching and scheduling end to end.  The real feedmuxd
 * polls a fault-injecting server (fault-httpd) on 127.0.0.1 and stores into
 * a real SQLite file, which we read back.  Every fault comes with a good
 * feed beside it, on another host name (localhost), which must be fetched
 * and stored all the same, and before the slow faults end.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "tests/testutil.h"

static char *dir, *www, *conf_path, *sock_path, *db_path, *log_path;
static pid_t httpd;
static int port;

/* Short limits, so that every fault ends in seconds. */
static const char *const globals =
    "interval = 1h\nmin_interval = 1s\nconnect_timeout = 2s\ntimeout = 10s\n"
    "low_speed_time = 2s\nhost_delay = 0\nstart_spread = 0\n";

static void
copy_fixture(const char *name)
{
	char *dst = xasprintf("%s/%s", www, name);
	size_t len;
	char *data = tu_read_file(tu_data(name), &len);
	FILE *f = fopen(dst, "wb");

	ck_assert_ptr_nonnull(data);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	free(data);
	free(dst);
}

static void
setup(void)
{
	dir = tu_mkdtemp();
	www = xasprintf("%s/www", dir);
	ck_assert_int_eq(mkdir(www, 0755), 0);
	{
		char *feeds = xasprintf("%s/feeds", www);

		ck_assert_int_eq(mkdir(feeds, 0755), 0);
		free(feeds);
	}
	copy_fixture("feeds/rss2-basic.xml");
	copy_fixture("feeds/rss2-basic.xml.br");
	copy_fixture("feeds/atom-basic.xml");
	copy_fixture("feeds/rss2-hints.xml");
	log_path = xasprintf("%s/requests.log", dir);
	conf_path = xasprintf("%s/feedmux.conf", dir);
	sock_path = xasprintf("%s/feedmux.sock", dir);
	db_path = xasprintf("%s/feedmux.db", dir);
	httpd = tu_start_server(FAULT_HTTPD, www, log_path, &port);
}

static void
teardown(void)
{
	tu_stop(httpd, SIGTERM, 5);
	tu_rmtree(dir);
	free(dir), free(www), free(conf_path), free(sock_path), free(db_path), free(log_path);
}

/* "[feed NAME]" for PATH on the fault server, through host name HOST. */
static char *
feed(const char *name, const char *host, const char *path)
{
	return xasprintf("[feed \"%s\"]\nurl = http://%s:%d/%s\n", name, host, port, path);
}

/* The config: our `globals`, overridden by the lines of `extra`; the good feed; `feeds`. */
static void
write_conf(const char *extra, const char *feeds)
{
	char *good = feed("good", "localhost", "f/feeds/rss2-basic.xml");
	struct buf b;

	buf_init(&b, 0);
	buf_addf(&b, "[feedmux]\ndatabase = %s\nlisten = %s\n", db_path, sock_path);
	for (const char *line = globals; *line != '\0'; line = strchr(line, '\n') + 1) {
		size_t key = strcspn(line, " ");
		bool overridden = false;

		for (const char *e = extra; *e != '\0'; e = strchr(e, '\n') + 1)
			if (strncmp(e, line, key + 1) == 0)
				overridden = true;
		if (!overridden)
			buf_add(&b, line, strcspn(line, "\n") + 1);
	}
	buf_addf(&b, "%s%s%s", extra, good, feeds);
	tu_write_file(conf_path, b.data);
	buf_free(&b);
	free(good);
}

static int
run_once(char **err)
{
	char *argv[] = {FEEDMUXD, "-c", conf_path, "--once", NULL};

	return tu_run(argv, 60, NULL, err);
}

static pid_t
start_daemon(void)
{
	char *argv[] = {FEEDMUXD, "-c", conf_path, NULL};
	char *errlog = xasprintf("%s/daemon.log", dir);
	pid_t pid = tu_spawn(argv, errlog);

	free(errlog);
	ck_assert_msg(tu_wait_socket(sock_path, 30), "feedmuxd did not listen");
	return pid;
}

/* A feed's row, as the store keeps it. */
struct row {
	long http_status;
	char error[512];
	long long items;
	char etag[128];
	long long last_fetch, next_poll;
	int failures;
	char moved_from[256], moved_url[256], gone_url[256];
};

static void
copy_col(sqlite3_stmt *st, int col, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, len, "%s", t != NULL ? (const char *)t : "");
}

static struct row
row(const char *name)
{
	struct row r;
	sqlite3 *db;
	sqlite3_stmt *st;

	memset(&r, 0, sizeof r);
	ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db,
			     "SELECT coalesce(http_status, 0), error, item_count, etag,"
			     " coalesce(last_fetch, 0), coalesce(next_poll, 0), failures,"
			     " moved_from, moved_url, gone_url FROM feeds WHERE name = ?1",
			     -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "no feed %s", name);
	r.http_status = (long)sqlite3_column_int64(st, 0);
	copy_col(st, 1, r.error, sizeof r.error);
	r.items = sqlite3_column_int64(st, 2);
	copy_col(st, 3, r.etag, sizeof r.etag);
	r.last_fetch = sqlite3_column_int64(st, 4);
	r.next_poll = sqlite3_column_int64(st, 5);
	r.failures = sqlite3_column_int(st, 6);
	copy_col(st, 7, r.moved_from, sizeof r.moved_from);
	copy_col(st, 8, r.moved_url, sizeof r.moved_url);
	copy_col(st, 9, r.gone_url, sizeof r.gone_url);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}

/* The good feed beside every fault: stored in full, no error. */
static void
assert_good_fetched(void)
{
	struct row g = row("good");

	ck_assert_msg(g.error[0] == '\0', "good feed failed: %s", g.error);
	ck_assert_int_eq(g.items, 4);
	ck_assert(g.last_fetch > 0);
}

/* The good feed was stored before the feed `bad` failed (the log is in time order). */
static void
assert_good_first(const char *err, const char *bad)
{
	char *bad_line = xasprintf("feed %s: ", bad);
	const char *g = strstr(err, "feed good: 5 items");
	const char *b = strstr(err, bad_line);

	ck_assert_msg(g != NULL && b != NULL && g < b, "good not stored before %s failed:\n%s", bad,
	    err);
	free(bad_line);
}

static void
assert_error(const char *name, const char *want)
{
	struct row r = row(name);

	ck_assert_msg(strstr(r.error, want) != NULL, "feed %s: wanted error \"%s\", got \"%s\"", name,
	    want, r.error);
}

/* How many requests for `path` the server logged. */
static int
count_requests(const char *path)
{
	char *needle = xasprintf(" %s ", path);
	int n = tu_count_in_file(log_path, needle);

	free(needle);
	return n;
}

START_TEST(test_not_modified)
{
	char *err = NULL, *log;
	struct row first, second, third;
	FILE *f;

	write_conf("", "");
	ck_assert_int_eq(run_once(&err), 0);
	free(err);
	first = row("good");
	ck_assert_int_eq(first.http_status, 200);
	ck_assert(first.etag[0] != '\0');

	ck_assert_int_eq(run_once(&err), 0);
	ck_assert_msg(strstr(err, "feed good: not modified") != NULL, "%s", err);
	free(err);
	log = tu_read_file(log_path, NULL);
	/* the second request sent the ETag the first answer carried */
	ck_assert_msg(strstr(log, first.etag) != NULL, "%s", log);
	free(log);
	second = row("good");
	ck_assert_int_eq(second.http_status, 304);
	ck_assert_str_eq(second.etag, first.etag);
	ck_assert_int_eq(second.items, 4);
	ck_assert(second.next_poll >= second.last_fetch + 3600);

	/* a changed feed: a full answer, and its new ETag replaces the old */
	log = xasprintf("%s/feeds/rss2-basic.xml", www);
	f = fopen(log, "a");
	ck_assert_ptr_nonnull(f);
	fputs("<!-- changed -->\n", f);
	fclose(f);
	free(log);
	ck_assert_int_eq(run_once(&err), 0);
	free(err);
	third = row("good");
	ck_assert_int_eq(third.http_status, 200);
	ck_assert_str_ne(third.etag, first.etag);
}
END_TEST

START_TEST(test_gzip_and_brotli)
{
	char *a = feed("gzip", "127.0.0.1", "f/feeds/rss2-basic.xml?gzip");
	char *b = feed("brotli", "127.0.0.1", "f/feeds/rss2-basic.xml?br");
	char *both = xasprintf("%s%s", a, b);
	char *err = NULL, *log;

	write_conf("log_level = debug\n", both);
	ck_assert_int_eq(run_once(&err), 0);
	/* curl's own trace, through our log: every encoding this libcurl decodes is offered */
	ck_assert_msg(strstr(err, "> GET /f/feeds/rss2-basic.xml?br HTTP/1.1") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "> Accept-Encoding: deflate, gzip, br, zstd") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "> User-Agent: feedmux/" FEEDMUX_VERSION) != NULL, "%s",
	    err);
	free(err);
	ck_assert_int_eq(row("gzip").items, 4);
	ck_assert_int_eq(row("brotli").items, 4);
	ck_assert_str_eq(row("gzip").error, "");
	ck_assert_str_eq(row("brotli").error, "");
	log = tu_read_file(log_path, NULL);
	ck_assert_msg(strstr(log, "?gzip - gzip") != NULL && strstr(log, "?br - br") != NULL, "%s",
	    log);
	free(log);
	assert_good_fetched();
	free(a), free(b), free(both);
}
END_TEST

START_TEST(test_redirects)
{
	char *f[] = {
		feed("chain", "127.0.0.1", "r/302/3/f/feeds/rss2-basic.xml"),
		feed("toolong", "127.0.0.1", "r/301/6/f/feeds/rss2-basic.xml"),
		feed("loop", "127.0.0.1", "loop"),
		feed("tofile", "127.0.0.1", "tofile"),
	};
	char *all = xasprintf("%s%s%s%s", f[0], f[1], f[2], f[3]);
	char *err = NULL;

	write_conf("", all);
	ck_assert_int_eq(run_once(&err), 0);
	ck_assert_int_eq(row("chain").items, 4);
	ck_assert_str_eq(row("chain").moved_url, "");
	assert_error("toolong", "more than 5 redirects");
	assert_error("loop", "more than 5 redirects");
	assert_error("tofile", "redirect to file:///etc/passwd refused: only http and https");
	ck_assert_int_eq(row("tofile").items, 0);
	/* each failure logged once, naming the feed */
	ck_assert_msg(strstr(err, "feed loop: more than 5 redirects") != NULL, "%s", err);
	free(err);
	assert_good_fetched();
	for (size_t i = 0; i < 4; i++)
		free(f[i]);
	free(all);
}
END_TEST

/* The feed `name` in /status, from the running daemon. */
static json_t *
status_feed(json_t *root, const char *name)
{
	json_t *feeds = json_object_get(root, "feeds");

	for (size_t i = 0; i < json_array_size(feeds); i++) {
		json_t *f = json_array_get(feeds, i);

		if (strcmp(json_string_value(json_object_get(f, "name")), name) == 0)
			return f;
	}
	ck_abort_msg("no feed %s in /status", name);
	return NULL;
}

START_TEST(test_moved_and_gone)
{
	char *a = feed("moving", "127.0.0.1", "r/301/1/f/feeds/rss2-basic.xml");
	char *b = feed("gone", "127.0.0.1", "s/410");
	char *both = xasprintf("%s%s", a, b);
	char *err = NULL, *body = NULL, *old_url, *new_url, *gone_url;
	json_t *root;
	pid_t pid;

	write_conf("", both);
	old_url = xasprintf("http://127.0.0.1:%d/r/301/1/f/feeds/rss2-basic.xml", port);
	new_url = xasprintf("http://127.0.0.1:%d/f/feeds/rss2-basic.xml", port);
	gone_url = xasprintf("http://127.0.0.1:%d/s/410", port);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(run_once(&err), 0);
		free(err);
		ck_assert_str_eq(row("moving").moved_url, "");
	}
	assert_error("gone", "HTTP status 410 Gone");
	ck_assert_str_eq(row("gone").gone_url, gone_url);
	/* a 410 is asked once: the feed is disabled until its url changes */
	ck_assert_int_eq(count_requests("/s/410"), 1);

	/* the third permanent redirect in a row moves the feed */
	ck_assert_int_eq(run_once(&err), 0);
	ck_assert_msg(strstr(err, "feed moving: moved permanently to") != NULL, "%s", err);
	free(err);
	ck_assert_str_eq(row("moving").moved_url, new_url);
	ck_assert_str_eq(row("moving").moved_from, old_url);
	ck_assert_int_eq(count_requests("/r/301/1/f/feeds/rss2-basic.xml"), 3);
	ck_assert_int_eq(run_once(&err), 0);
	free(err);
	ck_assert_int_eq(count_requests("/r/301/1/f/feeds/rss2-basic.xml"), 3);
	ck_assert_int_eq(count_requests("/s/410"), 1);

	/* /status: the configured url, where it moved, and what is disabled */
	pid = start_daemon();
	ck_assert_int_eq(tu_http_get(sock_path, "/status", &body, NULL), 200);
	root = json_loads(body, 0, NULL);
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(json_string_value(json_object_get(status_feed(root, "moving"), "url")),
	    old_url);
	ck_assert_str_eq(json_string_value(json_object_get(status_feed(root, "moving"), "moved_to")),
	    new_url);
	ck_assert(json_is_true(json_object_get(status_feed(root, "gone"), "disabled")));
	ck_assert(json_is_false(json_object_get(status_feed(root, "good"), "disabled")));
	ck_assert(json_is_null(json_object_get(status_feed(root, "good"), "moved_to")));
	json_decref(root);
	free(body);
	ck_assert_int_eq(tu_stop(pid, SIGTERM, 30), 0);
	assert_good_fetched();
	free(a), free(b), free(both), free(old_url), free(new_url), free(gone_url);
}
END_TEST

START_TEST(test_errors_and_backoff)
{
	char *a = feed("limited", "127.0.0.1", "s/429?retry=120");
	char *b = feed("broken", "127.0.0.1", "s/500");
	char *all = xasprintf("%s%sinterval = 100s\n", a, b);
	char *err = NULL;
	struct row r;

	write_conf("", all);
	ck_assert_int_eq(run_once(&err), 0);
	free(err);
	r = row("limited");
	ck_assert_int_eq(r.http_status, 429);
	ck_assert_str_eq(r.error, "HTTP status 429, Retry-After 120 s");
	ck_assert(r.next_poll >= r.last_fetch + 120);
	r = row("broken");
	ck_assert_str_eq(r.error, "HTTP status 500");
	ck_assert_int_eq(r.failures, 1);
	ck_assert(r.next_poll >= r.last_fetch + 100);
	/* the second failure in a row waits twice as long */
	ck_assert_int_eq(run_once(&err), 0);
	free(err);
	r = row("broken");
	ck_assert_int_eq(r.failures, 2);
	ck_assert(r.next_poll >= r.last_fetch + 200);
	ck_assert(r.next_poll <= r.last_fetch + 221);
	assert_good_fetched();
	free(a), free(b), free(all);
}
END_TEST

/* Times (ms) of the logged requests to `host`, in order; returns how many. */
static size_t
request_times(const char *host, long long *t, size_t max)
{
	char *log = tu_read_file(log_path, NULL);
	size_t n = 0;
	char *save = NULL;

	for (char *line = strtok_r(log, "\n", &save); line != NULL && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		char *end;
		long long ms = strtoll(line, &end, 10);
		size_t hlen = strlen(host);

		if (end != line && *end == ' ' && strncmp(end + 1, host, hlen) == 0 &&
		    end[1 + hlen] == ' ')
			t[n++] = ms;
	}
	free(log);
	return n;
}

START_TEST(test_429_slows_that_host_only)
{
	char *a = feed("limited", "localhost", "s/429?retry=3");
	char *b = feed("other", "127.0.0.1", "f/feeds/atom-basic.xml");
	char *all = xasprintf("%sinterval = 1s\n%sinterval = 1s\n", a, b);
	long long local[32], other[32], first429 = -1;
	size_t nlocal, nother, during = 0;
	char *log;
	pid_t pid;

	write_conf("", all);
	pid = start_daemon();
	sleep(5);
	ck_assert_int_eq(tu_stop(pid, SIGTERM, 30), 0);
	log = tu_read_file(log_path, NULL);
	nlocal = request_times("localhost", local, 32);
	nother = request_times("127.0.0.1", other, 32);
	/* the first 429 of localhost */
	{
		char *p = strstr(log, "localhost /s/429");

		ck_assert_ptr_nonnull(p);
		while (p > log && p[-1] != '\n')
			p--;
		first429 = strtoll(p, NULL, 10);
	}
	/* localhost (the good feed too) waited out Retry-After ... */
	for (size_t i = 0; i < nlocal; i++)
		ck_assert_msg(local[i] <= first429 + 50 || local[i] >= first429 + 2900,
		    "localhost asked %lld ms after its 429:\n%s", local[i] - first429, log);
	/* ... while 127.0.0.1 went on at its interval */
	for (size_t i = 0; i < nother; i++)
		if (other[i] > first429 + 500 && other[i] < first429 + 2900)
			during++;
	ck_assert_msg(during >= 1, "127.0.0.1 was held too:\n%s", log);
	assert_error("limited", "HTTP status 429, Retry-After 3 s");
	free(log), free(a), free(b), free(all);
}
END_TEST

START_TEST(test_host_spacing)
{
	char *f[4];
	char *all, *err = NULL;
	long long t[8], local[8];
	size_t n;

	for (int i = 0; i < 4; i++) {
		char name[8];

		snprintf(name, sizeof name, "f%d", i);
		f[i] = feed(name, "127.0.0.1", "f/feeds/atom-basic.xml");
	}
	all = xasprintf("%s%s%s%s", f[0], f[1], f[2], f[3]);
	write_conf("host_connections = 1\nhost_delay = 300ms\n", all);
	ck_assert_int_eq(run_once(&err), 0);
	free(err);
	n = request_times("127.0.0.1", t, 8);
	ck_assert_uint_eq(n, 4);
	/*
	 * Spacing runs from one request's start to the next; the server sees
	 * each after its connection is made, which a loaded machine delays.
	 */
	for (size_t i = 1; i < n; i++)
		ck_assert_msg(t[i] - t[i - 1] >= 150, "requests %zu and %zu %lld ms apart", i - 1, i,
		    t[i] - t[i - 1]);
	ck_assert_msg(t[3] - t[0] >= 800, "4 requests in %lld ms", t[3] - t[0]);
	/* the other host did not wait its turn behind them */
	ck_assert_uint_eq(request_times("localhost", local, 8), 1);
	ck_assert(local[0] < t[3]);
	assert_good_fetched();
	for (int i = 0; i < 4; i++)
		free(f[i]);
	free(all);
}
END_TEST

/*
 * One faulty feed `name` at `path` (on 127.0.0.1) beside the good one, with
 * the global keys `extra`: its stored error holds `want`, it stored no
 * items, and the good feed was stored; when `slow`, before the fault ended.
 */
static void
check_fault(const char *name, const char *path, const char *extra, const char *want, bool slow)
{
	char *a = feed(name, "127.0.0.1", path);
	char *err = NULL;

	write_conf(extra, a);
	ck_assert_int_eq(run_once(&err), 0);
	assert_error(name, want);
	ck_assert_int_eq(row(name).items, 0);
	assert_good_fetched();
	if (slow)
		assert_good_first(err, name);
	free(err), free(a);
}

START_TEST(test_slow_drip)
{
	check_fault("drip", "drip/feeds/rss2-basic.xml", "low_speed_limit = 1k\n", "too slow", true);
}
END_TEST

START_TEST(test_hang)
{
	/* low_speed_time is longer than the total timeout: this is the timeout's case */
	check_fault("hang", "hang", "timeout = 1s\nlow_speed_time = 9s\n", "timed out", true);
}
END_TEST

START_TEST(test_lying_length)
{
	check_fault("liar", "liar", "", "bytes remaining", false);
}
END_TEST

START_TEST(test_refuse_private)
{
	char *a = feed("private", "127.0.0.1", "f/feeds/rss2-basic.xml");
	char *err = NULL;

	/* every address here is loopback: the good feed is refused too, and nothing is asked */
	write_conf("refuse_private = yes\n", a);
	ck_assert_int_eq(run_once(&err), 0);
	free(err);
	assert_error("private", "refused to connect to 127.0.0.1, a loopback address (refuse_private = yes)");
	assert_error("good", "a loopback address (refuse_private = yes)");
	ck_assert_int_eq(count_requests("/f/feeds/rss2-basic.xml"), 0);
	free(a);
}
END_TEST

START_TEST(test_oversized_and_bomb)
{
	char *a = feed("big", "127.0.0.1", "big");
	char *b = feed("bomb", "127.0.0.1", "bomb");
	char *both = xasprintf("%s%s", a, b);
	char *err = NULL;

	write_conf("max_body = 64k\n", both);
	ck_assert_int_eq(run_once(&err), 0);
	free(err);
	assert_error("big", "body larger than 65536 bytes after decompression (max_body)");
	assert_error("bomb", "body larger than 65536 bytes after decompression (max_body)");
	ck_assert_int_eq(row("big").items, 0);
	assert_good_fetched();
	free(a), free(b), free(both);
}
END_TEST

START_TEST(test_hints)
{
	char *a = feed("hints", "127.0.0.1", "f/feeds/rss2-hints.xml");
	char *b = feed("maxage", "127.0.0.1", "f/feeds/atom-basic.xml?maxage=7200");
	char *all = xasprintf("%sinterval = 60s\n%sinterval = 60s\n", a, b);
	char *err = NULL;
	struct row r;
	struct tm tm;
	time_t next;

	write_conf("", all);
	ck_assert_int_eq(run_once(&err), 0);
	free(err);
	r = row("maxage");
	ck_assert(r.next_poll >= r.last_fetch + 7200);
	/* sy:updatePeriod daily, updateFrequency 4: every 6 h; out of skipHours and skipDays */
	r = row("hints");
	ck_assert(r.next_poll >= r.last_fetch + 21600);
	next = (time_t)r.next_poll;
	gmtime_r(&next, &tm);
	ck_assert(tm.tm_hour != 0 && tm.tm_hour != 1 && tm.tm_hour != 23);
	ck_assert(tm.tm_wday != 0 && tm.tm_wday != 6);
	assert_good_fetched();
	free(a), free(b), free(all);
}
END_TEST

START_TEST(test_shutdown_keeps_parsed_items)
{
	char *xml = tu_read_file(tu_data("feeds/rss2-basic.xml"), NULL);
	char *second = strstr(strstr(xml, "</item>") + 1, "</item>");
	char *path = xasprintf("drip/feeds/rss2-basic.xml?after=%ld", (long)(second - xml) + 7);
	char *a = feed("cut", "127.0.0.1", path);
	struct row r;
	pid_t pid;

	write_conf("low_speed_time = 60s\n", a);
	pid = start_daemon();
	for (int i = 0; i < 100 && count_requests("/drip/feeds/rss2-basic.xml") == 0; i++)
		usleep(50000);
	usleep(500000);
	ck_assert_int_eq(tu_stop(pid, SIGTERM, 30), 0);
	r = row("cut");
	/* the two items that had come are kept, without validators, and the feed is due */
	ck_assert_int_eq(r.items, 2);
	ck_assert_str_eq(r.etag, "");
	ck_assert(r.next_poll <= (long long)time(NULL));
	free(xml), free(path), free(a);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("fetch");
	TCase *tc = tcase_create("fetch");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_not_modified);
	tcase_add_test(tc, test_gzip_and_brotli);
	tcase_add_test(tc, test_redirects);
	tcase_add_test(tc, test_moved_and_gone);
	tcase_add_test(tc, test_errors_and_backoff);
	tcase_add_test(tc, test_429_slows_that_host_only);
	tcase_add_test(tc, test_host_spacing);
	tcase_add_test(tc, test_slow_drip);
	tcase_add_test(tc, test_hang);
	tcase_add_test(tc, test_oversized_and_bomb);
	tcase_add_test(tc, test_lying_length);
	tcase_add_test(tc, test_refuse_private);
	tcase_add_test(tc, test_hints);
	tcase_add_test(tc, test_shutdown_keeps_parsed_items);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
