/*
 * array.h - growing a heap array by doubling, the one way the project does
 * it: lists of findings, cells, buckets, store rows, bundle entries.
 */
#ifndef YB_ARRAY_H
#define YB_ARRAY_H

#include <stddef.h>

/*
 * Returns items (elements of `size` bytes, *cap of them allocated) grown to
 * hold at least need elements: items itself when it already does, else a
 * reallocation doubling from first, with *cap updated. NULL when out of
 * memory or when the size would overflow; items is then untouched (still
 * the caller's to free).
 */
void *array_reserve(void *items, size_t *cap, size_t need, size_t size, size_t first);

#endif
