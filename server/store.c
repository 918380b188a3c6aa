/*
 * store.c - SQLite schema and queries for the daemon.
 *
 * Statements are prepared once per connection and reset after use; every
 * store function reads: stmt_bind (the connection's prepared statement,
 * reset, its parameters bound), stmt_step (a row, the end, or a failure)
 * and the columns, then stmt_end; stmt_row binds and steps to the first
 * row at once, and a write is one stmt_run. Every SQLite failure is
 * converted here into YB_EDB (or YB_UNAVAILABLE when the database stayed
 * locked) with SQLite's own message and what was being done.
 */
#include "store.h"

#include "checkpoint.h"
#include "i18n.h"
#include "period.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

/*
 * One slot per statement in every connection's cache; each statement's SQL
 * (struct store_sql) is defined beside the functions that run it.
 */
enum store_slot {
	/* calls and loads */
	SQ_CALL_FIND,
	SQ_CALL_SAVE,
	SQ_CALL_PRUNE,
	SQ_LOAD,
	/* returns */
	SQ_LAST_REV,
	SQ_INS_REV,
	SQ_INS_VALUE,
	SQ_INS_FINDING,
	SQ_GET_REV,
	SQ_GET_VALUES,
	SQ_GET_FINDINGS,
	SQ_SCAN,
	SQ_SCAN_ONE,
	SQ_SCAN_ACCEPTED,
	SQ_SCAN_ACCEPTED_ONE,
	SQ_SET_STATE,
	SQ_STATUS,
	SQ_EXPORT_REVS,
	/* reviews and closures */
	SQ_ADD_REVIEW,
	SQ_LIST_REVIEWS,
	SQ_EXPORT_REVIEWS,
	SQ_ADD_CLOSURE,
	SQ_CLOSURE,
	SQ_EXPORT_CLOSURES,
	/* audit log */
	SQ_AUDIT_SIZE,
	SQ_FRONTIER_GET,
	SQ_FRONTIER_SET,
	SQ_FRONTIER_DEL,
	SQ_AUDIT_ADD,
	SQ_AUDIT_LEAVES,
	SQ_AUDIT_SCAN,
	SQ_AUDIT_OF,
	SQ_CHECKPOINT_ADD,
	SQ_CHECKPOINT_GET,
	SQ_CHECKPOINTS,
	/* consolidation pre-aggregates (rollup.c) */
	SQ_RU_STATE,
	SQ_RU_SET_META,
	SQ_RU_ADD_ELEMENT,
	SQ_RU_ELEMENTS,
	SQ_RU_ADD_UNIT,
	SQ_RU_UNIT,
	SQ_RU_EFF_NOW,
	SQ_RU_EFF_GET,
	SQ_RU_EFF_SET,
	SQ_RU_EFF_DEL,
	SQ_RU_MONTHS,
	SQ_RU_PREV,
	SQ_RU_NEXT,
	SQ_RU_BUCKET_GET,
	SQ_RU_BUCKET_PUT,
	SQ_RU_BUCKET_DEL,
	SQ_RU_BUCKETS,
	SQ_RU_PENDING,
	SQ_RU_PENDING_DEL,
	SQ_COUNT
};

/* A statement: its slot in the cache and its SQL (one slot, one SQL text). */
struct store_sql {
	enum store_slot slot;
	const char *sql;
};

/* One SQLite connection and its prepared statements (store.h). */
struct store {
	sqlite3 *db;
	sqlite3_stmt *stmts[SQ_COUNT];
	char *path;
};

static int store_rollup_schema(struct store *s, struct errbuf *eb);

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

/* Every table but the pre-aggregates', whose tables and triggers rollup_schema_sql creates. */
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
    "  signature BLOB NOT NULL);";

/* ---- the statement helper ------------------------------------------------ */

static int stmt_fail(struct store *s, struct errbuf *eb, const char *what)
{
	int ext = sqlite3_extended_errcode(s->db);
	int code =
	    (ext & 0xff) == SQLITE_BUSY || (ext & 0xff) == SQLITE_LOCKED ? YB_UNAVAILABLE : YB_EDB;
	return status_fail(eb, code, "database %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static int stmt_script(struct store *s, const char *sql, struct errbuf *eb)
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

/* Binds fmt's arguments to st's parameters from ?1 on (stmt_bind); an SQLite code. */
static int bind_args(sqlite3_stmt *st, const char *fmt, va_list ap)
{
	int rc = SQLITE_OK, i;

	for (i = 0; fmt[i] != '\0' && rc == SQLITE_OK; i++) {
		const void *blob;
		switch (fmt[i]) {
		case 't':
			rc = sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1,
			                       SQLITE_STATIC);
			break;
		case 'i':
			rc = sqlite3_bind_int(st, i + 1, va_arg(ap, int));
			break;
		case 'u':
			rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, uint32_t));
			break;
		case 'I':
			rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
			break;
		case 'b':
			blob = va_arg(ap, const void *);
			rc = sqlite3_bind_blob(st, i + 1, blob, (int)va_arg(ap, size_t),
			                       SQLITE_STATIC);
			break;
		default:
			return SQLITE_MISUSE;
		}
	}
	/* A parameter left out would run as NULL, silently: that is a bug here. */
	if (rc == SQLITE_OK && i != sqlite3_bind_parameter_count(st))
		rc = SQLITE_RANGE;
	return rc;
}

static int vbind(struct store *s, const struct store_sql *q, sqlite3_stmt **out, struct errbuf *eb,
                 const char *fmt, va_list ap)
{
	sqlite3_stmt **st = &s->stmts[q->slot];
	int rc;

	*out = NULL;
	if (*st == NULL && sqlite3_prepare_v3(s->db, q->sql, -1, SQLITE_PREPARE_PERSISTENT, st,
	                                      NULL) != SQLITE_OK) {
		stmt_fail(s, eb, "prepare");
		return YB_EDB;
	}
	assert(strcmp(sqlite3_sql(*st), q->sql) == 0); /* one slot, one statement */
	sqlite3_reset(*st);
	sqlite3_clear_bindings(*st);
	if ((rc = bind_args(*st, fmt, ap)) != SQLITE_OK)
		return status_fail(eb, YB_EDB, "database %s: bind %s to %s: %s", s->path, fmt,
		                   q->sql, sqlite3_errstr(rc));
	*out = *st;
	return YB_OK;
}

static int stmt_bind(struct store *s, const struct store_sql *q, sqlite3_stmt **st,
                     struct errbuf *eb, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vbind(s, q, st, eb, fmt, ap);
	va_end(ap);
	return rc;
}

static int stmt_step(struct store *s, sqlite3_stmt *st, const char *what, struct errbuf *eb)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return YB_OK;
	/* Reset before reading the error: SQLite's message stays, the read ends. */
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? YB_NOT_FOUND : stmt_fail(s, eb, what);
}

