/*
 * fuzz_request.c: libFuzzer target for the export server (daemon/server*.c:
 * routing, query parameters, headers, conditional GET, gzip, the render
 * cache, /events, /status, /opml) with everything under it real: evhttp on
 * a Unix socket, a SQLite store holding a few stories that the real parser
 * read, the renderers.
 *
 * Once: a configuration (two feeds, two named outputs), a store filled by
 * parsing two small feeds, and srv_new listening on a socket in a private
 * temporary folder.  Per input: connect, write the input as the raw request
 * bytes (any number of pipelined requests), turn the event loop until the
 * server has nothing more to say, half-close, turn it until the server
 * closes or goes quiet, close.  Asserted, beyond "no crash, no leak":
 *   - whatever comes back is HTTP responses whose status is one the server
 *     means to give (200, 304, 400, 404, 405, 413, 414, 431, 501, 503);
 *   - when the first request is a GET answered 200, the body is complete
 *     and, ungzipped if need be, parses: Atom, RSS and OPML with libxml2,
 *     JSON Feed and /status with jansson, each with the right root.
 */
#define ZLIB_CONST /* z_stream.next_in is const */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <zlib.h>

#include "config/conf.h"
#include "daemon/server.h"
#include "feeds/parse.h"
#include "storage/store.h"
#include "util/util.h"

#define FUZZ_IDLE_TURNS 8 /* turns of the loop with nothing new: the server has said all */

static char fuzz_dir[] = "/tmp/fuzz_request.XXXXXX";
static struct sockaddr_un fuzz_addr = {.sun_family = AF_UNIX};
static struct event_base *fuzz_base;
static struct conf *fuzz_conf;
static struct store *fuzz_store;
static struct srv *fuzz_srv;

static const char fuzz_conf_text[] =
	"[feedmux]\n"
	"database = %s/fuzz.db\n"
	"listen = %s/s.sock\n"
	"log_level = error\n"
	"[feed \"alpha\"]\n"
	"url = http://alpha.example/feed.xml\n"
	"tags = news linux\n"
	"[feed \"beta\"]\n"
	"url = http://beta.example/feed.json\n"
	"tags = news\n"
	"[output \"linux\"]\n"
	"tags = linux\n"
	"include = *kernel* *Rust*\n"
	"[output \"all\"]\n"
	"exclude = *sponsored*\n";

/* Two small feeds, through the real parser: one story is carried by both. */
static const struct {
	const char *type, *doc;
} fuzz_feeds[] = {
	{"application/rss+xml",
	    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Alpha &amp; co</title>"
	    "<link>http://alpha.example/</link>"
	    "<item><title>Kernel 6.9 released</title><link>http://news.example/k?utm_source=a</link>"
	    "<description><![CDATA[<p>Rust <b>in</b> the kernel &eacute;</p>]]></description>"
	    "<pubDate>Mon, 03 Mar 2025 10:00:00 GMT</pubDate><category>linux</category></item>"
	    "<item><title>Sponsored: buy</title><guid isPermaLink=\"false\">s1</guid>"
	    "<pubDate>Tue, 04 Mar 2025 10:00:00 +0100</pubDate></item>"
	    "<item><title>\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x90\xa7</title><link>/rel/3</link>"
	    "<enclosure url=\"http://alpha.example/a.mp3\" length=\"3\" type=\"audio/mpeg\"/></item>"
	    "</channel></rss>"},
	{"application/feed+json",
	    "{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"Beta\","
	    "\"items\":[{\"id\":\"b1\",\"url\":\"http://news.example/k\",\"title\":\"Kernel news\","
	    "\"content_html\":\"<i>same story</i>\",\"date_published\":\"2025-03-05T08:00:00Z\"},"
	    "{\"id\":\"b2\",\"content_text\":\"no title, no link\",\"tags\":[\"x\"]}]}"},
};

struct fuzz_items {
	struct item **v;
	size_t n;
};

static void
fuzz_on_item(void *arg, struct item *it)
{
	struct fuzz_items *items = arg;

	items->v = xreallocarray(items->v, items->n + 1, sizeof(struct item *));
	items->v[items->n++] = it;
}

static void
fuzz_fill_store(void)
{
	const char *names[2], *urls[2];
	int64_t ids[2];
	char err[256];

	for (size_t i = 0; i < 2; i++) {
		names[i] = fuzz_conf->feeds[i].name;
		urls[i] = fuzz_conf->feeds[i].url;
	}
	if (store_set_feeds(fuzz_store, names, urls, 2, ids) != 0)
		fatalx("store_set_feeds failed");
	for (size_t i = 0; i < 2; i++) {
		struct fuzz_items items = {0};
		struct parser *p = parse_new(urls[i], fuzz_feeds[i].type, fuzz_on_item, &items);
		struct store_fetch_stats stats;
		struct store_fetch f;

		parse_push(p, fuzz_feeds[i].doc, strlen(fuzz_feeds[i].doc));
		if (parse_finish(p) != 0 || items.n == 0)
			fatalx("fuzz_request: seed feed %s does not parse", names[i]);
		f = (struct store_fetch){.feed_id = ids[i], .fetched_at = 1741000000 + (time_t)i,
			.http_status = 200, .info = parse_feed_info(p),
			.items = (struct item *const *)items.v, .nitems = items.n};
		if (store_commit_fetch(fuzz_store, &f, &stats, err, sizeof err) != 0)
			fatalx("store_commit_fetch: %s", err);
		for (size_t j = 0; j < items.n; j++)
			item_free(items.v[j]);
		free(items.v);
		parse_free(p);
	}
}

