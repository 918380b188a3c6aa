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
#include "handle_review.h"
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

/* A proof's n hashes as reply bytes in the call's arena (*n_out set); NULL when out of memory. */
static ProtobufCBinaryData *proof_to_reply(struct call *c, const uint8_t (*hashes)[MERKLE_HASH_LEN],
                                           size_t n, size_t *n_out)
{
	ProtobufCBinaryData *out = call_alloc(c, (n + 1) * sizeof(*out));
	uint8_t *copy = call_alloc(c, n * MERKLE_HASH_LEN + 1);

	if (out == NULL || copy == NULL)
		return NULL;
	if (n > 0)
		memcpy(copy, hashes, n * MERKLE_HASH_LEN);
	for (size_t i = 0; i < n; i++)
		out[i] = (ProtobufCBinaryData){MERKLE_HASH_LEN, copy + i * MERKLE_HASH_LEN};
	*n_out = n;
	return out;
}

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
	if (r->checkpoint == NULL ||
	    (r->inclusion = proof_to_reply(c, incl, n_incl, &r->n_inclusion)) == NULL ||
	    (r->consistency = proof_to_reply(c, cons, n_cons, &r->n_consistency)) == NULL) {
		rc = YB_ENOMEM;
		goto done;
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

/* A page of AuditExport being filled, whichever part it is of. */
struct export_page {
	struct call *c;
	void **items; /* the page's messages: the reply's field named for the part */
	size_t n;
	struct store_page page;
	uint64_t after_size; /* the request's: where checkpoints start */
	size_t used;         /* bytes of the items in the page */
	long next;           /* the position after the page; -1: page.offset + n */
};

/*
 * Adds msg, of packed bytes, to the page: 0, or PAGE_FULL when the page has
 * no room for it (then it ends, and there may be more).
 */
static int page_add(struct export_page *ep, void *msg, size_t packed)
{
	if (!call_page_takes(ep->c, ep->n, &ep->used, packed))
		return PAGE_FULL;
	ep->items[ep->n++] = msg;
	return 0;
}

/* The page's org and period fields for key, in the call's arena. */
static void export_key(struct call *c, struct return_key key, char **org, char **period)
{
	char text[PERIOD_TEXT_MAX];

	period_format_month(key.month, text, sizeof(text));
	*org = call_strdup(c, key.org);
	*period = call_strdup(c, text);
}

static int export_revision(struct export_page *ep, struct return_key key,
                           const struct store_export_revision *row)
{
	struct call *c = ep->c;
	Yuebao__V1__ExportRevision *e = call_alloc(c, sizeof(*e));
	struct store_revision_row *full = NULL;
	uint8_t *req = call_alloc(c, row->request_len + 1);
	int rc;

	if (e == NULL || req == NULL)
		return YB_ENOMEM;
	yuebao__v1__export_revision__init(e);
	memcpy(req, row->request, row->request_len);
	export_key(c, key, &e->org, &e->period);
	e->revision = row->revision;
	e->state = call_strdup(c, row->state);
	e->request_sha256 = call_strdup(c, row->request_sha256);
	e->request.data = req;
	e->request.len = row->request_len;
	if ((rc = store_get_revision(c->store, key, row->revision, &full, &c->msg)) != YB_OK)
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
	if (rc != YB_OK)
		return rc;
	return page_add(ep, e, yuebao__v1__export_revision__get_packed_size(e));
}

static int export_review(struct export_page *ep, struct return_key key,
                         const struct store_review *rv)
{
	Yuebao__V1__ExportReview *x = call_alloc(ep->c, sizeof(*x));
	Yuebao__V1__ReviewEvent *e = review_event(ep->c, rv);

	if (x == NULL || e == NULL)
		return YB_ENOMEM;
	yuebao__v1__export_review__init(x);
	x->review = e;
	export_key(ep->c, key, &x->org, &x->period);
	return page_add(ep, x, yuebao__v1__export_review__get_packed_size(x));
}

static int export_closure(struct export_page *ep, struct return_key key,
                          const struct store_export_closure *row)
{
	Yuebao__V1__ExportClosure *x = call_alloc(ep->c, sizeof(*x));

	if (x == NULL)
		return YB_ENOMEM;
	yuebao__v1__export_closure__init(x);
	export_key(ep->c, key, &x->org, &x->period);
	x->closed = row->closed;
	x->comment = call_strdup(ep->c, row->comment);
	x->subject = call_strdup(ep->c, row->subject);
	x->fingerprint = call_strdup(ep->c, row->fingerprint);
	x->at_ms = row->at_ms;
	return page_add(ep, x, yuebao__v1__export_closure__get_packed_size(x));
}

/* A store_export_fn: the row as its part's message, added to the page. */
static int on_export_row(void *ctx, const struct store_export_row *row)
{
	struct export_page *ep = ctx;

	switch (row->part) {
	case STORE_EXPORT_REVISIONS:
		return export_revision(ep, row->key, &row->as.revision);
	case STORE_EXPORT_REVIEWS:
		return export_review(ep, row->key, &row->as.review);
	case STORE_EXPORT_CLOSURES:
		return export_closure(ep, row->key, &row->as.closure);
	}
	return YB_INTERNAL;
}

static int on_export_checkpoint(void *ctx, const struct checkpoint *cp)
{
	struct export_page *ep = ctx;
	Yuebao__V1__Checkpoint *m = handle_audit_checkpoint(ep->c, cp);

	if (m == NULL)
		return YB_ENOMEM;
	return page_add(ep, m, yuebao__v1__checkpoint__get_packed_size(m));
}

/*
 * Checkpoints are paged by log size, not by offset: a page starts at the
 * request's after_size or the token's size, and the next at the size after
 * the last checkpoint sent.
 */
static int export_checkpoints(struct export_page *ep)
{
	uint64_t from = ep->page.offset > ep->after_size ? ep->page.offset : ep->after_size;
	int rc = store_scan_checkpoints(ep->c->store, from > 0 ? from : 1, ep->page.limit,
	                                on_export_checkpoint, ep, &ep->c->msg);

	if (ep->n > 0)
		ep->next = (long)((Yuebao__V1__Checkpoint *)ep->items[ep->n - 1])->size + 1;
	else
		ep->next = (long)from;
	return rc;
}

/* The parts of the audit bundle, as AuditExportRequest.part names them: the store's and one. */
enum export_part {
	PART_REVISIONS = STORE_EXPORT_REVISIONS,
	PART_REVIEWS = STORE_EXPORT_REVIEWS,
	PART_CLOSURES = STORE_EXPORT_CLOSURES,
	PART_CHECKPOINTS
};

/* Each part's name: also the name of its field in AuditExportReply. */
static const char *const export_part_names[] = {[PART_REVISIONS] = "revisions",
                                                [PART_REVIEWS] = "reviews",
                                                [PART_CLOSURES] = "closures",
                                                [PART_CHECKPOINTS] = "checkpoints"};

/* The part named name into *out; false for none. */
static bool export_part_parse(const char *name, enum export_part *out)
{
	for (size_t i = 0; i < sizeof(export_part_names) / sizeof(export_part_names[0]); i++)
		if (strcmp(name, export_part_names[i]) == 0) {
			*out = (enum export_part)i;
			return true;
		}
	return false;
}

/* Fills a page of part: YB_OK, PAGE_FULL, or the store's failure. */
static int export_fill(struct export_page *ep, enum export_part part)
{
	if (part == PART_CHECKPOINTS)
		return export_checkpoints(ep);
	return store_export(ep->c->store, (enum store_export_part)part, &ep->page, on_export_row,
	                    ep, &ep->c->msg);
}

/* Sets the reply's repeated field named for part to the page's items. */
static void export_attach(Yuebao__V1__AuditExportReply *r, enum export_part part,
                          const struct export_page *ep)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(
	    r->base.descriptor, export_part_names[part]);

	assert(f != NULL && f->label == PROTOBUF_C_LABEL_REPEATED &&
	       f->type == PROTOBUF_C_TYPE_MESSAGE);
	*(size_t *)((char *)r + f->quantifier_offset) = ep->n;
	*(void ***)((char *)r + f->offset) = ep->items;
}

