/* route: the mirrored routing against the kernel's own, in private network
 * namespaces (root and iproute2; skipped otherwise, failed under CI=true).
 *
 * - every classification the mirror gives equals the one the kernel's
 *   RTM_GETROUTE answers give (test/common/kroute.c), over a grid of
 *   sources, destinations, interfaces and both directions, after each of a
 *   series of routing set-ups: gateways, on-link, policy rules as
 *   Tailscale's, wg-quick's suppress_prefixlength, rules by source,
 *   destination, interface, mark and `not`, goto, reject routes and rules,
 *   AnyIP, metrics, TOS routes, IPv6 metrics and reject routes, a link down
 *   (the kernel flushes its routes without an event), rp_filter strict and
 *   loose, forwarding off on an interface, ECMP;
 * - each kind of event (route, rule, address, link, netconf) changes the
 *   classification once it is read, and not before: a frame meets the
 *   routing the sampler knew when it took the frame;
 * - classifying asks the kernel nothing: a child under a seccomp filter
 *   that kills it on any system call that could (a socket's send or
 *   receive, a read or write, a wait, an ioctl, an open) classifies 50,000
 *   destinations;
 * - the host's addresses kept from events give the agent address rule what
 *   getifaddrs(3) gives it, as addresses come and go. */
#include <check.h>
#include <arpa/inet.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sflow/route.h"
#include "base/util.h"
#include "kroute.h"
#include "hf_check.h"

#define SKIP 77

/* In the child: report a failed check on stderr and return non-zero. */
#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "check_route:%d: %s: ", __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		return 1; \
	} \
} while (0)

static int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "check_route: command failed (%d): %s\n", rc, cmd);
	return rc == 0 ? 0 : -1;
}

