/*
 * test_server.c - every method of the Returns service, in process, through
 * server_serve_bytes: the pipeline a request from the network takes
 * (decoding, envelope checks, certificate and signature, handler,
 * transaction) without TLS.
 *
 * - The authorisation matrix: certificates of each role against their own
 *   org unit, one outside their subtree, their parent and one inside their
 *   subtree, for every method of the service. Each cell is a real call; a
 *   writing call's stored effect is read back, and must be there exactly
 *   when the call was allowed.
 * - Refusals of submissions and reviews, each leaving the store as it was.
 * - Exactly once: a request served twice gets the same reply bytes and is
 *   stored and audited once; a call id reused for another request is
 *   refused.
 *
 * One daemon for the whole file, in a temporary directory with certificates
 * made at start by certs/yuebao-certs.sh, the example org tree and the
 * default catalog (tests/support/inproc.h). Each test works on months of
 * its own, so they do not meet in the store. The example org tree:
 *
 *   JGDW 机关党委 (root)
 *   ├── ZFW-JG, JCY-DZB, SFJ-DZB   branches
 *   └── FY-DZZ 法院党总支
 *       ├── FY-DZB                  branch
 *       └── FY-ZXJ                  branch
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "inproc.h"
#include "rpc.h"
#include "server.h"
#include "yuebao.pb-c.h"

/* ---- the callers ---------------------------------------------------------------------------- */

enum target { OWN, OTHER, PARENT, INSIDE, N_TARGETS };
static const char *const target_names[N_TARGETS] = {"own unit", "a unit outside its subtree",
                                                    "its parent", "a unit inside its subtree"};

enum who {
	BRANCH,       /* a branch: a unit without children */
	BRANCH_INNER, /* a branch certificate issued for a unit with units under it */
	CENTRAL,
	AUDITOR,
	CENTRAL_ROOT,
	AUDITOR_ROOT,
	ADMIN,
	BRANCH_OTHER, /* files the returns of the unit outside the others' subtrees */
	N_WHO
};

static const struct principal {
	const char *role, *org;
	const char *target[N_TARGETS]; /* NULL: the tree has no such unit for it */
} principals[N_WHO] = {
    /*                                own       other      parent    inside */
    [BRANCH] = {"branch", "FY-DZB", {"FY-DZB", "JCY-DZB", "FY-DZZ", NULL}},
    [BRANCH_INNER] = {"branch", "FY-DZZ", {"FY-DZZ", "JCY-DZB", "JGDW", "FY-DZB"}},
    [CENTRAL] = {"central", "FY-DZZ", {"FY-DZZ", "JCY-DZB", "JGDW", "FY-DZB"}},
    [AUDITOR] = {"auditor", "FY-DZZ", {"FY-DZZ", "JCY-DZB", "JGDW", "FY-DZB"}},
    [CENTRAL_ROOT] = {"central", "JGDW", {"JGDW", NULL, NULL, "FY-DZB"}},
    [AUDITOR_ROOT] = {"auditor", "JGDW", {"JGDW", NULL, NULL, "FY-DZB"}},
    [ADMIN] = {"admin", "FY-DZZ", {"FY-DZZ", "JCY-DZB", "JGDW", "FY-DZB"}},
    [BRANCH_OTHER] = {"branch", "JCY-DZB", {NULL, NULL, NULL, NULL}},
};

static char workdir[256];
static struct tz *zone;
static struct server *srv;
static struct pki_identity *ids[N_WHO];

/* ---- calls ---------------------------------------------------------------------------------- */

/* The methods in the order the service declares them (test_matrix_covers_the_service). */
enum method {
	PING,
	GET_CATALOG,
	SUBMIT,
	GET_RETURN,
	CONSOLIDATE,
	HISTORY,
	REVIEW,
	STATUS,
	CLOSE_PERIOD,
	AUDIT_LOG,
	AUDIT_PROVE,
	AUDIT_EXPORT,
	AUDIT_COSIGN,
	N_METHODS
};

static const char *method_name(enum method m)
{
	return yuebao__v1__returns__descriptor.methods[m].name;
}

/* The last reply's message and the field of its first field error ("" for none). */
static char last_message[ERRBUF_MAX], last_field[64];

/* Serves request bytes; the caller frees *reply. */
static Yuebao__V1__RpcReply *serve(const uint8_t *req, size_t len, uint8_t **reply,
                                   size_t *reply_len)
{
	struct errbuf eb = {{0}};
	Yuebao__V1__RpcReply *rep;

	if (server_serve_bytes(srv, req, len, reply, reply_len, &eb) != YB_OK)
		fail_msg("server_serve_bytes: %s", eb.msg);
	rep = yuebao__v1__rpc_reply__unpack(NULL, *reply_len, *reply);
	assert_non_null(rep);
	snprintf(last_message, sizeof(last_message), "%s", rep->message);
	snprintf(last_field, sizeof(last_field), "%s",
	         rep->n_errors > 0 ? rep->errors[0]->field : "");
	return rep;
}

