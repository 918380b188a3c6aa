/*
 * pipeline.c - one request from its bytes to its reply (see pipeline.h).
 *
 * pipeline_serve checks the envelope and the caller, then run_call runs
 * the handler: a reading one at once, a writing one as check, then
 * write_call under the write turn. Calls go down only: handlers know
 * nothing of the batch, the audit log or the call records.
 */
#include "pipeline.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hash.h"
#include "clock.h"
#include "audit.h"
#include "expiry.h"
#include "handle_audit.h"
#include "handlers.h"
#include "i18n.h"
#include "log.h"
#include "ratelimit.h"
#include "rollup.h"
#include "rpc.h"
#include "text.h"

/* How often the call records too old to be replayed are forgotten. */
#define PRUNE_INTERVAL_MS 60000

struct pipeline {
	struct pipeline_config cfg;
	struct batch *batch;
	const struct pki_identity *signer;
	struct ratelimit *refusals; /* audit entries per refused caller and minute */
	int64_t last_prune_ms;      /* only the holder of the write turn reads or sets it */
};

yb_status pipeline_new(const struct pipeline_config *cfg, struct batch *b,
                       const struct pki_identity *signer, struct pipeline **out, struct errbuf *eb)
{
	struct pipeline *p = calloc(1, sizeof(*p));
	int rc;

	if (p == NULL)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	p->cfg = *cfg;
	p->batch = b;
	p->signer = signer;
	if ((rc = ratelimit_new(1024, &p->refusals, eb)) != YB_OK) {
		free(p);
		return rc;
	}
	*out = p;
	return YB_OK;
}

static nng_msg *reply_msg(const Yuebao__V1__RpcReply *rep)
{
	size_t n = yuebao__v1__rpc_reply__get_packed_size(rep);
	nng_msg *m;

	if (nng_msg_alloc(&m, n) != 0)
		return NULL;
	yuebao__v1__rpc_reply__pack(rep, nng_msg_body(m));
	return m;
}

/*
 * Local failures (codes from 100 on) are the server's own: the details go to
 * the log, the peer learns only that it may try again.
 */
static void make_public(struct pipeline_outcome *o)
{
	if (o->status < 100)
		return;
	log_line("%s: %s: %s", o->method, status_name(o->status),
	         o->msg.msg[0] ? o->msg.msg : "no detail");
	o->status = o->status == YB_EDB ? YB_UNAVAILABLE : YB_INTERNAL;
	status_fail(
	    &o->msg, o->status,
	    _("the server could not complete the call; nothing was changed, try again later"));
}

/* The reply to a refused call: its status, message and field errors. */
static nng_msg *refusal(const char *call_id, const struct tz *zone, struct pipeline_outcome *o,
                        Yuebao__V1__FieldError **errors, size_t n_errors)
{
	Yuebao__V1__RpcReply rep = YUEBAO__V1__RPC_REPLY__INIT;

	make_public(o);
	rep.status = (Yuebao__V1__Code)o->status;
	rep.message = o->msg.msg;
	rep.call_id = (char *)(call_id ? call_id : "");
	rep.time_zone = (char *)tz_name(zone);
	rep.errors = errors;
	rep.n_errors = n_errors;
	return reply_msg(&rep);
}

/* Hex SHA-256 of what a call asks (method and payload), to tell retries from reuse. */
static void call_digest(const Yuebao__V1__RpcRequest *req, char out[65])
{
	size_t n = strlen(req->method);
	uint8_t *buf = malloc(n + 1 + req->payload.len + 1);

	if (buf == NULL) {
		out[0] = '\0';
		return;
	}
	memcpy(buf, req->method, n);
	buf[n] = '\n';
	if (req->payload.len > 0)
		memcpy(buf + n + 1, req->payload.data, req->payload.len);
	hash_sha256_hex(buf, n + 1 + req->payload.len, out);
	free(buf);
}

/*
 * The recorded reply to an earlier call with this caller's call id: YB_OK
 * with *m, YB_NOT_FOUND, or ALREADY_EXISTS (in eb) when the id was used for
 * a different request.
 */
