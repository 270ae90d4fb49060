/* The classic BPF interpreter the tc eBPF capture runs filters with
 * (sflow/core/cbpf.c): pcap's programs give libpcap's own interpreter's
 * verdicts on many packets, the kernel's ancillary loads read what the
 * capture recorded, and every way a program can go wrong ends in 0. */
#include <check.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "sflow/core/cbpf.h"
#include "sflow/core/pfilter.h"
#include "hf_check.h"

static const struct cbpf_aux aux0 = { .pkttype = PACKET_HOST, .ifindex = 7,
				      .protocol = 0x0800, .hatype = 1 };

/* An Ethernet + IPv4 + UDP frame from 198.18.0.1:sport to 198.18.0.2:dport. */
static size_t udp4(uint8_t *f, uint16_t sport, uint16_t dport, size_t payload)
{
	size_t n = 14 + 20 + 8 + payload;

	memset(f, 0, n);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	f[14] = 0x45;
	f[16] = (uint8_t)((n - 14) >> 8);
	f[17] = (uint8_t)(n - 14);
	f[22] = 64;
	f[23] = 17;
	memcpy(f + 26, "\xc6\x12\x00\x01\xc6\x12\x00\x02", 8);
	f[34] = (uint8_t)(sport >> 8);
	f[35] = (uint8_t)sport;
	f[36] = (uint8_t)(dport >> 8);
	f[37] = (uint8_t)dport;
	f[39] = (uint8_t)(8 + payload);
	return n;
}

static struct sock_filter *compile(const char *expr, int dlt, size_t *len)
{
	struct sock_filter *p = NULL;
	char err[256];

	ck_assert_msg(pfilter_compile(expr, dlt, &p, len, err, sizeof err) == 0, "%s: %s",
		      expr, err);
	return p;
}

static uint32_t run(const char *expr, const uint8_t *f, uint32_t caplen, uint32_t len,
		    const struct cbpf_aux *aux)
{
	size_t n;
	struct sock_filter *p = compile(expr, PFILTER_DLT_EN10MB, &n);
	uint32_t v = cbpf_run(p, n, f, caplen, len, aux);

	free(p);
	return v;
}

START_TEST(t_pcap_expressions)
{
	uint8_t f[128];
	size_t n = udp4(f, 4001, 9, 20);

	ck_assert_uint_ne(run("udp port 9", f, n, n, &aux0), 0);
	ck_assert_uint_eq(run("udp port 10", f, n, n, &aux0), 0);
	ck_assert_uint_eq(run("not udp port 9", f, n, n, &aux0), 0);
	ck_assert_uint_ne(run("src host 198.18.0.1 and dst host 198.18.0.2", f, n, n, &aux0), 0);
	ck_assert_uint_eq(run("tcp", f, n, n, &aux0), 0);
	ck_assert_uint_ne(run("ip and udp and src port 4001", f, n, n, &aux0), 0);
	/* `greater` reads the packet's whole length, not what was captured. */
	ck_assert_uint_ne(run("greater 500", f, 40, 1000, &aux0), 0);
	ck_assert_uint_eq(run("greater 500", f, 40, 400, &aux0), 0);
}
END_TEST

/* pcap's `inbound`, `outbound` and `ifindex` are the kernel's ancillary
 * loads: they read the direction and interface the capture recorded. */
