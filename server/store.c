/*
 * store.c - SQLite schema and queries for the daemon.
 *
 * Statements are prepared once per connection and reset after use. Every
 * SQLite failure is converted here into YB_EDB (or YB_UNAVAILABLE when the
 * database stayed locked) with SQLite's own message.
 */
#include "store.h"

#include "checkpoint.h"
#include "i18n.h"
#include "period.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

/*
 * 1: the first schema. 2: the consolidation pre-aggregates (rollup_*); a
 * version 1 database gets the new tables empty, and the daemon's first
 * rollup_sync builds them from the revisions. 3: findings are stored as a
 * code and parameters (revision_findings.kind, .params) and worded when
 * read; the rows of an earlier database keep their text in `message`, with
 * kind '' (migrate_findings).
 */
#define SCHEMA_VERSION 3
#define STR_(x) #x
#define STR(x) STR_(x)

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
    "  PRIMARY KEY (org, month, revision)) WITHOUT ROWID;"
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
    "  PRIMARY KEY (fingerprint, call_id)) WITHOUT ROWID;"
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
    "  leaf BLOB NOT NULL);"
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
    /*
     * The consolidation pre-aggregates (server/rollup.c explains them): what
     * they were built for, the effective revision of each return in both
     * modes, and the buckets. They are derived data: rollup_rebuild makes
     * them again from the revisions at any time.
     */
    "CREATE TABLE IF NOT EXISTS rollup_meta("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  basis TEXT NOT NULL,"
    "  n_elements INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS rollup_elements("
    "  code TEXT PRIMARY KEY,"
    "  idx INTEGER NOT NULL,"
    "  last INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS rollup_units("
    "  code TEXT PRIMARY KEY,"
    "  leaf INTEGER NOT NULL,"
    "  parent TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS rollup_effective("
    "  mode INTEGER NOT NULL,"
    "  org TEXT NOT NULL,"
    "  month INTEGER NOT NULL,"
    "  revision INTEGER NOT NULL,"
    "  PRIMARY KEY (mode, org, month)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS rollup_buckets("
    "  mode INTEGER NOT NULL,"
    "  node TEXT NOT NULL,"
    "  month INTEGER NOT NULL,"
    "  next INTEGER NOT NULL,"
    "  data BLOB NOT NULL,"
    "  PRIMARY KEY (mode, node, month, next)) WITHOUT ROWID;"
    /*
     * Every change to a return's revisions is noted here by SQLite itself,
     * whoever makes it, until rollup_refresh has applied it (or
     * rollup_rebuild has made it moot): nothing can change the revisions
     * behind the pre-aggregates' back.
     */
    "CREATE TABLE IF NOT EXISTS rollup_pending("
    "  org TEXT NOT NULL,"
    "  month INTEGER NOT NULL,"
    "  PRIMARY KEY (org, month)) WITHOUT ROWID;"
    "CREATE TRIGGER IF NOT EXISTS rollup_revision_added AFTER INSERT ON revisions BEGIN"
    "  INSERT OR IGNORE INTO rollup_pending(org, month) VALUES (NEW.org, NEW.month); END;"
    "CREATE TRIGGER IF NOT EXISTS rollup_state_changed AFTER UPDATE OF state ON revisions BEGIN"
    "  INSERT OR IGNORE INTO rollup_pending(org, month) VALUES (NEW.org, NEW.month); END;"
    "CREATE TRIGGER IF NOT EXISTS rollup_revision_removed AFTER DELETE ON revisions BEGIN"
    "  INSERT OR IGNORE INTO rollup_pending(org, month) VALUES (OLD.org, OLD.month); END;";

enum query {
	Q_CALL_FIND,
	Q_CALL_SAVE,
	Q_CALL_PRUNE,
	Q_LOAD,
	Q_LAST_REV,
	Q_INS_REV,
	Q_INS_VALUE,
	Q_INS_FINDING,
	Q_GET_REV,
	Q_GET_VALUES,
	Q_GET_FINDINGS,
	Q_SCAN,
	Q_SCAN_ONE,
	Q_SCAN_ACCEPTED,
	Q_SCAN_ACCEPTED_ONE,
	Q_SET_STATE,
	Q_ADD_REVIEW,
	Q_LIST_REVIEWS,
	Q_ADD_CLOSURE,
	Q_CLOSURE,
	Q_STATUS,
	Q_AUDIT_SIZE,
	Q_FRONTIER_GET,
	Q_FRONTIER_SET,
	Q_FRONTIER_DEL,
	Q_AUDIT_ADD,
	Q_CHECKPOINT_ADD,
	Q_CHECKPOINT_GET,
	Q_AUDIT_LEAVES,
	Q_AUDIT_SCAN,
	Q_EXPORT_REVS,
	Q_EXPORT_CHECKPOINTS,
	Q_AUDIT_OF,
	Q_EXPORT_REVIEWS,
	Q_EXPORT_CLOSURES,
	Q_RU_STATE,
	Q_RU_SET_META,
	Q_RU_ADD_ELEMENT,
	Q_RU_ELEMENTS,
	Q_RU_ADD_UNIT,
	Q_RU_UNIT,
	Q_RU_EFF_NOW,
	Q_RU_EFF_GET,
	Q_RU_EFF_SET,
	Q_RU_EFF_DEL,
	Q_RU_MONTHS,
	Q_RU_PREV,
	Q_RU_NEXT,
	Q_RU_BUCKET_GET,
	Q_RU_BUCKET_PUT,
	Q_RU_BUCKET_DEL,
	Q_RU_BUCKETS,
	Q_RU_PENDING,
	Q_RU_PENDING_DEL,
	Q_COUNT
};

#define SCAN_SQL(org_cond, state_cond)                                                             \
	"WITH latest AS (SELECT org, month, max(revision) AS revision FROM revisions "             \
	"WHERE " org_cond "month BETWEEN ?1 AND ?2 AND " state_cond " GROUP BY org, month)"        \
	" SELECT l.org, l.month, l.revision, v.code, v.value FROM latest l"                        \
	" LEFT JOIN revision_values v ON v.org = l.org AND v.month = l.month AND"                  \
	" v.revision = l.revision ORDER BY l.org, l.month"

