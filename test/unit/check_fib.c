/* fib: the mirrored routing without root, from messages built here as the
 * kernel sends them: routes added, replaced, appended, deleted (and seen
 * twice, a dump after events); what makes the routes dumped again (a link
 * with routes down or away, a preferred source deleted); the bounds; IPv6
 * expiry; and the cells: two addresses of one cell always get the same
 * answers (random routing tables and rules, random addresses). Against the
 * kernel's own answers: check_route. */
#include <check.h>
#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sflow/core/fib.h"
#include "fibmsg.h"
#include "hf_check.h"

/* ---- messages ---- */

/* fibmsg.c's builders, a message without room for an attribute failing
 * the test. */
static void attr(struct fibmsg *m, unsigned short type, const void *d, size_t len)
{
	ck_assert_ptr_nonnull(fibmsg_attr(m, type, d, len));
}

static void u32attr(struct fibmsg *m, unsigned short type, uint32_t v)
{
	ck_assert_ptr_nonnull(fibmsg_u32(m, type, v));
}

static int fam(const char *a)
{
	return strchr(a, ':') ? AF_INET6 : AF_INET;
}

/* An RTM_NEWROUTE / RTM_DELROUTE: "PREFIX/LEN" in table, via gw (or NULL)
 * out of oif, with a metric. */
static void route_msg(struct fibmsg *m, uint16_t type, uint16_t flags, uint8_t rtype, uint32_t table,
		      const char *prefix, int len, const char *gw, int oif, uint32_t metric)
{
	int f = fam(prefix);
	struct rtmsg *r = fibmsg_begin(m, type, flags, sizeof *r);
	uint8_t a[16];

	r->rtm_family = (uint8_t)f;
	r->rtm_dst_len = (uint8_t)len;
	r->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	r->rtm_protocol = RTPROT_BOOT;
	r->rtm_type = rtype;
	ck_assert_int_eq(inet_pton(f, prefix, a), 1);
	attr(m, RTA_DST, a, fibmsg_alen(f));
	u32attr(m, RTA_TABLE, table);
	if (metric)
		u32attr(m, RTA_PRIORITY, metric);
	if (oif)
		u32attr(m, RTA_OIF, (uint32_t)oif);
	if (gw) {
		ck_assert_int_eq(inet_pton(f, gw, a), 1);
		attr(m, RTA_GATEWAY, a, fibmsg_alen(f));
	}
}

static void apply_route(struct fib *fib, uint16_t type, uint16_t flags, uint8_t rtype, uint32_t table,
			const char *prefix, int len, const char *gw, int oif, uint32_t metric,
			enum fib_change want)
{
	struct fibmsg m;

	route_msg(&m, type, flags, rtype, table, prefix, len, gw, oif, metric);
	ck_assert_int_eq(fib_apply(fib, &m.n, 0), want);
}

/* A router: links 2 (r1) and 3 (r2) up, forwarding, default rules. */
static struct fib *router(void)
{
	struct fib *fib = fib_new();

	ck_assert_ptr_nonnull(fib);
	ck_assert_int_eq(fibmsg_link(fib, RTM_NEWLINK, 1, "lo", IFF_UP | IFF_LOOPBACK), FIB_CHANGED);
	ck_assert_int_eq(fibmsg_link(fib, RTM_NEWLINK, 2, "r1", IFF_UP | IFF_RUNNING), FIB_CHANGED);
	ck_assert_int_eq(fibmsg_link(fib, RTM_NEWLINK, 3, "r2", IFF_UP | IFF_RUNNING), FIB_CHANGED);
	for (int k = 1; k <= 3; k++)
		fibmsg_netconf(fib, AF_INET, k, 1, 0);
	/* The kernel's rules: local, main, default; IPv6 has no default's. */
	ck_assert_int_eq(fibmsg_rule_to(fib, AF_INET, 0, 255), FIB_CHANGED);
	ck_assert_int_eq(fibmsg_rule_to(fib, AF_INET, 32766, 254), FIB_CHANGED);
	ck_assert_int_eq(fibmsg_rule_to(fib, AF_INET, 32767, 253), FIB_CHANGED);
	ck_assert_int_eq(fibmsg_rule_to(fib, AF_INET6, 0, 255), FIB_CHANGED);
	ck_assert_int_eq(fibmsg_rule_to(fib, AF_INET6, 32766, 254), FIB_CHANGED);
	apply_route(fib, RTM_NEWROUTE, 0, RTN_UNICAST, 254, "198.18.1.0", 24, NULL, 2, 0, FIB_CHANGED);
	apply_route(fib, RTM_NEWROUTE, 0, RTN_UNICAST, 254, "198.18.2.0", 24, NULL, 3, 0, FIB_CHANGED);
	return fib;
}

