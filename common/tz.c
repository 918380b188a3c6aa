/*
 * tz.c - IANA time zones from TZif files (RFC 8536), without touching TZ.
 *
 * A zone is its list of transitions (instant -> offset from UTC) and, for
 * instants after the last one, the POSIX TZ rule of the file's footer
 * ("CST-8", "EST5EDT,M3.2.0,M11.1.0"). Civil dates go through gmtime_r and
 * timegm, which never consult TZ.
 */
#include "tz.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"

/* Bigger than any zone file (the largest are about 4 KiB). */
#define TZ_FILE_MAX (64 * 1024)

/* A date of a POSIX TZ rule, and the local time of day it takes effect. */
struct rule_date {
	char kind; /* 'J': Julian day 1..365, no Feb 29; 'D': day 0..365; 'M': month.week.day */
	int day;   /* J, D: the day; M: the weekday 0 (Sunday)..6 */
	int month; /* M: 1..12 */
	int week;  /* M: 1..5, 5 = the last */
	int time;  /* seconds after local midnight, -167 h..167 h (RFC 8536 §3.3.1) */
};

/* The footer rule: standard time, and daylight time between two dates. */
struct rule {
	int std_off, dst_off; /* seconds east of UTC */
	bool has_dst;
	struct rule_date start, end;
};

struct tz {
	char name[TZ_NAME_MAX];
	size_t n;          /* transitions */
	int64_t *at;       /* their instants, strictly ascending */
	int32_t *off;      /* the offset from each transition on */
	int32_t first_off; /* before the first transition: time type 0 */
	bool has_rule;     /* the footer rule applies after the last transition */
	struct rule rule;
};

static const struct tz utc_zone = {.name = "UTC"};

const struct tz *tz_utc(void)
{
	return &utc_zone;
}

void tz_free(struct tz *z)
{
	if (z == NULL)
		return;
	free(z->at);
	free(z->off);
	free(z);
}

const char *tz_name(const struct tz *z)
{
	return z->name;
}

/* ---- POSIX TZ rules ------------------------------------------------------ */

/* A zone abbreviation: three or more letters, or <...> of letters, digits, + and -. */
static const char *parse_abbr(const char *s)
{
	const char *p = s;

	if (*p == '<') {
		for (p++; isalnum((unsigned char)*p) || *p == '+' || *p == '-'; p++)
			;
		return *p == '>' && p - s >= 4 ? p + 1 : NULL;
	}
	while (isalpha((unsigned char)*p))
		p++;
	return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] with hh up to max_hours, as seconds; NULL when malformed. */
static const char *parse_hms(const char *s, int max_hours, int *out)
{
	int sign = 1, part[3] = {0, 0, 0}, n = 0;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	for (;;) {
		int v = 0, digits = 0;
		while (isdigit((unsigned char)*s) && digits < 3) {
			v = v * 10 + (*s++ - '0');
			digits++;
		}
		if (digits == 0 || (n == 0 ? v > max_hours : v > 59))
			return NULL;
		part[n++] = v;
		if (n == 3 || *s != ':')
			break;
		s++;
	}
	*out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	return s;
}

static const char *parse_number(const char *s, int lo, int hi, int *out)
{
	int v = 0, digits = 0;

	while (isdigit((unsigned char)*s) && digits < 3) {
		v = v * 10 + (*s++ - '0');
		digits++;
	}
	if (digits == 0 || v < lo || v > hi)
		return NULL;
	*out = v;
	return s;
}

/* Jn, n or Mm.w.d, then an optional /time (default 02:00). */
static const char *parse_rule_date(const char *s, struct rule_date *d)
{
	d->time = 2 * 3600;
	if (*s == 'J') {
		d->kind = 'J';
		s = parse_number(s + 1, 1, 365, &d->day);
	} else if (*s == 'M') {
		d->kind = 'M';
		if ((s = parse_number(s + 1, 1, 12, &d->month)) == NULL || *s++ != '.' ||
		    (s = parse_number(s, 1, 5, &d->week)) == NULL || *s++ != '.')
			return NULL;
		s = parse_number(s, 0, 6, &d->day);
	} else {
		d->kind = 'D';
		s = parse_number(s, 0, 365, &d->day);
	}
	if (s != NULL && *s == '/')
		s = parse_hms(s + 1, 167, &d->time);
	return s;
}

