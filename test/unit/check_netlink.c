/* The kernel side against a real kernel: every test runs in its own forked
 * child inside a private network namespace, with links made by ip(8). */
#include <check.h>
#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <errno.h>
#include <net/if_arp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hf_check.h"
#include "table/netlink.h"
#include "table/snapshot.h"
#include <linux/if.h> /* after net/if.h (netlink.h): IFF_LOWER_UP, IF_OPER_* */
#include <linux/if_link.h>
#include "base/util.h"

/* Returns 0 when the test can run (root, fresh namespace). */
#define enter_netns() enter_netns_for(__func__)
static int enter_netns_for(const char *test)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
		hf_skip(test, "needs root and CLONE_NEWNET");
		return -1;
	}
	/* /sys shows the namespace of whoever mounted it: mount our own,
	 * privately, so the host's mounts stay untouched. */
	ck_assert_int_eq(mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL), 0);
	ck_assert_int_eq(mount("sysfs", "/sys", "sysfs", 0, NULL), 0);
	/* IPv6 autoconfiguration would send packets and move counters. */
	if (system("echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6 2>/dev/null;"
		   "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null;"
		   "ip link set lo up") != 0)
		ck_abort_msg("cannot set up the namespace (ip link set lo up)");
	return 0;
}

static void sh(const char *cmd)
{
	int rc = system(cmd);

	ck_assert_msg(rc == 0, "command failed (%d): %s", rc, cmd);
}

static int read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return n > 0 ? 0 : -1;
}

static int sys_attr(const char *ifname, const char *attr, char *buf, size_t len)
{
	char path[256];

	snprintf(path, sizeof path, "/sys/class/net/%s/%s", ifname, attr);
	return read_file(path, buf, len);
}

/* Waits (deadline 5 s) until /sys reports the operstate; linkwatch applies
 * carrier changes asynchronously. */
static int wait_operstate(const char *ifname, const char *want)
{
	int64_t deadline = monotonic_ms() + 5000;
	char buf[64];

	while (monotonic_ms() < deadline) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if (sys_attr(ifname, "operstate", buf, sizeof buf) == 0 &&
		    strcmp(buf, want) == 0)
			return 0;
		nanosleep(&ts, NULL);
	}
	return -1;
}

static const struct kernel_link *find(const struct kernel_link *l, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i].name, name) == 0)
			return &l[i];
	return NULL;
}

static void dump(struct netlink *nl, struct kernel_link **l, size_t *n)
{
	ck_assert_int_eq(netlink_dump(nl, l, n), 0);
	ck_assert_ptr_nonnull(*l);
}

static struct netlink *open_nl(void)
{
	char err[256] = "";
	struct netlink *nl = netlink_open(err, sizeof err);

	ck_assert_msg(nl != NULL, "netlink_open: %s", err);
	return nl;
}

static void check_mac(const struct kernel_link *l)
{
	char buf[64], want[64] = "";

	ck_assert_int_eq(sys_attr(l->name, "address", buf, sizeof buf), 0);
	for (size_t i = 0; i < l->maclen; i++)
		snprintf(want + strlen(want), sizeof want - strlen(want), "%s%02x",
			 i ? ":" : "", l->mac[i]);
	ck_assert_str_eq(want, buf);
}

START_TEST(test_iftype_table)
{
	ck_assert_uint_eq(netlink_iftype(ARPHRD_ETHER), 6);
	ck_assert_uint_eq(netlink_iftype(ARPHRD_LOOPBACK), 24);
	ck_assert_uint_eq(netlink_iftype(ARPHRD_NONE), 131);
	ck_assert_uint_eq(netlink_iftype(ARPHRD_PPP), 23);
	ck_assert_uint_eq(netlink_iftype(ARPHRD_SIT), 131);
	ck_assert_uint_eq(netlink_iftype(ARPHRD_TUNNEL), 131);
	ck_assert_uint_eq(netlink_iftype(ARPHRD_TUNNEL6), 131);
	ck_assert_uint_eq(netlink_iftype(ARPHRD_IPGRE), 131);
	ck_assert_uint_eq(netlink_iftype(823) /* ARPHRD_IP6GRE */, 131);
	ck_assert_uint_eq(netlink_iftype(ARPHRD_INFINIBAND), 199);
	ck_assert_uint_eq(netlink_iftype(ARPHRD_IEEE80211), 71);
	ck_assert_uint_eq(netlink_iftype(ARPHRD_IEEE80211_RADIOTAP), 71);
	ck_assert_uint_eq(netlink_iftype(ARPHRD_CAN), 1);
}
END_TEST

