/* The tc eBPF capture's kernel side: one program for tcx ingress and one
 * for tcx egress, attached to every sampled interface. For each packet:
 * the interface's draw threshold from hf_direct or hf_far (0 or none: not
 * ours, next program), the unbiased 1-in-N draw first (before any look at
 * the packet), and for
 * the drawn packet its first HF_EBPF_SNAP bytes and metadata into the one
 * ring buffer hf_ring. Filters run in user space on the drawn packets
 * (capture_ebpf.c), so the choice stays independent of the packet.
 *
 * Built with clang -target bpf against the kernel's UAPI headers and
 * libbpf's bpf_helpers.h only (no vmlinux.h: __sk_buff is stable UAPI),
 * and embedded in hostflowd (sample_embed.S). */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "sflow/bpf/sample_abi.h"

/* The repository states no license; the string only decides which kernel
 * helpers a program may call, and none used here is GPL-only. */
char hf_license[] SEC("license") = "Proprietary";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HF_EBPF_DIRECT);
	__type(key, __u32);
	__type(value, __u32);
} hf_direct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HF_EBPF_MAX_FAR);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u32);
} hf_far SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, HF_EBPF_RING_BYTES);
} hf_ring SEC(".maps");

/* Samples the ring had no room for, per CPU (summed by user space). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hf_drops SEC(".maps");

/* tcx: let the next program (or the stack) decide; never change a verdict. */
#define HF_TCX_NEXT TC_ACT_UNSPEC

static __always_inline int take(struct __sk_buff *skb, __u32 flags)
{
	__u32 key = skb->ifindex, t, len, cap;
	struct hf_ebpf_sample *s;
	__u32 *tp;

	/* Two calls, each with its own map (the barrier keeps clang from
	 * merging them into one on a chosen map, which the verifier could not
	 * inline): the array's lookup becomes a bounds check and an add. */
	if (key < HF_EBPF_DIRECT) {
		tp = bpf_map_lookup_elem(&hf_direct, &key);
	} else {
		tp = bpf_map_lookup_elem(&hf_far, &key);
		barrier_var(tp);
	}
	if (!tp)
		return HF_TCX_NEXT;
	t = *tp;
	if (!t || (t != HF_EBPF_ALL && bpf_get_prandom_u32() >= t))
		return HF_TCX_NEXT;
	s = bpf_ringbuf_reserve(&hf_ring, sizeof *s, 0);
	if (!s) {
		__u32 zero = 0;
		__u64 *d = bpf_map_lookup_elem(&hf_drops, &zero);

		if (d)
			*d += 1;
		return HF_TCX_NEXT;
	}
	len = skb->len;
	cap = len < HF_EBPF_SNAP ? len : HF_EBPF_SNAP;
	s->kindex = key;
	s->len = len;
	s->flags = flags;
	if (skb->vlan_present)
		s->flags |= HF_EBPF_VLAN;
	s->vlan_tci = (__u16)skb->vlan_tci;
	s->vlan_proto = (__u16)skb->vlan_proto;
	s->protocol = (__u16)skb->protocol;
	s->pkt_type = (__u8)skb->pkt_type;
	s->reserved = 0;
	/* The verifier needs the length proven in 1..HF_EBPF_SNAP. */
	if (cap < 1 || cap > HF_EBPF_SNAP ||
	    bpf_skb_load_bytes(skb, 0, s->data, cap) < 0)
		cap = 0;
	s->caplen = cap;
	bpf_ringbuf_submit(s, 0);
	return HF_TCX_NEXT;
}

SEC("tc")
int hf_sample_in(struct __sk_buff *skb)
{
	return take(skb, 0);
}

SEC("tc")
int hf_sample_out(struct __sk_buff *skb)
{
	return take(skb, HF_EBPF_EGRESS);
}
