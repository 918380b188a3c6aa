/*
 * ratelimit.h - how many audit entries one caller's refusals may write.
 *
 * Every refused call that matters to security is audited, but a client
 * that loops on a bad signature must not fill the log (and its signed
 * checkpoints) at thousands of entries a second. Each key (a certificate
 * fingerprint, or the source address of a caller that could not be
 * verified) may have RATELIMIT_PER_WINDOW entries per window; the refusals
 * past that are counted, and the count is handed back once the window has
 * ended so that one summary entry records them. Thread-safe.
 */
#ifndef YB_RATELIMIT_H
#define YB_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define RATELIMIT_PER_WINDOW 20
#define RATELIMIT_WINDOW_MS 60000
#define RATELIMIT_KEY_MAX 96

struct ratelimit;

/* Refusals of one key that were not audited one by one, in one window. */
struct ratelimit_report {
	char key[RATELIMIT_KEY_MAX];
	uint64_t dropped;
	int64_t window_start_ms;
};

/* A table of `slots` keys (a key whose slot is taken over is reported). */
int ratelimit_new(size_t slots, struct ratelimit **out, struct errbuf *eb);

/* NULL is allowed. */
void ratelimit_free(struct ratelimit *rl);

/*
 * Whether one more refusal of key at now_ms gets an audit entry of its own
 * (true) or is only counted (false). A key longer than RATELIMIT_KEY_MAX-1
 * is cut.
 */
bool ratelimit_admit(struct ratelimit *rl, const char *key, int64_t now_ms);

/*
 * Moves into out (at most max) the reports whose window ended before now_ms
 * (or all of them, with now_ms = INT64_MAX, at shutdown), or whose slot
 * another key took over, and forgets them. Returns how many it wrote.
 */
size_t ratelimit_take_reports(struct ratelimit *rl, int64_t now_ms, struct ratelimit_report *out,
                              size_t max);

#endif
