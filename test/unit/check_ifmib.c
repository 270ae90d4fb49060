/* IF-MIB OID arithmetic and handler behaviour, without an snmpd: the
 * handler is called directly with hand-made requests, lldpd-style.
 * ifmib.c is included so its static helpers can be tested; the two exported
 * names are renamed so they do not clash with ifmib.o in the test library. */
#define ifmib_register test_ifmib_register
#define ifmib_unregister test_ifmib_unregister
#include "../../agent/snmp/ifmib.c"
#include "hf_check.h"

#include <check.h>
#include <stdlib.h>

#define IFT 1, 3, 6, 1, 2, 1, 2, 2
#define IFX 1, 3, 6, 1, 2, 1, 31, 1, 1

/* Rows 2, 5, 9: a sorted snapshot built by hand. */
static struct if_snapshot *make_snap(void)
{
	static const uint32_t idx[] = { 2, 5, 9 };
	struct if_snapshot *s = calloc(1, sizeof *s + 3 * sizeof s->rows[0]);

	ck_assert_ptr_nonnull(s);
	s->n = 3;
	s->table_change_ms = 0;
	for (size_t i = 0; i < 3; i++) {
		struct if_row *r = &s->rows[i];

		r->ifindex = idx[i];
		r->kindex = (int)idx[i];
		snprintf(r->name, sizeof r->name, "veth%u", idx[i]);
		r->iftype = 6;
		r->mtu = 1500;
		r->admin = 1;
		r->oper = 1;
		r->promisc = 2;
	}
	return s;
}

static int next_of(const struct ifmib_tree *t, const struct if_snapshot *s,
		   const oid *sub, size_t n, unsigned *col, uint32_t *ix)
{
	struct ifmib_pos pos;
	int rc = tbl_next(t, s, sub, n, &pos);

	*col = pos.col;
	*ix = pos.ifindex;
	return rc;
}

#define NEXT_IS(t, s, c0, i0, ...) do {					\
	const oid sub_[] = { __VA_ARGS__ };				\
	unsigned c_ = 0; uint32_t i_ = 0;				\
	ck_assert_int_eq(next_of(t, s, sub_, sizeof sub_ / sizeof sub_[0], &c_, &i_), 1); \
	ck_assert_uint_eq(c_, c0);					\
	ck_assert_uint_eq(i_, i0);					\
} while (0)

#define NEXT_NONE(t, s, ...) do {					\
	const oid sub_[] = { __VA_ARGS__ };				\
	unsigned c_; uint32_t i_;					\
	ck_assert_int_eq(next_of(t, s, sub_, sizeof sub_ / sizeof sub_[0], &c_, &i_), 0); \
} while (0)

START_TEST(test_oid_cmp)
{
	const oid a[] = { 1, 3, 6 }, b[] = { 1, 3, 6, 1 }, c[] = { 1, 4 };

	ck_assert_int_eq(oid_cmp(a, 3, a, 3), 0);
	ck_assert_int_lt(oid_cmp(a, 3, b, 4), 0);
	ck_assert_int_gt(oid_cmp(b, 4, a, 3), 0);
	ck_assert_int_lt(oid_cmp(b, 4, c, 2), 0);
	ck_assert_int_lt(oid_cmp(a, 0, a, 1), 0);
}
END_TEST

START_TEST(test_next_start_of_table)
{
	struct if_snapshot *s = make_snap();
	unsigned c; uint32_t i;

	ck_assert_int_eq(next_of(&if_table_tree, s, NULL, 0, &c, &i), 1);
	ck_assert_uint_eq(c, 1);
	ck_assert_uint_eq(i, 2);
	NEXT_IS(&if_table_tree, s, 1, 2, 0);
	NEXT_IS(&if_table_tree, s, 1, 2, 0, 99, 99);
	NEXT_IS(&if_table_tree, s, 1, 2, 1);
	NEXT_IS(&if_table_tree, s, 1, 2, 1, 0);
	NEXT_IS(&if_table_tree, s, 1, 2, 1, 0, 7);
	free(s);
}
END_TEST

