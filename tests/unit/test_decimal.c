/*
 * test_decimal.c - exact decimals: parsing what people type (strictly, and
 * leniently for return values: 1,200 and 1200.00), sums without drift,
 * rounding half away from zero, and the change figures of SPEC §6.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "decimal.h"

static int64_t parse_ok(const char *s, int maxdec)
{
	struct errbuf eb = {{0}};
	int64_t v = -12345;

	int rc = dec_parse(s, maxdec, &v, &eb);
	if (rc != YB_OK)
		fail_msg("dec_parse(\"%s\") failed: %s", s, eb.msg);
	return v;
}

/* Asserts s is refused and the message contains want. */
static void parse_refused(const char *s, int maxdec, const char *want)
{
	struct errbuf eb = {{0}};
	int64_t v = 777;

	assert_int_equal(dec_parse(s, maxdec, &v, &eb), YB_INVALID_ARGUMENT);
	assert_int_equal(v, 777);
	if (strstr(eb.msg, want) == NULL)
		fail_msg("message for \"%s\" is \"%s\", expected it to contain \"%s\"", s, eb.msg,
		         want);
}

static const char *fmt(int64_t v, int decimals)
{
	static char buf[64];
	assert_int_equal(dec_format(v, decimals, buf, sizeof(buf)), YB_OK);
	return buf;
}

static const char *rfmt(struct dec_ratio r, int decimals)
{
	static char buf[64];
	assert_int_equal(dec_ratio_format(r, decimals, buf, sizeof(buf)), YB_OK);
	return buf;
}

static struct dec_ratio q(int64_t num, int64_t den)
{
	struct dec_ratio r;
	assert_int_equal(dec_ratio_div(dec_ratio_from_int(num), dec_ratio_from_int(den), &r),
	                 YB_OK);
	return r;
}

static void test_parse_accepts(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("0", 2), 0);
	assert_int_equal(parse_ok("12", 0), 1200);
	assert_int_equal(parse_ok("12.5", 2), 1250);
	assert_int_equal(parse_ok("12.50", 2), 1250);
	assert_int_equal(parse_ok("0.01", 2), 1);
	assert_int_equal(parse_ok(".5", 1), 50);
	assert_int_equal(parse_ok("  42\t", 0), 4200);
	assert_int_equal(parse_ok("+3", 0), 300);
	assert_int_equal(parse_ok("007", 0), 700);
	assert_int_equal(parse_ok("1000000000000000", 0), DEC_MAX_UNITS * 100);
	assert_int_equal(parse_ok("-1000000000000000.00", 2), -DEC_MAX_UNITS * 100);
}

static void test_parse_negative_is_callers_call(void **state)
{
	(void)state;
	/* The parser accepts a sign; whether negatives are allowed is the caller's rule. */
	assert_int_equal(parse_ok("-5", 0), -500);
	assert_int_equal(parse_ok("-0.25", 2), -25);
	assert_int_equal(parse_ok("-0", 0), 0);
}

static void test_parse_refusals(void **state)
{
	(void)state;
	parse_refused("1.234", 2, "has 3 decimals, at most 2 allowed");
	parse_refused("1.5", 0, "not a whole number");
	parse_refused("1.25", 1, "has 2 decimals, at most 1 allowed");
	parse_refused("", 2, "empty");
	parse_refused("   ", 2, "empty");
	parse_refused(NULL, 2, "empty");
	parse_refused("abc", 2, "not a number");
	parse_refused("12a", 2, "unexpected 'a'");
	parse_refused("1,000", 2, "unexpected ','");
	parse_refused("1 000", 2, "unexpected ' '");
	parse_refused("1.2.3", 2, "unexpected '.'");
	parse_refused("--1", 2, "unexpected '-'");
	parse_refused("-", 2, "no digits");
	parse_refused(".", 2, "no digits");
	parse_refused("5.", 2, "no digits after '.'");
	parse_refused("1e3", 2, "unexpected 'e'");
	parse_refused("1000000000000000.01", 2, "too large");
	parse_refused("99999999999999999999999999999", 0, "too large");
}

