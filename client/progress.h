/*
 * progress.h - a progress line on stderr for work that takes more than a
 * moment (audit export and verify, a bulk submit, a report): what is done
 * of how much, the rate and the time left, redrawn in place at most a few
 * times a second. Only for a person at a terminal: with stderr not a
 * terminal (a script, a log, a pipe) or with --quiet there is no progress
 * object at all, and every call below accepts NULL and does nothing, so
 * callers never test for it.
 */
#ifndef YB_PROGRESS_H
#define YB_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct progress;

/*
 * A progress line for `what` (shown as is, e.g. "audit export: entries")
 * out of total items (0: not known yet). NULL when quiet, when stderr is
 * not a terminal, or out of memory. Nothing is drawn until the work has
 * taken half a second, so quick work stays silent; the environment
 * variable YUEBAO_PROGRESS_DELAY_MS (0 to 60000) sets another delay.
 */
struct progress *progress_new(const char *what, uint64_t total, bool quiet);

/* Sets the total once it is known (0: unknown). */
void progress_set_total(struct progress *p, uint64_t total);

/* Records that done items are finished, redrawing the line when due. */
void progress_update(struct progress *p, uint64_t done);

/*
 * Erases the line, if drawn, so that what is printed next (on stdout, to
 * the same terminal) starts at the left; the next update draws it again.
 */
void progress_clear(struct progress *p);

/* Erases the line (so what is printed next starts clean) and frees p; NULL is allowed. */
void progress_free(struct progress *p);

/*
 * The text of the line (without the carriage return and erasing), for
 * done of total items after elapsed_ms: "what: 120/400 (30%), 60/s, 5 s
 * left", "what: 120, 60/s" when the total is unknown. Written into buf
 * (len bytes, always NUL-terminated); exposed for the unit test.
 */
void progress_format(char *buf, size_t len, const char *what, uint64_t done, uint64_t total,
                     int64_t elapsed_ms);

#endif
