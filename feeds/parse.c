/*
 * parse.c: RSS and Atom through libxml2's SAX2 push parser.
 *
 * The parser keeps a stack of the open elements (namespace and local name),
 * the xml:base in force, and the item being built.  Text is collected only
 * for the elements we map to a field, into one capped buffer; when the field
 * ends the text is cleaned (invalid UTF-8 and characters XML forbids become
 * U+FFFD) and stored.  An item is handed to the callback at its end tag.
 *
 * Safety: no entity substitution, no DTD loading, no network, and an
 * external entity loader that refuses everything (parse_init).  Our SAX
 * handler table has no entityDecl, so entities a document declares are never
 * expanded at all.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "feeds/date.h"
#include "feeds/parse.h"
#include "feeds/text.h"
#include "feeds/url.h"
#include "util/util.h"

#define NS_ATOM	   "http://www.w3.org/2005/Atom"
#define NS_RSS10   "http://purl.org/rss/1.0/"
#define NS_RSS090  "http://my.netscape.com/rdf/simple/0.9/"
#define NS_RDF	   "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define NS_CONTENT "http://purl.org/rss/1.0/modules/content/"
#define NS_DC	   "http://purl.org/dc/elements/1.1/"
#define NS_XHTML   "http://www.w3.org/1999/xhtml"
#define NS_XML	   "http://www.w3.org/XML/1998/namespace"
#define NS_SY	   "http://purl.org/rss/1.0/modules/syndication/"

#define PARSE_MAX_DEPTH 256 /* libxml2 stops at this depth itself */
#define PARSE_MAX_URL	8192 /* longer href and xml:base values are cut */

enum ns {
	NS_OTHER,
	NS_RSS, /* no namespace, or RSS 0.90 / 1.0 */
	NS_ATOM_10,
	NS_RDF_,
	NS_CONTENT_,
	NS_DC_,
	NS_XHTML_,
	NS_SY_,
};

enum field {
	F_NONE,
	F_TITLE,
	F_LINK,
	F_ID,
	F_PUBLISHED,
	F_UPDATED,
	F_SUMMARY,
	F_CONTENT,
	F_AUTHOR,
	F_FEED_TITLE,
	F_FEED_LINK,
	F_FEED_ID,
	F_FEED_UPDATED,
	F_FEED_TTL,
	F_FEED_SKIP_HOUR,
	F_FEED_SKIP_DAY,
	F_FEED_SY_PERIOD,
	F_FEED_SY_FREQUENCY,
};

/* Where an element may be mapped: as a child of an item, or of the feed itself. */
enum scope {
	IN_ITEM,
	IN_ITEM_AUTHOR, /* atom:entry/atom:author/... */
	IN_FEED,
	IN_FEED_SKIP, /* rss/channel/skipHours/hour, rss/channel/skipDays/day */
};

struct field_map {
	enum ns ns;
	const char *name;
	enum scope scope;
	enum field field;
};

/* Sorted by nothing but reading order: it is short, and looked up once per element. */
static const struct field_map field_maps[] = {
	{NS_RSS, "title", IN_ITEM, F_TITLE},
	{NS_RSS, "link", IN_ITEM, F_LINK},
	{NS_RSS, "guid", IN_ITEM, F_ID},
	{NS_RSS, "description", IN_ITEM, F_SUMMARY},
	{NS_RSS, "pubDate", IN_ITEM, F_PUBLISHED},
	{NS_RSS, "author", IN_ITEM, F_AUTHOR},
	{NS_CONTENT_, "encoded", IN_ITEM, F_CONTENT},
	{NS_DC_, "date", IN_ITEM, F_PUBLISHED},
	{NS_DC_, "creator", IN_ITEM, F_AUTHOR},
	{NS_ATOM_10, "title", IN_ITEM, F_TITLE},
	{NS_ATOM_10, "id", IN_ITEM, F_ID},
	{NS_ATOM_10, "published", IN_ITEM, F_PUBLISHED},
	{NS_ATOM_10, "updated", IN_ITEM, F_UPDATED},
	{NS_ATOM_10, "summary", IN_ITEM, F_SUMMARY},
	{NS_ATOM_10, "content", IN_ITEM, F_CONTENT},
	{NS_ATOM_10, "name", IN_ITEM_AUTHOR, F_AUTHOR},
	{NS_RSS, "title", IN_FEED, F_FEED_TITLE},
	{NS_RSS, "link", IN_FEED, F_FEED_LINK},
	{NS_ATOM_10, "title", IN_FEED, F_FEED_TITLE},
	{NS_ATOM_10, "id", IN_FEED, F_FEED_ID},
	{NS_ATOM_10, "updated", IN_FEED, F_FEED_UPDATED},
	{NS_RSS, "ttl", IN_FEED, F_FEED_TTL},
	{NS_SY_, "updatePeriod", IN_FEED, F_FEED_SY_PERIOD},
	{NS_SY_, "updateFrequency", IN_FEED, F_FEED_SY_FREQUENCY},
	{NS_RSS, "hour", IN_FEED_SKIP, F_FEED_SKIP_HOUR},
	{NS_RSS, "day", IN_FEED_SKIP, F_FEED_SKIP_DAY},
};

