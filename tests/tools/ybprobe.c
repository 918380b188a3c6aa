/*
 * ybprobe.c - a misbehaving yuebao client, for the hostile-client tests.
 *
 * Speaks the daemon's wire protocol by hand: a TLS stream (nng's tls+tcp
 * stream API, with the caller's certificate), the SP handshake of a REQ
 * peer, then frames of an 8-byte big-endian length, a 4-byte request id and
 * an RpcRequest (common/rpc.h). Doing it by hand lets it break every layer:
 * random bytes, truncated or lying protobuf, a frame above the daemon's
 * --max-message, an unknown method, a bad signature, a stale timestamp,
 * connections that never start TLS or never send, a client that disconnects
 * before its reply or never reads its replies, sessions that end with a reset
 * or a bare close (no TLS close_notify). Each run prints one line per thing sent: what it
 * sent and what came back (a status, "no reply", "connection closed"), and exits 0 when it did what
 * was asked, 1 when it could not (no connection...), 2 on a usage error. Every size, count and wait
 * is capped.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include <arpa/inet.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "pki.h"
#include "clock.h"
#include "rpc.h"
#include "status.h"
#include "yuebao.pb-c.h"

#define MAX_BYTES (64u << 20) /* largest message it builds */
#define MAX_REPLY (4u << 20)  /* largest reply it reads */
#define MAX_CONNS 4096        /* hold: connections at once */
#define MAX_HOLD_S 600        /* hold: seconds */
#define MAX_TIMEOUT_MS 120000 /* any single wait */
#define MAX_COUNT 10000       /* repeated sends */
#define MAX_ABRUPT_THREADS 16 /* abrupt: sessions at once */
#define CHUNK (64u << 10)     /* write size of big frames */
#define SP_PROTO_REQ0 0x30    /* the SP protocol numbers of REQ and REP */
#define SP_PROTO_REP0 0x31
#define REQUEST_ID 0x80000001u /* first request id of a REQ socket */

static const char usage_text[] =
    "usage: ybprobe --server URL --ca F --cert F --key F [options] MODE [ARGS]\n"
    "\n"
    "A hostile yuebao client for tests. The TLS handshake uses --cert/--key; the\n"
    "signed envelope uses --envelope-cert/--envelope-key (default: the same).\n"
    "\n"
    "Options:\n"
    "  --timeout-ms N      wait at most N ms for each reply (default 5000)\n"
    "  --sent-at-offset S  stamp requests S seconds off the real clock (a replay)\n"
    "  --no-deadline       send deadline 0 (none) instead of the stamp + --timeout-ms\n"
    "  --envelope-cert F --envelope-key F  the identity inside the envelope\n"
    "  --count N           repeat the mode N times (random, random-raw, bad-signature)\n"
    "  --bind ADDR         connect from this IPv4 address (e.g. 127.0.0.2), to look\n"
    "                      like another source\n"
    "\n"
    "Modes:\n"
    "  ping                     a correct signed Ping\n"
    "  random N                 a frame of N random bytes where an RpcRequest belongs\n"
    "  random-raw N             N random bytes on the TLS stream after the SP handshake\n"
    "  truncated                a signed Ping request cut in the middle\n"
    "  bad-length               an RpcRequest whose certificate field claims 2 GiB\n"
    "  bad-payload              a signed Submit whose payload is a truncated SubmitRequest\n"
    "  oversized BYTES          a signed Ping RpcRequest padded to exactly BYTES bytes\n"
    "  unknown-method NAME      a signed call of /yuebao.v1.Returns/NAME\n"
    "  bad-signature            a signed Ping with one byte of its signature flipped\n"
    "  disconnect before-reply  a GetCatalog request, then close without reading\n"
    "  disconnect mid-request   half a request frame, then close\n"
    "  abrupt KIND N P          N sessions (P at a time) that end without a TLS\n"
    "                           shutdown: reset (an RST right after the handshake),\n"
    "                           mid-frame (close inside a request frame) or\n"
    "                           after-request (close after a whole signed GetCatalog)\n"
    "  noread K                 K GetCatalog requests on one connection, never read\n"
    "  hold M S tcp|tls|sp      M connections held S seconds: tcp never starts TLS,\n"
    "                           tls finishes the handshake and sends nothing, sp also\n"
    "                           finishes the SP handshake and sends no request;\n"
    "                           SIGUSR1 prints how many the server has not closed\n"
    "  abandon N                N clients killed 1-32 ms into connecting (each a child\n"
    "                           process running the yuebao client's own code)\n";

struct options {
	const char *url, *ca, *cert, *key, *env_cert, *env_key;
	const char *bind; /* local IPv4 address, or NULL: the kernel's choice */
	int timeout_ms;
	long long offset_s;
	long count;
	bool no_deadline;
};

static struct options opt = {.timeout_ms = 5000, .count = 1};
static nng_tls_config *tls_cfg;
static struct pki_identity *envelope_id;

/* ---- small helpers ---------------------------------------------------- */

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)(v & 0xff);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)(v & 0xff);
}

/* Parses a whole number in [lo, hi]; -1 when it is not one. */
static int parse_long(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* A peer's text, one line, without control bytes. */
static void print_clean(const char *s)
{
	for (size_t i = 0; s[i] != '\0' && i < 300; i++)
		putchar((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i]);
}

/* ---- streams ---------------------------------------------------------- */

/*
 * Completions signalled from nng's callback threads, one bit per operation.
 * Every wait is timed here rather than by nng: nng 1.5's TLS stream does not
 * always complete an aborted send (after the peer reset the connection it
 * can wait forever), and a timed-out receive closes the TLS connection.
 */
struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned done;
};

struct op {
	struct waiter *w;
	unsigned bit;
	nng_aio *aio;
	nng_iov iov;
};

static void waiter_init(struct waiter *w)
{
	pthread_mutex_init(&w->mu, NULL);
	clock_cond_init(&w->cv);
	w->done = 0;
}

static void waiter_fini(struct waiter *w)
{
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
}

