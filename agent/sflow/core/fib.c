/* The kernel's routing, mirrored (see fib.h). The lookups follow the
 * kernel's own code, named beside each step: net/ipv4/fib_trie.c
 * (fib_table_lookup), fib_rules.c (fib_rules_lookup), fib4_rules.c,
 * route.c (ip_route_input_slow, ip_route_output_key_hash_rcu),
 * fib_frontend.c (fib_validate_source), and net/ipv6/route.c (rt6_select,
 * find_match, fib6_table_lookup), fib6_rules.c. */
#include "sflow/core/fib.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/netconf.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/util.h"

#define LOOPBACK_KINDEX  1     /* the kernel's LOOPBACK_IFINDEX: lo is always 1 */
#define USER_HZ_MS       10    /* rta_cacheinfo counts clock_t: USER_HZ is 100 */
#define TABLE_LOCAL      255
#define TABLE_MAIN       254
#define TABLE_DEFAULT    253
#define MIN_BUCKETS      64

/* ---- storage ---- */

/* One route as held: a FIB alias. */
struct entry {
	struct entry *next;       /* in its hash chain; aliases of one prefix adjacent, in order */
	uint64_t seq;             /* arrival: IPv6 keeps equal metrics in this order */
	uint32_t table, priority;
	uint8_t family, dst_len, src_len, tos, type, scope, protocol, pref;
	uint8_t dst[16], src[16];
	struct hf_addr prefsrc;
	int64_t expires_ms;
	uint32_t nh_id;
	uint16_t npaths;
	struct fib_path *paths;   /* &one, or an array of npaths */
	struct fib_path one;
};

/* The prefix lengths one table holds: which lengths a lookup must try. */
struct table {
	uint32_t id;
	uint32_t n[129];
	uint64_t bits[3];
};

struct link {
	int kindex;
	char name[IFNAMSIZ];
	unsigned flags;
	uint32_t group;
	int forwarding, rp_filter, accept_local, route_localnet;  /* IPv4; -1 unknown */
	int ignore_linkdown[2];   /* IPv4, IPv6 */
	uint32_t v4addrs;         /* IPv4 addresses held */
	uint32_t routes;          /* route paths through it */
};

struct v4local {
	uint32_t a;
	int kindex;
};

struct family {
	int af;
	size_t alen;              /* 4 or 16 */
	unsigned bits;            /* 32 or 128 */
	struct entry **bucket;
	size_t nbuckets, nroutes;
	struct table *tab;
	size_t ntab;
	struct fib_rule *rule;    /* in the kernel's order: priority, then arrival */
	size_t nrule, caprule;
	int route_overflow, rule_overflow;
	size_t custom_local;      /* local routes not of the kernel's making */
	/* The cells: sorted, unique edges of every prefix. */
	uint8_t (*edge)[16];
	size_t nedge, capedge;
	int edges_stale;
};

struct fib {
	struct family fam[2];     /* [0] IPv4, [1] IPv6 */
	struct link *link;        /* sorted by kindex */
	size_t nlink, caplink;
	struct link all;          /* IPv4 "all" switches */
	struct v4local *local;    /* sorted by address */
	size_t nlocal, caplocal;
	uint64_t seq, generation;
	int64_t next_expiry_ms;   /* 0: none */
	int incomplete;           /* a dump failed half way: answers unknown */
};

static struct family *fam_of(struct fib *f, int af)
{
	return af == AF_INET ? &f->fam[0] : af == AF_INET6 ? &f->fam[1] : NULL;
}

static const struct family *cfam_of(const struct fib *f, int af)
{
	return af == AF_INET ? &f->fam[0] : af == AF_INET6 ? &f->fam[1] : NULL;
}

static void changed(struct fib *f)
{
	f->generation++;
	f->fam[0].edges_stale = f->fam[1].edges_stale = 1;
}

/* ---- address helpers ---- */

