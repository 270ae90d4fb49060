/* fwd: the pure part of the route room, without root: header parsing
 * (IPv4, IPv6, 802.1Q, raw IP, truncation), the host's addresses and the
 * local/broadcast/multicast rule, the bounded cache and the classification
 * against a made-up routing table standing in for the kernel. */
#include <check.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sflow/core/fwd.h"
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

/* ---- the cache ---- */

static struct fwd_key key_n(int n)
{
	struct fwd_key k;
	uint8_t d[4] = { 198, 18, (uint8_t)(n >> 8), (uint8_t)n };

	fwd_key_make(&k, AF_INET, d, NULL, 0);
	return k;
}

static struct fwd_route route_n(int n)
{
	struct fwd_route r = { .type = RTN_UNICAST, .dst_len = 24, .oif = n };

	return r;
}

START_TEST(cache_basics)
{
	struct fwd_cache *c = fwd_cache_new(64);
	struct fwd_key k = key_n(1), k2;
	struct fwd_route r = route_n(7), got;
	uint8_t d[4] = { 198, 18, 0, 1 }, s[4] = { 100, 64, 0, 2 };

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(fwd_cache_get(c, &k, &got), FWD_UNKNOWN);
	fwd_cache_put(c, &k, FWD_FOUND, &r);
	memset(&got, 0, sizeof got);
	ck_assert_int_eq(fwd_cache_get(c, &k, &got), FWD_FOUND);
	ck_assert_int_eq(got.oif, 7);
	ck_assert_uint_eq(got.dst_len, 24);
	ck_assert_uint_eq(fwd_cache_count(c), 1);
	/* The same key again replaces, does not add. */
	r.oif = 8;
	fwd_cache_put(c, &k, FWD_FOUND, &r);
	ck_assert_uint_eq(fwd_cache_count(c), 1);
	ck_assert_int_eq(fwd_cache_get(c, &k, &got), FWD_FOUND);
	ck_assert_int_eq(got.oif, 8);
	/* src and iif are part of the key. */
	fwd_key_make(&k2, AF_INET, d, s, 0);
	ck_assert_int_eq(fwd_cache_get(c, &k2, &got), FWD_UNKNOWN);
	fwd_key_make(&k2, AF_INET, d, NULL, 3);
	ck_assert_int_eq(fwd_cache_get(c, &k2, &got), FWD_UNKNOWN);
	/* "No route" is an answer; "no answer" is not kept. */
	fwd_cache_put(c, &k2, FWD_NOROUTE, NULL);
	ck_assert_int_eq(fwd_cache_get(c, &k2, &got), FWD_NOROUTE);
	k2 = key_n(99);
	fwd_cache_put(c, &k2, FWD_UNKNOWN, &r);
	ck_assert_int_eq(fwd_cache_get(c, &k2, &got), FWD_UNKNOWN);
	ck_assert_uint_eq(fwd_cache_count(c), 2);
	/* A flush forgets everything at once. */
	fwd_cache_flush(c);
	ck_assert_uint_eq(fwd_cache_count(c), 0);
	ck_assert_int_eq(fwd_cache_get(c, &k, &got), FWD_UNKNOWN);
	fwd_cache_put(c, &k, FWD_FOUND, &r);
	ck_assert_int_eq(fwd_cache_get(c, &k, &got), FWD_FOUND);
	fwd_cache_free(c);
	fwd_cache_free(NULL);
}
END_TEST

/* One set of four ways: the fifth key evicts the least recently used. */
START_TEST(cache_eviction)
{
	struct fwd_cache *c = fwd_cache_new(1);
	struct fwd_route got;
	struct fwd_key k[6];

	ck_assert_ptr_nonnull(c);
	for (int i = 0; i < 6; i++)
		k[i] = key_n(i);
	for (int i = 0; i < 4; i++) {
		struct fwd_route r = route_n(i);

		fwd_cache_put(c, &k[i], FWD_FOUND, &r);
	}
	ck_assert_uint_eq(fwd_cache_count(c), 4);
	/* Touch 0: now 1 is the oldest. */
	ck_assert_int_eq(fwd_cache_get(c, &k[0], &got), FWD_FOUND);
	struct fwd_route r4 = route_n(4), r5 = route_n(5);
	fwd_cache_put(c, &k[4], FWD_FOUND, &r4);
	ck_assert_uint_eq(fwd_cache_count(c), 4);
	ck_assert_int_eq(fwd_cache_get(c, &k[1], &got), FWD_UNKNOWN);
	ck_assert_int_eq(fwd_cache_get(c, &k[0], &got), FWD_FOUND);
	ck_assert_int_eq(got.oif, 0);
	ck_assert_int_eq(fwd_cache_get(c, &k[4], &got), FWD_FOUND);
	ck_assert_int_eq(got.oif, 4);
	/* Then 2 (untouched since its put) goes. */
	fwd_cache_put(c, &k[5], FWD_FOUND, &r5);
	ck_assert_int_eq(fwd_cache_get(c, &k[2], &got), FWD_UNKNOWN);
	ck_assert_int_eq(fwd_cache_get(c, &k[3], &got), FWD_FOUND);
	fwd_cache_free(c);
}
END_TEST

