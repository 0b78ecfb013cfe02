/*
 * urlnorm.c: link normalisation with curl_url.
 *
 * curl_url does the parsing, the percent-encoding clean-up and the default
 * port; we lower-case the host (curl keeps it as written), drop what only
 * tracks the reader, and sort the query so parameter order does not matter.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "feeds/url.h"
#include "feeds/urlnorm.h"
#include "util/util.h"

/* Query parameters that say who sent the reader, never what the page is. */
static const char *const urlnorm_tracking[] = {
	"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
	"mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id",
	"__s", "_ga", "_gl",
};

static bool
urlnorm_is_tracking(const char *param, size_t len)
{
	const char *eq = memchr(param, '=', len);
	size_t name_len = eq != NULL ? (size_t)(eq - param) : len;

	if (name_len >= 4 && strncasecmp(param, "utm_", 4) == 0)
		return true;
	for (size_t i = 0; i < sizeof urlnorm_tracking / sizeof urlnorm_tracking[0]; i++)
		if (strlen(urlnorm_tracking[i]) == name_len &&
		    strncasecmp(param, urlnorm_tracking[i], name_len) == 0)
			return true;
	return false;
}

static int
urlnorm_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The query without tracking parameters, sorted; NULL when nothing is left. */
static char *
urlnorm_query(const char *query)
{
	char **params = NULL;
	size_t n = 0;
	struct buf out;
	const char *p = query;

	while (*p != '\0') {
		size_t len = strcspn(p, "&");

		if (len > 0 && !urlnorm_is_tracking(p, len)) {
			params = xreallocarray(params, n + 1, sizeof *params);
			params[n++] = xstrndup(p, len);
		}
		p += len;
		if (*p == '&')
			p++;
	}
	if (n == 0) {
		free(params);
		return NULL;
	}
	qsort(params, n, sizeof *params, urlnorm_cmp);
	buf_init(&out, 0);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(&out, '&');
		buf_adds(&out, params[i]);
		free(params[i]);
	}
	free(params);
	return buf_steal(&out);
}

/* One pass of normalisation (see urlnorm_story_key). */
static char *
urlnorm_pass(const char *link)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *query = NULL, *url = NULL, *out = NULL;
	char *sorted = NULL;

	if ((u = curl_url()) == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, link, CURLU_URLENCODE) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	for (char *h = host; *h != '\0'; h++)
		*h = (char)tolower((unsigned char)*h);
	/* "example.com." is "example.com"; a host of dots alone is none (fuzz_urlnorm) */
	for (size_t len = strlen(host); len > 0 && host[len - 1] == '.'; len--)
		host[len - 1] = '\0';
	if (host[0] == '\0' || curl_url_set(u, CURLUPART_HOST, host, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK)
		sorted = urlnorm_query(query);
	if (curl_url_set(u, CURLUPART_QUERY, sorted, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_URL, &url, CURLU_NO_DEFAULT_PORT) == CURLUE_OK &&
	    url_is_tidy(url)) /* curl decodes a host's escapes: "https://%dd/" gets no key */
		out = xstrdup(url);
out:
	free(sorted);
	curl_free(url);
	curl_free(query);
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(u);
	return out;
}

char *
urlnorm_story_key(const char *link)
{
	char *once, *twice;

	/*
	 * curl reads a host it parses in a whole URL ("http://1/" is 0.0.0.1)
	 * but takes the one we hand back as it is: a second pass reads our
	 * result as it will be read when it comes back, so a key is its own key
	 * (fuzz_urlnorm: "http://1./").
	 */
	if (link == NULL || (once = urlnorm_pass(link)) == NULL)
		return NULL;
	twice = urlnorm_pass(once);
	free(once);
	return twice;
}
