/*
 * server.c - listener, worker pool and request pipeline of yuebaod.
 *
 * Each worker owns an nng REP context, an aio and a SQLite connection for
 * reading, and serves one request at a time, synchronously; N workers serve
 * N requests at once. A request passes, in order: decode (size-capped by
 * nng), method lookup in the generated service descriptor, call id and clock
 * checks, certificate and signature verification, then its handler. A
 * handler that writes joins the group commit (batch.h) once its read-only
 * checks pass: its writes and its call-id record go into the open batch
 * together, so a retried call is answered from that record and never
 * executed twice, and the reply leaves only after the batch's COMMIT.
 */
#include "server.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>

#include "audit.h"
#include "batch.h"
#include "expiry.h"
#include "handlers.h"
#include "reaper.h"
#include "i18n.h"
#include "period.h"
#include "pki.h"
#include "ratelimit.h"
#include "rollup.h"
#include "rpc.h"
#include "store.h"
#include "text.h"
#include "tlsengine.h"

/* How long a reply may wait for a peer that does not read; then it is dropped. */
#define SEND_TIMEOUT_MS 10000
/* Replies in flight at once, per worker: workers never wait for a peer to read. */
#define SLOTS_PER_WORKER 8
/*
 * Replies one connection may have waiting to be sent. A REQ peer reads each
 * reply before its next request on that context, so a connection above this
 * is pipelining requests without reading: further replies are dropped, and
 * the connection is closed once a waiting reply times out. Kept small so
 * that it takes many such connections (each with a valid certificate) to
 * hold every slot.
 */
#define MAX_PENDING_PER_PIPE 2
/* Connections to close, noted by send_done for the next worker. */
#define MAX_CLOSE_PENDING 16
/* How often a worker forgets call ids too old to be replayed. */
#define PRUNE_INTERVAL_MS 60000
/*
 * How long an accepted connection may take to finish its TLS handshake
 * before the reaper shuts it down (nng's own limit covers the SP
 * negotiation after it).
 */
#define SESSION_START_LIMIT_S 10
/*
 * How long a connection may wait to become a session after its SP
 * negotiation before the listener is taken for stopped (server_tick): nng
 * takes milliseconds, or 100 ms after some failed connection.
 */
#define LISTENER_STALL_MS 3000
/* How long SIGTERM waits for requests in flight before closing the socket. */
#define STOP_GRACE_MS 10000

struct worker {
	struct server *srv;
	pthread_t thread;
	nng_aio *recv_aio; /* cancelled to stop the worker */
	struct store *store;
	int64_t last_prune_ms;
	int started;
	atomic_int done;
};

/*
 * A REP context and its reply in flight. A worker takes a free slot,
 * receives a request on its context, serves it and starts the reply; the
 * slot is free again when the reply left (or timed out, or its connection
 * went away), so a peer that does not read holds a slot, never a worker.
 */
struct slot {
	struct server *srv;
	nng_ctx ctx;
	nng_aio *send_aio; /* completes in send_done */
	nng_pipe pipe;     /* of the reply in flight */
	bool sending;
	struct slot *next_free;
};

/*
 * What nng may read past --max-message: its 4-byte request id, and a request
 * a little over the limit, which is then answered RESOURCE_EXHAUSTED rather
 * than cut off. Anything larger is dropped by nng unread.
 */
#define RECV_SLACK (64u * 1024)

struct server {
	struct server_config cfg;
	char catalog_dir[PATH_MAX];
	char url[256];
	nng_socket sock;
	nng_listener listener;
	bool listening; /* listener is open and started; under listener_lock once workers run */
	/*
	 * The listener's TLS configuration, with the CRL or without (see
	 * tls_open), and the one it replaced, kept alive until the server
	 * closes: nng 1.5.2 reads the listener's configuration without its lock
	 * when it starts an accept, and only then takes a reference; and that
	 * accept uses it for the next connection, whenever that comes. Under
	 * listener_lock once the listener runs.
	 */
	nng_tls_config *tls, *tls_retired;
	time_t tls_crl_next_update;    /* of the CRL in tls; 0: tls has none */
	pthread_mutex_t listener_lock; /* guards listener, listening, its TLS configuration swap */
	/* Serialises SIGHUP reloads with the daily expiry check. */
	pthread_mutex_t trust_lock;
	struct expiry_watch *expiry;
	struct reaper *reaper; /* of connections that never start a session */
	pthread_rwlock_t world_lock;
	struct world *world;
	struct worker *workers;
	int n_workers;
	struct slot *slots;
	int n_slots;
	struct slot *free_slots;
	pthread_mutex_t slot_lock; /* guards free_slots, sending, pipe, to_close */
	pthread_cond_t slot_freed;
	nng_pipe to_close[MAX_CLOSE_PENDING];
	int n_to_close;
	struct batch *batch;         /* the workers' one writing connection */
	struct pki_identity *signer; /* the server's own key: signs audit checkpoints */
	struct ratelimit *refusals;  /* audit entries per refused caller and minute */
	char server_subject[256];
	atomic_int stopping;
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
	/* Peer text is quoted in log lines: no control byte may forge a line. */
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	/* One fprintf per line: stdio locks the stream, so lines never interleave. */
	fprintf(stderr, "%s.%03ldZ %s\n", stamp, ts.tv_nsec / 1000000, line);
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
	int64_t now;
	struct errbuf scratch;
	struct store *db;
	int rc;

	if (w == NULL)
		return status_fail(eb, YB_ENOMEM, _("out of memory"));
	w->due_day = s->cfg.due_day;
	w->zone = s->cfg.zone;
	w->outlier_factor = s->cfg.outlier_factor;
	w->stock_jump_pct = s->cfg.stock_jump_pct;
	if ((rc = orgtree_load(s->cfg.orgs_path, &w->orgs, eb)) != YB_OK ||
	    (rc = catalog_load_dir(s->catalog_dir, &w->cat, eb)) != YB_OK ||
	    (rc = pki_verifier_new(s->cfg.ca_path, s->cfg.crl_path, &w->verifier, eb)) != YB_OK ||
	    (rc = pki_cert_not_after(s->cfg.cert_path, &w->server_cert_not_after, eb)) != YB_OK)
		goto fail;
	/* Through the group commit: a reload waits its turn like any write. */
	if ((rc = batch_join(s->batch, &db, eb)) != YB_OK)
		goto fail;
	now = rpc_now_ms(); /* with the writing connection held: see server_begin_write */
	if ((rc = store_record_load(db, "orgs", now, w->orgs->digest, s->cfg.orgs_path,
	                            w->orgs->text, w->orgs->text_len, eb)) != YB_OK)
		goto rollback;
	for (size_t i = 0; i < CATALOG_NFILES; i++) {
		char src[PATH_MAX + 64];
		snprintf(src, sizeof(src), "%s/%s", s->catalog_dir, w->cat->files[i].name);
		if ((rc = store_record_load(db, "catalog", now, w->cat->digest, src,
		                            w->cat->files[i].data, w->cat->files[i].len, eb)) !=
		    YB_OK)
			goto rollback;
	}
	{
		/*
		 * Each load is audited with the SHA-256 of exactly what was loaded,
		 * by the daemon under its own certificate.
		 */
		size_t cert_len = 0;
		const uint8_t *cert = pki_identity_cert(s->signer, &cert_len);
		char fp[65];
		struct audit_event ev = {.at_ms = now,
		                         .actor = AUDIT_DAEMON,
		                         .fingerprint = fp,
		                         .action = "load:orgs",
		                         .object = s->cfg.orgs_path,
		                         .org = "",
		                         .digest = w->orgs->digest};
		pki_sha256_hex(cert, cert_len, fp);
		if ((rc = audit_append(db, s->signer, &ev, NULL, eb)) != YB_OK)
			goto rollback;
		ev.action = "load:catalog";
		ev.object = s->catalog_dir;
		ev.digest = w->cat->digest;
		if ((rc = audit_append(db, s->signer, &ev, NULL, eb)) != YB_OK)
			goto rollback;
	}
	if ((rc = rollup_sync(db, w->orgs, w->cat, log_line, eb)) != YB_OK)
		goto rollback;
	if ((rc = batch_finish(s->batch, true, eb)) != YB_OK)
		goto fail;
	log_line("loaded %zu org units from %s (sha256 %.12s), catalog of %zu elements, %zu "
	         "indicators, %zu rules from %s (sha256 %.12s)",
	         w->orgs->n, s->cfg.orgs_path, w->orgs->digest, w->cat->n_elements,
	         w->cat->n_indicators, w->cat->n_rules, s->catalog_dir, w->cat->digest);
	*out = w;
	return YB_OK;
rollback:
	batch_finish(s->batch, false, &scratch);
fail:
	world_free(w);
	return rc;
}

