/*
 * check_hostile.c: the hostile web against the real daemon (issue 8).
 *
 * One feedmuxd, one configuration: a hostile feed per case, served by
 * fault-httpd on 127.0.0.1 (its /g/ bodies are made on the fly, its /f/
 * files are tests/data/hostile/ with the paths below filled in), and good
 * feeds beside them, on the same host and on another (localhost).  Beside
 * the server, a canary: a listening socket nobody may connect to, which
 * the external entities, the DTDs and the redirects to gopher: and dict:
 * point at; and a secret file with a random token, which the file
 * entities and the redirects to file: point at.
 *
 * Once every feed was polled once, the tests check: the daemon runs, its
 * peak memory (VmHWM) stays under 256 MB, each case's outcome in /status,
 * the token nowhere (outputs, /status, the database, the log), the canary
 * untouched, every output valid, and the good feeds served in full from
 * their first fetch.
 *
 * Limits: max_body stays the default 16 MB (so the memory bound is proved
 * with the default), low_speed_time is 3 s so drips and hangs end fast;
 * the whole round takes seconds.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libxml/parser.h>

#include "tests/testutil.h"

#define PEAK_MAX_KB (256L * 1024)
#define ROUND_DEADLINE_S 300 /* a loaded machine under ASan; never a timing assertion */

enum outcome {
	ERROR,	 /* /status error holds `text`; items within the bounds */
	WARNING, /* read, marked ill-formed or truncated: warning holds `text` */
	CLEAN,	 /* read, no error, no warning */
};

/*
 * A hostile case: its feed name, its path on the fault server (%S is
 * replaced by the secret file's path, %C by the canary's port), what
 * /status must say, and the bounds of the items stored.
 */
struct hcase {
	const char *name, *path;
	enum outcome want;
	const char *text;
	long min_items, max_items;
};

