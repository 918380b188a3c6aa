/*
 * test_narrative.c - the report's narrative templates (client/narrative.c)
 * and the wording they share with the other formats (client/report.c):
 * placeholders filled from a report over the default catalog, change
 * phrases in both languages, 万, "—" with footnotes, and mistakes named by
 * line and column. The figures are set by hand in the reply the server
 * would send; report_check accepts them as it does the server's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "catalog.h"
#include "i18n.h"
#include "narrative.h"
#include "report.h"

static struct catalog *cat;

/* One consolidated reply with a single group holding every figure of cat. */
struct fixture {
	Yuebao__V1__ConsolidateReply reply;
	Yuebao__V1__Group group, *groups[1];
	Yuebao__V1__Figure *figures;
	Yuebao__V1__Figure **list;
	struct report rep;
};

static void set(struct fixture *fx, const char *code, const char *value, const char *previous,
                const char *change, const char *unit)
{
	for (size_t k = 0; k < fx->group.n_figures; k++)
		if (strcmp(fx->figures[k].code, code) == 0) {
			fx->figures[k].value = (char *)value;
			fx->figures[k].previous = (char *)previous;
			fx->figures[k].change = (char *)change;
			fx->figures[k].change_unit = (char *)unit;
			return;
		}
	fail_msg("no figure %s", code);
}

static struct fixture *fixture_new(void)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	size_t n = cat->n_elements + cat->n_indicators;

	assert_non_null(fx);
	fx->figures = calloc(n, sizeof(*fx->figures));
	fx->list = calloc(n, sizeof(*fx->list));
	assert_non_null(fx->figures);
	assert_non_null(fx->list);
	yuebao__v1__consolidate_reply__init(&fx->reply);
	yuebao__v1__group__init(&fx->group);
	for (size_t k = 0; k < n; k++) {
		Yuebao__V1__Figure *f = &fx->figures[k];
		yuebao__v1__figure__init(f);
		f->code = k < cat->n_elements ? cat->elements[k].code
		                              : cat->indicators[k - cat->n_elements].code;
		fx->list[k] = f;
	}
	fx->group.figures = fx->list;
	fx->group.n_figures = n;
	fx->group.expected = 30;
	fx->group.present = 29;
	fx->group.previous_expected = 30;
	fx->group.previous_present = 30;
	fx->groups[0] = &fx->group;
	fx->reply.groups = fx->groups;
	fx->reply.n_groups = 1;
	fx->reply.org = (char *)"JGDW";
	fx->reply.org_name = (char *)"机关党委";
	fx->reply.period = (char *)"2026H1";
	fx->reply.previous_period = (char *)"2025H1";
	fx->reply.compare = (char *)"yoy";
	fx->rep.cat = cat;
	fx->rep.total = fx->rep.by_org = fx->rep.by_month = &fx->reply;
	fx->rep.zone = tz_utc();
	snprintf(fx->rep.cutoff, sizeof(fx->rep.cutoff), "2026-06");
	set(fx, "study_sessions", "16", "14", "14.3", "%");
	set(fx, "meetings_held", "46", "52", "-11.5", "%");
	set(fx, "study_coverage_rate", "99.0", "95.3", "3.7", "pp");
	set(fx, "party_lectures", "6", "6", "0.0", "%");
	set(fx, "donations_yuan", "28000.00", "18040.50", "55.2", "%");
	set(fx, "seminars", "4", "0", "", "");
	set(fx, "guest_lectures", "3", "", "", "");
	return fx;
}

static void fixture_free(struct fixture *fx)
{
	free(fx->figures);
	free(fx->list);
	free(fx);
}

/* The template rendered against fx, as a malloc'd string. */
static char *render(struct fixture *fx, const char *tmpl)
{
	struct narrative *n = NULL;
	struct errbuf eb = {{0}};
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	if (narrative_parse(cat, "t.md", tmpl, strlen(tmpl), &n, &eb) != YB_OK)
		fail_msg("parse: %s", eb.msg);
	assert_int_equal(report_check(&fx->rep, &eb), YB_OK);
	assert_int_equal(narrative_render(n, &fx->rep, f, &eb), YB_OK);
	fclose(f);
	narrative_free(n);
	return out;
}

