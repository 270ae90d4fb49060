/* sFlow v5 datagrams (sflow.org/sflow_version_5.txt) as pure functions over a
 * caller's buffer: XDR, big-endian, 4-byte aligned. No I/O, no allocation. */
#ifndef HF_SFLOW_ENCODE_H
#define HF_SFLOW_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "base/hf_types.h"

#define SFLOW_IF_INTERNAL     0x3FFFFFFFu /* in/out: the host itself */
#define SFLOW_HDR_ETHERNET    1
#define SFLOW_HDR_IPV4        11
#define SFLOW_HDR_IPV6        12
#define SFLOW_DIR_UNKNOWN     0
#define SFLOW_DIR_FULL        1
#define SFLOW_DIR_HALF        2

/* The extended_router flow record (enterprise 0, format 1002): how the host
 * routed a forwarded packet. A next hop of family 0 is sent as IPv4 0.0.0.0:
 * goflow2 (Akvorado) rejects the whole datagram on address type UNKNOWN. */
struct sflow_router {
	struct hf_addr nexthop;
	uint32_t src_mask_len;    /* prefix length of the route matching the source */
	uint32_t dst_mask_len;    /* ... and the destination; <= 32 (IPv4) or 128 */
};

/* flow_sample (format 1), or expanded (3) when source index >= 2^24 or an
 * in/out index does not fit 30 bits; one raw packet header record (format 1),
 * followed by an extended_router record (1002) when router is set. */
struct sflow_flow_sample {
	uint32_t seq;
	uint32_t source_index;    /* served ifIndex; source type is 0 (ifIndex) */
	uint32_t rate;
	uint32_t pool;
	uint32_t drops;
	uint32_t input;           /* ifIndex or SFLOW_IF_INTERNAL */
	uint32_t output;
	uint32_t header_protocol; /* SFLOW_HDR_* */
	uint32_t frame_length;
	uint32_t stripped;
	const uint8_t *header;
	uint32_t header_len;      /* bytes of header, <= HF_MAX_HEADER */
	const struct sflow_router *router; /* NULL: no extended_router record */
};

/* counters_sample (format 2, expanded 4) with one generic interface counters
 * record (format 1). 32-bit fields are the low 32 bits of the 64-bit counters. */
struct sflow_counter_sample {
	uint32_t seq;
	uint32_t source_index;
	uint32_t if_index, if_type;
	uint64_t if_speed;
	uint32_t if_direction;    /* SFLOW_DIR_* */
	uint32_t if_status;       /* bit 0 admin up, bit 1 oper up */
	uint64_t in_octets;
	uint32_t in_ucast, in_mcast, in_bcast, in_discards, in_errors, in_unknown;
	uint64_t out_octets;
	uint32_t out_ucast, out_mcast, out_bcast, out_discards, out_errors;
	uint32_t promisc;         /* 1 true, 2 false */
};

/* A datagram being filled: from its header on (sflow_dgram_begin), or its
 * samples alone (sflow_dgram_samples), whose header is written in front of
 * them when it is sent (sflow_dgram_put_header). */
struct sflow_datagram {
	uint8_t *buf;
	size_t cap;
	size_t len;
	uint32_t nsamples;
	size_t nsamples_off;      /* 0: no header in buf (samples only) */
};

/* Smallest useful cap: header with an IPv6 agent plus one full flow sample
 * (expanded, HF_MAX_HEADER bytes, an IPv6 extended_router: 40 + 76 + 256 + 36). */
#define SFLOW_MIN_DATAGRAM 512

void sflow_dgram_begin(struct sflow_datagram *d, uint8_t *buf, size_t cap,
		       const struct hf_addr *agent, uint32_t sub_agent_id,
		       uint32_t seq, uint32_t uptime_ms);
/* The samples of a datagram without its header: appends go to buf (cap
 * bytes, of which used already hold nsamples samples). */
void sflow_dgram_samples(struct sflow_datagram *d, uint8_t *buf, size_t cap, size_t used,
			 uint32_t nsamples);
/* Bytes of the header of a datagram from agent (28 IPv4, 40 IPv6). */
size_t sflow_dgram_header_len(const struct hf_addr *agent);
/* Writes that header at buf: the samples follow it. */
void sflow_dgram_put_header(uint8_t *buf, const struct hf_addr *agent, uint32_t sub_agent_id,
			    uint32_t seq, uint32_t uptime_ms, uint32_t nsamples);
/* Append a sample; 0 on success, -1 when it does not fit or is not valid
 * (a header over HF_MAX_HEADER or without bytes, a mask length longer than
 * the next hop's address): d unchanged. */
int sflow_dgram_add_flow(struct sflow_datagram *d, const struct sflow_flow_sample *s);
int sflow_dgram_add_counters(struct sflow_datagram *d, const struct sflow_counter_sample *s);
/* Append one sample already encoded (as the add functions write it: format,
 * length, body); 0, or -1 when it does not fit (d unchanged). */
int sflow_dgram_add_raw(struct sflow_datagram *d, const uint8_t *sample, size_t len);
/* Bytes the sample would take. */
size_t sflow_flow_sample_size(const struct sflow_flow_sample *s);
size_t sflow_counter_sample_size(const struct sflow_counter_sample *s);
/* Length of the finished datagram (nsamples already patched on every add). */
static inline size_t sflow_dgram_len(const struct sflow_datagram *d) { return d->len; }

#endif
