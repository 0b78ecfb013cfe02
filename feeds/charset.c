/*
 * charset.c: encoding detection, decoding to UTF-8 and lexical repair.
 *
 * Two stages run on each chunk.  Stage 1 decodes the document's encoding
 * into valid UTF-8 (holding back a sequence that a chunk boundary splits).
 * Stage 2 walks that UTF-8 with a small lexer (text, CDATA, comment, PI,
 * DOCTYPE) and replaces what XML cannot carry; where it needs to see a few
 * bytes past the end of the chunk (an entity reference, "<![CDATA[") it
 * holds them back too.  Neither stage keeps more than a few bytes between
 * chunks, so memory does not grow with the document.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "feeds/charset.h"

#define CHARSET_SNIFF_MAX 1024 /* bytes held while looking for the XML declaration */
#define CHARSET_REF_MAX	  40   /* the longest entity or character reference we accept */
#define CHARSET_DECL_MAX  512  /* the longest XML declaration we rewrite */
#define CHARSET_DTD_MAX	  ((size_t)64 * 1024) /* the longest DOCTYPE we read */
#define CHARSET_ENTITIES  64   /* internal entities a DOCTYPE may declare */
#define CHARSET_ENTITY_MAX 1024 /* and the length of each value */
#define REPLACEMENT	  "\xEF\xBF\xBD"

enum cs_kind {
	K_UTF8,	 /* UTF-8, Windows-1252 where the bytes are not UTF-8 (an error) */
	K_LATIN, /* US-ASCII, ISO-8859-1, Windows-1252: the same, and no error */
	K_UTF16LE,
	K_UTF16BE,
	K_UTF32LE,
	K_UTF32BE,
	K_ICONV,
};

enum cs_lex {
	LEX_START, /* before the first character that is not white space */
	LEX_TEXT,  /* content and tags */
	LEX_CDATA,
	LEX_COMMENT,
	LEX_PI,
	LEX_DOCTYPE,
	LEX_JSON,
};

struct charset {
	bool decided;
	enum cs_kind kind;
	iconv_t cd;
	bool have_cd; /* cd is open */
	char name[48];
	char http[48]; /* the Content-Type's charset, or "" */
	struct buf head; /* raw bytes held until the encoding is decided */

	unsigned char held[8]; /* stage 1: a sequence split by the chunk boundary */
	size_t nheld;
	struct buf join; /* held bytes + the next chunk, when there are held bytes */
	struct buf mid;	 /* stage 1 output, when it is not the input itself */

	struct buf carry; /* stage 2: bytes held back for lookahead */
	struct buf out;	  /* its output, when it is not the input itself */
	struct buf join2;
	enum cs_lex lex;
	int dtd_depth;
	char dtd_quote;
	struct buf doctype; /* the DOCTYPE, held back from the parser */
	bool dtd_overflow;
	bool past_prolog; /* an element has started: a DOCTYPE now is out of place */
	char *public_id;
	struct {
		char *name, *value;
	} entities[CHARSET_ENTITIES];
	size_t nentities;
	struct buf lead; /* white space seen in LEX_START */

	unsigned long line;
	unsigned long line_offset; /* newlines dropped before the XML declaration */
	char *error;
	unsigned long error_line;
	unsigned long long error_pos; /* in the decoded text */
	bool in_stage1;		       /* decoding into `mid` */
	unsigned long long dec_total;  /* decoded bytes before the chunk being decoded */
	unsigned long long lex_pos;    /* where stage 2 is, in the decoded text */
	const unsigned char *lex_s;    /* and in the chunk it is on */
	size_t lex_i;
};

/* Windows-1252 at 0x80-0x9F; 0 where it has no character. */
static const unsigned short cp1252[32] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
	0x2039, 0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013,
	0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178};

struct cs_alias {
	const char *label;
	const char *name; /* what we report, and hand to iconv */
	enum cs_kind kind;
};

/*
 * Labels we treat specially, or that iconv spells differently.  Anything else
 * is tried with iconv as written and with '_' read as '-'.  GB2312 and GBK
 * are read as their superset GB18030, as browsers do.
 */
static const struct cs_alias cs_aliases[] = {
	{"utf-8", "utf-8", K_UTF8},
	{"utf8", "utf-8", K_UTF8},
	{"unicode-1-1-utf-8", "utf-8", K_UTF8},
	{"us-ascii", "us-ascii", K_LATIN},
	{"ascii", "us-ascii", K_LATIN},
	{"ansi_x3.4-1968", "us-ascii", K_LATIN},
	{"iso-8859-1", "iso-8859-1", K_LATIN},
	{"iso8859-1", "iso-8859-1", K_LATIN},
	{"iso_8859-1", "iso-8859-1", K_LATIN},
	{"iso_8859-1:1987", "iso-8859-1", K_LATIN},
	{"latin1", "iso-8859-1", K_LATIN},
	{"latin-1", "iso-8859-1", K_LATIN},
	{"l1", "iso-8859-1", K_LATIN},
	{"cp819", "iso-8859-1", K_LATIN},
	{"ibm819", "iso-8859-1", K_LATIN},
	{"csisolatin1", "iso-8859-1", K_LATIN},
	{"windows-1252", "windows-1252", K_LATIN},
	{"cp1252", "windows-1252", K_LATIN},
	{"x-cp1252", "windows-1252", K_LATIN},
	{"ms-ansi", "windows-1252", K_LATIN},
	{"utf-16", "utf-16", K_UTF16BE},
	{"utf-16be", "utf-16be", K_UTF16BE},
	{"utf-16le", "utf-16le", K_UTF16LE},
	{"ucs-2", "utf-16", K_UTF16BE},
	{"iso-10646-ucs-2", "utf-16", K_UTF16BE},
	{"csunicode", "utf-16", K_UTF16BE},
	{"unicode", "utf-16", K_UTF16BE},
	{"utf-32", "utf-32", K_UTF32BE},
	{"utf-32be", "utf-32be", K_UTF32BE},
	{"utf-32le", "utf-32le", K_UTF32LE},
	{"ucs-4", "utf-32", K_UTF32BE},
	{"iso-10646-ucs-4", "utf-32", K_UTF32BE},
	{"csucs4", "utf-32", K_UTF32BE},
	{"gb2312", "gb18030", K_ICONV},
	{"gbk", "gb18030", K_ICONV},
	{"x-gbk", "gb18030", K_ICONV},
	{"csgb2312", "gb18030", K_ICONV},
	{"macroman", "macintosh", K_ICONV},
	{"x-mac-roman", "macintosh", K_ICONV},
	{"maccentraleurope", "mac-centraleurope", K_ICONV},
	{"maclatin2", "mac-centraleurope", K_ICONV},
	{"x-mac-ce", "mac-centraleurope", K_ICONV},
	{"maciceland", "mac-is", K_ICONV},
	{"maccyrillic", "mac-cyrillic", K_ICONV},
	{"x-mac-cyrillic", "mac-cyrillic", K_ICONV},
	{"cp-is", "ibm861", K_ICONV},
	{"csibm861", "ibm861", K_ICONV},
	{"x-sjis", "shift_jis", K_ICONV},
	{"ks_c_5601-1987", "cp949", K_ICONV},
	{"x-euc-jp", "euc-jp", K_ICONV},
};

unsigned
charset_cp1252(unsigned char b)
{
	return b >= 0x80 && b <= 0x9F ? cp1252[b - 0x80] : 0;
}

void
charset_put_utf8(struct buf *out, unsigned cp)
{
	char u[4];

	if (cp < 0x80)
		u[0] = (char)cp, buf_add(out, u, 1);
	else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		buf_add(out, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		buf_add(out, u, 3);
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		buf_add(out, u, 4);
	}
}

/* How many newlines s[0..len) holds. */
static unsigned long
cs_newlines(const char *s, size_t len)
{
	unsigned long n = 0;
	const char *end;

	if (s == NULL)
		return 0;
	end = s + len;
	while (s < end && (s = memchr(s, '\n', (size_t)(end - s))) != NULL) {
		n++;
		s++;
	}
	return n;
}

static void
cs_error(struct charset *cs, const char *fmt, ...) PRINTFLIKE(2, 3);

