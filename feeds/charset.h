/*
 * charset: the bytes of a feed made into clean UTF-8 for the XML or JSON
 * parser, as they stream in.
 *
 *	cs = charset_new(content_type);
 *	text = charset_push(cs, chunk, len, &textlen);	(any chunk size)
 *	text = charset_finish(cs, &textlen);
 *	charset_free(cs);
 *
 * The encoding is chosen as RFC 7303 says: a byte order mark, then the
 * charset of the HTTP Content-Type, then the XML declaration, then UTF-8.
 * UTF-16 and UTF-32 are recognised without a BOM from the first "<".
 * Documents labelled UTF-8, US-ASCII, ISO-8859-1 or Windows-1252 are read
 * as UTF-8 where the bytes are UTF-8 and as Windows-1252 elsewhere, which
 * recovers the common mislabellings; other encodings go through iconv(3).
 *
 * What comes out holds only characters XML 1.0 allows (others become
 * U+FFFD; C1 controls become the Windows-1252 characters they were meant
 * to be).  For XML it is also lexically repaired where feeds commonly break
 * it: a bare "&" becomes "&amp;", a "<" that starts no markup "&lt;", "]]>"
 * outside CDATA "]]&gt;", a character reference to a forbidden character
 * U+FFFD; a CDATA section the document ends inside is closed.  CDATA
 * sections are left alone.  Comments, processing instructions and the
 * DOCTYPE are taken out (their lines kept blank): they carry nothing a feed
 * needs, and libxml2's push parser reads malformed ones differently
 * depending on how the bytes were chunked; we read the internal entities
 * the DOCTYPE declares ourselves (charset_entity).
 */
#ifndef FEEDMUX_CHARSET_H
#define FEEDMUX_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

#include "util/util.h"

struct charset;

/* `content_type` is the HTTP Content-Type (its charset parameter is used), or NULL. */
struct charset *charset_new(const char *content_type);
void charset_free(struct charset *cs);

/*
 * Decode `len` more bytes.  Returns the clean UTF-8 they make, *outlen
 * bytes of it (not NUL-terminated; it may be none).  It lies in `data` when
 * nothing had to change, else in a buffer of cs: either way it stays valid
 * until the next call on cs, `data` permitting.
 */
const char *charset_push(struct charset *cs, const char *data, size_t len, size_t *outlen);
/* The end of the document: what was held back, as charset_push. */
const char *charset_finish(struct charset *cs, size_t *outlen);

/* The encoding in force ("utf-8", "utf-16le", "windows-1252"...), or NULL before it is known. */
const char *charset_name(const struct charset *cs);
/* True once the first character showed a JSON document ('{' or '['). */
bool charset_is_json(const struct charset *cs);
/* The value of internal general entity `name` the DOCTYPE declared, or NULL. */
const char *charset_entity(const struct charset *cs, const char *name);
/* The DOCTYPE's public identifier, or NULL. */
const char *charset_doctype_public(const struct charset *cs);

/* The first problem met (its line in *line), or NULL. */
const char *charset_error(const struct charset *cs, unsigned long *line);
/* Lines of white space dropped before an XML declaration: add it to libxml2's line numbers. */
unsigned long charset_line_offset(const struct charset *cs);

/*
 * The charset parameter of a Content-Type value, lower-cased, into `out`;
 * NULL when there is none.
 */
const char *charset_from_content_type(const char *content_type, char *out, size_t outlen);

/* The Unicode character Windows-1252 has at byte `b` (0x80-0x9F), or 0 where it has none. */
unsigned charset_cp1252(unsigned char b);

/*
 * The character reference at s ("&#233;" or "&#xE9;"): its length, with its
 * number in *value (not checked against what XML allows), 0 when s holds
 * none, -1 when the `len` bytes end before that can be told.
 */
long charset_charref(const char *s, size_t len, unsigned long *value);

/* Is code point `cp` a character XML 1.0 allows (Char production)? */
bool charset_xml_char_ok(unsigned long cp);

/*
 * The character a reference to code point `cp` stands for in feedmux's
 * text: a C1 control as Windows-1252 has it (as browsers read it), U+FFFD
 * for what XML 1.0 does not allow and for DEL (legal XML, never meant, and
 * kept out of everything parsed), else `cp`.
 */
unsigned long charset_ref_char(unsigned long cp);

/* Append code point `cp` to `out` as UTF-8. */
void charset_put_utf8(struct buf *out, unsigned cp);

#endif