static const char *const query_sql[Q_COUNT] = {
    [Q_CALL_FIND] =
        "SELECT reply, request_digest FROM calls WHERE fingerprint = ?1 AND call_id = ?2",
    [Q_CALL_SAVE] = "INSERT INTO calls(fingerprint, call_id, request_digest, at_ms, reply)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_CALL_PRUNE] = "DELETE FROM calls WHERE at_ms < ?1",
    [Q_LOAD] =
        "INSERT INTO loads(kind, at_ms, digest, source, content) VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_LAST_REV] = "SELECT coalesce(max(revision), 0) FROM revisions WHERE org = ?1 AND month = ?2",
    [Q_INS_REV] = "INSERT INTO revisions(org, month, revision, state, received_at_ms, on_time,"
                  " reason, subject, fingerprint, request, request_sha256)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [Q_INS_VALUE] = "INSERT INTO revision_values(org, month, revision, code, value)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_INS_FINDING] = "INSERT INTO revision_findings(org, month, revision, seq, severity, field,"
                      " line, value, message, kind, params)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [Q_GET_REV] = "SELECT revision, state, received_at_ms, on_time, reason, subject, fingerprint,"
                  " request_sha256, (SELECT count(*) FROM revisions x WHERE x.org = r.org AND"
                  " x.month = r.month) FROM revisions r WHERE org = ?1 AND month = ?2 AND"
                  " (revision = ?3 OR ?3 = 0) ORDER BY revision DESC LIMIT 1",
    [Q_GET_VALUES] = "SELECT code, value FROM revision_values WHERE org = ?1 AND month = ?2 AND"
                     " revision = ?3",
    [Q_GET_FINDINGS] = "SELECT severity, field, line, value, message, kind, params"
                       " FROM revision_findings"
                       " WHERE org = ?1 AND month = ?2 AND revision = ?3 ORDER BY seq",
    /* The latest revision that is not rejected, per return, and its values. */
    /*
     * The latest non-rejected (or accepted) revision of each return and its
     * values. The one-org variants name the org directly so that SQLite
     * uses the (org, month, revision) key; "?3 IS NULL OR org = ?3" made it
     * scan every org unit of the months (416 ms a submission at 10,000).
     */
    [Q_SCAN] = SCAN_SQL("", "state <> 'rejected'"),
    [Q_SCAN_ONE] = SCAN_SQL("org = ?3 AND ", "state <> 'rejected'"),
    [Q_SCAN_ACCEPTED] = SCAN_SQL("", "state = 'accepted'"),
    [Q_SCAN_ACCEPTED_ONE] = SCAN_SQL("org = ?3 AND ", "state = 'accepted'"),
    [Q_SET_STATE] =
        "UPDATE revisions SET state = ?4 WHERE org = ?1 AND month = ?2 AND revision = ?3",
    [Q_ADD_REVIEW] = "INSERT INTO reviews(org, month, revision, action, comment, reviewer,"
                     " fingerprint, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [Q_LIST_REVIEWS] = "SELECT revision, action, comment, reviewer, fingerprint, at_ms FROM reviews"
                       " WHERE org = ?1 AND month = ?2 ORDER BY id",
    [Q_ADD_CLOSURE] = "INSERT INTO closures(org, month, closed, comment, subject, fingerprint,"
                      " at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [Q_CLOSURE] = "SELECT closed, subject, at_ms FROM closures WHERE org = ?1 AND month = ?2"
                  " ORDER BY id DESC LIMIT 1",
    /* Per return: the latest revision, its state and time, and whether the first was on time. */
    [Q_STATUS] = "WITH latest AS (SELECT org, month, max(revision) AS revision FROM revisions"
                 " WHERE month BETWEEN ?1 AND ?2 GROUP BY org, month)"
                 " SELECT l.org, l.month, l.revision, r.state, r.received_at_ms, f.on_time"
                 " FROM latest l JOIN revisions r ON r.org = l.org AND r.month = l.month AND"
                 " r.revision = l.revision JOIN revisions f ON f.org = l.org AND"
                 " f.month = l.month AND f.revision = 1 ORDER BY l.org, l.month",
    [Q_AUDIT_SIZE] = "SELECT coalesce(max(seq), 0) FROM audit_log",
    [Q_FRONTIER_GET] = "SELECT level, hash FROM audit_frontier",
    [Q_FRONTIER_SET] = "INSERT OR REPLACE INTO audit_frontier(level, hash) VALUES (?1, ?2)",
    [Q_FRONTIER_DEL] = "DELETE FROM audit_frontier WHERE level = ?1",
    [Q_AUDIT_ADD] = "INSERT INTO audit_log(seq, at_ms, action, object, org, month, entry, leaf)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [Q_CHECKPOINT_ADD] =
        "INSERT INTO checkpoints(size, root, at_ms, signature) VALUES (?1, ?2, ?3, ?4)",
    [Q_CHECKPOINT_GET] =
        "SELECT size, root, at_ms, signature FROM checkpoints"
        " WHERE size = ?1 OR (?1 = 0 AND size = (SELECT max(size) FROM checkpoints))",
    [Q_AUDIT_LEAVES] = "SELECT seq, leaf FROM audit_log WHERE seq <= ?1 ORDER BY seq",
    /*
     * A review's or a closure's comment is kept with it, not in the entry
     * (which holds its digest): found by what the entry names and its time,
     * both written in the same call.
     */
    [Q_AUDIT_SCAN] =
        "SELECT seq, at_ms, action, object, org, month, entry, leaf,"
        " CASE WHEN action GLOB 'review:*' THEN (SELECT r.comment FROM reviews r"
        "   WHERE r.org = a.org AND r.month = a.month AND 'review:' || r.action = a.action"
        "   AND r.at_ms = a.at_ms AND a.object GLOB '*/r' || r.revision ORDER BY r.id LIMIT 1)"
        " WHEN action IN ('close', 'reopen') THEN (SELECT c.comment FROM closures c"
        "   WHERE c.org = a.org AND c.at_ms = a.at_ms AND c.closed = (a.action = 'close')"
        "   ORDER BY c.id LIMIT 1) END"
        " FROM audit_log a WHERE seq >= ?1 AND at_ms >= ?2 AND"
        " (?3 IS NULL OR org IN (SELECT value FROM json_each(?3))) AND"
        " month BETWEEN ?4 AND ?5 ORDER BY seq LIMIT ?6",
    [Q_EXPORT_REVS] = "SELECT org, month, revision, state, request_sha256, request FROM revisions"
                      " ORDER BY org, month, revision LIMIT ?1 OFFSET ?2",
    [Q_EXPORT_CHECKPOINTS] = "SELECT size, root, at_ms, signature FROM checkpoints WHERE size >= ?1"
                             " ORDER BY size LIMIT ?2",
    [Q_AUDIT_OF] = "SELECT seq FROM audit_log WHERE org = ?1 AND month = ?2 AND object = ?3"
                   " AND action = 'submit' ORDER BY seq LIMIT 1",
    [Q_EXPORT_REVIEWS] =
        "SELECT org, month, revision, action, comment, reviewer, fingerprint, at_ms"
        " FROM reviews ORDER BY id LIMIT ?1 OFFSET ?2",
    [Q_EXPORT_CLOSURES] = "SELECT org, month, closed, comment, subject, fingerprint, at_ms"
                          " FROM closures ORDER BY id LIMIT ?1 OFFSET ?2",
    [Q_RU_STATE] = "SELECT (SELECT basis FROM rollup_meta), (SELECT n_elements FROM rollup_meta),"
                   " EXISTS (SELECT 1 FROM rollup_pending)",
    [Q_RU_SET_META] =
        "INSERT OR REPLACE INTO rollup_meta(id, basis, n_elements) VALUES (1, ?1, ?2)",
    [Q_RU_ADD_ELEMENT] = "INSERT INTO rollup_elements(code, idx, last) VALUES (?1, ?2, ?3)",
    [Q_RU_ELEMENTS] = "SELECT idx, code, last FROM rollup_elements",
    [Q_RU_ADD_UNIT] = "INSERT INTO rollup_units(code, leaf, parent) VALUES (?1, ?2, ?3)",
    [Q_RU_UNIT] = "SELECT leaf, parent FROM rollup_units WHERE code = ?1",
    [Q_RU_EFF_NOW] =
        "SELECT (SELECT max(revision) FROM revisions WHERE org = ?1 AND month = ?2 AND"
        " state <> 'rejected'), (SELECT max(revision) FROM revisions WHERE org = ?1 AND"
        " month = ?2 AND state = 'accepted')",
    [Q_RU_EFF_GET] =
        "SELECT revision FROM rollup_effective WHERE mode = ?1 AND org = ?2 AND month = ?3",
    [Q_RU_EFF_SET] = "INSERT OR REPLACE INTO rollup_effective(mode, org, month, revision)"
                     " VALUES (?1, ?2, ?3, ?4)",
    [Q_RU_EFF_DEL] = "DELETE FROM rollup_effective WHERE mode = ?1 AND org = ?2 AND month = ?3",
    [Q_RU_MONTHS] = "SELECT month, revision FROM rollup_effective WHERE mode = ?1 AND org = ?2"
                    " ORDER BY month",
    /* The nearest other month of (mode, org) whose effective revision has a value for ?4. */
    [Q_RU_PREV] = "SELECT f.month, v.value FROM rollup_effective f JOIN revision_values v ON"
                  " v.org = f.org AND v.month = f.month AND v.revision = f.revision AND"
                  " v.code = ?4 WHERE f.mode = ?1 AND f.org = ?2 AND f.month < ?3"
                  " ORDER BY f.month DESC LIMIT 1",
    [Q_RU_NEXT] = "SELECT f.month, v.value FROM rollup_effective f JOIN revision_values v ON"
                  " v.org = f.org AND v.month = f.month AND v.revision = f.revision AND"
                  " v.code = ?4 WHERE f.mode = ?1 AND f.org = ?2 AND f.month > ?3"
                  " ORDER BY f.month LIMIT 1",
    [Q_RU_BUCKET_GET] = "SELECT data FROM rollup_buckets WHERE mode = ?1 AND node = ?2 AND"
                        " month = ?3 AND next = ?4",
    [Q_RU_BUCKET_PUT] = "INSERT OR REPLACE INTO rollup_buckets(mode, node, month, next, data)"
                        " VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_RU_BUCKET_DEL] = "DELETE FROM rollup_buckets WHERE mode = ?1 AND node = ?2 AND"
                        " month = ?3 AND next = ?4",
    [Q_RU_BUCKETS] = "SELECT month, next, data FROM rollup_buckets WHERE mode = ?1 AND"
                     " node = ?2 AND month BETWEEN ?3 AND ?4 AND (next = 0 OR next > ?5)",
    [Q_RU_PENDING] = "SELECT org, month FROM rollup_pending LIMIT 1",
    [Q_RU_PENDING_DEL] = "DELETE FROM rollup_pending WHERE org = ?1 AND month = ?2",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmts[Q_COUNT];
	char *path;
};

