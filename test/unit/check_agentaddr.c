/* The agent-address rule: configured wins; else agent_interface's first
 * global address; else another interface's (flagged, so the sampler can
 * warn); else 127.0.0.1. Over a list of candidates (pure), and over
 * getifaddrs(3) in a private network namespace (root only). */
#include <check.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>

#include "sflow/agentaddr.h"
#include "hf_check.h"

#define enter_netns() enter_netns_for(__func__)
static int enter_netns_for(const char *test)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) {
		hf_skip(test, "needs root and CLONE_NEWNET");
		return -1;
	}
	ck_assert_msg(system("ip link set lo up") == 0, "ip link set lo up failed");
	return 0;
}

static void sh(const char *cmd)
{
	int rc = system(cmd);

	ck_assert_msg(rc == 0, "command failed (%d): %s", rc, cmd);
}

static const char *str(const struct hf_addr *a)
{
	static char buf[INET6_ADDRSTRLEN];

	return inet_ntop(a->family, a->a, buf, sizeof buf);
}

/* Past the address, nothing but zeros (results compare with memcmp). */
static int is_zero_tail(const struct hf_addr *a)
{
	for (size_t i = a->family == AF_INET6 ? 16 : 4; i < sizeof a->a; i++)
		if (a->a[i])
			return 0;
	return 1;
}

START_TEST(test_rule)
{
	struct hf_addr cfg = { 0 }, out;

	if (enter_netns() < 0)
		return;
	/* Nothing global: loopback stand-in. */
	ck_assert_int_eq(agentaddr_choose(&cfg, "tailscale0", &out), AGENTADDR_LOOPBACK);
	ck_assert_str_eq(str(&out), "127.0.0.1");
	sh("ip link add up0 type veth peer name up1 && ip link set up0 up && "
	   "ip link set up1 up && ip addr add 198.18.4.1/24 dev up1 && "
	   "ip tuntap add dev tailscale0 mode tun && ip link set tailscale0 up");
	/* agent_interface without an address: another interface's, flagged. */
	ck_assert_int_eq(agentaddr_choose(&cfg, "tailscale0", &out), AGENTADDR_OTHER);
	ck_assert_str_eq(str(&out), "198.18.4.1");
	/* No agent_interface: any global address is the choice. */
	ck_assert_int_eq(agentaddr_choose(&cfg, "", &out), AGENTADDR_CHOSEN);
	sh("ip addr add fd7a:115c:a1e0::1/64 dev tailscale0 nodad && "
	   "ip addr add 100.64.0.1/10 dev tailscale0");
	ck_assert_int_eq(agentaddr_choose(&cfg, "tailscale0", &out), AGENTADDR_CHOSEN);
	ck_assert_msg(!strcmp(str(&out), "100.64.0.1") || !strcmp(str(&out), "fd7a:115c:a1e0::1"),
		      "%s", str(&out));
	/* Configured wins over everything. */
	cfg.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::7", cfg.a);
	ck_assert_int_eq(agentaddr_choose(&cfg, "tailscale0", &out), AGENTADDR_CHOSEN);
	ck_assert_str_eq(str(&out), "2001:db8::7");
}
END_TEST

static struct agentaddr_cand cand(const char *ifname, unsigned flags, const char *a)
{
	struct agentaddr_cand c = { { 0 }, flags, { 0 } };

	snprintf(c.ifname, sizeof c.ifname, "%s", ifname);
	c.addr.family = strchr(a, ':') ? AF_INET6 : AF_INET;
	ck_assert_int_eq(inet_pton(c.addr.family, a, c.addr.a), 1);
	return c;
}

START_TEST(test_pick)
{
	struct hf_addr cfg = { 0 }, out;
	const unsigned up = IFF_UP;
	struct agentaddr_cand c[] = {
		cand("lo", up | IFF_LOOPBACK, "127.0.0.1"),
		cand("eth0", up, "169.254.1.1"),		/* link-local: never */
		cand("eth0", up, "198.18.5.1"),
		cand("down0", 0, "198.18.6.1"),			/* down: not "any" */
		cand("tailscale0", up, "100.64.0.1"),
		cand("eth0", up, "fe80::1"),
		cand("tailscale0", up, "fd7a:115c:a1e0::1"),
	};
	size_t n = sizeof c / sizeof c[0];

	ck_assert_int_eq(agentaddr_pick(&cfg, "tailscale0", c, n, &out), AGENTADDR_CHOSEN);
	ck_assert_str_eq(str(&out), "100.64.0.1");
	ck_assert_int_eq(agentaddr_pick(&cfg, "", c, n, &out), AGENTADDR_CHOSEN);
	ck_assert_str_eq(str(&out), "198.18.5.1");
	ck_assert_int_eq(agentaddr_pick(&cfg, NULL, c, n, &out), AGENTADDR_CHOSEN);
	ck_assert_str_eq(str(&out), "198.18.5.1");
	/* A named interface counts even when down; "any" skips it. */
	ck_assert_int_eq(agentaddr_pick(&cfg, "down0", c, n, &out), AGENTADDR_CHOSEN);
	ck_assert_str_eq(str(&out), "198.18.6.1");
	ck_assert_int_eq(agentaddr_pick(&cfg, "wg0", c, n, &out), AGENTADDR_OTHER);
	ck_assert_str_eq(str(&out), "198.18.5.1");
	/* Only loopback and link-local: the stand-in. */
	ck_assert_int_eq(agentaddr_pick(&cfg, "eth0", c, 2, &out), AGENTADDR_LOOPBACK);
	ck_assert_str_eq(str(&out), "127.0.0.1");
	ck_assert_int_eq(agentaddr_pick(&cfg, NULL, NULL, 0, &out), AGENTADDR_LOOPBACK);
	/* Configured wins; results compare as bytes. */
	cfg.family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", cfg.a);
	memset(&out, 0x55, sizeof out);
	ck_assert_int_eq(agentaddr_pick(&cfg, "tailscale0", c, n, &out), AGENTADDR_CHOSEN);
	ck_assert_str_eq(str(&out), "192.0.2.7");
	ck_assert(is_zero_tail(&out));
}
END_TEST

int main(void)
{
	Suite *su = suite_create("agentaddr");
	TCase *tc = tcase_create("rule");

	tcase_add_test(tc, test_pick);
	tcase_add_test(tc, test_rule);
	suite_add_tcase(su, tc);
	return hf_run(su, CK_FORK_GETENV);
}