static void
cs_error(struct charset *cs, const char *fmt, ...)
{
	char msg[160];
	va_list ap;
	/*
	 * The first problem is the first in the text, whichever stage finds it
	 * (stage 1 runs a chunk ahead of stage 2): so it does not depend on
	 * how the bytes were chunked.
	 */
	unsigned long long pos = cs->in_stage1 ? cs->dec_total + cs->mid.len : cs->lex_pos;

	if (cs->error != NULL && pos >= cs->error_pos)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	free(cs->error);
	cs->error = xstrdup(msg);
	cs->error_pos = pos;
	/* cs->line counts the lines of the chunks stage 2 is done with; add this one's so far */
	cs->error_line = cs->line;
	if (cs->in_stage1)
		cs->error_line += cs_newlines(cs->carry.data, cs->carry.len) +
				  cs_newlines(cs->mid.data, cs->mid.len);
	else if (cs->lex_s != NULL)
		cs->error_line += cs_newlines((const char *)cs->lex_s, cs->lex_i);
}

const char *
charset_from_content_type(const char *ct, char *out, size_t outlen)
{
	const char *p;
	size_t n = 0;

	for (p = ct != NULL ? strchr(ct, ';') : NULL; p != NULL; p = strchr(p + 1, ';')) {
		const char *q = p + 1;

		while (*q == ' ' || *q == '\t')
			q++;
		if (strncasecmp(q, "charset", 7) != 0)
			continue;
		q += 7;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q++ != '=')
			continue;
		while (*q == ' ' || *q == '\t' || *q == '"' || *q == '\'')
			q++;
		while (q[n] != '\0' && q[n] != ';' && q[n] != '"' && q[n] != '\'' && q[n] != ' ' &&
		    n + 1 < outlen) {
			out[n] = (char)tolower((unsigned char)q[n]);
			n++;
		}
		out[n] = '\0';
		return n > 0 ? out : NULL;
	}
	return NULL;
}

struct charset *
charset_new(const char *content_type)
{
	struct charset *cs = xcalloc(1, sizeof *cs);

	cs->line = 1;
	buf_init(&cs->head, 0);
	buf_init(&cs->join, 0);
	buf_init(&cs->mid, 0);
	buf_init(&cs->carry, 0);
	buf_init(&cs->join2, 0);
	buf_init(&cs->out, 0);
	buf_init(&cs->lead, 0);
	buf_init(&cs->doctype, 0);
	if (charset_from_content_type(content_type, cs->http, sizeof cs->http) == NULL)
		cs->http[0] = '\0';
	return cs;
}

void
charset_free(struct charset *cs)
{
	if (cs == NULL)
		return;
	if (cs->have_cd)
		iconv_close(cs->cd);
	buf_free(&cs->head);
	buf_free(&cs->join);
	buf_free(&cs->mid);
	buf_free(&cs->carry);
	buf_free(&cs->join2);
	buf_free(&cs->out);
	buf_free(&cs->lead);
	buf_free(&cs->doctype);
	for (size_t i = 0; i < cs->nentities; i++) {
		free(cs->entities[i].name);
		free(cs->entities[i].value);
	}
	free(cs->public_id);
	free(cs->error);
	free(cs);
}

const char *
charset_name(const struct charset *cs)
{
	return cs->decided ? cs->name : NULL;
}

bool
charset_is_json(const struct charset *cs)
{
	return cs->lex == LEX_JSON;
}

const char *
charset_entity(const struct charset *cs, const char *name)
{
	for (size_t i = 0; i < cs->nentities; i++)
		if (strcmp(cs->entities[i].name, name) == 0)
			return cs->entities[i].value;
	return NULL;
}

const char *
charset_doctype_public(const struct charset *cs)
{
	return cs->public_id;
}

const char *
charset_error(const struct charset *cs, unsigned long *line)
{
	*line = cs->error_line;
	return cs->error;
}

unsigned long
charset_line_offset(const struct charset *cs)
{
	return cs->line_offset;
}

/* ---- choosing the encoding ---- */

static bool
cs_is_utf16_32(enum cs_kind k)
{
	return k == K_UTF16LE || k == K_UTF16BE || k == K_UTF32LE || k == K_UTF32BE;
}

/* Labels compare without case, and with '_' the same as '-'. */
static bool
cs_label_eq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		int x = *a == '_' ? '-' : tolower((unsigned char)*a);
		int y = *b == '_' ? '-' : tolower((unsigned char)*b);

		if (x != y)
			return false;
	}
	return *a == *b;
}

/* Open iconv from `name` to UTF-8; false when iconv does not know it. */
static bool
cs_iconv_open(struct charset *cs, const char *name)
{
	iconv_t cd = iconv_open("UTF-8", name);

	if ((intptr_t)cd == -1) /* iconv_open's failure is (iconv_t)-1 */
		return false;
	if (cs->have_cd)
		iconv_close(cs->cd);
	cs->cd = cd;
	cs->have_cd = true;
	return true;
}

/* Set the decoder for `label`; false when it is unknown. */
static bool
cs_use(struct charset *cs, const char *label)
{
	char norm[48];
	size_t i;

	for (i = 0; label[i] != '\0' && i + 1 < sizeof norm; i++)
		norm[i] = (char)tolower((unsigned char)label[i]);
	norm[i] = '\0';
	for (i = 0; i < sizeof cs_aliases / sizeof cs_aliases[0]; i++) {
		if (!cs_label_eq(norm, cs_aliases[i].label))
			continue;
		snprintf(cs->name, sizeof cs->name, "%s", cs_aliases[i].name);
		cs->kind = cs_aliases[i].kind;
		return cs->kind != K_ICONV || cs_iconv_open(cs, cs->name);
	}
	if (!cs_iconv_open(cs, norm)) {
		for (i = 0; norm[i] != '\0'; i++)
			if (norm[i] == '_')
				norm[i] = '-';
		if (!cs_iconv_open(cs, norm))
			return false;
	}
	snprintf(cs->name, sizeof cs->name, "%s", norm);
	cs->kind = K_ICONV;
	return true;
}

