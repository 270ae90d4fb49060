/* The kernel side: link events, link dumps, counters and ethtool speed of
 * the network namespace the process was in when netlink_open() ran. Links
 * go through libnl; counters through a plain rtnetlink socket asking for
 * IFLA_STATS_LINK_64 only (RTM_GETSTATS), which costs the kernel and us a
 * fraction of a link message. */
#include "table/netlink.h"
#include "table/snapshot.h"   /* link_stats_open, link_stats_close */

#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/route/link.h>

#include "base/log.h"
#include "base/util.h"

/* A burst of 1000 RTM_NEWLINK messages (each ~1.5 KB, with skb overhead a
 * few KB of receive buffer) must fit; SO_RCVBUFFORCE lets root go past
 * net.core.rmem_max. If it still overflows, the kernel reports ENOBUFS and
 * the caller dumps. */
#define NL_EVENT_RCVBUF (16 * 1024 * 1024)
/* A counter reply: the kernel fills dump messages up to 32 KiB
 * (netlink_dump), so a larger buffer never truncates one. */
#define LINK_STATS_BUF (64 * 1024)

/* A link as the last dump or a later event left it; flags and operstate
 * decide whether its speed is stale. */
struct known {
	struct kernel_link l;
	unsigned flags;
	uint8_t operstate;
	uint8_t gone;             /* deleted: skipped, compacted by netlink_links */
};

struct netlink {
	struct nl_sock *ev;       /* RTNLGRP_LINK events, non-blocking */
	struct nl_sock *dump;     /* requests: dumps */
	struct nl_cb *ev_cb;
	int ethfd;                /* any dgram socket: SIOCETHTOOL reaches dev_ioctl */
	int changed;              /* set by the event callback during a drain */
	int unparsed;             /* an event could not be applied: dump */
	struct known *k;          /* sorted by kindex, unique: dump + events since */
	size_t nk, capk;
};

struct link_stats {
	int fd;
	uint32_t seq;
	uint8_t buf[LINK_STATS_BUF];
};

/* IANAifType (IANAifType-MIB) per ARPHRD_*. The one mapping: IF-MIB ifType
 * and the sFlow generic counter record both use it. Point-to-point devices
 * without a link layer (tun, wireguard: ARPHRD_NONE) and IP tunnels are
 * tunnel(131), not other(1) as net-snmp says nor ethernet(6) as hsflowd says. */
static const struct {
	unsigned arphrd;
	uint32_t iftype;
} iftype_map[] = {
	{ ARPHRD_ETHER, 6 },            /* ethernetCsmacd */
	{ ARPHRD_LOOPBACK, 24 },        /* softwareLoopback */
	{ ARPHRD_NONE, 131 },           /* tunnel: tun, wireguard */
	{ ARPHRD_PPP, 23 },             /* ppp */
	{ ARPHRD_SIT, 131 },            /* tunnel */
	{ ARPHRD_TUNNEL, 131 },
	{ ARPHRD_TUNNEL6, 131 },
	{ ARPHRD_IPGRE, 131 },
	{ ARPHRD_IP6GRE, 131 },
	{ ARPHRD_INFINIBAND, 199 },     /* infiniband */
	{ ARPHRD_IEEE80211, 71 },       /* ieee80211 */
	{ ARPHRD_IEEE80211_PRISM, 71 },
	{ ARPHRD_IEEE80211_RADIOTAP, 71 },
};

uint32_t netlink_iftype(unsigned arphrd)
{
	for (size_t i = 0; i < sizeof iftype_map / sizeof iftype_map[0]; i++)
		if (iftype_map[i].arphrd == arphrd)
			return iftype_map[i].iftype;
	return 1; /* other */
}

