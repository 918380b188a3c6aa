/*
 * handle_audit.c - AuditLog, AuditProve, AuditExport and AuditCosign, and the checkpoint
 * and receipt messages (see handle_audit.h).
 */
#include "handle_audit.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "hash.h"
#include "i18n.h"
#include "period.h"
#include "store.h"
#include "store_audit.h"
#include "store_returns.h"
#include "store_review.h"

/* A scan callback's answer that the page is full: stops the scan (not a status). */
#define PAGE_FULL 1001

/* A Checkpoint message in the call's arena, copied from cp. */
Yuebao__V1__Checkpoint *handle_audit_checkpoint(struct call *c, const struct checkpoint *cp)
{
	Yuebao__V1__Checkpoint *m = call_alloc(c, sizeof(*m));
	struct checkpoint *copy = call_alloc(c, sizeof(*copy));

	if (m == NULL || copy == NULL)
		return NULL;
	*copy = *cp;
	yuebao__v1__checkpoint__init(m);
	m->size = copy->size;
	m->root.data = copy->root;
	m->root.len = sizeof(copy->root);
	m->at_ms = copy->at_ms;
	m->signature.data = copy->sig;
	m->signature.len = copy->sig_len;
	return m;
}

/* A Receipt message in the call's arena. */
Yuebao__V1__Receipt *handle_audit_receipt(struct call *c, const struct audit_receipt *ar)
{
	Yuebao__V1__Receipt *r = call_message(c, &yuebao__v1__receipt__descriptor);
	uint8_t *leaf = call_alloc(c, sizeof(ar->leaf));
	size_t cert_len = 0;

	if (r == NULL || leaf == NULL)
		return NULL;
	if ((r->checkpoint = handle_audit_checkpoint(c, &ar->checkpoint)) == NULL)
		return NULL;
	memcpy(leaf, ar->leaf, sizeof(ar->leaf));
	r->index = ar->index;
	r->leaf_hash.data = leaf;
	r->leaf_hash.len = sizeof(ar->leaf);
	r->log_cert.data = (uint8_t *)pki_identity_cert(c->signer, &cert_len);
	r->log_cert.len = cert_len;
	return r;
}

struct log_page {
	struct call *c;
	Yuebao__V1__AuditLogReply *r;
	uint32_t size;
	size_t used; /* bytes of the entries in the page */
	uint64_t next;
};

static int on_audit_entry(void *ctx, const struct store_audit_row *row)
{
	struct log_page *lp = ctx;
	struct audit_actor who;
	Yuebao__V1__AuditEntry *e = call_alloc(lp->c, sizeof(*e));
	uint8_t *entry = call_alloc(lp->c, row->entry_len + 32);

	if (e == NULL || entry == NULL)
		return YB_ENOMEM;
	if (lp->r->n_entries == lp->size) {
		lp->next = row->seq; /* one more than the page holds: there is a next page */
		return PAGE_FULL;
	}
	yuebao__v1__audit_entry__init(e);
	memcpy(entry, row->entry, row->entry_len);
	memcpy(entry + row->entry_len, row->leaf, 32);
	e->index = row->seq - 1;
	e->at_ms = row->at_ms;
	e->action = call_strdup(lp->c, row->action);
	e->object = call_strdup(lp->c, row->object);
	e->entry.data = entry;
	e->entry.len = row->entry_len;
	e->leaf_hash.data = entry + row->entry_len;
	e->leaf_hash.len = 32;
	audit_entry_actor(row->entry, row->entry_len, &who);
	e->actor_role = call_strdup(lp->c, who.role);
	e->actor_org = call_strdup(lp->c, who.org);
	e->fingerprint = call_strdup(lp->c, who.fingerprint);
	e->actor_unverified = !who.verified;
	e->comment = call_strdup(lp->c, row->comment ? row->comment : "");
	if (!call_page_takes(lp->c, lp->r->n_entries, &lp->used,
	                     yuebao__v1__audit_entry__get_packed_size(e))) {
		lp->next = row->seq;
		return PAGE_FULL;
	}
	lp->r->entries[lp->r->n_entries++] = e;
	return 0;
}

