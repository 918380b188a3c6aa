/*
 * handle_returns.h - the methods about one branch's returns: Submit (a
 * writing method: check, then apply), GetReturn and History. Shapes and
 * ownership as handlers.h says.
 */
#ifndef YB_HANDLE_RETURNS_H
#define YB_HANDLE_RETURNS_H

#include "handlers.h"

/*
 * Submit's check: the caller is the branch itself, the month has begun,
 * the values pass the catalog (every error listed in c), outliers become
 * warnings, and the return is neither accepted (locked) nor in a closed
 * month, and an amendment gives a reason. A dry run is answered here.
 */
yb_status handle_submit_check(struct call *c, const ProtobufCMessage *in, struct write_plan *plan);

/*
 * Submit's apply: inserts the next revision, timed c->now_ms, with its
 * values and findings; the audit entry is a "submit" with a receipt.
 * YB_ABORTED, before writing, when the return's state changed since check.
 */
yb_status handle_submit_apply(struct call *c, const struct write_plan *plan,
                              struct write_result *res);

/* GetReturn: one revision (the latest by default) with its values, findings and reviews. */
yb_status handle_get_return(struct call *c, const ProtobufCMessage *in, ProtobufCMessage *out);

/* History: the revisions of one return with their changes and its reviews, paged. */
yb_status handle_history(struct call *c, const ProtobufCMessage *in, ProtobufCMessage *out);

#endif
