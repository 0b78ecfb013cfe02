/*
 * date: reading the dates feeds carry.
 */
#ifndef FEEDMUX_DATE_H
#define FEEDMUX_DATE_H

#include <time.h>

/*
 * Parse an RFC 3339 / ISO 8601 / W3CDTF date, or an RFC 822 / 1123 date
 * (through curl_getdate).  Returns UTC seconds, or -1 when the text cannot be
 * read: a date we cannot read gives no date, never a wrong one.
 */
time_t date_parse(const char *s);

#endif
