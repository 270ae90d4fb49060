/* THE interface table, its reading side: the one interface both faces use.
 * Rows keyed by served ifIndex, published by the daemon (table/iftable.h) as
 * immutable, reference-counted snapshots; each link's counters apart from
 * them, in a store of their own (iftable_counters).
 *
 * Threads: any thread may call iftable_acquire()/iftable_release() and read
 * the snapshot it got. A snapshot never changes after it is published, so
 * readers need no lock while reading; the only lock guards the pointer swap
 * and the reference count (held for a few instructions), so neither side
 * ever waits on the other's work. Counters change without a new snapshot:
 * the rows' structure, and with it the generation, stays. */
#ifndef HF_SNAPSHOT_H
#define HF_SNAPSHOT_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hf_types.h"

struct if_row {
	uint32_t ifindex;         /* served: kernel or map, see ifmap.h */
	int kindex;               /* kernel ifindex */
	char name[IFNAMSIZ];      /* ifName and ifDescr */
	char alias[HF_ALIAS_MAX + 1]; /* config `interface ... alias` or IFLA_IFALIAS */
	unsigned arphrd;
	uint32_t iftype;          /* IANAifType */
	uint32_t mtu;
	uint8_t phys[32];
	uint8_t physlen;
	uint8_t admin;            /* ifAdminStatus: 1 up, 2 down */
	uint8_t oper;             /* ifOperStatus 1..7 */
	uint8_t promisc;          /* 1 true, 2 false (TruthValue) */
	uint8_t link_traps;       /* ifLinkUpDownTrapEnable: 1 (config link_notifications), else 2 */
	uint64_t speed_bps;       /* config `interface ... speed`, else ethtool, else 0 */
	enum if_duplex duplex;    /* ethtool (sFlow's ifDirection) */
	int64_t last_change_ms;   /* monotonic ms of the last oper change; 0 = before start */
	int64_t discontinuity_ms; /* monotonic ms the row appeared; 0 = before start */
};

struct if_snapshot {
	uint64_t generation;       /* +1 per publish: the structure changed */
	int64_t table_change_ms;   /* ifTableLastChange: last row added/removed; 0 = none since start */
	size_t n;
	struct if_row rows[];      /* sorted by ifindex, unique */
};

struct iftable;

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

/* ---- Counters, apart from the rows ----------------------------------
 * One store per table holds each link's counters (by kernel ifindex) with
 * the moment they were read; every reader gets them from it, and a reader
 * that finds them too old reads that one link from the kernel and leaves
 * its reading there for the others. Counters served never go back, across
 * threads and faces (table/counters.h says how). */

/* One thread's way to the kernel's counters (a netlink socket): each
 * thread that reads opens its own. NULL when no socket opens. */
struct link_stats;
struct link_stats *link_stats_open(void);
void link_stats_close(struct link_stats *s);

enum ctr_from { CTR_FROM_STORE, CTR_FROM_KERNEL };

/* Any thread: the counters of kernel ifindex kindex, read at most
 * max_age_ms ago (0: now); *from (may be NULL) says whether the kernel was
 * asked. 0, or -1 when the kernel does not know the link and the store
 * never saw it (a link the kernel lost keeps its last counters). */
int iftable_counters(struct iftable *t, struct link_stats *ls, int kindex,
		     int64_t max_age_ms, struct if_counters *out, enum ctr_from *from);

#endif
