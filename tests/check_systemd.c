/*
 * check_systemd.c: feedmuxd as systemd sees it, without systemd.
 *
 * The test binds a datagram socket and hands it to feedmuxd as NOTIFY_SOCKET,
 * the way the service manager does, then reads what the daemon says: READY=1
 * (only once it answers on its socket), STATUS= lines that follow the feeds,
 * WATCHDOG=1 when WATCHDOG_USEC and WATCHDOG_PID ask for it, STOPPING=1 on
 * SIGTERM.  The unit files are checked with systemd-analyze, which works on
 * files without a running systemd, the man pages they name with groff, and
 * `cmake --install` into a scratch root.
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
#include <time.h>
#include <unistd.h>

#include "tests/testutil.h"

#define MAX_MESSAGES 256

static char *dir;
static pid_t httpd;
static int port;
static char *conf_path, *sock_path, *notify_path, *log_path;
static int notify_fd = -1;

static void
setup(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char *text;

	dir = tu_mkdtemp();
	httpd = tu_start_httpd(tu_data("feeds"), NULL, &port);
	conf_path = xasprintf("%s/feedmux.conf", dir);
	sock_path = xasprintf("%s/feedmux.sock", dir);
	notify_path = xasprintf("%s/notify.sock", dir);
	log_path = xasprintf("%s/feedmuxd.log", dir);
	text = xasprintf("[feedmux]\ndatabase = %s/feedmux.db\nlisten = %s\ninterval = 1h\n"
			 "[feed \"good\"]\nurl = http://127.0.0.1:%d/rss2-basic.xml\n"
			 "[feed \"missing\"]\nurl = http://127.0.0.1:%d/no-such-feed.xml\n",
	    dir, sock_path, port, port);
	tu_write_file(conf_path, text);
	free(text);

	/* What the service manager does: a datagram socket, named in NOTIFY_SOCKET. */
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(notify_fd, 0);
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", notify_path);
	ck_assert_int_eq(bind(notify_fd, (struct sockaddr *)&sun, sizeof sun), 0);
}

static void
teardown(void)
{
	close(notify_fd);
	tu_stop(httpd, SIGTERM, 5);
	tu_rmtree(dir);
	free(dir), free(conf_path), free(sock_path), free(notify_path), free(log_path);
}

/*
 * Start feedmuxd with NOTIFY_SOCKET set and, when watchdog_usec is not NULL,
 * WATCHDOG_USEC; WATCHDOG_PID names the daemon itself, or pid 1 when
 * `wrong_pid` (then the watchdog is meant for someone else).
 */
static pid_t
spawn_notified(const char *watchdog_usec, bool wrong_pid)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char self[32];

		snprintf(self, sizeof self, "%ld", wrong_pid ? 1L : (long)getpid());
		setenv("NOTIFY_SOCKET", notify_path, 1);
		if (watchdog_usec != NULL) {
			setenv("WATCHDOG_USEC", watchdog_usec, 1);
			setenv("WATCHDOG_PID", self, 1);
		}
		if (freopen(log_path, "a", stderr) != NULL) {
			char *argv[] = {FEEDMUXD, "-c", conf_path, NULL};

			tu_exec(argv);
		}
		_exit(127);
	}
	return pid;
}

/* The next datagram, NUL-terminated, or NULL after timeout_ms. */
static char *
next_message(int timeout_ms)
{
	struct pollfd p = {notify_fd, POLLIN, 0};
	char msg[4096];
	ssize_t n;

	if (poll(&p, 1, timeout_ms) != 1)
		return NULL;
	n = recv(notify_fd, msg, sizeof msg - 1, 0);
	ck_assert_int_gt(n, 0);
	msg[n] = '\0';
	return xstrdup(msg);
}

/* Read messages until one contains `want`; returns it (or NULL after timeout_s). */
static char *
wait_message(const char *want, int timeout_s)
{
	time_t deadline = time(NULL) + timeout_s;

	while (time(NULL) <= deadline) {
		char *msg = next_message(200);

		if (msg != NULL && strstr(msg, want) != NULL)
			return msg;
		free(msg);
	}
	return NULL;
}

/* Whether the Unix socket at `path` takes a connection right now (no waiting). */
static bool
accepts_now(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc;

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof sun);
	close(fd);
	return rc == 0;
}

