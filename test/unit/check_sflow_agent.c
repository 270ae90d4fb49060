/* sflow_agent: the pure sFlow agent core driven by fake time, fake counters
 * and a fake kernel, every datagram it emits decoded and checked. No root. */
#include <check.h>
#include <arpa/inet.h>
#include <math.h>
#include <net/if_arp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sflow/core/sflow_agent.h"
#include "sflow/core/sflow_encode.h"
#include "sflow_validate.h"
#include "hf_check.h"

#define MAX_DG   4096
#define MAX_SMP  65536

/* One decoded sample. */
struct smp {
	uint32_t dg;              /* index of its datagram */
	uint32_t format, seq, source, rate, pool, drops, input, output, nrec;
	uint32_t direction;       /* counter samples: ifDirection */
};

struct fake {
	/* what the core sent */
	uint32_t n_dg;
	uint32_t dg_seq[MAX_DG], dg_len[MAX_DG], dg_uptime[MAX_DG], dg_n[MAX_DG];
	uint8_t dg_agent[MAX_DG][4];
	struct smp *s;
	uint32_t n_s;
	/* the fake kernel */
	uint64_t packets[64];     /* per kindex */
	int refuse;
	int refuse_kindex;        /* the kernel takes the rest, not this one */
	int n_install;
	uint32_t rnd;
};

static uint32_t rd(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int counting;      /* see memcpy below */

static void on_send(void *ctx, const uint8_t *buf, size_t len)
{
	struct fake *f = ctx;
	int was = counting;
	uint32_t i = f->n_dg++, n;
	const uint8_t *p = buf + 28, *end = buf + len;

	/* What the collector does with a datagram is not the core's copying
	 * (the check framework's assertions move bytes of their own). */
	counting = 0;

	ck_assert_uint_lt(i, MAX_DG);
	ck_assert_int_ge(sflow_validate(buf, len), 1);
	ck_assert_uint_eq(rd(buf + 4), 1);           /* IPv4 agent in these tests */
	memcpy(f->dg_agent[i], buf + 8, 4);
	f->dg_seq[i] = rd(buf + 16);
	f->dg_uptime[i] = rd(buf + 20);
	n = f->dg_n[i] = rd(buf + 24);
	f->dg_len[i] = (uint32_t)len;
	for (uint32_t k = 0; k < n; k++) {
		struct smp *s = &f->s[f->n_s++];
		uint32_t slen = rd(p + 4);

		ck_assert_uint_lt(f->n_s, MAX_SMP);
		memset(s, 0, sizeof *s);
		s->dg = i;
		s->format = rd(p);
		s->seq = rd(p + 8);
		s->source = rd(p + 12);
		if (s->format == 1) {
			s->rate = rd(p + 16);
			s->pool = rd(p + 20);
			s->drops = rd(p + 24);
			s->input = rd(p + 28);
			s->output = rd(p + 32);
			s->nrec = rd(p + 36);
		} else if (s->format == 2) {
			s->direction = rd(p + 44);
		}
		p += 8 + slen;
	}
	ck_assert_ptr_eq(p, end);
	counting = was;
}

static int on_counters(void *ctx, int kindex, struct if_counters *out)
{
	struct fake *f = ctx;

	if (kindex < 0 || kindex >= 64 || !f->packets[kindex])
		return -1;
	memset(out, 0, sizeof *out);
	out->in_ucast = f->packets[kindex];
	out->in_octets = f->packets[kindex] * 100;
	return 0;
}

static int on_install(void *ctx, const struct sfa_port *p, size_t n, uint8_t *refused,
		      char *why, size_t len)
{
	struct fake *f = ctx;

	f->n_install++;
	if (f->refuse) {
		snprintf(why, len, "refused by the test");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(refused[i], 0);
		if (p[i].rate && p[i].kindex == f->refuse_kindex) {
			refused[i] = 1;
			snprintf(why, len, "too long");
		}
	}
	return 0;
}

static uint32_t on_random(void *ctx)
{
	struct fake *f = ctx;

	/* xorshift: deterministic, well spread */
	f->rnd ^= f->rnd << 13;
	f->rnd ^= f->rnd >> 17;
	f->rnd ^= f->rnd << 5;
	return f->rnd;
}

static struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof *f);

	f->s = calloc(MAX_SMP, sizeof *f->s);
	f->rnd = 2463534242u;
	for (int i = 1; i < 64; i++)
		f->packets[i] = 1000;
	return f;
}

static void fake_free(struct fake *f)
{
	free(f->s);
	free(f);
}

static struct sfa_settings settings(size_t max_dg, int hold, size_t hold_bytes)
{
	struct sfa_settings s = { 0 };

