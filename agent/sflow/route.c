/* The kernel's routing, mirrored over raw rtnetlink (see route.h). Two
 * sockets: one for dumps, blocking with a receive timeout, used at open and
 * when events say the mirror must be re-read; one subscribed to route, rule,
 * address, link, nexthop and netconf events, read without blocking. Frames
 * are classified from the mirror only. */
#include "sflow/route.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/netconf.h>
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
#include "sflow/core/fib.h"

#define RECV_BUF     32768
#define EVENT_RCVBUF (4 << 20)  /* a route flap of tens of thousands of entries fits */
#define RESYNC_RETRY_MS 1000    /* a failing re-dump is not retried at once */

/* One address of the host, for the agent address rule. */
struct haddr {
	int kindex;
	uint8_t family, secondary;
	uint8_t a[16];
	uint64_t seq;             /* arrival */
};

struct haddrs {
	struct haddr *v;          /* in getifaddrs(3)'s order, see haddr_before */
	size_t n, cap;
	uint64_t seq;
};

struct route_watch {
	int fd;                   /* dumps */
	int efd;                  /* events */
	uint32_t seq;
	int resync;               /* events lost: everything to be dumped again */
	int redump;               /* routes to be dumped again */
	int64_t retry_at_ms;      /* a failed re-dump: not before */
	struct fwd_locals locals;
	struct haddrs addrs;
	int addrs_changed;
	struct fib *fib;
	struct fwd_cache *cache;
	struct route_stats st;
	uint8_t buf[RECV_BUF];
};

static const unsigned event_groups[] = {
	RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE,
	RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_LINK, RTNLGRP_NEXTHOP,
	RTNLGRP_IPV4_NETCONF, RTNLGRP_IPV6_NETCONF,
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

/* ---- the host's addresses ---- */

/* getifaddrs(3)'s order, the kernel's dump order: IPv4 first, by
 * interface; an interface's IPv4 primary addresses first, oldest first (a
 * promoted secondary joins them last); its IPv6 addresses of one scope
 * newest first (ipv6_link_dev_addr inserts before its equals). */
static int haddr_before(const struct haddr *x, const struct haddr *y)
{
	if (x->family != y->family)
		return x->family == AF_INET;
	if (x->kindex != y->kindex)
		return x->kindex < y->kindex;
	if (x->family == AF_INET6)
		return x->seq > y->seq;
	if (x->secondary != y->secondary)
		return !x->secondary;
	return x->seq < y->seq;
}

static void haddrs_free(struct haddrs *h)
{
	free(h->v);
	memset(h, 0, sizeof *h);
}

static void haddrs_update(struct haddrs *h, int add, int kindex, int family, const uint8_t *a,
			  int secondary)
{
	struct haddr e = { kindex, (uint8_t)family, (uint8_t)(secondary != 0), { 0 }, 0 };
	size_t i;

	memcpy(e.a, a, alen(family));
	for (i = 0; i < h->n; i++)
		if (h->v[i].kindex == kindex && h->v[i].family == family &&
		    !memcmp(h->v[i].a, e.a, 16))
			break;
	if (i < h->n) {
		/* An update keeps its place, a promotion goes last. */
		e.seq = h->v[i].secondary == e.secondary ? h->v[i].seq : ++h->seq;
		memmove(&h->v[i], &h->v[i + 1], (h->n - i - 1) * sizeof *h->v);
		h->n--;
	} else {
		e.seq = ++h->seq;
	}
	if (!add)
		return;
	if (hf_grow(&h->v, h->n, &h->cap, sizeof *h->v, 16) < 0)
		return;
	for (i = h->n; i > 0 && haddr_before(&e, &h->v[i - 1]); i--)
		;
	memmove(&h->v[i + 1], &h->v[i], (h->n - i) * sizeof *h->v);
	h->v[i] = e;
	h->n++;
}

static void apply_addr(struct route_watch *rw, const struct nlmsghdr *n, int add)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(n);
	const struct rtattr *a;
	const uint8_t *local = NULL, *address = NULL, *bcast = NULL;
	int len = (int)n->nlmsg_len - (int)NLMSG_LENGTH(sizeof *ifa);
	uint32_t flags;

	if (len < 0 || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return;
	flags = ifa->ifa_flags;
	for (a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (RTA_PAYLOAD(a) < alen(ifa->ifa_family))
			continue;
		if (a->rta_type == IFA_LOCAL)
			local = RTA_DATA(a);
		else if (a->rta_type == IFA_ADDRESS)
			address = RTA_DATA(a);
		else if (a->rta_type == IFA_BROADCAST)
			bcast = RTA_DATA(a);
		else if (a->rta_type == IFA_FLAGS && RTA_PAYLOAD(a) >= 4)
			memcpy(&flags, RTA_DATA(a), 4);
	}
	/* IFA_LOCAL is ours; IFA_ADDRESS is the peer on point-to-point links. */
	if (!local)
		local = address;
	if (local) {
		haddrs_update(&rw->addrs, add, (int)ifa->ifa_index, ifa->ifa_family, local,
			      flags & IFA_F_SECONDARY);
		rw->addrs_changed = 1;
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

/* ---- what the kernel does not announce ---- */

/* One /proc/sys value, -1 when unreadable. */
static int read_sysctl(const char *path)
{
	char b[32];
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	got = read(fd, b, sizeof b - 1);
	close(fd);
	if (got <= 0)
		return -1;
	b[got] = 0;
	return atoi(b);
}

/* accept_local and route_localnet of a link ("all" for kindex 0): no
 * netconf event carries them, so they are read when the link appears. */
static void read_v4_conf(struct route_watch *rw, int kindex, const char *name)
{
	char p[128];
	int al, rl;

	snprintf(p, sizeof p, "/proc/sys/net/ipv4/conf/%s/accept_local", name);
	al = read_sysctl(p);
	snprintf(p, sizeof p, "/proc/sys/net/ipv4/conf/%s/route_localnet", name);
	rl = read_sysctl(p);
	fib_set_v4_conf(rw->fib, kindex, al > 0, rl > 0);
}

/* A link the mirror did not know: its switches from /proc. */
static void new_link(struct route_watch *rw, const struct nlmsghdr *n)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(n);
	int len = (int)n->nlmsg_len - (int)NLMSG_LENGTH(sizeof *ifi);

	if (len < 0 || ifi->ifi_family != AF_UNSPEC)
		return;
	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_IFNAME && RTA_PAYLOAD(a) > 0 && RTA_PAYLOAD(a) <= IFNAMSIZ) {
			char name[IFNAMSIZ];

			memcpy(name, RTA_DATA(a), RTA_PAYLOAD(a));
			name[RTA_PAYLOAD(a) - 1] = 0;
			if (name[0] && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, ".."))
				read_v4_conf(rw, ifi->ifi_index, name);
			return;
		}
	}
}

