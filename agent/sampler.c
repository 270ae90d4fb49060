/* The sFlow face. One thread owns every capture, the datagram being filled,
 * the collectors and a private netlink stats socket; the agent thread talks
 * to it only through sampler_reload()/sampler_table_changed()/sampler_stop(),
 * which hand data over under a mutex and wake the thread through an eventfd. */
#include "sampler.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "agentaddr.h"
#include "capture.h"
#include "collector.h"
#include "log.h"
#include "netlink.h"
#include "sflow_encode.h"
#include "status.h"
#include "util.h"

#define FLUSH_AFTER_MS    1000  /* a queued sample waits at most this long */
#define AGENT_RECHECK_MS  5000  /* how often a derived agent address is re-read */
#define DRAIN_BATCH       256   /* frames per capture per wake-up: fairness */
#define IDLE_TIMEOUT_MS   60000
/* After serving the rings, leave them alone this long so that one wake-up
 * serves many samples: a wake-up (a context switch) costs more than
 * encoding a sample. The ring holds CAPTURE frames meanwhile; a drain that
 * hits DRAIN_BATCH skips the pause, so a busy ring is never left to fill. */
#define COALESCE_MS       20

/* What the thread needs from a config, deep-copied so the agent thread may
 * free its config at once. Sample rates are the effective ones. */
struct scfg {
	struct cfg_sample *samples;
	size_t n_samples;
	struct cfg_collector *collectors;
	size_t n_collectors;
	struct hf_addr agent_address;
	char agent_interface[IFNAMSIZ];
	uint32_t sub_agent_id, polling_interval, header_bytes;
};

/* One `sample` line. It outlives its captures (an interface re-created, a
 * reload) so that sequence numbers, pool and drops continue. */
struct source {
	char name[IFNAMSIZ];
	uint32_t rate;
	struct capture *cap;
	int kindex;               /* of cap */
	uint32_t served;          /* ifIndex in the snapshot the thread last saw */
	unsigned arphrd;
	uint32_t flow_seq, ctr_seq;
	uint64_t pool_base;       /* rx+tx packets of the link when cap opened */
	uint32_t pool, drops;
	int pool_fresh;           /* pool and drops read since the last flush */
	int absent_logged, open_failed;
};

struct sampler {
	/* Shared with the agent thread, under lock. */
	pthread_mutex_t lock;
	struct scfg *pending;
	int stop;
	int efd;
	struct iftable *table;
	pthread_t thread;
	char status[STATUS_TEXT_MAX];  /* see publish_status() */

	/* Owned by the sampler thread once it runs. */
	struct scfg *cfg;
	struct nl_stats *nls;
	struct collectors *coll;
	struct source *src;
	size_t n_src;
	struct pollfd *pfd;
	uint64_t generation;
	int synced;
	struct hf_addr agent;
	int64_t agent_since_ms, agent_check_ms;
	uint32_t dgram_seq;
	struct sflow_datagram dg;
	int dg_open;
	int64_t flush_at_ms, next_poll_ms;
	int64_t rings_quiet_until_ms;  /* see COALESCE_MS */
	int oversize_logged;
	uint8_t buf[COLLECTOR_MAX_DATAGRAM];
};

static void scfg_free(struct scfg *c)
{
	if (!c)
		return;
	free(c->samples);
	free(c->collectors);
	free(c);
}

static struct scfg *scfg_copy(const struct config *cfg)
{
	struct scfg *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->samples = calloc(cfg->n_samples ? cfg->n_samples : 1, sizeof *c->samples);
	c->collectors = calloc(cfg->n_collectors ? cfg->n_collectors : 1,
			       sizeof *c->collectors);
	if (!c->samples || !c->collectors) {
		scfg_free(c);
		return NULL;
	}
	for (size_t i = 0; i < cfg->n_samples; i++) {
		c->samples[i] = cfg->samples[i];
		c->samples[i].rate = config_sample_rate(cfg, &cfg->samples[i]);
		if (c->samples[i].rate < 1)
			c->samples[i].rate = 1;
	}
	c->n_samples = cfg->n_samples;
	if (cfg->n_collectors)
		memcpy(c->collectors, cfg->collectors,
		       cfg->n_collectors * sizeof *c->collectors);
	c->n_collectors = cfg->n_collectors;
	c->agent_address = cfg->agent_address;
	hf_strlcpy(c->agent_interface, cfg->agent_interface, sizeof c->agent_interface);
	c->sub_agent_id = cfg->sub_agent_id;
	c->polling_interval = cfg->polling_interval;
	c->header_bytes = cfg->header_bytes;
	if (c->header_bytes < 1 || c->header_bytes > HF_MAX_HEADER)
		c->header_bytes = CFG_DEFAULT_HEADER;
	return c;
}

