/*
 * decimal.c - exact decimal values: int64 hundredths for stored values and
 * sums, reduced 128-bit rationals for derived figures. No floating point;
 * every overflow is detected and reported, never undefined behaviour.
 */
#include "decimal.h"

#include <stdio.h>
#include <string.h>

#include "i18n.h"

/* Longest text dec_parse looks at; longer input is refused unread. */
#define DEC_TEXT_MAX 64

/* Longest rational text: sign, 39 integer digits, '.', 6 decimals, NUL. */
#define DEC_FMT_MAX 64

#define DEC_RATIO_MAX_DECIMALS 6

typedef unsigned __int128 u128;

/* The most negative __int128 is never a valid numerator or denominator, so
 * negation and absolute value are always defined. */
#define I128_MIN ((__int128)((u128)1 << 127))

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Copies s[0..n) into buf for a message, cut to at most len-4 bytes (on a
 * UTF-8 character boundary) plus "..." if longer.
 */
static void quote(const char *s, size_t n, char *buf, size_t len)
{
	size_t max = len - 4;
	size_t i;

	if (n > max) {
		while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
			max--; /* s[max] would start the dropped part mid-character */
		memcpy(buf, s, max);
		memcpy(buf + max, "...", 4);
		return;
	}
	for (i = 0; i < n; i++)
		buf[i] = s[i];
	buf[n] = '\0';
}

int dec_parse(const char *s, int max_decimals, int64_t *out, struct errbuf *eb)
{
	char q[36];
	size_t n, b, e, i;
	bool neg = false;
	int64_t units = 0, frac = 0, total;
	int ndigits = 0, nfrac = 0;
	bool dot = false;

	if (s == NULL)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("value is empty"));
	if (max_decimals < 0 || max_decimals > 2)
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("at most 0, 1 or 2 decimals can be allowed"));
	n = strnlen(s, DEC_TEXT_MAX + 1);
	if (n > DEC_TEXT_MAX)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("value is longer than %d characters"),
		                   DEC_TEXT_MAX);
	for (b = 0; b < n && is_blank(s[b]); b++)
		;
	for (e = n; e > b && is_blank(s[e - 1]); e--)
		;
	if (b == e)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("value is empty"));
	quote(s + b, e - b, q, sizeof(q));

	i = b;
	if (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-';
		i++;
	}
	for (; i < e; i++) {
		char c = s[i];
		if (is_digit(c)) {
			if (dot) {
				nfrac++;
				if (nfrac <= 2)
					frac = frac * 10 + (c - '0');
			} else {
				ndigits++;
				/* Stop accumulating once too large; refused below. */
				if (units <= DEC_MAX_UNITS)
					units = units * 10 + (c - '0');
			}
		} else if (c == '.' && !dot) {
			dot = true;
		} else {
			return status_fail(eb, YB_INVALID_ARGUMENT,
			                   _("\"%s\" is not a number: unexpected '%c'"), q,
			                   (c >= 0x20 && c < 0x7f) ? c : '?');
		}
	}
	if (ndigits == 0 && nfrac == 0)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("\"%s\" is not a number: no digits"),
		                   q);
	if (dot && nfrac == 0)
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("\"%s\" is not a number: no digits after '.'"), q);
	if (nfrac > max_decimals) {
		if (max_decimals == 0)
			return status_fail(eb, YB_INVALID_ARGUMENT,
			                   nfrac == 1 ? _("\"%s\" is not a whole number: has %d "
			                                  "decimal, at most 0 allowed")
			                              : _("\"%s\" is not a whole number: has %d "
			                                  "decimals, at most 0 allowed"),
			                   q, nfrac);
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   nfrac == 1 ? _("\"%s\" has %d decimal, at most %d allowed")
		                              : _("\"%s\" has %d decimals, at most %d allowed"),
		                   q, nfrac, max_decimals);
	}
	if (nfrac == 1)
		frac *= 10;
	if (units > DEC_MAX_UNITS || (units == DEC_MAX_UNITS && frac > 0))
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("\"%s\" is too large: at most %lld in magnitude"), q,
		                   (long long)DEC_MAX_UNITS);
	total = units * DEC_SCALE + frac;
	*out = neg ? -total : total;
	return YB_OK;
}

