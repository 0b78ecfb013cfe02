/*
 * jsonfeed.c: JSON Feed through a streaming scanner and jansson.
 *
 * The scanner knows only JSON's lexical skeleton: strings (with escapes),
 * brackets and separators.  It copies each top-level value, and each element
 * of the top-level "items" array, into a capped buffer and parses that one
 * value with jansson when it ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "feeds/date.h"
#include "feeds/jsonfeed.h"
#include "feeds/parse.h"
#include "feeds/text.h"
#include "feeds/url.h"
#include "util/util.h"

#define JSONFEED_VALUE_MAX ((size_t)64 * 1024) /* a top-level value other than "items" */

enum jf_state {
	JS_TOP,		/* before the top-level '{' */
	JS_KEY_WAIT,	/* in the object: a key or '}' */
	JS_KEY,		/* inside the key string */
	JS_COLON,	/* after the key */
	JS_VALUE_WAIT,	/* after ':' */
	JS_VALUE,	/* copying a value */
	JS_ITEMS_WAIT,	/* inside "items": an element, ',' or ']' */
	JS_ITEM,	/* copying an element of "items" */
	JS_AFTER_VALUE, /* ',' or '}' */
	JS_DONE,
};

struct jsonfeed {
	void (*cb)(void *arg, struct item *item);
	void *arg;
	char *doc_url;
	struct feed_info *info;
	struct item_person *authors; /* the feed's, for items that name none */
	size_t nauthors;

	enum jf_state st;
	int depth; /* of brackets, the top-level object being 1 */
	bool in_str, esc, scalar;
	int base;	  /* the depth a copied value started at */
	char key[32];
	size_t nkey;
	struct buf value; /* the value being copied */
	bool too_big;
	unsigned long line, value_line;

	bool is_feed, saw_items;
	char version[8];
	char *error;
	unsigned long error_line;
};

static void
jf_error(struct jsonfeed *jf, unsigned long line, const char *fmt, ...) PRINTFLIKE(3, 4);

static void
jf_error(struct jsonfeed *jf, unsigned long line, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	if (jf->error != NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	jf->error = xstrdup(msg);
	jf->error_line = line;
}

struct jsonfeed *
jsonfeed_new(const char *doc_url, struct feed_info *info, void (*cb)(void *, struct item *),
    void *arg)
{
	struct jsonfeed *jf = xcalloc(1, sizeof *jf);

	jf->cb = cb;
	jf->arg = arg;
	jf->doc_url = doc_url != NULL ? xstrdup(doc_url) : NULL;
	jf->info = info;
	jf->line = 1;
	snprintf(jf->version, sizeof jf->version, "json");
	buf_init(&jf->value, 0);
	return jf;
}

static void
jf_people_free(struct item_person *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].email);
		free(p[i].uri);
	}
	free(p);
}

void
jsonfeed_free(struct jsonfeed *jf)
{
	if (jf == NULL)
		return;
	jf_people_free(jf->authors, jf->nauthors);
	buf_free(&jf->value);
	free(jf->doc_url);
	free(jf->error);
	free(jf);
}

bool
jsonfeed_is_feed(const struct jsonfeed *jf)
{
	return jf->is_feed || jf->saw_items;
}

const char *
jsonfeed_version(const struct jsonfeed *jf)
{
	return jf->version;
}

const char *
jsonfeed_error(const struct jsonfeed *jf, unsigned long *line)
{
	if (line != NULL)
		*line = jf->error_line;
	return jf->error;
}

/* ---- from jansson values to our fields ---- */