static void test_parse_refuses_overlong(void **state)
{
	char big[200];

	(void)state;
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	parse_refused(big, 2, "longer than");
}

static int64_t entry_ok(const char *s, int maxdec)
{
	struct errbuf eb = {{0}};
	int64_t v = -12345;

	if (dec_parse_entry(s, maxdec, &v, &eb) != YB_OK)
		fail_msg("dec_parse_entry(\"%s\", %d) failed: %s", s, maxdec, eb.msg);
	return v;
}

/* Asserts dec_parse_entry refuses s with exactly the message want. */
static void entry_refused(const char *s, int maxdec, const char *want)
{
	struct errbuf eb = {{0}};
	int64_t v = 777;

	assert_int_equal(dec_parse_entry(s, maxdec, &v, &eb), YB_INVALID_ARGUMENT);
	assert_int_equal(v, 777);
	if (strcmp(eb.msg, want) != 0)
		fail_msg("message for \"%s\" is \"%s\", expected \"%s\"", s, eb.msg, want);
}

static void test_entry_thousands(void **state)
{
	(void)state;
	assert_int_equal(entry_ok("1,200", 0), 120000);
	assert_int_equal(entry_ok("12,345,678", 0), 1234567800);
	assert_int_equal(entry_ok("1,234.50", 2), 123450);
	assert_int_equal(entry_ok("999,999", 0), 99999900);
	assert_int_equal(entry_ok(" 1,000 ", 0), 100000);
	assert_int_equal(entry_ok("-1,000", 0), -100000);
	assert_int_equal(entry_ok("+1,000.5", 2), 100050);
	assert_int_equal(entry_ok("1,000,000,000,000,000", 0), DEC_MAX_UNITS * 100);

	const char *groups = "\"%s\" is not a number: ',' must separate groups of three digits, "
	                     "as in 1,200 or 12,345,678 (decimals are written with '.')";
	const char *bad[] = {"1,20",   "12,34,567", "1,,200", "1234,567",  "1,2345",
	                     "1,200,", "1,200,00",  "1,5",    "1,200,3000"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[256];
		snprintf(want, sizeof(want), groups, bad[i]);
		entry_refused(bad[i], 2, want);
	}
	entry_refused(",100", 0, "\",100\" is not a number: it starts with ','");
	entry_refused("-,100", 0, "\"-,100\" is not a number: it starts with ','");
	entry_refused("0,500", 2,
	              "\"0,500\" is not a number: with thousands separators it cannot start with 0 "
	              "(decimals are written with '.')");
	entry_refused("1.234,5", 2, "\"1.234,5\" is not a number: unexpected ','");
	entry_refused("1,000,000,000,000,001", 0,
	              "\"1,000,000,000,000,001\" is too large: at most 1000000000000000 in "
	              "magnitude");
}

static void test_entry_zero_fractions(void **state)
{
	(void)state;
	/* an int may carry a fraction of zeros: Excel's number format */
	assert_int_equal(entry_ok("1200.00", 0), 120000);
	assert_int_equal(entry_ok("3.0", 0), 300);
	assert_int_equal(entry_ok("1,200.00", 0), 120000);
	assert_int_equal(entry_ok("0.000", 0), 0);
	/* an amount: extra decimals only if zeros */
	assert_int_equal(entry_ok("12.500", 2), 1250);
	assert_int_equal(entry_ok("12.5000000", 2), 1250);
	assert_int_equal(entry_ok("0.010", 2), 1);
	assert_int_equal(entry_ok("7.50", 1), 750);

	entry_refused("2.5", 0, "\"2.5\" is not a whole number");
	entry_refused("2.50", 0, "\"2.50\" is not a whole number");
	entry_refused("1,200.01", 0, "\"1,200.01\" is not a whole number");
	entry_refused("12.505", 2, "\"12.505\" has 3 decimals, at most 2 allowed");
	entry_refused("12.5050", 2, "\"12.5050\" has 3 significant decimals, at most 2 allowed");
	entry_refused("0.001", 2, "\"0.001\" has 3 decimals, at most 2 allowed");
	entry_refused("7.55", 1, "\"7.55\" has 2 decimals, at most 1 allowed");
}

