/*
 * store_rollup.c - the tables of the consolidation pre-aggregates, which
 * only rollup.c reads and writes (store_rollup.h), and their schema: the
 * tables and the triggers by which SQLite itself notes every change to the
 * revisions in rollup_pending. store_open creates them with the rest of
 * the schema (store_rollup_schema, store_impl.h).
 */
#include "store_rollup.h"

#include "store_impl.h"

#include <stdio.h>

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

/*
 * The same in PostgreSQL: one trigger function notes the return of a
 * revision inserted, deleted or whose state changed.
 */
static const char rollup_schema_pg[] =
    "CREATE TABLE IF NOT EXISTS rollup_meta("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  basis TEXT NOT NULL,"
    "  n_elements BIGINT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS rollup_elements("
    "  code TEXT COLLATE \"C\" PRIMARY KEY,"
    "  idx INTEGER NOT NULL,"
    "  last INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS rollup_units("
    "  code TEXT COLLATE \"C\" PRIMARY KEY,"
    "  leaf INTEGER NOT NULL,"
    "  parent TEXT COLLATE \"C\" NOT NULL);"
    "CREATE TABLE IF NOT EXISTS rollup_effective("
    "  mode INTEGER NOT NULL,"
    "  org TEXT COLLATE \"C\" NOT NULL,"
    "  month INTEGER NOT NULL,"
    "  revision BIGINT NOT NULL,"
    "  PRIMARY KEY (mode, org, month));"
    "CREATE TABLE IF NOT EXISTS rollup_buckets("
    "  mode INTEGER NOT NULL,"
    "  node TEXT COLLATE \"C\" NOT NULL,"
    "  month INTEGER NOT NULL,"
    "  next INTEGER NOT NULL,"
    "  data BYTEA NOT NULL,"
    "  PRIMARY KEY (mode, node, month, next));"
    "CREATE TABLE IF NOT EXISTS rollup_pending("
    "  org TEXT COLLATE \"C\" NOT NULL,"
    "  month INTEGER NOT NULL,"
    "  PRIMARY KEY (org, month));"
    "CREATE OR REPLACE FUNCTION rollup_note() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    "  IF TG_OP = 'DELETE' THEN"
    "    INSERT INTO rollup_pending(org, month) VALUES (OLD.org, OLD.month) ON CONFLICT DO NOTHING;"
    "    RETURN OLD;"
    "  END IF;"
    "  INSERT INTO rollup_pending(org, month) VALUES (NEW.org, NEW.month) ON CONFLICT DO NOTHING;"
    "  RETURN NEW;"
    " END $$;"
    "CREATE OR REPLACE TRIGGER rollup_revision_added AFTER INSERT ON revisions"
    "  FOR EACH ROW EXECUTE FUNCTION rollup_note();"
    "CREATE OR REPLACE TRIGGER rollup_state_changed AFTER UPDATE OF state ON revisions"
    "  FOR EACH ROW EXECUTE FUNCTION rollup_note();"
    "CREATE OR REPLACE TRIGGER rollup_revision_removed AFTER DELETE ON revisions"
    "  FOR EACH ROW EXECUTE FUNCTION rollup_note();";

int store_rollup_schema(struct store *s, struct errbuf *eb)
{
	return stmt_script(s, s->pg != NULL ? rollup_schema_pg : rollup_schema_sql, eb);
}

/* ---- what the pre-aggregates were built for ------------------------------------------------ */

static const struct store_sql q_state = {
    SQ_RU_STATE,
    "SELECT (SELECT basis FROM rollup_meta), (SELECT n_elements FROM rollup_meta),"
    " EXISTS (SELECT 1 FROM rollup_pending)",
    "SELECT (SELECT basis FROM rollup_meta), (SELECT n_elements FROM rollup_meta),"
    " CASE WHEN EXISTS (SELECT 1 FROM rollup_pending) THEN 1 ELSE 0 END"};

