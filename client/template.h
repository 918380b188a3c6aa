/*
 * template.h - the blank return a branch fills in (`yuebao template`), as
 * CSV or as an Excel workbook.
 *
 * Both carry the month in a row with code CATALOG_PERIOD_CODE (returnfile.h
 * says why 202606) and one row per element of the catalog, in catalog
 * order for CSV and grouped under section headings for xlsx; both are read
 * back by returnfile_read.
 *
 * CSV: the header `code,name,unit,value` (SPEC §7: scripts rely on it),
 * names in the user's language.
 *
 * xlsx: one sheet named RETURNFILE_SHEET_ZH or RETURNFILE_SHEET_EN after the
 * user's language; the header (代码,名称,单位,数值,说明 or code,name,unit,
 * value,note) in row 1, frozen; the month in D2, a text cell defined as
 * the workbook name "period"; each section's name on a heading row (its
 * code cell empty, so readers skip it) above its elements. The sheet is
 * protected without a password: only the month and the value cells can be
 * edited. Every value cell has Excel data validation (whole number or
 * amount with at most two decimals, within the element's min and max) and
 * an input message with the element's unit, type, bounds, aggregation and
 * the catalog rules that name it; the note column repeats that for print.
 */
#ifndef YB_TEMPLATE_H
#define YB_TEMPLATE_H

#include <stdbool.h>
#include <stdio.h>

#include "catalog.h"
#include "status.h"

struct template_spec {
	const struct catalog *cat;
	int month; /* period month number (period.h) */
	/* Per element (index as in cat->elements): the value to pre-fill, NULL
	 * for none. The array may be NULL: nothing pre-filled. */
	const char *const *prefill;
};

/*
 * Writes the CSV template to f, with a UTF-8 byte-order mark first when bom
 * is true (Excel reads UTF-8 without one as the local code page). Returns
 * YB_OK, or YB_EIO when f reports a write error.
 */
yb_status template_write_csv(FILE *f, const struct template_spec *t, bool bom);

/*
 * Writes the xlsx template to path, which must not exist (YB_ALREADY_EXISTS:
 * a filled-in return is never overwritten); the file appears whole or not
 * at all (xlsxfile.h). YB_EIO, YB_ENOMEM or YB_EBUG otherwise, with eb
 * naming the file and the reason.
 */
yb_status template_write_xlsx(const char *path, const struct template_spec *t, struct errbuf *eb);

#endif
