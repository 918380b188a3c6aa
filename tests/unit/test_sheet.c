/*
 * test_sheet.c - the CSV reader: what a clerk's spreadsheet export looks
 * like (UTF-8 with or without BOM, GB18030 from Excel's plain "CSV", CRLF,
 * quoted cells, trailing empty columns and rows) reads as expected, with the
 * right line numbers, and what is not CSV text (UTF-16, a workbook, binary,
 * undecodable bytes) is refused with a message that says what and where.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sheet.h"

static struct sheet *load_ok(const char *text)
{
	struct sheet *s = NULL;
	struct errbuf eb = {{0}};
	int rc = sheet_load_mem(text, strlen(text), "t.csv", &s, &eb);
	if (rc != YB_OK)
		fail_msg("unexpected failure: %s", eb.msg);
	return s;
}

static int load_err(const char *text, size_t len, struct errbuf *eb)
{
	struct sheet *s = NULL;
	int rc = sheet_load_mem(text, len, "t.csv", &s, eb);
	assert_null(s);
	return rc;
}

static struct sheet *load_ok_len(const char *text, size_t len)
{
	struct sheet *s = NULL;
	struct errbuf eb = {{0}};
	if (sheet_load_mem(text, len, "t.csv", &s, &eb) != YB_OK)
		fail_msg("unexpected failure: %s", eb.msg);
	return s;
}

static void assert_msg_has(const struct errbuf *eb, const char *want)
{
	if (strstr(eb->msg, want) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", eb->msg, want);
}

/* The UTF-8 text in GB18030, as Excel's "CSV" saves it on Chinese Windows
 * (static buffer; *len set). */
static const char *gb18030(const char *utf8, size_t *len)
{
	static char out[4096];
	char *src = (char *)utf8, *dst = out;
	size_t left = strlen(utf8), room = sizeof(out);
	iconv_t cd = iconv_open("GB18030", "UTF-8");

	assert_true(cd != (iconv_t)-1);
	assert_true(iconv(cd, &src, &left, &dst, &room) != (size_t)-1);
	iconv_close(cd);
	*len = (size_t)(dst - out);
	return out;
}

static void test_simple(void **state)
{
	(void)state;
	struct sheet *s = load_ok("code,value\nmembers_total,12\nstudy_sessions,3\n");
	assert_string_equal(sheet_encoding(s), "UTF-8");
	assert_int_equal(sheet_rows(s), 3);
	assert_int_equal(sheet_cols(s, 0), 2);
	assert_string_equal(sheet_cell(s, 0, 0), "code");
	assert_string_equal(sheet_cell(s, 1, 0), "members_total");
	assert_string_equal(sheet_cell(s, 2, 1), "3");
	assert_int_equal(sheet_line(s, 2), 3);
	/* out of range is harmless */
	assert_string_equal(sheet_cell(s, 9, 0), "");
	assert_string_equal(sheet_cell(s, 1, 9), "");
	assert_int_equal(sheet_cols(s, 9), 0);
	assert_int_equal(sheet_line(s, 9), 0);
	sheet_free(s);
	sheet_free(NULL);
}

static void test_bom_dropped(void **state)
{
	(void)state;
	struct sheet *s = load_ok("\xEF\xBB\xBF"
	                          "Code,Value\r\nmembers_total,12\r\n");
	assert_string_equal(sheet_cell(s, 0, 0), "Code");
	assert_string_equal(sheet_encoding(s), "UTF-8 with BOM");
	assert_int_equal(sheet_find_col(s, "code"), 0);
	assert_int_equal(sheet_find_col(s, "VALUE"), 1);
	assert_int_equal(sheet_find_col(s, "note"), -1);
	sheet_free(s);
}

static void test_crlf_and_no_final_newline(void **state)
{
	(void)state;
	struct sheet *s = load_ok("a,b\r\n1,2\r\n3,4");
	assert_int_equal(sheet_rows(s), 3);
	assert_string_equal(sheet_cell(s, 1, 1), "2");
	assert_string_equal(sheet_cell(s, 2, 1), "4");
	assert_int_equal(sheet_line(s, 1), 2);
	assert_int_equal(sheet_line(s, 2), 3);
	sheet_free(s);
}

