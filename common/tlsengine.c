/*
 * tlsengine.c - an nng TLS engine on OpenSSL 3 (see tlsengine.h).
 *
 * nng owns the TCP stream and two 16 KB byte buffers per connection; an
 * engine reads and writes TLS records through nng_tls_engine_recv and
 * nng_tls_engine_send, which answer NNG_EAGAIN until nng's own I/O has
 * completed, and nng calls the engine again from that completion. Here a
 * BIO of our own passes OpenSSL's reads and writes to those two functions
 * and turns NNG_EAGAIN into OpenSSL's "retry", so SSL_read, SSL_write and
 * SSL_do_handshake return SSL_ERROR_WANT_READ/WRITE, which become
 * NNG_EAGAIN again. nng calls an engine with its connection lock held, and
 * only ever from one thread at a time per connection.
 *
 * OpenSSL's error queue belongs to the thread, and nng's threads serve many
 * connections: every operation empties it before and after.
 *
 * A failure of the TCP stream is not seen here: nng 1.5.2 handles it below
 * the engine (tls_tcp_error) and keeps no error; afterwards
 * nng_tls_engine_recv answers NNG_EAGAIN and nng_tls_engine_send takes
 * bytes as on a healthy connection, and a read or write queued later waits
 * forever on a TCP aio nng has stopped: the session, its descriptor and its
 * buffers stay for good. nng never marks a closed stream closed either:
 * conn_close makes every later call fail. The guard makes up for the rest
 * on the server (tlsengine_guard_reap):
 * a connection whose TCP connection has ended is marked dropped, and a
 * write, then a read, queued behind the stuck ones make nng call the
 * engine, which fails them all with NNG_ECONNRESET; the daemon's session
 * then closes and frees it (guard_end).
 */
#include "tlsengine.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "i18n.h"
#include "rpc.h"

/* TLS 1.2 suites: ECDHE with AEAD only, ECDSA certificates first. */
#define TLS12_CIPHERS                                                                              \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"                             \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"                               \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305"
/* TLS 1.3 suites: OpenSSL's default three (no CCM). */
#define TLS13_SUITES "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
#define TLS_GROUPS "X25519:P-256"
/* A server name is a host name or an address; longer is not a name. */
#define SERVER_NAME_MAX 255

struct nng_tls_engine_config {
	SSL_CTX *ctx;
	nng_tls_mode mode;
	char server_name[SERVER_NAME_MAX + 1]; /* "" when not set */
};

/* A remote end: IPv4 addresses as ::ffff:a.b.c.d. */
struct peer {
	uint8_t addr[16];
	uint16_t port;
};

struct nng_tls_engine_conn {
	void *nng_conn; /* nng's connection: the first argument of its send/recv */
	/* The guard's (under guard.lock), for server connections accepted while it is on. */
	struct nng_tls_engine_conn *prev, *next; /* accepted order, oldest first */
	bool listed;                             /* in the guard's list */
	bool refused;       /* refused by the guard, counted in guard.refused */
	bool closing;       /* closed by the guard: no longer counted */
	bool read_kick_due; /* dropped, its read kick at the next sweep */
	int64_t ended_ms;   /* when closing was set */
	struct peer peer;
	int64_t accepted_ms;
	/* Written under nng's connection lock, read under the guard's. */
	atomic_bool handshaken, authenticated;
	atomic_bool dropped; /* by the guard: every later operation fails NNG_ECONNRESET */
	SSL *ssl;
	nng_tls_mode mode;
	int io_error; /* the transport's last error other than NNG_EAGAIN */
	int failed;   /* once set, the nng error every later operation returns */
	bool wrote;   /* the current operation gave nng bytes to send */
	bool held;    /* failed is held back until nng has sent the alert (ssl_result) */
};

static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
static BIO_METHOD *bio_method;
static int (*transport_send)(void *, const uint8_t *, size_t *) = nng_tls_engine_send;
static int (*transport_recv)(void *, uint8_t *, size_t *) = nng_tls_engine_recv;

static pthread_mutex_t failure_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tlsengine_failure last_client_failure; /* under failure_lock */

/* Remote addresses whose refusals or drops were logged lately: a small
 * hash table, an address shares a slot with others at worst. */
#define LOG_SLOTS 256
#define LOG_INTERVAL_MS 1000
#define LOST_LOG_INTERVAL_MS 60000
/* An ended connection nng still holds after this is one it will never free. */
#define STUCK_AFTER_MS 60000
#define STUCK_LOG_INTERVAL_MS (10 * 60000)
/* At the total cap, the shortest time between two sweeps of every connection. */
#define FULL_SWEEP_MS 100
/*
 * A connection keeps its descriptor after the guard closed or refused it,
 * until nng frees it, and for a while after: nng 1.5.2 frees the TLS
 * connection (conn_fini) and only then queues its TCP socket on the same
 * reaper thread, which closes it through a round trip to the poller thread,
 * one socket at a time. Under a flood of connections, dozens were in that
 * state at once and the daemon ran out of descriptors below its cap. So the
 * guard counts every connection it saw, open or closing, until nng freed
 * it, and FREED_GRACE_MS longer; accepted connections are admitted only
 * while that count is below max_total + UNFREED_SLACK, and the daemon's
 * listener does not accept at all meanwhile (tlsengine_guard_has_room):
 * new ones wait in the kernel's queue, holding no descriptor of ours.
 */
#define UNFREED_SLACK 16
#define FREED_GRACE_MS 250
#define FREED_RING 4096

/*
 * The guard (tlsengine.h). Lock order: guard.lock, then nng's connection
 * lock (nng_stream_close takes it); nothing the engine does under nng's
 * connection lock takes guard.lock (conn_init and conn_fini run without it).
 */
