/*
 * parse.c: RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 through libxml2's SAX2 push
 * parser; JSON Feed through jsonfeed.c.
 *
 * Bytes go first through feeds/charset, which settles the encoding and
 * hands on clean UTF-8; libxml2 is told it is UTF-8 and to ignore the XML
 * declaration's encoding.  The first character decides XML or JSON.
 *
 * The XML side keeps a stack of the open elements, each with a kind (the
 * channel, an item, an author, an image...).  What an element means is
 * looked up in one table by (kind of its parent, namespace, local name).
 * Text is collected only for the element being captured, into one capped
 * buffer; child elements inside it are serialised as markup (XHTML, or HTML
 * that a feed forgot to escape).  When the element ends its text is read
 * according to its type and stored; an item goes to the callback at its end
 * tag, so memory is bounded by one item.
 *
 * Safety: no entity substitution, no DTD loading, no network, and an
 * external entity loader that refuses everything (parse_init).  libxml2
 * never sees the DOCTYPE (feeds/charset takes it out); the entities it
 * declares are expanded from charset's small, capped table, as text; an
 * undeclared HTML entity (&nbsp;) is read from libxml2's HTML table and
 * flags the feed ill-formed.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "feeds/charset.h"
#include "feeds/date.h"
#include "feeds/jsonfeed.h"
#include "feeds/parse.h"
#include "feeds/text.h"
#include "feeds/url.h"
#include "util/util.h"

#define NS_ATOM10_URI "http://www.w3.org/2005/Atom"
#define NS_XML_URI    "http://www.w3.org/XML/1998/namespace"
#define NS_RDF_URI    "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define NS_XHTML_URI  "http://www.w3.org/1999/xhtml"
#define NS_RSS090_URI "http://my.netscape.com/rdf/simple/0.9/"

#define PARSE_MAX_DEPTH	   256	       /* libxml2 stops at this depth itself */
#define PARSE_MAX_URL	   8192	       /* longer attribute values are cut */
#define PARSE_SLICE	   ((size_t)64 * 1024) /* input decoded at a time */
/*
 * What a DOCTYPE's entities may add to one document, in all: each value is
 * short (charset.c), but a 3-byte reference to a 1 kB value, repeated, made
 * gigabytes of items out of a 14 MB body (tests/check_hostile, quadratic).
 * Past it, references stay as text.
 */
#define PARSE_MAX_EXPANSION ((size_t)1024 * 1024)

enum ns {
	NS_OTHER,
	NS_RSS, /* RSS 2.0 (no namespace), 0.90, 1.0, UserLand's */
	NS_ATOM,
	NS_RDF,
	NS_CONTENT,
	NS_DC,
	NS_DCTERMS,
	NS_XHTML,
	NS_SY,
	NS_MEDIA,
	NS_ITUNES,
	NS_ADMIN,
	NS_FEEDBURNER,
	NS_XML,
};

/* Namespaces by URI; compared without case, as feeds misspell them. */
static const struct {
	const char *uri;
	enum ns ns;
} ns_uris[] = {
	{"http://purl.org/rss/1.0/", NS_RSS},
	{NS_RSS090_URI, NS_RSS},
	{"http://backend.userland.com/rss", NS_RSS},
	{"http://backend.userland.com/rss2", NS_RSS},
	{"http://backend.userland.com/rss2.1", NS_RSS},
	{"http://blogs.law.harvard.edu/tech/rss", NS_RSS},
	{NS_ATOM10_URI, NS_ATOM},
	{"http://purl.org/atom/ns#", NS_ATOM},
	{NS_RDF_URI, NS_RDF},
	{"http://purl.org/rss/1.0/modules/content/", NS_CONTENT},
	{"http://purl.org/dc/elements/1.1/", NS_DC},
	{"http://purl.org/dc/terms/", NS_DCTERMS},
	{NS_XHTML_URI, NS_XHTML},
	{"http://purl.org/rss/1.0/modules/syndication/", NS_SY},
	{"http://search.yahoo.com/mrss/", NS_MEDIA},
	{"http://search.yahoo.com/mrss", NS_MEDIA},
	{"http://www.itunes.com/dtds/podcast-1.0.dtd", NS_ITUNES},
	{"http://webns.net/mvcb/", NS_ADMIN},
	{"http://rssnamespace.org/feedburner/ext/1.0", NS_FEEDBURNER},
	{NS_XML_URI, NS_XML},
};

/* What an open element is, for the elements inside it. */
enum kind {
	K_OTHER, /* unknown: what it holds is ignored */
	K_ROOT,	 /* rss, rdf:RDF */
	K_CHANNEL, /* rss/channel, rdf:RDF/channel, atom:feed */
	K_ITEM,
	K_PERSON, /* atom:author */
	K_IMAGE,  /* rss/channel/image */
	K_SKIP_HOURS,
	K_SKIP_DAYS,
	K_MEDIA, /* media:group, media:content */
	K_ITUNES_CATEGORY,
	K_FIELD, /* being captured */
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
	F_AUTHOR, /* RSS author, dc:creator, itunes:author: "Name (email)" and friends */
	F_CATEGORY,
	F_KEYWORDS, /* itunes:keywords: categories, comma-separated */
	F_COMMENTS,
	F_PERSON_NAME,
	F_PERSON_EMAIL,
	F_PERSON_URI,
	F_ATOM_LINK, /* an atom:link with its URL as text, as early drafts had it */
	F_FEED_TITLE,
	F_FEED_LINK,
	F_FEED_ID,
	F_FEED_UPDATED,
	F_FEED_SUBTITLE,
	F_FEED_ICON,
	F_FEED_LOGO,
	F_FEED_LANGUAGE,
	F_FEED_GENERATOR,
	F_FEED_TTL,
	F_FEED_SKIP_HOUR,
	F_FEED_SKIP_DAY,
	F_FEED_SY_PERIOD,
	F_FEED_SY_FREQUENCY,
	F_COUNT,
};

/* How a captured element's text is to be read. */
enum reading {
	R_PLAIN,     /* text; HTML only if it plainly is (RSS titles) */
	R_HTML,	     /* escaped HTML (RSS description, content:encoded) */
	R_CONSTRUCT, /* an Atom text construct: type (and mode, in Atom 0.3) say */
	R_XHTML,     /* inline XHTML children (xhtml:body) */
	R_MEDIA,     /* media:description: type="plain" or "html" */
};

enum action {
	A_FIELD,	   /* capture the element's text into `field` */
	A_FRAME,	   /* open a context of kind `kind` */
	A_ITEM,		   /* an item begins */
	A_ATOM_LINK,	   /* atom:link */
	A_ATOM_CATEGORY,   /* atom:category term/scheme/label */
	A_ITUNES_CATEGORY, /* itunes:category text="..." (nests) */
	A_ENCLOSURE,	   /* RSS enclosure url/length/type */
	A_MEDIA_CONTENT,   /* media:content url/fileSize/type, then its children */
	A_MEDIA_THUMBNAIL, /* media:thumbnail url */
	A_SOURCE,	   /* RSS source url */
	A_ITUNES_IMAGE,	   /* itunes:image href */
	A_GENERATOR_AGENT, /* admin:generatorAgent rdf:resource */
};

struct rule {
	enum kind parent;
	enum ns ns;
	const char *name;
	enum action action;
	int arg;       /* the field, or the kind of the new context */
	int rank;      /* among sources of one field, the lowest wins; ties keep the first */
	enum reading reading;
};

