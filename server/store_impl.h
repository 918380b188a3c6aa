/*
 * store_impl.h - what the store's own files share, and nothing else does:
 * the connection (SQLite or PostgreSQL) and the statement helper. Included
 * by store.c, store_pg.c, store_returns.c, store_review.c, store_audit.c
 * and store_rollup.c only.
 *
 * A store function reads: stmt_bind (the connection's prepared statement,
 * reset, its parameters bound), stmt_step (a row, the end, or a failure)
 * and the columns (stmt_int64, stmt_text, stmt_blob, ...), then stmt_end;
 * stmt_row binds and steps to the first row at once, and a write is one
 * stmt_run. The domain files never see which database runs the statement:
 * each statement's SQL is written once, in SQLite's dialect with ?1, ?2,
 * ... parameters, and, only where PostgreSQL needs other text, its
 * PostgreSQL version beside it (struct store_sql). The databases' errors
 * become the project's codes here and nowhere else: YB_EDB, or
 * YB_UNAVAILABLE when the database stayed locked, with a message naming
 * the database, what was being done and the database's reason.
 */
#ifndef YB_STORE_IMPL_H
#define YB_STORE_IMPL_H

#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "store.h"

/*
 * One slot per statement in every connection's cache, by the file that
 * runs it; each file defines its statements' SQL (struct store_sql) beside
 * the functions that run them.
 */
