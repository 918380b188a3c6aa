/*
 * returnfile.c - a monthly return read from a CSV file or a workbook
 * (`code`, `value` columns; anything else ignored), and the month its period
 * row names. Encodings, what is not CSV at all, and the shape of the text
 * are the sheet module's business (sheet.h); workbooks the xlsx module's.
 */
#include "returnfile.h"

#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "period.h"
#include "xlsx.h"

/* The header words of each column read, in English and in Chinese. */
static int find_col(const struct sheet *s, const char *en, const char *zh)
{
	int col = sheet_find_col(s, en);
	return col >= 0 ? col : sheet_find_col(s, zh);
}

/* Reads the file as a workbook when it is a zip archive, else as CSV. */
static int load(const char *path, struct returnfile *r, struct errbuf *eb)
{
	static const char *const sheets[] = {RETURNFILE_SHEET_ZH, RETURNFILE_SHEET_EN, NULL};
	char *data = NULL;
	size_t len;
	int rc;

	if ((rc = sheet_read_file(path, &data, &len, eb)) != YB_OK)
		return rc;
	if (xlsx_sniff(data, len))
		rc = xlsx_read_sheet(data, len, path, sheets, &r->sheet, r->sheet_name,
		                     sizeof(r->sheet_name), eb);
	else
		rc = sheet_load_mem(data, len, path, &r->sheet, eb);
	free(data);
	return rc;
}

/* Takes the month from the period row `row`; refuses a second one or a bad month. */
static int read_month(struct returnfile *r, const char *path, size_t row, size_t value_col,
                      struct errbuf *eb)
{
	const char *text = sheet_cell(r->sheet, row, value_col);
	size_t line = sheet_line(r->sheet, row);
	struct errbuf peb;

	if (r->month_line > 0)
		return status_fail(
		    eb, YB_INVALID_ARGUMENT,
		    _("%s: line %zu: a second period row (the first is on line %zu); "
		      "a return is for one month"),
		    path, line, r->month_line);
	if (*text == '\0')
		return YB_OK; /* as if absent: the command line names the month */
	if (period_parse_month(text, &r->month, &peb) != YB_OK)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("%s: line %zu: the period row: %s"),
		                   path, line, peb.msg);
	r->month_line = line;
	return YB_OK;
}

int returnfile_read(const char *path, struct returnfile **out, struct errbuf *eb)
{
	struct returnfile *r = NULL;
	size_t rows;
	int code_col, value_col, rc;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return status_fail(eb, YB_ENOMEM, _("%s: out of memory"), path);
	if ((rc = load(path, r, eb)) != YB_OK)
		goto fail;
	code_col = find_col(r->sheet, "code", "代码");
	value_col = find_col(r->sheet, "value", "数值");
	if (code_col < 0 || value_col < 0) {
		rc =
		    status_fail(eb, YB_INVALID_ARGUMENT,
		                _("%s: line %zu: no '%s' column in the header (the first line must "
		                  "name the columns, at least code,value or 代码,数值)"),
		                path, sheet_line(r->sheet, 0), code_col < 0 ? "code" : "value");
		goto fail;
	}
	rows = sheet_rows(r->sheet);
	r->entries = calloc(rows, sizeof(*r->entries));
	if (r->entries == NULL) {
		rc = status_fail(eb, YB_ENOMEM, _("%s: out of memory"), path);
		goto fail;
	}
	for (size_t i = 1; i < rows; i++) {
		const char *code = sheet_cell(r->sheet, i, (size_t)code_col);

		if (*code == '\0')
			continue;
		if (strcmp(code, CATALOG_PERIOD_CODE) == 0) {
			if ((rc = read_month(r, path, i, (size_t)value_col, eb)) != YB_OK)
				goto fail;
			continue;
		}
		r->entries[r->n].code = code;
		r->entries[r->n].value = sheet_cell(r->sheet, i, (size_t)value_col);
		r->entries[r->n].line = sheet_line(r->sheet, i);
		r->n++;
	}
	*out = r;
	return YB_OK;
fail:
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
