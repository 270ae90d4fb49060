#include "sflow/core/tcsample.h"
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

enum tcsample_verdict tcsample_frame(const void *rec, size_t reclen,
				     const struct tcsample_rule *r, uint32_t snaplen,
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
	if (h.caplen < 1 || h.caplen > HF_EBPF_SNAP || h.caplen > h.len ||
	    h.len > UINT32_MAX - VLAN_TAG)
		return TCSAMPLE_BAD;
	aux = (struct cbpf_aux){
		.pkttype = h.flags & HF_EBPF_EGRESS ? PACKET_OUTGOING : h.pkt_type,
		.ifindex = h.kindex,
		.protocol = ntohs(h.protocol),
		.hatype = (uint16_t)r->arphrd,
		.vlan_present = !!(h.flags & HF_EBPF_VLAN),
		.vlan_tci = h.vlan_tci,
		.vlan_tpid = ntohs(h.vlan_proto),
	};
	/* The frame as the kernel held it, as a packet socket's filter sees it. */
	if (r->filter && !cbpf_run(r->filter, r->filter_len, s->data, h.caplen, h.len, &aux))
		return TCSAMPLE_FILTERED;
	if (r->exclude && cbpf_run(r->exclude, r->exclude_len, s->data, h.caplen, h.len, &aux))
		return TCSAMPLE_FILTERED;
	out->kindex = (int)h.kindex;
	out->len = h.len;
	out->outgoing = !!(h.flags & HF_EBPF_EGRESS);
	out->data = s->data;
	caplen = h.caplen;
	if ((h.flags & HF_EBPF_VLAN) && r->arphrd == ARPHRD_ETHER && caplen >= MAC_PAIR) {
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
