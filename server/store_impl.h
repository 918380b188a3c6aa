/*
 * store_impl.h - what the store's own files share, and nothing else does:
 * the connection and the statement helper. Included by store.c,
 * store_returns.c, store_review.c, store_audit.c and store_rollup.c only.
 *
 * A store function reads: stmt_bind (the connection's prepared statement,
 * reset, its parameters bound), stmt_step (a row, the end, or a failure)
 * and the columns, then stmt_end; stmt_row binds and steps to the first
 * row at once, and a write is one stmt_run. SQLite's errors
 * become the project's codes here and nowhere else: YB_EDB, or
 * YB_UNAVAILABLE when the database stayed locked, with a message naming
 * the database, what was being done and SQLite's reason.
 */
#ifndef YB_STORE_IMPL_H
#define YB_STORE_IMPL_H

#include <stdint.h>

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
	/* store_returns.c */
	SQ_LAST_REV,
	SQ_LATEST_STATE,
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

/*
 * The failure for SQLite's last error on s while doing `what`:
 * YB_UNAVAILABLE when the database stayed busy or locked, else YB_EDB.
 */
int stmt_fail(struct store *s, struct errbuf *eb, const char *what);

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
int stmt_bind(struct store *s, const struct store_sql *q, sqlite3_stmt **st, struct errbuf *eb,
              const char *fmt, ...);

/*
 * Steps st: YB_OK with a row to read, YB_NOT_FOUND when there are no more
 * (st reset), or stmt_fail(what) (st reset).
 */
int stmt_step(struct store *s, sqlite3_stmt *st, const char *what, struct errbuf *eb);

/*
 * stmt_bind, then stmt_step: YB_OK with the first row to read in *st,
 * YB_NOT_FOUND when there is none, or a failure.
 */
int stmt_row(struct store *s, const struct store_sql *q, sqlite3_stmt **st, const char *what,
             struct errbuf *eb, const char *fmt, ...);

/* stmt_bind, then runs a statement that returns no rows and resets it. */
int stmt_run(struct store *s, const struct store_sql *q, const char *what, struct errbuf *eb,
             const char *fmt, ...);

/* Resets st (NULL is allowed), ending its read (a row read is then gone), and returns rc. */
int stmt_end(sqlite3_stmt *st, int rc);

/*
 * Resets st (NULL is allowed) after a scan by stmt_step and returns its
 * result: stop when the callback stopped it (non-zero), else YB_OK at the
 * end of the rows, or the failure of stmt_bind or stmt_step in rc.
 */
int stmt_scan_end(sqlite3_stmt *st, int rc, int stop);

/* A copy of text column col ("" for NULL) the caller frees; NULL when out of memory. */
char *stmt_text_dup(sqlite3_stmt *st, int col);

/* A copy of blob column col in *data (caller frees; never NULL) and its size; or YB_ENOMEM. */
int stmt_blob_dup(sqlite3_stmt *st, int col, uint8_t **data, size_t *len, struct errbuf *eb);

/*
 * Creates what the pre-aggregates need if missing: their tables and the
 * triggers that note every change to the revisions (store_rollup.c). Part
 * of the schema, run by store_open after the revisions table exists.
 */
int store_rollup_schema(struct store *s, struct errbuf *eb);

#endif