/* ---- what sampler_status() reads ---- */

static void status_source_at(void *ctx, size_t i, struct status_source *out)
{
	const struct source *src = &((const struct sampler *)ctx)->src[i];

	out->name = src->name;
	out->rate = src->rate;
	out->active = src->cap != NULL;
	out->absent = src->absent_logged;
}

/* Refreshes the text the agent thread reads: after every change of sources
 * and every datagram sent. A few hundred bytes of snprintf; the lock is held
 * for the copy only. */
static void publish_status(struct sampler *s)
{
	char buf[STATUS_TEXT_MAX];
	size_t n = status_sampling(buf, sizeof buf, s->n_src, status_source_at, s);

	if (n + 2 < sizeof buf) {
		memcpy(buf + n, "; ", 3);
		collectors_describe(s->coll, buf + n + 2, sizeof buf - n - 2);
	}
	pthread_mutex_lock(&s->lock);
	hf_strlcpy(s->status, buf, sizeof s->status);
	pthread_mutex_unlock(&s->lock);
}

/* ---- the datagram ---- */

static void dg_flush(struct sampler *s)
{
	if (s->dg_open && s->dg.nsamples) {
		collectors_send(s->coll, s->buf, sflow_dgram_len(&s->dg));
		publish_status(s);
	}
	s->dg_open = 0;
	/* Pool and drops are read at most once per datagram per interface. */
	for (size_t i = 0; i < s->n_src; i++)
		s->src[i].pool_fresh = 0;
}

static void dg_begin(struct sampler *s, int64_t now)
{
	size_t cap = collectors_max_payload(s->coll);

	if (cap > sizeof s->buf)
		cap = sizeof s->buf;
	sflow_dgram_begin(&s->dg, s->buf, cap, &s->agent, s->cfg->sub_agent_id,
			  ++s->dgram_seq, (uint32_t)(now - s->agent_since_ms));
	s->dg_open = 1;
	s->flush_at_ms = now + FLUSH_AFTER_MS;
}

/* Appends a flow (flow = 1) or counter sample, sending the datagram first
 * when the sample would not fit. */
static void dg_add(struct sampler *s, int flow, const void *sample)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int rc;

		if (!s->dg_open)
			dg_begin(s, monotonic_ms());
		rc = flow ? sflow_dgram_add_flow(&s->dg, sample)
			  : sflow_dgram_add_counters(&s->dg, sample);
		if (rc == 0)
			return;
		if (s->dg.nsamples == 0)
			break;
		dg_flush(s);
	}
	/* An empty datagram too small for one sample: drop it, say so once. */
	s->dg_open = 0;
	if (!s->oversize_logged) {
		log_warn("sampler: a sample does not fit in %zu bytes; dropped",
			 collectors_max_payload(s->coll));
		s->oversize_logged = 1;
	}
}

/* Called when the agent address may have changed: sequence numbers and
 * uptime of datagrams restart with a new address. */
static void check_agent(struct sampler *s, int64_t now)
{
	struct hf_addr a;
	char buf[INET6_ADDRSTRLEN] = "?";
	enum agentaddr_source src;

	s->agent_check_ms = now + AGENT_RECHECK_MS;
	src = agentaddr_choose(&s->cfg->agent_address, s->cfg->agent_interface, &a);
	if (s->agent.family && memcmp(&a, &s->agent, sizeof a) == 0)
		return;
	dg_flush(s);
	s->agent = a;
	s->agent_since_ms = now;
	s->dgram_seq = 0;
	inet_ntop(a.family, a.a, buf, sizeof buf);
	/* A collector takes the agent address as the exporter and polls SNMP
	 * there: a stand-in address is worth a warning each time it is used. */
	if (src == AGENTADDR_LOOPBACK)
		log_warn("sampler: no global address found; agent address 127.0.0.1");
	else if (src == AGENTADDR_OTHER)
		log_warn("sampler: agent_interface %s has no global address; agent "
			 "address %s (of another interface) until it has one",
			 s->cfg->agent_interface, buf);
	else
		log_info("sampler: agent address %s", buf);
}