static const struct rule rules[] = {
	{K_ROOT, NS_RSS, "channel", A_FRAME, K_CHANNEL, 0, R_PLAIN},
	{K_ROOT, NS_RSS, "item", A_ITEM, 0, 0, R_PLAIN},
	{K_ROOT, NS_RSS, "image", A_FRAME, K_IMAGE, 0, R_PLAIN},

	{K_CHANNEL, NS_RSS, "item", A_ITEM, 0, 0, R_PLAIN},
	{K_CHANNEL, NS_ATOM, "entry", A_ITEM, 0, 0, R_PLAIN},
	{K_CHANNEL, NS_RSS, "title", A_FIELD, F_FEED_TITLE, 0, R_PLAIN},
	{K_CHANNEL, NS_ATOM, "title", A_FIELD, F_FEED_TITLE, 0, R_CONSTRUCT},
	{K_CHANNEL, NS_DC, "title", A_FIELD, F_FEED_TITLE, 1, R_PLAIN},
	{K_CHANNEL, NS_RSS, "link", A_FIELD, F_FEED_LINK, 0, R_PLAIN},
	{K_CHANNEL, NS_ATOM, "link", A_ATOM_LINK, 0, 0, R_PLAIN},
	{K_CHANNEL, NS_RSS, "description", A_FIELD, F_FEED_SUBTITLE, 0, R_HTML},
	{K_CHANNEL, NS_ATOM, "subtitle", A_FIELD, F_FEED_SUBTITLE, 0, R_CONSTRUCT},
	{K_CHANNEL, NS_ATOM, "tagline", A_FIELD, F_FEED_SUBTITLE, 0, R_CONSTRUCT},
	{K_CHANNEL, NS_ITUNES, "subtitle", A_FIELD, F_FEED_SUBTITLE, 1, R_PLAIN},
	{K_CHANNEL, NS_ITUNES, "summary", A_FIELD, F_FEED_SUBTITLE, 1, R_PLAIN},
	{K_CHANNEL, NS_DC, "description", A_FIELD, F_FEED_SUBTITLE, 2, R_PLAIN},
	{K_CHANNEL, NS_ATOM, "id", A_FIELD, F_FEED_ID, 0, R_PLAIN},
	{K_CHANNEL, NS_ATOM, "updated", A_FIELD, F_FEED_UPDATED, 0, R_PLAIN},
	{K_CHANNEL, NS_ATOM, "modified", A_FIELD, F_FEED_UPDATED, 0, R_PLAIN},
	{K_CHANNEL, NS_RSS, "lastBuildDate", A_FIELD, F_FEED_UPDATED, 0, R_PLAIN},
	{K_CHANNEL, NS_DC, "date", A_FIELD, F_FEED_UPDATED, 1, R_PLAIN},
	{K_CHANNEL, NS_DCTERMS, "modified", A_FIELD, F_FEED_UPDATED, 1, R_PLAIN},
	{K_CHANNEL, NS_RSS, "pubDate", A_FIELD, F_FEED_UPDATED, 2, R_PLAIN},
	{K_CHANNEL, NS_ATOM, "icon", A_FIELD, F_FEED_ICON, 0, R_PLAIN},
	{K_CHANNEL, NS_ATOM, "logo", A_FIELD, F_FEED_LOGO, 0, R_PLAIN},
	{K_CHANNEL, NS_RSS, "image", A_FRAME, K_IMAGE, 0, R_PLAIN},
	{K_CHANNEL, NS_ITUNES, "image", A_ITUNES_IMAGE, 0, 1, R_PLAIN},
	{K_CHANNEL, NS_RSS, "language", A_FIELD, F_FEED_LANGUAGE, 0, R_PLAIN},
	{K_CHANNEL, NS_DC, "language", A_FIELD, F_FEED_LANGUAGE, 0, R_PLAIN},
	{K_CHANNEL, NS_RSS, "generator", A_FIELD, F_FEED_GENERATOR, 0, R_PLAIN},
	{K_CHANNEL, NS_ATOM, "generator", A_FIELD, F_FEED_GENERATOR, 0, R_PLAIN},
	{K_CHANNEL, NS_ADMIN, "generatorAgent", A_GENERATOR_AGENT, 0, 1, R_PLAIN},
	{K_CHANNEL, NS_RSS, "ttl", A_FIELD, F_FEED_TTL, 0, R_PLAIN},
	{K_CHANNEL, NS_SY, "updatePeriod", A_FIELD, F_FEED_SY_PERIOD, 0, R_PLAIN},
	{K_CHANNEL, NS_SY, "updateFrequency", A_FIELD, F_FEED_SY_FREQUENCY, 0, R_PLAIN},
	{K_CHANNEL, NS_RSS, "skipHours", A_FRAME, K_SKIP_HOURS, 0, R_PLAIN},
	{K_CHANNEL, NS_RSS, "skipDays", A_FRAME, K_SKIP_DAYS, 0, R_PLAIN},
	{K_CHANNEL, NS_ATOM, "author", A_FRAME, K_PERSON, 0, R_PLAIN},

	{K_IMAGE, NS_RSS, "url", A_FIELD, F_FEED_LOGO, 0, R_PLAIN},
	{K_SKIP_HOURS, NS_RSS, "hour", A_FIELD, F_FEED_SKIP_HOUR, 0, R_PLAIN},
	{K_SKIP_DAYS, NS_RSS, "day", A_FIELD, F_FEED_SKIP_DAY, 0, R_PLAIN},

	{K_ITEM, NS_RSS, "title", A_FIELD, F_TITLE, 0, R_PLAIN},
	{K_ITEM, NS_ATOM, "title", A_FIELD, F_TITLE, 0, R_CONSTRUCT},
	{K_ITEM, NS_DC, "title", A_FIELD, F_TITLE, 1, R_PLAIN},
	{K_ITEM, NS_ITUNES, "title", A_FIELD, F_TITLE, 2, R_PLAIN},
	{K_ITEM, NS_FEEDBURNER, "origLink", A_FIELD, F_LINK, 0, R_PLAIN},
	{K_ITEM, NS_RSS, "link", A_FIELD, F_LINK, 1, R_PLAIN},
	{K_ITEM, NS_ATOM, "link", A_ATOM_LINK, 0, 1, R_PLAIN},
	{K_ITEM, NS_RSS, "guid", A_FIELD, F_ID, 0, R_PLAIN},
	{K_ITEM, NS_ATOM, "id", A_FIELD, F_ID, 0, R_PLAIN},
	{K_ITEM, NS_DC, "identifier", A_FIELD, F_ID, 2, R_PLAIN},
	{K_ITEM, NS_RSS, "description", A_FIELD, F_SUMMARY, 0, R_HTML},
	{K_ITEM, NS_ATOM, "summary", A_FIELD, F_SUMMARY, 0, R_CONSTRUCT},
	{K_ITEM, NS_DC, "description", A_FIELD, F_SUMMARY, 1, R_PLAIN},
	{K_ITEM, NS_ITUNES, "summary", A_FIELD, F_SUMMARY, 2, R_PLAIN},
	{K_ITEM, NS_CONTENT, "encoded", A_FIELD, F_CONTENT, 0, R_HTML},
	{K_ITEM, NS_ATOM, "content", A_FIELD, F_CONTENT, 0, R_CONSTRUCT},
	{K_ITEM, NS_XHTML, "body", A_FIELD, F_CONTENT, 0, R_XHTML},
	{K_ITEM, NS_RSS, "body", A_FIELD, F_CONTENT, 0, R_XHTML},
	{K_ITEM, NS_RSS, "fullitem", A_FIELD, F_CONTENT, 1, R_HTML},
	{K_ITEM, NS_RSS, "pubDate", A_FIELD, F_PUBLISHED, 0, R_PLAIN},
	{K_ITEM, NS_ATOM, "published", A_FIELD, F_PUBLISHED, 0, R_PLAIN},
	{K_ITEM, NS_ATOM, "issued", A_FIELD, F_PUBLISHED, 0, R_PLAIN},
	{K_ITEM, NS_DCTERMS, "issued", A_FIELD, F_PUBLISHED, 1, R_PLAIN},
	{K_ITEM, NS_DC, "date", A_FIELD, F_PUBLISHED, 2, R_PLAIN},
	{K_ITEM, NS_ATOM, "updated", A_FIELD, F_UPDATED, 0, R_PLAIN},
	{K_ITEM, NS_ATOM, "modified", A_FIELD, F_UPDATED, 0, R_PLAIN},
	{K_ITEM, NS_DCTERMS, "modified", A_FIELD, F_UPDATED, 1, R_PLAIN},
	{K_ITEM, NS_RSS, "author", A_FIELD, F_AUTHOR, 0, R_PLAIN},
	{K_ITEM, NS_DC, "creator", A_FIELD, F_AUTHOR, 0, R_PLAIN},
	{K_ITEM, NS_DC, "author", A_FIELD, F_AUTHOR, 0, R_PLAIN},
	{K_ITEM, NS_ITUNES, "author", A_FIELD, F_AUTHOR, 0, R_PLAIN},
	{K_ITEM, NS_ATOM, "author", A_FRAME, K_PERSON, 0, R_PLAIN},
	{K_ITEM, NS_RSS, "category", A_FIELD, F_CATEGORY, 0, R_PLAIN},
	{K_ITEM, NS_DC, "subject", A_FIELD, F_CATEGORY, 0, R_PLAIN},
	{K_ITEM, NS_ATOM, "category", A_ATOM_CATEGORY, 0, 0, R_PLAIN},
	{K_ITEM, NS_MEDIA, "category", A_FIELD, F_CATEGORY, 0, R_PLAIN},
	{K_ITEM, NS_ITUNES, "category", A_ITUNES_CATEGORY, 0, 0, R_PLAIN},
	{K_ITEM, NS_ITUNES, "keywords", A_FIELD, F_KEYWORDS, 0, R_PLAIN},
	{K_ITEM, NS_RSS, "enclosure", A_ENCLOSURE, 0, 0, R_PLAIN},
	{K_ITEM, NS_MEDIA, "content", A_MEDIA_CONTENT, 0, 0, R_PLAIN},
	{K_ITEM, NS_MEDIA, "thumbnail", A_MEDIA_THUMBNAIL, 0, 0, R_PLAIN},
	{K_ITEM, NS_MEDIA, "group", A_FRAME, K_MEDIA, 0, R_PLAIN},
	{K_ITEM, NS_MEDIA, "title", A_FIELD, F_TITLE, 3, R_PLAIN},
	{K_ITEM, NS_MEDIA, "description", A_FIELD, F_SUMMARY, 3, R_MEDIA},
	{K_ITEM, NS_RSS, "comments", A_FIELD, F_COMMENTS, 0, R_PLAIN},
	{K_ITEM, NS_RSS, "source", A_SOURCE, 0, 0, R_PLAIN},

	{K_MEDIA, NS_MEDIA, "content", A_MEDIA_CONTENT, 0, 0, R_PLAIN},
	{K_MEDIA, NS_MEDIA, "thumbnail", A_MEDIA_THUMBNAIL, 0, 0, R_PLAIN},
	{K_MEDIA, NS_MEDIA, "title", A_FIELD, F_TITLE, 3, R_PLAIN},
	{K_MEDIA, NS_MEDIA, "description", A_FIELD, F_SUMMARY, 3, R_MEDIA},
	{K_MEDIA, NS_MEDIA, "category", A_FIELD, F_CATEGORY, 0, R_PLAIN},
	{K_ITUNES_CATEGORY, NS_ITUNES, "category", A_ITUNES_CATEGORY, 0, 0, R_PLAIN},

	{K_PERSON, NS_ATOM, "name", A_FIELD, F_PERSON_NAME, 0, R_PLAIN},
	{K_PERSON, NS_ATOM, "email", A_FIELD, F_PERSON_EMAIL, 0, R_PLAIN},
	{K_PERSON, NS_ATOM, "uri", A_FIELD, F_PERSON_URI, 0, R_PLAIN},
	{K_PERSON, NS_ATOM, "url", A_FIELD, F_PERSON_URI, 0, R_PLAIN},
	{K_PERSON, NS_ATOM, "homepage", A_FIELD, F_PERSON_URI, 0, R_PLAIN},
};

/*
 * Rules looked up lately, by element name as libxml2 interned it in the
 * document's dictionary (one pointer per name): a feed repeats the same
 * few elements item after item.
 */
#define PARSE_RULE_MEMO 64
struct rule_memo {
	const char *name;
	enum kind parent;
	enum ns ns;
	const struct rule *rule; /* or NULL: no rule */
};

struct frame {
	enum ns ns;
	const char *name;   /* interned in the parser's dictionary */
	const xmlChar *uri; /* likewise */
	enum kind kind;
	bool pushed_base;   /* this element set xml:base */
	bool markup_void;   /* serialised as <br />: no end tag */
	bool markup_skip;   /* the xhtml wrapper div: not serialised */
	bool closed;	    /* ended early by a mismatched end tag (libxml2 still has it open) */
};

struct parser {
	struct charset *cs;
	xmlParserCtxtPtr ctxt;
	struct jsonfeed *json;
	bool finished;

	parse_item_cb cb;
	void *arg;
	char *doc_url;

	enum parse_dialect dialect;
	char version[16];
	bool atom03;	   /* Atom 0.3 or a draft: text constructs use mode= */
	const xmlChar *root_uri;
	enum ns root_ns;
	struct feed_info info;
	unsigned char feed_rank[F_COUNT];
	struct item_person *feed_authors; /* atom:feed/atom:author, for entries without one */
	size_t nfeed_authors;
	char *root_lang;
	size_t nitems;
	bool illformed;
	size_t expanded; /* bytes the DOCTYPE's entities added so far (PARSE_MAX_EXPANSION) */
	char *error;
	unsigned long error_line;
	char *mismatch; /* the name of a mismatched end tag libxml2 just reported */
	unsigned long tag_line; /* where the last start or end tag was read; 0 before any */

