/*
 * render: writing the merged feed.  Whatever the sources contained, what
 * comes out is well-formed and valid: every string is cleaned and escaped.
 */
#ifndef FEEDMUX_RENDER_H
#define FEEDMUX_RENDER_H

#include <stddef.h>
#include <time.h>

#include "feeds/item.h"
#include "util/util.h"

/* The merged feed's own metadata. */
struct render_feed {
	const char *title;
	const char *id;	      /* an absolute IRI naming this merged feed for good */
	const char *self_url; /* where it is served, or NULL */
	const char *version;  /* feedmux's, for atom:generator */
	time_t updated;	      /* 0: the newest entry's time */
};

/* Append an Atom 1.0 document (RFC 4287) holding `items`, in the order given. */
void render_atom(struct buf *out, const struct render_feed *feed, const struct stored_item *items,
    size_t n);

/* The atom:id of a stored item: its own id when that is an absolute IRI, else a urn:uuid. */
void render_entry_id(const struct stored_item *si, struct buf *out);

#endif
