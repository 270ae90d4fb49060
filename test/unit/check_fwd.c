/* fwd: the pure part of the route room, without root: header parsing
 * (IPv4, IPv6, 802.1Q, raw IP, truncation), the host's addresses and the
 * local/broadcast/multicast rule, the classification against a routing
 * mirror (fib.h) filled with a made-up routing table, and its cache: one
 * entry for a route's many destinations, flushed by a change, bounded. */
#include <check.h>
#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sflow/core/fib.h"
#include "sflow/core/fwd.h"
#include "fibmsg.h"
#include "hf_check.h"

/* ---- frames ---- */

/* Builds an Ethernet frame (ntags 802.1Q tags) or a raw IP packet (eth 0)
 * from src to dst; returns its length. */
static uint32_t frame(uint8_t *buf, int eth, int ntags, const char *src, const char *dst)
{
	int v6 = strchr(src, ':') != NULL;
	uint8_t *p = buf;

	memset(buf, 0, 128);
	if (eth) {
		memcpy(p, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02", 12);
		p += 12;
		for (int i = 0; i < ntags; i++) {
			memcpy(p, i == 0 && ntags > 1 ? "\x88\xa8\x00\x0a" : "\x81\x00\x00\x0b", 4);
			p += 4;
		}
		memcpy(p, v6 ? "\x86\xdd" : "\x08\x00", 2);
		p += 2;
	}
	if (v6) {
		p[0] = 0x60;
		p[6] = 17;
		p[7] = 64;
		ck_assert_int_eq(inet_pton(AF_INET6, src, p + 8), 1);
		ck_assert_int_eq(inet_pton(AF_INET6, dst, p + 24), 1);
		p += 40;
	} else {
		p[0] = 0x45;
		p[8] = 64;
		p[9] = 17;
		ck_assert_int_eq(inet_pton(AF_INET, src, p + 12), 1);
		ck_assert_int_eq(inet_pton(AF_INET, dst, p + 16), 1);
		p += 20;
	}
	memset(p, 0xab, 8);	/* a UDP header's worth of anything */
	return (uint32_t)(p + 8 - buf);
}

static void addr(int family, const char *s, uint8_t *out)
{
	ck_assert_int_eq(inet_pton(family, s, out), 1);
}

static void expect_pkt(const struct fwd_pkt *p, const char *src, const char *dst)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	ck_assert_ptr_nonnull(inet_ntop(p->family, p->src, a, sizeof a));
	ck_assert_ptr_nonnull(inet_ntop(p->family, p->dst, b, sizeof b));
	ck_assert_str_eq(a, src);
	ck_assert_str_eq(b, dst);
}

/* Every prefix shorter than need bytes is refused; need bytes parse. */
static void expect_truncation(unsigned arphrd, const uint8_t *buf, uint32_t need)
{
	struct fwd_pkt p;

	for (uint32_t n = 0; n < need; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		ck_assert_ptr_nonnull(copy);
		memcpy(copy, buf, n);
		ck_assert_msg(fwd_parse(arphrd, copy, n, &p) == -1, "%u bytes accepted", n);
		free(copy);
	}
	ck_assert_int_eq(fwd_parse(arphrd, buf, need, &p), 0);
}

START_TEST(parse_ethernet)
{
	uint8_t b[128];
	struct fwd_pkt p;
	uint32_t n;

	n = frame(b, 1, 0, "198.18.1.2", "198.19.5.1");
	ck_assert_int_eq(fwd_parse(ARPHRD_ETHER, b, n, &p), 0);
	ck_assert_int_eq(p.family, AF_INET);
	expect_pkt(&p, "198.18.1.2", "198.19.5.1");
	expect_truncation(ARPHRD_ETHER, b, 14 + 20);
	/* loopback frames carry an Ethernet header too */
	ck_assert_int_eq(fwd_parse(ARPHRD_LOOPBACK, b, n, &p), 0);

	n = frame(b, 1, 0, "fd7a:115c:a1e0::2", "2001:db8::1");
	ck_assert_int_eq(fwd_parse(ARPHRD_ETHER, b, n, &p), 0);
	ck_assert_int_eq(p.family, AF_INET6);
	expect_pkt(&p, "fd7a:115c:a1e0::2", "2001:db8::1");
	expect_truncation(ARPHRD_ETHER, b, 14 + 40);
}
END_TEST

