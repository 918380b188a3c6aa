/*
 * store_schema.c - the SQLite schema of the store and its upgrades (see
 * store_schema.h). PostgreSQL's schema is store_pg.c's, at the same version.
 */
#include "store_schema.h"

#include <stdbool.h>
#include <string.h>

#include <sqlite3.h>

#include "period.h"
#include "store_impl.h"
#include "store_rollup.h"

/*
 * 1: the first schema. 2: the consolidation pre-aggregates (rollup_*); a
 * version 1 database gets the new tables empty, and the daemon's first
 * rollup_sync builds them from the revisions. 3: findings are stored as a
 * code and parameters (revision_findings.kind, .params) and worded when
 * read; the rows of an earlier database keep their text in `message`, with
 * kind '' (migrate_findings). 4: revisions and calls are rowid tables: their
 * rows (a signed request of kilobytes, a stored reply) overflow an index
 * b-tree cell, so as WITHOUT ROWID tables every key comparison against
 * them (each foreign-key check of a submission's values, each call-id
 * lookup) copied the whole record through its overflow pages (rebuild_v4);
 * and an audit entry records the last of the months it is about
 * (audit_log.month_last), so that the close of a quarter is found by a
 * query for any of its months (months_v4). 5: the daemons table (several
 * daemons on one database note what they serve, daemons.h). 6: the
 * witnesses' cosignatures of checkpoints (cosignatures).
 */
#define STR_(x) #x
#define STR(x) STR_(x)

/*
 * Every table but the pre-aggregates', whose tables and triggers
 * store_rollup.c creates after these (store_rollup_schema).
 */
