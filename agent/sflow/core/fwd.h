/* The pure part of the route room: is a sampled packet forwarded by this
 * host, and through which interfaces? Header parsing (Ethernet, 802.1Q/ad,
 * raw IP), the host's own addresses, the local/broadcast/multicast decision,
 * the classification itself from the mirrored routing (fib.h) and a bounded
 * cache of it. No I/O: route.c is the netlink shell. */
#ifndef HF_FWD_H
#define HF_FWD_H

#include <stddef.h>
#include <stdint.h>

#include "base/hf_types.h"

/* What route_classify()/fwd_classify() say about one sampled packet. */
struct fwd_info {
	int forwarded;            /* 1: the host forwards it (neither from nor to itself) */
	int in_kindex;            /* kernel ifindex it came in on: the capture's at ingress,
				   * the route back to its source at egress; 0 unknown */
	int out_kindex;           /* where the kernel's routing sends it: the route's at
				   * ingress, the capture's at egress; 0 unknown */
	struct hf_addr nexthop;   /* the route's gateway, or the destination itself when
				   * on-link; family 0 = unknown */
	uint8_t src_len, dst_len; /* prefix lengths of the routes matching source and
				   * destination (0 also when unknown) */
	int family;               /* the packet's (AF_INET or AF_INET6) when forwarded:
				   * an unknown next hop is sent as its zero address */
};

/* The addresses of one parsed packet. */
struct fwd_pkt {
	int family;               /* AF_INET or AF_INET6 */
	uint8_t src[16], dst[16]; /* 4 or 16 bytes used */
};

/* Parses the IP header of a frame seen on a link of type arphrd: Ethernet
 * (ARPHRD_ETHER, ARPHRD_LOOPBACK; up to two 802.1Q/802.1ad tags) or raw IP
 * (ARPHRD_NONE: tun, WireGuard; ARPHRD_RAWIP, ARPHRD_PPP). 0, or -1 when the
 * frame is not IPv4/IPv6 or too short to hold both addresses. */
int fwd_parse(unsigned arphrd, const uint8_t *frame, uint32_t caplen, struct fwd_pkt *p);

/* ---- the host's own addresses ---- */

enum fwd_addr_kind { FWD_LOCAL = 0, FWD_BROADCAST = 1 };

struct fwd_local {
	uint8_t family, kind;     /* AF_*, enum fwd_addr_kind */
	uint8_t a[16];
	int ifindex;
};

/* A sorted set of (family, address, ifindex, kind): the host's addresses and
 * the IPv4 broadcast addresses of its subnets, kept from an address dump and
 * RTM_NEWADDR/RTM_DELADDR events. Zero-initialised is empty. */
struct fwd_locals {
	struct fwd_local *v;
	size_t n, cap;
};

void fwd_locals_free(struct fwd_locals *l);
void fwd_locals_clear(struct fwd_locals *l);
/* 0, or -1 when out of memory (the set is unchanged). Adding twice is one entry. */
int fwd_locals_add(struct fwd_locals *l, int family, const uint8_t *a, int ifindex,
		   enum fwd_addr_kind kind);
/* Removes the entry if there; 1 removed, 0 absent. */
int fwd_locals_del(struct fwd_locals *l, int family, const uint8_t *a, int ifindex,
		   enum fwd_addr_kind kind);
/* 1 when any interface holds a (of either kind). */
int fwd_locals_has(const struct fwd_locals *l, int family, const uint8_t *a);

/* At ingress: 1 when a destination is the host's to take: a local address,
 * a broadcast (limited or one of a local subnet's), multicast, loopback or
 * unspecified. */
int fwd_dst_is_host(const struct fwd_locals *l, int family, const uint8_t *a);
/* At egress: 1 when a source says the host sent it: a local address,
 * unspecified (DHCP) or loopback. */
int fwd_src_is_host(const struct fwd_locals *l, int family, const uint8_t *a);

/* ---- the classification and its cache ---- */

struct fib;

/* A bounded, 4-way set-associative cache of classifications, keyed by
 * family, the cells (fib.h) of destination and source, the interface and
 * the direction: every address of a cell is classified alike, so a router's
 * thousands of destinations behind one route share one entry. A full set
 * evicts its least recently used entry; a flush is O(1), and happens by
 * itself when the routing's generation moves. */
struct fwd_cache;

/* entries is rounded up to a power of two, at least 4. NULL when out of memory. */
struct fwd_cache *fwd_cache_new(size_t entries);
void fwd_cache_free(struct fwd_cache *c);
/* Entries held now, and lookups that found (hits) or computed (misses) one. */
size_t fwd_cache_count(const struct fwd_cache *c);
void fwd_cache_stats(const struct fwd_cache *c, uint64_t *hits, uint64_t *misses);

/* The classification, for one sampled frame seen on kernel ifindex kindex
 * (link type arphrd), outgoing when the packet socket said PACKET_OUTGOING,
 * from the host's addresses l and the routing fib as it is now (its
 * answers: fib.h; no system call).
 * Ingress: host traffic when the destination is the host's (see
 * fwd_dst_is_host) or the kernel's route for (dst, src, iif kindex) is no
 * forwarding unicast route (local, broadcast, blackhole, unreachable, a
 * martian or a refused reverse path...); else forwarded, out = that route's
 * interface. Egress: host traffic when the source is the host's; else
 * forwarded, in = the route back to the source, and the route for (dst,
 * src, iif in) gives next hop and dst_len. What the routing cannot tell
 * (an ECMP route's path, a family past its bound) is left unknown (0).
 * Returns 0 with *out filled (forwarded 0 for host traffic), or -1 when the
 * frame is not IPv4/IPv6 or too short. c may be NULL (no cache). */
int fwd_classify(const struct fwd_locals *l, struct fwd_cache *c, struct fib *fib, int64_t now,
		 int kindex, unsigned arphrd, int outgoing,
		 const uint8_t *frame, uint32_t caplen, struct fwd_info *out);

#endif
