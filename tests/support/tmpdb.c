/*
 * tmpdb.c - a store on a temporary SQLite file, or on the PostgreSQL
 * database of $YB_TEST_PG_URL emptied first, for tests (see tmpdb.h).
 */
#include "tmpdb.h"

#include "pgtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

bool tmpdb_is_postgres(void)
{
	return pgtest_enabled();
}

/*
 * A fresh name from mkstemp, the file itself removed: the store's to create.
 * On PostgreSQL, the URL of its database with every table of an earlier
 * test dropped.
 */
static struct tmpdb *name_db(void)
{
	const char *dir = getenv("TMPDIR");
	struct tmpdb *db = calloc(1, sizeof(*db));
	struct stat st;
	int fd;

	if (db == NULL)
		return NULL;
	if (tmpdb_is_postgres()) {
		if (pgtest_fresh(db->path, sizeof(db->path)) != 0) {
			free(db);
			return NULL;
		}
		return db;
	}
	if (dir == NULL)
		dir = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
	snprintf(db->path, sizeof(db->path), "%s/yuebao-test-store.XXXXXX", dir);
	if ((fd = mkstemp(db->path)) < 0) {
		free(db);
		return NULL;
	}
	close(fd);
	unlink(db->path);
	return db;
}

int tmpdb_setup_path(void **state)
{
	return (*state = name_db()) != NULL ? 0 : -1;
}

int tmpdb_setup(void **state)
{
	struct tmpdb *db = name_db();
	struct errbuf eb = {{0}};

	*state = db;
	if (db == NULL)
		return -1;
	if (store_open(db->path, &db->s, &eb) != YB_OK) {
		fprintf(stderr, "tmpdb: %s\n", eb.msg);
		return -1;
	}
	return 0;
}

int tmpdb_setup_filled(void **state, void (*fill)(struct store *s))
{
	if (tmpdb_setup(state) != 0)
		return -1;
	fill(((struct tmpdb *)*state)->s);
	return 0;
}

int tmpdb_teardown(void **state)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	struct tmpdb *db = *state;
	char path[300];

	if (db == NULL)
		return 0;
	store_close(db->s);
	for (size_t i = 0; !tmpdb_is_postgres() && i < sizeof(suffixes) / sizeof(suffixes[0]);
	     i++) {
		snprintf(path, sizeof(path), "%s%s", db->path, suffixes[i]);
		unlink(path);
	}
	free(db);
	*state = NULL;
	return 0;
}

struct store *tmpdb_open(const char *path)
{
	struct store *s = NULL;
	struct errbuf eb = {{0}};

	assert_yb_ok(store_open(path, &s, &eb), &eb);
	return s;
}

void tmpdb_begin(struct store *s)
{
	struct errbuf eb = {{0}};

	assert_yb_ok(store_begin(s, &eb), &eb);
}

void tmpdb_commit(struct store *s)
{
	struct errbuf eb = {{0}};

	assert_yb_ok(store_commit(s, &eb), &eb);
}

/* A connection of the test's own on path, or the test fails. */
static sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		fail_msg("%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
	sqlite3_busy_timeout(db, 5000);
	return db;
}

void tmpdb_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	if (tmpdb_is_postgres()) {
		if ((msg = pgtest_run(sql, NULL)) != NULL)
			fail_msg("%s: %s", sql, msg);
		return;
	}
	db = raw_open(path);

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
	sqlite3_close(db);
}

int64_t tmpdb_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	int64_t n = 0;
	char *msg;

	if (tmpdb_is_postgres()) {
		long long v = 0;
		if ((msg = pgtest_run(sql, &v)) != NULL)
			fail_msg("%s: %s", sql, msg);
		return v;
	}
	db = raw_open(path);

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

struct store_revision tmpdb_revision(struct return_key key, uint32_t revision, const char *state)
{
	static const uint8_t request[] = "a request";
	struct store_revision r = {
	    .org = key.org,
	    .month = key.month,
	    .revision = revision,
	    .state = state,
	    .received_at_ms = 1751500000000 + revision,
	    .on_time = true,
	    .reason = "",
	    .subject = "O=yuebao-test, OU=branch, CN=TEST",
	    .fingerprint = "00",
	    .request = request,
	    .request_len = sizeof(request) - 1,
	    .request_sha256 = "00",
	};
	return r;
}

void tmpdb_insert(struct store *s, const struct store_revision *r)
{
	struct errbuf eb = {{0}};

	tmpdb_begin(s);
	assert_yb_ok(store_insert_revision(s, r, &eb), &eb);
	tmpdb_commit(s);
}

void tmpdb_assert_pages(struct store *s, tmpdb_page_fn page, size_t total)
{
	const uint32_t limits[] = {1, 2, 3, (uint32_t)total, (uint32_t)total + 5};
	struct errbuf eb = {{0}};

	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		size_t n = 0, before;

		if (limits[i] == 0)
			continue; /* LIMIT 0: an empty page, whatever is left */
		do {
			before = n;
			assert_yb_ok(page(s, before, limits[i], &n, &eb), &eb);
			assert_true(n - before <= limits[i]);
		} while (n - before == limits[i]);
		assert_int_equal(n, total);
	}
}