/* The ifOperStatus rule: admin down is down(2); UNKNOWN follows carrier. */
START_TEST(test_oper_status)
{
	const unsigned up = IFF_UP, carrier = IFF_UP | IFF_LOWER_UP;

	ck_assert_int_eq(netlink_oper_status(IF_OPER_UNKNOWN, carrier), 1);
	ck_assert_int_eq(netlink_oper_status(IF_OPER_UNKNOWN, carrier | IFF_LOOPBACK), 1);
	ck_assert_int_eq(netlink_oper_status(IF_OPER_UNKNOWN, up), 2);
	ck_assert_int_eq(netlink_oper_status(IF_OPER_UNKNOWN, IFF_LOWER_UP), 2);
	ck_assert_int_eq(netlink_oper_status(IF_OPER_UNKNOWN, 0), 2);
	ck_assert_int_eq(netlink_oper_status(IF_OPER_UP, carrier), 1);
	ck_assert_int_eq(netlink_oper_status(IF_OPER_UP, IFF_LOWER_UP), 2);
	ck_assert_int_eq(netlink_oper_status(IF_OPER_DOWN, up), 2);
	ck_assert_int_eq(netlink_oper_status(IF_OPER_DOWN, carrier), 2);
	ck_assert_int_eq(netlink_oper_status(IF_OPER_TESTING, carrier), 3);
	ck_assert_int_eq(netlink_oper_status(IF_OPER_DORMANT, carrier), 5);
	ck_assert_int_eq(netlink_oper_status(IF_OPER_NOTPRESENT, up), 6);
	ck_assert_int_eq(netlink_oper_status(IF_OPER_LOWERLAYERDOWN, up), 7);
	ck_assert_int_eq(netlink_oper_status(IF_OPER_LOWERLAYERDOWN, 0), 2);
	ck_assert_int_eq(netlink_oper_status(200, carrier), 4); /* newer than RFC 2863 */
}
END_TEST

