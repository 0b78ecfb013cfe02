/* text.c: UTF-8 validation and clean-up; HTML read as text; URLs inside HTML. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <libxml/HTMLparser.h>

#include "feeds/charset.h"
#include "feeds/text.h"
#include "feeds/url.h"

#define TEXT_ENTITY_MAX 32 /* longer names are no entity we know */

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
		size_t n;

		/* printable ASCII, the bulk of any feed, needs no decoding */
		if (p[i] >= 0x20 && p[i] < 0x7F) {
			i++, run++;
			continue;
		}
		n = text_char_len(p + i, len - i);

		if (n != 0) {
			i += n;
			run += n;
			continue;
		}
		if (buf_add(out, p + i - run, run) != 0)
			return -1;
		run = 0;
		if (p[i] == 0xC2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F) {
			/* A C1 control: Windows-1252 mislabelled, as the decoder reads it. */
			charset_put_utf8(out, (unsigned)charset_ref_char(p[i + 1]));
			i += 2;
			continue;
		}
		if (buf_add(out, REPLACEMENT, 3) != 0)
			return -1;
		i++;
	}
	return buf_add(out, p + i - run, run);
}

size_t
text_utf8_cut(const char *s, size_t len)
{
	size_t i = len, need;

	/* back over at most three continuation bytes to the lead byte */
	while (i > 0 && len - i < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0 || (unsigned char)s[i - 1] < 0xC0)
		return len;
	need = (unsigned char)s[i - 1] >= 0xF0 ? 4 : (unsigned char)s[i - 1] >= 0xE0 ? 3 : 2;
	return len - (i - 1) < need ? i - 1 : len;
}

int
text_is_clean(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0, n; i < len; i += n) {
		if (p[i] >= 0x20 && p[i] < 0x7F) {
			n = 1;
			continue;
		}
		if ((n = text_char_len(p + i, len - i)) == 0)
			return 0;
	}
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

char *
text_trim(char *s)
{
	size_t start = 0, len = strlen(s);

	while (s[start] == ' ' || s[start] == '\t' || s[start] == '\n' || s[start] == '\r')
		start++;
	while (len > start && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
				  s[len - 1] == '\r'))
		len--;
	memmove(s, s + start, len - start);
	s[len - start] = '\0';
	return s;
}

unsigned
text_html_entity(const char *name)
{
	const htmlEntityDesc *e;

	if (strcmp(name, "apos") == 0)
		return '\'';
	e = htmlEntityLookup((const xmlChar *)name);
	return e != NULL ? e->value : 0;
}

/*
 * The reference at s ("&...;"): its length, with the code point in *cp.
 * 0 when s holds no reference we can decode.
 */
static size_t
text_ref(const char *s, size_t len, unsigned *cp)
{
	char name[TEXT_ENTITY_MAX + 1];
	size_t i = 1, n = 0;

	if (len > 2 && s[1] == '#') {
		unsigned long v;
		long ref = charset_charref(s, len, &v);

		if (ref <= 0)
			return 0;
		*cp = (unsigned)charset_ref_char(v); /* the decoded text must stay clean */
		return (size_t)ref;
	}
	while (i < len && n < TEXT_ENTITY_MAX && isalnum((unsigned char)s[i]))
		name[n++] = s[i++];
	name[n] = '\0';
	if (n == 0 || i >= len || s[i] != ';' || (*cp = text_html_entity(name)) == 0)
		return 0;
	return i + 1;
}

void
text_decode_entities(struct buf *out, const char *s, size_t len)
{
	size_t i = 0, run = 0;

	while (i < len) {
		unsigned cp;
		size_t n;

		if (s[i] != '&' || (n = text_ref(s + i, len - i, &cp)) == 0) {
			i++, run++;
			continue;
		}
		buf_add(out, s + i - run, run);
		run = 0;
		charset_put_utf8(out, cp);
		i += n;
	}
	buf_add(out, s + i - run, run);
}