/* An Ethernet frame from src to dst; returns its length. */
static uint32_t frame(uint8_t *buf, const char *src, const char *dst)
{
	int v6 = strchr(src, ':') != NULL;
	uint8_t *p = buf;

	memset(buf, 0, 128);
	memcpy(p, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02", 12);
	memcpy(p + 12, v6 ? "\x86\xdd" : "\x08\x00", 2);
	p += 14;
	if (v6) {
		p[0] = 0x60;
		inet_pton(AF_INET6, src, p + 8);
		inet_pton(AF_INET6, dst, p + 24);
		p += 40;
	} else {
		p[0] = 0x45;
		inet_pton(AF_INET, src, p + 12);
		inet_pton(AF_INET, dst, p + 16);
		p += 20;
	}
	return (uint32_t)(p + 8 - buf);
}

static int classify(struct route_watch *rw, const char *dev, int outgoing,
		    const char *src, const char *dst, struct fwd_info *fi)
{
	uint8_t b[128];
	uint32_t n = frame(b, src, dst);

	return route_classify(rw, monotonic_ms(), (int)if_nametoindex(dev), ARPHRD_ETHER,
			      outgoing, b, n, fi);
}

static const char *nh(const struct fwd_info *fi)
{
	static char buf[INET6_ADDRSTRLEN];

	if (!fi->nexthop.family)
		return "(unknown)";
	return inet_ntop(fi->nexthop.family, fi->nexthop.a, buf, sizeof buf);
}

/* Reads what events are pending now. Most are queued by the time the
 * command that made them returns; not all (see until_settled). */
static void take_events(struct route_watch *rw)
{
	struct pollfd p = { route_event_fd(rw), POLLIN, 0 };

	while (poll(&p, 1, 0) > 0)
		route_process_events(rw);
}

/* Some changes reach the kernel's answers and its events only after the
 * command that made them has returned: carrier and operstate through
 * linkwatch (up to a second later), IPv6 addresses through addrconf's
 * work. A comparison of the mirror with the kernel is therefore made again
 * as events come, until it finds no difference or SETTLE_MS pass; only the
 * last try shows its differences (loud). Returns the last try's count. */
#define SETTLE_MS      3000
#define SETTLE_WAIT_MS 100   /* between tries: the next event, or this long */

static int until_settled(struct route_watch *rw, int (*differ)(struct route_watch *rw,
							       const void *arg, int loud),
			 const void *arg)
{
	int64_t until = monotonic_ms() + SETTLE_MS;
	struct pollfd p = { route_event_fd(rw), POLLIN, 0 };

	for (;;) {
		int last = monotonic_ms() >= until, bad;

		take_events(rw);
		bad = differ(rw, arg, last);
		if (!bad || last)
			return bad;
		(void)poll(&p, 1, SETTLE_WAIT_MS);
	}
}

static int same(const struct fwd_info *a, const struct fwd_info *b)
{
	return a->forwarded == b->forwarded && a->in_kindex == b->in_kindex &&
	       a->out_kindex == b->out_kindex && a->src_len == b->src_len &&
	       a->dst_len == b->dst_len && a->nexthop.family == b->nexthop.family &&
	       !memcmp(a->nexthop.a, b->nexthop.a, 16);
}

static void show(const char *who, const struct fwd_info *i)
{
	fprintf(stderr, "    %-6s forwarded %d in %d out %d nexthop %s /%u /%u\n", who,
		i->forwarded, i->in_kindex, i->out_kindex, nh(i), i->src_len, i->dst_len);
}

/* ---- the mirror against the kernel ---- */

static const char *const dev4[] = { "r1", "r2", "r3" };
static const char *const src4[] = {
	"198.18.1.2", "198.18.2.2", "198.18.3.2", "198.18.1.9", "203.0.113.9", "100.64.0.2",
	"198.18.1.1", "198.19.5.1", "198.20.1.7", "0.1.2.3", "127.0.0.2", "198.18.2.255",
};
static const char *const dst4[] = {
	"198.19.5.1", "198.19.7.7", "198.19.200.1", "198.20.0.1", "198.20.1.1", "198.20.2.1",
	"198.21.0.5", "198.22.0.1", "100.64.0.2", "100.64.9.9", "203.0.113.1", "198.18.2.2",
	"198.18.3.77", "198.18.1.255", "198.18.2.1", "198.23.0.1", "192.0.2.9",
};
static const char *const src6[] = {
	"fd7a:115c:a1e0:1::2", "fd7a:115c:a1e0:2::2", "fd7a:115c:a1e0:3::2",
	"fd7a:115c:a1e0:9::9", "fd7a:115c:a1e0:1::1", "2001:db8::1",
};
static const char *const dst6[] = {
	"fd7a:115c:a1e0:1::2", "fd7a:115c:a1e0:2::2", "fd7a:115c:a1e0:100::1",
	"fd7a:115c:a1e0:1a0::9", "fd7a:115c:a1e0::2", "fd7a:115c:a1e0:2::1",
	"fd7a:115c:a1e0:bad::1", "fd7a:115c:a1e0:b1e::1", "2001:db8:5::1", "2001:db8:6::1",
	"2001:db8:7::1", "2001:db8:8::1", "fd7a:115c:a1e0:3::77",
};

/* Every (interface, direction, source, destination): the mirror's word
 * against the kernel's. ecmp: destinations whose route is multipath (the
 * mirror then leaves out and next hop unknown unless every path shares
 * them). Returns the mismatches (the first 12 shown when loud). */
static int compare_grid(struct route_watch *rw, struct kroute *k, const char *what,
			const char *const *ecmp, int loud)
{
	int bad = 0, n = 0;

	kroute_reload(k);
	for (int fam = 0; fam < 2; fam++) {
		const char *const *src = fam ? src6 : src4, *const *dst = fam ? dst6 : dst4;
		size_t ns = fam ? sizeof src6 / sizeof *src6 : sizeof src4 / sizeof *src4;
		size_t nd = fam ? sizeof dst6 / sizeof *dst6 : sizeof dst4 / sizeof *dst4;

		for (size_t d = 0; d < 3; d++)
			for (int out = 0; out < 2; out++)
				for (size_t i = 0; i < ns; i++)
					for (size_t j = 0; j < nd; j++) {
						uint8_t b[128];
						uint32_t len = frame(b, src[i], dst[j]);
						int kx = (int)if_nametoindex(dev4[d]);
						struct fwd_info m, t;
						int multi = 0;

						route_classify(rw, monotonic_ms(), kx, ARPHRD_ETHER, out,
							       b, len, &m);
						kroute_classify(k, kx, ARPHRD_ETHER, out, b, len, &t);
						n++;
						for (const char *const *e = ecmp; e && *e; e++)
							multi |= !strcmp(*e, dst[j]) ||
								 (out && !strcmp(*e, src[i]));
						if (multi && m.forwarded == t.forwarded &&
						    (!m.out_kindex || m.out_kindex == t.out_kindex) &&
						    (!m.in_kindex || m.in_kindex == t.in_kindex) &&
						    m.dst_len == t.dst_len && m.src_len == t.src_len)
							continue;
						if (same(&m, &t))
							continue;
						if (bad++ < 12 && loud) {
							fprintf(stderr, "check_route: %s: %s %s %s -> %s\n",
								what, dev4[d], out ? "out" : "in",
								src[i], dst[j]);
							show("mirror", &m);
							show("kernel", &t);
						}
					}
	}
	if (loud || !bad)
		fprintf(stderr, "check_route: %s: %d of %d classifications differ\n", what, bad,
			n);
	return bad;
}

struct step {
	const char *what;
	const char *cmd;
	const char *ecmp[3];
};

struct grid {
	struct kroute *k;
	const struct step *step;
};

static int grid_differs(struct route_watch *rw, const void *arg, int loud)
{
	const struct grid *g = arg;

	return compare_grid(rw, g->k, g->step->what, g->step->ecmp, loud);
}

static const struct step steps[] = {
	{ "gateways and on-link",
	  "ip route add 198.19.0.0/16 via 198.18.2.2 && "
	  "ip route add 198.19.7.0/24 via 198.18.3.2 && "
	  "ip -6 route add fd7a:115c:a1e0:100::/56 via fd7a:115c:a1e0:2::2 && "
	  "ip -6 route add fd7a:115c:a1e0::/48 via fd7a:115c:a1e0:3::2 metric 2048", { NULL } },
	{ "Tailscale's rules and table 52",
	  "ip route add 100.64.0.2/32 dev r3 table 52 && "
	  "ip route add 100.64.0.0/10 dev r2 table 52 && "
	  "ip rule add pref 5210 fwmark 0x80000/0xff0000 table main && "
	  "ip rule add pref 5230 fwmark 0x80000/0xff0000 table default && "
	  "ip rule add pref 5250 fwmark 0x80000/0xff0000 unreachable && "
	  "ip rule add pref 5270 table 52 && "
	  "ip -6 route add fd7a:115c:a1e0::2/128 dev r1 table 52 && "
	  "ip -6 rule add pref 5270 table 52", { NULL } },
	{ "reject routes, AnyIP, metrics, TOS",
	  "ip route add blackhole 198.20.0.0/24 && ip route add unreachable 198.20.1.0/24 && "
	  "ip route add prohibit 198.20.2.0/24 && ip route add local 198.21.0.0/24 dev lo && "
	  "ip route add 198.22.0.0/24 via 198.18.2.2 metric 20 && "
	  "ip route add 198.22.0.0/24 via 198.18.3.2 metric 10 && "
	  "ip route add 198.23.0.0/24 tos 0x10 via 198.18.2.2 && "
	  "ip route add 198.23.0.0/16 via 198.18.3.2 && "
	  "ip -6 route add unreachable fd7a:115c:a1e0:bad::/64 && "
	  "ip -6 route add fd7a:115c:a1e0:b1e::/64 via fd7a:115c:a1e0:2::2 metric 50 && "
	  "ip -6 route add fd7a:115c:a1e0:b1e::/64 via fd7a:115c:a1e0:3::2 metric 40", { NULL } },
	{ "rules by source, destination, interface, not, goto, throw, suppress",
	  "ip route add 198.19.0.0/16 via 198.18.3.2 table 100 && "
	  "ip route add throw 198.19.7.0/24 table 100 && "
	  "ip rule add pref 100 from 198.18.1.0/24 table 100 && "
	  "ip rule add pref 110 to 203.0.113.0/24 prohibit && "
	  "ip route add 198.19.200.0/24 via 198.18.1.2 table 101 && "
	  "ip rule add pref 120 iif r2 table 101 && "
	  "ip rule add pref 130 not from 198.18.0.0/15 goto 140 && "
	  "ip rule add pref 135 blackhole && "
	  "ip rule add pref 140 to 192.0.2.0/24 unreachable && "
	  "ip rule add pref 150 table main suppress_prefixlength 0 && "
	  "ip -6 route add 2001:db8:5::/48 via fd7a:115c:a1e0:1::2 table 100 && "
	  "ip -6 rule add pref 100 from fd7a:115c:a1e0:1::/64 table 100 && "
	  "ip -6 rule add pref 110 to 2001:db8:6::/48 prohibit", { NULL } },
	{ "rp_filter strict on r1, loose for all; forwarding off on r2",
	  "sysctl -qw net.ipv4.conf.r1.rp_filter=1 && sysctl -qw net.ipv4.conf.all.rp_filter=2 && "
	  "sysctl -qw net.ipv4.conf.r2.forwarding=0", { NULL } },
	{ "IPv6 source routes and equal metrics",
	  "ip -6 route add 2001:db8:7::/48 from fd7a:115c:a1e0:9::/64 via fd7a:115c:a1e0:3::2 && "
	  "ip -6 route add 2001:db8:7::/48 via fd7a:115c:a1e0:2::2 && "
	  "ip -6 route add 2001:db8:8::/48 dev r1 metric 100 && "
	  "ip -6 route append 2001:db8:8::/48 dev r2 metric 100", { NULL } },
	{ "a link down: its routes flushed without an event",
	  "sysctl -qw net.ipv4.conf.r2.forwarding=1 && sysctl -qw net.ipv4.conf.all.rp_filter=0 && "
	  "ip link set r3 down", { NULL } },
	{ "carrier lost on r3, routes with linkdown ignored",
	  "ip link set r3 up && ip link set p3 down && "
	  "sysctl -qw net.ipv4.conf.all.ignore_routes_with_linkdown=1 && "
	  "sysctl -qw net.ipv6.conf.all.ignore_routes_with_linkdown=1", { NULL } },
	{ "ECMP",
	  "ip link set p3 up && sysctl -qw net.ipv4.conf.all.ignore_routes_with_linkdown=0 && "
	  "sysctl -qw net.ipv6.conf.all.ignore_routes_with_linkdown=0 && "
	  "ip route replace 198.19.7.0/24 nexthop via 198.18.2.2 nexthop via 198.18.1.2",
	  { "198.19.7.7", NULL } },
};

static int differential(void)
{
	static const struct step first = { "addresses only", "", { NULL } };
	char err[256] = "";
	struct route_watch *rw;
	struct kroute *k;
	int bad = 0;

	if (unshare(CLONE_NEWNET) < 0)
		return SKIP;
	if (sh("ip link set lo up && sysctl -qw net.ipv4.ip_forward=1 && "
	       "sysctl -qw net.ipv6.conf.all.forwarding=1 && "
	       "for i in 1 2 3; do ip link add r$i type veth peer name p$i && "
	       "ip link set r$i up && ip link set p$i up && "
	       "ip addr add 198.18.$i.1/24 dev r$i && "
	       "ip -6 addr add fd7a:115c:a1e0:$i::1/64 dev r$i nodad || exit 1; done") < 0)
		return 2;
	rw = route_open(err, sizeof err);
	CHECK(rw != NULL, "route_open: %s", err);
	k = kroute_open();
	CHECK(k != NULL, "kroute_open");
	bad += until_settled(rw, grid_differs, &(struct grid){ k, &first });
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		if (sh(steps[i].cmd) < 0) {
			bad++;
			continue;
		}
		bad += until_settled(rw, grid_differs, &(struct grid){ k, &steps[i] });
	}
	kroute_close(k);
	route_close(rw);
	CHECK(bad == 0, "%d classifications differ from the kernel's", bad);
	return 0;
}

