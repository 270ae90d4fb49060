/* THE interface table: builds rows from a netlink dump, the config and the
 * map, and publishes them as immutable reference-counted snapshots.
 *
 * Threading contract: the agent thread is the only writer (iftable_update)
 * and so may read t->cur without the lock; the sampler thread (and the agent
 * thread) read through iftable_acquire/iftable_release. The mutex covers only
 * "read the pointer and take a reference" and "swap the pointer"; the table
 * itself owns one reference to the current snapshot. Because a reference is
 * taken under the same mutex that guards the swap, the table's reference
 * cannot be dropped between a reader's pointer read and its increment. The
 * count is atomic because releases happen outside the mutex.
 *
 * Counters are not in the rows: table/counters.c keeps them, with a lock of
 * its own, and refreshing them never touches a snapshot. */
#include "table/iftable.h"
#include "base/refcount.h"
#include "table/counters.h"

#include <pthread.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"

struct iftable {
	pthread_mutex_t lock;
	struct if_snapshot *cur;  /* owned reference; NULL before the first update */
	uint64_t generation;
	struct ctr_store *ctrs;
};

/* A snapshot is allocated behind a header holding its reference count (the
 * public struct ends in a flexible array, so it cannot be embedded). */
struct snap_hdr {
	refcount_t refs;
};

#define HDR_SIZE ((sizeof(struct snap_hdr) + alignof(max_align_t) - 1) / \
		  alignof(max_align_t) * alignof(max_align_t))

static struct snap_hdr *snap_hdr(struct if_snapshot *s)
{
	return (struct snap_hdr *)(void *)((char *)s - HDR_SIZE);
}

static struct if_snapshot *snap_alloc(size_t n)
{
	char *p = malloc(HDR_SIZE + sizeof(struct if_snapshot) + n * sizeof(struct if_row));
	struct if_snapshot *s;

	if (!p)
		return NULL;
	refcount_init(&((struct snap_hdr *)(void *)p)->refs);
	s = (struct if_snapshot *)(void *)(p + HDR_SIZE);
	memset(s, 0, sizeof *s);
	s->n = n;
	return s;
}

static void snap_unref(struct if_snapshot *s)
{
	struct snap_hdr *h;

	if (!s)
		return;
	h = snap_hdr(s);
	if (refcount_put(&h->refs))
		free(h);
}

struct iftable *iftable_new(void)
{
	struct iftable *t = calloc(1, sizeof *t);

	if (!t)
		return NULL;
	t->ctrs = ctr_store_new();
	if (!t->ctrs || pthread_mutex_init(&t->lock, NULL) != 0) {
		ctr_store_free(t->ctrs);
		free(t);
		return NULL;
	}
	return t;
}

