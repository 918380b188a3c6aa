/*
 * store.h - the daemon's SQLite store: the connection, its transactions,
 * and the records of calls and loads.
 *
 * One struct store is one SQLite connection, used by one thread at a time
 * (each worker opens its own). The database runs in WAL mode with
 * synchronous=FULL, so a transaction that store_commit reports committed
 * survives a crash or power loss: the daemon replies only after that.
 * Nothing is ever updated in place except a revision's review state; every
 * submission is a new row keeping the signed request exactly as received.
 *
 * The tables of each domain have their own header: store_returns.h
 * (revisions, their values and findings), store_review.h (reviews and
 * closures), store_audit.h (the audit log and its checkpoints). The
 * consolidation pre-aggregates are rollup.c's alone (store_rollup.h).
 * Every function returns YB_OK or a status: YB_EDB with SQLite's message,
 * YB_UNAVAILABLE when the database stayed locked, YB_ENOMEM.
 */
#ifndef YB_STORE_H
#define YB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

struct store;

/*
 * A return: an org unit's code and a month (period_month() numbering). The
 * code is borrowed from the caller for the length of a call.
 */
struct return_key {
	const char *org;
	int month;
};

/*
 * Whether path names a PostgreSQL database: a postgresql:// (or
 * postgres://) URL in libpq's form, such as
 * postgresql://yuebao@db1,db2/yuebao?target_session_attrs=read-write.
 * Anything else is the path of a SQLite file.
 */
bool store_is_postgres(const char *path);

/* path as it may be shown in logs and messages: a URL without its password. */
void store_path_shown(const char *path, char *out, size_t len);

/*
 * Opens (creating if needed, mode 0640: SQLite gives its -wal and -shm
 * files the same mode) the database at path and brings its schema up to
 * date. YB_EDB with SQLite's message on failure. The caller owns *out.
 * A PostgreSQL path connects to that database instead and creates the
 * tables it lacks (YB_UNAVAILABLE when it cannot be reached).
 */
int store_open(const char *path, struct store **out, struct errbuf *eb);

/*
 * Runs SQLite's PRAGMA quick_check on the database at path for at most
 * max_ms milliseconds, on a connection of its own. YB_OK with *complete
 * true when the whole file was checked and found sound, false when time ran
 * out first (what was checked is sound; with 0 it stops at its first look
 * at the clock); YB_DATA_LOSS with SQLite's first
 * finding in eb when the file is damaged; YB_EDB when it cannot be read.
 * A file that does not exist yet is sound. A PostgreSQL database is not
 * checked here (*complete false): its server checks its own pages.
 */
int store_quick_check(const char *path, int max_ms, bool *complete, struct errbuf *eb);

/*
 * A consistent online copy of the database at path into dest, with SQLite's
 * backup API, while a daemon may be writing: one read transaction copies
 * every page, so each call the daemon committed before it began is in the
 * copy whole and every later one is not in it at all. The copy is written
 * to a temporary file beside dest (mode 0640), checked with PRAGMA
 * quick_check, and renamed to dest only then; dest must not exist.
 * *pages is the copy's size in pages. YB_ALREADY_EXISTS, YB_EIO, YB_EDB or
 * YB_DATA_LOSS (the copy does not check) with a message naming the file.
 * A PostgreSQL database is refused (YB_FAILED_PRECONDITION): its own tools
 * (pg_dump, pg_basebackup, a standby) back it up.
 */
int store_backup(const char *path, const char *dest, long *pages, struct errbuf *eb);

/* Closes s; NULL is allowed. */
void store_close(struct store *s);

/* BEGIN IMMEDIATE: takes the write lock now (waits up to 10 s). */
int store_begin(struct store *s, struct errbuf *eb);

/*
 * COMMIT; when it returns YB_OK the data is durable. A write that failed
 * inside the transaction must be undone before the commit, by
 * store_rollback_savepoint or store_rollback: on PostgreSQL the failure
 * spoils the whole transaction (until a rollback to a savepoint before
 * it), and store_commit then fails and rolls everything back, where
 * SQLite would have undone the failed statement only.
 */
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

/*
 * A yuebaod serving this database, as it noted itself (daemons.h): several
 * daemons may serve one PostgreSQL database.
 */
struct store_daemon {
	char id[33];    /* random, per process */
	char host[256]; /* its host name */
	int64_t pid;
	char listen[256]; /* the URL it listens on ("" before it listens) */
	int64_t started_at_ms, seen_at_ms;
	char orgs_digest[65]; /* of the org tree and catalog it serves */
	char catalog_digest[65];
};

/*
 * Notes d (replacing its earlier note) and forgets the daemons not seen
 * since forget_before_ms, inside the current write transaction.
 */
int store_daemon_note(struct store *s, const struct store_daemon *d, int64_t forget_before_ms,
                      struct errbuf *eb);

/* The noted daemons, earliest started first: at most max into out, *n of them. */
int store_daemon_list(struct store *s, struct store_daemon *out, size_t max, size_t *n,
                      struct errbuf *eb);

/* Forgets the daemon with this id (it stops), inside the current write transaction. */
int store_daemon_forget(struct store *s, const char *id, struct errbuf *eb);

/*
 * A read snapshot: every read between store_snapshot_begin and
 * store_snapshot_end sees the database as it was at the first of them
 * (a SAVEPOINT, so it also works inside a transaction).
 */
int store_snapshot_begin(struct store *s, struct errbuf *eb);
void store_snapshot_end(struct store *s);

#endif
