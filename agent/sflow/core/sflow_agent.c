/* The sFlow agent core (see sflow_agent.h). Samples are encoded as they are
 * taken, once, straight into the datagram that will carry them: a ring of
 * datagram slots, each a header's room and then its samples. A datagram
 * goes when it is full (its header written in front of the samples then,
 * with its sequence number and uptime), or when its oldest sample has
 * waited SFA_FLUSH_AFTER_MS, and only when SNMP can answer for the ifIndex
 * values inside. So holding is not a second path: it is the same ring left
 * to fill, bounded, and a sample that finds no room is never given a
 * sequence number (the sequence stays gapless; its source's drops count it,
 * as sFlow defines drops). Samples are copied again only when what they
 * were laid out for changed while they waited: a smaller path MTU, an agent
 * address of the other family, a reload resizing the ring (copied_samples). */
#include "sflow/core/sflow_agent.h"

#include <stdlib.h>
#include <string.h>
#include <net/if_arp.h>

#include "sflow/core/sflow_encode.h"
#include "sflow/core/sflow_wire.h"
#include "base/util.h"

#define POOL_REFRESH_MS   100   /* the pool is read at most this often per source */
#define QUEUE_MIN_BYTES   (64u << 10) /* the queue when not holding */
/* A slot: room for the largest header (an IPv6 agent's), then the samples
 * of one datagram of at most HF_MAX_DATAGRAM bytes. */
#define SLOT_HEADROOM     SFLOW_HDR_V6_LEN
#define SLOT_BYTES        (SLOT_HEADROOM + HF_MAX_DATAGRAM)

struct source {
	int kindex;
	uint32_t ifindex;
	char name[IFNAMSIZ];
	unsigned arphrd;
	uint32_t iftype, rate;
	uint64_t speed_bps;
	uint8_t admin, oper, promisc, if_direction;
	uint32_t flow_seq, ctr_seq;
	uint64_t pool_base;        /* link packets when the source began */
	uint64_t rejected;         /* packets not samplable here: rate per rejected draw */
	uint64_t pool;             /* sample_pool: never goes back */
	uint32_t drops;
	int64_t pool_read_ms;      /* 0: never */
	int64_t next_poll_ms;
};

/* One datagram of the ring. */
struct slot {
	uint32_t body;            /* bytes of samples */
	uint32_t n;               /* samples */
	int64_t first_ms;         /* when its first sample came */
};

/* What was last asked of the kernel (every port with a rate), and whether
 * it took it. */
struct installed {
	int kindex;
	unsigned arphrd;
	uint32_t rate;
	int filter_id;
	int refused;
};

struct sflow_agent {
	struct sfa_settings set;
	struct sfa_callbacks cb;
	int answerable;

	struct sfa_port *ports;    /* every served interface, sorted by kindex */
	size_t n_ports;
	struct source *src;        /* sampled ones, sorted by kindex */
	size_t n_src;
	struct installed *inst;    /* what the kernel samples, sorted by kindex */
	size_t n_inst;
	int retry_refused;         /* ask the kernel again for what it refused */
	uint32_t ring_drops;       /* not yet given to a sample */

	uint32_t dgram_seq;
	int64_t epoch_ms;          /* uptime 0 of the current agent address */

	/* The ring of datagrams: slots [head, head + used) in use, the last
	 * one open (still taking samples) when open is set. */
	uint8_t *mem;              /* nslots * SLOT_BYTES */
	struct slot *slot;
	size_t nslots, head, used;
	int open;
	struct sflow_datagram fill; /* the open slot's samples */

	struct sfa_stats st;
	uint8_t dgram[HF_MAX_DATAGRAM]; /* a datagram repacked (rare, see above) */
};

/* ---- helpers ---- */

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t link_packets(const struct if_counters *c)
{
	return c->in_ucast + c->in_mcast + c->in_bcast +
	       c->out_ucast + c->out_mcast + c->out_bcast;
}

static int cmp_port(const void *a, const void *b)
{
	const struct sfa_port *x = a, *y = b;

	return (x->kindex > y->kindex) - (x->kindex < y->kindex);
}

static const struct sfa_port *find_port(const struct sflow_agent *a, int kindex)
{
	struct sfa_port key = { .kindex = kindex };

	if (!a->n_ports)
		return NULL;
	return bsearch(&key, a->ports, a->n_ports, sizeof key, cmp_port);
}

