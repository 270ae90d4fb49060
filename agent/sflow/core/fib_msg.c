/* rtnetlink messages into the routing mirror (see fib.h: fib_apply):
 * routes, rules, links, IPv4 addresses and netconf, and what each change
 * asks of the caller (a re-dump where the kernel changed routes without a
 * word). Reads a message only up to its nlmsg_len. */
#include "sflow/core/fib_int.h"

#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/netconf.h>
#include <linux/rtnetlink.h>
#include <stddef.h>
#include <string.h>

#define USER_HZ_MS       10    /* rta_cacheinfo counts clock_t: USER_HZ is 100 */

static size_t alen(int af)
{
	return af == AF_INET6 ? 16 : 4;
}

static void take_gw(struct fib_path *p, int af, const struct rtattr *a)
{
	if (a->rta_type == RTA_GATEWAY && RTA_PAYLOAD(a) >= alen(af)) {
		p->gw.family = af;
		memcpy(p->gw.a, RTA_DATA(a), alen(af));
	} else if (a->rta_type == RTA_VIA && RTA_PAYLOAD(a) >= sizeof(struct rtvia)) {
		const struct rtvia *v = RTA_DATA(a);

		if ((v->rtvia_family == AF_INET || v->rtvia_family == AF_INET6) &&
		    RTA_PAYLOAD(a) >= sizeof *v + alen(v->rtvia_family)) {
			p->gw.family = v->rtvia_family;
			memcpy(p->gw.a, v->rtvia_addr, alen(v->rtvia_family));
		}
	}
}

static void take_multipath(struct fib_route *r, const struct rtattr *mp)
{
	const struct rtnexthop *nh = RTA_DATA(mp);
	int left = (int)RTA_PAYLOAD(mp);

	r->npaths = 0;
	while (left >= (int)sizeof *nh && nh->rtnh_len >= sizeof *nh && nh->rtnh_len <= left &&
	       r->npaths < FIB_MAX_PATHS) {
		struct fib_path *p = &r->path[r->npaths++];
		int alen_left = nh->rtnh_len - (int)RTNH_LENGTH(0);

		memset(p, 0, sizeof *p);
		p->oif = nh->rtnh_ifindex;
		p->flags = nh->rtnh_flags & (RTNH_F_DEAD | RTNH_F_LINKDOWN);
		for (const struct rtattr *a = RTNH_DATA(nh); RTA_OK(a, alen_left);
		     a = RTA_NEXT(a, alen_left))
			take_gw(p, r->family, a);
		left -= RTNH_ALIGN(nh->rtnh_len);
		nh = RTNH_NEXT(nh);
	}
}

/* ---- attributes that are one field each ---- */

/* How an attribute fills its field of the struct a message describes. A
 * payload too short for the field is passed over. */
enum field_kind {
	FIELD_NONE = 0,           /* not one of the table's attributes */
	FIELD_FIXED,              /* size bytes, in host order */
	FIELD_ADDR,               /* an address of the message's family */
	FIELD_NAME,               /* an interface name: its first IFNAMSIZ - 1 bytes */
};

struct field {
	uint8_t kind;             /* enum field_kind */
	uint8_t size;             /* of a FIELD_FIXED */
	uint16_t off;             /* in the struct */
};

#define FIXED(type, m) { FIELD_FIXED, sizeof(((type *)0)->m), offsetof(type, m) }
#define ADDR(type, m)  { FIELD_ADDR, 0, offsetof(type, m) }
#define NAME(type, m)  { FIELD_NAME, 0, offsetof(type, m) }
#define COUNT(t) (sizeof t / sizeof t[0])

/* The RTA_* of a route that are one field of struct fib_route. */
static const struct field route_fields[RTA_MAX + 1] = {
	[RTA_DST] = ADDR(struct fib_route, dst),
	[RTA_SRC] = ADDR(struct fib_route, src),
	[RTA_OIF] = FIXED(struct fib_route, path[0].oif),
	[RTA_PRIORITY] = FIXED(struct fib_route, priority),
	[RTA_TABLE] = FIXED(struct fib_route, table),
	[RTA_PREF] = FIXED(struct fib_route, pref),
	[RTA_NH_ID] = FIXED(struct fib_route, nh_id),
};

