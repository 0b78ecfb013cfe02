/*
 * parse: a push parser for feeds.  Bytes in, items out; no I/O of its own.
 *
 *	p = parse_new(url, content_type, on_item, arg);
 *	parse_push(p, chunk, len);	(as often as bytes arrive, any chunk size)
 *	parse_finish(p);
 *	... parse_feed_info(p), parse_error(p) ...
 *	parse_free(p);
 *
 * Memory is bounded by one item: each item goes to the callback as soon as
 * its end tag is read, and every field is capped.  Ill-formed documents are
 * salvaged as far as libxml2's recovery allows and flagged.
 */
#ifndef FEEDMUX_PARSE_H
#define FEEDMUX_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "feeds/item.h"

enum parse_dialect {
	DIALECT_UNKNOWN = 0,
	DIALECT_RSS,  /* RSS 0.91-0.94 and 2.0 */
	DIALECT_RDF,  /* RSS 0.90 and 1.0 */
	DIALECT_ATOM, /* Atom 1.0, 0.3 and its drafts */
	DIALECT_JSON, /* JSON Feed 1.0 and 1.1 */
};

/* Caps on what one item may hold; longer text is cut at a character boundary. */
#define PARSE_MAX_TEXT	  ((size_t)64 * 1024)	/* titles, links, ids, dates, names */
#define PARSE_MAX_CONTENT ((size_t)1024 * 1024) /* summary and content */
#define PARSE_MAX_LINKS	  32 /* links and enclosures: the rest are dropped (likewise below) */
#define PARSE_MAX_AUTHORS 16
#define PARSE_MAX_CATEGORIES 64

struct parser;

/* Called once per item, in document order; the callee owns `item` (item_free). */
typedef void (*parse_item_cb)(void *arg, struct item *item);

/*
 * `doc_url` is the document's own URL, the last base for relative links
 * (may be NULL).  `content_type` is the HTTP Content-Type, or NULL: its
 * charset parameter is one input to the choice of encoding (RFC 7303); the
 * dialect always comes from the document itself.
 */
struct parser *parse_new(const char *doc_url, const char *content_type, parse_item_cb cb,
    void *arg);
/* Feed the next `len` bytes.  Returns 0, or -1 once the document cannot go on. */
int parse_push(struct parser *p, const char *data, size_t len);
/* The end of the document.  Returns 0 when it was a feed, -1 otherwise (see parse_error). */
int parse_finish(struct parser *p);
void parse_free(struct parser *p);

const struct feed_info *parse_feed_info(const struct parser *p);
enum parse_dialect parse_dialect(const struct parser *p);
const char *parse_dialect_name(enum parse_dialect d);
size_t parse_item_count(const struct parser *p);
/*
 * True when the document was not well-formed (items may still have been
 * salvaged): an XML error, bytes not in the document's encoding, a bare
 * "&", an undeclared entity, a JSON syntax error...
 */
bool parse_illformed(const struct parser *p);
/* The first problem, "line N: reason", or NULL. */
const char *parse_error(const struct parser *p);
/* The line of that first problem (1-based), or 0 when there is none or it has no line. */
unsigned long parse_error_line(const struct parser *p);
/*
 * The dialect and version as the document declares it, named as feedparser
 * names them: "rss090", "rss091n", "rss091u", "rss092", "rss093", "rss094",
 * "rss20", "rss10", "rss" (no version), "atom01"-"atom03", "atom10", "atom",
 * "json1", "json11"; "" while unknown.
 */
const char *parse_version(const struct parser *p);
/* The character encoding the document was read in ("utf-8", "iso-8859-1"...), or NULL. */
const char *parse_encoding(const struct parser *p);

/* Call once at startup: refuses every external entity, process-wide. */
void parse_init(void);

#endif
