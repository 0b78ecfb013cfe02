/*
 * check_server.c: the HTTP interface end to end.  A fixture server on
 * 127.0.0.1 serves feeds this test writes; feedmuxd polls them every
 * second and serves the merged feed on a Unix socket and on 127.0.0.1.
 * Formats are validated (Atom against the schema, RSS with xmllint, JSON
 * with jansson); caching, queries, named outputs, paging, live events,
 * limits, socket activation and real feed readers are exercised.
 */
#include <check.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <zlib.h>

#include "tests/testutil.h"

static char *dir, *feeds_dir, *conf_path, *sock_path, *db_path, *log_path;
static pid_t httpd, daemon_pid;
static int port, tcp_port;

/* An RSS item; `extra` goes inside it as it is. */
static void
add_item(struct buf *b, const char *guid, const char *title, const char *link, const char *date,
    const char *extra)
{
	buf_addf(b, "<item><guid>%s</guid><title>%s</title><link>%s</link>"
		    "<pubDate>%s</pubDate>%s</item>\n",
	    guid, title, link, date, extra != NULL ? extra : "");
}

static void
write_feed(const char *name, const char *title, const char *items)
{
	char *path = xasprintf("%s/%s.xml", feeds_dir, name);
	char *text = xasprintf("<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"
			       "<title>%s</title><link>https://%s.example/</link>\n%s"
			       "</channel></rss>\n",
	    title, name, items);
	char *tmp = xasprintf("%s.tmp", path);

	/* renamed into place: the fixture server never serves half a file */
	tu_write_file(tmp, text);
	ck_assert_int_eq(rename(tmp, path), 0);
	free(tmp), free(text), free(path);
}

/* alpha (linux, news) and beta (bsd) share one story; gamma keeps its own (merge = no). */
static void
write_feeds(int extra_alpha)
{
	struct buf a, b, g;

	buf_init(&a, 0);
	buf_init(&b, 0);
	buf_init(&g, 0);
	for (int i = extra_alpha; i > 0; i--) {
		char guid[32], title[64], link[64];

		snprintf(guid, sizeof guid, "a-new-%d", i);
		snprintf(title, sizeof title, "Alpha news %d", i);
		snprintf(link, sizeof link, "https://alpha.example/new/%d", i);
		add_item(&a, guid, title, link, "Fri, 02 Jan 2026 12:00:00 GMT", NULL);
	}
	add_item(&a, "a1", "Kernel release", "https://alpha.example/kernel",
	    "Thu, 01 Jan 2026 10:00:00 GMT",
	    "<category>linux</category><category domain=\"https://alpha.example/t\">kernel"
	    "</category><description>The kernel is out &amp; fine.</description>");
	add_item(&a, "a2", "Shared story", "https://News.example/story?id=7&amp;utm_source=alpha",
	    "Thu, 01 Jan 2026 09:00:00 GMT", NULL);
	add_item(&a, "a3", "Hostile text", "https://alpha.example/hostile",
	    "Thu, 01 Jan 2026 08:00:00 GMT",
	    "<description>&lt;script&gt;x&lt;/script&gt; \xff\xfe bytes</description>");
	add_item(&b, "b1", "Shared story (beta)", "https://news.example/story?id=7#top",
	    "Thu, 01 Jan 2026 09:30:00 GMT", NULL);
	add_item(&b, "b2", "BSD release", "https://beta.example/bsd", "Wed, 31 Dec 2025 10:00:00 GMT",
	    "<category>bsd</category>");
	add_item(&g, "g1", "Shared story (gamma)", "https://news.example/story?id=7",
	    "Wed, 31 Dec 2025 09:00:00 GMT", NULL);
	write_feed("alpha", "Alpha Feed", a.data);
	write_feed("beta", "Beta Feed", b.data);
	write_feed("gamma", "Gamma Feed", g.data);
	buf_free(&a), buf_free(&b), buf_free(&g);
}

static int
free_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0), p;

	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	p = ntohs(sin.sin_port);
	close(fd);
	return p;
}

static void
write_conf(const char *global_extra)
{
	char *text = xasprintf(
	    "[feedmux]\ndatabase = %s\nlisten = %s 127.0.0.1:%d\ninterval = 1s\nheartbeat = 1s\n%s"
	    "[feed \"alpha\"]\nurl = http://127.0.0.1:%d/alpha.xml\ntags = linux news\n"
	    "[feed \"beta\"]\nurl = http://127.0.0.1:%d/beta.xml\ntags = bsd\n"
	    "[feed \"gamma\"]\nurl = http://127.0.0.1:%d/gamma.xml\nmerge = no\n"
	    "[output \"unix\"]\ntags = linux bsd\nexclude = hostile\n"
	    "[output \"releases\"]\ninclude = *release*\n",
	    db_path, sock_path, tcp_port, global_extra != NULL ? global_extra : "", port, port, port);

	tu_write_file(conf_path, text);
	free(text);
}