	int depth; /* of the innermost open element; the root is 1 */
	struct frame stack[PARSE_MAX_DEPTH + 1];
	struct rule_memo rule_memo[PARSE_RULE_MEMO];
	char **bases; /* xml:base values in force, innermost last */
	size_t nbases;
	struct {
		const xmlChar *uri;
		enum ns ns;
	} nscache[8];
	unsigned nscache_next;

	struct item *item;
	unsigned char item_rank[F_COUNT];
	bool guid_permalink;
	struct item_person person; /* atom:author being read */
	unsigned sy_period, sy_frequency;

	enum field field; /* being captured, with its text in `text` */
	int field_depth;
	int field_rank;
	enum reading reading;
	enum text_type field_type;
	bool field_base64;
	bool markup;	   /* child elements are serialised into `text` */
	bool strip_div;	   /* Atom 1.0 xhtml: the wrapper div is left out */
	bool raw_markup;   /* markup arrived in a field not declared to hold it */
	const char *field_base; /* the base in force at the field's element */
	char *field_href;	/* an RSS link's href attribute, for when it has no text */
	char *cat_scheme, *cat_label;
	struct {
		char rel[256];
		char *type, *title;
		int64_t length;
		int rank;
	} link; /* the atom:link whose URL is being captured */
	struct buf text;

	xmlEntity scratch; /* what getEntity hands libxml2 */
	struct buf scratch_value;
};

/* ---- errors ---- */

static void
parse_problem(struct parser *p, unsigned long line, const char *fmt, ...) PRINTFLIKE(3, 4);

/* Record a problem; the first one (by line) is what parse_error reports. */
static void
parse_problem(struct parser *p, unsigned long line, const char *fmt, ...)
{
	char msg[256];
	struct buf clean;
	va_list ap;

	p->illformed = true;
	if (p->error != NULL && (line == 0 || p->error_line == 0 || line >= p->error_line))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* The message may quote the document (and be cut inside a character): clean it. */
	buf_init(&clean, 0);
	if (line > 0)
		buf_addf(&clean, "line %lu: ", line);
	text_append_clean(&clean, msg, strlen(msg));
	free(p->error);
	p->error = buf_steal(&clean);
	p->error_line = line;
}

/* A problem that is not about well-formedness: "not a feed". */
static void
parse_set_error(struct parser *p, unsigned long line, const char *msg)
{
	bool was = p->illformed;

	parse_problem(p, line, "%s", msg);
	p->illformed = was;
}

static unsigned long
parse_line(const struct parser *p)
{
	return (unsigned long)xmlSAX2GetLineNumber(p->ctxt) + charset_line_offset(p->cs);
}

/* ---- small helpers ---- */

/*
 * An element whose prefix was never declared ("itunes:summary" with no
 * xmlns:itunes): read by the prefix everyone uses for it.
 */
static enum ns
parse_ns_by_prefix(const xmlChar *prefix)
{
	static const struct {
		const char *prefix;
		enum ns ns;
	} prefixes[] = {{"atom", NS_ATOM}, {"content", NS_CONTENT}, {"dc", NS_DC},
		{"dcterms", NS_DCTERMS}, {"feedburner", NS_FEEDBURNER}, {"itunes", NS_ITUNES},
		{"media", NS_MEDIA}, {"rdf", NS_RDF}, {"sy", NS_SY}, {"xhtml", NS_XHTML}};

	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (strcmp((const char *)prefix, prefixes[i].prefix) == 0)
			return prefixes[i].ns;
	return NS_OTHER;
}

static enum ns
parse_ns(struct parser *p, const xmlChar *uri)
{
	enum ns ns = NS_OTHER;

	if (uri == p->root_uri || (uri != NULL && p->root_uri != NULL &&
				      strcmp((const char *)uri, (const char *)p->root_uri) == 0))
		return p->root_ns;
	if (uri == NULL)
		return p->dialect == DIALECT_ATOM ? NS_OTHER : NS_RSS;
	for (unsigned i = 0; i < sizeof p->nscache / sizeof p->nscache[0]; i++)
		if (p->nscache[i].uri == uri)
			return p->nscache[i].ns;
	for (size_t i = 0; i < sizeof ns_uris / sizeof ns_uris[0]; i++)
		if (strcasecmp((const char *)uri, ns_uris[i].uri) == 0) {
			ns = ns_uris[i].ns;
			break;
		}
	p->nscache[p->nscache_next].uri = uri;
	p->nscache[p->nscache_next].ns = ns;
	p->nscache_next = (p->nscache_next + 1) % (sizeof p->nscache / sizeof p->nscache[0]);
	return ns;
}

static const char *
parse_base(const struct parser *p)
{
	return p->nbases > 0 ? p->bases[p->nbases - 1] : p->doc_url;
}

/*
 * Decode the "&name;" references libxml2 left in an attribute value:
 * declared, then HTML.  Decoding stops past `max` bytes, where the value is
 * cut anyway (a long value of references to long entities is a bomb).
 */
static void
parse_decode_refs(const struct parser *p, struct buf *out, const char *s, size_t len, size_t max)
{
	size_t i = 0, run = 0;

	while (i < len && out->len + run <= max) {
		const char *semi, *value;
		char name[64];

		if (s[i] != '&' || (semi = memchr(s + i, ';', len - i)) == NULL ||
		    (size_t)(semi - s - i) >= sizeof name) {
			i++, run++;
			continue;
		}
		snprintf(name, sizeof name, "%.*s", (int)(semi - s - i - 1), s + i + 1);
		if ((value = charset_entity(p->cs, name)) == NULL) {
			i++, run++;
			continue;
		}
		buf_add(out, s + i - run, run);
		buf_adds(out, value);
		run = 0;
		i = (size_t)(semi - s) + 1;
	}
	buf_add(out, s + i - run, run);
	/* What is left: HTML entities (and character references, already decoded). */
	if (out->data != NULL && strchr(out->data, '&') != NULL) {
		struct buf html;

		buf_init(&html, 0);
		text_decode_entities(&html, out->data, out->len);
		buf_reset(out);
		buf_add(out, html.data != NULL ? html.data : "", html.len);
		buf_free(&html);
	}
}

/*
 * An attribute's value into `out` (cut at outlen), or NULL when absent.
 * `uri` NULL matches attributes without a namespace.  Entity references
 * libxml2 left in the value (undeclared or document-declared ones) are
 * decoded here.
 */
static const char *
parse_attr(const struct parser *p, const xmlChar **attrs, int nattrs, const char *uri,
    const char *name, char *out, size_t outlen)
{
	for (int i = 0; i < nattrs; i++) {
		const xmlChar **a = attrs + (ptrdiff_t)i * 5; /* localname, prefix, URI, value, end */
		const char *auri = (const char *)a[2], *v = (const char *)a[3];
		size_t len = (size_t)(a[4] - a[3]);
		struct buf b;

		if (strcmp((const char *)a[0], name) != 0)
			continue;
		if ((uri == NULL) != (auri == NULL) || (uri != NULL && strcmp(uri, auri) != 0))
			continue;
		buf_init(&b, 0);
		if (memchr(v, '&', len) != NULL) {
			parse_decode_refs(p, &b, v, len, outlen);
			v = b.data != NULL ? b.data : "";
			len = b.len;
		}
		/* cut, if it must be, at a character boundary */
		len = text_utf8_cut(v, len < outlen ? len : outlen - 1);
		memcpy(out, v, len);
		out[len] = '\0';
		buf_free(&b);
		return out;
	}
	return NULL;
}