/* Waits until a bit of mask is done or ms pass; returns the done bits of mask. */
static unsigned waiter_wait(struct waiter *w, unsigned mask, int ms)
{
	struct timespec until = clock_monotonic_after(ms);
	unsigned done;

	pthread_mutex_lock(&w->mu);
	while ((w->done & mask) == 0)
		if (pthread_cond_timedwait(&w->cv, &w->mu, &until) != 0)
			break;
	done = w->done & mask;
	pthread_mutex_unlock(&w->mu);
	return done;
}

static void op_cb(void *arg)
{
	struct op *op = arg;

	pthread_mutex_lock(&op->w->mu);
	op->w->done |= op->bit;
	pthread_cond_broadcast(&op->w->cv);
	pthread_mutex_unlock(&op->w->mu);
}

static int op_init(struct op *op, struct waiter *w, unsigned bit)
{
	op->w = w;
	op->bit = bit;
	return nng_aio_alloc(&op->aio, op_cb, op);
}

static void op_fini(struct op *op)
{
	if (op->aio != NULL)
		nng_aio_free(op->aio);
	op->aio = NULL;
}

/* Starts a send or a receive of buf[0..len). */
static void op_start(struct op *op, nng_stream *s, bool send, void *buf, size_t len)
{
	pthread_mutex_lock(&op->w->mu);
	op->w->done &= ~op->bit;
	pthread_mutex_unlock(&op->w->mu);
	op->iov.iov_buf = buf;
	op->iov.iov_len = len;
	nng_aio_set_iov(op->aio, 1, &op->iov);
	nng_aio_set_timeout(op->aio, NNG_DURATION_INFINITE);
	if (send)
		nng_stream_send(s, op->aio);
	else
		nng_stream_recv(s, op->aio);
}

/*
 * Ends an operation that is still pending: abort it, then close the stream,
 * then give up on the process. Returns 0 when it had already completed, 1
 * when the abort ended it, 2 when the stream had to be closed.
 */
static int op_stop(struct op *op, nng_stream *s)
{
	if (waiter_wait(op->w, op->bit, 0))
		return 0;
	nng_aio_abort(op->aio, NNG_ETIMEDOUT);
	if (waiter_wait(op->w, op->bit, 1000))
		return 1;
	nng_stream_close(s);
	if (waiter_wait(op->w, op->bit, 2000))
		return 2;
	fprintf(stderr, "ybprobe: a stream operation is stuck after abort and close: giving up\n");
	fflush(stdout);
	_exit(1);
}

/* Moves exactly len bytes within timeout_ms; *done gets what moved. */
static int stream_all(nng_stream *s, bool send, void *buf, size_t len, int timeout_ms, size_t *done)
{
	int64_t end = clock_monotonic_ms() + timeout_ms;
	struct waiter w;
	struct op op = {0};
	int rv = 0;

	*done = 0;
	waiter_init(&w);
	if ((rv = op_init(&op, &w, 1)) != 0)
		goto out;
	while (*done < len) {
		int64_t left = end - clock_monotonic_ms();
		size_t want = len - *done, n;
		if (left <= 0) {
			rv = NNG_ETIMEDOUT;
			break;
		}
		if (send && want > CHUNK)
			want = CHUNK;
		op_start(&op, s, send, (uint8_t *)buf + *done, want);
		if (!waiter_wait(&w, 1, (int)left)) {
			op_stop(&op, s);
			rv = NNG_ETIMEDOUT;
			break;
		}
		rv = nng_aio_result(op.aio);
		n = nng_aio_count(op.aio);
		*done += n;
		if (rv != 0)
			break;
		if (n == 0) {
			rv = NNG_ECLOSED;
			break;
		}
	}
out:
	op_fini(&op);
	waiter_fini(&w);
	return rv;
}

enum conn_kind { CONN_TCP, CONN_TLS, CONN_SP };

/*
 * Dials the daemon: plain TCP (CONN_TCP), a finished TLS handshake
 * (CONN_TLS: the daemon's SP header is read, which drives the handshake, and
 * nothing is sent), or the whole SP handshake of a REQ peer (CONN_SP).
 * On failure *why says what failed.
 */
static int conn_open(enum conn_kind kind, nng_stream **out, const char **why)
{
	char url[300];
	nng_stream_dialer *d = NULL;
	nng_stream *s = NULL;
	struct waiter w;
	struct op op = {0};
	uint8_t hdr[8] = {0, 'S', 'P', 0, 0, SP_PROTO_REQ0, 0, 0}, peer[8];
	size_t n;
	int rv;

	*out = NULL;
	*why = "dial";
	waiter_init(&w);
	if (kind == CONN_TCP)
		snprintf(url, sizeof(url), "tcp://%s", opt.url + strlen("tls+tcp://"));
	else
		snprintf(url, sizeof(url), "%s", opt.url);
	if ((rv = nng_stream_dialer_alloc(&d, url)) != 0)
		goto done;
	if (opt.bind != NULL) {
		nng_sockaddr local = {.s_in = {.sa_family = NNG_AF_INET}};
		if (inet_pton(AF_INET, opt.bind, &local.s_in.sa_addr) != 1) {
			rv = NNG_EADDRINVAL;
			goto done;
		}
		if ((rv = nng_stream_dialer_set_addr(d, NNG_OPT_LOCADDR, &local)) != 0)
			goto done;
	}
	if (kind != CONN_TCP &&
	    (rv = nng_stream_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, tls_cfg)) != 0)
		goto done;
	if ((rv = op_init(&op, &w, 1)) != 0)
		goto done;
	nng_aio_set_timeout(op.aio, opt.timeout_ms);
	nng_stream_dialer_dial(d, op.aio);
	if (!waiter_wait(&w, 1, opt.timeout_ms + 1000)) {
		nng_aio_abort(op.aio, NNG_ETIMEDOUT);
		nng_aio_wait(op.aio);
	}
	if ((rv = nng_aio_result(op.aio)) != 0)
		goto done;
	s = nng_aio_get_output(op.aio, 0);
	if (kind == CONN_TCP)
		goto done;
	*why = "TLS handshake (reading the daemon's SP header)";
	if ((rv = stream_all(s, false, peer, sizeof(peer), opt.timeout_ms, &n)) != 0)
		goto done;
	*why = "SP header";
	if (peer[1] != 'S' || peer[2] != 'P' || peer[5] != SP_PROTO_REP0) {
		rv = NNG_EPROTO;
		goto done;
	}
	if (kind == CONN_SP &&
	    (rv = stream_all(s, true, hdr, sizeof(hdr), opt.timeout_ms, &n)) != 0)
		goto done;