static const struct hcase cases[] = {
	/* external entities and DTDs are never read: the reference is left, the feed warned */
	{"xxe-file", "f/hostile/xxe-file.xml", WARNING, "undeclared entity &secret;", 1, 1},
	{"xxe-net", "f/hostile/xxe-net.xml", WARNING, "undeclared entity &remote;", 1, 1},
	{"xxe-param-file", "f/hostile/xxe-param-file.xml", WARNING, "undeclared entity &leak;", 1, 1},
	{"xxe-param-net", "f/hostile/xxe-param-net.xml", WARNING, "undeclared entity &exfil;", 1, 1},
	{"xxe-dtd", "f/hostile/xxe-dtd.xml", WARNING, "undeclared entity &fromdtd;", 1, 1},
	{"xxe-attr", "f/hostile/xxe-attr.xml", WARNING, "undeclared entity &secret;", 1, 1},
	{"xinclude", "f/hostile/xinclude.xml", CLEAN, NULL, 1, 1},
	/* internal entities: never nested, and at most 1 MB of them in all */
	{"laughs", "f/hostile/laughs.xml", CLEAN, NULL, 1, 1},
	{"quadratic", "g/quadratic", WARNING, "entities expand to more than", 4000, 4000},
	/* sizes and times */
	{"gzbomb", "g/gzbomb", ERROR, "after decompression (max_body)", 0, 0},
	{"endless", "g/endless", ERROR, "after decompression (max_body)", 0, 0},
	{"clen-long", "g/clen-long", ERROR, "with 5000 bytes remaining to read", 0, 0},
	{"clen-short", "g/clen-short", WARNING, "", 2, 2}, /* a cut document: what it holds */
	{"drip", "drip/hostile/laughs.xml", ERROR, "too slow", 0, 0},
	{"hang", "hang", ERROR, "too slow", 0, 0},
	{"deep", "g/deep", CLEAN, NULL, 2, 2},
	{"attr", "g/attr", ERROR, "markup over 10000000 bytes in one piece", 0, 0},
	{"items", "g/items", WARNING, "truncated: 190000 items past the first 10000 ignored", 10000,
	    10000}, /* the first 10,000 of a fetch */
	/* redirects */
	{"loop", "loop", ERROR, "more than 5 redirects", 0, 0},
	{"to-file", "to?file://%S", ERROR, "refused: only http and https", 0, 0},
	{"to-file-allowed", "to?file://%S", ERROR, "refused: only http and https", 0, 0},
	{"to-gopher", "to?gopher://127.0.0.1:%C/1secret", ERROR, "refused: only http and https", 0,
	    0},
	{"to-dict", "to?dict://127.0.0.1:%C/d:secret", ERROR, "refused: only http and https", 0, 0},
	/* bytes and characters */
	{"badutf8", "g/badutf8", WARNING, "is not UTF-8", 1, 1},
	{"nul", "g/nul", WARNING, "U+0000 is not allowed", 1, 1},
	{"control", "g/control", WARNING, "U+0001 is not allowed", 1, 1},
	{"cdata", "g/cdata", WARNING, "\"]]>\" outside CDATA", 2, 2},
	{"cp1252-as-utf8", "g/cp1252-as-utf8", WARNING, "byte 0x93 is not UTF-8", 1, 1},
	{"utf8-as-latin1", "g/utf8-as-latin1", CLEAN, NULL, 1, 1},
	{"bogus-charset", "g/bogus-charset", WARNING, "unknown charset", 1, 1},
	{"utf16le", "g/utf16le", CLEAN, NULL, 1, 1},
	{"utf16be", "g/utf16be", CLEAN, NULL, 1, 1},
	/* not feeds */
	{"html", "g/html", ERROR, "not a feed", 0, 0},
	{"empty", "g/empty", ERROR, "empty document", 0, 0},
	{"truncated", "g/truncated", WARNING, "", 2, 2},
	{"random", "g/random", ERROR, "line 1: ", 0, 0},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* The good feeds: name, host, path on the fault server, items. */
static const struct good {
	const char *name, *host, *file;
	long items;
} goods[] = {
	{"good-rss", "localhost", "feeds/rss2-basic.xml", 4},
	{"good-atom", "localhost", "feeds/atom-basic.xml", 3},
	{"good-rdf", "localhost", "feeds/rdf-basic.rdf", 1},
	{"good-same-host", "127.0.0.1", "feeds/rss2-basic.xml?same", 4},
};
#define NGOODS (sizeof goods / sizeof goods[0])

static char *dir, *www, *secret_path, *conf_path, *sock_path, *db_path, *log_path, *req_path;
static char token[40];
static int port, canary_fd = -1, canary_port;
static pid_t httpd, daemon_pid;
static json_t *status;
static double round_s;

/* `text` with %S and %C (and @SECRET@, @CANARY@ in fixtures) filled in. */
static char *
fill(const char *text, const char *s_mark, const char *c_mark)
{
	struct buf b;
	size_t sl = strlen(s_mark), cl = strlen(c_mark);

	buf_init(&b, 0);
	while (*text != '\0') {
		if (strncmp(text, s_mark, sl) == 0)
			buf_adds(&b, secret_path), text += sl;
		else if (strncmp(text, c_mark, cl) == 0)
			buf_addf(&b, "%d", canary_port), text += cl;
		else
			buf_addc(&b, *text++);
	}
	return buf_steal(&b);
}

static void
copy_to_www(const char *rel, bool templated)
{
	char *dst = xasprintf("%s/%s", www, rel);
	char *data = tu_read_file(tu_data(rel), NULL);
	char *text;

	ck_assert_msg(data != NULL, "cannot read %s", tu_data(rel));
	text = templated ? fill(data, "@SECRET@", "@CANARY@") : xstrdup(data);
	tu_write_file(dst, text);
	free(text), free(data), free(dst);
}

/* A socket on 127.0.0.1 that records (in its backlog) any connection made to it. */
static void
canary_open(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof sin;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	canary_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(canary_fd, 0);
	ck_assert_int_eq(bind(canary_fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(listen(canary_fd, 128), 0);
	ck_assert_int_eq(getsockname(canary_fd, (struct sockaddr *)&sin, &len), 0);
	canary_port = ntohs(sin.sin_port);
}

static void
write_secret(void)
{
	unsigned char r[16];
	int fd = open("/dev/urandom", O_RDONLY);
	char *text;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, r, sizeof r), (ssize_t)sizeof r);
	close(fd);
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(token + 2 * i, 3, "%02x", r[i]);
	secret_path = xasprintf("%s/secret.txt", dir);
	text = xasprintf("feedmux-secret-%s\n", token);
	tu_write_file(secret_path, text);
	free(text);
}

static void
write_conf(void)
{
	struct buf b;

	buf_init(&b, 0);
	/*
	 * The loop does each fetch's parsing and storing itself, and under
	 * valgrind (tu_seconds) the biggest take seconds, which every transfer
	 * waiting beside them counts against its limits: those stretch too.
	 */
	buf_addf(&b,
	    "[feedmux]\ndatabase = %s\nlisten = %s\ninterval = 1h\nstart_spread = 0\n"
	    "host_delay = 0\nhost_connections = 64\nmax_transfers = 64\nconnect_timeout = %ds\n"
	    "timeout = %ds\nlow_speed_time = %ds\n",
	    db_path, sock_path, tu_seconds(5), tu_seconds(60), tu_seconds(3));
	for (size_t i = 0; i < NCASES; i++) {
		char *path = fill(cases[i].path, "%S", "%C");

		buf_addf(&b, "[feed \"%s\"]\nurl = http://127.0.0.1:%d/%s\n", cases[i].name, port,
		    path);
		if (strcmp(cases[i].name, "to-file-allowed") == 0)
			buf_adds(&b, "allow_file = yes\n"); /* a redirect still may not go there */
		free(path);
	}
	for (size_t i = 0; i < NGOODS; i++)
		buf_addf(&b, "[feed \"%s\"]\nurl = http://%s:%d/f/%s\n", goods[i].name,
		    goods[i].host, port, goods[i].file);
	tu_write_file(conf_path, b.data);
	buf_free(&b);
}

static json_t *
get_status(void)
{
	char *body = NULL;
	json_error_t err;
	json_t *root;

	if (tu_http_get(sock_path, "/status", &body, NULL) != 200) {
		free(body);
		return NULL;
	}
	root = json_loads(body, 0, &err);
	ck_assert_msg(root != NULL, "/status is not JSON: %s", err.text);
	free(body);
	return root;
}

/* True when every feed in `root` has been fetched once. */
static bool
all_fetched(json_t *root)
{
	json_t *feeds = json_object_get(root, "feeds");

	if (json_array_size(feeds) != NCASES + NGOODS)
		return false;
	for (size_t i = 0; i < json_array_size(feeds); i++)
		if (!json_is_string(json_object_get(json_array_get(feeds, i), "last_fetch")))
			return false;
	return true;
}

static void
mkdir_in(const char *base, const char *name)
{
	char *p = xasprintf("%s/%s", base, name);

	ck_assert_int_eq(mkdir(p, 0755), 0);
	free(p);
}

/* Start everything and wait for the first round (unchecked: once for all the tests). */
static void
setup(void)
{
	static const char *const fixtures[] = {"xxe-file.xml", "xxe-net.xml", "xxe-param-file.xml",
		"xxe-param-net.xml", "xxe-dtd.xml", "xxe-attr.xml", "xinclude.xml", "laughs.xml"};
	char *argv[] = {FEEDMUXD, "-c", NULL, NULL};
	double start, deadline;

	dir = tu_mkdtemp();
	www = xasprintf("%s/www", dir);
	ck_assert_int_eq(mkdir(www, 0755), 0);
	mkdir_in(www, "hostile");
	mkdir_in(www, "feeds");
	conf_path = xasprintf("%s/feedmux.conf", dir);
	sock_path = xasprintf("%s/feedmux.sock", dir);
	db_path = xasprintf("%s/feedmux.db", dir);
	log_path = xasprintf("%s/daemon.log", dir);
	req_path = xasprintf("%s/requests.log", dir);
	write_secret();
	canary_open();
	for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
		char *rel = xasprintf("hostile/%s", fixtures[i]);

		copy_to_www(rel, true);
		free(rel);
	}
	copy_to_www("feeds/rss2-basic.xml", false);
	copy_to_www("feeds/atom-basic.xml", false);
	copy_to_www("feeds/rdf-basic.rdf", false);
	httpd = tu_start_server(FAULT_HTTPD, www, req_path, &port);
	write_conf();
	argv[2] = conf_path;
	{
		/*
		 * Under ASan, freed memory waits in a 256 MB quarantine by default,
		 * which VmHWM would count; 4 MB still catches a use after free.
		 */
		const char *asan = getenv("ASAN_OPTIONS");
		char *opts = xasprintf("quarantine_size_mb=4%s%s", asan != NULL ? ":" : "",
		    asan != NULL ? asan : "");

		setenv("ASAN_OPTIONS", opts, 1);
		free(opts);
	}
	start = tu_now();
	daemon_pid = tu_spawn(argv, log_path);
	ck_assert_msg(tu_wait_socket(sock_path, 60), "feedmuxd did not listen");
	deadline = tu_now() + tu_seconds(ROUND_DEADLINE_S);
	while ((status = get_status()) != NULL && !all_fetched(status) && tu_now() < deadline) {
		json_decref(status);
		status = NULL;
		usleep(200000);
	}
	round_s = tu_now() - start;
	ck_assert_msg(status != NULL && all_fetched(status), "the first round did not end in %d s",
	    tu_seconds(ROUND_DEADLINE_S));
	fprintf(stderr, "hostile: first round in %.1f s\n", round_s);
}

