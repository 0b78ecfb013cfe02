/*
 * conf.c: read feedmux.conf with inih, table-driven.
 *
 * inih (Debian's build) calls its handler only for "key = value" lines and
 * does not say which line it is on, so we hand it the file through our own
 * line reader.  The reader counts lines, recognises section headers itself
 * (so an empty [feed "x"] section is still seen), rejects lines inih would
 * misread, and strips leading blanks so that inih never treats an indented
 * line as a continuation of the previous value.  Every error is collected as
 * "file:line: reason" and conf_load fails only after reading the whole file.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <ini.h>

#include "config/conf.h"

#define CONF_DEFAULT_DATABASE "/var/lib/feedmux/feedmux.db"
#define CONF_DEFAULT_LISTEN   "/run/feedmux/feedmux.sock"
#define CONF_DEFAULT_INTERVAL (30 * 60)
#define CONF_INTERVAL_MIN     1
#define CONF_INTERVAL_MAX     (365 * 24 * 3600)
#define CONF_NAME_MAX	      100
#define CONF_DEFAULT_LISTEN_MODE 0660

enum conf_section {
	SEC_NONE,     /* before the first header: keys here are errors */
	SEC_INVALID,  /* after a bad header: its keys are skipped, the header was reported */
	SEC_GLOBAL,
	SEC_FEED,
	SEC_OUTPUT,
};

enum conf_type {
	T_STRING,
	T_DURATION,
	T_LIST,
	T_BOOL,
	T_LOGLEVEL,
	T_URL,
	T_LISTEN,
	T_COUNT,    /* a whole number stored as unsigned, within [min, max] */
	T_MODE,	    /* octal file permissions, 0 to 0777 */
	T_NUMBER,   /* a whole number (unsigned long long) within [min, max] */
	T_SIZE,     /* bytes, with k, M or G (powers of 1024), within [min, max] */
	T_MSEC,     /* a duration that may be 0 or in ms ("250ms", "2s"), within [min, max] ms */
};

/*
 * One row per key: where it may appear, how to read it, where it goes, and
 * whether a reload may change it (conf_keep_fixed reads `reloadable` when
 * the daemon swaps in a new configuration; only [feedmux] keys may be
 * false).
 */
struct conf_key {
	enum conf_section section;
	const char *name;
	enum conf_type type;
	size_t offset;
	size_t count_offset; /* T_LIST / T_LISTEN: where the element count goes */
	bool reloadable;
};

#define G(f)  offsetof(struct conf, f)
#define F(f)  offsetof(struct conf_feed, f)
#define O(f)  offsetof(struct conf_output, f)

static const struct conf_key conf_keys[] = {
	{SEC_GLOBAL, "database", T_STRING, G(database), 0, false},
	{SEC_GLOBAL, "listen", T_LISTEN, G(listen), G(nlisten), false},
	{SEC_GLOBAL, "interval", T_DURATION, G(interval), 0, true},
	{SEC_GLOBAL, "log_level", T_LOGLEVEL, G(log_level), 0, true},
	{SEC_FEED, "url", T_URL, F(url), 0, true},
	{SEC_FEED, "interval", T_DURATION, F(interval), 0, true},
	{SEC_FEED, "tags", T_LIST, F(tags), F(ntags), true},
	{SEC_FEED, "allow_file", T_BOOL, F(allow_file), 0, true},
	{SEC_OUTPUT, "tags", T_LIST, O(tags), O(ntags), true},
	{SEC_OUTPUT, "feeds", T_LIST, O(feeds), O(nfeeds), true},
	{SEC_GLOBAL, "keep", T_DURATION, G(keep), 0, true},
	{SEC_GLOBAL, "max_items", T_COUNT, G(max_items), 0, true},
	{SEC_GLOBAL, "listen_mode", T_MODE, G(listen_mode), 0, false},
	{SEC_GLOBAL, "listen_group", T_STRING, G(listen_group), 0, false},
	{SEC_FEED, "keep", T_DURATION, F(keep), 0, true},
	{SEC_FEED, "max_items", T_COUNT, F(max_items), 0, true},
	{SEC_FEED, "merge", T_BOOL, F(merge), 0, true},
	{SEC_OUTPUT, "include", T_LIST, O(include), O(ninclude), true},
	{SEC_OUTPUT, "exclude", T_LIST, O(exclude), O(nexclude), true},
	{SEC_GLOBAL, "max_connections", T_COUNT, G(max_connections), 0, false},
	{SEC_GLOBAL, "heartbeat", T_DURATION, G(heartbeat), 0, true},
	{SEC_GLOBAL, "min_interval", T_DURATION, G(min_interval), 0, true},
	{SEC_GLOBAL, "max_interval", T_DURATION, G(max_interval), 0, true},
	{SEC_GLOBAL, "adaptive", T_BOOL, G(adaptive), 0, true},
	{SEC_GLOBAL, "connect_timeout", T_DURATION, G(connect_timeout), 0, false},
	{SEC_GLOBAL, "timeout", T_DURATION, G(timeout), 0, false},
	{SEC_GLOBAL, "low_speed_time", T_DURATION, G(low_speed_time), 0, false},
	{SEC_GLOBAL, "low_speed_limit", T_SIZE, G(low_speed_limit), 0, false},
	{SEC_GLOBAL, "max_body", T_SIZE, G(max_body), 0, false},
	{SEC_GLOBAL, "max_transfers", T_NUMBER, G(max_transfers), 0, false},
	{SEC_GLOBAL, "host_connections", T_NUMBER, G(host_connections), 0, false},
	{SEC_GLOBAL, "host_delay", T_MSEC, G(host_delay_ms), 0, false},
	{SEC_GLOBAL, "user_agent", T_STRING, G(user_agent), 0, false},
	{SEC_GLOBAL, "refuse_private", T_BOOL, G(refuse_private), 0, false},
	{SEC_GLOBAL, "start_spread", T_MSEC, G(start_spread_ms), 0, true},
};
#define CONF_NKEYS (sizeof conf_keys / sizeof conf_keys[0])

