/*
 * check_render.c: the output formats.  Stories with hostile text go through
 * every writer; Atom is validated against the RFC 4287 schema, RSS with
 * xmllint against tests/data/render/rss2.rng, JSON Feed with jansson, OPML
 * for well-formedness; and what a story carries (categories, sources, the
 * other feeds that carried it) must be there in each.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "feeds/render.h"
#include "tests/testutil.h"

/* Text no feed should be able to break an output with. */
static const char *const hostile[] = {
	"control \x01\x02\x08\x0b\x0c\x1b[31m characters",
	"invalid UTF-8 \xff\xfe \xc3\x28 \xe2\x82 end",
	"a surrogate \xed\xa0\x80 and U+FFFE \xef\xbf\xbe",
	"CDATA end ]]> and <![CDATA[ start",
	"<script>alert('x')</script> & <b>markup</b> \"quoted\" &amp; &#0; &bogus;",
	"tabs\tnew\nlines\rand\r\nCRLF",
};

static struct stored_item items[3];
static char *longtext;

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
fill_source(struct item_source *src, const char *name, const char *title, const char *url,
    const char *link, const char *item_link)
{
	src->name = dup_or_null(name);
	src->title = dup_or_null(title);
	src->url = dup_or_null(url);
	src->link = dup_or_null(link);
	src->item_link = dup_or_null(item_link);
}

static void
setup(void)
{
	struct item *it;

	longtext = xcalloc(1, (size_t)1024 * 1024 + 1);
	memset(longtext, 'L', (size_t)1024 * 1024);
	memset(items, 0, sizeof items);

	/* 0: every field, hostile where text can be, carried by three feeds */
	it = &items[0].item;
	it->id = xstrdup("tag:example.com,2026:1");
	it->title = xstrdup(hostile[0]);
	it->link = xstrdup("https://example.com/story?a=1&b=2");
	it->summary = xstrdup(hostile[3]);
	it->summary_type = TEXT_PLAIN;
	it->content = xstrdup(hostile[4]);
	it->content_type = TEXT_HTML;
	it->comments = xstrdup("https://example.com/story#comments");
	it->published = 1767225600;
	it->updated = 1767229200;
	it->nauthors = 2;
	it->authors = xcalloc(2, sizeof *it->authors);
	it->authors[0].name = xstrdup(hostile[1]);
	it->authors[0].email = xstrdup("not an address <x>");
	it->authors[1].email = xstrdup("ann@example.com");
	it->authors[1].uri = xstrdup("https://ann.example/");
	it->ncategories = 3;
	it->categories = xcalloc(3, sizeof *it->categories);
	it->categories[0].term = xstrdup("linux");
	it->categories[0].scheme = xstrdup("https://example.com/tags");
	it->categories[1].term = xstrdup(hostile[2]);
	it->categories[1].scheme = xstrdup("not a scheme IRI");
	it->categories[1].label = xstrdup(hostile[5]);
	it->categories[2].term = xstrdup("");
	it->nlinks = 2;
	it->links = xcalloc(2, sizeof *it->links);
	it->links[0].rel = LINK_OTHER;
	it->links[0].rel_name = xstrdup("license");
	it->links[0].href = xstrdup("https://creativecommons.org/licenses/by/4.0/");
	it->links[1].rel = LINK_RELATED;
	it->links[1].href = xstrdup("javascript:alert(1) <bad>");
	it->nenclosures = 1;
	it->enclosures = xcalloc(1, sizeof *it->enclosures);
	it->enclosures[0].url = xstrdup("https://example.com/a.mp3");
	it->enclosures[0].type = xstrdup("audio/mpeg");
	it->enclosures[0].length = -1;
	items[0].rowid = 1;
	items[0].sort_time = it->published;
	items[0].first_seen = it->published;
	fill_source(&items[0].source, "alpha", hostile[5], "https://a.example/feed.xml",
	    "https://a.example/", it->link);
	items[0].source.id = xstrdup("urn:uuid:60a76c80-d399-11d9-b93c-0003939e0af6");
	items[0].nvia = 2;
	items[0].via = xcalloc(2, sizeof *items[0].via);
	fill_source(&items[0].via[0], "beta", "Beta & Co", "https://b.example/rss",
	    "https://b.example/", "https://example.com/story?b=2&a=1&utm_source=beta");
	fill_source(&items[0].via[1], "gamma", NULL, "https://c.example/atom", NULL, NULL);

	/* 1: nothing but a hostile id and no link: still a valid entry */
	it = &items[1].item;
	it->id = xstrdup(hostile[4]);
	items[1].rowid = 2;
	items[1].sort_time = 1767000000;
	fill_source(&items[1].source, "beta", NULL, "https://b.example/rss", NULL, NULL);

	/* 2: a megabyte of text, plain */
	it = &items[2].item;
	it->title = xstrdup("long");
	it->link = xstrdup("https://example.com/long");
	it->content = xstrdup(longtext);
	it->content_type = TEXT_PLAIN;
	items[2].rowid = 3;
	items[2].sort_time = 1766000000;
	fill_source(&items[2].source, "gamma", "Gamma", "https://c.example/atom", NULL, NULL);
}

