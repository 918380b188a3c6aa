/*
 * consolidate.c - aggregation over a subtree and period, then indicators.
 *
 * The aggregates come from the pre-aggregates of rollup.c: the buckets of
 * the subtree's root (and of each child with --by org) for the period's
 * months, a number of rows that does not grow with the number of branches.
 * When those are not usable (built for another org tree or catalog, during
 * a reload, or with changes not yet applied), one scan of the store per
 * period (current, then comparison) feeds accumulators for every group at
 * once instead: the subtree total, and either one per child org unit or one
 * per month. The scan is ordered by org unit and month, so a `last`
 * element's latest value per org unit is simply the last one seen before
 * the org unit changes. Both give the same figures.
 */
#include "consolidate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "rollup.h"
#include "store_returns.h"

struct scan {
	const struct consol_query *q;
	struct rollup_acc *accs; /* one per group */
	size_t n_groups;
	struct period p;
	/* The org unit whose rows are being read. */
	char org[40];
	int org_idx;   /* -1: not in the subtree, rows ignored */
	int org_group; /* its child group with --by org, else -1 */
	int64_t *last_val;
	bool *last_has;
	int status;
};

static int add_to(struct rollup_acc *a, int e, int64_t v)
{
	if (dec_add(a->sum[e], v, &a->sum[e]) != YB_OK)
		return YB_OUT_OF_RANGE;
	a->has[e] = true;
	return YB_OK;
}

/* Adds the finished org unit's `last` values to its groups. */
static int flush_org(struct scan *sc)
{
	const struct catalog *cat = sc->q->cat;
	int rc = YB_OK;

	if (sc->org_idx < 0)
		return YB_OK;
	for (size_t e = 0; e < cat->n_elements && rc == YB_OK; e++) {
		if (!sc->last_has[e])
			continue;
		rc = add_to(&sc->accs[0], (int)e, sc->last_val[e]);
		if (rc == YB_OK && sc->org_group > 0)
			rc = add_to(&sc->accs[sc->org_group], (int)e, sc->last_val[e]);
		sc->last_has[e] = false;
	}
	return rc;
}

/* The child of the subtree root that contains unit u, as a group index. */
static int child_group(const struct consol_query *q, int u)
{
	const struct orgtree *t = q->orgs;

	if (u == q->org)
		return -1;
	while (t->units[u].parent != q->org)
		u = t->units[u].parent;
	for (size_t k = 0; k < t->units[q->org].n_children; k++)
		if (t->units[q->org].children[k] == u)
			return (int)k + 1;
	return -1;
}

static int on_return(void *ctx, const char *org, int month, uint32_t revision)
{
	struct scan *sc = ctx;
	int rc;

	(void)revision;
	if (strcmp(org, sc->org) != 0) {
		if ((rc = flush_org(sc)) != YB_OK)
			return rc;
		snprintf(sc->org, sizeof(sc->org), "%s", org);
		sc->org_idx = orgtree_find(sc->q->orgs, org);
		if (sc->org_idx >= 0 && !orgtree_within(sc->q->orgs, sc->org_idx, sc->q->org))
			sc->org_idx = -1;
		sc->org_group = sc->org_idx >= 0 && sc->q->by == CONSOL_BY_ORG
		                    ? child_group(sc->q, sc->org_idx)
		                    : -1;
	}
	/* Completeness counts what is expected: returns of leaf units. */
	if (sc->org_idx < 0 || !orgtree_is_leaf(sc->q->orgs, sc->org_idx))
		return 0;
	sc->accs[0].present++;
	if (sc->q->by == CONSOL_BY_ORG && sc->org_group > 0)
		sc->accs[sc->org_group].present++;
	if (sc->q->by == CONSOL_BY_MONTH)
		sc->accs[1 + month - sc->p.first].present++;
	return 0;
}