/* ---- each kind of event ---- */

/* The classification of (r1, src -> dst) now, in one line. */
static int is(struct route_watch *rw, const char *dst, int fwd, const char *out, int len)
{
	struct fwd_info fi;

	if (classify(rw, "r1", 0, "198.18.1.2", dst, &fi) < 0)
		return 0;
	if (fi.forwarded != fwd)
		return 0;
	return !fwd || (fi.out_kindex == (int)if_nametoindex(out) && fi.dst_len == len);
}

/* One event: its command run, the answer for dst unchanged until the
 * event is read (when before is set), then the answer after. */
struct cls {
	int fwd;
	const char *out;
	int len;
};

struct ev_step {
	const char *cmd, *dst;
	int check_before;
	struct cls before, after;
	const char *what;
};

static const struct ev_step event_steps[] = {
	{ "ip route replace 198.19.0.0/16 via 198.18.1.2", "198.19.5.1", 1,
	  { 1, "r2", 16 }, { 1, "r1", 16 }, "route replace: the new route" },
	{ "ip route del 198.19.0.0/16", "198.19.5.1", 1,
	  { 1, "r1", 16 }, { 0, NULL, 0 }, "route deleted: no route, not forwarded" },
	{ "ip route add 198.19.0.0/16 via 198.18.2.2", "198.19.5.1", 0,
	  { 0, NULL, 0 }, { 1, "r2", 16 }, "route added" },
	{ "ip route add 198.19.7.0/24 dev r1 table 52 && ip rule add pref 5270 table 52",
	  "198.19.7.7", 1, { 1, "r2", 16 }, { 1, "r1", 24 }, "rule added: table 52" },
	{ "ip rule del pref 5270", "198.19.7.7", 1,
	  { 1, "r1", 24 }, { 1, "r2", 16 }, "rule removed" },
	/* An address: its packets become the host's, then forwarded again. */
	{ "ip addr add 198.19.5.1/32 dev r2", "198.19.5.1", 1,
	  { 1, "r2", 16 }, { 0, NULL, 0 }, "address added: the host's" },
	{ "ip addr del 198.19.5.1/32 dev r2", "198.19.5.1", 0,
	  { 0, NULL, 0 }, { 1, "r2", 16 }, "address removed" },
	/* Netconf: forwarding off on the input interface. */
	{ "sysctl -qw net.ipv4.conf.r1.forwarding=0", "198.19.5.1", 1,
	  { 1, "r2", 16 }, { 0, NULL, 0 }, "netconf read: r1 does not forward" },
	{ "sysctl -qw net.ipv4.conf.r1.forwarding=1", "198.19.5.1", 0,
	  { 0, NULL, 0 }, { 1, "r2", 16 }, "forwarding again" },
};

