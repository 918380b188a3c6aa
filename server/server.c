/*
 * server.c - listener, worker pool and request pipeline of yuebaod.
 *
 * Each worker owns an nng REP context, an aio and a SQLite connection, and
 * serves one request at a time, synchronously; N workers serve N requests at
 * once. A request passes, in order: decode (size-capped by nng), method
 * lookup in the generated service descriptor, call id and clock checks,
 * certificate and signature verification, then its handler. Handlers that
 * write run inside one transaction with the call-id record, so a retried
 * call is answered from that record and never executed twice, and the reply
 * leaves only after COMMIT returned.
 */
#include "server.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>

#include "handlers.h"
#include "period.h"
#include "pki.h"
#include "rpc.h"
#include "store.h"

struct worker {
	struct server *srv;
	pthread_t thread;
	nng_ctx ctx;
	nng_aio *aio;
	struct store *store;
	int started;
};

struct server {
	struct server_config cfg;
	char catalog_dir[PATH_MAX];
	char url[256];
	nng_socket sock;
	nng_listener listener;
	nng_tls_config *tls;
	pthread_rwlock_t world_lock;
	struct world *world;
	struct worker *workers;
	int n_workers;
	struct store *admin_store; /* loads and housekeeping, from the main thread */
};

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void log_line(const char *fmt, ...)
{
	char stamp[32], line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fprintf per line: stdio locks the stream, so lines never interleave. */
	fprintf(stderr, "%s.%03ldZ %s\n", stamp, ts.tv_nsec / 1000000, line);
}

int server_default_catalog(char *buf, size_t len, struct errbuf *eb)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;
	struct stat st;

	if (n <= 0)
		return status_fail(eb, YB_EIO,
		                   "cannot find the yuebaod binary to locate the "
		                   "default catalog; give --catalog DIR");
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	snprintf(buf, len, "%s/../share/yuebao/catalog", exe);
	if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
		return status_fail(eb, YB_EIO,
		                   "the default catalog is not installed at %s; give --catalog DIR",
		                   buf);
	return YB_OK;
}

static void world_free(struct world *w)
{
	if (w == NULL)
		return;
	orgtree_free(w->orgs);
	catalog_free(w->cat);
	pki_verifier_free(w->verifier);
	free(w);
}

/*
 * Loads the org tree, the catalog and the CA with its CRL, and records the
 * tree and catalog loads in the store.
 */
static int world_load(struct server *s, struct world **out, struct errbuf *eb)
{
	struct world *w = calloc(1, sizeof(*w));
	int64_t now = rpc_now_ms();
	int rc;

	if (w == NULL)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	w->due_day = s->cfg.due_day;
	if ((rc = orgtree_load(s->cfg.orgs_path, &w->orgs, eb)) != YB_OK ||
	    (rc = catalog_load_dir(s->catalog_dir, &w->cat, eb)) != YB_OK ||
	    (rc = pki_verifier_new(s->cfg.ca_path, s->cfg.crl_path, &w->verifier, eb)) != YB_OK)
		goto fail;
	if ((rc = store_begin(s->admin_store, eb)) != YB_OK)
		goto fail;
	if ((rc = store_record_load(s->admin_store, "orgs", now, w->orgs->digest, s->cfg.orgs_path,
	                            w->orgs->text, w->orgs->text_len, eb)) != YB_OK)
		goto rollback;
	for (size_t i = 0; i < CATALOG_NFILES; i++) {
		char src[PATH_MAX + 64];
		snprintf(src, sizeof(src), "%s/%s", s->catalog_dir, w->cat->files[i].name);
		if ((rc = store_record_load(s->admin_store, "catalog", now, w->cat->digest, src,
		                            w->cat->files[i].data, w->cat->files[i].len, eb)) !=
		    YB_OK)
			goto rollback;
	}
	if ((rc = store_commit(s->admin_store, eb)) != YB_OK)
		goto fail;
	log_line("loaded %zu org units from %s (sha256 %.12s), catalog of %zu elements, %zu "
	         "indicators, %zu rules from %s (sha256 %.12s)",
	         w->orgs->n, s->cfg.orgs_path, w->orgs->digest, w->cat->n_elements,
	         w->cat->n_indicators, w->cat->n_rules, s->catalog_dir, w->cat->digest);
	*out = w;
	return YB_OK;
rollback:
	store_rollback(s->admin_store);
fail:
	world_free(w);
	return rc;
}

