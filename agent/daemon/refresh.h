/* The table-refresh policy: when the interface table is rebuilt from the
 * kernel and published, and when its counters are read. Every snapshot is
 * built here, on the agent thread: at start, on link events (paced), every
 * REFRESH_SAFETY_DUMP_MS, after a reload. Each publication is announced
 * through one callback, the daemon's single "a new table was published"
 * point. Counters are read apart from the rows, for the SNMP requests that
 * ask for them, and never publish anything. Agent thread only. */
#ifndef HF_REFRESH_H
#define HF_REFRESH_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "config/ifmap.h"
#include "table/iftable.h"
#include "table/netlink.h"

struct refresh;

/* Borrows nl and t (they outlive it). published(ctx) runs after each new
 * snapshot is published; NULL when nobody listens (-m). NULL when out of
 * memory or no netlink socket opens. */
struct refresh *refresh_new(struct netlink *nl, struct iftable *t,
			    void (*published)(void *ctx), void *ctx);
void refresh_free(struct refresh *r);
/* The config and map the next builds use (borrowed: set again before they
 * are freed). */
void refresh_set_config(struct refresh *r, const struct config *cfg,
			const struct hf_ifmap *map);
/* A full dump into a new snapshot now. 0, or -1 when the kernel did not
 * answer or memory ran out (the previous snapshot is served). */
int refresh_dump(struct refresh *r);
/* The event socket (netlink_event_fd) is readable: applies the events and
 * publishes them now or at the end of the pacing window. */
void refresh_on_events(struct refresh *r);
/* Monotonic ms at which refresh_run() has work: the safety dump, events
 * waiting for their window, or (at once) a walk's counter dump. */
int64_t refresh_next_ms(const struct refresh *r);
/* Does what is due at now (one loop turn). */
void refresh_run(struct refresh *r, int64_t now);
/* The counters SNMP serves for kernel link kindex: read at most
 * IFTABLE_COUNTER_MAX_AGE_MS ago. walking: the request is a GETNEXT, the
 * next rows will be asked for too. 0, or -1 when none are known. */
int refresh_counters(struct refresh *r, int kindex, bool walking, struct if_counters *out);

#endif
