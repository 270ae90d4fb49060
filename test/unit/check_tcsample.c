/* A record of the tc eBPF capture's ring judged and made into the frame
 * the packet socket gives (sflow/core/tcsample.c): lengths checked, the
 * direction, the tag the kernel held apart put back and counted, the snap
 * length; and one rule for both captures: the judge is the program
 * bpfprog builds for the packet socket (here at rate 1), and on every
 * frame (filter or not, our own datagrams and the ICMP errors quoting
 * them, frames cut to any length) the tc capture takes what the packet
 * socket's program, run as the kernel runs it (test/common/bpf_kernel.c),
 * keeps, and rejects what it marks. */
#include <arpa/inet.h>
#include <check.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sflow/core/bpfprog.h"
#include "sflow/core/pfilter.h"
#include "sflow/core/tcsample.h"
#include "bpf_kernel.h"
#include "testpkt.h"
#include "hf_check.h"

#define SNAP 128
#define KINDEX 7
#define COLLECTOR_PORT 6343
#define OUR_PORT4 40000
#define OUR_PORT6 40001

/* A record of frame f[0..len) taken on KINDEX (ingress unless flags say). */
static void record_of(struct hf_ebpf_sample *s, uint32_t flags, const uint8_t *f,
		      uint32_t len, uint16_t ethertype)
{
	memset(s, 0, sizeof *s);
	s->kindex = KINDEX;
	s->len = len;
	s->caplen = len < HF_EBPF_SNAP ? len : HF_EBPF_SNAP;
	s->flags = flags;
	s->protocol = htons(ethertype);
	s->pkt_type = PACKET_HOST;
	memcpy(s->data, f, s->caplen);
}

/* Our flows: to 198.18.0.2 and fd7a:115c:a1e0::2, port 6343. */
static void our_flows(struct bpfprog_self *self)
{
	self[0] = (struct bpfprog_self){ .family = AF_INET, .sport = OUR_PORT4,
					 .dport = COLLECTOR_PORT };
	memcpy(self[0].addr, "\xc6\x12\x00\x02", 4);
	self[1] = (struct bpfprog_self){ .family = AF_INET6, .sport = OUR_PORT6,
					 .dport = COLLECTOR_PORT };
	memcpy(self[1].addr, "\xfd\x7a\x11\x5c\xa1\xe0\0\0\0\0\0\0\0\0\0\x02", 16);
}

/* The program capture.c builds for a tc capture of one interface: rate 1,
 * with or without a filter, with our flows. */
static struct sock_filter *judge_of(enum bpfprog_link link, const struct sock_filter *filter,
				    size_t filter_len, size_t *len)
{
	struct bpfprog_rule r = { .kindex = KINDEX, .rate = 1, .link = link,
				  .filter = filter, .filter_len = filter_len };
	struct bpfprog_self self[2];
	struct sock_filter *p = NULL;
	char err[256] = "";

	our_flows(self);
	ck_assert_msg(bpfprog_build_max(&r, 1, self, 2, SNAP, BPFPROG_USER_MAXINSNS, &p, len, err,
					sizeof err) == BPFPROG_BUILT, "%s", err);
	return p;
}

static enum tcsample_verdict judge(const struct hf_ebpf_sample *s, unsigned arphrd,
				   const struct sock_filter *p, size_t n, uint32_t snaplen,
				   struct tcsample_frame *f)
{
	static uint8_t buf[TCSAMPLE_BUF];
	struct tcsample_judge j = { p, n };

	return tcsample_frame(s, sizeof *s, arphrd, &j, snaplen, buf, f);
}

START_TEST(t_plain)
{
	struct hf_ebpf_sample s;
	struct tcsample_frame f;
	uint8_t b[128];
	size_t n, len = testpkt_udp4(b, 1, 1000, 9);
	struct sock_filter *p = judge_of(BPFPROG_LINK_ETHER, NULL, 0, &n);

	record_of(&s, 0, b, (uint32_t)len, ETH_P_IP);
	ck_assert_int_eq(tcsample_kindex(&s, sizeof s), KINDEX);
	ck_assert_int_eq(judge(&s, ARPHRD_ETHER, p, n, SNAP, &f), TCSAMPLE_TAKE);
	ck_assert_int_eq(f.kindex, KINDEX);
	ck_assert_ptr_eq(f.data, s.data);
	ck_assert_uint_eq(f.caplen, len);
	ck_assert_uint_eq(f.len, len);
	ck_assert_int_eq(f.outgoing, 0);
	/* Sent: outgoing; a long packet is cut at the snap length. */
	record_of(&s, HF_EBPF_EGRESS, b, (uint32_t)len, ETH_P_IP);
	s.len = 1500;
	ck_assert_int_eq(judge(&s, ARPHRD_ETHER, p, n, 40, &f), TCSAMPLE_TAKE);
	ck_assert_int_eq(f.outgoing, 1);
	ck_assert_uint_eq(f.caplen, 40);
	ck_assert_uint_eq(f.len, 1500);
	ck_assert_int_eq(judge(&s, ARPHRD_ETHER, p, n, 1, &f), TCSAMPLE_TAKE);
	ck_assert_uint_eq(f.caplen, 1);
	free(p);
}
END_TEST

