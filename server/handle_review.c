/*
 * handle_review.c - Review and ClosePeriod (see handle_review.h).
 */
#include "handle_review.h"

#include <stdio.h>
#include <string.h>

#include "hash.h"
#include "consolidate.h"
#include "i18n.h"
#include "period.h"
#include "store.h"
#include "store_returns.h"
#include "store_review.h"

static const char *const state_names[] = {
    [REVIEW_SUBMITTED] = "submitted",
    [REVIEW_ACCEPTED] = "accepted",
    [REVIEW_REJECTED] = "rejected",
};

static const char *const action_names[] = {
    [REVIEW_ACCEPT] = "accept",
    [REVIEW_REJECT] = "reject",
    [REVIEW_REOPEN] = "reopen",
};

bool review_state_parse(const char *s, enum review_state *out)
{
	int i = call_parse_word(s, state_names, sizeof(state_names) / sizeof(state_names[0]));

	if (i >= 0)
		*out = (enum review_state)i;
	return i >= 0;
}

yb_status review_latest(struct call *c, struct return_key key, uint32_t *revision,
                        enum review_state *state)
{
	char text[16], period[PERIOD_TEXT_MAX];
	yb_status rc;

	*revision = 0; /* set on every path: callers compare them after YB_OK only */
	*state = REVIEW_SUBMITTED;
	rc = (yb_status)store_latest_state(c->store, key, revision, text, sizeof(text), &c->msg);

	if (rc != YB_OK || review_state_parse(text, state))
		return rc;
	period_format_month(key.month, period, sizeof(period));
	return status_fail(&c->msg, YB_DATA_LOSS, "revision %u of %s %s has the unknown state '%s'",
	                   *revision, key.org, period, text);
}

Yuebao__V1__ReviewEvent *review_event(struct call *c, const struct store_review *rv)
{
	Yuebao__V1__ReviewEvent *e = call_alloc(c, sizeof(*e));

	if (e == NULL)
		return NULL;
	yuebao__v1__review_event__init(e);
	e->revision = rv->revision;
	e->action = call_strdup(c, rv->action);
	e->comment = call_strdup(c, rv->comment);
	e->reviewer = call_strdup(c, rv->reviewer);
	e->fingerprint = call_strdup(c, rv->fingerprint);
	e->at_ms = rv->at_ms;
	return e;
}

yb_status review_find_closure(struct call *c, int idx, int month, struct review_closure *ci)
{
	const struct orgtree *t = c->world->orgs;
	int rc;

	memset(ci, 0, sizeof(*ci));
	for (int u = idx; u >= 0; u = t->units[u].parent) {
		if ((rc = store_closure(c->store, (struct return_key){t->units[u].code, month},
		                        &ci->closed, ci->subject, sizeof(ci->subject), &ci->at_ms,
		                        &c->msg)) != YB_OK)
			return rc;
		if (ci->closed) {
			ci->by_org = t->units[u].code;
			return YB_OK;
		}
	}
	return YB_OK;
}

/*
 * Why a review cannot apply action to a return in state: a format taking the
 * revision (%u), the org unit and the period.
 */
static const char *review_refusal(enum review_action action, enum review_state state)
{
	bool accepted = state == REVIEW_ACCEPTED;

	switch (action) {
	case REVIEW_ACCEPT:
		return accepted
		           ? _("revision %u of %s for %s is accepted: it cannot be accepted "
		               "(reopen it first)")
		           : _("revision %u of %s for %s is rejected: it cannot be accepted (the "
		               "branch must submit a corrected revision)");
	case REVIEW_REJECT:
		return accepted
		           ? _("revision %u of %s for %s is accepted: it cannot be rejected "
		               "(reopen it first)")
		           : _("revision %u of %s for %s is rejected: it cannot be rejected (the "
		               "branch must submit a corrected revision)");
	case REVIEW_REOPEN:
		break;
	}
	return state == REVIEW_REJECTED
	           ? _("revision %u of %s for %s is rejected: it cannot be reopened (the "
	               "branch must submit a corrected revision)")
	           : _("revision %u of %s for %s is submitted: it cannot be reopened (only "
	               "an accepted return is reopened)");
}