/* The output interface and gateway the mirror gives dst arriving on r1,
 * as "oif gw" ("-" when not found). */
static const char *ask(struct fib *fib, const char *dst, int64_t now)
{
	static char out[80];
	uint8_t d[16], s[16] = { 0 };
	struct fib_answer a;
	char g[INET6_ADDRSTRLEN] = "onlink";
	int f = fam(dst);

	ck_assert_int_eq(inet_pton(f, dst, d), 1);
	inet_pton(f, f == AF_INET ? "198.18.1.2" : "fd7a:115c:a1e0:1::2", s);
	if (fib_input(fib, f, d, s, 2, now, &a) != FIB_FOUND)
		return "-";
	if (a.gw.family)
		inet_ntop(a.gw.family, a.gw.a, g, sizeof g);
	snprintf(out, sizeof out, "%d %s /%u%s", a.oif, g, a.dst_len,
		 a.type == RTN_UNICAST ? "" : " not unicast");
	return out;
}

START_TEST(routes_from_messages)
{
	struct fib *fib = router();
	struct fibmsg m;

	ck_assert_str_eq(ask(fib, "198.19.5.1", 0), "-");
	apply_route(fib, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, RTN_UNICAST, 254, "198.19.0.0", 16,
		    "198.18.2.2", 3, 0, FIB_CHANGED);
	ck_assert_str_eq(ask(fib, "198.19.5.1", 0), "3 198.18.2.2 /16");
	/* The same route again (a dump after its event): one route still. */
	apply_route(fib, RTM_NEWROUTE, NLM_F_MULTI, RTN_UNICAST, 254, "198.19.0.0", 16,
		    "198.18.2.2", 3, 0, FIB_CHANGED);
	ck_assert_uint_eq(fib_route_count(fib, AF_INET), 3);
	/* Replaced in place. */
	apply_route(fib, RTM_NEWROUTE, NLM_F_REPLACE, RTN_UNICAST, 254, "198.19.0.0", 16,
		    "198.18.1.2", 2, 0, FIB_CHANGED);
	ck_assert_str_eq(ask(fib, "198.19.5.1", 0), "2 198.18.1.2 /16");
	ck_assert_uint_eq(fib_route_count(fib, AF_INET), 3);
	/* Appended after it (same TOS and metric): the first still serves;
	 * deleted, the appended one does. */
	apply_route(fib, RTM_NEWROUTE, NLM_F_APPEND, RTN_UNICAST, 254, "198.19.0.0", 16,
		    "198.18.2.9", 3, 0, FIB_CHANGED);
	ck_assert_str_eq(ask(fib, "198.19.5.1", 0), "2 198.18.1.2 /16");
	apply_route(fib, RTM_DELROUTE, 0, RTN_UNICAST, 254, "198.19.0.0", 16, "198.18.1.2", 2, 0,
		    FIB_CHANGED);
	ck_assert_str_eq(ask(fib, "198.19.5.1", 0), "3 198.18.2.9 /16");
	/* A deletion of what is not held changes nothing. */
	apply_route(fib, RTM_DELROUTE, 0, RTN_UNICAST, 254, "198.19.0.0", 16, "198.18.1.2", 2, 0,
		    FIB_SAME);
	/* A lower metric wins; a more specific route wins over both. */
	apply_route(fib, RTM_NEWROUTE, 0, RTN_UNICAST, 254, "198.19.0.0", 16, "198.18.1.7", 2, 5,
		    FIB_CHANGED);
	ck_assert_str_eq(ask(fib, "198.19.5.1", 0), "3 198.18.2.9 /16");
	apply_route(fib, RTM_NEWROUTE, 0, RTN_BLACKHOLE, 254, "198.19.5.0", 24, NULL, 0, 0,
		    FIB_CHANGED);
	ck_assert_str_eq(ask(fib, "198.19.5.1", 0), "-");
	ck_assert_str_eq(ask(fib, "198.19.6.1", 0), "3 198.18.2.9 /16");
	/* Cloned routes (the kernel's cache) are not routes. */
	route_msg(&m, RTM_NEWROUTE, 0, RTN_UNICAST, 254, "198.19.6.1", 32, "198.18.1.9", 2, 0);
	((struct rtmsg *)NLMSG_DATA(&m.n))->rtm_flags |= RTM_F_CLONED;
	ck_assert_int_eq(fib_apply(fib, &m.n, 0), FIB_SAME);
	ck_assert_str_eq(ask(fib, "198.19.6.1", 0), "3 198.18.2.9 /16");
	/* Truncated messages are ignored. */
	m.n.nlmsg_len = NLMSG_LENGTH(2);
	ck_assert_int_eq(fib_apply(fib, &m.n, 0), FIB_SAME);
	fib_free(fib);
}
END_TEST