START_TEST(test_ready_status_stopping)
{
	char *msg, *log;
	pid_t pid = spawn_notified(NULL, false);

	/* The first word is READY=1, and by then the socket answers. */
	msg = next_message(30000);
	ck_assert_msg(msg != NULL, "no notification from feedmuxd");
	ck_assert_msg(strncmp(msg, "READY=1\n", 8) == 0, "first message: %s", msg);
	ck_assert_msg(accepts_now(sock_path), "READY=1 before %s accepts connections", sock_path);
	ck_assert_msg(strstr(msg, "\nSTATUS=2 feeds, 0 items") != NULL, "%s", msg);
	free(msg);
	ck_assert_int_eq(tu_http_get(sock_path, "/status", NULL, NULL), 200);

	/* After the first polls the status counts the items and names the failing feed. */
	msg = wait_message("STATUS=2 feeds, 4 items, 1 failing (missing)", 30);
	ck_assert_msg(msg != NULL, "no STATUS with the polled feeds");
	free(msg);

	kill(pid, SIGTERM);
	msg = wait_message("STOPPING=1", 10);
	ck_assert_msg(msg != NULL, "no STOPPING=1 after SIGTERM");
	free(msg);
	/* and then it exits, cleanly */
	ck_assert_int_eq(tu_stop(pid, 0, 10), 0);
	log = tu_read_file(log_path, NULL);
	ck_assert_msg(strstr(log, "SIGTERM: shutting down") != NULL, "%s", log);
	ck_assert_msg(strstr(log, "cannot notify") == NULL, "%s", log);
	free(log);
}
END_TEST

START_TEST(test_watchdog)
{
	int watchdogs = 0;
	char *msg;
	pid_t pid = spawn_notified("100000", false);

	msg = wait_message("READY=1", 30);
	ck_assert_msg(msg != NULL, "no READY=1");
	free(msg);
	/* every 50 ms, from the event loop: a handful in well under ten seconds */
	while (watchdogs < 5 && (msg = next_message(10000)) != NULL) {
		watchdogs += strcmp(msg, "WATCHDOG=1") == 0;
		free(msg);
	}
	ck_assert_int_ge(watchdogs, 5);
	ck_assert_int_eq(tu_stop(pid, SIGTERM, 10), 0);
}
END_TEST

START_TEST(test_watchdog_for_another_pid)
{
	char *msg;
	pid_t pid = spawn_notified("100000", true);

	msg = wait_message("READY=1", 30);
	ck_assert_msg(msg != NULL, "no READY=1");
	free(msg);
	/* WATCHDOG_PID names another process: ten intervals pass without a keep-alive */
	msg = wait_message("WATCHDOG=1", 1);
	ck_assert_msg(msg == NULL, "keep-alive sent for another process's watchdog");
	ck_assert_int_eq(tu_stop(pid, SIGTERM, 10), 0);
}
END_TEST

START_TEST(test_config_error_is_status_2)
{
	char *argv[] = {FEEDMUXD, "-c", conf_path, NULL};
	char *err = NULL;

	/* The unit's RestartPreventExitStatus=2 relies on this. */
	tu_write_file(conf_path, "[feedmux]\ninterval = soon\n");
	ck_assert_int_eq(tu_run(argv, 30, NULL, &err), 2);
	ck_assert_msg(strstr(err, ":2: interval = soon: bad duration") != NULL, "%s", err);
	free(err);
	/* nothing was said to the service manager */
	ck_assert_ptr_null(next_message(0));
}
END_TEST

/* A folder with man1/ man5/ man8/ holding our pages, as `man` wants them. */
static char *
make_manpath(void)
{
	static const char *const pages[] = {"feedmuxctl.1", "feedmux.conf.5", "feedmuxd.8"};
	char *mandir = xasprintf("%s/man", dir);

	ck_assert_int_eq(mkdir(mandir, 0755), 0);
	for (size_t i = 0; i < 3; i++) {
		const char *sect = strrchr(pages[i], '.') + 1;
		char *sub = xasprintf("%s/man%s", mandir, sect);
		char *src = xasprintf("%s/%s", MAN_DIR, pages[i]);
		char *dst = xasprintf("%s/%s", sub, pages[i]);

		ck_assert_int_eq(mkdir(sub, 0755), 0);
		ck_assert_int_eq(symlink(src, dst), 0);
		free(sub), free(src), free(dst);
	}
	return mandir;
}

START_TEST(test_units_verify)
{
	char *argv[] = {"/usr/bin/systemd-analyze", "verify", UNIT_DIR "/feedmux.service",
		UNIT_DIR "/feedmux.socket", NULL};
	char *out = NULL, *err = NULL, *mandir = make_manpath();

	/* Documentation= names our man pages: verify runs man(1) on each. */
	setenv("MANPATH", mandir, 1);
	ck_assert_int_eq(tu_run(argv, 60, &out, &err), 0);
	unsetenv("MANPATH");
	ck_assert_msg(out[0] == '\0' && err[0] == '\0', "systemd-analyze verify:\n%s%s", out, err);
	free(out), free(err), free(mandir);
}
END_TEST

