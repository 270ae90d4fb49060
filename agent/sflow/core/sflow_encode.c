/* sFlow v5 encoder and strict validator (sflow.org/sflow_version_5.txt).
 *
 * Every add computes the sample's size first and writes only when it fits,
 * so the writers below never check bounds: the size functions are the single
 * place where the layout's length is decided, and the unit tests pin both
 * against hand-worked bytes. */
#include "sflow/core/sflow_encode.h"

#include <string.h>
#include <sys/socket.h>

#define SFLOW_VERSION          5
#define ADDR_IP_V4             1
#define ADDR_IP_V6             2
#define FMT_FLOW               1   /* enterprise 0 */
#define FMT_COUNTERS           2
#define FMT_FLOW_EXPANDED      3
#define FMT_COUNTERS_EXPANDED  4
#define REC_RAW_HEADER         1   /* flow record, enterprise 0 */
#define REC_ROUTER             1002 /* extended_router, flow record, enterprise 0 */
#define REC_GENERIC_IF         1   /* counter record, enterprise 0 */
#define GENERIC_IF_LEN         88
#define COMPACT_SOURCE_LIMIT   (1u << 24)
#define COMPACT_IF_LIMIT       (1u << 30)
#define HDR_V4_LEN             28
#define HDR_V6_LEN             40
#define FLOW_BODY_LEN          32  /* compact, up to and including the record count */
#define FLOW_X_BODY_LEN        44
#define CTR_BODY_LEN           12
#define CTR_X_BODY_LEN         16
#define RAW_HDR_FIXED          16  /* protocol, frame length, stripped, header length */
#define ROUTER_V4_LEN          16  /* address type, 4 bytes, two mask lengths */
#define ROUTER_V6_LEN          28

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	p = put32(p, (uint32_t)(v >> 32));
	return put32(p, (uint32_t)v);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Compact encodings put the source type in the top 8 bits and the interface
 * format in the top 2: values that do not fit need the expanded sample.
 * SFLOW_IF_INTERNAL is itself a legal 30-bit value. */
static int flow_is_expanded(const struct sflow_flow_sample *s)
{
	return s->source_index >= COMPACT_SOURCE_LIMIT ||
	       s->input >= COMPACT_IF_LIMIT || s->output >= COMPACT_IF_LIMIT;
}

static int counters_are_expanded(const struct sflow_counter_sample *s)
{
	return s->source_index >= COMPACT_SOURCE_LIMIT;
}

static size_t router_len(const struct sflow_router *r)
{
	return r->nexthop.family == AF_INET6 ? ROUTER_V6_LEN : ROUTER_V4_LEN;
}

size_t sflow_flow_sample_size(const struct sflow_flow_sample *s)
{
	size_t body = flow_is_expanded(s) ? FLOW_X_BODY_LEN : FLOW_BODY_LEN;
	size_t router = s->router ? 8 + router_len(s->router) : 0;

	return 8 + body + 8 + RAW_HDR_FIXED + pad4(s->header_len) + router;
}

size_t sflow_counter_sample_size(const struct sflow_counter_sample *s)
{
	size_t body = counters_are_expanded(s) ? CTR_X_BODY_LEN : CTR_BODY_LEN;

	return 8 + body + 8 + GENERIC_IF_LEN;
}

void sflow_dgram_begin(struct sflow_datagram *d, uint8_t *buf, size_t cap,
		       const struct hf_addr *agent, uint32_t sub_agent_id,
		       uint32_t seq, uint32_t uptime_ms)
{
	int v6 = agent && agent->family == AF_INET6;
	size_t hlen = v6 ? HDR_V6_LEN : HDR_V4_LEN;
	uint8_t *p = buf;

	memset(d, 0, sizeof(*d));
	d->buf = buf;
	/* A buffer too small for the header takes no samples either: len 0
	 * tells the caller there is nothing to send. */
	if (!buf || cap < hlen)
		return;
	d->cap = cap;
	p = put32(p, SFLOW_VERSION);
	/* An unset agent address is sent as 0.0.0.0 rather than as type
	 * UNKNOWN: collectors key exporters by this address and several
	 * reject the UNKNOWN type outright. */
	p = put32(p, v6 ? ADDR_IP_V6 : ADDR_IP_V4);
	if (v6) {
		memcpy(p, agent->a, 16);
		p += 16;
	} else if (agent && agent->family == AF_INET) {
		memcpy(p, agent->a, 4);
		p += 4;
	} else {
		p = put32(p, 0);
	}
	p = put32(p, sub_agent_id);
	p = put32(p, seq);
	p = put32(p, uptime_ms);
	d->nsamples_off = (size_t)(p - buf);
	put32(p, 0);
	d->len = hlen;
}

/* Reserves size bytes at the end of d, or NULL when they do not fit. */
static uint8_t *dgram_reserve(const struct sflow_datagram *d, size_t size)
{
	if (!d->buf || d->len == 0 || d->len > d->cap || size > d->cap - d->len)
		return NULL;
	return d->buf + d->len;
}

static void dgram_commit(struct sflow_datagram *d, size_t size)
{
	d->len += size;
	d->nsamples++;
	put32(d->buf + d->nsamples_off, d->nsamples);
}

static uint8_t *put_raw_header(uint8_t *p, const struct sflow_flow_sample *s)
{
	size_t padded = pad4(s->header_len);

	p = put32(p, REC_RAW_HEADER);
	p = put32(p, (uint32_t)(RAW_HDR_FIXED + padded));
	p = put32(p, s->header_protocol);
	p = put32(p, s->frame_length);
	p = put32(p, s->stripped);
	p = put32(p, s->header_len);
	if (s->header_len)
		memcpy(p, s->header, s->header_len);
	memset(p + s->header_len, 0, padded - s->header_len);
	return p + padded;
}

