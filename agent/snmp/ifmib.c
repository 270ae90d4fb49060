/* IF-MIB over AgentX: ifNumber, ifTableLastChange, ifTable and ifXTable,
 * served straight from one iftable snapshot per handler call.
 *
 * No table helper: the snapshot is already sorted by ifIndex, so a GET is a
 * binary search and a GETNEXT is a little OID arithmetic (tbl_next), with no
 * container to rebuild when interfaces change and no rescan per request.
 * A GETNEXT that runs past our subtree leaves the varbind untouched (ASN_NULL):
 * that is how net-snmp's own helpers say "not here", and the agent then asks
 * the next registered subtree. */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snmp/ifmib.h"
#include "snmp/ifmib_columns.h"
#include "base/log.h"
#include "base/util.h"

#define IFMIB_ROOT_MAX 10

/* What one registered subtree serves. */
struct ifmib_tree {
	const char *name;
	oid root[IFMIB_ROOT_MAX];
	size_t rootlen;
	unsigned maxcol;          /* table columns 1..maxcol; 0 for a scalar */
	unsigned ctr_first, ctr_last; /* counter columns: read apart from the rows */
	int xtable;               /* ifXTable columns, else ifTable */
};

static const struct ifmib_tree if_number_tree = {
	"ifNumber", { 1, 3, 6, 1, 2, 1, 2, 1 }, 8, 0, 0, 0, 0
};
static const struct ifmib_tree if_table_tree = {
	"ifTable", { 1, 3, 6, 1, 2, 1, 2, 2 }, 8, IFTABLE_COL_MAX, IF_IN_OCTETS, IF_OUT_ERRORS, 0
};
static const struct ifmib_tree if_last_change_tree = {
	"ifTableLastChange", { 1, 3, 6, 1, 2, 1, 31, 1, 5 }, 9, 0, 0, 0, 0
};
static const struct ifmib_tree if_xtable_tree = {
	"ifXTable", { 1, 3, 6, 1, 2, 1, 31, 1, 1 }, 9, IFXTABLE_COL_MAX, IF_IN_MULTICAST_PKTS,
	IF_HC_OUT_BROADCAST_PKTS, 1
};

static const struct ifmib_tree *const ifmib_trees[] = {
	&if_number_tree, &if_table_tree, &if_last_change_tree, &if_xtable_tree,
};

/* Handler context, owned by the handler (freed through data_free). */
struct ifmib_ctx {
	const struct ifmib_source *src;
	const struct ifmib_tree *tree;
};

/* One position in a subtree: a table cell, or the scalar's .0 instance. */
struct ifmib_pos {
	unsigned col;
	uint32_t ifindex;
};

/* ---- Pure OID arithmetic -------------------------------------------- */

/* -1, 0, 1 like strcmp; a proper prefix sorts first. */
static int oid_cmp(const oid *a, size_t alen, const oid *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;

	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	}
	return alen < blen ? -1 : alen > blen;
}

/* Where name sits relative to the subtree root: -1 before it (the subtree
 * is entirely after name), 1 after every OID of the subtree, 0 inside it
 * (name starts with root; *sub and *sublen give the rest). */
static int oid_locate(const struct ifmib_tree *t, const oid *name, size_t len,
		      const oid **sub, size_t *sublen)
{
	if (len >= t->rootlen && !oid_cmp(name, t->rootlen, t->root, t->rootlen)) {
		*sub = name + t->rootlen;
		*sublen = len - t->rootlen;
		return 0;
	}
	return oid_cmp(name, len, t->root, t->rootlen) < 0 ? -1 : 1;
}

/* GET on a table: fills pos from entry.col.ifindex. Returns 0, or the
 * exception to answer: SNMP_NOSUCHOBJECT for an unknown column,
 * SNMP_NOSUCHINSTANCE for a missing row or a malformed instance. */