static int prefix_has(const uint8_t *p, unsigned len, const uint8_t *a)
{
	unsigned bytes = len / 8, rest = len % 8;

	if (memcmp(p, a, bytes))
		return 0;
	if (!rest)
		return 1;
	return ((p[bytes] ^ a[bytes]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static void mask_into(uint8_t *out, const uint8_t *a, unsigned len, size_t alen)
{
	unsigned bytes = len / 8, rest = len % 8;

	memset(out, 0, 16);
	memcpy(out, a, bytes);
	if (rest && bytes < alen)
		out[bytes] = a[bytes] & (uint8_t)(0xff << (8 - rest));
}

static uint32_t v4(const uint8_t *a)
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

static int is_zero(const uint8_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i])
			return 0;
	return 1;
}

/* ---- links, IPv4 switches, local addresses ---- */

static size_t link_pos(const struct fib *f, int kindex)
{
	size_t lo = 0, hi = f->nlink;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->link[mid].kindex < kindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct link *link_find(const struct fib *f, int kindex)
{
	size_t i = link_pos(f, kindex);

	return i < f->nlink && f->link[i].kindex == kindex ? &f->link[i] : NULL;
}

/* The record of kindex, made when missing (a netconf message may come
 * before its link's). NULL when out of memory. */
static struct link *link_get(struct fib *f, int kindex)
{
	size_t i = link_pos(f, kindex);

	if (i < f->nlink && f->link[i].kindex == kindex)
		return &f->link[i];
	if (f->nlink == f->caplink) {
		size_t cap = f->caplink ? f->caplink * 2 : 16;
		struct link *v = realloc(f->link, cap * sizeof *v);

		if (!v)
			return NULL;
		f->link = v;
		f->caplink = cap;
	}
	memmove(&f->link[i + 1], &f->link[i], (f->nlink - i) * sizeof *f->link);
	memset(&f->link[i], 0, sizeof f->link[i]);
	f->link[i].kindex = kindex;
	f->link[i].forwarding = f->link[i].rp_filter = -1;
	f->nlink++;
	return &f->link[i];
}

static void fib_link_set(struct fib *f, int kindex, const char *name, unsigned flags, uint32_t group)
{
	struct link *l = link_get(f, kindex);

	if (!l)
		return;
	memset(l->name, 0, sizeof l->name);
	hf_strlcpy(l->name, name ? name : "", sizeof l->name);
	l->flags = flags;
	l->group = group;
	changed(f);
}

int fib_link_known(const struct fib *f, int kindex)
{
	const struct link *l = link_find(f, kindex);

	return l && l->name[0];
}

int fib_link_info(const struct fib *f, int kindex, char *name, size_t len, unsigned *flags)
{
	const struct link *l = link_find(f, kindex);

	if (!l || !l->name[0])
		return 0;
	hf_strlcpy(name, l->name, len);
	*flags = l->flags;
	return 1;
}

void fib_set_incomplete(struct fib *f, int incomplete)
{
	f->incomplete = incomplete;
	changed(f);
}

static void fib_link_del(struct fib *f, int kindex)
{
	size_t i = link_pos(f, kindex);

	if (i >= f->nlink || f->link[i].kindex != kindex)
		return;
	memmove(&f->link[i], &f->link[i + 1], (f->nlink - i - 1) * sizeof *f->link);
	f->nlink--;
	changed(f);
}

void fib_set_v4_conf(struct fib *f, int kindex, int accept_local, int route_localnet)
{
	struct link *l = kindex ? link_get(f, kindex) : &f->all;

	if (!l)
		return;
	l->accept_local = accept_local;
	l->route_localnet = route_localnet;
	changed(f);
}

/* IN_DEV_ORCONF and IN_DEV_MAXCONF of the kernel: "all" or the device. */
static int conf_or(const struct fib *f, const struct link *l, int which)
{
	int a = which ? f->all.route_localnet : f->all.accept_local;
	int d = l ? (which ? l->route_localnet : l->accept_local) : 0;

	return a || d;
}

static int rp_filter(const struct fib *f, const struct link *l)
{
	int d = l && l->rp_filter > 0 ? l->rp_filter : 0;
	int a = f->all.rp_filter > 0 ? f->all.rp_filter : 0;

	return a > d ? a : d;
}

/* ip_ignore_linkdown / ip6_ignore_linkdown: the device's (or all's) switch. */
static int ignore_linkdown(const struct fib *f, int af, int kindex)
{
	const struct link *l = link_find(f, kindex);
	int i = af == AF_INET6;

	return f->all.ignore_linkdown[i] || (l && l->ignore_linkdown[i]);
}

static size_t local_pos(const struct fib *f, uint32_t a, int kindex)
{
	size_t lo = 0, hi = f->nlocal;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct v4local *x = &f->local[mid];

		if (x->a < a || (x->a == a && x->kindex < kindex))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void local_add(struct fib *f, uint32_t a, int kindex)
{
	size_t i = local_pos(f, a, kindex);
	struct link *l;

	if (i < f->nlocal && f->local[i].a == a && f->local[i].kindex == kindex)
		return;
	if (f->nlocal == f->caplocal) {
		size_t cap = f->caplocal ? f->caplocal * 2 : 16;
		struct v4local *v = realloc(f->local, cap * sizeof *v);

		if (!v)
			return;
		f->local = v;
		f->caplocal = cap;
	}
	memmove(&f->local[i + 1], &f->local[i], (f->nlocal - i) * sizeof *f->local);
	f->local[i].a = a;
	f->local[i].kindex = kindex;
	f->nlocal++;
	l = link_get(f, kindex);
	if (l)
		l->v4addrs++;
}

static void local_del(struct fib *f, uint32_t a, int kindex)
{
	size_t i = local_pos(f, a, kindex);
	struct link *l;

	if (i >= f->nlocal || f->local[i].a != a || f->local[i].kindex != kindex)
		return;
	memmove(&f->local[i], &f->local[i + 1], (f->nlocal - i - 1) * sizeof *f->local);
	f->nlocal--;
	l = link_get(f, kindex);
	if (l && l->v4addrs)
		l->v4addrs--;
}

/* inet_lookup_ifaddr_rcu: a local IPv4 address of any interface. */
static int is_local4(const struct fib *f, uint32_t a)
{
	size_t i = local_pos(f, a, -1);

	return i < f->nlocal && f->local[i].a == a;
}

/* ---- tables and routes ---- */

static struct table *table_find(const struct family *fa, uint32_t id)
{
	for (size_t i = 0; i < fa->ntab; i++)
		if (fa->tab[i].id == id)
			return &fa->tab[i];
	return NULL;
}

static struct table *table_get(struct family *fa, uint32_t id)
{
	struct table *t = table_find(fa, id), *v;

	if (t)
		return t;
	v = realloc(fa->tab, (fa->ntab + 1) * sizeof *v);
	if (!v)
		return NULL;
	fa->tab = v;
	t = &fa->tab[fa->ntab++];
	memset(t, 0, sizeof *t);
	t->id = id;
	return t;
}

static void table_count(struct table *t, unsigned len, int d)
{
	t->n[len] = (uint32_t)((int64_t)t->n[len] + d);
	if (t->n[len])
		t->bits[len / 64] |= (uint64_t)1 << (len % 64);
	else
		t->bits[len / 64] &= ~((uint64_t)1 << (len % 64));
}

/* The longest prefix length below `below` that table t holds; -1 none. */
static int table_next_len(const struct table *t, int below)
{
	for (int len = below - 1; len >= 0; len--) {
		uint64_t w = t->bits[len / 64] & (((uint64_t)2 << (len % 64)) - 1);

		if (!w) {
			len -= len % 64;
			continue;
		}
		return (len / 64) * 64 + 63 - __builtin_clzll(w);
	}
	return -1;
}

static uint32_t key_hash(uint32_t table, unsigned len, const uint8_t *masked)
{
	uint32_t h = 2166136261u ^ table;

	h = (h ^ len) * 16777619u;
	for (int i = 0; i < 16; i++)
		h = (h ^ masked[i]) * 16777619u;
	return h ^ (h >> 15);
}

static size_t bucket_of(const struct family *fa, uint32_t table, unsigned len, const uint8_t *a)
{
	uint8_t m[16];

	mask_into(m, a, len, fa->alen);
	return key_hash(table, len, m) & (fa->nbuckets - 1);
}

/* Same table, destination prefix (and IPv6 source prefix). */
static int same_prefix(const struct entry *e, uint32_t table, unsigned dst_len,
		       const uint8_t *dst, unsigned src_len, const uint8_t *src)
{
	return e->table == table && e->dst_len == dst_len && e->src_len == src_len &&
	       memcmp(e->dst, dst, 16) == 0 && memcmp(e->src, src, 16) == 0;
}

static int grow(struct family *fa)
{
	size_t n = fa->nbuckets ? fa->nbuckets * 2 : MIN_BUCKETS;
	struct entry **b = calloc(n, sizeof *b), **tail;

	if (!b)
		return -1;
	tail = calloc(n, sizeof *tail);
	if (!tail) {
		free(b);
		return -1;
	}
	/* Chains keep their order (aliases of a prefix stay adjacent, in order). */
	for (size_t i = 0; i < fa->nbuckets; i++) {
		struct entry *e = fa->bucket[i];

		while (e) {
			struct entry *next = e->next;
			size_t k = key_hash(e->table, e->dst_len, e->dst) & (n - 1);

			e->next = NULL;
			if (tail[k])
				tail[k]->next = e;
			else
				b[k] = e;
			tail[k] = e;
			e = next;
		}
	}
	free(tail);
	free(fa->bucket);
	fa->bucket = b;
	fa->nbuckets = n;
	return 0;
}

static void entry_free(struct entry *e)
{
	if (e->paths != &e->one)
		free(e->paths);
	free(e);
}

/* Counts the routes through each link (a link going down or away with
 * routes through it means a re-dump), and the local routes of a user's. */
static void account(struct fib *f, struct family *fa, const struct entry *e, int d)
{
	if (e->type == RTN_LOCAL && e->protocol != RTPROT_KERNEL)
		fa->custom_local = (size_t)((int64_t)fa->custom_local + d);
	for (size_t i = 0; i < e->npaths; i++) {
		struct link *l;

		if (!e->paths[i].oif)
			continue;
		if (d > 0)
			l = link_get(f, e->paths[i].oif);
		else
			l = (struct link *)link_find(f, e->paths[i].oif);
		if (l)
			l->routes = (uint32_t)((int64_t)l->routes + d);
	}
}

static int paths_equal(const struct entry *e, const struct fib_route *r)
{
	if (e->npaths != r->npaths || e->nh_id != r->nh_id)
		return 0;
	for (size_t i = 0; i < r->npaths; i++) {
		const struct fib_path *a = &e->paths[i], *b = &r->path[i];

		if (a->oif != b->oif || a->gw.family != b->gw.family ||
		    memcmp(a->gw.a, b->gw.a, 16) != 0)
			return 0;
	}
	return 1;
}

/* The route fields a kernel event names a route by (the prefix aside). */
static int entry_is(const struct entry *e, const struct fib_route *r)
{
	return e->tos == r->tos && e->priority == r->priority && e->type == r->type &&
	       paths_equal(e, r);
}

static struct entry *entry_new(const struct fib_route *r, uint8_t dst[16], uint8_t src[16],
			       uint64_t seq)
{
	struct entry *e = calloc(1, sizeof *e);

	if (!e)
		return NULL;
	e->seq = seq;
	e->table = r->table;
	e->priority = r->priority;
	e->family = r->family;
	e->dst_len = r->dst_len;
	e->src_len = r->src_len;
	e->tos = r->tos;
	e->type = r->type;
	e->scope = r->scope;
	e->protocol = r->protocol;
	e->pref = r->pref;
	memcpy(e->dst, dst, 16);
	memcpy(e->src, src, 16);
	e->prefsrc = r->prefsrc;
	e->expires_ms = r->expires_ms;
	e->nh_id = r->nh_id;
	e->npaths = (uint16_t)r->npaths;
	if (r->npaths <= 1) {
		e->paths = &e->one;
		if (r->npaths)
			e->one = r->path[0];
	} else {
		e->paths = calloc(r->npaths, sizeof *e->paths);
		if (!e->paths) {
			free(e);
			return NULL;
		}
		memcpy(e->paths, r->path, r->npaths * sizeof *e->paths);
	}
	return e;
}

/* IPv4 keeps a prefix's aliases by TOS (highest first), then priority;
 * IPv6 by source prefix (longest first), then metric, then arrival. Returns
 * <0 when e sorts before the new route, 0 when they are equal in that
 * order, >0 after. */
static int alias_order(const struct entry *e, const struct fib_route *r, const uint8_t *src)
{
	if (r->family == AF_INET) {
		if (e->tos != r->tos)
			return e->tos > r->tos ? -1 : 1;
	} else {
		int c;

		if (e->src_len != r->src_len)
			return e->src_len > r->src_len ? -1 : 1;
		c = memcmp(e->src, src, 16);
		if (c)
			return c;
	}
	if (e->priority != r->priority)
		return e->priority < r->priority ? -1 : 1;
	return 0;
}

static void note_expiry(struct fib *f, int64_t when)
{
	if (when && (!f->next_expiry_ms || when < f->next_expiry_ms))
		f->next_expiry_ms = when;
}

/* 0, or -1 when the bound is reached (the family is then marked
 * overflowed) or out of memory. how: 0 adds before the routes of the same
 * (TOS, priority) as the kernel's plain add does, NLM_F_APPEND after them,
 * NLM_F_REPLACE in place of the first. A route equal to one held is a
 * no-op (a dump after events). */
static int fib_route_add(struct fib *f, const struct fib_route *r, unsigned how)
{
	struct family *fa = fam_of(f, r->family);
	uint8_t dst[16], src[16];
	struct entry **pp, **first_eq = NULL, **after_eq = NULL, **before = NULL;
	struct entry **prefix_end = NULL, **at, *e, *old = NULL;
	struct table *t;

	if (!fa || r->dst_len > fa->bits || r->src_len > fa->bits || r->npaths > FIB_MAX_PATHS)
		return -1;
	mask_into(dst, r->dst, r->dst_len, fa->alen);
	mask_into(src, r->src, r->src_len, fa->alen);
	if (fa->nroutes >= FIB_MAX_ROUTES) {
		fa->route_overflow = 1;
		changed(f);
		return -1;
	}
	if ((!fa->nbuckets || fa->nroutes >= fa->nbuckets) && grow(fa) < 0 && !fa->nbuckets)
		return -1;
	/* A prefix's aliases are adjacent in its chain, in the kernel's order. */
	pp = &fa->bucket[bucket_of(fa, r->table, r->dst_len, dst)];
	for (; *pp; pp = &(*pp)->next) {
		int c;

		if (!same_prefix(*pp, r->table, r->dst_len, dst, (*pp)->src_len, (*pp)->src))
			continue;
		c = alias_order(*pp, r, src);
		if (c == 0) {
			if (entry_is(*pp, r) && !(how & NLM_F_REPLACE))
				return 0;	/* held already: a dump after events */
			if (!first_eq)
				first_eq = pp;
			after_eq = &(*pp)->next;
		} else if (c > 0 && !before) {
			before = pp;
		}
		prefix_end = &(*pp)->next;
	}
	e = entry_new(r, dst, src, ++f->seq);
	if (!e)
		return -1;
	t = table_get(fa, r->table);
	if (!t) {
		entry_free(e);
		return -1;
	}
	/* IPv6 adds after the routes of the same metric (fib6_add_rt2node). */
	if (r->family == AF_INET6 && !(how & NLM_F_REPLACE))
		how |= NLM_F_APPEND;
	if ((how & NLM_F_REPLACE) && first_eq) {
		old = *first_eq;
		e->seq = old->seq;
		e->next = old->next;
		*first_eq = e;
	} else {
		if (first_eq)
			at = (how & NLM_F_APPEND) ? after_eq : first_eq;
		else if (before)
			at = before;
		else if (prefix_end)
			at = prefix_end;
		else
			at = &fa->bucket[bucket_of(fa, r->table, r->dst_len, dst)];
		e->next = *at;
		*at = e;
		fa->nroutes++;
		table_count(t, r->dst_len, +1);
	}
	account(f, fa, e, +1);
	if (old) {
		account(f, fa, old, -1);
		entry_free(old);
	}
	note_expiry(f, e->expires_ms);
	changed(f);
	return 0;
}

/* The first route equal in table, prefix, TOS, priority, type and paths:
 * 1 removed, 0 absent. */
static int fib_route_del(struct fib *f, const struct fib_route *r)
{
	struct family *fa = fam_of(f, r->family);
	uint8_t dst[16], src[16];
	struct entry **pp, *e;
	struct table *t;

	if (!fa || !fa->nbuckets || r->dst_len > fa->bits || r->src_len > fa->bits)
		return 0;
	mask_into(dst, r->dst, r->dst_len, fa->alen);
	mask_into(src, r->src, r->src_len, fa->alen);
	for (pp = &fa->bucket[bucket_of(fa, r->table, r->dst_len, dst)]; *pp; pp = &(*pp)->next)
		if (same_prefix(*pp, r->table, r->dst_len, dst, r->src_len, src) && entry_is(*pp, r))
			break;
	if (!*pp)
		return 0;
	e = *pp;
	*pp = e->next;
	fa->nroutes--;
	t = table_find(fa, e->table);
	if (t)
		table_count(t, e->dst_len, -1);
	account(f, fa, e, -1);
	entry_free(e);
	changed(f);
	return 1;
}

void fib_clear_routes(struct fib *f)
{
	for (int k = 0; k < 2; k++) {
		struct family *fa = &f->fam[k];

		for (size_t i = 0; i < fa->nbuckets; i++) {
			while (fa->bucket[i]) {
				struct entry *e = fa->bucket[i];

				fa->bucket[i] = e->next;
				entry_free(e);
			}
		}
		fa->nroutes = 0;
		free(fa->tab);
		fa->tab = NULL;
		fa->ntab = 0;
		fa->route_overflow = 0;
		fa->custom_local = 0;
	}
	for (size_t i = 0; i < f->nlink; i++)
		f->link[i].routes = 0;
	f->next_expiry_ms = 0;
	changed(f);
}

size_t fib_route_count(const struct fib *f, int family)
{
	const struct family *fa = cfam_of(f, family);

	return fa ? fa->nroutes : 0;
}

/* ---- rules ---- */

static int rule_same(const struct fib_rule *a, const struct fib_rule *b)
{
	return memcmp(a, b, sizeof *a) == 0;
}

/* A rule with nothing unset in its padding: compared as bytes. */
static void rule_canon(struct fib_rule *c, const struct fib_rule *r)
{
	memset(c, 0, sizeof *c);
	c->family = r->family;
	c->action = r->action;
	c->src_len = r->src_len;
	c->dst_len = r->dst_len;
	c->tos = r->tos;
	c->ip_proto = r->ip_proto;
	c->invert = r->invert;
	c->l3mdev = r->l3mdev;
	c->priority = r->priority;
	c->table = r->table;
	c->target = r->target;
	c->mark = r->mark;
	c->mask = r->mask;
	c->suppress_prefixlen = r->suppress_prefixlen;
	c->suppress_ifgroup = r->suppress_ifgroup;
	c->uid_start = r->uid_start;
	c->uid_end = r->uid_end;
	c->sport_lo = r->sport_lo;
	c->sport_hi = r->sport_hi;
	c->dport_lo = r->dport_lo;
	c->dport_hi = r->dport_hi;
	c->tun_id = r->tun_id;
	mask_into(c->src, r->src, r->src_len, 16);
	mask_into(c->dst, r->dst, r->dst_len, 16);
	hf_strlcpy(c->iifname, r->iifname, sizeof c->iifname);
	hf_strlcpy(c->oifname, r->oifname, sizeof c->oifname);
}

static int fib_rule_add(struct fib *f, const struct fib_rule *r)
{
	struct family *fa = fam_of(f, r->family);
	struct fib_rule c;
	size_t i;

	if (!fa)
		return -1;
	rule_canon(&c, r);
	for (i = 0; i < fa->nrule; i++)
		if (rule_same(&fa->rule[i], &c))
			return 0;	/* held already */
	if (fa->nrule >= FIB_MAX_RULES) {
		fa->rule_overflow = 1;
		changed(f);
		return -1;
	}
	if (fa->nrule == fa->caprule) {
		size_t cap = fa->caprule ? fa->caprule * 2 : 8;
		struct fib_rule *v = realloc(fa->rule, cap * sizeof *v);

		if (!v)
			return -1;
		fa->rule = v;
		fa->caprule = cap;
	}
	/* After the last rule of a priority not above it (fib_nl_newrule). */
	for (i = fa->nrule; i > 0 && fa->rule[i - 1].priority > c.priority; i--)
		;
	memmove(&fa->rule[i + 1], &fa->rule[i], (fa->nrule - i) * sizeof *fa->rule);
	fa->rule[i] = c;
	fa->nrule++;
	changed(f);
	return 0;
}

static int fib_rule_del(struct fib *f, const struct fib_rule *r)
{
	struct family *fa = fam_of(f, r->family);
	struct fib_rule c;

	if (!fa)
		return 0;
	rule_canon(&c, r);
	for (size_t i = 0; i < fa->nrule; i++) {
		if (!rule_same(&fa->rule[i], &c))
			continue;
		memmove(&fa->rule[i], &fa->rule[i + 1], (fa->nrule - i - 1) * sizeof *fa->rule);
		fa->nrule--;
		fa->rule_overflow = 0;	/* a re-dump of the rules follows an overflow */
		changed(f);
		return 1;
	}
	return 0;
}

/* ---- lookups ---- */

/* A question, as the kernel's flowi holds it: mark, TOS, protocol, ports,
 * tunnel id are 0, as RTM_GETROUTE asks; the uid root's. */
struct flow {
	const uint8_t *dst, *src;  /* src: zeros when none */
	int has_src;
	int iif, oif;
	unsigned strict;           /* IPv6: RT6_LOOKUP_F_IFACE */
	int ignore_linkstate;      /* FIB_LOOKUP_IGNORE_LINKSTATE */
	int64_t now;
};

#define STRICT_IFACE 1

/* What a table or the rules found. */
struct res {
	const struct entry *e;
	int path;                  /* the path chosen; -1 several (multipath) */
};

/* fib_props[type].error: what a route of this type returns. */
static int type_error4(uint8_t type)
{
	switch (type) {
	case RTN_BLACKHOLE: case RTN_NAT: case RTN_XRESOLVE: return -EINVAL;
	case RTN_UNREACHABLE: return -EHOSTUNREACH;
	case RTN_PROHIBIT: return -EACCES;
	case RTN_THROW: return -EAGAIN;
	default: return 0;
	}
}

/* ip6_route_info_create's dst.error of reject routes. */
static int type_error6(uint8_t type)
{
	switch (type) {
	case RTN_BLACKHOLE: return -EINVAL;
	case RTN_PROHIBIT: return -EACCES;
	case RTN_THROW: return -EAGAIN;
	case RTN_UNREACHABLE: return -ENETUNREACH;
	default: return 0;
	}
}

/* fib_lookup_good_nhc */
static int good_path4(const struct fib *f, const struct fib_path *p, const struct flow *fl)
{
	if (p->flags & RTNH_F_DEAD)
		return 0;
	if ((p->flags & RTNH_F_LINKDOWN) && !fl->ignore_linkstate &&
	    ignore_linkdown(f, AF_INET, p->oif))
		return 0;
	return !fl->oif || fl->oif == p->oif;
}

/* Nothing in this prefix serves: try a shorter one. Distinct from a throw
 * route's -EAGAIN, which ends the table's lookup. */
#define MISS 1

/* One IPv4 prefix's aliases (fib_table_lookup's loop over a leaf): 0 with
 * *res, MISS when none serves, or a reject route's error. */
static int select4(const struct fib *f, const struct entry *e, uint32_t table, unsigned len,
		   const uint8_t *dst, const struct flow *fl, struct res *res)
{
	for (; e; e = e->next) {
		int err, good = -1, n = 0;

		if (!same_prefix(e, table, len, dst, 0, e->src))
			continue;
		if (e->tos)
			continue;	/* a TOS route: the question's TOS is 0 */
		err = type_error4(e->type);
		if (err)
			return err;
		if (e->nh_id && !e->npaths)
			return MISS;	/* a nexthop object not expanded */
		for (int i = 0; i < e->npaths; i++) {
			if (!good_path4(f, &e->paths[i], fl))
				continue;
			if (good < 0)
				good = i;
			n++;
		}
		if (!e->npaths) {
			good = 0;	/* no device (a local or broadcast route of lo's) */
			n = 1;
		}
		if (good < 0)
			continue;
		res->e = e;
		res->path = n > 1 ? -1 : good;
		return 0;
	}
	return MISS;
}

/* fib_table_lookup over the tables of ids (one; or local and main merged,
 * as the kernel merges them while no custom rule exists). */
static int tables4(const struct fib *f, const uint32_t *ids, size_t nids,
		   const struct flow *fl, struct res *res)
{
	const struct family *fa = &f->fam[0];
	const struct table *t[2] = { NULL, NULL };
	int len[2], best;

	if (!fa->nbuckets)
		return -EAGAIN;
	for (size_t i = 0; i < nids; i++) {
		t[i] = table_find(fa, ids[i]);
		len[i] = t[i] ? table_next_len(t[i], 33) : -1;
	}
	for (;;) {
		best = -1;
		for (size_t i = 0; i < nids; i++)
			if (len[i] > best)
				best = len[i];
		if (best < 0)
			return -EAGAIN;
		/* At one length the local table's aliases come first. */
		for (size_t i = 0; i < nids; i++) {
			uint8_t m[16];
			int err;

			if (len[i] != best)
				continue;
			mask_into(m, fl->dst, (unsigned)best, 4);
			err = select4(f, fa->bucket[bucket_of(fa, ids[i], (unsigned)best, m)],
				      ids[i], (unsigned)best, m, fl, res);
			if (err != MISS)
				return err;
			len[i] = table_next_len(t[i], best);
		}
	}
}

/* rt6_score_route, without neighbour states. Below 0: fails hard. */
static int score6(const struct entry *e, const struct fib_path *p, const struct flow *fl)
{
	int m = (!fl->oif || p->oif == fl->oif) ? 2 : 0;

	if (!m && (fl->strict & STRICT_IFACE))
		return -1;
	/* IPV6_DECODE_PREF: medium (0) 2, high (1) 3, low (3) 1. */
	return m | (((e->pref & 3) ^ 2) << 2);
}

/* find_match for one route: its best path's score, -1 none. */
static int match6(const struct fib *f, const struct entry *e, const struct flow *fl, int *path, int *n)
{
	int best = -1;

	*n = 0;
	*path = -1;
	if (e->expires_ms && fl->now >= e->expires_ms)
		return -1;
	if (!e->npaths) {
		struct fib_path lo = { LOOPBACK_KINDEX, { 0 }, 0 };

		*n = 1;
		*path = 0;
		return score6(e, &lo, fl);
	}
	for (int i = 0; i < e->npaths; i++) {
		const struct fib_path *p = &e->paths[i];
		int m;

		if (p->flags & RTNH_F_DEAD)
			continue;
		if ((p->flags & RTNH_F_LINKDOWN) && !fl->ignore_linkstate &&
		    ignore_linkdown(f, AF_INET6, p->oif))
			continue;
		m = score6(e, p, fl);
		if (m < 0)
			continue;
		(*n)++;
		if (m > best) {
			best = m;
			*path = i;
		}
	}
	return best;
}

/* rt6_select over one source group of one IPv6 prefix (find_rr_leaf: the
 * first metric's routes, then the rest): the chosen route, NULL none. */
static const struct entry *select6(const struct fib *f, const struct entry *chain,
				   uint32_t table, unsigned len, const uint8_t *dst,
				   unsigned src_len, const uint8_t *src, const struct flow *fl,
				   int *path, int *npath)
{
	const struct entry *e, *best = NULL, *cont = NULL;
	uint32_t metric = 0;
	int have_metric = 0, mpri = -1;

	for (e = chain; e; e = e->next) {
		int p, n, m;

		if (!same_prefix(e, table, len, dst, src_len, src))
			continue;
		if (!have_metric) {
			metric = e->priority;
			have_metric = 1;
		}
		if (e->priority != metric) {
			if (!cont)
				cont = e;
			continue;
		}
		m = match6(f, e, fl, &p, &n);
		if (m > mpri) {
			mpri = m;
			best = e;
			*path = p;
			*npath = n;
		}
	}
	if (best || !cont)
		return best;
	for (e = cont; e; e = e->next) {
		int p, n, m;

		if (!same_prefix(e, table, len, dst, src_len, src))
			continue;
		m = match6(f, e, fl, &p, &n);
		if (m > mpri) {
			mpri = m;
			best = e;
			*path = p;
			*npath = n;
		}
	}
	return best;
}

/* fib6_table_lookup with ip6_pol_route's outcome: 0 with *res, -EAGAIN
 * (nothing: the null entry), or a reject route's error. Longest destination
 * first; at a destination, the longest matching source prefix first. */
static int table6(const struct fib *f, uint32_t id, const struct flow *fl, struct res *res)
{
	const struct family *fa = &f->fam[1];
	const struct table *t = table_find(fa, id);
	int len;

	if (!t || !fa->nbuckets)
		return -EAGAIN;
	for (len = table_next_len(t, 129); len >= 0; len = table_next_len(t, len)) {
		uint8_t m[16];
		const struct entry *chain, *e;
		int tried[129] = { 0 };

		int subtree = 0;

		mask_into(m, fl->dst, (unsigned)len, 16);
		chain = fa->bucket[bucket_of(fa, id, (unsigned)len, m)];
		/* fib6_node_lookup_1: a destination with source routes is looked
		 * into by source only; its plain routes are then passed over
		 * (the kernel backtracks to shorter destinations). */
		for (e = chain; e && !subtree; e = e->next)
			subtree = e->table == id && e->dst_len == len && e->src_len &&
				  !memcmp(e->dst, m, 16);
		/* Source groups in the chain's order: longest first. */
		for (e = chain; e; e = e->next) {
			const struct entry *pick;
			int path = -1, n = 0, err;

			if (e->table != id || e->dst_len != len || memcmp(e->dst, m, 16))
				continue;
			if (subtree && !e->src_len)
				continue;
			if (tried[e->src_len] || !prefix_has(e->src, e->src_len, fl->src))
				continue;
			tried[e->src_len] = 1;
			pick = select6(f, chain, id, (unsigned)len, m, e->src_len, e->src, fl,
				       &path, &n);
			if (!pick)
				continue;
			err = type_error6(pick->type);
			if (err)
				return err;
			res->e = pick;
			res->path = n > 1 ? -1 : path;
			return 0;
		}
	}
	return -EAGAIN;
}

static int table_lookup(const struct fib *f, int af, uint32_t id, const struct flow *fl,
			struct res *res)
{
	return af == AF_INET ? tables4(f, &id, 1, fl, res) : table6(f, id, fl, res);
}

static int port_ok(uint16_t lo, uint16_t hi)
{
	/* fib_rule_port_range_set and _inrange for port 0. */
	return !(lo && hi);
}

/* fib_rule_match with fib4_rule_match / fib6_rule_match. */
static int rule_match(const struct fib *f, int af, const struct fib_rule *r, const struct flow *fl)
{
	int ok = 1;

	if (r->iifname[0]) {
		const struct link *l = link_find(f, fl->iif);

		ok = l && strcmp(l->name, r->iifname) == 0;
	}
	if (ok && r->oifname[0]) {
		const struct link *l = fl->oif ? link_find(f, fl->oif) : NULL;

		ok = l && strcmp(l->name, r->oifname) == 0;
	}
	if (ok && (r->mark & r->mask))
		ok = 0;		/* the question's mark is 0 */
	if (ok && r->tun_id)
		ok = 0;
	if (ok && r->l3mdev)
		ok = 0;		/* no VRF here */
	if (ok && r->uid_start > 0)
		ok = 0;		/* uid 0 below the range */
	if (ok && r->dst_len && !prefix_has(r->dst, r->dst_len, fl->dst))
		ok = 0;
	if (ok && r->src_len) {
		if (af == AF_INET)
			ok = prefix_has(r->src, r->src_len, fl->src);
		else
			ok = fl->has_src && prefix_has(r->src, r->src_len, fl->src);
	}
	if (ok && (r->tos || r->ip_proto))
		ok = 0;
	if (ok && (!port_ok(r->sport_lo, r->sport_hi) || !port_ok(r->dport_lo, r->dport_hi)))
		ok = 0;
	return r->invert ? !ok : ok;
}

/* fib4_rule_suppress / fib6_rule_suppress */
static int suppressed(const struct fib *f, const struct fib_rule *r, const struct res *res)
{
	if (r->suppress_prefixlen >= 0 && res->e->dst_len <= r->suppress_prefixlen)
		return 1;
	if (r->suppress_ifgroup >= 0 && res->e->npaths) {
		const struct link *l = link_find(f, res->e->paths[0].oif);

		if (l && l->group == (uint32_t)r->suppress_ifgroup)
			return 1;
	}
	return 0;
}

static int default_rules4(const struct family *fa)
{
	static const uint32_t pri[3] = { 0, 32766, 32767 }, tab[3] = { TABLE_LOCAL, TABLE_MAIN,
									 TABLE_DEFAULT };

	if (fa->nrule != 3)
		return 0;
	for (int i = 0; i < 3; i++) {
		struct fib_rule d = { 0 }, c;

		d.family = AF_INET;
		d.action = FR_ACT_TO_TBL;
		d.priority = pri[i];
		d.table = tab[i];
		d.suppress_prefixlen = d.suppress_ifgroup = -1;
		d.uid_end = UINT32_MAX;
		rule_canon(&c, &d);
		if (!rule_same(&fa->rule[i], &c))
			return 0;
	}
	return 1;
}

/* fib_lookup: the rules (fib_rules_lookup), or for IPv4 without custom
 * rules the merged local and main tables, then default. 0 with *res, or a
 * negative errno. */
static int lookup(const struct fib *f, int af, const struct flow *fl, struct res *res)
{
	const struct family *fa = cfam_of(f, af);

	memset(res, 0, sizeof *res);
	if (af == AF_INET && default_rules4(fa)) {
		static const uint32_t merged[2] = { TABLE_LOCAL, TABLE_MAIN };
		int err = tables4(f, merged, 2, fl, res);

		if (err)
			err = tables4(f, (const uint32_t[]){ TABLE_DEFAULT }, 1, fl, res);
		return err == -EAGAIN ? -ENETUNREACH : err;
	}
	for (size_t i = 0; i < fa->nrule; i++) {
		const struct fib_rule *r = &fa->rule[i];
		int err;
jumped:
		if (!rule_match(f, af, r, fl))
			continue;
		switch (r->action) {
		case FR_ACT_GOTO: {
			size_t k;

			/* The kernel refuses a goto backwards (a loop); the
			 * mirror ignores one, whatever a message says. */
			if (r->target <= r->priority)
				continue;
			for (k = i + 1; k < fa->nrule && fa->rule[k].priority != r->target; k++)
				;
			if (k == fa->nrule)
				continue;	/* no such rule: the goto is not resolved */
			i = k;
			r = &fa->rule[i];
			goto jumped;
		}
		case FR_ACT_NOP:
			continue;
		case FR_ACT_TO_TBL:
			err = table_lookup(f, af, r->table, fl, res);
			break;
		case FR_ACT_UNREACHABLE:
			err = -ENETUNREACH;
			break;
		case FR_ACT_PROHIBIT:
			err = -EACCES;
			break;
		default:
			err = -EINVAL;	/* blackhole, and what the kernel does not know */
			break;
		}
		if (!err && suppressed(f, r, res))
			continue;
		if (err != -EAGAIN)
			return err;
	}
	return -ENETUNREACH;	/* -ESRCH, or IPv6's null entry */
}

static void answer(const struct res *res, uint8_t type, struct fib_answer *a)
{
	const struct entry *e = res->e;

	memset(a, 0, sizeof *a);
	a->type = type;
	a->dst_len = e->dst_len;
	if (!e->npaths)
		return;
	if (res->path >= 0) {
		a->oif = e->paths[res->path].oif;
		a->gw = e->paths[res->path].gw;
		a->gw_known = 1;
		return;
	}
	/* Several live paths: the kernel hashes the flow to one. */
	a->multipath = 1;
	a->oif = e->paths[0].oif;
	a->gw = e->paths[0].gw;
	a->gw_known = 1;
	for (int i = 1; i < e->npaths; i++) {
		if (e->paths[i].oif != a->oif)
			a->oif = 0;
		if (e->paths[i].gw.family != a->gw.family ||
		    memcmp(e->paths[i].gw.a, a->gw.a, 16))
			a->gw_known = 0;
	}
	if (!a->gw_known)
		memset(&a->gw, 0, sizeof a->gw);
}

/* fib_info_nh_uses_dev */
static int uses_dev(const struct entry *e, int kindex)
{
	for (int i = 0; i < e->npaths; i++)
		if (e->paths[i].oif == kindex)
			return 1;
	return 0;
}

/* fib_validate_source with __fib_validate_source: 0 the source is fine,
 * or a negative errno (martian, or the reverse path refused). */
static int validate4(const struct fib *f, const uint8_t *src, const uint8_t *dst, int oif,
		     int iif)
{
	const struct link *dev = link_find(f, iif);
	int rpf = rp_filter(f, dev);
	struct flow fl = { 0 };
	struct res res;
	int err;

	/* The kernel sends redirects by default (send_redirects): a packet
	 * leaving by the interface it came in on takes the full check. */
	if (!rpf && iif != oif) {
		int custom = !default_rules4(&f->fam[0]);

		if (conf_or(f, dev, 0))
			return 0;
		/* fib_has_custom_local_routes is taken as any local route
		 * not of the kernel's own making. */
		if (!custom && !f->fam[0].custom_local)
			return is_local4(f, v4(src)) ? -EINVAL : 0;
	}
	fl.dst = src;
	fl.src = dst;
	fl.has_src = 1;
	fl.iif = oif ? oif : LOOPBACK_KINDEX;
	err = lookup(f, AF_INET, &fl, &res);
	if (err)
		return rpf ? -EXDEV : 0;
	if (res.e->type != RTN_UNICAST &&
	    (res.e->type != RTN_LOCAL || !conf_or(f, dev, 0)))
		return -EINVAL;
	if (uses_dev(res.e, iif) || (res.e->type == RTN_LOCAL && iif == LOOPBACK_KINDEX))
		return 0;
	if (!dev || !dev->v4addrs)
		return rpf ? -EXDEV : 0;
	if (rpf == 1)
		return -EXDEV;
	return 0;		/* loose: any route back will do */
}

static int v4_multicast(const uint8_t *a) { return (a[0] & 0xf0) == 0xe0; }
static int v4_lbcast(const uint8_t *a) { return v4(a) == 0xffffffffu; }
/* ipv4_is_zeronet: 0.0.0.0 only since Linux 5.3 (0/8 became unicast). */
static int v4_zeronet(const uint8_t *a) { return v4(a) == 0; }
static int v4_loopback(const uint8_t *a) { return a[0] == 127; }

/* rt6_need_strict: multicast, link-local, loopback. */
static int v6_strict(const uint8_t *a)
{
	static const uint8_t lo[16] = { [15] = 1 };

	return a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || !memcmp(a, lo, 16);
}

static enum fib_verdict input4(const struct fib *f, const uint8_t *dst, const uint8_t *src,
			       int iif, int64_t now, struct fib_answer *a)
{
	const struct link *dev = link_find(f, iif);
	struct flow fl = { dst, src, 1, iif, 0, 0, 0, now };
	struct res res;
	int oif;

	/* ip_route_input_slow's martians */
	if (v4_multicast(src) || v4_lbcast(src))
		return FIB_NOROUTE;
	if (v4_lbcast(dst) || (is_zero(src, 4) && is_zero(dst, 4)))
		return FIB_NOROUTE;	/* a broadcast: the answer has no route entry */
	if (v4_zeronet(src) || v4_zeronet(dst))
		return FIB_NOROUTE;
	if ((v4_loopback(dst) || v4_loopback(src)) && !conf_or(f, dev, 1))
		return FIB_NOROUTE;
	if (lookup(f, AF_INET, &fl, &res))
		return FIB_NOROUTE;
	if (res.e->type == RTN_BROADCAST) {
		static const uint8_t any[16];

		/* brd_input validates against destination 0 */
		if (!v4_zeronet(src) && validate4(f, src, any, 0, iif) < 0)
			return FIB_NOROUTE;
		answer(&res, RTN_BROADCAST, a);
		return FIB_FOUND;
	}
	if (res.e->type == RTN_LOCAL) {
		if (validate4(f, src, dst, 0, iif) < 0)
			return FIB_NOROUTE;
		answer(&res, RTN_LOCAL, a);
		return FIB_FOUND;
	}
	if (!dev || dev->forwarding <= 0)
		return FIB_NOROUTE;	/* not a router on this interface */
	if (res.e->type != RTN_UNICAST)
		return FIB_NOROUTE;
	oif = res.e->npaths ? res.e->paths[res.path >= 0 ? res.path : 0].oif : 0;
	if (validate4(f, src, dst, oif, iif) < 0)
		return FIB_NOROUTE;
	answer(&res, RTN_UNICAST, a);
	return FIB_FOUND;
}

static enum fib_verdict output4(const struct fib *f, const uint8_t *dst, int64_t now,
				struct fib_answer *a)
{
	static const uint8_t none[16];
	struct flow fl = { dst, none, 0, LOOPBACK_KINDEX, 0, 0, 0, now };
	struct res res;

	if (is_zero(dst, 4))
		return FIB_NOROUTE;	/* the kernel answers with lo, no route entry */
	if (lookup(f, AF_INET, &fl, &res))
		return FIB_NOROUTE;
	if (res.e->type == RTN_LOCAL) {
		answer(&res, RTN_LOCAL, a);
		return FIB_FOUND;
	}
	/* __mkroute_output */
	if (v4_zeronet(dst))
		return FIB_NOROUTE;
	answer(&res, v4_lbcast(dst) ? RTN_BROADCAST : v4_multicast(dst) ? RTN_MULTICAST :
		     res.e->type, a);
	return FIB_FOUND;
}

static enum fib_verdict answer6(const struct fib *f, struct flow *fl, struct fib_answer *a)
{
	struct res res;

	if (v6_strict(fl->dst))
		fl->strict |= STRICT_IFACE;
	if (lookup(f, AF_INET6, fl, &res))
		return FIB_NOROUTE;
	answer(&res, res.e->type, a);
	return FIB_FOUND;
}

enum fib_verdict fib_input(const struct fib *f, int family, const uint8_t *dst,
			   const uint8_t *src, int iif, int64_t now, struct fib_answer *a)
{
	const struct family *fa = cfam_of(f, family);

	memset(a, 0, sizeof *a);
	if (!fa)
		return FIB_NOROUTE;
	if (fa->route_overflow || fa->rule_overflow || f->incomplete)
		return FIB_UNKNOWN;
	if (family == AF_INET)
		return input4(f, dst, src, iif, now, a);
	{
		/* ip6_pol_route_input scores paths against the input interface. */
		struct flow fl = { dst, src, !is_zero(src, 16), iif, iif, 0, 0, now };

		return answer6(f, &fl, a);
	}
}

enum fib_verdict fib_output(const struct fib *f, int family, const uint8_t *dst,
			    int64_t now, struct fib_answer *a)
{
	static const uint8_t none[16];
	const struct family *fa = cfam_of(f, family);

	memset(a, 0, sizeof *a);
	if (!fa)
		return FIB_NOROUTE;
	if (fa->route_overflow || fa->rule_overflow || f->incomplete)
		return FIB_UNKNOWN;
	if (family == AF_INET)
		return output4(f, dst, now, a);
	{
		struct flow fl = { dst, none, 0, LOOPBACK_KINDEX, 0, 0, 0, now };

		return answer6(f, &fl, a);
	}
}

/* ---- cells ---- */

static int edge_cmp(const void *x, const void *y)
{
	return memcmp(x, y, 16);
}

static int edge_push(struct family *fa, const uint8_t *a)
{
	if (fa->nedge == fa->capedge) {
		size_t cap = fa->capedge ? fa->capedge * 2 : 64;
		uint8_t (*v)[16] = realloc(fa->edge, cap * sizeof *v);

		if (!v)
			return -1;
		fa->edge = v;
		fa->capedge = cap;
	}
	memcpy(fa->edge[fa->nedge++], a, 16);
	return 0;
}

/* The prefix's first address and the one after its last (none past the end). */
static int edges_of(struct family *fa, const uint8_t *p, unsigned len)
{
	uint8_t start[16], end[16];
	unsigned carry;
	int byte;

	mask_into(start, p, len, fa->alen);
	if (edge_push(fa, start) < 0)
		return -1;
	if (len == 0)
		return 0;	/* the whole space: no end */
	/* end = start + 2^(bits - len): one more in the prefix's last bit */
	memcpy(end, start, 16);
	byte = (int)(len - 1) / 8;
	carry = 1u << (7 - (len - 1) % 8);
	for (; byte >= 0 && carry; byte--) {
		unsigned v = end[byte] + carry;

		end[byte] = (uint8_t)v;
		carry = v >> 8;
	}
	if (carry)
		return 0;	/* it ends at the top of the space */
	return edge_push(fa, end);
}

/* Ranges whose handling is special whatever the routes say. */
static int special_edges(struct family *fa)
{
	static const struct { uint8_t a[16]; unsigned len; } v4s[] = {
		{ { 0 }, 32 }, { { 127 }, 8 }, { { 224 }, 4 }, { { 240 }, 4 },
		{ { 255, 255, 255, 255 }, 32 },
	}, v6s[] = {
		{ { 0 }, 128 }, { { [15] = 1 }, 128 }, { { 0xff }, 8 }, { { 0xfe, 0x80 }, 10 },
	};
	int v6 = fa->af == AF_INET6;
	size_t n = v6 ? sizeof v6s / sizeof v6s[0] : sizeof v4s / sizeof v4s[0];

	for (size_t i = 0; i < n; i++)
		if (edges_of(fa, v6 ? v6s[i].a : v4s[i].a, v6 ? v6s[i].len : v4s[i].len) < 0)
			return -1;
	return 0;
}

static int rebuild_edges(struct fib *f, struct family *fa)
{
	size_t k = 0;

	fa->nedge = 0;
	if (edge_push(fa, (const uint8_t[16]){ 0 }) < 0 || special_edges(fa) < 0)
		return -1;
	for (size_t i = 0; i < fa->nbuckets; i++)
		for (const struct entry *e = fa->bucket[i]; e; e = e->next)
			if (edges_of(fa, e->dst, e->dst_len) < 0 ||
			    (e->src_len && edges_of(fa, e->src, e->src_len) < 0))
				return -1;
	for (size_t i = 0; i < fa->nrule; i++)
		if (edges_of(fa, fa->rule[i].dst, fa->rule[i].dst_len) < 0 ||
		    edges_of(fa, fa->rule[i].src, fa->rule[i].src_len) < 0)
			return -1;
	if (fa->af == AF_INET)
		for (size_t i = 0; i < f->nlocal; i++) {
			uint8_t a[16] = { (uint8_t)(f->local[i].a >> 24), (uint8_t)(f->local[i].a >> 16),
					  (uint8_t)(f->local[i].a >> 8), (uint8_t)f->local[i].a };

			if (edges_of(fa, a, 32) < 0)
				return -1;
		}
	qsort(fa->edge, fa->nedge, 16, edge_cmp);
	for (size_t i = 0; i < fa->nedge; i++)
		if (!k || memcmp(fa->edge[k - 1], fa->edge[i], 16))
			memmove(fa->edge[k++], fa->edge[i], 16);
	fa->nedge = k;
	fa->edges_stale = 0;
	return 0;
}

int fib_cell(struct fib *f, int family, const uint8_t *a, uint32_t *cell)
{
	struct family *fa = fam_of(f, family);
	uint8_t w[16] = { 0 };
	size_t lo = 0, hi;

	if (!fa)
		return -1;
	if (fa->edges_stale && rebuild_edges(f, fa) < 0) {
		fa->edges_stale = 1;
		return -1;
	}
	memcpy(w, a, fa->alen);
	hi = fa->nedge;
	/* The last edge not above a. */
	while (lo + 1 < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(fa->edge[mid], w, 16) <= 0)
			lo = mid;
		else
			hi = mid;
	}
	*cell = (uint32_t)lo;
	return 0;
}

uint64_t fib_generation(struct fib *f, int64_t now)
{
	if (f->next_expiry_ms && now >= f->next_expiry_ms) {
		int64_t next = 0;
		struct family *fa = &f->fam[1];

		for (size_t i = 0; i < fa->nbuckets; i++)
			for (const struct entry *e = fa->bucket[i]; e; e = e->next)
				if (e->expires_ms > now && (!next || e->expires_ms < next))
					next = e->expires_ms;
		f->next_expiry_ms = next;
		changed(f);
	}
	return f->generation;
}

/* ---- messages ---- */

static size_t alen(int af)
{
	return af == AF_INET6 ? 16 : 4;
}

static void take_gw(struct fib_path *p, int af, const struct rtattr *a)
{
	if (a->rta_type == RTA_GATEWAY && RTA_PAYLOAD(a) >= alen(af)) {
		p->gw.family = af;
		memcpy(p->gw.a, RTA_DATA(a), alen(af));
	} else if (a->rta_type == RTA_VIA && RTA_PAYLOAD(a) >= sizeof(struct rtvia)) {
		const struct rtvia *v = RTA_DATA(a);

		if ((v->rtvia_family == AF_INET || v->rtvia_family == AF_INET6) &&
		    RTA_PAYLOAD(a) >= sizeof *v + alen(v->rtvia_family)) {
			p->gw.family = v->rtvia_family;
			memcpy(p->gw.a, v->rtvia_addr, alen(v->rtvia_family));
		}
	}
}

static void take_multipath(struct fib_route *r, const struct rtattr *mp)
{
	const struct rtnexthop *nh = RTA_DATA(mp);
	int left = (int)RTA_PAYLOAD(mp);

	r->npaths = 0;
	while (left >= (int)sizeof *nh && nh->rtnh_len >= sizeof *nh && nh->rtnh_len <= left &&
	       r->npaths < FIB_MAX_PATHS) {
		struct fib_path *p = &r->path[r->npaths++];
		int alen_left = nh->rtnh_len - (int)RTNH_LENGTH(0);

		memset(p, 0, sizeof *p);
		p->oif = nh->rtnh_ifindex;
		p->flags = nh->rtnh_flags & (RTNH_F_DEAD | RTNH_F_LINKDOWN);
		for (const struct rtattr *a = RTNH_DATA(nh); RTA_OK(a, alen_left);
		     a = RTA_NEXT(a, alen_left))
			take_gw(p, r->family, a);
		left -= RTNH_ALIGN(nh->rtnh_len);
		nh = RTNH_NEXT(nh);
	}
}

/* An RTM_NEWROUTE / RTM_DELROUTE into r; -1 when it is not one the mirror
 * keeps (cloned, another family, malformed). */
static int parse_route(const struct nlmsghdr *n, int64_t now, struct fib_route *r)
{
	const struct rtmsg *rtm = NLMSG_DATA(n);
	int len = (int)n->nlmsg_len - (int)NLMSG_LENGTH(sizeof *rtm);
	int multipath = 0;

	if (len < 0 || (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) ||
	    (rtm->rtm_flags & RTM_F_CLONED))
		return -1;
	memset(r, 0, sizeof *r);
	r->family = rtm->rtm_family;
	r->dst_len = rtm->rtm_dst_len;
	r->src_len = rtm->rtm_src_len;
	r->tos = rtm->rtm_tos;
	r->type = rtm->rtm_type;
	r->scope = rtm->rtm_scope;
	r->protocol = rtm->rtm_protocol;
	r->table = rtm->rtm_table;
	if (r->dst_len > alen(r->family) * 8 || r->src_len > alen(r->family) * 8)
		return -1;
	r->npaths = 1;
	r->path[0].flags = rtm->rtm_flags & (RTNH_F_DEAD | RTNH_F_LINKDOWN);
	for (const struct rtattr *a = RTM_RTA(rtm); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		size_t pl = RTA_PAYLOAD(a);

		switch (a->rta_type) {
		case RTA_DST:
			if (pl >= alen(r->family))
				memcpy(r->dst, RTA_DATA(a), alen(r->family));
			break;
		case RTA_SRC:
			if (pl >= alen(r->family))
				memcpy(r->src, RTA_DATA(a), alen(r->family));
			break;
		case RTA_OIF:
			if (pl >= 4)
				memcpy(&r->path[0].oif, RTA_DATA(a), 4);
			break;
		case RTA_GATEWAY:
		case RTA_VIA:
			take_gw(&r->path[0], r->family, a);
			break;
		case RTA_PRIORITY:
			if (pl >= 4)
				memcpy(&r->priority, RTA_DATA(a), 4);
			break;
		case RTA_TABLE:
			if (pl >= 4)
				memcpy(&r->table, RTA_DATA(a), 4);
			break;
		case RTA_PREFSRC:
			if (pl >= alen(r->family)) {
				r->prefsrc.family = r->family;
				memcpy(r->prefsrc.a, RTA_DATA(a), alen(r->family));
			}
			break;
		case RTA_PREF:
			if (pl >= 1)
				r->pref = *(const uint8_t *)RTA_DATA(a);
			break;
		case RTA_NH_ID:
			if (pl >= 4)
				memcpy(&r->nh_id, RTA_DATA(a), 4);
			break;
		case RTA_CACHEINFO:
			if (pl >= sizeof(struct rta_cacheinfo) && r->family == AF_INET6) {
				const struct rta_cacheinfo *ci = RTA_DATA(a);

				if (ci->rta_expires)
					r->expires_ms = now + (int64_t)ci->rta_expires * USER_HZ_MS;
			}
			break;
		case RTA_MULTIPATH:
			take_multipath(r, a);
			multipath = 1;
			break;
		default:
			break;
		}
	}
	if (!multipath && !r->path[0].oif && !r->path[0].gw.family)
		r->npaths = 0;		/* a reject route, or one with no device */
	if (r->nh_id && !multipath && !r->path[0].oif)
		r->npaths = 0;		/* a nexthop object the kernel did not expand */
	return 0;
}

/* An RTM_NEWRULE / RTM_DELRULE into r. */
static int parse_rule(const struct nlmsghdr *n, struct fib_rule *r)
{
	const struct fib_rule_hdr *h = NLMSG_DATA(n);
	int len = (int)n->nlmsg_len - (int)NLMSG_LENGTH(sizeof *h);
	const struct rtattr *a;
	int have_mask = 0;

	if (len < 0 || (h->family != AF_INET && h->family != AF_INET6))
		return -1;
	memset(r, 0, sizeof *r);
	r->family = h->family;
	r->action = h->action;
	r->src_len = h->src_len;
	r->dst_len = h->dst_len;
	r->tos = h->tos;
	r->table = h->table;
	r->invert = (h->flags & FIB_RULE_INVERT) != 0;
	r->suppress_prefixlen = r->suppress_ifgroup = -1;
	r->uid_end = UINT32_MAX;
	if (r->src_len > alen(r->family) * 8 || r->dst_len > alen(r->family) * 8)
		return -1;
	for (a = (const struct rtattr *)((const char *)h + NLMSG_ALIGN(sizeof *h)); RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		size_t pl = RTA_PAYLOAD(a);
		const void *d = RTA_DATA(a);

		switch (a->rta_type) {
		case FRA_DST:
			if (pl >= alen(r->family))
				memcpy(r->dst, d, alen(r->family));
			break;
		case FRA_SRC:
			if (pl >= alen(r->family))
				memcpy(r->src, d, alen(r->family));
			break;
		case FRA_IIFNAME:
			memcpy(r->iifname, d, pl < IFNAMSIZ - 1 ? pl : IFNAMSIZ - 1);
			break;
		case FRA_OIFNAME:
			memcpy(r->oifname, d, pl < IFNAMSIZ - 1 ? pl : IFNAMSIZ - 1);
			break;
		case FRA_PRIORITY:
			if (pl >= 4)
				memcpy(&r->priority, d, 4);
			break;
		case FRA_TABLE:
			if (pl >= 4)
				memcpy(&r->table, d, 4);
			break;
		case FRA_GOTO:
			if (pl >= 4)
				memcpy(&r->target, d, 4);
			break;
		case FRA_FWMARK:
			if (pl >= 4)
				memcpy(&r->mark, d, 4);
			break;
		case FRA_FWMASK:
			if (pl >= 4) {
				memcpy(&r->mask, d, 4);
				have_mask = 1;
			}
			break;
		case FRA_SUPPRESS_PREFIXLEN:
			if (pl >= 4)
				memcpy(&r->suppress_prefixlen, d, 4);
			break;
		case FRA_SUPPRESS_IFGROUP:
			if (pl >= 4)
				memcpy(&r->suppress_ifgroup, d, 4);
			break;
		case FRA_TUN_ID:
			if (pl >= 8)
				memcpy(&r->tun_id, d, 8);
			break;
		case FRA_L3MDEV:
			if (pl >= 1)
				r->l3mdev = *(const uint8_t *)d;
			break;
		case FRA_UID_RANGE:
			if (pl >= sizeof(struct fib_rule_uid_range)) {
				const struct fib_rule_uid_range *u = d;

				r->uid_start = u->start;
				r->uid_end = u->end;
			}
			break;
		case FRA_IP_PROTO:
			if (pl >= 1)
				r->ip_proto = *(const uint8_t *)d;
			break;
		case FRA_SPORT_RANGE:
		case FRA_DPORT_RANGE:
			if (pl >= sizeof(struct fib_rule_port_range)) {
				const struct fib_rule_port_range *p = d;

				if (a->rta_type == FRA_SPORT_RANGE) {
					r->sport_lo = p->start;
					r->sport_hi = p->end;
				} else {
					r->dport_lo = p->start;
					r->dport_hi = p->end;
				}
			}
			break;
		default:
			break;
		}
	}
	/* A mark without a mask matches all of its bits (fib_nl2rule). */
	if (r->mark && !have_mask)
		r->mask = UINT32_MAX;
	return 0;
}

static enum fib_change apply_link(struct fib *f, const struct nlmsghdr *n)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(n);
	int len = (int)n->nlmsg_len - (int)NLMSG_LENGTH(sizeof *ifi);
	const struct link *old;
	char name[IFNAMSIZ] = "";
	uint32_t group = 0;
	unsigned was = 0, mask = IFF_UP | IFF_LOWER_UP | IFF_RUNNING;
	uint32_t routes;
	int known;

	if (len < 0 || ifi->ifi_family != AF_UNSPEC)
		return FIB_SAME;	/* AF_BRIDGE and AF_INET6 side notes */
	old = link_find(f, ifi->ifi_index);
	known = old != NULL;
	routes = old ? old->routes : 0;
	if (old)
		was = old->flags;
	if (n->nlmsg_type == RTM_DELLINK) {
		fib_link_del(f, ifi->ifi_index);
		/* The kernel flushes the routes through it without a word. */
		return routes ? FIB_CHANGED | FIB_REDUMP : FIB_CHANGED;
	}
	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_IFNAME) {
			size_t pl = RTA_PAYLOAD(a);

			memcpy(name, RTA_DATA(a), pl < IFNAMSIZ - 1 ? pl : IFNAMSIZ - 1);
		} else if (a->rta_type == IFLA_GROUP && RTA_PAYLOAD(a) >= 4) {
			memcpy(&group, RTA_DATA(a), 4);
		}
	}
	if (old && !strcmp(old->name, name) && old->group == group &&
	    (old->flags & mask) == (ifi->ifi_flags & mask))
		return FIB_SAME;
	fib_link_set(f, ifi->ifi_index, name, ifi->ifi_flags, group);
	/* Up, down, carrier: the kernel marks or flushes its routes silently. */
	if (routes && known && (was & mask) != (ifi->ifi_flags & mask))
		return FIB_CHANGED | FIB_REDUMP;
	return FIB_CHANGED;
}

