/*
 * reaper.h - keeps idle and half-open TCP connections from locking the
 * daemon up.
 *
 * Every accepted connection holds a file descriptor, and a TCP connection
 * needs no certificate: enough idle ones and the daemon can accept no one.
 * A session (session.h) closes a connection that has not sent its SP
 * header within its time limit, but only once the connection is accepted
 * and handed over; the TLS engine sees every accepted connection first (tlsengine.h, the guard):
 * the reaper turns its guard on with the daemon's caps (per remote address and in all, the oldest
 * unauthenticated connections dropped first when full), and every
 * REAP_INTERVAL_MS shuts down the connections whose TLS handshake has not
 * finished within the limit, and gives back the sessions whose TCP
 * connection ended abruptly, which nng 1.5.2 would keep for ever; after
 * many sessions it gives the memory they used back to the system. It reads
 * no file and opens no descriptor, so it works when the process has none
 * left.
 */
#ifndef YB_REAPER_H
#define YB_REAPER_H

#include "status.h"

struct reaper_config {
	int limit_s;        /* seconds an accepted connection has to finish its TLS handshake */
	int max_total;      /* connections at once, >= 1 */
	int max_per_source; /* connections at once from one remote address, >= 1 */
	void (*log)(const char *fmt, ...); /* may be NULL: a line per refusal, drop, shutdown */
};

struct reaper;

/*
 * Turns the TLS engine's guard on with cfg's caps and starts the reaper's
 * thread. Call it before the listener starts: connections accepted earlier
 * are not counted. The caller owns *out (reaper_stop). YB_ENOMEM if the
 * thread cannot start.
 */
int reaper_start(const struct reaper_config *cfg, struct reaper **out, struct errbuf *eb);

/* Stops the reaper's thread, turns the guard off and frees r; NULL is allowed. */
void reaper_stop(struct reaper *r);

#endif