static int db_fail(struct store *s, struct errbuf *eb, const char *what)
{
	int ext = sqlite3_extended_errcode(s->db);
	int code =
	    (ext & 0xff) == SQLITE_BUSY || (ext & 0xff) == SQLITE_LOCKED ? YB_UNAVAILABLE : YB_EDB;
	return status_fail(eb, code, "database %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

/* The prepared statement for q, reset and with bindings cleared. */
static sqlite3_stmt *stmt(struct store *s, enum query q, struct errbuf *eb)
{
	if (s->stmts[q] == NULL &&
	    sqlite3_prepare_v3(s->db, query_sql[q], -1, SQLITE_PREPARE_PERSISTENT, &s->stmts[q],
	                       NULL) != SQLITE_OK) {
		db_fail(s, eb, "prepare");
		return NULL;
	}
	sqlite3_reset(s->stmts[q]);
	sqlite3_clear_bindings(s->stmts[q]);
	return s->stmts[q];
}

/* Steps a statement that returns no rows. */
static int exec_stmt(struct store *s, sqlite3_stmt *st, const char *what, struct errbuf *eb)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(s, eb, what);
	return YB_OK;
}

static int exec_sql(struct store *s, const char *sql, struct errbuf *eb)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = status_fail(eb, YB_EDB, "database %s: %s", s->path,
		                     msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return rc;
	}
	return YB_OK;
}

/* The schema version of the database (PRAGMA user_version; 0 when new). */
static int read_version(struct store *s, int *version, struct errbuf *eb)
{
	sqlite3_stmt *st = NULL;
	int rc = YB_OK;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		rc = db_fail(s, eb, "read schema version");
	else
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc;
}

/*
 * Brings a database of schema `version` (inside the write transaction) to
 * SCHEMA_VERSION: the tables and indexes it lacks, then the steps that
 * change existing tables.
 */
static int migrate(struct store *s, int version, struct errbuf *eb)
{
	int rc;

	if ((rc = exec_sql(s, schema_sql, eb)) != YB_OK)
		return rc;
	/*
	 * 3: findings as codes. The rows of schema 1-2 keep their text in
	 * message and get kind '' (FINDING_CODE_NONE): they are shown as they
	 * were stored, in the language they were stored in.
	 */
	if (version >= 1 && version < 3 &&
	    (rc = exec_sql(s,
	                   "ALTER TABLE revision_findings ADD COLUMN kind TEXT NOT NULL DEFAULT '';"
	                   "ALTER TABLE revision_findings ADD COLUMN params TEXT NOT NULL"
	                   " DEFAULT '';",
	                   eb)) != YB_OK)
		return rc;
	return exec_sql(s, "PRAGMA user_version=" STR(SCHEMA_VERSION), eb);
}

int store_open(const char *path, struct store **out, struct errbuf *eb)
{
	struct store *s = calloc(1, sizeof(*s));
	int version = 0;
	int rc;

	if (s == NULL || (s->path = strdup(path)) == NULL) {
		free(s);
		return status_fail(eb, YB_ENOMEM, "out of memory");
	}
	/* Created here, not by SQLite, which would follow the umask (often 0644). */
	if ((rc = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) >= 0)
		close(rc);
	else if (errno != EEXIST) {
		rc =
		    status_fail(eb, YB_EDB, "cannot create database %s: %s", path, strerror(errno));
		goto fail;
	}
	if (sqlite3_open_v2(path, &s->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		rc = status_fail(eb, YB_EDB, "cannot open database %s: %s", path,
		                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 10000);
	if ((rc = exec_sql(s,
	                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	                   " PRAGMA foreign_keys=ON;",
	                   eb)) != YB_OK)
		goto fail;
	if ((rc = read_version(s, &version, eb)) != YB_OK)
		goto fail;
	if (version > SCHEMA_VERSION) {
		rc = status_fail(eb, YB_FAILED_PRECONDITION,
		                 "database %s has schema version %d, newer than this yuebaod "
		                 "(%d): upgrade yuebaod",
		                 path, version, SCHEMA_VERSION);
		goto fail;
	}
	if (version < SCHEMA_VERSION) {
		/*
		 * The write lock makes concurrent first opens by the workers safe;
		 * the version is read again under it, as another may have migrated.
		 */
		if ((rc = exec_sql(s, "BEGIN IMMEDIATE", eb)) != YB_OK)
			goto fail;
		if ((rc = read_version(s, &version, eb)) != YB_OK ||
		    (version < SCHEMA_VERSION && (rc = migrate(s, version, eb)) != YB_OK) ||
		    (rc = exec_sql(s, "COMMIT", eb)) != YB_OK) {
			exec_sql(s, "ROLLBACK", NULL);
			goto fail;
		}
	}
	*out = s;
	return YB_OK;
fail:
	store_close(s);
	return rc;
}

/* Interrupts quick_check once its deadline (CLOCK_MONOTONIC ms) has passed. */
static int check_deadline(void *arg)
{
	const int64_t *deadline = arg;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 > *deadline;
}

int store_quick_check(const char *path, int max_ms, bool *complete, struct errbuf *eb)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct timespec ts;
	int64_t deadline;
	int rc = YB_OK, step;

	*complete = false;
	if (access(path, F_OK) != 0) {
		*complete = true;
		return YB_OK;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + max_ms;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK) {
		rc = status_fail(eb, YB_EDB, "cannot check database %s: %s", path,
		                 db ? sqlite3_errmsg(db) : "out of memory");
		goto done;
	}
	/* Checked every 10,000 virtual machine steps: well under a millisecond. */
	sqlite3_progress_handler(db, 10000, check_deadline, &deadline);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(st, 0);
		if (r != NULL && strcmp(r, "ok") == 0) {
			*complete = true;
		} else {
			rc = status_fail(eb, YB_DATA_LOSS, "database %s is damaged: %s", path,
			                 r ? r : "?");
			/* SQLite's report spans lines; the log takes one. */
			for (char *p = eb ? eb->msg : NULL; p != NULL && *p; p++)
				if (*p == '\n')
					*p = ' ';
		}
	} else if (step == SQLITE_INTERRUPT) {
		*complete = false;
	} else if (step == SQLITE_CORRUPT || step == SQLITE_NOTADB) {
		rc = status_fail(eb, YB_DATA_LOSS, "database %s is damaged: %s", path,
		                 sqlite3_errmsg(db));
	} else {
		rc = status_fail(eb, YB_EDB, "cannot check database %s: %s", path,
		                 sqlite3_errmsg(db));
	}
done:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(s->stmts[i]);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

int store_begin(struct store *s, struct errbuf *eb)
{
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(s, eb, "begin");
	return YB_OK;
}

int store_commit(struct store *s, struct errbuf *eb)
{
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		int rc = db_fail(s, eb, "commit");
		store_rollback(s);
		return rc;
	}
	return YB_OK;
}

