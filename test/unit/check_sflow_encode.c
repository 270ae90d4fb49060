/* sflow_encode: byte-exact datagrams worked out by hand from
 * sflow_version_5.txt, and the strict validator against them. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sflow/core/sflow_encode.h"
#include "sflow_validate.h"
#include "hf_check.h"

/* Datagram header, IPv4 agent 192.0.2.1, sub-agent 7, with nsamples n. */
#define HDR_V4(n) \
	0x00, 0x00, 0x00, 0x05,	/* version 5 */ \
	0x00, 0x00, 0x00, 0x01,	/* agent address type: IPv4 */ \
	0xc0, 0x00, 0x02, 0x01,	/* 192.0.2.1 */ \
	0x00, 0x00, 0x00, 0x07,	/* sub_agent_id 7 */ \
	0x01, 0x02, 0x03, 0x04,	/* sequence_number */ \
	0x0a, 0x0b, 0x0c, 0x0d,	/* uptime ms */ \
	0x00, 0x00, 0x00, (n)	/* num_samples */

static const uint8_t empty_v4[] = { HDR_V4(0) };

static const uint8_t empty_v6[] = {
	0x00, 0x00, 0x00, 0x05,	/* version 5 */
	0x00, 0x00, 0x00, 0x02,	/* agent address type: IPv6 */
	0x20, 0x01, 0x0d, 0xb8,	/* 2001:db8::1 */
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01,
	0xff, 0xff, 0xff, 0xfe,	/* sub_agent_id */
	0x00, 0x00, 0x00, 0x00,	/* sequence_number 0 */
	0x80, 0x00, 0x00, 0x01,	/* uptime ms */
	0x00, 0x00, 0x00, 0x00,	/* num_samples 0 */
};

/* A made-up Ethernet header: 02:00:00:00:00:01 <- 02:00:00:00:00:02, IPv4. */
static const uint8_t eth_hdr[14] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x08, 0x00,
};

#define FLOW_COMPACT_BYTES \
	0x00, 0x00, 0x00, 0x01,	/* enterprise 0, format 1: flow_sample */ \
	0x00, 0x00, 0x00, 0x48,	/* sample length 72 */ \
	0x00, 0x00, 0x00, 0x01,	/* sequence_number 1 */ \
	0x00, 0x00, 0x00, 0x03,	/* source_id: type 0, index 3 */ \
	0x00, 0x00, 0x01, 0x90,	/* sampling_rate 400 */ \
	0x00, 0x00, 0x03, 0x20,	/* sample_pool 800 */ \
	0x00, 0x00, 0x00, 0x02,	/* drops 2 */ \
	0x3f, 0xff, 0xff, 0xff,	/* input: internal */ \
	0x00, 0x00, 0x00, 0x03,	/* output 3 */ \
	0x00, 0x00, 0x00, 0x01,	/* one flow record */ \
	0x00, 0x00, 0x00, 0x01,	/* enterprise 0, format 1: raw packet header */ \
	0x00, 0x00, 0x00, 0x20,	/* record length 32 */ \
	0x00, 0x00, 0x00, 0x01,	/* header_protocol 1: Ethernet */ \
	0x00, 0x00, 0x00, 0x3c,	/* frame_length 60 */ \
	0x00, 0x00, 0x00, 0x04,	/* stripped 4 */ \
	0x00, 0x00, 0x00, 0x0e,	/* header length 14 */ \
	0x02, 0x00, 0x00, 0x00,	/* header bytes */ \
	0x00, 0x01, 0x02, 0x00, \
	0x00, 0x00, 0x00, 0x02, \
	0x08, 0x00, 0x00, 0x00	/* last 2 header bytes, 2 bytes of padding */

#define COUNTERS_BYTES \
	0x00, 0x00, 0x00, 0x02,	/* enterprise 0, format 2: counters_sample */ \
	0x00, 0x00, 0x00, 0x6c,	/* sample length 108 */ \
	0x00, 0x00, 0x00, 0x09,	/* sequence_number 9 */ \
	0x00, 0x00, 0x00, 0x04,	/* source_id: type 0, index 4 */ \
	0x00, 0x00, 0x00, 0x01,	/* one counter record */ \
	0x00, 0x00, 0x00, 0x01,	/* enterprise 0, format 1: generic interface */ \
	0x00, 0x00, 0x00, 0x58,	/* record length 88 */ \
	0x00, 0x00, 0x00, 0x04,	/* ifIndex 4 */ \
	0x00, 0x00, 0x00, 0x06,	/* ifType 6 */ \
	0x00, 0x00, 0x00, 0x02,	/* ifSpeed 10^10 (hyper) */ \
	0x54, 0x0b, 0xe4, 0x00, \
	0x00, 0x00, 0x00, 0x01,	/* ifDirection 1: full duplex */ \
	0x00, 0x00, 0x00, 0x03,	/* ifStatus: admin and oper up */ \
	0x00, 0x00, 0x00, 0x01,	/* ifInOctets 0x123456789 (hyper) */ \
	0x23, 0x45, 0x67, 0x89, \
	0x00, 0x00, 0x00, 0x11,	/* ifInUcastPkts */ \
	0x00, 0x00, 0x00, 0x12,	/* ifInMulticastPkts */ \
	0x00, 0x00, 0x00, 0x13,	/* ifInBroadcastPkts */ \
	0x00, 0x00, 0x00, 0x14,	/* ifInDiscards */ \
	0x00, 0x00, 0x00, 0x15,	/* ifInErrors */ \
	0x00, 0x00, 0x00, 0x16,	/* ifInUnknownProtos */ \
	0x00, 0x00, 0x00, 0x09,	/* ifOutOctets 0x987654321 (hyper) */ \
	0x87, 0x65, 0x43, 0x21, \
	0x00, 0x00, 0x00, 0x21,	/* ifOutUcastPkts */ \
	0x00, 0x00, 0x00, 0x22,	/* ifOutMulticastPkts */ \
	0x00, 0x00, 0x00, 0x23,	/* ifOutBroadcastPkts */ \
	0x00, 0x00, 0x00, 0x24,	/* ifOutDiscards */ \
	0x00, 0x00, 0x00, 0x25,	/* ifOutErrors */ \
	0x00, 0x00, 0x00, 0x02	/* ifPromiscuousMode: false */

