/*
 * test_xlsx.c - the workbook reader: cells come out as a person sees them
 * in the spreadsheet (shared, inline and rich text; numbers as Excel shows
 * them; a formula's saved result), the template's sheet is chosen over the
 * first, rows keep their numbers, and what is not a workbook, what hides a
 * zip bomb or a DTD, and cells that cannot be read are refused with a
 * message naming the file, the part or the cell. The workbooks are built
 * here with libzip, part by part.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "xlsx.h"

#define WB_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"

/* Zips the parts (name, content pairs, NULL-terminated) into *data. */
static void make_zip(const char *const *parts, const size_t *lens, char **data, size_t *len)
{
	zip_error_t ze;
	zip_source_t *src;
	zip_t *z;
	zip_stat_t st;

	zip_error_init(&ze);
	src = zip_source_buffer_create(NULL, 0, 0, &ze);
	assert_non_null(src);
	zip_source_keep(src);
	z = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
	assert_non_null(z);
	for (size_t i = 0; parts[i] != NULL; i += 2) {
		size_t n = lens != NULL && lens[i / 2] > 0 ? lens[i / 2] : strlen(parts[i + 1]);
		zip_source_t *fs = zip_source_buffer(z, parts[i + 1], n, 0);

		assert_non_null(fs);
		assert_true(zip_file_add(z, parts[i], fs, ZIP_FL_ENC_UTF_8) >= 0);
	}
	assert_int_equal(zip_close(z), 0);
	assert_int_equal(zip_source_stat(src, &st), 0);
	*len = (size_t)st.size;
	*data = malloc(*len);
	assert_non_null(*data);
	assert_int_equal(zip_source_open(src), 0);
	assert_int_equal(zip_source_read(src, *data, *len), (zip_int64_t)*len);
	zip_source_close(src);
	zip_source_free(src);
}

/* The workbook part naming these sheets (one of four rotating buffers). */
static const char *workbook(const char *sheets)
{
	static char bufs[4][4096];
	static size_t next;
	char *buf = bufs[next++ % 4];

	snprintf(buf, sizeof(bufs[0]),
	         WB_HEAD "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/"
	                 "main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	                 "relationships\"><sheets>%s</sheets></workbook>",
	         sheets);
	return buf;
}

static const char *const RELS =
    WB_HEAD "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/"
            "relationships\">"
            "<Relationship Id=\"rId1\" Type=\"x/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
            "<Relationship Id=\"rId2\" Type=\"x/worksheet\" Target=\"/xl/worksheets/sheet2.xml\"/>"
            "<Relationship Id=\"rId3\" Type=\"x/sharedStrings\" Target=\"sharedStrings.xml\"/>"
            "</Relationships>";

static const char *const ONE_SHEET = "<sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/>";

static char *sheet_xml(const char *rows)
{
	size_t n = strlen(rows) + 512;
	char *buf = malloc(n);

	assert_non_null(buf);
	snprintf(buf, n,
	         WB_HEAD "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/"
	                 "main\"><sheetData>%s</sheetData></worksheet>",
	         rows);
	return buf;
}

/* Reads a workbook of one sheet with the given rows and shared strings. */
static int read_rows(const char *rows, const char *sst, struct sheet **out, struct errbuf *eb)
{
	char *ws = sheet_xml(rows), *data;
	const char *parts[] = {"[Content_Types].xml",
	                       "<Types/>",
	                       "xl/workbook.xml",
	                       workbook(ONE_SHEET),
	                       "xl/_rels/workbook.xml.rels",
	                       RELS,
	                       "xl/worksheets/sheet1.xml",
	                       ws,
	                       sst != NULL ? "xl/sharedStrings.xml" : NULL,
	                       sst,
	                       NULL};
	size_t len;
	int rc;

	make_zip(parts, NULL, &data, &len);
	assert_true(xlsx_sniff(data, len));
	rc = xlsx_read_sheet(data, len, "r.xlsx", NULL, out, NULL, 0, eb);
	free(data);
	free(ws);
	return rc;
}

static struct sheet *rows_ok(const char *rows, const char *sst)
{
	struct sheet *s = NULL;
	struct errbuf eb = {{0}};

	if (read_rows(rows, sst, &s, &eb) != YB_OK)
		fail_msg("unexpected failure: %s", eb.msg);
	return s;
}

static void rows_refused(const char *rows, const char *sst, int want, const char *msg)
{
	struct sheet *s = NULL;
	struct errbuf eb = {{0}};
	int rc = read_rows(rows, sst, &s, &eb);

	assert_null(s);
	if (rc != want || strstr(eb.msg, msg) == NULL)
		fail_msg("got %d \"%s\", want %d with \"%s\"", rc, eb.msg, want, msg);
	assert_non_null(strstr(eb.msg, "r.xlsx"));
}