START_TEST(test_dump_fields)
{
	struct netlink *nl;
	struct kernel_link *l;
	const struct kernel_link *v, *br, *tun, *lo, *dn;
	char buf[64];
	size_t n;

	if (enter_netns() < 0)
		return;
	sh("ip link add hfv0 type veth peer name hfv1 &&"
	   "ip link set hfv0 mtu 1400 alias 'Transit: test' &&"
	   "ip link set hfv0 up && ip link set hfv1 up &&"
	   "ip link add hfv2 type veth peer name hfv3 &&"
	   "ip link add hfbr0 type bridge &&"
	   "ip tuntap add dev tailscale0 mode tun && ip link set tailscale0 up");
	ck_assert_int_eq(wait_operstate("hfv0", "up"), 0);
	nl = open_nl();
	dump(nl, &l, &n);

	for (size_t i = 1; i < n; i++)
		ck_assert_int_lt(l[i - 1].kindex, l[i].kindex);
	lo = find(l, n, "lo");
	ck_assert_ptr_nonnull(lo);
	ck_assert_int_eq(lo->kindex, 1);
	ck_assert_uint_eq(lo->iftype, 24);
	/* The kernel says UNKNOWN for lo; up with carrier, so up(1). */
	ck_assert_int_eq(lo->oper, 1);

	v = find(l, n, "hfv0");
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(v->kindex, (int)if_nametoindex("hfv0"));
	ck_assert_uint_eq(v->mtu, 1400);
	ck_assert_str_eq(v->alias, "Transit: test");
	ck_assert_uint_eq(v->arphrd, ARPHRD_ETHER);
	ck_assert_uint_eq(v->iftype, 6);
	ck_assert_uint_eq(v->maclen, 6);
	check_mac(v);
	ck_assert_int_eq(v->admin_up, 1);
	ck_assert_int_eq(v->oper, 1);
	ck_assert_int_eq(v->promisc, 0);
	ck_assert_uint_eq(v->speed_bps, 10000000000ull);

	dn = find(l, n, "hfv2");
	ck_assert_ptr_nonnull(dn);
	ck_assert_int_eq(dn->admin_up, 0);
	ck_assert_int_eq(dn->oper, 2);
	/* A stopped device's speed is unknown (as /sys says): 0, although
	 * ethtool would answer the veth's nominal 10000 Mb/s. */
	ck_assert_uint_eq(dn->speed_bps, 0);
	ck_assert_str_eq(dn->alias, "");

	br = find(l, n, "hfbr0");
	ck_assert_ptr_nonnull(br);
	ck_assert_int_eq(br->admin_up, 0);
	ck_assert_int_eq(br->oper, 2);
	ck_assert_uint_eq(br->iftype, 6);
	check_mac(br);

	tun = find(l, n, "tailscale0");
	ck_assert_ptr_nonnull(tun);
	ck_assert_uint_eq(tun->arphrd, ARPHRD_NONE);
	ck_assert_uint_eq(tun->iftype, 131);
	ck_assert_uint_eq(tun->maclen, 0);
	ck_assert_int_eq(tun->admin_up, 1);
	ck_assert_int_eq(tun->oper, 2); /* no process holds it: NO-CARRIER */
	ck_assert_int_eq(sys_attr("tailscale0", "speed", buf, sizeof buf), 0);
	ck_assert_uint_eq(tun->speed_bps, (uint64_t)atoll(buf) * 1000000u);
	ck_assert_uint_eq(tun->speed_bps, 10000000000ull);
	free(l);
	netlink_close(nl);
}
END_TEST

/* Sets a tun device's reported speed (tun stores what it is told). */
static void set_speed(const char *ifname, uint32_t mbps)
{
	size_t size = sizeof(struct ethtool_link_settings) + 3 * 127 * sizeof(uint32_t);
	struct ethtool_link_settings *req = calloc(1, size);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct ifreq ifr;

	ck_assert_ptr_nonnull(req);
	ck_assert_int_ge(fd, 0);
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	ifr.ifr_data = (void *)req;
	req->cmd = ETHTOOL_GLINKSETTINGS;
	ck_assert_int_eq(ioctl(fd, SIOCETHTOOL, &ifr), 0);
	req->link_mode_masks_nwords = -req->link_mode_masks_nwords;
	ck_assert_int_eq(ioctl(fd, SIOCETHTOOL, &ifr), 0);
	req->cmd = ETHTOOL_SLINKSETTINGS;
	req->speed = mbps;
	ck_assert_int_eq(ioctl(fd, SIOCETHTOOL, &ifr), 0);
	close(fd);
	free(req);
}

static uint64_t speed_of(struct netlink *nl, const char *name)
{
	struct kernel_link *l;
	size_t n;
	uint64_t bps;

	dump(nl, &l, &n);
	ck_assert_ptr_nonnull(find(l, n, name));
	bps = find(l, n, name)->speed_bps;
	free(l);
	return bps;
}

/* Speed is read once and cached until the link's flags or operstate change
 * (a counter refresh costs no ioctl): a speed change alone is not seen, a
 * state change makes it re-read. */
