/* The registration watch; see regwatch.h for why it reads net-snmp's log. */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <net-snmp/agent/agent_callbacks.h>

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "snmp/regwatch.h"
#include "base/util.h"

#define REFUSAL "registering pdu failed: "
#define MAX_TREES 8

struct rw_tree {
	oid name[MAX_OID_LEN];
	size_t len;
	int refused;
};

/* Owned by snmpagent; agent thread only. */
struct regwatch {
	char agentx[256];
	int connected;          /* between INDEX_START and INDEX_STOP */
	unsigned failures;      /* refusal lines since the last REGISTER_OID */
	long code;              /* the last refusal's AgentX error */
	struct rw_tree tree[MAX_TREES];
	size_t n;
	enum snmp_reg state;
	time_t since;
	int error_logged;       /* the refusal was logged since the last success */
	enum snmp_reg ticked; /* the state regwatch_tick saw last */
	int64_t retry_at;       /* 0: no retry scheduled */
	int retry_s;            /* seconds between retries (agentx_retry) */
};

int regwatch_is_refusal(const char *msg)
{
	return msg && !strncmp(msg, REFUSAL, sizeof REFUSAL - 1);
}

int regwatch_log_message(struct regwatch *rw, const char *msg)
{
	if (!regwatch_is_refusal(msg))
		return 0;
	if (rw) {
		rw->failures++;
		rw->code = strtol(msg + sizeof REFUSAL - 1, NULL, 10);
	}
	return 1;
}

/* Runs after net-snmp's own REGISTER_OID callback, which sent the AgentX
 * Register and logged a refusal if there was one. */
static int on_register(int major, int minor, void *serverarg, void *clientarg)
{
	const struct register_parameters *p = serverarg;
	struct regwatch *rw = clientarg;
	struct rw_tree *t = NULL;
	unsigned failures = rw->failures;

	(void)major; (void)minor;
	rw->failures = 0;
	/* Not connected: nothing went to a master (it is sent on reattach). */
	if (!rw->connected || !p || !p->name || p->namelen > MAX_OID_LEN)
		return 0;
	for (size_t i = 0; i < rw->n && !t; i++)
		if (rw->tree[i].len == p->namelen &&
		    !memcmp(rw->tree[i].name, p->name, p->namelen * sizeof(oid)))
			t = &rw->tree[i];
	if (!t && rw->n < MAX_TREES) {
		t = &rw->tree[rw->n++];
		memcpy(t->name, p->name, p->namelen * sizeof(oid));
		t->len = p->namelen;
	}
	if (t)
		t->refused = failures > 0;
	return 0;
}

/* INDEX_START comes before net-snmp re-sends our registrations on a new
 * session; INDEX_STOP when the session goes. Either way old results are void. */
static int on_session(int major, int minor, void *serverarg, void *clientarg)
{
	struct regwatch *rw = clientarg;

	(void)major; (void)serverarg;
	rw->connected = minor == SNMPD_CALLBACK_INDEX_START;
	rw->n = 0;
	rw->failures = 0;
	return 0;
}

struct regwatch *regwatch_start(const char *agentx, int retry_s)
{
	struct regwatch *rw = calloc(1, sizeof *rw);

	if (!rw)
		return NULL;
	hf_strlcpy(rw->agentx, agentx, sizeof rw->agentx);
	rw->state = SNMP_REG_DOWN;
	rw->since = time(NULL);
	rw->retry_s = retry_s > 0 ? retry_s : 1;  /* never a retry per loop turn */
	/* net-snmp frees a callback's client arg at shutdown: regwatch_stop()
	 * takes these back first. */
	netsnmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_REGISTER_OID,
				  on_register, rw, NETSNMP_CALLBACK_LOWEST_PRIORITY);
	snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_START,
			       on_session, rw);
	snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_STOP,
			       on_session, rw);
	return rw;
}