static void
setup(void)
{
	char *argv[4];

	dir = tu_mkdtemp();
	feeds_dir = xasprintf("%s/feeds", dir);
	ck_assert_int_eq(mkdir(feeds_dir, 0755), 0);
	conf_path = xasprintf("%s/feedmux.conf", dir);
	sock_path = xasprintf("%s/feedmux.sock", dir);
	db_path = xasprintf("%s/feedmux.db", dir);
	log_path = xasprintf("%s/feedmuxd.log", dir);
	httpd = tu_start_httpd(feeds_dir, NULL, &port);
	tcp_port = free_port();
	write_feeds(0);
	write_conf(NULL);
	argv[0] = FEEDMUXD, argv[1] = "-c", argv[2] = conf_path, argv[3] = "--once";
	ck_assert_int_eq(tu_run((char *[]){argv[0], argv[1], argv[2], argv[3], NULL}, 60, NULL,
			     NULL),
	    0);
	daemon_pid = 0;
}

static void
start_daemon(void)
{
	char *argv[] = {FEEDMUXD, "-c", conf_path, NULL};

	daemon_pid = tu_spawn(argv, log_path);
	ck_assert_msg(tu_wait_socket(sock_path, 30), "feedmuxd did not listen on %s", sock_path);
}

static void
teardown(void)
{
	char *log = NULL;
	int rc = daemon_pid > 0 ? tu_stop(daemon_pid, SIGTERM, 30) : 0;

	/* a clean exit: under the sanitizers, a leak or an error would make it fail */
	if (rc != 0)
		log = tu_read_file(log_path, NULL);
	/* (the end of its log: Check cannot carry long messages) */
	ck_assert_msg(rc == 0, "feedmuxd exited with %d:\n%s", rc,
	    log != NULL && strlen(log) > 3000 ? log + strlen(log) - 3000 : log);
	tu_stop(httpd, SIGTERM, 5);
	tu_rmtree(dir);
	free(dir), free(feeds_dir), free(conf_path), free(sock_path), free(db_path), free(log_path);
}

/* A response: status, headers (raw, "Name: value\r\n" each), body. */
struct resp {
	long status;
	struct buf headers;
	struct buf body;
};

static size_t
on_data(char *data, size_t size, size_t n, void *arg)
{
	buf_add(arg, data, size * n);
	return size * n;
}

/* `method` `path` on the Unix socket (or TCP when `sock` is NULL) with extra `headers`. */
static void
request(const char *sock, const char *method, const char *path, const char *const *headers,
    struct resp *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hl = NULL;
	char *url = sock != NULL ? xasprintf("http://localhost%s", path) :
				   xasprintf("http://127.0.0.1:%d%s", tcp_port, path);

	memset(r, 0, sizeof *r);
	buf_init(&r->headers, 0);
	buf_init(&r->body, 0);
	for (; headers != NULL && *headers != NULL; headers++)
		hl = curl_slist_append(hl, *headers);
	if (sock != NULL)
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	free(url);
}

static void
resp_free(struct resp *r)
{
	buf_free(&r->headers);
	buf_free(&r->body);
}

/* The value of header `name` in `r` (a new string), or NULL. */
static char *
header(const struct resp *r, const char *name)
{
	size_t nlen = strlen(name);

	for (const char *p = r->headers.data; p != NULL && *p != '\0';) {
		const char *eol = strstr(p, "\r\n");

		if (eol == NULL)
			break;
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1;

			while (*v == ' ')
				v++;
			return xstrndup(v, (size_t)(eol - v));
		}
		p = eol + 2;
	}
	return NULL;
}

static long
get(const char *path, struct resp *r)
{
	request(sock_path, "GET", path, NULL, r);
	return r->status;
}

static size_t
xpath_count(const char *xml, size_t len, const char *xpath)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)len, "doc.xml", NULL, XML_PARSE_NONET);
	xmlXPathContextPtr ctx;
	xmlXPathObjectPtr res;
	size_t n;

	ck_assert_ptr_nonnull(doc);
	ctx = xmlXPathNewContext(doc);
	xmlXPathRegisterNs(ctx, BAD_CAST "a", BAD_CAST "http://www.w3.org/2005/Atom");
	res = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
	ck_assert_msg(res != NULL, "%s", xpath);
	n = res->nodesetval != NULL ? (size_t)res->nodesetval->nodeNr : 0;
	xmlXPathFreeObject(res);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return n;
}

static int
xmllint_rss(const char *text, size_t len)
{
	char *path = xasprintf("%s/out.rss", dir), *err = NULL;
	char *argv[] = {"/usr/bin/xmllint", "--noout", "--relaxng", (char *)tu_data("render/rss2.rng"),
		path, NULL};
	FILE *f = fopen(path, "wb");
	int rc;

	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	fclose(f);
	rc = tu_run(argv, 60, NULL, &err);
	if (rc != 0)
		fprintf(stderr, "%s\n", err);
	free(err), free(path);
	return rc;
}

