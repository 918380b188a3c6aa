/*
 * test_text.c - what a request's strings may hold (UTF-8, no control
 * characters, capped), the walk over every string field of a request, and
 * text from others made safe for a terminal and a spreadsheet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "yuebao.pb-c.h"

static int check(const char *s, size_t max)
{
	struct errbuf eb = {{0}};
	return text_check(s, strlen(s), max, &eb);
}

static void test_utf8_decode(void **state)
{
	static const struct {
		const char *bytes;
		size_t len, want_len;
		uint32_t want_cp;
	} cases[] = {
	    {"A", 1, 1, 0x41},
	    {"\xc3\xa9", 2, 2, 0xe9},            /* é */
	    {"\xe6\x9c\x88", 3, 3, 0x6708},      /* 月 */
	    {"\xf0\x9f\x98\x80", 4, 4, 0x1f600}, /* an emoji */
	    {"\xe6\x9c\x88", 2, 0, 0},           /* cut short by len */
	    {"\xc0\x80", 2, 0, 0},               /* overlong NUL */
	    {"\xe0\x80\xaf", 3, 0, 0},           /* overlong '/' */
	    {"\xed\xa0\x80", 3, 0, 0},           /* a surrogate */
	    {"\xf4\x90\x80\x80", 4, 0, 0},       /* past U+10FFFF */
	    {"\x80", 1, 0, 0},                   /* a stray continuation byte */
	    {"\xe6\x41\x88", 3, 0, 0},           /* a continuation byte missing */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t cp = 0;
		size_t n = text_utf8_decode(cases[i].bytes, cases[i].len, &cp);
		assert_int_equal(n, cases[i].want_len);
		if (n > 0)
			assert_int_equal(cp, cases[i].want_cp);
	}
}

static void test_check(void **state)
{
	struct errbuf eb = {{0}};
	char long_text[3 * TEXT_MAX_NOTE + 4];

	(void)state;
	assert_int_equal(check("补报党课次数 (June)", 100), YB_OK);
	assert_int_equal(check("", 0), YB_OK);
	assert_int_equal(check("\xff", 10), YB_INVALID_ARGUMENT);         /* not UTF-8 */
	assert_int_equal(check("\xc0\xaf", 10), YB_INVALID_ARGUMENT);     /* overlong '/' */
	assert_int_equal(check("\xed\xa0\x80", 10), YB_INVALID_ARGUMENT); /* a surrogate */
	assert_int_equal(check("\xe5\x85", 10), YB_INVALID_ARGUMENT);     /* cut short */
	assert_int_equal(check("a\x1b[31mred", 20), YB_INVALID_ARGUMENT); /* ESC */
	assert_int_equal(check("line\nbreak", 20), YB_INVALID_ARGUMENT);
	assert_int_equal(check("\xc2\x9b", 10), YB_INVALID_ARGUMENT); /* C1 CSI */
	assert_int_equal(check("\x7f", 10), YB_INVALID_ARGUMENT);
	/* The cap counts characters, not bytes: 2,000 Chinese characters pass. */
	long_text[0] = '\0';
	for (int i = 0; i < TEXT_MAX_NOTE; i++)
		strcat(long_text, "党");
	assert_int_equal(check(long_text, TEXT_MAX_NOTE), YB_OK);
	strcat(long_text, "x");
	assert_int_equal(text_check(long_text, strlen(long_text), TEXT_MAX_NOTE, &eb),
	                 YB_INVALID_ARGUMENT);
	assert_string_equal(eb.msg, "longer than 2000 characters");
	assert_int_equal(text_check("ok\x01", 3, 10, &eb), YB_INVALID_ARGUMENT);
	assert_string_equal(eb.msg,
	                    "character 3 is a control character (U+0001), which is not allowed");
}

/* Packs msg, unpacks it as the daemon does and runs the check. */
static int check_message(const ProtobufCMessage *msg, struct errbuf *eb)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len);
	ProtobufCMessage *in;
	int rc;

	assert_non_null(buf);
	protobuf_c_message_pack(msg, buf);
	in = protobuf_c_message_unpack(msg->descriptor, NULL, len, buf);
	assert_non_null(in);
	rc = text_check_message(in, len, eb);
	protobuf_c_message_free_unpacked(in, NULL);
	free(buf);
	return rc;
}

