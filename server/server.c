/*
 * server.c - the listener, the worker pool, and what the daemon loads.
 *
 * Each worker owns an nng REP context, an aio and a SQLite connection for
 * reading, and serves one request at a time, synchronously, through the
 * request pipeline (pipeline.h); N workers serve N requests at once. The
 * server also loads the org tree, catalog and CA (world.h) at start and on
 * SIGHUP, and keeps nng's listener serving (server_tick).
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
#include <nng/protocol/reqrep0/rep.h>

#include "batch.h"
#include "clock.h"
#include "daemons.h"
#include "expiry.h"
#include "handlers.h"
#include "i18n.h"
#include "listener.h"
#include "log.h"
#include "pipeline.h"
#include "pki.h"
#include "reaper.h"
#include "rpc.h"
#include "store.h"
#include "tlsengine.h"
#include "world.h"

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
	nng_socket sock;
	struct listener *listener; /* NULL for a server of server_serve_bytes */
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
	struct pipeline *pipeline;   /* what each request goes through */
	struct daemons *daemons;     /* this daemon's note among those on the database */
	char server_subject[256];
	atomic_int stopping;
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
static nng_msg *serve(struct worker *w, nng_msg *msg, struct pipeline_outcome *o)
{
	nng_msg *m;

	expiry_watch_tick(w->srv->expiry, time(NULL));
	pthread_rwlock_rdlock(&w->srv->world_lock);
	m = pipeline_serve(w->srv->pipeline, w->store, w->srv->world, msg, o);
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
	/* Held by some thread (pthreads cannot say which): a free lock fails too. */
	assert(pthread_mutex_trylock(&sl->srv->slot_lock) == EBUSY);
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
		struct pipeline_outcome o = {0};
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
		log_msg(
		    LOG_LEVEL_WARNING,
		    "--max-connections %d is more than the %ld descriptors the process "
		    "may open (RLIMIT_NOFILE) leave for connections: past that, new connections "
		    "wait until others end",
		    c->max_connections, spare);
	if (c->max_per_source == 0)
		c->max_per_source = SERVER_MAX_PER_SOURCE_DEFAULT;
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
static int open_listener(struct server *s, time_t crl_next_update, struct errbuf *eb)
{
	const struct listener_config lc = {.url = s->cfg.listen_url,
	                                   .cert_path = s->cfg.cert_path,
	                                   .key_path = s->cfg.key_path,
	                                   .ca_path = s->cfg.ca_path,
	                                   .crl_path = s->cfg.crl_path,
	                                   .tls13_only = s->cfg.tls_min == SERVER_TLS_MIN_1_3,
	                                   .recv_max = s->cfg.max_message + RECV_SLACK};
	int rv, rc;

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
	return listener_open(s->sock, &lc, crl_next_update, time(NULL), &s->listener, eb);
}

void server_tick(struct server *s)
{
	if (s->listener != NULL)
		listener_tick(s->listener, LISTENER_STALL_MS);
	if (daemons_due(s->daemons, clock_now_ms()))
		note_daemon(s);
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

	/*
	 * A server key others may read is refused, as sshd refuses its host
	 * keys; the group may read it (root:yuebao 0640, as Debian's ssl-cert
	 * group does), the daemon's own user being one way to own it.
	 */
	if ((rc = pki_check_key_mode(cfg->key_path, 007, &why)) == YB_PERMISSION_DENIED)
		return status_fail(eb, rc, "%s", why.msg);
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
	pthread_mutex_init(&s->slot_lock, NULL);
	pthread_mutex_init(&s->trust_lock, NULL);
	pthread_cond_init(&s->slot_freed, NULL);
	if (cfg->catalog_dir != NULL)
		snprintf(s->catalog_dir, sizeof(s->catalog_dir), "%s", cfg->catalog_dir);
	else if ((rc = catalog_default_dir(s->catalog_dir, sizeof(s->catalog_dir), eb)) != YB_OK)
		goto fail;
	if ((rc = handlers_check(eb)) != YB_OK || (rc = check_files(cfg, eb)) != YB_OK ||
	    (rc = batch_open(cfg->db_path, &s->batch, eb)) != YB_OK ||
	    (rc = pki_identity_load(cfg->cert_path, cfg->key_path, &s->signer, eb)) != YB_OK ||
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
	if ((rc = open_slots(s, eb)) != YB_OK ||
	    (rc = expiry_watch_start(check_expiry, s, time(NULL), &s->expiry, eb)) != YB_OK)
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
	if (s->listener != NULL)
		listener_stop(s->listener);
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
	listener_free(s->listener);   /* after the socket and the watch, which checks its CRL */
	free(s->workers);
	/* The socket is closed: every send has completed, and nng_aio_free waits for send_done. */
	for (int i = 0; s->slots != NULL && i < s->n_slots; i++)
		if (s->slots[i].send_aio != NULL)
			nng_aio_free(s->slots[i].send_aio);
	free(s->slots);
	pthread_mutex_destroy(&s->slot_lock);
	pthread_mutex_destroy(&s->trust_lock);
	pthread_cond_destroy(&s->slot_freed);
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