static struct source *find_src(const struct sflow_agent *a, int kindex)
{
	size_t lo = 0, hi = a->n_src;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a->src[mid].kindex == kindex)
			return &a->src[mid];
		if (a->src[mid].kindex < kindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct source *find_src_ifindex(struct source *v, size_t n, uint32_t ifindex)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].ifindex == ifindex)
			return &v[i];
	return NULL;
}

static int cmp_inst(const void *x, const void *y)
{
	const struct installed *a = x, *b = y;

	return (a->kindex > b->kindex) - (a->kindex < b->kindex);
}

/* inst is built from sorted ports, so it is sorted too. */
static const struct installed *find_inst(const struct sflow_agent *a, int kindex)
{
	struct installed key = { .kindex = kindex };

	if (!a->n_inst)
		return NULL;
	return bsearch(&key, a->inst, a->n_inst, sizeof key, cmp_inst);
}

/* Served ifIndex of a kernel ifindex; 0 (unknown) when the table has none. */
static uint32_t served(const struct sflow_agent *a, int kindex)
{
	const struct sfa_port *p = find_port(a, kindex);

	return p ? p->ifindex : 0;
}

static int can_send(const struct sflow_agent *a)
{
	return a->answerable || !a->set.hold;
}

static size_t queue_bound(const struct sfa_settings *s)
{
	return s->hold && s->hold_bytes > QUEUE_MIN_BYTES ? s->hold_bytes : QUEUE_MIN_BYTES;
}

/* ---- the ring of datagrams ---- */

static uint8_t *slot_body(const struct sflow_agent *a, size_t i)
{
	return a->mem + i * SLOT_BYTES + SLOT_HEADROOM;
}

/* The payload bound in force: the collectors' path, at most a slot's. */
static size_t max_datagram(const struct sflow_agent *a)
{
	return a->set.max_datagram < HF_MAX_DATAGRAM ? a->set.max_datagram : HF_MAX_DATAGRAM;
}

static size_t slot_nr(const struct sflow_agent *a, size_t k)
{
	return (a->head + k) % a->nslots;
}

/* A datagram whose samples no longer fit the way they were laid out (a
 * smaller path MTU, a longer header): its samples copied into datagrams of
 * the bound in force. A sample larger than any datagram can be is dropped. */
static void repack(struct sflow_agent *a, const struct slot *sl, const uint8_t *body, int64_t now)
{
	size_t off = 0, cap = max_datagram(a);

	while (off < sl->body) {
		struct sflow_datagram d;
		size_t start = off;

		sflow_dgram_begin(&d, a->dgram, cap, &a->set.agent, a->set.sub_agent_id,
				  a->dgram_seq + 1, (uint32_t)(now - a->epoch_ms));
		while (off < sl->body) {
			size_t len = 8 + (size_t)rd32(body + off + 4);

			if (sflow_dgram_add_raw(&d, body + off, len) < 0)
				break;
			off += len;
			a->st.copied_samples++;
		}
		if (off == start) {
			off += 8 + (size_t)rd32(body + off + 4);
			a->st.held_dropped++;
			continue;
		}
		a->dgram_seq++;
		a->st.datagrams++;
		a->cb.send(a->cb.ctx, a->dgram, sflow_dgram_len(&d));
	}
}

/* Sends slot i: its header written in front of its samples, in place. */
static void send_slot(struct sflow_agent *a, size_t i, int64_t now)
{
	const struct slot *sl = &a->slot[i];
	uint8_t *body = slot_body(a, i);
	size_t h = sflow_dgram_header_len(&a->set.agent);

	if (h + sl->body > max_datagram(a)) {
		repack(a, sl, body, now);
		return;
	}
	a->dgram_seq++;
	a->st.datagrams++;
	sflow_dgram_put_header(body - h, &a->set.agent, a->set.sub_agent_id, a->dgram_seq,
			       (uint32_t)(now - a->epoch_ms), sl->n);
	a->cb.send(a->cb.ctx, body - h, h + sl->body);
}

/* The open datagram takes no more samples (an empty one is let go). */
static void close_open(struct sflow_agent *a)
{
	if (!a->open)
		return;
	a->open = 0;
	if (!a->slot[slot_nr(a, a->used - 1)].n)
		a->used--;
}

