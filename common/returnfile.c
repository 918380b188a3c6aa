/*
 * returnfile.c - a monthly return read from a CSV file (`code`, `value`
 * columns; anything else ignored).
 *
 * Excel on Chinese Windows saves "CSV" in GB18030/GBK, and SPEC §7 accepts
 * such files: when the text is refused as a sheet (e.g. it is not UTF-8),
 * it is converted from GB18030 with iconv and read again. Only if that also
 * fails is the first, UTF-8 error reported. Structural characters (comma,
 * quote, CR, LF) are the same bytes in both encodings, so line numbers hold.
 */
#include "returnfile.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

/*
 * Converts GB18030 text to UTF-8 into a new buffer of at most
 * SHEET_MAX_BYTES (a GB18030 character never grows beyond 4 UTF-8 bytes).
 * Returns false when the text is not GB18030 either.
 */
static bool from_gb18030(const char *in, size_t inlen, char **out, size_t *outlen)
{
	iconv_t cd = iconv_open("UTF-8", "GB18030");
	size_t cap = inlen * 2 + 16;
	char *buf = NULL, *src = (char *)in, *dst;
	size_t left = inlen, room;
	bool ok = false;

	if (cd == (iconv_t)-1)
		return false;
	if (cap > (size_t)SHEET_MAX_BYTES)
		cap = SHEET_MAX_BYTES;
	for (;;) {
		char *p = realloc(buf, cap);
		if (p == NULL)
			goto out;
		buf = p;
		src = (char *)in;
		left = inlen;
		dst = buf;
		room = cap;
		iconv(cd, NULL, NULL, NULL, NULL);
		if (iconv(cd, &src, &left, &dst, &room) != (size_t)-1)
			break;
		if (errno != E2BIG || cap >= (size_t)SHEET_MAX_BYTES)
			goto out; /* EILSEQ / EINVAL: not GB18030 */
		cap = cap * 2 > (size_t)SHEET_MAX_BYTES ? (size_t)SHEET_MAX_BYTES : cap * 2;
	}
	*outlen = (size_t)(dst - buf);
	*out = buf;
	buf = NULL;
	ok = true;
out:
	free(buf);
	iconv_close(cd);
	return ok;
}

/* Parses the bytes as UTF-8, falling back to GB18030 as described above. */
static int read_sheet(const char *path, const char *data, size_t len, struct sheet **out,
                      struct errbuf *eb)
{
	char *conv = NULL;
	size_t clen = 0;
	int rc = sheet_load_mem(data, len, path, out, eb);

	if (rc != YB_INVALID_ARGUMENT || len == 0)
		return rc;
	if (from_gb18030(data, len, &conv, &clen)) {
		struct sheet *s = NULL;
		if (sheet_load_mem(conv, clen, path, &s, NULL) == YB_OK) {
			*out = s;
			rc = YB_OK;
		}
		free(conv);
	}
	return rc;
}

int returnfile_read(const char *path, struct returnfile **out, struct errbuf *eb)
{
	struct returnfile *r = NULL;
	char *data = NULL;
	size_t len = 0, rows;
	int code_col, value_col, rc;

	*out = NULL;
	if ((rc = sheet_read_file(path, &data, &len, eb)) != YB_OK)
		return rc;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		rc = status_fail(eb, YB_ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	if ((rc = read_sheet(path, data, len, &r->sheet, eb)) != YB_OK)
		goto fail;
	code_col = sheet_find_col(r->sheet, "code");
	value_col = sheet_find_col(r->sheet, "value");
	if (code_col < 0 || value_col < 0) {
		rc = status_fail(eb, YB_INVALID_ARGUMENT,
		                 "%s: line %zu: no '%s' column in the header (the first line must "
		                 "name the columns, at least code,value)",
		                 path, sheet_line(r->sheet, 0), code_col < 0 ? "code" : "value");
		goto fail;
	}
	rows = sheet_rows(r->sheet);
	r->entries = calloc(rows, sizeof(*r->entries));
	if (r->entries == NULL) {
		rc = status_fail(eb, YB_ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	for (size_t i = 1; i < rows; i++) {
		const char *code = sheet_cell(r->sheet, i, (size_t)code_col);

		if (*code == '\0')
			continue;
		r->entries[r->n].code = code;
		r->entries[r->n].value = sheet_cell(r->sheet, i, (size_t)value_col);
		r->entries[r->n].line = sheet_line(r->sheet, i);
		r->n++;
	}
	free(data);
	*out = r;
	return YB_OK;
fail:
	free(data);
	returnfile_free(r);
	return rc;
}

void returnfile_free(struct returnfile *r)
{
	if (r == NULL)
		return;
	sheet_free(r->sheet);
	free(r->entries);
	free(r);
}
