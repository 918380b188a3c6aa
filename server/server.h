/*
 * server.h - the daemon: the TLS listener, the worker pool, the envelope
 * checks that run before any handler, and the loaded org tree and catalog.
 */
#ifndef YB_SERVER_H
#define YB_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "tz.h"

/* The oldest TLS version the listener accepts. */
enum server_tls_min { SERVER_TLS_MIN_1_2 = 0, SERVER_TLS_MIN_1_3 };

struct server_config {
	/*
	 * tls+tcp://127.0.0.1:7443; port 0 picks a free one. NULL opens the
	 * daemon without network (no TLS, no listener, no worker threads):
	 * requests then reach it only through server_serve_bytes.
	 */
	const char *listen_url;
	const char *db_path;
	const char *cert_path, *key_path, *ca_path, *crl_path; /* crl may be NULL */
	/*
	 * The log certificate (OU=log) and its key, a file or a URI (keyuri.h):
	 * they sign the audit log's checkpoints, the TLS key never does. NULL:
	 * log.crt and log.key in cert_path's folder.
	 */
	const char *log_cert_path, *log_key_path;
	enum server_tls_min tls_min; /* default TLS 1.2 */
	const char *orgs_path;
	const char *catalog_dir; /* the default catalog when NULL */
	int workers;             /* concurrent requests served, 1..256 */
	/*
	 * TCP connections open at once, in all and from one remote address
	 * (reaper.h); when full, the oldest unauthenticated one is closed, or
	 * the new one refused. 0: the descriptor limit (RLIMIT_NOFILE) less
	 * SERVER_MAX_CONNECTIONS_MARGIN and 2 per worker, and
	 * SERVER_MAX_PER_SOURCE_DEFAULT.
	 */
	int max_connections, max_per_source;
	int time_window_s;  /* accepted clock difference, default 300 */
	size_t max_message; /* bytes, default 1 MiB */
	int due_day;        /* default 5 */
	/*
	 * The deployment's time zone, required (borrowed: outlives the server): deadlines,
	 * "has the month begun" and every time shown to people follow its wall
	 * clock, and every reply names it. The log stays in UTC.
	 */
	const struct tz *zone;
	int outlier_factor; /* default 3; 0 turns the median check off */
	int stock_jump_pct; /* default 50; 0 turns the stock check off */
	int quiet;          /* no log line per request (the fuzz target) */
};

/* Descriptors kept below RLIMIT_NOFILE for logs, certificates, nng itself (and 2 per worker). */
#define SERVER_MAX_CONNECTIONS_MARGIN 64
#define SERVER_MAX_PER_SOURCE_DEFAULT 64
/* The largest cap, default or set: the guard's walk is linear in connections. */
#define SERVER_MAX_CONNECTIONS_CAP 65536

struct server;

/*
 * Loads the org tree and catalog, opens the store (one connection per
 * worker), starts listening and starts the workers, and the daily check of
 * the certificates' and CRL's dates (expiry.h), which it also runs at once.
 * Past the CRL's next update every request is refused FAILED_PRECONDITION.
 * eb names the file, setting or address that failed. The caller owns *out
 * (server_close).
 */
int server_open(const struct server_config *cfg, struct server **out, struct errbuf *eb);

/* The URL actually bound (with the chosen port when 0 was asked for). */
const char *server_url(const struct server *s);

/*
 * Reloads the org tree, the catalog, and the CA and CRL that every request's
 * certificate is checked against (SIGHUP), so a revocation takes effect
 * without a restart. (The TLS layer keeps the CRL it started with, until
 * that comes within EXPIRY_WARN_DAYS of its next update, then none: a
 * revoked peer may complete the handshake, and is then refused
 * UNAUTHENTICATED.) Logs a warning or an error for each of the server
 * certificate, CA certificate and CRL that runs out within EXPIRY_WARN_DAYS
 * or has (as at start and once a day). On failure the daemon keeps serving
 * with what it had, and eb says why.
 */
int server_reload(struct server *s, struct errbuf *eb);

/*
 * Notes this daemon among those on the database when due (daemons.h);
 * call it about once a second. Thread-safe.
 */
void server_tick(struct server *s);

/*
 * Serves one request, given as the bytes of an RpcRequest, through exactly
 * the pipeline a request from the network takes (decode, envelope and
 * caller checks, handler, transaction), for a server opened without a
 * listen URL. The caller's certificate is the one inside the request: there
 * is no TLS peer to check it against. *reply (free()) holds the packed
 * RpcReply, refusals included. YB_OK, YB_ENOMEM, or YB_INVALID_ARGUMENT for
 * a server that listens on the network. Not thread-safe: one call at a time.
 */
int server_serve_bytes(struct server *s, const uint8_t *req, size_t len, uint8_t **reply,
                       size_t *reply_len, struct errbuf *eb);

/* Stops accepting, lets in-flight requests finish, frees everything; NULL ok. */
void server_close(struct server *s);

#endif
