/*
 * test_batch.c - group commit keeps what it promises: a kept call's writes
 * are committed by the time batch_finish returns, a call that gives up its
 * writes loses only its own, and calls that wait while another holds the
 * writing connection share its commit.
 *
 * Threads write rows (store_record_load) through the batch on a temporary
 * SQLite file; a separate connection reads what is committed.
 *
 * Two functions are wrapped at link time (-Wl,--wrap, tests/CMakeLists.txt)
 * to watch the batch from outside without changing it: sqlite3_open_v2, to
 * count the COMMITs of the connection batch_open opens with a commit hook;
 * and pthread_cond_wait, to know when a call is waiting inside batch_join,
 * so that calls are made to overlap by waiting for that event, not by
 * sleeping and hoping.
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
#include <unistd.h>

#include <sqlite3.h>

#include "batch.h"
#include "clock.h"
#include "store.h"

#define THREADS 8
#define CALLS 60

static char db_path[64];

/* ---- watching the batch ------------------------------------------------------------------- */

int __real_sqlite3_open_v2(const char *path, sqlite3 **db, int flags, const char *vfs);
int __wrap_sqlite3_open_v2(const char *path, sqlite3 **db, int flags, const char *vfs);
int __real_pthread_cond_wait(pthread_cond_t *cv, pthread_mutex_t *m);
int __wrap_pthread_cond_wait(pthread_cond_t *cv, pthread_mutex_t *m);

static bool watch_next_open;  /* set around batch_open */
static uint64_t commits;      /* of the connection batch_open opened */
static __thread bool joining; /* this thread is inside batch_join, not yet waiting */
static int waiting_in_join;   /* threads that waited inside batch_join */
static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_cv = PTHREAD_COND_INITIALIZER;

static int count_commit(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&commits, 1, __ATOMIC_SEQ_CST);
	return 0; /* let it commit */
}

int __wrap_sqlite3_open_v2(const char *path, sqlite3 **db, int flags, const char *vfs)
{
	int rc = __real_sqlite3_open_v2(path, db, flags, vfs);

	if (rc == SQLITE_OK && watch_next_open) {
		watch_next_open = false;
		sqlite3_commit_hook(*db, count_commit, NULL);
	}
	return rc;
}

/* batch_join waits for its turn here, holding the batch's lock, once it has said it waits. */
int __wrap_pthread_cond_wait(pthread_cond_t *cv, pthread_mutex_t *m)
{
	if (joining) {
		joining = false; /* counted once, however often it waits */
		pthread_mutex_lock(&watch_lock);
		waiting_in_join++;
		pthread_cond_broadcast(&watch_cv);
		pthread_mutex_unlock(&watch_lock);
	}
	return __real_pthread_cond_wait(cv, m);
}

/*
 * Waits until n threads have waited inside batch_join: false after 20 s (if
 * batch_join stopped waiting with pthread_cond_wait, this test must change).
 */
static bool wait_for_joiners(int n)
{
	struct timespec until;
	bool all;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	pthread_mutex_lock(&watch_lock);
	while (waiting_in_join < n && rc == 0)
		rc = pthread_cond_timedwait(&watch_cv, &watch_lock, &until);
	all = waiting_in_join >= n;
	pthread_mutex_unlock(&watch_lock);
	return all;
}

static int open_watched(struct batch **b)
{
	struct errbuf eb = {{0}};
	int rc;

	watch_next_open = true;
	rc = batch_open(db_path, b, &eb);
	assert_false(watch_next_open); /* batch_open opened its connection with sqlite3_open_v2 */
	return rc;
}

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(db_path, sizeof(db_path), "/tmp/yuebao-test-batch.XXXXXX");
	if ((fd = mkstemp(db_path)) < 0)
		return -1;
	close(fd);
	unlink(db_path);
	return 0;
}

static int teardown(void **state)
{
	char path[80];

	(void)state;
	unlink(db_path);
	snprintf(path, sizeof(path), "%s-wal", db_path);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", db_path);
	unlink(path);
	return 0;
}

