/* item.c: freeing the plain value types of item.h. */
#include <stdlib.h>
#include <string.h>

#include "feeds/item.h"

static void
item_people_free(struct item_person *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].email);
		free(p[i].uri);
	}
	free(p);
}

static void
item_categories_free(struct item_category *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].term);
		free(c[i].scheme);
		free(c[i].label);
	}
	free(c);
}

static void
item_links_free(struct item_link *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].rel_name);
		free(l[i].href);
		free(l[i].type);
		free(l[i].title);
	}
	free(l);
}

static void
item_enclosures_free(struct item_enclosure *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].url);
		free(e[i].type);
	}
	free(e);
}

void
item_clear(struct item *item)
{
	free(item->id);
	free(item->title);
	free(item->link);
	free(item->comments);
	free(item->author);
	free(item->summary);
	free(item->content);
	item_people_free(item->authors, item->nauthors);
	item_categories_free(item->categories, item->ncategories);
	item_links_free(item->links, item->nlinks);
	item_enclosures_free(item->enclosures, item->nenclosures);
	memset(item, 0, sizeof *item);
}

void
item_free(struct item *item)
{
	if (item == NULL)
		return;
	item_clear(item);
	free(item);
}

void
feed_info_clear(struct feed_info *info)
{
	free(info->title);
	free(info->link);
	free(info->id);
	free(info->subtitle);
	free(info->icon);
	free(info->logo);
	free(info->language);
	free(info->generator);
	free(info->hub);
	memset(info, 0, sizeof *info);
}

static void
item_source_clear(struct item_source *src)
{
	free(src->name);
	free(src->title);
	free(src->link);
	free(src->id);
	free(src->url);
	free(src->item_link);
}

void
stored_item_clear(struct stored_item *si)
{
	item_clear(&si->item);
	item_source_clear(&si->source);
	for (size_t i = 0; i < si->nvia; i++)
		item_source_clear(&si->via[i]);
	free(si->via);
	memset(si, 0, sizeof *si);
}