	s.agent.family = AF_INET;
	inet_pton(AF_INET, "198.18.0.1", s.agent.a);
	s.polling_interval = 0;
	s.max_datagram = max_dg;
	s.hold = hold;
	s.hold_bytes = hold_bytes;
	return s;
}

static struct sflow_agent *agent(struct fake *f, const struct sfa_settings *s)
{
	struct sfa_callbacks cb = { f, on_send, on_counters, on_install, on_random, NULL };
	struct sflow_agent *a = sfa_new(s, &cb, 0);

	ck_assert_ptr_nonnull(a);
	return a;
}

static struct sfa_port port(int kindex, uint32_t ifindex, uint32_t rate)
{
	struct sfa_port p = { 0 };

	p.kindex = kindex;
	p.ifindex = ifindex;
	snprintf(p.name, sizeof p.name, "veth%d", kindex);
	p.arphrd = ARPHRD_ETHER;
	p.iftype = 6;
	p.admin = p.oper = 1;
	p.promisc = 2;
	p.rate = rate;
	return p;
}

static void sync_ok(struct sflow_agent *a, const struct sfa_port *p, size_t n, int64_t now)
{
	char why[128] = "";

	ck_assert_msg(sfa_sync(a, p, n, now, why, sizeof why) == 0, "sync: %s", why);
}

/* A 64-byte Ethernet frame on kindex (outgoing or not). */
static void frame(struct sflow_agent *a, int kindex, int outgoing, const struct fwd_info *fwd,
		  int64_t now)
{
	static uint8_t pkt[128] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00, 0x45 };
	struct sfa_frame fr = { kindex, outgoing, pkt, 64, 64, fwd };

	sfa_frame(a, &fr, now);
}

/* Flow samples of source ifIndex src, in arrival order, must be numbered
 * first, first+1, ... without a gap; returns how many. */
static uint32_t flow_seq_gapless(const struct fake *f, uint32_t src, uint32_t first)
{
	uint32_t want = first, n = 0;

	for (uint32_t i = 0; i < f->n_s; i++) {
		if (f->s[i].format != 1 || f->s[i].source != src)
			continue;
		ck_assert_uint_eq(f->s[i].seq, want);
		want++;
		n++;
	}
	return n;
}

START_TEST(flow_samples_basic)
{
	struct fake *f = fake_new();
	struct sfa_settings s = settings(1400, 0, 0);
	struct sflow_agent *a = agent(f, &s);
	struct sfa_port p[] = { port(3, 3, 10), port(4, 4, 0) };

	sync_ok(a, p, 2, 1000);
	ck_assert_int_eq(f->n_install, 1);
	ck_assert(sfa_is_sampled(a, 3));
	ck_assert(!sfa_is_sampled(a, 4));
	f->packets[3] += 50;
	frame(a, 3, 0, NULL, 1001);
	frame(a, 3, 1, NULL, 1002);
	frame(a, 4, 0, NULL, 1003);      /* not sampled: ignored */
	ck_assert_uint_eq(f->n_dg, 0);  /* queued */
	sfa_tick(a, 2002);
	ck_assert_uint_eq(f->n_dg, 1);
	ck_assert_uint_eq(f->n_s, 2);
	ck_assert_uint_eq(f->s[0].rate, 10);
	ck_assert_uint_eq(f->s[0].pool, 50);
	ck_assert_uint_eq(f->s[0].input, 3);
	ck_assert_uint_eq(f->s[0].output, SFLOW_IF_INTERNAL);
	ck_assert_uint_eq(f->s[1].input, SFLOW_IF_INTERNAL);
	ck_assert_uint_eq(f->s[1].output, 3);
	ck_assert_uint_eq(f->dg_seq[0], 1);
	ck_assert_uint_eq(f->dg_uptime[0], 2002);  /* since sfa_new at 0 */
	sfa_free(a);
	fake_free(f);
}
END_TEST

/* A reload (new settings, new rate) keeps sequence numbers going. */
START_TEST(sequence_continues_across_reload)
{
	struct fake *f = fake_new();
	struct sfa_settings s = settings(1400, 0, 0);
	struct sflow_agent *a = agent(f, &s);
	struct sfa_port p = port(3, 3, 10);

	sync_ok(a, &p, 1, 0);
	for (int i = 0; i < 5; i++)
		frame(a, 3, 0, NULL, 10 + i);
	s.sub_agent_id = 1;
	sfa_configure(a, &s, 100);
	p.rate = 20;
	sync_ok(a, &p, 1, 100);
	for (int i = 0; i < 5; i++)
		frame(a, 3, 0, NULL, 110 + i);
	sfa_flush(a, 200);
	ck_assert_uint_eq(flow_seq_gapless(f, 3, 1), 10);
	ck_assert_uint_eq(f->s[9].rate, 20);
	ck_assert_uint_eq(f->s[0].rate, 10);
	/* the datagram sequence continues too (same agent address) */
	ck_assert_uint_eq(f->n_dg, 2);
	ck_assert_uint_eq(f->dg_seq[1], 2);
	sfa_free(a);
	fake_free(f);
}
END_TEST

