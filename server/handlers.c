/*
 * handlers.c - Ping, GetCatalog, Submit, GetReturn and Consolidate.
 */
#include "handlers.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consolidate.h"
#include "decimal.h"
#include "i18n.h"
#include "period.h"
#include "rollup.h"

/* Arena blocks: one malloc per allocation, freed together. */
struct call_block {
	struct call_block *next;
	max_align_t data[];
};

void *handlers_alloc(struct call *c, size_t n)
{
	struct call_block *b = calloc(1, sizeof(*b) + (n ? n : 1));

	if (b == NULL)
		return NULL;
	b->next = c->arena;
	c->arena = b;
	return b->data;
}

char *handlers_strdup(struct call *c, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = handlers_alloc(c, n);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

void handlers_release(struct call *c)
{
	while (c->arena != NULL) {
		struct call_block *b = c->arena;
		c->arena = b->next;
		free(b);
	}
}

/* Sets the call's refusal message (printf-style) and returns code. */
static int refuse(struct call *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(struct call *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg.msg, sizeof(c->msg.msg), fmt, ap);
	va_end(ap);
	return code;
}

/*
 * Adds a field error to the refusal. The list is allocated once at its cap,
 * so a request with many bad values costs linear memory; errors past the cap
 * are counted in the message only.
 */
static void add_error(struct call *c, const char *severity, const char *field, uint32_t line,
                      const char *value, const char *message)
{
	Yuebao__V1__FieldError *e;

	if (c->errors == NULL &&
	    (c->errors = handlers_alloc(c, HANDLERS_MAX_ERRORS * sizeof(*c->errors))) == NULL)
		return;
	if (c->n_errors >= HANDLERS_MAX_ERRORS || (e = handlers_alloc(c, sizeof(*e))) == NULL)
		return;
	yuebao__v1__field_error__init(e);
	e->severity = handlers_strdup(c, severity);
	e->field = handlers_strdup(c, field);
	e->line = line;
	e->value = handlers_strdup(c, value ? value : "");
	e->message = handlers_strdup(c, message);
	if (!e->severity || !e->field || !e->value || !e->message)
		return;
	c->errors[c->n_errors++] = e;
}

/*
 * Resolves the org unit a call is about ("" = the caller's own) and checks
 * the caller may act on it: a branch only on itself, central and auditor on
 * their subtree, and only a branch writes returns.
 */
static int authorize(struct call *c, const char *org, bool write, int *idx)
{
	const struct orgtree *t = c->world->orgs;
	const char *code = org[0] ? org : c->who->org;
	const char *role = c->who->role;
	int own;

	/*
	 * A branch is a unit without children: one issued for a unit with units
	 * under it would read their returns and add its own to their totals.
	 */
	if (strcmp(role, "branch") == 0) {
		own = orgtree_find(t, c->who->org);
		if (own >= 0 && !orgtree_is_leaf(t, own))
			return refuse(
			    c, YB_PERMISSION_DENIED,
			    _("the branch certificate of %s is refused: %s has units under "
			      "it in the org tree, and a branch certificate is only for a "
			      "unit without any; ask the administrator for a central or "
			      "auditor certificate"),
			    c->who->org, c->who->org);
	}
	*idx = orgtree_find(t, code);
	if (*idx < 0)
		return refuse(c, YB_NOT_FOUND, _("org unit '%s' is not in the org tree"), code);
	if (write) {
		if (strcmp(role, "branch") != 0)
			return refuse(c, YB_PERMISSION_DENIED,
			              _("a %s certificate cannot submit returns; only the branch "
			                "%s itself can"),
			              role, code);
		if (strcmp(code, c->who->org) != 0)
			return refuse(c, YB_PERMISSION_DENIED,
			              _("branch %s may not submit for org unit %s"), c->who->org,
			              code);
		return YB_OK;
	}
	if (strcmp(role, "branch") == 0) {
		if (strcmp(code, c->who->org) != 0)
			return refuse(c, YB_PERMISSION_DENIED,
			              _("branch %s may not read org unit %s"), c->who->org, code);
		return YB_OK;
	}
	if (strcmp(role, "central") != 0 && strcmp(role, "auditor") != 0)
		return refuse(c, YB_PERMISSION_DENIED, _("a %s certificate cannot read returns"),
		              role);
	own = orgtree_find(t, c->who->org);
	if (own < 0 || !orgtree_within(t, *idx, own))
		return refuse(c, YB_PERMISSION_DENIED,
		              _("%s may not read org unit %s outside its subtree"), c->who->org,
		              code);
	return YB_OK;
}

static int handle_ping(struct call *c, const ProtobufCMessage *in, ProtobufCMessage **out)
{
	Yuebao__V1__PingReply *r = handlers_alloc(c, sizeof(*r));
	int idx;

	(void)in;
	if (r == NULL)
		return YB_ENOMEM;
	yuebao__v1__ping_reply__init(r);
	idx = orgtree_find(c->world->orgs, c->who->org);
	r->version = YB_VERSION;
	r->subject = (char *)c->who->subject;
	r->role = (char *)c->who->role;
	r->org = (char *)c->who->org;
	r->org_name = idx >= 0 ? c->world->orgs->units[idx].name : "";
	r->server_time_ms = c->now_ms;
	if (strcmp(c->who->role, "admin") == 0) {
		/* The administrator renews these: ping shows when they run out. */
		time_t ca, crl;
		pki_verifier_dates(c->world->verifier, &ca, &crl);
		r->server_cert_not_after_ms = (int64_t)c->world->server_cert_not_after * 1000;
		r->ca_cert_not_after_ms = (int64_t)ca * 1000;
		r->crl_next_update_ms = (int64_t)crl * 1000;
	}
	*out = &r->base;
	return YB_OK;
}

static int handle_get_catalog(struct call *c, const ProtobufCMessage *in, ProtobufCMessage **out)
{
	const struct catalog *cat = c->world->cat;
	Yuebao__V1__CatalogReply *r = handlers_alloc(c, sizeof(*r));
	Yuebao__V1__CatalogFile *files = handlers_alloc(c, CATALOG_NFILES * sizeof(*files));
	Yuebao__V1__CatalogFile **list = handlers_alloc(c, CATALOG_NFILES * sizeof(*list));

	(void)in;
	if (r == NULL || files == NULL || list == NULL)
		return YB_ENOMEM;
	yuebao__v1__catalog_reply__init(r);
	for (size_t i = 0; i < CATALOG_NFILES; i++) {
		yuebao__v1__catalog_file__init(&files[i]);
		files[i].name = cat->files[i].name;
		files[i].content.data = (uint8_t *)cat->files[i].data;
		files[i].content.len = cat->files[i].len;
		list[i] = &files[i];
	}
	r->files = list;
	r->n_files = CATALOG_NFILES;
	r->digest = (char *)cat->digest;
	*out = &r->base;
	return YB_OK;
}

/* The month that has begun last on the deployment's wall clock. */
static int current_month(const struct call *c)
{
	return period_month_at(c->world->zone, c->now_ms / 1000);
}

static const char *finding_severity(enum catalog_finding_kind k)
{
	return k == FINDING_ERROR ? "error" : k == FINDING_WARNING ? "warning" : "skipped";
}

/*
 * A finding as the reply carries it: its sentence in the caller's language,
 * its code and its parameters; a finding stored before codes were (no code)
 * carries the text it was stored with. NULL when out of memory.
 */
static Yuebao__V1__FieldError *finding_reply(struct call *c, const char *severity,
                                             const char *field, uint32_t line, const char *value,
                                             const struct finding *what, const char *text)
{
	Yuebao__V1__FieldError *e = handlers_alloc(c, sizeof(*e));
	char *params = NULL;
	size_t n;

	if (e == NULL)
		return NULL;
	yuebao__v1__field_error__init(e);
	e->severity = handlers_strdup(c, severity);
	e->field = handlers_strdup(c, field);
	e->line = line;
	e->value = handlers_strdup(c, value);
	if (what->code == FINDING_CODE_NONE) {
		e->message = handlers_strdup(c, text);
	} else {
		n = finding_render(what, field, line, c->world->cat, NULL, 0);
		if ((e->message = handlers_alloc(c, n + 1)) != NULL)
			finding_render(what, field, line, c->world->cat, e->message, n + 1);
		e->kind = (char *)finding_code_name(what->code);
		if (finding_encode(what, &params) != YB_OK)
			return NULL;
		e->params = handlers_strdup(c, params);
		free(params);
	}
	if (!e->severity || !e->field || !e->value || !e->message || !e->params)
		return NULL;
	return e;
}

/* Converts findings other than errors into the reply and the stored rows. */
static int keep_findings(struct call *c, const struct catalog_findings *f,
                         Yuebao__V1__SubmitReply *r, struct store_finding **rows, size_t *n)
{
	size_t k = 0;

	*rows = handlers_alloc(c, (f->n + 1) * sizeof(**rows));
	r->findings = handlers_alloc(c, (f->n + 1) * sizeof(*r->findings));
	if (*rows == NULL || r->findings == NULL)
		return YB_ENOMEM;
	for (size_t i = 0; i < f->n; i++) {
		const struct catalog_finding *x = &f->items[i];
		Yuebao__V1__FieldError *e =
		    finding_reply(c, finding_severity(x->kind), x->code, (uint32_t)x->line,
		                  x->value, &x->what, x->message);
		if (e == NULL)
			return YB_ENOMEM;
		r->findings[k] = e;
		(*rows)[k] = (struct store_finding){e->severity, e->field, e->line,
		                                    e->value,    x->what,  e->message};
		k++;
	}
	r->n_findings = k;
	*n = k;
	return YB_OK;
}

/* The findings stored with a revision, for a reply, in the caller's language. */
static int stored_findings(struct call *c, const struct store_revision_row *row,
                           Yuebao__V1__FieldError ***out, size_t *n)
{
	*n = 0;
	if ((*out = handlers_alloc(c, (row->n_findings + 1) * sizeof(**out))) == NULL)
		return YB_ENOMEM;
	for (size_t i = 0; i < row->n_findings; i++) {
		const struct store_finding *sf = &row->findings[i];
		if (((*out)[i] = finding_reply(c, sf->severity, sf->field, sf->line, sf->value,
		                               &sf->what, sf->message)) == NULL)
			return YB_ENOMEM;
		(*n)++;
	}
	return YB_OK;
}

/* Checks the values; on errors, fills the refusal with every one of them. */
static int check_values(struct call *c, const Yuebao__V1__SubmitRequest *req,
                        struct catalog_values *vals, struct catalog_findings *f)
{
	size_t max_values = 2 * c->world->cat->n_elements + 100;
	struct catalog_entry *entries;
	int rc;

	/* A real return has one row per element; far more is an attack or a wrong file. */
	if (req->n_values > max_values)
		return status_fail(&c->msg, YB_RESOURCE_EXHAUSTED,
		                   _("the return has %zu values; the catalog has %zu elements"),
		                   req->n_values, c->world->cat->n_elements);
	if ((entries = handlers_alloc(c, (req->n_values + 1) * sizeof(*entries))) == NULL)
		return YB_ENOMEM;
	for (size_t i = 0; i < req->n_values; i++) {
		entries[i].code = req->values[i]->code;
		entries[i].value = req->values[i]->value;
		entries[i].line = req->values[i]->line;
	}
	rc = catalog_check(c->world->cat, entries, req->n_values, vals, f);
	if (rc == YB_INVALID_ARGUMENT) {
		for (size_t i = 0; i < f->n; i++)
			if (f->items[i].kind == FINDING_ERROR)
				add_error(c, "error", f->items[i].code, (uint32_t)f->items[i].line,
				          f->items[i].value, f->items[i].message);
		status_fail(&c->msg, rc,
		            f->errors > HANDLERS_MAX_ERRORS
		                ? _("the return has %zu errors (the first 200 are listed); nothing "
		                    "was stored")
		            : f->errors == 1 ? _("the return has %zu error; nothing was stored")
		                             : _("the return has %zu errors; nothing was stored"),
		            f->errors);
	} else if (rc != YB_OK) {
		status_fail(&c->msg, rc, _("cannot check the return: out of memory"));
	}
	return rc;
}

/* Where a month is closed: on org unit idx itself or on one of its ancestors. */
struct closure_info {
	bool closed;
	const char *by_org; /* the unit that closed it (owned by the tree) */
	char subject[256];
	int64_t at_ms;
};

static int find_closure(struct call *c, int idx, int month, struct closure_info *ci)
{
	const struct orgtree *t = c->world->orgs;
	int rc;

	memset(ci, 0, sizeof(*ci));
	for (int u = idx; u >= 0; u = t->units[u].parent) {
		if ((rc = store_closure(c->store, t->units[u].code, month, &ci->closed, ci->subject,
		                        sizeof(ci->subject), &ci->at_ms, &c->msg)) != YB_OK)
			return rc;
		if (ci->closed) {
			ci->by_org = t->units[u].code;
			return YB_OK;
		}
	}
	return YB_OK;
}

/* "2026-07-02 10:00 +08:00" in the deployment's time zone, for messages. */
static void format_when(const struct call *c, int64_t ms, char *buf, size_t len)
{
	tz_format(c->world->zone, ms, TZ_PEOPLE_MINUTES, buf, len);
}

/* The reviews of (org, month) as reply messages in the call's arena. */
static int reviews_to_reply(struct call *c, const char *org, int month,
                            Yuebao__V1__ReviewEvent ***list, size_t *n)
{
	struct store_review *rv = NULL;
	size_t nrv = 0;
	int rc = store_list_reviews(c->store, org, month, &rv, &nrv, &c->msg);

	*list = NULL;
	*n = 0;
	if (rc != YB_OK)
		return rc;
	if ((*list = handlers_alloc(c, (nrv + 1) * sizeof(**list))) == NULL) {
		store_reviews_free(rv, nrv);
		return YB_ENOMEM;
	}
	for (size_t i = 0; i < nrv; i++) {
		Yuebao__V1__ReviewEvent *e = handlers_alloc(c, sizeof(*e));
		if (e == NULL) {
			rc = YB_ENOMEM;
			break;
		}
		yuebao__v1__review_event__init(e);
		e->revision = rv[i].revision;
		e->action = handlers_strdup(c, rv[i].action);
		e->comment = handlers_strdup(c, rv[i].comment);
		e->reviewer = handlers_strdup(c, rv[i].reviewer);
		e->fingerprint = handlers_strdup(c, rv[i].fingerprint);
		e->at_ms = rv[i].at_ms;
		if (!e->action || !e->comment || !e->reviewer || !e->fingerprint) {
			rc = YB_ENOMEM;
			break;
		}
		(*list)[(*n)++] = e;
	}
	store_reviews_free(rv, nrv);
	return rc;
}

/* A branch's own recent history, per element: the 12 months before a return. */
#define HISTORY_MONTHS 12

struct history {
	const struct catalog *cat;
	int first;     /* month number of slot 0 */
	int64_t *vals; /* n_elements × HISTORY_MONTHS, hundredths */
	bool *has;
};

static int on_history_value(void *ctx, const char *org, int month, const char *code, int64_t value)
{
	struct history *h = ctx;
	int e = catalog_find_element(h->cat, code);

	(void)org;
	if (e >= 0 && month >= h->first && month < h->first + HISTORY_MONTHS) {
		h->vals[(size_t)e * HISTORY_MONTHS + (size_t)(month - h->first)] = value;
		h->has[(size_t)e * HISTORY_MONTHS + (size_t)(month - h->first)] = true;
	}
	return 0;
}

static int cmp_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Appends a warning about the element of entry to the findings of a return. */
static int add_warning(struct catalog_findings *f, const Yuebao__V1__Value *entry,
                       const struct finding *what)
{
	struct catalog_finding *x;

	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 16;
		void *p = realloc(f->items, ncap * sizeof(*f->items));
		if (p == NULL)
			return YB_ENOMEM;
		f->items = p;
		f->cap = ncap;
	}
	x = &f->items[f->n++];
	memset(x, 0, sizeof(*x));
	x->kind = FINDING_WARNING;
	x->line = entry->line;
	snprintf(x->code, sizeof(x->code), "%s", entry->code);
	snprintf(x->value, sizeof(x->value), "%s", entry->value);
	x->what = *what;
	finding_render(what, x->code, entry->line, NULL, x->message, sizeof(x->message));
	f->warnings++;
	return YB_OK;
}

