/*
 * log.c: one line per event on stderr.
 *
 * Under systemd, stderr is a stream to journald (JOURNAL_STREAM names its
 * device and inode); then each line carries an sd-daemon "<N>" priority prefix
 * and nothing else, since journald adds the time and the unit.  On a terminal
 * the line reads "feedmuxd: warning: ...".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

/* Longer messages are cut: journald's own line limit is far above this. */
#define LOG_LINE_MAX 2048

static const char *log_prog = "feedmux";
static enum log_level log_level = LOG_LVL_INFO;
static bool log_journal;

static const char *const log_names[] = {
	[LOG_LVL_ERR] = "error",   [LOG_LVL_WARNING] = "warning", [LOG_LVL_NOTICE] = "notice",
	[LOG_LVL_INFO] = "info",   [LOG_LVL_DEBUG] = "debug",
};

/* True when stderr is the stream journald gave us, not something we were redirected to. */
static bool
log_stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (env == NULL)
		return false;
	dev = strtoull(env, &end, 10);
	if (*end != ':')
		return false;
	ino = strtoull(end + 1, &end, 10);
	if (*end != '\0')
		return false;
	if (fstat(2, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *prog)
{
	log_prog = prog;
	log_journal = log_stderr_is_journal();
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

int
log_level_from_name(const char *name)
{
	for (int i = LOG_LVL_ERR; i <= LOG_LVL_DEBUG; i++)
		if (strcmp(name, log_names[i]) == 0)
			return i;
	return -1;
}

/*
 * The line is built whole and written with one write(2): journald reads a
 * stream, and a line that reached it in pieces could be split into two
 * entries, the second without its priority.
 */
void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t len;
	int n;

	if (level > log_level)
		return;
	if (log_journal)
		n = snprintf(line, sizeof line, "<%d>", (int)level);
	else
		n = snprintf(line, sizeof line, "%s: %s: ", log_prog, log_names[level]);
	if (n < 0 || (size_t)n >= sizeof line - 1)
		return;
	len = (size_t)n;
	n = vsnprintf(line + len, sizeof line - len - 1, fmt, ap);
	if (n < 0)
		return;
	len += strlen(line + len);
	/* One event, one line: a newline from a feed would forge a log entry. */
	for (char *p = line; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	line[len++] = '\n';
	while (write(STDERR_FILENO, line, len) < 0 && errno == EINTR)
		;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/* Shared by log_warn and fatal: the message, then ": strerror(errno)". */
static void log_verrno(enum log_level level, int saved, const char *fmt, va_list ap)
    PRINTFLIKE(3, 0);

static void
log_verrno(enum log_level level, int saved, const char *fmt, va_list ap)
{
	char msg[1536];

	vsnprintf(msg, sizeof msg, fmt, ap);
	log_msg(level, "%s: %s", msg, strerror(saved));
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_verrno(LOG_LVL_WARNING, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_WARNING, fmt, ap);
	va_end(ap);
}

void
log_notice(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_NOTICE, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_verrno(LOG_LVL_ERR, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
