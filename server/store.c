/*
 * store.c - the daemon's SQLite connection: opening it (its schema and
 * upgrades are store_schema.c's), backups and checks, transactions,
 * savepoints and snapshots, the call-id records, the loads of the org tree
 * and catalog, the daemons serving the database; and the statement helper
 * every store file uses (store_impl.h).
 *
 * The tables of each domain are read and written by that domain's file:
 * store_returns.c, store_review.c, store_audit.c and store_rollup.c.
 */
#include "store.h"

#include "store_impl.h"

#include <assert.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store_schema.h"

/* ---- the statement helper (store_impl.h) ------------------------------------------------ */

int stmt_fail(struct store *s, struct errbuf *eb, const char *what)
{
	int ext = sqlite3_extended_errcode(s->db);
	int code =
	    (ext & 0xff) == SQLITE_BUSY || (ext & 0xff) == SQLITE_LOCKED ? YB_UNAVAILABLE : YB_EDB;
	return status_fail(eb, code, "database %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

bool stmt_round_trips(const struct store *s)
{
	return s->pg != NULL;
}

int stmt_script(struct store *s, const char *sql, struct errbuf *eb)
{
	char *msg = NULL;

	if (s->pg != NULL)
		return store_pg_exec(s, sql, "run", eb);
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = status_fail(eb, YB_EDB, "database %s: %s", s->path,
		                     msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return rc;
	}
	return YB_OK;
}

static const char *const ctl_sql[STORE_CTL_COUNT] = {
    [CTL_BEGIN] = "BEGIN IMMEDIATE",       [CTL_COMMIT] = "COMMIT",
    [CTL_SAVEPOINT] = "SAVEPOINT call",    [CTL_RELEASE] = "RELEASE call",
    [CTL_SNAPSHOT] = "SAVEPOINT snapshot", [CTL_SNAPSHOT_END] = "RELEASE snapshot"};

/*
 * Runs one of the transaction statements on SQLite, as sqlite3_exec would
 * but prepared once per connection (a call runs four of them); a failure
 * is stmt_fail's, doing `what`.
 */
static int ctl_run(struct store *s, enum store_ctl which, const char *what, struct errbuf *eb)
{
	sqlite3_stmt **st = &s->ctl[which];
	int rc;

	assert(s->pg == NULL);
	if (*st == NULL && sqlite3_prepare_v3(s->db, ctl_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
	                                      st, NULL) != SQLITE_OK)
		return stmt_fail(s, eb, what);
	rc = sqlite3_step(*st);
	sqlite3_reset(*st);
	return rc == SQLITE_DONE ? YB_OK : stmt_fail(s, eb, what);
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

static int vbind(struct store *s, const struct store_sql *q, struct stmt **out, struct errbuf *eb,
                 const char *fmt, va_list ap)
{
	struct stmt *st = &s->stmts[q->slot];
	int rc;

	*out = NULL;
	assert(st->q == NULL || st->q == q); /* one slot, one statement */
	st->s = s;
	st->q = q;
	if (s->pg != NULL) {
		if ((rc = store_pg_bind(st, fmt, ap, eb)) != YB_OK)
			return rc;
		*out = st;
		return YB_OK;
	}
	if (st->lite == NULL && sqlite3_prepare_v3(s->db, q->sql, -1, SQLITE_PREPARE_PERSISTENT,
	                                           &st->lite, NULL) != SQLITE_OK) {
		stmt_fail(s, eb, "prepare");
		return YB_EDB;
	}
	sqlite3_reset(st->lite);
	sqlite3_clear_bindings(st->lite);
	if ((rc = bind_args(st->lite, fmt, ap)) != SQLITE_OK)
		return status_fail(eb, YB_EDB, "database %s: bind %s to %s: %s", s->path, fmt,
		                   q->sql, sqlite3_errstr(rc));
	*out = st;
	return YB_OK;
}

int stmt_bind(struct store *s, const struct store_sql *q, struct stmt **st, struct errbuf *eb,
              const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vbind(s, q, st, eb, fmt, ap);
	va_end(ap);
	return rc;
}

int stmt_step(struct store *s, struct stmt *st, const char *what, struct errbuf *eb)
{
	int rc;

	if (s->pg != NULL)
		return store_pg_step(st, what, eb);
	rc = sqlite3_step(st->lite);
	if (rc == SQLITE_ROW)
		return YB_OK;
	/* Reset before reading the error: SQLite's message stays, the read ends. */
	sqlite3_reset(st->lite);
	return rc == SQLITE_DONE ? YB_NOT_FOUND : stmt_fail(s, eb, what);
}

int stmt_row(struct store *s, const struct store_sql *q, struct stmt **st, const char *what,
             struct errbuf *eb, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vbind(s, q, st, eb, fmt, ap);
	va_end(ap);
	return rc != YB_OK ? rc : stmt_step(s, *st, what, eb);
}

int stmt_run(struct store *s, const struct store_sql *q, const char *what, struct errbuf *eb,
             const char *fmt, ...)
{
	struct stmt *st;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vbind(s, q, &st, eb, fmt, ap);
	va_end(ap);
	if (rc != YB_OK)
		return rc;
	rc = stmt_step(s, st, what, eb);
	return stmt_end(st, rc == YB_NOT_FOUND ? YB_OK : rc);
}

int stmt_end(struct stmt *st, int rc)
{
	if (st == NULL)
		return rc;
	if (st->s->pg != NULL)
		store_pg_reset(st);
	else
		sqlite3_reset(st->lite);
	return rc;
}

int stmt_scan_end(struct stmt *st, int rc, int stop)
{
	stmt_end(st, rc);
	if (stop != 0)
		return stop;
	return rc == YB_NOT_FOUND ? YB_OK : rc;
}

int64_t stmt_int64(struct stmt *st, int col)
{
	const char *v;

	if (st->s->pg == NULL)
		return sqlite3_column_int64(st->lite, col);
	v = store_pg_value(st, col);
	return v != NULL ? strtoll(v, NULL, 10) : 0;
}

int stmt_int(struct stmt *st, int col)
{
	return (int)stmt_int64(st, col);
}

const char *stmt_text(struct stmt *st, int col)
{
	if (st->s->pg == NULL)
		return (const char *)sqlite3_column_text(st->lite, col);
	return store_pg_value(st, col);
}

const void *stmt_blob(struct stmt *st, int col)
{
	size_t len;

	if (st->s->pg == NULL)
		return sqlite3_column_blob(st->lite, col);
	return store_pg_blob(st, col, &len);
}

size_t stmt_bytes(struct stmt *st, int col)
{
	size_t len = 0;

	if (st->s->pg == NULL)
		return (size_t)sqlite3_column_bytes(st->lite, col);
	store_pg_blob(st, col, &len);
	return len;
}

bool stmt_is_null(struct stmt *st, int col)
{
	if (st->s->pg == NULL)
		return sqlite3_column_type(st->lite, col) == SQLITE_NULL;
	return store_pg_value(st, col) == NULL;
}

char *stmt_text_dup(struct stmt *st, int col)
{
	const char *t = stmt_text(st, col);
	return strdup(t ? t : "");
}

int stmt_blob_dup(struct stmt *st, int col, uint8_t **data, size_t *len, struct errbuf *eb)
{
	const void *src = stmt_blob(st, col);
	size_t n = stmt_bytes(st, col);
	uint8_t *buf = malloc(n ? n : 1);

	if (buf == NULL)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	if (n > 0)
		memcpy(buf, src, n);
	*data = buf;
	*len = n;
	return YB_OK;
}

/* ---- opening and closing ------------------------------------------------------------------ */

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->pg != NULL)
		store_pg_close(s);
	for (int i = 0; i < SQ_COUNT; i++)
		sqlite3_finalize(s->stmts[i].lite);
	for (int i = 0; i < STORE_CTL_COUNT; i++)
		sqlite3_finalize(s->ctl[i]);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

/*
 * Around a migration (outside its transaction, where SQLite takes them):
 * foreign keys off and the legacy ALTER TABLE RENAME, which leaves other
 * tables' references alone (rebuild_v4); then back to normal.
 */
#define MIGRATION_PRAGMAS(fk, legacy)                                                              \
	"PRAGMA foreign_keys=" fk "; PRAGMA legacy_alter_table=" legacy ";"

int store_open(const char *path, struct store **out, struct errbuf *eb)
{
	struct store *s = calloc(1, sizeof(*s));
	int version = 0;
	int rc;

	if (s == NULL)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	if (store_pg_url(path)) {
		if ((rc = store_pg_open(path, s, STORE_SCHEMA_VERSION, eb)) != YB_OK)
			goto fail;
		*out = s;
		return YB_OK;
	}
	if ((s->path = strdup(path)) == NULL) {
		free(s);
		return status_fail(eb, YB_ENOMEM, "out of memory");
	}
	/*
	 * Created here, not by SQLite, which would follow the umask (often 0644):
	 * the daemon's user writes, its group (backups, admins) reads, others
	 * nothing. SQLite gives the -wal and -shm files the same mode.
	 */
	if ((rc = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) >= 0)
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
	if ((rc = store_schema_version(s, &version, eb)) != YB_OK)
		goto fail;
	if (version > STORE_SCHEMA_VERSION) {
		rc = status_fail(eb, YB_FAILED_PRECONDITION,
		                 "database %s has schema version %d, newer than this yuebaod "
		                 "(%d): upgrade yuebaod",
		                 path, version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (version < STORE_SCHEMA_VERSION) {
		/*
		 * The write lock makes concurrent first opens by the workers safe;
		 * the version is read again under it, as another may have migrated.
		 */
		if ((rc = stmt_script(s, MIGRATION_PRAGMAS("OFF", "ON") "BEGIN IMMEDIATE", eb)) !=
		    YB_OK)
			goto fail;
		if ((rc = store_schema_version(s, &version, eb)) != YB_OK ||
		    (version < STORE_SCHEMA_VERSION &&
		     (rc = store_schema_migrate(s, version, eb)) != YB_OK) ||
		    (rc = stmt_script(s, "COMMIT", eb)) != YB_OK) {
			stmt_script(s, "ROLLBACK", NULL);
			goto fail;
		}
		if ((rc = stmt_script(s, MIGRATION_PRAGMAS("ON", "OFF"), eb)) != YB_OK)
			goto fail;
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
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 >= *deadline;
}

bool store_is_postgres(const char *path)
{
	return store_pg_url(path);
}

void store_path_shown(const char *path, char *out, size_t len)
{
	store_pg_url_shown(path, out, len);
}

int store_backup(const char *path, const char *dest, long *pages, struct errbuf *eb)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *bk = NULL;
	char tmp[4096];
	bool complete = false;
	int fd, rc = YB_OK;

	*pages = 0;
	if (store_pg_url(path)) {
		store_pg_url_shown(path, tmp, sizeof(tmp));
		return status_fail(eb, YB_FAILED_PRECONDITION,
		                   "database %s is PostgreSQL: back it up with pg_dump, or keep a "
		                   "standby (pg_basebackup)",
		                   tmp);
	}
	if (access(dest, F_OK) == 0)
		return status_fail(eb, YB_ALREADY_EXISTS, "%s already exists: give a new file",
		                   dest);
	if (access(path, R_OK) != 0)
		return status_fail(eb, YB_EIO, "cannot read database %s: %s", path,
		                   strerror(errno));
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.partial", dest) >= sizeof(tmp))
		return status_fail(eb, YB_EIO, "%s: name too long", dest);
	/* Owner and group, as store_open creates the database itself. */
	if ((fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) < 0)
		return status_fail(eb, YB_EIO, "cannot create %s: %s", tmp, strerror(errno));
	close(fd);
	if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		rc = status_fail(eb, YB_EDB, "cannot open %s: %s", src ? tmp : path,
		                 sqlite3_errmsg(dst ? dst : src));
		goto done;
	}
	/* The daemon may hold the write lock for a batch: wait for it as it waits. */
	sqlite3_busy_timeout(src, 10000);
	/*
	 * All pages in one step, so in one read transaction: a snapshot of the
	 * WAL database as of its start, which the daemon's writers do not
	 * block or change. Stepping in parts would restart at every write.
	 */
	if ((bk = sqlite3_backup_init(dst, "main", src, "main")) == NULL) {
		rc = status_fail(eb, YB_EDB, "cannot back up %s: %s", path, sqlite3_errmsg(dst));
		goto done;
	}
	if (sqlite3_backup_step(bk, -1) != SQLITE_DONE) {
		rc = status_fail(eb, YB_EDB, "backing up %s failed: %s", path, sqlite3_errmsg(dst));
		goto done;
	}
	*pages = sqlite3_backup_pagecount(bk);
	sqlite3_backup_finish(bk);
	bk = NULL;
	/*
	 * One self-contained file: no -wal or -shm beside it when it is checked
	 * and renamed. yuebaod turns WAL on again when it opens a restored copy.
	 */
	if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_close(dst) != SQLITE_OK) {
		rc = status_fail(eb, YB_EIO, "cannot finish %s: %s", tmp, sqlite3_errmsg(dst));
		goto done;
	}
	dst = NULL;
	if ((rc = store_quick_check(tmp, 600000, &complete, eb)) != YB_OK)
		goto done;
	if (rename(tmp, dest) != 0)
		rc = status_fail(eb, YB_EIO, "cannot rename %s to %s: %s", tmp, dest,
		                 strerror(errno));
done:
	if (bk != NULL)
		sqlite3_backup_finish(bk);
	sqlite3_close(dst);
	sqlite3_close(src);
	if (rc != YB_OK)
		unlink(tmp);
	return rc;
}

int store_quick_check(const char *path, int max_ms, bool *complete, struct errbuf *eb)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct timespec ts;
	int64_t deadline;
	int rc = YB_OK, step;

	*complete = false;
	if (store_pg_url(path))
		return YB_OK;
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

int store_begin(struct store *s, struct errbuf *eb)
{
	return s->pg != NULL ? store_pg_begin(s, eb) : ctl_run(s, CTL_BEGIN, "begin", eb);
}

int store_commit(struct store *s, struct errbuf *eb)
{
	int rc = s->pg != NULL ? store_pg_commit(s, eb) : ctl_run(s, CTL_COMMIT, "commit", eb);

	if (rc != YB_OK)
		store_rollback(s);
	return rc;
}

void store_rollback(struct store *s)
{
	if (s->pg != NULL) {
		store_pg_rollback(s);
		return;
	}
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_savepoint(struct store *s, struct errbuf *eb)
{
	if (s->pg != NULL)
		return store_pg_exec(s, "SAVEPOINT call", "savepoint", eb);
	return ctl_run(s, CTL_SAVEPOINT, "savepoint", eb);
}

int store_release(struct store *s, struct errbuf *eb)
{
	if (s->pg != NULL)
		return store_pg_exec(s, "RELEASE call", "release savepoint", eb);
	return ctl_run(s, CTL_RELEASE, "release savepoint", eb);
}

void store_rollback_savepoint(struct store *s)
{
	if (s->pg != NULL) {
		if (store_pg_in_transaction(s))
			store_pg_exec(s, "ROLLBACK TO call; RELEASE call", "roll back a call",
			              NULL);
		return;
	}
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK TO call; RELEASE call", NULL, NULL, NULL);
}

bool store_in_transaction(const struct store *s)
{
	if (s->pg != NULL)
		return store_pg_in_transaction(s);
	return !sqlite3_get_autocommit(s->db);
}

int store_snapshot_begin(struct store *s, struct errbuf *eb)
{
	return s->pg != NULL ? store_pg_snapshot_begin(s, eb)
	                     : ctl_run(s, CTL_SNAPSHOT, "begin a read", eb);
}

void store_snapshot_end(struct store *s)
{
	if (s->pg != NULL) {
		store_pg_snapshot_end(s);
		return;
	}
	ctl_run(s, CTL_SNAPSHOT_END, "end a read", NULL);
}

/* ---- call-id records and loads ----------------------------------------------------------- */

static const struct store_sql q_call_find = {
    SQ_CALL_FIND, "SELECT reply, request_digest FROM calls WHERE fingerprint = ?1 AND call_id = ?2",
    NULL};

int store_call_find(struct store *s, const char *fingerprint, const char *call_id, char digest[65],
                    uint8_t **reply, size_t *len, struct errbuf *eb)
{
	struct stmt *st;
	int rc;

	if ((rc = stmt_bind(s, &q_call_find, &st, eb, "tt", fingerprint, call_id)) != YB_OK ||
	    (rc = stmt_step(s, st, "find call", eb)) != YB_OK)
		return rc;
	if ((rc = stmt_blob_dup(st, 0, reply, len, eb)) == YB_OK)
		snprintf(digest, 65, "%s", stmt_text(st, 1) ? stmt_text(st, 1) : "");
	return stmt_end(st, rc);
}

static const struct store_sql q_call_save = {
    SQ_CALL_SAVE,
    "INSERT INTO calls(fingerprint, call_id, request_digest, at_ms, reply)"
    " VALUES (?1, ?2, ?3, ?4, ?5)",
    NULL};

int store_call_save(struct store *s, const char *fingerprint, const char *call_id,
                    const char *digest, int64_t at_ms, const uint8_t *reply, size_t len,
                    struct errbuf *eb)
{
	return stmt_run(s, &q_call_save, "save call", eb, "tttIb", fingerprint, call_id, digest,
	                at_ms, reply, len);
}

static const struct store_sql q_call_prune = {SQ_CALL_PRUNE, "DELETE FROM calls WHERE at_ms < ?1",
                                              NULL};

int store_call_prune(struct store *s, int64_t before_ms, struct errbuf *eb)
{
	return stmt_run(s, &q_call_prune, "prune calls", eb, "I", before_ms);
}

static const struct store_sql q_load = {
    SQ_LOAD, "INSERT INTO loads(kind, at_ms, digest, source, content) VALUES (?1, ?2, ?3, ?4, ?5)",
    NULL};

int store_record_load(struct store *s, const char *kind, int64_t at_ms, const char *digest,
                      const char *source, const char *content, size_t len, struct errbuf *eb)
{
	return stmt_run(s, &q_load, "record load", eb, "tIttb", kind, at_ms, digest, source,
	                content, len);
}

/* ---- the daemons serving this database ------------------------------------------------- */

static const struct store_sql q_daemon_note = {
    SQ_DAEMON_NOTE,
    "INSERT INTO daemons(id, host, pid, listen, started_at_ms, seen_at_ms, orgs_digest,"
    " catalog_digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    " ON CONFLICT (id) DO UPDATE SET listen = excluded.listen,"
    " seen_at_ms = excluded.seen_at_ms, orgs_digest = excluded.orgs_digest,"
    " catalog_digest = excluded.catalog_digest",
    NULL};
static const struct store_sql q_daemon_prune = {SQ_DAEMON_PRUNE,
                                                "DELETE FROM daemons WHERE seen_at_ms < ?1", NULL};

int store_daemon_note(struct store *s, const struct store_daemon *d, int64_t forget_before_ms,
                      struct errbuf *eb)
{
	int rc;

	if ((rc = stmt_run(s, &q_daemon_prune, "forget daemons", eb, "I", forget_before_ms)) !=
	    YB_OK)
		return rc;
	return stmt_run(s, &q_daemon_note, "note daemon", eb, "ttItIItt", d->id, d->host, d->pid,
	                d->listen, d->started_at_ms, d->seen_at_ms, d->orgs_digest,
	                d->catalog_digest);
}

static const struct store_sql q_daemon_list = {
    SQ_DAEMON_LIST,
    "SELECT id, host, pid, listen, started_at_ms, seen_at_ms, orgs_digest, catalog_digest"
    " FROM daemons ORDER BY started_at_ms, id LIMIT ?1",
    NULL};

int store_daemon_list(struct store *s, struct store_daemon *out, size_t max, size_t *n,
                      struct errbuf *eb)
{
	struct stmt *st;
	int rc;

	*n = 0;
	if ((rc = stmt_bind(s, &q_daemon_list, &st, eb, "I", (int64_t)max)) != YB_OK)
		return rc;
	while (*n < max && (rc = stmt_step(s, st, "list daemons", eb)) == YB_OK) {
		struct store_daemon *d = &out[(*n)++];
		const char *id = stmt_text(st, 0), *host = stmt_text(st, 1),
		           *listen = stmt_text(st, 3), *orgs = stmt_text(st, 6),
		           *cat = stmt_text(st, 7);
		snprintf(d->id, sizeof(d->id), "%s", id ? id : "");
		snprintf(d->host, sizeof(d->host), "%s", host ? host : "");
		d->pid = stmt_int64(st, 2);
		snprintf(d->listen, sizeof(d->listen), "%s", listen ? listen : "");
		d->started_at_ms = stmt_int64(st, 4);
		d->seen_at_ms = stmt_int64(st, 5);
		snprintf(d->orgs_digest, sizeof(d->orgs_digest), "%s", orgs ? orgs : "");
		snprintf(d->catalog_digest, sizeof(d->catalog_digest), "%s", cat ? cat : "");
	}
	return stmt_scan_end(st, rc, 0);
}

static const struct store_sql q_daemon_forget = {SQ_DAEMON_FORGET,
                                                 "DELETE FROM daemons WHERE id = ?1", NULL};

int store_daemon_forget(struct store *s, const char *id, struct errbuf *eb)
{
	return stmt_run(s, &q_daemon_forget, "forget daemon", eb, "t", id);
}
