/* See kroute.h: tests only. It is the oracle check_route compares the
 * daemon with, so it reads the kernel's messages with code of its own, on
 * purpose not route.c's or fib_msg.c's though parts look alike (an
 * RTM_NEWADDR's addresses, a gateway from RTA_GATEWAY or RTA_VIA): a
 * mistake in a parser both sides shared would agree with itself and pass.
 * What it does share (fwd_parse, the host's-addresses rule) is what both
 * sides are meant to run alike. */
#include "kroute.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define KROUTE_BUF 32768

struct kroute {
	int fd;
	uint32_t seq;
	uint64_t questions;
	struct fwd_locals locals;
	uint8_t buf[KROUTE_BUF];
};

static size_t alen(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static int send_req(struct kroute *k, struct nlmsghdr *n)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	return sendto(k->fd, n, n->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) ==
	       (ssize_t)n->nlmsg_len ? 0 : -1;
}

static void add_attr(struct nlmsghdr *n, size_t cap, unsigned short type, const void *d, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));

	if (NLMSG_ALIGN(n->nlmsg_len) + RTA_SPACE(len) > cap)
		return;
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), d, len);
	n->nlmsg_len = (uint32_t)(NLMSG_ALIGN(n->nlmsg_len) + RTA_SPACE(len));
}

static void apply_addr(struct kroute *k, const struct nlmsghdr *n)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(n);
	const uint8_t *local = NULL, *address = NULL, *bcast = NULL;
	int len = (int)n->nlmsg_len - (int)NLMSG_LENGTH(sizeof *ifa);

	if (len < 0 || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return;
	for (const struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (RTA_PAYLOAD(a) < alen(ifa->ifa_family))
			continue;
		if (a->rta_type == IFA_LOCAL)
			local = RTA_DATA(a);
		else if (a->rta_type == IFA_ADDRESS)
			address = RTA_DATA(a);
		else if (a->rta_type == IFA_BROADCAST)
			bcast = RTA_DATA(a);
	}
	if (!local)
		local = address;
	if (local)
		fwd_locals_add(&k->locals, ifa->ifa_family, local, (int)ifa->ifa_index, FWD_LOCAL);
	if (bcast)
		fwd_locals_add(&k->locals, ifa->ifa_family, bcast, (int)ifa->ifa_index,
			       FWD_BROADCAST);
}

int kroute_reload(struct kroute *k)
{
	struct {
		struct nlmsghdr n;
		struct ifaddrmsg ifa;
	} req = { 0 };
	uint32_t seq = ++k->seq;

	req.n.nlmsg_len = NLMSG_LENGTH(sizeof req.ifa);
	req.n.nlmsg_type = RTM_GETADDR;
	req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.n.nlmsg_seq = seq;
	if (send_req(k, &req.n) < 0)
		return -1;
	fwd_locals_clear(&k->locals);
	for (;;) {
		ssize_t got = recv(k->fd, k->buf, sizeof k->buf, 0);
		int len;

		if (got < 0)
			return errno == EINTR ? 0 : -1;
		len = (int)got;
		for (struct nlmsghdr *n = (struct nlmsghdr *)k->buf; NLMSG_OK(n, len);
		     n = NLMSG_NEXT(n, len)) {
			if (n->nlmsg_seq != seq)
				continue;
			if (n->nlmsg_type == NLMSG_DONE)
				return 0;
			if (n->nlmsg_type == NLMSG_ERROR)
				return -1;
			if (n->nlmsg_type == RTM_NEWADDR)
				apply_addr(k, n);
		}
	}
}

struct kroute *kroute_open(void)
{
	struct kroute *k = calloc(1, sizeof *k);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { 1, 0 };

