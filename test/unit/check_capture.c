/* The shared packet socket against a real kernel (root): every test runs in
 * its own forked child inside a private network namespace holding a veth
 * pair whose far end is in a second namespace (a child process that sends
 * UDP on request) and a tun held open. Without root it says SKIP; under
 * CI=true it fails instead. */
#include <check.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sflow/capture.h"
#include "base/util.h"
#include "hf_check.h"

#define SNAP 128
#define WG_PORT 41641

/* 0 inside a fresh network namespace; -1 when the test cannot run here
 * (hf_skip said why). A set-up step that fails is a failure, not a skip. */
static int enter_netns(const char *test)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) {
		hf_skip(test, "needs root and CLONE_NEWNET");
		return -1;
	}
	/* IPv6 autoconfiguration would send packets of its own. */
	ck_assert_msg(system("echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6;"
			     "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6;"
			     "ip link set lo up") == 0, "%s: namespace set-up failed", test);
	return 0;
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	rc = system(cmd);
	ck_assert_msg(rc == 0, "command failed (%d): %s", rc, cmd);
}

static void udp_send(const char *dst, uint16_t port, int count)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(inet_pton(AF_INET, dst, &sin.sin_addr), 1);
	for (int i = 0; i < count; i++)
		ck_assert_int_eq(sendto(fd, "hostflow", 8, 0, (struct sockaddr *)&sin, sizeof sin), 8);
	close(fd);
}

/* The far end of the veth: a child in its own namespace that sends count
 * datagrams to 198.18.9.1:port for every "port count" line on its pipe. */
struct peer {
	pid_t pid;
	int cmd;
};

static void peer_loop(int rd)
{
	FILE *f = fdopen(rd, "r");
	unsigned port;
	int count;

	while (f && fscanf(f, "%u %d", &port, &count) == 2)
		udp_send("198.18.9.1", (uint16_t)port, count);
	_exit(0);
}

