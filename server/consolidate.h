/*
 * consolidate.h - consolidated figures for a subtree and a period (SPEC §6).
 *
 * Every element is aggregated over the subtree's returns (latest
 * non-rejected revision of each) and the period's months: `sum` adds all
 * values; `last` takes, per org unit, the value of the latest month that has
 * one and adds those up. Indicators are computed afterwards from the
 * aggregates (a rate of totals, never an average of rates). A comparison
 * period gives each figure a previous value and a change.
 */
#ifndef YB_CONSOLIDATE_H
#define YB_CONSOLIDATE_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "orgtree.h"
#include "period.h"
#include "status.h"
#include "store.h"

/* Longest period a query may cover: 20 years, month by month. */
#define CONSOL_MAX_MONTHS 240
#define CONSOL_MAX_MONTHS_TEXT "240"

enum consol_compare { CONSOL_NONE, CONSOL_YOY, CONSOL_PREV };
enum consol_by { CONSOL_TOTAL, CONSOL_BY_ORG, CONSOL_BY_MONTH };

struct consol_query {
	const struct catalog *cat;
	const struct orgtree *orgs;
	int org; /* index in orgs: the subtree's root */
	struct period period;
	enum consol_compare compare;
	enum consol_by by;
	int current_month;  /* months after this are not expected yet */
	bool accepted_only; /* only accepted returns, not merely submitted ones */
};

/* Text of one figure; "" where there is no value. */
struct consol_figure {
	char value[48];
	char previous[48];
	char change[48];
	const char *change_unit; /* "%", "pp", or "" without comparison */
};

struct consol_group {
	char key[40];                  /* child org code or month; "" for the subtree total */
	const char *name;              /* org name (owned by the tree), or "" */
	struct consol_figure *figures; /* n_elements, then n_indicators, catalog order */
	uint32_t expected, present;    /* returns of leaf units, months that have begun */
	uint32_t previous_expected, previous_present;
};

struct consol_result {
	struct period period, previous;
	bool has_previous;
	struct consol_group *groups; /* the total first */
	size_t n_groups;
	size_t n_figures;
};

/*
 * Runs the query against the store. YB_OK and *out (consol_result_free), or
 * YB_EDB / YB_UNAVAILABLE (store), YB_ENOMEM, or YB_OUT_OF_RANGE (a total
 * too large for int64) with eb saying why.
 */
int consol_run(struct store *s, const struct consol_query *q, struct consol_result **out,
               struct errbuf *eb);

void consol_result_free(struct consol_result *r);

#endif
