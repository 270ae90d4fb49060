/* The SNMP face's shell on the agent thread: net-snmp's set-up as an AgentX
 * subagent, its callbacks (log, session timeouts, connection state), the
 * connection announcements, the agent loop's wait: one select() over
 * net-snmp's fds and the caller's, and the link notifications it owns
 * (notify.c). The only room that calls net-snmp besides ifmib.c's handlers
 * and notify.c's send. Agent thread only. */
#ifndef HF_SNMPAGENT_H
#define HF_SNMPAGENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#include "snmp/ifmib.h"
#include "snmp/regwatch.h"

#define SNMPAGENT_PING_S 2   /* re-registers within ~2 s of an snmpd restart */

struct snmpagent;

/* Sets net-snmp up as subagent APP of the master at socket (copied: a change
 * needs a restart), registers IF-MIB served from src, and tries the first
 * connection; registrations the master refuses are tried again every
 * retry_s seconds (regwatch.h). NULL with a message in err on failure
 * (net-snmp shut down). */
struct snmpagent *snmpagent_start(const char *app, const char *socket, int retry_s,
				  struct ifmib_source *src, char *err, size_t errlen);
/* Waits in one select() for net-snmp's fds and fds[0..n-1], at most limit
 * (net-snmp's own timers may wake it earlier). ready[i] is set to 1 for each
 * fd of ours that is readable, else 0. Call snmpagent_process() after
 * serving them. Returns the select() result (-1 on EINTR too). */
int snmpagent_wait(struct snmpagent *a, const int *fds, int *ready, size_t n,
		   struct timeval limit);
/* net-snmp's part of one loop turn: reads what is readable (handlers run
 * here) or its timeouts, alarms (AgentX pings and reconnection), delegated
 * requests, and a log line when the connection changed. */
void snmpagent_process(struct snmpagent *a);
/* 1 while registered with the master and our IF-MIB accepted by it (not
 * shadowed by snmpd's own modules): SNMP answers for our table. */
int snmpagent_registered(const struct snmpagent *a);
/* The registration state and the wall time it last changed, for STATUS=. */
enum snmp_reg snmpagent_state(const struct snmpagent *a, time_t *since);
/* From every turn of the agent loop, after snmpagent_process(): sends the
 * linkUp/linkDown that a newer snapshot of t, the registration or the limit
 * against flapping make due (notify.h). Cheap when nothing changed. */
void snmpagent_link_notify(struct snmpagent *a, struct iftable *t);
/* Monotonic ms at which snmpagent_process() or snmpagent_link_notify() wants
 * to run again (the retry of a refused registration, a notification held by
 * the limit), 0 = nothing due. */
int64_t snmpagent_next_ms(const struct snmpagent *a);
/* Unregisters, shuts net-snmp down, frees a. NULL is a no-op. */
void snmpagent_stop(struct snmpagent *a);

#endif
