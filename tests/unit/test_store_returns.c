/*
 * test_store_returns.c - the returns in the store (server/store_returns.h)
 * on a real SQLite file: revisions read back exactly as inserted (values,
 * findings with their codes and parameters), the one in-place change (the
 * review state), the scans that consolidation and status make, and the
 * paging of their export (store_export, store_audit.h).
 *
 * Every test starts from the same nine revisions of six returns, inserted
 * out of key order: rejected and accepted revisions, a return without
 * values, a return with only a rejected revision.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "period.h"
#include "store.h"
#include "store_audit.h"
#include "store_returns.h"
#include "tmpdb.h"

/* Month m of 2026. */
#define MONTH(m) period_month(2026, (m))

/* A finding of each stored form: coded with parameters, and text only (before schema 3). */
static const struct store_finding a1_findings[] = {
    {"warning",
     "cash",
     3,
     "100",
     {.code = FINDING_CODE_OUTLIER, .value = "100", .reference = "12.5", .limit = 3, .months = 6},
     ""},
    {"skipped",
     "R7",
     0,
     "",
     {.code = FINDING_CODE_RULE_MISSING,
      .missing = {{"loans", true}, {"staff", false}},
      .n_missing = 2,
      .n_more = 4},
     ""},
    {"warning", "R1", 9, "7", {.code = FINDING_CODE_NONE}, "旧的说明: loans > 5"},
};

/* One revision of the fixture; its texts and request bytes come from rev_text. */
struct rev {
	const char *org;
	int m; /* month of 2026 */
	uint32_t revision;
	const char *state;
	bool on_time;
	int64_t at_ms;
	struct store_value values[2];
	size_t n_values;
	const struct store_finding *findings;
	size_t n_findings;
};

static const struct rev revs[] = {
    {"C", 2, 2, "rejected", false, 2600, {{"cash", 60}}, 1, NULL, 0},
    {"A", 1, 1, "submitted", true, 1100, {{"cash", 100}, {"loans", -7}}, 2, a1_findings, 3},
    {"B", 2, 1, "rejected", true, 2200, {{"cash", 5}}, 1, NULL, 0},
    {"A", 2, 1, "accepted", true, 2100, {{"cash", 10}}, 1, NULL, 0},
    {"A", 1, 2, "rejected", false, 1200, {{"cash", 200}}, 1, NULL, 0},
    {"C", 2, 1, "accepted", true, 2500, {{"cash", 50}}, 1, NULL, 0},
    {"A", 3, 1, "submitted", true, 3100, {{"cash", 30}}, 1, NULL, 0},
    {"B", 1, 1, "submitted", false, 1300, {{NULL, 0}}, 0, NULL, 0},
    {"A", 2, 2, "submitted", false, 2150, {{"cash", 20}, {"staff", 3}}, 2, NULL, 0},
};
#define N_REVS (sizeof(revs) / sizeof(revs[0]))

/* The texts and request bytes of a revision, all different from one revision to another. */
struct rev_text {
	char reason[32], subject[64], fingerprint[32], sha[32];
	uint8_t request[48];
	size_t request_len;
};

static void rev_text(const struct rev *r, struct rev_text *t)
{
	int n;

	snprintf(t->reason, sizeof(t->reason), r->revision > 1 ? "fix %u" : "", r->revision);
	snprintf(t->subject, sizeof(t->subject), "O=yuebao-test, OU=branch, CN=%s", r->org);
	snprintf(t->fingerprint, sizeof(t->fingerprint), "fp-%s", r->org);
	snprintf(t->sha, sizeof(t->sha), "sha-%s-%d-%u", r->org, r->m, r->revision);
	/* Binary: a NUL and a 0xff inside. */
	n = snprintf((char *)t->request, sizeof(t->request), "\x0a?%s/%d/r%u\xff", r->org, r->m,
	             r->revision);
	t->request[1] = 0;
	t->request_len = (size_t)n;
}

static struct return_key key_of(const struct rev *r)
{
	return (struct return_key){r->org, MONTH(r->m)};
}

/* Inserts the fixture's revisions, in its order. */
static void insert_revisions(struct store *s)
{
	for (size_t i = 0; i < N_REVS; i++) {
		const struct rev *r = &revs[i];
		struct store_revision in = tmpdb_revision(key_of(r), r->revision, r->state);
		struct rev_text t;

		rev_text(r, &t);
		in.on_time = r->on_time;
		in.received_at_ms = r->at_ms;
		in.reason = t.reason;
		in.subject = t.subject;
		in.fingerprint = t.fingerprint;
		in.request = t.request;
		in.request_len = t.request_len;
		in.request_sha256 = t.sha;
		in.values = r->values;
		in.n_values = r->n_values;
		in.findings = r->findings;
		in.n_findings = r->n_findings;
		tmpdb_insert(s, &in);
	}
}