static int prefsrc_used(const struct fib *f, uint32_t a)
{
	const struct family *fa = &f->fam[0];

	for (size_t i = 0; i < fa->nbuckets; i++)
		for (const struct entry *e = fa->bucket[i]; e; e = e->next)
			if (e->prefsrc.family == AF_INET && v4(e->prefsrc.a) == a)
				return 1;
	return 0;
}

static enum fib_change apply_addr(struct fib *f, const struct nlmsghdr *n)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(n);
	int len = (int)n->nlmsg_len - (int)NLMSG_LENGTH(sizeof *ifa);
	const uint8_t *local = NULL, *address = NULL;
	uint32_t a;

	if (len < 0 || ifa->ifa_family != AF_INET)
		return FIB_SAME;	/* IPv6 addresses come as local routes */
	for (const struct rtattr *r = IFA_RTA(ifa); RTA_OK(r, len); r = RTA_NEXT(r, len)) {
		if (RTA_PAYLOAD(r) < 4)
			continue;
		if (r->rta_type == IFA_LOCAL)
			local = RTA_DATA(r);
		else if (r->rta_type == IFA_ADDRESS)
			address = RTA_DATA(r);
	}
	if (!local)
		local = address;
	if (!local)
		return FIB_SAME;
	a = v4(local);
	if (n->nlmsg_type == RTM_NEWADDR) {
		local_add(f, a, (int)ifa->ifa_index);
		changed(f);
		return FIB_CHANGED;
	}
	local_del(f, a, (int)ifa->ifa_index);
	changed(f);
	/* Routes preferring the address as source go with it, silently. */
	return prefsrc_used(f, a) ? FIB_CHANGED | FIB_REDUMP : FIB_CHANGED;
}

