/* The kernel's routing for sampled packets, over raw rtnetlink (see
 * route.h). Two sockets: one for questions (RTM_GETROUTE, the address dump),
 * blocking with a short receive timeout, and one subscribed to route, rule,
 * address and link events, read without blocking. */
#include "sflow/route.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"

#define RECV_BUF     32768
#define EVENT_RCVBUF (1 << 20)  /* a route flap of a few thousand entries fits */
#define RESYNC_RETRY_MS 1000    /* a failing re-dump is not retried per sample */

struct route_watch {
	int fd;                   /* questions */
	int efd;                  /* events */
	uint32_t seq;
	int resync;               /* events lost: addresses to be re-dumped */
	int64_t resync_at_ms;     /* not before */
	struct fwd_locals locals;
	struct fwd_cache *cache;
	struct route_stats st;
	uint8_t buf[RECV_BUF];
};

static const unsigned event_groups[] = {
	RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE,
	RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_LINK,
};

static size_t alen(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static int nl_socket(int flags, char *err, size_t errlen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | flags, NETLINK_ROUTE);

	if (fd < 0) {
		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		snprintf(err, errlen, "netlink bind: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int nl_send(int fd, struct nlmsghdr *n)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	return sendto(fd, n, n->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) ==
	       (ssize_t)n->nlmsg_len ? 0 : -1;
}

static void add_attr(struct nlmsghdr *n, size_t cap, unsigned short type,
		     const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));

	if (NLMSG_ALIGN(n->nlmsg_len) + RTA_SPACE(len) > cap)
		return;		/* callers size their buffers for every attribute */
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	n->nlmsg_len = (uint32_t)(NLMSG_ALIGN(n->nlmsg_len) + RTA_SPACE(len));
}

/* ---- addresses ---- */

static void apply_addr(struct route_watch *rw, const struct nlmsghdr *n, int add)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(n);
	const struct rtattr *a;
	const uint8_t *local = NULL, *address = NULL, *bcast = NULL;
	int len = (int)n->nlmsg_len - (int)NLMSG_LENGTH(sizeof *ifa);

	if (len < 0 || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return;
	for (a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (RTA_PAYLOAD(a) < alen(ifa->ifa_family))
			continue;
		if (a->rta_type == IFA_LOCAL)
			local = RTA_DATA(a);
		else if (a->rta_type == IFA_ADDRESS)
			address = RTA_DATA(a);
		else if (a->rta_type == IFA_BROADCAST)
			bcast = RTA_DATA(a);
	}
	/* IFA_LOCAL is ours; IFA_ADDRESS is the peer on point-to-point links. */
	if (!local)
		local = address;
	if (local) {
		if (add && fwd_locals_add(&rw->locals, ifa->ifa_family, local,
					  (int)ifa->ifa_index, FWD_LOCAL) < 0)
			log_warn("route", "out of memory for a local address");
		else if (!add)
			fwd_locals_del(&rw->locals, ifa->ifa_family, local,
				       (int)ifa->ifa_index, FWD_LOCAL);
	}
	if (bcast) {
		if (add)
			(void)fwd_locals_add(&rw->locals, ifa->ifa_family, bcast,
					     (int)ifa->ifa_index, FWD_BROADCAST);
		else
			fwd_locals_del(&rw->locals, ifa->ifa_family, bcast,
				       (int)ifa->ifa_index, FWD_BROADCAST);
	}
}