struct frame {
	enum ns ns;
	const char *name; /* interned in the parser's dictionary */
	bool pushed_base; /* this element set xml:base */
};

struct parser {
	xmlParserCtxtPtr ctxt;
	char head[4]; /* the first bytes, held until libxml2 can detect the encoding */
	size_t nhead;
	bool finished;

	parse_item_cb cb;
	void *arg;
	char *doc_url;

	enum parse_dialect dialect;
	struct feed_info info;
	size_t nitems;
	bool illformed;
	char *error;

	int depth; /* of the innermost open element; the root is 1 */
	struct frame stack[PARSE_MAX_DEPTH + 1];
	char **bases; /* xml:base values in force, innermost last */
	size_t nbases;

	struct item *item;
	int item_depth;
	bool guid_permalink;
	unsigned sy_period;    /* sy:updatePeriod in seconds, combined at the end */
	unsigned sy_frequency; /* sy:updateFrequency */

	enum field field; /* being captured, with its text in `text` */
	int field_depth;
	enum text_type field_type;
	bool markup;	     /* serialising child elements (Atom xhtml) */
	int xhtml_div_depth; /* the wrapper div we leave out, or 0 */
	struct buf text;
};

static enum ns
parse_ns(const xmlChar *uri)
{
	const char *u = (const char *)uri;

	if (u == NULL || strcmp(u, NS_RSS10) == 0 || strcmp(u, NS_RSS090) == 0)
		return NS_RSS;
	if (strcmp(u, NS_ATOM) == 0)
		return NS_ATOM_10;
	if (strcmp(u, NS_RDF) == 0)
		return NS_RDF_;
	if (strcmp(u, NS_CONTENT) == 0)
		return NS_CONTENT_;
	if (strcmp(u, NS_DC) == 0)
		return NS_DC_;
	if (strcmp(u, NS_XHTML) == 0)
		return NS_XHTML_;
	if (strcmp(u, NS_SY) == 0)
		return NS_SY_;
	return NS_OTHER;
}

static void
parse_set_error(struct parser *p, int line, const char *fmt, ...) PRINTFLIKE(3, 4);