START_TEST(test_formats)
{
	struct resp r;
	char why[300];
	json_t *root;
	char *ct;

	start_daemon();
	ck_assert_int_eq(get("/feed.atom", &r), 200);
	ck_assert_msg(tu_atom_valid(r.body.data, r.body.len, why, sizeof why), "%s", why);
	/* five stories: the shared one once (alpha first, beta via), gamma's apart */
	ck_assert_uint_eq(xpath_count(r.body.data, r.body.len, "/a:feed/a:entry"), 5);
	ck_assert_uint_eq(xpath_count(r.body.data, r.body.len,
			      "/a:feed/a:entry[a:source/a:title and a:source/a:id and"
			      " a:source/a:link[@rel='alternate']]"), 5);
	ck_assert_uint_eq(xpath_count(r.body.data, r.body.len,
			      "/a:feed/a:entry[a:title='Shared story']/a:link[@rel='via']"
			      "[@title='Beta Feed']"), 1);
	ct = header(&r, "Content-Type");
	ck_assert_str_eq(ct, "application/atom+xml; charset=utf-8");
	free(ct);
	resp_free(&r);

	ck_assert_int_eq(get("/feed.rss", &r), 200);
	ck_assert_int_eq(xmllint_rss(r.body.data, r.body.len), 0);
	ck_assert_uint_eq(xpath_count(r.body.data, r.body.len, "/rss/channel/item/source[@url]"), 5);
	resp_free(&r);

	ck_assert_int_eq(get("/feed.json", &r), 200);
	root = json_loadb(r.body.data, r.body.len, 0, NULL);
	ck_assert_ptr_nonnull(root);
	ck_assert_uint_eq(json_array_size(json_object_get(root, "items")), 5);
	json_decref(root);
	resp_free(&r);

	ck_assert_int_eq(get("/opml", &r), 200);
	ck_assert_uint_eq(xpath_count(r.body.data, r.body.len,
			      "/opml/body/outline[@xmlUrl and @title='Alpha Feed']"), 1);
	ck_assert_uint_eq(xpath_count(r.body.data, r.body.len, "/opml/body/outline"), 3);
	resp_free(&r);
}
END_TEST

static long
status_field(const char *name)
{
	struct resp r;
	json_t *root;
	long v;

	ck_assert_int_eq(get("/status", &r), 200);
	root = json_loadb(r.body.data, r.body.len, 0, NULL);
	ck_assert_ptr_nonnull(root);
	v = (long)json_integer_value(json_object_get(root, name));
	json_decref(root);
	resp_free(&r);
	return v;
}

static char *
gunzip(char *data, size_t len, size_t *outlen)
{
	z_stream z;
	struct buf out;
	char chunk[65536];
	int rc;

	memset(&z, 0, sizeof z);
	ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	buf_init(&out, 0);
	do {
		z.next_out = (Bytef *)chunk;
		z.avail_out = sizeof chunk;
		rc = inflate(&z, Z_NO_FLUSH);
		ck_assert(rc == Z_OK || rc == Z_STREAM_END);
		buf_add(&out, chunk, sizeof chunk - z.avail_out);
	} while (rc != Z_STREAM_END);
	inflateEnd(&z);
	*outlen = out.len;
	return buf_steal(&out);
}