/* The encoding="..." of an XML declaration at the start of ASCII text `s`. */
static const char *
cs_decl_encoding(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i = 0, k = 0, end;
	char quote;

	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
		i++;
	if (i + 5 > n || memcmp(s + i, "<?xml", 5) != 0)
		return NULL;
	for (end = i; end < n && s[end] != '>'; end++)
		;
	for (i += 5; i + 8 <= end; i++)
		if (memcmp(s + i, "encoding", 8) == 0)
			break;
	if (i + 8 > end)
		return NULL;
	for (i += 8; i < end && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n');
	    i++)
		;
	if (i >= end || s[i++] != '=')
		return NULL;
	while (i < end && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
		i++;
	if (i >= end || (s[i] != '"' && s[i] != '\''))
		return NULL;
	quote = s[i++];
	while (i < end && s[i] != quote && k + 1 < outlen)
		out[k++] = s[i++];
	out[k] = '\0';
	return k > 0 ? out : NULL;
}

/* Read the declaration of an EBCDIC document (it starts "<?xm" in code page 037). */
static const char *
cs_ebcdic_decl(const struct charset *cs, char *out, size_t outlen)
{
	char ascii[CHARSET_SNIFF_MAX + 1];
	char *in = cs->head.data, *o = ascii;
	size_t inleft = cs->head.len, oleft = sizeof ascii - 1;
	iconv_t cd = iconv_open("UTF-8", "IBM037");

	if ((intptr_t)cd == -1)
		return NULL;
	iconv(cd, &in, &inleft, &o, &oleft);
	iconv_close(cd);
	return cs_decl_encoding(ascii, (size_t)(o - ascii), out, outlen);
}

/* How many bytes of byte order mark the head starts with, setting the encoding. */
static size_t
cs_bom(struct charset *cs)
{
	static const struct {
		const char *bom;
		size_t len;
		const char *name;
		enum cs_kind kind;
	} boms[] = {
		{"\xEF\xBB\xBF", 3, "utf-8", K_UTF8},
		{"\x00\x00\xFE\xFF", 4, "utf-32be", K_UTF32BE},
		{"\xFF\xFE\x00\x00", 4, "utf-32le", K_UTF32LE},
		{"\xFE\xFF", 2, "utf-16be", K_UTF16BE},
		{"\xFF\xFE", 2, "utf-16le", K_UTF16LE},
	};

	for (size_t i = 0; i < sizeof boms / sizeof boms[0]; i++) {
		if (cs->head.len < boms[i].len || memcmp(cs->head.data, boms[i].bom, boms[i].len) != 0)
			continue;
		snprintf(cs->name, sizeof cs->name, "%s", boms[i].name);
		cs->kind = boms[i].kind;
		return boms[i].len;
	}
	return 0;
}

/* UTF-16 or UTF-32 without a BOM, seen from the first "<" and its neighbours. */
static bool
cs_pattern(struct charset *cs)
{
	const unsigned char *h = (const unsigned char *)cs->head.data;
	const char *name = NULL;

	if (cs->head.len < 4)
		return false;
	if (h[0] == 0 && h[1] == 0 && h[2] == 0 && h[3] != 0)
		name = "utf-32be", cs->kind = K_UTF32BE;
	else if (h[0] != 0 && h[1] == 0 && h[2] == 0 && h[3] == 0)
		name = "utf-32le", cs->kind = K_UTF32LE;
	else if (h[0] == 0 && h[1] != 0 && h[2] == 0 && h[3] != 0)
		name = "utf-16be", cs->kind = K_UTF16BE;
	else if (h[0] != 0 && h[1] == 0 && h[2] != 0 && h[3] == 0)
		name = "utf-16le", cs->kind = K_UTF16LE;
	if (name == NULL)
		return false;
	snprintf(cs->name, sizeof cs->name, "%s", name);
	return true;
}

/* Whether the head holds enough to decide; true at the end of the document. */
static bool
cs_can_decide(const struct charset *cs, bool final)
{
	const char *h = cs->head.data;
	size_t n = cs->head.len, i = 0;

	if (final || n >= CHARSET_SNIFF_MAX)
		return true;
	if (n < 4)
		return false;
	if ((unsigned char)h[0] == 0x4C && (unsigned char)h[1] == 0x6F)
		return memchr(h, 0x6E, n) != NULL; /* EBCDIC '>' */
	while (i < n && (h[i] == ' ' || h[i] == '\t' || h[i] == '\r' || h[i] == '\n'))
		i++;
	if (i + 5 > n)
		return strncmp(h + i, "<?xml", n - i) != 0;
	return memcmp(h + i, "<?xml", 5) != 0 || memchr(h + i, '>', n - i) != NULL;
}

/*
 * Decide the encoding from what the head holds (RFC 7303 section 3): a BOM,
 * else UTF-16/32 recognised by its zero bytes, else the HTTP charset, else
 * the XML declaration, else UTF-8.  A label that names UTF-16 or UTF-32 on
 * a document whose bytes are plainly ASCII is a mislabelling and ignored.
 * Returns how many bytes of BOM to skip.
 */
static size_t
cs_decide(struct charset *cs)
{
	const unsigned char *h = (const unsigned char *)cs->head.data;
	char decl[48];
	size_t skip;

	cs->decided = true;
	if ((skip = cs_bom(cs)) > 0 || cs_pattern(cs))
		return skip;
	if (cs->head.len >= 4 && h[0] == 0x4C && h[1] == 0x6F && h[2] == 0xA7 && h[3] == 0x94) {
		if (cs_ebcdic_decl(cs, decl, sizeof decl) == NULL || !cs_use(cs, decl))
			cs_use(cs, "ibm037");
		return 0;
	}
	if (cs->http[0] != '\0') {
		if (cs_use(cs, cs->http) && !cs_is_utf16_32(cs->kind))
			return 0;
		if (!cs_is_utf16_32(cs->kind))
			cs_error(cs, "unknown charset \"%s\" (read as UTF-8)", cs->http);
	}
	if (cs_decl_encoding(cs->head.data, cs->head.len, decl, sizeof decl) != NULL) {
		if (cs_use(cs, decl) && !cs_is_utf16_32(cs->kind))
			return 0;
		if (!cs_is_utf16_32(cs->kind))
			cs_error(cs, "unknown encoding \"%s\" (read as UTF-8)", decl);
	}
	if (cs->have_cd) {
		iconv_close(cs->cd);
		cs->have_cd = false;
	}
	snprintf(cs->name, sizeof cs->name, "utf-8");
	cs->kind = K_UTF8;
	return 0;
}

/* ---- stage 1: decoding ---- */

/*
 * Documents labelled UTF-8 or Latin-1 reach the lexer undecoded: it checks
 * their UTF-8 as it goes, in the same pass.
 */
static bool
cs_raw_utf8(const struct charset *cs)
{
	return cs->kind == K_UTF8 || cs->kind == K_LATIN;
}

/* Length of the UTF-8 sequence at s: n > 0 valid, 0 invalid, -1 valid so far but cut short. */
static int
cs_utf8_seq(const unsigned char *s, size_t avail)
{
	unsigned c = s[0];
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (i >= avail)
			return -1;
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	}
	/* overlong forms, surrogates, and what lies above U+10FFFF */
	if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) ||
	    (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
		return 0;
	return (int)n;
}

/*
 * Lead bytes 0xC2 and 0xEF are special only before a C1 control (C2 80-9F)
 * or a noncharacter (EF BF BE/BF); anywhere else (most of CJK text, for
 * 0xEF) they are ordinary.
 */
static bool
cs_benign(const unsigned char *s, size_t avail)
{
	if (s[0] == 0xC2)
		return avail >= 2 && (s[1] < 0x80 || s[1] > 0x9F);
	if (s[0] == 0xEF)
		return avail >= 3 && (s[1] != 0xBF || (s[2] != 0xBE && s[2] != 0xBF));
	return s[0] >= 0x80; /* the lexer has checked it is UTF-8 */
}

static void
cs_hold(struct charset *cs, const unsigned char *s, size_t n)
{
	memcpy(cs->held, s, n);
	cs->nheld = n;
}

static unsigned
cs_unit(const unsigned char *s, enum cs_kind k)
{
	switch (k) {
	case K_UTF16LE: return s[0] | (unsigned)s[1] << 8;
	case K_UTF16BE: return (unsigned)s[0] << 8 | s[1];
	case K_UTF32LE: return s[0] | (unsigned)s[1] << 8 | (unsigned)s[2] << 16 | (unsigned)s[3] << 24;
	default: return (unsigned)s[0] << 24 | (unsigned)s[1] << 16 | (unsigned)s[2] << 8 | s[3];
	}
}

/* UTF-16 and UTF-32, either byte order. */
static const unsigned char *
cs_decode_utf16_32(struct charset *cs, const unsigned char *s, size_t len, bool final,
    size_t *outlen)
{
	size_t w = cs->kind == K_UTF32LE || cs->kind == K_UTF32BE ? 4 : 2, i = 0;

	buf_reset(&cs->mid);
	while (i + w <= len) {
		unsigned cp = cs_unit(s + i, cs->kind);
		size_t used = w;

		if (w == 2 && cp >= 0xD800 && cp <= 0xDBFF) {
			if (i + 4 > len && !final)
				break;
			if (i + 4 <= len) {
				unsigned lo = cs_unit(s + i + 2, cs->kind);

				if (lo >= 0xDC00 && lo <= 0xDFFF) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					used = 4;
				}
			}
		}
		if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
			cs_error(cs, "invalid %s sequence", cs->name);
			cp = 0xFFFD;
		}
		charset_put_utf8(&cs->mid, cp);
		i += used;
	}
	if (i < len) {
		if (final)
			cs_error(cs, "the document ends inside a character");
		else
			cs_hold(cs, s + i, len - i);
	}
	*outlen = cs->mid.len;
	return (const unsigned char *)(cs->mid.data != NULL ? cs->mid.data : "");
}

/* Any other encoding, through iconv. */
static const unsigned char *
cs_decode_iconv(struct charset *cs, const unsigned char *s, size_t len, bool final,
    size_t *outlen)
{
	char *in;
	size_t inleft = len;

	memcpy(&in, &s, sizeof in); /* iconv(3) takes char ** but never writes the input */

	buf_reset(&cs->mid);
	while (inleft > 0 || final) {
		char room[4096], *o = room;
		size_t oleft = sizeof room;
		size_t r = inleft > 0 ? iconv(cs->cd, &in, &inleft, &o, &oleft) :
					iconv(cs->cd, NULL, NULL, &o, &oleft);
		int e = errno;

		buf_add(&cs->mid, room, sizeof room - oleft);
		if (r != (size_t)-1) {
			if (inleft == 0)
				break;
			continue;
		}
		if (e == E2BIG)
			continue;
		if (e == EINVAL && !final && inleft <= sizeof cs->held) {
			cs_hold(cs, (unsigned char *)in, inleft);
			break;
		}
		if (inleft == 0)
			break;
		/* EILSEQ, or a sequence cut by the end of the document */
		cs_error(cs, "byte 0x%02X is not %s", (unsigned char)*in, cs->name);
		buf_add(&cs->mid, REPLACEMENT, 3);
		in++;
		inleft--;
	}
	*outlen = cs->mid.len;
	return (const unsigned char *)(cs->mid.data != NULL ? cs->mid.data : "");
}

