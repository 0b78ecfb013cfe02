/*
 * gencorpus.c: feedmux-gencorpus, a seeded generator of realistic feed
 * corpora for the benchmarks.
 *
 *	feedmux-gencorpus [-s SEED] [-b BYTES | -n FILES] [-f FORMATS] DIR
 *
 * Writes feed files into DIR (which must exist): RSS 2.0, Atom 1.0, RSS 1.0
 * (RDF) and JSON Feed 1.1, as feeds look in the wild: 10 to 60 items; titles
 * of a few words; summaries of a few sentences; full-text HTML content of 2
 * to 25 KB (paragraphs, links, images, lists, quotes, entities, CDATA or
 * escaped); authors, categories, some podcast enclosures; text in English,
 * German, French, Russian, Greek, Japanese, Chinese and Arabic, mostly UTF-8
 * and some ISO-8859-1, Windows-1252 and KOI8-R.  The same seed always gives
 * the same files.  Prints "files N bytes N items N" when done.
 *
 *	-s SEED     the seed (default 1)
 *	-b BYTES    stop once this many bytes are written (K, M, G suffixes;
 *	            default 100M)
 *	-n FILES    write this many files instead
 *	-f FORMATS  comma-separated subset of rss,atom,rdf,json (default all)
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

enum format { FMT_RSS, FMT_ATOM, FMT_RDF, FMT_JSON, FMT_COUNT };

static const char *const format_names[] = {"rss", "atom", "rdf", "json"};

/* ---- a small, seeded PRNG (splitmix64): the same seed, the same corpus ---- */

static uint64_t rng_state;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static unsigned
rng_range(unsigned lo, unsigned hi)
{
	return lo + (unsigned)(rng() % (uint64_t)(hi - lo + 1));
}

static const char *
rng_pick(const char *const *list, size_t n)
{
	return list[rng() % n];
}

#define PICK(list) rng_pick((list), sizeof(list) / sizeof((list)[0]))

/* ---- languages ---- */

struct lang {
	const char *code;
	const char *charset; /* the encoding some feeds in it use instead of UTF-8, or NULL */
	const char *const *words;
	size_t nwords;
	const char *space; /* between words */
	unsigned weight;   /* how many feeds in 100 are in it */
};

static const char *const words_en[] = {"the", "of", "and", "a", "to", "in", "is", "that",
	"for", "it", "with", "as", "was", "on", "be", "at", "by", "this", "from", "or", "have",
	"an", "they", "which", "one", "you", "were", "all", "we", "when", "your", "can", "said",
	"there", "use", "each", "how", "their", "will", "other", "about", "many", "then",
	"them", "these", "so", "some", "would", "make", "like", "into", "time", "has", "look",
	"two", "more", "write", "see", "number", "way", "could", "people", "than", "first",
	"water", "been", "call", "who", "now", "find", "long", "down", "day", "did", "get",
	"come", "made", "may", "part", "kernel", "release", "security", "update", "network",
	"database", "server", "browser", "research", "market", "climate", "election", "team",
	"report", "software", "feature", "performance", "developer", "open", "source",
	"community", "government", "science", "energy", "policy", "museum", "city", "weather"};
static const char *const words_de[] = {"der", "die", "und", "in", "den", "von", "zu", "das",
	"mit", "sich", "des", "auf", "für", "ist", "im", "dem", "nicht", "ein", "eine", "als",
	"auch", "es", "an", "werden", "aus", "er", "hat", "dass", "sie", "nach", "wird", "bei",
	"einer", "um", "am", "sind", "noch", "wie", "über", "Straße", "Größe", "Bürger",
	"Gemeinde", "Regierung", "Forschung", "Wetter", "Zürich", "München", "Köln", "schön",
	"Grüße", "Äpfel", "Öffentlichkeit", "Übersetzung", "Entwicklung", "Sicherheit"};