static enum fib_change apply_netconf(struct fib *f, const struct nlmsghdr *n)
{
	const struct netconfmsg *nc = NLMSG_DATA(n);
	int len = (int)n->nlmsg_len - (int)NLMSG_LENGTH(sizeof *nc);
	int kindex = 0, have = 0, fwd = -1, rpf = -1, ild = -1;
	int i6;
	struct link *l;

	if (len < 0 || (nc->ncm_family != AF_INET && nc->ncm_family != AF_INET6))
		return FIB_SAME;
	i6 = nc->ncm_family == AF_INET6;
	for (const struct rtattr *a = (const struct rtattr *)((const char *)nc +
							      NLMSG_ALIGN(sizeof *nc));
	     RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		int32_t v;

		if (RTA_PAYLOAD(a) < 4)
			continue;
		memcpy(&v, RTA_DATA(a), 4);
		switch (a->rta_type) {
		case NETCONFA_IFINDEX: kindex = v; have = 1; break;
		case NETCONFA_FORWARDING: fwd = v; break;
		case NETCONFA_RP_FILTER: rpf = v; break;
		case NETCONFA_IGNORE_ROUTES_WITH_LINKDOWN: ild = v; break;
		default: break;
		}
	}
	if (!have || kindex == NETCONFA_IFINDEX_DEFAULT || n->nlmsg_type == RTM_DELNETCONF)
		return FIB_SAME;
	l = kindex == NETCONFA_IFINDEX_ALL ? &f->all : link_get(f, kindex);
	if (!l)
		return FIB_SAME;
	if (!i6) {
		if (fwd >= 0)
			l->forwarding = fwd;
		if (rpf >= 0)
			l->rp_filter = rpf;
	}
	if (ild >= 0)
		l->ignore_linkdown[i6] = ild != 0;
	changed(f);
	return FIB_CHANGED;
}

