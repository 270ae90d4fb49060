/* One sample of the tc eBPF capture (a ring-buffer record, laid out in
 * sflow/bpf/sample_abi.h) judged and made into the frame a packet socket
 * gives. The judge is the very classic program the packet socket runs
 * (bpfprog.h), built for every sampled interface at rate 1 since the
 * kernel side drew already, and run here on the frame as the kernel held
 * it (cbpf.h): the `sample` line's filter, then our own datagrams and the
 * ICMP errors about them, one rule for both captures. A drawn packet that
 * is not a sample is said so (the pool counts it out, as the packet
 * socket's 1-byte marks); a sample gets the 802.1Q/802.1ad tag the kernel
 * held apart put back after the MAC addresses, counted in the length (as
 * libpcap does). Pure. */
#ifndef HF_TCSAMPLE_H
#define HF_TCSAMPLE_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

#include "sflow/bpf/sample_abi.h"

/* Bytes of the caller's buffer: a record's data and a tag put back. */
#define TCSAMPLE_BUF (HF_EBPF_SNAP + 4)

/* The program every record is judged by (bpfprog_build_max, rates 1). */
struct tcsample_judge {
	const struct sock_filter *prog;
	size_t len;
};

/* The frame, as struct capture_frame holds it (valid while rec and buf are). */
struct tcsample_frame {
	int kindex;
	const uint8_t *data;
	uint32_t caplen;          /* <= snaplen; 0 when rejected */
	uint32_t len;             /* the whole packet, tag included */
	int outgoing;             /* taken on the way out */
};

enum tcsample_verdict {
	TCSAMPLE_TAKE,            /* *out is a sample */
	TCSAMPLE_REJECTED,        /* drawn, not a sample: the filter did not match, it is
				     our own, the program faulted, or the kernel could not
				     copy its bytes; out->kindex, len, outgoing are set */
	TCSAMPLE_BAD              /* not a whole record: nothing to count */
};

/* The kernel ifindex a record names; 0 when it is too short to say. */
int tcsample_kindex(const void *rec, size_t reclen);
/* Judges the record rec[0..reclen), taken on an interface of link type
 * arphrd (ARPHRD_*), and makes a sample into *out, keeping at most snaplen
 * (1..HF_EBPF_SNAP) bytes; buf (TCSAMPLE_BUF bytes) holds the frame when a
 * tag is put back. The judge's verdict is a sample when it keeps at least
 * BPFPROG_MIN_SNAP bytes. */
enum tcsample_verdict tcsample_frame(const void *rec, size_t reclen, unsigned arphrd,
				     const struct tcsample_judge *judge, uint32_t snaplen,
				     uint8_t *buf, struct tcsample_frame *out);

#endif
