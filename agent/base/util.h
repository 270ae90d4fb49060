/* Small helpers every room uses: monotonic time, bounded string copy. */
#ifndef HF_UTIL_H
#define HF_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC: all "when" values inside hostflowd. */
int64_t monotonic_ms(void);

/* Room for index n in the array *arrp (a pointer to any array pointer) of
 * *cap elements of elem bytes: an append passes the count it holds, a batch
 * of k the count + k - 1. The room is doubled (from `first` when empty)
 * until n fits. 0, or -1 (out of memory or size overflow): the array and
 * *cap stay as they were, still the caller's. */
int hf_grow(void *arrp, size_t n, size_t *cap, size_t elem, size_t first);

/* Copies at most size-1 bytes and always terminates; returns strlen(src). */
size_t hf_strlcpy(char *dst, const char *src, size_t size);

#endif
