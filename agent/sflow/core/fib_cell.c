/* The cells (see fib.h): the address space cut at the edges of every
 * prefix a route, a rule, a local address or a special range has; and the
 * generation, which IPv6 expiry moves too. */
#include "sflow/core/fib_int.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>

static int edge_cmp(const void *x, const void *y)
{
	return memcmp(x, y, 16);
}

static int edge_push(struct fib_family *fa, const uint8_t *a)
{
	if (hf_grow(&fa->edge, fa->nedge, &fa->capedge, sizeof *fa->edge, 64) < 0)
		return -1;
	memcpy(fa->edge[fa->nedge++], a, 16);
	return 0;
}

/* The prefix's first address and the one after its last (none past the end). */
static int edges_of(struct fib_family *fa, const uint8_t *p, unsigned len)
{
	uint8_t start[16], end[16];
	unsigned carry;
	int byte;

	fib_mask_into(start, p, len, fa->alen);
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
static int special_edges(struct fib_family *fa)
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

static int rebuild_edges(struct fib *f, struct fib_family *fa)
{
	size_t k = 0;

	fa->nedge = 0;
	if (edge_push(fa, (const uint8_t[16]){ 0 }) < 0 || special_edges(fa) < 0)
		return -1;
	for (size_t i = 0; i < fa->nbuckets; i++)
		for (const struct fib_entry *e = fa->bucket[i]; e; e = e->next)
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
	struct fib_family *fa = fib_fam(f, family);
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
		struct fib_family *fa = &f->fam[1];

		for (size_t i = 0; i < fa->nbuckets; i++)
			for (const struct fib_entry *e = fa->bucket[i]; e; e = e->next)
				if (e->expires_ms > now && (!next || e->expires_ms < next))
					next = e->expires_ms;
		f->next_expiry_ms = next;
		fib_changed(f);
	}
	return f->generation;
}
