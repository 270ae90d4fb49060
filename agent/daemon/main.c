/* hostflowd: options, wiring, the startup order, reload, and the agent
 * thread's loop turn (which fd is served how). The daemon's life is in
 * daemon.c, net-snmp in snmpagent.c, name resolution in resolver.c.
 *
 * Startup leaves nothing half-started: everything that can fail on a bad
 * configuration or a missing kernel facility happens before we daemonize,
 * and the parent exits only once the child says it is up. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <unistd.h>

#include "config/config.h"
#include "daemon/daemon.h"
#include "config/ifmap.h"
#include "snmp/ifmib.h"
#include "table/iftable.h"
#include "base/log.h"
#include "daemon/mapprint.h"
#include "table/netlink.h"
#include "config/resolver.h"
#include "sflow/core/pfilter.h"
#include "sflow/sampler.h"
#include "snmp/snmpagent.h"
#include "daemon/statusline.h"
#include "base/util.h"

#ifndef HOSTFLOW_VERSION
#define HOSTFLOW_VERSION "0.1.0"
#endif
#define DEFAULT_CONF "/etc/hostflow/hostflowd.conf"
#define APP "hostflowd"
#define SAFETY_DUMP_MS 30000
/* Link events are applied at once and published at most once per window:
 * an isolated change is served at once, a burst of thousands costs one
 * table build per window, and every change is served within it. */
#define EVENT_PUBLISH_MS 200

enum { EXIT_OK = 0, EXIT_CONFIG = 1, EXIT_RUNTIME = 2 };

struct opts {
	const char *conf;
	int foreground, check, map, verbose;
	const char *format;
};

struct daemon {
	struct opts o;
	struct config *cfg;
	struct hf_ifmap *map;
	struct netlink *nl;
	struct iftable *table;
	struct sampler *sampler;
	int registered;         /* what the sampler was last told */
	struct statusline status;
	int status_state;       /* registration state of the last status line */
	struct ifmib_source src;
	struct snmpagent *agent;
	int sigfd;
	int report_fd;          /* pipe to the waiting parent, -1 once reported */
	int64_t last_dump_ms;
	struct resolver *resolving;     /* a reload's names being resolved, or NULL */
	struct hf_ifmap *pending_map;   /* that reload's map */
	int reload_again;               /* SIGHUP while resolving */
	int exit_code;                  /* of the loop: EXIT_OK unless a thread died */
	int64_t events_due_ms;  /* publish applied link events then; 0: none pending */
	int64_t published_ms;   /* last table build (dump or events) */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " APP " [-f] [-d]... [-c FILE]\n"
		"       " APP " -t [-c FILE]\n"
		"       " APP " -m [-F pmacct|akvorado] [-c FILE]\n"
		"  -c FILE  configuration (default " DEFAULT_CONF ")\n"
		"  -f       stay in the foreground, log to stderr\n"
		"  -d       more detail (repeat for more)\n"
		"  -t       check the configuration and the ifindex map, then exit\n"
		"  -m       print the ifIndex map that would be served, then exit\n"
		"  -F FMT   -m output: pmacct (interfaces.map, default) or akvorado (JSON)\n"
		"  -h       this help\n"
		"  -V       version\n");
}

/* Returns -1 to continue, else the exit code. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	o->conf = DEFAULT_CONF;
	while ((c = getopt(argc, argv, "c:fdtmF:hV")) != -1) {
		switch (c) {
		case 'c': o->conf = optarg; break;
		case 'f': o->foreground = 1; break;
		case 'd': o->verbose++; break;
		case 't': o->check = 1; break;
		case 'm': o->map = 1; break;
		case 'F': o->format = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': printf(APP " " HOSTFLOW_VERSION "\n"); return EXIT_OK;
		default: usage(stderr); return EXIT_CONFIG;
		}
	}
	if (optind < argc || (o->check && o->map) || (o->format && !o->map) ||
	    (o->format && strcmp(o->format, "pmacct") && strcmp(o->format, "akvorado"))) {
		usage(stderr);
		return EXIT_CONFIG;
	}
	return -1;
}

/* Config, then its ifindex map; resolve names only when asked (-m does not
 * need the collectors). Errors come back as "FILE:LINE: message". */
static int load_all(const char *path, int resolve, struct config **cfg,
		    struct hf_ifmap **map, char *err, size_t errlen)
{
	char from[4200];

