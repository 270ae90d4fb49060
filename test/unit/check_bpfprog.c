/* The shared packet socket's BPF program, checked as the kernel checks it
 * and run through a classic-BPF interpreter with the kernel's rules
 * (test/common/bpf_kernel.c): SKF_AD_IFINDEX and SKF_AD_RANDOM are
 * injected. No root needed. */
#include <check.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "sflow/core/bpfprog.h"
#include "sflow/core/pfilter.h"
#include "bpf_kernel.h"
#include "testpkt.h"
#include "hf_check.h"

#define SNAP 128

struct pkt {
	const uint8_t *d;
	uint32_t len;
	uint32_t ifindex, rnd;
};

/* What SO_ATTACH_FILTER would check (test/common/bpf_kernel.c). */
static void verify(const struct sock_filter *p, size_t n)
{
	char err[256];

	ck_assert_msg(kbpf_check(p, n, err, sizeof err) == 0, "the kernel would refuse it: %s", err);
}

static size_t max_steps;   /* the most instructions one run executed */

/* The kernel's run of p on the packet (test/common/bpf_kernel.c). */
static uint32_t run(const struct sock_filter *p, size_t n, const struct pkt *k)
{
	struct kbpf_pkt kp = { .data = k->d, .len = k->len, .ifindex = k->ifindex,
			       .random = k->rnd };
	struct kbpf_trace t;
	uint32_t v = kbpf_run(p, n, &kp, &t);

	ck_assert_msg(!t.unsupported, "instruction %zu (0x%x) is not modelled", t.unsupported_pc,
		      p[t.unsupported_pc < n ? t.unsupported_pc : 0].code);
	if (t.steps > max_steps)
		max_steps = t.steps;
	return v;
}

static struct sock_filter *build_self(const struct bpfprog_rule *r, size_t n,
				      const struct bpfprog_self *self, size_t nself, size_t *len)
{
	struct sock_filter *p = NULL;
	char err[256] = "";

	ck_assert_msg(bpfprog_build(r, n, self, nself, SNAP, &p, len, err, sizeof err) ==
		      BPFPROG_BUILT, "%s", err);
	verify(p, *len);
	return p;
}

static struct sock_filter *build(const struct bpfprog_rule *r, size_t n, size_t *len)
{
	return build_self(r, n, NULL, 0, len);
}

#define RND(r) ((uint32_t)(r) * 2654435761u)

/* What tries draws on ifindex gave: samples (SNAP), marks (drawn, not a
 * sample) and drops; nothing else may come back. */
struct outcome {
	unsigned samples, marks, drops;
};

static struct outcome outcomes(const struct sock_filter *p, size_t n, const uint8_t *d,
			       size_t len, uint32_t ifindex, unsigned tries)
{
	struct outcome o = { 0, 0, 0 };

	for (unsigned r = 0; r < tries; r++) {
		struct pkt k = { d, (uint32_t)len, ifindex, RND(r) };
		uint32_t v = run(p, n, &k);

		if (v != 0 && v != SNAP && v != BPFPROG_MARK)
			ck_abort_msg("returned %u", v);
		o.samples += v == SNAP;
		o.marks += v == BPFPROG_MARK;
		o.drops += v == 0;
	}
	return o;
}

/* How many of tries random values give a sample on ifindex. */
static unsigned passes(const struct sock_filter *p, size_t n, const uint8_t *d, size_t len,
		       uint32_t ifindex, unsigned tries)
{
	return outcomes(p, n, d, len, ifindex, tries).samples;
}

/* Exactly the random values that are 0 mod rate are drawn. */
static unsigned want_passes(uint32_t rate, unsigned tries)
{
	unsigned w = 0;

	for (unsigned r = 0; r < tries; r++)
		w += RND(r) % rate == 0;
	return w;
}

/* Our own flow to 198.18.0.2 (or fd7a:115c:a1e0::2) port dport from sport. */
static struct bpfprog_self self_flow(int v6, uint16_t sport, uint16_t dport)
{
	struct bpfprog_self s = { .family = v6 ? AF_INET6 : AF_INET, .sport = sport,
				  .dport = dport };

	if (v6)
		memcpy(s.addr, "\xfd\x7a\x11\x5c\xa1\xe0\0\0\0\0\0\0\0\0\0\x02", 16);
	else
		memcpy(s.addr, "\xc6\x12\x00\x02", 4);
	return s;
}

