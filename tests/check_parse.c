/*
 * check_parse.c: the feed parser on fixtures (whole and in 1-byte chunks),
 * and the date, URL and text helpers it relies on.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/date.h"
#include "feeds/parse.h"
#include "feeds/text.h"
#include "feeds/url.h"
#include "tests/testutil.h"

struct parsed {
	struct item *items[64];
	size_t n;
	int finish_rc;
	bool illformed;
	char *error;
	char *feed_title;
	char *feed_link;
	enum parse_dialect dialect;
};

static void
collect(void *arg, struct item *item)
{
	struct parsed *r = arg;

	ck_assert_uint_lt(r->n, 64);
	r->items[r->n++] = item;
}

/* Parse fixture `name` from its URL `url`, fed in chunks of `chunk` bytes (0: whole). */
static void
parse_fixture(const char *name, const char *url, size_t chunk, struct parsed *r)
{
	size_t len;
	char *doc = tu_read_file(tu_data(name), &len);
	struct parser *p;

	ck_assert_msg(doc != NULL, "cannot read %s", name);
	memset(r, 0, sizeof *r);
	p = parse_new(url, NULL, collect, r);
	if (chunk == 0)
		parse_push(p, doc, len);
	else
		for (size_t off = 0; off < len; off += chunk)
			parse_push(p, doc + off, len - off < chunk ? len - off : chunk);
	r->finish_rc = parse_finish(p);
	r->illformed = parse_illformed(p);
	r->error = parse_error(p) != NULL ? xstrdup(parse_error(p)) : NULL;
	r->dialect = parse_dialect(p);
	if (parse_feed_info(p)->title != NULL)
		r->feed_title = xstrdup(parse_feed_info(p)->title);
	if (parse_feed_info(p)->link != NULL)
		r->feed_link = xstrdup(parse_feed_info(p)->link);
	parse_free(p);
	free(doc);
}

static void
parsed_free(struct parsed *r)
{
	for (size_t i = 0; i < r->n; i++)
		item_free(r->items[i]);
	free(r->error);
	free(r->feed_title);
	free(r->feed_link);
}

/* Everything parsed, as one string, so two parses can be compared. */
static char *
parsed_dump(const struct parsed *r)
{
	struct buf b;

	buf_init(&b, 0);
	buf_addf(&b, "dialect=%d rc=%d illformed=%d title=%s link=%s\n", r->dialect, r->finish_rc,
	    r->illformed, r->feed_title ? r->feed_title : "-", r->feed_link ? r->feed_link : "-");
	for (size_t i = 0; i < r->n; i++) {
		const struct item *it = r->items[i];

		buf_addf(&b, "[%s|%s|%s|%s|%d:%s|%d:%s|%lld|%lld]\n", it->id ? it->id : "-",
		    it->title ? it->title : "-", it->link ? it->link : "-",
		    it->author ? it->author : "-", it->summary_type,
		    it->summary ? it->summary : "-", it->content_type,
		    it->content ? it->content : "-", (long long)it->published,
		    (long long)it->updated);
	}
	return buf_steal(&b);
}

START_TEST(test_rss2)
{
	struct parsed r;

	parse_fixture("feeds/rss2-basic.xml", "https://rss.example.com/feed", 0, &r);
	ck_assert_int_eq(r.finish_rc, 0);
	ck_assert(!r.illformed);
	ck_assert_int_eq(r.dialect, DIALECT_RSS);
	ck_assert_str_eq(r.feed_title, "Fixture RSS");
	ck_assert_str_eq(r.feed_link, "https://rss.example.com/");
	ck_assert_uint_eq(r.n, 5);

	ck_assert_str_eq(r.items[0]->id, "rss-1");
	ck_assert_str_eq(r.items[0]->title, "RSS one");
	ck_assert_str_eq(r.items[0]->link, "https://rss.example.com/1");
	ck_assert_str_eq(r.items[0]->summary, "First <b>item</b>");
	ck_assert_int_eq(r.items[0]->summary_type, TEXT_HTML);
	ck_assert_int_eq(r.items[0]->published, 1740996000); /* 2025-03-03T10:00:00Z */

	ck_assert_ptr_null(r.items[1]->id);
	ck_assert_str_eq(r.items[1]->link, "https://rss.example.com/2");

	/* whitespace in titles collapsed; a permalink guid gives the link; zones applied */
	ck_assert_str_eq(r.items[2]->title, "RSS three");
	ck_assert_str_eq(r.items[2]->link, "https://rss.example.com/3");
	ck_assert_str_eq(r.items[2]->author, "Ada Writer");
	ck_assert_str_eq(r.items[2]->content, "<p>Long <i>form</i> &amp; more</p>");
	ck_assert_int_eq(r.items[2]->content_type, TEXT_HTML);
	ck_assert_int_eq(r.items[2]->published, 1740823200); /* 2025-03-01T10:00:00Z */
	parsed_free(&r);
}
END_TEST

