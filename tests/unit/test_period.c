/*
 * test_period.c - every period form of SPEC §5, its canonical text, the
 * refusals a user would hit, and the yoy / prev comparison periods.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "period.h"

static struct period parse_ok(const char *s)
{
	struct errbuf eb = {{0}};
	struct period p = {-1, -1};

	if (period_parse(s, &p, &eb) != YB_OK)
		fail_msg("period_parse(\"%s\") failed: %s", s, eb.msg);
	return p;
}

static const char *text(struct period p)
{
	static char buf[PERIOD_TEXT_MAX];
	assert_int_equal(period_format(&p, buf, sizeof(buf)), YB_OK);
	return buf;
}

/* Asserts s is refused, *out untouched, and the message contains want. */
static void refused(const char *s, const char *want)
{
	struct errbuf eb = {{0}};
	struct period p = {-7, -7};

	assert_int_equal(period_parse(s, &p, &eb), YB_INVALID_ARGUMENT);
	assert_int_equal(p.first, -7);
	if (strstr(eb.msg, want) == NULL)
		fail_msg("message for \"%s\" is \"%s\", expected it to contain \"%s\"", s, eb.msg,
		         want);
}

/* Asserts s parses to [first, last] given as (year, month) and formats back as canon. */
static void form(const char *s, int y1, int m1, int y2, int m2, const char *canon)
{
	struct period p = parse_ok(s);

	assert_int_equal(p.first, period_month(y1, m1));
	assert_int_equal(p.last, period_month(y2, m2));
	assert_string_equal(text(p), canon);
}

static void test_month_numbers(void **state)
{
	(void)state;
	assert_int_equal(period_month(2026, 1), 2026 * 12);
	assert_int_equal(period_month(2026, 6), 2026 * 12 + 5);
	assert_int_equal(period_month_year(period_month(2026, 12)), 2026);
	assert_int_equal(period_month_mon(period_month(2026, 12)), 12);
	assert_int_equal(period_month_mon(period_month(2026, 1)), 1);
	assert_int_equal(period_month(2026, 1) - 1, period_month(2025, 12));
}

static void test_all_forms(void **state)
{
	(void)state;
	form("2026-06", 2026, 6, 2026, 6, "2026-06");
	form("2026-01", 2026, 1, 2026, 1, "2026-01");
	form("2026-12", 2026, 12, 2026, 12, "2026-12");
	form("2026Q1", 2026, 1, 2026, 3, "2026Q1");
	form("2026Q2", 2026, 4, 2026, 6, "2026Q2");
	form("2026Q4", 2026, 10, 2026, 12, "2026Q4");
	form("2026H1", 2026, 1, 2026, 6, "2026H1");
	form("2026H2", 2026, 7, 2026, 12, "2026H2");
	form("2026", 2026, 1, 2026, 12, "2026");
	form("1900-01", 1900, 1, 1900, 1, "1900-01");
	form("9999", 9999, 1, 9999, 12, "9999");
}

static void test_ranges(void **state)
{
	(void)state;
	form("2026-01..2026-05", 2026, 1, 2026, 5, "2026-01..2026-05");
	form("2025H2..2026Q1", 2025, 7, 2026, 3, "2025-07..2026-03");
	form("2025..2026", 2025, 1, 2026, 12, "2025-01..2026-12");
	form("2025-11..2026-02", 2025, 11, 2026, 2, "2025-11..2026-02");
	/* A range that is exactly a named period is written the short way. */
	form("2026-01..2026-06", 2026, 1, 2026, 6, "2026H1");
	form("2026-04..2026-06", 2026, 4, 2026, 6, "2026Q2");
	form("2026Q1..2026Q2", 2026, 1, 2026, 6, "2026H1");
	form("2026-01..2026-12", 2026, 1, 2026, 12, "2026");
	form("2026-03..2026-03", 2026, 3, 2026, 3, "2026-03");
	/* Overlapping ends are allowed as long as the end does not go backwards. */
	form("2026H1..2026Q2", 2026, 1, 2026, 6, "2026H1");
	/* Three months not on a quarter boundary stay a range. */
	form("2026-02..2026-04", 2026, 2, 2026, 4, "2026-02..2026-04");
}