/* rtnl_link_stats64 -> IF-MIB / sFlow counters. The one mapping, served by both:
 *   in_octets    = rx_bytes
 *   in_mcast     = multicast (Linux counts received multicast only)
 *   in_ucast     = rx_packets - multicast, never below 0
 *   in_bcast     = 0 (Linux keeps no broadcast count)
 *   in_discards  = rx_dropped
 *   in_errors    = rx_errors
 *   in_unknown   = rx_nohandler
 *   out_octets   = tx_bytes
 *   out_ucast    = tx_packets (no transmit multicast/broadcast count exists)
 *   out_mcast    = out_bcast = 0
 *   out_discards = tx_dropped
 *   out_errors   = tx_errors */
void netlink_counters(const struct rtnl_link_stats64 *st, struct if_counters *c)
{
	memset(c, 0, sizeof *c);
	c->in_octets = st->rx_bytes;
	c->in_mcast = st->multicast;
	c->in_ucast = st->rx_packets > st->multicast ? st->rx_packets - st->multicast : 0;
	c->in_discards = st->rx_dropped;
	c->in_errors = st->rx_errors;
	c->in_unknown = st->rx_nohandler;
	c->out_octets = st->tx_bytes;
	c->out_ucast = st->tx_packets;
	c->out_discards = st->tx_dropped;
	c->out_errors = st->tx_errors;
}

/* IFLA_OPERSTATE (RFC 2863 values as the kernel names them) -> ifOperStatus.
 * An admin-down interface is oper down whatever the driver says (RFC 2863).
 * UNKNOWN means the driver does not track it (loopback always, tun and
 * wireguard on some kernels); operstates.rst says to treat such a link as
 * usable when it is up with carrier, as net-snmp does: up(1), else down(2). */
int netlink_oper_status(uint8_t operstate, unsigned flags)
{
	if (!(flags & IFF_UP))
		return 2;
	switch (operstate) {
	case IF_OPER_UP: return 1;
	case IF_OPER_DOWN: return 2;
	case IF_OPER_TESTING: return 3;
	case IF_OPER_DORMANT: return 5;
	case IF_OPER_NOTPRESENT: return 6;
	case IF_OPER_LOWERLAYERDOWN: return 7;
	case IF_OPER_UNKNOWN: return flags & IFF_LOWER_UP ? 1 : 2;
	default: return 4; /* newer than RFC 2863's list */
	}
}

static uint64_t mbps_to_bps(uint32_t mbps)
{
	/* SPEED_UNKNOWN is (u32)-1; old drivers report 0xFFFF for unknown. */
	if (mbps == 0 || mbps == (uint32_t)SPEED_UNKNOWN || mbps == 0xFFFF)
		return 0;
	return (uint64_t)mbps * 1000000u;
}

/* ETHTOOL_GLINKSETTINGS with its two-step handshake on the mask size. The
 * masks follow the struct; nwords is an s8, so 3 * 127 words always fit.
 * Heap storage: a struct with a flexible array cannot be embedded. */
#define LINKSET_SIZE (sizeof(struct ethtool_link_settings) + 3 * 127 * sizeof(uint32_t))

static enum if_duplex duplex_of(uint8_t d)
{
	return d == DUPLEX_FULL ? IF_DUPLEX_FULL : d == DUPLEX_HALF ? IF_DUPLEX_HALF
								    : IF_DUPLEX_UNKNOWN;
}

static int speed_glinksettings(int fd, const char *name, uint64_t *bps, enum if_duplex *dx)
{
	struct ethtool_link_settings *req = calloc(1, LINKSET_SIZE);
	struct ifreq ifr;
	int rc = -1;

	if (!req)
		return -1;
	memset(&ifr, 0, sizeof ifr);
	hf_strlcpy(ifr.ifr_name, name, sizeof ifr.ifr_name);
	req->cmd = ETHTOOL_GLINKSETTINGS;
	ifr.ifr_data = (void *)req;
	/* The kernel answers the first call with -nwords it wants. */
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0 || req->link_mode_masks_nwords >= 0 ||
	    req->cmd != ETHTOOL_GLINKSETTINGS)
		goto out;
	req->link_mode_masks_nwords = -req->link_mode_masks_nwords;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0 || req->link_mode_masks_nwords <= 0 ||
	    req->cmd != ETHTOOL_GLINKSETTINGS)
		goto out;
	*bps = mbps_to_bps(req->speed);
	*dx = duplex_of(req->duplex);
	rc = 0;
