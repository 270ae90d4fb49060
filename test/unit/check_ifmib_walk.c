/* The golden chain (lldpd's tests/check_snmp.c is the model): IF-MIB over a
 * fixed 3-row snapshot, walked through net-snmp's own agent, and every OID
 * and value compared in order with a list written out by hand below.
 *
 * No snmpd and no root: the test is an in-process net-snmp agent (the role a
 * master plays) holding the real registrations of ifmib_register() with a
 * fake table source, queried through net-snmp's callback transport, so a
 * GETNEXT and a GETBULK take the path they take in the daemon: the agent's
 * dispatch over the registered subtrees, the bulk_to_next helper, our
 * handler called with batches of varbinds. Edges: an index of 2^32 - 1 and
 * 2^32 (OIDs carry any unsigned long; no row may alias), a column past the
 * last, an empty table and no table at all. */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snmp/ifmib.h"
#include "snmp/ifmib_columns.h"
#include "hf_check.h"

/* net-snmp's internal queries (agent/mibgroup/utilities/iquery.c, built
 * into libnetsnmpagent, its header not installed): a session on the
 * callback transport to this process's own agent. */
netsnmp_session *netsnmp_iquery_community_session(char *community, int version);

#define IFNUMBER 1, 3, 6, 1, 2, 1, 2, 1
#define IFENTRY  1, 3, 6, 1, 2, 1, 2, 2, 1
#define IFXENTRY 1, 3, 6, 1, 2, 1, 31, 1, 1, 1
#define IFLASTCHANGE 1, 3, 6, 1, 2, 1, 31, 1, 5
#define MAXLEN 16
#define WALK_MAX 400   /* more answers than the table holds: a loop, fail */

/* The largest ifIndex served (ifmap.h IFMAP_MAX_INDEX). */
#define BIG 1073741823u

/* ---- the fixed table --------------------------------------------------- */

/* The rows' counters, apart from the rows as the table keeps them (by
 * kernel ifindex), handed out by the fake source's counters(). */
static struct if_counters golden_ctr[3];

static struct if_snapshot *golden_snapshot(void)
{
	struct if_snapshot *s = calloc(1, sizeof *s + 3 * sizeof s->rows[0]);
	struct if_row *r;

	ck_assert_ptr_nonnull(s);
	memset(golden_ctr, 0, sizeof golden_ctr);
	s->n = 3;
	s->generation = 7;
	/* Every time is before the agent started: 0 ticks (to_ticks is
	 * tested apart, check_ifmib.c). */
	r = &s->rows[0];
	r->ifindex = 1, r->kindex = 1;
	strcpy(r->name, "lo");
	r->arphrd = 772, r->iftype = 24, r->mtu = 65536;
	r->admin = 1, r->oper = 1, r->promisc = 2;
	golden_ctr[0].in_octets = 1000, golden_ctr[0].in_ucast = 10;
	golden_ctr[0].out_octets = 1000, golden_ctr[0].out_ucast = 10;

	r = &s->rows[1];
	r->ifindex = 2, r->kindex = 2;
	strcpy(r->name, "eth0");
	strcpy(r->alias, "Transit: AS64500");
	r->arphrd = 1, r->iftype = 6, r->mtu = 9001;
	memcpy(r->phys, "\x02\x00\x5e\x00\x53\x02", 6);
	r->physlen = 6;
	r->admin = 1, r->oper = 1, r->promisc = 1;
	r->speed_bps = 25000000000ull;             /* ifSpeed saturates */
	golden_ctr[1].in_octets = 0x123456789ull;         /* Counter32 wraps, Counter64 not */
	golden_ctr[1].in_ucast = 0x200000005ull;
	golden_ctr[1].in_mcast = 7;
	golden_ctr[1].in_bcast = 0xffffffffull;           /* ifInNUcastPkts wraps: 6 */
	golden_ctr[1].in_discards = 3, golden_ctr[1].in_errors = 4, golden_ctr[1].in_unknown = 5;
	golden_ctr[1].out_octets = 0x987654321ull;
	golden_ctr[1].out_ucast = 100, golden_ctr[1].out_mcast = 11, golden_ctr[1].out_bcast = 12;
	golden_ctr[1].out_discards = 13, golden_ctr[1].out_errors = 14;