static void peer_start(struct peer *p)
{
	int ready[2], cmd[2];
	char c;

	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(cmd), 0);
	p->pid = fork();
	ck_assert_int_ge(p->pid, 0);
	if (p->pid == 0) {
		close(ready[0]);
		close(cmd[1]);
		if (unshare(CLONE_NEWNET) != 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		close(ready[1]);
		peer_loop(cmd[0]);
	}
	close(ready[1]);
	close(cmd[0]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	p->cmd = cmd[1];
	/* Static neighbours: no ARP in the counts. */
	sh("ip link add cap0 address 02:00:00:00:09:01 type veth peer name cap1 "
	   "address 02:00:00:00:09:02 && ip link set cap1 netns %d && "
	   "ip addr add 198.18.9.1/24 dev cap0 && ip link set cap0 up && "
	   "ip neigh replace 198.18.9.2 lladdr 02:00:00:00:09:02 dev cap0 nud permanent && "
	   "nsenter -t %d -n sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; "
	   "ip link set lo up && ip addr add 198.18.9.2/24 dev cap1 && ip link set cap1 up && "
	   "ip neigh replace 198.18.9.1 lladdr 02:00:00:00:09:01 dev cap1 nud permanent'",
	   (int)p->pid, (int)p->pid);
}

static void peer_send(struct peer *p, uint16_t port, int count)
{
	char line[32];
	int n = snprintf(line, sizeof line, "%u %d\n", port, count);

	ck_assert_int_eq(write(p->cmd, line, (size_t)n), n);
}

static void peer_stop(struct peer *p)
{
	int st;

	close(p->cmd);
	ck_assert_int_eq(waitpid(p->pid, &st, 0), p->pid);
}

/* A tun held open: writes into it are packets the host receives on it. */
static int tun_open(const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	ck_assert_int_eq(ioctl(fd, TUNSETIFF, &ifr), 0);
	sh("ip addr add 100.64.9.1/24 dev %s && ip link set %s up", name, name);
	return fd;
}

static void tun_send(int fd, uint16_t dport, int count)
{
	uint8_t p[36] = { 0x45, 0, 0, 36, 0, 0, 0, 0, 64, 17 };
	uint32_t sum = 0;

	memcpy(p + 12, "\x64\x40\x09\x02\x64\x40\x09\x01", 8);  /* 100.64.9.2 -> .1 */
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = ~((sum & 0xffff) + (sum >> 16)) & 0xffff;
	p[10] = (uint8_t)(sum >> 8);
	p[11] = (uint8_t)sum;
	p[20] = 0x30;
	p[21] = 0x39;
	p[22] = (uint8_t)(dport >> 8);
	p[23] = (uint8_t)dport;
	p[25] = 16;
	for (int i = 0; i < count; i++)
		ck_assert_int_eq(write(fd, p, sizeof p), (ssize_t)sizeof p);
}

/* What the frames said; directions and ports of UDP frames only. */
struct seen {
	int want_kindex;
	unsigned total, other_kindex, in, out;
	unsigned port[65536];
};

static int udp_dport(const struct capture_frame *f, int eth)
{
	const uint8_t *ip = f->data + (eth ? 14 : 0);
	size_t hl;

	if (f->caplen < (eth ? 14u : 0u) + 28u)
		return -1;
	if (eth && (f->data[12] != 0x08 || f->data[13] != 0x00))
		return -1;
	hl = (size_t)(ip[0] & 0xf) * 4;
	if ((ip[0] >> 4) != 4 || ip[9] != 17 || f->caplen < (eth ? 14 : 0) + hl + 4)
		return -1;
	return ip[hl + 2] << 8 | ip[hl + 3];
}

static int frame_eth;

static void on_frame(void *ctx, const struct capture_frame *f)
{
	struct seen *s = ctx;
	int port = udp_dport(f, frame_eth);

	s->total++;
	if (f->kindex != s->want_kindex) {
		s->other_kindex++;
		return;
	}
	if (port < 0)
		return;   /* e.g. ICMP port unreachable for datagrams nobody reads */
	if (f->outgoing)
		s->out++;
	else
		s->in++;
	s->port[port]++;
}

/* Drains until port `marker` has been seen `count` times (deadline 5 s);
 * the marker is sent last, so everything sent before it has been seen. */
static void wait_marker(struct capture *c, struct seen *s, uint16_t marker, unsigned count)
{
	int64_t deadline = monotonic_ms() + 5000;

	while (s->port[marker] < count && monotonic_ms() < deadline) {
		struct pollfd pfd = { capture_fd(c), POLLIN, 0 };

		poll(&pfd, 1, 50);
		capture_drain(c, 256, on_frame, s);
	}
	capture_drain(c, 256, on_frame, s);
	ck_assert_msg(s->port[marker] == count, "marker port %u seen %u times, want %u",
		      marker, s->port[marker], count);
}

static struct capture *open_all(void)
{
	char err[256] = "";
	struct capture *c = capture_open_all(SNAP, err, sizeof err);

	ck_assert_msg(c != NULL, "capture_open_all: %s", err);
	return c;
}

static void set_rules(struct capture *c, const struct capture_rule *r, size_t n,
		      const char *exclude)
{
	char err[512] = "";

	ck_assert_msg(capture_set_rules(c, r, n, exclude, SNAP, err, sizeof err) == 0,
		      "capture_set_rules: %s", err);
}

static struct seen *seen_new(int kindex)
{
	struct seen *s = calloc(1, sizeof *s);

	ck_assert_ptr_nonnull(s);
	s->want_kindex = kindex;
	return s;
}

/* Direction and kindex on a veth, both ways; unlisted interfaces (lo, and
 * the veth before the rules) give nothing; rate 1 gives every packet. */
START_TEST(t_veth)
{
	struct peer p;
	struct capture *c;
	struct seen *s;
	int k;

	if (enter_netns(__func__) < 0)
		return;
	peer_start(&p);
	k = (int)if_nametoindex("cap0");
	ck_assert_int_gt(k, 0);
	c = open_all();
	s = seen_new(k);
	/* The drop-everything program of a fresh socket. */
	udp_send("198.18.9.2", 5000, 20);
	{
		struct capture_rule r = { .kindex = (int)if_nametoindex("lo"),
					  .arphrd = ARPHRD_LOOPBACK, .rate = 1 };

		set_rules(c, &r, 1, NULL);   /* lo only: the marker */
	}
	udp_send("127.0.0.1", 7, 1);
	frame_eth = 1;
	s->want_kindex = (int)if_nametoindex("lo");
	wait_marker(c, s, 7, 2);   /* on lo: once out, once in */
	ck_assert_uint_eq(s->port[5000], 0);
	memset(s, 0, sizeof *s);
	s->want_kindex = k;
	{
		struct capture_rule r = { .kindex = k, .arphrd = ARPHRD_ETHER, .rate = 1 };

		set_rules(c, &r, 1, NULL);
	}
	udp_send("127.0.0.1", 5002, 30);    /* lo: not listed any more */
	udp_send("198.18.9.2", 5000, 50);   /* out of cap0 */
	peer_send(&p, 5001, 40);            /* into cap0 */
	udp_send("198.18.9.2", 9, 1);
	wait_marker(c, s, 9, 1);
	peer_send(&p, 9, 1);
	wait_marker(c, s, 9, 2);
	ck_assert_uint_eq(s->port[5000], 50);
	ck_assert_uint_eq(s->port[5001], 40);
	ck_assert_uint_eq(s->port[5002], 0);
	ck_assert_uint_eq(s->other_kindex, 0);
	/* Outgoing: 50 + 1 marker; incoming: 40 + 1 (and nothing else: no ARP). */
	ck_assert_uint_eq(s->out, 51);
	ck_assert_uint_eq(s->in, 41);
	ck_assert_uint_eq(capture_sockets(c), 1);   /* one interface: one bound socket */
	/* The same through the unbound socket: more rules than bound sockets
	 * (interfaces that do not exist keep the others' packets off). */
	memset(s, 0, sizeof *s);
	s->want_kindex = k;
	{
		struct capture_rule r[CAPTURE_BOUND_MAX + 1];

		for (int i = 0; i <= CAPTURE_BOUND_MAX; i++)
			r[i] = (struct capture_rule){ .kindex = i ? 100000 + i : k,
						      .arphrd = ARPHRD_ETHER, .rate = 1 };
		set_rules(c, r, CAPTURE_BOUND_MAX + 1, NULL);
	}
	ck_assert_uint_eq(capture_sockets(c), 1);
	ck_assert_uint_eq(capture_ring_bytes(c), 2048 * 1024);
	udp_send("127.0.0.1", 5002, 30);
	udp_send("198.18.9.2", 5000, 50);
	peer_send(&p, 5001, 40);
	udp_send("198.18.9.2", 9, 1);
	wait_marker(c, s, 9, 1);
	peer_send(&p, 9, 1);
	wait_marker(c, s, 9, 2);
	ck_assert_uint_eq(s->port[5000], 50);
	ck_assert_uint_eq(s->port[5001], 40);
	ck_assert_uint_eq(s->port[5002], 0);
	ck_assert_uint_eq(s->other_kindex, 0);
	peer_stop(&p);
	capture_close(c);
	free(s);
}
END_TEST

/* `filter "not udp port 41641"`: no WireGuard packet; an exclude of the
 * collector port drops those everywhere; a bad expression is refused with
 * libpcap's message and the old program stays in force. */
START_TEST(t_filter)
{
	struct peer p;
	struct capture *c;
	struct seen *s;
	struct capture_rule r;
	char err[512] = "";
	int k;

	if (enter_netns(__func__) < 0)
		return;
	peer_start(&p);
	k = (int)if_nametoindex("cap0");
	c = open_all();
	s = seen_new(k);
	frame_eth = 1;
	r = (struct capture_rule){ .kindex = k, .arphrd = ARPHRD_ETHER, .rate = 1,
				   .filter = "not udp port 41641" };
	set_rules(c, &r, 1, "udp dst port 6343");
	udp_send("198.18.9.2", WG_PORT, 30);
	peer_send(&p, WG_PORT, 30);
	udp_send("198.18.9.2", 6343, 30);
	udp_send("198.18.9.2", 5000, 25);
	udp_send("198.18.9.2", 9, 1);
	wait_marker(c, s, 9, 1);
	peer_send(&p, 9, 1);
	wait_marker(c, s, 9, 2);
	ck_assert_uint_eq(s->port[WG_PORT], 0);
	ck_assert_uint_eq(s->port[6343], 0);
	ck_assert_uint_eq(s->port[5000], 25);

	r.filter = "udp port";
	ck_assert_int_eq(capture_set_rules(c, &r, 1, NULL, SNAP, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "syntax error") && strstr(err, "\"udp port\""),
		      "message: %s", err);
	r.filter = NULL;
	ck_assert_int_eq(capture_set_rules(c, &r, 1, "tcp port", SNAP, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "exclude \"tcp port\""), "message: %s", err);
	/* Still the old program: filter and exclude in force. */
	udp_send("198.18.9.2", WG_PORT, 10);
	udp_send("198.18.9.2", 6343, 10);
	udp_send("198.18.9.2", 9, 1);
	wait_marker(c, s, 9, 3);
	ck_assert_uint_eq(s->port[WG_PORT], 0);
	ck_assert_uint_eq(s->port[6343], 0);
	peer_stop(&p);
	capture_close(c);
	free(s);
}
END_TEST

/* Frames of each interface, for a test with several. */
struct per_if {
	int cap0, lo;
	unsigned on_cap0, marker;
};

static void count_if(void *ctx, const struct capture_frame *f)
{
	struct per_if *s = ctx;

	if (f->kindex == s->cap0)
		s->on_cap0 += udp_dport(f, 1) == 5000;
	if (f->kindex == s->lo) {
		s->marker += udp_dport(f, 1) == 9;
	}
}

/* 1 in 10 in the kernel: 2000 packets give 200 samples within 5 sd; the
 * marker rides on lo, sampled at rate 1 by a second rule. */
START_TEST(t_rate)
{
	struct peer p;
	struct capture *c;
	struct capture_rule r[2];
	struct per_if s = { 0 };
	int64_t deadline;

	if (enter_netns(__func__) < 0)
		return;
	peer_start(&p);
	s.cap0 = (int)if_nametoindex("cap0");
	s.lo = (int)if_nametoindex("lo");
	c = open_all();
	r[0] = (struct capture_rule){ .kindex = s.cap0, .arphrd = ARPHRD_ETHER, .rate = 10 };
	r[1] = (struct capture_rule){ .kindex = s.lo, .arphrd = ARPHRD_LOOPBACK, .rate = 1 };
	set_rules(c, r, 2, NULL);
	for (int i = 0; i < 20; i++) {
		udp_send("198.18.9.2", 5000, 100);
		capture_drain(c, 256, count_if, &s);   /* keep the ring from filling */
	}
	udp_send("127.0.0.1", 9, 1);
	deadline = monotonic_ms() + 5000;
	while (s.marker < 2 && monotonic_ms() < deadline) {
		struct pollfd pfd = { capture_fd(c), POLLIN, 0 };

		poll(&pfd, 1, 50);
		capture_drain(c, 256, count_if, &s);
	}
	ck_assert_uint_eq(s.marker, 2);
	ck_assert_uint_eq(capture_take_drops(c), 0);
	/* 200 expected, sd = sqrt(2000 * 0.1 * 0.9) = 13.4 */
	ck_assert_msg(s.on_cap0 >= 200 - 67 && s.on_cap0 <= 200 + 67,
		      "%u samples of 2000 packets at 1 in 10", s.on_cap0);
	peer_stop(&p);
	capture_close(c);
}
END_TEST

/* A tun (ARPHRD_NONE): the filter is compiled for bare IP. */
START_TEST(t_tun)
{
	struct capture *c;
	struct seen *s;
	struct capture_rule r;
	int fd, k;

	if (enter_netns(__func__) < 0)
		return;
	fd = tun_open("captun0");
	k = (int)if_nametoindex("captun0");
	c = open_all();
	s = seen_new(k);
	frame_eth = 0;
	r = (struct capture_rule){ .kindex = k, .arphrd = ARPHRD_NONE, .rate = 1,
				   .filter = "not udp port 41641" };
	set_rules(c, &r, 1, NULL);
	tun_send(fd, WG_PORT, 20);
	tun_send(fd, 5000, 15);
	tun_send(fd, 9, 1);
	wait_marker(c, s, 9, 1);
	ck_assert_uint_eq(s->port[WG_PORT], 0);
	ck_assert_uint_eq(s->port[5000], 15);
	ck_assert_uint_eq(s->in, 16);
	ck_assert_uint_eq(s->out, 0);
	ck_assert_uint_eq(s->other_kindex, 0);
	capture_close(c);
	close(fd);
	free(s);
}
END_TEST

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;   /* the DIR's own fd */
}

