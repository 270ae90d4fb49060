/* linkUp/linkDown sent through the AgentX master; see notify.h. */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "snmp/ifmib_columns.h"
#include "snmp/notify.h"
#include "snmp/notify_core.h"

/* snmpTrapOID.0 (SNMPv2-MIB), and the notifications of RFC 2863 under
 * snmpTraps: linkDown 1.3.6.1.6.3.1.1.5.3, linkUp .4. */
static const oid snmp_trap_oid[] = { 1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0 };
static const oid link_down_oid[] = { 1, 3, 6, 1, 6, 3, 1, 1, 5, 3 };
static const oid link_up_oid[] = { 1, 3, 6, 1, 6, 3, 1, 1, 5, 4 };
/* ifEntry: ifTable's columns are ifEntry.COL.ifIndex. */
static const oid if_entry_oid[] = { 1, 3, 6, 1, 2, 1, 2, 2, 1 };
#define IF_ENTRY_LEN (sizeof if_entry_oid / sizeof if_entry_oid[0])

struct notify {
	struct notify_core *core;
	uint64_t generation;        /* of the last snapshot observed; 0: none yet */
	int registered;             /* as of the last notify_core_take */
	int oom_logged;
	struct notify_row *rows;    /* the rows that notify, rebuilt per snapshot */
	size_t cap;
	const struct if_snapshot *snap; /* during a tick: names for the log */
	int64_t now_ms;                 /* during a tick */
};

struct notify *notify_new(void)
{
	struct notify *n = calloc(1, sizeof *n);

	if (!n)
		return NULL;
	n->core = notify_core_new();
	if (!n->core) {
		free(n);
		return NULL;
	}
	return n;
}

void notify_free(struct notify *n)
{
	if (!n)
		return;
	notify_core_free(n->core);
	free(n->rows);
	free(n);
}

/* Appends column col of row ifindex to vars. */
static void add_column(netsnmp_variable_list **vars, unsigned col, uint32_t ifindex,
		       long value)
{
	oid name[IF_ENTRY_LEN + 2];

	memcpy(name, if_entry_oid, sizeof if_entry_oid);
	name[IF_ENTRY_LEN] = col;
	name[IF_ENTRY_LEN + 1] = ifindex;
	snmp_varlist_add_variable(vars, name, IF_ENTRY_LEN + 2, ASN_INTEGER,
				  (const u_char *)&value, sizeof value);
}

static void send_link(const struct notify_msg *m)
{
	netsnmp_variable_list *vars = NULL;
	const oid *trap = m->event == NOTIFY_LINK_UP ? link_up_oid : link_down_oid;

	/* send_v2trap puts sysUpTime.0 first; RFC 2863's objects follow
	 * snmpTrapOID.0 in their order. */
	snmp_varlist_add_variable(&vars, snmp_trap_oid, OID_LENGTH(snmp_trap_oid),
				  ASN_OBJECT_ID, (const u_char *)trap,
				  OID_LENGTH(link_up_oid) * sizeof(oid));
	add_column(&vars, IF_INDEX, m->ifindex, (long)m->ifindex);
	add_column(&vars, IF_ADMIN_STATUS, m->ifindex, m->admin);
	add_column(&vars, IF_OPER_STATUS, m->ifindex, m->oper);
	send_v2trap(vars);
	snmp_free_varbind(vars);
}

static void emit(void *ctx, const struct notify_msg *m)
{
	struct notify *n = ctx;
	const struct if_row *r = snap_find(n->snap, m->ifindex);
	const char *name = r ? r->name : "?";

	if (m->event == NOTIFY_LIMITED) {
		log_debug("notify", "%s (ifIndex %u) flaps: its next notification waits %lld ms "
			  "(at most %d at once, then one every %d s)", name, m->ifindex,
			  (long long)(m->until_ms - n->now_ms), NOTIFY_BURST,
			  NOTIFY_REFILL_MS / 1000);
		return;
	}
	send_link(m);
	log_debug("notify", "%s for %s (ifIndex %u): ifAdminStatus %u, ifOperStatus %u",
		  m->event == NOTIFY_LINK_UP ? "linkUp" : "linkDown", name, m->ifindex,
		  m->admin, m->oper);
}

/* The rows of s that notify, in ifindex order. -1: out of memory. */
static int observe(struct notify *n, const struct if_snapshot *s)
{
	size_t k = 0;

	if (s->n > n->cap) {
		struct notify_row *nr = realloc(n->rows, s->n * sizeof *nr);

		if (!nr)
			return -1;
		n->rows = nr;
		n->cap = s->n;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct if_row *r = &s->rows[i];

		if (r->link_traps != 1)
			continue;
		n->rows[k++] = (struct notify_row){ .ifindex = r->ifindex, .kindex = r->kindex,
						    .admin = r->admin, .oper = r->oper };
	}
	return notify_core_observe(n->core, n->rows, k);
}

void notify_tick(struct notify *n, struct iftable *t, int registered, int64_t now_ms)
{
	struct if_snapshot *s = iftable_acquire(t);
	int64_t next = notify_core_next_ms(n->core);
	int changed = s && s->generation != n->generation;

	if (changed) {
		if (observe(n, s) == 0) {
			n->generation = s->generation;
			n->oom_logged = 0;
		} else {
			/* Tried again next turn, with whatever snapshot is then current. */
			changed = 0;
			if (!n->oom_logged)
				log_err("notify", "out of memory comparing %zu rows", s->n);
			n->oom_logged = 1;
		}
	}
	/* Nothing else makes a notification due: a change is sent when it is
	 * seen, unless it waits for the registration or the limit. */
	if (changed || registered != n->registered || (next && now_ms >= next)) {
		n->registered = registered;
		n->snap = s;
		n->now_ms = now_ms;
		notify_core_take(n->core, registered, now_ms, emit, n);
		n->snap = NULL;
	}
	if (s)
		iftable_release(t, s);
}

int64_t notify_next_ms(const struct notify *n)
{
	return n ? notify_core_next_ms(n->core) : 0;
}
