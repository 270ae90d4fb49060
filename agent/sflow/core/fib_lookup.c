/* Which route answers (see fib_int.h): the policy rules in order, each
 * table's longest match, IPv4's aliases by TOS and path state, IPv6's
 * source routes and rt6_select's scores. */
#include "sflow/core/fib_int.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <string.h>

/* ip_ignore_linkdown / ip6_ignore_linkdown: the device's (or all's) switch. */
static int ignore_linkdown(const struct fib *f, int af, int kindex)
{
	const struct fib_link *l = fib_link_find(f, kindex);
	int i = af == AF_INET6;

	return f->all.ignore_linkdown[i] || (l && l->ignore_linkdown[i]);
}

/* fib_props[type].error: what a route of this type returns. */
static int type_error4(uint8_t type)
{
	switch (type) {
	case RTN_BLACKHOLE: case RTN_NAT: case RTN_XRESOLVE: return -EINVAL;
	case RTN_UNREACHABLE: return -EHOSTUNREACH;
	case RTN_PROHIBIT: return -EACCES;
	case RTN_THROW: return -EAGAIN;
	default: return 0;
	}
}

/* ip6_route_info_create's dst.error of reject routes. */
static int type_error6(uint8_t type)
{
	switch (type) {
	case RTN_BLACKHOLE: return -EINVAL;
	case RTN_PROHIBIT: return -EACCES;
	case RTN_THROW: return -EAGAIN;
	case RTN_UNREACHABLE: return -ENETUNREACH;
	default: return 0;
	}
}

/* fib_lookup_good_nhc */
static int good_path4(const struct fib *f, const struct fib_path *p, const struct fib_flow *fl)
{
	if (p->flags & RTNH_F_DEAD)
		return 0;
	if ((p->flags & RTNH_F_LINKDOWN) && !fl->ignore_linkstate &&
	    ignore_linkdown(f, AF_INET, p->oif))
		return 0;
	return !fl->oif || fl->oif == p->oif;
}

/* Nothing in this prefix serves: try a shorter one. Distinct from a throw
 * route's -EAGAIN, which ends the table's lookup. */
#define MISS 1

/* One IPv4 prefix's aliases (fib_table_lookup's loop over a leaf): 0 with
 * *res, MISS when none serves, or a reject route's error. */
static int select4(const struct fib *f, const struct fib_entry *e, uint32_t table, unsigned len,
		   const uint8_t *dst, const struct fib_flow *fl, struct fib_res *res)
{
	for (; e; e = e->next) {
		int err, good = -1, n = 0;

		if (!fib_same_prefix(e, table, len, dst, 0, e->src))
			continue;
		if (e->tos)
			continue;	/* a TOS route: the question's TOS is 0 */
		err = type_error4(e->type);
		if (err)
			return err;
		if (e->nh_id && !e->npaths)
			return MISS;	/* a nexthop object not expanded */
		for (int i = 0; i < e->npaths; i++) {
			if (!good_path4(f, &e->paths[i], fl))
				continue;
			if (good < 0)
				good = i;
			n++;
		}
		if (!e->npaths) {
			good = 0;	/* no device (a local or broadcast route of lo's) */
			n = 1;
		}
		if (good < 0)
			continue;
		res->e = e;
		res->path = n > 1 ? -1 : good;
		return 0;
	}
	return MISS;
}

/* fib_table_lookup over the tables of ids (one; or local and main merged,
 * as the kernel merges them while no custom rule exists). */
static int tables4(const struct fib *f, const uint32_t *ids, size_t nids,
		   const struct fib_flow *fl, struct fib_res *res)
{
	const struct fib_family *fa = &f->fam[0];
	const struct fib_table *t[2] = { NULL, NULL };
	int len[2], best;

	if (!fa->nbuckets)
		return -EAGAIN;
	for (size_t i = 0; i < nids; i++) {
		t[i] = fib_table_find(fa, ids[i]);
		len[i] = t[i] ? fib_table_next_len(t[i], 33) : -1;
	}
	for (;;) {
		best = -1;
		for (size_t i = 0; i < nids; i++)
			if (len[i] > best)
				best = len[i];
		if (best < 0)
			return -EAGAIN;
		/* At one length the local table's aliases come first. */
		for (size_t i = 0; i < nids; i++) {
			uint8_t m[16];
			int err;

			if (len[i] != best)
				continue;
			fib_mask_into(m, fl->dst, (unsigned)best, 4);
			err = select4(f, fa->bucket[fib_bucket_of(fa, ids[i], (unsigned)best, m)],
				      ids[i], (unsigned)best, m, fl, res);
			if (err != MISS)
				return err;
			len[i] = fib_table_next_len(t[i], best);
		}
	}
}

