/* THE interface table, its writing side: the daemon builds each snapshot
 * from the kernel's links, the config and the map, and publishes it. The
 * faces read it through table/snapshot.h only. Agent thread only. */
#ifndef HF_IFTABLE_H
#define HF_IFTABLE_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "config/ifmap.h"
#include "table/netlink.h"
#include "table/snapshot.h"

/* Counters older than this are refreshed when an SNMP request asks for one. */
#define IFTABLE_COUNTER_MAX_AGE_MS 500

struct iftable *iftable_new(void);
void iftable_free(struct iftable *t);

/* Agent thread only: builds a snapshot from a netlink dump, the config's
 * `interface` overrides and the map (either may be NULL), keeping ifIndex
 * assignments, last-change and discontinuity times of rows that persist, and
 * publishes it. Logs a warning for each newly relocated interface.
 * Returns 0, or -1 on allocation failure (the old snapshot stays). */
int iftable_update(struct iftable *t, const struct kernel_link *links, size_t n,
		   const struct config *cfg, const struct hf_ifmap *map, int64_t now_ms);
/* The same for links whose counters are older than the rest (a table
 * rebuilt from link events between dumps): built_ms = counters_ms, so a
 * counter request still finds them stale and dumps. */
int iftable_update_at(struct iftable *t, const struct kernel_link *links, size_t n,
		      const struct config *cfg, const struct hf_ifmap *map,
		      int64_t now_ms, int64_t counters_ms);

#endif
