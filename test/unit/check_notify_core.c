/* The linkUp/linkDown decisions (snmp/notify_core.c) with fake time and
 * snapshots: which rows changed state, nothing at start, one notification
 * per change of the state served and never two alike in a row, the limit
 * per interface against flapping, and what waits while not registered. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "snmp/notify_core.h"
#include "hf_check.h"

#define UP 1
#define DOWN 2
#define LLDOWN 7      /* lowerLayerDown: a veth whose peer is down */
#define DORMANT 5

#define MAX_SENT 256

/* What the core emitted, in order. */
struct sink {
	struct notify_msg m[MAX_SENT];
	size_t n;
};

static void record(void *ctx, const struct notify_msg *m)
{
	struct sink *s = ctx;

	ck_assert_uint_lt(s->n, MAX_SENT);
	s->m[s->n++] = *m;
}

/* A table of up to 8 rows that notify, as a snapshot would give them. */
struct table {
	struct notify_row r[8];
	size_t n;
};

static void row(struct table *t, uint32_t ifindex, int kindex, uint8_t admin, uint8_t oper)
{
	t->r[t->n++] = (struct notify_row){ ifindex, kindex, admin, oper };
}

static struct notify_row *find(struct table *t, uint32_t ifindex)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->r[i].ifindex == ifindex)
			return &t->r[i];
	ck_abort_msg("no row %u", ifindex);
	return NULL;
}

static void set(struct table *t, uint32_t ifindex, uint8_t admin, uint8_t oper)
{
	struct notify_row *r = find(t, ifindex);

	r->admin = admin;
	r->oper = oper;
}

/* One turn as the shell runs it: a new snapshot, then what is due. */
static void publish(struct notify_core *c, const struct table *t, int registered,
		    int64_t now, struct sink *s)
{
	ck_assert_int_eq(notify_core_observe(c, t->r, t->n), 0);
	notify_core_take(c, registered, now, record, s);
}

/* Notifications only (NOTIFY_LIMITED left out), of one interface. */
static size_t sent_for(const struct sink *s, uint32_t ifindex, struct notify_msg *out,
		       size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->m[i].event != NOTIFY_LIMITED && s->m[i].ifindex == ifindex && k < max)
			out[k++] = s->m[i];
	return k;
}

static void assert_msg(const struct notify_msg *m, enum notify_event ev, uint32_t ifindex,
		       uint8_t admin, uint8_t oper)
{
	ck_assert_int_eq(m->event, ev);
	ck_assert_uint_eq(m->ifindex, ifindex);
	ck_assert_uint_eq(m->admin, admin);
	ck_assert_uint_eq(m->oper, oper);
}

START_TEST(nothing_at_start)
{
	struct notify_core *c = notify_core_new();
	struct sink s = { .n = 0 };
	struct table t = { .n = 0 };

	row(&t, 1, 1, UP, UP);
	row(&t, 2, 2, DOWN, DOWN);
	row(&t, 3, 3, UP, LLDOWN);
	publish(c, &t, 1, 1000, &s);
	ck_assert_uint_eq(s.n, 0);
	/* The same table again, and time passing: still nothing. */
	publish(c, &t, 1, 60000, &s);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_int_eq(notify_core_next_ms(c), 0);
	notify_core_free(c);
}
END_TEST

START_TEST(down_and_up_with_served_values)
{
	struct notify_core *c = notify_core_new();
	struct sink s = { .n = 0 };
	struct table t = { .n = 0 };

	row(&t, 5, 5, UP, UP);
	row(&t, 9, 9, UP, UP);
	publish(c, &t, 1, 0, &s);
	set(&t, 9, DOWN, DOWN);             /* admin down */
	publish(c, &t, 1, 100, &s);
	ck_assert_uint_eq(s.n, 1);
	assert_msg(&s.m[0], NOTIFY_LINK_DOWN, 9, DOWN, DOWN);
	set(&t, 9, UP, UP);
	publish(c, &t, 1, 200, &s);
	ck_assert_uint_eq(s.n, 2);
	assert_msg(&s.m[1], NOTIFY_LINK_UP, 9, UP, UP);
	notify_core_free(c);
}
END_TEST