static const char *const SST =
    "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
    "<si><t>code</t></si><si><t>value</t></si>"
    "<si><r><rPr><b/></rPr><t>study_</t></r><r><t xml:space=\"preserve\">sessions </t></r>"
    "<rPh sb=\"0\" eb=\"1\"><t>PHONETIC</t></rPh></si>"
    "<si><t>学习次数</t></si><si><t/></si></sst>";

static void test_cells_as_shown(void **state)
{
	(void)state;
	struct sheet *s = rows_ok(
	    "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c></row>"
	    "<row r=\"3\"><c r=\"A3\" t=\"s\"><v>2</v></c><c r=\"B3\"><v>12</v></c>"
	    "<c r=\"D3\" t=\"s\"><v>3</v></c></row>"
	    "<row r=\"4\"><c r=\"A4\" t=\"inlineStr\"><is><t>amount</t></is></c>"
	    "<c r=\"B4\"><f>0.1+0.2</f><v>0.30000000000000004</v></c></row>"
	    "<row r=\"5\"><c t=\"str\"><f>\"x\"</f><v>text</v></c><c><v>1E-3</v></c>"
	    "<c t=\"b\"><v>1</v></c></row>"
	    "<row r=\"6\"><c r=\"A6\" t=\"s\"><v>4</v></c><c r=\"B6\" s=\"1\"/></row>",
	    SST);

	assert_string_equal(sheet_encoding(s), "xlsx");
	assert_int_equal(sheet_rows(s), 4); /* row 6 holds only empty cells */
	assert_int_equal(sheet_find_col(s, "value"), 1);
	assert_string_equal(sheet_cell(s, 1, 0), "study_sessions"); /* runs joined, trimmed */
	assert_string_equal(sheet_cell(s, 1, 1), "12");
	assert_string_equal(sheet_cell(s, 1, 2), ""); /* C3 is not in the file */
	assert_string_equal(sheet_cell(s, 1, 3), "学习次数");
	assert_int_equal(sheet_line(s, 1), 3); /* the row number a person sees */
	assert_string_equal(sheet_cell(s, 2, 0), "amount");
	assert_string_equal(sheet_cell(s, 2, 1), "0.3");
	assert_string_equal(sheet_cell(s, 3, 0), "text");
	assert_string_equal(sheet_cell(s, 3, 1), "0.001");
	assert_string_equal(sheet_cell(s, 3, 2), "TRUE");
	assert_int_equal(sheet_line(s, 3), 5);
	sheet_free(s);
}

/* Each number as a worksheet saves it, and as the sheet gives it. */
static void test_numbers(void **state)
{
	static const char *const cases[][2] = {
	    {"202606", "202606"},
	    {"12.5", "12.5"},
	    {"12.50", "12.5"},
	    {"-0", "0"},
	    {"0", "0"},
	    {"-3.25", "-3.25"},
	    {"100", "100"},
	    {"4.5E+2", "450"},
	    {"1.5e-5", "0.000015"},
	    {"9.9999999999999999", "10"},
	    {"123456.78901234567", "123456.789012346"},
	    {"0.1234567890123456789", "0.123456789012346"},
	    {"99999999999999.99", "100000000000000"},
	    {"1E+30", "1E+30"}, /* too large to write out: as saved */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char rows[256];
		struct sheet *s;

		snprintf(rows, sizeof(rows), "<row r=\"1\"><c r=\"A1\"><v>%s</v></c></row>",
		         cases[i][0]);
		s = rows_ok(rows, NULL);
		if (strcmp(sheet_cell(s, 0, 0), cases[i][1]) != 0)
			fail_msg("%s read as %s, want %s", cases[i][0], sheet_cell(s, 0, 0),
			         cases[i][1]);
		sheet_free(s);
	}
}

static void test_prefixed_names(void **state)
{
	(void)state;
	/* Some writers qualify every element (<x:row>); the names are the same. */
	struct sheet *s = rows_ok("<x:row xmlns:x=\"urn:x\" r=\"2\"><x:c r=\"B2\" t=\"inlineStr\">"
	                          "<x:is><x:t>hello</x:t></x:is></x:c></x:row>",
	                          NULL);
	assert_string_equal(sheet_cell(s, 0, 1), "hello");
	assert_int_equal(sheet_line(s, 0), 2);
	sheet_free(s);
}