void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_savepoint(struct store *s, struct errbuf *eb)
{
	if (sqlite3_exec(s->db, "SAVEPOINT call", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(s, eb, "savepoint");
	return YB_OK;
}

int store_release(struct store *s, struct errbuf *eb)
{
	if (sqlite3_exec(s->db, "RELEASE call", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(s, eb, "release savepoint");
	return YB_OK;
}

void store_rollback_savepoint(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK TO call; RELEASE call", NULL, NULL, NULL);
}

bool store_in_transaction(const struct store *s)
{
	return !sqlite3_get_autocommit(s->db);
}

int store_call_find(struct store *s, const char *fingerprint, const char *call_id, char digest[65],
                    uint8_t **reply, size_t *len, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_CALL_FIND, eb);
	int rc;

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, call_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		uint8_t *buf = malloc(n ? n : 1);
		if (buf == NULL) {
			sqlite3_reset(st);
			return status_fail(eb, YB_ENOMEM, "out of memory");
		}
		if (n > 0)
			memcpy(buf, sqlite3_column_blob(st, 0), n);
		snprintf(digest, 65, "%s",
		         sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1)
		                                    : "");
		*reply = buf;
		*len = n;
		sqlite3_reset(st);
		return YB_OK;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(s, eb, "find call");
	return YB_NOT_FOUND;
}

int store_call_save(struct store *s, const char *fingerprint, const char *call_id,
                    const char *digest, int64_t at_ms, const uint8_t *reply, size_t len,
                    struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_CALL_SAVE, eb);

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, call_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, digest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, at_ms);
	sqlite3_bind_blob(st, 5, reply, (int)len, SQLITE_STATIC);
	return exec_stmt(s, st, "save call", eb);
}

int store_call_prune(struct store *s, int64_t before_ms, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_CALL_PRUNE, eb);

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_int64(st, 1, before_ms);
	return exec_stmt(s, st, "prune calls", eb);
}

int store_record_load(struct store *s, const char *kind, int64_t at_ms, const char *digest,
                      const char *source, const char *content, size_t len, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_LOAD, eb);

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, at_ms);
	sqlite3_bind_text(st, 3, digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, source, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, content, (int)len, SQLITE_STATIC);
	return exec_stmt(s, st, "record load", eb);
}

int store_last_revision(struct store *s, const char *org, int month, uint32_t *revision,
                        struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_LAST_REV, eb);
	int rc;

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, month);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*revision = (uint32_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? YB_OK : db_fail(s, eb, "last revision");
}

int store_insert_revision(struct store *s, const struct store_revision *r, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_INS_REV, eb);
	char *params;
	int rc;

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, r->org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, r->month);
	sqlite3_bind_int64(st, 3, r->revision);
	sqlite3_bind_text(st, 4, r->state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, r->received_at_ms);
	sqlite3_bind_int(st, 6, r->on_time);
	sqlite3_bind_text(st, 7, r->reason ? r->reason : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, r->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, r->fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 10, r->request, (int)r->request_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, r->request_sha256, -1, SQLITE_STATIC);
	if ((rc = exec_stmt(s, st, "insert revision", eb)) != YB_OK)
		return rc;
	for (size_t i = 0; i < r->n_values; i++) {
		if ((st = stmt(s, Q_INS_VALUE, eb)) == NULL)
			return YB_EDB;
		sqlite3_bind_text(st, 1, r->org, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, r->month);
		sqlite3_bind_int64(st, 3, r->revision);
		sqlite3_bind_text(st, 4, r->values[i].code, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, r->values[i].value);
		if ((rc = exec_stmt(s, st, "insert value", eb)) != YB_OK)
			return rc;
	}
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct store_finding *f = &r->findings[i];
		if ((st = stmt(s, Q_INS_FINDING, eb)) == NULL)
			return YB_EDB;
		sqlite3_bind_text(st, 1, r->org, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, r->month);
		sqlite3_bind_int64(st, 3, r->revision);
		sqlite3_bind_int64(st, 4, (int64_t)i + 1);
		sqlite3_bind_text(st, 5, f->severity, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, f->field, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, f->line);
		sqlite3_bind_text(st, 8, f->value ? f->value : "", -1, SQLITE_STATIC);
		if (f->what.code == FINDING_CODE_NONE) {
			sqlite3_bind_text(st, 9, f->message ? f->message : "", -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 10, "", -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 11, "", -1, SQLITE_STATIC);
		} else {
			if (finding_encode(&f->what, &params) != YB_OK)
				return status_fail(eb, YB_ENOMEM, "out of memory");
			sqlite3_bind_text(st, 9, "", -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 10, finding_code_name(f->what.code), -1,
			                  SQLITE_STATIC);
			sqlite3_bind_text(st, 11, params, -1, free);
		}
		if ((rc = exec_stmt(s, st, "insert finding", eb)) != YB_OK)
			return rc;
	}
	return YB_OK;
}

static char *col_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return strdup(t ? (const char *)t : "");
}

void store_revision_row_free(struct store_revision_row *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_values; i++)
		free((char *)r->values[i].code);
	for (size_t i = 0; i < r->n_findings; i++) {
		free((char *)r->findings[i].severity);
		free((char *)r->findings[i].field);
		free((char *)r->findings[i].value);
		free((char *)r->findings[i].message);
	}
	free(r->values);
	free(r->findings);
	free(r->org);
	free(r->state);
	free(r->reason);
	free(r->subject);
	free(r->fingerprint);
	free(r->request_sha256);
	free(r);
}

