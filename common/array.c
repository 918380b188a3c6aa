/*
 * array.c - growing heap arrays (see array.h).
 */
#include "array.h"

#include <stdint.h>
#include <stdlib.h>

void *array_reserve(void *items, size_t *cap, size_t need, size_t size, size_t first)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return items;
	ncap = *cap ? *cap : (first ? first : 1);
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return NULL;
		ncap *= 2;
	}
	if (size != 0 && ncap > SIZE_MAX / size)
		return NULL;
	if ((p = realloc(items, ncap * size)) == NULL)
		return NULL;
	*cap = ncap;
	return p;
}