/* The state action leads to from state; false when the action does not apply. */
static bool review_next(enum review_action action, enum review_state state, enum review_state *next)
{
	switch (action) {
	case REVIEW_ACCEPT:
		*next = REVIEW_ACCEPTED;
		return state == REVIEW_SUBMITTED;
	case REVIEW_REJECT:
		*next = REVIEW_REJECTED;
		return state == REVIEW_SUBMITTED;
	case REVIEW_REOPEN:
		*next = REVIEW_SUBMITTED;
		return state == REVIEW_ACCEPTED;
	}
	return false;
}

/* What a review's check decided. */
struct review_plan {
	struct return_key key; /* its org owned by the tree */
	char period[PERIOD_TEXT_MAX];
	enum review_action action;
	const char *comment; /* the request's */
	uint32_t revision;   /* the latest, as check read it */
	enum review_state state, next;
};

yb_status handle_review_check(struct call *c, const ProtobufCMessage *in, struct write_plan *plan)
{
	const Yuebao__V1__ReviewRequest *req = (const Yuebao__V1__ReviewRequest *)in;
	struct review_plan *p = call_alloc(c, sizeof(*p));
	int idx, action, rc;

	if (p == NULL)
		return YB_ENOMEM;
	if ((rc = call_authorize_month(c, req->org, req->period, CALL_REVIEW, &idx,
	                               &p->key.month)) != YB_OK)
		return rc;
	p->key.org = c->world->orgs->units[idx].code;
	p->comment = req->comment;
	period_format_month(p->key.month, p->period, sizeof(p->period));
	if ((action = call_parse_word(req->action, action_names, 3)) < 0)
		return call_refuse(c, YB_INVALID_ARGUMENT,
		                   _("action '%s' is not accept, reject or reopen"), req->action);
	p->action = (enum review_action)action;
	if (p->action == REVIEW_REJECT && req->comment[0] == '\0') {
		call_add_error(c, "error", "comment", 0, "",
		               _("say why the return is rejected (--comment)"));
		return call_refuse(c, YB_INVALID_ARGUMENT,
		                   _("a rejection needs a comment for %s (%s)"), p->key.org,
		                   "--comment");
	}
	rc = review_latest(c, p->key, &p->revision, &p->state);
	if (rc == YB_NOT_FOUND)
		return call_refuse(c, YB_NOT_FOUND, _("no return from %s for %s to review"),
		                   p->key.org, p->period);
	if (rc != YB_OK)
		return rc;
	/* A decision about what the reviewer saw, never about a revision sent since. */
	if (req->revision != 0 && req->revision != p->revision)
		return call_refuse(c, YB_FAILED_PRECONDITION,
		                   _("%s for %s has revision %u now, not %u: look at it before "
		                     "deciding"),
		                   p->key.org, p->period, p->revision, req->revision);
	if (!review_next(p->action, p->state, &p->next))
		return status_fail(&c->msg, YB_FAILED_PRECONDITION,
		                   review_refusal(p->action, p->state), p->revision, p->key.org,
		                   p->period);
	plan->detail = p;
	return YB_OK;
}

yb_status handle_review_apply(struct call *c, const struct write_plan *plan,
                              struct write_result *res)
{
	const struct review_plan *p = plan->detail;
	Yuebao__V1__ReviewReply *r = call_message(c, &yuebao__v1__review_reply__descriptor);
	struct store_review rv = {.revision = p->revision,
	                          .action = action_names[p->action],
	                          .comment = p->comment,
	                          .reviewer = c->who->subject,
	                          .fingerprint = c->who->fingerprint,
	                          .at_ms = c->now_ms};
	char *object = call_alloc(c, 96), *action = call_alloc(c, 32), *digest = call_alloc(c, 65);
	char *text;
	size_t n = strlen(rv.action) + 1 + strlen(p->comment);
	uint32_t revision;
	enum review_state state;
	int rc;

