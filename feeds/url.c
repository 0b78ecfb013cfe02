/* url.c: relative reference resolution through curl_url. */
#include <string.h>

#include <curl/curl.h>

#include "feeds/url.h"
#include "util/util.h"

/* Flags for the untidy links feeds carry: spaces are encoded, any scheme is kept. */
#define URL_FLAGS (CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE)

char *
url_resolve(const char *base, const char *ref)
{
	CURLU *u;
	char *got = NULL, *out = NULL;

	while (*ref == ' ' || *ref == '\t' || *ref == '\n' || *ref == '\r')
		ref++;
	if (*ref == '\0')
		return base != NULL ? xstrdup(base) : NULL;
	if ((u = curl_url()) == NULL)
		fatalx("curl_url: out of memory");
	if (curl_url_set(u, CURLUPART_URL, ref, URL_FLAGS) != CURLUE_OK) {
		/* Not absolute on its own: resolve it against the base. */
		if (base == NULL || curl_url_set(u, CURLUPART_URL, base, URL_FLAGS) != CURLUE_OK ||
		    curl_url_set(u, CURLUPART_URL, ref, URL_FLAGS) != CURLUE_OK)
			goto out;
	}
	if (curl_url_get(u, CURLUPART_URL, &got, 0) == CURLUE_OK)
		out = xstrdup(got);
out:
	curl_free(got);
	curl_url_cleanup(u);
	return out;
}
