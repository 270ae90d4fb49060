/* libFuzzer target: the sampling rules to the kernel program
 * (sflow/core/bpfprog.c, with pcap filters from sflow/core/pfilter.c).
 *
 * The input drives a rule set as the capture hands it over: interfaces
 * (kernel ifindex, often repeated or out of range), rates (edges included),
 * link types (Ethernet or bare IP, as on tun; now and then an unknown one),
 * `filter` expressions put together from pcap-filter(7) primitives, and the
 * flows of our own datagrams (0 to 17 of them, as collectors_self gives:
 * UDP from our port to a collector's address and port, IPv4 and IPv6; now
 * and then one of no family). Then packets: templates (Ethernet with 0-3
 * 802.1Q/802.1ad tags, IPv4/IPv6, UDP/TCP, ARP, ICMP and ICMPv6 errors
 * quoting a UDP datagram, to the collectors or not) cut to any length and
 * bytes changed, on a chosen interface, with a chosen random draw.
 *
 * Invariants: a rule set the builder refuses is one the capture must not
 * install (a bad rule, a duplicate interface, a filter returning A, an own
 * flow of no family or too many of them, a snap length under
 * BPFPROG_MIN_SNAP), a valid one is refused only as too long and only when
 * it may be, and a small valid one is never refused; every program it builds
 * passes the kernel's checks (test/common/bpf_kernel.c); and on every packet
 * the program answers exactly what its parts answer on their own, with the
 * kernel's rules: nothing (0) for an interface without a rule or a draw that
 * fails (the random value mod rate is not 0); then the filter: a load past
 * the end in it drops the packet (0, as libpcap's program alone would), no
 * match is a mark (BPFPROG_MARK: drawn, not a sample); then a packet that
 * is one of our own flows, or an ICMP/ICMPv6 error quoting one, read from
 * the layouts by the reference below, is a mark; anything else, of any
 * length, is a sample of snaplen. */
#include "sflow/core/bpfprog.h"
#include "sflow/core/pfilter.h"
#include "bpf_kernel.h"
#include "fuzz_check.h"

#include <limits.h>
#include <sys/socket.h>

#define MAX_RULES     64
#define MAX_RULES_BIG 1100    /* now and then: the search over many interfaces */
#define MAX_PKTS      24
#define MAX_PKT       1600
#define MAX_EXPR      512
#define CACHE         32

static const char *const prims[] = {
	"udp", "tcp", "icmp", "ip", "ip6", "icmp6", "udp port 41641", "port 53",
	"tcp port 443", "udp dst port 6343", "portrange 1000-2000", "host 198.18.0.1",
	"dst host 100.64.0.1", "src net 198.18.0.0/15", "net fd7a:115c:a1e0::/48",
	"ip6 host fd7a:115c:a1e0::1", "ip proto 47", "ip multicast", "len >= 100",
	"less 60", "greater 1000", "ip[6:2] & 0x1fff = 0", "ip[0] & 0xf > 5",
	"tcp[tcpflags] & tcp-syn != 0", "udp[8:2] = 5", "ip6[6] = 17",
	"tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420", "ip and udp[0:2] > 1023",
	/* Ethernet only: a tun rule compiling these is refused, as the
	 * daemon's compile would be, and then samples unfiltered. */
	"vlan", "vlan and udp", "arp", "ether src 02:00:00:00:00:01", "ether broadcast",
};
#define NPRIMS (sizeof prims / sizeof prims[0])

static const uint32_t rate_edges[] = {
	0, 1, 2, 3, 7, 10, 400, 65535, 0x80000000u, UINT32_MAX,
};

static const int kindex_edges[] = { 0, -1, INT_MIN, INT_MAX, INT_MAX - 1, 1000000 };

/* Where our own datagrams go (the templates' addresses and ports). */
static const struct {
	int family;
	uint8_t addr[16];
} coll_hosts[] = {
	{ AF_INET, { 198, 18, 0, 2 } },
	{ AF_INET, { 100, 64, 0, 7 } },
	{ AF_INET6, { 0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 } },
	{ AF_INET, { 192, 0, 2, 10 } },
	{ AF_INET6, { 0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3 } },
};
#define NHOSTS (sizeof coll_hosts / sizeof coll_hosts[0])

struct compiled {
	char expr[MAX_EXPR];
	int dlt;
	struct sock_filter *p;    /* NULL: refused by libpcap */
	size_t n;
};

struct input {
	struct fuzz_src s;
	struct compiled cache[CACHE];
	size_t ncache;
};