START_TEST(t_bad)
{
	struct hf_ebpf_sample s;
	struct tcsample_frame f;
	struct tcsample_judge j;
	uint8_t b[128], buf[TCSAMPLE_BUF];
	size_t n, len = testpkt_udp4(b, 1, 1000, 9);
	struct sock_filter *p = judge_of(BPFPROG_LINK_ETHER, NULL, 0, &n);

	j = (struct tcsample_judge){ p, n };
	record_of(&s, 0, b, (uint32_t)len, ETH_P_IP);
	ck_assert_int_eq(tcsample_kindex(&s, 15), 0);
	ck_assert_int_eq(tcsample_frame(&s, sizeof s - 1, ARPHRD_ETHER, &j, SNAP, buf, &f),
			 TCSAMPLE_BAD);
	s.caplen = (uint32_t)len + 1;   /* more captured than the packet has */
	ck_assert_int_eq(judge(&s, ARPHRD_ETHER, p, n, SNAP, &f), TCSAMPLE_BAD);
	s.len = 1000;
	s.caplen = HF_EBPF_SNAP + 1;
	ck_assert_int_eq(judge(&s, ARPHRD_ETHER, p, n, SNAP, &f), TCSAMPLE_BAD);
	/* A length the tag would wrap (found by fuzz_tcsample). */
	s.caplen = (uint32_t)len;
	s.len = UINT32_MAX - 1;
	s.flags = HF_EBPF_VLAN;
	ck_assert_int_eq(judge(&s, ARPHRD_ETHER, p, n, SNAP, &f), TCSAMPLE_BAD);
	/* Drawn, but the kernel could not copy its bytes: a drawn packet that
	 * is not a sample, counted out of the pool (not lost in silence). */
	record_of(&s, HF_EBPF_EGRESS, b, (uint32_t)len, ETH_P_IP);
	s.caplen = 0;
	ck_assert_int_eq(judge(&s, ARPHRD_ETHER, p, n, SNAP, &f), TCSAMPLE_REJECTED);
	ck_assert_int_eq(f.kindex, KINDEX);
	ck_assert_int_eq(f.outgoing, 1);
	ck_assert_uint_eq(f.caplen, 0);
	free(p);
}
END_TEST

/* The filter, the direction and the interface as the kernel's ancillary
 * data: no match is a rejected draw, not a silent drop. */
START_TEST(t_filters)
{
	struct hf_ebpf_sample s;
	struct tcsample_frame f;
	uint8_t b[128];
	size_t n9, nin, nidx, n, len;
	struct sock_filter *f9 = testpkt_compile("udp port 9", PFILTER_DLT_EN10MB, &n9);
	struct sock_filter *fin = testpkt_compile("inbound", PFILTER_DLT_EN10MB, &nin);
	struct sock_filter *fidx = testpkt_compile("ifindex 7", PFILTER_DLT_EN10MB, &nidx);
	struct sock_filter *p;

	p = judge_of(BPFPROG_LINK_ETHER, f9, n9, &n);
	len = testpkt_udp4(b, 1, 1000, 9);
	record_of(&s, 0, b, (uint32_t)len, ETH_P_IP);
	ck_assert_int_eq(judge(&s, ARPHRD_ETHER, p, n, SNAP, &f), TCSAMPLE_TAKE);
	len = testpkt_udp4(b, 1, 1000, 10);
	record_of(&s, 0, b, (uint32_t)len, ETH_P_IP);
	ck_assert_int_eq(judge(&s, ARPHRD_ETHER, p, n, SNAP, &f), TCSAMPLE_REJECTED);
	free(p);
	p = judge_of(BPFPROG_LINK_ETHER, fin, nin, &n);
	record_of(&s, HF_EBPF_EGRESS, b, (uint32_t)len, ETH_P_IP);
	ck_assert_int_eq(judge(&s, ARPHRD_ETHER, p, n, SNAP, &f), TCSAMPLE_REJECTED);
	record_of(&s, 0, b, (uint32_t)len, ETH_P_IP);
	ck_assert_int_eq(judge(&s, ARPHRD_ETHER, p, n, SNAP, &f), TCSAMPLE_TAKE);
	free(p);
	p = judge_of(BPFPROG_LINK_ETHER, fidx, nidx, &n);
	ck_assert_int_eq(judge(&s, ARPHRD_ETHER, p, n, SNAP, &f), TCSAMPLE_TAKE);
	free(p);
	free(f9);
	free(fin);
	free(fidx);
}
END_TEST