/* Same ifIndex, another kernel ifindex: a re-created interface. */
START_TEST(sequence_restarts_on_recreation)
{
	struct fake *f = fake_new();
	struct sfa_settings s = settings(1400, 0, 0);
	struct sflow_agent *a = agent(f, &s);
	struct sfa_port p = port(3, 3, 10);

	sync_ok(a, &p, 1, 0);
	f->packets[3] = 5000;
	frame(a, 3, 0, NULL, 1);
	frame(a, 3, 0, NULL, 2);
	p.kindex = 7;            /* re-created: kindex 7 now serves ifIndex 3 */
	f->packets[7] = 10;
	sync_ok(a, &p, 1, 300);
	f->packets[7] = 15;
	frame(a, 3, 0, NULL, 301);       /* the old kindex: no source any more */
	frame(a, 7, 0, NULL, 302);
	sfa_flush(a, 400);
	ck_assert_uint_eq(f->n_s, 3);
	ck_assert_uint_eq(f->s[1].seq, 2);
	ck_assert_uint_eq(f->s[2].seq, 1);
	ck_assert_uint_eq(f->s[2].source, 3);
	ck_assert_uint_eq(f->s[2].pool, 5);   /* from the new link's base */
	sfa_free(a);
	fake_free(f);
}
END_TEST

/* Datagrams are filled to the bound and never past it. */
static void packing_at(size_t max)
{
	struct fake *f = fake_new();
	struct sfa_settings s = settings(max, 0, 0);
	struct sflow_agent *a = agent(f, &s);
	struct sfa_port p = port(3, 3, 1);
	size_t one = 0;

	sync_ok(a, &p, 1, 0);
	for (int i = 0; i < 1000; i++)
		frame(a, 3, 0, NULL, 1);
	sfa_flush(a, 2);
	ck_assert_uint_eq(flow_seq_gapless(f, 3, 1), 1000);
	/* 28-byte header, flow samples of 8+32+8+16+64 = 128 bytes */
	one = 128;
	for (uint32_t i = 0; i < f->n_dg; i++) {
		ck_assert_uint_le(f->dg_len[i], max);
		if (i + 1 < f->n_dg)
			ck_assert_uint_gt(f->dg_len[i] + one, max);  /* full */
		ck_assert_uint_eq(f->dg_seq[i], i + 1);
	}
	ck_assert_uint_eq(f->dg_n[0], (max - 28) / one);
	sfa_free(a);
	fake_free(f);
}

START_TEST(packing_1232)
{
	packing_at(1232);
}
END_TEST

START_TEST(packing_1400)
{
	packing_at(1400);
}
END_TEST

/* 60 sources polled every 20 s: their first polls spread over the
 * interval instead of landing in one second. */
START_TEST(counter_polls_staggered)
{
	struct fake *f = fake_new();
	struct sfa_settings s = settings(1400, 0, 0);
	struct sflow_agent *a;
	struct sfa_port p[60];
	int seconds[20] = { 0 }, used = 0, most = 0;
	int64_t t;

	s.polling_interval = 20;
	a = agent(f, &s);
	for (int i = 0; i < 60; i++)
		p[i] = port(i + 1, (uint32_t)(i + 1), 100);
	sync_ok(a, p, 60, 0);
	/* one sample each within the first interval, at a spread of times */
	for (t = 0; t < 20000; t += 100) {
		uint32_t before = f->n_s;

		sfa_tick(a, t);
		sfa_flush(a, t);
		for (uint32_t i = before; i < f->n_s; i++)
			seconds[t / 1000]++;
	}
	ck_assert_uint_eq(f->n_s, 60);
	for (int i = 0; i < 20; i++) {
		used += seconds[i] > 0;
		if (seconds[i] > most)
			most = seconds[i];
	}
	ck_assert_int_ge(used, 15);
	ck_assert_int_le(most, 10);
	/* and each source again 20 s after its first */
	for (; t < 40000; t += 100)
		sfa_tick(a, t);
	sfa_flush(a, t);
	ck_assert_uint_eq(f->n_s, 120);
	for (uint32_t i = 0; i < f->n_s; i++)
		ck_assert_uint_eq(f->s[i].format, 2);
	sfa_free(a);
	fake_free(f);
}
END_TEST