	r = &s->rows[2];
	r->ifindex = BIG, r->kindex = 9;
	strcpy(r->name, "tailscale0");
	strcpy(r->alias, "tailnet");
	r->arphrd = 65534, r->iftype = 131, r->mtu = 1280;
	r->admin = 1, r->oper = 7, r->promisc = 2;
	r->speed_bps = 100000000;
	golden_ctr[2].in_octets = 5000, golden_ctr[2].in_ucast = 50;
	golden_ctr[2].out_octets = 6000, golden_ctr[2].out_ucast = 60;
	return s;
}

/* ---- the golden list: every OID the table serves, in order ------------- */

struct gold {
	oid name[MAXLEN];
	size_t len;
	u_char type;
	uint64_t v;               /* integers, gauges, counters, ticks */
	const char *s;            /* octet strings */
	size_t slen;
};

#define SCALAR(root, t, val)   { { root, 0 }, 9, t, val, NULL, 0 }
#define LASTCHANGE(t, val)     { { IFLASTCHANGE, 0 }, 10, t, val, NULL, 0 }
#define T(col, ix, t, val)     { { IFENTRY, col, ix }, 11, t, val, NULL, 0 }
#define TS(col, ix, str)       { { IFENTRY, col, ix }, 11, ASN_OCTET_STR, 0, str, sizeof str - 1 }
#define X(col, ix, t, val)     { { IFXENTRY, col, ix }, 12, t, val, NULL, 0 }
#define XS(col, ix, str)       { { IFXENTRY, col, ix }, 12, ASN_OCTET_STR, 0, str, sizeof str - 1 }
/* A column's three rows (ifIndex 1, 2, BIG), in the walk's order. */
#define T3(col, t, a, b, c)    T(col, 1, t, a), T(col, 2, t, b), T(col, BIG, t, c)
#define TS3(col, a, b, c)      TS(col, 1, a), TS(col, 2, b), TS(col, BIG, c)
#define X3(col, t, a, b, c)    X(col, 1, t, a), X(col, 2, t, b), X(col, BIG, t, c)
#define XS3(col, a, b, c)      XS(col, 1, a), XS(col, 2, b), XS(col, BIG, c)

static const struct gold golden[] = {
	SCALAR(IFNUMBER, ASN_INTEGER, 3),
	T3(IF_INDEX, ASN_INTEGER, 1, 2, BIG),
	TS3(IF_DESCR, "lo", "eth0", "tailscale0"),
	T3(IF_TYPE, ASN_INTEGER, 24, 6, 131),
	T3(IF_MTU, ASN_INTEGER, 65536, 9001, 1280),
	T3(IF_SPEED, ASN_GAUGE, 0, 4294967295u, 100000000),
	TS3(IF_PHYS_ADDRESS, "", "\x02\x00\x5e\x00\x53\x02", ""),
	T3(IF_ADMIN_STATUS, ASN_INTEGER, 1, 1, 1),
	T3(IF_OPER_STATUS, ASN_INTEGER, 1, 1, 7),
	T3(IF_LAST_CHANGE, ASN_TIMETICKS, 0, 0, 0),
	T3(IF_IN_OCTETS, ASN_COUNTER, 1000, 0x23456789, 5000),
	T3(IF_IN_UCAST_PKTS, ASN_COUNTER, 10, 5, 50),
	T3(IF_IN_NUCAST_PKTS, ASN_COUNTER, 0, 6, 0),
	T3(IF_IN_DISCARDS, ASN_COUNTER, 0, 3, 0),
	T3(IF_IN_ERRORS, ASN_COUNTER, 0, 4, 0),
	T3(IF_IN_UNKNOWN_PROTOS, ASN_COUNTER, 0, 5, 0),
	T3(IF_OUT_OCTETS, ASN_COUNTER, 1000, 0x87654321, 6000),
	T3(IF_OUT_UCAST_PKTS, ASN_COUNTER, 10, 100, 60),
	T3(IF_OUT_NUCAST_PKTS, ASN_COUNTER, 0, 23, 0),
	T3(IF_OUT_DISCARDS, ASN_COUNTER, 0, 13, 0),
	T3(IF_OUT_ERRORS, ASN_COUNTER, 0, 14, 0),
	T3(IF_OUT_QLEN, ASN_GAUGE, 0, 0, 0),
	T3(IF_SPECIFIC, ASN_OBJECT_ID, 0, 0, 0),
	XS3(IF_NAME, "lo", "eth0", "tailscale0"),
	X3(IF_IN_MULTICAST_PKTS, ASN_COUNTER, 0, 7, 0),
	X3(IF_IN_BROADCAST_PKTS, ASN_COUNTER, 0, 0xffffffff, 0),
	X3(IF_OUT_MULTICAST_PKTS, ASN_COUNTER, 0, 11, 0),
	X3(IF_OUT_BROADCAST_PKTS, ASN_COUNTER, 0, 12, 0),
	X3(IF_HC_IN_OCTETS, ASN_COUNTER64, 1000, 0x123456789ull, 5000),
	X3(IF_HC_IN_UCAST_PKTS, ASN_COUNTER64, 10, 0x200000005ull, 50),
	X3(IF_HC_IN_MULTICAST_PKTS, ASN_COUNTER64, 0, 7, 0),
	X3(IF_HC_IN_BROADCAST_PKTS, ASN_COUNTER64, 0, 0xffffffffull, 0),
	X3(IF_HC_OUT_OCTETS, ASN_COUNTER64, 1000, 0x987654321ull, 6000),
	X3(IF_HC_OUT_UCAST_PKTS, ASN_COUNTER64, 10, 100, 60),
	X3(IF_HC_OUT_MULTICAST_PKTS, ASN_COUNTER64, 0, 11, 0),
	X3(IF_HC_OUT_BROADCAST_PKTS, ASN_COUNTER64, 0, 12, 0),
	X3(IF_LINK_UP_DOWN_TRAP_ENABLE, ASN_INTEGER, 2, 2, 2),
	X3(IF_HIGH_SPEED, ASN_GAUGE, 0, 25000, 100),
	X3(IF_PROMISCUOUS_MODE, ASN_INTEGER, 2, 1, 2),
	X3(IF_CONNECTOR_PRESENT, ASN_INTEGER, 2, 2, 2),
	XS3(IF_ALIAS, "", "Transit: AS64500", "tailnet"),
	X3(IF_COUNTER_DISCONTINUITY_TIME, ASN_TIMETICKS, 0, 0, 0),
	LASTCHANGE(ASN_TIMETICKS, 0),
};
#define NGOLD (sizeof golden / sizeof golden[0])