/* A string member, cleaned and capped; NULL when absent, empty or not a string. */
static char *
jf_str(json_t *obj, const char *key, size_t cap, bool collapse)
{
	json_t *v = json_object_get(obj, key);
	struct buf b;

	if (!json_is_string(v))
		return NULL;
	buf_init(&b, cap);
	text_append_clean(&b, json_string_value(v), json_string_length(v));
	if (b.data != NULL && collapse)
		text_collapse_ws(b.data);
	else if (b.data != NULL)
		text_trim(b.data);
	if (b.data == NULL || b.data[0] == '\0') {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static char *
jf_url(const struct jsonfeed *jf, json_t *obj, const char *key)
{
	char *raw = jf_str(obj, key, PARSE_MAX_TEXT, false), *abs;

	if (raw == NULL)
		return NULL;
	abs = url_resolve(jf->doc_url, raw);
	free(raw);
	return abs;
}

static time_t
jf_date(json_t *obj, const char *key)
{
	char *s = jf_str(obj, key, PARSE_MAX_TEXT, false);
	time_t t = s != NULL ? date_parse(s) : -1;

	free(s);
	return t > 0 ? t : 0;
}

/* "author" (1.0, an object) and "authors" (1.1, an array) as people. */
static size_t
jf_people(const struct jsonfeed *jf, json_t *obj, struct item_person **out)
{
	json_t *arr = json_object_get(obj, "authors"), *one = json_object_get(obj, "author");
	size_t n = 0, i;
	json_t *a;

	*out = NULL;
	if (!json_is_array(arr)) {
		arr = json_array();
		if (json_is_object(one))
			json_array_append(arr, one);
	} else
		json_incref(arr);
	json_array_foreach(arr, i, a) {
		struct item_person p = {NULL, NULL, NULL};

		if (!json_is_object(a) || n >= PARSE_MAX_AUTHORS)
			continue;
		p.name = jf_str(a, "name", PARSE_MAX_TEXT, true);
		p.uri = jf_url(jf, a, "url");
		if (p.name == NULL && p.uri == NULL)
			continue;
		*out = xreallocarray(*out, n + 1, sizeof **out);
		(*out)[n++] = p;
	}
	json_decref(arr);
	return n;
}

static void
jf_add_link(struct item *it, enum link_rel rel, char *href, char *type, char *title, int64_t len)
{
	if (href == NULL || it->nlinks >= PARSE_MAX_LINKS) {
		free(href), free(type), free(title);
		return;
	}
	it->links = xreallocarray(it->links, it->nlinks + 1, sizeof *it->links);
	it->links[it->nlinks++] = (struct item_link){rel, NULL, href, type, title, len};
}

static void
jf_add_enclosure(struct item *it, enum enclosure_kind kind, const char *url, const char *type,
    int64_t len)
{
	if (url == NULL || it->nenclosures >= PARSE_MAX_LINKS)
		return;
	it->enclosures = xreallocarray(it->enclosures, it->nenclosures + 1, sizeof *it->enclosures);
	it->enclosures[it->nenclosures++] = (struct item_enclosure){kind, xstrdup(url),
	    type != NULL ? xstrdup(type) : NULL, len};
}

static void
jf_attachments(const struct jsonfeed *jf, json_t *obj, struct item *it)
{
	json_t *arr = json_object_get(obj, "attachments"), *a;
	size_t i;

	json_array_foreach(arr, i, a) {
		char *url = jf_url(jf, a, "url"), *type = jf_str(a, "mime_type", 256, true);
		json_t *size = json_object_get(a, "size_in_bytes");
		int64_t len = json_is_integer(size) && json_integer_value(size) >= 0 ?
		    (int64_t)json_integer_value(size) : -1;

		if (url == NULL) {
			free(type);
			continue;
		}
		jf_add_enclosure(it, ENCLOSURE, url, type, len);
		jf_add_link(it, LINK_ENCLOSURE, url, type, jf_str(a, "title", PARSE_MAX_TEXT, true),
		    len);
	}
}

static void
jf_tags(json_t *obj, struct item *it)
{
	json_t *arr = json_object_get(obj, "tags"), *t;
	size_t i;

	json_array_foreach(arr, i, t) {
		struct buf b;

		if (!json_is_string(t) || it->ncategories >= PARSE_MAX_CATEGORIES)
			continue;
		buf_init(&b, PARSE_MAX_TEXT);
		text_append_clean(&b, json_string_value(t), json_string_length(t));
		if (b.data == NULL || text_collapse_ws(b.data)[0] == '\0') {
			buf_free(&b);
			continue;
		}
		it->categories = xreallocarray(it->categories, it->ncategories + 1,
		    sizeof *it->categories);
		it->categories[it->ncategories++] = (struct item_category){buf_steal(&b), NULL, NULL};
	}
}

static void
jf_copy_people(struct item *it, const struct item_person *p, size_t n)
{
	it->authors = xreallocarray(NULL, n, sizeof *it->authors);
	for (size_t i = 0; i < n; i++) {
		it->authors[i].name = p[i].name != NULL ? xstrdup(p[i].name) : NULL;
		it->authors[i].email = p[i].email != NULL ? xstrdup(p[i].email) : NULL;
		it->authors[i].uri = p[i].uri != NULL ? xstrdup(p[i].uri) : NULL;
	}
	it->nauthors = n;
}

static void
jf_item(struct jsonfeed *jf, json_t *obj)
{
	struct item *it = xcalloc(1, sizeof *it);
	json_t *id = json_object_get(obj, "id");
	char *html, *plain, *image;

	if (json_is_string(id))
		it->id = jf_str(obj, "id", PARSE_MAX_TEXT, false);
	else if (json_is_integer(id)) /* JSON Feed 1.0 tolerated numbers */
		it->id = xasprintf("%lld", (long long)json_integer_value(id));
	it->title = jf_str(obj, "title", PARSE_MAX_TEXT, true);
	if ((it->link = jf_url(jf, obj, "url")) != NULL)
		jf_add_link(it, LINK_ALTERNATE, xstrdup(it->link), NULL, NULL, -1);
	jf_add_link(it, LINK_RELATED, jf_url(jf, obj, "external_url"), NULL, NULL, -1);
	html = jf_str(obj, "content_html", PARSE_MAX_CONTENT, false);
	plain = jf_str(obj, "content_text", PARSE_MAX_CONTENT, false);
	if (html != NULL) {
		struct buf b;

		buf_init(&b, 0);
		if (text_html_resolve(&b, html, strlen(html), jf->doc_url)) {
			it->content = buf_steal(&b);
			free(html);
		} else
			it->content = html;
		it->content_type = TEXT_HTML;
		free(plain);
	} else {
		it->content = plain;
		it->content_type = TEXT_PLAIN;
	}
	it->summary = jf_str(obj, "summary", PARSE_MAX_CONTENT, false);
	it->summary_type = TEXT_PLAIN;
	it->published = jf_date(obj, "date_published");
	it->updated = jf_date(obj, "date_modified");
	it->nauthors = jf_people(jf, obj, &it->authors);
	if (it->nauthors == 0 && jf->nauthors > 0)
		jf_copy_people(it, jf->authors, jf->nauthors);
	if (it->nauthors > 0 && it->authors[0].name != NULL)
		it->author = xstrdup(it->authors[0].name);
	jf_tags(obj, it);
	if ((image = jf_url(jf, obj, "image")) != NULL)
		jf_add_enclosure(it, ENCLOSURE_THUMBNAIL, image, NULL, -1);
	free(image);
	jf_attachments(jf, obj, it);
	jf->cb(jf->arg, it);
}

/* One top-level member other than "items". */
static void
jf_member(struct jsonfeed *jf, const char *key, json_t *v)
{
	json_t *obj = json_object();
	struct feed_info *fi = jf->info;

	json_object_set(obj, key, v);
	if (strcmp(key, "version") == 0 && json_is_string(v)) {
		const char *s = json_string_value(v);
		const char *tail = strstr(s, "jsonfeed.org/version/");

		if (tail != NULL) {
			jf->is_feed = true;
			tail += strlen("jsonfeed.org/version/");
			snprintf(jf->version, sizeof jf->version, "%s",
			    strcmp(tail, "1") == 0 ? "json1" : strcmp(tail, "1.1") == 0 ? "json11" : "json");
		}
	} else if (strcmp(key, "title") == 0 && fi->title == NULL)
		fi->title = jf_str(obj, key, PARSE_MAX_TEXT, true);
	else if (strcmp(key, "home_page_url") == 0 && fi->link == NULL)
		fi->link = jf_url(jf, obj, key);
	else if (strcmp(key, "description") == 0 && fi->subtitle == NULL)
		fi->subtitle = jf_str(obj, key, PARSE_MAX_TEXT, false);
	else if (strcmp(key, "icon") == 0 && fi->logo == NULL)
		fi->logo = jf_url(jf, obj, key);
	else if (strcmp(key, "favicon") == 0 && fi->icon == NULL)
		fi->icon = jf_url(jf, obj, key);
	else if (strcmp(key, "language") == 0 && fi->language == NULL)
		fi->language = jf_str(obj, key, 64, true);
	else if ((strcmp(key, "author") == 0 || strcmp(key, "authors") == 0) && jf->nauthors == 0)
		jf->nauthors = jf_people(jf, obj, &jf->authors);
	else if (strcmp(key, "hubs") == 0 && json_is_array(v) && fi->hub == NULL)
		fi->hub = jf_url(jf, json_array_get(v, 0), "url");
	json_decref(obj);
}

/* A copied value is complete: parse it. */
static void
jf_value_done(struct jsonfeed *jf, bool is_item)
{
	json_error_t err;
	json_t *v;

	if (jf->too_big) {
		jf_error(jf, jf->value_line, "%s larger than %zu bytes skipped",
		    is_item ? "an item" : "a value", is_item ? JSONFEED_ITEM_MAX : JSONFEED_VALUE_MAX);
	} else if ((v = json_loadb(jf->value.data != NULL ? jf->value.data : "", jf->value.len,
			JSON_DECODE_ANY | JSON_ALLOW_NUL, &err)) == NULL) {
		jf_error(jf, jf->value_line + (unsigned long)(err.line > 0 ? err.line - 1 : 0), "%s",
		    err.text);
	} else {
		if (is_item && json_is_object(v))
			jf_item(jf, v);
		else if (!is_item)
			jf_member(jf, jf->key, v);
		json_decref(v);
	}
	buf_reset(&jf->value);
	jf->too_big = false;
}

/* ---- the scanner ---- */

static void
jf_copy_run(struct jsonfeed *jf, const char *s, size_t n)
{
	size_t cap = jf->st == JS_ITEM ? JSONFEED_ITEM_MAX : JSONFEED_VALUE_MAX;

	if (jf->value.len + n > cap)
		jf->too_big = true;
	else
		buf_add(&jf->value, s, n);
}

static void
jf_copy(struct jsonfeed *jf, char c)
{
	jf_copy_run(jf, &c, 1);
}

/* Start copying a value (or an element of "items") whose first byte is c. */
static void
jf_value_start(struct jsonfeed *jf, char c, enum jf_state st)
{
	jf->st = st;
	jf->base = jf->depth;
	jf->value_line = jf->line;
	jf->scalar = c != '{' && c != '[';
	buf_reset(&jf->value);
	jf_copy(jf, c);
	if (c == '"')
		jf->in_str = true;
	else if (!jf->scalar)
		jf->depth++;
}

/* The value being copied ended (before byte c, for a scalar); c is still to be read. */
static void
jf_value_end(struct jsonfeed *jf)
{
	bool item = jf->st == JS_ITEM;

	jf_value_done(jf, item);
	jf->st = item ? JS_ITEMS_WAIT : JS_AFTER_VALUE;
}

static bool
jf_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A byte inside a string. */
static void
jf_string_byte(struct jsonfeed *jf, char c)
{
	if (jf->st == JS_VALUE || jf->st == JS_ITEM)
		jf_copy(jf, c);
	else if (jf->st == JS_KEY && c != '"' && jf->nkey + 1 < sizeof jf->key)
		jf->key[jf->nkey++] = c;
	if (jf->esc)
		jf->esc = false;
	else if (c == '\\')
		jf->esc = true;
	else if (c == '"') {
		jf->in_str = false;
		if (jf->st == JS_KEY) {
			jf->key[jf->nkey] = '\0';
			jf->st = JS_COLON;
		} else if (jf->scalar && jf->depth == jf->base)
			jf_value_end(jf);
	}
}

/*
 * A byte inside a copied value (or item), outside strings.  Returns false
 * when c ended a scalar without being part of it: the caller reads it again.
 */
static bool
jf_value_byte(struct jsonfeed *jf, char c)
{
	if (jf->scalar && (jf_space(c) || c == ',' || c == '}' || c == ']')) {
		jf_value_end(jf);
		return false;
	}
	jf_copy(jf, c);
	if (c == '"')
		jf->in_str = true;
	else if (c == '{' || c == '[')
		jf->depth++;
	else if ((c == '}' || c == ']') && --jf->depth == jf->base)
		jf_value_end(jf);
	return true;
}

static void
jf_syntax(struct jsonfeed *jf, char c)
{
	jf_error(jf, jf->line, "unexpected '%c' in the feed object", c);
	jf->st = JS_DONE;
}

/* A byte outside strings and copied values. */
static void
jf_struct_byte(struct jsonfeed *jf, char c)
{
	switch (jf->st) {
	case JS_TOP:
		if (c == '{')
			jf->depth = 1, jf->st = JS_KEY_WAIT;
		else
			jf_syntax(jf, c);
		break;
	case JS_KEY_WAIT:
		if (c == '"')
			jf->in_str = true, jf->nkey = 0, jf->st = JS_KEY;
		else if (c == '}')
			jf->st = JS_DONE;
		else
			jf_syntax(jf, c);
		break;
	case JS_COLON:
		if (c == ':')
			jf->st = JS_VALUE_WAIT;
		else
			jf_syntax(jf, c);
		break;
	case JS_VALUE_WAIT:
		if (strcmp(jf->key, "items") == 0 && c == '[') {
			jf->saw_items = true;
			jf->depth++;
			jf->st = JS_ITEMS_WAIT;
		} else
			jf_value_start(jf, c, JS_VALUE);
		break;
	case JS_ITEMS_WAIT:
		if (c == ']')
			jf->depth--, jf->st = JS_AFTER_VALUE;
		else if (c != ',')
			jf_value_start(jf, c, JS_ITEM);
		break;
	case JS_AFTER_VALUE:
		if (c == ',')
			jf->st = JS_KEY_WAIT;
		else if (c == '}')
			jf->st = JS_DONE;
		else
			jf_syntax(jf, c);
		break;
	default: break;
	}
}

/* How many bytes from s[0] are ordinary string content: no quote, backslash or newline. */
static size_t
jf_string_run(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && s[n] != '"' && s[n] != '\\' && s[n] != '\n')
		n++;
	return n;
}

void
jsonfeed_push(struct jsonfeed *jf, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = data[i];

		if (jf->in_str && !jf->esc && (jf->st == JS_VALUE || jf->st == JS_ITEM)) {
			/* most of a feed is the inside of strings: copied in runs */
			size_t n = jf_string_run(data + i, len - i);

			if (n > 0) {
				jf_copy_run(jf, data + i, n);
				i += n - 1;
				continue;
			}
		}
		if (c == '\n')
			jf->line++;
		if (jf->st == JS_DONE)
			continue;
		if (jf->in_str) {
			jf_string_byte(jf, c);
			continue;
		}
		if ((jf->st == JS_VALUE || jf->st == JS_ITEM) && jf_value_byte(jf, c))
			continue;
		if (!jf_space(c))
			jf_struct_byte(jf, c);
	}
}

void
jsonfeed_finish(struct jsonfeed *jf)
{
	if (jf->st == JS_VALUE || jf->st == JS_ITEM) {
		/* Cut off: parse what there is, which reports the truncation. */
		jf_value_end(jf);
	}
	if (jf->st != JS_DONE)
		jf_error(jf, jf->line, "the document ends before the feed object does");
}