START_TEST(t_empty)
{
	uint8_t b[64];
	size_t n, len = testpkt_udp4(b, 1, 1, 2);
	struct sock_filter *p = build(NULL, 0, &n);

	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(passes(p, n, b, len, 1, 10), 0);
	free(p);
}
END_TEST

START_TEST(t_one)
{
	struct bpfprog_rule r = { .kindex = 5, .rate = 1 };
	uint8_t b[64];
	size_t n, len = testpkt_udp4(b, 1, 1, 2);
	struct sock_filter *p = build(&r, 1, &n);

	ck_assert_uint_eq(passes(p, n, b, len, 5, 100), 100);
	ck_assert_uint_eq(passes(p, n, b, len, 4, 100), 0);
	ck_assert_uint_eq(passes(p, n, b, len, 6, 100), 0);
	ck_assert_uint_eq(passes(p, n, b, len, 0, 100), 0);
	free(p);
	r.rate = 10;
	p = build(&r, 1, &n);
	ck_assert_uint_eq(passes(p, n, b, len, 5, 1000), want_passes(10, 1000));
	ck_assert_uint_ge(want_passes(10, 1000), 90);
	ck_assert_uint_eq(passes(p, n, b, len, 3, 1000), 0);
	free(p);
}
END_TEST

/* Interfaces 3, 5, 7, ... in a shuffled order; rates by groups. With the
 * filter, WireGuard's packets and our own datagrams are drawn but marked. */
static void many(size_t cnt, size_t ngroups, int with_filter)
{
	struct bpfprog_rule *r = calloc(cnt, sizeof *r);
	size_t flen = 0, n, len;
	struct sock_filter *f = testpkt_compile("not udp port 41641", PFILTER_DLT_EN10MB, &flen);
	struct bpfprog_self self = self_flow(0, 5000, 6343);
	struct sock_filter *p;
	uint8_t b[64], wg[64], own[64];
	size_t wlen = testpkt_udp4(wg, 1, 5000, 41641), olen = testpkt_udp4(own, 1, 5000, 6343);

	len = testpkt_udp4(b, 1, 5000, 9);
	ck_assert_ptr_nonnull(r);
	for (size_t i = 0; i < cnt; i++) {
		size_t j = (i * 7919) % cnt;   /* a permutation: 7919 is prime */

		r[j].kindex = (int)(3 + 2 * i);
		r[j].rate = (uint32_t)(1 + (i % ngroups) * 4);
		if (with_filter)
			r[j].filter = f, r[j].filter_len = flen;
	}
	p = build_self(r, cnt, with_filter ? &self : NULL, with_filter, &n);
	max_steps = 0;
	for (size_t j = 0; j < cnt; j++) {
		unsigned want = want_passes(r[j].rate, 400);

		ck_assert_msg(passes(p, n, b, len, (uint32_t)r[j].kindex, 400) == want,
			      "kindex %d rate %u", r[j].kindex, r[j].rate);
		ck_assert_uint_eq(passes(p, n, b, len, (uint32_t)r[j].kindex + 1, 4), 0);
		if (with_filter) {
			struct outcome w = outcomes(p, n, wg, wlen, (uint32_t)r[j].kindex, 40);
			struct outcome o = outcomes(p, n, own, olen, (uint32_t)r[j].kindex, 40);

			ck_assert_uint_eq(w.samples + o.samples, 0);
			ck_assert_uint_eq(w.marks, want_passes(r[j].rate, 40));
			ck_assert_uint_eq(o.marks, want_passes(r[j].rate, 40));
		}
	}
	ck_assert_uint_eq(passes(p, n, b, len, 1, 4), 0);
	ck_assert_uint_eq(passes(p, n, b, len, 0x7fffffff, 4), 0);
	fprintf(stderr, "check_bpfprog: %zu interfaces, %zu groups%s: %zu instructions, "
		"at most %zu run\n", cnt, ngroups, with_filter ? ", filter and own flow" : "",
		n, max_steps);
	/* A search, not a chain: 2 per level of ~log2(cnt/8), a leaf of 8 jeq's,
	 * its trampoline, then the group block. */
	if (!with_filter)
		ck_assert_uint_le(max_steps, 2 * 10 + 8 + 2 + 1 + 5 + 1);
	free(p);
	free(f);
	free(r);
}

