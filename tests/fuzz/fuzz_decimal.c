/*
 * fuzz_decimal.c - libFuzzer target for the number parsers: dec_parse (strict)
 * and dec_parse_entry (values typed into a return). The first byte picks
 * max_decimals, the rest is the text. Checked: both stay within
 * DEC_MAX_UNITS; dec_parse_entry accepts everything dec_parse accepts, with
 * the same value; an accepted value formats and parses back to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"

#define TEXT_MAX 256

static void round_trip(int64_t v)
{
	char buf[64];
	struct errbuf eb;
	int64_t back;

	if (dec_format(v, 2, buf, sizeof(buf)) != YB_OK)
		abort();
	if (dec_parse(buf, 2, &back, &eb) != YB_OK || back != v)
		abort();
	if (dec_parse_entry(buf, 2, &back, &eb) != YB_OK || back != v)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[TEXT_MAX + 1];
	struct errbuf eb;
	int64_t a = 0, b = 0;
	int maxdec, ra, rb;

	if (size < 1 || size - 1 > TEXT_MAX)
		return 0;
	maxdec = data[0] % 4; /* 3 is out of range: refused by both */
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';

	ra = dec_parse(text, maxdec, &a, &eb);
	rb = dec_parse_entry(text, maxdec, &b, &eb);
	if (ra != YB_OK && ra != YB_INVALID_ARGUMENT)
		abort();
	if (rb != YB_OK && rb != YB_INVALID_ARGUMENT)
		abort();
	if (ra == YB_OK && (rb != YB_OK || a != b))
		abort();
	if (rb == YB_OK) {
		if (b > DEC_MAX_UNITS * DEC_SCALE || b < -DEC_MAX_UNITS * DEC_SCALE)
			abort();
		if (maxdec == 0 && b % DEC_SCALE != 0)
			abort();
		if (maxdec == 1 && b % 10 != 0)
			abort();
		round_trip(b);
	}
	return 0;
}