out:
	free(req);
	return rc;
}

static int speed_gset(int fd, const char *name, uint64_t *bps, enum if_duplex *dx)
{
	struct ethtool_cmd cmd;
	struct ifreq ifr;

	memset(&cmd, 0, sizeof cmd);
	memset(&ifr, 0, sizeof ifr);
	hf_strlcpy(ifr.ifr_name, name, sizeof ifr.ifr_name);
	cmd.cmd = ETHTOOL_GSET;
	ifr.ifr_data = (void *)&cmd;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		return -1;
	*bps = mbps_to_bps(ethtool_cmd_speed(&cmd));
	*dx = duplex_of(cmd.duplex);
	return 0;
}

/* Speed and duplex. Errors (EOPNOTSUPP; EINVAL for a down veth or tun)
 * mean "unknown": 0. */
static void read_speed(int fd, const char *name, uint64_t *bps, enum if_duplex *dx)
{
	*bps = 0;
	*dx = IF_DUPLEX_UNKNOWN;
	if (fd < 0)
		return;
	if (speed_glinksettings(fd, name, bps, dx) == 0)
		return;
	if (speed_gset(fd, name, bps, dx) == 0)
		return;
	*bps = 0;
	*dx = IF_DUPLEX_UNKNOWN;
}

/* SIOCETHTOOL works on any socket whose family passes unknown ioctls to
 * dev_ioctl(); AF_UNIX needs no IP stack, AF_INET is the fallback. The
 * socket belongs to the namespace it was created in, like the netlink ones. */
static int open_ethtool_fd(void)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return fd;
}

static void on_link_object(struct nl_object *obj, void *arg);
static void known_remove(struct netlink *nl, int kindex);

/* Link events carry the whole link (RTM_NEWLINK: every IFLA_* a dump has,
 * IFLA_STATS64 included): applied to the list here, so a burst of a
 * thousand events costs no dump at all. Only AF_UNSPEC messages describe
 * the link itself; AF_INET6 and AF_BRIDGE ones (IPv6 settings, a bridge
 * port leaving its bridge: RTM_DELLINK) are side notes to be ignored. */
static int on_event(struct nl_msg *msg, void *arg)
{
	struct netlink *nl = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	const struct ifinfomsg *ifi;
	int rc;

	if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
		return NL_OK;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof *ifi)) {
		nl->unparsed = 1;
		return NL_OK;
	}
	ifi = nlmsg_data(h);
	if (ifi->ifi_family != AF_UNSPEC)
		return NL_OK;
	nl->changed = 1;
	if (h->nlmsg_type == RTM_DELLINK) {
		known_remove(nl, ifi->ifi_index);
		return NL_OK;
	}
	rc = nl_msg_parse(msg, on_link_object, nl);
	if (rc < 0) {
		log_debug("netlink", "cannot parse a link event: %s", nl_geterror(rc));
		nl->unparsed = 1;
	}
	return NL_OK;
}

static int set_rcvbuf(struct nl_sock *sk, int size)
{
	int fd = nl_socket_get_fd(sk);

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) == 0)
		return 0;
	/* Not root: as much as rmem_max allows. */
	return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