START_TEST(test_speed_cache)
{
	struct netlink *nl;

	if (enter_netns() < 0)
		return;
	sh("ip tuntap add dev tailscale0 mode tun && ip link set tailscale0 up");
	nl = open_nl();
	ck_assert_uint_eq(speed_of(nl, "tailscale0"), 10000000000ull);
	set_speed("tailscale0", 100);
	ck_assert_uint_eq(speed_of(nl, "tailscale0"), 10000000000ull);
	sh("ip link set tailscale0 down");
	ck_assert_uint_eq(speed_of(nl, "tailscale0"), 0);
	sh("ip link set tailscale0 up");
	ck_assert_uint_eq(speed_of(nl, "tailscale0"), 100000000ull);
	/* A new link under an old name is read afresh. */
	sh("ip link del tailscale0 && ip tuntap add dev tailscale0 mode tun && ip link set tailscale0 up");
	ck_assert_uint_eq(speed_of(nl, "tailscale0"), 10000000000ull);
	netlink_close(nl);
}
END_TEST

/* Waits for the event fd with a deadline, then drains. */
static enum netlink_events wait_events(struct netlink *nl, int timeout_ms)
{
	struct pollfd p = { .fd = netlink_event_fd(nl), .events = POLLIN };
	int64_t deadline = monotonic_ms() + timeout_ms;

	for (;;) {
		int64_t left = deadline - monotonic_ms();
		enum netlink_events ev;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return NETLINK_UNCHANGED;
		ev = netlink_drain_events(nl);
		if (ev != NETLINK_UNCHANGED)
			return ev;
	}
}

START_TEST(test_events)
{
	struct netlink *nl;

	if (enter_netns() < 0)
		return;
	nl = open_nl();
	ck_assert_int_eq(netlink_drain_events(nl), NETLINK_UNCHANGED);
	sh("ip link add hfe0 type veth peer name hfe1");
	ck_assert_int_eq(wait_events(nl, 5000), NETLINK_CHANGED);
	/* Drained: nothing left. */
	ck_assert_int_eq(netlink_drain_events(nl), NETLINK_UNCHANGED);
	sh("ip link del hfe0");
	ck_assert_int_eq(wait_events(nl, 5000), NETLINK_CHANGED);
	netlink_close(nl);
}
END_TEST

/* Events came (deadline 5 s), then none for 200 ms: every change applied. */
static void settle(struct netlink *nl)
{
	ck_assert_int_eq(wait_events(nl, 5000), NETLINK_CHANGED);
	while (wait_events(nl, 200) == NETLINK_CHANGED)
		;
}

/* What events left in the list equals a dump. */
static void same_as_dump(struct netlink *nl)
{
	struct netlink *fresh = open_nl();
	struct kernel_link *ev, *du;
	size_t nev, ndu;

	ck_assert_int_eq(netlink_links(nl, &ev, &nev), 0);
	dump(fresh, &du, &ndu);
	if (nev != ndu) {
		char a[512] = "", b[512] = "";

		for (size_t i = 0; i < nev; i++)
			snprintf(a + strlen(a), sizeof a - strlen(a), " %s", ev[i].name);
		for (size_t i = 0; i < ndu; i++)
			snprintf(b + strlen(b), sizeof b - strlen(b), " %s", du[i].name);
		ck_abort_msg("events list:%s; dump:%s", a, b);
	}
	for (size_t i = 0; i < nev; i++) {
		ck_assert_msg(memcmp(&ev[i], &du[i], sizeof ev[i]) == 0,
			      "%s (kindex %d): the event list differs from a dump",
			      du[i].name, du[i].kindex);
	}
	free(ev);
	free(du);
	netlink_close(fresh);
}

static const struct kernel_link *listed(struct netlink *nl, struct kernel_link **l, const char *name)
{
	size_t n;

	ck_assert_int_eq(netlink_links(nl, l, &n), 0);
	return find(*l, n, name);
}

/* Events are applied to the list: adds, changes (alias, MTU, state, name),
 * a bridge port leaving its bridge (an AF_BRIDGE RTM_DELLINK: the port
 * stays), deletions; after each, the list is what a dump says. */
