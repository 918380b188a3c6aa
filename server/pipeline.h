/*
 * pipeline.h - what happens to one request, from its bytes to its reply.
 *
 * In order: the size cap, decoding the RpcRequest, the method, the call id,
 * the clock window and deadline, the CRL's date, the caller's certificate
 * and signature, the payload and its text; then the method's handler
 * (handlers.h). A reading method answers from the worker's connection. A
 * writing method is checked there first (every refusal happens then), and
 * only then joins the group commit (batch.h), where the pipeline, the same
 * for every writing method, looks the call id up again, applies the plan,
 * refreshes the consolidation pre-aggregates (rollup.h), appends the audit
 * entry (audit.h), records the reply under the call id and finishes the
 * batch: the reply leaves only once all of it is durable, and a retry of
 * the call is answered from its record without running anything.
 * Refusals that matter to security are audited too, rate-limited per caller.
 */
#ifndef YB_PIPELINE_H
#define YB_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "batch.h"
#include "pki.h"
#include "status.h"
#include "store.h"
#include "world.h"

struct pipeline_config {
	size_t max_message;    /* bytes of an RpcRequest */
	int time_window_s;     /* accepted clock difference */
	const struct tz *zone; /* the deployment's (borrowed): named in every reply */
	const char *daemon_id; /* this daemon's (daemons.h; borrowed): Ping marks its own note */
};

/* What one request came to, for its log line. */
struct pipeline_outcome {
	yb_status status; /* as sent: a local failure (>= 100) is sent as INTERNAL or UNAVAILABLE */
	struct errbuf msg;
	char caller[96]; /* "role/ORG", or "-" before the caller is verified */
	char method[64]; /* "Submit", or "-" before the method is known */
	bool cached;     /* a retry answered from the call's record */
	bool continued;  /* a later page of a paged answer (its request has a page token) */
};

struct pipeline;

/*
 * A pipeline writing through b and signing audit checkpoints with signer
 * (both borrowed: they outlive it). YB_ENOMEM. The caller owns *out.
 */
yb_status pipeline_new(const struct pipeline_config *cfg, struct batch *b,
                       const struct pki_identity *signer, struct pipeline **out, struct errbuf *eb);

/* Audits the refusals the rate limit kept out of the log so far, in one entry per caller. */
void pipeline_audit_held(struct pipeline *p);

/* Frees p; NULL is allowed. No call may be in progress. */
void pipeline_free(struct pipeline *p);

/*
 * Serves the request raw (raw_len bytes, from source: "addr:IP", which
 * keys the rate of audited refusals of callers that cannot be verified),
 * reading through reader (the calling worker's connection) with world, which the
 * caller keeps loaded until this returns. Returns the reply to send (the
 * caller owns it), refusals included; NULL only when out of memory. *o says
 * how it went. Thread-safe: each worker calls it with its own reader.
 */
nng_msg *pipeline_serve(struct pipeline *p, struct store *reader, const struct world *world,
                        const uint8_t *raw, size_t raw_len, const char *source,
                        struct pipeline_outcome *o);

#endif
