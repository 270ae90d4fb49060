/* The routing mirror's links (see fib_int.h): names, flags and groups
 * the rules and suppressors read, the IPv4 switches, which links hold IPv4
 * addresses and the addresses themselves (the reverse-path check). */
#include "sflow/core/fib_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

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

const struct fib_link *fib_link_find(const struct fib *f, int kindex)
{
	size_t i = link_pos(f, kindex);

	return i < f->nlink && f->link[i].kindex == kindex ? &f->link[i] : NULL;
}

/* The record of kindex, made when missing (a netconf message may come
 * before its link's). NULL when out of memory. */
struct fib_link *fib_link_get(struct fib *f, int kindex)
{
	size_t i = link_pos(f, kindex);

	if (i < f->nlink && f->link[i].kindex == kindex)
		return &f->link[i];
	if (hf_grow(&f->link, f->nlink, &f->caplink, sizeof *f->link, 16) < 0)
		return NULL;
	memmove(&f->link[i + 1], &f->link[i], (f->nlink - i) * sizeof *f->link);
	memset(&f->link[i], 0, sizeof f->link[i]);
	f->link[i].kindex = kindex;
	f->link[i].forwarding = f->link[i].rp_filter = -1;
	f->nlink++;
	return &f->link[i];
}

void fib_link_set(struct fib *f, int kindex, const char *name, unsigned flags, uint32_t group)
{
	struct fib_link *l = fib_link_get(f, kindex);

	if (!l)
		return;
	memset(l->name, 0, sizeof l->name);
	hf_strlcpy(l->name, name ? name : "", sizeof l->name);
	l->flags = flags;
	l->group = group;
	fib_changed(f);
}

int fib_link_known(const struct fib *f, int kindex)
{
	const struct fib_link *l = fib_link_find(f, kindex);

	return l && l->name[0];
}

int fib_link_info(const struct fib *f, int kindex, char *name, size_t len, unsigned *flags)
{
	const struct fib_link *l = fib_link_find(f, kindex);

	if (!l || !l->name[0])
		return 0;
	hf_strlcpy(name, l->name, len);
	*flags = l->flags;
	return 1;
}

void fib_link_del(struct fib *f, int kindex)
{
	size_t i = link_pos(f, kindex);

	if (i >= f->nlink || f->link[i].kindex != kindex)
		return;
	memmove(&f->link[i], &f->link[i + 1], (f->nlink - i - 1) * sizeof *f->link);
	f->nlink--;
	fib_changed(f);
}

void fib_set_v4_conf(struct fib *f, int kindex, int accept_local, int route_localnet)
{
	struct fib_link *l = kindex ? fib_link_get(f, kindex) : &f->all;

	if (!l)
		return;
	l->accept_local = accept_local;
	l->route_localnet = route_localnet;
	fib_changed(f);
}

static size_t local_pos(const struct fib *f, uint32_t a, int kindex)
{
	size_t lo = 0, hi = f->nlocal;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct fib_v4local *x = &f->local[mid];

		if (x->a < a || (x->a == a && x->kindex < kindex))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void fib_local_add(struct fib *f, uint32_t a, int kindex)
{
	size_t i = local_pos(f, a, kindex);
	struct fib_link *l;

	if (i < f->nlocal && f->local[i].a == a && f->local[i].kindex == kindex)
		return;
	if (hf_grow(&f->local, f->nlocal, &f->caplocal, sizeof *f->local, 16) < 0)
		return;
	memmove(&f->local[i + 1], &f->local[i], (f->nlocal - i) * sizeof *f->local);
	f->local[i].a = a;
	f->local[i].kindex = kindex;
	f->nlocal++;
	l = fib_link_get(f, kindex);
	if (l)
		l->v4addrs++;
}

void fib_local_del(struct fib *f, uint32_t a, int kindex)
{
	size_t i = local_pos(f, a, kindex);
	struct fib_link *l;

	if (i >= f->nlocal || f->local[i].a != a || f->local[i].kindex != kindex)
		return;
	memmove(&f->local[i], &f->local[i + 1], (f->nlocal - i - 1) * sizeof *f->local);
	f->nlocal--;
	l = fib_link_get(f, kindex);
	if (l && l->v4addrs)
		l->v4addrs--;
}

/* inet_lookup_ifaddr_rcu: a local IPv4 address of any interface. */
int fib_is_local4(const struct fib *f, uint32_t a)
{
	size_t i = local_pos(f, a, -1);

	return i < f->nlocal && f->local[i].a == a;
}