/* Sends the full datagrams, oldest first; with all, the open one too. */
static void pack(struct sflow_agent *a, int64_t now, int all)
{
	if (all)
		close_open(a);
	while (a->used > (size_t)a->open) {
		send_slot(a, a->head, now);
		a->head = (a->head + 1) % a->nslots;
		a->used--;
	}
	if (!a->used)
		a->head = 0;
}

/* A datagram that takes size more bytes of samples: the open one, or a new
 * one (sending full ones first when SNMP answers). NULL when the ring is
 * full (holding), or when no datagram of the bound in force can take it. */
static struct sflow_datagram *room_for(struct sflow_agent *a, size_t size, int64_t now)
{
	size_t h = sflow_dgram_header_len(&a->set.agent), i;
	size_t room = max_datagram(a) > h ? max_datagram(a) - h : 0;

	if (a->open && a->fill.cap - a->fill.len >= size)
		return &a->fill;
	close_open(a);
	if (can_send(a))
		pack(a, now, 0);
	if (size > room || a->used == a->nslots)
		return NULL;
	i = slot_nr(a, a->used++);
	a->open = 1;
	memset(&a->slot[i], 0, sizeof a->slot[i]);
	a->slot[i].first_ms = now;
	sflow_dgram_samples(&a->fill, slot_body(a, i), room, 0, 0);
	return &a->fill;
}

/* A sample was added to the open datagram: when another like it would not
 * fit, the datagram is full and goes (when SNMP answers). */
static void added(struct sflow_agent *a, size_t size, int64_t now)
{
	struct slot *sl = &a->slot[slot_nr(a, a->used - 1)];

	sl->body = (uint32_t)a->fill.len;
	sl->n = a->fill.nsamples;
	if (a->fill.cap - a->fill.len < size) {
		close_open(a);
		if (can_send(a))
			pack(a, now, 0);
	}
}

/* The oldest queued sample's time, 0 when nothing waits. */
static int64_t oldest_ms(const struct sflow_agent *a)
{
	for (size_t k = 0; k < a->used; k++) {
		const struct slot *sl = &a->slot[slot_nr(a, k)];

		if (sl->n)
			return sl->first_ms;
	}
	return 0;
}

static size_t queued_bytes(const struct sflow_agent *a)
{
	size_t n = 0;

	for (size_t k = 0; k < a->used; k++)
		n += a->slot[slot_nr(a, k)].body;
	return n;
}

/* Slots for a bound of bytes of samples: the datagrams whose samples fit
 * in it; at least two (one filling, one waiting). */
static size_t slots_for(size_t bound)
{
	size_t n = bound / (HF_MAX_DATAGRAM - SFLOW_HDR_V4_LEN);

	return n < 2 ? 2 : n;
}

/* A ring of n slots, the datagrams held moved into it in order. 0, or -1
 * (out of memory: the old ring stays). */
static int ring_resize(struct sflow_agent *a, size_t n)
{
	uint8_t *mem = malloc(n * SLOT_BYTES);
	struct slot *slot = calloc(n, sizeof *slot);

	if (!mem || !slot || a->used > n) {
		free(mem);
		free(slot);
		return -1;
	}
	for (size_t k = 0; k < a->used; k++) {
		size_t i = slot_nr(a, k);

		slot[k] = a->slot[i];
		memcpy(mem + k * SLOT_BYTES + SLOT_HEADROOM, slot_body(a, i), a->slot[i].body);
		a->st.copied_samples += a->slot[i].n;
	}
	free(a->mem);
	free(a->slot);
	a->mem = mem;
	a->slot = slot;
	a->nslots = n;
	a->head = 0;
	if (a->open)
		sflow_dgram_samples(&a->fill, slot_body(a, a->used - 1), a->fill.cap, a->fill.len,
				    a->fill.nsamples);
	return 0;
}

/* ---- samples ---- */

/* The pool: the interface's packets since the source began, less those
 * drawn but not samples here (each stands for `rate` packets). Taken with
 * the counters (the rejections counted by then), and never backwards: the
 * rejections are an estimate, and a collector reads a smaller pool as a
 * wrap. */
static void refresh_pool(struct sflow_agent *a, struct source *s, int64_t now)
{
	struct if_counters c;

	if (s->pool_read_ms && now - s->pool_read_ms < POOL_REFRESH_MS)
		return;
	if (a->cb.counters(a->cb.ctx, s->kindex, &c) == 0) {
		uint64_t seen = link_packets(&c) - s->pool_base;
		uint64_t could = seen > s->rejected ? seen - s->rejected : 0;

		if (could > s->pool)
			s->pool = could;
	}
	s->pool_read_ms = now;
}