static struct {
	pthread_mutex_t lock;
	bool on;
	struct tlsengine_guard set;
	struct nng_tls_engine_conn *oldest, *newest;
	int open;    /* listed and not closing */
	int closing; /* listed and closing: a descriptor nng has not freed yet */
	int refused; /* refused by guard_admit and not yet freed by nng */
	/* When nng freed the last connections the guard counted, oldest first:
	 * their sockets may still be open for FREED_GRACE_MS (top of the file). */
	int64_t freed_at[FREED_RING];
	int freed_first, freed_count;
	int lost_unlogged;       /* connections end_lost ended since lost_logged_ms */
	int64_t lost_logged_ms;  /* when that count was last logged */
	int64_t stuck_logged_ms; /* when connections nng did not free were last logged */
	int freed;               /* listed connections nng freed since tlsengine_guard_take_freed */
	int64_t full_swept_ms;   /* when guard_admit last swept all connections (end_lost) */
	struct {
		struct peer peer;
		int64_t at_ms;
	} logged[LOG_SLOTS];
} guard = {.lock = PTHREAD_MUTEX_INITIALIZER};

/*
 * The functions that say "Under guard.lock" assert it (held by some thread:
 * pthreads cannot say which; trylock takes a free lock, and the assert then
 * fails all the same). Debug builds only.
 */
#define ASSERT_GUARD_LOCKED() assert(pthread_mutex_trylock(&guard.lock) == EBUSY)

/* ---- the BIO: OpenSSL's bytes through nng's buffers ---------------------- */

static int bio_write(BIO *b, const char *buf, size_t len, size_t *written)
{
	struct nng_tls_engine_conn *ec = BIO_get_data(b);
	size_t n = len;
	int rv;

	BIO_clear_retry_flags(b);
	rv = transport_send(ec->nng_conn, (const uint8_t *)buf, &n);
	if (rv == 0) {
		ec->wrote = ec->wrote || n > 0;
		*written = n;
		return 1;
	}
	if (rv == NNG_EAGAIN)
		BIO_set_retry_write(b);
	else
		ec->io_error = rv;
	return 0;
}

static int bio_read(BIO *b, char *buf, size_t len, size_t *got)
{
	struct nng_tls_engine_conn *ec = BIO_get_data(b);
	size_t n = len;
	int rv;

	BIO_clear_retry_flags(b);
	rv = transport_recv(ec->nng_conn, (uint8_t *)buf, &n);
	if (rv == 0 && n > 0) {
		*got = n;
		return 1;
	}
	if (rv == NNG_EAGAIN)
		BIO_set_retry_read(b);
	else
		ec->io_error = rv != 0 ? rv : NNG_ECONNSHUT;
	return 0;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	/* Writes go straight to nng's buffer: there is never anything to flush. */
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static void setup(void)
{
	bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "nng stream");
	if (bio_method != NULL && (BIO_meth_set_write_ex(bio_method, bio_write) != 1 ||
	                           BIO_meth_set_read_ex(bio_method, bio_read) != 1 ||
	                           BIO_meth_set_ctrl(bio_method, bio_ctrl) != 1)) {
		BIO_meth_free(bio_method);
		bio_method = NULL;
	}
}

/* ---- errors -------------------------------------------------------------- */

static void record_client_failure(const struct tlsengine_failure *f)
{
	pthread_mutex_lock(&failure_lock);
	last_client_failure = *f;
	pthread_mutex_unlock(&failure_lock);
}

/*
 * The nng error for an SSL_ERROR_SSL: err is the first error of OpenSSL's
 * queue. A client connection also records what the failure was.
 */
static int protocol_error(struct nng_tls_engine_conn *ec, unsigned long err)
{
	int reason = ERR_GET_REASON(err);
	struct tlsengine_failure f = {.kind = TLSENGINE_FAILURE_PROTOCOL};
	int rv;

	if (ERR_GET_LIB(err) == ERR_LIB_SSL && reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)
		return NNG_ECONNSHUT;
	if (ERR_GET_LIB(err) == ERR_LIB_SSL && reason >= SSL_AD_REASON_OFFSET &&
	    reason < SSL_AD_REASON_OFFSET + 256) {
		/* The peer refused something of ours: always an authentication failure. */
		f.kind = TLSENGINE_FAILURE_PEER_ALERT;
		f.alert = reason - SSL_AD_REASON_OFFSET;
		rv = NNG_EPEERAUTH;
	} else if (ERR_GET_LIB(err) == ERR_LIB_SSL && reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
		f.kind = TLSENGINE_FAILURE_VERIFY;
		f.verify = SSL_get_verify_result(ec->ssl);
		rv = NNG_EPEERAUTH;
	} else {
		rv = SSL_is_init_finished(ec->ssl) ? NNG_ECRYPTO : NNG_EPEERAUTH;
	}
	if (ERR_reason_error_string(err) != NULL)
		snprintf(f.detail, sizeof(f.detail), "%s", ERR_reason_error_string(err));
	else
		ERR_error_string_n(err, f.detail, sizeof(f.detail));
	if (ec->mode == NNG_TLS_MODE_CLIENT)
		record_client_failure(&f);
	return rv;
}

/*
 * The nng result of an SSL_* call that returned ok (1) or not: 0, NNG_EAGAIN
 * or the connection's error, which sticks (OpenSSL forbids I/O after one).
 */
