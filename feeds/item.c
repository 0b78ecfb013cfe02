/* item.c: freeing the plain value types of item.h. */
#include <stdlib.h>
#include <string.h>

#include "feeds/item.h"

void
item_clear(struct item *item)
{
	free(item->id);
	free(item->title);
	free(item->link);
	free(item->author);
	free(item->summary);
	free(item->content);
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
	memset(info, 0, sizeof *info);
}

void
stored_item_clear(struct stored_item *si)
{
	item_clear(&si->item);
	free(si->source.name);
	free(si->source.title);
	free(si->source.link);
	free(si->source.url);
	memset(si, 0, sizeof *si);
}