/*
 * The codes of unit idx and every unit below it, as a JSON array for the
 * store ("[\"FY-DZZ\",\"FY-DZB\"]"); NULL when out of memory. Codes are
 * [A-Z0-9-], so they need no escaping. Freed with the call.
 */
static const char *subtree_json(struct call *c, int idx)
{
	const struct orgtree *t = c->world->orgs;
	size_t len = 3, at = 0;
	char *out;

	for (size_t u = 0; u < t->n; u++)
		if (orgtree_within(t, (int)u, idx))
			len += strlen(t->units[u].code) + 3;
	if ((out = call_alloc(c, len)) == NULL)
		return NULL;
	out[at++] = '[';
	for (size_t u = 0; u < t->n; u++)
		if (orgtree_within(t, (int)u, idx))
			at += (size_t)sprintf(out + at, "%s\"%s\"", at > 1 ? "," : "",
			                      t->units[u].code);
	out[at++] = ']';
	out[at] = '\0';
	assert(at < len);
	return out;
}

yb_status handle_audit_log(struct call *c, const ProtobufCMessage *in, ProtobufCMessage *out)
{
	const Yuebao__V1__AuditLogRequest *req = (const Yuebao__V1__AuditLogRequest *)in;
	Yuebao__V1__AuditLogReply *r = (Yuebao__V1__AuditLogReply *)out;
	struct log_page lp = {.c = c, .r = r, .size = call_page_size(req->page_size, 100, 1000)};
	struct period p = {0, 0x7fffffff};
	struct checkpoint cp;
	const char *orgs = NULL;
	size_t cert_len = 0;
	long from;
	int idx, rc;

	if ((rc = call_authorize(c, req->org, CALL_AUDIT, &idx)) != YB_OK)
		return rc;
	/* The whole log for the root; the entries of a subtree's units below it. */
	if (c->world->orgs->units[idx].parent >= 0 && (orgs = subtree_json(c, idx)) == NULL)
		return YB_ENOMEM;
	if (req->period[0] && (rc = period_parse(req->period, &p, &c->msg)) != YB_OK)
		return rc;
	if ((from = call_parse_token(req->page_token, 'e')) < 0)
		return call_refuse(c, YB_INVALID_ARGUMENT,
		                   _("page token '%s' is not one this server gave"),
		                   req->page_token);
	if ((r->entries = call_alloc(c, (lp.size + 1) * sizeof(*r->entries))) == NULL)
		return YB_ENOMEM;
	/* seq is the 0-based index + 1: after_size entries skipped start at seq after_size + 1. */
	if ((uint64_t)from < req->after_size + 1)
		from = (long)(req->after_size + 1);
	rc = store_audit_scan(c->store, (uint64_t)from, req->since_ms, orgs, p.first, p.last,
	                      lp.size + 1, on_audit_entry, &lp, &c->msg);
	if (rc != YB_OK && rc != PAGE_FULL)
		return rc;
	r->next_page_token = lp.next ? call_make_token(c, 'e', (long)lp.next) : "";
	rc = store_checkpoint_get(c->store, 0, &cp, &c->msg);
	if (rc == YB_OK && (r->checkpoint = handle_audit_checkpoint(c, &cp)) == NULL)
		return YB_ENOMEM;
	if (rc != YB_OK && rc != YB_NOT_FOUND)
		return rc;
	r->log_cert.data = (uint8_t *)pki_identity_cert(c->signer, &cert_len);
	r->log_cert.len = cert_len;
	return YB_OK;
}

static yb_status add_witnessed(struct call *c, const struct checkpoint *latest,
                               Yuebao__V1__AuditProveReply *r);