/* While SNMP cannot answer, nothing goes out; then everything does. */
START_TEST(holding_until_answerable)
{
	struct fake *f = fake_new();
	struct sfa_settings s = settings(1400, 1, 1 << 20);
	struct sflow_agent *a = agent(f, &s);
	struct sfa_port p = port(3, 3, 1);

	sync_ok(a, &p, 1, 0);
	for (int i = 0; i < 500; i++)
		frame(a, 3, 0, NULL, i * 10);
	sfa_tick(a, 6000);
	ck_assert_uint_eq(f->n_dg, 0);
	sfa_set_answerable(a, 1, 6001);
	ck_assert_uint_gt(f->n_dg, 0);
	ck_assert_uint_eq(flow_seq_gapless(f, 3, 1), 500);
	for (uint32_t i = 0; i < f->n_s; i++)
		ck_assert_uint_eq(f->s[i].drops, 0);
	sfa_free(a);
	fake_free(f);
}
END_TEST

/* hold off: sent whatever SNMP says. */
START_TEST(holding_off_sends)
{
	struct fake *f = fake_new();
	struct sfa_settings s = settings(1400, 0, 0);
	struct sflow_agent *a = agent(f, &s);
	struct sfa_port p = port(3, 3, 1);

	sync_ok(a, &p, 1, 0);
	frame(a, 3, 0, NULL, 1);
	sfa_tick(a, 1001);
	ck_assert_uint_eq(f->n_dg, 1);
	sfa_free(a);
	fake_free(f);
}
END_TEST

/* A full hold drops samples before they get a number, and says how many in
 * the drops of that source's next flow sample. */
START_TEST(drops_when_hold_full)
{
	struct fake *f = fake_new();
	/* below the queue's floor: the floor (64 KiB) decides */
	struct sfa_settings s = settings(1400, 1, 1);
	struct sflow_agent *a = agent(f, &s);
	struct sfa_port p = port(3, 3, 1);
	/* 128-byte samples: at most 64 KiB of them held, in whole datagrams
	 * (a datagram's tail that no sample fits is part of the bound) */
	uint32_t bytes = (64u << 10) / 128, offered = bytes + 100, fit, dropped;

	sync_ok(a, &p, 1, 0);
	for (uint32_t i = 0; i < offered; i++)
		frame(a, 3, 0, NULL, 1);
	sfa_set_answerable(a, 1, 2);
	fit = flow_seq_gapless(f, 3, 1);
	ck_assert_uint_le(fit, bytes);
	ck_assert_uint_ge(fit, bytes * 9 / 10);
	dropped = offered - fit;
	ck_assert_uint_eq(f->s[fit - 1].drops, 0);
	frame(a, 3, 0, NULL, 3);
	sfa_flush(a, 4);
	ck_assert_uint_eq(f->s[fit].seq, fit + 1);
	ck_assert_uint_eq(f->s[fit].drops, dropped);
	/* ring drops join the next sample's drops, cumulatively */
	sfa_ring_drops(a, 7);
	frame(a, 3, 0, NULL, 5);
	sfa_flush(a, 6);
	ck_assert_uint_eq(f->s[fit + 1].drops, dropped + 7);
	sfa_free(a);
	fake_free(f);
}
END_TEST

/* A refused install keeps the rate in force in the samples. */
START_TEST(refused_install_keeps_rate)
{
	struct fake *f = fake_new();
	struct sfa_settings s = settings(1400, 0, 0);
	struct sflow_agent *a = agent(f, &s);
	struct sfa_port p[] = { port(3, 3, 10), port(4, 4, 0) };
	char why[128] = "";

	sync_ok(a, p, 2, 0);
	f->refuse = 1;
	p[0].rate = 20;          /* a reload asks for 1:20 on 3 and 1:5 on 4 */
	p[1].rate = 5;
	ck_assert_int_eq(sfa_sync(a, p, 2, 10, why, sizeof why), -1);
	ck_assert_str_eq(why, "refused by the test");
	frame(a, 3, 0, NULL, 11);
	frame(a, 4, 0, NULL, 12);        /* the kernel does not sample 4 */
	sfa_flush(a, 20);
	ck_assert_uint_eq(f->n_s, 1);
	ck_assert_uint_eq(f->s[0].rate, 10);
	ck_assert(!sfa_is_sampled(a, 4));
	/* accepted later: the new rates */
	f->refuse = 0;
	sync_ok(a, p, 2, 30);
	frame(a, 3, 0, NULL, 31);
	sfa_flush(a, 40);
	ck_assert_uint_eq(f->s[1].rate, 20);
	ck_assert_uint_eq(f->s[1].seq, 2);
	sfa_free(a);
	fake_free(f);
}
END_TEST