static int event_step(struct route_watch *rw, const struct ev_step *e)
{
	const struct cls *b = &e->before, *a = &e->after;

	CHECK(sh(e->cmd) == 0, "%s", e->cmd);
	CHECK(!e->check_before || is(rw, e->dst, b->fwd, b->out, b->len),
	      "%s: changed before the event was read", e->what);
	take_events(rw);
	CHECK(is(rw, e->dst, a->fwd, a->out, a->len), "%s: not so once the event was read",
	      e->what);
	return 0;
}

static int events(void)
{
	char err[256] = "";
	struct route_watch *rw;
	struct route_stats st;
	struct fwd_info fi;

	if (unshare(CLONE_NEWNET) < 0)
		return SKIP;
	if (sh("ip link set lo up && sysctl -qw net.ipv4.ip_forward=1 && "
	       "sysctl -qw net.ipv6.conf.all.forwarding=1 && "
	       "ip link add r1 type veth peer name p1 && ip link add r2 type veth peer name p2 && "
	       "ip link set r1 up && ip link set p1 up && ip link set r2 up && ip link set p2 up && "
	       "ip addr add 198.18.1.1/24 dev r1 && ip addr add 198.18.2.1/24 dev r2 && "
	       "ip -6 addr add fd7a:115c:a1e0:1::1/64 dev r1 nodad && "
	       "ip -6 addr add fd7a:115c:a1e0:2::1/64 dev r2 nodad && "
	       "ip route add 198.19.0.0/16 via 198.18.2.2 && "
	       "ip -6 route add fd7a:115c:a1e0:100::/56 via fd7a:115c:a1e0:2::2") < 0)
		return 2;
	rw = route_open(err, sizeof err);
	CHECK(rw != NULL, "route_open: %s", err);

	/* Ingress through a gateway; the host's own; IPv6. */
	CHECK(classify(rw, "r1", 0, "198.18.1.2", "198.19.5.1", &fi) == 0, "parse");
	CHECK(fi.forwarded == 1 && fi.out_kindex == (int)if_nametoindex("r2"), "out %d",
	      fi.out_kindex);
	CHECK(!strcmp(nh(&fi), "198.18.2.2") && fi.src_len == 24 && fi.dst_len == 16,
	      "next hop %s masks %u %u", nh(&fi), fi.src_len, fi.dst_len);
	CHECK(classify(rw, "r1", 0, "198.18.1.2", "198.18.2.1", &fi) == 0 && !fi.forwarded,
	      "local on another link");
	CHECK(classify(rw, "r1", 0, "fd7a:115c:a1e0:1::2", "fd7a:115c:a1e0:1a0::9", &fi) == 0 &&
	      fi.forwarded && !strcmp(nh(&fi), "fd7a:115c:a1e0:2::2") && fi.dst_len == 56,
	      "v6 next hop %s /%u", nh(&fi), fi.dst_len);

	/* Route, rule, address and netconf events: each changes the answer when
	 * it is read, not before. */
	for (size_t i = 0; i < sizeof event_steps / sizeof event_steps[0]; i++)
		CHECK(event_step(rw, &event_steps[i]) == 0, "event %zu", i);

	/* A link event: r2 down; the kernel flushes the IPv4 routes through it
	 * without a route event, so the mirror reads them again. */
	route_get_stats(rw, &st);
	CHECK(sh("ip link set r2 down") == 0, "link down");
	CHECK(is(rw, "198.19.5.1", 1, "r2", 16), "before the link event");
	take_events(rw);
	CHECK(is(rw, "198.19.5.1", 0, NULL, 0), "link event read: routes through r2 gone");
	{
		struct route_stats st2;

		route_get_stats(rw, &st2);
		CHECK(st2.route_dumps > st.route_dumps, "no route dump after the link went down");
	}
	route_close(rw);
	return 0;
}

