/*
 * test_catalog.c - the catalog and the return check: the shipped default
 * catalog is SPEC §9; an administrator's mistake in a catalog file is named
 * by file, line and column; a clerk's return gets every finding at once;
 * values are exact and typed as people type them (1,200 and 1200.00); return
 * files as Excel writes them (UTF-8 with or without BOM, GB18030 with CRLF,
 * quoted thousands, blank cells, a note column) read into the right values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "i18n.h"
#include "period.h"
#include "returnfile.h"

#ifndef YB_TEST_CATALOG_DIR
#error "YB_TEST_CATALOG_DIR must name server/catalog"
#endif

/* ---- helpers ---------------------------------------------------------- */

static struct catalog *default_catalog(void)
{
	struct catalog *c = NULL;
	struct errbuf eb = {{0}};
	if (catalog_load_dir(YB_TEST_CATALOG_DIR, &c, &eb) != YB_OK)
		fail_msg("default catalog: %s", eb.msg);
	return c;
}

static void write_file(const char *dir, const char *name, const char *text, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void remove_file(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

#define EL_HEAD "code,section,name_zh,name_en,unit,type,aggregation,min,max\n"
#define IND_HEAD "code,name_zh,name_en,unit,formula,decimals,change\n"
#define RULE_HEAD "code,rule,severity,message_zh,message_en\n"

#define EL_OK                                                                                      \
	EL_HEAD "a,s,甲,A,人,int,sum,,\n"                                                        \
	        "b,s,乙,B,人,int,last,,\n"
#define IND_OK IND_HEAD "ab,比,Ratio,%,a / b * 100,1,points\n"
#define RULE_OK RULE_HEAD "r_ab,a <= b,error,甲不能多于乙,A cannot exceed B\n"

/* Loads a catalog from texts via a temp dir; returns status, eb filled. */
static int load_texts(const char *el, const char *ind, const char *rules, struct catalog **out,
                      struct errbuf *eb)
{
	char dir[] = "/tmp/test_catalog_XXXXXX";
	int rc;

	assert_non_null(mkdtemp(dir));
	write_file(dir, "elements.csv", el, strlen(el));
	write_file(dir, "indicators.csv", ind, strlen(ind));
	write_file(dir, "rules.csv", rules, strlen(rules));
	rc = catalog_load_dir(dir, out, eb);
	remove_file(dir, "elements.csv");
	remove_file(dir, "indicators.csv");
	remove_file(dir, "rules.csv");
	rmdir(dir);
	return rc;
}

static const struct catalog_finding *find(const struct catalog_findings *f, const char *code)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->items[i].code, code) == 0)
			return &f->items[i];
	return NULL;
}

/* ---- the default catalog ---------------------------------------------- */

static void test_default_catalog(void **state)
{
	(void)state;
	struct catalog *c = default_catalog();
	static const char *const sections[] = {"org", "ideology", "organization", "conduct",
	                                       "integrity"};
	size_t amounts = 0, lasts = 0, errors = 0, warnings = 0;

	/* SPEC §9: 81 elements, 16 indicators, 14 rules (11 errors, 3 warnings) */
	assert_int_equal(c->n_elements, 81);
	assert_int_equal(c->n_indicators, 16);
	assert_int_equal(c->n_rules, 14);

	for (size_t i = 0; i < c->n_elements; i++) {
		const struct catalog_element *e = &c->elements[i];
		bool known = false;
		for (size_t k = 0; k < 5; k++)
			known |= strcmp(e->section, sections[k]) == 0;
		assert_true(known);
		assert_true(e->name_zh[0] && e->name_en[0] && e->unit[0]);
		assert_false(e->has_min || e->has_max);
		amounts += e->type == CATALOG_AMOUNT;
		lasts += e->agg == CATALOG_LAST;
		assert_int_equal(catalog_find_element(c, e->code), (int)i);
	}
	assert_int_equal(amounts, 2);
	assert_int_equal(lasts, 2);

	/* catalog order is the spec's table order */
	assert_string_equal(c->elements[0].code, "members_total");
	assert_string_equal(c->elements[80].code, "petitions");

	int mt = catalog_find_element(c, "members_total");
	assert_int_equal(mt, 0);
	assert_int_equal(c->elements[mt].agg, CATALOG_LAST);
	assert_string_equal(c->elements[mt].name_zh, "党员总数");
	assert_string_equal(c->elements[mt].unit, "人");
	int u35 = catalog_find_element(c, "members_under_35");
	assert_int_equal(c->elements[u35].agg, CATALOG_LAST);
	int dy = catalog_find_element(c, "donations_yuan");
	assert_true(dy > 0);
	assert_int_equal(c->elements[dy].type, CATALOG_AMOUNT);
	assert_int_equal(c->elements[dy].agg, CATALOG_SUM);
	assert_string_equal(c->elements[dy].unit, "元");
	int rc_ = catalog_find_element(c, "reception_cost_yuan");
	assert_int_equal(c->elements[rc_].type, CATALOG_AMOUNT);
	int ss = catalog_find_element(c, "study_sessions");
	assert_int_equal(c->elements[ss].type, CATALOG_INT);
	assert_string_equal(c->elements[ss].section, "ideology");
	assert_string_equal(c->elements[catalog_find_element(c, "documents_processing_days")].unit,
	                    "工作日");

	for (size_t i = 0; i < c->n_indicators; i++) {
		const struct catalog_indicator *ind = &c->indicators[i];
		assert_int_equal(catalog_find_indicator(c, ind->code), (int)i);
		assert_int_equal(catalog_find_element(c, ind->code), -1);
		/* rates change in points, everything else in percent */
		assert_int_equal(ind->change,
		                 strcmp(ind->unit, "%") == 0 ? CATALOG_POINTS : CATALOG_PERCENT);
		assert_int_equal(ind->decimals,
		                 strcmp(ind->code, "notes_chars_per_member") == 0 ? 0 : 1);
		assert_false(formula_is_rule(ind->formula));
	}
	int sc = catalog_find_indicator(c, "study_coverage_rate");
	assert_int_equal(sc, 0);
	assert_string_equal(formula_text(c->indicators[sc].formula),
	                    "study_attendance / study_expected * 100");
	assert_string_equal(c->indicators[sc].name_zh, "学习覆盖率");
	int np = catalog_find_indicator(c, "notes_chars_per_member");
	assert_string_equal(c->indicators[np].unit, "字");
	assert_int_equal(c->indicators[np].change, CATALOG_PERCENT);
	int ca = catalog_find_indicator(c, "complaint_avg_days");
	assert_int_equal(ca, 15);
	assert_string_equal(c->indicators[ca].unit, "工作日");
	assert_string_equal(c->indicators[ca].name_zh, "投诉平均办理时限");

	for (size_t i = 0; i < c->n_rules; i++) {
		assert_true(formula_is_rule(c->rules[i].rule));
		assert_true(c->rules[i].message_zh[0] && c->rules[i].message_en[0]);
		errors += c->rules[i].severity == CATALOG_RULE_ERROR;
		warnings += c->rules[i].severity == CATALOG_RULE_WARNING;
	}
	assert_int_equal(errors, 11);
	assert_int_equal(warnings, 3);
	assert_string_equal(formula_text(c->rules[3].rule),
	                    "members_excellent + members_qualified <= members_total");

	/* lookups of what is not there */
	assert_int_equal(catalog_find_element(c, "nope"), -1);
	assert_int_equal(catalog_find_element(c, "r_survey_valid"), -1);
	assert_int_equal(catalog_find_indicator(c, "members_total"), -1);
	assert_int_equal(catalog_find_element(c, NULL), -1);
	assert_int_equal(catalog_find_element(NULL, "members_total"), -1);

	/* the files are kept, in load order, with a digest over them */
	for (size_t k = 0; k < CATALOG_NFILES; k++)
		assert_string_equal(c->files[k].name, catalog_file_names[k]);
	assert_int_equal(strlen(c->digest), 64);
	assert_int_equal(strspn(c->digest, "0123456789abcdef"), 64);

	catalog_free(c);
	catalog_free(NULL);
}