static void
parse_set_error(struct parser *p, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (p->error != NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	p->error = line > 0 ? xasprintf("line %d: %s", line, msg) : xstrdup(msg);
}

static const char *
parse_base(const struct parser *p)
{
	return p->nbases > 0 ? p->bases[p->nbases - 1] : p->doc_url;
}

static const char *
parse_attr(const xmlChar **attrs, int nattrs, const char *uri, const char *name, char *out,
    size_t outlen)
{
	for (int i = 0; i < nattrs; i++) {
		const xmlChar **a = attrs + (ptrdiff_t)i * 5; /* localname, prefix, URI, value, end */
		const char *auri = (const char *)a[2];

		if (strcmp((const char *)a[0], name) != 0)
			continue;
		if ((uri == NULL) != (auri == NULL) || (uri != NULL && strcmp(uri, auri) != 0))
			continue;
		snprintf(out, outlen, "%.*s", (int)(a[4] - a[3]), (const char *)a[3]);
		return out;
	}
	return NULL;
}

/* The Atom type attribute of a text construct (or a MIME type, for atom:content). */
static enum text_type
parse_text_type(const char *type, enum text_type dflt)
{
	if (type == NULL)
		return dflt;
	if (strcasecmp(type, "html") == 0 || strcasecmp(type, "text/html") == 0)
		return TEXT_HTML;
	if (strcasecmp(type, "xhtml") == 0 || strcasecmp(type, "application/xhtml+xml") == 0)
		return TEXT_XHTML;
	return TEXT_PLAIN;
}

/* Append at most what the cap allows, so an oversized field is cut rather than lost. */
static void
parse_text_add(struct parser *p, const char *s, size_t len)
{
	size_t room = p->text.cap - p->text.len;

	buf_add(&p->text, s, len < room ? len : room);
}

static void
parse_text_add_escaped(struct parser *p, const char *s, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		const char *rep = s[i] == '&' ? "&amp;" : s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;" :
		    s[i] == '"' ? "&quot;" : NULL;

		if (rep == NULL)
			continue;
		parse_text_add(p, s + start, i - start);
		parse_text_add(p, rep, strlen(rep));
		start = i + 1;
	}
	parse_text_add(p, s + start, len - start);
}

static const struct field_map *
parse_lookup(enum ns ns, const char *name, enum scope scope)
{
	for (size_t i = 0; i < sizeof field_maps / sizeof field_maps[0]; i++)
		if (field_maps[i].ns == ns && field_maps[i].scope == scope &&
		    strcmp(field_maps[i].name, name) == 0)
			return &field_maps[i];
	return NULL;
}

/* Which scope a new element at p->depth falls into, or -1 for none we map. */
static int
parse_scope(const struct parser *p)
{
	if (p->item != NULL) {
		if (p->depth == p->item_depth + 1)
			return IN_ITEM;
		if (p->depth == p->item_depth + 2 && p->stack[p->depth - 1].ns == NS_ATOM_10 &&
		    strcmp(p->stack[p->depth - 1].name, "author") == 0)
			return IN_ITEM_AUTHOR;
		return -1;
	}
	/* rss/channel/title, rdf:RDF/channel/title, atom:feed/atom:title */
	if (p->dialect == DIALECT_ATOM && p->depth == 2)
		return IN_FEED;
	if ((p->dialect == DIALECT_RSS || p->dialect == DIALECT_RDF) && p->depth == 3 &&
	    strcmp(p->stack[2].name, "channel") == 0)
		return IN_FEED;
	if (p->dialect == DIALECT_RSS && p->depth == 4 && strcmp(p->stack[2].name, "channel") == 0 &&
	    (strcmp(p->stack[3].name, "skipHours") == 0 || strcmp(p->stack[3].name, "skipDays") == 0))
		return IN_FEED_SKIP;
	return -1;
}

static void
parse_root(struct parser *p, enum ns ns, const char *name)
{
	if (ns == NS_RSS && strcmp(name, "rss") == 0)
		p->dialect = DIALECT_RSS;
	else if (ns == NS_RDF_ && strcmp(name, "RDF") == 0)
		p->dialect = DIALECT_RDF;
	else if (ns == NS_ATOM_10 && strcmp(name, "feed") == 0)
		p->dialect = DIALECT_ATOM;
	else {
		parse_set_error(p, xmlSAX2GetLineNumber(p->ctxt), "not a feed: the root element is <%s>",
		    name);
		xmlStopParser(p->ctxt);
	}
}

static bool
parse_is_item(const struct parser *p, enum ns ns, const char *name)
{
	if (p->dialect == DIALECT_ATOM)
		return ns == NS_ATOM_10 && strcmp(name, "entry") == 0;
	return ns == NS_RSS && strcmp(name, "item") == 0;
}

