/*
 * util: what every feedmux module shares.
 *
 * Logging (log_*), allocation wrappers that fatal on out-of-memory (x*), and
 * a growable byte buffer with an explicit cap (struct buf).  Nothing here
 * knows about feeds, HTTP or SQL.
 */
#ifndef FEEDMUX_UTIL_H
#define FEEDMUX_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PRINTFLIKE(f, a) __attribute__((format(printf, f, a)))
#define NORETURN	 __attribute__((noreturn))

/* Log levels, numbered as sd-daemon(3) priorities so journald keeps them. */
enum log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARNING = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/*
 * Set up logging for program name `prog`.  Lines go to stderr; when stderr is
 * the journal (JOURNAL_STREAM names it) each line starts with "<N>" so
 * journald records its priority, otherwise with "prog: level: ".
 */
void log_init(const char *prog);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parse "error", "warning", "notice", "info" or "debug"; -1 if unknown. */
int log_level_from_name(const char *name);

void log_msg(enum log_level level, const char *fmt, ...) PRINTFLIKE(2, 3);
void log_vmsg(enum log_level level, const char *fmt, va_list ap) PRINTFLIKE(2, 0);
/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void log_warn(const char *fmt, ...) PRINTFLIKE(1, 2);
void log_warnx(const char *fmt, ...) PRINTFLIKE(1, 2);
void log_notice(const char *fmt, ...) PRINTFLIKE(1, 2);
void log_info(const char *fmt, ...) PRINTFLIKE(1, 2);
void log_debug(const char *fmt, ...) PRINTFLIKE(1, 2);
/* Only at startup or for a broken invariant: log at error level and exit(1). */
void fatal(const char *fmt, ...) PRINTFLIKE(1, 2) NORETURN;
void fatalx(const char *fmt, ...) PRINTFLIKE(1, 2) NORETURN;

/* Allocation wrappers: never return NULL (fatal on out-of-memory). */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
/* xstrndup copies at most n bytes and always terminates. */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTFLIKE(1, 2);

/*
 * A growable byte buffer, always NUL-terminated, with a cap on its length.
 * buf_add* return -1 (and leave the buffer as it was) when adding would pass
 * the cap; 0 otherwise.  A cap of 0 means no cap: use it only for data we
 * produce ourselves, never for data that came from the network.
 */
struct buf {
	char *data;
	size_t len;
	size_t size;
	size_t cap;
};

void buf_init(struct buf *b, size_t cap);
int buf_add(struct buf *b, const void *data, size_t len);
int buf_addc(struct buf *b, char c);
int buf_adds(struct buf *b, const char *s);
int buf_addf(struct buf *b, const char *fmt, ...) PRINTFLIKE(2, 3);
void buf_reset(struct buf *b);
/* Hand the contents to the caller (who frees them) and reset the buffer. */
char *buf_steal(struct buf *b);
void buf_free(struct buf *b);

/*
 * A 128-bit FNV-1a hash of the `n` strings in `parts` (each followed by a
 * separator, so ("ab","c") and ("a","bc") differ), as 32 hex digits.  Not
 * cryptographic: it names things, it does not defend against collisions.
 */
void hash_hex(const char *const *parts, size_t n, char out[33]);

/*
 * Create the folder that holds `path` when it is missing: one level only,
 * mode 0755, as systemd's StateDirectory or RuntimeDirectory would.  Returns
 * 0, or -1 with errno set.
 */
int make_parent_dir(const char *path);

/* Format `t` (UTC seconds) as RFC 3339, e.g. "2026-11-27T14:43:52Z". */
void format_rfc3339(time_t t, char out[32]);

#endif