/*
 * Parses a footer TZ string. Its offsets count west of UTC ("CST-8" is
 * +08:00). Daylight time without a rule is refused: RFC 8536 footers always
 * carry the rule.
 */
static bool parse_rule(const char *s, struct rule *r)
{
	int off;

	memset(r, 0, sizeof(*r));
	if ((s = parse_abbr(s)) == NULL || (s = parse_hms(s, 24, &off)) == NULL)
		return false;
	r->std_off = -off;
	if (*s == '\0')
		return true;
	if ((s = parse_abbr(s)) == NULL)
		return false;
	r->has_dst = true;
	r->dst_off = r->std_off + 3600;
	if (*s != ',' && *s != '\0') {
		if ((s = parse_hms(s, 24, &off)) == NULL)
			return false;
		r->dst_off = -off;
	}
	if (*s++ != ',' || (s = parse_rule_date(s, &r->start)) == NULL || *s++ != ',' ||
	    (s = parse_rule_date(s, &r->end)) == NULL)
		return false;
	return *s == '\0';
}

/* Unix time of 00:00 UTC on year-mon-mday (mon 1..12; mday may roll over). */
static int64_t utc_midnight(int64_t year, int mon, int mday)
{
	struct tm tm = {0};

	tm.tm_year = (int)(year - 1900);
	tm.tm_mon = mon - 1;
	tm.tm_mday = mday;
	return (int64_t)timegm(&tm);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The wall-clock seconds (as if UTC) at which rule date d takes effect in year. */
static int64_t rule_wall(const struct rule_date *d, int64_t year)
{
	int64_t day;

	if (d->kind == 'J') {
		day = utc_midnight(year, 1, d->day + (is_leap(year) && d->day >= 60));
	} else if (d->kind == 'D') {
		day = utc_midnight(year, 1, 1 + d->day);
	} else {
		static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
		int last = mdays[d->month - 1] + (d->month == 2 && is_leap(year));
		int64_t first = utc_midnight(year, d->month, 1);
		/* 1970-01-01 was a Thursday (4); floor division for earlier days. */
		int64_t days = first / 86400 - (first % 86400 < 0);
		int wday = (int)(((days + 4) % 7 + 7) % 7);
		int mday = 1 + (d->day - wday + 7) % 7 + 7 * (d->week - 1);
		if (mday > last)
			mday -= 7;
		day = first + (int64_t)(mday - 1) * 86400;
	}
	return day + d->time;
}

static int rule_offset(const struct rule *r, int64_t t)
{
	struct tm tm;
	time_t local = (time_t)(t + r->std_off);
	int64_t year, start, end;

	if (!r->has_dst || gmtime_r(&local, &tm) == NULL)
		return r->std_off;
	year = (int64_t)tm.tm_year + 1900;
	/* The start is given in standard time, the end in daylight time. */
	start = rule_wall(&r->start, year) - r->std_off;
	end = rule_wall(&r->end, year) - r->dst_off;
	if (start < end)
		return start <= t && t < end ? r->dst_off : r->std_off;
	/* The southern hemisphere: daylight time spans the turn of the year. */
	return end <= t && t < start ? r->std_off : r->dst_off;
}

/* ---- TZif files ---------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct header {
	char version;
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static bool read_header(const unsigned char *p, size_t len, struct header *h)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return false;
	h->version = (char)p[4];
	h->isutcnt = be32(p + 20);
	h->isstdcnt = be32(p + 24);
	h->leapcnt = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);
	/* Counts a small file cannot hold are refused before any size is computed. */
	return h->typecnt >= 1 && h->typecnt <= 256 && h->charcnt >= 1 &&
	       h->timecnt <= TZ_FILE_MAX && h->charcnt <= TZ_FILE_MAX &&
	       h->leapcnt <= TZ_FILE_MAX && (h->isutcnt == 0 || h->isutcnt == h->typecnt) &&
	       (h->isstdcnt == 0 || h->isstdcnt == h->typecnt);
}

