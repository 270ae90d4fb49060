/* Helpers shared by the libFuzzer targets: an invariant check that aborts
 * (so libFuzzer saves the input) and the FILE:LINE error-message rule. */
#ifndef HF_FUZZ_CHECK_H
#define HF_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the room under test: a broken one is a finding, so it
 * must crash the fuzzer (an ignored message would be lost in the run). */
#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s: ",	\
			__FILE__, __LINE__, #cond);			\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

/* The fuzzer's bytes, read in order by the targets that build structured
 * inputs from them; past the end every read gives 0. */
struct fuzz_src {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t fuzz_u8(struct fuzz_src *s)
{
	if (!s->left)
		return 0;
	s->left--;
	return *s->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_src *s)
{
	uint16_t hi = fuzz_u8(s);

	return (uint16_t)(hi << 8 | fuzz_u8(s));
}

static inline uint32_t fuzz_u32(struct fuzz_src *s)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 8 | fuzz_u8(s);
	return v;
}

/* Lines the parsers see in text: segments split at '\n', the last one only
 * when non-empty (a final newline does not open a line). */
static inline unsigned long fuzz_count_lines(const uint8_t *text, size_t len)
{
	unsigned long n = 0;
	size_t i;

	for (i = 0; i < len; i++)
		n += text[i] == '\n';
	return n + (len && text[len - 1] != '\n');
}

/* Every parse error reads "NAME:LINE: message" with LINE naming a line of
 * the input: operators and the unit tests rely on it. err was filled with
 * 0xff before the call, so an unterminated message is caught too. */
static inline void fuzz_check_error(const char *name, const char *err,
				    size_t errlen, const uint8_t *text, size_t len)
{
	size_t nl = strlen(name);
	unsigned long line = 0;
	const char *p;

	FUZZ_CHECK(memchr(err, '\0', errlen) != NULL, "message not terminated");
	FUZZ_CHECK(!strncmp(err, name, nl) && err[nl] == ':', "'%s'", err);
	p = err + nl + 1;
	FUZZ_CHECK(*p >= '1' && *p <= '9', "no line number: '%s'", err);
	for (; *p >= '0' && *p <= '9'; p++)
		line = line * 10 + (unsigned long)(*p - '0');
	FUZZ_CHECK(p[0] == ':' && p[1] == ' ' && p[2], "'%s'", err);
	FUZZ_CHECK(line <= fuzz_count_lines(text, len),
		   "line %lu of %lu lines: '%s'", line,
		   fuzz_count_lines(text, len), err);
}

#endif
