/*
 * test_store.c - the store's connection (server/store.h) on real SQLite
 * files: what store_open creates and refuses, transactions, savepoints and
 * snapshots as another connection sees them, the call-id records, the
 * daemons' notes, and store_quick_check on sound, missing and damaged
 * files and within its time limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "tmpdb.h"

#define DIGEST_1 "1111111111111111111111111111111111111111111111111111111111111111"
#define DIGEST_2 "2222222222222222222222222222222222222222222222222222222222222222"
#define DIGEST_3 "3333333333333333333333333333333333333333333333333333333333333333"

/* Call records: the same call id from two callers, a reply with NULs, an empty one. */
static const struct call {
	const char *fingerprint, *call_id, *digest;
	int64_t at_ms;
	const char *reply;
	size_t len;
} calls[] = {
    {"fp-a", "call-1", DIGEST_1, 1000, "\x08\x01\x00\x12\x02ok", 7},
    {"fp-b", "call-1", DIGEST_2, 2000, "\x00\xff other\x00", 9},
    {"fp-a", "call-2", DIGEST_3, 3000, "", 0},
};
#define N_CALLS (sizeof(calls) / sizeof(calls[0]))

/* Saves c inside the open transaction. */
static void save_call(struct store *s, const struct call *c)
{
	struct errbuf eb = {{0}};

	assert_yb_ok(store_call_save(s, c->fingerprint, c->call_id, c->digest, c->at_ms,
	                             (const uint8_t *)c->reply, c->len, &eb),
	             &eb);
}

/* store_call_find of (fingerprint, call_id): its status, and when found, that it is c's. */
static int find_call(struct store *s, const char *fingerprint, const char *call_id,
                     const struct call *c)
{
	struct errbuf eb = {{0}};
	char digest[65] = "";
	uint8_t *reply = NULL;
	size_t len = 0;
	int rc = store_call_find(s, fingerprint, call_id, digest, &reply, &len, &eb);

	if (rc == YB_OK && c != NULL) {
		assert_string_equal(digest, c->digest);
		assert_int_equal(len, c->len);
		assert_memory_equal(reply, c->reply, len);
	}
	free(reply);
	return rc;
}

/* find_call of c's own caller and call id: YB_OK (and c's record) or YB_NOT_FOUND. */
static int find_saved(struct store *s, const struct call *c)
{
	return find_call(s, c->fingerprint, c->call_id, c);
}

/* The permission bits of path + suffix; the test fails when it does not exist. */
static mode_t file_mode(const char *path, const char *suffix)
{
	char name[300];
	struct stat st;

	snprintf(name, sizeof(name), "%s%s", path, suffix);
	if (stat(name, &st) != 0)
		fail_msg("%s does not exist", name);
	return st.st_mode & 07777;
}

/* ---- opening ------------------------------------------------------------------------------- */

static void test_open_creates_private_files(void **state)
{
	struct tmpdb *db = *state;
	mode_t old;

	tmpdb_sqlite_only();
	old = umask(022); /* what SQLite alone would turn into 0644 */

	db->s = tmpdb_open(db->path);
	umask(old);
	/* the daemon's user writes, its group (backups) reads, others nothing */
	assert_int_equal(file_mode(db->path, ""), 0640);
	assert_int_equal(file_mode(db->path, "-wal"), 0640);
	assert_int_equal(file_mode(db->path, "-shm"), 0640);
}

/* The schema version stored in the database. */
static int64_t stored_version(const char *path)
{
	return tmpdb_int(path, tmpdb_is_postgres() ? "SELECT max(version) FROM schema_version"
	                                           : "PRAGMA user_version");
}

static void test_reopen_keeps_data_and_schema(void **state)
{
	struct tmpdb *db = *state;
	int64_t version = stored_version(db->path);

	assert_true(version > 0);
	tmpdb_begin(db->s);
	save_call(db->s, &calls[0]);
	tmpdb_commit(db->s);
	store_close(db->s);
	db->s = tmpdb_open(db->path);
	assert_int_equal(find_saved(db->s, &calls[0]), YB_OK);
	assert_int_equal(stored_version(db->path), version);
}

static void test_newer_schema_is_refused(void **state)
{
	struct tmpdb *db = *state;
	struct store *s = NULL;
	struct errbuf eb = {{0}};

	store_close(db->s);
	db->s = NULL;
	tmpdb_exec(db->path, tmpdb_is_postgres() ? "UPDATE schema_version SET version = 1000"
	                                         : "PRAGMA user_version = 1000");
	assert_int_equal(store_open(db->path, &s, &eb), YB_FAILED_PRECONDITION);
	assert_null(s);
	assert_non_null(strstr(eb.msg, db->path));
}

