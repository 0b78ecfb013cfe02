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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sqlite3.h>

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

/* ---- reload, stop in the middle of a poll, socket activation ---- */

/* The configuration: `feeds` after a [feedmux] section that starts new feeds at once. */
static void
write_conf(const char *feeds)
{
	char *text = xasprintf("[feedmux]\ndatabase = %s/feedmux.db\nlisten = %s\ninterval = 1h\n"
			       "start_spread = 0\n%s",
	    dir, sock_path, feeds);

	tu_write_file(conf_path, text);
	free(text);
}

/* [feed "NAME"] polling `file` of the fixture server. */
static char *
fixture_feed(const char *name, const char *file)
{
	return xasprintf("[feed \"%s\"]\nurl = http://127.0.0.1:%d/%s\n", name, port, file);
}

/* SIGHUP, then RELOADING=1 and READY=1 in that order; returns the RELOADING=1 message. */
static char *
reload(pid_t pid)
{
	char *reloading, *ready;

	kill(pid, SIGHUP);
	reloading = wait_message("RELOADING=1", 30);
	ck_assert_msg(reloading != NULL, "no RELOADING=1 after SIGHUP");
	ready = wait_message("READY=1", 30);
	ck_assert_msg(ready != NULL, "no READY=1 after RELOADING=1");
	free(ready);
	return reloading;
}

static void
wait_ready(void)
{
	char *msg = wait_message("READY=1", 30);

	ck_assert_msg(msg != NULL, "no READY=1");
	free(msg);
}

/* One number from the database. */
static int64_t
db_count(const char *sql)
{
	char *path = xasprintf("%s/feedmux.db", dir);
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
	    sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(path);
	return n;
}

/* Items stored for feed `name`. */
static int64_t
items_of(const char *name)
{
	char *sql = xasprintf("SELECT count(*) FROM items i JOIN feeds f ON f.id = i.feed_id"
			      " WHERE f.name = '%s'", name);
	int64_t n = db_count(sql);

	free(sql);
	return n;
}

/* The database is whole, and no item is there twice. */
static void
assert_consistent(void)
{
	ck_assert_int_eq(db_count("SELECT count(*) FROM pragma_integrity_check"
				  " WHERE integrity_check != 'ok'"), 0);
	ck_assert_int_eq(db_count("SELECT count(*) FROM (SELECT 1 FROM items"
				  " GROUP BY feed_id, identity HAVING count(*) > 1)"), 0);
}

START_TEST(test_reload_notify)
{
	char *msg, *log, *body = NULL, *feeds = fixture_feed("good", "rss2-basic.xml");
	const char *p;
	unsigned long long usec, now;
	struct timespec ts;
	pid_t pid;

	write_conf(feeds);
	pid = spawn_notified(NULL, false);
	wait_ready();
	msg = reload(pid);
	/* MONOTONIC_USEC= beside RELOADING=1: when the reload began, on CLOCK_MONOTONIC */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
	ck_assert_msg(strncmp(msg, "RELOADING=1\n", 12) == 0, "%s", msg);
	ck_assert_msg((p = strstr(msg, "\nMONOTONIC_USEC=")) != NULL, "%s", msg);
	usec = strtoull(p + 16, NULL, 10);
	ck_assert_msg(usec <= now && now - usec < 60000000ULL, "MONOTONIC_USEC=%llu, now %llu", usec,
	    now);
	free(msg);

	/* An invalid file: refused with its file:line, the old configuration stays in use. */
	tu_write_file(conf_path, "[feedmux]\ninterval = soon\n[feed \"other\"]\n");
	free(reload(pid));
	ck_assert(tu_wait_text(log_path, "reload refused", 10));
	log = tu_read_file(log_path, NULL);
	ck_assert_msg(strstr(log, "feedmux.conf:2: interval = soon: bad duration") != NULL, "%s",
	    log);
	ck_assert_msg(strstr(log, "feedmux.conf: reload refused: the running configuration stays"
				  " in use") != NULL, "%s", log);
	free(log);
	ck_assert_int_eq(tu_http_get(sock_path, "/status", &body, NULL), 200);
	ck_assert_msg(strstr(body, "\"name\": \"good\"") != NULL, "%s", body);
	ck_assert_msg(strstr(body, "\"other\"") == NULL, "%s", body);
	free(body);
	ck_assert_int_eq(tu_http_get(sock_path, "/metrics", &body, NULL), 200);
	ck_assert_msg(strstr(body, "\nfeedmux_reloads_total{result=\"ok\"} 1\n") != NULL, "%s", body);
	ck_assert_msg(strstr(body, "\nfeedmux_reloads_total{result=\"refused\"} 1\n") != NULL, "%s",
	    body);
	free(body);

	/* A key a reload cannot change keeps its value, with a word that a restart would. */
	log = xasprintf("[feedmux]\ndatabase = %s/other.db\nlisten = %s\ninterval = 1h\n%s", dir,
	    sock_path, feeds);
	tu_write_file(conf_path, log);
	free(log);
	free(reload(pid));
	ck_assert(tu_wait_text(log_path, "feedmux.conf: database changed: a reload cannot apply it",
	    10));
	ck_assert_int_eq(tu_http_get(sock_path, "/status", NULL, NULL), 200);
	ck_assert_int_eq(tu_stop(pid, SIGTERM, 30), 0);
	log = xasprintf("%s/other.db", dir);
	ck_assert_msg(access(log, F_OK) != 0, "a reload opened another database");
	free(log);
	free(feeds);
}
END_TEST

