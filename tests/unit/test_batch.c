/*
 * test_batch.c - group commit keeps what it promises: a kept call's writes
 * are committed by the time batch_finish returns, a call that gives up its
 * writes loses only its own, and concurrent calls share commits.
 *
 * Threads write rows (store_record_load) through the batch on a temporary
 * SQLite file; a separate connection reads what is committed.
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
#include "store.h"

#define THREADS 8
#define CALLS 60

static char db_path[64];

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

static void test_concurrent_calls(void **state)
{
	struct worker_arg args[THREADS];
	pthread_t threads[THREADS];
	struct batch *b = NULL;
	struct errbuf eb = {{0}};
	uint64_t batches, calls;
	int kept = 0;

	(void)state;
	assert_int_equal(batch_open(db_path, &b, &eb), YB_OK);
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
	/* Every kept call committed once; never more commits than calls. */
	assert_int_equal(calls, (uint64_t)(THREADS * kept));
	assert_true(batches >= 1 && batches <= calls);
	printf("# %llu kept calls of %d threads in %llu commits\n", (unsigned long long)calls,
	       THREADS, (unsigned long long)batches);
	batch_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_call),
	    cmocka_unit_test(test_concurrent_calls),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