/* Elements that separate words when HTML is read as text. */
static bool
text_is_block(const char *name)
{
	static const char *const blocks[] = {"address", "article", "aside", "blockquote", "br",
		"dd", "div", "dl", "dt", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4",
		"h5", "h6", "header", "hr", "li", "ol", "p", "pre", "section", "table", "td", "th",
		"tr", "ul"};

	for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
		if (strcasecmp(name, blocks[i]) == 0)
			return true;
	return false;
}

/*
 * The end of the tag that starts at s[0] == '<' (one past its '>').  A quote
 * opens a value only right after '=' (and white space), so a stray quote
 * elsewhere does not swallow the rest of the document.
 */
static size_t
text_tag_end(const char *s, size_t len)
{
	char quote = 0, prev = 0;

	for (size_t i = 1; i < len; i++) {
		if (quote != 0) {
			if (s[i] == quote)
				quote = 0;
		} else if ((s[i] == '"' || s[i] == '\'') && prev == '=')
			quote = s[i];
		else if (s[i] == '>')
			return i + 1;
		if (!isspace((unsigned char)s[i]))
			prev = s[i];
	}
	return len;
}

/* Where `what` (e.g. "-->", "</script") next occurs in s, case-insensitively; len if nowhere. */
static size_t
text_find(const char *s, size_t len, const char *what)
{
	size_t n = strlen(what);

	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp(s + i, what, n) == 0)
			return i;
	return len;
}

/* The name of the tag at s ("<name" or "</name"), lower-cased into `name`. */
static void
text_tag_name(const char *s, size_t len, char *name, size_t namelen)
{
	size_t i = s[1] == '/' ? 2 : 1, n = 0;

	while (i < len && n + 1 < namelen && (isalnum((unsigned char)s[i]) || s[i] == ':' ||
						 s[i] == '-'))
		name[n++] = (char)tolower((unsigned char)s[i++]);
	name[n] = '\0';
}

