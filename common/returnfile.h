/*
 * returnfile.h - a monthly return as a file: a CSV file or an Excel
 * workbook (.xlsx, told apart by its first bytes, not by its name). The
 * header row names at least the columns `code` and `value` (or, as the
 * Chinese template has them, 代码 and 数值); any others (name/名称,
 * unit/单位, note/说明) are ignored. A CSV file is read by the sheet module,
 * so it may be UTF-8 (with or without BOM) or GB18030/GBK;
 * sheet_encoding(r->sheet) says which, or "xlsx". From a workbook the sheet
 * named RETURNFILE_SHEET_ZH or RETURNFILE_SHEET_EN is read (the template's),
 * else the first one (xlsx.h); a "line" in its messages is the row number
 * the spreadsheet shows.
 *
 * The file may name its month in a row whose code is CATALOG_PERIOD_CODE
 * ("period"), the month in its value cell in any form period_parse_month
 * takes. `yuebao template` writes it as 202606: a plain number, which Excel
 * (whatever its locale) keeps as it is when it opens and saves the CSV again,
 * where it takes 2026-06 for a date and may write it back as "Jun-26" (or,
 * on Chinese Windows, "2026年6月", which is accepted). A row is what survives
 * Excel and keeps the header the first line, as SPEC §7 has it; a comment
 * line before the header would not. Files without the row (older templates)
 * are read as before.
 */
#ifndef YB_RETURNFILE_H
#define YB_RETURNFILE_H

#include <stddef.h>

#include "catalog.h"
#include "sheet.h"
#include "status.h"

/* The names of the template's sheet, read in preference to the first sheet. */
#define RETURNFILE_SHEET_ZH "月报"
#define RETURNFILE_SHEET_EN "Return"

struct returnfile {
	struct sheet *sheet;
	struct catalog_entry *entries; /* point into sheet; the period row is not one */
	size_t n;
	int month;            /* month number the period row names, when month_line > 0 */
	size_t month_line;    /* line of the period row; 0 when the file names no month */
	char sheet_name[128]; /* the workbook's sheet read; "" for a CSV file */
};

/*
 * Reads path as a return. Refuses a file that cannot be read as a CSV sheet
 * (see sheet_load_file: not CSV, undecodable, ...) or, when it starts as a
 * zip archive does, as a workbook (xlsx_read_sheet), whose header lacks
 * `code` or `value` (YB_INVALID_ARGUMENT, "no 'value' column in the
 * header"), whose period row holds no month ("r.csv: line 2: the period row:
 * period "2026Q2": returns are monthly ...") or which has two period rows. A period row with a
 * blank value is as if absent. Rows whose code cell is empty are skipped; entries[i].value is the
 * cell as written ("" when blank: not reported). The caller owns *out (returnfile_free).
 */
int returnfile_read(const char *path, struct returnfile **out, struct errbuf *eb);

/* Frees r; NULL is allowed. */
void returnfile_free(struct returnfile *r);

#endif