static const uint8_t flow_compact[] = { HDR_V4(1), FLOW_COMPACT_BYTES };
static const uint8_t counters_one[] = { HDR_V4(1), COUNTERS_BYTES };
static const uint8_t flow_then_counters[] = { HDR_V4(2), FLOW_COMPACT_BYTES, COUNTERS_BYTES };

static const uint8_t ip_frag[6] = { 0x45, 0x00, 0x00, 0x54, 0xab, 0xcd };

static const uint8_t flow_expanded[] = {
	HDR_V4(1),
	0x00, 0x00, 0x00, 0x03,	/* enterprise 0, format 3: expanded flow_sample */
	0x00, 0x00, 0x00, 0x4c,	/* sample length 76 */
	0x00, 0x00, 0x00, 0x05,	/* sequence_number 5 */
	0x00, 0x00, 0x00, 0x00,	/* source_id_type 0: ifIndex */
	0x01, 0x00, 0x00, 0x01,	/* source_id_index 2^24+1 */
	0x00, 0x00, 0x00, 0x0a,	/* sampling_rate 10 */
	0x00, 0x00, 0x00, 0x64,	/* sample_pool 100 */
	0x00, 0x00, 0x00, 0x00,	/* drops 0 */
	0x00, 0x00, 0x00, 0x00,	/* input format 0: ifIndex */
	0x01, 0x00, 0x00, 0x01,	/* input value 2^24+1 */
	0x00, 0x00, 0x00, 0x00,	/* output format 0 */
	0x3f, 0xff, 0xff, 0xff,	/* output value: internal */
	0x00, 0x00, 0x00, 0x01,	/* one flow record */
	0x00, 0x00, 0x00, 0x01,	/* raw packet header */
	0x00, 0x00, 0x00, 0x18,	/* record length 24 */
	0x00, 0x00, 0x00, 0x0b,	/* header_protocol 11: IPv4 */
	0x00, 0x00, 0x00, 0x54,	/* frame_length 84 */
	0x00, 0x00, 0x00, 0x00,	/* stripped 0 */
	0x00, 0x00, 0x00, 0x06,	/* header length 6 */
	0x45, 0x00, 0x00, 0x54,	/* header bytes */
	0xab, 0xcd, 0x00, 0x00,	/* 2 more, 2 of padding */
};

/* The compact flow sample above with an extended_router record after the
 * raw packet header (sflow_version_5.txt, "Extended Router Data"):
 * next_hop as an address, then src_mask_len and dst_mask_len. */
#define FLOW_ROUTER_HEAD(len) \
	0x00, 0x00, 0x00, 0x01,	/* enterprise 0, format 1: flow_sample */ \
	0x00, 0x00, 0x00, (len),	/* sample length */ \
	0x00, 0x00, 0x00, 0x01,	/* sequence_number 1 */ \
	0x00, 0x00, 0x00, 0x03,	/* source_id: type 0, index 3 */ \
	0x00, 0x00, 0x01, 0x90,	/* sampling_rate 400 */ \
	0x00, 0x00, 0x03, 0x20,	/* sample_pool 800 */ \
	0x00, 0x00, 0x00, 0x02,	/* drops 2 */ \
	0x00, 0x00, 0x00, 0x02,	/* input 2 */ \
	0x00, 0x00, 0x00, 0x03,	/* output 3 */ \
	0x00, 0x00, 0x00, 0x02,	/* two flow records */ \
	0x00, 0x00, 0x00, 0x01,	/* enterprise 0, format 1: raw packet header */ \
	0x00, 0x00, 0x00, 0x20,	/* record length 32 */ \
	0x00, 0x00, 0x00, 0x01,	/* header_protocol 1: Ethernet */ \
	0x00, 0x00, 0x00, 0x3c,	/* frame_length 60 */ \
	0x00, 0x00, 0x00, 0x04,	/* stripped 4 */ \
	0x00, 0x00, 0x00, 0x0e,	/* header length 14 */ \
	0x02, 0x00, 0x00, 0x00,	/* header bytes */ \
	0x00, 0x01, 0x02, 0x00, \
	0x00, 0x00, 0x00, 0x02, \
	0x08, 0x00, 0x00, 0x00	/* last 2 header bytes, 2 bytes of padding */

static const uint8_t flow_router_v4[] = {
	HDR_V4(1),
	FLOW_ROUTER_HEAD(0x60),	/* 72 + 8 + 16 */
	0x00, 0x00, 0x03, 0xea,	/* enterprise 0, format 1002: extended_router */
	0x00, 0x00, 0x00, 0x10,	/* record length 16 */
	0x00, 0x00, 0x00, 0x01,	/* next_hop address type 1: IPv4 */
	0xc6, 0x12, 0x02, 0x02,	/* 198.18.2.2 */
	0x00, 0x00, 0x00, 0x18,	/* src_mask_len 24 */
	0x00, 0x00, 0x00, 0x10,	/* dst_mask_len 16 */
};

static const uint8_t flow_router_v6[] = {
	HDR_V4(1),
	FLOW_ROUTER_HEAD(0x6c),	/* 72 + 8 + 28 */
	0x00, 0x00, 0x03, 0xea,	/* enterprise 0, format 1002: extended_router */
	0x00, 0x00, 0x00, 0x1c,	/* record length 28 */
	0x00, 0x00, 0x00, 0x02,	/* next_hop address type 2: IPv6 */
	0xfd, 0x7a, 0x11, 0x5c,	/* fd7a:115c:a1e0:2::2 */
	0xa1, 0xe0, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x40,	/* src_mask_len 64 */
	0x00, 0x00, 0x00, 0x30,	/* dst_mask_len 48 */
};

