/*
 * bench_sse: hold N /events subscribers.
 *
 *	bench_sse SOCKET N FEED_FILE
 *	bench_sse -c LAST_ID EXPECTED_FILE SOCKET N
 *
 * Opens N connections to the daemon's Unix socket, subscribes each to
 * /events and waits for every greeting.
 *
 * The first form then writes FEED_FILE (a feed the daemon polls every
 * second) with one new item and times how long until every subscriber has
 * the event.
 *
 * The second (-c, count; bench/load.sh) subscribes each with Last-Event-ID
 * LAST_ID and records the id of every event each one receives, as a client
 * would: one dropped by the daemon reconnects with the last id it saw.  On
 * SIGUSR1 it reads EXPECTED_FILE (the store's change sequence after
 * LAST_ID, one id a line, ascending), waits until every subscriber has the
 * last one (at most 120 s), and checks that each saw every id exactly
 * once: none missed, none twice, none unknown.
 *
 * Both print their figures; exit status 0 when every subscriber got what
 * it should.  Raises its own descriptor limit; the daemon raises its own.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read what is there on each fd; count those whose text now holds `needle`. */
static size_t
wait_all(struct pollfd *p, char **seen, size_t n, const char *needle, double deadline)
{
	size_t done = 0;
	char *got = xcalloc(n, 1);

	while (done < n && now_s() < deadline) {
		if (poll(p, n, 100) <= 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			char chunk[4096];
			ssize_t len;
			size_t old;

			if (!(p[i].revents & POLLIN) || got[i])
				continue;
			len = read(p[i].fd, chunk, sizeof chunk - 1);
			if (len <= 0) {
				fprintf(stderr, "subscriber %zu: closed\n", i);
				got[i] = 1, done++, p[i].fd = -p[i].fd - 1;
				continue;
			}
			chunk[len] = '\0';
			old = seen[i] != NULL ? strlen(seen[i]) : 0;
			seen[i] = xreallocarray(seen[i], old + (size_t)len + 1, 1);
			memcpy(seen[i] + old, chunk, (size_t)len + 1);
			if (strstr(seen[i], needle) != NULL) {
				got[i] = 1, done++;
				seen[i][0] = '\0';
			}
		}
	}
	free(got);
	return done;
}

static struct sockaddr_un sun = {.sun_family = AF_UNIX};

/* A new /events subscription (after `last_id`, when it is not negative). */
static int
subscribe(int64_t last_id)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char req[256];
	int len;

	if (fd < 0)
		fatal("socket");
	/* the daemon's backlog is 1024: retry briefly while it accepts */
	while (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		if (errno != EAGAIN)
			fatal("connect");
		usleep(1000);
	}
	if (last_id >= 0)
		len = snprintf(req, sizeof req, "GET /events HTTP/1.1\r\nHost: localhost\r\n"
						"Last-Event-ID: %" PRId64 "\r\n\r\n", last_id);
	else
		len = snprintf(req, sizeof req, "GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n");
	if (write(fd, req, (size_t)len) != len)
		fatal("write");
	return fd;
}

/* One counting subscriber (-c). */
struct sub {
	int fd;
	bool greeted;		/* the ": feedmux events" comment came */
	struct buf carry;	/* the unfinished line */
	int64_t last;		/* the last id seen */
	int64_t *ids;		/* every id seen, in order */
	size_t nids, cap;
	size_t twice;		/* ids not above the last one: sent again */
	unsigned reconnects;
};

static volatile sig_atomic_t stop_requested;

