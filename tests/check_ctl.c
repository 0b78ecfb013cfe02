/*
 * check_ctl.c: feedmuxctl, run as a user would.  Against a real feedmuxd
 * polling a fixture server; against fixture-httpd standing in for a daemon
 * (for answers this feedmuxd does not give yet: /feed.rss, /feed.json,
 * /opml); against nothing at all, and a socket it may not open.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "tests/testutil.h"

static char *dir;
static pid_t httpd;
static int port;
static char *conf_path, *sock_path;

static void
setup(void)
{
	dir = tu_mkdtemp();
	httpd = tu_start_httpd(tu_data("feeds"), NULL, &port);
	conf_path = xasprintf("%s/feedmux.conf", dir);
	sock_path = xasprintf("%s/feedmux.sock", dir);
}

static void
teardown(void)
{
	tu_stop(httpd, SIGTERM, 5);
	tu_rmtree(dir);
	free(dir), free(conf_path), free(sock_path);
}

/* feedmuxctl with `args` (NULL-terminated); stdout and stderr into *out, *err. */
static int
ctl(char **out, char **err, char *const args[])
{
	char *argv[16] = {FEEDMUXCTL};
	size_t n = 1;
	int rc;

	while (n < 15 && args[n - 1] != NULL) {
		argv[n] = args[n - 1];
		n++;
	}
	argv[n] = NULL;
	rc = tu_run(argv, 30, out, err);
	ck_assert_int_ge(rc, 0);
	return rc;
}
#define CTL(out, err, ...) ctl(out, err, (char *[]){__VA_ARGS__, NULL})

/* A daemon for two fixture feeds, one of them missing, each polled once already. */
static pid_t
start_daemon(void)
{
	char *text = xasprintf("[feedmux]\ndatabase = %s/feedmux.db\nlisten = %s\ninterval = 1h\n"
			       "[feed \"good\"]\nurl = http://127.0.0.1:%d/rss2-basic.xml\n"
			       "[feed \"missing\"]\nurl = http://127.0.0.1:%d/no-such-feed.xml\n",
	    dir, sock_path, port, port);
	char *once[] = {FEEDMUXD, "-c", conf_path, "--once", NULL};
	char *run[] = {FEEDMUXD, "-c", conf_path, NULL};
	char *log = xasprintf("%s/feedmuxd.log", dir);
	pid_t pid;

	tu_write_file(conf_path, text);
	free(text);
	ck_assert_int_eq(tu_run(once, 60, NULL, NULL), 0);
	pid = tu_spawn(run, log);
	free(log);
	ck_assert_msg(tu_wait_socket(sock_path, 30), "feedmuxd did not listen");
	return pid;
}

START_TEST(test_status)
{
	char *out, *err;
	pid_t pid = start_daemon();

	ck_assert_int_eq(CTL(&out, &err, "-s", sock_path, "status"), 0);
	ck_assert_msg(strncmp(out, "feedmuxd " FEEDMUX_VERSION " on ", 13) == 0, "%s", out);
	ck_assert_msg(strstr(out, "\nfeeds       2, 1 failing: missing\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "\nitems       4\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "\nlast fetch  ") != NULL && strstr(out, " ago\n") != NULL, "%s",
	    out);
	ck_assert_msg(strstr(out, "\nnext poll   in ") != NULL, "%s", out);
	ck_assert_str_eq(err, "");
	free(out), free(err);
	ck_assert_int_eq(tu_stop(pid, SIGTERM, 30), 0);
}
END_TEST