/* True when s[0..n) starts with a full-width digit, sign, comma or point
 * (U+FF0B..U+FF0E, U+FF10..U+FF19: EF BC 8B..8E, EF BC 90..99). */
static bool is_fullwidth_number_char(const unsigned char *s, size_t n)
{
	return n >= 3 && s[0] == 0xEF && s[1] == 0xBC &&
	       ((s[2] >= 0x8B && s[2] <= 0x8E) || (s[2] >= 0x90 && s[2] <= 0x99));
}

int dec_parse_entry(const char *s, int max_decimals, int64_t *out, struct errbuf *eb)
{
	char q[36];
	size_t n, b, e, i, first_digit;
	bool neg = false, grouped = false;
	int64_t units = 0, frac = 0, total;
	int nint = 0, nfrac = 0, sigfrac = 0, group = 0;

	if (s == NULL)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("value is empty"));
	if (max_decimals < 0 || max_decimals > 2)
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("at most 0, 1 or 2 decimals can be allowed"));
	n = strnlen(s, DEC_TEXT_MAX + 1);
	if (n > DEC_TEXT_MAX)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("value is longer than %d characters"),
		                   DEC_TEXT_MAX);
	for (b = 0; b < n && is_blank(s[b]); b++)
		;
	for (e = n; e > b && is_blank(s[e - 1]); e--)
		;
	if (b == e)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("value is empty"));
	quote(s + b, e - b, q, sizeof(q));

	/* Non-ASCII first: it is what a Chinese input method in full-width mode
	 * produces, and deserves a clearer word than "unexpected". */
	for (i = b; i < e; i++) {
		if ((unsigned char)s[i] < 0x80)
			continue;
		for (size_t k = i; k < e; k++)
			if (is_fullwidth_number_char((const unsigned char *)s + k, e - k))
				return status_fail(
				    eb, YB_INVALID_ARGUMENT,
				    _("\"%s\" is not a number: it has full-width "
				      "characters; type it with the ASCII digits 0-9 "
				      "(half-width input)"),
				    q);
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("\"%s\" is not a number: unexpected non-ASCII character"), q);
	}

	i = b;
	if (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-';
		i++;
	}
	first_digit = i;
	/* Integer part: digits, maybe in groups of three after a first group of 1-3. */
	for (; i < e && (is_digit(s[i]) || s[i] == ','); i++) {
		if (s[i] == ',') {
			if (nint == 0)
				return status_fail(eb, YB_INVALID_ARGUMENT,
				                   _("\"%s\" is not a number: it starts with ','"),
				                   q);
			if (!grouped && group <= 3 && s[first_digit] == '0')
				return status_fail(
				    eb, YB_INVALID_ARGUMENT,
				    _("\"%s\" is not a number: with thousands separators "
				      "it cannot start with 0 (decimals are written with "
				      "'.')"),
				    q);
			if (grouped ? group != 3 : group > 3)
				goto bad_groups;
			grouped = true;
			group = 0;
			continue;
		}
		nint++;
		group++;
		/* Stop accumulating once too large; refused below. */
		if (units <= DEC_MAX_UNITS)
			units = units * 10 + (s[i] - '0');
	}
	if (grouped && group != 3)
		goto bad_groups;
	if (i < e && s[i] == '.') {
		for (i++; i < e && is_digit(s[i]); i++) {
			nfrac++;
			if (s[i] != '0')
				sigfrac = nfrac;
			if (nfrac <= 2)
				frac = frac * 10 + (s[i] - '0');
		}
		if (nfrac == 0 && i == e && nint > 0)
			return status_fail(eb, YB_INVALID_ARGUMENT,
			                   _("\"%s\" is not a number: no digits after '.'"), q);
	}
	if (i < e)
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("\"%s\" is not a number: unexpected '%c'"), q,
		                   (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?');
	if (nint == 0 && nfrac == 0)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("\"%s\" is not a number: no digits"),
		                   q);
	if (sigfrac > max_decimals) {
		if (max_decimals == 0)
			return status_fail(eb, YB_INVALID_ARGUMENT,
			                   _("\"%s\" is not a whole number"), q);
		if (sigfrac == nfrac)
			return status_fail(eb, YB_INVALID_ARGUMENT,
			                   _("\"%s\" has %d decimals, at most %d allowed"), q,
			                   nfrac, max_decimals);
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("\"%s\" has %d significant decimals, at most %d allowed"), q,
		                   sigfrac, max_decimals);
	}
	if (nfrac == 1)
		frac *= 10;
	if (units > DEC_MAX_UNITS || (units == DEC_MAX_UNITS && frac > 0))
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("\"%s\" is too large: at most %lld in magnitude"), q,
		                   (long long)DEC_MAX_UNITS);
	total = units * DEC_SCALE + frac;
	*out = neg ? -total : total;
	return YB_OK;

