#include "sflow/core/bpfprog.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Keys tested one after another at a leaf of the search: a few `jeq`s beat
 * more tree levels, and the jump offsets inside a leaf stay tiny. */
#define BUCKET 8
/* Emission stops storing past this many times the limit (the count goes
 * on, for the message). */
#define HARD_CAP_FACTOR 4
/* The first room for instructions; it doubles as the program grows. */
#define FIRST_CAP 256
/* The first room for far jumps (fixups); it doubles as they come. */
#define FIRST_FIXUPS 64

/* Far targets of a `ja`, resolved at the end: labels. The first few are
 * fixed; a group's label is L_GROUP + its index. */
enum {
	L_DROP, L_KEEP, L_MARK, L_SELF_ETHER, L_SELF_IP, L_V4, L_V4_ICMP, L_V6, L_V6_UDP,
	L_GROUP,
};

/* Scratch words of the self block: the flow a packet may be ours by. */
enum { M_ADDR, M_SPORT = M_ADDR + 4, M_DPORT };

/* Packet layout the self block reads (RFC 791, 768, 792, 8200, 4443). */
#define ETH_HLEN_      14
#define VLAN_HLEN_     4
#define VLAN_TAGS_MAX  2       /* in-band tags skipped (QinQ) */
#define IP4_HLEN_MIN   20
#define IP6_HLEN       40
#define ICMP_HLEN      8
#define UDP_PORTS      4       /* the two ports, all we read of UDP */
#define IPPROTO_UDP_   17
#define IPPROTO_ICMP_  1
#define IPPROTO_ICMP6_ 58
/* Our datagrams carry no IP options and no IPv6 extension headers: a quoted
 * one starts 0x45, and its UDP header follows its 20 or 40 bytes. */
#define IP4_NO_OPTIONS 0x45

struct fixup {
	size_t pc;          /* a `ja` whose k is resolved at the end */
	size_t label;
};

struct emit {
	struct sock_filter *v;
	size_t n, cap, hard;        /* hard: never more room than this */
	struct fixup *fx;
	size_t nfx, capfx;
	size_t *label;      /* where each label landed */
	int oom, far;       /* far: a local jump beyond 255 (a builder bug) */
};

struct key {
	int kindex;
	size_t group;
};

static void put(struct emit *e, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	/* Room doubles up to the hard cap; out of memory is said at the end. */
	if (e->n == e->cap && e->cap < e->hard && !e->oom &&
	    hf_grow(&e->v, e->n, &e->cap, sizeof *e->v, FIRST_CAP) < 0)
		e->oom = 1;
	if (e->n < e->cap)
		e->v[e->n] = (struct sock_filter){ code, jt, jf, k };
	e->n++;
}

/* A `ja` to a label; its offset is filled in at the end. */
static void put_far(struct emit *e, size_t label)
{
	if (hf_grow(&e->fx, e->nfx, &e->capfx, sizeof *e->fx, FIRST_FIXUPS) < 0) {
		e->oom = 1;
		return;
	}
	e->fx[e->nfx++] = (struct fixup){ e->n, label };
	put(e, BPF_JMP | BPF_JA, 0, 0, 0);
}

static void here(struct emit *e, size_t label)
{
	e->label[label] = e->n;
}

/* Local forward jumps: a conditional emitted with an open branch (0: the
 * next instruction), closed where its target turns out to be. */
enum side { JT, JF };

static size_t put_open(struct emit *e, uint16_t code, uint32_t k)
{
	put(e, code, 0, 0, k);
	return e->n - 1;
}

static void land(struct emit *e, size_t pc, enum side s)
{
	size_t off = e->n - pc - 1;

	if (off > 255) {
		e->far = 1;
		return;
	}
	if (pc < e->cap) {
		if (s == JT)
			e->v[pc].jt = (uint8_t)off;
		else
			e->v[pc].jf = (uint8_t)off;
	}
}

/* Go on only when A `cond` k, else to label. */
static void unless_far(struct emit *e, uint16_t cond, uint32_t k, size_t label)
{
	put(e, BPF_JMP | cond | BPF_K, 1, 0, k);
	put_far(e, label);
}

/* Go on only when the packet holds `need` bytes from X on, else KEEP (A is
 * clobbered): a load beyond the end would abort the program, which is a
 * drop. Right for any X: len - need >= X only when both fit. */