/* The entry of the request that carried element code (for its line). */
static const Yuebao__V1__Value *entry_of(const Yuebao__V1__SubmitRequest *req, const char *code)
{
	for (size_t i = 0; i < req->n_values; i++)
		if (strcmp(req->values[i]->code, code) == 0)
			return req->values[i];
	return NULL;
}

/*
 * Outliers, DHIS2-style: a flow far above the branch's own median of the
 * last 12 months (at least 3 months of history), or a stock that moves by
 * more than a set share from the latest earlier month. Warnings only: the
 * figures may be right, the clerk is asked to look again.
 */
static int check_outliers(struct call *c, const char *org, int month,
                          const Yuebao__V1__SubmitRequest *req, const struct catalog_values *vals,
                          struct catalog_findings *f)
{
	const struct catalog *cat = c->world->cat;
	const int factor = c->world->outlier_factor, jump = c->world->stock_jump_pct;
	struct history h = {.cat = cat, .first = month - HISTORY_MONTHS};
	int rc = YB_OK;

	if (factor <= 0 && jump <= 0)
		return YB_OK;
	h.vals = calloc(cat->n_elements * HISTORY_MONTHS + 1, sizeof(*h.vals));
	h.has = calloc(cat->n_elements * HISTORY_MONTHS + 1, sizeof(*h.has));
	if (h.vals == NULL || h.has == NULL) {
		rc = YB_ENOMEM;
		goto done;
	}
	if ((rc = store_scan_latest(c->store, org, h.first, month - 1, false, NULL,
	                            on_history_value, &h, &c->msg)) != YB_OK)
		goto done;
	for (size_t e = 0; e < cat->n_elements && rc == YB_OK; e++) {
		const struct catalog_element *el = &cat->elements[e];
		const int64_t *hv = &h.vals[e * HISTORY_MONTHS];
		const bool *hh = &h.has[e * HISTORY_MONTHS];
		const Yuebao__V1__Value *entry;
		int decimals = el->type == CATALOG_AMOUNT ? 2 : 0;
		int64_t v = vals->value[e];

		if (!vals->present[e] || (entry = entry_of(req, el->code)) == NULL)
			continue;
		if (el->agg == CATALOG_SUM && factor > 0) {
			int64_t xs[HISTORY_MONTHS];
			size_t n = 0;
			__int128 twice_median;
			for (int k = 0; k < HISTORY_MONTHS; k++)
				if (hh[k])
					xs[n++] = hv[k];
			if (n < 3)
				continue;
			qsort(xs, n, sizeof(xs[0]), cmp_int64);
			twice_median =
			    n % 2 ? (__int128)xs[n / 2] * 2 : (__int128)xs[n / 2 - 1] + xs[n / 2];
			/*
			 * Small counts swing: flag only a median of at least 1 and a value at
			 * least 5 above it, besides the factor.
			 */
			if (twice_median >= 2 * DEC_SCALE &&
			    (__int128)v * 2 > twice_median * factor &&
			    (__int128)v * 2 - twice_median >= 2 * 5 * DEC_SCALE) {
				struct dec_ratio med = {twice_median, 2 * DEC_SCALE};
				struct finding w = {.code = FINDING_CODE_OUTLIER,
				                    .limit = factor,
				                    .months = (int)n};
				dec_format(v, decimals, w.value, sizeof(w.value));
				dec_ratio_format(med, twice_median % (2 * DEC_SCALE) ? 2 : decimals,
				                 w.reference, sizeof(w.reference));
				rc = add_warning(f, entry, &w);
			}
		} else if (el->agg == CATALOG_LAST && jump > 0) {
			int k = HISTORY_MONTHS - 1;
			__int128 diff;
			while (k >= 0 && !hh[k])
				k--;
			if (k < 0 || hv[k] <= 0)
				continue;
			diff = v > hv[k] ? (__int128)v - hv[k] : (__int128)hv[k] - v;
			if (diff * 100 > (__int128)jump * hv[k]) {
				int pct = (int)(diff * 100 / hv[k]);
				struct finding w = {.code = FINDING_CODE_STOCK_JUMP,
				                    .limit = jump,
				                    .change = v > hv[k] ? pct : -pct};
				dec_format(v, decimals, w.value, sizeof(w.value));
				dec_format(hv[k], decimals, w.reference, sizeof(w.reference));
				period_format_month(h.first + k, w.month, sizeof(w.month));
				rc = add_warning(f, entry, &w);
			}
		}
	}
done:
	if (rc == YB_ENOMEM)
		status_fail(&c->msg, rc, _("out of memory"));
	free(h.vals);
	free(h.has);
	return rc;
}