static int setup(void **state)
{
	return tmpdb_setup_filled(state, insert_revisions);
}

/* ---- reading revisions --------------------------------------------------------------------- */

/* How many revisions the fixture has of r's return. */
static uint32_t revisions_of(const struct rev *r)
{
	uint32_t n = 0;

	for (size_t i = 0; i < N_REVS; i++)
		n += strcmp(revs[i].org, r->org) == 0 && revs[i].m == r->m;
	return n;
}

/* finding_encode of f, for comparing every parameter at once (the caller frees). */
static char *encoded(const struct finding *f)
{
	char *json = NULL;

	assert_int_equal(finding_encode(f, &json), YB_OK);
	return json;
}

static void assert_findings(const struct store_revision_row *got, const struct rev *want)
{
	assert_int_equal(got->n_findings, want->n_findings);
	for (size_t i = 0; i < want->n_findings; i++) {
		const struct store_finding *g = &got->findings[i], *w = &want->findings[i];
		char *gj = encoded(&g->what), *wj = encoded(&w->what);

		assert_string_equal(g->severity, w->severity);
		assert_string_equal(g->field, w->field);
		assert_int_equal(g->line, w->line);
		assert_string_equal(g->value, w->value);
		assert_string_equal(g->message, w->message);
		assert_int_equal(g->what.code, w->what.code);
		assert_string_equal(gj, wj);
		free(gj);
		free(wj);
	}
}

/* got is revision want as inserted, but in `state`. */
static void assert_row(const struct store_revision_row *got, const struct rev *want,
                       const char *state)
{
	struct rev_text t;

	rev_text(want, &t);
	assert_string_equal(got->org, want->org);
	assert_int_equal(got->month, MONTH(want->m));
	assert_int_equal(got->revision, want->revision);
	assert_int_equal(got->revisions, revisions_of(want));
	assert_string_equal(got->state, state);
	assert_int_equal(got->received_at_ms, want->at_ms);
	assert_int_equal(got->on_time, want->on_time);
	assert_string_equal(got->reason, t.reason);
	assert_string_equal(got->subject, t.subject);
	assert_string_equal(got->fingerprint, t.fingerprint);
	assert_string_equal(got->request_sha256, t.sha);
	/* Values in no particular order: each wanted one once, nothing else. */
	assert_int_equal(got->n_values, want->n_values);
	for (size_t i = 0; i < want->n_values; i++) {
		size_t j = 0;
		while (j < got->n_values && strcmp(got->values[j].code, want->values[i].code) != 0)
			j++;
		assert_true(j < got->n_values);
		assert_int_equal(got->values[j].value, want->values[i].value);
	}
	assert_findings(got, want);
}

/* store_get_revision of r's return and `revision` (0: the latest) is r, in `state`. */
static void assert_reads_as(struct store *s, const struct rev *r, uint32_t revision,
                            const char *state)
{
	struct store_revision_row *row = NULL;
	struct errbuf eb = {{0}};

	assert_yb_ok(store_get_revision(s, key_of(r), revision, &row, &eb), &eb);
	assert_row(row, r, state);
	store_revision_row_free(row);
}

static void test_revisions_read_back(void **state)
{
	struct tmpdb *db = *state;

	for (size_t i = 0; i < N_REVS; i++) {
		assert_reads_as(db->s, &revs[i], revs[i].revision, revs[i].state);
		/* The last of its return is also its latest. */
		if (revs[i].revision == revisions_of(&revs[i]))
			assert_reads_as(db->s, &revs[i], 0, revs[i].state);
	}
}

static void test_absent_revisions(void **state)
{
	struct tmpdb *db = *state;
	struct store_revision_row *row = NULL;
	struct errbuf eb = {{0}};
	uint32_t last = 99;
	char text[16];

	assert_int_equal(
	    store_get_revision(db->s, (struct return_key){"A", MONTH(4)}, 0, &row, &eb),
	    YB_NOT_FOUND);
	assert_int_equal(
	    store_get_revision(db->s, (struct return_key){"A", MONTH(1)}, 3, &row, &eb),
	    YB_NOT_FOUND);
	assert_null(row);
	assert_yb_ok(store_last_revision(db->s, (struct return_key){"Z", MONTH(1)}, &last, &eb),
	             &eb);
	assert_int_equal(last, 0);
	assert_yb_ok(store_last_revision(db->s, (struct return_key){"A", MONTH(1)}, &last, &eb),
	             &eb);
	assert_int_equal(last, 2);
	assert_int_equal(store_latest_state(db->s, (struct return_key){"Z", MONTH(1)}, &last, text,
	                                    sizeof(text), &eb),
	                 YB_NOT_FOUND);
}

