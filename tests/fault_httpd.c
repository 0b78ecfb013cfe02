/*
 * fault-httpd: an HTTP server for the tests that misbehaves on request.
 *
 *	fault-httpd DIR [LOG]
 *
 * Listens on 127.0.0.1 on a port the kernel picks, prints the port on
 * stdout, and answers by path (FILE is a file of DIR):
 *
 *	/f/FILE		the file, with an ETag; a matching If-None-Match gets a 304.
 *			?gzip: gzip-encoded; ?br: FILE.br sent as brotli;
 *			?maxage=N: Cache-Control: max-age=N
 *	/r/CODE/N/PATH	a redirect (CODE) to /r/CODE/N-1/PATH, and at N = 0 to /PATH
 *	/loop		a 302 to itself
 *	/tofile		a 302 to file:///etc/passwd
 *	/s/CODE		that status, ?retry=N adds Retry-After: N
 *	/drip/FILE	the file, one byte every 100 ms; ?after=N: N bytes, then nothing
 *	/hang		reads the request and never answers
 *	/big		an endless feed (64 MB), no Content-Length
 *	/bomb		16 MB of blanks, gzip-encoded to about 16 kB (made at startup)
 *	/liar		Content-Length: 100000, then 60 bytes and the end of the connection
 *	/to?URL		a 302 to URL, whatever its scheme
 *	/g/NAME?n=N	a hostile body made on the fly (see `gens` below): N items, bytes,
 *			levels or megabytes where NAME takes a size; never a file on disk
 *
 * Every response closes its connection.  When LOG is given, one line per
 * request is appended: "MS HOST PATH INM ENC", MS the milliseconds since
 * the server started, HOST the Host header without port, INM the
 * If-None-Match sent and ENC the Content-Encoding answered ("-" for none).
 * It exits on SIGTERM, or when the test that started it dies.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <netinet/in.h>
#define ZLIB_CONST /* next_in is const */
#include <zlib.h>

#define REQ_MAX	   16384
#define BIG_TOTAL  ((size_t)64 * 1024 * 1024)
#define BIG_CHUNK  65536
#define BOMB_TOTAL ((size_t)16 * 1024 * 1024)
#define DRIP_MS	   100L

static const char *root;
static FILE *reqlog;
static struct event_base *base;
static struct timespec started;
static unsigned char *bomb; /* made at startup */
static size_t bomb_len;

struct conn {
	struct conn *prev, *next; /* every open connection, freed at exit (/hang never ends) */
	struct bufferevent *bev;
	struct event *drip;
	char *body; /* what is still to drip */
	size_t body_len, body_off;
	size_t drip_stop; /* drip no further than this */
	/* A body made as the client reads it (/big, /g/): more() adds a piece, false after the last. */
	bool (*more)(struct conn *c, struct evbuffer *out);
	size_t n;	/* its size parameter */
	size_t sent;	/* how far it got, in its own unit */
	bool closing;	/* free once the output is written */
};

static struct conn *conns;

static void
conn_free(struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->drip != NULL)
		event_free(c->drip);
	bufferevent_free(c->bev);
	free(c->body);
	free(c);
}

static long long
ms_since_start(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - started.tv_sec) * 1000 +
	    (now.tv_nsec - started.tv_nsec) / 1000000;
}