START_TEST(test_next_within_and_between_columns)
{
	struct if_snapshot *s = make_snap();

	NEXT_IS(&if_table_tree, s, 5, 2, 1, 5);          /* column, no index */
	NEXT_IS(&if_table_tree, s, 5, 5, 1, 5, 2);       /* row after 2 */
	NEXT_IS(&if_table_tree, s, 5, 5, 1, 5, 3);       /* between rows */
	NEXT_IS(&if_table_tree, s, 5, 2, 1, 5, 0);
	NEXT_IS(&if_table_tree, s, 5, 5, 1, 5, 2, 0);    /* longer than an instance */
	NEXT_IS(&if_table_tree, s, 5, 9, 1, 5, 5, 4294967295u);
	NEXT_IS(&if_table_tree, s, 6, 2, 1, 5, 9);       /* last row: next column */
	NEXT_IS(&if_table_tree, s, 6, 2, 1, 5, 10);
	NEXT_IS(&if_table_tree, s, 6, 2, 1, 5, 4294967295u);
	NEXT_IS(&if_table_tree, s, 6, 2, 1, 5, (oid)0x100000000ull);
	NEXT_IS(&if_xtable_tree, s, 19, 2, 1, 18, 9);
	free(s);
}
END_TEST

START_TEST(test_next_past_the_end)
{
	struct if_snapshot *s = make_snap();
	unsigned c; uint32_t i;

	NEXT_NONE(&if_table_tree, s, 1, 22, 9);
	NEXT_NONE(&if_table_tree, s, 1, 22, 9, 1);
	NEXT_NONE(&if_table_tree, s, 1, 22, 4294967295u);
	NEXT_NONE(&if_table_tree, s, 1, 23);
	NEXT_NONE(&if_table_tree, s, 1, 23, 1);
	NEXT_NONE(&if_table_tree, s, 2);
	NEXT_NONE(&if_xtable_tree, s, 1, 19, 9);
	NEXT_NONE(&if_xtable_tree, s, 1, 20);
	NEXT_IS(&if_xtable_tree, s, 19, 5, 1, 19, 2);
	/* An empty table has nothing at all. */
	s->n = 0;
	ck_assert_int_eq(next_of(&if_table_tree, s, NULL, 0, &c, &i), 0);
	NEXT_NONE(&if_table_tree, s, 1, 1);
	ck_assert_int_eq(next_of(&if_table_tree, NULL, NULL, 0, &c, &i), 0);
	free(s);
}
END_TEST

static int get_of(const struct ifmib_tree *t, const struct if_snapshot *s,
		  const oid *sub, size_t n)
{
	struct ifmib_pos pos;

	return tbl_get(t, s, sub, n, &pos);
}

START_TEST(test_get)
{
	struct if_snapshot *s = make_snap();
	const oid ok[] = { 1, 2, 5 }, norow[] = { 1, 2, 4 }, nocol[] = { 1, 23, 5 };
	const oid col0[] = { 1, 0, 5 }, shortc[] = { 1, 2 }, longi[] = { 1, 2, 5, 0 };
	const oid entry[] = { 1 }, noentry[] = { 2, 2, 5 }, zero[] = { 1, 2, 0 };
	const oid big[] = { 1, 2, (oid)0x100000002ull };

	ck_assert_int_eq(get_of(&if_table_tree, s, ok, 3), 0);
	ck_assert_int_eq(get_of(&if_table_tree, s, norow, 3), SNMP_NOSUCHINSTANCE);
	ck_assert_int_eq(get_of(&if_table_tree, s, zero, 3), SNMP_NOSUCHINSTANCE);
	ck_assert_int_eq(get_of(&if_table_tree, s, big, 3), SNMP_NOSUCHINSTANCE);
	ck_assert_int_eq(get_of(&if_table_tree, s, longi, 4), SNMP_NOSUCHINSTANCE);
	ck_assert_int_eq(get_of(&if_table_tree, s, shortc, 2), SNMP_NOSUCHINSTANCE);
	ck_assert_int_eq(get_of(&if_table_tree, s, nocol, 3), SNMP_NOSUCHOBJECT);
	ck_assert_int_eq(get_of(&if_table_tree, s, col0, 3), SNMP_NOSUCHOBJECT);
	ck_assert_int_eq(get_of(&if_table_tree, s, entry, 1), SNMP_NOSUCHOBJECT);
	ck_assert_int_eq(get_of(&if_table_tree, s, noentry, 3), SNMP_NOSUCHOBJECT);
	ck_assert_int_eq(get_of(&if_xtable_tree, s, nocol, 3), SNMP_NOSUCHOBJECT);
	ck_assert_int_eq(get_of(&if_table_tree, NULL, ok, 3), SNMP_NOSUCHINSTANCE);
	free(s);
}
END_TEST

