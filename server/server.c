/*
 * server.c - the listener, the worker pool, and what the daemon loads.
 *
 * The listener makes a session (session.h) of each connection; sessions
 * put their requests in one inbox. Each worker owns a store connection for
 * reading, takes one request at a time from the inbox, serves it
 * synchronously through the request pipeline (pipeline.h) and hands the
 * reply back to its session, which sends it without the worker waiting;
 * N workers serve N requests at once. The server also loads the org tree,
 * catalog and CA (world.h) at start and on SIGHUP.
 */
#include "server.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>

#include "batch.h"
#include "clock.h"
#include "daemons.h"
#include "expiry.h"
#include "handlers.h"
#include "i18n.h"
#include "keyuri.h"
#include "listener.h"
#include "log.h"
#include "pipeline.h"
#include "pki.h"
#include "reaper.h"
#include "rpc.h"
#include "session.h"
#include "store.h"
#include "tlsengine.h"
#include "world.h"

/* How long a reply may wait for a peer that does not read; then its connection is closed. */
#define SEND_TIMEOUT_MS 10000
/*
 * Requests of one connection not yet answered. A REQ peer reads each reply
 * before its next request on that context, so a connection above this is
 * pipelining requests without reading: it is not read until a reply has
 * left. Kept small so that no connection holds many workers.
 */
#define MAX_PENDING_PER_SESSION 2
/*
 * How long an accepted connection may take to finish its TLS handshake and
 * send the SP header (the reaper also ends one whose handshake has not
 * finished by then).
 */
#define SESSION_START_LIMIT_S 10
/* How long the rest of a request may take once its length has come. */
#define REQUEST_STALL_LIMIT_S 60
/* How long SIGTERM waits for requests in flight before closing the connections. */
#define STOP_GRACE_MS 10000

struct worker {
	struct server *srv;
	pthread_t thread;
	struct store *store;
	int started;
};

/*
 * What a session may read past --max-message: its 4-byte request id, and a
 * request a little over the limit, which is then answered
 * RESOURCE_EXHAUSTED rather than cut off. A larger one closes the
 * connection unread.
 */
#define RECV_SLACK (64u * 1024)

struct server {
	struct server_config cfg;
	char catalog_dir[PATH_MAX];
	struct session_inbox *inbox; /* NULL for a server of server_serve_bytes */
	struct listener *listener;   /* likewise */
	/* Serialises SIGHUP reloads with the daily expiry check. */
	pthread_mutex_t trust_lock;
	struct expiry_watch *expiry;
	struct reaper *reaper; /* of connections that never start a session */
	pthread_rwlock_t world_lock;
	struct world *world;
	struct worker *workers;
	int n_workers;
	struct batch *batch;         /* the workers' one writing connection */
	struct pki_identity *signer; /* the log key: signs audit checkpoints */
	struct pipeline *pipeline;   /* what each request goes through */
	struct daemons *daemons;     /* this daemon's note among those on the database */
	char server_subject[256];
	/* Since the last daily summary: calls, calls refused, returns stored. */
	atomic_ullong day_calls, day_refused, day_stored;
};

/* The daily check (on the expiry watch's thread, see expiry.h). */
static void check_expiry(void *arg)
{
	struct server *s = arg;
	time_t now = time(NULL);
	struct expiry_dates d;

	pthread_mutex_lock(&s->trust_lock);
	pthread_rwlock_rdlock(&s->world_lock);
	world_dates(&s->cfg, s->world, &d);
	pthread_rwlock_unlock(&s->world_lock);
	expiry_report(&d, now);
	if (s->listener != NULL)
		listener_check_crl(s->listener, now);
	log_msg(LOG_LEVEL_INFO, "daily summary: %llu calls, %llu refused, %llu returns stored",
	        (unsigned long long)atomic_exchange(&s->day_calls, 0),
	        (unsigned long long)atomic_exchange(&s->day_refused, 0),
	        (unsigned long long)atomic_exchange(&s->day_stored, 0));
	pthread_mutex_unlock(&s->trust_lock);
}

/* Notes the digests of the world now served among the daemons on the database (daemons.h). */
static void note_daemon(struct server *s)
{
	char orgs[65], cat[65];

	pthread_rwlock_rdlock(&s->world_lock);
	snprintf(orgs, sizeof(orgs), "%s", s->world->orgs->digest);
	snprintf(cat, sizeof(cat), "%s", s->world->cat->digest);
	pthread_rwlock_unlock(&s->world_lock);
	daemons_note(s->daemons, s->batch, orgs, cat, clock_now_ms());
}

