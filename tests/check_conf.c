/* check_conf.c: the configuration reader, on good files and on every bad-*.conf fixture. */
#include <check.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/conf.h"
#include "tests/testutil.h"

static glob_t bad_files;

/* The "# expect: LINE: reason" header of a fixture, as "PATH:LINE: reason". */
static char *
expected_error(const char *path)
{
	char *text = tu_read_file(path, NULL);
	char *nl, *want;

	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strncmp(text, "# expect: ", 10) == 0, "%s: no '# expect:' header", path);
	if ((nl = strchr(text, '\n')) != NULL)
		*nl = '\0';
	want = xasprintf("%s:%s", path, text + 10);
	free(text);
	return want;
}

START_TEST(test_bad_file)
{
	const char *path = bad_files.gl_pathv[_i];
	struct conf_errors errs = {0};
	char *want = expected_error(path);
	struct conf *conf = conf_load(path, &errs);
	bool found = false;

	ck_assert_msg(conf == NULL, "%s: accepted", path);
	ck_assert_uint_ge(errs.n, 1);
	for (size_t i = 0; i < errs.n; i++)
		if (strncmp(errs.msgs[i], want, strlen(want)) == 0)
			found = true;
	ck_assert_msg(found, "%s: wanted \"%s\", got \"%s\"", path, want, errs.msgs[0]);
	conf_errors_free(&errs);
	free(want);
}
END_TEST

START_TEST(test_full)
{
	struct conf_errors errs = {0};
	struct conf *conf = conf_load(tu_data("conf/ok-full.conf"), &errs);
	const struct conf_feed *f;

	ck_assert_msg(conf != NULL, "%s", errs.n > 0 ? errs.msgs[0] : "");
	ck_assert_str_eq(conf->database, "/var/lib/feedmux/test.db");
	ck_assert_uint_eq(conf->interval, 5400);
	ck_assert_int_eq(conf->log_level, LOG_LVL_DEBUG);
	ck_assert_uint_eq(conf->nlisten, 3);
	ck_assert(conf->listen[0].is_unix);
	ck_assert_str_eq(conf->listen[0].path, "/run/feedmux/feedmux.sock");
	ck_assert(!conf->listen[1].is_unix);
	ck_assert_str_eq(conf->listen[1].host, "127.0.0.1");
	ck_assert_str_eq(conf->listen[1].port, "8080");
	ck_assert_str_eq(conf->listen[2].host, "::1");
	ck_assert_str_eq(conf->listen[2].port, "9090");

	ck_assert_uint_eq(conf->nfeeds, 3);
	f = conf_find_feed(conf, "lwn");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->url, "https://lwn.net/headlines/rss");
	ck_assert_uint_eq(f->interval, 900);
	ck_assert_uint_eq(f->ntags, 3);
	ck_assert_str_eq(f->tags[0], "linux");
	ck_assert_str_eq(f->tags[2], "kernel");
	ck_assert(!f->allow_file);

	f = conf_find_feed(conf, "indented");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->interval, 5400); /* the global default */

	f = conf_find_feed(conf, "local");
	ck_assert_ptr_nonnull(f);
	ck_assert(f->allow_file);
	/* resolved against the folder of the config file */
	ck_assert_msg(strncmp(f->url, "file:///", 8) == 0 &&
	    strstr(f->url, "/tests/data/feeds/rss2-basic.xml") != NULL, "%s", f->url);

	ck_assert_uint_eq(conf->noutputs, 1);
	ck_assert_str_eq(conf->outputs[0].name, "linux");
	ck_assert_str_eq(conf->outputs[0].feeds[0], "lwn");
	conf_free(conf);
}
END_TEST

START_TEST(test_storage_keys)
{
	struct conf_errors errs = {0};
	struct conf *conf = conf_load(tu_data("conf/ok-storage.conf"), &errs);

	ck_assert_msg(conf != NULL, "%s", errs.n > 0 ? errs.msgs[0] : "");
	ck_assert_uint_eq(conf->keep, (uintmax_t)30 * 86400);
	ck_assert_uint_eq(conf->max_items, 5000);
	ck_assert_uint_eq(conf->listen_mode, 0640);
	ck_assert_str_eq(conf->listen_group, "feedreaders");
	ck_assert_uint_eq(conf->max_connections, 200);
	ck_assert_uint_eq(conf->heartbeat, 20);
	ck_assert_uint_eq(conf->feeds[0].keep, (uintmax_t)7 * 86400);
	ck_assert_uint_eq(conf->feeds[0].max_items, 100);
	ck_assert(!conf->feeds[0].merge);
	ck_assert_uint_eq(conf->outputs[0].ninclude, 2);
	ck_assert_str_eq(conf->outputs[0].exclude[0], "sponsored");
	conf_free(conf);
}
END_TEST

START_TEST(test_defaults)
{
	struct conf_errors errs = {0};
	struct conf *conf = conf_load(tu_data("conf/ok-minimal.conf"), &errs);

	ck_assert_ptr_nonnull(conf);
	ck_assert_str_eq(conf->database, "/var/lib/feedmux/feedmux.db");
	ck_assert_uint_eq(conf->nlisten, 1);
	ck_assert_str_eq(conf->listen[0].path, "/run/feedmux/feedmux.sock");
	ck_assert_uint_eq(conf->interval, 1800);
	ck_assert_uint_eq(conf->feeds[0].interval, 1800);
	conf_free(conf);
}
END_TEST