static void
teardown(void)
{
	for (int i = 0; i < 3; i++)
		stored_item_clear(&items[i]);
	free(longtext);
}

static const struct render_feed meta = {
	.title = "feedmux",
	.id = "urn:uuid:5b0e6a52-6c1a-4bb0-9d0e-7d7d1f9f4a11",
	.self_url = "http://localhost/feed.atom?limit=3",
	.next_url = "http://localhost/feed.atom?limit=3&before=1766000000-3",
	.version = "0.1.0",
};

static size_t
xpath_count(xmlDocPtr doc, const char *xpath)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr res;
	size_t n;

	xmlXPathRegisterNs(ctx, BAD_CAST "a", BAD_CAST "http://www.w3.org/2005/Atom");
	res = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
	ck_assert_msg(res != NULL, "%s", xpath);
	n = res->nodesetval != NULL ? (size_t)res->nodesetval->nodeNr : 0;
	xmlXPathFreeObject(res);
	xmlXPathFreeContext(ctx);
	return n;
}

/* The string value of `xpath` (an XPath string expression). */
static char *
xpath_string(xmlDocPtr doc, const char *xpath)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr res;
	char *s;

	xmlXPathRegisterNs(ctx, BAD_CAST "a", BAD_CAST "http://www.w3.org/2005/Atom");
	res = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
	ck_assert_msg(res != NULL, "%s", xpath);
	s = (char *)xmlXPathCastToString(res);
	xmlXPathFreeObject(res);
	xmlXPathFreeContext(ctx);
	return s;
}

START_TEST(test_atom_valid_and_complete)
{
	struct buf out;
	char why[300], *s;
	xmlDocPtr doc;

	buf_init(&out, 0);
	render_atom(&out, &meta, items, 3);
	ck_assert_msg(tu_atom_valid(out.data, out.len, why, sizeof why), "invalid Atom: %s", why);
	doc = xmlReadMemory(out.data, (int)out.len, "feed.atom", NULL, XML_PARSE_NONET);
	ck_assert_ptr_nonnull(doc);
	ck_assert_uint_eq(xpath_count(doc, "/a:feed/a:entry"), 3);
	/* categories: the empty term is left out */
	ck_assert_uint_eq(xpath_count(doc, "/a:feed/a:entry[1]/a:category"), 2);
	ck_assert_uint_eq(xpath_count(doc, "/a:feed/a:entry[1]/a:category[@scheme]"), 1);
	/* one source, and a via link per other feed */
	s = xpath_string(doc, "string(/a:feed/a:entry[1]/a:source/a:id)");
	ck_assert_str_eq(s, "urn:uuid:60a76c80-d399-11d9-b93c-0003939e0af6");
	xmlFree(s);
	s = xpath_string(doc, "string(/a:feed/a:entry[1]/a:source/a:link[@rel='self']/@href)");
	ck_assert_str_eq(s, "https://a.example/feed.xml");
	xmlFree(s);
	ck_assert_uint_eq(xpath_count(doc, "/a:feed/a:entry[1]/a:link[@rel='via']"), 2);
	s = xpath_string(doc, "string(/a:feed/a:entry[1]/a:link[@rel='via'][1]/@title)");
	ck_assert_str_eq(s, "Beta & Co");
	xmlFree(s);
	s = xpath_string(doc, "string(/a:feed/a:entry[1]/a:link[@rel='via'][2]/@href)");
	ck_assert_str_eq(s, "https://c.example/atom");
	xmlFree(s);
	/* the bad IRI is dropped, the good links kept, the enclosure once */
	ck_assert_uint_eq(xpath_count(doc, "/a:feed/a:entry[1]/a:link[@rel='related']"), 0);
	ck_assert_uint_eq(xpath_count(doc, "/a:feed/a:entry[1]/a:link[@rel='license']"), 1);
	ck_assert_uint_eq(xpath_count(doc, "/a:feed/a:entry[1]/a:link[@rel='enclosure']"), 1);
	ck_assert_uint_eq(xpath_count(doc, "/a:feed/a:entry[1]/a:author"), 2);
	ck_assert_uint_eq(xpath_count(doc, "/a:feed/a:entry[1]/a:author/a:email"), 1);
	/* hostile text survives as text */
	s = xpath_string(doc, "string(/a:feed/a:entry[1]/a:summary)");
	ck_assert_str_eq(s, hostile[3]);
	xmlFree(s);
	s = xpath_string(doc, "string(/a:feed/a:entry[1]/a:content)");
	ck_assert_str_eq(s, hostile[4]);
	xmlFree(s);
	/* paging (RFC 5005) */
	ck_assert_uint_eq(xpath_count(doc, "/a:feed/a:link[@rel='next']"), 1);
	s = xpath_string(doc, "string(/a:feed/a:entry[3]/a:content)");
	ck_assert_uint_eq(strlen(s), (size_t)1024 * 1024);
	xmlFree(s);
	xmlFreeDoc(doc);
	buf_free(&out);
}
END_TEST

