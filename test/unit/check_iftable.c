/* THE interface table, with synthetic links: numbering, overrides, change
 * times, lookups, snapshot lifetime and concurrent readers; its counters,
 * apart from the rows: what a refresh leaves alone, the staleness bound,
 * and that counters never go back. */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "table/counters.h"
#include "table/iftable.h"
#include "base/util.h"
#include "hf_check.h"

static struct kernel_link mk(int kindex, const char *name)
{
	struct kernel_link l;

	memset(&l, 0, sizeof l);
	l.kindex = kindex;
	snprintf(l.name, sizeof l.name, "%s", name);
	l.arphrd = 1;
	l.iftype = 6;
	l.mtu = 1500;
	l.maclen = 6;
	l.mac[5] = (uint8_t)kindex;
	l.admin_up = 1;
	l.oper = 1;
	l.speed_bps = 1000000000ull;
	return l;
}

static int rows_sorted_unique(const struct if_snapshot *s)
{
	for (size_t i = 1; i < s->n; i++)
		if (s->rows[i - 1].ifindex >= s->rows[i].ifindex)
			return 0;
	return 1;
}

/* Runs one update and returns the published snapshot (caller releases). */
static struct if_snapshot *update(struct iftable *t, const struct kernel_link *l, size_t n,
				  const struct config *cfg, const struct hf_ifmap *map,
				  int64_t now)
{
	ck_assert_int_eq(iftable_update(t, l, n, cfg, map, now), 0);
	return iftable_acquire(t);
}

/* Captures what log_warn writes to stderr during fn. */
struct capture {
	int saved;
	FILE *f;
};

static void capture_start(struct capture *c)
{
	fflush(stderr);
	c->f = tmpfile();
	ck_assert_ptr_nonnull(c->f);
	c->saved = dup(2);
	dup2(fileno(c->f), 2);
}

static char *capture_end(struct capture *c)
{
	static char buf[8192];
	size_t n;

	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	rewind(c->f);
	n = fread(buf, 1, sizeof buf - 1, c->f);
	buf[n] = '\0';
	fclose(c->f);
	return buf;
}

START_TEST(test_empty)
{
	struct iftable *t = iftable_new();
	struct if_snapshot *s;

	ck_assert_ptr_null(iftable_acquire(t));
	s = update(t, NULL, 0, NULL, NULL, 5);
	ck_assert_uint_eq(s->n, 0);
	ck_assert_ptr_null(snap_next(s, 0));
	ck_assert_ptr_null(snap_find(s, 1));
	iftable_release(t, s);
	iftable_free(t);
}
END_TEST

START_TEST(test_sorted_by_served_index)
{
	struct ifmap_entry e[] = { { 100, "eth0", 1 }, { 50, "wg0", 2 } };
	struct hf_ifmap map = { e, 2 };
	struct kernel_link l[] = { mk(1, "lo"), mk(2, "eth0"), mk(3, "wg0"), mk(4, "veth0") };
	struct iftable *t = iftable_new();
	struct if_snapshot *s = update(t, l, 4, NULL, &map, 10);

	ck_assert_uint_eq(s->n, 4);
	ck_assert(rows_sorted_unique(s));
	ck_assert_uint_eq(s->rows[0].ifindex, 1);
	ck_assert_uint_eq(s->rows[1].ifindex, 4);
	ck_assert_uint_eq(s->rows[2].ifindex, 50);
	ck_assert_str_eq(s->rows[2].name, "wg0");
	ck_assert_uint_eq(s->rows[3].ifindex, 100);
	ck_assert_str_eq(s->rows[3].name, "eth0");
	ck_assert_int_eq(snap_find(s, 100)->kindex, 2);
	ck_assert_ptr_null(snap_find(s, 2));
	ck_assert_uint_eq(snap_find_kindex(s, 3)->ifindex, 50);
	ck_assert_uint_eq(snap_find_name(s, "eth0")->ifindex, 100);
	ck_assert_ptr_null(snap_find_name(s, "nope"));
	ck_assert_ptr_null(snap_find_kindex(s, 99));
	ck_assert_uint_eq(s->generation, 1);
	iftable_release(t, s);
	iftable_free(t);
}
END_TEST