START_TEST(t_1)
{
	many(1, 1, 0);
	many(1, 1, 1);
}
END_TEST

START_TEST(t_100)
{
	many(100, 1, 0);
	many(100, 5, 1);
}
END_TEST

START_TEST(t_1000)
{
	many(1000, 1, 0);
	many(1000, 2, 1);
	many(1000, 8, 1);
}
END_TEST

/* Filters of two link types, and a filter that is not on every rule: a
 * packet the filter refuses is drawn, so it comes back marked. */
START_TEST(t_filter_linktypes)
{
	size_t elen, rlen, n;
	struct sock_filter *fe = testpkt_compile("not udp port 41641", PFILTER_DLT_EN10MB, &elen);
	struct sock_filter *fr = testpkt_compile("not udp port 41641", PFILTER_DLT_RAW, &rlen);
	struct bpfprog_rule r[3] = {
		{ .kindex = 10, .rate = 1, .link = BPFPROG_LINK_ETHER, .filter = fe, .filter_len = elen },
		{ .kindex = 11, .rate = 1, .link = BPFPROG_LINK_IP, .filter = fr, .filter_len = rlen },
		{ .kindex = 12, .rate = 1 },
	};
	struct sock_filter *p = build(r, 3, &n);
	uint8_t e1[64], e2[64], r1[64], r2[64];
	size_t e1l = testpkt_udp4(e1, 1, 1, 41641), e2l = testpkt_udp4(e2, 1, 1, 53);
	size_t r1l = testpkt_udp4(r1, 0, 41641, 7), r2l = testpkt_udp4(r2, 0, 7, 53);

	ck_assert_uint_eq(passes(p, n, e1, e1l, 10, 5), 0);
	ck_assert_uint_eq(outcomes(p, n, e1, e1l, 10, 5).marks, 5);
	ck_assert_uint_eq(passes(p, n, e2, e2l, 10, 5), 5);
	ck_assert_uint_eq(passes(p, n, r1, r1l, 11, 5), 0);
	ck_assert_uint_eq(outcomes(p, n, r1, r1l, 11, 5).marks, 5);
	ck_assert_uint_eq(passes(p, n, r2, r2l, 11, 5), 5);
	ck_assert_uint_eq(passes(p, n, e1, e1l, 12, 5), 5);
	ck_assert_uint_eq(passes(p, n, r1, r1l, 12, 5), 5);
	free(p);
	free(fe);
	free(fr);
}
END_TEST

/* One draw at rate 1 on kindex 7: SNAP, MARK or 0. */
static uint32_t once(const struct sock_filter *p, size_t n, const uint8_t *d, size_t len)
{
	struct pkt k = { d, (uint32_t)len, 7, 0 };

	return run(p, n, &k);
}

/* Our own datagrams and the ICMP errors quoting them are marked, on
 * Ethernet and bare IP, IPv4 and IPv6; everything that differs in one
 * field (source port, destination, port, ICMP type, protocol) is a sample. */
