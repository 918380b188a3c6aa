/*
 * log.h - the daemon's log: one line per event, with a level.
 *
 * Lines go to stderr as "2026-07-02T02:00:00.123Z [warning: |error: |debug: ]
 * message", in UTC. Run by systemd with stderr connected to the journal
 * (JOURNAL_STREAM names it), they go to the journal instead, with PRIORITY
 * and, for requests, the fields METHOD, CALLER, STATUS and MS, so that
 * `journalctl -u yuebaod STATUS=PERMISSION_DENIED` finds the refusals.
 * A line the journal refuses (journald down) goes to stderr.
 * Lines below the threshold (log_level in the INI) are dropped.
 */
#ifndef YB_LOG_H
#define YB_LOG_H

#include <stdbool.h>

#include "status.h"

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Parses "error", "warning", "info" or "debug"; YB_INVALID_ARGUMENT otherwise. */
yb_status log_parse_level(const char *s, enum log_level *out);

/*
 * Sets the threshold (default LOG_LEVEL_INFO) and chooses the journal when
 * systemd connected stderr to it. Call before any thread logs.
 */
void log_open(enum log_level threshold);

/* Whether a line at level would be written. */
bool log_enabled(enum log_level level);

/*
 * Writes one line at level, in one write so that lines from several
 * threads never interleave. Control bytes in the message (peer text is
 * quoted in log lines) become '?', so no line can forge another. Lines are
 * cut at 1,000 bytes.
 */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * log_msg at LOG_LEVEL_INFO, for the modules that take a printf-style line
 * writer (reaper, rollup).
 */
void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * One request: "yuebao.v1.Returns/Submit branch/ZFW-JG OK 12ms" and, when
 * detail is not empty, ": detail"; in the journal with its fields.
 */
void log_call(enum log_level level, const char *method, const char *caller, const char *status,
              long ms, const char *detail);

#endif
