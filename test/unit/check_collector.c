/* collector: real UDP on loopback, and a 1280-MTU veth inside a private
 * network namespace (root only; skipped otherwise). */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sflow/collector.h"
#include "base/log.h"
#include "sflow/core/sflow_encode.h"
#include "base/util.h"
#include "hf_check.h"

#define DEADLINE_MS 5000
#define SKIP 77

/* collectors_open's message; the tests that expect none ignore it. */
static char err_[256];

/* A bound UDP socket on loopback and the collector entry pointing at it. */
struct listener {
	int fd;
	struct cfg_collector cfg;
};

/* Returns 0, or -1 when the family is unusable here (no IPv6). */
static int listener_open(struct listener *l, int family)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;

	memset(l, 0, sizeof(*l));
	l->fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		return -1;
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	if (bind(l->fd, (struct sockaddr *)&ss, len) < 0 ||
	    getsockname(l->fd, (struct sockaddr *)&ss, &len) < 0) {
		close(l->fd);
		l->fd = -1;
		return -1;
	}
	memcpy(&l->cfg.addr, &ss, len);
	l->cfg.addrlen = len;
	snprintf(l->cfg.host, sizeof(l->cfg.host), "%s", family == AF_INET ? "127.0.0.1" : "::1");
	return 0;
}

static void listener_close(struct listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

/* Waits for one datagram up to the deadline; its length, or -1. */
static ssize_t listener_recv(const struct listener *l, void *buf, size_t cap)
{
	struct pollfd pfd = { .fd = l->fd, .events = POLLIN };

	if (poll(&pfd, 1, DEADLINE_MS) != 1)
		return -1;
	return recv(l->fd, buf, cap, MSG_DONTWAIT);
}

static void fill_pattern(uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
}

static void send_and_receive(int family)
{
	struct listener l;
	struct collectors *cs;
	uint8_t out[1400], in[2048];
	ssize_t n;

	if (listener_open(&l, family) < 0) {
		ck_assert_int_eq(family, AF_INET6);
		hf_skip(__func__, "no IPv6 loopback here");
		return;
	}
	cs = collectors_open(&l.cfg, 1, err_, sizeof err_);
	ck_assert_ptr_nonnull(cs);
	/* lo has MTU 65536: the cap decides. */
	ck_assert_uint_eq(collectors_max_payload(cs), COLLECTOR_MAX_DATAGRAM);
	fill_pattern(out, sizeof(out));
	collectors_send(cs, out, sizeof(out));
	n = listener_recv(&l, in, sizeof(in));
	ck_assert_int_eq(n, (ssize_t)sizeof(out));
	ck_assert_mem_eq(in, out, sizeof(out));
	ck_assert_uint_eq(collectors_sent(cs), 1);
	ck_assert_uint_eq(collectors_errors(cs), 0);
	collectors_close(cs);
	listener_close(&l);
}

START_TEST(ipv4_exact_bytes)
{
	send_and_receive(AF_INET);
}
END_TEST

START_TEST(ipv6_exact_bytes)
{
	send_and_receive(AF_INET6);
}
END_TEST

START_TEST(every_collector_receives)
{
	struct listener l[2];
	struct cfg_collector cfg[3];
	struct collectors *cs;
	uint8_t out[100], in[200];
	int i;

	ck_assert_int_eq(listener_open(&l[0], AF_INET), 0);
	if (listener_open(&l[1], AF_INET6) < 0)
		ck_assert_int_eq(listener_open(&l[1], AF_INET), 0);
	cfg[0] = l[0].cfg;
	/* An unresolved entry (a bug: start and reload resolve first) is
	 * refused, not skipped: every collector of the config or none. */
	memset(&cfg[1], 0, sizeof(cfg[1]));
	snprintf(cfg[1].host, sizeof(cfg[1].host), "unresolved.invalid");
	cfg[1].line = 7;
	cfg[2] = l[1].cfg;
	ck_assert_ptr_null(collectors_open(cfg, 3, err_, sizeof err_));
	ck_assert_str_eq(err_, "collector unresolved.invalid (line 7): no address");
	cfg[1] = l[1].cfg;
	cs = collectors_open(cfg, 2, err_, sizeof err_);
	ck_assert_ptr_nonnull(cs);
	fill_pattern(out, sizeof(out));
	collectors_send(cs, out, sizeof(out));
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(listener_recv(&l[i], in, sizeof(in)), (ssize_t)sizeof(out));
		ck_assert_mem_eq(in, out, sizeof(out));
		listener_close(&l[i]);
	}
	ck_assert_uint_eq(collectors_sent(cs), 2);
	ck_assert_uint_eq(collectors_errors(cs), 0);
	collectors_close(cs);
}
END_TEST

