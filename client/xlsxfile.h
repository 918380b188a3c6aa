/*
 * xlsxfile.h - a libxlsxwriter workbook that reaches its path whole or not
 * at all.
 *
 * libxlsxwriter keeps the workbook in memory and writes the file only in
 * workbook_close. The workbook is written to a temporary file beside the
 * destination (same file system) and moved there only once complete, so a
 * failure at any point leaves the destination as it was and no partial
 * file behind. Every libxlsxwriter failure while filling the workbook is
 * remembered (the first one wins) with xlsxfile_check and reported once,
 * naming the file, by xlsxfile_close.
 */
#ifndef YB_XLSXFILE_H
#define YB_XLSXFILE_H

#include <stdbool.h>

#include <xlsxwriter.h>

#include "status.h"

struct xlsxfile {
	lxw_workbook *wb; /* fill it between open and close */
	char *tmp;        /* the temporary file; NULL once moved or removed */
	const char *path; /* the destination (the caller's string) */
	lxw_error err;    /* the first failure seen; LXW_NO_ERROR while none */
};

/*
 * Creates the temporary file (O_EXCL: two runs never write into each
 * other's) and a workbook on it. YB_EIO when the file cannot be created,
 * YB_ENOMEM; eb names the file. On failure nothing is left to close.
 */
yb_status xlsxfile_open(struct xlsxfile *f, const char *path, struct errbuf *eb);

/* Remembers e when it is the first failure. */
void xlsxfile_check(struct xlsxfile *f, lxw_error e);

/*
 * Writes the workbook (when commit is true and nothing failed) and moves it
 * to the destination: over an existing file when replace is true, else
 * refused with YB_ALREADY_EXISTS when the destination exists. With commit
 * false, or after a failure, the temporary file is removed. Returns YB_OK
 * or: YB_EIO (cannot write or move), YB_ENOMEM, YB_ALREADY_EXISTS,
 * YB_EBUG (libxlsxwriter refused something else), with eb naming the file
 * and the reason. Frees everything open gave, whatever it returns.
 */
yb_status xlsxfile_close(struct xlsxfile *f, bool commit, bool replace, struct errbuf *eb);

#endif