static yb_status recorded_reply(struct store *db, const Yuebao__V1__RpcRequest *req,
                                const struct pki_principal *who, const char *digest, nng_msg **m,
                                struct errbuf *eb)
{
	uint8_t *cached = NULL;
	size_t cached_len = 0;
	char cached_digest[65];
	int rc;

	rc = store_call_find(db, who->fingerprint, req->call_id, cached_digest, &cached,
	                     &cached_len, eb);
	if (rc != YB_OK)
		return rc;
	if (strcmp(cached_digest, digest) != 0) {
		free(cached);
		return status_fail(eb, YB_ALREADY_EXISTS,
		                   _("call id %s was already used for a different request; a retry "
		                     "must repeat the same method and data"),
		                   req->call_id);
	}
	rc =
	    nng_msg_alloc(m, cached_len) == 0 ? YB_OK : status_fail(eb, YB_ENOMEM, "out of memory");
	if (rc == YB_OK)
		memcpy(nng_msg_body(*m), cached, cached_len);
	free(cached);
	return rc;
}

/*
 * The largest reply payload the daemon sends: twice its request cap, so
 * that an export page can carry one stored request (up to max_message
 * bytes) with its envelope, but never more than a client receives
 * (RPC_MAX_REPLY).
 */
static size_t reply_max(size_t max_message)
{
	return 2 * max_message < RPC_MAX_REPLY ? 2 * max_message : RPC_MAX_REPLY;
}

/*
 * What a list page fills its items up to: half the smaller of max_message
 * and the default. A page ends before the item that would pass it, unless
 * that item is its first: a page is then this many bytes, or one item
 * alone (a stored request of up to max_message bytes with its fields),
 * both under reply_max.
 */
static size_t reply_page_bytes(size_t max_message)
{
	return (max_message < RPC_DEFAULT_MAX_MESSAGE ? max_message : RPC_DEFAULT_MAX_MESSAGE) / 2;
}

/* The successful RpcReply carrying out, as a message in *m. */
static yb_status pack_reply(const struct pipeline *p, Yuebao__V1__RpcReply *rep,
                            const ProtobufCMessage *out, nng_msg **m, struct errbuf *eb)
{
	size_t len = protobuf_c_message_get_packed_size(out);
	uint8_t *payload;

	if (len > reply_max(p->cfg.max_message) - 1024)
		return status_fail(eb, YB_RESOURCE_EXHAUSTED,
		                   _("the answer would be %zu bytes, over the %zu-byte message "
		                     "limit: ask for less (a shorter period, fewer groups)"),
		                   len, reply_max(p->cfg.max_message));
	if ((payload = malloc(len + 1)) == NULL)
		return status_fail(eb, YB_ENOMEM, _("out of memory"));
	protobuf_c_message_pack(out, payload);
	rep->status = YUEBAO__V1__CODE__OK;
	rep->payload.data = payload;
	rep->payload.len = len;
	*m = reply_msg(rep);
	rep->payload.data = NULL;
	rep->payload.len = 0;
	free(payload);
	return *m != NULL ? YB_OK : status_fail(eb, YB_ENOMEM, _("out of memory"));
}

/* Forgets call records too old to come back (outside the clock window); under the turn. */
static yb_status prune_calls(struct pipeline *p, struct call *c)
{
	int rc;

	assert(batch_held(p->batch));
	if (c->now_ms - p->last_prune_ms <= PRUNE_INTERVAL_MS)
		return YB_OK;
	rc = store_call_prune(c->store, c->now_ms - 2 * (int64_t)p->cfg.time_window_s * 1000,
	                      &c->msg);
	if (rc == YB_OK)
		p->last_prune_ms = c->now_ms;
	return rc;
}

/*
 * Applies the plan under the write turn, c->store being the batch's
 * connection; when what check read has changed (YB_ABORTED), checks again
 * there, where nothing can change it any more, and applies that plan.
 */
static yb_status apply_plan(struct call *c, const struct handler *h, const ProtobufCMessage *in,
                            struct write_plan *plan, struct write_result *res)
{
	int rc = h->apply(c, plan, res);