static void need_x(struct emit *e, uint32_t need)
{
	put(e, BPF_LD | BPF_W | BPF_LEN, 0, 0, 0);
	unless_far(e, BPF_JGE, need, L_KEEP);
	put(e, BPF_ALU | BPF_SUB | BPF_K, 0, 0, need);
	put(e, BPF_JMP | BPF_JGE | BPF_X, 1, 0, 0);
	put_far(e, L_KEEP);
}

static int same_prog(const struct sock_filter *a, size_t alen,
		     const struct sock_filter *b, size_t blen)
{
	if (!a || !b)
		return !a && !b;
	return alen == blen && !memcmp(a, b, alen * sizeof *a);
}

static int same_group(const struct bpfprog_rule *a, const struct bpfprog_rule *b)
{
	return a->rate == b->rate && a->link == b->link &&
	       same_prog(a->filter, a->filter_len, b->filter, b->filter_len);
}

static int cmp_key(const void *x, const void *y)
{
	const struct key *a = x, *b = y;

	return (a->kindex > b->kindex) - (a->kindex < b->kindex);
}

/* A leaf: `jeq #k, T(group)` per key, `ret #0`, one trampoline per group. */
static void emit_bucket(struct emit *e, const struct key *k, size_t m)
{
	size_t dg[BUCKET], ndg = 0, i, j;

	for (i = 0; i < m; i++) {
		for (j = 0; j < ndg && dg[j] != k[i].group; j++)
			;
		if (j == ndg)
			dg[ndg++] = k[i].group;
		put(e, BPF_JMP | BPF_JEQ | BPF_K, (uint8_t)(m - i + j), 0, (uint32_t)k[i].kindex);
	}
	put(e, BPF_RET | BPF_K, 0, 0, 0);
	for (j = 0; j < ndg; j++)
		put_far(e, (int)dg[j]);
}

/* Binary search: `jgt #last-of-left, 0, 1; ja right; left...; right...`. */
static void emit_range(struct emit *e, const struct key *k, size_t n)
{
	size_t mid, ja;

	if (n <= BUCKET) {
		emit_bucket(e, k, n);
		return;
	}
	mid = n / 2;
	put(e, BPF_JMP | BPF_JGT | BPF_K, 0, 1, (uint32_t)k[mid - 1].kindex);
	ja = e->n;
	put(e, BPF_JMP | BPF_JA, 0, 0, 0);
	emit_range(e, k, mid);
	if (ja < e->cap)
		e->v[ja].k = (uint32_t)(e->n - (ja + 1));
	emit_range(e, k + mid, n - mid);
}

/* Inlines a pcap program, its returns turned into jumps: a match goes on
 * after it, no match to MARK (drawn, filtered out). */
static int emit_inline(struct emit *e, const struct sock_filter *p, size_t len,
		       char *err, size_t errlen)
{
	size_t start = e->n;

	for (size_t i = 0; i < len; i++) {
		struct sock_filter in = p[i];

		if (BPF_CLASS(in.code) != BPF_RET) {
			put(e, in.code, in.jt, in.jf, in.k);
			continue;
		}
		if (BPF_RVAL(in.code) != BPF_K) {
			snprintf(err, errlen, "filter program returns a register value "
				 "(instruction %zu): not supported", i);
			return -1;
		}
		if (in.k == 0)
			put_far(e, L_MARK);
		else
			put(e, BPF_JMP | BPF_JA, 0, 0, (uint32_t)(start + len - (e->n + 1)));
	}
	return 0;
}

/* The random draw first: it is independent of the packet, so a matching
 * packet is still kept with probability 1/rate, and the filter and the self
 * block then run on one packet in rate instead of on every packet. */
static int emit_group(struct emit *e, const struct bpfprog_rule *r, int have_self,
		      char *err, size_t errlen)
{
	if (r->rate > 1) {
		put(e, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_RANDOM));
		put(e, BPF_ALU | BPF_MOD | BPF_K, 0, 0, r->rate);
		/* 0, not 1: rate 1 would otherwise never match. */
		unless_far(e, BPF_JEQ, 0, L_DROP);
	}
	if (r->filter && emit_inline(e, r->filter, r->filter_len, err, errlen))
		return -1;
	put_far(e, !have_self ? L_KEEP : r->link == BPFPROG_LINK_IP ? L_SELF_IP : L_SELF_ETHER);
	return 0;
}

