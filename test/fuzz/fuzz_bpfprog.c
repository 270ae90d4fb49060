/* libFuzzer target: the sampling rules to the kernel program
 * (sflow/core/bpfprog.c, with pcap filters from sflow/core/pfilter.c).
 *
 * The input drives a rule set as the sampler hands it over: interfaces
 * (kernel ifindex, often repeated or out of range), rates (edges included),
 * link types (Ethernet or bare IP, as on tun), `filter` expressions put
 * together from pcap-filter(7) primitives, and the exclusion of our own
 * datagrams to 0-3 collectors (the expression collectors_self_filter
 * writes). Then packets: templates (Ethernet/802.1Q, IPv4/IPv6, UDP/TCP,
 * ARP, to the collectors or not) cut to any length and bytes changed, on a
 * chosen interface, with a chosen random draw.
 *
 * Invariants: a rule set the builder refuses is one the daemon must not
 * install (a bad rule, a duplicate interface, a filter returning A, too
 * many instructions) and a small valid one is never refused; every program
 * it builds passes the kernel's checks (test/common/bpf_kernel.c); and on
 * every packet the program answers exactly what its parts answer on their
 * own, with the kernel's rules: the interface's rule, its draw (the random
 * value mod rate is 0), its filter matching, the exclusion not matching,
 * then the snap length; else 0. A packet load past the end inside the
 * program is harmless only where it gives that same answer. */
#include "sflow/core/bpfprog.h"
#include "sflow/core/pfilter.h"
#include "bpf_kernel.h"
#include "fuzz_check.h"

#include <limits.h>

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

/* The collectors our own datagrams go to (sampler: collectors_self_filter). */
static const char *const coll_hosts[] = {
	"198.18.0.2", "100.64.0.7", "fd7a:115c:a1e0::2", "192.0.2.10",
};

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

static void make_exclude(struct fuzz_src *s, char *buf, size_t len)
{
	unsigned k = fuzz_u8(s) % 4;
	size_t pos = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < k && pos < len; i++) {
		uint8_t h = fuzz_u8(s);
		unsigned lport = fuzz_u8(s) & 1 ? 40000u + fuzz_u8(s) : 0;

		if (lport)
			pos += (size_t)snprintf(buf + pos, len - pos,
						"%s(udp and dst host %s and dst port %u and src port %u)",
						pos ? " or " : "", coll_hosts[h % 4], 6343 + h / 64, lport);
		else
			pos += (size_t)snprintf(buf + pos, len - pos,
						"%s(udp and dst host %s and dst port %u)",
						pos ? " or " : "", coll_hosts[h % 4], 6343 + h / 64);
	}
}

