/*
 * test_store_review.c - the central office's decisions in the store
 * (server/store_review.h) on a real SQLite file: reviews listed in the
 * order made with every field, refused for a revision that does not exist;
 * closures and reopenings per (org, month), the latest of which decides,
 * for that org unit alone; and both exported by store_export
 * (store_audit.h), paged, stopped, and from a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "period.h"
#include "store.h"
#include "store_audit.h"
#include "store_returns.h"
#include "store_review.h"
#include "tmpdb.h"

#define HQ "O=yuebao-test, OU=central, CN=HQ"
#define HQ2 "O=yuebao-test, OU=central, CN=HQ2"

/* Month m of 2026. */
#define MONTH(m) period_month(2026, (m))

/* Reviews in the order made: two returns' interleaved, two at the same time. */
static const struct review {
	const char *org;
	int m;
	struct store_review r;
} reviews[] = {
    {"A", 1, {1, "reject", "figures do not add up", HQ, "fp-hq", 5000}},
    {"B", 1, {1, "accept", "", HQ, "fp-hq", 5100}},
    {"A", 1, {2, "accept", "ok now", HQ2, "fp-hq2", 5200}},
    {"A", 1, {2, "reopen", "再看一下", HQ, "fp-hq", 5200}},
};
#define N_REVIEWS (sizeof(reviews) / sizeof(reviews[0]))

/* Closures in the order made; after each, its (org, month) is as it says. */
static const struct closure {
	const char *org;
	int m;
	bool closed;
	const char *comment, *subject, *fingerprint;
	int64_t at_ms;
} closures[] = {
    {"A", 1, true, "month end", HQ, "fp-hq", 7000},
    {"ROOT", 2, true, "", HQ, "fp-hq", 7100},
    {"A", 1, false, "a late correction", HQ2, "fp-hq2", 7200},
    {"B", 1, true, "", HQ, "fp-hq", 7300},
    {"A", 1, true, "again", HQ2, "fp-hq2", 7400},
    {"B", 1, false, "", HQ2, "fp-hq2", 7500},
};
#define N_CLOSURES (sizeof(closures) / sizeof(closures[0]))

/* The revisions the reviews are about: A 2026-01 r1, r2 and B 2026-01 r1. */
static void insert_revisions(struct store *s)
{
	static const struct {
		const char *org;
		uint32_t revision;
	} keys[] = {{"A", 1}, {"A", 2}, {"B", 1}};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct store_revision r = tmpdb_revision((struct return_key){keys[i].org, MONTH(1)},
		                                         keys[i].revision, "submitted");
		tmpdb_insert(s, &r);
	}
}

static int setup(void **state)
{
	return tmpdb_setup_filled(state, insert_revisions);
}

/* The return a review is about. */
static struct return_key review_key(const struct review *r)
{
	return (struct return_key){r->org, MONTH(r->m)};
}

static void add_reviews(struct store *s)
{
	struct errbuf eb = {{0}};

	tmpdb_begin(s);
	for (size_t i = 0; i < N_REVIEWS; i++)
		assert_yb_ok(store_add_review(s, review_key(&reviews[i]), &reviews[i].r, &eb), &eb);
	tmpdb_commit(s);
}

static void add_closure(struct store *s, const struct closure *c)
{
	struct errbuf eb = {{0}};

	tmpdb_begin(s);
	assert_yb_ok(store_add_closure(s, (struct return_key){c->org, MONTH(c->m)}, c->closed,
	                               c->comment, c->subject, c->fingerprint, c->at_ms, &eb),
	             &eb);
	tmpdb_commit(s);
}

/* Every field of a review on one line, so that a difference shows whole. */
static const char *review_text(const struct store_review *r, char *buf, size_t len)
{
	snprintf(buf, len, "r%u %s [%s] by %s (%s) at %lld", r->revision, r->action, r->comment,
	         r->reviewer, r->fingerprint, (long long)r->at_ms);
	return buf;
}

static void assert_review(const struct store_review *got, const struct store_review *want)
{
	char g[512], w[512];

	assert_string_equal(review_text(got, g, sizeof(g)), review_text(want, w, sizeof(w)));
}

/* ---- reviews ------------------------------------------------------------------------------- */

static void test_reviews_listed_in_order_made(void **state)
{
	static const struct {
		const char *org;           /* 2026-01 */
		size_t n, want[N_REVIEWS]; /* indexes into reviews */
	} lists[] = {
	    {"A", 3, {0, 2, 3}},
	    {"B", 1, {1}},
	    {"C", 0, {0}},
	};
	struct tmpdb *db = *state;
	struct errbuf eb = {{0}};

	add_reviews(db->s);
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		struct return_key key = {lists[i].org, MONTH(1)};
		struct store_review *got = NULL;
		size_t n = 99;

		assert_yb_ok(store_list_reviews(db->s, key, &got, &n, &eb), &eb);
		assert_int_equal(n, lists[i].n);
		for (size_t j = 0; j < n; j++)
			assert_review(&got[j], &reviews[lists[i].want[j]].r);
		store_reviews_free(got, n);
	}
}

