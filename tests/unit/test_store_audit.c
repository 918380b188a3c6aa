/*
 * test_store_audit.c - the audit log in the store (server/store_audit.h)
 * on a real SQLite file: entries appended and scanned by sequence, time,
 * org units and months with a limit, each with the comment of the review or
 * closure it records; the leaves in order, and YB_DATA_LOSS when one is
 * missing or damaged behind the store's back; the frontier; the signed
 * checkpoints; and the entry of a submission found by its object.
 * store_export is tested beside the rows it exports: revisions in
 * test_store_returns.c, reviews and closures in test_store_review.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "period.h"
#include "store.h"
#include "store_audit.h"
#include "store_review.h"
#include "tmpdb.h"

/* Month m of 2026; 0 stays 0 (an entry about no month). */
#define MONTH(m) ((m) ? period_month(2026, (m)) : 0)

/* The month range of a scan of every entry, as the AuditLog method asks it. */
#define EVERY_MONTH 0, INT_MAX

/* The log: entry i has seq i + 1. */
static const struct entry {
	int64_t at_ms;
	const char *action, *object, *org;
	int m;
	const char *comment; /* what store_audit_scan joins in: the review's or closure's */
} entries[] = {
    {1000, "load:orgs", "orgs.csv", "", 0, NULL},
    {2000, "submit", "A/2026-01/r1", "A", 1, NULL},
    {3000, "submit", "B/2026-01/r1", "B", 1, NULL},
    {4000, "review:accept", "A/2026-01/r1", "A", 1, "well done"},
    {5000, "submit", "A/2026-02/r1", "A", 2, NULL},
    {6000, "close", "A/2026-01", "A", 1, "month end"},
    {7000, "refused:PERMISSION_DENIED", "Submit", "", 0, NULL},
};
#define N_ENTRIES (sizeof(entries) / sizeof(entries[0]))

/* The bytes of entry seq and its leaf, different for every entry. */
static size_t entry_bytes(uint64_t seq, char *buf, size_t len)
{
	const struct entry *e = &entries[seq - 1];

	return (size_t)snprintf(buf, len, "yuebao-audit-v1\nindex=%llu\naction=%s\nobject=%s\n",
	                        (unsigned long long)seq - 1, e->action, e->object);
}

static void leaf_of(uint64_t seq, uint8_t leaf[32])
{
	for (int i = 0; i < 32; i++)
		leaf[i] = (uint8_t)(seq * 37 + (uint64_t)i);
}

/* The entries, and the review and closure that two of them record. */
static void fill(struct store *s)
{
	struct store_revision a1 =
	    tmpdb_revision((struct return_key){"A", MONTH(1)}, 1, "submitted");
	struct store_review accept = {1, "accept", "well done", "CN=HQ", "fp-hq", 4000};
	struct errbuf eb = {{0}};

	tmpdb_insert(s, &a1);
	tmpdb_begin(s);
	assert_yb_ok(store_add_review(s, (struct return_key){"A", MONTH(1)}, &accept, &eb), &eb);
	assert_yb_ok(store_add_closure(s, (struct return_key){"A", MONTH(1)}, true, "month end",
	                               "CN=HQ", "fp-hq", 6000, &eb),
	             &eb);
	for (uint64_t seq = 1; seq <= N_ENTRIES; seq++) {
		const struct entry *e = &entries[seq - 1];
		char text[256];
		uint8_t leaf[32];
		struct store_audit_row r = {seq,    e->at_ms,    e->action, e->object,
		                            e->org, MONTH(e->m), text,      0,
		                            leaf,   NULL,        0};

		r.entry_len = entry_bytes(seq, text, sizeof(text));
		leaf_of(seq, leaf);
		assert_yb_ok(store_audit_add(s, &r, &eb), &eb);
	}
	tmpdb_commit(s);
}

static int setup(void **state)
{
	return tmpdb_setup_filled(state, fill);
}

/* ---- entries ------------------------------------------------------------------------------- */

