/* Logging for every thread: syslog, or stderr with -f. Every message names
 * its subsystem, as lldpd's do: log_warn("sampler", "collector %s: ...", ...)
 * gives "sampler: collector ...: ...".
 * Thread-safe (one write per message); never calls net-snmp, so the sampler may use it.
 * log_init() is called once by main before any thread starts; after that the
 * settings are read-only. */
#ifndef HF_LOG_H
#define HF_LOG_H

#include <syslog.h>

void log_init(const char *ident, int to_stderr, int verbosity);
void log_msg(int prio, const char *sub, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(sub, ...)   log_msg(LOG_ERR, sub, __VA_ARGS__)
#define log_warn(sub, ...)  log_msg(LOG_WARNING, sub, __VA_ARGS__)
#define log_info(sub, ...)  log_msg(LOG_INFO, sub, __VA_ARGS__)
#define log_debug(sub, ...) log_msg(LOG_DEBUG, sub, __VA_ARGS__)

#endif