yb_status handle_audit_prove(struct call *c, const ProtobufCMessage *in, ProtobufCMessage *out)
{
	const Yuebao__V1__AuditProveRequest *req = (const Yuebao__V1__AuditProveRequest *)in;
	Yuebao__V1__AuditProveReply *r = (Yuebao__V1__AuditProveReply *)out;
	uint8_t(*incl)[MERKLE_HASH_LEN] = NULL, (*cons)[MERKLE_HASH_LEN] = NULL;
	size_t n_incl = 0, n_cons = 0, cert_len = 0;
	struct checkpoint cp;
	int rc;

	if ((rc = audit_proofs(c->store, req->index, req->old_size, &cp, &incl, &n_incl, &cons,
	                       &n_cons, &c->msg)) != YB_OK)
		return rc;
	r->checkpoint = handle_audit_checkpoint(c, &cp);
	r->inclusion = call_alloc(c, (n_incl + 1) * sizeof(*r->inclusion));
	r->consistency = call_alloc(c, (n_cons + 1) * sizeof(*r->consistency));
	if (r->checkpoint == NULL || r->inclusion == NULL || r->consistency == NULL) {
		rc = YB_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < n_incl; i++) {
		uint8_t *h = call_alloc(c, MERKLE_HASH_LEN);
		if (h == NULL) {
			rc = YB_ENOMEM;
			goto done;
		}
		memcpy(h, incl[i], MERKLE_HASH_LEN);
		r->inclusion[r->n_inclusion++] = (ProtobufCBinaryData){MERKLE_HASH_LEN, h};
	}
	for (size_t i = 0; i < n_cons; i++) {
		uint8_t *h = call_alloc(c, MERKLE_HASH_LEN);
		if (h == NULL) {
			rc = YB_ENOMEM;
			goto done;
		}
		memcpy(h, cons[i], MERKLE_HASH_LEN);
		r->consistency[r->n_consistency++] = (ProtobufCBinaryData){MERKLE_HASH_LEN, h};
	}
	r->log_cert.data = (uint8_t *)pki_identity_cert(c->signer, &cert_len);
	r->log_cert.len = cert_len;
	rc = add_witnessed(c, &cp, r);
done:
	free(incl);
	free(cons);
	return rc;
}

/* Cosignatures served with a proof: the first this many of the latest cosigned checkpoint. */
#define PROVE_MAX_COSIGNS 32

struct cosigns {
	struct call *c;
	uint64_t size;
	Yuebao__V1__Cosignature **list; /* PROVE_MAX_COSIGNS */
	size_t n;
};

static int add_cosign(void *ctx, const struct store_cosign *w)
{
	struct cosigns *cs = ctx;
	Yuebao__V1__Cosignature *m = call_message(cs->c, &yuebao__v1__cosignature__descriptor);
	uint8_t *cert = call_alloc(cs->c, w->cert_len + 1),
	        *sig = call_alloc(cs->c, w->sig_len + 1);

	if (m == NULL || cert == NULL || sig == NULL)
		return YB_ENOMEM;
	memcpy(cert, w->cert, w->cert_len);
	memcpy(sig, w->sig, w->sig_len);
	m->witness_cert = (ProtobufCBinaryData){w->cert_len, cert};
	m->signature = (ProtobufCBinaryData){w->sig_len, sig};
	m->at_ms = w->at_ms;
	cs->size = w->size;
	cs->list[cs->n++] = m;
	return 0;
}

/*
 * The witnessed part of a proof: the latest checkpoint witnesses cosigned,
 * their cosignatures and the consistency proof from it to latest (nothing
 * when none was cosigned).
 */