static const unsigned char *
cs_decode(struct charset *cs, const unsigned char *s, size_t len, bool final, size_t *outlen)
{
	if (cs->nheld > 0) {
		/* Join what the last chunk left to this one; rare with real chunk sizes. */
		buf_reset(&cs->join);
		buf_add(&cs->join, cs->held, cs->nheld);
		buf_add(&cs->join, s, len);
		cs->nheld = 0;
		s = (const unsigned char *)cs->join.data;
		len = cs->join.len;
	}
	cs->in_stage1 = true;
	switch (cs->kind) {
	case K_UTF8:
	case K_LATIN: *outlen = len; break; /* checked by the lexer (cs_char_fix) */
	case K_ICONV: s = cs_decode_iconv(cs, s, len, final, outlen); break;
	default: s = cs_decode_utf16_32(cs, s, len, final, outlen); break;
	}
	cs->in_stage1 = false;
	return s;
}

/* ---- stage 2: the lexer that keeps what libxml2 sees well-formed ---- */

/*
 * Where stage 2's output goes.  Most of the text passes as it is: the bytes
 * kept are not copied but handed on where they lie (charset_push returns a
 * pointer into them) until a handler puts something else in their place;
 * from then on the chunk's output is built in `out`.
 */
struct cs_sink {
	struct buf *out;
	const unsigned char *s; /* the text being lexed */
	size_t from;		/* s[from..at) is kept and not yet copied */
	size_t at;		/* where the handler that runs now starts */
	bool put;		/* it replaced what it consumed */
};

/* What the bytes the current handler consumes become (instead of themselves). */
static void
cs_put(struct cs_sink *k, const void *data, size_t len)
{
	if (!k->put) {
		buf_add(k->out, k->s + k->from, k->at - k->from);
		k->put = true;
	}
	buf_add(k->out, data, len);
}

static void
cs_puts(struct cs_sink *k, const char *s)
{
	cs_put(k, s, strlen(s));
}

static void
cs_put_utf8(struct cs_sink *k, unsigned cp)
{
	cs_put(k, "", 0);
	charset_put_utf8(k->out, cp);
}

/* ... a character reference to `cp`. */
static void
cs_put_charref(struct cs_sink *k, unsigned long cp)
{
	char ref[16];
	int n = snprintf(ref, sizeof ref, "&#x%lX;", cp);

	cs_put(k, ref, n > 0 ? (size_t)n : 0);
}