/* A bounded cache stays bounded under many keys and still hits recent ones. */
START_TEST(cache_bounded)
{
	struct fwd_cache *c = fwd_cache_new(4096);
	struct fwd_route got;
	int hits = 0;

	ck_assert_ptr_nonnull(c);
	for (int i = 0; i < 20000; i++) {
		struct fwd_key k = key_n(i);
		struct fwd_route r = route_n(i);

		fwd_cache_put(c, &k, FWD_FOUND, &r);
		ck_assert_uint_le(fwd_cache_count(c), 4096);
	}
	ck_assert_uint_gt(fwd_cache_count(c), 3000);	/* the hash spreads keys */
	for (int i = 20000 - 1000; i < 20000; i++) {
		struct fwd_key k = key_n(i);

		if (fwd_cache_get(c, &k, &got) == FWD_FOUND) {
			ck_assert_int_eq(got.oif, i);
			hits++;
		}
	}
	ck_assert_int_gt(hits, 900);
	fwd_cache_free(c);
}
END_TEST

/* ---- the classification against a made-up routing table ---- */

struct rt {
	const char *prefix;
	int len, type, oif;
	const char *gw;
};

struct table {
	const struct rt *rt;
	int calls;
	int timeout;              /* 1: every lookup times out */
	int last_iif, last_has_src;
};

static int prefix_match(int family, const uint8_t *a, const char *prefix, int len)
{
	uint8_t p[16];

	if (inet_pton(family, prefix, p) != 1)
		return 0;
	for (int i = 0; i < len; i++) {
		int byte = i / 8, bit = 7 - i % 8;

		if (((a[byte] >> bit) & 1) != ((p[byte] >> bit) & 1))
			return 0;
	}
	return 1;
}

/* Longest prefix match, as the kernel would answer with RTM_F_FIB_MATCH. */
static enum fwd_lookup fake_lookup(void *ctx, const struct fwd_key *k, struct fwd_route *r)
{
	struct table *t = ctx;
	const struct rt *best = NULL;

	t->calls++;
	t->last_iif = k->iif;
	t->last_has_src = k->has_src;
	if (t->timeout)
		return FWD_UNKNOWN;
	for (const struct rt *e = t->rt; e->prefix; e++)
		if (prefix_match(k->family, k->dst, e->prefix, e->len) && (!best || e->len > best->len))
			best = e;
	if (!best)
		return FWD_NOROUTE;
	memset(r, 0, sizeof *r);
	r->type = (uint8_t)best->type;
	r->dst_len = (uint8_t)best->len;
	r->oif = best->oif;
	if (best->gw) {
		r->gateway.family = k->family;
		addr(k->family, best->gw, r->gateway.a);
	}
	return FWD_FOUND;
}

/* Interfaces: 2 = r1 (198.18.1.0/24), 3 = r2 (198.18.2.0/24), 4 = tailscale0. */
static const struct rt routes[] = {
	{ "198.18.1.0", 24, RTN_UNICAST, 2, NULL },
	{ "198.18.2.0", 24, RTN_UNICAST, 3, NULL },
	{ "198.19.0.0", 16, RTN_UNICAST, 3, "198.18.2.2" },
	{ "100.64.0.2", 32, RTN_UNICAST, 4, NULL },
	{ "198.18.1.1", 32, RTN_LOCAL, 1, NULL },
	{ "198.20.0.0", 24, RTN_BLACKHOLE, 0, NULL },
	{ "198.21.0.1", 32, RTN_LOCAL, 1, NULL },	/* AnyIP, not an address */
	{ "fd7a:115c:a1e0:1::", 64, RTN_UNICAST, 2, NULL },
	{ "fd7a:115c:a1e0::", 48, RTN_UNICAST, 3, "fd7a:115c:a1e0:2::2" },
	{ "fd7a:115c:a1e0:2::", 64, RTN_UNICAST, 3, NULL },
	{ NULL, 0, 0, 0, NULL },
};