/* With no row at all: ifNumber.0 = 0 and ifTableLastChange.0 = 0, nothing else. */
static const struct gold golden_empty[] = {
	SCALAR(IFNUMBER, ASN_INTEGER, 0),
	LASTCHANGE(ASN_TIMETICKS, 0),
};

/* ---- the table source and the agent ------------------------------------ */

static struct {
	struct if_snapshot *snap;
	int acquired;
	int released;
	int counters;             /* rows whose counters were asked for */
} src_state;

static struct if_snapshot *fake_acquire(void *ctx)
{
	(void)ctx;
	src_state.acquired++;
	return src_state.snap;
}

static void fake_release(void *ctx, struct if_snapshot *s)
{
	(void)ctx;
	ck_assert_ptr_eq(s, src_state.snap);
	src_state.released++;
}

static int fake_counters(void *ctx, const struct if_row *r, bool walking,
			 struct if_counters *out)
{
	(void)ctx;
	(void)walking;
	src_state.counters++;
	ck_assert_ptr_nonnull(src_state.snap);
	ck_assert(r >= src_state.snap->rows && r < src_state.snap->rows + src_state.snap->n);
	*out = golden_ctr[r - src_state.snap->rows];
	return 0;
}

static const struct ifmib_source fake_src = { fake_acquire, fake_release, fake_counters, NULL };
static netsnmp_session *sess;

/* net-snmp as a master agent of this process, no port, no config files; our
 * four subtrees registered exactly as the daemon registers them. */