static void
teardown(void)
{
	if (daemon_pid > 0)
		tu_stop(daemon_pid, SIGTERM, 30);
	tu_stop(httpd, SIGTERM, 5);
	if (canary_fd >= 0)
		close(canary_fd);
	json_decref(status);
	tu_rmtree(dir);
	free(dir), free(www), free(secret_path), free(conf_path), free(sock_path);
	free(db_path), free(log_path), free(req_path);
}

static json_t *
feed_status(const char *name)
{
	json_t *feeds = json_object_get(status, "feeds");

	for (size_t i = 0; i < json_array_size(feeds); i++) {
		json_t *f = json_array_get(feeds, i);

		if (strcmp(json_string_value(json_object_get(f, "name")), name) == 0)
			return f;
	}
	ck_abort_msg("no feed %s in /status", name);
	return NULL;
}

static const char *
str_or(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

/* GET `path`; asserts a 200 and that the body does not hold the secret token. */
static char *
get_clean(const char *path, size_t *len)
{
	char *body = NULL;
	long code = tu_http_get(sock_path, path, &body, len);

	ck_assert_msg(code == 200, "GET %s: %ld", path, code);
	ck_assert_msg(memmem(body, *len, token, strlen(token)) == NULL, "GET %s leaks the secret",
	    path);
	return body;
}

/* True when `s` holds a C0 control other than tab, line feed and carriage return. */
static bool
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r')
			return true;
	return false;
}