/* The kernel flushes the IPv4 routes through a link going down or away, and
 * those preferring a deleted address as source, without a route event. */
START_TEST(silent_flushes_ask_for_a_dump)
{
	struct fib *fib = router();
	struct fibmsg m;
	struct ifaddrmsg *ifa;
	uint8_t a[4];
	struct rtmsg *r;

	/* A link without routes through it: no dump needed. */
	ck_assert_int_eq(fibmsg_link(fib, RTM_NEWLINK, 9, "x9", IFF_UP), FIB_CHANGED);
	ck_assert_int_eq(fibmsg_link(fib, RTM_NEWLINK, 9, "x9", 0), FIB_CHANGED);
	ck_assert_int_eq(fibmsg_link(fib, RTM_DELLINK, 9, "x9", 0), FIB_CHANGED);
	/* r2 carries a route: down means a dump. */
	ck_assert_int_eq(fibmsg_link(fib, RTM_NEWLINK, 3, "r2", 0), FIB_CHANGED | FIB_REDUMP);
	ck_assert_int_eq(fibmsg_link(fib, RTM_NEWLINK, 3, "r2", 0), FIB_SAME);	/* nothing new */
	ck_assert_int_eq(fibmsg_link(fib, RTM_DELLINK, 3, "r2", 0), FIB_CHANGED | FIB_REDUMP);
	/* A route preferring 198.18.1.1 as source; the address goes. */
	route_msg(&m, RTM_NEWROUTE, 0, RTN_UNICAST, 254, "198.20.0.0", 16, "198.18.1.2", 2, 0);
	inet_pton(AF_INET, "198.18.1.1", a);
	attr(&m, RTA_PREFSRC, a, 4);
	ck_assert_int_eq(fib_apply(fib, &m.n, 0), FIB_CHANGED);
	ifa = fibmsg_begin(&m, RTM_NEWADDR, 0, sizeof *ifa);
	ifa->ifa_family = AF_INET;
	ifa->ifa_index = 2;
	attr(&m, IFA_LOCAL, a, 4);
	ck_assert_int_eq(fib_apply(fib, &m.n, 0), FIB_CHANGED);
	m.n.nlmsg_type = RTM_DELADDR;
	ck_assert_int_eq(fib_apply(fib, &m.n, 0), FIB_CHANGED | FIB_REDUMP);
	inet_pton(AF_INET, "198.18.1.7", a);
	ifa = fibmsg_begin(&m, RTM_DELADDR, 0, sizeof *ifa);
	ifa->ifa_family = AF_INET;
	ifa->ifa_index = 2;
	attr(&m, IFA_LOCAL, a, 4);
	ck_assert_int_eq(fib_apply(fib, &m.n, 0), FIB_CHANGED);
	/* Messages of no interest. */
	r = fibmsg_begin(&m, RTM_NEWNEIGH, 0, sizeof *r);
	ck_assert_int_eq(fib_apply(fib, &m.n, 0), FIB_SAME);
	(void)r;
	fib_free(fib);
}
END_TEST

