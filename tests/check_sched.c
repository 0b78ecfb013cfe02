/*
 * check_sched.c: when the next poll is (sched_next_poll), rule by rule.
 * The scheduler's queues, hosts and shutdown are driven end to end in
 * check_fetch.c.
 */
#include <check.h>
#include <string.h>

#include "daemon/sched.h"
#include "tests/testutil.h"

/* Monday 5 January 2026, 10:00:00 UTC. */
#define MONDAY_10H ((time_t)1767607200)

static struct sched_plan
plan(unsigned interval)
{
	struct sched_plan p;

	memset(&p, 0, sizeof p);
	p.now = MONDAY_10H;
	p.interval = interval;
	p.min_interval = 60;
	p.max_interval = 86400;
	p.retry_after = -1;
	p.max_age = -1;
	return p;
}

START_TEST(test_interval_and_jitter)
{
	struct sched_plan p = plan(600);

	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 600);
	/* jitter only ever adds, less than a tenth */
	p.jitter = 999;
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 659);
}
END_TEST

START_TEST(test_min_interval_wins)
{
	struct sched_plan p = plan(10);

	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 60);
	p.max_age = 5;
	p.ttl = 30;
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 60);
}
END_TEST

START_TEST(test_server_and_feed_hints)
{
	struct sched_plan p = plan(600);

	p.max_age = 3600;
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 3600);
	/* hints only ever lengthen the interval */
	p.max_age = 120;
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 600);
	p.ttl = 5400;
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 5400);
	p.update_period = 21600;
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 21600);
	/* ... up to max_interval */
	p.max_age = 10L * 86400;
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 86400);
}
END_TEST

START_TEST(test_backoff_doubles_and_caps)
{
	struct sched_plan p = plan(600);

	p.failures = 1;
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 600);
	p.failures = 2;
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 1200);
	p.failures = 4;
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 4800);
	p.failures = 40;
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 86400);
	/* a feed polled less often than max_interval is never polled more often on failure */
	p = plan(2U * 86400);
	p.failures = 3;
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 2L * 86400);
	/* failures ignore the feed's hints: they came with the last good answer */
	p = plan(600);
	p.failures = 1;
	p.ttl = 5400;
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 600);
}
END_TEST

START_TEST(test_retry_after)
{
	struct sched_plan p = plan(600);

	p.failures = 1;
	p.retry_after = 7200;
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 7200);
	p.retry_after = 30;
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 600);
	p.retry_after = 30L * 86400;
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 86400);
}
END_TEST

START_TEST(test_skip_hours_and_days)
{
	struct sched_plan p = plan(600);

	p.skip_hours = 1u << 10;
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 3600); /* 11:00 */
	p.skip_hours = (1u << 10) | (1u << 11);
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 2L * 3600);
	p.skip_hours = 0;
	p.skip_days = 1u << 1; /* Monday */
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 14L * 3600); /* Tuesday 00:00 */
	/* a feed that skips every hour cannot mean it: its hint is ignored */
	p.skip_days = 0;
	p.skip_hours = 0xffffff;
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 600);
	/* failures retry on their own schedule */
	p.skip_hours = 1u << 10;
	p.failures = 1;
	ck_assert_int_eq(sched_next_poll(&p), MONDAY_10H + 600);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sched");
	TCase *tc = tcase_create("plan");

	tcase_add_test(tc, test_interval_and_jitter);
	tcase_add_test(tc, test_min_interval_wins);
	tcase_add_test(tc, test_server_and_feed_hints);
	tcase_add_test(tc, test_backoff_doubles_and_caps);
	tcase_add_test(tc, test_retry_after);
	tcase_add_test(tc, test_skip_hours_and_days);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