/* ---- samples ---- */

static uint64_t link_packets(const struct if_counters *c)
{
	return c->in_ucast + c->in_mcast + c->in_bcast +
	       c->out_ucast + c->out_mcast + c->out_bcast;
}

static void refresh_pool(struct sampler *s, struct source *src)
{
	struct if_counters c;

	if (nl_stats_read(s->nls, src->kindex, &c) == 0)
		src->pool = (uint32_t)(link_packets(&c) - src->pool_base);
	src->drops += capture_take_drops(src->cap);
	src->pool_fresh = 1;
}

/* sFlow's header_protocol, or 0 when the packet cannot be described. */
static uint32_t header_protocol(unsigned arphrd, const struct capture_frame *f)
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

struct frame_ctx {
	struct sampler *s;
	struct source *src;
};

static void on_frame(void *ctx, const struct capture_frame *f)
{
	struct frame_ctx *fc = ctx;
	struct source *src = fc->src;
	struct sflow_flow_sample fs = { 0 };

	fs.header_protocol = header_protocol(src->arphrd, f);
	if (!fs.header_protocol)
		return;
	if (!src->pool_fresh)
		refresh_pool(fc->s, src);
	fs.seq = ++src->flow_seq;
	fs.source_index = src->served;
	fs.rate = src->rate;
	fs.pool = src->pool;
	fs.drops = src->drops;
	/* The host sent it: it came from inside and left through the link. */
	fs.input = f->outgoing ? SFLOW_IF_INTERNAL : src->served;
	fs.output = f->outgoing ? src->served : SFLOW_IF_INTERNAL;
	fs.frame_length = f->len;
	if (src->arphrd == ARPHRD_ETHER) {
		/* The spec's frame length counts the FCS that is never captured. */
		fs.frame_length += 4;
		fs.stripped = 4;
	}
	fs.header = f->data;
	fs.header_len = f->caplen < HF_MAX_HEADER ? f->caplen : HF_MAX_HEADER;
	dg_add(fc->s, 1, &fs);
}

static void counter_sample(struct sampler *s, struct source *src, const struct if_row *row)
{
	struct sflow_counter_sample cs = { 0 };
	struct if_counters c;

	if (nl_stats_read(s->nls, row->kindex, &c) < 0)
		return;
	cs.seq = ++src->ctr_seq;
	cs.source_index = row->ifindex;
	cs.if_index = row->ifindex;
	cs.if_type = row->iftype;
	cs.if_speed = row->speed_bps;
	cs.if_direction = SFLOW_DIR_UNKNOWN;
	cs.if_status = (row->admin == 1 ? 1u : 0u) | (row->oper == 1 ? 2u : 0u);
	cs.promisc = row->promisc;
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
	dg_add(s, 0, &cs);
}

static void poll_counters(struct sampler *s, int64_t now)
{
	struct if_snapshot *snap;

	s->next_poll_ms = now + (int64_t)s->cfg->polling_interval * 1000;
	snap = iftable_acquire(s->table);
	if (!snap)
		return;
	for (size_t i = 0; i < s->n_src; i++) {
		const struct if_row *row;

		if (!s->src[i].cap)
			continue;
		row = snap_find_kindex(snap, s->src[i].kindex);
		if (row)
			counter_sample(s, &s->src[i], row);
	}
	iftable_release(s->table, snap);
}

/* ---- captures against the table ---- */

static void close_capture(struct source *src)
{
	capture_close(src->cap);
	src->cap = NULL;
	src->kindex = 0;
}