	if (rc != YB_ABORTED)
		return rc;
	*plan = (struct write_plan){0};
	if ((rc = h->check(c, in, plan)) != YB_OK)
		return rc;
	rc = plan->answer != NULL ? YB_EBUG : h->apply(c, plan, res);
	if (rc == YB_EBUG || rc == YB_ABORTED)
		/* Cannot happen: nothing changes under the turn (logged by make_public). */
		return status_fail(&c->msg, YB_EBUG, "the check repeated under the write turn %s",
		                   rc == YB_ABORTED ? "found its plan stale again"
		                                    : "answered without writing");
	return rc;
}

/*
 * A writing call whose check passed: joins the group commit and, there,
 * does what every write needs. YB_OK with *m, the reply (the recorded one
 * when a retry of the call finished meanwhile), durable; otherwise nothing
 * of the call is stored and c says why.
 */
static yb_status write_call(struct pipeline *p, struct call *c, const struct handler *h,
                            const ProtobufCMessage *in, struct write_plan *plan,
                            const Yuebao__V1__RpcRequest *req, const char *digest,
                            Yuebao__V1__RpcReply *rep, nng_msg **m, struct pipeline_outcome *o)
{
	struct write_result res = {0};
	struct audit_receipt ar;
	int rc;

	if ((rc = batch_join(p->batch, &c->store, &c->msg)) != YB_OK)
		return rc;
	/*
	 * The time of what the call writes is read once it holds the writing
	 * connection: audit entries are then in time order, each no earlier
	 * than the signed checkpoint before it (what `audit verify` checks),
	 * however calls overlap. Only a clock set back breaks the order.
	 */
	c->now_ms = clock_now_ms();
	if ((rc = prune_calls(p, c)) != YB_OK)
		goto fail;
	/* A retry finished meanwhile, maybe in this very batch: its record is the reply. */
	rc = recorded_reply(c->store, req, c->who, digest, m, &c->msg);
	if (rc == YB_OK) {
		o->cached = true;
		goto finish;
	}
	if (rc != YB_NOT_FOUND || (rc = apply_plan(c, h, in, plan, &res)) != YB_OK ||
	    (rc = rollup_refresh(c->store, &c->msg)) != YB_OK)
		goto fail;
	res.event.at_ms = c->now_ms;
	res.event.actor = c->who->subject;
	res.event.fingerprint = c->who->fingerprint;
	if ((rc = audit_append(c->store, c->signer, &res.event, res.receipt ? &ar : NULL,
	                       &c->msg)) != YB_OK)
		goto fail;
	if (res.receipt != NULL)
		*res.receipt = handle_audit_receipt(c, &ar); /* NULL only when out of memory */
	if (c->out_of_memory) {
		rc = status_fail(&c->msg, YB_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = pack_reply(p, rep, res.reply, m, &c->msg)) != YB_OK)
		goto fail;
	if ((rc = store_call_save(c->store, c->who->fingerprint, req->call_id, digest, c->now_ms,
	                          nng_msg_body(*m), nng_msg_len(*m), &c->msg)) != YB_OK)
		goto fail;
finish:
	/* The reply leaves only after its data and its call record are durable. */
	if ((rc = batch_finish(p->batch, true, &c->msg)) != YB_OK)
		goto lost;
	return YB_OK;
fail:
	batch_finish(p->batch, false, NULL);
lost:
	if (*m != NULL)
		nng_msg_free(*m);
	*m = NULL;
	return rc;
}

/*
 * Whether a request asks for a later page of a paged answer: its page_token
 * field, which the paged methods share, is set. The log keeps one line per
 * answer at info level and the later pages for debug.
 */
static bool continues_pages(const ProtobufCMessage *in)
{
	const ProtobufCFieldDescriptor *fd =
	    protobuf_c_message_descriptor_get_field_by_name(in->descriptor, "page_token");
	const char *token;

	if (fd == NULL || fd->type != PROTOBUF_C_TYPE_STRING ||
	    fd->label == PROTOBUF_C_LABEL_REPEATED)
		return false;
	token = *(const char *const *)((const char *)in + fd->offset);
	return token != NULL && token[0] != '\0';
}

/*
 * Runs a verified call: decodes its payload, checks its text, runs its
 * handler. Returns the reply to send (NULL only when out of memory).
 */
