/*
 * handle_review.h - the central office's decisions: Review (accept, reject,
 * reopen a return) and ClosePeriod (close or reopen months for filing).
 * Both are writing methods (check, then apply; handlers.h). Also the review
 * states and actions, as the store keeps them.
 */
#ifndef YB_HANDLE_REVIEW_H
#define YB_HANDLE_REVIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "handlers.h"

struct store_review;

/* The review state of a revision (SPEC §5); stored as its name. */
enum review_state { REVIEW_SUBMITTED, REVIEW_ACCEPTED, REVIEW_REJECTED };

/* What a review does; sent and stored as its name. */
enum review_action { REVIEW_ACCEPT, REVIEW_REJECT, REVIEW_REOPEN };

/* A stored state, "submitted" -> REVIEW_SUBMITTED...; false for any other text. */
bool review_state_parse(const char *s, enum review_state *out);

/* Whether a month is closed for an org unit: by a closure on it or on an ancestor. */
struct review_closure {
	bool closed;
	const char *by_org; /* the unit that closed it (owned by the tree) */
	char subject[256];  /* who closed it */
	int64_t at_ms;
};

/*
 * The latest revision of a return and its review state, through c->store:
 * YB_OK, YB_NOT_FOUND when there is none, or YB_DATA_LOSS (c->msg) for a
 * state that is none of review_state.
 */
yb_status review_latest(struct call *c, struct return_key key, uint32_t *revision,
                        enum review_state *state);

/* A stored review as a reply message in the call's arena; NULL when out of memory. */
Yuebao__V1__ReviewEvent *review_event(struct call *c, const struct store_review *rv);

/* Reads whether month is closed for org unit idx, through c->store. */
yb_status review_find_closure(struct call *c, int idx, int month, struct review_closure *out);

/*
 * Review's check: central, within its subtree; a known action; a rejection
 * has a comment; the latest revision exists and the action applies to its
 * state (accept and reject a submitted one, reopen an accepted one).
 */
yb_status handle_review_check(struct call *c, const ProtobufCMessage *in, struct write_plan *plan);

/*
 * Review's apply: records the review and sets the revision's new state;
 * audited as review:ACTION. YB_ABORTED, before writing, when the latest
 * revision or its state changed since check.
 */
yb_status handle_review_apply(struct call *c, const struct write_plan *plan,
                              struct write_result *res);

/* ClosePeriod's check: central, within its subtree, a period of at most CONSOL_MAX_MONTHS. */
yb_status handle_close_check(struct call *c, const ProtobufCMessage *in, struct write_plan *plan);

/* ClosePeriod's apply: one closure row per month; audited as close or reopen. */
yb_status handle_close_apply(struct call *c, const struct write_plan *plan,
                             struct write_result *res);

#endif