START_TEST(test_caching)
{
	struct resp r, r2;
	char *etag, *lm, *inm, *ims, *gz_etag, *plain;
	size_t plain_len, len;
	long renders;
	const char *gzh[] = {"Accept-Encoding: gzip, deflate", NULL};

	start_daemon();
	ck_assert_int_eq(get("/feed.atom", &r), 200);
	etag = header(&r, "ETag");
	lm = header(&r, "Last-Modified");
	ck_assert_ptr_nonnull(etag);
	ck_assert_ptr_nonnull(lm);
	ck_assert_msg(etag[0] == '"', "a strong ETag: %s", etag);
	plain_len = r.body.len;
	plain = buf_steal(&r.body);
	resp_free(&r);

	/* unchanged: 304 for either validator, and no new rendering */
	renders = status_field("renders");
	inm = xasprintf("If-None-Match: %s", etag);
	request(sock_path, "GET", "/feed.atom", (const char *[]){inm, NULL}, &r);
	ck_assert_int_eq(r.status, 304);
	ck_assert_uint_eq(r.body.len, 0);
	resp_free(&r);
	ims = xasprintf("If-Modified-Since: %s", lm);
	request(sock_path, "GET", "/feed.atom", (const char *[]){ims, NULL}, &r);
	ck_assert_int_eq(r.status, 304);
	resp_free(&r);
	request(sock_path, "GET", "/feed.atom", (const char *[]){"If-None-Match: \"other\"", NULL},
	    &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body.len, plain_len);
	resp_free(&r);
	ck_assert_int_eq(status_field("renders"), renders);

	/* gzip: its own ETag, the same document inside */
	request(sock_path, "GET", "/feed.atom", gzh, &r);
	ck_assert_int_eq(r.status, 200);
	gz_etag = header(&r, "Content-Encoding");
	ck_assert_str_eq(gz_etag, "gzip");
	free(gz_etag);
	gz_etag = header(&r, "ETag");
	ck_assert_str_ne(gz_etag, etag);
	{
		char *un = gunzip(r.body.data, r.body.len, &len);

		ck_assert_uint_eq(len, plain_len);
		ck_assert_int_eq(memcmp(un, plain, len), 0);
		free(un);
	}
	resp_free(&r);
	free(inm);
	inm = xasprintf("If-None-Match: %s", gz_etag);
	request(sock_path, "GET", "/feed.atom", (const char *[]){inm, gzh[0], NULL}, &r);
	ck_assert_int_eq(r.status, 304);
	resp_free(&r);
	request(sock_path, "GET", "/feed.atom", (const char *[]){"Accept-Encoding: gzip;q=0", NULL},
	    &r);
	ck_assert_ptr_null(header(&r, "Content-Encoding"));
	resp_free(&r);

	/* HEAD: the headers alone */
	request(sock_path, "HEAD", "/feed.atom", NULL, &r2);
	ck_assert_int_eq(r2.status, 200);
	ck_assert_uint_eq(r2.body.len, 0);
	resp_free(&r2);

	/* the store changes: a new ETag, the old one no longer matches */
	write_feeds(1);
	free(inm);
	inm = xasprintf("If-None-Match: %s", etag);
	for (int i = 0; i < 100 * tu_seconds(1); i++) {
		request(sock_path, "GET", "/feed.atom", (const char *[]){inm, NULL}, &r);
		if (r.status == 200)
			break;
		resp_free(&r);
		usleep(100000);
	}
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body.data, "Alpha news 1"));
	resp_free(&r);
	free(etag), free(lm), free(inm), free(ims), free(gz_etag), free(plain);
}
END_TEST

/* Titles of the Atom document, in order, joined by '|'. */
static char *
titles(const struct resp *r)
{
	xmlDocPtr doc = xmlReadMemory(r->body.data, (int)r->body.len, "f", NULL, XML_PARSE_NONET);
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr res;
	struct buf out;

	xmlXPathRegisterNs(ctx, BAD_CAST "a", BAD_CAST "http://www.w3.org/2005/Atom");
	res = xmlXPathEvalExpression(BAD_CAST "/a:feed/a:entry/a:title", ctx);
	buf_init(&out, 0);
	buf_adds(&out, "");
	for (int i = 0; res->nodesetval != NULL && i < res->nodesetval->nodeNr; i++) {
		xmlChar *t = xmlNodeGetContent(res->nodesetval->nodeTab[i]);

		buf_addf(&out, "%s%s", i > 0 ? "|" : "", (char *)t);
		xmlFree(t);
	}
	xmlXPathFreeObject(res);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return buf_steal(&out);
}

static void
expect_titles(const char *path, const char *want)
{
	struct resp r;
	char *got;

	ck_assert_msg(get(path, &r) == 200, "%s: %ld %s", path, r.status, r.body.data);
	got = titles(&r);
	ck_assert_msg(strcmp(got, want) == 0, "%s:\n got  %s\n want %s", path, got, want);
	free(got);
	resp_free(&r);
}

static void
expect_400(const char *path, const char *reason)
{
	struct resp r;

	ck_assert_int_eq(get(path, &r), 400);
	ck_assert_msg(strstr(r.body.data, reason) != NULL, "%s: %s", path, r.body.data);
	resp_free(&r);
}

START_TEST(test_queries)
{
	start_daemon();
	expect_titles("/feed.atom?limit=2", "Kernel release|Shared story");
	expect_titles("/feed.atom?feed=beta", "Shared story (beta)|BSD release");
	expect_titles("/feed.atom?tag=bsd", "Shared story (beta)|BSD release");
	expect_titles("/feed.atom?tag=linux&limit=1", "Kernel release");
	expect_titles("/feed.atom?since=2026-01-01T08:30:00Z", "Kernel release|Shared story");
	expect_titles("/feed.atom?q=release", "Kernel release|BSD release");
	expect_titles("/feed.atom?q=kernel%20fine", "Kernel release");
	/* named outputs: tags, include, exclude; beta's copy of the shared story is alpha's */
	expect_titles("/outputs/unix.atom", "Kernel release|Shared story|BSD release");
	expect_titles("/outputs/releases.atom", "Kernel release|BSD release");
	expect_400("/feed.atom?limit=0", "limit");
	expect_400("/feed.atom?limit=abc", "limit");
	expect_400("/feed.atom?since=yesterday", "since");
	expect_400("/feed.atom?feed=nosuch", "no feed has that name");
	expect_400("/feed.atom?tag=nosuch", "no feed has that tag");
	expect_400("/feed.atom?before=x", "cursor");
	expect_400("/outputs/unix.atom?feed=alpha", "named output");
	expect_400("/feed.atom?q=a%20b%20c%20d%20e%20f%20g%20h%20i", "8 words");
	{
		struct resp r;

		ck_assert_int_eq(get("/outputs/nosuch.atom", &r), 404);
		resp_free(&r);
		ck_assert_int_eq(get("/outputs/unix.xml", &r), 404);
		resp_free(&r);
		ck_assert_int_eq(get("/outputs/unix.rss", &r), 200);
		ck_assert_int_eq(xmllint_rss(r.body.data, r.body.len), 0);
		resp_free(&r);
		ck_assert_int_eq(get("/outputs/releases.json", &r), 200);
		resp_free(&r);
	}
}
END_TEST

