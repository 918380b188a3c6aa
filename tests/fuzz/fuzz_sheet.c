/*
 * fuzz_sheet.c - libFuzzer target for the CSV reader (sheet_load_mem): any
 * bytes either load or are refused with a message; a message that names a
 * line and a byte offset names a byte of the file on that line (whatever the
 * encoding); a loaded sheet obeys the caps and its own contract (UTF-8
 * cells, trailing empty cells dropped, lines that only go forwards).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sheet_promise.h"

/* The 1-based line of byte pos, counted as sheet.h does (LF, or a lone CR). */
static size_t line_of(const uint8_t *d, size_t len, size_t pos)
{
	size_t line = 1;
	for (size_t i = 0; i < pos; i++)
		if (d[i] == '\n' || (d[i] == '\r' && (i + 1 >= len || d[i + 1] != '\n')))
			line++;
	return line;
}

/* "... line L: ... byte offset N ...": N is in the file and on line L. */
static void check_position(const char *msg, const uint8_t *d, size_t len)
{
	const char *l = strstr(msg, ": line "), *o = strstr(msg, "byte offset ");
	unsigned long long line, off;

	if (o == NULL)
		return;
	if (l == NULL || sscanf(l, ": line %llu", &line) != 1 ||
	    sscanf(o, "byte offset %llu", &off) != 1)
		abort();
	if (off >= len || line_of(d, len, (size_t)off) != line)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sheet *s = NULL;
	struct errbuf eb;
	int rc;

	eb.msg[0] = '\0';
	rc = sheet_load_mem((const char *)data, size, "fuzz.csv", &s, &eb);
	if (rc != YB_OK) {
		if (s != NULL || eb.msg[0] == '\0' || strlen(eb.msg) >= ERRBUF_MAX)
			abort();
		check_position(eb.msg, data, size);
		return 0;
	}
	sheet_promise_check(s);
	(void)sheet_find_col(s, "code");
	(void)sheet_find_col(s, "value");
	sheet_free(s);
	return 0;
}