/* Sections: named by sections.csv in its order, or by their codes without it. */
static void test_sections(void **state)
{
	(void)state;
	struct catalog *a = default_catalog(), *b = NULL;
	struct errbuf eb = {{0}};
	struct catalog_file files[CATALOG_NFILES];
	static const char *const codes[] = {"org", "ideology", "organization", "conduct",
	                                    "integrity"};

	assert_int_equal(a->n_sections, 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(a->sections[i].code, codes[i]);
	assert_string_equal(a->sections[1].name_zh, "思想建设");
	assert_string_equal(a->sections[4].name_zh, "党风廉政");
	assert_int_equal(a->elements[catalog_find_element(a, "members_total")].section_index, 0);
	assert_int_equal(a->elements[catalog_find_element(a, "petitions")].section_index, 4);
	/* an indicator belongs where the first element of its formula does */
	assert_int_equal(a->indicators[catalog_find_indicator(a, "under35_share")].section_index,
	                 0);
	assert_int_equal(
	    a->indicators[catalog_find_indicator(a, "study_coverage_rate")].section_index, 1);
	assert_int_equal(
	    a->indicators[catalog_find_indicator(a, "evaluation_participation_rate")].section_index,
	    2);

	/* without sections.csv: the same sections, named by their codes */
	memcpy(files, a->files, sizeof(files));
	assert_int_equal(catalog_load_files(files, CATALOG_NREQUIRED, &b, &eb), YB_OK);
	assert_int_equal(b->n_sections, 5);
	assert_string_equal(b->sections[2].code, "organization");
	assert_string_equal(b->sections[2].name_zh, "organization");
	assert_null(b->files[CATALOG_FILE_SECTIONS].data);
	assert_null(b->files[CATALOG_FILE_REPORT].data);
	catalog_free(b);
	b = NULL;

	/* a section left out, a section twice */
	static const char missing[] = "code,name_zh,name_en\norg,组织概况,Org\nideology,思想,Id\n"
	                              "organization,组织,Or\nconduct,作风,Co\n";
	files[CATALOG_FILE_SECTIONS].data = (char *)missing;
	files[CATALOG_FILE_SECTIONS].len = strlen(missing);
	assert_int_equal(catalog_load_files(files, CATALOG_FILE_SECTIONS + 1, &b, &eb),
	                 YB_INVALID_ARGUMENT);
	assert_null(b);
	assert_string_equal(eb.msg, "sections.csv: section 'integrity' of element "
	                            "'warning_sessions' is not listed");
	static const char twice[] = "code,name_zh,name_en\norg,组织概况,Org\norg,又一个,Org\n";
	files[CATALOG_FILE_SECTIONS].data = (char *)twice;
	files[CATALOG_FILE_SECTIONS].len = strlen(twice);
	assert_int_equal(catalog_load_files(files, CATALOG_FILE_SECTIONS + 1, &b, &eb),
	                 YB_INVALID_ARGUMENT);
	assert_string_equal(eb.msg, "sections.csv: line 3, column code: duplicate section 'org'");
	catalog_free(a);
}

/* Loading the same texts from memory gives the same catalog and digest;
 * changing one byte changes the digest. */
static void test_load_files_and_digest(void **state)
{
	(void)state;
	struct catalog *a = default_catalog(), *b = NULL, *d = NULL;
	struct errbuf eb = {{0}};
	struct catalog_file files[CATALOG_NFILES];
	size_t n = 0;

	/* in another order on purpose: files are matched by name */
	assert_non_null(a->files[CATALOG_FILE_SECTIONS].data);
	assert_non_null(a->files[CATALOG_FILE_REPORT].data);
	for (size_t k = CATALOG_NFILES; k-- > 0;)
		files[n++] = a->files[(k + 3) % CATALOG_NFILES];
	assert_string_equal(files[0].name, "rules.csv");
	assert_int_equal(catalog_load_files(files, CATALOG_NFILES, &b, &eb), YB_OK);
	assert_string_equal(a->digest, b->digest);
	assert_int_equal(b->n_elements, 81);
	assert_string_equal(b->files[0].name, "elements.csv");

	char *copy = malloc(a->files[2].len);
	assert_non_null(copy);
	memcpy(copy, a->files[2].data, a->files[2].len);
	copy[a->files[2].len - 2] = ' '; /* last message: "." -> " " */
	files[0].data = copy;
	assert_int_equal(catalog_load_files(files, CATALOG_NFILES, &d, &eb), YB_OK);
	assert_string_not_equal(a->digest, d->digest);
	free(copy);

	/* wrong names, wrong count */
	struct catalog *x = NULL;
	files[0].name = "rule.csv";
	assert_int_equal(catalog_load_files(files, CATALOG_NFILES, &x, &eb), YB_INVALID_ARGUMENT);
	assert_null(x);
	assert_non_null(strstr(eb.msg, "rule.csv"));
	files[0].name = "rules.csv";
	assert_int_equal(catalog_load_files(files, 2, &x, &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "is missing"));

	catalog_free(a);
	catalog_free(b);
	catalog_free(d);
}

static void test_missing_dir(void **state)
{
	(void)state;
	struct catalog *c = NULL;
	struct errbuf eb = {{0}};
	assert_int_equal(catalog_load_dir("/nonexistent/catalog", &c, &eb), YB_EIO);
	assert_null(c);
	assert_non_null(strstr(eb.msg, "elements.csv"));
}

/* ---- loader errors ------------------------------------------------------ */

struct bad_case {
	const char *el, *ind, *rules;
	const char *want; /* a substring of the message */
};

static void test_loader_errors(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
	    /* the example of catalog.h */
	    {EL_OK, IND_HEAD "ab,比,Ratio,%,a / b * 100,1,points\nx,X,X,,foo / a,1,percent\n",
	     RULE_OK, "indicators.csv: line 3, column formula: unknown element 'foo'"},
	    {EL_HEAD "a,s,甲,A,人,integer,sum,,\n", IND_OK, RULE_OK,
	     "elements.csv: line 2, column type: 'integer' is not a type"},
	    {EL_HEAD "a,s,甲,A,人,int,avg,,\n", IND_OK, RULE_OK,
	     "elements.csv: line 2, column aggregation: 'avg' is not an aggregation"},
	    {EL_OK "a,s,丙,C,人,int,sum,,\n", IND_OK, RULE_OK,
	     "elements.csv: line 4, column code: duplicate code 'a' (already the element on "
	     "line 2 of elements.csv)"},
	    {EL_OK, IND_HEAD "b,比,Ratio,%,a / b * 100,1,points\n", RULE_OK,
	     "indicators.csv: line 2, column code: duplicate code 'b'"},
	    {EL_HEAD "Members,s,甲,A,人,int,sum,,\n", IND_OK, RULE_OK,
	     "elements.csv: line 2, column code: invalid code 'Members'"},
	    {EL_HEAD "a-b,s,甲,A,人,int,sum,,\n", IND_OK, RULE_OK,
	     "elements.csv: line 2, column code: invalid code 'a-b'"},
	    {EL_HEAD "period,s,甲,A,人,int,sum,,\n", IND_OK, RULE_OK,
	     "elements.csv: line 2, column code: 'period' is reserved: a return file names its "
	     "month"},
	    {EL_HEAD ",s,甲,A,人,int,sum,,\n", IND_OK, RULE_OK,
	     "elements.csv: line 2, column code: empty"},
	    {EL_HEAD "a,s,,A,人,int,sum,,\n", IND_OK, RULE_OK,
	     "elements.csv: line 2, column name_zh: empty"},
	    {"code,section,name_zh,name_en,unit,type,min,max\na,s,甲,A,人,int,,\n", IND_OK, RULE_OK,
	     "elements.csv: line 1: no 'aggregation' column in the header"},
	    {EL_HEAD "a,s,甲,A,人,int,sum,1.5,\n", IND_OK, RULE_OK,
	     "elements.csv: line 2, column min: \"1.5\" is not a whole number"},
	    {EL_HEAD "a,s,甲,A,人,int,sum,10,5\n", IND_OK, RULE_OK,
	     "elements.csv: line 2, column max: max is below min"},
	    {EL_HEAD "a,s,甲,A,人,amount,sum,,-1\n", IND_OK, RULE_OK,
	     "elements.csv: line 2, column max: must not be negative"},
	    {EL_HEAD, IND_HEAD, RULE_HEAD, "elements.csv: no elements"},
	    {EL_OK, IND_HEAD "ab,比,Ratio,%,a / b * 100,7,points\n", RULE_OK,
	     "indicators.csv: line 2, column decimals: '7' is not a number of decimals"},
	    {EL_OK, IND_HEAD "ab,比,Ratio,%,a / b * 100,1,percentage\n", RULE_OK,
	     "indicators.csv: line 2, column change: 'percentage' is not a change kind"},
	    {EL_OK, IND_HEAD "ab,比,Ratio,%,a / (b * 100,1,points\n", RULE_OK,
	     "indicators.csv: line 2, column formula: 'a / (b * 100': column"},
	    {EL_OK, IND_HEAD "ab,比,Ratio,%,a / b * 100,1,points\nac,比,R,%,ab * 2,1,points\n",
	     RULE_OK,
	     "indicators.csv: line 3, column formula: 'ab' is an indicator; only elements"},
	    {EL_OK, "code,name_zh,name_en,unit,formula,decimals\n", RULE_OK,
	     "indicators.csv: line 1: no 'change' column in the header"},
	    {EL_OK, IND_OK, RULE_HEAD "r_ab,a <= ab,error,甲,A\n",
	     "rules.csv: line 2, column rule: 'ab' is an indicator"},
	    {EL_OK, IND_OK, RULE_HEAD "r_ab,a + b,error,甲,A\n", "rules.csv: line 2, column rule:"},
	    {EL_OK, IND_OK, RULE_HEAD "r_ab,a <= c,error,甲,A\n",
	     "rules.csv: line 2, column rule: unknown element 'c'"},
	    {EL_OK, IND_OK, RULE_HEAD "r_ab,a <= b,fatal,甲,A\n",
	     "rules.csv: line 2, column severity: 'fatal' is not a severity"},
	    {EL_OK, IND_OK, RULE_HEAD "r_ab,a <= b,error,甲,\n",
	     "rules.csv: line 2, column message_en: empty"},
	    {EL_OK, IND_OK, RULE_HEAD "r_ab,a <= b,error,甲,A\nr_ab,b >= a,warning,乙,B\n",
	     "rules.csv: line 3, column code: duplicate code 'r_ab' (already the rule on line 2 "
	     "of rules.csv)"},
	    {EL_OK, IND_OK, "code,rule,message_zh,message_en\n",
	     "rules.csv: line 1: no 'severity' column in the header"},
	    /* line numbers stay right after a quoted multi-line cell and blank lines */
	    {EL_HEAD "a,s,甲,\"A,\nwith a second line\",人,int,sum,,\n\n"
	             "b,s,乙,B,人,int,maybe,,\n",
	     IND_OK, RULE_OK, "elements.csv: line 5, column aggregation: 'maybe'"},
	    /* sheet-level problems name the file too */
	    {EL_OK, IND_OK, "", "rules.csv: empty file, no header row"},
	    {EL_OK, "code,name_zh\n\"ab,x\n", RULE_OK, "indicators.csv: line 2: a quoted cell"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct catalog *c = NULL;
		struct errbuf eb = {{0}};
		int rc = load_texts(cases[i].el, cases[i].ind, cases[i].rules, &c, &eb);

		if (rc != YB_INVALID_ARGUMENT || strstr(eb.msg, cases[i].want) == NULL)
			fail_msg("case %zu: rc %d, message \"%s\", wanted \"%s\"", i, rc, eb.msg,
			         cases[i].want);
		assert_null(c);
	}

	/* and the good small catalog loads */
	struct catalog *c = NULL;
	struct errbuf eb = {{0}};
	assert_int_equal(load_texts(EL_OK, IND_OK, RULE_OK, &c, &eb), YB_OK);
	assert_int_equal(c->n_elements, 2);
	assert_int_equal(c->n_indicators, 1);
	assert_int_equal(c->n_rules, 1);
	catalog_free(c);

	/* indicators and rules may be empty; enum words are case-insensitive */
	assert_int_equal(
	    load_texts(EL_HEAD "a,s,甲,A,人,INT,Last,0,100\n", IND_HEAD, RULE_HEAD, &c, &eb),
	    YB_OK);
	assert_int_equal(c->elements[0].type, CATALOG_INT);
	assert_int_equal(c->elements[0].agg, CATALOG_LAST);
	assert_true(c->elements[0].has_min && c->elements[0].has_max);
	assert_int_equal(c->elements[0].min, 0);
	assert_int_equal(c->elements[0].max, 10000);
	catalog_free(c);
}

/* ---- checking a return -------------------------------------------------- */

static void test_check_five_mistakes(void **state)
{
	(void)state;
	struct catalog *c = default_catalog();
	struct catalog_values v;
	struct catalog_findings f = {0};
	const struct catalog_entry e[] = {
	    {"members_total", "25", 2},
	    {"study_sessions", "1.5", 3},    /* fractional int */
	    {"donations_yuan", "12.345", 4}, /* three decimals */
	    {"seminars", "abc", 5},          /* not a number */
	    {"survey_issued", "100", 6},     /*                        */
	    {"survey_valid", "120", 7},      /* violates r_survey_valid */
	    {"no_such_thing", "1", 8},       /* unknown code */
	    {"guest_lectures", "", 9},       /* blank: not reported */
	    {"aid_households", "3", 10},
	    {"aid_households", "-", 11},       /* duplicate code */
	    {"reflections", "-4", 12},         /* negative */
	    {"study_coverage_rate", "90", 13}, /* an indicator */
	};
	/* The first nine entries hold five different kinds of mistake. */
	int rc = catalog_check(c, e, 9, &v, &f);

	assert_int_equal(rc, YB_INVALID_ARGUMENT);
	assert_int_equal(f.errors, 5);
	assert_int_equal(f.warnings, 0);

	const struct catalog_finding *x = find(&f, "study_sessions");
	assert_non_null(x);
	assert_int_equal(x->kind, CATALOG_FINDING_ERROR);
	assert_int_equal(x->line, 3);
	assert_string_equal(x->value, "1.5");
	assert_string_equal(x->message, "line 3: study_sessions (Group study sessions): \"1.5\" "
	                                "is not a whole number");

	x = find(&f, "donations_yuan");
	assert_non_null(x);
	assert_int_equal(x->line, 4);
	assert_non_null(
	    strstr(x->message,
	           "line 4: donations_yuan (Donations by party members (yuan)): \"12.345\" has "
	           "3 decimals"));

	x = find(&f, "seminars");
	assert_non_null(x);
	assert_string_equal(x->message, "line 5: seminars (Thematic seminars): \"abc\" is not a "
	                                "number: unexpected 'a'");

	x = find(&f, "r_survey_valid");
	assert_non_null(x);
	assert_int_equal(x->kind, CATALOG_FINDING_ERROR);
	assert_int_equal(x->line, 0);
	assert_string_equal(x->message,
	                    "rule r_survey_valid violated: survey_valid (120) <= survey_issued "
	                    "(100): Valid questionnaires returned cannot exceed questionnaires "
	                    "issued.");

	x = find(&f, "no_such_thing");
	assert_non_null(x);
	assert_string_equal(x->message, "line 8: unknown element code 'no_such_thing'");

	/* the valid values are there, the wrong and blank ones are not */
	assert_int_equal(v.n, c->n_elements);
	assert_true(v.present[catalog_find_element(c, "members_total")]);
	assert_int_equal(v.value[catalog_find_element(c, "members_total")], 2500);
	assert_false(v.present[catalog_find_element(c, "study_sessions")]);
	assert_false(v.present[catalog_find_element(c, "guest_lectures")]);
	assert_true(v.present[catalog_find_element(c, "survey_valid")]);

	catalog_findings_clear(&f);
	catalog_values_free(&v);

	/* All twelve: the duplicate, the negative and the indicator as well. */
	rc = catalog_check(c, e, sizeof(e) / sizeof(e[0]), &v, &f);
	assert_int_equal(rc, YB_INVALID_ARGUMENT);
	assert_int_equal(f.errors, 8);
	x = find(&f, "aid_households");
	assert_non_null(x);
	assert_int_equal(x->line, 11);
	assert_string_equal(x->message,
	                    "line 11: aid_households (Households visited and assisted): "
	                    "given twice (first on line 10)");
	assert_int_equal(v.value[catalog_find_element(c, "aid_households")], 300);
	x = find(&f, "reflections");
	assert_non_null(x);
	assert_string_equal(x->message, "line 12: reflections (Reflection essays): \"-4\" is "
	                                "negative; values cannot be negative");
	x = find(&f, "study_coverage_rate");
	assert_non_null(x);
	assert_non_null(strstr(x->message, "is an indicator"));

	catalog_findings_clear(&f);
	catalog_values_free(&v);
	catalog_free(c);
}

static void test_check_warning_accepted(void **state)
{
	(void)state;
	struct catalog *c = default_catalog();
	struct catalog_values v;
	struct catalog_findings f = {0};
	const struct catalog_entry e[] = {
	    {"study_attendance", "130", 2}, {"study_expected", "120", 3},
	    {"members_total", "30", 4},     {"members_excellent", "10", 5},
	    {"members_qualified", "20", 6},
	};

	assert_int_equal(catalog_check(c, e, 5, &v, &f), YB_OK);
	assert_int_equal(f.errors, 0);
	assert_int_equal(f.warnings, 1);
	const struct catalog_finding *x = find(&f, "r_study_attendance");
	assert_non_null(x);
	assert_int_equal(x->kind, CATALOG_FINDING_WARNING);
	assert_non_null(strstr(x->message, "study_attendance (130) <= study_expected (120)"));
	/* a rule that holds says nothing; its boundary (30 <= 30) holds */
	assert_null(find(&f, "r_members_rated"));
	assert_true(v.present[catalog_find_element(c, "study_attendance")]);
	catalog_findings_clear(&f);
	catalog_values_free(&v);

	/* the sum rule names every operand's value */
	const struct catalog_entry e2[] = {
	    {"members_total", "25", 2},
	    {"members_excellent", "20", 3},
	    {"members_qualified", "10", 4},
	};
	assert_int_equal(catalog_check(c, e2, 3, &v, &f), YB_INVALID_ARGUMENT);
	x = find(&f, "r_members_rated");
	assert_non_null(x);
	assert_non_null(strstr(x->message, "members_excellent (20) + members_qualified (10) <= "
	                                   "members_total (25)"));
	catalog_findings_clear(&f);
	catalog_values_free(&v);
	catalog_free(c);
}

static void test_check_skipped_rules(void **state)
{
	(void)state;
	struct catalog *c = default_catalog();
	struct catalog_values v;
	struct catalog_findings f = {0};
	const struct catalog_entry e[] = {
	    {"survey_valid", "120", 2},
	    {"study_attendance", "many", 3},
	    {"study_expected", "100", 4},
	};

	/* missing is not zero: 120 valid of an unreported number issued is not checked */
	assert_int_equal(catalog_check(c, e, 3, &v, &f), YB_INVALID_ARGUMENT);
	assert_int_equal(f.errors, 1); /* "many" */
	assert_int_equal(f.skipped, c->n_rules);
	const struct catalog_finding *x = find(&f, "r_survey_valid");
	assert_non_null(x);
	assert_int_equal(x->kind, CATALOG_FINDING_SKIPPED);
	assert_string_equal(x->message, "rule r_survey_valid skipped: survey_issued not reported");
	x = find(&f, "r_study_attendance");
	assert_non_null(x);
	assert_string_equal(x->message,
	                    "rule r_study_attendance skipped: study_attendance has no valid value");
	catalog_findings_clear(&f);
	catalog_values_free(&v);

	catalog_findings_clear(NULL);
	catalog_values_free(NULL);
	catalog_free(c);
}

/* Asserts the return is refused with the one error "no value is filled in". */
static void refused_as_empty(const struct catalog *c, const struct catalog_entry *e, size_t n)
{
	struct catalog_values v;
	struct catalog_findings f = {0};

	assert_int_equal(catalog_check(c, e, n, &v, &f), YB_INVALID_ARGUMENT);
	assert_int_equal(f.errors, 1);
	assert_int_equal(f.n, 1); /* rules are not evaluated: 14 "skipped" would be noise */
	assert_int_equal(f.items[0].kind, CATALOG_FINDING_ERROR);
	assert_int_equal(f.items[0].line, 0);
	assert_string_equal(f.items[0].message,
	                    "no value is filled in: every value cell is blank; fill in the value "
	                    "column (leave blank only what was not reported)");
	for (size_t i = 0; i < v.n; i++)
		assert_false(v.present[i]);
	catalog_findings_clear(&f);
	catalog_values_free(&v);
}

static void test_check_empty_return(void **state)
{
	(void)state;
	struct catalog *c = default_catalog();
	struct catalog_values v;
	struct catalog_findings f = {0};
	const struct catalog_entry blanks[] = {
	    {"members_total", "", 2},
	    {"study_sessions", "  ", 3},
	    {"seminars", "", 4},
	};
	const struct catalog_entry one[] = {
	    {"members_total", "", 2},
	    {"study_sessions", "0", 3}, /* zero is a value */
	    {"seminars", "", 4},
	};
	const struct catalog_entry wrong[] = {
	    {"members_total", "", 2},
	    {"no_such_code", "3", 3},
	};

	/* a header-only file, and one with every value blank, are not returns */
	refused_as_empty(c, NULL, 0);
	refused_as_empty(c, blanks, 3);

	/* one value is enough: the others are "not reported", however many */
	assert_int_equal(catalog_check(c, one, 3, &v, &f), YB_OK);
	assert_int_equal(f.errors, 0);
	size_t present = 0;
	for (size_t i = 0; i < v.n; i++)
		present += v.present[i];
	assert_int_equal(present, 1);
	catalog_findings_clear(&f);
	catalog_values_free(&v);

	/* a value under a wrong code was filled in: the code is the problem */
	assert_int_equal(catalog_check(c, wrong, 2, &v, &f), YB_INVALID_ARGUMENT);
	assert_int_equal(f.errors, 1);
	assert_non_null(find(&f, "no_such_code"));
	catalog_findings_clear(&f);
	catalog_values_free(&v);
	catalog_free(c);
}

/* What clerks type instead of a number gets a hint that says what to do. */
static void test_check_clerk_values(void **state)
{
	(void)state;
	struct catalog *c = default_catalog();
	struct catalog_values v;
	struct catalog_findings f = {0};
	static const struct {
		const char *value, *message;
	} cases[] = {
	    {"95%", "\"95%\" is not a number: drop the % sign"},
	    {"12.5 %", "\"12.5 %\" is not a number: drop the % sign"},
	    {"95\xEF\xBC\x85", "is not a number: drop the % sign"}, /* full-width ％ */
	    {"N/A", "\"N/A\" is not a number: leave the cell empty when there is nothing to "
	            "report"},
	    {"n/a", "leave the cell empty"},
	    {"NA", "leave the cell empty"},
	    {"#N/A", "leave the cell empty"}, /* Excel's own error value */
	    {"-", "leave the cell empty"},
	    {"/", "leave the cell empty"},
	    {"\xE6\x97\xA0", "leave the cell empty"},           /* 无 */
	    {"\xE2\x80\x94", "leave the cell empty"},           /* — */
	    {"abc", "\"abc\" is not a number: unexpected 'a'"}, /* no hint to give */
	    {"-%", "unexpected"},                               /* neither */
	    {" %", "unexpected"},                               /* a sign, no number */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct catalog_entry e[] = {{"seminars", cases[i].value, 7}};
		assert_int_equal(catalog_check(c, e, 1, &v, &f), YB_INVALID_ARGUMENT);
		const struct catalog_finding *x = find(&f, "seminars");
		assert_non_null(x);
		/* the element by code and name, then the value and what to do */
		if (strncmp(x->message, "line 7: seminars (Thematic seminars): ", 38) != 0 ||
		    strstr(x->message, cases[i].message) == NULL)
			fail_msg("\"%s\": message \"%s\" lacks \"%s\"", cases[i].value, x->message,
			         cases[i].message);
		catalog_findings_clear(&f);
		catalog_values_free(&v);
	}

	/* in Chinese the name is the Chinese one */
	i18n_set_thread_language(I18N_CHINESE);
	const struct catalog_entry zh[] = {{"seminars", "95%", 7}};
	assert_int_equal(catalog_check(c, zh, 1, &v, &f), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(find(&f, "seminars")->message, "seminars"));
	assert_non_null(strstr(find(&f, "seminars")->message, "专题研讨场次"));
	i18n_set_thread_language(-1);
	catalog_findings_clear(&f);
	catalog_values_free(&v);
	catalog_free(c);
}

static void test_values_exact(void **state)
{
	(void)state;
	struct catalog *c = default_catalog();
	struct catalog_values v;
	struct catalog_findings f = {0};
	const struct catalog_entry e[] = {
	    {"donations_yuan", "1200.5", 2},    {"reception_cost_yuan", "0.01", 3},
	    {"members_total", "  7 ", 4},       {"study_sessions", "0", 5},
	    {"notes_chars", "999999999999", 6}, {"meetings_held", "+3", 7},
	};

	assert_int_equal(catalog_check(c, e, 6, &v, &f), YB_OK);
	assert_int_equal(f.errors, 0);
	assert_int_equal(v.value[catalog_find_element(c, "donations_yuan")], 120050);
	assert_int_equal(v.value[catalog_find_element(c, "reception_cost_yuan")], 1);
	assert_int_equal(v.value[catalog_find_element(c, "members_total")], 700);
	int z = catalog_find_element(c, "study_sessions");
	assert_true(v.present[z]);
	assert_int_equal(v.value[z], 0); /* zero is a value, not "missing" */
	assert_int_equal(v.value[catalog_find_element(c, "notes_chars")], 99999999999900LL);
	assert_int_equal(v.value[catalog_find_element(c, "meetings_held")], 300);
	catalog_findings_clear(&f);
	catalog_values_free(&v);

	/* numbers as people write them: thousands separators, zero fractions */
	const struct catalog_entry typed[] = {
	    {"members_total", "1,200", 2},        {"study_attendance", "1200.00", 3},
	    {"notes_chars", "12,345,678", 4},     {"donations_yuan", "1,234.50", 5},
	    {"reception_cost_yuan", "12.500", 6}, {"study_sessions", "3.0", 7},
	    {"study_expected", "1,200.00", 8},
	};
	assert_int_equal(catalog_check(c, typed, 7, &v, &f), YB_OK);
	assert_int_equal(f.errors, 0);
	assert_int_equal(v.value[catalog_find_element(c, "members_total")], 120000);
	assert_int_equal(v.value[catalog_find_element(c, "study_attendance")], 120000);
	assert_int_equal(v.value[catalog_find_element(c, "notes_chars")], 1234567800);
	assert_int_equal(v.value[catalog_find_element(c, "donations_yuan")], 123450);
	assert_int_equal(v.value[catalog_find_element(c, "reception_cost_yuan")], 1250);
	assert_int_equal(v.value[catalog_find_element(c, "study_sessions")], 300);
	assert_int_equal(v.value[catalog_find_element(c, "study_expected")], 120000);
	catalog_findings_clear(&f);
	catalog_values_free(&v);

	/* 2.5 for an int, 12.505 for an amount, 1e3, ambiguous grouping and a
	 * huge number are refused, each with its reason (the exact wording is
	 * dec_parse_entry's or catalog_check's own, so either quote style) */
	const struct catalog_entry bad[] = {
	    {"study_sessions", "2.5", 2},    {"seminars", "1e3", 3},
	    {"notes_chars", "1,20", 4},      {"reflections", "99999999999999999999", 5},
	    {"donations_yuan", "12.505", 6}, {"aid_households", "12,34,567", 7},
	};
	const struct {
		const char *code, *has[2];
	} want[] = {
	    {"study_sessions", {"line 2: study_sessions (", "2.5' is not a whole number"}},
	    {"seminars", {"line 3: seminars (", "1e3' is not a number"}},
	    {"notes_chars", {"line 4: notes_chars (", "1,20' is not a number"}},
	    {"reflections", {"line 5: reflections (", "is too large"}},
	    {"donations_yuan", {"line 6: donations_yuan (", "12.505' has 3 decimals, at most 2"}},
	    {"aid_households", {"line 7: aid_households (", "12,34,567' is not a number"}},
	};
	assert_int_equal(catalog_check(c, bad, 6, &v, &f), YB_INVALID_ARGUMENT);
	assert_int_equal(f.errors, 6);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct catalog_finding *x = find(&f, want[i].code);
		assert_non_null(x);
		for (int k = 0; k < 2; k++) {
			char alt[128];
			snprintf(alt, sizeof(alt), "%s", want[i].has[k]);
			for (char *q = alt; *q; q++)
				if (*q == '\'')
					*q = '"';
			if (strstr(x->message, want[i].has[k]) == NULL &&
			    strstr(x->message, alt) == NULL)
				fail_msg("%s: \"%s\" lacks \"%s\"", want[i].code, x->message,
				         want[i].has[k]);
		}
	}
	for (size_t i = 0; i < v.n; i++)
		assert_false(v.present[i]);
	catalog_findings_clear(&f);
	catalog_values_free(&v);
	catalog_free(c);
}