START_TEST(parse_vlan)
{
	uint8_t b[128];
	struct fwd_pkt p;
	uint32_t n;

	n = frame(b, 1, 1, "198.18.1.2", "198.18.2.2");
	ck_assert_int_eq(fwd_parse(ARPHRD_ETHER, b, n, &p), 0);
	expect_pkt(&p, "198.18.1.2", "198.18.2.2");
	expect_truncation(ARPHRD_ETHER, b, 18 + 20);

	n = frame(b, 1, 2, "fd7a:115c:a1e0::2", "fd7a:115c:a1e0::1");	/* QinQ */
	ck_assert_int_eq(fwd_parse(ARPHRD_ETHER, b, n, &p), 0);
	expect_pkt(&p, "fd7a:115c:a1e0::2", "fd7a:115c:a1e0::1");
	expect_truncation(ARPHRD_ETHER, b, 22 + 40);

	n = frame(b, 1, 3, "198.18.1.2", "198.18.2.2");			/* too deep */
	ck_assert_int_eq(fwd_parse(ARPHRD_ETHER, b, n, &p), -1);
}
END_TEST

START_TEST(parse_raw_ip)
{
	uint8_t b[128];
	struct fwd_pkt p;
	uint32_t n;

	n = frame(b, 0, 0, "100.64.0.2", "198.18.2.2");
	ck_assert_int_eq(fwd_parse(ARPHRD_NONE, b, n, &p), 0);
	expect_pkt(&p, "100.64.0.2", "198.18.2.2");
	expect_truncation(ARPHRD_NONE, b, 20);
	ck_assert_int_eq(fwd_parse(65534, b, n, &p), 0);	/* WireGuard */

	n = frame(b, 0, 0, "fd7a:115c:a1e0::2", "fd7a:115c:a1e0::1");
	ck_assert_int_eq(fwd_parse(ARPHRD_NONE, b, n, &p), 0);
	expect_pkt(&p, "fd7a:115c:a1e0::2", "fd7a:115c:a1e0::1");
	expect_truncation(ARPHRD_NONE, b, 40);
}
END_TEST

START_TEST(parse_refuses)
{
	uint8_t b[128];
	struct fwd_pkt p;
	uint32_t n = frame(b, 1, 0, "198.18.1.2", "198.19.5.1");

	b[12] = 0x08, b[13] = 0x06;				/* ARP */
	ck_assert_int_eq(fwd_parse(ARPHRD_ETHER, b, n, &p), -1);
	b[13] = 0x00;
	b[14] = 0x65;						/* IPv4 ethertype, version 6 */
	ck_assert_int_eq(fwd_parse(ARPHRD_ETHER, b, n, &p), -1);
	b[14] = 0x44;						/* IHL 4 */
	ck_assert_int_eq(fwd_parse(ARPHRD_ETHER, b, n, &p), -1);
	b[14] = 0x45;
	ck_assert_int_eq(fwd_parse(ARPHRD_ETHER, b, n, &p), 0);
	ck_assert_int_eq(fwd_parse(ARPHRD_IEEE80211, b, n, &p), -1);	/* unknown link */
	ck_assert_int_eq(fwd_parse(ARPHRD_NONE, b, n, &p), -1);	/* Ethernet as raw: version 0 */
	ck_assert_int_eq(fwd_parse(ARPHRD_ETHER, NULL, 0, &p), -1);
}
END_TEST

/* ---- addresses ---- */