static int stmt_row(struct store *s, const struct store_sql *q, sqlite3_stmt **st, const char *what,
                    struct errbuf *eb, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vbind(s, q, st, eb, fmt, ap);
	va_end(ap);
	return rc != YB_OK ? rc : stmt_step(s, *st, what, eb);
}

static int stmt_run(struct store *s, const struct store_sql *q, const char *what, struct errbuf *eb,
                    const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vbind(s, q, &st, eb, fmt, ap);
	va_end(ap);
	if (rc != YB_OK)
		return rc;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? YB_OK : stmt_fail(s, eb, what);
}

static int stmt_end(sqlite3_stmt *st, int rc)
{
	sqlite3_reset(st);
	return rc;
}

static int stmt_scan_end(sqlite3_stmt *st, int rc, int stop)
{
	sqlite3_reset(st);
	if (stop != 0)
		return stop;
	return rc == YB_NOT_FOUND ? YB_OK : rc;
}

static char *stmt_text_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return strdup(t ? (const char *)t : "");
}

static int stmt_blob_dup(sqlite3_stmt *st, int col, uint8_t **data, size_t *len, struct errbuf *eb)
{
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	uint8_t *buf = malloc(n ? n : 1);

	if (buf == NULL)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	if (n > 0)
		memcpy(buf, sqlite3_column_blob(st, col), n);
	*data = buf;
	*len = n;
	return YB_OK;
}

static void *stmt_grow(void *items, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t ncap = *cap ? *cap * 2 : first;
	void *more;

	if (n < *cap)
		return items;
	if ((more = realloc(items, ncap * size)) != NULL)
		*cap = ncap;
	return more;
}

/* ---- opening, schema ----------------------------------------------------------------------- */

/* The schema version of the database (PRAGMA user_version; 0 when new). */
static int read_version(struct store *s, int *version, struct errbuf *eb)
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
 * Brings a database of schema `version` (inside the write transaction) to
 * SCHEMA_VERSION: the tables and indexes it lacks, then the steps that
 * change existing tables.
 */