	*map = NULL;
	if (config_load(path, cfg, err, errlen) < 0)
		return -1;
	if (pfilter_check_config(*cfg, err, errlen) < 0)
		goto fail;
	snprintf(from, sizeof from, "%s:%d", (*cfg)->path, (*cfg)->ifindex_map_line);
	if ((*cfg)->ifindex_map[0] &&
	    ifmap_load((*cfg)->ifindex_map, from, map, err, errlen) < 0)
		goto fail;
	if (resolve && config_resolve(*cfg, err, errlen) < 0)
		goto fail;
	return 0;
fail:
	ifmap_free(*map);
	*map = NULL;
	config_free(*cfg);
	*cfg = NULL;
	return -1;
}

/* Start resolves before anything is served (there is nothing to answer
 * yet), but in the worker all the same, so that SIGTERM or SIGINT stops a
 * start that waits on a resolver. Returns 0, -1 with err, or 1: stopped. */
static int resolve_at_start(struct daemon *d, char *err, size_t errlen)
{
	struct pollfd p[2];
	struct resolver *r;
	int n;

	r = resolver_start(d->cfg, err, errlen);
	d->cfg = NULL;
	if (!r)
		return -1;
	p[0] = (struct pollfd){ .fd = resolver_fd(r), .events = POLLIN };
	p[1] = (struct pollfd){ .fd = daemon_stop_signalfd(), .events = POLLIN };
	for (;;) {
		n = poll(p, p[1].fd >= 0 ? 2 : 1, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (p[0].revents & POLLIN))
			break;
		if (p[1].revents & POLLIN) {
			close(p[1].fd);
			resolver_abandon(r);
			return 1;
		}
	}
	if (p[1].fd >= 0)
		close(p[1].fd);
	return resolver_finish(r, &d->cfg, err, errlen);
}

/* ---- the table-refresh path ---------------------------------------------
 * Every snapshot is built here, on the agent thread: at start, on link
 * events, every SAFETY_DUMP_MS, after a reload, and for an SNMP request that
 * needs fresher counters (refresh_stale_counters). */

/* What follows every dump: hand the pages of the dump back, and tell the
 * sampler the table changed (it re-checks its captures). A dump of a
 * thousand links allocates and frees a few MB (libnl's objects, the old
 * snapshot): without malloc_trim the daemon's RSS stays at its high-water
 * mark between polls. */
static void after_refresh(struct daemon *d, int published)
{
	malloc_trim(0);
	if (published && d->sampler)
		sampler_table_changed(d->sampler);
}

/* Dumps the kernel's links into a new table snapshot. */
static int refresh(struct daemon *d)
{
	struct kernel_link *links = NULL;
	size_t n = 0;
	int64_t now = monotonic_ms();
	int rc;

	if (netlink_dump(d->nl, &links, &n) < 0) {
		log_warn("table", "netlink dump failed; serving the previous table");
		return -1;
	}
	rc = iftable_update(d->table, links, n, d->cfg, d->map, now);
	free(links);
	d->last_dump_ms = now;
	d->events_due_ms = 0;   /* the dump holds every event applied so far */
	d->published_ms = now;
	after_refresh(d, rc == 0);
	return rc;
}

/* Publishes the link list as events left it, without a dump; counters stay
 * as old as the last dump (the snapshot says so). */
static void publish_events(struct daemon *d)
{
	struct kernel_link *links = NULL;
	size_t n = 0;
	int rc;

	d->events_due_ms = 0;
	d->published_ms = monotonic_ms();
	if (netlink_links(d->nl, &links, &n) < 0) {
		refresh(d);
		return;
	}
	rc = iftable_update_at(d->table, links, n, d->cfg, d->map, monotonic_ms(),
			       d->last_dump_ms);
	free(links);
	/* No malloc_trim here: an event build allocates one snapshot, not a
	 * dump's worth of libnl objects. */
	if (rc == 0 && d->sampler)
		sampler_table_changed(d->sampler);
}

/* Counters ride in the snapshot. A request that reads a counter column and
 * finds them older than IFTABLE_COUNTER_MAX_AGE_MS costs a full dump (and
 * what follows it: malloc_trim, a sampler wake-up), inside the request on
 * the agent thread; a request without counters never reaches the kernel. */
static void refresh_stale_counters(struct daemon *d)
{
	struct if_snapshot *s = iftable_acquire(d->table);
	int stale = s && monotonic_ms() - s->built_ms > IFTABLE_COUNTER_MAX_AGE_MS;

	if (s)
		iftable_release(d->table, s);
	if (stale)
		refresh(d);
}

/* ifmib.c's view of the table. */
static struct if_snapshot *src_acquire(void *ctx, int need_counters)
{
	struct daemon *d = ctx;