/* ---- no system call on the capture path ---- */

#if defined(__x86_64__)
#define HF_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define HF_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef HF_AUDIT_ARCH
#define DENY(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
		 BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)

/* Every system call that could ask the kernel anything (a socket's send or
 * receive, a read, a write, a wait, an ioctl, opening something) kills the
 * process. Memory management stays allowed: the allocator, and a
 * sanitizer's runtime, use it. */
static int seccomp_no_questions(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, HF_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		DENY(SYS_sendto), DENY(SYS_sendmsg), DENY(SYS_sendmmsg), DENY(SYS_recvfrom),
		DENY(SYS_recvmsg), DENY(SYS_recvmmsg), DENY(SYS_read), DENY(SYS_readv),
		DENY(SYS_pread64), DENY(SYS_write), DENY(SYS_writev), DENY(SYS_pwrite64),
		DENY(SYS_ppoll), DENY(SYS_pselect6), DENY(SYS_epoll_pwait), DENY(SYS_ioctl),
		DENY(SYS_socket), DENY(SYS_connect), DENY(SYS_bind), DENY(SYS_getsockopt),
		DENY(SYS_setsockopt), DENY(SYS_openat), DENY(SYS_clock_nanosleep),
#ifdef SYS_poll
		DENY(SYS_poll), DENY(SYS_select), DENY(SYS_epoll_wait), DENY(SYS_open),
#endif
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { (unsigned short)(sizeof f / sizeof f[0]), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}
#endif

/* A namespace of our own: r1 (198.18.1.1/24) and r2 (198.18.2.1/24),
 * forwarding, 198.19.0.0/16 via 198.18.2.2. 0, SKIP without a namespace,
 * 2 when the set-up failed. */
static int two_links(void)
{
	if (unshare(CLONE_NEWNET) < 0)
		return SKIP;
	if (sh("ip link set lo up && sysctl -qw net.ipv4.ip_forward=1 && "
	       "ip link add r1 type veth peer name p1 && ip link add r2 type veth peer name p2 && "
	       "ip link set r1 up && ip link set p1 up && ip link set r2 up && ip link set p2 up && "
	       "ip addr add 198.18.1.1/24 dev r1 && ip addr add 198.18.2.1/24 dev r2 && "
	       "ip route add 198.19.0.0/16 via 198.18.2.2") < 0)
		return 2;
	return 0;
}

#define NDST 50000

static int no_syscalls(void)
{
	char err[256] = "";
	struct route_watch *rw;
	int r1, r2;
	pid_t pid;
	int status, rc;

#ifndef HF_AUDIT_ARCH
	return SKIP;
#else
	if ((rc = two_links()) != 0)
		return rc;
	rw = route_open(err, sizeof err);
	CHECK(rw != NULL, "route_open: %s", err);
	r1 = (int)if_nametoindex("r1");
	r2 = (int)if_nametoindex("r2");
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		struct fwd_info fi;
		uint8_t b[128];
		uint32_t len = frame(b, "198.18.1.2", "198.19.0.0");
		int64_t now = monotonic_ms();
		int wrong = 0;

		if (seccomp_no_questions() < 0)
			_exit(3);
		/* 50,000 destinations behind one route: each classified with
		 * its own address, none of them by asking the kernel. */
		for (int i = 0; i < NDST; i++) {
			b[14 + 18] = (uint8_t)(i >> 8);
			b[14 + 19] = (uint8_t)i;
			if (route_classify(rw, now, r1, ARPHRD_ETHER, 0, b, len, &fi) != 0 ||
			    !fi.forwarded || fi.out_kindex != r2 || fi.dst_len != 16 ||
			    fi.nexthop.family != AF_INET)
				wrong++;
		}
		_exit(wrong ? 4 : 0);
	}
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	CHECK(!WIFSIGNALED(status), "killed by signal %d: a system call on the capture path",
	      WTERMSIG(status));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 3, "seccomp could not be set");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "classifications wrong under seccomp (%d)", WEXITSTATUS(status));
	{
		struct route_stats st;

		route_get_stats(rw, &st);
		/* The parent's stats: the child's classifications were its own. */
		CHECK(st.requests > 0, "no dump was made at open");
	}
	route_close(rw);
	return 0;
