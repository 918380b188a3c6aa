/*
 * test_sheet.c - the CSV reader: what a clerk's spreadsheet export looks
 * like (BOM, CRLF, quoted cells) reads as expected, with the right line
 * numbers, and what is not a CSV text is refused with a message that says where.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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

static void test_simple(void **state)
{
	(void)state;
	struct sheet *s = load_ok("code,value\nmembers_total,12\nstudy_sessions,3\n");
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

static void test_invalid_utf8_refused(void **state)
{
	(void)state;
	struct errbuf eb = {{0}};
	/* "党员" in GBK is B5 B3 D4 B1: not UTF-8 */
	const char text[] = "code,value\nmembers_total,12\n\xB5\xB3\xD4\xB1,3\n";
	assert_int_equal(load_err(text, sizeof(text) - 1, &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "t.csv"));
	assert_non_null(strstr(eb.msg, "invalid UTF-8"));
	assert_non_null(strstr(eb.msg, "byte offset 28"));
	assert_non_null(strstr(eb.msg, "line 3"));

	/* offsets count the BOM too: they are offsets in the file */
	const char bom[] = "\xEF\xBB\xBF"
	                   "a\xC0\xAF";
	assert_int_equal(load_err(bom, sizeof(bom) - 1, &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "byte offset 4"));

	/* overlong, surrogate, above U+10FFFF, truncated sequence */
	const char *bad[] = {"a\xE0\x80\xAF", "a\xED\xA0\x80", "a\xF4\x90\x80\x80", "a\xE4\xBD"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(load_err(bad[i], strlen(bad[i]), &eb), YB_INVALID_ARGUMENT);
		assert_non_null(strstr(eb.msg, "byte offset 1"));
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
}

static void test_utf16_refused(void **state)
{
	(void)state;
	struct errbuf eb = {{0}};
	const char text[] = "\xFF\xFE"
	                    "c\0o\0";
	assert_int_equal(load_err(text, sizeof(text) - 1, &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "UTF-16"));
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
	sheet_free(s);
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
	    cmocka_unit_test(test_invalid_utf8_refused),
	    cmocka_unit_test(test_nul_refused),
	    cmocka_unit_test(test_utf16_refused),
	    cmocka_unit_test(test_bad_quoting_refused),
	    cmocka_unit_test(test_no_header_refused),
	    cmocka_unit_test(test_caps),
	    cmocka_unit_test(test_load_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
