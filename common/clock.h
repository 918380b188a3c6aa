/*
 * clock.h - the two clocks the project reads: the wall clock, for instants
 * that are stored, signed and shown (Unix milliseconds), and a monotonic
 * clock, for durations, limits and waits, which a change of the wall clock
 * never stretches or cuts.
 */
#ifndef YB_CLOCK_H
#define YB_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Unix time in milliseconds. */
int64_t clock_now_ms(void);

/* Milliseconds of a clock that never jumps: for durations and limits, not dates. */
int64_t clock_monotonic_ms(void);

/*
 * The point ms milliseconds from now on that clock, as pthread_cond_timedwait
 * wants it for a condition variable made by clock_cond_init.
 */
struct timespec clock_monotonic_after(int ms);

/* Initialises cv to time its waits by the monotonic clock (clock_monotonic_after). */
void clock_cond_init(pthread_cond_t *cv);

#endif
