/*
 * sheet_promise.c - the checks of sheet_promise.h, shared by fuzz_sheet and
 * fuzz_xlsx so that both readers are held to the same contract.
 */
#include <stdlib.h>
#include <string.h>

#include "sheet_promise.h"

/* Valid UTF-8 without NUL (the cells' promise to every caller). */
static int valid_utf8(const unsigned char *s)
{
	while (*s) {
		size_t n = *s < 0x80 ? 0 : *s >= 0xF0 ? 3 : *s >= 0xE0 ? 2 : *s >= 0xC2 ? 1 : 9;
		if (n == 9 || *s > 0xF4)
			return 0;
		s++;
		for (; n > 0; n--, s++)
			if ((*s & 0xC0) != 0x80)
				return 0;
	}
	return 1;
}

void sheet_promise_check(const struct sheet *s)
{
	size_t prev_line = 0;

	if (s == NULL || sheet_rows(s) == 0 || sheet_rows(s) > SHEET_MAX_ROWS ||
	    sheet_encoding(s)[0] == '\0')
		abort();
	for (size_t r = 0; r < sheet_rows(s); r++) {
		size_t line = sheet_line(s, r), cols = sheet_cols(s, r);

		if (line <= prev_line || cols == 0 || cols > SHEET_MAX_COLS)
			abort();
		prev_line = line;
		if (sheet_cell(s, r, cols - 1)[0] == '\0')
			abort();
		for (size_t c = 0; c <= cols; c++) {
			const char *t = sheet_cell(s, r, c);
			if (strlen(t) > SHEET_MAX_CELL || !valid_utf8((const unsigned char *)t))
				abort();
		}
	}
}
