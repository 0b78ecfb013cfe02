/*
 * item: the normalised story that flows from the parser to storage and from
 * storage to the output writers.  Plain value types: every string and array
 * is owned by its struct and freed by item_free / item_clear; NULL (or a
 * count of 0) means "absent".  Every string is valid UTF-8 holding only
 * characters XML 1.0 allows (the parser cleans them).
 *
 * Who fills what: the parser (feeds/parse) fills struct item and struct
 * feed_info; storage reads items back as struct stored_item.
 */
#ifndef FEEDMUX_ITEM_H
#define FEEDMUX_ITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* What a text construct holds: plain text, an HTML fragment, or serialised XHTML. */
enum text_type {
	TEXT_PLAIN = 0,
	TEXT_HTML = 1,
	TEXT_XHTML = 2,
};

/* An author or contributor: atom:author, dc:creator, itunes:author, RSS author. */
struct item_person {
	char *name;
	char *email;
	char *uri;
};

/* atom:category (term, scheme, label), RSS category (text, domain), dc:subject. */
struct item_category {
	char *term;
	char *scheme; /* atom scheme, or RSS domain */
	char *label;
};

/* Where a link came from, when it matters for output. */
enum link_rel {
	LINK_ALTERNATE,
	LINK_ENCLOSURE,
	LINK_RELATED,
	LINK_VIA,
	LINK_REPLIES,
	LINK_OTHER, /* any other rel, kept in `rel` */
};

/* A link of the item: atom:link, RSS link/comments/enclosure, media:content... */
struct item_link {
	enum link_rel rel;
	char *rel_name; /* the rel as written, for LINK_OTHER; NULL otherwise */
	char *href;	/* absolute */
	char *type;	/* MIME type, or NULL */
	char *title;
	int64_t length; /* bytes, or -1 when unknown */
};

/* A media file: RSS enclosure, atom:link rel="enclosure", media:content, media:thumbnail. */
enum enclosure_kind {
	ENCLOSURE,	   /* RSS enclosure or atom enclosure link */
	ENCLOSURE_MEDIA,   /* media:content */
	ENCLOSURE_THUMBNAIL, /* media:thumbnail */
};

struct item_enclosure {
	enum enclosure_kind kind;
	char *url; /* absolute */
	char *type;
	int64_t length; /* bytes, or -1 when unknown */
};

struct item {
	char *id;	     /* guid / atom:id as the feed gave it */
	bool id_is_permalink; /* RSS guid isPermaLink (true by default for RSS guids) */
	char *title;	     /* plain text, whitespace collapsed, entities decoded */
	char *link;	     /* absolute URL of the story (the first alternate link) */
	char *comments;	     /* absolute URL of its comments page, or NULL */
	char *author;	     /* display name of the first author (name, else e-mail), or NULL */
	char *summary;
	enum text_type summary_type;
	char *content;
	enum text_type content_type;
	time_t published; /* UTC seconds; 0 when the feed gave none we could read */
	time_t updated;

	struct item_person *authors;
	size_t nauthors;
	struct item_category *categories;
	size_t ncategories;
	struct item_link *links; /* every link, the alternate one included */
	size_t nlinks;
	struct item_enclosure *enclosures;
	size_t nenclosures;
};

/* The feed's own description of itself, as far as the parser found it. */
struct feed_info {
	char *title;
	char *link; /* absolute, the feed's web page */
	char *id;
	char *subtitle;
	char *icon; /* absolute URLs */
	char *logo;
	char *language;
	char *generator;
	char *hub; /* WebSub hub (atom:link rel="hub"), absolute */
	time_t updated;

	/* Polling hints; 0 when the feed gives none. */
	unsigned ttl;		/* RSS <ttl>, in seconds */
	uint32_t skip_hours;	/* RSS <skipHours>: bit h set = do not poll in hour h (0-23, GMT) */
	uint8_t skip_days;	/* RSS <skipDays>: bit d set = do not poll on weekday d (0 = Sunday) */
	unsigned update_period; /* sy:updatePeriod / sy:updateFrequency, in seconds between updates */
};

/* A feed that carried a stored item, for atom:source, <source> and friends. */
struct item_source {
	char *name;  /* the feed's name in the config */
	char *title; /* the feed's own title, or NULL */
	char *link;  /* the feed's web page, or NULL */
	char *id;    /* the feed's own id (atom:id), or NULL */
	char *url;   /* the URL feedmux polls */
	char *item_link; /* the story's link as this feed gave it, or NULL */
};

/*
 * A story read back from storage for output.  `source` is the feed that
 * carried it first; `via` the other feeds that carried the same story
 * (cross-feed merging, see storage/store.c), oldest first.
 */
struct stored_item {
	struct item item;
	int64_t rowid;
	int64_t seq;	   /* the store's change sequence when it was last added or changed */
	time_t sort_time;  /* what the merged feed is ordered by */
	time_t first_seen;
	time_t changed_at; /* last update, or first_seen */
	struct item_source source;
	struct item_source *via;
	size_t nvia;
};

void item_free(struct item *item); /* frees the item and all it holds; NULL is a no-op */
void item_clear(struct item *item); /* frees what it holds, not the struct */
void feed_info_clear(struct feed_info *info);
void stored_item_clear(struct stored_item *si);

#endif
