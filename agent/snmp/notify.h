/* linkUp/linkDown through the AgentX master: the thin net-snmp shell of
 * notify_core.c. Owned by snmpagent; agent thread only.
 *
 * A subagent's notifications go to the master (net-snmp's send_v2trap sends
 * an AgentX Notify), which sends them to its own sinks (trap2sink,
 * informsink, trapsess in snmpd.conf). Each carries snmpTrapOID.0 = linkUp
 * or linkDown, then ifIndex.N, ifAdminStatus.N and ifOperStatus.N with the
 * values the snapshot serves (RFC 2863; N the served ifIndex), as net-snmp's
 * own IF-MIB sends them. */
#ifndef HF_NOTIFY_H
#define HF_NOTIFY_H

#include <stdint.h>

#include "table/snapshot.h"

struct notify;

/* NULL: out of memory. notify_free(NULL) is a no-op. */
struct notify *notify_new(void);
void notify_free(struct notify *n);

/* One turn of the agent loop: a snapshot newer than the last one looked at
 * is compared with it (the rows whose ifLinkUpDownTrapEnable is enabled(1)),
 * and what is due is sent while registered. Cheap when nothing changed:
 * one acquire and release. */
void notify_tick(struct notify *n, struct iftable *t, int registered, int64_t now_ms);

/* Monotonic ms at which notify_tick has a held notification to send (the
 * limit against flapping); 0: none. */
int64_t notify_next_ms(const struct notify *n);

#endif
