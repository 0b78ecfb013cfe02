/* buf.c: a growable, NUL-terminated byte buffer with a cap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

void
buf_init(struct buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->size = 0;
	b->cap = cap;
}

/* Make room for `extra` more bytes plus the terminator; -1 past the cap. */
static int
buf_reserve(struct buf *b, size_t extra)
{
	size_t need, size;

	if (extra > SIZE_MAX - b->len - 1)
		return -1;
	if (b->cap != 0 && b->len + extra > b->cap)
		return -1;
	need = b->len + extra + 1;
	if (need <= b->size)
		return 0;
	size = b->size < 64 ? 64 : b->size;
	while (size < need)
		size = size > SIZE_MAX / 2 ? need : size * 2;
	b->data = xreallocarray(b->data, 1, size);
	b->size = size;
	return 0;
}

int
buf_add(struct buf *b, const void *data, size_t len)
{
	if (buf_reserve(b, len) != 0)
		return -1;
	if (len != 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof small)
		return buf_add(b, small, (size_t)n);
	if (buf_reserve(b, (size_t)n) != 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

char *
buf_steal(struct buf *b)
{
	char *p = b->data != NULL ? b->data : xstrdup("");

	b->data = NULL;
	b->len = 0;
	b->size = 0;
	return p;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->size = 0;
}

void
format_rfc3339(time_t t, char out[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "1970-01-01T00:00:00Z");
}

void
hash_hex(const char *const *parts, size_t n, char out[33])
{
	/* Two 64-bit FNV-1a lanes with different offset bases. */
	uint64_t h1 = 0xcbf29ce484222325ULL, h2 = 0x84222325cbf29ce4ULL;
	const uint64_t prime = 0x100000001b3ULL;

	for (size_t i = 0; i < n; i++) {
		const unsigned char *s = (const unsigned char *)(parts[i] != NULL ? parts[i] : "");

		for (; *s != '\0'; s++) {
			h1 = (h1 ^ *s) * prime;
			h2 = (h2 ^ *s) * prime;
			h2 ^= h2 >> 29;
		}
		h1 = (h1 ^ 0x1f) * prime;
		h2 = (h2 ^ 0x1f) * prime;
	}
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)h1, (unsigned long long)h2);
}
