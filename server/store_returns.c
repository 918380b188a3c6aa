/*
 * store_returns.c - the revisions of returns, their values and findings:
 * inserting a revision, reading one back, the scans that consolidation
 * and status make over them, and the one in-place change, the review
 * state (store_returns.h). Their export is store_audit.c's.
 */
#include "store_returns.h"

#include "store_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "array.h"
#include "period.h"

/* ---- writing ------------------------------------------------------------------------------- */

static const struct store_sql q_latest_state = {
    SQ_LATEST_STATE,
    "SELECT revision, state FROM revisions WHERE org = ?1 AND month = ?2"
    " ORDER BY revision DESC LIMIT 1",
    NULL};

int store_latest_state(struct store *s, struct return_key key, uint32_t *revision, char *state,
                       size_t state_len, struct errbuf *eb)
{
	struct stmt *st;
	int rc;

	if ((rc = stmt_row(s, &q_latest_state, &st, "latest revision", eb, "ti", key.org,
	                   key.month)) == YB_OK) {
		const char *t = stmt_text(st, 1);
		*revision = (uint32_t)stmt_int64(st, 0);
		snprintf(state, state_len, "%s", t ? (const char *)t : "");
	}
	return stmt_end(st, rc);
}

static const struct store_sql q_last_rev = {
    SQ_LAST_REV, "SELECT coalesce(max(revision), 0) FROM revisions WHERE org = ?1 AND month = ?2",
    NULL};

int store_last_revision(struct store *s, struct return_key key, uint32_t *revision,
                        struct errbuf *eb)
{
	struct stmt *st;
	int rc;

	/* An aggregate: always one row. */
	if ((rc = stmt_row(s, &q_last_rev, &st, "last revision", eb, "ti", key.org, key.month)) ==
	    YB_OK)
		*revision = (uint32_t)stmt_int64(st, 0);
	return stmt_end(st, rc);
}