/* A copy of attribute `name`, cleaned; NULL when absent or empty. */
static char *
parse_attr_dup(const struct parser *p, const xmlChar **attrs, int nattrs, const char *name)
{
	char v[PARSE_MAX_URL];
	struct buf b;

	if (parse_attr(p, attrs, nattrs, NULL, name, v, sizeof v) == NULL)
		return NULL;
	buf_init(&b, 0);
	text_append_clean(&b, v, strlen(v));
	if (b.data == NULL || text_collapse_ws(b.data)[0] == '\0') {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* Attribute `name` as an absolute URL against the base in force; NULL when absent. */
static char *
parse_attr_url(const struct parser *p, const xmlChar **attrs, int nattrs, const char *name)
{
	char *v = parse_attr_dup(p, attrs, nattrs, name), *abs;

	if (v == NULL)
		return NULL;
	abs = url_resolve(parse_base(p), v);
	free(v);
	return abs;
}

/* A small non-negative number, or -1. */
static long long
parse_number(const char *text, long long max)
{
	char *end;
	long long n;

	if (text == NULL)
		return -1;
	while (*text == ' ')
		text++;
	if (*text < '0' || *text > '9')
		return -1;
	n = strtoll(text, &end, 10);
	while (*end == ' ')
		end++;
	return *end == '\0' && n <= max ? n : -1;
}

/*
 * Whether a value from a source of `rank` may replace what the field holds:
 * a better (lower) rank always does, and of one rank the last one wins, as
 * in feedparser and gofeed (the first, when `first`).
 */
static bool
parse_rank_ok(unsigned char *ranks, enum field f, int rank, bool present, bool first)
{
	if (present && (first ? rank >= ranks[f] : rank > ranks[f]))
		return false;
	ranks[f] = (unsigned char)rank;
	return true;
}

/* Store `value` in `slot` unless a source of better (lower) rank filled it. */
static void
parse_set_ranked(char **slot, unsigned char *ranks, enum field f, int rank, char *value,
    bool first)
{
	if (value == NULL || !parse_rank_ok(ranks, f, rank, *slot != NULL, first)) {
		free(value);
		return;
	}
	free(*slot);
	*slot = value;
}

static void
parse_set(char **slot, unsigned char *ranks, enum field f, int rank, char *value)
{
	parse_set_ranked(slot, ranks, f, rank, value, false);
}

static void
parse_set_date(time_t *slot, unsigned char *ranks, enum field f, int rank, char *value)
{
	time_t t = value != NULL ? date_parse(value) : -1;

	if (t > 0 && parse_rank_ok(ranks, f, rank, *slot != 0, false))
		*slot = t;
	free(value);
}

/* ---- the item's lists ---- */

static void
parse_add_link(struct item *it, enum link_rel rel, const char *rel_name, char *href, char *type,
    char *title, int64_t length)
{
	if (href == NULL || it->nlinks >= PARSE_MAX_LINKS) {
		free(href), free(type), free(title);
		return;
	}
	for (size_t i = 0; i < it->nlinks; i++)
		if (it->links[i].rel == rel && strcmp(it->links[i].href, href) == 0) {
			free(href), free(type), free(title);
			return;
		}
	it->links = xreallocarray(it->links, it->nlinks + 1, sizeof *it->links);
	it->links[it->nlinks++] = (struct item_link){rel,
	    rel == LINK_OTHER && rel_name != NULL ? xstrdup(rel_name) : NULL, href, type, title,
	    length};
}

static void
parse_add_enclosure(struct item *it, enum enclosure_kind kind, const char *url, const char *type,
    int64_t length)
{
	if (url == NULL || it->nenclosures >= PARSE_MAX_LINKS)
		return;
	for (size_t i = 0; i < it->nenclosures; i++)
		if (strcmp(it->enclosures[i].url, url) == 0)
			return;
	it->enclosures = xreallocarray(it->enclosures, it->nenclosures + 1, sizeof *it->enclosures);
	it->enclosures[it->nenclosures++] = (struct item_enclosure){kind, xstrdup(url),
	    type != NULL ? xstrdup(type) : NULL, length};
}

static void
parse_add_category(struct item *it, char *term, char *scheme, char *label)
{
	if (term == NULL || it->ncategories >= PARSE_MAX_CATEGORIES) {
		free(term), free(scheme), free(label);
		return;
	}
	for (size_t i = 0; i < it->ncategories; i++) {
		const struct item_category *c = &it->categories[i];

		if (strcmp(c->term, term) == 0 && (c->scheme == NULL) == (scheme == NULL) &&
		    (scheme == NULL || strcmp(c->scheme, scheme) == 0)) {
			free(term), free(scheme), free(label);
			return;
		}
	}
	it->categories = xreallocarray(it->categories, it->ncategories + 1,
	    sizeof *it->categories);
	it->categories[it->ncategories++] = (struct item_category){term, scheme, label};
}

static void
parse_person_free(struct item_person *person)
{
	free(person->name);
	free(person->email);
	free(person->uri);
	memset(person, 0, sizeof *person);
}

/* Add a person to a list (the item's authors or the feed's); the list takes `person`. */
static void
parse_add_person(struct item_person **list, size_t *n, struct item_person *person)
{
	if ((person->name == NULL && person->email == NULL && person->uri == NULL) ||
	    *n >= PARSE_MAX_AUTHORS) {
		parse_person_free(person);
		return;
	}
	for (size_t i = 0; i < *n; i++) {
		const struct item_person *o = &(*list)[i];

		if ((o->name != NULL && person->name != NULL && strcmp(o->name, person->name) == 0) ||
		    (o->name == NULL && person->name == NULL && o->email != NULL &&
			person->email != NULL && strcmp(o->email, person->email) == 0)) {
			parse_person_free(person);
			return;
		}
	}
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	(*list)[(*n)++] = *person;
	memset(person, 0, sizeof *person);
}

/*
 * "Name (email)", "email (Name)", "Name <email>", "email" or "Name": the
 * forms RSS author and dc:creator take, split into name and e-mail.
 */
static void
parse_person_text(char *text, struct item_person *person)
{
	char *at = strchr(text, '@'), *start, *end, *email;
	size_t len = strlen(text);

	if (at == NULL) {
		person->name = text;
		return;
	}
	for (start = at; start > text && strchr(" \t(<[", start[-1]) == NULL; start--)
		;
	for (end = at; *end != '\0' && strchr(" \t)>]", *end) == NULL; end++)
		;
	email = strncasecmp(start, "mailto:", 7) == 0 ? start + 7 : start;
	person->email = xstrndup(email, (size_t)(end - email));
	/* What is left, without the brackets around the address, is the name. */
	while (start > text && strchr("(<[", start[-1]) != NULL)
		start--;
	while (*end != '\0' && strchr(")>]", *end) != NULL)
		end++;
	memmove(start, end, len - (size_t)(end - text) + 1);
	for (char *c = text; *c != '\0'; c++)
		if (*c == '(' || *c == ')')
			*c = ' ';
	text_collapse_ws(text);
	if (text[0] != '\0')
		person->name = text;
	else
		free(text);
}

/* ---- elements ---- */

/*
 * Element names are matched without case: feeds write pubdate, PubDate,
 * LINK, and nothing is gained by dropping them.
 */
static const struct rule *
parse_rule(enum kind parent, enum ns ns, const char *name)
{
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		if (rules[i].parent == parent && rules[i].ns == ns &&
		    strcasecmp(rules[i].name, name) == 0)
			return &rules[i];
	return NULL;
}

/* The version feedparser would name, from the root element and its attributes. */
static void
parse_root_version(struct parser *p, enum ns ns, const char *version)
{
	if (p->dialect == DIALECT_RSS) {
		if (version == NULL)
			version = "";
		if (strcmp(version, "0.91") == 0) {
			/* Netscape's 0.91 names its DTD; UserLand's has none */
			const char *pub = charset_doctype_public(p->cs);

			snprintf(p->version, sizeof p->version, "rss091%c",
			    pub != NULL && strstr(pub, "Netscape") != NULL ? 'n' : 'u');
		}
		else if (strcmp(version, "0.92") == 0 || strcmp(version, "0.93") == 0 ||
			 strcmp(version, "0.94") == 0)
			snprintf(p->version, sizeof p->version, "rss09%c", version[3]);
		else if (version[0] == '2')
			snprintf(p->version, sizeof p->version, "rss20");
		else
			snprintf(p->version, sizeof p->version, "rss");
	} else if (p->dialect == DIALECT_ATOM) {
		p->atom03 = ns != NS_ATOM || p->root_uri == NULL ||
			    strcmp((const char *)p->root_uri, NS_ATOM10_URI) != 0;
		if (!p->atom03)
			snprintf(p->version, sizeof p->version, "atom10");
		else if (version != NULL && strlen(version) == 3 && strncmp(version, "0.", 2) == 0)
			snprintf(p->version, sizeof p->version, "atom0%c", version[2]);
		else
			snprintf(p->version, sizeof p->version, "atom");
	}
}

static void
parse_root(struct parser *p, const xmlChar *uri, const char *name, int nns, const xmlChar **nss,
    const xmlChar **attrs, int nattrs)
{
	char version[16], lang[64];
	const char *v = parse_attr(p, attrs, nattrs, NULL, "version", version, sizeof version);
	enum ns ns = parse_ns(p, uri);

	if (strcmp(name, "rss") == 0 && (ns == NS_RSS || ns == NS_OTHER)) {
		p->dialect = DIALECT_RSS;
		p->root_ns = NS_RSS;
	} else if (strcmp(name, "RDF") == 0 && ns == NS_RDF) {
		p->dialect = DIALECT_RDF;
		p->root_ns = NS_RDF;
		snprintf(p->version, sizeof p->version, "rss10");
		for (int i = 0; i < nns; i++)
			if (nss[2 * i + 1] != NULL && strcmp((const char *)nss[2 * i + 1], NS_RSS090_URI) == 0)
				snprintf(p->version, sizeof p->version, "rss090");
	} else if (strcmp(name, "feed") == 0 && (ns == NS_ATOM || ns == NS_OTHER)) {
		/* Atom 1.0, 0.3, or one of the drafts that went by other namespaces. */
		p->dialect = DIALECT_ATOM;
		p->root_ns = NS_ATOM;
	} else {
		char msg[160];

		snprintf(msg, sizeof msg, "not a feed: the root element is <%.100s>", name);
		parse_set_error(p, parse_line(p), msg);
		xmlStopParser(p->ctxt);
		return;
	}
	p->root_uri = uri;
	p->nscache_next = 0;
	memset(p->nscache, 0, sizeof p->nscache);
	parse_root_version(p, ns, v);
	if (parse_attr(p, attrs, nattrs, NS_XML_URI, "lang", lang, sizeof lang) != NULL)
		p->root_lang = xstrdup(lang);
}

static void
parse_push_base(struct parser *p, const xmlChar **attrs, int nattrs)
{
	char base[PARSE_MAX_URL];
	char *resolved;

	if (parse_attr(p, attrs, nattrs, NS_XML_URI, "base", base, sizeof base) == NULL)
		return;
	if ((resolved = url_resolve(parse_base(p), base)) == NULL)
		return;
	p->bases = xreallocarray(p->bases, p->nbases + 1, sizeof *p->bases);
	p->bases[p->nbases++] = resolved;
	p->stack[p->depth].pushed_base = true;
}

/* An atom:link with its URL: every link goes into the item; some mean more. */
static void
parse_link(struct parser *p, const char *rel, char *href, char *type, char *title,
    int64_t length, int rank)
{
	static const struct {
		const char *rel;
		enum link_rel link;
	} rels[] = {{"alternate", LINK_ALTERNATE}, {"enclosure", LINK_ENCLOSURE},
		{"related", LINK_RELATED}, {"via", LINK_VIA}, {"replies", LINK_REPLIES}};
	enum link_rel kind = LINK_OTHER;

	if (href == NULL) {
		free(type), free(title);
		return;
	}
	if (rel == NULL || rel[0] == '\0')
		rel = "alternate";
	else if (strncmp(rel, "http://www.iana.org/assignments/relation/", 41) == 0)
		rel += 41;
	for (size_t i = 0; i < sizeof rels / sizeof rels[0]; i++)
		if (strcmp(rel, rels[i].rel) == 0)
			kind = rels[i].link;
	if (p->item == NULL) {
		/* The feed's own links: its web page and its WebSub hub. */
		if (kind == LINK_ALTERNATE) /* the first alternate link is the page */
			parse_set_ranked(&p->info.link, p->feed_rank, F_FEED_LINK,
			    p->dialect == DIALECT_ATOM ? 0 : 1, href, true);
		else if (strcmp(rel, "hub") == 0 && p->info.hub == NULL)
			p->info.hub = href;
		else
			free(href);
		free(type), free(title);
		return;
	}
	if (kind == LINK_ALTERNATE)
		parse_set_ranked(&p->item->link, p->item_rank, F_LINK, rank, xstrdup(href), true);
	else if (kind == LINK_ENCLOSURE)
		parse_add_enclosure(p->item, ENCLOSURE, href, type, length);
	else if (kind == LINK_REPLIES && p->item->comments == NULL &&
		 (type == NULL || strcasecmp(type, "text/html") == 0))
		p->item->comments = xstrdup(href);
	parse_add_link(p->item, kind, rel, href, type, title, length);
}

/* atom:link; one without href has its URL as text (Atom 0.3's drafts): capture it. */
static bool
parse_atom_link(struct parser *p, const xmlChar **attrs, int nattrs, int rank)
{
	char len[32];
	int64_t length = parse_number(parse_attr(p, attrs, nattrs, NULL, "length", len, sizeof len),
	    INT64_MAX);
	char *href = parse_attr_url(p, attrs, nattrs, "href");

	if (href != NULL || parse_attr(p, attrs, nattrs, NULL, "href", len, sizeof len) != NULL) {
		char rel[256];

		parse_link(p, parse_attr(p, attrs, nattrs, NULL, "rel", rel, sizeof rel), href,
		    parse_attr_dup(p, attrs, nattrs, "type"), parse_attr_dup(p, attrs, nattrs, "title"),
		    length, rank);
		return false;
	}
	if (parse_attr(p, attrs, nattrs, NULL, "rel", p->link.rel, sizeof p->link.rel) == NULL)
		p->link.rel[0] = '\0';
	free(p->link.type), free(p->link.title);
	p->link.type = parse_attr_dup(p, attrs, nattrs, "type");
	p->link.title = parse_attr_dup(p, attrs, nattrs, "title");
	p->link.length = length;
	p->link.rank = rank;
	return true;
}

/* RSS enclosure, media:content, media:thumbnail. */
static void
parse_enclosure(struct parser *p, const xmlChar **attrs, int nattrs, enum enclosure_kind kind)
{
	char len[32], type[256];
	char *url = parse_attr_url(p, attrs, nattrs, "url");
	const char *t = parse_attr(p, attrs, nattrs, NULL, "type", type, sizeof type);
	int64_t length = parse_number(parse_attr(p, attrs, nattrs, NULL,
					  kind == ENCLOSURE ? "length" : "fileSize", len, sizeof len),
	    INT64_MAX);

	if (url == NULL)
		return;
	if (t != NULL && t[0] == '\0')
		t = NULL;
	parse_add_enclosure(p->item, kind, url, t, length);
	if (kind == ENCLOSURE)
		parse_add_link(p->item, LINK_ENCLOSURE, NULL, url, t != NULL ? xstrdup(t) : NULL, NULL,
		    length);
	else
		free(url);
}

/*
 * How an Atom text construct is to be read.  Atom 1.0: type="text", "html"
 * or "xhtml" (content also takes MIME types).  Atom 0.3: a MIME type and
 * mode="xml" (inline), "escaped" or "base64".
 */
static void
parse_construct(struct parser *p, const xmlChar **attrs, int nattrs)
{
	char type[128], mode[32];
	const char *t = parse_attr(p, attrs, nattrs, NULL, "type", type, sizeof type);
	const char *m = parse_attr(p, attrs, nattrs, NULL, "mode", mode, sizeof mode);

	if (t != NULL && (strcasecmp(t, "html") == 0 || strcasecmp(t, "text/html") == 0))
		p->field_type = TEXT_HTML;
	else if (t != NULL && (strcasecmp(t, "xhtml") == 0 || strstr(t, "xml") != NULL))
		p->field_type = TEXT_XHTML; /* XHTML, or any inline XML: serialised as it is */
	else if (t == NULL || t[0] == '\0' || strcasecmp(t, "text") == 0 ||
		 strncasecmp(t, "text/", 5) == 0)
		p->field_type = TEXT_PLAIN;
	else {
		/*
		 * Any other MIME type comes base64-encoded (RFC 4287 4.1.3.3 says so of
		 * atom:content; feeds do it in titles too, and readers decode it).
		 */
		p->field_type = TEXT_PLAIN;
		p->field_base64 = !p->atom03;
	}
	if (p->atom03) {
		p->field_base64 = m != NULL && strcasecmp(m, "base64") == 0;
		p->markup = m == NULL || strcasecmp(m, "xml") == 0;
		if (!p->markup)
			return;
		if (p->field_type == TEXT_PLAIN && t == NULL)
			p->raw_markup = true; /* markup only if children appear */
	} else
		p->markup = p->field_type == TEXT_XHTML;
	/* Atom 1.0 xhtml has a wrapper div; so does html a publisher forgot to escape. */
	p->strip_div = !p->atom03 && p->field_type != TEXT_PLAIN;
}

static void
parse_begin_field(struct parser *p, const struct rule *r, const xmlChar **attrs, int nattrs)
{
	char type[32];

	p->field = (enum field)r->arg;
	p->field_depth = p->depth;
	p->field_rank = r->rank;
	p->reading = r->reading;
	p->field_type = TEXT_PLAIN;
	p->field_base64 = p->markup = p->strip_div = p->raw_markup = false;
	p->field_base = parse_base(p);
	buf_reset(&p->text);
	p->text.cap = p->field == F_SUMMARY || p->field == F_CONTENT ? PARSE_MAX_CONTENT :
								       PARSE_MAX_TEXT;
	switch (r->reading) {
	case R_HTML: p->field_type = TEXT_HTML; break;
	case R_XHTML: p->field_type = TEXT_XHTML, p->markup = true; break;
	case R_CONSTRUCT: parse_construct(p, attrs, nattrs); break;
	case R_MEDIA:
		if (parse_attr(p, attrs, nattrs, NULL, "type", type, sizeof type) != NULL &&
		    strcasecmp(type, "html") == 0)
			p->field_type = TEXT_HTML;
		break;
	default: break;
	}
	free(p->field_href);
	p->field_href = NULL;
	if ((p->field == F_LINK || p->field == F_FEED_LINK) && r->ns == NS_RSS)
		p->field_href = parse_attr_dup(p, attrs, nattrs, "href"); /* <link href=""/> */
	if (p->field == F_ID && p->dialect != DIALECT_ATOM && r->ns == NS_RSS) {
		char perma[16];

		p->guid_permalink = parse_attr(p, attrs, nattrs, NULL, "isPermaLink", perma,
		    sizeof perma) == NULL || strcasecmp(perma, "false") != 0;
	}
	if (p->field == F_CATEGORY) {
		free(p->cat_scheme), free(p->cat_label);
		p->cat_scheme = parse_attr_dup(p, attrs, nattrs, r->ns == NS_RSS ? "domain" : "scheme");
		p->cat_label = parse_attr_dup(p, attrs, nattrs, "label");
		if (r->ns == NS_MEDIA && p->cat_scheme == NULL) /* Media RSS's default */
			p->cat_scheme = xstrdup("http://search.yahoo.com/mrss/category_schema");
	}
}

/* Elements whose meaning is in their attributes. */
static enum kind
parse_attr_element(struct parser *p, const struct rule *r, const xmlChar **attrs, int nattrs)
{
	struct item *it = p->item;
	char res[PARSE_MAX_URL];
	char *v;

	switch (r->action) {
	case A_ATOM_LINK:
		if (parse_atom_link(p, attrs, nattrs, r->rank)) {
			static const struct rule capture = {K_OTHER, NS_ATOM, "link", A_FIELD,
				F_ATOM_LINK, 0, R_PLAIN};

			parse_begin_field(p, &capture, attrs, nattrs);
			return K_FIELD;
		}
		break;
	case A_ATOM_CATEGORY:
		parse_add_category(it, parse_attr_dup(p, attrs, nattrs, "term"),
		    parse_attr_dup(p, attrs, nattrs, "scheme"), parse_attr_dup(p, attrs, nattrs, "label"));
		break;
	case A_ITUNES_CATEGORY:
		parse_add_category(it, parse_attr_dup(p, attrs, nattrs, "text"),
		    xstrdup("http://www.itunes.com/"), NULL);
		return K_ITUNES_CATEGORY;
	case A_ENCLOSURE: parse_enclosure(p, attrs, nattrs, ENCLOSURE); break;
	case A_MEDIA_CONTENT: parse_enclosure(p, attrs, nattrs, ENCLOSURE_MEDIA); return K_MEDIA;
	case A_MEDIA_THUMBNAIL: parse_enclosure(p, attrs, nattrs, ENCLOSURE_THUMBNAIL); break;
	case A_SOURCE:
		parse_add_link(it, LINK_VIA, NULL, parse_attr_url(p, attrs, nattrs, "url"), NULL,
		    NULL, -1);
		break;
	case A_ITUNES_IMAGE:
		if ((v = parse_attr_url(p, attrs, nattrs, "href")) == NULL)
			v = parse_attr_url(p, attrs, nattrs, "url"); /* a common mistake */
		parse_set(&p->info.logo, p->feed_rank, F_FEED_LOGO, r->rank, v);
		break;
	case A_GENERATOR_AGENT:
		v = parse_attr(p, attrs, nattrs, NS_RDF_URI, "resource", res, sizeof res) != NULL ?
		    url_resolve(parse_base(p), res) : NULL;
		parse_set(&p->info.generator, p->feed_rank, F_FEED_GENERATOR, r->rank, v);
		break;
	default: break;
	}
	return K_OTHER;
}

/* ---- markup inside a field ---- */

/*
 * Append at most what the cap allows, so an oversized field is cut rather
 * than lost: at a character boundary (the text is UTF-8 by now).  Once cut,
 * the field is full: a shorter character arriving in a later callback must
 * not fill the bytes left over, or the text would depend on how the bytes
 * were chunked (fuzz_parse).
 */
static void
parse_text_add(struct parser *p, const char *s, size_t len)
{
	size_t room = p->text.cap - p->text.len;

	if (len < room) {
		buf_add(&p->text, s, len);
		return;
	}
	buf_add(&p->text, s, text_utf8_cut(s, room));
	if (p->text.len > 0)
		p->text.cap = p->text.len; /* until the next field resets it */
}

static void
parse_text_escaped(struct parser *p, const char *s, size_t len, bool attr)
{
	struct buf tmp;

	buf_init(&tmp, 0);
	text_xml_escape(&tmp, s, len, attr);
	parse_text_add(p, tmp.data != NULL ? tmp.data : "", tmp.len);
	buf_free(&tmp);
}

static void
parse_markup_name(struct parser *p, const xmlChar *prefix, const char *name)
{
	if (prefix != NULL) {
		parse_text_add(p, (const char *)prefix, strlen((const char *)prefix));
		parse_text_add(p, ":", 1);
	}
	parse_text_add(p, name, strlen(name));
}

/*
 * Namespaces in serialised markup, written the way HTML5 parsers read
 * them: no element prefixes; an element whose namespace differs from its
 * parent's (SVG, MathML inside XHTML) carries xmlns="..."; a prefixed
 * attribute (xlink:href) carries its xmlns:prefix declaration.
 */
static void
parse_markup_ns(struct parser *p, const xmlChar *uri, const xmlChar **attrs, int nattrs)
{
	const struct frame *parent = &p->stack[p->depth - 1];
	const char *u = (const char *)uri;

	enum ns ns = p->stack[p->depth].ns;

	if (u != NULL && ns != NS_XHTML && ns != NS_RSS && ns != NS_ATOM && uri != p->root_uri &&
	    (p->depth == p->field_depth + 1 || parent->uri == NULL ||
		strcmp((const char *)parent->uri, u) != 0)) {
		parse_text_add(p, " xmlns=\"", 8);
		parse_text_escaped(p, u, strlen(u), true);
		parse_text_add(p, "\"", 1);
	}
	for (int i = 0; i < nattrs; i++) {
		const xmlChar **a = attrs + (ptrdiff_t)i * 5;
		bool seen = false;

		if (a[1] == NULL || a[2] == NULL || strcmp((const char *)a[1], "xml") == 0)
			continue;
		for (int j = 0; j < i && !seen; j++)
			seen = attrs[j * 5 + 1] != NULL && strcmp((const char *)attrs[j * 5 + 1],
								(const char *)a[1]) == 0;
		if (seen)
			continue;
		parse_text_add(p, " xmlns:", 7);
		parse_text_add(p, (const char *)a[1], strlen((const char *)a[1]));
		parse_text_add(p, "=\"", 2);
		parse_text_escaped(p, (const char *)a[2], strlen((const char *)a[2]), true);
		parse_text_add(p, "\"", 1);
	}
}

/* Serialise a start tag inside a field, resolving URL attributes against the base in force. */
static void
parse_markup_start(struct parser *p, enum ns ns, const char *name, const xmlChar *uri,
    const xmlChar **attrs, int nattrs)
{
	struct frame *f = &p->stack[p->depth];

	if (p->strip_div && p->depth == p->field_depth + 1 && ns == NS_XHTML &&
	    strcmp(name, "div") == 0) {
		f->markup_skip = true;
		p->strip_div = false;
		return;
	}
	parse_text_add(p, "<", 1);
	parse_text_add(p, name, strlen(name));
	parse_markup_ns(p, uri, attrs, nattrs);
	for (int i = 0; i < nattrs; i++) {
		const xmlChar **a = attrs + (ptrdiff_t)i * 5;
		const char *aname = (const char *)a[0], *v = (const char *)a[3];
		size_t len = (size_t)(a[4] - a[3]);
		char *abs = NULL;

		if (a[2] != NULL && strcmp((const char *)a[2], NS_XML_URI) == 0 &&
		    strcmp(aname, "base") == 0)
			continue; /* already applied to the URLs */
		parse_text_add(p, " ", 1);
		parse_markup_name(p, a[1], aname);
		parse_text_add(p, "=\"", 2);
		if (text_is_url_attr(aname) && len < PARSE_MAX_URL) {
			char *raw = xstrndup(v, len);

			abs = url_resolve(parse_base(p), raw);
			free(raw);
		}
		if (abs != NULL)
			parse_text_escaped(p, abs, strlen(abs), true);
		else
			parse_text_escaped(p, v, len, true);
		free(abs);
		parse_text_add(p, "\"", 1);
	}
	/* HTML's empty elements (in XHTML, or naked in the feed) end at once: "<br />". */
	f->markup_void = (ns == NS_XHTML || ns == p->root_ns || f->uri == NULL) &&
			 text_html_is_void(name);
	parse_text_add(p, f->markup_void ? " />" : ">", f->markup_void ? 3 : 1);
}

static void
parse_markup_end(struct parser *p, const char *name)
{
	const struct frame *f = &p->stack[p->depth];

	if (f->markup_skip || f->markup_void)
		return;
	parse_text_add(p, "</", 2);
	parse_text_add(p, name, strlen(name));
	parse_text_add(p, ">", 1);
}

/*
 * A child element in a field that was not declared to hold markup: it holds
 * HTML that was not escaped ("naked" markup).  Its text is taken as HTML
 * source, as it would have been had the publisher escaped it all.
 */
static void
parse_markup_begin(struct parser *p)
{
	p->markup = true;
	p->raw_markup = false;
	if (p->field_type == TEXT_PLAIN)
		p->field_type = TEXT_HTML;
}

/* ---- SAX callbacks ---- */

/*
 * libxml2 2.9 drops every entity reference (even &amp;) once it has seen
 * one well-formedness error, when recovering.  We track well-formedness
 * ourselves, so we keep telling it all is well.
 */
static void
parse_keep_references(struct parser *p)
{
	p->ctxt->wellFormed = 1;
}

static void
parse_open_item(struct parser *p, const xmlChar **attrs, int nattrs)
{
	char about[PARSE_MAX_URL];

	p->item = xcalloc(1, sizeof *p->item);
	memset(p->item_rank, 0, sizeof p->item_rank);
	p->guid_permalink = false;
	if (parse_attr(p, attrs, nattrs, NS_RDF_URI, "about", about, sizeof about) != NULL &&
	    about[0] != '\0')
		parse_set(&p->item->id, p->item_rank, F_ID, 1, xstrdup(about));
}

/* parse_rule for a name from libxml2's dictionary, remembered. */
static const struct rule *
parse_rule_interned(struct parser *p, enum kind parent, enum ns ns, const char *name)
{
	struct rule_memo *m = &p->rule_memo[((uintptr_t)name >> 3 ^ (uintptr_t)parent * 31 ^
						(uintptr_t)ns * 7) % PARSE_RULE_MEMO];

	if (m->name != name || m->parent != parent || m->ns != ns) {
		m->name = name;
		m->parent = parent;
		m->ns = ns;
		m->rule = parse_rule(parent, ns, name);
	}
	return m->rule;
}

/* A child of an element of kind `parent`: what does it open? */
static enum kind
parse_element(struct parser *p, enum kind parent, enum ns ns, const char *name,
    const xmlChar **attrs, int nattrs)
{
	const struct rule *r = parse_rule_interned(p, parent, ns, name);
	char lang[64];

	if (r == NULL)
		return K_OTHER;
	switch (r->action) {
	case A_FIELD:
		if (p->item == NULL && r->arg < F_FEED_TITLE && r->arg != F_PERSON_NAME &&
		    r->arg != F_PERSON_EMAIL && r->arg != F_PERSON_URI)
			return K_OTHER;
		parse_begin_field(p, r, attrs, nattrs);
		return K_FIELD;
	case A_ITEM:
		if (p->item != NULL)
			return K_OTHER;
		parse_open_item(p, attrs, nattrs);
		return K_ITEM;
	case A_FRAME:
		if ((enum kind)r->arg == K_CHANNEL &&
		    parse_attr(p, attrs, nattrs, NS_XML_URI, "lang", lang, sizeof lang) != NULL &&
		    p->root_lang == NULL)
			p->root_lang = xstrdup(lang);
		return (enum kind)r->arg;
	default:
		if (p->item == NULL && r->action != A_ATOM_LINK && r->action != A_ITUNES_IMAGE &&
		    r->action != A_GENERATOR_AGENT)
			return K_OTHER;
		return parse_attr_element(p, r, attrs, nattrs);
	}
}

/* The innermost element that is still open to us (closed frames are libxml2's leftovers). */
static int
parse_open_parent(const struct parser *p)
{
	int d = p->depth - 1;

	while (d > 1 && p->stack[d].closed)
		d--;
	return d;
}

static void
parse_on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
    int nns, const xmlChar **nss, int nattrs, int ndefaulted, const xmlChar **attrs)
{
	struct parser *p = ctx;
	const char *name = (const char *)localname;
	enum ns ns;
	enum kind parent;

	(void)ndefaulted;
	p->tag_line = parse_line(p);
	parse_keep_references(p);
	if (++p->depth > PARSE_MAX_DEPTH)
		return;
	ns = uri == NULL && prefix != NULL ? parse_ns_by_prefix(prefix) : parse_ns(p, uri);
	p->stack[p->depth] = (struct frame){ns, name, uri, K_OTHER, false, false, false, false};
	if (p->depth == 1) {
		parse_root(p, uri, name, nns, nss, attrs, nattrs);
		/* not a feed: xmlStopParser freed the input `attrs` points into */
		if (p->dialect == DIALECT_UNKNOWN)
			return;
		p->stack[1].ns = parse_ns(p, uri);
	}
	parse_push_base(p, attrs, nattrs);
	if (p->depth == 1) {
		p->stack[1].kind = p->dialect == DIALECT_ATOM ? K_CHANNEL : K_ROOT;
		return;
	}
	parent = p->stack[parse_open_parent(p)].kind;
	if (p->dialect == DIALECT_RDF && p->depth == 2 && uri != NULL &&
	    strcmp((const char *)uri, NS_RSS090_URI) == 0)
		snprintf(p->version, sizeof p->version, "rss090");
	if (parent == K_FIELD || (p->field != F_NONE && p->depth > p->field_depth)) {
		p->stack[p->depth].kind = K_FIELD;
		if (p->raw_markup || (!p->markup && p->field_type != TEXT_XHTML))
			parse_markup_begin(p);
		parse_markup_start(p, ns, name, uri, attrs, nattrs);
		return;
	}
	p->stack[p->depth].kind = parse_element(p, parent, ns, name, attrs, nattrs);
}

/*
 * Make field text what the item holds: titles plain text, HTML with its
 * URLs resolved, white space trimmed or collapsed.  Works in place on `src`
 * or writes to `res`; returns whichever holds the result.
 */
static struct buf *
parse_shape_text(struct parser *p, struct buf *src, struct buf *res)
{
	/* Titles (and the feed's subtitle, which has no type to go with it) are plain text. */
	bool title = p->field == F_TITLE || p->field == F_FEED_TITLE || p->field == F_FEED_SUBTITLE;
	bool html_field = p->field == F_SUMMARY || p->field == F_CONTENT;

	if (p->field_type == TEXT_PLAIN && (p->reading == R_PLAIN || p->atom03) &&
	    (title || html_field) && text_looks_like_html(src->data))
		p->field_type = TEXT_HTML; /* RSS titles and the like: HTML if they look it */
	if (title && p->field_type != TEXT_PLAIN) {
		text_html_to_plain(res, src->data, src->len);
		return res;
	}
	if (html_field && p->field_type != TEXT_PLAIN) {
		if (text_html_resolve(res, src->data, src->len, p->field_base))
			src = res;
		text_trim(src->data);
	} else if (html_field)
		text_trim(src->data);
	else
		text_collapse_ws(src->data);
	return src;
}

/* The captured text, read by its type and cleaned; NULL when empty. */
static char *
parse_take_text(struct parser *p)
{
	struct buf dec, res, *src = &p->text;
	char *out;

	/*
	 * What libxml2 hands us is clean already: feeds/charset gave it valid
	 * UTF-8 with only characters XML allows, character references it checks,
	 * and the entities we expand are cleaned (parse_get_entity).  Only what
	 * base64 decodes to must be checked: if it is not clean text, it was not
	 * base64 (type="custom/type").
	 */
	buf_init(&dec, 0);
	buf_init(&res, 0);
	if (p->field_base64 && text_base64_decode(&dec, p->text.data != NULL ? p->text.data : "",
				   p->text.len) == 0 &&
	    dec.len > 0 && text_is_clean(dec.data, dec.len))
		src = &dec;
	if (src->len > 0)
		src = parse_shape_text(p, src, &res);
	/* The text buffer is kept for the next field: what it holds is copied out, at its size. */
	if (src->data == NULL || src->data[0] == '\0')
		out = NULL;
	else
		out = src == &p->text ? xstrdup(src->data) : buf_steal(src);
	buf_reset(&p->text);
	buf_free(&dec);
	buf_free(&res);
	return out;
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
	long long n;

	switch (f) {
	case F_FEED_TTL:
		if ((n = parse_number(text, 365LL * 24 * 60)) > 0)
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

/* Whether `s` starts with a URI scheme ("tag:", "urn:", "http:"). */
static bool
parse_has_scheme(const char *s)
{
	size_t i = 0;

	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	while (s[i] != '\0' && strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.",
				    s[i]) != NULL)
		i++;
	return s[i] == ':';
}

static char *
parse_url(const struct parser *p, char *text)
{
	char *abs = text != NULL ? url_resolve(parse_base(p), text) : NULL;

	free(text);
	return abs;
}

/* `text` resolved as a URL, or left as it is when there is no base to resolve it against. */
static char *
parse_url_or_keep(const struct parser *p, char *text)
{
	char *abs = url_resolve(parse_base(p), text);

	if (abs == NULL)
		return text;
	free(text);
	return abs;
}

/* The end of a captured field of an item (or of an atom:author in one). */
static void
parse_end_item_field(struct parser *p, enum field f, char *text)
{
	struct item *it = p->item;
	int rank = p->field_rank;
	struct item_person person = {NULL, NULL, NULL};

	switch (f) {
	case F_TITLE: parse_set(&it->title, p->item_rank, f, rank, text); break;
	case F_ID:
		/* An Atom id is an IRI: a relative one is resolved, as feedparser and gofeed do. */
		if (p->dialect == DIALECT_ATOM && text != NULL && !parse_has_scheme(text))
			text = parse_url_or_keep(p, text);
		parse_set(&it->id, p->item_rank, f, rank, text);
		break;
	case F_LINK:
		if ((text = parse_url(p, text)) != NULL) {
			parse_add_link(it, LINK_ALTERNATE, NULL, xstrdup(text), NULL, NULL, -1);
			parse_set(&it->link, p->item_rank, f, rank, text);
		}
		break;
	case F_COMMENTS: parse_set(&it->comments, p->item_rank, f, rank, parse_url(p, text)); break;
	case F_PUBLISHED:
	case F_UPDATED:
		parse_set_date(f == F_PUBLISHED ? &it->published : &it->updated, p->item_rank, f, rank,
		    text);
		break;
	case F_SUMMARY:
	case F_CONTENT:
		if (text != NULL && parse_rank_ok(p->item_rank, f, rank,
					(f == F_SUMMARY ? it->summary : it->content) != NULL, false)) {
			free(f == F_SUMMARY ? it->summary : it->content);
			*(f == F_SUMMARY ? &it->summary : &it->content) = text;
			*(f == F_SUMMARY ? &it->summary_type : &it->content_type) = p->field_type;
		} else
			free(text);
		break;
	case F_AUTHOR:
		if (text != NULL) {
			parse_person_text(text, &person);
			parse_add_person(&it->authors, &it->nauthors, &person);
		}
		break;
	case F_CATEGORY:
		parse_add_category(it, text, p->cat_scheme, p->cat_label);
		p->cat_scheme = p->cat_label = NULL;
		break;
	case F_KEYWORDS:
		for (char *k = text, *next; k != NULL; k = next) {
			if ((next = strchr(k, ',')) != NULL)
				*next++ = '\0';
			if (text_collapse_ws(k)[0] != '\0')
				parse_add_category(it, xstrdup(k), NULL, NULL);
		}
		free(text);
		break;
	default: free(text); break;
	}
}

static void
parse_end_feed_field(struct parser *p, enum field f, char *text)
{
	struct feed_info *fi = &p->info;
	int rank = p->field_rank;

	switch (f) {
	case F_FEED_TITLE: parse_set(&fi->title, p->feed_rank, f, rank, text); break;
	case F_FEED_ID:
		if (p->dialect == DIALECT_ATOM && text != NULL && !parse_has_scheme(text))
			text = parse_url_or_keep(p, text);
		parse_set(&fi->id, p->feed_rank, f, rank, text);
		break;
	case F_FEED_SUBTITLE: parse_set(&fi->subtitle, p->feed_rank, f, rank, text); break;
	case F_FEED_LANGUAGE:
		for (char *c = text; c != NULL && *c != '\0'; c++)
			if (*c == '_')
				*c = '-'; /* en_US is en-US (BCP 47) */
		parse_set(&fi->language, p->feed_rank, f, rank, text);
		break;
	case F_FEED_GENERATOR: parse_set(&fi->generator, p->feed_rank, f, rank, text); break;
	case F_FEED_UPDATED: parse_set_date(&fi->updated, p->feed_rank, f, rank, text); break;
	case F_FEED_LINK: parse_set(&fi->link, p->feed_rank, f, rank, parse_url(p, text)); break;
	case F_FEED_ICON: parse_set(&fi->icon, p->feed_rank, f, rank, parse_url(p, text)); break;
	case F_FEED_LOGO: parse_set(&fi->logo, p->feed_rank, f, rank, parse_url(p, text)); break;
	default: parse_end_hint(p, f, text); break;
	}
}

static void
parse_end_field(struct parser *p)
{
	enum field f = p->field;
	char *text = parse_take_text(p);

	if (text == NULL && p->field_href != NULL) {
		text = p->field_href;
		p->field_href = NULL;
	}
	p->field = F_NONE;
	switch (f) {
	case F_PERSON_NAME: parse_set(&p->person.name, p->item_rank, f, 0, text); break;
	case F_PERSON_EMAIL: parse_set(&p->person.email, p->item_rank, f, 0, text); break;
	case F_PERSON_URI: parse_set(&p->person.uri, p->item_rank, f, 0, parse_url(p, text)); break;
	case F_ATOM_LINK:
		parse_link(p, p->link.rel, parse_url(p, text), p->link.type, p->link.title,
		    p->link.length, p->link.rank);
		p->link.type = p->link.title = NULL;
		break;
	default:
		if (f >= F_FEED_TITLE)
			parse_end_feed_field(p, f, text);
		else if (p->item != NULL)
			parse_end_item_field(p, f, text);
		else
			free(text);
		break;
	}
}

/* An atom:author ends: it goes to the item, or to the feed (for entries that name none). */
static void
parse_end_person(struct parser *p)
{
	p->item_rank[F_PERSON_NAME] = p->item_rank[F_PERSON_EMAIL] = p->item_rank[F_PERSON_URI] = 0;
	if (p->item != NULL)
		parse_add_person(&p->item->authors, &p->item->nauthors, &p->person);
	else
		parse_add_person(&p->feed_authors, &p->nfeed_authors, &p->person);
}

static void
parse_copy_people(struct item *it, const struct item_person *from, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct item_person copy = {from[i].name != NULL ? xstrdup(from[i].name) : NULL,
			from[i].email != NULL ? xstrdup(from[i].email) : NULL,
			from[i].uri != NULL ? xstrdup(from[i].uri) : NULL};

		parse_add_person(&it->authors, &it->nauthors, &copy);
	}
}

static void
parse_end_item(struct parser *p)
{
	struct item *it = p->item;

	p->item = NULL;
	if (p->dialect != DIALECT_ATOM)
		it->id_is_permalink = it->id != NULL && p->guid_permalink;
	/* RSS: a guid that is a permalink stands in for a missing link. */
	if (it->link == NULL && it->id_is_permalink &&
	    (it->link = url_resolve(parse_base(p), it->id)) != NULL)
		parse_add_link(it, LINK_ALTERNATE, NULL, xstrdup(it->link), NULL, NULL, -1);
	/* Atom: an entry without an author has the feed's (RFC 4287 4.2.1). */
	if (it->nauthors == 0 && p->dialect == DIALECT_ATOM)
		parse_copy_people(it, p->feed_authors, p->nfeed_authors);
	if (it->nauthors > 0)
		it->author = xstrdup(it->authors[0].name != NULL ? it->authors[0].name :
		    it->authors[0].email != NULL ? it->authors[0].email : it->authors[0].uri);
	p->nitems++;
	p->cb(p->arg, it);
}

/* What the end of the element at `depth` means. */
static void
parse_end_frame(struct parser *p, int depth, const char *name)
{
	struct frame *f = &p->stack[depth];

	if (f->closed)
		return;
	f->closed = true;
	if (p->field != F_NONE && depth == p->field_depth)
		parse_end_field(p);
	else if (p->field != F_NONE && depth > p->field_depth) {
		int saved = p->depth;

		p->depth = depth;
		parse_markup_end(p, name);
		p->depth = saved;
	} else if (f->kind == K_ITEM && p->item != NULL)
		parse_end_item(p);
	else if (f->kind == K_PERSON)
		parse_end_person(p);
}

/*
 * A mismatched end tag ("<p>text</description>"): libxml2 ends only the
 * innermost element and keeps the rest open, which would swallow the rest
 * of the feed into the description.  We end, as browsers and feedparser's
 * loose parser do, every element up to the one the tag names, if it is open.
 */
static void
parse_end_mismatched(struct parser *p)
{
	const char *colon = strchr(p->mismatch, ':');
	const char *want = colon != NULL ? colon + 1 : p->mismatch;
	int d;

	for (d = p->depth - 1; d >= 1; d--)
		if (!p->stack[d].closed && strcmp(p->stack[d].name, want) == 0)
			break;
	for (int e = p->depth - 1; d >= 1 && e >= d; e--)
		parse_end_frame(p, e, p->stack[e].name);
	free(p->mismatch);
	p->mismatch = NULL;
}

static void
parse_on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
	struct parser *p = ctx;

	(void)uri, (void)prefix;
	parse_keep_references(p);
	if (p->depth > PARSE_MAX_DEPTH) {
		p->depth--;
		return;
	}
	p->tag_line = parse_line(p);
	parse_end_frame(p, p->depth, (const char *)localname);
	if (p->mismatch != NULL)
		parse_end_mismatched(p);
	if (p->stack[p->depth].pushed_base)
		free(p->bases[--p->nbases]);
	p->depth--;
}

