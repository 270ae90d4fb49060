/* The routing mirror's store (see fib.h, fib_int.h): routes by table and
 * prefix in hash chains, each prefix's aliases in the kernel's order; the
 * policy rules in theirs; the mirror's life. */
#include "sflow/core/fib_int.h"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

#define MIN_BUCKETS 64   /* a family's first hash table: it doubles as routes come */

/* ---- tables and routes ---- */

struct fib_table *fib_table_find(const struct fib_family *fa, uint32_t id)
{
	for (size_t i = 0; i < fa->ntab; i++)
		if (fa->tab[i].id == id)
			return &fa->tab[i];
	return NULL;
}

static struct fib_table *table_get(struct fib_family *fa, uint32_t id)
{
	struct fib_table *t = fib_table_find(fa, id), *v;

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

static void table_count(struct fib_table *t, unsigned len, int d)
{
	t->n[len] = (uint32_t)((int64_t)t->n[len] + d);
	if (t->n[len])
		t->bits[len / 64] |= (uint64_t)1 << (len % 64);
	else
		t->bits[len / 64] &= ~((uint64_t)1 << (len % 64));
}

/* The longest prefix length below `below` that table t holds; -1 none. */
int fib_table_next_len(const struct fib_table *t, int below)
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

/* The hash chain of a prefix: its aliases are adjacent there, in order. */
size_t fib_bucket_of(const struct fib_family *fa, uint32_t table, unsigned len, const uint8_t *a)
{
	uint8_t m[16];

	fib_mask_into(m, a, len, fa->alen);
	return key_hash(table, len, m) & (fa->nbuckets - 1);
}

/* Same table, destination prefix (and IPv6 source prefix). */
int fib_same_prefix(const struct fib_entry *e, uint32_t table, unsigned dst_len,
		       const uint8_t *dst, unsigned src_len, const uint8_t *src)
{
	return e->table == table && e->dst_len == dst_len && e->src_len == src_len &&
	       memcmp(e->dst, dst, 16) == 0 && memcmp(e->src, src, 16) == 0;
}

static int grow(struct fib_family *fa)
{
	size_t n = fa->nbuckets ? fa->nbuckets * 2 : MIN_BUCKETS;
	struct fib_entry **b = calloc(n, sizeof *b), **tail;

	if (!b)
		return -1;
	tail = calloc(n, sizeof *tail);
	if (!tail) {
		free(b);
		return -1;
	}
	/* Chains keep their order (aliases of a prefix stay adjacent, in order). */
	for (size_t i = 0; i < fa->nbuckets; i++) {
		struct fib_entry *e = fa->bucket[i];

		while (e) {
			struct fib_entry *next = e->next;
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

static void entry_free(struct fib_entry *e)
{
	if (e->paths != &e->one)
		free(e->paths);
	free(e);
}

/* Counts the routes through each link (a link going down or away with
 * routes through it means a re-dump), and the local routes of a user's. */
static void account(struct fib *f, struct fib_family *fa, const struct fib_entry *e, int d)
{
	if (e->type == RTN_LOCAL && e->protocol != RTPROT_KERNEL)
		fa->custom_local = (size_t)((int64_t)fa->custom_local + d);
	for (size_t i = 0; i < e->npaths; i++) {
		struct fib_link *l;

		if (!e->paths[i].oif)
			continue;
		if (d > 0)
			l = fib_link_get(f, e->paths[i].oif);
		else
			l = (struct fib_link *)fib_link_find(f, e->paths[i].oif);
		if (l)
			l->routes = (uint32_t)((int64_t)l->routes + d);
	}
}

static int paths_equal(const struct fib_entry *e, const struct fib_route *r)
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
static int entry_is(const struct fib_entry *e, const struct fib_route *r)
{
	return e->tos == r->tos && e->priority == r->priority && e->type == r->type &&
	       paths_equal(e, r);
}

static struct fib_entry *entry_new(const struct fib_route *r, uint8_t dst[16], uint8_t src[16],
			       uint64_t seq)
{
	struct fib_entry *e = calloc(1, sizeof *e);

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
static int alias_order(const struct fib_entry *e, const struct fib_route *r, const uint8_t *src)
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
int fib_route_add(struct fib *f, const struct fib_route *r, unsigned how)
{
	struct fib_family *fa = fib_fam(f, r->family);
	uint8_t dst[16], src[16];
	struct fib_entry **pp, **first_eq = NULL, **after_eq = NULL, **before = NULL;
	struct fib_entry **prefix_end = NULL, **at, *e, *old = NULL;
	struct fib_table *t;

	if (!fa || r->dst_len > fa->bits || r->src_len > fa->bits || r->npaths > FIB_MAX_PATHS)
		return -1;
	fib_mask_into(dst, r->dst, r->dst_len, fa->alen);
	fib_mask_into(src, r->src, r->src_len, fa->alen);
	if (fa->nroutes >= FIB_MAX_ROUTES) {
		fa->route_overflow = 1;
		fib_changed(f);
		return -1;
	}
	if ((!fa->nbuckets || fa->nroutes >= fa->nbuckets) && grow(fa) < 0 && !fa->nbuckets)
		return -1;
	/* A prefix's aliases are adjacent in its chain, in the kernel's order. */
	pp = &fa->bucket[fib_bucket_of(fa, r->table, r->dst_len, dst)];
	for (; *pp; pp = &(*pp)->next) {
		int c;

		if (!fib_same_prefix(*pp, r->table, r->dst_len, dst, (*pp)->src_len, (*pp)->src))
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
			at = &fa->bucket[fib_bucket_of(fa, r->table, r->dst_len, dst)];
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
	fib_changed(f);
	return 0;
}

/* The first route equal in table, prefix, TOS, priority, type and paths:
 * 1 removed, 0 absent. */
int fib_route_del(struct fib *f, const struct fib_route *r)
{
	struct fib_family *fa = fib_fam(f, r->family);
	uint8_t dst[16], src[16];
	struct fib_entry **pp, *e;
	struct fib_table *t;

	if (!fa || !fa->nbuckets || r->dst_len > fa->bits || r->src_len > fa->bits)
		return 0;
	fib_mask_into(dst, r->dst, r->dst_len, fa->alen);
	fib_mask_into(src, r->src, r->src_len, fa->alen);
	for (pp = &fa->bucket[fib_bucket_of(fa, r->table, r->dst_len, dst)]; *pp; pp = &(*pp)->next)
		if (fib_same_prefix(*pp, r->table, r->dst_len, dst, r->src_len, src) && entry_is(*pp, r))
			break;
	if (!*pp)
		return 0;
	e = *pp;
	*pp = e->next;
	fa->nroutes--;
	t = fib_table_find(fa, e->table);
	if (t)
		table_count(t, e->dst_len, -1);
	account(f, fa, e, -1);
	entry_free(e);
	fib_changed(f);
	return 1;
}

void fib_clear_routes(struct fib *f)
{
	for (int k = 0; k < 2; k++) {
		struct fib_family *fa = &f->fam[k];

		for (size_t i = 0; i < fa->nbuckets; i++) {
			while (fa->bucket[i]) {
				struct fib_entry *e = fa->bucket[i];

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
	fib_changed(f);
}

size_t fib_route_count(const struct fib *f, int family)
{
	const struct fib_family *fa = fib_cfam(f, family);

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
	fib_mask_into(c->src, r->src, r->src_len, 16);
	fib_mask_into(c->dst, r->dst, r->dst_len, 16);
	hf_strlcpy(c->iifname, r->iifname, sizeof c->iifname);
	hf_strlcpy(c->oifname, r->oifname, sizeof c->oifname);
}

/* 0, or -1 past FIB_MAX_RULES (the family is then marked overflowed) or out
 * of memory. A rule held already is a no-op (a dump after events). */
int fib_rule_add(struct fib *f, const struct fib_rule *r)
{
	struct fib_family *fa = fib_fam(f, r->family);
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
		fib_changed(f);
		return -1;
	}
	if (hf_grow(&fa->rule, fa->nrule, &fa->caprule, sizeof *fa->rule, 8) < 0)
		return -1;
	/* After the last rule of a priority not above it (fib_nl_newrule). */
	for (i = fa->nrule; i > 0 && fa->rule[i - 1].priority > c.priority; i--)
		;
	memmove(&fa->rule[i + 1], &fa->rule[i], (fa->nrule - i) * sizeof *fa->rule);
	fa->rule[i] = c;
	fa->nrule++;
	fib_changed(f);
	return 0;
}

/* The rule equal to r: 1 removed, 0 absent. */
int fib_rule_del(struct fib *f, const struct fib_rule *r)
{
	struct fib_family *fa = fib_fam(f, r->family);
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
		fib_changed(f);
		return 1;
	}
	return 0;
}

/* fib4_rules: the kernel merges the local and main tables while no other
 * rule exists. */
int fib_default_rules4(const struct fib_family *fa)
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

void fib_set_incomplete(struct fib *f, int incomplete)
{
	f->incomplete = incomplete;
	fib_changed(f);
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
