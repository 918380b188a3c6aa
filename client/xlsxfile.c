/*
 * xlsxfile.c - writing a libxlsxwriter workbook through a temporary file
 * (see xlsxfile.h).
 */
#include "xlsxfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "i18n.h"

yb_status xlsxfile_open(struct xlsxfile *f, const char *path, struct errbuf *eb)
{
	size_t len = strlen(path) + 32;
	int fd;

	*f = (struct xlsxfile){.path = path, .err = LXW_NO_ERROR};
	if ((f->tmp = malloc(len)) == NULL)
		return status_fail(eb, YB_ENOMEM, _("out of memory writing %s"), path);
	snprintf(f->tmp, len, "%s.%ld.tmp", path, (long)getpid());
	fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0) {
		yb_status st =
		    status_fail(eb, YB_EIO, _("cannot create %s: %s"), f->tmp, strerror(errno));
		free(f->tmp);
		f->tmp = NULL;
		return st;
	}
	close(fd);
	if ((f->wb = workbook_new(f->tmp)) == NULL) {
		unlink(f->tmp);
		free(f->tmp);
		f->tmp = NULL;
		return status_fail(eb, YB_ENOMEM, _("out of memory writing %s"), path);
	}
	return YB_OK;
}

void xlsxfile_check(struct xlsxfile *f, lxw_error e)
{
	if (f->err == LXW_NO_ERROR)
		f->err = e;
}

/* Moves the finished temporary file to the destination. */
static yb_status publish(struct xlsxfile *f, bool replace, struct errbuf *eb)
{
	if (replace) {
		if (rename(f->tmp, f->path) != 0)
			return status_fail(eb, YB_EIO, _("cannot rename %s to %s: %s"), f->tmp,
			                   f->path, strerror(errno));
		return YB_OK;
	}
	/* link refuses an existing destination atomically; rename would replace it. */
	if (link(f->tmp, f->path) != 0)
		return status_fail(eb, errno == EEXIST ? YB_ALREADY_EXISTS : YB_EIO,
		                   _("cannot create %s: %s"), f->path, strerror(errno));
	unlink(f->tmp);
	return YB_OK;
}

yb_status xlsxfile_close(struct xlsxfile *f, bool commit, bool replace, struct errbuf *eb)
{
	yb_status st = YB_OK;
	lxw_error e;

	if (!commit || f->err != LXW_NO_ERROR) {
		lxw_workbook_free(f->wb);
	} else {
		/* workbook_close frees the workbook whatever it returns. */
		e = workbook_close(f->wb);
		xlsxfile_check(f, e);
	}
	f->wb = NULL;
	if (f->err != LXW_NO_ERROR) {
		yb_status code =
		    f->err == LXW_ERROR_MEMORY_MALLOC_FAILED ? YB_ENOMEM
		    : f->err >= LXW_ERROR_CREATING_XLSX_FILE && f->err <= LXW_ERROR_ZIP_CLOSE
		        ? YB_EIO
		        : YB_EBUG;
		st = status_fail(eb, code, _("cannot write %s: %s"), f->path, lxw_strerror(f->err));
	} else if (commit) {
		st = publish(f, replace, eb);
	}
	if (f->tmp != NULL) {
		unlink(f->tmp); /* gone already once published */
		free(f->tmp);
		f->tmp = NULL;
	}
	return st;
}
