/*
 * fixture-httpd: a small HTTP server for the tests.
 *
 *	fixture-httpd DIR [LOG]
 *
 * Listens on 127.0.0.1 on a port the kernel picks, prints the port on
 * stdout, and serves the files of DIR.  Each answer carries an ETag made
 * from the file's size and time, and a matching If-None-Match gets a 304, so
 * conditional requests can be tested.  When LOG is given, one line per
 * request ("GET /path etag-sent-or-dash") is appended to it.  It exits on
 * SIGTERM, or when the test that started it dies.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

static const char *root;
static FILE *reqlog;

static const char *
content_type(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (dot == NULL)
		return "application/octet-stream";
	if (strcmp(dot, ".atom") == 0)
		return "application/atom+xml";
	if (strcmp(dot, ".rss") == 0 || strcmp(dot, ".xml") == 0 || strcmp(dot, ".rdf") == 0)
		return "application/xml";
	if (strcmp(dot, ".json") == 0)
		return "application/feed+json";
	return "text/plain";
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	const char *inm = evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	char file[4096], etag[64];
	struct evbuffer *body;
	struct stat st;
	int fd;

	(void)arg;
	if (reqlog != NULL) {
		fprintf(reqlog, "GET %s %s\n", path != NULL ? path : "?", inm != NULL ? inm : "-");
		fflush(reqlog);
	}
	if (path == NULL || strstr(path, "..") != NULL) {
		evhttp_send_error(req, HTTP_BADREQUEST, NULL);
		return;
	}
	snprintf(file, sizeof file, "%s%s", root, path);
	if ((fd = open(file, O_RDONLY)) < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
		return;
	}
	snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_size,
	    (unsigned long long)st.st_mtime);
	evhttp_add_header(out, "ETag", etag);
	if (inm != NULL && strcmp(inm, etag) == 0) {
		close(fd);
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return;
	}
	evhttp_add_header(out, "Content-Type", content_type(file));
	body = evbuffer_new();
	evbuffer_add_file(body, fd, 0, st.st_size);
	evhttp_send_reply(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
}

static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	(void)sig, (void)what;
	event_base_loopbreak(arg);
}

int
main(int argc, char *argv[])
{
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	struct sockaddr_in sin;
	socklen_t sinlen = sizeof sin;
	struct event *term;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: fixture-httpd DIR [LOG]\n");
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGPIPE, SIG_IGN);
	root = argv[1];
	if (argc == 3 && (reqlog = fopen(argv[2], "a")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	base = event_base_new();
	http = evhttp_new(base);
	evhttp_set_gencb(http, on_request, NULL);
	if ((sock = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0)) == NULL) {
		perror("bind");
		return 1;
	}
	memset(&sin, 0, sizeof sin);
	if (getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&sin, &sinlen) != 0) {
		perror("getsockname");
		return 1;
	}
	printf("%d\n", ntohs(sin.sin_port));
	fflush(stdout);
	term = evsignal_new(base, SIGTERM, on_term, base);
	event_add(term, NULL);
	event_base_dispatch(base);
	event_free(term);
	evhttp_free(http);
	event_base_free(base);
	if (reqlog != NULL)
		fclose(reqlog);
	return 0;
}