bad_groups:
	return status_fail(eb, YB_INVALID_ARGUMENT,
	                   _("\"%s\" is not a number: ',' must separate groups of three digits, "
	                     "as in 1,200 or 12,345,678 (decimals are written with '.')"),
	                   q);
}

int dec_format(int64_t v, int decimals, char *buf, size_t len)
{
	if (decimals < 0 || decimals > 2)
		return YB_INVALID_ARGUMENT;
	return dec_ratio_format(dec_ratio_from_hundredths(v), decimals, buf, len);
}

int dec_add(int64_t a, int64_t b, int64_t *out)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return YB_OUT_OF_RANGE;
	*out = r;
	return YB_OK;
}

static u128 uabs(__int128 x)
{
	/* Callers exclude I128_MIN, so the negation is defined. */
	return x < 0 ? (u128)-x : (u128)x;
}

static u128 gcd_u(u128 a, u128 b)
{
	while (b != 0) {
		u128 t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/*
 * Brings r to canonical form (den > 0, reduced). YB_INVALID_ARGUMENT for a
 * zero denominator, YB_OUT_OF_RANGE when a part is the one value (-2^127)
 * whose magnitude does not fit.
 */
static int normalize(struct dec_ratio r, struct dec_ratio *out)
{
	u128 g;

	if (r.den == 0)
		return YB_INVALID_ARGUMENT;
	if (r.num == I128_MIN || r.den == I128_MIN)
		return YB_OUT_OF_RANGE;
	if (r.den < 0) {
		r.num = -r.num;
		r.den = -r.den;
	}
	if (r.num == 0) {
		out->num = 0;
		out->den = 1;
		return YB_OK;
	}
	g = gcd_u(uabs(r.num), (u128)r.den);
	out->num = r.num / (__int128)g;
	out->den = r.den / (__int128)g;
	return YB_OK;
}

struct dec_ratio dec_ratio_from_hundredths(int64_t v)
{
	struct dec_ratio r = {v, DEC_SCALE};

	/* Cannot fail: den is 100 and |v| < 2^63. */
	(void)normalize(r, &r);
	return r;
}

struct dec_ratio dec_ratio_from_int(int64_t n)
{
	struct dec_ratio r = {n, 1};
	return r;
}

static int mul128(__int128 a, __int128 b, __int128 *out)
{
	if (__builtin_mul_overflow(a, b, out) || *out == I128_MIN)
		return YB_OUT_OF_RANGE;
	return YB_OK;
}

/* a + sign*b, with sign +1 or -1. */
static int add_signed(struct dec_ratio a, struct dec_ratio b, int sign, struct dec_ratio *out)
{
	struct dec_ratio r;
	__int128 g, t1, t2, num, den;
	int rc;

	if ((rc = normalize(a, &a)) != YB_OK || (rc = normalize(b, &b)) != YB_OK)
		return rc;
	if (sign < 0)
		b.num = -b.num;
	g = (__int128)gcd_u((u128)a.den, (u128)b.den);
	if (mul128(a.num, b.den / g, &t1) != YB_OK || mul128(b.num, a.den / g, &t2) != YB_OK ||
	    __builtin_add_overflow(t1, t2, &num) || num == I128_MIN ||
	    mul128(a.den, b.den / g, &den) != YB_OK)
		return YB_OUT_OF_RANGE;
	r.num = num;
	r.den = den;
	if ((rc = normalize(r, &r)) != YB_OK)
		return rc;
	*out = r;
	return YB_OK;
}

int dec_ratio_add(struct dec_ratio a, struct dec_ratio b, struct dec_ratio *out)
{
	return add_signed(a, b, 1, out);
}

int dec_ratio_sub(struct dec_ratio a, struct dec_ratio b, struct dec_ratio *out)
{
	return add_signed(a, b, -1, out);
}

int dec_ratio_mul(struct dec_ratio a, struct dec_ratio b, struct dec_ratio *out)
{
	struct dec_ratio r;
	__int128 g1, g2;
	int rc;

	if ((rc = normalize(a, &a)) != YB_OK || (rc = normalize(b, &b)) != YB_OK)
		return rc;
	if (a.num == 0 || b.num == 0) {
		out->num = 0;
		out->den = 1;
		return YB_OK;
	}
	/* Cross-reducing first keeps the result reduced and intermediates small. */
	g1 = (__int128)gcd_u(uabs(a.num), (u128)b.den);
	g2 = (__int128)gcd_u(uabs(b.num), (u128)a.den);
	if (mul128(a.num / g1, b.num / g2, &r.num) != YB_OK ||
	    mul128(a.den / g2, b.den / g1, &r.den) != YB_OK)
		return YB_OUT_OF_RANGE;
	*out = r;
	return YB_OK;
}

int dec_ratio_div(struct dec_ratio a, struct dec_ratio b, struct dec_ratio *out)
{
	struct dec_ratio inv;
	int rc;

	if ((rc = normalize(b, &b)) != YB_OK)
		return rc;
	if (b.num == 0)
		return YB_FAILED_PRECONDITION;
	inv.num = b.num < 0 ? -b.den : b.den;
	inv.den = b.num < 0 ? -b.num : b.num;
	return dec_ratio_mul(a, inv, out);
}

/* Full 256-bit product of two 128-bit magnitudes, as (hi, lo). */
static void mul_u256(u128 a, u128 b, u128 *hi, u128 *lo)
{
	const u128 mask = ((u128)1 << 64) - 1;
	u128 a0 = a & mask, a1 = a >> 64, b0 = b & mask, b1 = b >> 64;
	u128 p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
	u128 mid = (p00 >> 64) + (p01 & mask) + (p10 & mask);

	*lo = (p00 & mask) | (mid << 64);
	*hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
}

/* Compares magnitudes |an|/ad and |bn|/bd exactly. */
static int cmp_mag(u128 an, u128 ad, u128 bn, u128 bd)
{
	u128 lh, ll, rh, rl;

	mul_u256(an, bd, &lh, &ll);
	mul_u256(bn, ad, &rh, &rl);
	if (lh != rh)
		return lh < rh ? -1 : 1;
	if (ll != rl)
		return ll < rl ? -1 : 1;
	return 0;
}

int dec_ratio_cmp(struct dec_ratio a, struct dec_ratio b)
{
	int sa, sb, c;

	/* An invalid operand compares by its raw fields rather than crash. */
	if (normalize(a, &a) != YB_OK || normalize(b, &b) != YB_OK)
		return a.num < b.num ? -1 : a.num > b.num;
	sa = (a.num > 0) - (a.num < 0);
	sb = (b.num > 0) - (b.num < 0);
	if (sa != sb)
		return sa < sb ? -1 : 1;
	if (sa == 0)
		return 0;
	c = cmp_mag(uabs(a.num), (u128)a.den, uabs(b.num), (u128)b.den);
	return sa > 0 ? c : -c;
}

bool dec_ratio_is_zero(struct dec_ratio r)
{
	return r.num == 0;
}

/* Decimal digits of v, most significant first; returns the count. */
static size_t utoa128(u128 v, char *buf)
{
	char tmp[40];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

int dec_ratio_format(struct dec_ratio r, int decimals, char *buf, size_t len)
{
	char digits[DEC_RATIO_MAX_DECIMALS];
	char text[DEC_FMT_MAX];
	u128 num, den, ip, rem;
	bool neg, nonzero;
	size_t n = 0;
	int i, k;

	if (decimals < 0 || decimals > DEC_RATIO_MAX_DECIMALS)
		return YB_INVALID_ARGUMENT;
	if (normalize(r, &r) != YB_OK)
		return YB_INVALID_ARGUMENT;
	neg = r.num < 0;
	num = uabs(r.num);
	den = (u128)r.den;
	ip = num / den;
	rem = num % den;
	/*
	 * Long division, one digit at a time. rem*10 may not fit in 128 bits, so
	 * it is built by ten modular additions; each sum stays below 2*den < 2^128.
	 */
	for (i = 0; i < decimals; i++) {
		u128 acc = 0;
		int d = 0;
		for (k = 0; k < 10; k++) {
			acc += rem;
			if (acc >= den) {
				acc -= den;
				d++;
			}
		}
		digits[i] = (char)d;
		rem = acc;
	}
	/* Half away from zero: round the magnitude up when the rest is >= 1/2. */
	if (rem >= den - rem) {
		for (i = decimals - 1; i >= 0; i--) {
			if (digits[i] < 9) {
				digits[i]++;
				break;
			}
			digits[i] = 0;
		}
		if (i < 0)
			ip++;
	}
	nonzero = ip != 0;
	for (i = 0; i < decimals; i++)
		nonzero = nonzero || digits[i] != 0;
	if (neg && nonzero)
		text[n++] = '-';
	n += utoa128(ip, text + n);
	if (decimals > 0) {
		text[n++] = '.';
		for (i = 0; i < decimals; i++)
			text[n++] = (char)('0' + digits[i]);
	}
	text[n] = '\0';
	if (buf == NULL || len < n + 1)
		return YB_OUT_OF_RANGE;
	memcpy(buf, text, n + 1);
	return YB_OK;
}

int dec_change_percent(struct dec_ratio cur, struct dec_ratio prev, struct dec_ratio *out)
{
	struct dec_ratio diff, q;
	int rc;

	if (prev.num == 0)
		return YB_FAILED_PRECONDITION;
	if ((rc = dec_ratio_sub(cur, prev, &diff)) != YB_OK ||
	    (rc = dec_ratio_div(diff, prev, &q)) != YB_OK ||
	    (rc = dec_ratio_mul(q, dec_ratio_from_int(100), &q)) != YB_OK)
		return rc;
	*out = q;
	return YB_OK;
}

int dec_change_points(struct dec_ratio cur, struct dec_ratio prev, struct dec_ratio *out)
{
	return dec_ratio_sub(cur, prev, out);
}

void dec_percent_text(uint32_t part, uint32_t whole, char *buf, size_t len)
{
	struct dec_ratio r;

	if (whole == 0 ||
	    dec_ratio_div(dec_ratio_from_int((int64_t)part * 100), dec_ratio_from_int(whole), &r) !=
	        YB_OK ||
	    dec_ratio_format(r, 1, buf, len) != YB_OK)
		snprintf(buf, len, "-");
}