static nng_msg *run_call(struct pipeline *p, struct call *c, const Yuebao__V1__RpcRequest *req,
                         const ProtobufCMethodDescriptor *md, struct pipeline_outcome *o)
{
	const struct handler *h =
	    handlers_get((unsigned)(md - yuebao__v1__returns__descriptor.methods));
	Yuebao__V1__RpcReply rep = YUEBAO__V1__RPC_REPLY__INIT;
	ProtobufCMessage *in = NULL, *out = NULL;
	ProtobufCAllocator arena = call_allocator(c);
	struct write_plan plan = {0};
	nng_msg *m = NULL;
	char digest[65];

	rep.call_id = req->call_id;
	rep.time_zone = (char *)tz_name(c->world->zone);
	/* In the arena: some 300 small allocations for a return, freed at once. */
	in = protobuf_c_message_unpack(md->input, &arena, req->payload.len, req->payload.data);
	if (in == NULL) {
		o->status = status_fail(&c->msg, YB_INVALID_ARGUMENT, _("payload is not a %s"),
		                        md->input->name);
		goto finish;
	}
	o->continued = continues_pages(in);
	/* Text reaches other people's screens and sheets: checked before any handler. */
	if ((o->status = text_check_message(in, req->payload.len, &c->msg)) != YB_OK)
		goto finish;
	if (h->read != NULL) {
		if ((out = call_message(c, md->output)) == NULL)
			o->status = status_fail(&c->msg, YB_ENOMEM, "out of memory");
		else if ((o->status = h->read(c, in, out)) == YB_OK && !c->out_of_memory)
			o->status = pack_reply(p, &rep, out, &m, &c->msg);
		goto finish;
	}
	/* A retry is answered from its record without running anything. */
	call_digest(req, digest);
	o->status = recorded_reply(c->store, req, c->who, digest, &m, &c->msg);
	if (o->status == YB_OK)
		o->cached = true;
	if (o->status != YB_NOT_FOUND)
		goto finish;
	if ((o->status = h->check(c, in, &plan)) != YB_OK || c->out_of_memory)
		goto finish;
	if (plan.answer != NULL)
		o->status = pack_reply(p, &rep, plan.answer, &m, &c->msg);
	else
		o->status = write_call(p, c, h, in, &plan, req, digest, &rep, &m, o);
finish:
	if (c->out_of_memory && m == NULL)
		o->status = status_fail(&c->msg, YB_ENOMEM, "out of memory");
	if (m == NULL) {
		o->msg = c->msg;
		m = refusal(req->call_id, c->world->zone, o, c->errors, c->n_errors);
	}
	return m;
}

/*
 * Appends one audit entry in a batch of its own, timed when appended (its
 * at_ms is replaced); logs (never fails) when it cannot.
 */
static void append_audit(struct pipeline *p, const struct audit_event *ev)
{
	struct audit_event timed = *ev;
	struct errbuf eb = {{0}};
	struct store *db;
	bool kept;

	if (batch_join(p->batch, &db, &eb) != YB_OK) {
		log_line("cannot audit a refusal: %s", eb.msg);
		return;
	}
	/* Timed with the writing connection held, as write_call says. */
	timed.at_ms = clock_now_ms();
	kept = audit_append(db, p->signer, &timed, NULL, &eb) == YB_OK;
	if (batch_finish(p->batch, kept, &eb) != YB_OK || !kept)
		log_line("cannot audit a refusal: %s", eb.msg);
}

/*
 * One entry for each caller's refusals that the rate limit kept out of the
 * log in a window that has ended (all of them when now_ms is INT64_MAX).
 */
static void audit_dropped_refusals(struct pipeline *p, int64_t now_ms)
{
	struct ratelimit_report r[16];
	size_t n;

	while ((n = ratelimit_take_reports(p->refusals, now_ms, r, 16)) > 0)
		for (size_t i = 0; i < n; i++) {
			char object[160];
			struct audit_event ev;
			snprintf(object, sizeof(object), "%.*s dropped=%llu since=%lld",
			         RATELIMIT_KEY_MAX - 1, r[i].key, (unsigned long long)r[i].dropped,
			         (long long)r[i].window_start_ms);
			ev = (struct audit_event){.at_ms = clock_now_ms(),
			                          .actor = AUDIT_DAEMON,
			                          .fingerprint = "",
			                          .action = "refused:rate-limited",
			                          .object = object,
			                          .org = "",
			                          .digest = ""};
			append_audit(p, &ev);
		}
}

