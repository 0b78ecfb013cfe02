/*
 * item: the normalised story that flows from the parser to storage and from
 * storage to the output writers.  A plain value type: every string is owned
 * by the struct and freed by item_free; NULL means "absent".
 */
#ifndef FEEDMUX_ITEM_H
#define FEEDMUX_ITEM_H

#include <stdint.h>
#include <time.h>

/* What a text construct holds: plain text, an HTML fragment, or serialised XHTML. */
enum text_type {
	TEXT_PLAIN = 0,
	TEXT_HTML = 1,
	TEXT_XHTML = 2,
};

struct item {
	char *id;     /* guid / atom:id as the feed gave it */
	char *title;  /* plain text, whitespace collapsed */
	char *link;   /* absolute URL of the story */
	char *author; /* a name, or an e-mail address when that is all there is */
	char *summary;
	enum text_type summary_type;
	char *content;
	enum text_type content_type;
	time_t published; /* UTC seconds; 0 when the feed gave none we could read */
	time_t updated;
};

/* The feed's own description of itself, as far as the parser found it. */
struct feed_info {
	char *title;
	char *link;
	char *id;
	time_t updated;
};

/* Where a stored item came from, for atom:source and friends. */
struct item_source {
	char *name; /* the feed's name in the config */
	char *title;
	char *link;
	char *url; /* the URL feedmux polls */
};

/* An item read back from storage for output. */
struct stored_item {
	struct item item;
	int64_t rowid;
	time_t sort_time;  /* what the merged feed is ordered by */
	time_t first_seen;
	struct item_source source;
};

void item_free(struct item *item); /* frees the item and its strings; NULL is a no-op */
void item_clear(struct item *item); /* frees the strings only */
void feed_info_clear(struct feed_info *info);
void stored_item_clear(struct stored_item *si);

#endif