START_TEST(locals_set)
{
	struct fwd_locals l = { 0 };
	uint8_t a[16], b[16], c[16];

	addr(AF_INET, "198.18.1.1", a);
	addr(AF_INET, "198.18.1.255", b);
	addr(AF_INET6, "fd7a:115c:a1e0::1", c);
	ck_assert_int_eq(fwd_locals_has(&l, AF_INET, a), 0);
	ck_assert_int_eq(fwd_locals_add(&l, AF_INET, a, 3, FWD_LOCAL), 0);
	ck_assert_int_eq(fwd_locals_add(&l, AF_INET, a, 3, FWD_LOCAL), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(fwd_locals_add(&l, AF_INET, a, 5, FWD_LOCAL), 0);	/* on two links */
	ck_assert_int_eq(fwd_locals_add(&l, AF_INET, b, 3, FWD_BROADCAST), 0);
	ck_assert_int_eq(fwd_locals_add(&l, AF_INET6, c, 4, FWD_LOCAL), 0);
	ck_assert_uint_eq(l.n, 4);
	ck_assert_int_eq(fwd_locals_has(&l, AF_INET, a), 1);
	ck_assert_int_eq(fwd_locals_has(&l, AF_INET, b), 1);
	ck_assert_int_eq(fwd_locals_has(&l, AF_INET6, c), 1);
	/* The same bytes in the other family are another address. */
	ck_assert_int_eq(fwd_locals_has(&l, AF_INET6, a), 0);
	ck_assert_int_eq(fwd_locals_del(&l, AF_INET, a, 3, FWD_BROADCAST), 0);
	ck_assert_int_eq(fwd_locals_del(&l, AF_INET, a, 3, FWD_LOCAL), 1);
	ck_assert_int_eq(fwd_locals_has(&l, AF_INET, a), 1);		/* still on 5 */
	ck_assert_int_eq(fwd_locals_del(&l, AF_INET, a, 5, FWD_LOCAL), 1);
	ck_assert_int_eq(fwd_locals_has(&l, AF_INET, a), 0);
	ck_assert_int_eq(fwd_locals_del(&l, AF_INET, a, 5, FWD_LOCAL), 0);
	/* Many, out of order: the set stays sorted and complete. */
	for (int i = 0; i < 300; i++) {
		uint8_t x[4] = { 198, 18, (uint8_t)(i * 7 % 256), (uint8_t)(i / 256 + 1) };

		ck_assert_int_eq(fwd_locals_add(&l, AF_INET, x, i, FWD_LOCAL), 0);
	}
	for (int i = 0; i < 300; i++) {
		uint8_t x[4] = { 198, 18, (uint8_t)(i * 7 % 256), (uint8_t)(i / 256 + 1) };

		ck_assert_int_eq(fwd_locals_has(&l, AF_INET, x), 1);
	}
	fwd_locals_clear(&l);
	ck_assert_int_eq(fwd_locals_has(&l, AF_INET6, c), 0);
	fwd_locals_free(&l);
	ck_assert_ptr_null(l.v);
}
END_TEST

static int dst_host(const struct fwd_locals *l, const char *s)
{
	uint8_t a[16];
	int family = strchr(s, ':') ? AF_INET6 : AF_INET;

	addr(family, s, a);
	return fwd_dst_is_host(l, family, a);
}

static int src_host(const struct fwd_locals *l, const char *s)
{
	uint8_t a[16];
	int family = strchr(s, ':') ? AF_INET6 : AF_INET;

	addr(family, s, a);
	return fwd_src_is_host(l, family, a);
}

START_TEST(host_rule)
{
	struct fwd_locals l = { 0 };
	uint8_t a[16];

	addr(AF_INET, "198.18.1.1", a);
	fwd_locals_add(&l, AF_INET, a, 2, FWD_LOCAL);
	addr(AF_INET, "198.18.1.255", a);
	fwd_locals_add(&l, AF_INET, a, 2, FWD_BROADCAST);
	addr(AF_INET6, "fd7a:115c:a1e0:1::1", a);
	fwd_locals_add(&l, AF_INET6, a, 2, FWD_LOCAL);

	ck_assert_int_eq(dst_host(&l, "198.18.1.1"), 1);	/* local */
	ck_assert_int_eq(dst_host(&l, "198.18.1.255"), 1);	/* subnet broadcast */
	ck_assert_int_eq(dst_host(&l, "255.255.255.255"), 1);
	ck_assert_int_eq(dst_host(&l, "224.0.0.251"), 1);	/* multicast */
	ck_assert_int_eq(dst_host(&l, "239.255.255.250"), 1);
	ck_assert_int_eq(dst_host(&l, "127.0.0.1"), 1);
	ck_assert_int_eq(dst_host(&l, "0.0.0.0"), 1);
	ck_assert_int_eq(dst_host(&l, "198.18.1.2"), 0);	/* a neighbour: forwarded */
	ck_assert_int_eq(dst_host(&l, "100.64.0.2"), 0);
	ck_assert_int_eq(dst_host(&l, "223.255.255.255"), 0);
	ck_assert_int_eq(dst_host(&l, "fd7a:115c:a1e0:1::1"), 1);
	ck_assert_int_eq(dst_host(&l, "ff02::1"), 1);
	ck_assert_int_eq(dst_host(&l, "ff05::1:3"), 1);
	ck_assert_int_eq(dst_host(&l, "::1"), 1);
	ck_assert_int_eq(dst_host(&l, "::"), 1);
	ck_assert_int_eq(dst_host(&l, "fd7a:115c:a1e0:1::2"), 0);
	ck_assert_int_eq(dst_host(&l, "fe00::1"), 0);

	ck_assert_int_eq(src_host(&l, "198.18.1.1"), 1);
	ck_assert_int_eq(src_host(&l, "0.0.0.0"), 1);		/* DHCP */
	ck_assert_int_eq(src_host(&l, "127.0.0.1"), 1);
	ck_assert_int_eq(src_host(&l, "198.18.1.2"), 0);
	ck_assert_int_eq(src_host(&l, "fd7a:115c:a1e0:1::1"), 1);
	ck_assert_int_eq(src_host(&l, "fd7a:115c:a1e0:1::3"), 0);
	ck_assert_int_eq(src_host(&l, "::"), 1);
	fwd_locals_free(&l);
}
END_TEST

/* ---- a routing mirror standing in for the kernel ---- */

/* Interfaces: 1 lo, 2 r1 (198.18.1.0/24), 3 r2 (198.18.2.0/24), 4 tailscale0. */
struct rt {
	uint32_t table;
	const char *prefix;
	int len, type, oif;
	const char *gw;
	int protocol;
};

static const struct rt routes[] = {
	{ 254, "198.18.1.0", 24, RTN_UNICAST, 2, NULL, RTPROT_KERNEL },
	{ 254, "198.18.2.0", 24, RTN_UNICAST, 3, NULL, RTPROT_KERNEL },
	{ 254, "198.19.0.0", 16, RTN_UNICAST, 3, "198.18.2.2", RTPROT_BOOT },
	{ 254, "100.64.0.2", 32, RTN_UNICAST, 4, NULL, RTPROT_BOOT },
	{ 254, "198.20.0.0", 24, RTN_BLACKHOLE, 0, NULL, RTPROT_BOOT },
	{ 255, "198.18.1.1", 32, RTN_LOCAL, 2, NULL, RTPROT_KERNEL },
	{ 255, "198.18.2.1", 32, RTN_LOCAL, 3, NULL, RTPROT_KERNEL },
	{ 255, "198.18.1.255", 32, RTN_BROADCAST, 2, NULL, RTPROT_KERNEL },
	{ 255, "198.21.0.1", 32, RTN_LOCAL, 1, NULL, RTPROT_BOOT },	/* AnyIP */
	{ 254, "fd7a:115c:a1e0:1::", 64, RTN_UNICAST, 2, NULL, RTPROT_KERNEL },
	{ 254, "fd7a:115c:a1e0::", 48, RTN_UNICAST, 3, "fd7a:115c:a1e0:2::2", RTPROT_BOOT },
	{ 254, "fd7a:115c:a1e0:2::", 64, RTN_UNICAST, 3, NULL, RTPROT_KERNEL },
	{ 255, "fd7a:115c:a1e0:1::1", 128, RTN_LOCAL, 2, NULL, RTPROT_KERNEL },
	{ 0, NULL, 0, 0, 0, NULL, 0 },
};

static void route_of(const struct rt *e, struct fib_route *r)
{
	int v6 = strchr(e->prefix, ':') != NULL;

	memset(r, 0, sizeof *r);
	r->family = v6 ? AF_INET6 : AF_INET;
	addr(r->family, e->prefix, r->dst);
	r->dst_len = (uint8_t)e->len;
	r->type = (uint8_t)e->type;
	r->table = e->table;
	r->protocol = (uint8_t)e->protocol;
	r->priority = v6 && e->table == 254 ? 1024 : 0;
	if (e->oif || e->gw) {
		r->npaths = 1;
		r->path[0].oif = e->oif;
		if (e->gw) {
			r->path[0].gw.family = r->family;
			addr(r->family, e->gw, r->path[0].gw.a);
		}
	}
}

/* An RTM_NEWADDR for an IPv4 address of kindex. */
static void address(struct fib *fib, const char *a, int kindex)
{
	uint8_t b[16];

	addr(AF_INET, a, b);
	ck_assert_int_eq(fibmsg_addr(fib, RTM_NEWADDR, AF_INET, kindex, b), FIB_CHANGED);
}

/* Adds (or with RTM_DELROUTE and flags, deletes or replaces) a route. */
static void route_msg(struct fib *fib, uint16_t type, uint16_t flags, const struct fib_route *r)
{
	ck_assert_int_eq(fibmsg_route(fib, type, flags, r, 0), FIB_CHANGED);
}

struct fixture {
	struct fwd_locals l;
	struct fwd_cache *c;
	struct fib *fib;
};

static void fixture_init(struct fixture *f)
{
	static const char *const names[] = { NULL, "lo", "r1", "r2", "tailscale0" };
	uint8_t a[16];

	memset(f, 0, sizeof *f);
	addr(AF_INET, "198.18.1.1", a);
	fwd_locals_add(&f->l, AF_INET, a, 2, FWD_LOCAL);
	addr(AF_INET, "198.18.2.1", a);
	fwd_locals_add(&f->l, AF_INET, a, 3, FWD_LOCAL);
	addr(AF_INET, "198.18.1.255", a);
	fwd_locals_add(&f->l, AF_INET, a, 2, FWD_BROADCAST);
	addr(AF_INET6, "fd7a:115c:a1e0:1::1", a);
	fwd_locals_add(&f->l, AF_INET6, a, 2, FWD_LOCAL);
	f->c = fwd_cache_new(4096);
	ck_assert_ptr_nonnull(f->c);
	f->fib = fib_new();
	ck_assert_ptr_nonnull(f->fib);
	for (int k = 1; k <= 4; k++) {
		ck_assert_int_eq(fibmsg_link(f->fib, RTM_NEWLINK, k, names[k], IFF_UP | IFF_RUNNING),
				 FIB_CHANGED);
		fibmsg_netconf(f->fib, AF_INET, k, 1, 0);
	}
	fibmsg_netconf(f->fib, AF_INET, -1, 1, 0);
	fibmsg_rule_to(f->fib, AF_INET, 0, 255);
	fibmsg_rule_to(f->fib, AF_INET, 32766, 254);
	fibmsg_rule_to(f->fib, AF_INET, 32767, 253);
	fibmsg_rule_to(f->fib, AF_INET6, 0, 255);
	fibmsg_rule_to(f->fib, AF_INET6, 32766, 254);
	address(f->fib, "198.18.1.1", 2);
	address(f->fib, "198.18.2.1", 3);
	for (const struct rt *e = routes; e->prefix; e++) {
		struct fib_route r;

		route_of(e, &r);
		route_msg(f->fib, RTM_NEWROUTE, 0, &r);
	}
}

static void fixture_free(struct fixture *f)
{
	fwd_locals_free(&f->l);
	fwd_cache_free(f->c);
	fib_free(f->fib);
}

static int classify(struct fixture *f, int kindex, unsigned arphrd, int outgoing,
		    const char *src, const char *dst, struct fwd_info *out)
{
	uint8_t b[128];
	uint32_t n = frame(b, arphrd != ARPHRD_NONE, 0, src, dst);

	return fwd_classify(&f->l, f->c, f->fib, 0, kindex, arphrd, outgoing, b, n, out);
}

static void expect_nexthop(const struct fwd_info *i, const char *want)
{
	char buf[INET6_ADDRSTRLEN];

	ck_assert_int_ne(i->nexthop.family, 0);
	ck_assert_ptr_nonnull(inet_ntop(i->nexthop.family, i->nexthop.a, buf, sizeof buf));
	ck_assert_str_eq(buf, want);
}

/* i: forwarded from in_kindex in to out_kindex out through next hop nh. */
static void expect_forwarded(const struct fwd_info *i, int in, int out, const char *nh)
{
	ck_assert_int_eq(i->forwarded, 1);
	ck_assert_int_eq(i->in_kindex, in);
	ck_assert_int_eq(i->out_kindex, out);
	expect_nexthop(i, nh);
}

static uint64_t misses(const struct fixture *f)
{
	uint64_t h, m;

	fwd_cache_stats(f->c, &h, &m);
	return m;
}

/* ---- the classification ---- */

START_TEST(classify_ingress)
{
	struct fixture f;
	struct fwd_info i;

	fixture_init(&f);
	/* r1 -> behind a gateway on r2 */
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", "198.19.5.1", &i), 0);
	expect_forwarded(&i, 2, 3, "198.18.2.2");
	ck_assert_uint_eq(i.src_len, 24);
	ck_assert_uint_eq(i.dst_len, 16);
	ck_assert_uint_eq(misses(&f), 1);
	/* The same flow again, and another destination of the route: the cache. */
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", "198.19.200.9", &i), 0);
	ck_assert_uint_eq(misses(&f), 1);
	ck_assert_int_eq(i.out_kindex, 3);
	expect_nexthop(&i, "198.18.2.2");
	/* on-link: the next hop is the destination itself, cached or not */
	ck_assert_int_eq(classify(&f, 3, ARPHRD_ETHER, 0, "198.18.2.2", "198.18.1.2", &i), 0);
	expect_forwarded(&i, 3, 2, "198.18.1.2");
	ck_assert_uint_eq(i.dst_len, 24);
	ck_assert_uint_eq(i.src_len, 24);
	ck_assert_int_eq(classify(&f, 3, ARPHRD_ETHER, 0, "198.18.2.2", "198.18.1.7", &i), 0);
	expect_nexthop(&i, "198.18.1.7");
	/* from the tun (raw IP), as a subnet router */
	ck_assert_int_eq(classify(&f, 4, ARPHRD_NONE, 0, "100.64.0.2", "198.19.0.9", &i), 0);
	ck_assert_int_eq(i.forwarded, 1);
	ck_assert_int_eq(i.in_kindex, 4);
	ck_assert_int_eq(i.out_kindex, 3);
	ck_assert_uint_eq(i.src_len, 32);
	/* IPv6 */
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "fd7a:115c:a1e0:1::2",
				  "fd7a:115c:a1e0:9::1", &i), 0);
	ck_assert_int_eq(i.forwarded, 1);
	ck_assert_int_eq(i.out_kindex, 3);
	expect_nexthop(&i, "fd7a:115c:a1e0:2::2");
	ck_assert_uint_eq(i.src_len, 64);
	ck_assert_uint_eq(i.dst_len, 48);
	fixture_free(&f);
}
END_TEST