static void test_check_min_max(void **state)
{
	(void)state;
	struct catalog *c = NULL;
	struct errbuf eb = {{0}};
	struct catalog_values v;
	struct catalog_findings f = {0};

	assert_int_equal(load_texts(EL_HEAD "a,s,甲,A,人,int,sum,2,10\n"
	                                    "m,s,钱,Money,元,amount,sum,,99.99\n",
	                            IND_HEAD, RULE_HEAD, &c, &eb),
	                 YB_OK);
	const struct catalog_entry e[] = {{"a", "11", 2}, {"m", "100", 3}};
	assert_int_equal(catalog_check(c, e, 2, &v, &f), YB_INVALID_ARGUMENT);
	assert_int_equal(f.errors, 2);
	assert_string_equal(find(&f, "a")->message, "line 2: a (A): 11 is above the maximum 10");
	assert_string_equal(find(&f, "m")->message,
	                    "line 3: m (Money): 100.00 is above the maximum 99.99");
	catalog_findings_clear(&f);
	catalog_values_free(&v);

	const struct catalog_entry e2[] = {{"a", "1", 0}, {"m", "99.99", 0}};
	assert_int_equal(catalog_check(c, e2, 2, &v, &f), YB_INVALID_ARGUMENT);
	assert_int_equal(f.errors, 1);
	/* without a line (values sent over the wire) the message has no line */
	assert_string_equal(find(&f, "a")->message, "a (A): 1 is below the minimum 2");
	catalog_findings_clear(&f);
	catalog_values_free(&v);
	catalog_free(c);
}

