/* A record of the tc eBPF capture's ring made into the frame the packet
 * socket gives (sflow/core/tcsample.c): lengths checked, the direction, the
 * filter and the exclusion on the frame as the kernel held it, the tag the
 * kernel held apart put back and counted, the snap length. */
#include <arpa/inet.h>
#include <check.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdlib.h>
#include <string.h>

#include "sflow/core/pfilter.h"
#include "sflow/core/tcsample.h"
#include "hf_check.h"

/* A record of an Ethernet + IPv4 + UDP frame to port dport. */
static void record(struct hf_ebpf_sample *s, uint32_t flags, uint16_t dport, uint32_t len)
{
	uint8_t *f = s->data;

	memset(s, 0, sizeof *s);
	s->kindex = 7;
	s->len = len;
	s->caplen = len < HF_EBPF_SNAP ? len : HF_EBPF_SNAP;
	s->flags = flags;
	s->protocol = htons(ETH_P_IP);
	s->pkt_type = PACKET_HOST;
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	f[14] = 0x45;
	f[23] = 17;
	f[36] = (uint8_t)(dport >> 8);
	f[37] = (uint8_t)dport;
}

static struct sock_filter *compile(const char *expr, size_t *len)
{
	struct sock_filter *p = NULL;
	char err[256];

	ck_assert_msg(pfilter_compile(expr, PFILTER_DLT_EN10MB, &p, len, err, sizeof err) == 0,
		      "%s", err);
	return p;
}

START_TEST(t_plain)
{
	struct hf_ebpf_sample s;
	struct tcsample_rule r = { .kindex = 7, .arphrd = ARPHRD_ETHER };
	struct tcsample_frame f;
	uint8_t buf[TCSAMPLE_BUF];

	record(&s, 0, 9, 62);
	ck_assert_int_eq(tcsample_kindex(&s, sizeof s), 7);
	ck_assert_int_eq(tcsample_frame(&s, sizeof s, &r, 128, buf, &f), TCSAMPLE_TAKE);
	ck_assert_int_eq(f.kindex, 7);
	ck_assert_ptr_eq(f.data, s.data);
	ck_assert_uint_eq(f.caplen, 62);
	ck_assert_uint_eq(f.len, 62);
	ck_assert_int_eq(f.outgoing, 0);
	/* Sent: outgoing; a long packet is cut at the snap length. */
	record(&s, HF_EBPF_EGRESS, 9, 1500);
	ck_assert_uint_eq(s.caplen, HF_EBPF_SNAP);
	ck_assert_int_eq(tcsample_frame(&s, sizeof s, &r, 128, buf, &f), TCSAMPLE_TAKE);
	ck_assert_int_eq(f.outgoing, 1);
	ck_assert_uint_eq(f.caplen, 128);
	ck_assert_uint_eq(f.len, 1500);
	ck_assert_int_eq(tcsample_frame(&s, sizeof s, &r, 1, buf, &f), TCSAMPLE_TAKE);
	ck_assert_uint_eq(f.caplen, 1);
}
END_TEST

START_TEST(t_bad)
{
	struct hf_ebpf_sample s;
	struct tcsample_rule r = { .kindex = 7, .arphrd = ARPHRD_ETHER };
	struct tcsample_frame f;
	uint8_t buf[TCSAMPLE_BUF];

	record(&s, 0, 9, 62);
	ck_assert_int_eq(tcsample_kindex(&s, 15), 0);
	ck_assert_int_eq(tcsample_frame(&s, sizeof s - 1, &r, 128, buf, &f), TCSAMPLE_BAD);
	s.caplen = 0;   /* the kernel could not copy the bytes */
	ck_assert_int_eq(tcsample_frame(&s, sizeof s, &r, 128, buf, &f), TCSAMPLE_BAD);
	s.caplen = 63;  /* more captured than the packet has */
	ck_assert_int_eq(tcsample_frame(&s, sizeof s, &r, 128, buf, &f), TCSAMPLE_BAD);
	s.len = 1000;
	s.caplen = HF_EBPF_SNAP + 1;
	ck_assert_int_eq(tcsample_frame(&s, sizeof s, &r, 128, buf, &f), TCSAMPLE_BAD);
	/* A length the tag would wrap (found by fuzz_tcsample). */
	s.caplen = 62;
	s.len = UINT32_MAX - 1;
	s.flags = HF_EBPF_VLAN;
	ck_assert_int_eq(tcsample_frame(&s, sizeof s, &r, 128, buf, &f), TCSAMPLE_BAD);
}
END_TEST

