/*
 * expiry.c - warnings before the daemon's certificates and CRL run out, the
 * refusal once the CRL has, and the daily check's thread.
 */
#include "expiry.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "i18n.h"
#include "log.h"
#include "rpc.h"

#define DAY_S 86400

/* What each kind is called in the log, and what to do about it. */
static const struct {
	const char *name;
	const char *before; /* what to do before it ends */
	const char *after;  /* what happens once it has ended, and the cure */
} kinds[EXPIRY_NKINDS] = {
    [EXPIRY_SERVER_CERT] = {"the server certificate",
                            "issue a new one with `yuebao-certs server DIR` and restart yuebaod",
                            "clients refuse the TLS handshake until a new one is issued "
                            "(`yuebao-certs server DIR`) and yuebaod restarted"},
    [EXPIRY_CA_CERT] = {"the CA certificate",
                        "make a new CA (`yuebao-certs init`), issue every certificate from it "
                        "and switch before then",
                        "no certificate of this deployment is accepted any more (TLS "
                        "handshakes fail) until a new CA is made and every certificate "
                        "issued from it"},
    [EXPIRY_CRL] = {"the CRL",
                    "renew it with `yuebao-certs crl DIR` and send yuebaod SIGHUP; past "
                    "that date yuebaod refuses every request",
                    "yuebaod refuses every request until it is renewed (`yuebao-certs crl "
                    "DIR`, then SIGHUP)"},
};

void expiry_format(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

bool expiry_soon(time_t t, time_t now)
{
	return t != 0 && t - now < (time_t)EXPIRY_WARN_DAYS * DAY_S;
}

void expiry_report(const struct expiry_dates *d, time_t now)
{
	char when[64], left[32];

	for (int k = 0; k < EXPIRY_NKINDS; k++) {
		time_t t = d->at[k];
		long days = (long)((t - now) / DAY_S);

		if (d->path[k] == NULL || !expiry_soon(t, now))
			continue;
		expiry_format(t, when, sizeof(when));
		if (t <= now) {
			log_msg(LOG_LEVEL_ERROR, "%s %s expired on %s: %s", kinds[k].name,
			        d->path[k], when, kinds[k].after);
			continue;
		}
		if (days == 0)
			snprintf(left, sizeof(left), "within a day");
		else
			snprintf(left, sizeof(left), "in %ld day%s", days, days == 1 ? "" : "s");
		log_msg(LOG_LEVEL_WARNING, "%s %s expires on %s, %s: %s", kinds[k].name, d->path[k],
		        when, left, kinds[k].before);
	}
}

int expiry_check_crl(time_t crl_next_update, time_t now, const struct tz *zone, struct errbuf *eb)
{
	char when[TZ_TEXT_MAX];

	if (crl_next_update == 0 || now < crl_next_update)
		return YB_OK;
	/* For the caller, who reads times in the deployment's zone (the log keeps UTC). */
	tz_format(zone, (int64_t)crl_next_update * 1000, TZ_PEOPLE, when, sizeof(when));
	return status_fail(eb, YB_FAILED_PRECONDITION,
	                   _("the server's revocation list expired on %s; ask the administrator "
	                     "to run `yuebao-certs crl`"),
	                   when);
}

/* How often the thread looks at the wall clock. */
#define WAKE_INTERVAL_MS (3600 * 1000)

struct expiry_watch {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;  /* times its waits by the monotonic clock */
	bool stop;          /* under mu */
	bool poked;         /* under mu: a request found the check due */
	_Atomic time_t due; /* wall clock time of the next check */
	void (*check)(void *arg);
	void *arg;
};

static void *watch_main(void *arg)
{
	struct expiry_watch *w = arg;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		struct timespec until = clock_monotonic_after(WAKE_INTERVAL_MS);
		time_t now;
		int err = 0;

		while (!w->stop && !w->poked && err != ETIMEDOUT)
			err = pthread_cond_timedwait(&w->cv, &w->mu, &until);
		w->poked = false;
		now = time(NULL);
		if (w->stop || now < atomic_load(&w->due))
			continue;
		atomic_store(&w->due, now + EXPIRY_CHECK_INTERVAL_S);
		pthread_mutex_unlock(&w->mu);
		w->check(w->arg);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int expiry_watch_start(void (*check)(void *arg), void *arg, time_t now, struct expiry_watch **out,
                       struct errbuf *eb)
{
	struct expiry_watch *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return status_fail(eb, YB_ENOMEM, _("out of memory"));
	w->check = check;
	w->arg = arg;
	atomic_init(&w->due, now + EXPIRY_CHECK_INTERVAL_S);
	pthread_mutex_init(&w->mu, NULL);
	clock_cond_init(&w->cv);
	if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w);
		return status_fail(eb, YB_ENOMEM, "cannot start the expiry check thread");
	}
	*out = w;
	return YB_OK;
}

void expiry_watch_tick(struct expiry_watch *w, time_t now)
{
	if (w == NULL || now < atomic_load(&w->due))
		return;
	pthread_mutex_lock(&w->mu);
	w->poked = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void expiry_watch_stop(struct expiry_watch *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