/* Bounds of the numeric keys (T_COUNT, T_NUMBER, T_SIZE, T_MSEC), in their base unit (bytes, ms). */
static const struct {
	const char *name;
	unsigned long long min, max;
} conf_bounds[] = {
	{"low_speed_limit", 0, 1ULL << 30},
	{"max_body", 1024, 1ULL << 30},
	{"max_transfers", 1, 10000},
	{"host_connections", 1, 1000},
	{"host_delay", 0, 3600ULL * 1000},
	{"start_spread", 0, 24ULL * 3600 * 1000},
};

struct conf_ctx {
	const char *path;
	FILE *f;
	unsigned line;
	char *linebuf;
	size_t linecap;
	char *base_url; /* file:///abs/path/of/the/config, for relative file: URLs */

	struct conf *conf;
	struct conf_errors *errs;
	size_t nerrs_at_start;
	unsigned *err_lines; /* the line of each error we added, to sort them */

	enum conf_section section;
	unsigned section_line;
	unsigned seen[CONF_NKEYS]; /* line where each key was set in this section, 0 if not */
	bool global_seen;
};

static void conf_error(struct conf_ctx *ctx, unsigned line, const char *fmt, ...) PRINTFLIKE(3, 4);

static void
conf_error(struct conf_ctx *ctx, unsigned line, const char *fmt, ...)
{
	struct conf_errors *errs = ctx->errs;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	errs->msgs = xreallocarray(errs->msgs, errs->n + 1, sizeof *errs->msgs);
	ctx->err_lines = xreallocarray(ctx->err_lines, errs->n - ctx->nerrs_at_start + 1,
	    sizeof *ctx->err_lines);
	ctx->err_lines[errs->n - ctx->nerrs_at_start] = line;
	if (line == 0)
		errs->msgs[errs->n++] = xasprintf("%s: %s", ctx->path, msg);
	else
		errs->msgs[errs->n++] = xasprintf("%s:%u: %s", ctx->path, line, msg);
}

int
conf_parse_duration(const char *s, unsigned *secs)
{
	unsigned long long total = 0;
	bool any = false;

	while (*s != '\0') {
		unsigned long long n = 0, unit = 1;

		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s)) {
			n = n * 10 + (unsigned)(*s++ - '0');
			if (n > UINT_MAX)
				return -1;
		}
		switch (*s) {
		case 'w': unit = 7ULL * 86400; s++; break;
		case 'd': unit = 86400; s++; break;
		case 'h': unit = 3600; s++; break;
		case 'm': unit = 60; s++; break;
		case 's': s++; break;
		case '\0': break;
		default: return -1;
		}
		total += n * unit;
		if (total > UINT_MAX)
			return -1;
		any = true;
	}
	if (!any)
		return -1;
	*secs = (unsigned)total;
	return 0;
}