static void open_capture(struct sampler *s, struct source *src, const struct if_row *row)
{
	char err[256];
	struct if_counters c;

	src->cap = capture_open(row->kindex, src->rate, s->cfg->header_bytes,
				err, sizeof err);
	if (!src->cap) {
		if (!src->open_failed)
			log_warn("sampler: cannot sample %s: %s", src->name, err);
		src->open_failed = 1;
		return;
	}
	src->open_failed = 0;
	src->kindex = row->kindex;
	src->pool_base = nl_stats_read(s->nls, row->kindex, &c) == 0 ? link_packets(&c) : 0;
	src->pool = 0;
	src->pool_fresh = 0;
	log_info("sampler: sampling %s (ifIndex %u) 1 in %u", src->name,
		 row->ifindex, src->rate);
}

static void sync_source(struct sampler *s, struct source *src, const struct if_row *row)
{
	if (!row || !s->cfg->n_collectors) {
		if (src->cap)
			log_info("sampler: %s is gone; capture closed", src->name);
		else if (!row && !src->absent_logged)
			log_info("sampler: %s not present; waiting for it", src->name);
		src->absent_logged = !row;
		close_capture(src);
		return;
	}
	src->absent_logged = 0;
	if (src->cap && src->kindex != row->kindex) {
		log_info("sampler: %s re-created (kernel ifindex %d -> %d)", src->name,
			 src->kindex, row->kindex);
		close_capture(src);
	}
	src->served = row->ifindex;
	src->arphrd = row->arphrd;
	if (!src->cap)
		open_capture(s, src, row);
}

/* Re-checks every source when the table changed (or force). */
static void sync_table(struct sampler *s, int force)
{
	struct if_snapshot *snap = iftable_acquire(s->table);

	if (!snap)
		return;
	if (force || !s->synced || snap->generation != s->generation) {
		for (size_t i = 0; i < s->n_src; i++)
			sync_source(s, &s->src[i], snap_find_name(snap, s->src[i].name));
		s->generation = snap->generation;
		s->synced = 1;
		publish_status(s);
	}
	iftable_release(s->table, snap);
}

/* ---- reload ---- */

static int collectors_differ(const struct scfg *a, const struct scfg *b)
{
	if (a->n_collectors != b->n_collectors)
		return 1;
	for (size_t i = 0; i < a->n_collectors; i++) {
		const struct cfg_collector *x = &a->collectors[i], *y = &b->collectors[i];

		if (x->addrlen != y->addrlen || memcmp(&x->addr, &y->addr, x->addrlen))
			return 1;
	}
	return 0;
}

static struct source *find_source(struct source *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].name[0] && strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

/* Builds the source list of the new config, carrying over the state of lines
 * that stay (sequence numbers continue; a new rate or snaplen re-attaches
 * the filter) and closing the captures of lines that went. */
static int rebuild_sources(struct sampler *s, const struct scfg *n)
{
	size_t cnt = n->n_samples;
	struct source *v = calloc(cnt ? cnt : 1, sizeof *v);
	struct pollfd *pfd = calloc(cnt + 1, sizeof *pfd);

	if (!v || !pfd) {
		free(v);
		free(pfd);
		return -1;
	}
	for (size_t i = 0; i < cnt; i++) {
		struct source *old = find_source(s->src, s->n_src, n->samples[i].name);

		if (old) {
			v[i] = *old;
			old->name[0] = '\0';   /* moved: not closed below */
			old->cap = NULL;
		} else {
			hf_strlcpy(v[i].name, n->samples[i].name, sizeof v[i].name);
		}
		if (v[i].cap && (v[i].rate != n->samples[i].rate ||
				 s->cfg->header_bytes != n->header_bytes) &&
		    capture_set_filter(v[i].cap, n->samples[i].rate, n->header_bytes) < 0)
			log_warn("sampler: %s: new filter refused: %s", v[i].name,
				 strerror(errno));
		else if (v[i].cap && v[i].rate != n->samples[i].rate)
			log_info("sampler: %s now 1 in %u", v[i].name, n->samples[i].rate);
		v[i].rate = n->samples[i].rate;
	}
	for (size_t i = 0; i < s->n_src; i++) {
		if (s->src[i].cap)
			log_info("sampler: %s no longer sampled", s->src[i].name);
		close_capture(&s->src[i]);
	}
	free(s->src);
	free(s->pfd);
	s->src = v;
	s->n_src = cnt;
	s->pfd = pfd;
	return 0;
}