/* When the files of world w run out. */
static void world_dates(const struct server *s, const struct world *w, struct expiry_dates *d)
{
	*d = (struct expiry_dates){.path = {s->cfg.cert_path, s->cfg.ca_path, s->cfg.crl_path}};
	d->at[EXPIRY_SERVER_CERT] = w->server_cert_not_after;
	pki_verifier_dates(w->verifier, &d->at[EXPIRY_CA_CERT], &d->at[EXPIRY_CRL]);
}

/*
 * A server TLS configuration of the daemon's files, checking crl_path (NULL:
 * no CRL), from the oldest TLS version --tls-min allows.
 */
static int tls_config(const struct server *s, const char *crl_path, nng_tls_config **out,
                      struct errbuf *eb)
{
	int rc, rv;

	if ((rc = rpc_tls_config_new(NNG_TLS_MODE_SERVER, s->cfg.cert_path, s->cfg.key_path,
	                             s->cfg.ca_path, crl_path, out, eb)) != YB_OK)
		return rc;
	if (s->cfg.tls_min == SERVER_TLS_MIN_1_3 &&
	    (rv = nng_tls_config_version(*out, NNG_TLS_1_3, NNG_TLS_1_3)) != 0) {
		nng_tls_config_free(*out);
		*out = NULL;
		return status_fail(eb, YB_ECONNECT, "cannot require TLS 1.3: %s", nng_strerror(rv));
	}
	return YB_OK;
}

/* Whether the TLS layer may check the CRL that runs out at crl_next_update. */
static bool tls_may_use_crl(const struct server *s, time_t crl_next_update, time_t now)
{
	return s->cfg.crl_path != NULL && s->cfg.crl_path[0] != '\0' && crl_next_update != 0 &&
	       !expiry_soon(crl_next_update, now);
}

/*
 * Makes the listener's TLS configuration at start: with the CRL (the TLS
 * layer then refuses revoked peers itself) only while its next update is
 * more than EXPIRY_WARN_DAYS away, else without. Past its next update
 * the TLS layer would fail every handshake ("certificate expired", which
 * the client would take for its own); and a new configuration reaches the listener
 * one connection late (see struct server), so tls_check_crl drops the CRL
 * well before. Revocation does not depend on it: every request's
 * certificate is checked against the CRL loaded last (pki_verify_caller),
 * and past that CRL's next update every request is refused with a message
 * saying so (expiry_check_crl). SIGHUP gives the TLS layer the CRL just
 * loaded (tls_swap), so a revoked peer gets no session from then on.
 */
static int tls_open(struct server *s, time_t crl_next_update, time_t now, struct errbuf *eb)
{
	bool with_crl = tls_may_use_crl(s, crl_next_update, now);

	s->tls_crl_next_update = with_crl ? crl_next_update : 0;
	return tls_config(s, with_crl ? s->cfg.crl_path : NULL, &s->tls, eb);
}

/*
 * nng 1.5.2 gives the accept already waiting the configuration it had when
 * that accept started: one TCP connection of our own, closed at once, is
 * what it takes, so that the next client gets the new one (the kernel hands
 * connections to accept in the order they came). Best effort: when it
 * cannot connect, the next client still gets the old configuration.
 */