static void test_quoted_cells(void **state)
{
	(void)state;
	struct sheet *s = load_ok("code,value,note\n"
	                          "donations_yuan,1200.50,\"from 3 people, cash\"\n"
	                          "seminars,2,\"two lines\r\nof note\"\n"
	                          "x,1,\"he said \"\"hi\"\"\"\n"
	                          "study_sessions,4,after\n");
	assert_int_equal(sheet_rows(s), 5);
	assert_string_equal(sheet_cell(s, 1, 2), "from 3 people, cash");
	assert_string_equal(sheet_cell(s, 2, 2), "two lines\r\nof note");
	assert_string_equal(sheet_cell(s, 3, 2), "he said \"hi\"");
	/* the multi-line cell occupies lines 3 and 4 of the file */
	assert_int_equal(sheet_line(s, 2), 3);
	assert_int_equal(sheet_line(s, 3), 5);
	assert_int_equal(sheet_line(s, 4), 6);
	sheet_free(s);
}

static void test_multiline_first_cell(void **state)
{
	(void)state;
	/* a row whose FIRST cell spans lines still starts on its first line */
	struct sheet *s = load_ok("a,b\n\"x\ny\nz\",1\nq,2\n");
	assert_int_equal(sheet_rows(s), 3);
	assert_string_equal(sheet_cell(s, 1, 0), "x\ny\nz");
	assert_int_equal(sheet_line(s, 1), 2);
	assert_int_equal(sheet_line(s, 2), 5);
	sheet_free(s);
}

static void test_trim_and_blank_rows(void **state)
{
	(void)state;
	struct sheet *s = load_ok("\n\ncode , value\n"
	                          "   \n"
	                          ",,\n"
	                          "  members_total ,\t12  \n"
	                          "\" \",\"\"\n"
	                          "\xE3\x80\x80seminars\xE3\x80\x80,\" 7 \"\n");
	assert_int_equal(sheet_rows(s), 3);
	assert_int_equal(sheet_line(s, 0), 3);
	assert_string_equal(sheet_cell(s, 0, 0), "code");
	assert_string_equal(sheet_cell(s, 0, 1), "value");
	assert_string_equal(sheet_cell(s, 1, 0), "members_total");
	assert_string_equal(sheet_cell(s, 1, 1), "12");
	assert_int_equal(sheet_line(s, 1), 6);
	/* full-width blanks and blanks inside quotes are trimmed too */
	assert_string_equal(sheet_cell(s, 2, 0), "seminars");
	assert_string_equal(sheet_cell(s, 2, 1), "7");
	assert_int_equal(sheet_line(s, 2), 8);
	sheet_free(s);
}

static void test_chinese_text(void **state)
{
	(void)state;
	struct sheet *s = load_ok("code,name,value\nmembers_total,党员总数,12\n");
	assert_string_equal(sheet_cell(s, 1, 1), "党员总数");
	sheet_free(s);
}