static const char *const words_fr[] = {"le", "de", "un", "être", "et", "à", "il", "avoir",
	"ne", "je", "son", "que", "se", "qui", "ce", "dans", "en", "du", "elle", "au", "pour",
	"pas", "vous", "par", "sur", "faire", "plus", "dire", "me", "on", "mon", "lui", "nous",
	"comme", "mais", "pouvoir", "avec", "tout", "y", "aller", "voir", "café", "élection",
	"été", "hôpital", "forêt", "théâtre", "naïve", "Noël", "garçon", "façade", "cœur",
	"économie", "développement", "sécurité", "société", "recherche", "météo"};
static const char *const words_ru[] = {"и", "в", "не", "на", "я", "быть", "он", "с", "что",
	"а", "по", "это", "она", "этот", "к", "но", "они", "мы", "как", "из", "у", "который",
	"то", "за", "свой", "весь", "год", "от", "так", "о", "для", "ты", "же", "все", "тот",
	"мочь", "вы", "человек", "такой", "его", "сказать", "только", "или", "Москва",
	"новости", "правительство", "выборы", "погода", "исследование", "безопасность",
	"разработка", "сервер", "обновление", "город", "музей"};
static const char *const words_el[] = {"και", "το", "να", "η", "της", "ο", "σε", "με", "τα",
	"του", "που", "για", "τον", "από", "την", "είναι", "οι", "θα", "στο", "δεν", "ειδήσεις",
	"κυβέρνηση", "έρευνα", "καιρός", "Αθήνα", "ασφάλεια", "ανάπτυξη", "πόλη"};
static const char *const words_ja[] = {"日本", "東京", "ニュース", "政府", "選挙", "天気",
	"研究", "安全", "開発", "サーバー", "更新", "市場", "経済", "技術", "社会", "文化", "の",
	"は", "が", "を", "に", "で", "と", "も", "から", "まで", "する", "した", "です", "ます",
	"発表", "記者", "会見", "大学", "病院", "地震", "鉄道", "観光"};
static const char *const words_zh[] = {"新闻", "政府", "经济", "市场", "研究", "技术", "北京",
	"上海", "中国", "发展", "安全", "天气", "城市", "社会", "文化", "的", "是", "在", "了",
	"和", "有", "我们", "他们", "这个", "一个", "报道", "记者", "大学", "医院", "服务器"};
static const char *const words_ar[] = {"في", "من", "على", "إلى", "أن", "عن", "مع", "هذا",
	"التي", "الذي", "أخبار", "الحكومة", "الاقتصاد", "السوق", "البحث", "التقنية", "المدينة",
	"الطقس", "الأمن", "التنمية", "القاهرة", "بيروت", "الجامعة", "المستشفى"};

#define WORDS(w) (w), sizeof(w) / sizeof((w)[0])

static const struct lang langs[] = {
	{"en", "windows-1252", WORDS(words_en), " ", 50},
	{"de", "iso-8859-1", WORDS(words_de), " ", 10},
	{"fr", "iso-8859-1", WORDS(words_fr), " ", 8},
	{"ru", "koi8-r", WORDS(words_ru), " ", 10},
	{"el", NULL, WORDS(words_el), " ", 3},
	{"ja", NULL, WORDS(words_ja), "", 9},
	{"zh", NULL, WORDS(words_zh), "", 6},
	{"ar", NULL, WORDS(words_ar), " ", 4},
};

static const struct lang *
pick_lang(void)
{
	unsigned r = rng_range(1, 100), acc = 0;

	for (size_t i = 0; i < sizeof langs / sizeof langs[0]; i++)
		if (r <= (acc += langs[i].weight))
			return &langs[i];
	return &langs[0];
}

/* ---- text ---- */

/* `n` words of `lang`, as plain text, appended to `b`. */
static void
words(struct buf *b, const struct lang *lang, unsigned n, bool capital)
{
	for (unsigned i = 0; i < n; i++) {
		const char *w = lang->words[rng() % lang->nwords];

		if (i > 0)
			buf_adds(b, lang->space);
		if (i == 0 && capital && w[0] >= 'a' && w[0] <= 'z') {
			buf_addc(b, (char)(w[0] - 'a' + 'A'));
			buf_adds(b, w + 1);
		} else
			buf_adds(b, w);
	}
}

