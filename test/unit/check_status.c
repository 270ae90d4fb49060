/* status: the STATUS= text the daemon sends (every registration state, rows,
 * the sampler's text from a real sFlow core and a real collector, the date
 * once it is not today), the sampler's own formatter (with the interfaces
 * the kernel refused and why), the counter-blind key, the rate limiter
 * (state changes within 1 s, counter changes at most every 10 s, nothing
 * twice), collectors_describe() over a real loopback socket, and regwatch's
 * recognition of net-snmp's refusal line. */
#include <arpa/inet.h>
#include <check.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sflow/collector.h"
#include "snmp/regwatch.h"
#include "daemon/status.h"
#include "sflow/core/sflow_status.h"
#include "sfa_stubs.h"
#include "hf_check.h"

/* 2026-12-01 12:01:03 UTC */
#define T0 ((time_t)1796126463)

static void utc(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

START_TEST(format_registered)
{
	struct status_info in = { "/run/agentx/master", SNMP_REG_OK, T0, 7,
				  "sampling 1 (veth0 1:10); 198.18.0.2:6343 sent 120 err 0" };
	char buf[STATUS_TEXT_MAX];

	utc();
	status_format(&in, T0 + 60, buf, sizeof buf);
	ck_assert_str_eq(buf, "registered with /run/agentx/master since 12:01:03; 7 rows; "
		      "sampling 1 (veth0 1:10); 198.18.0.2:6343 sent 120 err 0");
}
END_TEST

START_TEST(format_other_states)
{
	struct status_info in = { "/run/agentx/master", SNMP_REG_DOWN, T0, 1, NULL };
	char buf[STATUS_TEXT_MAX];

	utc();
	status_format(&in, T0, buf, sizeof buf);
	ck_assert_str_eq(buf, "not registered: AgentX master /run/agentx/master not "
		      "reachable since 12:01:03; 1 row");
	in.reg = SNMP_REG_REFUSED;
	/* The next day: the date says which 12:01:03. */
	status_format(&in, T0 + 86400, buf, sizeof buf);
	ck_assert_str_eq(buf, "IF-MIB refused: snmpd serves its own ifTable/ifXTable "
		      "(master /run/agentx/master, since 2026-12-01 12:01:03); 1 row");
	/* Never claims "registered" while refused. */
	ck_assert_ptr_null(strstr(buf, "registered"));
}
END_TEST

START_TEST(format_truncates)
{
	struct status_info in = { "/run/agentx/master", SNMP_REG_OK, T0, 7, "x" };
	char buf[20];

	utc();
	status_format(&in, T0, buf, sizeof buf);
	ck_assert_uint_eq(strlen(buf), sizeof buf - 1);
	ck_assert_str_eq(buf, "registered with /ru");
}
END_TEST

/* ---- the sampler's part: the one formatter, as the daemon calls it ---- */

static struct sfa_port port(const char *name, int kindex, uint32_t rate)
{
	struct sfa_port p = { .kindex = kindex, .ifindex = (uint32_t)kindex,
			      .arphrd = ARPHRD_ETHER, .iftype = 6, .admin = 1, .oper = 1,
			      .promisc = 2, .rate = rate };

	snprintf(p.name, sizeof p.name, "%s", name);
	return p;
}

START_TEST(sampler_text)
{
	struct sfa_port sp[10];
	struct sflow_status in = { 0 };
	char buf[512];
	size_t n;

	sp[0] = port("veth0", 3, 10);
	sp[1] = port("tailscale0", 4, 100);
	in.sampled = 2, in.shown = sp, in.nshown = 2;
	in.waiting = "eth9 wg*";
	in.collectors = "198.18.0.2:6343 sent 120 err 0";
	n = sflow_status_format(&in, buf, sizeof buf);
	ck_assert_str_eq(buf, "sampling 2 (veth0 1:10, tailscale0 1:100; waiting for eth9 wg*); "
		      "198.18.0.2:6343 sent 120 err 0");
	ck_assert_uint_eq(n, strlen(buf));
	in.holding = 1;
	sflow_status_format(&in, buf, sizeof buf);
	ck_assert_str_eq(buf, "sampling 2 (veth0 1:10, tailscale0 1:100; waiting for eth9 wg*); "
		      "198.18.0.2:6343 sent 120 err 0; holding samples");
	/* Nothing sampled: only what it waits for. */
	in = (struct sflow_status){ .waiting = "eth9", .collectors = "no collector" };
	sflow_status_format(&in, buf, sizeof buf);
	ck_assert_str_eq(buf, "sampling 0 (waiting for eth9); no collector");
	in.waiting = "";
	sflow_status_format(&in, buf, sizeof buf);
	ck_assert_str_eq(buf, "sampling 0; no collector");
	in.collectors = NULL;
	sflow_status_format(&in, buf, sizeof buf);
	ck_assert_str_eq(buf, "sampling 0");
	/* Beyond SFLOW_STATUS_SHOWN the interfaces are counted, not named. */
	for (int i = 0; i < 10; i++) {
		char name[16];

		snprintf(name, sizeof name, "v%d", i);
		sp[i] = port(name, 10 + i, 400);
	}
	in = (struct sflow_status){ .sampled = 1000, .shown = sp, .nshown = 10 };
	sflow_status_format(&in, buf, sizeof buf);
	ck_assert_str_eq(buf, "sampling 1000 (v0 1:400, v1 1:400, v2 1:400, v3 1:400, "
		      "v4 1:400, v5 1:400, v6 1:400, v7 1:400, 992 more)");
	in.nshown = 0;
	sflow_status_format(&in, buf, sizeof buf);
	ck_assert_str_eq(buf, "sampling 1000 (1000 more)");
	/* Truncated, always terminated. */
	in = (struct sflow_status){ .sampled = 1, .shown = sp, .nshown = 1 };
	n = sflow_status_format(&in, buf, 13);
	ck_assert_str_eq(buf, "sampling 1 (");
	ck_assert_uint_eq(n, 12);
}
END_TEST

/* Those a `sample` line wants but the kernel does not sample: one more list
 * in the parentheses, a run of the same why named once after its last. */
START_TEST(sampler_text_unsampled)
{
	struct sfa_port sp[1] = { port("veth0", 3, 10) };
	struct sflow_unsampled un[10] = {
		{ "v5", "optmem_max" }, { "v6", "optmem_max" }, { "tun0", "filter" },
		{ "v7", "optmem_max" }, { "v8", NULL },
	};
	struct sflow_status in = { .unsampled = 4, .unsampled_shown = un,
				   .n_unsampled_shown = 4, .collectors = "no collector" };
	char buf[512];
	size_t n;

	n = sflow_status_format(&in, buf, sizeof buf);
	ck_assert_str_eq(buf, "sampling 0 (not sampled: v5, v6 (optmem_max), tun0 (filter), "
		      "v7 (optmem_max)); no collector");
	ck_assert_uint_eq(n, strlen(buf));
	/* After the sampled and the waiting lists; a why of NULL: the name alone. */
	in = (struct sflow_status){ .sampled = 1, .shown = sp, .nshown = 1, .waiting = "eth9",
				    .unsampled = 2, .unsampled_shown = un + 3,
				    .n_unsampled_shown = 2, .holding = 1 };
	sflow_status_format(&in, buf, sizeof buf);
	ck_assert_str_eq(buf, "sampling 1 (veth0 1:10; waiting for eth9; not sampled: "
		      "v7 (optmem_max), v8); holding samples");
	/* Beyond SFLOW_STATUS_SHOWN they are counted, the last named keeps its why. */
	for (int i = 0; i < 10; i++)
		un[i] = (struct sflow_unsampled){ "vx", "too long" };
	un[7].name = "vy";
	in = (struct sflow_status){ .unsampled = 1000, .unsampled_shown = un,
				    .n_unsampled_shown = 10 };
	sflow_status_format(&in, buf, sizeof buf);
	ck_assert_str_eq(buf, "sampling 0 (not sampled: vx, vx, vx, vx, vx, vx, vx, "
		      "vy (too long), 992 more)");
	/* No more named than there are. */
	in.unsampled = 1;
	sflow_status_format(&in, buf, sizeof buf);
	ck_assert_str_eq(buf, "sampling 0 (not sampled: vx (too long))");
	/* Truncated, always terminated. */
	n = sflow_status_format(&in, buf, 20);
	ck_assert_str_eq(buf, "sampling 0 (not sam");
	ck_assert_uint_eq(n, 19);
}
END_TEST

/* A kernel that refuses the ports named v6 and v7 (as the capture refuses
 * what net.core.optmem_max does not let a socket hold). */
static int refuse_v6_v7(void *ctx, const struct sfa_port *ports, size_t n, uint8_t *refused,
			char *why, size_t whylen)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++)
		if (ports[i].rate && (!strcmp(ports[i].name, "v6") || !strcmp(ports[i].name, "v7")))
			refused[i] = 1;
	snprintf(why, whylen, "optmem_max");
	return 0;
}

