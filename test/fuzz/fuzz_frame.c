/* libFuzzer target: a frame any host can send, on every link type the
 * sampler takes, through the code that reads it: the frame parser
 * (sflow/core/fwd.c fwd_parse), the forwarded-or-not classification
 * (fwd_classify, with the host's addresses and a routing mirror whose routes
 * for the packet's addresses come from the input), and the sample the core makes of it (sflow/core/sflow_agent.c
 * sfa_frame: the header copy, frame length, protocol and interfaces),
 * decoded from the datagram it sends.
 *
 * The frame is allocated at its exact length, so ASan sees any read past
 * what the capture holds. Link types: Ethernet and loopback (with 0-3
 * 802.1Q/802.1ad tags), bare IP as on tun/WireGuard (ARPHRD_NONE), RAWIP,
 * PPP, and one the parser does not take (IPIP). Invariants:
 *  - fwd_parse answers what the layout says (a reference parser written
 *    apart below), whatever the IP header's total length claims;
 *  - fwd_classify agrees with fwd_parse, labels a forwarded frame with the
 *    capture's interface on its side, never calls the host's own traffic
 *    forwarded, and gives the same answer again from its cache;
 *  - a sampled frame becomes exactly one well-formed flow sample whose
 *    header is the frame's first bytes (at most HF_MAX_HEADER), whose frame
 *    length is the frame's (+ the FCS on Ethernet), whose protocol is the
 *    link's (or the IP version's on bare IP), whose interfaces follow the
 *    classification, and which carries extended_router iff forwarded. */
#include "sflow/core/fib.h"
#include "sflow/core/fwd.h"
#include "sflow/core/sflow_agent.h"
#include "sflow/core/sflow_encode.h"
#include "sflow/core/sflow_wire.h"
#include "sflow_validate.h"
#include "sfa_stubs.h"
#include "fibmsg.h"
#include "fuzz_check.h"

#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <sys/socket.h>

#ifndef ARPHRD_RAWIP
#define ARPHRD_RAWIP 519
#endif

#define MAX_FRAME   2048
#define SERVED(k)   ((uint32_t)(k) + 100)   /* the served ifIndex of kernel ifindex k */

/* The sampler's interfaces: kernel ifindex = position + 1. */
static const unsigned link_types[] = {
	ARPHRD_ETHER, ARPHRD_LOOPBACK, ARPHRD_NONE, ARPHRD_RAWIP, ARPHRD_PPP, ARPHRD_TUNNEL,
};
#define NLINKS (sizeof link_types / sizeof link_types[0])
#define K_UNSAMPLED ((int)NLINKS + 1)  /* served, not sampled: a forwarded packet's far side */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- the reference parser: the frame layouts, written apart ---- */

/* 0 and the addresses, or -1; *at: where the IP header starts (when the
 * link header could be read). */
static int ref_parse(unsigned arphrd, const uint8_t *f, uint32_t len, struct fwd_pkt *p,
		     uint32_t *at)
{
	uint32_t ip = 0;     /* where the IP header starts */
	int version = 0;     /* the one the link header announces; 0: any */

	memset(p, 0, sizeof *p);
	*at = UINT32_MAX;
	if (arphrd == ARPHRD_ETHER || arphrd == ARPHRD_LOOPBACK) {
		uint32_t type_at = 12;
		uint16_t type;
		int tags = 0;

		if (len < 14)
			return -1;
		type = be16(f + type_at);
		/* 802.1Q and 802.1ad tags: 4 bytes each, at most two (QinQ). */
		while (type == 0x8100 || type == 0x88a8) {
			if (++tags > 2)
				return -1;
			type_at += 4;
			if (len < type_at + 2)
				return -1;
			type = be16(f + type_at);
		}
		if (type == 0x0800)
			version = 4;
		else if (type == 0x86dd)
			version = 6;
		else
			return -1;
		ip = type_at + 2;
	} else if (arphrd != ARPHRD_NONE && arphrd != ARPHRD_RAWIP && arphrd != ARPHRD_PPP) {
		return -1;
	}
	*at = ip;
	if (len <= ip)
		return -1;
	if (version && f[ip] >> 4 != version)
		return -1;
	switch (f[ip] >> 4) {
	case 4:   /* RFC 791: IHL >= 5 words; addresses at 12 and 16 */
		if (len - ip < 20 || (f[ip] & 0xf) < 5)
			return -1;
		p->family = AF_INET;
		memcpy(p->src, f + ip + 12, 4);
		memcpy(p->dst, f + ip + 16, 4);
		return 0;
	case 6:   /* RFC 8200: addresses at 8 and 24 of the fixed 40 bytes */
		if (len - ip < 40)
			return -1;
		p->family = AF_INET6;
		memcpy(p->src, f + ip + 8, 16);
		memcpy(p->dst, f + ip + 24, 16);
		return 0;
	}
	return -1;
}