static int
conf_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/* Split on blanks and commas into a new array of strings; appends to *list. */
static void
conf_split_list(const char *value, char ***list, size_t *n)
{
	const char *p = value;

	while (*p != '\0') {
		size_t len;

		while (*p != '\0' && (isspace((unsigned char)*p) || *p == ','))
			p++;
		len = strcspn(p, " \t,");
		if (len == 0)
			break;
		*list = xreallocarray(*list, *n + 1, sizeof **list);
		(*list)[(*n)++] = xstrndup(p, len);
		p += len;
	}
}

/* Parse one listen word: "host:port", "[v6]:port", else a Unix socket path. */
static int
conf_parse_listen(const char *word, struct conf_listen *l, const char **why)
{
	const char *colon = strrchr(word, ':');
	const char *bracket = strrchr(word, ']');
	bool numeric_port = colon != NULL && colon[1] != '\0' && (bracket == NULL || colon > bracket);

	for (const char *p = colon != NULL ? colon + 1 : ""; numeric_port && *p != '\0'; p++)
		if (!isdigit((unsigned char)*p))
			numeric_port = false;
	memset(l, 0, sizeof *l);
	if (!numeric_port) {
		if (strlen(word) > CONF_UNIX_PATH_MAX) {
			*why = "Unix socket path is too long (at most 107 bytes)";
			return -1;
		}
		l->is_unix = true;
		l->path = xstrdup(word);
		return 0;
	}
	if (strtoul(colon + 1, NULL, 10) > 65535 || colon == word) {
		*why = "expected a Unix socket path or HOST:PORT";
		return -1;
	}
	if (word[0] == '[' && bracket != NULL && bracket + 1 == colon)
		l->host = xstrndup(word + 1, (size_t)(bracket - word - 1));
	else
		l->host = xstrndup(word, (size_t)(colon - word));
	l->port = xstrdup(colon + 1);
	return 0;
}

static void
conf_listen_free(struct conf_listen *l)
{
	free(l->path);
	free(l->host);
	free(l->port);
}

/*
 * Check a feed URL and return it in normal form.  A "file:" URL whose path is
 * relative is resolved against the folder of the configuration file, so the
 * bundled example can name its sample feeds wherever the repository sits.
 */
static char *
conf_normalise_url(struct conf_ctx *ctx, const char *value, const char **why)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *out = NULL, *url = NULL;
	CURLUcode rc;

	if (u == NULL)
		fatalx("curl_url: out of memory");
	if (strncasecmp(value, "file:", 5) == 0 && value[5] != '/' && value[5] != '\0') {
		rc = curl_url_set(u, CURLUPART_URL, ctx->base_url, 0);
		if (rc == CURLUE_OK)
			rc = curl_url_set(u, CURLUPART_URL, value + 5, 0);
	} else
		rc = curl_url_set(u, CURLUPART_URL, value, 0);
	if (rc != CURLUE_OK) {
		*why = curl_url_strerror(rc);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0 &&
		strcmp(scheme, "file") != 0)) {
		*why = "only http, https and file URLs are allowed";
		goto out;
	}
	if (curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
		*why = "cannot be read as a URL";
		goto out;
	}
	out = xstrdup(url);
out:
	curl_free(url);
	curl_free(scheme);
	curl_url_cleanup(u);
	return out;
}

static bool
conf_valid_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > CONF_NAME_MAX)
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '"' || *p == '/')
			return false;
	return true;
}

/* Checks that need the whole section: run when the next one starts and at the end. */
static void
conf_section_end(struct conf_ctx *ctx)
{
	struct conf_feed *feed;
	size_t url_key = 0;

	if (ctx->section != SEC_FEED)
		return;
	feed = &ctx->conf->feeds[ctx->conf->nfeeds - 1];
	for (size_t i = 0; i < CONF_NKEYS; i++)
		if (conf_keys[i].section == SEC_FEED && strcmp(conf_keys[i].name, "url") == 0)
			url_key = i;
	if (feed->url == NULL) {
		if (ctx->seen[url_key] == 0)
			conf_error(ctx, ctx->section_line, "feed \"%s\": missing url", feed->name);
		return;
	}
	if (strncmp(feed->url, "file:", 5) == 0 && !feed->allow_file)
		conf_error(ctx, ctx->seen[url_key],
		    "feed \"%s\": file URLs are refused unless the section sets allow_file = yes",
		    feed->name);
}

