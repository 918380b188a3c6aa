/*
 * fuzz_xlsx.c - libFuzzer target for the workbook reader (xlsx_read_sheet).
 * An input whose first byte is 'B' is the worksheet's XML, then a NUL, then
 * the shared strings' XML: it is zipped (stored, so the fuzzer's bytes reach
 * expat as they are) with a fixed workbook around it. Any other input is
 * read as the archive itself. Either the workbook is refused with a message
 * naming the file, or the sheet keeps sheet.h's promises: rows within the
 * caps on lines that only go forwards, UTF-8 cells of capped size, no
 * trailing empty cell.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "sheet_promise.h"
#include "xlsx.h"

static const char WORKBOOK[] =
    "<workbook xmlns:r=\"r\"><sheets><sheet name=\"月报\" sheetId=\"1\" r:id=\"rId1\"/>"
    "</sheets></workbook>";
static const char RELS[] = "<Relationships><Relationship Id=\"rId1\" "
                           "Target=\"worksheets/sheet1.xml\"/></Relationships>";

static int add(zip_t *z, const char *name, const void *data, size_t len)
{
	zip_source_t *s = zip_source_buffer(z, data, len, 0);
	zip_int64_t i;

	if (s == NULL)
		return -1;
	i = zip_file_add(z, name, s, 0);
	if (i < 0) {
		zip_source_free(s);
		return -1;
	}
	return zip_set_file_compression(z, (zip_uint64_t)i, ZIP_CM_STORE, 0);
}

/* Zips the worksheet and shared strings; *out is the caller's to free. */
static int build(const uint8_t *data, size_t size, char **out, size_t *outlen)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t ws_len = nul != NULL ? (size_t)(nul - data) : size;
	zip_error_t ze;
	zip_source_t *src;
	zip_t *z;
	zip_stat_t st;
	int rc = -1;

	zip_error_init(&ze);
	if ((src = zip_source_buffer_create(NULL, 0, 0, &ze)) == NULL)
		return -1;
	zip_source_keep(src);
	if ((z = zip_open_from_source(src, ZIP_TRUNCATE, &ze)) == NULL)
		goto out;
	if (add(z, "xl/workbook.xml", WORKBOOK, sizeof(WORKBOOK) - 1) != 0 ||
	    add(z, "xl/_rels/workbook.xml.rels", RELS, sizeof(RELS) - 1) != 0 ||
	    add(z, "xl/worksheets/sheet1.xml", data, ws_len) != 0 ||
	    (nul != NULL && add(z, "xl/sharedStrings.xml", nul + 1, size - ws_len - 1) != 0)) {
		zip_discard(z);
		goto out;
	}
	if (zip_close(z) != 0) {
		zip_discard(z);
		goto out;
	}
	if (zip_source_stat(src, &st) != 0 || (*out = malloc(st.size + 1)) == NULL)
		goto out;
	if (zip_source_open(src) == 0) {
		*outlen = (size_t)zip_source_read(src, *out, st.size);
		zip_source_close(src);
		rc = 0;
	}
out:
	zip_source_free(src);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const prefer[] = {"月报", NULL};
	struct sheet *s = NULL;
	struct errbuf eb;
	char *zip = NULL, name[64];
	size_t len = 0;
	int rc;

	if (size > 0 && data[0] == 'B') {
		if (build(data + 1, size - 1, &zip, &len) != 0)
			return 0;
	} else {
		zip = malloc(size + 1);
		if (zip == NULL)
			return 0;
		memcpy(zip, data, size);
		len = size;
	}
	eb.msg[0] = '\0';
	rc = xlsx_read_sheet(zip, len, "fuzz.xlsx", prefer, &s, name, sizeof(name), &eb);
	free(zip);
	if (rc != YB_OK) {
		if (s != NULL || strncmp(eb.msg, "fuzz.xlsx: ", 11) != 0)
			abort();
		return 0;
	}
	sheet_promise_check(s);
	if (strcmp(sheet_encoding(s), "xlsx") != 0)
		abort();
	sheet_free(s);
	return 0;
}