done:
	op_fini(&op);
	waiter_fini(&w);
	if (d != NULL)
		nng_stream_dialer_free(d);
	if (rv != 0 && s != NULL) {
		nng_stream_close(s);
		nng_stream_free(s);
		s = NULL;
	}
	*out = s;
	return rv;
}

static void conn_close(nng_stream *s)
{
	if (s != NULL) {
		nng_stream_close(s);
		nng_stream_free(s);
	}
}

/* What came back for one request. */
struct outcome {
	char text[700];
};

/* Reads the rest of a reply whose first `have` header bytes are in head, and describes it. */
static void finish_reply(nng_stream *s, uint8_t head[8], size_t have, struct outcome *o)
{
	uint8_t *body = NULL;
	uint64_t len;
	size_t n;
	int rv;
	Yuebao__V1__RpcReply *rep;

	if (have < 8 &&
	    (rv = stream_all(s, false, head + have, 8 - have, opt.timeout_ms, &n)) != 0) {
		snprintf(o->text, sizeof(o->text), "a reply cut off in its frame header (%s)",
		         nng_strerror(rv));
		return;
	}
	len = get64(head);
	if (len < 4 || len > MAX_REPLY) {
		snprintf(o->text, sizeof(o->text), "a reply frame of %" PRIu64 " bytes (not read)",
		         len);
		return;
	}
	if ((body = malloc(len)) == NULL) {
		snprintf(o->text, sizeof(o->text), "out of memory for the reply");
		return;
	}
	if ((rv = stream_all(s, false, body, len, opt.timeout_ms, &n)) != 0) {
		snprintf(o->text, sizeof(o->text),
		         "a reply cut off after %zu of %" PRIu64 " bytes (%s)", n, len,
		         nng_strerror(rv));
	} else if ((rep = yuebao__v1__rpc_reply__unpack(NULL, len - 4, body + 4)) == NULL) {
		snprintf(o->text, sizeof(o->text),
		         "a reply of %" PRIu64 " bytes that is not an RpcReply", len);
	} else {
		snprintf(o->text, sizeof(o->text), "reply %s: %s", status_name((int)rep->status),
		         rep->message && rep->message[0] ? rep->message : "(no message)");
		yuebao__v1__rpc_reply__free_unpacked(rep, NULL);
	}
	free(body);
}

/*
 * Sends one request on a fresh SP connection and reads the reply. The
 * frame is an 8-byte length, the request id and body, unless raw: then body
 * goes on the stream as it is. A receive is pending while it sends, so a
 * daemon that hangs up mid-message (a frame above its limit) is noticed.
 * early: close after half the frame (mid-request) or after all of it,
 * before the reply.
 */
enum early { READ_REPLY, CLOSE_MID_REQUEST, CLOSE_BEFORE_REPLY };

static int exchange(const uint8_t *body, size_t len, bool raw, enum early early, struct outcome *o)
{
	nng_stream *s;
	const char *why;
	uint8_t head[12], rhead[8];
	size_t hlen = raw ? 0 : sizeof(head);
	size_t total, sent = 0;
	struct waiter w;
	struct op tx = {0}, rx = {0};
	enum { SENT_ALL, PEER_ENDED, SEND_FAILED, STALLED } how = SENT_ALL;
	int rv, send_rv = 0, closed_by_us = 0;

	if ((rv = conn_open(CONN_SP, &s, &why)) != 0) {
		snprintf(o->text, sizeof(o->text), "could not connect: %s failed: %s", why,
		         nng_strerror(rv));
		return 1;
	}
	waiter_init(&w);
	if (op_init(&tx, &w, 1) != 0 || op_init(&rx, &w, 2) != 0) {
		snprintf(o->text, sizeof(o->text), "out of memory");
		op_fini(&tx);
		op_fini(&rx);
		waiter_fini(&w);
		conn_close(s);
		return 1;
	}
	put64(head, (uint64_t)len + 4);
	put32(head + 8, REQUEST_ID);
	total = hlen + (early == CLOSE_MID_REQUEST ? len / 2 : len);
	op_start(&rx, s, false, rhead, sizeof(rhead));
	while (sent < total) {
		uint8_t *p = sent < hlen ? head + sent : (uint8_t *)body + (sent - hlen);
		size_t n = sent < hlen ? hlen - sent : total - sent;
		unsigned got;
		if (n > CHUNK)
			n = CHUNK;
		op_start(&tx, s, true, p, n);
		got = waiter_wait(&w, 3, opt.timeout_ms);
		if (got & 1) {
			sent += nng_aio_count(tx.aio);
			if ((send_rv = nng_aio_result(tx.aio)) != 0) {
				how = SEND_FAILED;
				break;
			}
			continue;
		}
		how = got & 2 ? PEER_ENDED : STALLED;
		closed_by_us = op_stop(&tx, s) == 2;
		break;
	}
	if (early != READ_REPLY && how == SENT_ALL) {
		if (early == CLOSE_MID_REQUEST)
			snprintf(o->text, sizeof(o->text),
			         "closed the connection after %zu of %zu bytes of the request",
			         sent - hlen, len);
		else
			snprintf(
			    o->text, sizeof(o->text),
			    "sent the whole request and closed the connection before the reply");
		goto out;
	}
	if (!waiter_wait(&w, 2, closed_by_us ? 0 : opt.timeout_ms)) {
		if (how == STALLED)
			snprintf(
			    o->text, sizeof(o->text),
			    "the daemon stopped reading after %zu of %zu bytes; no reply in %d ms",
			    sent, hlen + len, opt.timeout_ms);
		else
			snprintf(o->text, sizeof(o->text), "no reply in %d ms", opt.timeout_ms);
		goto out;
	}
	rv = nng_aio_result(rx.aio);
	if (rv != 0 || nng_aio_count(rx.aio) == 0) {
		/* nng reports a reset as "refused" or "shut": the daemon hung up either way. */
		if ((how == PEER_ENDED || how == SEND_FAILED) && !raw)
			snprintf(
			    o->text, sizeof(o->text),
			    "the frame announced %zu bytes; after %zu were sent the server closed "
			    "the connection, no reply",
			    len + 4, sent);
		else if (how == PEER_ENDED || how == SEND_FAILED)
			snprintf(
			    o->text, sizeof(o->text),
			    "after %zu bytes were sent the server closed the connection, no reply",
			    sent);
		else if (closed_by_us)
			snprintf(o->text, sizeof(o->text),
			         "sending stalled after %zu of %zu bytes, no reply", sent,
			         hlen + len);
		else
			snprintf(o->text, sizeof(o->text),
			         "connection closed by the server, no reply");
		goto out;
	}
	finish_reply(s, rhead, nng_aio_count(rx.aio), o);
	if (how == SEND_FAILED) {
		size_t l = strlen(o->text);
		snprintf(o->text + l, sizeof(o->text) - l, " (sending failed after %zu bytes: %s)",
		         sent, nng_strerror(send_rv));
	}
out:
	op_stop(&rx, s);
	op_stop(&tx, s);
	op_fini(&tx);
	op_fini(&rx);
	waiter_fini(&w);
	conn_close(s);
	return 0;
}