/*
 * Calls method m as w with the input in (call_id NULL: a fresh one). Returns
 * the reply's status; when it is OK and out is not NULL, *out holds the
 * output (protobuf_c_message_free_unpacked).
 */
static int call_as(enum who w, enum method m, const ProtobufCMessage *in, const char *call_id,
                   ProtobufCMessage **out)
{
	const ProtobufCMethodDescriptor *md = &yuebao__v1__returns__descriptor.methods[m];
	Yuebao__V1__RpcReply *rep;
	ProtobufCMessage *msg = NULL;
	uint8_t *req = NULL, *reply = NULL;
	size_t len = 0, reply_len = 0;
	int status;

	assert_ptr_equal(in->descriptor, md->input);
	assert_int_equal(inproc_request(ids[w], md->name, in, call_id, "en", &req, &len), YB_OK);
	rep = serve(req, len, &reply, &reply_len);
	status = (int)rep->status;
	if (status == YB_OK) {
		msg = protobuf_c_message_unpack(md->output, NULL, rep->payload.len,
		                                rep->payload.data);
		assert_non_null(msg);
	}
	if (out != NULL)
		*out = msg;
	else if (msg != NULL)
		protobuf_c_message_free_unpacked(msg, NULL);
	yuebao__v1__rpc_reply__free_unpacked(rep, NULL);
	free(reply);
	free(req);
	return status;
}

/* ---- the writes the tests make, and what they read back -------------------------------------- */

/*
 * A return with two elements: members_total as given, members_under_35 5
 * (a members_total below 5 breaks the rule members_under_35 <= members_total).
 * Its values live until the next call.
 */
static Yuebao__V1__SubmitRequest submit_request(const char *org, const char *month,
                                                const char *reason, const char *members_total)
{
	static Yuebao__V1__Value v[2] = {YUEBAO__V1__VALUE__INIT, YUEBAO__V1__VALUE__INIT};
	static Yuebao__V1__Value *list[2] = {&v[0], &v[1]};
	Yuebao__V1__SubmitRequest req = YUEBAO__V1__SUBMIT_REQUEST__INIT;

	v[0].code = "members_total";
	v[0].value = (char *)members_total;
	v[0].line = 2;
	v[1].code = "members_under_35";
	v[1].value = "5";
	v[1].line = 3;
	req.org = (char *)org;
	req.period = (char *)month;
	req.reason = (char *)reason;
	req.values = list;
	req.n_values = 2;
	return req;
}

static int submit(enum who w, const char *org, const char *month, const char *reason,
                  const char *members_total)
{
	Yuebao__V1__SubmitRequest req = submit_request(org, month, reason, members_total);

	return call_as(w, SUBMIT, &req.base, NULL, NULL);
}

static int review(const char *org, const char *month, const char *action, const char *comment)
{
	Yuebao__V1__ReviewRequest req = YUEBAO__V1__REVIEW_REQUEST__INIT;

	req.org = (char *)org;
	req.period = (char *)month;
	req.action = (char *)action;
	req.comment = (char *)comment;
	return call_as(CENTRAL_ROOT, REVIEW, &req.base, NULL, NULL);
}

static int close_period(const char *org, const char *month)
{
	Yuebao__V1__ClosePeriodRequest req = YUEBAO__V1__CLOSE_PERIOD_REQUEST__INIT;

	req.org = (char *)org;
	req.period = (char *)month;
	req.comment = "closed by the test";
	return call_as(CENTRAL_ROOT, CLOSE_PERIOD, &req.base, NULL, NULL);
}

/* A return as the root auditor reads it; all zero when there is none. */
struct stored {
	uint32_t revisions;
	char state[16];
	size_t reviews;
	char members_total[16];
};

static struct stored stored(const char *org, const char *month)
{
	Yuebao__V1__GetReturnRequest req = YUEBAO__V1__GET_RETURN_REQUEST__INIT;
	Yuebao__V1__ReturnRevision *r = NULL;
	struct stored s = {0};
	int rc;

	req.org = (char *)org;
	req.period = (char *)month;
	rc = call_as(AUDITOR_ROOT, GET_RETURN, &req.base, NULL, (ProtobufCMessage **)&r);
	if (rc == YB_NOT_FOUND)
		return s;
	assert_int_equal(rc, YB_OK);
	s.revisions = r->revisions;
	snprintf(s.state, sizeof(s.state), "%s", r->state);
	s.reviews = r->n_reviews;
	for (size_t i = 0; i < r->n_values; i++)
		if (strcmp(r->values[i]->code, "members_total") == 0)
			snprintf(s.members_total, sizeof(s.members_total), "%s",
			         r->values[i]->value);
	yuebao__v1__return_revision__free_unpacked(r, NULL);
	return s;
}