static const uint8_t counters_expanded_prefix[] = {
	0x00, 0x00, 0x00, 0x04,	/* enterprise 0, format 4: expanded counters_sample */
	0x00, 0x00, 0x00, 0x70,	/* sample length 112 */
	0x00, 0x00, 0x00, 0x09,	/* sequence_number 9 */
	0x00, 0x00, 0x00, 0x00,	/* source_id_type 0 */
	0x40, 0x00, 0x00, 0x00,	/* source_id_index 2^30 */
	0x00, 0x00, 0x00, 0x01,	/* one counter record */
	0x00, 0x00, 0x00, 0x01,	/* generic interface */
	0x00, 0x00, 0x00, 0x58,	/* record length 88 */
};

static const struct hf_addr agent_v4 = { AF_INET, { 192, 0, 2, 1 } };
static const struct hf_addr agent_v6 = {
	AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }
};

static struct sflow_flow_sample compact_flow(void)
{
	struct sflow_flow_sample s = {
		.seq = 1, .source_index = 3, .rate = 400, .pool = 800, .drops = 2,
		.input = SFLOW_IF_INTERNAL, .output = 3,
		.header_protocol = SFLOW_HDR_ETHERNET, .frame_length = 60,
		.stripped = 4, .header = eth_hdr, .header_len = sizeof(eth_hdr),
	};
	return s;
}

static struct sflow_flow_sample expanded_flow(void)
{
	struct sflow_flow_sample s = {
		.seq = 5, .source_index = (1u << 24) + 1, .rate = 10, .pool = 100,
		.input = (1u << 24) + 1, .output = SFLOW_IF_INTERNAL,
		.header_protocol = SFLOW_HDR_IPV4, .frame_length = 84,
		.header = ip_frag, .header_len = sizeof(ip_frag),
	};
	return s;
}

static struct sflow_counter_sample counters(void)
{
	struct sflow_counter_sample s = {
		.seq = 9, .source_index = 4, .if_index = 4, .if_type = 6,
		.if_speed = 10000000000ull, .if_direction = SFLOW_DIR_FULL,
		.if_status = 3, .in_octets = 0x123456789ull,
		.in_ucast = 0x11, .in_mcast = 0x12, .in_bcast = 0x13,
		.in_discards = 0x14, .in_errors = 0x15, .in_unknown = 0x16,
		.out_octets = 0x987654321ull, .out_ucast = 0x21, .out_mcast = 0x22,
		.out_bcast = 0x23, .out_discards = 0x24, .out_errors = 0x25,
		.promisc = 2,
	};
	return s;
}

static void begin_v4(struct sflow_datagram *d, uint8_t *buf, size_t cap)
{
	sflow_dgram_begin(d, buf, cap, &agent_v4, 7, 0x01020304, 0x0a0b0c0d);
}

/* Reports the first differing byte, which names the field in the arrays. */
static void expect_bytes(const uint8_t *got, size_t got_len,
			 const uint8_t *want, size_t want_len)
{
	size_t i;

	ck_assert_uint_eq(got_len, want_len);
	for (i = 0; i < want_len; i++)
		ck_assert_msg(got[i] == want[i], "byte %zu (word %zu): got 0x%02x, want 0x%02x",
			      i, i / 4, got[i], want[i]);
}

/* Every prefix of a valid datagram is invalid, and the validator reads only
 * the bytes it was given (the copy is exactly l bytes on the heap, so
 * valgrind or ASan see any overread). */
static void expect_truncations_rejected(const uint8_t *buf, size_t len)
{
	size_t l;

	for (l = 0; l < len; l++) {
		uint8_t *copy = malloc(l ? l : 1);

		ck_assert_ptr_nonnull(copy);
		memcpy(copy, buf, l);
		ck_assert_msg(sflow_validate(copy, l) == -1, "prefix of %zu bytes accepted", l);
		free(copy);
	}
}

START_TEST(empty_ipv4)
{
	uint8_t buf[64];
	struct sflow_datagram d;

	begin_v4(&d, buf, sizeof(buf));
	expect_bytes(buf, sflow_dgram_len(&d), empty_v4, sizeof(empty_v4));
	ck_assert_int_eq(sflow_validate(buf, sflow_dgram_len(&d)), 0);
	expect_truncations_rejected(empty_v4, sizeof(empty_v4));
}
END_TEST

START_TEST(empty_ipv6)
{
	uint8_t buf[64];
	struct sflow_datagram d;

	sflow_dgram_begin(&d, buf, sizeof(buf), &agent_v6, 0xfffffffe, 0, 0x80000001);
	expect_bytes(buf, sflow_dgram_len(&d), empty_v6, sizeof(empty_v6));
	ck_assert_int_eq(sflow_validate(buf, sflow_dgram_len(&d)), 0);
	expect_truncations_rejected(empty_v6, sizeof(empty_v6));
}
END_TEST

START_TEST(unset_agent_is_zero_ipv4)
{
	uint8_t buf[64];
	struct sflow_datagram d;
	struct hf_addr none = { 0 };
	static const uint8_t zero_agent[] = { 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0 };

	sflow_dgram_begin(&d, buf, sizeof(buf), &none, 7, 1, 2);
	ck_assert_uint_eq(sflow_dgram_len(&d), 28);
	ck_assert_mem_eq(buf + 4, zero_agent, sizeof(zero_agent));
	ck_assert_int_eq(sflow_validate(buf, 28), 0);
}
END_TEST

