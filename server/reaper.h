/*
 * reaper.h - closes TCP connections that never become RPC connections.
 *
 * nng 1.5 starts its 10 s negotiation limit only once TLS is up, so a peer
 * that connects and never sends a ClientHello (or stops halfway through the
 * handshake) holds a file descriptor for ever; enough of them and the
 * daemon can accept no one. nng shows a connection to the application only
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
 *
 * on_stall (may be NULL) is called on the reaper's thread, at most once per
 * limit_s, when connections were shut down with bytes still unread: peers
 * that finished the TLS and SP handshakes and sent a request that nng never
 * passed on. nng 1.5.2's listener stops taking new sessions for good when a
 * peer's negotiation fails with NNG_ECLOSED (a client that gives up in the
 * middle of it can cause that; fixed upstream after 1.5.2, nng #1519), and
 * then every new client ends like this. The caller reopens its listener.
 */
int reaper_watch(struct reaper *r, int port, void (*on_stall)(void *arg), void *stall_arg,
                 struct errbuf *eb);

/* Stops the reaper's thread and frees it; NULL is allowed. */
void reaper_stop(struct reaper *r);

#endif