START_TEST(test_relocation_warns_once_and_sticks)
{
	/* The map gives eth0 number 3, the kernel ifindex of veth0. */
	struct ifmap_entry e[] = { { 3, "eth0", 7 } };
	struct hf_ifmap map = { e, 1 };
	struct kernel_link l[] = { mk(1, "lo"), mk(2, "eth0"), mk(3, "veth0") };
	struct iftable *t = iftable_new();
	struct capture c;
	struct if_snapshot *s;
	uint32_t moved;
	char *out;

	capture_start(&c);
	s = update(t, l, 3, NULL, &map, 10);
	out = capture_end(&c);
	ck_assert_uint_eq(snap_find_name(s, "eth0")->ifindex, 3);
	moved = snap_find_name(s, "veth0")->ifindex;
	ck_assert_uint_ne(moved, 3);
	ck_assert_uint_ne(moved, 1);
	ck_assert(rows_sorted_unique(s));
	ck_assert_ptr_nonnull(strstr(out, "veth0"));
	ck_assert_ptr_nonnull(strstr(out, "kernel ifindex 3"));
	ck_assert_ptr_nonnull(strstr(out, "line 7"));
	ck_assert_ptr_null(strstr(out, "interface eth0"));
	ck_assert_ptr_nonnull(strstr(out, "map entry eth0"));
	iftable_release(t, s);

	/* Same links again: same numbers, no second warning. */
	capture_start(&c);
	s = update(t, l, 3, NULL, &map, 20);
	out = capture_end(&c);
	ck_assert_uint_eq(snap_find_name(s, "veth0")->ifindex, moved);
	ck_assert_ptr_null(strstr(out, "veth0"));
	iftable_release(t, s);
	iftable_free(t);
}
END_TEST

START_TEST(test_sticky_against_newcomer)
{
	/* veth0 is relocated to some number N; a link created later whose
	 * kernel ifindex is N must not take N away from it. */
	struct ifmap_entry e[] = { { 3, "eth0", 1 } };
	struct hf_ifmap map = { e, 1 };
	struct kernel_link l[4] = { mk(1, "lo"), mk(3, "veth0"), mk(10, "eth0") };
	struct iftable *t = iftable_new();
	struct if_snapshot *s = update(t, l, 3, NULL, &map, 10);
	uint32_t moved = snap_find_name(s, "veth0")->ifindex;

	iftable_release(t, s);
	ck_assert_uint_ne(moved, 3);
	if (moved == 10)
		return; /* no free kernel ifindex to collide with */
	l[3] = mk((int)moved, "newcomer");
	s = update(t, l, 4, NULL, &map, 20);
	ck_assert_uint_eq(snap_find_name(s, "veth0")->ifindex, moved);
	ck_assert_uint_eq(snap_find_name(s, "eth0")->ifindex, 3);
	ck_assert_uint_ne(snap_find_name(s, "newcomer")->ifindex, moved);
	ck_assert_uint_eq(s->n, 4);
	ck_assert(rows_sorted_unique(s));
	iftable_release(t, s);
	iftable_free(t);
}
END_TEST

START_TEST(test_overrides_and_alias)
{
	struct cfg_iface ov[] = { { .name = "tailscale0", .has_alias = 1,
				    .alias = "Transit: tailnet", .has_speed = 1,
				    .speed_bps = 100000000ull, .line = 4 } };
	struct cfg_pattern ln[] = { { .name = "tail*", .line = 5 } };
	struct config cfg;
	struct kernel_link l[] = { mk(1, "lo"), mk(2, "eth0"), mk(5, "tailscale0") };
	struct iftable *t = iftable_new();
	struct if_snapshot *s;
	const struct if_row *r;

	memset(&cfg, 0, sizeof cfg);
	cfg.ifaces = ov;
	cfg.n_ifaces = 1;
	cfg.link_notify = ln;
	cfg.n_link_notify = 1;
	snprintf(l[2].alias, sizeof l[2].alias, "kernel alias");
	memset(l[1].alias, 'a', 100);
	l[1].alias[100] = '\0';
	l[0].admin_up = 0;
	l[0].oper = 2;
	l[0].promisc = 1;
	s = update(t, l, 3, &cfg, NULL, 10);
	r = snap_find(s, 5);
	ck_assert_str_eq(r->alias, "Transit: tailnet");
	ck_assert_uint_eq(r->speed_bps, 100000000ull);
	ck_assert_uint_eq(r->link_traps, 1);    /* link_notifications tail* */
	r = snap_find(s, 2);
	ck_assert_uint_eq(r->link_traps, 2);
	ck_assert_uint_eq(strlen(r->alias), CFG_ALIAS_MAX);
	ck_assert_uint_eq(r->speed_bps, 1000000000ull);
	ck_assert_uint_eq(r->admin, 1);
	ck_assert_uint_eq(r->promisc, 2);
	ck_assert_uint_eq(r->physlen, 6);
	ck_assert_uint_eq(r->phys[5], 2);
	r = snap_find(s, 1);
	ck_assert_uint_eq(r->admin, 2);
	ck_assert_uint_eq(r->oper, 2);
	ck_assert_uint_eq(r->promisc, 1);
	iftable_release(t, s);

	/* Truncation does not split a UTF-8 sequence: 63 bytes + "é". */
	memset(l[1].alias, 'b', 63);
	strcpy(l[1].alias + 63, "\xc3\xa9");
	s = update(t, l, 3, NULL, NULL, 20);
	ck_assert_uint_eq(strlen(snap_find(s, 2)->alias), 63);
	ck_assert_str_eq(snap_find(s, 5)->alias, "kernel alias");
	ck_assert_uint_eq(snap_find(s, 5)->speed_bps, 1000000000ull);
	ck_assert_uint_eq(snap_find(s, 5)->link_traps, 2);    /* no config: none */
	iftable_release(t, s);
	iftable_free(t);
}
END_TEST