static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS loads("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('orgs','catalog')),"
    "  at_ms INTEGER NOT NULL,"
    "  digest TEXT NOT NULL,"
    "  source TEXT NOT NULL,"
    "  content BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS revisions("
    "  org TEXT NOT NULL,"
    "  month INTEGER NOT NULL,"
    "  revision INTEGER NOT NULL CHECK (revision >= 1),"
    "  state TEXT NOT NULL CHECK (state IN ('submitted','accepted','rejected')),"
    "  received_at_ms INTEGER NOT NULL,"
    "  on_time INTEGER NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  fingerprint TEXT NOT NULL,"
    "  request BLOB NOT NULL,"
    "  request_sha256 TEXT NOT NULL,"
    "  PRIMARY KEY (org, month, revision));"
    "CREATE INDEX IF NOT EXISTS revisions_by_month ON revisions(month, org);"
    "CREATE TABLE IF NOT EXISTS revision_values("
    "  org TEXT NOT NULL,"
    "  month INTEGER NOT NULL,"
    "  revision INTEGER NOT NULL,"
    "  code TEXT NOT NULL,"
    "  value INTEGER NOT NULL,"
    "  PRIMARY KEY (org, month, revision, code),"
    "  FOREIGN KEY (org, month, revision) REFERENCES revisions) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS revision_findings("
    "  org TEXT NOT NULL,"
    "  month INTEGER NOT NULL,"
    "  revision INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  severity TEXT NOT NULL,"
    "  field TEXT NOT NULL,"
    "  line INTEGER NOT NULL,"
    "  value TEXT NOT NULL,"
    "  message TEXT NOT NULL,"           /* schema 1-2: the text; '' since (kind says it) */
    "  kind TEXT NOT NULL DEFAULT '',"   /* finding_code_name(); '' = only message */
    "  params TEXT NOT NULL DEFAULT ''," /* finding_encode(): a JSON object */
    "  PRIMARY KEY (org, month, revision, seq),"
    "  FOREIGN KEY (org, month, revision) REFERENCES revisions) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS calls("
    "  fingerprint TEXT NOT NULL,"
    "  call_id TEXT NOT NULL,"
    "  request_digest TEXT NOT NULL,"
    "  at_ms INTEGER NOT NULL,"
    "  reply BLOB NOT NULL,"
    "  PRIMARY KEY (fingerprint, call_id));"
    "CREATE INDEX IF NOT EXISTS calls_by_time ON calls(at_ms);"
    "CREATE TABLE IF NOT EXISTS reviews("
    "  id INTEGER PRIMARY KEY,"
    "  org TEXT NOT NULL,"
    "  month INTEGER NOT NULL,"
    "  revision INTEGER NOT NULL,"
    "  action TEXT NOT NULL CHECK (action IN ('accept','reject','reopen')),"
    "  comment TEXT NOT NULL,"
    "  reviewer TEXT NOT NULL,"
    "  fingerprint TEXT NOT NULL,"
    "  at_ms INTEGER NOT NULL,"
    "  FOREIGN KEY (org, month, revision) REFERENCES revisions);"
    "CREATE INDEX IF NOT EXISTS reviews_by_return ON reviews(org, month, id);"
    "CREATE TABLE IF NOT EXISTS closures("
    "  id INTEGER PRIMARY KEY,"
    "  org TEXT NOT NULL,"
    "  month INTEGER NOT NULL,"
    "  closed INTEGER NOT NULL,"
    "  comment TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  fingerprint TEXT NOT NULL,"
    "  at_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS closures_by_org ON closures(org, month, id);"
    /* The audit log: entry i is leaf i of an RFC 6962 tree (index = seq - 1). */
    "CREATE TABLE IF NOT EXISTS audit_log("
    "  seq INTEGER PRIMARY KEY,"
    "  at_ms INTEGER NOT NULL,"
    "  action TEXT NOT NULL,"
    "  object TEXT NOT NULL,"
    "  org TEXT NOT NULL,"
    "  month INTEGER NOT NULL,"
    "  entry BLOB NOT NULL,"
    "  leaf BLOB NOT NULL,"
    "  month_last INTEGER NOT NULL DEFAULT 0);" /* schema 4: see store_audit_row */
    "CREATE INDEX IF NOT EXISTS audit_by_org ON audit_log(org, month);"
    /* The right edge of the tree: one subtree root per set bit of the size. */
    "CREATE TABLE IF NOT EXISTS audit_frontier("
    "  level INTEGER PRIMARY KEY,"
    "  hash BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS checkpoints("
    "  size INTEGER PRIMARY KEY,"
    "  root BLOB NOT NULL,"
    "  at_ms INTEGER NOT NULL,"
    "  signature BLOB NOT NULL);"
    /* schema 6: witnesses' cosignatures of checkpoints (yuebao audit witness) */
    "CREATE TABLE IF NOT EXISTS cosignatures("
    "  size INTEGER NOT NULL,"
    "  fingerprint TEXT NOT NULL,"
    "  cert BLOB NOT NULL,"
    "  signature BLOB NOT NULL,"
    "  at_ms INTEGER NOT NULL,"
    "  PRIMARY KEY(size, fingerprint));"
    "CREATE TABLE IF NOT EXISTS daemons("
    "  id TEXT PRIMARY KEY,"
    "  host TEXT NOT NULL,"
    "  pid INTEGER NOT NULL,"
    "  listen TEXT NOT NULL,"
    "  started_at_ms INTEGER NOT NULL,"
    "  seen_at_ms INTEGER NOT NULL,"
    "  orgs_digest TEXT NOT NULL,"
    "  catalog_digest TEXT NOT NULL);";

int store_schema_version(struct store *s, int *version, struct errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rc = YB_OK;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		rc = stmt_fail(s, eb, "read schema version");
	else
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc;
}

/*
 * Schema 4 for a database of schema 1-3: moves revisions and calls aside,
 * with their indexes and (revisions') triggers, so that schema_sql makes
 * them again as rowid tables, copies them back and drops the old ones.
 * Needs foreign_keys and legacy_alter_table as store_open sets them for a
 * migration: the other tables' references to revisions must not follow it
 * aside, nor its removal delete what refers to it.
 */
static const char rebuild_v4_aside[] = "DROP INDEX IF EXISTS revisions_by_month;"
                                       "DROP INDEX IF EXISTS calls_by_time;"
                                       "ALTER TABLE revisions RENAME TO revisions_v3;"
                                       "ALTER TABLE calls RENAME TO calls_v3;";
static const char rebuild_v4_back[] = "INSERT INTO revisions SELECT * FROM revisions_v3;"
                                      "INSERT INTO calls SELECT * FROM calls_v3;"
                                      "DROP TABLE revisions_v3;"
                                      "DROP TABLE calls_v3;";

/* Whether audit_log has month_last (a database copied back from a newer one may). */
static int has_month_last(struct store *s, bool *has, struct errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rc = YB_OK;

	if (sqlite3_prepare_v2(s->db,
	                       "SELECT count(*) FROM pragma_table_info('audit_log') WHERE"
	                       " name = 'month_last'",
	                       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		rc = stmt_fail(s, eb, "read the audit log's columns");
	else
		*has = sqlite3_column_int(st, 0) > 0;
	sqlite3_finalize(st);
	return rc;
}

/*
 * Schema 4: audit_log.month_last. An entry about one month gets that month;
 * the close or reopen of several months, recorded with month 0 before, gets
 * the months of the period its object names (ORG/2026Q1).
 */
static int months_v4(struct store *s, struct errbuf *eb)
{
	sqlite3_stmt *st = NULL, *up = NULL;
	bool has = false;
	int rc, step = SQLITE_DONE;

	if ((rc = has_month_last(s, &has, eb)) != YB_OK ||
	    (!has && (rc = stmt_script(s,
	                               "ALTER TABLE audit_log ADD COLUMN month_last INTEGER NOT"
	                               " NULL DEFAULT 0; UPDATE audit_log SET month_last = month;",
	                               eb)) != YB_OK))
		return rc;
	if (sqlite3_prepare_v2(s->db,
	                       "SELECT seq, object FROM audit_log WHERE month = 0 AND action IN"
	                       " ('close', 'reopen')",
	                       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db,
	                       "UPDATE audit_log SET month = ?2, month_last = ?3 WHERE seq = ?1",
	                       -1, &up, NULL) != SQLITE_OK)
		rc = stmt_fail(s, eb, "upgrade audit months");
	while (rc == YB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *object = (const char *)sqlite3_column_text(st, 1);
		const char *slash = object != NULL ? strchr(object, '/') : NULL;
		struct period p;
		if (slash == NULL || period_parse(slash + 1, &p, NULL) != YB_OK)
			continue; /* not a period: left about no month, as it was */
		sqlite3_bind_int64(up, 1, sqlite3_column_int64(st, 0));
		sqlite3_bind_int(up, 2, p.first);
		sqlite3_bind_int(up, 3, p.last);
		if (sqlite3_step(up) != SQLITE_DONE)
			rc = stmt_fail(s, eb, "upgrade audit months");
		sqlite3_reset(up);
	}
	if (rc == YB_OK && step != SQLITE_DONE)
		rc = stmt_fail(s, eb, "upgrade audit months");
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	return rc;
}

/* Fails when a foreign key points at nothing (after the rebuild: it must not). */
static int check_foreign_keys(struct store *s, struct errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rc = YB_OK, step;

	if (sqlite3_prepare_v2(s->db, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK)
		rc = stmt_fail(s, eb, "check foreign keys");
	else if ((step = sqlite3_step(st)) == SQLITE_ROW)
		rc = status_fail(eb, YB_DATA_LOSS,
		                 "the schema upgrade left a row of %s without its revision",
		                 (const char *)sqlite3_column_text(st, 0));
	else if (step != SQLITE_DONE)
		rc = stmt_fail(s, eb, "check foreign keys");
	sqlite3_finalize(st);
	return rc;
}

int store_schema_migrate(struct store *s, int version, struct errbuf *eb)
{
	bool upgrade_v4 = version >= 1 && version < 4;
	int rc;

	if ((upgrade_v4 && (rc = stmt_script(s, rebuild_v4_aside, eb)) != YB_OK) ||
	    (rc = stmt_script(s, schema_sql, eb)) != YB_OK ||
	    (upgrade_v4 && (rc = stmt_script(s, rebuild_v4_back, eb)) != YB_OK) ||
	    (upgrade_v4 && (rc = months_v4(s, eb)) != YB_OK) ||
	    (rc = store_rollup_schema(s, eb)) != YB_OK ||
	    (upgrade_v4 && (rc = check_foreign_keys(s, eb)) != YB_OK))
		return rc;
	/*
	 * 3: findings as codes. The rows of schema 1-2 keep their text in
	 * message and get kind '' (FINDING_CODE_NONE): they are shown as they
	 * were stored, in the language they were stored in.
	 */
	if (version >= 1 && version < 3 &&
	    (rc = stmt_script(
	         s,
	         "ALTER TABLE revision_findings ADD COLUMN kind TEXT NOT NULL DEFAULT '';"
	         "ALTER TABLE revision_findings ADD COLUMN params TEXT NOT NULL"
	         " DEFAULT '';",
	         eb)) != YB_OK)
		return rc;
	return stmt_script(s, "PRAGMA user_version=" STR(STORE_SCHEMA_VERSION), eb);
}