static void apply_config(struct sampler *s, struct scfg *n)
{
	int64_t now = monotonic_ms();

	/* What is queued was sampled under the old config: send it with it. */
	dg_flush(s);
	if (collectors_differ(s->cfg, n)) {
		struct collectors *c = collectors_open(n->collectors, n->n_collectors);

		if (!c) {
			log_err("sampler: reload: out of memory; keeping the old config");
			scfg_free(n);
			return;
		}
		collectors_close(s->coll);
		s->coll = c;
	}
	if (rebuild_sources(s, n) < 0) {
		log_err("sampler: reload: out of memory; keeping the old config");
		scfg_free(n);
		return;
	}
	if (n->polling_interval != s->cfg->polling_interval)
		s->next_poll_ms = now + (int64_t)n->polling_interval * 1000;
	scfg_free(s->cfg);
	s->cfg = n;
	check_agent(s, now);
	sync_table(s, 1);
}

/* ---- the thread ---- */

static int poll_timeout(const struct sampler *s, int64_t now)
{
	int64_t t = now + IDLE_TIMEOUT_MS;

	if (s->dg_open && s->flush_at_ms < t)
		t = s->flush_at_ms;
	if (s->cfg->polling_interval && s->next_poll_ms < t)
		t = s->next_poll_ms;
	if (!s->cfg->agent_address.family && s->agent_check_ms < t)
		t = s->agent_check_ms;
	if (s->rings_quiet_until_ms > now && s->rings_quiet_until_ms < t)
		t = s->rings_quiet_until_ms;
	return t <= now ? 0 : (int)(t - now);
}

/* Takes what the agent thread handed over; returns 1 when asked to stop. */
static int take_requests(struct sampler *s)
{
	struct scfg *n;
	uint64_t v;
	int stop;

	if (read(s->efd, &v, sizeof v) < 0 && errno != EAGAIN)
		log_debug("sampler: eventfd read: %s", strerror(errno));
	pthread_mutex_lock(&s->lock);
	n = s->pending;
	s->pending = NULL;
	stop = s->stop;
	pthread_mutex_unlock(&s->lock);
	if (stop) {
		scfg_free(n);
		return 1;
	}
	if (n)
		apply_config(s, n);
	sync_table(s, 0);
	return 0;
}

static size_t fill_pollfds(struct sampler *s, int64_t now)
{
	int quiet = now < s->rings_quiet_until_ms;
	size_t n = 1;

	s->pfd[0] = (struct pollfd){ .fd = s->efd, .events = POLLIN };
	for (size_t i = 0; i < s->n_src; i++) {
		/* fd -1 keeps indexes aligned with sources: poll() skips it. */
		s->pfd[n].fd = s->src[i].cap && !quiet ? capture_fd(s->src[i].cap) : -1;
		s->pfd[n].events = POLLIN;
		s->pfd[n].revents = 0;
		n++;
	}
	return n;
}

static void service_captures(struct sampler *s)
{
	int busy = 0, any = 0;

	for (size_t i = 0; i < s->n_src; i++) {
		struct source *src = &s->src[i];
		short re = s->pfd[i + 1].revents;
		struct frame_ctx fc = { s, src };

		if (!src->cap || !re)
			continue;
		if (re & POLLERR) {
			int e = capture_clear_error(src->cap);

			log_debug("sampler: %s: %s", src->name, strerror(e));
		}
		if (re & POLLIN) {
			any = 1;
			if (capture_drain(src->cap, DRAIN_BATCH, on_frame, &fc) >= DRAIN_BATCH)
				busy = 1;
		}
	}
	if (any && !busy)
		s->rings_quiet_until_ms = monotonic_ms() + COALESCE_MS;
}

static void run_timers(struct sampler *s, int64_t now)
{
	if (s->dg_open && now >= s->flush_at_ms)
		dg_flush(s);
	if (s->cfg->polling_interval && now >= s->next_poll_ms)
		poll_counters(s, now);
	if (!s->cfg->agent_address.family && now >= s->agent_check_ms)
		check_agent(s, now);
}