START_TEST(classify_ingress_host)
{
	struct fixture f;
	struct fwd_info i;
	static const char *const host[] = {
		"198.18.1.1", "198.18.2.1", "198.18.1.255", "255.255.255.255", "224.0.0.1",
	};

	fixture_init(&f);
	for (size_t n = 0; n < sizeof host / sizeof host[0]; n++) {
		memset(&i, 0x55, sizeof i);
		ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", host[n], &i), 0);
		ck_assert_msg(i.forwarded == 0, "%s", host[n]);
		ck_assert_int_eq(i.out_kindex, 0);
		ck_assert_int_eq(i.nexthop.family, 0);
	}
	/* decided by the address set alone: the routing is not asked */
	ck_assert_uint_eq(misses(&f), 0);
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "fd7a:115c:a1e0:1::2", "ff02::1", &i), 0);
	ck_assert_int_eq(i.forwarded, 0);
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "fd7a:115c:a1e0:1::2",
				  "fd7a:115c:a1e0:1::1", &i), 0);
	ck_assert_int_eq(i.forwarded, 0);
	ck_assert_uint_eq(misses(&f), 0);
	/* The routing's word: a local route that is no address, a blackhole, no route. */
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", "198.21.0.1", &i), 0);
	ck_assert_int_eq(i.forwarded, 0);
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", "198.20.0.7", &i), 0);
	ck_assert_int_eq(i.forwarded, 0);
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", "203.0.113.1", &i), 0);
	ck_assert_int_eq(i.forwarded, 0);
	/* A source that is the host's own arriving from outside: a martian. */
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.2.1", "198.19.5.1", &i), 0);
	ck_assert_int_eq(i.forwarded, 0);
	/* Forwarding off on the input interface: the host drops it. */
	fibmsg_netconf(f.fib, AF_INET, 2, 0, -1);
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", "198.19.5.1", &i), 0);
	ck_assert_int_eq(i.forwarded, 0);
	/* not IP */
	ck_assert_int_eq(fwd_classify(&f.l, f.c, f.fib, 0, 2, ARPHRD_ETHER, 0,
				      (const uint8_t *)"short", 5, &i), -1);
	fixture_free(&f);
}
END_TEST