/* ---- messages ---- */

/* One message of a dump or an event, into the mirror and the addresses. */
static enum fib_change apply(struct route_watch *rw, const struct nlmsghdr *n, int64_t now)
{
	switch (n->nlmsg_type) {
	case RTM_NEWADDR:
	case RTM_DELADDR:
		apply_addr(rw, n, n->nlmsg_type == RTM_NEWADDR);
		break;
	case RTM_DELLINK:
		rw->addrs_changed = 1;	/* a name or a flag the agent rule reads */
		break;
	case RTM_NEWLINK:
		rw->addrs_changed = 1;
		/* A link the mirror has not seen yet: its /proc switches. */
		if (n->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg)) &&
		    !fib_link_known(rw->fib, ((const struct ifinfomsg *)NLMSG_DATA(n))->ifi_index))
			new_link(rw, n);
		break;
	case RTM_NEWNEXTHOP:
	case RTM_DELNEXTHOP:
		/* Routes through nexthop objects show what they resolve to:
		 * a changed object changes them, said or not. */
		return FIB_CHANGED | FIB_REDUMP;
	default:
		break;
	}
	return fib_apply(rw->fib, n, now);
}

/* Sends a dump request of type for family; 0, or -1. */
static int request(struct route_watch *rw, uint16_t type, uint8_t family, uint32_t *seq)
{
	struct {
		struct nlmsghdr n;
		struct rtgenmsg g;
		uint8_t pad[16];      /* room for the largest family header below */
	} req;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	size_t hdr;

	memset(&req, 0, sizeof req);
	switch (type) {
	case RTM_GETLINK: hdr = sizeof(struct ifinfomsg); break;
	case RTM_GETADDR: hdr = sizeof(struct ifaddrmsg); break;
	case RTM_GETROUTE: hdr = sizeof(struct rtmsg); break;
	case RTM_GETRULE: hdr = sizeof(struct fib_rule_hdr); break;
	case RTM_GETNETCONF: hdr = sizeof(struct netconfmsg); break;
	default: return -1;
	}
	*seq = ++rw->seq;
	req.n.nlmsg_len = (uint32_t)NLMSG_LENGTH(hdr);
	req.n.nlmsg_type = type;
	req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.n.nlmsg_seq = *seq;
	req.g.rtgen_family = family;	/* every family header starts with it */
	rw->st.requests++;
	return sendto(rw->fd, &req, req.n.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) ==
	       (ssize_t)req.n.nlmsg_len ? 0 : -1;
}