static void test_cells_refused(void **state)
{
	(void)state;
	rows_refused("<row r=\"1\"><c r=\"A1\"><v>1</v></c></row>"
	             "<row r=\"7\"><c r=\"D7\"><f>SUM(D2:D6)</f></c></row>",
	             NULL, YB_INVALID_ARGUMENT, "sheet Sheet1: cell D7 holds a formula without");
	rows_refused("<row r=\"1\"><c r=\"C1\" t=\"str\"><f>A1</f></c></row>", NULL,
	             YB_INVALID_ARGUMENT, "cell C1 holds a formula");
	rows_refused("<row r=\"2\"><c r=\"B2\" t=\"e\"><f>1/0</f><v>#DIV/0!</v></c></row>", NULL,
	             YB_INVALID_ARGUMENT, "cell B2 shows the error #DIV/0!");
	rows_refused("<row r=\"1\"><c r=\"A1\" t=\"s\"><v>9</v></c></row>", SST,
	             YB_INVALID_ARGUMENT, "cell A1: points to shared string 9");
	rows_refused("<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c></row>", NULL,
	             YB_INVALID_ARGUMENT, "shared string 0");
	rows_refused("<row r=\"3\"><c><v>1</v></c></row><row r=\"2\"><c><v>1</v></c></row>", NULL,
	             YB_INVALID_ARGUMENT, "out of order");
	/* A row inside a row (found by fuzz_xlsx): it would end, and be added, twice. */
	rows_refused("<row><c><v>1</v></c><row><c><v>2</v></c></row></row>", NULL,
	             YB_INVALID_ARGUMENT, "row number ? is out of range or out of order");
	rows_refused("<row r=\"1\"><c r=\"A1\"><v>1</v></row>", NULL, YB_INVALID_ARGUMENT,
	             "xl/worksheets/sheet1.xml is not well-formed XML (line 2");
	rows_refused("", NULL, YB_INVALID_ARGUMENT, "sheet Sheet1 is empty");
}

static void test_sheet_caps(void **state)
{
	char rows[512];
	struct sheet *s;
	(void)state;

	/* An empty cell far right is dropped; text past the column cap is not. */
	s = rows_ok("<row r=\"1\"><c r=\"A1\"><v>1</v></c><c r=\"XFD1\" s=\"2\"/></row>", NULL);
	assert_int_equal(sheet_cols(s, 0), 1);
	sheet_free(s);
	snprintf(rows, sizeof(rows), "<row r=\"1\"><c r=\"IW1\"><v>1</v></c></row>");
	rows_refused(rows, NULL, YB_RESOURCE_EXHAUSTED, "more than 256 columns");
	rows_refused("<row r=\"1048577\"><c><v>1</v></c></row>", NULL, YB_INVALID_ARGUMENT,
	             "row number 1048577");
}

static void test_long_cell_refused(void **state)
{
	size_t n = SHEET_MAX_CELL + 200;
	char *rows = malloc(n + 100), *p;
	(void)state;

	assert_non_null(rows);
	p = rows + sprintf(rows, "<row r=\"1\"><c t=\"inlineStr\"><is><t>");
	memset(p, 'x', n);
	strcpy(p + n, "</t></is></c></row>");
	rows_refused(rows, NULL, YB_RESOURCE_EXHAUSTED, "a cell has more than 4096 bytes");
	free(rows);
}

/* A workbook of named sheets: the preferred one is read, else the first. */
static void test_sheet_choice(void **state)
{
	char *one = sheet_xml("<row r=\"1\"><c t=\"inlineStr\"><is><t>notes</t></is></c></row>");
	char *two = sheet_xml("<row r=\"1\"><c t=\"inlineStr\"><is><t>return</t></is></c></row>");
	const char *parts[] = {"xl/workbook.xml",
	                       workbook("<sheet name=\"说明\" sheetId=\"1\" r:id=\"rId1\"/>"
	                                "<sheet name=\"月报\" sheetId=\"2\" r:id=\"rId2\"/>"),
	                       "xl/_rels/workbook.xml.rels",
	                       RELS,
	                       "xl/worksheets/sheet1.xml",
	                       one,
	                       "xl/worksheets/sheet2.xml",
	                       two,
	                       NULL};
	const char *const prefer[] = {"月报", "Return", NULL};
	const char *const other[] = {"Return", NULL};
	struct errbuf eb = {{0}};
	struct sheet *s = NULL;
	char name[64], *data;
	size_t len;
	(void)state;

	make_zip(parts, NULL, &data, &len);
	assert_int_equal(xlsx_read_sheet(data, len, "r.xlsx", prefer, &s, name, sizeof(name), &eb),
	                 YB_OK);
	assert_string_equal(name, "月报");
	assert_string_equal(sheet_cell(s, 0, 0), "return"); /* via the absolute target */
	sheet_free(s);
	assert_int_equal(xlsx_read_sheet(data, len, "r.xlsx", other, &s, name, sizeof(name), &eb),
	                 YB_OK);
	assert_string_equal(name, "说明");
	assert_string_equal(sheet_cell(s, 0, 0), "notes");
	sheet_free(s);
	free(data);
	free(one);
	free(two);
}