static yb_status add_witnessed(struct call *c, const struct checkpoint *latest,
                               Yuebao__V1__AuditProveReply *r)
{
	struct cosigns cs = {c, 0, call_alloc(c, PROVE_MAX_COSIGNS * sizeof(*cs.list)), 0};
	uint8_t(*incl)[MERKLE_HASH_LEN] = NULL, (*cons)[MERKLE_HASH_LEN] = NULL;
	size_t n_incl = 0, n_cons = 0;
	struct checkpoint w, now;
	yb_status rc;

	if (cs.list == NULL)
		return YB_ENOMEM;
	if ((rc = store_cosigns_latest(c->store, PROVE_MAX_COSIGNS, add_cosign, &cs, &c->msg)) !=
	    YB_OK)
		return rc;
	if (cs.n == 0 || cs.size > latest->size)
		return YB_OK;
	if ((rc = store_checkpoint_get(c->store, cs.size, &w, &c->msg)) != YB_OK)
		return rc == YB_NOT_FOUND ? YB_OK : rc;
	if ((rc = audit_proofs(c->store, 0, cs.size, &now, &incl, &n_incl, &cons, &n_cons,
	                       &c->msg)) != YB_OK)
		return rc;
	free(incl);
	/* The log grew between the two reads: the proof is to a newer head; none then. */
	if (now.size != latest->size) {
		free(cons);
		return YB_OK;
	}
	r->witnessed = handle_audit_checkpoint(c, &w);
	r->witnessed_consistency = call_alloc(c, (n_cons + 1) * sizeof(*r->witnessed_consistency));
	if (r->witnessed == NULL || r->witnessed_consistency == NULL) {
		free(cons);
		return YB_ENOMEM;
	}
	for (size_t i = 0; i < n_cons; i++) {
		uint8_t *h = call_alloc(c, MERKLE_HASH_LEN);
		if (h == NULL) {
			free(cons);
			return YB_ENOMEM;
		}
		memcpy(h, cons[i], MERKLE_HASH_LEN);
		r->witnessed_consistency[r->n_witnessed_consistency++] =
		    (ProtobufCBinaryData){MERKLE_HASH_LEN, h};
	}
	free(cons);
	r->cosignatures = cs.list;
	r->n_cosignatures = cs.n;
	return YB_OK;
}

/* What an AuditCosign's check decided. */
struct cosign_plan {
	struct checkpoint cp;
	const uint8_t *sig; /* the request's */
	size_t sig_len;
};

yb_status handle_audit_cosign_check(struct call *c, const ProtobufCMessage *in,
                                    struct write_plan *plan)
{
	const Yuebao__V1__AuditCosignRequest *req = (const Yuebao__V1__AuditCosignRequest *)in;
	const Yuebao__V1__Checkpoint *m = req->checkpoint;
	struct cosign_plan *p = call_alloc(c, sizeof(*p));
	struct pki_principal witness;
	struct checkpoint held;
	struct errbuf why = {{0}};
	int rc;

	if (p == NULL)
		return YB_ENOMEM;
	if (c->who->kind != PKI_ROLE_AUDITOR && c->who->kind != PKI_ROLE_CENTRAL)
		return call_refuse(c, YB_PERMISSION_DENIED,
		                   _("a %s certificate cannot witness the log: auditors and the "
		                     "central office do"),
		                   c->who->role);
	if (m == NULL || m->root.len != MERKLE_HASH_LEN || m->signature.len > PKI_MAX_SIGNATURE ||
	    req->signature.len == 0 || req->signature.len > PKI_MAX_SIGNATURE)
		return call_refuse(c, YB_INVALID_ARGUMENT, _("no checkpoint or cosignature"));
	p->cp.size = m->size;
	memcpy(p->cp.root, m->root.data, MERKLE_HASH_LEN);
	p->cp.at_ms = m->at_ms;
	memcpy(p->cp.sig, m->signature.data, m->signature.len);
	p->cp.sig_len = m->signature.len;
	rc = store_checkpoint_get(c->store, p->cp.size, &held, &c->msg);
	if (rc == YB_NOT_FOUND ||
	    (rc == YB_OK &&
	     (memcmp(held.root, p->cp.root, MERKLE_HASH_LEN) != 0 || held.at_ms != p->cp.at_ms)))
		return call_refuse(c, YB_FAILED_PRECONDITION,
		                   _("this log holds no such checkpoint of %llu entries: the "
		                     "cosigned one is not this daemon's"),
		                   (unsigned long long)p->cp.size);
	if (rc != YB_OK)
		return rc;
	if (checkpoint_cosign_verify(&p->cp, c->world->verifier, c->caller_cert, c->caller_cert_len,
	                             req->signature.data, req->signature.len, PKI_ANY_TIME,
	                             &witness, &why) != YB_OK)
		return call_refuse(c, YB_INVALID_ARGUMENT, _("the cosignature does not verify: %s"),
		                   why.msg);
	p->sig = req->signature.data;
	p->sig_len = req->signature.len;
	plan->detail = p;
	return YB_OK;
}