START_TEST(no_collectors)
{
	struct collectors *cs = collectors_open(NULL, 0, err_, sizeof err_);
	uint8_t b[4] = { 0 };

	ck_assert_ptr_nonnull(cs);
	ck_assert_uint_eq(collectors_max_payload(cs), COLLECTOR_MAX_DATAGRAM);
	collectors_send(cs, b, sizeof(b));
	ck_assert_uint_eq(collectors_sent(cs), 0);
	ck_assert_uint_eq(collectors_errors(cs), 0);
	collectors_close(cs);
	collectors_close(NULL);
}
END_TEST

/* stderr goes to a file so the test can count log lines. */
static FILE *capture_log(void)
{
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(dup2(fileno(f), STDERR_FILENO), 0);
	setvbuf(stderr, NULL, _IONBF, 0);
	log_init("check_collector", 1, 0);
	return f;
}

static int count_lines(FILE *f, const char *needle)
{
	char line[1024];
	int n = 0;

	rewind(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	return n;
}

#define WARN_TEXT "further errors not logged until it works again"
#define BACK_TEXT "sending works again"

/* Sends to a port nobody listens on until n errors were counted. The ICMP
 * port-unreachable fails the send after it. Every call settles its datagram
 * (sent, or lost) after at most COLLECTOR_SEND_TRIES tries: a send never
 * loops on an error, whatever the clock says (no time bound: a loaded
 * machine may hold any call for long). */
static void send_until_errors(struct collectors *cs, uint64_t n)
{
	int64_t deadline = monotonic_ms() + DEADLINE_MS;
	uint8_t b[64] = { 0 };

	while (collectors_errors(cs) < n) {
		uint64_t e0 = collectors_errors(cs);
		uint64_t settled0 = collectors_sent(cs) + collectors_lost(cs);

		ck_assert_msg(monotonic_ms() < deadline, "only %llu errors before the deadline",
			      (unsigned long long)e0);
		collectors_send(cs, b, sizeof(b));
		ck_assert_uint_eq(collectors_sent(cs) + collectors_lost(cs), settled0 + 1);
		ck_assert_uint_le(collectors_errors(cs) - e0, COLLECTOR_SEND_TRIES);
		poll(NULL, 0, 5);	/* pace: let the ICMP arrive */
	}
}

START_TEST(refused_counted_logged_once)
{
	FILE *log = capture_log();
	struct listener l;
	struct collectors *cs;

	ck_assert_int_eq(listener_open(&l, AF_INET), 0);
	/* The port stays known but unbound: nobody listens there now. */
	listener_close(&l);
	cs = collectors_open(&l.cfg, 1, err_, sizeof err_);
	ck_assert_ptr_nonnull(cs);
	send_until_errors(cs, 5);
	ck_assert_uint_ge(collectors_sent(cs), 1);
	ck_assert_int_eq(count_lines(log, WARN_TEXT), 1);
	ck_assert_int_eq(count_lines(log, "Connection refused"), 1);
	/* Success and refusal alternate: never taken for recovery. */
	ck_assert_int_eq(count_lines(log, BACK_TEXT), 0);
	collectors_close(cs);
	fclose(log);
}
END_TEST

START_TEST(recovery_logged)
{
	FILE *log = capture_log();
	struct listener l;
	struct collectors *cs;
	uint8_t b[64] = { 0 }, in[128];
	int64_t deadline;
	int fd;

	ck_assert_int_eq(listener_open(&l, AF_INET), 0);
	listener_close(&l);
	cs = collectors_open(&l.cfg, 1, err_, sizeof err_);
	ck_assert_ptr_nonnull(cs);
	send_until_errors(cs, 1);
	/* The collector comes back on the same port. */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&l.cfg.addr, l.cfg.addrlen), 0);
	deadline = monotonic_ms() + 2 * DEADLINE_MS;
	while (count_lines(log, BACK_TEXT) == 0) {
		ck_assert_msg(monotonic_ms() < deadline, "recovery never logged");
		collectors_send(cs, b, sizeof(b));
		poll(NULL, 0, 50);
	}
	ck_assert_int_eq(count_lines(log, WARN_TEXT), 1);
	ck_assert_int_gt(recv(fd, in, sizeof(in), MSG_DONTWAIT), 0);
	close(fd);
	collectors_close(cs);
	fclose(log);
}
END_TEST