/* A store_audit_fn: checks the row against its entry, lists its seq ("1,2,"); 42 at stop_at. */
struct seen {
	char seqs[64];
	size_t n, stop_at;
};

static int check_row(void *ctx, const struct store_audit_row *r)
{
	struct seen *seen = ctx;
	const struct entry *e;
	char text[256];
	uint8_t leaf[32];
	size_t len;

	assert_true(r->seq >= 1 && r->seq <= N_ENTRIES);
	e = &entries[r->seq - 1];
	len = entry_bytes(r->seq, text, sizeof(text));
	leaf_of(r->seq, leaf);
	assert_int_equal(r->at_ms, e->at_ms);
	assert_string_equal(r->action, e->action);
	assert_string_equal(r->object, e->object);
	assert_string_equal(r->org, e->org);
	assert_int_equal(r->month, MONTH(e->m));
	assert_int_equal(r->entry_len, len);
	assert_memory_equal(r->entry, text, len);
	assert_memory_equal(r->leaf, leaf, 32);
	if (e->comment == NULL)
		assert_null(r->comment);
	else
		assert_string_equal(r->comment, e->comment);
	snprintf(seen->seqs + strlen(seen->seqs), sizeof(seen->seqs) - strlen(seen->seqs), "%llu,",
	         (unsigned long long)r->seq);
	return ++seen->n == seen->stop_at ? 42 : 0;
}

static void test_audit_scan(void **state)
{
	const int M1 = MONTH(1), M2 = MONTH(2), M3 = MONTH(3);
	const struct {
		uint64_t from_seq;
		int64_t since_ms;
		const char *orgs_json;
		int first, last; /* month numbers */
		uint32_t limit;
		const char *want;
	} cases[] = {
	    {1, 0, NULL, EVERY_MONTH, 100, "1,2,3,4,5,6,7,"},
	    {4, 0, NULL, EVERY_MONTH, 100, "4,5,6,7,"},
	    {1, 3000, NULL, EVERY_MONTH, 100, "3,4,5,6,7,"},
	    {1, 0, "[\"A\"]", EVERY_MONTH, 100, "2,4,5,6,"},
	    {1, 0, "[\"A\",\"B\"]", EVERY_MONTH, 100, "2,3,4,5,6,"},
	    {1, 0, "[\"C\"]", EVERY_MONTH, 100, ""},
	    {1, 0, "[]", EVERY_MONTH, 100, ""},
	    {1, 0, NULL, M1, M1, 100, "2,3,4,6,"},
	    {1, 0, "[\"A\"]", M2, M3, 100, "5,"},
	    {1, 0, NULL, EVERY_MONTH, 2, "1,2,"},
	    {3, 0, "[\"A\"]", EVERY_MONTH, 2, "4,5,"},
	    {8, 0, NULL, EVERY_MONTH, 100, ""},
	};
	struct tmpdb *db = *state;
	struct errbuf eb = {{0}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seen seen = {"", 0, 0};
		assert_yb_ok(store_audit_scan(db->s, cases[i].from_seq, cases[i].since_ms,
		                              cases[i].orgs_json, cases[i].first, cases[i].last,
		                              cases[i].limit, check_row, &seen, &eb),
		             &eb);
		assert_string_equal(seen.seqs, cases[i].want);
	}
}

static void test_audit_scan_stops(void **state)
{
	struct tmpdb *db = *state;
	struct seen seen = {"", 0, 3};
	struct errbuf eb = {{0}};
	uint64_t size = 0;

	assert_int_equal(
	    store_audit_scan(db->s, 1, 0, NULL, EVERY_MONTH, 100, check_row, &seen, &eb), 42);
	assert_string_equal(seen.seqs, "1,2,3,");
	assert_yb_ok(store_audit_size(db->s, &size, &eb), &eb);
	assert_int_equal(size, N_ENTRIES);
}

