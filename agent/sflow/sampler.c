/* The sFlow face's thread shell. sflow_agent.c decides everything sFlow;
 * this file owns what it cannot: the thread, the capture (capture.c:
 * packet sockets or tc eBPF), the collectors' sockets, a private netlink socket for
 * counters, the route room's sockets, and the mailbox through which the
 * agent thread hands over a new config, a new table or the registration
 * state (a mutex and an eventfd). */
#include "sflow/sampler.h"
#include "sflow/sampler_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "sflow/agentaddr.h"
#include "sflow/capture.h"
#include "sflow/collector.h"
#include "base/log.h"
#include "table/snapshot.h"
#include "sflow/route.h"
#include "sflow/core/sflow_agent.h"
#include "base/util.h"

#define PATH_RECHECK_MS   5000  /* how often the collectors' path MTU is re-read */
#define DRAIN_BATCH       512   /* frames per wake-up: then the timers get a turn */
/* After serving the ring, leave it alone up to this long so that one
 * wake-up serves many samples (capture_pause_ms: shorter when samples come
 * fast). A drain that hits DRAIN_BATCH skips the pause. */
#define COALESCE_MS       20

enum { PFD_EVENT, PFD_CAPTURE, PFD_ROUTE, PFD_COUNT };

static int64_t monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- the core's callbacks ---- */

static void cb_send(void *ctx, const uint8_t *buf, size_t len)
{
	struct sampler *s = ctx;

	collectors_send(s->coll, buf, len);
}

/* Read now (the pool at most every 100 ms, a counter sample each polling
 * interval) and left in the table's store, so that SNMP never answers less
 * than a sample just sent. */
static int cb_counters(void *ctx, int kindex, struct if_counters *out)
{
	struct sampler *s = ctx;

	return iftable_counters(s->table, s->nls, kindex, 0, out, NULL);
}

static int cb_classify(void *ctx, int kindex, unsigned arphrd, int outgoing,
		       const uint8_t *data, uint32_t caplen, int64_t now, struct fwd_info *out)
{
	struct sampler *s = ctx;

	return route_classify(s->rw, now, kindex, arphrd, outgoing, data, caplen, out);
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
 * collector they would feed themselves forever, and the ICMP errors a
 * silent collector sends back too): their flows, and with them everything
 * else the program depends on. */
static void program_inputs(struct sampler *s)
{
	char hb[16];

	s->nself = collectors_self(s->coll, s->self, BPFPROG_SELF_MAX);
	snprintf(hb, sizeof hb, "%u", s->cfg->header_bytes);
	s->salt = sampler_hash_bytes(s->self, s->nself * sizeof s->self[0],
				     sampler_hash(hb, SAMPLER_HASH_SEED));
}

static int cb_install(void *ctx, const struct sfa_port *ports, size_t n, uint8_t *refused,
		      char *why, size_t whylen)
{
	return sampler_install(ctx, ports, n, refused, why, whylen);
}

/* ---- agent address, path ---- */

/* The agent address from the host's addresses as the route room's events
 * left them (no system call), and the collectors' path MTU (a route may
 * have changed), also when agent_address is configured. */