static void assert_stored_equal(const struct stored *a, const struct stored *b)
{
	assert_int_equal(a->revisions, b->revisions);
	assert_string_equal(a->state, b->state);
	assert_int_equal(a->reviews, b->reviews);
	assert_string_equal(a->members_total, b->members_total);
}

/* Whether month is closed for the first branch of org's subtree, as the root auditor sees. */
static bool closed(const char *org, const char *month)
{
	Yuebao__V1__StatusRequest req = YUEBAO__V1__STATUS_REQUEST__INIT;
	Yuebao__V1__StatusReply *r = NULL;
	bool is_closed;

	req.org = (char *)org;
	req.period = (char *)month;
	assert_int_equal(call_as(AUDITOR_ROOT, STATUS, &req.base, NULL, (ProtobufCMessage **)&r),
	                 YB_OK);
	assert_true(r->n_rows > 0 && r->rows[0]->n_months == 1);
	is_closed = r->rows[0]->months[0]->closed;
	yuebao__v1__status_reply__free_unpacked(r, NULL);
	return is_closed;
}

/*
 * Entries of the audit log with this action about org's month ("": all),
 * by actor ("ROLE CODE"; NULL: anyone), as the root auditor reads them.
 */
static size_t audited(const char *org, const char *month, const char *action, const char *actor)
{
	Yuebao__V1__AuditLogRequest req = YUEBAO__V1__AUDIT_LOG_REQUEST__INIT;
	Yuebao__V1__AuditLogReply *r = NULL;
	char token[64] = "";
	size_t n = 0;

	req.org = (char *)org;
	req.period = (char *)month;
	req.page_token = token;
	do {
		assert_int_equal(
		    call_as(AUDITOR_ROOT, AUDIT_LOG, &req.base, NULL, (ProtobufCMessage **)&r),
		    YB_OK);
		for (size_t i = 0; i < r->n_entries; i++) {
			const Yuebao__V1__AuditEntry *e = r->entries[i];
			char by[160];
			snprintf(by, sizeof(by), "%s %s", e->actor_role, e->actor_org);
			n += strcmp(e->action, action) == 0 && (!actor || strcmp(by, actor) == 0);
		}
		snprintf(token, sizeof(token), "%s", r->next_page_token);
		yuebao__v1__audit_log_reply__free_unpacked(r, NULL);
	} while (token[0] != '\0');
	return n;
}

/* ---- the authorisation matrix ------------------------------------------------------------- */

/*
 * The month the matrix submits, reads and reviews. Each ClosePeriod cell
 * closes a month of its own from CLOSE_FIRST_YEAR on, so that every allowed
 * close is seen to close.
 */
#define MATRIX_MONTH "2025-01"
#define CLOSE_FIRST_YEAR 2022

/* Outcomes: a status, or NO_UNIT where the tree has no such unit for the certificate. */
#define OK YB_OK
#define DENIED YB_PERMISSION_DENIED
#define NOTFOUND YB_NOT_FOUND /* allowed, but there is nothing there */
#define NO_UNIT (-1)

/*
 * What each caller gets from each method on each target, as SPEC §3 says
 * and the daemon does: a branch reads and submits for its own unit only;
 * central and auditor read their subtree, central alone reviews and closes
 * periods; only a branch submits; a branch certificate for a unit with
 * units under it is refused everything that names an org unit; the audit
 * log is for central and auditor, its export for them at the root only;
 * admin (who manages the daemon's files and certificates offline) reads
 * nothing. Ping, GetCatalog and AuditProve (a proof for a receipt: hashes
 * only) are open to every verified caller; AuditCosign (a witness's
 * signature of the latest checkpoint) to central and auditor anywhere. These three and AuditExport
 * name no org unit: their request is the same in every column, and made
 * once per column. NOTFOUND: org units with units under them file no
 * returns, so there is nothing to read or review there.
 */