/* Namespace part: runs in a child so unshare() never leaks into the test
 * runner (CK_FORK=no under valgrind). Exit 0 pass, SKIP, else the step. */
static int sh(const char *cmd)
{
	return system(cmd) == 0 ? 0 : -1;
}

static struct collectors *open_one(int family, const char *addr)
{
	struct cfg_collector c = { .port = CFG_SFLOW_PORT };

	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&c.addr;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(CFG_SFLOW_PORT);
		inet_pton(AF_INET, addr, &sin->sin_addr);
		c.addrlen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&c.addr;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(CFG_SFLOW_PORT);
		inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		c.addrlen = sizeof(*sin6);
	}
	snprintf(c.host, sizeof(c.host), "%s", addr);
	return collectors_open(&c, 1, err_, sizeof err_);
}

static int netns_child(void)
{
	struct collectors *v4, *v6;
	uint8_t big[1300] = { 0 };
	int rc = 0;

	if (unshare(CLONE_NEWNET) < 0)
		return SKIP;
	if (sh("ip link add hfcol0 mtu 1500 type veth peer name hfcol1 && "
	       "ip link set hfcol0 up && ip link set hfcol1 up && "
	       "ip addr add 192.0.2.1/24 dev hfcol0 && "
	       "ip -6 addr add 2001:db8::1/64 dev hfcol0 nodad") < 0)
		return 10;
	v4 = open_one(AF_INET, "192.0.2.2");
	v6 = open_one(AF_INET6, "2001:db8::2");
	if (!v4 || !v6)
		return 11;
	if (collectors_max_payload(v4) != 1400 || collectors_max_payload(v6) != 1400)
		rc = 12;	/* 1500-byte path: the cap decides */
	else if (sh("ip link set hfcol0 mtu 1280") < 0)
		rc = 13;
	else if (collectors_max_payload(v4) != 1252)
		rc = 14;
	else if (collectors_max_payload(v6) != 1232)
		rc = 15;
	if (!rc) {
		/* Too big for the path with DF set: refused locally, counted. */
		collectors_send(v4, big, sizeof(big));
		collectors_send(v6, big, sizeof(big));
		if (collectors_errors(v4) != 1 || collectors_errors(v6) != 1 ||
		    collectors_sent(v4) != 0 || collectors_sent(v6) != 0)
			rc = 16;
	}
	collectors_close(v4);
	collectors_close(v6);
	if (sh("ip link del hfcol0") < 0 && !rc)
		rc = 17;
	return rc;
}

START_TEST(path_mtu_1280_in_netns)
{
	pid_t pid;
	int status;

	if (geteuid() != 0 || system("command -v ip >/dev/null 2>&1") != 0) {
		hf_skip(__func__, "needs root and iproute2");
		return;
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(netns_child());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) == SKIP) {
		hf_skip(__func__, "no network namespaces");
		return;
	}
	ck_assert_msg(WEXITSTATUS(status) == 0, "netns step %d failed", WEXITSTATUS(status));
}
END_TEST

/* The flows the sampler excludes: the collector's address and port, and
 * the local port, known from the open on (before any send). */