static void own_flows(enum bpfprog_link link)
{
	int eth = link == BPFPROG_LINK_ETHER;
	struct bpfprog_rule r = { .kindex = 7, .rate = 1, .link = link };
	struct bpfprog_self self[2] = { self_flow(0, 40000, 6343), self_flow(1, 40001, 6343) };
	uint8_t b[256], q[128], e[256];
	size_t n, len, ql, el;
	struct sock_filter *p = build_self(&r, 1, self, 2, &n);

	/* Ours, then another source port, another destination port, the other
	 * family's source port: someone else's. */
	static const struct {
		int v6;
		uint16_t sport, dport;
		uint32_t want;
	} dg[] = {
		{ 0, 40000, 6343, BPFPROG_MARK }, { 1, 40001, 6343, BPFPROG_MARK },
		{ 0, 40002, 6343, SNAP },         { 0, 40000, 6344, SNAP },
		{ 0, 40001, 6343, SNAP },         { 1, 40000, 6343, SNAP },
	};

	for (size_t i = 0; i < sizeof dg / sizeof dg[0]; i++) {
		len = dg[i].v6 ? testpkt_udp6(b, eth, dg[i].sport, dg[i].dport)
			       : testpkt_udp4(b, eth, dg[i].sport, dg[i].dport);
		ck_assert_msg(once(p, n, b, len) == dg[i].want, "datagram %zu (eth %d): %u", i, eth,
			      once(p, n, b, len));
	}
	/* Another destination address. */
	len = testpkt_udp4(b, eth, 40000, 6343);
	b[(eth ? 14 : 0) + 19] = 3;
	ck_assert_uint_eq(once(p, n, b, len), SNAP);
	len = testpkt_udp6(b, eth, 40001, 6343);
	b[(eth ? 14 : 0) + 39] = 3;
	ck_assert_uint_eq(once(p, n, b, len), SNAP);
	/* ICMP errors quoting ours: port unreachable, time exceeded,
	 * parameter problem, source quench; ICMPv6 1..4. */
	ql = testpkt_udp4(q, 0, 40000, 6343);
	for (uint8_t t = 0; t < 20; t++) {
		int err = t == 3 || t == 4 || t == 11 || t == 12;

		el = testpkt_icmp_error(e, eth, 0, t, q, ql);
		ck_assert_msg(once(p, n, e, el) == (err ? BPFPROG_MARK : SNAP), "ICMP type %u", t);
	}
	ql = testpkt_udp6(q, 0, 40001, 6343);
	for (uint8_t t = 0; t < 140; t++) {
		int err = t >= 1 && t <= 4;

		el = testpkt_icmp_error(e, eth, 1, t, q, ql);
		ck_assert_msg(once(p, n, e, el) == (err ? BPFPROG_MARK : SNAP), "ICMPv6 type %u", t);
	}
	/* An error quoting someone else's datagram, or a quoted one with IP
	 * options (ours have none): a sample. */
	ql = testpkt_udp4(q, 0, 40009, 6343);
	el = testpkt_icmp_error(e, eth, 0, 3, q, ql);
	ck_assert_uint_eq(once(p, n, e, el), SNAP);
	ql = testpkt_udp4(q, 0, 40000, 6343);
	q[0] = 0x46;
	el = testpkt_icmp_error(e, eth, 0, 3, q, ql);
	ck_assert_uint_eq(once(p, n, e, el), SNAP);
	/* A later fragment of a datagram to our collector: no ports, a sample. */
	len = testpkt_udp4(b, eth, 40000, 6343);
	b[(eth ? 14 : 0) + 7] = 0x10;
	ck_assert_uint_eq(once(p, n, b, len), SNAP);
	free(p);
}

START_TEST(t_own_flows)
{
	own_flows(BPFPROG_LINK_ETHER);
	own_flows(BPFPROG_LINK_IP);
}
END_TEST

/* A frame of any length is a candidate: with our own flows to look for,
 * every prefix of every kind of packet (down to 0 bytes) is sampled or
 * marked, never dropped (a load past the end would abort the program, which
 * is a drop). A prefix is marked once it holds the flow's every field (the
 * ports: need[]). */
START_TEST(t_short_frames)
{
	struct bpfprog_self self[2] = { self_flow(0, 40000, 6343), self_flow(1, 40001, 6343) };
	static const size_t need[6] = { 14 + 20 + 4, 14 + 40 + 4, 14 + 20 + 8 + 20 + 4,
					14 + 40 + 8 + 40 + 4, 20 + 4, 40 + 4 };
	uint8_t pk[6][256], q[128];
	size_t pl[6], ql;

	pl[0] = testpkt_udp4(pk[0], 1, 40000, 6343);
	pl[1] = testpkt_udp6(pk[1], 1, 40001, 6343);
	ql = testpkt_udp4(q, 0, 40000, 6343);
	pl[2] = testpkt_icmp_error(pk[2], 1, 0, 3, q, ql);
	ql = testpkt_udp6(q, 0, 40001, 6343);
	pl[3] = testpkt_icmp_error(pk[3], 1, 1, 1, q, ql);
	pl[4] = testpkt_udp4(pk[4], 0, 40000, 6343);
	pl[5] = testpkt_udp6(pk[5], 0, 40001, 6343);
	for (int k = 0; k < 6; k++) {
		enum bpfprog_link link = k < 4 ? BPFPROG_LINK_ETHER : BPFPROG_LINK_IP;
		struct bpfprog_rule r = { .kindex = 7, .rate = 1, .link = link };
		size_t n;
		struct sock_filter *p = build_self(&r, 1, self, 2, &n);

		for (size_t len = 0; len <= pl[k]; len++) {
			uint32_t v = once(p, n, pk[k], len);

			ck_assert_msg(v == (len >= need[k] ? BPFPROG_MARK : SNAP),
				      "packet %d cut to %zu of %zu bytes: %u", k, len, pl[k], v);
		}
		free(p);
	}
}
END_TEST

