/*
 * feedmuxctl: talk to a running feedmuxd over its socket.
 *
 *	feedmuxctl [-s SOCKET] status
 *	feedmuxctl [-s SOCKET] export [--format atom]
 *
 * SOCKET is a Unix socket path or HOST:PORT.  Exit status: 0 on success, 1
 * when the daemon cannot be reached or answers with an error, 2 for a bad
 * command line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "util/util.h"

#define DEFAULT_SOCKET	 "/run/feedmux/feedmux.sock"
#define CTL_MAX_RESPONSE ((size_t)64 * 1024 * 1024)

static void
usage(FILE *out)
{
	fprintf(out, "usage: feedmuxctl [-s SOCKET] COMMAND\n"
		     "  -s, --socket SOCKET  the daemon's Unix socket or HOST:PORT\n"
		     "                       (default " DEFAULT_SOCKET ")\n"
		     "commands:\n"
		     "  status               the daemon and its feeds, as a table\n"
		     "  export [--format atom]  print the merged feed\n");
}

static size_t
ctl_on_write(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	return buf_add(b, data, size * n) == 0 ? size * n : 0;
}

/* True when `s` is HOST:PORT rather than a socket path. */
static bool
ctl_is_tcp(const char *s)
{
	const char *colon = strrchr(s, ':');

	if (colon == NULL || colon[1] == '\0' || strchr(s, '/') != NULL)
		return false;
	return strspn(colon + 1, "0123456789") == strlen(colon + 1);
}

/*
 * Try the Unix socket first with a plain connect(), so that "not running",
 * "no such socket" and "not allowed" each get their own message.  Returns 0
 * when something accepts connections there.
 */
static int
ctl_probe_unix(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, rc, saved;

	if (strlen(path) >= sizeof sun.sun_path) {
		fprintf(stderr, "feedmuxctl: %s: socket path too long\n", path);
		return 1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		fprintf(stderr, "feedmuxctl: socket: %s\n", strerror(errno));
		return 1;
	}
	rc = connect(fd, (struct sockaddr *)&sun, sizeof sun);
	saved = errno;
	close(fd);
	if (rc == 0)
		return 0;
	if (saved == ENOENT)
		fprintf(stderr, "feedmuxctl: no socket at %s: is feedmuxd running? (see -s)\n", path);
	else if (saved == ECONNREFUSED)
		fprintf(stderr, "feedmuxctl: nothing listens on %s: feedmuxd is not running\n", path);
	else if (saved == EACCES || saved == EPERM)
		fprintf(stderr, "feedmuxctl: %s: permission denied (the socket's group may read it)\n",
		    path);
	else
		fprintf(stderr, "feedmuxctl: %s: %s\n", path, strerror(saved));
	return 1;
}

/* GET `path` from the daemon into `out`.  Returns 0, or 1 after printing why. */
static int
ctl_get(const char *sock, const char *path, struct buf *out)
{
	CURL *c = curl_easy_init();
	char errbuf[CURL_ERROR_SIZE] = "";
	char *url;
	long status = 0;
	CURLcode rc;

	if (c == NULL) {
		fprintf(stderr, "feedmuxctl: curl_easy_init failed\n");
		return 1;
	}
	if (!ctl_is_tcp(sock) && ctl_probe_unix(sock) != 0) {
		curl_easy_cleanup(c);
		return 1;
	}
	if (ctl_is_tcp(sock))
		url = xasprintf("http://%s%s", sock, path);
	else {
		url = xasprintf("http://localhost%s", path);
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ctl_on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	free(url);
	if (rc == CURLE_COULDNT_CONNECT) {
		fprintf(stderr, "feedmuxctl: no feedmuxd answers on %s (is it running? see -s)\n",
		    sock);
		return 1;
	}
	if (rc != CURLE_OK) {
		fprintf(stderr, "feedmuxctl: %s: %s\n", sock, errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return 1;
	}
	if (status != 200) {
		fprintf(stderr, "feedmuxctl: %s%s: HTTP %ld: %s", sock, path, status,
		    out->data != NULL ? out->data : "\n");
		return 1;
	}
	return 0;
}

static const char *
ctl_str(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

static void
ctl_print_feed(json_t *f)
{
	json_t *http = json_object_get(f, "http_status");
	char status[16];

	if (json_is_integer(http))
		snprintf(status, sizeof status, "%lld", (long long)json_integer_value(http));
	else
		snprintf(status, sizeof status, "-");
	printf("%-20s %-6s %7lld  %-20s  %-20s  %s\n", ctl_str(f, "name", "?"), status,
	    (long long)json_integer_value(json_object_get(f, "items")),
	    ctl_str(f, "last_fetch", "never"), ctl_str(f, "next_poll", "-"),
	    ctl_str(f, "error", "-"));
}

static int
ctl_status(const char *sock)
{
	struct buf body;
	json_error_t jerr;
	json_t *root, *feeds;
	size_t i;

	buf_init(&body, CTL_MAX_RESPONSE);
	if (ctl_get(sock, "/status", &body) != 0) {
		buf_free(&body);
		return 1;
	}
	root = json_loadb(body.data != NULL ? body.data : "", body.len, 0, &jerr);
	buf_free(&body);
	if (root == NULL) {
		fprintf(stderr, "feedmuxctl: %s: /status is not JSON: %s\n", sock, jerr.text);
		return 1;
	}
	printf("feedmux %s, running since %s\n", ctl_str(root, "version", "?"),
	    ctl_str(root, "started", "?"));
	printf("%lld feeds, %lld items\n\n",
	    (long long)json_integer_value(json_object_get(root, "feeds_total")),
	    (long long)json_integer_value(json_object_get(root, "items_total")));
	printf("%-20s %-6s %7s  %-20s  %-20s  %s\n", "FEED", "HTTP", "ITEMS", "LAST FETCH",
	    "NEXT POLL", "ERROR");
	feeds = json_object_get(root, "feeds");
	for (i = 0; i < json_array_size(feeds); i++)
		ctl_print_feed(json_array_get(feeds, i));
	json_decref(root);
	return 0;
}

static int
ctl_export(const char *sock, int argc, char *argv[])
{
	const char *format = "atom";
	struct buf body;
	char *path;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
			format = argv[++i];
		else if (strncmp(argv[i], "--format=", 9) == 0)
			format = argv[i] + 9;
		else {
			usage(stderr);
			return 2;
		}
	}
	if (strcmp(format, "atom") != 0) {
		fprintf(stderr, "feedmuxctl: export: format %s is not supported (atom is)\n", format);
		return 2;
	}
	path = xasprintf("/feed.%s", format);
	buf_init(&body, CTL_MAX_RESPONSE);
	if ((rc = ctl_get(sock, path, &body)) == 0)
		fwrite(body.data != NULL ? body.data : "", 1, body.len, stdout);
	buf_free(&body);
	free(path);
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *sock = DEFAULT_SOCKET;
	int ch, rc;

	log_init("feedmuxctl");
	while ((ch = getopt_long(argc, argv, "+s:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 's': sock = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("feedmuxctl %s\n", FEEDMUX_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(argv[0], "status") == 0 && argc == 1)
		rc = ctl_status(sock);
	else if (strcmp(argv[0], "export") == 0)
		rc = ctl_export(sock, argc, argv);
	else {
		fprintf(stderr, "feedmuxctl: unknown command: %s\n", argv[0]);
		usage(stderr);
		rc = 2;
	}
	curl_global_cleanup();
	return rc;
}
