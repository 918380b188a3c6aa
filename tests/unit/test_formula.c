/*
 * test_formula.c - the formula engine as indicators and validation rules use
 * it: precedence, exact values, division by zero and missing operands giving
 * no value, rules for every operator, and parse errors naming the column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "formula.h"

/* Element values for a lookup: hundredths, or missing when absent from the table. */
struct var {
	const char *code;
	int64_t hundredths;
};

struct table {
	const struct var *vars;
	size_t n;
	int calls;
};

static bool lookup(void *ctx, const char *code, struct dec_ratio *out)
{
	struct table *t = ctx;
	size_t i;

	t->calls++;
	for (i = 0; i < t->n; i++) {
		if (strcmp(t->vars[i].code, code) == 0) {
			*out = dec_ratio_from_hundredths(t->vars[i].hundredths);
			return true;
		}
	}
	return false;
}

static const struct var default_vars[] = {
    {"a", 200},  /* 2 */
    {"b", 300},  /* 3 */
    {"c", 400},  /* 4 */
    {"zero", 0}, /* 0 */
    {"study_attendance", 4500},
    {"study_expected", 6000},
    {"members_total", 1200},
    {"members_excellent", 300},
    {"members_qualified", 800},
    {"donations_yuan", 1005}, /* 10.05 */
};

static struct table tbl = {default_vars, sizeof(default_vars) / sizeof(default_vars[0]), 0};

static struct formula *parse_ok(const char *text)
{
	struct errbuf eb = {{0}};
	struct formula *f = NULL;

	if (formula_parse(text, &f, &eb) != YB_OK)
		fail_msg("formula_parse(\"%s\") failed: %s", text, eb.msg);
	assert_non_null(f);
	return f;
}

static struct formula *rule_ok(const char *text)
{
	struct errbuf eb = {{0}};
	struct formula *f = NULL;

	if (formula_parse_rule(text, &f, &eb) != YB_OK)
		fail_msg("formula_parse_rule(\"%s\") failed: %s", text, eb.msg);
	assert_non_null(f);
	return f;
}

/* Evaluates text and returns its value formatted with `decimals` digits. */
static const char *value(const char *text, int decimals)
{
	static char buf[64];
	struct formula *f = parse_ok(text);
	struct dec_ratio v;
	enum formula_result res = formula_eval(f, lookup, &tbl, &v);

	formula_free(f);
	if (res != FORMULA_VALUE)
		fail_msg("\"%s\" gave result %d, expected a value", text, (int)res);
	assert_int_equal(dec_ratio_format(v, decimals, buf, sizeof(buf)), YB_OK);
	return buf;
}

static enum formula_result result(const char *text)
{
	struct formula *f = parse_ok(text);
	struct dec_ratio v = {77, 1};
	enum formula_result res = formula_eval(f, lookup, &tbl, &v);

	formula_free(f);
	if (res != FORMULA_VALUE) {
		/* No value means *out is left alone. */
		assert_true(v.num == 77 && v.den == 1);
	}
	return res;
}

/* Evaluates a rule; returns 1 holds, 0 violated, -1 skipped (with *why the result). */
static int rule(const char *text, enum formula_result *why)
{
	struct formula *f = rule_ok(text);
	bool holds = false;
	enum formula_result res = formula_eval_rule(f, lookup, &tbl, &holds);

	assert_true(formula_is_rule(f));
	formula_free(f);
	if (why != NULL)
		*why = res;
	if (res != FORMULA_VALUE)
		return -1;
	return holds ? 1 : 0;
}

/* Asserts text is refused as an expression (or rule) with a message containing want. */
static void refused(const char *text, bool as_rule, const char *want)
{
	struct errbuf eb = {{0}};
	struct formula *f = NULL;
	int rc = as_rule ? formula_parse_rule(text, &f, &eb) : formula_parse(text, &f, &eb);

	assert_int_equal(rc, YB_INVALID_ARGUMENT);
	assert_null(f);
	if (strstr(eb.msg, want) == NULL)
		fail_msg("message for \"%s\" is \"%s\", expected it to contain \"%s\"", text,
		         eb.msg, want);
}

