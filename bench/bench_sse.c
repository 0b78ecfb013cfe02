/*
 * bench_sse: hold N idle /events subscribers, then time one event to all.
 *
 *	bench_sse SOCKET N FEED_FILE
 *
 * Opens N connections to the daemon's Unix socket, subscribes each to
 * /events and waits for every greeting; then writes FEED_FILE (a feed the
 * daemon polls every second) with one new item and times how long until
 * every subscriber has the event.  Prints the figures.  Raises its own
 * descriptor limit; the daemon raises its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int
main(int argc, char *argv[])
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct rlimit rl;
	struct pollfd *p;
	char **seen;
	size_t n, ok;
	double t0, t1;
	const char *req = "GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n";
	FILE *f;

	if (argc != 4) {
		fprintf(stderr, "usage: bench_sse SOCKET N FEED_FILE\n");
		return 2;
	}
	log_init("bench_sse");
	n = (size_t)strtoul(argv[2], NULL, 10);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", argv[1]);
	p = xcalloc(n, sizeof *p);
	seen = xcalloc(n, sizeof *seen);
	t0 = now_s();
	for (size_t i = 0; i < n; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			fatal("socket %zu", i);
		/* the daemon's backlog is 1024: retry briefly while it accepts */
		while (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
			if (errno != EAGAIN)
				fatal("connect %zu", i);
			usleep(1000);
		}
		if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
			fatal("write %zu", i);
		p[i].fd = fd;
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
