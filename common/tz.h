/*
 * tz.h - the deployment's time zone: an IANA zone read from the system's
 * tzdata (TZif files, RFC 8536), and instants shown in it.
 *
 * Why not localtime_r: glibc converts only into the zone named by the
 * process-wide TZ variable, which a multithreaded daemon cannot switch
 * safely (setenv/tzset race with every other thread), and the client must
 * show the zone the server names, not its own. A struct tz is immutable once
 * loaded, so any number of threads may use one at once.
 */
#ifndef YB_TZ_H
#define YB_TZ_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "status.h"

/* The zone a deployment uses unless configured otherwise (SPEC §10). */
#define TZ_DEFAULT "Asia/Shanghai"

/* Longest zone name accepted, with its NUL (the longest IANA name has 32 bytes). */
#define TZ_NAME_MAX 64

/* Longest text tz_format writes, with its NUL. */
#define TZ_TEXT_MAX 40

struct tz;

/*
 * Loads the zone `name` ("Asia/Shanghai", "UTC") from $TZDIR, or
 * /usr/share/zoneinfo without it. Only a name of [A-Za-z0-9_+-] parts
 * separated by '/' is looked up: no absolute path, no "." or ".." part (the
 * client loads the name a server sends). Refuses, with a message naming the
 * zone and the cause: such a name, a name with no file (YB_NOT_FOUND, with a
 * hint about the tzdata package), a file that is not a TZif file, is longer
 * than 64 KiB, or counts leap seconds (the "right/" zones)
 * (YB_INVALID_ARGUMENT). The caller owns *out (tz_free).
 */
int tz_load(const char *name, struct tz **out, struct errbuf *eb);

/*
 * UTC itself, which needs no tzdata: for a client that cannot load the zone
 * its server names, or was told none. Static: never freed.
 */
const struct tz *tz_utc(void);

/* Frees a zone from tz_load; NULL is allowed. */
void tz_free(struct tz *z);

/* The name z was loaded by ("UTC" for tz_utc()); owned by z. */
const char *tz_name(const struct tz *z);

/* Seconds east of UTC in zone z at Unix time t (28800 for +08:00). */
int tz_offset(const struct tz *z, int64_t t);

/*
 * The wall clock of zone z at Unix time t: tm_year..tm_sec, tm_wday, tm_yday,
 * and tm_gmtoff = tz_offset(z, t). tm_isdst is 0 and tm_zone NULL.
 */
void tz_civil(const struct tz *z, int64_t t, struct tm *tm);

/*
 * The Unix time at which the wall clock of zone z shows year-mon-mday (mon
 * 1..12; a day past the month's end rolls over) plus sec seconds after
 * midnight. A wall time that occurs twice (clocks set back) gives one of
 * the two instants; one skipped (clocks set forward) an instant inside the
 * skip, so that "before this wall time" stays a well-defined limit.
 */
int64_t tz_unix(const struct tz *z, int year, int mon, int mday, int sec);

enum tz_style {
	TZ_PEOPLE,         /* 2027-01-06 04:00:00 +08:00 */
	TZ_PEOPLE_MINUTES, /* 2027-01-06 04:00 +08:00 */
	TZ_RFC3339,        /* 2027-01-06T04:00:00+08:00 */
};

/*
 * Writes the instant ms (Unix milliseconds) as the wall clock of zone z, with
 * its offset from UTC, in `style`, into buf (TZ_TEXT_MAX bytes always
 * suffice; shorter output is cut). The offset is shown in whole minutes, as
 * RFC 3339 requires (every zone has had such offsets since 1972).
 */
void tz_format(const struct tz *z, int64_t ms, enum tz_style style, char *buf, size_t len);

#endif
