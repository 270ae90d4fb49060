/* The pure part of the route room: is a sampled packet forwarded by this
 * host, and through which interfaces? Header parsing (Ethernet, 802.1Q/ad,
 * raw IP), the host's own addresses, the local/broadcast/multicast decision,
 * a bounded route cache and the classification itself, with the kernel's
 * route lookup behind a callback. No I/O: route.c is the netlink shell. */
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

/* ---- route lookups and their cache ---- */

/* One question to the kernel: the route for dst (from src, arriving on
 * iif). Built by fwd_key_make only, so padding is zero and the key can be
 * hashed and compared as bytes. */
struct fwd_key {
	uint8_t family, has_src, pad[2];
	int32_t iif;              /* 0: as if the host itself sent it */
	uint8_t dst[16], src[16];
};

void fwd_key_make(struct fwd_key *k, int family, const uint8_t *dst,
		  const uint8_t *src /* or NULL */, int iif);

enum fwd_lookup {
	FWD_FOUND = 0,            /* r is filled */
	FWD_NOROUTE = 1,          /* the kernel answered: no route (cacheable) */
	FWD_UNKNOWN = 2,          /* no answer (timeout, error): not cached */
};

/* The kernel's answer: the matching FIB entry (RTM_F_FIB_MATCH). */
struct fwd_route {
	uint8_t type;             /* RTN_UNICAST, RTN_LOCAL, ... */
	uint8_t dst_len;          /* the entry's prefix length */
	int oif;                  /* its (first) output interface; 0 none */
	struct hf_addr gateway;   /* family 0: on-link */
};

/* A bounded, 4-way set-associative cache of answers (FOUND and NOROUTE);
 * a full set evicts its least recently used entry, and a flush is O(1). */
struct fwd_cache;

/* entries is rounded up to a power of two, at least 4. NULL when out of memory. */
struct fwd_cache *fwd_cache_new(size_t entries);
void fwd_cache_free(struct fwd_cache *c);
void fwd_cache_flush(struct fwd_cache *c);
/* The cached result for k (FWD_FOUND with *r, or FWD_NOROUTE), or FWD_UNKNOWN on a miss. */
enum fwd_lookup fwd_cache_get(struct fwd_cache *c, const struct fwd_key *k, struct fwd_route *r);
void fwd_cache_put(struct fwd_cache *c, const struct fwd_key *k, enum fwd_lookup res,
		   const struct fwd_route *r);
/* Entries held now (for tests and statistics). */
size_t fwd_cache_count(const struct fwd_cache *c);

/* Asks the kernel (route.c) or a test's table. */
typedef enum fwd_lookup (*fwd_lookup_fn)(void *ctx, const struct fwd_key *k, struct fwd_route *r);

/* The classification, for one sampled frame seen on kernel ifindex kindex
 * (link type arphrd), outgoing when the packet socket said PACKET_OUTGOING.
 * Ingress: host traffic when the destination is the host's (see
 * fwd_dst_is_host) or the kernel's route for (dst, src, iif kindex) is not
 * unicast (local, broadcast, blackhole, unreachable...); else forwarded, out
 * = that route's interface. Egress: host traffic when the source is the
 * host's; else forwarded, in = the route back to the source, and the route
 * for (dst, src, iif in) gives next hop and dst_len. A lookup without an
 * answer leaves its fields unknown (0). The cache c (may be NULL) is
 * consulted first and filled with every answer.
 * Returns 0 with *out filled (forwarded 0 for host traffic), or -1 when the
 * frame is not IPv4/IPv6 or too short. */
int fwd_classify(const struct fwd_locals *l, struct fwd_cache *c, fwd_lookup_fn lookup,
		 void *ctx, int kindex, unsigned arphrd, int outgoing,
		 const uint8_t *frame, uint32_t caplen, struct fwd_info *out);

#endif