/* sFlow's header_protocol, or 0 when the packet cannot be described. */
static uint32_t header_protocol(unsigned arphrd, const struct sfa_frame *f)
{
	if (arphrd == ARPHRD_ETHER || arphrd == ARPHRD_LOOPBACK)
		return SFLOW_HDR_ETHERNET;
	/* No link header (tun, wireguard): the snap starts at the IP header. */
	if (f->caplen < 1)
		return 0;
	switch (f->data[0] >> 4) {
	case 4: return SFLOW_HDR_IPV4;
	case 6: return SFLOW_HDR_IPV6;
	default: return 0;
	}
}

/* Input and output of a sample; 0 when the frame is not to be sampled here
 * (the egress copy of a packet already sampled where it came in). */
static int directions(const struct sflow_agent *a, const struct source *s,
		      const struct sfa_frame *f, struct sflow_flow_sample *fs)
{
	const struct fwd_info *w = f->fwd;

	if (!w || !w->forwarded) {
		/* The host sent it: it came from inside and left through the link. */
		fs->input = f->outgoing ? SFLOW_IF_INTERNAL : s->ifindex;
		fs->output = f->outgoing ? s->ifindex : SFLOW_IF_INTERNAL;
		return 1;
	}
	if (!f->outgoing) {
		fs->input = s->ifindex;
		fs->output = served(a, w->out_kindex);
		return 1;
	}
	if (find_src(a, w->in_kindex))
		return 0;
	fs->input = served(a, w->in_kindex);
	fs->output = s->ifindex;
	return 1;
}

void sfa_frame(struct sflow_agent *a, const struct sfa_frame *f0, int64_t now)
{
	struct source *s = find_src(a, f0->kindex);
	struct sflow_flow_sample fs = { 0 };
	struct sflow_router rt = { 0 };
	struct sflow_datagram *d;
	struct sfa_frame fr;
	const struct sfa_frame *f = &fr;
	struct fwd_info fi;
	size_t size;

	if (!s)
		return;
	fr = *f0;
	fs.header_protocol = header_protocol(s->arphrd, f);
	if (!fs.header_protocol) {
		s->rejected += s->rate;   /* drawn, not a sample here */
		return;
	}
	/* Classified here, after the kernel chose the frame at random: the
	 * classification runs on sampled frames only and cannot bias the choice. */
	if (!fr.fwd && a->cb.classify &&
	    a->cb.classify(a->cb.ctx, f->kindex, s->arphrd, f->outgoing, f->data, f->caplen,
			   now, &fi) == 0 && fi.forwarded)
		fr.fwd = &fi;
	if (!directions(a, s, f, &fs)) {
		s->rejected += s->rate;
		return;
	}
	if (f->fwd && f->fwd->forwarded) {
		rt.nexthop = f->fwd->nexthop;
		/* Unknown (no answer from the kernel): the zero address of the
		 * packet's family, so that an IPv6 prefix length fits beside it
		 * (0.0.0.0 would take at most /32, and the sample be refused). */
		if (!rt.nexthop.family)
			rt.nexthop.family = f->fwd->family;
		rt.src_mask_len = f->fwd->src_len;
		rt.dst_mask_len = f->fwd->dst_len;
		fs.router = &rt;
	}
	s->drops += a->ring_drops;
	a->ring_drops = 0;
	fs.header = f->data;
	fs.header_len = f->caplen < HF_MAX_HEADER ? f->caplen : HF_MAX_HEADER;
	size = sflow_flow_sample_size(&fs);
	d = room_for(a, size, now);
	if (!d) {
		s->drops++;
		a->st.held_dropped++;
		return;
	}
	refresh_pool(a, s, now);
	fs.seq = ++s->flow_seq;
	fs.source_index = s->ifindex;
	fs.rate = s->rate;
	fs.pool = (uint32_t)s->pool;
	fs.drops = s->drops;
	fs.frame_length = f->len;
	if (s->arphrd == ARPHRD_ETHER) {
		/* The spec's frame length counts the FCS that is never captured. */
		fs.frame_length += 4;
		fs.stripped = 4;
	}
	if (sflow_dgram_add_flow(d, &fs) < 0) {
		s->flow_seq--;
		return;
	}
	a->st.flow_samples++;
	added(a, size, now);
}