#endif
}

/* The cache: 50,000 destinations of one route are one entry. */
static int one_cell(void)
{
	char err[256] = "";
	struct route_watch *rw;
	struct route_stats st0, st;
	struct fwd_info fi;
	uint8_t b[128];
	uint32_t len = frame(b, "198.18.1.2", "198.19.0.0");
	int64_t now = monotonic_ms();
	int rc;

	if ((rc = two_links()) != 0)
		return rc;
	rw = route_open(err, sizeof err);
	CHECK(rw != NULL, "route_open: %s", err);
	route_get_stats(rw, &st0);
	for (int i = 0; i < NDST; i++) {
		b[14 + 18] = (uint8_t)(i >> 8);
		b[14 + 19] = (uint8_t)i;
		CHECK(route_classify(rw, now, (int)if_nametoindex("r1"), ARPHRD_ETHER, 0, b, len,
				     &fi) == 0 && fi.forwarded, "destination %d", i);
	}
	route_get_stats(rw, &st);
	CHECK(st.misses - st0.misses == 1 && st.hits - st0.hits == NDST - 1,
	      "misses %llu hits %llu", (unsigned long long)(st.misses - st0.misses),
	      (unsigned long long)(st.hits - st0.hits));
	CHECK(st.requests == st0.requests, "classifying sent %llu requests",
	      (unsigned long long)(st.requests - st0.requests));
	route_close(rw);
	return 0;
}

