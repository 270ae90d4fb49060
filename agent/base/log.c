#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Written once by log_init() before threads start, read-only afterwards. */
static struct {
	int to_stderr;
	int verbosity;
} log_cfg = { 1, 0 };

void log_init(const char *ident, int to_stderr, int verbosity)
{
	log_cfg.to_stderr = to_stderr;
	log_cfg.verbosity = verbosity;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_msg(int prio, const char *sub, const char *fmt, ...)
{
	static const char *const names[] = { "emerg", "alert", "crit", "error",
					     "warning", "notice", "info", "debug" };
	char line[1024];
	va_list ap;
	int n;

	if (prio == LOG_DEBUG && log_cfg.verbosity < 1)
		return;
	n = snprintf(line, sizeof line, "%s: ", sub);
	if (n < 0 || (size_t)n >= sizeof line)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	if (!log_cfg.to_stderr) {
		syslog(prio, "%s", line);
		return;
	}
	/* One fprintf per message so lines of two threads never interleave. */
	fprintf(stderr, "hostflowd: %s: %s\n", names[prio & 7], line);
}