int store_rollup_state(struct store *s, char basis[65], size_t *n_elements, bool *pending,
                       struct errbuf *eb)
{
	struct stmt *st;
	int rc;

	basis[0] = '\0';
	*n_elements = 0;
	*pending = false;
	/* Scalar subqueries: always one row. */
	if ((rc = stmt_row(s, &q_state, &st, "read pre-aggregate state", eb, "")) == YB_OK) {
		const char *b = stmt_text(st, 0);
		snprintf(basis, 65, "%s", b ? (const char *)b : "");
		*n_elements = (size_t)stmt_int64(st, 1);
		*pending = stmt_int(st, 2) != 0;
	}
	return stmt_end(st, rc);
}

static const struct store_sql q_set_meta = {
    SQ_RU_SET_META, "INSERT OR REPLACE INTO rollup_meta(id, basis, n_elements) VALUES (1, ?1, ?2)",
    "INSERT INTO rollup_meta(id, basis, n_elements) VALUES (1, $1, $2) ON CONFLICT (id) DO"
    " UPDATE SET basis = excluded.basis, n_elements = excluded.n_elements"};

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
    SQ_RU_ADD_ELEMENT, "INSERT INTO rollup_elements(code, idx, last) VALUES (?1, ?2, ?3)", NULL};

int store_rollup_add_element(struct store *s, int idx, const char *code, bool last,
                             struct errbuf *eb)
{
	return stmt_run(s, &q_add_element, "write pre-aggregate element", eb, "tii", code, idx,
	                (int)last);
}

static const struct store_sql q_elements = {SQ_RU_ELEMENTS,
                                            "SELECT idx, code, last FROM rollup_elements", NULL};

int store_rollup_elements(struct store *s, store_rollup_element_fn fn, void *ctx, struct errbuf *eb)
{
	struct stmt *st;
	int rc, stop = 0;

	if ((rc = stmt_bind(s, &q_elements, &st, eb, "")) != YB_OK)
		return rc;
	while (stop == 0 && (rc = stmt_step(s, st, "read pre-aggregate elements", eb)) == YB_OK) {
		const char *code = stmt_text(st, 1);
		if (code != NULL)
			stop = fn(ctx, stmt_int(st, 0), code, stmt_int(st, 2) != 0);
	}
	return stmt_scan_end(st, rc, stop);
}

static const struct store_sql q_add_unit = {
    SQ_RU_ADD_UNIT, "INSERT INTO rollup_units(code, leaf, parent) VALUES (?1, ?2, ?3)", NULL};

int store_rollup_add_unit(struct store *s, const char *code, bool leaf, const char *parent,
                          struct errbuf *eb)
{
	return stmt_run(s, &q_add_unit, "write pre-aggregate unit", eb, "tit", code, (int)leaf,
	                parent);
}

static const struct store_sql q_unit = {
    SQ_RU_UNIT, "SELECT leaf, parent FROM rollup_units WHERE code = ?1", NULL};

int store_rollup_unit(struct store *s, const char *code, bool *leaf, char **parent,
                      struct errbuf *eb)
{
	struct stmt *st;
	int rc;

	*parent = NULL;
	if ((rc = stmt_row(s, &q_unit, &st, "read pre-aggregate unit", eb, "t", code)) != YB_OK)
		return rc;
	*leaf = stmt_int(st, 0) != 0;
	if ((*parent = stmt_text_dup(st, 1)) == NULL)
		rc = status_fail(eb, YB_ENOMEM, "out of memory");
	return stmt_end(st, rc);
}

/* ---- effective revisions ------------------------------------------------------------------- */

static const struct store_sql q_eff_now = {
    SQ_RU_EFF_NOW,
    "SELECT (SELECT max(revision) FROM revisions WHERE org = ?1 AND month = ?2 AND"
    " state <> 'rejected'), (SELECT max(revision) FROM revisions WHERE org = ?1 AND"
    " month = ?2 AND state = 'accepted')",
    NULL};