static int has_family(const struct bpfprog_self *s, size_t n, int family)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].family == family)
			return 1;
	return 0;
}

static uint32_t addr_word(const struct bpfprog_self *s, unsigned w)
{
	const uint8_t *a = s->addr + 4 * w;

	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

/* Compares the flow in M[] with each of ours of one family: a match is
 * MARK, none KEEP. The source port first: it tells our flows apart. */
static void emit_compare(struct emit *e, const struct bpfprog_self *s, size_t n, int family)
{
	unsigned words = family == AF_INET ? 1 : 4;

	for (size_t i = 0; i < n; i++) {
		size_t miss[2 + 4];
		unsigned nw = 0;

		if (s[i].family != family)
			continue;
		put(e, BPF_LD | BPF_MEM, 0, 0, M_SPORT);
		miss[nw++] = put_open(e, BPF_JMP | BPF_JEQ | BPF_K, s[i].sport);
		put(e, BPF_LD | BPF_MEM, 0, 0, M_DPORT);
		miss[nw++] = put_open(e, BPF_JMP | BPF_JEQ | BPF_K, s[i].dport);
		for (unsigned w = 0; w < words; w++) {
			put(e, BPF_LD | BPF_MEM, 0, 0, M_ADDR + w);
			miss[nw++] = put_open(e, BPF_JMP | BPF_JEQ | BPF_K, addr_word(&s[i], w));
		}
		put_far(e, L_MARK);
		for (unsigned w = 0; w < nw; w++)
			land(e, miss[w], JF);
	}
	put_far(e, L_KEEP);
}

/* X = IHL * 4 + X: the header after an IPv4 header at X. */
static void skip_ip4(struct emit *e)
{
	put(e, BPF_LD | BPF_B | BPF_IND, 0, 0, 0);
	put(e, BPF_ALU | BPF_AND | BPF_K, 0, 0, 0xf);
	put(e, BPF_ALU | BPF_LSH | BPF_K, 0, 0, 2);
	put(e, BPF_ALU | BPF_ADD | BPF_X, 0, 0, 0);
	put(e, BPF_MISC | BPF_TAX, 0, 0, 0);
}

/* V4 (X = the IPv4 header): our datagrams; V4_ICMP: the ICMP errors
 * (destination unreachable, source quench, time exceeded, parameter
 * problem) quoting one. */
static void emit_v4(struct emit *e, const struct bpfprog_self *s, size_t n)
{
	size_t t3, t4, t11;

	here(e, L_V4);
	need_x(e, IP4_HLEN_MIN);
	/* A later fragment has no ports: not ours (ours never fragment). */
	put(e, BPF_LD | BPF_H | BPF_IND, 0, 0, 6);
	put(e, BPF_JMP | BPF_JSET | BPF_K, 0, 1, 0x1fff);
	put_far(e, L_KEEP);
	put(e, BPF_LD | BPF_B | BPF_IND, 0, 0, 9);
	put(e, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, IPPROTO_ICMP_);
	put_far(e, L_V4_ICMP);
	unless_far(e, BPF_JEQ, IPPROTO_UDP_, L_KEEP);
	put(e, BPF_LD | BPF_W | BPF_IND, 0, 0, 16);
	put(e, BPF_ST, 0, 0, M_ADDR);
	skip_ip4(e);
	need_x(e, UDP_PORTS);
	put(e, BPF_LD | BPF_H | BPF_IND, 0, 0, 0);
	put(e, BPF_ST, 0, 0, M_SPORT);
	put(e, BPF_LD | BPF_H | BPF_IND, 0, 0, 2);
	put(e, BPF_ST, 0, 0, M_DPORT);
	emit_compare(e, s, n, AF_INET);

	here(e, L_V4_ICMP);
	skip_ip4(e);
	need_x(e, ICMP_HLEN + IP4_HLEN_MIN + UDP_PORTS);
	put(e, BPF_LD | BPF_B | BPF_IND, 0, 0, 0);
	t3 = put_open(e, BPF_JMP | BPF_JEQ | BPF_K, 3);
	t4 = put_open(e, BPF_JMP | BPF_JEQ | BPF_K, 4);
	t11 = put_open(e, BPF_JMP | BPF_JEQ | BPF_K, 11);
	unless_far(e, BPF_JEQ, 12, L_KEEP);
	land(e, t3, JT);
	land(e, t4, JT);
	land(e, t11, JT);
	put(e, BPF_LD | BPF_B | BPF_IND, 0, 0, ICMP_HLEN);
	unless_far(e, BPF_JEQ, IP4_NO_OPTIONS, L_KEEP);
	put(e, BPF_LD | BPF_B | BPF_IND, 0, 0, ICMP_HLEN + 9);
	unless_far(e, BPF_JEQ, IPPROTO_UDP_, L_KEEP);
	put(e, BPF_LD | BPF_W | BPF_IND, 0, 0, ICMP_HLEN + 16);
	put(e, BPF_ST, 0, 0, M_ADDR);
	put(e, BPF_LD | BPF_H | BPF_IND, 0, 0, ICMP_HLEN + IP4_HLEN_MIN);
	put(e, BPF_ST, 0, 0, M_SPORT);
	put(e, BPF_LD | BPF_H | BPF_IND, 0, 0, ICMP_HLEN + IP4_HLEN_MIN + 2);
	put(e, BPF_ST, 0, 0, M_DPORT);
	emit_compare(e, s, n, AF_INET);
}

/* Stores the IPv6 flow of the header at X + off. */
static void store_flow6(struct emit *e, uint32_t off)
{
	for (unsigned w = 0; w < 4; w++) {
		put(e, BPF_LD | BPF_W | BPF_IND, 0, 0, off + 24 + 4 * w);
		put(e, BPF_ST, 0, 0, M_ADDR + w);
	}
	put(e, BPF_LD | BPF_H | BPF_IND, 0, 0, off + IP6_HLEN);
	put(e, BPF_ST, 0, 0, M_SPORT);
	put(e, BPF_LD | BPF_H | BPF_IND, 0, 0, off + IP6_HLEN + 2);
	put(e, BPF_ST, 0, 0, M_DPORT);
}

/* V6 (X = the IPv6 header): the ICMPv6 errors (types 1-4) quoting one of
 * our datagrams; V6_UDP: our datagrams. */
static void emit_v6(struct emit *e, const struct bpfprog_self *s, size_t n)
{
	here(e, L_V6);
	need_x(e, IP6_HLEN + UDP_PORTS);
	put(e, BPF_LD | BPF_B | BPF_IND, 0, 0, 6);
	put(e, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, IPPROTO_UDP_);
	put_far(e, L_V6_UDP);
	unless_far(e, BPF_JEQ, IPPROTO_ICMP6_, L_KEEP);
	need_x(e, IP6_HLEN + ICMP_HLEN + IP6_HLEN + UDP_PORTS);
	put(e, BPF_LD | BPF_B | BPF_IND, 0, 0, IP6_HLEN);
	put(e, BPF_JMP | BPF_JGT | BPF_K, 0, 1, 4);
	put_far(e, L_KEEP);
	unless_far(e, BPF_JGE, 1, L_KEEP);
	put(e, BPF_LD | BPF_B | BPF_IND, 0, 0, IP6_HLEN + ICMP_HLEN + 6);
	unless_far(e, BPF_JEQ, IPPROTO_UDP_, L_KEEP);
	store_flow6(e, IP6_HLEN + ICMP_HLEN);
	emit_compare(e, s, n, AF_INET6);

	here(e, L_V6_UDP);
	store_flow6(e, 0);
	emit_compare(e, s, n, AF_INET6);
}

/* To V4 or V6 by A (the ethertype, or the version nibble << 4). */
static void dispatch(struct emit *e, int v4, int v6, uint32_t k4, uint32_t k6)
{
	if (v4) {
		put(e, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, k4);
		put_far(e, L_V4);
	}
	if (v6) {
		put(e, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, k6);
		put_far(e, L_V6);
	}
	put_far(e, L_KEEP);
}

/* SELF_ETHER: X = the L3 offset past up to two in-band tags (the kernel
 * strips the outer tag before the tap, but a device without VLAN offload
 * sends its tags in the frame), A its ethertype. */
static void emit_self_ether(struct emit *e, int v4, int v6)
{
	size_t l3[VLAN_TAGS_MAX];

	here(e, L_SELF_ETHER);
	for (unsigned t = 0; t <= VLAN_TAGS_MAX; t++) {
		put(e, BPF_LD | BPF_W | BPF_LEN, 0, 0, 0);
		unless_far(e, BPF_JGE, ETH_HLEN_ + VLAN_HLEN_ * t, L_KEEP);
		put(e, BPF_LDX | BPF_IMM, 0, 0, ETH_HLEN_ + VLAN_HLEN_ * t);
		put(e, BPF_LD | BPF_H | BPF_ABS, 0, 0, ETH_HLEN_ - 2 + VLAN_HLEN_ * t);
		if (t == VLAN_TAGS_MAX)
			break;
		put(e, BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 0x8100);
		put(e, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0x88a8);
		l3[t] = e->n;
		put(e, BPF_JMP | BPF_JA, 0, 0, 0);
	}
	for (unsigned t = 0; t < VLAN_TAGS_MAX; t++)
		if (l3[t] < e->cap)
			e->v[l3[t]].k = (uint32_t)(e->n - l3[t] - 1);
	dispatch(e, v4, v6, 0x0800, 0x86dd);
}

/* SELF_IP: X = 0, A = the version nibble. */
static void emit_self_ip(struct emit *e, int v4, int v6)
{
	here(e, L_SELF_IP);
	put(e, BPF_LD | BPF_W | BPF_LEN, 0, 0, 0);
	unless_far(e, BPF_JGE, 1, L_KEEP);
	put(e, BPF_LDX | BPF_IMM, 0, 0, 0);
	put(e, BPF_LD | BPF_B | BPF_ABS, 0, 0, 0);
	put(e, BPF_ALU | BPF_AND | BPF_K, 0, 0, 0xf0);
	dispatch(e, v4, v6, 0x40, 0x60);
}

static int check_input(const struct bpfprog_rule *rules, size_t n,
		       const struct bpfprog_self *self, size_t nself, uint32_t snaplen,
		       char *err, size_t errlen)
{
	if (snaplen < BPFPROG_MIN_SNAP) {
		snprintf(err, errlen, "snap length %u: at least %u", snaplen, BPFPROG_MIN_SNAP);
		return -1;
	}
	if (nself > BPFPROG_SELF_MAX) {
		snprintf(err, errlen, "%zu own flows: at most %d", nself, BPFPROG_SELF_MAX);
		return -1;
	}
	for (size_t i = 0; i < nself; i++)
		if (self[i].family != AF_INET && self[i].family != AF_INET6) {
			snprintf(err, errlen, "own flow %zu: family %d", i, self[i].family);
			return -1;
		}
	for (size_t i = 0; i < n; i++) {
		if (rules[i].kindex <= 0 || rules[i].rate < 1 ||
		    (rules[i].link != BPFPROG_LINK_ETHER && rules[i].link != BPFPROG_LINK_IP)) {
			snprintf(err, errlen, "rule %zu: kindex %d rate %u: kindex must be > 0, "
				 "rate >= 1, a known link", i, rules[i].kindex, rules[i].rate);
			return -1;
		}
		if (rules[i].filter && !rules[i].filter_len) {
			snprintf(err, errlen, "kindex %d: empty filter program", rules[i].kindex);
			return -1;
		}
	}
	return 0;
}

/* Groups the rules (the first rule of each group stands for it) and sorts
 * the keys; -1 on a duplicate kindex. */
static int group_rules(const struct bpfprog_rule *rules, size_t n, struct key *keys,
		       size_t *reps, size_t *ngroups, char *err, size_t errlen)
{
	size_t g, i;

	*ngroups = 0;
	for (i = 0; i < n; i++) {
		for (g = 0; g < *ngroups && !same_group(&rules[reps[g]], &rules[i]); g++)
			;
		if (g == *ngroups)
			reps[(*ngroups)++] = i;
		keys[i] = (struct key){ rules[i].kindex, L_GROUP + g };
	}
	qsort(keys, n, sizeof *keys, cmp_key);
	for (i = 1; i < n; i++)
		if (keys[i].kindex == keys[i - 1].kindex) {
			snprintf(err, errlen, "kindex %d listed twice", keys[i].kindex);
			return -1;
		}
	return 0;
}

/* The flows of our own datagrams, for the socket of these rules. */
static void emit_self_blocks(struct emit *e, const int *links,
			     const struct bpfprog_self *self, size_t nself)
{
	int v4 = has_family(self, nself, AF_INET), v6 = has_family(self, nself, AF_INET6);

	if (links[BPFPROG_LINK_ETHER])
		emit_self_ether(e, v4, v6);
	if (links[BPFPROG_LINK_IP])
		emit_self_ip(e, v4, v6);
	if (v4)
		emit_v4(e, self, nself);
	if (v6)
		emit_v6(e, self, nself);
}

enum bpfprog_built bpfprog_build(const struct bpfprog_rule *rules, size_t n,
				 const struct bpfprog_self *self, size_t nself,
				 uint32_t snaplen, struct sock_filter **out, size_t *out_len,
				 char *err, size_t errlen)
{
	return bpfprog_build_max(rules, n, self, nself, snaplen, BPF_MAXINSNS, out, out_len,
				 err, errlen);
}

enum bpfprog_built bpfprog_build_max(const struct bpfprog_rule *rules, size_t n,
				     const struct bpfprog_self *self, size_t nself,
				     uint32_t snaplen, size_t max_insns,
				     struct sock_filter **out, size_t *out_len,
				     char *err, size_t errlen)
{
	struct emit e = { 0 };
	struct key *keys = NULL;
	size_t *reps = NULL, ngroups = 0, i;
	int links[2] = { 0, 0 };
	enum bpfprog_built rc = BPFPROG_REFUSED;

	*out = NULL;
	*out_len = 0;
	if (check_input(rules, n, self, nself, snaplen, err, errlen))
		return BPFPROG_REFUSED;
	e.hard = HARD_CAP_FACTOR * (max_insns > BPF_MAXINSNS ? max_insns : BPF_MAXINSNS);
	e.cap = FIRST_CAP;
	e.v = calloc(e.cap, sizeof *e.v);
	e.label = calloc(L_GROUP + (n ? n : 1), sizeof *e.label);
	keys = calloc(n ? n : 1, sizeof *keys);
	reps = calloc(n ? n : 1, sizeof *reps);
	if (!e.v || !e.label || !keys || !reps) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (n == 0) {
		put(&e, BPF_RET | BPF_K, 0, 0, 0);
		goto done;
	}
	if (group_rules(rules, n, keys, reps, &ngroups, err, errlen))
		goto out;
	put(&e, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_IFINDEX));
	emit_range(&e, keys, n);
	for (i = 0; i < ngroups; i++) {
		here(&e, L_GROUP + i);
		links[rules[reps[i]].link] = 1;
		if (emit_group(&e, &rules[reps[i]], nself > 0, err, errlen))
			goto out;
	}
	if (nself)
		emit_self_blocks(&e, links, self, nself);
	here(&e, L_KEEP);
	put(&e, BPF_RET | BPF_K, 0, 0, snaplen);
	here(&e, L_MARK);
	put(&e, BPF_RET | BPF_K, 0, 0, BPFPROG_MARK);
	here(&e, L_DROP);
	put(&e, BPF_RET | BPF_K, 0, 0, 0);
	if (e.oom) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (e.n > max_insns) {
		snprintf(err, errlen, "program too large: %zu instructions for %zu "
			 "interfaces in %zu groups of rate, filter and link type (%s "
			 "allows %zu)", e.n, n, ngroups, max_insns == BPF_MAXINSNS ? "the kernel" :
			 "user space", max_insns);
		rc = BPFPROG_TOO_LONG;
		goto out;
	}
	if (e.far) {
		snprintf(err, errlen, "a local jump beyond 255 instructions (%zu own flows)",
			 nself);
		goto out;
	}
	for (i = 0; i < e.nfx; i++)
		e.v[e.fx[i].pc].k = (uint32_t)(e.label[e.fx[i].label] - (e.fx[i].pc + 1));
done:
	*out = realloc(e.v, e.n * sizeof *e.v);
	if (!*out)
		*out = e.v;
	e.v = NULL;
	*out_len = e.n;
	rc = BPFPROG_BUILT;
out:
	free(e.v);
	free(e.fx);
	free(e.label);
	free(keys);
	free(reps);
	return rc;
}
