/* The SNMP face: IF-MIB ifNumber, ifTableLastChange, ifTable and ifXTable,
 * read-only, served from iftable snapshots. Agent thread only: the one room
 * that calls net-snmp's handler API. */
#ifndef HF_IFMIB_H
#define HF_IFMIB_H

#include "table/snapshot.h"

/* How the handlers get a snapshot: need_counters is 1 when the request reads
 * a counter column, so the owner may refresh counters that are too old. */
struct ifmib_source {
	struct if_snapshot *(*acquire)(void *ctx, int need_counters);
	void (*release)(void *ctx, struct if_snapshot *s);
	void *ctx;
};

/* Registers the four subtrees; call after init_agent(), before init_snmp().
 * src must outlive the registration. Returns 0 or -1. */
int ifmib_register(const struct ifmib_source *src);
void ifmib_unregister(void);

#endif
