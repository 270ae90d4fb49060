/* udpblast: offers a fixed number of small UDP packets as fast as the kernel
 * takes them, bounded by a deadline, and says how many it offered and when.
 * The benchmark counts what crossed the veth from the receiver's rx_packets,
 * so this only has to be fast and bounded: sendmmsg() of one shared payload.
 *
 *   udpblast DST_IPV4 PORT COUNT SECONDS [PPS [PAYLOAD_BYTES]]
 *
 * PPS 0 (the default) sends as fast as possible; otherwise batches are paced
 * so that the offered load is the same whichever sampler is watching.
 * Prints "sent=N elapsed_ns=T" on stdout. Exit 0 when at least one packet
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

static int open_socket(const char *ip, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd;

	if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1) {
		fprintf(stderr, "udpblast: bad IPv4 address %s\n", ip);
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("udpblast: socket");
		return -1;
	}
	/* connect() once so each send skips the route lookup, like a real sender. */
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
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
static uint64_t blast(int fd, const uint8_t *payload, size_t len,
		      uint64_t count, uint64_t pps, int64_t start, int64_t deadline)
{
	struct iovec iov = { .iov_base = (void *)payload, .iov_len = len };
	struct mmsghdr msgs[BATCH];
	uint64_t sent = 0;
	int i;

	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (sent < count && now_ns() < deadline) {
		unsigned want = count - sent < BATCH ? (unsigned)(count - sent) : BATCH;
		int n;

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
	uint64_t port, count, secs, pps = 0, len = 18;
	int64_t start, end;
	uint64_t sent;
	int fd;

	if (argc < 5 || argc > 7 || parse_u64(argv[2], 65535, &port) ||
	    parse_u64(argv[3], UINT64_MAX, &count) || parse_u64(argv[4], 3600, &secs) ||
	    (argc >= 6 && parse_u64(argv[5], 100000000, &pps)) ||
	    (argc == 7 && parse_u64(argv[6], MAX_PAYLOAD, &len)) || port == 0) {
		fprintf(stderr, "usage: udpblast DST_IPV4 PORT COUNT SECONDS [PPS [PAYLOAD_BYTES]]\n");
		return 2;
	}
	fd = open_socket(argv[1], (uint16_t)port);
	if (fd < 0)
		return 1;
	memset(payload, 0xa5, sizeof(payload));
	start = now_ns();
	sent = blast(fd, payload, len, count, pps, start, start + (int64_t)secs * 1000000000);
	end = now_ns();
	close(fd);
	printf("sent=%llu elapsed_ns=%lld\n", (unsigned long long)sent, (long long)(end - start));
	return sent ? 0 : 1;
}
