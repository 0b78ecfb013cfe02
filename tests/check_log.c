/*
 * check_log.c: util/log.c.  One line per event on stderr; "<N>" sd-daemon
 * priority prefixes only when stderr is the journal's stream (JOURNAL_STREAM
 * names its device and inode), "prog: level: " otherwise; the level from the
 * configuration filters.  Each test runs in its own process (Check forks), so
 * pointing stderr at a file is safe.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/testutil.h"

static char *dir, *errfile;

static void
setup(void)
{
	dir = tu_mkdtemp();
	errfile = xasprintf("%s/stderr", dir);
	unsetenv("JOURNAL_STREAM");
}

static void
teardown(void)
{
	tu_rmtree(dir);
	free(dir), free(errfile);
}

/* JOURNAL_STREAM=dev:ino of `path`, as systemd sets it for the stream it gives. */
static void
set_journal_stream(const char *path)
{
	struct stat st;
	char value[64];

	ck_assert_int_eq(stat(path, &st), 0);
	snprintf(value, sizeof value, "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", value, 1);
}

/* Point our stderr at a new, empty file; captured() reads it back. */
static void
capture_stderr(void)
{
	int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
}

static char *
captured(void)
{
	char *text = tu_read_file(errfile, NULL);

	ck_assert_ptr_nonnull(text);
	return text;
}

START_TEST(test_terminal_format)
{
	char *text;

	capture_stderr();
	log_init("feedmuxd");
	log_set_level(LOG_LVL_INFO);
	log_warnx("feed %s: HTTP status %d", "lwn", 404);
	log_info("started");
	log_debug("not shown at info");
	errno = ENOENT;
	log_warn("database %s", "/x.db");
	text = captured();
	ck_assert_str_eq(text, "feedmuxd: warning: feed lwn: HTTP status 404\n"
			       "feedmuxd: info: started\n"
			       "feedmuxd: warning: database /x.db: No such file or directory\n");
	free(text);
}
END_TEST

START_TEST(test_journal_prefixes)
{
	char *text;

	capture_stderr();
	set_journal_stream(errfile);
	log_init("feedmuxd");
	log_set_level(LOG_LVL_DEBUG);
	log_msg(LOG_LVL_ERR, "e");
	log_warnx("w");
	log_notice("n");
	log_info("i");
	log_debug("d");
	text = captured();
	ck_assert_str_eq(text, "<3>e\n<4>w\n<5>n\n<6>i\n<7>d\n");
	free(text);
}
END_TEST

START_TEST(test_inherited_journal_stream_ignored)
{
	char *text;

	/* JOURNAL_STREAM names another file: our stderr was redirected, so no prefixes. */
	capture_stderr();
	set_journal_stream(tu_data("conf/ok-full.conf"));
	log_init("feedmuxd");
	log_warnx("w");
	text = captured();
	ck_assert_str_eq(text, "feedmuxd: warning: w\n");
	free(text);
}
END_TEST

START_TEST(test_level_filters)
{
	char *text;

	capture_stderr();
	set_journal_stream(errfile);
	log_init("feedmuxd");
	ck_assert_int_eq(log_level_from_name("warning"), LOG_LVL_WARNING);
	ck_assert_int_eq(log_level_from_name("loud"), -1);
	log_set_level(LOG_LVL_WARNING);
	log_info("i");
	log_notice("n");
	log_warnx("w");
	log_msg(LOG_LVL_ERR, "e");
	text = captured();
	ck_assert_str_eq(text, "<4>w\n<3>e\n");
	free(text);
}
END_TEST

START_TEST(test_one_event_one_line)
{
	char *text, *big = xmalloc(10000);

	capture_stderr();
	set_journal_stream(errfile);
	log_init("feedmuxd");
	/* a title with a newline must not forge a second entry */
	log_warnx("feed x: title \"a\n<3>forged\r\"");
	memset(big, 'a', 9999);
	big[9999] = '\0';
	log_warnx("%s", big);
	text = captured();
	ck_assert_uint_eq(strncmp(text, "<4>feed x: title \"a <3>forged \"\n<4>aaa", 38), 0);
	/* cut, but still one line */
	ck_assert_ptr_eq(strchr(text + 38, '\n'), text + strlen(text) - 1);
	ck_assert_uint_lt(strlen(text), 2100);
	free(text), free(big);
}
END_TEST

/* The daemon under a journal stream: levels as prefixes, feed lines naming the feed. */
START_TEST(test_daemon_under_journal)
{
	int port;
	pid_t httpd = tu_start_httpd(tu_data("feeds"), NULL, &port);
	char *conf = xasprintf("%s/feedmux.conf", dir);
	char *text = xasprintf("[feedmux]\ndatabase = %s/feedmux.db\nlisten = %s/s.sock\n"
			       "log_level = notice\n"
			       "[feed \"good\"]\nurl = http://127.0.0.1:%d/rss2-basic.xml\n"
			       "[feed \"missing\"]\nurl = http://127.0.0.1:%d/no-such-feed.xml\n",
	    dir, dir, port, port);
	char *argv[] = {FEEDMUXD, "-c", conf, "--once", NULL};
	pid_t pid;

	tu_write_file(conf, text);
	free(text);
	tu_write_file(errfile, "");
	set_journal_stream(errfile);
	pid = tu_spawn(argv, errfile);
	ck_assert_int_eq(tu_stop(pid, 0, 60), 0);
	unsetenv("JOURNAL_STREAM");
	text = captured();
	/* log_level = notice: the failure shows, the routine fetch does not */
	ck_assert_msg(strstr(text, "<4>feed missing: HTTP status 404\n") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "feed good:") == NULL, "%s", text);
	ck_assert_msg(strstr(text, "<6>") == NULL && strstr(text, "feedmuxd:") == NULL, "%s", text);
	free(text), free(conf);
	tu_stop(httpd, SIGTERM, 5);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_terminal_format);
	tcase_add_test(tc, test_journal_prefixes);
	tcase_add_test(tc, test_inherited_journal_stream_ignored);
	tcase_add_test(tc, test_level_filters);
	tcase_add_test(tc, test_one_event_one_line);
	tcase_add_test(tc, test_daemon_under_journal);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
