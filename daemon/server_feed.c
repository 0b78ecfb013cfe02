/*
 * server_feed.c: /feed.atom, /feed.rss, /feed.json and /outputs/NAME.*.
 *
 * A request names a view (format, filters, page); its body is rendered
 * once and kept in a small cache under the request's path and query until
 * the store's generation moves on, so polling an unchanged feed costs no
 * query and no rendering: the answer is a 304, or the cached bytes (their
 * gzip form made once, when a client first asks for it).  The ETag is a
 * hash of the bytes sent (strong; the gzip form has its own), Last-Modified
 * is when the store last changed.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <zlib.h>

#include "config/conf.h"
#include "daemon/server_private.h"
#include "feeds/date.h"
#include "feeds/render.h"
#include "storage/store.h"
#include "util/util.h"

#define SRV_DEFAULT_LIMIT 50
#define SRV_MAX_LIMIT	  1000
#define SRV_MAX_WORDS	  8
#define SRV_MAX_WORD	  100
#define SRV_GZIP_MIN	  1024		      /* smaller bodies are sent as they are */
#define SRV_CACHE_MAX_BODY ((size_t)8 << 20) /* larger bodies are not kept */

enum srv_format { FMT_ATOM, FMT_RSS, FMT_JSON };

static const struct {
	const char *ext;
	const char *type;
} srv_formats[] = {
	[FMT_ATOM] = {".atom", "application/atom+xml; charset=utf-8"},
	[FMT_RSS] = {".rss", "application/rss+xml; charset=utf-8"},
	[FMT_JSON] = {".json", "application/feed+json; charset=utf-8"},
};

/* What a request asks for. */
struct srv_view {
	enum srv_format fmt;
	char *path; /* without the query: where paging links point */
	const struct conf_output *output;
	struct store_query q;
	const char **feeds;
	size_t nfeeds;
	char **words;
	size_t nwords;
	bool filtered; /* shows less than the whole merged feed: it gets its own feed id */
	struct evkeyvalq params;
};

static void
srv_view_clear(struct srv_view *v)
{
	free(v->path);
	free(v->feeds);
	for (size_t i = 0; i < v->nwords; i++)
		free(v->words[i]);
	free(v->words);
	evhttp_clear_headers(&v->params);
}

static bool
srv_has_tag(const struct conf_feed *f, const char *tag)
{
	for (size_t i = 0; i < f->ntags; i++)
		if (strcasecmp(f->tags[i], tag) == 0)
			return true;
	return false;
}

static void
srv_view_add_feed(struct srv_view *v, const char *name)
{
	for (size_t i = 0; i < v->nfeeds; i++)
		if (strcmp(v->feeds[i], name) == 0)
			return;
	v->feeds = xreallocarray(v->feeds, v->nfeeds + 1, sizeof *v->feeds);
	v->feeds[v->nfeeds++] = name;
}

/* The feeds a named output takes: those it names and those with one of its tags. */
static void
srv_view_output_feeds(const struct conf *conf, const struct conf_output *o, struct srv_view *v)
{
	for (size_t i = 0; i < o->nfeeds; i++)
		srv_view_add_feed(v, o->feeds[i]);
	for (size_t i = 0; i < conf->nfeeds; i++)
		for (size_t t = 0; t < o->ntags; t++)
			if (srv_has_tag(&conf->feeds[i], o->tags[t]))
				srv_view_add_feed(v, conf->feeds[i].name);
}

/* "T-ID" (sort time, row id): where the previous page ended. */
static int
srv_parse_cursor(const char *s, struct store_query *q)
{
	char *end;
	long long t = strtoll(s, &end, 10), id;

	if (!isdigit((unsigned char)*s) || *end != '-' || !isdigit((unsigned char)end[1]))
		return -1;
	id = strtoll(end + 1, &end, 10);
	if (*end != '\0' || t <= 0 || id <= 0)
		return -1;
	q->before_time = (time_t)t;
	q->before_id = id;
	return 0;
}

/* ?q: up to SRV_MAX_WORDS blank-separated words. */
static int
srv_parse_words(const char *s, struct srv_view *v, const char **why)
{
	while (*s != '\0') {
		size_t len;

		while (isspace((unsigned char)*s))
			s++;
		if ((len = strcspn(s, " \t\r\n")) == 0)
			break;
		if (v->nwords == SRV_MAX_WORDS || len > SRV_MAX_WORD) {
			*why = "q takes at most 8 words of at most 100 bytes";
			return -1;
		}
		v->words = xreallocarray(v->words, v->nwords + 1, sizeof *v->words);
		v->words[v->nwords++] = xstrndup(s, len);
		s += len;
	}
	return 0;
}