START_TEST(t_ancillary)
{
	uint8_t f[128];
	size_t n = udp4(f, 4001, 9, 20);
	struct cbpf_aux out = aux0;
	struct sock_filter p[2] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_AD_OFF + SKF_AD_PROTOCOL),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct cbpf_aux v = { .vlan_present = 1, .vlan_tci = 0x2005, .vlan_tpid = 0x88a8,
			      .hatype = 65534 };

	out.pkttype = PACKET_OUTGOING;
	ck_assert_uint_ne(run("inbound", f, n, n, &aux0), 0);
	ck_assert_uint_eq(run("inbound", f, n, n, &out), 0);
	ck_assert_uint_ne(run("outbound", f, n, n, &out), 0);
	ck_assert_uint_ne(run("ifindex 7", f, n, n, &aux0), 0);
	ck_assert_uint_eq(run("ifindex 8", f, n, n, &aux0), 0);
	ck_assert_uint_eq(cbpf_run(p, 2, f, (uint32_t)n, (uint32_t)n, &aux0), 0x0800);
	p[0].k = (uint32_t)SKF_AD_OFF + SKF_AD_VLAN_TAG;
	ck_assert_uint_eq(cbpf_run(p, 2, f, (uint32_t)n, (uint32_t)n, &v), 0x2005);
	p[0].k = (uint32_t)SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT;
	ck_assert_uint_eq(cbpf_run(p, 2, f, (uint32_t)n, (uint32_t)n, &v), 1);
	ck_assert_uint_eq(cbpf_run(p, 2, f, (uint32_t)n, (uint32_t)n, &aux0), 0);
	p[0].k = (uint32_t)SKF_AD_OFF + SKF_AD_VLAN_TPID;
	ck_assert_uint_eq(cbpf_run(p, 2, f, (uint32_t)n, (uint32_t)n, &v), 0x88a8);
	p[0].k = (uint32_t)SKF_AD_OFF + SKF_AD_HATYPE;
	ck_assert_uint_eq(cbpf_run(p, 2, f, (uint32_t)n, (uint32_t)n, &v), 65534);
	/* A mark, a hash, a queue: not recorded, so no match rather than a guess. */
	p[0].k = (uint32_t)SKF_AD_OFF + SKF_AD_MARK;
	p[1] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 99);
	ck_assert_uint_eq(cbpf_run(p, 2, f, (uint32_t)n, (uint32_t)n, &aux0), 0);
}
END_TEST

/* What ends a run with 0, as in the kernel. */
START_TEST(t_faults)
{
	uint8_t f[64] = { 1, 2, 3, 4, 5, 6 };
	const struct sock_filter past[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 5),     /* bytes 5, 6 of a 6-byte capture */
		BPF_STMT(BPF_RET | BPF_K, 1),
	};
	const struct sock_filter ind[] = {
		BPF_STMT(BPF_LDX | BPF_IMM, 0xffffffffu),
		BPF_STMT(BPF_LD | BPF_B | BPF_IND, 2),     /* X + k wraps in 32 bits: never */
		BPF_STMT(BPF_RET | BPF_K, 1),
	};
	const struct sock_filter div0[] = {
		BPF_STMT(BPF_LDX | BPF_IMM, 0),
		BPF_STMT(BPF_LD | BPF_IMM, 10),
		BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0),
		BPF_STMT(BPF_RET | BPF_K, 1),
	};
	const struct sock_filter jump_out[] = {
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 5),
		BPF_STMT(BPF_RET | BPF_K, 1),
	};
	const struct sock_filter ja_out[] = {
		BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0),
		BPF_STMT(BPF_RET | BPF_K, 1),
	};
	const struct sock_filter off_end[] = {
		BPF_STMT(BPF_LD | BPF_IMM, 1),
	};
	const struct sock_filter mem_bad[] = {
		BPF_STMT(BPF_ST, 16),
		BPF_STMT(BPF_RET | BPF_K, 1),
	};
	const struct sock_filter net_off[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)SKF_NET_OFF),
		BPF_STMT(BPF_RET | BPF_K, 1),
	};

	ck_assert_uint_eq(cbpf_run(past, 2, f, 6, 64, &aux0), 0);
	ck_assert_uint_eq(cbpf_run(past, 2, f, 7, 64, &aux0), 1);
	ck_assert_uint_eq(cbpf_run(ind, 3, f, 64, 64, &aux0), 0);
	ck_assert_uint_eq(cbpf_run(div0, 4, f, 64, 64, &aux0), 0);
	ck_assert_uint_eq(cbpf_run(jump_out, 2, f, 64, 64, &aux0), 0);
	ck_assert_uint_eq(cbpf_run(ja_out, 2, f, 64, 64, &aux0), 0);
	ck_assert_uint_eq(cbpf_run(off_end, 1, f, 64, 64, &aux0), 0);
	ck_assert_uint_eq(cbpf_run(mem_bad, 2, f, 64, 64, &aux0), 0);
	ck_assert_uint_eq(cbpf_run(net_off, 2, f, 64, 64, &aux0), 0);
	ck_assert_uint_eq(cbpf_run(NULL, 0, f, 64, 64, &aux0), 0);
}
END_TEST