static char *
read_file(const char *name, size_t *len, struct stat *st)
{
	char path[4096];
	char *data;
	int fd;

	if (strstr(name, "..") != NULL)
		return NULL;
	snprintf(path, sizeof path, "%s/%s", root, name);
	if ((fd = open(path, O_RDONLY)) < 0)
		return NULL;
	if (fstat(fd, st) != 0 || (data = malloc((size_t)st->st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	*len = (size_t)read(fd, data, (size_t)st->st_size);
	close(fd);
	return data;
}

/* gzip `in` into a new buffer. */
static unsigned char *
gzip(const void *in, size_t len, size_t repeat, size_t *outlen)
{
	z_stream z;
	size_t cap = len * repeat / 512 + len + 1024;
	unsigned char *out = malloc(cap);

	memset(&z, 0, sizeof z);
	if (out == NULL || deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	z.next_out = out;
	z.avail_out = (uInt)cap;
	for (size_t i = 0; i < repeat; i++) {
		z.next_in = in;
		z.avail_in = (uInt)len;
		if (deflate(&z, Z_NO_FLUSH) != Z_OK || z.avail_in != 0)
			abort();
	}
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	*outlen = z.total_out;
	deflateEnd(&z);
	return out;
}

static void
send_head(struct conn *c, int code, const char *extra, long long length)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	evbuffer_add_printf(out, "HTTP/1.1 %d Fault\r\nConnection: close\r\n%s", code, extra);
	if (length >= 0)
		evbuffer_add_printf(out, "Content-Length: %lld\r\n", length);
	evbuffer_add_printf(out, "\r\n");
}

static void
send_whole(struct conn *c, int code, const char *extra, const void *body, size_t len)
{
	send_head(c, code, extra, (long long)len);
	evbuffer_add(bufferevent_get_output(c->bev), body, len);
	c->closing = true;
}

static void
on_drip(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct timeval tv = {0, DRIP_MS * 1000};

	(void)fd, (void)what;
	if (c->body_off >= c->body_len || c->body_off >= c->drip_stop)
		return; /* the rest never comes */
	evbuffer_add(bufferevent_get_output(c->bev), c->body + c->body_off, 1);
	c->body_off++;
	if (c->body_off == c->body_len) {
		c->closing = true;
		return;
	}
	evtimer_add(c->drip, &tv);
}

static bool
big_more(struct conn *c, struct evbuffer *out)
{
	static char chunk[BIG_CHUNK];
	static const char item[] = "<item><title>x</title></item>\n";

	if (chunk[0] == '\0')
		for (size_t i = 0; i + sizeof item - 1 <= sizeof chunk; i += sizeof item - 1)
			memcpy(chunk + i, item, sizeof item - 1);
	evbuffer_add(out, chunk, sizeof chunk);
	c->sent += sizeof chunk;
	return c->sent < BIG_TOTAL;
}

/* /f/FILE with its options; returns the Content-Encoding used, or "-". */
static const char *
serve_file(struct conn *c, const char *name, const char *query, const char *inm)
{
	char head[512], etag[64], file[4096];
	const char *enc = "-";
	size_t len, n = 0;
	struct stat st;
	char *data;
	unsigned char *z = NULL;

	snprintf(file, sizeof file, "%s%s", name, strstr(query, "br") != NULL ? ".br" : "");
	if ((data = read_file(file, &len, &st)) == NULL) {
		send_whole(c, 404, "", "not found\n", 10);
		return enc;
	}
	snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_size,
	    (unsigned long long)st.st_mtime);
	n += (size_t)snprintf(head + n, sizeof head - n, "ETag: %s\r\n", etag);
	if (strstr(query, "maxage=") != NULL)
		n += (size_t)snprintf(head + n, sizeof head - n, "Cache-Control: max-age=%ld\r\n",
		    strtol(strstr(query, "maxage=") + 7, NULL, 10));
	if (inm != NULL && strcmp(inm, etag) == 0) {
		send_whole(c, 304, head, "", 0);
		free(data);
		return enc;
	}
	n += (size_t)snprintf(head + n, sizeof head - n, "Content-Type: application/xml\r\n");
	if (strstr(query, "br") != NULL)
		enc = "br";
	else if (strstr(query, "gzip") != NULL) {
		enc = "gzip";
		z = gzip(data, len, 1, &len);
	}
	if (strcmp(enc, "-") != 0)
		snprintf(head + n, sizeof head - n, "Content-Encoding: %s\r\n", enc);
	send_whole(c, 200, head, z != NULL ? (void *)z : data, len);
	free(z);
	free(data);
	return enc;
}

static void
serve_drip(struct conn *c, const char *name, const char *query)
{
	struct stat st;
	const char *after = strstr(query, "after=");
	struct timeval now = {0, 0};

	if ((c->body = read_file(name, &c->body_len, &st)) == NULL) {
		send_whole(c, 404, "", "not found\n", 10);
		return;
	}
	send_head(c, 200, "Content-Type: application/xml\r\n", (long long)c->body_len);
	c->drip_stop = c->body_len;
	if (after != NULL) {
		size_t n = strtoul(after + 6, NULL, 10);

		if (n > c->body_len)
			n = c->body_len;
		evbuffer_add(bufferevent_get_output(c->bev), c->body, n);
		c->body_off = c->drip_stop = n;
	}
	c->drip = evtimer_new(base, on_drip, c);
	evtimer_add(c->drip, &now);
}

/*
 * Hostile bodies, made on the fly: /g/NAME?n=N.  Those that take a size
 * are made piece by piece as the client reads (a more() of struct conn),
 * so that none is ever held whole, here or on disk.
 */
#define GEN_PIECE ((size_t)BIG_CHUNK)
#define RSS_HEAD  "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"
#define ATOM_TIME "<updated>2024-01-01T00:00:00Z</updated>"

static unsigned char *gz_head, *gz_block; /* an endless gzip stream: the head, then the block forever */
static size_t gz_head_len, gz_block_len;

/*
 * A gzip stream of `prefix` and then blanks without end: after a full
 * flush deflate starts afresh, so a megabyte of blanks compresses to the
 * same block every time, and the block can be repeated for ever.
 */
static void
gz_endless_make(const char *prefix)
{
	static char blanks[1024 * 1024];
	size_t cap = sizeof blanks / 100 + 4096;
	unsigned char *third = malloc(cap);
	z_stream z;

	memset(blanks, ' ', sizeof blanks);
	memset(&z, 0, sizeof z);
	gz_head = malloc(cap);
	gz_block = malloc(cap);
	if (third == NULL || gz_head == NULL || gz_block == NULL ||
	    deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	for (int round = 0; round < 3; round++) {
		unsigned char *out = round == 0 ? gz_head : round == 1 ? gz_block : third;

		z.next_in = (const Bytef *)(round == 0 ? prefix : blanks);
		z.avail_in = (uInt)(round == 0 ? strlen(prefix) : sizeof blanks);
		z.next_out = out;
		z.avail_out = (uInt)cap;
		if (deflate(&z, Z_FULL_FLUSH) != Z_OK || z.avail_in != 0 || z.avail_out == 0)
			abort();
		if (round == 0)
			gz_head_len = cap - z.avail_out;
		else if (round == 1)
			gz_block_len = cap - z.avail_out;
		else if (cap - z.avail_out != gz_block_len || memcmp(third, gz_block, gz_block_len) != 0)
			abort(); /* the block does not repeat: the bomb would not be one */
	}
	deflateEnd(&z);
	free(third);
}

static bool
gen_gzbomb(struct conn *c, struct evbuffer *out)
{
	if (c->sent++ == 0)
		evbuffer_add(out, gz_head, gz_head_len);
	for (size_t len = 0; len < GEN_PIECE; len += gz_block_len)
		evbuffer_add(out, gz_block, gz_block_len);
	return true; /* no end: the client must stop */
}

/* An item's description that never ends. */
static bool
gen_endless(struct conn *c, struct evbuffer *out)
{
	static char piece[GEN_PIECE];

	if (c->sent++ == 0) {
		memset(piece, 'z', sizeof piece);
		evbuffer_add_printf(out, RSS_HEAD "<title>Endless</title><item><title>Endless</title>"
					    "<description>");
	}
	evbuffer_add(out, piece, sizeof piece);
	return true;
}

/* n items, each small: the parser must not hold them, the store must stay bounded. */
static bool
gen_items(struct conn *c, struct evbuffer *out)
{
	size_t start = evbuffer_get_length(out);

	if (c->sent == 0)
		evbuffer_add_printf(out, RSS_HEAD "<title>Many items</title>\n");
	for (; c->sent < c->n && evbuffer_get_length(out) - start < GEN_PIECE; c->sent++)
		evbuffer_add_printf(out, "<item><title>Item %zu</title><guid isPermaLink=\"false\">"
					 "m%zu</guid></item>\n", c->sent, c->sent);
	if (c->sent < c->n)
		return true;
	evbuffer_add_printf(out, "</channel></rss>\n");
	return false;
}

/* A good item, elements nested n deep and closed again, another good item. */
static bool
gen_deep(struct conn *c, struct evbuffer *out)
{
	size_t start = evbuffer_get_length(out);

	if (c->sent == 0)
		evbuffer_add_printf(out, RSS_HEAD "<title>Deep</title><item><title>Before the deep"
					    " end</title><guid isPermaLink=\"false\">deep-1</guid>"
					    "</item>\n");
	for (; c->sent < 2 * c->n && evbuffer_get_length(out) - start < GEN_PIECE; c->sent++)
		evbuffer_add(out, c->sent < c->n ? "<x>" : "</x>", c->sent < c->n ? 3 : 4);
	if (c->sent < 2 * c->n)
		return true;
	evbuffer_add_printf(out, "\n<item><title>After the deep end</title><guid isPermaLink="
				 "\"false\">deep-2</guid></item></channel></rss>\n");
	return false;
}

/* An Atom entry, then one whose link's href is n megabytes long. */
static bool
gen_attr(struct conn *c, struct evbuffer *out)
{
	static char piece[GEN_PIECE];

	if (c->sent == 0) {
		memset(piece, 'a', sizeof piece);
		evbuffer_add_printf(out, "<?xml version=\"1.0\"?>\n<feed xmlns=\"http://www.w3.org/2005/"
					 "Atom\"><title>Big attribute</title><id>urn:x:attr</id>"
			ATOM_TIME "<entry><title>Before the big attribute</title>"
			"<id>urn:x:attr:1</id>" ATOM_TIME "</entry><entry><title>Big</title>"
			"<id>urn:x:attr:2</id>" ATOM_TIME "<link href=\"http://attr.example/");
	}
	if (c->sent < c->n * 1024 * 1024) {
		evbuffer_add(out, piece, sizeof piece);
		c->sent += sizeof piece;
		return true;
	}
	evbuffer_add_printf(out, "\"/></entry></feed>\n");
	return false;
}

/* An entity of 1000 bytes, referred to 1100 times in each of n items' descriptions. */
static bool
gen_quadratic(struct conn *c, struct evbuffer *out)
{
	static char refs[1100 * 3 + 1];

	if (c->sent == 0) {
		char value[1001];

		for (size_t i = 0; i < 1100; i++)
			refs[3 * i] = '&', refs[3 * i + 1] = 'e', refs[3 * i + 2] = ';';
		memset(value, 'q', sizeof value - 1);
		value[sizeof value - 1] = '\0';
		evbuffer_add_printf(out, "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [<!ENTITY e \"%s\">]>\n"
					 "<rss version=\"2.0\"><channel><title>Quadratic</title>\n", value);
	}
	for (size_t len = 0; c->sent < c->n && len < GEN_PIECE; c->sent++)
		len += (size_t)evbuffer_add_printf(out, "<item><title>Quadratic %zu</title>"
			"<guid isPermaLink=\"false\">quad-%zu</guid><description>%s</description>"
			"</item>\n", c->sent, c->sent, refs);
	if (c->sent < c->n)
		return true;
	evbuffer_add_printf(out, "</channel></rss>\n");
	return false;
}

/* n bytes of noise, the same every time. */
static bool
gen_random(struct conn *c, struct evbuffer *out)
{
	static uint64_t x = 0x9e3779b97f4a7c15ULL;
	unsigned char piece[4096];

	for (size_t i = 0; i < sizeof piece; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		piece[i] = (unsigned char)x;
	}
	evbuffer_add(out, piece, c->n - c->sent < sizeof piece ? c->n - c->sent : sizeof piece);
	c->sent += sizeof piece;
	return c->sent < c->n;
}

/* Small bodies: what a byte-level or header-level fault needs is in the literal. */
#define LIT(s) (s), sizeof(s) - 1
#define ITEM(id, title, rest) \
	"<item><title>" title "</title><guid isPermaLink=\"false\">" id "</guid>" rest "</item>\n"

static const struct gen {
	const char *name, *ctype;
	bool (*more)(struct conn *c, struct evbuffer *out);
	size_t n;	   /* the default size */
	const char *body;  /* or a fixed body ... */
	size_t len;
	char wide;	   /* ... sent as UTF-16: 'l' little-endian with a BOM, 'b' big without */
	long long lie;	   /* Content-Length minus the body's length */
} gens[] = {
	{"gzbomb", "application/rss+xml\r\nContent-Encoding: gzip", gen_gzbomb, 0, NULL, 0, 0, 0},
	{"endless", "application/rss+xml", gen_endless, 0, NULL, 0, 0, 0},
	{"items", "application/rss+xml", gen_items, 200000, NULL, 0, 0, 0},
	{"deep", "application/rss+xml", gen_deep, 200000, NULL, 0, 0, 0},
	{"attr", "application/atom+xml", gen_attr, 50, NULL, 0, 0, 0},
	{"quadratic", "application/rss+xml", gen_quadratic, 4000, NULL, 0, 0, 0},
	{"random", "application/xml", gen_random, (size_t)1024 * 1024, NULL, 0, 0, 0},
	{"nul", "application/rss+xml", NULL, 0, LIT(RSS_HEAD "<title>NUL\0bytes</title>\n"
	    ITEM("nul-1", "Before\0after", "<description>a\0\0\0b</description>")
	    "</channel></rss>\n"), 0, 0},
	{"control", "application/rss+xml", NULL, 0, LIT(RSS_HEAD "<title>Control\x01\x1b"
	    "characters</title>\n"
	    ITEM("control-1", "Bell\x07 tab\t vt\x0b ff\x0c esc\x1b del\x7f c1\xc2\x80\xc2\x9f end",
	    "<description>refs &#1; &#x1b; &#xFFFE; &#xD800; &#0; end</description>")
	    "</channel></rss>\n"), 0, 0},
	{"badutf8", "application/rss+xml; charset=utf-8", NULL, 0, LIT(RSS_HEAD
	    "<title>Bad \xff\xfe UTF-8</title>\n"
	    ITEM("badutf8-1", "cut \xc3 overlong \xc0\xaf surrogate \xed\xa0\x80 big \xf5\x80\x80\x80",
	    "<link>http://badutf8.example/\xe9t\xe9</link><description>\x80\xbf lone</description>")
	    "</channel></rss>\n"), 0, 0},
	{"cdata", "application/rss+xml", NULL, 0, LIT(RSS_HEAD "<title>CDATA ends ]]> here</title>\n"
	    ITEM("cdata-1", "<![CDATA[a]]]]><![CDATA[>b]]>",
	    "<description><![CDATA[<p>x]]]]><![CDATA[>y</p>]]> tail ]]> more</description>")
	    ITEM("cdata-2", "Plain ]]> in text", "<description>]]>]]>]]&gt;</description>")
	    "</channel></rss>\n"), 0, 0},
	{"cp1252-as-utf8", "application/rss+xml; charset=utf-8", NULL, 0, LIT(RSS_HEAD
	    "<title>Mislabelled \x93quotes\x94</title>\n"
	    ITEM("cp1252-1", "Caf\xe9 \x80 \x93smart\x94", "") "</channel></rss>\n"), 0, 0},
	{"utf8-as-latin1", "application/rss+xml", NULL, 0, LIT(
	    "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<rss version=\"2.0\"><channel>"
	    "<title>Mislabelled Latin-1</title>\n"
	    ITEM("latin1-1", "Caf\xc3\xa9 \xe2\x80\x9cquoted\xe2\x80\x9d", "") "</channel></rss>\n"),
	    0, 0},
	{"bogus-charset", "text/xml; charset=x-no-such-charset", NULL, 0, LIT(
	    "<?xml version=\"1.0\" encoding=\"x-bogus-9\"?>\n<rss version=\"2.0\"><channel>"
	    "<title>Bogus charset</title>\n" ITEM("bogus-1", "Bogus caf\xe9", "")
	    "</channel></rss>\n"), 0, 0},
	{"utf16le", "application/rss+xml", NULL, 0, LIT(
	    "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<rss version=\"2.0\"><channel>"
	    "<title>UTF-16</title>\n" ITEM("utf16le-1", "Little-endian caf\xe9", "")
	    "</channel></rss>\n"), 'l', 0},
	{"utf16be", "application/rss+xml", NULL, 0, LIT(
	    "<?xml version=\"1.0\" encoding=\"UTF-16BE\"?>\n<rss version=\"2.0\"><channel>"
	    "<title>UTF-16BE</title>\n" ITEM("utf16be-1", "Big-endian caf\xe9", "")
	    "</channel></rss>\n"), 'b', 0},
	{"html", "text/html; charset=utf-8", NULL, 0, LIT("<!DOCTYPE html>\n<html><head>"
	    "<title>A web page</title><link rel=\"alternate\" type=\"application/rss+xml\" "
	    "href=\"/feed\"></head><body><p>Not a feed<br><img src=x onerror=alert(1)></body></html>\n"),
	    0, 0},
	{"empty", "application/rss+xml", NULL, 0, "", 0, 0, 0},
	{"truncated", "application/rss+xml", NULL, 0, LIT(RSS_HEAD "<title>Truncated</title>\n"
	    ITEM("truncated-1", "Whole item", "") "<item><title>Half an it"), 0, 0},
	{"clen-long", "application/rss+xml", NULL, 0, LIT(RSS_HEAD "<title>Longer</title>\n"
	    ITEM("long-1", "Whole item", "") "</channel></rss>\n"), 0, 5000},
	{"clen-short", "application/rss+xml", NULL, 0, LIT(RSS_HEAD "<title>Shorter</title>\n"
	    ITEM("short-1", "Whole item", "") ITEM("short-2", "Item past the length", "")
	    "</channel></rss>\n"), 0, -80},
};

static void
serve_gen(struct conn *c, const char *name, const char *query)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	const struct gen *g = NULL;
	char head[256];

	for (size_t i = 0; i < sizeof gens / sizeof gens[0]; i++)
		if (strcmp(gens[i].name, name) == 0)
			g = &gens[i];
	if (g == NULL) {
		send_whole(c, 404, "", "not found\n", 10);
		return;
	}
	snprintf(head, sizeof head, "Content-Type: %s\r\n", g->ctype);
	if (g->more != NULL) {
		const char *n = strstr(query, "n=");

		c->n = n != NULL ? strtoul(n + 2, NULL, 10) : g->n;
		c->more = g->more;
		send_head(c, 200, head, -1);
		c->closing = !g->more(c, out);
		return;
	}
	send_head(c, 200, head, (long long)(g->wide ? 2 * g->len + (g->wide == 'l' ? 2 : 0) : g->len) +
	    g->lie);
	if (g->wide == 'l')
		evbuffer_add(out, "\xff\xfe", 2);
	for (size_t i = 0; g->wide && i < g->len; i++) {
		unsigned char unit[2] = {(unsigned char)g->body[i], 0};

		if (g->wide == 'b')
			unit[1] = unit[0], unit[0] = 0;
		evbuffer_add(out, unit, 2);
	}
	if (!g->wide)
		evbuffer_add(out, g->body, g->len);
	c->closing = true;
}

static const char *
serve(struct conn *c, char *path, const char *inm)
{
	char *query = strchr(path, '?');
	char head[1200];
	long code;

	if (query != NULL)
		*query++ = '\0';
	else
		query = "";
	if (strncmp(path, "/f/", 3) == 0)
		return serve_file(c, path + 3, query, inm);
	if (strncmp(path, "/r/", 3) == 0) {
		char *end;
		long hops;

		code = strtol(path + 3, &end, 10);
		hops = *end == '/' ? strtol(end + 1, &end, 10) : -1;
		if (hops < 0 || *end != '/')
			send_whole(c, 404, "", "not found\n", 10);
		else {
			if (hops > 0)
				snprintf(head, sizeof head, "Location: /r/%ld/%ld/%s\r\n", code, hops - 1,
				    end + 1);
			else
				snprintf(head, sizeof head, "Location: /%s\r\n", end + 1);
			send_whole(c, (int)code, head, "", 0);
		}
	} else if (strcmp(path, "/loop") == 0)
		send_whole(c, 302, "Location: /loop\r\n", "", 0);
	else if (strcmp(path, "/tofile") == 0)
		send_whole(c, 302, "Location: file:///etc/passwd\r\n", "", 0);
	else if (strncmp(path, "/s/", 3) == 0 && (code = strtol(path + 3, NULL, 10)) >= 100) {
		head[0] = '\0';
		if (strncmp(query, "retry=", 6) == 0)
			snprintf(head, sizeof head, "Retry-After: %ld\r\n", strtol(query + 6, NULL, 10));
		send_whole(c, (int)code, head, "error\n", 6);
	} else if (strncmp(path, "/drip/", 6) == 0)
		serve_drip(c, path + 6, query);
	else if (strcmp(path, "/hang") == 0)
		; /* never answer */
	else if (strcmp(path, "/big") == 0) {
		static const char start[] = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"
					    "<title>big</title>\n";

		send_head(c, 200, "Content-Type: application/xml\r\n", -1);
		evbuffer_add(bufferevent_get_output(c->bev), start, sizeof start - 1);
		c->more = big_more;
		big_more(c, bufferevent_get_output(c->bev));
	} else if (strcmp(path, "/bomb") == 0) {
		send_whole(c, 200, "Content-Type: application/xml\r\nContent-Encoding: gzip\r\n",
		    bomb, bomb_len);
		return "gzip";
	} else if (strncmp(path, "/g/", 3) == 0)
		serve_gen(c, path + 3, query);
	else if (strcmp(path, "/to") == 0) {
		snprintf(head, sizeof head, "Location: %.1000s\r\n", query);
		send_whole(c, 302, head, "", 0);
	} else if (strcmp(path, "/liar") == 0) {
		send_head(c, 200, "Content-Type: application/xml\r\n", 100000);
		evbuffer_add_printf(bufferevent_get_output(c->bev), "%-60s", "<?xml version=\"1.0\"?>");
		c->closing = true;
	} else
		send_whole(c, 404, "", "not found\n", 10);
	return "-";
}

/* The value of header `name` in the request head `req` (NUL-terminated lines), or NULL. */
static char *
header(char *req, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);

	for (char *line = strstr(req, "\r\n"); line != NULL; line = strstr(line, "\r\n")) {
		line += 2;
		if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
			char *v = line + nlen + 1;
			size_t len;

			while (*v == ' ')
				v++;
			len = strcspn(v, "\r\n");
			snprintf(out, outlen, "%.*s", (int)len, v);
			return out;
		}
	}
	return NULL;
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	char req[REQ_MAX], path[2048], inm[256], host[256];
	size_t len;

	if (end.pos < 0) {
		if (evbuffer_get_length(in) >= REQ_MAX)
			conn_free(c);
		return;
	}
	len = (size_t)end.pos + 4;
	evbuffer_remove(in, req, len);
	req[len] = '\0';
	bufferevent_disable(bev, EV_READ);
	if (sscanf(req, "GET %2047s", path) != 1)
		snprintf(path, sizeof path, "/");
	if (header(req, "Host", host, sizeof host) == NULL)
		snprintf(host, sizeof host, "-");
	host[strcspn(host, ":")] = '\0';
	if (header(req, "If-None-Match", inm, sizeof inm) == NULL)
		inm[0] = '\0';
	{
		char logpath[2048];
		const char *enc;

		snprintf(logpath, sizeof logpath, "%s", path);
		enc = serve(c, path, inm[0] != '\0' ? inm : NULL);
		if (reqlog != NULL) {
			fprintf(reqlog, "%lld %s %s %s %s\n", ms_since_start(), host, logpath,
			    inm[0] != '\0' ? inm : "-", enc);
			fflush(reqlog);
		}
	}
	if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(c);
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->more != NULL && !c->closing) {
		c->closing = !c->more(c, bufferevent_get_output(bev));
		return;
	}
	/* called whenever the output falls under the watermark: free only once all is sent */
	if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(c);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(arg);
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct conn *c = calloc(1, sizeof *c);

	(void)l, (void)sa, (void)salen, (void)arg;
	if (c == NULL)
		abort();
	c->next = conns;
	if (conns != NULL)
		conns->prev = c;
	conns = c;
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, BIG_CHUNK, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	(void)sig, (void)what, (void)arg;
	event_base_loopbreak(base);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in sin;
	socklen_t sinlen = sizeof sin;
	struct evconnlistener *l;
	struct event *term;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: fault-httpd DIR [LOG]\n");
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_MONOTONIC, &started);
	{
		/* made before we listen, so that a loaded machine cannot make /bomb slow */
		char fill[4096];

		memset(fill, ' ', sizeof fill);
		bomb = gzip(fill, sizeof fill, BOMB_TOTAL / sizeof fill, &bomb_len);
		gz_endless_make(RSS_HEAD "<title>Bomb</title><item><title>Bomb</title><description>");
	}
	root = argv[1];
	if (argc == 3 && (reqlog = fopen(argv[2], "a")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	base = event_base_new();
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = evconnlistener_new_bind(base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
	    128, (struct sockaddr *)&sin, sizeof sin);
	if (l == NULL) {
		perror("bind");
		return 1;
	}
	if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sin, &sinlen) != 0) {
		perror("getsockname");
		return 1;
	}
	printf("%d\n", ntohs(sin.sin_port));
	fflush(stdout);
	term = evsignal_new(base, SIGTERM, on_term, NULL);
	event_add(term, NULL);
	event_base_dispatch(base);
	event_free(term);
	for (struct conn *c = conns, *next; c != NULL; c = next) {
		next = c->next;
		conn_free(c);
	}
	evconnlistener_free(l);
	event_base_free(base);
	free(bomb);
	free(gz_head);
	free(gz_block);
	if (reqlog != NULL)
		fclose(reqlog);
	return 0;
}