/* ---- the host's addresses, for the agent address ---- */

/* The agent rule over the route room's addresses says what it says over
 * getifaddrs(3) (what -m uses and the sampler used to poll), for each
 * agent_interface. */
static int agent_same(struct route_watch *rw, const void *what, int loud)
{
	static const char *const names[] = { "", "tailscale0", "up0", "up1", "nope0" };
	int bad = 0;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct agentaddr_cand *c = NULL;
		size_t n = route_addresses(rw, &c);
		struct hf_addr none = { 0 }, a, b;
		enum agentaddr_source x = agentaddr_pick(&none, names[i], c, n, &a);
		enum agentaddr_source y = agentaddr_choose(&none, names[i], &b);
		char sa[INET6_ADDRSTRLEN], sb[INET6_ADDRSTRLEN];

		free(c);
		if (x == y && !memcmp(&a, &b, sizeof a))
			continue;
		bad++;
		if (!loud)
			continue;
		inet_ntop(a.family, a.a, sa, sizeof sa);
		inet_ntop(b.family, b.a, sb, sizeof sb);
		fprintf(stderr, "check_route: %s, agent_interface '%s': events %s (%d), getifaddrs %s (%d)\n",
			(const char *)what, names[i], sa, x, sb, y);
	}
	return bad;
}

