/* One AF_PACKET capture of one interface for the sampler: an in-kernel random
 * 1-in-N classic BPF filter (unsampled packets never reach user space) and a
 * TPACKET_V2 receive ring holding only the first snaplen bytes of each
 * sampled packet. Owned and used by the sampler thread only. */
#ifndef HF_CAPTURE_H
#define HF_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "hf_types.h"

/* One sampled packet, valid only during the callback. */
struct capture_frame {
	const uint8_t *data;     /* the snapped bytes, from the link header on */
	uint32_t caplen;         /* bytes at data, <= snaplen */
	uint32_t len;            /* length of the whole packet as the kernel saw it */
	int outgoing;            /* sll_pkttype == PACKET_OUTGOING: sent by this host */
};

typedef void (*capture_fn)(void *ctx, const struct capture_frame *f);

struct capture;

/* Opens, filters and binds a capture of kernel ifindex kindex, sampling
 * 1 in rate packets (rate >= 1) and keeping snaplen bytes of each
 * (1..HF_MAX_HEADER). Returns NULL with a message in err. */
struct capture *capture_open(int kindex, uint32_t rate, uint32_t snaplen,
			     char *err, size_t errlen);
void capture_close(struct capture *c);
/* Replaces the filter (a new rate or snaplen) without losing the ring.
 * Returns 0, or -1 with errno set (the old filter stays). */
int capture_set_filter(struct capture *c, uint32_t rate, uint32_t snaplen);
/* The fd to poll for POLLIN (frames ready) and POLLERR (link went down). */
int capture_fd(const struct capture *c);
/* Hands at most max ready frames to fn, in ring order; returns how many. */
unsigned capture_drain(struct capture *c, unsigned max, capture_fn fn, void *ctx);
/* Clears a pending socket error (ENETDOWN after the link went down) so that
 * poll() stops reporting POLLERR; returns the error, 0 when none. */
int capture_clear_error(struct capture *c);
/* Packets the ring had no room for since the last call. */
uint32_t capture_take_drops(struct capture *c);

#endif