/*
 * A reload adds a feed and removes one while a client listens on /events:
 * the client stays connected and gets the new feed's items; the removed
 * feed's items stay in the database; named outputs follow the new file.
 */
START_TEST(test_reload_feeds_with_subscriber)
{
	char *good = fixture_feed("good", "rss2-basic.xml"), *rdf = fixture_feed("rdf", "rdf-basic.rdf");
	char *atom = fixture_feed("atom", "atom-basic.xml"), *text, *body = NULL;
	const char *req = "GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n";
	struct buf events;
	int64_t rdf_items;
	pid_t pid;
	int fd;

	text = xasprintf("%s%s", good, rdf);
	write_conf(text);
	free(text);
	pid = spawn_notified(NULL, false);
	wait_ready();
	ck_assert(tu_wait_text(log_path, "feed good: 5 items", 30));
	ck_assert(tu_wait_text(log_path, "feed rdf: ", 30));
	ck_assert_int_eq(tu_http_get(sock_path, "/outputs/atoms.atom", NULL, NULL), 404);

	fd = tu_connect_unix(sock_path);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	buf_init(&events, 0);
	ck_assert(tu_read_until(fd, &events, ": feedmux events", 10000));

	text = xasprintf("%s%s[output \"atoms\"]\nfeeds = atom\n", good, atom);
	write_conf(text);
	free(text);
	free(reload(pid));
	/* the same connection carries the added feed's items */
	ck_assert_msg(tu_read_until(fd, &events, "Atom one", 30000), "%s", events.data);
	ck_assert_msg(strstr(events.data, "event: item\ndata: {") != NULL, "%s", events.data);
	ck_assert_int_eq(tu_http_get(sock_path, "/status", &body, NULL), 200);
	ck_assert_msg(strstr(body, "\"subscribers\": 1") != NULL, "%s", body);
	ck_assert_msg(strstr(body, "\"name\": \"atom\"") != NULL, "%s", body);
	ck_assert_msg(strstr(body, "\"name\": \"good\"") != NULL, "%s", body);
	ck_assert_msg(strstr(body, "\"name\": \"rdf\"") == NULL, "%s", body);
	free(body);
	ck_assert_int_eq(tu_http_get(sock_path, "/outputs/atoms.atom", &body, NULL), 200);
	ck_assert_msg(strstr(body, "Atom one") != NULL && strstr(body, "RSS one") == NULL, "%s",
	    body);
	free(body);
	/* the merged feed no longer shows the removed feed, whose items are kept */
	ck_assert_int_eq(tu_http_get(sock_path, "/feed.atom", &body, NULL), 200);
	ck_assert_msg(strstr(body, "RDF a") == NULL && strstr(body, "RSS one") != NULL, "%s", body);
	free(body);
	close(fd);
	buf_free(&events);
	ck_assert_int_eq(tu_stop(pid, SIGTERM, 30), 0);
	rdf_items = items_of("rdf");
	ck_assert_msg(rdf_items > 0, "the removed feed's items are gone");
	assert_consistent();
	free(good), free(rdf), free(atom);
}
END_TEST