int server_reload(struct server *s, struct errbuf *eb)
{
	struct world *w = NULL, *old;
	int rc = world_load(s, &w, eb);

	if (rc != YB_OK) {
		log_line("reload failed, still serving the previous org tree and catalog: %s",
		         eb ? eb->msg : status_name(rc));
		return rc;
	}
	pthread_rwlock_wrlock(&s->world_lock);
	old = s->world;
	s->world = w;
	pthread_rwlock_unlock(&s->world_lock);
	world_free(old);
	return YB_OK;
}

/* Packs an RpcReply into a fresh nng message (NULL when out of memory). */
static nng_msg *reply_msg(const Yuebao__V1__RpcReply *rep)
{
	size_t n = yuebao__v1__rpc_reply__get_packed_size(rep);
	nng_msg *m;

	if (nng_msg_alloc(&m, n) != 0)
		return NULL;
	yuebao__v1__rpc_reply__pack(rep, nng_msg_body(m));
	return m;
}

/* What one request came to, for the reply and the log line. */
struct outcome {
	int status;
	struct errbuf msg;
	char caller[64];
	const char *method;
	int cached;
};

/*
 * Runs a verified call: the handler, inside a transaction with the call-id
 * record when it writes. The caller holds the world lock for reading.
 * Returns the reply message to send.
 */
static nng_msg *run_call(struct worker *w, const struct world *world,
                         const Yuebao__V1__RpcRequest *req, const ProtobufCMethodDescriptor *md,
                         const struct pki_principal *who, const uint8_t *raw, size_t raw_len,
                         struct outcome *o)
{
	const struct handler *h =
	    handlers_get((unsigned)(md - yuebao__v1__returns__descriptor.methods));
	Yuebao__V1__RpcReply rep = YUEBAO__V1__RPC_REPLY__INIT;
	struct call c = {.who = who, .store = w->store, .request = raw, .request_len = raw_len};
	ProtobufCMessage *in = NULL, *out = NULL;
	uint8_t *payload = NULL, *cached = NULL;
	size_t cached_len = 0;
	nng_msg *m = NULL;
	int in_tx = 0;