static void test_entry_refusals(void **state)
{
	(void)state;
	entry_refused("", 0, "value is empty");
	entry_refused(" \t", 0, "value is empty");
	entry_refused(NULL, 0, "value is empty");
	entry_refused("abc", 0, "\"abc\" is not a number: unexpected 'a'");
	entry_refused("1e3", 0, "\"1e3\" is not a number: unexpected 'e'");
	entry_refused("1 200", 0, "\"1 200\" is not a number: unexpected ' '");
	entry_refused("5.", 2, "\"5.\" is not a number: no digits after '.'");
	entry_refused("-", 2, "\"-\" is not a number: no digits");
	entry_refused(".", 2, "\".\" is not a number: no digits");
	entry_refused("1.2.3", 2, "\"1.2.3\" is not a number: unexpected '.'");
	entry_refused("--1", 2, "\"--1\" is not a number: unexpected '-'");
	/* full-width digits, comma and point from a Chinese input method */
	const char *fw = "is not a number: it has full-width characters; type it with the "
	                 "ASCII digits 0-9 (half-width input)";
	const char *fws[] = {"１２", "1２", "1，200", "12．5", "＋3"};
	for (size_t i = 0; i < sizeof(fws) / sizeof(fws[0]); i++) {
		char want[256];
		snprintf(want, sizeof(want), "\"%s\" %s", fws[i], fw);
		entry_refused(fws[i], 2, want);
	}
	entry_refused("12元", 2, "\"12元\" is not a number: unexpected non-ASCII character");
	entry_refused("\xFF", 2, "\"\xFF\" is not a number: unexpected non-ASCII character");
	entry_refused("1", 3, "at most 0, 1 or 2 decimals can be allowed");

	char big[200];
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	entry_refused(big, 2, "value is longer than 64 characters");

	/* long values are quoted cut on a character boundary */
	struct errbuf eb = {{0}};
	int64_t v;
	assert_int_equal(dec_parse_entry("党员党员党员党员党员党员党员党员", 0, &v, &eb),
	                 YB_INVALID_ARGUMENT);
	assert_string_equal(eb.msg, "\"党员党员党员党员党员...\" is not a number: unexpected "
	                            "non-ASCII character");
}

