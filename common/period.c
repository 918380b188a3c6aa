/*
 * period.c - parsing, formatting and shifting reporting periods. A period is
 * an inclusive range of month numbers (year*12 + month-1); every form the
 * user may type maps onto such a range, and period_format gives the one
 * canonical text for it.
 */
#include "period.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "i18n.h"

/* Longest text period_parse looks at; "2026-01..2026-06" is 16 bytes. */
#define PERIOD_INPUT_MAX 64

static const char forms_hint[] =
    N_("use 2026-06, 2026Q2, 2026H1, 2026H2, 2026 or a range such as 2026-01..2026-06");

/* Only what period_parse_month accepts: where a month is due, nothing else helps. */
static const char month_forms_hint[] =
    N_("write the month as 2026-06 (or 2026-6, 2026/06, 202606, 2026年6月)");

enum kind { K_MONTH, K_QUARTER, K_HALF, K_YEAR };

/* Floor division, so month numbers before year 0 still map correctly. */
static int floordiv12(int m)
{
	return m >= 0 ? m / 12 : -((-m + 11) / 12);
}

int period_month(int year, int month)
{
	return year * 12 + (month - 1);
}

int period_month_year(int m)
{
	return floordiv12(m);
}

int period_month_mon(int m)
{
	return m - floordiv12(m) * 12 + 1;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Copies s[0..n) into buf for a message, cut short (on a UTF-8 character
 * boundary) with "..." if longer.
 */
static void quote(const char *s, size_t n, char *buf, size_t len)
{
	size_t max = len - 4;

	if (n > max) {
		while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
			max--;
		memcpy(buf, s, max);
		memcpy(buf + max, "...", 4);
		return;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
}

/*
 * Parses one non-range form occupying exactly s[0..n). The message names the
 * problem; the caller adds the text and the accepted forms.
 */
static int parse_single(const char *s, size_t n, struct period *out, enum kind *kind, char *why,
                        size_t whylen)
{
	int year, v;
	size_t i;

	if (n < 4) {
		snprintf(why, whylen, "%s", _("a period starts with a 4-digit year"));
		return YB_INVALID_ARGUMENT;
	}
	for (i = 0; i < 4; i++) {
		if (!is_digit(s[i])) {
			snprintf(why, whylen, "%s", _("a period starts with a 4-digit year"));
			return YB_INVALID_ARGUMENT;
		}
	}
	year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	if (n == 4) {
		*kind = K_YEAR;
		v = 0;
	} else if (s[4] == '-') {
		if (n < 7 || !is_digit(s[5]) || !is_digit(s[6])) {
			snprintf(why, whylen, "%s",
			         _("a month is written with two digits, as in 2026-06"));
			return YB_INVALID_ARGUMENT;
		}
		if (n > 7) {
			snprintf(why, whylen, "%s", _("unexpected text after the month"));
			return YB_INVALID_ARGUMENT;
		}
		v = (s[5] - '0') * 10 + (s[6] - '0');
		if (v < 1 || v > 12) {
			snprintf(why, whylen, _("month %02d does not exist (01..12)"), v);
			return YB_INVALID_ARGUMENT;
		}
		*kind = K_MONTH;
	} else if (s[4] == 'Q' || s[4] == 'H') {
		bool quarter = s[4] == 'Q';
		if (n < 6 || !is_digit(s[5])) {
			snprintf(why, whylen, "%s",
			         quarter ? _("a quarter is written as in 2026Q2")
			                 : _("a half year is written as in 2026H1"));
			return YB_INVALID_ARGUMENT;
		}
		if (n > 6) {
			snprintf(why, whylen, "%s",
			         quarter ? _("unexpected text after the quarter")
			                 : _("unexpected text after the half year"));
			return YB_INVALID_ARGUMENT;
		}
		v = s[5] - '0';
		if (v < 1 || v > (quarter ? 4 : 2)) {
			snprintf(why, whylen,
			         quarter ? _("quarter %d does not exist (1..4)")
			                 : _("half %d does not exist (1 or 2)"),
			         v);
			return YB_INVALID_ARGUMENT;
		}
		*kind = quarter ? K_QUARTER : K_HALF;
	} else {
		snprintf(why, whylen, "%s", _("unexpected text after the year"));
		return YB_INVALID_ARGUMENT;
	}
	if (year < PERIOD_MIN_YEAR || year > PERIOD_MAX_YEAR) {
		snprintf(why, whylen, _("year %d is outside %d..%d"), year, PERIOD_MIN_YEAR,
		         PERIOD_MAX_YEAR);
		return YB_INVALID_ARGUMENT;
	}
	switch (*kind) {
	case K_MONTH:
		out->first = out->last = period_month(year, v);
		break;
	case K_QUARTER:
		out->first = period_month(year, (v - 1) * 3 + 1);
		out->last = out->first + 2;
		break;
	case K_HALF:
		out->first = period_month(year, (v - 1) * 6 + 1);
		out->last = out->first + 5;
		break;
	case K_YEAR:
		out->first = period_month(year, 1);
		out->last = out->first + 11;
		break;
	}
	return YB_OK;
}

/* The whole grammar; *out is written only on success. */
static int parse_any(const char *s, struct period *out, struct errbuf *eb)
{
	char q[40], why[128];
	const char *dots;
	size_t n;
	struct period a, b;
	enum kind ka, kb;

	if (s == NULL || s[0] == '\0')
		return status_fail(eb, YB_INVALID_ARGUMENT, _("period is empty; %s"),
		                   _(forms_hint));
	n = strnlen(s, PERIOD_INPUT_MAX + 1);
	if (n > PERIOD_INPUT_MAX)
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("period is longer than %d characters; %s"), PERIOD_INPUT_MAX,
		                   _(forms_hint));
	quote(s, n, q, sizeof(q));
	dots = strstr(s, "..");
	if (dots == NULL) {
		if (parse_single(s, n, out, &ka, why, sizeof(why)) != YB_OK)
			return status_fail(eb, YB_INVALID_ARGUMENT, _("period \"%s\": %s; %s"), q,
			                   why, _(forms_hint));
		return YB_OK;
	}
	if (parse_single(s, (size_t)(dots - s), &a, &ka, why, sizeof(why)) != YB_OK)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("period \"%s\": range start: %s; %s"),
		                   q, why, _(forms_hint));
	if (parse_single(dots + 2, n - (size_t)(dots + 2 - s), &b, &kb, why, sizeof(why)) != YB_OK)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("period \"%s\": range end: %s; %s"),
		                   q, why, _(forms_hint));
	/* The end may overlap the start (2026H1..2026Q2) but not begin or end before it. */
	if (b.first < a.first || b.last < a.last)
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("period \"%s\": the range end comes before its start"), q);
	out->first = a.first;
	out->last = b.last;
	return YB_OK;
}

