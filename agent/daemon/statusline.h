/* The daemon's figures in one line, where an operator looks: STATUS= for
 * `systemctl status` (rate-limited, status.h), the log once a minute at -d,
 * and the log at once on SIGUSR1. Agent thread only. */
#ifndef HF_STATUSLINE_H
#define HF_STATUSLINE_H

#include <stdint.h>

#include "table/snapshot.h"
#include "sflow/sampler.h"
#include "snmp/snmpagent.h"
#include "daemon/status.h"

#define STATUSLINE_LOG_MS 60000  /* the line in the log at -d */

struct statusline {
	struct status_limiter limit;
	int64_t next_ms;          /* when to offer the text again */
	int64_t log_ms;           /* next -d log line */
};

/* Gathers the figures and sends STATUS= when the limiter allows; logs the
 * line at prio when prio >= 0 (SIGUSR1), and at debug once a minute. */
void statusline_report(struct statusline *sl, struct iftable *t, struct sampler *s,
		       const struct snmpagent *a, const char *agentx, int prio);

#endif