static int tbl_get(const struct ifmib_tree *t, const struct if_snapshot *s,
		   const oid *sub, size_t n, struct ifmib_pos *pos)
{
	if (n < 2 || sub[0] != 1 || sub[1] < 1 || sub[1] > t->maxcol)
		return SNMP_NOSUCHOBJECT;
	if (n != 3 || sub[2] < 1 || sub[2] > UINT32_MAX)
		return SNMP_NOSUCHINSTANCE;
	if (!s || !snap_find(s, (uint32_t)sub[2]))
		return SNMP_NOSUCHINSTANCE;
	pos->col = (unsigned)sub[1];
	pos->ifindex = (uint32_t)sub[2];
	return 0;
}

static const struct if_row *first_row(const struct if_snapshot *s)
{
	return s ? snap_next(s, 0) : NULL;
}

/* GETNEXT on a table: the first (column, row) whose OID entry.col.ifindex
 * is lexicographically after the suffix sub[0..n) (any length). Returns 1
 * and fills pos, or 0 when the table holds nothing after it. */
static int tbl_next(const struct ifmib_tree *t, const struct if_snapshot *s,
		    const oid *sub, size_t n, struct ifmib_pos *pos)
{
	const struct if_row *r = first_row(s);
	unsigned col = 1;

	if (!r)
		return 0;
	if (n == 0 || sub[0] < 1)
		goto found;
	if (sub[0] > 1)
		return 0;
	if (n == 1 || sub[1] < 1)
		goto found;
	if (sub[1] > t->maxcol)
		return 0;
	col = (unsigned)sub[1];
	if (n == 2)
		goto found;
	/* entry.col.i and anything longer under it: the next row after i. */
	r = sub[2] >= UINT32_MAX ? NULL : snap_next(s, (uint32_t)sub[2]);
	if (!r) {
		if (col >= t->maxcol)
			return 0;
		col++;
		r = first_row(s);
	}
found:
	pos->col = col;
	pos->ifindex = r->ifindex;
	return 1;
}

/* Scalars have one instance, .0: GET must name it exactly. */
static int scalar_get(const oid *sub, size_t n)
{
	return n == 1 && sub[0] == 0 ? 0 : SNMP_NOSUCHINSTANCE;
}

/* GETNEXT on a scalar: 1 when .0 lies after the suffix (empty suffix only,
 * since nothing under root sorts before root.0). */
static int scalar_next(size_t n)
{
	return n == 0;
}

/* Builds the instance OID of pos into out; returns its length. */
static size_t pos_oid(const struct ifmib_tree *t, const struct ifmib_pos *pos,
		      oid *out)
{
	size_t n = t->rootlen;

	memcpy(out, t->root, n * sizeof(oid));
	if (!t->maxcol) {
		out[n++] = 0;
		return n;
	}
	out[n++] = 1;
	out[n++] = pos->col;
	out[n++] = pos->ifindex;
	return n;
}

/* TimeTicks of the agent's sysUpTime at monotonic time t_ms (0 = before
 * start, and never before the agent's own zero). */
static u_long to_ticks(int64_t t_ms, int64_t now_ms, u_long uptime)
{
	int64_t ago;

	if (t_ms <= 0)
		return 0;
	ago = now_ms > t_ms ? (now_ms - t_ms) / 10 : 0;
	return (int64_t)uptime > ago ? uptime - (u_long)ago : 0;
}

static int is_counter_col(const struct ifmib_tree *t, unsigned col)
{
	return t->maxcol && col >= t->ctr_first && col <= t->ctr_last;
}

/* ---- Values ---------------------------------------------------------- */

/* One varbind value ready for snmp_set_var_typed_value(). */
struct ifmib_val {
	u_char type;
	long l;
	u_long u;
	struct counter64 c64;
	oid o[2];
	const void *ptr;
	size_t len;
};

static void val_int(struct ifmib_val *v, long x)
{
	v->type = ASN_INTEGER;
	v->l = x;
	v->ptr = &v->l;
	v->len = sizeof v->l;
}

static void val_unsigned(struct ifmib_val *v, u_char type, uint64_t x)
{
	v->type = type;
	v->u = (u_long)(x > UINT32_MAX ? UINT32_MAX : x);
	v->ptr = &v->u;
	v->len = sizeof v->u;
}

/* Counter32 wraps: the low 32 bits of the 64-bit kernel counter. */
static void val_c32(struct ifmib_val *v, uint64_t x)
{
	val_unsigned(v, ASN_COUNTER, x & UINT32_MAX);
}

