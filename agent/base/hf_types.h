/* Plain types and limits shared by the pure rooms (config, the sFlow encoder
 * and agent core) and the kernel rooms (netlink, capture). Nothing here does
 * anything: it exists so that a pure room need not include a parser's or the
 * kernel room's header to name an address or a counter. */
#ifndef HF_TYPES_H
#define HF_TYPES_H

#include <stdint.h>

/* The most header bytes a flow sample carries: the config's header_bytes
 * limit, the capture's snap length and the encoder's record bound are one. */
#define HF_MAX_HEADER 256

/* The largest sFlow datagram we send (hsflowd's default); smaller when the
 * path to a collector says so. */
#define HF_MAX_DATAGRAM 1400

/* IF-MIB ifAlias is SIZE(0..64): the config's `alias` and the table's. */
#define HF_ALIAS_MAX 64

/* An IP address without port, IPv4 or IPv6. */
struct hf_addr {
	int family;          /* AF_INET or AF_INET6; 0 = unset */
	uint8_t a[16];       /* 4 or 16 bytes used, network order */
};

/* A link's duplex, as ethtool reports it; the values are sFlow's ifDirection
 * (RFC 2668's MAU MIB: 1 full, 2 half, 0 unknown). */
enum if_duplex { IF_DUPLEX_UNKNOWN = 0, IF_DUPLEX_FULL = 1, IF_DUPLEX_HALF = 2 };

/* 64-bit interface counters as IF-MIB and sFlow want them, derived from
 * IFLA_STATS64 by one function (netlink.c) for every user. */
struct if_counters {
	uint64_t in_octets, in_ucast, in_mcast, in_bcast, in_discards, in_errors, in_unknown;
	uint64_t out_octets, out_ucast, out_mcast, out_bcast, out_discards, out_errors;
};

#endif