/* ---- requests --------------------------------------------------------- */

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n ? n : 1);

	if (buf != NULL)
		*len = protobuf_c_message_pack(m, buf);
	return buf;
}

/*
 * A signed RpcRequest for method (the short name) and payload, stamped
 * --sent-at-offset off the clock; flip_sig corrupts one signature byte.
 * The caller frees *wire. 0, or 1 with a message printed.
 */
static int build_request(const char *method, const uint8_t *payload, size_t payload_len,
                         bool flip_sig, uint8_t **wire, size_t *wire_len)
{
	Yuebao__V1__RpcRequest req = YUEBAO__V1__RPC_REQUEST__INIT;
	char full[200], id[RPC_CALL_ID_LEN + 1];
	uint8_t *signed_bytes = NULL, *sig = NULL;
	size_t signed_len = 0, sig_len = 0, cert_len = 0;
	struct errbuf eb = {{0}};
	int rc = 1;

	snprintf(full, sizeof(full), "%s%s", RPC_METHOD_PREFIX, method);
	if (rpc_new_call_id(id) != YB_OK) {
		fprintf(stderr, "ybprobe: cannot make a call id\n");
		return 1;
	}
	req.method = full;
	req.call_id = id;
	req.sent_at_ms = clock_now_ms() + opt.offset_s * 1000;
	/* As the real client: a deadline on the caller's (here: shifted) clock. */
	req.deadline_ms = opt.no_deadline ? 0 : req.sent_at_ms + opt.timeout_ms;
	req.payload.data = (uint8_t *)payload;
	req.payload.len = payload_len;
	req.caller_cert.data = (uint8_t *)pki_identity_cert(envelope_id, &cert_len);
	req.caller_cert.len = cert_len;
	req.language = "en";
	if (rpc_signed_bytes(full, id, req.sent_at_ms, req.deadline_ms, payload, payload_len,
	                     &signed_bytes, &signed_len) != YB_OK ||
	    pki_sign(envelope_id, signed_bytes, signed_len, &sig, &sig_len, &eb) != YB_OK) {
		fprintf(stderr, "ybprobe: cannot sign: %s\n", eb.msg);
		goto done;
	}
	if (flip_sig && sig_len > 0)
		sig[sig_len - 1] ^= 0x5a; /* inside the S integer: still DER, wrong value */
	req.signature.data = sig;
	req.signature.len = sig_len;
	if ((*wire = pack(&req.base, wire_len)) == NULL) {
		fprintf(stderr, "ybprobe: out of memory\n");
		goto done;
	}
	rc = 0;
done:
	free(signed_bytes);
	free(sig);
	return rc;
}

/* Sends a request and prints "ybprobe: MODE: WHAT: OUTCOME". */
static int send_and_report(const char *mode, const char *what, const uint8_t *body, size_t len,
                           enum early early)
{
	struct outcome o = {{0}};
	int rc = exchange(body, len, false, early, &o);

	printf("ybprobe: %s: sent %s (%zu bytes): ", mode, what, len);
	print_clean(o.text);
	putchar('\n');
	fflush(stdout);
	return rc;
}

static int signed_call(const char *mode, const char *method, const uint8_t *payload,
                       size_t payload_len, bool flip_sig, enum early early, const char *what)
{
	uint8_t *wire = NULL;
	size_t len = 0;
	int rc;

	if (build_request(method, payload, payload_len, flip_sig, &wire, &len) != 0)
		return 1;
	rc = send_and_report(mode, what, wire, len, early);
	free(wire);
	return rc;
}

static int mode_random(bool raw, long long n)
{
	uint8_t *buf = malloc((size_t)n ? (size_t)n : 1);
	int rc = 0;

	if (buf == NULL)
		return 1;
	for (long i = 0; i < opt.count && rc == 0; i++) {
		char what[80];
		if (pki_random(buf, (size_t)n) != YB_OK) {
			rc = 1;
			break;
		}
		if (!raw) {
			snprintf(what, sizeof(what), "a frame of %lld random bytes", n);
			rc = send_and_report("random", what, buf, (size_t)n, READ_REPLY);
		} else {
			struct outcome o = {{0}};
			rc = exchange(buf, (size_t)n, true, READ_REPLY, &o);
			printf(
			    "ybprobe: random-raw: sent %lld random bytes after the SP handshake: ",
			    n);
			print_clean(o.text);
			putchar('\n');
			fflush(stdout);
		}
	}
	free(buf);
	return rc;
}

static int mode_truncated(void)
{
	uint8_t *wire = NULL;
	size_t len = 0;
	int rc;

	if (build_request("Ping", NULL, 0, false, &wire, &len) != 0)
		return 1;
	/* Half way lands inside the caller's certificate, a length-delimited field. */
	rc = send_and_report("truncated", "the first half of a signed Ping RpcRequest", wire,
	                     len / 2, READ_REPLY);
	free(wire);
	return rc;
}

