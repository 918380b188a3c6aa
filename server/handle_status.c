/*
 * handle_status.c - Status: who has filed for a period, on time or late,
 * and how their returns were reviewed, for an org unit's subtree, a page of
 * rows at a time (see handle_status.h).
 */
#include "handle_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handle_review.h"
#include "i18n.h"
#include "period.h"
#include "store.h"
#include "store_returns.h"

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
		cell->state = call_strdup(ss->c, state);
		cell->revision = revision;
		cell->on_time = first_on_time;
		cell->received_at_ms = received_at_ms;
		if (cell->state == NULL)
			return YB_ENOMEM;
	}
	return 0;
}

yb_status handle_status(struct call *c, const ProtobufCMessage *in, ProtobufCMessage *out)
{
	const Yuebao__V1__StatusRequest *req = (const Yuebao__V1__StatusRequest *)in;
	const struct orgtree *t = c->world->orgs;
	Yuebao__V1__StatusReply *r = (Yuebao__V1__StatusReply *)out;
	struct status_scan ss = {.c = c};
	uint32_t size = call_page_size(req->page_size, 100, 1000);
	size_t n_rows = 0, begun = 0;
	int *row_of, *leaves;
	char period[PERIOD_TEXT_MAX];
	long from;
	int idx, rc;

	if ((rc = call_authorize(c, req->org, CALL_READ, &idx)) != YB_OK)
		return rc;
	if ((rc = period_parse(req->period, &ss.p, &c->msg)) != YB_OK)
		return rc;
	if (period_length(&ss.p) > 24)
		return call_refuse(c, YB_INVALID_ARGUMENT, _("period %s is longer than %s months"),
		                   req->period, "24");
	if ((from = call_parse_token(req->page_token, 'o')) < 0)
		return call_refuse(c, YB_INVALID_ARGUMENT,
		                   _("page token '%s' is not one this server gave"),
		                   req->page_token);
	ss.n_months = (size_t)period_length(&ss.p);
	ss.current_month = call_current_month(c);
	row_of = call_alloc(c, t->n * sizeof(int));
	leaves = call_alloc(c, t->n * sizeof(int));
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
	ss.cells = call_alloc(c, (ss.page_n * ss.n_months + 1) * sizeof(*ss.cells));
	r->rows = call_alloc(c, (ss.page_n + 1) * sizeof(*r->rows));
	if (ss.cells == NULL || r->rows == NULL)
		return YB_ENOMEM;
	for (size_t i = 0; i < ss.page_n; i++) {
		int u = leaves[ss.page_first + i];
		Yuebao__V1__StatusRow *row = call_alloc(c, sizeof(*row));
		if (row == NULL ||
		    (row->months = call_alloc(c, ss.n_months * sizeof(*row->months))) == NULL)
			return YB_ENOMEM;
		{
			Yuebao__V1__StatusCell **months = row->months;
			yuebao__v1__status_row__init(row);
			row->months = months;
		}
		row->org = t->units[u].code;
		row->org_name = t->units[u].name;
		for (size_t k = 0; k < ss.n_months; k++) {
			Yuebao__V1__StatusCell *cell = call_alloc(c, sizeof(*cell));
			char month[PERIOD_TEXT_MAX];
			struct review_closure ci;
			int m = ss.p.first + (int)k;
			if (cell == NULL)
				return YB_ENOMEM;
			yuebao__v1__status_cell__init(cell);
			period_format_month(m, month, sizeof(month));
			cell->month = call_strdup(c, month);
			cell->state = m > ss.current_month ? "not due" : "missing";
			if ((rc = review_find_closure(c, u, m, &ci)) != YB_OK)
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
	r->period = call_strdup(c, period);
	r->total_rows = (uint32_t)n_rows;
	r->expected = (uint32_t)(n_rows * begun);
	r->present = ss.present;
	r->on_time = ss.on_time;
	r->accepted = ss.accepted;
	r->rejected = ss.rejected;
	r->next_page_token = ss.page_first + ss.page_n < n_rows
	                         ? call_make_token(c, 'o', (long)(ss.page_first + ss.page_n))
	                         : "";
	return YB_OK;
}
