/*
 * handle_consolidate.c - Consolidate: the figures of a subtree over a
 * period, grouped, compared, and explained down to the returns behind a
 * figure (see handle_consolidate.h; the arithmetic is consolidate.c's).
 */
#include "handle_consolidate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "consolidate.h"
#include "decimal.h"
#include "i18n.h"
#include "period.h"
#include "store.h"
#include "store_audit.h"
#include "store_returns.h"

/* The request's words for enum consol_compare and enum consol_by, in enum order ("": none). */
static const char *const compare_names[] = {
    [CONSOL_NONE] = "", [CONSOL_YOY] = "yoy", [CONSOL_PREV] = "prev"};
static const char *const by_names[] = {
    [CONSOL_TOTAL] = "", [CONSOL_BY_ORG] = "org", [CONSOL_BY_MONTH] = "month"};

/* Builds the reply's groups from the result; strings point into res. */
static int build_groups(struct call *c, const struct consol_result *res,
                        Yuebao__V1__ConsolidateReply *r)
{
	const struct catalog *cat = c->world->cat;

	r->groups = call_alloc(c, res->n_groups * sizeof(*r->groups));
	if (r->groups == NULL)
		return YB_ENOMEM;
	for (size_t g = 0; g < res->n_groups; g++) {
		const struct consol_group *cg = &res->groups[g];
		Yuebao__V1__Group *grp = call_alloc(c, sizeof(*grp));
		Yuebao__V1__Figure *figs = call_alloc(c, res->n_figures * sizeof(*figs));
		Yuebao__V1__Figure **list = call_alloc(c, res->n_figures * sizeof(*list));

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
	void *p;

	(void)org;
	if (es->org < 0 || e < 0 || !es->wanted[e])
		return 0;
	if ((p = array_reserve(es->items, &es->cap, es->n + 1, sizeof(*es->items), 64)) == NULL)
		return YB_ENOMEM;
	es->items = p;
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
	bool *wanted = call_alloc(c, cat->n_elements + 1);
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
		call_add_error(c, "error", "explain", 0, code,
		               "not an element or indicator of the catalog");
		return call_refuse(c, YB_INVALID_ARGUMENT,
		                   "--explain %s: no such element or indicator%s", code, "");
	}
	es.wanted = wanted;
	rc = store_scan_latest(c->store, NULL, q->period.first, q->period.last, q->accepted_only,
	                       on_explain_return, on_explain_value, &es, &c->msg);
	if (rc == YB_OK &&
	    (r->contributions = call_alloc(c, (es.n + 1) * sizeof(*r->contributions))) == NULL)
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
		if ((k = call_alloc(c, sizeof(*k))) == NULL) {
			rc = YB_ENOMEM;
			break;
		}
		yuebao__v1__contribution__init(k);
		period_format_month(it->month, period, sizeof(period));
		k->org = q->orgs->units[it->org].code;
		k->period = call_strdup(c, period);
		k->revision = it->revision;
		k->code = el->code;
		k->value = call_format_value(c, el, it->value);
		snprintf(object, sizeof(object), "%s/%s/r%u", k->org, period, it->revision);
		rc = store_audit_index_of(c->store, (struct return_key){k->org, it->month}, object,
		                          &k->log_index, &c->msg);
		k->has_log_index = rc == YB_OK;
		if (rc == YB_NOT_FOUND)
			rc = YB_OK;
		r->contributions[r->n_contributions++] = k;
	}
	free(es.items);
	return rc;
}

yb_status handle_consolidate(struct call *c, const ProtobufCMessage *in, ProtobufCMessage *out)
{
	const Yuebao__V1__ConsolidateRequest *req = (const Yuebao__V1__ConsolidateRequest *)in;
	Yuebao__V1__ConsolidateReply *r = (Yuebao__V1__ConsolidateReply *)out;
	struct consol_query q = {.cat = c->world->cat, .orgs = c->world->orgs};
	struct consol_result *res = NULL;
	char period[PERIOD_TEXT_MAX], prev[PERIOD_TEXT_MAX];
	int rc, compare, by;

	if ((rc = call_authorize(c, req->org, CALL_READ, &q.org)) != YB_OK)
		return rc;
	if ((rc = period_parse(req->period, &q.period, &c->msg)) != YB_OK) {
		call_add_error(c, "error", "period", 0, req->period, c->msg.msg);
		return rc;
	}
	if (period_length(&q.period) > CONSOL_MAX_MONTHS) {
		call_refuse(c, YB_INVALID_ARGUMENT, _("period %s is longer than %s months"),
		            req->period, CONSOL_MAX_MONTHS_TEXT);
		call_add_error(c, "error", "period", 0, req->period, c->msg.msg);
		return YB_INVALID_ARGUMENT;
	}
	if ((compare = call_parse_word(req->compare, compare_names, 3)) < 0)
		return call_refuse(c, YB_INVALID_ARGUMENT, _("compare '%s' is not yoy or prev"),
		                   req->compare);
	if ((by = call_parse_word(req->by, by_names, 3)) < 0)
		return call_refuse(c, YB_INVALID_ARGUMENT, _("by '%s' is not org or month"),
		                   req->by);
	q.compare = (enum consol_compare)compare;
	q.by = (enum consol_by)by;
	q.current_month = call_current_month(c);
	q.accepted_only = req->accepted_only;
	if (q.compare != CONSOL_NONE) {
		struct period cmp =
		    q.compare == CONSOL_YOY ? period_yoy(&q.period) : period_prev(&q.period);
		if (period_month_year(cmp.first) < PERIOD_MIN_YEAR)
			return call_refuse(c, YB_INVALID_ARGUMENT,
			                   _("the comparison period of %s starts before %d"),
			                   req->period, PERIOD_MIN_YEAR);
	}
	if ((rc = consol_run(c->store, &q, &res, &c->msg)) != YB_OK)
		return rc;
	period_format(&res->period, period, sizeof(period));
	period_format(&res->previous, prev, sizeof(prev));
	r->org = c->world->orgs->units[q.org].code;
	r->org_name = c->world->orgs->units[q.org].name;
	r->period = call_strdup(c, period);
	r->previous_period = call_strdup(c, res->has_previous ? prev : "");
	r->compare = (char *)req->compare;
	r->by = (char *)req->by;
	/* The reply is packed before the call's arena is released; so is res. */
	if ((rc = build_groups(c, res, r)) != YB_OK) {
		consol_result_free(res);
		return YB_ENOMEM;
	}
	/*
	 * Strings of the groups point into res: copy them into the arena so that
	 * res can be freed now and the reply stays valid until call_release.
	 */
	for (size_t g = 0; g < r->n_groups; g++) {
		Yuebao__V1__Group *grp = r->groups[g];
		grp->key = call_strdup(c, grp->key);
		for (size_t i = 0; i < grp->n_figures; i++) {
			Yuebao__V1__Figure *f = grp->figures[i];
			f->value = call_strdup(c, f->value);
			f->previous = call_strdup(c, f->previous);
			f->change = call_strdup(c, f->change);
		}
	}
	consol_result_free(res);
	if (req->explain[0] && (rc = explain_figure(c, &q, req->explain, r)) != YB_OK)
		return rc;
	return YB_OK;
}