static int open_event_socket(struct netlink *nl, char *err, size_t errlen)
{
	int rc;

	nl->ev = nl_socket_alloc();
	if (!nl->ev) {
		snprintf(err, errlen, "netlink: out of memory");
		return -1;
	}
	nl_socket_disable_seq_check(nl->ev);
	nl_socket_disable_auto_ack(nl->ev);
	rc = nl_connect(nl->ev, NETLINK_ROUTE);
	if (rc == 0)
		rc = nl_socket_add_membership(nl->ev, RTNLGRP_LINK);
	if (rc == 0)
		rc = nl_socket_set_nonblocking(nl->ev);
	if (rc < 0) {
		snprintf(err, errlen, "netlink event socket: %s", nl_geterror(rc));
		return -1;
	}
	if (set_rcvbuf(nl->ev, NL_EVENT_RCVBUF) < 0)
		log_warn("netlink", "cannot enlarge the event receive buffer: %s",
			 strerror(errno));
	nl->ev_cb = nl_socket_get_cb(nl->ev);
	nl_cb_set(nl->ev_cb, NL_CB_VALID, NL_CB_CUSTOM, on_event, nl);
	return 0;
}

struct netlink *netlink_open(char *err, size_t errlen)
{
	struct netlink *nl = calloc(1, sizeof *nl);
	int rc;

	if (!nl) {
		snprintf(err, errlen, "netlink: out of memory");
		return NULL;
	}
	nl->ethfd = -1;
	if (open_event_socket(nl, err, errlen) < 0)
		goto fail;
	nl->dump = nl_socket_alloc();
	if (!nl->dump) {
		snprintf(err, errlen, "netlink: out of memory");
		goto fail;
	}
	rc = nl_connect(nl->dump, NETLINK_ROUTE);
	if (rc < 0) {
		snprintf(err, errlen, "netlink dump socket: %s", nl_geterror(rc));
		goto fail;
	}
	nl->ethfd = open_ethtool_fd();
	if (nl->ethfd < 0)
		log_warn("netlink", "no socket for ethtool, speeds read as 0: %s",
			 strerror(errno));
	return nl;
fail:
	netlink_close(nl);
	return NULL;
}

void netlink_close(struct netlink *nl)
{
	if (!nl)
		return;
	if (nl->ev_cb)
		nl_cb_put(nl->ev_cb);
	nl_socket_free(nl->ev);   /* closes its fd; NULL-safe */
	nl_socket_free(nl->dump);
	if (nl->ethfd >= 0)
		close(nl->ethfd);
	free(nl->k);
	free(nl);
}

int netlink_event_fd(const struct netlink *nl)
{
	return nl_socket_get_fd(nl->ev);
}

enum netlink_events netlink_drain_events(struct netlink *nl)
{
	int overrun = 0, failed = 0;

	nl->changed = 0;
	nl->unparsed = 0;
	for (;;) {
		int rc = nl_recvmsgs_report(nl->ev, nl->ev_cb);

		if (rc > 0)
			continue;
		if (rc == 0 || rc == -NLE_AGAIN)
			break;
		if (rc == -NLE_NOMEM) {
			/* ENOBUFS: the kernel dropped events; keep emptying
			 * the queue, then ask for a dump. */
			if (!overrun)
				log_warn("netlink", "event queue overrun, dumping links");
			overrun = 1;
			continue;
		}
		log_warn("netlink", "reading events: %s", nl_geterror(rc));
		failed = 1;
		break;
	}
	if (overrun || failed || nl->unparsed)
		return NETLINK_LOST;
	return nl->changed ? NETLINK_CHANGED : NETLINK_UNCHANGED;
}

/* Order for de-duplication: by kindex, the AF_UNSPEC object first (libnl 3.7
 * may add an AF_INET6 object for the same ifindex that reports carrier
 * down; libnl issues #264, #287, #411). */
struct dump_item {
	struct rtnl_link *link;
	int kindex;
	int family_rank;
	size_t seq;
};

