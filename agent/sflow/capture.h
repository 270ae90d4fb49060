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
 * grow with the number of interfaces. The sampler polls one fd either way.
 *
 * A socket whose program changes is replaced by a fresh one (see
 * capture_set_rules): the kernel charges a socket's program to its option
 * memory (net.core.optmem_max), and swapping programs on one socket needs the
 * old and the new at once. */
#ifndef HF_CAPTURE_H
#define HF_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "base/hf_types.h"
#include "sflow/core/bpfprog.h"

#define CAPTURE_BOUND_MAX 4

/* One frame, valid only during the callback. */
struct capture_frame {
	int kindex;              /* sll_ifindex: the interface the packet was seen on */
	const uint8_t *data;     /* the snapped bytes, from the link header on; the
				    VLAN tag the kernel stripped is put back */
	uint32_t caplen;         /* bytes at data, <= snaplen */
	uint32_t len;            /* length of the whole packet (the tag counted) */
	int outgoing;            /* sll_pkttype == PACKET_OUTGOING: sent by this host */
	int rejected;            /* drawn 1 in rate but not a sample: its filter did
				    not match, or it is our own datagram (or an ICMP
				    error about one). No data; it counts out of the
				    sample pool (sFlow's pool is what could be sampled) */
};

typedef void (*capture_fn)(void *ctx, const struct capture_frame *f);

struct capture;

/* One interface to sample. */
struct capture_rule {
	int kindex;               /* kernel ifindex to sample */
	unsigned arphrd;          /* its ARPHRD_*: the link type the filter is compiled for
				     (ETHER, LOOPBACK: Ethernet; anything else, tun and
				     wireguard included: bare IP) */
	uint32_t rate;            /* 1 in rate, >= 1 */
	const char *filter;       /* pcap-filter(7) expression; NULL or "" = every packet */
	int line;                 /* the config line that decides: when the programs do
				     not fit the kernel, the rules of the last lines are
				     refused first */
};

/* Which capture capture_open() sets up: the `capture` directive. */
enum capture_backend {
	CAPTURE_AUTO,     /* tc eBPF where it loads, else packet sockets */
	CAPTURE_PACKET,   /* packet sockets */
	CAPTURE_EBPF      /* tc eBPF, or NULL */
};

/* The capture `want` asks for, with no interface sampled yet. AUTO falls
 * back to packet sockets when this host lacks what the tc eBPF capture
 * needs (the kernel has no tcx, no CAP_BPF / CAP_NET_ADMIN, the verifier
 * refuses) and logs why; it fails, as EBPF does, when something ran out
 * (descriptors, memory): half-started is not started. Returns NULL with a
 * message in err. */
struct capture *capture_open(enum capture_backend want, uint32_t snaplen, char *err,
			     size_t errlen);
/* What it uses: "packet sockets" or "tc eBPF". */
const char *capture_kind(const struct capture *c);
/* What capture_open(want) would use here, with the same rights, opening
 * nothing (`hostflowd -t`). */
enum capture_picked {
	CAPTURE_PICKED,           /* *kind: CAPTURE_PACKET or CAPTURE_EBPF; why: the
				     reason AUTO would not take tc eBPF, or "" */
	CAPTURE_PICK_LACKING,     /* EBPF, and this kernel lacks it: why */
	CAPTURE_PICK_UNTRIED      /* EBPF without the rights to try, or something
				     ran out: why */
};
enum capture_picked capture_pick(enum capture_backend want, enum capture_backend *kind,
				 char *why, size_t whylen);
/* The words of capture_kind for a kind capture_pick gave. */
const char *capture_kind_name(enum capture_backend kind);

/* Why a rule is not in force. */
enum capture_refusal {
	CAPTURE_SAMPLED,          /* in force */
	CAPTURE_BAD_FILTER,       /* the filter does not compile for the link type */
	CAPTURE_TOO_LONG,         /* beyond the kernel's 4096 instructions */
	CAPTURE_NO_OPTMEM,        /* beyond what net.core.optmem_max lets a socket hold */
	CAPTURE_CHECKER,          /* the kernel's checker refused the program */
	CAPTURE_NO_ATTACH,        /* tc eBPF: the kernel refused the tcx attach (or the
				     rate map entry) of the interface */
};

/* A few words for STATUS= ("filter", "too long", "optmem_max", ...). */
const char *capture_refusal_name(enum capture_refusal r);