/* ---- the host and its routing, from the input ---- */

struct world {
	struct fwd_locals locals;
	struct fuzz_src routes_from;   /* the input's bytes for the routes */
	struct fib *fib;
};

/* A routing mirror with routes for the packet's own addresses (and around
 * them), their kinds, prefix lengths, interfaces and gateways from the
 * input: unicast (sometimes through an interface the table does not know),
 * local, blackhole, unreachable, or none. */
static struct fib *routing(struct fuzz_src *s, const struct fwd_pkt *p)
{
	static const char *const names[] = { "if1", "if2", "if3", "if4", "if5", "if6", "if7",
					     "if8" };
	struct fib *fib = fib_new();
	size_t alen = p->family == AF_INET6 ? 16 : 4;

	FUZZ_CHECK(fib != NULL, "fib_new");
	for (int k = 1; k <= (int)NLINKS + 2; k++) {
		fibmsg_link(fib, RTM_NEWLINK, k, names[k - 1], 1);
		fibmsg_netconf(fib, AF_INET, k, 1, fuzz_u8(s) % 3);
	}
	fibmsg_rule_to(fib, AF_INET, 0, 255);
	fibmsg_rule_to(fib, AF_INET, 32766, 254);
	fibmsg_rule_to(fib, AF_INET6, 0, 255);
	fibmsg_rule_to(fib, AF_INET6, 32766, 254);
	for (int i = 0; i < 4 && p->family; i++) {
		struct fib_route r;
		uint8_t a = fuzz_u8(s), b = fuzz_u8(s);

		if (a % 8 == 0)
			continue;	/* no route */
		memset(&r, 0, sizeof r);
		r.family = (uint8_t)p->family;
		memcpy(r.dst, i % 2 ? p->src : p->dst, alen);
		r.dst_len = (uint8_t)(b % (alen * 8 + 1));
		r.table = a % 8 == 2 ? 255 : 254;
		r.type = a % 8 == 2 ? RTN_LOCAL : a % 8 == 3 ? RTN_BLACKHOLE :
			 a % 8 == 4 ? RTN_UNREACHABLE : RTN_UNICAST;
		r.protocol = RTPROT_BOOT;
		if (r.type == RTN_UNICAST || r.type == RTN_LOCAL) {
			r.npaths = 1;
			r.path[0].oif = 1 + (int)((a >> 3) % (NLINKS + 2));
			if (a & 0x80) {
				r.path[0].gw.family = p->family;
				memcpy(r.path[0].gw.a, p->src, alen);
				r.path[0].gw.a[alen - 1] ^= b;
			}
		}
		fibmsg_route(fib, RTM_NEWROUTE, 0, &r, 0);
	}
	return fib;
}

static int ref_dst_is_host(const struct fwd_locals *l, const struct fwd_pkt *p)
{
	static const uint8_t zero[16], v6lo[16] = { [15] = 1 };

	if (p->family == AF_INET && (p->dst[0] >= 224 || p->dst[0] == 127 || !memcmp(p->dst, zero, 4)))
		return 1;
	if (p->family == AF_INET6 && (p->dst[0] == 0xff || !memcmp(p->dst, zero, 16) ||
				      !memcmp(p->dst, v6lo, 16)))
		return 1;
	return fwd_locals_has(l, p->family, p->dst);
}

static int ref_src_is_host(const struct fwd_locals *l, const struct fwd_pkt *p)
{
	static const uint8_t zero[16], v6lo[16] = { [15] = 1 };

	if (p->family == AF_INET && (p->src[0] == 127 || !memcmp(p->src, zero, 4)))
		return 1;
	if (p->family == AF_INET6 && (!memcmp(p->src, zero, 16) || !memcmp(p->src, v6lo, 16)))
		return 1;
	return fwd_locals_has(l, p->family, p->src);
}

/* ---- the core, its datagram ---- */

