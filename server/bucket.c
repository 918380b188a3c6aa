/*
 * bucket.c - buckets in memory and their stored form (see bucket.h).
 */
#include "bucket.h"

#include <stdlib.h>
#include <string.h>
#include "array.h"

#define BLOB_VERSION 1

typedef unsigned __int128 u128;

yb_status bucket_vec_alloc(struct bucket_vec *v, size_t n)
{
	v->present = 0;
	v->sum = calloc(n + 1, sizeof(*v->sum));
	v->count = calloc(n + 1, sizeof(*v->count));
	return v->sum && v->count ? YB_OK : YB_ENOMEM;
}

void bucket_vec_free(struct bucket_vec *v)
{
	free(v->sum);
	free(v->count);
	v->sum = NULL;
	v->count = NULL;
}

void bucket_vec_zero(struct bucket_vec *v, size_t n)
{
	v->present = 0;
	memset(v->sum, 0, n * sizeof(*v->sum));
	memset(v->count, 0, n * sizeof(*v->count));
}

bool bucket_vec_empty(const struct bucket_vec *v, size_t n)
{
	if (v->present != 0)
		return false;
	for (size_t e = 0; e < n; e++)
		if (v->count[e] != 0 || v->sum[e] != 0)
			return false;
	return true;
}

void bucket_vec_add(struct bucket_vec *dst, const struct bucket_vec *src, size_t n)
{
	dst->present += src->present;
	for (size_t e = 0; e < n; e++) {
		dst->sum[e] += src->sum[e];
		dst->count[e] += src->count[e];
	}
}

void bucket_list_free(struct bucket_list *bs)
{
	for (size_t i = 0; bs->b != NULL && i < bs->n; i++)
		bucket_vec_free(&bs->b[i].v);
	free(bs->b);
	bs->b = NULL;
	bs->n = bs->cap = 0;
}

/*
 * The bucket (month, next) of bs, added empty if missing; NULL when out of
 * memory. The pointer is valid until the next call on bs.
 */
struct bucket_vec *bucket_at(struct bucket_list *bs, int month, int next)
{
	size_t lo = 0, hi = bs->n;
	void *p;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct bucket *b = &bs->b[mid];
		if (b->month < month || (b->month == month && b->next < next))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < bs->n && bs->b[lo].month == month && bs->b[lo].next == next)
		return &bs->b[lo].v;
	if ((p = array_reserve(bs->b, &bs->cap, bs->n + 1, sizeof(*bs->b), 16)) == NULL)
		return NULL;
	bs->b = p;
	memmove(&bs->b[lo + 1], &bs->b[lo], (bs->n - lo) * sizeof(*bs->b));
	bs->b[lo].month = month;
	bs->b[lo].next = next;
	bs->n++;
	if (bucket_vec_alloc(&bs->b[lo].v, bs->n_elements) != YB_OK) {
		bucket_vec_free(&bs->b[lo].v);
		bs->n--;
		memmove(&bs->b[lo], &bs->b[lo + 1], (bs->n - lo) * sizeof(*bs->b));
		return NULL;
	}
	return &bs->b[lo].v;
}

/* Adds (count, sum) for element e to bucket (month, next) of bs. */
yb_status bucket_add(struct bucket_list *bs, int month, int next, size_t e, int64_t count,
                     __int128 sum)
{
	struct bucket_vec *v = bucket_at(bs, month, next);

	if (v == NULL)
		return YB_ENOMEM;
	v->count[e] += count;
	v->sum[e] += sum;
	return YB_OK;
}

/* ---- the stored form --------------------------------------------------------------------- */

size_t bucket_encoded_max(size_t n)
{
	return 1 + 19 + n * (10 + 19 + 19);
}

static size_t put_varint(uint8_t *p, u128 x)
{
	size_t n = 0;

	do {
		uint8_t byte = (uint8_t)(x & 0x7f);
		x >>= 7;
		p[n++] = byte | (x != 0 ? 0x80 : 0);
	} while (x != 0);
	return n;
}

static u128 zigzag(__int128 x)
{
	return ((u128)x << 1) ^ (u128)(x >> 127);
}

static __int128 unzigzag(u128 x)
{
	return (__int128)(x >> 1) ^ -(__int128)(x & 1);
}

size_t bucket_encode(const struct bucket_vec *v, size_t n, uint8_t *buf)
{
	size_t len = 0, expect = 0;

	buf[len++] = BLOB_VERSION;
	len += put_varint(buf + len, zigzag(v->present));
	for (size_t e = 0; e < n; e++) {
		if (v->count[e] == 0 && v->sum[e] == 0)
			continue;
		len += put_varint(buf + len, e - expect);
		len += put_varint(buf + len, zigzag(v->count[e]));
		len += put_varint(buf + len, zigzag(v->sum[e]));
		expect = e + 1;
	}
	return len;
}

static bool get_varint(struct bucket_reader *r, u128 *out)
{
	u128 x = 0;

	for (int shift = 0; r->p < r->end && shift < 128; shift += 7) {
		uint8_t byte = *r->p++;
		x |= (u128)(byte & 0x7f) << shift;
		if ((byte & 0x80) == 0) {
			*out = x;
			return true;
		}
	}
	return false;
}

static bool get_int64(struct bucket_reader *r, int64_t *out)
{
	u128 x;
	__int128 v;

	if (!get_varint(r, &x))
		return false;
	v = unzigzag(x);
	if (v < INT64_MIN || v > INT64_MAX)
		return false;
	*out = (int64_t)v;
	return true;
}

bool bucket_read_head(struct bucket_reader *r, const void *data, size_t len, size_t n,
                      int64_t *present)
{
	r->p = data;
	r->end = r->p + len;
	r->expect = 0;
	r->n = n;
	return len > 0 && *r->p++ == BLOB_VERSION && get_int64(r, present);
}

int bucket_read_entry(struct bucket_reader *r, size_t *e, int64_t *count, __int128 *sum)
{
	u128 gap, s;

	if (r->p == r->end)
		return 0;
	if (!get_varint(r, &gap) || gap >= r->n - r->expect || !get_int64(r, count) ||
	    !get_varint(r, &s))
		return -1;
	*e = r->expect + (size_t)gap;
	*sum = unzigzag(s);
	r->expect = *e + 1;
	return 1;
}

yb_status bucket_vec_add_stored(struct bucket_vec *v, size_t n, const void *data, size_t len)
{
	struct bucket_reader r;
	int64_t present, count;
	__int128 sum;
	size_t e;
	int got;

	if (!bucket_read_head(&r, data, len, n, &present))
		return YB_DATA_LOSS;
	v->present += present;
	while ((got = bucket_read_entry(&r, &e, &count, &sum)) > 0) {
		v->count[e] += count;
		v->sum[e] += sum;
	}
	return got == 0 ? YB_OK : YB_DATA_LOSS;
}