static int migrate(struct store *s, int version, struct errbuf *eb)
{
	int rc;

	if ((rc = stmt_script(s, schema_sql, eb)) != YB_OK ||
	    (rc = store_rollup_schema(s, eb)) != YB_OK)
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
	return stmt_script(s, "PRAGMA user_version=" STR(SCHEMA_VERSION), eb);
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
	if ((rc = stmt_script(s,
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
		if ((rc = stmt_script(s, "BEGIN IMMEDIATE", eb)) != YB_OK)
			goto fail;
		if ((rc = read_version(s, &version, eb)) != YB_OK ||
		    (version < SCHEMA_VERSION && (rc = migrate(s, version, eb)) != YB_OK) ||
		    (rc = stmt_script(s, "COMMIT", eb)) != YB_OK) {
			stmt_script(s, "ROLLBACK", NULL);
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
	for (int i = 0; i < SQ_COUNT; i++)
		sqlite3_finalize(s->stmts[i]);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

int store_begin(struct store *s, struct errbuf *eb)
{
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return stmt_fail(s, eb, "begin");
	return YB_OK;
}

int store_commit(struct store *s, struct errbuf *eb)
{
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		int rc = stmt_fail(s, eb, "commit");
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
		return stmt_fail(s, eb, "savepoint");
	return YB_OK;
}

int store_release(struct store *s, struct errbuf *eb)
{
	if (sqlite3_exec(s->db, "RELEASE call", NULL, NULL, NULL) != SQLITE_OK)
		return stmt_fail(s, eb, "release savepoint");
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

int store_snapshot_begin(struct store *s, struct errbuf *eb)
{
	if (sqlite3_exec(s->db, "SAVEPOINT snapshot", NULL, NULL, NULL) != SQLITE_OK)
		return stmt_fail(s, eb, "begin a read");
	return YB_OK;
}

void store_snapshot_end(struct store *s)
{
	sqlite3_exec(s->db, "RELEASE snapshot", NULL, NULL, NULL);
}

/* ---- call-id records and loads ----------------------------------------------------------- */

static const struct store_sql q_call_find = {
    SQ_CALL_FIND,
    "SELECT reply, request_digest FROM calls WHERE fingerprint = ?1 AND call_id = ?2"};

int store_call_find(struct store *s, const char *fingerprint, const char *call_id, char digest[65],
                    uint8_t **reply, size_t *len, struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = stmt_bind(s, &q_call_find, &st, eb, "tt", fingerprint, call_id)) != YB_OK ||
	    (rc = stmt_step(s, st, "find call", eb)) != YB_OK)
		return rc;
	if ((rc = stmt_blob_dup(st, 0, reply, len, eb)) == YB_OK)
		snprintf(digest, 65, "%s",
		         sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1)
		                                    : "");
	return stmt_end(st, rc);
}

static const struct store_sql q_call_save = {
    SQ_CALL_SAVE, "INSERT INTO calls(fingerprint, call_id, request_digest, at_ms, reply)"
                  " VALUES (?1, ?2, ?3, ?4, ?5)"};

int store_call_save(struct store *s, const char *fingerprint, const char *call_id,
                    const char *digest, int64_t at_ms, const uint8_t *reply, size_t len,
                    struct errbuf *eb)
{
	return stmt_run(s, &q_call_save, "save call", eb, "tttIb", fingerprint, call_id, digest,
	                at_ms, reply, len);
}

static const struct store_sql q_call_prune = {SQ_CALL_PRUNE, "DELETE FROM calls WHERE at_ms < ?1"};

int store_call_prune(struct store *s, int64_t before_ms, struct errbuf *eb)
{
	return stmt_run(s, &q_call_prune, "prune calls", eb, "I", before_ms);
}

static const struct store_sql q_load = {
    SQ_LOAD, "INSERT INTO loads(kind, at_ms, digest, source, content) VALUES (?1, ?2, ?3, ?4, ?5)"};

int store_record_load(struct store *s, const char *kind, int64_t at_ms, const char *digest,
                      const char *source, const char *content, size_t len, struct errbuf *eb)
{
	return stmt_run(s, &q_load, "record load", eb, "tIttb", kind, at_ms, digest, source,
	                content, len);
}

/* ---- writing ------------------------------------------------------------------------------- */

static const struct store_sql q_last_rev = {
    SQ_LAST_REV, "SELECT coalesce(max(revision), 0) FROM revisions WHERE org = ?1 AND month = ?2"};

int store_last_revision(struct store *s, const char *org, int month, uint32_t *revision,
                        struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc;

	/* An aggregate: always one row. */
	if ((rc = stmt_row(s, &q_last_rev, &st, "last revision", eb, "ti", org, month)) == YB_OK)
		*revision = (uint32_t)sqlite3_column_int64(st, 0);
	return stmt_end(st, rc);
}

static const struct store_sql q_ins_rev = {
    SQ_INS_REV, "INSERT INTO revisions(org, month, revision, state, received_at_ms, on_time,"
                " reason, subject, fingerprint, request, request_sha256)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"};
static const struct store_sql q_ins_value = {
    SQ_INS_VALUE, "INSERT INTO revision_values(org, month, revision, code, value)"
                  " VALUES (?1, ?2, ?3, ?4, ?5)"};
static const struct store_sql q_ins_finding = {
    SQ_INS_FINDING, "INSERT INTO revision_findings(org, month, revision, seq, severity, field,"
                    " line, value, message, kind, params)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"};

/*
 * Inserts finding number seq (from 1) of r. Since schema 3 a finding is
 * kept as its code and parameters (kind, params) with message ''; one
 * without a code keeps its text in message, as those stored before did.
 */
static int insert_finding(struct store *s, const struct store_revision *r, size_t seq,
                          const struct store_finding *f, struct errbuf *eb)
{
	const char *message = f->message ? f->message : "", *kind = "", *json = "";
	char *params = NULL;
	int rc;

	if (f->what.code != FINDING_CODE_NONE) {
		if (finding_encode(&f->what, &params) != YB_OK)
			return status_fail(eb, YB_ENOMEM, "out of memory");
		message = "";
		kind = finding_code_name(f->what.code);
		json = params;
	}
	rc = stmt_run(s, &q_ins_finding, "insert finding", eb, "tiuIttutttt", r->org, r->month,
	              r->revision, (int64_t)seq, f->severity, f->field, f->line,
	              f->value ? f->value : "", message, kind, json);
	free(params);
	return rc;
}

int store_insert_revision(struct store *s, const struct store_revision *r, struct errbuf *eb)
{
	int rc;

	if ((rc = stmt_run(s, &q_ins_rev, "insert revision", eb, "tiutIitttbt", r->org, r->month,
	                   r->revision, r->state, r->received_at_ms, (int)r->on_time,
	                   r->reason ? r->reason : "", r->subject, r->fingerprint, r->request,
	                   r->request_len, r->request_sha256)) != YB_OK)
		return rc;
	for (size_t i = 0; i < r->n_values; i++)
		if ((rc = stmt_run(s, &q_ins_value, "insert value", eb, "tiutI", r->org, r->month,
		                   r->revision, r->values[i].code, r->values[i].value)) != YB_OK)
			return rc;
	for (size_t i = 0; i < r->n_findings; i++)
		if ((rc = insert_finding(s, r, i + 1, &r->findings[i], eb)) != YB_OK)
			return rc;
	return YB_OK;
}

static const struct store_sql q_set_state = {
    SQ_SET_STATE,
    "UPDATE revisions SET state = ?4 WHERE org = ?1 AND month = ?2 AND revision = ?3"};

int store_set_state(struct store *s, const char *org, int month, uint32_t revision,
                    const char *state, struct errbuf *eb)
{
	return stmt_run(s, &q_set_state, "set state", eb, "tiut", org, month, revision, state);
}

/* ---- reading one revision ------------------------------------------------------------------ */

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

/* What store_get_revision reads values into (add_value). */
struct values_read {
	struct store_revision_row *r;
	size_t cap;
	struct errbuf *eb;
};

/* A store_revision_values callback: appends a value to the row being read. */
static int add_value(void *arg, const char *code, int64_t value)
{
	struct values_read *v = arg;
	struct store_revision_row *r = v->r;
	void *more = stmt_grow(r->values, &v->cap, r->n_values, sizeof(*r->values), 64);

	if (more == NULL)
		return status_fail(v->eb, YB_ENOMEM, "out of memory");
	r->values = more;
	r->values[r->n_values].value = value;
	if ((r->values[r->n_values].code = strdup(code)) == NULL)
		return status_fail(v->eb, YB_ENOMEM, "out of memory");
	r->n_values++;
	return YB_OK;
}

static const struct store_sql q_get_findings = {
    SQ_GET_FINDINGS, "SELECT severity, field, line, value, message, kind, params"
                     " FROM revision_findings"
                     " WHERE org = ?1 AND month = ?2 AND revision = ?3 ORDER BY seq"};

/* The finding of the current row of q_get_findings into f (r names it in a failure). */
static int read_finding(struct store *s, sqlite3_stmt *st, const struct store_revision_row *r,
                        struct store_finding *f, struct errbuf *eb)
{
	struct errbuf why;
	char month[PERIOD_TEXT_MAX];

	memset(f, 0, sizeof(*f));
	f->severity = stmt_text_dup(st, 0);
	f->field = stmt_text_dup(st, 1);
	f->line = (uint32_t)sqlite3_column_int64(st, 2);
	f->value = stmt_text_dup(st, 3);
	f->message = stmt_text_dup(st, 4);
	if (!f->severity || !f->field || !f->value || !f->message)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	if (sqlite3_column_bytes(st, 5) > 0) {
		const char *kind = (const char *)sqlite3_column_text(st, 5);
		const char *params = (const char *)sqlite3_column_text(st, 6);
		if (finding_decode(kind, params ? params : "", &f->what, &why) != YB_OK) {
			period_format_month(r->month, month, sizeof(month));
			return status_fail(
			    eb, YB_EDB, "database %s: finding %zu of %s %s revision %u: %s",
			    s->path, r->n_findings, r->org, month, r->revision, why.msg);
		}
	}
	return YB_OK;
}

/* Reads the findings of r's revision into r. */
static int read_findings(struct store *s, struct store_revision_row *r, struct errbuf *eb)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	if ((rc = stmt_bind(s, &q_get_findings, &st, eb, "tiu", r->org, r->month, r->revision)) !=
	    YB_OK)
		return rc;
	while ((rc = stmt_step(s, st, "read findings", eb)) == YB_OK) {
		void *more = stmt_grow(r->findings, &cap, r->n_findings, sizeof(*r->findings), 8);
		if (more == NULL)
			return stmt_end(st, status_fail(eb, YB_ENOMEM, "out of memory"));
		r->findings = more;
		/* Counted first: store_revision_row_free frees what it holds. */
		r->n_findings++;
		if ((rc = read_finding(s, st, r, &r->findings[r->n_findings - 1], eb)) != YB_OK)
			return stmt_end(st, rc);
	}
	return stmt_scan_end(st, rc, 0);
}

static const struct store_sql q_get_rev = {
    SQ_GET_REV, "SELECT revision, state, received_at_ms, on_time, reason, subject, fingerprint,"
                " request_sha256, (SELECT count(*) FROM revisions x WHERE x.org = r.org AND"
                " x.month = r.month) FROM revisions r WHERE org = ?1 AND month = ?2 AND"
                " (revision = ?3 OR ?3 = 0) ORDER BY revision DESC LIMIT 1"};

/* The columns of q_get_rev's row; YB_ENOMEM (r partly filled) when out of memory. */
static int read_revision(sqlite3_stmt *st, struct store_revision_row *r, struct errbuf *eb)
{
	r->revision = (uint32_t)sqlite3_column_int64(st, 0);
	r->state = stmt_text_dup(st, 1);
	r->received_at_ms = sqlite3_column_int64(st, 2);
	r->on_time = sqlite3_column_int(st, 3) != 0;
	r->reason = stmt_text_dup(st, 4);
	r->subject = stmt_text_dup(st, 5);
	r->fingerprint = stmt_text_dup(st, 6);
	r->request_sha256 = stmt_text_dup(st, 7);
	r->revisions = (uint32_t)sqlite3_column_int64(st, 8);
	if (!r->org || !r->state || !r->reason || !r->subject || !r->fingerprint ||
	    !r->request_sha256)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	return YB_OK;
}

int store_get_revision(struct store *s, const char *org, int month, uint32_t revision,
                       struct store_revision_row **out, struct errbuf *eb)
{
	struct values_read values = {NULL, 0, eb};
	sqlite3_stmt *st;
	int rc;

	if ((rc = stmt_row(s, &q_get_rev, &st, "read revision", eb, "tiu", org, month, revision)) !=
	    YB_OK)
		return rc;
	if ((values.r = calloc(1, sizeof(*values.r))) == NULL)
		return stmt_end(st, status_fail(eb, YB_ENOMEM, "out of memory"));
	values.r->org = strdup(org);
	values.r->month = month;
	rc = stmt_end(st, read_revision(st, values.r, eb));
	if (rc != YB_OK ||
	    (rc = store_revision_values(s, org, month, values.r->revision, add_value, &values,
	                                eb)) != YB_OK ||
	    (rc = read_findings(s, values.r, eb)) != YB_OK) {
		store_revision_row_free(values.r);
		return rc;
	}
	*out = values.r;
	return YB_OK;
}

static const struct store_sql q_get_values = {
    SQ_GET_VALUES, "SELECT code, value FROM revision_values WHERE org = ?1 AND month = ?2 AND"
                   " revision = ?3"};

int store_revision_values(struct store *s, const char *org, int month, uint32_t revision,
                          store_code_value_fn fn, void *ctx, struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc, stop = 0;

	if ((rc = stmt_bind(s, &q_get_values, &st, eb, "tiu", org, month, revision)) != YB_OK)
		return rc;
	while (stop == 0 && (rc = stmt_step(s, st, "read values", eb)) == YB_OK) {
		const char *code = (const char *)sqlite3_column_text(st, 0);
		if (code != NULL)
			stop = fn(ctx, code, sqlite3_column_int64(st, 1));
	}
	return stmt_scan_end(st, rc, stop);
}

/* ---- scans --------------------------------------------------------------------------------- */

/*
 * The latest non-rejected (or accepted) revision of each return and its
 * values. The one-org variants name the org directly so that SQLite
 * uses the (org, month, revision) key; "?3 IS NULL OR org = ?3" made it
 * scan every org unit of the months (416 ms a submission at 10,000).
 */
#define SCAN_SQL(org_cond, state_cond)                                                             \
	"WITH latest AS (SELECT org, month, max(revision) AS revision FROM revisions "             \
	"WHERE " org_cond "month BETWEEN ?1 AND ?2 AND " state_cond " GROUP BY org, month)"        \
	" SELECT l.org, l.month, l.revision, v.code, v.value FROM latest l"                        \
	" LEFT JOIN revision_values v ON v.org = l.org AND v.month = l.month AND"                  \
	" v.revision = l.revision ORDER BY l.org, l.month"

/* [accepted_only][one org] */
static const struct store_sql q_scan[2][2] = {
    {{SQ_SCAN, SCAN_SQL("", "state <> 'rejected'")},
     {SQ_SCAN_ONE, SCAN_SQL("org = ?3 AND ", "state <> 'rejected'")}},
    {{SQ_SCAN_ACCEPTED, SCAN_SQL("", "state = 'accepted'")},
     {SQ_SCAN_ACCEPTED_ONE, SCAN_SQL("org = ?3 AND ", "state = 'accepted'")}},
};

int store_scan_latest(struct store *s, const char *org_filter, int first, int last,
                      bool accepted_only, store_return_fn each_return, store_value_fn each_value,
                      void *ctx, struct errbuf *eb)
{
	const struct store_sql *q = &q_scan[accepted_only][org_filter != NULL];
	char prev_org[64] = "";
	int prev_month = -1;
	sqlite3_stmt *st;
	int rc, stop = 0;

	if ((rc = org_filter != NULL ? stmt_bind(s, q, &st, eb, "iit", first, last, org_filter)
	                             : stmt_bind(s, q, &st, eb, "ii", first, last)) != YB_OK)
		return rc;
	while (stop == 0 && (rc = stmt_step(s, st, "scan returns", eb)) == YB_OK) {
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
		if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			stop = each_value(ctx, org, month, (const char *)sqlite3_column_text(st, 3),
			                  sqlite3_column_int64(st, 4));
	}
	return stmt_scan_end(st, rc, stop);
}

/* Per return: the latest revision, its state and time, and whether the first was on time. */
static const struct store_sql q_status = {
    SQ_STATUS, "WITH latest AS (SELECT org, month, max(revision) AS revision FROM revisions"
               " WHERE month BETWEEN ?1 AND ?2 GROUP BY org, month)"
               " SELECT l.org, l.month, l.revision, r.state, r.received_at_ms, f.on_time"
               " FROM latest l JOIN revisions r ON r.org = l.org AND r.month = l.month AND"
               " r.revision = l.revision JOIN revisions f ON f.org = l.org AND"
               " f.month = l.month AND f.revision = 1 ORDER BY l.org, l.month"};

int store_scan_status(struct store *s, int first, int last, store_status_fn fn, void *ctx,
                      struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc, stop = 0;

	if ((rc = stmt_bind(s, &q_status, &st, eb, "ii", first, last)) != YB_OK)
		return rc;
	while (stop == 0 && (rc = stmt_step(s, st, "scan status", eb)) == YB_OK) {
		const char *org = (const char *)sqlite3_column_text(st, 0);
		const char *state = (const char *)sqlite3_column_text(st, 3);
		if (org == NULL || state == NULL)
			continue;
		stop =
		    fn(ctx, org, sqlite3_column_int(st, 1), (uint32_t)sqlite3_column_int64(st, 2),
		       state, sqlite3_column_int64(st, 4), sqlite3_column_int(st, 5) != 0);
	}
	return stmt_scan_end(st, rc, stop);
}

static const struct store_sql q_export_revs = {
    SQ_EXPORT_REVS, "SELECT org, month, revision, state, request_sha256, request FROM revisions"
                    " ORDER BY org, month, revision LIMIT ?1 OFFSET ?2"};

int store_export_revisions(struct store *s, uint64_t offset, uint32_t limit, store_export_fn fn,
                           void *ctx, struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc, stop = 0;

	if ((rc = stmt_bind(s, &q_export_revs, &st, eb, "uI", limit, (int64_t)offset)) != YB_OK)
		return rc;
	while (stop == 0 && (rc = stmt_step(s, st, "export revisions", eb)) == YB_OK) {
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
		stop = fn(ctx, &r);
	}
	return stmt_scan_end(st, rc, stop);
}

/* ---- reviews ------------------------------------------------------------------------------- */

static const struct store_sql q_add_review = {
    SQ_ADD_REVIEW, "INSERT INTO reviews(org, month, revision, action, comment, reviewer,"
                   " fingerprint, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"};

int store_add_review(struct store *s, const char *org, int month, const struct store_review *r,
                     struct errbuf *eb)
{
	return stmt_run(s, &q_add_review, "add review", eb, "tiuttttI", org, month, r->revision,
	                r->action, r->comment, r->reviewer, r->fingerprint, r->at_ms);
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

static const struct store_sql q_list_reviews = {
    SQ_LIST_REVIEWS, "SELECT revision, action, comment, reviewer, fingerprint, at_ms FROM reviews"
                     " WHERE org = ?1 AND month = ?2 ORDER BY id"};

int store_list_reviews(struct store *s, const char *org, int month, struct store_review **out,
                       size_t *n, struct errbuf *eb)
{
	struct store_review *list = NULL;
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = stmt_bind(s, &q_list_reviews, &st, eb, "ti", org, month)) != YB_OK)
		return rc;
	while ((rc = stmt_step(s, st, "list reviews", eb)) == YB_OK) {
		void *more = stmt_grow(list, &cap, *n, sizeof(*list), 8);
		struct store_review *r;
		if (more == NULL) {
			rc = status_fail(eb, YB_ENOMEM, "out of memory");
			break;
		}
		list = more;
		r = &list[(*n)++];
		r->revision = (uint32_t)sqlite3_column_int64(st, 0);
		r->action = stmt_text_dup(st, 1);
		r->comment = stmt_text_dup(st, 2);
		r->reviewer = stmt_text_dup(st, 3);
		r->fingerprint = stmt_text_dup(st, 4);
		r->at_ms = sqlite3_column_int64(st, 5);
		if (!r->action || !r->comment || !r->reviewer || !r->fingerprint) {
			rc = status_fail(eb, YB_ENOMEM, "out of memory");
			break;
		}
	}
	if ((rc = stmt_scan_end(st, rc, 0)) != YB_OK) {
		store_reviews_free(list, *n);
		*n = 0;
		return rc;
	}
	*out = list;
	return YB_OK;
}

static const struct store_sql q_export_reviews = {
    SQ_EXPORT_REVIEWS, "SELECT org, month, revision, action, comment, reviewer, fingerprint, at_ms"
                       " FROM reviews ORDER BY id LIMIT ?1 OFFSET ?2"};

int store_export_reviews(struct store *s, uint64_t offset, uint32_t limit,
                         store_review_export_fn fn, void *ctx, struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc, stop = 0;

	if ((rc = stmt_bind(s, &q_export_reviews, &st, eb, "uI", limit, (int64_t)offset)) != YB_OK)
		return rc;
	while (stop == 0 && (rc = stmt_step(s, st, "export reviews", eb)) == YB_OK) {
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
		stop = fn(ctx, org, sqlite3_column_int(st, 1), &r);
	}
	return stmt_scan_end(st, rc, stop);
}

/* ---- closures ------------------------------------------------------------------------------ */

static const struct store_sql q_add_closure = {
    SQ_ADD_CLOSURE, "INSERT INTO closures(org, month, closed, comment, subject, fingerprint,"
                    " at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"};

int store_add_closure(struct store *s, const char *org, int month, bool closed, const char *comment,
                      const char *subject, const char *fingerprint, int64_t at_ms,
                      struct errbuf *eb)
{
	return stmt_run(s, &q_add_closure, "add closure", eb, "tiitttI", org, month, (int)closed,
	                comment, subject, fingerprint, at_ms);
}

static const struct store_sql q_closure = {
    SQ_CLOSURE, "SELECT closed, subject, at_ms FROM closures WHERE org = ?1 AND month = ?2"
                " ORDER BY id DESC LIMIT 1"};

int store_closure(struct store *s, const char *org, int month, bool *closed, char *subject,
                  size_t subject_len, int64_t *at_ms, struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc;

	*closed = false;
	if ((rc = stmt_row(s, &q_closure, &st, "read closure", eb, "ti", org, month)) == YB_OK) {
		const unsigned char *who = sqlite3_column_text(st, 1);
		*closed = sqlite3_column_int(st, 0) != 0;
		if (subject != NULL)
			snprintf(subject, subject_len, "%s", who ? (const char *)who : "");
		if (at_ms != NULL)
			*at_ms = sqlite3_column_int64(st, 2);
	}
	/* Never closed: open. */
	return stmt_end(st, rc == YB_NOT_FOUND ? YB_OK : rc);
}

static const struct store_sql q_export_closures = {
    SQ_EXPORT_CLOSURES, "SELECT org, month, closed, comment, subject, fingerprint, at_ms"
                        " FROM closures ORDER BY id LIMIT ?1 OFFSET ?2"};

int store_export_closures(struct store *s, uint64_t offset, uint32_t limit,
                          store_closure_export_fn fn, void *ctx, struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc, stop = 0;

	if ((rc = stmt_bind(s, &q_export_closures, &st, eb, "uI", limit, (int64_t)offset)) != YB_OK)
		return rc;
	while (stop == 0 && (rc = stmt_step(s, st, "export closures", eb)) == YB_OK) {
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
		stop = fn(ctx, &r);
	}
	return stmt_scan_end(st, rc, stop);
}

/* ---- entries ------------------------------------------------------------------------------- */

static const struct store_sql q_audit_size = {SQ_AUDIT_SIZE,
                                              "SELECT coalesce(max(seq), 0) FROM audit_log"};

int store_audit_size(struct store *s, uint64_t *size, struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc;

	/* An aggregate: always one row. */
	if ((rc = stmt_row(s, &q_audit_size, &st, "audit size", eb, "")) == YB_OK)
		*size = (uint64_t)sqlite3_column_int64(st, 0);
	return stmt_end(st, rc);
}

static const struct store_sql q_audit_add = {
    SQ_AUDIT_ADD, "INSERT INTO audit_log(seq, at_ms, action, object, org, month, entry, leaf)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"};

int store_audit_add(struct store *s, const struct store_audit_row *r, struct errbuf *eb)
{
	return stmt_run(s, &q_audit_add, "append audit entry", eb, "IItttibb", (int64_t)r->seq,
	                r->at_ms, r->action, r->object, r->org, r->month, r->entry, r->entry_len,
	                r->leaf, (size_t)32);
}

static const struct store_sql q_audit_leaves = {
    SQ_AUDIT_LEAVES, "SELECT seq, leaf FROM audit_log WHERE seq <= ?1 ORDER BY seq"};

int store_audit_leaves(struct store *s, uint64_t n, uint8_t (**leaves)[32], struct errbuf *eb)
{
	uint8_t(*out)[32];
	uint64_t got = 0;
	sqlite3_stmt *st;
	int rc;

	*leaves = NULL;
	if ((out = calloc(n + 1, 32)) == NULL)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	if ((rc = stmt_bind(s, &q_audit_leaves, &st, eb, "I", (int64_t)n)) != YB_OK) {
		free(out);
		return rc;
	}
	/* A failure to read shows as the entry it could not read. */
	while (got < n && stmt_step(s, st, "read audit leaves", eb) == YB_OK) {
		if ((uint64_t)sqlite3_column_int64(st, 0) != got + 1 ||
		    sqlite3_column_bytes(st, 1) != 32)
			break;
		memcpy(out[got++], sqlite3_column_blob(st, 1), 32);
	}
	stmt_end(st, YB_OK);
	if (got != n) {
		free(out);
		return status_fail(eb, YB_DATA_LOSS,
		                   _("the audit log has a gap or a damaged leaf at entry %llu"),
		                   (unsigned long long)got + 1);
	}
	*leaves = out;
	return YB_OK;
}

/*
 * A review's or a closure's comment is kept with it, not in the entry
 * (which holds its digest): found by what the entry names and its time,
 * both written in the same call.
 */
static const struct store_sql q_audit_scan = {
    SQ_AUDIT_SCAN,
    "SELECT seq, at_ms, action, object, org, month, entry, leaf,"
    " CASE WHEN action GLOB 'review:*' THEN (SELECT r.comment FROM reviews r"
    "   WHERE r.org = a.org AND r.month = a.month AND 'review:' || r.action = a.action"
    "   AND r.at_ms = a.at_ms AND a.object GLOB '*/r' || r.revision ORDER BY r.id LIMIT 1)"
    " WHEN action IN ('close', 'reopen') THEN (SELECT c.comment FROM closures c"
    "   WHERE c.org = a.org AND c.at_ms = a.at_ms AND c.closed = (a.action = 'close')"
    "   ORDER BY c.id LIMIT 1) END"
    " FROM audit_log a WHERE seq >= ?1 AND at_ms >= ?2 AND"
    " (?3 IS NULL OR org IN (SELECT value FROM json_each(?3))) AND"
    " month BETWEEN ?4 AND ?5 ORDER BY seq LIMIT ?6"};

int store_audit_scan(struct store *s, uint64_t from_seq, int64_t since_ms, const char *orgs_json,
                     int first, int last, uint32_t limit, store_audit_fn fn, void *ctx,
                     struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc, stop = 0;

	if ((rc = stmt_bind(s, &q_audit_scan, &st, eb, "IItiiu", (int64_t)from_seq, since_ms,
	                    orgs_json, first, last, limit)) != YB_OK)
		return rc;
	while (stop == 0 && (rc = stmt_step(s, st, "scan audit log", eb)) == YB_OK) {
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
		stop = fn(ctx, &r);
	}
	return stmt_scan_end(st, rc, stop);
}

static const struct store_sql q_audit_of = {
    SQ_AUDIT_OF, "SELECT seq FROM audit_log WHERE org = ?1 AND month = ?2 AND object = ?3"
                 " AND action = 'submit' ORDER BY seq LIMIT 1"};

int store_audit_index_of(struct store *s, const char *org, int month, const char *object,
                         uint64_t *index, struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = stmt_row(s, &q_audit_of, &st, "find audit entry", eb, "tit", org, month,
	                   object)) == YB_OK)
		*index = (uint64_t)sqlite3_column_int64(st, 0) - 1;
	return stmt_end(st, rc);
}

