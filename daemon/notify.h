/*
 * notify: tell the service manager how feedmuxd is doing, through
 * sd_notify(3): READY=1 once it serves, STATUS= lines an operator reads in
 * `systemctl status`, WATCHDOG=1 keep-alives from the event loop,
 * RELOADING=1 then READY=1 around a reload, and STOPPING=1 on the way out.
 *
 * Outside systemd (no NOTIFY_SOCKET) every call costs next to nothing and
 * does nothing, so the daemon never needs to ask where it runs.
 */
#ifndef FEEDMUX_NOTIFY_H
#define FEEDMUX_NOTIFY_H

#include "util/util.h"

struct event_base;
struct notify;

/*
 * A notifier whose watchdog timer, when systemd asked for one (WatchdogSec=,
 * seen through WATCHDOG_USEC and WATCHDOG_PID), runs in `base` and is armed
 * by notify_ready.  Free it before the event base.
 */
struct notify *notify_new(struct event_base *base);
void notify_free(struct notify *n);

/* READY=1 with a STATUS= line; starts the watchdog keep-alives. */
void notify_ready(struct notify *n, const char *status);
/* A new STATUS= line (the same text twice is sent once). */
void notify_status(struct notify *n, const char *fmt, ...) PRINTFLIKE(2, 3);
/*
 * RELOADING=1 with MONOTONIC_USEC= (the time the reload began, as systemd
 * 253's Type=notify-reload wants it; 252 ignores it) and a STATUS= line.
 * notify_ready ends the reload, whether it was applied or refused.
 */
void notify_reloading(struct notify *n, const char *status);
/* STOPPING=1 with a STATUS= line; stops the keep-alives. */
void notify_stopping(struct notify *n, const char *status);

#endif