START_TEST(test_feeds_table)
{
	char *out, *err, *line2, *line3;
	pid_t pid = start_daemon();

	ck_assert_int_eq(CTL(&out, &err, "-s", sock_path, "feeds"), 0);
	/* a header, then one row per feed in name order, columns aligned */
	ck_assert_msg(strncmp(out, "FEED     HTTP  ITEMS  LAST FETCH  NEXT POLL  ERROR\n", 51) == 0,
	    "%s", out);
	line2 = strchr(out, '\n') + 1;
	line3 = strchr(line2, '\n') + 1;
	ck_assert_msg(strncmp(line2, "good      200      4  ", 22) == 0, "%s", out);
	ck_assert_msg(strncmp(line3, "missing   404      0  ", 22) == 0, "%s", out);
	ck_assert_msg(strstr(line2, " ago  ") != NULL && strstr(line2, "in ") != NULL, "%s", out);
	ck_assert_msg(strstr(line2, "  -\n") != NULL, "%s", out);
	ck_assert_msg(strstr(line3, "  HTTP status 404\n") != NULL, "%s", out);
	free(out), free(err);
	ck_assert_int_eq(tu_stop(pid, SIGTERM, 30), 0);
}
END_TEST

START_TEST(test_export_and_opml_from_daemon)
{
	char *out, *err;
	xmlDocPtr doc;
	pid_t pid = start_daemon();

	ck_assert_int_eq(CTL(&out, &err, "-s", sock_path, "export"), 0);
	ck_assert_msg(strstr(out, "<feed xmlns=\"http://www.w3.org/2005/Atom\"") != NULL, "%s", out);
	free(out), free(err);

	ck_assert_int_eq(CTL(&out, &err, "-s", sock_path, "opml"), 0);
	doc = xmlReadMemory(out, (int)strlen(out), "opml", NULL, XML_PARSE_NONET);
	ck_assert_msg(doc != NULL, "not well-formed: %s", out);
	xmlFreeDoc(doc);
	ck_assert_msg(strstr(out, "<opml version=\"2.0\">") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "text=\"Fixture RSS\"") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "text=\"missing\"") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "/no-such-feed.xml\"") != NULL, "%s", out);
	free(out), free(err);

	ck_assert_int_eq(CTL(&out, &err, "-s", sock_path, "export", "--format", "gopher"), 2);
	ck_assert_msg(strstr(err, "unknown format gopher") != NULL, "%s", err);
	free(out), free(err);
	ck_assert_int_eq(tu_stop(pid, SIGTERM, 30), 0);
}
END_TEST

START_TEST(test_export_formats_by_path)
{
	char *out, *err, *addr;
	pid_t other;
	int other_port;

	/* fixture-httpd stands in for a daemon that serves every format and /opml */
	other = tu_start_httpd(tu_data("ctl"), NULL, &other_port);
	addr = xasprintf("127.0.0.1:%d", other_port);
	ck_assert_int_eq(CTL(&out, &err, "-s", addr, "export", "--format=rss"), 0);
	ck_assert_msg(strstr(out, "<title>served as RSS</title>") != NULL, "%s", out);
	free(out), free(err);
	ck_assert_int_eq(CTL(&out, &err, "-s", addr, "export", "--format", "json"), 0);
	ck_assert_msg(strstr(out, "\"served as JSON Feed\"") != NULL, "%s", out);
	free(out), free(err);
	ck_assert_int_eq(CTL(&out, &err, "-s", addr, "opml"), 0);
	ck_assert_msg(strstr(out, "served by the daemon itself") != NULL, "%s", out);
	free(out), free(err);
	/* no /feed.atom there: said plainly */
	ck_assert_int_eq(CTL(&out, &err, "-s", addr, "export"), 1);
	ck_assert_msg(strstr(err, "does not serve atom (/feed.atom)") != NULL, "%s", err);
	free(out), free(err);
	free(addr);
	tu_stop(other, SIGTERM, 5);
}
END_TEST

