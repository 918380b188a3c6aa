/*
 * pgtest.h - the PostgreSQL database a test run is given, if any: the
 * store's tests (tmpdb.h) and the daemon in process (inproc.h) run on it
 * instead of a SQLite file when $YB_TEST_PG_URL names one, as
 * tests/support/with_postgres.sh sets it for the pg.* tests of ctest.
 */
#ifndef YB_TEST_PGTEST_H
#define YB_TEST_PGTEST_H

#include <stdbool.h>
#include <stddef.h>

/* Whether $YB_TEST_PG_URL names a database to test on. */
bool pgtest_enabled(void);

/*
 * Empties the test database (drops its public schema with every table,
 * function and trigger an earlier test made) and writes its URL to url.
 * 0, or -1 with the reason on stderr.
 */
int pgtest_fresh(char *url, size_t len);

/*
 * Runs sql on the test database (on a connection of its own). When first
 * is not NULL, the query's first value is read into it (as an integer).
 * NULL, or the failure's message (the caller frees it).
 */
char *pgtest_run(const char *sql, long long *first);

#endif