START_TEST(bounded)
{
	struct fib *fib = router();
	struct fib_route r;
	uint8_t d[16], s[16] = { 198, 18, 1, 2 };
	struct fib_answer a;
	int i;

	memset(&r, 0, sizeof r);
	r.family = AF_INET;
	r.dst_len = 32;
	r.type = RTN_UNICAST;
	r.table = 254;
	r.npaths = 1;
	r.path[0].oif = 3;
	for (i = 0; i < FIB_MAX_ROUTES; i++) {	/* two more than fit */
		r.dst[0] = 10;
		r.dst[1] = (uint8_t)(i >> 16);
		r.dst[2] = (uint8_t)(i >> 8);
		r.dst[3] = (uint8_t)i;
		ck_assert_int_eq(fibmsg_route(fib, RTM_NEWROUTE, 0, &r, 0), FIB_CHANGED);
		if (i == FIB_MAX_ROUTES - 3) {
			/* the last that fits (router() has two): answered */
			memcpy(d, r.dst, 4);
			ck_assert_int_eq(fib_input(fib, AF_INET, d, s, 2, 0, &a), FIB_FOUND);
		}
	}
	ck_assert_uint_eq(fib_route_count(fib, AF_INET), FIB_MAX_ROUTES);
	/* Past the bound, IPv4's answers are unknown; IPv6's are not. */
	ck_assert_int_eq(fib_input(fib, AF_INET, d, s, 2, 0, &a), FIB_UNKNOWN);
	ck_assert_int_eq(fib_output(fib, AF_INET, d, 0, &a), FIB_UNKNOWN);
	memcpy(d, "\xfd\x7a\x11\x5c\xa1\xe0\0\1\0\0\0\0\0\0\0\1", 16);
	ck_assert_int_eq(fib_output(fib, AF_INET6, d, 0, &a), FIB_NOROUTE);
	fib_clear_routes(fib);
	memcpy(d, r.dst, 4);
	ck_assert_int_eq(fib_input(fib, AF_INET, d, s, 2, 0, &a), FIB_NOROUTE);
	fib_free(fib);
}
END_TEST

START_TEST(ipv6_expiry)
{
	struct fib *fib = router();
	struct fibmsg m;
	struct rta_cacheinfo ci = { 0 };
	uint64_t g;

	apply_route(fib, RTM_NEWROUTE, 0, RTN_UNICAST, 254, "fd7a:115c:a1e0:1::", 64, NULL, 2, 256,
		    FIB_CHANGED);
	route_msg(&m, RTM_NEWROUTE, 0, RTN_UNICAST, 254, "2001:db8::", 32, "fd7a:115c:a1e0:1::9",
		  2, 1024);
	ci.rta_expires = 300;	/* clock_t: 3 s */
	attr(&m, RTA_CACHEINFO, &ci, sizeof ci);
	ck_assert_int_eq(fib_apply(fib, &m.n, 1000), FIB_CHANGED);
	ck_assert_str_eq(ask(fib, "2001:db8::1", 2000), "2 fd7a:115c:a1e0:1::9 /32");
	g = fib_generation(fib, 3999);
	ck_assert_str_eq(ask(fib, "2001:db8::1", 3999), "2 fd7a:115c:a1e0:1::9 /32");
	ck_assert_uint_ne(fib_generation(fib, 4000), g);	/* expired: answers change */
	ck_assert_str_eq(ask(fib, "2001:db8::1", 4000), "-");
	fib_free(fib);
}
END_TEST

/* ---- cells ---- */

static uint32_t rnd_state = 2463534242u;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* An address near the routes' prefixes: 198.16/14 mostly. */
static void some_addr(uint8_t a[4])
{
	uint32_t v = 0xC6100000u | (rnd() & 0x3ffff);

	if (rnd() % 8 == 0)
		v = rnd();
	a[0] = (uint8_t)(v >> 24);
	a[1] = (uint8_t)(v >> 16);
	a[2] = (uint8_t)(v >> 8);
	a[3] = (uint8_t)v;
}

static int same_answer(enum fib_verdict x, const struct fib_answer *a, enum fib_verdict y,
		       const struct fib_answer *b)
{
	return x == y && (x != FIB_FOUND || (a->type == b->type && a->dst_len == b->dst_len &&
					     a->oif == b->oif && !memcmp(&a->gw, &b->gw, sizeof a->gw)));
}

/* Random tables (prefixes of every length, several tables behind rules by
 * source and destination), random addresses: within a cell, every answer
 * (input on each interface, output) is the same. */