START_TEST(test_units_security)
{
	char *unit = xasprintf("%s/feedmux.service", UNIT_DIR);
	char *argv[] = {"/usr/bin/systemd-analyze", "security", "--offline=yes", "--no-pager", unit,
		NULL};
	char *out = NULL, *err = NULL;
	const char *p;
	double exposure;

	tu_run(argv, 60, &out, &err);
	p = strstr(out, "Overall exposure level for feedmux.service: ");
	ck_assert_msg(p != NULL, "%s%s", out, err);
	exposure = strtod(p + strlen("Overall exposure level for feedmux.service: "), NULL);
	ck_assert_msg(exposure > 0 && exposure <= 1.5, "exposure %.1f, above 1.5:\n%s", exposure,
	    out);
	free(out), free(err), free(unit);
}
END_TEST

START_TEST(test_man_pages)
{
	static const char *const pages[] = {"feedmuxctl.1", "feedmux.conf.5", "feedmuxd.8"};

	for (size_t i = 0; i < 3; i++) {
		char *path = xasprintf("%s/%s", MAN_DIR, pages[i]);
		char *argv[] = {"/usr/bin/groff", "-man", "-ww", "-z", "-Tutf8", path, NULL};
		char *err = NULL;

		/* -ww: every warning; -z: no output, only the check */
		ck_assert_int_eq(tu_run(argv, 30, NULL, &err), 0);
		ck_assert_msg(err[0] == '\0', "%s:\n%s", pages[i], err);
		free(err), free(path);
	}
}
END_TEST

/* `cmake --install` into a DESTDIR: every file where an operator and systemd look. */
START_TEST(test_install)
{
	static const char *const files[] = {"/usr/local/sbin/feedmuxd", "/usr/local/bin/feedmuxctl",
		"/usr/local/lib/systemd/system/feedmux.service",
		"/usr/local/lib/systemd/system/feedmux.socket", "/usr/local/lib/sysusers.d/feedmux.conf",
		"/usr/local/share/man/man1/feedmuxctl.1", "/usr/local/share/man/man5/feedmux.conf.5",
		"/usr/local/share/man/man8/feedmuxd.8", "/etc/feedmux/feedmux.conf"};
	char *argv[] = {CMAKE_COMMAND, "--install", BUILD_DIR, "--prefix", "/usr/local", NULL};
	char *root = xasprintf("%s/root", dir), *out = NULL, *err = NULL, *path, *text;

	setenv("DESTDIR", root, 1);
	ck_assert_int_eq(tu_run(argv, 120, &out, &err), 0);
	free(out), free(err);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		path = xasprintf("%s%s", root, files[i]);
		ck_assert_msg(access(path, R_OK) == 0, "not installed: %s", files[i]);
		free(path);
	}
	path = xasprintf("%s/usr/local/lib/systemd/system/feedmux.service", root);
	text = tu_read_file(path, NULL);
	ck_assert_msg(strstr(text, "\nExecStart=/usr/local/sbin/feedmuxd -c /etc/feedmux/feedmux.conf\n") !=
	    NULL, "%s", text);
	free(text), free(path);

	/* a second install keeps the operator's configuration */
	path = xasprintf("%s/etc/feedmux/feedmux.conf", root);
	tu_write_file(path, "[feedmux]\n# mine\n");
	ck_assert_int_eq(tu_run(argv, 120, &out, &err), 0);
	ck_assert_msg(strstr(out, "Keeping: ") != NULL, "%s", out);
	free(out), free(err);
	text = tu_read_file(path, NULL);
	ck_assert_str_eq(text, "[feedmux]\n# mine\n");
	free(text), free(path), free(root);
	unsetenv("DESTDIR");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("systemd");
	TCase *tc = tcase_create("notify");
	TCase *units = tcase_create("units");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ready_status_stopping);
	tcase_add_test(tc, test_watchdog);
	tcase_add_test(tc, test_watchdog_for_another_pid);
	tcase_add_test(tc, test_config_error_is_status_2);
	suite_add_tcase(s, tc);
	tcase_set_timeout(units, 120);
	tcase_add_checked_fixture(units, setup, teardown);
	tcase_add_test(units, test_units_verify);
	tcase_add_test(units, test_units_security);
	tcase_add_test(units, test_man_pages);
	tcase_add_test(units, test_install);
	suite_add_tcase(s, units);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