/* Replaces the host's addresses by a dump. 0, or -1 (timeout, error). */
static int dump_addrs(struct route_watch *rw)
{
	struct {
		struct nlmsghdr n;
		struct ifaddrmsg ifa;
	} req = { 0 };
	uint32_t seq = ++rw->seq;

	req.n.nlmsg_len = NLMSG_LENGTH(sizeof req.ifa);
	req.n.nlmsg_type = RTM_GETADDR;
	req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.n.nlmsg_seq = seq;
	req.ifa.ifa_family = AF_UNSPEC;
	if (nl_send(rw->fd, &req.n) < 0)
		return -1;
	fwd_locals_clear(&rw->locals);
	for (;;) {
		ssize_t got = recv(rw->fd, rw->buf, sizeof rw->buf, 0);
		struct nlmsghdr *n;
		int len;

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		len = (int)got;
		for (n = (struct nlmsghdr *)rw->buf; NLMSG_OK(n, len); n = NLMSG_NEXT(n, len)) {
			if (n->nlmsg_seq != seq)
				continue;	/* a late answer to an earlier question */
			if (n->nlmsg_type == NLMSG_DONE)
				return 0;
			if (n->nlmsg_type == NLMSG_ERROR)
				return -1;
			if (n->nlmsg_type == RTM_NEWADDR)
				apply_addr(rw, n, 1);
		}
	}
}

/* ---- lookups ---- */

static void take_gateway(struct fwd_route *r, int family, const struct rtattr *a)
{
	if (a->rta_type == RTA_GATEWAY && RTA_PAYLOAD(a) >= alen(family)) {
		r->gateway.family = family;
		memcpy(r->gateway.a, RTA_DATA(a), alen(family));
	} else if (a->rta_type == RTA_VIA && RTA_PAYLOAD(a) >= sizeof(struct rtvia)) {
		/* An IPv4 route via an IPv6 gateway (RFC 5549). */
		const struct rtvia *v = RTA_DATA(a);
		size_t need = sizeof(struct rtvia) + alen(v->rtvia_family);

		if ((v->rtvia_family == AF_INET || v->rtvia_family == AF_INET6) &&
		    RTA_PAYLOAD(a) >= need) {
			r->gateway.family = v->rtvia_family;
			memcpy(r->gateway.a, v->rtvia_addr, alen(v->rtvia_family));
		}
	}
}

/* The first path of an RTA_MULTIPATH: its interface and gateway. */
static void take_multipath(struct fwd_route *r, int family, const struct rtattr *mp)
{
	const struct rtnexthop *nh = RTA_DATA(mp);
	int left = (int)RTA_PAYLOAD(mp);

	if (left < (int)sizeof *nh || nh->rtnh_len < sizeof *nh || nh->rtnh_len > left)
		return;
	r->oif = nh->rtnh_ifindex;
	left = nh->rtnh_len - (int)RTNH_LENGTH(0);
	for (const struct rtattr *a = RTNH_DATA(nh); RTA_OK(a, left); a = RTA_NEXT(a, left))
		take_gateway(r, family, a);
}

static void parse_route(const struct nlmsghdr *n, struct fwd_route *r, int *multipath)
{
	const struct rtmsg *rtm = NLMSG_DATA(n);
	int len = (int)n->nlmsg_len - (int)NLMSG_LENGTH(sizeof *rtm);

	memset(r, 0, sizeof *r);
	*multipath = 0;
	if (len < 0)
		return;
	r->type = rtm->rtm_type;
	r->dst_len = rtm->rtm_dst_len;
	for (const struct rtattr *a = RTM_RTA(rtm); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= sizeof(uint32_t))
			memcpy(&r->oif, RTA_DATA(a), sizeof(uint32_t));
		else if (a->rta_type == RTA_MULTIPATH) {
			take_multipath(r, rtm->rtm_family, a);
			*multipath = 1;
		} else
			take_gateway(r, rtm->rtm_family, a);
	}
}

/* The kernel's errors that mean "this packet has no route here" (unreachable,
 * prohibited, martian or reverse-path-filtered source, input device gone)
 * are answers; anything else is no answer. */
static enum fwd_lookup error_result(int e)
{
	switch (e) {
	case ENETUNREACH: case EHOSTUNREACH: case EINVAL: case EACCES: case EPERM:
	case EXDEV: case ENODEV: case ESRCH:
		return FWD_NOROUTE;
	default:
		return FWD_UNKNOWN;
	}
}