void pipeline_audit_held(struct pipeline *p)
{
	audit_dropped_refusals(p, INT64_MAX);
}

void pipeline_free(struct pipeline *p)
{
	if (p == NULL)
		return;
	ratelimit_free(p->refusals);
	free(p);
}

/*
 * Audits a refusal that matters to security (unknown, revoked or expired
 * certificates, bad signatures, stale or replayed calls, permission denied,
 * a call id reused), at most RATELIMIT_PER_WINDOW a minute per certificate
 * (or per source address for a caller that could not be verified); the
 * rest are counted into one later entry.
 */
static void audit_refusal(struct pipeline *p, const struct pki_principal *who,
                          const Yuebao__V1__RpcRequest *req, const struct pipeline_outcome *o,
                          const uint8_t *raw, size_t raw_len, const char *source)
{
	char action[64], digest[65], key[RATELIMIT_KEY_MAX];
	struct pki_principal claimed;
	struct audit_event ev;
	int64_t now = clock_now_ms();

	if (o->status != YB_UNAUTHENTICATED && o->status != YB_PERMISSION_DENIED &&
	    o->status != YB_ALREADY_EXISTS)
		return;
	audit_dropped_refusals(p, now);
	if (who != NULL)
		snprintf(key, sizeof(key), "cert:%s", who->fingerprint);
	else
		snprintf(key, sizeof(key), "%s", source);
	if (!ratelimit_admit(p->refusals, key, now))
		return;
	snprintf(action, sizeof(action), "refused:%s", status_name(o->status));
	hash_sha256_hex(raw, raw_len, digest);
	/* Not verified: named as its certificate claims, with the fingerprint of what came. */
	memset(&claimed, 0, sizeof(claimed));
	if (who == NULL && req != NULL && req->caller_cert.len > 0 &&
	    req->caller_cert.len <= PKI_MAX_CERT_DER &&
	    pki_describe_cert(req->caller_cert.data, req->caller_cert.len, &claimed) != YB_OK)
		hash_sha256_hex(req->caller_cert.data, req->caller_cert.len, claimed.fingerprint);
	ev = (struct audit_event){.at_ms = now,
	                          .actor = who ? who->subject : claimed.subject,
	                          .fingerprint = who ? who->fingerprint : claimed.fingerprint,
	                          .action = action,
	                          .object = o->method,
	                          .org = who ? who->org : "",
	                          .digest = digest,
	                          .unverified = who == NULL};
	append_audit(p, &ev);
}

/*
 * The envelope's own checks, before anyone is verified: method, call id,
 * clock window, deadline. YB_OK with *md, or the refusal in o.
 */
static yb_status check_envelope(const struct pipeline *p, const Yuebao__V1__RpcRequest *req,
                                int64_t now, const ProtobufCMethodDescriptor **md,
                                struct pipeline_outcome *o)
{
	const size_t plen = strlen(RPC_METHOD_PREFIX);
	const int64_t window_ms = (int64_t)p->cfg.time_window_s * 1000;

	if (strncmp(req->method, RPC_METHOD_PREFIX, plen) != 0 ||
	    (*md = protobuf_c_service_descriptor_get_method_by_name(
	         &yuebao__v1__returns__descriptor, req->method + plen)) == NULL)
		return status_fail(&o->msg, YB_UNIMPLEMENTED, _("unknown method '%.64s'"),
		                   req->method);
	snprintf(o->method, sizeof(o->method), "%s", (*md)->name);
	if (!rpc_valid_call_id(req->call_id))
		return status_fail(&o->msg, YB_INVALID_ARGUMENT,
		                   _("call id must be %d lower-case hex digits"), RPC_CALL_ID_LEN);
	/* Compared, never subtracted: a hostile timestamp must not overflow. */
	if (req->sent_at_ms < now - window_ms || req->sent_at_ms > now + window_ms)
		return status_fail(&o->msg, YB_UNAUTHENTICATED,
		                   _("request time is %lld s off the server's clock (allowed: "
		                     "±%d s): a stale or replayed call, or a wrong clock"),
		                   (long long)(req->sent_at_ms / 1000 - now / 1000),
		                   p->cfg.time_window_s);
	/*
	 * The deadline is on the client's clock, which may be off by up to the
	 * window: only a deadline past even allowing for that has surely passed.
	 */
	if (req->deadline_ms != 0 && req->deadline_ms < now - window_ms)
		return status_fail(&o->msg, YB_DEADLINE_EXCEEDED,
		                   _("the call's deadline passed before it was served"));
	return YB_OK;
}

