/* A strict structural decoder, for tests and the fuzzer: returns the number of
 * samples when buf is one well-formed datagram of exactly len bytes, else -1. */
#ifndef HF_SFLOW_VALIDATE_H
#define HF_SFLOW_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

int sflow_validate(const uint8_t *buf, size_t len);

#endif
