/*
 * text: making strings from strangers safe to store and to re-serialise.
 */
#ifndef FEEDMUX_TEXT_H
#define FEEDMUX_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/util.h"

/*
 * Append `s` (len bytes) to `out`, replacing every invalid UTF-8 sequence
 * and every code point XML 1.0 does not allow (C0 controls other than tab,
 * newline and carriage return; surrogates; U+FFFE, U+FFFF) with U+FFFD.
 * What comes out can be written into any XML or JSON document.  Returns -1
 * when the buffer's cap is reached (what fitted is kept).
 */
int text_append_clean(struct buf *out, const char *s, size_t len);

/*
 * How much of `s` (len bytes of UTF-8) to keep so as not to end inside a
 * character: len, or less when the last sequence is cut short.
 */
size_t text_utf8_cut(const char *s, size_t len);

/* True when `s` is valid UTF-8 holding only characters XML 1.0 allows. */
int text_is_clean(const char *s, size_t len);

/* Collapse runs of XML whitespace to one space and trim both ends, in place. */
char *text_collapse_ws(char *s);

/* Trim XML whitespace at both ends, in place. */
char *text_trim(char *s);

/*
 * Append `s` with its character references (&#233; &#xE9;) and HTML entity
 * references (&eacute;, by libxml2's HTML 4 table, and &apos;) decoded.
 * Unknown names are kept as written.
 */
void text_decode_entities(struct buf *out, const char *s, size_t len);

/* The code point of HTML entity `name` (no '&' or ';'), or 0 when unknown. */
unsigned text_html_entity(const char *name);

/*
 * The text a reader would see for an HTML fragment: tags and comments
 * dropped (script and style with their content), references decoded, white
 * space collapsed, a space where a block element or <br> separated words.
 */
void text_html_to_plain(struct buf *out, const char *html, size_t len);

/* Whether plain-looking text is in fact HTML: it has an end tag or an entity reference. */
bool text_looks_like_html(const char *s);

/* Append `s` escaped for XML character data, or for an attribute value when `attr`. */
void text_xml_escape(struct buf *out, const char *s, size_t len, bool attr);

/* Whether an HTML attribute holds a URL (href, src, cite...), by its name. */
bool text_is_url_attr(const char *name);

/* Whether HTML element `name` (lower-case) is a void one, written without an end tag (br, img...). */
bool text_html_is_void(const char *name);

/*
 * Append `html` with the relative URLs of its tags' URL attributes (href,
 * src, srcset...; see text_is_url_attr) resolved against `base` (with a NULL
 * base they are left as they are), and character references to C1 controls
 * (&#146;) written as the Windows-1252 characters browsers read them as.
 * Everything else is copied byte for byte.  Returns false, having appended
 * nothing, when there was nothing to change: `html` stands as it is.
 */
bool text_html_resolve(struct buf *out, const char *html, size_t len, const char *base);

/* Decode base64 text (white space ignored) into `out`; -1 on bad input. */
int text_base64_decode(struct buf *out, const char *s, size_t len);

#endif
