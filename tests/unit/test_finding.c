/*
 * test_finding.c - findings as codes with parameters: what the store keeps
 * reads back the same, and is worded in whichever language the reader has,
 * exactly as the checks word it when they find it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "finding.h"
#include "i18n.h"

#ifndef YB_TEST_CATALOG_DIR
#error "YB_TEST_CATALOG_DIR must name server/catalog"
#endif

static struct catalog *cat;

static int setup(void **state)
{
	struct errbuf eb = {{0}};

	(void)state;
	unsetenv("LC_ALL");
	unsetenv("LC_MESSAGES");
	setenv("LANG", "C", 1);
	i18n_init();
	if (catalog_load_dir(YB_TEST_CATALOG_DIR, &cat, &eb) != YB_OK) {
		fprintf(stderr, "default catalog: %s\n", eb.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	catalog_free(cat);
	return 0;
}

/* The sentence for f in language, into a static buffer. */
static const char *render(int language, const struct finding *f, const char *subject, uint32_t line)
{
	static char buf[1024];
	size_t n;

	i18n_set_thread_language(language);
	n = finding_render(f, subject, line, cat, buf, sizeof(buf));
	i18n_set_thread_language(-1);
	assert_int_equal(n, strlen(buf));
	return buf;
}

/* Encodes f, checks the JSON, decodes it and checks it renders the same in both languages. */
static void round_trip(const struct finding *f, const char *subject, uint32_t line,
                       const char *want_json)
{
	struct finding back;
	struct errbuf eb = {{0}};
	char *json = NULL, en[1024], zh[1024];

	assert_int_equal(finding_encode(f, &json), YB_OK);
	assert_string_equal(json, want_json);
	assert_int_equal(finding_decode(finding_code_name(f->code), json, &back, &eb), YB_OK);
	assert_int_equal(back.code, f->code);
	snprintf(en, sizeof(en), "%s", render(I18N_ENGLISH, f, subject, line));
	snprintf(zh, sizeof(zh), "%s", render(I18N_CHINESE, f, subject, line));
	assert_string_equal(render(I18N_ENGLISH, &back, subject, line), en);
	assert_string_equal(render(I18N_CHINESE, &back, subject, line), zh);
	free(json);
}

static void test_rule_violated(void **state)
{
	struct finding f = {.code = FINDING_CODE_RULE_VIOLATED,
	                    .expr = "study_attendance (60) <= study_expected (45)"};

	(void)state;
	assert_string_equal(finding_code_name(f.code), "rule_violated");
	round_trip(&f, "r_study_attendance", 0,
	           "{\"expr\":\"study_attendance (60) <= study_expected (45)\"}");
	assert_string_equal(render(I18N_ENGLISH, &f, "r_study_attendance", 0),
	                    "rule r_study_attendance violated: study_attendance (60) <= "
	                    "study_expected (45): Study attendance is higher than expected "
	                    "attendance; please check the figures.");
	assert_string_equal(render(I18N_CHINESE, &f, "r_study_attendance", 0),
	                    "违反规则 r_study_attendance：study_attendance (60) <= study_expected "
	                    "(45)：参学人次多于应参学人次，请核实。");
	/* A rule the catalog no longer has: the facts, without its message. */
	assert_string_equal(render(I18N_CHINESE, &f, "r_gone", 0),
	                    "违反规则 r_gone：study_attendance (60) <= study_expected (45)");
	assert_string_equal(render(I18N_ENGLISH, &f, "r_gone", 0),
	                    "rule r_gone violated: study_attendance (60) <= study_expected (45)");
}