static int
srv_parse_limit(const char *s, struct store_query *q)
{
	char *end;
	unsigned long n = strtoul(s, &end, 10);

	if (!isdigit((unsigned char)*s) || *end != '\0' || n < 1 || n > SRV_MAX_LIMIT)
		return -1;
	q->limit = n;
	return 0;
}

/* The query string's parameters into `v`; on a bad one, *why says what and -1. */
static int
srv_parse_params(const struct conf *conf, const char *query, struct srv_view *v, const char **why)
{
	const char *s;

	v->q.limit = SRV_DEFAULT_LIMIT;
	if (query == NULL)
		return 0;
	if (evhttp_parse_query_str(query, &v->params) != 0)
		return *why = "malformed query string", -1;
	if ((s = evhttp_find_header(&v->params, "limit")) != NULL && srv_parse_limit(s, &v->q) != 0)
		return *why = "limit must be a number from 1 to 1000", -1;
	if ((s = evhttp_find_header(&v->params, "since")) != NULL) {
		if ((v->q.since = date_parse(s)) <= 0)
			return *why = "since must be a date such as 2026-01-31T12:00:00Z", -1;
		v->filtered = true;
	}
	if ((s = evhttp_find_header(&v->params, "before")) != NULL && srv_parse_cursor(s, &v->q) != 0)
		return *why = "before must be a cursor as the next link gives it", -1;
	if ((s = evhttp_find_header(&v->params, "q")) != NULL) {
		if (srv_parse_words(s, v, why) != 0)
			return -1;
		v->filtered = true;
	}
	if ((evhttp_find_header(&v->params, "feed") != NULL ||
		evhttp_find_header(&v->params, "tag") != NULL) && v->output != NULL)
		return *why = "feed and tag do not apply to a named output", -1;
	if ((s = evhttp_find_header(&v->params, "feed")) != NULL) {
		if (conf_find_feed(conf, s) == NULL)
			return *why = "no feed has that name", -1;
		srv_view_add_feed(v, s);
		v->filtered = true;
	}
	if ((s = evhttp_find_header(&v->params, "tag")) != NULL) {
		size_t before = v->nfeeds;

		for (size_t i = 0; i < conf->nfeeds; i++)
			if (srv_has_tag(&conf->feeds[i], s))
				srv_view_add_feed(v, conf->feeds[i].name);
		if (v->nfeeds == before)
			return *why = "no feed has that tag", -1;
		v->filtered = true;
	}
	return 0;
}

/* Which format `path` ends in; the part before it goes to *stem_len. */
static int
srv_format_of(const char *path, size_t *stem_len)
{
	size_t len = strlen(path);

	for (int f = 0; f < (int)(sizeof srv_formats / sizeof srv_formats[0]); f++) {
		size_t ext = strlen(srv_formats[f].ext);

		if (len > ext && strcmp(path + len - ext, srv_formats[f].ext) == 0) {
			*stem_len = len - ext;
			return f;
		}
	}
	return -1;
}

/* The request as a view; on failure the reply (404 or 400) has been sent. */
static int
srv_parse_view(struct srv *srv, struct evhttp_request *req, bool output, struct srv_view *v)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = evhttp_uri_get_path(uri), *why = NULL;
	size_t stem;
	int fmt = srv_format_of(path, &stem);

	memset(v, 0, sizeof *v);
	TAILQ_INIT(&v->params);
	if (fmt < 0) {
		srv_send_text(req, HTTP_NOTFOUND, "Not Found", "not found");
		return -1;
	}
	v->fmt = (enum srv_format)fmt;
	v->path = xstrdup(path);
	if (output) {
		for (size_t i = 0; i < srv->conf->noutputs; i++) {
			const char *name = srv->conf->outputs[i].name;

			if (strlen(name) == stem - 9 && strncmp(path + 9, name, stem - 9) == 0)
				v->output = &srv->conf->outputs[i];
		}
		if (v->output == NULL) {
			srv_send_text(req, HTTP_NOTFOUND, "Not Found", "no output has that name");
			return -1;
		}
		srv_view_output_feeds(srv->conf, v->output, v);
		v->filtered = true;
	}
	if (srv_parse_params(srv->conf, evhttp_uri_get_query(uri), v, &why) != 0) {
		srv_send_text(req, HTTP_BADREQUEST, "Bad Request", why);
		return -1;
	}
	/* An output whose tags match no feed shows nothing, not everything. */
	if (v->nfeeds == 0 && v->output != NULL && v->output->nfeeds + v->output->ntags > 0)
		srv_view_add_feed(v, "");
	if (v->nfeeds > 0) {
		v->q.feeds = v->feeds;
		v->q.nfeeds = v->nfeeds;
	}
	v->q.words = (const char *const *)v->words;
	v->q.nwords = v->nwords;
	if (v->output != NULL) {
		v->q.include = (const char *const *)v->output->include;
		v->q.ninclude = v->output->ninclude;
		v->q.exclude = (const char *const *)v->output->exclude;
		v->q.nexclude = v->output->nexclude;
	}
	return 0;
}