/*
 * Appends the audit entry of a change the call made, in its transaction;
 * due_ms is a submission's deadline (0 for other changes).
 */
static int record(struct call *c, const char *action, const char *org, int month,
                  const char *object, const char *digest, int64_t due_ms,
                  struct audit_receipt *receipt)
{
	struct audit_event e = {.at_ms = c->now_ms,
	                        .actor = c->who->subject,
	                        .fingerprint = c->who->fingerprint,
	                        .action = action,
	                        .object = object,
	                        .org = org,
	                        .month = month,
	                        .digest = digest,
	                        .due_ms = due_ms};
	return audit_append(c->store, c->signer, &e, receipt, &c->msg);
}

/* A Checkpoint message in the call's arena, copied from cp. */
static Yuebao__V1__Checkpoint *checkpoint_reply(struct call *c, const struct checkpoint *cp)
{
	Yuebao__V1__Checkpoint *m = handlers_alloc(c, sizeof(*m));
	struct checkpoint *copy = handlers_alloc(c, sizeof(*copy));

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
static Yuebao__V1__Receipt *receipt_reply(struct call *c, const struct audit_receipt *ar)
{
	Yuebao__V1__Receipt *r = handlers_alloc(c, sizeof(*r));
	uint8_t *leaf = handlers_alloc(c, sizeof(ar->leaf));
	size_t cert_len = 0;

	if (r == NULL || leaf == NULL)
		return NULL;
	yuebao__v1__receipt__init(r);
	if ((r->checkpoint = checkpoint_reply(c, &ar->checkpoint)) == NULL)
		return NULL;
	memcpy(leaf, ar->leaf, sizeof(ar->leaf));
	r->index = ar->index;
	r->leaf_hash.data = leaf;
	r->leaf_hash.len = sizeof(ar->leaf);
	r->server_cert.data = (uint8_t *)pki_identity_cert(c->signer, &cert_len);
	r->server_cert.len = cert_len;
	return r;
}

/* Refuses to amend an accepted return, saying who accepted it and what to do. */
static int refuse_locked(struct call *c, const char *org, int month, const char *period)
{
	struct store_review *rv = NULL;
	size_t n = 0;
	char when[TZ_TEXT_MAX] = "", who[256];

	snprintf(who, sizeof(who), "%s", _("the central office"));
	if (store_list_reviews(c->store, org, month, &rv, &n, &c->msg) == YB_OK) {
		for (size_t i = n; i-- > 0;)
			if (strcmp(rv[i].action, "accept") == 0) {
				snprintf(who, sizeof(who), "%s", rv[i].reviewer);
				format_when(c, rv[i].at_ms, when, sizeof(when));
				break;
			}
		store_reviews_free(rv, n);
	}
	if (when[0] == '\0')
		return status_fail(
		    &c->msg, YB_FAILED_PRECONDITION,
		    _("the return of %s for %s was accepted by %s and is locked; ask "
		      "the central office to reopen it (yuebao review --reopen) before "
		      "amending it"),
		    org, period, who);
	return status_fail(&c->msg, YB_FAILED_PRECONDITION,
	                   _("the return of %s for %s was accepted by %s on %s and is locked; ask "
	                     "the central office to reopen it (yuebao review --reopen) before "
	                     "amending it"),
	                   org, period, who, when);
}

static int handle_submit(struct call *c, const ProtobufCMessage *in, ProtobufCMessage **out)
{
	const Yuebao__V1__SubmitRequest *req = (const Yuebao__V1__SubmitRequest *)in;
	const struct catalog *cat = c->world->cat;
	Yuebao__V1__SubmitReply *r = handlers_alloc(c, sizeof(*r));
	struct catalog_values vals = {0};
	struct catalog_findings f = {0};
	struct store_revision rev = {0};
	struct store_value *values = NULL;
	struct store_revision_row *latest = NULL;
	char period[PERIOD_TEXT_MAX], sha[65];
	uint32_t last = 0;
	int64_t due_ms;
	int idx, month, rc;

	if (r == NULL)
		return YB_ENOMEM;
	yuebao__v1__submit_reply__init(r);
	if ((rc = authorize(c, req->org, true, &idx)) != YB_OK)
		return rc;
	if ((rc = period_parse_month(req->period, &month, &c->msg)) != YB_OK) {
		add_error(c, "error", "period", 0, req->period, c->msg.msg);
		return rc;
	}
	period_format_month(month, period, sizeof(period));
	if (month > current_month(c)) {
		refuse(c, YB_INVALID_ARGUMENT,
		       _("period %s has not begun: a return can be filed from the first day of its "
		         "month"),
		       period);
		add_error(c, "error", "period", 0, req->period, c->msg.msg);
		return YB_INVALID_ARGUMENT;
	}
	if ((rc = check_values(c, req, &vals, &f)) != YB_OK ||
	    (rc = check_outliers(c, c->world->orgs->units[idx].code, month, req, &vals, &f)) !=
	        YB_OK)
		goto done;
	/* From here what is read decides what is written: under the write lock. */
	if (!req->dry_run && (rc = c->begin_write(c)) != YB_OK)
		goto done;
	if ((rc = store_last_revision(c->store, c->world->orgs->units[idx].code, month, &last,
	                              &c->msg)) != YB_OK)
		goto done;
	if (last > 0 && (rc = store_get_revision(c->store, c->world->orgs->units[idx].code, month,
	                                         last, &latest, &c->msg)) != YB_OK)
		goto done;
	if (latest != NULL && strcmp(latest->state, "accepted") == 0) {
		rc = refuse_locked(c, c->world->orgs->units[idx].code, month, period);
		goto done;
	}
	{
		struct closure_info ci;
		char when[TZ_TEXT_MAX];
		if ((rc = find_closure(c, idx, month, &ci)) != YB_OK)
			goto done;
		if (ci.closed) {
			format_when(c, ci.at_ms, when, sizeof(when));
			rc = status_fail(
			    &c->msg, YB_FAILED_PRECONDITION,
			    _("period %s is closed for %s by %s since %s; no return can be "
			      "filed or amended until the central office reopens it"),
			    period, ci.by_org, ci.subject, when);
			goto done;
		}
	}
	if (last > 0 && req->reason[0] == '\0') {
		char msg[160];
		snprintf(msg, sizeof(msg),
		         _("revision %u of %s %s amends revision %u and needs a reason (--reason)"),
		         last + 1, c->world->orgs->units[idx].code, period, last);
		add_error(c, "error", "reason", 0, "", msg);
		rc = status_fail(&c->msg, YB_INVALID_ARGUMENT, "%s", msg);
		goto done;
	}
	r->org = c->world->orgs->units[idx].code;
	r->period = handlers_strdup(c, period);
	r->received_at_ms = c->now_ms;
	due_ms = period_due_ms(month, c->world->due_day, c->world->zone);
	r->on_time = c->now_ms < due_ms;
	r->dry_run = req->dry_run;
	r->state = req->dry_run ? "" : "submitted";
	pki_sha256_hex(c->request, c->request_len, sha);
	r->request_sha256 = req->dry_run ? "" : handlers_strdup(c, sha);
	if (r->period == NULL || r->request_sha256 == NULL ||
	    (rc = keep_findings(c, &f, r, (struct store_finding **)&rev.findings,
	                        &rev.n_findings)) != YB_OK) {
		rc = YB_ENOMEM;
		goto done;
	}
	if (req->dry_run) {
		*out = &r->base;
		goto done;
	}
	if ((values = handlers_alloc(c, (cat->n_elements + 1) * sizeof(*values))) == NULL) {
		rc = YB_ENOMEM;
		goto done;
	}
	for (size_t e = 0; e < cat->n_elements; e++)
		if (vals.present[e])
			values[rev.n_values++] =
			    (struct store_value){cat->elements[e].code, vals.value[e]};
	rev.org = r->org;
	rev.month = month;
	rev.revision = last + 1;
	rev.state = "submitted";
	rev.received_at_ms = c->now_ms;
	rev.on_time = r->on_time;
	rev.reason = req->reason;
	rev.subject = c->who->subject;
	rev.fingerprint = c->who->fingerprint;
	rev.request = c->request;
	rev.request_len = c->request_len;
	rev.request_sha256 = sha;
	rev.values = values;
	/* The consolidation pre-aggregates change in the same transaction. */
	if ((rc = store_insert_revision(c->store, &rev, &c->msg)) != YB_OK ||
	    (rc = rollup_refresh(c->store, &c->msg)) != YB_OK)
		goto done;
	{
		struct audit_receipt ar;
		char object[96];
		snprintf(object, sizeof(object), "%s/%s/r%u", r->org, period, rev.revision);
		if ((rc = record(c, "submit", r->org, month, object, sha, due_ms, &ar)) != YB_OK)
			goto done;
		if ((r->receipt = receipt_reply(c, &ar)) == NULL) {
			rc = YB_ENOMEM;
			goto done;
		}
	}
	r->revision = rev.revision;
	*out = &r->base;
done:
	store_revision_row_free(latest);
	catalog_values_free(&vals);
	catalog_findings_clear(&f);
	return rc;
}

/* A figure's text for an element value: whole for int, two decimals for amount. */
static char *format_value(struct call *c, const struct catalog_element *e, int64_t v)
{
	char buf[48];

	dec_format(v, e->type == CATALOG_AMOUNT ? 2 : 0, buf, sizeof(buf));
	return handlers_strdup(c, buf);
}

static int handle_get_return(struct call *c, const ProtobufCMessage *in, ProtobufCMessage **out)
{
	const Yuebao__V1__GetReturnRequest *req = (const Yuebao__V1__GetReturnRequest *)in;
	const struct catalog *cat = c->world->cat;
	Yuebao__V1__ReturnRevision *r = handlers_alloc(c, sizeof(*r));
	struct store_revision_row *row = NULL;
	char period[PERIOD_TEXT_MAX];
	int idx, month, rc;

	if (r == NULL)
		return YB_ENOMEM;
	yuebao__v1__return_revision__init(r);
	if ((rc = authorize(c, req->org, false, &idx)) != YB_OK)
		return rc;
	if ((rc = period_parse_month(req->period, &month, &c->msg)) != YB_OK)
		return rc;
	period_format_month(month, period, sizeof(period));
	rc = store_get_revision(c->store, c->world->orgs->units[idx].code, month, req->revision,
	                        &row, &c->msg);
	if (rc == YB_NOT_FOUND) {
		if (req->revision > 0)
			status_fail(&c->msg, rc, _("no return revision %u from %s for %s"),
			            req->revision, c->world->orgs->units[idx].code, period);
		else
			status_fail(&c->msg, rc, _("no return from %s for %s"),
			            c->world->orgs->units[idx].code, period);
	}
	if (rc != YB_OK)
		return rc;
	r->org = c->world->orgs->units[idx].code;
	r->org_name = c->world->orgs->units[idx].name;
	r->period = handlers_strdup(c, period);
	r->revision = row->revision;
	r->revisions = row->revisions;
	r->state = handlers_strdup(c, row->state);
	r->received_at_ms = row->received_at_ms;
	r->on_time = row->on_time;
	r->reason = handlers_strdup(c, row->reason);
	r->submitter = handlers_strdup(c, row->subject);
	r->fingerprint = handlers_strdup(c, row->fingerprint);
	r->request_sha256 = handlers_strdup(c, row->request_sha256);
	r->values = handlers_alloc(c, (row->n_values + 1) * sizeof(*r->values));
	if (!r->period || !r->state || !r->reason || !r->submitter || !r->fingerprint ||
	    !r->request_sha256 || !r->values) {
		rc = YB_ENOMEM;
		goto done;
	}
	/* Catalog order, as the template and the report list them. */
	for (size_t e = 0; e < cat->n_elements; e++)
		for (size_t i = 0; i < row->n_values; i++) {
			Yuebao__V1__Value *v;
			if (strcmp(row->values[i].code, cat->elements[e].code) != 0)
				continue;
			if ((v = handlers_alloc(c, sizeof(*v))) == NULL) {
				rc = YB_ENOMEM;
				goto done;
			}
			yuebao__v1__value__init(v);
			v->code = cat->elements[e].code;
			v->value = format_value(c, &cat->elements[e], row->values[i].value);
			r->values[r->n_values++] = v;
		}
	if ((rc = stored_findings(c, row, &r->findings, &r->n_findings)) != YB_OK ||
	    (rc = reviews_to_reply(c, r->org, month, &r->reviews, &r->n_reviews)) != YB_OK)
		goto done;
	*out = &r->base;
done:
	store_revision_row_free(row);
	return rc;
}

static int parse_compare(const char *s, enum consol_compare *out)
{
	if (s[0] == '\0')
		*out = CONSOL_NONE;
	else if (strcmp(s, "yoy") == 0)
		*out = CONSOL_YOY;
	else if (strcmp(s, "prev") == 0)
		*out = CONSOL_PREV;
	else
		return YB_INVALID_ARGUMENT;
	return YB_OK;
}

static int parse_by(const char *s, enum consol_by *out)
{
	if (s[0] == '\0')
		*out = CONSOL_TOTAL;
	else if (strcmp(s, "org") == 0)
		*out = CONSOL_BY_ORG;
	else if (strcmp(s, "month") == 0)
		*out = CONSOL_BY_MONTH;
	else
		return YB_INVALID_ARGUMENT;
	return YB_OK;
}

/* Builds the reply's groups from the result; strings point into res. */
static int build_groups(struct call *c, const struct consol_result *res,
                        Yuebao__V1__ConsolidateReply *r)
{
	const struct catalog *cat = c->world->cat;

	r->groups = handlers_alloc(c, res->n_groups * sizeof(*r->groups));
	if (r->groups == NULL)
		return YB_ENOMEM;
	for (size_t g = 0; g < res->n_groups; g++) {
		const struct consol_group *cg = &res->groups[g];
		Yuebao__V1__Group *grp = handlers_alloc(c, sizeof(*grp));
		Yuebao__V1__Figure *figs = handlers_alloc(c, res->n_figures * sizeof(*figs));
		Yuebao__V1__Figure **list = handlers_alloc(c, res->n_figures * sizeof(*list));

		if (grp == NULL || figs == NULL || list == NULL)
			return YB_ENOMEM;
		yuebao__v1__group__init(grp);
		grp->key = (char *)cg->key;
		grp->name = (char *)cg->name;
		grp->expected = cg->expected;
		grp->present = cg->present;
		grp->previous_expected = cg->previous_expected;
		grp->previous_present = cg->previous_present;
		for (size_t i = 0; i < res->n_figures; i++) {
			Yuebao__V1__Figure *f = &figs[i];
			yuebao__v1__figure__init(f);
			if (i < cat->n_elements) {
				const struct catalog_element *e = &cat->elements[i];
				f->code = e->code;
				f->kind = "element";
				f->name_zh = e->name_zh;
				f->name_en = e->name_en;
				f->unit = e->unit;
			} else {
				const struct catalog_indicator *x =
				    &cat->indicators[i - cat->n_elements];
				f->code = x->code;
				f->kind = "indicator";
				f->name_zh = x->name_zh;
				f->name_en = x->name_en;
				f->unit = x->unit;
			}
			f->value = (char *)cg->figures[i].value;
			f->previous = (char *)cg->figures[i].previous;
			f->change = (char *)cg->figures[i].change;
			f->change_unit = (char *)cg->figures[i].change_unit;
			list[i] = f;
		}
		grp->figures = list;
		grp->n_figures = res->n_figures;
		r->groups[r->n_groups++] = grp;
	}
	return YB_OK;
}

/* What --explain gathers: every value of the wanted elements in the subtree and period. */
struct explain_item {
	int org; /* index in the tree */
	int month;
	uint32_t revision;
	int element;
	int64_t value;
};

struct explain_scan {
	struct call *c;
	const struct consol_query *q;
	const bool *wanted; /* per element */
	struct explain_item *items;
	size_t n, cap;
	int org;
	uint32_t revision;
};

static int on_explain_return(void *ctx, const char *org, int month, uint32_t revision)
{
	struct explain_scan *es = ctx;
	int u = orgtree_find(es->q->orgs, org);

	(void)month;
	es->org = u >= 0 && orgtree_within(es->q->orgs, u, es->q->org) ? u : -1;
	es->revision = revision;
	return 0;
}

static int on_explain_value(void *ctx, const char *org, int month, const char *code, int64_t value)
{
	struct explain_scan *es = ctx;
	int e = catalog_find_element(es->q->cat, code);

	(void)org;
	if (es->org < 0 || e < 0 || !es->wanted[e])
		return 0;
	if (es->n == es->cap) {
		size_t ncap = es->cap ? es->cap * 2 : 64;
		void *p = realloc(es->items, ncap * sizeof(*es->items));
		if (p == NULL)
			return YB_ENOMEM;
		es->items = p;
		es->cap = ncap;
	}
	es->items[es->n++] = (struct explain_item){es->org, month, es->revision, e, value};
	return 0;
}

/*
 * consolidate --explain: the returns (org unit, month, revision, audit log
 * entry) behind one figure of the subtree total, so each number of a report
 * can be traced to signed returns. A `last` element counts only the latest
 * month of each org unit, as the figure does.
 */
static int explain_figure(struct call *c, const struct consol_query *q, const char *code,
                          Yuebao__V1__ConsolidateReply *r)
{
	const struct catalog *cat = q->cat;
	struct explain_scan es = {.c = c, .q = q, .org = -1};
	bool *wanted = handlers_alloc(c, cat->n_elements + 1);
	int e = catalog_find_element(cat, code), x = catalog_find_indicator(cat, code), rc;

	if (wanted == NULL)
		return YB_ENOMEM;
	if (e >= 0) {
		wanted[e] = true;
	} else if (x >= 0) {
		const char *const *codes;
		size_t n = formula_codes(cat->indicators[x].formula, &codes);
		for (size_t i = 0; i < n; i++)
			if ((e = catalog_find_element(cat, codes[i])) >= 0)
				wanted[e] = true;
	} else {
		add_error(c, "error", "explain", 0, code,
		          "not an element or indicator of the catalog");
		return refuse(c, YB_INVALID_ARGUMENT,
		              "--explain %s: no such element or indicator%s", code, "");
	}
	es.wanted = wanted;
	rc = store_scan_latest(c->store, NULL, q->period.first, q->period.last, q->accepted_only,
	                       on_explain_return, on_explain_value, &es, &c->msg);
	if (rc == YB_OK &&
	    (r->contributions = handlers_alloc(c, (es.n + 1) * sizeof(*r->contributions))) == NULL)
		rc = YB_ENOMEM;
	for (size_t i = 0; rc == YB_OK && i < es.n; i++) {
		const struct explain_item *it = &es.items[i];
		const struct catalog_element *el = &cat->elements[it->element];
		Yuebao__V1__Contribution *k;
		char period[PERIOD_TEXT_MAX], object[96];
		bool superseded = false;
		/* The scan runs by org unit and month: a later month of the same unit follows. */
		for (size_t j = i + 1;
		     el->agg == CATALOG_LAST && j < es.n && es.items[j].org == it->org; j++)
			superseded |= es.items[j].element == it->element;
		if (superseded)
			continue;
		if ((k = handlers_alloc(c, sizeof(*k))) == NULL) {
			rc = YB_ENOMEM;
			break;
		}
		yuebao__v1__contribution__init(k);
		period_format_month(it->month, period, sizeof(period));
		k->org = q->orgs->units[it->org].code;
		k->period = handlers_strdup(c, period);
		k->revision = it->revision;
		k->code = el->code;
		k->value = format_value(c, el, it->value);
		snprintf(object, sizeof(object), "%s/%s/r%u", k->org, period, it->revision);
		rc = store_audit_index_of(c->store, k->org, it->month, object, &k->log_index,
		                          &c->msg);
		k->has_log_index = rc == YB_OK;
		if (rc == YB_NOT_FOUND)
			rc = YB_OK;
		if (k->period == NULL || k->value == NULL)
			rc = YB_ENOMEM;
		r->contributions[r->n_contributions++] = k;
	}
	free(es.items);
	return rc;
}

static int handle_consolidate(struct call *c, const ProtobufCMessage *in, ProtobufCMessage **out)
{
	const Yuebao__V1__ConsolidateRequest *req = (const Yuebao__V1__ConsolidateRequest *)in;
	Yuebao__V1__ConsolidateReply *r = handlers_alloc(c, sizeof(*r));
	struct consol_query q = {.cat = c->world->cat, .orgs = c->world->orgs};
	struct consol_result *res = NULL;
	char period[PERIOD_TEXT_MAX], prev[PERIOD_TEXT_MAX];
	int rc;

	if (r == NULL)
		return YB_ENOMEM;
	yuebao__v1__consolidate_reply__init(r);
	if ((rc = authorize(c, req->org, false, &q.org)) != YB_OK)
		return rc;
	if ((rc = period_parse(req->period, &q.period, &c->msg)) != YB_OK) {
		add_error(c, "error", "period", 0, req->period, c->msg.msg);
		return rc;
	}
	if (period_length(&q.period) > CONSOL_MAX_MONTHS) {
		refuse(c, YB_INVALID_ARGUMENT, _("period %s is longer than %s months"), req->period,
		       CONSOL_MAX_MONTHS_TEXT);
		add_error(c, "error", "period", 0, req->period, c->msg.msg);
		return YB_INVALID_ARGUMENT;
	}
	if (parse_compare(req->compare, &q.compare) != YB_OK)
		return refuse(c, YB_INVALID_ARGUMENT, _("compare '%s' is not yoy or prev"),
		              req->compare);
	if (parse_by(req->by, &q.by) != YB_OK)
		return refuse(c, YB_INVALID_ARGUMENT, _("by '%s' is not org or month"), req->by);
	q.current_month = current_month(c);
	q.accepted_only = req->accepted_only;
	if (q.compare != CONSOL_NONE) {
		struct period cmp =
		    q.compare == CONSOL_YOY ? period_yoy(&q.period) : period_prev(&q.period);
		if (period_month_year(cmp.first) < PERIOD_MIN_YEAR)
			return refuse(c, YB_INVALID_ARGUMENT,
			              _("the comparison period of %s starts before %d"),
			              req->period, PERIOD_MIN_YEAR);
	}
	if ((rc = consol_run(c->store, &q, &res, &c->msg)) != YB_OK)
		return rc;
	period_format(&res->period, period, sizeof(period));
	period_format(&res->previous, prev, sizeof(prev));
	r->org = c->world->orgs->units[q.org].code;
	r->org_name = c->world->orgs->units[q.org].name;
	r->period = handlers_strdup(c, period);
	r->previous_period = handlers_strdup(c, res->has_previous ? prev : "");
	r->compare = (char *)req->compare;
	r->by = (char *)req->by;
	/* The reply is packed before the call's arena is released; so is res. */
	if (r->period == NULL || r->previous_period == NULL ||
	    (rc = build_groups(c, res, r)) != YB_OK) {
		consol_result_free(res);
		return YB_ENOMEM;
	}
	/*
	 * Strings of the groups point into res: copy them into the arena so that
	 * res can be freed now and the reply stays valid until handlers_release.
	 */
	for (size_t g = 0; g < r->n_groups; g++) {
		Yuebao__V1__Group *grp = r->groups[g];
		grp->key = handlers_strdup(c, grp->key);
		for (size_t i = 0; i < grp->n_figures; i++) {
			Yuebao__V1__Figure *f = grp->figures[i];
			f->value = handlers_strdup(c, f->value);
			f->previous = handlers_strdup(c, f->previous);
			f->change = handlers_strdup(c, f->change);
			if (!grp->key || !f->value || !f->previous || !f->change) {
				consol_result_free(res);
				return YB_ENOMEM;
			}
		}
	}
	consol_result_free(res);
	if (req->explain[0] && (rc = explain_figure(c, &q, req->explain, r)) != YB_OK)
		return rc;
	*out = &r->base;
	return YB_OK;
}

/* Page size of a list call: the asked one within [1, max], or the default. */
static uint32_t page_size(uint32_t asked, uint32_t dflt, uint32_t max)
{
	return asked == 0 ? dflt : asked > max ? max : asked;
}

/* A scan callback's answer that the page is full (not a status code). */
#define PAGE_FULL 1001

/*
 * Whether an item of `size` packed bytes joins a page that holds n items
 * of *used bytes: the first always does, later ones while the page stays
 * within c->page_bytes (so no reply passes the cap, however many items
 * were asked for). Counts it in *used when it does.
 */
static bool page_takes(const struct call *c, size_t n, size_t *used, size_t size)
{
	size += 8; /* its tag and length in the repeated field */
	if (n > 0 && *used + size > c->page_bytes)
		return false;
	*used += size;
	return true;
}

/*
 * A page token is the position to go on from, as "<letter><number>", opaque
 * to clients. Returns -1 for a token that is not one of ours.
 */
static long parse_token(const char *token, char kind)
{
	char *end;
	long v;

	if (token[0] == '\0')
		return 0;
	if (token[0] != kind)
		return -1;
	v = strtol(token + 1, &end, 10);
	return *end != '\0' || v < 0 || v > 100000000 ? -1 : v;
}

static char *make_token(struct call *c, char kind, long pos)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%c%ld", kind, pos);
	return handlers_strdup(c, buf);
}