static void test_review_refused(void **state)
{
	static const struct store_review no_revision = {3, "accept", "", HQ, "fp-hq", 1};
	static const struct store_review no_action = {1, "approve", "", HQ, "fp-hq", 1};
	struct tmpdb *db = *state;
	struct return_key a = {"A", MONTH(1)};
	struct store_review *got = NULL;
	struct errbuf eb = {{0}};
	size_t n = 99;

	/* Each in a transaction of its own: a failed write spoils the rest of one. */
	tmpdb_begin(db->s);
	assert_int_equal(store_add_review(db->s, a, &no_revision, &eb), YB_EDB);
	store_rollback(db->s);
	tmpdb_begin(db->s);
	assert_int_equal(store_add_review(db->s, a, &no_action, &eb), YB_EDB);
	store_rollback(db->s);
	assert_yb_ok(store_list_reviews(db->s, a, &got, &n, &eb), &eb);
	assert_int_equal(n, 0);
	store_reviews_free(got, n);
}

/* ---- closures ------------------------------------------------------------------------------ */

/* store_closure of (org, month m) is `closed`, by subject at at_ms (when subject is not NULL). */
static void assert_closure(struct store *s, const char *org, int m, bool closed,
                           const char *subject, int64_t at_ms)
{
	struct errbuf eb = {{0}};
	char who[128] = "";
	bool got = !closed;
	int64_t at = -1;

	assert_yb_ok(
	    store_closure(s, (struct return_key){org, MONTH(m)}, &got, who, sizeof(who), &at, &eb),
	    &eb);
	assert_int_equal(got, closed);
	if (subject != NULL) {
		assert_string_equal(who, subject);
		assert_int_equal(at, at_ms);
	}
}

static void test_latest_closure_decides(void **state)
{
	struct tmpdb *db = *state;

	for (size_t i = 0; i < N_CLOSURES; i++) {
		const struct closure *c = &closures[i];
		add_closure(db->s, c);
		assert_closure(db->s, c->org, c->m, c->closed, c->subject, c->at_ms);
	}
	/* Reopened and closed again: closed, by the last. */
	assert_closure(db->s, "A", 1, true, HQ2, 7400);
	assert_closure(db->s, "B", 1, false, HQ2, 7500);
	/* Never closed: open. ROOT's closure is ROOT's alone (A is below it: the caller's check).
	 */
	assert_closure(db->s, "A", 2, false, NULL, 0);
	assert_closure(db->s, "ROOT", 1, false, NULL, 0);
}

static void test_closure_subject_cut_to_buffer(void **state)
{
	struct tmpdb *db = *state;
	struct errbuf eb = {{0}};
	char who[8];
	bool closed = false;

	add_closure(db->s, &closures[0]);
	/* subject and time are optional. */
	assert_yb_ok(
	    store_closure(db->s, (struct return_key){"A", MONTH(1)}, &closed, NULL, 0, NULL, &eb),
	    &eb);
	assert_true(closed);
	assert_yb_ok(store_closure(db->s, (struct return_key){"A", MONTH(1)}, &closed, who,
	                           sizeof(who), NULL, &eb),
	             &eb);
	assert_string_equal(who, "O=yueba");
}

/* ---- exports ------------------------------------------------------------------------------- */

/* A store_export_fn: the row is review *n (ctx: n). */
static int check_review_row(void *ctx, const struct store_export_row *row)
{
	size_t *n = ctx;

	assert_int_equal(row->part, STORE_EXPORT_REVIEWS);
	assert_true(*n < N_REVIEWS);
	assert_string_equal(row->key.org, reviews[*n].org);
	assert_int_equal(row->key.month, MONTH(reviews[*n].m));
	assert_review(&row->as.review, &reviews[(*n)++].r);
	return 0;
}

static int review_page(struct store *s, uint64_t offset, uint32_t limit, size_t *n,
                       struct errbuf *eb)
{
	return store_export(s, STORE_EXPORT_REVIEWS, &(struct store_page){0, offset, limit},
	                    check_review_row, n, eb);
}

/* A store_export_fn: the row is closure *n (ctx: n). */
static int check_closure_row(void *ctx, const struct store_export_row *row)
{
	const struct store_export_closure *r = &row->as.closure;
	size_t *n = ctx;
	const struct closure *want;

	assert_int_equal(row->part, STORE_EXPORT_CLOSURES);
	assert_true(*n < N_CLOSURES);
	want = &closures[(*n)++];
	assert_string_equal(row->key.org, want->org);
	assert_int_equal(row->key.month, MONTH(want->m));
	assert_int_equal(r->closed, want->closed);
	assert_string_equal(r->comment, want->comment);
	assert_string_equal(r->subject, want->subject);
	assert_string_equal(r->fingerprint, want->fingerprint);
	assert_int_equal(r->at_ms, want->at_ms);
	return 0;
}