/* Writes len bytes of text to path, replacing it. */
static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_not_a_database_is_refused(void **state)
{
	struct tmpdb *db = *state;
	struct store *s = NULL;
	struct errbuf eb = {{0}};
	char text[4096], back[sizeof(text)];
	FILE *f;

	tmpdb_sqlite_only();
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = "code,name,parent\nROOT,x,\n"[i % 25];
	write_file(db->path, text, sizeof(text));
	assert_int_equal(store_open(db->path, &s, &eb), YB_EDB);
	assert_null(s);
	assert_non_null(strstr(eb.msg, db->path));
	/* Refused, not overwritten. */
	assert_non_null(f = fopen(db->path, "rb"));
	assert_int_equal(fread(back, 1, sizeof(back) + 1, f), sizeof(text));
	fclose(f);
	assert_memory_equal(back, text, sizeof(text));
}

/* ---- transactions, savepoints, snapshots --------------------------------------------------- */

static void test_commit_and_rollback(void **state)
{
	struct tmpdb *db = *state;
	struct store *other;

	assert_false(store_in_transaction(db->s));
	tmpdb_begin(db->s);
	assert_true(store_in_transaction(db->s));
	save_call(db->s, &calls[0]);
	tmpdb_commit(db->s);
	assert_false(store_in_transaction(db->s));

	tmpdb_begin(db->s);
	save_call(db->s, &calls[1]);
	store_rollback(db->s);
	assert_false(store_in_transaction(db->s));
	store_rollback(db->s); /* none open: nothing happens */

	/* What another connection sees: the commit, not what was rolled back. */
	other = tmpdb_open(db->path);
	assert_int_equal(find_saved(other, &calls[0]), YB_OK);
	assert_int_equal(find_saved(other, &calls[1]), YB_NOT_FOUND);
	store_close(other);
}

static void test_savepoint_rollback_undoes_only_its_writes(void **state)
{
	struct tmpdb *db = *state;
	struct errbuf eb = {{0}};

	tmpdb_begin(db->s);
	save_call(db->s, &calls[0]);
	assert_yb_ok(store_savepoint(db->s, &eb), &eb);
	save_call(db->s, &calls[1]);
	store_rollback_savepoint(db->s);
	assert_true(store_in_transaction(db->s));
	assert_yb_ok(store_savepoint(db->s, &eb), &eb);
	save_call(db->s, &calls[2]);
	assert_yb_ok(store_release(db->s, &eb), &eb);
	tmpdb_commit(db->s);

	assert_int_equal(find_saved(db->s, &calls[0]), YB_OK);
	assert_int_equal(find_saved(db->s, &calls[1]), YB_NOT_FOUND);
	assert_int_equal(find_saved(db->s, &calls[2]), YB_OK);
}

static void test_snapshot_ignores_later_commits(void **state)
{
	struct tmpdb *db = *state;
	struct store *other = tmpdb_open(db->path);
	const struct call *c = &calls[0];
	struct errbuf eb = {{0}};

	assert_yb_ok(store_snapshot_begin(db->s, &eb), &eb);
	assert_int_equal(find_saved(db->s, c), YB_NOT_FOUND);
	tmpdb_begin(other);
	save_call(other, c);
	tmpdb_commit(other);
	assert_int_equal(find_saved(db->s, c), YB_NOT_FOUND);
	store_snapshot_end(db->s);
	assert_int_equal(find_saved(db->s, c), YB_OK);
	store_close(other);
}

static void test_snapshot_inside_a_transaction(void **state)
{
	struct tmpdb *db = *state;
	struct errbuf eb = {{0}};

	tmpdb_begin(db->s);
	assert_yb_ok(store_snapshot_begin(db->s, &eb), &eb);
	save_call(db->s, &calls[0]);
	assert_int_equal(find_saved(db->s, &calls[0]), YB_OK);
	store_snapshot_end(db->s);
	assert_true(store_in_transaction(db->s));
	tmpdb_commit(db->s);
	assert_int_equal(find_saved(db->s, &calls[0]), YB_OK);
}

/* ---- call records -------------------------------------------------------------------------- */

static void save_all_calls(struct store *s)
{
	tmpdb_begin(s);
	for (size_t i = 0; i < N_CALLS; i++)
		save_call(s, &calls[i]);
	tmpdb_commit(s);
}