/* The three formats of `query` (for /feed.*), each valid; the JSON Feed is returned. */
static json_t *
check_outputs(const char *query)
{
	char *path, *body, why[300];
	size_t len;
	xmlDocPtr doc;
	json_error_t err;
	json_t *root, *items;

	path = xasprintf("/feed.atom%s", query);
	body = get_clean(path, &len);
	ck_assert_msg(tu_atom_valid(body, len, why, sizeof why), "%s: invalid Atom: %s", path, why);
	free(body), free(path);

	path = xasprintf("/feed.rss%s", query);
	body = get_clean(path, &len);
	doc = xmlReadMemory(body, (int)len, "feed.rss", NULL, XML_PARSE_NONET);
	ck_assert_msg(doc != NULL, "%s: not well-formed", path);
	xmlFreeDoc(doc);
	free(body), free(path);

	path = xasprintf("/feed.json%s", query);
	body = get_clean(path, &len);
	root = json_loadb(body, len, 0, &err);
	ck_assert_msg(root != NULL, "%s: not JSON: %s", path, err.text);
	items = json_object_get(root, "items");
	ck_assert_msg(json_is_array(items), "%s: no items", path);
	for (size_t i = 0; i < json_array_size(items); i++) {
		const char *title = str_or(json_array_get(items, i), "title", "");

		ck_assert_msg(!has_control(title), "%s: a control character in \"%s\"", path, title);
	}
	free(body), free(path);
	return root;
}

/* The JSON Feed items of feed `name`. */
static json_t *
feed_items(const char *name)
{
	char *query = xasprintf("?feed=%s&limit=1000", name);
	json_t *root = check_outputs(query);
	json_t *items = json_incref(json_object_get(root, "items"));

	json_decref(root);
	free(query);
	return items;
}

static bool
has_title(json_t *items, const char *title)
{
	for (size_t i = 0; i < json_array_size(items); i++)
		if (strcmp(str_or(json_array_get(items, i), "title", ""), title) == 0)
			return true;
	return false;
}