static void test_rule_skipped(void **state)
{
	struct finding f = {.code = FINDING_CODE_RULE_MISSING,
	                    .missing = {{"survey_valid", false}, {"survey_issued", true}},
	                    .n_missing = 2};
	struct finding z = {.code = FINDING_CODE_RULE_DIV_ZERO};
	struct finding o = {.code = FINDING_CODE_RULE_OVERFLOW};

	(void)state;
	round_trip(&f, "r_survey_valid", 0,
	           "{\"missing\":[{\"code\":\"survey_valid\",\"invalid\":false},"
	           "{\"code\":\"survey_issued\",\"invalid\":true}],\"more\":0}");
	assert_string_equal(render(I18N_ENGLISH, &f, "r_survey_valid", 0),
	                    "rule r_survey_valid skipped: survey_valid not reported, survey_issued "
	                    "has no valid value");
	assert_string_equal(render(I18N_CHINESE, &f, "r_survey_valid", 0),
	                    "规则 r_survey_valid 已跳过：survey_valid 未填报, survey_issued "
	                    "没有有效数值");
	f.n_more = 3;
	assert_string_equal(render(I18N_ENGLISH, &f, "r_x", 0),
	                    "rule r_x skipped: survey_valid not reported, survey_issued has no "
	                    "valid value, ...");
	round_trip(&z, "r_x", 0, "{}");
	assert_string_equal(render(I18N_CHINESE, &z, "r_x", 0), "规则 r_x 已跳过：除数为零");
	round_trip(&o, "r_x", 0, "{}");
	assert_string_equal(render(I18N_ENGLISH, &o, "r_x", 0),
	                    "rule r_x skipped: numbers too large to compare");
}

static void test_outliers(void **state)
{
	struct finding out = {.code = FINDING_CODE_OUTLIER,
	                      .value = "100",
	                      .reference = "3.50",
	                      .limit = 3,
	                      .months = 4};
	struct finding jump = {.code = FINDING_CODE_STOCK_JUMP,
	                       .value = "8",
	                       .reference = "16",
	                       .month = "2026-04",
	                       .limit = 50,
	                       .change = -50 - 1};

	(void)state;
	round_trip(&out, "study_sessions", 4,
	           "{\"value\":\"100\",\"median\":\"3.50\",\"factor\":3,\"months\":4}");
	assert_string_equal(render(I18N_ENGLISH, &out, "study_sessions", 4),
	                    "line 4: study_sessions: 100 is more than 3 times the median of its "
	                    "last 4 months (3.50); please check it");
	assert_string_equal(render(I18N_CHINESE, &out, "study_sessions", 4),
	                    "第 4 行：study_sessions：100 超过中位数的 3 倍（近 4 个月的中位数为 "
	                    "3.50）；请核实");
	round_trip(&jump, "members_total", 2,
	           "{\"value\":\"8\",\"previous\":\"16\",\"month\":\"2026-04\",\"change\":-51,"
	           "\"limit\":50}");
	assert_string_equal(render(I18N_ENGLISH, &jump, "members_total", 2),
	                    "line 2: members_total: 8 is -51% from 16 in 2026-04 (more than 50%); "
	                    "please check it");
	assert_string_equal(render(I18N_CHINESE, &jump, "members_total", 2),
	                    "第 2 行：members_total：8 变动 -51%，上次为 16（2026-04），变动超过 "
	                    "50%；请核实");
}

/* The length comes back whole, like snprintf's, whatever the buffer holds. */
static void test_render_length(void **state)
{
	struct finding f = {.code = FINDING_CODE_RULE_DIV_ZERO};
	struct finding none = {.code = FINDING_CODE_NONE};
	const char *want = "rule r_x skipped: division by zero";
	char small[8];

	(void)state;
	assert_int_equal(finding_render(&f, "r_x", 0, NULL, NULL, 0), strlen(want));
	assert_int_equal(finding_render(&f, "r_x", 0, NULL, small, sizeof(small)), strlen(want));
	assert_string_equal(small, "rule r_");
	assert_int_equal(finding_render(&none, "r_x", 0, NULL, small, sizeof(small)), 0);
	assert_string_equal(small, "");
	assert_string_equal(finding_code_name(FINDING_CODE_NONE), "");
}

