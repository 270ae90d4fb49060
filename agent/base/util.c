#include "base/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

size_t hf_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

int hf_grow(void *arrp, size_t n, size_t *cap, size_t elem, size_t first)
{
	size_t ncap = *cap ? *cap : first;
	void *arr, *na;

	if (n < *cap)
		return 0;
	if (!ncap || !elem)
		return -1;
	/* Doubled until index n fits: once for an append, more for a batch. */
	while (ncap <= n) {
		if (ncap > SIZE_MAX / 2)
			return -1;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / elem)
		return -1;
	/* Through memcpy: arrp points at a T *, not at a void *. */
	memcpy(&arr, arrp, sizeof arr);
	na = realloc(arr, ncap * elem);
	if (!na)
		return -1;
	memcpy(arrp, &na, sizeof na);
	*cap = ncap;
	return 0;
}
