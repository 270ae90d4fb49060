#include "sflow/core/bpfprog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keys tested one after another at a leaf of the search: a few `jeq`s beat
 * more tree levels, and the jump offsets inside a leaf stay tiny. */
#define BUCKET 8
/* Emission stops storing past this (the count goes on, for the message). */
#define HARD_CAP (4 * BPF_MAXINSNS)

enum { TO_DROP = -1 };

struct fixup {
	size_t pc;          /* a `ja` whose k is resolved at the end */
	int target;         /* a group, or TO_DROP */
};

struct emit {
	struct sock_filter *v;
	size_t n, cap;
	struct fixup *fx;
	size_t nfx, capfx;
	int oom;
};

struct key {
	int kindex;
	size_t group;
};

static void put(struct emit *e, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (e->n < e->cap)
		e->v[e->n] = (struct sock_filter){ code, jt, jf, k };
	e->n++;
}

/* A `ja` to a group's block or to the drop; its offset is filled in later. */
static void put_far(struct emit *e, int target)
{
	if (e->nfx == e->capfx) {
		size_t nc = e->capfx ? e->capfx * 2 : 64;
		struct fixup *nf = realloc(e->fx, nc * sizeof *nf);

		if (!nf) {
			e->oom = 1;
			return;
		}
		e->fx = nf;
		e->capfx = nc;
	}
	e->fx[e->nfx++] = (struct fixup){ e->n, target };
	put(e, BPF_JMP | BPF_JA, 0, 0, 0);
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
	return a->rate == b->rate && same_prog(a->filter, a->filter_len, b->filter, b->filter_len) &&
	       same_prog(a->exclude, a->exclude_len, b->exclude, b->exclude_len);
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
 * after it (or to the drop when invert), no match goes to the drop (or on). */
static int emit_inline(struct emit *e, const struct sock_filter *p, size_t len, int invert,
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
		if ((in.k != 0) != !invert)
			put_far(e, TO_DROP);
		else
			put(e, BPF_JMP | BPF_JA, 0, 0, (uint32_t)(start + len - (e->n + 1)));
	}
	return 0;
}

/* The random draw first: it is independent of the packet, so a matching
 * packet is still kept with probability 1/rate, and the filter and exclude
 * then run on one packet in rate instead of on every packet. */
static int emit_group(struct emit *e, const struct bpfprog_rule *r, uint32_t snaplen,
		      char *err, size_t errlen)
{
	if (r->rate > 1) {
		put(e, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_RANDOM));
		put(e, BPF_ALU | BPF_MOD | BPF_K, 0, 0, r->rate);
		/* 0, not 1: rate 1 would otherwise never match. */
		put(e, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0);
		put_far(e, TO_DROP);
	}
	if (r->filter && emit_inline(e, r->filter, r->filter_len, 0, err, errlen))
		return -1;
	if (r->exclude && emit_inline(e, r->exclude, r->exclude_len, 1, err, errlen))
		return -1;
	put(e, BPF_RET | BPF_K, 0, 0, snaplen);
	return 0;
}

static int check_rules(const struct bpfprog_rule *rules, size_t n, uint32_t snaplen,
		       char *err, size_t errlen)
{
	if (snaplen < 1) {
		snprintf(err, errlen, "snap length 0");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (rules[i].kindex <= 0 || rules[i].rate < 1) {
			snprintf(err, errlen, "rule %zu: kindex %d rate %u: kindex must be > 0 "
				 "and rate >= 1", i, rules[i].kindex, rules[i].rate);
			return -1;
		}
		if ((rules[i].filter && !rules[i].filter_len) ||
		    (rules[i].exclude && !rules[i].exclude_len)) {
			snprintf(err, errlen, "kindex %d: empty filter program", rules[i].kindex);
			return -1;
		}
	}
	return 0;
}

/* Groups the rules (the first rule of each group stands for it) and sorts
 * the keys; -1 on a duplicate kindex or no memory. */
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
		keys[i] = (struct key){ rules[i].kindex, g };
	}
	qsort(keys, n, sizeof *keys, cmp_key);
	for (i = 1; i < n; i++)
		if (keys[i].kindex == keys[i - 1].kindex) {
			snprintf(err, errlen, "kindex %d listed twice", keys[i].kindex);
			return -1;
		}
	return 0;
}

int bpfprog_build(const struct bpfprog_rule *rules, size_t n, uint32_t snaplen,
		  struct sock_filter **out, size_t *out_len, char *err, size_t errlen)
{
	struct emit e = { 0 };
	struct key *keys = NULL;
	size_t *reps = NULL, *gpc = NULL, ngroups = 0, drop, i;
	int rc = -1;

	if (check_rules(rules, n, snaplen, err, errlen))
		return -1;
	e.cap = HARD_CAP;
	e.v = calloc(e.cap, sizeof *e.v);
	keys = calloc(n ? n : 1, sizeof *keys);
	reps = calloc(n ? n : 1, sizeof *reps);
	gpc = calloc(n ? n : 1, sizeof *gpc);
	if (!e.v || !keys || !reps || !gpc) {
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
		gpc[i] = e.n;
		if (emit_group(&e, &rules[reps[i]], snaplen, err, errlen))
			goto out;
	}
	drop = e.n;
	put(&e, BPF_RET | BPF_K, 0, 0, 0);
	if (e.oom) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (e.n > BPF_MAXINSNS) {
		snprintf(err, errlen, "program too large: %zu instructions for %zu "
			 "interfaces in %zu groups of rate and filter (the kernel allows %d); "
			 "use fewer distinct rates or filters", e.n, n, ngroups, BPF_MAXINSNS);
		goto out;
	}
	for (i = 0; i < e.nfx; i++) {
		size_t to = e.fx[i].target == TO_DROP ? drop : gpc[e.fx[i].target];

		e.v[e.fx[i].pc].k = (uint32_t)(to - (e.fx[i].pc + 1));
	}
done:
	*out = realloc(e.v, e.n * sizeof *e.v);
	if (!*out)
		*out = e.v;
	e.v = NULL;
	*out_len = e.n;
	rc = 0;
out:
	free(e.v);
	free(e.fx);
	free(keys);
	free(reps);
	free(gpc);
	return rc;
}