static void
on_usr1(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
sub_line(struct sub *s, const char *line)
{
	int64_t id;

	if (strncmp(line, ": feedmux events", 16) == 0)
		s->greeted = true;
	if (strncmp(line, "id: ", 4) != 0)
		return;
	id = strtoll(line + 4, NULL, 10);
	if (id <= s->last) {
		s->twice++;
		return;
	}
	s->last = id;
	if (s->nids == s->cap) {
		s->cap = s->cap != 0 ? s->cap * 2 : 64;
		s->ids = xreallocarray(s->ids, s->cap, sizeof *s->ids);
	}
	s->ids[s->nids++] = id;
}

/* Read what is there; false when the daemon closed the connection. */
static bool
sub_read(struct sub *s)
{
	char chunk[65536];
	ssize_t len = read(s->fd, chunk, sizeof chunk);
	size_t start = 0;

	if (len <= 0)
		return false;
	buf_add(&s->carry, chunk, (size_t)len);
	for (size_t i = 0; i < s->carry.len; i++) {
		if (s->carry.data[i] != '\n')
			continue;
		s->carry.data[i] = '\0';
		sub_line(s, s->carry.data + start);
		start = i + 1;
	}
	memmove(s->carry.data, s->carry.data + start, s->carry.len - start);
	s->carry.len -= start;
	return true;
}

/* Serve every subscriber that has something to read, for at most `ms`. */
static void
count_turn(int ep, struct sub *subs, int ms)
{
	struct epoll_event ev[256];
	int n = epoll_wait(ep, ev, 256, ms);

	for (int i = 0; i < n; i++) {
		struct sub *s = &subs[ev[i].data.u64];
		struct epoll_event add = {.events = EPOLLIN, .data.u64 = ev[i].data.u64};

		if (sub_read(s))
			continue;
		/* dropped (too slow) or closed: reconnect after what it has */
		epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
		s->carry.len = 0;
		s->reconnects++;
		s->fd = subscribe(s->last);
		if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &add) != 0)
			fatal("epoll_ctl");
	}
}

/* The ids in `path`, one a line, ascending. */
static int64_t *
read_ids(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	int64_t *ids = NULL;
	size_t cap = 0;
	char line[64];

	*n = 0;
	if (f == NULL)
		fatal("%s", path);
	while (fgets(line, sizeof line, f) != NULL) {
		if (*n == cap) {
			cap = cap != 0 ? cap * 2 : 1024;
			ids = xreallocarray(ids, cap, sizeof *ids);
		}
		ids[(*n)++] = strtoll(line, NULL, 10);
	}
	fclose(f);
	return ids;
}

/*
 * How many of `want` `s` lacks, and how many of its ids up to the last of
 * `want` are not in it (those after it came after the store was read).
 */
static void
compare(const struct sub *s, const int64_t *want, size_t nwant, size_t *missed, size_t *unknown)
{
	size_t i = 0, j = 0, nids = s->nids;

	*missed = *unknown = 0;
	while (nids > 0 && (nwant == 0 || s->ids[nids - 1] > want[nwant - 1]))
		nids--;
	while (i < nwant || j < nids) {
		if (j == nids || (i < nwant && want[i] < s->ids[j]))
			(*missed)++, i++;
		else if (i == nwant || s->ids[j] < want[i])
			(*unknown)++, j++;
		else
			i++, j++;
	}
}

