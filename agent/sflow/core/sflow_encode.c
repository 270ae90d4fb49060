/* sFlow v5 encoder and strict validator (sflow.org/sflow_version_5.txt).
 *
 * Every add computes the sample's size first and writes only when it fits,
 * so the writers below never check bounds: the size functions are the single
 * place where the layout's length is decided, and the unit tests pin both
 * against hand-worked bytes. */
#include "sflow/core/sflow_encode.h"
#include "sflow/core/sflow_wire.h"

#include <string.h>
#include <sys/socket.h>

/* The wire format's numbers: sflow/core/sflow_wire.h. */

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

/* Compact encodings put the source type in the top 8 bits and the interface
 * format in the top 2: values that do not fit need the expanded sample.
 * SFLOW_IF_INTERNAL is itself a legal 30-bit value. */
static int flow_is_expanded(const struct sflow_flow_sample *s)
{
	return s->source_index >= SFLOW_COMPACT_SOURCE_LIMIT ||
	       s->input >= SFLOW_COMPACT_IF_LIMIT || s->output >= SFLOW_COMPACT_IF_LIMIT;
}

static int counters_are_expanded(const struct sflow_counter_sample *s)
{
	return s->source_index >= SFLOW_COMPACT_SOURCE_LIMIT;
}

static size_t router_len(const struct sflow_router *r)
{
	return r->nexthop.family == AF_INET6 ? SFLOW_ROUTER_V6_LEN : SFLOW_ROUTER_V4_LEN;
}

size_t sflow_flow_sample_size(const struct sflow_flow_sample *s)
{
	size_t body = flow_is_expanded(s) ? SFLOW_FLOW_X_BODY_LEN : SFLOW_FLOW_BODY_LEN;
	size_t router = s->router ? 8 + router_len(s->router) : 0;

	return 8 + body + 8 + SFLOW_RAW_HDR_FIXED + pad4(s->header_len) + router;
}

size_t sflow_counter_sample_size(const struct sflow_counter_sample *s)
{
	size_t body = counters_are_expanded(s) ? SFLOW_CTR_X_BODY_LEN : SFLOW_CTR_BODY_LEN;

	return 8 + body + 8 + SFLOW_GENERIC_IF_LEN;
}

size_t sflow_dgram_header_len(const struct hf_addr *agent)
{
	return agent && agent->family == AF_INET6 ? SFLOW_HDR_V6_LEN : SFLOW_HDR_V4_LEN;
}

void sflow_dgram_put_header(uint8_t *buf, const struct hf_addr *agent, uint32_t sub_agent_id,
			    uint32_t seq, uint32_t uptime_ms, uint32_t nsamples)
{
	int v6 = agent && agent->family == AF_INET6;
	uint8_t *p = buf;

	p = put32(p, SFLOW_VERSION);
	/* An unset agent address is sent as 0.0.0.0 rather than as type
	 * UNKNOWN: collectors key exporters by this address and several
	 * reject the UNKNOWN type outright. */
	p = put32(p, v6 ? SFLOW_ADDR_IP_V6 : SFLOW_ADDR_IP_V4);
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
	put32(p, nsamples);
}

void sflow_dgram_begin(struct sflow_datagram *d, uint8_t *buf, size_t cap,
		       const struct hf_addr *agent, uint32_t sub_agent_id,
		       uint32_t seq, uint32_t uptime_ms)
{
	size_t hlen = sflow_dgram_header_len(agent);

	memset(d, 0, sizeof(*d));
	d->buf = buf;
	/* A buffer too small for the header takes no samples either: len 0
	 * tells the caller there is nothing to send. */
	if (!buf || cap < hlen)
		return;
	d->cap = cap;
	sflow_dgram_put_header(buf, agent, sub_agent_id, seq, uptime_ms, 0);
	d->nsamples_off = hlen - 4;
	d->len = hlen;
}

void sflow_dgram_samples(struct sflow_datagram *d, uint8_t *buf, size_t cap, size_t used,
			 uint32_t nsamples)
{
	memset(d, 0, sizeof(*d));
	d->buf = buf;
	d->cap = buf && used <= cap ? cap : 0;
	d->len = used;
	d->nsamples = nsamples;
}

/* Reserves size bytes at the end of d, or NULL when they do not fit. */
static uint8_t *dgram_reserve(const struct sflow_datagram *d, size_t size)
{
	if (!d->buf || d->len > d->cap || size > d->cap - d->len)
		return NULL;
	return d->buf + d->len;
}

static void dgram_commit(struct sflow_datagram *d, size_t size)
{
	d->len += size;
	d->nsamples++;
	if (d->nsamples_off)
		put32(d->buf + d->nsamples_off, d->nsamples);
}

static uint8_t *put_raw_header(uint8_t *p, const struct sflow_flow_sample *s)
{
	size_t padded = pad4(s->header_len);

	p = put32(p, SFLOW_REC_RAW_HEADER);
	p = put32(p, (uint32_t)(SFLOW_RAW_HDR_FIXED + padded));
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

	p = put32(p, SFLOW_REC_ROUTER);
	p = put32(p, (uint32_t)router_len(r));
	p = put32(p, v6 ? SFLOW_ADDR_IP_V6 : SFLOW_ADDR_IP_V4);
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
	p = put32(p, x ? SFLOW_FMT_FLOW_EXPANDED : SFLOW_FMT_FLOW);
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
	p = put32(p, SFLOW_REC_GENERIC_IF);
	p = put32(p, SFLOW_GENERIC_IF_LEN);
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
	p = put32(p, x ? SFLOW_FMT_COUNTERS_EXPANDED : SFLOW_FMT_COUNTERS);
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