/* The view's URL with `before` set to `cursor` (or dropped when NULL). */
static char *
srv_page_url(struct evhttp_request *req, const struct srv_view *v, const char *cursor)
{
	struct buf b;
	const struct evkeyval *kv;
	char *url;

	buf_init(&b, 0);
	buf_adds(&b, v->path);
	TAILQ_FOREACH(kv, &v->params, next) {
		char *k, *val;

		if (strcmp(kv->key, "before") == 0)
			continue;
		k = evhttp_uriencode(kv->key, -1, 0);
		val = evhttp_uriencode(kv->value, -1, 0);
		buf_addf(&b, "%c%s=%s", b.len == strlen(v->path) ? '?' : '&', k, val);
		free(k);
		free(val);
	}
	if (cursor != NULL)
		buf_addf(&b, "%cbefore=%s", b.len == strlen(v->path) ? '?' : '&', cursor);
	url = srv_self_url(req, b.data);
	buf_free(&b);
	return url;
}

/* The feed's id: the store's for the whole merged feed, one per filtered view. */
static char *
srv_feed_id(struct srv *srv, struct evhttp_request *req, const struct srv_view *v)
{
	const char *parts[2];
	struct buf id;
	char *first;

	if (!v->filtered)
		return xasprintf("urn:uuid:%s", store_instance_id(srv->store));
	first = srv_page_url(req, v, NULL);
	/* The host a client used does not make another feed: hash the path and query only. */
	parts[0] = store_instance_id(srv->store);
	parts[1] = strchr(first + 7, '/');
	buf_init(&id, 0);
	render_hash_urn(parts, 2, &id);
	free(first);
	return buf_steal(&id);
}

/* A gzip member of `b`, or NULL if zlib fails. */
static struct srv_body *
srv_gzip(const struct srv_body *b)
{
	z_stream z;
	uLong bound;
	struct srv_body *out;

	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	bound = deflateBound(&z, (uLong)b->len) + 32;
	out = xmalloc(sizeof *out + bound);
	out->refs = 1;
	z.next_in = (Bytef *)b->data; /* zlib 1.2.13 without ZLIB_CONST: it does not write there */
	z.avail_in = (uInt)b->len;
	z.next_out = (Bytef *)out->data;
	z.avail_out = (uInt)bound;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	out->len = z.total_out;
	deflateEnd(&z);
	return out;
}

static void
srv_cache_clear_entry(struct srv_cache_entry *e)
{
	free(e->key);
	srv_body_unref(e->body);
	srv_body_unref(e->gzip);
	memset(e, 0, sizeof *e);
}

void
srv_cache_free(struct srv *srv)
{
	for (int i = 0; i < SRV_CACHE_SLOTS; i++)
		srv_cache_clear_entry(&srv->cache[i]);
}

/* The cached answer to `key` if the store has not changed since, else NULL. */
static struct srv_cache_entry *
srv_cache_find(struct srv *srv, const char *key)
{
	uint64_t gen = store_generation(srv->store);

	for (int i = 0; i < SRV_CACHE_SLOTS; i++) {
		struct srv_cache_entry *e = &srv->cache[i];

		if (e->key != NULL && e->generation == gen && strcmp(e->key, key) == 0) {
			e->last_used = ++srv->cache_clock;
			return e;
		}
	}
	return NULL;
}

