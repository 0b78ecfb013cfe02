/*
 * jsonfeed: JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), as the
 * bytes stream in.  Used by parse.c once the document shows itself to be
 * JSON; not a public module of its own.
 *
 * JSON is not parsed whole: a small scanner follows the top-level object and
 * hands each of its values, and each element of "items", to jansson on its
 * own, so memory is bounded by one item (PARSE_JSON_ITEM_MAX) whatever the
 * size of the document.
 */
#ifndef FEEDMUX_JSONFEED_H
#define FEEDMUX_JSONFEED_H

#include <stdbool.h>
#include <stddef.h>

#include "feeds/item.h"

#define JSONFEED_ITEM_MAX ((size_t)4 * 1024 * 1024) /* one item's JSON text */

struct jsonfeed;

/*
 * Items go to `cb` as they complete (the callee owns them); the feed's own
 * fields are written into `info`, which the caller owns and must keep alive.
 */
struct jsonfeed *jsonfeed_new(const char *doc_url, struct feed_info *info,
    void (*cb)(void *arg, struct item *item), void *arg);
/* `data` is UTF-8 (feeds/charset made it so). */
void jsonfeed_push(struct jsonfeed *jf, const char *data, size_t len);
void jsonfeed_finish(struct jsonfeed *jf);
void jsonfeed_free(struct jsonfeed *jf);

/* True when the document is a JSON Feed: a jsonfeed.org version, or an "items" array. */
bool jsonfeed_is_feed(const struct jsonfeed *jf);
/* "json1", "json11", or "json" when the version is missing or unknown. */
const char *jsonfeed_version(const struct jsonfeed *jf);
/* The first problem (its line in *line), or NULL when there was none. */
const char *jsonfeed_error(const struct jsonfeed *jf, unsigned long *line);

#endif