static void
conf_begin_named(struct conf_ctx *ctx, enum conf_section kind, const char *name)
{
	struct conf *conf = ctx->conf;

	if (kind == SEC_FEED) {
		for (size_t i = 0; i < conf->nfeeds; i++)
			if (strcmp(conf->feeds[i].name, name) == 0) {
				conf_error(ctx, ctx->line, "duplicate feed \"%s\" (first on line %u)",
				    name, conf->feeds[i].line);
				ctx->section = SEC_INVALID;
				return;
			}
		conf->feeds = xreallocarray(conf->feeds, conf->nfeeds + 1, sizeof *conf->feeds);
		memset(&conf->feeds[conf->nfeeds], 0, sizeof *conf->feeds);
		conf->feeds[conf->nfeeds].name = xstrdup(name);
		conf->feeds[conf->nfeeds].merge = true;
		conf->feeds[conf->nfeeds++].line = ctx->line;
	} else {
		for (size_t i = 0; i < conf->noutputs; i++)
			if (strcmp(conf->outputs[i].name, name) == 0) {
				conf_error(ctx, ctx->line, "duplicate output \"%s\" (first on line %u)",
				    name, conf->outputs[i].line);
				ctx->section = SEC_INVALID;
				return;
			}
		conf->outputs = xreallocarray(conf->outputs, conf->noutputs + 1,
		    sizeof *conf->outputs);
		memset(&conf->outputs[conf->noutputs], 0, sizeof *conf->outputs);
		conf->outputs[conf->noutputs].name = xstrdup(name);
		conf->outputs[conf->noutputs++].line = ctx->line;
	}
	ctx->section = kind;
}

/* A section header: [feedmux], [feed "NAME"] or [output "NAME"]. */
static void
conf_section_begin(struct conf_ctx *ctx, const char *header)
{
	char name[CONF_NAME_MAX + 2];
	const char *q;
	enum conf_section kind;
	size_t len;

	conf_section_end(ctx);
	memset(ctx->seen, 0, sizeof ctx->seen);
	ctx->section = SEC_INVALID;
	ctx->section_line = ctx->line;

	if (strcmp(header, "feedmux") == 0) {
		if (ctx->global_seen)
			conf_error(ctx, ctx->line, "[feedmux] appears twice");
		else
			ctx->section = SEC_GLOBAL;
		ctx->global_seen = true;
		return;
	}
	if (strncmp(header, "feed ", 5) == 0)
		kind = SEC_FEED;
	else if (strncmp(header, "output ", 7) == 0)
		kind = SEC_OUTPUT;
	else {
		conf_error(ctx, ctx->line, "unknown section [%s]", header);
		return;
	}
	q = strchr(header, '"');
	len = q != NULL ? strlen(q) : 0;
	if (len < 2 || q[len - 1] != '"' || len - 2 > CONF_NAME_MAX) {
		conf_error(ctx, ctx->line, "expected [%s \"NAME\"]", kind == SEC_FEED ? "feed" : "output");
		return;
	}
	memcpy(name, q + 1, len - 2);
	name[len - 2] = '\0';
	if (!conf_valid_name(name)) {
		conf_error(ctx, ctx->line, "bad name \"%s\": 1 to %d characters, no quotes, slashes or control characters",
		    name, CONF_NAME_MAX);
		return;
	}
	conf_begin_named(ctx, kind, name);
}

/*
 * Line reader handed to inih.  Returns what inih should see for this line:
 * the line without leading blanks, or an empty line when we have dealt with
 * it ourselves (a header, or an error already reported).
 */