/* One dump into the mirror. 0, -1 (timeout, error), or DUMP_AGAIN when the
 * kernel's state moved under it (what it missed may not come as events). */
#define DUMP_AGAIN -2
static int dump(struct route_watch *rw, uint16_t type, uint8_t family, int64_t now)
{
	uint32_t seq;
	int intr = 0, lost = 0;

	if (request(rw, type, family, &seq) < 0)
		return -1;
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
				continue;	/* a late answer to an earlier request */
			if (n->nlmsg_type == NLMSG_DONE) {
				if (lost)
					return -1;
				return intr || (n->nlmsg_flags & NLM_F_DUMP_INTR) ? DUMP_AGAIN : 0;
			}
			if (n->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(n);

				/* A family without the table (IPv6 off): empty. */
				if (n->nlmsg_len >= NLMSG_LENGTH(sizeof *e) &&
				    (e->error == -EAFNOSUPPORT || e->error == -EOPNOTSUPP))
					return 0;
				return -1;
			}
			if (n->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = 1;	/* the kernel's state moved under the dump */
			if (apply(rw, n, now) & FIB_RESYNC)
				lost = 1;	/* out of memory: the dump is not whole */
		}
	}
}

#define DUMP_TRIES 3   /* a dump the kernel interrupted is made again, this often */

static int dump_routes(struct route_watch *rw, int64_t now)
{
	for (int i = 0; i < DUMP_TRIES; i++) {
		int rc;

		fib_clear_routes(rw->fib);
		rc = dump(rw, RTM_GETROUTE, AF_INET, now);
		if (rc == 0)
			rc = dump(rw, RTM_GETROUTE, AF_INET6, now);
		if (rc != DUMP_AGAIN)
			return rc;
	}
	return -1;
}

/* Everything, into a fresh mirror and address set that replace the old
 * ones only when complete. 0, or -1 (the old ones stay). */
static int dump_all(struct route_watch *rw, int64_t now)
{
	static const struct { uint16_t type; uint8_t family; } what[] = {
		{ RTM_GETLINK, AF_UNSPEC }, { RTM_GETADDR, AF_UNSPEC },
		{ RTM_GETNETCONF, AF_INET }, { RTM_GETNETCONF, AF_INET6 },
		{ RTM_GETRULE, AF_INET }, { RTM_GETRULE, AF_INET6 },
		{ RTM_GETROUTE, AF_INET }, { RTM_GETROUTE, AF_INET6 },
	};
	struct fib *old_fib = rw->fib;
	struct fwd_locals old_locals = rw->locals;
	struct haddrs old_addrs = rw->addrs;
	int rc = -1;

	for (int t = 0; t < DUMP_TRIES && rc != 0; t++) {
		if (rw->fib != old_fib) {
			fib_free(rw->fib);
			fwd_locals_free(&rw->locals);
			haddrs_free(&rw->addrs);
		}
		rw->fib = fib_new();
		memset(&rw->locals, 0, sizeof rw->locals);
		memset(&rw->addrs, 0, sizeof rw->addrs);
		if (!rw->fib)
			break;
		read_v4_conf(rw, 0, "all");
		rc = 0;
		for (size_t i = 0; i < sizeof what / sizeof what[0] && rc == 0; i++)
			rc = dump(rw, what[i].type, what[i].family, now);
	}
	if (rc == 0) {
		fib_free(old_fib);
		fwd_locals_free(&old_locals);
		haddrs_free(&old_addrs);
		rw->addrs_changed = 1;
		return 0;
	}
	fib_free(rw->fib);
	fwd_locals_free(&rw->locals);
	haddrs_free(&rw->addrs);
	rw->fib = old_fib;
	rw->locals = old_locals;
	rw->addrs = old_addrs;
	return -1;
}