/* An Atom link: the first alternate one is the item's (or the feed's) link. */
static void
parse_atom_link(struct parser *p, const xmlChar **attrs, int nattrs)
{
	char rel[64], href[PARSE_MAX_URL];
	char **slot = p->item != NULL ? &p->item->link : &p->info.link;
	bool has_rel = parse_attr(attrs, nattrs, NULL, "rel", rel, sizeof rel) != NULL;

	if (parse_attr(attrs, nattrs, NULL, "href", href, sizeof href) == NULL)
		return;
	if (p->item == NULL && has_rel && strcmp(rel, "hub") == 0) {
		if (p->info.hub == NULL)
			p->info.hub = url_resolve(parse_base(p), href);
		return;
	}
	/* An RSS channel's own link is <link>; an atom:link there is self or hub. */
	if (*slot != NULL || (p->item == NULL && p->dialect != DIALECT_ATOM))
		return;
	if (has_rel && strcmp(rel, "alternate") != 0 &&
	    strcmp(rel, "http://www.iana.org/assignments/relation/alternate") != 0)
		return;
	*slot = url_resolve(parse_base(p), href);
}

static void
parse_begin_field(struct parser *p, enum field field, const xmlChar **attrs, int nattrs)
{
	char type[64];
	const char *t = parse_attr(attrs, nattrs, NULL, "type", type, sizeof type);

	p->field = field;
	p->field_depth = p->depth;
	p->markup = false;
	p->xhtml_div_depth = 0;
	buf_reset(&p->text);
	p->text.cap = field == F_SUMMARY || field == F_CONTENT ? PARSE_MAX_CONTENT : PARSE_MAX_TEXT;
	if (p->dialect == DIALECT_ATOM)
		p->field_type = parse_text_type(t, TEXT_PLAIN);
	else
		p->field_type = field == F_SUMMARY || field == F_CONTENT ? TEXT_HTML : TEXT_PLAIN;
	p->markup = p->field_type == TEXT_XHTML;
	if (field == F_ID && p->dialect != DIALECT_ATOM) {
		char perma[16];

		p->guid_permalink = parse_attr(attrs, nattrs, NULL, "isPermaLink", perma,
		    sizeof perma) == NULL || strcasecmp(perma, "false") != 0;
	}
}

/* Serialise a start tag inside xhtml content; the wrapping xhtml:div is left out. */
static void
parse_markup_start(struct parser *p, enum ns ns, const char *name, const xmlChar **attrs,
    int nattrs)
{
	if (p->depth == p->field_depth + 1 && ns == NS_XHTML_ && strcmp(name, "div") == 0 &&
	    p->xhtml_div_depth == 0) {
		p->xhtml_div_depth = p->depth;
		return;
	}
	parse_text_add(p, "<", 1);
	parse_text_add(p, name, strlen(name));
	for (int i = 0; i < nattrs; i++) {
		const xmlChar **a = attrs + (ptrdiff_t)i * 5;

		parse_text_add(p, " ", 1);
		parse_text_add(p, (const char *)a[0], strlen((const char *)a[0]));
		parse_text_add(p, "=\"", 2);
		parse_text_add_escaped(p, (const char *)a[3], (size_t)(a[4] - a[3]));
		parse_text_add(p, "\"", 1);
	}
	parse_text_add(p, ">", 1);
}

static void
parse_push_base(struct parser *p, const xmlChar **attrs, int nattrs)
{
	char base[PARSE_MAX_URL];
	char *resolved;

	if (parse_attr(attrs, nattrs, NS_XML, "base", base, sizeof base) == NULL)
		return;
	if ((resolved = url_resolve(parse_base(p), base)) == NULL)
		return;
	p->bases = xreallocarray(p->bases, p->nbases + 1, sizeof *p->bases);
	p->bases[p->nbases++] = resolved;
	p->stack[p->depth].pushed_base = true;
}