/* Leaving up(1) for any other state is linkDown; among the states other
 * than up nothing more is said; coming back to up(1) is linkUp. */
START_TEST(state_is_up_or_not)
{
	struct notify_core *c = notify_core_new();
	struct sink s = { .n = 0 };
	struct table t = { .n = 0 };

	row(&t, 4, 4, UP, UP);
	publish(c, &t, 1, 0, &s);
	set(&t, 4, UP, LLDOWN);             /* carrier lost on the peer */
	publish(c, &t, 1, 100, &s);
	set(&t, 4, DOWN, DOWN);             /* then admin down: still not up */
	publish(c, &t, 1, 200, &s);
	set(&t, 4, UP, DORMANT);
	publish(c, &t, 1, 300, &s);
	ck_assert_uint_eq(s.n, 1);
	assert_msg(&s.m[0], NOTIFY_LINK_DOWN, 4, UP, LLDOWN);
	set(&t, 4, UP, UP);
	publish(c, &t, 1, 400, &s);
	ck_assert_uint_eq(s.n, 2);
	assert_msg(&s.m[1], NOTIFY_LINK_UP, 4, UP, UP);
	/* Only the admin status changes: nothing. */
	set(&t, 4, UP, UP);
	publish(c, &t, 1, 500, &s);
	ck_assert_uint_eq(s.n, 2);
	notify_core_free(c);
}
END_TEST

/* A row that appears (a new interface, a reload that enables it) starts at
 * its state; a row that goes is forgotten; another kernel ifindex under the
 * same served ifIndex is another interface. */
START_TEST(rows_come_and_go)
{
	struct notify_core *c = notify_core_new();
	struct sink s = { .n = 0 };
	struct table t = { .n = 0 }, t2 = { .n = 0 };

	row(&t, 2, 2, UP, UP);
	publish(c, &t, 1, 0, &s);
	row(&t, 7, 7, DOWN, DOWN);          /* new, down: nothing */
	publish(c, &t, 1, 100, &s);
	ck_assert_uint_eq(s.n, 0);
	set(&t, 7, UP, UP);                 /* then up: linkUp */
	publish(c, &t, 1, 200, &s);
	ck_assert_uint_eq(s.n, 1);
	assert_msg(&s.m[0], NOTIFY_LINK_UP, 7, UP, UP);
	/* Row 2 goes, and comes back down: a new interface, nothing. */
	row(&t2, 7, 7, UP, UP);
	publish(c, &t2, 1, 300, &s);
	t2.n = 0;
	row(&t2, 2, 2, DOWN, DOWN);
	row(&t2, 7, 7, UP, UP);
	publish(c, &t2, 1, 400, &s);
	ck_assert_uint_eq(s.n, 1);
	/* Row 7 re-created (kernel ifindex 70), down: nothing either. */
	set(&t2, 7, DOWN, DOWN);
	t2.r[1].kindex = 70;
	publish(c, &t2, 1, 500, &s);
	ck_assert_uint_eq(s.n, 1);
	/* But its own change is notified. */
	set(&t2, 7, UP, UP);
	publish(c, &t2, 1, 600, &s);
	ck_assert_uint_eq(s.n, 2);
	assert_msg(&s.m[1], NOTIFY_LINK_UP, 7, UP, UP);
	/* An empty table forgets everything; an empty table twice is fine. */
	t2.n = 0;
	publish(c, &t2, 1, 700, &s);
	publish(c, &t2, 1, 800, &s);
	ck_assert_uint_eq(s.n, 2);
	notify_core_free(c);
}
END_TEST

/* Each interface has its own limit: a flapping one never delays another. */
START_TEST(limit_is_per_interface)
{
	struct notify_core *c = notify_core_new();
	struct sink s = { .n = 0 };
	struct table t = { .n = 0 };
	struct notify_msg got[16];
	int64_t now = 0;

	row(&t, 1, 1, UP, UP);
	row(&t, 2, 2, UP, UP);
	publish(c, &t, 1, now, &s);
	for (int i = 0; i < 8; i++) {
		now += 50;
		set(&t, 1, UP, i % 2 ? UP : DOWN);
		publish(c, &t, 1, now, &s);
	}
	set(&t, 2, DOWN, DOWN);
	publish(c, &t, 1, now, &s);
	ck_assert_uint_eq(sent_for(&s, 1, got, 16), NOTIFY_BURST);
	ck_assert_uint_eq(sent_for(&s, 2, got, 16), 1);
	assert_msg(&got[0], NOTIFY_LINK_DOWN, 2, DOWN, DOWN);
	notify_core_free(c);
}
END_TEST

