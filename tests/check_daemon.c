/*
 * check_daemon.c: the real programs end to end.  A fixture HTTP server on
 * 127.0.0.1 serves two feeds; feedmuxd --once stores them in a temporary
 * database; then feedmuxd serves the merged feed on a Unix socket, which we
 * read, check and validate against the Atom schema.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <sqlite3.h>

#include "tests/testutil.h"

static char *dir;
static pid_t httpd;
static int port;
static char *conf_path, *sock_path, *db_path, *log_path;

static void
setup(void)
{
	dir = tu_mkdtemp();
	log_path = xasprintf("%s/httpd.log", dir);
	httpd = tu_start_httpd(tu_data("feeds"), NULL, &port);
	conf_path = xasprintf("%s/feedmux.conf", dir);
	sock_path = xasprintf("%s/feedmux.sock", dir);
	db_path = xasprintf("%s/feedmux.db", dir);
}

static void
teardown(void)
{
	tu_stop(httpd, SIGTERM, 5);
	tu_rmtree(dir);
	free(dir), free(conf_path), free(sock_path), free(db_path), free(log_path);
}

/* A config for the fixture server with `feeds` appended ("[feed ...]" sections). */
static void
write_conf(const char *feeds)
{
	char *text = xasprintf("[feedmux]\ndatabase = %s\nlisten = %s\ninterval = 1h\n%s", db_path,
	    sock_path, feeds);

	tu_write_file(conf_path, text);
	free(text);
}

static char *
feed_section(const char *name, const char *path)
{
	return xasprintf("[feed \"%s\"]\nurl = http://127.0.0.1:%d/%s\n", name, port, path);
}

static int
run_daemon(const char *mode, char **err)
{
	char *argv[] = {FEEDMUXD, "-c", conf_path, (char *)mode, NULL};

	return tu_run(argv, 60, NULL, err);
}

static void
write_two_feed_conf(void)
{
	char *a = feed_section("rss", "rss2-basic.xml");
	char *b = feed_section("atom", "atom-basic.xml");
	char *both = xasprintf("%s%s", a, b);

	write_conf(both);
	free(a), free(b), free(both);
}

static pid_t
start_daemon(void)
{
	char *argv[] = {FEEDMUXD, "-c", conf_path, NULL};
	pid_t pid = tu_spawn(argv, log_path);

	ck_assert_msg(tu_wait_socket(sock_path, 30), "feedmuxd did not listen on %s", sock_path);
	return pid;
}

/* The text of every node `xpath` selects in `doc`, in document order. */
static size_t
xpath_texts(xmlDocPtr doc, const char *xpath, char **out, size_t max)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr res;
	size_t n = 0;

	xmlXPathRegisterNs(ctx, BAD_CAST "a", BAD_CAST "http://www.w3.org/2005/Atom");
	res = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
	ck_assert_ptr_nonnull(res);
	for (int i = 0; res->nodesetval != NULL && i < res->nodesetval->nodeNr && n < max; i++)
		out[n++] = (char *)xmlNodeGetContent(res->nodesetval->nodeTab[i]);
	xmlXPathFreeObject(res);
	xmlXPathFreeContext(ctx);
	return n;
}

START_TEST(test_check_rejects_bad_config)
{
	char *argv[] = {FEEDMUXD, "-c", (char *)tu_data("conf/bad-unknown-key.conf"), "--check",
		NULL};
	char *err = NULL;

	ck_assert_int_eq(tu_run(argv, 30, NULL, &err), 2);
	ck_assert_msg(strstr(err, "bad-unknown-key.conf:6: unknown key 'colour'") != NULL, "%s", err);
	free(err);
	argv[2] = "/nonexistent.conf";
	ck_assert_int_eq(tu_run(argv, 30, NULL, &err), 2);
	ck_assert_msg(strstr(err, "/nonexistent.conf: cannot read") != NULL, "%s", err);
	free(err);
}
END_TEST

START_TEST(test_check_accepts_example)
{
	char *argv[] = {FEEDMUXD, "-c", EXAMPLE_CONF, "--check", NULL};
	char *out = NULL;

	ck_assert_int_eq(tu_run(argv, 30, &out, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "configuration valid (3 feeds)"));
	free(out);
}
END_TEST

