/* The sFlow face's thread shell. sflow_agent.c decides everything sFlow;
 * this file owns what it cannot: the thread, the one packet socket
 * (capture.c), the collectors' sockets, a private netlink socket for
 * counters, the route room's sockets, and the mailbox through which the
 * agent thread hands over a new config, a new table or the registration
 * state (a mutex and an eventfd). */
#include "sampler.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "agentaddr.h"
#include "capture.h"
#include "collector.h"
#include "log.h"
#include "netlink.h"
#include "route.h"
#include "sflow_agent.h"
#include "util.h"

#define AGENT_RECHECK_MS  5000  /* how often a derived agent address and the path MTU are re-read */
#define DRAIN_BATCH       512   /* frames per wake-up: then the timers get a turn */
#define STATUS_MAX        1024
#define STATUS_EVERY_MS   1000  /* the status text's counts are this fresh */
/* After serving the ring, leave it alone this long so that one wake-up
 * serves many samples: a wake-up (a context switch) costs more than
 * encoding a sample. A drain that hits DRAIN_BATCH skips the pause. */
#define COALESCE_MS       20

enum { PFD_EVENT, PFD_CAPTURE, PFD_ROUTE, PFD_COUNT };

struct sampler {
	/* Shared with the agent thread, under lock. */
	pthread_mutex_t lock;
	struct config *pending;
	int stop;
	int registered;
	char status[STATUS_MAX];
	char exit_reason[256];
	int efd;                  /* wakes the thread */
	int exit_efd;             /* readable once the thread ended on its own */
	struct iftable *table;
	pthread_t thread;

	/* Owned by the sampler thread once it runs. */
	struct config *cfg;
	struct sflow_agent *core;
	struct capture *cap;
	struct collectors *coll;
	struct nl_stats *nls;
	struct route_watch *rw;
	uint64_t generation;
	int synced, answerable;
	struct hf_addr agent;
	int64_t agent_check_ms;
	int64_t quiet_until_ms;   /* see COALESCE_MS */
	uint64_t held_dropped_logged;
	char refused[256];        /* the last refusal logged */
	char waiting[256];        /* sample patterns matching no interface now */
	int64_t status_ms;        /* when the status text was last written */
	uint64_t status_dgrams;   /* datagrams sent as of that text */
	char self[1024];          /* pcap expression of our own datagrams */
	int fault_exit;           /* HOSTFLOWD_FAULT=sampler-exit: the tests' way to end the thread */
	uint32_t salt;            /* what else the kernel program depends on */
};

/* FNV-1a, 31 bits: a change of filter text, snap length or collectors must
 * re-install the program; the core only compares these numbers. */
static uint32_t fnv(const char *t, uint32_t h)
{
	for (; t && *t; t++)
		h = (h ^ (uint8_t)*t) * 16777619u;
	return h & 0x7fffffffu;
}

/* ---- the core's callbacks ---- */

static void cb_send(void *ctx, const uint8_t *buf, size_t len)
{
	struct sampler *s = ctx;

	collectors_send(s->coll, buf, len);
}

static int cb_counters(void *ctx, int kindex, struct if_counters *out)
{
	struct sampler *s = ctx;

	return nl_stats_read(s->nls, kindex, out);
}

static uint32_t cb_random(void *ctx)
{
	uint32_t v = 0;

	(void)ctx;
	if (getrandom(&v, sizeof v, GRND_NONBLOCK) != sizeof v)
		v = (uint32_t)monotonic_ms() * 2654435761u;
	return v;
}

/* The daemon's own datagrams are never sampled (with `sample lo` and a local
 * collector they would feed themselves forever): a pcap expression of them,
 * and with it everything else the program depends on. */
static void program_inputs(struct sampler *s)
{
	char hb[16];

	collectors_self_filter(s->coll, s->self, sizeof s->self);
	snprintf(hb, sizeof hb, "%u", s->cfg->header_bytes);
	s->salt = fnv(s->self, fnv(hb, 2166136261u));
}