static void val_c64(struct ifmib_val *v, uint64_t x)
{
	v->type = ASN_COUNTER64;
	v->c64.high = (u_long)(x >> 32);
	v->c64.low = (u_long)(x & UINT32_MAX);
	v->ptr = &v->c64;
	v->len = sizeof v->c64;
}

static void val_str(struct ifmib_val *v, const void *p, size_t len)
{
	v->type = ASN_OCTET_STR;
	v->ptr = p;
	v->len = len;
}

/* ifSpecific, deprecated: { 0 0 }. */
static void val_null_oid(struct ifmib_val *v)
{
	v->type = ASN_OBJECT_ID;
	v->o[0] = v->o[1] = 0;
	v->ptr = v->o;
	v->len = sizeof v->o;
}

/* c: the row's counters, for a counter column only. */
static int iftable_value(unsigned col, const struct if_row *r, const struct if_counters *c,
			 u_long ticks_now, int64_t now_ms, struct ifmib_val *v)
{
	switch (col) {
	case IF_INDEX: val_int(v, r->ifindex); break;
	case IF_DESCR: val_str(v, r->name, strlen(r->name)); break;
	case IF_TYPE: val_int(v, r->iftype); break;
	case IF_MTU: val_int(v, r->mtu > INT32_MAX ? INT32_MAX : r->mtu); break;
	case IF_SPEED: val_unsigned(v, ASN_GAUGE, r->speed_bps); break;
	case IF_PHYS_ADDRESS: val_str(v, r->phys, r->physlen); break;
	case IF_ADMIN_STATUS: val_int(v, r->admin); break;
	case IF_OPER_STATUS: val_int(v, r->oper); break;
	case IF_LAST_CHANGE:
		val_unsigned(v, ASN_TIMETICKS,
			     to_ticks(r->last_change_ms, now_ms, ticks_now));
		break;
	case IF_IN_OCTETS: val_c32(v, c->in_octets); break;
	case IF_IN_UCAST_PKTS: val_c32(v, c->in_ucast); break;
	case IF_IN_NUCAST_PKTS: val_c32(v, c->in_mcast + c->in_bcast); break;
	case IF_IN_DISCARDS: val_c32(v, c->in_discards); break;
	case IF_IN_ERRORS: val_c32(v, c->in_errors); break;
	case IF_IN_UNKNOWN_PROTOS: val_c32(v, c->in_unknown); break;
	case IF_OUT_OCTETS: val_c32(v, c->out_octets); break;
	case IF_OUT_UCAST_PKTS: val_c32(v, c->out_ucast); break;
	case IF_OUT_NUCAST_PKTS: val_c32(v, c->out_mcast + c->out_bcast); break;
	case IF_OUT_DISCARDS: val_c32(v, c->out_discards); break;
	case IF_OUT_ERRORS: val_c32(v, c->out_errors); break;
	case IF_OUT_QLEN: val_unsigned(v, ASN_GAUGE, 0); break;
	case IF_SPECIFIC: val_null_oid(v); break;
	default: return -1;
	}
	return 0;
}

