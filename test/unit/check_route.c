/* route: the kernel's routing for sampled frames, in a private network
 * namespace (root and iproute2; skipped otherwise, failed under CI=true).
 * Two veths and routes through a gateway, policy rules as Tailscale's
 * table 52, and invalidation by route, rule and address events. */
#include <check.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sflow/route.h"
#include "base/util.h"
#include "hf_check.h"

#define SKIP 77

/* In the child: report a failed check on stderr and exit non-zero. */
#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "check_route:%d: %s: ", __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		return 1; \
	} \
} while (0)

static int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "check_route: command failed (%d): %s\n", rc, cmd);
	return rc == 0 ? 0 : -1;
}

/* An Ethernet frame (or raw IP when eth is 0) from src to dst. */
static uint32_t frame(uint8_t *buf, int eth, const char *src, const char *dst)
{
	int v6 = strchr(src, ':') != NULL;
	uint8_t *p = buf;

	memset(buf, 0, 128);
	if (eth) {
		memcpy(p, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02", 12);
		memcpy(p + 12, v6 ? "\x86\xdd" : "\x08\x00", 2);
		p += 14;
	}
	if (v6) {
		p[0] = 0x60;
		inet_pton(AF_INET6, src, p + 8);
		inet_pton(AF_INET6, dst, p + 24);
		p += 40;
	} else {
		p[0] = 0x45;
		inet_pton(AF_INET, src, p + 12);
		inet_pton(AF_INET, dst, p + 16);
		p += 20;
	}
	return (uint32_t)(p + 8 - buf);
}

static int classify(struct route_watch *rw, const char *dev, int outgoing,
		    const char *src, const char *dst, struct fwd_info *fi)
{
	uint8_t b[128];
	uint32_t n = frame(b, 1, src, dst);

	return route_classify(rw, (int)if_nametoindex(dev), ARPHRD_ETHER, outgoing, b, n, fi);
}

static const char *nh(const struct fwd_info *fi)
{
	static char buf[INET6_ADDRSTRLEN];

	if (!fi->nexthop.family)
		return "(unknown)";
	return inet_ntop(fi->nexthop.family, fi->nexthop.a, buf, sizeof buf);
}

/* Reads events until the classification of (dev, src -> dst) says out on
 * want_out with a destination prefix of want_len, or forwarded want_fwd;
 * deadline 3 s. 0 when it does. */
static int wait_for(struct route_watch *rw, const char *dev, const char *src, const char *dst,
		    int want_fwd, const char *want_out, int want_len)
{
	int64_t deadline = monotonic_ms() + 3000;
	struct fwd_info fi;

	do {
		struct pollfd p = { route_event_fd(rw), POLLIN, 0 };

		if (poll(&p, 1, 50) > 0)
			route_process_events(rw);
		if (classify(rw, dev, 0, src, dst, &fi) == 0 && fi.forwarded == want_fwd &&
		    (!want_fwd || (fi.out_kindex == (int)if_nametoindex(want_out) &&
				   fi.dst_len == want_len)))
			return 0;
	} while (monotonic_ms() < deadline);
	fprintf(stderr, "check_route: %s -> %s on %s: forwarded %d out %d /%u\n", src, dst, dev,
		fi.forwarded, fi.out_kindex, fi.dst_len);
	return -1;
}

static int scenario(void)
{
	char err[256] = "";
	struct route_watch *rw;
	struct route_stats st;
	struct fwd_info fi;
	int r1, r2, rc = 1;

	if (unshare(CLONE_NEWNET) < 0)
		return SKIP;
	if (sh("ip link set lo up && "
	       "echo 1 > /proc/sys/net/ipv4/ip_forward && "
	       "echo 1 > /proc/sys/net/ipv6/conf/all/forwarding && "
	       "ip link add r1 type veth peer name p1 && ip link add r2 type veth peer name p2 && "
	       "ip link set r1 up && ip link set p1 up && ip link set r2 up && ip link set p2 up && "
	       "ip addr add 198.18.1.1/24 dev r1 && ip addr add 198.18.2.1/24 dev r2 && "
	       "ip -6 addr add fd7a:115c:a1e0:1::1/64 dev r1 nodad && "
	       "ip -6 addr add fd7a:115c:a1e0:2::1/64 dev r2 nodad && "
	       "ip route add 198.19.0.0/16 via 198.18.2.2 && "
	       "ip -6 route add fd7a:115c:a1e0:100::/56 via fd7a:115c:a1e0:2::2") < 0)
		return 2;
	r1 = (int)if_nametoindex("r1");
	r2 = (int)if_nametoindex("r2");
	rw = route_open(err, sizeof err);
	CHECK(rw != NULL, "route_open: %s", err);

	/* Ingress, through a gateway. */
	CHECK(classify(rw, "r1", 0, "198.18.1.2", "198.19.5.1", &fi) == 0, "parse");
	CHECK(fi.forwarded == 1, "forwarded %d", fi.forwarded);
	CHECK(fi.in_kindex == r1 && fi.out_kindex == r2, "in %d out %d", fi.in_kindex, fi.out_kindex);
	CHECK(!strcmp(nh(&fi), "198.18.2.2"), "next hop %s", nh(&fi));
	CHECK(fi.src_len == 24 && fi.dst_len == 16, "masks %u %u", fi.src_len, fi.dst_len);
	/* Ingress, on-link: the next hop is the destination. */
	CHECK(classify(rw, "r2", 0, "198.18.2.2", "198.18.1.2", &fi) == 0, "parse");
	CHECK(fi.forwarded == 1 && fi.in_kindex == r2 && fi.out_kindex == r1, "in %d out %d",
	      fi.in_kindex, fi.out_kindex);
	CHECK(!strcmp(nh(&fi), "198.18.1.2"), "next hop %s", nh(&fi));
	CHECK(fi.dst_len == 24 && fi.src_len == 24, "masks %u %u", fi.src_len, fi.dst_len);
	/* The host's own addresses and broadcasts: not forwarded. */
	CHECK(classify(rw, "r1", 0, "198.18.1.2", "198.18.1.1", &fi) == 0 && !fi.forwarded, "local");
	CHECK(classify(rw, "r1", 0, "198.18.1.2", "198.18.2.1", &fi) == 0 && !fi.forwarded,
	      "local on another link");
	CHECK(classify(rw, "r1", 0, "198.18.1.2", "198.18.1.255", &fi) == 0 && !fi.forwarded,
	      "subnet broadcast");
	CHECK(classify(rw, "r1", 0, "fd7a:115c:a1e0:1::2", "fd7a:115c:a1e0:2::1", &fi) == 0 &&
	      !fi.forwarded, "local IPv6");
	/* No route: the kernel drops it, not forwarded. */
	CHECK(classify(rw, "r1", 0, "198.18.1.2", "203.0.113.1", &fi) == 0 && !fi.forwarded,
	      "unreachable");
	/* Egress of a forwarded packet: in = where its source routes back. */
	CHECK(classify(rw, "r2", 1, "198.18.1.2", "198.19.5.1", &fi) == 0, "parse");
	CHECK(fi.forwarded == 1 && fi.in_kindex == r1 && fi.out_kindex == r2, "in %d out %d",
	      fi.in_kindex, fi.out_kindex);
	CHECK(!strcmp(nh(&fi), "198.18.2.2") && fi.src_len == 24 && fi.dst_len == 16,
	      "next hop %s masks %u %u", nh(&fi), fi.src_len, fi.dst_len);
	/* Egress of the host's own. */
	CHECK(classify(rw, "r2", 1, "198.18.2.1", "198.19.5.1", &fi) == 0 && !fi.forwarded, "own");
	/* IPv6 through a gateway. */
	CHECK(classify(rw, "r1", 0, "fd7a:115c:a1e0:1::2", "fd7a:115c:a1e0:1a0::9", &fi) == 0, "v6");
	CHECK(fi.forwarded == 1 && fi.out_kindex == r2, "v6 out %d", fi.out_kindex);
	CHECK(!strcmp(nh(&fi), "fd7a:115c:a1e0:2::2"), "v6 next hop %s", nh(&fi));
	CHECK(fi.src_len == 64 && fi.dst_len == 56, "v6 masks %u %u", fi.src_len, fi.dst_len);

	/* A route replaced: the cached answer stands until the event is read... */
	if (sh("ip route replace 198.19.0.0/16 via 198.18.1.2") < 0)
		goto out;
	CHECK(classify(rw, "r1", 0, "198.18.1.2", "198.19.5.1", &fi) == 0 && fi.out_kindex == r2,
	      "cached answer used");
	/* ... and is gone after it. */
	CHECK(wait_for(rw, "r1", "198.18.1.2", "198.19.5.1", 1, "r1", 16) == 0, "route event");
	CHECK(classify(rw, "r1", 0, "198.18.1.2", "198.19.5.1", &fi) == 0 &&
	      !strcmp(nh(&fi), "198.18.1.2"), "next hop after replace %s", nh(&fi));

	/* A policy rule to another table, as Tailscale's table 52: honoured. */
	if (sh("ip route add 198.19.7.0/24 dev r2 table 52 && ip rule add pref 5270 table 52") < 0)
		goto out;
	CHECK(wait_for(rw, "r1", "198.18.1.2", "198.19.7.7", 1, "r2", 24) == 0, "rule event");
	CHECK(classify(rw, "r1", 0, "198.18.1.2", "198.19.7.7", &fi) == 0 &&
	      !strcmp(nh(&fi), "198.19.7.7"), "on-link in table 52: %s", nh(&fi));
	if (sh("ip rule del pref 5270") < 0)
		goto out;
	CHECK(wait_for(rw, "r1", "198.18.1.2", "198.19.7.7", 1, "r1", 16) == 0, "rule removed");

	/* An address added makes its packets the host's; removed, forwarded again. */
	if (sh("ip addr add 198.19.5.1/32 dev r2") < 0)
		goto out;
	CHECK(wait_for(rw, "r1", "198.18.1.2", "198.19.5.1", 0, NULL, 0) == 0, "address event");
	if (sh("ip addr del 198.19.5.1/32 dev r2") < 0)
		goto out;
	CHECK(wait_for(rw, "r1", "198.18.1.2", "198.19.5.1", 1, "r1", 16) == 0, "address removed");

	route_get_stats(rw, &st);
	CHECK(st.lookups > 0 && st.timeouts == 0 && st.flushes > 0,
	      "lookups %llu timeouts %llu flushes %llu", (unsigned long long)st.lookups,
	      (unsigned long long)st.timeouts, (unsigned long long)st.flushes);
	rc = 0;
out:
	route_close(rw);
	return rc;
}

START_TEST(routes_in_netns)
{
	pid_t pid;
	int status;

	if (geteuid() != 0 || system("command -v ip >/dev/null 2>&1") != 0) {
		hf_skip(__func__, "needs root and iproute2");
		return;
	}
	/* A child, so unshare() never leaks into the runner (CK_FORK=no). */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(scenario());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) == SKIP) {
		hf_skip(__func__, "no network namespaces");
		return;
	}
	ck_assert_msg(WEXITSTATUS(status) == 0, "scenario failed (%d): see stderr",
		      WEXITSTATUS(status));
}
END_TEST

static Suite *route_suite(void)
{
	Suite *s = suite_create("route");
	TCase *tc = tcase_create("netns");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, routes_in_netns);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hf_run(route_suite(), CK_FORK_GETENV);
}