/* Tags in the frame (a device without VLAN offload sends them so): one
 * 802.1Q, or 802.1ad over 802.1Q; three are not looked through. */
START_TEST(t_inband_tags)
{
	struct bpfprog_self self = self_flow(0, 40000, 6343);
	struct bpfprog_rule r = { .kindex = 7, .rate = 1 };
	uint8_t b[64], t[80];
	size_t n, len = testpkt_udp4(b, 1, 40000, 6343);
	struct sock_filter *p = build_self(&r, 1, &self, 1, &n);

	for (unsigned tags = 1; tags <= 3; tags++) {
		size_t o = 12;

		memcpy(t, b, 12);
		for (unsigned i = 0; i < tags; i++, o += 4)
			memcpy(t + o, i + 1 < tags ? "\x88\xa8\x00\x07" : "\x81\x00\x00\x05", 4);
		memcpy(t + o, b + 12, len - 12);
		ck_assert_msg(once(p, n, t, len + 4 * tags) == (tags <= 2 ? BPFPROG_MARK : SNAP),
			      "%u tags", tags);
		/* Cut before the ports: a sample, never a drop. */
		for (size_t cut = 0; cut < len + 4 * tags - 8; cut++)
			ck_assert_uint_eq(once(p, n, t, cut), SNAP);
	}
	free(p);
}
END_TEST

/* 16 collectors (the config's most), 8 of each family, over 1000
 * interfaces of two link types: every own flow marked, the program valid. */
START_TEST(t_sixteen)
{
	struct bpfprog_self self[16];
	struct bpfprog_rule *r = calloc(1000, sizeof *r);
	uint8_t b[128];
	size_t n, len;
	struct sock_filter *p;

	for (int i = 0; i < 16; i++)
		self[i] = self_flow(i % 2, (uint16_t)(41000 + i), 6343);
	for (int i = 0; i < 1000; i++)
		r[i] = (struct bpfprog_rule){ .kindex = i + 1, .rate = (uint32_t)(1 + i % 3),
					      .link = i % 2 ? BPFPROG_LINK_IP : BPFPROG_LINK_ETHER };
	p = build_self(r, 1000, self, 16, &n);
	fprintf(stderr, "check_bpfprog: 1000 interfaces, 6 groups, 16 own flows: %zu "
		"instructions\n", n);
	for (int i = 0; i < 16; i++) {
		int eth = 1;   /* kindex 1: Ethernet */
		struct pkt k = { b, 0, 1, 0 };

		len = i % 2 ? testpkt_udp6(b, eth, (uint16_t)(41000 + i), 6343)
			    : testpkt_udp4(b, eth, (uint16_t)(41000 + i), 6343);
		k.len = (uint32_t)len;
		ck_assert_uint_eq(run(p, n, &k), BPFPROG_MARK);
		len = i % 2 ? testpkt_udp6(b, 0, (uint16_t)(41000 + i), 6343)
			    : testpkt_udp4(b, 0, (uint16_t)(41000 + i), 6343);
		k.len = (uint32_t)len;
		k.ifindex = 2;   /* bare IP */
		ck_assert_uint_eq(run(p, n, &k), BPFPROG_MARK);
		testpkt_udp4(b, 0, (uint16_t)(41000 + i), 6344);
		ck_assert_uint_eq(run(p, n, &k), SNAP);
	}
	free(p);
	free(r);
}
END_TEST

START_TEST(t_too_large)
{
	struct bpfprog_rule *r = calloc(1000, sizeof *r);
	struct sock_filter *p = NULL;
	size_t n = 0, flen;
	struct sock_filter *f = testpkt_compile("udp or tcp or icmp", PFILTER_DLT_EN10MB, &flen);
	char err[256] = "";

	for (int i = 0; i < 1000; i++) {
		r[i].kindex = i + 1;
		r[i].rate = (uint32_t)(i + 2);   /* 1000 distinct groups */
		r[i].filter = f, r[i].filter_len = flen;
	}
	ck_assert_int_eq(bpfprog_build(r, 1000, NULL, 0, SNAP, &p, &n, err, sizeof err),
			 BPFPROG_TOO_LONG);
	ck_assert_msg(strstr(err, "program too large"), "%s", err);
	ck_assert_ptr_null(p);
	free(f);
	free(r);
}
END_TEST