int period_parse(const char *s, struct period *out, struct errbuf *eb)
{
	return parse_any(s, out, eb);
}

/*
 * Reads the digits of a month (one or two) at s[*i..n), advancing *i.
 * Returns the month, or -1 when there is not one or two digits there.
 */
static int month_digits(const char *s, size_t n, size_t *i)
{
	size_t start = *i;
	int v = 0;

	while (*i < n && is_digit(s[*i]) && *i - start < 3)
		v = v * 10 + (s[(*i)++] - '0');
	return (*i - start == 1 || *i - start == 2) ? v : -1;
}

/*
 * Parses one month written in any of the forms a clerk types, occupying
 * exactly s[0..n): 2026-06, 2026-6, 2026/06, 2026/6, 202606, 2026年6月,
 * 2026年06月. The message names the problem; the caller adds the text and
 * the accepted forms.
 */
static int parse_month_forms(const char *s, size_t n, int *month, char *why, size_t whylen)
{
	static const char nian[] = "\xE5\xB9\xB4", yue[] = "\xE6\x9C\x88"; /* 年, 月 */
	size_t i = 4;
	int year, v;

	if (n < 4 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2]) || !is_digit(s[3])) {
		snprintf(why, whylen, "%s", _("a month starts with a 4-digit year"));
		return YB_INVALID_ARGUMENT;
	}
	year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	if (n == 6 && is_digit(s[4]) && is_digit(s[5])) {
		v = (s[4] - '0') * 10 + (s[5] - '0'); /* 202606 */
	} else if (n > 4 && (s[4] == '-' || s[4] == '/')) {
		i = 5;
		if ((v = month_digits(s, n, &i)) < 0 || i != n) {
			snprintf(why, whylen, "%s",
			         _("the month after the year has one or two digits"));
			return YB_INVALID_ARGUMENT;
		}
	} else if (n >= 7 && memcmp(s + 4, nian, 3) == 0) {
		i = 7;
		if ((v = month_digits(s, n, &i)) < 0 || n - i != 3 || memcmp(s + i, yue, 3) != 0) {
			snprintf(why, whylen, "%s",
			         _("a month in Chinese is written as in 2026年6月"));
			return YB_INVALID_ARGUMENT;
		}
	} else {
		snprintf(why, whylen, "%s", _("unexpected text after the year"));
		return YB_INVALID_ARGUMENT;
	}
	if (v < 1 || v > 12) {
		snprintf(why, whylen, _("month %d does not exist (1..12)"), v);
		return YB_INVALID_ARGUMENT;
	}
	if (year < PERIOD_MIN_YEAR || year > PERIOD_MAX_YEAR) {
		snprintf(why, whylen, _("year %d is outside %d..%d"), year, PERIOD_MIN_YEAR,
		         PERIOD_MAX_YEAR);
		return YB_INVALID_ARGUMENT;
	}
	*month = period_month(year, v);
	return YB_OK;
}