START_TEST(test_resolve_full_oids)
{
	struct if_snapshot *s = make_snap();
	struct ifmib_pos pos;
	const oid before[] = { 1, 3, 6, 1, 2, 1, 2, 1, 0 };    /* ifNumber.0 */
	const oid after[] = { 1, 3, 6, 1, 2, 1, 2, 3 };
	const oid root[] = { IFT };
	const oid num_root[] = { 1, 3, 6, 1, 2, 1, 2, 1 };
	const oid num0[] = { 1, 3, 6, 1, 2, 1, 2, 1, 0 };
	const oid num1[] = { 1, 3, 6, 1, 2, 1, 2, 1, 1 };
	const oid prefix[] = { 1, 3, 6, 1, 2, 1 };
	oid out[IFMIB_ROOT_MAX + 3];
	const oid want[] = { IFT, 1, 1, 2 };

	ck_assert_int_eq(resolve(&if_table_tree, s, 1, before, 9, &pos), 1);
	ck_assert_uint_eq(pos.col, 1);
	ck_assert_uint_eq(pos.ifindex, 2);
	ck_assert_uint_eq(pos_oid(&if_table_tree, &pos, out), 11);
	ck_assert_int_eq(oid_cmp(out, 11, want, 11), 0);
	ck_assert_int_eq(resolve(&if_table_tree, s, 1, prefix, 6, &pos), 1);
	ck_assert_int_eq(resolve(&if_table_tree, s, 1, root, 8, &pos), 1);
	ck_assert_int_eq(resolve(&if_table_tree, s, 1, after, 8, &pos), 0);
	ck_assert_int_eq(resolve(&if_table_tree, s, 0, after, 8, &pos), -(int)SNMP_NOSUCHOBJECT);

	ck_assert_int_eq(resolve(&if_number_tree, s, 1, num_root, 8, &pos), 1);
	ck_assert_uint_eq(pos_oid(&if_number_tree, &pos, out), 9);
	ck_assert_int_eq(oid_cmp(out, 9, num0, 9), 0);
	ck_assert_int_eq(resolve(&if_number_tree, s, 1, prefix, 6, &pos), 1);
	ck_assert_int_eq(resolve(&if_number_tree, s, 1, num0, 9, &pos), 0);
	ck_assert_int_eq(resolve(&if_number_tree, s, 1, num1, 9, &pos), 0);
	ck_assert_int_eq(resolve(&if_number_tree, s, 0, num0, 9, &pos), 1);
	ck_assert_int_eq(resolve(&if_number_tree, s, 0, num1, 9, &pos), -(int)SNMP_NOSUCHINSTANCE);
	ck_assert_int_eq(resolve(&if_number_tree, s, 0, num_root, 8, &pos), -(int)SNMP_NOSUCHINSTANCE);
	free(s);
}
END_TEST

START_TEST(test_ticks)
{
	ck_assert_uint_eq(to_ticks(0, 100000, 5000), 0);
	ck_assert_uint_eq(to_ticks(100000, 100000, 5000), 5000);
	ck_assert_uint_eq(to_ticks(99000, 100000, 5000), 4900);   /* 1 s ago */
	ck_assert_uint_eq(to_ticks(40000, 100000, 5000), 0);      /* before the agent */
	ck_assert_uint_eq(to_ticks(100500, 100000, 5000), 5000);  /* never ahead */
}
END_TEST

