/*
 * session.c - nng's REP protocol over accepted TLS streams (see session.h).
 *
 * A session has one read and one write aio, each with at most one
 * operation in flight. Operations are decided under the inbox lock (the
 * busy flag set, the iov filled) and started after it is released, so no
 * TLS work runs under the lock; a busy aio keeps its session alive. The
 * last of (read done, write done, requests held) to finish on a closed
 * session frees it, reaping its aios from nng's own thread, as an aio's
 * callback may not free it.
 */
#include "session.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

/* The SP header: "\0SP\0", the protocol (REQ v0 is 0x30, REP v0 0x31), two zero bytes. */
#define SP_HEADER_LEN 8
#define SP_PROTO_REQ0 0x30
#define SP_PROTO_REP0 0x31
/* Words of a backtrace, as nng's REP allows by default (its TTL). */
#define BACKTRACE_MAX_HOPS 8
#define BACKTRACE_END 0x80000000u

enum session_state { SESSION_NEGOTIATING, SESSION_OPEN, SESSION_CLOSED };
/* What the read aio reads: the peer's SP header, a message's length, its bytes. */
enum read_part { READ_SP_HEADER, READ_LENGTH, READ_MESSAGE };

struct session_request {
	struct session *s;
	struct session_request *next; /* in the inbox, or in the session's send queue */
	uint8_t *data;                /* the backtrace, then the body */
	size_t len, backtrace_len;
	nng_msg *reply; /* once answered: its length, the backtrace and the reply, as sent */
	size_t sent;    /* bytes of it that have left */
};

struct session {
	struct session_inbox *in;
	struct session *prev, *next; /* the inbox's sessions not yet freed */
	nng_stream *stream;
	nng_aio *rx, *tx;
	enum session_state state;
	bool rx_busy, tx_busy;
	bool header_sent; /* our SP header has left */
	enum read_part part;
	uint8_t head[SP_HEADER_LEN]; /* the SP header, then each message's length */
	size_t got;                  /* bytes of the current part read */
	int64_t read_by_ms;          /* monotonic deadline of the part being read; 0: none */
	int64_t write_by_ms;         /* of the header or reply being written */
	uint8_t *message;            /* READ_MESSAGE: the bytes so far */
	size_t message_len;
	/* Requests waiting, served or being answered: each is held by the inbox,
	 * a worker or the send queue, and keeps the session alive. */
	int pending;
	struct session_request *send_head, *send_tail; /* the first is being sent */
	char source[64];
};

struct session_inbox {
	struct session_limits lim;
	pthread_mutex_t lock;
	pthread_cond_t ready; /* a request waits, or the inbox closed */
	pthread_cond_t freed; /* a session was freed */
	struct session_request *head, *tail;
	struct session *sessions;
	int n_sessions, serving, sending;
	int64_t logged_ms; /* of the last line log_closing wrote */
	int unlogged;      /* lines log_closing left out since */
	bool draining;     /* no new requests: session_inbox_take returns NULL */
	bool closed;       /* every session closed, and every later one */
};

#define ASSERT_LOCKED(in) assert(pthread_mutex_trylock(&(in)->lock) == EBUSY)

/*
 * Logs why s is closed: at most one line a second, counting the others
 * (a peer can make thousands of these).
 */
static void log_closing(struct session *s, const char *why)
{
	struct session_inbox *in = s->in;
	int64_t now = clock_monotonic_ms();

	ASSERT_LOCKED(in);
	if (in->lim.log == NULL)
		return;
	if (in->logged_ms != 0 && now - in->logged_ms < 1000) {
		in->unlogged++;
		return;
	}
	if (in->unlogged > 0)
		in->lim.log("closing the connection from %s: %s (and %d more closed since the "
		            "last such line)",
		            s->source + 5, why, in->unlogged);
	else
		in->lim.log("closing the connection from %s: %s", s->source + 5, why);
	in->logged_ms = now;
	in->unlogged = 0;
}

static void request_free(struct session_request *r)
{
	if (r == NULL)
		return;
	if (r->reply != NULL)
		nng_msg_free(r->reply);
	free(r->data);
	free(r);
}

/* Puts r at the end of the queue head..tail (the inbox, or a send queue). */
static void append(struct session_request **head, struct session_request **tail,
                   struct session_request *r)
{
	assert(r->next == NULL);
	if (*tail != NULL)
		(*tail)->next = r;
	else
		*head = r;
	*tail = r;
}

/* A request of s is done with (answered, dropped). Under the lock. */
static void release_request(struct session *s, struct session_request *r)
{
	ASSERT_LOCKED(s->in);
	assert(s->pending > 0);
	s->pending--;
	request_free(r);
}