static int ssl_result(struct nng_tls_engine_conn *ec, int ok)
{
	int rv;

	if (ok == 1) {
		ERR_clear_error();
		return 0;
	}
	switch (SSL_get_error(ec->ssl, ok)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		ERR_clear_error();
		return NNG_EAGAIN;
	case SSL_ERROR_ZERO_RETURN: /* close_notify */
		rv = NNG_ECONNSHUT;
		break;
	case SSL_ERROR_SSL:
		rv = protocol_error(ec, ERR_peek_error());
		ERR_clear_error();
		ec->failed = rv;
		/*
		 * A server's OpenSSL has just written an alert that tells the client
		 * why (certificate revoked...), but nng may still be sending earlier
		 * bytes, and would close the connection with the alert unsent: see
		 * held_failure.
		 */
		if (ec->wrote && ec->mode == NNG_TLS_MODE_SERVER) {
			ec->held = true;
			return NNG_EAGAIN;
		}
		return rv;
	default: /* SSL_ERROR_SYSCALL: the transport failed under OpenSSL */
		rv = ec->io_error;
		if (rv == 0 || rv == NNG_ECLOSED)
			rv = NNG_ECONNSHUT;
		break;
	}
	ERR_clear_error();
	ec->failed = rv;
	return rv;
}

/*
 * The error of a failed connection, for any later call. A held one is given
 * only to a call made when nng has no received bytes waiting: nng calls the
 * engine when a receive completes (bytes waiting) or a send completes, and a
 * send completion starts sending the rest of nng's buffer, alert included,
 * before the call. Bytes received meanwhile are dropped; a peer that keeps
 * sending is held (until the daemon's reaper or the peer ends it).
 */
static int held_failure(struct nng_tls_engine_conn *ec)
{
	uint8_t sink[1024];
	bool received = false;

	while (ec->held) {
		size_t n = sizeof(sink);
		if (transport_recv(ec->nng_conn, sink, &n) != 0 || n == 0) {
			ec->held = received;
			return received ? NNG_EAGAIN : ec->failed;
		}
		received = true;
	}
	return ec->failed;
}

/* ---- connections --------------------------------------------------------- */

/* True when name is an IPv4 or IPv6 address rather than a host name. */
static bool is_address(const char *name)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

/* ---- the guard of accepted connections ---------------------------------- */

static bool conn_verified(nng_tls_engine_conn *ec);

static bool peer_from_nng(const nng_sockaddr *sa, struct peer *p)
{
	memset(p, 0, sizeof(*p));
	if (sa->s_family == NNG_AF_INET) {
		p->addr[10] = p->addr[11] = 0xff;
		memcpy(p->addr + 12, &sa->s_in.sa_addr, 4);
		p->port = ntohs(sa->s_in.sa_port);
		return true;
	}
	if (sa->s_family == NNG_AF_INET6) {
		memcpy(p->addr, sa->s_in6.sa_addr, 16);
		p->port = ntohs(sa->s_in6.sa_port);
		return true;
	}
	return false;
}

/* Whether a line about p may be logged now (once a second per address). Under guard.lock. */
static bool may_log(const struct peer *p, int64_t now)
{
	uint32_t h = 2166136261u;
	size_t slot;

	ASSERT_GUARD_LOCKED();
	if (guard.set.log == NULL)
		return false;
	for (size_t i = 0; i < 16; i++)
		h = (h ^ p->addr[i]) * 16777619u;
	slot = h % LOG_SLOTS;
	if (memcmp(guard.logged[slot].peer.addr, p->addr, 16) == 0 &&
	    now - guard.logged[slot].at_ms < LOG_INTERVAL_MS)
		return false;
	guard.logged[slot].peer = *p;
	guard.logged[slot].at_ms = now;
	return true;
}

static const char *peer_text(const struct peer *p, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, p->addr, addr, sizeof(addr));
	snprintf(buf, len, "[%s]:%u", addr, p->port);
	return buf;
}

/* Notes that nng freed a counted connection just now. Under guard.lock. */
static void note_freed(void)
{
	ASSERT_GUARD_LOCKED();
	/* Full: the oldest note goes; held_descriptors then says "no room" anyway. */
	if (guard.freed_count == FREED_RING) {
		guard.freed_first = (guard.freed_first + 1) % FREED_RING;
		guard.freed_count--;
	}
	guard.freed_at[(guard.freed_first + guard.freed_count) % FREED_RING] = clock_monotonic_ms();
	guard.freed_count++;
}

/*
 * How many descriptors the connections the guard saw may still hold: open,
 * closing, refused, and freed less than FREED_GRACE_MS ago. Under guard.lock.
 */
static int held_descriptors(int64_t now)
{
	ASSERT_GUARD_LOCKED();
	while (guard.freed_count > 0 && now - guard.freed_at[guard.freed_first] >= FREED_GRACE_MS) {
		guard.freed_first = (guard.freed_first + 1) % FREED_RING;
		guard.freed_count--;
	}
	if (guard.freed_count == FREED_RING)
		return INT_MAX;
	return guard.open + guard.closing + guard.refused + guard.freed_count;
}

/* Whether one more connection fits the descriptors (top of the file). Under guard.lock. */
static bool has_room(int64_t now, int *held)
{
	*held = held_descriptors(now);
	return guard.set.max_total + UNFREED_SLACK > *held;
}

static void unlist(struct nng_tls_engine_conn *ec)
{
	if (ec->prev != NULL)
		ec->prev->next = ec->next;
	else
		guard.oldest = ec->next;
	if (ec->next != NULL)
		ec->next->prev = ec->prev;
	else
		guard.newest = ec->prev;
	if (ec->closing)
		guard.closing--;
	else
		guard.open--;
	assert(guard.open >= 0 && guard.closing >= 0);
	note_freed();
	guard.freed++;
	ec->prev = ec->next = NULL;
	ec->listed = false;
}