/*
 * A feed server that stalls: its first answer is the headers and the first
 * STALL_ITEMS items of a feed, then nothing, the connection held open (as a
 * server that hangs half-way); later requests get the whole feed,
 * STALL_ALL items.  It appends "stalled", "served" or "closed" (the
 * client hung up on the stalled answer) to `log` once each has happened.
 */
#define STALL_ITEMS 3
#define STALL_ALL   5

static void
stall_log(const char *log, const char *what)
{
	FILE *f = fopen(log, "a");

	if (f != NULL) {
		fprintf(f, "%s\n", what);
		fclose(f);
	}
}

/* The answer: headers and items 1..`n`, and the end of the document when `whole`. */
static char *
stall_answer(int n, bool whole)
{
	struct buf b;

	buf_init(&b, 0);
	buf_adds(&b, "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n\r\n"
		     "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>Stalled</title>\n");
	for (int i = 1; i <= n; i++)
		buf_addf(&b, "<item><guid>stall-%d</guid><title>Stalled %d</title></item>\n", i, i);
	/* half an item more, so the parser has surely closed those before it */
	buf_adds(&b, whole ? "</channel></rss>\n" : "<item><guid>stall-");
	return buf_steal(&b);
}

static void
stall_write(int fd, const char *text)
{
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		_exit(1);
}

static void
stall_run(int lfd, const char *log)
{
	struct pollfd fds[8] = {{lfd, POLLIN, 0}};
	nfds_t n = 1;
	int requests = 0;

	for (;;) {
		char req[4096];

		if (poll(fds, n, -1) < 0)
			continue;
		for (nfds_t i = 1; i < n; i++)
			if (fds[i].revents != 0 && read(fds[i].fd, req, sizeof req) <= 0) {
				close(fds[i].fd);
				fds[i--] = fds[--n];
				stall_log(log, "closed");
			}
		if (fds[0].revents & POLLIN) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			char *answer = stall_answer(requests == 0 ? STALL_ITEMS : STALL_ALL, requests > 0);

			if (c < 0 || read(c, req, sizeof req) <= 0)
				_exit(1);
			stall_write(c, answer);
			free(answer);
			if (requests++ == 0 && n < 8) {
				fds[n].fd = c;
				fds[n++].events = POLLIN;
				stall_log(log, "stalled");
			} else {
				close(c);
				stall_log(log, "served");
			}
		}
	}
}

static pid_t
start_stall_server(const char *log, int *stall_port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sin;
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(listen(lfd, 16), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	*stall_port = ntohs(sin.sin_port);
	if ((pid = fork()) == 0) {
		/* not Check's handler, which would take the whole test down with it */
		signal(SIGTERM, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		stall_run(lfd, log);
	}
	close(lfd);
	return pid;
}

/*
 * Whether the stalled answer has reached feedmuxd and been read by it: on
 * the server's side of the connection everything sent is acknowledged, and
 * on feedmuxd's nothing waits to be read (/proc/net/tcp).  What it read,
 * it parsed in the same turn of its loop.
 */
/* The next hexadecimal field of a /proc/net/tcp line, past blanks; then past a ':'. */
static unsigned long
next_hex(char **p)
{
	unsigned long v = strtoul(*p, p, 16);

	if (**p == ':')
		(*p)++;
	return v;
}

static bool
stall_drained(int stall_port)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[512];
	bool sent = false, read_all = false;

	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		/* "  sl: local_address:port rem_address:port st tx_queue:rx_queue ..." */
		char *p = strchr(line, ':');
		unsigned long lport, rport, state, tx, rx;

		if (p == NULL || strstr(line, "local_address") != NULL)
			continue;
		p++;
		(void)next_hex(&p);
		lport = next_hex(&p);
		(void)next_hex(&p);
		rport = next_hex(&p);
		state = next_hex(&p);
		tx = next_hex(&p);
		rx = next_hex(&p);
		if (state != 1) /* ESTABLISHED */
			continue;
		if (lport == (unsigned long)stall_port)
			sent = tx == 0;
		if (rport == (unsigned long)stall_port)
			read_all = rx == 0;
	}
	if (f != NULL)
		fclose(f);
	return sent && read_all;
}