static char *
conf_reader(char *str, int num, void *stream)
{
	struct conf_ctx *ctx = stream;
	ssize_t n = getline(&ctx->linebuf, &ctx->linecap, ctx->f);
	char *s, *end;

	if (n < 0)
		return NULL;
	ctx->line++;
	s = ctx->linebuf;
	if (ctx->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	s[strcspn(s, "\r\n")] = '\0';
	while (isspace((unsigned char)*s))
		s++;
	str[0] = '\0';
	if (*s == '\0' || *s == ';' || *s == '#')
		return str;
	if (strlen(s) + 2 > (size_t)num) {
		conf_error(ctx, ctx->line, "line too long (at most %d characters)", num - 2);
		return str;
	}
	if (*s == '[') {
		end = strchr(s, ']');
		if (end == NULL) {
			conf_error(ctx, ctx->line, "section header without ']'");
			ctx->section = SEC_INVALID;
			return str;
		}
		*end = '\0';
		conf_section_begin(ctx, s + 1);
		return str;
	}
	end = strchr(s, '=');
	if (end == NULL || (strchr(s, ':') != NULL && strchr(s, ':') < end)) {
		conf_error(ctx, ctx->line, "expected 'key = value'");
		return str;
	}
	/* inih ends a value at " ;" only: make " #" end it as well. */
	for (char *p = end; *p != '\0'; p++)
		if (*p == '#' && isspace((unsigned char)p[-1]))
			*p = ';';
	snprintf(str, (size_t)num, "%s\n", s);
	return str;
}

static void *
conf_section_target(struct conf_ctx *ctx)
{
	switch (ctx->section) {
	case SEC_GLOBAL: return ctx->conf;
	case SEC_FEED: return &ctx->conf->feeds[ctx->conf->nfeeds - 1];
	case SEC_OUTPUT: return &ctx->conf->outputs[ctx->conf->noutputs - 1];
	default: return NULL;
	}
}

static const char *
conf_section_label(struct conf_ctx *ctx)
{
	static char label[CONF_NAME_MAX + 16];

	switch (ctx->section) {
	case SEC_FEED:
		snprintf(label, sizeof label, "[feed \"%s\"]", ctx->conf->feeds[ctx->conf->nfeeds - 1].name);
		return label;
	case SEC_OUTPUT:
		snprintf(label, sizeof label, "[output \"%s\"]",
		    ctx->conf->outputs[ctx->conf->noutputs - 1].name);
		return label;
	default:
		return "[feedmux]";
	}
}

/*
 * A number with an optional unit: T_SIZE takes k, M, G (powers of 1024), T_MSEC
 * takes ms, s, m, h; T_NUMBER and T_COUNT take none.  Returns 0 and sets *out, or -1.
 */
static int
conf_parse_number(enum conf_type type, const char *s, unsigned long long *out)
{
	static const struct {
		enum conf_type type;
		const char *unit;
		unsigned long long mult;
	} units[] = {
		{T_SIZE, "", 1}, {T_SIZE, "k", 1024}, {T_SIZE, "M", 1024ULL * 1024},
		{T_SIZE, "G", 1024ULL * 1024 * 1024}, {T_MSEC, "ms", 1}, {T_MSEC, "s", 1000},
		{T_MSEC, "", 1000}, {T_MSEC, "m", 60000}, {T_MSEC, "h", 3600000}, {T_NUMBER, "", 1},
		{T_COUNT, "", 1},
	};
	unsigned long long n;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (units[i].type == type && strcmp(end, units[i].unit) == 0) {
			if (n > ULLONG_MAX / units[i].mult)
				return -1;
			*out = n * units[i].mult;
			return 0;
		}
	return -1;
}

/* T_COUNT, T_NUMBER, T_SIZE, T_MSEC: parse, check the key's bounds, store. */
static int
conf_set_number(const struct conf_key *key, char *field, const char *value, const char **why)
{
	static char msg[128];
	unsigned long long n, min = 0, max = key->type == T_COUNT ? UINT_MAX : ULLONG_MAX;

	for (size_t i = 0; i < sizeof conf_bounds / sizeof conf_bounds[0]; i++)
		if (strcmp(conf_bounds[i].name, key->name) == 0) {
			min = conf_bounds[i].min;
			max = conf_bounds[i].max;
		}
	if (conf_parse_number(key->type, value, &n) != 0) {
		*why = key->type == T_SIZE ? "expected a size in bytes, e.g. 512k or 16M" :
		    key->type == T_MSEC	   ? "expected a duration, e.g. 250ms or 2s" :
					     "expected a whole number";
		return -1;
	}
	if (n < min || n > max) {
		snprintf(msg, sizeof msg, "out of range (%llu to %llu%s)", min, max,
		    key->type == T_SIZE ? " bytes" : key->type == T_MSEC ? " ms" : "");
		*why = msg;
		return -1;
	}
	if (key->type == T_MSEC || key->type == T_COUNT)
		*(unsigned *)field = (unsigned)n;
	else
		*(unsigned long long *)field = n;
	return 0;
}

/* Store one value of type `key->type` at `field`; 0 or -1 with *why set. */
static int
conf_set_value(struct conf_ctx *ctx, const struct conf_key *key, char *field, size_t *count,
    const char *value, const char **why)
{
	unsigned secs;
	bool b;
	int level;

	switch (key->type) {
	case T_STRING:
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return 0;
	case T_DURATION:
		if (conf_parse_duration(value, &secs) != 0) {
			*why = "bad duration (use a number with s, m, h, d or w, e.g. 15m)";
			return -1;
		}
		if (secs < CONF_INTERVAL_MIN || secs > CONF_INTERVAL_MAX) {
			*why = "duration out of range (1s to 365d)";
			return -1;
		}
		*(unsigned *)field = secs;
		return 0;
	case T_LIST:
		conf_split_list(value, (char ***)field, count);
		return 0;
	case T_BOOL:
		if (conf_parse_bool(value, &b) != 0) {
			*why = "expected yes or no";
			return -1;
		}
		*(bool *)field = b;
		return 0;
	case T_LOGLEVEL:
		if ((level = log_level_from_name(value)) < 0) {
			*why = "expected error, warning, notice, info or debug";
			return -1;
		}
		*(int *)field = level;
		return 0;
	case T_URL: {
		char *url = conf_normalise_url(ctx, value, why);

		if (url == NULL)
			return -1;
		free(*(char **)field);
		*(char **)field = url;
		return 0;
	}
	case T_COUNT:
	case T_NUMBER:
	case T_SIZE:
	case T_MSEC:
		return conf_set_number(key, field, value, why);
	case T_LISTEN: {
		char **words = NULL;
		size_t nwords = 0;
		int rc = 0;

		conf_split_list(value, &words, &nwords);
		for (size_t i = 0; i < nwords; i++) {
			struct conf_listen l;

			if (rc == 0 && conf_parse_listen(words[i], &l, why) == 0) {
				struct conf_listen **arr = (struct conf_listen **)field;

				*arr = xreallocarray(*arr, *count + 1, sizeof **arr);
				(*arr)[(*count)++] = l;
			} else
				rc = -1;
			free(words[i]);
		}
		free(words);
		return rc;
	}
	case T_MODE: {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(value, &end, 8);
		if (!isdigit((unsigned char)*value) || *end != '\0' || errno != 0 || n > 0777UL) {
			*why = "expected octal permissions such as 0660";
			return -1;
		}
		*(unsigned *)field = (unsigned)n;
		return 0;
	}
	}
	return -1;
}

static int
conf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct conf_ctx *ctx = user;
	const struct conf_key *key = NULL;
	const char *why = NULL;
	size_t i;
	char *target;

	(void)section; /* we track sections ourselves, see conf_reader */
	if (ctx->section == SEC_INVALID)
		return 1;
	if (ctx->section == SEC_NONE) {
		conf_error(ctx, ctx->line, "'%s' before any section header", name);
		return 1;
	}
	for (i = 0; i < CONF_NKEYS; i++)
		if (conf_keys[i].section == ctx->section && strcmp(conf_keys[i].name, name) == 0) {
			key = &conf_keys[i];
			break;
		}
	if (key == NULL) {
		conf_error(ctx, ctx->line, "unknown key '%s' in %s", name, conf_section_label(ctx));
		return 1;
	}
	if (ctx->seen[i] != 0 && key->type != T_LIST && key->type != T_LISTEN) {
		conf_error(ctx, ctx->line, "'%s' set twice in %s (first on line %u)", name,
		    conf_section_label(ctx), ctx->seen[i]);
		return 1;
	}
	ctx->seen[i] = ctx->line;
	if (*value == '\0') {
		conf_error(ctx, ctx->line, "'%s' has no value", name);
		return 1;
	}
	target = conf_section_target(ctx);
	if (conf_set_value(ctx, key, target + key->offset, (size_t *)(target + key->count_offset),
		value, &why) != 0)
		conf_error(ctx, ctx->line, "%s = %s: %s", name, value, why);
	return 1;
}