/* ---- the frontier -------------------------------------------------------------------------- */

static const struct store_sql q_frontier_get = {SQ_FRONTIER_GET,
                                                "SELECT level, hash FROM audit_frontier"};

int store_frontier_get(struct store *s, uint8_t hashes[64][32], uint64_t *present,
                       struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc;

	*present = 0;
	if ((rc = stmt_bind(s, &q_frontier_get, &st, eb, "")) != YB_OK)
		return rc;
	while ((rc = stmt_step(s, st, "read audit frontier", eb)) == YB_OK) {
		int level = sqlite3_column_int(st, 0);
		if (level < 0 || level >= 64 || sqlite3_column_bytes(st, 1) != 32)
			continue; /* not ours: the check against the size will fail loudly */
		memcpy(hashes[level], sqlite3_column_blob(st, 1), 32);
		*present |= (uint64_t)1 << level;
	}
	return stmt_scan_end(st, rc, 0);
}

static const struct store_sql q_frontier_set = {
    SQ_FRONTIER_SET, "INSERT OR REPLACE INTO audit_frontier(level, hash) VALUES (?1, ?2)"};
static const struct store_sql q_frontier_del = {SQ_FRONTIER_DEL,
                                                "DELETE FROM audit_frontier WHERE level = ?1"};