START_TEST(test_change_times)
{
	struct kernel_link l[] = { mk(1, "lo"), mk(2, "eth0"), mk(3, "veth0") };
	struct iftable *t = iftable_new();
	struct if_snapshot *s = update(t, l, 2, NULL, NULL, 1000);

	ck_assert_int_eq(s->table_change_ms, 0);
	ck_assert_int_eq(snap_find(s, 2)->last_change_ms, 0);
	ck_assert_int_eq(snap_find(s, 2)->discontinuity_ms, 0);
	iftable_release(t, s);

	/* Nothing changed: everything carried over. */
	s = update(t, l, 2, NULL, NULL, 2000);
	ck_assert_int_eq(s->table_change_ms, 0);
	ck_assert_int_eq(snap_find(s, 2)->last_change_ms, 0);
	iftable_release(t, s);

	/* eth0 goes down, veth0 appears. */
	l[1].oper = 2;
	s = update(t, l, 3, NULL, NULL, 3000);
	ck_assert_int_eq(s->table_change_ms, 3000);
	ck_assert_int_eq(snap_find(s, 1)->last_change_ms, 0);
	ck_assert_int_eq(snap_find(s, 1)->discontinuity_ms, 0);
	ck_assert_int_eq(snap_find(s, 2)->last_change_ms, 3000);
	ck_assert_int_eq(snap_find(s, 2)->discontinuity_ms, 0);
	ck_assert_int_eq(snap_find(s, 3)->last_change_ms, 3000);
	ck_assert_int_eq(snap_find(s, 3)->discontinuity_ms, 3000);
	iftable_release(t, s);

	/* Same set, another MTU: all times kept. */
	l[2].mtu = 9000;
	s = update(t, l, 3, NULL, NULL, 4000);
	ck_assert_int_eq(s->table_change_ms, 3000);
	ck_assert_int_eq(snap_find(s, 2)->last_change_ms, 3000);
	ck_assert_int_eq(snap_find(s, 3)->discontinuity_ms, 3000);
	ck_assert_uint_eq(snap_find(s, 3)->mtu, 9000);
	ck_assert_uint_eq(s->generation, 4);
	iftable_release(t, s);

	/* veth0 removed: the set changed. */
	s = update(t, l, 2, NULL, NULL, 5000);
	ck_assert_int_eq(s->table_change_ms, 5000);
	ck_assert_uint_eq(s->n, 2);
	iftable_release(t, s);
	iftable_free(t);
}
END_TEST

START_TEST(test_served_number_change_is_discontinuity)
{
	struct ifmap_entry e[] = { { 40, "eth0", 1 } };
	struct hf_ifmap map = { e, 1 };
	struct kernel_link l[] = { mk(1, "lo"), mk(2, "eth1") };
	struct iftable *t = iftable_new();
	struct if_snapshot *s = update(t, l, 2, NULL, &map, 1000);

	ck_assert_uint_eq(snap_find_kindex(s, 2)->ifindex, 2);
	iftable_release(t, s);
	/* Renamed to a name the map lists: (kindex, name) is new, so the map
	 * applies and the counters restart under a new number. */
	snprintf(l[1].name, sizeof l[1].name, "eth0");
	s = update(t, l, 2, NULL, &map, 3000);
	ck_assert_uint_eq(snap_find_kindex(s, 2)->ifindex, 40);
	ck_assert_int_eq(snap_find_kindex(s, 2)->discontinuity_ms, 3000);
	ck_assert_int_eq(snap_find_kindex(s, 2)->last_change_ms, 0);
	ck_assert_int_eq(s->table_change_ms, 3000);
	ck_assert_int_eq(snap_find(s, 1)->discontinuity_ms, 0);
	iftable_release(t, s);
	iftable_free(t);
}
END_TEST