static enum fwd_lookup ask(struct route_watch *rw, const struct fwd_key *k,
			   unsigned flags, struct fwd_route *r, int *multipath)
{
	/* One buffer, so that attributes are written inside the object the
	 * compiler sees (a struct's header member would look overrun). */
	union {
		struct nlmsghdr align;
		uint8_t b[NLMSG_SPACE(sizeof(struct rtmsg)) + 2 * RTA_SPACE(16) + RTA_SPACE(4)];
	} req;
	struct nlmsghdr *n = &req.align;
	struct rtmsg *rtm = NLMSG_DATA(n);
	uint32_t seq = ++rw->seq, iif = (uint32_t)k->iif;
	size_t bits = alen(k->family) * 8;

	memset(&req, 0, sizeof req);
	n->nlmsg_len = NLMSG_LENGTH(sizeof *rtm);
	n->nlmsg_type = RTM_GETROUTE;
	n->nlmsg_flags = NLM_F_REQUEST;
	n->nlmsg_seq = seq;
	rtm->rtm_family = k->family;
	rtm->rtm_flags = flags;
	rtm->rtm_dst_len = (unsigned char)bits;
	add_attr(n, sizeof req, RTA_DST, k->dst, alen(k->family));
	if (k->has_src) {
		rtm->rtm_src_len = (unsigned char)bits;
		add_attr(n, sizeof req, RTA_SRC, k->src, alen(k->family));
	}
	if (k->iif)
		add_attr(n, sizeof req, RTA_IIF, &iif, sizeof iif);
	rw->st.lookups++;
	if (nl_send(rw->fd, n) < 0)
		return FWD_UNKNOWN;
	for (;;) {
		ssize_t got = recv(rw->fd, rw->buf, sizeof rw->buf, 0);
		int len;

		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				rw->st.timeouts++;
			return FWD_UNKNOWN;
		}
		len = (int)got;
		for (struct nlmsghdr *m = (struct nlmsghdr *)rw->buf; NLMSG_OK(m, len);
		     m = NLMSG_NEXT(m, len)) {
			if (m->nlmsg_seq != seq)
				continue;	/* the answer to a question that timed out */
			if (m->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(m);

				if (m->nlmsg_len < NLMSG_LENGTH(sizeof *e))
					return FWD_UNKNOWN;
				return error_result(-e->error);
			}
			if (m->nlmsg_type == RTM_NEWROUTE) {
				parse_route(m, r, multipath);
				return FWD_FOUND;
			}
		}
	}
}

enum fwd_lookup route_lookup(struct route_watch *rw, const struct fwd_key *k,
			     struct fwd_route *r)
{
	struct fwd_route path;
	enum fwd_lookup res;
	int multipath = 0, dummy;

	/* RTM_F_FIB_MATCH: the matching entry (its prefix length, its
	 * gateway), found through the policy rules as a packet would be. */
	res = ask(rw, k, RTM_F_FIB_MATCH, r, &multipath);
	if (res != FWD_FOUND || !multipath)
		return res;
	/* ECMP: the entry lists every path; the plain lookup says which one
	 * this flow's hash takes. */
	if (ask(rw, k, 0, &path, &dummy) == FWD_FOUND && path.oif) {
		r->oif = path.oif;
		r->gateway = path.gateway;
	}
	return FWD_FOUND;
}

static enum fwd_lookup lookup_cb(void *ctx, const struct fwd_key *k, struct fwd_route *r)
{
	return route_lookup(ctx, k, r);
}

/* ---- the shell ---- */

struct route_watch *route_open(char *err, size_t errlen)
{
	struct route_watch *rw = calloc(1, sizeof *rw);
	struct timeval tv = { 0, ROUTE_LOOKUP_TIMEOUT_MS * 1000 };
	int rcvbuf = EVENT_RCVBUF;