/* The caller, verified: the CRL is current, the certificate valid, the signature its. */
static yb_status verify_caller(const struct world *world, const Yuebao__V1__RpcRequest *req,
                               int64_t now, struct pki_principal *who, struct errbuf *eb)
{
	uint8_t *signed_bytes = NULL;
	size_t signed_len = 0;
	time_t ca_not_after, crl_next_update;
	int rc;

	if ((rc = rpc_signed_bytes(req->method, req->call_id, req->sent_at_ms, req->deadline_ms,
	                           req->payload.data, req->payload.len, &signed_bytes,
	                           &signed_len)) != YB_OK)
		return status_fail(eb, rc, _("cannot rebuild the signed bytes"));
	pki_verifier_dates(world->verifier, &ca_not_after, &crl_next_update);
	if ((rc = expiry_check_crl(crl_next_update, (time_t)(now / 1000), world->zone, eb)) ==
	    YB_OK)
		rc = pki_verify_caller(world->verifier, req->caller_cert.data, req->caller_cert.len,
		                       signed_bytes, signed_len, req->signature.data,
		                       req->signature.len, (time_t)(now / 1000), who, eb);
	free(signed_bytes);
	return rc;
}

nng_msg *pipeline_serve(struct pipeline *p, struct store *reader, const struct world *world,
                        const uint8_t *raw, size_t raw_len, const char *source,
                        struct pipeline_outcome *o)
{
	const ProtobufCMethodDescriptor *md = NULL;
	Yuebao__V1__RpcRequest *req = NULL;
	struct pki_principal who;
	int64_t now = clock_now_ms();
	nng_msg *m = NULL;

	snprintf(o->method, sizeof(o->method), "-");
	snprintf(o->caller, sizeof(o->caller), "-");
	o->cached = o->continued = false;
	/* Read (RECV_SLACK) to be answered: the limit is the RpcRequest's own size. */
	if (raw_len > p->cfg.max_message) {
		o->status = status_fail(&o->msg, YB_RESOURCE_EXHAUSTED,
		                        _("the request is %zu bytes, over the %zu-byte limit"),
		                        raw_len, p->cfg.max_message);
		goto refuse;
	}
	req = yuebao__v1__rpc_request__unpack(NULL, raw_len, raw);
	if (req == NULL) {
		o->status = status_fail(&o->msg, YB_INVALID_ARGUMENT,
		                        _("the request is not a valid RpcRequest message"));
		goto refuse;
	}
	/* Messages of the reply in the language the client asked for. */
	i18n_set_thread_language(i18n_parse(req->language));
	if ((o->status = check_envelope(p, req, now, &md, o)) != YB_OK ||
	    (o->status = verify_caller(world, req, now, &who, &o->msg)) != YB_OK)
		goto refuse;
	snprintf(o->caller, sizeof(o->caller), "%s/%s", who.role, who.org);
	{
		struct call c = {.who = &who,
		                 .world = world,
		                 .store = reader,
		                 .signer = p->signer,
		                 .daemon_id = p->cfg.daemon_id,
		                 .request = raw,
		                 .request_len = raw_len,
		                 .caller_cert = req->caller_cert.data,
		                 .caller_cert_len = req->caller_cert.len,
		                 .now_ms = now,
		                 .page_bytes = reply_page_bytes(p->cfg.max_message)};
		m = run_call(p, &c, req, md, o);
		call_release(&c);
	}
	audit_refusal(p, &who, req, o, raw, raw_len, source);
	goto done;
refuse:
	audit_refusal(p, NULL, req, o, raw, raw_len, source);
	m = refusal(req ? req->call_id : NULL, p->cfg.zone, o, NULL, 0);
done:
	if (req != NULL)
		yuebao__v1__rpc_request__free_unpacked(req, NULL);
	i18n_set_thread_language(I18N_ENGLISH);
	return m;
}
