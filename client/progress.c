/*
 * progress.c - the progress line on stderr (progress.h).
 */
#include "progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "i18n.h"

#define FIRST_DRAW_MS 500  /* quick work draws nothing ... */
#define DELAY_MAX_MS 60000 /* ... unless YUEBAO_PROGRESS_DELAY_MS says otherwise */
#define REDRAW_MS 200
#define WHAT_MAX 96

struct progress {
	char what[WHAT_MAX];
	uint64_t total, done;
	int64_t start_ms, drawn_ms, delay_ms;
	bool drawn;
};

struct progress *progress_new(const char *what, uint64_t total, bool quiet)
{
	struct progress *p;
	const char *env;

	if (quiet || !isatty(STDERR_FILENO))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	snprintf(p->what, sizeof(p->what), "%s", what);
	p->total = total;
	p->start_ms = clock_monotonic_ms();
	p->delay_ms = FIRST_DRAW_MS;
	/* As git's GIT_PROGRESS_DELAY: for tests, and for users who want it sooner or later. */
	if ((env = getenv("YUEBAO_PROGRESS_DELAY_MS")) != NULL && *env != '\0') {
		char *end;
		long ms = strtol(env, &end, 10);

		if (*end == '\0' && ms >= 0 && ms <= DELAY_MAX_MS)
			p->delay_ms = ms;
	}
	return p;
}

void progress_set_total(struct progress *p, uint64_t total)
{
	if (p != NULL)
		p->total = total;
}

/* "42 s", "3 min 5 s", "1 h 2 min": the time left, coarse as it is. */
static void format_duration(char *buf, size_t len, int64_t s)
{
	if (s < 60)
		snprintf(buf, len, _("%" PRId64 " s"), s);
	else if (s < 3600)
		snprintf(buf, len, _("%" PRId64 " min %" PRId64 " s"), s / 60, s % 60);
	else
		snprintf(buf, len, _("%" PRId64 " h %" PRId64 " min"), s / 3600, s % 3600 / 60);
}

void progress_format(char *buf, size_t len, const char *what, uint64_t done, uint64_t total,
                     int64_t elapsed_ms)
{
	double rate = elapsed_ms > 0 ? (double)done * 1000.0 / (double)elapsed_ms : 0.0;
	char left[48];

	if (total == 0 || done > total) {
		snprintf(buf, len, _("%s: %" PRIu64 ", %.0f/s"), what, done, rate);
		return;
	}
	if (rate <= 0.0 || done == 0) {
		snprintf(buf, len, _("%s: %" PRIu64 "/%" PRIu64 " (%d%%)"), what, done, total,
		         (int)(done * 100 / total));
		return;
	}
	format_duration(left, sizeof(left), (int64_t)((double)(total - done) / rate + 0.5));
	snprintf(buf, len, _("%s: %" PRIu64 "/%" PRIu64 " (%d%%), %.0f/s, %s left"), what, done,
	         total, (int)(done * 100 / total), rate, left);
}

void progress_update(struct progress *p, uint64_t done)
{
	char line[256];
	int64_t now;

	if (p == NULL)
		return;
	p->done = done;
	now = clock_monotonic_ms();
	if (now - p->start_ms < p->delay_ms || (p->drawn_ms > 0 && now - p->drawn_ms < REDRAW_MS))
		return;
	progress_format(line, sizeof(line), p->what, done, p->total, now - p->start_ms);
	/* Carriage return, the line, then erase what a longer earlier line left. */
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	p->drawn = true;
	p->drawn_ms = now;
}

void progress_clear(struct progress *p)
{
	if (p == NULL || !p->drawn)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->drawn = false;
}

void progress_free(struct progress *p)
{
	progress_clear(p);
	free(p);
}
