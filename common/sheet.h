/*
 * sheet.h - reading CSV files into rows of cells (on top of libcsv).
 *
 * A sheet is what a person saved from a spreadsheet: a header row, then data
 * rows. The reader accepts RFC 4180 quoting, CRLF or LF line ends and a
 * UTF-8 byte-order mark (dropped). Cells are trimmed of surrounding blanks;
 * rows with only empty cells are dropped; every kept row remembers the
 * 1-based line of the file it started on, so messages can name it.
 */
#ifndef YB_SHEET_H
#define YB_SHEET_H

#include <stddef.h>

#include "status.h"

/* Hard caps on outside input. */
#define SHEET_MAX_BYTES (4u << 20) /* whole file */
#define SHEET_MAX_ROWS 100000
#define SHEET_MAX_COLS 256
#define SHEET_MAX_CELL 4096 /* bytes in one cell */

struct sheet;

/*
 * Reads and parses a whole file. Refuses, with eb naming the file and the
 * cause: an unreadable file (YB_EIO), a file over SHEET_MAX_BYTES or more
 * rows/columns/cell bytes than the caps (YB_RESOURCE_EXHAUSTED), text that
 * is not valid UTF-8 or contains NUL bytes, malformed quoting, or no header
 * row (YB_INVALID_ARGUMENT). The caller owns *out (sheet_free).
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

/* Index of the header cell equal to name (ASCII case-insensitive), or -1. */
int sheet_find_col(const struct sheet *s, const char *name);

#endif
