/* The sFlow agent address: the exporter's identity for a collector, which
 * sends its SNMP polls there. One rule for the sampler (over the addresses
 * the route room keeps from events) and for `-m -F akvorado` (over
 * getifaddrs(3), once). */
#ifndef HF_AGENTADDR_H
#define HF_AGENTADDR_H

#include <net/if.h>
#include <stddef.h>

#include "config/config.h"

enum agentaddr_source {
	AGENTADDR_LOOPBACK = 0,  /* no global address anywhere: 127.0.0.1 */
	AGENTADDR_OTHER = 1,     /* ifname had none: another interface's */
	AGENTADDR_CHOSEN = 2,    /* the configured address, or ifname's */
};

/* One address of the host, with its interface's name and IFF_* flags, in
 * the order getifaddrs(3) lists them (the kernel's): IPv4 before IPv6, by
 * interface index; IPv4 primary addresses before secondaries, oldest
 * first; IPv6 addresses newest first. */
struct agentaddr_cand {
	char ifname[IFNAMSIZ];
	unsigned flags;
	struct hf_addr addr;
};

/* configured (family 0 = unset) wins; else the first global address of
 * ifname (NULL or "" = none) among the n candidates; else the first global
 * address of any up, non-loopback interface; else 127.0.0.1. Fills *out
 * (zeroed first, so two results compare with memcmp) and says where it came
 * from. Pure. */
enum agentaddr_source agentaddr_pick(const struct hf_addr *configured, const char *ifname,
				     const struct agentaddr_cand *c, size_t n, struct hf_addr *out);
/* The same over the host's addresses now, from getifaddrs(3). */
enum agentaddr_source agentaddr_choose(const struct hf_addr *configured,
				       const char *ifname, struct hf_addr *out);

#endif