static void test_bad_forms_refused(void **state)
{
	(void)state;
	refused("2026-13", "month 13 does not exist");
	refused("2026-00", "month 00 does not exist");
	refused("2026Q5", "quarter 5 does not exist");
	refused("2026Q0", "quarter 0 does not exist");
	refused("2026H3", "half 3 does not exist");
	refused("2026H0", "half 0 does not exist");
	refused("26-01", "4-digit year");
	refused("2026-1", "two digits");
	refused("2026-06x", "unexpected text after the month");
	refused("2026Q2 ", "unexpected text after the quarter");
	refused("2026H1x", "unexpected text after the half year");
	refused("2026x", "unexpected text after the year");
	refused(" 2026-06", "4-digit year");
	refused("2026q2", "unexpected text after the year");
	refused("", "empty");
	refused(NULL, "empty");
	refused("1899", "outside 1900..9999");
	refused("0000-01", "outside");
	refused("2026-06..2026-01", "before its start");
	refused("2026Q2..2026H1", "before its start");
	refused("2026..2026-06", "before its start");
	refused("2026-01..", "range end");
	refused("..2026-01", "range start");
	refused("2026-01..2026-02..2026-03", "range end");
	refused("2026-01...2026-02", "range end");
	refused("2026/06", "unexpected text after the year");
	/* Every refusal tells the user what is accepted. */
	refused("junk", "2026H1");
}