static const struct cell_row {
	enum who who;
	enum method method;
	int expect[N_TARGETS];
} matrix[] = {
    /* who         method          own       other   parent  inside */
    {BRANCH, PING, {OK, OK, OK, NO_UNIT}},
    {BRANCH, GET_CATALOG, {OK, OK, OK, NO_UNIT}},
    {BRANCH, SUBMIT, {OK, DENIED, DENIED, NO_UNIT}},
    {BRANCH, GET_RETURN, {OK, DENIED, DENIED, NO_UNIT}},
    {BRANCH, CONSOLIDATE, {OK, DENIED, DENIED, NO_UNIT}},
    {BRANCH, HISTORY, {OK, DENIED, DENIED, NO_UNIT}},
    {BRANCH, REVIEW, {DENIED, DENIED, DENIED, NO_UNIT}},
    {BRANCH, STATUS, {OK, DENIED, DENIED, NO_UNIT}},
    {BRANCH, CLOSE_PERIOD, {DENIED, DENIED, DENIED, NO_UNIT}},
    {BRANCH, AUDIT_LOG, {DENIED, DENIED, DENIED, NO_UNIT}},
    {BRANCH, AUDIT_PROVE, {OK, OK, OK, NO_UNIT}},
    {BRANCH, AUDIT_EXPORT, {DENIED, DENIED, DENIED, NO_UNIT}},
    {BRANCH, AUDIT_COSIGN, {DENIED, DENIED, DENIED, NO_UNIT}},

    {BRANCH_INNER, PING, {OK, OK, OK, OK}},
    {BRANCH_INNER, GET_CATALOG, {OK, OK, OK, OK}},
    {BRANCH_INNER, SUBMIT, {DENIED, DENIED, DENIED, DENIED}},
    {BRANCH_INNER, GET_RETURN, {DENIED, DENIED, DENIED, DENIED}},
    {BRANCH_INNER, CONSOLIDATE, {DENIED, DENIED, DENIED, DENIED}},
    {BRANCH_INNER, HISTORY, {DENIED, DENIED, DENIED, DENIED}},
    {BRANCH_INNER, REVIEW, {DENIED, DENIED, DENIED, DENIED}},
    {BRANCH_INNER, STATUS, {DENIED, DENIED, DENIED, DENIED}},
    {BRANCH_INNER, CLOSE_PERIOD, {DENIED, DENIED, DENIED, DENIED}},
    {BRANCH_INNER, AUDIT_LOG, {DENIED, DENIED, DENIED, DENIED}},
    {BRANCH_INNER, AUDIT_PROVE, {OK, OK, OK, OK}},
    {BRANCH_INNER, AUDIT_EXPORT, {DENIED, DENIED, DENIED, DENIED}},
    {BRANCH_INNER, AUDIT_COSIGN, {DENIED, DENIED, DENIED, DENIED}},

    {CENTRAL, PING, {OK, OK, OK, OK}},
    {CENTRAL, GET_CATALOG, {OK, OK, OK, OK}},
    {CENTRAL, SUBMIT, {DENIED, DENIED, DENIED, DENIED}},
    {CENTRAL, GET_RETURN, {NOTFOUND, DENIED, DENIED, OK}},
    {CENTRAL, CONSOLIDATE, {OK, DENIED, DENIED, OK}},
    {CENTRAL, HISTORY, {NOTFOUND, DENIED, DENIED, OK}},
    {CENTRAL, REVIEW, {NOTFOUND, DENIED, DENIED, OK}},
    {CENTRAL, STATUS, {OK, DENIED, DENIED, OK}},
    {CENTRAL, CLOSE_PERIOD, {OK, DENIED, DENIED, OK}},
    {CENTRAL, AUDIT_LOG, {OK, DENIED, DENIED, OK}},
    {CENTRAL, AUDIT_PROVE, {OK, OK, OK, OK}},
    {CENTRAL, AUDIT_EXPORT, {DENIED, DENIED, DENIED, DENIED}},
    {CENTRAL, AUDIT_COSIGN, {OK, OK, OK, OK}},

    {AUDITOR, PING, {OK, OK, OK, OK}},
    {AUDITOR, GET_CATALOG, {OK, OK, OK, OK}},
    {AUDITOR, SUBMIT, {DENIED, DENIED, DENIED, DENIED}},
    {AUDITOR, GET_RETURN, {NOTFOUND, DENIED, DENIED, OK}},
    {AUDITOR, CONSOLIDATE, {OK, DENIED, DENIED, OK}},
    {AUDITOR, HISTORY, {NOTFOUND, DENIED, DENIED, OK}},
    {AUDITOR, REVIEW, {DENIED, DENIED, DENIED, DENIED}},
    {AUDITOR, STATUS, {OK, DENIED, DENIED, OK}},
    {AUDITOR, CLOSE_PERIOD, {DENIED, DENIED, DENIED, DENIED}},
    {AUDITOR, AUDIT_LOG, {OK, DENIED, DENIED, OK}},
    {AUDITOR, AUDIT_PROVE, {OK, OK, OK, OK}},
    {AUDITOR, AUDIT_EXPORT, {DENIED, DENIED, DENIED, DENIED}},
    {AUDITOR, AUDIT_COSIGN, {OK, OK, OK, OK}},

    {CENTRAL_ROOT, PING, {OK, NO_UNIT, NO_UNIT, OK}},
    {CENTRAL_ROOT, GET_CATALOG, {OK, NO_UNIT, NO_UNIT, OK}},
    {CENTRAL_ROOT, SUBMIT, {DENIED, NO_UNIT, NO_UNIT, DENIED}},
    {CENTRAL_ROOT, GET_RETURN, {NOTFOUND, NO_UNIT, NO_UNIT, OK}},
    {CENTRAL_ROOT, CONSOLIDATE, {OK, NO_UNIT, NO_UNIT, OK}},
    {CENTRAL_ROOT, HISTORY, {NOTFOUND, NO_UNIT, NO_UNIT, OK}},
    {CENTRAL_ROOT, REVIEW, {NOTFOUND, NO_UNIT, NO_UNIT, OK}},
    {CENTRAL_ROOT, STATUS, {OK, NO_UNIT, NO_UNIT, OK}},
    {CENTRAL_ROOT, CLOSE_PERIOD, {OK, NO_UNIT, NO_UNIT, OK}},
    {CENTRAL_ROOT, AUDIT_LOG, {OK, NO_UNIT, NO_UNIT, OK}},
    {CENTRAL_ROOT, AUDIT_PROVE, {OK, NO_UNIT, NO_UNIT, OK}},
    {CENTRAL_ROOT, AUDIT_EXPORT, {OK, NO_UNIT, NO_UNIT, OK}},
    {CENTRAL_ROOT, AUDIT_COSIGN, {OK, NO_UNIT, NO_UNIT, OK}},

    {AUDITOR_ROOT, PING, {OK, NO_UNIT, NO_UNIT, OK}},
    {AUDITOR_ROOT, GET_CATALOG, {OK, NO_UNIT, NO_UNIT, OK}},
    {AUDITOR_ROOT, SUBMIT, {DENIED, NO_UNIT, NO_UNIT, DENIED}},
    {AUDITOR_ROOT, GET_RETURN, {NOTFOUND, NO_UNIT, NO_UNIT, OK}},
    {AUDITOR_ROOT, CONSOLIDATE, {OK, NO_UNIT, NO_UNIT, OK}},
    {AUDITOR_ROOT, HISTORY, {NOTFOUND, NO_UNIT, NO_UNIT, OK}},
    {AUDITOR_ROOT, REVIEW, {DENIED, NO_UNIT, NO_UNIT, DENIED}},
    {AUDITOR_ROOT, STATUS, {OK, NO_UNIT, NO_UNIT, OK}},
    {AUDITOR_ROOT, CLOSE_PERIOD, {DENIED, NO_UNIT, NO_UNIT, DENIED}},
    {AUDITOR_ROOT, AUDIT_LOG, {OK, NO_UNIT, NO_UNIT, OK}},
    {AUDITOR_ROOT, AUDIT_PROVE, {OK, NO_UNIT, NO_UNIT, OK}},
    {AUDITOR_ROOT, AUDIT_EXPORT, {OK, NO_UNIT, NO_UNIT, OK}},
    {AUDITOR_ROOT, AUDIT_COSIGN, {OK, NO_UNIT, NO_UNIT, OK}},

    {ADMIN, PING, {OK, OK, OK, OK}},
    {ADMIN, GET_CATALOG, {OK, OK, OK, OK}},
    {ADMIN, SUBMIT, {DENIED, DENIED, DENIED, DENIED}},
    {ADMIN, GET_RETURN, {DENIED, DENIED, DENIED, DENIED}},
    {ADMIN, CONSOLIDATE, {DENIED, DENIED, DENIED, DENIED}},
    {ADMIN, HISTORY, {DENIED, DENIED, DENIED, DENIED}},
    {ADMIN, REVIEW, {DENIED, DENIED, DENIED, DENIED}},
    {ADMIN, STATUS, {DENIED, DENIED, DENIED, DENIED}},
    {ADMIN, CLOSE_PERIOD, {DENIED, DENIED, DENIED, DENIED}},
    {ADMIN, AUDIT_LOG, {DENIED, DENIED, DENIED, DENIED}},
    {ADMIN, AUDIT_PROVE, {OK, OK, OK, OK}},
    {ADMIN, AUDIT_EXPORT, {DENIED, DENIED, DENIED, DENIED}},
    {ADMIN, AUDIT_COSIGN, {DENIED, DENIED, DENIED, DENIED}},
};