/* A route or rule the mirror could not take: past its bound, the family's
 * answers are unknown (until a dump fits again); out of memory, the mirror
 * is missing one: unknown answers until it is read again. */
static enum fib_change lost(struct fib *f, int k)
{
	const struct family *fa = &f->fam[k];

	if (fa->route_overflow || fa->rule_overflow)
		return FIB_CHANGED;
	f->incomplete = 1;
	changed(f);
	return FIB_CHANGED | FIB_RESYNC;
}

enum fib_change fib_apply(struct fib *f, const struct nlmsghdr *n, int64_t now)
{
	union {
		struct fib_route route;
		struct fib_rule rule;
	} u;
	enum fib_change ch = FIB_SAME;

	if (n->nlmsg_len < NLMSG_HDRLEN)
		return FIB_SAME;
	switch (n->nlmsg_type) {
	case RTM_NEWLINK: case RTM_DELLINK:
		return n->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg)) ? apply_link(f, n) : FIB_SAME;
	case RTM_NEWADDR: case RTM_DELADDR:
		return n->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifaddrmsg)) ? apply_addr(f, n) : FIB_SAME;
	case RTM_NEWNETCONF: case RTM_DELNETCONF:
		return n->nlmsg_len >= NLMSG_LENGTH(sizeof(struct netconfmsg)) ? apply_netconf(f, n) : FIB_SAME;
	case RTM_NEWROUTE: case RTM_DELROUTE:
	case RTM_NEWRULE: case RTM_DELRULE:
		break;
	default:
		return FIB_SAME;
	}
	if (n->nlmsg_type == RTM_NEWROUTE || n->nlmsg_type == RTM_DELROUTE) {
		if (n->nlmsg_len >= NLMSG_LENGTH(sizeof(struct rtmsg)) &&
		    parse_route(n, now, &u.route) == 0) {
			if (n->nlmsg_type == RTM_DELROUTE)
				ch = fib_route_del(f, &u.route) ? FIB_CHANGED : FIB_SAME;
			else if (fib_route_add(f, &u.route,
					       n->nlmsg_flags & (NLM_F_REPLACE | NLM_F_APPEND)) == 0)
				ch = FIB_CHANGED;
			else
				ch = lost(f, AF_INET == u.route.family ? 0 : 1);
		}
	} else if (n->nlmsg_len >= NLMSG_LENGTH(sizeof(struct fib_rule_hdr)) &&
		   parse_rule(n, &u.rule) == 0) {
		if (n->nlmsg_type == RTM_DELRULE)
			ch = fib_rule_del(f, &u.rule) ? FIB_CHANGED : FIB_SAME;
		else if (fib_rule_add(f, &u.rule) == 0)
			ch = FIB_CHANGED;
		else
			ch = lost(f, AF_INET == u.rule.family ? 0 : 1);
	}
	return ch;
}

/* ---- life ---- */

struct fib *fib_new(void)
{
	struct fib *f = calloc(1, sizeof *f);

	if (!f)
		return NULL;
	f->fam[0].af = AF_INET;
	f->fam[0].alen = 4;
	f->fam[0].bits = 32;
	f->fam[1].af = AF_INET6;
	f->fam[1].alen = 16;
	f->fam[1].bits = 128;
	f->fam[0].edges_stale = f->fam[1].edges_stale = 1;
	f->all.forwarding = f->all.rp_filter = -1;
	f->generation = 1;
	return f;
}

void fib_free(struct fib *f)
{
	if (!f)
		return;
	fib_clear_routes(f);
	for (int k = 0; k < 2; k++) {
		free(f->fam[k].bucket);
		free(f->fam[k].rule);
		free(f->fam[k].edge);
	}
	free(f->link);
	free(f->local);
	free(f);
}
