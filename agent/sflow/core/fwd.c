/* Forwarded or not, and through which interfaces: the pure part of the
 * route room (see fwd.h). Everything here is a function of its arguments. */
#include "sflow/core/fwd.h"
#include "sflow/core/fib.h"
#include "base/util.h"

#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifndef ARPHRD_RAWIP
#define ARPHRD_RAWIP 519
#endif

#define ETH_HLEN_     14
#define ETH_P_IP_     0x0800
#define ETH_P_IPV6_   0x86DD
#define ETH_P_8021Q_  0x8100
#define ETH_P_8021AD_ 0x88A8
#define MAX_TAGS      2      /* QinQ; more is not a frame a host forwards */
#define WAYS          4

static size_t alen(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* IPv4 or IPv6 header at ip, n bytes; version must match ethertype's when
 * one was given (want 0: any). */
static int parse_ip(const uint8_t *ip, uint32_t n, int want, struct fwd_pkt *p)
{
	int v;

	if (n < 1)
		return -1;
	v = ip[0] >> 4;
	if (want && v != want)
		return -1;
	memset(p, 0, sizeof *p);
	if (v == 4) {
		if (n < 20 || (ip[0] & 0x0f) < 5)
			return -1;
		p->family = AF_INET;
		memcpy(p->src, ip + 12, 4);
		memcpy(p->dst, ip + 16, 4);
		return 0;
	}
	if (v == 6) {
		if (n < 40)
			return -1;
		p->family = AF_INET6;
		memcpy(p->src, ip + 8, 16);
		memcpy(p->dst, ip + 24, 16);
		return 0;
	}
	return -1;
}

int fwd_parse(unsigned arphrd, const uint8_t *frame, uint32_t caplen, struct fwd_pkt *p)
{
	uint32_t off = 12;
	uint16_t type;
	int tags = 0;

	if (!frame)
		return -1;
	switch (arphrd) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
		break;
	case ARPHRD_NONE:
	case ARPHRD_RAWIP:
	case ARPHRD_PPP:
		return parse_ip(frame, caplen, 0, p);
	default:
		return -1;
	}
	if (caplen < ETH_HLEN_)
		return -1;
	type = get16(frame + off);
	while (type == ETH_P_8021Q_ || type == ETH_P_8021AD_) {
		if (++tags > MAX_TAGS || caplen < off + 4 + 2)
			return -1;
		off += 4;
		type = get16(frame + off);
	}
	off += 2;
	if (type == ETH_P_IP_)
		return parse_ip(frame + off, caplen - off, 4, p);
	if (type == ETH_P_IPV6_)
		return parse_ip(frame + off, caplen - off, 6, p);
	return -1;
}

/* ---- local addresses ---- */

static int local_cmp(const struct fwd_local *x, int family, const uint8_t *a,
		     int ifindex, int kind)
{
	int c;

	if (x->family != family)
		return x->family < family ? -1 : 1;
	c = memcmp(x->a, a, 16);
	if (c)
		return c;
	if (x->ifindex != ifindex)
		return x->ifindex < ifindex ? -1 : 1;
	if (x->kind != kind)
		return x->kind < kind ? -1 : 1;
	return 0;
}

/* First position whose entry is >= the key (family, a, ifindex, kind). */
static size_t lower_bound(const struct fwd_locals *l, int family, const uint8_t *a,
			  int ifindex, int kind)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (local_cmp(&l->v[mid], family, a, ifindex, kind) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The address widened to 16 bytes, zero-padded: the sort key. */
static void widen(uint8_t out[16], int family, const uint8_t *a)
{
	memset(out, 0, 16);
	memcpy(out, a, alen(family));
}

/* Where the entry (family, a, ifindex, kind) stands in l, or would: *at,
 * with a widened into w (the sort key); 1 when it is there. */
static int local_find(const struct fwd_locals *l, int family, const uint8_t *a, int ifindex,
		      enum fwd_addr_kind kind, uint8_t w[16], size_t *at)
{
	widen(w, family, a);
	*at = lower_bound(l, family, w, ifindex, (int)kind);
	return *at < l->n && local_cmp(&l->v[*at], family, w, ifindex, (int)kind) == 0;
}

void fwd_locals_free(struct fwd_locals *l)
{
	free(l->v);
	memset(l, 0, sizeof *l);
}

void fwd_locals_clear(struct fwd_locals *l)
{
	l->n = 0;
}

int fwd_locals_add(struct fwd_locals *l, int family, const uint8_t *a, int ifindex,
		   enum fwd_addr_kind kind)
{
	uint8_t w[16];
	size_t i;

	if (local_find(l, family, a, ifindex, kind, w, &i))
		return 0;
	if (hf_grow(&l->v, l->n, &l->cap, sizeof *l->v, 16) < 0)
		return -1;
	memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof *l->v);
	memset(&l->v[i], 0, sizeof l->v[i]);
	l->v[i].family = (uint8_t)family;
	l->v[i].kind = (uint8_t)kind;
	memcpy(l->v[i].a, w, 16);
	l->v[i].ifindex = ifindex;
	l->n++;
	return 0;
}