START_TEST(test_fetch_keys)
{
	struct conf_errors errs = {0};
	struct conf *conf = conf_load(tu_data("conf/ok-fetch.conf"), &errs);

	ck_assert_msg(conf != NULL, "%s", errs.n > 0 ? errs.msgs[0] : "");
	ck_assert_uint_eq(conf->min_interval, 300);
	ck_assert_uint_eq(conf->max_interval, 43200);
	ck_assert(conf->adaptive);
	ck_assert_uint_eq(conf->start_spread_ms, 0);
	ck_assert_uint_eq(conf->connect_timeout, 10);
	ck_assert_uint_eq(conf->timeout, 60);
	ck_assert_uint_eq(conf->low_speed_time, 20);
	ck_assert_uint_eq(conf->low_speed_limit, 1024);
	ck_assert_uint_eq(conf->max_body, 2ULL * 1024 * 1024);
	ck_assert_uint_eq(conf->max_transfers, 100);
	ck_assert_uint_eq(conf->host_connections, 4);
	ck_assert_uint_eq(conf->host_delay_ms, 250);
	ck_assert_str_eq(conf->user_agent, "feedmux-test/1.0 (+https://example.org/bot)");
	ck_assert(conf->refuse_private);
	conf_free(conf);
	/* and the defaults */
	conf = conf_load(tu_data("conf/ok-minimal.conf"), &errs);
	ck_assert_ptr_nonnull(conf);
	ck_assert_uint_eq(conf->min_interval, 60);
	ck_assert_uint_eq(conf->max_interval, 86400);
	ck_assert(!conf->adaptive);
	ck_assert_uint_eq(conf->max_body, 16ULL * 1024 * 1024);
	ck_assert_uint_eq(conf->host_connections, 2);
	ck_assert_uint_eq(conf->host_delay_ms, 1000);
	ck_assert_uint_eq(conf->start_spread_ms, 300000);
	ck_assert_ptr_null(conf->user_agent);
	ck_assert(!conf->refuse_private);
	conf_free(conf);
}
END_TEST

START_TEST(test_unreadable)
{
	struct conf_errors errs = {0};

	ck_assert_ptr_null(conf_load("/nonexistent/feedmux.conf", &errs));
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_str_eq(errs.msgs[0], "/nonexistent/feedmux.conf: cannot read: No such file or directory");
	conf_errors_free(&errs);
}
END_TEST

/* Every error in a file is reported, not only the first. */
START_TEST(test_all_errors_reported)
{
	char *dir = tu_mkdtemp();
	char *path = xasprintf("%s/multi.conf", dir);
	struct conf_errors errs = {0};

	tu_write_file(path, "[feedmux]\ninterval = soon\n[feed \"a\"]\nfoo = 1\n[feed \"b\"]\n");
	ck_assert_ptr_null(conf_load(path, &errs));
	/* in line order, though "missing url" is only known when the next section starts */
	ck_assert_uint_eq(errs.n, 4);
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], ":2: interval = soon"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[1], ":3: feed \"a\": missing url"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[2], ":4: unknown key 'foo'"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[3], ":5: feed \"b\": missing url"));
	conf_errors_free(&errs);
	tu_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_durations)
{
	unsigned s;

	ck_assert_int_eq(conf_parse_duration("90", &s), 0);
	ck_assert_uint_eq(s, 90);
	ck_assert_int_eq(conf_parse_duration("15m", &s), 0);
	ck_assert_uint_eq(s, 900);
	ck_assert_int_eq(conf_parse_duration("1h30m", &s), 0);
	ck_assert_uint_eq(s, 5400);
	ck_assert_int_eq(conf_parse_duration("2d", &s), 0);
	ck_assert_uint_eq(s, 172800);
	ck_assert_int_eq(conf_parse_duration("1w", &s), 0);
	ck_assert_uint_eq(s, 604800);
	ck_assert_int_eq(conf_parse_duration("", &s), -1);
	ck_assert_int_eq(conf_parse_duration("m", &s), -1);
	ck_assert_int_eq(conf_parse_duration("5x", &s), -1);
	ck_assert_int_eq(conf_parse_duration("-5m", &s), -1);
	ck_assert_int_eq(conf_parse_duration("99999999999", &s), -1);
	ck_assert_int_eq(conf_parse_duration("1 h", &s), -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");
	int rc;

	if (glob(tu_data("conf/bad-*.conf"), 0, NULL, &bad_files) != 0) {
		fprintf(stderr, "no bad-*.conf fixtures\n");
		return 1;
	}
	tcase_add_loop_test(tc, test_bad_file, 0, (int)bad_files.gl_pathc);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_storage_keys);
	tcase_add_test(tc, test_fetch_keys);
	tcase_add_test(tc, test_unreadable);
	tcase_add_test(tc, test_all_errors_reported);
	tcase_add_test(tc, test_durations);
	suite_add_tcase(s, tc);
	rc = tu_run_suite(s);
	globfree(&bad_files);
	return rc;
}