/* A one-byte read or write that makes nng call the engine on a dropped connection. */
struct kick {
	nng_aio *aio;
	uint8_t byte;
	nng_iov iov;
};

static void kick_done(void *arg)
{
	struct kick *k = arg;

	nng_aio_reap(k->aio);
	free(k);
}

/*
 * Queues a kick on a connection marked dropped: nng appends it behind any
 * read (or write) already waiting and calls the engine for the first of
 * them, which fails with NNG_ECONNRESET, and so on down the queue. Without
 * memory the mark alone ends the connection at its next I/O.
 */
static void kick(struct nng_tls_engine_conn *ec, bool read)
{
	struct kick *k;

	assert(atomic_load(&ec->dropped));
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return;
	if (nng_aio_alloc(&k->aio, kick_done, k) != 0) {
		free(k);
		return;
	}
	k->iov = (nng_iov){.iov_buf = &k->byte, .iov_len = 1};
	nng_aio_set_iov(k->aio, 1, &k->iov);
	if (read)
		nng_stream_recv((nng_stream *)ec->nng_conn, k->aio);
	else
		nng_stream_send((nng_stream *)ec->nng_conn, k->aio);
}

/*
 * Ends a listed connection; it stays listed, uncounted, until nng frees it
 * (conn_fini). Under guard.lock: conn_fini, which nng calls before it frees
 * the connection, waits for the lock, so the stream is still there.
 *
 * It is marked dropped, and a write, then at the next sweep a read, make
 * nng call the engine: the engine fails them, and every write or read
 * waiting before them, with NNG_ECONNRESET, whoever holds the stream (the
 * daemon's session, or nng's accept that has not handed it over yet), and
 * the holder closes it. A stream whose TCP connection failed while nothing
 * waited on it (tlsengine.c, top) is ended this way too.
 */
static void guard_end(struct nng_tls_engine_conn *ec)
{
	ASSERT_GUARD_LOCKED();
	assert(ec->listed && !ec->closing);
	ec->closing = true;
	ec->ended_ms = clock_monotonic_ms();
	guard.open--;
	guard.closing++;
	atomic_store(&ec->dropped, true);
	kick(ec, false);
	ec->read_kick_due = true;
}

/*
 * True when c's TCP connection is over: the socket no longer has a peer
 * (getpeername fails once the connection is closed, by a reset or by both
 * ends' FIN, and never before). nng answers NNG_OPT_REMADDR from the TCP
 * stream under the TLS one without taking the TLS connection's lock.
 */
static bool tcp_ended(struct nng_tls_engine_conn *c)
{
	nng_sockaddr sa;

	return nng_stream_get_addr((nng_stream *)c->nng_conn, NNG_OPT_REMADDR, &sa) != 0;
}

/*
 * Ends the open connections, from p's address when p is not NULL, whose
 * TCP connection is over: nng 1.5.2 may keep them for ever (the top of this
 * file). Returns how many. Under guard.lock.
 */
static int end_lost(const struct peer *p)
{
	int lost = 0;

	ASSERT_GUARD_LOCKED();
	for (struct nng_tls_engine_conn *c = guard.oldest; c != NULL; c = c->next) {
		if (c->closing || (p != NULL && memcmp(c->peer.addr, p->addr, 16) != 0))
			continue;
		if (tcp_ended(c)) {
			guard_end(c);
			lost++;
		}
	}
	guard.lost_unlogged += lost;
	return lost;
}

/*
 * The oldest open unauthenticated connection, from p's address when p is
 * not NULL, or NULL; *same counts the open ones from p's address.
 * Linear in the open connections: a few thousand at most, once an accept.
 */
static struct nng_tls_engine_conn *oldest_unauthenticated(const struct peer *p, int *same)
{
	struct nng_tls_engine_conn *found = NULL;

	*same = 0;
	for (struct nng_tls_engine_conn *c = guard.oldest; c != NULL; c = c->next) {
		bool from_p = p != NULL && memcmp(c->peer.addr, p->addr, 16) == 0;
		if (c->closing || (p != NULL && !from_p))
			continue;
		*same += from_p;
		if (found == NULL && !atomic_load(&c->authenticated))
			found = c;
	}
	return found;
}

/*
 * Admits a server connection just accepted, or not (NNG_ECONNABORTED: nng
 * then closes it and its listener goes on accepting at once, where most
 * other errors make it pause 100 ms). See tlsengine.h for the policy.
 */