static void
parse_on_characters(void *ctx, const xmlChar *ch, int len)
{
	struct parser *p = ctx;

	parse_keep_references(p);
	if (p->field == F_NONE || len <= 0)
		return;
	if (p->field_type == TEXT_XHTML && !p->raw_markup)
		parse_text_escaped(p, (const char *)ch, (size_t)len, false);
	else
		parse_text_add(p, (const char *)ch, (size_t)len);
}

/*
 * Entities.  libxml2 asks us for every entity it does not know itself (the
 * five of XML it handles alone).  In text we hand back a "predefined"
 * entity, which it inlines as characters.  In an attribute value it would
 * copy only the first byte of one, so there we hand back an internal one
 * marked checked, which leaves "&name;" in the value for parse_attr to
 * decode.
 */
static xmlEntityPtr
parse_get_entity(void *ctx, const xmlChar *name)
{
	struct parser *p = ctx;
	const char *value = charset_entity(p->cs, (const char *)name);
	unsigned cp = value == NULL ? text_html_entity((const char *)name) : 0;

	buf_reset(&p->scratch_value);
	if (value != NULL && p->expanded + strlen(value) > PARSE_MAX_EXPANSION) {
		buf_addf(&p->scratch_value, "&%s;", name);
		parse_problem(p, parse_line(p), "entities expand to more than %zu bytes: &%s; and"
		    " the rest kept as text", PARSE_MAX_EXPANSION, name);
	} else if (value != NULL) { /* a DOCTYPE's: its value was never checked */
		p->expanded += strlen(value);
		text_append_clean(&p->scratch_value, value, strlen(value));
	} else if (cp != 0) {
		charset_put_utf8(&p->scratch_value, cp);
		parse_problem(p, parse_line(p), "undeclared entity &%s; (read as HTML)", name);
	} else {
		/* Unknown: keep the reference as text rather than lose it. */
		buf_addf(&p->scratch_value, "&%s;", name);
		parse_problem(p, parse_line(p), "undeclared entity &%s;", name);
	}
	memset(&p->scratch, 0, sizeof p->scratch);
	p->scratch.type = XML_ENTITY_DECL;
	p->scratch.name = name;
	p->scratch.content = (xmlChar *)p->scratch_value.data;
	p->scratch.length = (int)p->scratch_value.len;
	if (p->ctxt->instate == XML_PARSER_START_TAG ||
	    p->ctxt->instate == XML_PARSER_ATTRIBUTE_VALUE) {
		p->scratch.etype = XML_INTERNAL_GENERAL_ENTITY;
		p->scratch.checked = 1;
	} else
		p->scratch.etype = XML_INTERNAL_PREDEFINED_ENTITY;
	return &p->scratch;
}

