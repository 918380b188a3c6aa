/*
 * report_xlsx.h - the Excel annex of `yuebao report --format xlsx`: the
 * consolidated figures as a workbook the office can file, re-sort and chart
 * without retyping a number.
 *
 * Sheets, named in the reader's language: the summary (one row per figure
 * under its section's heading: value, previous, change), the figures by
 * child unit (a pivot: units as columns), by month, the charts (when the
 * report has a comparison: one bar chart of the changes per section; the
 * monthly line of the main flows sits on the month sheet) and how the
 * figures were made (report_provenance). Every figure is the server's
 * string turned into an Excel number with a number format, so the cell
 * shows what `yuebao consolidate` prints and sums like a number; rates are
 * stored as fractions with a % format; a figure without a value is "—",
 * never 0. The first column of every figure table holds the figure's code,
 * for VLOOKUP and for tests/tools/check_report_xlsx.py.
 */
#ifndef YB_REPORT_XLSX_H
#define YB_REPORT_XLSX_H

#include "report.h"
#include "status.h"

/*
 * Writes the annex of r (which has passed report_check) to path. The
 * workbook is written to a temporary file in path's directory and renamed
 * over path only once complete, so a failure leaves path as it was and no
 * partial file behind. Returns YB_OK, or: YB_EIO when a file cannot be
 * created, written or renamed, YB_ENOMEM, YB_INVALID_ARGUMENT when a
 * figure is not a plain decimal, YB_EBUG for any other libxlsxwriter
 * refusal; eb names the file and libxlsxwriter's or the system's reason.
 */
yb_status report_xlsx_write(const struct report *r, const char *path, struct errbuf *eb);

#endif
