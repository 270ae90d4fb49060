/* The routing mirror's insides (see fib.h), shared by its files and
 * included by them only:
 *   fib.c         the store: routes by table and prefix, rules, life
 *   fib_link.c    links, the IPv4 switches, the IPv4 local addresses
 *   fib_msg.c     rtnetlink messages into the store (fib_apply)
 *   fib_lookup.c  the rules and the tables' longest match (fib_lookup)
 *   fib_answer.c  the questions asked: fib_input, fib_output
 *   fib_cell.c    the cells, the generation
 * The lookups follow the kernel's own code, named beside each step:
 * net/ipv4/fib_trie.c (fib_table_lookup), fib_rules.c (fib_rules_lookup),
 * fib4_rules.c, route.c (ip_route_input_slow, ip_route_output_key_hash_rcu),
 * fib_frontend.c (fib_validate_source), and net/ipv6/route.c (rt6_select,
 * find_match, fib6_table_lookup), fib6_rules.c. */
#ifndef HF_FIB_INT_H
#define HF_FIB_INT_H

#include <string.h>
#include <sys/socket.h>

#include "sflow/core/fib.h"

#define LOOPBACK_KINDEX  1     /* the kernel's LOOPBACK_IFINDEX: lo is always 1 */
#define TABLE_LOCAL      255
#define TABLE_MAIN       254
#define TABLE_DEFAULT    253

/* ---- storage ---- */

/* One route as held: a FIB alias. */
struct fib_entry {
	struct fib_entry *next;   /* in its hash chain; aliases of one prefix adjacent, in order */
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
struct fib_table {
	uint32_t id;
	uint32_t n[129];
	uint64_t bits[3];
};

struct fib_link {
	int kindex;
	char name[IFNAMSIZ];
	unsigned flags;
	uint32_t group;
	int forwarding, rp_filter, accept_local, route_localnet;  /* IPv4; -1 unknown */
	int ignore_linkdown[2];   /* IPv4, IPv6 */
	uint32_t v4addrs;         /* IPv4 addresses held */
	uint32_t routes;          /* route paths through it */
};

struct fib_v4local {
	uint32_t a;
	int kindex;
};

struct fib_family {
	int af;
	size_t alen;              /* 4 or 16 */
	unsigned bits;            /* 32 or 128 */
	struct fib_entry **bucket;
	size_t nbuckets, nroutes;
	struct fib_table *tab;
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
	struct fib_family fam[2]; /* [0] IPv4, [1] IPv6 */
	struct fib_link *link;    /* sorted by kindex */
	size_t nlink, caplink;
	struct fib_link all;      /* IPv4 "all" switches */
	struct fib_v4local *local; /* sorted by address */
	size_t nlocal, caplocal;
	uint64_t seq, generation;
	int64_t next_expiry_ms;   /* 0: none */
	int incomplete;           /* a dump failed half way: answers unknown */
};

static inline struct fib_family *fib_fam(struct fib *f, int af)
{
	return af == AF_INET ? &f->fam[0] : af == AF_INET6 ? &f->fam[1] : NULL;
}

static inline const struct fib_family *fib_cfam(const struct fib *f, int af)
{
	return af == AF_INET ? &f->fam[0] : af == AF_INET6 ? &f->fam[1] : NULL;
}

/* Every change an answer may depend on: the lookups' callers see a new
 * generation, the cells are cut again. */
static inline void fib_changed(struct fib *f)
{
	f->generation++;
	f->fam[0].edges_stale = f->fam[1].edges_stale = 1;
}

/* ---- address helpers ---- */

static inline int fib_prefix_has(const uint8_t *p, unsigned len, const uint8_t *a)
{
	unsigned bytes = len / 8, rest = len % 8;

	if (memcmp(p, a, bytes))
		return 0;
	if (!rest)
		return 1;
	return ((p[bytes] ^ a[bytes]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static inline void fib_mask_into(uint8_t *out, const uint8_t *a, unsigned len, size_t alen)
{
	unsigned bytes = len / 8, rest = len % 8;

	memset(out, 0, 16);
	memcpy(out, a, bytes);
	if (rest && bytes < alen)
		out[bytes] = a[bytes] & (uint8_t)(0xff << (8 - rest));
}

static inline uint32_t fib_v4(const uint8_t *a)
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

static inline int fib_is_zero(const uint8_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i])
			return 0;
	return 1;
}

/* ---- lookups ---- */

/* A question, as the kernel's flowi holds it: mark, TOS, protocol, ports,
 * tunnel id are 0, as RTM_GETROUTE asks; the uid root's. */
struct fib_flow {
	const uint8_t *dst, *src;  /* src: zeros when none */
	int has_src;
	int iif, oif;
	unsigned strict;           /* IPv6: RT6_LOOKUP_F_IFACE */
	int ignore_linkstate;      /* FIB_LOOKUP_IGNORE_LINKSTATE */
	int64_t now;
};

#define STRICT_IFACE 1        /* fib_flow.strict: the kernel's RT6_LOOKUP_F_IFACE */

/* What a table or the rules found. */
struct fib_res {
	const struct fib_entry *e;
	int path;                  /* the path chosen; -1 several (multipath) */
};

/* ---- across the files ---- */

/* fib.c: the tables, a prefix's hash chain (its aliases adjacent, in order) */
struct fib_table *fib_table_find(const struct fib_family *fa, uint32_t id);
int fib_table_next_len(const struct fib_table *t, int below);
size_t fib_bucket_of(const struct fib_family *fa, uint32_t table, unsigned len, const uint8_t *a);
int fib_same_prefix(const struct fib_entry *e, uint32_t table, unsigned dst_len,
		    const uint8_t *dst, unsigned src_len, const uint8_t *src);
/* routes and rules: add 0 or -1 (the bound, or out of memory), del 1 or 0 (absent) */
int fib_route_add(struct fib *f, const struct fib_route *r, unsigned how);
int fib_route_del(struct fib *f, const struct fib_route *r);
int fib_rule_add(struct fib *f, const struct fib_rule *r);
int fib_rule_del(struct fib *f, const struct fib_rule *r);
int fib_default_rules4(const struct fib_family *fa);

/* fib_link.c: links (NULL: unknown), made by fib_link_get when missing */
const struct fib_link *fib_link_find(const struct fib *f, int kindex);
struct fib_link *fib_link_get(struct fib *f, int kindex);
void fib_link_set(struct fib *f, int kindex, const char *name, unsigned flags, uint32_t group);
void fib_link_del(struct fib *f, int kindex);
/* the IPv4 local addresses, by address and link */
void fib_local_add(struct fib *f, uint32_t a, int kindex);
void fib_local_del(struct fib *f, uint32_t a, int kindex);
int fib_is_local4(const struct fib *f, uint32_t a);

/* fib_lookup.c: the route that answers a flow; 0 with *res, or a negative errno */
int fib_lookup(const struct fib *f, int af, const struct fib_flow *fl, struct fib_res *res);

#endif
