/*
 * feedmux-parse.c: parse feed files as a fetch would hand them over.
 *
 *	feedmux-parse [-c CHUNK] FILE...
 *
 * Each file is read in CHUNK-byte pieces (default 16384, curl's usual
 * write size) and pushed through the parser, with the file's own path as its
 * URL; items are counted and freed as they come.  Prints
 *
 *	files N items N bytes N seconds S MB/s R items/s R peak_rss_kb N
 *
 * (seconds of CPU time, user and system; the peak resident set size of the
 * whole process, libraries included)
 * and, on stderr, how many files were no feed or ill-formed.  Exit status 0,
 * or 1 when a file cannot be read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "feeds/parse.h"
#include "util/util.h"

static void
count_item(void *arg, struct item *item)
{
	(*(unsigned long long *)arg)++;
	item_free(item);
}

static void
report(unsigned long long files, unsigned long long items, unsigned long long bytes)
{
	struct rusage ru;
	double secs;

	getrusage(RUSAGE_SELF, &ru);
	secs = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	if (secs <= 0)
		secs = 1e-6;
	printf("files %llu items %llu bytes %llu seconds %.3f MB/s %.1f items/s %.0f "
	       "peak_rss_kb %ld\n",
	    files, items, bytes, secs, (double)bytes / 1e6 / secs, (double)items / secs,
	    ru.ru_maxrss);
}

int
main(int argc, char **argv)
{
	unsigned long long items = 0, bytes = 0, files = 0, notfeed = 0, illformed = 0;
	size_t chunk = 16384;
	char *buf;
	int c, rc = 0;

	log_init("feedmux-parse");
	while ((c = getopt(argc, argv, "c:")) != -1) {
		if (c != 'c' || (chunk = strtoul(optarg, NULL, 10)) == 0) {
			fprintf(stderr, "usage: feedmux-parse [-c CHUNK] FILE...\n");
			return 2;
		}
	}
	parse_init();
	buf = xmalloc(chunk);
	for (int i = optind; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
		struct parser *p;
		ssize_t n;

		if (fd < 0) {
			log_warn("%s", argv[i]);
			rc = 1;
			continue;
		}
		p = parse_new(argv[i], NULL, count_item, &items);
		while ((n = read(fd, buf, chunk)) > 0) {
			bytes += (unsigned long long)n;
			parse_push(p, buf, (size_t)n);
		}
		if (n < 0) {
			log_warn("%s", argv[i]);
			rc = 1;
		}
		notfeed += parse_finish(p) != 0;
		illformed += parse_illformed(p);
		parse_free(p);
		close(fd);
		files++;
	}
	free(buf);
	report(files, items, bytes);
	if (notfeed > 0 || illformed > 0)
		fprintf(stderr, "feedmux-parse: %llu not feeds, %llu ill-formed\n", notfeed, illformed);
	return rc;
}
