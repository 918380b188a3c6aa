/*
 * store.h - the daemon's SQLite store.
 *
 * One struct store is one SQLite connection, used by one thread at a time
 * (each worker opens its own). The database runs in WAL mode with
 * synchronous=FULL, so a transaction that store_commit reports committed
 * survives a crash or power loss: the daemon replies only after that.
 * Nothing is ever updated in place except a revision's review state; every
 * submission is a new row keeping the signed request exactly as received.
 */
#ifndef YB_STORE_H
#define YB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "status.h"

struct store;

/*
 * Opens (creating if needed, mode 0600: SQLite gives its -wal and -shm
 * files the same mode) the database at path and brings its schema up to
 * date. YB_EDB with SQLite's message on failure. The caller owns *out.
 */
int store_open(const char *path, struct store **out, struct errbuf *eb);

/*
 * Runs SQLite's PRAGMA quick_check on the database at path for at most
 * max_ms milliseconds, on a connection of its own. YB_OK with *complete
 * true when the whole file was checked and found sound, false when time ran
 * out first (what was checked is sound); YB_DATA_LOSS with SQLite's first
 * finding in eb when the file is damaged; YB_EDB when it cannot be read.
 * A file that does not exist yet is sound.
 */
int store_quick_check(const char *path, int max_ms, bool *complete, struct errbuf *eb);

/* Closes s; NULL is allowed. */
void store_close(struct store *s);

/* BEGIN IMMEDIATE: takes the write lock now (waits up to 10 s). */
int store_begin(struct store *s, struct errbuf *eb);

/* COMMIT; when it returns YB_OK the data is durable. */
int store_commit(struct store *s, struct errbuf *eb);

/* ROLLBACK if a transaction is open; never fails. */
void store_rollback(struct store *s);

/*
 * Savepoints inside an open transaction (group commit: one per call of a
 * batch). store_release keeps the writes since store_savepoint in the
 * transaction; store_rollback_savepoint undoes them and never fails.
 */
int store_savepoint(struct store *s, struct errbuf *eb);
int store_release(struct store *s, struct errbuf *eb);
void store_rollback_savepoint(struct store *s);

/*
 * Whether a transaction is open. False after an error that made SQLite roll
 * the whole transaction back (a full disk, an I/O error).
 */
bool store_in_transaction(const struct store *s);

/*
 * The stored reply of an earlier call with this id from this caller
 * (fingerprint), and the digest of what that call asked. YB_OK with *reply
 * (caller frees) and digest, or YB_NOT_FOUND.
 */
int store_call_find(struct store *s, const char *fingerprint, const char *call_id, char digest[65],
                    uint8_t **reply, size_t *len, struct errbuf *eb);

/* Remembers the reply to a call and its request digest, inside the current transaction. */
int store_call_save(struct store *s, const char *fingerprint, const char *call_id,
                    const char *digest, int64_t at_ms, const uint8_t *reply, size_t len,
                    struct errbuf *eb);

/* Forgets calls older than before_ms (they would be refused as stale anyway). */
int store_call_prune(struct store *s, int64_t before_ms, struct errbuf *eb);

/* Records one load of the org tree or the catalog ("orgs" / "catalog"). */
int store_record_load(struct store *s, const char *kind, int64_t at_ms, const char *digest,
                      const char *source, const char *content, size_t len, struct errbuf *eb);

/* One value of a revision. */
struct store_value {
	const char *code;
	int64_t value; /* hundredths */
};

/*
 * One finding (warning / skipped rule) kept with a revision: its code and
 * parameters, language-free, worded only when shown (finding_render). A
 * finding stored before schema 3 has only the text it was shown with then:
 * what.code is FINDING_CODE_NONE and message holds that text.
 */
struct store_finding {
	const char *severity; /* "warning" or "skipped" */
	const char *field;    /* the rule or element code */
	uint32_t line;
	const char *value;
	struct finding what;
	const char *message; /* only for what.code == FINDING_CODE_NONE; "" otherwise */
};

/* A revision to insert. */
struct store_revision {
	const char *org;
	int month; /* period_month() numbering */
	uint32_t revision;
	const char *state;
	int64_t received_at_ms;
	bool on_time;
	const char *reason;
	const char *subject;
	const char *fingerprint;
	const uint8_t *request; /* the RpcRequest bytes exactly as received */
	size_t request_len;
	const char *request_sha256;
	const struct store_value *values;
	size_t n_values;
	const struct store_finding *findings;
	size_t n_findings;
};

