/*
 * check_metrics.c: daemon/metrics, the registry and its Prometheus text
 * format; then GET /metrics of a real feedmuxd polling a fixture server,
 * whose counters must match what it did.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/metrics.h"
#include "tests/testutil.h"

/* The value of the series written `series` (name and labels) in `text`; -1 when absent. */
static double
series_value(const char *text, const char *series)
{
	char *needle = xasprintf("\n%s ", series);
	const char *p = strstr(text, needle);
	double v = p != NULL ? strtod(p + strlen(needle), NULL) : -1;

	free(needle);
	return v;
}

/* Lines of `text` that start with `prefix`. */
static int
lines_starting(const char *text, const char *prefix)
{
	int n = 0;

	for (const char *p = text; p != NULL; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		n += strncmp(p, prefix, strlen(prefix)) == 0;
	}
	return n;
}

static char *
render(void)
{
	struct buf out;

	buf_init(&out, 0);
	metrics_render(&out);
	return buf_steal(&out);
}

/* Every series at 0 from the start; # HELP and # TYPE once per family, before its series. */
START_TEST(test_format)
{
	char *text = render();
	const char *help = strstr(text, "# HELP feedmux_fetches_total ");
	const char *first = strstr(text, "\nfeedmux_fetches_total{");

	ck_assert_msg(strncmp(text, "# HELP ", 7) == 0, "%s", text);
	ck_assert_int_eq(lines_starting(text, "# HELP feedmux_fetches_total "), 1);
	ck_assert_int_eq(lines_starting(text, "# TYPE feedmux_fetches_total counter"), 1);
	ck_assert_int_eq(lines_starting(text, "feedmux_fetches_total{result="), 6);
	ck_assert(help != NULL && first != NULL && help < first);
	ck_assert_int_eq(lines_starting(text, "# TYPE feedmux_database_size_bytes gauge"), 1);
	ck_assert_int_eq(lines_starting(text, "# TYPE feedmux_fetch_duration_seconds histogram"),
			 1);
	ck_assert(series_value(text, "feedmux_fetches_total{result=\"not_modified\"}") == 0);
	ck_assert(series_value(text, "feedmux_items_total{outcome=\"unchanged\"}") == 0);
	ck_assert(series_value(text, "feedmux_subscribers") == 0);
	ck_assert(series_value(text, "feedmux_fetch_duration_seconds_count") == 0);
	/* every line is a comment or "name[{labels}] value" */
	for (const char *p = text; *p != '\0'; p = strchr(p, '\n') + 1) {
		const char *end = strchr(p, '\n');

		ck_assert_ptr_nonnull(end);
		if (*p != '#')
			ck_assert_msg(strncmp(p, "feedmux_", 8) == 0 &&
					  memchr(p, ' ', (size_t)(end - p)),
				      "%.*s", (int)(end - p), p);
	}
	free(text);
}
END_TEST

/* Counters add, gauges are set, histogram buckets are cumulative. */
START_TEST(test_values)
{
	char *text;

	metrics_add(METRIC_FETCH_OK, 2);
	metrics_add(METRIC_FETCH_OK, 1);
	metrics_set(METRIC_SUBSCRIBERS, 7);
	metrics_set(METRIC_SUBSCRIBERS, 4);
	metrics_observe(METRIC_FETCH_SECONDS, 0.3);
	metrics_observe(METRIC_FETCH_SECONDS, 0.05);
	metrics_observe(METRIC_FETCH_SECONDS, 500);
	ck_assert_int_eq(metrics_get(METRIC_FETCH_OK), 3);
	ck_assert_int_eq(metrics_get(METRIC_FETCH_SECONDS), 3);
	text = render();
	ck_assert(series_value(text, "feedmux_fetches_total{result=\"ok\"}") == 3);
	ck_assert(series_value(text, "feedmux_subscribers") == 4);
	ck_assert(series_value(text, "feedmux_fetch_duration_seconds_bucket{le=\"0.05\"}") == 1);
	ck_assert(series_value(text, "feedmux_fetch_duration_seconds_bucket{le=\"0.25\"}") == 1);
	ck_assert(series_value(text, "feedmux_fetch_duration_seconds_bucket{le=\"0.5\"}") == 2);
	ck_assert(series_value(text, "feedmux_fetch_duration_seconds_bucket{le=\"120\"}") == 2);
	ck_assert(series_value(text, "feedmux_fetch_duration_seconds_bucket{le=\"+Inf\"}") == 3);
	ck_assert(series_value(text, "feedmux_fetch_duration_seconds_count") == 3);
	ck_assert_msg(series_value(text, "feedmux_fetch_duration_seconds_sum") > 500.34 &&
			  series_value(text, "feedmux_fetch_duration_seconds_sum") < 500.36,
		      "%s", text);
	free(text);
}
END_TEST

/* GET /metrics from the daemon at `sock`: the body. */
static char *
scrape(const char *sock)
{
	char *body = NULL;

	ck_assert_int_eq(tu_http_get(sock, "/metrics", &body, NULL), 200);
	ck_assert_ptr_nonnull(body);
	return body;
}

