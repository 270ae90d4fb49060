/* Whether the AgentX master accepted our IF-MIB registrations. Agent thread
 * only (net-snmp callbacks).
 *
 * When snmpd still runs its own ifTable/ifXTable modules, the master refuses
 * our registrations (AgentX duplicateRegistration, 263) and goes on
 * answering IF-MIB itself, while the session is up and net-snmp says nothing
 * but "registering pdu failed: 263!" per subtree. net-snmp 5.9.3 reports the
 * refusal only through its log, inside agentx_register(), which runs from
 * its SNMPD_CALLBACK_REGISTER_OID callback: so we take the log line (snmpagent.c's
 * net-snmp log callback hands it to regwatch_log_message()) and attribute it to
 * the OID in our own REGISTER_OID callback, which runs right after
 * net-snmp's (lowest priority). */
#ifndef HF_REGWATCH_H
#define HF_REGWATCH_H

#include <stdint.h>
#include <time.h>

/* The registration state, as the STATUS= line reports it. */
enum snmp_reg {
	SNMP_REG_DOWN,        /* no AgentX session */
	SNMP_REG_OK,          /* every IF-MIB subtree accepted by the master */
	SNMP_REG_REFUSED,     /* the master refused one or more (snmpd's own IF-MIB) */
};
/* Where the package puts the snmpd drop-in that disables snmpd's IF-MIB. */
#define REGWATCH_DROPIN_EXAMPLE "/usr/share/doc/hostflow/examples/snmpd.service.d-hostflow.conf"
#define REGWATCH_DROPIN "/etc/systemd/system/snmpd.service.d/hostflow.conf"

struct regwatch;

/* Registers the callbacks; call before init_snmp(). Refused registrations
 * are tried again every retry_s seconds (>= 1: hostflowd.conf's
 * agentx_retry). NULL: out of memory. Stop it before snmp_shutdown(). */
struct regwatch *regwatch_start(const char *agentx, int retry_s);
void regwatch_stop(struct regwatch *rw);

/* For snmpagent.c's net-snmp log callback: returns 1 when msg is a registration
 * refusal, which regwatch then accounts for (and logs once, as one clear
 * error, from regwatch_tick); the caller should not log it. */
int regwatch_log_message(struct regwatch *rw, const char *msg);

/* The registration state and the wall time it last changed. */
enum snmp_reg regwatch_state(struct regwatch *rw, time_t *since);

/* From the agent loop: logs state changes of the refusal, and retries
 * refused registrations every retry_s seconds (the AgentX Register of
 * those subtrees again; never an Unregister, see regwatch.c). Returns the
 * monotonic time it wants to run again. */
int64_t regwatch_tick(struct regwatch *rw, int64_t now_ms);

/* Pure, for tests: 1 when msg is net-snmp's registration-refused line. */
int regwatch_is_refusal(const char *msg);

#endif