START_TEST(test_values)
{
	struct if_snapshot *s = make_snap();
	struct if_row *r = &s->rows[1];
	struct ifmib_pos pos = { 0, 5 };
	const struct if_counters counters = { .in_octets = 0x123456789ull, .in_mcast = 3,
					      .in_bcast = 4 };
	const struct if_counters *ctr = &counters;
	struct ifmib_val v;

	r->speed_bps = 25000000000ull;
	snprintf(r->alias, sizeof r->alias, "Transit: X");

	pos.col = 5;
	ck_assert_int_eq(pos_value(&if_table_tree, s, &pos, ctr, 0, 0, &v), 0);
	ck_assert_int_eq(v.type, ASN_GAUGE);
	ck_assert_uint_eq(v.u, 4294967295u);
	pos.col = 10;
	ck_assert_int_eq(pos_value(&if_table_tree, s, &pos, ctr, 0, 0, &v), 0);
	ck_assert_int_eq(v.type, ASN_COUNTER);
	ck_assert_uint_eq(v.u, 0x23456789u);
	pos.col = 12;
	ck_assert_int_eq(pos_value(&if_table_tree, s, &pos, ctr, 0, 0, &v), 0);
	ck_assert_uint_eq(v.u, 7);
	pos.col = 22;
	ck_assert_int_eq(pos_value(&if_table_tree, s, &pos, ctr, 0, 0, &v), 0);
	ck_assert_int_eq(v.type, ASN_OBJECT_ID);
	ck_assert_uint_eq(v.len, 2 * sizeof(oid));
	pos.col = 6;
	ck_assert_int_eq(pos_value(&if_xtable_tree, s, &pos, ctr, 0, 0, &v), 0);
	ck_assert_int_eq(v.type, ASN_COUNTER64);
	ck_assert_uint_eq(v.c64.high, 1);
	ck_assert_uint_eq(v.c64.low, 0x23456789u);
	pos.col = 15;
	ck_assert_int_eq(pos_value(&if_xtable_tree, s, &pos, ctr, 0, 0, &v), 0);
	ck_assert_int_eq(v.type, ASN_GAUGE);
	ck_assert_uint_eq(v.u, 25000);
	pos.col = 18;
	ck_assert_int_eq(pos_value(&if_xtable_tree, s, &pos, ctr, 0, 0, &v), 0);
	ck_assert_int_eq(v.type, ASN_OCTET_STR);
	ck_assert_uint_eq(v.len, 10);
	ck_assert_int_eq(memcmp(v.ptr, "Transit: X", 10), 0);
	/* ifLinkUpDownTrapEnable: enabled(1) for a row that notifies, else
	 * disabled(2) (0 is a row built by hand, not a snapshot's). */
	pos.col = 14;
	r->link_traps = 1;
	ck_assert_int_eq(pos_value(&if_xtable_tree, s, &pos, ctr, 0, 0, &v), 0);
	ck_assert_int_eq(v.type, ASN_INTEGER);
	ck_assert_int_eq(v.l, 1);
	r->link_traps = 2;
	ck_assert_int_eq(pos_value(&if_xtable_tree, s, &pos, ctr, 0, 0, &v), 0);
	ck_assert_int_eq(v.l, 2);
	r->link_traps = 0;
	ck_assert_int_eq(pos_value(&if_xtable_tree, s, &pos, ctr, 0, 0, &v), 0);
	ck_assert_int_eq(v.l, 2);
	pos.col = 1;
	ck_assert_int_eq(pos_value(&if_xtable_tree, s, &pos, ctr, 0, 0, &v), 0);
	ck_assert_uint_eq(v.len, 5);
	ck_assert_int_eq(memcmp(v.ptr, "veth5", 5), 0);
	/* Every column of both tables has a value. */
	for (unsigned c = 1; c <= 22; c++) {
		pos.col = c;
		ck_assert_int_eq(pos_value(&if_table_tree, s, &pos, ctr, 0, 0, &v), 0);
	}
	for (unsigned c = 1; c <= 19; c++) {
		pos.col = c;
		ck_assert_int_eq(pos_value(&if_xtable_tree, s, &pos, ctr, 0, 0, &v), 0);
	}
	pos.col = 1;
	ck_assert_int_eq(pos_value(&if_number_tree, s, &pos, ctr, 0, 0, &v), 0);
	ck_assert_int_eq(v.type, ASN_INTEGER);
	ck_assert_int_eq(v.l, 3);
	pos.ifindex = 4;
	ck_assert_int_eq(pos_value(&if_table_tree, s, &pos, ctr, 0, 0, &v), -1);
	free(s);
}
END_TEST