void
text_html_to_plain(struct buf *out, const char *html, size_t len)
{
	struct buf b;
	size_t i = 0, start = out->len;

	buf_init(&b, 0);
	while (i < len) {
		char name[16];
		size_t end;

		if (html[i] == '<' && i + 3 < len && strncmp(html + i, "<!--", 4) == 0) {
			end = text_find(html + i + 4, len - i - 4, "-->");
			i += 4 + end + (end < len - i - 4 ? 3 : 0);
			continue;
		}
		if (html[i] != '<' || i + 1 >= len ||
		    !(isalpha((unsigned char)html[i + 1]) || html[i + 1] == '/' ||
			html[i + 1] == '!' || html[i + 1] == '?')) {
			size_t run = 1;

			while (i + run < len && html[i + run] != '<')
				run++;
			buf_add(&b, html + i, run);
			i += run;
			continue;
		}
		text_tag_name(html + i, len - i, name, sizeof name);
		end = text_tag_end(html + i, len - i);
		if (text_is_block(name))
			buf_addc(&b, ' ');
		i += end;
		if (html[i - end + 1] != '/' && (strcmp(name, "script") == 0 ||
						    strcmp(name, "style") == 0)) {
			char close[24];

			snprintf(close, sizeof close, "</%s", name);
			i += text_find(html + i, len - i, close);
			i += text_tag_end(html + i, len - i);
		}
	}
	text_decode_entities(out, b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	if (out->data != NULL) {
		text_collapse_ws(out->data + start);
		out->len = start + strlen(out->data + start);
	}
}

bool
text_looks_like_html(const char *s)
{
	for (const char *p = strchr(s, '<'); p != NULL; p = strchr(p + 1, '<')) {
		const char *q = p + (p[1] == '/' ? 2 : 1);

		if (!isalpha((unsigned char)*q))
			continue;
		while (isalnum((unsigned char)*q))
			q++;
		if ((p[1] == '/' && *q == '>') || (p[1] != '/' && (*q == '>' || *q == ' ' || *q == '/')))
			return true;
	}
	for (const char *p = strchr(s, '&'); p != NULL; p = strchr(p + 1, '&')) {
		unsigned cp;

		if (text_ref(p, strlen(p), &cp) > 0)
			return true;
	}
	return false;
}

void
text_xml_escape(struct buf *out, const char *s, size_t len, bool attr)
{
	size_t run = 0;

	for (size_t i = 0; i < len; i++) {
		const char *rep = s[i] == '&' ? "&amp;" : s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;" :
		    attr && s[i] == '"' ? "&quot;" : NULL;

		if (rep == NULL) {
			run++;
			continue;
		}
		buf_add(out, s + i - run, run);
		buf_adds(out, rep);
		run = 0;
	}
	buf_add(out, s + len - run, run);
}

bool
text_is_url_attr(const char *name)
{
	/* by length, so that most names (class, style, alt, width) cost one comparison or none */
	static const char *const by_len[][4] = {
		[3] = {"src"}, [4] = {"href", "cite", "data", "icon"}, [6] = {"action", "poster", "srcset", "usemap"},
		[7] = {"classid", "profile"}, [8] = {"codebase", "longdesc", "manifest"},
		[10] = {"background", "formaction", "xlink:href"},
	};
	size_t len = strlen(name);

	if (len >= sizeof by_len / sizeof by_len[0])
		return false;
	for (size_t i = 0; i < 4 && by_len[len][i] != NULL; i++)
		if (strcasecmp(name, by_len[len][i]) == 0)
			return true;
	return false;
}

/* Append the resolved form of URL `ref` (raw text from an attribute) escaped for HTML. */
static void
text_put_url(struct buf *out, const char *ref, size_t len, const char *base, bool srcset)
{
	struct buf dec;
	char *abs;

	buf_init(&dec, 0);
	text_decode_entities(&dec, ref, len);
	if (srcset) {
		/* "url 1x, url 2x": resolve each candidate's URL, keep its descriptor. */
		const char *p = dec.data != NULL ? dec.data : "";

		while (*p != '\0') {
			size_t ws = strspn(p, " \t\r\n,"), url, desc;

			buf_add(out, p, ws);
			p += ws;
			url = strcspn(p, " \t\r\n,");
			desc = strcspn(p + url, ",");
			if (url > 0) {
				char *one = xstrndup(p, url);

				text_put_url(out, one, url, base, false);
				free(one);
			}
			text_xml_escape(out, p + url, desc, true);
			p += url + desc;
		}
	} else if ((abs = url_resolve(base, dec.data != NULL ? dec.data : "")) != NULL) {
		text_xml_escape(out, abs, strlen(abs), true);
		free(abs);
	} else
		buf_add(out, ref, len);
	buf_free(&dec);
}

/* Copy one start tag (s[0] == '<'), resolving its URL attributes. */
static size_t
text_resolve_tag(struct buf *out, const char *s, size_t len, const char *base)
{
	size_t i = 1, end = text_tag_end(s, len);

	while (i < end && !isspace((unsigned char)s[i]) && s[i] != '>' && s[i] != '/')
		i++;
	buf_add(out, s, i);
	while (i < end) {
		size_t name = i, vstart, vend;
		char attr[16], quote = 0;

		while (i < end && (isspace((unsigned char)s[i]) || s[i] == '/'))
			i++;
		buf_add(out, s + name, i - name);
		name = i;
		while (i < end && !isspace((unsigned char)s[i]) && s[i] != '=' && s[i] != '>' &&
		    s[i] != '/')
			i++;
		memcpy(attr, s + name, i - name < sizeof attr ? i - name : sizeof attr - 1);
		attr[i - name < sizeof attr ? i - name : sizeof attr - 1] = '\0';
		while (i < end && isspace((unsigned char)s[i]))
			i++;
		if (i >= end || s[i] != '=') {
			buf_add(out, s + name, i - name);
			if (i < end && s[i] == '>')
				buf_add(out, s + i, end - i), i = end;
			else if (i == name)
				buf_add(out, s + i, 1), i++;
			continue;
		}
		for (i++; i < end && isspace((unsigned char)s[i]); i++)
			;
		if (i < end && (s[i] == '"' || s[i] == '\''))
			quote = s[i++];
		vstart = i;
		while (i < end && (quote != 0 ? s[i] != quote : !isspace((unsigned char)s[i]) &&
							      s[i] != '>'))
			i++;
		vend = i;
		if (quote != 0 && i < end)
			i++;
		buf_add(out, s + name, vstart - name - (quote != 0));
		if (!text_is_url_attr(attr) || base == NULL) {
			buf_add(out, s + vstart - (quote != 0), i - vstart + (quote != 0));
			continue;
		}
		buf_addc(out, '"');
		text_put_url(out, s + vstart, vend - vstart, base, strcasecmp(attr, "srcset") == 0);
		buf_addc(out, '"');
	}
	return end;
}

/* Is s ("&#...") a character reference to a C1 control (128-159)? */
static bool
text_is_c1_ref(const char *s, size_t len)
{
	unsigned long v;

	return charset_charref(s, len, &v) > 0 && v >= 0x80 && v <= 0x9F;
}

/* Whether a URL attribute's value (after '=') is relative: absolute ones stay as written. */
static bool
text_value_is_relative(const char *v, const char *end)
{
	const char *p;

	while (v < end && (isspace((unsigned char)*v) || *v == '"' || *v == '\''))
		v++;
	for (p = v; p < end && (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.');
	     p++)
		;
	return !(p > v && p < end && *p == ':' && isalpha((unsigned char)*v));
}

/*
 * Whether the start tag at s (s[0] == '<') has a URL attribute with a
 * relative value: the only tags worth rewriting (most have none, and most
 * links are absolute).  srcset is always rewritten: it lists several URLs.
 * One pass over the attributes, read as text_resolve_tag reads them.
 */
static bool
text_tag_has_url(const char *s, size_t len)
{
	size_t i = 1;

	while (i < len && !isspace((unsigned char)s[i]) && s[i] != '>' && s[i] != '/')
		i++;
	while (i < len && s[i] != '>') {
		size_t name, name_end, vstart, vend;
		char attr[16];

		while (i < len && (isspace((unsigned char)s[i]) || s[i] == '/'))
			i++;
		for (name = i; i < len && !isspace((unsigned char)s[i]) && s[i] != '=' && s[i] != '>' &&
		     s[i] != '/';
		     i++)
			;
		name_end = i;
		while (i < len && isspace((unsigned char)s[i]))
			i++;
		if (i >= len || s[i] != '=')
			continue;
		for (i++; i < len && isspace((unsigned char)s[i]); i++)
			;
		if (i < len && (s[i] == '"' || s[i] == '\'')) {
			const char *q = memchr(s + i + 1, s[i], len - i - 1);

			vstart = i + 1;
			vend = q != NULL ? (size_t)(q - s) : len;
			i = vend + 1;
		} else {
			for (vstart = i; i < len && !isspace((unsigned char)s[i]) && s[i] != '>'; i++)
				;
			vend = i;
		}
		if (name_end - name >= sizeof attr)
			continue;
		memcpy(attr, s + name, name_end - name);
		attr[name_end - name] = '\0';
		if (text_is_url_attr(attr) &&
		    (strcasecmp(attr, "srcset") == 0 || text_value_is_relative(s + vstart, s + vend)))
			return true;
	}
	return false;
}

/* Where the next '<' or '&' is in s[i..len), or len: one pass (HTML has many of both). */
static size_t
text_next_markup(const char *s, size_t i, size_t len)
{
#ifdef __SSE2__
	for (; i + 16 <= len; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
		    _mm_cmpeq_epi8(v, _mm_set1_epi8('<')), _mm_cmpeq_epi8(v, _mm_set1_epi8('&'))));

		if (m != 0)
			return i + (unsigned)__builtin_ctz(m);
	}
#endif
	while (i < len && s[i] != '<' && s[i] != '&')
		i++;
	return i;
}