static int agent_addresses(void)
{
	static const struct { const char *what, *cmd; } step[] = {
		{ "no global address", "true" },
		{ "an address on up1",
		  "ip addr add 198.18.4.1/24 dev up1" },
		{ "tailscale0's addresses, IPv6 first",
		  "ip addr add fd7a:115c:a1e0::1/64 dev tailscale0 nodad && "
		  "ip addr add 100.64.0.1/10 dev tailscale0" },
		{ "a secondary and another primary on up0",
		  "ip addr add 198.18.5.9/24 dev up0 && ip addr add 198.18.5.1/24 dev up0 && "
		  "ip addr add 198.18.6.1/24 dev up0" },
		{ "up1 down", "ip link set up1 down" },
		{ "up0's first address gone (its secondary promoted)",
		  "sysctl -qw net.ipv4.conf.up0.promote_secondaries=1 && "
		  "ip addr del 198.18.5.9/24 dev up0" },
		{ "tailscale0's IPv4 gone", "ip addr del 100.64.0.1/10 dev tailscale0" },
		{ "more IPv6 on tailscale0, newest first",
		  "ip addr add 2001:db8::5/64 dev tailscale0 nodad && "
		  "ip addr add fd7a:115c:a1e0:9::3/64 dev tailscale0 nodad" },
		{ "the newest IPv6 gone", "ip addr del fd7a:115c:a1e0:9::3/64 dev tailscale0" },
	};
	char err[256] = "";
	struct route_watch *rw;
	int bad = 0;

	if (unshare(CLONE_NEWNET) < 0)
		return SKIP;
	if (sh("ip link set lo up && ip link add up0 type veth peer name up1 && "
	       "ip link set up0 up && ip link set up1 up && "
	       "ip tuntap add dev tailscale0 mode tun && ip link set tailscale0 up") < 0)
		return 2;
	rw = route_open(err, sizeof err);
	CHECK(rw != NULL, "route_open: %s", err);
	for (size_t i = 0; i < sizeof step / sizeof step[0]; i++) {
		if (sh(step[i].cmd) < 0) {
			bad++;
			continue;
		}
		bad += until_settled(rw, agent_same, step[i].what);
	}
	route_close(rw);
	CHECK(bad == 0, "%d agent addresses differ from getifaddrs's", bad);
	return 0;
}

/* ---- the runner ---- */

/* A child, so unshare() never leaks into the runner (CK_FORK=no); test
 * names the test for a skip (CI=true turns one into a failure). */
static void in_netns(const char *test, int (*scenario)(void))
{
	pid_t pid;
	int status;

	if (geteuid() != 0 || system("command -v ip >/dev/null 2>&1") != 0) {
		hf_skip(test, "needs root and iproute2");
		return;
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(scenario());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) == SKIP) {
		hf_skip(test, "no network namespaces or no seccomp here");
		return;
	}
	ck_assert_msg(WEXITSTATUS(status) == 0, "scenario failed (%d): see stderr",
		      WEXITSTATUS(status));
}

START_TEST(mirror_equals_kernel)
{
	in_netns(__func__, differential);
}
END_TEST

START_TEST(each_event_kind)
{
	in_netns(__func__, events);
}
END_TEST

START_TEST(no_system_call_on_capture_path)
{
	in_netns(__func__, no_syscalls);
}
END_TEST

START_TEST(many_destinations_one_entry)
{
	in_netns(__func__, one_cell);
}
END_TEST

START_TEST(agent_address_from_events)
{
	in_netns(__func__, agent_addresses);
}
END_TEST

static Suite *route_suite(void)
{
	Suite *s = suite_create("route");
	TCase *tc = tcase_create("netns");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, mirror_equals_kernel);
	tcase_add_test(tc, each_event_kind);
	tcase_add_test(tc, no_system_call_on_capture_path);
	tcase_add_test(tc, many_destinations_one_entry);
	tcase_add_test(tc, agent_address_from_events);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hf_run(route_suite(), CK_FORK_GETENV);
}