static int cmp_item(const void *a, const void *b)
{
	const struct dump_item *x = a, *y = b;

	if (x->kindex != y->kindex)
		return x->kindex < y->kindex ? -1 : 1;
	if (x->family_rank != y->family_rank)
		return x->family_rank - y->family_rank;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Position of kindex in nl->k, or where it would go. */
static size_t known_pos(const struct known *k, size_t n, int kindex, int *found)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k[mid].l.kindex == kindex) {
			*found = 1;
			return mid;
		}
		if (k[mid].l.kindex < kindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

static const struct known *known_find(const struct known *k, size_t n, int kindex)
{
	int found;
	size_t i = known_pos(k, n, kindex, &found);

	return found && !k[i].gone ? &k[i] : NULL;
}

static void fill_link(struct kernel_link *o, struct rtnl_link *l)
{
	struct nl_addr *addr = rtnl_link_get_addr(l);
	const char *name = rtnl_link_get_name(l);
	const char *alias = rtnl_link_get_ifalias(l);
	unsigned flags = rtnl_link_get_flags(l);

	memset(o, 0, sizeof *o);
	o->kindex = rtnl_link_get_ifindex(l);
	hf_strlcpy(o->name, name ? name : "", sizeof o->name);
	hf_strlcpy(o->alias, alias ? alias : "", sizeof o->alias);
	o->arphrd = rtnl_link_get_arptype(l);
	o->iftype = netlink_iftype(o->arphrd);
	o->mtu = rtnl_link_get_mtu(l);
	if (addr && nl_addr_get_len(addr) <= sizeof o->mac) {
		o->maclen = nl_addr_get_len(addr);
		memcpy(o->mac, nl_addr_get_binary_addr(addr), o->maclen);
	}
	o->admin_up = !!(flags & IFF_UP);
	o->promisc = !!(flags & IFF_PROMISC);
	o->oper = netlink_oper_status(rtnl_link_get_operstate(l), flags);
}

/* *e from libnl's object; the speed and duplex from old (the same link as
 * last seen) when its flags, operstate and name are unchanged, else one
 * ethtool call. */
static void make_known(struct netlink *nl, struct known *e, struct rtnl_link *l,
		       const struct known *old)
{
	fill_link(&e->l, l);
	e->gone = 0;
	e->flags = rtnl_link_get_flags(l);
	e->operstate = rtnl_link_get_operstate(l);
	/* The kernel itself calls the speed of a stopped device unknown
	 * (/sys/class/net/X/speed fails with EINVAL); ethtool would still
	 * report a virtual device's nominal speed. Serve 0, like /sys. */
	if (!(e->flags & IFF_UP)) {
		e->l.speed_bps = 0;
		e->l.duplex = IF_DUPLEX_UNKNOWN;
	} else if (old && old->flags == e->flags && old->operstate == e->operstate &&
		   strcmp(old->l.name, e->l.name) == 0) {
		e->l.speed_bps = old->l.speed_bps;
		e->l.duplex = old->l.duplex;
	} else {
		read_speed(nl->ethfd, e->l.name, &e->l.speed_bps, &e->l.duplex);
	}
}

/* RTM_NEWLINK, parsed by libnl: insert or replace. */
static void on_link_object(struct nl_object *obj, void *arg)
{
	struct netlink *nl = arg;
	struct rtnl_link *l = (struct rtnl_link *)obj;
	struct known e;
	int found, kindex = rtnl_link_get_ifindex(l);
	size_t i;

	/* on_event checked ifi_family; libnl may report another family here
	 * (AF_BRIDGE for a bridge), so it is not checked again. */
	if (kindex <= 0)
		return;
	i = known_pos(nl->k, nl->nk, kindex, &found);
	if (found && nl->k[i].gone) {
		/* The kernel gave a deleted link's number to a new one. */
		make_known(nl, &nl->k[i], l, NULL);
		return;
	}
	make_known(nl, &e, l, found ? &nl->k[i] : NULL);
	if (found) {
		nl->k[i] = e;
		return;
	}
	if (nl->nk == nl->capk) {
		size_t cap = nl->capk ? nl->capk * 2 : 64;
		struct known *k = realloc(nl->k, cap * sizeof *k);

		if (!k) {
			nl->unparsed = 1; /* a dump will try again */
			return;
		}
		nl->k = k;
		nl->capk = cap;
	}
	memmove(&nl->k[i + 1], &nl->k[i], (nl->nk - i) * sizeof *nl->k);
	nl->k[i] = e;
	nl->nk++;
}

/* Marked, not moved: 2000 deletions in a row would move the list 2000
 * times. netlink_links() compacts. */
static void known_remove(struct netlink *nl, int kindex)
{
	int found;
	size_t i = known_pos(nl->k, nl->nk, kindex, &found);

	if (found)
		nl->k[i].gone = 1;
}

static int collect(struct nl_cache *cache, struct dump_item **out, size_t *n)
{
	size_t cap = (size_t)nl_cache_nitems(cache), k = 0;
	struct dump_item *it = calloc(cap ? cap : 1, sizeof *it);
	struct nl_object *obj;

	if (!it)
		return -1;
	for (obj = nl_cache_get_first(cache); obj && k < cap; obj = nl_cache_get_next(obj)) {
		struct rtnl_link *l = (struct rtnl_link *)obj;

		it[k].link = l;
		it[k].kindex = rtnl_link_get_ifindex(l);
		it[k].family_rank = rtnl_link_get_family(l) == AF_UNSPEC ? 0 : 1;
		it[k].seq = k;
		k++;
	}
	qsort(it, k, sizeof *it, cmp_item);
	*out = it;
	*n = k;
	return 0;
}

/* The dump replaces the list (speeds carried over from it). */
static int build_known(struct netlink *nl, struct dump_item *it, size_t k)
{
	struct known *kn = calloc(k ? k : 1, sizeof *kn);
	size_t m = 0;

	if (!kn)
		return -1;
	for (size_t i = 0; i < k; i++) {
		if (it[i].kindex <= 0 || (m && kn[m - 1].l.kindex == it[i].kindex))
			continue;
		make_known(nl, &kn[m], it[i].link, known_find(nl->k, nl->nk, it[i].kindex));
		m++;
	}
	free(nl->k);
	nl->k = kn;
	nl->nk = m;
	nl->capk = k ? k : 1;
	return 0;
}

int netlink_links(struct netlink *nl, struct kernel_link **out, size_t *n)
{
	struct kernel_link *links = malloc((nl->nk ? nl->nk : 1) * sizeof *links);
	size_t m = 0;

	*out = NULL;
	*n = 0;
	if (!links)
		return -1;
	for (size_t i = 0; i < nl->nk; i++) {
		if (nl->k[i].gone)
			continue;
		nl->k[m] = nl->k[i];
		links[m++] = nl->k[i].l;
	}
	nl->nk = m;
	*out = links;
	*n = m;
	return 0;
}

int netlink_dump(struct netlink *nl, struct kernel_link **out, size_t *n)
{
	struct nl_cache *cache = NULL;
	struct dump_item *it = NULL;
	size_t k = 0;
	int rc;

	*out = NULL;
	*n = 0;
	rc = rtnl_link_alloc_cache(nl->dump, AF_UNSPEC, &cache);
	if (rc < 0) {
		log_warn("netlink", "link dump: %s", nl_geterror(rc));
		return -1;
	}
	rc = collect(cache, &it, &k);
	if (rc == 0)
		rc = build_known(nl, it, k);
	free(it);
	nl_cache_free(cache);
	if (rc == 0)
		rc = netlink_links(nl, out, n);
	/* One line per dump: what test_fault_churn and bench_churn count. */
	if (rc == 0)
		log_debug("netlink", "dumped %zu links", *n);
	return rc;
}

/* ---- counters: RTM_GETSTATS, IFLA_STATS_LINK_64 only ---- */

struct link_stats *link_stats_open(void)
{
	struct link_stats *s = calloc(1, sizeof *s);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	if (!s)
		return NULL;
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		link_stats_close(s);
		return NULL;
	}
	return s;
}

