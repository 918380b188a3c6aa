/*
 * outliers.c - a return's values against the branch's own history (see
 * outliers.h).
 */
#include "outliers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "period.h"
#include "rollup.h"
#include "store.h"
#include "store_returns.h"

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

/*
 * The history of a leaf unit from its consolidation buckets: a leaf's node
 * holds only its own returns, and each month's one-month aggregates in mode
 * 0 are the values of its latest revision that is not rejected, as the scan
 * finds them. *done stays false (the caller scans the returns) for an inner
 * unit, or when the buckets are not usable for this tree and catalog.
 */
static void history_from_rollup(struct call *c, int unit, struct history *h, bool *done)
{
	const size_t n = h->cat->n_elements;
	struct rollup_acc total, months[HISTORY_MONTHS];
	int64_t *sums = calloc((HISTORY_MONTHS + 1) * n + 1, sizeof(*sums));
	bool *has = calloc((HISTORY_MONTHS + 1) * n + 1, sizeof(*has)), usable = false;
	struct errbuf eb = {{0}};

	*done = false;
	if (sums == NULL || has == NULL || !orgtree_is_leaf(c->world->orgs, unit) ||
	    store_snapshot_begin(c->store, &eb) != YB_OK)
		goto out;
	for (int k = 0; k <= HISTORY_MONTHS; k++) {
		struct rollup_acc *a = k == HISTORY_MONTHS ? &total : &months[k];
		*a = (struct rollup_acc){.sum = sums + (size_t)k * n, .has = has + (size_t)k * n};
	}
	if (rollup_usable(c->store, c->world->orgs, h->cat, &usable, &eb) == YB_OK && usable &&
	    rollup_read(c->store, false, c->world->orgs->units[unit].code, h->first,
	                h->first + HISTORY_MONTHS - 1, n, &total, months, &eb) == YB_OK) {
		for (size_t e = 0; e < n; e++)
			for (int k = 0; k < HISTORY_MONTHS; k++) {
				h->vals[e * HISTORY_MONTHS + (size_t)k] = months[k].sum[e];
				h->has[e * HISTORY_MONTHS + (size_t)k] = months[k].has[e];
			}
		*done = true;
	}
	store_snapshot_end(c->store);
out:
	free(sums);
	free(has);
}

static int cmp_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/*
 * Appends a warning about the element of entry to the findings of a return;
 * no-op when entry is NULL (a present value always has its entry).
 */
static int add_warning(struct catalog_findings *f, const Yuebao__V1__Value *entry,
                       const struct finding *what)
{
	struct catalog_finding *x;

	if (entry == NULL)
		return YB_OK;
	if ((x = catalog_findings_push(f, CATALOG_FINDING_WARNING, entry->line)) == NULL)
		return YB_ENOMEM;
	snprintf(x->code, sizeof(x->code), "%s", entry->code);
	snprintf(x->value, sizeof(x->value), "%s", entry->value);
	x->what = *what;
	finding_render(what, x->code, entry->line, NULL, x->message, sizeof(x->message));
	return YB_OK;
}

/*
 * The entry of the request that carried element code (for its line). Linear:
 * looked up only for the few elements that raise a warning.
 */
static const Yuebao__V1__Value *entry_of(const Yuebao__V1__SubmitRequest *req, const char *code)
{
	for (size_t i = 0; i < req->n_values; i++)
		if (strcmp(req->values[i]->code, code) == 0)
			return req->values[i];
	return NULL;
}

yb_status outliers_check(struct call *c, const char *org, int month,
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
	{
		bool from_rollup = false;
		int unit = orgtree_find(c->world->orgs, org);
		if (unit >= 0)
			history_from_rollup(c, unit, &h, &from_rollup);
		if (!from_rollup &&
		    (rc = store_scan_latest(c->store, org, h.first, month - 1, false, NULL,
		                            on_history_value, &h, &c->msg)) != YB_OK)
			goto done;
	}
	for (size_t e = 0; e < cat->n_elements && rc == YB_OK; e++) {
		const struct catalog_element *el = &cat->elements[e];
		const int64_t *hv = &h.vals[e * HISTORY_MONTHS];
		const bool *hh = &h.has[e * HISTORY_MONTHS];
		int decimals = el->type == CATALOG_AMOUNT ? 2 : 0;
		int64_t v = vals->value[e];

		if (!vals->present[e])
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
				rc = add_warning(f, entry_of(req, el->code), &w);
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
				rc = add_warning(f, entry_of(req, el->code), &w);
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
