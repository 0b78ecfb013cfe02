/*
 * url: resolving the links feeds carry, with curl_url.
 */
#ifndef FEEDMUX_URL_H
#define FEEDMUX_URL_H

#include <stdbool.h>

/*
 * Resolve `ref` against `base` (RFC 3986).  Returns a new string (the
 * caller frees it), or NULL when no absolute URL results: a relative `ref`
 * with no usable base, or text that is not a URL.  `base` may be NULL.
 */
char *url_resolve(const char *base, const char *ref);

/* True when `url` is valid UTF-8 without blanks or control characters. */
bool url_is_tidy(const char *url);

#endif