static int guard_admit(struct nng_tls_engine_conn *ec)
{
	char who[80], victim[80];
	nng_sockaddr sa;
	int64_t now = clock_monotonic_ms();
	struct nng_tls_engine_conn *old;
	int same, held, rv = 0;

	pthread_mutex_lock(&guard.lock);
	/* Off (a client, a test): nng_conn need not even be nng's. */
	if (!guard.on)
		goto done;
	if (nng_stream_get_addr((nng_stream *)ec->nng_conn, NNG_OPT_REMADDR, &sa) != 0) {
		rv = NNG_ECONNABORTED; /* its TCP connection has ended already */
		goto done;
	}
	if (!peer_from_nng(&sa, &ec->peer))
		goto done; /* not TCP: nothing to count it by */
	old = oldest_unauthenticated(&ec->peer, &same);
	/* Full: first give back what has ended (one system call per connection). */
	if (same >= guard.set.max_per_source) {
		(void)end_lost(&ec->peer);
		old = oldest_unauthenticated(&ec->peer, &same);
	} else if (guard.open >= guard.set.max_total &&
	           now - guard.full_swept_ms >= FULL_SWEEP_MS) {
		/* One system call per connection, thousands of them: not at every accept. */
		guard.full_swept_ms = now;
		(void)end_lost(NULL);
	}
	if (!has_room(now, &held)) {
		/* Making room now would leave more descriptors than the cap allows. */
		if (may_log(&ec->peer, now))
			guard.set.log("refusing a connection from %s: %d connections are open and "
			              "%d more not yet freed (--max-connections)",
			              peer_text(&ec->peer, who, sizeof(who)), guard.open,
			              held - guard.open);
		rv = NNG_ECONNABORTED;
		goto done;
	}
	if (same >= guard.set.max_per_source) {
		if (old == NULL) {
			if (may_log(&ec->peer, now))
				guard.set.log(
				    "refusing a connection from %s: %d connections from that "
				    "address are open and authenticated (--max-per-source)",
				    peer_text(&ec->peer, who, sizeof(who)), same);
			rv = NNG_ECONNABORTED;
			goto done;
		}
		if (may_log(&old->peer, now))
			guard.set.log("%d connections from one address: closing the oldest "
			              "unauthenticated one, %s (--max-per-source)",
			              same, peer_text(&old->peer, victim, sizeof(victim)));
		guard_end(old);
	} else if (guard.open >= guard.set.max_total) {
		if ((old = oldest_unauthenticated(NULL, &same)) == NULL) {
			if (may_log(&ec->peer, now))
				guard.set.log(
				    "refusing a connection from %s: %d connections are open "
				    "and authenticated (--max-connections)",
				    peer_text(&ec->peer, who, sizeof(who)), guard.open);
			rv = NNG_ECONNABORTED;
			goto done;
		}
		if (may_log(&old->peer, now))
			guard.set.log("%d connections at once: closing the oldest unauthenticated "
			              "one, %s (--max-connections)",
			              guard.open, peer_text(&old->peer, victim, sizeof(victim)));
		guard_end(old);
	}
	ec->accepted_ms = now;
	ec->prev = guard.newest;
	if (guard.newest != NULL)
		guard.newest->next = ec;
	else
		guard.oldest = ec;
	guard.newest = ec;
	ec->listed = true;
	guard.open++;
done:
	if (rv != 0 && guard.on) {
		ec->refused = true;
		guard.refused++;
	}
	pthread_mutex_unlock(&guard.lock);
	return rv;
}

bool tlsengine_guard_has_room(void)
{
	bool room;
	int held;

	pthread_mutex_lock(&guard.lock);
	room = !guard.on || has_room(clock_monotonic_ms(), &held);
	pthread_mutex_unlock(&guard.lock);
	return room;
}

void tlsengine_guard_start(const struct tlsengine_guard *g)
{
	assert(g->max_total >= 1 && g->max_per_source >= 1);
	pthread_mutex_lock(&guard.lock);
	guard.set = *g;
	guard.on = true;
	pthread_mutex_unlock(&guard.lock);
}

int tlsengine_guard_reap(int limit_s)
{
	int64_t now = clock_monotonic_ms();
	int closed, lost, stuck = 0;
	char who[80];

	pthread_mutex_lock(&guard.lock);
	/* nng frees an ended connection within milliseconds, unless it has stopped freeing. */
	for (struct nng_tls_engine_conn *c = guard.oldest; c != NULL; c = c->next) {
		if (c->read_kick_due) {
			c->read_kick_due = false;
			kick(c, true);
		}
		stuck += c->closing && now - c->ended_ms >= STUCK_AFTER_MS;
	}
	lost = end_lost(NULL);
	closed = 0;
	/* Oldest first: the first one young enough ends the walk. */
	for (struct nng_tls_engine_conn *c = guard.oldest;
	     c != NULL && now - c->accepted_ms >= (int64_t)limit_s * 1000; c = c->next) {
		if (c->closing || atomic_load(&c->handshaken))
			continue;
		if (may_log(&c->peer, now))
			guard.set.log("closing a connection from %s that did not finish a TLS "
			              "handshake in %d s (none started, or an unfinished one)",
			              peer_text(&c->peer, who, sizeof(who)), limit_s);
		guard_end(c);
		closed++;
	}
	if (stuck > 0 && guard.set.log != NULL &&
	    (guard.stuck_logged_ms == 0 || now - guard.stuck_logged_ms >= STUCK_LOG_INTERVAL_MS)) {
		guard.set.log(
		    "error: %d connections ended more than %d s ago are still held by nng "
		    "(something stops them being freed); restart yuebaod before it runs out "
		    "of descriptors",
		    stuck, STUCK_AFTER_MS / 1000);
		guard.stuck_logged_ms = now;
	}
	/* Clients that crash or lose their network do this all day: a count a minute. */
	if (guard.lost_unlogged > 0 && guard.set.log != NULL &&
	    now - guard.lost_logged_ms >= LOST_LOG_INTERVAL_MS) {
		guard.set.log("gave back %d sessions whose TCP connection had ended without a "
		              "TLS shutdown (nng 1.5.2 would keep them)",
		              guard.lost_unlogged);
		guard.lost_unlogged = 0;
		guard.lost_logged_ms = now;
	}
	pthread_mutex_unlock(&guard.lock);
	return closed + lost;
}

int tlsengine_guard_take_freed(void)
{
	int n;

	pthread_mutex_lock(&guard.lock);
	n = guard.freed;
	guard.freed = 0;
	pthread_mutex_unlock(&guard.lock);
	return n;
}

