/* Classic BPF (struct sock_filter: what pcap_compile emits and a packet
 * socket runs in the kernel) run in user space on one sampled packet, with
 * the kernel's rules: a load past the bytes at hand, a division by zero, a
 * jump out of the program or an instruction it does not know ends the run
 * with 0 (no match). The tc eBPF capture runs the `filter` of a `sample`
 * line and the exclusion of the daemon's own datagrams this way, on the
 * packets the kernel drew 1 in N, as the packet socket's program does after
 * its draw (bpfprog.h). Pure. */
#ifndef HF_CBPF_H
#define HF_CBPF_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

/* What the kernel's ancillary loads (SKF_AD_OFF + SKF_AD_*) read from the
 * skb, as the capture recorded it. pcap emits PKTTYPE (`inbound`,
 * `outbound`) and IFINDEX (`ifindex N`); the VLAN ones follow the kernel. */
struct cbpf_aux {
	uint32_t pkttype;       /* PACKET_HOST, ..., PACKET_OUTGOING */
	uint32_t ifindex;
	uint16_t protocol;      /* skb->protocol in host order (SKF_AD_PROTOCOL) */
	uint16_t hatype;        /* ARPHRD_* of the interface */
	int vlan_present;       /* a tag held apart from the frame */
	uint16_t vlan_tci;
	uint16_t vlan_tpid;     /* host order */
};

/* Runs prog[0..len) on pkt[0..caplen) of a packet of wirelen bytes;
 * returns its verdict (bytes to keep; 0 = no match). Loads past caplen end
 * the run with 0: a filter sees what was captured (the kernel's sees the
 * whole packet). */
uint32_t cbpf_run(const struct sock_filter *prog, size_t len, const uint8_t *pkt,
		  uint32_t caplen, uint32_t wirelen, const struct cbpf_aux *aux);

#endif
