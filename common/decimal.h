/*
 * decimal.h - exact decimal values.
 *
 * Stored values and sums never touch binary floating point. A value is an
 * int64_t count of hundredths (1.00 == 100): `int` elements are whole
 * multiples of 100, `amount` elements (yuan) use all of it. Derived figures
 * (indicators, changes) are exact rationals of 128-bit integers, rounded only
 * when formatted, half away from zero (四舍五入).
 */
#ifndef YB_DECIMAL_H
#define YB_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define DEC_SCALE 100

/* Largest magnitude accepted by dec_parse: 10^15 units (so sums of millions fit). */
#define DEC_MAX_UNITS 1000000000000000LL

/*
 * Parses a plain decimal written by a person: optional sign, digits,
 * optional '.' and up to max_decimals (0..2) fraction digits. Surrounding
 * blanks are ignored. Refuses (YB_INVALID_ARGUMENT, message in eb) an empty
 * string, any other character, more fraction digits than max_decimals
 * ("has 3 decimals, at most 2 allowed"), and magnitudes above DEC_MAX_UNITS.
 * Negative values parse; callers decide whether they are allowed.
 * On success *out is the value in hundredths.
 */
int dec_parse(const char *s, int max_decimals, int64_t *out, struct errbuf *eb);

/*
 * Parses a value as a person types it into a return (a cell of the CSV
 * file, or a value sent by the client), more leniently than dec_parse but
 * never ambiguously; for element values (catalog_check), not for catalog
 * bounds or anything else, which stay with dec_parse. Accepts everything
 * dec_parse accepts, with the same value, and also:
 *  - thousands separators: "1,200", "12,345,678", "1,234.50": a first
 *    group of 1 to 3 digits, not starting with 0, then groups of exactly
 *    three digits each after one ','; none after the '.';
 *  - more fraction digits than max_decimals when the extra ones are all
 *    zeros: "1200.00" and "3.0" with max_decimals 0, "12.500" with 2.
 * Surrounding ASCII blanks are ignored; only ASCII digits are digits.
 * Refuses (YB_INVALID_ARGUMENT, eb quotes the value and says why):
 *   "", "  "                     value is empty
 *   "1,20" "12,34,567" "1,,200" "1234,567"
 *                                 ... must separate groups of three digits ...
 *   ",100"                       ... starts with ','
 *   "0,500"                      ... cannot start with 0 ...
 *   "2.5" (max_decimals 0)       "2.5" is not a whole number
 *   "12.505" (max_decimals 2)    "12.505" has 3 decimals, at most 2 allowed
 *   "12.5050" (max_decimals 2)   ... has 3 significant decimals, at most 2 ...
 *   "１２" (full-width digits)   ... full-width characters ...: type it with
 *                                 the ASCII digits 0-9 (half-width input)
 *   other characters             ... unexpected 'x' / a non-ASCII character
 *   magnitude above DEC_MAX_UNITS, longer than 64 bytes, as dec_parse.
 * Negative values parse; callers decide whether they are allowed.
 * max_decimals is 0..2. On success *out is the value in hundredths; it is
 * written only on success.
 */
int dec_parse_entry(const char *s, int max_decimals, int64_t *out, struct errbuf *eb);

/*
 * Writes v (hundredths) with exactly `decimals` (0..2) fraction digits into
 * buf, rounding half away from zero when decimals < 2. No thousands
 * separators. Returns YB_OK, or YB_OUT_OF_RANGE if buf is too small.
 */
int dec_format(int64_t v, int decimals, char *buf, size_t len);

/* *out = a + b; YB_OUT_OF_RANGE on int64 overflow (and *out untouched). */
int dec_add(int64_t a, int64_t b, int64_t *out);

/* An exact rational num/den with den > 0, kept reduced. */
struct dec_ratio {
	__int128 num;
	__int128 den;
};

/* The rational equal to v hundredths. */
struct dec_ratio dec_ratio_from_hundredths(int64_t v);

/* The rational equal to the integer n. */
struct dec_ratio dec_ratio_from_int(int64_t n);

/*
 * Arithmetic on rationals. Each returns YB_OK, YB_OUT_OF_RANGE when an
 * intermediate would overflow 128 bits, or (dec_ratio_div only)
 * YB_FAILED_PRECONDITION when dividing by zero. *out is written only on YB_OK.
 */
int dec_ratio_add(struct dec_ratio a, struct dec_ratio b, struct dec_ratio *out);
int dec_ratio_sub(struct dec_ratio a, struct dec_ratio b, struct dec_ratio *out);
int dec_ratio_mul(struct dec_ratio a, struct dec_ratio b, struct dec_ratio *out);
int dec_ratio_div(struct dec_ratio a, struct dec_ratio b, struct dec_ratio *out);

/* -1, 0 or 1 as a <, ==, > b. */
int dec_ratio_cmp(struct dec_ratio a, struct dec_ratio b);

/* True when r is zero. */
bool dec_ratio_is_zero(struct dec_ratio r);

/*
 * Writes r rounded half away from zero to `decimals` (0..6) fraction digits,
 * e.g. 2/3 with 1 -> "0.7", -1/8 with 2 -> "-0.13"; "-0.0" is written "0.0".
 * Returns YB_OK, or YB_OUT_OF_RANGE if buf is too small.
 */
int dec_ratio_format(struct dec_ratio r, int decimals, char *buf, size_t len);

/*
 * Change from prev to cur, as SPEC §6 defines it, as an exact rational:
 * dec_change_percent = (cur - prev) / prev * 100, YB_FAILED_PRECONDITION if
 * prev is zero; dec_change_points = cur - prev.
 */
int dec_change_percent(struct dec_ratio cur, struct dec_ratio prev, struct dec_ratio *out);

/*
 * part / whole as a percentage with one decimal, rounded half away from
 * zero, without the sign: "95.8" for 23 of 24. The one way a rate of
 * returns (completeness, timeliness) is written. "-" when whole is 0.
 */
void dec_percent_text(uint32_t part, uint32_t whole, char *buf, size_t len);
int dec_change_points(struct dec_ratio cur, struct dec_ratio prev, struct dec_ratio *out);

#endif
