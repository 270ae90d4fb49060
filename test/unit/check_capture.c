/* The shared packet socket against a real kernel (root): every test runs in
 * its own forked child inside a private network namespace holding a veth
 * pair whose far end is in a second namespace (a child process that sends
 * UDP on request) and a tun held open. Without root it says SKIP; under
 * CI=true it fails instead. t_filter and t_vlan have tc eBPF twins (the
 * same frames, the same verdicts: filtered and own datagrams handed over as
 * rejected draws, tags put back), which SKIP where the kernel has no tcx. */
#include <check.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/if_packet.h>
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sflow/capture.h"
#include "base/util.h"
#include "hf_check.h"

#define SNAP 128
#define WG_PORT 41641
/* t_swap's numbered stream: its port, and 20 datagrams a millisecond at
 * most (a receiving backlog holds 1000; a ring of 2048, 100 ms of them). */
#define STREAM_PORT 7777
#define STREAM_BURST 20
#define SWAP_EVERY_MS 20   /* one generation of replaced sockets at a time */

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

/* count datagrams to dst:port from sport (0: any), each carrying its number
 * (from 0) in its first 4 bytes; paced: a pause every `burst` (0: none),
 * so that a long stream does not overflow the receiver's backlog (a drop
 * before any tap). */
static void udp_send_paced(const char *dst, uint16_t port, uint16_t sport, int count,
			   int burst)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(sport) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&src, sizeof src), 0);
	ck_assert_int_eq(inet_pton(AF_INET, dst, &sin.sin_addr), 1);
	for (int i = 0; i < count; i++) {
		uint8_t b[8] = { (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8),
				 (uint8_t)i, 'h', 'f', 'l', 'w' };

		ck_assert_int_eq(sendto(fd, b, 8, 0, (struct sockaddr *)&sin, sizeof sin), 8);
		if (burst && i % burst == burst - 1)
			poll(NULL, 0, 1);
	}
	close(fd);
}

static void udp_send_from(const char *dst, uint16_t port, uint16_t sport, int count)
{
	udp_send_paced(dst, port, sport, count, 0);
}

static void udp_send(const char *dst, uint16_t port, int count)
{
	udp_send_from(dst, port, 0, count);
}

/* Frames sent raw out of ifname: an IPv4 UDP datagram to port 9 behind one
 * 802.1Q tag (VLAN 5), or an 802.1ad tag (VLAN 7) over it (QinQ). The
 * receiving kernel strips the outer tag before any tap sees the frame. */
static void raw_tagged(const char *ifname, int qinq)
{
	static const uint8_t ip[28] = { 0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0,
					198, 18, 9, 2, 198, 18, 9, 1, 0x03, 0xe8, 0, 9, 0, 8 };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex =
				   (int)if_nametoindex(ifname), .sll_halen = 6 };
	uint8_t f[64] = { 2, 0, 0, 0, 9, 1, 2, 0, 0, 0, 9, 2 };
	size_t o = 12;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd < 0)
		_exit(1);
	if (qinq) {
		memcpy(f + o, "\x88\xa8\x00\x07", 4);
		o += 4;
	}
	memcpy(f + o, "\x81\x00\x00\x05\x08\x00", 6);
	memcpy(f + o + 6, ip, sizeof ip);
	memcpy(sll.sll_addr, f, 6);
	if (sendto(fd, f, o + 6 + sizeof ip, 0, (struct sockaddr *)&sll, sizeof sll) < 0)
		_exit(1);
	close(fd);
}

/* The far end of the veth: a child in its own namespace that sends count
 * datagrams to 198.18.9.1:port for every "port count" line on its pipe
 * (port 0: count tagged frames, see raw_tagged: 1 802.1Q, 2 QinQ). */
struct peer {
	pid_t pid;
	int cmd;
};