/* The daemon is alive: not gone, not a zombie (each test runs in a child: no waitpid here). */
START_TEST(test_daemon_runs)
{
	char *path = xasprintf("/proc/%d/stat", (int)daemon_pid);
	char *stat = tu_read_file(path, NULL);
	const char *state = stat != NULL ? strrchr(stat, ')') : NULL;

	ck_assert_msg(state != NULL && state[1] == ' ' && state[2] != 'Z' && state[2] != 'X',
	    "feedmuxd is gone: %s", stat != NULL ? stat : "no /proc entry");
	free(stat), free(path);
	ck_assert_int_eq(tu_http_get(sock_path, "/status", NULL, NULL), 200);
}
END_TEST

/* Each case's outcome in /status: a clear error, or a bounded result. */
START_TEST(test_each_case_outcome)
{
	for (size_t i = 0; i < NCASES; i++) {
		const struct hcase *c = &cases[i];
		json_t *f = feed_status(c->name);
		const char *error = json_string_value(json_object_get(f, "error"));
		const char *warning = json_string_value(json_object_get(f, "warning"));
		long long items = json_integer_value(json_object_get(f, "items"));

		if (c->want == ERROR)
			ck_assert_msg(error != NULL && strstr(error, c->text) != NULL,
			    "%s: wanted an error with \"%s\", got %s", c->name, c->text,
			    error != NULL ? error : "none");
		else
			ck_assert_msg(error == NULL, "%s: unexpected error %s", c->name, error);
		if (c->want == WARNING)
			ck_assert_msg(warning != NULL &&
				(strncmp(warning, "ill-formed: ", 12) == 0 ||
				    strncmp(warning, "truncated: ", 11) == 0) &&
				strstr(warning, c->text) != NULL,
			    "%s: wanted a warning with \"%s\", got %s", c->name, c->text,
			    warning != NULL ? warning : "none");
		else if (c->want == CLEAN)
			ck_assert_msg(warning == NULL, "%s: unexpected warning %s", c->name, warning);
		ck_assert_msg(items >= c->min_items && items <= c->max_items,
		    "%s: %lld items, wanted %ld to %ld", c->name, items, c->min_items, c->max_items);
	}
}
END_TEST

/* What the readable cases hold, as a reader sees it. */
START_TEST(test_read_as_meant)
{
	static const struct {
		const char *feed, *title;
	} want[] = {
		{"cp1252-as-utf8", "Caf\xc3\xa9 \xe2\x82\xac \xe2\x80\x9csmart\xe2\x80\x9d"},
		{"utf8-as-latin1", "Caf\xc3\xa9 \xe2\x80\x9cquoted\xe2\x80\x9d"},
		{"bogus-charset", "Bogus caf\xc3\xa9"},
		{"utf16le", "Little-endian caf\xc3\xa9"},
		{"utf16be", "Big-endian caf\xc3\xa9"},
		{"nul", "Before\xef\xbf\xbd" "after"},
		{"cdata", "a]]>b"},
		{"cdata", "Plain ]]> in text"},
		{"deep", "Before the deep end"},
		{"deep", "After the deep end"},
		{"truncated", "Whole item"},
		{"clen-short", "Whole item"},
	};

	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		json_t *items = feed_items(want[i].feed);

		ck_assert_msg(has_title(items, want[i].title), "%s: no item \"%s\"", want[i].feed,
		    want[i].title);
		json_decref(items);
	}
}
END_TEST

/* Every output of every feed is valid, and none holds the secret. */
START_TEST(test_outputs_valid_no_secret)
{
	json_decref(check_outputs("?limit=1000"));
	for (size_t i = 0; i < NCASES; i++)
		json_decref(feed_items(cases[i].name));
	for (size_t i = 0; i < NGOODS; i++)
		json_decref(feed_items(goods[i].name));
}
END_TEST

/* The file contains the token: in no byte. */
static void
assert_no_token(const char *path)
{
	size_t len;
	char *data = tu_read_file(path, &len);

	if (data == NULL)
		return; /* a WAL may be checkpointed away */
	ck_assert_msg(memmem(data, len, token, strlen(token)) == NULL, "%s holds the secret", path);
	free(data);
}

START_TEST(test_secret_nowhere)
{
	char *body = NULL, *wal = xasprintf("%s-wal", db_path);
	size_t len;

	body = get_clean("/status", &len);
	free(body);
	assert_no_token(db_path);
	assert_no_token(wal);
	assert_no_token(log_path);
	free(wal);
}
END_TEST