/* The kernel takes some: the others are no sources (no sample, no counter
 * sample), are listed as unsampled, and are not asked for again until what
 * is wanted changes. */
START_TEST(kernel_refuses_one)
{
	struct fake *f = fake_new();
	struct sfa_settings s = settings(1400, 0, 0);
	struct sflow_agent *a = agent(f, &s);
	struct sfa_port p[] = { port(3, 3, 10), port(4, 4, 10), port(5, 5, 0) };
	struct sfa_port un[4];

	f->refuse_kindex = 4;
	sync_ok(a, p, 3, 0);
	ck_assert_int_eq(f->n_install, 1);
	ck_assert(sfa_is_sampled(a, 3));
	ck_assert(!sfa_is_sampled(a, 4));
	ck_assert_uint_eq(sfa_unsampled(a, un, 4), 1);
	ck_assert_int_eq(un[0].kindex, 4);
	frame(a, 4, 0, NULL, 1);
	frame(a, 3, 0, NULL, 2);
	sfa_flush(a, 3);
	ck_assert_uint_eq(f->n_s, 1);
	ck_assert_uint_eq(f->s[0].source, 3);
	/* The same wanted again (a table change elsewhere): not asked again. */
	p[2].speed_bps = 1000;
	sync_ok(a, p, 3, 4);
	ck_assert_int_eq(f->n_install, 1);
	/* A reload asks again, once. */
	sfa_retry_refused(a);
	sync_ok(a, p, 3, 4);
	ck_assert_int_eq(f->n_install, 2);
	sync_ok(a, p, 3, 4);
	ck_assert_int_eq(f->n_install, 2);
	/* Another rate wanted for 4: asked, and taken now. */
	f->refuse_kindex = 0;
	p[1].rate = 20;
	sync_ok(a, p, 3, 5);
	ck_assert_int_eq(f->n_install, 3);
	ck_assert(sfa_is_sampled(a, 4));
	ck_assert_uint_eq(sfa_unsampled(a, un, 4), 0);
	sfa_free(a);
	fake_free(f);
}
END_TEST

/* The pool is the packets that could have been sampled: the counters, less
 * `rate` for every drawn packet that is not a sample here (the kernel's
 * rejected draws; the egress copy of a packet forwarded from a sampled
 * interface). It never goes back. */
START_TEST(pool_less_rejected)
{
	struct fake *f = fake_new();
	struct sfa_settings s = settings(1400, 0, 0);
	struct sflow_agent *a = agent(f, &s);
	struct sfa_port p[] = { port(3, 3, 5), port(4, 4, 5) };
	struct fwd_info in = { 1, 3, 4, { 0 }, 24, 16, AF_INET };

	sync_ok(a, p, 2, 0);
	f->packets[3] += 100;
	f->packets[4] += 100;
	sfa_rejected(a, 3);                 /* filtered out, or our own */
	sfa_rejected(a, 3);
	frame(a, 3, 0, NULL, 1000);
	frame(a, 4, 1, &in, 1000);          /* forwarded from 3 (sampled): skipped */
	frame(a, 4, 0, NULL, 1000);
	sfa_flush(a, 1001);
	ck_assert_uint_eq(f->n_s, 2);
	ck_assert_uint_eq(f->s[0].source, 3);
	ck_assert_uint_eq(f->s[0].pool, 100 - 2 * 5);
	ck_assert_uint_eq(f->s[1].source, 4);
	ck_assert_uint_eq(f->s[1].pool, 100 - 5);
	/* More rejections than packets since: the pool stays, never back. */
	for (int i = 0; i < 10; i++)
		sfa_rejected(a, 3);
	f->packets[3] += 10;
	frame(a, 3, 0, NULL, 2000);
	sfa_flush(a, 2001);
	ck_assert_uint_eq(f->s[2].pool, 90);
	f->packets[3] += 100;
	frame(a, 3, 0, NULL, 3000);
	sfa_flush(a, 3001);
	ck_assert_uint_eq(f->s[3].pool, 100 + 10 + 100 - 12 * 5);
	/* A kindex not sampled, or gone: nothing happens. */
	sfa_rejected(a, 9);
	sfa_free(a);
	fake_free(f);
}
END_TEST

/* A router's two interfaces at 1:5 with forwarded and host traffic mixed,
 * the kernel's draws simulated: on each, pool / samples estimates 5 (within
 * 5 sd), where the interface counters alone would give about 7.5 on the
 * egress side. */