/* A slot for a new answer: an empty or stale one, else the least recently used. */
static struct srv_cache_entry *
srv_cache_slot(struct srv *srv)
{
	uint64_t gen = store_generation(srv->store);
	struct srv_cache_entry *victim = &srv->cache[0];

	for (int i = 0; i < SRV_CACHE_SLOTS; i++) {
		struct srv_cache_entry *e = &srv->cache[i];

		if (e->key == NULL || e->generation != gen) {
			victim = e;
			break;
		}
		if (e->last_used < victim->last_used)
			victim = e;
	}
	srv_cache_clear_entry(victim);
	return victim;
}

static void
srv_etag(const struct srv_body *b, char *out, size_t outlen)
{
	const char *parts[1] = {b->data}; /* rendered text: NUL-terminated, with no NUL inside */
	char hex[33];

	hash_hex(parts, 1, hex);
	snprintf(out, outlen, "\"%.24s\"", hex);
}

/* Query and render `v` into a new cache entry; on failure the reply has been sent. */
static struct srv_cache_entry *
srv_render(struct srv *srv, struct evhttp_request *req, const struct srv_view *v,
    const char *key)
{
	struct stored_item *items = NULL;
	struct render_feed meta = {0};
	struct srv_cache_entry *e;
	struct buf out;
	char *self, *next = NULL, *first = NULL, *id, title[160];
	size_t n = 0;
	int rc = store_query_items(srv->store, &v->q, &items, &n);

	if (rc != 0) {
		if (rc == STORE_ETIMEOUT)
			srv_send_text(req, HTTP_SERVUNAVAIL, "Service Unavailable",
			    "the query took too long: narrow it (fewer or longer words, a feed, since)");
		else
			srv_send_text(req, HTTP_INTERNAL, "Internal Server Error", "database error");
		return NULL;
	}
	self = srv_self_url(req, evhttp_request_get_uri(req));
	if (n == v->q.limit && n > 0) {
		char cursor[48];

		snprintf(cursor, sizeof cursor, "%lld-%lld", (long long)items[n - 1].sort_time,
		    (long long)items[n - 1].rowid);
		next = srv_page_url(req, v, cursor);
	}
	if (v->q.before_id > 0)
		first = srv_page_url(req, v, NULL);
	id = srv_feed_id(srv, req, v);
	snprintf(title, sizeof title, "feedmux%s%s", v->output != NULL ? ": " : "",
	    v->output != NULL ? v->output->name : "");
	meta.title = title;
	meta.id = id;
	meta.self_url = self;
	meta.next_url = next;
	meta.first_url = first;
	meta.version = FEEDMUX_VERSION;
	meta.updated = n > 0 ? 0 : store_last_change(srv->store);
	buf_init(&out, 0);
	if (v->fmt == FMT_ATOM)
		render_atom(&out, &meta, items, n);
	else if (v->fmt == FMT_RSS)
		render_rss(&out, &meta, items, n);
	else
		render_json(&out, &meta, items, n);
	srv->renders++;
	e = srv_cache_slot(srv);
	e->key = xstrdup(key);
	e->generation = store_generation(srv->store);
	e->last_used = ++srv->cache_clock;
	e->type = srv_formats[v->fmt].type;
	e->body = srv_body_new(out.data != NULL ? out.data : "", out.len);
	e->last_modified = store_last_change(srv->store);
	srv_etag(e->body, e->etag, sizeof e->etag);
	buf_free(&out);
	free(self), free(next), free(first), free(id);
	store_items_free(items, n);
	return e;
}

/* Does the client take gzip (Accept-Encoding names it without q=0)? */
static bool
srv_accepts_gzip(struct evhttp_request *req)
{
	const char *ae = evhttp_find_header(evhttp_request_get_input_headers(req), "Accept-Encoding");

	while (ae != NULL && *ae != '\0') {
		size_t len = strcspn(ae, ",");
		size_t tok = strcspn(ae, ",; \t");
		const char *q = memchr(ae, ';', len);

		if ((tok == 4 && strncasecmp(ae, "gzip", 4) == 0) ||
		    (tok == 6 && strncasecmp(ae, "x-gzip", 6) == 0)) {
			/* "gzip;q=0" refuses it; any other q (or none) takes it. */
			if (q == NULL)
				return true;
			q += strspn(q + 1, " \t") + 1;
			return !(strncasecmp(q, "q=0", 3) == 0 &&
			    (q[3] == '\0' || q[3] == ',' || (q[3] == '.' && strspn(q + 4, "0") ==
				strcspn(q + 4, ",; \t"))));
		}
		ae += len;
		ae += strspn(ae, ", \t");
	}
	return false;
}