/*
 * Start feedmuxd on a stalling feed, "slow", and `more_feeds`, and wait
 * until it holds the first items of the stalled answer.  *slow gets the
 * section of the slow feed.
 */
static pid_t
start_stalled(const char *stall_log_path, const char *more_feeds, pid_t *server, char **slow)
{
	int stall_port, waited;
	char *feeds;
	pid_t pid;

	*server = start_stall_server(stall_log_path, &stall_port);
	*slow = xasprintf("[feed \"slow\"]\nurl = http://127.0.0.1:%d/feed.xml\n", stall_port);
	feeds = xasprintf("%s%s", *slow, more_feeds);
	write_conf(feeds);
	free(feeds);
	pid = spawn_notified(NULL, false);
	wait_ready();
	ck_assert(tu_wait_text(stall_log_path, "stalled", 30));
	for (waited = 0; waited < 300 && !stall_drained(stall_port); waited++)
		usleep(100000);
	ck_assert_msg(waited < 300, "feedmuxd did not read the stalled answer");
	return pid;
}

/*
 * A reload while a transfer is in flight: the feed is unchanged, so its
 * transfer goes on (its connection stays open, what it parsed is kept and
 * stored at shutdown); the added feed is polled; the removed one keeps
 * its items.
 */
START_TEST(test_reload_keeps_transfer)
{
	char *good = fixture_feed("good", "rss2-basic.xml"), *atom = fixture_feed("atom", "atom-basic.xml");
	char *stalls = xasprintf("%s/stall.log", dir), *slow, *feeds, *log;
	pid_t server, pid;

	pid = start_stalled(stalls, good, &server, &slow);
	ck_assert(tu_wait_text(log_path, "feed good: 5 items", 30));
	feeds = xasprintf("%s%s", slow, atom);
	write_conf(feeds);
	free(feeds);
	free(reload(pid));
	ck_assert(tu_wait_text(log_path, "feed atom: 3 items", 30));
	log = tu_read_file(stalls, NULL);
	ck_assert_msg(strcmp(log, "stalled\n") == 0, "the transfer was touched: %s", log);
	free(log);
	ck_assert_int_eq(tu_stop(pid, SIGTERM, 30), 0);
	log = tu_read_file(log_path, NULL);
	ck_assert_msg(strstr(log, "feed slow: interrupted by shutdown; 3 items stored (3 new)") !=
	    NULL, "%s", log);
	free(log);
	ck_assert_int_eq(items_of("slow"), STALL_ITEMS);
	ck_assert_int_eq(items_of("good"), 4); /* one of its five repeats a guid */
	assert_consistent();
	tu_stop(server, SIGTERM, 5);
	free(good), free(atom), free(stalls), free(slow);
}
END_TEST

/*
 * SIGTERM in the middle of a poll: exit 0 well within TimeoutStopSec, the
 * items parsed so far stored, the database whole; the next start fetches
 * the feed in full (no validators were kept) and stores no item twice.
 */
START_TEST(test_sigterm_mid_poll)
{
	char *stalls = xasprintf("%s/stall.log", dir), *slow, *log;
	char *once[] = {FEEDMUXD, "-c", conf_path, "--once", NULL};
	struct timespec t0, t1;
	pid_t server, pid;

	pid = start_stalled(stalls, "", &server, &slow);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(tu_stop(pid, SIGTERM, 30), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 30); /* TimeoutStopSec=30s */
	log = tu_read_file(log_path, NULL);
	ck_assert_msg(strstr(log, "feed slow: interrupted by shutdown; 3 items stored (3 new)") !=
	    NULL, "%s", log);
	free(log);
	ck_assert(tu_wait_text(stalls, "closed", 10));
	ck_assert_int_eq(items_of("slow"), STALL_ITEMS);
	ck_assert_int_eq(db_count("SELECT count(*) FROM feeds WHERE etag IS NOT NULL"
				  " OR last_modified IS NOT NULL"), 0);
	assert_consistent();

	ck_assert_int_eq(tu_run(once, 60, NULL, NULL), 0);
	ck_assert(tu_wait_text(stalls, "served", 10));
	ck_assert_int_eq(items_of("slow"), STALL_ALL);
	assert_consistent();
	tu_stop(server, SIGTERM, 5);
	free(stalls), free(slow);
}
END_TEST