struct sent {
	uint8_t buf[HF_MAX_DATAGRAM];
	size_t len;
	int n;
};

static void on_send(void *ctx, const uint8_t *buf, size_t len)
{
	struct sent *s = ctx;

	s->n++;
	FUZZ_CHECK(len <= sizeof s->buf, "datagram of %zu bytes", len);
	memcpy(s->buf, buf, len);
	s->len = len;
}

/* The one flow sample of the datagram, as read from the wire. */
struct got {
	uint32_t input, output, protocol, frame_length, stripped, header_len;
	const uint8_t *header;
	int router, nh_family;
	uint8_t nh[16];
	uint32_t src_mask, dst_mask;
};

static void read_sample(const struct sent *s, struct got *g)
{
	const uint8_t *p = s->buf + SFLOW_HDR_V4_LEN, *end = s->buf + s->len;
	uint32_t fmt = be32(p), nrec;

	memset(g, 0, sizeof *g);
	FUZZ_CHECK(be32(s->buf + 4) == SFLOW_ADDR_IP_V4 && be32(s->buf + 24) == 1,
		   "one sample from an IPv4 agent");
	FUZZ_CHECK(fmt == SFLOW_FMT_FLOW, "sample format %u (served ifIndexes are small)", fmt);
	p += 8;
	g->input = be32(p + 20);
	g->output = be32(p + 24);
	nrec = be32(p + 28);
	p += SFLOW_FLOW_BODY_LEN;
	for (uint32_t r = 0; r < nrec; r++) {
		uint32_t rf = be32(p), rl = be32(p + 4);

		p += 8;
		if (rf == SFLOW_REC_RAW_HEADER) {
			g->protocol = be32(p);
			g->frame_length = be32(p + 4);
			g->stripped = be32(p + 8);
			g->header_len = be32(p + 12);
			g->header = p + 16;
		} else if (rf == SFLOW_REC_ROUTER) {
			uint32_t at = be32(p), alen = at == SFLOW_ADDR_IP_V6 ? 16 : 4;

			g->router = 1;
			g->nh_family = at == SFLOW_ADDR_IP_V6 ? AF_INET6 : AF_INET;
			memcpy(g->nh, p + 4, alen);
			g->src_mask = be32(p + 4 + alen);
			g->dst_mask = be32(p + 8 + alen);
		}
		p += rl;
	}
	FUZZ_CHECK(p == end, "records end %td bytes off the datagram's end", end - p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_src s = { data, size };
	uint8_t head = fuzz_u8(&s), flags = fuzz_u8(&s);
	unsigned li = (head & 0x0f) % (NLINKS + 1);   /* NLINKS: a type nobody takes */
	unsigned arphrd = li < NLINKS ? link_types[li] : 0xFFFF;
	int kindex = li < NLINKS ? (int)li + 1 : 1;
	int outgoing = flags & 1;
	uint32_t extra = flags & 2 ? fuzz_u16(&s) : 0;   /* len - caplen: a GSO super-frame */
	struct world w;
	struct fwd_cache *cache = flags & 4 ? fwd_cache_new(16) : NULL;   /* or none */
	struct fwd_info fi, again;
	struct fwd_pkt p, ref;
	uint8_t *frame;
	uint32_t caplen, ip_at;
	int rc, rrc;

	/* The host's addresses: some from the input, some the frame's own. */
	memset(&w, 0, sizeof w);
	for (unsigned n = fuzz_u8(&s) % 4; n; n--) {
		uint8_t a[16];
		int fam = fuzz_u8(&s) & 1 ? AF_INET6 : AF_INET;

		for (size_t i = 0; i < 16; i++)
			a[i] = fuzz_u8(&s);
		FUZZ_CHECK(fwd_locals_add(&w.locals, fam, a, 1, FWD_LOCAL) == 0, "locals");
	}
	{
		struct fuzz_src routes = { s.p, s.left < 32 ? s.left : 32 };

		for (size_t i = 0; i < routes.left; i++)
			fuzz_u8(&s);
		w.routes_from = routes;
	}
	caplen = (uint32_t)(s.left < MAX_FRAME ? s.left : MAX_FRAME);
	frame = malloc(caplen ? caplen : 1);
	FUZZ_CHECK(frame != NULL, "malloc");
	memcpy(frame, s.p, caplen);
	s.p += caplen;
	s.left -= caplen;

	/* The parser, against the layout. */
	rc = fwd_parse(arphrd, caplen ? frame : NULL, caplen, &p);
	rrc = ref_parse(arphrd, frame, caplen, &ref, &ip_at);
	FUZZ_CHECK(rc == rrc, "link %u, %u bytes: fwd_parse %d, the layout says %d", arphrd,
		   caplen, rc, rrc);
	if (rc == 0) {
		FUZZ_CHECK(p.family == ref.family && !memcmp(p.src, ref.src, 16) &&
			   !memcmp(p.dst, ref.dst, 16), "addresses differ from the layout");
		/* The frame's own addresses as the host's: its traffic, or a
		 * subnet broadcast. */
		if (head & 0x40)
			fwd_locals_add(&w.locals, p.family, p.dst, 2, FWD_BROADCAST);
		if (head & 0x80)
			fwd_locals_add(&w.locals, p.family, p.src, 3, FWD_LOCAL);
	}
	/* Whatever the IP total length (IPv4) or payload length (IPv6) claims,
	 * the answer stays: only the captured bytes count. */
	if (ip_at != UINT32_MAX && ip_at < caplen) {
		uint32_t at = ip_at + (frame[ip_at] >> 4 == 6 ? 4 : 2);

		if (at + 2 <= caplen) {
			struct fwd_pkt q;
			uint8_t saved[2] = { frame[at], frame[at + 1] };

			frame[at] ^= 0xff;
			frame[at + 1] ^= 0x5a;
			FUZZ_CHECK(fwd_parse(arphrd, frame, caplen, &q) == rc &&
				   (rc || !memcmp(&q, &p, sizeof q)), "the IP length changed the parse");
			frame[at] = saved[0];
			frame[at + 1] = saved[1];
		}
	}

	/* The classification. */
	if (rc != 0)
		memset(&p, 0, sizeof p);
	w.fib = routing(&w.routes_from, &p);
	rc = fwd_classify(&w.locals, cache, w.fib, 0, kindex, arphrd, outgoing,
			  caplen ? frame : NULL, caplen, &fi);
	FUZZ_CHECK(rc == rrc, "fwd_classify %d, fwd_parse %d", rc, rrc);
	if (rc < 0 || !fi.forwarded) {
		static const struct fwd_info none;

		FUZZ_CHECK(!memcmp(&fi, &none, sizeof fi), "host traffic carries labels");
	} else {
		FUZZ_CHECK(outgoing ? fi.out_kindex == kindex : fi.in_kindex == kindex,
			   "the capture's side is not the capture's interface");
		FUZZ_CHECK(!(outgoing ? ref_src_is_host(&w.locals, &p) : ref_dst_is_host(&w.locals, &p)),
			   "the host's own traffic classified forwarded");
		FUZZ_CHECK(fi.nexthop.family == 0 || fi.nexthop.family == p.family,
			   "next hop of another family");
		FUZZ_CHECK(fi.src_len <= (p.family == AF_INET6 ? 128 : 32) &&
			   fi.dst_len <= (p.family == AF_INET6 ? 128 : 32), "prefix lengths");
	}
	if (rc == 0 && cache) {
		fwd_classify(&w.locals, cache, w.fib, 0, kindex, arphrd, outgoing, frame,
			     caplen, &again);
		FUZZ_CHECK(!memcmp(&fi, &again, sizeof fi), "the cache answers otherwise");
	}

	/* The sample the core makes of it. */
	{
		struct sfa_settings set = { .max_datagram = 1400, .hold = 0, .hold_bytes = 65536 };
		struct sent out = { .n = 0 };
		struct sfa_callbacks cb = { &out, on_send, sfa_stub_no_counters,
					    sfa_stub_accept_install, sfa_stub_random, NULL };
		struct sfa_port ports[NLINKS + 1];
		struct sflow_agent *a;
		struct sfa_frame fr = { kindex, outgoing, caplen ? frame : NULL, caplen,
					caplen + extra, NULL };
		char why[128];
		unsigned sarphrd = link_types[kindex - 1];   /* the core knows the port's */
		uint32_t want_proto = 0, in_want, out_want;
		int skipped = 0;
		struct got g;

		memset(ports, 0, sizeof ports);
		for (size_t i = 0; i <= NLINKS; i++) {
			ports[i].kindex = (int)i + 1;
			ports[i].ifindex = SERVED(i + 1);
			snprintf(ports[i].name, sizeof ports[i].name, "if%zu", i + 1);
			ports[i].arphrd = i < NLINKS ? link_types[i] : ARPHRD_ETHER;
			ports[i].iftype = 6;
			ports[i].admin = ports[i].oper = 1;
			ports[i].rate = i < NLINKS ? 1 + (flags >> 4) : 0;
		}
		a = sfa_new(&set, &cb, 1000);
		FUZZ_CHECK(a != NULL, "sfa_new");
		FUZZ_CHECK(sfa_sync(a, ports, NLINKS + 1, 1000, why, sizeof why) == 0, "%s", why);
		sfa_set_answerable(a, 1, 1000);
		if (rc == 0 && fi.forwarded)
			fr.fwd = &fi;
		sfa_frame(a, &fr, 1001);
		sfa_flush(a, 1002);

		if (sarphrd == ARPHRD_ETHER || sarphrd == ARPHRD_LOOPBACK)
			want_proto = SFLOW_HDR_ETHERNET;
		else if (caplen && frame[0] >> 4 == 4)
			want_proto = SFLOW_HDR_IPV4;
		else if (caplen && frame[0] >> 4 == 6)
			want_proto = SFLOW_HDR_IPV6;
		in_want = outgoing ? SFLOW_IF_INTERNAL : SERVED(kindex);
		out_want = outgoing ? SERVED(kindex) : SFLOW_IF_INTERNAL;
		if (fr.fwd) {
			int far = outgoing ? fi.in_kindex : fi.out_kindex;
			uint32_t far_served = far >= 1 && far <= K_UNSAMPLED ? SERVED(far) : 0;

			in_want = outgoing ? far_served : SERVED(kindex);
			out_want = outgoing ? SERVED(kindex) : far_served;
			/* Egress copy of a packet whose way in is sampled: counted there. */
			skipped = outgoing && far >= 1 && far <= (int)NLINKS;
		}
		if (!want_proto || skipped) {
			FUZZ_CHECK(out.n == 0, "a sample of a frame that is not one (protocol %u, "
				   "skipped %d)", want_proto, skipped);
		} else {
			FUZZ_CHECK(out.n == 1, "%d datagrams for one sampled frame", out.n);
			FUZZ_CHECK(sflow_validate(out.buf, out.len) == 1, "malformed datagram");
			read_sample(&out, &g);
			FUZZ_CHECK(g.protocol == want_proto, "protocol %u, want %u", g.protocol,
				   want_proto);
			FUZZ_CHECK(g.header_len == (caplen < HF_MAX_HEADER ? caplen : HF_MAX_HEADER) &&
				   !memcmp(g.header, frame, g.header_len),
				   "header of %u bytes is not the frame's first", g.header_len);
			FUZZ_CHECK(g.frame_length == caplen + extra + (sarphrd == ARPHRD_ETHER ? 4 : 0) &&
				   g.stripped == (sarphrd == ARPHRD_ETHER ? 4u : 0u),
				   "frame length %u stripped %u for %u + %u bytes", g.frame_length,
				   g.stripped, caplen, extra);
			FUZZ_CHECK(g.input == in_want && g.output == out_want,
				   "interfaces %u -> %u, want %u -> %u", g.input, g.output, in_want,
				   out_want);
			FUZZ_CHECK(g.router == (fr.fwd != NULL), "extended_router %d, forwarded %d",
				   g.router, fr.fwd != NULL);
			if (g.router) {
				/* An unknown next hop: the packet family's zero address. */
				int fam = fi.nexthop.family ? fi.nexthop.family : p.family;
				size_t al = fam == AF_INET6 ? 16 : 4;

				FUZZ_CHECK(fi.family == p.family, "fwd_info.family %d", fi.family);
				FUZZ_CHECK(g.src_mask == fi.src_len && g.dst_mask == fi.dst_len,
					   "masks %u/%u, want %u/%u", g.src_mask, g.dst_mask,
					   fi.src_len, fi.dst_len);
				FUZZ_CHECK(g.nh_family == fam && !memcmp(g.nh, fi.nexthop.a, al),
					   "next hop");
			}
		}
		sfa_free(a);
	}
	free(frame);
	fwd_cache_free(cache);
	fwd_locals_free(&w.locals);
	fib_free(w.fib);
	return 0;
}