void regwatch_stop(struct regwatch *rw)
{
	if (!rw)
		return;
	snmp_unregister_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_REGISTER_OID,
				 on_register, rw, 1);
	snmp_unregister_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_START,
				 on_session, rw, 1);
	snmp_unregister_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_STOP,
				 on_session, rw, 1);
	free(rw);
}

static enum snmp_reg current(const struct regwatch *rw)
{
	if (!rw->connected)
		return SNMP_REG_DOWN;
	for (size_t i = 0; i < rw->n; i++)
		if (rw->tree[i].refused)
			return SNMP_REG_REFUSED;
	return SNMP_REG_OK;
}

enum snmp_reg regwatch_state(struct regwatch *rw, time_t *since)
{
	enum snmp_reg st = current(rw);

	if (st != rw->state) {
		rw->state = st;
		rw->since = time(NULL);
	}
	if (since)
		*since = rw->since;
	return st;
}

/* Sends the AgentX Register of each refused subtree again, and nothing
 * else: the handlers stay registered locally, so marking their subtrees
 * detached makes register_mib_reattach() send just those. No Unregister:
 * net-snmp's master (5.9.3) matches an Unregister by OID and priority, not
 * by session, so ours would remove snmpd's own ifTable registration and
 * take IF-MIB over behind the operator's back. */
static void retry(const struct regwatch *rw)
{
	size_t n = 0;

	for (size_t i = 0; i < rw->n; i++) {
		const struct rw_tree *t = &rw->tree[i];
		netsnmp_subtree *s;

		if (!t->refused)
			continue;
		s = netsnmp_subtree_find(t->name, t->len, NULL, "");
		if (s && s->namelen == t->len &&
		    !snmp_oid_compare(s->name_a, s->namelen, t->name, t->len)) {
			s->flags &= ~SUBTREE_ATTACHED;
			n++;
		}
	}
	log_debug("regwatch", "registering %zu refused IF-MIB subtree%s again", n,
		  n == 1 ? "" : "s");
	if (n)
		register_mib_reattach();
}

int64_t regwatch_tick(struct regwatch *rw, int64_t now_ms)
{
	enum snmp_reg st = regwatch_state(rw, NULL), was = rw->ticked;

	rw->ticked = st;
	if (st != SNMP_REG_REFUSED) {
		rw->retry_at = 0;
		if (st == SNMP_REG_OK && rw->error_logged) {
			log_info("agentx", "IF-MIB accepted by the AgentX master at %s: hostflowd "
				 "now serves ifTable and ifXTable", rw->agentx);
			rw->error_logged = 0;
		}
		return INT64_MAX;
	}
	if (rw->error_logged && was != SNMP_REG_REFUSED) {
		/* Back on a master that still refuses: short, the fix was said. */
		log_warn("agentx", "AgentX master at %s still refuses IF-MIB: snmpd serves its "
			 "own ifTable/ifXTable (see the error above)", rw->agentx);
	} else if (!rw->error_logged) {
		log_err("agentx", "IF-MIB refused by the AgentX master at %s (AgentX error %ld): "
			"snmpd serves its own ifTable/ifXTable, so SNMP does not answer "
			"what sFlow samples say. Run snmpd with -I -ifTable,ifXTable: "
			"install the drop-in " REGWATCH_DROPIN " (mkdir -p %s && cp "
			REGWATCH_DROPIN_EXAMPLE " " REGWATCH_DROPIN " && systemctl "
			"daemon-reload && systemctl restart snmpd). Retrying every %d s",
			rw->agentx, rw->code, "/etc/systemd/system/snmpd.service.d",
			rw->retry_s);
		rw->error_logged = 1;
	}
	if (!rw->retry_at) {
		rw->retry_at = now_ms + rw->retry_s * 1000LL;
	} else if (now_ms >= rw->retry_at) {
		retry(rw);
		rw->retry_at = now_ms + rw->retry_s * 1000LL;
	}
	return rw->retry_at;
}