/*
 * Whether the tag starting at s ("<name") is one that can carry a URL
 * attribute (a, img, iframe, source...): most tags (p, div, span, em, li)
 * cannot, and are passed over without being read.
 */
static bool
text_tag_may_link(const char *s, size_t len)
{
	/* by first letter: one or two comparisons for most tags, none for many */
	static const char *const tags[26][8] = {
		[0] = {"a", "applet", "area", "audio"},
		['b' - 'a'] = {"base", "blockquote", "body", "button"},
		['d' - 'a'] = {"del"},
		['e' - 'a'] = {"embed"},
		['f' - 'a'] = {"form", "frame"},
		['h' - 'a'] = {"head", "html"},
		['i' - 'a'] = {"iframe", "image", "img", "input", "ins"},
		['l' - 'a'] = {"link"},
		['o' - 'a'] = {"object"},
		['q' - 'a'] = {"q"},
		['s' - 'a'] = {"script", "source"},
		['t' - 'a'] = {"table", "td", "th", "track"},
		['u' - 'a'] = {"use"},
		['v' - 'a'] = {"video"},
	};
	char name[16];
	size_t n = 0;
	int first;

	for (size_t i = 1; i < len && n + 1 < sizeof name && isalnum((unsigned char)s[i]); i++)
		name[n++] = (char)tolower((unsigned char)s[i]);
	name[n] = '\0';
	if (n == 0 || name[0] < 'a' || name[0] > 'z')
		return false;
	first = name[0] - 'a';
	for (size_t i = 0; i < 8 && tags[first][i] != NULL; i++)
		if (strcmp(name, tags[first][i]) == 0)
			return true;
	return false;
}

