/* Small helpers every room uses: monotonic time, bounded string copy. */
#ifndef HF_UTIL_H
#define HF_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC: all "when" values inside hostflowd. */
int64_t monotonic_ms(void);

/* Copies at most size-1 bytes and always terminates; returns strlen(src). */
size_t hf_strlcpy(char *dst, const char *src, size_t size);

#endif
