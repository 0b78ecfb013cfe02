/* testutil.c: helpers for the Check suites (see testutil.h). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>

#include <curl/curl.h>
#include <libxml/relaxng.h>

#include "tests/testutil.h"
#include "util/util.h"

extern char **environ;

char *
tu_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/feedmux-test-XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");

	if (mkdtemp(dir) == NULL)
		fatal("mkdtemp");
	return dir;
}

static int
tu_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

void
tu_rmtree(const char *dir)
{
	nftw(dir, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *
tu_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[65536];
	size_t n;

	if (f == NULL)
		return NULL;
	buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	if (len != NULL)
		*len = b.len;
	return buf_steal(&b);
}

void
tu_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		fatal("write %s", path);
}

const char *
tu_data(const char *rel)
{
	static char path[4096];

	snprintf(path, sizeof path, "%s/%s", TEST_DATA_DIR, rel);
	return path;
}

double
tu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait for `pid` at most until `deadline`; the status as tu_run returns it. */
static int
tu_wait(pid_t pid, double deadline)
{
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		if (tu_now() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(10000);
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/*
 * argv behind FEEDMUX_TEST_WRAPPER when argv[0] is one of the programs under
 * test (feedmuxd, feedmuxctl); otherwise a copy of argv.  One allocation:
 * the caller frees the array and tu_wrapped_free the words.
 */
static char **
tu_wrapped(char *const argv[], char **words)
{
	const char *wrapper = getenv("FEEDMUX_TEST_WRAPPER");
	size_t n = 0, nw = 0;
	char **out, *save = NULL;

	*words = NULL;
	while (argv[n] != NULL)
		n++;
	if (n > 0 && wrapper != NULL && *wrapper != '\0' &&
	    (strcmp(argv[0], FEEDMUXD) == 0 || strcmp(argv[0], FEEDMUXCTL) == 0)) {
		*words = xstrdup(wrapper);
		for (const char *c = wrapper; *c != '\0'; c++)
			nw += *c != ' ' && (c == wrapper || c[-1] == ' ');
	}
	out = xcalloc(nw + n + 1, sizeof *out);
	nw = 0;
	if (*words != NULL)
		for (char *w = strtok_r(*words, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save))
			out[nw++] = w;
	for (size_t i = 0; i < n; i++)
		out[nw + i] = argv[i];
	return out;
}

bool
tu_behind_wrapper(void)
{
	const char *wrapper = getenv("FEEDMUX_TEST_WRAPPER");

	return wrapper != NULL && *wrapper != '\0';
}

int
tu_seconds(int s)
{
	const char *scale = getenv("FEEDMUX_TEST_TIME_SCALE");
	long k = tu_behind_wrapper() ? 20 : 1;

	if (scale != NULL && *scale != '\0')
		k = strtol(scale, NULL, 10);
	return s * (int)(k > 0 ? k : 1);
}

/* posix_spawn argv (behind the wrapper, if any) with the file actions `fa`. */
static pid_t
tu_spawn_with(char *const argv[], const posix_spawn_file_actions_t *fa)
{
	char *words, **wrapped = tu_wrapped(argv, &words);
	pid_t pid;

	if (posix_spawnp(&pid, wrapped[0], fa, NULL, wrapped, environ) != 0)
		fatal("spawn %s", wrapped[0]);
	free(wrapped);
	free(words);
	return pid;
}

void
tu_exec(char *const argv[])
{
	char *words, **wrapped = tu_wrapped(argv, &words);

	execvp(wrapped[0], wrapped);
	free(wrapped);
	free(words);
}

int
tu_run(char *const argv[], int timeout_s, char **out, char **err)
{
	posix_spawn_file_actions_t fa;
	int po[2], pe[2];
	struct buf bo, be;
	double deadline = tu_now() + tu_seconds(timeout_s);
	pid_t pid;
	int open_fds = 2, rc;

	if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0)
		fatal("pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	pid = tu_spawn_with(argv, &fa);
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);
	buf_init(&bo, 0);
	buf_init(&be, 0);
	while (open_fds > 0 && tu_now() < deadline) {
		struct pollfd p[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
		char chunk[4096];

		if (poll(p, 2, 100) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			n = read(p[i].fd, chunk, sizeof chunk);
			if (n > 0)
				buf_add(i == 0 ? &bo : &be, chunk, (size_t)n);
			else {
				close(p[i].fd);
				(i == 0 ? po : pe)[0] = -1;
				open_fds--;
			}
		}
	}
	if (po[0] >= 0)
		close(po[0]);
	if (pe[0] >= 0)
		close(pe[0]);
	rc = tu_wait(pid, deadline);
	if (out != NULL)
		*out = buf_steal(&bo);
	else
		buf_free(&bo);
	if (err != NULL)
		*err = buf_steal(&be);
	else
		buf_free(&be);
	return rc;
}

pid_t
tu_spawn(char *const argv[], const char *errfile)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	if (errfile != NULL)
		posix_spawn_file_actions_addopen(&fa, 2, errfile, O_WRONLY | O_CREAT | O_APPEND,
		    0644);
	pid = tu_spawn_with(argv, &fa);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

int
tu_stop(pid_t pid, int sig, int timeout_s)
{
	kill(pid, sig);
	return tu_wait(pid, tu_now() + tu_seconds(timeout_s));
}

bool
tu_wait_socket(const char *path, int timeout_s)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	double deadline = tu_now() + tu_seconds(timeout_s);

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	while (tu_now() < deadline) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int rc = connect(fd, (struct sockaddr *)&sun, sizeof sun);

		close(fd);
		if (rc == 0)
			return true;
		usleep(20000);
	}
	return false;
}

