/*
 * url.c: relative reference resolution (RFC 3986 section 5) through curl_url.
 *
 * curl_url does the path merging and dot-segment removal.  Around it we
 * handle what it does not: references that are only a fragment (or empty),
 * which libcurl 7.88 resolves against the base's folder instead of the base
 * itself; absolute URIs, which we keep as written (curl would refuse those
 * without an authority, such as mailto: and tag:, and rewrite the others);
 * and untidy characters (spaces, quotes) that feeds leave in links, which we
 * percent-encode.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "feeds/text.h"
#include "feeds/url.h"
#include "util/util.h"

#define URL_FLAGS CURLU_NON_SUPPORT_SCHEME

/* Length of the scheme at the start of `s` (RFC 3986 3.1), 0 when it has none. */
static size_t
url_scheme_len(const char *s)
{
	size_t i = 0;

	if (!isalpha((unsigned char)s[0]))
		return 0;
	while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
		i++;
	return s[i] == ':' ? i : 0;
}

/* `s` with spaces, controls and the characters RFC 3986 never allows percent-encoded. */
static char *
url_encode_untidy(const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b;

	size_t run = 0;

	buf_init(&b, 0);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7F || c == '"' || c == '<' || c == '>' || c == '\\' ||
		    c == '^' || c == '`' || c == '{' || c == '|' || c == '}') {
			char esc[3] = {'%', hex[c >> 4], hex[c & 15]};

			buf_add(&b, s + i - run, run);
			buf_add(&b, esc, 3);
			run = 0;
		} else
			run++;
	}
	buf_add(&b, s + len - run, run);
	return buf_steal(&b);
}

/* curl's reading of `ref` (absolute, or relative to `base` when not NULL); NULL if it fails. */
static char *
url_curl(const char *base, const char *ref)
{
	CURLU *u;
	char *got = NULL, *out = NULL;

	if ((u = curl_url()) == NULL)
		fatalx("curl_url: out of memory");
	if ((base == NULL || curl_url_set(u, CURLUPART_URL, base, URL_FLAGS) == CURLUE_OK) &&
	    curl_url_set(u, CURLUPART_URL, ref, URL_FLAGS) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &got, 0) == CURLUE_OK) {
		/*
		 * curl decodes the host's percent escapes ("https://%7C%dd/"):
		 * encode again what must not appear raw, refuse what is not UTF-8.
		 */
		out = url_encode_untidy(got, strlen(got));
		if (!text_is_clean(out, strlen(out))) {
			free(out);
			out = NULL;
		}
	}
	curl_free(got);
	curl_url_cleanup(u);
	return out;
}

char *
url_resolve(const char *base, const char *ref)
{
	size_t len;
	char *clean, *out;

	while (*ref == ' ' || *ref == '\t' || *ref == '\n' || *ref == '\r')
		ref++;
	len = strlen(ref);
	while (len > 0 && (ref[len - 1] == ' ' || ref[len - 1] == '\t' || ref[len - 1] == '\n' ||
			      ref[len - 1] == '\r'))
		len--;
	clean = url_encode_untidy(ref, len);
	if (url_scheme_len(clean) > 0)
		return clean; /* absolute: as written (but for untidy characters) */
	if (base == NULL || url_scheme_len(base) == 0) {
		free(clean);
		return NULL;
	}
	if (clean[0] == '\0' || clean[0] == '#') {
		/* The base itself, with the reference's fragment (RFC 3986 5.2.2). */
		const char *hash = strchr(base, '#');

		out = xasprintf("%.*s%s", (int)(hash != NULL ? (size_t)(hash - base) : strlen(base)),
		    base, clean);
	} else
		out = url_curl(base, clean);
	free(clean);
	return out;
}

bool
url_is_tidy(const char *url)
{
	for (const unsigned char *p = (const unsigned char *)url; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7F)
			return false;
	return text_is_clean(url, strlen(url));
}