/* Bytes of the data block after a header whose times are tsize bytes. */
static size_t block_len(const struct header *h, size_t tsize)
{
	return h->timecnt * (tsize + 1) + h->typecnt * 6 + h->charcnt + h->leapcnt * (tsize + 4) +
	       h->isstdcnt + h->isutcnt;
}

/* Reads the transitions of a data block; false when it contradicts itself. */
static bool read_block(struct tz *z, const struct header *h, const unsigned char *p, size_t tsize)
{
	const unsigned char *idx = p + h->timecnt * tsize, *types = idx + h->timecnt;

	if (h->leapcnt != 0)
		return false;
	for (uint32_t i = 0; i < h->typecnt; i++) {
		int32_t off = (int32_t)be32(types + 6 * i);
		/* RFC 8536: -89999..93599; also an abbreviation index inside the block. */
		if (off < -89999 || off > 93599 || types[6 * i + 5] >= h->charcnt)
			return false;
	}
	z->first_off = (int32_t)be32(types);
	z->n = h->timecnt;
	z->at = malloc((z->n + 1) * sizeof(*z->at));
	z->off = malloc((z->n + 1) * sizeof(*z->off));
	if (z->at == NULL || z->off == NULL)
		return false;
	for (size_t i = 0; i < z->n; i++) {
		z->at[i] = tsize == 8 ? be64(p + 8 * i) : (int32_t)be32(p + 4 * i);
		if (idx[i] >= h->typecnt || (i > 0 && z->at[i] <= z->at[i - 1]))
			return false;
		z->off[i] = (int32_t)be32(types + 6 * idx[i]);
	}
	return true;
}

/* Parses a whole TZif file into z: the 64-bit block and footer from version 2 on. */
static bool parse_tzif(struct tz *z, const unsigned char *p, size_t len)
{
	struct header h;
	size_t n;

	if (!read_header(p, len, &h))
		return false;
	n = 44 + block_len(&h, 4);
	if (n > len)
		return false;
	if (h.version == '\0')
		return read_block(z, &h, p + 44, 4);
	p += n;
	len -= n;
	if (!read_header(p, len, &h) || (n = 44 + block_len(&h, 8)) > len ||
	    !read_block(z, &h, p + 44, 8))
		return false;
	p += n;
	len -= n;
	/* The footer: "\n" TZ-string "\n"; an empty string means no rule. */
	if (len < 2 || p[0] != '\n')
		return false;
	{
		const unsigned char *end = memchr(p + 1, '\n', len - 1);
		char text[128];
		if (end == NULL || (size_t)(end - p - 1) >= sizeof(text))
			return false;
		memcpy(text, p + 1, (size_t)(end - p - 1));
		text[end - p - 1] = '\0';
		if (text[0] == '\0')
			return true;
		z->has_rule = parse_rule(text, &z->rule);
		return z->has_rule;
	}
}

/* [A-Za-z0-9_+-] parts separated by single slashes; no part starts with '.'. */
static bool valid_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= TZ_NAME_MAX || name[0] == '/' || name[n - 1] == '/')
		return false;
	for (const char *p = name; *p; p++) {
		if (*p == '/' && p[1] == '/')
			return false;
		if (!isalnum((unsigned char)*p) && strchr("/_+-", *p) == NULL)
			return false;
	}
	return true;
}