/* file:///absolute/path/of/the/config: the base for relative file: URLs. */
static char *
conf_base_url(const char *path)
{
	char *abs = realpath(path, NULL);
	char *url;

	if (abs == NULL)
		return xstrdup("file:///");
	url = xasprintf("file://%s", abs);
	free(abs);
	return url;
}

static void
conf_set_defaults(struct conf *conf)
{
	struct conf_listen l;
	const char *why;

	if (conf->database == NULL)
		conf->database = xstrdup(CONF_DEFAULT_DATABASE);
	if (conf->nlisten == 0) {
		if (conf_parse_listen(CONF_DEFAULT_LISTEN, &l, &why) != 0)
			fatalx("default listen address: %s", why);
		conf->listen = xcalloc(1, sizeof *conf->listen);
		conf->listen[0] = l;
		conf->nlisten = 1;
	}
	if (conf->interval == 0)
		conf->interval = CONF_DEFAULT_INTERVAL;
	if (conf->listen_mode == 0)
		conf->listen_mode = CONF_DEFAULT_LISTEN_MODE;
	for (size_t i = 0; i < conf->nfeeds; i++)
		if (conf->feeds[i].interval == 0)
			conf->feeds[i].interval = conf->interval;
}

/* Fetching and scheduling defaults, set before reading so that 0 can be a value. */
static void
conf_fetch_defaults(struct conf *conf)
{
	conf->min_interval = 60;
	conf->max_interval = 24 * 3600;
	conf->connect_timeout = 30;
	conf->timeout = 120;
	conf->low_speed_time = 30;
	conf->low_speed_limit = 64;
	conf->max_body = 16ULL * 1024 * 1024;
	conf->max_transfers = 32;
	conf->host_connections = 2;
	conf->host_delay_ms = 1000;
	conf->start_spread_ms = 5 * 60 * 1000;
}