/* If-None-Match: does any tag in the list match `etag` (weakly, as RFC 9110 says)? */
static bool
srv_etag_matches(const char *inm, const char *etag)
{
	size_t elen = strlen(etag);

	while (inm != NULL && *inm != '\0') {
		size_t len;

		inm += strspn(inm, ", \t");
		if (*inm == '*')
			return true;
		if (strncmp(inm, "W/", 2) == 0)
			inm += 2;
		len = strcspn(inm, ", \t");
		if (len == elen && strncmp(inm, etag, elen) == 0)
			return true;
		inm += len;
	}
	return false;
}

static bool
srv_not_modified(struct evhttp_request *req, const char *etag, time_t last_modified)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *inm = evhttp_find_header(in, "If-None-Match");
	const char *ims = evhttp_find_header(in, "If-Modified-Since");
	time_t t;

	if (inm != NULL)
		return srv_etag_matches(inm, etag);
	return ims != NULL && (t = date_parse(ims)) > 0 && last_modified <= t;
}

static void
srv_reply_from_cache(struct evhttp_request *req, struct srv_cache_entry *e)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	bool gz = e->body->len >= SRV_GZIP_MIN && srv_accepts_gzip(req);
	struct srv_body *body = e->body;
	const char *etag = e->etag;
	struct evbuffer *evb;
	char date[40];

	if (gz && e->gzip == NULL && (e->gzip = srv_gzip(e->body)) != NULL) {
		char *tag = xstrndup(e->etag, strlen(e->etag) - 1);

		snprintf(e->gzip_etag, sizeof e->gzip_etag, "%s-gz\"", tag);
		free(tag);
	}
	if (gz && e->gzip != NULL) {
		body = e->gzip;
		etag = e->gzip_etag;
		evhttp_add_header(out, "Content-Encoding", "gzip");
	}
	render_rfc822_date(e->last_modified, date);
	evhttp_add_header(out, "Content-Type", e->type);
	evhttp_add_header(out, "ETag", etag);
	evhttp_add_header(out, "Last-Modified", date);
	evhttp_add_header(out, "Vary", "Accept-Encoding");
	evhttp_add_header(out, "Cache-Control", "no-cache");
	if (srv_not_modified(req, etag, e->last_modified)) {
		evhttp_remove_header(out, "Content-Encoding");
		evhttp_send_reply(req, HTTP_NOTMODIFIED, "Not Modified", NULL);
		return;
	}
	if ((evb = evbuffer_new()) == NULL)
		fatalx("evbuffer_new failed");
	body->refs++;
	if (evbuffer_add_reference(evb, body->data, body->len, srv_body_sent, body) != 0)
		fatalx("evbuffer_add_reference failed");
	evhttp_send_reply(req, HTTP_OK, "OK", evb);
	evbuffer_free(evb);
}

/* A view of the merged feed or of a named output, from the cache when it can be. */
static void
srv_route_view(struct srv *srv, struct evhttp_request *req, bool output)
{
	/* The Host the client used is in the links we write: it is part of the key. */
	char *key = srv_self_url(req, evhttp_request_get_uri(req));
	struct srv_cache_entry *e;
	struct srv_view v;

	if ((e = srv_cache_find(srv, key)) == NULL) {
		if (srv_parse_view(srv, req, output, &v) != 0) {
			srv_view_clear(&v);
			free(key);
			return;
		}
		e = srv_render(srv, req, &v, key);
		srv_view_clear(&v);
		if (e != NULL && e->body->len > SRV_CACHE_MAX_BODY) {
			/* Too big to keep: answer from it once, then let the slot go. */
			srv_reply_from_cache(req, e);
			srv_cache_clear_entry(e);
			e = NULL;
		} else if (e != NULL)
			srv_reply_from_cache(req, e);
		free(key);
		return;
	}
	srv_reply_from_cache(req, e);
	free(key);
}

void
srv_route_feed(struct srv *srv, struct evhttp_request *req)
{
	srv_route_view(srv, req, false);
}

void
srv_route_output(struct srv *srv, struct evhttp_request *req)
{
	srv_route_view(srv, req, true);
}