START_TEST(test_merged_feed)
{
	static const char *const want[] = {"RSS five", "Atom one", "RSS one", "Atom two", "RSS two",
		"RSS three", "Atom three"};
	char *err = NULL, *body = NULL, *titles[16], *ids[16], *sources[16], why[300];
	size_t len, nt, ni, ns;
	xmlDocPtr doc;
	pid_t pid;

	write_two_feed_conf();
	ck_assert_int_eq(run_daemon("--once", &err), 0);
	free(err);
	/* a second poll adds nothing */
	ck_assert_int_eq(run_daemon("--once", &err), 0);
	free(err);

	pid = start_daemon();
	ck_assert_int_eq(tu_http_get(sock_path, "/feed.atom", &body, &len), 200);
	ck_assert_msg(tu_atom_valid(body, len, why, sizeof why), "invalid Atom: %s", why);
	doc = xmlReadMemory(body, (int)len, "feed.atom", NULL, XML_PARSE_NONET);
	ck_assert_ptr_nonnull(doc);
	nt = xpath_texts(doc, "/a:feed/a:entry/a:title", titles, 16);
	ni = xpath_texts(doc, "/a:feed/a:entry/a:id", ids, 16);
	ns = xpath_texts(doc, "/a:feed/a:entry/a:source/a:title", sources, 16);
	ck_assert_uint_eq(nt, 7);
	ck_assert_uint_eq(ni, 7);
	ck_assert_uint_eq(ns, 7);
	for (size_t i = 0; i < nt; i++) {
		ck_assert_str_eq(titles[i], want[i]);
		ck_assert_str_eq(sources[i], strncmp(want[i], "RSS", 3) == 0 ? "Fixture RSS" :
		    "Fixture Atom");
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(ids[i], ids[j]);
	}
	for (size_t i = 0; i < nt; i++)
		xmlFree(titles[i]), xmlFree(ids[i]), xmlFree(sources[i]);
	xmlFreeDoc(doc);
	free(body);

	/* ?limit */
	ck_assert_int_eq(tu_http_get(sock_path, "/feed.atom?limit=2", &body, &len), 200);
	doc = xmlReadMemory(body, (int)len, "feed.atom", NULL, XML_PARSE_NONET);
	ck_assert_uint_eq(xpath_texts(doc, "/a:feed/a:entry/a:title", titles, 16), 2);
	xmlFree(titles[0]), xmlFree(titles[1]);
	xmlFreeDoc(doc);
	free(body);
	ck_assert_int_eq(tu_http_get(sock_path, "/feed.atom?limit=0", &body, NULL), 400);
	ck_assert_ptr_nonnull(strstr(body, "limit"));
	free(body);
	ck_assert_int_eq(tu_http_get(sock_path, "/nothing-here", NULL, NULL), 404);

	ck_assert_int_eq(tu_stop(pid, SIGTERM, 30), 0);
	ck_assert_msg(access(sock_path, F_OK) != 0, "socket file left behind");
}
END_TEST