/*
 * Cosigns the latest checkpoint as w, as `yuebao audit witness` does: it
 * fetches the checkpoint (AuditProve, open to all) and signs it with w's key.
 */
static int cosign_latest(enum who w)
{
	Yuebao__V1__AuditProveRequest pr = YUEBAO__V1__AUDIT_PROVE_REQUEST__INIT;
	Yuebao__V1__AuditProveReply *proof = NULL;
	Yuebao__V1__AuditCosignRequest req = YUEBAO__V1__AUDIT_COSIGN_REQUEST__INIT;
	struct checkpoint cp = {0};
	struct errbuf eb = {{0}};
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	int rc;

	assert_int_equal(call_as(w, AUDIT_PROVE, &pr.base, NULL, (ProtobufCMessage **)&proof),
	                 YB_OK);
	cp.size = proof->checkpoint->size;
	memcpy(cp.root, proof->checkpoint->root.data, 32);
	cp.at_ms = proof->checkpoint->at_ms;
	assert_int_equal(checkpoint_cosign(&cp, ids[w], &sig, &sig_len, &eb), YB_OK);
	req.checkpoint = proof->checkpoint;
	req.signature = (ProtobufCBinaryData){sig_len, sig};
	rc = call_as(w, AUDIT_COSIGN, &req.base, NULL, NULL);
	free(sig);
	yuebao__v1__audit_prove_reply__free_unpacked(proof, NULL);
	return rc;
}