/* The highest revision number of (org, month), 0 when there is none. */
int store_last_revision(struct store *s, const char *org, int month, uint32_t *revision,
                        struct errbuf *eb);

/* Inserts a revision with its values and findings (inside a transaction). */
int store_insert_revision(struct store *s, const struct store_revision *r, struct errbuf *eb);

/* A revision read back; every pointer is owned by the struct. */
struct store_revision_row {
	char *org;
	int month;
	uint32_t revision;
	uint32_t revisions; /* how many exist for (org, month) */
	char *state;
	int64_t received_at_ms;
	bool on_time;
	char *reason;
	char *subject;
	char *fingerprint;
	char *request_sha256;
	struct store_value *values; /* codes owned by the row */
	size_t n_values;
	struct store_finding *findings;
	size_t n_findings;
};

/*
 * Reads revision `revision` of (org, month), or the latest when it is 0.
 * YB_NOT_FOUND when there is none. The caller frees *out with
 * store_revision_row_free.
 */
int store_get_revision(struct store *s, const char *org, int month, uint32_t revision,
                       struct store_revision_row **out, struct errbuf *eb);

void store_revision_row_free(struct store_revision_row *r);

/*
 * Calls fn once per value of the latest non-rejected revision of every
 * return with first <= month <= last (of one org unit when org_filter is
 * not NULL), ordered by org, month. With accepted_only, the latest accepted
 * revision instead. A value
 * callback returning non-zero stops the scan and is returned.
 * `each_return` (may be NULL) is called once per such return first, also
 * for returns that carry no values.
 */
typedef int (*store_value_fn)(void *ctx, const char *org, int month, const char *code,
                              int64_t value);
typedef int (*store_return_fn)(void *ctx, const char *org, int month, uint32_t revision);
int store_scan_latest(struct store *s, const char *org_filter, int first, int last,
                      bool accepted_only, store_return_fn each_return, store_value_fn each_value,
                      void *ctx, struct errbuf *eb);

/*
 * Calls fn(ctx, code, value) once per value of one revision, in no
 * particular order. Non-zero from fn stops and is returned.
 */
typedef int (*store_code_value_fn)(void *ctx, const char *code, int64_t value);
int store_revision_values(struct store *s, const char *org, int month, uint32_t revision,
                          store_code_value_fn fn, void *ctx, struct errbuf *eb);

/*
 * A read snapshot: every read between store_snapshot_begin and
 * store_snapshot_end sees the database as it was at the first of them
 * (a SAVEPOINT, so it also works inside a transaction).
 */
int store_snapshot_begin(struct store *s, struct errbuf *eb);
void store_snapshot_end(struct store *s);

/* Sets the review state of one revision (the one in-place change a revision sees). */
int store_set_state(struct store *s, const char *org, int month, uint32_t revision,
                    const char *state, struct errbuf *eb);

/* One decision of the central office on a return; kept forever, never edited. */
struct store_review {
	uint32_t revision;
	const char *action; /* accept | reject | reopen */
	const char *comment;
	const char *reviewer; /* certificate subject */
	const char *fingerprint;
	int64_t at_ms;
};

/* Records a review (inside a transaction). */
int store_add_review(struct store *s, const char *org, int month, const struct store_review *r,
                     struct errbuf *eb);

/*
 * Every review of (org, month), oldest first. The caller frees *out with
 * store_reviews_free(*out, *n) (its strings are owned by it).
 */
int store_list_reviews(struct store *s, const char *org, int month, struct store_review **out,
                       size_t *n, struct errbuf *eb);

void store_reviews_free(struct store_review *r, size_t n);

/* Records that (org, month) was closed or reopened for submissions. */
int store_add_closure(struct store *s, const char *org, int month, bool closed, const char *comment,
                      const char *subject, const char *fingerprint, int64_t at_ms,
                      struct errbuf *eb);

/*
 * Whether (org, month) is closed by a closure on org itself (callers check
 * the ancestors too), and by whom and when (subject and at_ms may be NULL).
 */
int store_closure(struct store *s, const char *org, int month, bool *closed, char *subject,
                  size_t subject_len, int64_t *at_ms, struct errbuf *eb);

/*
 * Calls fn once per return with first <= month <= last, ordered by org and
 * month: its latest revision and that revision's state and time, and
 * whether its first revision was on time. Non-zero from fn stops the scan.
 */
typedef int (*store_status_fn)(void *ctx, const char *org, int month, uint32_t revision,
                               const char *state, int64_t received_at_ms, bool first_on_time);