START_TEST(test_events_applied)
{
	struct netlink *nl;
	struct kernel_link *l, *d;
	const struct kernel_link *x;
	size_t n;

	if (enter_netns() < 0)
		return;
	nl = open_nl();
	dump(nl, &d, &n);
	free(d);
	sh("ip link add hfa0 type veth peer name hfa1 && ip link add hfabr type bridge");
	settle(nl);
	same_as_dump(nl);
	sh("ip link set hfa0 mtu 1400 alias 'IX: applied' && ip link set hfa0 up &&"
	   "ip link set hfa1 up && ip link set hfa1 master hfabr && ip link set hfabr up");
	ck_assert_int_eq(wait_operstate("hfa0", "up"), 0);
	settle(nl);
	x = listed(nl, &l, "hfa0");
	ck_assert_ptr_nonnull(x);
	ck_assert_str_eq(x->alias, "IX: applied");
	ck_assert_uint_eq(x->mtu, 1400);
	ck_assert_int_eq(x->oper, 1);
	ck_assert_uint_eq(x->speed_bps, 10000000000ull); /* read for the changed link */
	free(l);
	same_as_dump(nl);
	sh("ip link set hfa1 nomaster && ip link set hfa0 name hfren0");
	settle(nl);
	ck_assert_ptr_nonnull(listed(nl, &l, "hfa1"));
	free(l);
	ck_assert_ptr_null(listed(nl, &l, "hfa0"));
	free(l);
	same_as_dump(nl);
	sh("ip link del hfren0 && ip link del hfabr");
	settle(nl);
	ck_assert_ptr_null(listed(nl, &l, "hfa1"));
	free(l);
	same_as_dump(nl);
	netlink_close(nl);
}
END_TEST