/* The program of (expr, dlt), compiled once per input; NULL when libpcap
 * refuses it (or the cache is full: no filter). */
static const struct compiled *compile(struct input *in, const char *expr, int dlt)
{
	struct compiled *c;
	char err[256];

	for (size_t i = 0; i < in->ncache; i++)
		if (in->cache[i].dlt == dlt && !strcmp(in->cache[i].expr, expr))
			return &in->cache[i];
	if (in->ncache == CACHE)
		return NULL;
	c = &in->cache[in->ncache++];
	snprintf(c->expr, sizeof c->expr, "%s", expr);
	c->dlt = dlt;
	c->p = NULL;
	c->n = 0;
	if (pfilter_compile(expr, dlt, &c->p, &c->n, err, sizeof err) < 0) {
		c->p = NULL;
		return c;
	}
	FUZZ_CHECK(kbpf_check(c->p, c->n, err, sizeof err) == 0,
		   "libpcap's program for \"%s\" fails the kernel's check: %s", expr, err);
	return c;
}

/* 1 to 3 primitives, each perhaps negated, joined by and/or. */
static void make_expr(struct fuzz_src *s, char *buf, size_t len)
{
	unsigned k = 1 + fuzz_u8(s) % 3;
	size_t pos = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < k && pos < len; i++) {
		uint8_t b = fuzz_u8(s);

		pos += (size_t)snprintf(buf + pos, len - pos, "%s%s(%s)",
					i ? (b & 0x80 ? " or " : " and ") : "",
					b & 0x40 ? "not " : "", prims[b % NPRIMS]);
	}
}

/* Our own flows: mostly 0-3, now and then up to BPFPROG_SELF_MAX + 1 (one
 * too many: refused). A byte of 0xff gives a flow of no family (refused). */
static size_t make_self(struct fuzz_src *s, struct bpfprog_self *self, int *valid)
{
	uint8_t c = fuzz_u8(s);
	size_t k = c & 0x80 ? c % (BPFPROG_SELF_MAX + 2) : c % 4;

	for (size_t i = 0; i < k; i++) {
		uint8_t h = fuzz_u8(s), p = fuzz_u8(s);

		memset(&self[i], 0, sizeof self[i]);
		self[i].family = h == 0xff ? AF_UNSPEC : coll_hosts[h % NHOSTS].family;
		memcpy(self[i].addr, coll_hosts[h % NHOSTS].addr, 16);
		self[i].dport = h & 0x40 ? 53 : 6343;
		self[i].sport = p & 1 ? 40001 : 40000;
		*valid = *valid && self[i].family != AF_UNSPEC;
	}
	*valid = *valid && k <= BPFPROG_SELF_MAX;
	return k;
}

/* ---- packets ---- */

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static const uint8_t v4_addrs[][4] = {
	{ 198, 18, 0, 2 }, { 198, 18, 0, 1 }, { 100, 64, 0, 1 }, { 100, 64, 0, 7 },
	{ 192, 0, 2, 10 }, { 224, 0, 0, 251 },
};
static const uint16_t ports[] = { 6343, 41641, 53, 443, 1500, 40000, 40001 };

/* The destination and ports of a UDP datagram whose IP header is at ip
 * and UDP header at udp: own's when given (one of our flows), else from
 * the templates' lists. */
static void udp_flow(struct fuzz_src *s, const struct bpfprog_self *own, int v6, uint8_t *ip,
		     uint8_t *udp)
{
	if (own) {
		memcpy(ip + (v6 ? 24 : 16), own->addr, v6 ? 16 : 4);
		put16(udp, own->sport);
		put16(udp + 2, own->dport);
		return;
	}
	put16(udp, ports[fuzz_u8(s) % 7]);
	put16(udp + 2, ports[fuzz_u8(s) % 7]);
}

/* An IPv4 (20 bytes, or 24 with options) or IPv6 header at b with the
 * addresses and ports of a UDP datagram after it; returns where UDP ends. */