static void test_precedence(void **state)
{
	(void)state;
	assert_string_equal(value("1 + 2 * 3", 0), "7");
	assert_string_equal(value("a + b * c", 0), "14");
	assert_string_equal(value("a * b + c", 0), "10");
	assert_string_equal(value("c - b - a", 0), "-1"); /* left associative */
	assert_string_equal(value("24 / c / b", 0), "2"); /* left associative */
	assert_string_equal(value("a - b + c", 0), "3");
	assert_string_equal(value("c / a * b", 0), "6");
	assert_string_equal(value("1+2*3-4/2", 0), "5");
}

static void test_parentheses(void **state)
{
	(void)state;
	assert_string_equal(value("(a + b) * c", 0), "20");
	assert_string_equal(value("a * (b + c)", 0), "14");
	assert_string_equal(value("((((a))))", 0), "2");
	assert_string_equal(value("c - (b - a)", 0), "3");
	assert_string_equal(value("24 / (c / a)", 0), "12");
}

static void test_unary_minus(void **state)
{
	(void)state;
	assert_string_equal(value("-a", 0), "-2");
	assert_string_equal(value("-a * b", 0), "-6");
	assert_string_equal(value("a - -b", 0), "5");
	assert_string_equal(value("--a", 0), "2");
	assert_string_equal(value("-(a + b)", 0), "-5");
	assert_string_equal(value("c * -a", 0), "-8");
	assert_string_equal(value("-zero", 0), "0");
}

static void test_numbers_exact(void **state)
{
	(void)state;
	assert_string_equal(value("0.1 + 0.2", 2), "0.30");
	assert_string_equal(value("1.5", 1), "1.5");
	assert_string_equal(value("0.000001 * 1000000", 0), "1");
	assert_string_equal(value("donations_yuan * 3", 2), "30.15");
	assert_string_equal(value("2 / 3", 1), "0.7");
	assert_string_equal(value("2 / 3", 6), "0.666667");
	/* The default catalog's coverage rate: 45 / 60 * 100 = 75.0 %. */
	assert_string_equal(value("study_attendance / study_expected * 100", 1), "75.0");
	/* Exactness: (1/3) * 3 is exactly 1, not 0.999... */
	assert_string_equal(value("1 / 3 * 3 - 1", 6), "0.000000");
	assert_string_equal(value("123456789012345678.999999", 6), "123456789012345678.999999");
}

static void test_division_by_zero_gives_no_value(void **state)
{
	(void)state;
	assert_int_equal(result("a / zero"), FORMULA_DIV_ZERO);
	assert_int_equal(result("a / 0"), FORMULA_DIV_ZERO);
	assert_int_equal(result("a / (b - b)"), FORMULA_DIV_ZERO);
	assert_int_equal(result("study_attendance / zero * 100"), FORMULA_DIV_ZERO);
	/* Zero divided by something is a value. */
	assert_string_equal(value("zero / a", 1), "0.0");
}

static void test_missing_operand(void **state)
{
	(void)state;
	/* "Missing is not zero": any missing operand means no value. */
	assert_int_equal(result("nothing"), FORMULA_MISSING);
	assert_int_equal(result("a + nothing"), FORMULA_MISSING);
	assert_int_equal(result("nothing * 0"), FORMULA_MISSING);
	assert_int_equal(result("-nothing"), FORMULA_MISSING);
	/* Missing outranks division by zero, on either side. */
	assert_int_equal(result("nothing / 0"), FORMULA_MISSING);
	assert_int_equal(result("a / 0 + nothing"), FORMULA_MISSING);
	/* Without a lookup every element is missing; constants still evaluate. */
	{
		struct formula *f = parse_ok("a + 1");
		struct formula *g = parse_ok("1 + 1");
		struct dec_ratio v;
		assert_int_equal(formula_eval(f, NULL, NULL, &v), FORMULA_MISSING);
		assert_int_equal(formula_eval(g, NULL, NULL, &v), FORMULA_VALUE);
		assert_true(v.num == 2 && v.den == 1);
		formula_free(f);
		formula_free(g);
	}
}

static void test_overflow(void **state)
{
	(void)state;
	assert_int_equal(result("999999999999999999 * 999999999999999999 * 999999999999999999"),
	                 FORMULA_OVERFLOW);
	assert_int_equal(result("1 / 999999999999999999 / 999999999999999999 / "
	                        "999999999999999999"),
	                 FORMULA_OVERFLOW);
}