/* ---- The handler, driven directly ---------------------------------- */

/* A table source: the snapshot, and counters derived from the kernel
 * index (in_octets = kindex * 1000 + 1) except for the row whose link is
 * gone (kindex gone: -1). Counts the counter reads by walking flag. */
struct fake_src {
	struct if_snapshot *snap;
	int counted[2];   /* counter reads, [walking] */
	int acquired, released;
	int gone;
};

static struct if_snapshot *fake_acquire(void *ctx)
{
	struct fake_src *f = ctx;

	f->acquired++;
	return f->snap;
}

static void fake_release(void *ctx, struct if_snapshot *s)
{
	struct fake_src *f = ctx;

	ck_assert_ptr_eq(s, f->snap);
	f->released++;
}

static int fake_counters(void *ctx, const struct if_row *r, bool walking,
			 struct if_counters *out)
{
	struct fake_src *f = ctx;

	f->counted[walking ? 1 : 0]++;
	if (r->kindex == f->gone)
		return -1;
	memset(out, 0, sizeof *out);
	out->in_octets = (uint64_t)r->kindex * 1000 + 1;
	return 0;
}

static struct fake_src fake(void)
{
	struct fake_src f = { make_snap(), { 0, 0 }, 0, 0, 0 };

	return f;
}

#define MAXREQ 8

struct batch {
	netsnmp_agent_request_info info;
	netsnmp_request_info rq[MAXREQ];
	netsnmp_variable_list vb[MAXREQ];
	size_t n;
};

static void batch_add(struct batch *b, const oid *name, size_t len)
{
	size_t i = b->n++;

	ck_assert_uint_lt(i, MAXREQ);
	snmp_set_var_objid(&b->vb[i], name, len);
	b->vb[i].type = ASN_NULL;
	b->rq[i].requestvb = &b->vb[i];
	b->rq[i].agent_req_info = &b->info;
	if (i)
		b->rq[i - 1].next = &b->rq[i];
}

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		snmp_free_var_internals(&b->vb[i]);
}

static void run(const struct ifmib_tree *t, struct fake_src *f, struct batch *b, int mode)
{
	struct ifmib_source src = { fake_acquire, fake_release, fake_counters, f };
	struct ifmib_ctx ctx = { &src, t };
	netsnmp_mib_handler h;

	memset(&h, 0, sizeof h);
	h.myvoid = &ctx;
	b->info.mode = mode;
	ck_assert_int_eq(ifmib_handler(&h, NULL, &b->info, b->rq), SNMP_ERR_NOERROR);
}

/* One request of one varbind: b afresh, name asked in mode. */
static void ask(const struct ifmib_tree *t, struct fake_src *f, struct batch *b,
		const oid *name, size_t len, int mode)
{
	memset(b, 0, sizeof *b);
	batch_add(b, name, len);
	run(t, f, b, mode);
}

/* Akvorado's poll (ifDescr, ifName, ifAlias, ifHighSpeed) must never ask
 * for counters: that would reach into the kernel. */
