/*
 * reaper.h - closes TCP connections that never become RPC connections.
 *
 * nng 1.5's 10 s negotiation limit cannot end a connection whose TLS
 * handshake waits for the peer (its time-out cancels a send that never
 * started), so a peer that connects and never sends a ClientHello (or stops
 * halfway through the handshake) holds a file descriptor for ever; enough
 * of them and the daemon can accept no one. nng shows a connection to the application only
 * once it is a pipe, so the reaper looks from outside: every few seconds it
 * lists the daemon's own sockets (/proc/self/fd) connected to the listening
 * port (/proc/net/tcp, tcp6), and shuts down those that have been there
 * longer than the limit without becoming a pipe (pipes are known from nng's
 * pipe notifications, by remote address). nng then sees the connection end
 * and frees it. Linux only; elsewhere reaper_start does nothing.
 */
#ifndef YB_REAPER_H
#define YB_REAPER_H

#include <nng/nng.h>

#include "status.h"

struct reaper;

/*
 * Sets up a reaper for the connections `sock` accepts: it registers nng pipe
 * notifications, so it must come before the listener starts. Nothing is
 * reaped until reaper_watch. log (may be NULL) gets a line for every
 * connection shut down. The caller owns *out (reaper_stop). YB_ENOMEM, or
 * YB_ECONNECT when nng refuses the notifications.
 */
int reaper_start(nng_socket sock, int limit_s, void (*log)(const char *fmt, ...),
                 struct reaper **out, struct errbuf *eb);

/*
 * Starts the reaper's thread on the listener's bound port: a connection to
 * it that is not a pipe after limit_s seconds is shut down. YB_ENOMEM if
 * the thread cannot start.
 */
int reaper_watch(struct reaper *r, int port, struct errbuf *eb);

/* Stops the reaper's thread and frees it; NULL is allowed. */
void reaper_stop(struct reaper *r);

#endif