static void test_codes_listed(void **state)
{
	const char *const *codes = NULL;
	struct formula *f;
	size_t n;

	(void)state;
	f = parse_ok("study_attendance / study_expected * 100 + study_attendance - x1_y");
	n = formula_codes(f, &codes);
	assert_int_equal(n, 3);
	assert_string_equal(codes[0], "study_attendance");
	assert_string_equal(codes[1], "study_expected");
	assert_string_equal(codes[2], "x1_y");
	assert_string_equal(formula_text(f),
	                    "study_attendance / study_expected * 100 + study_attendance - x1_y");
	assert_false(formula_is_rule(f));
	formula_free(f);

	/* Unknown codes are listed too: the catalog checks them against its elements. */
	f = rule_ok("no_such_element <= members_total");
	n = formula_codes(f, &codes);
	assert_int_equal(n, 2);
	assert_string_equal(codes[0], "no_such_element");
	assert_string_equal(codes[1], "members_total");
	formula_free(f);

	f = parse_ok("1 + 2");
	assert_int_equal(formula_codes(f, &codes), 0);
	formula_free(f);
	formula_free(NULL);
}

static void test_rules_each_operator(void **state)
{
	(void)state;
	assert_int_equal(rule("a <= b", NULL), 1);
	assert_int_equal(rule("a <= a", NULL), 1);
	assert_int_equal(rule("b <= a", NULL), 0);
	assert_int_equal(rule("a < b", NULL), 1);
	assert_int_equal(rule("a < a", NULL), 0);
	assert_int_equal(rule("a = 2", NULL), 1);
	assert_int_equal(rule("a = b", NULL), 0);
	assert_int_equal(rule("0.1 + 0.2 = 0.3", NULL), 1);
	assert_int_equal(rule("b >= a", NULL), 1);
	assert_int_equal(rule("a >= a", NULL), 1);
	assert_int_equal(rule("a >= b", NULL), 0);
	assert_int_equal(rule("b > a", NULL), 1);
	assert_int_equal(rule("a > a", NULL), 0);
	assert_int_equal(rule("a != b", NULL), 1);
	assert_int_equal(rule("a != 2", NULL), 0);
	assert_int_equal(rule("a<b", NULL), 1);
	assert_int_equal(rule("-a<-b", NULL), 0);
}

static void test_rules_catalog_and_skips(void **state)
{
	enum formula_result why;

	(void)state;
	/* 3 + 8 <= 12 holds; the error rule from SPEC §9. */
	assert_int_equal(rule("members_excellent + members_qualified <= members_total", NULL), 1);
	assert_int_equal(rule("members_excellent + members_qualified + a <= members_total", NULL),
	                 0);
	/* A rule with a missing operand is skipped, never "violated". */
	assert_int_equal(rule("survey_valid <= survey_issued", &why), -1);
	assert_int_equal(why, FORMULA_MISSING);
	assert_int_equal(rule("a <= nothing", &why), -1);
	assert_int_equal(why, FORMULA_MISSING);
	assert_int_equal(rule("a / zero <= 1", &why), -1);
	assert_int_equal(why, FORMULA_DIV_ZERO);
}

static void test_rule_and_expression_apart(void **state)
{
	struct formula *f = parse_ok("a + b");
	struct formula *r = rule_ok("a <= b");
	struct dec_ratio v = {5, 1};
	bool holds = true;

	(void)state;
	/* Each evaluator refuses the other kind rather than give a bogus answer. */
	assert_int_not_equal(formula_eval(r, lookup, &tbl, &v), FORMULA_VALUE);
	assert_int_not_equal(formula_eval_rule(f, lookup, &tbl, &holds), FORMULA_VALUE);
	assert_true(v.num == 5 && holds);
	formula_free(f);
	formula_free(r);
	refused("a <= b", false, "column 3: a comparison is only allowed in a rule");
	refused("a + b", true, "column 6: expected a comparison");
}