	rep.call_id = req->call_id;
	c.now_ms = rpc_now_ms();
	in = protobuf_c_message_unpack(md->input, NULL, req->payload.len, req->payload.data);
	if (in == NULL) {
		o->status = status_fail(&o->msg, YB_INVALID_ARGUMENT, "payload is not a %s",
		                        md->input->name);
		goto reply;
	}
	c.world = world;
	if (h->writes) {
		if ((o->status = store_begin(w->store, &o->msg)) != YB_OK)
			goto finish;
		in_tx = 1;
		o->status = store_call_find(w->store, who->fingerprint, req->call_id, &cached,
		                            &cached_len, &o->msg);
		if (o->status == YB_OK) {
			/* A retry: the first reply again, nothing executed. */
			o->cached = 1;
			store_rollback(w->store);
			in_tx = 0;
			if (nng_msg_alloc(&m, cached_len) == 0)
				memcpy(nng_msg_body(m), cached, cached_len);
			goto finish;
		}
		if (o->status != YB_NOT_FOUND)
			goto finish;
	}
	o->status = h->fn(&c, in, &out);
	if (o->status != YB_OK) {
		o->msg = c.msg;
		if (o->status >= 100) {
			/* Local failures are the server's fault, and say nothing of its insides. */
			log_line("%s: %s", md->name,
			         c.msg.msg[0] ? c.msg.msg : status_name(o->status));
			o->status = o->status == YB_EDB ? YB_UNAVAILABLE : YB_INTERNAL;
			status_fail(&o->msg, o->status,
			            "the server could not complete the call; "
			            "try again later");
		}
		rep.errors = c.errors;
		rep.n_errors = c.n_errors;
		goto finish;
	}
	rep.payload.len = protobuf_c_message_get_packed_size(out);
	if ((payload = malloc(rep.payload.len + 1)) == NULL) {
		o->status = status_fail(&o->msg, YB_INTERNAL, "out of memory");
		goto finish;
	}
	protobuf_c_message_pack(out, payload);
	rep.payload.data = payload;
	if (h->writes) {
		rep.status = YUEBAO__V1__CODE__OK;
		if ((m = reply_msg(&rep)) == NULL ||
		    store_call_save(w->store, who->fingerprint, req->call_id, c.now_ms,
		                    nng_msg_body(m), nng_msg_len(m), &o->msg) != YB_OK ||
		    store_commit(w->store, &o->msg) != YB_OK) {
			log_line("%s: cannot commit: %s", md->name, o->msg.msg);
			if (m != NULL)
				nng_msg_free(m);
			m = NULL;
			o->status = status_fail(&o->msg, YB_UNAVAILABLE,
			                        "the server could not store the call; nothing was "
			                        "stored, try again");
			rep.payload.data = NULL;
			rep.payload.len = 0;
		}
		in_tx = 0;
	}
finish:
	if (in_tx)
		store_rollback(w->store);
reply:
	if (m == NULL) {
		rep.status = (Yuebao__V1__Code)o->status;
		if (o->status != YB_OK)
			rep.message = o->msg.msg;
		m = reply_msg(&rep);
	}
	protobuf_c_message_free_unpacked(in, NULL);
	call_release(&c);
	free(payload);
	free(cached);
	return m;
}

