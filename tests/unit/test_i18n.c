/*
 * test_i18n.c - messages in the thread's language: the daemon serves a
 * Chinese and an English client at once, each request in its own language,
 * so the choice is per thread and must not leak between threads. Common code
 * (numbers, periods, the return check) answers in that language; a violated
 * rule carries the catalog's own Chinese or English message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "decimal.h"
#include "i18n.h"
#include "period.h"

#ifndef YB_TEST_CATALOG_DIR
#error "YB_TEST_CATALOG_DIR must name server/catalog"
#endif

static int setup(void **state)
{
	(void)state;
	/* English for the process, whatever the environment; threads choose. */
	unsetenv("LC_ALL");
	unsetenv("LC_MESSAGES");
	setenv("LANG", "C", 1);
	i18n_init();
	return 0;
}

static void test_codes(void **state)
{
	(void)state;
	assert_int_equal(i18n_parse("zh_CN.UTF-8"), I18N_CHINESE);
	assert_int_equal(i18n_parse("zh-CN"), I18N_CHINESE);
	assert_int_equal(i18n_parse("zh"), I18N_CHINESE);
	assert_int_equal(i18n_parse("en_US.UTF-8"), I18N_ENGLISH);
	assert_int_equal(i18n_parse("C"), I18N_ENGLISH);
	assert_int_equal(i18n_parse(""), I18N_ENGLISH);
	assert_int_equal(i18n_parse(NULL), I18N_ENGLISH);
	assert_string_equal(i18n_code(I18N_CHINESE), "zh");
	assert_string_equal(i18n_code(I18N_ENGLISH), "en");
}

static void test_thread_language(void **state)
{
	struct errbuf eb = {{0}};
	int64_t v;
	int month;

	(void)state;
	assert_int_equal(i18n_language(), I18N_ENGLISH);
	assert_string_equal(_("value is empty"), "value is empty");
	i18n_set_thread_language(I18N_CHINESE);
	assert_int_equal(i18n_language(), I18N_CHINESE);
	assert_string_equal(_("value is empty"), "数值为空");
	assert_int_equal(dec_parse_entry("2.5", 0, &v, &eb), YB_INVALID_ARGUMENT);
	assert_string_equal(eb.msg, "“2.5”不是整数");
	assert_int_equal(period_parse_month("2026Q2", &month, &eb), YB_INVALID_ARGUMENT);
	assert_string_equal(eb.msg, "报告期“2026Q2”：月报按月报送；请给出一个月份，如 2026-06");
	/* A message without a translation stays as written. */
	assert_string_equal(_("no such message"), "no such message");
	i18n_set_thread_language(-1);
	assert_int_equal(i18n_language(), I18N_ENGLISH);
	assert_int_equal(dec_parse_entry("2.5", 0, &v, &eb), YB_INVALID_ARGUMENT);
	assert_string_equal(eb.msg, "\"2.5\" is not a whole number");
}

/* One finding of a violated rule, in the thread's language. */
static void rule_message(int language, char *out, size_t len)
{
	struct catalog *c = NULL;
	struct errbuf eb = {{0}};
	struct catalog_values v = {0};
	struct catalog_findings f = {0};
	const struct catalog_entry e[] = {
	    {"survey_issued", "10", 2},
	    {"survey_valid", "12", 3},
	};

	i18n_set_thread_language(language);
	if (catalog_load_dir(YB_TEST_CATALOG_DIR, &c, &eb) != YB_OK)
		fail_msg("default catalog: %s", eb.msg);
	assert_int_equal(catalog_check(c, e, 2, &v, &f), YB_INVALID_ARGUMENT);
	out[0] = '\0';
	for (size_t i = 0; i < f.n; i++)
		if (strcmp(f.items[i].code, "r_survey_valid") == 0)
			snprintf(out, len, "%s", f.items[i].message);
	catalog_values_free(&v);
	catalog_findings_clear(&f);
	catalog_free(c);
	i18n_set_thread_language(-1);
}

static void test_rule_messages(void **state)
{
	char msg[512];

	(void)state;
	rule_message(I18N_CHINESE, msg, sizeof(msg));
	assert_string_equal(msg,
	                    "违反规则 r_survey_valid：survey_valid (12) <= survey_issued (10)："
	                    "回收有效问卷数不能多于发放调查问卷数。");
	rule_message(I18N_ENGLISH, msg, sizeof(msg));
	assert_string_equal(msg, "rule r_survey_valid violated: survey_valid (12) <= survey_issued "
	                         "(10): Valid questionnaires returned cannot exceed questionnaires "
	                         "issued.");
}

struct worker {
	int language;
	int mismatches;
};

/* Asks for the same message many times; the answer must stay in the thread's language. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const char *want = w->language == I18N_CHINESE ? "数值为空" : "value is empty";

	i18n_set_thread_language(w->language);
	for (int i = 0; i < 20000; i++)
		if (strcmp(_("value is empty"), want) != 0)
			w->mismatches++;
	return NULL;
}

static void test_threads_do_not_mix(void **state)
{
	struct worker w[4] = {
	    {I18N_CHINESE, 0}, {I18N_ENGLISH, 0}, {I18N_CHINESE, 0}, {I18N_ENGLISH, 0}};
	pthread_t t[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].mismatches, 0);
	}
	assert_int_equal(i18n_language(), I18N_ENGLISH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_codes),
	    cmocka_unit_test(test_thread_language),
	    cmocka_unit_test(test_rule_messages),
	    cmocka_unit_test(test_threads_do_not_mix),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
