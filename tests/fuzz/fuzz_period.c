/*
 * fuzz_period.c - libFuzzer target for the period parsers: any text either
 * parses to a valid period (or month, in any form a clerk types) whose
 * canonical text parses back to the same period, or is refused with a
 * message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "period.h"

#define TEXT_MAX 128

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[TEXT_MAX + 1], buf[PERIOD_TEXT_MAX];
	struct period p, q;
	struct errbuf eb;
	int m, rc;

	if (size > TEXT_MAX)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	eb.msg[0] = '\0';
	rc = period_parse(text, &p, &eb);
	if (rc == YB_OK) {
		if (p.first > p.last || period_length(&p) < 1)
			abort();
		if (period_month_year(p.first) < PERIOD_MIN_YEAR ||
		    period_month_year(p.last) > PERIOD_MAX_YEAR)
			abort();
		if (period_format(&p, buf, sizeof(buf)) != YB_OK)
			abort();
		if (period_parse(buf, &q, &eb) != YB_OK || q.first != p.first || q.last != p.last)
			abort();
		/* the comparison periods are computed without crashing */
		q = period_yoy(&p);
		q = period_prev(&p);
		(void)q;
	} else if (eb.msg[0] == '\0') {
		abort();
	}

	eb.msg[0] = '\0';
	rc = period_parse_month(text, &m, &eb);
	if (rc == YB_OK) {
		int mon = period_month_mon(m), again = -1;
		if (mon < 1 || mon > 12)
			abort();
		/* whatever form was typed, the canonical text is the same month to both parsers */
		if (period_format_month(m, buf, sizeof(buf)) != YB_OK ||
		    period_parse_month(buf, &again, &eb) != YB_OK || again != m ||
		    period_parse(buf, &q, &eb) != YB_OK || q.first != m || q.last != m)
			abort();
	} else if (eb.msg[0] == '\0') {
		abort();
	}
	return 0;
}