bool
text_html_is_void(const char *name)
{
	static const char *const voids[] = {"area", "base", "br", "col", "embed", "hr", "img",
		"input", "link", "meta", "param", "source", "track", "wbr"};

	for (size_t i = 0; i < sizeof voids / sizeof voids[0]; i++)
		if (strcmp(name, voids[i]) == 0)
			return true;
	return false;
}

bool
text_html_resolve(struct buf *out, const char *html, size_t len, const char *base)
{
	size_t i = 0, run = 0;
	bool changed = false;

	while (i < len) {
		unsigned cp;
		size_t n, next = text_next_markup(html, i, len);

		/* text runs to the next tag or reference */
		run += next - i;
		i = next;
		if (i >= len)
			break;
		if (html[i] == '&' && text_is_c1_ref(html + i, len - i) &&
		    (n = text_ref(html + i, len - i, &cp)) > 0) {
			/* &#146; means what Windows-1252 has there, as browsers read it. */
			buf_add(out, html + i - run, run);
			run = 0;
			buf_addf(out, "&#x%X;", cp);
			changed = true;
			i += n;
			continue;
		}
		if (html[i] != '<' || i + 1 >= len || !isalpha((unsigned char)html[i + 1]) ||
		    base == NULL || !text_tag_may_link(html + i, len - i) ||
		    !text_tag_has_url(html + i, len - i)) {
			i++, run++;
			continue;
		}
		buf_add(out, html + i - run, run);
		run = 0;
		changed = true;
		i += text_resolve_tag(out, html + i, len - i, base);
	}
	if (changed)
		buf_add(out, html + i - run, run);
	return changed;
}

int
text_base64_decode(struct buf *out, const char *s, size_t len)
{
	unsigned acc = 0;
	int bits = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int v;

		if (isspace(c))
			continue;
		if (c == '=')
			break;
		if (isupper(c))
			v = c - 'A';
		else if (islower(c))
			v = c - 'a' + 26;
		else if (isdigit(c))
			v = c - '0' + 52;
		else if (c == '+' || c == '-')
			v = 62;
		else if (c == '/' || c == '_')
			v = 63;
		else
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_addc(out, (char)((acc >> bits) & 0xFF));
		}
	}
	return 0;
}
