/*
 * period.h - reporting periods.
 *
 * Returns are monthly; queries name a month ("2026-06"), a quarter
 * ("2026Q2"), a half year ("2026H1" 上半年, "2026H2"), a year ("2026") or a
 * range of any two of these ("2026-01..2026-06", "2025H2..2026Q1"). A month
 * is numbered year*12 + (month-1), so month arithmetic is integer
 * arithmetic; a period is the inclusive range [first, last] of such numbers.
 */
#ifndef YB_PERIOD_H
#define YB_PERIOD_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "tz.h"

#define PERIOD_MIN_YEAR 1900
#define PERIOD_MAX_YEAR 9999

/* Longest text period_format can write, with its NUL. */
#define PERIOD_TEXT_MAX 32

struct period {
	int first; /* month number of the first month */
	int last;  /* month number of the last month, >= first */
};

/* Month number of (year, month 1..12). */
int period_month(int year, int month);

/* Year and month (1..12) of a month number. */
int period_month_year(int m);
int period_month_mon(int m);

/*
 * Parses any form above. Leading/trailing blanks are refused; letters Q, H
 * are upper-case only. Refuses (YB_INVALID_ARGUMENT, eb names the problem
 * and the accepted forms) malformed text, month 00 or 13+, quarter 0 or 5+,
 * half other than 1 or 2, years outside PERIOD_MIN_YEAR..PERIOD_MAX_YEAR,
 * and ranges whose end is before their start.
 */
int period_parse(const char *s, struct period *out, struct errbuf *eb);

/*
 * Parses one month only, as a return's period must be, in any of the forms
 * a clerk types or Excel writes back: "2026-06", "2026-6", "2026/06",
 * "2026/6", "202606", "2026年6月", "2026年06月" (period_format_month gives
 * the canonical "2026-06"). A quarter, half, year or range is refused with
 * a message saying returns are monthly; anything else (YB_INVALID_ARGUMENT)
 * with the problem and these month forms only. *month is written only on
 * success.
 */
int period_parse_month(const char *s, int *month, struct errbuf *eb);

/*
 * Canonical text of p: "2026-06" for one month, "2026Q2", "2026H1" or
 * "2026" when p is exactly that quarter, half or year, otherwise
 * "2026-01..2026-05". Writes at most len bytes; returns YB_OK or
 * YB_OUT_OF_RANGE if buf is too small (PERIOD_TEXT_MAX always suffices).
 */
int period_format(const struct period *p, char *buf, size_t len);

/* "2026-06" for a month number. Same return as period_format. */
int period_format_month(int month, char *buf, size_t len);

/* Number of months in p (>= 1). */
int period_length(const struct period *p);

/* The same months one year earlier (year-over-year comparison). */
struct period period_yoy(const struct period *p);

/* The period of the same length that ends the month before p starts. */
struct period period_prev(const struct period *p);

/* The month in which Unix time t falls on the wall clock of zone z. */
int period_month_at(const struct tz *z, int64_t t);

/*
 * When the returns for month m fall due: the end of day due_day of month
 * m+1 on the wall clock of zone z, i.e. 00:00 of the next day, in Unix
 * milliseconds. A return received before it is on time (SPEC §5).
 */
int64_t period_due_ms(int m, int due_day, const struct tz *z);

#endif