/* 500 veth pairs = 1000 RTM_NEWLINK in one burst: none lost silently. */
START_TEST(test_event_burst)
{
	struct netlink *nl;
	struct kernel_link *l;
	size_t n;
	FILE *f;

	if (enter_netns() < 0)
		return;
	nl = open_nl();
	dump(nl, &l, &n);  /* the daemon starts with one: lo is in the list */
	free(l);
	f = fopen("/tmp/check_netlink.batch", "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 500; i++)
		fprintf(f, "link add hfb%da type veth peer name hfb%db\n", i, i);
	fclose(f);
	sh("ip -batch /tmp/check_netlink.batch");
	unlink("/tmp/check_netlink.batch");
	ck_assert_int_eq(netlink_drain_events(nl), NETLINK_CHANGED);
	/* Applied from the events alone, no dump. */
	ck_assert_int_eq(netlink_links(nl, &l, &n), 0);
	ck_assert_uint_eq(n, 1001);
	free(l);
	dump(nl, &l, &n);
	ck_assert_uint_eq(n, 1001);
	free(l);
	netlink_close(nl);
}
END_TEST

/* With a tiny receive buffer the kernel drops events: reported as -1. */
START_TEST(test_event_overrun)
{
	struct netlink *nl;
	int small = 0;

	if (enter_netns() < 0)
		return;
	nl = open_nl();
	ck_assert_int_eq(setsockopt(netlink_event_fd(nl), SOL_SOCKET, SO_RCVBUF,
				    &small, sizeof small), 0);
	sh("for i in 0 1 2 3 4 5 6 7; do ip link add hfo$i type veth peer name hfp$i; done");
	ck_assert_int_eq(netlink_drain_events(nl), NETLINK_LOST);
	netlink_close(nl);
}
END_TEST

static uint64_t sys_stat(const char *ifname, const char *stat)
{
	char attr[128], buf[64];

	snprintf(attr, sizeof attr, "statistics/%s", stat);
	ck_assert_int_eq(sys_attr(ifname, attr, buf, sizeof buf), 0);
	return strtoull(buf, NULL, 10);
}

/* The documented rtnl_link_stats64 mapping, field by field. */
START_TEST(test_counter_mapping)
{
	struct rtnl_link_stats64 st;
	struct if_counters c;

	memset(&st, 0, sizeof st);
	st.rx_packets = 100;
	st.tx_packets = 200;
	st.rx_bytes = 0x1122334455ull;
	st.tx_bytes = 0x6677889900ull;
	st.rx_errors = 3;
	st.tx_errors = 4;
	st.rx_dropped = 5;
	st.tx_dropped = 6;
	st.multicast = 30;
	st.collisions = 99;
	st.rx_nohandler = 7;
	netlink_counters(&st, &c);
	ck_assert_uint_eq(c.in_octets, 0x1122334455ull);
	ck_assert_uint_eq(c.in_ucast, 70);
	ck_assert_uint_eq(c.in_mcast, 30);
	ck_assert_uint_eq(c.in_bcast, 0);
	ck_assert_uint_eq(c.in_discards, 5);
	ck_assert_uint_eq(c.in_errors, 3);
	ck_assert_uint_eq(c.in_unknown, 7);
	ck_assert_uint_eq(c.out_octets, 0x6677889900ull);
	ck_assert_uint_eq(c.out_ucast, 200);
	ck_assert_uint_eq(c.out_mcast + c.out_bcast, 0);
	ck_assert_uint_eq(c.out_discards, 6);
	ck_assert_uint_eq(c.out_errors, 4);
	/* More multicast than packets (the two are read apart): never below 0. */
	st.multicast = 150;
	netlink_counters(&st, &c);
	ck_assert_uint_eq(c.in_ucast, 0);
}
END_TEST

/* The mapping, against the kernel's own numbers (the link at rest). */
static void check_mapping(const char *name, const struct if_counters *c)
{
	ck_assert_uint_eq(c->in_octets, sys_stat(name, "rx_bytes"));
	ck_assert_uint_eq(c->in_mcast, sys_stat(name, "multicast"));
	ck_assert_uint_eq(c->in_ucast, sys_stat(name, "rx_packets") -
			  sys_stat(name, "multicast"));
	ck_assert_uint_eq(c->in_discards, sys_stat(name, "rx_dropped"));
	ck_assert_uint_eq(c->in_errors, sys_stat(name, "rx_errors"));
	ck_assert_uint_eq(c->in_unknown, sys_stat(name, "rx_nohandler"));
	ck_assert_uint_eq(c->out_octets, sys_stat(name, "tx_bytes"));
	ck_assert_uint_eq(c->out_ucast, sys_stat(name, "tx_packets"));
	ck_assert_uint_eq(c->out_discards, sys_stat(name, "tx_dropped"));
	ck_assert_uint_eq(c->out_errors, sys_stat(name, "tx_errors"));
	ck_assert_uint_eq(c->in_bcast + c->out_mcast + c->out_bcast, 0);
}

static int kindex_of(struct netlink *nl, const char *name)
{
	struct kernel_link *l;
	const struct kernel_link *x;
	size_t n;
	int k;

	dump(nl, &l, &n);
	x = find(l, n, name);
	k = x->kindex;
	free(l);
	return k;
}

/* What link_stats_dump hands over for one link. */
struct dumped {
	int kindex, seen, links;
	struct if_counters c;
};

static void on_dumped(void *ctx, int kindex, const struct if_counters *c)
{
	struct dumped *d = ctx;

	d->links++;
	if (kindex == d->kindex) {
		d->c = *c;
		d->seen++;
	}
}

/* Sends UDP datagrams out of hfc0 to a neighbour that is hfc1's MAC. */
static void send_udp(int count)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	char payload[100];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(payload, 'x', sizeof payload);
	inet_pton(AF_INET, "198.19.99.3", &to.sin_addr);
	for (int i = 0; i < count; i++)
		ck_assert_int_eq(sendto(fd, payload, sizeof payload, 0,
					(struct sockaddr *)&to, sizeof to),
				 (ssize_t)sizeof payload);
	close(fd);
}

