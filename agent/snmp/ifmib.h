/* The SNMP face: IF-MIB ifNumber, ifTableLastChange, ifTable and ifXTable,
 * read-only, served from iftable snapshots. Agent thread only: the one room
 * that calls net-snmp's handler API. */
#ifndef HF_IFMIB_H
#define HF_IFMIB_H

#include <stdbool.h>

#include "table/snapshot.h"

/* How the handlers get the table: a snapshot of the rows, and the counters
 * of one row apart from it (read only for a counter column). */
struct ifmib_source {
	struct if_snapshot *(*acquire)(void *ctx);
	void (*release)(void *ctx, struct if_snapshot *s);
	/* Row r's counters, read at most IFTABLE_COUNTER_MAX_AGE_MS ago.
	 * walking: a GETNEXT, so the next rows' counters will be asked for
	 * too. 0, or -1 when none are known (the link went). */
	int (*counters)(void *ctx, const struct if_row *r, bool walking,
			struct if_counters *out);
	void *ctx;
};

/* Registers the four subtrees; call after init_agent(), before init_snmp().
 * src must outlive the registration. Returns 0 or -1. */
int ifmib_register(const struct ifmib_source *src);
void ifmib_unregister(void);

#endif