START_TEST(compact_flow_sample)
{
	uint8_t buf[256];
	struct sflow_datagram d;
	struct sflow_flow_sample s = compact_flow();

	begin_v4(&d, buf, sizeof(buf));
	ck_assert_int_eq(sflow_dgram_add_flow(&d, &s), 0);
	expect_bytes(buf, sflow_dgram_len(&d), flow_compact, sizeof(flow_compact));
	ck_assert_uint_eq(d.nsamples, 1);
	ck_assert_int_eq(sflow_validate(buf, sflow_dgram_len(&d)), 1);
	expect_truncations_rejected(flow_compact, sizeof(flow_compact));
}
END_TEST

START_TEST(expanded_flow_sample)
{
	uint8_t buf[256];
	struct sflow_datagram d;
	struct sflow_flow_sample s = expanded_flow();

	begin_v4(&d, buf, sizeof(buf));
	ck_assert_int_eq(sflow_dgram_add_flow(&d, &s), 0);
	expect_bytes(buf, sflow_dgram_len(&d), flow_expanded, sizeof(flow_expanded));
	ck_assert_int_eq(sflow_validate(buf, sflow_dgram_len(&d)), 1);
	expect_truncations_rejected(flow_expanded, sizeof(flow_expanded));
}
END_TEST

/* A 30-bit overflow of input alone forces the expanded form too, since the
 * compact word's top bits would turn it into "discarded" or "multiple". */
START_TEST(wide_interface_forces_expanded)
{
	uint8_t buf[256];
	struct sflow_datagram d;
	struct sflow_flow_sample s = compact_flow();

	s.output = 1u << 30;
	begin_v4(&d, buf, sizeof(buf));
	ck_assert_int_eq(sflow_dgram_add_flow(&d, &s), 0);
	ck_assert_uint_eq(buf[28 + 3], 3);		/* format 3 */
	ck_assert_uint_eq(sflow_dgram_len(&d), 28 + 76 + 16);
	/* output format word 0, value 2^30, at body offset 32..39 */
	ck_assert_uint_eq(buf[28 + 8 + 32 + 3], 0);
	ck_assert_uint_eq(buf[28 + 8 + 36], 0x40);
	ck_assert_int_eq(sflow_validate(buf, sflow_dgram_len(&d)), 1);
}
END_TEST

START_TEST(counters_sample)
{
	uint8_t buf[256];
	struct sflow_datagram d;
	struct sflow_counter_sample s = counters();

	begin_v4(&d, buf, sizeof(buf));
	ck_assert_int_eq(sflow_dgram_add_counters(&d, &s), 0);
	expect_bytes(buf, sflow_dgram_len(&d), counters_one, sizeof(counters_one));
	ck_assert_int_eq(sflow_validate(buf, sflow_dgram_len(&d)), 1);
	expect_truncations_rejected(counters_one, sizeof(counters_one));
}
END_TEST

START_TEST(counters_expanded)
{
	uint8_t buf[256];
	struct sflow_datagram d;
	struct sflow_counter_sample s = counters();
	static const uint8_t compact_rest[] = { COUNTERS_BYTES };

	s.source_index = 1u << 30;
	begin_v4(&d, buf, sizeof(buf));
	ck_assert_int_eq(sflow_dgram_add_counters(&d, &s), 0);
	ck_assert_uint_eq(sflow_dgram_len(&d), 28 + 120);
	expect_bytes(buf + 28, sizeof(counters_expanded_prefix),
		     counters_expanded_prefix, sizeof(counters_expanded_prefix));
	/* The 88-byte record is the same as in the compact sample. */
	expect_bytes(buf + 28 + 32, 88, compact_rest + 28, 88);
	ck_assert_int_eq(sflow_validate(buf, sflow_dgram_len(&d)), 1);
	expect_truncations_rejected(buf, sflow_dgram_len(&d));
}
END_TEST

START_TEST(two_samples)
{
	uint8_t buf[512];
	struct sflow_datagram d;
	struct sflow_flow_sample f = compact_flow();
	struct sflow_counter_sample c = counters();

	begin_v4(&d, buf, sizeof(buf));
	ck_assert_int_eq(sflow_dgram_add_flow(&d, &f), 0);
	/* Already a valid one-sample datagram before the second add. */
	ck_assert_int_eq(sflow_validate(buf, sflow_dgram_len(&d)), 1);
	ck_assert_int_eq(sflow_dgram_add_counters(&d, &c), 0);
	expect_bytes(buf, sflow_dgram_len(&d), flow_then_counters, sizeof(flow_then_counters));
	ck_assert_int_eq(sflow_validate(buf, sflow_dgram_len(&d)), 2);
	expect_truncations_rejected(flow_then_counters, sizeof(flow_then_counters));
}
END_TEST

START_TEST(full_leaves_buffer_untouched)
{
	uint8_t buf[256], before[256];
	struct sflow_datagram d;
	struct sflow_flow_sample f = compact_flow();
	struct sflow_counter_sample c = counters();

	memset(buf, 0xaa, sizeof(buf));
	begin_v4(&d, buf, sizeof(flow_compact) - 1);
	memcpy(before, buf, sizeof(buf));
	ck_assert_int_eq(sflow_dgram_add_flow(&d, &f), -1);
	ck_assert_int_eq(sflow_dgram_add_counters(&d, &c), -1);
	ck_assert_mem_eq(buf, before, sizeof(buf));
	ck_assert_uint_eq(sflow_dgram_len(&d), 28);
	ck_assert_uint_eq(d.nsamples, 0);
	ck_assert_int_eq(sflow_validate(buf, sflow_dgram_len(&d)), 0);

	/* One more byte and it fits exactly. */
	begin_v4(&d, buf, sizeof(flow_compact));
	ck_assert_int_eq(sflow_dgram_add_flow(&d, &f), 0);
	expect_bytes(buf, sflow_dgram_len(&d), flow_compact, sizeof(flow_compact));
	ck_assert_int_eq(sflow_dgram_add_counters(&d, &c), -1);
	ck_assert_uint_eq(buf[27], 1);
}
END_TEST