/* No connection ever reached the canary (the kernel queued any for accept). */
START_TEST(test_canary_untouched)
{
	int fd = accept(canary_fd, NULL, NULL);

	ck_assert_msg(fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
	    "something connected to the canary");
}
END_TEST

/* How many requests for `path` the server logged. */
static int
count_requests(const char *path)
{
	char *needle = xasprintf(" %s ", path);
	int n = tu_count_in_file(req_path, needle);

	free(needle);
	return n;
}
/* The good feeds: fetched once (the first round), whole, clean, and served. */
START_TEST(test_good_feeds_unaffected)
{
	for (size_t i = 0; i < NGOODS; i++) {
		json_t *f = feed_status(goods[i].name);
		json_t *items = feed_items(goods[i].name);

		ck_assert_msg(json_is_null(json_object_get(f, "error")), "%s: %s", goods[i].name,
		    str_or(f, "error", ""));
		ck_assert(json_is_null(json_object_get(f, "warning")));
		ck_assert_int_eq(json_integer_value(json_object_get(f, "http_status")), 200);
		ck_assert_int_eq(json_integer_value(json_object_get(f, "items")), goods[i].items);
		ck_assert_uint_eq(json_array_size(items), (size_t)goods[i].items);
		json_decref(items);
	}
	/* one request each: nothing had to be tried again */
	ck_assert_int_eq(count_requests("/f/feeds/rss2-basic.xml"), 1);
	ck_assert_int_eq(count_requests("/f/feeds/rss2-basic.xml?same"), 1);
	ck_assert_int_eq(count_requests("/f/feeds/atom-basic.xml"), 1);
	ck_assert_int_eq(count_requests("/f/feeds/rdf-basic.rdf"), 1);
}
END_TEST

/* Last, after every output was made: the daemon's peak resident memory. */
START_TEST(test_peak_memory)
{
	char *path = xasprintf("/proc/%d/status", (int)daemon_pid);
	char *text = tu_read_file(path, NULL);
	const char *hwm = text != NULL ? strstr(text, "VmHWM:") : NULL;
	long kb;

	ck_assert_ptr_nonnull(hwm);
	kb = strtol(hwm + 6, NULL, 10);
	fprintf(stderr, "hostile: feedmuxd peak memory (VmHWM) %ld kB\n", kb);
	/* behind valgrind the figure is mostly valgrind's own (shadow memory) */
	if (!tu_behind_wrapper())
		ck_assert_msg(kb < PEAK_MAX_KB, "feedmuxd peaked at %ld kB", kb);
	free(text), free(path);
}
END_TEST

/* Last: SIGTERM ends it, with nothing for the sanitizers to say (its log is its stderr). */
START_TEST(test_clean_shutdown)
{
	char *path = xasprintf("/proc/%d/stat", (int)daemon_pid);
	char *stat = NULL, *log;
	double deadline = tu_now() + 60;

	ck_assert_int_eq(kill(daemon_pid, SIGTERM), 0);
	/* exited: a zombie until the runner reaps it (we are a child of the runner) */
	do {
		const char *state;

		free(stat);
		usleep(50000);
		stat = tu_read_file(path, NULL);
		state = stat != NULL ? strrchr(stat, ')') : NULL;
		if (state == NULL || state[2] == 'Z')
			break;
	} while (tu_now() < deadline);
	ck_assert_msg(stat != NULL && strstr(strrchr(stat, ')'), ") Z ") != NULL,
	    "feedmuxd did not exit on SIGTERM");
	log = tu_read_file(log_path, NULL);
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(strstr(log, "Sanitizer") == NULL && strstr(log, "runtime error") == NULL,
	    "%s", log);
	free(log), free(stat), free(path);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("hostile");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_daemon_runs);
	tcase_add_test(tc, test_each_case_outcome);
	tcase_add_test(tc, test_read_as_meant);
	tcase_add_test(tc, test_outputs_valid_no_secret);
	tcase_add_test(tc, test_secret_nowhere);
	tcase_add_test(tc, test_canary_untouched);
	tcase_add_test(tc, test_good_feeds_unaffected);
	tcase_add_test(tc, test_peak_memory);
	tcase_add_test(tc, test_clean_shutdown);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