START_TEST(pool_estimates_rate_on_router)
{
	struct fake *f = fake_new();
	struct sfa_settings s = settings(1400, 0, 0);
	struct sflow_agent *a = agent(f, &s);
	struct sfa_port p[] = { port(3, 3, 5), port(4, 4, 5) };
	struct fwd_info fwd34 = { 1, 3, 4, { 0 }, 24, 16, AF_INET };
	struct fwd_info fwd43 = { 1, 4, 3, { 0 }, 24, 16, AF_INET };
	uint32_t rnd = 12345, first[2] = { 0 }, last[2] = { 0 }, k[2] = { 0 };
	int64_t now = 0;

	sync_ok(a, p, 2, 0);
	for (int i = 0; i < 40000; i++) {
		/* 3 -> 4 forwarded (half), 4 -> 3 forwarded, host in on 3, host out of 4. */
		int kind = i % 6 < 3 ? 0 : i % 6 == 3 ? 1 : i % 6 == 4 ? 2 : 3;
		int in = kind == 0 || kind == 2 ? 3 : 4, out = kind == 0 ? 4 : kind == 1 ? 3 : 0;
		const struct fwd_info *w = kind == 0 ? &fwd34 : kind == 1 ? &fwd43 : NULL;

		if (kind == 3) {
			in = 0;
			out = 4;
		}
		now = i / 50;   /* 50 packets a millisecond */
		if (in) {
			f->packets[in]++;
			rnd = rnd * 1103515245u + 12345u;
			if ((rnd >> 16) % 5 == 0)
				frame(a, in, 0, w, now);
		}
		if (out) {
			f->packets[out]++;
			rnd = rnd * 1103515245u + 12345u;
			if ((rnd >> 16) % 5 == 0)
				frame(a, out, 1, w, now);
		}
		if (i % 1000 == 0)
			sfa_tick(a, now);
	}
	/* One more sample each once the counters were read after the last. */
	frame(a, 3, 0, NULL, now + 200);
	frame(a, 4, 0, NULL, now + 200);
	f->packets[3]++;
	f->packets[4]++;
	sfa_flush(a, now + 300);
	for (uint32_t i = 0; i < f->n_s; i++) {
		int j = f->s[i].source == 4;

		if (!k[j]++)
			first[j] = f->s[i].pool;
		last[j] = f->s[i].pool;
	}
	for (int j = 0; j < 2; j++) {
		double pool = (double)(last[j] - first[j]), n = k[j] - 1;
		/* Binomial sd of the samples, doubled for the pool's own
		 * estimate (the rejected draws are a binomial count too). */
		double sd = sqrt(2 * pool * 0.2 * 0.8);

		fprintf(stderr, "check_sflow_agent: router ifIndex %d: pool %.0f, %.0f samples, "
			"pool/samples %.3f\n", j + 3, pool, n, pool / n);
		ck_assert_msg(fabs(n - pool / 5) < 5 * sd, "ifIndex %d: %.0f samples, pool %.0f",
			      j + 3, n, pool);
	}
	sfa_free(a);
	fake_free(f);
}
END_TEST

/* ifDirection in counter samples: the duplex the table reports. */
START_TEST(if_direction_from_duplex)
{
	struct fake *f = fake_new();
	struct sfa_settings s = settings(1400, 0, 0);
	struct sflow_agent *a;
	struct sfa_port p[] = { port(3, 3, 10), port(4, 4, 10), port(5, 5, 10) };

	s.polling_interval = 1;
	a = agent(f, &s);
	p[0].if_direction = SFLOW_DIR_FULL;
	p[1].if_direction = SFLOW_DIR_HALF;
	sync_ok(a, p, 3, 0);
	for (int64_t t = 0; t <= 2000; t += 100)
		sfa_tick(a, t);
	sfa_flush(a, 2000);
	ck_assert_uint_ge(f->n_s, 3);
	for (uint32_t i = 0; i < f->n_s; i++) {
		ck_assert_uint_eq(f->s[i].format, 2);
		ck_assert_uint_eq(f->s[i].direction, f->s[i].source == 3 ? 1 :
				  f->s[i].source == 4 ? 2 : 0);
	}
	sfa_free(a);
	fake_free(f);
}
END_TEST