static void test_overlong_refused(void **state)
{
	char big[300];

	(void)state;
	memset(big, '2', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	refused(big, "longer than");
}

static void test_parse_month_only(void **state)
{
	struct errbuf eb = {{0}};
	int m = -1;

	(void)state;
	assert_int_equal(period_parse_month("2026-06", &m, &eb), YB_OK);
	assert_int_equal(m, period_month(2026, 6));
	m = -1;
	assert_int_equal(period_parse_month("2026Q2", &m, &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "returns are monthly"));
	assert_int_equal(m, -1);
	assert_int_equal(period_parse_month("2026", &m, &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "returns are monthly"));
	assert_int_equal(period_parse_month("2026-06..2026-06", &m, &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "returns are monthly"));
	/* A malformed month says what is wrong with it, not just "monthly". */
	assert_int_equal(period_parse_month("2026-13", &m, &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "month 13 does not exist"));
	assert_int_equal(m, -1);
}

/* Asserts the month-only parser reads s as (year, month). */
static void month_form(const char *s, int year, int month)
{
	struct errbuf eb = {{0}};
	int m = -1;

	if (period_parse_month(s, &m, &eb) != YB_OK)
		fail_msg("period_parse_month(\"%s\") failed: %s", s, eb.msg);
	assert_int_equal(m, period_month(year, month));
}

/* Asserts the month-only parser refuses s, naming want and only month forms. */
static void month_refused(const char *s, const char *want)
{
	struct errbuf eb = {{0}};
	int m = -7;

	assert_int_equal(period_parse_month(s, &m, &eb), YB_INVALID_ARGUMENT);
	assert_int_equal(m, -7);
	if (strstr(eb.msg, want) == NULL)
		fail_msg("message for \"%s\" is \"%s\", expected \"%s\"", s, eb.msg, want);
	/* where a month is due, quarters and ranges are no help */
	if (strstr(eb.msg, "2026Q2") != NULL || strstr(eb.msg, "2026H1") != NULL ||
	    strstr(eb.msg, "2026-01..") != NULL)
		fail_msg("message for \"%s\" offers forms a month cannot take: %s", s, eb.msg);
}

static void test_parse_month_clerk_forms(void **state)
{
	(void)state;
	month_form("2026-06", 2026, 6);
	month_form("2026-6", 2026, 6);
	month_form("2026/06", 2026, 6);
	month_form("2026/6", 2026, 6);
	month_form("202606", 2026, 6);
	month_form("2026年6月", 2026, 6);
	month_form("2026年06月", 2026, 6);
	month_form("2026-12", 2026, 12);
	month_form("202612", 2026, 12);
	month_form("2026年12月", 2026, 12);
	month_form("1900/1", 1900, 1);

	month_refused("2026-13", "month 13 does not exist (1..12)");
	month_refused("2026/0", "month 0 does not exist");
	month_refused("202613", "month 13 does not exist");
	month_refused("2026年13月", "month 13 does not exist");
	month_refused("2026-006", "one or two digits");
	month_refused("2026/", "one or two digits");
	month_refused("2026-6x", "one or two digits");
	month_refused("2026年6", "2026年6月");
	month_refused("2026年", "2026年6月");
	month_refused("2026.06", "unexpected text after the year");
	month_refused("20266", "unexpected text after the year");
	month_refused("Jun-26", "4-digit year");
	month_refused("1899-12", "outside 1900..9999");
	month_refused("", "empty");
	month_refused(NULL, "empty");
	/* every refusal lists the forms that work */
	month_refused("junk", "2026-06 (or 2026-6, 2026/06, 202606, 2026年6月)");

	/* the general parser is unchanged: the clerk forms are for months only */
	refused("2026-6", "two digits");
	refused("202606", "unexpected text after the year");
}

static void test_format_month_and_buffer(void **state)
{
	char buf[PERIOD_TEXT_MAX], small[7];
	struct period p = parse_ok("2025-11..2026-02");

	(void)state;
	assert_int_equal(period_format_month(period_month(2026, 6), buf, sizeof(buf)), YB_OK);
	assert_string_equal(buf, "2026-06");
	assert_int_equal(period_format_month(period_month(2026, 6), small, sizeof(small)),
	                 YB_OUT_OF_RANGE);
	assert_int_equal(period_format(&p, small, sizeof(small)), YB_OUT_OF_RANGE);
	assert_int_equal(period_format(&p, buf, sizeof(buf)), YB_OK);
	assert_string_equal(buf, "2025-11..2026-02");
}

static void test_length(void **state)
{
	struct period p;

	(void)state;
	p = parse_ok("2026-06");
	assert_int_equal(period_length(&p), 1);
	p = parse_ok("2026Q3");
	assert_int_equal(period_length(&p), 3);
	p = parse_ok("2026H2");
	assert_int_equal(period_length(&p), 6);
	p = parse_ok("2026");
	assert_int_equal(period_length(&p), 12);
	p = parse_ok("2025-11..2026-02");
	assert_int_equal(period_length(&p), 4);
}

static void test_yoy(void **state)
{
	struct period p;

	(void)state;
	p = parse_ok("2026H1");
	assert_string_equal(text(period_yoy(&p)), "2025H1");
	p = parse_ok("2026-06");
	assert_string_equal(text(period_yoy(&p)), "2025-06");
	p = parse_ok("2026Q1");
	assert_string_equal(text(period_yoy(&p)), "2025Q1");
	p = parse_ok("2026");
	assert_string_equal(text(period_yoy(&p)), "2025");
	p = parse_ok("2025-11..2026-02");
	assert_string_equal(text(period_yoy(&p)), "2024-11..2025-02");
}

static void test_prev(void **state)
{
	struct period p;

	(void)state;
	p = parse_ok("2026H1");
	assert_string_equal(text(period_prev(&p)), "2025H2");
	p = parse_ok("2026H2");
	assert_string_equal(text(period_prev(&p)), "2026H1");
	p = parse_ok("2026-01");
	assert_string_equal(text(period_prev(&p)), "2025-12");
	p = parse_ok("2026-06");
	assert_string_equal(text(period_prev(&p)), "2026-05");
	p = parse_ok("2026Q1");
	assert_string_equal(text(period_prev(&p)), "2025Q4");
	p = parse_ok("2026");
	assert_string_equal(text(period_prev(&p)), "2025");
	p = parse_ok("2026-02..2026-04");
	assert_string_equal(text(period_prev(&p)), "2025-11..2026-01");
}

/* 2027-01-05T20:00:00Z is 2027-01-06 04:00 in Beijing: past a day-5 deadline there. */
static void test_deadline_in_the_office_zone(void **state)
{
	const int64_t sent = 1799179200; /* 2027-01-05T20:00:00Z */
	const int dec = period_month(2026, 12);
	struct errbuf eb = {{0}};
	struct tz *bj = NULL;

	(void)state;
	if (tz_load("Asia/Shanghai", &bj, &eb) != YB_OK)
		fail_msg("%s", eb.msg);
	/* Due before 2027-01-06 00:00 +08:00 = 2027-01-05T16:00Z; in UTC, 8 hours later. */
	assert_int_equal(period_due_ms(dec, 5, bj), (int64_t)1799164800 * 1000);
	assert_int_equal(period_due_ms(dec, 5, tz_utc()), (int64_t)1799193600 * 1000);
	assert_true(sent * 1000 >= period_due_ms(dec, 5, bj));
	assert_true(sent * 1000 < period_due_ms(dec, 5, tz_utc()));
	/* 2026-12-31T16:30Z: the new year has begun in Beijing, not yet in UTC. */
	assert_int_equal(period_month_at(bj, 1798734600), period_month(2027, 1));
	assert_int_equal(period_month_at(tz_utc(), 1798734600), dec);
	tz_free(bj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_month_numbers),
	    cmocka_unit_test(test_all_forms),
	    cmocka_unit_test(test_ranges),
	    cmocka_unit_test(test_bad_forms_refused),
	    cmocka_unit_test(test_overlong_refused),
	    cmocka_unit_test(test_parse_month_only),
	    cmocka_unit_test(test_parse_month_clerk_forms),
	    cmocka_unit_test(test_format_month_and_buffer),
	    cmocka_unit_test(test_length),
	    cmocka_unit_test(test_yoy),
	    cmocka_unit_test(test_prev),
	    cmocka_unit_test(test_deadline_in_the_office_zone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
