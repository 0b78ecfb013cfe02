/*
 * render: writing the merged feed as Atom 1.0, RSS 2.0 and JSON Feed 1.1,
 * and the sources as OPML 2.0.  Whatever the sources contained, what comes
 * out is well-formed and valid: every string is cleaned and escaped.
 *
 * A story carried by several feeds (stored_item.via) is written once:
 *   Atom	one atom:source (the feed that carried it first) and an
 *		atom:link rel="via" per other feed (href: the story as that feed
 *		linked it, title: the feed's title);
 *   RSS	<source url> for the first feed and the same atom:link rel="via"
 *		elements (RSS has no element of its own for it);
 *   JSON	"_feedmux": {"source": {...}, "via": [{...}, ...]}, an extension
 *		object as JSON Feed 1.1 allows.
 */
#ifndef FEEDMUX_RENDER_H
#define FEEDMUX_RENDER_H

#include <stddef.h>
#include <time.h>

#include "feeds/item.h"
#include "util/util.h"

/* The merged feed's own metadata.  URLs are absolute or NULL. */
struct render_feed {
	const char *title;
	const char *id;	       /* an absolute IRI naming this merged feed for good */
	const char *self_url;  /* where this document is served */
	const char *first_url; /* RFC 5005: the newest page (when paged), or NULL */
	const char *next_url;  /* RFC 5005: the page of older entries, or NULL */
	const char *version;   /* feedmux's, for the generator */
	time_t updated;	       /* 0: the newest entry's time */
};

/* Append a document holding `items`, in the order given. */
void render_atom(struct buf *out, const struct render_feed *feed, const struct stored_item *items,
    size_t n);
void render_rss(struct buf *out, const struct render_feed *feed, const struct stored_item *items,
    size_t n);
void render_json(struct buf *out, const struct render_feed *feed, const struct stored_item *items,
    size_t n);
/* One JSON Feed item object on one line (for Server-Sent Events). */
void render_json_item(struct buf *out, const struct stored_item *si);

/* The atom:id of a stored item: its own id when that is an absolute IRI, else a urn:uuid. */
void render_entry_id(const struct stored_item *si, struct buf *out);
/* A urn:uuid made from a hash of the `n` strings of `parts` (stable names for ids). */
void render_hash_urn(const char *const *parts, size_t n, struct buf *out);
/* `t` as RFC 822/1123 says, as RSS and HTTP want dates ("Sat, 07 Sep 2002 09:42:31 GMT"). */
void render_rfc822_date(time_t t, char out[40]);

/* A source for OPML. */
struct render_outline {
	const char *name;
	const char *title;    /* NULL: the name */
	const char *xml_url;  /* what feedmux polls */
	const char *html_url; /* the feed's web page, or NULL */
	const char *const *tags;
	size_t ntags;
};

void render_opml(struct buf *out, const char *title, time_t created,
    const struct render_outline *outlines, size_t n);

#endif