static void test_index_of_submission(void **state)
{
	static const struct {
		const char *org;
		int m;
		const char *object;
		int index; /* -1: YB_NOT_FOUND */
	} cases[] = {
	    /* Entry 4 names the same object, but it is a review. */
	    {"A", 1, "A/2026-01/r1", 1},  {"B", 1, "B/2026-01/r1", 2},
	    {"A", 2, "A/2026-02/r1", 4},  {"A", 1, "A/2026-01/r2", -1},
	    {"A", 2, "A/2026-01/r1", -1}, {"A", 1, "A/2026-01", -1}, /* the closure's entry */
	};
	struct tmpdb *db = *state;
	struct errbuf eb = {{0}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct return_key key = {cases[i].org, MONTH(cases[i].m)};
		uint64_t index = 99;
		int rc = store_audit_index_of(db->s, key, cases[i].object, &index, &eb);

		assert_int_equal(rc, cases[i].index < 0 ? YB_NOT_FOUND : YB_OK);
		if (rc == YB_OK)
			assert_int_equal(index, cases[i].index);
	}
}

/* ---- leaves -------------------------------------------------------------------------------- */

/* store_audit_leaves(n) gives the leaves of entries 1..n in order. */
static void assert_leaves(struct store *s, uint64_t n)
{
	struct errbuf eb = {{0}};
	uint8_t(*leaves)[32] = NULL, leaf[32];

	assert_yb_ok(store_audit_leaves(s, n, &leaves, &eb), &eb);
	for (uint64_t i = 0; i < n; i++) {
		leaf_of(i + 1, leaf);
		assert_memory_equal(leaves[i], leaf, 32);
	}
	free(leaves);
}

/* store_audit_leaves(n) fails with YB_DATA_LOSS naming entry `missing`. */
static void assert_leaves_lost(struct store *s, uint64_t n, int missing)
{
	struct errbuf eb = {{0}};
	uint8_t(*leaves)[32] = NULL;
	char what[32];

	assert_int_equal(store_audit_leaves(s, n, &leaves, &eb), YB_DATA_LOSS);
	assert_null(leaves);
	snprintf(what, sizeof(what), "entry %d", missing);
	assert_non_null(strstr(eb.msg, what));
}

static void test_leaves_in_order(void **state)
{
	struct tmpdb *db = *state;

	assert_leaves(db->s, N_ENTRIES);
	assert_leaves(db->s, 3);
	assert_leaves(db->s, 0);
	assert_leaves_lost(db->s, N_ENTRIES + 1, N_ENTRIES + 1);
}

static void test_leaves_missing_or_damaged(void **state)
{
	struct tmpdb *db = *state;

	tmpdb_exec(db->path, "DELETE FROM audit_log WHERE seq = 3");
	assert_leaves_lost(db->s, N_ENTRIES, 3);
	assert_leaves(db->s, 2);
	tmpdb_exec(db->path, "UPDATE audit_log SET leaf = substr(leaf, 1, 2) WHERE seq = 2");
	assert_leaves_lost(db->s, 2, 2);
}

/* ---- frontier ------------------------------------------------------------------------------ */

static void test_frontier(void **state)
{
	struct tmpdb *db = *state;
	struct errbuf eb = {{0}};
	uint8_t hashes[64][32], a[32], b[32], c[32];
	uint64_t present = 99;

	leaf_of(100, a);
	leaf_of(200, b);
	leaf_of(300, c);
	assert_yb_ok(store_frontier_get(db->s, hashes, &present, &eb), &eb);
	assert_int_equal(present, 0);
	tmpdb_begin(db->s);
	assert_yb_ok(store_frontier_set(db->s, 0, a, &eb), &eb);
	assert_yb_ok(store_frontier_set(db->s, 63, b, &eb), &eb);
	assert_yb_ok(store_frontier_set(db->s, 0, c, &eb), &eb); /* replaces a */
	tmpdb_commit(db->s);
	assert_yb_ok(store_frontier_get(db->s, hashes, &present, &eb), &eb);
	assert_int_equal(present, (uint64_t)1 | (uint64_t)1 << 63);
	assert_memory_equal(hashes[0], c, 32);
	assert_memory_equal(hashes[63], b, 32);
	tmpdb_begin(db->s);
	assert_yb_ok(store_frontier_set(db->s, 0, NULL, &eb), &eb);
	tmpdb_commit(db->s);
	assert_yb_ok(store_frontier_get(db->s, hashes, &present, &eb), &eb);
	assert_int_equal(present, (uint64_t)1 << 63);
}