START_TEST(t_filters)
{
	struct hf_ebpf_sample s;
	struct tcsample_rule r = { .kindex = 7, .arphrd = ARPHRD_ETHER };
	struct tcsample_frame f;
	uint8_t buf[TCSAMPLE_BUF];
	size_t n9, nself, nin, nidx;
	struct sock_filter *p9 = compile("udp port 9", &n9);
	struct sock_filter *self = compile("udp dst port 6343", &nself);
	struct sock_filter *in = compile("inbound", &nin);
	struct sock_filter *idx = compile("ifindex 7", &nidx);

	record(&s, 0, 9, 62);
	r.filter = p9;
	r.filter_len = n9;
	ck_assert_int_eq(tcsample_frame(&s, sizeof s, &r, 128, buf, &f), TCSAMPLE_TAKE);
	record(&s, 0, 10, 62);
	ck_assert_int_eq(tcsample_frame(&s, sizeof s, &r, 128, buf, &f), TCSAMPLE_FILTERED);
	/* The exclusion of our own datagrams, on every interface. */
	r.filter = NULL;
	r.exclude = self;
	r.exclude_len = nself;
	record(&s, HF_EBPF_EGRESS, 6343, 62);
	ck_assert_int_eq(tcsample_frame(&s, sizeof s, &r, 128, buf, &f), TCSAMPLE_FILTERED);
	record(&s, HF_EBPF_EGRESS, 6344, 62);
	ck_assert_int_eq(tcsample_frame(&s, sizeof s, &r, 128, buf, &f), TCSAMPLE_TAKE);
	/* The direction and the interface are the kernel's ancillary data. */
	r.exclude = NULL;
	r.filter = in;
	r.filter_len = nin;
	ck_assert_int_eq(tcsample_frame(&s, sizeof s, &r, 128, buf, &f), TCSAMPLE_FILTERED);
	record(&s, 0, 6344, 62);
	ck_assert_int_eq(tcsample_frame(&s, sizeof s, &r, 128, buf, &f), TCSAMPLE_TAKE);
	r.filter = idx;
	r.filter_len = nidx;
	ck_assert_int_eq(tcsample_frame(&s, sizeof s, &r, 128, buf, &f), TCSAMPLE_TAKE);
	s.kindex = 8;
	ck_assert_int_eq(tcsample_frame(&s, sizeof s, &r, 128, buf, &f), TCSAMPLE_FILTERED);
	free(p9);
	free(self);
	free(in);
	free(idx);
}
END_TEST

/* 802.1Q and 802.1ad tags the kernel held apart go back after the MAC
 * addresses, as libpcap puts them back, and count in the length. */
START_TEST(t_vlan)
{
	struct hf_ebpf_sample s;
	struct tcsample_rule r = { .kindex = 7, .arphrd = ARPHRD_ETHER };
	struct tcsample_frame f;
	uint8_t buf[TCSAMPLE_BUF];
	size_t n;
	struct sock_filter *v5 = compile("vlan 5", &n);

	record(&s, HF_EBPF_VLAN, 9, 62);
	s.vlan_tci = 0x6005;            /* PCP 3, VID 5 */
	s.vlan_proto = htons(ETH_P_8021Q);
	ck_assert_int_eq(tcsample_frame(&s, sizeof s, &r, 128, buf, &f), TCSAMPLE_TAKE);
	ck_assert_ptr_eq(f.data, buf);
	ck_assert_uint_eq(f.len, 66);
	ck_assert_uint_eq(f.caplen, 66);
	ck_assert_mem_eq(f.data, s.data, 12);
	ck_assert_mem_eq(f.data + 12, "\x81\x00\x60\x05", 4);
	ck_assert_mem_eq(f.data + 16, s.data + 12, 50);
	/* QinQ: the outer 802.1ad tag held apart, the inner one in the frame. */
	s.vlan_proto = htons(ETH_P_8021AD);
	ck_assert_int_eq(tcsample_frame(&s, sizeof s, &r, 64, buf, &f), TCSAMPLE_TAKE);
	ck_assert_mem_eq(f.data + 12, "\x88\xa8\x60\x05", 4);
	ck_assert_uint_eq(f.caplen, 64);
	/* The filter sees the frame as the kernel held it: the packet socket's
	 * program does not see the tag in the bytes either. */
	r.filter = v5;
	r.filter_len = n;
	ck_assert_int_eq(tcsample_frame(&s, sizeof s, &r, 128, buf, &f), TCSAMPLE_FILTERED);
	/* A full snap: 256 captured + 4 of tag, cut at the snap length. */
	r.filter = NULL;
	record(&s, HF_EBPF_VLAN, 9, 1500);
	ck_assert_int_eq(tcsample_frame(&s, sizeof s, &r, 256, buf, &f), TCSAMPLE_TAKE);
	ck_assert_uint_eq(f.caplen, 256);
	ck_assert_uint_eq(f.len, 1504);
	/* No Ethernet header to put it in: a tun's bare IP is left alone. */
	r.arphrd = ARPHRD_NONE;
	record(&s, HF_EBPF_VLAN, 9, 62);
	ck_assert_int_eq(tcsample_frame(&s, sizeof s, &r, 128, buf, &f), TCSAMPLE_TAKE);
	ck_assert_ptr_eq(f.data, s.data);
	ck_assert_uint_eq(f.len, 62);
	free(v5);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tcsample");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, t_plain);
	tcase_add_test(tc, t_bad);
	tcase_add_test(tc, t_filters);
	tcase_add_test(tc, t_vlan);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hf_run(suite(), CK_FORK_GETENV);
}
