/*
 * log.c - the daemon's log lines (see log.h).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <time.h>

#define LINE_MAX_BYTES 1024

static const char *const level_names[] = {[LOG_LEVEL_ERROR] = "error",
                                          [LOG_LEVEL_WARNING] = "warning",
                                          [LOG_LEVEL_INFO] = "info",
                                          [LOG_LEVEL_DEBUG] = "debug"};

/* syslog(3) priorities, as the journal takes them. */
static const int priorities[] = {
    [LOG_LEVEL_ERROR] = 3, [LOG_LEVEL_WARNING] = 4, [LOG_LEVEL_INFO] = 6, [LOG_LEVEL_DEBUG] = 7};

/* Set once by log_open before threads start; read only afterwards. */
static enum log_level threshold = LOG_LEVEL_INFO;
static bool to_journal;

yb_status log_parse_level(const char *s, enum log_level *out)
{
	for (size_t i = 0; s != NULL && i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return YB_OK;
		}
	return YB_INVALID_ARGUMENT;
}

void log_open(enum log_level level)
{
	const char *stream = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	threshold = level;
	/* systemd names the stream it connected as "device:inode" (systemd.exec(5)). */
	to_journal = stream != NULL && sscanf(stream, "%llu:%llu", &dev, &ino) == 2 &&
	             fstat(2, &st) == 0 && (unsigned long long)st.st_dev == dev &&
	             (unsigned long long)st.st_ino == ino;
}

bool log_enabled(enum log_level level)
{
	return level <= threshold;
}

/* The message with control bytes made harmless. */
static void clean(char *line)
{
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* One line to stderr, prefixed by the time and, but for info, the level. */
static void write_stderr(enum log_level level, const char *line)
{
	char stamp[32];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	/* One fprintf per line: stdio locks the stream. */
	fprintf(stderr, "%s.%03ldZ %s%s%s\n", stamp, ts.tv_nsec / 1000000,
	        level == LOG_LEVEL_INFO ? "" : level_names[level],
	        level == LOG_LEVEL_INFO ? "" : ": ", line);
}

static void vlog(enum log_level level, const char *fmt, va_list ap)
{
	char line[LINE_MAX_BYTES];

	if (!log_enabled(level))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	clean(line);
	/* A line the journal refuses (journald restarting, its socket gone) is
	 * written to stderr, which systemd also collects: never lost. */
	if (!to_journal ||
	    sd_journal_send("MESSAGE=%s", line, "PRIORITY=%d", priorities[level], NULL) < 0)
		write_stderr(level, line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void log_line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_INFO, fmt, ap);
	va_end(ap);
}

void log_call(enum log_level level, const char *method, const char *caller, const char *status,
              long ms, const char *detail)
{
	char line[LINE_MAX_BYTES];

	if (!log_enabled(level))
		return;
	snprintf(line, sizeof(line), "%s %s %s %ldms%s%s", method, caller, status, ms,
	         detail[0] ? ": " : "", detail);
	clean(line);
	if (!to_journal || sd_journal_send("MESSAGE=%s", line, "PRIORITY=%d", priorities[level],
	                                   "METHOD=%s", method, "CALLER=%s", caller, "STATUS=%s",
	                                   status, "MS=%ld", ms, NULL) < 0)
		write_stderr(level, line);
}