static void check_agent(struct sampler *s, int64_t now)
{
	struct hf_addr a;
	char buf[INET6_ADDRSTRLEN] = "?";
	enum agentaddr_source src;
	struct agentaddr_cand *c = NULL;
	size_t n = 0;

	s->agent_check_ms = now + PATH_RECHECK_MS;
	sfa_set_max_datagram(s->core, collectors_max_payload(s->coll));
	if (!s->cfg->agent_address.family)
		n = route_addresses(s->rw, &c);
	src = agentaddr_pick(&s->cfg->agent_address, s->cfg->agent_interface, c, n, &a);
	free(c);
	if (s->agent.family && memcmp(&a, &s->agent, sizeof a) == 0)
		return;
	s->agent = a;
	sfa_set_agent(s->core, &a, now);
	inet_ntop(a.family, a.a, buf, sizeof buf);
	/* A collector takes the agent address as the exporter and polls SNMP
	 * there: a stand-in address is worth a warning each time it is used. */
	if (src == AGENTADDR_LOOPBACK)
		log_warn("sampler", "no global address found; agent address 127.0.0.1");
	else if (src == AGENTADDR_OTHER)
		log_warn("sampler", "agent_interface %s has no global address; agent "
			 "address %s (of another interface) until it has one",
			 s->cfg->agent_interface, buf);
	else
		log_info("sampler", "agent address %s", buf);
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
		log_info("sampler", "not registered with snmpd: holding samples until "
			 "SNMP answers for their interfaces");
	sfa_set_answerable(s->core, on, now);
	if (on && s->cfg->hold_samples) {
		uint64_t lost = st.held_dropped - s->held_dropped_logged;

		if (lost)
			log_warn("sampler", "registered: sending held samples; %llu "
				 "dropped while holding (hold full), counted in drops",
				 (unsigned long long)lost);
		else if (st.queued_bytes)
			log_info("sampler", "registered: sending %zu bytes of held "
				 "samples", st.queued_bytes);
		s->held_dropped_logged = st.held_dropped;
	}
	sampler_publish_status(s);
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
	char why[512];   /* logged by sampler_sync_table */

	/* What is queued was sampled under the old config: send it with it. */
	sfa_flush(s->core, now);
	if (n->capture != s->cfg->capture)
		log_warn("sampler", "reload: `capture` is read at start; keeping %s",
			 capture_kind(s->cap));
	if (collectors_differ(s->cfg, n)) {
		char err[256];
		struct collectors *c = collectors_open(n->collectors, n->n_collectors, err,
						       sizeof err);

		/* The old config goes on whole: its collectors match its lines. */
		if (!c) {
			log_err("sampler", "reload: %s; the sampler keeps the previous "
				"configuration", err);
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
	sfa_retry_refused(s->core);   /* the limits may have been raised */
	sampler_sync_table(s, 1, now, why, sizeof why);
}

static void drain_pending(struct sampler *s, int64_t now);

/* What the thread does after taking the agent thread's requests. */
enum sampler_next {
	SAMPLER_GO_ON,
	SAMPLER_STOP,
};

/* Takes what the agent thread handed over: a new config, the table, the
 * registration state, or a stop. */
static enum sampler_next take_requests(struct sampler *s, int64_t now)
{
	struct config *n;
	uint64_t v;
	int stop, reg;
	char why[512];   /* logged by sampler_sync_table */

	if (read(s->efd, &v, sizeof v) < 0 && errno != EAGAIN)
		log_debug("sampler", "eventfd read: %s", strerror(errno));
	pthread_mutex_lock(&s->lock);
	n = s->pending;
	s->pending = NULL;
	stop = s->stop;
	reg = s->registered;
	pthread_mutex_unlock(&s->lock);
	if (stop) {
		config_free(n);
		return SAMPLER_STOP;
	}
	drain_pending(s, now);
	if (n)
		apply_config(s, n, now);
	/* The table first: a new interface is answerable once registered. */
	sampler_sync_table(s, 0, now, why, sizeof why);
	set_answerable(s, reg, now);
	return SAMPLER_GO_ON;
}

/* ---- the thread ---- */

struct frame_ctx {
	struct sampler *s;
	int64_t now;
};

/* The core finds the frame's source and has it classified (cb_classify). */
static void on_frame(void *ctx, const struct capture_frame *f)
{
	struct frame_ctx *fc = ctx;
	struct sfa_frame fr = { f->kindex, f->outgoing, f->data, f->caplen, f->len, NULL };

	if (f->rejected) {
		sfa_rejected(fc->s->core, f->kindex);
		return;
	}
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
			log_debug("sampler", "capture: %s", strerror(e));
	}
	sfa_ring_drops(s->core, capture_take_drops(s->cap));
	sampler_take_late_refusals(s, now);
	/* The rate the pause is made for: every frame since the ring was
	 * last found empty, over the time since, in whole ms rounded down (a
	 * shorter pause, never a longer one). Measured per batch, a few
	 * frames in a fraction of a ms that counted as 1 ms made a 20 ms
	 * pause at 130,000 frames a second: a 2,048-frame ring overflowed. */
	s->cycle_frames += got;
	if (got < DRAIN_BATCH) {
		int64_t us = monotonic_us();

		s->quiet_until_ms = now + capture_pause_ms(s->cycle_frames,
							   (us - s->emptied_us) / 1000,
							   capture_ring_frames(s->cap),
							   COALESCE_MS);
		s->emptied_us = us;
		s->cycle_frames = 0;
	}
}

/* Frames the kernel took under the sampling in force are handled before a
 * new table or config replaces it: a deleted link's socket closes and its
 * source goes, and what its ring still held would be lost. Bounded: a busy
 * ring cannot keep the thread here. */
static void drain_pending(struct sampler *s, int64_t now)
{
	struct frame_ctx fc = { s, now };
	int rounds = 64;
	unsigned got;

	do {
		got = capture_drain(s->cap, DRAIN_BATCH, on_frame, &fc);
		s->cycle_frames += got;
	} while (got == DRAIN_BATCH && --rounds);
	sfa_ring_drops(s->core, capture_take_drops(s->cap));
	sampler_take_late_refusals(s, now);
}

static int poll_timeout(const struct sampler *s, int64_t now, int64_t next)
{
	int64_t t = next, retire = capture_retire_due_ms(s->cap);

	if (s->agent_check_ms < t)
		t = s->agent_check_ms;
	if (retire && retire < t)
		t = retire;
	if (s->quiet_until_ms > now && s->quiet_until_ms < t)
		t = s->quiet_until_ms;
	return t <= now ? 0 : (int)(t - now);
}

/* The thread ended on its own: the agent thread must learn it (the daemon
 * exits and its service manager restarts it), never a silent half-daemon. */
static void died(struct sampler *s, const char *what, int err)
{
	uint64_t one = 1;

	pthread_mutex_lock(&s->lock);
	snprintf(s->exit_reason, sizeof s->exit_reason, "%s: %s", what, strerror(err));
	pthread_mutex_unlock(&s->lock);
	log_err("sampler", "%s", s->exit_reason);
	if (write(s->exit_efd, &one, sizeof one) < 0)
		log_err("sampler", "exit eventfd: %s", strerror(errno));
}

static void *sampler_main(void *arg)
{
	struct sampler *s = arg;
	int64_t next = monotonic_ms();

	if (s->cfg->hold_samples)
		log_info("sampler", "holding samples until snmpd answers for their "
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
		if (rc > 0 && (pfd[PFD_EVENT].revents & POLLIN) && take_requests(s, now) == SAMPLER_STOP)
			break;
		/* The ring's frames were taken under the routing before these
		 * events (an address deleted the moment the traffic ends must not
		 * make the host's last packets look forwarded): them first. */
		if (rc > 0 && (pfd[PFD_ROUTE].revents & POLLIN)) {
			drain_pending(s, now);
			route_process_events(s->rw);
			/* An address or a link changed: the agent address may have. */
			if (route_addresses_changed(s->rw) && !s->cfg->agent_address.family)
				check_agent(s, now);
		}
		if (rc > 0 && pfd[PFD_CAPTURE].revents)
			service_capture(s, pfd[PFD_CAPTURE].revents, now);
		/* A replaced socket still taps until it is closed. */
		if (capture_retire_due_ms(s->cap) && now >= capture_retire_due_ms(s->cap))
			drain_pending(s, now);
		if (now >= s->agent_check_ms)
			check_agent(s, now);
		next = sfa_tick(s->core, now);
		next = sampler_refresh_status(s, now, next);
	}
	sfa_flush(s->core, monotonic_ms());
	return NULL;
}

/* ---- the agent thread's side ---- */

static void wake(struct sampler *s)
{
	uint64_t one = 1;

	if (write(s->efd, &one, sizeof one) < 0 && errno != EAGAIN)
		log_err("sampler", "eventfd write: %s", strerror(errno));
}

static void sampler_free(struct sampler *s)
{
	sfa_free(s->core);
	capture_close(s->cap);
	route_close(s->rw);
	collectors_close(s->coll);
	link_stats_close(s->nls);
	config_free(s->cfg);
	config_free(s->pending);
	free(s->refusals);
	if (s->efd >= 0)
		close(s->efd);
	if (s->exit_efd >= 0)
		close(s->exit_efd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int sampler_init(struct sampler *s, struct config *cfg, char *err, size_t errlen)
{
	struct sfa_callbacks cb = { s, cb_send, cb_counters, cb_install, cb_random,
				    cb_classify };
	struct sfa_settings set;
	char why[256];

	s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->exit_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->efd < 0 || s->exit_efd < 0) {
		snprintf(err, errlen, "sampler: eventfd: %s", strerror(errno));
		return -1;
	}
	s->cfg = config_ref(cfg);
	s->fault_exit = getenv("HOSTFLOWD_FAULT") &&
			!strcmp(getenv("HOSTFLOWD_FAULT"), "sampler-exit");
	s->nls = link_stats_open();
	if (!s->nls) {
		snprintf(err, errlen, "sampler: cannot allocate or open a netlink socket");
		return -1;
	}
	s->coll = collectors_open(cfg->collectors, cfg->n_collectors, err, errlen);
	if (!s->coll)
		return -1;
	/* The capture, opened here so that missing rights stop the start,
	 * not a running thread. Chosen once: `capture` is read at start. */
	s->cap = capture_open(sampler_capture_backend(cfg), cfg->header_bytes, err, errlen);
	if (!s->cap)
		return -1;
	log_info("sampler", "capture: %s", capture_kind(s->cap));
	s->rw = route_open(why, sizeof why);
	if (!s->rw) {
		snprintf(err, errlen, "sampler: routes: %s", why);
		return -1;
	}
	program_inputs(s);
	set = settings_of(s, cfg);
	s->core = sfa_new(&set, &cb, monotonic_ms());
	if (!s->core) {
		snprintf(err, errlen, "sampler: out of memory");
		return -1;
	}
	/* The first sampling is put in force here, on the caller's thread: a
	 * capture that cannot be had (no socket left) stops the start instead
	 * of leaving a daemon that samples nothing. What the kernel refuses
	 * for some interfaces is not a failure: the status names them. */
	check_agent(s, monotonic_ms());
	if (sampler_sync_table(s, 1, monotonic_ms(), err, errlen) < 0)
		return -1;
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

unsigned sampler_fds_spare(const struct sampler *s, const struct config *cfg)
{
	/* What the capture in use may still open (s->cap is set for life at
	 * start), and a reload's collectors opened before the old ones close. */
	return capture_fds_spare(s->cap) + (unsigned)cfg->n_collectors;
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
	struct route_stats rs;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = 1;
	pthread_mutex_unlock(&s->lock);
	wake(s);
	pthread_join(s->thread, NULL);
	/* Per-datagram errors are logged once; the totals say how it went. */
	sfa_get_stats(s->core, &st);
	route_get_stats(s->rw, &rs);
	log_info("sampler", "stopped; %llu datagrams sent, %llu send errors, %llu lost, "
		 "%llu samples dropped while holding, %llu by the ring",
		 (unsigned long long)collectors_sent(s->coll),
		 (unsigned long long)collectors_errors(s->coll),
		 (unsigned long long)collectors_lost(s->coll),
		 (unsigned long long)st.held_dropped, (unsigned long long)st.ring_dropped);
	log_info("route", "%zu routes mirrored from %llu events, the routes dumped again %llu "
		 "times, everything %llu; classifications %llu cached, %llu computed (%zu held)",
		 rs.routes, (unsigned long long)rs.events, (unsigned long long)rs.route_dumps,
		 (unsigned long long)rs.resyncs, (unsigned long long)rs.hits,
		 (unsigned long long)rs.misses, rs.cached);
	sampler_free(s);
}