START_TEST(t_bad_rules)
{
	struct bpfprog_rule r[2] = { { .kindex = 4, .rate = 1 }, { .kindex = 4, .rate = 2 } };
	struct bpfprog_self self = self_flow(0, 1, 2);
	struct sock_filter *p = NULL;
	size_t n = 0;
	char err[256] = "";

	ck_assert_int_eq(bpfprog_build(r, 2, NULL, 0, SNAP, &p, &n, err, sizeof err),
			 BPFPROG_REFUSED);
	ck_assert_msg(strstr(err, "kindex 4 listed twice"), "%s", err);
	r[1].kindex = 0;
	ck_assert_int_eq(bpfprog_build(r, 2, NULL, 0, SNAP, &p, &n, err, sizeof err),
			 BPFPROG_REFUSED);
	r[1].kindex = 5;
	r[1].rate = 0;
	ck_assert_int_eq(bpfprog_build(r, 2, NULL, 0, SNAP, &p, &n, err, sizeof err),
			 BPFPROG_REFUSED);
	r[1].rate = 1;
	/* A snap of 1 would be a mark. */
	ck_assert_int_eq(bpfprog_build(r, 2, NULL, 0, 1, &p, &n, err, sizeof err),
			 BPFPROG_REFUSED);
	self.family = 0;
	ck_assert_int_eq(bpfprog_build(r, 2, &self, 1, SNAP, &p, &n, err, sizeof err),
			 BPFPROG_REFUSED);
	ck_assert_ptr_null(p);
}
END_TEST

START_TEST(t_pfilter)
{
	struct sock_filter *p = NULL;
	struct pfilter_cache *pc = pfilter_cache_new();
	const struct sock_filter *a, *b, *c;
	char err[256] = "", big[PFILTER_EXPR_MAX + 2];
	size_t n = 0, na, nb, nc;

	ck_assert_int_eq(pfilter_compile("udp port", PFILTER_DLT_EN10MB, &p, &n, err,
					 sizeof err), -1);
	ck_assert_msg(strstr(err, "syntax error"), "libpcap's message: %s", err);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ck_assert_int_eq(pfilter_compile(big, PFILTER_DLT_RAW, &p, &n, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "longer than"), "%s", err);
	ck_assert_int_eq(pfilter_dlt_for_arphrd(1), PFILTER_DLT_EN10MB);     /* ETHER */
	ck_assert_int_eq(pfilter_dlt_for_arphrd(772), PFILTER_DLT_EN10MB);   /* LOOPBACK */
	ck_assert_int_eq(pfilter_dlt_for_arphrd(65534), PFILTER_DLT_RAW);    /* NONE: tun */
	ck_assert_ptr_nonnull(pc);
	a = pfilter_cache_get(pc, "tcp", PFILTER_DLT_EN10MB, &na, err, sizeof err);
	b = pfilter_cache_get(pc, "tcp", PFILTER_DLT_RAW, &nb, err, sizeof err);
	c = pfilter_cache_get(pc, "tcp", PFILTER_DLT_EN10MB, &nc, err, sizeof err);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_eq(a, c);
	ck_assert_ptr_ne(a, b);
	ck_assert_ptr_null(pfilter_cache_get(pc, "tcp port x y", 1, &nc, err, sizeof err));
	pfilter_cache_prune(pc);   /* all used: all kept */
	ck_assert_ptr_eq(pfilter_cache_get(pc, "tcp", PFILTER_DLT_RAW, &nb, err, sizeof err), b);
	pfilter_cache_prune(pc);   /* only (tcp, RAW) was used */
	pfilter_cache_free(pc);
}
END_TEST

/* The checker the tests and fuzzers rely on refuses what the kernel does. */
#define BAD(why, ...) do {						\
	const struct sock_filter p_[] = { __VA_ARGS__ };			\
	char e_[256] = "";						\
	ck_assert_msg(kbpf_check(p_, sizeof p_ / sizeof p_[0], e_, sizeof e_) == -1, \
		      "accepted: %s", why);					\
	ck_assert_msg(strstr(e_, why), "%s: said '%s'", why, e_);	\
} while (0)