void link_stats_close(struct link_stats *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

static int stats_request(struct link_stats *s, int kindex)
{
	struct {
		struct nlmsghdr h;
		struct if_stats_msg m;
	} req;

	memset(&req, 0, sizeof req);
	req.h.nlmsg_len = sizeof req;
	req.h.nlmsg_type = RTM_GETSTATS;
	req.h.nlmsg_flags = NLM_F_REQUEST | (kindex ? 0 : NLM_F_DUMP);
	req.h.nlmsg_seq = ++s->seq;
	req.m.family = AF_UNSPEC;
	req.m.ifindex = (uint32_t)kindex;
	req.m.filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64);
	return send(s->fd, &req, sizeof req, 0) == (ssize_t)sizeof req ? 0 : -1;
}

/* One RTM_NEWSTATS message: its link and counters; -1 when malformed or
 * without IFLA_STATS_LINK_64. A shorter struct (an older kernel) reads as
 * zeros beyond its end. */
static int stats_parse(const struct nlmsghdr *h, int *kindex, struct if_counters *c)
{
	const struct if_stats_msg *m = NLMSG_DATA(h);
	size_t off = NLMSG_ALIGN(sizeof *m);
	size_t len = h->nlmsg_len - NLMSG_HDRLEN;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof *m))
		return -1;
	while (off + sizeof(struct nlattr) <= len) {
		const struct nlattr *a = (const void *)((const uint8_t *)m + off);

		if (a->nla_len < sizeof *a || off + a->nla_len > len)
			return -1;
		if ((a->nla_type & NLA_TYPE_MASK) == IFLA_STATS_LINK_64) {
			struct rtnl_link_stats64 st;
			size_t n = a->nla_len - NLA_HDRLEN;

			memset(&st, 0, sizeof st);
			memcpy(&st, (const uint8_t *)a + NLA_HDRLEN, n < sizeof st ? n : sizeof st);
			netlink_counters(&st, c);
			*kindex = (int)m->ifindex;
			return 0;
		}
		off += NLA_ALIGN(a->nla_len);
	}
	return -1;
}