/* The latest revision of each return and its state, as the write checks read them. */
static void test_latest_state(void **state)
{
	struct tmpdb *db = *state;
	struct errbuf eb = {{0}};
	char text[16];
	uint32_t latest = 0;

	for (size_t i = 0; i < N_REVS; i++) {
		if (revs[i].revision != revisions_of(&revs[i]))
			continue;
		assert_yb_ok(
		    store_latest_state(db->s, key_of(&revs[i]), &latest, text, sizeof(text), &eb),
		    &eb);
		assert_int_equal(latest, revs[i].revision);
		assert_string_equal(text, revs[i].state);
	}
}

static void test_revision_is_never_replaced(void **state)
{
	struct tmpdb *db = *state;
	struct store_revision again = tmpdb_revision(key_of(&revs[1]), 1, "accepted");
	struct errbuf eb = {{0}};

	tmpdb_begin(db->s);
	assert_int_equal(store_insert_revision(db->s, &again, &eb), YB_EDB);
	store_rollback(db->s);
	assert_reads_as(db->s, &revs[1], 1, revs[1].state);
}

/* ---- the review state ---------------------------------------------------------------------- */

static void test_set_state_changes_one_revision(void **state)
{
	struct tmpdb *db = *state;
	const struct rev *target = &revs[1]; /* A 2026-01 r1 */
	struct errbuf eb = {{0}};

	tmpdb_begin(db->s);
	assert_yb_ok(store_set_state(db->s, key_of(target), 1, "accepted", &eb), &eb);
	tmpdb_commit(db->s);
	/* Not a state: refused, and nothing changes. */
	tmpdb_begin(db->s);
	assert_int_equal(store_set_state(db->s, key_of(&revs[4]), 2, "archived", &eb), YB_EDB);
	store_rollback(db->s);
	for (size_t i = 0; i < N_REVS; i++)
		assert_reads_as(db->s, &revs[i], revs[i].revision,
		                &revs[i] == target ? "accepted" : revs[i].state);
}

/* ---- scans --------------------------------------------------------------------------------- */

/* What a scan called back with, a line a call; stops with 42 at line stop_at (0: never). */
struct trace {
	char lines[32][64];
	size_t n, stop_at;
	char org[16]; /* the return being reported, to which its values belong */
	int month;
};