static void
parse_on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
    int nns, const xmlChar **nss, int nattrs, int ndefaulted, const xmlChar **attrs)
{
	struct parser *p = ctx;
	enum ns ns = parse_ns(uri);
	const char *name = (const char *)localname;
	const struct field_map *map;
	int scope;

	(void)prefix, (void)nns, (void)nss, (void)ndefaulted;
	if (++p->depth > PARSE_MAX_DEPTH)
		return;
	p->stack[p->depth] = (struct frame){ns, name, false};
	if (p->depth == 1)
		parse_root(p, ns, name);
	parse_push_base(p, attrs, nattrs);

	if (p->field != F_NONE) {
		if (p->markup)
			parse_markup_start(p, ns, name, attrs, nattrs);
		return;
	}
	if (p->item == NULL && parse_is_item(p, ns, name)) {
		p->item = xcalloc(1, sizeof *p->item);
		p->item_depth = p->depth;
		p->guid_permalink = false;
		return;
	}
	if ((scope = parse_scope(p)) < 0)
		return;
	if (ns == NS_ATOM_10 && strcmp(name, "link") == 0) {
		if (scope != IN_ITEM_AUTHOR)
			parse_atom_link(p, attrs, nattrs);
		return;
	}
	if ((map = parse_lookup(ns, name, (enum scope)scope)) != NULL)
		parse_begin_field(p, map->field, attrs, nattrs);
}

/* The captured text, cleaned, as a new string; NULL when empty. */
static char *
parse_take_text(struct parser *p, bool collapse)
{
	struct buf clean;

	buf_init(&clean, 0);
	text_append_clean(&clean, p->text.data != NULL ? p->text.data : "", p->text.len);
	buf_reset(&p->text);
	if (collapse)
		text_collapse_ws(clean.data != NULL ? clean.data : "");
	if (clean.len == 0 || clean.data == NULL || clean.data[0] == '\0') {
		buf_free(&clean);
		return NULL;
	}
	return buf_steal(&clean);
}

static void
parse_set(char **slot, char *value)
{
	if (*slot == NULL)
		*slot = value;
	else
		free(value);
}

static void
parse_set_date(time_t *slot, char *value)
{
	time_t t = value != NULL ? date_parse(value) : -1;

	if (t > 0 && *slot == 0)
		*slot = t;
	free(value);
}

/* A small non-negative number, or -1. */
static long
parse_number(const char *text, long max)
{
	char *end;
	long n;

	if (text == NULL || *text < '0' || *text > '9')
		return -1;
	n = strtol(text, &end, 10);
	return *end == '\0' && n <= max ? n : -1;
}

static unsigned
parse_sy_period(const char *text)
{
	static const struct {
		const char *name;
		unsigned secs;
	} periods[] = {{"hourly", 3600}, {"daily", 86400}, {"weekly", 7 * 86400},
		{"monthly", 30 * 86400}, {"yearly", 365 * 86400}};

	for (size_t i = 0; text != NULL && i < sizeof periods / sizeof periods[0]; i++)
		if (strcasecmp(text, periods[i].name) == 0)
			return periods[i].secs;
	return 0;
}

/* The polling hints of RSS: ttl, skipHours, skipDays, sy:updatePeriod/Frequency. */
static void
parse_end_hint(struct parser *p, enum field f, char *text)
{
	static const char *const days[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday",
		"Friday", "Saturday"};
	long n;

	switch (f) {
	case F_FEED_TTL:
		if ((n = parse_number(text, 365L * 24 * 60)) > 0)
			p->info.ttl = (unsigned)n * 60;
		break;
	case F_FEED_SKIP_HOUR:
		/* 0-23; some feeds write 24 for midnight */
		if ((n = parse_number(text, 24)) >= 0)
			p->info.skip_hours |= 1U << (n % 24);
		break;
	case F_FEED_SKIP_DAY:
		for (unsigned d = 0; text != NULL && d < 7; d++)
			if (strcasecmp(text, days[d]) == 0)
				p->info.skip_days |= (uint8_t)(1U << d);
		break;
	case F_FEED_SY_PERIOD: p->sy_period = parse_sy_period(text); break;
	case F_FEED_SY_FREQUENCY:
		if ((n = parse_number(text, 1000000)) > 0)
			p->sy_frequency = (unsigned)n;
		break;
	default: break;
	}
	free(text);
}

