/* What the unit suites share: running a suite, and skipping a test that
 * cannot run here. */
#ifndef HF_CHECK_H
#define HF_CHECK_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs the suite (forking per test as CK_FORK says, unless fork forces
 * it) and returns main's exit status. */
static inline int hf_run(Suite *su, enum fork_status fork)
{
	SRunner *sr = srunner_create(su);
	int failed;

	if (fork != CK_FORK_GETENV)
		srunner_set_fork_status(sr, fork);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* A test that cannot run here (not root, no namespace, a tool missing)
 * says SKIP on stderr and returns; under CI=true, where everything it needs
 * is installed, not running is a failure, not a pass. */
static inline int hf_ci(void)
{
	const char *ci = getenv("CI");

	return ci && strcmp(ci, "true") == 0;
}

/* The one way a unit test skips. Use as:
 *   if (cannot) { hf_skip(__func__, "needs root"); return; }
 * (check's START_TEST names the function TEST_fn: the suffix is dropped). */
static inline void hf_skip(const char *test, const char *why)
{
	size_t n = strlen(test);

	if (n > 3 && !strcmp(test + n - 3, "_fn"))
		n -= 3;
	fprintf(stderr, "SKIP %.*s: %s\n", (int)n, test, why);
	if (hf_ci())
		ck_abort_msg("%.*s: cannot run under CI=true: %s", (int)n, test, why);
}

#endif