static size_t
tu_on_write(char *data, size_t size, size_t n, void *arg)
{
	buf_add(arg, data, size * n);
	return size * n;
}

static long
tu_http(const char *sock, bool post, const char *path, char **body, size_t *len)
{
	CURL *c = curl_easy_init();
	struct buf b;
	char *url;
	long status = 0;

	buf_init(&b, 0);
	if (strchr(sock, '/') != NULL) {
		url = xasprintf("http://localhost%s", path);
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	} else
		url = xasprintf("http://%s%s", sock, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (post)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tu_on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)tu_seconds(20));
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	free(url);
	if (len != NULL)
		*len = b.len;
	if (body != NULL)
		*body = buf_steal(&b);
	else
		buf_free(&b);
	return status;
}

long
tu_http_get(const char *sock, const char *path, char **body, size_t *len)
{
	return tu_http(sock, false, path, body, len);
}

long
tu_http_post(const char *sock, const char *path, char **body, size_t *len)
{
	return tu_http(sock, true, path, body, len);
}

int
tu_free_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
		fatal("bind 127.0.0.1:0");
	close(fd);
	return ntohs(sin.sin_port);
}

int
tu_connect_unix(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0)
		fatal("connect %s", path);
	return fd;
}

bool
tu_read_until(int fd, struct buf *b, const char *needle, int timeout_ms)
{
	double deadline = tu_now() + timeout_ms / 1000.0 * tu_seconds(1);
	size_t from = 0, keep = strlen(needle);

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		char chunk[65536];
		ssize_t n;

		if (b->data != NULL && strstr(b->data + from, needle) != NULL)
			return true;
		/* only what a read adds (and a needle's length before it) is searched again */
		from = b->len > keep ? b->len - keep : 0;
		if (tu_now() > deadline)
			return false;
		if (poll(&p, 1, 50) <= 0)
			continue;
		if ((n = read(fd, chunk, sizeof chunk)) <= 0)
			return false;
		buf_add(b, chunk, (size_t)n);
	}
}

bool
tu_wait_text(const char *path, const char *needle, int timeout_s)
{
	double deadline = tu_now() + timeout_s;

	for (;;) {
		char *text = tu_read_file(path, NULL);
		bool found = text != NULL && strstr(text, needle) != NULL;

		free(text);
		if (found)
			return true;
		if (tu_now() > deadline)
			return false;
		usleep(50000);
	}
}

pid_t
tu_start_httpd(const char *dir, const char *log, int *port)
{
	return tu_start_server(FIXTURE_HTTPD, dir, log, port);
}

static void
tu_collect_error(void *arg, xmlErrorPtr err)
{
	char *why = arg;

	if (why[0] == '\0' && err != NULL && err->message != NULL)
		snprintf(why, 256, "line %d: %s", err->line, err->message);
}

bool
tu_atom_valid(const char *xml, size_t len, char *why, size_t whylen)
{
	xmlRelaxNGParserCtxtPtr pctx = xmlRelaxNGNewParserCtxt(ATOM_RNG);
	xmlRelaxNGPtr schema = pctx != NULL ? xmlRelaxNGParse(pctx) : NULL;
	xmlRelaxNGValidCtxtPtr vctx;
	char msg[256] = "";
	xmlDocPtr doc;
	int rc = -1;

	if (schema == NULL) {
		snprintf(why, whylen, "cannot read %s", ATOM_RNG);
		xmlRelaxNGFreeParserCtxt(pctx);
		return false;
	}
	doc = xmlReadMemory(xml, (int)len, "feed.atom", NULL, XML_PARSE_NONET);
	if (doc == NULL)
		snprintf(msg, sizeof msg, "not well-formed XML");
	else {
		vctx = xmlRelaxNGNewValidCtxt(schema);
		xmlRelaxNGSetValidStructuredErrors(vctx, tu_collect_error, msg);
		rc = xmlRelaxNGValidateDoc(vctx, doc);
		xmlRelaxNGFreeValidCtxt(vctx);
		xmlFreeDoc(doc);
	}
	xmlRelaxNGFree(schema);
	xmlRelaxNGFreeParserCtxt(pctx);
	snprintf(why, whylen, "%s", msg);
	return rc == 0;
}

pid_t
tu_start_server(const char *prog, const char *dir, const char *log, int *port)
{
	char *argv[] = {(char *)prog, (char *)dir, (char *)log, NULL};
	posix_spawn_file_actions_t fa;
	char line[32] = "";
	int pfd[2];
	pid_t pid;
	FILE *f;

	if (pipe2(pfd, O_CLOEXEC) != 0)
		fatal("pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0)
		fatal("spawn %s", argv[0]);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	/* The server prints its port once it listens. */
	f = fdopen(pfd[0], "r");
	if (f == NULL || fgets(line, sizeof line, f) == NULL)
		fatalx("%s did not start", prog);
	fclose(f);
	*port = (int)strtol(line, NULL, 10);
	return pid;
}

int
tu_count_in_file(const char *path, const char *needle)
{
	char *text = tu_read_file(path, NULL);
	int n = 0;

	for (const char *p = text; p != NULL && (p = strstr(p, needle)) != NULL; p++)
		n++;
	free(text);
	return n;
}

int
tu_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