START_TEST(test_snap_next_edges)
{
	struct ifmap_entry e[] = { { 7, "c", 1 } };
	struct hf_ifmap map = { e, 1 };
	struct kernel_link l[] = { mk(1, "a"), mk(3, "b"), mk(4, "c") };
	struct iftable *t = iftable_new();
	struct if_snapshot *s = update(t, l, 3, NULL, &map, 1);

	ck_assert_uint_eq(snap_next(s, 0)->ifindex, 1);
	ck_assert_uint_eq(snap_next(s, 1)->ifindex, 3);
	ck_assert_uint_eq(snap_next(s, 2)->ifindex, 3);
	ck_assert_uint_eq(snap_next(s, 6)->ifindex, 7);
	ck_assert_ptr_null(snap_next(s, 7));
	ck_assert_ptr_null(snap_next(s, 1000));
	ck_assert_ptr_null(snap_next(s, UINT32_MAX));
	ck_assert_ptr_null(snap_find(s, 0));
	ck_assert_ptr_null(snap_find(s, 4));
	ck_assert_ptr_null(snap_find(s, UINT32_MAX));
	ck_assert_str_eq(snap_find(s, 7)->name, "c");
	iftable_release(t, s);
	iftable_free(t);
}
END_TEST

START_TEST(test_old_snapshot_survives_update)
{
	struct kernel_link l[] = { mk(1, "lo"), mk(2, "eth0") };
	struct iftable *t = iftable_new();
	struct if_snapshot *old = update(t, l, 2, NULL, NULL, 1), *cur;
	struct if_row copy = old->rows[1];

	for (int i = 0; i < 5; i++) {
		l[1].mtu = 9000;
		ck_assert_int_eq(iftable_update(t, l, 2 - (i & 1), NULL, NULL, 10 + i), 0);
	}
	cur = iftable_acquire(t);
	ck_assert_ptr_ne(cur, old);
	ck_assert_uint_eq(cur->generation, 6);
	ck_assert_uint_eq(old->generation, 1);
	ck_assert_uint_eq(old->n, 2);
	ck_assert_mem_eq(&old->rows[1], &copy, sizeof copy);
	ck_assert_uint_eq(old->rows[1].mtu, 1500);
	/* The table still holds cur; freeing the table with old still held
	 * must leave old readable (it is reference-counted on its own). */
	iftable_release(t, cur);
	iftable_free(t);
	ck_assert_uint_eq(old->rows[1].mtu, 1500);
	iftable_release(NULL, old);
}
END_TEST

START_TEST(test_acquire_counts)
{
	struct kernel_link l[] = { mk(1, "lo") };
	struct iftable *t = iftable_new();
	struct if_snapshot *a, *b, *c;

	ck_assert_int_eq(iftable_update(t, l, 1, NULL, NULL, 1), 0);
	a = iftable_acquire(t);
	b = iftable_acquire(t);
	ck_assert_ptr_eq(a, b);
	iftable_release(t, a);
	ck_assert_int_eq(iftable_update(t, l, 1, NULL, NULL, 2), 0);
	/* b still holds the first snapshot: readable after the swap. */
	ck_assert_uint_eq(b->generation, 1);
	ck_assert_str_eq(b->rows[0].name, "lo");
	c = iftable_acquire(t);
	ck_assert_uint_eq(c->generation, 2);
	iftable_release(t, b);
	iftable_release(t, c);
	iftable_free(t);
}
END_TEST

/* Concurrency: the writer publishes generation g with 1 + g % 13 rows whose
 * mtu is g; a reader must always see a whole, sorted snapshot. The reads
 * must happen while the writer writes: every RACE_STEP generations the
 * writer waits until the reader has seen its latest one, so the reader
 * reads in at least RACE_GENS / RACE_STEP rounds spread over the writes,
 * and the test counts them. */
#define RACE_GENS 1000
#define RACE_STEP 50
#define RACE_WAIT_MS 10000  /* a stalled partner fails the test, never hangs it */