/* The FRA_* of a rule that are one field of struct fib_rule. */
static const struct field rule_fields[FRA_MAX + 1] = {
	[FRA_DST] = ADDR(struct fib_rule, dst),
	[FRA_SRC] = ADDR(struct fib_rule, src),
	[FRA_IIFNAME] = NAME(struct fib_rule, iifname),
	[FRA_OIFNAME] = NAME(struct fib_rule, oifname),
	[FRA_PRIORITY] = FIXED(struct fib_rule, priority),
	[FRA_TABLE] = FIXED(struct fib_rule, table),
	[FRA_GOTO] = FIXED(struct fib_rule, target),
	[FRA_FWMARK] = FIXED(struct fib_rule, mark),
	[FRA_SUPPRESS_PREFIXLEN] = FIXED(struct fib_rule, suppress_prefixlen),
	[FRA_SUPPRESS_IFGROUP] = FIXED(struct fib_rule, suppress_ifgroup),
	[FRA_TUN_ID] = FIXED(struct fib_rule, tun_id),
	[FRA_L3MDEV] = FIXED(struct fib_rule, l3mdev),
	[FRA_IP_PROTO] = FIXED(struct fib_rule, ip_proto),
};

/* The entry of table t (n entries) for attribute a; NULL: none. */
static const struct field *field_of(const struct field *t, size_t n, const struct rtattr *a)
{
	return a->rta_type < n && t[a->rta_type].kind != FIELD_NONE ? &t[a->rta_type] : NULL;
}

static void take_name(char *name, const struct rtattr *a)
{
	size_t pl = RTA_PAYLOAD(a);

	memcpy(name, RTA_DATA(a), pl < IFNAMSIZ - 1 ? pl : IFNAMSIZ - 1);
}

/* a into its field of the struct at s; af: the message's family. */
static void take_field(void *s, const struct field *fd, int af, const struct rtattr *a)
{
	uint8_t *to = (uint8_t *)s + fd->off;
	size_t pl = RTA_PAYLOAD(a);

	switch (fd->kind) {
	case FIELD_FIXED:
		if (pl >= fd->size)
			memcpy(to, RTA_DATA(a), fd->size);
		break;
	case FIELD_ADDR:
		if (pl >= alen(af))
			memcpy(to, RTA_DATA(a), alen(af));
		break;
	case FIELD_NAME:
		take_name((char *)to, a);
		break;
	default:
		break;
	}
}

/* ---- routes and rules ---- */

/* An RTM_NEWROUTE / RTM_DELROUTE into r; -1 when it is not one the mirror
 * keeps (cloned, another family, malformed). */
