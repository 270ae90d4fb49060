/* The sFlow agent address: the exporter's identity for a collector, which
 * sends its SNMP polls there. One rule for the sampler and for `-m -F akvorado`. */
#ifndef HF_AGENTADDR_H
#define HF_AGENTADDR_H

#include "config.h"

/* configured (family 0 = unset) wins; else the first global address of
 * ifname (NULL or "" = none); else the first global address of any up,
 * non-loopback interface. Returns 1 and fills *out (zeroed first, so two
 * results compare with memcmp), or 0 with *out = 127.0.0.1 when the host
 * has no global address at all. */
int agentaddr_choose(const struct hf_addr *configured, const char *ifname,
		     struct hf_addr *out);

#endif