START_TEST(test_import_opml)
{
	char *out, *err, *base, *merged, *merged_path;
	char *check[] = {FEEDMUXD, "-c", NULL, "--check", NULL};

	base = xasprintf("[feedmux]\ndatabase = %s/feedmux.db\nlisten = %s\n"
			 "[feed \"lwn\"]\nurl = https://lwn.net/headlines/rss\n",
	    dir, sock_path);
	tu_write_file(conf_path, base);
	ck_assert_int_eq(CTL(&out, &err, "-c", conf_path, "import-opml",
			     (char *)tu_data("opml/subscriptions.opml")),
	    0);
	/* folder and category become tags; quotes and slashes never reach a name */
	ck_assert_msg(strstr(out, "\n# Kernel & \"Friends\" / News\n[feed \"kernel-friends-news\"]\n"
				  "url = https://Kernel.EXAMPLE:443/feed.atom\n"
				  "tags = linux tech kernel weekly\n") != NULL,
	    "%s", out);
	ck_assert_msg(strstr(out, "\n# Der Spiegel – Schlagzeilen\n[feed \"der-spiegel-schlagzeilen\"]\n"
				  "url = http://spiegel.example/schlagzeilen/index.rss\n"
				  "tags = news-and-weather\n") != NULL,
	    "%s", out);
	/* no title: named after the host */
	ck_assert_msg(strstr(out, "\n[feed \"no-title.example\"]\n") != NULL, "%s", out);
	/* a name taken by another URL gets a suffix */
	ck_assert_msg(strstr(out, "\n[feed \"lwn.net\"]\nurl = https://lwn.net/other.rss\n") != NULL,
	    "%s", out);
	/* already in the configuration (twice in the file): not printed again */
	ck_assert_msg(strstr(out, "headlines/rss") == NULL, "%s", out);
	ck_assert_msg(strstr(out, "passwd") == NULL && strstr(out, "broken") == NULL, "%s", out);
	ck_assert_msg(strstr(err, "subscriptions.opml:8: https://lwn.net/headlines/rss: already "
				  "there as feed \"lwn\"") != NULL,
	    "%s", err);
	ck_assert_msg(strstr(err, ":15: file:///etc/passwd: skipped: only http and https") != NULL,
	    "%s", err);
	ck_assert_msg(strstr(err, ":16: http://[broken: skipped: not a URL") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "4 feeds to add, 2 already there, 2 skipped") != NULL, "%s", err);

	/* what it prints, appended, is a valid configuration */
	merged = xasprintf("%s%s", base, out);
	merged_path = xasprintf("%s/merged.conf", dir);
	tu_write_file(merged_path, merged);
	free(out), free(err);
	check[2] = merged_path;
	ck_assert_int_eq(tu_run(check, 30, &out, &err), 0);
	ck_assert_msg(strstr(out, "configuration valid (5 feeds)") != NULL, "%s%s", out, err);
	free(out), free(err), free(base), free(merged), free(merged_path);
}
END_TEST

START_TEST(test_import_opml_bad_files)
{
	char *out, *err;

	ck_assert_int_eq(CTL(&out, &err, "-c", "/nonexistent.conf", "import-opml",
			     (char *)tu_data("opml/malformed.opml")),
	    2);
	ck_assert_msg(strstr(err, "/nonexistent.conf: cannot read") != NULL, "%s", err);
	free(out), free(err);
	tu_write_file(conf_path, "[feedmux]\n");
	ck_assert_int_eq(CTL(&out, &err, "-c", conf_path, "import-opml",
			     (char *)tu_data("opml/malformed.opml")),
	    1);
	ck_assert_msg(strstr(err, "malformed.opml:5: ") != NULL, "%s", err);
	free(out), free(err);
	ck_assert_int_eq(CTL(&out, &err, "-c", conf_path, "import-opml",
			     (char *)tu_data("opml/not-opml.opml")),
	    1);
	ck_assert_msg(strstr(err, "not an OPML file") != NULL, "%s", err);
	free(out), free(err);
	ck_assert_int_eq(CTL(&out, &err, "import-opml", "/nonexistent.opml", "-c"), 2);
	free(out), free(err);
}
END_TEST

START_TEST(test_check)
{
	char *out, *err;

	ck_assert_int_eq(CTL(&out, &err, "check", EXAMPLE_CONF), 0);
	ck_assert_msg(strstr(out, "configuration valid: 3 feeds, 0 outputs") != NULL, "%s", out);
	free(out), free(err);
	ck_assert_int_eq(CTL(&out, &err, "-c", (char *)tu_data("conf/bad-unknown-key.conf"), "check"),
	    2);
	ck_assert_msg(strstr(err, "bad-unknown-key.conf:6: unknown key 'colour'") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "configuration not valid (1 error)") != NULL, "%s", err);
	free(out), free(err);
	ck_assert_int_eq(CTL(&out, &err, "check", "a.conf", "b.conf"), 2);
	free(out), free(err);
}
END_TEST

