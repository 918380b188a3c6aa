/*
 * store_audit.c - the audit log's rows: its entries and their leaf hashes,
 * the tree's frontier, the signed checkpoints, and the scans the audit
 * methods make over them; and the export, for an offline audit, of the
 * revisions, reviews and closures the log commits to (store_audit.h).
 */
#include "store_audit.h"

#include "store_impl.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "i18n.h"

/* ---- entries ------------------------------------------------------------------------------- */

static const struct store_sql q_audit_size = {SQ_AUDIT_SIZE,
                                              "SELECT coalesce(max(seq), 0) FROM audit_log", NULL};

int store_audit_size(struct store *s, uint64_t *size, struct errbuf *eb)
{
	struct stmt *st;
	int rc;

	/* An aggregate: always one row. */
	if ((rc = stmt_row(s, &q_audit_size, &st, "audit size", eb, "")) == YB_OK)
		*size = (uint64_t)stmt_int64(st, 0);
	return stmt_end(st, rc);
}

static const struct store_sql q_audit_add = {
    SQ_AUDIT_ADD,
    "INSERT INTO audit_log(seq, at_ms, action, object, org, month, month_last,"
    " entry, leaf) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    NULL};

int store_audit_add(struct store *s, const struct store_audit_row *r, struct errbuf *eb)
{
	return stmt_run(s, &q_audit_add, "append audit entry", eb, "IItttiibb", (int64_t)r->seq,
	                r->at_ms, r->action, r->object, r->org, r->month,
	                r->month_last != 0 ? r->month_last : r->month, r->entry, r->entry_len,
	                r->leaf, (size_t)32);
}

static const struct store_sql q_audit_leaves = {
    SQ_AUDIT_LEAVES, "SELECT seq, leaf FROM audit_log WHERE seq <= ?1 ORDER BY seq", NULL};

int store_audit_leaves(struct store *s, uint64_t n, uint8_t (**leaves)[32], struct errbuf *eb)
{
	uint8_t(*out)[32];
	uint64_t got = 0;
	struct stmt *st;
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
		if ((uint64_t)stmt_int64(st, 0) != got + 1 || stmt_bytes(st, 1) != 32)
			break;
		memcpy(out[got++], stmt_blob(st, 1), 32);
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
    " month <= ?5 AND month_last >= ?4 ORDER BY seq LIMIT ?6",
    "SELECT seq, at_ms, action, object, org, month, entry, leaf,"
    " CASE WHEN action LIKE 'review:%' THEN (SELECT r.comment FROM reviews r"
    "   WHERE r.org = a.org AND r.month = a.month AND 'review:' || r.action = a.action"
    "   AND r.at_ms = a.at_ms AND a.object LIKE ('%/r' || r.revision) ORDER BY r.id LIMIT 1)"
    " WHEN action IN ('close', 'reopen') THEN (SELECT c.comment FROM closures c"
    "   WHERE c.org = a.org AND c.at_ms = a.at_ms AND"
    "   c.closed = CASE WHEN a.action = 'close' THEN 1 ELSE 0 END"
    "   ORDER BY c.id LIMIT 1) END"
    " FROM audit_log a WHERE seq >= $1 AND at_ms >= $2 AND"
    " ($3::text IS NULL OR org IN (SELECT jsonb_array_elements_text($3::jsonb))) AND"
    " month <= $5 AND month_last >= $4 ORDER BY seq LIMIT $6"};

int store_audit_scan(struct store *s, uint64_t from_seq, int64_t since_ms, const char *orgs_json,
                     int first, int last, uint32_t limit, store_audit_fn fn, void *ctx,
                     struct errbuf *eb)
{
	struct stmt *st;
	int rc, stop = 0;

	if ((rc = stmt_bind(s, &q_audit_scan, &st, eb, "IItiiu", (int64_t)from_seq, since_ms,
	                    orgs_json, first, last, limit)) != YB_OK)
		return rc;
	while (stop == 0 && (rc = stmt_step(s, st, "scan audit log", eb)) == YB_OK) {
		struct store_audit_row r;
		r.seq = (uint64_t)stmt_int64(st, 0);
		r.at_ms = stmt_int64(st, 1);
		r.action = stmt_text(st, 2);
		r.object = stmt_text(st, 3);
		r.org = stmt_text(st, 4);
		r.month = stmt_int(st, 5);
		r.entry = stmt_blob(st, 6);
		r.entry_len = (size_t)stmt_bytes(st, 6);
		r.leaf = stmt_blob(st, 7);
		r.comment = stmt_text(st, 8);
		if (r.action == NULL || r.object == NULL || r.org == NULL ||
		    stmt_bytes(st, 7) != 32)
			continue;
		stop = fn(ctx, &r);
	}
	return stmt_scan_end(st, rc, stop);
}

static const struct store_sql q_audit_of = {
    SQ_AUDIT_OF,
    "SELECT seq FROM audit_log WHERE org = ?1 AND month = ?2 AND object = ?3"
    " AND action = 'submit' ORDER BY seq LIMIT 1",
    NULL};

int store_audit_index_of(struct store *s, struct return_key key, const char *object,
                         uint64_t *index, struct errbuf *eb)
{
	struct stmt *st;
	int rc;

	if ((rc = stmt_row(s, &q_audit_of, &st, "find audit entry", eb, "tit", key.org, key.month,
	                   object)) == YB_OK)
		*index = (uint64_t)stmt_int64(st, 0) - 1;
	return stmt_end(st, rc);
}

/* ---- the frontier -------------------------------------------------------------------------- */

static const struct store_sql q_frontier_get = {SQ_FRONTIER_GET,
                                                "SELECT level, hash FROM audit_frontier", NULL};

int store_frontier_get(struct store *s, uint8_t hashes[64][32], uint64_t *present,
                       struct errbuf *eb)
{
	struct stmt *st;
	int rc;

	*present = 0;
	if ((rc = stmt_bind(s, &q_frontier_get, &st, eb, "")) != YB_OK)
		return rc;
	while ((rc = stmt_step(s, st, "read audit frontier", eb)) == YB_OK) {
		int level = stmt_int(st, 0);
		if (level < 0 || level >= 64 || stmt_bytes(st, 1) != 32)
			continue; /* not ours: the check against the size will fail loudly */
		memcpy(hashes[level], stmt_blob(st, 1), 32);
		*present |= (uint64_t)1 << level;
	}
	return stmt_scan_end(st, rc, 0);
}

static const struct store_sql q_frontier_set = {
    SQ_FRONTIER_SET, "INSERT OR REPLACE INTO audit_frontier(level, hash) VALUES (?1, ?2)",
    "INSERT INTO audit_frontier(level, hash) VALUES ($1, $2)"
    " ON CONFLICT (level) DO UPDATE SET hash = excluded.hash"};
static const struct store_sql q_frontier_del = {
    SQ_FRONTIER_DEL, "DELETE FROM audit_frontier WHERE level = ?1", NULL};

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
    "INSERT INTO checkpoints(size, root, at_ms, signature) VALUES (?1, ?2, ?3, ?4)", NULL};