long
charset_charref(const char *s, size_t len, unsigned long *value)
{
	bool hex = len > 2 && (s[2] == 'x' || s[2] == 'X');
	size_t start = hex ? 3 : 2, i;

	*value = 0;
	if (len < 2)
		return len == 1 && s[0] == '&' ? -1 : 0;
	if (s[0] != '&' || s[1] != '#')
		return 0;
	for (i = start; i < len && i < CHARSET_REF_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(hex ? isxdigit(c) : isdigit(c)))
			break;
		if (*value < 0x110000) /* past Unicode: stop growing, stay invalid */
			*value = *value * (hex ? 16 : 10) +
				 (unsigned long)(isdigit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	if (i >= len && i < CHARSET_REF_MAX)
		return -1;
	return i > start && i < len && s[i] == ';' ? (long)i + 1 : 0;
}

/*
 * A reference at s ("&name;", "&#123;", "&#x1F;").  Returns its length, 0
 * when s is no reference, -1 when the data ends before we can tell.  For a
 * character reference *cp gets its value, else 0.
 */
static int
cs_ref(const unsigned char *s, size_t avail, unsigned long *cp)
{
	size_t i = 1;

	*cp = 0;
	if (avail > 1 && s[1] == '#')
		return (int)charset_charref((const char *)s, avail, cp);
	for (; i < avail && i < CHARSET_REF_MAX; i++) {
		unsigned char c = s[i];

		if (c == ';')
			return i > 1 ? (int)i + 1 : 0;
		if (c >= 0x80) {
			/* a name may hold any letter, but as UTF-8 (the reference is kept as it is) */
			int n = cs_utf8_seq(s + i, avail - i);

			if (n < 0)
				return i < CHARSET_REF_MAX ? -1 : 0;
			if (n == 0 || !cs_benign(s + i, avail - i))
				return 0;
			i += (size_t)n - 1;
		} else if (!(isalpha(c) || c == '_' || c == ':' ||
				   (i > 1 && (isdigit(c) || c == '.' || c == '-'))))
			return 0;
	}
	return i >= avail && i < CHARSET_REF_MAX ? -1 : 0;
}

/* Does the data at s start with `word`?  1 yes, 0 no, -1 cannot tell yet. */
static int
cs_starts(const unsigned char *s, size_t avail, const char *word)
{
	size_t n = strlen(word);

	if (avail >= n)
		return memcmp(s, word, n) == 0;
	return memcmp(s, word, avail) == 0 ? -1 : 0;
}

bool
charset_xml_char_ok(unsigned long cp)
{
	if (cp < 0x20)
		return cp == 0x9 || cp == 0xA || cp == 0xD;
	return !(cp >= 0xD800 && cp <= 0xDFFF) && cp != 0xFFFE && cp != 0xFFFF && cp <= 0x10FFFF;
}

unsigned long
charset_ref_char(unsigned long cp)
{
	if (cp >= 0x80 && cp <= 0x9F) {
		unsigned w = charset_cp1252((unsigned char)cp);

		return w != 0 ? w : 0xFFFD;
	}
	return charset_xml_char_ok(cp) && cp != 0x7F ? cp : 0xFFFD;
}

/* Bytes the lexer must look at, per state; everything else is copied in runs. */
static unsigned char cs_special[LEX_JSON + 1][256];

static void
cs_tables(void)
{
	static bool done;

	if (done)
		return;
	for (int st = 0; st <= LEX_JSON; st++) {
		for (int c = 0; c < 0x20; c++)
			cs_special[st][c] = 1;
		cs_special[st][0x7F] = cs_special[st][0xC2] = cs_special[st][0xEF] = 1;
		cs_special[st]['\t'] = cs_special[st]['\r'] = cs_special[st]['\n'] = 0;
	}
	cs_special[LEX_TEXT]['&'] = cs_special[LEX_TEXT]['<'] = cs_special[LEX_TEXT][']'] = 1;
	cs_special[LEX_CDATA][']'] = 1;
	cs_special[LEX_COMMENT]['-'] = 1;
	cs_special[LEX_PI]['?'] = 1;
	memset(cs_special[LEX_DOCTYPE], 1, sizeof cs_special[LEX_DOCTYPE]); /* all held back */
	done = true;
}

/*
 * One special byte at s[0] in any state: control characters, bytes that
 * are not UTF-8 (in a document that should be: read as Windows-1252), C1
 * controls and noncharacters.  Returns bytes consumed (what replaces them
 * is put in `out`), 0 when the byte is none of these, -1 when a sequence
 * the chunk cuts short must wait for more.
 */
static long
cs_char_fix(struct charset *cs, const unsigned char *s, size_t avail, bool final,
    struct cs_sink *out)
{
	unsigned c = s[0];

	if (c >= 0x80 && cs_raw_utf8(cs)) {
		int n = cs_utf8_seq(s, avail);

		if (n < 0 && !final)
			return -1;
		if (n <= 0) {
			unsigned cp = c >= 0xA0 ? c : charset_cp1252((unsigned char)c);

			if (cs->kind == K_UTF8)
				cs_error(cs, "byte 0x%02X is not UTF-8 (read as Windows-1252)", c);
			cs_put_utf8(out, cp != 0 ? cp : 0xFFFD);
			return 1;
		}
		if (cs_benign(s, avail))
			return n; /* kept */
	}
	if (c < 0x20 || c == 0x7F) {
		cs_error(cs, "character U+%04X is not allowed in XML (replaced)", c);
		cs_put(out, REPLACEMENT, 3);
		return 1;
	}
	if (c == 0xC2 && avail >= 2 && s[1] >= 0x80 && s[1] <= 0x9F) {
		/* C1 controls are legal but never meant: Windows-1252 mislabelled. */
		unsigned cp = charset_cp1252(s[1]);

		cs_put_utf8(out, cp != 0 ? cp : 0xFFFD);
		return 2;
	}
	if (c == 0xEF && avail >= 3 && s[1] == 0xBF && (s[2] == 0xBE || s[2] == 0xBF)) {
		cs_error(cs, "character U+FFF%c is not allowed in XML (replaced)", s[2] == 0xBE ? 'E' : 'F');
		cs_put(out, REPLACEMENT, 3);
		return 3;
	}
	return 0;
}

/* '&' in text: a reference is kept, a bare ampersand escaped.  -1: need more data. */
static long
cs_amp(struct charset *cs, const unsigned char *s, size_t avail, bool final, struct cs_sink *out)
{
	unsigned long cp;
	int n = cs_ref(s, avail, &cp);

	if (n < 0 && !final)
		return -1;
	if (n <= 0) {
		cs_error(cs, "bare '&' (read as \"&amp;\")");
		cs_put(out, "&amp;", 5);
		return 1;
	}
	if (s[1] == '#') {
		unsigned long fixed = charset_ref_char(cp);

		if (!charset_xml_char_ok(cp))
			cs_error(cs, "reference to a character XML does not allow (replaced)");
		else if (cp == 0x7F)
			cs_error(cs, "reference to U+007F, a control character (replaced)");
		if (s[2] == 'X') /* XML wants a lower-case x; HTML allowed both */
			cs_error(cs, "character reference with 'X' (read as 'x')");
		if (fixed != cp || s[2] == 'X')
			cs_put_charref(out, fixed);
	}
	return n; /* kept, unless put above */
}

/* '<' in text: note where CDATA, comments, PIs and the DOCTYPE begin. */
static long
cs_lt(struct charset *cs, const unsigned char *s, size_t avail, bool final, struct cs_sink *out)
{
	static const struct {
		const char *open;
		enum cs_lex lex;
	} opens[] = {
		{"<![CDATA[", LEX_CDATA},
		{"<!--", LEX_COMMENT},
		{"<!DOCTYPE", LEX_DOCTYPE},
		{"<?", LEX_PI},
	};
	unsigned char next;

	for (size_t i = 0; i < sizeof opens / sizeof opens[0]; i++) {
		int m = cs_starts(s, avail, opens[i].open);

		if (m < 0 && !final)
			return -1;
		if (m > 0) {
			size_t n = strlen(opens[i].open);

			cs->lex = opens[i].lex;
			if (cs->lex == LEX_CDATA)
				return (long)n; /* kept */
			cs_put(out, "", 0);
			if (cs->lex != LEX_DOCTYPE)
				return (long)n; /* comments and PIs are dropped (cs_dropped) */
			cs->dtd_depth = 0;
			cs->dtd_quote = 0;
			cs->dtd_overflow = false;
			buf_reset(&cs->doctype);
			buf_add(&cs->doctype, s, n);
			return (long)n;
		}
	}
	if (avail < 2 && !final)
		return -1;
	next = avail >= 2 ? s[1] : ' ';
	if (isalpha(next) || next == '_' || next == ':' || next == '/' || next == '!' ||
	    next >= 0x80) {
		cs->past_prolog |= next != '/' && next != '!';
		return 1; /* kept */
	}
	cs_error(cs, "'<' that starts no tag (read as \"&lt;\")");
	cs_put(out, "&lt;", 4);
	return 1;
}

/* "]]>" outside CDATA is not allowed in XML text: keep it as text. */
static long
cs_cdata_end(struct charset *cs, const unsigned char *s, size_t avail, bool final,
    struct cs_sink *out)
{
	int m = cs_starts(s, avail, "]]>");

	if (m < 0 && !final)
		return -1;
	if (m <= 0)
		return 1; /* kept */
	cs_error(cs, "\"]]>\" outside CDATA (read as text)");
	cs_puts(out, "]]&gt;");
	return 3;
}

/* Comments and PIs (the lexer drops them: libxml2 need not see them). */
static bool
cs_dropped(enum cs_lex lex)
{
	return lex == LEX_COMMENT || lex == LEX_PI;
}

/*
 * The end of a CDATA section, comment or PI.  Comments and processing
 * instructions carry nothing a feed needs, and libxml2's push parser reads
 * a malformed one ("<!--->") differently depending on how the bytes were
 * chunked: they are dropped, all but their newlines (so that line numbers
 * hold).
 */
static long
cs_close(struct charset *cs, const unsigned char *s, size_t avail, bool final, const char *close,
    struct cs_sink *out)
{
	int m = cs_starts(s, avail, close);

	if (m < 0 && !final)
		return -1;
	if (m > 0) {
		if (cs_dropped(cs->lex))
			cs_put(out, "", 0);
		cs->lex = LEX_TEXT;
		return (long)strlen(close);
	}
	if (cs_dropped(cs->lex))
		cs_put(out, "\n", s[0] == '\n'); /* of what is dropped, only a newline stays */
	return 1;
}

/* Skip white space in d[i..n). */
static size_t
cs_skip_ws(const char *d, size_t i, size_t n)
{
	while (i < n && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n'))
		i++;
	return i;
}

/* The quoted literal at d[i] (after its quote: *start, *len); the index past it. */
static size_t
cs_literal(const char *d, size_t i, size_t n, size_t *start, size_t *len)
{
	char q = d[i++];
	size_t j = i;

	while (j < n && d[j] != q)
		j++;
	*start = i;
	*len = j - i;
	return j < n ? j + 1 : n;
}

/* <!ENTITY name "value">: an internal general entity, kept for the parser. */
static size_t
cs_entity_decl(struct charset *cs, const char *d, size_t i, size_t n)
{
	size_t name = cs_skip_ws(d, i, n), end = name, vstart, vlen;
	struct buf v;

	if (name < n && d[name] == '%')
		return name + 1; /* a parameter entity: nothing for us */
	while (end < n && !strchr(" \t\r\n\"'>", d[end]))
		end++;
	i = cs_skip_ws(d, end, n);
	if (i >= n || (d[i] != '"' && d[i] != '\'') || end == name ||
	    cs->nentities >= CHARSET_ENTITIES)
		return i; /* external (SYSTEM, PUBLIC), or too many */
	i = cs_literal(d, i, n, &vstart, &vlen);
	if (vlen > CHARSET_ENTITY_MAX)
		return i;
	/* character references in an entity value are read when it is declared */
	buf_init(&v, 0);
	for (size_t k = vstart; k < vstart + vlen;) {
		unsigned long cp;
		long r = charset_charref(d + k, vstart + vlen - k, &cp);

		if (r > 0) {
			if (charset_xml_char_ok(cp)) /* (a reference to what XML refuses: dropped) */
				charset_put_utf8(&v, (unsigned)charset_ref_char(cp));
			k += (size_t)r;
		} else
			buf_addc(&v, d[k++]);
	}
	cs->entities[cs->nentities].name = xstrndup(d + name, end - name);
	cs->entities[cs->nentities++].value = v.data != NULL ? buf_steal(&v) : xstrdup("");
	return i;
}

/*
 * What we read of a DOCTYPE: its public identifier (RSS 0.91's tells
 * Netscape from UserLand) and the internal general entities it declares.
 */
static void
cs_doctype_read(struct charset *cs)
{
	const char *d = cs->doctype.data;
	size_t n = cs->doctype.len, i = cs_skip_ws(d, 9, n), start, len;

	while (i < n && !strchr(" \t\r\n[>", d[i]))
		i++;
	i = cs_skip_ws(d, i, n);
	if (n - i > 6 && strncmp(d + i, "PUBLIC", 6) == 0) {
		i = cs_skip_ws(d, i + 6, n);
		if (i < n && (d[i] == '"' || d[i] == '\'')) {
			i = cs_literal(d, i, n, &start, &len);
			free(cs->public_id); /* a second DOCTYPE: the last one counts */
			cs->public_id = xstrndup(d + start, len < 256 ? len : 256);
		}
	}
	while (i < n && d[i] != '[')
		i = d[i] == '"' || d[i] == '\'' ? cs_literal(d, i, n, &start, &len) : i + 1;
	while (i < n) {
		if (strncmp(d + i, "<!--", 4) == 0) {
			const char *e = strstr(d + i + 4, "-->");

			i = e != NULL ? (size_t)(e - d) + 3 : n;
		} else if (d[i] == '"' || d[i] == '\'')
			i = cs_literal(d, i, n, &start, &len);
		else if (strncmp(d + i, "<!ENTITY", 8) == 0)
			i = cs_entity_decl(cs, d, i + 8, n);
		else
			i++;
	}
}

/*
 * The end of the DOCTYPE (or of the document inside it).  libxml2 never
 * sees it: its push parser reads a malformed DOCTYPE differently depending
 * on how the bytes were chunked, and we want none of its DTD handling
 * anyway.  Its lines are kept, as blank ones, so that line numbers hold.
 */
static void
cs_doctype_end(struct charset *cs, struct cs_sink *out)
{
	if (cs->past_prolog)
		cs_error(cs, "a DOCTYPE after the root element (ignored)");
	else if (cs->dtd_overflow)
		cs_error(cs, "a DOCTYPE longer than %zu bytes (ignored)", CHARSET_DTD_MAX);
	else
		cs_doctype_read(cs);
	cs_put(out, "", 0);
	for (size_t i = 0; i < cs->doctype.len; i++)
		if (cs->doctype.data[i] == '\n')
			cs_put(out, "\n", 1);
	buf_reset(&cs->doctype);
	cs->lex = LEX_TEXT;
}

/* Inside <!DOCTYPE ...>: held back, with quotes and the internal subset's brackets, to its '>'. */
static long
cs_doctype(struct charset *cs, const unsigned char *s, struct cs_sink *out)
{
	unsigned char c = s[0];

	cs_put(out, "", 0);
	if (cs->doctype.len < CHARSET_DTD_MAX || c == '\n')
		buf_add(&cs->doctype, s, 1); /* past the limit, only its lines are kept */
	else
		cs->dtd_overflow = true;
	if (cs->dtd_quote != 0) {
		if (c == (unsigned char)cs->dtd_quote)
			cs->dtd_quote = 0;
	} else if (c == '"' || c == '\'')
		cs->dtd_quote = (char)c;
	else if (c == '[')
		cs->dtd_depth++;
	else if (c == ']' && cs->dtd_depth > 0)
		cs->dtd_depth--;
	else if (c == '>' && cs->dtd_depth == 0)
		cs_doctype_end(cs, out);
	return 1;
}

/* The length of the XML declaration at s ("<?xml ... ?>"), or 0 if it does not end in sight. */
static size_t
cs_decl_end(const unsigned char *s, size_t avail)
{
	if (avail < 6 || !(s[5] == ' ' || s[5] == '\t' || s[5] == '\r' || s[5] == '\n' ||
			      s[5] == '?'))
		return 0;
	for (size_t i = 5; i + 1 < avail && i < CHARSET_DECL_MAX; i++)
		if (s[i] == '?' && s[i + 1] == '>')
			return i + 2;
	return 0;
}

/*
 * Before the first character: JSON or XML?  White space is held (and
 * dropped before an XML declaration, which must come first).
 */
static long
cs_start(struct charset *cs, const unsigned char *s, size_t avail, bool final, struct cs_sink *out)
{
	int m;

	if (s[0] == ' ' || s[0] == '\t' || s[0] == '\r' || s[0] == '\n') {
		buf_add(&cs->lead, s, 1);
		cs_put(out, "", 0);
		return 1;
	}
	if ((m = cs_starts(s, avail, "\xEF\xBB\xBF")) < 0 && !final)
		return -1;
	if (m > 0) {
		cs_put(out, "", 0);
		return 3; /* a second BOM, or one after white space */
	}
	if (s[0] == '{' || s[0] == '[') {
		cs->lex = LEX_JSON;
		cs_put(out, cs->lead.data, cs->lead.len);
		return 0;
	}
	if ((m = cs_starts(s, avail, "<?xml")) < 0 && !final)
		return -1;
	if (m > 0) {
		size_t end = cs_decl_end(s, avail);

		if (end == 0 && !final && avail < CHARSET_DECL_MAX)
			return -1;
		for (size_t i = 0; i < cs->lead.len; i++)
			cs->line_offset += cs->lead.data[i] == '\n';
		buf_reset(&cs->lead);
		cs->lex = LEX_TEXT;
		if (end == 0)
			return 0;
		/*
		 * What follows is UTF-8 whatever the declaration said: say so, so
		 * that libxml2 neither trips on an odd encoding name nor acts on it.
		 */
		for (size_t i = 0; i < end; i++)
			cs->line_offset += s[i] == '\n';
		cs_puts(out, "<?xml version=\"1.0\"?>");
		return (long)end;
	} else
		cs_put(out, cs->lead.data, cs->lead.len);
	buf_reset(&cs->lead);
	cs->lex = LEX_TEXT;
	return 0;
}

/*
 * A document cut off inside a CDATA section, comment or PI: close it, so
 * that libxml2 hands over all of the text there is (it otherwise keeps back
 * a tail whose length depends on how the bytes were chunked).
 */
static void
cs_close_open(struct charset *cs, struct cs_sink *out)
{
	static const char *const closes[] = {[LEX_CDATA] = "]]>", [LEX_COMMENT] = "-->",
		[LEX_PI] = "?>"};

	if (cs->lex == LEX_DOCTYPE) {
		cs->lex_pos = cs->dec_total;
		cs_error(cs, "the document ends inside its DOCTYPE");
		cs->dtd_overflow = true; /* not read: half a declaration is none */
		cs_doctype_end(cs, out);
		return;
	}
	if (cs->lex != LEX_CDATA && cs->lex != LEX_COMMENT && cs->lex != LEX_PI)
		return;
	cs->lex_pos = cs->dec_total;
	cs_error(cs, "the document ends inside a %s", cs->lex == LEX_CDATA ? "CDATA section" :
						       cs->lex == LEX_COMMENT ? "comment" :
										"processing instruction");
	if (!cs_dropped(cs->lex))
		cs_puts(out, closes[cs->lex]);
	cs->lex = LEX_TEXT;
}


/*
 * In text, a special byte at s[i] that needs nothing done all the same: a
 * tag ("<p", "</p") and a named reference ("&amp;") go by as they are.
 * Returns where such a thing ends, or i.
 */
static size_t
cs_text_ok(const unsigned char *s, size_t i, size_t len)
{
	size_t j;

	if (s[i] == '<' && i + 1 < len && (isalpha(s[i + 1]) || s[i + 1] == '/'))
		return i + 2;
	if (s[i] != '&' || i + 1 >= len || !isalpha(s[i + 1]))
		return i;
	for (j = i + 2; j < len && j - i < CHARSET_REF_MAX && isalnum(s[j]); j++)
		;
	return j < len && s[j] == ';' ? j + 1 : i;
}

/*
 * ---- sixteen (SSE2) or eight (SWAR) bytes at a time: most bytes need
 * nothing, find them fast ----
 */
#ifdef __SSE2__
/* Bytes equal to c (0xFF each), and bytes in [lo, hi] (unsigned). */
#define CS_EQ(v, c)	    _mm_cmpeq_epi8((v), _mm_set1_epi8((char)(c)))
#define CS_IN(v, lo, hi)                                                                   \
	_mm_cmpeq_epi8(_mm_min_epu8(_mm_sub_epi8((v), _mm_set1_epi8((char)(lo))),         \
			   _mm_set1_epi8((char)((hi) - (lo)))),                                \
	    _mm_sub_epi8((v), _mm_set1_epi8((char)(lo))))

/* A state's own markers, ready for comparing (set up once per run). */
struct cs_marks {
	__m128i m0, m1;
	bool text; /* LEX_TEXT: '<' and '&' are marks, and '<' before a letter or '/' is not */
};

static void
cs_marks_init(struct cs_marks *mk, enum cs_lex lex)
{
	static const unsigned char marks[][2] = {[LEX_TEXT] = {']', '&'}, [LEX_CDATA] = {']', ']'},
		[LEX_COMMENT] = {'-', '-'}, [LEX_PI] = {'?', '?'}, [LEX_JSON] = {0x7F, 0x7F}};

	mk->m0 = _mm_set1_epi8((char)marks[lex][0]);
	mk->m1 = _mm_set1_epi8((char)marks[lex][1]);
	mk->text = lex == LEX_TEXT;
}

/*
 * The ASCII bytes among the sixteen in v (at s; in text s[16] is read too)
 * that the lexer must look at: controls but tab, newline and CR; 0x7F; the
 * state's own markers.  A tag's '<' (cs_text_ok) is let by here already.
 */
static inline unsigned
cs_ascii_special16(__m128i v, const unsigned char *s, const struct cs_marks *mk)
{
	__m128i ok = _mm_or_si128(CS_EQ(v, '\t'), _mm_or_si128(CS_EQ(v, '\n'), CS_EQ(v, '\r')));
	__m128i bad = _mm_andnot_si128(ok, CS_IN(v, 0x00, 0x1F));

	bad = _mm_or_si128(bad, CS_EQ(v, 0x7F));
	bad = _mm_or_si128(bad, _mm_or_si128(_mm_cmpeq_epi8(v, mk->m0), _mm_cmpeq_epi8(v, mk->m1)));
	if (mk->text) {
		__m128i next = _mm_loadu_si128((const __m128i *)(const void *)(s + 1));
		__m128i tag = _mm_or_si128(CS_IN(_mm_or_si128(next, _mm_set1_epi8(0x20)), 'a', 'z'),
		    CS_EQ(next, '/'));

		bad = _mm_or_si128(bad, _mm_andnot_si128(tag, CS_EQ(v, '<')));
	}
	return (unsigned)_mm_movemask_epi8(bad);
}

/*
 * Decoded text (valid UTF-8 already): where among the sixteen bytes at s
 * the first one that may need the lexer is (16: none).  Above ASCII only
 * the lead bytes of C1 controls and noncharacters may.
 */
static unsigned
cs_special16(const unsigned char *s, const struct cs_marks *mk)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
	unsigned mask = cs_ascii_special16(v, s, mk) |
			(unsigned)_mm_movemask_epi8(_mm_or_si128(CS_EQ(v, 0xC2), CS_EQ(v, 0xEF)));

	return mask != 0 ? (unsigned)__builtin_ctz(mask) : 16;
}

/*
 * Undecoded UTF-8: how many of the sixteen bytes at s go by as they are
 * (in *n), and whether all of them do.  Multi-byte sequences are checked
 * sixteen at a time by their shape: a continuation byte exactly where a
 * lead byte wants one.  Lead bytes whose sequences need a range check
 * (E0, ED, F0, F4), those of C1 controls and noncharacters (C2, EF), and
 * bytes that never start a sequence stop the scan for the byte-at-a-time
 * path.  A sequence the block cuts (whose bytes in it are checked all the
 * same) is left for the next block.
 */
static bool
cs_plain16_utf8(const unsigned char *s, const struct cs_marks *mk, unsigned *n)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
	unsigned high = (unsigned)_mm_movemask_epi8(v), ascii = cs_ascii_special16(v, s, mk);
	unsigned cont, l3, l4, l2, odd, bad, limit = 16, cut;
	uint32_t want;

	if (high == 0) {
		*n = ascii != 0 ? (unsigned)__builtin_ctz(ascii) : 16;
		return ascii == 0;
	}
	cont = (unsigned)_mm_movemask_epi8(CS_IN(v, 0x80, 0xBF));
	l3 = (unsigned)_mm_movemask_epi8(CS_IN(v, 0xE0, 0xEF));
	l4 = (unsigned)_mm_movemask_epi8(CS_IN(v, 0xF0, 0xFF));
	l2 = high & ~cont & ~l3 & ~l4;
	odd = (unsigned)_mm_movemask_epi8(_mm_or_si128(
	    _mm_or_si128(CS_IN(v, 0xC0, 0xC2), CS_IN(v, 0xF4, 0xFF)),
	    _mm_or_si128(_mm_or_si128(CS_EQ(v, 0xE0), CS_EQ(v, 0xED)),
		_mm_or_si128(CS_EQ(v, 0xEF), CS_EQ(v, 0xF0)))));
	/* where continuation bytes must be: after each lead, as many as it announces */
	want = (uint32_t)(l2 | l3 | l4) << 1 | (uint32_t)(l3 | l4) << 2 | (uint32_t)l4 << 3;
	cut = (l2 & 0x8000) | (l3 & 0xC000) | (l4 & 0xE000);
	if (cut != 0)
		limit = (unsigned)__builtin_ctz(cut);
	bad = ascii | odd | ((cont ^ (unsigned)want) & 0xFFFF);
	if (bad == 0) {
		*n = limit;
		return true;
	}
	/* back to the lead byte of the sequence the first problem is in */
	for (*n = (unsigned)__builtin_ctz(bad); *n > 0 && (want >> *n & 1) != 0; (*n)--)
		;
	return false;
}

