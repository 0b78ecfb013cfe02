/*
 * fuzz_config.c: libFuzzer target for config/conf (conf_load: the line
 * reader, inih, every key's parser and the checks across sections).
 *
 * The input is written to a file in a private temporary folder and loaded
 * as feedmuxd would load it.  Asserted, beyond "no crash, no leak":
 *   - conf_load fails exactly when it reports errors, and every error
 *     names the file and the line ("PATH:LINE: reason", or "PATH: reason"
 *     for the whole file), the line within the file, in line order;
 *   - a configuration it accepts holds what the rest of the daemon relies
 *     on: a listen address, a database, feeds with valid unique names and
 *     http(s) URLs (file: only where allowed), intervals in range;
 *   - loading the same bytes twice gives the same errors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/conf.h"
#include "util/util.h"

static char fuzz_dir[] = "/tmp/fuzz_config.XXXXXX";
static char *fuzz_path;

static void
fuzz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_config: %s: %s\n", what, detail != NULL ? detail : "");
	abort();
}

static void
fuzz_cleanup(void)
{
	unlink(fuzz_path);
	rmdir(fuzz_dir);
	free(fuzz_path);
}

/* Each message is "PATH:LINE: " or "PATH: ", lines in order and within the file. */
static void
fuzz_check_errors(const struct conf_errors *errs, unsigned nlines)
{
	size_t plen = strlen(fuzz_path);
	unsigned long last = 0;

	for (size_t i = 0; i < errs->n; i++) {
		const char *m = errs->msgs[i];
		char *end;
		unsigned long line;

		if (strncmp(m, fuzz_path, plen) != 0 || m[plen] != ':')
			fuzz_fail("error does not name the file", m);
		if (m[plen + 1] == ' ')
			continue;
		line = strtoul(m + plen + 1, &end, 10);
		if (end == m + plen + 1 || strncmp(end, ": ", 2) != 0 || end[2] == '\0')
			fuzz_fail("error does not read file:line: reason", m);
		if (line == 0 || line > nlines + 1)
			fuzz_fail("error names a line outside the file", m);
		if (line < last)
			fuzz_fail("errors out of line order", m);
		last = line;
	}
}

static int
fuzz_valid_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 100)
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7F || *p == '"' || *p == '/')
			return 0;
	return 1;
}

static void
fuzz_check_conf(const struct conf *c)
{
	if (c->database == NULL || c->database[0] == '\0' || c->nlisten == 0)
		fuzz_fail("no database or listen address", c->database);
	for (size_t i = 0; i < c->nlisten; i++)
		if (c->listen[i].is_unix ? c->listen[i].path == NULL ||
			strlen(c->listen[i].path) > CONF_UNIX_PATH_MAX :
		    c->listen[i].host == NULL || c->listen[i].port == NULL)
			fuzz_fail("bad listen address", c->listen[i].path);
	if (c->interval < 1 || c->interval > 365 * 24 * 3600)
		fuzz_fail("interval out of range", NULL);
	for (size_t i = 0; i < c->nfeeds; i++) {
		const struct conf_feed *f = &c->feeds[i];

		if (!fuzz_valid_name(f->name))
			fuzz_fail("invalid feed name accepted", f->name);
		if (conf_find_feed(c, f->name) != f)
			fuzz_fail("feed name twice", f->name);
		if (f->url == NULL || (strncmp(f->url, "http://", 7) != 0 &&
		    strncmp(f->url, "https://", 8) != 0 &&
		    (!f->allow_file || strncmp(f->url, "file:", 5) != 0)))
			fuzz_fail("feed URL not http(s) (or an allowed file:)", f->url);
		if (f->interval < 1 || f->interval > 365 * 24 * 3600)
			fuzz_fail("feed interval out of range", f->name);
		for (size_t j = 0; j < f->ntags; j++)
			if (f->tags[j] == NULL || f->tags[j][0] == '\0')
				fuzz_fail("empty tag", f->name);
	}
	for (size_t i = 0; i < c->noutputs; i++)
		if (!fuzz_valid_name(c->outputs[i].name))
			fuzz_fail("invalid output name accepted", c->outputs[i].name);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_init("fuzz_config");
	log_set_level(LOG_LVL_ERR);
	if (mkdtemp(fuzz_dir) == NULL)
		fatal("mkdtemp");
	fuzz_path = xasprintf("%s/feedmux.conf", fuzz_dir);
	atexit(fuzz_cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_errors errs = {0}, again = {0};
	struct conf *c;
	unsigned nlines = 0;
	FILE *f;

	if ((f = fopen(fuzz_path, "w")) == NULL || fwrite(data, 1, size, f) != size ||
	    fclose(f) != 0)
		fatal("%s", fuzz_path);
	for (size_t i = 0; i < size; i++)
		nlines += data[i] == '\n';
	c = conf_load(fuzz_path, &errs);
	if ((c == NULL) != (errs.n > 0))
		fuzz_fail("conf_load's result and its errors disagree", NULL);
	fuzz_check_errors(&errs, nlines);
	if (c != NULL)
		fuzz_check_conf(c);
	conf_free(c);
	conf_free(conf_load(fuzz_path, &again));
	if (again.n != errs.n)
		fuzz_fail("a second load gave other errors", NULL);
	for (size_t i = 0; i < errs.n; i++)
		if (strcmp(errs.msgs[i], again.msgs[i]) != 0)
			fuzz_fail("a second load gave other errors", again.msgs[i]);
	conf_errors_free(&errs);
	conf_errors_free(&again);
	return 0;
}