/* The packet socket's program as the kernel runs it: rate 1, so the draw
 * is not in it; SNAP or BPFPROG_MARK. */
static uint32_t kernel_verdict(const struct sock_filter *p, size_t n, const uint8_t *d,
			       uint32_t len, uint32_t pkttype)
{
	struct kbpf_pkt k = { .data = d, .len = len, .ifindex = KINDEX, .pkttype = pkttype };
	struct kbpf_trace t;
	uint32_t v = kbpf_run(p, n, &k, &t);

	ck_assert_msg(!t.unsupported, "instruction %zu is not modelled", t.unsupported_pc);
	return v;
}

/* Every frame of the list, cut to every length, under each filter: the tc
 * judge and the packet socket's program agree (TAKE where it keeps,
 * REJECTED where it marks, or drops after a filter's load past the end);
 * and our own datagrams and the ICMP errors about them are rejected whole. */
static void agree(enum bpfprog_link link)
{
	int eth = link == BPFPROG_LINK_ETHER;
	int dlt = eth ? PFILTER_DLT_EN10MB : PFILTER_DLT_RAW;
	unsigned arphrd = eth ? ARPHRD_ETHER : ARPHRD_NONE;
	static const char *const exprs[] = { NULL, "udp", "not udp port 9", "ip6", "outbound" };
	uint8_t fr[8][256], q[128];
	size_t fl[8], ql;
	int own[8] = { 1, 1, 0, 0, 1, 1, 0, 0 };
	unsigned checked = 0;

	fl[0] = testpkt_udp4(fr[0], eth, OUR_PORT4, COLLECTOR_PORT);
	fl[1] = testpkt_udp6(fr[1], eth, OUR_PORT6, COLLECTOR_PORT);
	fl[2] = testpkt_udp4(fr[2], eth, OUR_PORT4 + 2, COLLECTOR_PORT);
	fl[3] = testpkt_udp6(fr[3], eth, OUR_PORT6, COLLECTOR_PORT + 1);
	ql = testpkt_udp4(q, 0, OUR_PORT4, COLLECTOR_PORT);
	fl[4] = testpkt_icmp_error(fr[4], eth, 0, 3, q, ql);
	ql = testpkt_udp6(q, 0, OUR_PORT6, COLLECTOR_PORT);
	fl[5] = testpkt_icmp_error(fr[5], eth, 1, 1, q, ql);
	ql = testpkt_udp4(q, 0, 9, 9);
	fl[6] = testpkt_icmp_error(fr[6], eth, 0, 3, q, ql);
	fl[7] = testpkt_udp4(fr[7], eth, 1000, 9);
	for (size_t e = 0; e < sizeof exprs / sizeof *exprs; e++) {
		size_t flen = 0, n;
		struct sock_filter *filt = NULL, *p;
		char err[256];

		/* `outbound` is the kernel's packet type: Ethernet only in pcap. */
		if (exprs[e] && pfilter_compile(exprs[e], dlt, &filt, &flen, err, sizeof err) < 0) {
			ck_assert_msg(!eth, "%s: %s", exprs[e], err);
			continue;
		}
		p = judge_of(link, filt, flen, &n);

		ck_assert_msg(kbpf_check(p, n, err, sizeof err) == 0, "%s", err);
		for (int k = 0; k < 8; k++)
			for (int out = 0; out < 2; out++)
				for (size_t len = 0; len <= fl[k]; len++) {
					struct hf_ebpf_sample s;
					struct tcsample_frame f;
					uint32_t kv = kernel_verdict(p, n, fr[k], (uint32_t)len,
								     out ? PACKET_OUTGOING
									 : PACKET_HOST);
					enum tcsample_verdict tv;

					record_of(&s, out ? HF_EBPF_EGRESS : 0, fr[k], (uint32_t)len,
						  k % 2 ? ETH_P_IPV6 : ETH_P_IP);
					tv = judge(&s, arphrd, p, n, SNAP, &f);
					if (!len) {
						/* Nothing copied: rejected, whatever it was. */
						ck_assert_int_eq(tv, TCSAMPLE_REJECTED);
						continue;
					}
					/* 0: a filter's load past the end, which
					 * the kernel ends with a drop; the tc
					 * judge knows the packet was drawn and
					 * rejects it (counted out of the pool). */
					ck_assert_msg(kv == SNAP || kv == BPFPROG_MARK || kv == 0,
						      "kernel verdict %u: frame %d cut to %zu, "
						      "filter %s, %s", kv, k, len,
						      exprs[e] ? exprs[e] : "none", out ? "out" : "in");
					ck_assert_msg((kv == SNAP) == (tv == TCSAMPLE_TAKE),
						      "frame %d cut to %zu, filter %s, %s: kernel %u, "
						      "tc %d", k, len, exprs[e] ? exprs[e] : "none",
						      out ? "out" : "in", kv, tv);
					if (len == fl[k] && own[k])
						ck_assert_msg(tv == TCSAMPLE_REJECTED,
							      "own frame %d taken", k);
					checked++;
				}
		free(p);
		free(filt);
	}
	ck_assert_uint_gt(checked, 1000);
}