static const struct store_sql q_ins_rev = {
    SQ_INS_REV,
    "INSERT INTO revisions(org, month, revision, state, received_at_ms, on_time,"
    " reason, subject, fingerprint, request, request_sha256)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    NULL};
/*
 * A revision's values. Where a statement is a round trip (PostgreSQL), in
 * one statement from a JSON object {"code": value}: the values were 40 of a
 * return's 45 round trips; the text form keeps every int64 exact. Where it
 * is not (SQLite), one prepared statement per value: parsing the JSON cost
 * SQLite more than the 81 steps, a sixth of the daemon's CPU per return.
 */
static const struct store_sql q_ins_value = {
    SQ_INS_VALUE,
    "INSERT INTO revision_values(org, month, revision, code, value) VALUES (?1, ?2, ?3, ?4, ?5)",
    NULL};
/* PostgreSQL only (stmt_round_trips): SQLite never prepares it. */
static const struct store_sql q_ins_values = {
    SQ_INS_VALUES,
    "INSERT INTO revision_values(org, month, revision, code, value)"
    " SELECT ?1, ?2, ?3, key, value::bigint FROM jsonb_each_text(?4::jsonb)",
    NULL};
static const struct store_sql q_ins_finding = {
    SQ_INS_FINDING,
    "INSERT INTO revision_findings(org, month, revision, seq, severity, field,"
    " line, value, message, kind, params)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    NULL};

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

/* Inserts r's values (q_ins_value or q_ins_values); codes are unique in a revision. */
static int insert_values(struct store *s, const struct store_revision *r, struct errbuf *eb)
{
	json_t *o;
	char *text = NULL;
	int rc = YB_OK;

	if (!stmt_round_trips(s)) {
		for (size_t i = 0; i < r->n_values && rc == YB_OK; i++)
			rc = stmt_run(s, &q_ins_value, "insert value", eb, "tiutI", r->org,
			              r->month, r->revision, r->values[i].code, r->values[i].value);
		return rc;
	}
	if ((o = json_object()) == NULL)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	for (size_t i = 0; i < r->n_values; i++)
		if (json_object_set_new(o, r->values[i].code, json_integer(r->values[i].value)) !=
		    0) {
			rc = status_fail(eb, YB_ENOMEM, "out of memory");
			goto done;
		}
	/* A code twice would lose a value silently: the checks upstream refuse it. */
	if (json_object_size(o) != r->n_values) {
		rc = status_fail(eb, YB_EBUG, "%s %d revision %u names a value twice", r->org,
		                 r->month, r->revision);
		goto done;
	}
	if ((text = json_dumps(o, JSON_COMPACT)) == NULL) {
		rc = status_fail(eb, YB_ENOMEM, "out of memory");
		goto done;
	}
	rc = stmt_run(s, &q_ins_values, "insert values", eb, "tiut", r->org, r->month, r->revision,
	              text);
done:
	free(text);
	json_decref(o);
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
	if (r->n_values > 0 && (rc = insert_values(s, r, eb)) != YB_OK)
		return rc;
	for (size_t i = 0; i < r->n_findings; i++)
		if ((rc = insert_finding(s, r, i + 1, &r->findings[i], eb)) != YB_OK)
			return rc;
	return YB_OK;
}

static const struct store_sql q_set_state = {
    SQ_SET_STATE, "UPDATE revisions SET state = ?4 WHERE org = ?1 AND month = ?2 AND revision = ?3",
    NULL};

int store_set_state(struct store *s, struct return_key key, uint32_t revision, const char *state,
                    struct errbuf *eb)
{
	return stmt_run(s, &q_set_state, "set state", eb, "tiut", key.org, key.month, revision,
	                state);
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
	free(r->reason);
	free(r->subject);
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
	void *more = array_reserve(r->values, &v->cap, r->n_values + 1, sizeof(*r->values), 64);

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
    SQ_GET_FINDINGS,
    "SELECT severity, field, line, value, message, kind, params"
    " FROM revision_findings"
    " WHERE org = ?1 AND month = ?2 AND revision = ?3 ORDER BY seq",
    NULL};

/* The finding of the current row of q_get_findings into f (r names it in a failure). */
static int read_finding(struct store *s, struct stmt *st, const struct store_revision_row *r,
                        struct store_finding *f, struct errbuf *eb)
{
	struct errbuf why;
	char month[PERIOD_TEXT_MAX];

	memset(f, 0, sizeof(*f));
	f->severity = stmt_text_dup(st, 0);
	f->field = stmt_text_dup(st, 1);
	f->line = (uint32_t)stmt_int64(st, 2);
	f->value = stmt_text_dup(st, 3);
	f->message = stmt_text_dup(st, 4);
	if (!f->severity || !f->field || !f->value || !f->message)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	if (stmt_bytes(st, 5) > 0) {
		const char *kind = stmt_text(st, 5);
		const char *params = stmt_text(st, 6);
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
	struct stmt *st;
	size_t cap = 0;
	int rc;

	if ((rc = stmt_bind(s, &q_get_findings, &st, eb, "tiu", r->org, r->month, r->revision)) !=
	    YB_OK)
		return rc;
	while ((rc = stmt_step(s, st, "read findings", eb)) == YB_OK) {
		void *more =
		    array_reserve(r->findings, &cap, r->n_findings + 1, sizeof(*r->findings), 8);
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
    SQ_GET_REV,
    "SELECT revision, state, received_at_ms, on_time, reason, subject, fingerprint,"
    " request_sha256, (SELECT count(*) FROM revisions x WHERE x.org = r.org AND"
    " x.month = r.month) FROM revisions r WHERE org = ?1 AND month = ?2 AND"
    " (revision = ?3 OR ?3 = 0) ORDER BY revision DESC LIMIT 1",
    NULL};

/* Copies a text column into out, of size bytes; false when it does not fit. */
static bool read_text_into(struct stmt *st, int col, char *out, size_t size)
{
	const char *t = stmt_text(st, col);
	size_t n = t != NULL ? strlen(t) : 0;

	if (n >= size)
		return false;
	memcpy(out, t != NULL ? t : "", n + 1);
	return true;
}

/*
 * The columns of q_get_rev's row; YB_ENOMEM (r partly filled) when out of
 * memory, YB_DATA_LOSS for a state or digest too long to be one.
 */
static int read_revision(struct store *s, struct stmt *st, struct store_revision_row *r,
                         struct errbuf *eb)
{
	r->revision = (uint32_t)stmt_int64(st, 0);
	r->received_at_ms = stmt_int64(st, 2);
	r->on_time = stmt_int(st, 3) != 0;
	r->reason = stmt_text_dup(st, 4);
	r->subject = stmt_text_dup(st, 5);
	r->revisions = (uint32_t)stmt_int64(st, 8);
	if (!r->org || !r->reason || !r->subject)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	if (!read_text_into(st, 1, r->state, sizeof(r->state)) ||
	    !read_text_into(st, 6, r->fingerprint, sizeof(r->fingerprint)) ||
	    !read_text_into(st, 7, r->request_sha256, sizeof(r->request_sha256)))
		return status_fail(eb, YB_DATA_LOSS,
		                   "database %s: revision %u of %s has a damaged state or digest",
		                   s->path, r->revision, r->org);
	return YB_OK;
}

int store_get_revision(struct store *s, struct return_key key, uint32_t revision,
                       struct store_revision_row **out, struct errbuf *eb)
{
	struct values_read values = {NULL, 0, eb};
	struct stmt *st;
	int rc;

	if ((rc = stmt_row(s, &q_get_rev, &st, "read revision", eb, "tiu", key.org, key.month,
	                   revision)) != YB_OK)
		return rc;
	if ((values.r = calloc(1, sizeof(*values.r))) == NULL)
		return stmt_end(st, status_fail(eb, YB_ENOMEM, "out of memory"));
	values.r->org = strdup(key.org);
	values.r->month = key.month;
	rc = stmt_end(st, read_revision(s, st, values.r, eb));
	if (rc != YB_OK ||
	    (rc = store_revision_values(s, key, values.r->revision, add_value, &values, eb)) !=
	        YB_OK ||
	    (rc = read_findings(s, values.r, eb)) != YB_OK) {
		store_revision_row_free(values.r);
		return rc;
	}
	*out = values.r;
	return YB_OK;
}

static const struct store_sql q_get_values = {
    SQ_GET_VALUES,
    "SELECT code, value FROM revision_values WHERE org = ?1 AND month = ?2 AND"
    " revision = ?3",
    NULL};

int store_revision_values(struct store *s, struct return_key key, uint32_t revision,
                          store_code_value_fn fn, void *ctx, struct errbuf *eb)
{
	struct stmt *st;
	int rc, stop = 0;

	if ((rc = stmt_bind(s, &q_get_values, &st, eb, "tiu", key.org, key.month, revision)) !=
	    YB_OK)
		return rc;
	while (stop == 0 && (rc = stmt_step(s, st, "read values", eb)) == YB_OK) {
		const char *code = stmt_text(st, 0);
		if (code != NULL)
			stop = fn(ctx, code, stmt_int64(st, 1));
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
    {{SQ_SCAN, SCAN_SQL("", "state <> 'rejected'"), NULL},
     /*
      * One org: the latest non-rejected revision as "no later non-rejected
      * one", so that the rows come in key order and need no sort.
      */
     {SQ_SCAN_ONE,
      "SELECT r.org, r.month, r.revision, v.code, v.value FROM revisions r"
      " LEFT JOIN revision_values v ON v.org = r.org AND v.month = r.month AND"
      " v.revision = r.revision WHERE r.org = ?3 AND r.month BETWEEN ?1 AND ?2 AND"
      " r.state <> 'rejected' AND NOT EXISTS (SELECT 1 FROM revisions x WHERE"
      " x.org = r.org AND x.month = r.month AND x.revision > r.revision AND"
      " x.state <> 'rejected') ORDER BY r.org, r.month",
      NULL}},
    {{SQ_SCAN_ACCEPTED, SCAN_SQL("", "state = 'accepted'"), NULL},
     {SQ_SCAN_ACCEPTED_ONE, SCAN_SQL("org = ?3 AND ", "state = 'accepted'"), NULL}},
};

int store_scan_latest(struct store *s, const char *org_filter, int first, int last,
                      bool accepted_only, store_return_fn each_return, store_value_fn each_value,
                      void *ctx, struct errbuf *eb)
{
	const struct store_sql *q = &q_scan[accepted_only][org_filter != NULL];
	char prev_org[64] = "";
	int prev_month = -1;
	struct stmt *st;
	int rc, stop = 0;

	if ((rc = org_filter != NULL ? stmt_bind(s, q, &st, eb, "iit", first, last, org_filter)
	                             : stmt_bind(s, q, &st, eb, "ii", first, last)) != YB_OK)
		return rc;
	while (stop == 0 && (rc = stmt_step(s, st, "scan returns", eb)) == YB_OK) {
		const char *org = stmt_text(st, 0);
		int month = stmt_int(st, 1);

		if (org == NULL)
			continue;
		if (month != prev_month || strcmp(org, prev_org) != 0) {
			snprintf(prev_org, sizeof(prev_org), "%s", org);
			prev_month = month;
			if (each_return != NULL &&
			    (stop = each_return(ctx, org, month, (uint32_t)stmt_int64(st, 2))) != 0)
				break;
		}
		if (!stmt_is_null(st, 3))
			stop = each_value(ctx, org, month, stmt_text(st, 3), stmt_int64(st, 4));
	}
	return stmt_scan_end(st, rc, stop);
}

/* Per return: the latest revision, its state and time, and whether the first was on time. */
static const struct store_sql q_status = {
    SQ_STATUS,
    "WITH latest AS (SELECT org, month, max(revision) AS revision FROM revisions"
    " WHERE month BETWEEN ?1 AND ?2 GROUP BY org, month)"
    " SELECT l.org, l.month, l.revision, r.state, r.received_at_ms, f.on_time"
    " FROM latest l JOIN revisions r ON r.org = l.org AND r.month = l.month AND"
    " r.revision = l.revision JOIN revisions f ON f.org = l.org AND"
    " f.month = l.month AND f.revision = 1 ORDER BY l.org, l.month",
    NULL};

int store_scan_status(struct store *s, int first, int last, store_status_fn fn, void *ctx,
                      struct errbuf *eb)
{
	struct stmt *st;
	int rc, stop = 0;

	if ((rc = stmt_bind(s, &q_status, &st, eb, "ii", first, last)) != YB_OK)
		return rc;
	while (stop == 0 && (rc = stmt_step(s, st, "scan status", eb)) == YB_OK) {
		const char *org = stmt_text(st, 0);
		const char *state = stmt_text(st, 3);
		if (org == NULL || state == NULL)
			continue;
		stop = fn(ctx, org, stmt_int(st, 1), (uint32_t)stmt_int64(st, 2), state,
		          stmt_int64(st, 4), stmt_int(st, 5) != 0);
	}
	return stmt_scan_end(st, rc, stop);
}
