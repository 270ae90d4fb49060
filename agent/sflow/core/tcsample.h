/* One sample of the tc eBPF capture (a ring-buffer record, laid out in
 * sflow/bpf/sample_abi.h) made into the frame a packet socket gives: the
 * record checked, the `sample` line's filter and the exclusion of the
 * daemon's own datagrams run on it (cbpf.h) as the packet socket's program
 * runs them after its draw, and an 802.1Q/802.1ad tag the kernel held apart
 * put back after the MAC addresses, counted in the length (as libpcap
 * does). Pure. */
#ifndef HF_TCSAMPLE_H
#define HF_TCSAMPLE_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

#include "sflow/bpf/sample_abi.h"

/* Bytes of the caller's buffer: a record's data and a tag put back. */
#define TCSAMPLE_BUF (HF_EBPF_SNAP + 4)

/* How the samples of one interface are taken. */
struct tcsample_rule {
	int kindex;
	unsigned arphrd;                     /* ARPHRD_* of the interface */
	const struct sock_filter *filter;    /* for its link type; NULL = every packet */
	size_t filter_len;
	const struct sock_filter *exclude;   /* never sampled when it matches; NULL = none */
	size_t exclude_len;
};

/* The frame, as struct capture_frame holds it (valid while rec and buf are). */
struct tcsample_frame {
	int kindex;
	const uint8_t *data;
	uint32_t caplen;          /* <= snaplen */
	uint32_t len;             /* the whole packet, tag included */
	int outgoing;             /* taken on the way out */
};

enum tcsample_verdict {
	TCSAMPLE_TAKE,            /* *out is the frame */
	TCSAMPLE_FILTERED,        /* the filter did not match, or the exclusion did */
	TCSAMPLE_BAD              /* not a whole record, or no bytes captured */
};

/* The kernel ifindex a record names; 0 when it is too short to say. */
int tcsample_kindex(const void *rec, size_t reclen);
/* Makes the record rec[0..reclen) into *out under rule r, keeping at most
 * snaplen (1..HF_EBPF_SNAP) bytes; buf (TCSAMPLE_BUF bytes) holds the frame
 * when a tag is put back. */
enum tcsample_verdict tcsample_frame(const void *rec, size_t reclen,
				     const struct tcsample_rule *r, uint32_t snaplen,
				     uint8_t *buf, struct tcsample_frame *out);

#endif