static void
parse_on_error(void *ctx, xmlErrorPtr err)
{
	struct parser *p = ctx;
	char msg[200];
	size_t len;

	if (err == NULL || err->level == XML_ERR_WARNING)
		return;
	/*
	 * Not the document's fault: we decode it ourselves, so the declaration's
	 * encoding name is never used; and external entities (a DTD's parameter
	 * entities included) are ours to refuse.
	 */
	if (err->code == XML_ERR_ENCODING_NAME || err->domain == XML_FROM_IO ||
	    (err->code == XML_ERR_UNDECLARED_ENTITY && p->ctxt->inSubset != 0))
		return;
	if (err->code == XML_ERR_TAG_NAME_MISMATCH && err->str2 != NULL) {
		free(p->mismatch);
		p->mismatch = xstrdup(err->str2); /* the end tag, for parse_on_end */
	}
	snprintf(msg, sizeof msg, "%s", err->message != NULL ? err->message : "parse error");
	/* libxml2's own words for its cap on one piece of markup (a 50 MB attribute) say too little */
	if (err->code == XML_ERR_INTERNAL_ERROR && strstr(msg, "Huge input lookup") != NULL)
		snprintf(msg, sizeof msg, "markup over %d bytes in one piece (a tag, an attribute,"
		    " a comment): not read further", XML_MAX_LOOKUP_LIMIT);
	len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		msg[--len] = '\0';
	/*
	 * "Extra content at the end of the document" (after the root element,
	 * or where libxml2 gave up inside it): libxml2 says where it noticed,
	 * which depends on how the bytes arrived (fuzz_parse found line 9 read
	 * whole, line 10 in 2-byte chunks).  The last tag read before it does not.
	 */
	if (err->code == XML_ERR_DOCUMENT_END) {
		parse_problem(p, p->tag_line, "%s", msg);
		return;
	}
	parse_problem(p, err->line > 0 ? (unsigned long)err->line + charset_line_offset(p->cs) : 0,
	    "%s", msg);
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
	.getEntity = parse_get_entity,
	.serror = parse_on_error,
};