/* The value of the first link rel=`rel` of an Atom document, or NULL. */
static char *
atom_link(const struct resp *r, const char *rel)
{
	xmlDocPtr doc = xmlReadMemory(r->body.data, (int)r->body.len, "f", NULL, XML_PARSE_NONET);
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	char *xpath = xasprintf("string(/a:feed/a:link[@rel='%s']/@href)", rel);
	xmlXPathObjectPtr res;
	char *s, *out;

	xmlXPathRegisterNs(ctx, BAD_CAST "a", BAD_CAST "http://www.w3.org/2005/Atom");
	res = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
	s = (char *)xmlXPathCastToString(res);
	out = s[0] != '\0' ? xstrdup(s) : NULL;
	xmlFree(s);
	xmlXPathFreeObject(res);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	free(xpath);
	return out;
}

/* RFC 5005: following "next" from the first page visits every story once. */
START_TEST(test_paging)
{
	char *path = xstrdup("/feed.atom?limit=2"), *all = xstrdup("");
	int pages = 0;

	start_daemon();
	while (path != NULL) {
		struct resp r;
		char *next, *t, *joined;

		ck_assert_int_eq(get(path, &r), 200);
		t = titles(&r);
		joined = xasprintf("%s%s%s", all, all[0] != '\0' && t[0] != '\0' ? "|" : "", t);
		free(all), free(t);
		all = joined;
		next = atom_link(&r, "next");
		free(path);
		/* the link is absolute, as the client reached us: keep its path */
		path = next != NULL ? xstrdup(strstr(next, "/feed.atom")) : NULL;
		ck_assert_msg(next == NULL || strncmp(next, "http://localhost/", 17) == 0, "%s", next);
		if (pages > 0 && path != NULL) {
			char *first = atom_link(&r, "first");

			ck_assert_ptr_nonnull(first);
			free(first);
		}
		free(next);
		resp_free(&r);
		ck_assert_int_lt(++pages, 10);
	}
	ck_assert_int_eq(pages, 3);
	ck_assert_str_eq(all, "Kernel release|Shared story|Hostile text|BSD release|"
			      "Shared story (gamma)");
	free(all);
}
END_TEST

static int
subscribe(const char *last_event_id)
{
	int fd = tu_connect_unix(sock_path);
	char *req = xasprintf("GET /events HTTP/1.1\r\nHost: localhost\r\n%s%s%s\r\n",
	    last_event_id != NULL ? "Last-Event-ID: " : "",
	    last_event_id != NULL ? last_event_id : "", last_event_id != NULL ? "\r\n" : "");

	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	free(req);
	return fd;
}

/* The id of the last event in `text` (a new string). */
static char *
last_id(const char *text)
{
	const char *p = NULL, *q = text;

	while ((q = strstr(q, "\nid: ")) != NULL)
		p = q += 5;
	ck_assert_ptr_nonnull(p);
	return xstrndup(p, strcspn(p, "\r\n"));
}

START_TEST(test_events)
{
	struct buf a, b;
	int fa, fb;
	char *id;

	start_daemon();
	buf_init(&a, 0);
	fa = subscribe(NULL);
	ck_assert(tu_read_until(fa, &a, ": feedmux events", 5000));
	ck_assert_ptr_nonnull(strstr(a.data, "text/event-stream"));
	/* a new item arrives as an event, as JSON Feed */
	write_feeds(1);
	ck_assert_msg(tu_read_until(fa, &a, "Alpha news 1", 10000), "%s", a.data);
	ck_assert_ptr_nonnull(strstr(a.data, "event: item\ndata: {"));
	/* heartbeats keep it alive (heartbeat = 1s here) */
	buf_reset(&a);
	ck_assert(tu_read_until(fa, &a, ":\n\n", 5000));
	close(fa);

	/* missed while away: Last-Event-ID resumes after what was seen */
	buf_init(&b, 0);
	fb = subscribe("0");
	ck_assert(tu_read_until(fb, &b, "Alpha news 1", 10000));
	id = last_id(b.data);
	close(fb);
	write_feeds(3);
	sleep(3); /* polled and stored while nobody listens */
	buf_reset(&b);
	fb = subscribe(id);
	ck_assert_msg(tu_read_until(fb, &b, "Alpha news 3", 10000), "%s", b.data);
	ck_assert_ptr_nonnull(strstr(b.data, "Alpha news 2"));
	ck_assert_ptr_null(strstr(b.data, "\"Alpha news 1\""));
	ck_assert_ptr_null(strstr(b.data, "Kernel release"));
	close(fb);
	free(id);
	buf_free(&a);
	buf_free(&b);
	{
		struct resp r;

		request(sock_path, "GET", "/events", (const char *[]){"Last-Event-ID: x", NULL}, &r);
		ck_assert_int_eq(r.status, 400);
		resp_free(&r);
	}
}
END_TEST

