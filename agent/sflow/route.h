/* The route room's shell: the kernel's routing, asked over rtnetlink, for
 * sampled packets. Owned and used by the sampler thread only (one
 * route_watch, never shared); it never blocks for longer than one lookup's
 * receive timeout (ROUTE_LOOKUP_TIMEOUT_MS), which counts as "unknown".
 *
 * How the sampler uses it, per sampled frame (see docs/ARCHITECTURE.md):
 *   route_classify(rw, kindex, arphrd, outgoing, data, caplen, &fi);
 *   not forwarded (or -1): a host packet, in/out as today (0x3FFFFFFF on the
 *     host's side);
 *   forwarded at ingress: input = served(fi.in_kindex), output =
 *     served(fi.out_kindex) (0 when unknown), plus an extended_router record
 *     (fi.nexthop, fi.src_len, fi.dst_len);
 *   forwarded at egress: skip the frame when fi.in_kindex is a sampled
 *     interface (the packet was a candidate there, at ingress); else input =
 *     served(fi.in_kindex), output = served(fi.out_kindex) and the record.
 * and poll route_event_fd() for POLLIN, then call route_process_events(). */
#ifndef HF_ROUTE_H
#define HF_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "sflow/core/fwd.h"

#define ROUTE_LOOKUP_TIMEOUT_MS 50
#define ROUTE_CACHE_ENTRIES     4096

struct route_watch;

struct route_stats {
	uint64_t lookups;         /* questions sent to the kernel */
	uint64_t timeouts;        /* of which unanswered in time */
	uint64_t flushes;         /* cache flushes by events */
	uint64_t resyncs;         /* address re-dumps after lost events */
};

/* Opens the lookup socket and the event socket (route, rule, address and
 * link groups of IPv4 and IPv6) in the caller's network namespace and dumps
 * the host's addresses. NULL with a message in err. */
struct route_watch *route_open(char *err, size_t errlen);
void route_close(struct route_watch *rw);
/* The event socket, to poll for POLLIN. */
int route_event_fd(const struct route_watch *rw);
/* Reads every pending event without blocking: address events update the
 * host's addresses, and every route, rule, address and link event flushes
 * the lookup cache. Lost events (ENOBUFS) re-dump the addresses. */
void route_process_events(struct route_watch *rw);
/* fwd_classify() with the kernel's answers (cached) and the host's
 * addresses: kindex is where the frame was seen, arphrd its link type,
 * outgoing PACKET_OUTGOING. 0 with *out filled (forwarded 0 for host
 * traffic), or -1 when the frame is not IPv4/IPv6 or too short. */
int route_classify(struct route_watch *rw, int kindex, unsigned arphrd, int outgoing,
		   const uint8_t *frame, uint32_t caplen, struct fwd_info *out);
/* One uncached question (RTM_GETROUTE with RTM_F_FIB_MATCH): for tests. */
enum fwd_lookup route_lookup(struct route_watch *rw, const struct fwd_key *k,
			     struct fwd_route *r);
void route_get_stats(const struct route_watch *rw, struct route_stats *st);

#endif