int period_parse_month(const char *s, int *month, struct errbuf *eb)
{
	char q[40], why[128];
	struct period p;
	size_t n;
	int m;

	if (s == NULL || s[0] == '\0')
		return status_fail(eb, YB_INVALID_ARGUMENT, _("period is empty; %s"),
		                   _(month_forms_hint));
	n = strnlen(s, PERIOD_INPUT_MAX + 1);
	if (n > PERIOD_INPUT_MAX)
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("period is longer than %d characters; %s"), PERIOD_INPUT_MAX,
		                   _(month_forms_hint));
	quote(s, n, q, sizeof(q));
	if (parse_month_forms(s, n, &m, why, sizeof(why)) == YB_OK) {
		*month = m;
		return YB_OK;
	}
	/* A quarter, half, year or range is a period, just not a month. */
	if (parse_any(s, &p, NULL) == YB_OK)
		return status_fail(
		    eb, YB_INVALID_ARGUMENT,
		    _("period \"%s\": returns are monthly; give one month such as 2026-06"), q);
	return status_fail(eb, YB_INVALID_ARGUMENT, _("period \"%s\": %s; %s"), q, why,
	                   _(month_forms_hint));
}

static int put(char *buf, size_t len, const char *text)
{
	size_t n = strlen(text);

	if (buf == NULL || len < n + 1)
		return YB_OUT_OF_RANGE;
	memcpy(buf, text, n + 1);
	return YB_OK;
}

static void month_text(int m, char *buf, size_t len)
{
	snprintf(buf, len, "%04d-%02d", period_month_year(m), period_month_mon(m));
}

int period_format(const struct period *p, char *buf, size_t len)
{
	char text[64], a[24], b[24];
	int mon0, year, n;

	if (p == NULL || p->last < p->first)
		return YB_INVALID_ARGUMENT;
	n = p->last - p->first + 1;
	mon0 = period_month_mon(p->first) - 1;
	year = period_month_year(p->first);
	if (n == 1) {
		month_text(p->first, text, sizeof(text));
	} else if (n == 3 && mon0 % 3 == 0) {
		snprintf(text, sizeof(text), "%04dQ%d", year, mon0 / 3 + 1);
	} else if (n == 6 && mon0 % 6 == 0) {
		snprintf(text, sizeof(text), "%04dH%d", year, mon0 / 6 + 1);
	} else if (n == 12 && mon0 == 0) {
		snprintf(text, sizeof(text), "%04d", year);
	} else {
		month_text(p->first, a, sizeof(a));
		month_text(p->last, b, sizeof(b));
		snprintf(text, sizeof(text), "%s..%s", a, b);
	}
	return put(buf, len, text);
}

int period_format_month(int month, char *buf, size_t len)
{
	char text[24];

	month_text(month, text, sizeof(text));
	return put(buf, len, text);
}

int period_length(const struct period *p)
{
	return p->last - p->first + 1;
}

struct period period_yoy(const struct period *p)
{
	struct period r = {p->first - 12, p->last - 12};
	return r;
}

struct period period_prev(const struct period *p)
{
	int n = period_length(p);
	struct period r = {p->first - n, p->first - 1};
	return r;
}

int period_month_at(const struct tz *z, int64_t t)
{
	struct tm tm;

	tz_civil(z, t, &tm);
	return period_month(tm.tm_year + 1900, tm.tm_mon + 1);
}

int64_t period_due_ms(int m, int due_day, const struct tz *z)
{
	return tz_unix(z, period_month_year(m + 1), period_month_mon(m + 1), due_day + 1, 0) * 1000;
}