	if (need_counters)
		refresh_stale_counters(d);
	return iftable_acquire(d->table);
}

static void src_release(void *ctx, struct if_snapshot *s)
{
	struct daemon *d = ctx;

	iftable_release(d->table, s);
}

/* ---- -t: sample patterns against the interfaces present ---------------- */

/* A pattern matching nothing now is a note, not an error: its interfaces
 * may appear later (containers). No kernel answer: no notes. */
static void note_unmatched_samples(struct daemon *d)
{
	struct kernel_link *links = NULL;
	const char **names = NULL;
	size_t n = 0, len;
	char err[512], *buf;

	if (!d->cfg->n_samples)
		return;
	d->nl = netlink_open(err, sizeof err);
	if (!d->nl || netlink_dump(d->nl, &links, &n) < 0) {
		fprintf(stderr, APP ": cannot read the kernel's interfaces; sample "
			"patterns not checked against them\n");
		return;
	}
	len = d->cfg->n_samples * (CFG_PATTERN_MAX + 4200) + 1;
	names = calloc(n ? n : 1, sizeof *names);
	buf = malloc(len);
	if (names && buf) {
		for (size_t i = 0; i < n; i++)
			names[i] = links[i].name;
		if (config_sample_notes(d->cfg, names, n, buf, len))
			fputs(buf, stdout);
	}
	free(buf);
	free(names);
	free(links);
}

/* ---- -m: the map that would be served ------------------------------- */

static int print_map(struct daemon *d)
{
	struct if_snapshot *s;
	char err[512];

	d->nl = netlink_open(err, sizeof err);
	if (!d->nl) {
		fprintf(stderr, APP ": %s\n", err);
		return EXIT_RUNTIME;
	}
	if (refresh(d) < 0 || !(s = iftable_acquire(d->table))) {
		fprintf(stderr, APP ": cannot read the kernel's interfaces\n");
		return EXIT_RUNTIME;
	}
	if (d->o.format && !strcmp(d->o.format, "akvorado")) {
		char host[256] = "";

		gethostname(host, sizeof host - 1);
		mapprint_akvorado(stdout, d->cfg, host, s);
	} else {
		mapprint_pmacct(stdout, s);
	}
	iftable_release(d->table, s);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_RUNTIME;
}

/* ---- the agent loop ----------------------------------------------------- */

/* Reload, in two halves on the agent thread with the collector names
 * resolved between them in a worker (resolver.c), so SNMP is answered
 * while a resolver takes its time. Reading and parsing the files stays
 * here: they are bounded regular files (textfile.c refuses anything else). */
static void reload_begin(struct daemon *d)
{
	struct config *cfg;
	struct hf_ifmap *map;
	char err[1024];

	if (d->resolving) {
		/* Queued, not restarted: one worker at a time. The newest files win. */
		d->reload_again = 1;
		log_info("config", "SIGHUP while resolving collector names; reading the "
			 "files again once that ends");
		return;
	}
	daemon_notify("RELOADING=1");
	if (load_all(d->o.conf, 0, &cfg, &map, err, sizeof err) < 0) {
		log_err("reload", "%s; keeping the running configuration", err);
		daemon_notify("READY=1");
		return;
	}
	d->resolving = resolver_start(cfg, err, sizeof err);
	if (!d->resolving) {
		ifmap_free(map);
		log_err("reload", "%s; keeping the running configuration", err);
		daemon_notify("READY=1");
		return;
	}
	d->pending_map = map;
}

/* The second half: the worker is done. */
static void reload_finish(struct daemon *d)
{
	struct config *cfg = NULL, *old_cfg = d->cfg;
	struct hf_ifmap *map = d->pending_map, *old_map = d->map;
	char err[1024];
	int rc = resolver_finish(d->resolving, &cfg, err, sizeof err);

	d->resolving = NULL;
	d->pending_map = NULL;
	if (d->reload_again) {
		d->reload_again = 0;
		if (rc == 0)
			config_free(cfg);
		ifmap_free(map);
		reload_begin(d);
		return;
	}
	if (rc < 0) {
		ifmap_free(map);
		log_err("reload", "%s; keeping the running configuration", err);
		daemon_notify("READY=1");
		return;
	}
	if (strcmp(cfg->agentx_socket, old_cfg->agentx_socket)) {
		log_warn("reload", "agentx_socket changed to %s: takes effect after a restart",
			 cfg->agentx_socket);
		/* What runs is still the old socket: say so in later messages. */
		hf_strlcpy(cfg->agentx_socket, old_cfg->agentx_socket,
			   sizeof cfg->agentx_socket);
	}
	d->cfg = cfg;
	d->map = map;
	refresh(d);
	sampler_reload(d->sampler, cfg);
	ifmap_free(old_map);
	config_free(old_cfg);
	log_info("reload", "configuration reloaded from %s", d->o.conf);
	daemon_notify("READY=1");
}

