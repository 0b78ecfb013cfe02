/*
 * feedmuxd: the feed aggregator daemon.
 *
 *	feedmuxd -c FILE		run in the foreground
 *	feedmuxd -c FILE --once		poll every feed once, store, exit
 *	feedmuxd -c FILE --check	validate the configuration and exit
 *
 * Exit status: 0 on success (also when feeds failed in --once), 1 when the
 * daemon cannot start (database, listeners), 2 for a bad command line or an
 * invalid configuration.
 */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <libxml/parser.h>

#include "config/conf.h"
#include "daemon/metrics.h"
#include "daemon/notify.h"
#include "daemon/retention.h"
#include "daemon/sched.h"
#include "daemon/server.h"
#include "feeds/fetch.h"
#include "feeds/parse.h"
#include "storage/store.h"
#include "util/util.h"

#define DEFAULT_CONFIG "/etc/feedmux/feedmux.conf"
/* How long STATUS= waits after a stored fetch, so a burst of fetches costs one query. */
#define STATUS_DELAY_MS 1000
/* Failing feeds named in STATUS=; the rest are counted. */
#define STATUS_MAX_NAMED 3

struct daemon {
	struct event_base *base;
	struct conf *conf;
	struct store *store;
	struct fetcher *fetcher;
	struct sched *sched;
	struct srv *srv;
	struct retention *retention;
	struct event *sigint, *sigterm, *sighup;
	struct notify *notify;
	struct event *status_timer; /* refreshes STATUS= shortly after fetches are stored */
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: feedmuxd [-c FILE] [--once | --check]\n"
		     "  -c, --config FILE  configuration file (default " DEFAULT_CONFIG ")\n"
		     "      --once         poll every feed once, store what came, and exit\n"
		     "      --check        check the configuration and exit\n"
		     "  -V, --version      print the version and exit\n"
		     "  -h, --help         print this help and exit\n");
}

/* libevent's own warnings, through our log. */
static void
daemon_event_log(int severity, const char *msg)
{
	log_msg(severity >= EVENT_LOG_ERR ? LOG_LVL_ERR :
		severity >= EVENT_LOG_WARN ? LOG_LVL_WARNING : LOG_LVL_DEBUG,
	    "libevent: %s", msg);
}

/* libxml2 messages outside a parse (per-document errors go to the parser). */
static void daemon_xml_log(void *ctx, const char *fmt, ...) PRINTFLIKE(2, 3);

static void
daemon_xml_log(void *ctx, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	(void)ctx;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_debug("libxml2: %s", msg);
}

static struct conf *
daemon_load_config(const char *path)
{
	struct conf *conf = conf_load_logged(path);

	if (conf == NULL)
		exit(2);
	return conf;
}

static void daemon_reload(struct daemon *d);

static void
daemon_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (sig == SIGHUP && d->srv == NULL) {
		log_notice("SIGHUP: ignored by --once");
		return;
	}
	if (sig == SIGHUP) {
		daemon_reload(d);
		return;
	}
	log_notice("%s: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
	if (d->notify != NULL)
		notify_stopping(d->notify, "stopping");
	event_base_loopbreak(d->base);
}

static void
daemon_once_done(void *arg)
{
	struct daemon *d = arg;

	event_base_loopbreak(d->base);
}

/*
 * The STATUS= line `systemctl status` shows: "12 feeds, 3450 items, 2 failing
 * (lwn, hn)".  Read from the store, so it says what /status says.
 */
static void
daemon_status_line(struct daemon *d, struct buf *out)
{
	struct store_feed_status *feeds = NULL;
	size_t n = 0, failing = 0;
	long long items = 0;

	if (store_list_feeds(d->store, &feeds, &n) != 0) {
		buf_adds(out, "database error (see the log)");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		items += feeds[i].items;
		failing += feeds[i].error != NULL;
	}
	buf_addf(out, "%zu feed%s, %lld item%s", n, n == 1 ? "" : "s", items, items == 1 ? "" : "s");
	if (failing > 0) {
		size_t named = 0;

		buf_addf(out, ", %zu failing (", failing);
		for (size_t i = 0; i < n && named < STATUS_MAX_NAMED; i++)
			if (feeds[i].error != NULL)
				buf_addf(out, "%s%s", named++ > 0 ? ", " : "", feeds[i].name);
		buf_adds(out, failing > named ? ", ...)" : ")");
	}
	store_feed_status_free(feeds, n);
}

