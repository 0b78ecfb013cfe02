/*
 * urlnorm: the key that says two links name the same story.
 *
 * Feeds link to one article in many spellings: upper-case hosts, explicit
 * default ports, #fragments, utm_* and other tracking parameters, query
 * parameters in any order.  urlnorm_story_key folds them into one string;
 * storage compares these keys to show a story carried by several feeds once.
 */
#ifndef FEEDMUX_URLNORM_H
#define FEEDMUX_URLNORM_H

/*
 * The normal form of an http or https `link` (a new string the caller frees),
 * or NULL when `link` is not an absolute http(s) URL: such links never merge.
 * Scheme and host lower-case, the default port dropped, the fragment and
 * tracking parameters (utm_*, fbclid, gclid, ...) removed, the remaining
 * query parameters sorted.
 */
char *urlnorm_story_key(const char *link);

#endif