/* The shell's reason for a refused kindex, as sampler_table.c's. */
static const char *why_of(const void *ctx, int kindex)
{
	(void)ctx;
	return kindex == 6 ? "optmem_max" : kindex == 7 ? "too long" :
	       kindex == 3 ? "tcx attach refused" : NULL;
}

static void no_send(void *ctx, const uint8_t *buf, size_t len);

/* sflow_status_of as sampler_publish_status calls it: the core's ports the
 * kernel refused, each with the shell's why. */
START_TEST(sampler_text_refused_by_core)
{
	struct sfa_settings set = { .polling_interval = 0, .max_datagram = 1400 };
	struct sfa_callbacks cb = { NULL, no_send, sfa_stub_no_counters, refuse_v6_v7,
				    sfa_stub_random, NULL };
	struct sfa_port rows[4] = { port("veth0", 3, 10), port("v6", 6, 10), port("v7", 7, 10),
				    port("lo", 1, 0) };
	struct sflow_status_shell sh = { .collectors = "no collector", .unsampled_why = why_of };
	struct sflow_agent *core = sfa_new(&set, &cb, 0);
	char buf[512], why[128] = "";

	ck_assert_ptr_nonnull(core);
	ck_assert_int_eq(sfa_sync(core, rows, 4, 0, why, sizeof why), 0);
	sflow_status_of(core, &sh, buf, sizeof buf);
	ck_assert_str_eq(buf, "sampling 1 (veth0 1:10; not sampled: v6 (optmem_max), "
		      "v7 (too long)); no collector");
	/* Without the shell's reasons, the names alone. */
	sh.unsampled_why = NULL;
	sflow_status_of(core, &sh, buf, sizeof buf);
	ck_assert_str_eq(buf, "sampling 1 (veth0 1:10; not sampled: v6, v7); no collector");
	/* No longer wanted: no longer named. */
	rows[1].rate = rows[2].rate = 0;
	ck_assert_int_eq(sfa_sync(core, rows, 4, 1, why, sizeof why), 0);
	sflow_status_of(core, &sh, buf, sizeof buf);
	ck_assert_str_eq(buf, "sampling 1 (veth0 1:10); no collector");
	/* Refused after the install returned (tc eBPF's attaches in steps):
	 * no longer sampled, and named with why; the capture in use said. */
	sh.unsampled_why = why_of;
	sh.capture = "tc eBPF";
	ck_assert_int_eq(sfa_refused_later(core, 3, 2), 1);
	ck_assert_int_eq(sfa_refused_later(core, 3, 2), 0);   /* said once */
	ck_assert_int_eq(sfa_refused_later(core, 1, 2), 0);   /* not in force */
	sflow_status_of(core, &sh, buf, sizeof buf);
	ck_assert_str_eq(buf, "sampling 0 (not sampled: veth0 (tcx attach refused)) by tc eBPF; "
			 "no collector");
	/* Not asked again until what is wanted changes; then it is. */
	ck_assert_int_eq(sfa_sync(core, rows, 4, 3, why, sizeof why), 0);
	sflow_status_of(core, &sh, buf, sizeof buf);
	ck_assert_str_eq(buf, "sampling 0 (not sampled: veth0 (tcx attach refused)) by tc eBPF; "
			 "no collector");
	rows[0].rate = 20;
	ck_assert_int_eq(sfa_sync(core, rows, 4, 4, why, sizeof why), 0);
	sflow_status_of(core, &sh, buf, sizeof buf);
	ck_assert_str_eq(buf, "sampling 1 (veth0 1:20) by tc eBPF; no collector");
	sfa_free(core);
}
END_TEST