yb_status handle_audit_export(struct call *c, const ProtobufCMessage *in, ProtobufCMessage *out)
{
	const Yuebao__V1__AuditExportRequest *req = (const Yuebao__V1__AuditExportRequest *)in;
	Yuebao__V1__AuditExportReply *r = (Yuebao__V1__AuditExportReply *)out;
	struct export_page ep = {.c = c, .after_size = req->after_size, .next = -1};
	size_t cert_len = 0;
	long from;
	enum export_part part;
	int idx, rc = YB_OK;

	ep.page.limit = call_page_size(req->page_size, 200, 2000);
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
		ep.page.since_ms = since.at_ms;
	}
	ep.page.offset = (uint64_t)from;
	if (!export_part_parse(req->part, &part))
		return call_refuse(
		    c, YB_INVALID_ARGUMENT,
		    _("part '%s' is not revisions, reviews, closures or checkpoints"), req->part);
	/* One array of page items (pointers to messages), whichever part's type they are. */
	if ((ep.items = call_alloc(c, (ep.page.limit + 1) * sizeof(void *))) == NULL)
		return YB_ENOMEM;
	/*
	 * A page ends when it holds page.limit items or is full (PAGE_FULL);
	 * then there may be more, and the token says where they start.
	 */
	rc = export_fill(&ep, part);
	if (rc != YB_OK && rc != PAGE_FULL)
		return rc;
	export_attach(r, part, &ep);
	if (rc == PAGE_FULL || ep.n == ep.page.limit)
		r->next_page_token =
		    call_make_token(c, 'x', ep.next >= 0 ? ep.next : from + (long)ep.n);
	r->log_cert.data = (uint8_t *)pki_identity_cert(c->signer, &cert_len);
	r->log_cert.len = cert_len;
	return YB_OK;
}
