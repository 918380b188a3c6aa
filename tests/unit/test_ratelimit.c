/*
 * test_ratelimit.c - audit entries per refused caller: the first
 * RATELIMIT_PER_WINDOW of a window are admitted, the rest counted and
 * reported once the window has ended; keys do not share a count; a key
 * pushed out of its slot keeps its report; threads may call at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ratelimit.h"

static void test_window(void **state)
{
	struct ratelimit *rl = NULL;
	struct ratelimit_report r[4];
	int admitted = 0;

	(void)state;
	assert_int_equal(ratelimit_new(64, &rl, NULL), YB_OK);
	for (int i = 0; i < 100; i++)
		admitted += ratelimit_admit(rl, "cert:aa", 1000 + i);
	assert_int_equal(admitted, RATELIMIT_PER_WINDOW);
	/* Another key has its own count. */
	assert_true(ratelimit_admit(rl, "addr:127.0.0.1", 2000));
	/* Nothing to report while the window lasts. */
	assert_int_equal(ratelimit_take_reports(rl, 1000 + RATELIMIT_WINDOW_MS - 1, r, 4), 0);
	assert_int_equal(ratelimit_take_reports(rl, 1000 + RATELIMIT_WINDOW_MS, r, 4), 1);
	assert_string_equal(r[0].key, "cert:aa");
	assert_int_equal(r[0].dropped, 100 - RATELIMIT_PER_WINDOW);
	assert_int_equal(r[0].window_start_ms, 1000);
	/* Reported once only; a new window admits again. */
	assert_int_equal(ratelimit_take_reports(rl, INT64_MAX, r, 4), 0);
	assert_true(ratelimit_admit(rl, "cert:aa", 1000 + RATELIMIT_WINDOW_MS));
	ratelimit_free(rl);
	ratelimit_free(NULL);
}

/* With one slot, every key pushes the other out: no count is lost. */
static void test_collisions(void **state)
{
	struct ratelimit *rl = NULL;
	struct ratelimit_report r[8];
	uint64_t dropped = 0;
	size_t n;

	(void)state;
	assert_int_equal(ratelimit_new(1, &rl, NULL), YB_OK);
	for (int i = 0; i < RATELIMIT_PER_WINDOW + 5; i++)
		ratelimit_admit(rl, "cert:aa", 10);
	for (int i = 0; i < RATELIMIT_PER_WINDOW + 7; i++)
		ratelimit_admit(rl, "cert:bb", 10);
	n = ratelimit_take_reports(rl, INT64_MAX, r, 8);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		dropped += r[i].dropped;
	assert_int_equal(dropped, 12);
	ratelimit_free(rl);
}

static void *hammer(void *arg)
{
	struct ratelimit *rl = arg;
	long admitted = 0;

	for (int i = 0; i < 10000; i++)
		admitted += ratelimit_admit(rl, "cert:shared", 5);
	return (void *)admitted;
}

static void test_threads(void **state)
{
	struct ratelimit *rl = NULL;
	struct ratelimit_report r[2];
	pthread_t t[4];
	long admitted = 0;

	(void)state;
	assert_int_equal(ratelimit_new(16, &rl, NULL), YB_OK);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, rl), 0);
	for (int i = 0; i < 4; i++) {
		void *v;
		pthread_join(t[i], &v);
		admitted += (long)v;
	}
	assert_int_equal(admitted, RATELIMIT_PER_WINDOW);
	assert_int_equal(ratelimit_take_reports(rl, INT64_MAX, r, 2), 1);
	assert_int_equal(r[0].dropped, 40000 - RATELIMIT_PER_WINDOW);
	ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_window),
	    cmocka_unit_test(test_collisions),
	    cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