int store_rollup_effective_now(struct store *s, const char *org, int month, uint32_t rev[2],
                               struct errbuf *eb)
{
	struct stmt *st;
	int rc;

	rev[0] = rev[1] = 0;
	/* Scalar subqueries: always one row. */
	if ((rc = stmt_row(s, &q_eff_now, &st, "find effective revision", eb, "ti", org, month)) ==
	    YB_OK) {
		rev[0] = (uint32_t)stmt_int64(st, 0); /* NULL reads as 0: none */
		rev[1] = (uint32_t)stmt_int64(st, 1);
	}
	return stmt_end(st, rc);
}

static const struct store_sql q_eff_get = {
    SQ_RU_EFF_GET,
    "SELECT revision FROM rollup_effective WHERE mode = ?1 AND org = ?2 AND month = ?3", NULL};

int store_rollup_effective_get(struct store *s, int mode, const char *org, int month,
                               uint32_t *revision, struct errbuf *eb)
{
	struct stmt *st;
	int rc;

	*revision = 0;
	if ((rc = stmt_row(s, &q_eff_get, &st, "read effective revision", eb, "iti", mode, org,
	                   month)) == YB_OK)
		*revision = (uint32_t)stmt_int64(st, 0);
	/* None recorded: 0. */
	return stmt_end(st, rc == YB_NOT_FOUND ? YB_OK : rc);
}

static const struct store_sql q_eff_set = {
    SQ_RU_EFF_SET,
    "INSERT OR REPLACE INTO rollup_effective(mode, org, month, revision) VALUES (?1, ?2, ?3, ?4)",
    "INSERT INTO rollup_effective(mode, org, month, revision) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (mode, org, month) DO UPDATE SET revision = excluded.revision"};
static const struct store_sql q_eff_del = {
    SQ_RU_EFF_DEL, "DELETE FROM rollup_effective WHERE mode = ?1 AND org = ?2 AND month = ?3",
    NULL};

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
    SQ_RU_MONTHS,
    "SELECT month, revision FROM rollup_effective WHERE mode = ?1 AND org = ?2"
    " ORDER BY month",
    NULL};

int store_rollup_months(struct store *s, int mode, const char *org, store_rollup_month_fn fn,
                        void *ctx, struct errbuf *eb)
{
	struct stmt *st;
	int rc, stop = 0;

	if ((rc = stmt_bind(s, &q_months, &st, eb, "it", mode, org)) != YB_OK)
		return rc;
	while (stop == 0 && (rc = stmt_step(s, st, "read effective revisions", eb)) == YB_OK)
		stop = fn(ctx, stmt_int(st, 0), (uint32_t)stmt_int64(st, 1));
	return stmt_scan_end(st, rc, stop);
}

/* The nearest other month of (mode, org) whose effective revision has a value for ?4. */
static const struct store_sql q_prev = {
    SQ_RU_PREV,
    "SELECT f.month, v.value FROM rollup_effective f JOIN revision_values v ON"
    " v.org = f.org AND v.month = f.month AND v.revision = f.revision AND"
    " v.code = ?4 WHERE f.mode = ?1 AND f.org = ?2 AND f.month < ?3"
    " ORDER BY f.month DESC LIMIT 1",
    NULL};
static const struct store_sql q_next = {
    SQ_RU_NEXT,
    "SELECT f.month, v.value FROM rollup_effective f JOIN revision_values v ON"
    " v.org = f.org AND v.month = f.month AND v.revision = f.revision AND"
    " v.code = ?4 WHERE f.mode = ?1 AND f.org = ?2 AND f.month > ?3"
    " ORDER BY f.month LIMIT 1",
    NULL};