/* Reads the replies to request s->seq until it is answered (one message,
 * or NLMSG_DONE for a dump), handing each link to fn. 0, or -1 on an error
 * (the link is gone: ENODEV). */
static int stats_replies(struct link_stats *s, int dump,
			 void (*fn)(void *ctx, int kindex, const struct if_counters *c),
			 void *ctx)
{
	for (;;) {
		ssize_t r = recv(s->fd, s->buf, sizeof s->buf, 0);
		const struct nlmsghdr *h = (const void *)s->buf;
		size_t left;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		for (left = (size_t)r; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			struct if_counters c;
			int kindex;

			/* Left over from a request given up on earlier. */
			if (h->nlmsg_seq != s->seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -1;
			if (h->nlmsg_type == RTM_NEWSTATS && stats_parse(h, &kindex, &c) == 0)
				fn(ctx, kindex, &c);
			if (!dump)
				return 0;
		}
	}
}

struct one_link {
	int kindex;
	struct if_counters *out;
	int found;
};

static void take_one(void *ctx, int kindex, const struct if_counters *c)
{
	struct one_link *o = ctx;

	if (kindex == o->kindex) {
		*o->out = *c;
		o->found = 1;
	}
}

int link_stats_read(struct link_stats *s, int kindex, struct if_counters *out)
{
	struct one_link o = { kindex, out, 0 };

	if (kindex <= 0 || stats_request(s, kindex) < 0 ||
	    stats_replies(s, 0, take_one, &o) < 0)
		return -1;
	return o.found ? 0 : -1;
}

int link_stats_dump(struct link_stats *s,
		    void (*fn)(void *ctx, int kindex, const struct if_counters *c), void *ctx)
{
	if (stats_request(s, 0) < 0)
		return -1;
	return stats_replies(s, 1, fn, ctx);
}