/*
 * Closes s: its stream (which ends both aios' operations) and the replies
 * not yet started. Under the lock: nng_stream_close only marks and
 * schedules, and s cannot be freed meanwhile.
 */
static void close_locked(struct session *s)
{
	struct session_request *r, *next;

	ASSERT_LOCKED(s->in);
	if (s->state == SESSION_CLOSED)
		return;
	s->state = SESSION_CLOSED;
	nng_stream_close(s->stream);
	/* The first is being sent when tx is busy past our header: write_done releases it. */
	if (s->tx_busy && s->header_sent && s->send_head != NULL) {
		r = s->send_head->next;
		s->send_head->next = NULL;
		s->send_tail = s->send_head;
	} else {
		r = s->send_head;
		s->send_head = s->send_tail = NULL;
	}
	for (; r != NULL; r = next) {
		next = r->next;
		s->in->sending--;
		release_request(s, r);
	}
}

/* Whether s is done with and unlinked (the caller frees it after unlocking). */
static bool unlink_if_done(struct session *s)
{
	struct session_inbox *in = s->in;

	ASSERT_LOCKED(in);
	if (s->state != SESSION_CLOSED || s->rx_busy || s->tx_busy || s->pending > 0)
		return false;
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		in->sessions = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	in->n_sessions--;
	pthread_cond_broadcast(&in->freed);
	return true;
}

/* Frees an unlinked session; from any thread, its aios' callbacks included. */
static void session_free(struct session *s)
{
	if (s->rx != NULL)
		nng_aio_reap(s->rx);
	if (s->tx != NULL)
		nng_aio_reap(s->tx);
	if (s->stream != NULL) {
		/*
		 * nng 1.5.2's TLS stream completes an operation while the thread
		 * that started it still holds the stream's lock, and frees the
		 * stream without taking it: closing takes the lock, so the
		 * starter has let go of the stream before it is freed.
		 */
		nng_stream_close(s->stream);
		nng_stream_free(s->stream);
	}
	free(s->message);
	free(s);
}

/* An aio's time-out for the deadline at_ms (0: none); a deadline passed gives 1 ms. */
static nng_duration time_left(int64_t at_ms)
{
	int64_t left;

	if (at_ms == 0)
		return NNG_DURATION_INFINITE;
	left = at_ms - clock_monotonic_ms();
	return left < 1 ? 1 : left > INT32_MAX ? INT32_MAX : (nng_duration)left;
}

/*
 * Prepares the next read, if s should read now: the rest of the current
 * part, or the next message's length while fewer than max_pending of its
 * requests are unanswered. Under the lock; returns whether to call
 * nng_stream_recv on s->rx after unlocking.
 */
static bool prepare_read(struct session *s)
{
	const struct session_limits *lim = &s->in->lim;
	nng_iov iov;

	ASSERT_LOCKED(s->in);
	if (s->state == SESSION_CLOSED || s->rx_busy)
		return false;
	switch (s->part) {
	case READ_SP_HEADER:
		iov = (nng_iov){s->head + s->got, SP_HEADER_LEN - s->got};
		break;
	case READ_LENGTH:
		if (s->got == 0 && (s->pending >= lim->max_pending || s->in->draining))
			return false; /* until a reply has left; never once draining */
		iov = (nng_iov){s->head + s->got, 8 - s->got};
		break;
	case READ_MESSAGE:
	default:
		iov = (nng_iov){s->message + s->got, s->message_len - s->got};
		break;
	}
	nng_aio_set_iov(s->rx, 1, &iov);
	/* Between requests a session may idle; within one it may not stall. */
	nng_aio_set_timeout(s->rx, time_left(s->read_by_ms));
	s->rx_busy = true;
	return true;
}

/*
 * Prepares the next write: our SP header, or the rest of the first reply
 * waiting. Under the lock; returns whether to call nng_stream_send on s->tx
 * after unlocking.
 */
static bool prepare_write(struct session *s)
{
	static const uint8_t header[SP_HEADER_LEN] = {0, 'S', 'P', 0, 0, SP_PROTO_REP0, 0, 0};
	struct session_request *r = s->send_head;
	nng_iov iov;

	ASSERT_LOCKED(s->in);
	if (s->state == SESSION_CLOSED || s->tx_busy)
		return false;
	if (!s->header_sent) {
		iov = (nng_iov){(void *)header, sizeof(header)};
		s->write_by_ms = clock_monotonic_ms() + s->in->lim.start_limit_ms;
	} else {
		if (r == NULL)
			return false;
		if (r->sent == 0)
			s->write_by_ms = clock_monotonic_ms() + s->in->lim.send_timeout_ms;
		/* The rest: a stream may take part of a write. */
		iov = (nng_iov){(uint8_t *)nng_msg_body(r->reply) + r->sent,
		                nng_msg_len(r->reply) - r->sent};
	}
	nng_aio_set_iov(s->tx, 1, &iov);
	nng_aio_set_timeout(s->tx, time_left(s->write_by_ms));
	s->tx_busy = true;
	return true;
}