/* dec_parse_entry accepts all that dec_parse accepts, with the same value. */
static void test_entry_extends_parse(void **state)
{
	(void)state;
	const char *ok[] = {"0",
	                    "12",
	                    "12.5",
	                    "12.50",
	                    "0.01",
	                    ".5",
	                    "  42\t",
	                    "+3",
	                    "007",
	                    "-5",
	                    "-0.25",
	                    "-0",
	                    "1000000000000000",
	                    "9.9",
	                    "+.25",
	                    "-1000000000000000.00"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		for (int d = 0; d <= 2; d++) {
			struct errbuf eb;
			int64_t a, b;
			if (dec_parse(ok[i], d, &a, &eb) != YB_OK)
				continue;
			assert_int_equal(dec_parse_entry(ok[i], d, &b, &eb), YB_OK);
			assert_int_equal(a, b);
		}
}

static void test_ten_dimes_make_one_yuan(void **state)
{
	int64_t sum = 0, dime = parse_ok("0.10", 2);
	int i;

	(void)state;
	for (i = 0; i < 10; i++)
		assert_int_equal(dec_add(sum, dime, &sum), YB_OK);
	assert_int_equal(sum, parse_ok("1.00", 2));
	assert_string_equal(fmt(sum, 2), "1.00");
}

static void test_large_sums_are_exact(void **state)
{
	int64_t sum = 0, v = parse_ok("123456789.99", 2);
	int i;

	(void)state;
	/* A million returns of ~1.2e8 yuan each: far beyond double's exact cents. */
	for (i = 0; i < 1000000; i++)
		assert_int_equal(dec_add(sum, v, &sum), YB_OK);
	assert_string_equal(fmt(sum, 2), "123456789990000.00");

	sum = 0;
	for (i = 0; i < 1000; i++)
		assert_int_equal(dec_add(sum, parse_ok("0.01", 2), &sum), YB_OK);
	assert_string_equal(fmt(sum, 2), "10.00");
}

static void test_add_overflow_reported(void **state)
{
	int64_t out = 5;

	(void)state;
	assert_int_equal(dec_add(INT64_MAX, 1, &out), YB_OUT_OF_RANGE);
	assert_int_equal(out, 5);
	assert_int_equal(dec_add(INT64_MIN, -1, &out), YB_OUT_OF_RANGE);
	assert_int_equal(out, 5);
}

static void test_format_hundredths(void **state)
{
	char small[4];

	(void)state;
	assert_string_equal(fmt(1250, 2), "12.50");
	assert_string_equal(fmt(1250, 1), "12.5");
	assert_string_equal(fmt(1250, 0), "13");
	assert_string_equal(fmt(1249, 0), "12");
	assert_string_equal(fmt(5, 1), "0.1");
	assert_string_equal(fmt(-5, 1), "-0.1");
	assert_string_equal(fmt(-4, 1), "0.0");
	assert_string_equal(fmt(-1, 2), "-0.01");
	assert_string_equal(fmt(0, 2), "0.00");
	assert_string_equal(fmt(INT64_MAX, 2), "92233720368547758.07");
	assert_string_equal(fmt(INT64_MIN, 2), "-92233720368547758.08");
	assert_int_equal(dec_format(123456, 2, small, sizeof(small)), YB_OUT_OF_RANGE);
}

static void test_round_half_away_from_zero(void **state)
{
	(void)state;
	assert_string_equal(rfmt(q(5, 100), 1), "0.1");
	assert_string_equal(rfmt(q(-5, 100), 1), "-0.1");
	assert_string_equal(rfmt(q(2, 3), 1), "0.7");
	assert_string_equal(rfmt(q(-2, 3), 1), "-0.7");
	assert_string_equal(rfmt(q(1, 3), 1), "0.3");
	assert_string_equal(rfmt(q(-1, 8), 2), "-0.13");
	assert_string_equal(rfmt(q(1, 8), 2), "0.13");
	assert_string_equal(rfmt(q(5, 2), 0), "3");
	assert_string_equal(rfmt(q(-5, 2), 0), "-3");
	assert_string_equal(rfmt(q(999, 1000), 2), "1.00");
	assert_string_equal(rfmt(q(-1, 100), 1), "0.0");
	assert_string_equal(rfmt(q(1, 7), 6), "0.142857");
	assert_string_equal(rfmt(q(22, 7), 0), "3");
	assert_string_equal(rfmt(dec_ratio_from_int(42), 3), "42.000");
}

static void test_ratio_arithmetic_exact(void **state)
{
	struct dec_ratio a, b, r;

	(void)state;
	/* 1/3 + 1/6 = 1/2, kept reduced. */
	assert_int_equal(dec_ratio_add(q(1, 3), q(1, 6), &r), YB_OK);
	assert_true(r.num == 1 && r.den == 2);
	/* 0.10 + 0.20 == 0.30 exactly. */
	a = dec_ratio_from_hundredths(10);
	b = dec_ratio_from_hundredths(20);
	assert_int_equal(dec_ratio_add(a, b, &r), YB_OK);
	assert_int_equal(dec_ratio_cmp(r, dec_ratio_from_hundredths(30)), 0);
	assert_int_equal(dec_ratio_sub(q(1, 2), q(3, 4), &r), YB_OK);
	assert_true(r.num == -1 && r.den == 4);
	assert_int_equal(dec_ratio_mul(q(2, 3), q(9, 4), &r), YB_OK);
	assert_true(r.num == 3 && r.den == 2);
	assert_int_equal(dec_ratio_div(q(1, 2), q(-1, 4), &r), YB_OK);
	assert_true(r.num == -2 && r.den == 1);
	assert_true(dec_ratio_is_zero(dec_ratio_from_int(0)));
	assert_false(dec_ratio_is_zero(q(1, 1000)));
}

static void test_division_by_zero(void **state)
{
	struct dec_ratio r = {7, 1};

	(void)state;
	assert_int_equal(dec_ratio_div(q(1, 2), dec_ratio_from_int(0), &r), YB_FAILED_PRECONDITION);
	assert_true(r.num == 7 && r.den == 1);
}

static void test_overflow_detected(void **state)
{
	struct dec_ratio big = dec_ratio_from_int(INT64_MAX), r, out = {7, 1};
	int i;

	(void)state;
	/* (2^63)^2 fits; one more factor does not fit in 128 bits. */
	assert_int_equal(dec_ratio_mul(big, big, &r), YB_OK);
	assert_int_equal(dec_ratio_mul(r, big, &out), YB_OUT_OF_RANGE);
	assert_true(out.num == 7 && out.den == 1);
	assert_int_equal(dec_ratio_add(r, r, &out), YB_OK);
	assert_int_equal(dec_ratio_add(out, out, &out), YB_OUT_OF_RANGE);
	/* Denominators grow too: 1/p1 + 1/p2 + ... with coprime dens eventually overflow. */
	r = dec_ratio_from_int(0);
	for (i = 0; i < 200; i++) {
		int rc = dec_ratio_add(r, q(1, INT64_MAX - i), &r);
		if (rc != YB_OK) {
			assert_int_equal(rc, YB_OUT_OF_RANGE);
			return;
		}
	}
	fail_msg("expected an overflow");
}

static void test_compare(void **state)
{
	struct dec_ratio big = dec_ratio_from_int(INT64_MAX), sq, sq1;

	(void)state;
	assert_int_equal(dec_ratio_cmp(q(1, 3), q(1, 2)), -1);
	assert_int_equal(dec_ratio_cmp(q(1, 2), q(1, 3)), 1);
	assert_int_equal(dec_ratio_cmp(q(2, 4), q(1, 2)), 0);
	assert_int_equal(dec_ratio_cmp(q(-1, 2), q(1, 3)), -1);
	assert_int_equal(dec_ratio_cmp(q(-1, 2), q(-1, 3)), -1);
	assert_int_equal(dec_ratio_cmp(dec_ratio_from_int(0), q(-1, 3)), 1);
	/* Cross products beyond 128 bits still compare exactly. */
	assert_int_equal(dec_ratio_mul(big, big, &sq), YB_OK);
	assert_int_equal(dec_ratio_add(sq, dec_ratio_from_int(1), &sq1), YB_OK);
	assert_int_equal(dec_ratio_div(sq, q(INT64_MAX - 1, 1), &sq), YB_OK);
	assert_int_equal(dec_ratio_div(sq1, q(INT64_MAX - 1, 1), &sq1), YB_OK);
	assert_int_equal(dec_ratio_cmp(sq, sq1), -1);
	assert_int_equal(dec_ratio_cmp(sq1, sq), 1);
}

static void test_change_percent(void **state)
{
	struct dec_ratio r;

	(void)state;
	/* 120 vs 100: +20.0 %. */
	assert_int_equal(dec_change_percent(dec_ratio_from_int(120), dec_ratio_from_int(100), &r),
	                 YB_OK);
	assert_string_equal(rfmt(r, 1), "20.0");
	/* 2 vs 3: -33.3 %. */
	assert_int_equal(dec_change_percent(dec_ratio_from_int(2), dec_ratio_from_int(3), &r),
	                 YB_OK);
	assert_string_equal(rfmt(r, 1), "-33.3");
	/* 1 vs 3: -66.7 % (half away from zero on the magnitude). */
	assert_int_equal(dec_change_percent(dec_ratio_from_int(1), dec_ratio_from_int(3), &r),
	                 YB_OK);
	assert_string_equal(rfmt(r, 1), "-66.7");
	/* 0.03 vs 0.02 yuan: +50.0 %, exactly. */
	assert_int_equal(
	    dec_change_percent(dec_ratio_from_hundredths(3), dec_ratio_from_hundredths(2), &r),
	    YB_OK);
	assert_string_equal(rfmt(r, 1), "50.0");
	/* No value when the previous figure is zero. */
	r = q(9, 1);
	assert_int_equal(dec_change_percent(dec_ratio_from_int(5), dec_ratio_from_int(0), &r),
	                 YB_FAILED_PRECONDITION);
	assert_int_equal(dec_ratio_cmp(r, q(9, 1)), 0);
}

static void test_change_points(void **state)
{
	struct dec_ratio r;

	(void)state;
	/* Coverage 95.5 % now vs 90.25 % before: +5.3 points (5.25 rounds away from zero). */
	assert_int_equal(dec_change_points(q(955, 10), q(9025, 100), &r), YB_OK);
	assert_string_equal(rfmt(r, 1), "5.3");
	assert_int_equal(dec_change_points(q(9025, 100), q(955, 10), &r), YB_OK);
	assert_string_equal(rfmt(r, 1), "-5.3");
	/* Points from a zero base are still a value. */
	assert_int_equal(dec_change_points(q(50, 1), dec_ratio_from_int(0), &r), YB_OK);
	assert_string_equal(rfmt(r, 1), "50.0");
}

static void test_ratio_format_buffer(void **state)
{
	char small[4];

	(void)state;
	assert_int_equal(dec_ratio_format(q(1234, 1), 1, small, sizeof(small)), YB_OUT_OF_RANGE);
	assert_int_equal(dec_ratio_format(q(12, 1), 0, small, sizeof(small)), YB_OK);
	assert_string_equal(small, "12");
	assert_int_equal(dec_ratio_format(q(1, 1), 7, small, sizeof(small)), YB_INVALID_ARGUMENT);
}

/* Rates of returns: one decimal, half away from zero; "-" when nothing is expected. */
static void test_percent_text(void **state)
{
	static const struct {
		uint32_t part, whole;
		const char *want;
	} cases[] = {
	    {23, 24, "95.8"},
	    {24, 24, "100.0"},
	    {0, 24, "0.0"},
	    {1, 16, "6.3"},
	    {1, 80, "1.3"},
	    {2, 3, "66.7"},
	    {1, 6, "16.7"},
	    {0, 0, "-"},
	    {5, 0, "-"},
	    {30, 24, "125.0"},
	    {UINT32_MAX, 1, "429496729500.0"},
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dec_percent_text(cases[i].part, cases[i].whole, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_accepts),
	    cmocka_unit_test(test_parse_negative_is_callers_call),
	    cmocka_unit_test(test_parse_refusals),
	    cmocka_unit_test(test_parse_refuses_overlong),
	    cmocka_unit_test(test_entry_thousands),
	    cmocka_unit_test(test_entry_zero_fractions),
	    cmocka_unit_test(test_entry_refusals),
	    cmocka_unit_test(test_entry_extends_parse),
	    cmocka_unit_test(test_ten_dimes_make_one_yuan),
	    cmocka_unit_test(test_large_sums_are_exact),
	    cmocka_unit_test(test_add_overflow_reported),
	    cmocka_unit_test(test_format_hundredths),
	    cmocka_unit_test(test_round_half_away_from_zero),
	    cmocka_unit_test(test_ratio_arithmetic_exact),
	    cmocka_unit_test(test_division_by_zero),
	    cmocka_unit_test(test_overflow_detected),
	    cmocka_unit_test(test_compare),
	    cmocka_unit_test(test_change_percent),
	    cmocka_unit_test(test_change_points),
	    cmocka_unit_test(test_ratio_format_buffer),
	    cmocka_unit_test(test_percent_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