static void
sentence(struct buf *b, const struct lang *lang)
{
	words(b, lang, rng_range(6, 22), true);
	buf_adds(b, rng_range(0, 9) == 0 ? "?" : ".");
}

static const char *const hosts[] = {"news.example.com", "blog.example.org", "lwn.example.net",
	"journal.example.de", "actu.example.fr", "novosti.example.ru", "nikkei.example.jp",
	"xinwen.example.cn", "akhbar.example.eg", "podcast.example.io", "dev.example.dev",
	"science.example.edu"};

/* An HTML paragraph with inline markup, links and the odd entity. */
static void
html_paragraph(struct buf *b, const struct lang *lang, const char *host)
{
	unsigned n = rng_range(2, 7);

	buf_adds(b, "<p>");
	for (unsigned i = 0; i < n; i++) {
		unsigned kind = rng_range(0, 19);

		if (i > 0)
			buf_adds(b, lang->space[0] != '\0' ? " " : "");
		if (kind == 0) {
			buf_addf(b, "<a href=\"https://%s/%u/%u/%s\">", rng_range(0, 3) == 0 ? PICK(hosts) :
			    host, rng_range(2015, 2025), rng_range(1, 12), "story");
			words(b, lang, rng_range(2, 5), false);
			buf_adds(b, "</a>");
		} else if (kind == 1) {
			buf_adds(b, "<strong>");
			words(b, lang, rng_range(1, 4), false);
			buf_adds(b, "</strong>");
		} else if (kind == 2) {
			buf_adds(b, "<em>");
			words(b, lang, rng_range(1, 3), false);
			buf_adds(b, "</em>");
		} else if (kind == 3)
			buf_adds(b, rng_range(0, 1) ? "&amp; " : "&quot;");
		sentence(b, lang);
	}
	buf_adds(b, "</p>\n");
}

/* A full article: paragraphs, headings, images, lists, quotes, code. */
static void
html_article(struct buf *b, const struct lang *lang, const char *host, size_t target)
{
	size_t start = b->len;

	while (b->len - start < target) {
		unsigned kind = rng_range(0, 15);

		if (kind == 0) {
			buf_adds(b, "<h2>");
			words(b, lang, rng_range(2, 6), true);
			buf_adds(b, "</h2>\n");
		} else if (kind == 1)
			buf_addf(b, "<figure><img src=\"/images/%u/%08x.jpg\" alt=\"photo\" width=\"%u\" "
				    "height=\"%u\" loading=\"lazy\"><figcaption>",
			    rng_range(2015, 2025), (unsigned)rng(), rng_range(400, 1600),
			    rng_range(300, 900)),
			    words(b, lang, rng_range(3, 9), true), buf_adds(b, "</figcaption></figure>\n");
		else if (kind == 2) {
			unsigned n = rng_range(2, 6);

			buf_adds(b, "<ul>\n");
			for (unsigned i = 0; i < n; i++) {
				buf_adds(b, "<li>");
				words(b, lang, rng_range(3, 12), true);
				buf_adds(b, "</li>\n");
			}
			buf_adds(b, "</ul>\n");
		} else if (kind == 3) {
			buf_adds(b, "<blockquote>");
			sentence(b, lang);
			buf_adds(b, "</blockquote>\n");
		} else if (kind == 4)
			buf_adds(b, "<pre><code>if (n &lt; 0 &amp;&amp; errno == EINTR)\n\tcontinue;</code></pre>\n");
		else
			html_paragraph(b, lang, host);
	}
}

/* ---- escaping ---- */

static void
xml_escape(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': buf_adds(out, "&amp;"); break;
		case '<': buf_adds(out, "&lt;"); break;
		case '>': buf_adds(out, "&gt;"); break;
		case '"': buf_adds(out, "&quot;"); break;
		default: buf_addc(out, *s); break;
		}
	}
}