START_TEST(classify_egress)
{
	struct fixture f;
	struct fwd_info i;

	fixture_init(&f);
	/* Leaving r2, from a neighbour of r1: it came in on r1. */
	ck_assert_int_eq(classify(&f, 3, ARPHRD_ETHER, 1, "198.18.1.2", "198.19.5.1", &i), 0);
	expect_forwarded(&i, 2, 3, "198.18.2.2");
	ck_assert_uint_eq(i.src_len, 24);
	ck_assert_uint_eq(i.dst_len, 16);
	/* Leaving the tun towards a tailnet peer, from behind r2. */
	ck_assert_int_eq(classify(&f, 4, ARPHRD_NONE, 1, "198.18.2.2", "100.64.0.2", &i), 0);
	expect_forwarded(&i, 3, 4, "100.64.0.2");
	ck_assert_uint_eq(i.dst_len, 32);
	/* The host's own: forwarded 0, the routing not asked. */
	{
		uint64_t m = misses(&f);

		ck_assert_int_eq(classify(&f, 3, ARPHRD_ETHER, 1, "198.18.2.1", "198.19.5.1", &i), 0);
		ck_assert_int_eq(i.forwarded, 0);
		ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 1, "fd7a:115c:a1e0:1::1", "ff02::2",
					  &i), 0);
		ck_assert_int_eq(i.forwarded, 0);
		ck_assert_uint_eq(misses(&f), m);
	}
	/* A source without a route back: in unknown, the destination still found. */
	ck_assert_int_eq(classify(&f, 3, ARPHRD_ETHER, 1, "203.0.113.5", "198.18.2.2", &i), 0);
	expect_forwarded(&i, 0, 3, "198.18.2.2");
	fixture_free(&f);
}
END_TEST