static void test_calls_read_back(void **state)
{
	struct tmpdb *db = *state;

	save_all_calls(db->s);
	for (size_t i = 0; i < N_CALLS; i++)
		assert_int_equal(find_saved(db->s, &calls[i]), YB_OK);
	assert_int_equal(find_call(db->s, "fp-a", "call-3", NULL), YB_NOT_FOUND);
	/* call-2 is fp-a's: another caller's call-2 is another call. */
	assert_int_equal(find_call(db->s, "fp-b", "call-2", NULL), YB_NOT_FOUND);
}

static void test_prune_forgets_only_older_calls(void **state)
{
	/* Cut at the second call's time: the first goes, the second (not older) stays. */
	static const struct {
		int64_t before_ms;
		bool kept[N_CALLS];
	} cuts[] = {
	    {1000, {true, true, true}},
	    {2000, {false, true, true}},
	    {3001, {false, false, false}},
	};
	struct tmpdb *db = *state;
	struct errbuf eb = {{0}};

	save_all_calls(db->s);
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		tmpdb_begin(db->s);
		assert_yb_ok(store_call_prune(db->s, cuts[i].before_ms, &eb), &eb);
		tmpdb_commit(db->s);
		for (size_t j = 0; j < N_CALLS; j++)
			assert_int_equal(find_saved(db->s, &calls[j]),
			                 cuts[i].kept[j] ? YB_OK : YB_NOT_FOUND);
	}
}

/* ---- the daemons' notes ------------------------------------------------------------------- */

/* Notes d, forgetting those not seen since forget_before_ms, in a transaction of its own. */
static void note_daemon(struct store *s, const struct store_daemon *d, int64_t forget_before_ms)
{
	struct errbuf eb = {{0}};

	tmpdb_begin(s);
	assert_yb_ok(store_daemon_note(s, d, forget_before_ms, &eb), &eb);
	tmpdb_commit(s);
}

static void test_daemon_notes(void **state)
{
	struct tmpdb *db = *state;
	struct store_daemon a = {.id = "aaaa", .host = "app1", .pid = 41, .started_at_ms = 1000}, b,
	                    seen[4];
	struct errbuf eb = {{0}};
	struct store *other;
	size_t n = 0;

	a.seen_at_ms = 1000;
	snprintf(a.orgs_digest, sizeof(a.orgs_digest), DIGEST_1);
	snprintf(a.catalog_digest, sizeof(a.catalog_digest), DIGEST_2);
	/* b: started later, elsewhere, serving the same. */
	b = a;
	snprintf(b.id, sizeof(b.id), "bbbb");
	snprintf(b.host, sizeof(b.host), "app2");
	snprintf(b.listen, sizeof(b.listen), "tls+tcp://0.0.0.0:7443");
	b.pid = 42;
	b.started_at_ms = b.seen_at_ms = 2000;
	note_daemon(db->s, &a, 0);
	note_daemon(db->s, &b, 0);
	/* A later note of a replaces its row: its listen address, time and digests. */
	snprintf(a.listen, sizeof(a.listen), "tls+tcp://127.0.0.1:7443");
	a.seen_at_ms = 5000;
	snprintf(a.orgs_digest, sizeof(a.orgs_digest), DIGEST_3);
	note_daemon(db->s, &a, 0);

	other = tmpdb_open(db->path); /* what another daemon reads */
	assert_yb_ok(store_daemon_list(other, seen, 4, &n, &eb), &eb);
	assert_int_equal(n, 2);
	assert_string_equal(seen[0].id, "aaaa"); /* earliest started first */
	assert_string_equal(seen[0].host, "app1");
	assert_int_equal(seen[0].pid, 41);
	assert_string_equal(seen[0].listen, "tls+tcp://127.0.0.1:7443");
	assert_int_equal(seen[0].started_at_ms, 1000);
	assert_int_equal(seen[0].seen_at_ms, 5000);
	assert_string_equal(seen[0].orgs_digest, DIGEST_3);
	assert_string_equal(seen[0].catalog_digest, DIGEST_2);
	assert_string_equal(seen[1].id, "bbbb");
	assert_string_equal(seen[1].listen, "tls+tcp://0.0.0.0:7443");

	/* At most max rows. */
	assert_yb_ok(store_daemon_list(other, seen, 1, &n, &eb), &eb);
	assert_int_equal(n, 1);

	/* A note forgets the daemons not seen since the cut (b, at 2000), not itself. */
	a.seen_at_ms = 9000;
	note_daemon(db->s, &a, 3000);
	assert_yb_ok(store_daemon_list(other, seen, 4, &n, &eb), &eb);
	assert_int_equal(n, 1);
	assert_string_equal(seen[0].id, "aaaa");

	/* A daemon that stops forgets its own note. */
	tmpdb_begin(db->s);
	assert_yb_ok(store_daemon_forget(db->s, "aaaa", &eb), &eb);
	tmpdb_commit(db->s);
	assert_yb_ok(store_daemon_list(other, seen, 4, &n, &eb), &eb);
	assert_int_equal(n, 0);
	store_close(other);
}