void tlsengine_guard_stop(void)
{
	pthread_mutex_lock(&guard.lock);
	guard.on = false;
	pthread_mutex_unlock(&guard.lock);
}

/* ---- connections --------------------------------------------------------- */

static int conn_init(nng_tls_engine_conn *ec, void *nng_conn, nng_tls_engine_config *cfg)
{
	BIO *bio;
	int rv;

	ec->nng_conn = nng_conn;
	ec->mode = cfg->mode;
	if (cfg->mode == NNG_TLS_MODE_SERVER && (rv = guard_admit(ec)) != 0)
		return rv;
	ERR_clear_error();
	if (bio_method == NULL || (ec->ssl = SSL_new(cfg->ctx)) == NULL)
		goto nomem;
	if ((bio = BIO_new(bio_method)) == NULL)
		goto nomem;
	BIO_set_data(bio, ec);
	BIO_set_init(bio, 1);
	SSL_set_bio(ec->ssl, bio, bio); /* the SSL owns it now */
	if (cfg->mode == NNG_TLS_MODE_SERVER) {
		SSL_set_accept_state(ec->ssl);
		return 0;
	}
	SSL_set_connect_state(ec->ssl);
	if (cfg->server_name[0] == '\0')
		return 0;
	if (is_address(cfg->server_name)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ec->ssl), cfg->server_name) != 1)
			goto invalid;
	} else if (SSL_set_tlsext_host_name(ec->ssl, cfg->server_name) != 1 ||
	           SSL_set1_host(ec->ssl, cfg->server_name) != 1) {
		goto invalid;
	}
	return 0;
nomem:
	ERR_clear_error();
	return NNG_ENOMEM;
invalid:
	ERR_clear_error();
	return NNG_EINVAL;
}

/* nng may call this on a connection whose init never ran (all zero). */
static void conn_fini(nng_tls_engine_conn *ec)
{
	/* Read without the lock: only conn_init set them, before. */
	if (ec->listed || ec->refused) {
		pthread_mutex_lock(&guard.lock);
		if (ec->listed) {
			unlist(ec);
		} else {
			guard.refused--;
			note_freed();
		}
		pthread_mutex_unlock(&guard.lock);
	}
	SSL_free(ec->ssl);
	ec->ssl = NULL;
}

static void conn_close(nng_tls_engine_conn *ec)
{
	/* A courtesy close_notify: nng closes the TCP stream right after, and
	 * nothing here may depend on the peer seeing it. */
	if (ec->ssl != NULL && ec->failed == 0 && SSL_is_init_finished(ec->ssl)) {
		ERR_clear_error();
		(void)SSL_shutdown(ec->ssl);
		ERR_clear_error();
	}
	/*
	 * nng 1.5.2 closes the stream's TCP aios but never marks the stream
	 * closed: a read or write started on it later would restart TCP I/O on
	 * a closed aio and never complete. Failing every later call here ends
	 * such an operation at once (tls_do_recv and tls_do_send call the
	 * engine before anything else).
	 */
	if (ec->failed == 0)
		ec->failed = NNG_ECONNSHUT;
	ec->held = false;
}

static int conn_handshake(nng_tls_engine_conn *ec)
{
	int rv;

	if (atomic_load(&ec->dropped))
		return NNG_ECONNRESET;
	if (ec->failed != 0)
		return held_failure(ec);
	ERR_clear_error();
	ec->wrote = false;
	if ((rv = ssl_result(ec, SSL_do_handshake(ec->ssl))) == 0) {
		atomic_store(&ec->authenticated, conn_verified(ec));
		atomic_store(&ec->handshaken, true);
	}
	return rv;
}

static int conn_recv(nng_tls_engine_conn *ec, uint8_t *buf, size_t *n)
{
	size_t got = 0;
	int rv;

	if (atomic_load(&ec->dropped))
		return NNG_ECONNRESET;
	if (ec->failed != 0)
		return held_failure(ec);
	ERR_clear_error();
	ec->wrote = false;
	if ((rv = ssl_result(ec, SSL_read_ex(ec->ssl, buf, *n, &got))) == 0)
		*n = got;
	return rv;
}

static int conn_send(nng_tls_engine_conn *ec, const uint8_t *buf, size_t *n)
{
	size_t put = 0;
	int rv;

	if (atomic_load(&ec->dropped))
		return NNG_ECONNRESET;
	if (ec->failed != 0)
		return held_failure(ec);
	ERR_clear_error();
	ec->wrote = false;
	if ((rv = ssl_result(ec, SSL_write_ex(ec->ssl, buf, *n, &put))) == 0)
		*n = put;
	return rv;
}

static bool conn_verified(nng_tls_engine_conn *ec)
{
	return ec->ssl != NULL && SSL_is_init_finished(ec->ssl) &&
	       SSL_get0_peer_certificate(ec->ssl) != NULL &&
	       SSL_get_verify_result(ec->ssl) == X509_V_OK;
}

/* ---- configurations ------------------------------------------------------ */

static void config_fini(nng_tls_engine_config *cfg)
{
	SSL_CTX_free(cfg->ctx);
	cfg->ctx = NULL;
}

