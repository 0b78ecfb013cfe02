/*
 * date.c: the dates feeds carry, read strictly.
 *
 * Two readers: ISO 8601 (RFC 3339, W3CDTF, Atom, JSON Feed, dc:date) and
 * RFC 822/1123 with the manglings found in RSS (no day name, two-digit
 * years, long or abbreviated month and day names, missing seconds, named
 * and numeric zones, "+05:30", asctime order, RFC 850's dashes).  Every
 * field is validated: 31 February or 25:00 gives no date, never a wrong
 * one.  curl_getdate does not fit: it turns "31 Feb" into 3 March, reads
 * "GMT+1" as GMT, and refuses "+05:30" and "March".
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "feeds/date.h"

#define DATE_MAX 128 /* longer text is no date */

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

/* A validated civil date and time with its offset east of UTC; -1 when it is no date. */
static time_t
date_make(int y, int mo, int d, int h, int mi, int sec, long offset)
{
	if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > date_days_in_month(y, mo) ||
	    h < 0 || h > 24 || mi < 0 || mi > 59 || sec < 0 || sec > 60 ||
	    (h == 24 && (mi != 0 || sec != 0)))
		return -1;
	if (sec == 60)
		sec = 59; /* a leap second: the moment before is close enough */
	return (time_t)(date_days_from_civil(y, mo, d) * 86400LL + h * 3600LL + mi * 60LL + sec -
	    offset);
}

/*
 * Zone names with one meaning.  Ambiguous ones (BST, IST, CST outside the
 * US sense RFC 822 gives it) and the military letters, whose signs RFC 822
 * got backwards, are not here: a date in them is no date.
 */
static const struct {
	const char *name;
	int minutes; /* east of UTC */
} date_zones[] = {
	{"UT", 0}, {"UTC", 0}, {"GMT", 0}, {"Z", 0}, {"WET", 0},
	{"EST", -300}, {"EDT", -240}, {"CST", -360}, {"CDT", -300},
	{"MST", -420}, {"MDT", -360}, {"PST", -480}, {"PDT", -420},
	{"AKST", -540}, {"AKDT", -480}, {"HST", -600}, {"AST", -240}, {"ADT", -180},
	{"NST", -210}, {"NDT", -150}, {"BRT", -180}, {"ART", -180},
	{"CET", 60}, {"CEST", 120}, {"MET", 60}, {"MEST", 120}, {"WEST", 60},
	{"EET", 120}, {"EEST", 180}, {"MSK", 180}, {"SAST", 120},
	{"HKT", 480}, {"SGT", 480}, {"AWST", 480}, {"JST", 540}, {"KST", 540},
	{"ACST", 570}, {"ACDT", 630}, {"AEST", 600}, {"AEDT", 660},
	{"NZST", 720}, {"NZDT", 780},
};

static bool
date_zone_name(const char *s, size_t len, long *offset)
{
	for (size_t i = 0; i < sizeof date_zones / sizeof date_zones[0]; i++)
		if (strlen(date_zones[i].name) == len && strncasecmp(s, date_zones[i].name, len) == 0) {
			*offset = date_zones[i].minutes * 60L;
			return true;
		}
	return false;
}

/* "+hh:mm", "+hhmm", "+hh" at s (len bytes); offset in seconds east. */
static bool
date_zone_numeric(const char *s, size_t len, long *offset)
{
	int hh, mm = 0, sign;
	const char *p = s + 1;

	if (len < 3 || (s[0] != '+' && s[0] != '-'))
		return false;
	sign = s[0] == '-' ? -1 : 1;
	if (date_digits(&p, 2, &hh) != 0)
		return false;
	if (*p == ':')
		p++;
	if ((size_t)(p - s) < len && date_digits(&p, 2, &mm) != 0)
		return false;
	if ((size_t)(p - s) != len || hh > 23 || mm > 59)
		return false;
	*offset = sign * (hh * 3600L + mm * 60L);
	return true;
}

/* "+5", "-11": an offset in whole hours, as after "GMT". */
static bool
date_zone_hours(const char *s, size_t len, long *offset)
{
	int h = 0;

	if (len < 2 || len > 3 || (s[0] != '+' && s[0] != '-'))
		return false;
	for (size_t i = 1; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		h = h * 10 + (s[i] - '0');
	}
	if (h > 14)
		return false;
	*offset = (s[0] == '-' ? -1L : 1L) * h * 3600L;
	return true;
}