/* ---- quick_check --------------------------------------------------------------------------- */

static void test_quick_check_sound_and_missing(void **state)
{
	struct tmpdb *db = *state;
	struct errbuf eb = {{0}};
	bool complete = false;

	tmpdb_sqlite_only();
	save_all_calls(db->s);
	assert_yb_ok(store_quick_check(db->path, 10000, &complete, &eb), &eb);
	assert_true(complete);

	store_close(db->s);
	db->s = NULL;
	unlink(db->path);
	complete = false;
	assert_yb_ok(store_quick_check(db->path, 10000, &complete, &eb), &eb);
	assert_true(complete);
	assert_int_equal(access(db->path, F_OK), -1); /* not created by the check */
}

/*
 * Saves n call records of reply_len bytes each and closes the store, so the
 * rows are in the database file for a check that opens it on its own.
 */
static void fill_calls_and_close(struct tmpdb *db, int n, size_t reply_len)
{
	struct errbuf eb = {{0}};
	uint8_t reply[1000];

	assert_true(reply_len <= sizeof(reply));
	memset(reply, 'r', reply_len);
	tmpdb_begin(db->s);
	for (int i = 0; i < n; i++) {
		char id[32];
		snprintf(id, sizeof(id), "call-%d", i);
		assert_yb_ok(store_call_save(db->s, "fp", id, DIGEST_1, i, reply, reply_len, &eb),
		             &eb);
	}
	tmpdb_commit(db->s);
	store_close(db->s);
	db->s = NULL;
}

/*
 * The check stops at its deadline and says it did not finish; what it read
 * was sound. With 0 ms the first look at the clock (every 10,000 SQLite
 * steps; 5,000 rows take several times that) stops it.
 */
static void test_quick_check_bounded(void **state)
{
	struct tmpdb *db = *state;
	struct errbuf eb = {{0}};
	bool complete = true;

	tmpdb_sqlite_only();
	fill_calls_and_close(db, 5000, 200);
	assert_yb_ok(store_quick_check(db->path, 0, &complete, &eb), &eb);
	assert_false(complete);
	assert_yb_ok(store_quick_check(db->path, 60000, &complete, &eb), &eb);
	assert_true(complete);
}

/* Overwrites len bytes of path from offset with a pattern that no page holds. */
static void scribble(const char *path, off_t offset, size_t len)
{
	char garbage[4096];
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)(0xa5 ^ (i * 7));
	for (size_t done = 0; done < len; done += sizeof(garbage))
		assert_int_equal(pwrite(fd, garbage, sizeof(garbage), offset + (off_t)done),
		                 (ssize_t)sizeof(garbage));
	close(fd);
}

static void test_quick_check_damaged(void **state)
{
	struct tmpdb *db = *state;
	struct errbuf eb = {{0}};
	bool complete = true;
	struct stat st;
	int rc;

	tmpdb_sqlite_only();
	/* Some hundred pages, moved into the database file when the store closes. */
	fill_calls_and_close(db, 400, 1000);
	assert_int_equal(stat(db->path, &st), 0);
	assert_true(st.st_size >= 100 * 4096);

	scribble(db->path, st.st_size / 2 / 4096 * 4096, 3 * 4096);
	rc = store_quick_check(db->path, 10000, &complete, &eb);
	assert_true(rc == YB_DATA_LOSS || rc == YB_EDB);
	assert_false(complete);
	assert_non_null(strstr(eb.msg, db->path));
	assert_null(strchr(eb.msg, '\n')); /* one line for the log */
}

/*
 * A write that failed spoils what is left of its transaction on PostgreSQL:
 * the commit fails and keeps nothing; a rollback to the savepoint before
 * the failure makes the rest committable on both databases.
 */