static void *sampler_main(void *arg)
{
	struct sampler *s = arg;

	check_agent(s, monotonic_ms());
	s->next_poll_ms = monotonic_ms() + (int64_t)s->cfg->polling_interval * 1000;
	sync_table(s, 1);
	for (;;) {
		int64_t now = monotonic_ms();
		size_t n = fill_pollfds(s, now);
		int rc = poll(s->pfd, n, poll_timeout(s, now));

		if (rc < 0 && errno != EINTR) {
			log_err("sampler: poll: %s", strerror(errno));
			break;
		}
		if (rc > 0 && (s->pfd[0].revents & POLLIN) && take_requests(s))
			break;
		/* take_requests may have rebuilt the sources: revents are stale. */
		if (rc > 0 && !(s->pfd[0].revents & POLLIN))
			service_captures(s);
		run_timers(s, monotonic_ms());
	}
	dg_flush(s);
	return NULL;
}

/* ---- the agent thread's side ---- */

static void wake(struct sampler *s)
{
	uint64_t one = 1;

	if (write(s->efd, &one, sizeof one) < 0 && errno != EAGAIN)
		log_err("sampler: eventfd write: %s", strerror(errno));
}

static void sampler_free(struct sampler *s)
{
	for (size_t i = 0; i < s->n_src; i++)
		close_capture(&s->src[i]);
	free(s->src);
	free(s->pfd);
	collectors_close(s->coll);
	nl_stats_close(s->nls);
	scfg_free(s->cfg);
	scfg_free(s->pending);
	if (s->efd >= 0)
		close(s->efd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int sampler_init(struct sampler *s, const struct config *cfg, char *err, size_t errlen)
{
	s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->efd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -1;
	}
	s->nls = nl_stats_open();
	s->cfg = scfg_copy(cfg);
	if (!s->nls || !s->cfg) {
		snprintf(err, errlen, "sampler: cannot allocate or open a netlink socket");
		return -1;
	}
	s->coll = collectors_open(s->cfg->collectors, s->cfg->n_collectors);
	/* Sources come from the config through the same path as a reload. */
	if (!s->coll || rebuild_sources(s, s->cfg) < 0) {
		snprintf(err, errlen, "sampler: out of memory");
		return -1;
	}
	return 0;
}

struct sampler *sampler_start(struct iftable *t, const struct config *cfg,
			      char *err, size_t errlen)
{
	struct sampler *s = calloc(1, sizeof *s);
	int rc;

	if (!s) {
		snprintf(err, errlen, "sampler: out of memory");
		return NULL;
	}
	s->efd = -1;
	s->table = t;
	pthread_mutex_init(&s->lock, NULL);
	if (sampler_init(s, cfg, err, errlen) < 0) {
		sampler_free(s);
		return NULL;
	}
	rc = pthread_create(&s->thread, NULL, sampler_main, s);
	if (rc) {
		snprintf(err, errlen, "sampler: pthread_create: %s", strerror(rc));
		sampler_free(s);
		return NULL;
	}
	return s;
}

void sampler_reload(struct sampler *s, const struct config *cfg)
{
	struct scfg *c = scfg_copy(cfg);

	if (!c) {
		log_err("sampler: reload: out of memory; keeping the old config");
		return;
	}
	pthread_mutex_lock(&s->lock);
	scfg_free(s->pending);
	s->pending = c;
	pthread_mutex_unlock(&s->lock);
	wake(s);
}

void sampler_status(struct sampler *s, char *buf, size_t len)
{
	if (!len)
		return;
	pthread_mutex_lock(&s->lock);
	hf_strlcpy(buf, s->status, len);
	pthread_mutex_unlock(&s->lock);
}

void sampler_table_changed(struct sampler *s)
{
	wake(s);
}

void sampler_stop(struct sampler *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = 1;
	pthread_mutex_unlock(&s->lock);
	wake(s);
	pthread_join(s->thread, NULL);
	/* Per-datagram errors are logged once; the totals say how it went. */
	if (s->coll)
		log_info("sampler: stopped; %llu datagrams sent, %llu send errors",
			 (unsigned long long)collectors_sent(s->coll),
			 (unsigned long long)collectors_errors(s->coll));
	sampler_free(s);
}
