/*
 * notify.c: sd_notify(3) from libsystemd, and the watchdog timer.
 *
 * The keep-alive is sent from a timer on the daemon's own event loop, at half
 * the interval systemd set (as sd_watchdog_enabled(3) advises): a loop stuck
 * in a callback stops sending, and systemd restarts the service.  A thread
 * or a signal would keep sending while the loop hangs, which is the point
 * missed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "daemon/notify.h"

#define NOTIFY_STATUS_MAX 512

struct notify {
	struct event *watchdog; /* NULL when systemd set no watchdog */
	uint64_t watchdog_usec;
	bool failed;		/* a send failed and was logged: say it once */
	char status[NOTIFY_STATUS_MAX];
};

/* Send `state` (NEWLINE-separated assignments); logs the first failure only. */
static void
notify_send(struct notify *n, const char *state)
{
	int rc = sd_notify(0, state);

	if (rc < 0 && !n->failed) {
		n->failed = true;
		log_warnx("cannot notify the service manager: %s", strerror(-rc));
	}
}

static void
notify_on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	notify_send(arg, "WATCHDOG=1");
}

struct notify *
notify_new(struct event_base *base)
{
	struct notify *n = xcalloc(1, sizeof *n);
	uint64_t usec = 0;

	/* > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID, if set, is ours. */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		n->watchdog_usec = usec;
		if ((n->watchdog = event_new(base, -1, EV_PERSIST, notify_on_watchdog, n)) == NULL)
			fatalx("event_new failed");
	}
	return n;
}

void
notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	if (n->watchdog != NULL)
		event_free(n->watchdog);
	free(n);
}

/* Send "STATUS=text" after `state`, and remember the text. */
static void
notify_send_status(struct notify *n, const char *state, const char *status)
{
	char msg[NOTIFY_STATUS_MAX + 64];

	snprintf(n->status, sizeof n->status, "%s", status);
	snprintf(msg, sizeof msg, "%sSTATUS=%s", state, n->status);
	notify_send(n, msg);
}

void
notify_ready(struct notify *n, const char *status)
{
	notify_send_status(n, "READY=1\n", status);
	if (n->watchdog != NULL && !event_pending(n->watchdog, EV_TIMEOUT, NULL)) {
		uint64_t half = n->watchdog_usec / 2;
		struct timeval tv = {(time_t)(half / 1000000), (suseconds_t)(half % 1000000)};

		notify_send(n, "WATCHDOG=1");
		event_add(n->watchdog, &tv);
		log_debug("watchdog: keep-alive every %llu ms",
		    (unsigned long long)(half / 1000));
	}
}

void
notify_status(struct notify *n, const char *fmt, ...)
{
	char text[NOTIFY_STATUS_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (strcmp(text, n->status) != 0)
		notify_send_status(n, "", text);
}

void
notify_reloading(struct notify *n, const char *status)
{
	struct timespec ts;
	char state[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(state, sizeof state, "RELOADING=1\nMONOTONIC_USEC=%llu\n",
	    (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
	notify_send_status(n, state, status);
}

void
notify_stopping(struct notify *n, const char *status)
{
	if (n->watchdog != NULL)
		event_del(n->watchdog);
	notify_send_status(n, "STOPPING=1\n", status);
}