/* The values of a revision row as text by element, catalog order ("" = not reported). */
static const char *row_value(struct call *c, const struct store_revision_row *row,
                             const struct catalog_element *e)
{
	for (size_t i = 0; row != NULL && i < row->n_values; i++)
		if (strcmp(row->values[i].code, e->code) == 0)
			return format_value(c, e, row->values[i].value);
	return "";
}

/* Summary of one revision with its changes against the previous one. */
static int summarise(struct call *c, const struct store_revision_row *row,
                     const struct store_revision_row *prev, Yuebao__V1__RevisionSummary **out)
{
	const struct catalog *cat = c->world->cat;
	Yuebao__V1__RevisionSummary *r = handlers_alloc(c, sizeof(*r));

	if (r == NULL ||
	    (r->changes = handlers_alloc(c, (cat->n_elements + 1) * sizeof(*r->changes))) == NULL)
		return YB_ENOMEM;
	{
		Yuebao__V1__Change **changes = r->changes;
		yuebao__v1__revision_summary__init(r);
		r->changes = changes;
	}
	r->revision = row->revision;
	r->state = handlers_strdup(c, row->state);
	r->received_at_ms = row->received_at_ms;
	r->on_time = row->on_time;
	r->reason = handlers_strdup(c, row->reason);
	r->submitter = handlers_strdup(c, row->subject);
	r->fingerprint = handlers_strdup(c, row->fingerprint);
	r->request_sha256 = handlers_strdup(c, row->request_sha256);
	if (!r->state || !r->reason || !r->submitter || !r->fingerprint || !r->request_sha256)
		return YB_ENOMEM;
	for (size_t e = 0; e < cat->n_elements; e++) {
		const char *after = row_value(c, row, &cat->elements[e]);
		const char *before = prev != NULL ? row_value(c, prev, &cat->elements[e]) : "";
		Yuebao__V1__Change *ch;
		if (after == NULL || before == NULL)
			return YB_ENOMEM;
		if (strcmp(before, after) == 0)
			continue;
		if ((ch = handlers_alloc(c, sizeof(*ch))) == NULL)
			return YB_ENOMEM;
		yuebao__v1__change__init(ch);
		ch->code = cat->elements[e].code;
		ch->before = (char *)before;
		ch->after = (char *)after;
		r->changes[r->n_changes++] = ch;
	}
	if (stored_findings(c, row, &r->findings, &r->n_findings) != YB_OK)
		return YB_ENOMEM;
	*out = r;
	return YB_OK;
}