static int mode_bad_length(void)
{
	/* method, call id, then caller_cert (field 5) claiming 0x7fffffff bytes. */
	static const char method[] = "/yuebao.v1.Returns/Ping";
	char id[RPC_CALL_ID_LEN + 1];
	uint8_t buf[200];
	size_t n = 0;

	if (rpc_new_call_id(id) != YB_OK)
		return 1;
	buf[n++] = (1 << 3) | 2;
	buf[n++] = (uint8_t)strlen(method);
	memcpy(buf + n, method, strlen(method));
	n += strlen(method);
	buf[n++] = (2 << 3) | 2;
	buf[n++] = RPC_CALL_ID_LEN;
	memcpy(buf + n, id, RPC_CALL_ID_LEN);
	n += RPC_CALL_ID_LEN;
	buf[n++] = (5 << 3) | 2;
	buf[n++] = 0xff;
	buf[n++] = 0xff;
	buf[n++] = 0xff;
	buf[n++] = 0xff;
	buf[n++] = 0x07;
	memset(buf + n, 'A', 16);
	n += 16;
	return send_and_report("bad-length",
	                       "an RpcRequest whose caller_cert field claims 2147483647 bytes", buf,
	                       n, READ_REPLY);
}

static int mode_bad_payload(void)
{
	Yuebao__V1__SubmitRequest sub = YUEBAO__V1__SUBMIT_REQUEST__INIT;
	uint8_t *payload;
	size_t len = 0;
	int rc;

	sub.org = "ZFW-JG";
	sub.period = "2020-01";
	sub.reason = "a reason long enough that cutting the message ends inside it";
	if ((payload = pack(&sub.base, &len)) == NULL)
		return 1;
	rc = signed_call("bad-payload", "Submit", payload, len - 10, false, READ_REPLY,
	                 "a signed Submit whose payload is a SubmitRequest cut short");
	free(payload);
	return rc;
}

/* A PingRequest carrying pad bytes in field 15, which it ignores; *len gets its size. */
static uint8_t *padding_payload(size_t pad, size_t *len)
{
	uint8_t *p = malloc(pad + 16);
	size_t n = 0, v = pad;

	if (p == NULL)
		return NULL;
	p[n++] = (15 << 3) | 2;
	do {
		p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v > 0);
	memset(p + n, 'x', pad);
	*len = n + pad;
	return p;
}

/* A signed Ping whose RpcRequest is exactly `bytes` long (the frame adds 4). */
static int mode_sized(long long bytes)
{
	size_t pad = (size_t)bytes > 2048 ? (size_t)bytes - 2048 : 0, plen = 0, wlen = 0;
	uint8_t *payload = NULL, *wire = NULL;
	int rc;

	/* A DER signature is 70 to 72 bytes: adjust and re-sign until it fits. */
	for (int i = 0; i < 64; i++) {
		free(payload);
		free(wire);
		wire = NULL;
		if ((payload = padding_payload(pad, &plen)) == NULL ||
		    build_request("Ping", payload, plen, false, &wire, &wlen) != 0) {
			free(payload);
			return 1;
		}
		if (wlen == (size_t)bytes || (wlen > (size_t)bytes && pad == 0))
			break;
		if (wlen < (size_t)bytes)
			pad += (size_t)bytes - wlen;
		else
			pad -= wlen - (size_t)bytes > pad ? pad : wlen - (size_t)bytes;
	}
	rc = send_and_report("oversized", "a signed Ping RpcRequest with padding", wire, wlen,
	                     READ_REPLY);
	free(payload);
	free(wire);
	return rc;
}

/*
 * K GetCatalog requests (distinct request ids) on one connection, never
 * reading a reply, then the connection is held for the reply timeout.
 */
static int mode_noread(long long k)
{
	uint8_t *wire = NULL, head[12];
	size_t len = 0, n;
	nng_stream *s;
	const char *why;
	long long i;
	int rv;

	if (build_request("GetCatalog", NULL, 0, false, &wire, &len) != 0)
		return 1;
	if ((rv = conn_open(CONN_SP, &s, &why)) != 0) {
		printf("ybprobe: noread: could not connect: %s failed: %s\n", why,
		       nng_strerror(rv));
		free(wire);
		return 1;
	}
	for (i = 0; i < k; i++) {
		put64(head, (uint64_t)len + 4);
		put32(head + 8, REQUEST_ID + (uint32_t)i);
		if ((rv = stream_all(s, true, head, sizeof(head), opt.timeout_ms, &n)) != 0 ||
		    (rv = stream_all(s, true, wire, len, opt.timeout_ms, &n)) != 0)
			break;
	}
	{
		struct timespec t = {opt.timeout_ms / 1000, (opt.timeout_ms % 1000) * 1000000L};
		nanosleep(&t, NULL);
	}
	printf("ybprobe: noread: sent %lld of %lld GetCatalog requests on one connection (%s) and "
	       "read no reply for %d ms\n",
	       i, k, rv ? nng_strerror(rv) : "all written", opt.timeout_ms);
	conn_close(s);
	free(wire);
	return 0;
}

/* ---- abrupt ----------------------------------------------------------- */

/*
 * Sessions that end without a TLS shutdown, made with OpenSSL directly so
 * that the client controls exactly when and how its socket goes: nng's
 * streams cannot reset a connection.
 */
static int usage(const char *why);

enum abrupt_kind { ABRUPT_RESET, ABRUPT_MID_FRAME, ABRUPT_AFTER_REQUEST };

struct abrupt_run {
	SSL_CTX *ctx;
	struct sockaddr_in addr;
	enum abrupt_kind kind;
	long n;                /* sessions for each thread */
	atomic_long done;      /* sessions that got as far as their kind asks */
	pthread_mutex_t build; /* build_request is not known to be thread-safe */
};

/*
 * A TCP connection to addr with TLS established on it, or NULL. Retried
 * for up to a second, as a real client would: the daemon may be listening
 * again just then (server_tick), which refuses or ends a few connections.
 */