void iftable_free(struct iftable *t)
{
	if (!t)
		return;
	snap_unref(t->cur);
	ctr_store_free(t->ctrs);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

int iftable_counters(struct iftable *t, struct link_stats *ls, int kindex,
		     int64_t max_age_ms, struct if_counters *out, enum ctr_from *from)
{
	return ctr_store_get(t->ctrs, ls, kindex, max_age_ms, monotonic_ms(), out, from);
}

int iftable_counters_refresh(struct iftable *t, struct link_stats *ls)
{
	return ctr_store_refresh(t->ctrs, ls, monotonic_ms());
}

struct if_snapshot *iftable_acquire(struct iftable *t)
{
	struct if_snapshot *s;

	pthread_mutex_lock(&t->lock);
	s = t->cur;
	if (s)
		refcount_get(&snap_hdr(s)->refs);
	pthread_mutex_unlock(&t->lock);
	return s;
}

void iftable_release(struct iftable *t, struct if_snapshot *s)
{
	(void)t;
	snap_unref(s);
}

const struct if_row *snap_find(const struct if_snapshot *s, uint32_t ifindex)
{
	size_t lo = 0, hi = s ? s->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->rows[mid].ifindex == ifindex)
			return &s->rows[mid];
		if (s->rows[mid].ifindex < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct if_row *snap_next(const struct if_snapshot *s, uint32_t after)
{
	size_t lo = 0, hi = s ? s->n : 0;

	/* Lower bound of after + 1, without overflowing at UINT32_MAX. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->rows[mid].ifindex <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return s && lo < s->n ? &s->rows[lo] : NULL;
}

const struct if_row *snap_find_kindex(const struct if_snapshot *s, int kindex)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (s->rows[i].kindex == kindex)
			return &s->rows[i];
	return NULL;
}

const struct if_row *snap_find_name(const struct if_snapshot *s, const char *name)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (strcmp(s->rows[i].name, name) == 0)
			return &s->rows[i];
	return NULL;
}

/* The previous snapshot's rows by kernel ifindex: an update looks up every
 * link there, and a linear search per link made a 2000-link update cost
 * milliseconds. Without memory for the index, the linear search. */
struct prev_index {
	const struct if_snapshot *snap;
	const struct if_row **by_kindex;  /* sorted by kindex; NULL: linear */
};

static int cmp_row_kindex(const void *a, const void *b)
{
	const struct if_row *x = *(const struct if_row *const *)a;
	const struct if_row *y = *(const struct if_row *const *)b;

	return x->kindex < y->kindex ? -1 : x->kindex > y->kindex;
}

static void prev_index_init(struct prev_index *pi, const struct if_snapshot *prev)
{
	pi->snap = prev;
	pi->by_kindex = prev && prev->n ? malloc(prev->n * sizeof *pi->by_kindex) : NULL;
	if (!pi->by_kindex)
		return;
	for (size_t i = 0; i < prev->n; i++)
		pi->by_kindex[i] = &prev->rows[i];
	qsort(pi->by_kindex, prev->n, sizeof *pi->by_kindex, cmp_row_kindex);
}

static const struct if_row *prev_find_kindex(const struct prev_index *pi, int kindex)
{
	size_t lo = 0, hi;

	if (!pi->by_kindex)
		return snap_find_kindex(pi->snap, kindex);
	hi = pi->snap->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pi->by_kindex[mid]->kindex == kindex)
			return pi->by_kindex[mid];
		if (pi->by_kindex[mid]->kindex < kindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The previous row of the same link: same kernel ifindex and same name. */
static const struct if_row *prev_same_link(const struct prev_index *prev,
					   const struct kernel_link *l)
{
	const struct if_row *r = prev_find_kindex(prev, l->kindex);

	return r && strcmp(r->name, l->name) == 0 ? r : NULL;
}

/* Copies at most CFG_ALIAS_MAX bytes (ifAlias is SIZE(0..64)) without
 * cutting a UTF-8 sequence in half. */
static void copy_alias(char *dst, const char *src)
{
	size_t len = strlen(src);

	if (len > CFG_ALIAS_MAX) {
		len = CFG_ALIAS_MAX;
		while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void fill_row(struct if_row *r, const struct kernel_link *l, uint32_t served,
		     const struct config *cfg)
{
	const struct cfg_iface *ov = cfg ? config_iface(cfg, l->name) : NULL;

	memset(r, 0, sizeof *r);
	r->ifindex = served;
	r->kindex = l->kindex;
	hf_strlcpy(r->name, l->name, sizeof r->name);
	copy_alias(r->alias, ov && ov->has_alias ? ov->alias : l->alias);
	r->arphrd = l->arphrd;
	r->iftype = l->iftype;
	r->mtu = l->mtu;
	r->physlen = l->maclen <= sizeof r->phys ? l->maclen : sizeof r->phys;
	memcpy(r->phys, l->mac, r->physlen);
	r->admin = l->admin_up ? 1 : 2;
	r->oper = (uint8_t)l->oper;
	r->promisc = l->promisc ? 1 : 2;
	r->link_traps = config_link_notify(cfg, l->name) ? 1 : 2;
	r->speed_bps = ov && ov->has_speed ? ov->speed_bps : l->speed_bps;
	r->duplex = l->duplex;
}

/* Rows of the first update existed "before start": times 0. Later, a row
 * keeps its last change while its oper status holds, and its discontinuity
 * time while it keeps its served number. */
static void set_times(struct if_row *r, const struct prev_index *prev, int64_t now_ms)
{
	const struct if_row *p;

	if (!prev->snap)
		return;
	p = prev_find_kindex(prev, r->kindex);
	r->last_change_ms = p && p->oper == r->oper ? p->last_change_ms : now_ms;
	r->discontinuity_ms = p && p->ifindex == r->ifindex ? p->discontinuity_ms : now_ms;
}

static void warn_relocated(const struct ifmap_link *ml, const struct hf_ifmap *map,
			   const struct ifmap_link *all, size_t n)
{
	for (size_t i = 0; map && i < map->n; i++) {
		if (map->e[i].ifindex == (uint32_t)ml->kindex) {
			log_warn("iftable", "interface %s (kernel ifindex %d) served as ifIndex %u: "
				 "map entry %s (line %d) takes %d",
				 ml->name, ml->kindex, ml->served, map->e[i].name,
				 map->e[i].line, ml->kindex);
			return;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (all[i].served == (uint32_t)ml->kindex) {
			log_warn("iftable", "interface %s (kernel ifindex %d) served as ifIndex %u: "
				 "%d is served for %s", ml->name, ml->kindex,
				 ml->served, ml->kindex, all[i].name);
			return;
		}
	}
	log_warn("iftable", "interface %s (kernel ifindex %d) served as ifIndex %u",
		 ml->name, ml->kindex, ml->served);
}

static int cmp_row(const void *a, const void *b)
{
	const struct if_row *x = a, *y = b;

	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

/* Both sorted by ifindex: equal sets of served numbers? */
static int same_indices(const struct if_snapshot *a, const struct if_snapshot *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->rows[i].ifindex != b->rows[i].ifindex)
			return 0;
	return 1;
}

static void assign(const struct prev_index *prev, const struct kernel_link *links,
		   size_t n, const struct hf_ifmap *map, struct ifmap_link *ml)
{
	for (size_t i = 0; i < n; i++) {
		const struct if_row *p = prev_same_link(prev, &links[i]);

		ml[i].kindex = links[i].kindex;
		ml[i].name = links[i].name;
		ml[i].prev = p ? p->ifindex : 0;
		ml[i].served = 0;
		ml[i].relocated = 0;
	}
	ifmap_assign(map, ml, n);
	for (size_t i = 0; i < n; i++) {
		const struct if_row *p = prev_same_link(prev, &links[i]);

		if (ml[i].relocated && (!p || p->ifindex != ml[i].served))
			warn_relocated(&ml[i], map, ml, n);
	}
}

static void publish(struct iftable *t, struct if_snapshot *s)
{
	struct if_snapshot *old;

	pthread_mutex_lock(&t->lock);
	old = t->cur;
	t->cur = s;
	pthread_mutex_unlock(&t->lock);
	snap_unref(old);
}

int iftable_update(struct iftable *t, const struct kernel_link *links, size_t n,
		   const struct config *cfg, const struct hf_ifmap *map, int64_t now_ms)
{
	const struct if_snapshot *prev = t->cur; /* only this thread writes it */
	struct ifmap_link *ml = calloc(n ? n : 1, sizeof *ml);
	struct if_snapshot *s = snap_alloc(n);
	struct prev_index pi;

	if (!ml || !s) {
		free(ml);
		snap_unref(s);
		log_err("iftable", "out of memory building %zu rows", n);
		return -1;
	}
	prev_index_init(&pi, prev);
	assign(&pi, links, n, map, ml);
	s->n = 0;
	for (size_t i = 0; i < n; i++) {
		/* 0: ifmap_assign could not number it (out of memory) */
		if (!ml[i].served)
			continue;
		fill_row(&s->rows[s->n], &links[i], ml[i].served, cfg);
		set_times(&s->rows[s->n], &pi, now_ms);
		s->n++;
	}
	free(pi.by_kindex);
	free(ml);
	qsort(s->rows, s->n, sizeof s->rows[0], cmp_row);
	s->generation = ++t->generation;
	if (prev)
		s->table_change_ms = same_indices(prev, s) ? prev->table_change_ms : now_ms;
	publish(t, s);
	return 0;
}