/* Rows named `source` committed in the database, read by a fresh connection. */
static int committed_rows(const char *source)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int n = -1;

	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM loads WHERE source = ?1", -1, &st, NULL) ==
	        SQLITE_OK) {
		sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* One call: join, write a row named source, finish keeping it or not. */
static int write_call(struct batch *b, const char *source, bool keep)
{
	struct errbuf eb = {{0}};
	struct store *db;
	int rc;

	if ((rc = batch_join(b, &db, &eb)) != YB_OK)
		return rc;
	if ((rc = store_record_load(db, "orgs", 1, "digest", source, "x", 1, &eb)) != YB_OK) {
		batch_finish(b, false, &eb);
		return rc;
	}
	return batch_finish(b, keep, &eb);
}

static void test_one_call(void **state)
{
	struct batch *b = NULL;
	struct errbuf eb = {{0}};
	uint64_t batches, calls;

	(void)state;
	assert_int_equal(batch_open(db_path, &b, &eb), YB_OK);
	assert_int_equal(write_call(b, "kept", true), YB_OK);
	assert_int_equal(committed_rows("kept"), 1);
	assert_int_equal(write_call(b, "dropped", false), YB_OK);
	assert_int_equal(committed_rows("dropped"), 0);
	/* The connection is usable after a dropped call. */
	assert_int_equal(write_call(b, "after", true), YB_OK);
	assert_int_equal(committed_rows("after"), 1);
	batch_stats(b, &batches, &calls);
	assert_int_equal(calls, 2);
	batch_close(b);
	batch_close(NULL);
}

struct worker_arg {
	struct batch *b;
	int id;
	int failures;      /* calls that did not end as they should */
	int not_committed; /* kept calls not readable when batch_finish returned */
};

static void *worker(void *p)
{
	struct worker_arg *a = p;

	for (int i = 0; i < CALLS; i++) {
		char source[32];
		bool keep = i % 4 != 3;
		snprintf(source, sizeof(source), "t%d-%d", a->id, i);
		if (write_call(a->b, source, keep) != YB_OK)
			a->failures++;
		else if (committed_rows(source) != (keep ? 1 : 0))
			a->not_committed++;
	}
	return NULL;
}

/* Many threads writing at once: every kept call is committed once, by the time it returns. */
static void test_concurrent_calls(void **state)
{
	struct worker_arg args[THREADS];
	pthread_t threads[THREADS];
	struct batch *b = NULL;
	uint64_t batches, calls;
	int kept = 0;

	(void)state;
	assert_int_equal(open_watched(&b), YB_OK);
	commits = 0;
	for (int t = 0; t < THREADS; t++) {
		args[t] = (struct worker_arg){b, t, 0, 0};
		assert_int_equal(pthread_create(&threads[t], NULL, worker, &args[t]), 0);
	}
	for (int t = 0; t < THREADS; t++) {
		pthread_join(threads[t], NULL);
		assert_int_equal(args[t].failures, 0);
		assert_int_equal(args[t].not_committed, 0);
	}
	for (int i = 0; i < CALLS; i++)
		kept += i % 4 != 3;
	batch_stats(b, &batches, &calls);
	assert_int_equal(calls, (uint64_t)(THREADS * kept));
	/* The commits batch_stats counts are those SQLite made. */
	assert_int_equal(commits, batches);
	printf("# %llu kept calls of %d threads in %llu commits\n", (unsigned long long)calls,
	       THREADS, (unsigned long long)batches);
	batch_close(b);
}

/*
 * The sharing test: one call (the holder) has the writing connection while
 * JOINERS others call batch_join; it finishes only once all of them wait
 * inside batch_join. Then each finisher finds others waiting and passes the
 * connection on, and the last commits for everyone: one commit for
 * JOINERS + 1 calls, where committing each call alone makes JOINERS + 1.
 *
 * batch.h also ends a batch once it is BATCH_AGE_MS old, so a machine that
 * stalls the round may split it. Every batch but the last then ended by
 * age: the holder's no earlier than its finish (at t_holder), each later
 * one opened after that and lasted BATCH_AGE_MS. So a round whose last
 * call finished at t_last takes at most 2 + (t_last - t_holder) /
 * BATCH_AGE_MS commits, and at most 1 + (t_last - t_start) / BATCH_AGE_MS.
 * That bound is checked on every round, and rounds are run until one is
 * quick enough for it to be below the number of calls (the first, unless
 * the machine is overloaded: the calls take well under a millisecond).
 */
#define JOINERS 15
#define BATCH_AGE_MS 20 /* batch.h: "or is 20 ms old" */
#define MAX_ROUNDS 20

struct round {
	struct batch *b;
	pthread_barrier_t start; /* the joiners go once the holder has the connection */
	pthread_mutex_t lock;
	int round, joined, failures;
	int64_t t_last; /* when the last joiner called batch_finish */
};

static void note_finish(struct round *r)
{
	int64_t now = clock_monotonic_ms();

	pthread_mutex_lock(&r->lock);
	if (now > r->t_last)
		r->t_last = now;
	pthread_mutex_unlock(&r->lock);
}

static void *joiner(void *p)
{
	struct round *r = p;
	struct errbuf eb = {{0}};
	struct store *db;
	char source[32];
	int rc;

	pthread_mutex_lock(&r->lock);
	snprintf(source, sizeof(source), "r%d-j%d", r->round, r->joined++);
	pthread_mutex_unlock(&r->lock);
	pthread_barrier_wait(&r->start);
	joining = true;
	rc = batch_join(r->b, &db, &eb);
	joining = false;
	if (rc == YB_OK) {
		bool ok = store_record_load(db, "orgs", 1, "digest", source, "x", 1, &eb) == YB_OK;
		note_finish(r);
		rc = batch_finish(r->b, ok, &eb) == YB_OK && ok ? YB_OK : YB_EDB;
	}
	if (rc != YB_OK || committed_rows(source) != 1) {
		pthread_mutex_lock(&r->lock);
		r->failures++;
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}

/*
 * One round: the holder, then the joiners. Returns the commits it took (as
 * SQLite and batch_stats count them, which must agree) and sets *bound to
 * the most that batch.h allows for how long it took.
 */
static uint64_t share_round(struct round *r, uint64_t *bound)
{
	pthread_t threads[JOINERS];
	struct errbuf eb = {{0}};
	struct store *db;
	uint64_t batches0, calls0, batches, calls, commits0 = commits, by_start, by_holder;
	int64_t t_start, t_holder;

	batch_stats(r->b, &batches0, &calls0);
	waiting_in_join = 0;
	r->failures = r->joined = 0;
	r->t_last = 0;
	assert_int_equal(pthread_barrier_init(&r->start, NULL, JOINERS + 1), 0);
	for (int i = 0; i < JOINERS; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, joiner, r), 0);
	t_start = clock_monotonic_ms();
	assert_int_equal(batch_join(r->b, &db, &eb), YB_OK);
	assert_int_equal(store_record_load(db, "orgs", 1, "digest", "holder", "x", 1, &eb), YB_OK);
	pthread_barrier_wait(&r->start);
	assert_true(wait_for_joiners(JOINERS));
	t_holder = clock_monotonic_ms();
	assert_int_equal(batch_finish(r->b, true, &eb), YB_OK);
	for (int i = 0; i < JOINERS; i++)
		pthread_join(threads[i], NULL);
	pthread_barrier_destroy(&r->start);
	assert_int_equal(r->failures, 0);
	batch_stats(r->b, &batches, &calls);
	assert_int_equal(calls - calls0, JOINERS + 1);
	assert_int_equal(commits - commits0, batches - batches0);
	by_start = 1 + (uint64_t)(r->t_last - t_start) / BATCH_AGE_MS;
	by_holder = 2 + (uint64_t)(r->t_last - t_holder) / BATCH_AGE_MS;
	*bound = by_start < by_holder ? by_start : by_holder;
	printf("# round %d: %d calls in %llu commit(s); joined in %lld ms, then finished in %lld "
	       "ms\n",
	       r->round, JOINERS + 1, (unsigned long long)(commits - commits0),
	       (long long)(t_holder - t_start), (long long)(r->t_last - t_holder));
	return commits - commits0;
}

static void test_waiting_calls_share_a_commit(void **state)
{
	struct round r = {.lock = PTHREAD_MUTEX_INITIALIZER};
	bool proven = false;

	(void)state;
	assert_int_equal(open_watched(&r.b), YB_OK);
	for (r.round = 0; r.round < MAX_ROUNDS && !proven; r.round++) {
		uint64_t bound, n = share_round(&r, &bound);
		assert_true(n >= 1 && n <= bound);
		proven = bound < JOINERS + 1;
	}
	assert_true(proven);
	batch_close(r.b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_call),
	    cmocka_unit_test(test_concurrent_calls),
	    cmocka_unit_test(test_waiting_calls_share_a_commit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