static int on_value(void *ctx, const char *org, int month, const char *code, int64_t value)
{
	struct scan *sc = ctx;
	int e;

	(void)org;
	if (sc->org_idx < 0 || (e = catalog_find_element(sc->q->cat, code)) < 0)
		return 0; /* outside the subtree, or an element no longer in the catalog */
	if (sc->q->by == CONSOL_BY_MONTH &&
	    add_to(&sc->accs[1 + month - sc->p.first], e, value) != YB_OK)
		return YB_OUT_OF_RANGE;
	if (sc->q->cat->elements[e].agg == CATALOG_LAST) {
		sc->last_val[e] = value;
		sc->last_has[e] = true;
		return 0;
	}
	if (add_to(&sc->accs[0], e, value) != YB_OK ||
	    (sc->org_group > 0 && add_to(&sc->accs[sc->org_group], e, value) != YB_OK))
		return YB_OUT_OF_RANGE;
	return 0;
}

static size_t group_count(const struct consol_query *q)
{
	switch (q->by) {
	case CONSOL_BY_ORG:
		return 1 + q->orgs->units[q->org].n_children;
	case CONSOL_BY_MONTH:
		return 1 + (size_t)period_length(&q->period);
	default:
		return 1;
	}
}

static void free_accs(struct rollup_acc *accs, size_t n)
{
	for (size_t g = 0; accs != NULL && g < n; g++) {
		free(accs[g].sum);
		free(accs[g].has);
	}
	free(accs);
}

/* Aggregates period p into the n accumulators by reading the returns. */
static int aggregate_scan(struct store *s, const struct consol_query *q, struct period p, size_t n,
                          struct rollup_acc *accs, struct errbuf *eb)
{
	size_t ne = q->cat->n_elements;
	struct scan sc = {
	    .q = q, .accs = accs, .n_groups = n, .p = p, .org_idx = -1, .org_group = -1};
	int rc = YB_ENOMEM;

	sc.last_val = calloc(ne + 1, sizeof(int64_t));
	sc.last_has = calloc(ne + 1, sizeof(bool));
	if (sc.last_val == NULL || sc.last_has == NULL)
		goto done;
	rc = store_scan_latest(s, NULL, p.first, p.last, q->accepted_only, on_return, on_value, &sc,
	                       eb);
	if (rc == YB_OK)
		rc = flush_org(&sc);
done:
	free(sc.last_val);
	free(sc.last_has);
	return rc;
}

/* Aggregates period p into the n accumulators from the pre-aggregates. */
static int aggregate_rollup(struct store *s, const struct consol_query *q, struct period p,
                            struct rollup_acc *accs, struct errbuf *eb)
{
	const struct org_unit *root = &q->orgs->units[q->org];
	size_t ne = q->cat->n_elements;
	int rc = rollup_read(s, q->accepted_only, root->code, p.first, p.last, ne, &accs[0],
	                     q->by == CONSOL_BY_MONTH ? &accs[1] : NULL, eb);

	for (size_t k = 0; rc == YB_OK && q->by == CONSOL_BY_ORG && k < root->n_children; k++)
		rc = rollup_read(s, q->accepted_only, q->orgs->units[root->children[k]].code,
		                 p.first, p.last, ne, &accs[1 + k], NULL, eb);
	return rc;
}