/* How far from i the sixteen-byte scan finds nothing to look at. */
static size_t
cs_fast_scan(const unsigned char *s, size_t i, size_t len, const struct cs_marks *mk, bool raw)
{
	while (i + 17 <= len) { /* 17: text looks one byte past the block */
		unsigned m;
		bool more;

		if (raw)
			more = cs_plain16_utf8(s + i, mk, &m);
		else
			more = (m = cs_special16(s + i, mk)) == 16;
		i += m;
		if (!more)
			break;
	}
	return i;
}

/* A multi-byte sequence the fast scan stopped at: past it if it is ordinary, else i. */
static size_t
cs_high_step(const unsigned char *s, size_t i, size_t len, const unsigned char *special)
{
	int n = cs_utf8_seq(s + i, len - i);

	(void)special;
	return n > 0 && cs_benign(s + i, len - i) ? i + (size_t)n : i;
}
#else
static uint64_t
cs_load64(const unsigned char *s)
{
	uint64_t w;

	memcpy(&w, s, sizeof w);
	return w;
}

#define CS_ONES	 0x0101010101010101ULL
#define CS_HIGHS 0x8080808080808080ULL

/* Does word w hold a zero byte?  (Exact, as a yes or no.) */
static uint64_t
cs_has_zero(uint64_t w)
{
	return (w - CS_ONES) & ~w & CS_HIGHS;
}

