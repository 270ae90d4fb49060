/* The agent-address rule, in a private network namespace (root only):
 * configured wins; else agent_interface's first global address; else another
 * interface's (flagged, so the sampler can warn); else 127.0.0.1. */
#include <check.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

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

int main(void)
{
	Suite *su = suite_create("agentaddr");
	TCase *tc = tcase_create("rule");

	tcase_add_test(tc, test_rule);
	suite_add_tcase(su, tc);
	return hf_run(su, CK_FORK_GETENV);
}