/* ---- return files ------------------------------------------------------- */

static char tmpdir[] = "/tmp/test_returnfile_XXXXXX";

static int setup_tmp(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
	(void)state;
	remove_file(tmpdir, "r.csv");
	return rmdir(tmpdir);
}

static int read_return(const char *text, size_t len, struct returnfile **r, struct errbuf *eb)
{
	char path[512];
	write_file(tmpdir, "r.csv", text, len);
	snprintf(path, sizeof(path), "%s/r.csv", tmpdir);
	return returnfile_read(path, r, eb);
}

static void test_returnfile(void **state)
{
	(void)state;
	struct returnfile *r = NULL;
	struct errbuf eb = {{0}};
	const char text[] = "\xEF\xBB\xBF"
	                    "Code,Name,Unit,Value,Note\r\n"
	                    "members_total,党员总数,人,25,\r\n"
	                    ",合计,,,\r\n"
	                    "study_sessions,集中学习次数,次,4,\"two lines\r\nof note\"\r\n"
	                    "seminars,专题研讨场次,场,,\r\n"
	                    "donations_yuan,党员捐款,元,1200.50\r\n";

	assert_int_equal(read_return(text, sizeof(text) - 1, &r, &eb), YB_OK);
	assert_int_equal(r->n, 4);
	assert_string_equal(r->entries[0].code, "members_total");
	assert_string_equal(r->entries[0].value, "25");
	assert_int_equal(r->entries[0].line, 2);
	assert_string_equal(r->entries[1].code, "study_sessions");
	assert_int_equal(r->entries[1].line, 4);
	assert_string_equal(r->entries[2].value, "");
	assert_int_equal(r->entries[2].line, 6);
	assert_string_equal(r->entries[3].value, "1200.50");
	assert_int_equal(r->entries[3].line, 7);

	/* end to end: the file checks clean against the default catalog */
	struct catalog *c = default_catalog();
	struct catalog_values v;
	struct catalog_findings f = {0};
	assert_int_equal(catalog_check(c, r->entries, r->n, &v, &f), YB_OK);
	assert_int_equal(v.value[catalog_find_element(c, "donations_yuan")], 120050);
	assert_false(v.present[catalog_find_element(c, "seminars")]);
	catalog_findings_clear(&f);
	catalog_values_free(&v);
	catalog_free(c);
	returnfile_free(r);
	returnfile_free(NULL);
}