static void
daemon_on_status_timer(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct buf line;

	(void)fd, (void)what;
	buf_init(&line, 0);
	daemon_status_line(d, &line);
	notify_status(d->notify, "%s", line.data);
	buf_free(&line);
}

/*
 * A fetch was stored: tell the server (its cache and /events subscribers) at
 * once, and refresh STATUS= soon, once for a whole burst of fetches.
 */
static void
daemon_on_stored(void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = {STATUS_DELAY_MS / 1000, (suseconds_t)(STATUS_DELAY_MS % 1000) * 1000};

	srv_store_changed(d->srv);
	if (!evtimer_pending(d->status_timer, NULL))
		evtimer_add(d->status_timer, &tv);
}

/* READY=1 with the STATUS= line: at startup, and at the end of a reload. */
static void
daemon_notify_ready(struct daemon *d)
{
	struct buf line;

	buf_init(&line, 0);
	daemon_status_line(d, &line);
	notify_ready(d->notify, line.data);
	buf_free(&line);
}

/*
 * Everything is up (configuration read, database migrated, feeds registered,
 * listeners bound): only now may systemd start what depends on us.
 */
static void
daemon_ready(struct daemon *d)
{
	if ((d->status_timer = evtimer_new(d->base, daemon_on_status_timer, d)) == NULL)
		fatalx("evtimer_new failed");
	sched_on_stored(d->sched, daemon_on_stored, d);
	daemon_notify_ready(d);
}

/* A reload not applied (`why`, if any, ends in "; "): the running configuration stays. */
static void
daemon_reload_refused(struct daemon *d, const char *why)
{
	log_warnx("%s: reload refused: %sthe running configuration stays in use", d->conf->path,
	    why);
	metrics_add(METRIC_RELOAD_FAILED, 1);
	daemon_notify_ready(d);
}

/*
 * SIGHUP: read the configuration file again into a fresh struct conf and
 * swap it in only when it is valid; an invalid one is refused (its errors
 * logged as file:line) and the running one stays.  Keys a reload cannot
 * change take their old values back (conf_keep_fixed).  Everything that
 * keeps a pointer into the configuration moves to the new one before the
 * old one is freed: the scheduler (its feeds), the server (outputs, tags,
 * heartbeat); retention and the fetcher keep nothing of it.  Transfers in
 * flight of unchanged feeds, connections and /events subscribers go on.
 */
static void
daemon_reload(struct daemon *d)
{
	struct conf *fresh, *old = d->conf;
	struct sched_changes ch;

	log_notice("SIGHUP: reloading %s", old->path);
	notify_reloading(d->notify, "reloading the configuration");
	if ((fresh = conf_load_logged(old->path)) == NULL) {
		daemon_reload_refused(d, "");
		return;
	}
	conf_keep_fixed(fresh, old);
	if (sched_reconfigure(d->sched, fresh, &ch) != 0) {
		conf_free(fresh);
		daemon_reload_refused(d, "the database could not register the feeds; ");
		return;
	}
	retention_reconfigure(d->retention, fresh);
	srv_reconfigure(d->srv, fresh);
	log_set_level((enum log_level)fresh->log_level);
	fetcher_set_debug(d->fetcher, fresh->log_level >= LOG_LVL_DEBUG);
	d->conf = fresh;
	conf_free(old);
	metrics_add(METRIC_RELOAD_OK, 1);
	log_notice("%s: reloaded: %zu feeds (%zu added, %zu removed, %zu with a new url)",
	    fresh->path, fresh->nfeeds, ch.added, ch.removed, ch.moved);
	daemon_notify_ready(d);
}

/* POST /refresh, from the server, for the scheduler. */
static int
daemon_refresh(void *arg, const char *name, struct sched_refresh *out)
{
	struct daemon *d = arg;

	return sched_refresh(d->sched, name, out);
}

static void
daemon_open_store(struct daemon *d)
{
	char err[512];

	if (make_parent_dir(d->conf->database) != 0)
		log_warn("database %s: cannot create its folder", d->conf->database);
	if ((d->store = store_open(d->conf->database, err, sizeof err)) == NULL)
		fatalx("database %s: %s", d->conf->database, err);
	/* 32 MB of WAL between checkpoints: a cold poll of 10,000 feeds took 28 s, now 22 s. */
	store_set_wal_autocheckpoint(d->store, 8000);
}

static struct event *
daemon_signal(struct daemon *d, int sig)
{
	struct event *ev = evsignal_new(d->base, sig, daemon_on_signal, d);

	if (ev == NULL || event_add(ev, NULL) != 0)
		fatalx("cannot handle signal %d", sig);
	return ev;
}