static SSL *abrupt_connect(struct abrupt_run *r, int *fd)
{
	const struct timespec pause = {0, 20 * 1000000};

	for (int attempt = 0; attempt < 50; attempt++) {
		SSL *ssl = NULL;
		if (attempt > 0)
			nanosleep(&pause, NULL);
		if ((*fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
			return NULL;
		if (connect(*fd, (struct sockaddr *)&r->addr, sizeof(r->addr)) == 0 &&
		    (ssl = SSL_new(r->ctx)) != NULL) {
			SSL_set_fd(ssl, *fd);
			if (SSL_connect(ssl) == 1)
				return ssl;
		}
		SSL_free(ssl);
		close(*fd);
	}
	return NULL;
}

/* Writes all of buf through ssl: true when it did. */
static bool abrupt_write(SSL *ssl, const uint8_t *buf, size_t len)
{
	size_t n;

	while (len > 0) {
		if (SSL_write_ex(ssl, buf, len, &n) != 1)
			return false;
		buf += n;
		len -= n;
	}
	return true;
}

/* The SP handshake of a REQ peer: our header out, the daemon's read. */
static bool abrupt_sp(SSL *ssl)
{
	uint8_t hdr[8] = {0, 'S', 'P', 0, 0, SP_PROTO_REQ0, 0, 0}, peer[8];
	size_t got = 0, n;

	if (!abrupt_write(ssl, hdr, sizeof(hdr)))
		return false;
	while (got < sizeof(peer)) {
		if (SSL_read_ex(ssl, peer + got, sizeof(peer) - got, &n) != 1)
			return false;
		got += n;
	}
	return peer[1] == 'S' && peer[2] == 'P' && peer[5] == SP_PROTO_REP0;
}

/*
 * One session of r->kind: reset right after the handshake; half a request
 * frame, then close; or a whole signed request, then close before the reply.
 * Never a close_notify. True when it got as far as its kind asks.
 */
static bool abrupt_one(struct abrupt_run *r)
{
	uint8_t *wire = NULL, *frame = NULL;
	size_t len = 0, flen;
	bool ok = false;
	int fd, rc;
	SSL *ssl = abrupt_connect(r, &fd);

	if (ssl == NULL)
		return false;
	if (r->kind == ABRUPT_RESET) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0}; /* close sends an RST */
		ok = setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0;
		goto out;
	}
	if (!abrupt_sp(ssl))
		goto out;
	pthread_mutex_lock(&r->build);
	rc = build_request("GetCatalog", NULL, 0, false, &wire, &len);
	pthread_mutex_unlock(&r->build);
	if (rc != 0 || (frame = malloc(len + 12)) == NULL)
		goto out;
	put64(frame, (uint64_t)len + 4);
	put32(frame + 8, REQUEST_ID);
	memcpy(frame + 12, wire, len);
	flen = r->kind == ABRUPT_MID_FRAME ? 12 + len / 2 : 12 + len;
	ok = abrupt_write(ssl, frame, flen);
out:
	SSL_free(ssl); /* no SSL_shutdown: no close_notify */
	close(fd);
	free(frame);
	free(wire);
	return ok;
}

static void *abrupt_thread(void *arg)
{
	struct abrupt_run *r = arg;

	for (long i = 0; i < r->n; i++)
		if (abrupt_one(r))
			atomic_fetch_add(&r->done, 1);
	return NULL;
}

/* The TLS client context of --cert, --key and --ca; NULL with a message. */
static SSL_CTX *abrupt_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, opt.cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, opt.key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, opt.ca, NULL) != 1) {
		fprintf(stderr, "ybprobe: cannot set up OpenSSL with --cert, --key and --ca\n");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return ctx;
}

static int mode_abrupt(const char *kind_s, long long n, long long par)
{
	static const char *const kinds[] = {"reset", "mid-frame", "after-request"};
	struct abrupt_run r = {.n = (long)(n / par)};
	pthread_t th[MAX_ABRUPT_THREADS];
	const char *hostport = opt.url + strlen("tls+tcp://");
	const char *colon = strrchr(hostport, ':');
	char host[64];
	int started = 0, rc = 1;

	for (r.kind = ABRUPT_RESET; r.kind <= ABRUPT_AFTER_REQUEST; r.kind++)
		if (strcmp(kind_s, kinds[r.kind]) == 0)
			break;
	if (r.kind > ABRUPT_AFTER_REQUEST)
		return usage("abrupt needs reset, mid-frame or after-request");
	if (n % par != 0)
		return usage("abrupt: N must be a multiple of P");
	r.addr.sin_family = AF_INET;
	if (colon == NULL || (size_t)(colon - hostport) >= sizeof(host))
		return usage("abrupt needs --server tls+tcp://IPv4:PORT");
	snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport), hostport);
	r.addr.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &r.addr.sin_addr) != 1)
		return usage("abrupt needs --server tls+tcp://IPv4:PORT");
	if ((r.ctx = abrupt_ctx()) == NULL)
		return 1;
	pthread_mutex_init(&r.build, NULL);
	atomic_init(&r.done, 0);
	for (; started < par; started++)
		if (pthread_create(&th[started], NULL, abrupt_thread, &r) != 0)
			break;
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (started == par) {
		printf("ybprobe: abrupt %s: %lld sessions, %ld ended as asked\n", kind_s, n,
		       atomic_load(&r.done));
		rc = atomic_load(&r.done) == n ? 0 : 1;
	} else {
		fprintf(stderr, "ybprobe: cannot start threads\n");
	}
	pthread_mutex_destroy(&r.build);
	SSL_CTX_free(r.ctx);
	return rc;
}

/* ---- hold ------------------------------------------------------------- */

struct held {
	nng_stream *s;
	nng_aio *aio;
	uint8_t byte;
	nng_iov iov;
};

static atomic_int n_closed;
static atomic_int stopping;
static volatile sig_atomic_t status_asked; /* SIGUSR1: say how many are still open */

static void ask_status(int sig)
{
	(void)sig;
	status_asked = 1;
}