/* Adds a line; 42 when it is line stop_at. */
static int trace_add(struct trace *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int trace_add(struct trace *t, const char *fmt, ...)
{
	va_list ap;

	assert_true(t->n < sizeof(t->lines) / sizeof(t->lines[0]));
	va_start(ap, fmt);
	vsnprintf(t->lines[t->n++], sizeof(t->lines[0]), fmt, ap);
	va_end(ap);
	return t->n == t->stop_at ? 42 : 0;
}

static int trace_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The lines joined by '\n' into buf, each return's values (lines "  ...") sorted. */
static const char *trace_text(struct trace *t, char *buf, size_t len)
{
	size_t at = 0;

	for (size_t i = 0, j; i < t->n; i = j) {
		for (j = i + 1; j < t->n && t->lines[i][0] == ' ' && t->lines[j][0] == ' '; j++)
			;
		qsort(t->lines[i], j - i, sizeof(t->lines[0]), trace_cmp);
	}
	buf[0] = '\0';
	for (size_t i = 0; i < t->n; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s\n", t->lines[i]);
	return buf;
}

static int trace_return(void *ctx, const char *org, int month, uint32_t revision)
{
	struct trace *t = ctx;
	char text[PERIOD_TEXT_MAX];

	snprintf(t->org, sizeof(t->org), "%s", org);
	t->month = month;
	period_format_month(month, text, sizeof(text));
	return trace_add(t, "%s %s r%u", org, text, revision);
}

static int trace_value(void *ctx, const char *org, int month, const char *code, int64_t value)
{
	struct trace *t = ctx;

	/* A value belongs to the return reported just before it. */
	assert_string_equal(org, t->org);
	assert_int_equal(month, t->month);
	return trace_add(t, "  %s=%lld", code, (long long)value);
}

static int trace_code_value(void *ctx, const char *code, int64_t value)
{
	return trace_add(ctx, "  %s=%lld", code, (long long)value);
}

static void test_revision_values(void **state)
{
	struct tmpdb *db = *state;
	struct trace r1 = {0}, r2 = {0}, stopped = {.stop_at = 1};
	struct errbuf eb = {{0}};
	char text[256];

	assert_yb_ok(store_revision_values(db->s, key_of(&revs[1]), 1, trace_code_value, &r1, &eb),
	             &eb);
	assert_string_equal(trace_text(&r1, text, sizeof(text)), "  cash=100\n  loans=-7\n");
	assert_yb_ok(store_revision_values(db->s, key_of(&revs[1]), 2, trace_code_value, &r2, &eb),
	             &eb);
	assert_string_equal(trace_text(&r2, text, sizeof(text)), "  cash=200\n");
	assert_int_equal(
	    store_revision_values(db->s, key_of(&revs[1]), 1, trace_code_value, &stopped, &eb), 42);
	assert_int_equal(stopped.n, 1);
}

/*
 * Values past 2^53 (where a JSON double would round them) are stored
 * exactly: a revision's values travel to the database as one JSON text.
 */
static void test_large_values_exact(void **state)
{
	static const struct store_value big[] = {{"cash", 9007199254740993LL},
	                                         {"loans", -9007199254740993LL}};
	struct tmpdb *db = *state;
	struct store_revision in =
	    tmpdb_revision((struct return_key){"Z", MONTH(5)}, 1, "submitted");
	struct trace got = {0};
	struct errbuf eb = {{0}};
	char text[256];

	in.values = big;
	in.n_values = 2;
	tmpdb_insert(db->s, &in);
	assert_yb_ok(store_revision_values(db->s, (struct return_key){"Z", MONTH(5)}, 1,
	                                   trace_code_value, &got, &eb),
	             &eb);
	assert_string_equal(trace_text(&got, text, sizeof(text)),
	                    "  cash=9007199254740993\n  loans=-9007199254740993\n");
}

static void test_scan_latest(void **state)
{
	static const struct {
		const char *org;
		int first, last;
		bool accepted_only;
		const char *want;
	} cases[] = {
	    /* B 2026-02 has only a rejected revision; C 2026-02's latest is rejected. */
	    {NULL, 1, 3, false,
	     "A 2026-01 r1\n  cash=100\n  loans=-7\nA 2026-02 r2\n  cash=20\n  staff=3\n"
	     "A 2026-03 r1\n  cash=30\nB 2026-01 r1\nC 2026-02 r1\n  cash=50\n"},
	    {NULL, 1, 3, true, "A 2026-02 r1\n  cash=10\nC 2026-02 r1\n  cash=50\n"},
	    {NULL, 2, 2, false, "A 2026-02 r2\n  cash=20\n  staff=3\nC 2026-02 r1\n  cash=50\n"},
	    {"A", 2, 3, false, "A 2026-02 r2\n  cash=20\n  staff=3\nA 2026-03 r1\n  cash=30\n"},
	    {"B", 1, 3, false, "B 2026-01 r1\n"},
	    {"B", 1, 3, true, ""},
	    {"Z", 1, 3, false, ""},
	    {NULL, 4, 12, false, ""},
	};
	struct tmpdb *db = *state;
	struct errbuf eb = {{0}};
	char text[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct trace t = {0};
		assert_yb_ok(store_scan_latest(db->s, cases[i].org, MONTH(cases[i].first),
		                               MONTH(cases[i].last), cases[i].accepted_only,
		                               trace_return, trace_value, &t, &eb),
		             &eb);
		assert_string_equal(trace_text(&t, text, sizeof(text)), cases[i].want);
	}
}

static void test_scan_latest_stops(void **state)
{
	struct tmpdb *db = *state;
	struct errbuf eb = {{0}};

	/* Line 3 is A 2026-01's second value, line 4 the next return: nothing after either. */
	for (size_t stop_at = 1; stop_at <= 4; stop_at++) {
		struct trace t = {.stop_at = stop_at};
		assert_int_equal(store_scan_latest(db->s, NULL, MONTH(1), MONTH(3), false,
		                                   trace_return, trace_value, &t, &eb),
		                 42);
		assert_int_equal(t.n, stop_at);
	}
}

static int trace_status(void *ctx, const char *org, int month, uint32_t revision, const char *state,
                        int64_t received_at_ms, bool first_on_time)
{
	char text[PERIOD_TEXT_MAX];

	period_format_month(month, text, sizeof(text));
	return trace_add(ctx, "%s %s r%u %s %lld %s", org, text, revision, state,
	                 (long long)received_at_ms, first_on_time ? "on time" : "late");
}

static void test_scan_status(void **state)
{
	/* The latest revision whatever its state; on time as its first revision was. */
	static const char want[] = "A 2026-01 r2 rejected 1200 on time\n"
	                           "A 2026-02 r2 submitted 2150 on time\n"
	                           "A 2026-03 r1 submitted 3100 on time\n"
	                           "B 2026-01 r1 submitted 1300 late\n"
	                           "B 2026-02 r1 rejected 2200 on time\n"
	                           "C 2026-02 r2 rejected 2600 on time\n";
	struct tmpdb *db = *state;
	struct trace all = {0}, feb = {0}, stopped = {.stop_at = 2};
	struct errbuf eb = {{0}};
	char text[1024];

	assert_yb_ok(store_scan_status(db->s, MONTH(1), MONTH(3), trace_status, &all, &eb), &eb);
	assert_string_equal(trace_text(&all, text, sizeof(text)), want);
	assert_yb_ok(store_scan_status(db->s, MONTH(2), MONTH(2), trace_status, &feb, &eb), &eb);
	assert_string_equal(trace_text(&feb, text, sizeof(text)),
	                    "A 2026-02 r2 submitted 2150 on time\n"
	                    "B 2026-02 r1 rejected 2200 on time\n"
	                    "C 2026-02 r2 rejected 2600 on time\n");
	assert_int_equal(store_scan_status(db->s, MONTH(1), MONTH(3), trace_status, &stopped, &eb),
	                 42);
	assert_int_equal(stopped.n, 2);
}

/* ---- export -------------------------------------------------------------------------------- */

/* The fixture's revisions in (org, month, revision) order: what the export must give. */
static const struct rev *export_order[N_REVS];

/* A store_export_fn: r is row *n of the export (ctx: n). */
static int check_export_row(void *ctx, const struct store_export_row *row)
{
	const struct store_export_revision *r = &row->as.revision;
	size_t *n = ctx;
	const struct rev *want;
	struct rev_text t;

	assert_int_equal(row->part, STORE_EXPORT_REVISIONS);
	assert_true(*n < N_REVS);
	want = export_order[(*n)++];
	rev_text(want, &t);
	assert_string_equal(row->key.org, want->org);
	assert_int_equal(row->key.month, MONTH(want->m));
	assert_int_equal(r->revision, want->revision);
	assert_string_equal(r->state, want->state);
	assert_string_equal(r->request_sha256, t.sha);
	assert_int_equal(r->request_len, t.request_len);
	assert_memory_equal(r->request, t.request, t.request_len);
	return 0;
}

static int export_page(struct store *s, uint64_t offset, uint32_t limit, size_t *n,
                       struct errbuf *eb)
{
	return store_export(s, STORE_EXPORT_REVISIONS, &(struct store_page){0, offset, limit},
	                    check_export_row, n, eb);
}

/* Orders the fixture's revisions by (org, month, revision). */
static int key_cmp(const void *a, const void *b)
{
	const struct rev *x = *(const struct rev *const *)a, *y = *(const struct rev *const *)b;
	int c = strcmp(x->org, y->org);

	if (c == 0)
		c = x->m != y->m ? (x->m < y->m ? -1 : 1) : 0;
	if (c == 0)
		c = x->revision != y->revision ? (x->revision < y->revision ? -1 : 1) : 0;
	return c;
}

static void test_export_pages(void **state)
{
	struct tmpdb *db = *state;

	for (size_t i = 0; i < N_REVS; i++)
		export_order[i] = &revs[i];
	qsort(export_order, N_REVS, sizeof(export_order[0]), key_cmp);
	tmpdb_assert_pages(db->s, export_page, N_REVS);
}

int main(void)
{
#define ON_FIXTURE(f) cmocka_unit_test_setup_teardown(f, setup, tmpdb_teardown)
	const struct CMUnitTest tests[] = {
	    ON_FIXTURE(test_revisions_read_back),
	    ON_FIXTURE(test_absent_revisions),
	    ON_FIXTURE(test_latest_state),
	    ON_FIXTURE(test_revision_is_never_replaced),
	    ON_FIXTURE(test_revision_values),
	    ON_FIXTURE(test_large_values_exact),
	    ON_FIXTURE(test_set_state_changes_one_revision),
	    ON_FIXTURE(test_scan_latest),
	    ON_FIXTURE(test_scan_latest_stops),
	    ON_FIXTURE(test_scan_status),
	    ON_FIXTURE(test_export_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