int store_scan_status(struct store *s, int first, int last, store_status_fn fn, void *ctx,
                      struct errbuf *eb);

struct checkpoint;

/* Entries in the audit log (the tree size). */
int store_audit_size(struct store *s, uint64_t *size, struct errbuf *eb);

/*
 * The audit tree's right edge: hashes[level] for every bit set in *present
 * (the subtree roots that make up a tree of the current size).
 */
int store_frontier_get(struct store *s, uint8_t hashes[64][32], uint64_t *present,
                       struct errbuf *eb);

/* Sets (hash not NULL) or removes (hash NULL) the frontier hash at level. */
int store_frontier_set(struct store *s, int level, const uint8_t *hash, struct errbuf *eb);

/* One audit entry as stored. */
struct store_audit_row {
	uint64_t seq; /* 1-based; the leaf index is seq - 1 */
	int64_t at_ms;
	const char *action;
	const char *object;
	const char *org;   /* "" when not about one org unit */
	int month;         /* 0 when not about one month */
	const void *entry; /* the exact bytes hashed into the leaf */
	size_t entry_len;
	const uint8_t *leaf; /* 32 bytes */
	/* store_audit_scan only: the stored comment of a review, close or reopen, else NULL */
	const char *comment;
};

/* Appends an audit entry (inside the caller's transaction). */
int store_audit_add(struct store *s, const struct store_audit_row *r, struct errbuf *eb);

/* Stores a signed checkpoint. */
int store_checkpoint_add(struct store *s, const struct checkpoint *c, struct errbuf *eb);

/* The checkpoint of a tree size, or the latest when size is 0; YB_NOT_FOUND if none. */
int store_checkpoint_get(struct store *s, uint64_t size, struct checkpoint *c, struct errbuf *eb);

/*
 * The leaf hashes of entries 1..n, in order (caller frees *leaves).
 * YB_DATA_LOSS when an entry is missing or damaged.
 */
int store_audit_leaves(struct store *s, uint64_t n, uint8_t (**leaves)[32], struct errbuf *eb);

/*
 * Audit entries with seq >= from_seq, at_ms >= since_ms, about one of the
 * org units of orgs_json (a JSON array of codes; NULL: every entry, those
 * about no org unit too) and first <= month <= last, at most limit, in
 * order. The row's pointers are valid during the callback only; non-zero
 * stops.
 */
typedef int (*store_audit_fn)(void *ctx, const struct store_audit_row *r);
int store_audit_scan(struct store *s, uint64_t from_seq, int64_t since_ms, const char *orgs_json,
                     int first, int last, uint32_t limit, store_audit_fn fn, void *ctx,
                     struct errbuf *eb);

/* A revision as exported for an offline audit (valid during the callback). */
struct store_export_row {
	const char *org;
	int month;
	uint32_t revision;
	const char *state;
	const char *request_sha256;
	const void *request;
	size_t request_len;
};

/* Revisions in (org, month, revision) order, skipping offset, at most limit. */
typedef int (*store_export_fn)(void *ctx, const struct store_export_row *r);
int store_export_revisions(struct store *s, uint64_t offset, uint32_t limit, store_export_fn fn,
                           void *ctx, struct errbuf *eb);

/* Checkpoints with size >= from_size in order, at most limit. */
typedef int (*store_checkpoint_fn)(void *ctx, const struct checkpoint *c);
int store_scan_checkpoints(struct store *s, uint64_t from_size, uint32_t limit,
                           store_checkpoint_fn fn, void *ctx, struct errbuf *eb);

/* Every review in the order made, skipping offset, at most limit. */
typedef int (*store_review_export_fn)(void *ctx, const char *org, int month,
                                      const struct store_review *r);
int store_export_reviews(struct store *s, uint64_t offset, uint32_t limit,
                         store_review_export_fn fn, void *ctx, struct errbuf *eb);

/* A row of the closures table as exported (valid during the callback). */
struct store_closure_row {
	const char *org;
	int month;
	bool closed; /* false: reopened */
	const char *comment;
	const char *subject; /* who closed or reopened: certificate subject */
	const char *fingerprint;
	int64_t at_ms;
};

/* Every closure row in the order made, skipping offset, at most limit. */
typedef int (*store_closure_export_fn)(void *ctx, const struct store_closure_row *r);
int store_export_closures(struct store *s, uint64_t offset, uint32_t limit,
                          store_closure_export_fn fn, void *ctx, struct errbuf *eb);

