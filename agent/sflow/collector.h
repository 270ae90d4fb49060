/* Where datagrams go: one non-blocking connected UDP socket per collector,
 * IPv4 or IPv6. Sending never blocks; errors are counted and logged once per
 * collector until it works again. Used by the sampler thread only. */
#ifndef HF_COLLECTOR_H
#define HF_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define COLLECTOR_MAX_DATAGRAM HF_MAX_DATAGRAM

struct collectors;

/* Opens a socket per resolved collector; a collector that cannot be opened is
 * logged and skipped (returns NULL only on allocation failure). */
struct collectors *collectors_open(const struct cfg_collector *c, size_t n);
void collectors_close(struct collectors *cs);
/* Largest sFlow payload that crosses the path to every collector without
 * fragmenting: min over collectors of (path MTU - IP - UDP header), capped at
 * COLLECTOR_MAX_DATAGRAM. Re-reads the kernel's path MTU. */
size_t collectors_max_payload(struct collectors *cs);
/* Sends one datagram to every collector, never waiting (MSG_DONTWAIT). A
 * send failed by an earlier datagram's ICMP error is tried again at once, at
 * most COLLECTOR_SEND_TRIES times in all: one for the queued error, one in
 * case another ICMP arrived in between. Each datagram ends sent or lost. */
#define COLLECTOR_SEND_TRIES 3
void collectors_send(struct collectors *cs, const void *buf, size_t len);
/* Totals, for logs and tests. */
uint64_t collectors_sent(const struct collectors *cs);
/* Send errors, including ICMP errors of earlier datagrams (a datagram whose
 * send failed that way is sent again at once, so it is not lost). */
uint64_t collectors_errors(const struct collectors *cs);
/* A pcap-filter(7) expression matching our own datagrams to the collectors
 * (so the sampler never samples them); "" when there is no collector. */
void collectors_self_filter(const struct collectors *cs, char *buf, size_t len);
/* "198.18.0.2:6343 sent 120 err 0, [fd7a:115c:a1e0::1]:6343 sent 3 err 1 lost 1"
 * (lost only when some were), or "no collector", for the status text.
 * Returns the length written, bounded by len. */
size_t collectors_describe(const struct collectors *cs, char *buf, size_t len);
/* Datagrams that were not sent (a gap in the datagram sequence). */
uint64_t collectors_lost(const struct collectors *cs);

#endif