static void test_returnfile_gb18030(void **state)
{
	(void)state;
	struct returnfile *r = NULL;
	struct errbuf eb = {{0}};
	/* as Excel on Chinese Windows saves it: 党员总数 / 集中学习次数 in GBK */
	const char text[] = "code,name,value\r\n"
	                    "members_total,\xB5\xB3\xD4\xB1\xD7\xDC\xCA\xFD,25\r\n"
	                    "study_sessions,\xBC\xAF\xD6\xD0\xD1\xA7\xCF\xB0\xB4\xCE\xCA\xFD,4\r\n";

	assert_int_equal(read_return(text, sizeof(text) - 1, &r, &eb), YB_OK);
	assert_int_equal(r->n, 2);
	assert_string_equal(r->entries[1].code, "study_sessions");
	assert_string_equal(r->entries[1].value, "4");
	assert_int_equal(r->entries[1].line, 3);
	assert_string_equal(sheet_cell(r->sheet, 1, 1), "党员总数");
	returnfile_free(r);

	/* neither UTF-8 nor GB18030: the first byte that is neither is named */
	const char junk[] = "code,value\nx,\xFF\xFF\n";
	r = NULL;
	assert_int_equal(read_return(junk, sizeof(junk) - 1, &r, &eb), YB_INVALID_ARGUMENT);
	assert_null(r);
	assert_non_null(strstr(eb.msg, "r.csv: line 2: byte offset 13 (0xFF) is neither UTF-8 nor "
	                               "GB18030 text"));
}