static void
parse_end_field(struct parser *p)
{
	struct item *it = p->item;
	enum field f = p->field;
	bool plain = f != F_SUMMARY && f != F_CONTENT;
	char *text = parse_take_text(p, plain);

	p->field = F_NONE;
	switch (f) {
	case F_TITLE: parse_set(&it->title, text); break;
	case F_ID: parse_set(&it->id, text); break;
	case F_AUTHOR: parse_set(&it->author, text); break;
	case F_LINK:
		parse_set(&it->link, text != NULL ? url_resolve(parse_base(p), text) : NULL);
		free(text);
		break;
	case F_PUBLISHED: parse_set_date(&it->published, text); break;
	case F_UPDATED: parse_set_date(&it->updated, text); break;
	case F_SUMMARY:
		if (it->summary == NULL)
			it->summary_type = p->field_type;
		parse_set(&it->summary, text);
		break;
	case F_CONTENT:
		if (it->content == NULL)
			it->content_type = p->field_type;
		parse_set(&it->content, text);
		break;
	case F_FEED_TITLE: parse_set(&p->info.title, text); break;
	case F_FEED_ID: parse_set(&p->info.id, text); break;
	case F_FEED_UPDATED: parse_set_date(&p->info.updated, text); break;
	case F_FEED_LINK:
		parse_set(&p->info.link, text != NULL ? url_resolve(parse_base(p), text) : NULL);
		free(text);
		break;
	case F_FEED_TTL:
	case F_FEED_SKIP_HOUR:
	case F_FEED_SKIP_DAY:
	case F_FEED_SY_PERIOD:
	case F_FEED_SY_FREQUENCY: parse_end_hint(p, f, text); break;
	case F_NONE: free(text); break;
	}
}

static void
parse_end_item(struct parser *p)
{
	struct item *it = p->item;

	p->item = NULL;
	p->item_depth = 0;
	if (p->dialect != DIALECT_ATOM)
		it->id_is_permalink = it->id != NULL && p->guid_permalink;
	/* RSS: a guid that is a permalink stands in for a missing link. */
	if (it->link == NULL && it->id != NULL && p->guid_permalink && p->dialect != DIALECT_ATOM)
		it->link = url_resolve(parse_base(p), it->id);
	p->nitems++;
	p->cb(p->arg, it);
}

static void
parse_on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
	struct parser *p = ctx;

	(void)prefix, (void)uri;
	if (p->depth > PARSE_MAX_DEPTH) {
		p->depth--;
		return;
	}
	if (p->field != F_NONE && p->depth == p->field_depth)
		parse_end_field(p);
	else if (p->field != F_NONE && p->markup && p->depth != p->xhtml_div_depth) {
		parse_text_add(p, "</", 2);
		parse_text_add(p, (const char *)localname, strlen((const char *)localname));
		parse_text_add(p, ">", 1);
	} else if (p->item != NULL && p->depth == p->item_depth)
		parse_end_item(p);
	if (p->stack[p->depth].pushed_base)
		free(p->bases[--p->nbases]);
	p->depth--;
}

static void
parse_on_characters(void *ctx, const xmlChar *ch, int len)
{
	struct parser *p = ctx;

	if (p->field == F_NONE || len <= 0)
		return;
	if (p->markup)
		parse_text_add_escaped(p, (const char *)ch, (size_t)len);
	else
		parse_text_add(p, (const char *)ch, (size_t)len);
}

static void
parse_on_error(void *ctx, xmlErrorPtr err)
{
	struct parser *p = ctx;
	char msg[200];
	size_t len;

	if (err == NULL || err->level == XML_ERR_WARNING)
		return;
	p->illformed = true;
	snprintf(msg, sizeof msg, "%s", err->message != NULL ? err->message : "parse error");
	len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		msg[--len] = '\0';
	parse_set_error(p, err->line, "%s", msg);
}

static xmlParserInputPtr
parse_refuse_entity(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url, (void)id, (void)ctxt;
	return NULL;
}

void
parse_init(void)
{
	xmlInitParser();
	xmlSetExternalEntityLoader(parse_refuse_entity);
}

