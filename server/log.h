/*
 * log.h - the daemon's log: one line per event on stderr, in UTC.
 */
#ifndef YB_LOG_H
#define YB_LOG_H

/*
 * Writes "2026-07-02T02:00:00.123Z <message>" and a newline to stderr in one
 * write, so lines from several threads never interleave. Control bytes in
 * the message (peer text is quoted in log lines) become '?', so no line can
 * forge another. Lines are cut at 1,000 bytes.
 */
void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