int fwd_locals_del(struct fwd_locals *l, int family, const uint8_t *a, int ifindex,
		   enum fwd_addr_kind kind)
{
	uint8_t w[16];
	size_t i;

	if (!local_find(l, family, a, ifindex, kind, w, &i))
		return 0;
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof *l->v);
	l->n--;
	return 1;
}

int fwd_locals_has(const struct fwd_locals *l, int family, const uint8_t *a)
{
	uint8_t w[16];
	size_t i;

	widen(w, family, a);
	/* The smallest (ifindex, kind) sorts first: INT_MIN would do, but
	 * ifindex is never negative. */
	i = lower_bound(l, family, w, -1, 0);
	return i < l->n && l->v[i].family == family && memcmp(l->v[i].a, w, 16) == 0;
}

static int is_zero(const uint8_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i])
			return 0;
	return 1;
}

static int v6_loopback(const uint8_t *a)
{
	return is_zero(a, 15) && a[15] == 1;
}

int fwd_dst_is_host(const struct fwd_locals *l, int family, const uint8_t *a)
{
	if (family == AF_INET) {
		if (a[0] >= 224 || a[0] == 127 || is_zero(a, 4))
			return 1;	/* multicast, class E and 255.255.255.255; loopback; any */
	} else if (family == AF_INET6) {
		if (a[0] == 0xff || v6_loopback(a) || is_zero(a, 16))
			return 1;
	} else {
		return 1;
	}
	return fwd_locals_has(l, family, a);
}

int fwd_src_is_host(const struct fwd_locals *l, int family, const uint8_t *a)
{
	if (family == AF_INET) {
		if (a[0] == 127 || is_zero(a, 4))
			return 1;
	} else if (family == AF_INET6) {
		if (v6_loopback(a) || is_zero(a, 16))
			return 1;
	} else {
		return 1;
	}
	/* A broadcast address is never a source; only local ones count. */
	return fwd_locals_has(l, family, a);
}

/* ---- the cache ---- */

struct key {
	uint8_t family, outgoing, pad[2];
	int32_t kindex;
	uint32_t dcell, scell;
};

struct slot {
	struct key key;
	struct fwd_info info;     /* nexthop family 0 with nh_dst: the destination */
	uint8_t nh_dst;
	uint32_t gen;             /* valid when == the cache's */
	uint32_t used;            /* clock of the last hit or fill */
};

struct fwd_cache {
	size_t nsets;             /* power of two */
	uint32_t gen, clock;
	uint64_t fib_gen;         /* the routing's generation the entries are of */
	size_t count;
	uint64_t hits, misses;
	struct slot *slots;       /* nsets * WAYS */
};

struct fwd_cache *fwd_cache_new(size_t entries)
{
	struct fwd_cache *c = calloc(1, sizeof *c);
	size_t n = WAYS;

	if (!c)
		return NULL;
	while (n < entries && n < ((size_t)1 << 24))
		n <<= 1;
	c->nsets = n / WAYS;
	c->gen = 1;
	c->slots = calloc(n, sizeof *c->slots);
	if (!c->slots) {
		free(c);
		return NULL;
	}
	return c;
}

void fwd_cache_free(struct fwd_cache *c)
{
	if (!c)
		return;
	free(c->slots);
	free(c);
}

static void fwd_cache_flush(struct fwd_cache *c)
{
	if (++c->gen == 0) {
		/* Wrapped: old generations could match again. */
		memset(c->slots, 0, c->nsets * WAYS * sizeof *c->slots);
		c->gen = 1;
	}
	c->count = 0;
}

size_t fwd_cache_count(const struct fwd_cache *c)
{
	return c->count;
}

void fwd_cache_stats(const struct fwd_cache *c, uint64_t *hits, uint64_t *misses)
{
	*hits = c->hits;
	*misses = c->misses;
}

static uint32_t key_hash(const struct key *k)
{
	uint32_t h = 2166136261u;
	const uint8_t *p = (const uint8_t *)k;

	for (size_t i = 0; i < sizeof *k; i++)
		h = (h ^ p[i]) * 16777619u;
	return h ^ (h >> 16);
}

static struct slot *set_of(struct fwd_cache *c, const struct key *k)
{
	return &c->slots[(key_hash(k) & (c->nsets - 1)) * WAYS];
}

static struct slot *cache_get(struct fwd_cache *c, const struct key *k)
{
	struct slot *s = set_of(c, k);