/* The audit entry (0-based index) of the submission of object ORG/PERIOD/rN. */
int store_audit_index_of(struct store *s, const char *org, int month, const char *object,
                         uint64_t *index, struct errbuf *eb);

/*
 * The tables of the consolidation pre-aggregates. Only server/rollup.c calls
 * these; rollup.h says what the tables hold. Months are period_month()
 * numbers; mode 0 is "latest revision not rejected", mode 1 "latest
 * accepted revision".
 */

/*
 * The basis the pre-aggregates were built for ("" when there are none), its
 * number of elements, and whether changes to revisions wait in
 * rollup_pending (SQLite's triggers note every one).
 */
int store_rollup_state(struct store *s, char basis[65], size_t *n_elements, bool *pending,
                       struct errbuf *eb);

/*
 * Empties every pre-aggregate table. With basis not NULL, then records it
 * and fills the effective revisions of every return in both modes from the
 * revisions (the first step of a rebuild); in the caller's transaction.
 */
int store_rollup_reset(struct store *s, const char *basis, size_t n_elements, struct errbuf *eb);

/* The elements of the basis: index in the catalog, code, aggregated as `last`. */
int store_rollup_add_element(struct store *s, int idx, const char *code, bool last,
                             struct errbuf *eb);
typedef int (*store_rollup_element_fn)(void *ctx, int idx, const char *code, bool last);
int store_rollup_elements(struct store *s, store_rollup_element_fn fn, void *ctx,
                          struct errbuf *eb);

/*
 * The org units of the basis: whether a leaf, and the parent's code ("" for
 * the root). store_rollup_unit gives YB_OK and *parent (caller frees), or
 * YB_NOT_FOUND for a unit not in the basis.
 */
int store_rollup_add_unit(struct store *s, const char *code, bool leaf, const char *parent,
                          struct errbuf *eb);
int store_rollup_unit(struct store *s, const char *code, bool *leaf, char **parent,
                      struct errbuf *eb);

/* The effective revisions of (org, month) in the revisions now: [mode], 0 for none. */
int store_rollup_effective_now(struct store *s, const char *org, int month, uint32_t rev[2],
                               struct errbuf *eb);

/* The effective revision recorded for (mode, org, month), 0 for none; set (0 removes). */
int store_rollup_effective_get(struct store *s, int mode, const char *org, int month,
                               uint32_t *revision, struct errbuf *eb);
int store_rollup_effective_set(struct store *s, int mode, const char *org, int month,
                               uint32_t revision, struct errbuf *eb);

/* Every recorded effective revision of (mode, org), by month; non-zero from fn stops. */
typedef int (*store_rollup_month_fn)(void *ctx, int month, uint32_t revision);
int store_rollup_months(struct store *s, int mode, const char *org, store_rollup_month_fn fn,
                        void *ctx, struct errbuf *eb);

/*
 * The nearest month before (after false) or after `month` whose recorded
 * effective revision of (mode, org) has a value for code, and that value.
 * YB_NOT_FOUND when there is none.
 */
int store_rollup_neighbour(struct store *s, int mode, const char *org, int month, const char *code,
                           bool after, int *found_month, int64_t *value, struct errbuf *eb);

/*
 * One bucket (mode, node, month, next): get gives YB_OK and *data (caller
 * frees) or YB_NOT_FOUND; put with len 0 removes it.
 */
int store_rollup_bucket_get(struct store *s, int mode, const char *node, int month, int next,
                            uint8_t **data, size_t *len, struct errbuf *eb);
int store_rollup_bucket_put(struct store *s, int mode, const char *node, int month, int next,
                            const uint8_t *data, size_t len, struct errbuf *eb);

/*
 * The buckets of (mode, node) with first <= month <= last and next either 0
 * or above `after`; the data is valid during the callback only.
 */
typedef int (*store_rollup_bucket_fn)(void *ctx, int month, int next, const void *data, size_t len);
int store_rollup_buckets(struct store *s, int mode, const char *node, int first, int last,
                         int after, store_rollup_bucket_fn fn, void *ctx, struct errbuf *eb);

/*
 * One change waiting in rollup_pending: YB_OK with *org (caller frees) and
 * *month, or YB_NOT_FOUND. pending_done forgets it once applied.
 */
int store_rollup_pending(struct store *s, char **org, int *month, struct errbuf *eb);
int store_rollup_pending_done(struct store *s, const char *org, int month, struct errbuf *eb);

#endif
