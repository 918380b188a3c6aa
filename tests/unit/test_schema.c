/*
 * test_schema.c - a database of an earlier schema opens with everything in
 * it: the schema-4 upgrade rebuilds revisions and calls as rowid tables
 * and keeps every row, every reference to them and the triggers the
 * consolidation pre-aggregates rely on; and gives each audit entry the
 * months it is about (audit_log.month_last).
 *
 * The schema-3 database is made from a schema-4 one with raw SQLite, by
 * turning the two tables back into WITHOUT ROWID tables as schema 3 had
 * them, so the fixture carries real rows written by the store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store.h"
#include "store_returns.h"
#include "store_review.h"
#include "tmpdb.h"

static const char *db_path; /* the test's struct tmpdb's */

static void raw_exec(const char *sql)
{
	tmpdb_exec(db_path, sql);
}

static long raw_int(const char *sql)
{
	return (long)tmpdb_int(db_path, sql);
}

/* One revision with two values and a finding, one review of it and one call record. */
static void fill(struct store *s)
{
	static const uint8_t request[3000] = {1, 2, 3};
	struct store_value values[] = {{"members_total", 4200}, {"study_sessions", 300}};
	struct store_finding finding = {.severity = "warning",
	                                .field = "study_sessions",
	                                .line = 3,
	                                .value = "3",
	                                .what = {.code = FINDING_CODE_NONE},
	                                .message = "an old warning"};
	struct store_revision r = {.org = "FY-DZB",
	                           .month = 2026 * 12 + 5,
	                           .revision = 1,
	                           .state = "submitted",
	                           .received_at_ms = 1751500000000,
	                           .on_time = true,
	                           .reason = "",
	                           .subject = "O=t, OU=branch, CN=FY-DZB",
	                           .fingerprint = "ab",
	                           .request = request,
	                           .request_len = sizeof(request),
	                           .request_sha256 = "cd",
	                           .values = values,
	                           .n_values = 2,
	                           .findings = &finding,
	                           .n_findings = 1};
	struct store_review rv = {1,    "accept",     "fine", "O=t, OU=central, CN=JGDW",
	                          "ef", 1751500001000};
	struct errbuf eb = {{0}};

	assert_int_equal(store_begin(s, &eb), YB_OK);
	assert_int_equal(store_insert_revision(s, &r, &eb), YB_OK);
	assert_int_equal(store_add_review(s, (struct return_key){"FY-DZB", r.month}, &rv, &eb),
	                 YB_OK);
	assert_int_equal(
	    store_call_save(s, "ab", "0123", "digest", 1751500000000, request, 900, &eb), YB_OK);
	assert_int_equal(store_commit(s, &eb), YB_OK);
}

/* The text of the first column of the first row of sql; the caller frees it. */
static char *raw_text(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *v = NULL;

	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_non_null(v);
	return v;
}

/*
 * Turns the database back into schema 3: revisions and calls WITHOUT ROWID,
 * with the triggers revisions had.
 */
static void make_schema_3(void)
{
	char *triggers = raw_text("SELECT group_concat(sql, ';') || ';' FROM sqlite_master"
	                          " WHERE type = 'trigger' AND tbl_name = 'revisions'");
	char *script;

	raw_exec(
	    "PRAGMA foreign_keys=OFF; PRAGMA legacy_alter_table=ON; BEGIN;"
	    "DROP INDEX revisions_by_month; DROP INDEX calls_by_time;"
	    "ALTER TABLE revisions RENAME TO r4; ALTER TABLE calls RENAME TO c4;"
	    "CREATE TABLE revisions(org TEXT NOT NULL, month INTEGER NOT NULL,"
	    "  revision INTEGER NOT NULL CHECK (revision >= 1), state TEXT NOT NULL CHECK"
	    "  (state IN ('submitted','accepted','rejected')), received_at_ms INTEGER NOT NULL,"
	    "  on_time INTEGER NOT NULL, reason TEXT NOT NULL, subject TEXT NOT NULL,"
	    "  fingerprint TEXT NOT NULL, request BLOB NOT NULL, request_sha256 TEXT NOT NULL,"
	    "  PRIMARY KEY (org, month, revision)) WITHOUT ROWID;"
	    "CREATE INDEX revisions_by_month ON revisions(month, org);"
	    "CREATE TABLE calls(fingerprint TEXT NOT NULL, call_id TEXT NOT NULL,"
	    "  request_digest TEXT NOT NULL, at_ms INTEGER NOT NULL, reply BLOB NOT NULL,"
	    "  PRIMARY KEY (fingerprint, call_id)) WITHOUT ROWID;"
	    "CREATE INDEX calls_by_time ON calls(at_ms);"
	    "INSERT INTO revisions SELECT * FROM r4; INSERT INTO calls SELECT * FROM c4;"
	    "DROP TABLE r4; DROP TABLE c4;"
	    "ALTER TABLE audit_log DROP COLUMN month_last;"
	    /* How schema 3 recorded a submission and the close of a quarter. */
	    "INSERT INTO audit_log(seq, at_ms, action, object, org, month, entry, leaf)"
	    "  VALUES (100, 1, 'submit', 'FY-DZB/2026-06/r1', 'FY-DZB', 2026 * 12 + 5, x'00',"
	    "  zeroblob(32)), (101, 2, 'close', 'FY-DZZ/2026Q1', 'FY-DZZ', 0, x'00',"
	    "  zeroblob(32)), (102, 3, 'close', 'FY-DZZ/junk', 'FY-DZZ', 0, x'00', zeroblob(32));"
	    "PRAGMA user_version=3; COMMIT;");
	assert_non_null(script = malloc(strlen(triggers) + 32));
	sprintf(script, "BEGIN; %s COMMIT;", triggers);
	raw_exec(script);
	free(script);
	free(triggers);
}

