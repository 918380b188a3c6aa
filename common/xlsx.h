/*
 * xlsx.h - one worksheet of an Excel workbook (.xlsx, Office Open XML) read
 * into a sheet (sheet.h), so a return filled in with Excel, WPS or
 * LibreOffice is submitted as it was saved, without a detour through CSV.
 * The archive is opened with libzip and its XML parts parsed with expat.
 *
 * What a cell gives:
 *  - text: shared or inline strings (rich-text runs joined, phonetic
 *    guides left out); a formula's saved text result;
 *  - a number as a plain decimal rounded to 15 significant digits, which is
 *    what Excel shows: 0.1+0.2 is saved as 0.30000000000000004 and read as
 *    0.3, 1E-3 as 0.001, 202606 as 202606;
 *  - a formula's saved result; a formula saved without one (a file written
 *    by a program, never opened in a spreadsheet) is refused, as is a cell
 *    showing an error (#DIV/0!, #VALUE!...), naming the cell;
 *  - TRUE or FALSE for a logical cell.
 * Row r of the worksheet is line r of the sheet, so messages name the row a
 * person sees in the spreadsheet; column A is cell 0.
 *
 * The workbook is outside input and every size is capped: the file by the
 * caller (SHEET_MAX_BYTES), the archive to XLSX_MAX_ENTRIES entries, every
 * part read to XLSX_MAX_PART bytes unpacked and, past 1 MiB, to
 * XLSX_MAX_RATIO times its packed size (what a zip bomb exceeds); an XML
 * part with a DTD is refused, so no entity is ever expanded.
 */
#ifndef YB_XLSX_H
#define YB_XLSX_H

#include <stdbool.h>
#include <stddef.h>

#include "sheet.h"
#include "status.h"

#define XLSX_MAX_ENTRIES 10000
#define XLSX_MAX_PART (32u << 20)
#define XLSX_MAX_RATIO 100

/* True when data starts as a zip archive does ("PK\3\4"): an xlsx, maybe. */
bool xlsx_sniff(const char *data, size_t len);

/*
 * Reads one worksheet of the workbook data[0..len): the first sheet named
 * in `prefer` (a NULL-terminated list, or NULL) that the workbook has, else
 * its first sheet. `name` (the file) starts every message. The sheet's
 * name is copied into sheet_name (at most sheet_name_len bytes with the NUL;
 * sheet_name may be NULL when sheet_name_len is 0).
 *
 * Refuses with YB_INVALID_ARGUMENT a file that is not a zip archive, not a
 * workbook, a workbook without worksheets, malformed XML (naming the part
 * and line), a DTD, an encrypted part, and a cell that holds a formula
 * without a saved result, an error value or a missing shared string (naming
 * the sheet and cell: "r.xlsx: sheet 月报: cell D7: ..."); with
 * YB_RESOURCE_EXHAUSTED too many entries, a part that unpacks past the caps
 * (the message says "zip bomb"), and what sheet_add_row refuses; YB_ENOMEM.
 * The caller owns *out (sheet_free); its encoding reads "xlsx".
 */
int xlsx_read_sheet(const char *data, size_t len, const char *name, const char *const *prefer,
                    struct sheet **out, char *sheet_name, size_t sheet_name_len, struct errbuf *eb);

#endif