/* The fetcher's limits, from the configuration. */
static void
daemon_fetch_limits(const struct conf *conf, struct fetch_limits *l)
{
	fetch_limits_default(l);
	l->connect_timeout = conf->connect_timeout;
	l->total_timeout = conf->timeout;
	l->low_speed_time = conf->low_speed_time;
	l->low_speed_limit = (long)conf->low_speed_limit;
	l->max_body = (size_t)conf->max_body;
	l->max_total_connections = (long)conf->max_transfers;
	l->max_host_connections = (long)conf->host_connections;
	l->user_agent = conf->user_agent;
	l->refuse_private = conf->refuse_private;
	l->debug = conf->log_level >= LOG_LVL_DEBUG;
}

static void
daemon_start(struct daemon *d, bool once)
{
	struct fetch_limits limits;
	char err[512];

	if ((d->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	daemon_open_store(d);
	daemon_fetch_limits(d->conf, &limits);
	d->fetcher = fetcher_new(d->base, &limits);
	if ((d->sched = sched_new(d->base, d->fetcher, d->store, d->conf)) == NULL)
		fatalx("database %s: cannot register the feeds", d->conf->database);
	d->retention = retention_new(d->base, d->conf, d->store);
	d->sigint = daemon_signal(d, SIGINT);
	d->sigterm = daemon_signal(d, SIGTERM);
	d->sighup = daemon_signal(d, SIGHUP);
	if (once) {
		sched_run_once(d->sched, daemon_once_done, d);
		return;
	}
	d->notify = notify_new(d->base);
	if ((d->srv = srv_new(d->base, d->conf, d->store, err, sizeof err)) == NULL)
		fatalx("listen: %s", err);
	srv_on_refresh(d->srv, daemon_refresh, d);
	sched_start(d->sched);
	daemon_ready(d);
	log_notice("feedmux %s started: %zu feeds, database %s", FEEDMUX_VERSION, d->conf->nfeeds,
	    d->conf->database);
	if (d->conf->nfeeds == 0)
		log_warnx("%s: no feeds configured: add [feed \"NAME\"] sections", d->conf->path);
}

/* Tear down in dependency order: curl's sockets live in the event base, so it goes last. */
static void
daemon_stop(struct daemon *d)
{
	srv_free(d->srv);
	d->srv = NULL; /* what the scheduler stores on the way out must not reach it */
	sched_free(d->sched);
	retention_free(d->retention);
	fetcher_free(d->fetcher);
	store_close(d->store);
	/* After the scheduler: what it stores on the way out still calls daemon_on_stored. */
	if (d->status_timer != NULL)
		event_free(d->status_timer);
	notify_free(d->notify);
	if (d->sigint != NULL)
		event_free(d->sigint);
	if (d->sigterm != NULL)
		event_free(d->sigterm);
	if (d->sighup != NULL)
		event_free(d->sighup);
	if (d->base != NULL)
		event_base_free(d->base);
	conf_free(d->conf);
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"once", no_argument, NULL, 'o'},
		{"check", no_argument, NULL, 'n'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = DEFAULT_CONFIG;
	bool once = false, check = false;
	struct daemon d = {0};
	int ch;

	log_init("feedmuxd");
	while ((ch = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'o': once = true; break;
		case 'n': check = true; break;
		case 'V': printf("feedmuxd %s\n", FEEDMUX_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || (once && check)) {
		usage(stderr);
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init failed");
	d.conf = daemon_load_config(path);
	if (check) {
		printf("%s: configuration valid (%zu feeds)\n", path, d.conf->nfeeds);
		conf_free(d.conf);
		curl_global_cleanup();
		return 0;
	}
	log_set_level((enum log_level)d.conf->log_level);
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	/*
	 * Keep 1 MB of slack at the heap's top: without it glibc shrinks and
	 * regrows the heap around each SQLite statement's savepoint, which took
	 * a third of a cold poll of 2,000 feeds (bench/poll.sh).
	 */
	mallopt(M_TOP_PAD, 1 << 20);
	event_set_log_callback(daemon_event_log);
	parse_init();
	xmlSetGenericErrorFunc(NULL, daemon_xml_log);

	daemon_start(&d, once);
	event_base_dispatch(d.base);
	daemon_stop(&d);
	if (!once)
		log_notice("stopped");
	xmlCleanupParser();
	curl_global_cleanup();
	return 0;
}