static int parse_route(const struct nlmsghdr *n, int64_t now, struct fib_route *r)
{
	const struct rtmsg *rtm = NLMSG_DATA(n);
	int len = (int)n->nlmsg_len - (int)NLMSG_LENGTH(sizeof *rtm);
	int multipath = 0;

	if (len < 0 || (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) ||
	    (rtm->rtm_flags & RTM_F_CLONED))
		return -1;
	memset(r, 0, sizeof *r);
	r->family = rtm->rtm_family;
	r->dst_len = rtm->rtm_dst_len;
	r->src_len = rtm->rtm_src_len;
	r->tos = rtm->rtm_tos;
	r->type = rtm->rtm_type;
	r->scope = rtm->rtm_scope;
	r->protocol = rtm->rtm_protocol;
	r->table = rtm->rtm_table;
	if (r->dst_len > alen(r->family) * 8 || r->src_len > alen(r->family) * 8)
		return -1;
	r->npaths = 1;
	r->path[0].flags = rtm->rtm_flags & (RTNH_F_DEAD | RTNH_F_LINKDOWN);
	for (const struct rtattr *a = RTM_RTA(rtm); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		const struct field *fd = field_of(route_fields, COUNT(route_fields), a);
		size_t pl = RTA_PAYLOAD(a);

		if (fd) {
			take_field(r, fd, r->family, a);
			continue;
		}
		switch (a->rta_type) {
		case RTA_GATEWAY:
		case RTA_VIA:
			take_gw(&r->path[0], r->family, a);
			break;
		case RTA_PREFSRC:
			if (pl >= alen(r->family)) {
				r->prefsrc.family = r->family;
				memcpy(r->prefsrc.a, RTA_DATA(a), alen(r->family));
			}
			break;
		case RTA_CACHEINFO:
			if (pl >= sizeof(struct rta_cacheinfo) && r->family == AF_INET6) {
				const struct rta_cacheinfo *ci = RTA_DATA(a);

				if (ci->rta_expires)
					r->expires_ms = now + (int64_t)ci->rta_expires * USER_HZ_MS;
			}
			break;
		case RTA_MULTIPATH:
			take_multipath(r, a);
			multipath = 1;
			break;
		default:
			break;
		}
	}
	if (!multipath && !r->path[0].oif && !r->path[0].gw.family)
		r->npaths = 0;		/* a reject route, or one with no device */
	if (r->nh_id && !multipath && !r->path[0].oif)
		r->npaths = 0;		/* a nexthop object the kernel did not expand */
	return 0;
}

/* An RTM_NEWRULE / RTM_DELRULE into r. */
static int parse_rule(const struct nlmsghdr *n, struct fib_rule *r)
{
	const struct fib_rule_hdr *h = NLMSG_DATA(n);
	int len = (int)n->nlmsg_len - (int)NLMSG_LENGTH(sizeof *h);
	const struct rtattr *a;
	int have_mask = 0;

	if (len < 0 || (h->family != AF_INET && h->family != AF_INET6))
		return -1;
	memset(r, 0, sizeof *r);
	r->family = h->family;
	r->action = h->action;
	r->src_len = h->src_len;
	r->dst_len = h->dst_len;
	r->tos = h->tos;
	r->table = h->table;
	r->invert = (h->flags & FIB_RULE_INVERT) != 0;
	r->suppress_prefixlen = r->suppress_ifgroup = -1;
	r->uid_end = UINT32_MAX;
	if (r->src_len > alen(r->family) * 8 || r->dst_len > alen(r->family) * 8)
		return -1;
	for (a = (const struct rtattr *)((const char *)h + NLMSG_ALIGN(sizeof *h)); RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		const struct field *fd = field_of(rule_fields, COUNT(rule_fields), a);
		size_t pl = RTA_PAYLOAD(a);
		const void *d = RTA_DATA(a);

		if (fd) {
			take_field(r, fd, r->family, a);
			continue;
		}
		switch (a->rta_type) {
		case FRA_FWMASK:
			if (pl >= 4) {
				memcpy(&r->mask, d, 4);
				have_mask = 1;
			}
			break;
		case FRA_UID_RANGE:
			if (pl >= sizeof(struct fib_rule_uid_range)) {
				const struct fib_rule_uid_range *u = d;

				r->uid_start = u->start;
				r->uid_end = u->end;
			}
			break;
		case FRA_SPORT_RANGE:
		case FRA_DPORT_RANGE:
			if (pl >= sizeof(struct fib_rule_port_range)) {
				const struct fib_rule_port_range *p = d;

				if (a->rta_type == FRA_SPORT_RANGE) {
					r->sport_lo = p->start;
					r->sport_hi = p->end;
				} else {
					r->dport_lo = p->start;
					r->dport_hi = p->end;
				}
			}
			break;
		default:
			break;
		}
	}
	/* A mark without a mask matches all of its bits (fib_nl2rule). */
	if (r->mark && !have_mask)
		r->mask = UINT32_MAX;
	return 0;
}

/* ---- links, addresses, switches ---- */