	for (int i = 0; i < WAYS; i++) {
		if (s[i].gen != c->gen || memcmp(&s[i].key, k, sizeof *k))
			continue;
		s[i].used = ++c->clock;
		return &s[i];
	}
	return NULL;
}

static void cache_put(struct fwd_cache *c, const struct key *k, const struct fwd_info *info,
		      int nh_dst)
{
	struct slot *s = set_of(c, k), *victim = NULL;
	int i;

	for (i = 0; i < WAYS && !victim; i++)	/* a free way */
		if (s[i].gen != c->gen)
			victim = &s[i];
	if (!victim) {				/* the least recently used; the clock may wrap */
		victim = &s[0];
		for (i = 1; i < WAYS; i++)
			if ((int32_t)(s[i].used - victim->used) < 0)
				victim = &s[i];
	} else {
		c->count++;
	}
	victim->key = *k;
	victim->info = *info;
	victim->nh_dst = (uint8_t)nh_dst;
	victim->gen = c->gen;
	victim->used = ++c->clock;
}

/* ---- the classification ---- */

/* Next hop and prefix length of a forwarding route; *nh_dst when the next
 * hop is the destination itself (on-link). */
static void take_route(struct fwd_info *out, const struct fib_answer *a, int *nh_dst)
{
	if (a->gw_known && a->gw.family)
		out->nexthop = a->gw;
	else if (a->gw_known)
		*nh_dst = 1;
	out->dst_len = a->dst_len;
}

static void classify(struct fib *fib, int64_t now, int kindex, int outgoing,
		     const struct fwd_pkt *p, struct fwd_info *out, int *nh_dst)
{
	struct fib_answer a;
	enum fib_verdict v;

	if (!outgoing) {
		switch (fib_input(fib, p->family, p->dst, p->src, kindex, now, &a)) {
		case FIB_NOROUTE:
			return;		/* dropped here, not forwarded */
		case FIB_FOUND:
			/* Local (AnyIP), broadcast, multicast: not forwarded. */
			if (a.type != RTN_UNICAST)
				return;
			out->out_kindex = a.oif;
			take_route(out, &a, nh_dst);
			break;
		case FIB_UNKNOWN:
			break;		/* forwarded by the address rule, out unknown */
		}
		out->forwarded = 1;
		out->family = p->family;
		out->in_kindex = kindex;
		if (fib_output(fib, p->family, p->src, now, &a) == FIB_FOUND)
			out->src_len = a.dst_len;
		return;
	}
	out->forwarded = 1;
	out->family = p->family;
	out->out_kindex = kindex;	/* seen leaving there: that is the truth */
	if (fib_output(fib, p->family, p->src, now, &a) == FIB_FOUND) {
		out->in_kindex = a.oif;
		out->src_len = a.dst_len;
	}
	/* The route the packet took: as it arrived on the interface its
	 * source routes back through, else as the host would send it. */
	if (out->in_kindex)
		v = fib_input(fib, p->family, p->dst, p->src, out->in_kindex, now, &a);
	else
		v = fib_output(fib, p->family, p->dst, now, &a);
	if (v == FIB_FOUND && a.type == RTN_UNICAST)
		take_route(out, &a, nh_dst);
}

int fwd_classify(const struct fwd_locals *l, struct fwd_cache *c, struct fib *fib, int64_t now,
		 int kindex, unsigned arphrd, int outgoing,
		 const uint8_t *frame, uint32_t caplen, struct fwd_info *out)
{
	struct fwd_pkt p;
	struct key k;
	struct slot *hit = NULL;
	int nh_dst = 0, cached = 0;

	memset(out, 0, sizeof *out);
	if (fwd_parse(arphrd, frame, caplen, &p) < 0)
		return -1;
	if (!outgoing ? fwd_dst_is_host(l, p.family, p.dst) : fwd_src_is_host(l, p.family, p.src))
		return 0;
	if (c) {
		uint64_t g = fib_generation(fib, now);

		if (g != c->fib_gen) {
			fwd_cache_flush(c);
			c->fib_gen = g;
		}
		memset(&k, 0, sizeof k);
		k.family = (uint8_t)p.family;
		k.outgoing = outgoing != 0;
		k.kindex = kindex;
		cached = fib_cell(fib, p.family, p.dst, &k.dcell) == 0 &&
			 fib_cell(fib, p.family, p.src, &k.scell) == 0;
		if (cached)
			hit = cache_get(c, &k);
	}
	if (hit) {
		c->hits++;
		*out = hit->info;
		nh_dst = hit->nh_dst;
	} else {
		classify(fib, now, kindex, outgoing, &p, out, &nh_dst);
		if (cached) {
			c->misses++;
			cache_put(c, &k, out, nh_dst);
		}
	}
	if (nh_dst) {
		out->nexthop.family = p.family;
		memcpy(out->nexthop.a, p.dst, alen(p.family));
	}
	return 0;
}