static void test_figures_in_chinese(void **state)
{
	struct fixture *fx = fixture_new();
	char *out;

	(void)state;
	i18n_set_thread_language(I18N_CHINESE);
	out = render(fx, "组织集中学习{{study_sessions}}次（上年{{ study_sessions.previous }}次），"
	                 "{{study_sessions.change}}；会议{{meetings_held.change}}，"
	                 "{{meetings_held.change_abs}}；覆盖率{{study_coverage_rate}}%，"
	                 "{{study_coverage_rate.change}}（{{study_coverage_rate.change_abs}}）；"
	                 "党课{{party_lectures.change}}；捐款{{donations_yuan|万}}元，"
	                 "上年{{donations_yuan.previous | 亿}}元；{{donations_yuan.name}}"
	                 "（{{donations_yuan.unit}}）。\n{{period}}/{{previous_period}}/{{org}}/"
	                 "{{cutoff}}/{{completeness}}/{{previous_completeness}}\n");
	assert_string_equal(out, "组织集中学习16次（上年14次），增长14.3%；会议下降11.5%，-11.5%；"
	                         "覆盖率99.0%，提高3.7个百分点（+3.7个百分点）；党课持平；"
	                         "捐款2.80万元，上年0.00亿元；党员捐款（元）。\n"
	                         "2026年上半年/2025年上半年/机关党委/数据截至2026年6月/"
	                         "应报30份，实报29份（96.7%）/应报30份，实报30份（100.0%）\n");
	free(out);
	i18n_set_thread_language(-1);
	fixture_free(fx);
}

static void test_figures_in_english(void **state)
{
	struct fixture *fx = fixture_new();
	char *out;

	(void)state;
	i18n_set_thread_language(I18N_ENGLISH);
	out = render(fx, "{{study_sessions.change}}, {{meetings_held.change}}, "
	                 "{{study_coverage_rate.change}}, {{study_coverage_rate.change_abs}}, "
	                 "{{party_lectures.change}}; {{period}}; {{cutoff}}; {{completeness}}");
	assert_string_equal(out, "up 14.3%, down 11.5%, up 3.7 percentage points, +3.7 pp, "
	                         "unchanged; 2026 H1; Data up to June 2026; 29 of 30 returns "
	                         "(96.7%)");
	free(out);
	i18n_set_thread_language(-1);
	fixture_free(fx);
}

/* No data is "—" with a footnote saying why, never 0; one note per reason. */
static void test_gaps_are_footnoted(void **state)
{
	struct fixture *fx = fixture_new();
	char *out;

	(void)state;
	i18n_set_thread_language(I18N_CHINESE);
	out = render(fx, "A{{warning_films}} B{{warning_films.change}} C{{seminars.change}} "
	                 "D{{guest_lectures.previous}} E{{guest_lectures.change}} "
	                 "F{{reflections|万}}\n");
	assert_string_equal(out, "A—[^1] B—[^1] C—[^2] D—[^3] E—[^3] F—[^1]\n\n"
	                         "[^1]: 本期无数据：所辖单位均未填报此项，或计算该指标所需的数据"
	                         "未填报、分母为零；不以0计。\n"
	                         "[^2]: 对比期数值为零，增减幅度无法计算。\n"
	                         "[^3]: 对比期无数据，无法比较。\n");
	free(out);
	/* without a comparison, every previous value and change says so */
	fx->reply.previous_period = (char *)"";
	out = render(fx, "{{study_sessions}} {{study_sessions.previous}}");
	assert_string_equal(out, "16 —[^1]\n\n[^1]: 本报告未设对比期间。\n");
	free(out);
	i18n_set_thread_language(-1);
	fixture_free(fx);
}

static void expect_error(const char *tmpl, const char *msg)
{
	struct narrative *n = NULL;
	struct errbuf eb = {{0}};

	assert_int_equal(narrative_parse(cat, "t.md", tmpl, strlen(tmpl), &n, &eb),
	                 YB_INVALID_ARGUMENT);
	assert_null(n);
	assert_string_equal(eb.msg, msg);
}

