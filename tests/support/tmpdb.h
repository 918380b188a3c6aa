/*
 * tmpdb.h - a store on a temporary SQLite file, for the store's unit tests
 * (test_store*.c); on PostgreSQL instead when $YB_TEST_PG_URL names a
 * database (tests/support/with_postgres.sh starts one): every test then
 * starts from that database emptied (its public schema dropped), and
 * tmpdb_exec and tmpdb_int run their SQL there.
 *
 * tmpdb_setup names a fresh file (mkstemp, in $TMPDIR, else memory-backed
 * /dev/shm when there is one, else /tmp) and opens a store on it;
 * tmpdb_teardown closes it and removes the file with its -wal and -shm.
 * Both are cmocka setup / teardown functions: the test's *state is the
 * struct tmpdb. The other helpers fail the running test (cmocka's
 * fail_msg, with the store's message) instead of returning a status.
 */
#ifndef YB_TEST_TMPDB_H
#define YB_TEST_TMPDB_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "status.h"
#include "store.h"
#include "store_returns.h"

struct tmpdb {
	char path[256];
	struct store *s; /* store_open(path); NULL after tmpdb_setup_path */
};

/* Whether the tests run on PostgreSQL ($YB_TEST_PG_URL). */
bool tmpdb_is_postgres(void);

/*
 * For a test of what only SQLite has (its files, PRAGMAs): skipped, as
 * cmocka's skip() does, when the tests run on PostgreSQL.
 */
#define tmpdb_sqlite_only()                                                                        \
	do {                                                                                       \
		if (tmpdb_is_postgres())                                                           \
			skip();                                                                    \
	} while (0)

/* Names a fresh path and opens a store on it: *state is the struct tmpdb. */
int tmpdb_setup(void **state);

/*
 * tmpdb_setup, then fill(s): the fixture every test of a file starts from
 * (fill fails the test, as the helpers below do, when it cannot write).
 */
int tmpdb_setup_filled(void **state, void (*fill)(struct store *s));

/* Names a fresh path that does not exist yet; opens nothing. */
int tmpdb_setup_path(void **state);

/* Closes the store (if open) and removes the file, its -wal and its -shm. */
int tmpdb_teardown(void **state);

/* Fails the test with eb's message unless the call gave YB_OK. */
#define assert_yb_ok(call, eb)                                                                     \
	do {                                                                                       \
		int tmpdb_rc_ = (call);                                                            \
		if (tmpdb_rc_ != YB_OK)                                                            \
			fail_msg("%s: %s: %s", #call, status_name(tmpdb_rc_), (eb)->msg);          \
	} while (0)

/* store_open(path), or the test fails. */
struct store *tmpdb_open(const char *path);

/* store_begin and store_commit, or the test fails. */
void tmpdb_begin(struct store *s);
void tmpdb_commit(struct store *s);

/*
 * Runs SQL on path through an SQLite connection of its own (what no
 * yuebaod code does: damage, a look behind the store's back).
 */
void tmpdb_exec(const char *path, const char *sql);

/* The integer in the first column of the first row of a query on path (own connection). */
int64_t tmpdb_int(const char *path, const char *sql);

/*
 * A revision of key numbered `revision` in `state`, every other field set
 * to a placeholder (no values, no findings), for tests that need one to
 * exist; the caller may change any field before inserting it.
 */
struct store_revision tmpdb_revision(struct return_key key, uint32_t revision, const char *state);

/* Inserts r in a transaction of its own, or the test fails. */
void tmpdb_insert(struct store *s, const struct store_revision *r);

/*
 * One page of an export (store_export_revisions, ...): the rows from
 * offset on, at most limit, each checked by the test against the row it
 * expects at index *n, then counted in *n.
 */
typedef int (*tmpdb_page_fn)(struct store *s, uint64_t offset, uint32_t limit, size_t *n,
                             struct errbuf *eb);

/*
 * Reads an export of `total` rows whole, page by page as a client does
 * (the next offset is the rows read so far, until a page comes back
 * short), with limits 1, 2, 3, total and more than total; fails the test
 * unless every page holds at most its limit and `total` rows came in all.
 */
void tmpdb_assert_pages(struct store *s, tmpdb_page_fn page, size_t total);

#endif