static void test_gb18030_crlf(void **state)
{
	(void)state;
	size_t len;
	/* 党员总数 / 集中学习次数 in GBK, as literal bytes, with CRLF */
	const char lit[] = "code,name,value\r\n"
	                   "members_total,\xB5\xB3\xD4\xB1\xD7\xDC\xCA\xFD,25\r\n"
	                   "study_sessions,\xBC\xAF\xD6\xD0\xD1\xA7\xCF\xB0\xB4\xCE\xCA\xFD,4\r\n";
	struct sheet *s = load_ok_len(lit, sizeof(lit) - 1);
	assert_string_equal(sheet_encoding(s), "GB18030");
	assert_int_equal(sheet_rows(s), 3);
	assert_string_equal(sheet_cell(s, 1, 1), "党员总数");
	assert_string_equal(sheet_cell(s, 2, 1), "集中学习次数");
	assert_string_equal(sheet_cell(s, 2, 2), "4");
	assert_int_equal(sheet_line(s, 2), 3);
	sheet_free(s);

	/* Everything Excel writes, converted by iconv: a multi-line quoted note,
	 * quoted thousands, blank cells, trailing empty columns and rows, a
	 * full-width blank, a character outside the BMP (4 bytes in GB18030) and
	 * a euro sign (2 bytes): the lines stay those of the file. */
	const char *text =
	    gb18030("code,name,unit,value,note,,\r\n"
	            "members_total,党员总数,人,\"1,200\",\"备注：第一行\r\n第二行\",,\r\n"
	            "seminars,专题研讨场次,场,,,,\r\n"
	            ",,,,,,\r\n"
	            "donations_yuan,\xF0\xA0\x80\x80捐款€,元,　12.50　,,,\r\n"
	            ",,,,,,\r\n"
	            ",,,,,,\r\n",
	            &len);
	assert_null(memchr(text, 0xE5, len)); /* really not UTF-8 any more */
	s = load_ok_len(text, len);
	assert_string_equal(sheet_encoding(s), "GB18030");
	assert_int_equal(sheet_rows(s), 4);
	assert_int_equal(sheet_cols(s, 0), 5); /* trailing empty header cells dropped */
	assert_int_equal(sheet_find_col(s, "note"), 4);
	assert_string_equal(sheet_cell(s, 1, 3), "1,200");
	assert_string_equal(sheet_cell(s, 1, 4), "备注：第一行\r\n第二行");
	assert_int_equal(sheet_line(s, 1), 2);
	assert_string_equal(sheet_cell(s, 2, 0), "seminars");
	assert_string_equal(sheet_cell(s, 2, 3), "");
	assert_int_equal(sheet_cols(s, 2), 3);
	assert_int_equal(sheet_line(s, 2), 4);
	assert_string_equal(sheet_cell(s, 3, 1), "\xF0\xA0\x80\x80捐款€");
	assert_string_equal(sheet_cell(s, 3, 3), "12.50");
	assert_int_equal(sheet_line(s, 3), 6);
	sheet_free(s);

	/* A GB18030 byte-order mark (84 31 95 33) is dropped like a UTF-8 one. */
	const char gbbom[] = "\x84\x31\x95\x33"
	                     "code,value\r\nx,\xB5\xB3\r\n";
	s = load_ok_len(gbbom, sizeof(gbbom) - 1);
	assert_string_equal(sheet_encoding(s), "GB18030");
	assert_int_equal(sheet_find_col(s, "code"), 0);
	assert_string_equal(sheet_cell(s, 1, 1), "党");
	sheet_free(s);

	/* Bytes that are not UTF-8 but are GB18030 are read as GB18030. */
	s = load_ok_len("a\xE4\xBD", 3);
	assert_string_equal(sheet_encoding(s), "GB18030");
	sheet_free(s);
}

static void test_gb18030_offsets_are_file_offsets(void **state)
{
	(void)state;
	struct errbuf eb = {{0}};
	size_t len;
	/* the stray quote is byte 15 of the converted text, 14 of the file */
	const char lit[] = "code,value\n\xB5\xB3x\"y,1\n";
	assert_int_equal(load_err(lit, sizeof(lit) - 1, &eb), YB_INVALID_ARGUMENT);
	assert_msg_has(&eb, "line 2: malformed quoting at byte offset 14");

	/* further on, after 4-byte characters, and on a later line */
	const char *text = gb18030("code,name\r\n\xF0\xA0\x80\x80党,1\r\n党员x\"y,1\r\n", &len);
	assert_int_equal(load_err(text, len, &eb), YB_INVALID_ARGUMENT);
	/* 11 + 4 + 2 + 4 bytes before line 3; 党员x is 5 bytes */
	assert_msg_has(&eb, "line 3: malformed quoting at byte offset 26");
}

static void test_undecodable_refused(void **state)
{
	(void)state;
	struct errbuf eb = {{0}};

	/* GBK that goes wrong: 党 then FF, which no encoding has */
	const char gbk[] = "code,value\nmembers_total,12\n\xB5\xB3\xFF,3\n";
	assert_int_equal(load_err(gbk, sizeof(gbk) - 1, &eb), YB_INVALID_ARGUMENT);
	assert_msg_has(&eb, "t.csv: line 3: byte offset 30 (0xFF) is neither UTF-8 nor GB18030");
	assert_msg_has(&eb, "reads as GB18030");
	assert_msg_has(&eb, "CSV UTF-8");

	/* UTF-8 that goes wrong: 党 (fine in UTF-8, not GB18030 before a comma)
	 * then a lone 0x80 on line 2 */
	const char utf[] = "a,b\n党,\x80\n";
	assert_int_equal(load_err(utf, sizeof(utf) - 1, &eb), YB_INVALID_ARGUMENT);
	assert_msg_has(&eb, "line 2: byte offset 8 (0x80) is neither UTF-8 nor GB18030");
	assert_msg_has(&eb, "reads as UTF-8");

	/* both stop at the same byte */
	const char both[] = "x\xFF";
	assert_int_equal(load_err(both, 2, &eb), YB_INVALID_ARGUMENT);
	assert_msg_has(&eb, "line 1: byte offset 1 (0xFF) is neither UTF-8 nor GB18030 text:");

	/* a truncated GB18030 character at the very end */
	const char cut[] = "x,\xB5";
	assert_int_equal(load_err(cut, 3, &eb), YB_INVALID_ARGUMENT);
	assert_msg_has(&eb, "byte offset 2 (0xB5)");

	/* a UTF-8 byte-order mark promises UTF-8: no GB18030 guess after it;
	 * offsets count the BOM too, they are offsets in the file */
	const char bom[] = "\xEF\xBB\xBF"
	                   "a\xC0\xAF";
	assert_int_equal(load_err(bom, sizeof(bom) - 1, &eb), YB_INVALID_ARGUMENT);
	assert_msg_has(&eb, "line 1: invalid UTF-8 at byte offset 4 (0xC0)");
	assert_msg_has(&eb, "byte-order mark");
	const char bomgbk[] = "\xEF\xBB\xBF"
	                      "a,b\r\nx,\xB5\xB3\r\n";
	assert_int_equal(load_err(bomgbk, sizeof(bomgbk) - 1, &eb), YB_INVALID_ARGUMENT);
	assert_msg_has(&eb, "line 2: invalid UTF-8 at byte offset 10");

	/* overlong, surrogate, above U+10FFFF are not UTF-8 (nor GB18030 here) */
	const char *bad[] = {"a\xE0\x80\xAF", "a\xED\xA0\x80", "a\xF4\x90\x80\x80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(load_err(bad[i], strlen(bad[i]), &eb), YB_INVALID_ARGUMENT);
		assert_msg_has(&eb, "byte offset 3");
		assert_msg_has(&eb, "reads as GB18030");
	}
}

