/* THE interface table, with synthetic links: numbering, overrides, change
 * times, lookups, snapshot lifetime and concurrent readers. */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	ck_assert_int_eq(s->built_ms, 10);
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
	struct config cfg;
	struct kernel_link l[] = { mk(1, "lo"), mk(2, "eth0"), mk(5, "tailscale0") };
	struct iftable *t = iftable_new();
	struct if_snapshot *s;
	const struct if_row *r;

	memset(&cfg, 0, sizeof cfg);
	cfg.ifaces = ov;
	cfg.n_ifaces = 1;
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
	r = snap_find(s, 2);
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

	/* Same set, a counter-only refresh: all times kept. */
	l[2].ctr.in_octets = 99;
	s = update(t, l, 3, NULL, NULL, 4000);
	ck_assert_int_eq(s->table_change_ms, 3000);
	ck_assert_int_eq(snap_find(s, 2)->last_change_ms, 3000);
	ck_assert_int_eq(snap_find(s, 3)->discontinuity_ms, 3000);
	ck_assert_uint_eq(snap_find(s, 3)->ctr.in_octets, 99);
	ck_assert_int_eq(s->built_ms, 4000);
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
		l[1].ctr.in_octets = (uint64_t)i + 1;
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

/* A table rebuilt from link events: change times are the event's, the
 * counters' age (built_ms) the last dump's, so a counter request dumps. */
START_TEST(test_update_at_keeps_counter_age)
{
	struct iftable *t = iftable_new();
	struct kernel_link l[2] = { mk(1, "lo"), mk(2, "veth0") };
	struct if_snapshot *s;

	ck_assert_int_eq(iftable_update(t, l, 1, NULL, NULL, 1000), 0);
	ck_assert_int_eq(iftable_update_at(t, l, 2, NULL, NULL, 1500, 1000), 0);
	s = iftable_acquire(t);
	ck_assert_int_eq(s->built_ms, 1000);
	ck_assert_int_eq(s->table_change_ms, 1500);
	ck_assert_int_eq(snap_find(s, 2)->discontinuity_ms, 1500);
	ck_assert_int_eq(snap_find(s, 1)->discontinuity_ms, 0);
	iftable_release(t, s);
	iftable_free(t);
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
	tcase_add_test(tc, test_update_at_keeps_counter_age);
	tcase_add_test(tc, test_many_rows_keep_times);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hf_run(iftable_suite(), CK_FORK_GETENV);
}