yb_status handle_audit_cosign_apply(struct call *c, const struct write_plan *plan,
                                    struct write_result *res)
{
	const struct cosign_plan *p = plan->detail;
	Yuebao__V1__AuditCosignReply *r =
	    call_message(c, &yuebao__v1__audit_cosign_reply__descriptor);
	struct store_cosign w = {.size = p->cp.size,
	                         .fingerprint = c->who->fingerprint,
	                         .cert = c->caller_cert,
	                         .cert_len = c->caller_cert_len,
	                         .sig = p->sig,
	                         .sig_len = p->sig_len,
	                         .at_ms = c->now_ms};
	char *object = call_alloc(c, 48), *digest = call_alloc(c, 65);
	int rc;

	if (r == NULL || object == NULL || digest == NULL)
		return YB_ENOMEM;
	if ((rc = store_cosign_add(c->store, &w, &c->msg)) != YB_OK ||
	    (rc = store_cosign_count(c->store, p->cp.size, &r->witnesses, &c->msg)) != YB_OK)
		return rc;
	snprintf(object, 48, "checkpoint/%llu", (unsigned long long)p->cp.size);
	/* The entry commits to the cosignature itself. */
	hash_sha256_hex(p->sig, p->sig_len, digest);
	res->reply = &r->base;
	res->event = (struct audit_event){
	    .action = "cosign", .object = object, .org = "", .month = 0, .digest = digest};
	return YB_OK;
}

struct export_page {
	struct call *c;
	Yuebao__V1__AuditExportReply *r;
	uint32_t size;
	size_t used; /* bytes of the items in the page */
};

static int on_export_revision(void *ctx, const struct store_export_row *row)
{
	struct export_page *ep = ctx;
	struct call *c = ep->c;
	Yuebao__V1__ExportRevision *e = call_alloc(c, sizeof(*e));
	struct store_revision_row *full = NULL;
	char period[PERIOD_TEXT_MAX];
	uint8_t *req = call_alloc(c, row->request_len + 1);
	int rc;

	if (e == NULL || req == NULL)
		return YB_ENOMEM;
	yuebao__v1__export_revision__init(e);
	period_format_month(row->month, period, sizeof(period));
	memcpy(req, row->request, row->request_len);
	e->org = call_strdup(c, row->org);
	e->period = call_strdup(c, period);
	e->revision = row->revision;
	e->state = call_strdup(c, row->state);
	e->request_sha256 = call_strdup(c, row->request_sha256);
	e->request.data = req;
	e->request.len = row->request_len;
	if ((rc = store_get_revision(c->store, (struct return_key){row->org, row->month},
	                             row->revision, &full, &c->msg)) != YB_OK)
		return rc;
	e->received_at_ms = full->received_at_ms;
	e->on_time = full->on_time;
	e->reason = call_strdup(c, full->reason);
	e->submitter = call_strdup(c, full->subject);
	e->fingerprint = call_strdup(c, full->fingerprint);
	e->values = call_alloc(c, (full->n_values + 1) * sizeof(*e->values));
	for (size_t i = 0; e->values != NULL && i < full->n_values; i++) {
		Yuebao__V1__ExportValue *v = call_alloc(c, sizeof(*v));
		if (v == NULL)
			break;
		yuebao__v1__export_value__init(v);
		v->code = call_strdup(c, full->values[i].code);
		v->hundredths = full->values[i].value;
		e->values[e->n_values++] = v;
	}
	rc = e->n_values == full->n_values ? YB_OK : YB_ENOMEM;
	store_revision_row_free(full);
	if (rc == YB_OK && !call_page_takes(c, ep->r->n_revisions, &ep->used,
	                                    yuebao__v1__export_revision__get_packed_size(e)))
		return PAGE_FULL;
	if (rc == YB_OK)
		ep->r->revisions[ep->r->n_revisions++] = e;
	return rc;
}

