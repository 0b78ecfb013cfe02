/* text.c: UTF-8 validation and clean-up. */
#include <string.h>

#include "feeds/text.h"

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

/*
 * Length of the valid, XML-allowed UTF-8 sequence at s[0..len), or 0 when
 * the bytes there are not one.  Follows RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF.
 */
static size_t
text_char_len(const unsigned char *s, size_t len)
{
	unsigned c = s[0], cp;
	size_t n;

	if (c < 0x80)
		return (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') && c != 0x7f ? 1 : 0;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
		return 0;
	/* C1 controls are legal XML 1.0 but never meant: they come from mislabelled cp1252. */
	if (cp >= 0x80 && cp <= 0x9F)
		return 0;
	return n;
}

int
text_append_clean(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0, i = 0;

	while (i < len) {
		size_t n = text_char_len(p + i, len - i);

		if (n != 0) {
			i += n;
			run += n;
			continue;
		}
		if (buf_add(out, p + i - run, run) != 0 || buf_add(out, REPLACEMENT, 3) != 0)
			return -1;
		run = 0;
		i++;
	}
	return buf_add(out, p + i - run, run);
}

int
text_is_clean(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0, n; i < len; i += n)
		if ((n = text_char_len(p + i, len - i)) == 0)
			return 0;
	return 1;
}

char *
text_collapse_ws(char *s)
{
	char *w = s;
	int space = 0;

	for (const char *r = s; *r != '\0'; r++) {
		if (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r') {
			space = w != s;
			continue;
		}
		if (space)
			*w++ = ' ';
		space = 0;
		*w++ = *r;
	}
	*w = '\0';
	return s;
}
