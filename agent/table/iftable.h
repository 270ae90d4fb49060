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

/* SNMP serves no counter read longer ago than this (hostflowd(8)): a
 * poller's rate over its usual 10 s or more is off by at most 5%, and a walk
 * of a thousand rows costs one counter dump per half second. */
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
/* Every link's counters in one dump of counters only (RTM_GETSTATS), into
 * the counter store: no row is rebuilt, the snapshot and its generation
 * stay, nobody is woken. ls is the calling thread's. 0 or -1. */
int iftable_counters_refresh(struct iftable *t, struct link_stats *ls);

#endif