/* Put the errors of this load in line order (insertion sort: stable, and there are few). */
static void
conf_sort_errors(struct conf_ctx *ctx)
{
	size_t n = ctx->errs->n - ctx->nerrs_at_start;
	char **msgs = n > 0 ? ctx->errs->msgs + ctx->nerrs_at_start : NULL;

	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && ctx->err_lines[j - 1] > ctx->err_lines[j]; j--) {
			unsigned line = ctx->err_lines[j];
			char *msg = msgs[j];

			ctx->err_lines[j] = ctx->err_lines[j - 1];
			msgs[j] = msgs[j - 1];
			ctx->err_lines[j - 1] = line;
			msgs[j - 1] = msg;
		}
	free(ctx->err_lines);
}

struct conf *
conf_load(const char *path, struct conf_errors *errs)
{
	struct conf_ctx ctx;
	struct conf *conf;

	memset(&ctx, 0, sizeof ctx);
	ctx.path = path;
	ctx.errs = errs;
	ctx.nerrs_at_start = errs->n;
	if ((ctx.f = fopen(path, "r")) == NULL) {
		conf_error(&ctx, 0, "cannot read: %s", strerror(errno));
		free(ctx.err_lines);
		return NULL;
	}
	conf = xcalloc(1, sizeof *conf);
	conf->path = xstrdup(path);
	conf->log_level = LOG_LVL_INFO;
	conf_fetch_defaults(conf);
	ctx.conf = conf;
	ctx.base_url = conf_base_url(path);

	ini_parse_stream(conf_reader, &ctx, conf_handler, &ctx);
	if (ferror(ctx.f))
		conf_error(&ctx, ctx.line, "read error: %s", strerror(errno));
	conf_section_end(&ctx);
	fclose(ctx.f);
	free(ctx.linebuf);
	free(ctx.base_url);
	conf_sort_errors(&ctx);

	if (errs->n > ctx.nerrs_at_start) {
		conf_free(conf);
		return NULL;
	}
	conf_set_defaults(conf);
	return conf;
}

static void
conf_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
conf_free(struct conf *conf)
{
	if (conf == NULL)
		return;
	for (size_t i = 0; i < conf->nfeeds; i++) {
		free(conf->feeds[i].name);
		free(conf->feeds[i].url);
		conf_strv_free(conf->feeds[i].tags, conf->feeds[i].ntags);
	}
	for (size_t i = 0; i < conf->noutputs; i++) {
		free(conf->outputs[i].name);
		conf_strv_free(conf->outputs[i].tags, conf->outputs[i].ntags);
		conf_strv_free(conf->outputs[i].feeds, conf->outputs[i].nfeeds);
		conf_strv_free(conf->outputs[i].include, conf->outputs[i].ninclude);
		conf_strv_free(conf->outputs[i].exclude, conf->outputs[i].nexclude);
	}
	for (size_t i = 0; i < conf->nlisten; i++)
		conf_listen_free(&conf->listen[i]);
	free(conf->feeds);
	free(conf->outputs);
	free(conf->listen);
	free(conf->database);
	free(conf->listen_group);
	free(conf->user_agent);
	free(conf->path);
	free(conf);
}