START_TEST(test_status_and_ctl)
{
	char *a = feed_section("good", "rss2-basic.xml");
	char *b = feed_section("missing", "no-such-feed.xml");
	char *c = feed_section("html", "not-a-feed.html");
	char *d = feed_section("cut", "truncated.xml");
	char *all = xasprintf("%s%s%s%s", a, b, c, d);
	const char *warning;
	char *err = NULL, *out = NULL, *body = NULL;
	char *ctl[] = {FEEDMUXCTL, "-s", sock_path, "feeds", NULL};
	json_t *root, *feeds;
	json_error_t jerr;
	pid_t pid;

	write_conf(all);
	free(a), free(b), free(c), free(d), free(all);
	ck_assert_int_eq(run_daemon("--once", &err), 0);
	/* each failure logged once, naming the feed and the reason */
	ck_assert_msg(strstr(err, "feed missing: HTTP status 404") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "feed html: line 1: not a feed") != NULL, "%s", err);
	free(err);

	pid = start_daemon();
	ck_assert_int_eq(tu_http_get(sock_path, "/status", &body, NULL), 200);
	root = json_loads(body, 0, &jerr);
	ck_assert_msg(root != NULL, "%s", jerr.text);
	ck_assert_str_eq(json_string_value(json_object_get(root, "version")), FEEDMUX_VERSION);
	ck_assert_int_eq(json_integer_value(json_object_get(root, "feeds_total")), 4);
	ck_assert_int_eq(json_integer_value(json_object_get(root, "items_total")), 6);
	feeds = json_object_get(root, "feeds");
	ck_assert_uint_eq(json_array_size(feeds), 4);
	/* sorted by name: cut, good, html, missing */
	/*
	 * a truncated document: its items kept (the cut one too), the feed marked
	 * ill-formed with the line of the last tag read (whatever the chunking)
	 */
	ck_assert(json_is_null(json_object_get(json_array_get(feeds, 0), "error")));
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(feeds, 0), "items")), 2);
	warning = json_string_value(json_object_get(json_array_get(feeds, 0), "warning"));
	ck_assert_msg(warning != NULL && strncmp(warning, "ill-formed: line 4: ", 20) == 0, "%s",
	    warning != NULL ? warning : "(null)");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(feeds, 1), "name")), "good");
	ck_assert(json_is_null(json_object_get(json_array_get(feeds, 1), "error")));
	ck_assert(json_is_null(json_object_get(json_array_get(feeds, 1), "warning")));
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(feeds, 1), "items")), 4);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(feeds, 3), "http_status")),
	    404);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(feeds, 3), "error")),
	    "HTTP status 404");
	ck_assert(json_is_string(json_object_get(json_array_get(feeds, 3), "last_fetch")));
	ck_assert(json_is_string(json_object_get(json_array_get(feeds, 3), "next_poll")));
	json_decref(root);
	free(body);

	ck_assert_int_eq(tu_run(ctl, 30, &out, &err), 0);
	ck_assert_msg(strstr(out, "\ngood      200      4  ") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "HTTP status 404") != NULL, "%s", out);
	free(out), free(err);
	ck_assert_int_eq(tu_stop(pid, SIGTERM, 30), 0);
}
END_TEST

START_TEST(test_conditional_get)
{
	char *a, *err = NULL, *logtext;

	/* a fixture server that logs what it is asked */
	tu_stop(httpd, SIGTERM, 5);
	httpd = tu_start_httpd(tu_data("feeds"), log_path, &port);
	a = feed_section("rss", "rss2-basic.xml");
	write_conf(a);
	free(a);
	ck_assert_int_eq(run_daemon("--once", &err), 0);
	free(err);
	ck_assert_int_eq(run_daemon("--once", &err), 0);
	ck_assert_msg(strstr(err, "feed rss: not modified") != NULL, "%s", err);
	free(err);
	logtext = tu_read_file(log_path, NULL);
	/* the first request is unconditional, the second sends the ETag the server gave */
	ck_assert_msg(strncmp(logtext, "GET /rss2-basic.xml -\nGET /rss2-basic.xml \"", 43) == 0,
	    "%s", logtext);
	free(logtext);
}
END_TEST

/* A socket file nobody listens on, as a daemon that died leaves behind. */
static void
make_stale_socket(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	close(fd);
}