static int handle_history(struct call *c, const ProtobufCMessage *in, ProtobufCMessage **out)
{
	const Yuebao__V1__HistoryRequest *req = (const Yuebao__V1__HistoryRequest *)in;
	Yuebao__V1__HistoryReply *r = handlers_alloc(c, sizeof(*r));
	struct store_revision_row *prev = NULL, *row = NULL;
	uint32_t size = page_size(req->page_size, 20, 100), last = 0, first, end;
	size_t used = 0;
	struct closure_info ci;
	char period[PERIOD_TEXT_MAX];
	const char *org;
	long from;
	int idx, month, rc;

	if (r == NULL)
		return YB_ENOMEM;
	yuebao__v1__history_reply__init(r);
	if ((rc = authorize(c, req->org, false, &idx)) != YB_OK)
		return rc;
	if ((rc = period_parse_month(req->period, &month, &c->msg)) != YB_OK)
		return rc;
	if ((from = parse_token(req->page_token, 'r')) < 0)
		return refuse(c, YB_INVALID_ARGUMENT,
		              _("page token '%s' is not one this server gave"), req->page_token);
	org = c->world->orgs->units[idx].code;
	period_format_month(month, period, sizeof(period));
	if ((rc = store_last_revision(c->store, org, month, &last, &c->msg)) != YB_OK)
		return rc;
	if (last == 0)
		return refuse(c, YB_NOT_FOUND, _("no return from %s for %s"), org, period);
	first = from > 0 ? (uint32_t)from : 1;
	end = first + size - 1 < last ? first + size - 1 : last;
	r->org = (char *)org;
	r->org_name = c->world->orgs->units[idx].name;
	r->period = handlers_strdup(c, period);
	r->revisions = handlers_alloc(c, (size + 1) * sizeof(*r->revisions));
	if (r->period == NULL || r->revisions == NULL)
		return YB_ENOMEM;
	if (first > 1 &&
	    (rc = store_get_revision(c->store, org, month, first - 1, &prev, &c->msg)) != YB_OK)
		goto done;
	/* The reviews come on the first page and count towards its bytes. */
	if (first == 1 &&
	    (rc = reviews_to_reply(c, org, month, &r->reviews, &r->n_reviews)) != YB_OK)
		goto done;
	for (size_t i = 0; i < r->n_reviews; i++)
		used += yuebao__v1__review_event__get_packed_size(r->reviews[i]) + 8;
	for (uint32_t rev = first; rev <= end; rev++) {
		if ((rc = store_get_revision(c->store, org, month, rev, &row, &c->msg)) != YB_OK ||
		    (rc = summarise(c, row, prev, &r->revisions[r->n_revisions])) != YB_OK)
			goto done;
		if (!page_takes(c, r->n_revisions, &used,
		                yuebao__v1__revision_summary__get_packed_size(
		                    r->revisions[r->n_revisions]))) {
			end = rev - 1;
			break;
		}
		r->n_revisions++;
		store_revision_row_free(prev);
		prev = row;
		row = NULL;
	}
	if ((rc = find_closure(c, idx, month, &ci)) != YB_OK)
		goto done;
	r->closed = ci.closed;
	r->next_page_token = end < last ? make_token(c, 'r', (long)end + 1) : "";
	if (r->next_page_token == NULL) {
		rc = YB_ENOMEM;
		goto done;
	}
	*out = &r->base;
done:
	store_revision_row_free(prev);
	store_revision_row_free(row);
	return rc;
}