START_TEST(cells_answer_alike)
{
	for (int round = 0; round < 20; round++) {
		struct fib *fib = router();
		int checked = 0;

		for (int i = 0; i < 300; i++) {
			struct fib_route r = { 0 };
			uint8_t a[4];

			some_addr(a);
			r.family = AF_INET;
			r.dst_len = (uint8_t)(8 + rnd() % 25);
			memcpy(r.dst, a, 4);
			r.type = rnd() % 10 ? RTN_UNICAST : RTN_UNREACHABLE;
			r.table = rnd() % 3 ? 254 : 100 + rnd() % 3;
			r.priority = rnd() % 3;
			if (r.type == RTN_UNICAST) {
				r.npaths = 1;
				r.path[0].oif = 2 + (int)(rnd() % 2);
				r.path[0].gw.family = AF_INET;
				memcpy(r.path[0].gw.a, "\xc6\x12\x01\x09", 4);
				r.path[0].gw.a[3] = (uint8_t)(rnd() % 200);
			}
			(void)fibmsg_route(fib, RTM_NEWROUTE, 0, &r, 0);
		}
		for (int i = 0; i < 4; i++) {
			struct fib_rule u = { 0 };
			uint8_t a[4];

			u.family = AF_INET;
			u.action = FR_ACT_TO_TBL;
			u.priority = 100 + (uint32_t)i;
			u.table = 100 + (uint32_t)(rnd() % 3);
			u.suppress_prefixlen = u.suppress_ifgroup = -1;
			u.uid_end = UINT32_MAX;
			some_addr(a);
			if (i % 2) {
				u.src_len = (uint8_t)(10 + rnd() % 15);
				memcpy(u.src, a, 4);
			} else {
				u.dst_len = (uint8_t)(10 + rnd() % 15);
				memcpy(u.dst, a, 4);
			}
			ck_assert_int_eq(fibmsg_rule(fib, RTM_NEWRULE, &u), FIB_CHANGED);
		}
		for (int i = 0; i < 2000; i++) {
			uint8_t d1[4], d2[4], s1[4], s2[4];
			uint32_t c1, c2, e1, e2, v;
			struct fib_answer a1, a2;

			some_addr(d1);
			some_addr(s1);
			/* neighbours: often in the same cell, sometimes across an edge */
			v = ((uint32_t)d1[0] << 24 | (uint32_t)d1[1] << 16 | (uint32_t)d1[2] << 8 | d1[3]) +
			    (rnd() % 512) - 256;
			d2[0] = (uint8_t)(v >> 24), d2[1] = (uint8_t)(v >> 16), d2[2] = (uint8_t)(v >> 8),
			d2[3] = (uint8_t)v;
			memcpy(s2, s1, 4);
			s2[3] ^= (uint8_t)(rnd() % 4);
			ck_assert_int_eq(fib_cell(fib, AF_INET, d1, &c1), 0);
			ck_assert_int_eq(fib_cell(fib, AF_INET, d2, &c2), 0);
			ck_assert_int_eq(fib_cell(fib, AF_INET, s1, &e1), 0);
			ck_assert_int_eq(fib_cell(fib, AF_INET, s2, &e2), 0);
			if (c1 != c2 || e1 != e2)
				continue;
			checked++;
			for (int iif = 2; iif <= 3; iif++) {
				enum fib_verdict x = fib_input(fib, AF_INET, d1, s1, iif, 0, &a1);
				enum fib_verdict y = fib_input(fib, AF_INET, d2, s2, iif, 0, &a2);

				ck_assert_msg(same_answer(x, &a1, y, &a2),
					      "round %d: %u.%u.%u.%u and %u.%u.%u.%u (cell %u) differ",
					      round, d1[0], d1[1], d1[2], d1[3], d2[0], d2[1], d2[2],
					      d2[3], c1);
			}
			ck_assert(same_answer(fib_output(fib, AF_INET, d1, 0, &a1), &a1,
					      fib_output(fib, AF_INET, d2, 0, &a2), &a2));
		}
		ck_assert_int_gt(checked, 500);
		fib_free(fib);
	}
}
END_TEST

static Suite *fib_suite(void)
{
	Suite *s = suite_create("fib");
	TCase *tc = tcase_create("mirror");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, routes_from_messages);
	tcase_add_test(tc, silent_flushes_ask_for_a_dump);
	tcase_add_test(tc, bounded);
	tcase_add_test(tc, ipv6_expiry);
	tcase_add_test(tc, cells_answer_alike);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hf_run(fib_suite(), CK_FORK_GETENV);
}