static void no_send(void *ctx, const uint8_t *buf, size_t len)
{
	(void)ctx; (void)buf; (void)len;
}

/* The STATUS= text the daemon sends, put together as it does: its own part
 * (status_format), the sampler's text from a real core that samples what
 * the table's rows say (sflow_status_of, as sampler_publish_status), and a
 * real collector's figures (collectors_describe). */
START_TEST(daemon_text)
{
	struct sfa_settings set = { .polling_interval = 0, .max_datagram = 1400, .hold = 1,
				    .hold_bytes = 65536 };
	struct sfa_callbacks cb = { NULL, no_send, sfa_stub_no_counters, sfa_stub_accept_install,
				    sfa_stub_random, NULL };
	struct sfa_port rows[3] = { port("veth0", 3, 10), port("lo", 1, 0),
				    port("tailscale0", 7, 100) };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t alen = sizeof sin;
	struct cfg_collector cfg;
	struct collectors *cs;
	struct sflow_agent *core;
	struct status_info in = { "/run/agentx/master", SNMP_REG_OK, T0, 3, NULL };
	struct sflow_status_shell sh;
	char coll[256], sampler[STATUS_TEXT_MAX], text[STATUS_TEXT_MAX], want[STATUS_TEXT_MAX];
	char why[128] = "";
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	utc();
	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &alen), 0);
	memset(&cfg, 0, sizeof cfg);
	memcpy(&cfg.addr, &sin, alen);
	cfg.addrlen = alen;
	cs = collectors_open(&cfg, 1, why, sizeof why);
	ck_assert_ptr_nonnull(cs);
	collectors_send(cs, "x", 1);
	collectors_describe(cs, coll, sizeof coll);

	core = sfa_new(&set, &cb, 0);
	ck_assert_ptr_nonnull(core);
	ck_assert_int_eq(sfa_sync(core, rows, 3, 0, why, sizeof why), 0);
	sh = (struct sflow_status_shell){ .waiting = "eth9", .collectors = coll };
	sflow_status_of(core, &sh, sampler, sizeof sampler);
	in.sampler = sampler;
	status_format(&in, T0 + 60, text, sizeof text);
	snprintf(want, sizeof want, "registered with /run/agentx/master since 12:01:03; 3 rows; "
		 "sampling 2 (veth0 1:10, tailscale0 1:100; waiting for eth9); "
		 "127.0.0.1:%u sent 1 err 0", ntohs(sin.sin_port));
	ck_assert_str_eq(text, want);

	/* snmpd gone: the daemon says so, and the sampler holds samples. */
	in.reg = SNMP_REG_DOWN;
	in.since = T0 + 30;
	sh = (struct sflow_status_shell){ .waiting = "", .collectors = coll, .holding = 1 };
	sflow_status_of(core, &sh, sampler, sizeof sampler);
	status_format(&in, T0 + 60, text, sizeof text);
	snprintf(want, sizeof want, "not registered: AgentX master /run/agentx/master not "
		 "reachable since 12:01:33; 3 rows; sampling 2 (veth0 1:10, tailscale0 1:100); "
		 "127.0.0.1:%u sent 1 err 0; holding samples", ntohs(sin.sin_port));
	ck_assert_str_eq(text, want);

	/* A row no longer sampled leaves the text. */
	rows[0].rate = 0;
	ck_assert_int_eq(sfa_sync(core, rows, 3, 1, why, sizeof why), 0);
	sh = (struct sflow_status_shell){ .collectors = "no collector" };
	sflow_status_of(core, &sh, sampler, sizeof sampler);
	ck_assert_str_eq(sampler, "sampling 1 (tailscale0 1:100); no collector");
	sfa_free(core);
	collectors_close(cs);
	close(fd);
}
END_TEST