static void test_nul_refused(void **state)
{
	(void)state;
	struct errbuf eb = {{0}};
	const char text[] = "code,value\nab\0c,1\n";
	assert_int_equal(load_err(text, sizeof(text) - 1, &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "NUL"));
	assert_non_null(strstr(eb.msg, "byte offset 13"));
	assert_non_null(strstr(eb.msg, "line 2"));
	assert_msg_has(&eb, "binary file, not CSV text");
	assert_msg_has(&eb, "Save As > CSV UTF-8");
}

static void test_utf16_refused(void **state)
{
	(void)state;
	struct errbuf eb = {{0}};
	const char text[] = "\xFF\xFE"
	                    "c\0o\0";
	assert_int_equal(load_err(text, sizeof(text) - 1, &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "UTF-16"));
	assert_msg_has(&eb, "CSV UTF-8 (or CSV)");
	const char be[] = "\xFE\xFF\0c\0o";
	assert_int_equal(load_err(be, sizeof(be) - 1, &eb), YB_INVALID_ARGUMENT);
	assert_msg_has(&eb, "t.csv: this is UTF-16 text");
}

static void test_workbook_refused(void **state)
{
	(void)state;
	struct errbuf eb = {{0}};
	/* an .xlsx renamed to .csv: a zip file */
	const char xlsx[] = "PK\x03\x04\x14\0\x06\0\x08\0\0\0!\0[Content_Types].xml";
	assert_int_equal(load_err(xlsx, sizeof(xlsx) - 1, &eb), YB_INVALID_ARGUMENT);
	assert_string_equal(eb.msg,
	                    "t.csv: this is an Excel workbook (.xlsx, a zip file), not CSV: "
	                    "in Excel use File > Save As > CSV UTF-8 (or CSV)");
	/* an .xls (OLE2 compound file) */
	const char xls[] = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0\0";
	assert_int_equal(load_err(xls, sizeof(xls) - 1, &eb), YB_INVALID_ARGUMENT);
	assert_msg_has(&eb, "t.csv: this is an Excel workbook (.xls");
	assert_msg_has(&eb, "File > Save As > CSV UTF-8 (or CSV)");
	/* short files are not mistaken for either */
	struct sheet *s = load_ok("PK\n");
	sheet_free(s);
}