/* Reads the values and findings of r's revision into r. */
static int read_details(struct store *s, struct store_revision_row *r, struct errbuf *eb)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	if ((st = stmt(s, Q_GET_VALUES, eb)) == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, r->org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, r->month);
	sqlite3_bind_int64(st, 3, r->revision);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (r->n_values == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			void *p = realloc(r->values, ncap * sizeof(*r->values));
			if (p == NULL)
				goto nomem;
			r->values = p;
			cap = ncap;
		}
		r->values[r->n_values].value = sqlite3_column_int64(st, 1);
		if ((r->values[r->n_values].code = col_dup(st, 0)) == NULL)
			goto nomem;
		r->n_values++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(s, eb, "read values");
	if ((st = stmt(s, Q_GET_FINDINGS, eb)) == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, r->org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, r->month);
	sqlite3_bind_int64(st, 3, r->revision);
	cap = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_finding *f;
		if (r->n_findings == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			void *p = realloc(r->findings, ncap * sizeof(*r->findings));
			if (p == NULL)
				goto nomem;
			r->findings = p;
			cap = ncap;
		}
		f = &r->findings[r->n_findings++];
		memset(f, 0, sizeof(*f));
		f->severity = col_dup(st, 0);
		f->field = col_dup(st, 1);
		f->line = (uint32_t)sqlite3_column_int64(st, 2);
		f->value = col_dup(st, 3);
		f->message = col_dup(st, 4);
		if (!f->severity || !f->field || !f->value || !f->message)
			goto nomem;
		if (sqlite3_column_bytes(st, 5) > 0) {
			const char *kind = (const char *)sqlite3_column_text(st, 5);
			const char *params = (const char *)sqlite3_column_text(st, 6);
			struct errbuf why;
			char month[PERIOD_TEXT_MAX];
			if (finding_decode(kind, params ? params : "", &f->what, &why) != YB_OK) {
				sqlite3_reset(st);
				period_format_month(r->month, month, sizeof(month));
				return status_fail(
				    eb, YB_EDB, "database %s: finding %zu of %s %s revision %u: %s",
				    s->path, r->n_findings, r->org, month, r->revision, why.msg);
			}
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(s, eb, "read findings");
	return YB_OK;
nomem:
	sqlite3_reset(st);
	return status_fail(eb, YB_ENOMEM, "out of memory");
}

int store_get_revision(struct store *s, const char *org, int month, uint32_t revision,
                       struct store_revision_row **out, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_GET_REV, eb);
	struct store_revision_row *r;
	int rc;

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, month);
	sqlite3_bind_int64(st, 3, revision);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? YB_NOT_FOUND : db_fail(s, eb, "read revision");
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		sqlite3_reset(st);
		return status_fail(eb, YB_ENOMEM, "out of memory");
	}
	r->org = strdup(org);
	r->month = month;
	r->revision = (uint32_t)sqlite3_column_int64(st, 0);
	r->state = col_dup(st, 1);
	r->received_at_ms = sqlite3_column_int64(st, 2);
	r->on_time = sqlite3_column_int(st, 3) != 0;
	r->reason = col_dup(st, 4);
	r->subject = col_dup(st, 5);
	r->fingerprint = col_dup(st, 6);
	r->request_sha256 = col_dup(st, 7);
	r->revisions = (uint32_t)sqlite3_column_int64(st, 8);
	sqlite3_reset(st);
	if (!r->org || !r->state || !r->reason || !r->subject || !r->fingerprint ||
	    !r->request_sha256) {
		store_revision_row_free(r);
		return status_fail(eb, YB_ENOMEM, "out of memory");
	}
	if ((rc = read_details(s, r, eb)) != YB_OK) {
		store_revision_row_free(r);
		return rc;
	}
	*out = r;
	return YB_OK;
}

int store_scan_latest(struct store *s, const char *org_filter, int first, int last,
                      bool accepted_only, store_return_fn each_return, store_value_fn each_value,
                      void *ctx, struct errbuf *eb)
{
	sqlite3_stmt *st =
	    stmt(s,
	         org_filter != NULL ? (accepted_only ? Q_SCAN_ACCEPTED_ONE : Q_SCAN_ONE)
	                            : (accepted_only ? Q_SCAN_ACCEPTED : Q_SCAN),
	         eb);
	char prev_org[64] = "";
	int prev_month = -1;
	int rc, stop = 0;

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_int(st, 1, first);
	sqlite3_bind_int(st, 2, last);
	if (org_filter != NULL)
		sqlite3_bind_text(st, 3, org_filter, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *org = (const char *)sqlite3_column_text(st, 0);
		int month = sqlite3_column_int(st, 1);

		if (org == NULL)
			continue;
		if (month != prev_month || strcmp(org, prev_org) != 0) {
			snprintf(prev_org, sizeof(prev_org), "%s", org);
			prev_month = month;
			if (each_return != NULL &&
			    (stop = each_return(ctx, org, month,
			                        (uint32_t)sqlite3_column_int64(st, 2))) != 0)
				break;
		}
		if (sqlite3_column_type(st, 3) != SQLITE_NULL &&
		    (stop = each_value(ctx, org, month, (const char *)sqlite3_column_text(st, 3),
		                       sqlite3_column_int64(st, 4))) != 0)
			break;
	}
	sqlite3_reset(st);
	if (stop != 0)
		return stop;
	if (rc != SQLITE_DONE)
		return db_fail(s, eb, "scan returns");
	return YB_OK;
}

int store_set_state(struct store *s, const char *org, int month, uint32_t revision,
                    const char *state, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_SET_STATE, eb);

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, month);
	sqlite3_bind_int64(st, 3, revision);
	sqlite3_bind_text(st, 4, state, -1, SQLITE_STATIC);
	return exec_stmt(s, st, "set state", eb);
}

int store_add_review(struct store *s, const char *org, int month, const struct store_review *r,
                     struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_ADD_REVIEW, eb);

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, month);
	sqlite3_bind_int64(st, 3, r->revision);
	sqlite3_bind_text(st, 4, r->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->comment, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->reviewer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r->fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, r->at_ms);
	return exec_stmt(s, st, "add review", eb);
}

void store_reviews_free(struct store_review *r, size_t n)
{
	for (size_t i = 0; r != NULL && i < n; i++) {
		free((char *)r[i].action);
		free((char *)r[i].comment);
		free((char *)r[i].reviewer);
		free((char *)r[i].fingerprint);
	}
	free(r);
}

int store_list_reviews(struct store *s, const char *org, int month, struct store_review **out,
                       size_t *n, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_LIST_REVIEWS, eb);
	struct store_review *list = NULL;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, month);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_review *r;
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			void *p = realloc(list, ncap * sizeof(*list));
			if (p == NULL)
				goto nomem;
			list = p;
			cap = ncap;
		}
		r = &list[(*n)++];
		r->revision = (uint32_t)sqlite3_column_int64(st, 0);
		r->action = col_dup(st, 1);
		r->comment = col_dup(st, 2);
		r->reviewer = col_dup(st, 3);
		r->fingerprint = col_dup(st, 4);
		r->at_ms = sqlite3_column_int64(st, 5);
		if (!r->action || !r->comment || !r->reviewer || !r->fingerprint)
			goto nomem;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_reviews_free(list, *n);
		*n = 0;
		return db_fail(s, eb, "list reviews");
	}
	*out = list;
	return YB_OK;
nomem:
	sqlite3_reset(st);
	store_reviews_free(list, *n);
	*n = 0;
	return status_fail(eb, YB_ENOMEM, "out of memory");
}