START_TEST(test_atom)
{
	struct parsed r;

	parse_fixture("feeds/atom-basic.xml", "https://atom.example.net/blog/feed.atom", 0, &r);
	ck_assert_int_eq(r.finish_rc, 0);
	ck_assert(!r.illformed);
	ck_assert_int_eq(r.dialect, DIALECT_ATOM);
	ck_assert_str_eq(r.feed_title, "Fixture Atom");
	ck_assert_str_eq(r.feed_link, "https://atom.example.net/blog/");
	ck_assert_uint_eq(r.n, 3);

	ck_assert_str_eq(r.items[0]->id, "tag:atom.example.net,2025:1");
	ck_assert_str_eq(r.items[0]->link, "https://atom.example.net/blog/posts/one");
	ck_assert_str_eq(r.items[0]->author, "Bea Blogger");
	ck_assert_str_eq(r.items[0]->summary, "<p>Summary &amp; more</p>");
	ck_assert_int_eq(r.items[0]->summary_type, TEXT_HTML);
	ck_assert_str_eq(r.items[0]->content, "<p>Hello <b>world</b></p>");
	ck_assert_int_eq(r.items[0]->content_type, TEXT_XHTML);
	ck_assert_int_eq(r.items[0]->published, 1741003200); /* 2025-03-03T12:00:00Z */
	ck_assert_int_eq(r.items[0]->updated, 1741006800);

	/* xml:base on the entry wins over the feed's */
	ck_assert_str_eq(r.items[1]->link, "https://other.example.org/two");
	ck_assert_str_eq(r.items[1]->content, "Plain <text>");
	ck_assert_int_eq(r.items[1]->content_type, TEXT_PLAIN);
	ck_assert_int_eq(r.items[1]->updated, 1740913200); /* 2025-03-02T11:00:00Z */
	ck_assert_int_eq(r.items[1]->published, 0);

	ck_assert_int_eq(r.items[2]->published, 1740801600); /* 2025-03-01T04:00:00Z */
	parsed_free(&r);
}
END_TEST

START_TEST(test_rdf)
{
	struct parsed r;

	parse_fixture("feeds/rdf-basic.rdf", NULL, 0, &r);
	ck_assert_int_eq(r.finish_rc, 0);
	ck_assert_int_eq(r.dialect, DIALECT_RDF);
	ck_assert_str_eq(r.feed_title, "Fixture RDF");
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.items[0]->title, "RDF a");
	ck_assert_int_eq(r.items[0]->published, 1736035200); /* 2025-01-05 */
	parsed_free(&r);
}
END_TEST

START_TEST(test_polling_hints)
{
	struct parsed r = {0};
	size_t len;
	char *doc = tu_read_file(tu_data("feeds/rss2-hints.xml"), &len);
	struct parser *p = parse_new("https://hints.example.com/feed", NULL, collect, &r);
	const struct feed_info *fi;

	parse_push(p, doc, len);
	ck_assert_int_eq(parse_finish(p), 0);
	fi = parse_feed_info(p);
	ck_assert_str_eq(fi->link, "https://hints.example.com/"); /* not the atom:link rel=self */
	ck_assert_str_eq(fi->hub, "https://hub.example.com/");
	ck_assert_uint_eq(fi->ttl, 5400);
	ck_assert_uint_eq(fi->skip_hours, (1U << 0) | (1U << 1) | (1U << 23));
	ck_assert_uint_eq(fi->skip_days, (1U << 6) | (1U << 0));
	ck_assert_uint_eq(fi->update_period, 86400 / 4);
	parse_free(p);
	parsed_free(&r);
	free(doc);
}
END_TEST

START_TEST(test_truncated_salvaged)
{
	struct parsed r;

	parse_fixture("feeds/truncated.xml", NULL, 0, &r);
	ck_assert_int_eq(r.finish_rc, 0);
	ck_assert(r.illformed);
	ck_assert_ptr_nonnull(r.error);
	ck_assert_msg(strncmp(r.error, "line ", 5) == 0, "%s", r.error);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_str_eq(r.items[0]->title, "Whole item");
	ck_assert_str_eq(r.items[1]->title, "Half an it");
	parsed_free(&r);
}
END_TEST

START_TEST(test_not_a_feed)
{
	struct parsed r;

	parse_fixture("feeds/not-a-feed.html", NULL, 0, &r);
	ck_assert_int_eq(r.finish_rc, -1);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_str_eq(r.error, "line 1: not a feed: the root element is <html>");
	parsed_free(&r);

	parse_fixture("feeds/empty.xml", NULL, 0, &r);
	ck_assert_int_eq(r.finish_rc, -1);
	ck_assert_str_eq(r.error, "empty document");
	parsed_free(&r);
}
END_TEST

