/* What `hostflowd -m` prints: the served ifIndex map for other flow agents
 * (pmacct's interfaces.map) or for Akvorado's static metadata provider. */
#ifndef HF_MAPPRINT_H
#define HF_MAPPRINT_H

#include <stdio.h>

#include "config/config.h"
#include "table/snapshot.h"

/* One `ifindex=N ifname=NAME direction=in` line per row, after a comment. */
void mapprint_pmacct(FILE *f, const struct if_snapshot *s);
/* {"exporters":[{"exportersubnet":"ADDR/32|128","name":HOST,"interfaces":[
 *   {"ifindex":N,"name":...,"description":...,"speed":Mb/s}, ...]}]}
 * for `transform: .exporters[]`. The subnet is the agent address the sampler
 * uses (agentaddr.h); description is what Akvorado would derive over SNMP:
 * ifAlias when set, else ifDescr. */
void mapprint_akvorado(FILE *f, const struct config *cfg, const char *hostname,
		       const struct if_snapshot *s);

#endif