/* Only central reviews and closes periods, within its subtree. */
static int authorize_central(struct call *c, const char *org, int *idx)
{
	int rc = authorize(c, org, false, idx);

	if (rc != YB_OK)
		return rc;
	if (strcmp(c->who->role, "central") != 0)
		return refuse(c, YB_PERMISSION_DENIED,
		              _("a %s certificate cannot review returns or close periods; only the "
		                "central office can"),
		              c->who->role);
	return YB_OK;
}

/*
 * Why a review cannot apply action to a return in state: a format taking the
 * revision (%u), the org unit and the period.
 */
static const char *review_refusal(const char *action, const char *state)
{
	bool accepted = strcmp(state, "accepted") == 0, rejected = strcmp(state, "rejected") == 0;

	if (strcmp(action, "accept") == 0)
		return accepted
		           ? _("revision %u of %s for %s is accepted: it cannot be accepted "
		               "(reopen it first)")
		           : _("revision %u of %s for %s is rejected: it cannot be accepted (the "
		               "branch must submit a corrected revision)");
	if (strcmp(action, "reject") == 0)
		return accepted
		           ? _("revision %u of %s for %s is accepted: it cannot be rejected "
		               "(reopen it first)")
		           : _("revision %u of %s for %s is rejected: it cannot be rejected (the "
		               "branch must submit a corrected revision)");
	return rejected ? _("revision %u of %s for %s is rejected: it cannot be reopened (the "
	                    "branch must submit a corrected revision)")
	                : _("revision %u of %s for %s is submitted: it cannot be reopened (only "
	                    "an accepted return is reopened)");
}

static int handle_review(struct call *c, const ProtobufCMessage *in, ProtobufCMessage **out)
{
	const Yuebao__V1__ReviewRequest *req = (const Yuebao__V1__ReviewRequest *)in;
	Yuebao__V1__ReviewReply *r = handlers_alloc(c, sizeof(*r));
	struct store_revision_row *row = NULL;
	struct store_review rv = {0};
	char period[PERIOD_TEXT_MAX];
	const char *org, *next;
	int idx, month, rc;

	if (r == NULL)
		return YB_ENOMEM;
	yuebao__v1__review_reply__init(r);
	if ((rc = authorize_central(c, req->org, &idx)) != YB_OK)
		return rc;
	if ((rc = period_parse_month(req->period, &month, &c->msg)) != YB_OK)
		return rc;
	org = c->world->orgs->units[idx].code;
	period_format_month(month, period, sizeof(period));
	if (strcmp(req->action, "accept") != 0 && strcmp(req->action, "reject") != 0 &&
	    strcmp(req->action, "reopen") != 0)
		return refuse(c, YB_INVALID_ARGUMENT,
		              _("action '%s' is not accept, reject or reopen"), req->action);
	if (strcmp(req->action, "reject") == 0 && req->comment[0] == '\0') {
		add_error(c, "error", "comment", 0, "",
		          _("say why the return is rejected (--comment)"));
		return refuse(c, YB_INVALID_ARGUMENT, _("a rejection needs a comment for %s (%s)"),
		              org, "--comment");
	}
	if ((rc = c->begin_write(c)) != YB_OK)
		return rc;
	rc = store_get_revision(c->store, org, month, 0, &row, &c->msg);
	if (rc == YB_NOT_FOUND)
		return refuse(c, YB_NOT_FOUND, _("no return from %s for %s to review"), org,
		              period);
	if (rc != YB_OK)
		return rc;
	if (strcmp(req->action, "accept") == 0)
		next = strcmp(row->state, "submitted") == 0 ? "accepted" : NULL;
	else if (strcmp(req->action, "reject") == 0)
		next = strcmp(row->state, "submitted") == 0 ? "rejected" : NULL;
	else
		next = strcmp(row->state, "accepted") == 0 ? "submitted" : NULL;
	if (next == NULL) {
		rc = status_fail(&c->msg, YB_FAILED_PRECONDITION,
		                 review_refusal(req->action, row->state), row->revision, org,
		                 period);
		goto done;
	}
	rv.revision = row->revision;
	rv.action = req->action;
	rv.comment = req->comment;
	rv.reviewer = c->who->subject;
	rv.fingerprint = c->who->fingerprint;
	rv.at_ms = c->now_ms;
	if ((rc = store_add_review(c->store, org, month, &rv, &c->msg)) != YB_OK ||
	    (rc = store_set_state(c->store, org, month, row->revision, next, &c->msg)) != YB_OK ||
	    (rc = rollup_refresh(c->store, &c->msg)) != YB_OK)
		goto done;
	{
		char object[96], action[32], *text, digest[65];
		size_t n = strlen(req->action) + 1 + strlen(req->comment);
		snprintf(object, sizeof(object), "%s/%s/r%u", org, period, row->revision);
		snprintf(action, sizeof(action), "review:%s", req->action);
		if ((text = handlers_alloc(c, n + 1)) == NULL) {
			rc = YB_ENOMEM;
			goto done;
		}
		snprintf(text, n + 1, "%s\n%s", req->action, req->comment);
		pki_sha256_hex(text, n, digest);
		if ((rc = record(c, action, org, month, object, digest, 0, NULL)) != YB_OK)
			goto done;
	}
	r->org = (char *)org;
	r->period = handlers_strdup(c, period);
	r->revision = row->revision;
	r->state = (char *)next;
	r->at_ms = c->now_ms;
	if (r->period == NULL) {
		rc = YB_ENOMEM;
		goto done;
	}
	*out = &r->base;
done:
	store_revision_row_free(row);
	return rc;
}

/* Gathers the latest state of every return of a period, for handle_status. */
struct status_scan {
	struct call *c;
	const int *row_of; /* org index -> row (leaf position), -1 if not a row */
	struct period p;
	int current_month;
	Yuebao__V1__StatusCell **cells; /* rows of this page × months, or NULL outside */
	size_t page_first, page_n, n_months;
	uint32_t present, on_time, accepted, rejected;
};

static int on_status(void *ctx, const char *org, int month, uint32_t revision, const char *state,
                     int64_t received_at_ms, bool first_on_time)
{
	struct status_scan *ss = ctx;
	int u = orgtree_find(ss->c->world->orgs, org);
	int row = u >= 0 ? ss->row_of[u] : -1;
	bool rejected = strcmp(state, "rejected") == 0;

	if (row < 0)
		return 0;
	if (rejected)
		ss->rejected++;
	else {
		ss->present++;
		ss->on_time += first_on_time;
		ss->accepted += strcmp(state, "accepted") == 0;
	}
	if ((size_t)row >= ss->page_first && (size_t)row < ss->page_first + ss->page_n) {
		Yuebao__V1__StatusCell *cell =
		    ss->cells[((size_t)row - ss->page_first) * ss->n_months +
		              (size_t)(month - ss->p.first)];
		cell->state = handlers_strdup(ss->c, state);
		cell->revision = revision;
		cell->on_time = first_on_time;
		cell->received_at_ms = received_at_ms;
		if (cell->state == NULL)
			return YB_ENOMEM;
	}
	return 0;
}

static int handle_status(struct call *c, const ProtobufCMessage *in, ProtobufCMessage **out)
{
	const Yuebao__V1__StatusRequest *req = (const Yuebao__V1__StatusRequest *)in;
	const struct orgtree *t = c->world->orgs;
	Yuebao__V1__StatusReply *r = handlers_alloc(c, sizeof(*r));
	struct status_scan ss = {.c = c};
	uint32_t size = page_size(req->page_size, 100, 1000);
	size_t n_rows = 0, begun = 0;
	int *row_of, *leaves;
	char period[PERIOD_TEXT_MAX];
	long from;
	int idx, rc;

	if (r == NULL)
		return YB_ENOMEM;
	yuebao__v1__status_reply__init(r);
	if ((rc = authorize(c, req->org, false, &idx)) != YB_OK)
		return rc;
	if ((rc = period_parse(req->period, &ss.p, &c->msg)) != YB_OK)
		return rc;
	if (period_length(&ss.p) > 24)
		return refuse(c, YB_INVALID_ARGUMENT, _("period %s is longer than %s months"),
		              req->period, "24");
	if ((from = parse_token(req->page_token, 'o')) < 0)
		return refuse(c, YB_INVALID_ARGUMENT,
		              _("page token '%s' is not one this server gave"), req->page_token);
	ss.n_months = (size_t)period_length(&ss.p);
	ss.current_month = current_month(c);
	row_of = handlers_alloc(c, t->n * sizeof(int));
	leaves = handlers_alloc(c, t->n * sizeof(int));
	if (row_of == NULL || leaves == NULL)
		return YB_ENOMEM;
	for (size_t u = 0; u < t->n; u++)
		row_of[u] = -1;
	/* Rows are the branches (units without children) of the subtree, in tree order. */
	for (int u = t->units[idx].first; u <= t->units[idx].last; u++)
		if (orgtree_is_leaf(t, u)) {
			row_of[u] = (int)n_rows;
			leaves[n_rows++] = u;
		}
	for (int m = ss.p.first; m <= ss.p.last; m++)
		begun += m <= ss.current_month;
	ss.row_of = row_of;
	ss.page_first = (size_t)from < n_rows ? (size_t)from : n_rows;
	ss.page_n = n_rows - ss.page_first < size ? n_rows - ss.page_first : size;
	ss.cells = handlers_alloc(c, (ss.page_n * ss.n_months + 1) * sizeof(*ss.cells));
	r->rows = handlers_alloc(c, (ss.page_n + 1) * sizeof(*r->rows));
	if (ss.cells == NULL || r->rows == NULL)
		return YB_ENOMEM;
	for (size_t i = 0; i < ss.page_n; i++) {
		int u = leaves[ss.page_first + i];
		Yuebao__V1__StatusRow *row = handlers_alloc(c, sizeof(*row));
		if (row == NULL ||
		    (row->months = handlers_alloc(c, ss.n_months * sizeof(*row->months))) == NULL)
			return YB_ENOMEM;
		{
			Yuebao__V1__StatusCell **months = row->months;
			yuebao__v1__status_row__init(row);
			row->months = months;
		}
		row->org = t->units[u].code;
		row->org_name = t->units[u].name;
		for (size_t k = 0; k < ss.n_months; k++) {
			Yuebao__V1__StatusCell *cell = handlers_alloc(c, sizeof(*cell));
			char month[PERIOD_TEXT_MAX];
			struct closure_info ci;
			int m = ss.p.first + (int)k;
			if (cell == NULL)
				return YB_ENOMEM;
			yuebao__v1__status_cell__init(cell);
			period_format_month(m, month, sizeof(month));
			cell->month = handlers_strdup(c, month);
			cell->state = m > ss.current_month ? "not due" : "missing";
			if ((rc = find_closure(c, u, m, &ci)) != YB_OK)
				return rc;
			cell->closed = ci.closed;
			if (cell->month == NULL)
				return YB_ENOMEM;
			ss.cells[i * ss.n_months + k] = cell;
			row->months[row->n_months++] = cell;
		}
		r->rows[r->n_rows++] = row;
	}
	if ((rc = store_scan_status(c->store, ss.p.first, ss.p.last, on_status, &ss, &c->msg)) !=
	    YB_OK)
		return rc;
	period_format(&ss.p, period, sizeof(period));
	r->org = t->units[idx].code;
	r->org_name = t->units[idx].name;
	r->period = handlers_strdup(c, period);
	r->total_rows = (uint32_t)n_rows;
	r->expected = (uint32_t)(n_rows * begun);
	r->present = ss.present;
	r->on_time = ss.on_time;
	r->accepted = ss.accepted;
	r->rejected = ss.rejected;
	r->next_page_token = ss.page_first + ss.page_n < n_rows
	                         ? make_token(c, 'o', (long)(ss.page_first + ss.page_n))
	                         : "";
	if (r->period == NULL || r->next_page_token == NULL)
		return YB_ENOMEM;
	*out = &r->base;
	return YB_OK;
}