/*
 * Socket activation end to end, as feedmux.socket does it, with
 * systemd-socket-activate standing in for systemd: the socket is there
 * before feedmuxd runs and the first connection starts it; READY=1 comes
 * through NOTIFY_SOCKET; feedmuxctl works on the passed socket, refresh
 * included (a Unix socket, though not one feedmuxd made); a reload keeps
 * it; on SIGTERM feedmuxd exits 0 and leaves the socket file, systemd's.
 */
START_TEST(test_socket_activation)
{
	char *act = xasprintf("%s/activated.sock", dir);
	char *env = xasprintf("NOTIFY_SOCKET=%s", notify_path);
	char *good = fixture_feed("good", "rss2-basic.xml");
	char *argv[] = {"/usr/bin/systemd-socket-activate", "-l", act, "-E", env, FEEDMUXD, "-c",
		conf_path, NULL};
	char *status[] = {FEEDMUXCTL, "-s", act, "status", NULL};
	char *refresh[] = {FEEDMUXCTL, "-s", act, "refresh", "good", NULL};
	char *out = NULL, *err = NULL, *msg;
	pid_t pid;

	write_conf(good);
	pid = tu_spawn(argv, log_path);
	/* the socket takes connections before feedmuxd runs; the first one starts it */
	ck_assert(tu_wait_socket(act, 30));
	wait_ready();
	ck_assert_int_eq(tu_run(status, 30, &out, &err), 0);
	ck_assert_msg(strstr(out, "\nfeeds       1,") != NULL, "%s%s", out, err);
	free(out), free(err);
	ck_assert(tu_wait_text(log_path, "feed good: 5 items", 30));
	ck_assert_int_eq(tu_run(refresh, 30, &out, &err), 0);
	ck_assert_msg(strcmp(out, "good: queued\n") == 0, "%s%s", out, err);
	free(out), free(err);
	ck_assert(tu_wait_text(log_path, "feed good: not modified", 30));
	free(reload(pid));
	ck_assert_int_eq(tu_run(status, 30, &out, &err), 0);
	free(out), free(err);
	kill(pid, SIGTERM);
	msg = wait_message("STOPPING=1", 30);
	ck_assert_msg(msg != NULL, "no STOPPING=1");
	free(msg);
	ck_assert_int_eq(tu_stop(pid, 0, 30), 0);
	ck_assert_int_eq(access(act, F_OK), 0);
	ck_assert_int_eq(access(sock_path, F_OK), -1); /* listen was not used */
	free(act), free(env), free(good);
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
	TCase *reloads = tcase_create("reload");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ready_status_stopping);
	tcase_add_test(tc, test_watchdog);
	tcase_add_test(tc, test_watchdog_for_another_pid);
	tcase_add_test(tc, test_config_error_is_status_2);
	suite_add_tcase(s, tc);
	tcase_set_timeout(reloads, 120);
	tcase_add_checked_fixture(reloads, setup, teardown);
	tcase_add_test(reloads, test_reload_notify);
	tcase_add_test(reloads, test_reload_feeds_with_subscriber);
	tcase_add_test(reloads, test_reload_keeps_transfer);
	tcase_add_test(reloads, test_sigterm_mid_poll);
	tcase_add_test(reloads, test_socket_activation);
	suite_add_tcase(s, reloads);
	tcase_set_timeout(units, 120);
	tcase_add_checked_fixture(units, setup, teardown);
	tcase_add_test(units, test_units_verify);
	tcase_add_test(units, test_units_security);
	tcase_add_test(units, test_man_pages);
	tcase_add_test(units, test_install);
	suite_add_tcase(s, units);
	return tu_run_suite(s);
}
