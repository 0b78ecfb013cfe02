/*
 * fault-httpd: an HTTP server for the tests that misbehaves on request.
 *
 *	fault-httpd DIR [LOG]
 *
 * Listens on 127.0.0.1 on a port the kernel picks, prints the port on
 * stdout, and answers by path (FILE is a file of DIR):
 *
 *	/f/FILE		the file, with an ETag; a matching If-None-Match gets a 304.
 *			?gzip: gzip-encoded; ?br: FILE.br sent as brotli;
 *			?maxage=N: Cache-Control: max-age=N
 *	/r/CODE/N/PATH	a redirect (CODE) to /r/CODE/N-1/PATH, and at N = 0 to /PATH
 *	/loop		a 302 to itself
 *	/tofile		a 302 to file:///etc/passwd
 *	/s/CODE		that status, ?retry=N adds Retry-After: N
 *	/drip/FILE	the file, one byte every 100 ms; ?after=N: N bytes, then nothing
 *	/hang		reads the request and never answers
 *	/big		an endless feed (64 MB), no Content-Length
 *	/bomb		16 MB of blanks, gzip-encoded to about 16 kB (made at startup)
 *	/liar		Content-Length: 100000, then 60 bytes and the end of the connection
 *
 * Every response closes its connection.  When LOG is given, one line per
 * request is appended: "MS HOST PATH INM ENC", MS the milliseconds since
 * the server started, HOST the Host header without port, INM the
 * If-None-Match sent and ENC the Content-Encoding answered ("-" for none).
 * It exits on SIGTERM, or when the test that started it dies.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <netinet/in.h>
#define ZLIB_CONST /* next_in is const */
#include <zlib.h>

#define REQ_MAX	   16384
#define BIG_TOTAL  ((size_t)64 * 1024 * 1024)
#define BIG_CHUNK  65536
#define BOMB_TOTAL ((size_t)16 * 1024 * 1024)
#define DRIP_MS	   100L

static const char *root;
static FILE *reqlog;
static struct event_base *base;
static struct timespec started;
static unsigned char *bomb; /* made at startup */
static size_t bomb_len;

struct conn {
	struct bufferevent *bev;
	struct event *drip;
	char *body; /* what is still to drip */
	size_t body_len, body_off;
	size_t drip_stop; /* drip no further than this */
	size_t big_sent;  /* /big: bytes sent so far, 0 when not /big */
	bool closing;	  /* free once the output is written */
};

static void
conn_free(struct conn *c)
{
	if (c->drip != NULL)
		event_free(c->drip);
	bufferevent_free(c->bev);
	free(c->body);
	free(c);
}

static long long
ms_since_start(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - started.tv_sec) * 1000 +
	    (now.tv_nsec - started.tv_nsec) / 1000000;
}