struct race {
	struct iftable *t;
	atomic_int done;
	atomic_uint seen;         /* the newest generation the reader saw */
	atomic_int stalled;
	long reads;
	unsigned distinct;        /* generations the reader saw, counted once each */
	int bad;
};

static void *writer(void *arg)
{
	struct race *r = arg;
	struct kernel_link l[13];

	for (int g = 1; g <= RACE_GENS; g++) {
		size_t n = 1 + (size_t)g % 13;

		for (size_t i = 0; i < n; i++) {
			char name[IFNAMSIZ];

			snprintf(name, sizeof name, "if%zu", i);
			l[i] = mk((int)(i * 2 + 1), name);
			l[i].mtu = (uint32_t)g;
		}
		if (iftable_update(r->t, l, n, NULL, NULL, g) != 0)
			r->bad = 1;
		if (g % RACE_STEP == 0) {
			int64_t deadline = monotonic_ms() + RACE_WAIT_MS;

			while (atomic_load(&r->seen) < (unsigned)g) {
				if (monotonic_ms() > deadline) {
					atomic_store(&r->stalled, 1);
					break;
				}
				sched_yield();
			}
		}
	}
	atomic_store(&r->done, 1);
	return NULL;
}

static void *reader(void *arg)
{
	struct race *r = arg;
	int64_t deadline = monotonic_ms() + 6 * RACE_WAIT_MS;
	unsigned last = 0;

	while (!atomic_load(&r->done)) {
		struct if_snapshot *s = iftable_acquire(r->t);

		if (monotonic_ms() > deadline) {
			atomic_store(&r->stalled, 1);
			if (s)
				iftable_release(r->t, s);
			break;
		}
		if (!s) {
			sched_yield();
			continue;
		}
		r->reads++;
		if (s->n != 1 + s->generation % 13 || !rows_sorted_unique(s))
			r->bad = 1;
		for (size_t k = 0; k < s->n; k++)
			if (s->rows[k].mtu != s->generation)
				r->bad = 1;
		if (s->generation < last)
			r->bad = 1;   /* published snapshots never go back */
		if (s->generation != last)
			r->distinct++;
		last = (unsigned)s->generation;
		atomic_store(&r->seen, last);
		iftable_release(r->t, s);
	}
	return NULL;
}

START_TEST(test_concurrent_readers)
{
	struct race r = { .t = iftable_new() };
	pthread_t w, rd;
	struct if_snapshot *s;

	ck_assert_int_eq(pthread_create(&rd, NULL, reader, &r), 0);
	ck_assert_int_eq(pthread_create(&w, NULL, writer, &r), 0);
	pthread_join(w, NULL);
	pthread_join(rd, NULL);
	ck_assert_int_eq(atomic_load(&r.stalled), 0);
	ck_assert_int_eq(r.bad, 0);
	/* The reads happened, and across the writes: at least one snapshot of
	 * every RACE_STEP generations. */
	ck_assert_uint_ge(r.distinct, RACE_GENS / RACE_STEP);
	ck_assert_int_ge(r.reads, (long)r.distinct);
	s = iftable_acquire(r.t);
	ck_assert_uint_eq(s->generation, RACE_GENS);
	iftable_release(r.t, s);
	iftable_free(r.t);
}
END_TEST

/* Many rows (the kindex index): every row keeps its times, a new one gets
 * the update's. */
START_TEST(test_many_rows_keep_times)
{
	enum { N = 3000 };
	struct kernel_link *l = calloc(N + 1, sizeof *l);
	struct iftable *t = iftable_new();
	struct if_snapshot *s;
	char name[IFNAMSIZ];

	ck_assert_ptr_nonnull(l);
	for (int i = 0; i < N; i++) {
		/* kindex order differs from array order */
		snprintf(name, sizeof name, "v%d", i);
		l[i] = mk(N - i + 1, name);
	}
	ck_assert_int_eq(iftable_update(t, l, N, NULL, NULL, 10), 0);
	l[N] = mk(N + 5, "late");
	l[7].oper = 2;
	ck_assert_int_eq(iftable_update(t, l, N + 1, NULL, NULL, 20), 0);
	s = iftable_acquire(t);
	ck_assert_uint_eq(s->n, N + 1);
	for (size_t i = 0; i < s->n; i++) {
		const struct if_row *r = &s->rows[i];
		int late = r->kindex == N + 5, changed = r->kindex == l[7].kindex;

		ck_assert_int_eq(r->discontinuity_ms, late ? 20 : 0);
		ck_assert_int_eq(r->last_change_ms, late || changed ? 20 : 0);
	}
	iftable_release(t, s);
	iftable_free(t);
	free(l);
}
END_TEST