/* rt6_score_route, without neighbour states. Below 0: fails hard. */
static int score6(const struct fib_entry *e, const struct fib_path *p, const struct fib_flow *fl)
{
	int m = (!fl->oif || p->oif == fl->oif) ? 2 : 0;

	if (!m && (fl->strict & STRICT_IFACE))
		return -1;
	/* IPV6_DECODE_PREF: medium (0) 2, high (1) 3, low (3) 1. */
	return m | (((e->pref & 3) ^ 2) << 2);
}

/* find_match for one route: its best path's score, -1 none. */
static int match6(const struct fib *f, const struct fib_entry *e, const struct fib_flow *fl, int *path, int *n)
{
	int best = -1;

	*n = 0;
	*path = -1;
	if (e->expires_ms && fl->now >= e->expires_ms)
		return -1;
	if (!e->npaths) {
		struct fib_path lo = { LOOPBACK_KINDEX, { 0 }, 0 };

		*n = 1;
		*path = 0;
		return score6(e, &lo, fl);
	}
	for (int i = 0; i < e->npaths; i++) {
		const struct fib_path *p = &e->paths[i];
		int m;

		if (p->flags & RTNH_F_DEAD)
			continue;
		if ((p->flags & RTNH_F_LINKDOWN) && !fl->ignore_linkstate &&
		    ignore_linkdown(f, AF_INET6, p->oif))
			continue;
		m = score6(e, p, fl);
		if (m < 0)
			continue;
		(*n)++;
		if (m > best) {
			best = m;
			*path = i;
		}
	}
	return best;
}

/* rt6_select over one source group of one IPv6 prefix (find_rr_leaf: the
 * first metric's routes, then the rest): the chosen route, NULL none. */
static const struct fib_entry *select6(const struct fib *f, const struct fib_entry *chain,
				   uint32_t table, unsigned len, const uint8_t *dst,
				   unsigned src_len, const uint8_t *src, const struct fib_flow *fl,
				   int *path, int *npath)
{
	const struct fib_entry *e, *best = NULL, *cont = NULL;
	uint32_t metric = 0;
	int have_metric = 0, mpri = -1;

	for (e = chain; e; e = e->next) {
		int p, n, m;

		if (!fib_same_prefix(e, table, len, dst, src_len, src))
			continue;
		if (!have_metric) {
			metric = e->priority;
			have_metric = 1;
		}
		if (e->priority != metric) {
			if (!cont)
				cont = e;
			continue;
		}
		m = match6(f, e, fl, &p, &n);
		if (m > mpri) {
			mpri = m;
			best = e;
			*path = p;
			*npath = n;
		}
	}
	if (best || !cont)
		return best;
	for (e = cont; e; e = e->next) {
		int p, n, m;

		if (!fib_same_prefix(e, table, len, dst, src_len, src))
			continue;
		m = match6(f, e, fl, &p, &n);
		if (m > mpri) {
			mpri = m;
			best = e;
			*path = p;
			*npath = n;
		}
	}
	return best;
}

/* fib6_table_lookup with ip6_pol_route's outcome: 0 with *res, -EAGAIN
 * (nothing: the null entry), or a reject route's error. Longest destination
 * first; at a destination, the longest matching source prefix first. */
static int table6(const struct fib *f, uint32_t id, const struct fib_flow *fl, struct fib_res *res)
{
	const struct fib_family *fa = &f->fam[1];
	const struct fib_table *t = fib_table_find(fa, id);
	int len;

	if (!t || !fa->nbuckets)
		return -EAGAIN;
	for (len = fib_table_next_len(t, 129); len >= 0; len = fib_table_next_len(t, len)) {
		uint8_t m[16];
		const struct fib_entry *chain, *e;
		int tried[129] = { 0 };

		int subtree = 0;

		fib_mask_into(m, fl->dst, (unsigned)len, 16);
		chain = fa->bucket[fib_bucket_of(fa, id, (unsigned)len, m)];
		/* fib6_node_lookup_1: a destination with source routes is looked
		 * into by source only; its plain routes are then passed over
		 * (the kernel backtracks to shorter destinations). */
		for (e = chain; e && !subtree; e = e->next)
			subtree = e->table == id && e->dst_len == len && e->src_len &&
				  !memcmp(e->dst, m, 16);
		/* Source groups in the chain's order: longest first. */
		for (e = chain; e; e = e->next) {
			const struct fib_entry *pick;
			int path = -1, n = 0, err;

			if (e->table != id || e->dst_len != len || memcmp(e->dst, m, 16))
				continue;
			if (subtree && !e->src_len)
				continue;
			if (tried[e->src_len] || !fib_prefix_has(e->src, e->src_len, fl->src))
				continue;
			tried[e->src_len] = 1;
			pick = select6(f, chain, id, (unsigned)len, m, e->src_len, e->src, fl,
				       &path, &n);
			if (!pick)
				continue;
			err = type_error6(pick->type);
			if (err)
				return err;
			res->e = pick;
			res->path = n > 1 ? -1 : path;
			return 0;
		}
	}
	return -EAGAIN;
}

