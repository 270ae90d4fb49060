/* net-snmp as an AgentX subagent: set-up, callbacks, connection state and
 * the agent loop's wait. Agent thread only (net-snmp takes no locks). */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <net-snmp/agent/agent_callbacks.h>
#include <net-snmp/library/large_fd_set.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "snmp/notify.h"
#include "snmp/regwatch.h"
#include "snmp/snmpagent.h"
#include "base/util.h"

struct snmpagent {
	char app[32];
	char socket[256];
	int connected;          /* AgentX session up (net-snmp callbacks) */
	int announced;          /* what we last logged about it: -1 none */
	int selected;           /* fds holds the last select()'s result */
	struct regwatch *rw;      /* whether the master accepted our IF-MIB */
	int64_t regwatch_next_ms; /* regwatch's next retry or log */
	struct notify *notify;    /* linkUp/linkDown */
	int count;
	netsnmp_large_fd_set fds;
};

/* net-snmp's log goes through ours (stderr with -f, else syslog), minus the
 * version banner it prints on every AgentX connect. clientarg: the agent,
 * or NULL while net-snmp shuts down. */
static int snmp_log_cb(int major, int minor, void *serverarg, void *clientarg)
{
	const struct snmp_log_message *m = serverarg;
	struct snmpagent *a = clientarg;
	char line[512];
	size_t n;

	(void)major; (void)minor;
	if (!m || !m->msg || strstr(m->msg, "NET-SNMP version"))
		return 0;
	n = hf_strlcpy(line, m->msg, sizeof line);
	if (n >= sizeof line)
		n = sizeof line - 1;
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	/* A refused registration is regwatch's to report, once, with the fix. */
	if (n)
		log_msg(regwatch_log_message(a ? a->rw : NULL, line) ? LOG_DEBUG : m->priority & 7,
			"net-snmp", "%s", line);
	return 0;
}

/* A hung master must not stall the agent thread for long: AgentX calls are
 * synchronous, so bound every session at 1 s with no retry. The subagent's
 * session ignores NETSNMP_DS_AGENT_AGENTX_TIMEOUT/RETRIES (those configure
 * the master side), hence this hook, as keepalived does. */
static int session_init_cb(int major, int minor, void *serverarg, void *clientarg)
{
	netsnmp_session *sess = serverarg;

	(void)major; (void)minor; (void)clientarg;
	if (sess) {
		sess->timeout = ONE_SEC;
		sess->retries = 0;
	}
	return 0;
}

static int index_cb(int major, int minor, void *serverarg, void *clientarg)
{
	struct snmpagent *a = clientarg;

	(void)major; (void)serverarg;
	a->connected = minor == SNMPD_CALLBACK_INDEX_START;
	return 0;
}

/* Logs connection changes once each, from the loop (not from inside
 * net-snmp's callbacks). */
static void announce(struct snmpagent *a)
{
	int state = (int)regwatch_state(a->rw, NULL);

	if (a->announced == state)
		return;
	if (state == SNMP_REG_REFUSED)
		;  /* regwatch_tick says it, once, with the fix */
	else if (state == SNMP_REG_OK)
		log_info("agentx", "registered with AgentX master at %s", a->socket);
	else if (a->announced < 0)
		log_warn("agentx", "AgentX master at %s not reachable; retrying every %d s",
			 a->socket, SNMPAGENT_PING_S);
	else
		log_warn("agentx", "lost the AgentX master at %s; retrying every %d s",
			 a->socket, SNMPAGENT_PING_S);
	a->announced = state;
}

struct snmpagent *snmpagent_start(const char *app, const char *socket, int retry_s,
				  struct ifmib_source *src, char *err, size_t errlen)
{
	struct snmpagent *a = calloc(1, sizeof *a);

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	hf_strlcpy(a->app, app, sizeof a->app);
	hf_strlcpy(a->socket, socket, sizeof a->socket);
	a->announced = -1;
	netsnmp_large_fd_set_init(&a->fds, FD_SETSIZE);
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
	netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET,
			      a->socket);
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID,
			       NETSNMP_DS_AGENT_NO_CONNECTION_WARNINGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
			       NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
			       NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	/* We serve numeric OIDs and print none: parse no MIB files. */
	setenv("MIBS", "", 1);
	setenv("MIBDIRS", "", 1);
	netsnmp_register_loghandler(NETSNMP_LOGHANDLER_CALLBACK, LOG_DEBUG);
	snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING,
			       snmp_log_cb, a);
	snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_SESSION_INIT,
			       session_init_cb, NULL);
	snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_START,
			       index_cb, a);
	snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_STOP,
			       index_cb, a);
	if (init_agent(a->app) != 0)
		goto fail;
	/* init_agent() resets it; 0 would mean never reconnecting. */
	netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID,
			   NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL, SNMPAGENT_PING_S);
	a->rw = regwatch_start(a->socket, retry_s);
	a->notify = notify_new();
	if (!a->rw || !a->notify || ifmib_register(src) < 0)
		goto fail;
	init_snmp(a->app);  /* first connection attempt happens here */
	a->regwatch_next_ms = regwatch_tick(a->rw, monotonic_ms());
	announce(a);
	return a;