static enum fib_change apply_link(struct fib *f, const struct nlmsghdr *n)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(n);
	int len = (int)n->nlmsg_len - (int)NLMSG_LENGTH(sizeof *ifi);
	const struct fib_link *old;
	char name[IFNAMSIZ] = "";
	uint32_t group = 0;
	unsigned was = 0, mask = IFF_UP | IFF_LOWER_UP | IFF_RUNNING;
	uint32_t routes;
	int known;

	if (len < 0 || ifi->ifi_family != AF_UNSPEC)
		return FIB_SAME;	/* AF_BRIDGE and AF_INET6 side notes */
	old = fib_link_find(f, ifi->ifi_index);
	known = old != NULL;
	routes = old ? old->routes : 0;
	if (old)
		was = old->flags;
	if (n->nlmsg_type == RTM_DELLINK) {
		fib_link_del(f, ifi->ifi_index);
		/* The kernel flushes the routes through it without a word. */
		return routes ? FIB_CHANGED | FIB_REDUMP : FIB_CHANGED;
	}
	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_IFNAME)
			take_name(name, a);
		else if (a->rta_type == IFLA_GROUP && RTA_PAYLOAD(a) >= 4)
			memcpy(&group, RTA_DATA(a), 4);
	}
	if (old && !strcmp(old->name, name) && old->group == group &&
	    (old->flags & mask) == (ifi->ifi_flags & mask))
		return FIB_SAME;
	fib_link_set(f, ifi->ifi_index, name, ifi->ifi_flags, group);
	/* Up, down, carrier: the kernel marks or flushes its routes silently. */
	if (routes && known && (was & mask) != (ifi->ifi_flags & mask))
		return FIB_CHANGED | FIB_REDUMP;
	return FIB_CHANGED;
}

static int prefsrc_used(const struct fib *f, uint32_t a)
{
	const struct fib_family *fa = &f->fam[0];

	for (size_t i = 0; i < fa->nbuckets; i++)
		for (const struct fib_entry *e = fa->bucket[i]; e; e = e->next)
			if (e->prefsrc.family == AF_INET && fib_v4(e->prefsrc.a) == a)
				return 1;
	return 0;
}

static enum fib_change apply_addr(struct fib *f, const struct nlmsghdr *n)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(n);
	int len = (int)n->nlmsg_len - (int)NLMSG_LENGTH(sizeof *ifa);
	const uint8_t *local = NULL, *address = NULL;
	uint32_t a;

	if (len < 0 || ifa->ifa_family != AF_INET)
		return FIB_SAME;	/* IPv6 addresses come as local routes */
	for (const struct rtattr *r = IFA_RTA(ifa); RTA_OK(r, len); r = RTA_NEXT(r, len)) {
		if (RTA_PAYLOAD(r) < 4)
			continue;
		if (r->rta_type == IFA_LOCAL)
			local = RTA_DATA(r);
		else if (r->rta_type == IFA_ADDRESS)
			address = RTA_DATA(r);
	}
	if (!local)
		local = address;
	if (!local)
		return FIB_SAME;
	a = fib_v4(local);
	if (n->nlmsg_type == RTM_NEWADDR) {
		fib_local_add(f, a, (int)ifa->ifa_index);
		fib_changed(f);
		return FIB_CHANGED;
	}
	fib_local_del(f, a, (int)ifa->ifa_index);
	fib_changed(f);
	/* Routes preferring the address as source go with it, silently. */
	return prefsrc_used(f, a) ? FIB_CHANGED | FIB_REDUMP : FIB_CHANGED;
}

static enum fib_change apply_netconf(struct fib *f, const struct nlmsghdr *n)
{
	const struct netconfmsg *nc = NLMSG_DATA(n);
	int len = (int)n->nlmsg_len - (int)NLMSG_LENGTH(sizeof *nc);
	int kindex = 0, have = 0, fwd = -1, rpf = -1, ild = -1;
	int i6;
	struct fib_link *l;