/* Mask lengths must fit the next hop's address (IPv4 when unknown). */
static int router_ok(const struct sflow_router *r)
{
	uint32_t max = r->nexthop.family == AF_INET6 ? 128 : 32;

	return r->src_mask_len <= max && r->dst_mask_len <= max;
}

static uint8_t *put_router(uint8_t *p, const struct sflow_router *r)
{
	int v6 = r->nexthop.family == AF_INET6;

	p = put32(p, REC_ROUTER);
	p = put32(p, (uint32_t)router_len(r));
	p = put32(p, v6 ? ADDR_IP_V6 : ADDR_IP_V4);
	if (v6) {
		memcpy(p, r->nexthop.a, 16);
		p += 16;
	} else if (r->nexthop.family == AF_INET) {
		memcpy(p, r->nexthop.a, 4);
		p += 4;
	} else {
		p = put32(p, 0);		/* unknown: 0.0.0.0, see the header */
	}
	p = put32(p, r->src_mask_len);
	return put32(p, r->dst_mask_len);
}

int sflow_dgram_add_flow(struct sflow_datagram *d, const struct sflow_flow_sample *s)
{
	size_t size = sflow_flow_sample_size(s);
	int x = flow_is_expanded(s);
	uint8_t *p;

	if (s->header_len > HF_MAX_HEADER || (s->header_len && !s->header))
		return -1;
	if (s->router && !router_ok(s->router))
		return -1;
	p = dgram_reserve(d, size);
	if (!p)
		return -1;
	p = put32(p, x ? FMT_FLOW_EXPANDED : FMT_FLOW);
	p = put32(p, (uint32_t)(size - 8));
	p = put32(p, s->seq);
	if (x) {
		p = put32(p, 0);		/* source type: ifIndex */
		p = put32(p, s->source_index);
	} else {
		p = put32(p, s->source_index);	/* type 0 in the top byte */
	}
	p = put32(p, s->rate);
	p = put32(p, s->pool);
	p = put32(p, s->drops);
	if (x) {
		/* Format 0 (ifIndex) with the value as served. The spec's
		 * erratum asks for 0xFFFFFFFF as "internal" here, but
		 * Akvorado maps only 0x3FFFFFFF to "local" in both forms
		 * (outlet/flow/decoder/sflow/decode.go); any other value
		 * would be polled as a real ifIndex. */
		p = put32(p, 0);
		p = put32(p, s->input);
		p = put32(p, 0);
		p = put32(p, s->output);
	} else {
		p = put32(p, s->input);
		p = put32(p, s->output);
	}
	p = put32(p, s->router ? 2 : 1);	/* flow records */
	p = put_raw_header(p, s);
	if (s->router)
		put_router(p, s->router);
	dgram_commit(d, size);
	return 0;
}

static uint8_t *put_generic_if(uint8_t *p, const struct sflow_counter_sample *s)
{
	p = put32(p, REC_GENERIC_IF);
	p = put32(p, GENERIC_IF_LEN);
	p = put32(p, s->if_index);
	p = put32(p, s->if_type);
	p = put64(p, s->if_speed);
	p = put32(p, s->if_direction);
	p = put32(p, s->if_status);
	p = put64(p, s->in_octets);
	p = put32(p, s->in_ucast);
	p = put32(p, s->in_mcast);
	p = put32(p, s->in_bcast);
	p = put32(p, s->in_discards);
	p = put32(p, s->in_errors);
	p = put32(p, s->in_unknown);
	p = put64(p, s->out_octets);
	p = put32(p, s->out_ucast);
	p = put32(p, s->out_mcast);
	p = put32(p, s->out_bcast);
	p = put32(p, s->out_discards);
	p = put32(p, s->out_errors);
	return put32(p, s->promisc);
}

int sflow_dgram_add_counters(struct sflow_datagram *d, const struct sflow_counter_sample *s)
{
	size_t size = sflow_counter_sample_size(s);
	int x = counters_are_expanded(s);
	uint8_t *p = dgram_reserve(d, size);

	if (!p)
		return -1;
	p = put32(p, x ? FMT_COUNTERS_EXPANDED : FMT_COUNTERS);
	p = put32(p, (uint32_t)(size - 8));
	p = put32(p, s->seq);
	if (x)
		p = put32(p, 0);		/* source type: ifIndex */
	p = put32(p, s->source_index);
	p = put32(p, 1);			/* one counter record */
	put_generic_if(p, s);
	dgram_commit(d, size);
	return 0;
}

int sflow_dgram_add_raw(struct sflow_datagram *d, const uint8_t *sample, size_t len)
{
	uint8_t *p = dgram_reserve(d, len);

	if (!p || len < 8)
		return -1;
	memcpy(p, sample, len);
	dgram_commit(d, len);
	return 0;
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

	if (type == ADDR_IP_V4)
		max = 32;
	else if (type == ADDR_IP_V6)
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
		if (tag == REC_RAW_HEADER)
			bit = 1;
		else if (tag == REC_ROUTER)
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
	return check_records(r, REC_GENERIC_IF, GENERIC_IF_LEN);
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
	case FMT_FLOW:
		return check_flow(&body, 0);
	case FMT_FLOW_EXPANDED:
		return check_flow(&body, 1);
	case FMT_COUNTERS:
		return check_counters(&body, 0);
	case FMT_COUNTERS_EXPANDED:
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
	if (type == ADDR_IP_V4)
		rd_skip(&r, 4);
	else if (type == ADDR_IP_V6)
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
