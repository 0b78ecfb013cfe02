/* check_urlnorm.c: the story key two spellings of one link share. */
#include <check.h>
#include <stdlib.h>

#include "feeds/urlnorm.h"
#include "tests/testutil.h"

static const struct {
	const char *in, *want;
} cases[] = {
	{"https://Example.COM/a/b", "https://example.com/a/b"},
	{"HTTP://example.com:80/x", "http://example.com/x"},
	{"https://example.com:443/x", "https://example.com/x"},
	{"https://example.com:8443/x", "https://example.com:8443/x"},
	{"https://example.com/x#section-2", "https://example.com/x"},
	{"https://example.com/x?utm_source=rss&utm_medium=feed", "https://example.com/x"},
	{"https://example.com/x?b=2&fbclid=abc&a=1&gclid=z", "https://example.com/x?a=1&b=2"},
	{"https://example.com/x?UTM_Campaign=y&id=7", "https://example.com/x?id=7"},
	{"https://example.com", "https://example.com/"},
	{"https://example.com./x", "https://example.com/x"},
	{"https://example.com../x", "https://example.com/x"}, /* a second pass must change nothing */
	{"http://1./x", "http://0.0.0.1/x"}, /* read as curl reads it when it comes back (fuzz_urlnorm) */
	{"https://example.com/a b", "https://example.com/a%20b"},
	{"https://example.com/x?", "https://example.com/x"},
	{"https://example.com/x?&&a=1&&", "https://example.com/x?a=1"},
};

START_TEST(test_normal_forms)
{
	char *got = urlnorm_story_key(cases[_i].in);

	ck_assert_msg(got != NULL, "%s: no key", cases[_i].in);
	ck_assert_str_eq(got, cases[_i].want);
	free(got);
}
END_TEST

START_TEST(test_no_key)
{
	static const char *const none[] = {NULL, "", "not a url", "/relative/path",
		"mailto:a@example.com", "ftp://example.com/x", "javascript:alert(1)",
		"http:/..?", "http://./", "https://.../x", /* a host of dots is none (fuzz_urlnorm) */
		"https://%dd/x", "https://a%0ab/x", "https://a%20b/"}; /* nor one that decodes to junk */

	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
		char *got = urlnorm_story_key(none[i]);

		ck_assert_msg(got == NULL, "%s gave %s", none[i] ? none[i] : "NULL", got);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("urlnorm");
	TCase *tc = tcase_create("urlnorm");

	tcase_add_loop_test(tc, test_normal_forms, 0, (int)(sizeof cases / sizeof cases[0]));
	tcase_add_test(tc, test_no_key);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