static size_t quoted_udp(struct fuzz_src *s, const struct bpfprog_self *own, int v6,
			 int options, uint8_t *b)
{
	size_t h = v6 ? 40 : options ? 24 : 20;

	if (v6) {
		b[0] = 0x60;
		b[6] = 17;
		b[7] = 64;
		memcpy(b + 8, "\xfd\x7a\x11\x5c\xa1\xe0\0\0\0\0\0\0\0\0\0\x01", 16);
		memcpy(b + 24, "\xfd\x7a\x11\x5c\xa1\xe0\0\0\0\0\0\0\0\0\0", 15);
		b[39] = (uint8_t)(1 + fuzz_u8(s) % 3);
	} else {
		b[0] = options ? 0x46 : 0x45;
		b[8] = 64;
		b[9] = 17;
		memcpy(b + 12, v4_addrs[fuzz_u8(s) % 6], 4);
		memcpy(b + 16, v4_addrs[fuzz_u8(s) % 6], 4);
	}
	udp_flow(s, own, v6, b, b + h);
	put16(b + h + 4, 8);
	return h + 8;
}

/* A template packet into b (MAX_PKT bytes): its full length.
 * kind: 1 IPv6, 2 TCP, 4 a tag, 0x18 ARP, 0x20 GRE, 0x40 an ICMP error
 * quoting a UDP datagram, 0x80 that datagram (or the packet itself, when
 * UDP) one of our flows (its family then decides). fl: 1 broadcast,
 * 2 802.1ad, 4 IPv4 options, 8 a later fragment, 0x10 SYN, 0x20 1000 bytes
 * more, 0x40 a second tag, 0x80 a third. */
static size_t make_packet(struct fuzz_src *s, int eth, uint8_t *b,
			  const struct bpfprog_self *self, size_t nself)
{
	uint8_t kind = fuzz_u8(s), fl = fuzz_u8(s);
	size_t o = 0, l4, payload = fuzz_u8(s) % 64;
	const struct bpfprog_self *own = kind & 0x80 && nself ? &self[fuzz_u8(s) % nself] : NULL;
	int v6 = own ? own->family == AF_INET6 : kind & 1, tcp = kind & 2, icmp = kind & 0x40;
	unsigned proto = icmp ? (v6 ? 58 : 1) : tcp ? 6 : 17;

	memset(b, 0, MAX_PKT);
	if (eth) {
		unsigned tags = kind & 4 ? 1 + !!(fl & 0x40) + ((fl & 0xc0) == 0xc0) : 0;

		memcpy(b, fl & 1 ? "\xff\xff\xff\xff\xff\xff" : "\x02\x00\x00\x00\x00\x02", 6);
		memcpy(b + 6, "\x02\x00\x00\x00\x00\x01", 6);
		o = 12;
		for (unsigned t = 0; t < tags; t++) {   /* 802.1Q or 802.1ad tags */
			put16(b + o, t == 0 && fl & 2 ? 0x88a8 : 0x8100);
			put16(b + o + 2, 100 + t);
			o += 4;
		}
		if ((kind & 0x18) == 0x18) {   /* ARP */
			put16(b + o, 0x0806);
			memset(b + o + 2, 0x01, 28);
			return o + 2 + 28;
		}
		put16(b + o, v6 ? 0x86dd : 0x0800);
		o += 2;
	}
	if (!v6) {
		b[o] = fl & 4 ? 0x46 : 0x45;          /* sometimes IP options */
		b[o + 8] = 64;
		b[o + 9] = (uint8_t)(kind & 0x20 && !icmp ? 47 : proto);
		memcpy(b + o + 12, v4_addrs[fuzz_u8(s) % 6], 4);
		memcpy(b + o + 16, v4_addrs[fuzz_u8(s) % 6], 4);
		if (fl & 8)
			put16(b + o + 6, 0x2001);   /* a later fragment */
		l4 = o + (size_t)(b[o] & 0xf) * 4;
	} else {
		b[o] = 0x60;
		b[o + 6] = (uint8_t)proto;
		b[o + 7] = 64;
		memcpy(b + o + 8, "\xfd\x7a\x11\x5c\xa1\xe0\0\0\0\0\0\0\0\0\0\x01", 16);
		memcpy(b + o + 24, "\xfd\x7a\x11\x5c\xa1\xe0\0\0\0\0\0\0\0\0\0", 15);
		b[o + 39] = (uint8_t)(1 + fuzz_u8(s) % 3);
		l4 = o + 40;
	}
	if (icmp) {
		/* The errors that quote a datagram, and a few that do not. */
		static const uint8_t t4[] = { 3, 4, 11, 12, 0, 8, 5 }, t6[] = { 1, 2, 3, 4, 128, 135 };
		uint8_t t = fuzz_u8(s);

		b[l4] = v6 ? t6[t % 6] : t4[t % 7];
		l4 += 8 + quoted_udp(s, own, v6, t & 0x80, b + l4 + 8);
	} else {
		udp_flow(s, tcp ? NULL : own, v6, b + o, b + l4);
		if (tcp) {
			b[l4 + 12] = 0x50;
			b[l4 + 13] = fl & 0x10 ? 0x02 : 0x10;
			memcpy(b + l4 + 20, "GET ", 4);
			l4 += 20;
		} else {
			put16(b + l4 + 4, (unsigned)(8 + payload));
			l4 += 8;
		}
	}
	if (fl & 0x20)
		payload += 1000;   /* greater 1000 */
	l4 += payload;
	if (v6)
		put16(b + o + 4, (unsigned)(l4 - o - 40));
	else
		put16(b + o + 2, (unsigned)(l4 - o));
	return l4 < MAX_PKT ? l4 : MAX_PKT;
}