static void test_failed_write_and_commit(void **state)
{
	struct tmpdb *db = *state;
	struct errbuf eb = {{0}};
	uint8_t *reply = NULL;
	size_t len = 0;
	char digest[65];

	tmpdb_begin(db->s);
	save_call(db->s, &calls[0]);
	assert_yb_ok(store_savepoint(db->s, &eb), &eb);
	/* The same call id again: the key refuses it. */
	assert_int_equal(store_call_save(db->s, calls[0].fingerprint, calls[0].call_id, "dd", 1,
	                                 (const uint8_t *)"x", 1, &eb),
	                 YB_EDB);
	store_rollback_savepoint(db->s);
	save_call(db->s, &calls[1]);
	tmpdb_commit(db->s);
	assert_int_equal(find_saved(db->s, &calls[0]), YB_OK);
	assert_int_equal(find_saved(db->s, &calls[1]), YB_OK);

	tmpdb_begin(db->s);
	save_call(db->s, &calls[2]);
	assert_int_equal(store_call_save(db->s, calls[0].fingerprint, calls[0].call_id, "dd", 1,
	                                 (const uint8_t *)"x", 1, &eb),
	                 YB_EDB);
	if (tmpdb_is_postgres()) {
		assert_int_equal(store_commit(db->s, &eb), YB_EDB);
		assert_false(store_in_transaction(db->s));
		assert_int_equal(store_call_find(db->s, calls[2].fingerprint, calls[2].call_id,
		                                 digest, &reply, &len, &eb),
		                 YB_NOT_FOUND);
	} else {
		tmpdb_commit(db->s);
		assert_int_equal(find_saved(db->s, &calls[2]), YB_OK);
	}
	free(reply);
}

/* ---- PostgreSQL paths (no server needed) ---------------------------------------------------- */

static void test_postgres_paths(void **state)
{
	char shown[256];

	(void)state;
	assert_true(store_is_postgres("postgresql://db1/yuebao"));
	assert_true(store_is_postgres("postgres:///yuebao?host=/run/postgresql"));
	assert_false(store_is_postgres("/var/lib/yuebao/yuebao.db"));
	assert_false(store_is_postgres("postgresql.db"));
	/* A password never reaches a log line or a message. */
	store_path_shown("postgresql://yuebao:s3cret@db1:5432/yuebao", shown, sizeof(shown));
	assert_string_equal(shown, "postgresql://yuebao:***@db1:5432/yuebao");
	store_path_shown("postgresql://yuebao@db1:5432/yuebao", shown, sizeof(shown));
	assert_string_equal(shown, "postgresql://yuebao@db1:5432/yuebao");
	store_path_shown("/var/lib/yuebao/yuebao.db", shown, sizeof(shown));
	assert_string_equal(shown, "/var/lib/yuebao/yuebao.db");
}

static void test_postgres_unreachable_is_unavailable(void **state)
{
	struct store *s = NULL;
	struct errbuf eb = {{0}};

	(void)state;
	assert_int_equal(
	    store_open("postgresql://yuebao:s3cret@/yuebao?host=/nonexistent-yb", &s, &eb),
	    YB_UNAVAILABLE);
	assert_null(s);
	assert_non_null(strstr(eb.msg, "database postgresql://yuebao:***@/yuebao"));
	assert_null(strstr(eb.msg, "s3cret"));
	assert_null(strchr(eb.msg, '\n'));
}

int main(void)
{
#define ON_PATH(f) cmocka_unit_test_setup_teardown(f, tmpdb_setup_path, tmpdb_teardown)
#define ON_STORE(f) cmocka_unit_test_setup_teardown(f, tmpdb_setup, tmpdb_teardown)
	const struct CMUnitTest tests[] = {
	    ON_PATH(test_open_creates_private_files),
	    ON_STORE(test_reopen_keeps_data_and_schema),
	    ON_STORE(test_newer_schema_is_refused),
	    ON_PATH(test_not_a_database_is_refused),
	    ON_STORE(test_commit_and_rollback),
	    ON_STORE(test_savepoint_rollback_undoes_only_its_writes),
	    ON_STORE(test_snapshot_ignores_later_commits),
	    ON_STORE(test_snapshot_inside_a_transaction),
	    ON_STORE(test_calls_read_back),
	    ON_STORE(test_prune_forgets_only_older_calls),
	    ON_STORE(test_daemon_notes),
	    ON_STORE(test_quick_check_sound_and_missing),
	    ON_STORE(test_quick_check_bounded),
	    ON_STORE(test_quick_check_damaged),
	    ON_STORE(test_failed_write_and_commit),
	    cmocka_unit_test(test_postgres_paths),
	    cmocka_unit_test(test_postgres_unreachable_is_unavailable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
