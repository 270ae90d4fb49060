/* The classic BPF program of a packet socket, built from the sampling rules:
 * pure (no I/O), so it is tested by interpretation.
 *
 *   ld ifindex (SKF_AD_IFINDEX)
 *   binary search over the sorted kindexes, down to buckets of a few `jeq`s;
 *   an unlisted interface drops at once (ret #0)
 *   per distinct (rate, filter, link) group, shared by its interfaces:
 *     ld rand; mod #rate; jeq #0, else drop  (none for rate 1): first, so
 *       what follows runs on 1 packet in rate (the draw is independent of
 *       the packet: a matching one is still kept with probability 1/rate)
 *     the rule's pcap filter inlined (its `ret`s turned into jumps):
 *       no match -> MARK
 *     ja SELF(link)
 *   SELF(ether), SELF(ip): one block per link type present, shared by every
 *     group: the sampler's own datagrams (UDP from one of its ports to its
 *     collector's address and port) and the ICMP/ICMPv6 errors quoting them
 *     -> MARK; everything else -> KEEP. Every packet load is preceded by a
 *     length check, so a short frame is "not ours" (kept), never an aborted
 *     program (which the kernel treats as a drop: a bias against short frames)
 *   KEEP: ret #snaplen      a sample
 *   MARK: ret #1            drawn, but not a sample (filtered out, or our own):
 *                           the sampler counts it out of the sample pool
 *   drop: ret #0
 *
 * Conditional jumps carry 8-bit offsets, so every far target is reached
 * through a 32-bit `ja`. */
#ifndef HF_BPFPROG_H
#define HF_BPFPROG_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

/* What a packet returned MARK looks like to the socket: 1 byte captured of a
 * longer frame. Samples are always returned with more (BPFPROG_MIN_SNAP). */
#define BPFPROG_MARK     1u
#define BPFPROG_MIN_SNAP 2u

/* How a rule's packets start at the socket. */
enum bpfprog_link {
	BPFPROG_LINK_ETHER,   /* an Ethernet header (ETHER, LOOPBACK) */
	BPFPROG_LINK_IP,      /* the IP header (tun, wireguard) */
};

struct bpfprog_rule {
	int kindex;                          /* > 0, unique among the rules */
	uint32_t rate;                       /* 1 in rate, >= 1 */
	enum bpfprog_link link;
	const struct sock_filter *filter;    /* pcap program for the link; NULL = all */
	size_t filter_len;
};

/* One flow of the sampler's own datagrams: UDP from local port sport to
 * addr:dport. Such packets, and ICMP errors quoting them, are never samples. */
struct bpfprog_self {
	int family;                          /* AF_INET or AF_INET6 */
	uint8_t addr[16];                    /* network order; IPv4 in the first 4 */
	uint16_t dport, sport;               /* host order */
};

enum bpfprog_built {
	BPFPROG_BUILT,          /* *out holds the program */
	BPFPROG_TOO_LONG,       /* more than BPF_MAXINSNS: err says how many */
	BPFPROG_REFUSED,        /* a bad rule, a duplicate kindex, a filter the
				   builder cannot inline, no memory: err says which */
};

/* Builds the program into a malloc'd array (*out, *out_len; caller frees).
 * Rules with equal rate, link and filter program share one block; self
 * (nself flows, at most BPFPROG_SELF_MAX) is every rule's. n = 0 gives
 * `ret #0`. snaplen >= BPFPROG_MIN_SNAP. */
#define BPFPROG_SELF_MAX 16   /* the config's collectors at most */
enum bpfprog_built bpfprog_build(const struct bpfprog_rule *rules, size_t n,
				 const struct bpfprog_self *self, size_t nself,
				 uint32_t snaplen, struct sock_filter **out, size_t *out_len,
				 char *err, size_t errlen);

/* A program run in user space (cbpf.h: the tc eBPF capture runs this very
 * program on the packets its kernel side drew, every rule at rate 1) is not
 * bound by the kernel's BPF_MAXINSNS. This bound keeps its memory in reason
 * (8 bytes an instruction: 2 MiB), about 170,000 interfaces of one group;
 * the tc capture's own limit is its maps' (sample_abi.h). */
#define BPFPROG_USER_MAXINSNS (1u << 18)
/* bpfprog_build with another bound than BPF_MAXINSNS (>= it). */
enum bpfprog_built bpfprog_build_max(const struct bpfprog_rule *rules, size_t n,
				     const struct bpfprog_self *self, size_t nself,
				     uint32_t snaplen, size_t max_insns,
				     struct sock_filter **out, size_t *out_len,
				     char *err, size_t errlen);

#endif