/* ---- counters, apart from the rows ---------------------------------- */

/* The loopback device: kernel ifindex 1 in every namespace. */
#define LO_KINDEX 1

static struct link_stats *open_stats(void)
{
	struct link_stats *ls = link_stats_open();

	ck_assert_msg(ls != NULL, "no rtnetlink socket");
	return ls;
}

/* A reading of kindex that began at read_ms, put now (two fresh tickets). */
static void put_now(struct ctr_store *cs, int kindex, int64_t read_ms,
		    const struct if_counters *c)
{
	struct if_counters out;
	uint64_t first = ctr_store_ticket(cs);

	ctr_store_put(cs, kindex, first, ctr_store_ticket(cs), read_ms, c, &out);
}

/* A counter refresh reads every link's counters into the store and leaves
 * the structure alone: the same snapshot, the same generation, the same
 * rows (nothing to re-match, nobody to wake). */
START_TEST(test_counter_refresh_leaves_structure)
{
	struct kernel_link l[] = { mk(LO_KINDEX, "lo"), mk(2, "eth0") };
	struct iftable *t = iftable_new();
	struct link_stats *ls = open_stats();
	struct if_snapshot *before = update(t, l, 2, NULL, NULL, 10), *after;
	struct if_row rows[2];
	struct if_counters c;
	enum ctr_from from = CTR_FROM_KERNEL;

	memcpy(rows, before->rows, sizeof rows);
	ck_assert_int_eq(iftable_counters_refresh(t, ls), 0);
	after = iftable_acquire(t);
	ck_assert_ptr_eq(after, before);
	ck_assert_uint_eq(after->generation, 1);
	ck_assert_mem_eq(after->rows, rows, sizeof rows);
	/* ... and the store has the dump's reading of lo: no kernel asked. */
	ck_assert_int_eq(iftable_counters(t, ls, LO_KINDEX, 60000, &c, &from), 0);
	ck_assert_int_eq(from, CTR_FROM_STORE);
	iftable_release(t, after);
	/* Another refresh: still the same snapshot. */
	ck_assert_int_eq(iftable_counters_refresh(t, ls), 0);
	after = iftable_acquire(t);
	ck_assert_ptr_eq(after, before);
	iftable_release(t, after);
	iftable_release(t, before);
	link_stats_close(ls);
	iftable_free(t);
}
END_TEST

/* The staleness bound: a reading exactly IFTABLE_COUNTER_MAX_AGE_MS old is
 * served from the store, one a millisecond older makes the reader ask the
 * kernel for that link, and the store keeps the new reading. */
START_TEST(test_counter_staleness_bound)
{
	struct ctr_store *cs = ctr_store_new();
	struct link_stats *ls = open_stats();
	struct if_counters fake = { .in_octets = 1 }, c;
	enum ctr_from from;

	ck_assert_int_eq(IFTABLE_COUNTER_MAX_AGE_MS, 500);   /* hostflowd(8) says 500 ms */
	put_now(cs, LO_KINDEX, 1000, &fake);
	ck_assert_int_eq(ctr_store_get(cs, ls, LO_KINDEX, IFTABLE_COUNTER_MAX_AGE_MS,
				       1000 + IFTABLE_COUNTER_MAX_AGE_MS, &c, &from), 0);
	ck_assert_int_eq(from, CTR_FROM_STORE);
	ck_assert_uint_eq(c.in_octets, 1);
	ck_assert_int_eq(ctr_store_get(cs, ls, LO_KINDEX, IFTABLE_COUNTER_MAX_AGE_MS,
				       1001 + IFTABLE_COUNTER_MAX_AGE_MS, &c, &from), 0);
	ck_assert_int_eq(from, CTR_FROM_KERNEL);
	/* The kernel's lo, not the fake: its reading is what is held now. */
	ck_assert_uint_ne(c.in_octets, 1);
	ck_assert_int_eq(ctr_store_get(cs, ls, LO_KINDEX, IFTABLE_COUNTER_MAX_AGE_MS,
				       1001 + IFTABLE_COUNTER_MAX_AGE_MS, &fake, &from), 0);
	ck_assert_int_eq(from, CTR_FROM_STORE);
	ck_assert_mem_eq(&fake, &c, sizeof c);
	/* max_age 0 serves only a reading of this very millisecond. */
	ck_assert_int_eq(ctr_store_get(cs, ls, LO_KINDEX, 0, 1002 + IFTABLE_COUNTER_MAX_AGE_MS,
				       &c, &from), 0);
	ck_assert_int_eq(from, CTR_FROM_KERNEL);
	link_stats_close(ls);
	ctr_store_free(cs);
}
END_TEST