static int config_init(nng_tls_engine_config *cfg, nng_tls_mode mode)
{
	SSL_CTX *ctx;

	pthread_once(&setup_once, setup);
	ERR_clear_error();
	cfg->mode = mode;
	ctx = SSL_CTX_new(mode == NNG_TLS_MODE_SERVER ? TLS_server_method() : TLS_client_method());
	if (ctx == NULL) {
		ERR_clear_error();
		return NNG_ENOMEM;
	}
	cfg->ctx = ctx;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) != 1 ||
	    SSL_CTX_set_num_tickets(ctx, 0) != 1) {
		config_fini(cfg);
		ERR_clear_error();
		return NNG_ENOTSUP;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	                             SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* Partial writes: nng sends what fits and comes back for the rest. (Record
	 * buffers stay allocated: releasing them when idle cost CPU per return.)
	 * Our certificate goes out with the chain own_cert was given, not with
	 * the CA from the trust store, which the peer has already. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	                          SSL_MODE_NO_AUTO_CHAIN);
	/* As nng's defaults: a server does not ask, a client requires. */
	SSL_CTX_set_verify(ctx, mode == NNG_TLS_MODE_SERVER ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
	                   NULL);
	return 0;
}

static int config_server(nng_tls_engine_config *cfg, const char *name)
{
	if (strlen(name) > SERVER_NAME_MAX)
		return NNG_EINVAL;
	snprintf(cfg->server_name, sizeof(cfg->server_name), "%s", name);
	return 0;
}

/* NNG_TLS_AUTH_MODE_OPTIONAL: a certificate is checked if sent, and the
 * connection goes on whatever the outcome (nng reports it as "verified"). */
static int accept_any(int preverify_ok, X509_STORE_CTX *x)
{
	(void)preverify_ok;
	(void)x;
	return 1;
}

static int config_auth(nng_tls_engine_config *cfg, nng_tls_auth_mode mode)
{
	switch (mode) {
	case NNG_TLS_AUTH_MODE_NONE:
		SSL_CTX_set_verify(cfg->ctx, SSL_VERIFY_NONE, NULL);
		return 0;
	case NNG_TLS_AUTH_MODE_OPTIONAL:
		SSL_CTX_set_verify(cfg->ctx, SSL_VERIFY_PEER, accept_any);
		return 0;
	case NNG_TLS_AUTH_MODE_REQUIRED:
		SSL_CTX_set_verify(cfg->ctx,
		                   cfg->mode == NNG_TLS_MODE_SERVER
		                       ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
		                       : SSL_VERIFY_PEER,
		                   NULL);
		return 0;
	}
	return NNG_EINVAL;
}

static int config_ca_chain(nng_tls_engine_config *cfg, const char *certs, const char *crl)
{
	X509_STORE *store = SSL_CTX_get_cert_store(cfg->ctx);
	BIO *in = NULL;
	X509 *x;
	X509_CRL *c;
	int n = 0, rv = NNG_EINVAL;

	ERR_clear_error();
	if ((in = BIO_new_mem_buf(certs, -1)) == NULL) {
		rv = NNG_ENOMEM;
		goto done;
	}
	while ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
		int ok = X509_STORE_add_cert(store, x);
		X509_free(x);
		if (ok != 1)
			goto done;
		n++;
	}
	if (n == 0)
		goto done;
	BIO_free(in);
	in = NULL;
	if (crl != NULL) {
		ERR_clear_error();
		if ((in = BIO_new_mem_buf(crl, -1)) == NULL) {
			rv = NNG_ENOMEM;
			goto done;
		}
		n = 0;
		while ((c = PEM_read_bio_X509_CRL(in, NULL, NULL, NULL)) != NULL) {
			int ok = X509_STORE_add_crl(store, c);
			X509_CRL_free(c);
			if (ok != 1)
				goto done;
			n++;
		}
		if (n == 0)
			goto done;
		/* The peer's certificate is checked against its issuer's CRL. */
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	}
	rv = 0;
done:
	BIO_free(in);
	ERR_clear_error();
	return rv;
}

static int key_password(char *buf, int size, int rwflag, void *pass)
{
	size_t n = pass != NULL ? strlen(pass) : 0;

	(void)rwflag;
	if (size <= 0 || n >= (size_t)size)
		return 0; /* no password, or one that cannot be right: never a prompt */
	memcpy(buf, pass, n);
	return (int)n;
}

static int config_own_cert(nng_tls_engine_config *cfg, const char *cert, const char *key,
                           const char *pass)
{
	BIO *in = NULL;
	X509 *x = NULL;
	EVP_PKEY *pkey = NULL;
	int rv = NNG_EINVAL;

	ERR_clear_error();
	if ((in = BIO_new_mem_buf(cert, -1)) == NULL) {
		rv = NNG_ENOMEM;
		goto done;
	}
	/* The first certificate is ours; any that follow are its chain. */
	if ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) == NULL ||
	    SSL_CTX_use_certificate(cfg->ctx, x) != 1)
		goto done;
	X509_free(x);
	while ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
		if (SSL_CTX_add0_chain_cert(cfg->ctx, x) != 1)
			goto done;
		x = NULL; /* the context owns it */
	}
	BIO_free(in);
	ERR_clear_error();
	if ((in = BIO_new_mem_buf(key, -1)) == NULL) {
		rv = NNG_ENOMEM;
		goto done;
	}
	if ((pkey = PEM_read_bio_PrivateKey(in, NULL, key_password, (void *)pass)) == NULL ||
	    SSL_CTX_use_PrivateKey(cfg->ctx, pkey) != 1 || SSL_CTX_check_private_key(cfg->ctx) != 1)
		goto done;
	rv = 0;
done:
	X509_free(x);
	EVP_PKEY_free(pkey);
	BIO_free(in);
	ERR_clear_error();
	return rv;
}