/* Files as clerks really send them, end to end: read, then checked. */
static void check_real_world(const char *text, size_t len, const char *encoding)
{
	struct returnfile *r = NULL;
	struct errbuf eb = {{0}};
	struct catalog *c = default_catalog();
	struct catalog_values v;
	struct catalog_findings f = {0};

	if (read_return(text, len, &r, &eb) != YB_OK)
		fail_msg("%s: %s", encoding, eb.msg);
	assert_string_equal(sheet_encoding(r->sheet), encoding);
	assert_int_equal(r->n, 5);
	if (catalog_check(c, r->entries, r->n, &v, &f) != YB_OK)
		fail_msg("%s: %zu errors, first: %s", encoding, f.errors,
		         f.n ? f.items[0].message : "");
	assert_int_equal(f.errors, 0);
	assert_int_equal(v.value[catalog_find_element(c, "members_total")], 120000);
	assert_int_equal(v.value[catalog_find_element(c, "members_under_35")], 35000);
	assert_false(v.present[catalog_find_element(c, "seminars")]); /* blank */
	assert_int_equal(v.value[catalog_find_element(c, "donations_yuan")], 123450);
	assert_int_equal(v.value[catalog_find_element(c, "study_sessions")], 400);
	/* line numbers are the file's, after the two-line note */
	assert_int_equal(r->entries[4].line, 8);
	catalog_findings_clear(&f);
	catalog_values_free(&v);
	catalog_free(c);
	returnfile_free(r);
}