START_TEST(test_handler_collector_get_touches_no_counters)
{
	struct fake_src f = fake();
	struct batch x, y;
	const oid descr[] = { IFT, 1, 2, 9 };
	const oid name[] = { IFX, 1, 1, 9 }, alias[] = { IFX, 1, 18, 9 };
	const oid hs[] = { IFX, 1, 15, 9 }, missing[] = { IFX, 1, 1, 7 };

	memset(&x, 0, sizeof x);
	memset(&y, 0, sizeof y);
	batch_add(&x, descr, 11);
	run(&if_table_tree, &f, &x, MODE_GET);
	batch_add(&y, name, 12);
	batch_add(&y, alias, 12);
	batch_add(&y, hs, 12);
	batch_add(&y, missing, 12);
	run(&if_xtable_tree, &f, &y, MODE_GET);
	ck_assert_int_eq(f.acquired, 2);
	ck_assert_int_eq(f.counted[0] + f.counted[1], 0);
	ck_assert_int_eq(f.released, 2);
	ck_assert_int_eq(x.vb[0].type, ASN_OCTET_STR);
	ck_assert_uint_eq(x.vb[0].val_len, 5);
	ck_assert_int_eq(memcmp(x.vb[0].val.string, "veth9", 5), 0);
	ck_assert_int_eq(y.vb[0].type, ASN_OCTET_STR);
	ck_assert_int_eq(y.vb[1].type, ASN_OCTET_STR);
	ck_assert_int_eq(y.vb[2].type, ASN_GAUGE);
	ck_assert_int_eq(y.vb[3].type, SNMP_NOSUCHINSTANCE);
	batch_free(&x);
	batch_free(&y);
	free(f.snap);
}
END_TEST

/* A GET reads the counters of the rows it names, and only those: one read
 * per counter varbind, not walking, the value the source gave. */
START_TEST(test_handler_get_reads_its_rows_counters)
{
	struct fake_src f = fake();
	struct batch b;
	const oid in_oct[] = { IFT, 1, 10, 5 }, mtu[] = { IFT, 1, 4, 5 };
	const oid hc_in[] = { IFX, 1, 6, 9 };

	memset(&b, 0, sizeof b);
	batch_add(&b, mtu, 11);
	batch_add(&b, in_oct, 11);
	run(&if_table_tree, &f, &b, MODE_GET);
	ck_assert_int_eq(f.counted[0], 1);
	ck_assert_int_eq(f.counted[1], 0);
	ck_assert_int_eq(f.released, f.acquired);
	ck_assert_int_eq(b.vb[0].type, ASN_INTEGER);
	ck_assert_int_eq(*b.vb[0].val.integer, 1500);
	ck_assert_int_eq(b.vb[1].type, ASN_COUNTER);
	ck_assert_uint_eq(*b.vb[1].val.integer, 5001);
	batch_free(&b);

	ask(&if_xtable_tree, &f, &b, hc_in, 12, MODE_GET);
	ck_assert_int_eq(f.counted[0], 2);
	ck_assert_int_eq(b.vb[0].type, ASN_COUNTER64);
	ck_assert_uint_eq(b.vb[0].val.counter64->low, 9001);
	batch_free(&b);
	free(f.snap);
}
END_TEST

/* A GETNEXT landing on a counter column (from the column before it) reads
 * that row's counters, as a walk: the next rows will be wanted too. */
START_TEST(test_handler_getnext)
{
	struct fake_src f = fake();
	struct batch b;
	const oid last9[] = { IFT, 1, 9, 9 }, end[] = { IFT, 1, 22, 9 };
	const oid want[] = { IFT, 1, 10, 2 };

	memset(&b, 0, sizeof b);
	batch_add(&b, last9, 11);
	batch_add(&b, end, 11);
	run(&if_table_tree, &f, &b, MODE_GETNEXT);
	ck_assert_int_eq(f.counted[1], 1);
	ck_assert_int_eq(f.counted[0], 0);
	ck_assert_int_eq(b.vb[0].type, ASN_COUNTER);
	ck_assert_uint_eq(*b.vb[0].val.integer, 2001);
	ck_assert_int_eq(oid_cmp(b.vb[0].name, b.vb[0].name_length, want, 11), 0);
	/* Past the last cell: untouched, so the agent moves on. */
	ck_assert_int_eq(b.vb[1].type, ASN_NULL);
	ck_assert_int_eq(oid_cmp(b.vb[1].name, b.vb[1].name_length, end, 11), 0);
	batch_free(&b);
	free(f.snap);
}
END_TEST

