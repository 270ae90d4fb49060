/* The table's counter store (counters.h): a sorted array of per-link
 * entries under one mutex, held for a lookup and a copy, or for one merge
 * of a dump (O(links), a few microseconds at a thousand). Kernel reads
 * happen outside the lock. */
#include "table/counters.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

struct ctr_entry {
	int kindex;
	uint64_t first, last;     /* tickets before and after the read */
	int64_t read_ms;          /* when the read began */
	struct if_counters c;
};

/* A growable array of entries, sorted by kindex. */
struct ctr_vec {
	struct ctr_entry *e;
	size_t n, cap;
};

struct ctr_store {
	pthread_mutex_t lock;
	struct ctr_vec cur;       /* under lock */
	/* The refresher's own buffers (one refresh at a time: the agent
	 * thread's), reused so that a refresh allocates nothing once grown. */
	struct ctr_vec in, spare;
	bool failing;             /* the last refresh failed (logged once) */
	atomic_uint_fast64_t tickets;
};

static int vec_reserve(struct ctr_vec *v, size_t n)
{
	struct ctr_entry *e;
	size_t cap = v->cap ? v->cap : 64;

	if (n <= v->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	e = realloc(v->e, cap * sizeof *e);
	if (!e)
		return -1;
	v->e = e;
	v->cap = cap;
	return 0;
}

/* Position of kindex in v, or where it would go. */
static size_t vec_pos(const struct ctr_vec *v, int kindex, bool *found)
{
	size_t lo = 0, hi = v->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->e[mid].kindex == kindex) {
			*found = true;
			return mid;
		}
		if (v->e[mid].kindex < kindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

struct ctr_store *ctr_store_new(void)
{
	struct ctr_store *cs = calloc(1, sizeof *cs);

	if (!cs)
		return NULL;
	if (pthread_mutex_init(&cs->lock, NULL) != 0) {
		free(cs);
		return NULL;
	}
	atomic_init(&cs->tickets, 1);
	return cs;
}

void ctr_store_free(struct ctr_store *cs)
{
	if (!cs)
		return;
	free(cs->cur.e);
	free(cs->in.e);
	free(cs->spare.e);
	pthread_mutex_destroy(&cs->lock);
	free(cs);
}

uint64_t ctr_store_ticket(struct ctr_store *cs)
{
	return atomic_fetch_add(&cs->tickets, 1);
}

size_t ctr_store_size(struct ctr_store *cs)
{
	size_t n;

	pthread_mutex_lock(&cs->lock);
	n = cs->cur.n;
	pthread_mutex_unlock(&cs->lock);
	return n;
}

/* The rule: a reading that began after the held one ended replaces it. */
static bool newer(const struct ctr_entry *held, uint64_t first)
{
	return first > held->last;
}

void ctr_store_put(struct ctr_store *cs, int kindex, uint64_t first, uint64_t last,
		   int64_t read_ms, const struct if_counters *c, struct if_counters *out)
{
	struct ctr_entry e = { kindex, first, last, read_ms, *c };
	struct ctr_vec *v = &cs->cur;
	bool found;
	size_t i;

	pthread_mutex_lock(&cs->lock);
	i = vec_pos(v, kindex, &found);
	if (found) {
		if (newer(&v->e[i], first))
			v->e[i] = e;
		*out = v->e[i].c;
	} else {
		/* Without memory the reading is served but not kept. */
		if (vec_reserve(v, v->n + 1) == 0) {
			memmove(&v->e[i + 1], &v->e[i], (v->n - i) * sizeof *v->e);
			v->e[i] = e;
			v->n++;
		}
		*out = *c;
	}
	pthread_mutex_unlock(&cs->lock);
}

int ctr_store_get(struct ctr_store *cs, struct link_stats *ls, int kindex,
		  int64_t max_age_ms, int64_t now_ms, struct if_counters *out,
		  enum ctr_from *from)
{
	struct if_counters c;
	uint64_t first, last;
	bool found;
	size_t i;
	int rc = -1;

	pthread_mutex_lock(&cs->lock);
	i = vec_pos(&cs->cur, kindex, &found);
	if (found && now_ms - cs->cur.e[i].read_ms <= max_age_ms) {
		*out = cs->cur.e[i].c;
		rc = 0;
	}
	pthread_mutex_unlock(&cs->lock);
	if (from)
		*from = CTR_FROM_STORE;
	if (rc == 0)
		return 0;
	first = ctr_store_ticket(cs);
	if (link_stats_read(ls, kindex, &c) == 0) {
		last = ctr_store_ticket(cs);
		ctr_store_put(cs, kindex, first, last, now_ms, &c, out);
		if (from)
			*from = CTR_FROM_KERNEL;
		return 0;
	}
	/* The kernel no longer knows the link: its last counters stand until
	 * its row goes (a link event is on its way). */
	pthread_mutex_lock(&cs->lock);
	i = vec_pos(&cs->cur, kindex, &found);
	if (found) {
		*out = cs->cur.e[i].c;
		rc = 0;
	}
	pthread_mutex_unlock(&cs->lock);
	return rc;
}

struct collecting {
	struct ctr_vec *in;
	bool short_of_memory;
};

static void collect(void *ctx, int kindex, const struct if_counters *c)
{
	struct collecting *k = ctx;
	struct ctr_vec *in = k->in;

	if (vec_reserve(in, in->n + 1) < 0) {
		k->short_of_memory = true;
		return;
	}
	in->e[in->n].kindex = kindex;
	in->e[in->n].c = *c;
	in->n++;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct ctr_entry *x = a, *y = b;

	return x->kindex < y->kindex ? -1 : x->kindex > y->kindex;
}

static bool sorted(const struct ctr_vec *v)
{
	for (size_t i = 1; i < v->n; i++)
		if (v->e[i - 1].kindex >= v->e[i].kindex)
			return false;
	return true;
}

/* out = cur merged with in (sorted, stamped first..last): in's entries
 * unless cur holds one not older; cur's entries in does not list are kept
 * only when read during the dump (a link the dump did not see yet). */
static void merge(const struct ctr_vec *cur, const struct ctr_vec *in, uint64_t first,
		  struct ctr_vec *out)
{
	size_t i = 0, j = 0;

	out->n = 0;
	while (i < cur->n || j < in->n) {
		const struct ctr_entry *o = i < cur->n ? &cur->e[i] : NULL;
		const struct ctr_entry *d = j < in->n ? &in->e[j] : NULL;

		if (o && (!d || o->kindex < d->kindex)) {
			if (!newer(o, first))
				out->e[out->n++] = *o;
			i++;
		} else if (d && (!o || d->kindex < o->kindex)) {
			out->e[out->n++] = *d;
			j++;
		} else {
			out->e[out->n++] = newer(o, first) ? *d : *o;
			i++;
			j++;
		}
	}
}

int ctr_store_refresh(struct ctr_store *cs, struct link_stats *ls, int64_t now_ms)
{
	struct collecting k = { &cs->in, false };
	struct ctr_vec tmp;
	uint64_t first, last;
	size_t need;
	int rc;

	cs->in.n = 0;
	first = ctr_store_ticket(cs);
	rc = link_stats_dump(ls, collect, &k);
	last = ctr_store_ticket(cs);
	if (rc < 0 || k.short_of_memory) {
		/* Nothing merged: a partial list would forget the links it
		 * misses. Requests read link by link meanwhile. */
		if (!cs->failing)
			log_warn("table", "counter dump %s; counters are read link by link",
				 rc < 0 ? "failed" : "ran out of memory");
		cs->failing = true;
		return -1;
	}
	if (cs->failing)
		log_info("table", "counter dumps work again");
	cs->failing = false;
	if (!sorted(&cs->in))
		qsort(cs->in.e, cs->in.n, sizeof *cs->in.e, cmp_entry);
	for (size_t i = 0; i < cs->in.n; i++) {
		cs->in.e[i].first = first;
		cs->in.e[i].last = last;
		cs->in.e[i].read_ms = now_ms;
	}
	pthread_mutex_lock(&cs->lock);
	need = cs->cur.n + cs->in.n;
	if (vec_reserve(&cs->spare, need) < 0) {
		pthread_mutex_unlock(&cs->lock);
		return -1;   /* the next refresh tries again; requests read link by link */
	}
	merge(&cs->cur, &cs->in, first, &cs->spare);
	tmp = cs->cur;
	cs->cur = cs->spare;
	cs->spare = tmp;
	pthread_mutex_unlock(&cs->lock);
	return 0;
}