/* fds and ring memory for 1, 4, 5, 100 and 1000 sampled interfaces (real
 * veths): a bound socket each up to CAPTURE_BOUND_MAX, then one socket and
 * one ring whatever the number (plus the epoll fd). The figures are printed
 * for docs/PERFORMANCE.md. */
START_TEST(t_scale)
{
	static const int counts[] = { 1, CAPTURE_BOUND_MAX, CAPTURE_BOUND_MAX + 1, 100, 1000 };
	struct capture_rule *r = calloc(1000, sizeof *r);
	FILE *b;
	int base;

	if (enter_netns(__func__) < 0)
		return;
	b = popen("ip -batch -", "w");
	ck_assert_ptr_nonnull(b);
	for (int i = 0; i < 1000; i++)
		fprintf(b, "link add sc%d type veth peer name sp%d\n", i, i);
	ck_assert_int_eq(pclose(b), 0);
	for (int i = 0; i < 1000; i++) {
		char name[IFNAMSIZ];

		snprintf(name, sizeof name, "sc%d", i);
		r[i].kindex = (int)if_nametoindex(name);
		ck_assert_int_gt(r[i].kindex, 0);
		r[i].arphrd = ARPHRD_ETHER;
		r[i].rate = i % 2 ? 100 : 400;
		r[i].filter = i % 4 == 3 ? "not udp port 41641" : NULL;
	}
	base = count_fds();
	for (size_t j = 0; j < sizeof counts / sizeof counts[0]; j++) {
		struct capture *c = open_all();

		set_rules(c, r, (size_t)counts[j], "udp dst port 6343");
		fprintf(stderr, "check_capture: %d sampled interfaces: %d fd, ring %zu KiB\n",
			counts[j], count_fds() - base, capture_ring_bytes(c) / 1024);
		if (counts[j] <= CAPTURE_BOUND_MAX) {
			ck_assert_int_eq(count_fds() - base, 1 + counts[j]);
			ck_assert_uint_eq(capture_ring_bytes(c), (size_t)counts[j] * 1024 * 1024);
			ck_assert_uint_eq(capture_ring_frames(c), 2048);
		} else {
			ck_assert_int_eq(count_fds() - base, 2);
			ck_assert_uint_eq(capture_ring_bytes(c), 2048 * 1024);
			ck_assert_uint_eq(capture_ring_frames(c), 4096);
		}
		capture_close(c);
	}
	ck_assert_int_eq(count_fds(), base);
	free(r);
}
END_TEST

