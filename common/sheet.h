/*
 * sheet.h - reading CSV files into rows of cells (on top of libcsv).
 *
 * A sheet is what a person saved from a spreadsheet: a header row, then data
 * rows. Every CSV the programs read (returns, the org tree, the catalog)
 * goes through here, so all of them take the files Excel really writes:
 *
 *  - Encoding: a UTF-8 byte-order mark means UTF-8 (the mark is dropped);
 *    otherwise text that is valid UTF-8 is UTF-8; otherwise it is read as
 *    GB18030 (which covers GBK: Excel's plain "CSV" on Chinese Windows) and
 *    converted to UTF-8 with iconv. sheet_encoding() says which it was.
 *    Cells are always UTF-8. Line numbers and byte offsets in messages are
 *    those of the file as it is on disk, whatever its encoding.
 *  - Not CSV text at all is named: UTF-16 text (byte-order mark FF FE or
 *    FE FF), an Excel workbook (.xlsx / zip magic "PK\3\4", or .xls / OLE2
 *    magic D0 CF 11 E0) and other binary files (a NUL byte), each with what
 *    to do instead.
 *  - RFC 4180 quoting, CRLF, LF or CR line ends.
 *  - Cells are trimmed of surrounding blanks (ASCII, NO-BREAK SPACE,
 *    IDEOGRAPHIC SPACE, ZERO WIDTH NO-BREAK SPACE). Trailing empty cells of a
 *    row are dropped (Excel writes `code,value,,,`), so sheet_cols counts up
 *    to the last non-empty cell and empty trailing cells never count against
 *    SHEET_MAX_COLS; rows with only empty cells are dropped (blank lines,
 *    `,,,`). Every kept row remembers the 1-based line of the file it started
 *    on, so messages can name it.
 */
#ifndef YB_SHEET_H
#define YB_SHEET_H

#include <stddef.h>

#include "status.h"

/* Hard caps on outside input. */
#define SHEET_MAX_BYTES (4u << 20) /* whole file, as read (before any conversion) */
#define SHEET_MAX_ROWS 100000
#define SHEET_MAX_COLS 256  /* up to the last non-empty cell */
#define SHEET_MAX_CELL 4096 /* bytes in one cell, in UTF-8 */

struct sheet;

/*
 * Reads and parses a whole file. Refuses, with eb naming the file and the
 * cause: an unreadable file (YB_EIO), a file over SHEET_MAX_BYTES or more
 * rows/columns/cell bytes than the caps (YB_RESOURCE_EXHAUSTED), or
 * (YB_INVALID_ARGUMENT) a file that is not CSV text (UTF-16, an Excel
 * workbook, binary: the message says what it is and how to save it as CSV),
 * a byte that is neither UTF-8 nor GB18030 (the message names its line and
 * byte offset in the file, e.g. "r.csv: line 3: byte offset 28 (0xFF) is
 * neither UTF-8 nor GB18030 ..."), a UTF-8 byte-order mark followed by
 * invalid UTF-8, malformed quoting, or no header row. YB_INTERNAL if iconv
 * cannot convert from GB18030 on this system. The caller owns *out
 * (sheet_free).
 */
int sheet_load_file(const char *path, struct sheet **out, struct errbuf *eb);

/*
 * Reads a whole file (at most SHEET_MAX_BYTES) into *data, which the caller
 * frees; for callers that keep the exact bytes they parse. YB_EIO,
 * YB_RESOURCE_EXHAUSTED or YB_ENOMEM with eb naming the file.
 */
int sheet_read_file(const char *path, char **data, size_t *len, struct errbuf *eb);

/* Same as sheet_load_file on bytes in memory; `name` is used in messages. */
int sheet_load_mem(const char *data, size_t len, const char *name, struct sheet **out,
                   struct errbuf *eb);

/*
 * Building a sheet row by row, for readers of other formats (xlsx.h).
 * sheet_new gives an empty sheet whose sheet_encoding is `encoding` (a
 * static string). YB_OK or YB_ENOMEM; the caller owns *out (sheet_free).
 */
int sheet_new(const char *encoding, struct sheet **out);

/*
 * Appends a row of ncols cells (UTF-8; NULL is an empty cell) that starts
 * on `line` of the input, under the rules a CSV row follows: cells trimmed,
 * trailing empty cells dropped, a row with no text dropped, the caps above.
 * Refuses (YB_RESOURCE_EXHAUSTED, eb naming `name` and the line) a cell over
 * SHEET_MAX_CELL, a non-empty cell past SHEET_MAX_COLS, a row past
 * SHEET_MAX_ROWS; YB_ENOMEM. On failure s is as it was before the call.
 */
int sheet_add_row(struct sheet *s, size_t line, const char *const *cells, size_t ncols,
                  const char *name, struct errbuf *eb);

/* Frees s; NULL is allowed. */
void sheet_free(struct sheet *s);

/* Number of rows, the header (row 0) included. */
size_t sheet_rows(const struct sheet *s);

/* Number of cells in a row (0 for a row out of range). */
size_t sheet_cols(const struct sheet *s, size_t row);

/* A cell's text (owned by s), "" for a cell or row out of range. */
const char *sheet_cell(const struct sheet *s, size_t row, size_t col);

/* The 1-based line of the file where the row starts (0 out of range). */
size_t sheet_line(const struct sheet *s, size_t row);

/*
 * The encoding the text was read in: "UTF-8", "UTF-8 with BOM" or
 * "GB18030" (static strings; "" for NULL).
 */
const char *sheet_encoding(const struct sheet *s);

/* Index of the header cell equal to name (ASCII case-insensitive), or -1. */
int sheet_find_col(const struct sheet *s, const char *name);

#endif