/* Wait until the series reaches `want`; returns the last scrape. */
static char *
scrape_until(const char *sock, const char *series, double want)
{
	char *text = NULL;

	for (int waited = 0; waited < 300; waited++) {
		free(text);
		text = scrape(sock);
		if (series_value(text, series) >= want)
			break;
		usleep(100000);
	}
	ck_assert_msg(series_value(text, series) >= want, "%s < %g:\n%s", series, want, text);
	return text;
}

/*
 * A daemon polls a good feed and a missing one: one ok, one http_error,
 * items stored; a refresh brings a 304 that saves bytes and stores nothing
 * again; an /events client counts as a subscriber; the database has a size.
 */
START_TEST(test_daemon)
{
	char *dir = tu_mkdtemp(), *conf = xasprintf("%s/feedmux.conf", dir);
	char *sock = xasprintf("%s/feedmux.sock", dir), *log = xasprintf("%s/feedmuxd.log", dir);
	char *run[] = {FEEDMUXD, "-c", conf, NULL};
	const char *events = "GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n";
	char *text, *type = NULL;
	struct buf sub;
	double stored;
	int port, fd;
	pid_t httpd = tu_start_httpd(tu_data("feeds"), NULL, &port), pid;

	text = xasprintf("[feedmux]\ndatabase = %s/feedmux.db\nlisten = %s\ninterval = 1h\n"
			 "start_spread = 0\n"
			 "[feed \"good\"]\nurl = http://127.0.0.1:%d/rss2-basic.xml\n"
			 "[feed \"missing\"]\nurl = http://127.0.0.1:%d/no-such-feed.xml\n",
			 dir, sock, port, port);
	tu_write_file(conf, text);
	free(text);
	pid = tu_spawn(run, log);
	ck_assert(tu_wait_socket(sock, 30));
	ck_assert(tu_wait_text(log, "feed good: 5 items", 30));
	text = scrape_until(sock, "feedmux_fetches_total{result=\"http_error\"}", 1);
	ck_assert(series_value(text, "feedmux_fetches_total{result=\"ok\"}") == 1);
	ck_assert(series_value(text, "feedmux_fetch_duration_seconds_count") == 2);
	ck_assert(series_value(text, "feedmux_fetch_received_bytes_total") > 0);
	ck_assert(series_value(text, "feedmux_fetch_decoded_bytes_total") > 0);
	ck_assert(series_value(text, "feedmux_fetch_saved_bytes_total") == 0);
	stored = series_value(text, "feedmux_items_total{outcome=\"stored\"}");
	ck_assert_msg(stored >= 1 && stored <= 5, "%s", text);
	ck_assert(series_value(text, "feedmux_feeds") == 2);
	ck_assert(series_value(text, "feedmux_database_size_bytes{file=\"main\"}") > 0);
	free(text);

	/* a refresh: a conditional request, answered 304 */
	ck_assert_int_eq(tu_http_post(sock, "/refresh?feed=good", NULL, NULL), 202);
	text = scrape_until(sock, "feedmux_fetches_total{result=\"not_modified\"}", 1);
	ck_assert(series_value(text, "feedmux_refreshes_total") == 1);
	ck_assert(series_value(text, "feedmux_fetch_saved_bytes_total") > 0);
	ck_assert(series_value(text, "feedmux_items_total{outcome=\"stored\"}") == stored);
	ck_assert(series_value(text, "feedmux_fetch_duration_seconds_count") == 3);
	free(text);

	fd = tu_connect_unix(sock);
	ck_assert_int_eq(write(fd, events, strlen(events)), (ssize_t)strlen(events));
	buf_init(&sub, 0);
	ck_assert(tu_read_until(fd, &sub, ": feedmux events", 10000));
	text = scrape(sock);
	ck_assert_msg(series_value(text, "feedmux_subscribers") == 1, "%s", text);
	ck_assert(series_value(text, "feedmux_http_connections") >= 2);
	free(text);
	close(fd);
	buf_free(&sub);

	/* the content type scrapers look for */
	ck_assert_int_eq(
	    tu_run((char *[]){"/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{content_type}",
			      "--unix-socket", sock, "http://localhost/metrics", NULL},
		   30, &type, NULL),
	    0);
	ck_assert_str_eq(type, "text/plain; version=0.0.4; charset=utf-8");
	free(type);

	ck_assert_int_eq(tu_stop(pid, SIGTERM, 30), 0);
	tu_stop(httpd, SIGTERM, 5);
	tu_rmtree(dir);
	free(dir), free(conf), free(sock), free(log);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("metrics");
	TCase *unit = tcase_create("format");
	TCase *daemon = tcase_create("daemon");

	tcase_add_test(unit, test_format);
	tcase_add_test(unit, test_values);
	suite_add_tcase(s, unit);
	tcase_set_timeout(daemon, 120);
	tcase_add_test(daemon, test_daemon);
	suite_add_tcase(s, daemon);
	return tu_run_suite(s);
}