int store_frontier_set(struct store *s, int level, const uint8_t *hash, struct errbuf *eb)
{
	if (hash == NULL)
		return stmt_run(s, &q_frontier_del, "write audit frontier", eb, "i", level);
	return stmt_run(s, &q_frontier_set, "write audit frontier", eb, "ib", level, hash,
	                (size_t)32);
}

/* ---- checkpoints --------------------------------------------------------------------------- */

static const struct store_sql q_checkpoint_add = {
    SQ_CHECKPOINT_ADD,
    "INSERT INTO checkpoints(size, root, at_ms, signature) VALUES (?1, ?2, ?3, ?4)"};

int store_checkpoint_add(struct store *s, const struct checkpoint *c, struct errbuf *eb)
{
	return stmt_run(s, &q_checkpoint_add, "store checkpoint", eb, "IbIb", (int64_t)c->size,
	                c->root, (size_t)32, c->at_ms, c->sig, c->sig_len);
}

/* The checkpoint in the current row (size, root, at_ms, signature). */
static void read_checkpoint(sqlite3_stmt *st, struct checkpoint *c)
{
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

static const struct store_sql q_checkpoint_get = {
    SQ_CHECKPOINT_GET,
    "SELECT size, root, at_ms, signature FROM checkpoints"
    " WHERE size = ?1 OR (?1 = 0 AND size = (SELECT max(size) FROM checkpoints))"};

int store_checkpoint_get(struct store *s, uint64_t size, struct checkpoint *c, struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = stmt_row(s, &q_checkpoint_get, &st, "read checkpoint", eb, "I", (int64_t)size)) ==
	    YB_OK)
		read_checkpoint(st, c);
	return stmt_end(st, rc);
}

