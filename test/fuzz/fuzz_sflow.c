/* libFuzzer target: the sFlow v5 encoder round trip, and the validator over
 * raw bytes.
 *
 * The input drives a datagram: buffer capacity, agent address, then a list
 * of flow and counter samples whose fields come from the bytes (often from a
 * table of boundary values: 2^24 and 2^30 decide compact vs expanded). The
 * buffer and every sampled header are allocated at their exact size, so ASan
 * sees any write or read past them. Invariants: an add succeeds exactly when
 * the sample fits, grows the datagram by the size function's answer, and
 * sflow_validate() counts every added sample and rejects a truncated copy.
 * Some flow samples carry an extended_router record (op bit 2). */
#include "sflow/core/sflow_encode.h"
#include "sflow_validate.h"
#include "fuzz_check.h"

#include <sys/socket.h>

#define MAX_CAP   9216
#define MAX_OPS   200
#define MAX_HLEN  300     /* beyond HF_MAX_HEADER: adds must refuse it */

struct run {
	struct sflow_datagram d;
	uint8_t *buf;
	size_t cap;
	int added;
};

static uint32_t pick32(struct fuzz_src *s)
{
	static const uint32_t edge[] = {
		0, 1, 2, 0xFFFFFF, 0x1000000, 0x3FFFFFFE, 0x3FFFFFFF,
		0x40000000, 0x7FFFFFFF, 0x80000000, 0xBFFFFFFF, 0xFFFFFFFF,
	};
	uint8_t b = fuzz_u8(s);

	if (b & 1)
		return edge[(b >> 1) % (sizeof edge / sizeof edge[0])];
	return fuzz_u32(s);
}