static void
json_escape(struct buf *out, const char *s)
{
	buf_addc(out, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_addf(out, "\\%c", *s);
		else if (*s == '\n')
			buf_adds(out, "\\n");
		else if (*s == '\t')
			buf_adds(out, "\\t");
		else if ((unsigned char)*s < 0x20)
			buf_addf(out, "\\u%04x", (unsigned)*s);
		else
			buf_addc(out, *s);
	}
	buf_addc(out, '"');
}

/* HTML into an XML element: in CDATA, or escaped, as feeds do both. */
static void
xml_html(struct buf *out, const char *html, bool cdata)
{
	if (cdata && strstr(html, "]]>") == NULL) {
		buf_adds(out, "<![CDATA[");
		buf_adds(out, html);
		buf_adds(out, "]]>");
	} else
		xml_escape(out, html);
}

/* ---- one item, in every format ---- */

struct story {
	char title[512];
	char link[256];
	char guid[128];
	char author[64];
	char categories[4][64];
	unsigned ncategories;
	time_t date;
	struct buf summary, content;
	bool enclosure;
	unsigned enclosure_length;
};

static void
story_make(struct story *s, const struct lang *lang, const char *host, time_t date)
{
	struct buf t;
	size_t target;

	buf_init(&t, 0);
	words(&t, lang, rng_range(4, 14), true);
	snprintf(s->title, sizeof s->title, "%s", t.data);
	buf_free(&t);
	snprintf(s->link, sizeof s->link, "https://%s/%u/%02u/%08x-%s", host, rng_range(2015, 2025),
	    rng_range(1, 12), (unsigned)rng(), "story");
	snprintf(s->guid, sizeof s->guid, "tag:%s,2025:%016llx", host, (unsigned long long)rng());
	buf_init(&t, 0);
	words(&t, lang, 2, true);
	snprintf(s->author, sizeof s->author, "%s", t.data);
	buf_free(&t);
	s->ncategories = rng_range(0, 4);
	for (unsigned i = 0; i < s->ncategories; i++) {
		buf_init(&t, 0);
		words(&t, lang, rng_range(1, 2), false);
		snprintf(s->categories[i], sizeof s->categories[i], "%s", t.data);
		buf_free(&t);
	}
	s->date = date;
	buf_init(&s->summary, 0);
	buf_init(&s->content, 0);
	html_paragraph(&s->summary, lang, host);
	/* full text most of the time; its size is long-tailed, as articles are */
	target = rng_range(0, 9) < 8 ? rng_range(2000, 8000) : rng_range(8000, 25000);
	if (rng_range(0, 9) < 8)
		html_article(&s->content, lang, host, target);
	s->enclosure = rng_range(0, 9) == 0;
	s->enclosure_length = rng_range(1000000, 90000000);
}

static void
story_free(struct story *s)
{
	buf_free(&s->summary);
	buf_free(&s->content);
}