int store_checkpoint_add(struct store *s, const struct checkpoint *c, struct errbuf *eb)
{
	return stmt_run(s, &q_checkpoint_add, "store checkpoint", eb, "IbIb", (int64_t)c->size,
	                c->root, (size_t)32, c->at_ms, c->sig, c->sig_len);
}

/* The checkpoint in the current row (size, root, at_ms, signature). */
static void read_checkpoint(struct stmt *st, struct checkpoint *c)
{
	size_t n = (size_t)stmt_bytes(st, 3);

	memset(c, 0, sizeof(*c));
	c->size = (uint64_t)stmt_int64(st, 0);
	if (stmt_bytes(st, 1) == 32)
		memcpy(c->root, stmt_blob(st, 1), 32);
	c->at_ms = stmt_int64(st, 2);
	c->sig_len = n <= sizeof(c->sig) ? n : 0;
	if (c->sig_len > 0)
		memcpy(c->sig, stmt_blob(st, 3), c->sig_len);
}

static const struct store_sql q_checkpoint_get = {
    SQ_CHECKPOINT_GET,
    "SELECT size, root, at_ms, signature FROM checkpoints"
    " WHERE size = ?1 OR (?1 = 0 AND size = (SELECT max(size) FROM checkpoints))",
    NULL};