/* Chunk boundaries must not change anything. */
START_TEST(test_chunking)
{
	static const char *const fixtures[] = {"feeds/rss2-basic.xml", "feeds/atom-basic.xml",
		"feeds/rdf-basic.rdf", "feeds/truncated.xml", "feeds/not-a-feed.html"};

	for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
		struct parsed whole, bytes, sevens;
		char *a, *b, *c;

		parse_fixture(fixtures[i], "https://example.com/", 0, &whole);
		parse_fixture(fixtures[i], "https://example.com/", 1, &bytes);
		parse_fixture(fixtures[i], "https://example.com/", 7, &sevens);
		a = parsed_dump(&whole);
		b = parsed_dump(&bytes);
		c = parsed_dump(&sevens);
		ck_assert_msg(strcmp(a, b) == 0, "%s: whole\n%s\n1-byte chunks\n%s", fixtures[i], a, b);
		ck_assert_msg(strcmp(a, c) == 0, "%s: whole\n%s\n7-byte chunks\n%s", fixtures[i], a, c);
		free(a), free(b), free(c);
		parsed_free(&whole), parsed_free(&bytes), parsed_free(&sevens);
	}
}
END_TEST

/* An external entity must never be read, whatever the document asks. */
START_TEST(test_external_entity_refused)
{
	const char *doc = "<?xml version=\"1.0\"?>\n"
			  "<!DOCTYPE rss [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
			  "<rss version=\"2.0\"><channel><item><title>a&x;b</title></item></channel></rss>";
	struct parsed r = {0};
	struct parser *p = parse_new(NULL, NULL, collect, &r);

	parse_push(p, doc, strlen(doc));
	ck_assert_int_eq(parse_finish(p), 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_ptr_null(strstr(r.items[0]->title, "root:"));
	parse_free(p);
	parsed_free(&r);
}
END_TEST

START_TEST(test_dates)
{
	ck_assert_int_eq(date_parse("2025-03-03T10:00:00Z"), 1740996000);
	ck_assert_int_eq(date_parse("2025-03-03T12:00:00+02:00"), 1740996000);
	ck_assert_int_eq(date_parse("2025-03-03T05:00:00-0500"), 1740996000);
	ck_assert_int_eq(date_parse("2025-03-03t10:00:00.123z"), 1740996000);
	ck_assert_int_eq(date_parse("2025-03-03 10:00:00Z"), 1740996000);
	ck_assert_int_eq(date_parse("  2025-03-03T10:00Z "), 1740996000);
	ck_assert_int_eq(date_parse("2025-03-03"), 1740960000);
	ck_assert_int_eq(date_parse("2025-03"), 1740787200);
	ck_assert_int_eq(date_parse("Mon, 03 Mar 2025 10:00:00 GMT"), 1740996000);
	ck_assert_int_eq(date_parse("03 Mar 2025 10:00:00 +0000"), 1740996000);
	ck_assert_int_eq(date_parse("Mon, 03 Mar 2025 11:00:00 +0100"), 1740996000);
	/* unreadable or impossible: no date rather than a wrong one */
	ck_assert_int_eq(date_parse(""), -1);
	ck_assert_int_eq(date_parse("yesterday-ish"), -1);
	ck_assert_int_eq(date_parse("2025-02-30T00:00:00Z"), -1);
	ck_assert_int_eq(date_parse("2025-13-01"), -1);
	ck_assert_int_eq(date_parse("2025-03-03T25:00:00Z"), -1);
	ck_assert_int_eq(date_parse("2025-03-03T10:00:00+99:00"), -1);
}
END_TEST

START_TEST(test_urls)
{
	char *u;

	u = url_resolve("https://a.example/x/y", "../z?q=1#f");
	ck_assert_str_eq(u, "https://a.example/z?q=1#f");
	free(u);
	u = url_resolve("https://a.example/x/", "//b.example/p");
	ck_assert_str_eq(u, "https://b.example/p");
	free(u);
	u = url_resolve(NULL, "https://c.example/a b");
	ck_assert_str_eq(u, "https://c.example/a%20b");
	free(u);
	ck_assert_ptr_null(url_resolve(NULL, "relative/only"));
}
END_TEST

START_TEST(test_text_clean)
{
	struct buf b;

	buf_init(&b, 0);
	text_append_clean(&b, "ok \xC3\xA9 \xE2\x82\xAC", 9);
	ck_assert_str_eq(b.data, "ok \xC3\xA9 \xE2\x82\xAC");
	buf_reset(&b);
	text_append_clean(&b, "a\x01" "b\xFF" "c\xC0\xAF" "d", 8);
	ck_assert_str_eq(b.data, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD" "d");
	buf_reset(&b);
	text_append_clean(&b, "\xED\xA0\x80", 3); /* a surrogate */
	ck_assert(text_is_clean(b.data, b.len));
	ck_assert(!text_is_clean("\xEF\xBF\xBE", 3)); /* U+FFFE */
	buf_free(&b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("parse");
	SRunner *sr;
	int failed;

	parse_init();
	tcase_add_test(tc, test_rss2);
	tcase_add_test(tc, test_atom);
	tcase_add_test(tc, test_rdf);
	tcase_add_test(tc, test_polling_hints);
	tcase_add_test(tc, test_truncated_salvaged);
	tcase_add_test(tc, test_not_a_feed);
	tcase_add_test(tc, test_chunking);
	tcase_add_test(tc, test_external_entity_refused);
	tcase_add_test(tc, test_dates);
	tcase_add_test(tc, test_urls);
	tcase_add_test(tc, test_text_clean);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