/* What the store hands back is checked: nothing malformed becomes a finding. */
static void test_decode_refuses(void **state)
{
	struct finding f;
	struct errbuf eb = {{0}};

	(void)state;
	assert_int_equal(finding_decode("", "{}", &f, &eb), YB_INVALID_ARGUMENT);
	assert_int_equal(finding_decode("no_such_code", "{}", &f, &eb), YB_INVALID_ARGUMENT);
	assert_string_equal(eb.msg, "unknown finding code 'no_such_code'");
	assert_int_equal(finding_decode("outlier", "not json", &f, &eb), YB_INVALID_ARGUMENT);
	assert_int_equal(finding_decode("outlier", "[]", &f, &eb), YB_INVALID_ARGUMENT);
	/* a parameter missing, of the wrong type, out of range, too long */
	assert_int_equal(
	    finding_decode("outlier", "{\"value\":\"1\",\"median\":\"1\",\"factor\":3}", &f, &eb),
	    YB_INVALID_ARGUMENT);
	assert_string_equal(
	    eb.msg, "finding outlier: a parameter is missing, of the wrong type or too long");
	assert_int_equal(finding_decode("outlier",
	                                "{\"value\":1,\"median\":\"1\",\"factor\":3,\"months\":4}",
	                                &f, &eb),
	                 YB_INVALID_ARGUMENT);
	assert_int_equal(
	    finding_decode("outlier",
	                   "{\"value\":\"1\",\"median\":\"1\",\"factor\":0,\"months\":4}", &f, &eb),
	    YB_INVALID_ARGUMENT);
	assert_int_equal(finding_decode("stock_jump",
	                                "{\"value\":\"1\",\"previous\":\"2\",\"month\":"
	                                "\"2026-04-2026-04-2026\",\"change\":1,\"limit\":1}",
	                                &f, &eb),
	                 YB_INVALID_ARGUMENT);
	assert_int_equal(finding_decode("rule_missing_operand",
	                                "{\"missing\":[{\"code\":\"a\"}],\"more\":0}", &f, &eb),
	                 YB_INVALID_ARGUMENT);
	assert_int_equal(finding_decode("rule_missing_operand",
	                                "{\"missing\":[{\"code\":\"a\",\"invalid\":false}],"
	                                "\"more\":0}",
	                                &f, &eb),
	                 YB_OK);
	assert_int_equal(f.n_missing, 1);
	assert_string_equal(f.missing[0].code, "a");
}

/*
 * The return check keeps the code and parameters of every rule finding, and
 * its message is their wording: the same text later from the store.
 */
static void test_check_keeps_codes(void **state)
{
	struct catalog_values v = {0};
	struct catalog_findings f = {0};
	const struct catalog_entry e[] = {
	    {"survey_valid", "12", 2},
	    {"study_attendance", "60", 3},
	    {"study_expected", "45", 4},
	};
	size_t rules = 0;

	(void)state;
	assert_int_equal(catalog_check(cat, e, 3, &v, &f), YB_OK);
	for (size_t i = 0; i < f.n; i++) {
		const struct catalog_finding *x = &f.items[i];
		assert_int_not_equal(x->what.code, FINDING_CODE_NONE);
		assert_string_equal(render(I18N_ENGLISH, &x->what, x->code, (uint32_t)x->line),
		                    x->message);
		if (strcmp(x->code, "r_study_attendance") == 0) {
			assert_int_equal(x->kind, CATALOG_FINDING_WARNING);
			assert_int_equal(x->what.code, FINDING_CODE_RULE_VIOLATED);
			assert_string_equal(x->what.expr,
			                    "study_attendance (60) <= study_expected (45)");
			rules++;
		} else if (strcmp(x->code, "r_survey_valid") == 0) {
			assert_int_equal(x->kind, CATALOG_FINDING_SKIPPED);
			assert_int_equal(x->what.code, FINDING_CODE_RULE_MISSING);
			assert_int_equal(x->what.n_missing, 1);
			assert_string_equal(x->what.missing[0].code, "survey_issued");
			assert_false(x->what.missing[0].invalid);
			rules++;
		}
	}
	assert_int_equal(rules, 2);
	catalog_values_free(&v);
	catalog_findings_clear(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rule_violated),  cmocka_unit_test(test_rule_skipped),
	    cmocka_unit_test(test_outliers),       cmocka_unit_test(test_render_length),
	    cmocka_unit_test(test_decode_refuses), cmocka_unit_test(test_check_keeps_codes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
