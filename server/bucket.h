/*
 * bucket.h - the consolidation pre-aggregates' buckets (rollup.h says what
 * they hold): dense in memory while built or changed, and their stored form.
 *
 * A bucket is stored as one BLOB: a format byte, the count of leaf returns,
 * then for each element with a non-zero count or sum, in catalog order: the
 * gap from the previous element's index + 1, the count and the sum, as
 * zigzag varints. Sums are 128-bit, so no bucket can overflow; only a
 * query's total can. Private to rollup.c (and its tests).
 */
#ifndef YB_BUCKET_H
#define YB_BUCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* One bucket's content, dense, while it is built or changed. */
struct bucket_vec {
	int64_t present;
	__int128 *sum;
	int64_t *count;
};

struct bucket {
	int month, next;
	struct bucket_vec v;
};

/* Buckets sorted by (month, next). */
struct bucket_list {
	struct bucket *b;
	size_t n, cap;
	size_t n_elements;
};

/* Reads a stored bucket entry by entry. */
struct bucket_reader {
	const uint8_t *p, *end;
	size_t expect, n;
};

/* Allocates v for n elements, zeroed. YB_ENOMEM (free v with bucket_vec_free all the same). */
yb_status bucket_vec_alloc(struct bucket_vec *v, size_t n);

/* Frees v's arrays; v can be allocated again. */
void bucket_vec_free(struct bucket_vec *v);

/* Zeroes v's n elements and its count of returns. */
void bucket_vec_zero(struct bucket_vec *v, size_t n);

/* Whether v holds nothing: such a bucket is deleted, not stored. */
bool bucket_vec_empty(const struct bucket_vec *v, size_t n);

/* dst += src, element by element. */
void bucket_vec_add(struct bucket_vec *dst, const struct bucket_vec *src, size_t n);

/*
 * Adds a stored bucket (data, len) of n elements into v. YB_DATA_LOSS when
 * it is damaged (v may then hold part of it).
 */
yb_status bucket_vec_add_stored(struct bucket_vec *v, size_t n, const void *data, size_t len);

/* Frees every bucket of bs; bs is empty and can be used again. */
void bucket_list_free(struct bucket_list *bs);

/*
 * The bucket (month, next) of bs, added empty if missing; NULL when out of
 * memory. The pointer is valid until the next call on bs.
 */
struct bucket_vec *bucket_at(struct bucket_list *bs, int month, int next);

/* Adds (count, sum) for element e to bucket (month, next) of bs. YB_OK or YB_ENOMEM. */
yb_status bucket_add(struct bucket_list *bs, int month, int next, size_t e, int64_t count,
                     __int128 sum);

/* Bytes an encoded bucket of n elements may need at most. */
size_t bucket_encoded_max(size_t n);

/* Encodes v's n elements into buf (bucket_encoded_max bytes); returns the length. */
size_t bucket_encode(const struct bucket_vec *v, size_t n, uint8_t *buf);

/* Starts reading a stored bucket of n elements; false when its head is damaged. */
bool bucket_read_head(struct bucket_reader *r, const void *data, size_t len, size_t n,
                      int64_t *present);

/* 1 and the next entry (element e), 0 at the end, -1 when the data is damaged. */
int bucket_read_entry(struct bucket_reader *r, size_t *e, int64_t *count, __int128 *sum);

#endif