START_TEST(t_kernel_checker)
{
	const struct sock_filter ok[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_RANDOM),
		BPF_STMT(BPF_ST, 3),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2),
		BPF_STMT(BPF_LDX | BPF_MEM, 3),
		BPF_STMT(BPF_RET | BPF_K, 1),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_filter *big = calloc(BPF_MAXINSNS + 1, sizeof *big);
	char err[256];

	ck_assert_int_eq(kbpf_check(ok, 6, err, sizeof err), 0);
	ck_assert_int_eq(kbpf_check(ok, 0, err, sizeof err), -1);
	ck_assert_ptr_nonnull(big);
	for (int i = 0; i <= BPF_MAXINSNS; i++)
		big[i] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	ck_assert_int_eq(kbpf_check(big, BPF_MAXINSNS, err, sizeof err), 0);
	ck_assert_int_eq(kbpf_check(big, BPF_MAXINSNS + 1, err, sizeof err), -1);
	free(big);
	BAD("not a return", BPF_STMT(BPF_LD | BPF_IMM, 1));
	BAD("not allowed", BPF_STMT(BPF_LD | BPF_W | BPF_MSH, 1), BPF_STMT(BPF_RET | BPF_K, 0));
	BAD("division by the constant 0", BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0),
	    BPF_STMT(BPF_RET | BPF_K, 0));
	BAD("division by the constant 0", BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 0),
	    BPF_STMT(BPF_RET | BPF_K, 0));
	BAD("shift by 32", BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 32), BPF_STMT(BPF_RET | BPF_K, 0));
	BAD("beyond scratch memory", BPF_STMT(BPF_ST, 16), BPF_STMT(BPF_RET | BPF_K, 0));
	BAD("before a store", BPF_STMT(BPF_LD | BPF_MEM, 2), BPF_STMT(BPF_RET | BPF_K, 0));
	/* Stored on one path only. */
	BAD("before a store", BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
	    BPF_STMT(BPF_ST, 2), BPF_STMT(BPF_LDX | BPF_MEM, 2), BPF_STMT(BPF_RET | BPF_K, 0));
	BAD("leaves the program", BPF_STMT(BPF_JMP | BPF_JA, 1), BPF_STMT(BPF_RET | BPF_K, 0));
	BAD("leaves the program", BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 0, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, 0));
	BAD("unknown ancillary", BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_MAX),
	    BPF_STMT(BPF_RET | BPF_K, 0));
	BAD("unknown ancillary", BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + 2),
	    BPF_STMT(BPF_RET | BPF_K, 0));
}
END_TEST

/* A load past the end, or a division by X = 0, drops the packet. */
START_TEST(t_kernel_run_faults)
{
	const struct sock_filter p[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
		BPF_STMT(BPF_LDX | BPF_IMM, 0),
		BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0),
		BPF_STMT(BPF_RET | BPF_K, 9),
	};
	const uint8_t b[14] = { 0 };
	struct kbpf_pkt k = { .data = b, .len = 13 };
	struct kbpf_trace t;

	ck_assert_uint_eq(kbpf_run(p, 4, &k, &t), 0);
	ck_assert(t.fault && t.fault_pc == 0);
	k.len = 14;
	ck_assert_uint_eq(kbpf_run(p, 4, &k, &t), 0);
	ck_assert(t.fault && t.fault_pc == 2);
	ck_assert_uint_eq(kbpf_run(p, 1, &k, &t), 0);
	ck_assert(t.unsupported);   /* ran off the end */
}
END_TEST

static Suite *bpfprog_suite(void)
{
	Suite *s = suite_create("bpfprog");
	TCase *tc = tcase_create("build");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, t_empty);
	tcase_add_test(tc, t_one);
	tcase_add_test(tc, t_1);
	tcase_add_test(tc, t_100);
	tcase_add_test(tc, t_1000);
	tcase_add_test(tc, t_filter_linktypes);
	tcase_add_test(tc, t_own_flows);
	tcase_add_test(tc, t_short_frames);
	tcase_add_test(tc, t_inband_tags);
	tcase_add_test(tc, t_sixteen);
	tcase_add_test(tc, t_too_large);
	tcase_add_test(tc, t_bad_rules);
	tcase_add_test(tc, t_pfilter);
	tcase_add_test(tc, t_kernel_checker);
	tcase_add_test(tc, t_kernel_run_faults);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hf_run(bpfprog_suite(), CK_FORK_GETENV);
}