/* 20 changes in a second: at most 4 notifications, alternating, the last
 * one the final state within 15 s of the last change (NOTIFY_REFILL_MS
 * here), and nothing after it. The shell's turns: every change, and every
 * time notify_core_next_ms asks for. */
static void flap(int changes, int64_t spacing_ms, uint8_t end_up)
{
	struct notify_core *c = notify_core_new();
	struct sink s = { .n = 0 };
	struct table t = { .n = 0 };
	struct notify_msg got[64];
	int64_t now = 10000, last_change;
	size_t k;
	uint8_t state = UP;

	row(&t, 3, 3, UP, UP);
	publish(c, &t, 1, now, &s);
	for (int i = 0; i < changes; i++) {
		state = state == UP ? DOWN : UP;
		if (i == changes - 1 && (state == UP) != end_up)
			state = state == UP ? DOWN : UP;   /* the end we want */
		set(&t, 3, state, state);
		now += spacing_ms;
		publish(c, &t, 1, now, &s);
	}
	last_change = now;
	/* Turns when the core asks, for a minute of fake time. */
	while (notify_core_next_ms(c) && notify_core_next_ms(c) < last_change + 60000) {
		ck_assert_int_gt(notify_core_next_ms(c), now);
		now = notify_core_next_ms(c);
		notify_core_take(c, 1, now, record, &s);
	}
	k = sent_for(&s, 3, got, 64);
	ck_assert_uint_le(k, 4);
	ck_assert_uint_ge(k, 1);
	for (size_t i = 1; i < k; i++)
		ck_assert_int_ne(got[i].event, got[i - 1].event);
	ck_assert_int_eq(got[0].event, NOTIFY_LINK_DOWN);
	ck_assert_int_eq(got[k - 1].event, end_up ? NOTIFY_LINK_UP : NOTIFY_LINK_DOWN);
	ck_assert_uint_eq(got[k - 1].oper, end_up ? UP : DOWN);
	ck_assert_int_le(now, last_change + 15000);
	ck_assert_int_eq(notify_core_next_ms(c), 0);
	/* A minute later, nothing more. */
	notify_core_take(c, 1, now + 60000, record, &s);
	ck_assert_uint_eq(sent_for(&s, 3, got, 64), k);
	notify_core_free(c);
}

START_TEST(flap_20_in_a_second_ends_up)
{
	flap(20, 50, 1);
}
END_TEST

START_TEST(flap_20_in_a_second_ends_down)
{
	flap(20, 50, 0);
}
END_TEST

START_TEST(flap_10_in_a_second)
{
	flap(10, 100, 1);
	flap(9, 100, 0);
}
END_TEST

/* The exact schedule: 3 at once, the rest waits for the refill, with one
 * NOTIFY_LIMITED per wait saying until when. */