/* Checks that a packet socket can be opened (CAP_NET_RAW) and returns a
 * capture with no socket yet: nothing is sampled, and nothing is on any
 * packet's path, until capture_set_rules(). snaplen is checked by
 * capture_set_rules(), which sets it. Returns NULL with a message in err. */
struct capture *capture_open_all(uint32_t snaplen, char *err, size_t errlen);

/* Builds the programs from the rules and puts them in force. A packet of a
 * listed interface is drawn 1 in rate; a drawn one whose filter matches and
 * that is not one of `self` (our own datagrams, see bpfprog.h) is a sample of
 * snaplen (1..HF_MAX_HEADER) bytes; the other drawn ones come as rejected
 * frames. Filters are compiled per (expression, link type), cached.
 *
 * With tc eBPF the kernel only draws: the program bpfprog builds for every
 * rule at rate 1 (no 4096-instruction bound: BPFPROG_USER_MAXINSNS, no
 * optmem_max) judges the drawn packets in user space, so the filters and
 * our own datagrams are decided by the same rule on both captures. Its
 * refusals are a filter that does not compile, a program beyond that bound,
 * and the kernel's refusal of an interface's attach (CAPTURE_NO_ATTACH; of
 * an attach made in steps later: capture_take_refused).
 *
 * Rules the kernel cannot take are refused, each with its reason in
 * refused[i] (a filter that does not compile for its link type; programs
 * beyond 4096 instructions or net.core.optmem_max: the rules of the last
 * config lines go first until the rest fit), and why says the first
 * refusal; the others are in force. Every program that changes is put on a
 * fresh socket, opened before the one it replaces stops: the old socket's
 * frames up to the moment the new one took over are still delivered, the
 * new one's from that moment on, so no packet is a candidate twice or not
 * at all. Returns 0 (why "" when nothing was refused), or -1 when nothing
 * could change (no socket: EMFILE, ...): why says so and the sampling in
 * force stays. */
int capture_set_rules(struct capture *c, const struct capture_rule *rules, size_t n,
		      const struct bpfprog_self *self, size_t nself, uint32_t snaplen,
		      enum capture_refusal *refused, char *why, size_t whylen);
/* The same decision, without a capture, for the kind capture_pick gave
 * (`hostflowd -t`): the programs capture_set_rules would build; for packet
 * sockets each tried on a throwaway socket of this network namespace (the
 * kernel's checker and its optmem_max). Returns 0 with refused[] and why as
 * capture_set_rules, and *blame the index of a rule why is about; -1 when
 * no socket could be had to try them on. */
int capture_check_rules(enum capture_backend kind, const struct capture_rule *rules,
			size_t n, const struct bpfprog_self *self, size_t nself,
			uint32_t snaplen, enum capture_refusal *refused, size_t *blame,
			char *why, size_t whylen);
/* Interfaces in force the kernel refused later (tc eBPF: an attach made in
 * steps after capture_set_rules returned), at most max kindexes since the
 * last call, each not sampled for CAPTURE_NO_ATTACH. Packet sockets: 0. */
size_t capture_take_refused(struct capture *c, int *kindex, size_t max);
/* Descriptors the capture may still open while it runs (packet sockets: a
 * swap's fresh sockets and the throwaway one their programs are tried on,
 * while a second swap's replaced ones wait for their last drain; tc eBPF:
 * none, everything is opened at start). */
unsigned capture_fds_spare(const struct capture *c);
/* Bytes of the mmap'ed rings (the capture's memory). */
size_t capture_ring_bytes(const struct capture *c);

void capture_close(struct capture *c);
/* How many packet sockets are open now (0..CAPTURE_BOUND_MAX; sockets being
 * retired not counted). */
size_t capture_sockets(const struct capture *c);
/* The fd to poll for POLLIN: frames ready, or a socket's error pending
 * (ENETDOWN when a link went down): call capture_clear_error() when a drain
 * found nothing. */
int capture_fd(const struct capture *c);
/* Hands at most max ready frames to fn, in ring order (a replaced socket's
 * first); returns how many. */
unsigned capture_drain(struct capture *c, unsigned max, capture_fn fn, void *ctx);
/* When a replaced socket may be closed (monotonic ms; 0: none waits): a
 * capture_drain() from then on closes it. Until then it still taps its
 * interfaces, so the sampler drains by then even when no frame woke it. */
int64_t capture_retire_due_ms(const struct capture *c);
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