static void use_up_pending_accept(struct server *s)
{
	nng_sockaddr sa;
	struct sockaddr_storage ss = {0};
	socklen_t len = 0;
	int fd;

	if (nng_listener_get_addr(s->listener, NNG_OPT_LOCADDR, &sa) != 0)
		return;
	if (sa.s_family == NNG_AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = sa.s_in.sa_port;
		in->sin_addr.s_addr =
		    sa.s_in.sa_addr != 0 ? sa.s_in.sa_addr : htonl(INADDR_LOOPBACK);
		len = sizeof(*in);
	} else if (sa.s_family == NNG_AF_INET6) {
		static const uint8_t any[16] = {0};
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = sa.s_in6.sa_port;
		if (memcmp(sa.s_in6.sa_addr, any, 16) != 0)
			memcpy(&in6->sin6_addr, sa.s_in6.sa_addr, 16);
		else
			in6->sin6_addr = in6addr_loopback;
		len = sizeof(*in6);
	} else {
		return;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	if (connect(fd, (struct sockaddr *)&ss, len) != 0)
		log_line("cannot hand the listener its new TLS configuration at once: %s",
		         strerror(errno));
	close(fd);
}

/*
 * Gives the running listener a new TLS configuration: with the CRL file as
 * it is now (crl_next_update its next update) when the TLS layer may use
 * it, else without. The configuration it replaces is kept until the server
 * closes (see struct server). Called with trust_lock held.
 */
static void tls_swap(struct server *s, time_t crl_next_update, time_t now)
{
	bool with_crl = tls_may_use_crl(s, crl_next_update, now);
	nng_tls_config *cfg = NULL;
	struct errbuf eb = {{0}};
	int rv;

	if (tls_config(s, with_crl ? s->cfg.crl_path : NULL, &cfg, &eb) != YB_OK) {
		log_line("cannot make a new TLS configuration, keeping the old one: %s", eb.msg);
		return;
	}
	pthread_mutex_lock(&s->listener_lock);
	if (atomic_load(&s->stopping)) {
		nng_tls_config_free(cfg); /* the listener is closed, or about to be */
	} else if (s->listening &&
	           (rv = nng_listener_set_ptr(s->listener, NNG_OPT_TLS_CONFIG, cfg)) != 0) {
		log_line("cannot give the listener its new TLS configuration: %s",
		         nng_strerror(rv));
		nng_tls_config_free(cfg);
	} else {
		if (s->tls_retired != NULL)
			nng_tls_config_free(s->tls_retired);
		s->tls_retired = s->tls;
		s->tls = cfg;
		s->tls_crl_next_update = with_crl ? crl_next_update : 0;
		/* Not listening (server_tick could not listen again): the next start takes it. */
		if (s->listening)
			use_up_pending_accept(s);
		if (with_crl)
			log_line("TLS handshakes now check the CRL %s as loaded now",
			         s->cfg.crl_path);
		else if (s->cfg.crl_path != NULL && s->cfg.crl_path[0] != '\0')
			log_line(
			    "TLS handshakes no longer check the CRL %s, which runs out within %d "
			    "days; each request's certificate is still checked against the CRL "
			    "loaded last",
			    s->cfg.crl_path, EXPIRY_WARN_DAYS);
	}
	pthread_mutex_unlock(&s->listener_lock);
}

/*
 * Drops the CRL from the listener's TLS configuration once it comes within
 * EXPIRY_WARN_DAYS of its next update (tls_open). Called with trust_lock held.
 */
static void tls_check_crl(struct server *s, time_t now)
{
	if (s->tls_crl_next_update != 0 && expiry_soon(s->tls_crl_next_update, now))
		tls_swap(s, 0, now);
}

/* The daily check (on the expiry watch's thread, see expiry.h). */
static void check_expiry(void *arg)
{
	struct server *s = arg;
	time_t now = time(NULL);
	struct expiry_dates d;

	pthread_mutex_lock(&s->trust_lock);
	pthread_rwlock_rdlock(&s->world_lock);
	world_dates(s, s->world, &d);
	pthread_rwlock_unlock(&s->world_lock);
	expiry_report(&d, now, log_line);
	tls_check_crl(s, now);
	pthread_mutex_unlock(&s->trust_lock);
}

int server_reload(struct server *s, struct errbuf *eb)
{
	struct world *w = NULL, *old;
	struct expiry_dates d;
	time_t now = time(NULL);
	int rc;

	pthread_mutex_lock(&s->trust_lock);
	rc = world_load(s, &w, eb);
	if (rc != YB_OK) {
		pthread_mutex_unlock(&s->trust_lock);
		log_line("reload failed, still serving the previous org tree and catalog: %s",
		         eb ? eb->msg : status_name(rc));
		return rc;
	}
	pthread_rwlock_wrlock(&s->world_lock);
	old = s->world;
	s->world = w;
	pthread_rwlock_unlock(&s->world_lock);
	world_free(old);
	if (s->cfg.listen_url != NULL) {
		world_dates(s, w, &d);
		expiry_report(&d, now, log_line);
		/* The TLS layer takes the CRL just loaded: revoked peers get no session. */
		tls_swap(s, d.at[EXPIRY_CRL], now);
	}
	pthread_mutex_unlock(&s->trust_lock);
	/* From here on every request sees the new world: scripts wait for this line. */
	log_line("reloaded: now serving the org tree, catalog, CA and CRL just loaded");
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
	char caller[96];
	char method[64];
	int cached;
};

/*
 * Local failures (codes from 100 on) are the server's own: the details go to
 * the log, the peer learns only that it may try again.
 */
static void make_public(struct outcome *o)
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
	pki_sha256_hex(buf, n + 1 + req->payload.len, out);
	free(buf);
}

/*
 * The recorded reply to an earlier call with this caller's call id: YB_OK
 * with *m, YB_NOT_FOUND, or ALREADY_EXISTS when the id was used for a
 * different request.
 */
static int recorded_reply(struct store *db, const Yuebao__V1__RpcRequest *req,
                          const struct pki_principal *who, const char *digest, nng_msg **m,
                          struct outcome *o)
{
	uint8_t *cached = NULL;
	size_t cached_len = 0;
	char cached_digest[65];
	int rc;

	rc = store_call_find(db, who->fingerprint, req->call_id, cached_digest, &cached,
	                     &cached_len, &o->msg);
	if (rc != YB_OK)
		return rc;
	if (strcmp(cached_digest, digest) != 0) {
		free(cached);
		return status_fail(&o->msg, YB_ALREADY_EXISTS,
		                   _("call id %s was already used for a different request; a retry "
		                     "must repeat the same method and data"),
		                   req->call_id);
	}
	/* A retry: the first reply again, nothing executed. */
	o->cached = 1;
	if (nng_msg_alloc(m, cached_len) == 0)
		memcpy(nng_msg_body(*m), cached, cached_len);
	free(cached);
	return YB_OK;
}

/* What a writing call needs to open its transaction from inside its handler. */
struct write_state {
	struct worker *w;
	const Yuebao__V1__RpcRequest *req;
	const struct pki_principal *who;
	const char *digest;
	nng_msg **m;
	struct outcome *o;
};

/*
 * handlers' begin_write: joins the group commit only once the handler has
 * done its read-only checks, so validation never holds up other writers;
 * from then on the handler reads and writes through the batch's connection
 * (c->store), which sees the writes of the calls before it in the batch.
 * Looks the call id up again there, in case a retry of the same call
 * finished meanwhile (or is in this very batch).
 */