/* ---- the shell ---- */

struct route_watch *route_open(char *err, size_t errlen)
{
	struct route_watch *rw = calloc(1, sizeof *rw);
	struct timeval tv = { ROUTE_DUMP_TIMEOUT_MS / 1000, (ROUTE_DUMP_TIMEOUT_MS % 1000) * 1000 };
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
	/* Subscribed first, dumped second: no change falls between the two
	 * (one seen twice is applied once). */
	if (dump_all(rw, monotonic_ms()) < 0) {
		snprintf(err, errlen, "routing dump: %s",
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
	fib_free(rw->fib);
	fwd_locals_free(&rw->locals);
	haddrs_free(&rw->addrs);
	free(rw);
}

int route_event_fd(const struct route_watch *rw)
{
	return rw->efd;
}

/* What events asked for and a failure left to do: a full re-read after lost
 * events, else the routes again. A failure is retried after a pause. */
static void catch_up(struct route_watch *rw, int64_t now)
{
	if (now < rw->retry_at_ms)
		return;
	if (rw->resync) {
		rw->st.resyncs++;
		if (dump_all(rw, now) == 0) {
			rw->resync = rw->redump = 0;
			log_info("route", "events were lost; the routing was read again");
		} else {
			rw->retry_at_ms = now + RESYNC_RETRY_MS;
			log_warn("route", "events were lost and the routing dump failed; retrying");
		}
	} else if (rw->redump) {
		rw->st.route_dumps++;
		if (dump_routes(rw, now) == 0) {
			rw->redump = 0;
		} else {
			/* Half a dump is not the kernel's routing: say "unknown"
			 * until all of it is read again. */
			fib_set_incomplete(rw->fib, 1);
			rw->resync = 1;
			rw->retry_at_ms = now + RESYNC_RETRY_MS;
			log_warn("route", "the route dump failed; retrying");
		}
	}
}

void route_process_events(struct route_watch *rw)
{
	int64_t now = monotonic_ms();

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
			enum fib_change ch;

			rw->st.events++;
			ch = apply(rw, n, now);
			if (ch & FIB_REDUMP)
				rw->redump = 1;
			if (ch & FIB_RESYNC)
				rw->resync = 1;
		}
	}
	catch_up(rw, now);
}

int route_classify(struct route_watch *rw, int64_t now, int kindex, unsigned arphrd,
		   int outgoing, const uint8_t *frame, uint32_t caplen, struct fwd_info *out)
{
	return fwd_classify(&rw->locals, rw->cache, rw->fib, now, kindex, arphrd, outgoing,
			    frame, caplen, out);
}

size_t route_addresses(const struct route_watch *rw, struct agentaddr_cand **out)
{
	struct agentaddr_cand *c = rw->addrs.n ? calloc(rw->addrs.n, sizeof *c) : NULL;

	*out = c;
	if (!c)
		return 0;
	for (size_t i = 0; i < rw->addrs.n; i++) {
		const struct haddr *h = &rw->addrs.v[i];

		(void)fib_link_info(rw->fib, h->kindex, c[i].ifname, sizeof c[i].ifname, &c[i].flags);
		c[i].addr.family = h->family;
		memcpy(c[i].addr.a, h->a, alen(h->family));
	}
	return rw->addrs.n;
}

int route_addresses_changed(struct route_watch *rw)
{
	int was = rw->addrs_changed;

	rw->addrs_changed = 0;
	return was;
}

void route_get_stats(const struct route_watch *rw, struct route_stats *st)
{
	*st = rw->st;
	fwd_cache_stats(rw->cache, &st->hits, &st->misses);
	st->cached = fwd_cache_count(rw->cache);
	st->routes = fib_route_count(rw->fib, AF_INET) + fib_route_count(rw->fib, AF_INET6);
}