/* Write `text` to a file and run xmllint on it; returns its exit status. */
static int
xmllint(const char *text, size_t len, const char *schema, char **err)
{
	char *dir = tu_mkdtemp(), *path = xasprintf("%s/doc.xml", dir);
	char *argv[6] = {"/usr/bin/xmllint", "--noout", NULL, NULL, NULL, NULL};
	FILE *f = fopen(path, "wb");
	int rc;

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	fclose(f);
	if (schema != NULL) {
		argv[2] = "--relaxng";
		argv[3] = (char *)schema;
		argv[4] = path;
	} else
		argv[2] = path;
	rc = tu_run(argv, 60, NULL, err);
	tu_rmtree(dir);
	free(path);
	free(dir);
	return rc;
}

START_TEST(test_rss_valid_and_complete)
{
	struct buf out;
	char *err = NULL, *s;
	xmlDocPtr doc;

	buf_init(&out, 0);
	render_rss(&out, &meta, items, 3);
	ck_assert_msg(xmllint(out.data, out.len, tu_data("render/rss2.rng"), &err) == 0, "%s", err);
	free(err);
	doc = xmlReadMemory(out.data, (int)out.len, "feed.rss", NULL, XML_PARSE_NONET);
	ck_assert_ptr_nonnull(doc);
	ck_assert_uint_eq(xpath_count(doc, "/rss/channel/item"), 3);
	ck_assert_uint_eq(xpath_count(doc, "/rss/channel/item[1]/category"), 2);
	s = xpath_string(doc, "string(/rss/channel/item[1]/source/@url)");
	ck_assert_str_eq(s, "https://a.example/feed.xml");
	xmlFree(s);
	ck_assert_uint_eq(xpath_count(doc, "/rss/channel/item[1]/a:link[@rel='via']"), 2);
	/* a plain-text summary is HTML-escaped: the reader shows it as it was */
	s = xpath_string(doc, "string(/rss/channel/item[1]/description)");
	ck_assert_str_eq(s, "CDATA end ]]&gt; and &lt;![CDATA[ start");
	xmlFree(s);
	s = xpath_string(doc, "string(/rss/channel/item[1]/enclosure/@length)");
	ck_assert_str_eq(s, "0");
	xmlFree(s);
	xmlFreeDoc(doc);
	buf_free(&out);
}
END_TEST

START_TEST(test_json_valid_and_complete)
{
	struct buf out;
	json_error_t jerr;
	json_t *root, *list, *first, *ext;

	buf_init(&out, 0);
	render_json(&out, &meta, items, 3);
	root = json_loadb(out.data, out.len, 0, &jerr);
	ck_assert_msg(root != NULL, "invalid JSON: %s (line %d)", jerr.text, jerr.line);
	ck_assert_str_eq(json_string_value(json_object_get(root, "version")),
	    "https://jsonfeed.org/version/1.1");
	ck_assert_str_eq(json_string_value(json_object_get(root, "next_url")), meta.next_url);
	list = json_object_get(root, "items");
	ck_assert_uint_eq(json_array_size(list), 3);
	for (size_t i = 0; i < 3; i++) {
		json_t *it = json_array_get(list, i);

		/* required by JSON Feed 1.1: an id, and content_html or content_text */
		ck_assert(json_is_string(json_object_get(it, "id")));
		ck_assert(json_is_string(json_object_get(it, "content_html")) ||
		    json_is_string(json_object_get(it, "content_text")));
	}
	first = json_array_get(list, 0);
	ck_assert_str_eq(json_string_value(json_object_get(first, "content_html")), hostile[4]);
	ck_assert_str_eq(json_string_value(json_object_get(first, "summary")), hostile[3]);
	ck_assert_uint_eq(json_array_size(json_object_get(first, "tags")), 3);
	ck_assert_uint_eq(json_array_size(json_object_get(first, "attachments")), 1);
	ext = json_object_get(first, "_feedmux");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(ext, "source"), "name")),
	    "alpha");
	ck_assert_uint_eq(json_array_size(json_object_get(ext, "via")), 2);
	/* invalid UTF-8 became U+FFFD, never a parse error */
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(
	    json_object_get(first, "authors"), 0), "name")), "\xef\xbf\xbd"));
	json_decref(root);
	buf_free(&out);
}
END_TEST

