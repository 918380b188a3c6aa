/*
 * session.h - the daemon's side of nng's REQ/REP protocol, over the TLS
 * streams the listener accepts.
 *
 * The daemon does not use nng's REP socket and its TLS transport: nng
 * 1.5.2's transport restarts the second half of a message read or write
 * without checking that its pipe was closed in between, and that pipe can
 * then never be freed; nng's only reaper thread waits for it for ever, and
 * from then on no connection is freed (README, "Security and limits"). Nothing
 * outside nng can reach that aio. So the daemon speaks the wire protocol
 * itself, on nng's public stream API (nng_stream), which is small: the SP
 * header each way ("\0SP\0", the protocol number, two zero bytes), then
 * messages of an 8-byte big-endian length; a request starts with its
 * backtrace (4-byte words, the last with its high bit set) that the reply
 * repeats. Clients still use nng's REQ socket unchanged.
 *
 * Every stream operation is ended by closing the stream, and a session
 * closes its stream on any error, time-out or protocol fault, so no
 * operation is left waiting: each session is freed once its last operation
 * and its last request are done.
 *
 * Requests of every session wait in one inbox, first come first served, for
 * the workers. A session reads its next request only while fewer than
 * max_pending of its requests are waiting, served or being answered: a peer
 * that sends without reading is slowed, never served beyond that.
 *
 * Thread-safe: one lock per inbox guards every session of it.
 */
#ifndef YB_SESSION_H
#define YB_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "status.h"

struct session_limits {
	size_t recv_max;     /* bytes of one request, backtrace included; more closes the session */
	int start_limit_ms;  /* for the TLS handshake and the SP header after accept */
	int stall_limit_ms;  /* for the rest of a request once its length has come */
	int send_timeout_ms; /* for a reply to leave; then the session is closed */
	int max_pending;     /* requests of one session not yet answered, >= 1 */
	void (*log)(const char *fmt, ...); /* may be NULL: a line per session closed for a fault */
};

struct session_inbox;
struct session_request;

/* A new inbox with lim (copied). The caller owns *out (session_inbox_free). */
yb_status session_inbox_new(const struct session_limits *lim, struct session_inbox **out,
                            struct errbuf *eb);

/*
 * Starts a session on stream, a connection just accepted; the session owns
 * it from now on (on failure too: it is then closed and freed). Sessions
 * started after session_inbox_close are closed at once.
 */
void session_start(struct session_inbox *in, nng_stream *stream);

/*
 * The oldest waiting request, waiting for one if need be; NULL once the
 * inbox is closed. The caller owns it until session_reply.
 */
struct session_request *session_inbox_take(struct session_inbox *in);

/* The request's body (after its backtrace); valid until session_reply. */
const uint8_t *session_request_body(const struct session_request *r, size_t *len);

/* "addr:IP" of the peer that sent r ("addr:?" if nng could not say). */
const char *session_request_source(const struct session_request *r);

/*
 * Answers r with reply's body and frees r. Takes reply (NULL: r is dropped
 * unanswered). If r's session has closed, the reply is dropped: the call
 * it answers has been done all the same, and the client's retry of the same
 * call id is answered from its record.
 */
void session_reply(struct session_request *r, nng_msg *reply);

/* Replies not yet sent (handed to the TLS layer whole). */
int session_inbox_sending(struct session_inbox *in);

/*
 * Stops new work: session_inbox_take returns NULL from now on, requests
 * still waiting are dropped unanswered, and sessions read no more; the
 * requests taken may still be answered, and replies go on leaving.
 */
void session_inbox_drain(struct session_inbox *in);

/*
 * Drains in, and closes every session and every later one: replies still
 * being sent are cut off (wait for session_inbox_sending first).
 */
void session_inbox_close(struct session_inbox *in);

/*
 * Waits until every session is freed (closing them first), then frees in.
 * No request may still be held (session_reply them first). NULL is allowed.
 */
void session_inbox_free(struct session_inbox *in);

#endif