/* A link the kernel does not know: its last counters stand (the row goes
 * with the next link event); never seen, none. */
START_TEST(test_counters_of_a_gone_link)
{
	struct ctr_store *cs = ctr_store_new();
	struct link_stats *ls = open_stats();
	struct if_counters last = { .out_octets = 77 }, c;
	const int gone = 0x7ffffff0;

	ck_assert_int_eq(ctr_store_get(cs, ls, gone, 0, 5000, &c, NULL), -1);
	put_now(cs, gone, 1000, &last);
	ck_assert_int_eq(ctr_store_get(cs, ls, gone, 0, 5000, &c, NULL), 0);
	ck_assert_uint_eq(c.out_octets, 77);
	link_stats_close(ls);
	ctr_store_free(cs);
}
END_TEST

/* The ordering rule: a reading replaces the held one only when it began
 * after the held one ended; an overlapping or older one is dropped and its
 * reader is answered with what is held. */
START_TEST(test_counters_never_go_back)
{
	struct ctr_store *cs = ctr_store_new();
	struct if_counters v10 = { .in_octets = 10 }, v5 = { .in_octets = 5 };
	struct if_counters v20 = { .in_octets = 20 }, v30 = { .in_octets = 30 }, out;
	uint64_t a0 = ctr_store_ticket(cs), b0 = ctr_store_ticket(cs);
	uint64_t a1 = ctr_store_ticket(cs), b1 = ctr_store_ticket(cs);
	uint64_t c0 = ctr_store_ticket(cs), c1 = ctr_store_ticket(cs);

	/* A read over [a0, a1]; B over [b0, b1] overlaps it and comes second
	 * (it may have read before A did): A's value stays, B's reader gets it. */
	ctr_store_put(cs, 4, a0, a1, 1, &v10, &out);
	ck_assert_uint_eq(out.in_octets, 10);
	ctr_store_put(cs, 4, b0, b1, 1, &v5, &out);
	ck_assert_uint_eq(out.in_octets, 10);
	/* C began after A ended: replaces. */
	ctr_store_put(cs, 4, c0, c1, 2, &v20, &out);
	ck_assert_uint_eq(out.in_octets, 20);
	/* A late writer of an old reading (began before C ended): dropped,
	 * whatever its value. */
	ctr_store_put(cs, 4, b0, c1, 2, &v30, &out);
	ck_assert_uint_eq(out.in_octets, 20);
	ck_assert_uint_eq(ctr_store_size(cs), 1);
	ctr_store_free(cs);
}
END_TEST

/* A dump merged into the store: links it lists take its reading, unless
 * the store holds one made while it ran; a link it does not list is
 * forgotten unless read while it ran. */
START_TEST(test_counter_dump_merge)
{
	struct ctr_store *cs = ctr_store_new();
	struct link_stats *ls = open_stats();
	struct if_counters mark = { .in_octets = 123456789 }, c;
	/* Tickets the dump will come before: readings made "during" it. */
	uint64_t late = ctr_store_ticket(cs) + 1000;
	enum ctr_from from;

	put_now(cs, 0x7ffffff1, 1, &mark);                              /* gone */
	ctr_store_put(cs, 0x7ffffff2, late, late + 1, 1, &mark, &c);   /* new */
	ctr_store_put(cs, LO_KINDEX, late, late + 1, 1, &mark, &c);
	ck_assert_int_eq(ctr_store_refresh(cs, ls, 50), 0);
	ck_assert_int_eq(ctr_store_get(cs, ls, 0x7ffffff2, 1000, 50, &c, &from), 0);
	ck_assert_uint_eq(c.in_octets, 123456789);
	ck_assert_int_eq(ctr_store_get(cs, ls, LO_KINDEX, 1000, 50, &c, &from), 0);
	ck_assert_uint_eq(c.in_octets, 123456789);
	ck_assert_int_eq(ctr_store_get(cs, ls, 0x7ffffff1, 1000, 50, &c, &from), -1);
	link_stats_close(ls);
	ctr_store_free(cs);
}
END_TEST

