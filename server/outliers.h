/*
 * outliers.h - warnings for figures far from a branch's own history, part
 * of Submit's check (handle_returns.c).
 */
#ifndef YB_OUTLIERS_H
#define YB_OUTLIERS_H

#include "call.h"
#include "catalog.h"
#include "status.h"
#include "yuebao.pb-c.h"

/*
 * Outliers, DHIS2-style: a flow far above the branch's own median of the
 * last 12 months (at least 3 months of history), or a stock that moves by
 * more than a set share from the latest earlier month. Warnings only: the
 * figures may be right, the clerk is asked to look again.
 *
 * Reads the 12 months before `month` of org unit org through c->store (from
 * its consolidation buckets when they are usable, else from the returns)
 * and appends a warning to f for each value of vals that is an outlier.
 * YB_OK, or YB_ENOMEM / a store failure with c->msg set.
 */
yb_status outliers_check(struct call *c, const char *org, int month,
                         const Yuebao__V1__SubmitRequest *req, const struct catalog_values *vals,
                         struct catalog_findings *f);

#endif