enum store_slot {
	/* store.c */
	SQ_CALL_FIND,
	SQ_CALL_SAVE,
	SQ_CALL_PRUNE,
	SQ_LOAD,
	SQ_DAEMON_NOTE,
	SQ_DAEMON_PRUNE,
	SQ_DAEMON_LIST,
	SQ_DAEMON_FORGET,
	/* store_returns.c */
	SQ_LAST_REV,
	SQ_LATEST_STATE,
	SQ_INS_REV,
	SQ_INS_VALUE,
	SQ_INS_VALUES,
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
	/* store_review.c */
	SQ_ADD_REVIEW,
	SQ_LIST_REVIEWS,
	SQ_EXPORT_REVIEWS,
	SQ_ADD_CLOSURE,
	SQ_CLOSURE,
	SQ_EXPORT_CLOSURES,
	/* store_audit.c */
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
	SQ_COSIGN_ADD,
	SQ_COSIGN_COUNT,
	SQ_COSIGNS_LATEST,
	/* store_rollup.c */
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

/*
 * A statement: its slot in the cache and its SQL (one slot, one SQL text).
 * pg is PostgreSQL's text when it differs from sql in more than the
 * parameters' spelling ($1 for ?1, which store_pg.c rewrites itself), or
 * NULL.
 */
struct store_sql {
	enum store_slot slot;
	const char *sql;
	const char *pg;
};

/* The most parameters and result columns a statement of the store has. */
#define STMT_MAX_PARAMS 16
#define STMT_MAX_COLS 16

/*
 * A statement of a connection, with what the running of it holds: for
 * SQLite the prepared statement; for PostgreSQL the parameters bound (not
 * copied, as with SQLite) and, once stepped, the whole result and the row
 * being read, with the byte strings of that row decoded on demand.
 */
struct stmt {
	struct store *s;
	const struct store_sql *q;
	sqlite3_stmt *lite;
	/* PostgreSQL */
	bool prepared;
	int nparams;
	const char *values[STMT_MAX_PARAMS];
	int lengths[STMT_MAX_PARAMS];
	int formats[STMT_MAX_PARAMS];
	char numbers[STMT_MAX_PARAMS][24];
	PGresult *res; /* NULL until the first step */
	int row;       /* the row being read; -1 before the first */
	unsigned char *blobs[STMT_MAX_COLS];
	size_t blob_lens[STMT_MAX_COLS];
};

/* Transaction control on SQLite, run every call: kept prepared (store.c). */
enum store_ctl {
	CTL_BEGIN,
	CTL_COMMIT,
	CTL_SAVEPOINT,
	CTL_RELEASE,
	CTL_SNAPSHOT,
	CTL_SNAPSHOT_END,
	STORE_CTL_COUNT
};

/* One connection, to SQLite (db) or PostgreSQL (pg), and its statements (store.h). */
struct store {
	sqlite3 *db;
	PGconn *pg;
	bool pg_txn;      /* PostgreSQL: a transaction is open (also on a broken connection) */
	bool pg_snapshot; /* PostgreSQL: store_snapshot_begin opened it */
	struct stmt stmts[SQ_COUNT];
	sqlite3_stmt *ctl[STORE_CTL_COUNT]; /* SQLite's transaction statements, prepared once */
	char *path; /* the file, or the PostgreSQL URL without its password */
};

/*
 * The failure for SQLite's last error on s while doing `what`:
 * YB_UNAVAILABLE when the database stayed busy or locked, else YB_EDB.
 */
int stmt_fail(struct store *s, struct errbuf *eb, const char *what);

/*
 * Whether each statement on s is a round trip to a server (PostgreSQL), so
 * that rows are best written many to a statement; false for SQLite, where
 * a prepared statement per row costs less than decoding a list of rows.
 */
bool stmt_round_trips(const struct store *s);

/* Runs SQL text of one or more statements that return no rows; YB_EDB on failure. */
int stmt_script(struct store *s, const char *sql, struct errbuf *eb);

/*
 * q's statement on s (prepared on first use), reset, with its parameters
 * ?1, ?2, ... bound from the arguments, one letter of fmt each:
 *   t  const char *   text (NULL binds NULL); SQLite does not copy it
 *   i  int (or bool)
 *   u  uint32_t       as a 64-bit integer
 *   I  int64_t
 *   b  const void *, size_t   a blob (two arguments); not copied
 * fmt must name every parameter of the statement. YB_EDB when the
 * statement cannot be prepared or bound, with *st NULL (which stmt_end and
 * stmt_scan_end take). *st stays s's: never finalize it.
 */
int stmt_bind(struct store *s, const struct store_sql *q, struct stmt **st, struct errbuf *eb,
              const char *fmt, ...);

/*
 * Steps st: YB_OK with a row to read, YB_NOT_FOUND when there are no more
 * (st reset), or stmt_fail(what) (st reset).
 */
int stmt_step(struct store *s, struct stmt *st, const char *what, struct errbuf *eb);

/*
 * stmt_bind, then stmt_step: YB_OK with the first row to read in *st,
 * YB_NOT_FOUND when there is none, or a failure.
 */
int stmt_row(struct store *s, const struct store_sql *q, struct stmt **st, const char *what,
             struct errbuf *eb, const char *fmt, ...);

/* stmt_bind, then runs a statement that returns no rows and resets it. */
int stmt_run(struct store *s, const struct store_sql *q, const char *what, struct errbuf *eb,
             const char *fmt, ...);

/* Resets st (NULL is allowed), ending its read (a row read is then gone), and returns rc. */
int stmt_end(struct stmt *st, int rc);

/*
 * Resets st (NULL is allowed) after a scan by stmt_step and returns its
 * result: stop when the callback stopped it (non-zero), else YB_OK at the
 * end of the rows, or the failure of stmt_bind or stmt_step in rc.
 */
int stmt_scan_end(struct stmt *st, int rc, int stop);

/*
 * The columns of the current row, from 0. A NULL reads as 0, as NULL
 * text and as an empty byte string. A text or byte string stays valid until
 * the next step or the end of the statement; the stmt_blob of a NULL or
 * empty value may be NULL.
 */
int64_t stmt_int64(struct stmt *st, int col);
int stmt_int(struct stmt *st, int col);
const char *stmt_text(struct stmt *st, int col);
const void *stmt_blob(struct stmt *st, int col);
size_t stmt_bytes(struct stmt *st, int col);
bool stmt_is_null(struct stmt *st, int col);

/* A copy of text column col ("" for NULL) the caller frees; NULL when out of memory. */
char *stmt_text_dup(struct stmt *st, int col);

/* A copy of blob column col in *data (caller frees; never NULL) and its size; or YB_ENOMEM. */
int stmt_blob_dup(struct stmt *st, int col, uint8_t **data, size_t *len, struct errbuf *eb);

/*
 * PostgreSQL's side of store.h (store_pg.c), for a store whose path is a
 * postgresql:// URL; store.c hands each call over when s->pg is set.
 */
bool store_pg_url(const char *path);
void store_pg_url_shown(const char *url, char *out, size_t len);
/* Connects s to url and creates the schema (version) if missing. */
int store_pg_open(const char *url, struct store *s, int version, struct errbuf *eb);
void store_pg_close(struct store *s);
int store_pg_exec(struct store *s, const char *sql, const char *what, struct errbuf *eb);
bool store_pg_in_transaction(const struct store *s);
int store_pg_begin(struct store *s, struct errbuf *eb);
int store_pg_commit(struct store *s, struct errbuf *eb);
void store_pg_rollback(struct store *s);
int store_pg_snapshot_begin(struct store *s, struct errbuf *eb);
void store_pg_snapshot_end(struct store *s);
int store_pg_bind(struct stmt *st, const char *fmt, va_list ap, struct errbuf *eb);
int store_pg_step(struct stmt *st, const char *what, struct errbuf *eb);
void store_pg_reset(struct stmt *st);
const char *store_pg_value(struct stmt *st, int col);
const void *store_pg_blob(struct stmt *st, int col, size_t *len);

/*
 * Creates what the pre-aggregates need if missing: their tables and the
 * triggers that note every change to the revisions (store_rollup.c). Part
 * of the schema, run by store_open after the revisions table exists.
 */
int store_rollup_schema(struct store *s, struct errbuf *eb);

#endif