/* Starts what prepare_read/prepare_write decided, then frees s if it is done. */
static void start_or_free(struct session *s, bool read, bool write, bool done)
{
	if (read)
		nng_stream_recv(s->stream, s->rx);
	if (write)
		nng_stream_send(s->stream, s->tx);
	if (done)
		session_free(s);
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/*
 * A whole message came: queues it as a request, or drops it when its
 * backtrace has too many hops, or the inbox drains. False when it ends
 * before its backtrace does: the session is then closed, as nng's REP
 * closes such a pipe. Under the lock.
 */
static bool take_message(struct session *s)
{
	struct session_inbox *in = s->in;
	struct session_request *r;
	size_t at = 0;
	int hops = 0;
	bool ended = false;

	ASSERT_LOCKED(in);
	while (!ended && at + 4 <= s->message_len && hops < BACKTRACE_MAX_HOPS) {
		uint32_t word = (uint32_t)s->message[at] << 24 |
		                (uint32_t)s->message[at + 1] << 16 |
		                (uint32_t)s->message[at + 2] << 8 | s->message[at + 3];
		ended = (word & BACKTRACE_END) != 0;
		at += 4;
		hops++;
	}
	if (!ended || in->draining || (r = calloc(1, sizeof(*r))) == NULL) {
		free(s->message);
		s->message = NULL;
		s->message_len = 0;
		return ended || hops >= BACKTRACE_MAX_HOPS;
	} else {
		r->s = s;
		r->data = s->message;
		r->len = s->message_len;
		r->backtrace_len = at;
		append(&in->head, &in->tail, r);
		s->pending++;
		pthread_cond_signal(&in->ready);
	}
	s->message = NULL;
	s->message_len = 0;
	return true;
}

/* What came on the read aio: the next part, or the end of the session. */
static void read_done(void *arg)
{
	struct session *s = arg;
	struct session_inbox *in = s->in;
	int rv = nng_aio_result(s->rx);
	bool read = false, write = false, done;
	const char *fault = NULL;
	char why[128];

	pthread_mutex_lock(&in->lock);
	s->rx_busy = false;
	if (rv != 0 || s->state == SESSION_CLOSED) {
		/* A peer gone or reset is ordinary; one that stalls is worth a line. */
		if (rv == NNG_ETIMEDOUT) {
			snprintf(why, sizeof(why),
			         s->part == READ_SP_HEADER
			             ? "no TLS handshake and SP header within %d s"
			             : "a request stalled part way for %d s",
			         (s->part == READ_SP_HEADER ? in->lim.start_limit_ms
			                                    : in->lim.stall_limit_ms) /
			             1000);
			fault = why;
		}
		goto close;
	}
	/* A request's bytes have begun: all of it must come by the stall limit. */
	if (s->part == READ_LENGTH && s->got == 0 && nng_aio_count(s->rx) > 0)
		s->read_by_ms = clock_monotonic_ms() + in->lim.stall_limit_ms;
	s->got += nng_aio_count(s->rx);
	switch (s->part) {
	case READ_SP_HEADER:
		if (s->got < SP_HEADER_LEN)
			break;
		if (memcmp(s->head, "\0SP\0", 4) != 0 || s->head[4] != 0 ||
		    s->head[5] != SP_PROTO_REQ0 || s->head[6] != 0 || s->head[7] != 0) {
			fault = "it does not speak nng's REQ protocol";
			goto close;
		}
		s->state = SESSION_OPEN;
		s->part = READ_LENGTH;
		s->got = 0;
		s->read_by_ms = 0;
		break;
	case READ_LENGTH: {
		uint64_t len;
		if (s->got < 8)
			break;
		len = get_be64(s->head);
		if (len > in->lim.recv_max) {
			snprintf(why, sizeof(why),
			         "a message of %llu bytes, over the %zu-byte limit",
			         (unsigned long long)len, in->lim.recv_max);
			fault = why;
			goto close;
		}
		if (len == 0 || (s->message = malloc((size_t)len)) == NULL) {
			fault = len == 0 ? "an empty message" : "out of memory";
			goto close;
		}
		s->message_len = (size_t)len;
		s->part = READ_MESSAGE;
		s->got = 0;
		break;
	}
	case READ_MESSAGE:
		if (s->got < s->message_len)
			break;
		if (!take_message(s)) {
			fault = "a request without a complete backtrace";
			goto close;
		}
		s->part = READ_LENGTH;
		s->got = 0;
		s->read_by_ms = 0;
		break;
	}
	read = prepare_read(s);
	write = prepare_write(s);
	done = false;
	pthread_mutex_unlock(&in->lock);
	start_or_free(s, read, write, done);
	return;
close:
	if (fault != NULL && s->state != SESSION_CLOSED)
		log_closing(s, fault);
	close_locked(s);
	done = unlink_if_done(s);
	pthread_mutex_unlock(&in->lock);
	start_or_free(s, false, false, done);
}

/* Our SP header, or (part of) a reply, has left, or the write failed. */
static void write_done(void *arg)
{
	struct session *s = arg;
	struct session_inbox *in = s->in;
	int rv = nng_aio_result(s->tx);
	bool read = false, write = false, done, replying;

	pthread_mutex_lock(&in->lock);
	s->tx_busy = false;
	replying = s->header_sent && s->send_head != NULL;
	if (!s->header_sent) {
		/* The first write of a session: nng's TLS layer takes 8 bytes whole. */
		if (rv == 0 && nng_aio_count(s->tx) != SP_HEADER_LEN)
			rv = NNG_EINTERNAL;
		s->header_sent = rv == 0;
	} else if (s->send_head != NULL) {
		struct session_request *r = s->send_head;
		r->sent += rv == 0 ? nng_aio_count(s->tx) : 0;
		/* Done when all of it left, or when the rest never will. */
		if (rv != 0 || s->state == SESSION_CLOSED || r->sent == nng_msg_len(r->reply)) {
			s->send_head = r->next;
			if (s->send_head == NULL)
				s->send_tail = NULL;
			in->sending--;
			release_request(s, r);
		}
	}
	if (rv != 0) {
		if (rv == NNG_ETIMEDOUT && replying && s->state != SESSION_CLOSED)
			log_closing(s, "it does not read its replies");
		close_locked(s);
	} else {
		read = prepare_read(s);
		write = prepare_write(s);
	}
	done = unlink_if_done(s);
	pthread_mutex_unlock(&in->lock);
	start_or_free(s, read, write, done);
}

yb_status session_inbox_new(const struct session_limits *lim, struct session_inbox **out,
                            struct errbuf *eb)
{
	struct session_inbox *in = calloc(1, sizeof(*in));

	assert(lim->max_pending >= 1 && lim->recv_max > 0);
	if (in == NULL)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	in->lim = *lim;
	pthread_mutex_init(&in->lock, NULL);
	pthread_cond_init(&in->ready, NULL);
	pthread_cond_init(&in->freed, NULL);
	*out = in;
	return YB_OK;
}

/* "addr:IP" of sa. */
static void source_text(const nng_sockaddr *sa, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (sa->s_family == NNG_AF_INET)
		inet_ntop(AF_INET, &sa->s_in.sa_addr, ip, sizeof(ip));
	else if (sa->s_family == NNG_AF_INET6)
		inet_ntop(AF_INET6, sa->s_in6.sa_addr, ip, sizeof(ip));
	snprintf(out, len, "addr:%s", ip);
}

void session_start(struct session_inbox *in, nng_stream *stream)
{
	struct session *s = calloc(1, sizeof(*s));
	nng_sockaddr remote;
	bool read, write, done;

	if (s == NULL || nng_aio_alloc(&s->rx, read_done, s) != 0 ||
	    nng_aio_alloc(&s->tx, write_done, s) != 0) {
		if (s != NULL) {
			nng_aio_free(s->rx);
			free(s);
		}
		nng_stream_free(stream);
		return;
	}
	s->in = in;
	s->stream = stream;
	s->read_by_ms = clock_monotonic_ms() + in->lim.start_limit_ms;
	if (nng_stream_get_addr(stream, NNG_OPT_REMADDR, &remote) != 0)
		remote.s_family = NNG_AF_UNSPEC;
	source_text(&remote, s->source, sizeof(s->source));
	pthread_mutex_lock(&in->lock);
	s->next = in->sessions;
	if (in->sessions != NULL)
		in->sessions->prev = s;
	in->sessions = s;
	in->n_sessions++;
	if (in->closed)
		close_locked(s);
	/* Both headers go at once, as nng's own transport does: a peer may wait for ours. */
	read = prepare_read(s);
	write = prepare_write(s);
	done = unlink_if_done(s);
	pthread_mutex_unlock(&in->lock);
	start_or_free(s, read, write, done);
}

struct session_request *session_inbox_take(struct session_inbox *in)
{
	struct session_request *r;

	pthread_mutex_lock(&in->lock);
	while (in->head == NULL && !in->draining)
		pthread_cond_wait(&in->ready, &in->lock);
	if ((r = in->draining ? NULL : in->head) != NULL) {
		in->head = r->next;
		if (in->head == NULL)
			in->tail = NULL;
		r->next = NULL;
		in->serving++;
	}
	pthread_mutex_unlock(&in->lock);
	return r;
}

const uint8_t *session_request_body(const struct session_request *r, size_t *len)
{
	*len = r->len - r->backtrace_len;
	return r->data + r->backtrace_len;
}

const char *session_request_source(const struct session_request *r)
{
	return r->s->source;
}

void session_reply(struct session_request *r, nng_msg *reply)
{
	struct session *s = r->s;
	struct session_inbox *in = s->in;
	bool read = false, write = false, done;

	pthread_mutex_lock(&in->lock);
	assert(in->serving > 0);
	in->serving--;
	if (reply != NULL) {
		/* One buffer, so one write: the length, the backtrace, the reply. */
		uint8_t frame[8];
		put_be64(frame, (uint64_t)r->backtrace_len + nng_msg_len(reply));
		if (nng_msg_insert(reply, r->data, r->backtrace_len) != 0 ||
		    nng_msg_insert(reply, frame, sizeof(frame)) != 0) {
			nng_msg_free(reply);
			reply = NULL;
		}
	}
	if (reply == NULL || s->state != SESSION_OPEN) {
		if (reply != NULL)
			nng_msg_free(reply);
		release_request(s, r);
		/* One fewer unanswered: the session may read again. */
		read = prepare_read(s);
	} else {
		r->reply = reply;
		append(&s->send_head, &s->send_tail, r);
		in->sending++;
		write = prepare_write(s);
	}
	done = unlink_if_done(s);
	pthread_mutex_unlock(&in->lock);
	start_or_free(s, read, write, done);
}

int session_inbox_sending(struct session_inbox *in)
{
	int n;

	pthread_mutex_lock(&in->lock);
	n = in->sending;
	pthread_mutex_unlock(&in->lock);
	return n;
}

/*
 * Drops the requests waiting; no more are taken or read. Under the lock;
 * returns the sessions that were waiting only for those, unlinked, linked
 * through next, for the caller to free after unlocking.
 */
static struct session *drain_locked(struct session_inbox *in)
{
	struct session_request *r, *next;
	struct session *dead = NULL, *s;

	ASSERT_LOCKED(in);
	in->draining = true;
	for (r = in->head; r != NULL; r = next) {
		next = r->next;
		s = r->s;
		release_request(s, r);
		if (unlink_if_done(s)) {
			s->next = dead;
			dead = s;
		}
	}
	in->head = in->tail = NULL;
	pthread_cond_broadcast(&in->ready);
	return dead;
}

static void free_all(struct session *dead)
{
	struct session *next;

	for (; dead != NULL; dead = next) {
		next = dead->next;
		session_free(dead);
	}
}

void session_inbox_drain(struct session_inbox *in)
{
	struct session *dead;

	pthread_mutex_lock(&in->lock);
	dead = drain_locked(in);
	pthread_mutex_unlock(&in->lock);
	free_all(dead);
}

void session_inbox_close(struct session_inbox *in)
{
	struct session *s, *s_next, *dead = NULL;

	pthread_mutex_lock(&in->lock);
	dead = drain_locked(in);
	in->closed = true;
	for (s = in->sessions; s != NULL; s = s_next) {
		s_next = s->next;
		close_locked(s);
		if (unlink_if_done(s)) {
			s->next = dead;
			dead = s;
		}
	}
	pthread_mutex_unlock(&in->lock);
	free_all(dead);
}

void session_inbox_free(struct session_inbox *in)
{
	if (in == NULL)
		return;
	session_inbox_close(in);
	pthread_mutex_lock(&in->lock);
	assert(in->serving == 0);
	while (in->n_sessions > 0)
		pthread_cond_wait(&in->freed, &in->lock);
	pthread_mutex_unlock(&in->lock);
	pthread_cond_destroy(&in->ready);
	pthread_cond_destroy(&in->freed);
	pthread_mutex_destroy(&in->lock);
	free(in);
}