/* Forwarded: both interfaces at ingress, the egress copy not again. */
START_TEST(forwarded_once_both_sides)
{
	struct fake *f = fake_new();
	struct sfa_settings s = settings(1400, 0, 0);
	struct sflow_agent *a = agent(f, &s);
	struct sfa_port p[] = { port(3, 30, 1), port(4, 40, 1), port(5, 50, 0) };
	struct fwd_info in = { 1, 3, 4, { 0 }, 24, 16, AF_INET };
	struct fwd_info in5 = { 1, 5, 3, { 0 }, 24, 16, AF_INET };

	sync_ok(a, p, 3, 0);
	frame(a, 3, 0, &in, 1);   /* in on 3, routed out of 4 */
	frame(a, 4, 1, &in, 2);   /* its copy leaving 4: counted already */
	frame(a, 3, 1, &in5, 3);  /* from 5 (not sampled), leaving 3 */
	sfa_flush(a, 4);
	ck_assert_uint_eq(f->n_s, 2);
	ck_assert_uint_eq(f->s[0].input, 30);
	ck_assert_uint_eq(f->s[0].output, 40);
	ck_assert_uint_eq(f->s[0].nrec, 2);   /* header + extended_router */
	ck_assert_uint_eq(f->s[1].input, 50);
	ck_assert_uint_eq(f->s[1].output, 30);
	sfa_free(a);
	fake_free(f);
}
END_TEST

/* A forwarded IPv6 packet whose next hop the kernel did not say (a route
 * lookup without an answer) but whose source route is a /64: the sample
 * goes, its unknown next hop as :: (0.0.0.0 would not take a /64 and the
 * encoder refused the whole sample; fuzz_frame found it). */
START_TEST(forwarded_v6_nexthop_unknown)
{
	struct fake *f = fake_new();
	struct sfa_settings s = settings(1400, 0, 0);
	struct sflow_agent *a = agent(f, &s);
	struct sfa_port p[] = { port(3, 30, 1), port(5, 50, 0) };
	struct fwd_info v6 = { 1, 3, 0, { 0 }, 64, 0, AF_INET6 };
	struct fwd_info v6out = { 1, 5, 3, { 0 }, 56, 0, AF_INET6 };

	sync_ok(a, p, 2, 0);
	frame(a, 3, 0, &v6, 1);
	frame(a, 3, 1, &v6out, 2);
	sfa_flush(a, 3);
	ck_assert_uint_eq(f->n_s, 2);
	ck_assert_uint_eq(f->s[0].input, 30);
	ck_assert_uint_eq(f->s[0].output, 0);    /* out unknown */
	ck_assert_uint_eq(f->s[0].nrec, 2);      /* header + extended_router */
	ck_assert_uint_eq(f->s[1].input, 50);
	ck_assert_uint_eq(f->s[1].nrec, 2);
	ck_assert_uint_eq(flow_seq_gapless(f, 30, 1), 2);
	sfa_free(a);
	fake_free(f);
}
END_TEST

/* A new agent address: a new epoch (sequence and uptime restart). */
START_TEST(agent_address_epoch)
{
	struct fake *f = fake_new();
	struct sfa_settings s = settings(1400, 0, 0);
	struct sflow_agent *a = agent(f, &s);
	struct sfa_port p = port(3, 3, 1);
	struct hf_addr other = { AF_INET, { 198, 18, 0, 9 } };

	sync_ok(a, &p, 1, 0);
	frame(a, 3, 0, NULL, 1);
	sfa_flush(a, 2);
	frame(a, 3, 0, NULL, 3);
	sfa_flush(a, 4);
	frame(a, 3, 0, NULL, 5);
	sfa_set_agent(a, &other, 5000);  /* the queued sample goes first */
	frame(a, 3, 0, NULL, 5001);
	sfa_flush(a, 5500);
	ck_assert_uint_eq(f->n_dg, 4);
	ck_assert_uint_eq(f->dg_seq[2], 3);
	ck_assert_uint_eq(f->dg_agent[2][3], 1);
	ck_assert_uint_eq(f->dg_seq[3], 1);
	ck_assert_uint_eq(f->dg_agent[3][3], 9);
	ck_assert_uint_eq(f->dg_uptime[3], 500);
	/* sample sequence numbers are the source's: they go on */
	ck_assert_uint_eq(flow_seq_gapless(f, 3, 1), 4);
	sfa_free(a);
	fake_free(f);
}
END_TEST

/* ---- each sample written once ---- */

/* Every memcpy and memmove of this program goes through these (the core's
 * calls included: the test binary defines them, so they come first); while
 * counting, they add up the bytes they move. The compiler inlines copies
 * of a fixed small size, which stay uncounted; a sample's raw header
 * (variable) and any copy of an encoded sample (variable) are counted. */
static size_t moved;

__attribute__((optimize("no-tree-loop-distribute-patterns")))
void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (counting)
		moved += n;
	while (n--)
		*d++ = *s++;
	return dst;
}