/* Calls method m on org as w, as the client would; a ClosePeriod closes month. */
static int call_on(enum who w, enum method m, const char *org, const char *month)
{
	struct inproc_inputs in;

	inproc_inputs_init(&in);
	in.submit = submit_request(org, MATRIX_MONTH, "the matrix", "30");
	in.get_return.org = in.consolidate.org = in.history.org = (char *)org;
	in.review.org = in.status.org = in.close_period.org = in.audit_log.org = (char *)org;
	in.get_return.period = in.consolidate.period = in.history.period = MATRIX_MONTH;
	in.review.period = in.status.period = MATRIX_MONTH;
	in.review.action = "reject";
	in.review.comment = in.close_period.comment = "the matrix";
	in.close_period.period = (char *)month;
	in.audit_export.part = "revisions";
	in.audit_export.page_size = 1;
	if (m == AUDIT_COSIGN)
		return cosign_latest(w);
	return call_as(w, m, inproc_input(&in, m), NULL, NULL);
}

static bool writes(enum method m)
{
	return m == SUBMIT || m == REVIEW || m == CLOSE_PERIOD || m == AUDIT_COSIGN;
}

/* What a writing call on org leaves in the store, as a number that grows by one per write. */
static int effect(enum method m, const char *org, const char *close_month)
{
	if (m == SUBMIT)
		return (int)stored(org, MATRIX_MONTH).revisions;
	if (m == REVIEW)
		return (int)stored(org, MATRIX_MONTH).reviews;
	if (m == CLOSE_PERIOD)
		return closed(org, close_month);
	if (m == AUDIT_COSIGN)
		return (int)audited("", "", "cosign", NULL);
	return 0;
}

/*
 * One cell: the status the call gets, and its stored effect, there exactly
 * when it was allowed. A review finds the return submitted: a rejection by
 * an earlier cell is superseded by a new revision first. 1 when it is not
 * as expected (and says why).
 */
static int run_cell(const struct cell_row *row, enum target t, int close_cell)
{
	const struct principal *p = &principals[row->who];
	const char *org = p->target[t];
	char month[16];
	int before, rc;

	if (org == NULL)
		return row->expect[t] != NO_UNIT;
	snprintf(month, sizeof(month), "%04d-%02d", CLOSE_FIRST_YEAR + close_cell / 12,
	         close_cell % 12 + 1);
	if (row->method == REVIEW && strcmp(stored(org, MATRIX_MONTH).state, "rejected") == 0)
		assert_int_equal(submit(BRANCH, org, MATRIX_MONTH, "a new revision", "30"), YB_OK);
	before = effect(row->method, org, month);
	rc = call_on(row->who, row->method, org, month);
	if (rc != row->expect[t]) {
		print_error("%s %s, %s on %s %s: %s (%s), expected %s\n", p->role, p->org,
		            method_name(row->method), target_names[t], org, status_name(rc),
		            last_message, status_name(row->expect[t]));
		return 1;
	}
	if (effect(row->method, org, month) - before != (writes(row->method) && rc == YB_OK)) {
		print_error("%s %s, %s on %s %s: %s, but the store says otherwise\n", p->role,
		            p->org, method_name(row->method), target_names[t], org,
		            status_name(rc));
		return 1;
	}
	return 0;
}

/* The matrix has one row for each caller and method of the service, in its order. */
static void test_matrix_covers_the_service(void **state)
{
	static const char *const names[N_METHODS] = {
	    "Ping",       "GetCatalog",  "Submit",     "GetReturn",   "Consolidate",
	    "History",    "Review",      "Status",     "ClosePeriod", "AuditLog",
	    "AuditProve", "AuditExport", "AuditCosign"};
	int rows[N_WHO][N_METHODS] = {{0}};

	(void)state;
	assert_int_equal(yuebao__v1__returns__descriptor.n_methods, N_METHODS);
	for (int m = 0; m < N_METHODS; m++)
		assert_string_equal(method_name(m), names[m]);
	for (size_t i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++)
		rows[matrix[i].who][matrix[i].method]++;
	for (int w = 0; w < BRANCH_OTHER; w++)
		for (int m = 0; m < N_METHODS; m++)
			assert_int_equal(rows[w][m], 1);
}

static void test_authorisation_matrix(void **state)
{
	int wrong = 0, close_cell = 0;

	(void)state;
	/* Returns where the matrix reads: the branch's own, and one outside FY-DZZ. */
	assert_int_equal(submit(BRANCH, "FY-DZB", MATRIX_MONTH, "", "30"), YB_OK);
	assert_int_equal(submit(BRANCH_OTHER, "JCY-DZB", MATRIX_MONTH, "", "30"), YB_OK);
	for (size_t i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++)
		for (int t = 0; t < N_TARGETS; t++)
			wrong += run_cell(&matrix[i], (enum target)t,
			                  matrix[i].method == CLOSE_PERIOD ? close_cell++ : 0);
	assert_int_equal(wrong, 0);
}