/* ---- checkpoints --------------------------------------------------------------------------- */

/* A checkpoint of `size` whose every field says which it is. */
static struct checkpoint checkpoint_of(uint64_t size)
{
	struct checkpoint c = {.size = size, .at_ms = 10000 + (int64_t)size, .sig_len = 64 + size};

	leaf_of(size + 1000, c.root);
	for (size_t i = 0; i < c.sig_len; i++)
		c.sig[i] = (uint8_t)(size + i);
	return c;
}

/* store_checkpoint_get(size) is checkpoint_of(want), or YB_NOT_FOUND when want is 0. */
static void assert_checkpoint(struct store *s, uint64_t size, uint64_t want)
{
	struct checkpoint got, expect = checkpoint_of(want);
	struct errbuf eb = {{0}};
	int rc = store_checkpoint_get(s, size, &got, &eb);

	assert_int_equal(rc, want ? YB_OK : YB_NOT_FOUND);
	if (rc != YB_OK)
		return;
	assert_int_equal(got.size, expect.size);
	assert_memory_equal(got.root, expect.root, sizeof(got.root));
	assert_int_equal(got.at_ms, expect.at_ms);
	assert_int_equal(got.sig_len, expect.sig_len);
	assert_memory_equal(got.sig, expect.sig, got.sig_len);
}

/* A store_checkpoint_fn: lists the sizes ("2,5,"). */
static int list_checkpoint(void *ctx, const struct checkpoint *c)
{
	char *sizes = ctx;

	snprintf(sizes + strlen(sizes), 64 - strlen(sizes), "%llu,", (unsigned long long)c->size);
	return 0;
}

static void test_checkpoints(void **state)
{
	static const uint64_t sizes[] = {2, 7, 5}; /* not stored in order of size */
	struct tmpdb *db = *state;
	struct checkpoint again = checkpoint_of(5);
	struct errbuf eb = {{0}};
	char from5[64] = "", first2[64] = "";

	assert_checkpoint(db->s, 0, 0); /* none yet */
	tmpdb_begin(db->s);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct checkpoint c = checkpoint_of(sizes[i]);
		assert_yb_ok(store_checkpoint_add(db->s, &c, &eb), &eb);
	}
	tmpdb_commit(db->s);
	again.at_ms = 1; /* a checkpoint is never replaced */
	tmpdb_begin(db->s);
	assert_int_equal(store_checkpoint_add(db->s, &again, &eb), YB_EDB);
	store_rollback(db->s);
	assert_checkpoint(db->s, 0, 7); /* the latest is the largest */
	assert_checkpoint(db->s, 5, 5);
	assert_checkpoint(db->s, 2, 2);
	assert_checkpoint(db->s, 4, 0);
	assert_yb_ok(store_scan_checkpoints(db->s, 5, 10, list_checkpoint, from5, &eb), &eb);
	assert_string_equal(from5, "5,7,");
	assert_yb_ok(store_scan_checkpoints(db->s, 0, 2, list_checkpoint, first2, &eb), &eb);
	assert_string_equal(first2, "2,5,");
}

int main(void)
{
#define ON_FIXTURE(f) cmocka_unit_test_setup_teardown(f, setup, tmpdb_teardown)
	const struct CMUnitTest tests[] = {
	    ON_FIXTURE(test_audit_scan),
	    ON_FIXTURE(test_audit_scan_stops),
	    ON_FIXTURE(test_index_of_submission),
	    ON_FIXTURE(test_leaves_in_order),
	    ON_FIXTURE(test_leaves_missing_or_damaged),
	    ON_FIXTURE(test_frontier),
	    cmocka_unit_test_setup_teardown(test_checkpoints, tmpdb_setup, tmpdb_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