int tz_load(const char *name, struct tz **out, struct errbuf *eb)
{
	const char *dir = getenv("TZDIR");
	unsigned char *buf = NULL;
	char path[4096];
	struct tz *z = NULL;
	size_t len = 0;
	FILE *f = NULL;
	int rc = YB_OK;

	*out = NULL;
	if (!valid_name(name))
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("'%.80s' is not a time zone name: use an IANA name such as "
		                     "Asia/Shanghai"),
		                   name);
	if (dir == NULL || dir[0] == '\0')
		dir = "/usr/share/zoneinfo";
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return status_fail(eb, YB_NOT_FOUND,
			                   _("unknown time zone '%s': there is no %s (IANA names "
			                     "look like Asia/Shanghai; is the tzdata package "
			                     "installed?)"),
			                   name, path);
		return status_fail(eb, YB_EIO, _("cannot read time zone %s: %s"), path,
		                   strerror(errno));
	}
	if ((buf = malloc(TZ_FILE_MAX + 1)) == NULL || (z = calloc(1, sizeof(*z))) == NULL) {
		rc = status_fail(eb, YB_ENOMEM, _("out of memory"));
		goto done;
	}
	len = fread(buf, 1, TZ_FILE_MAX + 1, f);
	if (len > TZ_FILE_MAX || !parse_tzif(z, buf, len)) {
		/* A directory (Asia), a table (zone.tab) or a leap-second zone (right/...). */
		rc = status_fail(eb, YB_INVALID_ARGUMENT,
		                 _("unknown time zone '%s': %s is not a time zone file that yuebao "
		                   "can use (IANA names look like Asia/Shanghai)"),
		                 name, path);
		goto done;
	}
	snprintf(z->name, sizeof(z->name), "%s", name);
	*out = z;
	z = NULL;
done:
	tz_free(z);
	free(buf);
	fclose(f);
	return rc;
}

/* ---- instants and wall clocks -------------------------------------------- */

int tz_offset(const struct tz *z, int64_t t)
{
	size_t lo = 0, hi = z->n;

	if (z->n == 0 || t < z->at[0])
		return z->n == 0 && z->has_rule ? rule_offset(&z->rule, t) : z->first_off;
	if (t >= z->at[z->n - 1] && z->has_rule)
		return rule_offset(&z->rule, t);
	/* The last transition at or before t. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->at[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return z->off[lo];
}

void tz_civil(const struct tz *z, int64_t t, struct tm *tm)
{
	int off = tz_offset(z, t);
	time_t wall = (time_t)(t + off);

	memset(tm, 0, sizeof(*tm));
	gmtime_r(&wall, tm);
	tm->tm_isdst = 0;
	tm->tm_gmtoff = off;
	tm->tm_zone = NULL;
}

int64_t tz_unix(const struct tz *z, int year, int mon, int mday, int sec)
{
	int64_t wall = utc_midnight(year, mon, mday) + sec;
	int64_t t = wall - tz_offset(z, wall);

	/* Near a transition the offset at wall - off may differ from the one at wall. */
	return wall - tz_offset(z, t);
}

void tz_format(const struct tz *z, int64_t ms, enum tz_style style, char *buf, size_t len)
{
	/* Floor division: an instant before 1970 still shows its own second. */
	int64_t t = ms / 1000 - (ms % 1000 < 0);
	struct tm tm;
	long off, a;
	char date[32];

	tz_civil(z, t, &tm);
	off = tm.tm_gmtoff;
	a = (off < 0 ? -off : off) / 60;
	strftime(date, sizeof(date),
	         style == TZ_RFC3339          ? "%Y-%m-%dT%H:%M:%S"
	         : style == TZ_PEOPLE_MINUTES ? "%Y-%m-%d %H:%M"
	                                      : "%Y-%m-%d %H:%M:%S",
	         &tm);
	snprintf(buf, len, "%s%s%c%02ld:%02ld", date, style == TZ_RFC3339 ? "" : " ",
	         off < 0 ? '-' : '+', a / 60, a % 60);
}
