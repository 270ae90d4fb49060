/* See fibmsg.h: tests only. */
#include "fibmsg.h"

#include <linux/fib_rules.h>
#include <linux/netconf.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

void *fibmsg_begin(struct fibmsg *m, uint16_t type, uint16_t flags, size_t hdr)
{
	memset(m, 0, sizeof *m);
	m->n.nlmsg_type = type;
	m->n.nlmsg_flags = flags;
	m->n.nlmsg_len = (uint32_t)NLMSG_LENGTH(hdr);
	return NLMSG_DATA(&m->n);
}

struct rtattr *fibmsg_attr(struct fibmsg *m, unsigned short type, const void *d, size_t len)
{
	struct rtattr *a = (struct rtattr *)(m->b + NLMSG_ALIGN(m->n.nlmsg_len));

	if (NLMSG_ALIGN(m->n.nlmsg_len) + RTA_SPACE(len) > sizeof m->b)
		return NULL;
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (d)
		memcpy(RTA_DATA(a), d, len);
	m->n.nlmsg_len = (uint32_t)(NLMSG_ALIGN(m->n.nlmsg_len) + RTA_SPACE(len));
	return a;
}

struct rtattr *fibmsg_u32(struct fibmsg *m, unsigned short type, uint32_t v)
{
	return fibmsg_attr(m, type, &v, 4);
}