void
conf_errors_free(struct conf_errors *errs)
{
	conf_strv_free(errs->msgs, errs->n);
	errs->msgs = NULL;
	errs->n = 0;
}

const struct conf_feed *
conf_find_feed(const struct conf *conf, const char *name)
{
	for (size_t i = 0; i < conf->nfeeds; i++)
		if (strcmp(conf->feeds[i].name, name) == 0)
			return &conf->feeds[i];
	return NULL;
}

struct conf *
conf_load_logged(const char *path)
{
	struct conf_errors errs = {0};
	struct conf *conf = conf_load(path, &errs);

	if (conf != NULL)
		return conf;
	/* Through the log: under systemd they reach the journal at error priority. */
	for (size_t i = 0; i < errs.n; i++)
		log_msg(LOG_LVL_ERR, "%s", errs.msgs[i]);
	log_msg(LOG_LVL_ERR, "%s: configuration not valid (%zu error%s)", path, errs.n,
	    errs.n == 1 ? "" : "s");
	conf_errors_free(&errs);
	return NULL;
}

static bool
conf_same_string(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
conf_same_listen(const struct conf_listen *a, size_t na, const struct conf_listen *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i].is_unix != b[i].is_unix || !conf_same_string(a[i].path, b[i].path) ||
		    !conf_same_string(a[i].host, b[i].host) || !conf_same_string(a[i].port, b[i].port))
			return false;
	return true;
}

static char *
conf_strdup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* Give `key` of `fresh` the value it has in `old`; returns whether they differed. */
static bool
conf_keep_value(const struct conf_key *key, struct conf *fresh, const struct conf *old)
{
	char *to = (char *)fresh + key->offset;
	const char *from = (const char *)old + key->offset;
	size_t size;

	switch (key->type) {
	case T_STRING:
		if (conf_same_string(*(char **)to, *(char *const *)from))
			return false;
		free(*(char **)to);
		*(char **)to = conf_strdup_or_null(*(char *const *)from);
		return true;
	case T_LISTEN:
		if (conf_same_listen(fresh->listen, fresh->nlisten, old->listen, old->nlisten))
			return false;
		for (size_t i = 0; i < fresh->nlisten; i++)
			conf_listen_free(&fresh->listen[i]);
		free(fresh->listen);
		fresh->listen = xcalloc(old->nlisten + 1, sizeof *fresh->listen);
		for (size_t i = 0; i < old->nlisten; i++) {
			fresh->listen[i].is_unix = old->listen[i].is_unix;
			fresh->listen[i].path = conf_strdup_or_null(old->listen[i].path);
			fresh->listen[i].host = conf_strdup_or_null(old->listen[i].host);
			fresh->listen[i].port = conf_strdup_or_null(old->listen[i].port);
		}
		fresh->nlisten = old->nlisten;
		return true;
	case T_BOOL: size = sizeof(bool); break;
	case T_LOGLEVEL: size = sizeof(int); break;
	case T_NUMBER:
	case T_SIZE: size = sizeof(unsigned long long); break;
	case T_DURATION:
	case T_COUNT:
	case T_MODE:
	case T_MSEC: size = sizeof(unsigned); break;
	default: fatalx("conf_keys: %s: a key of this type must be reloadable", key->name);
	}
	if (memcmp(to, from, size) == 0)
		return false;
	memcpy(to, from, size);
	return true;
}

size_t
conf_keep_fixed(struct conf *fresh, const struct conf *old)
{
	size_t kept = 0;

	for (size_t i = 0; i < CONF_NKEYS; i++) {
		const struct conf_key *key = &conf_keys[i];

		if (key->reloadable)
			continue;
		if (key->section != SEC_GLOBAL)
			fatalx("conf_keys: %s: only [feedmux] keys may be kept on reload", key->name);
		if (conf_keep_value(key, fresh, old)) {
			log_warnx("%s: %s changed: a reload cannot apply it; restart feedmuxd to do"
				  " so (the old value stays in use until then)", fresh->path, key->name);
			kept++;
		}
	}
	return kept;
}
