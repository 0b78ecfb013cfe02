/*
 * opml.c: read and write OPML subscription lists with libxml2.
 *
 * Reading loads the whole document (an OPML file is a local list written by
 * a feed reader, not a stream from the network) with XML_PARSE_NONET and
 * without entity substitution or DTD loading; parse_init's entity loader
 * refuses the rest.  Writing goes through xmlTextWriter, which escapes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "daemon/opml.h"
#include "feeds/text.h"

/* An OPML list of ten thousand feeds is about 2 MB. */
#define OPML_MAX_FILE (16 << 20)

/* The value of attribute `name` on `node`, blanks collapsed; NULL when absent or empty. */
static char *
opml_attr(xmlNodePtr node, const char *name)
{
	xmlChar *v = xmlGetProp(node, BAD_CAST name);
	char *out;

	if (v == NULL)
		return NULL;
	out = text_collapse_ws(xstrdup((const char *)v));
	xmlFree(v);
	if (*out == '\0') {
		free(out);
		return NULL;
	}
	return out;
}

static void
opml_add_tag(struct opml_feed *f, const char *tag, size_t len)
{
	if (len == 0)
		return;
	for (size_t i = 0; i < f->ntags; i++)
		if (strlen(f->tags[i]) == len && strncmp(f->tags[i], tag, len) == 0)
			return;
	f->tags = xreallocarray(f->tags, f->ntags + 1, sizeof *f->tags);
	f->tags[f->ntags++] = xstrndup(tag, len);
}

/* category="/tech/linux,news": slash paths, comma separated; every part is a tag. */
static void
opml_add_categories(struct opml_feed *f, const char *cats)
{
	while (*cats != '\0') {
		size_t len = strcspn(cats, ",/");

		while (len > 0 && *cats == ' ')
			cats++, len--;
		while (len > 0 && cats[len - 1] == ' ')
			len--;
		opml_add_tag(f, cats, len);
		cats += strcspn(cats, ",/");
		if (*cats != '\0')
			cats++;
	}
}

struct opml_walk {
	struct opml_feed *feeds;
	size_t n;
	const char *folders[64]; /* the enclosing folder outlines' names */
	size_t depth;
};

static void
opml_walk(struct opml_walk *w, xmlNodePtr parent)
{
	for (xmlNodePtr node = parent->children; node != NULL; node = node->next) {
		char *url, *name;

		if (node->type != XML_ELEMENT_NODE || strcmp((const char *)node->name, "outline") != 0)
			continue;
		url = opml_attr(node, "xmlUrl");
		name = opml_attr(node, "title");
		if (name == NULL)
			name = opml_attr(node, "text");
		if (url != NULL) {
			struct opml_feed *f;
			char *cats = opml_attr(node, "category");

			w->feeds = xreallocarray(w->feeds, w->n + 1, sizeof *w->feeds);
			f = &w->feeds[w->n++];
			memset(f, 0, sizeof *f);
			f->url = url;
			f->title = name;
			f->line = (unsigned)xmlGetLineNo(node);
			for (size_t i = 0; i < w->depth; i++)
				if (w->folders[i] != NULL)
					opml_add_tag(f, w->folders[i], strlen(w->folders[i]));
			if (cats != NULL)
				opml_add_categories(f, cats);
			free(cats);
			name = NULL;
		}
		/* An outline without xmlUrl is a folder: its name tags what it holds. */
		if (w->depth < sizeof w->folders / sizeof w->folders[0]) {
			w->folders[w->depth++] = url == NULL ? name : NULL;
			opml_walk(w, node);
			w->depth--;
		}
		free(name);
	}
}

/*
 * The file into `b`, at most OPML_MAX_FILE bytes.  Read here rather than by
 * xmlReadFile, which opens files through the external entity loader, and
 * that loader refuses everything in feedmux (parse_init).
 */
static int
opml_slurp(const char *path, struct buf *b, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t got;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_add(b, chunk, got) != 0) {
			snprintf(err, errlen, "%s: larger than %d MB", path, OPML_MAX_FILE >> 20);
			fclose(f);
			return -1;
		}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

struct opml_error {
	int line;
	char message[200];
};

static void
opml_on_error(void *arg, xmlErrorPtr e)
{
	struct opml_error *first = arg;

	if (first->message[0] != '\0' || e == NULL || e->level == XML_ERR_WARNING)
		return;
	first->line = e->line;
	snprintf(first->message, sizeof first->message, "%.*s",
	    (int)strcspn(e->message != NULL ? e->message : "error", "\n"),
	    e->message != NULL ? e->message : "error");
}

int
opml_read(const char *path, struct opml_feed **out, size_t *n, char *err, size_t errlen)
{
	struct opml_walk w = {0};
	struct opml_error first = {0};
	xmlNodePtr root, body = NULL;
	xmlDocPtr doc;
	struct buf text;

	buf_init(&text, OPML_MAX_FILE);
	if (opml_slurp(path, &text, err, errlen) != 0) {
		buf_free(&text);
		return -1;
	}
	/* The first error says what is wrong; libxml2's last one is often "premature end". */
	xmlSetStructuredErrorFunc(&first, opml_on_error);
	doc = xmlReadMemory(text.data != NULL ? text.data : "", (int)text.len, path, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
	xmlSetStructuredErrorFunc(NULL, NULL);
	buf_free(&text);
	if (doc == NULL) {
		if (first.message[0] != '\0')
			snprintf(err, errlen, "%s:%d: %s", path, first.line, first.message);
		else
			snprintf(err, errlen, "%s: not XML", path);
		return -1;
	}
	root = xmlDocGetRootElement(doc);
	if (root == NULL || strcmp((const char *)root->name, "opml") != 0) {
		snprintf(err, errlen, "%s: not an OPML file (its root element is not <opml>)", path);
		xmlFreeDoc(doc);
		return -1;
	}
	for (xmlNodePtr c = root->children; c != NULL && body == NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, "body") == 0)
			body = c;
	if (body != NULL)
		opml_walk(&w, body);
	xmlFreeDoc(doc);
	*out = w.feeds;
	*n = w.n;
	return 0;
}

void
opml_feeds_free(struct opml_feed *feeds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(feeds[i].title);
		free(feeds[i].url);
		for (size_t j = 0; j < feeds[i].ntags; j++)
			free(feeds[i].tags[j]);
		free(feeds[i].tags);
	}
	free(feeds);
}

/* The category attribute: every tag as a top-level category, comma separated. */
