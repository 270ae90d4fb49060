/* udpblast: offers a fixed number of small UDP packets as fast as the kernel
 * takes them, bounded by a deadline, and says how many it offered and when.
 * The benchmark counts what crossed the veth from the receiver's rx_packets,
 * so this only has to be fast and bounded: sendmmsg() of one shared payload.
 *
 *   udpblast DST_IPV4 PORT COUNT SECONDS [PPS [PAYLOAD_BYTES [NDST]]]
 *
 * PPS 0 (the default) sends as fast as possible; otherwise batches are paced
 * so that the offered load is the same whichever sampler is watching.
 * NDST > 1 cycles the destination over DST, DST+1, ... DST+NDST-1 (an
 * unconnected socket, one address per message): a router's sampler then
 * meets destinations its route cache has not seen.
 * Prints "sent=N elapsed_ns=T cpu_ns=C" on stdout, C the CPU time the
 * sending took (on veths, with the kernel's work for each packet in its context:
 * the whole forwarding path, as the kernel here does not set
 * IRQ_TIME_ACCOUNTING apart). Exit 0 when at least one packet
 * went out. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_PAYLOAD 1472

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int open_socket(const struct sockaddr_in *sin, int many)
{
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("udpblast: socket");
		return -1;
	}
	if (many)
		return fd;
	/* connect() once so each send skips the route lookup, like a real sender. */
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) < 0) {
		perror("udpblast: connect");
		close(fd);
		return -1;
	}
	return fd;
}

/* Waits until the batch starting at packet `sent` is due at rate pps. */
static void pace(int64_t start, uint64_t sent, uint64_t pps)
{
	int64_t due;
	struct timespec ts;

	if (!pps)
		return;
	due = start + (int64_t)(sent * 1000000000ull / pps);
	if (due <= now_ns())
		return;
	ts.tv_sec = due / 1000000000;
	ts.tv_nsec = due % 1000000000;
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* Sends up to count packets before deadline; returns how many went out. */
static uint64_t blast(int fd, const uint8_t *payload, size_t len, const struct sockaddr_in *dst,
		      uint64_t ndst, uint64_t count, uint64_t pps, int64_t start, int64_t deadline)
{
	struct iovec iov = { .iov_base = (void *)payload, .iov_len = len };
	struct mmsghdr msgs[BATCH];
	struct sockaddr_in to[BATCH];
	uint32_t base = ntohl(dst->sin_addr.s_addr);
	uint64_t sent = 0;
	int i;

	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
		to[i] = *dst;
		if (ndst > 1) {
			msgs[i].msg_hdr.msg_name = &to[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(to[i]);
		}
	}
	while (sent < count && now_ns() < deadline) {
		unsigned want = count - sent < BATCH ? (unsigned)(count - sent) : BATCH;
		int n;

		for (i = 0; ndst > 1 && i < (int)want; i++)
			to[i].sin_addr.s_addr = htonl(base + (uint32_t)((sent + (uint64_t)i) % ndst));
		pace(start, sent, pps);
		n = sendmmsg(fd, msgs, want, 0);

		if (n < 0) {
			/* A full qdisc or socket buffer is back-pressure, not an error. */
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR ||
			    errno == ECONNREFUSED)
				continue;
			perror("udpblast: sendmmsg");
			break;
		}
		sent += (uint64_t)n;
	}
	return sent;
}

int main(int argc, char **argv)
{
	uint8_t payload[MAX_PAYLOAD];
	uint64_t port, count, secs, pps = 0, len = 18, ndst = 1;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int64_t start, end;
	struct timespec cpu0, cpu;
	uint64_t sent;
	int fd;

	if (argc < 5 || argc > 8 || parse_u64(argv[2], 65535, &port) ||
	    parse_u64(argv[3], UINT64_MAX, &count) || parse_u64(argv[4], 3600, &secs) ||
	    (argc >= 6 && parse_u64(argv[5], 100000000, &pps)) ||
	    (argc >= 7 && parse_u64(argv[6], MAX_PAYLOAD, &len)) ||
	    (argc == 8 && parse_u64(argv[7], 1u << 24, &ndst)) || port == 0 || ndst == 0) {
		fprintf(stderr, "usage: udpblast DST_IPV4 PORT COUNT SECONDS [PPS [PAYLOAD_BYTES [NDST]]]\n");
		return 2;
	}
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
		fprintf(stderr, "udpblast: bad IPv4 address %s\n", argv[1]);
		return 2;
	}
	sin.sin_port = htons((uint16_t)port);
	fd = open_socket(&sin, ndst > 1);
	if (fd < 0)
		return 1;
	memset(payload, 0xa5, sizeof(payload));
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
	start = now_ns();
	sent = blast(fd, payload, len, &sin, ndst, count, pps, start, start + (int64_t)secs * 1000000000);
	end = now_ns();
	close(fd);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	printf("sent=%llu elapsed_ns=%lld cpu_ns=%lld\n", (unsigned long long)sent,
	       (long long)(end - start), (long long)(cpu.tv_sec - cpu0.tv_sec) * 1000000000 +
	       (cpu.tv_nsec - cpu0.tv_nsec));
	return sent ? 0 : 1;
}