static void peer_loop(int rd)
{
	FILE *f = fdopen(rd, "r");
	unsigned port;
	int count;

	while (f && fscanf(f, "%u %d", &port, &count) == 2) {
		if (port == 0)
			raw_tagged("cap1", count == 2);
		else if (port == STREAM_PORT)
			udp_send_paced("198.18.9.1", STREAM_PORT, 0, count, STREAM_BURST);
		else
			udp_send("198.18.9.1", (uint16_t)port, count);
	}
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
	unsigned total, other_kindex, in, out, rejected;
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
	if (f->rejected) {
		ck_assert_uint_eq(f->caplen, 0);
		s->rejected++;
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

static void ignore_frame(void *ctx, const struct capture_frame *f)
{
	(void)ctx;
	(void)f;
}

/* Until the replaced sockets are closed (their grace is milliseconds); the
 * frames they still hold are not looked at. */
static void settle(struct capture *c)
{
	int64_t deadline = monotonic_ms() + 2000;

	while (capture_retire_due_ms(c) && monotonic_ms() < deadline) {
		poll(NULL, 0, 2);
		capture_drain(c, 256, ignore_frame, NULL);
	}
	ck_assert_int_eq(capture_retire_due_ms(c), 0);
}

/* The capture the test runs: packet sockets, or its tc eBPF twin's. */
static enum capture_backend test_kind = CAPTURE_PACKET;

/* In a twin, after enter_netns: 0 where tc eBPF loads, else -1 (SKIP). */
static int ebpf_here(const char *test)
{
	enum capture_backend k;
	char why[256];

	if (test_kind != CAPTURE_EBPF)
		return 0;
	if (capture_pick(CAPTURE_EBPF, &k, why, sizeof why) == CAPTURE_PICKED)
		return 0;
	hf_skip(test, why);
	return -1;
}

static struct capture *open_all(void)
{
	char err[256] = "";
	struct capture *c = capture_open(test_kind, SNAP, err, sizeof err);

	ck_assert_msg(c != NULL, "capture_open: %s", err);
	ck_assert_str_eq(capture_kind(c), capture_kind_name(test_kind));
	return c;
}

/* Puts the rules in force; every one must be taken. */
static void set_rules(struct capture *c, const struct capture_rule *r, size_t n,
		      const struct bpfprog_self *self, size_t nself)
{
	enum capture_refusal no[1000];
	char err[512] = "";

	ck_assert_uint_le(n, 1000);
	ck_assert_msg(capture_set_rules(c, r, n, self, nself, SNAP, no, err, sizeof err) == 0,
		      "capture_set_rules: %s", err);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(no[i] == CAPTURE_SAMPLED, "rule %zu refused (%s): %s", i,
			      capture_refusal_name(no[i]), err);
	ck_assert_str_eq(err, "");
}

/* Our own flow to 198.18.9.2:dport from sport. */
static struct bpfprog_self own_flow(uint16_t sport, uint16_t dport)
{
	struct bpfprog_self o = { .family = AF_INET, .sport = sport, .dport = dport };

	memcpy(o.addr, "\xc6\x12\x09\x02", 4);
	return o;
}

static struct seen *seen_new(int kindex)
{
	struct seen *s = calloc(1, sizeof *s);

	ck_assert_ptr_nonnull(s);
	s->want_kindex = kindex;
	return s;
}

/* A case run under both captures: its namespace (NULL when it cannot run
 * here: SKIP said), the peer started, cap0's kindex, the capture open. */
static struct capture *cap0_case(const char *test, struct peer *p, int *k)
{
	if (enter_netns(test) < 0 || ebpf_here(test) < 0)
		return NULL;
	peer_start(p);
	*k = (int)if_nametoindex("cap0");
	return open_all();
}

/* Frames into kindex are sampled (the peer's Ethernet marker reaches the
 * capture); then the peer and the capture are closed. */
static void sampled_then_close(struct peer *p, struct capture *c, int kindex)
{
	struct seen *s = seen_new(kindex);

	frame_eth = 1;
	peer_send(p, 9, 1);
	wait_marker(c, s, 9, 1);
	peer_stop(p);
	capture_close(c);
	free(s);
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

		set_rules(c, &r, 1, NULL, 0);   /* lo only: the marker */
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

		set_rules(c, &r, 1, NULL, 0);
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
		set_rules(c, r, CAPTURE_BOUND_MAX + 1, NULL, 0);
	}
	settle(c);
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

/* `filter "not udp port 41641"`: no WireGuard packet is a sample, but each
 * is drawn and handed over as a rejected frame (it counts out of the pool);
 * our own datagrams (to 198.18.9.2:6343 from port 40000) likewise; other
 * datagrams to that port are samples. A filter that does not compile for
 * the link type is refused with libpcap's message, the interface named. */
static void filter_case(const char *test)
{
	struct peer p;
	struct capture *c;
	struct seen *s;
	struct capture_rule r;
	struct bpfprog_self own = own_flow(40000, 6343);
	enum capture_refusal no;
	char err[512] = "";
	int k;

	if (!(c = cap0_case(test, &p, &k)))
		return;
	s = seen_new(k);
	frame_eth = 1;
	r = (struct capture_rule){ .kindex = k, .arphrd = ARPHRD_ETHER, .rate = 1,
				   .filter = "not udp port 41641", .line = 3 };
	set_rules(c, &r, 1, &own, 1);
	udp_send("198.18.9.2", WG_PORT, 30);
	peer_send(&p, WG_PORT, 30);
	udp_send_from("198.18.9.2", 6343, 40000, 20);
	udp_send_from("198.18.9.2", 6343, 40001, 7);
	udp_send("198.18.9.2", 5000, 25);
	udp_send("198.18.9.2", 9, 1);
	wait_marker(c, s, 9, 1);
	peer_send(&p, 9, 1);
	wait_marker(c, s, 9, 2);
	ck_assert_uint_eq(s->port[WG_PORT], 0);
	ck_assert_uint_eq(s->port[6343], 7);
	ck_assert_uint_eq(s->port[5000], 25);
	ck_assert_uint_eq(s->rejected, 30 + 30 + 20);

	r.filter = "udp port";
	ck_assert_int_eq(capture_set_rules(c, &r, 1, NULL, 0, SNAP, &no, err, sizeof err), 0);
	ck_assert_int_eq(no, CAPTURE_BAD_FILTER);
	ck_assert_msg(strstr(err, "syntax error") && strstr(err, "\"udp port\""),
		      "message: %s", err);
	/* Ethernet words on a tun: refused for that link type only. */
	r.filter = "ether host 02:00:00:00:09:02";
	r.arphrd = ARPHRD_NONE;
	ck_assert_int_eq(capture_set_rules(c, &r, 1, NULL, 0, SNAP, &no, err, sizeof err), 0);
	ck_assert_int_eq(no, CAPTURE_BAD_FILTER);
	ck_assert_msg(strstr(err, "raw IP"), "message: %s", err);
	ck_assert_uint_eq(capture_sockets(c), 0);
	peer_stop(&p);
	capture_close(c);
	free(s);
}

START_TEST(t_filter)
{
	filter_case(__func__);
}
END_TEST

START_TEST(t_filter_ebpf)
{
	test_kind = CAPTURE_EBPF;
	filter_case(__func__);
}
END_TEST

/* The outer VLAN tag the receiving kernel strips before the tap (802.1Q,
 * and 802.1ad over 802.1Q) is put back where it was, and counts in the
 * length: the frame is the one the peer sent. */
static struct {
	uint8_t data[256];
	uint32_t caplen, len;
	unsigned n;
} tagged;

static void keep_tagged(void *ctx, const struct capture_frame *f)
{
	(void)ctx;
	if (f->rejected || f->caplen < 16 || f->data[12] == 0x08)
		return;   /* untagged: the marker */
	memcpy(tagged.data, f->data, f->caplen);
	tagged.caplen = f->caplen;
	tagged.len = f->len;
	tagged.n++;
}

static void vlan_case(const char *test)
{
	struct peer p;
	struct capture *c;
	struct capture_rule r;
	int k;

	if (!(c = cap0_case(test, &p, &k)))
		return;
	r = (struct capture_rule){ .kindex = k, .arphrd = ARPHRD_ETHER, .rate = 1 };
	set_rules(c, &r, 1, NULL, 0);
	for (int qinq = 0; qinq <= 1; qinq++) {
		int64_t deadline = monotonic_ms() + 5000;

		memset(&tagged, 0, sizeof tagged);
		peer_send(&p, 0, 1 + qinq);
		while (!tagged.n && monotonic_ms() < deadline) {
			struct pollfd pfd = { capture_fd(c), POLLIN, 0 };

			poll(&pfd, 1, 50);
			capture_drain(c, 256, keep_tagged, NULL);
		}
		ck_assert_uint_eq(tagged.n, 1);
		if (qinq) {
			ck_assert_mem_eq(tagged.data + 12, "\x88\xa8\x00\x07\x81\x00\x00\x05\x08\x00", 10);
			ck_assert_uint_eq(tagged.len, 12 + 4 + 4 + 2 + 28);
		} else {
			ck_assert_mem_eq(tagged.data + 12, "\x81\x00\x00\x05\x08\x00", 6);
			ck_assert_uint_eq(tagged.len, 12 + 4 + 2 + 28);
		}
		ck_assert_uint_eq(tagged.caplen, tagged.len);
		ck_assert_mem_eq(tagged.data, "\x02\0\0\0\x09\x01\x02\0\0\0\x09\x02", 12);
		/* The datagram itself, after the tags, intact. */
		ck_assert_uint_eq(tagged.data[tagged.len - 28], 0x45);
		ck_assert_uint_eq(tagged.data[tagged.len - 5], 9);
	}
	/* Untagged frames are as they were. */
	sampled_then_close(&p, c, k);
}

START_TEST(t_vlan)
{
	vlan_case(__func__);
}
END_TEST

START_TEST(t_vlan_ebpf)
{
	test_kind = CAPTURE_EBPF;
	vlan_case(__func__);
}
END_TEST

/* Packets the kernel dropped before any tap (softnet backlog full), all
 * CPUs: /proc/net/softnet_stat's second column. */
static unsigned long backlog_drops(void)
{
	FILE *f = fopen("/proc/net/softnet_stat", "re");
	unsigned long total = 0, processed, dropped;
	char rest[512];

	ck_assert_ptr_nonnull(f);
	while (fscanf(f, "%lx %lx", &processed, &dropped) == 2) {
		total += dropped;
		if (!fgets(rest, sizeof rest, f))
			break;
	}
	fclose(f);
	return total;
}

/* Numbered datagrams to STREAM_PORT: how often each number was seen. */
#define STREAM_N 20000
static struct {
	unsigned seen[STREAM_N], marker, other;
} stream;

static void count_stream(void *ctx, const struct capture_frame *f)
{
	int port = udp_dport(f, 1);
	uint32_t seq;

	(void)ctx;
	if (port == 9) {
		stream.marker++;
		return;
	}
	if (port != STREAM_PORT || f->caplen < 14 + 20 + 8 + 4) {
		stream.other++;
		return;
	}
	seq = (uint32_t)f->data[42] << 24 | (uint32_t)f->data[43] << 16 |
	      (uint32_t)f->data[44] << 8 | f->data[45];
	ck_assert_uint_lt(seq, STREAM_N);
	stream.seen[seq]++;
}

/* Programs replaced again and again while numbered datagrams stream in at
 * rate 1: each on a fresh socket, between bound and unbound sockets too;
 * every datagram is sampled once (no gap while one socket hands over to
 * the next, no packet on both), none dropped by a ring. Each socket stamps
 * a frame itself, so a packet whose two deliveries straddle the cut (a
 * microsecond apart) may be lost or kept twice: at most one such packet per
 * swap at this pace, two allowed. Without the cut, thousands are kept
 * twice (the old socket taps on for its grace); with the old socket closed
 * at once, hundreds are lost. */
START_TEST(t_swap)
{
	struct peer p;
	struct capture *c;
	struct capture_rule r[CAPTURE_BOUND_MAX + 1];
	unsigned swaps = 0, missing = 0, twice = 0, drops;
	unsigned long dropped;
	int64_t deadline;
	int k;

	if (enter_netns(__func__) < 0)
		return;
	peer_start(&p);
	k = (int)if_nametoindex("cap0");
	c = open_all();
	memset(&stream, 0, sizeof stream);
	for (int i = 0; i <= CAPTURE_BOUND_MAX; i++)
		r[i] = (struct capture_rule){ .kindex = i ? 100000 + i : k,
					      .arphrd = ARPHRD_ETHER, .rate = 1 };
	set_rules(c, r, 1, NULL, 0);
	dropped = backlog_drops();
	peer_send(&p, STREAM_PORT, STREAM_N);
	peer_send(&p, 9, 1);
	deadline = monotonic_ms() + 20000;
	while (!stream.marker && monotonic_ms() < deadline) {
		int64_t next = monotonic_ms() + SWAP_EVERY_MS;

		/* Another program each time: a filter on and off, one socket
		 * bound to cap0 or the unbound one for five rules. */
		r[0].filter = swaps % 2 ? "udp or tcp" : NULL;
		set_rules(c, r, swaps % 4 < 2 ? 1 : CAPTURE_BOUND_MAX + 1, NULL, 0);
		swaps++;
		while (monotonic_ms() < next) {
			poll(NULL, 0, 1);
			capture_drain(c, 4096, count_stream, NULL);
		}
	}
	/* Whatever the rings still hold, the replaced ones' included. */
	deadline = monotonic_ms() + 2000;
	while ((capture_retire_due_ms(c) || capture_drain(c, 4096, count_stream, NULL)) &&
	       monotonic_ms() < deadline) {
		poll(NULL, 0, 2);
		capture_drain(c, 4096, count_stream, NULL);
	}
	ck_assert_int_eq(capture_retire_due_ms(c), 0);
	drops = capture_take_drops(c);
	for (unsigned i = 0; i < STREAM_N; i++) {
		missing += stream.seen[i] == 0;
		twice += stream.seen[i] > 1;
	}
	dropped = backlog_drops() - dropped;
	fprintf(stderr, "check_capture: %u program swaps during %u datagrams: %u missing, "
		"%u twice, %u dropped by a full ring (%lu dropped before the taps, on any "
		"interface)\n", swaps, STREAM_N, missing, twice, drops, dropped);
	ck_assert_uint_ge(swaps, 10);
	/* A ring that overflowed (the machine kept this thread off a CPU)
	 * says so: its drops are the sampler's drops, not a bias. */
	ck_assert_uint_le(missing + twice, 2 * swaps + drops);
	peer_stop(&p);
	capture_close(c);
}
END_TEST

/* More than the kernel takes: 7 interfaces with filters of ~630
 * instructions each, one config line each. The rules of the last lines are
 * refused until the rest fit (too long for one program; then, on this
 * kernel, maybe more than net.core.optmem_max allows), each with its
 * reason; the rest are in force and sampled. capture_check_rules (-t)
 * decides the same. */
START_TEST(t_fit)
{
	enum capture_refusal checked[7], set[7];
	struct capture_rule r[7];
	char expr[7][1024], why[1024] = "", why2[1024] = "";
	struct capture *c;
	struct peer p;
	size_t blame = 99, in_force = 0;
	int too_long = 0;

	if (enter_netns(__func__) < 0)
		return;
	peer_start(&p);
	sh("for i in 1 2 3 4 5 6; do ip link add fit$i type veth peer name fitp$i; done");
	for (int i = 0; i < 7; i++) {
		char name[IFNAMSIZ];
		size_t used = 0;

		/* 25 IPv6 hosts with ports: ~630 instructions, under 1024 bytes;
		 * the last term keeps UDP to port 9 (the marker) in. */
		for (int t = 0; t < 25; t++)
			used += (size_t)snprintf(expr[i] + used, sizeof expr[i] - used,
						 "(host ::%x and port %d) or ", t + 1, 100 * i + t + 1);
		snprintf(expr[i] + used, sizeof expr[i] - used, "udp port 9");
		snprintf(name, sizeof name, "fit%d", i);
		r[i] = (struct capture_rule){ .kindex = i ? (int)if_nametoindex(name)
							  : (int)if_nametoindex("cap0"),
					      .arphrd = ARPHRD_ETHER, .rate = 1, .filter = expr[i],
					      .line = 10 + i };
		ck_assert_int_gt(r[i].kindex, 0);
	}
	ck_assert_int_eq(capture_check_rules(CAPTURE_PACKET, r, 7, NULL, 0, SNAP, checked, &blame,
					     why, sizeof why), 0);
	c = open_all();
	ck_assert_int_eq(capture_set_rules(c, r, 7, NULL, 0, SNAP, set, why2, sizeof why2), 0);
	fprintf(stderr, "check_capture: 7 filters of ~630 instructions: %s\n", why2);
	ck_assert_str_eq(why, why2);
	ck_assert_uint_lt(blame, 7);
	for (int i = 0; i < 7; i++) {
		ck_assert_int_eq(checked[i], set[i]);
		too_long |= set[i] == CAPTURE_TOO_LONG;
		/* The last lines go first: nothing in force after a refusal. */
		if (i && set[i - 1] != CAPTURE_SAMPLED)
			ck_assert_int_ne(set[i], CAPTURE_SAMPLED);
		in_force += set[i] == CAPTURE_SAMPLED;
	}
	ck_assert_int_eq(too_long, 1);
	ck_assert_int_ne(set[blame], CAPTURE_SAMPLED);
	ck_assert_uint_ge(in_force, 1);
	ck_assert_uint_eq(capture_sockets(c), in_force <= CAPTURE_BOUND_MAX ? in_force : 1);
	/* cap0's rule is in force: its traffic is sampled. */
	sampled_then_close(&p, c, r[0].kindex);
}
END_TEST

/* No descriptor for a new socket: the call fails as a whole, names the
 * reason, and what was in force stays (the old socket still samples). */
START_TEST(t_no_fd)
{
	struct peer p;
	struct capture *c;
	struct capture_rule r[3];
	enum capture_refusal no[3];
	struct rlimit rl;
	char err[512] = "";
	int k;

	if (enter_netns(__func__) < 0)
		return;
	peer_start(&p);
	sh("ip link add nofd1 type veth peer name nofdp1 && ip link add nofd2 type veth peer "
	   "name nofdp2");
	k = (int)if_nametoindex("cap0");
	c = open_all();
	r[0] = (struct capture_rule){ .kindex = k, .arphrd = ARPHRD_ETHER, .rate = 1 };
	r[1] = (struct capture_rule){ .kindex = (int)if_nametoindex("nofd1"),
				      .arphrd = ARPHRD_ETHER, .rate = 1 };
	r[2] = (struct capture_rule){ .kindex = (int)if_nametoindex("nofd2"),
				      .arphrd = ARPHRD_ETHER, .rate = 1 };
	set_rules(c, r, 1, NULL, 0);
	/* One descriptor left: the throwaway socket's, then the first new
	 * socket's; the second new socket finds none. The holes below the
	 * highest descriptor are filled first (the lowest free is taken). */
	{
		int fd, top = -1;

		while ((fd = open("/dev/null", O_RDONLY)) >= 0 && fd < 200 && fd > top) {
			if (fcntl(fd + 1, F_GETFD) < 0) {
				top = fd;
				break;
			}
		}
		ck_assert_int_ge(top, 0);
		ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
		rl.rlim_cur = (rlim_t)top + 2;
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	ck_assert_int_eq(capture_set_rules(c, r, 3, NULL, 0, SNAP, no, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "Too many open files"), "%s", err);
	ck_assert_uint_eq(capture_sockets(c), 1);
	ck_assert_int_eq(capture_retire_due_ms(c), 0);
	sampled_then_close(&p, c, k);
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
	set_rules(c, r, 2, NULL, 0);
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
	set_rules(c, &r, 1, NULL, 0);
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
	struct bpfprog_self own = own_flow(40000, 6343);
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

		set_rules(c, r, (size_t)counts[j], &own, 1);
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
	tcase_add_test(tc, t_filter_ebpf);
	tcase_add_test(tc, t_vlan);
	tcase_add_test(tc, t_vlan_ebpf);
	tcase_add_test(tc, t_swap);
	tcase_add_test(tc, t_fit);
	tcase_add_test(tc, t_no_fd);
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
