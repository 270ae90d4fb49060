/* A strict structural decoder of sFlow v5 datagrams as hostflowd encodes
 * them, for the unit tests and the fuzzer (never linked into the daemon). */
#include "sflow_validate.h"

#include <stddef.h>
#include <stdint.h>

#include "sflow/core/sflow_wire.h"

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* The validator: a cursor that never moves past its end. Every read checks
 * the remaining length first; a failed read poisons the cursor. */
struct rd {
	const uint8_t *p;
	size_t left;
	int bad;
};

static uint32_t rd32(struct rd *r)
{
	uint32_t v;

	if (r->bad || r->left < 4) {
		r->bad = 1;
		return 0;
	}
	v = get32(r->p);
	r->p += 4;
	r->left -= 4;
	return v;
}

static void rd_skip(struct rd *r, size_t n)
{
	if (r->bad || r->left < n) {
		r->bad = 1;
		return;
	}
	r->p += n;
	r->left -= n;
}

/* Splits off a sub-cursor of n bytes (an XDR opaque's body). */
static struct rd rd_sub(struct rd *r, size_t n)
{
	struct rd sub = { r->p, n, 0 };

	if (r->bad || r->left < n || n % 4) {
		r->bad = 1;
		sub.bad = 1;
		sub.left = 0;
		return sub;
	}
	rd_skip(r, n);
	return sub;
}

/* Interface formats 0 (ifIndex), 1 (discarded) and 2 (multiple) exist. */
static int compact_if_ok(uint32_t v)
{
	return (v >> 30) != 3;
}

static int check_raw_header(struct rd *r)
{
	uint32_t hlen, i;
	const uint8_t *bytes;

	rd_skip(r, 12);				/* protocol, frame length, stripped */
	hlen = rd32(r);
	if (r->bad || hlen > r->left || pad4(hlen) != r->left)
		return -1;
	bytes = r->p;
	for (i = hlen; i < r->left; i++)	/* XDR padding is zeros */
		if (bytes[i])
			return -1;
	rd_skip(r, r->left);
	return 0;
}

/* extended_router: an IPv4 or IPv6 next hop (never UNKNOWN, see the header)
 * and mask lengths that fit the address. */
static int check_router(struct rd *r)
{
	uint32_t type = rd32(r), max;

	if (type == SFLOW_ADDR_IP_V4)
		max = 32;
	else if (type == SFLOW_ADDR_IP_V6)
		max = 128;
	else
		return -1;
	rd_skip(r, max / 8);
	if (rd32(r) > max || rd32(r) > max)
		return -1;
	return r->bad || r->left ? -1 : 0;
}

/* A flow sample's records: one raw packet header, optionally one
 * extended_router, each filling its opaque exactly. */
static int check_flow_records(struct rd *r)
{
	uint32_t n = rd32(r), i, seen = 0;

	for (i = 0; i < n && !r->bad; i++) {
		uint32_t tag = rd32(r), len = rd32(r);
		struct rd rec;
		uint32_t bit;

		if (r->bad)
			return -1;
		if (tag == SFLOW_REC_RAW_HEADER)
			bit = 1;
		else if (tag == SFLOW_REC_ROUTER)
			bit = 2;
		else
			return -1;
		if (seen & bit)
			return -1;
		seen |= bit;
		rec = rd_sub(r, len);
		if (rec.bad)
			return -1;
		if (bit == 1 ? check_raw_header(&rec) < 0 : check_router(&rec) < 0)
			return -1;
	}
	return r->bad || r->left || !(seen & 1) ? -1 : 0;
}

/* n records of one enterprise-0 format, each of which must fill its opaque
 * exactly and be fixed_len long. */
static int check_records(struct rd *r, uint32_t format, size_t fixed_len)
{
	uint32_t n = rd32(r), i;

	for (i = 0; i < n && !r->bad; i++) {
		uint32_t tag = rd32(r), len = rd32(r);
		struct rd rec;

		if (r->bad || tag != format)
			return -1;
		rec = rd_sub(r, len);
		if (rec.bad)
			return -1;
		if (len != fixed_len)
			return -1;
	}
	return r->bad || r->left ? -1 : 0;
}

static int check_flow(struct rd *r, int expanded)
{
	uint32_t src, in_fmt = 0, out_fmt = 0, in, out;

	rd32(r);				/* sequence */
	if (expanded && rd32(r) != 0)		/* source type: ifIndex only */
		return -1;
	src = rd32(r);
	if (!expanded && (src >> 24) != 0)
		return -1;
	rd_skip(r, 12);				/* rate, pool, drops */
	if (expanded)
		in_fmt = rd32(r);
	in = rd32(r);
	if (expanded)
		out_fmt = rd32(r);
	out = rd32(r);
	if (r->bad)
		return -1;
	if (expanded ? (in_fmt > 2 || out_fmt > 2) :
	    (!compact_if_ok(in) || !compact_if_ok(out)))
		return -1;
	return check_flow_records(r);
}

static int check_counters(struct rd *r, int expanded)
{
	rd32(r);				/* sequence */
	if (expanded && rd32(r) != 0)
		return -1;
	if (rd32(r) >> 24 && !expanded)
		return -1;
	if (r->bad)
		return -1;
	return check_records(r, SFLOW_REC_GENERIC_IF, SFLOW_GENERIC_IF_LEN);
}

static int check_sample(struct rd *r)
{
	uint32_t tag = rd32(r), len = rd32(r);
	struct rd body;

	if (r->bad)
		return -1;
	body = rd_sub(r, len);
	if (body.bad)
		return -1;
	switch (tag) {
	case SFLOW_FMT_FLOW:
		return check_flow(&body, 0);
	case SFLOW_FMT_FLOW_EXPANDED:
		return check_flow(&body, 1);
	case SFLOW_FMT_COUNTERS:
		return check_counters(&body, 0);
	case SFLOW_FMT_COUNTERS_EXPANDED:
		return check_counters(&body, 1);
	default:
		return -1;
	}
}

int sflow_validate(const uint8_t *buf, size_t len)
{
	struct rd r = { buf, buf ? len : 0, 0 };
	uint32_t type, n, i;

	if (rd32(&r) != SFLOW_VERSION)
		return -1;
	type = rd32(&r);
	if (type == SFLOW_ADDR_IP_V4)
		rd_skip(&r, 4);
	else if (type == SFLOW_ADDR_IP_V6)
		rd_skip(&r, 16);
	else
		return -1;
	rd_skip(&r, 12);			/* sub-agent, sequence, uptime */
	n = rd32(&r);
	/* Each sample takes at least 8 bytes: a larger count cannot be true. */
	if (r.bad || n > r.left / 8)
		return -1;
	for (i = 0; i < n; i++)
		if (check_sample(&r) < 0)
			return -1;
	if (r.bad || r.left)
		return -1;
	return (int)n;
}