START_TEST(test_counters)
{
	struct netlink *nl;
	struct link_stats *st;
	struct if_counters c0, r;
	struct dumped d;
	int k0, k1;
	int64_t deadline;
	char mac[64], cmd[256];

	if (enter_netns() < 0)
		return;
	sh("ip link add hfc0 type veth peer name hfc1 &&"
	   "ip addr add 198.19.99.1/24 dev hfc0 && ip link set hfc0 up && ip link set hfc1 up");
	ck_assert_int_eq(sys_attr("hfc1", "address", mac, sizeof mac), 0);
	snprintf(cmd, sizeof cmd, "ip neigh add 198.19.99.3 lladdr %s dev hfc0 nud permanent", mac);
	sh(cmd);
	ck_assert_int_eq(wait_operstate("hfc0", "up"), 0);
	nl = open_nl();
	st = link_stats_open();
	ck_assert_ptr_nonnull(st);
	k0 = kindex_of(nl, "hfc0");
	k1 = kindex_of(nl, "hfc1");

	/* Idle (IPv6 off, nothing sends): one link and the dump agree. */
	ck_assert_int_eq(link_stats_read(st, k0, &c0), 0);
	d = (struct dumped){ .kindex = k0 };
	ck_assert_int_eq(link_stats_dump(st, on_dumped, &d), 0);
	ck_assert_int_eq(d.seen, 1);
	ck_assert_int_eq(d.links, 3);   /* lo, hfc0, hfc1 */
	ck_assert_mem_eq(&d.c, &c0, sizeof c0);

	send_udp(20);
	deadline = monotonic_ms() + 5000;
	do
		ck_assert_int_eq(link_stats_read(st, k0, &r), 0);
	while (r.out_ucast < c0.out_ucast + 20 && monotonic_ms() < deadline);
	ck_assert_uint_ge(r.out_ucast, c0.out_ucast + 20);
	ck_assert_uint_ge(r.out_octets, c0.out_octets + 20 * 142);
	check_mapping("hfc0", &r);
	d = (struct dumped){ .kindex = k1 };
	ck_assert_int_eq(link_stats_dump(st, on_dumped, &d), 0);
	ck_assert_uint_ge(d.c.in_ucast, 20);
	ck_assert_uint_ge(d.c.in_octets, 20 * 142);
	check_mapping("hfc1", &d.c);
	ck_assert_int_eq(link_stats_read(st, k1, &r), 0);
	ck_assert_mem_eq(&r, &d.c, sizeof r);

	/* A link that is not there. */
	ck_assert_int_eq(link_stats_read(st, 99999, &r), -1);
	sh("ip link del hfc0");
	ck_assert_int_eq(link_stats_read(st, k0, &r), -1);
	/* The socket still answers after an error. */
	ck_assert_int_eq(link_stats_read(st, 1, &r), 0);
	link_stats_close(st);
	netlink_close(nl);
}
END_TEST

/* One entry per kernel ifindex, as many as the kernel has. */
START_TEST(test_dedup)
{
	struct netlink *nl;
	struct kernel_link *l;
	size_t n, want;
	FILE *p;
	char line[256];

	if (enter_netns() < 0)
		return;
	sh("ip link add hfd0 type veth peer name hfd1 && ip link set hfd0 up &&"
	   "ip link set hfd1 up && ip link add hfdbr type bridge && ip link set hfdbr up &&"
	   "echo 0 > /proc/sys/net/ipv6/conf/hfd0/disable_ipv6");
	nl = open_nl();
	dump(nl, &l, &n);
	for (size_t i = 1; i < n; i++)
		ck_assert_int_lt(l[i - 1].kindex, l[i].kindex);
	p = popen("ls /sys/class/net | wc -l", "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, p));
	pclose(p);
	want = strtoul(line, NULL, 10);
	ck_assert_uint_eq(n, want);
	ck_assert_int_eq(find(l, n, "hfd0")->admin_up, 1);
	free(l);
	netlink_close(nl);
}
END_TEST

static Suite *netlink_suite(void)
{
	Suite *s = suite_create("netlink");
	TCase *tc = tcase_create("kernel");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_iftype_table);
	tcase_add_test(tc, test_oper_status);
	tcase_add_test(tc, test_dump_fields);
	tcase_add_test(tc, test_speed_cache);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_events_applied);
	tcase_add_test(tc, test_event_burst);
	tcase_add_test(tc, test_event_overrun);
	tcase_add_test(tc, test_counter_mapping);
	tcase_add_test(tc, test_counters);
	tcase_add_test(tc, test_dedup);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	/* Each test unshares its own namespace: it must run in a child. */
	return hf_run(netlink_suite(), CK_FORK);
}