/* Every mistake names its line and column (in characters) before anything is written. */
static void test_mistakes_named(void **state)
{
	(void)state;
	i18n_set_thread_language(I18N_ENGLISH);
	expect_error("第一行\n学习{{study_sesions}}次",
	             "t.md: line 2, column 5: unknown code 'study_sesions': not an element or "
	             "indicator of the catalog");
	expect_error("{{ seminars.chnage }}",
	             "t.md: line 1, column 13: unknown field 'chnage': use previous, change, "
	             "change_abs, name or unit");
	expect_error("ok\n\n  {{donations_yuan|千}}",
	             "t.md: line 3, column 20: unknown filter '千': use 万 or 亿");
	expect_error("{{seminars.change|万}}",
	             "t.md: line 1, column 19: the filter '万' applies to a value or previous "
	             "value only");
	expect_error("{{period|万}}", "t.md: line 1, column 10: the filter '万' applies to a "
	                              "value or previous value only");
	expect_error("x {{seminars\n}}", "t.md: line 1, column 3: '{{' is not closed by '}}' on "
	                                 "the same line within 256 bytes");
	expect_error("{{ }}", "t.md: line 1, column 3: empty placeholder: write a code such as "
	                      "{{study_sessions}}");
	expect_error("ab\xff",
	             "t.md: line 1, column 3: not UTF-8 text: save the template as UTF-8");
	i18n_set_thread_language(-1);
}

/* The catalog's own template parses and uses every element and indicator. */
static void test_default_template_covers_catalog(void **state)
{
	const struct catalog_file *f = &cat->files[CATALOG_FILE_REPORT];
	struct narrative *n = NULL;
	struct errbuf eb = {{0}};

	(void)state;
	assert_non_null(f->data);
	if (narrative_parse(cat, "report.md", f->data, f->len, &n, &eb) != YB_OK)
		fail_msg("report.md: %s", eb.msg);
	narrative_free(n);
	for (size_t k = 0; k < cat->n_elements + cat->n_indicators; k++) {
		const char *code = k < cat->n_elements ? cat->elements[k].code
		                                       : cat->indicators[k - cat->n_elements].code;
		char a[80], b[80], c[80];
		snprintf(a, sizeof(a), "{{%s}}", code);
		snprintf(b, sizeof(b), "{{%s|", code);
		snprintf(c, sizeof(c), "{{%s.", code);
		if (strstr(f->data, a) == NULL && strstr(f->data, b) == NULL &&
		    strstr(f->data, c) == NULL)
			fail_msg("report.md does not use %s", code);
	}
	for (size_t i = 0; i < cat->n_sections; i++)
		if (strstr(f->data, cat->sections[i].name_zh) == NULL)
			fail_msg("report.md has no section %s", cat->sections[i].name_zh);
	assert_non_null(strstr(f->data, "{{provenance}}"));
}

/* report_check refuses figures that do not follow the catalog. */
static void test_check_catches_catalog_change(void **state)
{
	struct fixture *fx = fixture_new();
	struct errbuf eb = {{0}};

	(void)state;
	fx->figures[3].code = (char *)"renamed";
	assert_int_equal(report_check(&fx->rep, &eb), YB_FAILED_PRECONDITION);
	assert_non_null(strstr(eb.msg, "'renamed'"));
	fx->group.n_figures--;
	assert_int_equal(report_check(&fx->rep, &eb), YB_FAILED_PRECONDITION);
	fixture_free(fx);
}

static void test_period_words(void **state)
{
	static const char *const cases[][3] = {
	    {"2026H1", "2026年上半年", "2026 H1"},
	    {"2026H2", "2026年下半年", "2026 H2"},
	    {"2026Q2", "2026年第二季度", "2026 Q2"},
	    {"2026", "2026年度", "2026"},
	    {"2026-06", "2026年6月", "June 2026"},
	    {"2025-11..2026-02", "2025年11月至2026年2月", "November 2025 to February 2026"},
	};
	char buf[80];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		i18n_set_thread_language(I18N_CHINESE);
		report_period_words(cases[i][0], buf, sizeof(buf));
		assert_string_equal(buf, cases[i][1]);
		i18n_set_thread_language(I18N_ENGLISH);
		report_period_words(cases[i][0], buf, sizeof(buf));
		assert_string_equal(buf, cases[i][2]);
	}
	i18n_set_thread_language(-1);
}

int main(void)
{
	struct errbuf eb = {{0}};
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_figures_in_chinese),
	    cmocka_unit_test(test_figures_in_english),
	    cmocka_unit_test(test_gaps_are_footnoted),
	    cmocka_unit_test(test_mistakes_named),
	    cmocka_unit_test(test_default_template_covers_catalog),
	    cmocka_unit_test(test_check_catches_catalog_change),
	    cmocka_unit_test(test_period_words),
	};
	int rc;

	i18n_init();
	if (catalog_load_dir(YB_TEST_CATALOG_DIR, &cat, &eb) != YB_OK) {
		fprintf(stderr, "default catalog: %s\n", eb.msg);
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	catalog_free(cat);
	return rc;
}
