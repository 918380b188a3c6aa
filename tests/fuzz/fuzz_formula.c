/*
 * fuzz_formula.c - libFuzzer target for the formula engine: the text is
 * parsed both as an expression and as a rule; what parses is evaluated with
 * a lookup that returns fixed values (some codes missing, some zero, some
 * large), and the result is formatted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formula.h"

/* A fixed value per code: by its first letter, missing, zero, small, huge. */
static bool lookup(void *ctx, const char *code, struct dec_ratio *out)
{
	(void)ctx;
	switch (code[0] % 5) {
	case 0:
		return false;
	case 1:
		*out = dec_ratio_from_int(0);
		return true;
	case 2:
		*out = dec_ratio_from_hundredths(12345);
		return true;
	case 3:
		*out = dec_ratio_from_hundredths(-1);
		return true;
	default:
		*out = dec_ratio_from_hundredths(INT64_MAX);
		return true;
	}
}

static void check(const struct formula *f, const char *text)
{
	const char *const *codes;
	size_t n = formula_codes(f, &codes);

	if (strcmp(formula_text(f), text) != 0)
		abort();
	for (size_t i = 0; i < n; i++)
		if (codes[i] == NULL || codes[i][0] < 'a' || codes[i][0] > 'z')
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	struct formula *f = NULL;
	struct errbuf eb;

	if (size > FORMULA_MAX_TEXT + 16)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	if (formula_parse(text, &f, &eb) == YB_OK) {
		struct dec_ratio r;
		char buf[80];

		check(f, text);
		if (formula_is_rule(f))
			abort();
		if (formula_eval(f, lookup, NULL, &r) == FORMULA_VALUE) {
			for (int d = 0; d <= 6; d++)
				if (dec_ratio_format(r, d, buf, sizeof(buf)) != YB_OK)
					abort();
		}
		formula_free(f);
	} else if (f != NULL) {
		abort();
	}

	f = NULL;
	if (formula_parse_rule(text, &f, &eb) == YB_OK) {
		bool holds;

		check(f, text);
		if (!formula_is_rule(f))
			abort();
		(void)formula_eval_rule(f, lookup, NULL, &holds);
		formula_free(f);
	} else if (f != NULL) {
		abort();
	}
	free(text);
	return 0;
}
