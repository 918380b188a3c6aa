/*
 * reaper.c - the TLS engine's connection guard, and a thread that shuts
 * down connections that never finish a TLS handshake (see reaper.h).
 */
#include "reaper.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "clock.h"
#include "rpc.h"
#include "tlsengine.h"

/* Sessions nng 1.5.2 would keep are given back within about this (tlsengine.h). */
#define REAP_INTERVAL_MS 1000
/*
 * Each TLS session holds about 45 KB, allocated on whichever thread nng ran
 * it: after a burst of sessions glibc keeps the freed memory in its
 * per-thread arenas, tens of MB that look like a leak and are not. Given
 * back once this many sessions were freed, at most every TRIM_INTERVAL_MS,
 * and once more when a burst ends.
 */
#define TRIM_AFTER_FREED 256
#define TRIM_INTERVAL_MS 5000

struct reaper {
	int limit_s;
	pthread_t thread;
	pthread_mutex_t lock; /* guards stop */
	pthread_cond_t wake;
	bool stop;
};

static void *reaper_main(void *arg)
{
	struct reaper *r = arg;
	int freed = 0;
	int64_t trimmed_ms = 0;

	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		struct timespec until = clock_monotonic_after(REAP_INTERVAL_MS);
		pthread_cond_timedwait(&r->wake, &r->lock, &until);
		if (r->stop)
			break;
		pthread_mutex_unlock(&r->lock);
		(void)tlsengine_guard_reap(r->limit_s);
		int now_freed = tlsengine_guard_take_freed();
		freed += now_freed;
		/* During a burst at most every TRIM_INTERVAL_MS; at its end (a
		 * second in which no session was freed) always, so what the
		 * burst's tail left is given back too. */
		bool burst_over = freed > 0 && now_freed == 0;
		if (burst_over || (freed >= TRIM_AFTER_FREED &&
		                   clock_monotonic_ms() - trimmed_ms >= TRIM_INTERVAL_MS)) {
#ifdef __GLIBC__
			(void)malloc_trim(0);
#endif
			freed = 0;
			trimmed_ms = clock_monotonic_ms();
		}
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int reaper_start(const struct reaper_config *cfg, struct reaper **out, struct errbuf *eb)
{
	struct reaper *r = calloc(1, sizeof(*r));
	struct tlsengine_guard g = {cfg->max_total, cfg->max_per_source, cfg->log};

	if (r == NULL)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	r->limit_s = cfg->limit_s;
	pthread_mutex_init(&r->lock, NULL);
	clock_cond_init(&r->wake);
	if (pthread_create(&r->thread, NULL, reaper_main, r) != 0) {
		pthread_mutex_destroy(&r->lock);
		pthread_cond_destroy(&r->wake);
		free(r);
		return status_fail(eb, YB_ENOMEM, "cannot start the connection reaper");
	}
	tlsengine_guard_start(&g);
	*out = r;
	return YB_OK;
}

void reaper_stop(struct reaper *r)
{
	if (r == NULL)
		return;
	tlsengine_guard_stop();
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->wake);
	free(r);
}
