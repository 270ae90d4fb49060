/* What the tc eBPF capture's kernel program (sample.bpf.c) and its user
 * side (capture_ebpf.c, sflow/core/tcsample.c) share: the rate map's value
 * and the record each sample is in the ring buffer. Fixed-size types only:
 * both sides are built from this one header (clang -target bpf, cc). */
#ifndef HF_SAMPLE_ABI_H
#define HF_SAMPLE_ABI_H

#include <linux/types.h>

/* Bytes copied per sample: every byte sFlow may carry (HF_MAX_HEADER),
 * which is also what a `filter` sees in user space (header_bytes only
 * trims what is sent). */
#define HF_EBPF_SNAP 256
/* Sampled interfaces the rate map holds: entries are allocated as they
 * are added (BPF_F_NO_PREALLOC), so the bound costs nothing until used. */
#define HF_EBPF_MAX_PORTS 65536
/* The one ring buffer all interfaces share: ~7400 samples, sized as the
 * packet sockets' shared ring for the time a busy host keeps the sampler
 * thread off a CPU (capture.c RING_ALL_FRAMES). A power of 2 of pages. */
#define HF_EBPF_RING_BYTES (2u << 20)

/* The rate map's value, keyed by kernel ifindex (__u32). */
struct hf_ebpf_port {
	__u32 rate;        /* 1 in rate, >= 1 */
	__u32 reserved;    /* 0 */
};

/* hf_ebpf_sample.flags */
#define HF_EBPF_EGRESS     0x1u   /* taken on the way out (tcx egress) */
#define HF_EBPF_VLAN       0x2u   /* the kernel held a tag apart: vlan_* valid */

/* One sample in the ring buffer. */
struct hf_ebpf_sample {
	__u32 kindex;      /* the interface the program ran on */
	__u32 len;         /* the whole packet as the kernel holds it (skb->len),
			      link header included, without a held-apart tag */
	__u32 caplen;      /* bytes of data valid: min(len, HF_EBPF_SNAP) */
	__u32 flags;       /* HF_EBPF_* */
	__u16 vlan_tci;    /* host order, as __sk_buff gives it */
	__u16 vlan_proto;  /* network order (ETH_P_8021Q / ETH_P_8021AD) */
	__u16 protocol;    /* skb->protocol, network order */
	__u8 pkt_type;     /* skb->pkt_type at ingress (PACKET_HOST ...) */
	__u8 reserved;
	__u8 data[HF_EBPF_SNAP];   /* from the link header on (none on tun) */
};

#endif