int store_add_closure(struct store *s, const char *org, int month, bool closed, const char *comment,
                      const char *subject, const char *fingerprint, int64_t at_ms,
                      struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_ADD_CLOSURE, eb);

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, month);
	sqlite3_bind_int(st, 3, closed);
	sqlite3_bind_text(st, 4, comment, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, at_ms);
	return exec_stmt(s, st, "add closure", eb);
}

int store_closure(struct store *s, const char *org, int month, bool *closed, char *subject,
                  size_t subject_len, int64_t *at_ms, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_CLOSURE, eb);
	int rc;

	*closed = false;
	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, month);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *who = sqlite3_column_text(st, 1);
		*closed = sqlite3_column_int(st, 0) != 0;
		if (subject != NULL)
			snprintf(subject, subject_len, "%s", who ? (const char *)who : "");
		if (at_ms != NULL)
			*at_ms = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? YB_OK : db_fail(s, eb, "read closure");
}

int store_scan_status(struct store *s, int first, int last, store_status_fn fn, void *ctx,
                      struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_STATUS, eb);
	int rc, stop = 0;

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_int(st, 1, first);
	sqlite3_bind_int(st, 2, last);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *org = (const char *)sqlite3_column_text(st, 0);
		const char *state = (const char *)sqlite3_column_text(st, 3);
		if (org == NULL || state == NULL)
			continue;
		if ((stop = fn(ctx, org, sqlite3_column_int(st, 1),
		               (uint32_t)sqlite3_column_int64(st, 2), state,
		               sqlite3_column_int64(st, 4), sqlite3_column_int(st, 5) != 0)) != 0)
			break;
	}
	sqlite3_reset(st);
	if (stop != 0)
		return stop;
	return rc == SQLITE_DONE ? YB_OK : db_fail(s, eb, "scan status");
}

int store_audit_size(struct store *s, uint64_t *size, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_AUDIT_SIZE, eb);
	int rc;

	if (st == NULL)
		return YB_EDB;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*size = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? YB_OK : db_fail(s, eb, "audit size");
}

int store_frontier_get(struct store *s, uint8_t hashes[64][32], uint64_t *present,
                       struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_FRONTIER_GET, eb);
	int rc;

	*present = 0;
	if (st == NULL)
		return YB_EDB;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int level = sqlite3_column_int(st, 0);
		if (level < 0 || level >= 64 || sqlite3_column_bytes(st, 1) != 32)
			continue; /* not ours: the check against the size will fail loudly */
		memcpy(hashes[level], sqlite3_column_blob(st, 1), 32);
		*present |= (uint64_t)1 << level;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? YB_OK : db_fail(s, eb, "read audit frontier");
}

int store_frontier_set(struct store *s, int level, const uint8_t *hash, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, hash != NULL ? Q_FRONTIER_SET : Q_FRONTIER_DEL, eb);

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_int(st, 1, level);
	if (hash != NULL)
		sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC);
	return exec_stmt(s, st, "write audit frontier", eb);
}

int store_audit_add(struct store *s, const struct store_audit_row *r, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_AUDIT_ADD, eb);

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_int64(st, 1, (int64_t)r->seq);
	sqlite3_bind_int64(st, 2, r->at_ms);
	sqlite3_bind_text(st, 3, r->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->object, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, r->month);
	sqlite3_bind_blob(st, 7, r->entry, (int)r->entry_len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 8, r->leaf, 32, SQLITE_STATIC);
	return exec_stmt(s, st, "append audit entry", eb);
}

int store_checkpoint_add(struct store *s, const struct checkpoint *c, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_CHECKPOINT_ADD, eb);

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_int64(st, 1, (int64_t)c->size);
	sqlite3_bind_blob(st, 2, c->root, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, c->at_ms);
	sqlite3_bind_blob(st, 4, c->sig, (int)c->sig_len, SQLITE_STATIC);
	return exec_stmt(s, st, "store checkpoint", eb);
}

int store_checkpoint_get(struct store *s, uint64_t size, struct checkpoint *c, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_CHECKPOINT_GET, eb);
	int rc;

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_int64(st, 1, (int64_t)size);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 3);
		memset(c, 0, sizeof(*c));
		c->size = (uint64_t)sqlite3_column_int64(st, 0);
		if (sqlite3_column_bytes(st, 1) == 32)
			memcpy(c->root, sqlite3_column_blob(st, 1), 32);
		c->at_ms = sqlite3_column_int64(st, 2);
		c->sig_len = n <= sizeof(c->sig) ? n : 0;
		if (c->sig_len > 0)
			memcpy(c->sig, sqlite3_column_blob(st, 3), c->sig_len);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return YB_NOT_FOUND;
	return rc == SQLITE_ROW ? YB_OK : db_fail(s, eb, "read checkpoint");
}

int store_audit_leaves(struct store *s, uint64_t n, uint8_t (**leaves)[32], struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_AUDIT_LEAVES, eb);
	uint8_t(*out)[32];
	uint64_t got = 0;
	int rc;

	*leaves = NULL;
	if (st == NULL)
		return YB_EDB;
	if ((out = calloc(n + 1, 32)) == NULL)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	sqlite3_bind_int64(st, 1, (int64_t)n);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && got < n) {
		if ((uint64_t)sqlite3_column_int64(st, 0) != got + 1 ||
		    sqlite3_column_bytes(st, 1) != 32)
			break;
		memcpy(out[got++], sqlite3_column_blob(st, 1), 32);
	}
	sqlite3_reset(st);
	if (got != n) {
		free(out);
		return status_fail(eb, YB_DATA_LOSS,
		                   _("the audit log has a gap or a damaged leaf at entry %llu"),
		                   (unsigned long long)got + 1);
	}
	*leaves = out;
	return YB_OK;
}

int store_audit_scan(struct store *s, uint64_t from_seq, int64_t since_ms, const char *orgs_json,
                     int first, int last, uint32_t limit, store_audit_fn fn, void *ctx,
                     struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_AUDIT_SCAN, eb);
	int rc, stop = 0;

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_int64(st, 1, (int64_t)from_seq);
	sqlite3_bind_int64(st, 2, since_ms);
	if (orgs_json != NULL)
		sqlite3_bind_text(st, 3, orgs_json, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, first);
	sqlite3_bind_int(st, 5, last);
	sqlite3_bind_int64(st, 6, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_audit_row r;
		r.seq = (uint64_t)sqlite3_column_int64(st, 0);
		r.at_ms = sqlite3_column_int64(st, 1);
		r.action = (const char *)sqlite3_column_text(st, 2);
		r.object = (const char *)sqlite3_column_text(st, 3);
		r.org = (const char *)sqlite3_column_text(st, 4);
		r.month = sqlite3_column_int(st, 5);
		r.entry = sqlite3_column_blob(st, 6);
		r.entry_len = (size_t)sqlite3_column_bytes(st, 6);
		r.leaf = sqlite3_column_blob(st, 7);
		r.comment = (const char *)sqlite3_column_text(st, 8);
		if (r.action == NULL || r.object == NULL || r.org == NULL ||
		    sqlite3_column_bytes(st, 7) != 32)
			continue;
		if ((stop = fn(ctx, &r)) != 0)
			break;
	}
	sqlite3_reset(st);
	if (stop != 0)
		return stop;
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? YB_OK : db_fail(s, eb, "scan audit log");
}