static xmlSAXHandler parse_sax = {
	.initialized = XML_SAX2_MAGIC,
	.startElementNs = parse_on_start,
	.endElementNs = parse_on_end,
	.characters = parse_on_characters,
	.cdataBlock = parse_on_characters,
	.serror = parse_on_error,
};

struct parser *
parse_new(const char *doc_url, const char *content_type, parse_item_cb cb, void *arg)
{
	struct parser *p = xcalloc(1, sizeof *p);

	(void)content_type; /* the charset it may name is not used yet */
	p->cb = cb;
	p->arg = arg;
	p->doc_url = doc_url != NULL ? xstrdup(doc_url) : NULL;
	buf_init(&p->text, PARSE_MAX_TEXT);
	return p;
}

static int
parse_create(struct parser *p)
{
	p->ctxt = xmlCreatePushParserCtxt(&parse_sax, p, p->head, (int)p->nhead, p->doc_url);
	if (p->ctxt == NULL)
		fatalx("xmlCreatePushParserCtxt: out of memory");
	xmlCtxtUseOptions(p->ctxt, XML_PARSE_RECOVER | XML_PARSE_NONET | XML_PARSE_NOCDATA);
	return 0;
}

int
parse_push(struct parser *p, const char *data, size_t len)
{
	if (p->finished)
		return -1;
	/* libxml2 needs 4 bytes to see a byte order mark or "<?xm". */
	while (p->ctxt == NULL && len > 0 && p->nhead < sizeof p->head) {
		p->head[p->nhead++] = *data++;
		len--;
	}
	if (p->ctxt == NULL) {
		if (p->nhead < sizeof p->head)
			return 0;
		parse_create(p);
	}
	while (len > 0) {
		int n = len > INT32_MAX ? INT32_MAX : (int)len;

		xmlParseChunk(p->ctxt, data, n, 0);
		data += n;
		len -= (size_t)n;
	}
	return p->ctxt->disableSAX ? -1 : 0;
}

int
parse_finish(struct parser *p)
{
	if (p->finished)
		return p->dialect == DIALECT_UNKNOWN ? -1 : 0;
	p->finished = true;
	if (p->ctxt == NULL) {
		if (p->nhead == 0) {
			parse_set_error(p, 0, "empty document");
			return -1;
		}
		parse_create(p);
	}
	xmlParseChunk(p->ctxt, NULL, 0, 1);
	/* An item cut off by the end of the document is salvaged as it stands. */
	while (p->field != F_NONE || p->item != NULL) {
		if (p->field != F_NONE)
			parse_end_field(p);
		else
			parse_end_item(p);
	}
	if (p->dialect == DIALECT_UNKNOWN) {
		parse_set_error(p, 0, "not a feed");
		return -1;
	}
	/* sy: updateFrequency updates per updatePeriod (RSS 1.0 syndication module; default 1). */
	if (p->sy_period != 0)
		p->info.update_period = p->sy_period / (p->sy_frequency != 0 ? p->sy_frequency : 1);
	return 0;
}

void
parse_free(struct parser *p)
{
	if (p == NULL)
		return;
	if (p->ctxt != NULL)
		xmlFreeParserCtxt(p->ctxt);
	item_free(p->item);
	while (p->nbases > 0)
		free(p->bases[--p->nbases]);
	free(p->bases);
	feed_info_clear(&p->info);
	buf_free(&p->text);
	free(p->doc_url);
	free(p->error);
	free(p);
}

const struct feed_info *
parse_feed_info(const struct parser *p)
{
	return &p->info;
}

enum parse_dialect
parse_dialect(const struct parser *p)
{
	return p->dialect;
}

const char *
parse_dialect_name(enum parse_dialect d)
{
	switch (d) {
	case DIALECT_RSS: return "rss";
	case DIALECT_RDF: return "rdf";
	case DIALECT_ATOM: return "atom";
	default: return "unknown";
	}
}

size_t
parse_item_count(const struct parser *p)
{
	return p->nitems;
}

bool
parse_illformed(const struct parser *p)
{
	return p->illformed;
}

const char *
parse_error(const struct parser *p)
{
	return p->error;
}
