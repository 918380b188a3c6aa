/*
 * expiry.h - the dates on which the daemon's trust runs out, said ahead.
 *
 * The server certificate, the CA certificate and the CRL each end on a date
 * (notAfter, nextUpdate). Past it every caller is refused: by the clients'
 * TLS (server or CA certificate) or by the daemon (CRL, see
 * expiry_check_crl). So the daemon says so beforehand in its log, at start,
 * on SIGHUP and once a day (expiry_watch_start): a warning for each that
 * ends within EXPIRY_WARN_DAYS, an error for each that has ended, each
 * naming the file, the date (UTC) and what to do.
 */
#ifndef YB_EXPIRY_H
#define YB_EXPIRY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "status.h"
#include "tz.h"

/* A file that ends within this many days is warned about. */
#define EXPIRY_WARN_DAYS 30

/* The daily check is due this long after the one before, by the wall clock. */
#define EXPIRY_CHECK_INTERVAL_S 86400

enum expiry_kind { EXPIRY_SERVER_CERT, EXPIRY_CA_CERT, EXPIRY_CRL, EXPIRY_NKINDS };

/* When each file ends (Unix time; 0: never, or not used, as without --crl). */
struct expiry_dates {
	time_t at[EXPIRY_NKINDS];
	const char *path[EXPIRY_NKINDS]; /* NULL when not used */
};

/* A date as the log and messages show it: "2026-10-29 07:58:39 UTC". */
void expiry_format(time_t t, char *buf, size_t len);

/* True when a date t (not 0) is less than EXPIRY_WARN_DAYS after now, or past. */
bool expiry_soon(time_t t, time_t now);

/*
 * Logs (log.h) a warning for each file of d that ends within
 * EXPIRY_WARN_DAYS of now and an error for each that has ended.
 */
void expiry_report(const struct expiry_dates *d, time_t now);

/*
 * YB_OK while a CRL whose next update is crl_next_update (0: none, or no
 * CRL) is current at now; past it YB_FAILED_PRECONDITION, with eb saying,
 * in the thread's language, since when (in zone, with its offset) and what
 * the administrator must do.
 * A CRL past its next update may miss revocations: the daemon then refuses
 * every request (fails closed) rather than trust any certificate.
 */
int expiry_check_crl(time_t crl_next_update, time_t now, const struct tz *zone, struct errbuf *eb);

struct expiry_watch;

/*
 * Starts a thread that calls check(arg) once a day, EXPIRY_CHECK_INTERVAL_S
 * after the start by the wall clock, then as long after each call. The
 * thread looks at the wall clock every hour, and at once when a request
 * tells it the time (expiry_watch_tick): a clock that was stepped, or a
 * machine that was suspended, gets its check with the next request, not a
 * day late. The caller owns *out (expiry_watch_stop). YB_ENOMEM when the
 * thread cannot start.
 */
int expiry_watch_start(void (*check)(void *arg), void *arg, time_t now, struct expiry_watch **out,
                       struct errbuf *eb);

/*
 * Tells the watch the time a request arrived at: when the check is due by
 * it, the thread runs it now. Cheap (one atomic read when nothing is due),
 * from any thread; never waits for the check. NULL is allowed.
 */
void expiry_watch_tick(struct expiry_watch *w, time_t now);

/* Stops the thread (waiting for a check in progress) and frees w; NULL is allowed. */
void expiry_watch_stop(struct expiry_watch *w);

#endif