static uint64_t pick64(struct fuzz_src *s)
{
	uint64_t hi = pick32(s);

	return hi << 32 | pick32(s);
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Checks one add against the size rule; before is where the sample starts. */
static void check_add(struct run *r, int rc, int valid, size_t before, size_t size,
		      uint32_t format)
{
	int fits = valid && before > 0 && size <= r->cap - before;

	FUZZ_CHECK((rc == 0) == fits, "rc %d, len %zu + size %zu, cap %zu, valid %d",
		   rc, before, size, r->cap, valid);
	if (rc) {
		FUZZ_CHECK(r->d.len == before, "failed add changed len");
		return;
	}
	r->added++;
	FUZZ_CHECK(r->d.len == before + size, "len %zu, want %zu", r->d.len, before + size);
	FUZZ_CHECK(r->d.nsamples == (uint32_t)r->added, "nsamples %u", r->d.nsamples);
	FUZZ_CHECK(get32(r->buf + before) == format, "format %u, want %u",
		   get32(r->buf + before), format);
	FUZZ_CHECK(get32(r->buf + before + 4) == size - 8, "sample length");
}

static void add_flow(struct run *r, struct fuzz_src *s, uint8_t op)
{
	struct sflow_flow_sample f = { 0 };
	struct sflow_router router = { 0 };
	uint8_t *hdr = NULL;
	size_t before = r->d.len, size, i;
	int rc, valid, x;

	f.seq = pick32(s);
	f.source_index = pick32(s);
	f.rate = pick32(s);
	f.pool = pick32(s);
	f.drops = pick32(s);
	f.input = pick32(s);
	f.output = pick32(s);
	f.header_protocol = pick32(s);
	f.frame_length = pick32(s);
	f.stripped = pick32(s);
	f.header_len = fuzz_u16(s) % (MAX_HLEN + 1);
	/* Sometimes a length without bytes: the add must refuse it. */
	if (f.header_len && !(op & 2)) {
		hdr = malloc(f.header_len);
		FUZZ_CHECK(hdr != NULL, "malloc");
		for (i = 0; i < f.header_len; i++)
			hdr[i] = fuzz_u8(s);
	}
	f.header = hdr;
	valid = f.header_len <= HF_MAX_HEADER && (!f.header_len || hdr);
	/* Sometimes an extended_router record; masks near the limits. */
	if (op & 4) {
		uint8_t fam = fuzz_u8(s) % 3;
		uint32_t max = fam == 2 ? 128 : 32;

		router.nexthop.family = fam == 1 ? AF_INET : fam == 2 ? AF_INET6 : 0;
		for (i = 0; i < sizeof router.nexthop.a; i++)
			router.nexthop.a[i] = fuzz_u8(s);
		router.src_mask_len = fuzz_u8(s) % 130;
		router.dst_mask_len = fuzz_u8(s) % 130;
		f.router = &router;
		valid = valid && router.src_mask_len <= max && router.dst_mask_len <= max;
	}
	x = f.source_index >= 1u << 24 || f.input >= 1u << 30 || f.output >= 1u << 30;
	size = sflow_flow_sample_size(&f);
	rc = sflow_dgram_add_flow(&r->d, &f);
	check_add(r, rc, valid, before, size, x ? 3 : 1);
	if (!rc && f.header_len) {
		size_t rlen = f.router ? (router.nexthop.family == AF_INET6 ? 36 : 24) : 0;

		FUZZ_CHECK(!memcmp(r->buf + before + size - rlen - pad4(f.header_len), hdr,
				   f.header_len), "header bytes");
	}
	free(hdr);
}

static void add_counters(struct run *r, struct fuzz_src *s)
{
	struct sflow_counter_sample c = {
		.seq = pick32(s), .source_index = pick32(s), .if_index = pick32(s),
		.if_type = pick32(s), .if_speed = pick64(s), .if_direction = pick32(s),
		.if_status = pick32(s), .in_octets = pick64(s), .in_ucast = pick32(s),
		.in_mcast = pick32(s), .in_bcast = pick32(s), .in_discards = pick32(s),
		.in_errors = pick32(s), .in_unknown = pick32(s), .out_octets = pick64(s),
		.out_ucast = pick32(s), .out_mcast = pick32(s), .out_bcast = pick32(s),
		.out_discards = pick32(s), .out_errors = pick32(s), .promisc = pick32(s),
	};
	size_t before = r->d.len, size = sflow_counter_sample_size(&c);
	int rc = sflow_dgram_add_counters(&r->d, &c);

	check_add(r, rc, 1, before, size, c.source_index >= 1u << 24 ? 4 : 2);
}

static void begin(struct run *r, struct fuzz_src *s)
{
	struct hf_addr agent = { 0 };
	uint8_t b = fuzz_u8(s);
	size_t i;

	/* Mostly realistic sizes; sometimes below the header itself. */
	r->cap = b & 1 ? (size_t)(b >> 1) % 48 :
		 SFLOW_MIN_DATAGRAM + fuzz_u16(s) % (MAX_CAP - SFLOW_MIN_DATAGRAM + 1);
	r->buf = malloc(r->cap ? r->cap : 1);
	FUZZ_CHECK(r->buf != NULL, "malloc");
	b = fuzz_u8(s) % 3;
	agent.family = b == 1 ? AF_INET : b == 2 ? AF_INET6 : 0;
	for (i = 0; i < sizeof agent.a; i++)
		agent.a[i] = fuzz_u8(s);
	sflow_dgram_begin(&r->d, r->buf, r->cap, &agent, pick32(s), pick32(s), pick32(s));
	FUZZ_CHECK(r->d.len == 0 || r->d.len == (b == 2 ? 40u : 28u), "header len %zu",
		   r->d.len);
	FUZZ_CHECK(r->d.len || r->cap < (b == 2 ? 40u : 28u), "cap %zu, no header", r->cap);
}

static void round_trip(const uint8_t *data, size_t size)
{
	struct fuzz_src s = { data, size };
	struct run r = { 0 };
	int ops = 0, n;

	begin(&r, &s);
	while (s.left && ops++ < MAX_OPS) {
		uint8_t op = fuzz_u8(&s);

		if (op & 1)
			add_counters(&r, &s);
		else
			add_flow(&r, &s, op);
	}
	if (!r.d.len) {
		FUZZ_CHECK(r.added == 0, "samples without a header");
	} else {
		n = sflow_validate(r.buf, r.d.len);
		FUZZ_CHECK(n == r.added, "validate %d, added %d", n, r.added);
		FUZZ_CHECK(sflow_validate(r.buf, r.d.len - 4) == -1, "truncated accepted");
		FUZZ_CHECK(get32(r.buf + r.d.nsamples_off) == (uint32_t)r.added, "count");
	}
	free(r.buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int n = sflow_validate(data, size);

	FUZZ_CHECK(n >= -1 && (size_t)(n + 1) <= size / 8 + 1, "validate raw %d", n);
	round_trip(data, size);
	return 0;
}