static char *
read_file(const char *name, size_t *len, struct stat *st)
{
	char path[4096];
	char *data;
	int fd;

	if (strstr(name, "..") != NULL)
		return NULL;
	snprintf(path, sizeof path, "%s/%s", root, name);
	if ((fd = open(path, O_RDONLY)) < 0)
		return NULL;
	if (fstat(fd, st) != 0 || (data = malloc((size_t)st->st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	*len = (size_t)read(fd, data, (size_t)st->st_size);
	close(fd);
	return data;
}

/* gzip `in` into a new buffer. */
static unsigned char *
gzip(const void *in, size_t len, size_t repeat, size_t *outlen)
{
	z_stream z;
	size_t cap = len * repeat / 512 + len + 1024;
	unsigned char *out = malloc(cap);

	memset(&z, 0, sizeof z);
	if (out == NULL || deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	z.next_out = out;
	z.avail_out = (uInt)cap;
	for (size_t i = 0; i < repeat; i++) {
		z.next_in = in;
		z.avail_in = (uInt)len;
		if (deflate(&z, Z_NO_FLUSH) != Z_OK || z.avail_in != 0)
			abort();
	}
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	*outlen = z.total_out;
	deflateEnd(&z);
	return out;
}

static void
send_head(struct conn *c, int code, const char *extra, long long length)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	evbuffer_add_printf(out, "HTTP/1.1 %d Fault\r\nConnection: close\r\n%s", code, extra);
	if (length >= 0)
		evbuffer_add_printf(out, "Content-Length: %lld\r\n", length);
	evbuffer_add_printf(out, "\r\n");
}

static void
send_whole(struct conn *c, int code, const char *extra, const void *body, size_t len)
{
	send_head(c, code, extra, (long long)len);
	evbuffer_add(bufferevent_get_output(c->bev), body, len);
	c->closing = true;
}

static void
on_drip(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct timeval tv = {0, DRIP_MS * 1000};

	(void)fd, (void)what;
	if (c->body_off >= c->body_len || c->body_off >= c->drip_stop)
		return; /* the rest never comes */
	evbuffer_add(bufferevent_get_output(c->bev), c->body + c->body_off, 1);
	c->body_off++;
	if (c->body_off == c->body_len) {
		c->closing = true;
		return;
	}
	evtimer_add(c->drip, &tv);
}

static void
big_more(struct conn *c)
{
	static char chunk[BIG_CHUNK];
	static const char item[] = "<item><title>x</title></item>\n";

	if (chunk[0] == '\0')
		for (size_t i = 0; i + sizeof item - 1 <= sizeof chunk; i += sizeof item - 1)
			memcpy(chunk + i, item, sizeof item - 1);
	if (c->big_sent >= BIG_TOTAL) {
		c->closing = true;
		return;
	}
	evbuffer_add(bufferevent_get_output(c->bev), chunk, sizeof chunk);
	c->big_sent += sizeof chunk;
}

/* /f/FILE with its options; returns the Content-Encoding used, or "-". */
static const char *
serve_file(struct conn *c, const char *name, const char *query, const char *inm)
{
	char head[512], etag[64], file[4096];
	const char *enc = "-";
	size_t len, n = 0;
	struct stat st;
	char *data;
	unsigned char *z = NULL;

	snprintf(file, sizeof file, "%s%s", name, strstr(query, "br") != NULL ? ".br" : "");
	if ((data = read_file(file, &len, &st)) == NULL) {
		send_whole(c, 404, "", "not found\n", 10);
		return enc;
	}
	snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_size,
	    (unsigned long long)st.st_mtime);
	n += (size_t)snprintf(head + n, sizeof head - n, "ETag: %s\r\n", etag);
	if (strstr(query, "maxage=") != NULL)
		n += (size_t)snprintf(head + n, sizeof head - n, "Cache-Control: max-age=%ld\r\n",
		    strtol(strstr(query, "maxage=") + 7, NULL, 10));
	if (inm != NULL && strcmp(inm, etag) == 0) {
		send_whole(c, 304, head, "", 0);
		free(data);
		return enc;
	}
	n += (size_t)snprintf(head + n, sizeof head - n, "Content-Type: application/xml\r\n");
	if (strstr(query, "br") != NULL)
		enc = "br";
	else if (strstr(query, "gzip") != NULL) {
		enc = "gzip";
		z = gzip(data, len, 1, &len);
	}
	if (strcmp(enc, "-") != 0)
		snprintf(head + n, sizeof head - n, "Content-Encoding: %s\r\n", enc);
	send_whole(c, 200, head, z != NULL ? (void *)z : data, len);
	free(z);
	free(data);
	return enc;
}

static void
serve_drip(struct conn *c, const char *name, const char *query)
{
	struct stat st;
	const char *after = strstr(query, "after=");
	struct timeval now = {0, 0};

	if ((c->body = read_file(name, &c->body_len, &st)) == NULL) {
		send_whole(c, 404, "", "not found\n", 10);
		return;
	}
	send_head(c, 200, "Content-Type: application/xml\r\n", (long long)c->body_len);
	c->drip_stop = c->body_len;
	if (after != NULL) {
		size_t n = strtoul(after + 6, NULL, 10);

		if (n > c->body_len)
			n = c->body_len;
		evbuffer_add(bufferevent_get_output(c->bev), c->body, n);
		c->body_off = c->drip_stop = n;
	}
	c->drip = evtimer_new(base, on_drip, c);
	evtimer_add(c->drip, &now);
}

static const char *
serve(struct conn *c, char *path, const char *inm)
{
	char *query = strchr(path, '?');
	char head[1200];
	long code;

	if (query != NULL)
		*query++ = '\0';
	else
		query = "";
	if (strncmp(path, "/f/", 3) == 0)
		return serve_file(c, path + 3, query, inm);
	if (strncmp(path, "/r/", 3) == 0) {
		char *end;
		long hops;

		code = strtol(path + 3, &end, 10);
		hops = *end == '/' ? strtol(end + 1, &end, 10) : -1;
		if (hops < 0 || *end != '/')
			send_whole(c, 404, "", "not found\n", 10);
		else {
			if (hops > 0)
				snprintf(head, sizeof head, "Location: /r/%ld/%ld/%s\r\n", code, hops - 1,
				    end + 1);
			else
				snprintf(head, sizeof head, "Location: /%s\r\n", end + 1);
			send_whole(c, (int)code, head, "", 0);
		}
	} else if (strcmp(path, "/loop") == 0)
		send_whole(c, 302, "Location: /loop\r\n", "", 0);
	else if (strcmp(path, "/tofile") == 0)
		send_whole(c, 302, "Location: file:///etc/passwd\r\n", "", 0);
	else if (strncmp(path, "/s/", 3) == 0 && (code = strtol(path + 3, NULL, 10)) >= 100) {
		head[0] = '\0';
		if (strncmp(query, "retry=", 6) == 0)
			snprintf(head, sizeof head, "Retry-After: %ld\r\n", strtol(query + 6, NULL, 10));
		send_whole(c, (int)code, head, "error\n", 6);
	} else if (strncmp(path, "/drip/", 6) == 0)
		serve_drip(c, path + 6, query);
	else if (strcmp(path, "/hang") == 0)
		; /* never answer */
	else if (strcmp(path, "/big") == 0) {
		static const char start[] = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"
					    "<title>big</title>\n";

		send_head(c, 200, "Content-Type: application/xml\r\n", -1);
		evbuffer_add(bufferevent_get_output(c->bev), start, sizeof start - 1);
		big_more(c);
	} else if (strcmp(path, "/bomb") == 0) {
		send_whole(c, 200, "Content-Type: application/xml\r\nContent-Encoding: gzip\r\n",
		    bomb, bomb_len);
		return "gzip";
	} else if (strcmp(path, "/liar") == 0) {
		send_head(c, 200, "Content-Type: application/xml\r\n", 100000);
		evbuffer_add_printf(bufferevent_get_output(c->bev), "%-60s", "<?xml version=\"1.0\"?>");
		c->closing = true;
	} else
		send_whole(c, 404, "", "not found\n", 10);
	return "-";
}

/* The value of header `name` in the request head `req` (NUL-terminated lines), or NULL. */
static char *
header(char *req, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);

	for (char *line = strstr(req, "\r\n"); line != NULL; line = strstr(line, "\r\n")) {
		line += 2;
		if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
			char *v = line + nlen + 1;
			size_t len;

			while (*v == ' ')
				v++;
			len = strcspn(v, "\r\n");
			snprintf(out, outlen, "%.*s", (int)len, v);
			return out;
		}
	}
	return NULL;
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	char req[REQ_MAX], path[2048], inm[256], host[256];
	size_t len;

	if (end.pos < 0) {
		if (evbuffer_get_length(in) >= REQ_MAX)
			conn_free(c);
		return;
	}
	len = (size_t)end.pos + 4;
	evbuffer_remove(in, req, len);
	req[len] = '\0';
	bufferevent_disable(bev, EV_READ);
	if (sscanf(req, "GET %2047s", path) != 1)
		snprintf(path, sizeof path, "/");
	if (header(req, "Host", host, sizeof host) == NULL)
		snprintf(host, sizeof host, "-");
	host[strcspn(host, ":")] = '\0';
	if (header(req, "If-None-Match", inm, sizeof inm) == NULL)
		inm[0] = '\0';
	{
		char logpath[2048];
		const char *enc;

		snprintf(logpath, sizeof logpath, "%s", path);
		enc = serve(c, path, inm[0] != '\0' ? inm : NULL);
		if (reqlog != NULL) {
			fprintf(reqlog, "%lld %s %s %s %s\n", ms_since_start(), host, logpath,
			    inm[0] != '\0' ? inm : "-", enc);
			fflush(reqlog);
		}
	}
	if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(c);
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->big_sent > 0 && !c->closing) {
		big_more(c);
		return;
	}
	if (c->closing)
		conn_free(c);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(arg);
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct conn *c = calloc(1, sizeof *c);

	(void)l, (void)sa, (void)salen, (void)arg;
	if (c == NULL)
		abort();
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, BIG_CHUNK, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	(void)sig, (void)what, (void)arg;
	event_base_loopbreak(base);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in sin;
	socklen_t sinlen = sizeof sin;
	struct evconnlistener *l;
	struct event *term;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: fault-httpd DIR [LOG]\n");
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_MONOTONIC, &started);
	{
		/* made before we listen, so that a loaded machine cannot make /bomb slow */
		char fill[4096];

		memset(fill, ' ', sizeof fill);
		bomb = gzip(fill, sizeof fill, BOMB_TOTAL / sizeof fill, &bomb_len);
	}
	root = argv[1];
	if (argc == 3 && (reqlog = fopen(argv[2], "a")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	base = event_base_new();
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = evconnlistener_new_bind(base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
	    128, (struct sockaddr *)&sin, sizeof sin);
	if (l == NULL) {
		perror("bind");
		return 1;
	}
	if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sin, &sinlen) != 0) {
		perror("getsockname");
		return 1;
	}
	printf("%d\n", ntohs(sin.sin_port));
	fflush(stdout);
	term = evsignal_new(base, SIGTERM, on_term, NULL);
	event_add(term, NULL);
	event_base_dispatch(base);
	event_free(term);
	evconnlistener_free(l);
	event_base_free(base);
	free(bomb);
	if (reqlog != NULL)
		fclose(reqlog);
	return 0;
}