int server_reload(struct server *s, struct errbuf *eb)
{
	struct world *w = NULL, *old;
	struct expiry_dates d;
	time_t now = time(NULL);
	int rc;

	pthread_mutex_lock(&s->trust_lock);
	rc = world_load(&s->cfg, s->catalog_dir, s->batch, s->signer, &w, eb);
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
		world_dates(&s->cfg, w, &d);
		expiry_report(&d, now);
		/* The TLS layer takes the CRL just loaded: revoked peers get no session. */
		listener_use_crl(s->listener, d.at[EXPIRY_CRL], now);
	}
	pthread_mutex_unlock(&s->trust_lock);
	/* From here on every request sees the new world: scripts wait for this line. */
	log_line("reloaded: now serving the org tree, catalog, CA and CRL just loaded");
	note_daemon(s);
	return YB_OK;
}

/* One request, through the pipeline, with the world held so a SIGHUP swaps nothing mid-call. */
static nng_msg *serve(struct worker *w, const uint8_t *raw, size_t len, const char *source,
                      struct pipeline_outcome *o)
{
	nng_msg *m;

	expiry_watch_tick(w->srv->expiry, time(NULL));
	pthread_rwlock_rdlock(&w->srv->world_lock);
	m = pipeline_serve(w->srv->pipeline, w->store, w->srv->world, raw, len, source, o);
	pthread_rwlock_unlock(&w->srv->world_lock);
	return m;
}

/*
 * The log line of one request: method, caller, status, time, and why when
 * refused; a later page of a paged answer only at debug level. Counted for
 * the daily summary.
 */
static void log_outcome(struct server *s, const struct pipeline_outcome *o,
                        const struct timespec *t0, const struct timespec *t1)
{
	char method[96];

	atomic_fetch_add(&s->day_calls, 1);
	if (o->status != YB_OK)
		atomic_fetch_add(&s->day_refused, 1);
	else if (!o->cached && strcmp(o->method, "Submit") == 0)
		atomic_fetch_add(&s->day_stored, 1);
	if (s->cfg.quiet)
		return;
	snprintf(method, sizeof(method), "%s%s", RPC_METHOD_PREFIX, o->method);
	log_call(o->continued && o->status == YB_OK ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO, method,
	         o->caller, status_name(o->status),
	         (long)((t1->tv_sec - t0->tv_sec) * 1000 + (t1->tv_nsec - t0->tv_nsec) / 1000000),
	         o->cached            ? "(retry answered from record)"
	         : o->status != YB_OK ? o->msg.msg
	                              : "");
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct session_request *r;

	while ((r = session_inbox_take(w->srv->inbox)) != NULL) {
		struct pipeline_outcome o = {0};
		struct timespec t0, t1;
		const uint8_t *body;
		size_t len;
		nng_msg *rep;

		body = session_request_body(r, &len);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rep = serve(w, body, len, session_request_source(r), &o);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		log_outcome(w->srv, &o, &t0, &t1);
		session_reply(r, rep);
	}
	return NULL;
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
		log_msg(
		    LOG_LEVEL_WARNING,
		    "--max-connections %d is more than the %ld descriptors the process "
		    "may open (RLIMIT_NOFILE) leave for connections: past that, new connections "
		    "wait until others end",
		    c->max_connections, spare);
	if (c->max_per_source == 0)
		c->max_per_source = SERVER_MAX_PER_SOURCE_DEFAULT;
}

/*
 * Opens the inbox and the listener on cfg.listen_url, and the reaper of
 * connections that never start a session.
 */
static int open_listener(struct server *s, time_t crl_next_update, struct errbuf *eb)
{
	const struct listener_config lc = {.url = s->cfg.listen_url,
	                                   .cert_path = s->cfg.cert_path,
	                                   .key_path = s->cfg.key_path,
	                                   .ca_path = s->cfg.ca_path,
	                                   .crl_path = s->cfg.crl_path,
	                                   .tls13_only = s->cfg.tls_min == SERVER_TLS_MIN_1_3};
	const struct session_limits sl = {.recv_max = s->cfg.max_message + RECV_SLACK,
	                                  .start_limit_ms = SESSION_START_LIMIT_S * 1000,
	                                  .stall_limit_ms = REQUEST_STALL_LIMIT_S * 1000,
	                                  .send_timeout_ms = SEND_TIMEOUT_MS,
	                                  .max_pending = MAX_PENDING_PER_SESSION,
	                                  .log = log_line};
	int rc;

	if ((rc = session_inbox_new(&sl, &s->inbox, eb)) != YB_OK)
		return rc;
	/* Before the listener: the guard must count every connection from the first. */
	if ((rc =
	         reaper_start(&(struct reaper_config){SESSION_START_LIMIT_S, s->cfg.max_connections,
	                                              s->cfg.max_per_source, log_line},
	                      &s->reaper, eb)) != YB_OK)
		return rc;
	return listener_open(s->inbox, &lc, crl_next_update, time(NULL), &s->listener, eb);
}

