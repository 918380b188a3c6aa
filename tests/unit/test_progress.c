/*
 * test_progress.c - the progress line: what it says for known and unknown
 * totals (done/total, percentage, rate, time left in seconds, minutes or
 * hours), and that there is none when quiet or when stderr is not a
 * terminal (as under ctest), with every call then harmless.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"

static void test_known_total(void **state)
{
	char buf[128];
	(void)state;

	/* 120 of 400 in 2 s: 60/s, 280 left take 5 s. */
	progress_format(buf, sizeof(buf), "audit verify: entries", 120, 400, 2000);
	assert_string_equal(buf, "audit verify: entries: 120/400 (30%), 60/s, 5 s left");
	progress_format(buf, sizeof(buf), "x", 1000, 100000, 10000);
	assert_string_equal(buf, "x: 1000/100000 (1%), 100/s, 16 min 30 s left");
	progress_format(buf, sizeof(buf), "x", 1, 10000, 1000);
	assert_string_equal(buf, "x: 1/10000 (0%), 1/s, 2 h 46 min left");
	progress_format(buf, sizeof(buf), "x", 400, 400, 2000);
	assert_string_equal(buf, "x: 400/400 (100%), 200/s, 0 s left");
	/* Nothing done yet: no rate to tell the time left by. */
	progress_format(buf, sizeof(buf), "x", 0, 400, 0);
	assert_string_equal(buf, "x: 0/400 (0%)");
}

static void test_unknown_total(void **state)
{
	char buf[128];
	(void)state;

	progress_format(buf, sizeof(buf), "audit export: revisions", 2500, 0, 500);
	assert_string_equal(buf, "audit export: revisions: 2500, 5000/s");
	/* More done than the total said (the log grew meanwhile): no percentage. */
	progress_format(buf, sizeof(buf), "x", 12, 10, 1000);
	assert_string_equal(buf, "x: 12, 12/s");
	/* A short buffer is cut, never overrun. */
	progress_format(buf, 8, "audit export", 1, 2, 1000);
	assert_int_equal(strlen(buf), 7);
}

static void test_none_off_a_terminal(void **state)
{
	(void)state;
	assert_null(progress_new("x", 10, true));
	if (!isatty(STDERR_FILENO))
		assert_null(progress_new("x", 10, false));
	/* What callers do with the NULL they get. */
	progress_set_total(NULL, 5);
	progress_update(NULL, 1);
	progress_clear(NULL);
	progress_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_total),
	    cmocka_unit_test(test_unknown_total),
	    cmocka_unit_test(test_none_off_a_terminal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