/* ---- the public API ---- */

static void
parse_json_item(void *arg, struct item *item)
{
	struct parser *p = arg;

	p->nitems++;
	p->cb(p->arg, item);
}

struct parser *
parse_new(const char *doc_url, const char *content_type, parse_item_cb cb, void *arg)
{
	struct parser *p = xcalloc(1, sizeof *p);

	p->cb = cb;
	p->arg = arg;
	p->doc_url = doc_url != NULL ? xstrdup(doc_url) : NULL;
	p->cs = charset_new(content_type);
	buf_init(&p->text, PARSE_MAX_TEXT);
	buf_init(&p->scratch_value, 0);
	return p;
}

static void
parse_start_xml(struct parser *p)
{
	p->ctxt = xmlCreatePushParserCtxt(&parse_sax, p, NULL, 0, p->doc_url);
	if (p->ctxt == NULL)
		fatalx("xmlCreatePushParserCtxt: out of memory");
	xmlCtxtUseOptions(p->ctxt, XML_PARSE_RECOVER | XML_PARSE_NONET | XML_PARSE_NOCDATA |
	    XML_PARSE_IGNORE_ENC);
	xmlSwitchEncoding(p->ctxt, XML_CHAR_ENCODING_UTF8);
}

/* Hand decoded text to whichever parser the document turned out to need. */
static void
parse_feed(struct parser *p, const char *text, size_t len, bool final)
{
	if (len == 0 && !final)
		return;
	if (p->ctxt == NULL && p->json == NULL) {
		if (charset_is_json(p->cs)) {
			p->json = jsonfeed_new(p->doc_url, &p->info, parse_json_item, p);
			p->dialect = DIALECT_JSON;
		} else
			parse_start_xml(p);
	}
	if (p->json != NULL) {
		jsonfeed_push(p->json, text, len);
		return;
	}
	for (size_t off = 0; off < len || (final && off == 0);) {
		size_t n = len - off > INT32_MAX ? INT32_MAX : len - off;

		xmlParseChunk(p->ctxt, text + off, (int)n, final && off + n == len);
		off += n;
		if (n == 0)
			break;
	}
}