struct fixture {
	struct fwd_locals l;
	struct fwd_cache *c;
	struct table t;
};

static void fixture_init(struct fixture *f)
{
	uint8_t a[16];

	memset(f, 0, sizeof *f);
	f->t.rt = routes;
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
}

static void fixture_free(struct fixture *f)
{
	fwd_locals_free(&f->l);
	fwd_cache_free(f->c);
}

static int classify(struct fixture *f, int kindex, unsigned arphrd, int outgoing,
		    const char *src, const char *dst, struct fwd_info *out)
{
	uint8_t b[128];
	uint32_t n = frame(b, arphrd != ARPHRD_NONE, 0, src, dst);

	return fwd_classify(&f->l, f->c, fake_lookup, &f->t, kindex, arphrd, outgoing,
			    b, n, out);
}

static void expect_nexthop(const struct fwd_info *i, const char *want)
{
	char buf[INET6_ADDRSTRLEN];

	ck_assert_int_ne(i->nexthop.family, 0);
	ck_assert_ptr_nonnull(inet_ntop(i->nexthop.family, i->nexthop.a, buf, sizeof buf));
	ck_assert_str_eq(buf, want);
}

START_TEST(classify_ingress)
{
	struct fixture f;
	struct fwd_info i;

	fixture_init(&f);
	/* r1 -> behind a gateway on r2 */
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", "198.19.5.1", &i), 0);
	ck_assert_int_eq(i.forwarded, 1);
	ck_assert_int_eq(i.in_kindex, 2);
	ck_assert_int_eq(i.out_kindex, 3);
	expect_nexthop(&i, "198.18.2.2");
	ck_assert_uint_eq(i.src_len, 24);
	ck_assert_uint_eq(i.dst_len, 16);
	ck_assert_int_eq(f.t.calls, 2);
	/* The same flow again: both answers come from the cache. */
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", "198.19.5.1", &i), 0);
	ck_assert_int_eq(f.t.calls, 2);
	ck_assert_int_eq(i.out_kindex, 3);
	/* on-link: the next hop is the destination itself */
	ck_assert_int_eq(classify(&f, 3, ARPHRD_ETHER, 0, "198.18.2.2", "198.18.1.2", &i), 0);
	ck_assert_int_eq(i.forwarded, 1);
	ck_assert_int_eq(i.in_kindex, 3);
	ck_assert_int_eq(i.out_kindex, 2);
	expect_nexthop(&i, "198.18.1.2");
	ck_assert_uint_eq(i.dst_len, 24);
	ck_assert_uint_eq(i.src_len, 24);
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
	/* decided by the address set alone: no lookup */
	ck_assert_int_eq(f.t.calls, 0);
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "fd7a:115c:a1e0:1::2", "ff02::1", &i), 0);
	ck_assert_int_eq(i.forwarded, 0);
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "fd7a:115c:a1e0:1::2",
				  "fd7a:115c:a1e0:1::1", &i), 0);
	ck_assert_int_eq(i.forwarded, 0);
	ck_assert_int_eq(f.t.calls, 0);
	/* The kernel's word: a local route that is no address, a blackhole, no route. */
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", "198.21.0.1", &i), 0);
	ck_assert_int_eq(i.forwarded, 0);
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", "198.20.0.7", &i), 0);
	ck_assert_int_eq(i.forwarded, 0);
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", "203.0.113.1", &i), 0);
	ck_assert_int_eq(i.forwarded, 0);
	/* not IP */
	ck_assert_int_eq(fwd_classify(&f.l, f.c, fake_lookup, &f.t, 2, ARPHRD_ETHER, 0,
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
	ck_assert_int_eq(i.forwarded, 1);
	ck_assert_int_eq(i.in_kindex, 2);
	ck_assert_int_eq(i.out_kindex, 3);
	expect_nexthop(&i, "198.18.2.2");
	ck_assert_uint_eq(i.src_len, 24);
	ck_assert_uint_eq(i.dst_len, 16);
	/* the destination lookup asked as the packet arrived: from src, on r1 */
	ck_assert_int_eq(f.t.last_iif, 2);
	ck_assert_int_eq(f.t.last_has_src, 1);
	/* Leaving the tun towards a tailnet peer, from behind r2. */
	ck_assert_int_eq(classify(&f, 4, ARPHRD_NONE, 1, "198.18.2.2", "100.64.0.2", &i), 0);
	ck_assert_int_eq(i.forwarded, 1);
	ck_assert_int_eq(i.in_kindex, 3);
	ck_assert_int_eq(i.out_kindex, 4);
	expect_nexthop(&i, "100.64.0.2");
	ck_assert_uint_eq(i.dst_len, 32);
	/* The host's own: forwarded 0, no lookup needed. */
	f.t.calls = 0;
	ck_assert_int_eq(classify(&f, 3, ARPHRD_ETHER, 1, "198.18.2.1", "198.19.5.1", &i), 0);
	ck_assert_int_eq(i.forwarded, 0);
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 1, "fd7a:115c:a1e0:1::1", "ff02::2", &i), 0);
	ck_assert_int_eq(i.forwarded, 0);
	ck_assert_int_eq(f.t.calls, 0);
	/* A source without a route back: in unknown, the destination still asked. */
	ck_assert_int_eq(classify(&f, 3, ARPHRD_ETHER, 1, "203.0.113.5", "198.18.2.2", &i), 0);
	ck_assert_int_eq(i.forwarded, 1);
	ck_assert_int_eq(i.in_kindex, 0);
	ck_assert_int_eq(i.out_kindex, 3);
	expect_nexthop(&i, "198.18.2.2");
	ck_assert_int_eq(f.t.last_iif, 0);
	ck_assert_int_eq(f.t.last_has_src, 0);
	fixture_free(&f);
}
END_TEST