/* Does w hold byte b? */
static uint64_t
cs_has(uint64_t w, unsigned char b)
{
	return cs_has_zero(w ^ (CS_ONES * b));
}

/*
 * Whether none of the eight bytes at s can need the lexer in `lex`: no
 * control character (tab and newline included: they are rare enough),
 * no 0x7F, no lead byte of a C1 control or noncharacter (0xC2, 0xEF), and
 * none of the state's own markers.
 */
static bool
cs_plain8(const unsigned char *s, enum cs_lex lex, bool raw)
{
	uint64_t w = cs_load64(s);
	uint64_t bad = ((w - CS_ONES * 0x20) & ~w & CS_HIGHS) | cs_has(w, 0x7F) |
		       (raw ? w & CS_HIGHS : cs_has(w, 0xC2) | cs_has(w, 0xEF));

	switch (lex) {
	case LEX_TEXT: bad |= cs_has(w, '<') | cs_has(w, '&') | cs_has(w, ']'); break;
	case LEX_CDATA: bad |= cs_has(w, ']'); break;
	case LEX_COMMENT: bad |= cs_has(w, '-'); break;
	case LEX_PI: bad |= cs_has(w, '?'); break;
	default: break;
	}
	return bad == 0;
}

struct cs_marks {
	enum cs_lex lex;
};

static void
cs_marks_init(struct cs_marks *mk, enum cs_lex lex)
{
	mk->lex = lex;
}

static size_t
cs_fast_scan(const unsigned char *s, size_t i, size_t len, const struct cs_marks *mk, bool raw)
{
	while (i + 8 <= len && cs_plain8(s + i, mk->lex, raw))
		i += 8;
	return i;
}

/*
 * A run of valid, ordinary multi-byte UTF-8 sequences from i (text in
 * Cyrillic, Greek, CJK...), and of the ASCII between them that `special`
 * lets by (spaces, punctuation): where it ends.  Such text switches between
 * the two every few bytes, too often for the eight-byte scan to pay; a
 * stretch of sixteen ASCII bytes goes back to it.  The common two- and
 * three-byte sequences are checked inline.
 */