/* Checks the envelope and the caller, then runs the call. */
static nng_msg *serve(struct worker *w, nng_msg *msg, struct outcome *o)
{
	const struct server_config *cfg = &w->srv->cfg;
	const uint8_t *raw = nng_msg_body(msg);
	size_t raw_len = nng_msg_len(msg);
	Yuebao__V1__RpcRequest *req = NULL;
	Yuebao__V1__RpcReply rep = YUEBAO__V1__RPC_REPLY__INIT;
	const ProtobufCMethodDescriptor *md = NULL;
	const size_t plen = strlen(RPC_METHOD_PREFIX);
	struct pki_principal who;
	uint8_t *signed_bytes = NULL;
	size_t signed_len = 0;
	int64_t now = rpc_now_ms();
	nng_msg *m = NULL;

	o->method = "-";
	snprintf(o->caller, sizeof(o->caller), "-");
	req = yuebao__v1__rpc_request__unpack(NULL, raw_len, raw);
	if (req == NULL) {
		o->status = status_fail(&o->msg, YB_INVALID_ARGUMENT,
		                        "the request is not a valid RpcRequest message");
		goto reply;
	}
	rep.call_id = req->call_id;
	o->method = req->method;
	if (strncmp(req->method, RPC_METHOD_PREFIX, plen) != 0 ||
	    (md = protobuf_c_service_descriptor_get_method_by_name(&yuebao__v1__returns__descriptor,
	                                                           req->method + plen)) == NULL) {
		o->status =
		    status_fail(&o->msg, YB_UNIMPLEMENTED, "unknown method '%.100s'", req->method);
		goto reply;
	}
	if (!rpc_valid_call_id(req->call_id)) {
		o->status =
		    status_fail(&o->msg, YB_INVALID_ARGUMENT,
		                "call id must be %d lower-case hex digits", RPC_CALL_ID_LEN);
		goto reply;
	}
	if (req->sent_at_ms < now - (int64_t)cfg->time_window_s * 1000 ||
	    req->sent_at_ms > now + (int64_t)cfg->time_window_s * 1000) {
		o->status =
		    status_fail(&o->msg, YB_UNAUTHENTICATED,
		                "request time is %lld s off the server's clock (allowed: "
		                "±%d s): a stale or replayed call, or a wrong clock",
		                (long long)((req->sent_at_ms - now) / 1000), cfg->time_window_s);
		goto reply;
	}
	if (req->deadline_ms != 0 && req->deadline_ms < now) {
		o->status = status_fail(&o->msg, YB_DEADLINE_EXCEEDED,
		                        "the call's deadline passed before it was served");
		goto reply;
	}
	if (rpc_signed_bytes(req->method, req->call_id, req->sent_at_ms, req->deadline_ms,
	                     req->payload.data, req->payload.len, &signed_bytes,
	                     &signed_len) != YB_OK) {
		o->status = status_fail(&o->msg, YB_INTERNAL, "out of memory");
		goto reply;
	}
	/* Held across verification and handler, so a SIGHUP swaps neither mid-call. */
	pthread_rwlock_rdlock(&w->srv->world_lock);
	o->status =
	    pki_verify_caller(w->srv->world->verifier, req->caller_cert.data, req->caller_cert.len,
	                      signed_bytes, signed_len, req->signature.data, req->signature.len,
	                      (time_t)(now / 1000), &who, &o->msg);
	if (o->status == YB_OK) {
		snprintf(o->caller, sizeof(o->caller), "%s/%s", who.role, who.org);
		m = run_call(w, w->srv->world, req, md, &who, raw, raw_len, o);
	}
	pthread_rwlock_unlock(&w->srv->world_lock);
reply:
	if (m == NULL && o->status != YB_OK) {
		rep.status = (Yuebao__V1__Code)o->status;
		rep.message = o->msg.msg;
		m = reply_msg(&rep);
	}
	/* Keep the method name for the log line past the request's lifetime. */
	if (md != NULL)
		o->method = md->name;
	else if (req != NULL)
		o->method = "(unknown method)";
	if (req != NULL)
		yuebao__v1__rpc_request__free_unpacked(req, NULL);
	free(signed_bytes);
	return m;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (;;) {
		struct outcome o = {0};
		struct timespec t0, t1;
		nng_msg *msg, *rep;
		int rv;

		nng_ctx_recv(w->ctx, w->aio);
		nng_aio_wait(w->aio);
		rv = nng_aio_result(w->aio);
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			break;
		if (rv != 0)
			continue; /* a peer went away mid-message; keep serving */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		msg = nng_aio_get_msg(w->aio);
		rep = serve(w, msg, &o);
		nng_msg_free(msg);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		log_line(
		    "%s%s %s %s %ldms%s%s%s", RPC_METHOD_PREFIX, o.method, o.caller,
		    status_name(o.status),
		    (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000),
		    o.cached ? " (retry answered from record)" : "", o.status != YB_OK ? ": " : "",
		    o.status != YB_OK ? o.msg.msg : "");
		if (rep == NULL)
			continue;
		nng_aio_set_msg(w->aio, rep);
		nng_ctx_send(w->ctx, w->aio);
		nng_aio_wait(w->aio);
		if (nng_aio_result(w->aio) != 0)
			nng_msg_free(rep); /* the requester is gone; its data is stored */
	}
	return NULL;
}

static int open_listener(struct server *s, struct errbuf *eb)
{
	int rv, port = 0;

	if ((rv = nng_rep0_open(&s->sock)) != 0)
		return status_fail(eb, YB_ECONNECT, "cannot open socket: %s", nng_strerror(rv));
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, s->cfg.max_message);
	if ((rv = nng_listener_create(&s->listener, s->sock, s->cfg.listen_url)) != 0)
		return status_fail(eb, YB_INVALID_ARGUMENT, "cannot listen on '%s': %s",
		                   s->cfg.listen_url, nng_strerror(rv));
	if ((rv = nng_listener_set_ptr(s->listener, NNG_OPT_TLS_CONFIG, s->tls)) != 0 ||
	    (rv = nng_listener_set_size(s->listener, NNG_OPT_RECVMAXSZ, s->cfg.max_message)) != 0)
		return status_fail(eb, YB_ECONNECT, "cannot configure listener: %s",
		                   nng_strerror(rv));
	if ((rv = nng_listener_start(s->listener, 0)) != 0)
		return status_fail(eb, YB_ECONNECT, "cannot listen on %s: %s", s->cfg.listen_url,
		                   nng_strerror(rv));
	nng_listener_get_int(s->listener, NNG_OPT_TCP_BOUND_PORT, &port);
	snprintf(s->url, sizeof(s->url), "%s", s->cfg.listen_url);
	{
		/* Report the bound port when the URL asked for port 0. */
		char *colon = strrchr(s->url, ':');
		if (colon != NULL && strcmp(colon, ":0") == 0)
			snprintf(colon, sizeof(s->url) - (size_t)(colon - s->url), ":%d", port);
	}
	return YB_OK;
}