static int on_export_review(void *ctx, const char *org, int month, const struct store_review *rv)
{
	struct export_page *ep = ctx;
	Yuebao__V1__ExportReview *x = call_alloc(ep->c, sizeof(*x));
	Yuebao__V1__ReviewEvent *e = call_alloc(ep->c, sizeof(*e));
	char period[PERIOD_TEXT_MAX];

	if (x == NULL || e == NULL)
		return YB_ENOMEM;
	yuebao__v1__export_review__init(x);
	yuebao__v1__review_event__init(e);
	period_format_month(month, period, sizeof(period));
	x->org = call_strdup(ep->c, org);
	x->period = call_strdup(ep->c, period);
	e->revision = rv->revision;
	e->action = call_strdup(ep->c, rv->action);
	e->comment = call_strdup(ep->c, rv->comment);
	e->reviewer = call_strdup(ep->c, rv->reviewer);
	e->fingerprint = call_strdup(ep->c, rv->fingerprint);
	e->at_ms = rv->at_ms;
	x->review = e;
	if (!call_page_takes(ep->c, ep->r->n_reviews, &ep->used,
	                     yuebao__v1__export_review__get_packed_size(x)))
		return PAGE_FULL;
	ep->r->reviews[ep->r->n_reviews++] = x;
	return 0;
}

static int on_export_closure(void *ctx, const struct store_closure_row *row)
{
	struct export_page *ep = ctx;
	Yuebao__V1__ExportClosure *x = call_alloc(ep->c, sizeof(*x));
	char period[PERIOD_TEXT_MAX];

	if (x == NULL)
		return YB_ENOMEM;
	yuebao__v1__export_closure__init(x);
	period_format_month(row->month, period, sizeof(period));
	x->org = call_strdup(ep->c, row->org);
	x->period = call_strdup(ep->c, period);
	x->closed = row->closed;
	x->comment = call_strdup(ep->c, row->comment);
	x->subject = call_strdup(ep->c, row->subject);
	x->fingerprint = call_strdup(ep->c, row->fingerprint);
	x->at_ms = row->at_ms;
	if (!call_page_takes(ep->c, ep->r->n_closures, &ep->used,
	                     yuebao__v1__export_closure__get_packed_size(x)))
		return PAGE_FULL;
	ep->r->closures[ep->r->n_closures++] = x;
	return 0;
}

static int on_export_checkpoint(void *ctx, const struct checkpoint *cp)
{
	struct export_page *ep = ctx;
	Yuebao__V1__Checkpoint *m = handle_audit_checkpoint(ep->c, cp);

	if (m == NULL)
		return YB_ENOMEM;
	if (!call_page_takes(ep->c, ep->r->n_checkpoints, &ep->used,
	                     yuebao__v1__checkpoint__get_packed_size(m)))
		return PAGE_FULL;
	ep->r->checkpoints[ep->r->n_checkpoints++] = m;
	return 0;
}

/* The parts of the audit bundle, as AuditExportRequest.part names them. */
enum export_part { PART_REVISIONS, PART_REVIEWS, PART_CLOSURES, PART_CHECKPOINTS };

/* The part named name into *out; false for none. */
static bool export_part_parse(const char *name, enum export_part *out)
{
	static const char *const names[] = {[PART_REVISIONS] = "revisions",
	                                    [PART_REVIEWS] = "reviews",
	                                    [PART_CLOSURES] = "closures",
	                                    [PART_CHECKPOINTS] = "checkpoints"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0) {
			*out = (enum export_part)i;
			return true;
		}
	return false;
}