/* ---- refusals ------------------------------------------------------------------------------ */

/* What a refusal case finds in the store first, in its month of branch FY-DZB. */
enum { FRESH = 0, SUBMITTED = 1, ACCEPTED = 2, CLOSED = 4 };

static void set_up_return(const char *month, unsigned setup)
{
	if (setup & SUBMITTED)
		assert_int_equal(submit(BRANCH, "FY-DZB", month, "", "30"), YB_OK);
	if (setup & ACCEPTED)
		assert_int_equal(review("FY-DZB", month, "accept", ""), YB_OK);
	if (setup & CLOSED)
		assert_int_equal(close_period("FY-DZB", month), YB_OK);
}

/*
 * Submissions and reviews refused: each gets its status, names the field
 * at fault (its first field error; "" for none), and leaves the return as
 * it was. Each case has a month of branch FY-DZB to itself, set up first.
 */
static const struct refusal {
	const char *what, *month;
	unsigned setup;
	enum method method;
	const char *arg, *text; /* Submit: members_total, reason; Review: action, comment */
	int expect;
	const char *field;
} refusals[] = {
    {"a negative value", "2024-01", FRESH, SUBMIT, "-3", "", YB_INVALID_ARGUMENT, "members_total"},
    {"a value that is no number", "2024-02", FRESH, SUBMIT, "many", "", YB_INVALID_ARGUMENT,
     "members_total"},
    {"a broken error rule", "2024-03", FRESH, SUBMIT, "3", "", YB_INVALID_ARGUMENT,
     "r_members_under_35"},
    {"a month not begun", "2999-01", FRESH, SUBMIT, "30", "", YB_INVALID_ARGUMENT, "period"},
    {"an amendment without a reason", "2024-04", SUBMITTED, SUBMIT, "31", "", YB_INVALID_ARGUMENT,
     "reason"},
    {"an accepted return amended", "2024-05", SUBMITTED | ACCEPTED, SUBMIT, "31", "a correction",
     YB_FAILED_PRECONDITION, ""},
    {"a closed period", "2024-06", CLOSED, SUBMIT, "30", "", YB_FAILED_PRECONDITION, ""},
    {"a rejection without a comment", "2024-07", SUBMITTED, REVIEW, "reject", "",
     YB_INVALID_ARGUMENT, "comment"},
    {"a return that does not exist reviewed", "2024-08", FRESH, REVIEW, "accept", "", YB_NOT_FOUND,
     ""},
    {"an accepted return accepted", "2024-09", SUBMITTED | ACCEPTED, REVIEW, "accept", "",
     YB_FAILED_PRECONDITION, ""},
    {"a submitted return reopened", "2024-10", SUBMITTED, REVIEW, "reopen", "",
     YB_FAILED_PRECONDITION, ""},
    {"an action that is none", "2024-11", SUBMITTED, REVIEW, "approve", "", YB_INVALID_ARGUMENT,
     ""},
};

static void test_refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *c = &refusals[i];
		struct stored before, after;
		int rc;

		set_up_return(c->month, c->setup);
		before = stored("FY-DZB", c->month);
		rc = c->method == SUBMIT ? submit(BRANCH, "FY-DZB", c->month, c->text, c->arg)
		                         : review("FY-DZB", c->month, c->arg, c->text);
		if (rc != c->expect || strcmp(last_field, c->field) != 0)
			fail_msg("%s: %s, field '%s' (%s); expected %s, field '%s'", c->what,
			         status_name(rc), last_field, last_message, status_name(c->expect),
			         c->field);
		after = stored("FY-DZB", c->month);
		assert_stored_equal(&before, &after);
	}
}

/* A denial is audited (SPEC §3), naming who was refused what. */
static void test_denial_audited(void **state)
{
	size_t before = audited("", "", "refused:PERMISSION_DENIED", "central JGDW");

	(void)state;
	assert_int_equal(submit(CENTRAL_ROOT, "FY-DZB", "2025-04", "", "30"), YB_PERMISSION_DENIED);
	assert_int_equal(audited("", "", "refused:PERMISSION_DENIED", "central JGDW"), before + 1);
	assert_int_equal(stored("FY-DZB", "2025-04").revisions, 0);
}

/* ---- exactly once -------------------------------------------------------------------------- */

/* A call id names one request: reused for different data, it is refused and nothing is stored. */
static void test_call_id_reused(void **state)
{
	Yuebao__V1__SubmitRequest req;
	char id[RPC_CALL_ID_LEN + 1];
	struct stored s;

	(void)state;
	assert_int_equal(rpc_new_call_id(id), YB_OK);
	req = submit_request("FY-DZB", "2024-12", "", "30");
	assert_int_equal(call_as(BRANCH, SUBMIT, &req.base, id, NULL), YB_OK);
	req = submit_request("FY-DZB", "2024-12", "", "31");
	assert_int_equal(call_as(BRANCH, SUBMIT, &req.base, id, NULL), YB_ALREADY_EXISTS);
	s = stored("FY-DZB", "2024-12");
	assert_int_equal(s.revisions, 1);
	assert_string_equal(s.members_total, "30");
}