static const struct store_sql q_checkpoints = {
    SQ_CHECKPOINTS, "SELECT size, root, at_ms, signature FROM checkpoints WHERE size >= ?1"
                    " ORDER BY size LIMIT ?2"};

int store_scan_checkpoints(struct store *s, uint64_t from_size, uint32_t limit,
                           store_checkpoint_fn fn, void *ctx, struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc, stop = 0;

	if ((rc = stmt_bind(s, &q_checkpoints, &st, eb, "Iu", (int64_t)from_size, limit)) != YB_OK)
		return rc;
	while (stop == 0 && (rc = stmt_step(s, st, "export checkpoints", eb)) == YB_OK) {
		struct checkpoint c;
		read_checkpoint(st, &c);
		stop = fn(ctx, &c);
	}
	return stmt_scan_end(st, rc, stop);
}

static const char rollup_schema_sql[] =
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

static int store_rollup_schema(struct store *s, struct errbuf *eb)
{
	return stmt_script(s, rollup_schema_sql, eb);
}

/* ---- what the pre-aggregates were built for ------------------------------------------------ */

static const struct store_sql q_state = {
    SQ_RU_STATE, "SELECT (SELECT basis FROM rollup_meta), (SELECT n_elements FROM rollup_meta),"
                 " EXISTS (SELECT 1 FROM rollup_pending)"};