static bool
parse_stopped(const struct parser *p)
{
	return p->ctxt != NULL && p->ctxt->disableSAX;
}

int
parse_push(struct parser *p, const char *data, size_t len)
{
	if (p->finished)
		return -1;
	while (len > 0 && !parse_stopped(p)) {
		size_t n = len < PARSE_SLICE ? len : PARSE_SLICE, textlen;
		const char *text = charset_push(p->cs, data, n, &textlen);

		parse_feed(p, text, textlen, false);
		data += n;
		len -= n;
	}
	return parse_stopped(p) ? -1 : 0;
}

/*
 * What the charset layer and JSON side found wrong, in with the rest.  Not
 * for what is no feed: the charset layer runs ahead of libxml2, so what it
 * saw past the root element would depend on how the bytes were chunked.
 */
static void
parse_collect_problems(struct parser *p)
{
	unsigned long line = 0;
	const char *e = charset_error(p->cs, &line);

	if (p->dialect == DIALECT_UNKNOWN)
		return;
	if (e != NULL)
		parse_problem(p, line, "%s", e);
	if (p->json != NULL && (e = jsonfeed_error(p->json, &line)) != NULL)
		parse_problem(p, line, "%s", e);
}

int
parse_finish(struct parser *p)
{
	if (p->finished)
		return p->dialect == DIALECT_UNKNOWN ? -1 : 0;
	p->finished = true;
	if (!parse_stopped(p)) {
		size_t textlen;
		const char *text = charset_finish(p->cs, &textlen);

		if (p->ctxt == NULL && p->json == NULL && textlen == 0) {
			parse_set_error(p, 0, "empty document");
			return -1;
		}
		parse_feed(p, text, textlen, true);
	}
	if (p->json != NULL) {
		jsonfeed_finish(p->json);
		if (!jsonfeed_is_feed(p->json))
			p->dialect = DIALECT_UNKNOWN;
		snprintf(p->version, sizeof p->version, "%s", jsonfeed_version(p->json));
	}
	parse_collect_problems(p);
	/* An item cut off by the end of the document is salvaged as it stands. */
	while (p->field != F_NONE || p->item != NULL) {
		if (p->field != F_NONE)
			parse_end_field(p);
		else
			parse_end_item(p);
	}
	if (p->dialect == DIALECT_UNKNOWN) {
		parse_set_error(p, 0, p->json != NULL ? "not a feed: JSON, but not a JSON Feed" :
							"not a feed");
		return -1;
	}
	if (p->info.language == NULL && p->root_lang != NULL && p->root_lang[0] != '\0') {
		p->info.language = xstrdup(p->root_lang);
		for (char *c = p->info.language; *c != '\0'; c++)
			if (*c == '_')
				*c = '-';
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
	if (p->ctxt != NULL) {
		/* libxml2 makes a document to hold declared entities "for expat compatibility" */
		if (p->ctxt->myDoc != NULL)
			xmlFreeDoc(p->ctxt->myDoc);
		xmlFreeParserCtxt(p->ctxt);
	}
	jsonfeed_free(p->json);
	charset_free(p->cs);
	item_free(p->item);
	parse_person_free(&p->person);
	for (size_t i = 0; i < p->nfeed_authors; i++)
		parse_person_free(&p->feed_authors[i]);
	free(p->feed_authors);
	while (p->nbases > 0)
		free(p->bases[--p->nbases]);
	free(p->bases);
	feed_info_clear(&p->info);
	buf_free(&p->text);
	buf_free(&p->scratch_value);
	free(p->cat_scheme);
	free(p->cat_label);
	free(p->link.type);
	free(p->link.title);
	free(p->field_href);
	free(p->mismatch);
	free(p->root_lang);
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
	case DIALECT_JSON: return "json";
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

unsigned long
parse_error_line(const struct parser *p)
{
	return p->error != NULL ? p->error_line : 0;
}

const char *
parse_version(const struct parser *p)
{
	return p->version;
}

const char *
parse_encoding(const struct parser *p)
{
	return charset_name(p->cs);
}