int store_checkpoint_get(struct store *s, uint64_t size, struct checkpoint *c, struct errbuf *eb)
{
	struct stmt *st;
	int rc;

	if ((rc = stmt_row(s, &q_checkpoint_get, &st, "read checkpoint", eb, "I", (int64_t)size)) ==
	    YB_OK)
		read_checkpoint(st, c);
	return stmt_end(st, rc);
}

static const struct store_sql q_checkpoints = {
    SQ_CHECKPOINTS,
    "SELECT size, root, at_ms, signature FROM checkpoints WHERE size >= ?1"
    " ORDER BY size LIMIT ?2",
    NULL};

int store_scan_checkpoints(struct store *s, uint64_t from_size, uint32_t limit,
                           store_checkpoint_fn fn, void *ctx, struct errbuf *eb)
{
	struct stmt *st;
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

/* ---- cosignatures ------------------------------------------------------------------------- */

static const struct store_sql q_cosign_add = {
    SQ_COSIGN_ADD,
    "INSERT INTO cosignatures(size, fingerprint, cert, signature, at_ms)"
    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
    NULL};

int store_cosign_add(struct store *s, const struct store_cosign *w, struct errbuf *eb)
{
	return stmt_run(s, &q_cosign_add, "store cosignature", eb, "ItbbI", (int64_t)w->size,
	                w->fingerprint, w->cert, w->cert_len, w->sig, w->sig_len, w->at_ms);
}

static const struct store_sql q_cosign_count = {
    SQ_COSIGN_COUNT, "SELECT count(*) FROM cosignatures WHERE size = ?1", NULL};

int store_cosign_count(struct store *s, uint64_t size, uint32_t *n, struct errbuf *eb)
{
	struct stmt *st;
	int rc;

	*n = 0;
	if ((rc = stmt_row(s, &q_cosign_count, &st, "count cosignatures", eb, "I",
	                   (int64_t)size)) == YB_OK)
		*n = (uint32_t)stmt_int64(st, 0);
	return stmt_end(st, rc == YB_NOT_FOUND ? YB_OK : rc);
}

static const struct store_sql q_cosigns_latest = {
    SQ_COSIGNS_LATEST,
    "SELECT size, fingerprint, cert, signature, at_ms FROM cosignatures"
    " WHERE size = (SELECT max(size) FROM cosignatures) ORDER BY at_ms, fingerprint LIMIT ?1",
    NULL};

int store_cosigns_latest(struct store *s, uint32_t limit, store_cosign_fn fn, void *ctx,
                         struct errbuf *eb)
{
	struct stmt *st;
	int rc, stop = 0;

	if ((rc = stmt_bind(s, &q_cosigns_latest, &st, eb, "u", limit)) != YB_OK)
		return rc;
	while (stop == 0 && (rc = stmt_step(s, st, "read cosignatures", eb)) == YB_OK) {
		struct store_cosign w = {.size = (uint64_t)stmt_int64(st, 0),
		                         .fingerprint = stmt_text(st, 1),
		                         .cert = stmt_blob(st, 2),
		                         .cert_len = stmt_bytes(st, 2),
		                         .sig = stmt_blob(st, 3),
		                         .sig_len = stmt_bytes(st, 3),
		                         .at_ms = stmt_int64(st, 4)};
		stop = fn(ctx, &w);
	}
	return stmt_scan_end(st, rc, stop);
}

/* ---- exports ------------------------------------------------------------------------------- */

/* Each export's ?1 is the page's limit, ?2 its offset and ?3 its since_ms; org, month first. */
static const struct store_sql q_export_revs = {
    SQ_EXPORT_REVS,
    "SELECT org, month, revision, state, request_sha256, request FROM revisions r"
    " WHERE received_at_ms >= ?3 OR EXISTS (SELECT 1 FROM reviews v WHERE v.org = r.org"
    " AND v.month = r.month AND v.revision = r.revision AND v.at_ms >= ?3)"
    " ORDER BY org, month, revision LIMIT ?1 OFFSET ?2",
    NULL};

static const struct store_sql q_export_reviews = {
    SQ_EXPORT_REVIEWS,
    "SELECT org, month, revision, action, comment, reviewer, fingerprint, at_ms"
    " FROM reviews WHERE at_ms >= ?3 ORDER BY id LIMIT ?1 OFFSET ?2",
    NULL};

static const struct store_sql q_export_closures = {
    SQ_EXPORT_CLOSURES,
    "SELECT org, month, closed, comment, subject, fingerprint, at_ms"
    " FROM closures WHERE at_ms >= ?3 ORDER BY id LIMIT ?1 OFFSET ?2",
    NULL};

static const struct store_sql *const export_sql[] = {[STORE_EXPORT_REVISIONS] = &q_export_revs,
                                                     [STORE_EXPORT_REVIEWS] = &q_export_reviews,
                                                     [STORE_EXPORT_CLOSURES] = &q_export_closures};

/* The current row of row->part's query into row; false for one with no text where text must be. */
static bool read_export_row(struct stmt *st, struct store_export_row *row)
{
	row->key = (struct return_key){stmt_text(st, 0), stmt_int(st, 1)};
	switch (row->part) {
	case STORE_EXPORT_REVISIONS:
		row->as.revision =
		    (struct store_export_revision){.revision = (uint32_t)stmt_int64(st, 2),
		                                   .state = stmt_text(st, 3),
		                                   .request_sha256 = stmt_text(st, 4),
		                                   .request = stmt_blob(st, 5),
		                                   .request_len = stmt_bytes(st, 5)};
		return row->key.org && row->as.revision.state && row->as.revision.request_sha256;
	case STORE_EXPORT_REVIEWS:
		row->as.review = (struct store_review){.revision = (uint32_t)stmt_int64(st, 2),
		                                       .action = stmt_text(st, 3),
		                                       .comment = stmt_text(st, 4),
		                                       .reviewer = stmt_text(st, 5),
		                                       .fingerprint = stmt_text(st, 6),
		                                       .at_ms = stmt_int64(st, 7)};
		return row->key.org && row->as.review.action && row->as.review.comment &&
		       row->as.review.reviewer && row->as.review.fingerprint;
	case STORE_EXPORT_CLOSURES:
		row->as.closure = (struct store_export_closure){.closed = stmt_int(st, 2) != 0,
		                                                .comment = stmt_text(st, 3),
		                                                .subject = stmt_text(st, 4),
		                                                .fingerprint = stmt_text(st, 5),
		                                                .at_ms = stmt_int64(st, 6)};
		return row->key.org && row->as.closure.comment && row->as.closure.subject &&
		       row->as.closure.fingerprint;
	}
	return false;
}

int store_export(struct store *s, enum store_export_part part, const struct store_page *page,
                 store_export_fn fn, void *ctx, struct errbuf *eb)
{
	struct stmt *st;
	int rc, stop = 0;

	assert(part <= STORE_EXPORT_CLOSURES);
	if ((rc = stmt_bind(s, export_sql[part], &st, eb, "uII", page->limit, (int64_t)page->offset,
	                    page->since_ms)) != YB_OK)
		return rc;
	while (stop == 0 && (rc = stmt_step(s, st, "export", eb)) == YB_OK) {
		struct store_export_row row = {.part = part};
		if (read_export_row(st, &row))
			stop = fn(ctx, &row);
	}
	return stmt_scan_end(st, rc, stop);
}