static int closure_page(struct store *s, uint64_t offset, uint32_t limit, size_t *n,
                        struct errbuf *eb)
{
	return store_export(s, STORE_EXPORT_CLOSURES, &(struct store_page){0, offset, limit},
	                    check_closure_row, n, eb);
}

static void test_exports_page(void **state)
{
	struct tmpdb *db = *state;

	add_reviews(db->s);
	for (size_t i = 0; i < N_CLOSURES; i++)
		add_closure(db->s, &closures[i]);
	tmpdb_assert_pages(db->s, review_page, N_REVIEWS);
	tmpdb_assert_pages(db->s, closure_page, N_CLOSURES);
}

/* A callback that stops at once: its value comes back. */
static int stop_at_first(void *ctx, const struct store_export_row *row)
{
	(void)row;
	return ++*(int *)ctx == 1 ? 42 : 0;
}

static void test_exports_stop(void **state)
{
	struct tmpdb *db = *state;
	struct errbuf eb = {{0}};
	int reviews_seen = 0, closures_seen = 0;

	add_reviews(db->s);
	add_closure(db->s, &closures[0]);
	add_closure(db->s, &closures[1]);
	assert_int_equal(store_export(db->s, STORE_EXPORT_REVIEWS, &(struct store_page){0, 0, 10},
	                              stop_at_first, &reviews_seen, &eb),
	                 42);
	assert_int_equal(reviews_seen, 1);
	assert_int_equal(store_export(db->s, STORE_EXPORT_CLOSURES, &(struct store_page){0, 0, 10},
	                              stop_at_first, &closures_seen, &eb),
	                 42);
	assert_int_equal(closures_seen, 1);
}

static int count_row(void *ctx, const struct store_export_row *row)
{
	(void)row;
	++*(int *)ctx;
	return 0;
}

/* A revision as an incremental export names it ("B/1/r1"), listed into ctx. */
static int list_revision(void *ctx, const struct store_export_row *r)
{
	char *list = ctx;
	size_t used = strlen(list);
	assert_int_equal(r->part, STORE_EXPORT_REVISIONS);
	snprintf(list + used, 256 - used, "%s%s/%d/r%u", used ? " " : "", r->key.org,
	         r->key.month - MONTH(0), r->as.revision.revision);
	return 0;
}

/*
 * An incremental export takes what was made at or after its time: reviews
 * and closures by their time, and revisions received then or reviewed then,
 * whose state a later review changed.
 */
static void test_exports_since(void **state)
{
	struct tmpdb *db = *state;
	struct errbuf eb = {{0}};
	struct store_review late = {1, "reject", "after all", HQ, "fp-hq", 1751600000000};
	char list[256] = "";
	int n = 0;

	add_reviews(db->s);
	for (size_t i = 0; i < N_CLOSURES; i++)
		add_closure(db->s, &closures[i]);
	assert_yb_ok(store_export(db->s, STORE_EXPORT_REVIEWS, &(struct store_page){5200, 0, 10},
	                          count_row, &n, &eb),
	             &eb);
	assert_int_equal(n, 2); /* the two at 5200 */
	n = 0;
	assert_yb_ok(store_export(db->s, STORE_EXPORT_CLOSURES, &(struct store_page){7300, 0, 10},
	                          count_row, &n, &eb),
	             &eb);
	assert_int_equal(n, 3);
	/* Every revision was received after 5200 (tmpdb_revision's times). */
	assert_yb_ok(store_export(db->s, STORE_EXPORT_REVISIONS, &(struct store_page){5200, 0, 10},
	                          list_revision, list, &eb),
	             &eb);
	assert_string_equal(list, "A/1/r1 A/1/r2 B/1/r1");
	tmpdb_begin(db->s);
	assert_yb_ok(store_add_review(db->s, (struct return_key){"B", MONTH(1)}, &late, &eb), &eb);
	tmpdb_commit(db->s);
	list[0] = '\0';
	assert_yb_ok(store_export(db->s, STORE_EXPORT_REVISIONS,
	                          &(struct store_page){late.at_ms, 0, 10}, list_revision, list,
	                          &eb),
	             &eb);
	assert_string_equal(list, "B/1/r1");
	list[0] = '\0';
	assert_yb_ok(store_export(db->s, STORE_EXPORT_REVISIONS,
	                          &(struct store_page){late.at_ms + 1, 0, 10}, list_revision, list,
	                          &eb),
	             &eb);
	assert_string_equal(list, "");
}

int main(void)
{
#define ON_FIXTURE(f) cmocka_unit_test_setup_teardown(f, setup, tmpdb_teardown)
	const struct CMUnitTest tests[] = {
	    ON_FIXTURE(test_reviews_listed_in_order_made),
	    ON_FIXTURE(test_review_refused),
	    ON_FIXTURE(test_latest_closure_decides),
	    ON_FIXTURE(test_closure_subject_cut_to_buffer),
	    ON_FIXTURE(test_exports_page),
	    ON_FIXTURE(test_exports_stop),
	    ON_FIXTURE(test_exports_since),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
