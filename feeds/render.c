/*
 * render.c: Atom output.
 *
 * Strings from storage were cleaned when parsed, but the writer does not rely
 * on it: xml_text cleans again (a cheap check when the text is already
 * clean), so that nothing can make the output ill-formed.
 */
#include <ctype.h>
#include <string.h>

#include "feeds/render.h"
#include "feeds/text.h"

/* Escape clean UTF-8 for element content or a double-quoted attribute. */
static void
xml_escape_clean(struct buf *out, const char *s, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		const char *rep;

		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\r': rep = "&#13;"; break;
		default: continue;
		}
		buf_add(out, s + start, i - start);
		buf_adds(out, rep);
		start = i + 1;
	}
	buf_add(out, s + start, len - start);
}

static void
xml_text(struct buf *out, const char *s)
{
	size_t len = strlen(s);
	struct buf clean;

	if (text_is_clean(s, len)) {
		xml_escape_clean(out, s, len);
		return;
	}
	buf_init(&clean, 0);
	text_append_clean(&clean, s, len);
	xml_escape_clean(out, clean.data, clean.len);
	buf_free(&clean);
}

/* <name>text</name>, or nothing when text is NULL. */
static void
xml_element(struct buf *out, const char *name, const char *text)
{
	if (text == NULL)
		return;
	buf_addf(out, "<%s>", name);
	xml_text(out, text);
	buf_addf(out, "</%s>", name);
}

static void
xml_date(struct buf *out, const char *name, time_t t)
{
	char date[32];

	format_rfc3339(t, date);
	buf_addf(out, "<%s>%s</%s>", name, date, name);
}

static void
atom_link(struct buf *out, const char *rel, const char *href)
{
	if (href == NULL)
		return;
	buf_addf(out, "<link rel=\"%s\" href=\"", rel);
	xml_text(out, href);
	buf_adds(out, "\"/>");
}

static void
atom_text_construct(struct buf *out, const char *name, const char *text, enum text_type type)
{
	if (text == NULL)
		return;
	/* xhtml is re-sent escaped as html: a foreign fragment is never trusted to be well-formed. */
	buf_addf(out, "<%s type=\"%s\">", name, type == TEXT_PLAIN ? "text" : "html");
	xml_text(out, text);
	buf_addf(out, "</%s>", name);
}

/* RFC 3986 scheme ":" and no characters an IRI cannot hold. */
static bool
render_is_absolute_iri(const char *s)
{
	const char *p = s;

	if (!isalpha((unsigned char)*p))
		return false;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p != ':' || p[1] == '\0')
		return false;
	for (; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || strchr("<>\"{}|\\^`", *p) != NULL)
			return false;
	return text_is_clean(s, strlen(s));
}

void
render_entry_id(const struct stored_item *si, struct buf *out)
{
	const char *parts[3];
	char hex[33];

	if (si->item.id != NULL && render_is_absolute_iri(si->item.id)) {
		buf_adds(out, si->item.id);
		return;
	}
	parts[0] = si->source.name;
	parts[1] = si->item.id != NULL ? si->item.id : si->item.link;
	parts[2] = si->item.id == NULL && si->item.link == NULL ? si->item.title : NULL;
	hash_hex(parts, 3, hex);
	/* Shaped as a UUID (version 8, "custom") so that it is a valid urn:uuid. */
	buf_addf(out, "urn:uuid:%.8s-%.4s-8%.3s-%c%.3s-%.12s", hex, hex + 8, hex + 13,
	    "89ab"[hex[16] % 4], hex + 17, hex + 20);
}

static void
atom_entry(struct buf *out, const struct stored_item *si)
{
	const struct item *it = &si->item;
	struct buf id;
	time_t updated = it->updated ? it->updated : it->published ? it->published : si->sort_time;

	buf_adds(out, "<entry>");
	buf_init(&id, 0);
	render_entry_id(si, &id);
	xml_element(out, "id", id.data);
	buf_free(&id);
	atom_text_construct(out, "title", it->title != NULL ? it->title : "", TEXT_PLAIN);
	xml_date(out, "updated", updated);
	if (it->published)
		xml_date(out, "published", it->published);
	if (it->author != NULL) {
		buf_adds(out, "<author>");
		xml_element(out, "name", it->author);
		buf_adds(out, "</author>");
	}
	atom_link(out, "alternate", it->link);
	atom_text_construct(out, "summary", it->summary, it->summary_type);
	atom_text_construct(out, "content", it->content, it->content_type);

	buf_adds(out, "<source>");
	xml_element(out, "id", si->source.url);
	xml_element(out, "title", si->source.title != NULL ? si->source.title : si->source.name);
	atom_link(out, "self", si->source.url);
	atom_link(out, "alternate", si->source.link);
	buf_adds(out, "</source>");
	buf_adds(out, "</entry>\n");
}

void
render_atom(struct buf *out, const struct render_feed *feed, const struct stored_item *items,
    size_t n)
{
	time_t updated = feed->updated;

	for (size_t i = 0; updated == 0 && i < n; i++)
		updated = items[i].sort_time;
	if (updated == 0)
		updated = time(NULL);
	buf_adds(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		      "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
	xml_element(out, "id", feed->id);
	xml_element(out, "title", feed->title);
	xml_date(out, "updated", updated);
	buf_adds(out, "<author><name>feedmux</name></author>");
	buf_adds(out, "<generator version=\"");
	xml_text(out, feed->version);
	buf_adds(out, "\">feedmux</generator>\n");
	atom_link(out, "self", feed->self_url);
	for (size_t i = 0; i < n; i++)
		atom_entry(out, &items[i]);
	buf_adds(out, "</feed>\n");
}