__attribute__((optimize("no-tree-loop-distribute-patterns")))
void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (counting)
		moved += n;
	if (d < s) {
		while (n--)
			*d++ = *s++;
	} else {
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

/* 3,000 flow samples and their datagrams, sent at once or held and sent
 * later: what is moved is each sample's 64-byte header, once, from the
 * frame into the datagram it is sent from. A queue that copied samples into
 * datagrams, or again at each enqueue, moves several times that. */
static void written_once(int hold)
{
	struct fake *f = fake_new();
	struct sfa_settings s = settings(1400, hold, 4u << 20);
	struct sflow_agent *a = agent(f, &s);
	struct sfa_port p = port(3, 3, 1);
	struct sfa_stats st;
	const uint32_t n = 3000, header = 64;

	sync_ok(a, &p, 1, 0);
	if (!hold)
		sfa_set_answerable(a, 1, 0);
	moved = 0;
	counting = 1;
	for (uint32_t i = 0; i < n; i++)
		frame(a, 3, 0, NULL, 1 + i / 1000);
	if (hold)
		sfa_set_answerable(a, 1, 5);
	sfa_flush(a, 6);
	counting = 0;
	ck_assert_uint_eq(flow_seq_gapless(f, 3, 1), n);
	ck_assert_msg(moved >= (size_t)n * header && moved <= (size_t)n * (header + 8),
		      "%zu bytes moved for %u samples of a %u-byte header", moved, n, header);
	sfa_get_stats(a, &st);
	ck_assert_uint_eq(st.copied_samples, 0);
	/* full datagrams, as before */
	for (uint32_t i = 0; i + 1 < f->n_dg; i++)
		ck_assert_uint_gt(f->dg_len[i] + 128, 1400);
	sfa_free(a);
	fake_free(f);
}

START_TEST(samples_written_once)
{
	written_once(0);
}
END_TEST

START_TEST(held_samples_written_once)
{
	written_once(1);
}
END_TEST

/* The one case for a second copy: datagrams held, laid out for 1400 bytes,
 * when the path shrinks to 600. They are repacked, each sample once more,
 * into datagrams of the new bound, the sequence unbroken. */
START_TEST(repacked_when_the_path_shrinks)
{
	struct fake *f = fake_new();
	struct sfa_settings s = settings(1400, 1, 4u << 20);
	struct sflow_agent *a = agent(f, &s);
	struct sfa_port p = port(3, 3, 1);
	struct sfa_stats st;

	sync_ok(a, &p, 1, 0);
	for (int i = 0; i < 30; i++)
		frame(a, 3, 0, NULL, 1);
	sfa_set_max_datagram(a, 600);
	for (int i = 0; i < 5; i++)
		frame(a, 3, 0, NULL, 2);
	sfa_set_answerable(a, 1, 3);
	ck_assert_uint_eq(flow_seq_gapless(f, 3, 1), 35);
	for (uint32_t i = 0; i < f->n_dg; i++) {
		ck_assert_uint_le(f->dg_len[i], 600);
		ck_assert_uint_eq(f->dg_seq[i], i + 1);
	}
	sfa_get_stats(a, &st);
	ck_assert_uint_eq(st.copied_samples, 30);
	sfa_free(a);
	fake_free(f);
}
END_TEST

static Suite *agent_suite(void)
{
	Suite *s = suite_create("sflow_agent");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, flow_samples_basic);
	tcase_add_test(tc, sequence_continues_across_reload);
	tcase_add_test(tc, sequence_restarts_on_recreation);
	tcase_add_test(tc, packing_1232);
	tcase_add_test(tc, packing_1400);
	tcase_add_test(tc, counter_polls_staggered);
	tcase_add_test(tc, holding_until_answerable);
	tcase_add_test(tc, holding_off_sends);
	tcase_add_test(tc, drops_when_hold_full);
	tcase_add_test(tc, refused_install_keeps_rate);
	tcase_add_test(tc, forwarded_once_both_sides);
	tcase_add_test(tc, kernel_refuses_one);
	tcase_add_test(tc, pool_less_rejected);
	tcase_add_test(tc, pool_estimates_rate_on_router);
	tcase_add_test(tc, if_direction_from_duplex);
	tcase_add_test(tc, forwarded_v6_nexthop_unknown);
	tcase_add_test(tc, agent_address_epoch);
	tcase_add_test(tc, samples_written_once);
	tcase_add_test(tc, held_samples_written_once);
	tcase_add_test(tc, repacked_when_the_path_shrinks);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hf_run(agent_suite(), CK_FORK_GETENV);
}
