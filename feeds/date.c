/* date.c: RFC 3339 here, RFC 822 and friends through curl_getdate. */
#include <ctype.h>
#include <string.h>

#include <curl/curl.h>

#include "feeds/date.h"

/* Read exactly `n` digits at *s into *out; advance *s. */
static int
date_digits(const char **s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return -1;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return 0;
}

static int
date_days_in_month(int year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

/* Days from 1970-01-01 to the given civil date (proleptic Gregorian). */
static long long
date_days_from_civil(int y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The zone at *s: "Z", "+hh:mm", "+hhmm", "+hh", or nothing (UTC). Offset in seconds east. */
static int
date_zone(const char *s, long *offset)
{
	int hh = 0, mm = 0, sign;

	while (*s == ' ')
		s++;
	if (*s == '\0' || ((*s == 'Z' || *s == 'z') && s[1] == '\0')) {
		*offset = 0;
		return 0;
	}
	if (*s != '+' && *s != '-')
		return -1;
	sign = *s++ == '-' ? -1 : 1;
	if (date_digits(&s, 2, &hh) != 0)
		return -1;
	if (*s == ':')
		s++;
	if (*s != '\0' && date_digits(&s, 2, &mm) != 0)
		return -1;
	if (*s != '\0' || hh > 23 || mm > 59)
		return -1;
	*offset = sign * (hh * 3600L + mm * 60L);
	return 0;
}

/* RFC 3339 and the W3CDTF subset of ISO 8601; -2 when `s` does not look like one. */
static time_t
date_parse_iso(const char *s)
{
	int y, mo = 1, d = 1, h = 0, mi = 0, sec = 0;
	long offset = 0;

	if (date_digits(&s, 4, &y) != 0)
		return -2;
	if (*s == '-') {
		s++;
		if (date_digits(&s, 2, &mo) != 0)
			return -2;
		if (*s == '-') {
			s++;
			if (date_digits(&s, 2, &d) != 0)
				return -1;
		}
	} else if (*s != '\0')
		return -2;
	if (*s == 'T' || *s == 't' || (*s == ' ' && isdigit((unsigned char)s[1]))) {
		s++;
		if (date_digits(&s, 2, &h) != 0 || *s++ != ':' || date_digits(&s, 2, &mi) != 0)
			return -1;
		if (*s == ':') {
			s++;
			if (date_digits(&s, 2, &sec) != 0)
				return -1;
			if (*s == '.' || *s == ',')
				for (s++; isdigit((unsigned char)*s); s++)
					;
		}
	}
	if (date_zone(s, &offset) != 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > date_days_in_month(y, mo) || h > 24 || mi > 59 ||
	    sec > 60 || (h == 24 && (mi != 0 || sec != 0)))
		return -1;
	if (sec == 60)
		sec = 59; /* a leap second: the moment before is close enough */
	return (time_t)(date_days_from_civil(y, mo, d) * 86400LL + h * 3600LL + mi * 60LL + sec -
	    offset);
}

time_t
date_parse(const char *s)
{
	char text[128];
	size_t len;
	time_t t;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0 || len >= sizeof text)
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	t = date_parse_iso(text);
	if (t == -2)
		t = curl_getdate(text, NULL);
	return t <= 0 ? -1 : t;
}