	if (r == NULL || object == NULL || action == NULL || digest == NULL ||
	    (text = call_alloc(c, n + 1)) == NULL)
		return YB_ENOMEM;
	/* Another review, or a new revision, since check. */
	rc = review_latest(c, p->key, &revision, &state);
	if (rc == YB_NOT_FOUND || (rc == YB_OK && (revision != p->revision || state != p->state)))
		return YB_ABORTED;
	if (rc != YB_OK)
		return rc;
	if ((rc = store_add_review(c->store, p->key, &rv, &c->msg)) != YB_OK ||
	    (rc = store_set_state(c->store, p->key, p->revision, state_names[p->next], &c->msg)) !=
	        YB_OK)
		return rc;
	snprintf(object, 96, "%s/%s/r%u", p->key.org, p->period, p->revision);
	snprintf(action, 32, "review:%s", rv.action);
	/* The audit entry commits to what was decided and why. */
	snprintf(text, n + 1, "%s\n%s", rv.action, p->comment);
	hash_sha256_hex(text, n, digest);
	r->org = (char *)p->key.org;
	r->period = (char *)p->period;
	r->revision = p->revision;
	r->state = (char *)state_names[p->next];
	r->at_ms = c->now_ms;
	res->reply = &r->base;
	res->event = (struct audit_event){.action = action,
	                                  .object = object,
	                                  .org = p->key.org,
	                                  .month = p->key.month,
	                                  .digest = digest};
	return YB_OK;
}

/* What a ClosePeriod's check decided. */
struct close_plan {
	const char *org; /* owned by the tree */
	struct period p;
	bool reopen;
	const char *comment; /* the request's */
};

yb_status handle_close_check(struct call *c, const ProtobufCMessage *in, struct write_plan *plan)
{
	const Yuebao__V1__ClosePeriodRequest *req = (const Yuebao__V1__ClosePeriodRequest *)in;
	struct close_plan *p = call_alloc(c, sizeof(*p));
	int idx, rc;

	if (p == NULL)
		return YB_ENOMEM;
	if ((rc = call_authorize(c, req->org, CALL_REVIEW, &idx)) != YB_OK)
		return rc;
	if ((rc = period_parse(req->period, &p->p, &c->msg)) != YB_OK)
		return rc;
	if (period_length(&p->p) > CONSOL_MAX_MONTHS)
		return call_refuse(c, YB_INVALID_ARGUMENT, _("period %s is longer than %s months"),
		                   req->period, CONSOL_MAX_MONTHS_TEXT);
	p->org = c->world->orgs->units[idx].code;
	p->reopen = req->reopen;
	p->comment = req->comment;
	plan->detail = p;
	return YB_OK;
}

yb_status handle_close_apply(struct call *c, const struct write_plan *plan,
                             struct write_result *res)
{
	const struct close_plan *p = plan->detail;
	Yuebao__V1__ClosePeriodReply *r =
	    call_message(c, &yuebao__v1__close_period_reply__descriptor);
	char *period = call_alloc(c, PERIOD_TEXT_MAX), *object = call_alloc(c, 96),
	     *digest = call_alloc(c, 65);
	int rc;

	if (r == NULL || period == NULL || object == NULL || digest == NULL)
		return YB_ENOMEM;
	for (int m = p->p.first; m <= p->p.last; m++)
		if ((rc = store_add_closure(c->store, (struct return_key){p->org, m}, !p->reopen,
		                            p->comment, c->who->subject, c->who->fingerprint,
		                            c->now_ms, &c->msg)) != YB_OK)
			return rc;
	period_format(&p->p, period, PERIOD_TEXT_MAX);
	snprintf(object, 96, "%s/%s", p->org, period);
	hash_sha256_hex(p->comment, strlen(p->comment), digest);
	r->org = (char *)p->org;
	r->period = period;
	r->closed = !p->reopen;
	r->at_ms = c->now_ms;
	r->months = (uint32_t)period_length(&p->p);
	res->reply = &r->base;
	res->event = (struct audit_event){.action = p->reopen ? "reopen" : "close",
	                                  .object = object,
	                                  .org = p->org,
	                                  .month = p->p.first,
	                                  .month_last = p->p.last,
	                                  .digest = digest};
	return YB_OK;
}
