/*
 * listener.h - the daemon's TLS listener: accepts connections on nng's
 * stream API and makes each a session (session.h); keeps its TLS
 * configuration (with the CRL while the TLS layer may use it), and hands
 * it a new one on SIGHUP or before the CRL runs out.
 *
 * Thread-safe: every function but listener_free takes the listener's lock.
 */
#ifndef YB_LISTENER_H
#define YB_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <nng/nng.h>

#include "status.h"

struct listener_config {
	const char *url; /* tls+tcp://HOST:PORT; port 0 picks a free one */
	const char *cert_path, *key_path, *ca_path;
	const char *crl_path; /* NULL or "": no CRL */
	bool tls13_only;      /* else TLS 1.2 and 1.3 */
};

struct listener;
struct session_inbox;

/*
 * Makes the TLS configuration (with the CRL, whose next update is
 * crl_next_update, only while that is more than EXPIRY_WARN_DAYS after
 * now), starts listening and accepting: each connection becomes a session
 * of inbox (borrowed: it outlives the listener). eb names the file or
 * address that failed. The caller owns *out.
 */
yb_status listener_open(struct session_inbox *inbox, const struct listener_config *cfg,
                        time_t crl_next_update, time_t now, struct listener **out,
                        struct errbuf *eb);

/* The URL bound, with the port chosen when 0 was asked for. Never changes. */
const char *listener_url(const struct listener *l);

/*
 * Gives the listener a new TLS configuration: with the CRL file as it is
 * now (crl_next_update its next update) when the TLS layer may use it,
 * else without; logs what it did. Keeps the old one on failure.
 */
void listener_use_crl(struct listener *l, time_t crl_next_update, time_t now);

/* Drops the CRL from the TLS configuration once it comes within EXPIRY_WARN_DAYS of running out. */
void listener_check_crl(struct listener *l, time_t now);

/* Stops accepting for good (the sessions go on): listener_use_crl then does nothing. */
void listener_stop(struct listener *l);

/* Stops l and frees it; NULL is allowed. */
void listener_free(struct listener *l);

#endif