static void counter_sample(struct sflow_agent *a, struct source *s, int64_t now)
{
	struct sflow_counter_sample cs = { 0 };
	struct if_counters c;
	struct sflow_datagram *d;
	size_t size;

	if (a->cb.counters(a->cb.ctx, s->kindex, &c) < 0)
		return;
	cs.source_index = s->ifindex;
	size = sflow_counter_sample_size(&cs);
	d = room_for(a, size, now);
	if (!d)
		return;   /* counters are cumulative: the next one says it all */
	cs.seq = ++s->ctr_seq;
	cs.source_index = s->ifindex;
	cs.if_index = s->ifindex;
	cs.if_type = s->iftype;
	cs.if_speed = s->speed_bps;
	cs.if_direction = s->if_direction;
	cs.if_status = (s->admin == 1 ? 1u : 0u) | (s->oper == 1 ? 2u : 0u);
	cs.promisc = s->promisc;
	cs.in_octets = c.in_octets;
	cs.in_ucast = (uint32_t)c.in_ucast;
	cs.in_mcast = (uint32_t)c.in_mcast;
	cs.in_bcast = (uint32_t)c.in_bcast;
	cs.in_discards = (uint32_t)c.in_discards;
	cs.in_errors = (uint32_t)c.in_errors;
	cs.in_unknown = (uint32_t)c.in_unknown;
	cs.out_octets = c.out_octets;
	cs.out_ucast = (uint32_t)c.out_ucast;
	cs.out_mcast = (uint32_t)c.out_mcast;
	cs.out_bcast = (uint32_t)c.out_bcast;
	cs.out_discards = (uint32_t)c.out_discards;
	cs.out_errors = (uint32_t)c.out_errors;
	if (sflow_dgram_add_counters(d, &cs) < 0) {
		s->ctr_seq--;
		return;
	}
	a->st.counter_samples++;
	added(a, size, now);
}

/* The first poll of a source lands anywhere in one interval, so that many
 * sources do not all poll in the same second. */
static int64_t first_poll(struct sflow_agent *a, int64_t now)
{
	uint64_t span = (uint64_t)a->set.polling_interval * 1000;

	if (!span)
		return 0;
	return now + 1 + (int64_t)(a->cb.random(a->cb.ctx) % span);
}

/* ---- the sources against the table ---- */

/* Is p[] what was last asked of the kernel? (Refused or not: a refusal
 * is asked again only when what is wanted changes.) */
static int same_install(const struct sflow_agent *a, const struct sfa_port *p, size_t n)
{
	size_t k = 0;

	if (a->retry_refused)
		for (size_t i = 0; i < a->n_inst; i++)
			if (a->inst[i].refused)
				return 0;
	for (size_t i = 0; i < n; i++) {
		const struct installed *in;

		if (!p[i].rate)
			continue;
		in = find_inst(a, p[i].kindex);
		if (!in || in->rate != p[i].rate || in->arphrd != p[i].arphrd ||
		    in->filter_id != p[i].filter_id)
			return 0;
		k++;
	}
	return k == a->n_inst;
}

static int remember_install(struct sflow_agent *a, const struct sfa_port *p, size_t n,
			    const uint8_t *refused)
{
	struct installed *v = calloc(n ? n : 1, sizeof *v);
	size_t k = 0;

	if (!v)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (p[i].rate)
			v[k++] = (struct installed){ p[i].kindex, p[i].arphrd, p[i].rate,
						     p[i].filter_id, refused[i] != 0 };
	free(a->inst);
	a->inst = v;
	a->n_inst = k;
	return 0;
}

/* The sampling in force for port p: its own when the kernel took it, 0 when
 * it refused it; after a failed install, what the kernel was left with. */
static uint32_t rate_in_force(const struct sflow_agent *a, const struct sfa_port *p)
{
	const struct installed *in = find_inst(a, p->kindex);

	return in && !in->refused ? in->rate : 0;
}

static void source_begin(struct sflow_agent *a, struct source *s, int64_t now)
{
	struct if_counters c;

	s->flow_seq = s->ctr_seq = 0;
	s->pool = s->rejected = 0;
	s->drops = 0;
	s->pool_read_ms = 0;
	s->pool_base = a->cb.counters(a->cb.ctx, s->kindex, &c) == 0 ? link_packets(&c) : 0;
	s->next_poll_ms = first_poll(a, now);
}