static void
rfc822(char *out, size_t len, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* An RSS (2.0 or 1.0) item's summary and full text. */
static void
rss_text(struct buf *b, const struct story *s)
{
	buf_adds(b, "<description>");
	xml_html(b, s->summary.data, false);
	buf_adds(b, "</description>\n");
	if (s->content.len > 0) {
		buf_adds(b, "<content:encoded>");
		xml_html(b, s->content.data, true);
		buf_adds(b, "</content:encoded>\n");
	}
}

static void
rss_item(struct buf *b, const struct story *s)
{
	char date[64];

	rfc822(date, sizeof date, s->date);
	buf_adds(b, "<item>\n<title>");
	xml_escape(b, s->title);
	buf_addf(b, "</title>\n<link>%s</link>\n<guid isPermaLink=\"false\">%s</guid>\n"
		    "<pubDate>%s</pubDate>\n<dc:creator>",
	    s->link, s->guid, date);
	xml_escape(b, s->author);
	buf_adds(b, "</dc:creator>\n");
	for (unsigned i = 0; i < s->ncategories; i++) {
		buf_adds(b, "<category>");
		xml_escape(b, s->categories[i]);
		buf_adds(b, "</category>\n");
	}
	rss_text(b, s);
	if (s->enclosure)
		buf_addf(b, "<enclosure url=\"%s.mp3\" length=\"%u\" type=\"audio/mpeg\"/>\n", s->link,
		    s->enclosure_length);
	buf_adds(b, "</item>\n");
}

static void
atom_entry(struct buf *b, const struct story *s)
{
	char date[32];

	format_rfc3339(s->date, date);
	buf_adds(b, "<entry>\n<title type=\"html\">");
	xml_escape(b, s->title);
	buf_addf(b, "</title>\n<link rel=\"alternate\" type=\"text/html\" href=\"%s\"/>\n"
		    "<id>%s</id>\n<published>%s</published>\n<updated>%s</updated>\n"
		    "<author><name>",
	    s->link, s->guid, date, date);
	xml_escape(b, s->author);
	buf_adds(b, "</name></author>\n");
	for (unsigned i = 0; i < s->ncategories; i++) {
		buf_adds(b, "<category term=\"");
		xml_escape(b, s->categories[i]);
		buf_adds(b, "\"/>\n");
	}
	if (s->enclosure)
		buf_addf(b, "<link rel=\"enclosure\" type=\"audio/mpeg\" length=\"%u\" href=\"%s.mp3\"/>\n",
		    s->enclosure_length, s->link);
	buf_adds(b, "<summary type=\"html\">");
	xml_html(b, s->summary.data, false);
	buf_adds(b, "</summary>\n");
	if (s->content.len > 0) {
		buf_adds(b, "<content type=\"html\">");
		xml_html(b, s->content.data, rng_range(0, 1) == 0);
		buf_adds(b, "</content>\n");
	}
	buf_adds(b, "</entry>\n");
}

static void
rdf_item(struct buf *b, const struct story *s)
{
	char date[32];

	format_rfc3339(s->date, date);
	buf_addf(b, "<item rdf:about=\"%s\">\n<title>", s->link);
	xml_escape(b, s->title);
	buf_addf(b, "</title>\n<link>%s</link>\n<dc:date>%s</dc:date>\n<dc:creator>", s->link, date);
	xml_escape(b, s->author);
	buf_adds(b, "</dc:creator>\n");
	rss_text(b, s);
	buf_adds(b, "</item>\n");
}

static void
json_item(struct buf *b, const struct story *s, bool first)
{
	char date[32];

	format_rfc3339(s->date, date);
	buf_addf(b, "%s\n    {\"id\": ", first ? "" : ",");
	json_escape(b, s->guid);
	buf_addf(b, ", \"url\": \"%s\", \"title\": ", s->link);
	json_escape(b, s->title);
	buf_addf(b, ",\n     \"date_published\": \"%s\", \"authors\": [{\"name\": ", date);
	json_escape(b, s->author);
	buf_adds(b, "}],\n     \"summary\": ");
	json_escape(b, s->summary.data);
	if (s->content.len > 0) {
		buf_adds(b, ",\n     \"content_html\": ");
		json_escape(b, s->content.data);
	} else {
		buf_adds(b, ",\n     \"content_text\": ");
		json_escape(b, s->summary.data);
	}
	if (s->ncategories > 0) {
		buf_adds(b, ",\n     \"tags\": [");
		for (unsigned i = 0; i < s->ncategories; i++) {
			buf_adds(b, i > 0 ? ", " : "");
			json_escape(b, s->categories[i]);
		}
		buf_adds(b, "]");
	}
	if (s->enclosure)
		buf_addf(b, ",\n     \"attachments\": [{\"url\": \"%s.mp3\", \"mime_type\": "
			    "\"audio/mpeg\", \"size_in_bytes\": %u}]",
		    s->link, s->enclosure_length);
	buf_adds(b, "}");
}

/* ---- one feed ---- */

static void
feed_head(struct buf *b, enum format fmt, const struct lang *lang, const char *host,
    const char *charset, const char *title, time_t now)
{
	char date[64];

	switch (fmt) {
	case FMT_RSS:
		rfc822(date, sizeof date, now);
		buf_addf(b, "<?xml version=\"1.0\" encoding=\"%s\"?>\n<rss version=\"2.0\" "
			    "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" "
			    "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
			    "xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n<title>",
		    charset);
		xml_escape(b, title);
		buf_addf(b, "</title>\n<link>https://%s/</link>\n<description>", host);
		words(b, lang, 8, true);
		buf_addf(b, "</description>\n<language>%s</language>\n<lastBuildDate>%s</lastBuildDate>\n"
			    "<atom:link rel=\"self\" href=\"https://%s/feed.xml\"/>\n<ttl>60</ttl>\n",
		    lang->code, date, host);
		break;
	case FMT_ATOM:
		format_rfc3339(now, date);
		buf_addf(b, "<?xml version=\"1.0\" encoding=\"%s\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" "
			    "xml:lang=\"%s\">\n<title>",
		    charset, lang->code);
		xml_escape(b, title);
		buf_addf(b, "</title>\n<link href=\"https://%s/\"/>\n<link rel=\"self\" "
			    "href=\"https://%s/atom.xml\"/>\n<id>https://%s/</id>\n<updated>%s</updated>\n",
		    host, host, host, date);
		break;
	case FMT_RDF:
		buf_addf(b, "<?xml version=\"1.0\" encoding=\"%s\"?>\n<rdf:RDF "
			    "xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" "
			    "xmlns=\"http://purl.org/rss/1.0/\" "
			    "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" "
			    "xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
			    "<channel rdf:about=\"https://%s/index.rdf\">\n<title>",
		    charset, host);
		xml_escape(b, title);
		buf_addf(b, "</title>\n<link>https://%s/</link>\n<description>", host);
		words(b, lang, 8, true);
		buf_adds(b, "</description>\n</channel>\n");
		break;
	case FMT_JSON:
		buf_adds(b, "{\n  \"version\": \"https://jsonfeed.org/version/1.1\",\n  \"title\": ");
		json_escape(b, title);
		buf_addf(b, ",\n  \"home_page_url\": \"https://%s/\",\n  \"feed_url\": "
			    "\"https://%s/feed.json\",\n  \"language\": \"%s\",\n  \"items\": [",
		    host, host, lang->code);
		break;
	default: break;
	}
}

static void
feed_tail(struct buf *b, enum format fmt)
{
	static const char *const tails[] = {"</channel>\n</rss>\n", "</feed>\n", "</rdf:RDF>\n",
		"\n  ]\n}\n"};

	buf_adds(b, tails[fmt]);
}

/* `b` converted from UTF-8 to `charset` (what it cannot hold is dropped); false on failure. */
static bool
feed_recode(struct buf *b, const char *charset)
{
	char to[64];
	iconv_t cd;
	struct buf out;
	char *in = b->data;
	size_t inleft = b->len;

	snprintf(to, sizeof to, "%s//TRANSLIT//IGNORE", charset);
	if ((intptr_t)(cd = iconv_open(to, "UTF-8")) == -1)
		return false;
	buf_init(&out, 0);
	while (inleft > 0) {
		char chunk[65536], *o = chunk;
		size_t oleft = sizeof chunk;

		if (iconv(cd, &in, &inleft, &o, &oleft) == (size_t)-1 && errno != E2BIG &&
		    errno != EILSEQ) {
			buf_free(&out);
			iconv_close(cd);
			return false;
		}
		buf_add(&out, chunk, sizeof chunk - oleft);
		if (errno == EILSEQ && inleft > 0 && o == chunk)
			in++, inleft--; /* not even //IGNORE would: skip the byte */
	}
	iconv_close(cd);
	buf_free(b);
	*b = out;
	return true;
}

/* One feed file; returns its size, adds its items to *items. */
static size_t
feed_write(const char *dir, unsigned index, enum format fmt, unsigned long *items)
{
	const struct lang *lang = pick_lang();
	const char *host = PICK(hosts);
	/* most feeds are UTF-8; some of those with a legacy encoding use it */
	const char *charset = fmt != FMT_JSON && lang->charset != NULL && rng_range(0, 9) == 0 ?
				  lang->charset : "utf-8";
	unsigned n = rng_range(0, 4) == 0 ? rng_range(40, 60) : rng_range(10, 30);
	time_t now = (time_t)1740000000 + (time_t)rng_range(0, 30000000);
	struct buf b, title;
	char path[4096];
	FILE *f;

	buf_init(&b, 0);
	buf_init(&title, 0);
	words(&title, lang, rng_range(2, 5), true);
	feed_head(&b, fmt, lang, host, charset, title.data, now);
	for (unsigned i = 0; i < n; i++) {
		struct story s = {0};

		story_make(&s, lang, host, now - (time_t)i * rng_range(600, 86400));
		switch (fmt) {
		case FMT_RSS: rss_item(&b, &s); break;
		case FMT_ATOM: atom_entry(&b, &s); break;
		case FMT_RDF: rdf_item(&b, &s); break;
		default: json_item(&b, &s, i == 0); break;
		}
		story_free(&s);
	}
	feed_tail(&b, fmt);
	if (strcmp(charset, "utf-8") != 0 && !feed_recode(&b, charset))
		fatalx("cannot recode a feed to %s", charset);
	snprintf(path, sizeof path, "%s/feed-%05u.%s", dir, index, fmt == FMT_JSON ? "json" : "xml");
	if ((f = fopen(path, "w")) == NULL || fwrite(b.data, 1, b.len, f) != b.len ||
	    fclose(f) != 0)
		fatal("%s", path);
	*items += n;
	n = (unsigned)b.len;
	buf_free(&b);
	buf_free(&title);
	return n;
}

static unsigned long long
parse_size(const char *s)
{
	static const char units[] = "KMG";
	char *end;
	unsigned long long n = strtoull(s, &end, 10);
	const char *unit = *end != '\0' ? strchr(units, toupper((unsigned char)*end)) : NULL;

	if (unit != NULL) {
		for (const char *u = units; u <= unit; u++)
			n *= 1024;
		end++;
	}
	if (*end != '\0' || n == 0)
		fatalx("bad size: %s", s);
	return n;
}

static void
usage(void)
{
	fprintf(stderr, "usage: feedmux-gencorpus [-s SEED] [-b BYTES | -n FILES] "
			"[-f rss,atom,rdf,json] DIR\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	unsigned long long bytes = 100ULL * 1024 * 1024, total = 0, seed = 1;
	unsigned long files = 0, items = 0, nfiles = 0;
	bool use[FMT_COUNT] = {true, true, true, true};
	enum format formats[FMT_COUNT];
	size_t nformats = 0;
	int c;

	log_init("feedmux-gencorpus");
	while ((c = getopt(argc, argv, "s:b:n:f:")) != -1) {
		switch (c) {
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'b': bytes = parse_size(optarg); break;
		case 'n': files = strtoul(optarg, NULL, 10); break;
		case 'f':
			memset(use, 0, sizeof use);
			for (char *t = strtok(optarg, ","); t != NULL; t = strtok(NULL, ",")) {
				size_t i;

				for (i = 0; i < FMT_COUNT && strcmp(t, format_names[i]) != 0; i++)
					;
				if (i == FMT_COUNT)
					usage();
				use[i] = true;
			}
			break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();
	for (int i = 0; i < FMT_COUNT; i++)
		if (use[i])
			formats[nformats++] = (enum format)i;
	rng_state = seed;
	while (files > 0 ? nfiles < files : total < bytes) {
		/* RSS is most of the web's feeds; Atom next; RDF and JSON Feed fewer */
		unsigned r = rng_range(0, 99);
		enum format fmt = nformats == FMT_COUNT ?
				      (r < 45 ? FMT_RSS : r < 75 ? FMT_ATOM : r < 85 ? FMT_RDF : FMT_JSON) :
				      formats[r % nformats];

		total += feed_write(argv[optind], (unsigned)++nfiles, fmt, &items);
	}
	printf("files %lu bytes %llu items %lu\n", nfiles, total, items);
	return 0;
}