/* 50,000 destinations of one route are one cache entry; a route added
 * inside it splits the cell, and only there the answer changes. */
START_TEST(cells_share_an_entry)
{
	struct fixture f;
	struct fwd_info i;
	struct fib_route r;
	char dst[32];

	fixture_init(&f);
	for (int n = 0; n < 50000; n++) {
		snprintf(dst, sizeof dst, "198.19.%d.%d", n / 256, n % 256);
		ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", dst, &i), 0);
		ck_assert_int_eq(i.out_kindex, 3);
		ck_assert_uint_eq(i.dst_len, 16);
		expect_nexthop(&i, "198.18.2.2");
	}
	ck_assert_uint_eq(misses(&f), 1);
	ck_assert_uint_eq(fwd_cache_count(f.c), 1);
	route_of(&(struct rt){ 254, "198.19.5.0", 24, RTN_UNICAST, 4, NULL, RTPROT_BOOT }, &r);
	route_msg(f.fib, RTM_NEWROUTE, 0, &r);
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", "198.19.5.77", &i), 0);
	ck_assert_int_eq(i.out_kindex, 4);
	ck_assert_uint_eq(i.dst_len, 24);
	expect_nexthop(&i, "198.19.5.77");
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", "198.19.4.77", &i), 0);
	ck_assert_int_eq(i.out_kindex, 3);
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", "198.19.6.0", &i), 0);
	ck_assert_int_eq(i.out_kindex, 3);
	ck_assert_uint_eq(misses(&f), 4);	/* flushed by the change: three cells now */
	route_msg(f.fib, RTM_DELROUTE, 0, &r);
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", "198.19.5.77", &i), 0);
	ck_assert_int_eq(i.out_kindex, 3);
	fixture_free(&f);
}
END_TEST

