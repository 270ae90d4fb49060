/* The sFlow agent address: the exporter's identity for a collector, which
 * sends its SNMP polls there. One rule for the sampler and for `-m -F akvorado`. */
#ifndef HF_AGENTADDR_H
#define HF_AGENTADDR_H

#include "config/config.h"

enum agentaddr_source {
	AGENTADDR_LOOPBACK = 0,  /* no global address anywhere: 127.0.0.1 */
	AGENTADDR_OTHER = 1,     /* ifname had none: another interface's */
	AGENTADDR_CHOSEN = 2,    /* the configured address, or ifname's */
};

/* configured (family 0 = unset) wins; else the first global address of
 * ifname (NULL or "" = none); else the first global address of any up,
 * non-loopback interface; else 127.0.0.1. Fills *out (zeroed first, so two
 * results compare with memcmp) and says where it came from. */
enum agentaddr_source agentaddr_choose(const struct hf_addr *configured,
				       const char *ifname, struct hf_addr *out);

#endif