/* Aggregates period p into n fresh accumulators (*out, freed with free_accs). */
static int aggregate(struct store *s, const struct consol_query *q, struct period p, size_t n,
                     bool use_rollup, struct rollup_acc **out, struct errbuf *eb)
{
	size_t ne = q->cat->n_elements;
	struct rollup_acc *accs = calloc(n, sizeof(*accs));
	int rc = YB_ENOMEM;

	if (accs == NULL)
		goto done;
	for (size_t g = 0; g < n; g++)
		if ((accs[g].sum = calloc(ne + 1, sizeof(int64_t))) == NULL ||
		    (accs[g].has = calloc(ne + 1, sizeof(bool))) == NULL)
			goto done;
	if (use_rollup)
		rc = aggregate_rollup(s, q, p, accs, eb);
	if (!use_rollup || rc == YB_DATA_LOSS) {
		/* A damaged bucket is derived data: the returns still give the figures. */
		for (size_t g = 0; g < n; g++) {
			memset(accs[g].sum, 0, ne * sizeof(int64_t));
			memset(accs[g].has, 0, ne * sizeof(bool));
			accs[g].present = 0;
		}
		rc = aggregate_scan(s, q, p, n, accs, eb);
	}
	if (rc == YB_OUT_OF_RANGE)
		status_fail(eb, rc, _("a consolidated total is too large to represent"));
done:
	if (rc == YB_ENOMEM)
		status_fail(eb, rc, "out of memory");
	if (rc == YB_OK) {
		*out = accs;
		accs = NULL;
	}
	free_accs(accs, n);
	return rc;
}

/* Lookup of aggregated element values for formula_eval. */
struct agg_view {
	const struct catalog *cat;
	const struct rollup_acc *acc;
};

static bool lookup_agg(void *ctx, const char *code, struct dec_ratio *out)
{
	const struct agg_view *v = ctx;
	int e = catalog_find_element(v->cat, code);

	if (e < 0 || !v->acc->has[e])
		return false;
	*out = dec_ratio_from_hundredths(v->acc->sum[e]);
	return true;
}

/* r rounded half away from zero to d decimals, so changes match printed figures. */
static int round_ratio(struct dec_ratio r, int d, struct dec_ratio *out)
{
	__int128 p = 1, num = r.num < 0 ? -r.num : r.num, q;

	for (int i = 0; i < d; i++)
		p *= 10;
	if (num > ((__int128)1 << 100) / p)
		return YB_OUT_OF_RANGE;
	q = (num * p * 2 + r.den) / (2 * r.den);
	/* Through dec_ratio_mul so the result is reduced like every other ratio. */
	return dec_ratio_mul((struct dec_ratio){r.num < 0 ? -q : q, p}, dec_ratio_from_int(1), out);
}

/* Value of figure i (element or indicator) of one accumulator. */
static bool figure_value(const struct catalog *cat, const struct rollup_acc *a, size_t i,
                         struct dec_ratio *out)
{
	struct agg_view view = {cat, a};

	if (i < cat->n_elements) {
		if (!a->has[i])
			return false;
		*out = dec_ratio_from_hundredths(a->sum[i]);
		return true;
	}
	i -= cat->n_elements;
	if (formula_eval(cat->indicators[i].formula, lookup_agg, &view, out) != FORMULA_VALUE)
		return false;
	return round_ratio(*out, cat->indicators[i].decimals, out) == YB_OK;
}

static void fill_group(const struct consol_query *q, struct consol_group *g,
                       const struct rollup_acc *cur, const struct rollup_acc *prev)
{
	const struct catalog *cat = q->cat;

	for (size_t i = 0; i < cat->n_elements + cat->n_indicators; i++) {
		struct consol_figure *f = &g->figures[i];
		bool is_elem = i < cat->n_elements;
		int decimals = is_elem ? (cat->elements[i].type == CATALOG_AMOUNT ? 2 : 0)
		                       : cat->indicators[i - cat->n_elements].decimals;
		enum catalog_change kind =
		    is_elem ? CATALOG_PERCENT : cat->indicators[i - cat->n_elements].change;
		struct dec_ratio c, p, ch;
		bool has_c = figure_value(cat, cur, i, &c);
		bool has_p = prev != NULL && figure_value(cat, prev, i, &p);

		f->change_unit = prev == NULL ? "" : (kind == CATALOG_PERCENT ? "%" : "pp");
		if (has_c)
			dec_ratio_format(c, decimals, f->value, sizeof(f->value));
		if (has_p)
			dec_ratio_format(p, decimals, f->previous, sizeof(f->previous));
		if (!has_c || !has_p)
			continue;
		if ((kind == CATALOG_PERCENT ? dec_change_percent(c, p, &ch)
		                             : dec_change_points(c, p, &ch)) == YB_OK)
			dec_ratio_format(ch, 1, f->change, sizeof(f->change));
	}
}