static void held_cb(void *arg)
{
	struct held *h = arg;
	int rv = nng_aio_result(h->aio);

	/* Bytes from the daemon are ignored; a close or error is counted once. */
	if (rv == 0 && nng_aio_count(h->aio) > 0) {
		nng_aio_set_iov(h->aio, 1, &h->iov);
		nng_stream_recv(h->s, h->aio);
		return;
	}
	if (!atomic_load(&stopping))
		atomic_fetch_add(&n_closed, 1);
}

/*
 * N clients that vanish in the middle of connecting: each is a child process
 * running rpc_client_open, killed 1 to 32 ms after it starts, so that its
 * connection ends wherever the handshake had got to. Children, because nng
 * 1.5.2 cannot safely close a dial in progress inside one process; so this
 * mode runs before nng is used in this one (main), and a child that
 * connects in time just exits.
 */
static int mode_abandon(long long n)
{
	long long killed = 0;

	for (long long i = 0; i < n; i++) {
		/* Spread over the whole handshake, whether it takes 2 ms or (ASan) 30. */
		static const long after_ms[] = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32};
		struct timespec pause = {0, after_ms[i % 10] * 1000000L};
		pid_t pid = fork();

		if (pid < 0) {
			perror("ybprobe: fork");
			return 1;
		}
		if (pid == 0) {
			struct rpc_client_options o = {opt.url, opt.cert, opt.key, opt.ca, 10000};
			struct rpc_client *c = NULL;
			struct errbuf eb = {{0}};
			_exit(rpc_client_open(&o, &c, &eb) == YB_OK ? 0 : 1);
		}
		nanosleep(&pause, NULL);
		killed += kill(pid, SIGKILL) == 0;
		waitpid(pid, NULL, 0);
	}
	printf("ybprobe: abandon: %lld connection attempts, %lld killed mid-way\n", n, killed);
	return 0;
}

static int mode_hold(long long m, long long secs, const char *kind_s)
{
	enum conn_kind kind;
	struct held *h = calloc((size_t)m, sizeof(*h));
	long long opened = 0;
	const char *why = "";
	int rv = 0, first_err = 0;
	int64_t t0, end;

	if (h == NULL)
		return 1;
	if (strcmp(kind_s, "tcp") == 0)
		kind = CONN_TCP;
	else if (strcmp(kind_s, "tls") == 0)
		kind = CONN_TLS;
	else if (strcmp(kind_s, "sp") == 0)
		kind = CONN_SP;
	else {
		fprintf(stderr, "ybprobe: hold: kind must be tcp, tls or sp\n");
		free(h);
		return 2;
	}
	signal(SIGUSR1, ask_status);
	t0 = clock_monotonic_ms();
	for (opened = 0; opened < m; opened++) {
		if ((rv = conn_open(kind, &h[opened].s, &why)) != 0) {
			first_err = rv;
			break;
		}
		if (nng_aio_alloc(&h[opened].aio, held_cb, &h[opened]) != 0) {
			conn_close(h[opened].s);
			h[opened].s = NULL;
			first_err = NNG_ENOMEM;
			break;
		}
		h[opened].iov.iov_buf = &h[opened].byte;
		h[opened].iov.iov_len = 1;
		nng_aio_set_iov(h[opened].aio, 1, &h[opened].iov);
		nng_stream_recv(h[opened].s, h[opened].aio);
	}
	fprintf(stderr, "ybprobe: hold: %lld %s connections open after %lld ms (pid %ld)\n", opened,
	        kind_s, (long long)(clock_monotonic_ms() - t0), (long)getpid());
	end = clock_monotonic_ms() + secs * 1000;
	for (int asked = 0; clock_monotonic_ms() < end && atomic_load(&n_closed) < opened;) {
		struct timespec t = {0, 50 * 1000000L};
		if (status_asked) {
			status_asked = 0;
			fprintf(stderr, "ybprobe: hold: status %d: %lld of %lld still open\n",
			        ++asked, opened - atomic_load(&n_closed), opened);
			fflush(stderr);
		}
		nanosleep(&t, NULL);
	}
	printf("ybprobe: hold: held %lld of %lld %s connections (%s) for up to %lld s: the server "
	       "closed %d of them",
	       opened, m, kind_s,
	       kind == CONN_TCP   ? "TCP only, TLS never started"
	       : kind == CONN_TLS ? "TLS handshake done, nothing sent"
	                          : "SP handshake done, no request sent",
	       secs, atomic_load(&n_closed));
	if (atomic_load(&n_closed) == opened && opened > 0)
		printf(" (all closed after %lld ms)", (long long)(clock_monotonic_ms() - t0));
	if (first_err != 0)
		printf("; connection %lld failed: %s: %s", opened + 1, why,
		       nng_strerror(first_err));
	putchar('\n');
	fflush(stdout);
	atomic_store(&stopping, 1);
	for (long long i = 0; i < opened; i++) {
		nng_stream_close(h[i].s);
		nng_aio_stop(h[i].aio);
		nng_aio_free(h[i].aio);
		nng_stream_free(h[i].s);
	}
	free(h);
	return opened == m ? 0 : 1;
}

/* ---- main ------------------------------------------------------------- */

static int usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "ybprobe: %s\n\n", why);
	fputs(usage_text, stderr);
	return 2;
}

/* The number at argv[i], or usage. */
static int arg_num(int argc, char **argv, int i, long long lo, long long hi, long long *out)
{
	if (i >= argc || parse_long(argv[i], lo, hi, out) != 0) {
		fprintf(stderr, "ybprobe: %s needs a number from %lld to %lld\n", argv[i - 1], lo,
		        hi);
		return -1;
	}
	return 0;
}

static int setup(void)
{
	struct errbuf eb = {{0}};
	int nrc;

	if (rpc_tls_config_new(NNG_TLS_MODE_CLIENT, opt.cert, opt.key, opt.ca, NULL, &tls_cfg,
	                       &eb) != YB_OK) {
		fprintf(stderr, "ybprobe: %s\n", eb.msg);
		return 1;
	}
	if ((nrc = rpc_tls_set_server(tls_cfg, opt.url)) != 0) {
		fprintf(stderr, "ybprobe: %s\n", nng_strerror(nrc));
		return 1;
	}
	if (pki_identity_load(opt.env_cert ? opt.env_cert : opt.cert,
	                      opt.env_key ? opt.env_key : opt.key, &envelope_id, &eb) != YB_OK) {
		fprintf(stderr, "ybprobe: %s\n", eb.msg);
		return 1;
	}
	return 0;
}