/* The zone at the end of an ISO date: "Z", "+hh:mm", "+hhmm", "+hh", a name, or nothing. */
static int
date_iso_zone(const char *s, long *offset)
{
	size_t len;

	while (*s == ' ')
		s++;
	len = strlen(s);
	*offset = 0;
	if (len == 0)
		return 0; /* no zone: UTC, which feeds almost always mean */
	if (date_zone_numeric(s, len, offset) || date_zone_name(s, len, offset))
		return 0;
	return -1;
}

/* ISO 8601 and its profiles; -2 when `s` does not look like one at all. */
static time_t
date_parse_iso(const char *s)
{
	int y, mo = 1, d = 1, h = 0, mi = 0, sec = 0;
	bool basic = false;
	long offset;

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
	} else if (isdigit((unsigned char)*s)) {
		/* the basic format: 20031231T101455Z */
		if (date_digits(&s, 2, &mo) != 0 || date_digits(&s, 2, &d) != 0)
			return -2;
		basic = true;
	} else if (*s != '\0')
		return -2;
	if (*s == 'T' || *s == 't' || (*s == ' ' && isdigit((unsigned char)s[1]))) {
		s++;
		if (date_digits(&s, 2, &h) != 0)
			return -1;
		if (!basic && *s++ != ':')
			return -1;
		if (date_digits(&s, 2, &mi) != 0)
			return -1;
		if ((basic && isdigit((unsigned char)*s)) || (!basic && *s == ':')) {
			s += !basic;
			if (date_digits(&s, 2, &sec) != 0)
				return -1;
		}
		if (*s == '.' || *s == ',')
			for (s++; isdigit((unsigned char)*s); s++)
				;
	}
	if (date_iso_zone(s, &offset) != 0)
		return -1;
	return date_make(y, mo, d, h, mi, sec, offset);
}

/* ---- RFC 822 and friends ---- */

static int
date_month(const char *w, size_t len)
{
	static const char *const months[] = {"january", "february", "march", "april", "may", "june",
		"july", "august", "september", "october", "november", "december"};

	if (len >= 3)
		for (int i = 0; i < 12; i++)
			if (strncasecmp(w, months[i], len) == 0 && len <= strlen(months[i]))
				return i + 1;
	if (len == 4 && strncasecmp(w, "sept", 4) == 0)
		return 9;
	return 0;
}

static bool
date_weekday(const char *w, size_t len)
{
	static const char *const days[] = {"sunday", "monday", "tuesday", "wednesday", "thursday",
		"friday", "saturday"};

	for (int i = 0; i < 7 && len >= 3; i++)
		if (strncasecmp(w, days[i], len) == 0 && len <= strlen(days[i]))
			return true;
	/* "Tues", "Thur", "Thurs" */
	return (len == 4 && strncasecmp(w, "tues", 4) == 0) ||
	       (len >= 4 && len <= 5 && strncasecmp(w, "thurs", len) == 0);
}

struct rfc822 {
	int day, month, year, h, mi, sec;
	bool have_time, have_zone, pm, am;
	long offset;
};

/* "hh:mm[:ss]" */
static bool
date_time(const char *w, size_t len, struct rfc822 *r)
{
	const char *p = w;

	if (r->have_time || date_digits(&p, len >= 2 && w[1] != ':' ? 2 : 1, &r->h) != 0 ||
	    *p++ != ':' || date_digits(&p, 2, &r->mi) != 0)
		return false;
	r->sec = 0;
	if (*p == ':' && (size_t)(p - w) < len) {
		p++;
		if (date_digits(&p, 2, &r->sec) != 0)
			return false;
		if (*p == '.' || *p == ',') /* fractions of a second */
			for (p++; (size_t)(p - w) < len && isdigit((unsigned char)*p); p++)
				;
	}
	r->have_time = true;
	return (size_t)(p - w) == len;
}

/* A number: the day first, then the year. */
static bool
date_number(const char *w, size_t len, struct rfc822 *r)
{
	int v = 0;

	if (len > 4)
		return false; /* no field has more digits (and more would overflow v) */
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (w[i] - '0');
	if (len == 4 && r->year == 0)
		r->year = v;
	else if (len <= 2 && r->day == 0)
		r->day = v;
	else if (len <= 3 && r->year == 0)
		/* RFC 2822 4.3: 00-49 are 2000-2049, 50-99 1950-1999; three digits add 1900 */
		r->year = len == 3 ? v + 1900 : v < 50 ? v + 2000 : v + 1900;
	else
		return false;
	return true;
}

