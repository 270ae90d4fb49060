/* The sampler's capture: AF_PACKET sockets with an in-kernel classic BPF
 * program (unsampled packets never reach user space) and a TPACKET_V2
 * receive ring holding only the first snaplen bytes of each sampled packet;
 * or, where the kernel has tcx, the tc eBPF capture (capture_ebpf.h), which
 * serves every call below in their place (capture_open). Owned and used by
 * the sampler thread only.
 *
 * Up to CAPTURE_BOUND_MAX sampled interfaces: a socket bound to each (1 MiB
 * ring), so unsampled interfaces' packets never meet a tap. More: ONE
 * unbound socket and ONE 2 MiB ring for all of them, their rates and pcap
 * filters decided by one program (see bpfprog.h), so fds and memory do not
 * grow with the number of interfaces. The sampler polls one fd either way. */
#ifndef HF_CAPTURE_H
#define HF_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "base/hf_types.h"

#define CAPTURE_BOUND_MAX 4

/* One sampled packet, valid only during the callback. */
struct capture_frame {
	int kindex;              /* sll_ifindex: the interface the packet was seen on */
	const uint8_t *data;     /* the snapped bytes, from the link header on */
	uint32_t caplen;         /* bytes at data, <= snaplen */
	uint32_t len;            /* length of the whole packet as the kernel saw it */
	int outgoing;            /* sll_pkttype == PACKET_OUTGOING: sent by this host */
};

typedef void (*capture_fn)(void *ctx, const struct capture_frame *f);

struct capture;

/* One interface to sample on the shared socket. */
struct capture_rule {
	int kindex;               /* kernel ifindex to sample */
	unsigned arphrd;          /* its ARPHRD_*: the link type the filter is compiled for
				     (ETHER, LOOPBACK: Ethernet; anything else, tun and
				     wireguard included: bare IP) */
	uint32_t rate;            /* 1 in rate, >= 1 */
	const char *filter;       /* pcap-filter(7) expression; NULL or "" = every packet */
};

/* Which capture capture_open() sets up: the `capture` directive. */
enum capture_backend {
	CAPTURE_AUTO,     /* tc eBPF where it loads, else packet sockets */
	CAPTURE_PACKET,   /* packet sockets */
	CAPTURE_EBPF      /* tc eBPF, or NULL */
};

/* The capture `want` asks for, with no interface sampled yet. AUTO falls
 * back to packet sockets when the tc eBPF capture cannot load (the kernel
 * has no tcx, no CAP_BPF / CAP_NET_ADMIN) and logs why. Returns NULL with a
 * message in err. */
struct capture *capture_open(enum capture_backend want, uint32_t snaplen, char *err,
			     size_t errlen);
/* What it uses: "packet sockets" or "tc eBPF (tcx)". */
const char *capture_kind(const struct capture *c);

/* Checks that a packet socket can be opened (CAP_NET_RAW) and returns a
 * capture with no socket yet: nothing is sampled, and nothing is on any
 * packet's path, until capture_set_rules(). snaplen is checked by
 * capture_set_rules(), which sets it. Returns NULL with a message in err. */
struct capture *capture_open_all(uint32_t snaplen, char *err, size_t errlen);
/* Builds the program(s) from the rules and swaps them in atomically (per
 * socket; sockets are opened before old ones close): packets of unlisted
 * interfaces are dropped at once; on a listed one a packet is a
 * candidate when the rule's filter matches and `exclude` (a pcap expression
 * of packets never sampled on any interface: the daemon's own datagrams to
 * its collectors; NULL = none) does not, and then sampled 1 in rate, keeping
 * snaplen (1..HF_MAX_HEADER) bytes. Filters are compiled per (expression,
 * link type) and cached across calls. On failure returns -1 with a message
 * (libpcap's for a bad expression, naming the kindex and the expression;
 * "program too large ..." when the rules do not fit the kernel's 4096
 * instructions) and the program in force stays. */
int capture_set_rules(struct capture *c, const struct capture_rule *rules, size_t n,
		      const char *exclude, uint32_t snaplen, char *err, size_t errlen);
/* Bytes of the mmap'ed ring (the capture's memory). */
size_t capture_ring_bytes(const struct capture *c);

void capture_close(struct capture *c);
/* How many packet sockets are open now (0..CAPTURE_BOUND_MAX). */
size_t capture_sockets(const struct capture *c);
/* The fd to poll for POLLIN: frames ready, or a socket's error pending
 * (ENETDOWN when a link went down): call capture_clear_error() when a drain
 * found nothing. */
int capture_fd(const struct capture *c);
/* Hands at most max ready frames to fn, in ring order; returns how many. */
unsigned capture_drain(struct capture *c, unsigned max, capture_fn fn, void *ctx);
/* Clears a pending socket error (ENETDOWN after the link went down) so that
 * poll() stops reporting POLLERR; returns the error, 0 when none. */
int capture_clear_error(struct capture *c);
/* Frames of the smallest ring (0 without a socket). */
unsigned capture_ring_frames(const struct capture *c);
/* How long the sampler may leave the rings alone after a drain that took
 * got frames, since_ms after the one before: long enough that one wake-up
 * serves many samples (a wake-up costs more than a sample), short enough
 * that at the rate just seen the smallest ring of ring_frames is an eighth
 * full when it looks again, so the rest of the ring is there for the time a
 * busy machine keeps the thread waiting. At most max_ms; 0: look again at
 * once. Pure. */
int64_t capture_pause_ms(unsigned got, int64_t since_ms, unsigned ring_frames, int64_t max_ms);
/* Packets the ring had no room for since the last call (on the shared
 * socket: of all interfaces together; the kernel does not say which). */
uint32_t capture_take_drops(struct capture *c);

#endif