static int config_version(nng_tls_engine_config *cfg, nng_tls_version lo, nng_tls_version hi)
{
	if (hi < NNG_TLS_1_2 || hi > NNG_TLS_1_3 || lo > hi)
		return NNG_ENOTSUP;
	if (SSL_CTX_set_min_proto_version(cfg->ctx, lo >= NNG_TLS_1_3 ? TLS1_3_VERSION
	                                                              : TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(cfg->ctx, hi == NNG_TLS_1_3 ? TLS1_3_VERSION
	                                                              : TLS1_2_VERSION) != 1) {
		ERR_clear_error();
		return NNG_ENOTSUP;
	}
	return 0;
}

/* ---- the engine ---------------------------------------------------------- */

static nng_tls_engine_conn_ops conn_ops = {
    .size = sizeof(nng_tls_engine_conn),
    .init = conn_init,
    .fini = conn_fini,
    .close = conn_close,
    .handshake = conn_handshake,
    .recv = conn_recv,
    .send = conn_send,
    .verified = conn_verified,
};

static nng_tls_engine_config_ops config_ops = {
    .size = sizeof(nng_tls_engine_config),
    .init = config_init,
    .fini = config_fini,
    .server = config_server,
    .auth = config_auth,
    .ca_chain = config_ca_chain,
    .own_cert = config_own_cert,
    .version = config_version,
};

static nng_tls_engine engine = {
    .version = NNG_TLS_ENGINE_VERSION,
    .config_ops = &config_ops,
    .conn_ops = &conn_ops,
    .name = "openssl",
    .description = OPENSSL_VERSION_TEXT,
    .fips_mode = false,
};

static int register_result = -1;

static void register_once(void)
{
	pthread_once(&setup_once, setup);
	if (bio_method == NULL) {
		register_result = NNG_ENOMEM;
		return;
	}
	/* nng initialises itself on first use and installs its built-in engine
	 * then: make that happen before replacing it. */
	(void)nng_tls_engine_name();
	register_result = nng_tls_engine_register(&engine);
}

int tlsengine_register(struct errbuf *eb)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, register_once);
	if (register_result != 0)
		return status_fail(eb, YB_ECONNECT, _("cannot use OpenSSL for nng's TLS: %s"),
		                   nng_strerror(register_result));
	return YB_OK;
}

void tlsengine_take_client_failure(struct tlsengine_failure *out)
{
	pthread_mutex_lock(&failure_lock);
	*out = last_client_failure;
	memset(&last_client_failure, 0, sizeof(last_client_failure));
	pthread_mutex_unlock(&failure_lock);
}

static const char *alert_text(int alert, char *buf, size_t len)
{
	switch (alert) {
	case SSL_AD_CERTIFICATE_REVOKED:
		return _("the server refused this client's certificate: it is revoked");
	case SSL_AD_CERTIFICATE_EXPIRED:
		return _("the server refused this client's certificate: it has expired or is not "
		         "valid yet");
	case SSL_AD_UNKNOWN_CA:
		return _("the server refused this client's certificate: it is not issued by the "
		         "server's CA");
	case SSL_AD_CERTIFICATE_REQUIRED:
		return _("the server requires a client certificate");
	case SSL_AD_BAD_CERTIFICATE:
	case SSL_AD_UNSUPPORTED_CERTIFICATE:
	case SSL_AD_CERTIFICATE_UNKNOWN:
	case SSL_AD_ACCESS_DENIED:
	case SSL_AD_DECRYPT_ERROR:
		snprintf(buf, len,
		         _("the server refused this client's certificate (TLS alert: %s)"),
		         SSL_alert_desc_string_long(alert));
		return buf;
	case SSL_AD_PROTOCOL_VERSION:
		return _("the server does not accept this client's TLS version");
	case SSL_AD_HANDSHAKE_FAILURE:
	case SSL_AD_INSUFFICIENT_SECURITY:
		return _("this client and the server have no TLS version, cipher suite or key "
		         "exchange group in common");
	}
	snprintf(buf, len, _("the server ended the TLS handshake (TLS alert: %s)"),
	         SSL_alert_desc_string_long(alert));
	return buf;
}

static const char *verify_text(long verify, char *buf, size_t len)
{
	switch (verify) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		return _("the server's certificate is not issued by the CA this client trusts "
		         "(check --ca)");
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return _("the server's certificate has expired");
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return _("the server's certificate is not valid yet");
	case X509_V_ERR_CERT_REVOKED:
		return _("the server's certificate is revoked");
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return _("the server's certificate is not for the host in the server URL");
	}
	snprintf(buf, len, _("the server's certificate is refused: %s"),
	         X509_verify_cert_error_string(verify));
	return buf;
}

const char *tlsengine_failure_text(const struct tlsengine_failure *f, char *buf, size_t len)
{
	char tmp[256];
	const char *s;

	tmp[0] = '\0';
	switch (f->kind) {
	case TLSENGINE_FAILURE_PEER_ALERT:
		s = alert_text(f->alert, tmp, sizeof(tmp));
		break;
	case TLSENGINE_FAILURE_VERIFY:
		s = verify_text(f->verify, tmp, sizeof(tmp));
		break;
	case TLSENGINE_FAILURE_PROTOCOL:
		snprintf(tmp, sizeof(tmp), _("TLS failed: %s"), f->detail);
		s = tmp;
		break;
	default:
		s = _("no TLS failure");
		break;
	}
	snprintf(buf, len, "%s", s);
	return buf;
}

const nng_tls_engine *tlsengine_engine(void)
{
	pthread_once(&setup_once, setup);
	return &engine;
}

void tlsengine_set_transport(int (*send)(void *arg, const uint8_t *buf, size_t *n),
                             int (*recv)(void *arg, uint8_t *buf, size_t *n))
{
	transport_send = send != NULL ? send : nng_tls_engine_send;
	transport_recv = recv != NULL ? recv : nng_tls_engine_recv;
}