/* A bounded cache stays bounded under many cells and still hits recent ones. */
START_TEST(cache_bounded)
{
	struct fixture f;
	struct fwd_info i;
	uint64_t before;
	char dst[32];

	fixture_init(&f);
	for (int n = 0; n < 20000; n++) {
		struct fib_route r;

		snprintf(dst, sizeof dst, "198.19.%d.%d", n / 256, n % 256);
		route_of(&(struct rt){ 254, dst, 32, RTN_UNICAST, 2 + n % 3, NULL, RTPROT_BOOT }, &r);
		route_msg(f.fib, RTM_NEWROUTE, 0, &r);
	}
	for (int n = 0; n < 20000; n++) {
		snprintf(dst, sizeof dst, "198.19.%d.%d", n / 256, n % 256);
		ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", dst, &i), 0);
		ck_assert_int_eq(i.out_kindex, 2 + n % 3);
		ck_assert_uint_le(fwd_cache_count(f.c), 4096);
	}
	ck_assert_uint_gt(fwd_cache_count(f.c), 3000);	/* the hash spreads keys */
	before = misses(&f);
	for (int n = 20000 - 1000; n < 20000; n++) {
		snprintf(dst, sizeof dst, "198.19.%d.%d", n / 256, n % 256);
		ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", dst, &i), 0);
		ck_assert_int_eq(i.out_kindex, 2 + n % 3);
	}
	ck_assert_uint_lt(misses(&f) - before, 100);
	fixture_free(&f);
}
END_TEST

/* What the routing cannot tell: what the addresses say stands, the rest
 * unknown; once it can again (a new generation), the answers are whole. */