static int run(int argc, char **argv, int i)
{
	const char *mode = argv[i++];
	long long a = 0, b = 0;

	if (strcmp(mode, "ping") == 0)
		return signed_call("ping", "Ping", NULL, 0, false, READ_REPLY, "a signed Ping");
	if (strcmp(mode, "random") == 0 || strcmp(mode, "random-raw") == 0) {
		if (arg_num(argc, argv, i, 1, MAX_BYTES, &a) != 0)
			return 2;
		return mode_random(mode[6] != '\0', a);
	}
	if (strcmp(mode, "truncated") == 0)
		return mode_truncated();
	if (strcmp(mode, "bad-length") == 0)
		return mode_bad_length();
	if (strcmp(mode, "bad-payload") == 0)
		return mode_bad_payload();
	if (strcmp(mode, "oversized") == 0) {
		if (arg_num(argc, argv, i, 4096, MAX_BYTES, &a) != 0)
			return 2;
		return mode_sized(a);
	}
	if (strcmp(mode, "unknown-method") == 0) {
		if (i >= argc || strlen(argv[i]) > 100)
			return usage("unknown-method needs a NAME of at most 100 bytes");
		return signed_call("unknown-method", argv[i], NULL, 0, false, READ_REPLY,
		                   "a signed call of an unknown method");
	}
	if (strcmp(mode, "bad-signature") == 0) {
		int rc = 0;
		for (long n = 0; n < opt.count && rc == 0; n++)
			rc = signed_call("bad-signature", "Ping", NULL, 0, true, READ_REPLY,
			                 "a signed Ping with a corrupted signature");
		return rc;
	}
	if (strcmp(mode, "disconnect") == 0) {
		if (i < argc && strcmp(argv[i], "before-reply") == 0)
			return signed_call("disconnect", "GetCatalog", NULL, 0, false,
			                   CLOSE_BEFORE_REPLY, "a signed GetCatalog");
		if (i < argc && strcmp(argv[i], "mid-request") == 0)
			return signed_call("disconnect", "GetCatalog", NULL, 0, false,
			                   CLOSE_MID_REQUEST, "half of a signed GetCatalog");
		return usage("disconnect needs before-reply or mid-request");
	}
	if (strcmp(mode, "abrupt") == 0) {
		if (i >= argc || arg_num(argc, argv, i + 1, 1, MAX_COUNT, &a) != 0 ||
		    arg_num(argc, argv, i + 2, 1, MAX_ABRUPT_THREADS, &b) != 0)
			return usage("abrupt needs reset|mid-frame|after-request N P");
		return mode_abrupt(argv[i], a, b);
	}
	if (strcmp(mode, "noread") == 0) {
		if (arg_num(argc, argv, i, 1, MAX_COUNT, &a) != 0)
			return 2;
		return mode_noread(a);
	}
	if (strcmp(mode, "hold") == 0) {
		if (arg_num(argc, argv, i, 1, MAX_CONNS, &a) != 0 ||
		    arg_num(argc, argv, i + 1, 0, MAX_HOLD_S, &b) != 0)
			return 2;
		if (i + 2 >= argc)
			return usage("hold needs M S tcp|tls|sp");
		return mode_hold(a, b, argv[i + 2]);
	}
	return usage("unknown mode");
}

int main(int argc, char **argv)
{
	int i, rc;

	/* A daemon that drops a session may do it while we write: an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *o = argv[i];
		long long v;
		if (strcmp(o, "--help") == 0) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (strcmp(o, "--no-deadline") == 0) {
			opt.no_deadline = true;
			continue;
		}
		if (i + 1 >= argc)
			return usage("an option lacks its value");
		if (strcmp(o, "--server") == 0)
			opt.url = argv[++i];
		else if (strcmp(o, "--ca") == 0)
			opt.ca = argv[++i];
		else if (strcmp(o, "--cert") == 0)
			opt.cert = argv[++i];
		else if (strcmp(o, "--key") == 0)
			opt.key = argv[++i];
		else if (strcmp(o, "--envelope-cert") == 0)
			opt.env_cert = argv[++i];
		else if (strcmp(o, "--envelope-key") == 0)
			opt.env_key = argv[++i];
		else if (strcmp(o, "--bind") == 0)
			opt.bind = argv[++i];
		else if (strcmp(o, "--timeout-ms") == 0) {
			if (arg_num(argc, argv, ++i, 1, MAX_TIMEOUT_MS, &v) != 0)
				return 2;
			opt.timeout_ms = (int)v;
		} else if (strcmp(o, "--sent-at-offset") == 0) {
			if (arg_num(argc, argv, ++i, -10LL * 365 * 86400, 10LL * 365 * 86400, &v) !=
			    0)
				return 2;
			opt.offset_s = v;
		} else if (strcmp(o, "--count") == 0) {
			if (arg_num(argc, argv, ++i, 1, MAX_COUNT, &v) != 0)
				return 2;
			opt.count = (long)v;
		} else
			return usage("unknown option");
	}
	if (i >= argc)
		return usage("no mode");
	if (opt.url == NULL || strncmp(opt.url, "tls+tcp://", 10) != 0 || strlen(opt.url) > 250 ||
	    opt.ca == NULL || opt.cert == NULL || opt.key == NULL)
		return usage("--server tls+tcp://HOST:PORT, --ca, --cert and --key are required");
	/* Before nng starts its threads here: its children must start their own. */
	if (strcmp(argv[i], "abandon") == 0) {
		long long n;
		if (arg_num(argc, argv, i + 1, 1, MAX_COUNT, &n) != 0)
			return 2;
		return mode_abandon(n);
	}
	if (setup() != 0)
		rc = 1;
	else
		rc = run(argc, argv, i);
	if (tls_cfg != NULL)
		nng_tls_config_free(tls_cfg);
	pki_identity_free(envelope_id);
	nng_fini();
	return rc;
}
