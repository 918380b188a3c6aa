/*
 * returnfile.h - a monthly return as a CSV file: header with at least the
 * columns `code` and `value`; any others (name, unit, note) are ignored.
 * The file is read by the sheet module, so it may be UTF-8 (with or without
 * BOM) or GB18030/GBK; sheet_encoding(r->sheet) says which.
 */
#ifndef YB_RETURNFILE_H
#define YB_RETURNFILE_H

#include <stddef.h>

#include "catalog.h"
#include "sheet.h"
#include "status.h"

struct returnfile {
	struct sheet *sheet;
	struct catalog_entry *entries; /* point into sheet */
	size_t n;
};

/*
 * Reads path as a return. Refuses a file that cannot be read as a CSV sheet
 * (see sheet_load_file: not CSV, undecodable, ...) or whose header lacks
 * `code` or `value` (YB_INVALID_ARGUMENT, "no 'value' column in the
 * header"). Rows whose code cell is empty are skipped; entries[i].value is
 * the cell as written ("" when blank: not reported). The caller owns *out
 * (returnfile_free).
 */
int returnfile_read(const char *path, struct returnfile **out, struct errbuf *eb);

/* Frees r; NULL is allowed. */
void returnfile_free(struct returnfile *r);

#endif