static int cb_install(void *ctx, const struct sfa_port *ports, size_t n,
		      char *why, size_t whylen)
{
	struct sampler *s = ctx;
	struct capture_rule *r = calloc(n ? n : 1, sizeof *r);
	size_t k = 0;
	int rc;

	if (!r) {
		hf_strlcpy(why, "out of memory", whylen);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!ports[i].rate)
			continue;
		r[k].kindex = ports[i].kindex;
		r[k].arphrd = ports[i].arphrd;
		r[k].rate = ports[i].rate;
		r[k].filter = config_sample_match(s->cfg, ports[i].name)->filter;
		k++;
	}
	rc = capture_set_rules(s->cap, r, k, s->self[0] ? s->self : NULL,
			       s->cfg->header_bytes, why, whylen);
	free(r);
	return rc;
}

/* ---- status, for STATUS= and SIGUSR1 ---- */

static void publish_status(struct sampler *s)
{
	struct sfa_port sp[8];
	struct sfa_stats st;
	char buf[STATUS_MAX];
	size_t n, len;
	int w;

	sfa_get_stats(s->core, &st);
	n = sfa_sampled(s->core, sp, 8);
	w = snprintf(buf, sizeof buf, "sampling %zu", st.sampled);
	len = w > 0 ? (size_t)w : 0;
	for (size_t i = 0; i < n && len < sizeof buf; i++) {
		w = snprintf(buf + len, sizeof buf - len, "%s%s 1:%u", i ? ", " : " (",
			     sp[i].name, sp[i].rate);
		len += w > 0 ? (size_t)w : 0;
	}
	if (len < sizeof buf && st.sampled > n) {
		w = snprintf(buf + len, sizeof buf - len, ", %zu more", st.sampled - n);
		len += w > 0 ? (size_t)w : 0;
	}
	if (len < sizeof buf && s->waiting[0]) {
		w = snprintf(buf + len, sizeof buf - len, "%swaiting for %s", n ? "; " : " (",
			     s->waiting);
		len += w > 0 ? (size_t)w : 0;
	}
	if (len < sizeof buf && (n || s->waiting[0])) {
		w = snprintf(buf + len, sizeof buf - len, ")");
		len += w > 0 ? (size_t)w : 0;
	}
	if (len + 2 < sizeof buf) {
		memcpy(buf + len, "; ", 3);
		len += 2 + collectors_describe(s->coll, buf + len + 2, sizeof buf - len - 2);
	}
	if (len < sizeof buf && !s->answerable && s->cfg->hold_samples)
		snprintf(buf + len, sizeof buf - len, "; holding samples");
	pthread_mutex_lock(&s->lock);
	memcpy(s->status, buf, sizeof s->status);
	pthread_mutex_unlock(&s->lock);
	s->status_ms = monotonic_ms();
	s->status_dgrams = st.datagrams;
}

/* ---- the table ---- */

/* The ports the core needs: every row, with the rate and line of the
 * `sample` line that decides for it (rate 0 when none, or no collector). */
static struct sfa_port *ports_of(struct sampler *s, const struct if_snapshot *snap)
{
	struct sfa_port *v = calloc(snap->n ? snap->n : 1, sizeof *v);

	if (!v)
		return NULL;
	for (size_t i = 0; i < snap->n; i++) {
		const struct if_row *r = &snap->rows[i];
		const struct cfg_sample *m = config_sample_match(s->cfg, r->name);

		v[i].kindex = r->kindex;
		v[i].ifindex = r->ifindex;
		hf_strlcpy(v[i].name, r->name, sizeof v[i].name);
		v[i].arphrd = r->arphrd;
		v[i].iftype = r->iftype;
		v[i].speed_bps = r->speed_bps;
		v[i].admin = r->admin;
		v[i].oper = r->oper;
		v[i].promisc = r->promisc;
		if (m && s->cfg->n_collectors) {
			v[i].rate = config_sample_rate(s->cfg, m);
			v[i].filter_id = (int)fnv(m->filter, s->salt);
		}
	}
	return v;
}