static void test_schema_3_upgrades_with_its_rows(void **state)
{
	struct store *s = NULL;
	struct store_revision_row *row = NULL;
	struct errbuf eb = {{0}};
	uint8_t *reply = NULL;
	size_t len = 0;
	char digest[65];
	long triggers;

	db_path = ((struct tmpdb *)*state)->path;
	assert_int_equal(store_open(db_path, &s, &eb), YB_OK);
	fill(s);
	store_close(s);
	triggers = raw_int("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND"
	                   " tbl_name = 'revisions'");
	assert_true(triggers > 0);
	make_schema_3();
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE name IN"
	                         " ('revisions', 'calls') AND sql LIKE '%WITHOUT ROWID%'"),
	                 2);

	if (store_open(db_path, &s, &eb) != YB_OK)
		fail_msg("%s", eb.msg);
	store_close(s);
	assert_int_equal(raw_int("PRAGMA user_version"), 6);
	/* Schema 5's table for the daemons' notes is there too, and 6's for cosignatures. */
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE name = 'daemons'"), 1);
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE name = 'cosignatures'"),
	                 1);
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE sql LIKE"
	                         " '%WITHOUT ROWID%' AND name IN ('revisions', 'calls')"),
	                 0);
	/* Nothing is left of the tables moved aside, and every index is back. */
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE name LIKE '%_v3'"), 0);
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE name IN"
	                         " ('revisions_by_month', 'calls_by_time')"),
	                 2);
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND"
	                         " tbl_name = 'revisions'"),
	                 triggers);
	/* The other tables still refer to revisions, and every reference holds. */
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE name IN"
	                         " ('revision_values', 'revision_findings', 'reviews') AND"
	                         " sql LIKE '%REFERENCES revisions)%'"),
	                 3);
	assert_int_equal(raw_int("SELECT count(*) FROM pragma_foreign_key_check"), 0);
	/* Each entry knows its months: a quarter's close is about its three. */
	assert_int_equal(raw_int("SELECT month_last - 2026 * 12 FROM audit_log WHERE seq = 100"),
	                 5);
	assert_int_equal(raw_int("SELECT (month - 2026 * 12) * 100 + month_last - 2026 * 12"
	                         " FROM audit_log WHERE seq = 101"),
	                 2);
	assert_int_equal(raw_int("SELECT month + month_last FROM audit_log WHERE seq = 102"), 0);

	/* What was stored reads back the same. */
	assert_int_equal(store_open(db_path, &s, &eb), YB_OK);
	assert_int_equal(
	    store_get_revision(s, (struct return_key){"FY-DZB", 2026 * 12 + 5}, 0, &row, &eb),
	    YB_OK);
	assert_int_equal(row->revision, 1);
	assert_int_equal(row->n_values, 2);
	assert_int_equal(row->n_findings, 1);
	assert_string_equal(row->findings[0].message, "an old warning");
	store_revision_row_free(row);
	assert_int_equal(store_call_find(s, "ab", "0123", digest, &reply, &len, &eb), YB_OK);
	assert_string_equal(digest, "digest");
	assert_int_equal(len, 900);
	free(reply);

	/* A new revision is noted for the pre-aggregates by the triggers made again. */
	raw_exec("DELETE FROM rollup_pending");
	assert_int_equal(store_begin(s, &eb), YB_OK);
	assert_int_equal(
	    store_set_state(s, (struct return_key){"FY-DZB", 2026 * 12 + 5}, 1, "accepted", &eb),
	    YB_OK);
	assert_int_equal(store_commit(s, &eb), YB_OK);
	store_close(s);
	assert_int_equal(raw_int("SELECT count(*) FROM rollup_pending"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_schema_3_upgrades_with_its_rows, tmpdb_setup_path,
	                                    tmpdb_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