static void test_returnfile_real_world(void **state)
{
	(void)state;
	/* UTF-8 with BOM, CRLF, trailing empty columns, quoted thousands, blank
	 * cell, a note column with a two-line note, trailing empty rows */
	const char *utf8 = "code,name,unit,value,note,,\r\n"
	                   "members_total,党员总数,人,\"1,200\",含预备党员,,\r\n"
	                   "members_under_35,35岁以下党员数,人,350.00,,,\r\n"
	                   "seminars,专题研讨场次,场,,\"本月未开展，\r\n下月补\",,\r\n"
	                   "donations_yuan,党员捐款,元,\" 1,234.50 \",,,\r\n"
	                   ",,,,,,\r\n"
	                   "study_sessions,集中学习次数,次,4,,,\r\n"
	                   ",,,,,,\r\n"
	                   ",,,,,,\r\n";
	char bom[1024];
	size_t n = strlen(utf8);

	check_real_world(utf8, n, "UTF-8");
	memcpy(bom, "\xEF\xBB\xBF", 3);
	memcpy(bom + 3, utf8, n);
	check_real_world(bom, n + 3, "UTF-8 with BOM");

	/* the same saved by Excel's plain "CSV" on Chinese Windows: GB18030 */
	char gb[1024], *src = (char *)utf8, *dst = gb;
	size_t left = n, room = sizeof(gb);
	iconv_t cd = iconv_open("GB18030", "UTF-8");
	assert_true(cd != (iconv_t)-1);
	assert_true(iconv(cd, &src, &left, &dst, &room) != (size_t)-1);
	iconv_close(cd);
	check_real_world(gb, (size_t)(dst - gb), "GB18030");
}