static void test_trailing_empty_columns_and_rows(void **state)
{
	(void)state;
	struct errbuf eb = {{0}};
	struct sheet *s = load_ok("code,value,,,\r\n"
	                          "members_total,12,,,\r\n"
	                          "seminars,,,,\r\n"
	                          "x,1,,note,\r\n"
	                          ",,,,\r\n"
	                          ",,,,\r\n"
	                          "\r\n");
	assert_int_equal(sheet_rows(s), 4);
	assert_int_equal(sheet_cols(s, 0), 2);
	assert_int_equal(sheet_cols(s, 1), 2);
	assert_int_equal(sheet_cols(s, 2), 1);
	assert_string_equal(sheet_cell(s, 2, 1), "");
	assert_int_equal(sheet_cols(s, 3), 4);
	assert_string_equal(sheet_cell(s, 3, 3), "note");
	assert_int_equal(sheet_line(s, 3), 4);
	sheet_free(s);

	/* Excel pads every row to its used range, which may be wide: empty
	 * cells past the column cap are harmless, a value there is not */
	char *buf = malloc(8 * SHEET_MAX_COLS + 64);
	size_t n = (size_t)sprintf(buf, "code,value");
	for (int i = 0; i < 2 * SHEET_MAX_COLS; i++)
		buf[n++] = ',';
	n += (size_t)sprintf(buf + n, "\nx,1");
	for (int i = 0; i < 2 * SHEET_MAX_COLS; i++)
		buf[n++] = ',';
	buf[n++] = '\n';
	s = load_ok_len(buf, n);
	assert_int_equal(sheet_rows(s), 2);
	assert_int_equal(sheet_cols(s, 0), 2);
	assert_int_equal(sheet_cols(s, 1), 2);
	sheet_free(s);
	buf[n - 1] = 'z';
	buf[n++] = '\n';
	assert_int_equal(load_err(buf, n, &eb), YB_RESOURCE_EXHAUSTED);
	assert_msg_has(&eb, "line 2: more than 256 columns");
	free(buf);
}

static void test_quoted_thousands_and_note(void **state)
{
	(void)state;
	struct sheet *s = load_ok("code,name,unit,value,note\n"
	                          "members_total,党员总数,人,\"1,200\",\"含预备党员, 共 3 人\"\n"
	                          "donations_yuan,党员捐款,元,\" 12,345.50 \",\n");
	assert_string_equal(sheet_cell(s, 1, 3), "1,200");
	assert_string_equal(sheet_cell(s, 1, 4), "含预备党员, 共 3 人");
	assert_string_equal(sheet_cell(s, 2, 3), "12,345.50");
	assert_int_equal(sheet_cols(s, 2), 4);
	sheet_free(s);

	/* a stray byte-order mark inside a cell is trimmed like a blank */
	s = load_ok("\xEF\xBB\xBF\xEF\xBB\xBF"
	            "code,value\n");
	assert_string_equal(sheet_cell(s, 0, 0), "code");
	sheet_free(s);
}

static void test_bad_quoting_refused(void **state)
{
	(void)state;
	struct errbuf eb = {{0}};
	const char *a = "code,value\nx,1\nmembers\"total,3\n";
	assert_int_equal(load_err(a, strlen(a), &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "line 3"));
	assert_non_null(strstr(eb.msg, "quot"));

	const char *b = "code,value\n\"x\"y,1\n";
	assert_int_equal(load_err(b, strlen(b), &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "line 2"));

	const char *c = "code,value\nx,1\ny,\"unterminated\n\nz,2\n";
	assert_int_equal(load_err(c, strlen(c), &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "line 3"));
	assert_non_null(strstr(eb.msg, "not closed"));
}

static void test_no_header_refused(void **state)
{
	(void)state;
	struct errbuf eb = {{0}};
	assert_int_equal(load_err("", 0, &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "no header"));
	assert_int_equal(load_err("\r\n \n,,\n", 7, &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "no header"));
}