START_TEST(key_blanks_counters_only)
{
	char key[256];

	status_key("7 rows; sampling 2 (a 1:10); 198.18.0.2:6343 sent 120 err 0, "
		   "[::1]:6343 sent 5 err 17", key, sizeof key);
	ck_assert_str_eq(key, "7 rows; sampling 2 (a 1:10); 198.18.0.2:6343 sent # err #, "
		      "[::1]:6343 sent # err #");
	status_key("12345", key, 3);
	ck_assert_str_eq(key, "12");
}
END_TEST

#define A "registered; 7 rows; sampling 1 (a 1:10); c:6343 sent 1 err 0"
#define A2 "registered; 7 rows; sampling 1 (a 1:10); c:6343 sent 2 err 0"
#define A3 "registered; 7 rows; sampling 1 (a 1:10); c:6343 sent 3 err 0"
#define B "refused; 7 rows; sampling 1 (a 1:10); c:6343 sent 3 err 0"

/* A fresh limiter that has sent A at 1000 ms. */
static void sent_a(struct status_limiter *l)
{
	int64_t next;

	memset(l, 0, sizeof *l);
	ck_assert_int_eq(status_limiter_offer(l, A, 1000, &next), 1);
}

START_TEST(limiter_rates)
{
	struct status_limiter l;
	int64_t next;

	sent_a(&l);
	/* Nothing new: not again, but look again soon. */
	ck_assert_int_eq(status_limiter_offer(&l, A, 1500, &next), 0);
	ck_assert_int_eq(next, 1500 + STATUS_POLL_MS);
	/* Counters only: held until 10 s after the last text, coalesced. */
	ck_assert_int_eq(status_limiter_offer(&l, A2, 2000, &next), 0);
	/* ... but looked at again at the usual pace meanwhile, */
	ck_assert_int_eq(next, 2000 + STATUS_POLL_MS);
	ck_assert_int_eq(status_limiter_offer(&l, A3, 10000, &next), 0);
	ck_assert_int_eq(next, 1000 + STATUS_COUNTER_GAP_MS);
	ck_assert_int_eq(status_limiter_offer(&l, A3, 10999, &next), 0);
	ck_assert_int_eq(status_limiter_offer(&l, A3, 11000, &next), 1);
	ck_assert_str_eq(l.last, A3);
	/* A state change: within 1 s of the last text, not sooner. */
	ck_assert_int_eq(status_limiter_offer(&l, B, 11500, &next), 0);
	ck_assert_int_eq(next, 11000 + STATUS_STATE_GAP_MS);
	ck_assert_int_eq(status_limiter_offer(&l, B, 12000, &next), 1);
	/* A change that went back before it was sent is no change. */
	ck_assert_int_eq(status_limiter_offer(&l, A3, 12100, &next), 0);
	ck_assert_int_eq(status_limiter_offer(&l, B, 13200, &next), 0);
}
END_TEST