int store_rollup_state(struct store *s, char basis[65], size_t *n_elements, bool *pending,
                       struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc;

	basis[0] = '\0';
	*n_elements = 0;
	*pending = false;
	/* Scalar subqueries: always one row. */
	if ((rc = stmt_row(s, &q_state, &st, "read pre-aggregate state", eb, "")) == YB_OK) {
		const unsigned char *b = sqlite3_column_text(st, 0);
		snprintf(basis, 65, "%s", b ? (const char *)b : "");
		*n_elements = (size_t)sqlite3_column_int64(st, 1);
		*pending = sqlite3_column_int(st, 2) != 0;
	}
	return stmt_end(st, rc);
}

static const struct store_sql q_set_meta = {
    SQ_RU_SET_META, "INSERT OR REPLACE INTO rollup_meta(id, basis, n_elements) VALUES (1, ?1, ?2)"};

int store_rollup_reset(struct store *s, const char *basis, size_t n_elements, struct errbuf *eb)
{
	int rc;

	if ((rc = stmt_script(s,
	                      "DELETE FROM rollup_meta; DELETE FROM rollup_elements;"
	                      " DELETE FROM rollup_units; DELETE FROM rollup_effective;"
	                      " DELETE FROM rollup_buckets; DELETE FROM rollup_pending;",
	                      eb)) != YB_OK)
		return rc;
	if (basis == NULL)
		return YB_OK;
	if ((rc = stmt_run(s, &q_set_meta, "write pre-aggregate basis", eb, "tI", basis,
	                   (int64_t)n_elements)) != YB_OK)
		return rc;
	/* The effective revision of every return, in both modes (rollup.h). */
	return stmt_script(s,
	                   "INSERT INTO rollup_effective(mode, org, month, revision)"
	                   " SELECT 0, org, month, max(revision) FROM revisions"
	                   " WHERE state <> 'rejected' GROUP BY org, month;"
	                   " INSERT INTO rollup_effective(mode, org, month, revision)"
	                   " SELECT 1, org, month, max(revision) FROM revisions"
	                   " WHERE state = 'accepted' GROUP BY org, month;",
	                   eb);
}

static const struct store_sql q_add_element = {
    SQ_RU_ADD_ELEMENT, "INSERT INTO rollup_elements(code, idx, last) VALUES (?1, ?2, ?3)"};

int store_rollup_add_element(struct store *s, int idx, const char *code, bool last,
                             struct errbuf *eb)
{
	return stmt_run(s, &q_add_element, "write pre-aggregate element", eb, "tii", code, idx,
	                (int)last);
}

static const struct store_sql q_elements = {SQ_RU_ELEMENTS,
                                            "SELECT idx, code, last FROM rollup_elements"};

int store_rollup_elements(struct store *s, store_rollup_element_fn fn, void *ctx, struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc, stop = 0;

	if ((rc = stmt_bind(s, &q_elements, &st, eb, "")) != YB_OK)
		return rc;
	while (stop == 0 && (rc = stmt_step(s, st, "read pre-aggregate elements", eb)) == YB_OK) {
		const char *code = (const char *)sqlite3_column_text(st, 1);
		if (code != NULL)
			stop = fn(ctx, sqlite3_column_int(st, 0), code,
			          sqlite3_column_int(st, 2) != 0);
	}
	return stmt_scan_end(st, rc, stop);
}

static const struct store_sql q_add_unit = {
    SQ_RU_ADD_UNIT, "INSERT INTO rollup_units(code, leaf, parent) VALUES (?1, ?2, ?3)"};

int store_rollup_add_unit(struct store *s, const char *code, bool leaf, const char *parent,
                          struct errbuf *eb)
{
	return stmt_run(s, &q_add_unit, "write pre-aggregate unit", eb, "tit", code, (int)leaf,
	                parent);
}

static const struct store_sql q_unit = {SQ_RU_UNIT,
                                        "SELECT leaf, parent FROM rollup_units WHERE code = ?1"};

int store_rollup_unit(struct store *s, const char *code, bool *leaf, char **parent,
                      struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc;

	*parent = NULL;
	if ((rc = stmt_row(s, &q_unit, &st, "read pre-aggregate unit", eb, "t", code)) != YB_OK)
		return rc;
	*leaf = sqlite3_column_int(st, 0) != 0;
	if ((*parent = stmt_text_dup(st, 1)) == NULL)
		rc = status_fail(eb, YB_ENOMEM, "out of memory");
	return stmt_end(st, rc);
}

/* ---- effective revisions ------------------------------------------------------------------- */

static const struct store_sql q_eff_now = {
    SQ_RU_EFF_NOW, "SELECT (SELECT max(revision) FROM revisions WHERE org = ?1 AND month = ?2 AND"
                   " state <> 'rejected'), (SELECT max(revision) FROM revisions WHERE org = ?1 AND"
                   " month = ?2 AND state = 'accepted')"};

int store_rollup_effective_now(struct store *s, const char *org, int month, uint32_t rev[2],
                               struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc;

	rev[0] = rev[1] = 0;
	/* Scalar subqueries: always one row. */
	if ((rc = stmt_row(s, &q_eff_now, &st, "find effective revision", eb, "ti", org, month)) ==
	    YB_OK) {
		rev[0] = (uint32_t)sqlite3_column_int64(st, 0); /* NULL reads as 0: none */
		rev[1] = (uint32_t)sqlite3_column_int64(st, 1);
	}
	return stmt_end(st, rc);
}

static const struct store_sql q_eff_get = {
    SQ_RU_EFF_GET,
    "SELECT revision FROM rollup_effective WHERE mode = ?1 AND org = ?2 AND month = ?3"};

