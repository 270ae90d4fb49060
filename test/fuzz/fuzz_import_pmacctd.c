/* libFuzzer target: import_pmacctd() over arbitrary bytes. The input is a
 * pmacctd.conf, optionally followed by "\n--map--\n" and the text every
 * interfaces map it names reads as (without it, every map is unreadable);
 * a filter containing "bad" is refused as libpcap would refuse one.
 * Never crash, leak or hang; an error names the config or the map and one
 * of its lines (or the config's line naming an unreadable map) and is never
 * our own (an internal error names no line); a result is text hostflowd -t reads, the same for the same
 * input. */
#include "config/config.h"
#include "config/import.h"
#include "fuzz_check.h"

#define NAME "fuzz.conf"
#define MARK "\n--map--\n"
#define ERRLEN 1024

struct maps {
	const uint8_t *text;   /* NULL: none */
	size_t len;
	char path[8192];       /* the last one asked for, as errors show it */
};

static int read_map(void *ctx, const char *path, char **text, size_t *len,
		    char *err, size_t errlen)
{
	struct maps *m = ctx;

	snprintf(m->path, sizeof m->path, "%s", path);
	for (char *c = m->path; *c; c++)   /* errors show other bytes as '?' */
		if (*c < ' ' || *c > '~')
			*c = '?';
	if (!m->text) {
		snprintf(err, errlen, "%s: cannot read: No such file or directory", path);
		return -1;
	}
	*text = malloc(m->len ? m->len : 1);
	FUZZ_CHECK(*text, "malloc");
	memcpy(*text, m->text, m->len);
	*len = m->len;
	return 0;
}

static int check_filter(void *ctx, const char *expr, char *err, size_t errlen)
{
	(void)ctx;
	if (strstr(expr, "bad")) {
		snprintf(err, errlen, "syntax error");
		return -1;
	}
	return 0;
}

/* err is "FILE:LINE: message" with LINE one of FILE's (1 for an empty one);
 * a FILE too long for the message fills it. */
static int names_line(const char *err, const char *file, const uint8_t *text, size_t len)
{
	unsigned long lines = fuzz_count_lines(text, len), line = 0;
	size_t fl = strlen(file), el = strlen(err);
	const char *p;

	if (fl && fl + 16 > ERRLEN)
		return !strncmp(err, file, el);
	if (!fl || strncmp(err, file, fl) || err[fl] != ':')
		return 0;
	for (p = err + fl + 1; *p >= '0' && *p <= '9'; p++)
		line = line * 10 + (unsigned long)(*p - '0');
	return line >= 1 && line <= (lines ? lines : 1) && p[0] == ':' && p[1] == ' ';
}

static void check_error(const char *err, const uint8_t *conf, size_t clen,
			const struct maps *m)
{
	FUZZ_CHECK(names_line(err, NAME, conf, clen) ||
		   (m->text && names_line(err, m->path, m->text, m->len)),
		   "'%s' (map '%s')", err, m->path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *mark = memmem(data, size, MARK, strlen(MARK));
	struct maps m = { NULL, 0, "" };
	const struct import_io io = { &m, read_map, check_filter };
	size_t clen = mark ? (size_t)(mark - data) : size;
	char err[ERRLEN], *out = NULL, *again = NULL;
	struct config *cfg = NULL;

	if (mark) {
		m.text = mark + strlen(MARK);
		m.len = size - clen - strlen(MARK);
	}
	memset(err, 0xff, sizeof err);
	if (import_pmacctd(NAME, (const char *)data, clen, &io, &out, err, sizeof err) < 0) {
		FUZZ_CHECK(out == NULL, "*out written on error");
		FUZZ_CHECK(memchr(err, '\0', sizeof err), "message not terminated");
		check_error(err, data, clen, &m);
		return 0;
	}
	FUZZ_CHECK(config_parse("out.conf", out, strlen(out), &cfg, err, sizeof err) == 0,
		   "refused: %s", err);
	config_free(cfg);
	for (const char *line = out; *line;) {
		const char *nl = strchr(line, '\n');

		FUZZ_CHECK(nl && nl - line <= 4095, "a line without newline or too long");
		line = nl + 1;
	}
	FUZZ_CHECK(import_pmacctd(NAME, (const char *)data, clen, &io, &again, err,
				  sizeof err) == 0 && !strcmp(out, again), "not deterministic");
	free(again);
	free(out);
	return 0;
}
