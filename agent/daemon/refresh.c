/* The table-refresh policy (refresh.h): dumps, paced link events, the
 * safety re-read, counters an SNMP request needs. */
#include "daemon/refresh.h"

#include <malloc.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base/log.h"
#include "base/util.h"

/* Link events keep the table current; a full dump every 30 s is the net
 * under an event lost without the kernel saying so (ENOBUFS says so, and
 * dumps at once). */
#define REFRESH_SAFETY_DUMP_MS 30000
/* Link events are applied at once and published at most once per window:
 * an isolated change is served at once, a burst of thousands costs one
 * table build per window, and every change is served within it. */
#define REFRESH_EVENT_PUBLISH_MS 200

struct refresh {
	struct netlink *nl;
	struct iftable *table;
	const struct config *cfg;
	const struct hf_ifmap *map;
	void (*published)(void *ctx);
	void *ctx;
	struct link_stats *ls;  /* this thread's way to the counters */
	bool counters_wanted;   /* a walk found them old: one counter dump */
	int64_t last_dump_ms;
	int64_t events_due_ms;  /* publish applied link events then; 0: none pending */
	int64_t published_ms;   /* last table build (dump or events) */
};

struct refresh *refresh_new(struct netlink *nl, struct iftable *t,
			    void (*published)(void *ctx), void *ctx)
{
	struct refresh *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->ls = link_stats_open();
	if (!r->ls) {
		free(r);
		return NULL;
	}
	r->nl = nl;
	r->table = t;
	r->published = published;
	r->ctx = ctx;
	return r;
}

void refresh_free(struct refresh *r)
{
	if (!r)
		return;
	link_stats_close(r->ls);
	free(r);
}

void refresh_set_config(struct refresh *r, const struct config *cfg,
			const struct hf_ifmap *map)
{
	r->cfg = cfg;
	r->map = map;
}

static void announce(struct refresh *r)
{
	if (r->published)
		r->published(r->ctx);
}

/* What follows every dump: hand the pages of the dump back, and announce the
 * new table. A dump of a thousand links allocates and frees a few MB
 * (libnl's objects, the old snapshot): without malloc_trim the daemon's RSS
 * stays at its high-water mark between polls. */
static void after_dump(struct refresh *r, int published)
{
	malloc_trim(0);
	if (published)
		announce(r);
}

int refresh_dump(struct refresh *r)
{
	struct kernel_link *links = NULL;
	size_t n = 0;
	int64_t now = monotonic_ms();
	int rc;

	if (netlink_dump(r->nl, &links, &n) < 0) {
		log_warn("table", "netlink dump failed; serving the previous table");
		return -1;
	}
	rc = iftable_update(r->table, links, n, r->cfg, r->map, now);
	free(links);
	r->last_dump_ms = now;
	r->events_due_ms = 0;   /* the dump holds every event applied so far */
	r->published_ms = now;
	after_dump(r, rc == 0);
	return rc;
}

/* Publishes the link list as events left it, without a dump. */
static void publish_events(struct refresh *r)
{
	struct kernel_link *links = NULL;
	size_t n = 0;
	int rc;

	r->events_due_ms = 0;
	r->published_ms = monotonic_ms();
	if (netlink_links(r->nl, &links, &n) < 0) {
		refresh_dump(r);
		return;
	}
	rc = iftable_update(r->table, links, n, r->cfg, r->map, monotonic_ms());
	free(links);
	/* No malloc_trim here: an event build allocates one snapshot, not a
	 * dump's worth of libnl objects. */
	if (rc == 0)
		announce(r);
}

void refresh_on_events(struct refresh *r)
{
	enum netlink_events ev = netlink_drain_events(r->nl);

	if (ev == NETLINK_LOST) {
		log_debug("netlink", "netlink events lost; dumping");
		refresh_dump(r);
	} else if (ev == NETLINK_CHANGED && !r->events_due_ms) {
		int64_t now = monotonic_ms(), next = r->published_ms + REFRESH_EVENT_PUBLISH_MS;

		r->events_due_ms = next > now ? next : now;
		if (r->events_due_ms == now)
			publish_events(r);
	}
}

int64_t refresh_next_ms(const struct refresh *r)
{
	int64_t at = r->last_dump_ms + REFRESH_SAFETY_DUMP_MS;

	if (r->events_due_ms && r->events_due_ms < at)
		at = r->events_due_ms;
	if (r->counters_wanted)
		at = 0;   /* at once: before the walk's next request */
	return at;
}

void refresh_run(struct refresh *r, int64_t now)
{
	if (r->counters_wanted) {
		r->counters_wanted = false;
		iftable_counters_refresh(r->table, r->ls);
	}
	if (now - r->last_dump_ms >= REFRESH_SAFETY_DUMP_MS)
		refresh_dump(r);
	else if (r->events_due_ms && now >= r->events_due_ms)
		publish_events(r);
}

/* Counters are not in the rows (table/counters.h): a request that finds a
 * row's counters too old reads that one link (a few microseconds), so a
 * collector's GET of one interface costs one link, never the table. A walk
 * (GETNEXT) will want every row's in turn: after this request, between it
 * and the next, refresh_run reads them all in one dump of counters only,
 * about a microsecond a link, and the walk goes on from the store for the
 * next IFTABLE_COUNTER_MAX_AGE_MS. Neither rebuilds a row, bumps the
 * generation, wakes the sampler or trims the heap. */
int refresh_counters(struct refresh *r, int kindex, bool walking, struct if_counters *out)
{
	enum ctr_from from;
	int rc = iftable_counters(r->table, r->ls, kindex, IFTABLE_COUNTER_MAX_AGE_MS,
				  out, &from);

	if (rc == 0 && from == CTR_FROM_KERNEL && walking)
		r->counters_wanted = true;
	return rc;
}