START_TEST(cap_below_header)
{
	uint8_t buf[64];
	struct sflow_datagram d;
	struct sflow_counter_sample c = counters();

	memset(buf, 0xaa, sizeof(buf));
	begin_v4(&d, buf, 27);
	ck_assert_uint_eq(sflow_dgram_len(&d), 0);
	ck_assert_int_eq(sflow_dgram_add_counters(&d, &c), -1);
	ck_assert_uint_eq(buf[0], 0xaa);
}
END_TEST

START_TEST(oversized_header_refused)
{
	static uint8_t big[HF_MAX_HEADER + 1];
	uint8_t buf[1024];
	struct sflow_datagram d;
	struct sflow_flow_sample f = compact_flow();

	f.header = big;
	f.header_len = sizeof(big);
	begin_v4(&d, buf, sizeof(buf));
	ck_assert_int_eq(sflow_dgram_add_flow(&d, &f), -1);
	ck_assert_uint_eq(sflow_dgram_len(&d), 28);
	f.header_len = HF_MAX_HEADER;
	ck_assert_int_eq(sflow_dgram_add_flow(&d, &f), 0);
	ck_assert_int_eq(sflow_validate(buf, sflow_dgram_len(&d)), 1);
}
END_TEST

START_TEST(sizes)
{
	struct sflow_flow_sample f = compact_flow();
	struct sflow_counter_sample c = counters();

	f.header_len = 0;
	ck_assert_uint_eq(sflow_flow_sample_size(&f), 64);
	f.header_len = 1;
	ck_assert_uint_eq(sflow_flow_sample_size(&f), 68);
	f.header_len = 4;
	ck_assert_uint_eq(sflow_flow_sample_size(&f), 68);
	f.header_len = 14;
	ck_assert_uint_eq(sflow_flow_sample_size(&f), 80);
	f.header_len = 128;
	ck_assert_uint_eq(sflow_flow_sample_size(&f), 192);
	f.source_index = 1u << 24;
	f.header_len = HF_MAX_HEADER;
	ck_assert_uint_eq(sflow_flow_sample_size(&f), 76 + 256);
	ck_assert_uint_eq(sflow_counter_sample_size(&c), 116);
	c.source_index = (1u << 24) - 1;
	ck_assert_uint_eq(sflow_counter_sample_size(&c), 116);
	c.source_index = 1u << 24;
	ck_assert_uint_eq(sflow_counter_sample_size(&c), 120);
	{
		struct sflow_router r4 = { { AF_INET, { 0 } }, 0, 0 }, r6 = r4, r0 = r4;

		r6.nexthop.family = AF_INET6;
		r0.nexthop.family = 0;
		f.router = &r4;
		ck_assert_uint_eq(sflow_flow_sample_size(&f), 76 + 256 + 24);
		f.router = &r0;
		ck_assert_uint_eq(sflow_flow_sample_size(&f), 76 + 256 + 24);
		f.router = &r6;
		ck_assert_uint_eq(sflow_flow_sample_size(&f), 76 + 256 + 36);
	}
	/* The header's promise: an IPv6 header plus the largest flow sample. */
	ck_assert_uint_le(40 + 76 + HF_MAX_HEADER + 36, SFLOW_MIN_DATAGRAM);
}
END_TEST

/* Rewrites the 32-bit word at byte offset off of a copy and validates it. */
static int validate_with_word(const uint8_t *src, size_t len, size_t off, uint32_t v)
{
	uint8_t copy[512];

	ck_assert_uint_le(len, sizeof(copy));
	memcpy(copy, src, len);
	copy[off] = (uint8_t)(v >> 24);
	copy[off + 1] = (uint8_t)(v >> 16);
	copy[off + 2] = (uint8_t)(v >> 8);
	copy[off + 3] = (uint8_t)v;
	return sflow_validate(copy, len);
}

START_TEST(validate_rejects_bad_fields)
{
	const uint8_t *fc = flow_compact;
	size_t n = sizeof(flow_compact);
	uint8_t longer[sizeof(flow_then_counters) + 4] = { 0 };

	ck_assert_int_eq(validate_with_word(fc, n, 0, 4), -1);		/* version 4 */
	ck_assert_int_eq(validate_with_word(fc, n, 4, 0), -1);		/* address UNKNOWN */
	ck_assert_int_eq(validate_with_word(fc, n, 4, 3), -1);		/* address type 3 */
	ck_assert_int_eq(validate_with_word(fc, n, 24, 2), -1);	/* num_samples too high */
	ck_assert_int_eq(validate_with_word(fc, n, 24, 0), -1);	/* too low: trailing bytes */
	ck_assert_int_eq(validate_with_word(fc, n, 24, 0xffffffff), -1);
	ck_assert_int_eq(validate_with_word(fc, n, 28, 5), -1);	/* unknown sample format */
	ck_assert_int_eq(validate_with_word(fc, n, 28, 0x1000 | 1), -1); /* enterprise 1 */
	ck_assert_int_eq(validate_with_word(fc, n, 32, 0x44), -1);	/* sample length -4 */
	ck_assert_int_eq(validate_with_word(fc, n, 32, 0x4c), -1);	/* sample length +4 */
	ck_assert_int_eq(validate_with_word(fc, n, 32, 0x49), -1);	/* not a multiple of 4 */
	ck_assert_int_eq(validate_with_word(fc, n, 32, 0xfffffff8), -1);
	ck_assert_int_eq(validate_with_word(fc, n, 40, 0x01000003), -1); /* source type 1 */
	ck_assert_int_eq(validate_with_word(fc, n, 56, 0xc0000001), -1); /* input format 3 */
	ck_assert_int_eq(validate_with_word(fc, n, 64, 2), -1);	/* two records, one there */
	ck_assert_int_eq(validate_with_word(fc, n, 64, 0), -1);	/* record left over */
	ck_assert_int_eq(validate_with_word(fc, n, 68, 2), -1);	/* record format 2 */
	ck_assert_int_eq(validate_with_word(fc, n, 72, 0x1c), -1);	/* record length -4 */
	ck_assert_int_eq(validate_with_word(fc, n, 72, 0x24), -1);	/* record length +4 */
	ck_assert_int_eq(validate_with_word(fc, n, 88, 0x11), -1);	/* header length 17 */
	ck_assert_int_eq(validate_with_word(fc, n, 88, 0x0c), -1);	/* header length 12 */
	ck_assert_int_eq(validate_with_word(fc, n, 88, 0xffffffff), -1);
	ck_assert_int_eq(validate_with_word(fc, n, 104, 0x08000100), -1); /* padding not zero */
	/* Sanity: the same helper with the original word accepts. */
	ck_assert_int_eq(validate_with_word(fc, n, 88, 0x0e), 1);
	ck_assert_int_eq(validate_with_word(fc, n, 60, 0x80000002), 1); /* "multiple" is legal */

	n = sizeof(counters_one);
	ck_assert_int_eq(validate_with_word(counters_one, n, 52, 0x54), -1); /* record 84 */
	ck_assert_int_eq(validate_with_word(counters_one, n, 48, 2), -1);	/* record format 2 */

	memcpy(longer, flow_then_counters, sizeof(flow_then_counters));
	ck_assert_int_eq(sflow_validate(longer, sizeof(longer)), -1);	/* trailing zeros */
	ck_assert_int_eq(sflow_validate(NULL, 0), -1);
}
END_TEST