	if (!rw) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rw->fd = rw->efd = -1;
	rw->cache = fwd_cache_new(ROUTE_CACHE_ENTRIES);
	if (!rw->cache) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	rw->fd = nl_socket(0, err, errlen);
	if (rw->fd < 0)
		goto fail;
	if (setsockopt(rw->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
		snprintf(err, errlen, "SO_RCVTIMEO: %s", strerror(errno));
		goto fail;
	}
	rw->efd = nl_socket(SOCK_NONBLOCK, err, errlen);
	if (rw->efd < 0)
		goto fail;
	/* Best effort: without it a burst of route events costs a resync. */
	(void)setsockopt(rw->efd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	for (size_t i = 0; i < sizeof event_groups / sizeof event_groups[0]; i++) {
		unsigned g = event_groups[i];

		if (setsockopt(rw->efd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof g) < 0) {
			snprintf(err, errlen, "netlink group %u: %s", g, strerror(errno));
			goto fail;
		}
	}
	/* Subscribed first, dumped second: no change falls between the two. */
	if (dump_addrs(rw) < 0) {
		snprintf(err, errlen, "address dump: %s",
			 errno == EAGAIN ? "no answer in time" : strerror(errno));
		goto fail;
	}
	return rw;
fail:
	route_close(rw);
	return NULL;
}

void route_close(struct route_watch *rw)
{
	if (!rw)
		return;
	if (rw->fd >= 0)
		close(rw->fd);
	if (rw->efd >= 0)
		close(rw->efd);
	fwd_cache_free(rw->cache);
	fwd_locals_free(&rw->locals);
	free(rw);
}

int route_event_fd(const struct route_watch *rw)
{
	return rw->efd;
}

static void resync(struct route_watch *rw)
{
	int64_t now = monotonic_ms();

	if (now < rw->resync_at_ms)
		return;
	rw->resync_at_ms = now + RESYNC_RETRY_MS;
	fwd_cache_flush(rw->cache);
	rw->st.resyncs++;
	if (dump_addrs(rw) == 0) {
		rw->resync = 0;
		log_info("route", "events were lost; addresses re-read");
	} else {
		rw->resync = 1;
		log_warn("route", "events were lost and the address dump failed; retrying");
	}
}

void route_process_events(struct route_watch *rw)
{
	int flush = 0;

	for (;;) {
		ssize_t got = recv(rw->efd, rw->buf, sizeof rw->buf, MSG_DONTWAIT);
		struct nlmsghdr *n;
		int len;

		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS)
				rw->resync = 1;	/* the kernel dropped events for us */
			break;
		}
		len = (int)got;
		for (n = (struct nlmsghdr *)rw->buf; NLMSG_OK(n, len); n = NLMSG_NEXT(n, len)) {
			switch (n->nlmsg_type) {
			case RTM_NEWADDR:
			case RTM_DELADDR:
				apply_addr(rw, n, n->nlmsg_type == RTM_NEWADDR);
				flush = 1;
				break;
			case RTM_NEWROUTE: case RTM_DELROUTE:
			case RTM_NEWRULE: case RTM_DELRULE:
			case RTM_NEWLINK: case RTM_DELLINK:
				flush = 1;
				break;
			default:
				break;
			}
		}
	}
	if (flush) {
		fwd_cache_flush(rw->cache);
		rw->st.flushes++;
	}
	if (rw->resync)
		resync(rw);
}

int route_classify(struct route_watch *rw, int kindex, unsigned arphrd, int outgoing,
		   const uint8_t *frame, uint32_t caplen, struct fwd_info *out)
{
	/* A dump that failed after lost events is retried before it matters. */
	if (rw->resync)
		resync(rw);
	return fwd_classify(&rw->locals, rw->cache, lookup_cb, rw, kindex, arphrd,
			    outgoing, frame, caplen, out);
}

void route_get_stats(const struct route_watch *rw, struct route_stats *st)
{
	*st = rw->st;
}
