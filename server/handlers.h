/*
 * handlers.h - the methods of the Returns service: one table, and the two
 * shapes a method's code takes.
 *
 * pipeline.c has decoded the envelope, checked the time window and verified
 * the caller's certificate and signature when a handler runs.
 *
 * A reading method is one function: it authorises the caller for the org
 * unit it names (call_authorize), reads through c->store and answers.
 *
 * A writing method is two:
 *   check(call, request) -> plan   read-only, on the worker's own
 *       connection, outside the write turn: every refusal happens here.
 *   apply(call, plan) -> result    makes the writes through c->store, the
 *       batch's connection, inside the call's savepoint, and says what to
 *       audit. It refuses nothing; it returns YB_ABORTED, before writing,
 *       when what check read has changed since (another call wrote the same
 *       return meanwhile), and the pipeline then checks again under the
 *       write turn.
 * The pipeline does everything else a write needs, for every writing method
 * alike: it joins the group commit, looks the call id up again, runs apply,
 * refreshes the consolidation pre-aggregates, appends the audit entry,
 * records the reply under the call id and finishes the batch.
 *
 * To add a method: declare it in proto/yuebao.proto, write its handler in
 * the file of its domain and add it to the table in handlers.c;
 * handlers_check() refuses to start a daemon whose table and service
 * descriptor disagree.
 */
#ifndef YB_HANDLERS_H
#define YB_HANDLERS_H

#include <stdbool.h>

#include <protobuf-c/protobuf-c.h>

#include "audit.h"
#include "call.h"
#include "status.h"
#include "yuebao.pb-c.h"

/*
 * A reading method: fills out, the method's reply message that the
 * pipeline made (initialised, in the call's arena), and returns YB_OK; or
 * returns the refusal, set in c.
 */
typedef yb_status (*handler_read_fn)(struct call *c, const ProtobufCMessage *in,
                                     ProtobufCMessage *out);

/* What a writing method's check decided. Lives in the call's arena. */
struct write_plan {
	/*
	 * The reply when the call writes nothing (a dry run): the pipeline
	 * sends it as it is. NULL for a plan to apply.
	 */
	ProtobufCMessage *answer;
	void *detail; /* the method's own plan, read by its apply only */
};

/* What a writing method's apply did: its reply and the audit entry of its change. */
struct write_result {
	ProtobufCMessage *reply; /* in the call's arena */
	/* Strings in the call's arena; at_ms, actor and fingerprint are the pipeline's. */
	struct audit_event event;
	/* Where the entry's receipt goes in reply (NULL: the reply carries none). */
	Yuebao__V1__Receipt **receipt;
};

typedef yb_status (*handler_check_fn)(struct call *c, const ProtobufCMessage *in,
                                      struct write_plan *plan);
typedef yb_status (*handler_apply_fn)(struct call *c, const struct write_plan *plan,
                                      struct write_result *res);

struct handler {
	const char *method; /* the service method name, "Submit" */
	/* Exactly one of read, or check and apply, is set. */
	handler_read_fn read;
	handler_check_fn check;
	handler_apply_fn apply;
};

/* Checks the handler table against the generated service descriptor. */
yb_status handlers_check(struct errbuf *eb);

/* The handler for method index i of yuebao__v1__returns__descriptor; NULL past the end. */
const struct handler *handlers_get(unsigned i);

#endif
