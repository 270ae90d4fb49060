/* Where datagrams go: one non-blocking connected UDP socket per collector,
 * IPv4 or IPv6. Sending never blocks; errors are counted and logged once per
 * collector until it works again. Used by the sampler thread only. */
#ifndef HF_COLLECTOR_H
#define HF_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "sflow/core/bpfprog.h"

#define COLLECTOR_MAX_DATAGRAM HF_MAX_DATAGRAM

struct collectors;

/* Opens a socket per resolved collector, each bound to a port of its own at
 * once (the sampler excludes its datagrams by that port, known before the
 * first send). Returns NULL with a message in err ("collector ADDR: socket:
 * Too many open files") when a socket cannot be had: the configuration
 * needs every one. A collector whose connect() fails (no route yet) is
 * opened all the same, and connected on a later send. */
struct collectors *collectors_open(const struct cfg_collector *c, size_t n,
				   char *err, size_t errlen);
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
/* The flows of our own datagrams (so the sampler never samples them): one
 * per collector, at most max; returns how many. */
size_t collectors_self(const struct collectors *cs, struct bpfprog_self *out, size_t max);
/* The same for collectors not opened yet (-t): their local ports are not
 * known, and do not change the program's size, so they are 0. */
size_t collectors_planned_self(const struct cfg_collector *c, size_t n,
			       struct bpfprog_self *out, size_t max);
/* "198.18.0.2:6343 sent 120 err 0, [fd7a:115c:a1e0::1]:6343 sent 3 err 1 lost 1"
 * (lost only when some were), or "no collector", for the status text.
 * Returns the length written, bounded by len. */
size_t collectors_describe(const struct collectors *cs, char *buf, size_t len);
/* Datagrams that were not sent (a gap in the datagram sequence). */
uint64_t collectors_lost(const struct collectors *cs);

#endif