static void refused(const char *const *parts, const size_t *lens, int want, const char *msg)
{
	struct errbuf eb = {{0}};
	struct sheet *s = NULL;
	char *data;
	size_t len;
	int rc;

	make_zip(parts, lens, &data, &len);
	rc = xlsx_read_sheet(data, len, "r.xlsx", NULL, &s, NULL, 0, &eb);
	assert_null(s);
	if (rc != want || strstr(eb.msg, msg) == NULL)
		fail_msg("got %d \"%s\", want %d with \"%s\"", rc, eb.msg, want, msg);
	free(data);
}

static void test_not_a_workbook(void **state)
{
	const char *no_wb[] = {"word/document.xml", "<document/>", NULL};
	const char *no_sheets[] = {"xl/workbook.xml", workbook(""), NULL};
	const char *no_rel[] = {"xl/workbook.xml",
	                        workbook("<sheet name=\"A\" sheetId=\"1\" r:id=\"rId9\"/>"),
	                        "xl/_rels/workbook.xml.rels", RELS, NULL};
	const char *no_part[] = {"xl/workbook.xml", workbook(ONE_SHEET),
	                         "xl/_rels/workbook.xml.rels", RELS, NULL};
	struct errbuf eb = {{0}};
	struct sheet *s = NULL;
	(void)state;

	refused(no_wb, NULL, YB_INVALID_ARGUMENT,
	        "not an Excel workbook (the archive has no "
	        "xl/workbook.xml)");
	refused(no_sheets, NULL, YB_INVALID_ARGUMENT, "the workbook has no sheets");
	refused(no_rel, NULL, YB_INVALID_ARGUMENT, "does not say where sheet A is");
	refused(no_part, NULL, YB_INVALID_ARGUMENT, "no xl/worksheets/sheet1.xml");
	assert_int_equal(xlsx_read_sheet("PK\3\4garbage", 11, "r.xlsx", NULL, &s, NULL, 0, &eb),
	                 YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "r.xlsx: not a readable .xlsx workbook"));
	assert_false(xlsx_sniff("code,value\n", 11));
}

static void test_dtd_refused(void **state)
{
	/* The classic entity expansion: never expanded, the DTD is refused. */
	const char *parts[] = {
	    "xl/workbook.xml",
	    "<?xml version=\"1.0\"?><!DOCTYPE w [<!ENTITY a \"aaaaaaaaaa\">"
	    "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><workbook>&b;</workbook>",
	    NULL};
	(void)state;
	refused(parts, NULL, YB_INVALID_ARGUMENT, "declares a DTD");
}

static void test_zip_bomb_refused(void **state)
{
	size_t big = XLSX_MAX_PART + 1, dense = 2u << 20;
	char *zeros = calloc(1, big), *spaces = malloc(dense);
	char *sized = sheet_xml("");
	const char *too_large[] = {"xl/workbook.xml", zeros, NULL};
	const char *too_packed[] = {"xl/workbook.xml",
	                            workbook(ONE_SHEET),
	                            "xl/_rels/workbook.xml.rels",
	                            RELS,
	                            "xl/worksheets/sheet1.xml",
	                            spaces,
	                            NULL};
	size_t lens_large[] = {big};
	size_t lens_packed[] = {0, 0, dense};
	(void)state;

	assert_non_null(zeros);
	assert_non_null(spaces);
	memset(spaces, ' ', dense);
	refused(too_large, lens_large, YB_RESOURCE_EXHAUSTED,
	        "refused as a zip bomb: xl/workbook.xml");
	refused(too_packed, lens_packed, YB_RESOURCE_EXHAUSTED,
	        "zip bomb: xl/worksheets/sheet1.xml unpacks to more than 32 MiB or more than 100 "
	        "times its packed size");
	free(zeros);
	free(spaces);
	free(sized);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cells_as_shown), cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_prefixed_names), cmocka_unit_test(test_cells_refused),
	    cmocka_unit_test(test_sheet_caps),     cmocka_unit_test(test_long_cell_refused),
	    cmocka_unit_test(test_sheet_choice),   cmocka_unit_test(test_not_a_workbook),
	    cmocka_unit_test(test_dtd_refused),    cmocka_unit_test(test_zip_bomb_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