START_TEST(test_replaces_stale_socket)
{
	char *a = feed_section("rss", "rss2-basic.xml");
	struct stat st;
	pid_t pid;

	write_conf(a);
	free(a);
	make_stale_socket(sock_path);
	umask(0);
	pid = start_daemon();
	ck_assert_int_eq(tu_http_get(sock_path, "/status", NULL, NULL), 200);
	/* 0660 whatever the umask */
	ck_assert_int_eq(stat(sock_path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0660);
	ck_assert_int_eq(tu_stop(pid, SIGTERM, 30), 0);
}
END_TEST

START_TEST(test_ctl_without_daemon)
{
	char *argv[] = {FEEDMUXCTL, "-s", "/nonexistent/feedmux.sock", "status", NULL};
	char *err = NULL;

	ck_assert_int_eq(tu_run(argv, 30, NULL, &err), 3); /* LSB: not running */
	ck_assert_msg(strstr(err, "no socket at /nonexistent/feedmux.sock: is feedmuxd running?") !=
	    NULL, "%s", err);
	free(err);
	make_stale_socket(sock_path);
	argv[2] = sock_path;
	ck_assert_int_eq(tu_run(argv, 30, NULL, &err), 3);
	ck_assert_msg(strstr(err, "feedmuxd is not running") != NULL, "%s", err);
	free(err);
}
END_TEST

START_TEST(test_refuses_live_socket)
{
	char *err = NULL;
	pid_t pid;
	char *a = feed_section("rss", "rss2-basic.xml");

	write_conf(a);
	free(a);
	pid = start_daemon();
	/* a second daemon on the same socket must not steal it */
	ck_assert_int_eq(run_daemon(NULL, &err), 1);
	ck_assert_msg(strstr(err, "another process is listening there") != NULL, "%s", err);
	free(err);
	ck_assert_int_eq(tu_http_get(sock_path, "/status", NULL, NULL), 200);
	ck_assert_int_eq(tu_stop(pid, SIGINT, 30), 0);
}
END_TEST

/* An RSS feed in `path` with items `first` .. `first + n - 1` of feed `feed`. */
static void
write_rss(const char *path, int feed, int first, int n)
{
	struct buf b;

	buf_init(&b, 0);
	buf_addf(&b, "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>Feed %d</title>"
		     "<link>https://f%d.example/</link>\n",
	    feed, feed);
	for (int i = first + n - 1; i >= first; i--)
		buf_addf(&b, "<item><guid>f%d-%d</guid><title>Item %d of feed %d</title>"
			     "<link>https://f%d.example/%d</link><description>Body %d</description>"
			     "</item>\n",
		    feed, i, i, feed, feed, i, i);
	buf_adds(&b, "</channel></rss>\n");
	tu_write_file(path, b.data);
	buf_free(&b);
}

static int64_t
db_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
	    sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

#define CRASH_FEEDS 6
#define CRASH_NEW   8 /* items each feed gains per round */

/*
 * Check the database after a kill -9: intact, no duplicates, nothing that
 * was there before lost, and every fetch the daemon logged as stored
 * complete.  `snap` holds what the last round found.
 */
static int
crash_check(const char *log, int round)
{
	int stored = 0;
	sqlite3 *db;
	char *text = tu_read_file(log, NULL), sql[256];

	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM pragma_integrity_check"
				    " WHERE integrity_check != 'ok'"), 0);
	snprintf(sql, sizeof sql, "ATTACH '%s/snap.db' AS snap", dir);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS snap.s(guid TEXT PRIMARY KEY)", NULL, NULL,
	    NULL);
	if (db_int(db, "SELECT count(*) FROM main.sqlite_master WHERE name = 'items'") == 0) {
		/* killed before the schema was made (a slow start): nothing was stored before */
		ck_assert_int_eq(db_int(db, "SELECT count(*) FROM snap.s"), 0);
		sqlite3_close(db);
		free(text);
		return 0;
	}
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM (SELECT 1 FROM items GROUP BY feed_id,"
				    " guid HAVING count(*) > 1)"), 0);
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM (SELECT 1 FROM items WHERE dup_of IS NULL"
				    " AND story IS NOT NULL GROUP BY story HAVING count(*) > 1)"), 0);
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM snap.s WHERE guid NOT IN"
				    " (SELECT guid FROM items)"), 0);
	/* a fetch logged as stored was committed whole: this round's items are all there */
	for (int f = 0; text != NULL && f < CRASH_FEEDS; f++) {
		char needle[64];

		snprintf(needle, sizeof needle, "feed f%d: %d items (", f, CRASH_NEW * (round + 1));
		if (strstr(text, needle) == NULL)
			continue;
		stored++;
		snprintf(sql, sizeof sql, "SELECT count(*) FROM items i JOIN feeds f ON"
					  " f.id = i.feed_id WHERE f.name = 'f%d'", f);
		ck_assert_int_eq(db_int(db, sql), (int64_t)CRASH_NEW * (round + 1));
	}
	/* and so were the feeds that reloads added (they never change) */
	for (int r = 0; text != NULL && r <= round; r++) {
		char needle[64];

		snprintf(needle, sizeof needle, "feed r%d: %d items (", r, CRASH_NEW);
		if (strstr(text, needle) == NULL)
			continue;
		snprintf(sql, sizeof sql, "SELECT count(*) FROM items i JOIN feeds f ON"
					  " f.id = i.feed_id WHERE f.name = 'r%d'", r);
		ck_assert_int_eq(db_int(db, sql), (int64_t)CRASH_NEW);
	}
	ck_assert_int_eq(sqlite3_exec(db, "DELETE FROM snap.s; INSERT INTO snap.s SELECT guid FROM"
					  " items", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	free(text);
	return stored;
}

/*
 * A reload round: one more feed in the configuration (rROUND, which never
 * changes), SIGHUP once the daemon listens, and the kill a moment after, so
 * it lands before, during or after the reload and the polls it starts.
 */
static void
crash_reload(pid_t pid, const char *feeds_dir, int round)
{
	char *path = xasprintf("%s/r%d.xml", feeds_dir, round);
	char *conf = tu_read_file(conf_path, NULL);
	char *more = xasprintf("%s[feed \"r%d\"]\nurl = http://127.0.0.1:%d/r%d.xml\n", conf,
	    round, port, round);

	write_rss(path, 100 + round, 0, CRASH_NEW);
	ck_assert(tu_wait_socket(sock_path, 30));
	usleep((useconds_t)(tu_seconds(1) * (random() % 700000)));
	tu_write_file(conf_path, more);
	kill(pid, SIGHUP);
	/* a reload takes milliseconds: every other time, aim at it */
	usleep((useconds_t)(tu_seconds(1) * (round % 4 == 1 ? random() % 4000 : random() % 1000000)));
	free(more), free(conf), free(path);
}

/* Where the kill fell in a reload round: reloads[0] before, 1 during, 2 after, 3 unsupported. */
static void
crash_count_reload(const char *log, int reloads[4])
{
	char *text = tu_read_file(log, NULL);

	if (text == NULL || strstr(text, "SIGHUP") == NULL)
		reloads[0]++;
	else if (strstr(text, "reloading is not supported") != NULL)
		reloads[3]++;
	else if (strstr(text, "reloaded:") == NULL && strstr(text, "reload refused") == NULL)
		reloads[1]++;
	else
		reloads[2]++;
	free(text);
}

/*
 * kill -9 at random moments while the daemon stores fetches, restart, check;
 * every other round, around a reload (SIGHUP) that adds a feed.
 * FEEDMUX_CRASH_ROUNDS sets how many times (default 5 here; bench/crash.sh
 * runs 100).
 */
START_TEST(test_crash_during_ingest)
{
	const char *env = getenv("FEEDMUX_CRASH_ROUNDS");
	int rounds = env != NULL ? (int)strtol(env, NULL, 10) : 5;
	char *feeds_dir = xasprintf("%s/feeds", dir);
	struct buf conf;

	ck_assert_int_eq(mkdir(feeds_dir, 0755), 0);
	tu_stop(httpd, SIGTERM, 5);
	httpd = tu_start_httpd(feeds_dir, NULL, &port);
	buf_init(&conf, 0);
	/* one host: no spacing between its requests, so rounds end at every stage of a poll */
	buf_addf(&conf, "[feedmux]\ndatabase = %s\nlisten = %s\ninterval = 1s\nhost_delay = 0\n",
	    db_path, sock_path);
	for (int f = 0; f < CRASH_FEEDS; f++)
		buf_addf(&conf, "[feed \"f%d\"]\nurl = http://127.0.0.1:%d/f%d.xml\n", f, port, f);
	tu_write_file(conf_path, conf.data);
	buf_free(&conf);
	int partial = 0, whole = 0, reloads[4] = {0};

	srandom((unsigned)getpid());
	for (int round = 0; round < rounds; round++) {
		char *argv[] = {FEEDMUXD, "-c", conf_path, NULL};
		char *log = xasprintf("%s/crash-%d.log", dir, round);
		pid_t pid;
		int stored;

		for (int f = 0; f < CRASH_FEEDS; f++) {
			char *path = xasprintf("%s/f%d.xml", feeds_dir, f);

			/* every item ever published stays in the file: the feed only grows */
			write_rss(path, f, 0, CRASH_NEW * (round + 1));
			free(path);
		}
		pid = tu_spawn(argv, log);
		if (round % 2 == 1)
			crash_reload(pid, feeds_dir, round);
		else
			usleep((useconds_t)(tu_seconds(1) * (50000 + random() % 1500000)));
		ck_assert_int_eq(tu_stop(pid, SIGKILL, 10), 128 + SIGKILL);
		stored = crash_check(log, round);
		partial += stored < CRASH_FEEDS;
		whole += stored == CRASH_FEEDS;
		if (round % 2 == 1)
			crash_count_reload(log, reloads);
		free(log);
	}
	/* How the kills fell, for whoever reads the output of a long run. */
	fprintf(stderr, "crash test: %d rounds, %d killed mid-ingest, %d after every feed was stored;"
			" %d reload rounds: %d killed before the reload began, %d during it, %d"
			" after it, %d by a daemon without reloading\n",
	    rounds, partial, whole, rounds / 2, reloads[0], reloads[1], reloads[2], reloads[3]);
	free(feeds_dir);
}
END_TEST

/* A database another process holds locked: the daemon logs it, serves, and catches up. */
START_TEST(test_locked_database)
{
	char *feeds_dir = xasprintf("%s/feeds", dir), *path = xasprintf("%s/feeds/f0.xml", dir);
	char *conf, *body = NULL, *logtext = NULL;
	sqlite3 *other;
	pid_t pid;
	int waited;

	ck_assert_int_eq(mkdir(feeds_dir, 0755), 0);
	tu_stop(httpd, SIGTERM, 5);
	httpd = tu_start_httpd(feeds_dir, NULL, &port);
	conf = xasprintf("[feedmux]\ndatabase = %s\nlisten = %s\ninterval = 1s\n"
			 "[feed \"f0\"]\nurl = http://127.0.0.1:%d/f0.xml\n",
	    db_path, sock_path, port);
	tu_write_file(conf_path, conf);
	write_rss(path, 0, 0, 2);
	ck_assert_int_eq(run_daemon("--once", NULL), 0);
	pid = start_daemon();
	ck_assert_int_eq(sqlite3_open(db_path, &other), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	write_rss(path, 0, 0, 3);
	/* the daemon fails to store, and keeps serving what it has */
	for (waited = 0; waited < 100; waited++) {
		free(logtext);
		logtext = tu_read_file(log_path, NULL);
		if (logtext != NULL && strstr(logtext, "not stored") != NULL)
			break;
		usleep(100000);
	}
	ck_assert_msg(logtext != NULL && strstr(logtext, "feed f0: not stored:") != NULL &&
		strstr(logtext, "locked") != NULL, "%s", logtext);
	ck_assert_int_eq(tu_http_get(sock_path, "/feed.atom", &body, NULL), 200);
	ck_assert_ptr_nonnull(strstr(body, "Item 1 of feed 0"));
	ck_assert_ptr_null(strstr(body, "Item 2 of feed 0"));
	free(body);
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
	/* released: a later poll stores the new item */
	for (waited = 0; waited < 100; waited++) {
		ck_assert_int_eq(tu_http_get(sock_path, "/feed.atom", &body, NULL), 200);
		if (strstr(body, "Item 2 of feed 0") != NULL)
			break;
		free(body);
		body = NULL;
		usleep(100000);
	}
	ck_assert_msg(body != NULL, "the new item never arrived");
	free(body);
	ck_assert_int_eq(tu_stop(pid, SIGTERM, 30), 0);
	free(logtext);
	free(conf);
	free(path);
	free(feeds_dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("daemon");
	TCase *tc = tcase_create("daemon");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_check_rejects_bad_config);
	tcase_add_test(tc, test_check_accepts_example);
	tcase_add_test(tc, test_merged_feed);
	tcase_add_test(tc, test_status_and_ctl);
	tcase_add_test(tc, test_conditional_get);
	tcase_add_test(tc, test_ctl_without_daemon);
	tcase_add_test(tc, test_refuses_live_socket);
	tcase_add_test(tc, test_replaces_stale_socket);
	tcase_add_test(tc, test_locked_database);
	suite_add_tcase(s, tc);
	/* Its own case, so bench/crash.sh can run it alone (CK_RUN_CASE=crash). */
	tc = tcase_create("crash");
	tcase_set_timeout(tc, 3600);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_crash_during_ingest);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