/* A row whose link went after the snapshot was taken has no counters: a
 * GET says noSuchInstance, a GETNEXT answers the next row instead (the
 * walk goes on, as if the row had gone), and past the last row the next
 * column. */
START_TEST(test_handler_counters_gone)
{
	struct fake_src f = fake();
	struct batch b;
	const oid get5[] = { IFT, 1, 10, 5 }, before[] = { IFT, 1, 10, 2 };
	const oid want9[] = { IFT, 1, 10, 9 }, last[] = { IFT, 1, 10, 5 };
	const oid want_next_col[] = { IFT, 1, 11, 2 };

	f.gone = 5;
	ask(&if_table_tree, &f, &b, get5, 11, MODE_GET);
	ck_assert_int_eq(b.vb[0].type, SNMP_NOSUCHINSTANCE);
	batch_free(&b);

	ask(&if_table_tree, &f, &b, before, 11, MODE_GETNEXT);
	ck_assert_int_eq(b.vb[0].type, ASN_COUNTER);
	ck_assert_int_eq(oid_cmp(b.vb[0].name, b.vb[0].name_length, want9, 11), 0);
	ck_assert_uint_eq(*b.vb[0].val.integer, 9001);
	batch_free(&b);

	f.gone = 9;
	ask(&if_table_tree, &f, &b, last, 11, MODE_GETNEXT);
	ck_assert_int_eq(oid_cmp(b.vb[0].name, b.vb[0].name_length, want_next_col, 11), 0);
	batch_free(&b);
	free(f.snap);
}
END_TEST

START_TEST(test_handler_get_errors)
{
	struct fake_src f = fake();
	struct batch b;
	const oid norow[] = { IFT, 1, 2, 3 }, nocol[] = { IFT, 1, 23, 2 };
	const oid num0[] = { 1, 3, 6, 1, 2, 1, 2, 1, 0 };

	memset(&b, 0, sizeof b);
	batch_add(&b, norow, 11);
	batch_add(&b, nocol, 11);
	run(&if_table_tree, &f, &b, MODE_GET);
	ck_assert_int_eq(b.vb[0].type, SNMP_NOSUCHINSTANCE);
	ck_assert_int_eq(b.vb[1].type, SNMP_NOSUCHOBJECT);
	batch_free(&b);

	memset(&b, 0, sizeof b);
	batch_add(&b, num0, 9);
	run(&if_number_tree, &f, &b, MODE_GET);
	ck_assert_int_eq(b.vb[0].type, ASN_INTEGER);
	ck_assert_int_eq(*b.vb[0].val.integer, 3);
	batch_free(&b);
	free(f.snap);
}
END_TEST

static Suite *ifmib_suite(void)
{
	Suite *s = suite_create("ifmib");
	TCase *oidc = tcase_create("oid");
	TCase *hc = tcase_create("handler");

	tcase_add_test(oidc, test_oid_cmp);
	tcase_add_test(oidc, test_next_start_of_table);
	tcase_add_test(oidc, test_next_within_and_between_columns);
	tcase_add_test(oidc, test_next_past_the_end);
	tcase_add_test(oidc, test_get);
	tcase_add_test(oidc, test_resolve_full_oids);
	tcase_add_test(oidc, test_ticks);
	tcase_add_test(oidc, test_values);
	tcase_add_test(hc, test_handler_collector_get_touches_no_counters);
	tcase_add_test(hc, test_handler_get_reads_its_rows_counters);
	tcase_add_test(hc, test_handler_getnext);
	tcase_add_test(hc, test_handler_counters_gone);
	tcase_add_test(hc, test_handler_get_errors);
	suite_add_tcase(s, oidc);
	suite_add_tcase(s, hc);
	return s;
}

int main(void)
{
	return hf_run(ifmib_suite(), CK_FORK_GETENV);
}