/* Returns 1 to go on, 0 on a stop signal. */
static int take_signals(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP) {
			reload_begin(d);
		} else if (si.ssi_signo == SIGUSR1) {
			statusline_report(&d->status, d->table, d->sampler, d->agent,
					  d->cfg->agentx_socket, LOG_INFO);
		} else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			log_info("daemon", "signal %u: stopping", si.ssi_signo);
			return 0;
		} else {
			log_debug("daemon", "signal %u: ignored", si.ssi_signo);
		}
	}
	return 1;
}

static void on_netlink(struct daemon *d)
{
	int rc = netlink_drain_events(d->nl);

	if (rc < 0) {
		log_debug("netlink", "netlink events lost; dumping");
		refresh(d);
	} else if (rc > 0 && !d->events_due_ms) {
		int64_t now = monotonic_ms(), next = d->published_ms + EVENT_PUBLISH_MS;

		d->events_due_ms = next > now ? next : now;
		if (d->events_due_ms == now)
			publish_events(d);
	}
}

/* Our wakeup: applied events to publish, the next safety re-dump, status
 * line or registration retry. */
static struct timeval our_timeout(const struct daemon *d)
{
	int64_t at = d->last_dump_ms + SAFETY_DUMP_MS, left;
	int64_t retry = snmpagent_next_ms(d->agent);
	struct timeval tv;

	if (d->status.next_ms && d->status.next_ms < at)
		at = d->status.next_ms;
	if (retry && retry < at)
		at = retry;
	if (d->events_due_ms && d->events_due_ms < at)
		at = d->events_due_ms;
	left = at - monotonic_ms();
	if (left < 0)
		left = 0;
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	return tv;
}

/* Samples wait while snmpd cannot answer for their ifIndex values: the
 * sampler learns each change of the registration at once. */
static void publish_registration(struct daemon *d)
{
	int reg = snmpagent_registered(d->agent);

	if (reg == d->registered)
		return;
	d->registered = reg;
	sampler_set_registered(d->sampler, reg);
}

/* The status line is built when it is due or the registration changed, not
 * on every turn: a walk is one turn per varbind. */
static void report_status_if_due(struct daemon *d)
{
	int state = (int)snmpagent_state(d->agent, NULL);

	if (state == d->status_state && monotonic_ms() < d->status.next_ms)
		return;
	d->status_state = state;
	statusline_report(&d->status, d->table, d->sampler, d->agent,
			  d->cfg->agentx_socket, -1);
}

/* One turn of the agent loop: wait for any of our fds or net-snmp's, serve
 * ours (signals, link events), then net-snmp's. Returns 0 to stop. */
static int loop_once(struct daemon *d)
{
	enum { W_SIG, W_NL, W_RESOLVED, W_SAMPLER, W_COUNT };
	int fds[W_COUNT], ready[W_COUNT], go = 1;

	fds[W_SIG] = d->sigfd;
	fds[W_NL] = netlink_event_fd(d->nl);
	fds[W_RESOLVED] = d->resolving ? resolver_fd(d->resolving) : -1;
	fds[W_SAMPLER] = sampler_exit_fd(d->sampler);
	if (snmpagent_wait(d->agent, fds, ready, W_COUNT, our_timeout(d)) > 0) {
		if (ready[W_SAMPLER]) {
			char why[256];

			/* No sFlow without it: exit non-zero, and systemd's
			 * Restart=on-failure starts us afresh. */
			sampler_exit_reason(d->sampler, why, sizeof why);
			log_err("sampler", "thread stopped: %s; exiting", why);
			d->exit_code = EXIT_RUNTIME;
			return 0;
		}
		if (ready[W_SIG])
			go = take_signals(d);
		if (ready[W_NL])
			on_netlink(d);
		if (go && ready[W_RESOLVED])
			reload_finish(d);
	}
	if (monotonic_ms() - d->last_dump_ms >= SAFETY_DUMP_MS)
		refresh(d);
	else if (d->events_due_ms && monotonic_ms() >= d->events_due_ms)
		publish_events(d);
	snmpagent_process(d->agent);
	snmpagent_link_notify(d->agent, d->table);
	publish_registration(d);
	report_status_if_due(d);
	return go;
}

/* ---- startup and shutdown ------------------------------------------------ */