int store_export_revisions(struct store *s, uint64_t offset, uint32_t limit, store_export_fn fn,
                           void *ctx, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_EXPORT_REVS, eb);
	int rc, stop = 0;

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_int64(st, 1, limit);
	sqlite3_bind_int64(st, 2, (int64_t)offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_export_row r;
		r.org = (const char *)sqlite3_column_text(st, 0);
		r.month = sqlite3_column_int(st, 1);
		r.revision = (uint32_t)sqlite3_column_int64(st, 2);
		r.state = (const char *)sqlite3_column_text(st, 3);
		r.request_sha256 = (const char *)sqlite3_column_text(st, 4);
		r.request = sqlite3_column_blob(st, 5);
		r.request_len = (size_t)sqlite3_column_bytes(st, 5);
		if (r.org == NULL || r.state == NULL || r.request_sha256 == NULL)
			continue;
		if ((stop = fn(ctx, &r)) != 0)
			break;
	}
	sqlite3_reset(st);
	if (stop != 0)
		return stop;
	return rc == SQLITE_DONE ? YB_OK : db_fail(s, eb, "export revisions");
}

int store_scan_checkpoints(struct store *s, uint64_t from_size, uint32_t limit,
                           store_checkpoint_fn fn, void *ctx, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_EXPORT_CHECKPOINTS, eb);
	int rc, stop = 0;

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_int64(st, 1, (int64_t)from_size);
	sqlite3_bind_int64(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct checkpoint c = {0};
		size_t n = (size_t)sqlite3_column_bytes(st, 3);
		c.size = (uint64_t)sqlite3_column_int64(st, 0);
		if (sqlite3_column_bytes(st, 1) == 32)
			memcpy(c.root, sqlite3_column_blob(st, 1), 32);
		c.at_ms = sqlite3_column_int64(st, 2);
		c.sig_len = n <= sizeof(c.sig) ? n : 0;
		if (c.sig_len > 0)
			memcpy(c.sig, sqlite3_column_blob(st, 3), c.sig_len);
		if ((stop = fn(ctx, &c)) != 0)
			break;
	}
	sqlite3_reset(st);
	if (stop != 0)
		return stop;
	return rc == SQLITE_DONE ? YB_OK : db_fail(s, eb, "export checkpoints");
}

int store_audit_index_of(struct store *s, const char *org, int month, const char *object,
                         uint64_t *index, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_AUDIT_OF, eb);
	int rc;

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, month);
	sqlite3_bind_text(st, 3, object, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*index = (uint64_t)sqlite3_column_int64(st, 0) - 1;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return YB_NOT_FOUND;
	return rc == SQLITE_ROW ? YB_OK : db_fail(s, eb, "find audit entry");
}

int store_export_reviews(struct store *s, uint64_t offset, uint32_t limit,
                         store_review_export_fn fn, void *ctx, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_EXPORT_REVIEWS, eb);
	int rc, stop = 0;

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_int64(st, 1, limit);
	sqlite3_bind_int64(st, 2, (int64_t)offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *org = (const char *)sqlite3_column_text(st, 0);
		struct store_review r;
		r.revision = (uint32_t)sqlite3_column_int64(st, 2);
		r.action = (const char *)sqlite3_column_text(st, 3);
		r.comment = (const char *)sqlite3_column_text(st, 4);
		r.reviewer = (const char *)sqlite3_column_text(st, 5);
		r.fingerprint = (const char *)sqlite3_column_text(st, 6);
		r.at_ms = sqlite3_column_int64(st, 7);
		if (org == NULL || !r.action || !r.comment || !r.reviewer || !r.fingerprint)
			continue;
		if ((stop = fn(ctx, org, sqlite3_column_int(st, 1), &r)) != 0)
			break;
	}
	sqlite3_reset(st);
	if (stop != 0)
		return stop;
	return rc == SQLITE_DONE ? YB_OK : db_fail(s, eb, "export reviews");
}

int store_export_closures(struct store *s, uint64_t offset, uint32_t limit,
                          store_closure_export_fn fn, void *ctx, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_EXPORT_CLOSURES, eb);
	int rc, stop = 0;

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_int64(st, 1, limit);
	sqlite3_bind_int64(st, 2, (int64_t)offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_closure_row r;
		r.org = (const char *)sqlite3_column_text(st, 0);
		r.month = sqlite3_column_int(st, 1);
		r.closed = sqlite3_column_int(st, 2) != 0;
		r.comment = (const char *)sqlite3_column_text(st, 3);
		r.subject = (const char *)sqlite3_column_text(st, 4);
		r.fingerprint = (const char *)sqlite3_column_text(st, 5);
		r.at_ms = sqlite3_column_int64(st, 6);
		if (!r.org || !r.comment || !r.subject || !r.fingerprint)
			continue;
		if ((stop = fn(ctx, &r)) != 0)
			break;
	}
	sqlite3_reset(st);
	if (stop != 0)
		return stop;
	return rc == SQLITE_DONE ? YB_OK : db_fail(s, eb, "export closures");
}

int store_revision_values(struct store *s, const char *org, int month, uint32_t revision,
                          store_code_value_fn fn, void *ctx, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_GET_VALUES, eb);
	int rc, stop = 0;

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, month);
	sqlite3_bind_int64(st, 3, revision);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *code = (const char *)sqlite3_column_text(st, 0);
		if (code != NULL && (stop = fn(ctx, code, sqlite3_column_int64(st, 1))) != 0)
			break;
	}
	sqlite3_reset(st);
	if (stop != 0)
		return stop;
	return rc == SQLITE_DONE ? YB_OK : db_fail(s, eb, "read values");
}

int store_snapshot_begin(struct store *s, struct errbuf *eb)
{
	if (sqlite3_exec(s->db, "SAVEPOINT snapshot", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(s, eb, "begin a read");
	return YB_OK;
}

void store_snapshot_end(struct store *s)
{
	sqlite3_exec(s->db, "RELEASE snapshot", NULL, NULL, NULL);
}

/* ---- consolidation pre-aggregates (rollup.c) ------------------------------------------ */

int store_rollup_state(struct store *s, char basis[65], size_t *n_elements, bool *pending,
                       struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_RU_STATE, eb);
	int rc;

	basis[0] = '\0';
	*n_elements = 0;
	*pending = false;
	if (st == NULL)
		return YB_EDB;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *b = sqlite3_column_text(st, 0);
		snprintf(basis, 65, "%s", b ? (const char *)b : "");
		*n_elements = (size_t)sqlite3_column_int64(st, 1);
		*pending = sqlite3_column_int(st, 2) != 0;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? YB_OK : db_fail(s, eb, "read pre-aggregate state");
}

int store_rollup_reset(struct store *s, const char *basis, size_t n_elements, struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = exec_sql(s,
	                   "DELETE FROM rollup_meta; DELETE FROM rollup_elements;"
	                   " DELETE FROM rollup_units; DELETE FROM rollup_effective;"
	                   " DELETE FROM rollup_buckets; DELETE FROM rollup_pending;",
	                   eb)) != YB_OK)
		return rc;
	if (basis == NULL)
		return YB_OK;
	if ((st = stmt(s, Q_RU_SET_META, eb)) == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, basis, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)n_elements);
	if ((rc = exec_stmt(s, st, "write pre-aggregate basis", eb)) != YB_OK)
		return rc;
	/* The effective revision of every return, in both modes (rollup.h). */
	return exec_sql(s,
	                "INSERT INTO rollup_effective(mode, org, month, revision)"
	                " SELECT 0, org, month, max(revision) FROM revisions"
	                " WHERE state <> 'rejected' GROUP BY org, month;"
	                " INSERT INTO rollup_effective(mode, org, month, revision)"
	                " SELECT 1, org, month, max(revision) FROM revisions"
	                " WHERE state = 'accepted' GROUP BY org, month;",
	                eb);
}

