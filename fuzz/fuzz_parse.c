/*
 * fuzz_parse.c: libFuzzer target for the feed parser (feeds/parse and
 * everything under it: charset, jsonfeed, text, url, date).
 *
 * The last byte of the input chooses a Content-Type charset and a chunk
 * size; the rest is the document (so any feed file is a seed as it is: it
 * loses only its final newline).  Each input is parsed twice, whole and in
 * chunks, and the two results must be the same; every string the parser
 * hands out must be valid UTF-8 holding only what XML allows.  Any crash,
 * sanitizer report, leak or abort is a finding.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/parse.h"
#include "feeds/text.h"
#include "util/util.h"

static const char *const content_types[] = {NULL, "application/rss+xml",
	"text/xml; charset=iso-8859-1", "application/atom+xml; charset=utf-16",
	"application/xml; charset=shift_jis", "application/feed+json", "text/html; charset=koi8-r",
	"text/xml; charset=bogus"};

struct result {
	struct buf dump;
	size_t items;
};

static void
fuzz_check(const char *s)
{
	if (s != NULL && !text_is_clean(s, strlen(s))) {
		fprintf(stderr, "not clean UTF-8: \"%s\"\n", s);
		abort(); /* something unclean escaped the parser */
	}
}

static void
fuzz_put(struct buf *b, const char *s)
{
	fuzz_check(s);
	buf_adds(b, s != NULL ? s : "-");
	buf_addc(b, '|');
}

static void
fuzz_item(void *arg, struct item *it)
{
	struct result *r = arg;

	r->items++;
	fuzz_put(&r->dump, it->id);
	fuzz_put(&r->dump, it->title);
	fuzz_put(&r->dump, it->link);
	fuzz_put(&r->dump, it->comments);
	fuzz_put(&r->dump, it->author);
	fuzz_put(&r->dump, it->summary);
	fuzz_put(&r->dump, it->content);
	buf_addf(&r->dump, "%d%d%d%lld%lld\n", it->id_is_permalink, it->summary_type,
	    it->content_type, (long long)it->published, (long long)it->updated);
	for (size_t i = 0; i < it->nauthors; i++) {
		fuzz_put(&r->dump, it->authors[i].name);
		fuzz_put(&r->dump, it->authors[i].email);
		fuzz_put(&r->dump, it->authors[i].uri);
	}
	for (size_t i = 0; i < it->ncategories; i++) {
		fuzz_put(&r->dump, it->categories[i].term);
		fuzz_put(&r->dump, it->categories[i].scheme);
		fuzz_put(&r->dump, it->categories[i].label);
	}
	for (size_t i = 0; i < it->nlinks; i++) {
		fuzz_put(&r->dump, it->links[i].href);
		fuzz_put(&r->dump, it->links[i].rel_name);
		fuzz_put(&r->dump, it->links[i].type);
		fuzz_put(&r->dump, it->links[i].title);
	}
	for (size_t i = 0; i < it->nenclosures; i++) {
		fuzz_put(&r->dump, it->enclosures[i].url);
		fuzz_put(&r->dump, it->enclosures[i].type);
	}
	item_free(it);
}

static void
fuzz_run(const uint8_t *data, size_t size, const char *ct, size_t chunk, struct result *r)
{
	struct parser *p = parse_new("https://fuzz.example/dir/feed.xml", ct, fuzz_item, r);
	const struct feed_info *fi;

	buf_init(&r->dump, 0);
	r->items = 0;
	for (size_t off = 0; off < size || off == 0; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		parse_push(p, (const char *)data + off, n);
		if (n == 0)
			break;
	}
	buf_addf(&r->dump, "rc=%d ", parse_finish(p));
	fi = parse_feed_info(p);
	fuzz_put(&r->dump, fi->title);
	fuzz_put(&r->dump, fi->link);
	fuzz_put(&r->dump, fi->id);
	fuzz_put(&r->dump, fi->subtitle);
	fuzz_put(&r->dump, fi->icon);
	fuzz_put(&r->dump, fi->logo);
	fuzz_put(&r->dump, fi->language);
	fuzz_put(&r->dump, fi->generator);
	fuzz_put(&r->dump, fi->hub);
	fuzz_put(&r->dump, parse_error(p));
	buf_addf(&r->dump, "%d %s %s\n", parse_illformed(p), parse_version(p),
	    parse_encoding(p) != NULL ? parse_encoding(p) : "-");
	parse_free(p);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_init("fuzz_parse");
	log_set_level(LOG_LVL_ERR);
	parse_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t chunks[] = {1, 2, 3, 7, 64, 4096};
	struct result whole, pieces;
	unsigned sel;

	if (size == 0)
		return 0;
	sel = data[size - 1];
	size--;
	fuzz_run(data, size, content_types[sel % 8], size + 1, &whole);
	fuzz_run(data, size, content_types[sel % 8], chunks[(sel >> 3) % 6], &pieces);
	if (whole.items != pieces.items || strcmp(whole.dump.data, pieces.dump.data) != 0) {
		size_t at = 0, from;

		while (whole.dump.data[at] == pieces.dump.data[at])
			at++;
		from = at > 200 ? at - 200 : 0;
		fprintf(stderr, "chunking (%zu) changed the result at %zu:\nwhole:   %.400s\n"
				"chunked: %.400s\n", chunks[(sel >> 3) % 6], at, whole.dump.data + from,
		    pieces.dump.data + from);
		abort();
	}
	buf_free(&whole.dump);
	buf_free(&pieces.dump);
	return 0;
}