START_TEST(test_not_running)
{
	char *out, *err;
	int fd;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	ck_assert_int_eq(CTL(&out, &err, "-s", sock_path, "status"), 3);
	ck_assert_msg(strstr(err, "is feedmuxd running?") != NULL, "%s", err);
	free(out), free(err);
	/* a socket file nobody listens on, as a dead daemon leaves */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock_path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	close(fd);
	ck_assert_int_eq(CTL(&out, &err, "-s", sock_path, "feeds"), 3);
	ck_assert_msg(strstr(err, "feedmuxd is not running") != NULL, "%s", err);
	free(out), free(err);
	/* TCP: nothing on that port (the fixture server's port, once it is gone) */
	tu_stop(httpd, SIGTERM, 5);
	out = xasprintf("127.0.0.1:%d", port);
	ck_assert_int_eq(CTL(NULL, &err, "-s", out, "status"), 3);
	ck_assert_msg(strstr(err, "no feedmuxd answers on 127.0.0.1:") != NULL, "%s", err);
	free(out), free(err);
	httpd = tu_start_httpd(tu_data("feeds"), NULL, &port);
}
END_TEST

START_TEST(test_permission_denied)
{
	int pfd[2], status;
	char err[512] = "";
	ssize_t n;
	pid_t pid, ctlpid;

	if (geteuid() != 0)
		return; /* the check needs to become another user */
	pid = start_daemon();
	/* our temporary folder is 0700: another user cannot reach the socket in it */
	ck_assert_int_eq(pipe(pfd), 0);
	ctlpid = fork();
	if (ctlpid == 0) {
		dup2(pfd[1], 2);
		if (setgid(65534) == 0 && setuid(65534) == 0) {
			char *argv[] = {FEEDMUXCTL, "-s", sock_path, "status", NULL};

			tu_exec(argv);
		}
		_exit(127);
	}
	close(pfd[1]);
	n = read(pfd[0], err, sizeof err - 1);
	err[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	ck_assert_int_eq(waitpid(ctlpid, &status, 0), ctlpid);
	ck_assert_msg(WEXITSTATUS(status) == 4, "exit status %d: %s", WEXITSTATUS(status), err);
	ck_assert_msg(strstr(err, "permission denied") != NULL, "%s", err);
	ck_assert_int_eq(tu_stop(pid, SIGTERM, 30), 0);
}
END_TEST

/* Wait until `path` holds `needle` on `n` lines. */
static bool
wait_lines(const char *path, const char *needle, int n)
{
	for (int waited = 0; waited < 300; waited++) {
		if (tu_count_in_file(path, needle) >= n)
			return true;
		usleep(100000);
	}
	return false;
}

/*
 * refresh: a POST over the daemon's Unix socket, which polls the feed now
 * (a conditional request); over TCP the daemon serves GET and HEAD only,
 * and feedmuxctl says so without asking.
 */
START_TEST(test_refresh)
{
	char *out, *err, *text, *tcp, *requests = xasprintf("%s/requests.log", dir);
	char *run[] = {FEEDMUXD, "-c", conf_path, NULL};
	char *log = xasprintf("%s/feedmuxd.log", dir);
	int tcp_port = tu_free_port();
	pid_t pid;

	tu_stop(httpd, SIGTERM, 5);
	httpd = tu_start_httpd(tu_data("feeds"), requests, &port);
	tcp = xasprintf("127.0.0.1:%d", tcp_port);
	text = xasprintf("[feedmux]\ndatabase = %s/feedmux.db\nlisten = %s %s\ninterval = 1h\n"
			 "[feed \"good\"]\nurl = http://127.0.0.1:%d/rss2-basic.xml\n"
			 "[feed \"missing\"]\nurl = http://127.0.0.1:%d/no-such-feed.xml\n",
	    dir, sock_path, tcp, port, port);
	tu_write_file(conf_path, text);
	free(text);
	pid = tu_spawn(run, log);
	ck_assert(tu_wait_socket(sock_path, 30));
	/* new feeds: polled within seconds of the start */
	ck_assert(wait_lines(requests, "GET /rss2-basic.xml -", 1));
	ck_assert(wait_lines(requests, "GET /no-such-feed.xml", 1));
	ck_assert(tu_wait_text(log, "feed good: 5 items", 30));

	ck_assert_int_eq(CTL(&out, &err, "-s", sock_path, "refresh", "good"), 0);
	ck_assert_str_eq(out, "good: queued\n");
	free(out), free(err);
	/* polled again at once, with the ETag it had: a conditional request */
	ck_assert(wait_lines(requests, "GET /rss2-basic.xml \"", 1));
	ck_assert(tu_wait_text(log, "feed good: not modified", 30));

	ck_assert_int_eq(CTL(&out, &err, "-s", sock_path, "refresh"), 0);
	ck_assert_msg(strstr(out, " queued, ") != NULL && strstr(out, ", 0 disabled (410 Gone)\n"),
	    "%s", out);
	free(out), free(err);
	/* every feed polled once more */
	ck_assert(wait_lines(requests, "GET /no-such-feed.xml", 2));
	ck_assert(wait_lines(requests, "GET /rss2-basic.xml", 3));

	ck_assert_int_eq(CTL(&out, &err, "-s", sock_path, "refresh", "nosuch"), 1);
	ck_assert_msg(strstr(err, "refresh: no feed is called nosuch") != NULL, "%s", err);
	free(out), free(err);
	ck_assert_int_eq(CTL(&out, &err, "-s", tcp, "refresh"), 2);
	ck_assert_msg(strstr(err, "only GET and HEAD; use its Unix socket") != NULL, "%s", err);
	free(out), free(err);

	/* what other clients meet: over TCP a POST is refused as any POST is, and GET is 404 */
	ck_assert_int_eq(tu_http_post(tcp, "/refresh", NULL, NULL), 405);
	ck_assert_int_eq(tu_http_get(tcp, "/refresh", NULL, NULL), 404);
	ck_assert_int_eq(tu_http_get(sock_path, "/refresh", NULL, NULL), 405);
	ck_assert_int_eq(tu_http_post(sock_path, "/status", NULL, NULL), 405);
	ck_assert_int_eq(tu_http_post(sock_path, "/refresh?feed=missing", &text, NULL), 202);
	ck_assert_msg(strstr(text, "\"disabled\": 0}") != NULL, "%s", text);
	free(text);
	ck_assert(wait_lines(requests, "GET /no-such-feed.xml", 3));
	/* and only the feed named */
	ck_assert_int_eq(tu_count_in_file(requests, "GET /rss2-basic.xml"), 3);
	ck_assert_int_eq(tu_stop(pid, SIGTERM, 30), 0);
	free(requests), free(log), free(tcp);
}
END_TEST

START_TEST(test_usage)
{
	char *out, *err;

	ck_assert_int_eq(ctl(&out, &err, (char *[]){NULL}), 2);
	free(out), free(err);
	ck_assert_int_eq(CTL(&out, &err, "frobnicate"), 2);
	ck_assert_msg(strstr(err, "frobnicate: unknown command") != NULL, "%s", err);
	free(out), free(err);
	ck_assert_int_eq(CTL(&out, &err, "--help"), 0);
	ck_assert_msg(strstr(out, "import-opml FILE") != NULL, "%s", out);
	free(out), free(err);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ctl");
	TCase *tc = tcase_create("ctl");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_feeds_table);
	tcase_add_test(tc, test_export_and_opml_from_daemon);
	tcase_add_test(tc, test_export_formats_by_path);
	tcase_add_test(tc, test_import_opml);
	tcase_add_test(tc, test_import_opml_bad_files);
	tcase_add_test(tc, test_check);
	tcase_add_test(tc, test_not_running);
	tcase_add_test(tc, test_permission_denied);
	tcase_add_test(tc, test_refresh);
	tcase_add_test(tc, test_usage);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