START_TEST(self_flows)
{
	struct listener l4, l6;
	struct bpfprog_self f[4];
	struct collectors *cs;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	size_t n;
	int have6;

	ck_assert_int_eq(listener_open(&l4, AF_INET), 0);
	have6 = listener_open(&l6, AF_INET6) == 0;
	{
		struct cfg_collector c[2] = { l4.cfg, have6 ? l6.cfg : l4.cfg };

		cs = collectors_open(c, have6 ? 2 : 1, err_, sizeof err_);
	}
	ck_assert_ptr_nonnull(cs);
	n = collectors_self(cs, f, 4);
	ck_assert_uint_eq(n, have6 ? 2 : 1);
	ck_assert_int_eq(f[0].family, AF_INET);
	ck_assert_mem_eq(f[0].addr, "\x7f\0\0\x01", 4);
	ck_assert_int_eq(getsockname(l4.fd, (struct sockaddr *)&ss, &len), 0);
	ck_assert_uint_eq(f[0].dport, ntohs(((struct sockaddr_in *)&ss)->sin_port));
	ck_assert_uint_ne(f[0].sport, 0);
	if (have6) {
		ck_assert_int_eq(f[1].family, AF_INET6);
		ck_assert_mem_eq(f[1].addr, &in6addr_loopback, 16);
		ck_assert_uint_ne(f[1].sport, 0);
	}
	/* A datagram sent comes from that port. */
	{
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		struct pollfd pfd = { .fd = l4.fd, .events = POLLIN };
		uint8_t b[64] = { 0 };

		collectors_send(cs, b, sizeof b);
		ck_assert_int_eq(poll(&pfd, 1, DEADLINE_MS), 1);
		ck_assert_int_eq(recvfrom(l4.fd, b, sizeof b, 0, (struct sockaddr *)&from, &fl),
				 (ssize_t)sizeof b);
		ck_assert_uint_eq(ntohs(from.sin_port), f[0].sport);
	}
	ck_assert_uint_eq(collectors_self(cs, f, 1), 1);   /* at most max */
	/* -t's: the same flows, the local port unknown (0). */
	{
		struct cfg_collector c[2] = { l4.cfg, have6 ? l6.cfg : l4.cfg };
		struct bpfprog_self g[2];

		ck_assert_uint_eq(collectors_planned_self(c, have6 ? 2 : 1, g, 2), have6 ? 2 : 1);
		ck_assert_uint_eq(g[0].sport, 0);
		ck_assert_uint_eq(g[0].dport, f[0].dport);
		ck_assert_mem_eq(g[0].addr, f[0].addr, 16);
	}
	collectors_close(cs);
	listener_close(&l4);
	if (have6)
		listener_close(&l6);
}
END_TEST

/* Out of file descriptors: no collectors at all, and a message naming the
 * collector and the reason (the start or the reload says it). */
START_TEST(open_fails_without_fds)
{
	struct listener l;
	struct rlimit rl;
	struct collectors *cs;
	int fds[1100], n = 0;

	ck_assert_int_eq(listener_open(&l, AF_INET), 0);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = 64;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	while (n < 1100 && (fds[n] = dup(0)) >= 0)
		n++;
	ck_assert_int_lt(n, 1100);
	cs = collectors_open(&l.cfg, 1, err_, sizeof err_);
	ck_assert_ptr_null(cs);
	ck_assert_msg(strstr(err_, "collector 127.0.0.1:") && strstr(err_, "socket: Too many open files"),
		      "%s", err_);
	while (n > 0)
		close(fds[--n]);
	listener_close(&l);
}
END_TEST

static Suite *collector_suite(void)
{
	Suite *s = suite_create("collector");
	TCase *tc = tcase_create("loopback");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, ipv4_exact_bytes);
	tcase_add_test(tc, ipv6_exact_bytes);
	tcase_add_test(tc, every_collector_receives);
	tcase_add_test(tc, no_collectors);
	tcase_add_test(tc, refused_counted_logged_once);
	tcase_add_test(tc, recovery_logged);
	tcase_add_test(tc, self_flows);
	tcase_add_test(tc, open_fails_without_fds);
	suite_add_tcase(s, tc);

	tc = tcase_create("netns");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, path_mtu_1280_in_netns);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hf_run(collector_suite(), CK_FORK_GETENV);
}