/* A change of state that comes while counters are held goes out at the next
 * look, not when the counters' 10 s are up (CI saw a registration's "holding
 * samples" linger 10 s this way). */
START_TEST(limiter_state_during_counter_hold)
{
	struct status_limiter l;
	int64_t next;

	sent_a(&l);
	ck_assert_int_eq(status_limiter_offer(&l, A2, 2500, &next), 0);
	ck_assert_int_lt(next, 1000 + STATUS_COUNTER_GAP_MS);
	ck_assert_int_eq(status_limiter_offer(&l, B, next, &next), 1);
	ck_assert_str_eq(l.last, B);
}
END_TEST

START_TEST(describe_collectors)
{
	struct cfg_collector cfg[2];
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof sin;
	struct collectors *cs;
	char buf[256];
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	memset(cfg, 0, sizeof cfg);
	memcpy(&cfg[0].addr, &sin, len);
	cfg[0].addrlen = len;
	cfg[1] = cfg[0];
	cs = collectors_open(cfg, 2, buf, sizeof buf);
	ck_assert_ptr_nonnull(cs);
	collectors_send(cs, "x", 1);
	collectors_describe(cs, buf, sizeof buf);
	{
		char want[256];

		snprintf(want, sizeof want, "127.0.0.1:%u sent 1 err 0, 127.0.0.1:%u sent 1 err 0",
			 ntohs(sin.sin_port), ntohs(sin.sin_port));
		ck_assert_str_eq(buf, want);
	}
	ck_assert_uint_eq(collectors_describe(cs, buf, 8), 7);
	collectors_close(cs);
	cs = collectors_open(NULL, 0, buf, sizeof buf);
	collectors_describe(cs, buf, sizeof buf);
	ck_assert_str_eq(buf, "no collector");
	collectors_close(cs);
	close(fd);
}
END_TEST

START_TEST(refusal_line)
{
	ck_assert_int_eq(regwatch_is_refusal("registering pdu failed: 263!"), 1);
	ck_assert_int_eq(regwatch_is_refusal("registering pdu failed: 264!\n"), 1);
	ck_assert_int_eq(regwatch_is_refusal("NET-SNMP version 5.9.3 AgentX subagent connected"), 0);
	ck_assert_int_eq(regwatch_is_refusal("unregistering pdu failed: 263!"), 0);
	ck_assert_int_eq(regwatch_is_refusal(NULL), 0);
}
END_TEST

static Suite *status_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("text");

	tcase_add_test(tc, format_registered);
	tcase_add_test(tc, format_other_states);
	tcase_add_test(tc, format_truncates);
	tcase_add_test(tc, sampler_text);
	tcase_add_test(tc, sampler_text_unsampled);
	tcase_add_test(tc, sampler_text_refused_by_core);
	tcase_add_test(tc, daemon_text);
	tcase_add_test(tc, key_blanks_counters_only);
	tcase_add_test(tc, limiter_rates);
	tcase_add_test(tc, limiter_state_during_counter_hold);
	tcase_add_test(tc, describe_collectors);
	tcase_add_test(tc, refusal_line);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hf_run(status_suite(), CK_FORK_GETENV);
}