START_TEST(router_record_v4)
{
	uint8_t buf[256];
	struct sflow_datagram d;
	struct sflow_flow_sample s = compact_flow();
	struct sflow_router r = { { AF_INET, { 198, 18, 2, 2 } }, 24, 16 };

	s.input = 2;
	s.router = &r;
	ck_assert_uint_eq(sflow_flow_sample_size(&s), 8 + 0x60);
	begin_v4(&d, buf, sizeof(buf));
	ck_assert_int_eq(sflow_dgram_add_flow(&d, &s), 0);
	expect_bytes(buf, sflow_dgram_len(&d), flow_router_v4, sizeof(flow_router_v4));
	ck_assert_int_eq(sflow_validate(buf, sflow_dgram_len(&d)), 1);
	expect_truncations_rejected(flow_router_v4, sizeof(flow_router_v4));
}
END_TEST

START_TEST(router_record_v6)
{
	uint8_t buf[256];
	struct sflow_datagram d;
	struct sflow_flow_sample s = compact_flow();
	struct sflow_router r = {
		{ AF_INET6, { 0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2 } },
		64, 48,
	};

	s.input = 2;
	s.router = &r;
	ck_assert_uint_eq(sflow_flow_sample_size(&s), 8 + 0x6c);
	begin_v4(&d, buf, sizeof(buf));
	ck_assert_int_eq(sflow_dgram_add_flow(&d, &s), 0);
	expect_bytes(buf, sflow_dgram_len(&d), flow_router_v6, sizeof(flow_router_v6));
	ck_assert_int_eq(sflow_validate(buf, sflow_dgram_len(&d)), 1);
	expect_truncations_rejected(flow_router_v6, sizeof(flow_router_v6));
}
END_TEST

/* An unknown next hop is sent as IPv4 0.0.0.0, never as address type 0,
 * which goflow2 refuses along with the whole datagram. */
START_TEST(router_unknown_nexthop)
{
	uint8_t buf[256];
	struct sflow_datagram d;
	struct sflow_flow_sample s = compact_flow();
	struct sflow_router r = { { 0 }, 0, 0 };
	static const uint8_t want[] = {
		0x00, 0x00, 0x03, 0xea, 0x00, 0x00, 0x00, 0x10,
		0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};

	s.router = &r;
	begin_v4(&d, buf, sizeof(buf));
	ck_assert_int_eq(sflow_dgram_add_flow(&d, &s), 0);
	ck_assert_uint_eq(sflow_dgram_len(&d), sizeof(flow_router_v4));
	expect_bytes(buf + sizeof(flow_router_v4) - sizeof(want), sizeof(want), want, sizeof(want));
	ck_assert_int_eq(sflow_validate(buf, sflow_dgram_len(&d)), 1);
}
END_TEST

/* Expanded samples carry the record the same way, after the raw header. */
START_TEST(router_record_expanded)
{
	uint8_t buf[256];
	struct sflow_datagram d;
	struct sflow_flow_sample s = expanded_flow();
	struct sflow_router r = { { AF_INET, { 198, 18, 2, 2 } }, 24, 16 };
	size_t n = sizeof(flow_expanded);

	s.router = &r;
	begin_v4(&d, buf, sizeof(buf));
	ck_assert_int_eq(sflow_dgram_add_flow(&d, &s), 0);
	ck_assert_uint_eq(sflow_dgram_len(&d), n + 24);
	/* sample length 76 + 24, two records, then the expanded bytes as before */
	ck_assert_uint_eq(buf[28 + 7], 100);
	ck_assert_uint_eq(buf[28 + 8 + 44 - 1], 2);
	expect_bytes(buf + 28 + 8 + 44, n - 28 - 8 - 44, flow_expanded + 28 + 8 + 44,
		     n - 28 - 8 - 44);
	expect_bytes(buf + n, 24, flow_router_v4 + sizeof(flow_router_v4) - 24, 24);
	ck_assert_int_eq(sflow_validate(buf, sflow_dgram_len(&d)), 1);
	expect_truncations_rejected(buf, sflow_dgram_len(&d));
}
END_TEST