/* Threads on one link at once, as the sampler and the agent thread are:
 * writers "read the kernel" (a counter that only grows, sampled between
 * their two tickets, with a yield inside so that readings overlap) and put
 * it; readers take what the store holds. Whatever anyone was answered,
 * anyone answered later sees at least as much. */
struct ctr_race {
	struct ctr_store *cs;
	atomic_uint_fast64_t kernel;    /* the link's counter, only grows */
	atomic_uint_fast64_t served;    /* the largest answer so far */
	atomic_long answers, from_store;
	atomic_int bad, writing;
};

#define RACE_ROUNDS 20000

/* After an answer: no smaller than what was served before it began. */
static void race_answered(struct ctr_race *r, uint64_t seen, uint64_t got)
{
	uint64_t prev = atomic_load(&r->served);

	if (got < seen)
		atomic_store(&r->bad, 1);
	while (got > prev && !atomic_compare_exchange_weak(&r->served, &prev, got))
		;
	atomic_fetch_add(&r->answers, 1);
}

static void *race_writer(void *arg)
{
	struct ctr_race *r = arg;

	for (int i = 0; i < RACE_ROUNDS; i++) {
		uint64_t seen = atomic_load(&r->served), first, last;
		struct if_counters c = { 0 }, out;

		first = ctr_store_ticket(r->cs);
		c.in_octets = atomic_fetch_add(&r->kernel, 1);
		sched_yield();
		last = ctr_store_ticket(r->cs);
		ctr_store_put(r->cs, 7, first, last, 0, &c, &out);
		race_answered(r, seen, out.in_octets);
	}
	atomic_fetch_sub(&r->writing, 1);
	return NULL;
}

static void *race_reader(void *arg)
{
	struct ctr_race *r = arg;

	/* As long as the writers write (bounded all the same). */
	for (long i = 0; i < 100L * RACE_ROUNDS && atomic_load(&r->writing); i++) {
		uint64_t seen = atomic_load(&r->served);
		struct if_counters out;
		enum ctr_from from;

		/* Fresh at time 0 for ever: always the store, never the kernel. */
		if (ctr_store_get(r->cs, NULL, 7, INT64_MAX, 0, &out, &from) != 0 ||
		    from != CTR_FROM_STORE) {
			atomic_store(&r->bad, 1);
			continue;
		}
		atomic_fetch_add(&r->from_store, 1);
		race_answered(r, seen, out.in_octets);
	}
	return NULL;
}

START_TEST(test_counters_race)
{
	struct ctr_race r = { .cs = ctr_store_new() };
	struct if_counters c = { 0 };
	pthread_t th[4];

	atomic_init(&r.kernel, 1);
	atomic_init(&r.writing, 2);
	put_now(r.cs, 7, 0, &c);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, i < 2 ? race_writer : race_reader,
						&r), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	/* Every round answered; the readers read, from the store. */
	long from_store = atomic_load(&r.from_store), answers = atomic_load(&r.answers);
	uint64_t served = atomic_load(&r.served);

	ck_assert_int_ge(from_store, 1000);
	ck_assert_int_eq(answers, 2 * RACE_ROUNDS + from_store);
	ck_assert_msg(atomic_load(&r.bad) == 0, "an answer was smaller than one given before it");
	ck_assert_uint_gt(served, RACE_ROUNDS);
	ctr_store_free(r.cs);
}
END_TEST

static Suite *iftable_suite(void)
{
	Suite *s = suite_create("iftable");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_sorted_by_served_index);
	tcase_add_test(tc, test_relocation_warns_once_and_sticks);
	tcase_add_test(tc, test_sticky_against_newcomer);
	tcase_add_test(tc, test_overrides_and_alias);
	tcase_add_test(tc, test_change_times);
	tcase_add_test(tc, test_served_number_change_is_discontinuity);
	tcase_add_test(tc, test_snap_next_edges);
	tcase_add_test(tc, test_old_snapshot_survives_update);
	tcase_add_test(tc, test_acquire_counts);
	tcase_add_test(tc, test_concurrent_readers);
	tcase_add_test(tc, test_many_rows_keep_times);
	suite_add_tcase(s, tc);
	tc = tcase_create("counters");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_counter_refresh_leaves_structure);
	tcase_add_test(tc, test_counter_staleness_bound);
	tcase_add_test(tc, test_counters_of_a_gone_link);
	tcase_add_test(tc, test_counters_never_go_back);
	tcase_add_test(tc, test_counter_dump_merge);
	tcase_add_test(tc, test_counters_race);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hf_run(iftable_suite(), CK_FORK_GETENV);
}