/* Returns expected behind a group: leaf units × months that have begun. */
static uint32_t expected_returns(const struct consol_query *q, int root, struct period p)
{
	const struct org_unit *r = &q->orgs->units[root];
	uint32_t leaves = 0, months = 0;

	for (int u = r->first; u <= r->last; u++)
		leaves += orgtree_is_leaf(q->orgs, u);
	for (int m = p.first; m <= p.last; m++)
		months += m <= q->current_month;
	return leaves * months;
}

void consol_result_free(struct consol_result *r)
{
	if (r == NULL)
		return;
	for (size_t g = 0; r->groups != NULL && g < r->n_groups; g++)
		free(r->groups[g].figures);
	free(r->groups);
	free(r);
}

int consol_run(struct store *s, const struct consol_query *q, struct consol_result **out,
               struct errbuf *eb)
{
	size_t n = group_count(q);
	struct consol_result *r = calloc(1, sizeof(*r));
	struct rollup_acc *cur = NULL, *prev = NULL;
	bool snapshot = false, use_rollup = false;
	int rc;

	if (r == NULL || (r->groups = calloc(n, sizeof(*r->groups))) == NULL) {
		rc = status_fail(eb, YB_ENOMEM, "out of memory");
		goto done;
	}
	r->n_groups = n;
	r->n_figures = q->cat->n_elements + q->cat->n_indicators;
	r->period = q->period;
	r->has_previous = q->compare != CONSOL_NONE;
	r->previous = q->compare == CONSOL_YOY    ? period_yoy(&q->period)
	              : q->compare == CONSOL_PREV ? period_prev(&q->period)
	                                          : q->period;
	/* Both periods, and whether the pre-aggregates are usable, from one state of the store. */
	if ((rc = store_snapshot_begin(s, eb)) != YB_OK)
		goto done;
	snapshot = true;
	if ((rc = rollup_usable(s, q->orgs, q->cat, &use_rollup, eb)) != YB_OK ||
	    (rc = aggregate(s, q, q->period, n, use_rollup, &cur, eb)) != YB_OK ||
	    (r->has_previous &&
	     (rc = aggregate(s, q, r->previous, n, use_rollup, &prev, eb)) != YB_OK))
		goto done;
	store_snapshot_end(s);
	snapshot = false;
	for (size_t g = 0; g < n; g++) {
		struct consol_group *grp = &r->groups[g];
		int root = q->org;
		struct period gp = q->period, gprev = r->previous;

		if ((grp->figures = calloc(r->n_figures, sizeof(*grp->figures))) == NULL) {
			rc = status_fail(eb, YB_ENOMEM, "out of memory");
			goto done;
		}
		grp->name = "";
		if (g > 0 && q->by == CONSOL_BY_ORG) {
			root = q->orgs->units[q->org].children[g - 1];
			snprintf(grp->key, sizeof(grp->key), "%s", q->orgs->units[root].code);
			grp->name = q->orgs->units[root].name;
		} else if (g > 0 && q->by == CONSOL_BY_MONTH) {
			gp.first = gp.last = q->period.first + (int)g - 1;
			gprev.first = gprev.last = r->previous.first + (int)g - 1;
			period_format_month(gp.first, grp->key, sizeof(grp->key));
		}
		grp->expected = expected_returns(q, root, gp);
		grp->present = cur[g].present;
		if (prev != NULL) {
			grp->previous_expected = expected_returns(q, root, gprev);
			grp->previous_present = prev[g].present;
		}
		fill_group(q, grp, &cur[g], prev ? &prev[g] : NULL);
	}
	*out = r;
	r = NULL;
	rc = YB_OK;
done:
	if (snapshot)
		store_snapshot_end(s);
	free_accs(cur, n);
	free_accs(prev, n);
	consol_result_free(r);
	return rc;
}
