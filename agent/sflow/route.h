/* The route room's shell: the kernel's routing, mirrored over rtnetlink
 * (sflow/core/fib.h) for sampled packets. Owned and used by the sampler
 * thread only (one route_watch, never shared). Dumps at open, then events,
 * keep the mirror; classifying a frame asks the mirror and a cache of it,
 * never the kernel (no system call on the capture path).
 *
 * How the sampler uses it, per sampled frame (see docs/ARCHITECTURE.md):
 *   route_classify(rw, now, kindex, arphrd, outgoing, data, caplen, &fi);
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

#include "sflow/agentaddr.h"
#include "sflow/core/fwd.h"

#define ROUTE_DUMP_TIMEOUT_MS 1000  /* one read of a dump: the kernel fills it as we read */
#define ROUTE_CACHE_ENTRIES   4096  /* classifications: a few per route, interface and direction */

struct route_watch;

struct route_stats {
	uint64_t requests;        /* netlink requests sent: dumps only */
	uint64_t events;          /* route, rule, address, link, netconf messages read */
	uint64_t route_dumps;     /* routes dumped again: the kernel dropped some silently */
	uint64_t resyncs;         /* everything dumped again after lost events */
	uint64_t hits, misses;    /* classifications found in the cache / computed */
	size_t cached;            /* classifications held in the cache now */
	size_t routes;            /* routes mirrored, both families */
};

/* Opens the dump socket and the event socket (route, rule, address, link,
 * nexthop and netconf groups of IPv4 and IPv6) in the caller's network
 * namespace, then dumps links, addresses, netconf, rules and routes into
 * the mirror. NULL with a message in err. */
struct route_watch *route_open(char *err, size_t errlen);
void route_close(struct route_watch *rw);
/* The event socket, to poll for POLLIN. */
int route_event_fd(const struct route_watch *rw);
/* Reads every pending event without blocking and applies it to the mirror
 * in the kernel's order (and the host's addresses); where the kernel drops
 * routes without an event (a link down or away, an address gone), dumps
 * the routes again; lost events (ENOBUFS) dump everything again. Whatever
 * changed, earlier classifications are forgotten. */
void route_process_events(struct route_watch *rw);
/* fwd_classify() with the mirror, its cache and the host's addresses, at
 * monotonic time now: kindex is where the frame was seen, arphrd its link
 * type, outgoing PACKET_OUTGOING. 0 with *out filled (forwarded 0 for host
 * traffic), or -1 when the frame is not IPv4/IPv6 or too short. Makes no
 * system call. */
int route_classify(struct route_watch *rw, int64_t now, int kindex, unsigned arphrd,
		   int outgoing, const uint8_t *frame, uint32_t caplen, struct fwd_info *out);
void route_get_stats(const struct route_watch *rw, struct route_stats *st);
/* The host's addresses as the dumps and events left them, with their
 * links' names and flags, in getifaddrs(3)'s order (see agentaddr.h): a
 * new array in *out for the caller to free, and its length (0 and NULL
 * when there is none, or no memory). */
size_t route_addresses(const struct route_watch *rw, struct agentaddr_cand **out);
/* 1 once after the host's addresses or links changed (the agent address
 * may have), then 0 until they change again. */
int route_addresses_changed(struct route_watch *rw);

#endif
