/*
 * tlsengine.h - nng's TLS done by OpenSSL 3 in place of its built-in mbedTLS.
 *
 * nng 1.5.2 lets an application replace the library that does its TLS
 * (nng/supplemental/tls/engine.h); every nng TLS configuration made after
 * tlsengine_register uses this engine. What it guarantees:
 *
 * Protocol: TLS 1.3 preferred; TLS 1.2 only with ECDHE key exchange and an
 * AEAD cipher (AES-GCM, ChaCha20-Poly1305); key exchange groups X25519 and
 * P-256; the server's order of preference wins; no renegotiation, no
 * compression, no session tickets or resumption (every connection is a full
 * handshake). nng_tls_config_version can raise the minimum to TLS 1.3; a
 * range below TLS 1.2 is refused (NNG_ENOTSUP), a minimum below it raised.
 *
 * Peers: NNG_TLS_AUTH_MODE_REQUIRED on a server refuses a client without a
 * certificate. The CA chain given to nng_tls_config_ca_chain is the only
 * trust; with a CRL, every peer certificate is checked against it. A client
 * checks the server's certificate against the name set by
 * nng_tls_config_server_name: a DNS name (also sent as SNI) against DNS
 * subjectAltNames, an IPv4 or IPv6 address against IP subjectAltNames.
 *
 * Errors handed to nng, per connection: a peer that closes (close_notify or
 * end of stream) NNG_ECONNSHUT, a broken transport NNG_ECONNRESET, a
 * handshake that fails for any reason (certificate refused by either side,
 * no version or suite in common, malformed or undecryptable records)
 * NNG_EPEERAUTH, a record that fails after the handshake NNG_ECRYPTO, any
 * call after the stream was closed NNG_ECONNSHUT. Never NNG_ECLOSED: nng
 * 1.5.2's SP listener (clients' and tools' servers) stops accepting for
 * good when a connection's negotiation fails with it.
 */
#ifndef YB_TLSENGINE_H
#define YB_TLSENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/engine.h>

#include "status.h"

/*
 * Makes this engine nng's TLS engine for the rest of the process. Call it
 * before making any nng TLS configuration (rpc_tls_config_new does);
 * calling it again does nothing. It initialises nng first, since nng's own
 * initialisation would otherwise install its built-in engine over this one.
 * YB_OK, or YB_ECONNECT when nng refuses the engine (eb says why).
 */
int tlsengine_register(struct errbuf *eb);

/* Why a client's TLS connection failed, as far as TLS can tell. */
enum tlsengine_failure_kind {
	TLSENGINE_FAILURE_NONE = 0,
	TLSENGINE_FAILURE_PEER_ALERT, /* the server ended it with a TLS alert: alert */
	TLSENGINE_FAILURE_VERIFY,     /* this side refused the server's certificate: verify */
	TLSENGINE_FAILURE_PROTOCOL,   /* any other refusal by OpenSSL: detail */
};

struct tlsengine_failure {
	enum tlsengine_failure_kind kind;
	int alert;       /* a TLS alert description (RFC 8446 §6.2), PEER_ALERT */
	long verify;     /* an X509_V_ERR_* code of OpenSSL's verify result, VERIFY */
	char detail[96]; /* OpenSSL's own reason (English, for what is not named above) */
};

/*
 * Hands over, and forgets, the most recent failure of a connection in
 * client mode in this process (a client makes one connection at a time, so
 * it is that connection's), or kind NONE when there was none since the last
 * call. Thread-safe.
 */
void tlsengine_take_client_failure(struct tlsengine_failure *out);

/*
 * One sentence for f in the calling thread's language, naming what a person
 * can act on: the server refused this client's certificate as revoked,
 * expired, or not issued by its CA; the server's certificate is not issued
 * by the CA this client trusts, or not for the host dialed... Writes at most
 * len bytes to buf (NUL-terminated) and returns buf.
 */
const char *tlsengine_failure_text(const struct tlsengine_failure *f, char *buf, size_t len);