/* Everything after the fork: the parent hears "OK" or the reason. */
static int start_running(struct daemon *d)
{
	char err[512] = "";

	if (daemon_drop_privileges(d->cfg->user, err, sizeof err) < 0)
		goto fail;
	d->sigfd = daemon_signalfd();
	if (d->sigfd < 0) {
		snprintf(err, sizeof err, "signals: %s", strerror(errno));
		goto fail;
	}
	d->sampler = sampler_start(d->table, d->cfg, err, sizeof err);
	if (!d->sampler)
		goto fail;
	d->src.acquire = src_acquire;
	d->src.release = src_release;
	d->src.ctx = d;
	d->agent = snmpagent_start(APP, d->cfg->agentx_socket, &d->src, err, sizeof err);
	if (!d->agent)
		goto fail;
	daemon_notify("READY=1");
	statusline_report(&d->status, d->table, d->sampler, d->agent,
			  d->cfg->agentx_socket, -1);
	daemon_report(&d->report_fd, "OK");
	return 0;
fail:
	log_err("daemon", "%s", err);
	daemon_report(&d->report_fd, err);
	return -1;
}

static void teardown(struct daemon *d)
{
	if (d->sampler)
		sampler_stop(d->sampler);
	snmpagent_stop(d->agent);
	/* A worker still waiting on a resolver is not waited for. */
	resolver_abandon(d->resolving);
	ifmap_free(d->pending_map);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->nl)
		netlink_close(d->nl);
	if (d->table)
		iftable_free(d->table);
	ifmap_free(d->map);
	config_free(d->cfg);
}

static int run_daemon(struct daemon *d)
{
	char err[512];

	d->nl = netlink_open(err, sizeof err);
	if (!d->nl) {
		log_err("daemon", "%s", err);
		return EXIT_RUNTIME;
	}
	if (refresh(d) < 0) {
		log_err("netlink", "cannot read the kernel's interfaces");
		return EXIT_RUNTIME;
	}
	/* Nothing started yet that needs stopping; a SIGHUP stays pending and
	 * is taken as a reload by the loop. */
	if (daemon_stop_pending()) {
		log_info("daemon", "stop signal during start: stopping");
		return EXIT_OK;
	}
	if (!d->o.foreground) {
		d->report_fd = daemon_detach(APP);
		if (d->report_fd < 0) {
			log_err("daemonize", "%s", strerror(errno));
			return EXIT_RUNTIME;
		}
	}
	if (start_running(d) < 0) {
		daemon_notify("STOPPING=1");
		return EXIT_RUNTIME;
	}
	log_info("daemon", APP " " HOSTFLOW_VERSION " running");
	while (loop_once(d))
		;
	daemon_notify("STOPPING=1");
	return d->exit_code;
}

int main(int argc, char **argv)
{
	struct daemon d;
	char err[1024];
	int rc;

	/* Before anything else, so that no thread or library starts with them
	 * unblocked: a signal during start waits for the loop's signalfd. */
	daemon_block_signals();
	/* One malloc arena: the sampler thread allocates little, and a second
	 * arena would keep its own megabytes of slack. */
	mallopt(M_ARENA_MAX, 1);
	memset(&d, 0, sizeof d);
	d.sigfd = -1;
	d.report_fd = -1;
	rc = parse_opts(argc, argv, &d.o);
	if (rc >= 0)
		return rc;
	if (d.o.check || d.o.map)
		daemon_unblock_signals();
	log_init(APP, d.o.foreground || d.o.check || d.o.map, d.o.verbose);
	/* The daemon resolves apart (resolve_at_start); -m needs no collectors. */
	if (load_all(d.o.conf, d.o.check, &d.cfg, &d.map, err, sizeof err) < 0 ||
	    (!d.o.check && !d.o.map && (rc = resolve_at_start(&d, err, sizeof err)) < 0)) {
		fprintf(stderr, "%s\n", err);
		if (!d.o.foreground && !d.o.check && !d.o.map)
			log_err("daemon", "%s", err);
		teardown(&d);
		return EXIT_CONFIG;
	}
	if (rc == 1) {
		log_info("daemon", "stop signal while resolving collector names at start: stopping");
		rc = EXIT_OK;
	} else if (d.o.check) {
		note_unmatched_samples(&d);
		printf("%s: configuration OK\n", d.o.conf);
		rc = EXIT_OK;
	} else {
		d.table = iftable_new();
		if (!d.table)
			rc = EXIT_RUNTIME;
		else
			rc = d.o.map ? print_map(&d) : run_daemon(&d);
	}
	teardown(&d);
	return rc;
}
