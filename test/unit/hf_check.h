/* A unit test that cannot run here (not root, no namespace, a tool missing)
 * says SKIP on stderr and returns; under CI=true, where everything it needs
 * is installed, not running is a failure, not a pass. */
#ifndef HF_SKIP_H
#define HF_SKIP_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int hf_ci(void)
{
	const char *ci = getenv("CI");

	return ci && strcmp(ci, "true") == 0;
}

/* Use as: if (cannot) { hf_skip(__func__, "needs root"); return; } */
static inline void hf_skip(const char *test, const char *why)
{
	fprintf(stderr, "SKIP %s: %s\n", test, why);
	if (hf_ci())
		ck_abort_msg("%s: cannot run under CI=true: %s", test, why);
}

#endif