static int server_begin_write(struct call *c)
{
	struct write_state *ws = c->server_state;
	const struct server_config *cfg = &ws->w->srv->cfg;
	int rc;

	if ((rc = batch_join(ws->w->srv->batch, &c->store, &c->msg)) != YB_OK)
		return rc;
	c->in_write = true;
	/*
	 * The time of what the call writes is read once it holds the writing
	 * connection: audit entries are then in time order, each no earlier
	 * than the signed checkpoint before it (what `audit verify` checks),
	 * however calls overlap. Only a clock set back breaks the order.
	 */
	c->now_ms = rpc_now_ms();
	if (c->now_ms - ws->w->last_prune_ms > PRUNE_INTERVAL_MS) {
		/* Calls older than the clock window cannot come back: forget them. */
		if ((rc = store_call_prune(c->store,
		                           c->now_ms - 2 * (int64_t)cfg->time_window_s * 1000,
		                           &c->msg)) != YB_OK)
			return rc;
		ws->w->last_prune_ms = c->now_ms;
	}
	rc = recorded_reply(c->store, ws->req, ws->who, ws->digest, ws->m, ws->o);
	if (rc == YB_NOT_FOUND)
		return YB_OK;
	if (rc == YB_OK)
		return HANDLERS_ANSWERED;
	c->msg = ws->o->msg;
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

/*
 * Runs a verified call: its handler, which for a writing call opens one
 * transaction holding its writes and the call-id record. The caller holds
 * the world lock for reading. Returns the reply to send (NULL only when
 * out of memory).
 */
static nng_msg *run_call(struct worker *w, const struct world *world,
                         const Yuebao__V1__RpcRequest *req, const ProtobufCMethodDescriptor *md,
                         const struct pki_principal *who, const uint8_t *raw, size_t raw_len,
                         struct outcome *o)
{
	const struct handler *h =
	    handlers_get((unsigned)(md - yuebao__v1__returns__descriptor.methods));
	Yuebao__V1__RpcReply rep = YUEBAO__V1__RPC_REPLY__INIT;
	struct write_state ws = {w, req, who, NULL, NULL, o};
	struct call c = {.who = who,
	                 .store = w->store,
	                 .signer = w->srv->signer,
	                 .request = raw,
	                 .request_len = raw_len,
	                 .begin_write = server_begin_write,
	                 .server_state = &ws};
	ProtobufCMessage *in = NULL, *out = NULL;
	uint8_t *payload = NULL;
	nng_msg *m = NULL;
	char digest[65];

	ws.digest = digest;
	ws.m = &m;
	rep.call_id = req->call_id;
	rep.time_zone = (char *)tz_name(world->zone);
	c.now_ms = rpc_now_ms();
	c.page_bytes = reply_page_bytes(w->srv->cfg.max_message);
	c.world = world;
	in = protobuf_c_message_unpack(md->input, NULL, req->payload.len, req->payload.data);
	if (in == NULL) {
		o->status = status_fail(&o->msg, YB_INVALID_ARGUMENT, _("payload is not a %s"),
		                        md->input->name);
		goto finish;
	}
	/* Text reaches other people's screens and sheets: checked before any handler. */
	if ((o->status = text_check_message(in, req->payload.len, &o->msg)) != YB_OK)
		goto finish;
	if (h->writes) {
		/* A retry is answered from its record without running anything. */
		call_digest(req, digest);
		o->status = recorded_reply(w->store, req, who, digest, &m, o);
		if (o->status != YB_NOT_FOUND)
			goto finish;
	}
	o->status = h->fn(&c, in, &out);
	if (o->status == HANDLERS_ANSWERED) {
		/* m holds the recorded reply; it may belong to this batch: wait for it. */
		o->status = batch_finish(w->srv->batch, true, &o->msg);
		c.in_write = false;
		if (o->status != YB_OK) {
			nng_msg_free(m);
			m = NULL;
		}
		goto finish;
	}
	if (o->status != YB_OK) {
		o->msg = c.msg;
		rep.errors = c.errors;
		rep.n_errors = c.n_errors;
		goto finish;
	}
	rep.payload.len = protobuf_c_message_get_packed_size(out);
	if (rep.payload.len > reply_max(w->srv->cfg.max_message) - 1024) {
		o->status =
		    status_fail(&o->msg, YB_RESOURCE_EXHAUSTED,
		                _("the answer would be %zu bytes, over the %zu-byte message "
		                  "limit: ask for less (a shorter period, fewer groups)"),
		                rep.payload.len, reply_max(w->srv->cfg.max_message));
		goto finish;
	}
	if ((payload = malloc(rep.payload.len + 1)) == NULL) {
		o->status = status_fail(&o->msg, YB_ENOMEM, _("out of memory"));
		goto finish;
	}
	protobuf_c_message_pack(out, payload);
	rep.payload.data = payload;
	if (c.in_write) {
		rep.status = YUEBAO__V1__CODE__OK;
		if ((m = reply_msg(&rep)) == NULL) {
			o->status = status_fail(&o->msg, YB_ENOMEM, _("out of memory"));
			goto finish;
		}
		/* The reply leaves only after its data and its call record are durable. */
		if ((o->status =
		         store_call_save(c.store, who->fingerprint, req->call_id, digest, c.now_ms,
		                         nng_msg_body(m), nng_msg_len(m), &o->msg)) != YB_OK) {
			nng_msg_free(m);
			m = NULL;
			goto finish;
		}
		c.in_write = false;
		if ((o->status = batch_finish(w->srv->batch, true, &o->msg)) != YB_OK) {
			nng_msg_free(m);
			m = NULL;
			goto finish;
		}
	}
finish:
	if (c.in_write)
		batch_finish(w->srv->batch, false, &c.msg);
	if (m == NULL) {
		make_public(o);
		rep.status = (Yuebao__V1__Code)o->status;
		if (o->status != YB_OK) {
			rep.message = o->msg.msg;
			rep.payload.data = NULL;
			rep.payload.len = 0;
		}
		m = reply_msg(&rep);
	}
	protobuf_c_message_free_unpacked(in, NULL);
	handlers_release(&c);
	free(payload);
	return m;
}

/* Refuses a request before any handler: the reply and the outcome. */
static nng_msg *refusal(const char *call_id, const struct tz *zone, struct outcome *o)
{
	Yuebao__V1__RpcReply rep = YUEBAO__V1__RPC_REPLY__INIT;

	make_public(o);
	rep.status = (Yuebao__V1__Code)o->status;
	rep.message = o->msg.msg;
	rep.call_id = (char *)(call_id ? call_id : "");
	rep.time_zone = (char *)tz_name(zone);
	return reply_msg(&rep);
}

/*
 * Refusals that matter to security (unknown, revoked or expired
 * certificates, bad signatures, stale or replayed calls, permission denied,
 * a call id reused) are audited too, in their own transaction.
 */
/*
 * Appends one audit entry in a batch of its own, timed when appended (its
 * at_ms is replaced); logs (never fails) when it cannot.
 */
static void append_audit(struct server *s, const struct audit_event *ev)
{
	struct audit_event timed = *ev;
	struct errbuf eb = {{0}};
	struct store *db;
	bool kept;

	if (batch_join(s->batch, &db, &eb) != YB_OK) {
		log_line("cannot audit a refusal: %s", eb.msg);
		return;
	}
	/* Timed with the writing connection held, as server_begin_write says. */
	timed.at_ms = rpc_now_ms();
	kept = audit_append(db, s->signer, &timed, NULL, &eb) == YB_OK;
	if (batch_finish(s->batch, kept, &eb) != YB_OK || !kept)
		log_line("cannot audit a refusal: %s", eb.msg);
}

/*
 * One entry for each caller's refusals that the rate limit kept out of the
 * log in a window that has ended (all of them when now_ms is INT64_MAX).
 */
static void audit_dropped_refusals(struct server *s, int64_t now_ms)
{
	struct ratelimit_report r[16];
	size_t n;

	while ((n = ratelimit_take_reports(s->refusals, now_ms, r, 16)) > 0)
		for (size_t i = 0; i < n; i++) {
			char object[160];
			struct audit_event ev;
			snprintf(object, sizeof(object), "%.*s dropped=%llu since=%lld",
			         RATELIMIT_KEY_MAX - 1, r[i].key, (unsigned long long)r[i].dropped,
			         (long long)r[i].window_start_ms);
			ev = (struct audit_event){.at_ms = rpc_now_ms(),
			                          .actor = "yuebaod",
			                          .fingerprint = "",
			                          .action = "refused:rate-limited",
			                          .object = object,
			                          .org = "",
			                          .digest = ""};
			append_audit(s, &ev);
		}
}

/*
 * The source address of the peer that sent msg ("?" when nng cannot say, as
 * for a message that did not come from a pipe).
 */
static void source_of(nng_msg *msg, char *out, size_t len)
{
	nng_sockaddr sa;
	char ip[INET6_ADDRSTRLEN] = "?";

	if (msg != NULL && nng_pipe_get_addr(nng_msg_get_pipe(msg), NNG_OPT_REMADDR, &sa) == 0) {
		if (sa.s_family == NNG_AF_INET)
			inet_ntop(AF_INET, &sa.s_in.sa_addr, ip, sizeof(ip));
		else if (sa.s_family == NNG_AF_INET6)
			inet_ntop(AF_INET6, sa.s_in6.sa_addr, ip, sizeof(ip));
	}
	snprintf(out, len, "addr:%s", ip);
}

/*
 * Audits a refusal that matters to security, at most RATELIMIT_PER_WINDOW a
 * minute per certificate (or per source address for a caller that could not
 * be verified); the rest are counted into one later entry.
 */
static void record_refusal(struct worker *w, const struct pki_principal *who,
                           const Yuebao__V1__RpcRequest *req, const struct outcome *o, nng_msg *msg,
                           const uint8_t *raw, size_t raw_len)
{
	char action[64], digest[65], key[RATELIMIT_KEY_MAX];
	struct pki_principal claimed;
	struct audit_event ev;
	int64_t now = rpc_now_ms();

	if (o->status != YB_UNAUTHENTICATED && o->status != YB_PERMISSION_DENIED &&
	    o->status != YB_ALREADY_EXISTS)
		return;
	audit_dropped_refusals(w->srv, now);
	if (who != NULL)
		snprintf(key, sizeof(key), "cert:%s", who->fingerprint);
	else
		source_of(msg, key, sizeof(key));
	if (!ratelimit_admit(w->srv->refusals, key, now))
		return;
	snprintf(action, sizeof(action), "refused:%s", status_name(o->status));
	pki_sha256_hex(raw, raw_len, digest);
	/* Not verified: named as its certificate claims, with the fingerprint of what came. */
	memset(&claimed, 0, sizeof(claimed));
	if (who == NULL && req != NULL && req->caller_cert.len > 0 &&
	    req->caller_cert.len <= PKI_MAX_CERT_DER &&
	    pki_describe_cert(req->caller_cert.data, req->caller_cert.len, &claimed) != YB_OK)
		pki_sha256_hex(req->caller_cert.data, req->caller_cert.len, claimed.fingerprint);
	ev = (struct audit_event){.at_ms = now,
	                          .actor = who ? who->subject : claimed.subject,
	                          .fingerprint = who ? who->fingerprint : claimed.fingerprint,
	                          .action = action,
	                          .object = o->method,
	                          .org = who ? who->org : "",
	                          .digest = digest,
	                          .unverified = who == NULL};
	append_audit(w->srv, &ev);
}

/* Checks the envelope and the caller, then runs the call. */
static nng_msg *serve(struct worker *w, nng_msg *msg, struct outcome *o)
{
	const struct server_config *cfg = &w->srv->cfg;
	const uint8_t *raw = nng_msg_body(msg);
	size_t raw_len = nng_msg_len(msg);
	const size_t plen = strlen(RPC_METHOD_PREFIX);
	const int64_t window_ms = (int64_t)cfg->time_window_s * 1000;
	const ProtobufCMethodDescriptor *md = NULL;
	Yuebao__V1__RpcRequest *req = NULL;
	struct pki_principal who;
	uint8_t *signed_bytes = NULL;
	size_t signed_len = 0;
	int64_t now = rpc_now_ms();
	nng_msg *m = NULL;

	snprintf(o->method, sizeof(o->method), "-");
	snprintf(o->caller, sizeof(o->caller), "-");
	expiry_watch_tick(w->srv->expiry, (time_t)(now / 1000));
	/* Read (RECV_SLACK) to be answered: the limit is the RpcRequest's own size. */
	if (raw_len > cfg->max_message) {
		o->status = status_fail(&o->msg, YB_RESOURCE_EXHAUSTED,
		                        _("the request is %zu bytes, over the %zu-byte limit"),
		                        raw_len, cfg->max_message);
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
	if (strncmp(req->method, RPC_METHOD_PREFIX, plen) != 0 ||
	    (md = protobuf_c_service_descriptor_get_method_by_name(&yuebao__v1__returns__descriptor,
	                                                           req->method + plen)) == NULL) {
		o->status = status_fail(&o->msg, YB_UNIMPLEMENTED, _("unknown method '%.64s'"),
		                        req->method);
		goto refuse;
	}
	snprintf(o->method, sizeof(o->method), "%s", md->name);
	if (!rpc_valid_call_id(req->call_id)) {
		o->status =
		    status_fail(&o->msg, YB_INVALID_ARGUMENT,
		                _("call id must be %d lower-case hex digits"), RPC_CALL_ID_LEN);
		goto refuse;
	}
	/* Compared, never subtracted: a hostile timestamp must not overflow. */
	if (req->sent_at_ms < now - window_ms || req->sent_at_ms > now + window_ms) {
		o->status = status_fail(&o->msg, YB_UNAUTHENTICATED,
		                        _("request time is %lld s off the server's clock (allowed: "
		                          "±%d s): a stale or replayed call, or a wrong clock"),
		                        (long long)(req->sent_at_ms / 1000 - now / 1000),
		                        cfg->time_window_s);
		goto refuse;
	}
	/*
	 * The deadline is on the client's clock, which may be off by up to the
	 * window: only a deadline past even allowing for that has surely passed.
	 */
	if (req->deadline_ms != 0 && req->deadline_ms < now - window_ms) {
		o->status = status_fail(&o->msg, YB_DEADLINE_EXCEEDED,
		                        _("the call's deadline passed before it was served"));
		goto refuse;
	}
	if ((o->status = rpc_signed_bytes(req->method, req->call_id, req->sent_at_ms,
	                                  req->deadline_ms, req->payload.data, req->payload.len,
	                                  &signed_bytes, &signed_len)) != YB_OK) {
		status_fail(&o->msg, o->status, _("cannot rebuild the signed bytes"));
		goto refuse;
	}
	/* Held across verification and handler, so a SIGHUP swaps neither mid-call. */
	pthread_rwlock_rdlock(&w->srv->world_lock);
	{
		time_t ca_not_after, crl_next_update;
		pki_verifier_dates(w->srv->world->verifier, &ca_not_after, &crl_next_update);
		o->status =
		    expiry_check_crl(crl_next_update, (time_t)(now / 1000), cfg->zone, &o->msg);
	}
	if (o->status == YB_OK)
		o->status = pki_verify_caller(w->srv->world->verifier, req->caller_cert.data,
		                              req->caller_cert.len, signed_bytes, signed_len,
		                              req->signature.data, req->signature.len,
		                              (time_t)(now / 1000), &who, &o->msg);
	if (o->status == YB_OK) {
		snprintf(o->caller, sizeof(o->caller), "%s/%s", who.role, who.org);
		m = run_call(w, w->srv->world, req, md, &who, raw, raw_len, o);
		record_refusal(w, &who, req, o, msg, raw, raw_len);
	}
	pthread_rwlock_unlock(&w->srv->world_lock);
	if (o->status == YB_OK || m != NULL)
		goto done;
refuse:
	record_refusal(w, NULL, req, o, msg, raw, raw_len);
	m = refusal(req ? req->call_id : NULL, cfg->zone, o);
done:
	if (req != NULL)
		yuebao__v1__rpc_request__free_unpacked(req, NULL);
	free(signed_bytes);
	i18n_set_thread_language(I18N_ENGLISH);
	return m;
}

/* The log line of one request: method, caller, status, time, and why when refused. */
static void log_outcome(const struct server *s, const struct outcome *o, const struct timespec *t0,
                        const struct timespec *t1)
{
	if (s->cfg.quiet)
		return;
	log_line("%s%s %s %s %ldms%s%s%s", RPC_METHOD_PREFIX, o->method, o->caller,
	         status_name(o->status),
	         (long)((t1->tv_sec - t0->tv_sec) * 1000 + (t1->tv_nsec - t0->tv_nsec) / 1000000),
	         o->cached ? " (retry answered from record)" : "", o->status != YB_OK ? ": " : "",
	         o->status != YB_OK ? o->msg.msg : "");
}

/* A free slot, waiting for one if need be; NULL once the server stops. */
static struct slot *slot_take(struct server *s)
{
	struct slot *sl;

	pthread_mutex_lock(&s->slot_lock);
	while (s->free_slots == NULL && !atomic_load(&s->stopping))
		pthread_cond_wait(&s->slot_freed, &s->slot_lock);
	sl = atomic_load(&s->stopping) ? NULL : s->free_slots;
	if (sl != NULL)
		s->free_slots = sl->next_free;
	pthread_mutex_unlock(&s->slot_lock);
	return sl;
}

/* Returns a slot to the pool. Called with slot_lock held. */
static void slot_put_locked(struct slot *sl)
{
	sl->sending = false;
	sl->next_free = sl->srv->free_slots;
	sl->srv->free_slots = sl;
	pthread_cond_signal(&sl->srv->slot_freed);
}

static void slot_put(struct slot *sl)
{
	pthread_mutex_lock(&sl->srv->slot_lock);
	slot_put_locked(sl);
	pthread_mutex_unlock(&sl->srv->slot_lock);
}

/*
 * A reply left, or could not: the slot is free again. Runs on an nng thread,
 * which does not close pipes: a timed-out connection is left to a worker.
 */
static void send_done(void *arg)
{
	struct slot *sl = arg;
	struct server *s = sl->srv;
	int rv = nng_aio_result(sl->send_aio);

	if (rv != 0)
		/* The requester is gone or not reading; its data is stored. */
		nng_msg_free(nng_aio_get_msg(sl->send_aio));
	pthread_mutex_lock(&s->slot_lock);
	if (rv == NNG_ETIMEDOUT && s->n_to_close < MAX_CLOSE_PENDING) {
		bool noted = false;
		for (int i = 0; i < s->n_to_close; i++)
			noted |= nng_pipe_id(s->to_close[i]) == nng_pipe_id(sl->pipe);
		if (!noted)
			s->to_close[s->n_to_close++] = sl->pipe;
	}
	slot_put_locked(sl);
	pthread_mutex_unlock(&s->slot_lock);
}

/* Closes the connections send_done found not reading. From a worker thread. */
static void close_noted_pipes(struct server *s)
{
	nng_pipe pipes[MAX_CLOSE_PENDING];
	int n;

	pthread_mutex_lock(&s->slot_lock);
	n = s->n_to_close;
	memcpy(pipes, s->to_close, (size_t)n * sizeof(pipes[0]));
	s->n_to_close = 0;
	pthread_mutex_unlock(&s->slot_lock);
	for (int i = 0; i < n; i++) {
		log_line("closing a connection that does not read its replies");
		nng_pipe_close(pipes[i]);
	}
}

/*
 * Starts sending rep on the slot's context, unless its connection already
 * has MAX_PENDING_PER_PIPE replies waiting: then rep is dropped, as the peer
 * does not read them anyway.
 */
static void slot_send(struct slot *sl, nng_pipe pipe, nng_msg *rep)
{
	struct server *s = sl->srv;
	int pending = 0;

	pthread_mutex_lock(&s->slot_lock);
	for (int i = 0; i < s->n_slots; i++)
		pending +=
		    s->slots[i].sending && nng_pipe_id(s->slots[i].pipe) == nng_pipe_id(pipe);
	if (pending >= MAX_PENDING_PER_PIPE) {
		slot_put_locked(sl);
		pthread_mutex_unlock(&s->slot_lock);
		nng_msg_free(rep);
		return;
	}
	sl->sending = true;
	sl->pipe = pipe;
	pthread_mutex_unlock(&s->slot_lock);
	nng_aio_set_msg(sl->send_aio, rep);
	nng_ctx_send(sl->ctx, sl->send_aio);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct slot *sl;

	while ((sl = slot_take(w->srv)) != NULL) {
		struct outcome o = {0};
		struct timespec t0, t1;
		nng_msg *msg, *rep;
		nng_pipe pipe;
		int rv;

		close_noted_pipes(w->srv);
		nng_ctx_recv(sl->ctx, w->recv_aio);
		nng_aio_wait(w->recv_aio);
		rv = nng_aio_result(w->recv_aio);
		if (rv != 0) {
			slot_put(sl);
			if (rv == NNG_ECLOSED)
				break;
			continue; /* cancelled to stop, or a peer went away mid-message */
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		msg = nng_aio_get_msg(w->recv_aio);
		pipe = nng_msg_get_pipe(msg);
		rep = serve(w, msg, &o);
		nng_msg_free(msg);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		log_outcome(w->srv, &o, &t0, &t1);
		if (rep == NULL) {
			slot_put(sl);
			continue;
		}
		slot_send(sl, pipe, rep);
	}
	atomic_store(&w->done, 1);
	return NULL;
}

/* Opens the pool of REP contexts with their send aios. */
static int open_slots(struct server *s, struct errbuf *eb)
{
	int rv;

	s->n_slots = s->n_workers * SLOTS_PER_WORKER;
	if ((s->slots = calloc((size_t)s->n_slots, sizeof(*s->slots))) == NULL)
		return status_fail(eb, YB_ENOMEM, _("out of memory"));
	for (int i = 0; i < s->n_slots; i++) {
		struct slot *sl = &s->slots[i];
		sl->srv = s;
		if ((rv = nng_ctx_open(&sl->ctx, s->sock)) != 0 ||
		    (rv = nng_aio_alloc(&sl->send_aio, send_done, sl)) != 0)
			return status_fail(eb, YB_ENOMEM, "cannot set up a reply context: %s",
			                   nng_strerror(rv));
		nng_aio_set_timeout(sl->send_aio, SEND_TIMEOUT_MS);
		sl->next_free = s->free_slots;
		s->free_slots = sl;
	}
	return YB_OK;
}

/*
 * Fills in the connection caps left 0: all the descriptors RLIMIT_NOFILE
 * allows but SERVER_MAX_CONNECTIONS_MARGIN and two per worker (its store
 * connection's database and WAL files), at least 16 connections; and
 * SERVER_MAX_PER_SOURCE_DEFAULT. A cap set above what the descriptors allow
 * is kept, with a warning: past it, accept fails until connections end.
 */
static void default_limits(struct server_config *c)
{
	struct rlimit rl;
	long fds = 1024, spare;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		fds = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT_MAX ? INT_MAX
		                                                            : (long)rl.rlim_cur;
	spare = fds - SERVER_MAX_CONNECTIONS_MARGIN - 2L * c->workers;
	if (c->max_connections == 0)
		c->max_connections =
		    (int)(spare < 16                           ? 16
		          : spare > SERVER_MAX_CONNECTIONS_CAP ? SERVER_MAX_CONNECTIONS_CAP
		                                               : spare);
	else if (c->max_connections > spare)
		log_line(
		    "warning: --max-connections %d is more than the %ld descriptors the process "
		    "may open (RLIMIT_NOFILE) leave for connections: past that, new connections "
		    "wait until others end",
		    c->max_connections, spare);
	if (c->max_per_source == 0)
		c->max_per_source = SERVER_MAX_PER_SOURCE_DEFAULT;
}

/* Creates, configures and starts s->listener on url. Under listener_lock once workers run. */
static int start_listener(struct server *s, const char *url, struct errbuf *eb)
{
	int rv;

	if ((rv = nng_listener_create(&s->listener, s->sock, url)) != 0)
		return status_fail(eb, YB_INVALID_ARGUMENT, "cannot listen on '%s': %s", url,
		                   nng_strerror(rv));
	if ((rv = nng_listener_set_ptr(s->listener, NNG_OPT_TLS_CONFIG, s->tls)) != 0 ||
	    (rv = nng_listener_set_size(s->listener, NNG_OPT_RECVMAXSZ,
	                                s->cfg.max_message + RECV_SLACK)) != 0) {
		nng_listener_close(s->listener);
		return status_fail(eb, YB_ECONNECT, "cannot configure listener: %s",
		                   nng_strerror(rv));
	}
	if ((rv = nng_listener_start(s->listener, 0)) != 0) {
		nng_listener_close(s->listener);
		return status_fail(eb, YB_ECONNECT, "cannot listen on %s: %s", url,
		                   nng_strerror(rv));
	}
	return YB_OK;
}

/* Tells the TLS engine's guard which connections nng made sessions of. */
static void note_session(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	nng_sockaddr sa;

	(void)ev;
	(void)arg;
	if (nng_pipe_get_addr(pipe, NNG_OPT_REMADDR, &sa) == 0)
		tlsengine_guard_note_session(&sa);
}

/*
 * Opens the socket and its listener on cfg.listen_url, and the reaper of
 * connections that never become sessions. The TLS engine (tlsengine.h)
 * never fails a connection with NNG_ECLOSED, which would stop the listener;
 * nng's own TLS layer may, and server_tick then listens again.
 */
static int open_listener(struct server *s, struct errbuf *eb)
{
	const char *url = s->cfg.listen_url;
	int rv, rc, port = 0;

	if ((rv = nng_rep0_open(&s->sock)) != 0)
		return status_fail(eb, YB_ECONNECT, "cannot open socket: %s", nng_strerror(rv));
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, s->cfg.max_message + RECV_SLACK);
	nng_pipe_notify(s->sock, NNG_PIPE_EV_ADD_POST, note_session, NULL);
	/* Before the listener: the guard must count every connection from the first. */
	if ((rc =
	         reaper_start(&(struct reaper_config){SESSION_START_LIMIT_S, s->cfg.max_connections,
	                                              s->cfg.max_per_source, log_line},
	                      &s->reaper, eb)) != YB_OK)
		return rc;
	if ((rc = start_listener(s, url, eb)) != YB_OK)
		return rc;
	s->listening = true;
	nng_listener_get_int(s->listener, NNG_OPT_TCP_BOUND_PORT, &port);
	snprintf(s->url, sizeof(s->url), "%s", url);
	{
		/* Report the bound port when the URL asked for port 0. */
		char *colon = strrchr(s->url, ':');
		if (colon != NULL && strcmp(colon, ":0") == 0)
			snprintf(colon, sizeof(s->url) - (size_t)(colon - s->url), ":%d", port);
	}
	return YB_OK;
}

void server_tick(struct server *s)
{
	struct errbuf eb = {{0}};
	int stalled;

	if (s->url[0] == '\0')
		return; /* not listening (server_serve_bytes) */
	pthread_mutex_lock(&s->listener_lock);
	if (atomic_load(&s->stopping))
		goto out;
	if (s->listening) {
		if ((stalled = tlsengine_guard_stalled(LISTENER_STALL_MS)) == 0)
			goto out;
		log_line("error: nng's listener stopped making sessions of new connections (%d "
		         "negotiated and left waiting, a known nng 1.5.2 defect): listening again "
		         "on %s; the sessions open now end, and their clients retry",
		         stalled, s->url);
		nng_listener_close(s->listener);
		s->listening = false;
		/* nng never frees those: they must not count against the next listener. */
		(void)tlsengine_guard_abandon_stalled(LISTENER_STALL_MS);
	}
	/* s->url has the bound port: the same address and port again. */
	if (start_listener(s, s->url, &eb) != YB_OK) {
		log_line("error: %s; trying again in a second", eb.msg);
		goto out;
	}
	s->listening = true;
	log_line("listening again on %s", s->url);
out:
	pthread_mutex_unlock(&s->listener_lock);
}

static int start_worker(struct server *s, struct worker *w, struct errbuf *eb)
{
	int rc, rv;

	w->srv = s;
	if ((rc = store_open(s->cfg.db_path, &w->store, eb)) != YB_OK)
		return rc;
	if ((rv = nng_aio_alloc(&w->recv_aio, NULL, NULL)) != 0)
		return status_fail(eb, YB_ENOMEM, "cannot set up worker: %s", nng_strerror(rv));
	nng_aio_set_timeout(w->recv_aio, NNG_DURATION_INFINITE);
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
		return status_fail(eb, YB_ENOMEM, "cannot start worker thread");
	w->started = 1;
	return YB_OK;
}

/* How long the start-up integrity check may take before the daemon serves. */
#define QUICK_CHECK_MS 5000

/*
 * Before serving: a private key or a database that others may read is
 * logged (served all the same: the administrator may have reasons), and a
 * damaged database refuses the start, so that damage is found now and not
 * at the first write.
 */
static int check_files(const struct server_config *cfg, struct errbuf *eb)
{
	struct errbuf why = {{0}};
	struct timespec t0, t1;
	struct stat st;
	bool complete;
	int rc;

	if (pki_check_key_mode(cfg->key_path, &why) == YB_PERMISSION_DENIED)
		log_line("warning: %s", why.msg);
	if (stat(cfg->db_path, &st) == 0 && (st.st_mode & 077) != 0)
		log_line(
		    "warning: database %s may be read by others (mode %04o); run 'chmod 600 %s' "
		    "(and its -wal and -shm files)",
		    cfg->db_path, (unsigned)(st.st_mode & 07777), cfg->db_path);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = store_quick_check(cfg->db_path, QUICK_CHECK_MS, &complete, &why)) != YB_OK)
		return status_fail(
		    eb, rc, rc == YB_DATA_LOSS ? "%s; restore it from a backup" : "%s", why.msg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_line("database %s: integrity check (PRAGMA quick_check) %s in %lld ms", cfg->db_path,
	         complete ? "passed"
	                  : "stopped unfinished after its time limit, no damage found so far,",
	         (long long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
	return YB_OK;
}

int server_open(const struct server_config *cfg, struct server **out, struct errbuf *eb)
{
	struct server *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL)
		return status_fail(eb, YB_ENOMEM, _("out of memory"));
	assert(cfg->zone != NULL);
	s->cfg = *cfg;
	default_limits(&s->cfg);
	{
		/* Prefer the writer, so a SIGHUP reload is not starved by a stream of reads. */
		pthread_rwlockattr_t attr;
		pthread_rwlockattr_init(&attr);
		pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&s->world_lock, &attr);
		pthread_rwlockattr_destroy(&attr);
	}
	pthread_mutex_init(&s->slot_lock, NULL);
	pthread_mutex_init(&s->listener_lock, NULL);
	pthread_mutex_init(&s->trust_lock, NULL);
	pthread_cond_init(&s->slot_freed, NULL);
	if (cfg->catalog_dir != NULL)
		snprintf(s->catalog_dir, sizeof(s->catalog_dir), "%s", cfg->catalog_dir);
	else if ((rc = catalog_default_dir(s->catalog_dir, sizeof(s->catalog_dir), eb)) != YB_OK)
		goto fail;
	if ((rc = handlers_check(eb)) != YB_OK || (rc = check_files(cfg, eb)) != YB_OK ||
	    (rc = ratelimit_new(1024, &s->refusals, eb)) != YB_OK ||
	    (rc = batch_open(cfg->db_path, &s->batch, eb)) != YB_OK ||
	    (rc = pki_identity_load(cfg->cert_path, cfg->key_path, &s->signer, eb)) != YB_OK ||
	    (rc = world_load(s, &s->world, eb)) != YB_OK)
		goto fail;
	/* Without a listen URL: one worker's state, served by the caller's thread. */
	s->n_workers = cfg->listen_url != NULL ? cfg->workers : 1;
	if ((s->workers = calloc((size_t)s->n_workers, sizeof(*s->workers))) == NULL) {
		rc = status_fail(eb, YB_ENOMEM, _("out of memory"));
		goto fail;
	}
	if (cfg->listen_url == NULL) {
		s->workers[0].srv = s;
		if ((rc = store_open(cfg->db_path, &s->workers[0].store, eb)) != YB_OK)
			goto fail;
		*out = s;
		return YB_OK;
	}
	{
		struct expiry_dates d;
		time_t now = time(NULL);
		world_dates(s, s->world, &d);
		if ((rc = tls_open(s, d.at[EXPIRY_CRL], now, eb)) != YB_OK)
			goto fail;
		expiry_report(&d, now, log_line);
	}
	/* The watch before the workers, which tell it the time of each request. */
	if ((rc = open_listener(s, eb)) != YB_OK || (rc = open_slots(s, eb)) != YB_OK ||
	    (rc = expiry_watch_start(check_expiry, s, time(NULL), &s->expiry, eb)) != YB_OK)
		goto fail;
	for (int i = 0; i < s->n_workers; i++)
		if ((rc = start_worker(s, &s->workers[i], eb)) != YB_OK)
			goto fail;
	log_line("yuebaod %s listening on %s with %d workers, database %s, time zone %s, "
	         "at most %d connections (%d from one address)",
	         YB_VERSION, s->url, s->n_workers, cfg->db_path, tz_name(cfg->zone),
	         s->cfg.max_connections, s->cfg.max_per_source);
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

int server_serve_bytes(struct server *s, const uint8_t *req, size_t len, uint8_t **reply,
                       size_t *reply_len, struct errbuf *eb)
{
	struct outcome o = {0};
	struct timespec t0, t1;
	nng_msg *msg, *rep;

	if (s->cfg.listen_url != NULL)
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   "server_serve_bytes: this server serves the network");
	/* nng refuses such a message before the pipeline sees it; so does this. */
	if (len > s->cfg.max_message + RECV_SLACK)
		return status_fail(eb, YB_RESOURCE_EXHAUSTED,
		                   "a request of %zu bytes is over the %zu-byte limit", len,
		                   s->cfg.max_message);
	if (nng_msg_alloc(&msg, len) != 0)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	if (len > 0)
		memcpy(nng_msg_body(msg), req, len);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rep = serve(&s->workers[0], msg, &o);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	nng_msg_free(msg);
	log_outcome(s, &o, &t0, &t1);
	if (rep == NULL)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	*reply_len = nng_msg_len(rep);
	if ((*reply = malloc(*reply_len + 1)) == NULL) {
		nng_msg_free(rep);
		return status_fail(eb, YB_ENOMEM, "out of memory");
	}
	memcpy(*reply, nng_msg_body(rep), *reply_len);
	nng_msg_free(rep);
	return YB_OK;
}

/* Replies still being sent. */
static int replies_in_flight(struct server *s)
{
	int n = 0;

	pthread_mutex_lock(&s->slot_lock);
	for (int i = 0; s->slots != NULL && i < s->n_slots; i++)
		n += s->slots[i].sending;
	pthread_mutex_unlock(&s->slot_lock);
	return n;
}

/*
 * Stops the workers: each finishes (and answers) the request it is serving;
 * idle ones are woken by cancelling their receive, repeatedly, since a
 * worker may be between its stop check and its next receive. Then the
 * replies in flight get the rest of the grace period to leave.
 */
static void stop_workers(struct server *s)
{
	struct timespec pause = {0, 20 * 1000000};
	int waited_ms = 0, running;

	atomic_store(&s->stopping, 1);
	pthread_mutex_lock(&s->slot_lock);
	pthread_cond_broadcast(&s->slot_freed);
	pthread_mutex_unlock(&s->slot_lock);
	pthread_mutex_lock(&s->listener_lock);
	if (s->listening)
		nng_listener_close(s->listener);
	s->listening = false;
	pthread_mutex_unlock(&s->listener_lock);
	do {
		running = 0;
		for (int i = 0; s->workers != NULL && i < s->n_workers; i++) {
			struct worker *w = &s->workers[i];
			if (w->started && !atomic_load(&w->done)) {
				running++;
				nng_aio_cancel(w->recv_aio);
			}
		}
		if (running > 0)
			nanosleep(&pause, NULL);
		waited_ms += 20;
	} while (running > 0 && waited_ms < STOP_GRACE_MS);
	while (replies_in_flight(s) > 0 && waited_ms < STOP_GRACE_MS) {
		nanosleep(&pause, NULL);
		waited_ms += 20;
	}
	/* Past the grace period, closing the socket ends whatever is left. */
	if (nng_socket_id(s->sock) > 0)
		nng_close(s->sock);
	for (int i = 0; s->workers != NULL && i < s->n_workers; i++) {
		struct worker *w = &s->workers[i];
		if (w->started)
			pthread_join(w->thread, NULL);
		if (w->recv_aio != NULL)
			nng_aio_free(w->recv_aio);
		store_close(w->store);
	}
}

void server_close(struct server *s)
{
	if (s == NULL)
		return;
	stop_workers(s);
	expiry_watch_stop(s->expiry); /* after the workers, which tick it */
	reaper_stop(s->reaper);       /* after the socket: no more connections */
	free(s->workers);
	/* The socket is closed: every send has completed, and nng_aio_free waits for send_done. */
	for (int i = 0; s->slots != NULL && i < s->n_slots; i++)
		if (s->slots[i].send_aio != NULL)
			nng_aio_free(s->slots[i].send_aio);
	free(s->slots);
	pthread_mutex_destroy(&s->slot_lock);
	pthread_mutex_destroy(&s->listener_lock);
	pthread_mutex_destroy(&s->trust_lock);
	pthread_cond_destroy(&s->slot_freed);
	if (s->tls != NULL)
		nng_tls_config_free(s->tls);
	if (s->tls_retired != NULL)
		nng_tls_config_free(s->tls_retired);
	world_free(s->world);
	if (s->batch != NULL && !s->cfg.quiet) {
		uint64_t batches, calls;
		batch_stats(s->batch, &batches, &calls);
		if (batches > 0)
			log_line(
			    "group commit: %llu writing calls in %llu commits (%.1f per commit)",
			    (unsigned long long)calls, (unsigned long long)batches,
			    (double)calls / (double)batches);
	}
	/*
	 * The refusals still counted get their entry. Not for a server of
	 * server_serve_bytes (the envelope fuzz target), which closes from an
	 * exit handler, when OpenSSL may already be gone.
	 */
	if (s->batch != NULL && s->refusals != NULL && s->signer != NULL &&
	    s->cfg.listen_url != NULL)
		audit_dropped_refusals(s, INT64_MAX);
	ratelimit_free(s->refusals);
	batch_close(s->batch);
	pki_identity_free(s->signer);
	pthread_rwlock_destroy(&s->world_lock);
	free(s);
}