/*
 * The guard of a server's accepted connections (the daemon's defence
 * against being locked out by idle TCP connections, which need no
 * certificate). nng hands every accepted TCP connection to the engine right
 * after accept, before any byte is read, so the engine is the one place
 * that sees them all, before the TLS handshake.
 *
 * While the guard is on, each server-mode connection is admitted or not
 * when it is accepted:
 *  - from a remote address that already has max_per_source connections,
 *    the oldest of those that is not authenticated is closed to make room,
 *    or, when all are authenticated, the new one is refused;
 *  - likewise, when max_total connections are open, the oldest
 *    unauthenticated one of all is closed, or the new one refused;
 *  - a connection the guard closed or refused keeps its descriptor until
 *    nng frees it and closes its socket, a little later: while the
 *    connections open, closing, refused and freed in the last 250 ms reach
 *    max_total + 16, a new one is refused rather than making room, so the
 *    process does not run out of descriptors under a flood of them
 *    (tlsengine_guard_has_room tells the listener to wait instead).
 * Authenticated: the TLS handshake finished with a client certificate the
 * CA chain verifies (and the CRL does not revoke). A refused connection is
 * closed at once (nng's listener goes on accepting). Refusals and drops are
 * logged through log, at most once a second per remote address.
 *
 * One guard per process (the daemon has one listener). It relies on nng 1.x
 * passing the TLS stream itself (nng_stream *) as the connection pointer
 * that the engine's init receives, as nng 1.5.2's tls_common.c does.
 */
struct tlsengine_guard {
	int max_total;                     /* connections at once, >= 1 */
	int max_per_source;                /* connections at once from one remote address, >= 1 */
	void (*log)(const char *fmt, ...); /* may be NULL; called with the guard's lock held */
};

/*
 * Turns the guard on with g's settings (copied), for connections accepted
 * from now on. Call it before the listener starts. Thread-safe.
 */
void tlsengine_guard_start(const struct tlsengine_guard *g);

/*
 * Whether the guard would still admit a connection as far as descriptors
 * go (above). When it says no, the daemon's listener waits before its next
 * accept, so a flood waits in the kernel's queue instead of costing a
 * descriptor each to refuse. True while the guard is off. Thread-safe.
 */
bool tlsengine_guard_has_room(void);

/*
 * Ends two kinds of guarded connection, and returns how many it ended:
 *  - those whose TLS handshake has not finished limit_s seconds after they
 *    were accepted (a peer that never starts TLS, or stops halfway), each
 *    logged (rate-limited as above);
 *  - those whose TCP connection is over (a reset, or both ends closed)
 *    while the stream is still open: nng 1.5.2 keeps such a stream, its
 *    descriptor and its buffers for ever when the TCP connection fails
 *    while no read or write waits on it (tlsengine.c). Their waiting writes,
 *    then at the next call their reads, fail with NNG_ECONNRESET, so their
 *    holder closes and frees them; a count is logged at most once a minute.
 * Connections ended a minute ago that nng still holds mean something stops
 * them being freed: that is logged as an error every ten minutes (README,
 * "Security and limits"). The daemon calls it every second. Thread-safe.
 */
int tlsengine_guard_reap(int limit_s);

/*
 * How many guarded connections nng has freed since the last call (the
 * daemon gives memory back to the system after many). Thread-safe.
 */
int tlsengine_guard_take_freed(void);

/* Turns the guard off: later connections are not counted. Thread-safe. */
void tlsengine_guard_stop(void);

/*
 * For the fuzz target only: the engine's operation tables, and the byte
 * transport its connections use in place of nng's nng_tls_engine_send and
 * nng_tls_engine_recv (whose first argument is the pointer given to the
 * connection's init). Both functions return 0 (*n updated), NNG_EAGAIN or
 * another nng error. Passing NULLs returns to nng's. Not thread-safe: set
 * it before any connection exists.
 */
const nng_tls_engine *tlsengine_engine(void);
void tlsengine_set_transport(int (*send)(void *arg, const uint8_t *buf, size_t *n),
                             int (*recv)(void *arg, uint8_t *buf, size_t *n));

#endif