	if (!k)
		return NULL;
	k->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (k->fd < 0 || bind(k->fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    setsockopt(k->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    kroute_reload(k) < 0) {
		kroute_close(k);
		return NULL;
	}
	return k;
}

void kroute_close(struct kroute *k)
{
	if (!k)
		return;
	if (k->fd >= 0)
		close(k->fd);
	fwd_locals_free(&k->locals);
	free(k);
}

uint64_t kroute_questions(const struct kroute *k)
{
	return k->questions;
}

static void take_gw(struct fib_answer *a, int family, const struct rtattr *r)
{
	if (r->rta_type == RTA_GATEWAY && RTA_PAYLOAD(r) >= alen(family)) {
		a->gw.family = family;
		memcpy(a->gw.a, RTA_DATA(r), alen(family));
	} else if (r->rta_type == RTA_VIA && RTA_PAYLOAD(r) >= sizeof(struct rtvia)) {
		const struct rtvia *v = RTA_DATA(r);

		if ((v->rtvia_family == AF_INET || v->rtvia_family == AF_INET6) &&
		    RTA_PAYLOAD(r) >= sizeof *v + alen(v->rtvia_family)) {
			a->gw.family = v->rtvia_family;
			memcpy(a->gw.a, v->rtvia_addr, alen(v->rtvia_family));
		}
	}
}

static void parse(const struct nlmsghdr *n, struct fib_answer *a, int *multipath)
{
	const struct rtmsg *rtm = NLMSG_DATA(n);
	int len = (int)n->nlmsg_len - (int)NLMSG_LENGTH(sizeof *rtm);

	memset(a, 0, sizeof *a);
	*multipath = 0;
	a->type = rtm->rtm_type;
	a->dst_len = rtm->rtm_dst_len;
	a->gw_known = 1;
	for (const struct rtattr *r = RTM_RTA(rtm); RTA_OK(r, len); r = RTA_NEXT(r, len)) {
		if (r->rta_type == RTA_OIF && RTA_PAYLOAD(r) >= 4) {
			memcpy(&a->oif, RTA_DATA(r), 4);
		} else if (r->rta_type == RTA_MULTIPATH) {
			const struct rtnexthop *nh = RTA_DATA(r);
			int left = (int)RTA_PAYLOAD(r);

			*multipath = 1;
			if (left >= (int)sizeof *nh && nh->rtnh_len >= sizeof *nh &&
			    nh->rtnh_len <= left) {
				int l2 = nh->rtnh_len - (int)RTNH_LENGTH(0);

				a->oif = nh->rtnh_ifindex;
				for (const struct rtattr *x = RTNH_DATA(nh); RTA_OK(x, l2);
				     x = RTA_NEXT(x, l2))
					take_gw(a, rtm->rtm_family, x);
			}
		} else {
			take_gw(a, rtm->rtm_family, r);
		}
	}
}

static enum fib_verdict ask(struct kroute *k, int family, const uint8_t *dst, const uint8_t *src,
			    int iif, unsigned flags, struct fib_answer *a, int *multipath)
{
	union {
		struct nlmsghdr align;
		uint8_t b[NLMSG_SPACE(sizeof(struct rtmsg)) + 2 * RTA_SPACE(16) + RTA_SPACE(4)];
	} req;
	struct nlmsghdr *n = &req.align;
	struct rtmsg *rtm = NLMSG_DATA(n);
	uint32_t seq = ++k->seq, i = (uint32_t)iif;

	memset(&req, 0, sizeof req);
	n->nlmsg_len = NLMSG_LENGTH(sizeof *rtm);
	n->nlmsg_type = RTM_GETROUTE;
	n->nlmsg_flags = NLM_F_REQUEST;
	n->nlmsg_seq = seq;
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_flags = flags;
	rtm->rtm_dst_len = (unsigned char)(alen(family) * 8);
	add_attr(n, sizeof req, RTA_DST, dst, alen(family));
	if (src) {
		rtm->rtm_src_len = (unsigned char)(alen(family) * 8);
		add_attr(n, sizeof req, RTA_SRC, src, alen(family));
	}
	if (iif)
		add_attr(n, sizeof req, RTA_IIF, &i, sizeof i);
	k->questions++;
	if (send_req(k, n) < 0)
		return FIB_UNKNOWN;
	for (;;) {
		ssize_t got = recv(k->fd, k->buf, sizeof k->buf, 0);
		int len;

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return FIB_UNKNOWN;
		}
		len = (int)got;
		for (struct nlmsghdr *m = (struct nlmsghdr *)k->buf; NLMSG_OK(m, len);
		     m = NLMSG_NEXT(m, len)) {
			if (m->nlmsg_seq != seq)
				continue;
			if (m->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(m);

				return m->nlmsg_len >= NLMSG_LENGTH(sizeof *e) && e->error ?
				       FIB_NOROUTE : FIB_UNKNOWN;
			}
			if (m->nlmsg_type == RTM_NEWROUTE) {
				parse(m, a, multipath);
				return FIB_FOUND;
			}
		}
	}
}

enum fib_verdict kroute_ask(struct kroute *k, int family, const uint8_t *dst,
			    const uint8_t *src, int iif, struct fib_answer *a)
{
	struct fib_answer path;
	int multipath = 0, dummy;
	enum fib_verdict v = ask(k, family, dst, src, iif, RTM_F_FIB_MATCH, a, &multipath);

	if (v != FIB_FOUND || !multipath)
		return v;
	a->multipath = 1;
	if (ask(k, family, dst, src, iif, 0, &path, &dummy) == FIB_FOUND && path.oif) {
		a->oif = path.oif;
		a->gw = path.gw;
	}
	return FIB_FOUND;
}

static void take_route(struct fwd_info *out, const struct fwd_pkt *p, const struct fib_answer *a)
{
	if (a->gw.family) {
		out->nexthop = a->gw;
	} else {
		out->nexthop.family = p->family;
		memcpy(out->nexthop.a, p->dst, alen(p->family));
	}
	out->dst_len = a->dst_len;
}

int kroute_classify(struct kroute *k, int kindex, unsigned arphrd, int outgoing,
		    const uint8_t *frame, uint32_t caplen, struct fwd_info *out)
{
	struct fwd_pkt p;
	struct fib_answer a;

	memset(out, 0, sizeof *out);
	if (fwd_parse(arphrd, frame, caplen, &p) < 0)
		return -1;
	if (!outgoing) {
		if (fwd_dst_is_host(&k->locals, p.family, p.dst))
			return 0;
		switch (kroute_ask(k, p.family, p.dst, p.src, kindex, &a)) {
		case FIB_NOROUTE:
			return 0;
		case FIB_FOUND:
			if (a.type != RTN_UNICAST)
				return 0;
			out->out_kindex = a.oif;
			take_route(out, &p, &a);
			break;
		case FIB_UNKNOWN:
			break;
		}
		out->forwarded = 1;
		out->in_kindex = kindex;
		if (kroute_ask(k, p.family, p.src, NULL, 0, &a) == FIB_FOUND)
			out->src_len = a.dst_len;
		return 0;
	}
	if (fwd_src_is_host(&k->locals, p.family, p.src))
		return 0;
	out->forwarded = 1;
	out->out_kindex = kindex;
	if (kroute_ask(k, p.family, p.src, NULL, 0, &a) == FIB_FOUND) {
		out->in_kindex = a.oif;
		out->src_len = a.dst_len;
	}
	if (kroute_ask(k, p.family, p.dst, out->in_kindex ? p.src : NULL, out->in_kindex, &a) ==
	    FIB_FOUND && a.type == RTN_UNICAST)
		take_route(out, &p, &a);
	return 0;
}