yb_status handle_audit_export(struct call *c, const ProtobufCMessage *in, ProtobufCMessage *out)
{
	const Yuebao__V1__AuditExportRequest *req = (const Yuebao__V1__AuditExportRequest *)in;
	Yuebao__V1__AuditExportReply *r = (Yuebao__V1__AuditExportReply *)out;
	struct export_page ep = {.c = c, .r = r, .size = call_page_size(req->page_size, 200, 2000)};
	size_t cert_len = 0, n = 0;
	long from, next = -1; /* the position after the page, when not from + n */
	int64_t since_ms = 0;
	enum export_part part;
	void *items;
	int idx, rc = YB_OK;

	if ((c->who->kind != PKI_ROLE_AUDITOR && c->who->kind != PKI_ROLE_CENTRAL) ||
	    (idx = orgtree_find(c->world->orgs, c->who->org)) != 0)
		return call_refuse(
		    c, YB_PERMISSION_DENIED,
		    _("only an auditor or the central office at the root of the org tree "
		      "exports the whole audit log, not %s %s"),
		    c->who->role, c->who->org);
	if ((from = call_parse_token(req->page_token, 'x')) < 0)
		return call_refuse(c, YB_INVALID_ARGUMENT,
		                   _("page token '%s' is not one this server gave"),
		                   req->page_token);
	/* An incremental export: rows from the time of the checkpoint it starts at. */
	if (req->after_size > 0) {
		struct checkpoint since;
		if ((rc = store_checkpoint_get(c->store, req->after_size, &since, &c->msg)) ==
		    YB_NOT_FOUND)
			return call_refuse(c, YB_OUT_OF_RANGE,
			                   _("the audit log has no checkpoint of %llu entries"),
			                   (unsigned long long)req->after_size);
		if (rc != YB_OK)
			return rc;
		since_ms = since.at_ms;
	}
	/*
	 * A page ends when it holds page_size items or is full (PAGE_FULL); then
	 * there may be more, and the token says where they start.
	 */
	if (!export_part_parse(req->part, &part))
		return call_refuse(
		    c, YB_INVALID_ARGUMENT,
		    _("part '%s' is not revisions, reviews, closures or checkpoints"), req->part);
	/* One array of page items (pointers to messages), whichever part's type they are. */
	if ((items = call_alloc(c, (ep.size + 1) * sizeof(void *))) == NULL)
		return YB_ENOMEM;
	switch (part) {
	case PART_REVIEWS:
		r->reviews = items;
		rc = store_export_reviews(c->store, since_ms, (uint64_t)from, ep.size,
		                          on_export_review, &ep, &c->msg);
		n = r->n_reviews;
		break;
	case PART_REVISIONS:
		r->revisions = items;
		rc = store_export_revisions(c->store, since_ms, (uint64_t)from, ep.size,
		                            on_export_revision, &ep, &c->msg);
		n = r->n_revisions;
		break;
	case PART_CLOSURES:
		r->closures = items;
		rc = store_export_closures(c->store, since_ms, (uint64_t)from, ep.size,
		                           on_export_closure, &ep, &c->msg);
		n = r->n_closures;
		break;
	case PART_CHECKPOINTS:
		r->checkpoints = items;
		if ((uint64_t)from < req->after_size)
			from = (long)req->after_size;
		rc = store_scan_checkpoints(c->store, (uint64_t)(from > 0 ? from : 1), ep.size,
		                            on_export_checkpoint, &ep, &c->msg);
		n = r->n_checkpoints;
		/* Checkpoints go on from the size after the last one sent. */
		next = n > 0 ? (long)r->checkpoints[n - 1]->size + 1 : from;
		break;
	}
	if (rc != YB_OK && rc != PAGE_FULL)
		return rc;
	if (rc == PAGE_FULL || n == ep.size)
		r->next_page_token = call_make_token(c, 'x', next >= 0 ? next : from + (long)n);
	r->log_cert.data = (uint8_t *)pki_identity_cert(c->signer, &cert_len);
	r->log_cert.len = cert_len;
	return YB_OK;
}