START_TEST(router_masks_refused)
{
	uint8_t buf[256];
	struct sflow_datagram d;
	struct sflow_flow_sample s = compact_flow();
	struct sflow_router r = { { AF_INET, { 198, 18, 2, 2 } }, 33, 16 };

	s.router = &r;
	begin_v4(&d, buf, sizeof(buf));
	ck_assert_int_eq(sflow_dgram_add_flow(&d, &s), -1);
	r.src_mask_len = 32;
	r.dst_mask_len = 33;
	ck_assert_int_eq(sflow_dgram_add_flow(&d, &s), -1);
	r.nexthop.family = 0;
	ck_assert_int_eq(sflow_dgram_add_flow(&d, &s), -1);
	ck_assert_uint_eq(sflow_dgram_len(&d), 28);
	r.nexthop.family = AF_INET6;
	r.dst_mask_len = 128;
	ck_assert_int_eq(sflow_dgram_add_flow(&d, &s), 0);
	r.dst_mask_len = 129;
	ck_assert_int_eq(sflow_dgram_add_flow(&d, &s), -1);
	ck_assert_int_eq(sflow_validate(buf, sflow_dgram_len(&d)), 1);
}
END_TEST

START_TEST(router_validate_rejects)
{
	const uint8_t *f4 = flow_router_v4, *f6 = flow_router_v6;
	size_t n4 = sizeof(flow_router_v4), n6 = sizeof(flow_router_v6);
	size_t r4 = n4 - 24, r6 = n6 - 36;	/* where the router records start */
	uint8_t dup[sizeof(flow_router_v4) + 24];

	ck_assert_int_eq(validate_with_word(f4, n4, r4 + 8, 0), -1);	/* address UNKNOWN */
	ck_assert_int_eq(validate_with_word(f4, n4, r4 + 8, 2), -1);	/* IPv6 in 16 bytes */
	ck_assert_int_eq(validate_with_word(f4, n4, r4 + 8, 3), -1);
	ck_assert_int_eq(validate_with_word(f4, n4, r4 + 4, 0x14), -1);	/* length +4 */
	ck_assert_int_eq(validate_with_word(f4, n4, r4 + 4, 0x0c), -1);	/* length -4 */
	ck_assert_int_eq(validate_with_word(f4, n4, r4 + 16, 33), -1);	/* src mask > 32 */
	ck_assert_int_eq(validate_with_word(f4, n4, r4 + 20, 33), -1);	/* dst mask > 32 */
	ck_assert_int_eq(validate_with_word(f4, n4, r4 + 20, 32), 1);
	ck_assert_int_eq(validate_with_word(f4, n4, r4, 1003), -1);	/* another format */
	ck_assert_int_eq(validate_with_word(f4, n4, r4, 1), -1);	/* a second raw header */
	ck_assert_int_eq(validate_with_word(f4, n4, 64, 1), -1);	/* count 1, record left */
	ck_assert_int_eq(validate_with_word(f4, n4, 64, 3), -1);
	ck_assert_int_eq(validate_with_word(f6, n6, r6 + 8, 1), -1);	/* IPv4 in 28 bytes */
	ck_assert_int_eq(validate_with_word(f6, n6, r6 + 28, 129), -1);
	ck_assert_int_eq(validate_with_word(f6, n6, r6 + 32, 128), 1);
	/* Two router records (the sample and count grown to match). */
	memcpy(dup, f4, n4);
	memcpy(dup + n4, f4 + r4, 24);
	ck_assert_int_eq(validate_with_word(dup, sizeof(dup), 32, 0x60 + 24), -1);
	dup[32 + 3] = 0x60 + 24;
	dup[64 + 3] = 3;
	ck_assert_int_eq(sflow_validate(dup, sizeof(dup)), -1);
	/* A router record alone, without the raw header, is not ours either. */
	{
		uint8_t alone[28 + 8 + 32 + 24];

		memcpy(alone, f4, 28 + 8 + 32);
		memcpy(alone + 28 + 8 + 32, f4 + r4, 24);
		alone[32 + 3] = 32 + 24;	/* sample length */
		alone[64 + 3] = 1;		/* one record */
		ck_assert_int_eq(sflow_validate(alone, sizeof(alone)), -1);
		/* the same bytes with the raw header's tag would be a bad header */
		ck_assert_int_eq(sflow_validate(f4, n4), 1);
	}
}
END_TEST

/* Random mutations of a valid datagram: the validator must return without
 * reading outside the heap copy (run under valgrind or ASan to see it). */
START_TEST(validate_survives_mutations)
{
	uint32_t x = 0x12345678;
	int i, accepted = 0;

	for (i = 0; i < 20000; i++) {
		size_t len = sizeof(flow_then_counters);
		uint8_t *copy;
		int k;

		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		if (x & 1)
			len -= (x >> 8) % len;
		copy = malloc(len);
		ck_assert_ptr_nonnull(copy);
		memcpy(copy, flow_then_counters, len);
		for (k = 0; k < 4; k++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			copy[(x >> 4) % len] ^= (uint8_t)(1u << (x & 7));
		}
		if (sflow_validate(copy, len) >= 0)
			accepted++;
		free(copy);
	}
	/* Flips inside values (rate, counters, header bytes) stay valid; a
	 * validator that rejected everything would be useless. */
	ck_assert_int_gt(accepted, 0);
}
END_TEST

/* Optional cross-check with an independent decoder: tshark reads a pcap
 * holding the datagram in Ethernet/IPv4/UDP to port 6343. */
