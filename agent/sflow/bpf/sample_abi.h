/* What the tc eBPF capture's kernel program (sample.bpf.c) and its user
 * side (capture_ebpf.c, sflow/core/tcsample.c) share: the draw threshold
 * of each sampled interface and the record each sample is in the ring
 * buffer. Fixed-size types only: both sides are built from this one header
 * (clang -target bpf, cc). */
#ifndef HF_SAMPLE_ABI_H
#define HF_SAMPLE_ABI_H

#include <linux/types.h>

/* Bytes copied per sample: every byte sFlow may carry (HF_MAX_HEADER),
 * which is also what a `filter` sees in user space (header_bytes only
 * trims what is sent). */
#define HF_EBPF_SNAP 256
/* Where the program finds a sampled interface's draw threshold: by ifindex
 * in an array below HF_EBPF_DIRECT (the kernel inlines the lookup: a few ns
 * a packet; a hash lookup cost 1.5-2.5 points of a router's forwarding rate,
 * docs/PERFORMANCE.md part E), in a hash map above (rare: an ifindex grows
 * with every interface a namespace ever had). 65536 u32: 256 KiB, whatever
 * the number of interfaces. */
#define HF_EBPF_DIRECT 65536
/* Sampled interfaces the hash map holds; its entries are allocated as they
 * are added (BPF_F_NO_PREALLOC), so the bound costs nothing until used. */
#define HF_EBPF_MAX_FAR 65536
/* One 2 MiB ring buffer for all interfaces: ~7400 samples, sized as the
 * packet sockets' shared ring for the time a busy host keeps the sampler
 * thread off a CPU (capture.c RING_ALL_FRAMES). A power of 2 of pages. */
#define HF_EBPF_RING_BYTES (2u << 20)

/* A packet is drawn when bpf_get_prandom_u32() is below its interface's
 * threshold, floor(2^32 / N): probability 1/N within N / 2^32, without a
 * division per packet. HF_EBPF_ALL draws every packet (rate 1); 0: the
 * interface is not sampled. */
#define HF_EBPF_ALL 0xffffffffu

static inline __u32 hf_ebpf_threshold(__u32 rate)
{
	return rate <= 1 ? HF_EBPF_ALL : (__u32)((1ull << 32) / rate);
}

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