size_t fibmsg_alen(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static size_t gw_space(const struct fib_path *p)
{
	return p->gw.family ? RTA_SPACE(fibmsg_alen(p->gw.family)) : 0;
}

enum fib_change fibmsg_route(struct fib *f, uint16_t type, uint16_t flags, const struct fib_route *r,
			     int64_t now)
{
	struct fibmsg m;
	struct rtmsg *rt = fibmsg_begin(&m, type, flags, sizeof *rt);
	size_t al = fibmsg_alen(r->family);

	rt->rtm_family = r->family;
	rt->rtm_dst_len = r->dst_len;
	rt->rtm_src_len = r->src_len;
	rt->rtm_tos = r->tos;
	rt->rtm_table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	rt->rtm_protocol = r->protocol;
	rt->rtm_scope = r->scope;
	rt->rtm_type = r->type;
	if (r->npaths == 1)
		rt->rtm_flags = r->path[0].flags;
	fibmsg_attr(&m, RTA_DST, r->dst, al);
	if (r->src_len)
		fibmsg_attr(&m, RTA_SRC, r->src, al);
	fibmsg_u32(&m, RTA_TABLE, r->table);
	if (r->priority)
		fibmsg_u32(&m, RTA_PRIORITY, r->priority);
	if (r->prefsrc.family)
		fibmsg_attr(&m, RTA_PREFSRC, r->prefsrc.a, al);
	if (r->npaths == 1) {
		if (r->path[0].oif)
			fibmsg_u32(&m, RTA_OIF, (uint32_t)r->path[0].oif);
		if (r->path[0].gw.family)
			fibmsg_attr(&m, RTA_GATEWAY, r->path[0].gw.a, fibmsg_alen(r->path[0].gw.family));
	} else if (r->npaths > 1) {
		size_t len = 0;
		struct rtattr *mp;
		uint8_t *p;

		for (size_t i = 0; i < r->npaths; i++)
			len += RTNH_ALIGN(sizeof(struct rtnexthop) + gw_space(&r->path[i]));
		mp = fibmsg_attr(&m, RTA_MULTIPATH, NULL, len);
		if (!mp)
			return FIB_SAME;
		p = RTA_DATA(mp);
		for (size_t i = 0; i < r->npaths; i++) {
			struct rtnexthop *nh = (struct rtnexthop *)p;
			size_t g = gw_space(&r->path[i]);

			memset(nh, 0, sizeof *nh);
			nh->rtnh_len = (unsigned short)(sizeof *nh + g);
			nh->rtnh_flags = r->path[i].flags;
			nh->rtnh_ifindex = r->path[i].oif;
			if (g) {
				struct rtattr *a = RTNH_DATA(nh);

				a->rta_type = RTA_GATEWAY;
				a->rta_len = (unsigned short)RTA_LENGTH(fibmsg_alen(r->path[i].gw.family));
				memcpy(RTA_DATA(a), r->path[i].gw.a, fibmsg_alen(r->path[i].gw.family));
			}
			p += RTNH_ALIGN(nh->rtnh_len);
		}
	}
	return fib_apply(f, &m.n, now);
}

enum fib_change fibmsg_rule(struct fib *f, uint16_t type, const struct fib_rule *r)
{
	struct fibmsg m;
	struct fib_rule_hdr *h = fibmsg_begin(&m, type, 0, sizeof *h);
	size_t al = fibmsg_alen(r->family);

	h->family = r->family;
	h->dst_len = r->dst_len;
	h->src_len = r->src_len;
	h->tos = r->tos;
	h->action = r->action;
	h->flags = r->invert ? FIB_RULE_INVERT : 0;
	fibmsg_u32(&m, FRA_PRIORITY, r->priority);
	if (r->table)
		fibmsg_u32(&m, FRA_TABLE, r->table);
	if (r->dst_len)
		fibmsg_attr(&m, FRA_DST, r->dst, al);
	if (r->src_len)
		fibmsg_attr(&m, FRA_SRC, r->src, al);
	if (r->iifname[0])
		fibmsg_attr(&m, FRA_IIFNAME, r->iifname, strlen(r->iifname) + 1);
	if (r->oifname[0])
		fibmsg_attr(&m, FRA_OIFNAME, r->oifname, strlen(r->oifname) + 1);
	if (r->mark || r->mask) {
		fibmsg_u32(&m, FRA_FWMARK, r->mark);
		fibmsg_u32(&m, FRA_FWMASK, r->mask);
	}
	if (r->action == FR_ACT_GOTO)
		fibmsg_u32(&m, FRA_GOTO, r->target);
	if (r->suppress_prefixlen >= 0)
		fibmsg_u32(&m, FRA_SUPPRESS_PREFIXLEN, (uint32_t)r->suppress_prefixlen);
	if (r->suppress_ifgroup >= 0)
		fibmsg_u32(&m, FRA_SUPPRESS_IFGROUP, (uint32_t)r->suppress_ifgroup);
	return fib_apply(f, &m.n, 0);
}

enum fib_change fibmsg_rule_to(struct fib *f, int family, uint32_t priority, uint32_t table)
{
	struct fib_rule r;

	memset(&r, 0, sizeof r);
	r.family = (uint8_t)family;
	r.action = FR_ACT_TO_TBL;
	r.priority = priority;
	r.table = table;
	r.suppress_prefixlen = r.suppress_ifgroup = -1;
	r.uid_end = UINT32_MAX;
	return fibmsg_rule(f, RTM_NEWRULE, &r);
}

enum fib_change fibmsg_link(struct fib *f, uint16_t type, int kindex, const char *name,
			    unsigned flags)
{
	struct fibmsg m;
	struct ifinfomsg *i = fibmsg_begin(&m, type, 0, sizeof *i);

	i->ifi_index = kindex;
	i->ifi_flags = flags;
	fibmsg_attr(&m, IFLA_IFNAME, name, strlen(name) + 1);
	return fib_apply(f, &m.n, 0);
}

enum fib_change fibmsg_netconf(struct fib *f, int family, int kindex, int forwarding,
			       int rp_filter)
{
	struct fibmsg m;
	struct netconfmsg *nc = fibmsg_begin(&m, RTM_NEWNETCONF, 0, sizeof *nc);

	nc->ncm_family = (uint8_t)family;
	fibmsg_u32(&m, NETCONFA_IFINDEX, (uint32_t)kindex);
	if (forwarding >= 0)
		fibmsg_u32(&m, NETCONFA_FORWARDING, (uint32_t)forwarding);
	if (rp_filter >= 0)
		fibmsg_u32(&m, NETCONFA_RP_FILTER, (uint32_t)rp_filter);
	return fib_apply(f, &m.n, 0);
}

enum fib_change fibmsg_addr(struct fib *f, uint16_t type, int family, int kindex,
			    const uint8_t *a)
{
	struct fibmsg m;
	struct ifaddrmsg *ifa = fibmsg_begin(&m, type, 0, sizeof *ifa);

	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = family == AF_INET ? 24 : 64;
	ifa->ifa_index = (unsigned)kindex;
	fibmsg_attr(&m, IFA_LOCAL, a, fibmsg_alen(family));
	return fib_apply(f, &m.n, 0);
}