static int table_lookup(const struct fib *f, int af, uint32_t id, const struct fib_flow *fl,
			struct fib_res *res)
{
	return af == AF_INET ? tables4(f, &id, 1, fl, res) : table6(f, id, fl, res);
}

static int port_ok(uint16_t lo, uint16_t hi)
{
	/* fib_rule_port_range_set and _inrange for port 0. */
	return !(lo && hi);
}

/* fib_rule_match with fib4_rule_match / fib6_rule_match. */
static int rule_match(const struct fib *f, int af, const struct fib_rule *r, const struct fib_flow *fl)
{
	int ok = 1;

	if (r->iifname[0]) {
		const struct fib_link *l = fib_link_find(f, fl->iif);

		ok = l && strcmp(l->name, r->iifname) == 0;
	}
	if (ok && r->oifname[0]) {
		const struct fib_link *l = fl->oif ? fib_link_find(f, fl->oif) : NULL;

		ok = l && strcmp(l->name, r->oifname) == 0;
	}
	if (ok && (r->mark & r->mask))
		ok = 0;		/* the question's mark is 0 */
	if (ok && r->tun_id)
		ok = 0;
	if (ok && r->l3mdev)
		ok = 0;		/* no VRF here */
	if (ok && r->uid_start > 0)
		ok = 0;		/* uid 0 below the range */
	if (ok && r->dst_len && !fib_prefix_has(r->dst, r->dst_len, fl->dst))
		ok = 0;
	if (ok && r->src_len) {
		if (af == AF_INET)
			ok = fib_prefix_has(r->src, r->src_len, fl->src);
		else
			ok = fl->has_src && fib_prefix_has(r->src, r->src_len, fl->src);
	}
	if (ok && (r->tos || r->ip_proto))
		ok = 0;
	if (ok && (!port_ok(r->sport_lo, r->sport_hi) || !port_ok(r->dport_lo, r->dport_hi)))
		ok = 0;
	return r->invert ? !ok : ok;
}

/* fib4_rule_suppress / fib6_rule_suppress */
static int suppressed(const struct fib *f, const struct fib_rule *r, const struct fib_res *res)
{
	if (r->suppress_prefixlen >= 0 && res->e->dst_len <= r->suppress_prefixlen)
		return 1;
	if (r->suppress_ifgroup >= 0 && res->e->npaths) {
		const struct fib_link *l = fib_link_find(f, res->e->paths[0].oif);

		if (l && l->group == (uint32_t)r->suppress_ifgroup)
			return 1;
	}
	return 0;
}
/* fib_lookup: the rules (fib_rules_lookup), or for IPv4 without custom
 * rules the merged local and main tables, then default. 0 with *res, or a
 * negative errno. */
int fib_lookup(const struct fib *f, int af, const struct fib_flow *fl, struct fib_res *res)
{
	const struct fib_family *fa = fib_cfam(f, af);

	memset(res, 0, sizeof *res);
	if (af == AF_INET && fib_default_rules4(fa)) {
		static const uint32_t merged[2] = { TABLE_LOCAL, TABLE_MAIN };
		int err = tables4(f, merged, 2, fl, res);

		if (err)
			err = tables4(f, (const uint32_t[]){ TABLE_DEFAULT }, 1, fl, res);
		return err == -EAGAIN ? -ENETUNREACH : err;
	}
	for (size_t i = 0; i < fa->nrule; i++) {
		const struct fib_rule *r = &fa->rule[i];
		int err;
jumped:
		if (!rule_match(f, af, r, fl))
			continue;
		switch (r->action) {
		case FR_ACT_GOTO: {
			size_t k;

			/* The kernel refuses a goto backwards (a loop); the
			 * mirror ignores one, whatever a message says. */
			if (r->target <= r->priority)
				continue;
			for (k = i + 1; k < fa->nrule && fa->rule[k].priority != r->target; k++)
				;
			if (k == fa->nrule)
				continue;	/* no such rule: the goto is not resolved */
			i = k;
			r = &fa->rule[i];
			goto jumped;
		}
		case FR_ACT_NOP:
			continue;
		case FR_ACT_TO_TBL:
			err = table_lookup(f, af, r->table, fl, res);
			break;
		case FR_ACT_UNREACHABLE:
			err = -ENETUNREACH;
			break;
		case FR_ACT_PROHIBIT:
			err = -EACCES;
			break;
		default:
			err = -EINVAL;	/* blackhole, and what the kernel does not know */
			break;
		}
		if (!err && suppressed(f, r, res))
			continue;
		if (err != -EAGAIN)
			return err;
	}
	return -ENETUNREACH;	/* -ESRCH, or IPv6's null entry */
}
