/*
 * testutil: what the Check suites share: temporary folders, files, child
 * processes with time limits, HTTP over Unix sockets, schema validation.
 */
#ifndef FEEDMUX_TESTUTIL_H
#define FEEDMUX_TESTUTIL_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/util.h"

/* A new empty folder under $TMPDIR (or /tmp); the caller frees the string. */
char *tu_mkdtemp(void);
/* rm -rf `dir`. */
void tu_rmtree(const char *dir);
/* The whole file, NUL-terminated; *len gets its length.  NULL if unreadable. */
char *tu_read_file(const char *path, size_t *len);
void tu_write_file(const char *path, const char *text);
/* TEST_DATA_DIR "/" rel, in a static buffer. */
const char *tu_data(const char *rel);

/*
 * Run argv[0] (a path) with stdout and stderr captured into *out and *err
 * (either may be NULL), waiting at most `timeout_s`.  Returns the exit
 * status, 128 + signal number when killed by one, or -1 on timeout.
 */
int tu_run(char *const argv[], int timeout_s, char **out, char **err);

/* Start argv[0] in the background with stderr to `errfile` (or inherited when NULL). */
pid_t tu_spawn(char *const argv[], const char *errfile);
/* Send `sig` and wait at most timeout_s; returns as tu_run does. */
int tu_stop(pid_t pid, int sig, int timeout_s);

/* Wait until a Unix socket at `path` accepts connections; false on timeout. */
bool tu_wait_socket(const char *path, int timeout_s);

/*
 * GET `path` over the Unix socket `sock` (or http://host:port when `sock`
 * has no '/').  Returns the HTTP status (0 on failure); the body goes to *body.
 */
long tu_http_get(const char *sock, const char *path, char **body, size_t *len);

/* POST `path` (no body) as tu_http_get GETs it. */
long tu_http_post(const char *sock, const char *path, char **body, size_t *len);

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int tu_free_port(void);

/* A connection to the Unix socket at `path` (fatal when it cannot be made). */
int tu_connect_unix(const char *path);
/*
 * Read from `fd` into `b` until `needle` is in it, the peer closes, or
 * `timeout_ms` (scaled as tu_seconds) pass by the clock; true when it is
 * there.  Only what each read adds is searched, so a stream of megabytes
 * is read as fast as it comes (also under valgrind).
 */
bool tu_read_until(int fd, struct buf *b, const char *needle, int timeout_ms);
/* Wait until the file at `path` holds `needle`; false after timeout_s. */
bool tu_wait_text(const char *path, const char *needle, int timeout_s);

/*
 * Start tests/fixture-httpd serving `dir` on 127.0.0.1, logging requests to
 * `log` when it is not NULL; returns its port in *port.
 */
pid_t tu_start_httpd(const char *dir, const char *log, int *port);

/*
 * Start a test server `prog` (fixture-httpd, fault-httpd: "PROG DIR [LOG]",
 * printing its port when it listens); returns its port in *port.
 */
pid_t tu_start_server(const char *prog, const char *dir, const char *log, int *port);

/*
 * Running the suite under a tool (scripts/memcheck): FEEDMUX_TEST_WRAPPER,
 * blank-separated words such as "valgrind --error-exitcode=99", goes in
 * front of every feedmuxd and feedmuxctl that tu_run, tu_spawn and tu_exec
 * start.  FEEDMUX_TEST_TIME_SCALE (default 1, or 20 with a wrapper)
 * multiplies the waits: tu_seconds(s) is `s` seconds scaled so.
 */
int tu_seconds(int s);
/* Whether the programs under test run behind FEEDMUX_TEST_WRAPPER (their memory is the tool's too). */
bool tu_behind_wrapper(void);
/* execv argv[0] (a path), behind the wrapper if one is set; returns only on failure. */
void tu_exec(char *const argv[]);

/* Validate `xml` against the RFC 4287 RELAX NG schema; on failure *why names the problem. */
bool tu_atom_valid(const char *xml, size_t len, char *why, size_t whylen);

/* Seconds on the monotonic clock. */
double tu_now(void);

/* How many times `needle` occurs in the file at `path` (0 when unreadable): requests in a server's log. */
int tu_count_in_file(const char *path, const char *needle);

/* Run every test of `s` (and free it); the exit status for main: 0 when all passed, else 1. */
int tu_run_suite(Suite *s);

#endif
