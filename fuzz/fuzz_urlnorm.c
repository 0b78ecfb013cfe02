/*
 * fuzz_urlnorm.c: libFuzzer target for feeds/urlnorm (the story key that
 * merges one story carried by several feeds) and feeds/url (resolving the
 * links feeds carry against their base).
 *
 * The input is "BASE\nREF" (no newline: REF alone, against a fixed base).
 * BASE is first resolved against the fixed base, as the parser resolves
 * xml:base, so the base is always one url_resolve made.
 * Asserted, beyond "no crash, no sanitizer report":
 *   - url_resolve gives NULL or a URL with a scheme, without blanks or
 *     control characters, valid UTF-8 when BASE and REF were (the parser
 *     hands it nothing else);
 *   - a resolved URL resolves to itself, whatever the base;
 *   - urlnorm_story_key, of REF and of the resolved URL, gives NULL or an
 *     http(s) URL without blanks or controls, valid UTF-8 when its input
 *     was (what storage compares and indexes; curl leaves an international
 *     host as written), and normalising is idempotent: key(key(x)) == key(x).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/text.h"
#include "feeds/url.h"
#include "feeds/urlnorm.h"
#include "util/util.h"

static const char fuzz_base[] = "https://Fuzz.Example:443/dir/sub/feed.xml?utm_source=x&b=2&a=1#top";

static void
fuzz_fail(const char *what, const char *a, const char *b)
{
	fprintf(stderr, "fuzz_urlnorm: %s\n  in:  \"%s\"\n  out: \"%s\"\n", what, a,
	    b != NULL ? b : "(null)");
	abort();
}

/* Blanks and controls never reach a stored link (url.c encodes them). */
static int
fuzz_has_ctl(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7F)
			return 1;
	return 0;
}

static void
fuzz_key(const char *in)
{
	char *k = urlnorm_story_key(in), *k2;

	if (k == NULL)
		return;
	if (fuzz_has_ctl(k))
		fuzz_fail("story key holds blanks or controls", in, k);
	if (text_is_clean(in, strlen(in)) && !text_is_clean(k, strlen(k)))
		fuzz_fail("story key is not clean UTF-8", in, k);
	if (strncmp(k, "http://", 7) != 0 && strncmp(k, "https://", 8) != 0)
		fuzz_fail("story key is not http(s)", in, k);
	k2 = urlnorm_story_key(k);
	if (k2 == NULL || strcmp(k, k2) != 0) {
		fprintf(stderr, "second key: \"%s\"\n", k2 != NULL ? k2 : "(null)");
		fuzz_fail("story key is not idempotent", in, k);
	}
	free(k2);
	free(k);
}

static void
fuzz_resolve(const char *base, const char *ref, size_t ref_len)
{
	char *r = url_resolve(base, ref), *again;

	if (r == NULL)
		return;
	if (fuzz_has_ctl(r))
		fuzz_fail("resolved URL holds blanks or controls", ref, r);
	if (text_is_clean(base, strlen(base)) && text_is_clean(ref, ref_len) &&
	    !text_is_clean(r, strlen(r)))
		fuzz_fail("resolved URL is not clean UTF-8", ref, r);
	again = url_resolve(fuzz_base, r);
	if (again == NULL || strcmp(again, r) != 0) {
		fprintf(stderr, "again: \"%s\"\n", again != NULL ? again : "(null)");
		fuzz_fail("a resolved URL does not resolve to itself", ref, r);
	}
	free(again);
	fuzz_key(r);
	free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *nl, *base = NULL;
	const char *ref;

	if (size > 4096)
		return 0;
	s = xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	ref = s;
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		base = url_resolve(fuzz_base, s);
		ref = nl + 1;
	}
	fuzz_key(ref);
	fuzz_resolve(base != NULL ? base : fuzz_base, ref, strlen(ref));
	free(base);
	free(s);
	return 0;
}
