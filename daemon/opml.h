/*
 * opml: feed lists in OPML 2.0 (http://opml.org/spec2.opml), the format
 * feed readers import and export subscriptions in.  Reading it is here (for
 * feedmuxctl import-opml); writing it is render_opml's (feeds/render.h).
 */
#ifndef FEEDMUX_OPML_H
#define FEEDMUX_OPML_H

#include <stddef.h>

#include "util/util.h"

/* One subscription: an <outline> with an xmlUrl. */
struct opml_feed {
	char *title;   /* the outline's title, else its text; NULL when it has neither */
	char *url;     /* xmlUrl, as written */
	char **tags;   /* the folders it sits in, then its category attribute */
	size_t ntags;
	unsigned line; /* where it is in the file, for messages */
};

/*
 * Read every subscription of the OPML file `path`, in document order, into a
 * new array (free with opml_feeds_free).  Returns 0, or -1 with the reason
 * ("file:line: ...") in `err`.  No DTD, entity or network access.
 */
int opml_read(const char *path, struct opml_feed **out, size_t *n, char *err, size_t errlen);
void opml_feeds_free(struct opml_feed *feeds, size_t n);

#endif