void server_tick(struct server *s)
{
	if (daemons_due(s->daemons, clock_now_ms()))
		note_daemon(s);
}

static int start_worker(struct server *s, struct worker *w, struct errbuf *eb)
{
	int rc;

	w->srv = s;
	if ((rc = store_open(s->cfg.db_path, &w->store, eb)) != YB_OK)
		return rc;
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

	/*
	 * A server key others may read is refused, as sshd refuses its host
	 * keys; the group may read it (root:yuebao 0640, as Debian's ssl-cert
	 * group does), the daemon's own user being one way to own it.
	 */
	if ((rc = pki_check_key_mode(cfg->key_path, 007, &why)) == YB_PERMISSION_DENIED)
		return status_fail(eb, rc, "%s", why.msg);
	{
		/* The TLS pair is named first when it is what is missing (the log key comes next).
		 */
		struct pki_identity *tls = NULL;
		rc = pki_identity_load(cfg->cert_path, cfg->key_path, &tls, eb);
		pki_identity_free(tls);
		if (rc != YB_OK)
			return rc;
	}
	if (store_is_postgres(cfg->db_path))
		return YB_OK; /* its server keeps its files and checks its pages */
	if (stat(cfg->db_path, &st) == 0 && (st.st_mode & 007) != 0)
		log_msg(LOG_LEVEL_WARNING,
		        "database %s may be read by others (mode %04o); run 'chmod 640 %s' "
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

/*
 * The log key and its certificate (cfg's, or log.crt and log.key beside
 * the server certificate). A key file others may read is refused, as the
 * server key is; whether the certificate is a log certificate of this CA
 * that signed the log so far, world_load checks.
 */
static int load_log_key(const struct server_config *cfg, struct pki_identity **out,
                        struct errbuf *eb)
{
	char cert[PATH_MAX], key[PATH_MAX];
	const char *slash = strrchr(cfg->cert_path, '/');
	int dir = slash != NULL ? (int)(slash - cfg->cert_path + 1) : 0;
	struct errbuf why = {{0}};
	int rc;

	snprintf(cert, sizeof(cert), "%.*slog.crt", dir, cfg->cert_path);
	snprintf(key, sizeof(key), "%.*slog.key", dir, cfg->cert_path);
	if (cfg->log_cert_path != NULL)
		snprintf(cert, sizeof(cert), "%s", cfg->log_cert_path);
	if (cfg->log_key_path != NULL)
		snprintf(key, sizeof(key), "%s", cfg->log_key_path);
	if (!keyuri_is_uri(key) &&
	    (rc = pki_check_key_mode(key, 007, &why)) == YB_PERMISSION_DENIED)
		return status_fail(eb, rc, "%s", why.msg);
	if ((rc = pki_identity_load(cert, key, out, &why)) != YB_OK)
		return status_fail(
		    eb, rc,
		    _("log key: %s (the audit log's checkpoints are signed with a "
		      "key of their own: yuebao-certs init makes log.crt and log.key, "
		      "`yuebao-certs log DIR` for an older CA; give --log-cert and "
		      "--log-key when they are not beside --cert)"),
		    why.msg);
	{
		struct pki_principal who;
		size_t len = 0;
		const uint8_t *der = pki_identity_cert(*out, &len);
		if (pki_describe_cert(der, len, &who) == YB_OK)
			log_line(
			    "audit checkpoints are signed by the log key %.16s (certificate %s, "
			    "key %.*s)",
			    who.key_fingerprint, cert, (int)strcspn(key, "?"), key);
	}
	return YB_OK;
}

int server_open(const struct server_config *cfg, struct server **out, struct errbuf *eb)
{
	struct server *s = calloc(1, sizeof(*s));
	char db_shown[512];
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
	pthread_mutex_init(&s->trust_lock, NULL);
	if (cfg->catalog_dir != NULL)
		snprintf(s->catalog_dir, sizeof(s->catalog_dir), "%s", cfg->catalog_dir);
	else if ((rc = catalog_default_dir(s->catalog_dir, sizeof(s->catalog_dir), eb)) != YB_OK)
		goto fail;
	if ((rc = handlers_check(eb)) != YB_OK || (rc = check_files(cfg, eb)) != YB_OK ||
	    (rc = batch_open(cfg->db_path, &s->batch, eb)) != YB_OK ||
	    (rc = load_log_key(cfg, &s->signer, eb)) != YB_OK ||
	    (rc = daemons_new(clock_now_ms(), &s->daemons, eb)) != YB_OK ||
	    (rc = pipeline_new(&(struct pipeline_config){.max_message = cfg->max_message,
	                                                 .time_window_s = cfg->time_window_s,
	                                                 .zone = cfg->zone,
	                                                 .daemon_id = daemons_id(s->daemons)},
	                       s->batch, s->signer, &s->pipeline, eb)) != YB_OK ||
	    (rc = world_load(&s->cfg, s->catalog_dir, s->batch, s->signer, &s->world, eb)) != YB_OK)
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
		note_daemon(s);
		*out = s;
		return YB_OK;
	}
	{
		struct expiry_dates d;
		world_dates(&s->cfg, s->world, &d);
		expiry_report(&d, time(NULL));
		if ((rc = open_listener(s, d.at[EXPIRY_CRL], eb)) != YB_OK)
			goto fail;
	}
	/* The watch before the workers, which tell it the time of each request. */
	if ((rc = expiry_watch_start(check_expiry, s, time(NULL), &s->expiry, eb)) != YB_OK)
		goto fail;
	for (int i = 0; i < s->n_workers; i++)
		if ((rc = start_worker(s, &s->workers[i], eb)) != YB_OK)
			goto fail;
	store_path_shown(cfg->db_path, db_shown, sizeof(db_shown));
	log_line("yuebaod %s listening on %s with %d workers, database %s, time zone %s, "
	         "at most %d connections (%d from one address)",
	         YB_VERSION, listener_url(s->listener), s->n_workers, db_shown, tz_name(cfg->zone),
	         s->cfg.max_connections, s->cfg.max_per_source);
	daemons_set_listen(s->daemons, listener_url(s->listener));
	note_daemon(s);
	*out = s;
	return YB_OK;
fail:
	server_close(s);
	return rc;
}

const char *server_url(const struct server *s)
{
	return s->listener != NULL ? listener_url(s->listener) : "";
}

int server_serve_bytes(struct server *s, const uint8_t *req, size_t len, uint8_t **reply,
                       size_t *reply_len, struct errbuf *eb)
{
	struct pipeline_outcome o = {0};
	struct timespec t0, t1;
	nng_msg *rep;

	if (s->cfg.listen_url != NULL)
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   "server_serve_bytes: this server serves the network");
	/* A session closes on such a message before the pipeline sees it; so does this. */
	if (len > s->cfg.max_message + RECV_SLACK)
		return status_fail(eb, YB_RESOURCE_EXHAUSTED,
		                   "a request of %zu bytes is over the %zu-byte limit", len,
		                   s->cfg.max_message);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rep = serve(&s->workers[0], req, len, "addr:?", &o);
	clock_gettime(CLOCK_MONOTONIC, &t1);
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

/*
 * Stops the workers: the listener stops, the inbox takes no more requests,
 * and each worker finishes (and answers) the request it is serving. Then
 * the replies still being sent get the rest of the grace period to leave,
 * and the sessions are closed.
 */
static void stop_workers(struct server *s)
{
	struct timespec pause = {0, 20 * 1000000};
	int waited_ms = 0;

	if (s->listener != NULL)
		listener_stop(s->listener);
	if (s->inbox != NULL)
		session_inbox_drain(s->inbox);
	for (int i = 0; s->workers != NULL && i < s->n_workers; i++) {
		struct worker *w = &s->workers[i];
		if (w->started)
			pthread_join(w->thread, NULL);
		store_close(w->store);
	}
	if (s->inbox == NULL)
		return;
	while (session_inbox_sending(s->inbox) > 0 && waited_ms < STOP_GRACE_MS) {
		nanosleep(&pause, NULL);
		waited_ms += 20;
	}
	session_inbox_close(s->inbox);
}

void server_close(struct server *s)
{
	if (s == NULL)
		return;
	stop_workers(s);
	expiry_watch_stop(s->expiry); /* after the workers, which tick it */
	listener_free(s->listener);   /* after the watch, which checks its CRL */
	session_inbox_free(s->inbox); /* waits for every session to be freed */
	reaper_stop(s->reaper);       /* after the sessions: no more connections */
	free(s->workers);
	pthread_mutex_destroy(&s->trust_lock);
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
	if (s->pipeline != NULL && s->cfg.listen_url != NULL)
		pipeline_audit_held(s->pipeline);
	pipeline_free(s->pipeline);
	if (s->daemons != NULL)
		daemons_leave(s->daemons, s->batch);
	daemons_free(s->daemons);
	batch_close(s->batch);
	pki_identity_free(s->signer);
	pthread_rwlock_destroy(&s->world_lock);
	free(s);
}
