/*
 * ratelimit.c - audit entries per caller and window. See ratelimit.h.
 *
 * A fixed table, indexed by a hash of the key: memory does not grow with
 * the number of callers. Two keys sharing a slot take turns; the one
 * pushed out keeps its count in a pending report, so nothing is lost.
 */
#include "ratelimit.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"

struct slot {
	char key[RATELIMIT_KEY_MAX]; /* "" = free */
	int64_t window_start_ms;
	uint32_t admitted;
	uint64_t dropped;
};

struct ratelimit {
	pthread_mutex_t lock;
	size_t n_slots;
	struct slot *slots;
	/* Reports of keys pushed out of their slot, until taken. */
	struct ratelimit_report *pending;
	size_t n_pending, cap_pending;
};

int ratelimit_new(size_t slots, struct ratelimit **out, struct errbuf *eb)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));

	assert(slots > 0);
	if (rl == NULL || (rl->slots = calloc(slots, sizeof(*rl->slots))) == NULL) {
		free(rl);
		return status_fail(eb, YB_ENOMEM, _("out of memory"));
	}
	rl->n_slots = slots;
	pthread_mutex_init(&rl->lock, NULL);
	*out = rl;
	return YB_OK;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl->slots);
	free(rl->pending);
	free(rl);
}

/* FNV-1a: spreads fingerprints and addresses well enough for a table. */
static size_t slot_of(const struct ratelimit *rl, const char *key)
{
	uint64_t h = 1469598103934665603ull;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return (size_t)(h % rl->n_slots);
}

/* Keeps s's count as a pending report (when it has one); caller holds the lock. */
static void keep_report(struct ratelimit *rl, const struct slot *s)
{
	struct ratelimit_report *r;

	if (s->dropped == 0)
		return;
	if (rl->n_pending == rl->cap_pending) {
		size_t cap = rl->cap_pending ? rl->cap_pending * 2 : 16;
		void *p = realloc(rl->pending, cap * sizeof(*rl->pending));
		if (p == NULL) {
			/* Out of memory: fold it into the last report rather than lose it. */
			if (rl->n_pending > 0)
				rl->pending[rl->n_pending - 1].dropped += s->dropped;
			return;
		}
		rl->pending = p;
		rl->cap_pending = cap;
	}
	r = &rl->pending[rl->n_pending++];
	memcpy(r->key, s->key, sizeof(r->key));
	r->dropped = s->dropped;
	r->window_start_ms = s->window_start_ms;
}

bool ratelimit_admit(struct ratelimit *rl, const char *key, int64_t now_ms)
{
	struct slot *s;
	bool admit;

	pthread_mutex_lock(&rl->lock);
	s = &rl->slots[slot_of(rl, key)];
	if (strncmp(s->key, key, sizeof(s->key) - 1) != 0 ||
	    now_ms - s->window_start_ms >= RATELIMIT_WINDOW_MS) {
		keep_report(rl, s);
		snprintf(s->key, sizeof(s->key), "%s", key);
		s->window_start_ms = now_ms;
		s->admitted = 0;
		s->dropped = 0;
	}
	admit = s->admitted < RATELIMIT_PER_WINDOW;
	if (admit)
		s->admitted++;
	else
		s->dropped++;
	pthread_mutex_unlock(&rl->lock);
	return admit;
}

size_t ratelimit_take_reports(struct ratelimit *rl, int64_t now_ms, struct ratelimit_report *out,
                              size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&rl->lock);
	for (size_t i = 0; i < rl->n_slots; i++) {
		struct slot *s = &rl->slots[i];
		if (s->dropped > 0 &&
		    (now_ms == INT64_MAX || now_ms - s->window_start_ms >= RATELIMIT_WINDOW_MS)) {
			keep_report(rl, s);
			s->dropped = 0;
		}
	}
	while (n < max && rl->n_pending > 0)
		out[n++] = rl->pending[--rl->n_pending];
	pthread_mutex_unlock(&rl->lock);
	return n;
}
