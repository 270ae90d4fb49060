/* The words of one hostflowd.conf line: blanks separate words, '#' starts a
 * comment, double quotes (with \" and \\ only) make one word of text with
 * blanks. Outside comments only printable ASCII is allowed (see
 * hostflowd.conf(5)). Pure. */
#ifndef HF_CONFWORDS_H
#define HF_CONFWORDS_H

#include <stddef.h>

#define CONFWORDS_MAX 16

struct confword {
	char *s;
	int quoted;    /* written in double quotes */
};

/* Splits line (len bytes, no newline) into at most CONFWORDS_MAX words,
 * their text written to buf (len + CONFWORDS_MAX bytes at least). Returns
 * how many, or -1 with the reason in why (without file and line). */
int confwords_split(const char *line, size_t len, char *buf, struct confword *w,
		    char *why, size_t whylen);

#endif