static void test_caps(void **state)
{
	(void)state;
	struct errbuf eb = {{0}};
	size_t big = (size_t)SHEET_MAX_BYTES + 1;
	char *buf = malloc(big + 1);
	assert_non_null(buf);

	/* file size */
	memset(buf, 'a', big);
	assert_int_equal(load_err(buf, big, &eb), YB_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(eb.msg, "larger than"));

	/* one cell */
	size_t n = 0;
	n += (size_t)sprintf(buf, "a,b\nx,");
	memset(buf + n, 'y', SHEET_MAX_CELL + 1);
	n += SHEET_MAX_CELL + 1;
	buf[n++] = '\n';
	assert_int_equal(load_err(buf, n, &eb), YB_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(eb.msg, "line 2"));
	/* a cell of exactly the cap is fine */
	n -= 2;
	buf[n++] = '\n';
	struct sheet *s = NULL;
	assert_int_equal(sheet_load_mem(buf, n, "t.csv", &s, &eb), YB_OK);
	assert_int_equal(strlen(sheet_cell(s, 1, 1)), SHEET_MAX_CELL);
	sheet_free(s);

	/* a huge quoted cell is refused too, naming the line it starts on */
	n = (size_t)sprintf(buf, "a,b\nx,1\ny,\"");
	memset(buf + n, 'z', 1 << 20);
	n += 1 << 20;
	n += (size_t)sprintf(buf + n, "\"\n");
	assert_int_equal(load_err(buf, n, &eb), YB_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(eb.msg, "line 3: a cell has more than 4096 bytes"));
	n = (size_t)sprintf(buf, "\"");
	memset(buf + n, 'z', 1 << 20);
	n += 1 << 20;
	assert_int_equal(load_err(buf, n, &eb), YB_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(eb.msg, "line 1: a cell has more than 4096 bytes"));

	/* columns */
	n = 0;
	for (int i = 0; i <= SHEET_MAX_COLS; i++)
		buf[n++] = 'c', buf[n++] = ',';
	buf[n - 1] = '\n';
	assert_int_equal(load_err(buf, n, &eb), YB_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(eb.msg, "columns"));

	/* rows */
	n = 0;
	for (int i = 0; i <= SHEET_MAX_ROWS; i++)
		buf[n++] = 'r', buf[n++] = '\n';
	assert_int_equal(load_err(buf, n, &eb), YB_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(eb.msg, "rows"));
	assert_non_null(strstr(eb.msg, "line 100001"));
	/* exactly the cap is fine */
	s = NULL;
	assert_int_equal(sheet_load_mem(buf, n - 2, "t.csv", &s, &eb), YB_OK);
	assert_int_equal(sheet_rows(s), SHEET_MAX_ROWS);
	assert_int_equal(sheet_line(s, SHEET_MAX_ROWS - 1), SHEET_MAX_ROWS);
	sheet_free(s);

	free(buf);
}

static void test_load_file(void **state)
{
	(void)state;
	struct errbuf eb = {{0}};
	struct sheet *s = NULL;
	char path[] = "/tmp/test_sheet_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char text[] = "\xEF\xBB\xBF"
	                    "code,value\r\nmembers_total,12\r\n";
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	assert_int_equal(sheet_load_file(path, &s, &eb), YB_OK);
	assert_int_equal(sheet_rows(s), 2);
	assert_string_equal(sheet_cell(s, 1, 0), "members_total");
	assert_string_equal(sheet_encoding(s), "UTF-8 with BOM");
	sheet_free(s);
	assert_string_equal(sheet_encoding(NULL), "");

	/* GB18030 from a file, and a workbook refused by file name */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	const char gbk[] = "code,value\r\n\xB5\xB3,12\r\n";
	assert_int_equal(write(fd, gbk, sizeof(gbk) - 1), (ssize_t)(sizeof(gbk) - 1));
	close(fd);
	assert_int_equal(sheet_load_file(path, &s, &eb), YB_OK);
	assert_string_equal(sheet_encoding(s), "GB18030");
	assert_string_equal(sheet_cell(s, 1, 0), "党");
	sheet_free(s);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "PK\x03\x04\x14\0", 6), 6);
	close(fd);
	assert_int_equal(sheet_load_file(path, &s, &eb), YB_INVALID_ARGUMENT);
	assert_null(s);
	assert_msg_has(&eb, path);
	assert_msg_has(&eb, "Excel workbook");
	unlink(path);

	s = NULL;
	assert_int_equal(sheet_load_file("/nonexistent/x.csv", &s, &eb), YB_EIO);
	assert_null(s);
	assert_non_null(strstr(eb.msg, "/nonexistent/x.csv"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple),
	    cmocka_unit_test(test_bom_dropped),
	    cmocka_unit_test(test_crlf_and_no_final_newline),
	    cmocka_unit_test(test_quoted_cells),
	    cmocka_unit_test(test_multiline_first_cell),
	    cmocka_unit_test(test_trim_and_blank_rows),
	    cmocka_unit_test(test_chinese_text),
	    cmocka_unit_test(test_gb18030_crlf),
	    cmocka_unit_test(test_gb18030_offsets_are_file_offsets),
	    cmocka_unit_test(test_undecodable_refused),
	    cmocka_unit_test(test_nul_refused),
	    cmocka_unit_test(test_utf16_refused),
	    cmocka_unit_test(test_workbook_refused),
	    cmocka_unit_test(test_trailing_empty_columns_and_rows),
	    cmocka_unit_test(test_quoted_thousands_and_note),
	    cmocka_unit_test(test_bad_quoting_refused),
	    cmocka_unit_test(test_no_header_refused),
	    cmocka_unit_test(test_caps),
	    cmocka_unit_test(test_load_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
