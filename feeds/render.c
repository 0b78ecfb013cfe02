/*
 * render.c: Atom, RSS, JSON Feed and OPML output.
 *
 * Strings from storage were cleaned when parsed, but the writers do not
 * rely on it: xml_text and json_text clean again (a cheap check when the
 * text is already clean), so nothing a feed sent can make the output
 * ill-formed.  No CDATA sections are ever written, so "]]>" in a source is
 * just text.  Every URL that lands in an attribute the schemas type as an
 * IRI is checked (render_is_absolute_iri) and left out when it is not one.
 */
#include <ctype.h>
#include <string.h>

#include <jansson.h>

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
		case '\t': rep = "&#9;"; break;
		case '\n': rep = "&#10;"; break;
		default: continue;
		}
		buf_add(out, s + start, i - start);
		buf_adds(out, rep);
		start = i + 1;
	}
	buf_add(out, s + start, len - start);
}

/* Run `fn` on a clean copy of `s` (no copy when it is clean already). */
static void
with_clean(struct buf *out, const char *s, void (*fn)(struct buf *, const char *, size_t))
{
	size_t len = strlen(s);
	struct buf clean;

	if (text_is_clean(s, len)) {
		fn(out, s, len);
		return;
	}
	buf_init(&clean, 0);
	text_append_clean(&clean, s, len);
	fn(out, clean.data != NULL ? clean.data : "", clean.len);
	buf_free(&clean);
}

static void
xml_text(struct buf *out, const char *s)
{
	with_clean(out, s, xml_escape_clean);
}