static int handle_close_period(struct call *c, const ProtobufCMessage *in, ProtobufCMessage **out)
{
	const Yuebao__V1__ClosePeriodRequest *req = (const Yuebao__V1__ClosePeriodRequest *)in;
	Yuebao__V1__ClosePeriodReply *r = handlers_alloc(c, sizeof(*r));
	char period[PERIOD_TEXT_MAX];
	struct period p;
	int idx, rc;

	if (r == NULL)
		return YB_ENOMEM;
	yuebao__v1__close_period_reply__init(r);
	if ((rc = authorize_central(c, req->org, &idx)) != YB_OK)
		return rc;
	if ((rc = period_parse(req->period, &p, &c->msg)) != YB_OK)
		return rc;
	if (period_length(&p) > CONSOL_MAX_MONTHS)
		return refuse(c, YB_INVALID_ARGUMENT, _("period %s is longer than %s months"),
		              req->period, CONSOL_MAX_MONTHS_TEXT);
	if ((rc = c->begin_write(c)) != YB_OK)
		return rc;
	for (int m = p.first; m <= p.last; m++)
		if ((rc = store_add_closure(c->store, c->world->orgs->units[idx].code, m,
		                            !req->reopen, req->comment, c->who->subject,
		                            c->who->fingerprint, c->now_ms, &c->msg)) != YB_OK)
			return rc;
	period_format(&p, period, sizeof(period));
	{
		char object[96], digest[65];
		snprintf(object, sizeof(object), "%s/%s", c->world->orgs->units[idx].code, period);
		pki_sha256_hex(req->comment, strlen(req->comment), digest);
		if ((rc = record(c, req->reopen ? "reopen" : "close",
		                 c->world->orgs->units[idx].code, p.first == p.last ? p.first : 0,
		                 object, digest, 0, NULL)) != YB_OK)
			return rc;
	}
	r->org = c->world->orgs->units[idx].code;
	r->period = handlers_strdup(c, period);
	r->closed = !req->reopen;
	r->at_ms = c->now_ms;
	r->months = (uint32_t)period_length(&p);
	if (r->period == NULL)
		return YB_ENOMEM;
	*out = &r->base;
	return YB_OK;
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
	Yuebao__V1__AuditEntry *e = handlers_alloc(lp->c, sizeof(*e));
	uint8_t *entry = handlers_alloc(lp->c, row->entry_len + 32);

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
	e->action = handlers_strdup(lp->c, row->action);
	e->object = handlers_strdup(lp->c, row->object);
	e->entry.data = entry;
	e->entry.len = row->entry_len;
	e->leaf_hash.data = entry + row->entry_len;
	e->leaf_hash.len = 32;
	audit_entry_actor(row->entry, row->entry_len, &who);
	e->actor_role = handlers_strdup(lp->c, who.role);
	e->actor_org = handlers_strdup(lp->c, who.org);
	e->fingerprint = handlers_strdup(lp->c, who.fingerprint);
	e->actor_unverified = !who.verified;
	e->comment = handlers_strdup(lp->c, row->comment ? row->comment : "");
	if (e->action == NULL || e->object == NULL || e->actor_role == NULL ||
	    e->actor_org == NULL || e->fingerprint == NULL || e->comment == NULL)
		return YB_ENOMEM;
	if (!page_takes(lp->c, lp->r->n_entries, &lp->used,
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
	if ((out = handlers_alloc(c, len)) == NULL)
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

static int handle_audit_log(struct call *c, const ProtobufCMessage *in, ProtobufCMessage **out)
{
	const Yuebao__V1__AuditLogRequest *req = (const Yuebao__V1__AuditLogRequest *)in;
	Yuebao__V1__AuditLogReply *r = handlers_alloc(c, sizeof(*r));
	struct log_page lp = {.c = c, .r = r, .size = page_size(req->page_size, 100, 1000)};
	struct period p = {0, 0x7fffffff};
	struct checkpoint cp;
	const char *orgs = NULL;
	size_t cert_len = 0;
	long from;
	int idx, rc;

	if (r == NULL)
		return YB_ENOMEM;
	yuebao__v1__audit_log_reply__init(r);
	if (strcmp(c->who->role, "auditor") != 0 && strcmp(c->who->role, "central") != 0)
		return refuse(c, YB_PERMISSION_DENIED,
		              _("the audit log is for auditors and the central "
		                "office, not a %s certificate"),
		              c->who->role);
	if ((rc = authorize(c, req->org, false, &idx)) != YB_OK)
		return rc;
	/* The whole log for the root; the entries of a subtree's units below it. */
	if (c->world->orgs->units[idx].parent >= 0 && (orgs = subtree_json(c, idx)) == NULL)
		return YB_ENOMEM;
	if (req->period[0] && (rc = period_parse(req->period, &p, &c->msg)) != YB_OK)
		return rc;
	if ((from = parse_token(req->page_token, 'e')) < 0)
		return refuse(c, YB_INVALID_ARGUMENT,
		              _("page token '%s' is not one this server gave"), req->page_token);
	if ((r->entries = handlers_alloc(c, (lp.size + 1) * sizeof(*r->entries))) == NULL)
		return YB_ENOMEM;
	rc = store_audit_scan(c->store, from > 0 ? (uint64_t)from : 1, req->since_ms, orgs, p.first,
	                      p.last, lp.size + 1, on_audit_entry, &lp, &c->msg);
	if (rc != YB_OK && rc != PAGE_FULL)
		return rc;
	r->next_page_token = lp.next ? make_token(c, 'e', (long)lp.next) : "";
	rc = store_checkpoint_get(c->store, 0, &cp, &c->msg);
	if (rc == YB_OK && (r->checkpoint = checkpoint_reply(c, &cp)) == NULL)
		return YB_ENOMEM;
	if (rc != YB_OK && rc != YB_NOT_FOUND)
		return rc;
	r->server_cert.data = (uint8_t *)pki_identity_cert(c->signer, &cert_len);
	r->server_cert.len = cert_len;
	if (r->next_page_token == NULL)
		return YB_ENOMEM;
	*out = &r->base;
	return YB_OK;
}

static int handle_audit_prove(struct call *c, const ProtobufCMessage *in, ProtobufCMessage **out)
{
	const Yuebao__V1__AuditProveRequest *req = (const Yuebao__V1__AuditProveRequest *)in;
	Yuebao__V1__AuditProveReply *r = handlers_alloc(c, sizeof(*r));
	uint8_t(*incl)[MERKLE_HASH_LEN] = NULL, (*cons)[MERKLE_HASH_LEN] = NULL;
	size_t n_incl = 0, n_cons = 0, cert_len = 0;
	struct checkpoint cp;
	int rc;

	if (r == NULL)
		return YB_ENOMEM;
	yuebao__v1__audit_prove_reply__init(r);
	if ((rc = audit_proofs(c->store, req->index, req->old_size, &cp, &incl, &n_incl, &cons,
	                       &n_cons, &c->msg)) != YB_OK)
		return rc;
	r->checkpoint = checkpoint_reply(c, &cp);
	r->inclusion = handlers_alloc(c, (n_incl + 1) * sizeof(*r->inclusion));
	r->consistency = handlers_alloc(c, (n_cons + 1) * sizeof(*r->consistency));
	if (r->checkpoint == NULL || r->inclusion == NULL || r->consistency == NULL) {
		rc = YB_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < n_incl; i++) {
		uint8_t *h = handlers_alloc(c, MERKLE_HASH_LEN);
		if (h == NULL) {
			rc = YB_ENOMEM;
			goto done;
		}
		memcpy(h, incl[i], MERKLE_HASH_LEN);
		r->inclusion[r->n_inclusion++] = (ProtobufCBinaryData){MERKLE_HASH_LEN, h};
	}
	for (size_t i = 0; i < n_cons; i++) {
		uint8_t *h = handlers_alloc(c, MERKLE_HASH_LEN);
		if (h == NULL) {
			rc = YB_ENOMEM;
			goto done;
		}
		memcpy(h, cons[i], MERKLE_HASH_LEN);
		r->consistency[r->n_consistency++] = (ProtobufCBinaryData){MERKLE_HASH_LEN, h};
	}
	r->server_cert.data = (uint8_t *)pki_identity_cert(c->signer, &cert_len);
	r->server_cert.len = cert_len;
	*out = &r->base;
done:
	free(incl);
	free(cons);
	return rc;
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
	Yuebao__V1__ExportRevision *e = handlers_alloc(c, sizeof(*e));
	struct store_revision_row *full = NULL;
	char period[PERIOD_TEXT_MAX];
	uint8_t *req = handlers_alloc(c, row->request_len + 1);
	int rc;

	if (e == NULL || req == NULL)
		return YB_ENOMEM;
	yuebao__v1__export_revision__init(e);
	period_format_month(row->month, period, sizeof(period));
	memcpy(req, row->request, row->request_len);
	e->org = handlers_strdup(c, row->org);
	e->period = handlers_strdup(c, period);
	e->revision = row->revision;
	e->state = handlers_strdup(c, row->state);
	e->request_sha256 = handlers_strdup(c, row->request_sha256);
	e->request.data = req;
	e->request.len = row->request_len;
	if (!e->org || !e->period || !e->state || !e->request_sha256)
		return YB_ENOMEM;
	if ((rc = store_get_revision(c->store, row->org, row->month, row->revision, &full,
	                             &c->msg)) != YB_OK)
		return rc;
	e->received_at_ms = full->received_at_ms;
	e->on_time = full->on_time;
	e->reason = handlers_strdup(c, full->reason);
	e->submitter = handlers_strdup(c, full->subject);
	e->fingerprint = handlers_strdup(c, full->fingerprint);
	e->values = handlers_alloc(c, (full->n_values + 1) * sizeof(*e->values));
	for (size_t i = 0; e->values != NULL && i < full->n_values; i++) {
		Yuebao__V1__ExportValue *v = handlers_alloc(c, sizeof(*v));
		if (v == NULL)
			break;
		yuebao__v1__export_value__init(v);
		v->code = handlers_strdup(c, full->values[i].code);
		v->hundredths = full->values[i].value;
		if (v->code == NULL)
			break;
		e->values[e->n_values++] = v;
	}
	rc = e->n_values == full->n_values && e->reason && e->submitter && e->fingerprint
	         ? YB_OK
	         : YB_ENOMEM;
	store_revision_row_free(full);
	if (rc == YB_OK && !page_takes(c, ep->r->n_revisions, &ep->used,
	                               yuebao__v1__export_revision__get_packed_size(e)))
		return PAGE_FULL;
	if (rc == YB_OK)
		ep->r->revisions[ep->r->n_revisions++] = e;
	return rc;
}

static int on_export_review(void *ctx, const char *org, int month, const struct store_review *rv)
{
	struct export_page *ep = ctx;
	Yuebao__V1__ExportReview *x = handlers_alloc(ep->c, sizeof(*x));
	Yuebao__V1__ReviewEvent *e = handlers_alloc(ep->c, sizeof(*e));
	char period[PERIOD_TEXT_MAX];

	if (x == NULL || e == NULL)
		return YB_ENOMEM;
	yuebao__v1__export_review__init(x);
	yuebao__v1__review_event__init(e);
	period_format_month(month, period, sizeof(period));
	x->org = handlers_strdup(ep->c, org);
	x->period = handlers_strdup(ep->c, period);
	e->revision = rv->revision;
	e->action = handlers_strdup(ep->c, rv->action);
	e->comment = handlers_strdup(ep->c, rv->comment);
	e->reviewer = handlers_strdup(ep->c, rv->reviewer);
	e->fingerprint = handlers_strdup(ep->c, rv->fingerprint);
	e->at_ms = rv->at_ms;
	if (!x->org || !x->period || !e->action || !e->comment || !e->reviewer || !e->fingerprint)
		return YB_ENOMEM;
	x->review = e;
	if (!page_takes(ep->c, ep->r->n_reviews, &ep->used,
	                yuebao__v1__export_review__get_packed_size(x)))
		return PAGE_FULL;
	ep->r->reviews[ep->r->n_reviews++] = x;
	return 0;
}

static int on_export_closure(void *ctx, const struct store_closure_row *row)
{
	struct export_page *ep = ctx;
	Yuebao__V1__ExportClosure *x = handlers_alloc(ep->c, sizeof(*x));
	char period[PERIOD_TEXT_MAX];

	if (x == NULL)
		return YB_ENOMEM;
	yuebao__v1__export_closure__init(x);
	period_format_month(row->month, period, sizeof(period));
	x->org = handlers_strdup(ep->c, row->org);
	x->period = handlers_strdup(ep->c, period);
	x->closed = row->closed;
	x->comment = handlers_strdup(ep->c, row->comment);
	x->subject = handlers_strdup(ep->c, row->subject);
	x->fingerprint = handlers_strdup(ep->c, row->fingerprint);
	x->at_ms = row->at_ms;
	if (!x->org || !x->period || !x->comment || !x->subject || !x->fingerprint)
		return YB_ENOMEM;
	if (!page_takes(ep->c, ep->r->n_closures, &ep->used,
	                yuebao__v1__export_closure__get_packed_size(x)))
		return PAGE_FULL;
	ep->r->closures[ep->r->n_closures++] = x;
	return 0;
}

static int on_export_checkpoint(void *ctx, const struct checkpoint *cp)
{
	struct export_page *ep = ctx;
	Yuebao__V1__Checkpoint *m = checkpoint_reply(ep->c, cp);

	if (m == NULL)
		return YB_ENOMEM;
	if (!page_takes(ep->c, ep->r->n_checkpoints, &ep->used,
	                yuebao__v1__checkpoint__get_packed_size(m)))
		return PAGE_FULL;
	ep->r->checkpoints[ep->r->n_checkpoints++] = m;
	return 0;
}

static int handle_audit_export(struct call *c, const ProtobufCMessage *in, ProtobufCMessage **out)
{
	const Yuebao__V1__AuditExportRequest *req = (const Yuebao__V1__AuditExportRequest *)in;
	Yuebao__V1__AuditExportReply *r = handlers_alloc(c, sizeof(*r));
	struct export_page ep = {.c = c, .r = r, .size = page_size(req->page_size, 200, 2000)};
	size_t cert_len = 0, n = 0;
	long from, next = -1; /* the position after the page, when not from + n */
	int idx, rc;

	if (r == NULL)
		return YB_ENOMEM;
	yuebao__v1__audit_export_reply__init(r);
	if ((strcmp(c->who->role, "auditor") != 0 && strcmp(c->who->role, "central") != 0) ||
	    (idx = orgtree_find(c->world->orgs, c->who->org)) != 0)
		return refuse(c, YB_PERMISSION_DENIED,
		              _("only an auditor or the central office at the root of the org tree "
		                "exports the whole audit log, not %s %s"),
		              c->who->role, c->who->org);
	if ((from = parse_token(req->page_token, 'x')) < 0)
		return refuse(c, YB_INVALID_ARGUMENT,
		              _("page token '%s' is not one this server gave"), req->page_token);
	/*
	 * A page ends when it holds page_size items or is full (PAGE_FULL); then
	 * there may be more, and the token says where they start.
	 */
	if (strcmp(req->part, "reviews") == 0) {
		if ((r->reviews = handlers_alloc(c, (ep.size + 1) * sizeof(*r->reviews))) == NULL)
			return YB_ENOMEM;
		rc = store_export_reviews(c->store, (uint64_t)from, ep.size, on_export_review, &ep,
		                          &c->msg);
		n = r->n_reviews;
	} else if (strcmp(req->part, "revisions") == 0) {
		if ((r->revisions = handlers_alloc(c, (ep.size + 1) * sizeof(*r->revisions))) ==
		    NULL)
			return YB_ENOMEM;
		rc = store_export_revisions(c->store, (uint64_t)from, ep.size, on_export_revision,
		                            &ep, &c->msg);
		n = r->n_revisions;
	} else if (strcmp(req->part, "closures") == 0) {
		if ((r->closures = handlers_alloc(c, (ep.size + 1) * sizeof(*r->closures))) == NULL)
			return YB_ENOMEM;
		rc = store_export_closures(c->store, (uint64_t)from, ep.size, on_export_closure,
		                           &ep, &c->msg);
		n = r->n_closures;
	} else if (strcmp(req->part, "checkpoints") == 0) {
		if ((r->checkpoints = handlers_alloc(c, (ep.size + 1) * sizeof(*r->checkpoints))) ==
		    NULL)
			return YB_ENOMEM;
		rc = store_scan_checkpoints(c->store, (uint64_t)(from > 0 ? from : 1), ep.size,
		                            on_export_checkpoint, &ep, &c->msg);
		n = r->n_checkpoints;
		/* Checkpoints go on from the size after the last one sent. */
		next = n > 0 ? (long)r->checkpoints[n - 1]->size + 1 : from;
	} else {
		return refuse(c, YB_INVALID_ARGUMENT,
		              _("part '%s' is not revisions, reviews, closures or checkpoints"),
		              req->part);
	}
	if (rc != YB_OK && rc != PAGE_FULL)
		return rc;
	if ((rc == PAGE_FULL || n == ep.size) &&
	    (r->next_page_token = make_token(c, 'x', next >= 0 ? next : from + (long)n)) == NULL)
		return YB_ENOMEM;
	r->server_cert.data = (uint8_t *)pki_identity_cert(c->signer, &cert_len);
	r->server_cert.len = cert_len;
	*out = &r->base;
	return YB_OK;
}

/* In the order of the service declaration in proto/yuebao.proto. */
static const struct handler handlers[] = {
    {"Ping", handle_ping, false},
    {"GetCatalog", handle_get_catalog, false},
    {"Submit", handle_submit, true},
    {"GetReturn", handle_get_return, false},
    {"Consolidate", handle_consolidate, false},
    {"History", handle_history, false},
    {"Review", handle_review, true},
    {"Status", handle_status, false},
    {"ClosePeriod", handle_close_period, true},
    {"AuditLog", handle_audit_log, false},
    {"AuditProve", handle_audit_prove, false},
    {"AuditExport", handle_audit_export, false},
};

int handlers_check(struct errbuf *eb)
{
	const ProtobufCServiceDescriptor *d = &yuebao__v1__returns__descriptor;
	size_t n = sizeof(handlers) / sizeof(handlers[0]);

	if (d->n_methods != n)
		return status_fail(eb, YB_INTERNAL, "service declares %u methods, %zu handlers",
		                   d->n_methods, n);
	for (unsigned i = 0; i < d->n_methods; i++)
		if (strcmp(d->methods[i].name, handlers[i].method) != 0)
			return status_fail(eb, YB_INTERNAL,
			                   "service method %u is %s but its handler is for %s", i,
			                   d->methods[i].name, handlers[i].method);
	return YB_OK;
}

const struct handler *handlers_get(unsigned i)
{
	return i < sizeof(handlers) / sizeof(handlers[0]) ? &handlers[i] : NULL;
}