/* Serves the same request bytes twice: both OK, and the second reply is the first, byte for byte.
 */
static void serve_twice(enum who w, enum method m, const ProtobufCMessage *in)
{
	uint8_t *req = NULL, *reply[2] = {NULL, NULL};
	size_t len = 0, reply_len[2] = {0, 0};

	assert_int_equal(inproc_request(ids[w], method_name(m), in, NULL, "en", &req, &len), YB_OK);
	for (int i = 0; i < 2; i++) {
		Yuebao__V1__RpcReply *rep = serve(req, len, &reply[i], &reply_len[i]);
		assert_int_equal(rep->status, YB_OK);
		yuebao__v1__rpc_reply__free_unpacked(rep, NULL);
	}
	assert_int_equal(reply_len[0], reply_len[1]);
	assert_memory_equal(reply[0], reply[1], reply_len[0]);
	free(reply[0]);
	free(reply[1]);
	free(req);
}

static void test_submit_exactly_once(void **state)
{
	Yuebao__V1__SubmitRequest req = submit_request("FY-DZB", "2025-02", "", "30");
	Yuebao__V1__HistoryRequest his = YUEBAO__V1__HISTORY_REQUEST__INIT;
	Yuebao__V1__HistoryReply *h = NULL;

	(void)state;
	serve_twice(BRANCH, SUBMIT, &req.base);
	assert_int_equal(stored("FY-DZB", "2025-02").revisions, 1);
	his.org = "FY-DZB";
	his.period = "2025-02";
	assert_int_equal(call_as(AUDITOR_ROOT, HISTORY, &his.base, NULL, (ProtobufCMessage **)&h),
	                 YB_OK);
	assert_int_equal(h->n_revisions, 1);
	assert_int_equal(h->revisions[0]->revision, 1);
	yuebao__v1__history_reply__free_unpacked(h, NULL);
	assert_int_equal(audited("FY-DZB", "2025-02", "submit", NULL), 1);
}

static void test_review_exactly_once(void **state)
{
	Yuebao__V1__ReviewRequest req = YUEBAO__V1__REVIEW_REQUEST__INIT;
	struct stored s;

	(void)state;
	assert_int_equal(submit(BRANCH, "FY-DZB", "2025-03", "", "30"), YB_OK);
	req.org = "FY-DZB";
	req.period = "2025-03";
	req.action = "reject";
	req.comment = "please check the totals";
	serve_twice(CENTRAL_ROOT, REVIEW, &req.base);
	s = stored("FY-DZB", "2025-03");
	assert_int_equal(s.reviews, 1);
	assert_string_equal(s.state, "rejected");
	assert_int_equal(audited("FY-DZB", "2025-03", "review:reject", NULL), 1);
}

/* ---- the daemon ------------------------------------------------------------------------------ */

static int teardown(void **state)
{
	(void)state;
	server_close(srv);
	srv = NULL;
	for (int w = 0; w < N_WHO; w++) {
		pki_identity_free(ids[w]);
		ids[w] = NULL;
	}
	tz_free(zone);
	zone = NULL;
	inproc_rmdir(workdir);
	return 0;
}

/* Certificates for every caller, and the daemon, in a fresh directory. */
static int setup(void **state)
{
	char issue[N_WHO][80];
	const char *list[N_WHO];
	struct errbuf eb = {{0}};

	for (int w = 0; w < N_WHO; w++) {
		snprintf(issue[w], sizeof(issue[w]), "%s %s", principals[w].role,
		         principals[w].org);
		list[w] = issue[w];
	}
	if (inproc_mkdir(workdir, sizeof(workdir), "yuebao-test-server") != YB_OK ||
	    inproc_make_certs(workdir, list, N_WHO) != YB_OK) {
		fprintf(stderr, "test_server: cannot make certificates in %s\n", workdir);
		return teardown(state), -1;
	}
	for (int w = 0; w < N_WHO; w++)
		if (inproc_load_caller(workdir, principals[w].role, principals[w].org, &ids[w],
		                       &eb) != YB_OK)
			break;
	if (eb.msg[0] != '\0' || tz_load(TZ_DEFAULT, &zone, &eb) != YB_OK ||
	    inproc_open(workdir, zone, true, &srv, &eb) != YB_OK) {
		fprintf(stderr, "test_server: %s\n", eb.msg);
		return teardown(state), -1;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_matrix_covers_the_service),
	    cmocka_unit_test(test_authorisation_matrix),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_denial_audited),
	    cmocka_unit_test(test_call_id_reused),
	    cmocka_unit_test(test_submit_exactly_once),
	    cmocka_unit_test(test_review_exactly_once),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
