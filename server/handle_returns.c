/*
 * handle_returns.c - returns and their submission: Submit (check and apply),
 * GetReturn and History (see handle_returns.h).
 *
 * A submission is checked in full before it waits for the write turn: its
 * values against the catalog (types, rules, formulas), against the branch's
 * own history (outliers, warnings only), and against the return's state
 * (locked when accepted, closed periods, a reason for an amendment). Its
 * apply only re-reads that state and inserts the revision.
 */
#include "handle_returns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "handle_audit.h"
#include "handle_review.h"
#include "hash.h"
#include "i18n.h"
#include "outliers.h"
#include "period.h"
#include "store.h"
#include "store_returns.h"
#include "store_review.h"

static const char *finding_severity(enum catalog_finding_kind k)
{
	return k == CATALOG_FINDING_ERROR     ? "error"
	       : k == CATALOG_FINDING_WARNING ? "warning"
	                                      : "skipped";
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
	Yuebao__V1__FieldError *e = call_alloc(c, sizeof(*e));
	char *params = NULL;
	size_t n;

	if (e == NULL)
		return NULL;
	yuebao__v1__field_error__init(e);
	e->severity = call_strdup(c, severity);
	e->field = call_strdup(c, field);
	e->line = line;
	e->value = call_strdup(c, value);
	if (what->code == FINDING_CODE_NONE) {
		e->message = call_strdup(c, text);
	} else {
		n = finding_render(what, field, line, c->world->cat, NULL, 0);
		if ((e->message = call_alloc(c, n + 1)) != NULL)
			finding_render(what, field, line, c->world->cat, e->message, n + 1);
		e->kind = (char *)finding_code_name(what->code);
		if (finding_encode(what, &params) != YB_OK)
			return NULL;
		e->params = call_strdup(c, params);
		free(params);
	}
	return e;
}