/* The rest of the instruction set: memory, MSH, TAX/TXA, every ALU and
 * jump, RET A. */
START_TEST(t_instructions)
{
	uint8_t f[8] = { 0x45, 0, 0, 0, 0, 0, 0, 0 };
	const struct sock_filter p[] = {
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),          /* X = 4 * 5 = 20 */
		BPF_STMT(BPF_STX, 3),
		BPF_STMT(BPF_LD | BPF_MEM, 3),                   /* A = 20 */
		BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 12),         /* 32 */
		BPF_STMT(BPF_ALU | BPF_SUB | BPF_K, 2),          /* 30 */
		BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 3),          /* 90 */
		BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 4),          /* 22 */
		BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 8),          /* 6 */
		BPF_STMT(BPF_ALU | BPF_OR | BPF_K, 0x10),        /* 22 */
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x1e),       /* 22 */
		BPF_STMT(BPF_ALU | BPF_XOR | BPF_K, 0x3),        /* 21 */
		BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 2),          /* 84 */
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 1),          /* 42 */
		BPF_STMT(BPF_ALU | BPF_NEG, 0),                  /* -42 */
		BPF_STMT(BPF_ALU | BPF_NEG, 0),                  /* 42 */
		BPF_STMT(BPF_MISC | BPF_TAX, 0),                 /* X = 42 */
		BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),           /* A = 100 */
		BPF_JUMP(BPF_JMP | BPF_JGT | BPF_X, 0, 0, 5),    /* 100 > 42 */
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 100, 0, 4),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 4, 0, 3),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 100, 0, 2),
		BPF_STMT(BPF_MISC | BPF_TXA, 0),                 /* A = 42 */
		BPF_STMT(BPF_RET | BPF_A, 0),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};

	ck_assert_uint_eq(cbpf_run(p, sizeof p / sizeof *p, f, 8, 100, &aux0), 42);
}
END_TEST

/* xorshift32: deterministic packets. */
static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Programs without ancillary loads give what libpcap's own interpreter
 * gives, on frames that are mostly what the expressions look for, some
 * cut short, some noise. */
START_TEST(t_same_as_libpcap)
{
	static const char *const exprs[] = {
		"udp port 9", "not udp port 41641", "tcp[tcpflags] & tcp-syn != 0",
		"ip6 and udp", "vlan 5 and udp", "ip[6:2] & 0x1fff = 0 and udp dst port 9",
		"net 198.18.0.0/15", "icmp or (udp and greater 60)", "ether host 02:00:00:00:00:01",
	};
	uint32_t seed = 12345;
	unsigned matched = 0;

	for (size_t e = 0; e < sizeof exprs / sizeof *exprs; e++) {
		size_t n;
		struct sock_filter *p = compile(exprs[e], PFILTER_DLT_EN10MB, &n);

		for (int i = 0; i < 2000; i++) {
			uint8_t f[128];
			uint32_t len = (uint32_t)udp4(f, (uint16_t)(rnd(&seed) % 8 ? 4001 : 41641),
						      (uint16_t)(rnd(&seed) % 4 ? 9 : 10), 40);
			uint32_t caplen = rnd(&seed) % 3 ? len : rnd(&seed) % len;
			uint32_t a, b;

			for (uint32_t k = rnd(&seed) % 4; k; k--)
				f[rnd(&seed) % len] = (uint8_t)rnd(&seed);
			if (rnd(&seed) % 5 == 0)
				memcpy(f + 12, rnd(&seed) % 2 ? "\x86\xdd" : "\x81\x00", 2);
			a = cbpf_run(p, n, f, caplen, len, &aux0);
			b = bpf_filter((const struct bpf_insn *)p, f, len, caplen);
			ck_assert_msg(a == b, "\"%s\" on packet %d (caplen %u): %u, libpcap %u",
				      exprs[e], i, caplen, a, b);
			matched += a != 0;
		}
		free(p);
	}
	ck_assert_uint_gt(matched, 1000);   /* the packets did exercise the matches */
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cbpf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, t_pcap_expressions);
	tcase_add_test(tc, t_ancillary);
	tcase_add_test(tc, t_faults);
	tcase_add_test(tc, t_instructions);
	tcase_add_test(tc, t_same_as_libpcap);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hf_run(suite(), CK_FORK_GETENV);
}