START_TEST(t_one_rule)
{
	agree(BPFPROG_LINK_ETHER);
	agree(BPFPROG_LINK_IP);
}
END_TEST

/* 802.1Q and 802.1ad tags the kernel held apart go back after the MAC
 * addresses, as libpcap puts them back, and count in the length; the
 * judge sees the frame as the kernel held it (as the packet socket's). */
START_TEST(t_vlan)
{
	struct hf_ebpf_sample s;
	struct tcsample_frame f;
	uint8_t b[128];
	size_t n, len = testpkt_udp4(b, 1, 1000, 9);
	struct sock_filter *p = judge_of(BPFPROG_LINK_ETHER, NULL, 0, &n);

	record_of(&s, HF_EBPF_VLAN, b, (uint32_t)len, ETH_P_IP);
	s.vlan_tci = 0x6005;            /* PCP 3, VID 5 */
	s.vlan_proto = htons(ETH_P_8021Q);
	ck_assert_int_eq(judge(&s, ARPHRD_ETHER, p, n, SNAP, &f), TCSAMPLE_TAKE);
	ck_assert_uint_eq(f.len, len + 4);
	ck_assert_uint_eq(f.caplen, len + 4);
	ck_assert_mem_eq(f.data, s.data, 12);
	ck_assert_mem_eq(f.data + 12, "\x81\x00\x60\x05", 4);
	ck_assert_mem_eq(f.data + 16, s.data + 12, len - 12);
	/* QinQ: the outer 802.1ad tag held apart, the inner one in the frame. */
	s.vlan_proto = htons(ETH_P_8021AD);
	ck_assert_int_eq(judge(&s, ARPHRD_ETHER, p, n, 40, &f), TCSAMPLE_TAKE);
	ck_assert_mem_eq(f.data + 12, "\x88\xa8\x60\x05", 4);
	ck_assert_uint_eq(f.caplen, 40);
	/* Our own datagram on a VLAN: still ours. */
	len = testpkt_udp4(b, 1, OUR_PORT4, COLLECTOR_PORT);
	record_of(&s, HF_EBPF_VLAN | HF_EBPF_EGRESS, b, (uint32_t)len, ETH_P_IP);
	s.vlan_proto = htons(ETH_P_8021Q);
	ck_assert_int_eq(judge(&s, ARPHRD_ETHER, p, n, SNAP, &f), TCSAMPLE_REJECTED);
	/* A full snap: 256 captured + 4 of tag, cut at the snap length. */
	len = testpkt_udp4(b, 1, 1000, 9);
	record_of(&s, HF_EBPF_VLAN, b, (uint32_t)len, ETH_P_IP);
	s.len = 1500;
	s.caplen = HF_EBPF_SNAP;
	ck_assert_int_eq(judge(&s, ARPHRD_ETHER, p, n, 256, &f), TCSAMPLE_TAKE);
	ck_assert_uint_eq(f.caplen, 256);
	ck_assert_uint_eq(f.len, 1504);
	free(p);
	/* No Ethernet header to put it in: a tun's bare IP is left alone. */
	p = judge_of(BPFPROG_LINK_IP, NULL, 0, &n);
	len = testpkt_udp4(b, 0, 1000, 9);
	record_of(&s, HF_EBPF_VLAN, b, (uint32_t)len, ETH_P_IP);
	ck_assert_int_eq(judge(&s, ARPHRD_NONE, p, n, SNAP, &f), TCSAMPLE_TAKE);
	ck_assert_ptr_eq(f.data, s.data);
	ck_assert_uint_eq(f.len, len);
	free(p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tcsample");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, t_plain);
	tcase_add_test(tc, t_bad);
	tcase_add_test(tc, t_filters);
	tcase_add_test(tc, t_one_rule);
	tcase_add_test(tc, t_vlan);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hf_run(suite(), CK_FORK_GETENV);
}