static void agent_start(void)
{
	netsnmp_log_handler *quiet;

	setenv("MIBS", "", 1);
	setenv("MIBDIRS", "", 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	/* "no access control configured" at start: true, and nobody asks but
	 * us. Quiet until then; on stderr after. */
	quiet = netsnmp_register_loghandler(NETSNMP_LOGHANDLER_NONE, LOG_DEBUG);
	if (init_agent("check_ifmib_walk") != 0 || ifmib_register(&fake_src) != 0) {
		fprintf(stderr, "check_ifmib_walk: cannot start net-snmp's agent\n");
		exit(EXIT_FAILURE);
	}
	init_snmp("check_ifmib_walk");
	if (quiet)
		netsnmp_remove_loghandler(quiet);
	snmp_enable_stderrlog();
	sess = netsnmp_iquery_community_session("public", SNMP_VERSION_2c);
	if (!sess) {
		fprintf(stderr, "check_ifmib_walk: no callback session\n");
		exit(EXIT_FAILURE);
	}
}

/* Each test starts from its own table and counts. */
static void use_table(struct if_snapshot *s)
{
	memset(&src_state, 0, sizeof src_state);
	src_state.snap = s;
}

static void end_table(void)
{
	/* Every snapshot the handlers took, they gave back. */
	ck_assert_int_eq(src_state.released, src_state.acquired);
	free(src_state.snap);
	src_state.snap = NULL;
}

static const char *oid_str(const oid *o, size_t n)
{
	static char buf[4][256];
	static int k;
	char *b = buf[k = (k + 1) % 4];
	size_t pos = 0;

	b[0] = '\0';
	for (size_t i = 0; i < n && pos < sizeof buf[0]; i++)
		pos += (size_t)snprintf(b + pos, sizeof buf[0] - pos, ".%lu", (unsigned long)o[i]);
	return b;
}

/* One request of cmd for the n names; for GETBULK, nonrep and maxrep. The
 * response, which the caller frees; its error status must be 0. */
static netsnmp_pdu *ask(int cmd, const oid *const *names, const size_t *lens, size_t n,
			long nonrep, long maxrep)
{
	netsnmp_pdu *pdu = snmp_pdu_create(cmd), *resp = NULL;
	int st;

	ck_assert_ptr_nonnull(pdu);
	/* The callback session has no community map; skip the view check. */
	pdu->flags |= UCD_MSG_FLAG_ALWAYS_IN_VIEW;
	if (cmd == SNMP_MSG_GETBULK) {
		pdu->non_repeaters = nonrep;
		pdu->max_repetitions = maxrep;
	}
	for (size_t i = 0; i < n; i++)
		snmp_add_null_var(pdu, names[i], lens[i]);
	st = snmp_synch_response(sess, pdu, &resp);
	ck_assert_msg(st == STAT_SUCCESS && resp, "request %d for %s: status %d", cmd,
		      oid_str(names[0], lens[0]), st);
	ck_assert_msg(resp->errstat == SNMP_ERR_NOERROR, "request %d for %s: error %ld index %ld",
		      cmd, oid_str(names[0], lens[0]), resp->errstat, resp->errindex);
	return resp;
}

static netsnmp_pdu *ask1(int cmd, const oid *name, size_t len)
{
	return ask(cmd, &name, &len, 1, 0, 0);
}

/* vb must be exactly g: OID, type and value. */
static void expect(const netsnmp_variable_list *vb, const struct gold *g, const char *what)
{
	const char *got = oid_str(vb->name, vb->name_length);

	ck_assert_msg(snmp_oid_compare(vb->name, vb->name_length, g->name, g->len) == 0,
		      "%s: got %s, want %s", what, got, oid_str(g->name, g->len));
	ck_assert_msg(vb->type == g->type, "%s %s: type 0x%x, want 0x%x", what, got,
		      vb->type, g->type);
	switch (g->type) {
	case ASN_INTEGER:
		ck_assert_msg(vb->val_len == sizeof(long) && *vb->val.integer == (long)g->v,
			      "%s %s: %ld, want %lld", what, got, *vb->val.integer,
			      (long long)g->v);
		break;
	case ASN_GAUGE:
	case ASN_COUNTER:
	case ASN_TIMETICKS:
		ck_assert_msg((uint64_t)(u_long)*vb->val.integer == g->v, "%s %s: %lu, want %llu",
			      what, got, (u_long)*vb->val.integer, (unsigned long long)g->v);
		break;
	case ASN_COUNTER64:
		ck_assert_msg(((uint64_t)vb->val.counter64->high << 32 |
			       vb->val.counter64->low) == g->v,
			      "%s %s: %lu:%lu, want %llu", what, got, vb->val.counter64->high,
			      vb->val.counter64->low, (unsigned long long)g->v);
		break;
	case ASN_OCTET_STR:
		ck_assert_msg(vb->val_len == g->slen && !memcmp(vb->val.string, g->s, g->slen),
			      "%s %s: %zu bytes '%.*s', want '%s'", what, got, vb->val_len,
			      (int)vb->val_len, (const char *)vb->val.string, g->s);
		break;
	case ASN_OBJECT_ID:   /* ifSpecific: zeroDotZero */
		ck_assert_msg(vb->val_len == 2 * sizeof(oid) && vb->val.objid[0] == 0 &&
			      vb->val.objid[1] == 0, "%s %s: not 0.0", what, got);
		break;
	default:
		ck_abort_msg("%s: golden type 0x%x", what, g->type);
	}
}

static void expect_end(const netsnmp_variable_list *vb, const char *what)
{
	ck_assert_msg(vb->type == SNMP_ENDOFMIBVIEW, "%s: got %s type 0x%x, want endOfMibView",
		      what, oid_str(vb->name, vb->name_length), vb->type);
}

/* The first golden entry after name (n when none). */
static size_t gold_after(const struct gold *g, size_t n, const oid *name, size_t len)
{
	size_t i = 0;

	while (i < n && snmp_oid_compare(g[i].name, g[i].len, name, len) <= 0)
		i++;
	return i;
}

/* GETNEXT from start until endOfMibView: the answers are g[first..n), in
 * order, then the end. */
static void walk_getnext(const struct gold *g, size_t n, const oid *start, size_t slen)
{
	oid cur[MAX_OID_LEN];
	size_t clen = slen, i = gold_after(g, n, start, slen), steps;
	char what[300];

	memcpy(cur, start, slen * sizeof(oid));
	for (steps = 0; steps < WALK_MAX; steps++) {
		netsnmp_pdu *r = ask1(SNMP_MSG_GETNEXT, cur, clen);
		netsnmp_variable_list *vb = r->variables;

		snprintf(what, sizeof what, "GETNEXT %s (walk from %s, step %zu)",
			 oid_str(cur, clen), oid_str(start, slen), steps);
		if (i == n) {
			expect_end(vb, what);
			snmp_free_pdu(r);
			return;
		}
		expect(vb, &g[i++], what);
		memcpy(cur, vb->name, vb->name_length * sizeof(oid));
		clen = vb->name_length;
		snmp_free_pdu(r);
	}
	ck_abort_msg("walk from %s does not end", oid_str(start, slen));
}

/* GETBULK with one varbind and maxrep repetitions from start, each request
 * going on from the last answer, until endOfMibView: the answers are
 * g[first..n) in order. */
static void walk_getbulk(const struct gold *g, size_t n, const oid *start, size_t slen,
			 long maxrep)
{
	oid cur[MAX_OID_LEN];
	size_t clen = slen, i = gold_after(g, n, start, slen), steps;
	char what[300];

	memcpy(cur, start, slen * sizeof(oid));
	for (steps = 0; steps < WALK_MAX; steps++) {
		const oid *names = cur;
		netsnmp_pdu *r = ask(SNMP_MSG_GETBULK, &names, &clen, 1, 0, maxrep);
		long got = 0;

		for (netsnmp_variable_list *vb = r->variables; vb; vb = vb->next_variable, got++) {
			snprintf(what, sizeof what, "GETBULK %s x %ld, answer %ld",
				 oid_str(cur, clen), maxrep, got);
			if (i == n) {
				expect_end(vb, what);
				snmp_free_pdu(r);
				return;
			}
			expect(vb, &g[i++], what);
			if (!vb->next_variable) {
				memcpy(cur, vb->name, vb->name_length * sizeof(oid));
				clen = vb->name_length;
			}
		}
		ck_assert_msg(got > 0 && got <= maxrep, "GETBULK x %ld: %ld answers", maxrep, got);
		snmp_free_pdu(r);
	}
	ck_abort_msg("bulk walk from %s does not end", oid_str(start, slen));
}

/* The golden index of (entry, col, ifindex). */
static size_t at(int xtable, unsigned col, unsigned long ix)
{
	oid o[MAXLEN] = { IFXENTRY };
	size_t n;

	if (xtable) {
		o[10] = col, o[11] = ix, n = 12;
	} else {
		const oid t[] = { IFENTRY };

		memcpy(o, t, sizeof t);
		o[9] = col, o[10] = ix, n = 11;
	}
	for (size_t i = 0; i < NGOLD; i++)
		if (!snmp_oid_compare(golden[i].name, golden[i].len, o, n))
			return i;
	ck_abort_msg("no golden entry %s", oid_str(o, n));
	return 0;
}

/* ---- the chain ---------------------------------------------------------- */

static const oid r_mib2[] = { 1, 3, 6, 1, 2, 1 };          /* before all of it */
static const oid r_ifnumber[] = { IFNUMBER };
static const oid r_iftable[] = { 1, 3, 6, 1, 2, 1, 2, 2 };
static const oid r_ifxtable[] = { 1, 3, 6, 1, 2, 1, 31, 1, 1 };
static const oid r_lastchange[] = { IFLASTCHANGE };

static const struct {
	const oid *o;
	size_t n;
} roots[] = {
	{ r_mib2, 6 }, { r_ifnumber, 8 }, { r_iftable, 8 }, { r_ifxtable, 9 },
	{ r_lastchange, 9 },
};
#define NROOTS (sizeof roots / sizeof roots[0])

START_TEST(golden_is_in_order)
{
	/* The list itself: strictly increasing, so that "in order" means it. */
	for (size_t i = 1; i < NGOLD; i++)
		ck_assert_msg(snmp_oid_compare(golden[i - 1].name, golden[i - 1].len,
					       golden[i].name, golden[i].len) < 0,
			      "golden[%zu] %s out of order", i, oid_str(golden[i].name, golden[i].len));
	ck_assert_uint_eq(NGOLD, 2 + 3 * (IFTABLE_COL_MAX + IFXTABLE_COL_MAX));
}
END_TEST

START_TEST(getnext_from_each_root)
{
	use_table(golden_snapshot());
	for (size_t k = 0; k < NROOTS; k++)
		walk_getnext(golden, NGOLD, roots[k].o, roots[k].n);
	/* The counter columns asked the source for fresh counters. */
	ck_assert_int_gt(src_state.counters, 0);
	end_table();
}
END_TEST

/* lldpd's check: GETNEXT from every entry is the next one, GET of every
 * entry is itself. */
START_TEST(getnext_and_get_of_every_entry)
{
	use_table(golden_snapshot());
	for (size_t i = 0; i < NGOLD; i++) {
		netsnmp_pdu *r = ask1(SNMP_MSG_GET, golden[i].name, golden[i].len);
		char what[300];

		snprintf(what, sizeof what, "GET %s", oid_str(golden[i].name, golden[i].len));
		expect(r->variables, &golden[i], what);
		snmp_free_pdu(r);
		r = ask1(SNMP_MSG_GETNEXT, golden[i].name, golden[i].len);
		snprintf(what, sizeof what, "GETNEXT %s", oid_str(golden[i].name, golden[i].len));
		if (i + 1 < NGOLD)
			expect(r->variables, &golden[i + 1], what);
		else
			expect_end(r->variables, what);
		snmp_free_pdu(r);
	}
	end_table();
}
END_TEST

START_TEST(getbulk_walks)
{
	static const long reps[] = { 1, 2, 3, 7, 10, 22, 25, 64, 200 };

	use_table(golden_snapshot());
	for (size_t m = 0; m < sizeof reps / sizeof reps[0]; m++)
		for (size_t k = 0; k < NROOTS; k++)
			walk_getbulk(golden, NGOLD, roots[k].o, roots[k].n, reps[m]);
	end_table();
}
END_TEST

/* A table walker's request (snmpbulkwalk of several columns, Akvorado's
 * poller): ifNumber as a non-repeater, then ifDescr, ifHCInOctets, ifAlias
 * repeated 4 times. Repetition r of each column is the r-th entry after it
 * in the golden list, across the end of its column and subtree. */
START_TEST(getbulk_columns)
{
	const oid nonrep[] = { IFNUMBER }, descr[] = { IFENTRY, IF_DESCR };
	const oid hcin[] = { IFXENTRY, IF_HC_IN_OCTETS }, alias[] = { IFXENTRY, IF_ALIAS };
	const oid *names[] = { nonrep, descr, hcin, alias };
	const size_t lens[] = { 8, 10, 11, 11 };
	netsnmp_pdu *r;
	netsnmp_variable_list *vb;
	size_t next[3];
	char what[300];

	use_table(golden_snapshot());
	r = ask(SNMP_MSG_GETBULK, names, lens, 4, 1, 4);
	vb = r->variables;
	expect(vb, &golden[0], "non-repeater ifNumber");
	for (int c = 0; c < 3; c++)
		next[c] = gold_after(golden, NGOLD, names[c + 1], lens[c + 1]);
	vb = vb->next_variable;
	for (int rep = 0; rep < 4; rep++) {
		for (int c = 0; c < 3; c++, vb = vb->next_variable) {
			ck_assert_ptr_nonnull(vb);
			snprintf(what, sizeof what, "column %d repetition %d", c, rep);
			if (next[c] < NGOLD)
				expect(vb, &golden[next[c]++], what);
			else
				expect_end(vb, what);
		}
	}
	ck_assert_ptr_null(vb);
	snmp_free_pdu(r);
	end_table();
}
END_TEST

/* Akvorado's GET per sample (ifDescr, ifName, ifAlias, ifHighSpeed of one
 * row) reads no counter, so it never asks the table for fresh ones. */
START_TEST(collector_get_reads_no_counters)
{
	const oid a[] = { IFENTRY, IF_DESCR, 2 }, b[] = { IFXENTRY, IF_NAME, 2 };
	const oid c[] = { IFXENTRY, IF_ALIAS, 2 }, d[] = { IFXENTRY, IF_HIGH_SPEED, 2 };
	const oid *names[] = { a, b, c, d };
	const size_t lens[] = { 11, 12, 12, 12 };
	netsnmp_pdu *r;

	use_table(golden_snapshot());
	r = ask(SNMP_MSG_GET, names, lens, 4, 0, 0);
	expect(r->variables, &golden[at(0, IF_DESCR, 2)], "ifDescr.2");
	expect(r->variables->next_variable, &golden[at(1, IF_NAME, 2)], "ifName.2");
	expect(r->variables->next_variable->next_variable, &golden[at(1, IF_ALIAS, 2)],
	       "ifAlias.2");
	expect(r->variables->next_variable->next_variable->next_variable,
	       &golden[at(1, IF_HIGH_SPEED, 2)], "ifHighSpeed.2");
	/* Akvorado's GET reads no counter. */
	ck_assert_int_eq(src_state.counters, 0);
	ck_assert_int_gt(src_state.acquired, 0);
	snmp_free_pdu(r);
	end_table();
}
END_TEST

/* ---- the edges ----------------------------------------------------------- */

static void expect_exception(const oid *name, size_t len, u_char type)
{
	netsnmp_pdu *r = ask1(SNMP_MSG_GET, name, len);

	ck_assert_msg(r->variables->type == type, "GET %s: type 0x%x, want 0x%x",
		      oid_str(name, len), r->variables->type, type);
	snmp_free_pdu(r);
}

/* GETNEXT from name answers want (an index into golden). */
static void expect_next(const oid *name, size_t len, size_t want)
{
	netsnmp_pdu *r = ask1(SNMP_MSG_GETNEXT, name, len);
	char what[300];

	snprintf(what, sizeof what, "GETNEXT %s", oid_str(name, len));
	expect(r->variables, &golden[want], what);
	snmp_free_pdu(r);
}

START_TEST(edge_indexes_2_32)
{
	const unsigned long m32 = 0xffffffffUL;
	oid o[] = { IFENTRY, IF_DESCR, 0 }, x[] = { IFXENTRY, IF_NAME, 0 };

	use_table(golden_snapshot());
	/* 2^32 - 1, the largest sub-identifier on the wire: no such row. */
	o[10] = m32;
	expect_exception(o, 11, SNMP_NOSUCHINSTANCE);
	expect_next(o, 11, at(0, IF_TYPE, 1));
	/* 2^32 and beyond (net-snmp's oid is an unsigned long): no row is
	 * found by its low 32 bits (2^32 + 2 is not row 2). */
	o[10] = m32 + 1;
	expect_exception(o, 11, SNMP_NOSUCHINSTANCE);
	expect_next(o, 11, at(0, IF_TYPE, 1));
	o[10] = m32 + 3;
	expect_exception(o, 11, SNMP_NOSUCHINSTANCE);
	expect_next(o, 11, at(0, IF_TYPE, 1));
	x[11] = m32 + 2;
	expect_exception(x, 12, SNMP_NOSUCHINSTANCE);
	expect_next(x, 12, at(1, IF_IN_MULTICAST_PKTS, 1));
	/* The last row, and the next column after it. */
	o[10] = BIG - 1;
	expect_next(o, 11, at(0, IF_DESCR, BIG));
	o[10] = BIG;
	expect_next(o, 11, at(0, IF_TYPE, 1));
	/* Longer than an instance: after that row. */
	{
		const oid longer[] = { IFENTRY, IF_DESCR, 2, 0xffffffffUL, 7 };

		expect_next(longer, 13, at(0, IF_DESCR, BIG));
		expect_exception(longer, 13, SNMP_NOSUCHINSTANCE);
	}
	end_table();
}
END_TEST

START_TEST(edge_column_past_the_last)
{
	const oid t23[] = { IFENTRY, IFTABLE_COL_MAX + 1 };
	const oid t23i[] = { IFENTRY, IFTABLE_COL_MAX + 1, 1 };
	const oid t0i[] = { IFENTRY, 0, 1 };
	const oid entry2[] = { 1, 3, 6, 1, 2, 1, 2, 2, 2 };
	const oid x20[] = { IFXENTRY, IFXTABLE_COL_MAX + 1 };
	const oid x20i[] = { IFXENTRY, IFXTABLE_COL_MAX + 1, 2 };
	const oid lastrow[] = { IFXENTRY, IFXTABLE_COL_MAX, BIG };
	const oid lc1[] = { IFLASTCHANGE, 1 };
	const oid num1[] = { IFNUMBER, 1 };

	use_table(golden_snapshot());
	/* Past ifTable's last column: the next subtree (ifXTable's first). */
	expect_next(t23, 10, at(1, IF_NAME, 1));
	expect_next(t23i, 11, at(1, IF_NAME, 1));
	expect_next(entry2, 9, at(1, IF_NAME, 1));
	expect_exception(t23i, 11, SNMP_NOSUCHOBJECT);
	expect_exception(t0i, 11, SNMP_NOSUCHOBJECT);
	expect_next(t0i, 11, at(0, IF_INDEX, 1));
	/* Past ifXTable's: ifTableLastChange.0, then the end. */
	expect_next(x20, 11, NGOLD - 1);
	expect_next(x20i, 12, NGOLD - 1);
	expect_next(lastrow, 12, NGOLD - 1);
	expect_exception(x20i, 12, SNMP_NOSUCHOBJECT);
	/* Scalars have .0 only. */
	expect_next(num1, 9, 1);
	expect_exception(num1, 9, SNMP_NOSUCHINSTANCE);
	{
		netsnmp_pdu *r = ask1(SNMP_MSG_GETNEXT, lc1, 10);

		expect_end(r->variables, "GETNEXT ifTableLastChange.1");
		snmp_free_pdu(r);
	}
	end_table();
}
END_TEST

static void empty_walks(void)
{
	const oid descr1[] = { IFENTRY, IF_DESCR, 1 };
	size_t ne = sizeof golden_empty / sizeof golden_empty[0];

	for (size_t k = 0; k < NROOTS; k++) {
		walk_getnext(golden_empty, ne, roots[k].o, roots[k].n);
		walk_getbulk(golden_empty, ne, roots[k].o, roots[k].n, 10);
	}
	expect_exception(descr1, 11, SNMP_NOSUCHINSTANCE);
}

START_TEST(edge_empty_table)
{
	struct if_snapshot *s = calloc(1, sizeof *s);

	ck_assert_ptr_nonnull(s);
	use_table(s);
	empty_walks();
	end_table();
}
END_TEST

/* Before the first table is published the source has none (NULL). */
START_TEST(edge_no_table_yet)
{
	use_table(NULL);
	empty_walks();
	ck_assert_int_eq(src_state.released, 0);
	ck_assert_int_gt(src_state.acquired, 0);
}
END_TEST

static Suite *walk_suite(void)
{
	Suite *s = suite_create("ifmib_walk");
	TCase *g = tcase_create("golden");
	TCase *e = tcase_create("edges");

	tcase_set_timeout(g, 60);
	tcase_add_test(g, golden_is_in_order);
	tcase_add_test(g, getnext_from_each_root);
	tcase_add_test(g, getnext_and_get_of_every_entry);
	tcase_add_test(g, getbulk_walks);
	tcase_add_test(g, getbulk_columns);
	tcase_add_test(g, collector_get_reads_no_counters);
	tcase_add_test(e, edge_indexes_2_32);
	tcase_add_test(e, edge_column_past_the_last);
	tcase_add_test(e, edge_empty_table);
	tcase_add_test(e, edge_no_table_yet);
	suite_add_tcase(s, g);
	suite_add_tcase(s, e);
	return s;
}

int main(void)
{
	int rc;

	agent_start();
	rc = hf_run(walk_suite(), CK_FORK_GETENV);
	snmp_close(sess);
	ifmib_unregister();
	snmp_shutdown("check_ifmib_walk");
	return rc;
}