static void test_parse_errors_name_column(void **state)
{
	(void)state;
	refused("", false, "column 1: formula is empty");
	refused("   ", false, "formula is empty");
	refused(NULL, false, "formula is empty");
	refused("(a + b", false, "column 7: expected ')' to close the '(' at column 1");
	refused("a + b)", false, "column 6: ')' without a matching '('");
	refused("a +", false, "column 4: expected a number, an element code or '(', found end");
	refused("a + * b", false, "column 5: expected a number, an element code or '(', found '*'");
	refused("a b", false, "column 3: expected an operator or end of text, found 'b'");
	refused("Members_total", false, "column 1: element codes are lower case");
	refused("a + _b", false, "column 5:");
	refused("2a", false, "column 2:");
	refused("a # b", false, "column 3:");
	refused("1.", false, "column 3: expected a digit after '.'");
	refused("1.1234567", false, "column 1: number has more than 6 decimals");
	refused("1234567890123456789", false, "column 1: number has more than 18 digits");
	refused("()", false, "column 2:");
	refused("a + 党员", false,
	        "column 5: expected a number, an element code or '(', found byte 0xE5");
	refused("a <= ", true, "column 6:");
	refused("a <= b <= c", true, "column 8: expected end of text, found '<'");
	refused("a == b", true, "column 4:");
	refused("a => b", true, "column 4: expected a number, an element code or '(', found '>'");
}

static void test_depth_limit(void **state)
{
	char text[400];
	struct formula *f;
	int i, n;

	(void)state;
	/* 64 levels of parentheses are fine ... */
	n = 0;
	for (i = 0; i < 64; i++)
		text[n++] = '(';
	text[n++] = 'a';
	for (i = 0; i < 64; i++)
		text[n++] = ')';
	text[n] = '\0';
	f = parse_ok(text);
	assert_string_equal(value(text, 0), "2");
	formula_free(f);

	/* ... 65 are refused, and so are 65 unary minuses and 1000 parentheses. */
	n = 0;
	for (i = 0; i < 65; i++)
		text[n++] = '(';
	text[n++] = 'a';
	for (i = 0; i < 65; i++)
		text[n++] = ')';
	text[n] = '\0';
	refused(text, false, "column 65: nested deeper than 64 levels");

	memset(text, '-', 65);
	text[65] = 'a';
	text[66] = '\0';
	refused(text, false, "nested deeper than 64 levels");
}

static void test_deep_and_long_inputs(void **state)
{
	static char text[FORMULA_MAX_TEXT + 100];
	size_t n = 0;

	(void)state;
	memset(text, '(', 1000);
	text[1000] = '\0';
	refused(text, false, "nested deeper than 64 levels");

	/* The longest accepted text: a long sum, evaluated exactly. */
	while (n + 4 <= FORMULA_MAX_TEXT) {
		memcpy(text + n, n == 0 ? "  a" : " + a", n == 0 ? 3 : 4);
		n += n == 0 ? 3 : 4;
	}
	text[n] = '\0';
	assert_string_equal(value(text, 0), "512");

	memset(text, ' ', FORMULA_MAX_TEXT);
	text[0] = '1';
	text[FORMULA_MAX_TEXT] = '\0';
	assert_string_equal(value(text, 0), "1");
	text[FORMULA_MAX_TEXT] = ' ';
	text[FORMULA_MAX_TEXT + 1] = '\0';
	refused(text, false, "longer than 1024 bytes");

	/* Over-long element codes. */
	memset(text, 'x', 65);
	text[65] = '\0';
	refused(text, false, "longer than 64 characters");
}

static void test_lookup_called_per_use(void **state)
{
	struct formula *f = parse_ok("a + a * a");
	struct dec_ratio v;

	(void)state;
	tbl.calls = 0;
	assert_int_equal(formula_eval(f, lookup, &tbl, &v), FORMULA_VALUE);
	assert_true(tbl.calls >= 1);
	assert_true(v.num == 6 && v.den == 1);
	formula_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_precedence),
	    cmocka_unit_test(test_parentheses),
	    cmocka_unit_test(test_unary_minus),
	    cmocka_unit_test(test_numbers_exact),
	    cmocka_unit_test(test_division_by_zero_gives_no_value),
	    cmocka_unit_test(test_missing_operand),
	    cmocka_unit_test(test_overflow),
	    cmocka_unit_test(test_codes_listed),
	    cmocka_unit_test(test_rules_each_operator),
	    cmocka_unit_test(test_rules_catalog_and_skips),
	    cmocka_unit_test(test_rule_and_expression_apart),
	    cmocka_unit_test(test_parse_errors_name_column),
	    cmocka_unit_test(test_depth_limit),
	    cmocka_unit_test(test_deep_and_long_inputs),
	    cmocka_unit_test(test_lookup_called_per_use),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