static int
count_main(int64_t first, const char *expected, size_t n)
{
	struct sub *subs = xcalloc(n, sizeof *subs);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	size_t greeted = 0, complete = 0, nwant, missed = 0, twice = 0, unknown = 0;
	size_t events = 0, reconnects = 0, worst = 0;
	int64_t *want;
	double t0 = now_s(), deadline;

	signal(SIGUSR1, on_usr1);
	for (size_t i = 0; i < n; i++) {
		struct epoll_event add = {.events = EPOLLIN, .data.u64 = i};

		subs[i].fd = subscribe(first);
		subs[i].last = first;
		buf_init(&subs[i].carry, 0);
		if (epoll_ctl(ep, EPOLL_CTL_ADD, subs[i].fd, &add) != 0)
			fatal("epoll_ctl");
	}
	while (greeted < n && now_s() < t0 + 60) {
		count_turn(ep, subs, 100);
		greeted = 0;
		for (size_t i = 0; i < n; i++)
			greeted += subs[i].greeted;
	}
	printf("subscribed: %zu of %zu in %.2f s, after event %" PRId64 "\n", greeted, n,
	    now_s() - t0, first);
	fflush(stdout);
	while (!stop_requested)
		count_turn(ep, subs, 1000);
	want = read_ids(expected, &nwant);
	/* the last event may still be on its way */
	deadline = now_s() + 120;
	while (now_s() < deadline) {
		complete = 0;
		for (size_t i = 0; i < n; i++)
			complete += nwant == 0 || subs[i].last >= want[nwant - 1];
		if (complete == n)
			break;
		count_turn(ep, subs, 100);
	}
	for (size_t i = 0; i < n; i++) {
		size_t m, u;

		compare(&subs[i], want, nwant, &m, &u);
		missed += m, unknown += u, twice += subs[i].twice;
		events += subs[i].nids, reconnects += subs[i].reconnects;
		if (m > 0 && m > worst)
			worst = m;
		close(subs[i].fd);
		buf_free(&subs[i].carry);
		free(subs[i].ids);
	}
	printf("events: %zu changes in the store after %" PRId64 "; %zu subscribers, %zu complete;"
	       " %zu events received; missed %zu (worst subscriber %zu), duplicated %zu,"
	       " unknown %zu; reconnects after a drop %zu\n",
	    nwant, first, n, complete, events, missed, worst, twice, unknown, reconnects);
	close(ep);
	free(want);
	free(subs);
	return complete == n && missed == 0 && twice == 0 && unknown == 0 ? 0 : 1;
}

static void
raise_nofile(size_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char *argv[])
{
	struct pollfd *p;
	char **seen;
	size_t n, ok;
	double t0, t1;
	FILE *f;

	log_init("bench_sse");
	if (argc == 6 && strcmp(argv[1], "-c") == 0) {
		n = (size_t)strtoul(argv[5], NULL, 10);
		raise_nofile(n);
		snprintf(sun.sun_path, sizeof sun.sun_path, "%s", argv[4]);
		return count_main(strtoll(argv[2], NULL, 10), argv[3], n);
	}
	if (argc != 4) {
		fprintf(stderr, "usage: bench_sse SOCKET N FEED_FILE\n"
				"       bench_sse -c LAST_ID EXPECTED_FILE SOCKET N\n");
		return 2;
	}
	n = (size_t)strtoul(argv[2], NULL, 10);
	raise_nofile(n);
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", argv[1]);
	p = xcalloc(n, sizeof *p);
	seen = xcalloc(n, sizeof *seen);
	t0 = now_s();
	for (size_t i = 0; i < n; i++) {
		p[i].fd = subscribe(-1);
		p[i].events = POLLIN;
	}
	ok = wait_all(p, seen, n, ": feedmux events", now_s() + 60);
	t1 = now_s();
	printf("subscribed: %zu of %zu in %.2f s\n", ok, n, t1 - t0);
	fflush(stdout);
	sleep(5); /* held idle: whoever runs us measures the daemon now */
	if ((f = fopen(argv[3], "w")) == NULL)
		fatal("%s", argv[3]);
	fprintf(f, "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Trigger</title>"
		   "<link>https://trigger.example/</link><item><guid>trigger-%ld</guid>"
		   "<title>Trigger %ld</title><link>https://trigger.example/%ld</link>"
		   "</item></channel></rss>\n",
	    (long)time(NULL), (long)time(NULL), (long)time(NULL));
	fclose(f);
	t0 = now_s();
	ok = wait_all(p, seen, n, "event: item", now_s() + 60);
	t1 = now_s();
	printf("event delivered to %zu of %zu subscribers %.2f s after the feed changed"
	       " (the feed is polled every second)\n", ok, n, t1 - t0);
	for (size_t i = 0; i < n; i++) {
		if (p[i].fd >= 0)
			close(p[i].fd);
		free(seen[i]);
	}
	free(p);
	free(seen);
	return ok == n ? 0 : 1;
}