int store_rollup_effective_get(struct store *s, int mode, const char *org, int month,
                               uint32_t *revision, struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc;

	*revision = 0;
	if ((rc = stmt_row(s, &q_eff_get, &st, "read effective revision", eb, "iti", mode, org,
	                   month)) == YB_OK)
		*revision = (uint32_t)sqlite3_column_int64(st, 0);
	/* None recorded: 0. */
	return stmt_end(st, rc == YB_NOT_FOUND ? YB_OK : rc);
}

static const struct store_sql q_eff_set = {
    SQ_RU_EFF_SET, "INSERT OR REPLACE INTO rollup_effective(mode, org, month, revision)"
                   " VALUES (?1, ?2, ?3, ?4)"};
static const struct store_sql q_eff_del = {
    SQ_RU_EFF_DEL, "DELETE FROM rollup_effective WHERE mode = ?1 AND org = ?2 AND month = ?3"};

int store_rollup_effective_set(struct store *s, int mode, const char *org, int month,
                               uint32_t revision, struct errbuf *eb)
{
	if (revision == 0)
		return stmt_run(s, &q_eff_del, "write effective revision", eb, "iti", mode, org,
		                month);
	return stmt_run(s, &q_eff_set, "write effective revision", eb, "itiu", mode, org, month,
	                revision);
}

static const struct store_sql q_months = {
    SQ_RU_MONTHS, "SELECT month, revision FROM rollup_effective WHERE mode = ?1 AND org = ?2"
                  " ORDER BY month"};

int store_rollup_months(struct store *s, int mode, const char *org, store_rollup_month_fn fn,
                        void *ctx, struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc, stop = 0;

	if ((rc = stmt_bind(s, &q_months, &st, eb, "it", mode, org)) != YB_OK)
		return rc;
	while (stop == 0 && (rc = stmt_step(s, st, "read effective revisions", eb)) == YB_OK)
		stop = fn(ctx, sqlite3_column_int(st, 0), (uint32_t)sqlite3_column_int64(st, 1));
	return stmt_scan_end(st, rc, stop);
}

/* The nearest other month of (mode, org) whose effective revision has a value for ?4. */
static const struct store_sql q_prev = {
    SQ_RU_PREV, "SELECT f.month, v.value FROM rollup_effective f JOIN revision_values v ON"
                " v.org = f.org AND v.month = f.month AND v.revision = f.revision AND"
                " v.code = ?4 WHERE f.mode = ?1 AND f.org = ?2 AND f.month < ?3"
                " ORDER BY f.month DESC LIMIT 1"};
static const struct store_sql q_next = {
    SQ_RU_NEXT, "SELECT f.month, v.value FROM rollup_effective f JOIN revision_values v ON"
                " v.org = f.org AND v.month = f.month AND v.revision = f.revision AND"
                " v.code = ?4 WHERE f.mode = ?1 AND f.org = ?2 AND f.month > ?3"
                " ORDER BY f.month LIMIT 1"};

int store_rollup_neighbour(struct store *s, int mode, const char *org, int month, const char *code,
                           bool after, int *found_month, int64_t *value, struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = stmt_row(s, after ? &q_next : &q_prev, &st, "find neighbouring value", eb, "itit",
	                   mode, org, month, code)) == YB_OK) {
		*found_month = sqlite3_column_int(st, 0);
		*value = sqlite3_column_int64(st, 1);
	}
	return stmt_end(st, rc);
}

/* ---- buckets ------------------------------------------------------------------------------- */

static const struct store_sql q_bucket_get = {
    SQ_RU_BUCKET_GET, "SELECT data FROM rollup_buckets WHERE mode = ?1 AND node = ?2 AND"
                      " month = ?3 AND next = ?4"};

int store_rollup_bucket_get(struct store *s, int mode, const char *node, int month, int next,
                            uint8_t **data, size_t *len, struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc;

	*data = NULL;
	*len = 0;
	if ((rc = stmt_row(s, &q_bucket_get, &st, "read pre-aggregate", eb, "itii", mode, node,
	                   month, next)) != YB_OK)
		return rc;
	return stmt_end(st, stmt_blob_dup(st, 0, data, len, eb));
}

static const struct store_sql q_bucket_put = {
    SQ_RU_BUCKET_PUT, "INSERT OR REPLACE INTO rollup_buckets(mode, node, month, next, data)"
                      " VALUES (?1, ?2, ?3, ?4, ?5)"};
static const struct store_sql q_bucket_del = {
    SQ_RU_BUCKET_DEL, "DELETE FROM rollup_buckets WHERE mode = ?1 AND node = ?2 AND"
                      " month = ?3 AND next = ?4"};

int store_rollup_bucket_put(struct store *s, int mode, const char *node, int month, int next,
                            const uint8_t *data, size_t len, struct errbuf *eb)
{
	if (len == 0)
		return stmt_run(s, &q_bucket_del, "write pre-aggregate", eb, "itii", mode, node,
		                month, next);
	return stmt_run(s, &q_bucket_put, "write pre-aggregate", eb, "itiib", mode, node, month,
	                next, data, len);
}

static const struct store_sql q_buckets = {
    SQ_RU_BUCKETS, "SELECT month, next, data FROM rollup_buckets WHERE mode = ?1 AND"
                   " node = ?2 AND month BETWEEN ?3 AND ?4 AND (next = 0 OR next > ?5)"};

int store_rollup_buckets(struct store *s, int mode, const char *node, int first, int last,
                         int after, store_rollup_bucket_fn fn, void *ctx, struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc, stop = 0;

	if ((rc = stmt_bind(s, &q_buckets, &st, eb, "itiii", mode, node, first, last, after)) !=
	    YB_OK)
		return rc;
	while (stop == 0 && (rc = stmt_step(s, st, "read pre-aggregates", eb)) == YB_OK)
		stop = fn(ctx, sqlite3_column_int(st, 0), sqlite3_column_int(st, 1),
		          sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2));
	return stmt_scan_end(st, rc, stop);
}

/* ---- changes waiting ----------------------------------------------------------------------- */

static const struct store_sql q_pending = {SQ_RU_PENDING,
                                           "SELECT org, month FROM rollup_pending LIMIT 1"};

int store_rollup_pending(struct store *s, char **org, int *month, struct errbuf *eb)
{
	sqlite3_stmt *st;
	int rc;

	*org = NULL;
	if ((rc = stmt_row(s, &q_pending, &st, "read pending changes", eb, "")) != YB_OK)
		return rc;
	*month = sqlite3_column_int(st, 1);
	if ((*org = stmt_text_dup(st, 0)) == NULL)
		rc = status_fail(eb, YB_ENOMEM, "out of memory");
	return stmt_end(st, rc);
}

static const struct store_sql q_pending_del = {
    SQ_RU_PENDING_DEL, "DELETE FROM rollup_pending WHERE org = ?1 AND month = ?2"};

int store_rollup_pending_done(struct store *s, const char *org, int month, struct errbuf *eb)
{
	return stmt_run(s, &q_pending_del, "clear pending change", eb, "ti", org, month);
}