/* ---- packets ---- */

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A template packet into b (MAX_PKT bytes): its full length. */
static size_t make_packet(struct fuzz_src *s, int eth, uint8_t *b)
{
	static const uint8_t v4[][4] = {
		{ 198, 18, 0, 2 }, { 198, 18, 0, 1 }, { 100, 64, 0, 1 }, { 100, 64, 0, 7 },
		{ 192, 0, 2, 10 }, { 224, 0, 0, 251 },
	};
	static const uint16_t ports[] = { 6343, 41641, 53, 443, 1500, 40000, 40001 };
	uint8_t kind = fuzz_u8(s), fl = fuzz_u8(s);
	size_t o = 0, l4, payload = fuzz_u8(s) % 64;
	int v6 = kind & 1, tcp = kind & 2;
	unsigned proto = tcp ? 6 : 17;

	memset(b, 0, MAX_PKT);
	if (eth) {
		memcpy(b, fl & 1 ? "\xff\xff\xff\xff\xff\xff" : "\x02\x00\x00\x00\x00\x02", 6);
		memcpy(b + 6, "\x02\x00\x00\x00\x00\x01", 6);
		o = 12;
		if (kind & 4) {          /* an 802.1Q or 802.1ad tag */
			put16(b + o, fl & 2 ? 0x88a8 : 0x8100);
			put16(b + o + 2, 100);
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
		b[o + 9] = (uint8_t)(kind & 0x20 ? 47 : proto);
		memcpy(b + o + 12, v4[fuzz_u8(s) % 6], 4);
		memcpy(b + o + 16, v4[fuzz_u8(s) % 6], 4);
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
	put16(b + l4, ports[fuzz_u8(s) % 7]);
	put16(b + l4 + 2, ports[fuzz_u8(s) % 7]);
	if (tcp) {
		b[l4 + 12] = 0x50;
		b[l4 + 13] = fl & 0x10 ? 0x02 : 0x10;
		memcpy(b + l4 + 20, "GET ", 4);
		l4 += 20;
	} else {
		put16(b + l4 + 4, (unsigned)(8 + payload));
		l4 += 8;
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

/* FUZZ_KNOWN=exclude-short: a finding reported and waiting for its fix,
 * counted instead of stopping the run, so that a long run can look for
 * others (the replay of make check never sets it). The exclusion's packet
 * loads on a frame too short for them end the whole program: a short frame
 * is dropped instead of sampled (regress/bpfprog/exclude-short-*). */
static int known_exclude_short;
static unsigned long seen_exclude_short;

/* On stdout: run.sh closes the target's stderr while fuzzing. */
static void say_known(void)
{
	printf("fuzz_bpfprog: known finding exclude-short seen %lu times\n",
	       seen_exclude_short);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *k = getenv("FUZZ_KNOWN");

	(void)argc;
	(void)argv;
	known_exclude_short = k && strstr(k, "exclude-short");
	if (known_exclude_short)
		atexit(say_known);
	return 0;
}

/* An upper bound of the program's length: 1 + the search (a jeq a key, a
 * ret and trampolines a leaf, two a node) + a block a group + the drop. */
static size_t size_bound(const struct bpfprog_rule *r, size_t n, const size_t *rep, size_t ng)
{
	size_t len = 2 + 3 * n + 16;

	for (size_t g = 0; g < ng; g++)
		len += 5 + r[rep[g]].filter_len + r[rep[g]].exclude_len;
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
	static int dlt_of[MAX_RULES_BIG];
	static uint8_t pkt[MAX_PKT];
	struct input in = { { data, size }, { { { 0 }, 0, NULL, 0 } }, 0 };
	struct fuzz_src *s = &in.s;
	char expr[MAX_EXPR], exclude[MAX_EXPR], err[512];
	struct sock_filter *prog = NULL;
	size_t n, plen = 0, ng = 0;
	uint8_t head = fuzz_u8(s);
	uint32_t snaplen = fuzz_u16(s) % 300;
	int valid = snaplen >= 1, ret_a = 0, rc;

	n = head & 0x80 ? (size_t)fuzz_u16(s) % (MAX_RULES_BIG + 1) : (size_t)head % (MAX_RULES + 1);
	make_exclude(s, exclude, sizeof exclude);
	memset(rules, 0, n * sizeof rules[0]);
	for (size_t i = 0; i < n; i++) {
		uint8_t b = fuzz_u8(s), f = fuzz_u8(s);
		int dlt = f & 1 ? PFILTER_DLT_RAW : PFILTER_DLT_EN10MB;
		const struct compiled *c;

		/* Mostly distinct small indexes; in the big mode, 3, 5, 7, ... */
		if (b == 0xff)
			rules[i].kindex = kindex_edges[fuzz_u8(s) % 6];
		else if (n > MAX_RULES)
			rules[i].kindex = (int)(3 + 2 * ((i * 7919 + b) % n));
		else
			rules[i].kindex = 1 + b % 200;
		rules[i].rate = f & 2 ? rate_edges[fuzz_u8(s) % 10] : 1 + fuzz_u8(s) % 16;
		if (f & 4) {
			make_expr(s, expr, sizeof expr);
			c = compile(&in, expr, dlt);
			if (c && c->p) {
				rules[i].filter = c->p;
				rules[i].filter_len = c->n;
			}
		}
		if (exclude[0]) {
			c = compile(&in, exclude, dlt);
			FUZZ_CHECK(!c || c->p, "the exclusion \"%s\" does not compile", exclude);
			if (c) {
				rules[i].exclude = c->p;
				rules[i].exclude_len = c->n;
			}
		}
		valid = valid && rules[i].kindex > 0 && rules[i].rate >= 1;
		dlt_of[i] = dlt;   /* the link type of the rule's packets */
	}
	/* The groups as the builder forms them (equal rate, filter, exclusion),
	 * for the size bound; and what makes a rule set invalid. */
	for (size_t i = 0; i < n; i++) {
		size_t g;

		for (size_t j = 0; j < i; j++)
			if (rules[j].kindex == rules[i].kindex)
				valid = 0;
		for (size_t k = 0; k < (rules[i].filter ? rules[i].filter_len : 0); k++)
			ret_a |= rules[i].filter[k].code == (BPF_RET | BPF_A);
		for (g = 0; g < ng; g++)
			if (rules[rep[g]].rate == rules[i].rate &&
			    same_prog(rules[rep[g]].filter, rules[rep[g]].filter_len,
				      rules[i].filter, rules[i].filter_len) &&
			    same_prog(rules[rep[g]].exclude, rules[rep[g]].exclude_len,
				      rules[i].exclude, rules[i].exclude_len))
				break;
		if (g == ng)
			rep[ng++] = i;
	}

	memset(err, 0xff, sizeof err);
	rc = bpfprog_build(n ? rules : NULL, n, snaplen, &prog, &plen, err, sizeof err);
	if (rc < 0) {
		FUZZ_CHECK(memchr(err, '\0', sizeof err) && err[0], "refused without a reason");
		FUZZ_CHECK(prog == NULL, "a refused build handed out a program");
		FUZZ_CHECK(!valid || ret_a || size_bound(rules, n, rep, ng) > BPF_MAXINSNS,
			   "a valid rule set of %zu rules (%zu groups, at most %zu instructions) "
			   "refused: %s", n, ng, size_bound(rules, n, rep, ng), err);
		goto out;
	}
	FUZZ_CHECK(valid && !ret_a, "an invalid rule set built (%zu rules, snap %u)", n, snaplen);
	FUZZ_CHECK(kbpf_check(prog, plen, err, sizeof err) == 0,
		   "the kernel would refuse the program (%zu rules, %zu instructions): %s", n,
		   plen, err);

	for (unsigned m = fuzz_u8(s) % MAX_PKTS + 1; m && s->left; m--) {
		uint8_t sel = fuzz_u8(s);
		size_t r = n ? (size_t)fuzz_u16(s) % n : 0;
		int eth = n ? dlt_of[r] == PFILTER_DLT_EN10MB : sel & 1;
		size_t full = make_packet(s, eth, pkt), cut = full;
		struct kbpf_pkt k = { .data = pkt };
		uint32_t got, want = 0, rnd;
		int unsup = 0, ffault = 0, xfault = 0;
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
			if (q->filter && !run_part(q->filter, q->filter_len, &k, &unsup, &ffault))
				break;
			if (q->exclude && run_part(q->exclude, q->exclude_len, &k, &unsup, &xfault))
				break;
			want = snaplen;
			break;
		}
		if (unsup)
			continue;   /* a part this interpreter cannot run: no answer to compare */
		got = kbpf_run(prog, plen, &k, &t);
		FUZZ_CHECK(!t.unsupported, "the program runs what the interpreter does not "
			   "model (instruction %zu)", t.unsupported_pc);
		if (known_exclude_short && got == 0 && want && t.fault && xfault) {
			seen_exclude_short++;
			continue;
		}
		FUZZ_CHECK(got == want,
			   "ifindex %u, random %u, %u-byte %s frame: program %u, its parts %u "
			   "(%zu instructions, %zu run; %s %zu)", k.ifindex, rnd, k.len,
			   eth ? "Ethernet" : "IP", got, want, plen, t.steps,
			   t.fault ? "a load past the end at instruction" : "no fault:", t.fault_pc);
	}
out:
	free(prog);
	for (size_t i = 0; i < in.ncache; i++)
		free(in.cache[i].p);
	return 0;
}
