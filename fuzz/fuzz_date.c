/*
 * fuzz_date.c: libFuzzer target for feeds/date (date_parse: the ISO 8601 /
 * RFC 3339 / W3CDTF reader and the RFC 822 reader with RSS's manglings).
 *
 * The input is the date text.  Beyond "no crash, no sanitizer report":
 *   - the result is -1 or a moment within years 1 to 9999 (plus a day of
 *     zone either side): a date is read right or not at all;
 *   - surrounding blanks and letter case change nothing;
 *   - a date read is written back by both our writers (RFC 3339 for Atom
 *     and JSON Feed, RFC 822 for RSS and HTTP) and each is read back to the
 *     same second, so what feedmux serves, feedmux (and its clients) can read.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/date.h"
#include "feeds/render.h"
#include "util/util.h"

#define DATE_MIN_T (-62135596800LL - 86400) /* 0001-01-01, a day of zone before */
#define DATE_MAX_T (253402300799LL + 86400) /* 9999-12-31T23:59:59, a day after */

static void
fuzz_fail(const char *what, const char *in, const char *other, long long t, long long u)
{
	fprintf(stderr, "fuzz_date: %s\n  input: \"%s\"\n  other: \"%s\"\n  %lld != %lld\n", what,
	    in, other != NULL ? other : "", t, u);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *alt;
	time_t t, u;

	if (size > 256)
		return 0; /* date_parse refuses anything past 127 bytes at once */
	s = xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	t = date_parse(s);
	if (t != -1 && (t <= 0 || (long long)t < DATE_MIN_T || (long long)t > DATE_MAX_T))
		fuzz_fail("out of range", s, NULL, (long long)t, -1);

	/* Blanks around it and letter case change nothing. */
	alt = xasprintf(" \t%s\r\n", s);
	if (strlen(s) == size && strlen(alt) < 128 && (u = date_parse(alt)) != t)
		fuzz_fail("surrounding blanks changed the result", s, alt, (long long)t, (long long)u);
	free(alt);
	alt = xstrdup(s);
	for (char *p = alt; *p != '\0'; p++)
		*p = (char)(isupper((unsigned char)*p) ? tolower((unsigned char)*p) :
		    toupper((unsigned char)*p));
	if ((u = date_parse(alt)) != t)
		fuzz_fail("letter case changed the result", s, alt, (long long)t, (long long)u);
	free(alt);

	/* What we read, we write; what we write, we read back the same. */
	if (t > 0) {
		char out[40];

		format_rfc3339(t, out);
		if ((u = date_parse(out)) != t)
			fuzz_fail("RFC 3339 round trip", s, out, (long long)t, (long long)u);
		render_rfc822_date(t, out);
		if ((u = date_parse(out)) != t)
			fuzz_fail("RFC 822 round trip", s, out, (long long)t, (long long)u);
	}
	free(s);
	return 0;
}