/* One word of an RFC 822 date. */
static bool
date_word(const char *w, size_t len, struct rfc822 *r)
{
	long offset;

	if (isdigit((unsigned char)w[0])) {
		if (memchr(w, ':', len) != NULL)
			return date_time(w, len, r);
		for (size_t i = 0; i < len; i++)
			if (!isdigit((unsigned char)w[i]))
				return false;
		return date_number(w, len, r);
	}
	if (w[0] == '+' || w[0] == '-') {
		/* a numeric zone, or the offset of "GMT+1" (which may name the hour alone) */
		if (!date_zone_numeric(w, len, &offset) && !date_zone_hours(w, len, &offset))
			return false;
		if (r->have_zone && r->offset != 0)
			return false;
		r->offset = offset;
		r->have_zone = true;
		return true;
	}
	if (len == 2 && (strncasecmp(w, "am", 2) == 0 || strncasecmp(w, "pm", 2) == 0)) {
		r->pm = tolower((unsigned char)w[0]) == 'p';
		r->am = !r->pm;
		return r->have_time;
	}
	if (r->month == 0 && (r->month = date_month(w, len)) != 0)
		return true;
	if (date_weekday(w, len))
		return true;
	if (!r->have_zone && date_zone_name(w, len, &r->offset)) {
		r->have_zone = true;
		return true;
	}
	return false;
}

/* The zone name that ends just before s[i], if any ("GMT" in "GMT+1"). */
static bool
date_zone_before(const char *s, size_t i)
{
	size_t start = i;
	long offset;

	while (start > 0 && isalpha((unsigned char)s[start - 1]))
		start--;
	return start < i && date_zone_name(s + start, i - start, &offset);
}

/*
 * Whether s[i] separates words: blanks and commas; a period after a letter
 * ("Mar."); a dash between a letter and a letter or digit, or a digit and a
 * letter ("06-Nov-94"), unless it is the sign of "GMT-5".
 */
static bool
date_is_sep(const char *s, size_t i)
{
	char c = s[i], prev = ' ', next = s[i + 1];

	if (i > 0)
		prev = s[i - 1];

	if (c == ' ' || c == '\t' || c == ',')
		return true;
	if (c == '.')
		return isalpha((unsigned char)prev);
	if (c != '-' || i == 0)
		return false;
	if (isalpha((unsigned char)prev) && isdigit((unsigned char)next))
		return !date_zone_before(s, i);
	return (isalpha((unsigned char)prev) && isalpha((unsigned char)next)) ||
	       (isdigit((unsigned char)prev) && isalpha((unsigned char)next));
}

static time_t
date_parse_rfc822(const char *s)
{
	struct rfc822 r;
	size_t i = 0, n = strlen(s);

	memset(&r, 0, sizeof r);
	while (i < n) {
		size_t start;

		if (date_is_sep(s, i)) {
			i++;
			continue;
		}
		if (s[i] == '(') { /* a comment: "-0800 (PST)" */
			while (i < n && s[i] != ')')
				i++;
			i += i < n;
			continue;
		}
		start = i++;
		/* a word ends at a separator, or where "GMT" meets its "+1" */
		while (i < n && !date_is_sep(s, i) && s[i] != '(' &&
		    !((s[i] == '+' || s[i] == '-') && isalpha((unsigned char)s[i - 1])))
			i++;
		if (!date_word(s + start, i - start, &r))
			return -1;
	}
	if (r.day == 0 || r.month == 0 || r.year == 0)
		return -1;
	if (r.am || r.pm) {
		if (r.h < 1 || r.h > 12)
			return -1;
		r.h = r.h % 12 + (r.pm ? 12 : 0);
	}
	return date_make(r.year, r.month, r.day, r.h, r.mi, r.sec, r.offset);
}

time_t
date_parse(const char *s)
{
	char text[DATE_MAX];
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
	if ((t = date_parse_iso(text)) == -2)
		t = date_parse_rfc822(text);
	return t <= 0 ? -1 : t;
}