static void
fuzz_cleanup(void)
{
	char *path;

	srv_free(fuzz_srv);
	event_base_free(fuzz_base);
	store_close(fuzz_store);
	path = xasprintf("%s/fuzz.db", fuzz_dir);
	unlink(path);
	free(path);
	path = xasprintf("%s/feedmux.conf", fuzz_dir);
	unlink(path);
	free(path);
	unlink(fuzz_addr.sun_path); /* srv_free did, unless it went first */
	conf_free(fuzz_conf);
	rmdir(fuzz_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512], *path, *text;
	FILE *f;

	(void)argc, (void)argv;
	log_init("fuzz_request");
	log_set_level(LOG_LVL_ERR);
	parse_init();
	unsetenv("LISTEN_FDS"); /* listen where the configuration says */
	if (mkdtemp(fuzz_dir) == NULL)
		fatal("mkdtemp");
	path = xasprintf("%s/feedmux.conf", fuzz_dir);
	text = xasprintf(fuzz_conf_text, fuzz_dir, fuzz_dir);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		fatal("%s", path);
	if ((fuzz_conf = conf_load_logged(path)) == NULL)
		fatalx("fuzz_request: the configuration does not load");
	free(text);
	free(path);
	path = xasprintf("%s/fuzz.db", fuzz_dir);
	if ((fuzz_store = store_open(path, err, sizeof err)) == NULL)
		fatalx("store_open: %s", err);
	free(path);
	fuzz_fill_store();
	snprintf(fuzz_addr.sun_path, sizeof fuzz_addr.sun_path, "%s/s.sock", fuzz_dir);
	if ((fuzz_base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((fuzz_srv = srv_new(fuzz_base, fuzz_conf, fuzz_store, err, sizeof err)) == NULL)
		fatalx("srv_new: %s", err);
	atexit(fuzz_cleanup);
	return 0;
}

/*
 * Turn the loop, reading what the server sends, until it closes (returns
 * 1) or FUZZ_IDLE_TURNS turns bring nothing (returns 0).
 */
static int
fuzz_pump(int fd, struct buf *got)
{
	for (int idle = 0; idle < FUZZ_IDLE_TURNS;) {
		char chunk[65536];
		ssize_t n;
		bool any = false;

		event_base_loop(fuzz_base, EVLOOP_NONBLOCK);
		while ((n = read(fd, chunk, sizeof chunk)) > 0) {
			buf_add(got, chunk, (size_t)n);
			any = true;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			return 1; /* closed, or broken */
		idle = any ? 0 : idle + 1;
	}
	return 0;
}

static void
fuzz_fail(const char *what, const struct buf *got)
{
	fprintf(stderr, "fuzz_request: %s\nresponse (%zu bytes):\n%.2000s\n", what, got->len,
	    got->data != NULL ? got->data : "");
	abort();
}

/* The value of header `name` in the header block [h, end), or NULL; its length in *len. */
static const char *
fuzz_header(const char *h, const char *end, const char *name, size_t *len)
{
	size_t nlen = strlen(name);

	for (const char *line = h; line < end;) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));

		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - line) > nlen + 1 && strncasecmp(line, name, nlen) == 0 &&
		    line[nlen] == ':') {
			const char *v = line + nlen + 1;

			while (*v == ' ')
				v++;
			*len = (size_t)(eol - v) - (eol > v && eol[-1] == '\r');
			return v;
		}
		line = eol + 1;
	}
	return NULL;
}

