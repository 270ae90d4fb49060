/* THE interface table: rows keyed by served ifIndex, published as immutable,
 * reference-counted snapshots.
 *
 * Threads: only the agent thread calls iftable_update(); any thread may call
 * iftable_acquire()/iftable_release() and read the snapshot it got. A snapshot
 * never changes after it is published, so readers need no lock while reading;
 * the only lock guards the pointer swap and the reference count (held for a
 * few instructions), so neither side ever waits on the other's work. */
#ifndef HF_IFTABLE_H
#define HF_IFTABLE_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "config/ifmap.h"
#include "table/netlink.h"

/* Counters older than this are refreshed when an SNMP request asks for one. */
#define IFTABLE_COUNTER_MAX_AGE_MS 500

struct if_row {
	uint32_t ifindex;         /* served: kernel or map, see ifmap.h */
	int kindex;               /* kernel ifindex */
	char name[IFNAMSIZ];      /* ifName and ifDescr */
	char alias[CFG_ALIAS_MAX + 1]; /* config `interface ... alias` or IFLA_IFALIAS */
	unsigned arphrd;
	uint32_t iftype;          /* IANAifType */
	uint32_t mtu;
	uint8_t phys[32];
	uint8_t physlen;
	uint8_t admin;            /* ifAdminStatus: 1 up, 2 down */
	uint8_t oper;             /* ifOperStatus 1..7 */
	uint8_t promisc;          /* 1 true, 2 false (TruthValue) */
	uint64_t speed_bps;       /* config `interface ... speed`, else ethtool, else 0 */
	int64_t last_change_ms;   /* monotonic ms of the last oper change; 0 = before start */
	int64_t discontinuity_ms; /* monotonic ms the row appeared; 0 = before start */
	struct if_counters ctr;
};

struct if_snapshot {
	uint64_t generation;       /* +1 per publish */
	int64_t built_ms;          /* when the rows' counters were read from the kernel */
	int64_t table_change_ms;   /* ifTableLastChange: last row added/removed; 0 = none since start */
	size_t n;
	struct if_row rows[];      /* sorted by ifindex, unique */
};

struct iftable;

struct iftable *iftable_new(void);
void iftable_free(struct iftable *t);

/* Agent thread only: builds a snapshot from a netlink dump, the config's
 * `interface` overrides and the map (either may be NULL), keeping ifIndex
 * assignments, last-change and discontinuity times of rows that persist, and
 * publishes it. Logs a warning for each newly relocated interface.
 * Returns 0, or -1 on allocation failure (the old snapshot stays). */
int iftable_update(struct iftable *t, const struct nl_link *links, size_t n,
		   const struct config *cfg, const struct hf_ifmap *map, int64_t now_ms);
/* The same for links whose counters are older than the rest (a table
 * rebuilt from link events between dumps): built_ms = counters_ms, so a
 * counter request still finds them stale and dumps. */
int iftable_update_at(struct iftable *t, const struct nl_link *links, size_t n,
		      const struct config *cfg, const struct hf_ifmap *map,
		      int64_t now_ms, int64_t counters_ms);

/* Any thread: the current snapshot with a reference held, or NULL before the
 * first update. Release every acquired snapshot exactly once. */
struct if_snapshot *iftable_acquire(struct iftable *t);
void iftable_release(struct iftable *t, struct if_snapshot *s);

/* Lookups in a snapshot (binary search on ifindex, linear on kindex/name). */
const struct if_row *snap_find(const struct if_snapshot *s, uint32_t ifindex);
/* First row with ifindex > after (after = 0: the first row); NULL at the end. */
const struct if_row *snap_next(const struct if_snapshot *s, uint32_t after);
const struct if_row *snap_find_kindex(const struct if_snapshot *s, int kindex);
const struct if_row *snap_find_name(const struct if_snapshot *s, const char *name);

#endif