static int ifxtable_value(unsigned col, const struct if_row *r, const struct if_counters *c,
			  u_long ticks_now, int64_t now_ms, struct ifmib_val *v)
{
	switch (col) {
	case IF_NAME: val_str(v, r->name, strlen(r->name)); break;
	case IF_IN_MULTICAST_PKTS: val_c32(v, c->in_mcast); break;
	case IF_IN_BROADCAST_PKTS: val_c32(v, c->in_bcast); break;
	case IF_OUT_MULTICAST_PKTS: val_c32(v, c->out_mcast); break;
	case IF_OUT_BROADCAST_PKTS: val_c32(v, c->out_bcast); break;
	case IF_HC_IN_OCTETS: val_c64(v, c->in_octets); break;
	case IF_HC_IN_UCAST_PKTS: val_c64(v, c->in_ucast); break;
	case IF_HC_IN_MULTICAST_PKTS: val_c64(v, c->in_mcast); break;
	case IF_HC_IN_BROADCAST_PKTS: val_c64(v, c->in_bcast); break;
	case IF_HC_OUT_OCTETS: val_c64(v, c->out_octets); break;
	case IF_HC_OUT_UCAST_PKTS: val_c64(v, c->out_ucast); break;
	case IF_HC_OUT_MULTICAST_PKTS: val_c64(v, c->out_mcast); break;
	case IF_HC_OUT_BROADCAST_PKTS: val_c64(v, c->out_bcast); break;
	case IF_LINK_UP_DOWN_TRAP_ENABLE: val_int(v, r->link_traps == 1 ? 1 : 2); break;
	case IF_HIGH_SPEED: val_unsigned(v, ASN_GAUGE, r->speed_bps / 1000000); break;
	case IF_PROMISCUOUS_MODE: val_int(v, r->promisc == 1 ? 1 : 2); break;
	/* ifConnectorPresent: false(2) for every row. Telling a NIC with a
	 * real connector from a virtual link needs more than rtnetlink
	 * reports, and a wrong true is worse than an honest false. */
	case IF_CONNECTOR_PRESENT: val_int(v, 2); break;
	case IF_ALIAS: val_str(v, r->alias, strlen(r->alias)); break;
	case IF_COUNTER_DISCONTINUITY_TIME:
		val_unsigned(v, ASN_TIMETICKS,
			     to_ticks(r->discontinuity_ms, now_ms, ticks_now));
		break;
	default: return -1;
	}
	return 0;
}

/* The row's counters when pos is a counter cell: 0, or -1 when the row or
 * its counters are gone. Nothing else reads counters: a request for names
 * and speeds (a collector's) never reaches the kernel. */
static int pos_counters(const struct ifmib_source *src, const struct ifmib_tree *t,
			const struct if_snapshot *s, const struct ifmib_pos *pos,
			bool walking, struct if_counters *c)
{
	const struct if_row *r;

	if (!is_counter_col(t, pos->col))
		return 0;
	r = s ? snap_find(s, pos->ifindex) : NULL;
	return r ? src->counters(src->ctx, r, walking, c) : -1;
}

/* The value at pos (c: its counters, for a counter cell); -1 when it does
 * not exist (row gone, bad column). */
static int pos_value(const struct ifmib_tree *t, const struct if_snapshot *s,
		     const struct ifmib_pos *pos, const struct if_counters *c,
		     u_long ticks_now, int64_t now_ms, struct ifmib_val *v)
{
	const struct if_row *r;

	memset(v, 0, sizeof *v);
	if (t == &if_number_tree) {
		val_int(v, s ? (long)s->n : 0);
		return 0;
	}
	if (t == &if_last_change_tree) {
		val_unsigned(v, ASN_TIMETICKS,
			     to_ticks(s ? s->table_change_ms : 0, now_ms, ticks_now));
		return 0;
	}
	r = s ? snap_find(s, pos->ifindex) : NULL;
	if (!r)
		return -1;
	if (t->xtable)
		return ifxtable_value(pos->col, r, c, ticks_now, now_ms, v);
	return iftable_value(pos->col, r, c, ticks_now, now_ms, v);
}

/* ---- Handler ----------------------------------------------------------- */

/* Resolves one request to a position: 1 found, 0 nothing after it (GETNEXT),
 * or a negative SNMP exception type to answer (GET). */
static int resolve(const struct ifmib_tree *t, const struct if_snapshot *s,
		   int getnext, const oid *name, size_t len, struct ifmib_pos *pos)
{
	const oid *sub = NULL;
	size_t n = 0;
	int where = oid_locate(t, name, len, &sub, &n);
	int rc;

	memset(pos, 0, sizeof *pos);
	if (getnext) {
		if (where > 0)
			return 0;
		if (where < 0)
			n = 0;  /* before the subtree: its first instance */
		return t->maxcol ? tbl_next(t, s, sub, n, pos) : scalar_next(n);
	}
	if (where != 0)
		return -(int)SNMP_NOSUCHOBJECT;
	rc = t->maxcol ? tbl_get(t, s, sub, n, pos) : scalar_get(sub, n);
	return rc ? -rc : 1;
}