/* Undo gzip: the body in `out`; -1 when it is not a whole gzip stream. */
static int
fuzz_gunzip(const char *in, size_t len, struct buf *out)
{
	z_stream z;
	char chunk[16384];
	int rc;

	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -1;
	z.next_in = (const Bytef *)in;
	z.avail_in = (uInt)len;
	do {
		z.next_out = (Bytef *)chunk;
		z.avail_out = sizeof chunk;
		rc = inflate(&z, Z_NO_FLUSH);
		buf_add(out, chunk, sizeof chunk - z.avail_out);
	} while (rc == Z_OK);
	inflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

static void
fuzz_check_xml(const char *body, size_t len, const char *root, const struct buf *got)
{
	xmlDocPtr doc = xmlReadMemory(body, (int)len, "response.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNodePtr r = doc != NULL ? xmlDocGetRootElement(doc) : NULL;

	if (r == NULL || strcmp((const char *)r->name, root) != 0)
		fuzz_fail("a 200 body is not the XML document it says", got);
	xmlFreeDoc(doc);
}

static void
fuzz_check_json(const char *body, size_t len, const char *key, const struct buf *got)
{
	json_t *j = json_loadb(body, len, 0, NULL);

	if (j == NULL || !json_is_object(j) || json_object_get(j, key) == NULL)
		fuzz_fail("a 200 body is not the JSON it says", got);
	json_decref(j);
}

/* The first response's body, when it is a complete 200 to a GET. */
static void
fuzz_check_body(const char *h, const char *body, const struct buf *got)
{
	const char *end = got->data + got->len, *v;
	size_t vlen, clen;
	struct buf plain;
	char type[128];

	if ((v = fuzz_header(h, body, "Content-Type", &vlen)) == NULL || vlen >= sizeof type)
		fuzz_fail("a 200 without a Content-Type", got);
	snprintf(type, sizeof type, "%.*s", (int)vlen, v);
	if (strncmp(type, "text/event-stream", 17) == 0)
		return; /* a stream: it never ends */
	if (fuzz_header(h, body, "Transfer-Encoding", &vlen) != NULL)
		fuzz_fail("a feed sent in chunks", got); /* the server always knows the length */
	/* HTTP/1.0 without keep-alive: the body runs to the close. */
	if ((v = fuzz_header(h, body, "Content-Length", &vlen)) == NULL)
		clen = (size_t)(end - body);
	else
		clen = strtoul(v, NULL, 10);
	if ((size_t)(end - body) < clen)
		fuzz_fail("a 200 body shorter than its Content-Length", got);
	buf_init(&plain, 0);
	if ((v = fuzz_header(h, body, "Content-Encoding", &vlen)) != NULL) {
		if (vlen != 4 || strncmp(v, "gzip", 4) != 0 || fuzz_gunzip(body, clen, &plain) != 0)
			fuzz_fail("a body that is not the gzip it says", got);
	} else
		buf_add(&plain, body, clen);
	buf_addc(&plain, '\0');
	plain.len--;
	if (strncmp(type, "application/atom+xml", 20) == 0)
		fuzz_check_xml(plain.data, plain.len, "feed", got);
	else if (strncmp(type, "application/rss+xml", 19) == 0)
		fuzz_check_xml(plain.data, plain.len, "rss", got);
	else if (strncmp(type, "text/x-opml", 11) == 0)
		fuzz_check_xml(plain.data, plain.len, "opml", got);
	else if (strncmp(type, "application/feed+json", 21) == 0)
		fuzz_check_json(plain.data, plain.len, "items", got);
	else if (strncmp(type, "application/json", 16) == 0)
		fuzz_check_json(plain.data, plain.len, "feeds", got);
	else
		fuzz_fail("a 200 of an unexpected type", got);
	buf_free(&plain);
}

/* Every status line we can find at the start of a response; the first in full. */
static void
fuzz_check(const uint8_t *req, size_t size, const struct buf *got)
{
	static const int expected[] = {200, 304, 400, 404, 405, 413, 414, 431, 501, 503};
	const char *body, *sp;
	char *end;
	int status;
	bool ok = false;

	if (got->len == 0)
		return; /* evhttp may close on a request it cannot read at all */
	/* evhttp answers in the version asked ("HTTP/0.1", "HTTP/1.11"): libevent's way */
	if (strncmp(got->data, "HTTP/", 5) != 0 || (sp = strchr(got->data, ' ')) == NULL ||
	    sp - got->data > 12 || (status = (int)strtol(sp + 1, &end, 10)) < 100 || *end != ' ')
		fuzz_fail("not an HTTP response", got);
	for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
		ok |= status == expected[i];
	if (!ok)
		fuzz_fail("an unexpected status", got);
	if ((body = strstr(got->data, "\r\n\r\n")) == NULL)
		fuzz_fail("a response without the end of its headers", got);
	if (status == 200 && size > 4 && memcmp(req, "GET ", 4) == 0)
		fuzz_check_body(got->data, body + 4, got);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf got;
	size_t off = 0;
	int fd, closed;

	if (size > 65536)
		return 0;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&fuzz_addr, sizeof fuzz_addr) != 0)
		fatal("connect %s", fuzz_addr.sun_path);
	buf_init(&got, 0);
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);

		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno == EAGAIN)
			fuzz_pump(fd, &got); /* let the server read */
		else
			break; /* the server closed on us */
	}
	closed = fuzz_pump(fd, &got);
	if (!closed) {
		shutdown(fd, SHUT_WR);
		fuzz_pump(fd, &got);
	}
	close(fd);
	for (int i = 0; i < 4; i++)
		event_base_loop(fuzz_base, EVLOOP_NONBLOCK); /* the server sees the close */
	buf_addc(&got, '\0');
	got.len--;
	fuzz_check(data, size, &got);
	buf_free(&got);
	return 0;
}
