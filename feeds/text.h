/*
 * text: making strings from strangers safe to store and to re-serialise.
 */
#ifndef FEEDMUX_TEXT_H
#define FEEDMUX_TEXT_H

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

/* True when `s` is valid UTF-8 holding only characters XML 1.0 allows. */
int text_is_clean(const char *s, size_t len);

/* Collapse runs of XML whitespace to one space and trim both ends, in place. */
char *text_collapse_ws(char *s);

#endif