static size_t
cs_high_step(const unsigned char *s, size_t i, size_t len, const unsigned char *special)
{
	size_t ascii = 0;

	while (i < len) {
		unsigned char c = s[i];
		int n;

		if (c < 0x80) {
			if (special[c] || ++ascii >= 16)
				break;
			i++;
			continue;
		}
		ascii = 0;
		if (c >= 0xC3 && c <= 0xDF && i + 1 < len && (s[i + 1] & 0xC0) == 0x80) {
			i += 2;
			continue;
		}
		if (c >= 0xE1 && c <= 0xEC && i + 2 < len && (s[i + 1] & 0xC0) == 0x80 &&
		    (s[i + 2] & 0xC0) == 0x80) {
			i += 3;
			continue;
		}
		if ((n = cs_utf8_seq(s + i, len - i)) <= 0 || !cs_benign(s + i, len - i))
			break;
		i += (size_t)n;
	}
	return i;
}
#endif

/*
 * The run of bytes from i that state `lex` copies as they are.  With `raw`
 * (undecoded UTF-8) a byte above 0x7F goes by only as part of a complete,
 * valid sequence.  In text, tags and named references go by too.
 */
static size_t
cs_plain_run(const unsigned char *s, size_t i, size_t len, enum cs_lex lex, bool raw)
{
	const unsigned char *special = cs_special[lex];
	struct cs_marks mk;

	cs_marks_init(&mk, lex);
	while ((i = cs_fast_scan(s, i, len, &mk, raw)) < len) {
		size_t k = i;

		if (s[i] >= 0x80 && raw)
			k = cs_high_step(s, i, len, special);
		else if (!special[s[i]] || cs_benign(s + i, len - i))
			k = i + 1;
		else if (lex == LEX_TEXT)
			k = cs_text_ok(s, i, len);
		if (k == i)
			break;
		i = k;
	}
	return i;
}

/* Whether text s[0..len) holds the start of an element ("<a", not "</a" or "<!"). */
static bool
cs_has_start_tag(const unsigned char *s, size_t len)
{
	for (const unsigned char *p = memchr(s, '<', len); p != NULL && p + 1 < s + len;
	     p = memchr(p + 1, '<', (size_t)(s + len - p - 1)))
		if (isalpha(p[1]) || p[1] == '_' || p[1] == ':' || p[1] >= 0x80)
			return true;
	return false;
}

/* The handler that ran consumed up to `pos`: if it put something in their place, kept bytes start again there. */
static void
cs_took(struct cs_sink *k, size_t pos)
{
	if (k->put) {
		k->from = pos;
		k->put = false;
	}
}

/* A dropped stretch s[start..end) (in a comment or PI) leaves only its newlines. */
static void
cs_drop(struct cs_sink *k, size_t start, size_t end)
{
	k->at = start;
	cs_put(k, "", 0);
	for (size_t j = start; j < end; j++)
		if (k->s[j] == '\n')
			buf_addc(k->out, '\n');
	cs_took(k, end);
}

/* One special byte in the lexer's state: its handler.  -1: need more data. */
static long
cs_special_byte(struct charset *cs, const unsigned char *s, size_t avail, bool final,
    struct cs_sink *k)
{
	switch (cs->lex) {
	case LEX_START: return cs_start(cs, s, avail, final, k);
	case LEX_TEXT:
		if (s[0] == '&')
			return cs_amp(cs, s, avail, final, k);
		if (s[0] == '<')
			return cs_lt(cs, s, avail, final, k);
		if (s[0] == ']')
			return cs_cdata_end(cs, s, avail, final, k);
		return 1; /* kept */
	case LEX_CDATA: return cs_close(cs, s, avail, final, "]]>", k);
	case LEX_COMMENT: return cs_close(cs, s, avail, final, "-->", k);
	case LEX_PI: return cs_close(cs, s, avail, final, "?>", k);
	case LEX_DOCTYPE: return cs_doctype(cs, s, k);
	default: return 1; /* JSON has no other special bytes; an incomplete sequence stays */
	}
}

/*
 * Stage 2 on decoded UTF-8 s[0..len) into sink `k` (see struct cs_sink).
 * Returns where the output ends in the text lexed (k->s: s, or s joined to
 * what the last chunk held back); what lies past it is held back.
 */
static size_t
cs_lex(struct charset *cs, const unsigned char *s, size_t len, bool final, struct cs_sink *k)
{
	size_t i = 0;
	unsigned long long base = cs->dec_total - len - cs->carry.len;

	if (cs->carry.len > 0) {
		buf_reset(&cs->join2);
		buf_add(&cs->join2, cs->carry.data, cs->carry.len);
		buf_add(&cs->join2, s, len);
		buf_reset(&cs->carry);
		s = (const unsigned char *)cs->join2.data;
		len = cs->join2.len;
	}
	k->s = s;
	k->from = 0;
	k->put = false;
	cs->lex_s = s;
	while (i < len) {
		size_t start = i;
		long n;

		/* the common case: a run of bytes nothing is to be done about */
		if (cs->lex != LEX_START && cs->lex != LEX_DOCTYPE)
			i = cs_plain_run(s, i, len, cs->lex, cs_raw_utf8(cs));
		if (!cs->past_prolog && cs->lex == LEX_TEXT)
			cs->past_prolog = cs_has_start_tag(s + start, i - start);
		if (cs_dropped(cs->lex) && i > start)
			cs_drop(k, start, i);
		if (i >= len)
			break;
		cs->lex_pos = base + i;
		cs->lex_i = i;
		k->at = i;
		n = 0;
		if (cs->lex != LEX_START && cs->lex != LEX_DOCTYPE && !cs_dropped(cs->lex))
			n = cs_char_fix(cs, s + i, len - i, final, k);
		if (n == 0)
			n = cs_special_byte(cs, s + i, len - i, final, k);
		if (n < 0) {
			buf_add(&cs->carry, s + i, len - i);
			break;
		}
		i += (size_t)n;
		cs_took(k, i);
	}
	cs->line += cs_newlines((const char *)s, i < len ? i : len);
	cs->lex_s = NULL;
	k->at = i < len ? i : len;
	if (final && cs->lead.len > 0) {
		cs_put(k, cs->lead.data, cs->lead.len);
		buf_reset(&cs->lead);
	}
	if (final)
		cs_close_open(cs, k);
	cs_took(k, k->at);
	return k->at;
}

/* ---- the chunk loop ---- */

static const char *
cs_run(struct charset *cs, const unsigned char *s, size_t len, bool final, size_t *outlen)
{
	size_t n, end;
	const unsigned char *dec = cs_decode(cs, s, len, final, &n);
	struct cs_sink k = {.out = &cs->out};

	cs->dec_total += n;
	end = cs_lex(cs, dec, n, final, &k);
	if (cs->out.len == 0) {
		/* nothing was replaced: the kept bytes are handed on where they lie */
		*outlen = end - k.from;
		return (const char *)k.s + k.from;
	}
	buf_add(&cs->out, k.s + k.from, end - k.from);
	*outlen = cs->out.len;
	return cs->out.data;
}

/* What the last call returned may lie in the head or the output buffer: let it go now. */
static void
cs_next_call(struct charset *cs)
{
	cs_tables();
	if (cs->decided && cs->head.data != NULL)
		buf_free(&cs->head);
	buf_reset(&cs->out);
}

const char *
charset_push(struct charset *cs, const char *data, size_t len, size_t *outlen)
{
	cs_next_call(cs);
	if (!cs->decided) {
		size_t skip;

		buf_add(&cs->head, data, len);
		if (!cs_can_decide(cs, false)) {
			*outlen = 0;
			return "";
		}
		skip = cs_decide(cs);
		return cs_run(cs, (const unsigned char *)cs->head.data + skip, cs->head.len - skip,
		    false, outlen);
	}
	return cs_run(cs, (const unsigned char *)data, len, false, outlen);
}

const char *
charset_finish(struct charset *cs, size_t *outlen)
{
	cs_next_call(cs);
	if (!cs->decided) {
		size_t skip = cs_decide(cs);

		return cs_run(cs,
		    (const unsigned char *)(cs->head.data != NULL ? cs->head.data : "") + skip,
		    cs->head.len - skip, true, outlen);
	}
	return cs_run(cs, (const unsigned char *)"", 0, true, outlen);
}