static void test_message(void **state)
{
	Yuebao__V1__SubmitRequest req = YUEBAO__V1__SUBMIT_REQUEST__INIT;
	Yuebao__V1__Value v1 = YUEBAO__V1__VALUE__INIT, v2 = YUEBAO__V1__VALUE__INIT;
	Yuebao__V1__Value *vals[] = {&v1, &v2};
	struct errbuf eb = {{0}};
	char *reason = malloc(TEXT_MAX_NOTE + 2);

	(void)state;
	assert_non_null(reason);
	req.org = "ZFW-JG";
	req.period = "2026-06";
	req.reason = "补报";
	req.n_values = 2;
	req.values = vals;
	v1.code = "study_sessions";
	v1.value = "3";
	v2.code = "seminars";
	v2.value = "1";
	assert_int_equal(check_message(&req.base, &eb), YB_OK);

	v2.value = "1\x1b]0;owned\x07";
	assert_int_equal(check_message(&req.base, &eb), YB_INVALID_ARGUMENT);
	assert_string_equal(eb.msg, "values[1].value: character 2 is a control character "
	                            "(U+001B), which is not allowed");
	v2.value = "1";

	/* reason and comment may hold 2,000 characters, other fields 256. */
	memset(reason, 'a', TEXT_MAX_NOTE);
	reason[TEXT_MAX_NOTE] = '\0';
	req.reason = reason;
	assert_int_equal(check_message(&req.base, &eb), YB_OK);
	strcat(reason, "a");
	assert_int_equal(check_message(&req.base, &eb), YB_INVALID_ARGUMENT);
	assert_string_equal(eb.msg, "reason: longer than 2000 characters");
	req.reason = "";
	reason[TEXT_MAX_FIELD + 1] = '\0';
	req.org = reason;
	assert_int_equal(check_message(&req.base, &eb), YB_INVALID_ARGUMENT);
	assert_string_equal(eb.msg, "org: longer than 256 characters");
	req.org = "ZFW-JG";
	free(reason);
}

/* A NUL inside a string is cut off by protobuf-c: the re-encoding is shorter. */
static void test_message_nul(void **state)
{
	/* SubmitRequest{reason = "ok\0tail"} on the wire: field 3, length 7. */
	static const uint8_t wire[] = {0x1a, 0x07, 'o', 'k', 0x00, 't', 'a', 'i', 'l'};
	ProtobufCMessage *in;
	struct errbuf eb = {{0}};

	(void)state;
	in = protobuf_c_message_unpack(&yuebao__v1__submit_request__descriptor, NULL, sizeof(wire),
	                               wire);
	assert_non_null(in);
	assert_int_equal(text_check_message(in, sizeof(wire), &eb), YB_INVALID_ARGUMENT);
	assert_string_equal(eb.msg, "a string field holds a NUL byte, or a field is encoded twice");
	protobuf_c_message_free_unpacked(in, NULL);
}

static void test_formula(void **state)
{
	(void)state;
	assert_true(text_is_formula("=HYPERLINK(\"http://x\",\"y\")"));
	assert_true(text_is_formula("+1"));
	assert_true(text_is_formula("-1"));
	assert_true(text_is_formula("@SUM(A1)"));
	assert_true(text_is_formula("\tx"));
	assert_false(text_is_formula("补报"));
	assert_false(text_is_formula(""));
	assert_false(text_is_formula(NULL));
}

static void test_terminal(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	text_fputs_terminal("ok\x1b[2J\xff党\nx", false, f);
	fflush(f);
	assert_string_equal(buf, "ok\xef\xbf\xbd[2J\xef\xbf\xbd党\xef\xbf\xbdx");
	rewind(f);
	text_fputs_terminal("a\nb", true, f);
	fputc('\0', f);
	fclose(f);
	assert_string_equal(buf, "a\nb");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8_decode), cmocka_unit_test(test_check),
	    cmocka_unit_test(test_message),     cmocka_unit_test(test_message_nul),
	    cmocka_unit_test(test_formula),     cmocka_unit_test(test_terminal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
