#include "base/confwords.h"

#include <stdarg.h>
#include <stdio.h>

struct split {
	const char *line;
	size_t len, i;
	char *out;
	char *why;
	size_t whylen;
};

static int fail(struct split *sp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct split *sp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sp->why, sp->whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static int bad_byte(struct split *sp, unsigned char c)
{
	return fail(sp, "byte 0x%02x is not allowed outside comments (printable "
		    "ASCII only)", c);
}

/* A double-quoted string starting at line[i]. */
static int quoted_word(struct split *sp)
{
	size_t j = sp->i + 1;
	unsigned char c;

	for (; j < sp->len && sp->line[j] != '"'; j++) {
		c = sp->line[j];
		if (c == '\\') {
			if (++j == sp->len)
				break;
			c = sp->line[j];
			if (c != '"' && c != '\\')
				return fail(sp, "unknown escape '\\%c' in quoted text "
					    "(only \\\" and \\\\)", c);
		} else if (c < ' ' || c > '~') {
			return bad_byte(sp, c);
		}
		*sp->out++ = c;
	}
	if (j >= sp->len)
		return fail(sp, "unterminated quoted text (missing '\"')");
	j++;
	if (j < sp->len && sp->line[j] != ' ' && sp->line[j] != '\t' && sp->line[j] != '#')
		return fail(sp, "text right after a closing quote; put a space there");
	sp->i = j;
	return 0;
}

static int plain_word(struct split *sp)
{
	for (; sp->i < sp->len; sp->i++) {
		unsigned char c = sp->line[sp->i];

		if (c == ' ' || c == '\t' || c == '#')
			break;
		if (c == '"')
			return fail(sp, "unexpected '\"' inside a word");
		if (c < ' ' || c > '~')
			return bad_byte(sp, c);
		*sp->out++ = c;
	}
	return 0;
}

int confwords_split(const char *line, size_t len, char *buf, struct confword *w,
		    char *why, size_t whylen)
{
	struct split sp = { line, len, 0, buf, why, whylen };
	int n = 0;

	for (;;) {
		while (sp.i < len && (line[sp.i] == ' ' || line[sp.i] == '\t'))
			sp.i++;
		if (sp.i == len || line[sp.i] == '#')
			return n;
		if (n == CONFWORDS_MAX)
			return fail(&sp, "too many words on one line");
		w[n].s = sp.out;
		w[n].quoted = line[sp.i] == '"';
		if (w[n].quoted ? quoted_word(&sp) : plain_word(&sp))
			return -1;
		*sp.out++ = '\0';
		n++;
	}
}
