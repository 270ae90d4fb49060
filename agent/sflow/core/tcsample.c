#include "sflow/core/tcsample.h"
#include "sflow/core/bpfprog.h"
#include "sflow/core/cbpf.h"

#include <arpa/inet.h>
#include <linux/if_arp.h>
#include <linux/if_packet.h>
#include <string.h>

/* An Ethernet header's two MAC addresses: where a tag goes back. */
#define MAC_PAIR 12
#define VLAN_TAG 4

int tcsample_kindex(const void *rec, size_t reclen)
{
	struct hf_ebpf_sample s;

	if (reclen < offsetof(struct hf_ebpf_sample, data))
		return 0;
	memcpy(&s, rec, offsetof(struct hf_ebpf_sample, data));
	return (int)s.kindex;
}

enum tcsample_verdict tcsample_frame(const void *rec, size_t reclen, unsigned arphrd,
				     const struct tcsample_judge *judge, uint32_t snaplen,
				     uint8_t *buf, struct tcsample_frame *out)
{
	const struct hf_ebpf_sample *s = rec;
	struct hf_ebpf_sample h;
	struct cbpf_aux aux;
	uint32_t caplen;

	/* The ring gives whole records, but nothing here trusts a length. */
	if (reclen < sizeof h)
		return TCSAMPLE_BAD;
	memcpy(&h, rec, offsetof(struct hf_ebpf_sample, data));
	if (h.caplen > HF_EBPF_SNAP || h.caplen > h.len || h.len > UINT32_MAX - VLAN_TAG)
		return TCSAMPLE_BAD;
	*out = (struct tcsample_frame){ .kindex = (int)h.kindex, .len = h.len,
					.outgoing = !!(h.flags & HF_EBPF_EGRESS) };
	/* Drawn, but the kernel could not copy its bytes: not a sample. */
	if (h.caplen < 1)
		return TCSAMPLE_REJECTED;
	aux = (struct cbpf_aux){
		.pkttype = h.flags & HF_EBPF_EGRESS ? PACKET_OUTGOING : h.pkt_type,
		.ifindex = h.kindex,
		.protocol = ntohs(h.protocol),
		.hatype = (uint16_t)arphrd,
		.vlan_present = !!(h.flags & HF_EBPF_VLAN),
		.vlan_tci = h.vlan_tci,
		.vlan_tpid = ntohs(h.vlan_proto),
	};
	/* The frame as the kernel held it, as the packet socket's program sees
	 * it; a load past the 256 bytes ends the run with 0, not a sample. */
	if (cbpf_run(judge->prog, judge->len, s->data, h.caplen, h.len, &aux) <
	    BPFPROG_MIN_SNAP)
		return TCSAMPLE_REJECTED;
	out->data = s->data;
	caplen = h.caplen;
	if ((h.flags & HF_EBPF_VLAN) && arphrd == ARPHRD_ETHER && caplen >= MAC_PAIR) {
		uint16_t tci = htons(h.vlan_tci);

		memcpy(buf, s->data, MAC_PAIR);
		memcpy(buf + MAC_PAIR, &h.vlan_proto, 2);
		memcpy(buf + MAC_PAIR + 2, &tci, 2);
		memcpy(buf + MAC_PAIR + VLAN_TAG, s->data + MAC_PAIR, caplen - MAC_PAIR);
		out->data = buf;
		caplen += VLAN_TAG;
		out->len += VLAN_TAG;
	}
	out->caplen = caplen < snaplen ? caplen : snaplen;
	return TCSAMPLE_TAKE;
}