/* Converts findings other than errors into the reply and the stored rows. */
static yb_status keep_findings(struct call *c, const struct catalog_findings *f,
                               Yuebao__V1__SubmitReply *r, struct store_finding **rows, size_t *n)
{
	size_t k = 0;

	*rows = call_alloc(c, (f->n + 1) * sizeof(**rows));
	r->findings = call_alloc(c, (f->n + 1) * sizeof(*r->findings));
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
static yb_status stored_findings(struct call *c, const struct store_revision_row *row,
                                 Yuebao__V1__FieldError ***out, size_t *n)
{
	*n = 0;
	if ((*out = call_alloc(c, (row->n_findings + 1) * sizeof(**out))) == NULL)
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
static yb_status check_values(struct call *c, const Yuebao__V1__SubmitRequest *req,
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
	if ((entries = call_alloc(c, (req->n_values + 1) * sizeof(*entries))) == NULL)
		return YB_ENOMEM;
	for (size_t i = 0; i < req->n_values; i++) {
		entries[i].code = req->values[i]->code;
		entries[i].value = req->values[i]->value;
		entries[i].line = req->values[i]->line;
	}
	rc = catalog_check(c->world->cat, entries, req->n_values, vals, f);
	if (rc == YB_INVALID_ARGUMENT) {
		for (size_t i = 0; i < f->n; i++)
			if (f->items[i].kind == CATALOG_FINDING_ERROR)
				call_add_error(c, "error", f->items[i].code,
				               (uint32_t)f->items[i].line, f->items[i].value,
				               f->items[i].message);
		status_fail(&c->msg, rc,
		            f->errors > CALL_MAX_ERRORS
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

/* The reviews of (org, month) as reply messages in the call's arena. */
static yb_status reviews_to_reply(struct call *c, const char *org, int month,
                                  Yuebao__V1__ReviewEvent ***list, size_t *n)
{
	struct store_review *rv = NULL;
	size_t nrv = 0;
	int rc = store_list_reviews(c->store, (struct return_key){org, month}, &rv, &nrv, &c->msg);

	*list = NULL;
	*n = 0;
	if (rc != YB_OK)
		return rc;
	if ((*list = call_alloc(c, (nrv + 1) * sizeof(**list))) == NULL) {
		store_reviews_free(rv, nrv);
		return YB_ENOMEM;
	}
	for (size_t i = 0; i < nrv; i++) {
		if (((*list)[*n] = review_event(c, &rv[i])) == NULL) {
			rc = YB_ENOMEM;
			break;
		}
		(*n)++;
	}
	store_reviews_free(rv, nrv);
	return rc;
}

/* Refuses to amend an accepted return, saying who accepted it and what to do. */
static yb_status refuse_locked(struct call *c, const char *org, int month, const char *period)
{
	struct store_review *rv = NULL;
	size_t n = 0;
	char when[TZ_TEXT_MAX] = "", who[256];

	snprintf(who, sizeof(who), "%s", _("the central office"));
	if (store_list_reviews(c->store, (struct return_key){org, month}, &rv, &n, &c->msg) ==
	    YB_OK) {
		for (size_t i = n; i-- > 0;)
			if (strcmp(rv[i].action, "accept") == 0) {
				snprintf(who, sizeof(who), "%s", rv[i].reviewer);
				call_format_when(c, rv[i].at_ms, when, sizeof(when));
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

/*
 * The state of a return that decides whether a revision may be added: what
 * check reads and apply finds unchanged.
 */
struct return_basis {
	uint32_t last;           /* the latest revision, 0 for none */
	enum review_state state; /* of the latest revision (when last > 0) */
	struct review_closure closure;
};

static yb_status read_basis(struct call *c, int idx, int month, struct return_basis *b)
{
	struct return_key key = {c->world->orgs->units[idx].code, month};
	yb_status rc;

	memset(b, 0, sizeof(*b));
	rc = review_latest(c, key, &b->last, &b->state);
	if (rc == YB_NOT_FOUND)
		b->last = 0;
	else if (rc != YB_OK)
		return rc;
	return review_find_closure(c, idx, month, &b->closure);
}

/* What a submission's check decided; apply inserts it. */
struct submit_plan {
	int idx, month;
	char period[PERIOD_TEXT_MAX];
	struct return_basis basis;
	int64_t due_ms;
	char sha[65];               /* of the request as received */
	struct store_revision rev;  /* all but revision, received_at_ms and on_time */
	Yuebao__V1__SubmitReply *r; /* all but those, and the receipt */
};

/* The refusals that depend on the return's state, not on the values. */
static yb_status check_basis(struct call *c, const struct submit_plan *p,
                             const Yuebao__V1__SubmitRequest *req)
{
	const char *org = c->world->orgs->units[p->idx].code;
	char when[TZ_TEXT_MAX];

	if (p->basis.last > 0 && p->basis.state == REVIEW_ACCEPTED)
		return refuse_locked(c, org, p->month, p->period);
	if (p->basis.closure.closed) {
		call_format_when(c, p->basis.closure.at_ms, when, sizeof(when));
		return status_fail(&c->msg, YB_FAILED_PRECONDITION,
		                   _("period %s is closed for %s by %s since %s; no return can be "
		                     "filed or amended until the central office reopens it"),
		                   p->period, p->basis.closure.by_org, p->basis.closure.subject,
		                   when);
	}
	if (p->basis.last > 0 && req->reason[0] == '\0') {
		char msg[160];
		snprintf(msg, sizeof(msg),
		         _("revision %u of %s %s amends revision %u and needs a reason (--reason)"),
		         p->basis.last + 1, org, p->period, p->basis.last);
		call_add_error(c, "error", "reason", 0, "", msg);
		return status_fail(&c->msg, YB_INVALID_ARGUMENT, "%s", msg);
	}
	return YB_OK;
}

/* The org unit and month of a submission, authorised; refusals in c. */
static yb_status check_target(struct call *c, const Yuebao__V1__SubmitRequest *req,
                              struct submit_plan *p)
{
	int rc;

	if ((rc = call_authorize(c, req->org, CALL_SUBMIT, &p->idx)) != YB_OK)
		return rc;
	if ((rc = period_parse_month(req->period, &p->month, &c->msg)) != YB_OK) {
		call_add_error(c, "error", "period", 0, req->period, c->msg.msg);
		return rc;
	}
	period_format_month(p->month, p->period, sizeof(p->period));
	if (p->month > call_current_month(c)) {
		call_refuse(c, YB_INVALID_ARGUMENT,
		            _("period %s has not begun: a return can be filed from the first day "
		              "of its month"),
		            p->period);
		call_add_error(c, "error", "period", 0, req->period, c->msg.msg);
		return YB_INVALID_ARGUMENT;
	}
	return YB_OK;
}

/* Fills the revision to insert and the reply, but for what apply decides. */
static yb_status plan_revision(struct call *c, const Yuebao__V1__SubmitRequest *req,
                               const struct catalog_values *vals, const struct catalog_findings *f,
                               struct submit_plan *p)
{
	const struct catalog *cat = c->world->cat;
	Yuebao__V1__SubmitReply *r = p->r;
	struct store_value *values;

	r->org = c->world->orgs->units[p->idx].code;
	r->period = call_strdup(c, p->period);
	r->dry_run = req->dry_run;
	r->state = req->dry_run ? "" : "submitted";
	hash_sha256_hex(c->request, c->request_len, p->sha);
	r->request_sha256 = req->dry_run ? "" : p->sha;
	p->due_ms = period_due_ms(p->month, c->world->due_day, c->world->zone);
	/* A dry run is answered now, with the time and deadline as they are now. */
	r->received_at_ms = c->now_ms;
	r->on_time = c->now_ms < p->due_ms;
	if (keep_findings(c, f, r, (struct store_finding **)&p->rev.findings, &p->rev.n_findings) !=
	        YB_OK ||
	    (values = call_alloc(c, (cat->n_elements + 1) * sizeof(*values))) == NULL)
		return YB_ENOMEM;
	for (size_t e = 0; e < cat->n_elements; e++)
		if (vals->present[e])
			values[p->rev.n_values++] =
			    (struct store_value){cat->elements[e].code, vals->value[e]};
	p->rev.org = r->org;
	p->rev.month = p->month;
	p->rev.state = "submitted";
	p->rev.reason = req->reason;
	p->rev.subject = c->who->subject;
	p->rev.fingerprint = c->who->fingerprint;
	p->rev.request = c->request;
	p->rev.request_len = c->request_len;
	p->rev.request_sha256 = p->sha;
	p->rev.values = values;
	return YB_OK;
}

yb_status handle_submit_check(struct call *c, const ProtobufCMessage *in, struct write_plan *plan)
{
	const Yuebao__V1__SubmitRequest *req = (const Yuebao__V1__SubmitRequest *)in;
	struct submit_plan *p = call_alloc(c, sizeof(*p));
	struct catalog_values vals = {0};
	struct catalog_findings f = {0};
	int rc;

	if (p == NULL || (p->r = call_alloc(c, sizeof(*p->r))) == NULL)
		return YB_ENOMEM;
	yuebao__v1__submit_reply__init(p->r);
	if ((rc = check_target(c, req, p)) != YB_OK)
		return rc;
	if ((rc = check_values(c, req, &vals, &f)) != YB_OK ||
	    (rc = outliers_check(c, c->world->orgs->units[p->idx].code, p->month, req, &vals,
	                         &f)) != YB_OK ||
	    (rc = read_basis(c, p->idx, p->month, &p->basis)) != YB_OK ||
	    (rc = check_basis(c, p, req)) != YB_OK ||
	    (rc = plan_revision(c, req, &vals, &f, p)) != YB_OK)
		goto done;
	if (req->dry_run)
		plan->answer = &p->r->base;
	plan->detail = p;
done:
	catalog_values_free(&vals);
	catalog_findings_clear(&f);
	return rc;
}

yb_status handle_submit_apply(struct call *c, const struct write_plan *plan,
                              struct write_result *res)
{
	struct submit_plan *p = plan->detail;
	Yuebao__V1__SubmitReply *r = p->r;
	struct return_basis now;
	char *object;
	int rc;

	/* Another call added a revision, reviewed it or closed the month since check. */
	if ((rc = read_basis(c, p->idx, p->month, &now)) != YB_OK)
		return rc;
	if (now.last != p->basis.last || (now.last > 0 && now.state != p->basis.state) ||
	    now.closure.closed != p->basis.closure.closed)
		return YB_ABORTED;
	p->rev.revision = p->basis.last + 1;
	p->rev.received_at_ms = c->now_ms;
	p->rev.on_time = c->now_ms < p->due_ms;
	if ((rc = store_insert_revision(c->store, &p->rev, &c->msg)) != YB_OK)
		return rc;
	if ((object = call_alloc(c, 96)) == NULL)
		return YB_ENOMEM;
	snprintf(object, 96, "%s/%s/r%u", r->org, p->period, p->rev.revision);
	r->revision = p->rev.revision;
	r->received_at_ms = p->rev.received_at_ms;
	r->on_time = p->rev.on_time;
	res->reply = &r->base;
	res->event = (struct audit_event){.action = "submit",
	                                  .object = object,
	                                  .org = r->org,
	                                  .month = p->month,
	                                  .digest = p->sha,
	                                  .due_ms = p->due_ms};
	res->receipt = &r->receipt;
	return YB_OK;
}

yb_status handle_get_return(struct call *c, const ProtobufCMessage *in, ProtobufCMessage *out)
{
	const Yuebao__V1__GetReturnRequest *req = (const Yuebao__V1__GetReturnRequest *)in;
	const struct catalog *cat = c->world->cat;
	Yuebao__V1__ReturnRevision *r = (Yuebao__V1__ReturnRevision *)out;
	struct store_revision_row *row = NULL;
	char period[PERIOD_TEXT_MAX];
	int idx, month, rc;

	if ((rc = call_authorize_month(c, req->org, req->period, CALL_READ, &idx, &month)) != YB_OK)
		return rc;
	period_format_month(month, period, sizeof(period));
	rc = store_get_revision(c->store,
	                        (struct return_key){c->world->orgs->units[idx].code, month},
	                        req->revision, &row, &c->msg);
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
	r->period = call_strdup(c, period);
	r->revision = row->revision;
	r->revisions = row->revisions;
	r->state = call_strdup(c, row->state);
	r->received_at_ms = row->received_at_ms;
	r->on_time = row->on_time;
	r->reason = call_strdup(c, row->reason);
	r->submitter = call_strdup(c, row->subject);
	r->fingerprint = call_strdup(c, row->fingerprint);
	r->request_sha256 = call_strdup(c, row->request_sha256);
	if ((r->values = call_alloc(c, (row->n_values + 1) * sizeof(*r->values))) == NULL) {
		rc = YB_ENOMEM;
		goto done;
	}
	/* Catalog order, as the template and the report list them. */
	for (size_t e = 0; e < cat->n_elements; e++)
		for (size_t i = 0; i < row->n_values; i++) {
			Yuebao__V1__Value *v;
			if (strcmp(row->values[i].code, cat->elements[e].code) != 0)
				continue;
			if ((v = call_alloc(c, sizeof(*v))) == NULL) {
				rc = YB_ENOMEM;
				goto done;
			}
			yuebao__v1__value__init(v);
			v->code = cat->elements[e].code;
			v->value = call_format_value(c, &cat->elements[e], row->values[i].value);
			r->values[r->n_values++] = v;
		}
	if ((rc = stored_findings(c, row, &r->findings, &r->n_findings)) != YB_OK ||
	    (rc = reviews_to_reply(c, r->org, month, &r->reviews, &r->n_reviews)) != YB_OK)
		goto done;
done:
	store_revision_row_free(row);
	return rc;
}

/* The values of a revision row as text by element, catalog order ("" = not reported). */
static const char *row_value(struct call *c, const struct store_revision_row *row,
                             const struct catalog_element *e)
{
	for (size_t i = 0; row != NULL && i < row->n_values; i++)
		if (strcmp(row->values[i].code, e->code) == 0)
			return call_format_value(c, e, row->values[i].value);
	return "";
}

/* Summary of one revision with its changes against the previous one. */
static int summarise(struct call *c, const struct store_revision_row *row,
                     const struct store_revision_row *prev, Yuebao__V1__RevisionSummary **out)
{
	const struct catalog *cat = c->world->cat;
	Yuebao__V1__RevisionSummary *r = call_message(c, &yuebao__v1__revision_summary__descriptor);

	if (r == NULL ||
	    (r->changes = call_alloc(c, (cat->n_elements + 1) * sizeof(*r->changes))) == NULL)
		return YB_ENOMEM;
	r->revision = row->revision;
	r->state = call_strdup(c, row->state);
	r->received_at_ms = row->received_at_ms;
	r->on_time = row->on_time;
	r->reason = call_strdup(c, row->reason);
	r->submitter = call_strdup(c, row->subject);
	r->fingerprint = call_strdup(c, row->fingerprint);
	r->request_sha256 = call_strdup(c, row->request_sha256);
	for (size_t e = 0; e < cat->n_elements; e++) {
		const char *after = row_value(c, row, &cat->elements[e]);
		const char *before = prev != NULL ? row_value(c, prev, &cat->elements[e]) : "";
		Yuebao__V1__Change *ch;
		if (strcmp(before, after) == 0)
			continue;
		if ((ch = call_alloc(c, sizeof(*ch))) == NULL)
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

yb_status handle_history(struct call *c, const ProtobufCMessage *in, ProtobufCMessage *out)
{
	const Yuebao__V1__HistoryRequest *req = (const Yuebao__V1__HistoryRequest *)in;
	Yuebao__V1__HistoryReply *r = (Yuebao__V1__HistoryReply *)out;
	struct store_revision_row *prev = NULL, *row = NULL;
	uint32_t size = call_page_size(req->page_size, 20, 100), last = 0, first, end;
	size_t used = 0;
	struct review_closure ci;
	char period[PERIOD_TEXT_MAX];
	const char *org;
	long from;
	int idx, month, rc;

	if ((rc = call_authorize_month(c, req->org, req->period, CALL_READ, &idx, &month)) != YB_OK)
		return rc;
	if ((from = call_parse_token(req->page_token, 'r')) < 0)
		return call_refuse(c, YB_INVALID_ARGUMENT,
		                   _("page token '%s' is not one this server gave"),
		                   req->page_token);
	org = c->world->orgs->units[idx].code;
	period_format_month(month, period, sizeof(period));
	if ((rc = store_last_revision(c->store, (struct return_key){org, month}, &last, &c->msg)) !=
	    YB_OK)
		return rc;
	if (last == 0)
		return call_refuse(c, YB_NOT_FOUND, _("no return from %s for %s"), org, period);
	first = from > 0 ? (uint32_t)from : 1;
	end = first + size - 1 < last ? first + size - 1 : last;
	r->org = (char *)org;
	r->org_name = c->world->orgs->units[idx].name;
	r->period = call_strdup(c, period);
	if ((r->revisions = call_alloc(c, (size + 1) * sizeof(*r->revisions))) == NULL)
		return YB_ENOMEM;
	if (first > 1 && (rc = store_get_revision(c->store, (struct return_key){org, month},
	                                          first - 1, &prev, &c->msg)) != YB_OK)
		goto done;
	/* The reviews come on the first page and count towards its bytes. */
	if (first == 1 &&
	    (rc = reviews_to_reply(c, org, month, &r->reviews, &r->n_reviews)) != YB_OK)
		goto done;
	for (size_t i = 0; i < r->n_reviews; i++)
		used += yuebao__v1__review_event__get_packed_size(r->reviews[i]) + 8;
	for (uint32_t rev = first; rev <= end; rev++) {
		if ((rc = store_get_revision(c->store, (struct return_key){org, month}, rev, &row,
		                             &c->msg)) != YB_OK ||
		    (rc = summarise(c, row, prev, &r->revisions[r->n_revisions])) != YB_OK)
			goto done;
		if (!call_page_takes(c, r->n_revisions, &used,
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
	if ((rc = review_find_closure(c, idx, month, &ci)) != YB_OK)
		goto done;
	r->closed = ci.closed;
	r->next_page_token = end < last ? call_make_token(c, 'r', (long)end + 1) : "";
done:
	store_revision_row_free(prev);
	store_revision_row_free(row);
	return rc;
}