static void answer(const struct ifmib_source *src, const struct ifmib_tree *t,
		   const struct if_snapshot *s, netsnmp_agent_request_info *reqinfo,
		   netsnmp_request_info *rq, u_long ticks_now, int64_t now_ms)
{
	int getnext = reqinfo->mode == MODE_GETNEXT;
	netsnmp_variable_list *vb = rq->requestvb;
	const oid *from = vb->name;
	size_t fromlen = vb->name_length;
	struct if_counters c;
	struct ifmib_pos pos;
	struct ifmib_val v;
	oid next[IFMIB_ROOT_MAX + 3];
	int rc;

	for (;;) {
		rc = resolve(t, s, getnext, from, fromlen, &pos);
		if (rc < 0) {
			netsnmp_set_request_error(reqinfo, rq, -rc);
			return;
		}
		if (rc == 0)
			return;  /* GETNEXT past our subtree: leave it for the next one */
		if (pos_counters(src, t, s, &pos, getnext, &c) == 0 &&
		    pos_value(t, s, &pos, &c, ticks_now, now_ms, &v) == 0)
			break;
		if (!getnext) {
			netsnmp_set_request_error(reqinfo, rq, SNMP_NOSUCHINSTANCE);
			return;
		}
		/* The row's link went after the snapshot was taken: as if its
		 * row were gone, the cell after it. */
		fromlen = pos_oid(t, &pos, next);
		from = next;
	}
	if (getnext)
		snmp_set_var_objid(vb, next, pos_oid(t, &pos, next));
	snmp_set_var_typed_value(vb, v.type, v.ptr, v.len);
}

static int ifmib_handler(netsnmp_mib_handler *handler,
			 netsnmp_handler_registration *reginfo,
			 netsnmp_agent_request_info *reqinfo,
			 netsnmp_request_info *requests)
{
	const struct ifmib_ctx *ctx = handler->myvoid;
	const struct ifmib_source *src = ctx->src;
	const struct ifmib_tree *t = ctx->tree;
	struct if_snapshot *s;
	u_long ticks_now;
	int64_t now_ms;

	(void)reginfo;
	if (reqinfo->mode != MODE_GET && reqinfo->mode != MODE_GETNEXT)
		return SNMP_ERR_GENERR;
	s = src->acquire(src->ctx);
	ticks_now = netsnmp_get_agent_uptime();
	now_ms = monotonic_ms();
	for (netsnmp_request_info *rq = requests; rq; rq = rq->next) {
		if (!rq->processed)
			answer(src, t, s, reqinfo, rq, ticks_now, now_ms);
	}
	if (s)
		src->release(src->ctx, s);
	return SNMP_ERR_NOERROR;
}

static int register_tree(const struct ifmib_tree *t, const struct ifmib_source *src)
{
	netsnmp_handler_registration *reg;
	struct ifmib_ctx *ctx = calloc(1, sizeof *ctx);

	if (!ctx)
		return -1;
	ctx->src = src;
	ctx->tree = t;
	reg = netsnmp_create_handler_registration(t->name, ifmib_handler, t->root,
						  t->rootlen, HANDLER_CAN_RONLY);
	if (!reg) {
		free(ctx);
		return -1;
	}
	reg->handler->myvoid = ctx;
	reg->handler->data_free = free;
	/* On failure net-snmp frees reg, its handler and so ctx. */
	if (netsnmp_register_handler(reg) != MIB_REGISTERED_OK) {
		log_err("ifmib", "cannot register %s", t->name);
		return -1;
	}
	return 0;
}

int ifmib_register(const struct ifmib_source *src)
{
	size_t n = sizeof ifmib_trees / sizeof ifmib_trees[0];

	for (size_t i = 0; i < n; i++) {
		if (register_tree(ifmib_trees[i], src) < 0) {
			while (i--)
				unregister_mib((oid *)ifmib_trees[i]->root,
					       ifmib_trees[i]->rootlen);
			return -1;
		}
	}
	return 0;
}

void ifmib_unregister(void)
{
	size_t n = sizeof ifmib_trees / sizeof ifmib_trees[0];

	for (size_t i = 0; i < n; i++)
		unregister_mib((oid *)ifmib_trees[i]->root, ifmib_trees[i]->rootlen);
}