static void source_from_port(struct source *s, const struct sfa_port *p, uint32_t rate)
{
	s->kindex = p->kindex;
	s->ifindex = p->ifindex;
	hf_strlcpy(s->name, p->name, sizeof s->name);
	s->arphrd = p->arphrd;
	s->iftype = p->iftype;
	s->speed_bps = p->speed_bps;
	s->admin = p->admin;
	s->oper = p->oper;
	s->promisc = p->promisc;
	s->if_direction = p->if_direction;
	s->rate = rate;
}

static int cmp_src(const void *x, const void *y)
{
	const struct source *a = x, *b = y;

	return (a->kindex > b->kindex) - (a->kindex < b->kindex);
}

/* Rebuilds the sources from the ports (rates already those in force). */
static int rebuild_sources(struct sflow_agent *a, int64_t now)
{
	struct source *v = calloc(a->n_ports ? a->n_ports : 1, sizeof *v);
	size_t k = 0;

	if (!v)
		return -1;
	for (size_t i = 0; i < a->n_ports; i++) {
		const struct sfa_port *p = &a->ports[i];
		uint32_t rate = rate_in_force(a, p);
		struct source *old;

		if (!rate)
			continue;
		old = find_src(a, p->kindex);
		if (!old || old->ifindex != p->ifindex)
			old = find_src_ifindex(a->src, a->n_src, p->ifindex);
		if (old)
			v[k] = *old;
		source_from_port(&v[k], p, rate);
		/* Another kernel ifindex under the same ifIndex: a re-created
		 * interface, whose pool is not the old one's continuation. */
		if (!old || old->kindex != p->kindex)
			source_begin(a, &v[k], now);
		k++;
	}
	qsort(v, k, sizeof *v, cmp_src);
	free(a->src);
	a->src = v;
	a->n_src = k;
	a->st.sampled = k;
	return 0;
}

int sfa_sync(struct sflow_agent *a, const struct sfa_port *ports, size_t n, int64_t now,
	     char *why, size_t whylen)
{
	struct sfa_port *v = calloc(n ? n : 1, sizeof *v);
	uint8_t *refused = calloc(n ? n : 1, 1);
	int rc = 0;

	if (!v || !refused) {
		free(v);
		free(refused);
		hf_strlcpy(why, "out of memory", whylen);
		return -1;
	}
	if (n)
		memcpy(v, ports, n * sizeof *v);
	qsort(v, n, sizeof *v, cmp_port);
	if (!same_install(a, v, n)) {
		if (a->cb.install(a->cb.ctx, v, n, refused, why, whylen) == 0)
			rc = remember_install(a, v, n, refused);
		else
			rc = -1;
	}
	a->retry_refused = 0;
	free(refused);
	free(a->ports);
	a->ports = v;
	a->n_ports = n;
	if (rebuild_sources(a, now) < 0) {
		hf_strlcpy(why, "out of memory", whylen);
		return -1;
	}
	return rc;
}

/* ---- settings, time ---- */

static void new_epoch(struct sflow_agent *a, int64_t now)
{
	a->dgram_seq = 0;
	a->epoch_ms = now;
}

struct sflow_agent *sfa_new(const struct sfa_settings *set, const struct sfa_callbacks *cb,
			    int64_t now)
{
	struct sflow_agent *a = calloc(1, sizeof *a);

	if (!a)
		return NULL;
	a->set = *set;
	a->cb = *cb;
	a->epoch_ms = now;
	if (ring_resize(a, slots_for(queue_bound(set))) < 0) {
		free(a);
		return NULL;
	}
	return a;
}

void sfa_free(struct sflow_agent *a)
{
	if (!a)
		return;
	free(a->mem);
	free(a->slot);
	free(a->ports);
	free(a->src);
	free(a->inst);
	free(a);
}

static int same_addr(const struct hf_addr *x, const struct hf_addr *y)
{
	return x->family == y->family && memcmp(x->a, y->a, sizeof x->a) == 0;
}

void sfa_set_agent(struct sflow_agent *a, const struct hf_addr *agent, int64_t now)
{
	if (same_addr(&a->set.agent, agent))
		return;
	/* What was sampled under the old address goes out under it; what is
	 * held goes later under the new one. */
	if (can_send(a))
		pack(a, now, 1);
	close_open(a);
	a->set.agent = *agent;
	new_epoch(a, now);
}