fail:
	snprintf(err, errlen, "cannot register the IF-MIB handlers");
	snmpagent_stop(a);
	return NULL;
}

int snmpagent_wait(struct snmpagent *a, const int *fds, int *ready, size_t n,
		   struct timeval limit)
{
	struct timeval tv = limit;
	int numfds = 0, block = 0;
	size_t i;

	NETSNMP_LARGE_FD_ZERO(&a->fds);
	/* Re-read net-snmp's fds every time: a reconnected AgentX socket may
	 * have a new number, or the same number for a new socket. */
	snmp_select_info2(&numfds, &a->fds, &tv, &block);
	if (block || timercmp(&limit, &tv, <))
		tv = limit;
	for (i = 0; i < n; i++) {
		ready[i] = 0;
		if (fds[i] < 0)
			continue;
		NETSNMP_LARGE_FD_SET(fds[i], &a->fds);
		if (fds[i] >= numfds)
			numfds = fds[i] + 1;
	}
	a->count = netsnmp_large_fd_set_select(numfds, &a->fds, NULL, NULL, &tv);
	a->selected = 1;
	if (a->count < 0 && errno != EINTR)
		log_err("select", "%s", strerror(errno));
	for (i = 0; a->count > 0 && i < n; i++)
		ready[i] = fds[i] >= 0 && NETSNMP_LARGE_FD_ISSET(fds[i], &a->fds);
	return a->count;
}

void snmpagent_process(struct snmpagent *a)
{
	if (a->selected && a->count > 0)
		snmp_read2(&a->fds);
	else if (a->selected && a->count == 0)
		snmp_timeout();
	a->selected = 0;
	run_alarms();
	netsnmp_check_outstanding_agent_requests();
	a->regwatch_next_ms = regwatch_tick(a->rw, monotonic_ms());
	announce(a);
}

int snmpagent_registered(const struct snmpagent *a)
{
	return a && a->connected && regwatch_state(a->rw, NULL) == SNMP_REG_OK;
}

enum snmp_reg snmpagent_state(const struct snmpagent *a, time_t *since)
{
	if (!a || !a->rw) {
		if (since)
			*since = time(NULL);
		return SNMP_REG_DOWN;
	}
	return regwatch_state(a->rw, since);
}

void snmpagent_link_notify(struct snmpagent *a, struct iftable *t)
{
	notify_tick(a->notify, t, snmpagent_registered(a), monotonic_ms());
}

int64_t snmpagent_next_ms(const struct snmpagent *a)
{
	int64_t next, held;

	if (!a)
		return 0;
	next = a->regwatch_next_ms;
	held = notify_next_ms(a->notify);
	return held && (!next || held < next) ? held : next;
}

void snmpagent_stop(struct snmpagent *a)
{
	if (!a)
		return;
	/* net-snmp frees every callback's clientarg at shutdown: take back
	 * those that point at us first (the log's goes on without us). */
	snmp_unregister_callback(SNMP_CALLBACK_APPLICATION,
				 SNMPD_CALLBACK_INDEX_START, index_cb, a, 1);
	snmp_unregister_callback(SNMP_CALLBACK_APPLICATION,
				 SNMPD_CALLBACK_INDEX_STOP, index_cb, a, 1);
	snmp_unregister_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING,
				 snmp_log_cb, a, 1);
	snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING,
			       snmp_log_cb, NULL);
	regwatch_stop(a->rw);
	a->rw = NULL;
	notify_free(a->notify);
	a->notify = NULL;
	snmp_shutdown(a->app);
	shutdown_agent();
	netsnmp_large_fd_set_cleanup(&a->fds);
	free(a);
}