	if (len < 0 || (nc->ncm_family != AF_INET && nc->ncm_family != AF_INET6))
		return FIB_SAME;
	i6 = nc->ncm_family == AF_INET6;
	for (const struct rtattr *a = (const struct rtattr *)((const char *)nc +
							      NLMSG_ALIGN(sizeof *nc));
	     RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		int32_t v;

		if (RTA_PAYLOAD(a) < 4)
			continue;
		memcpy(&v, RTA_DATA(a), 4);
		switch (a->rta_type) {
		case NETCONFA_IFINDEX: kindex = v; have = 1; break;
		case NETCONFA_FORWARDING: fwd = v; break;
		case NETCONFA_RP_FILTER: rpf = v; break;
		case NETCONFA_IGNORE_ROUTES_WITH_LINKDOWN: ild = v; break;
		default: break;
		}
	}
	if (!have || kindex == NETCONFA_IFINDEX_DEFAULT || n->nlmsg_type == RTM_DELNETCONF)
		return FIB_SAME;
	l = kindex == NETCONFA_IFINDEX_ALL ? &f->all : fib_link_get(f, kindex);
	if (!l)
		return FIB_SAME;
	if (!i6) {
		if (fwd >= 0)
			l->forwarding = fwd;
		if (rpf >= 0)
			l->rp_filter = rpf;
	}
	if (ild >= 0)
		l->ignore_linkdown[i6] = ild != 0;
	fib_changed(f);
	return FIB_CHANGED;
}

/* A route or rule the mirror could not take: past its bound, the family's
 * answers are unknown (until a dump fits again); out of memory, the mirror
 * is missing one: unknown answers until it is read again. */
static enum fib_change lost(struct fib *f, int k)
{
	const struct fib_family *fa = &f->fam[k];

	if (fa->route_overflow || fa->rule_overflow)
		return FIB_CHANGED;
	f->incomplete = 1;
	fib_changed(f);
	return FIB_CHANGED | FIB_RESYNC;
}

enum fib_change fib_apply(struct fib *f, const struct nlmsghdr *n, int64_t now)
{
	union {
		struct fib_route route;
		struct fib_rule rule;
	} u;
	enum fib_change ch = FIB_SAME;

	if (n->nlmsg_len < NLMSG_HDRLEN)
		return FIB_SAME;
	switch (n->nlmsg_type) {
	case RTM_NEWLINK: case RTM_DELLINK:
		return n->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg)) ? apply_link(f, n) : FIB_SAME;
	case RTM_NEWADDR: case RTM_DELADDR:
		return n->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifaddrmsg)) ? apply_addr(f, n) : FIB_SAME;
	case RTM_NEWNETCONF: case RTM_DELNETCONF:
		return n->nlmsg_len >= NLMSG_LENGTH(sizeof(struct netconfmsg)) ? apply_netconf(f, n) : FIB_SAME;
	case RTM_NEWROUTE: case RTM_DELROUTE:
	case RTM_NEWRULE: case RTM_DELRULE:
		break;
	default:
		return FIB_SAME;
	}
	if (n->nlmsg_type == RTM_NEWROUTE || n->nlmsg_type == RTM_DELROUTE) {
		if (n->nlmsg_len >= NLMSG_LENGTH(sizeof(struct rtmsg)) &&
		    parse_route(n, now, &u.route) == 0) {
			if (n->nlmsg_type == RTM_DELROUTE)
				ch = fib_route_del(f, &u.route) ? FIB_CHANGED : FIB_SAME;
			else if (fib_route_add(f, &u.route,
					       n->nlmsg_flags & (NLM_F_REPLACE | NLM_F_APPEND)) == 0)
				ch = FIB_CHANGED;
			else
				ch = lost(f, AF_INET == u.route.family ? 0 : 1);
		}
	} else if (n->nlmsg_len >= NLMSG_LENGTH(sizeof(struct fib_rule_hdr)) &&
		   parse_rule(n, &u.rule) == 0) {
		if (n->nlmsg_type == RTM_DELRULE)
			ch = fib_rule_del(f, &u.rule) ? FIB_CHANGED : FIB_SAME;
		else if (fib_rule_add(f, &u.rule) == 0)
			ch = FIB_CHANGED;
		else
			ch = lost(f, AF_INET == u.rule.family ? 0 : 1);
	}
	return ch;
}