/* The sample lines (not `off`) that match no interface of the snapshot. */
static void find_waiting(struct sampler *s, const struct if_snapshot *snap)
{
	size_t used = 0;

	s->waiting[0] = '\0';
	for (size_t i = 0; i < s->cfg->n_samples && used < sizeof s->waiting; i++) {
		const struct cfg_sample *c = &s->cfg->samples[i];
		size_t r = 0;
		int w;

		if (c->off)
			continue;
		while (r < snap->n && fnmatch(c->name, snap->rows[r].name, 0) != 0)
			r++;
		if (r < snap->n)
			continue;
		w = snprintf(s->waiting + used, sizeof s->waiting - used, "%s%s",
			     used ? ", " : "", c->name);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

#define LOG_CHANGES_MAX 8   /* per-interface lines per change; then a count */

static size_t sampled_list(struct sampler *s, struct sfa_port **out)
{
	struct sfa_stats st;

	sfa_get_stats(s->core, &st);
	*out = calloc(st.sampled ? st.sampled : 1, sizeof **out);
	return *out ? sfa_sampled(s->core, *out, st.sampled) : 0;
}

/* Says what changed between two sampled lists (both sorted by kindex):
 * interfaces taken, let go, or sampled at another rate. */
static void log_changes(const struct sfa_port *a, size_t na, const struct sfa_port *b,
			size_t nb)
{
	size_t i = 0, j = 0, said = 0, more = 0;

	while (i < na || j < nb) {
		int d = i == na ? 1 : j == nb ? -1 :
			(a[i].kindex > b[j].kindex) - (a[i].kindex < b[j].kindex);
		int note = d != 0 || a[i].rate != b[j].rate;

		if (note && said >= LOG_CHANGES_MAX)
			more++;
		else if (d < 0)
			log_info("sampler: %s no longer sampled", a[i].name);
		else if (d > 0)
			log_info("sampler: sampling %s (ifIndex %u) 1 in %u", b[j].name,
				 b[j].ifindex, b[j].rate);
		else if (note)
			log_info("sampler: %s now 1 in %u", b[j].name, b[j].rate);
		said += note;
		i += d <= 0;
		j += d >= 0;
	}
	if (more)
		log_info("sampler: and %zu more interface changes", more);
}

static void log_sampling(struct sampler *s, const struct sfa_port *before, size_t nbefore,
			 int force)
{
	struct sfa_port *after;
	size_t n = sampled_list(s, &after);

	log_changes(before, nbefore, after, n);
	if (n != nbefore || force)
		log_info("sampler: sampling %zu interface%s", n, n == 1 ? "" : "s");
	free(after);
}

/* Hands the table to the core when it changed (or force). */
static void sync_table(struct sampler *s, int force, int64_t now)
{
	struct if_snapshot *snap = iftable_acquire(s->table);
	struct sfa_port *ports, *before;
	size_t nbefore;
	char why[512] = "";

	if (!snap)
		return;
	if (!force && s->synced && snap->generation == s->generation) {
		iftable_release(s->table, snap);
		return;
	}
	nbefore = sampled_list(s, &before);
	ports = ports_of(s, snap);
	if (!ports) {
		log_err("sampler: out of memory; the table's change waits");
		iftable_release(s->table, snap);
		free(before);
		return;
	}
	if (sfa_sync(s->core, ports, snap->n, now, why, sizeof why) < 0) {
		/* The kernel keeps what it had, and so do the samples' rates. */
		if (strcmp(why, s->refused))
			log_warn("sampler: new sampling refused (%s); the rates in "
				 "force stay", why);
		hf_strlcpy(s->refused, why, sizeof s->refused);
	} else {
		s->refused[0] = '\0';
	}
	s->generation = snap->generation;
	s->synced = 1;
	find_waiting(s, snap);
	free(ports);
	iftable_release(s->table, snap);
	log_sampling(s, before, nbefore, force);
	free(before);
	publish_status(s);
}

/* ---- agent address, path ---- */

static void check_agent(struct sampler *s, int64_t now)
{
	struct hf_addr a;
	char buf[INET6_ADDRSTRLEN] = "?";
	enum agentaddr_source src;

	s->agent_check_ms = now + AGENT_RECHECK_MS;
	sfa_set_max_datagram(s->core, collectors_max_payload(s->coll));
	src = agentaddr_choose(&s->cfg->agent_address, s->cfg->agent_interface, &a);
	if (s->agent.family && memcmp(&a, &s->agent, sizeof a) == 0)
		return;
	s->agent = a;
	sfa_set_agent(s->core, &a, now);
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

static struct sfa_settings settings_of(const struct sampler *s, const struct config *c)
{
	struct sfa_settings set = { 0 };

	set.agent = s->agent;
	set.sub_agent_id = c->sub_agent_id;
	set.polling_interval = c->polling_interval;
	set.max_datagram = collectors_max_payload(s->coll);
	set.hold = c->hold_samples;
	set.hold_bytes = c->hold_bytes;
	return set;
}

/* ---- holding ---- */

static void set_answerable(struct sampler *s, int on, int64_t now)
{
	struct sfa_stats st;

	if (on == s->answerable)
		return;
	s->answerable = on;
	sfa_get_stats(s->core, &st);
	if (!on && s->cfg->hold_samples)
		log_info("sampler: not registered with snmpd: holding samples until "
			 "SNMP answers for their interfaces");
	sfa_set_answerable(s->core, on, now);
	if (on && s->cfg->hold_samples) {
		uint64_t lost = st.held_dropped - s->held_dropped_logged;

		if (lost)
			log_warn("sampler: registered: sending held samples; %llu "
				 "dropped while holding (hold full), counted in drops",
				 (unsigned long long)lost);
		else if (st.queued_bytes)
			log_info("sampler: registered: sending %zu bytes of held "
				 "samples", st.queued_bytes);
		s->held_dropped_logged = st.held_dropped;
	}
	publish_status(s);
}

/* ---- reload ---- */

static int collectors_differ(const struct config *a, const struct config *b)
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

static void apply_config(struct sampler *s, struct config *n, int64_t now)
{
	struct sfa_settings set;

	/* What is queued was sampled under the old config: send it with it. */
	sfa_flush(s->core, now);
	if (collectors_differ(s->cfg, n)) {
		struct collectors *c = collectors_open(n->collectors, n->n_collectors);

		if (!c) {
			log_err("sampler: reload: out of memory; keeping the old config");
			config_free(n);
			return;
		}
		collectors_close(s->coll);
		s->coll = c;
	}
	config_free(s->cfg);
	s->cfg = n;
	program_inputs(s);
	s->agent.family = 0;      /* re-chosen below, logged once */
	check_agent(s, now);
	set = settings_of(s, n);
	sfa_configure(s->core, &set, now);
	sync_table(s, 1, now);
}

/* Takes what the agent thread handed over; returns 1 when asked to stop. */
static void drain_pending(struct sampler *s, int64_t now);

static int take_requests(struct sampler *s, int64_t now)
{
	struct config *n;
	uint64_t v;
	int stop, reg;

	if (read(s->efd, &v, sizeof v) < 0 && errno != EAGAIN)
		log_debug("sampler: eventfd read: %s", strerror(errno));
	pthread_mutex_lock(&s->lock);
	n = s->pending;
	s->pending = NULL;
	stop = s->stop;
	reg = s->registered;
	pthread_mutex_unlock(&s->lock);
	if (stop) {
		config_free(n);
		return 1;
	}
	drain_pending(s, now);
	if (n)
		apply_config(s, n, now);
	/* The table first: a new interface is answerable once registered. */
	sync_table(s, 0, now);
	set_answerable(s, reg, now);
	return 0;
}

/* ---- the thread ---- */

struct frame_ctx {
	struct sampler *s;
	int64_t now;
};

/* Classified here, after the kernel chose the frame at random: the route
 * lookup runs on sampled frames only and cannot bias the choice. */
static void on_frame(void *ctx, const struct capture_frame *f)
{
	struct frame_ctx *fc = ctx;
	const struct sfa_port *p = sfa_find_port(fc->s->core, f->kindex);
	struct sfa_frame fr = { f->kindex, f->outgoing, f->data, f->caplen, f->len, NULL };
	struct fwd_info fi;

	if (!p)
		return;
	if (route_classify(fc->s->rw, f->kindex, p->arphrd, f->outgoing, f->data,
			   f->caplen, &fi) == 0 && fi.forwarded)
		fr.fwd = &fi;
	sfa_frame(fc->s->core, &fr, fc->now);
}

static void service_capture(struct sampler *s, short revents, int64_t now)
{
	struct frame_ctx fc = { s, now };
	unsigned got = 0;

	if (revents & POLLIN)
		got = capture_drain(s->cap, DRAIN_BATCH, on_frame, &fc);
	/* Readable with no frame: a socket's error (ENETDOWN: its link went
	 * down or away) is pending; clear it, or poll() reports it forever. */
	if (!got || (revents & POLLERR)) {
		int e = capture_clear_error(s->cap);

		if (e)
			log_debug("sampler: capture: %s", strerror(e));
	}
	sfa_ring_drops(s->core, capture_take_drops(s->cap));
	if (got < DRAIN_BATCH)
		s->quiet_until_ms = now + COALESCE_MS;
}

/* Frames the kernel took under the sampling in force are handled before a
 * new table or config replaces it: a deleted link's socket closes and its
 * source goes, and what its ring still held would be lost. Bounded: a busy
 * ring cannot keep the thread here. */
static void drain_pending(struct sampler *s, int64_t now)
{
	struct frame_ctx fc = { s, now };
	int rounds = 64;

	while (capture_drain(s->cap, DRAIN_BATCH, on_frame, &fc) == DRAIN_BATCH && --rounds)
		;
	sfa_ring_drops(s->core, capture_take_drops(s->cap));
}

static int poll_timeout(const struct sampler *s, int64_t now, int64_t next)
{
	int64_t t = next;

	if (!s->cfg->agent_address.family && s->agent_check_ms < t)
		t = s->agent_check_ms;
	if (s->quiet_until_ms > now && s->quiet_until_ms < t)
		t = s->quiet_until_ms;
	return t <= now ? 0 : (int)(t - now);
}

/* The counts in the status text follow the datagrams sent, at most once a
 * second; an idle sampler has nothing to refresh and is not woken for it.
 * Returns the next wake-up, moved earlier while a refresh is pending. */
static int64_t refresh_status(struct sampler *s, int64_t now, int64_t next)
{
	struct sfa_stats st;

	sfa_get_stats(s->core, &st);
	if (st.datagrams == s->status_dgrams)
		return next;
	if (now - s->status_ms >= STATUS_EVERY_MS) {
		publish_status(s);
		return next;
	}
	return next < s->status_ms + STATUS_EVERY_MS ? next : s->status_ms + STATUS_EVERY_MS;
}

/* The thread ended on its own: the agent thread must learn it (the daemon
 * exits and its service manager restarts it), never a silent half-daemon. */
static void died(struct sampler *s, const char *what, int err)
{
	uint64_t one = 1;

	pthread_mutex_lock(&s->lock);
	snprintf(s->exit_reason, sizeof s->exit_reason, "%s: %s", what, strerror(err));
	pthread_mutex_unlock(&s->lock);
	log_err("sampler: %s", s->exit_reason);
	if (write(s->exit_efd, &one, sizeof one) < 0)
		log_err("sampler: exit eventfd: %s", strerror(errno));
}

static void *sampler_main(void *arg)
{
	struct sampler *s = arg;
	int64_t next = monotonic_ms();

	check_agent(s, next);
	sync_table(s, 1, next);
	if (s->cfg->hold_samples)
		log_info("sampler: holding samples until snmpd answers for their "
			 "interfaces (not registered yet)");
	for (;;) {
		int64_t now = monotonic_ms();
		struct pollfd pfd[PFD_COUNT] = {
			[PFD_EVENT] = { .fd = s->efd, .events = POLLIN },
			[PFD_CAPTURE] = { .fd = now < s->quiet_until_ms ? -1 : capture_fd(s->cap),
					  .events = POLLIN },
			[PFD_ROUTE] = { .fd = route_event_fd(s->rw), .events = POLLIN },
		};
		int rc = poll(pfd, PFD_COUNT, poll_timeout(s, now, next));

		now = monotonic_ms();
		if (rc < 0 && errno != EINTR) {
			died(s, "poll", errno);
			break;
		}
		if (s->fault_exit) {
			died(s, "fault injected (HOSTFLOWD_FAULT)", ECANCELED);
			break;
		}
		if (rc > 0 && (pfd[PFD_EVENT].revents & POLLIN) && take_requests(s, now))
			break;
		/* The ring's frames were taken under the routing before these
		 * events (an address deleted the moment the traffic ends must not
		 * make the host's last packets look forwarded): them first. */
		if (rc > 0 && (pfd[PFD_ROUTE].revents & POLLIN)) {
			drain_pending(s, now);
			route_process_events(s->rw);
		}
		if (rc > 0 && pfd[PFD_CAPTURE].revents)
			service_capture(s, pfd[PFD_CAPTURE].revents, now);
		if (!s->cfg->agent_address.family && now >= s->agent_check_ms)
			check_agent(s, now);
		next = sfa_tick(s->core, now);
		next = refresh_status(s, now, next);
	}
	sfa_flush(s->core, monotonic_ms());
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
	sfa_free(s->core);
	capture_close(s->cap);
	route_close(s->rw);
	collectors_close(s->coll);
	nl_stats_close(s->nls);
	config_free(s->cfg);
	config_free(s->pending);
	if (s->efd >= 0)
		close(s->efd);
	if (s->exit_efd >= 0)
		close(s->exit_efd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int sampler_init(struct sampler *s, struct config *cfg, char *err, size_t errlen)
{
	struct sfa_callbacks cb = { s, cb_send, cb_counters, cb_install, cb_random };
	struct sfa_settings set;

	s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->exit_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->efd < 0 || s->exit_efd < 0) {
		snprintf(err, errlen, "sampler: eventfd: %s", strerror(errno));
		return -1;
	}
	s->cfg = config_ref(cfg);
	s->fault_exit = getenv("HOSTFLOWD_FAULT") &&
			!strcmp(getenv("HOSTFLOWD_FAULT"), "sampler-exit");
	s->nls = nl_stats_open();
	s->coll = collectors_open(cfg->collectors, cfg->n_collectors);
	if (!s->nls || !s->coll) {
		snprintf(err, errlen, "sampler: cannot allocate or open a netlink socket");
		return -1;
	}
	/* One socket for every sampled interface, opened here so that a
	 * missing CAP_NET_RAW stops the start, not a running thread. */
	s->cap = capture_open_all(cfg->header_bytes, err, errlen);
	if (!s->cap)
		return -1;
	s->rw = route_open(err, errlen);
	if (!s->rw)
		return -1;
	program_inputs(s);
	set = settings_of(s, cfg);
	s->core = sfa_new(&set, &cb, monotonic_ms());
	if (!s->core) {
		snprintf(err, errlen, "sampler: out of memory");
		return -1;
	}
	publish_status(s);
	return 0;
}

struct sampler *sampler_start(struct iftable *t, struct config *cfg,
			      char *err, size_t errlen)
{
	struct sampler *s = calloc(1, sizeof *s);
	int rc;

	if (!s) {
		snprintf(err, errlen, "sampler: out of memory");
		return NULL;
	}
	s->efd = s->exit_efd = -1;
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

void sampler_reload(struct sampler *s, struct config *cfg)
{
	pthread_mutex_lock(&s->lock);
	config_free(s->pending);
	s->pending = config_ref(cfg);
	pthread_mutex_unlock(&s->lock);
	wake(s);
}

void sampler_table_changed(struct sampler *s)
{
	wake(s);
}

void sampler_set_registered(struct sampler *s, int registered)
{
	pthread_mutex_lock(&s->lock);
	s->registered = registered;
	pthread_mutex_unlock(&s->lock);
	wake(s);
}

int sampler_exit_fd(const struct sampler *s)
{
	return s->exit_efd;
}

void sampler_exit_reason(struct sampler *s, char *buf, size_t len)
{
	pthread_mutex_lock(&s->lock);
	hf_strlcpy(buf, s->exit_reason[0] ? s->exit_reason : "unknown", len);
	pthread_mutex_unlock(&s->lock);
}

void sampler_status(struct sampler *s, char *buf, size_t len)
{
	pthread_mutex_lock(&s->lock);
	hf_strlcpy(buf, s->status, len);
	pthread_mutex_unlock(&s->lock);
}

void sampler_stop(struct sampler *s)
{
	struct sfa_stats st;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = 1;
	pthread_mutex_unlock(&s->lock);
	wake(s);
	pthread_join(s->thread, NULL);
	/* Per-datagram errors are logged once; the totals say how it went. */
	sfa_get_stats(s->core, &st);
	log_info("sampler: stopped; %llu datagrams sent, %llu send errors, %llu lost, "
		 "%llu samples dropped while holding, %llu by the ring",
		 (unsigned long long)collectors_sent(s->coll),
		 (unsigned long long)collectors_errors(s->coll),
		 (unsigned long long)collectors_lost(s->coll),
		 (unsigned long long)st.held_dropped, (unsigned long long)st.ring_dropped);
	sampler_free(s);
}