/* ---- the oracle ---- */

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* One of our flows: UDP from sport to addr:dport (addr: 4 or 16 bytes). */
static int is_self(const struct bpfprog_self *self, size_t n, int family, const uint8_t *addr,
		   unsigned sport, unsigned dport)
{
	for (size_t i = 0; i < n; i++)
		if (self[i].family == family && self[i].sport == sport && self[i].dport == dport &&
		    !memcmp(self[i].addr, addr, family == AF_INET ? 4 : 16))
			return 1;
	return 0;
}

/* An IPv4 packet at d + o (len bytes in all) that is ours, or an ICMP error
 * (destination unreachable, source quench, time exceeded, parameter
 * problem) quoting ours without IP options; a later fragment is not (it has
 * no ports). Too short to tell: not ours. */
static int ours4(const uint8_t *d, size_t len, size_t o, const struct bpfprog_self *self,
		 size_t n)
{
	size_t l4;
	unsigned type;

	if (len < o + 20 || be16(d + o + 6) & 0x1fff)
		return 0;
	l4 = o + (size_t)(d[o] & 0xf) * 4;
	if (d[o + 9] == 17)
		return len >= l4 + 4 &&
		       is_self(self, n, AF_INET, d + o + 16, be16(d + l4), be16(d + l4 + 2));
	if (d[o + 9] != 1 || len < l4 + 8 + 20 + 4)
		return 0;
	type = d[l4];
	if (type != 3 && type != 4 && type != 11 && type != 12)
		return 0;
	return d[l4 + 8] == 0x45 && d[l4 + 8 + 9] == 17 &&
	       is_self(self, n, AF_INET, d + l4 + 8 + 16, be16(d + l4 + 28), be16(d + l4 + 30));
}

/* IPv6: ours, or an ICMPv6 error (types 1-4) quoting ours (no extension
 * headers: ours carry none). */
static int ours6(const uint8_t *d, size_t len, size_t o, const struct bpfprog_self *self,
		 size_t n)
{
	size_t q = o + 40 + 8;

	if (len < o + 40 + 4)
		return 0;
	if (d[o + 6] == 17)
		return is_self(self, n, AF_INET6, d + o + 24, be16(d + o + 40), be16(d + o + 42));
	if (d[o + 6] != 58 || len < q + 40 + 4 || d[o + 40] < 1 || d[o + 40] > 4)
		return 0;
	return d[q + 6] == 17 &&
	       is_self(self, n, AF_INET6, d + q + 24, be16(d + q + 40), be16(d + q + 42));
}

/* Whether the frame is one of our own datagrams or an error about one, read
 * from the layouts: on Ethernet behind up to two in-band tags (802.1Q or
 * 802.1ad), on a bare IP link by the version. */
static int ours(const uint8_t *d, size_t len, int eth, const struct bpfprog_self *self,
		size_t n)
{
	size_t o = 12;
	unsigned type;

	if (!eth) {
		if (len < 1)
			return 0;
		return (d[0] & 0xf0) == 0x40 ? ours4(d, len, 0, self, n) :
		       (d[0] & 0xf0) == 0x60 ? ours6(d, len, 0, self, n) : 0;
	}
	for (int tags = 0;; tags++, o += 4) {
		if (len < o + 2)
			return 0;
		type = be16(d + o);
		if (tags == 2 || (type != 0x8100 && type != 0x88a8))
			break;
	}
	return type == 0x0800 ? ours4(d, len, o + 2, self, n) :
	       type == 0x86dd ? ours6(d, len, o + 2, self, n) : 0;
}