void sfa_set_max_datagram(struct sflow_agent *a, size_t max)
{
	if (max == a->set.max_datagram)
		return;
	/* The open datagram was laid out for the old bound: new samples go
	 * into one of the new. */
	close_open(a);
	a->set.max_datagram = max;
}

void sfa_configure(struct sflow_agent *a, const struct sfa_settings *set, int64_t now)
{
	size_t n = slots_for(queue_bound(set));
	uint32_t old_interval = a->set.polling_interval;
	struct hf_addr old_agent = a->set.agent;

	if (can_send(a))
		pack(a, now, 1);
	close_open(a);
	/* A smaller ring only when what is held fits it (else later). */
	if (n != a->nslots && a->used <= n)
		(void)ring_resize(a, n);
	a->set = *set;
	if (!same_addr(&old_agent, &a->set.agent))
		new_epoch(a, now);
	if (old_interval != set->polling_interval)
		for (size_t i = 0; i < a->n_src; i++)
			a->src[i].next_poll_ms = first_poll(a, now);
	if (can_send(a))
		pack(a, now, 0);
}

void sfa_set_answerable(struct sflow_agent *a, int answerable, int64_t now)
{
	a->answerable = answerable;
	if (can_send(a) && a->used)
		pack(a, now, 1);
}

void sfa_retry_refused(struct sflow_agent *a)
{
	a->retry_refused = 1;
}

int sfa_refused_later(struct sflow_agent *a, int kindex, int64_t now)
{
	struct installed key = { .kindex = kindex };
	struct installed *in = a->n_inst ? bsearch(&key, a->inst, a->n_inst, sizeof key,
						   cmp_inst) : NULL;

	if (!in || in->refused)
		return 0;
	in->refused = 1;
	/* Out of memory: the source stays until the next sync rebuilds them. */
	if (rebuild_sources(a, now) < 0)
		return 0;
	return 1;
}

void sfa_rejected(struct sflow_agent *a, int kindex)
{
	struct source *s = find_src(a, kindex);

	if (s)
		s->rejected += s->rate;
}

void sfa_ring_drops(struct sflow_agent *a, uint32_t n)
{
	a->ring_drops += n;
	a->st.ring_dropped += n;
}

int64_t sfa_tick(struct sflow_agent *a, int64_t now)
{
	int64_t next = now + 60000;

	if (a->set.polling_interval) {
		for (size_t i = 0; i < a->n_src; i++) {
			struct source *s = &a->src[i];

			if (s->next_poll_ms && now >= s->next_poll_ms) {
				counter_sample(a, s, now);
				s->next_poll_ms += (int64_t)a->set.polling_interval * 1000;
				if (s->next_poll_ms <= now)  /* a long stall: no burst */
					s->next_poll_ms = now + (int64_t)a->set.polling_interval * 1000;
			}
			if (s->next_poll_ms && s->next_poll_ms < next)
				next = s->next_poll_ms;
		}
	}
	if (a->used && can_send(a)) {
		int64_t oldest = oldest_ms(a);

		if (oldest && now - oldest >= SFA_FLUSH_AFTER_MS)
			pack(a, now, 1);
		oldest = oldest_ms(a);
		if (oldest && oldest + SFA_FLUSH_AFTER_MS < next)
			next = oldest + SFA_FLUSH_AFTER_MS;
	}
	return next;
}

void sfa_flush(struct sflow_agent *a, int64_t now)
{
	if (can_send(a))
		pack(a, now, 1);
}

int sfa_is_sampled(const struct sflow_agent *a, int kindex)
{
	return find_src(a, kindex) != NULL;
}

void sfa_get_stats(const struct sflow_agent *a, struct sfa_stats *out)
{
	*out = a->st;
	out->queued_bytes = queued_bytes(a);
}

size_t sfa_sampled(const struct sflow_agent *a, struct sfa_port *out, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < a->n_src && k < max; i++, k++) {
		memset(&out[k], 0, sizeof out[k]);
		out[k].kindex = a->src[i].kindex;
		out[k].ifindex = a->src[i].ifindex;
		hf_strlcpy(out[k].name, a->src[i].name, sizeof out[k].name);
		out[k].rate = a->src[i].rate;
	}
	return k;
}

size_t sfa_unsampled(const struct sflow_agent *a, struct sfa_port *out, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < a->n_ports; i++) {
		if (!a->ports[i].rate || find_src(a, a->ports[i].kindex))
			continue;
		if (k < max)
			out[k] = a->ports[i];
		k++;
	}
	return k;
}
