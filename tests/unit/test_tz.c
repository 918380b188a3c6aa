/*
 * test_tz.c - time zones read from tzdata agree with glibc's own reading of
 * the same files, across transitions, footer rules and both hemispheres;
 * times are written with their offset; bad names are refused.
 *
 * glibc is the oracle: this test is single-threaded, so it may switch TZ.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "tz.h"

static struct tz *load_ok(const char *name)
{
	struct errbuf eb = {{0}};
	struct tz *z = NULL;

	if (tz_load(name, &z, &eb) != YB_OK)
		fail_msg("tz_load(\"%s\"): %s", name, eb.msg);
	assert_string_equal(tz_name(z), name);
	return z;
}

/* Every zone here is checked at instants from 1901 to 2200 against localtime_r. */
static void test_agrees_with_glibc(void **state)
{
	static const char *const zones[] = {
	    "Asia/Shanghai",    "UTC",
	    "America/New_York", "Europe/Berlin",
	    "Australia/Sydney", "Asia/Kolkata",
	    "America/St_Johns", "Pacific/Chatham",
	    "America/Santiago", "Africa/Casablanca",
	    "Asia/Urumqi",      "Europe/Dublin",
	};
	uint64_t seed = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		struct tz *z = load_ok(zones[i]);
		setenv("TZ", zones[i], 1);
		tzset();
		for (int k = 0; k < 20000; k++) {
			/* Random instants, and every hour boundary near a DST change. */
			int64_t t;
			time_t tt;
			struct tm want, got;
			seed = seed * 6364136223846793005u + 1442695040888963407u;
			t = -2145916800 + (int64_t)((seed >> 11) % 9467280000u);
			t -= k % 2 ? t % 3600 : 0;
			tt = (time_t)t;
			assert_non_null(localtime_r(&tt, &want));
			tz_civil(z, t, &got);
			if (got.tm_gmtoff != want.tm_gmtoff || got.tm_hour != want.tm_hour ||
			    got.tm_mday != want.tm_mday || got.tm_mon != want.tm_mon ||
			    got.tm_year != want.tm_year || got.tm_min != want.tm_min ||
			    got.tm_wday != want.tm_wday)
				fail_msg("%s at %lld: offset %ld, glibc %ld", zones[i],
				         (long long)t, got.tm_gmtoff, want.tm_gmtoff);
			/* And back: the wall clock gives the instant (where it is unambiguous). */
			if (tz_offset(z, t - 7200) == tz_offset(z, t + 7200))
				assert_int_equal(
				    tz_unix(z, want.tm_year + 1900, want.tm_mon + 1, want.tm_mday,
				            want.tm_hour * 3600 + want.tm_min * 60 + want.tm_sec),
				    t);
		}
		tz_free(z);
	}
	unsetenv("TZ");
	tzset();
}

static void test_format(void **state)
{
	struct tz *bj = load_ok("Asia/Shanghai"), *ny = load_ok("America/New_York");
	const int64_t ms = (int64_t)1799179200 * 1000 + 999; /* 2027-01-05T20:00:00.999Z */
	char buf[TZ_TEXT_MAX];

	(void)state;
	tz_format(bj, ms, TZ_PEOPLE, buf, sizeof(buf));
	assert_string_equal(buf, "2027-01-06 04:00:00 +08:00");
	tz_format(bj, ms, TZ_PEOPLE_MINUTES, buf, sizeof(buf));
	assert_string_equal(buf, "2027-01-06 04:00 +08:00");
	tz_format(bj, ms, TZ_RFC3339, buf, sizeof(buf));
	assert_string_equal(buf, "2027-01-06T04:00:00+08:00");
	tz_format(tz_utc(), ms, TZ_RFC3339, buf, sizeof(buf));
	assert_string_equal(buf, "2027-01-05T20:00:00+00:00");
	tz_format(ny, ms, TZ_PEOPLE, buf, sizeof(buf));
	assert_string_equal(buf, "2027-01-05 15:00:00 -05:00");
	tz_format(ny, (int64_t)1814400000 * 1000, TZ_RFC3339, buf, sizeof(buf));
	assert_string_equal(buf, "2027-06-30T20:00:00-04:00");
	/* An instant before 1970 keeps its own second. */
	tz_format(tz_utc(), -1, TZ_RFC3339, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31T23:59:59+00:00");
	tz_free(bj);
	tz_free(ny);
}

static void test_bad_names_refused(void **state)
{
	static const char *const bad[] = {
	    "",     "/etc/passwd",         "../../etc/passwd", "Asia/../../../etc/passwd",
	    "Asia", "Asia//Shanghai",      "Asia/Shanghai/",   "zone.tab",
	    ".",    "right/Asia/Shanghai", "Nowhere/City",     "Asia/Shanghai\n",
	};
	struct errbuf eb = {{0}};
	struct tz *z = (struct tz *)1;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = tz_load(bad[i], &z, &eb);
		if (rc == YB_OK)
			fail_msg("'%s' was accepted as a time zone", bad[i]);
		assert_null(z);
		assert_non_null(strstr(eb.msg, "Asia/Shanghai"));
	}
	assert_int_equal(tz_load("Asia/Shangai", &z, &eb), YB_NOT_FOUND);
	assert_non_null(strstr(eb.msg, "unknown time zone 'Asia/Shangai'"));
	assert_non_null(strstr(eb.msg, "tzdata"));
}

/* $TZDIR is honoured: a zone file elsewhere, and a damaged one refused. */
static void test_tzdir(void **state)
{
	char dir[] = "/tmp/yb-tz-XXXXXX", path[64], cmd[256];
	struct errbuf eb = {{0}};
	struct tz *z = NULL;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/Office", dir);
	snprintf(cmd, sizeof(cmd), "head -c 100 /usr/share/zoneinfo/Asia/Shanghai > %s", path);
	assert_int_equal(system(cmd), 0);
	setenv("TZDIR", dir, 1);
	assert_int_equal(tz_load("Office", &z, &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "not a time zone file"));
	snprintf(cmd, sizeof(cmd), "cp /usr/share/zoneinfo/Asia/Shanghai %s", path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(tz_load("Office", &z, &eb), YB_OK);
	assert_int_equal(tz_offset(z, 1799179200), 8 * 3600);
	tz_free(z);
	/* A file of 64 KiB and more is not read whole. */
	assert_non_null(f = fopen(path, "ab"));
	for (int i = 0; i < 70000; i++)
		fputc(0, f);
	fclose(f);
	assert_int_equal(tz_load("Office", &z, &eb), YB_INVALID_ARGUMENT);
	unsetenv("TZDIR");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_agrees_with_glibc),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_bad_names_refused),
	    cmocka_unit_test(test_tzdir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