/* Plain text as HTML, then escaped for XML: for RSS, whose descriptions are HTML. */
static void
xml_html_of_text_clean(struct buf *out, const char *s, size_t len)
{
	struct buf html;

	buf_init(&html, 0);
	for (size_t i = 0; i < len; i++) {
		switch (s[i]) {
		case '&': buf_adds(&html, "&amp;"); break;
		case '<': buf_adds(&html, "&lt;"); break;
		case '>': buf_adds(&html, "&gt;"); break;
		default: buf_addc(&html, s[i]);
		}
	}
	xml_escape_clean(out, html.data != NULL ? html.data : "", html.len);
	buf_free(&html);
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

/* name="text" (with a leading blank), or nothing when text is NULL. */
static void
xml_attr(struct buf *out, const char *name, const char *text)
{
	if (text == NULL)
		return;
	buf_addf(out, " %s=\"", name);
	xml_text(out, text);
	buf_addc(out, '"');
}

static void
xml_date(struct buf *out, const char *name, time_t t)
{
	char date[32];

	format_rfc3339(t, date);
	buf_addf(out, "<%s>%s</%s>", name, date, name);
}

void
render_rfc822_date(time_t t, char out[40])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* RFC 3986 scheme ":" and no characters an IRI cannot hold. */
static bool
render_is_absolute_iri(const char *s)
{
	const char *p = s;

	if (s == NULL || !isalpha((unsigned char)*p))
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

/* The first of `a`, `b`, `c` that is an absolute IRI, or NULL. */
static const char *
first_iri(const char *a, const char *b, const char *c)
{
	if (render_is_absolute_iri(a))
		return a;
	if (render_is_absolute_iri(b))
		return b;
	return render_is_absolute_iri(c) ? c : NULL;
}

static const char *
source_title(const struct item_source *src)
{
	return src->title != NULL && src->title[0] != '\0' ? src->title : src->name;
}

/* When an entry last changed: its own updated date, else published, else its sort time. */
static time_t
entry_updated(const struct stored_item *si)
{
	const struct item *it = &si->item;

	return it->updated ? it->updated : it->published ? it->published : si->sort_time;
}

void
render_hash_urn(const char *const *parts, size_t n, struct buf *out)
{
	char hex[33];

	hash_hex(parts, n, hex);
	/* Shaped as a UUID (version 8, "custom") so that it is a valid urn:uuid. */
	buf_addf(out, "urn:uuid:%.8s-%.4s-8%.3s-%c%.3s-%.12s", hex, hex + 8, hex + 13,
	    "89ab"[hex[16] % 4], hex + 17, hex + 20);
}

void
render_entry_id(const struct stored_item *si, struct buf *out)
{
	const char *parts[3];

	if (si->item.id != NULL && render_is_absolute_iri(si->item.id)) {
		buf_adds(out, si->item.id);
		return;
	}
	parts[0] = si->source.name;
	parts[1] = si->item.id != NULL ? si->item.id : si->item.link;
	parts[2] = si->item.id == NULL && si->item.link == NULL ? si->item.title : NULL;
	render_hash_urn(parts, 3, out);
}

/* ---- Atom ---- */

static void
atom_link(struct buf *out, const char *rel, const char *href, const char *type,
    const char *title, int64_t length)
{
	if (!render_is_absolute_iri(href))
		return;
	buf_addf(out, "<link rel=\"%s\"", rel);
	xml_attr(out, "href", href);
	if (type != NULL && type[0] != '\0' && strchr(type, '/') != NULL)
		xml_attr(out, "type", type);
	xml_attr(out, "title", title);
	if (length > 0)
		buf_addf(out, " length=\"%lld\"", (long long)length);
	buf_adds(out, "/>");
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

static void
atom_person(struct buf *out, const char *name, const char *email, const char *uri)
{
	buf_adds(out, "<author>");
	xml_element(out, "name", name != NULL ? name : email != NULL ? email : "unknown");
	/* The schema wants an addr-spec: anything else would make the document invalid. */
	if (email != NULL && strchr(email, '@') != NULL && strpbrk(email, " \t<>\"") == NULL)
		xml_element(out, "email", email);
	if (render_is_absolute_iri(uri))
		xml_element(out, "uri", uri);
	buf_adds(out, "</author>");
}

static void
atom_authors(struct buf *out, const struct item *it)
{
	for (size_t i = 0; i < it->nauthors; i++)
		atom_person(out, it->authors[i].name, it->authors[i].email, it->authors[i].uri);
	if (it->nauthors == 0 && it->author != NULL)
		atom_person(out, it->author, NULL, NULL);
}

static void
atom_categories(struct buf *out, const struct item *it)
{
	for (size_t i = 0; i < it->ncategories; i++) {
		const struct item_category *c = &it->categories[i];

		if (c->term == NULL || c->term[0] == '\0')
			continue;
		buf_adds(out, "<category");
		xml_attr(out, "term", c->term);
		if (render_is_absolute_iri(c->scheme))
			xml_attr(out, "scheme", c->scheme);
		xml_attr(out, "label", c->label);
		buf_adds(out, "/>");
	}
}

static const char *
link_rel_name(const struct item_link *l)
{
	switch (l->rel) {
	case LINK_ALTERNATE: return "alternate";
	case LINK_ENCLOSURE: return "enclosure";
	case LINK_RELATED: return "related";
	case LINK_VIA: return "via";
	case LINK_REPLIES: return "replies";
	case LINK_OTHER: break;
	}
	return l->rel_name != NULL && render_is_absolute_iri(l->rel_name) ? l->rel_name :
	    l->rel_name != NULL && strspn(l->rel_name, "abcdefghijklmnopqrstuvwxyz-.") ==
		    strlen(l->rel_name) && l->rel_name[0] != '\0' ?
	    l->rel_name : "related";
}

/* Every link of the entry: its alternate once, then the others, then enclosures. */
static void
atom_links(struct buf *out, const struct item *it)
{
	atom_link(out, "alternate", it->link, NULL, NULL, 0);
	for (size_t i = 0; i < it->nlinks; i++) {
		const struct item_link *l = &it->links[i];

		/* One alternate per type: the story's own link stands for them. */
		if (l->rel == LINK_ALTERNATE || l->rel == LINK_ENCLOSURE)
			continue;
		atom_link(out, link_rel_name(l), l->href, l->type, l->title, l->length);
	}
	for (size_t i = 0; i < it->nenclosures; i++)
		if (it->enclosures[i].kind != ENCLOSURE_THUMBNAIL)
			atom_link(out, "enclosure", it->enclosures[i].url, it->enclosures[i].type,
			    NULL, it->enclosures[i].length);
	if (it->comments != NULL)
		atom_link(out, "replies", it->comments, "text/html", NULL, 0);
}

static void
atom_source(struct buf *out, const struct stored_item *si)
{
	const struct item_source *src = &si->source;
	const char *id = first_iri(src->id, src->url, NULL);

	buf_adds(out, "<source>");
	if (id != NULL)
		xml_element(out, "id", id);
	xml_element(out, "title", source_title(src));
	atom_link(out, "self", src->url, NULL, NULL, 0);
	atom_link(out, "alternate", src->link, NULL, NULL, 0);
	buf_adds(out, "</source>");
}

static void
atom_entry(struct buf *out, const struct stored_item *si)
{
	const struct item *it = &si->item;
	struct buf id;

	buf_adds(out, "<entry>");
	buf_init(&id, 0);
	render_entry_id(si, &id);
	xml_element(out, "id", id.data);
	buf_free(&id);
	atom_text_construct(out, "title", it->title != NULL ? it->title : "", TEXT_PLAIN);
	xml_date(out, "updated", entry_updated(si));
	if (it->published)
		xml_date(out, "published", it->published);
	atom_authors(out, it);
	atom_categories(out, it);
	atom_links(out, it);
	for (size_t i = 0; i < si->nvia; i++)
		atom_link(out, "via", first_iri(si->via[i].item_link, si->via[i].link, si->via[i].url),
		    NULL, source_title(&si->via[i]), 0);
	atom_text_construct(out, "summary", it->summary, it->summary_type);
	if (it->content != NULL)
		atom_text_construct(out, "content", it->content, it->content_type);
	else if (!render_is_absolute_iri(it->link))
		buf_adds(out, "<content type=\"text\"></content>"); /* RFC 4287 4.1.1.1 */
	atom_source(out, si);
	buf_adds(out, "</entry>\n");
}

static time_t
feed_updated(const struct render_feed *feed, const struct stored_item *items, size_t n)
{
	time_t updated = feed->updated;

	for (size_t i = 0; updated == 0 && i < n; i++)
		updated = items[i].sort_time;
	return updated != 0 ? updated : time(NULL);
}

void
render_atom(struct buf *out, const struct render_feed *feed, const struct stored_item *items,
    size_t n)
{
	buf_adds(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		      "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
	xml_element(out, "id", feed->id);
	xml_element(out, "title", feed->title);
	xml_date(out, "updated", feed_updated(feed, items, n));
	buf_adds(out, "<author><name>feedmux</name></author>");
	buf_adds(out, "<generator");
	xml_attr(out, "version", feed->version);
	buf_adds(out, ">feedmux</generator>\n");
	atom_link(out, "self", feed->self_url, "application/atom+xml", NULL, 0);
	atom_link(out, "first", feed->first_url, "application/atom+xml", NULL, 0);
	atom_link(out, "next", feed->next_url, "application/atom+xml", NULL, 0);
	buf_adds(out, "\n");
	for (size_t i = 0; i < n; i++)
		atom_entry(out, &items[i]);
	buf_adds(out, "</feed>\n");
}

/* ---- RSS 2.0 ---- */

static void
rss_via(struct buf *out, const struct stored_item *si)
{
	for (size_t i = 0; i < si->nvia; i++) {
		const char *href = first_iri(si->via[i].item_link, si->via[i].link, si->via[i].url);

		if (href == NULL)
			continue;
		buf_adds(out, "<atom:link rel=\"via\"");
		xml_attr(out, "href", href);
		xml_attr(out, "title", source_title(&si->via[i]));
		buf_adds(out, "/>");
	}
}

/* An RSS description: HTML, so plain text is made HTML first. */
static void
rss_html(struct buf *out, const char *name, const char *text, enum text_type type)
{
	buf_addf(out, "<%s>", name);
	if (type == TEXT_PLAIN)
		with_clean(out, text, xml_html_of_text_clean);
	else
		xml_text(out, text);
	buf_addf(out, "</%s>", name);
}

static void
rss_item(struct buf *out, const struct stored_item *si)
{
	const struct item *it = &si->item;
	char date[40];
	struct buf id;

	buf_adds(out, "<item>");
	xml_element(out, "title", it->title != NULL ? it->title : "");
	if (render_is_absolute_iri(it->link))
		xml_element(out, "link", it->link);
	if (it->summary != NULL)
		rss_html(out, "description", it->summary, it->summary_type);
	else if (it->content != NULL)
		rss_html(out, "description", it->content, it->content_type);
	if (it->content != NULL)
		rss_html(out, "content:encoded", it->content, it->content_type);
	buf_init(&id, 0);
	render_entry_id(si, &id);
	buf_adds(out, "<guid isPermaLink=\"false\">");
	xml_text(out, id.data);
	buf_adds(out, "</guid>");
	buf_free(&id);
	render_rfc822_date(it->published ? it->published : si->sort_time, date);
	buf_addf(out, "<pubDate>%s</pubDate>", date);
	for (size_t i = 0; i < it->nauthors; i++)
		if (it->authors[i].name != NULL)
			xml_element(out, "dc:creator", it->authors[i].name);
	if (it->nauthors == 0 && it->author != NULL)
		xml_element(out, "dc:creator", it->author);
	for (size_t i = 0; i < it->ncategories; i++) {
		const struct item_category *c = &it->categories[i];

		if (c->term == NULL || c->term[0] == '\0')
			continue;
		buf_adds(out, "<category");
		xml_attr(out, "domain", c->scheme);
		buf_adds(out, ">");
		xml_text(out, c->term);
		buf_adds(out, "</category>");
	}
	/* RSS allows one enclosure per item; its length is required (0 when unknown). */
	for (size_t i = 0; i < it->nenclosures; i++)
		if (it->enclosures[i].kind != ENCLOSURE_THUMBNAIL &&
		    render_is_absolute_iri(it->enclosures[i].url)) {
			buf_adds(out, "<enclosure");
			xml_attr(out, "url", it->enclosures[i].url);
			buf_addf(out, " length=\"%lld\"",
			    (long long)(it->enclosures[i].length > 0 ? it->enclosures[i].length : 0));
			xml_attr(out, "type", it->enclosures[i].type != NULL ? it->enclosures[i].type :
			    "application/octet-stream");
			buf_adds(out, "/>");
			break;
		}
	if (render_is_absolute_iri(it->comments))
		xml_element(out, "comments", it->comments);
	if (render_is_absolute_iri(si->source.url)) {
		buf_adds(out, "<source");
		xml_attr(out, "url", si->source.url);
		buf_adds(out, ">");
		xml_text(out, source_title(&si->source));
		buf_adds(out, "</source>");
	}
	rss_via(out, si);
	buf_adds(out, "</item>\n");
}

static void
rss_atom_link(struct buf *out, const char *rel, const char *href)
{
	if (!render_is_absolute_iri(href))
		return;
	buf_addf(out, "<atom:link rel=\"%s\" type=\"application/rss+xml\"", rel);
	xml_attr(out, "href", href);
	buf_adds(out, "/>");
}

void
render_rss(struct buf *out, const struct render_feed *feed, const struct stored_item *items,
    size_t n)
{
	char date[40];

	buf_adds(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		      "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\""
		      " xmlns:content=\"http://purl.org/rss/1.0/modules/content/\""
		      " xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<channel>");
	xml_element(out, "title", feed->title);
	xml_element(out, "link", render_is_absolute_iri(feed->self_url) ? feed->self_url :
	    "http://localhost/");
	buf_adds(out, "<description>");
	xml_text(out, feed->title);
	buf_adds(out, ": the merged feed</description>");
	render_rfc822_date(feed_updated(feed, items, n), date);
	buf_addf(out, "<lastBuildDate>%s</lastBuildDate>", date);
	buf_adds(out, "<generator>feedmux ");
	xml_text(out, feed->version);
	buf_adds(out, "</generator>");
	rss_atom_link(out, "self", feed->self_url);
	rss_atom_link(out, "first", feed->first_url);
	rss_atom_link(out, "next", feed->next_url);
	buf_adds(out, "\n");
	for (size_t i = 0; i < n; i++)
		rss_item(out, &items[i]);
	buf_adds(out, "</channel>\n</rss>\n");
}

/* ---- JSON Feed 1.1 ---- */

/* A JSON string of `s` cleaned (json_string refuses invalid UTF-8), or null. */
static json_t *
json_text(const char *s)
{
	struct buf clean;
	json_t *j;

	if (s == NULL)
		return json_null();
	if (text_is_clean(s, strlen(s)))
		return json_string(s);
	buf_init(&clean, 0);
	text_append_clean(&clean, s, strlen(s));
	j = json_stringn(clean.data != NULL ? clean.data : "", clean.len);
	buf_free(&clean);
	return j != NULL ? j : json_string("");
}

static void
json_set_text(json_t *o, const char *key, const char *s)
{
	if (s != NULL)
		json_object_set_new(o, key, json_text(s));
}

static void
json_set_url(json_t *o, const char *key, const char *url)
{
	if (render_is_absolute_iri(url))
		json_object_set_new(o, key, json_text(url));
}

static void
json_set_date(json_t *o, const char *key, time_t t)
{
	char date[32];

	if (t <= 0)
		return;
	format_rfc3339(t, date);
	json_object_set_new(o, key, json_string(date));
}

static json_t *
json_source(const struct item_source *src)
{
	json_t *o = json_object();

	json_set_text(o, "name", src->name);
	json_set_text(o, "title", source_title(src));
	json_set_url(o, "feed_url", src->url);
	json_set_url(o, "home_page_url", src->link);
	json_set_url(o, "url", src->item_link);
	return o;
}

static json_t *
json_item(const struct stored_item *si)
{
	const struct item *it = &si->item;
	json_t *o = json_object(), *a, *ext;
	struct buf id;

	buf_init(&id, 0);
	render_entry_id(si, &id);
	json_object_set_new(o, "id", json_text(id.data));
	buf_free(&id);
	json_set_url(o, "url", it->link);
	json_set_text(o, "title", it->title);
	if (it->content != NULL)
		json_set_text(o, it->content_type == TEXT_PLAIN ? "content_text" : "content_html",
		    it->content);
	else if (it->summary != NULL)
		json_set_text(o, it->summary_type == TEXT_PLAIN ? "content_text" : "content_html",
		    it->summary);
	else
		json_object_set_new(o, "content_text", json_string(""));
	if (it->content != NULL)
		json_set_text(o, "summary", it->summary);
	json_set_date(o, "date_published", it->published ? it->published : si->sort_time);
	json_set_date(o, "date_modified", entry_updated(si));
	a = json_array();
	for (size_t i = 0; i < it->nauthors; i++) {
		json_t *p = json_object();

		json_set_text(p, "name", it->authors[i].name != NULL ? it->authors[i].name :
		    it->authors[i].email);
		json_set_url(p, "url", it->authors[i].uri);
		json_array_append_new(a, p);
	}
	if (it->nauthors == 0 && it->author != NULL)
		json_array_append_new(a, json_pack("{so}", "name", json_text(it->author)));
	if (json_array_size(a) > 0)
		json_object_set(o, "authors", a);
	json_decref(a);
	a = json_array();
	for (size_t i = 0; i < it->ncategories; i++)
		if (it->categories[i].term != NULL)
			json_array_append_new(a, json_text(it->categories[i].term));
	if (json_array_size(a) > 0)
		json_object_set(o, "tags", a);
	json_decref(a);
	a = json_array();
	for (size_t i = 0; i < it->nenclosures; i++) {
		json_t *e = json_object();

		if (it->enclosures[i].kind == ENCLOSURE_THUMBNAIL ||
		    !render_is_absolute_iri(it->enclosures[i].url)) {
			json_decref(e);
			continue;
		}
		json_set_url(e, "url", it->enclosures[i].url);
		json_object_set_new(e, "mime_type", json_text(it->enclosures[i].type != NULL ?
		    it->enclosures[i].type : "application/octet-stream"));
		if (it->enclosures[i].length > 0)
			json_object_set_new(e, "size_in_bytes",
			    json_integer((json_int_t)it->enclosures[i].length));
		json_array_append_new(a, e);
	}
	if (json_array_size(a) > 0)
		json_object_set(o, "attachments", a);
	json_decref(a);
	ext = json_object();
	json_object_set_new(ext, "source", json_source(&si->source));
	a = json_array();
	for (size_t i = 0; i < si->nvia; i++)
		json_array_append_new(a, json_source(&si->via[i]));
	json_object_set_new(ext, "via", a);
	json_set_url(ext, "comments", it->comments);
	json_object_set_new(o, "_feedmux", ext);
	return o;
}

static void
json_dump_into(struct buf *out, json_t *j, size_t flags)
{
	char *text = json_dumps(j, flags);

	if (text == NULL)
		fatalx("json_dumps: out of memory");
	buf_adds(out, text);
	free(text);
}

void
render_json_item(struct buf *out, const struct stored_item *si)
{
	json_t *o = json_item(si);

	json_dump_into(out, o, JSON_COMPACT);
	json_decref(o);
}

void
render_json(struct buf *out, const struct render_feed *feed, const struct stored_item *items,
    size_t n)
{
	json_t *root = json_object(), *list = json_array();

	json_object_set_new(root, "version", json_string("https://jsonfeed.org/version/1.1"));
	json_set_text(root, "title", feed->title);
	json_set_url(root, "feed_url", feed->self_url);
	json_set_url(root, "next_url", feed->next_url);
	json_object_set_new(root, "description", json_string("the merged feed"));
	json_object_set_new(root, "authors", json_pack("[{ss}]", "name", "feedmux"));
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_item(&items[i]));
	json_object_set_new(root, "items", list);
	json_dump_into(out, root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	buf_addc(out, '\n');
	json_decref(root);
}

/* ---- OPML 2.0 ---- */

void
render_opml(struct buf *out, const char *title, time_t created,
    const struct render_outline *outlines, size_t n)
{
	char date[40];

	render_rfc822_date(created, date);
	buf_adds(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<opml version=\"2.0\">\n<head>");
	xml_element(out, "title", title);
	buf_addf(out, "<dateCreated>%s</dateCreated></head>\n<body>\n", date);
	for (size_t i = 0; i < n; i++) {
		const struct render_outline *o = &outlines[i];
		const char *text = o->title != NULL && o->title[0] != '\0' ? o->title : o->name;

		buf_adds(out, "<outline type=\"rss\"");
		xml_attr(out, "text", text);
		xml_attr(out, "title", text);
		xml_attr(out, "xmlUrl", o->xml_url);
		if (render_is_absolute_iri(o->html_url))
			xml_attr(out, "htmlUrl", o->html_url);
		if (o->ntags > 0) {
			struct buf cat;

			buf_init(&cat, 0);
			for (size_t t = 0; t < o->ntags; t++)
				buf_addf(&cat, "%s/%s", t > 0 ? "," : "", o->tags[t]);
			xml_attr(out, "category", cat.data);
			buf_free(&cat);
		}
		buf_adds(out, "/>\n");
	}
	buf_adds(out, "</body>\n</opml>\n");
}
