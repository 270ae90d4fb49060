/* Logging for every thread: syslog, or stderr with -f.
 * Thread-safe (one write per message); never calls net-snmp, so the sampler may use it.
 * log_init() is called once by main before any thread starts; after that the
 * settings are read-only. */
#ifndef HF_LOG_H
#define HF_LOG_H

#include <syslog.h>

void log_init(const char *ident, int to_stderr, int verbosity);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
