/*
 * sheet_promise.h - what every loaded sheet promises its callers (sheet.h),
 * checked by the fuzz targets of both readers that make sheets: the CSV
 * reader and the workbook reader.
 */
#ifndef YB_FUZZ_SHEET_PROMISE_H
#define YB_FUZZ_SHEET_PROMISE_H

#include "sheet.h"

/*
 * Aborts unless s keeps sheet.h's promises: at least one and at most
 * SHEET_MAX_ROWS rows, on lines that only go forwards; each row 1 to
 * SHEET_MAX_COLS cells, the last one not empty (trailing empty cells are
 * dropped), a cell past the end reads as ""; every cell valid UTF-8 without
 * NUL and at most SHEET_MAX_CELL bytes; a named encoding.
 */
void sheet_promise_check(const struct sheet *s);

#endif