START_TEST(limit_schedule)
{
	struct notify_core *c = notify_core_new();
	struct sink s = { .n = 0 };
	struct table t = { .n = 0 };
	int64_t t0 = 5000;

	row(&t, 6, 6, UP, UP);
	publish(c, &t, 1, t0, &s);
	set(&t, 6, DOWN, DOWN); publish(c, &t, 1, t0 + 10, &s);
	set(&t, 6, UP, UP);     publish(c, &t, 1, t0 + 20, &s);
	set(&t, 6, DOWN, DOWN); publish(c, &t, 1, t0 + 30, &s);
	ck_assert_uint_eq(s.n, 3);
	set(&t, 6, UP, UP);     publish(c, &t, 1, t0 + 40, &s);
	ck_assert_uint_eq(s.n, 4);
	ck_assert_int_eq(s.m[3].event, NOTIFY_LIMITED);
	ck_assert_int_eq(s.m[3].until_ms, t0 + 10 + NOTIFY_REFILL_MS);
	ck_assert_int_eq(notify_core_next_ms(c), t0 + 10 + NOTIFY_REFILL_MS);
	/* More changes during the wait: no second LIMITED. */
	set(&t, 6, DOWN, DOWN); publish(c, &t, 1, t0 + 50, &s);
	set(&t, 6, UP, UP);     publish(c, &t, 1, t0 + 60, &s);
	ck_assert_uint_eq(s.n, 4);
	/* Early: nothing. */
	notify_core_take(c, 1, t0 + 10 + NOTIFY_REFILL_MS - 1, record, &s);
	ck_assert_uint_eq(s.n, 4);
	notify_core_take(c, 1, t0 + 10 + NOTIFY_REFILL_MS, record, &s);
	ck_assert_uint_eq(s.n, 5);
	assert_msg(&s.m[4], NOTIFY_LINK_UP, 6, UP, UP);
	ck_assert_int_eq(notify_core_next_ms(c), 0);
	/* After 3 quiet refills the bucket is full again: 3 at once. */
	{
		int64_t later = t0 + 10 + 4 * NOTIFY_REFILL_MS;
		size_t before = s.n;

		set(&t, 6, DOWN, DOWN); publish(c, &t, 1, later, &s);
		set(&t, 6, UP, UP);     publish(c, &t, 1, later + 1, &s);
		set(&t, 6, DOWN, DOWN); publish(c, &t, 1, later + 2, &s);
		ck_assert_uint_eq(s.n, before + 3);
		ck_assert_int_ne(s.m[s.n - 1].event, NOTIFY_LIMITED);
	}
	notify_core_free(c);
}
END_TEST

/* A flap that comes back to the state last sent before a token comes sends
 * nothing more: never two alike in a row. */
START_TEST(back_to_sent_state_sends_nothing)
{
	struct notify_core *c = notify_core_new();
	struct sink s = { .n = 0 };
	struct table t = { .n = 0 };

	row(&t, 8, 8, UP, UP);
	publish(c, &t, 1, 0, &s);
	for (int i = 0; i < 3; i++) {
		set(&t, 8, UP, i % 2 ? UP : DOWN);
		publish(c, &t, 1, 10 * (i + 1), &s);
	}
	ck_assert_uint_eq(s.n, 3);               /* down, up, down */
	set(&t, 8, UP, UP); publish(c, &t, 1, 40, &s);     /* limited */
	set(&t, 8, UP, DOWN); publish(c, &t, 1, 50, &s);   /* back to down */
	notify_core_take(c, 1, NOTIFY_REFILL_MS * 10, record, &s);
	ck_assert_uint_eq(s.n, 4);
	ck_assert_int_eq(s.m[3].event, NOTIFY_LIMITED);
	ck_assert_int_eq(notify_core_next_ms(c), 0);
	notify_core_free(c);
}
END_TEST

/* snmpd away: nothing is sent, and at registration the current state goes
 * where it differs from the last one sent; no token is spent meanwhile. */
START_TEST(unregistered_sends_current_state_later)
{
	struct notify_core *c = notify_core_new();
	struct sink s = { .n = 0 };
	struct table t = { .n = 0 };

	row(&t, 1, 1, UP, UP);
	row(&t, 2, 2, UP, UP);
	row(&t, 3, 3, UP, UP);
	publish(c, &t, 1, 0, &s);
	/* Away: 1 goes down for good, 2 goes down and back up, 3 flaps a lot. */
	set(&t, 1, DOWN, DOWN); publish(c, &t, 0, 100, &s);
	set(&t, 2, UP, LLDOWN); publish(c, &t, 0, 200, &s);
	set(&t, 2, UP, UP);     publish(c, &t, 0, 300, &s);
	for (int i = 0; i < 9; i++) {
		set(&t, 3, UP, i % 2 ? UP : DOWN);
		publish(c, &t, 0, 400 + i, &s);
	}
	ck_assert_uint_eq(s.n, 0);
	ck_assert_int_eq(notify_core_next_ms(c), 0);  /* no wake-up while away */
	notify_core_take(c, 1, 20000, record, &s);
	ck_assert_uint_eq(s.n, 2);
	assert_msg(&s.m[0], NOTIFY_LINK_DOWN, 1, DOWN, DOWN);
	assert_msg(&s.m[1], NOTIFY_LINK_DOWN, 3, UP, DOWN);
	/* Interface 3 still has its burst left after the wait. */
	set(&t, 3, UP, UP);   publish(c, &t, 1, 20001, &s);
	set(&t, 3, UP, DOWN); publish(c, &t, 1, 20002, &s);
	ck_assert_uint_eq(s.n, 4);
	ck_assert_int_eq(s.m[3].event, NOTIFY_LINK_DOWN);
	notify_core_free(c);
}
END_TEST