/* The pause after a drain (pure): at the rate just seen, the ring is an
 * eighth full when the sampler looks again; never longer than the cap, and
 * at once when the rate would fill an eighth within a millisecond. */
START_TEST(t_pause)
{
	/* Idle or slow: the whole cap (one wake-up serves many samples). */
	ck_assert_int_eq(capture_pause_ms(0, 20, 2048, 20), 20);
	ck_assert_int_eq(capture_pause_ms(5, 20, 2048, 20), 20);
	ck_assert_int_eq(capture_pause_ms(1, 5000, 2048, 20), 20);
	/* 265 frames in 20 ms (test_sflow_gso's bursts): 256 take 19 ms. */
	ck_assert_int_eq(capture_pause_ms(265, 20, 2048, 20), 19);
	/* 512 in 20 ms: 10 ms, so 256 arrive, not 512 more. */
	ck_assert_int_eq(capture_pause_ms(512, 20, 2048, 20), 10);
	/* 200,000 a second (200 a ms): 1 ms; faster: look again at once. */
	ck_assert_int_eq(capture_pause_ms(400, 2, 2048, 20), 1);
	ck_assert_int_eq(capture_pause_ms(500, 1, 2048, 20), 0);
	/* A smaller ring pauses less for the same rate. */
	ck_assert_int_eq(capture_pause_ms(100, 10, 512, 20), 6);
	/* No time measured since the last drain: no pause. */
	ck_assert_int_eq(capture_pause_ms(10, 0, 2048, 20), 0);
}
END_TEST

static Suite *capture_suite(void)
{
	Suite *s = suite_create("capture");
	TCase *tc = tcase_create("shared socket");
	TCase *pure = tcase_create("pause");

	tcase_add_test(pure, t_pause);
	suite_add_tcase(s, pure);

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, t_veth);
	tcase_add_test(tc, t_filter);
	tcase_add_test(tc, t_rate);
	tcase_add_test(tc, t_tun);
	tcase_add_test(tc, t_scale);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hf_run(capture_suite(), CK_FORK_GETENV);
}