int server_open(const struct server_config *cfg, struct server **out, struct errbuf *eb)
{
	struct server *s = calloc(1, sizeof(*s));
	int rc, rv;

	if (s == NULL)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	s->cfg = *cfg;
	pthread_rwlock_init(&s->world_lock, NULL);
	if (cfg->catalog_dir != NULL)
		snprintf(s->catalog_dir, sizeof(s->catalog_dir), "%s", cfg->catalog_dir);
	else if ((rc = server_default_catalog(s->catalog_dir, sizeof(s->catalog_dir), eb)) != YB_OK)
		goto fail;
	if ((rc = handlers_check(eb)) != YB_OK ||
	    (rc = store_open(cfg->db_path, &s->admin_store, eb)) != YB_OK ||
	    (rc = world_load(s, &s->world, eb)) != YB_OK ||
	    (rc = rpc_tls_config_new(NNG_TLS_MODE_SERVER, cfg->cert_path, cfg->key_path,
	                             cfg->ca_path, cfg->crl_path, &s->tls, eb)) != YB_OK)
		goto fail;
	if ((rc = store_call_prune(s->admin_store,
	                           rpc_now_ms() - 2 * (int64_t)cfg->time_window_s * 1000, eb)) !=
	    YB_OK)
		goto fail;
	if ((rc = open_listener(s, eb)) != YB_OK)
		goto fail;
	s->n_workers = cfg->workers;
	if ((s->workers = calloc((size_t)s->n_workers, sizeof(*s->workers))) == NULL) {
		rc = status_fail(eb, YB_ENOMEM, "out of memory");
		goto fail;
	}
	for (int i = 0; i < s->n_workers; i++) {
		struct worker *w = &s->workers[i];
		w->srv = s;
		if ((rc = store_open(cfg->db_path, &w->store, eb)) != YB_OK)
			goto fail;
		if ((rv = nng_ctx_open(&w->ctx, s->sock)) != 0 ||
		    (rv = nng_aio_alloc(&w->aio, NULL, NULL)) != 0) {
			rc = status_fail(eb, YB_ENOMEM, "cannot set up worker: %s",
			                 nng_strerror(rv));
			goto fail;
		}
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			rc = status_fail(eb, YB_ENOMEM, "cannot start worker thread");
			goto fail;
		}
		w->started = 1;
	}
	log_line("yuebaod %s listening on %s with %d workers, database %s", YB_VERSION, s->url,
	         s->n_workers, cfg->db_path);
	*out = s;
	return YB_OK;
fail:
	server_close(s);
	return rc;
}

const char *server_url(const struct server *s)
{
	return s->url;
}

void server_close(struct server *s)
{
	if (s == NULL)
		return;
	/* Closing the socket fails every pending receive, which ends the workers. */
	if (nng_socket_id(s->sock) > 0)
		nng_close(s->sock);
	for (int i = 0; s->workers != NULL && i < s->n_workers; i++) {
		struct worker *w = &s->workers[i];
		if (w->started)
			pthread_join(w->thread, NULL);
		if (w->aio != NULL)
			nng_aio_free(w->aio);
		store_close(w->store);
	}
	free(s->workers);
	if (s->tls != NULL)
		nng_tls_config_free(s->tls);
	world_free(s->world);
	store_close(s->admin_store);
	pthread_rwlock_destroy(&s->world_lock);
	free(s);
}