/* A subscriber that never reads is dropped; one that reads gets everything. */
START_TEST(test_events_slow_client)
{
	struct buf fast, items;
	char *big = xcalloc(1, 300 * 1024 + 1);
	int slow, quick;

	memset(big, 'x', (size_t)300 * 1024);
	start_daemon();
	slow = subscribe(NULL);
	{
		int small = 4096;

		/* a small receive buffer, so what it does not read piles up in the daemon */
		setsockopt(slow, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	}
	quick = subscribe(NULL);
	buf_init(&fast, 0);
	ck_assert(tu_read_until(quick, &fast, ": feedmux events", 5000));
	buf_init(&items, 0);
	for (int i = 0; i < 20; i++) {
		char *extra = xasprintf("<description>%s</description>", big);
		char guid[32], title[32], link[64];

		snprintf(guid, sizeof guid, "big-%d", i);
		snprintf(title, sizeof title, "Big %d", i);
		snprintf(link, sizeof link, "https://alpha.example/big/%d", i);
		add_item(&items, guid, title, link, "Fri, 02 Jan 2026 12:00:00 GMT", extra);
		free(extra);
	}
	write_feed("beta", "Beta Feed", items.data);
	ck_assert_msg(tu_read_until(quick, &fast, "Big 19", 60000), "the fast subscriber got it all");
	/* the one that does not read is dropped once it has not drained for a while */
	for (int i = 0; i < 600 * tu_seconds(1) && status_field("subscribers") != 1; i++)
		usleep(100000);
	ck_assert_int_eq(status_field("subscribers"), 1);
	close(slow);
	close(quick);
	buf_free(&fast);
	buf_free(&items);
	free(big);
}
END_TEST

/* The body of an HTTP/1.1 response in `raw` (headers first), decoded from its chunks; false if broken. */
static bool
dechunk(const struct buf *raw, struct buf *out)
{
	const char *p = strstr(raw->data, "\r\n\r\n"), *end = raw->data + raw->len;

	if (p == NULL)
		return false;
	for (p += 4; p < end;) {
		char *q;
		unsigned long n = strtoul(p, &q, 16);

		if (q == p || end - q < 2 || q[0] != '\r' || q[1] != '\n')
			return false;
		q += 2;
		if ((size_t)(end - q) < n + 2 || q[n] != '\r' || q[n + 1] != '\n')
			return false;
		buf_add(out, q, n);
		p = q + n + 2;
	}
	return true;
}

/* Events are whole HTTP/1.1 chunks; an HTTP/1.0 subscriber gets them unframed. */
START_TEST(test_events_framing)
{
	struct buf raw, text, old;
	int fd, fd10;
	const char *req10 = "GET /events HTTP/1.0\r\n\r\n";
	const char *beat = "3\r\n:\n\n\r\n"; /* a heartbeat, as a chunk */
	const char *body;
	size_t off;

	start_daemon();
	buf_init(&raw, 0);
	buf_init(&text, 0);
	buf_init(&old, 0);
	fd = subscribe(NULL);
	fd10 = tu_connect_unix(sock_path);
	ck_assert_int_eq(write(fd10, req10, strlen(req10)), (ssize_t)strlen(req10));
	ck_assert(tu_read_until(fd, &raw, "retry: 5000\n\n\r\n", 5000));
	ck_assert(tu_read_until(fd10, &old, "retry: 5000\n\n", 5000));
	write_feeds(1);
	ck_assert_msg(tu_read_until(fd, &raw, "Alpha news 1", 10000), "%s", raw.data);
	/* read on to a heartbeat after the event, so the last chunk read is whole */
	off = raw.len;
	for (int i = 0; i < 50 && strstr(raw.data + off, beat) == NULL; i++)
		tu_read_until(fd, &raw, beat, 200);
	ck_assert_msg(dechunk(&raw, &text), "not chunked as HTTP/1.1 says:\n%s", raw.data);
	ck_assert_msg(strncmp(text.data, ": feedmux events\nretry: 5000\n\n", 30) == 0, "%s",
	    text.data);
	ck_assert_ptr_nonnull(strstr(text.data, "\n\nid: "));
	ck_assert_ptr_nonnull(strstr(text.data, "\nevent: item\ndata: {"));
	/* HTTP/1.0: no chunks; the body is the stream itself, ended by the connection */
	ck_assert_msg(tu_read_until(fd10, &old, "Alpha news 1", 10000), "%s", old.data);
	ck_assert_ptr_null(strstr(old.data, "Transfer-Encoding"));
	body = strstr(old.data, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	ck_assert_msg(strncmp(body + 4, ": feedmux events\nretry: 5000\n\n", 30) == 0, "%s", old.data);
	ck_assert_ptr_nonnull(strstr(body, "\n\nid: "));
	ck_assert_ptr_null(strstr(body + 4, "\r\n"));
	close(fd);
	close(fd10);
	buf_free(&raw);
	buf_free(&text);
	buf_free(&old);
}
END_TEST

START_TEST(test_limits)
{
	struct resp r;
	char *longpath = xcalloc(1, 3000);
	char *bighdr = xcalloc(1, 10000);

	start_daemon();
	request(sock_path, "POST", "/feed.atom", NULL, &r);
	ck_assert_int_eq(r.status, 405);
	resp_free(&r);
	request(sock_path, "DELETE", "/feed.atom", NULL, &r);
	ck_assert_int_eq(r.status, 405);
	resp_free(&r);
	snprintf(longpath, 3000, "/feed.atom?q=%02900d", 0);
	request(sock_path, "GET", longpath, NULL, &r);
	ck_assert_int_eq(r.status, 414);
	resp_free(&r);
	snprintf(bighdr, 10000, "X-Big: %09000d", 0);
	request(sock_path, "GET", "/status", (const char *[]){bighdr, NULL}, &r);
	ck_assert_msg(r.status == 400 || r.status == 413 || r.status == 431 || r.status == 0,
	    "%ld", r.status);
	resp_free(&r);
	ck_assert_int_eq(get("/nothing-here", &r), 404);
	resp_free(&r);
	/* the daemon is fine after all that */
	ck_assert_int_eq(get("/status", &r), 200);
	resp_free(&r);
	free(longpath);
	free(bighdr);
}
END_TEST

/*
 * max_connections: with every connection taken (kept alive, idle), the next
 * waits in the backlog until one closes.
 */
START_TEST(test_connection_cap)
{
	int idle[3], extra;
	struct buf b;
	const char *req = "GET /status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
	const char *keep = "GET /status HTTP/1.1\r\nHost: localhost\r\n\r\n";

	write_conf("max_connections = 3\n");
	start_daemon();
	buf_init(&b, 0);
	for (int i = 0; i < 3; i++) {
		idle[i] = tu_connect_unix(sock_path);
		ck_assert_int_eq(write(idle[i], keep, strlen(keep)), (ssize_t)strlen(keep));
		ck_assert_msg(tu_read_until(idle[i], &b, "\"feeds\"", 5000), "connection %d: %s", i,
		    b.data != NULL ? b.data : "(nothing)");
		buf_reset(&b);
	}
	extra = tu_connect_unix(sock_path); /* the kernel queues it */
	ck_assert_int_eq(write(extra, req, strlen(req)), (ssize_t)strlen(req));
	ck_assert_msg(!tu_read_until(extra, &b, "200 OK", 1000), "served past the cap");
	close(idle[0]);
	ck_assert_msg(tu_read_until(extra, &b, "200 OK", 5000), "not served once one closed");
	close(extra);
	close(idle[1]);
	close(idle[2]);
	buf_free(&b);
}
END_TEST

START_TEST(test_listen_mode_and_group)
{
	struct stat st;
	struct group *gr = getgrgid(getgid());
	char *extra = xasprintf("listen_mode = 0600\nlisten_group = %s\n", gr->gr_name);
	char *err = NULL;
	char *argv[] = {FEEDMUXD, "-c", conf_path, NULL};

	write_conf(extra);
	start_daemon();
	ck_assert_int_eq(stat(sock_path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(st.st_gid, getgid());
	tu_stop(daemon_pid, SIGTERM, 30);
	daemon_pid = 0;
	free(extra);
	write_conf("listen_group = no-such-group-feedmux\n");
	ck_assert_int_eq(tu_run(argv, 30, NULL, &err), 1);
	ck_assert_msg(strstr(err, "listen_group no-such-group-feedmux") != NULL, "%s", err);
	free(err);
}
END_TEST

/* Started by systemd-socket-activate: it listens where it was given, not where the config says. */
START_TEST(test_socket_activation)
{
	char *act = xasprintf("%s/activated.sock", dir);
	char *argv[] = {"/usr/bin/systemd-socket-activate", "-l", act, FEEDMUXD, "-c", conf_path,
		NULL};
	struct resp r = {0};

	daemon_pid = tu_spawn(argv, log_path);
	ck_assert(tu_wait_socket(act, 30));
	for (int i = 0; i < 100 * tu_seconds(1); i++) {
		request(act, "GET", "/status", NULL, &r);
		if (r.status == 200)
			break;
		resp_free(&r);
		usleep(100000);
	}
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	ck_assert_int_eq(access(sock_path, F_OK), -1);
	ck_assert_int_eq(tu_stop(daemon_pid, SIGTERM, 30), 0);
	daemon_pid = 0;
	/* the socket file belongs to systemd: it is not removed */
	ck_assert_int_eq(access(act, F_OK), 0);
	free(act);
}
END_TEST

/* python3-feedparser reads the merged feed over TCP: every item intact. */
START_TEST(test_feedparser)
{
	char *script = xasprintf(
	    "import feedparser, sys\n"
	    "for fmt in ('atom', 'rss', 'json'):\n"
	    "    if fmt == 'json': continue\n"
	    "    d = feedparser.parse('http://127.0.0.1:%d/feed.' + fmt)\n"
	    "    assert not d.bozo, (fmt, d.bozo_exception)\n"
	    "    assert len(d.entries) == 5, (fmt, len(d.entries))\n"
	    "    for e in d.entries:\n"
	    "        assert e.title and e.link.startswith('https://'), (fmt, e)\n"
	    "        assert e.published_parsed, (fmt, e.title)\n"
	    "        assert e.source.title.endswith(' Feed'), (fmt, e.source)\n"
	    "    t = {e.title: e for e in d.entries}\n"
	    "    assert t['Kernel release'].source.title == 'Alpha Feed'\n"
	    "    assert t['Kernel release'].link == 'https://alpha.example/kernel'\n"
	    "    assert t['Kernel release'].summary == 'The kernel is out & fine.', fmt\n"
	    "print('ok')\n",
	    tcp_port);
	char *argv[] = {"/usr/bin/python3", "-c", script, NULL};
	char *out = NULL, *err = NULL;

	start_daemon();
	ck_assert_msg(tu_run(argv, 60, &out, &err) == 0, "%s%s", out, err);
	ck_assert_str_eq(out, "ok\n");
	free(out), free(err), free(script);
}
END_TEST

/*
 * newsboat -x reload against the TCP listener, once per format (its cache
 * keys items by guid, and the formats share them); the cache holds what it read.
 */
START_TEST(test_newsboat)
{
	static const char *const fmts[] = {"atom", "rss"};

	start_daemon();
	for (size_t f = 0; f < 2; f++) {
		char *urls = xasprintf("%s/urls-%s", dir, fmts[f]);
		char *cache = xasprintf("%s/cache-%s.db", dir, fmts[f]);
		char *cfg = xasprintf("%s/newsboat.conf", dir);
		char *u = xasprintf("http://127.0.0.1:%d/feed.%s\n", tcp_port, fmts[f]);
		char *argv[] = {"/usr/bin/newsboat", "-u", urls, "-c", cache, "-C", cfg, "-x",
			"reload", NULL};
		char *out = NULL, *err = NULL;
		sqlite3 *db;
		sqlite3_stmt *st;

		tu_write_file(urls, u);
		tu_write_file(cfg, "");
		ck_assert_msg(tu_run(argv, 60, &out, &err) == 0, "%s%s", out, err);
		ck_assert_int_eq(sqlite3_open(cache, &db), SQLITE_OK);
		ck_assert_int_eq(sqlite3_prepare_v2(db,
				     "SELECT count(*), sum(title != ''), sum(url LIKE 'https://%'),"
				     " sum(pubDate > 1700000000),"
				     " sum(title = 'Kernel release' AND url = 'https://alpha.example/kernel'"
				     " AND pubDate = 1767261600)"
				     " FROM rss_item",
				     -1, &st, NULL),
		    SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		for (int col = 0; col < 4; col++)
			ck_assert_msg(sqlite3_column_int(st, col) == 5, "%s: column %d: %d", fmts[f],
			    col, sqlite3_column_int(st, col));
		ck_assert_int_eq(sqlite3_column_int(st, 4), 1);
		sqlite3_finalize(st);
		sqlite3_close(db);
		free(out), free(err), free(urls), free(cache), free(cfg), free(u);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("server");
	TCase *tc = tcase_create("server");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_formats);
	tcase_add_test(tc, test_caching);
	tcase_add_test(tc, test_queries);
	tcase_add_test(tc, test_paging);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_events_slow_client);
	tcase_add_test(tc, test_events_framing);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_connection_cap);
	tcase_add_test(tc, test_listen_mode_and_group);
	tcase_add_test(tc, test_socket_activation);
	tcase_add_test(tc, test_feedparser);
	tcase_add_test(tc, test_newsboat);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
