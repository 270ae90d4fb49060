/* What `systemctl status hostflowd` shows: the STATUS= text of the sd_notify
 * protocol, and when to send it. Pure: no I/O, no net-snmp, no threads; the
 * callers gather the figures (agent loop, sampler) and send the text.
 *
 * Rate: a change of state (registration, rows, sampled interfaces, rates,
 * collectors) is sent at most STATUS_STATE_GAP_MS after the previous text; a
 * change of counters only (datagrams sent, send errors) at most every
 * STATUS_COUNTER_GAP_MS. Changes in between are coalesced into one text. */
#ifndef HF_STATUS_H
#define HF_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "snmp/regwatch.h"   /* enum snmp_reg */

#define STATUS_TEXT_MAX       1024
#define STATUS_STATE_GAP_MS   1000
#define STATUS_COUNTER_GAP_MS 10000
/* How often the agent loop looks at the figures when nothing is pending:
 * the sampler's counters change without waking it. */
#define STATUS_POLL_MS        2000

struct status_info {
	const char *agentx;     /* the master's socket, as configured */
	enum snmp_reg reg;
	time_t since;           /* wall time reg last changed; 0 = unknown */
	size_t rows;            /* rows served (ifNumber) */
	const char *sampler;    /* the sampler's text (sflow/core/sflow_status.h); NULL = none */
};

/* The STATUS= value (without "STATUS="), e.g. "registered with
 * /run/agentx/master since 12:01:03; 7 rows; sampling 1 (veth0 1:10);
 * 198.18.0.2:6343 sent 120 err 0". A time of another day than now carries
 * its date. Truncated to len - 1 bytes. */
void status_format(const struct status_info *in, time_t now, char *buf, size_t len);

/* The text with counter values blanked ("sent 120 err 3" -> "sent # err #"):
 * two texts with the same key differ in counters only. */
void status_key(const char *text, char *key, size_t len);

struct status_limiter {
	char last[STATUS_TEXT_MAX];   /* last text sent */
	char last_key[STATUS_TEXT_MAX];
	int64_t last_ms;
	int sent_any;
};

/* Offers the current text at monotonic time now. Returns 1 when the caller
 * should send it now (it is then recorded as sent), else 0. *next_ms gets
 * the time to offer again (a pending change, or the next poll). */
int status_limiter_offer(struct status_limiter *l, const char *text, int64_t now,
			 int64_t *next_ms);

#endif
