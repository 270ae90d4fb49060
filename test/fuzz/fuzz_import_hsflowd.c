/* libFuzzer target: import_hsflowd() over arbitrary bytes.
 * Never crash, leak or hang; an error names the file and one of its lines
 * and is never our own (an internal error, a result config_parse refuses,
 * names no line);
 * a result is text hostflowd -t reads (config_parse takes it, no NUL, no
 * line over 4095 bytes) and the same for the same input. */
#include "config/config.h"
#include "config/import.h"
#include "fuzz_check.h"

#define NAME "fuzz.conf"

/* "NAME:LINE: " with LINE one of the input's (line 1 for an empty one). */
static void check_error(const char *err, const uint8_t *text, size_t len)
{
	unsigned long lines = fuzz_count_lines(text, len), line = 0;
	const char *p = err + strlen(NAME) + 1;

	FUZZ_CHECK(!strncmp(err, NAME ":", strlen(NAME) + 1), "'%s'", err);
	for (; *p >= '0' && *p <= '9'; p++)
		line = line * 10 + (unsigned long)(*p - '0');
	FUZZ_CHECK(line >= 1 && line <= (lines ? lines : 1) && p[0] == ':' && p[1] == ' ',
		   "line %lu of %lu: '%s'", line, lines, err);
}

static void check_result(const char *out)
{
	struct config *cfg = NULL;
	char err[512];
	const char *line = out;

	FUZZ_CHECK(config_parse("out.conf", out, strlen(out), &cfg, err, sizeof err) == 0,
		   "refused: %s", err);
	config_free(cfg);
	while (*line) {
		const char *nl = strchr(line, '\n');

		FUZZ_CHECK(nl, "last line without a newline");
		FUZZ_CHECK(nl - line <= 4095, "line of %zu bytes", (size_t)(nl - line));
		line = nl + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct import_io io = { NULL, NULL, NULL };
	char err[1024], *out = NULL, *again = NULL;

	memset(err, 0xff, sizeof err);
	if (import_hsflowd(NAME, (const char *)data, size, &io, &out, err, sizeof err) < 0) {
		FUZZ_CHECK(out == NULL, "*out written on error");
		FUZZ_CHECK(memchr(err, '\0', sizeof err), "message not terminated");
		check_error(err, data, size);
		return 0;
	}
	check_result(out);
	FUZZ_CHECK(import_hsflowd(NAME, (const char *)data, size, &io, &again, err,
				  sizeof err) == 0 && !strcmp(out, again), "not deterministic");
	free(again);
	free(out);
	return 0;
}