/* Held by the limit, then snmpd goes: no wake-up until it is back, then
 * the state goes at once if a token came meanwhile. */
START_TEST(limited_then_unregistered)
{
	struct notify_core *c = notify_core_new();
	struct sink s = { .n = 0 };
	struct table t = { .n = 0 };

	row(&t, 4, 4, UP, UP);
	publish(c, &t, 1, 0, &s);
	for (int i = 0; i < 4; i++) {
		set(&t, 4, UP, i % 2 ? UP : DOWN);
		publish(c, &t, 1, i + 1, &s);
	}
	ck_assert_uint_eq(s.n, 4);                  /* 3 sent, 1 limited */
	ck_assert_int_gt(notify_core_next_ms(c), 0);
	notify_core_take(c, 0, 2, record, &s);
	ck_assert_int_eq(notify_core_next_ms(c), 0);
	notify_core_take(c, 0, NOTIFY_REFILL_MS + 10, record, &s);
	ck_assert_uint_eq(s.n, 4);
	notify_core_take(c, 1, NOTIFY_REFILL_MS + 20, record, &s);
	ck_assert_uint_eq(s.n, 5);
	assert_msg(&s.m[4], NOTIFY_LINK_UP, 4, UP, UP);
	notify_core_free(c);
}
END_TEST

/* Many rows: the merge keeps each one's state whatever appears around it. */
START_TEST(merge_keeps_state)
{
	struct notify_core *c = notify_core_new();
	struct sink s = { .n = 0 };
	struct notify_row r[100];
	size_t n = 0;

	for (uint32_t i = 0; i < 50; i++)
		r[n++] = (struct notify_row){ 10 + 2 * i, (int)(10 + 2 * i), UP, UP };
	ck_assert_int_eq(notify_core_observe(c, r, n), 0);
	notify_core_take(c, 1, 0, record, &s);
	/* The odd numbers appear between them (down), the evens go down. */
	n = 0;
	for (uint32_t i = 10; i < 110; i++)
		r[n++] = (struct notify_row){ i, (int)i, DOWN, DOWN };
	ck_assert_int_eq(notify_core_observe(c, r, n), 0);
	notify_core_take(c, 1, 10, record, &s);
	ck_assert_uint_eq(s.n, 50);
	for (size_t i = 0; i < s.n; i++)
		assert_msg(&s.m[i], NOTIFY_LINK_DOWN, 10 + 2 * (uint32_t)i, DOWN, DOWN);
	notify_core_free(c);
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("notify_core");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, nothing_at_start);
	tcase_add_test(tc, down_and_up_with_served_values);
	tcase_add_test(tc, state_is_up_or_not);
	tcase_add_test(tc, rows_come_and_go);
	tcase_add_test(tc, limit_is_per_interface);
	tcase_add_test(tc, flap_20_in_a_second_ends_up);
	tcase_add_test(tc, flap_20_in_a_second_ends_down);
	tcase_add_test(tc, flap_10_in_a_second);
	tcase_add_test(tc, limit_schedule);
	tcase_add_test(tc, back_to_sent_state_sends_nothing);
	tcase_add_test(tc, unregistered_sends_current_state_later);
	tcase_add_test(tc, limited_then_unregistered);
	tcase_add_test(tc, merge_keeps_state);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return hf_run(suite(), CK_FORK_GETENV);
}