/* No answer from the kernel: what the addresses say stands, the rest unknown,
 * and nothing is cached (the next sample asks again). */
START_TEST(classify_timeout)
{
	struct fixture f;
	struct fwd_info i;

	fixture_init(&f);
	f.t.timeout = 1;
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", "198.19.5.1", &i), 0);
	ck_assert_int_eq(i.forwarded, 1);
	ck_assert_int_eq(i.in_kindex, 2);
	ck_assert_int_eq(i.out_kindex, 0);
	ck_assert_int_eq(i.nexthop.family, 0);
	ck_assert_uint_eq(i.src_len, 0);
	ck_assert_uint_eq(i.dst_len, 0);
	ck_assert_int_eq(f.t.calls, 2);
	ck_assert_uint_eq(fwd_cache_count(f.c), 0);
	ck_assert_int_eq(classify(&f, 3, ARPHRD_ETHER, 1, "198.18.1.2", "198.19.5.1", &i), 0);
	ck_assert_int_eq(i.forwarded, 1);
	ck_assert_int_eq(i.in_kindex, 0);
	ck_assert_int_eq(i.out_kindex, 3);
	f.t.timeout = 0;
	ck_assert_int_eq(classify(&f, 2, ARPHRD_ETHER, 0, "198.18.1.2", "198.19.5.1", &i), 0);
	ck_assert_int_eq(i.out_kindex, 3);
	/* Without a cache every sample asks. */
	f.t.calls = 0;
	for (int n = 0; n < 3; n++) {
		uint8_t b[128];
		uint32_t len = frame(b, 1, 0, "198.18.1.2", "198.19.5.1");

		ck_assert_int_eq(fwd_classify(&f.l, NULL, fake_lookup, &f.t, 2, ARPHRD_ETHER, 0,
					      b, len, &i), 0);
	}
	ck_assert_int_eq(f.t.calls, 6);
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
	tc = tcase_create("cache");
	tcase_add_test(tc, cache_basics);
	tcase_add_test(tc, cache_eviction);
	tcase_add_test(tc, cache_bounded);
	suite_add_tcase(s, tc);
	tc = tcase_create("classify");
	tcase_add_test(tc, classify_ingress);
	tcase_add_test(tc, classify_ingress_host);
	tcase_add_test(tc, classify_egress);
	tcase_add_test(tc, classify_timeout);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hf_run(fwd_suite(), CK_FORK_GETENV);
}