static void write_pcap(FILE *f, const uint8_t *dg, size_t len)
{
	static const uint8_t ghdr[24] = {
		0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff, 0, 0, 1, 0, 0, 0,	/* snaplen 65535, Ethernet */
	};
	uint8_t pkt[14 + 20 + 8 + 512] = {
		2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00,
	};
	uint8_t *ip = pkt + 14, *udp = ip + 20;
	uint32_t plen = (uint32_t)(14 + 20 + 8 + len), rec[4] = { 0, 0, plen, plen };
	uint32_t sum = 0;
	int i;

	ck_assert_uint_le(len, 512);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + 8 + len) >> 8);
	ip[3] = (uint8_t)(20 + 8 + len);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, (const uint8_t[]){ 192, 0, 2, 1, 192, 0, 2, 2 }, 8);
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (uint8_t)(~sum >> 8);
	ip[11] = (uint8_t)~sum;
	udp[0] = 0x18, udp[1] = 0xc7;		/* 6343 */
	udp[2] = 0x18, udp[3] = 0xc7;
	udp[4] = (uint8_t)((8 + len) >> 8);
	udp[5] = (uint8_t)(8 + len);
	memcpy(udp + 8, dg, len);
	fwrite(ghdr, 1, sizeof(ghdr), f);
	fwrite(rec, 1, sizeof(rec), f);		/* little-endian host, as the magic says */
	fwrite(pkt, 1, plen, f);
}

/* tshark's fields (-T fields, ';' between fields, '+' between repeats) for
 * one datagram; 0, or -1 when tshark is not installed. */
static int tshark_fields(const uint8_t *dg, size_t len, const char *fields,
			 char *out, size_t outlen)
{
	char dir[] = "/tmp/check_sflow_XXXXXX", path[64], cmd[768];
	FILE *f, *p;
	size_t n;

	if (system("command -v tshark >/dev/null 2>&1") != 0)
		return -1;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dg.pcap", dir);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	write_pcap(f, dg, len);
	ck_assert_int_eq(fclose(f), 0);
	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s -d udp.port==6343,sflow -T fields -E separator=';' -E aggregator=+ "
		 "%s 2>/dev/null", path, fields);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	pclose(p);
	unlink(path);
	rmdir(dir);
	return 0;
}

START_TEST(tshark_decodes)
{
	char out[4096];

	if (tshark_fields(flow_then_counters, sizeof(flow_then_counters),
			  "-e sflow_245.version -e sflow_245.numsamples -e sflow_245.sampletype "
			  "-e sflow_245.header_protocol -e sflow_245.ifindex "
			  "-e sflow_245.ifinoct -e sflow_245.ifoutoct -e _ws.malformed",
			  out, sizeof(out)) < 0) {
		hf_skip(__func__, "tshark not installed");
		return;
	}
	/* version; samples; sample formats; Ethernet; ifIndex; the two 64-bit
	 * octet counters; and an empty "malformed" field. */
	ck_assert_str_eq(out, "5;2;1+2;1;4;4886718345;40926266145;\n");
}
END_TEST

/* The extended_router records as Wireshark reads them (Akvorado's goflow2
 * reads the same three fields into NextHop, SrcNetMask and DstNetMask). */
START_TEST(tshark_decodes_router)
{
	uint8_t buf[512];
	char out[4096];
	struct sflow_datagram d;
	struct sflow_flow_sample s = compact_flow();
	struct sflow_router r4 = { { AF_INET, { 198, 18, 2, 2 } }, 24, 16 };
	struct sflow_router r6 = {
		{ AF_INET6, { 0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2 } },
		64, 48,
	};

	begin_v4(&d, buf, sizeof(buf));
	s.router = &r4;
	ck_assert_int_eq(sflow_dgram_add_flow(&d, &s), 0);
	s.router = &r6;
	ck_assert_int_eq(sflow_dgram_add_flow(&d, &s), 0);
	ck_assert_int_eq(sflow_validate(buf, sflow_dgram_len(&d)), 2);
	if (tshark_fields(buf, sflow_dgram_len(&d),
			  "-e sflow_245.numsamples -e sflow_245.flow_record_format "
			  "-e sflow_245.nexthop -e sflow_245.nexthop.v6 "
			  "-e sflow_245.nexthop.src_mask -e sflow_245.nexthop.dst_mask "
			  "-e _ws.malformed", out, sizeof(out)) < 0) {
		hf_skip(__func__, "tshark not installed");
		return;
	}
	ck_assert_str_eq(out, "2;1+1002+1+1002;198.18.2.2;fd7a:115c:a1e0:2::2;24+64;16+48;\n");
}
END_TEST

static Suite *sflow_suite(void)
{
	Suite *s = suite_create("sflow_encode");
	TCase *tc = tcase_create("encode");

	tcase_add_test(tc, empty_ipv4);
	tcase_add_test(tc, empty_ipv6);
	tcase_add_test(tc, unset_agent_is_zero_ipv4);
	tcase_add_test(tc, compact_flow_sample);
	tcase_add_test(tc, expanded_flow_sample);
	tcase_add_test(tc, wide_interface_forces_expanded);
	tcase_add_test(tc, counters_sample);
	tcase_add_test(tc, counters_expanded);
	tcase_add_test(tc, two_samples);
	tcase_add_test(tc, full_leaves_buffer_untouched);
	tcase_add_test(tc, cap_below_header);
	tcase_add_test(tc, oversized_header_refused);
	tcase_add_test(tc, sizes);
	tcase_add_test(tc, validate_rejects_bad_fields);
	tcase_add_test(tc, router_record_v4);
	tcase_add_test(tc, router_record_v6);
	tcase_add_test(tc, router_unknown_nexthop);
	tcase_add_test(tc, router_record_expanded);
	tcase_add_test(tc, router_masks_refused);
	tcase_add_test(tc, router_validate_rejects);
	tcase_add_test(tc, validate_survives_mutations);
	suite_add_tcase(s, tc);

	tc = tcase_create("tshark");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, tshark_decodes);
	tcase_add_test(tc, tshark_decodes_router);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hf_run(sflow_suite(), CK_FORK_GETENV);
}