/* The month travels with the data: the period row of a return file. */
static void test_returnfile_period(void **state)
{
	(void)state;
	struct returnfile *r = NULL;
	struct errbuf eb = {{0}};

	/* as `yuebao template` writes it: 202606, which Excel keeps as it is */
	const char *tpl = "code,name,unit,value\n"
	                  "period,报表月份,,202606\n"
	                  "members_total,党员总数,人,25\n";
	assert_int_equal(read_return(tpl, strlen(tpl), &r, &eb), YB_OK);
	assert_int_equal(r->month, period_month(2026, 6));
	assert_int_equal(r->month_line, 2);
	assert_int_equal(r->n, 1); /* the period row is not a value */
	assert_string_equal(r->entries[0].code, "members_total");
	returnfile_free(r);

	/* as Excel on Chinese Windows writes a month back: 2026年6月, in GB18030 */
	const char gb[] = "code,value\r\nperiod,2026\xC4\xEA"
	                  "6\xD4\xC2\r\nseminars,2\r\n";
	assert_int_equal(read_return(gb, sizeof(gb) - 1, &r, &eb), YB_OK);
	assert_string_equal(sheet_encoding(r->sheet), "GB18030");
	assert_int_equal(r->month, period_month(2026, 6));
	returnfile_free(r);

	/* files without the row (older templates), or with it blank, name no month */
	const char *old = "code,value\nseminars,2\n";
	assert_int_equal(read_return(old, strlen(old), &r, &eb), YB_OK);
	assert_int_equal(r->month_line, 0);
	returnfile_free(r);
	const char *blank = "code,value\nperiod,\nseminars,2\n";
	assert_int_equal(read_return(blank, strlen(blank), &r, &eb), YB_OK);
	assert_int_equal(r->month_line, 0);
	assert_int_equal(r->n, 1);
	returnfile_free(r);

	/* a period row that names no month, or a second one, is refused */
	const char *quarter = "code,value\nperiod,2026Q2\nseminars,2\n";
	r = NULL;
	assert_int_equal(read_return(quarter, strlen(quarter), &r, &eb), YB_INVALID_ARGUMENT);
	assert_null(r);
	assert_non_null(strstr(eb.msg, "r.csv: line 2: the period row: period \"2026Q2\": returns "
	                               "are monthly"));
	const char *jun = "code,value\nperiod,Jun-26\nseminars,2\n";
	assert_int_equal(read_return(jun, strlen(jun), &r, &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "line 2: the period row: period \"Jun-26\""));
	assert_non_null(strstr(eb.msg, "202606"));
	const char *two = "code,value\nperiod,202606\nseminars,2\nperiod,202605\n";
	assert_int_equal(read_return(two, strlen(two), &r, &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "line 4: a second period row (the first is on line 2)"));
}

/* A header-only file reads as a return of no values, which the check refuses. */
static void test_returnfile_header_only(void **state)
{
	(void)state;
	struct returnfile *r = NULL;
	struct errbuf eb = {{0}};
	struct catalog *c = default_catalog();
	const char *text = "code,name,unit,value\r\nperiod,报表月份,,202606\r\n";

	assert_int_equal(read_return(text, strlen(text), &r, &eb), YB_OK);
	assert_int_equal(r->n, 0);
	refused_as_empty(c, r->entries, r->n);
	returnfile_free(r);
	catalog_free(c);
}

static void test_returnfile_refused(void **state)
{
	(void)state;
	struct returnfile *r = NULL;
	struct errbuf eb = {{0}};

	/* no header: the first line is already data */
	const char *a = "members_total,25\nstudy_sessions,4\n";
	assert_int_equal(read_return(a, strlen(a), &r, &eb), YB_INVALID_ARGUMENT);
	assert_null(r);
	assert_non_null(strstr(eb.msg, "no 'code' column in the header"));

	const char *b = "code,amount\nmembers_total,25\n";
	assert_int_equal(read_return(b, strlen(b), &r, &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "no 'value' column in the header"));

	assert_int_equal(read_return("", 0, &r, &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "no header"));

	const char c[] = "code,value\nmembers_total,2\0"
	                 "5\n";
	assert_int_equal(read_return(c, sizeof(c) - 1, &r, &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "NUL"));

	assert_int_equal(returnfile_read("/nonexistent/r.csv", &r, &eb), YB_EIO);
	assert_null(r);

	/* a zip that is no workbook (whatever its name), and UTF-16 ("Unicode Text") */
	const char xlsx[] = "PK\x03\x04\x14\0\x06\0";
	assert_int_equal(read_return(xlsx, sizeof(xlsx) - 1, &r, &eb), YB_INVALID_ARGUMENT);
	assert_null(r);
	assert_non_null(strstr(eb.msg, "not a readable .xlsx workbook"));
	const char u16[] = "\xFF\xFE"
	                   "c\0o\0d\0e\0";
	assert_int_equal(read_return(u16, sizeof(u16) - 1, &r, &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "UTF-16"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_catalog),
	    cmocka_unit_test(test_load_files_and_digest),
	    cmocka_unit_test(test_sections),
	    cmocka_unit_test(test_missing_dir),
	    cmocka_unit_test(test_loader_errors),
	    cmocka_unit_test(test_check_five_mistakes),
	    cmocka_unit_test(test_check_warning_accepted),
	    cmocka_unit_test(test_check_skipped_rules),
	    cmocka_unit_test(test_check_empty_return),
	    cmocka_unit_test(test_check_clerk_values),
	    cmocka_unit_test(test_values_exact),
	    cmocka_unit_test(test_check_min_max),
	    cmocka_unit_test(test_returnfile),
	    cmocka_unit_test(test_returnfile_gb18030),
	    cmocka_unit_test(test_returnfile_real_world),
	    cmocka_unit_test(test_returnfile_period),
	    cmocka_unit_test(test_returnfile_header_only),
	    cmocka_unit_test(test_returnfile_refused),
	};
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