static uint32_t run_part(const struct sock_filter *p, size_t n, const struct kbpf_pkt *k,
			 int *unsupported, int *fault)
{
	struct kbpf_trace t;
	uint32_t v = kbpf_run(p, n, k, &t);

	if (t.unsupported)
		*unsupported = 1;
	if (t.fault)
		*fault = 1;
	return v;
}

/* An upper bound of the program's length: 1 + the search (a jeq a key, a
 * ret and trampolines a leaf, two a node) + a block a group (draw, filter,
 * the jump on) + the blocks of our own flows (both links' dispatch, IPv4's
 * and IPv6's fixed parts and two comparisons a flow) + the three returns. */
static size_t size_bound(const struct bpfprog_rule *r, size_t n, const size_t *rep, size_t ng,
			 size_t nself)
{
	size_t len = 2 + 3 * n + 16 + 3;

	for (size_t g = 0; g < ng; g++)
		len += 6 + r[rep[g]].filter_len;
	if (nself)
		len += 30 + 15 + 70 + 60 + 30 * nself;
	return len;
}

static int same_prog(const struct sock_filter *a, size_t an, const struct sock_filter *b,
		     size_t bn)
{
	if (!a || !b)
		return !a && !b;
	return an == bn && !memcmp(a, b, an * sizeof *a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bpfprog_rule rules[MAX_RULES_BIG];
	static size_t rep[MAX_RULES_BIG];
	static uint8_t pkt[MAX_PKT];
	struct bpfprog_self self[BPFPROG_SELF_MAX + 1];
	struct input in = { { data, size }, { { { 0 }, 0, NULL, 0 } }, 0 };
	struct fuzz_src *s = &in.s;
	char expr[MAX_EXPR], err[512];
	struct sock_filter *prog = NULL;
	size_t n, nself, plen = 0, ng = 0;
	uint8_t head = fuzz_u8(s);
	uint32_t snaplen = fuzz_u16(s) % 300;
	int valid = snaplen >= BPFPROG_MIN_SNAP, ret_a = 0;
	enum bpfprog_built rc;

	n = head & 0x80 ? (size_t)fuzz_u16(s) % (MAX_RULES_BIG + 1) : (size_t)head % (MAX_RULES + 1);
	nself = make_self(s, self, &valid);
	memset(rules, 0, n * sizeof rules[0]);
	for (size_t i = 0; i < n; i++) {
		uint8_t b = fuzz_u8(s), f = fuzz_u8(s);
		int ip = f & 1;
		const struct compiled *c;

		/* Mostly distinct small indexes; in the big mode, 3, 5, 7, ... */
		if (b == 0xff)
			rules[i].kindex = kindex_edges[fuzz_u8(s) % 6];
		else if (n > MAX_RULES)
			rules[i].kindex = (int)(3 + 2 * ((i * 7919 + b) % n));
		else
			rules[i].kindex = 1 + b % 200;
		rules[i].rate = f & 2 ? rate_edges[fuzz_u8(s) % 10] : 1 + fuzz_u8(s) % 16;
		/* 0xff: a link type the builder does not know. */
		rules[i].link = f == 0xff ? (enum bpfprog_link)2 :
				ip ? BPFPROG_LINK_IP : BPFPROG_LINK_ETHER;
		if (f & 4) {
			make_expr(s, expr, sizeof expr);
			c = compile(&in, expr, ip ? PFILTER_DLT_RAW : PFILTER_DLT_EN10MB);
			if (c && c->p) {
				rules[i].filter = c->p;
				rules[i].filter_len = c->n;
			}
		}
		valid = valid && rules[i].kindex > 0 && rules[i].rate >= 1 && f != 0xff;
	}
	/* The groups as the builder forms them (equal rate, link, filter), for
	 * the size bound; and what makes a rule set invalid. */
	for (size_t i = 0; i < n; i++) {
		size_t g;

		for (size_t j = 0; j < i; j++)
			if (rules[j].kindex == rules[i].kindex)
				valid = 0;
		for (size_t k = 0; k < (rules[i].filter ? rules[i].filter_len : 0); k++)
			ret_a |= rules[i].filter[k].code == (BPF_RET | BPF_A);
		for (g = 0; g < ng; g++)
			if (rules[rep[g]].rate == rules[i].rate &&
			    rules[rep[g]].link == rules[i].link &&
			    same_prog(rules[rep[g]].filter, rules[rep[g]].filter_len,
				      rules[i].filter, rules[i].filter_len))
				break;
		if (g == ng)
			rep[ng++] = i;
	}

	memset(err, 0xff, sizeof err);
	rc = bpfprog_build(n ? rules : NULL, n, nself ? self : NULL, nself, snaplen, &prog, &plen,
			   err, sizeof err);
	if (rc != BPFPROG_BUILT) {
		FUZZ_CHECK(rc == BPFPROG_TOO_LONG || rc == BPFPROG_REFUSED, "built %d", (int)rc);
		FUZZ_CHECK(memchr(err, '\0', sizeof err) && err[0], "refused without a reason");
		FUZZ_CHECK(prog == NULL && plen == 0, "a refused build handed out a program");
		if (rc == BPFPROG_TOO_LONG)
			FUZZ_CHECK(valid && !ret_a &&
				   size_bound(rules, n, rep, ng, nself) > BPF_MAXINSNS,
				   "too long, with %zu rules (%zu groups, %zu own flows, at most "
				   "%zu instructions; valid %d): %s", n, ng, nself,
				   size_bound(rules, n, rep, ng, nself), valid && !ret_a, err);
		else
			FUZZ_CHECK(!valid || ret_a, "a valid rule set of %zu rules (%zu groups, "
				   "%zu own flows) refused: %s", n, ng, nself, err);
		goto out;
	}
	FUZZ_CHECK(valid && !ret_a, "an invalid rule set built (%zu rules, %zu own flows, "
		   "snap %u)", n, nself, snaplen);
	FUZZ_CHECK(plen <= size_bound(rules, n, rep, ng, nself),
		   "%zu instructions, more than the bound %zu", plen,
		   size_bound(rules, n, rep, ng, nself));
	FUZZ_CHECK(kbpf_check(prog, plen, err, sizeof err) == 0,
		   "the kernel would refuse the program (%zu rules, %zu instructions): %s", n,
		   plen, err);

	for (unsigned m = fuzz_u8(s) % MAX_PKTS + 1; m && s->left; m--) {
		uint8_t sel = fuzz_u8(s);
		size_t r = n ? (size_t)fuzz_u16(s) % n : 0;
		int eth = n ? rules[r].link == BPFPROG_LINK_ETHER : sel & 1;
		size_t full = make_packet(s, eth, pkt, self, nself), cut = full;
		struct kbpf_pkt k = { .data = pkt };
		uint32_t got, want = 0, rnd;
		int unsup = 0, ffault = 0;
		struct kbpf_trace t;

		/* Short frames: any length up to the template's. */
		if (sel & 2)
			cut = full ? fuzz_u16(s) % (full + 1) : 0;
		for (unsigned x = fuzz_u8(s) % 4; x; x--) {
			size_t at = fuzz_u16(s) % MAX_PKT;

			pkt[at] = fuzz_u8(s);
		}
		k.len = (uint32_t)cut;
		k.ifindex = n && !(sel & 4) ? (uint32_t)rules[r].kindex : fuzz_u32(s);
		rnd = fuzz_u32(s);
		if (n && sel & 8 && rules[r].rate > 1)   /* a draw that passes */
			rnd = rules[r].rate * (rnd % (UINT32_MAX / rules[r].rate + 1));
		k.random = rnd;
		for (size_t i = 0; i < n; i++) {
			const struct bpfprog_rule *q = &rules[i];

			if ((uint32_t)q->kindex != k.ifindex)
				continue;
			if (q->rate > 1 && rnd % q->rate)
				break;
			if (q->filter && !run_part(q->filter, q->filter_len, &k, &unsup, &ffault)) {
				want = ffault ? 0 : BPFPROG_MARK;
				break;
			}
			want = ours(pkt, cut, q->link == BPFPROG_LINK_ETHER, self, nself) ?
			       BPFPROG_MARK : snaplen;
			break;
		}
		if (unsup)
			continue;   /* a part this interpreter cannot run: no answer to compare */
		got = kbpf_run(prog, plen, &k, &t);
		FUZZ_CHECK(!t.unsupported, "the program runs what the interpreter does not "
			   "model (instruction %zu)", t.unsupported_pc);
		FUZZ_CHECK(got == want,
			   "ifindex %u, random %u, %u-byte %s frame, %zu own flows: program %u, "
			   "its parts %u (%zu instructions, %zu run; %s %zu)", k.ifindex, rnd,
			   k.len, eth ? "Ethernet" : "IP", nself, got, want, plen, t.steps,
			   t.fault ? "a load past the end at instruction" : "no fault:", t.fault_pc);
	}
out:
	free(prog);
	for (size_t i = 0; i < in.ncache; i++)
		free(in.cache[i].p);
	return 0;
}