/* An event is one line of JSON: "data:" cannot be split by the text it holds. */
START_TEST(test_json_item_one_line)
{
	struct buf out;
	json_t *j;

	buf_init(&out, 0);
	render_json_item(&out, &items[0]);
	ck_assert_ptr_null(strchr(out.data, '\n'));
	ck_assert_ptr_null(strchr(out.data, '\r'));
	j = json_loadb(out.data, out.len, 0, NULL);
	ck_assert_ptr_nonnull(j);
	json_decref(j);
	buf_free(&out);
}
END_TEST

START_TEST(test_opml)
{
	const char *tags[] = {"linux", "news"};
	struct render_outline o[2] = {
		{.name = "lwn", .title = hostile[4], .xml_url = "https://lwn.net/headlines/rss",
		    .html_url = "https://lwn.net/", .tags = tags, .ntags = 2},
		{.name = "bare", .xml_url = "https://b.example/rss"},
	};
	struct buf out;
	char *err = NULL, *s;
	xmlDocPtr doc;

	buf_init(&out, 0);
	render_opml(&out, "feedmux sources", 1767225600, o, 2);
	ck_assert_msg(xmllint(out.data, out.len, NULL, &err) == 0, "%s", err);
	free(err);
	doc = xmlReadMemory(out.data, (int)out.len, "opml", NULL, XML_PARSE_NONET);
	ck_assert_uint_eq(xpath_count(doc, "/opml[@version='2.0']/body/outline[@type='rss']"), 2);
	s = xpath_string(doc, "string(/opml/body/outline[1]/@category)");
	ck_assert_str_eq(s, "/linux,/news");
	xmlFree(s);
	s = xpath_string(doc, "string(/opml/body/outline[2]/@text)");
	ck_assert_str_eq(s, "bare");
	xmlFree(s);
	xmlFreeDoc(doc);
	buf_free(&out);
}
END_TEST

/* Entry ids: a feed's own IRI is kept; anything else becomes a stable urn:uuid. */
START_TEST(test_entry_ids)
{
	struct buf a, b;

	buf_init(&a, 0);
	buf_init(&b, 0);
	render_entry_id(&items[0], &a);
	ck_assert_str_eq(a.data, "tag:example.com,2026:1");
	buf_reset(&a);
	render_entry_id(&items[1], &a);
	render_entry_id(&items[1], &b);
	ck_assert_str_eq(a.data, b.data);
	ck_assert_int_eq(strncmp(a.data, "urn:uuid:", 9), 0);
	ck_assert_uint_eq(strlen(a.data), 45);
	buf_free(&a);
	buf_free(&b);
}
END_TEST

/* An empty feed is valid too. */
START_TEST(test_empty)
{
	struct buf out;
	char why[300], *err = NULL;

	buf_init(&out, 0);
	render_atom(&out, &meta, NULL, 0);
	ck_assert_msg(tu_atom_valid(out.data, out.len, why, sizeof why), "%s", why);
	buf_reset(&out);
	render_rss(&out, &meta, NULL, 0);
	ck_assert_msg(xmllint(out.data, out.len, tu_data("render/rss2.rng"), &err) == 0, "%s", err);
	free(err);
	buf_free(&out);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("render");
	TCase *tc = tcase_create("render");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_atom_valid_and_complete);
	tcase_add_test(tc, test_rss_valid_and_complete);
	tcase_add_test(tc, test_json_valid_and_complete);
	tcase_add_test(tc, test_json_item_one_line);
	tcase_add_test(tc, test_opml);
	tcase_add_test(tc, test_entry_ids);
	tcase_add_test(tc, test_empty);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