int store_rollup_add_element(struct store *s, int idx, const char *code, bool last,
                             struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_RU_ADD_ELEMENT, eb);

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, idx);
	sqlite3_bind_int(st, 3, last);
	return exec_stmt(s, st, "write pre-aggregate element", eb);
}

int store_rollup_elements(struct store *s, store_rollup_element_fn fn, void *ctx, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_RU_ELEMENTS, eb);
	int rc, stop = 0;

	if (st == NULL)
		return YB_EDB;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *code = (const char *)sqlite3_column_text(st, 1);
		if (code != NULL && (stop = fn(ctx, sqlite3_column_int(st, 0), code,
		                               sqlite3_column_int(st, 2) != 0)) != 0)
			break;
	}
	sqlite3_reset(st);
	if (stop != 0)
		return stop;
	return rc == SQLITE_DONE ? YB_OK : db_fail(s, eb, "read pre-aggregate elements");
}

int store_rollup_add_unit(struct store *s, const char *code, bool leaf, const char *parent,
                          struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_RU_ADD_UNIT, eb);

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, leaf);
	sqlite3_bind_text(st, 3, parent, -1, SQLITE_STATIC);
	return exec_stmt(s, st, "write pre-aggregate unit", eb);
}

int store_rollup_unit(struct store *s, const char *code, bool *leaf, char **parent,
                      struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_RU_UNIT, eb);
	int rc;

	*parent = NULL;
	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*leaf = sqlite3_column_int(st, 0) != 0;
		*parent = col_dup(st, 1);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return YB_NOT_FOUND;
	if (rc != SQLITE_ROW)
		return db_fail(s, eb, "read pre-aggregate unit");
	return *parent != NULL ? YB_OK : status_fail(eb, YB_ENOMEM, "out of memory");
}

int store_rollup_effective_now(struct store *s, const char *org, int month, uint32_t rev[2],
                               struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_RU_EFF_NOW, eb);
	int rc;

	rev[0] = rev[1] = 0;
	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, month);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rev[0] = (uint32_t)sqlite3_column_int64(st, 0); /* NULL reads as 0: none */
		rev[1] = (uint32_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? YB_OK : db_fail(s, eb, "find effective revision");
}

int store_rollup_effective_get(struct store *s, int mode, const char *org, int month,
                               uint32_t *revision, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_RU_EFF_GET, eb);
	int rc;

	*revision = 0;
	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_int(st, 1, mode);
	sqlite3_bind_text(st, 2, org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, month);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*revision = (uint32_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? YB_OK
	                                             : db_fail(s, eb, "read effective revision");
}

int store_rollup_effective_set(struct store *s, int mode, const char *org, int month,
                               uint32_t revision, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, revision > 0 ? Q_RU_EFF_SET : Q_RU_EFF_DEL, eb);

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_int(st, 1, mode);
	sqlite3_bind_text(st, 2, org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, month);
	if (revision > 0)
		sqlite3_bind_int64(st, 4, revision);
	return exec_stmt(s, st, "write effective revision", eb);
}

int store_rollup_months(struct store *s, int mode, const char *org, store_rollup_month_fn fn,
                        void *ctx, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_RU_MONTHS, eb);
	int rc, stop = 0;

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_int(st, 1, mode);
	sqlite3_bind_text(st, 2, org, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((stop = fn(ctx, sqlite3_column_int(st, 0),
		               (uint32_t)sqlite3_column_int64(st, 1))) != 0)
			break;
	sqlite3_reset(st);
	if (stop != 0)
		return stop;
	return rc == SQLITE_DONE ? YB_OK : db_fail(s, eb, "read effective revisions");
}

int store_rollup_neighbour(struct store *s, int mode, const char *org, int month, const char *code,
                           bool after, int *found_month, int64_t *value, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, after ? Q_RU_NEXT : Q_RU_PREV, eb);
	int rc;

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_int(st, 1, mode);
	sqlite3_bind_text(st, 2, org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, month);
	sqlite3_bind_text(st, 4, code, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*found_month = sqlite3_column_int(st, 0);
		*value = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return YB_NOT_FOUND;
	return rc == SQLITE_ROW ? YB_OK : db_fail(s, eb, "find neighbouring value");
}

int store_rollup_bucket_get(struct store *s, int mode, const char *node, int month, int next,
                            uint8_t **data, size_t *len, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_RU_BUCKET_GET, eb);
	int rc;

	*data = NULL;
	*len = 0;
	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_int(st, 1, mode);
	sqlite3_bind_text(st, 2, node, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, month);
	sqlite3_bind_int(st, 4, next);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		if ((*data = malloc(n ? n : 1)) == NULL) {
			sqlite3_reset(st);
			return status_fail(eb, YB_ENOMEM, "out of memory");
		}
		if (n > 0)
			memcpy(*data, sqlite3_column_blob(st, 0), n);
		*len = n;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return YB_NOT_FOUND;
	return rc == SQLITE_ROW ? YB_OK : db_fail(s, eb, "read pre-aggregate");
}

int store_rollup_bucket_put(struct store *s, int mode, const char *node, int month, int next,
                            const uint8_t *data, size_t len, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, len > 0 ? Q_RU_BUCKET_PUT : Q_RU_BUCKET_DEL, eb);

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_int(st, 1, mode);
	sqlite3_bind_text(st, 2, node, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, month);
	sqlite3_bind_int(st, 4, next);
	if (len > 0)
		sqlite3_bind_blob(st, 5, data, (int)len, SQLITE_STATIC);
	return exec_stmt(s, st, "write pre-aggregate", eb);
}

int store_rollup_buckets(struct store *s, int mode, const char *node, int first, int last,
                         int after, store_rollup_bucket_fn fn, void *ctx, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_RU_BUCKETS, eb);
	int rc, stop = 0;

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_int(st, 1, mode);
	sqlite3_bind_text(st, 2, node, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, first);
	sqlite3_bind_int(st, 4, last);
	sqlite3_bind_int(st, 5, after);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((stop = fn(ctx, sqlite3_column_int(st, 0), sqlite3_column_int(st, 1),
		               sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2))) !=
		    0)
			break;
	sqlite3_reset(st);
	if (stop != 0)
		return stop;
	return rc == SQLITE_DONE ? YB_OK : db_fail(s, eb, "read pre-aggregates");
}

int store_rollup_pending(struct store *s, char **org, int *month, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_RU_PENDING, eb);
	int rc;

	*org = NULL;
	if (st == NULL)
		return YB_EDB;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*org = col_dup(st, 0);
		*month = sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return YB_NOT_FOUND;
	if (rc != SQLITE_ROW)
		return db_fail(s, eb, "read pending changes");
	return *org != NULL ? YB_OK : status_fail(eb, YB_ENOMEM, "out of memory");
}

int store_rollup_pending_done(struct store *s, const char *org, int month, struct errbuf *eb)
{
	sqlite3_stmt *st = stmt(s, Q_RU_PENDING_DEL, eb);

	if (st == NULL)
		return YB_EDB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, month);
	return exec_stmt(s, st, "clear pending change", eb);
}