START_TEST(classify_unknown)
{
	struct fixture f;
	struct fwd_info i;

	fixture_init(&f);
	fib_set_incomplete(f.fib, 1);
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", "198.19.5.1", &i), 0);
	ck_assert_int_eq(i.forwarded, 1);
	ck_assert_int_eq(i.in_kindex, 2);
	ck_assert_int_eq(i.out_kindex, 0);
	ck_assert_int_eq(i.nexthop.family, 0);
	ck_assert_uint_eq(i.src_len, 0);
	ck_assert_uint_eq(i.dst_len, 0);
	ck_assert_int_eq(classify(&f, 3, ARPHRD_ETHER, 1, "198.18.1.2", "198.19.5.1", &i), 0);
	ck_assert_int_eq(i.forwarded, 1);
	ck_assert_int_eq(i.in_kindex, 0);
	ck_assert_int_eq(i.out_kindex, 3);
	fib_set_incomplete(f.fib, 0);
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", "198.19.5.1", &i), 0);
	ck_assert_int_eq(i.out_kindex, 3);
	/* Without a cache the same answers. */
	{
		uint8_t b[128];
		uint32_t len = frame(b, 1, 0, "198.18.1.2", "198.19.5.1");

		ck_assert_int_eq(fwd_classify(&f.l, NULL, f.fib, 0, 2, ARPHRD_ETHER, 0, b, len, &i), 0);
		ck_assert_int_eq(i.out_kindex, 3);
		expect_nexthop(&i, "198.18.2.2");
	}
	fixture_free(&f);
}
END_TEST

/* prefix/16 (in main) by two paths: out of r2 via 198.18.2.2, and out of
 * oif2 via gw2; r is the route sent. */
static void two_paths(struct fixture *f, const char *prefix, int oif2, const char *gw2,
		      struct fib_route *r)
{
	route_of(&(struct rt){ 254, prefix, 16, RTN_UNICAST, 3, "198.18.2.2", RTPROT_BOOT }, r);
	r->npaths = 2;
	r->path[1].oif = oif2;
	r->path[1].gw.family = AF_INET;
	addr(AF_INET, gw2, r->path[1].gw.a);
	route_msg(f->fib, RTM_NEWROUTE, 0, r);
}

/* ECMP: the path a flow hashes to is the kernel's secret; what every path
 * shares is known. */
START_TEST(classify_multipath)
{
	struct fixture f;
	struct fwd_info i;
	struct fib_route r;

	fixture_init(&f);
	two_paths(&f, "198.22.0.0", 2, "198.18.1.2", &r);
	ck_assert_int_eq(classify(&f, 4, ARPHRD_NONE, 0, "100.64.0.2", "198.22.0.1", &i), 0);
	ck_assert_int_eq(i.forwarded, 1);
	ck_assert_int_eq(i.out_kindex, 0);
	ck_assert_int_eq(i.nexthop.family, 0);
	ck_assert_uint_eq(i.dst_len, 16);
	/* Both paths out of r2, by two gateways: the interface is known. */
	two_paths(&f, "198.23.0.0", 3, "198.18.2.3", &r);
	ck_assert_int_eq(classify(&f, 4, ARPHRD_NONE, 0, "100.64.0.2", "198.23.0.1", &i), 0);
	ck_assert_int_eq(i.out_kindex, 3);
	ck_assert_int_eq(i.nexthop.family, 0);
	/* One path dead: the other is the only one. */
	r.path[1].flags = RTNH_F_DEAD;
	route_msg(f.fib, RTM_NEWROUTE, NLM_F_REPLACE, &r);
	ck_assert_int_eq(classify(&f, 4, ARPHRD_NONE, 0, "100.64.0.2", "198.23.0.1", &i), 0);
	ck_assert_int_eq(i.out_kindex, 3);
	expect_nexthop(&i, "198.18.2.2");
	fixture_free(&f);
}
END_TEST

static Suite *fwd_suite(void)
{
	Suite *s = suite_create("fwd");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, parse_ethernet);
	tcase_add_test(tc, parse_vlan);
	tcase_add_test(tc, parse_raw_ip);
	tcase_add_test(tc, parse_refuses);
	suite_add_tcase(s, tc);
	tc = tcase_create("addresses");
	tcase_add_test(tc, locals_set);
	tcase_add_test(tc, host_rule);
	suite_add_tcase(s, tc);
	tc = tcase_create("classify");
	tcase_set_timeout(tc, 30);	/* 50,000 and 20,000 classifications, a loaded machine */
	tcase_add_test(tc, classify_ingress);
	tcase_add_test(tc, classify_ingress_host);
	tcase_add_test(tc, classify_egress);
	tcase_add_test(tc, cells_share_an_entry);
	tcase_add_test(tc, cache_bounded);
	tcase_add_test(tc, classify_unknown);
	tcase_add_test(tc, classify_multipath);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hf_run(fwd_suite(), CK_FORK_GETENV);
}