int store_rollup_neighbour(struct store *s, int mode, const char *org, int month, const char *code,
                           bool after, int *found_month, int64_t *value, struct errbuf *eb)
{
	struct stmt *st;
	int rc;

	if ((rc = stmt_row(s, after ? &q_next : &q_prev, &st, "find neighbouring value", eb, "itit",
	                   mode, org, month, code)) == YB_OK) {
		*found_month = stmt_int(st, 0);
		*value = stmt_int64(st, 1);
	}
	return stmt_end(st, rc);
}

/* ---- buckets ------------------------------------------------------------------------------- */

/* A bucket's key, ?1 to ?4, as get and delete name it. */
#define BUCKET_KEY " WHERE mode = ?1 AND node = ?2 AND month = ?3 AND next = ?4"

static const struct store_sql q_bucket_get = {SQ_RU_BUCKET_GET,
                                              "SELECT data FROM rollup_buckets" BUCKET_KEY, NULL};

int store_rollup_bucket_get(struct store *s, int mode, const char *node, int month, int next,
                            uint8_t **data, size_t *len, struct errbuf *eb)
{
	struct stmt *st;
	int rc;

	*data = NULL;
	*len = 0;
	if ((rc = stmt_row(s, &q_bucket_get, &st, "read pre-aggregate", eb, "itii", mode, node,
	                   month, next)) != YB_OK)
		return rc;
	return stmt_end(st, stmt_blob_dup(st, 0, data, len, eb));
}

static const struct store_sql q_bucket_put = {
    SQ_RU_BUCKET_PUT,
    "INSERT OR REPLACE INTO rollup_buckets(mode, node, month, next, data)"
    " VALUES (?1, ?2, ?3, ?4, ?5)",
    "INSERT INTO rollup_buckets(mode, node, month, next, data) VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT (mode, node, month, next) DO UPDATE SET data = excluded.data"};
static const struct store_sql q_bucket_del = {SQ_RU_BUCKET_DEL,
                                              "DELETE FROM rollup_buckets" BUCKET_KEY, NULL};

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
    SQ_RU_BUCKETS,
    "SELECT month, next, data FROM rollup_buckets WHERE mode = ?1 AND"
    " node = ?2 AND month BETWEEN ?3 AND ?4 AND (next = 0 OR next > ?5)",
    NULL};

int store_rollup_buckets(struct store *s, int mode, const char *node, int first, int last,
                         int after, store_rollup_bucket_fn fn, void *ctx, struct errbuf *eb)
{
	struct stmt *st;
	int rc, stop = 0;

	if ((rc = stmt_bind(s, &q_buckets, &st, eb, "itiii", mode, node, first, last, after)) !=
	    YB_OK)
		return rc;
	while (stop == 0 && (rc = stmt_step(s, st, "read pre-aggregates", eb)) == YB_OK)
		stop = fn(ctx, stmt_int(st, 0), stmt_int(st, 1), stmt_blob(st, 2),
		          (size_t)stmt_bytes(st, 2));
	return stmt_scan_end(st, rc, stop);
}

/* ---- changes waiting ----------------------------------------------------------------------- */

static const struct store_sql q_pending = {SQ_RU_PENDING,
                                           "SELECT org, month FROM rollup_pending LIMIT 1", NULL};

int store_rollup_pending(struct store *s, char **org, int *month, struct errbuf *eb)
{
	struct stmt *st;
	int rc;

	*org = NULL;
	if ((rc = stmt_row(s, &q_pending, &st, "read pending changes", eb, "")) != YB_OK)
		return rc;
	*month = stmt_int(st, 1);
	if ((*org = stmt_text_dup(st, 0)) == NULL)
		rc = status_fail(eb, YB_ENOMEM, "out of memory");
	return stmt_end(st, rc);
}

static const struct store_sql q_pending_del = {
    SQ_RU_PENDING_DEL, "DELETE FROM rollup_pending WHERE org = ?1 AND month = ?2", NULL};

int store_rollup_pending_done(struct store *s, const char *org, int month, struct errbuf *eb)
{
	return stmt_run(s, &q_pending_del, "clear pending change", eb, "ti", org, month);
}
