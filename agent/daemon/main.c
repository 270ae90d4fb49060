/* hostflowd: options, wiring, the startup order, and the agent thread's
 * loop turn (which fd is served how). The daemon's life is in daemon.c,
 * net-snmp in snmpagent.c, when the table is rebuilt in refresh.c, loading
 * and reloading the configuration in reload.c.
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
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "config/config.h"
#include "config/ifmap.h"
#include "config/resolver.h"
#include "daemon/daemon.h"
#include "daemon/importcmd.h"
#include "daemon/mapprint.h"
#include "daemon/progcheck.h"
#include "daemon/rateprint.h"
#include "daemon/refresh.h"
#include "daemon/reload.h"
#include "daemon/statusline.h"
#include "sflow/sampler.h"
#include "snmp/ifmib.h"
#include "snmp/snmpagent.h"
#include "table/iftable.h"
#include "table/netlink.h"

#ifndef HOSTFLOW_VERSION
#define HOSTFLOW_VERSION "0.1.0"
#endif
#define DEFAULT_CONF "/etc/hostflow/hostflowd.conf"
#define APP "hostflowd"
/* File descriptors the agent thread may still open once started, beyond
 * the sampler's (sampler_fds_spare): the AgentX socket and a reconnect's,
 * a reload's resolver (its eventfd, DNS sockets, /etc files). */
#define AGENT_FDS_SPARE 8

enum { EXIT_OK = 0, EXIT_CONFIG = 1, EXIT_RUNTIME = 2 };

/* What the command line asks for. */
enum opts_step { OPTS_RUN, OPTS_DONE, OPTS_BAD };
/* One turn of the agent loop, and the signals it took. */
enum loop_step { LOOP_GO_ON, LOOP_STOP };
/* The collector names at start. */
enum start_resolve { RESOLVE_DONE, RESOLVE_FAILED, RESOLVE_STOPPED };

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
	struct refresh *refresh;
	struct reload *reload;
	struct sampler *sampler;
	int registered;         /* what the sampler was last told */
	struct statusline status;
	enum snmp_reg status_state; /* registration state of the last status line */
	struct ifmib_source src;
	struct snmpagent *agent;
	int sigfd;
	int report_fd;          /* pipe to the waiting parent, -1 once reported */
	int exit_code;          /* of the loop: EXIT_OK unless a thread died */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " APP " [-f] [-d]... [-c FILE]\n"
		"       " APP " -t [-c FILE]\n"
		"       " APP " -m [-F pmacct|akvorado] [-c FILE]\n"
		"       " APP " --import hsflowd|pmacctd FILE\n"
		"  -c FILE  configuration (default " DEFAULT_CONF ")\n"
		"  -f       stay in the foreground, log to stderr\n"
		"  -d       more detail (repeat for more)\n"
		"  -t       check the configuration and the ifindex map, then exit\n"
		"  -m       print the ifIndex map that would be served, then exit\n"
		"  -F FMT   -m output: pmacct (interfaces.map, default) or akvorado (JSON)\n"
		"  --import print the hostflowd.conf equivalent to an hsflowd or pmacctd config\n"
		"  -h       this help\n"
		"  -V       version\n");
}

static enum opts_step parse_opts(int argc, char **argv, struct opts *o)
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
		case 'h': usage(stdout); return OPTS_DONE;
		case 'V': printf(APP " " HOSTFLOW_VERSION "\n"); return OPTS_DONE;
		default: usage(stderr); return OPTS_BAD;
		}
	}
	if (optind < argc || (o->check && o->map) || (o->format && !o->map) ||
	    (o->format && strcmp(o->format, "pmacct") && strcmp(o->format, "akvorado"))) {
		usage(stderr);
		return OPTS_BAD;
	}
	return OPTS_RUN;
}

/* Start resolves before anything is served (there is nothing to answer
 * yet), but in the worker all the same, so that SIGTERM or SIGINT stops a
 * start that waits on a resolver. RESOLVE_FAILED with the reason in err. */
static enum start_resolve resolve_at_start(struct daemon *d, char *err, size_t errlen)
{
	struct pollfd p[2];
	struct resolver *r;
	int n;

	r = resolver_start(d->cfg, err, errlen);
	d->cfg = NULL;
	if (!r)
		return RESOLVE_FAILED;
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
			return RESOLVE_STOPPED;
		}
	}
	if (p[1].fd >= 0)
		close(p[1].fd);
	return resolver_finish(r, &d->cfg, err, errlen) < 0 ? RESOLVE_FAILED : RESOLVE_DONE;
}

/* ---- what the faces see of the table ----------------------------------- */

/* The single "a new table was published" point: every snapshot the refresh
 * policy publishes (dump, paced events, reload) is announced here. */
static void table_published(void *ctx)
{
	struct daemon *d = ctx;

	if (d->sampler)
		sampler_table_changed(d->sampler);
}

/* ifmib.c's view of the table: its rows, and their counters apart. */
static struct if_snapshot *src_acquire(void *ctx)
{
	struct daemon *d = ctx;

	return iftable_acquire(d->table);
}

static void src_release(void *ctx, struct if_snapshot *s)
{
	struct daemon *d = ctx;

	iftable_release(d->table, s);
}

static int src_counters(void *ctx, const struct if_row *r, bool walking,
			struct if_counters *out)
{
	struct daemon *d = ctx;

	return refresh_counters(d->refresh, r->kindex, walking, out);
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

/* The kernel side and the refresh policy over d->table; 0, or -1 with err. */
static int open_kernel(struct daemon *d, char *err, size_t errlen)
{
	d->nl = netlink_open(err, errlen);
	if (!d->nl)
		return -1;
	d->refresh = refresh_new(d->nl, d->table, table_published, d);
	if (!d->refresh) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	refresh_set_config(d->refresh, d->cfg, d->map);
	return 0;
}

/* ---- -m: the map that would be served ------------------------------- */

static int print_map(struct daemon *d)
{
	struct if_snapshot *s;
	char err[512];

	if (open_kernel(d, err, sizeof err) < 0) {
		fprintf(stderr, APP ": %s\n", err);
		return EXIT_RUNTIME;
	}
	if (refresh_dump(d->refresh) < 0 || !(s = iftable_acquire(d->table))) {
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

/* A reload's good new config and map (reload.c): the table is rebuilt with
 * them, then the sampler takes the config. */
static void apply_config(void *ctx, struct config *cfg, struct hf_ifmap *map)
{
	struct daemon *d = ctx;
	struct config *old_cfg = d->cfg;
	struct hf_ifmap *old_map = d->map;

	d->cfg = cfg;
	d->map = map;
	refresh_set_config(d->refresh, cfg, map);
	refresh_dump(d->refresh);
	sampler_reload(d->sampler, cfg);
	ifmap_free(old_map);
	config_free(old_cfg);
}

static enum loop_step take_signals(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP) {
			reload_begin(d->reload);
		} else if (si.ssi_signo == SIGUSR1) {
			statusline_report(&d->status, d->table, d->sampler, d->agent,
					  d->cfg->agentx_socket, LOG_INFO);
		} else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			log_info("daemon", "signal %u: stopping", si.ssi_signo);
			return LOOP_STOP;
		} else {
			log_debug("daemon", "signal %u: ignored", si.ssi_signo);
		}
	}
	return LOOP_GO_ON;
}

/* Our wakeup: the refresh policy's next work (applied events to publish,
 * the safety re-dump), the status line or the registration retry. */
static struct timeval our_timeout(const struct daemon *d)
{
	int64_t at = refresh_next_ms(d->refresh), left;
	int64_t retry = snmpagent_next_ms(d->agent);
	struct timeval tv;

	if (d->status.next_ms && d->status.next_ms < at)
		at = d->status.next_ms;
	if (retry && retry < at)
		at = retry;
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
	enum snmp_reg state = snmpagent_state(d->agent, NULL);

	if (state == d->status_state && monotonic_ms() < d->status.next_ms)
		return;
	d->status_state = state;
	statusline_report(&d->status, d->table, d->sampler, d->agent,
			  d->cfg->agentx_socket, -1);
}

/* One turn of the agent loop: wait for any of our fds or net-snmp's, serve
 * ours (signals, link events, a reload's resolved names), then net-snmp's. */
static enum loop_step loop_once(struct daemon *d)
{
	enum { W_SIG, W_NL, W_RESOLVED, W_SAMPLER, W_COUNT };
	int fds[W_COUNT], ready[W_COUNT];
	enum loop_step step = LOOP_GO_ON;

	fds[W_SIG] = d->sigfd;
	fds[W_NL] = netlink_event_fd(d->nl);
	fds[W_RESOLVED] = reload_fd(d->reload);
	fds[W_SAMPLER] = sampler_exit_fd(d->sampler);
	if (snmpagent_wait(d->agent, fds, ready, W_COUNT, our_timeout(d)) > 0) {
		if (ready[W_SAMPLER]) {
			char why[256];

			/* No sFlow without it: exit non-zero, and systemd's
			 * Restart=on-failure starts us afresh. */
			sampler_exit_reason(d->sampler, why, sizeof why);
			log_err("sampler", "thread stopped: %s; exiting", why);
			d->exit_code = EXIT_RUNTIME;
			return LOOP_STOP;
		}
		if (ready[W_SIG])
			step = take_signals(d);
		if (ready[W_NL])
			refresh_on_events(d->refresh);
		if (step == LOOP_GO_ON && ready[W_RESOLVED])
			reload_finish(d->reload, d->cfg);
	}
	refresh_run(d->refresh, monotonic_ms());
	snmpagent_process(d->agent);
	snmpagent_link_notify(d->agent, d->table);
	publish_registration(d);
	report_status_if_due(d);
	return step;
}

/* ---- startup and shutdown ------------------------------------------------ */

/* Never a silent half-start: the log, STATUS= and the waiting parent say
 * why, and the caller exits non-zero. Out of descriptors, the limit is
 * named. */
static void start_failed(struct daemon *d, char *err, size_t errlen)
{
	char st[700];
	struct rlimit rl;
	size_t len = strlen(err);

	if ((strstr(err, strerror(EMFILE)) || strstr(err, strerror(ENFILE))) &&
	    getrlimit(RLIMIT_NOFILE, &rl) == 0 && len < errlen)
		snprintf(err + len, errlen - len, " (RLIMIT_NOFILE %llu: raise LimitNOFILE= "
			 "or ulimit -n)", (unsigned long long)rl.rlim_cur);
	log_err("daemon", "%s", err);
	snprintf(st, sizeof st, "STATUS=cannot start: %s", err);
	daemon_notify(st);
	daemon_report(&d->report_fd, err);
}

/* Everything after the fork: the parent hears "OK" or the reason. */
static int start_running(struct daemon *d)
{
	char err[512] = "";

	if (daemon_drop_privileges(d->cfg->user, d->cfg->capture != CFG_CAPTURE_PACKET, err,
				   sizeof err) < 0)
		goto fail;
	d->sigfd = daemon_signalfd();
	if (d->sigfd < 0) {
		snprintf(err, sizeof err, "signals: %s", strerror(errno));
		goto fail;
	}
	d->reload = reload_new(d->o.conf, apply_config, d);
	if (!d->reload) {
		snprintf(err, sizeof err, "out of memory");
		goto fail;
	}
	d->sampler = sampler_start(d->table, d->cfg, err, sizeof err);
	if (!d->sampler)
		goto fail;
	/* What later needs a descriptor (AgentX, a reload, a capture replaced)
	 * must find one: better refused now than silently missing later. */
	if (daemon_fd_headroom(AGENT_FDS_SPARE + sampler_fds_spare(d->sampler, d->cfg), err,
			       sizeof err) < 0)
		goto fail;
	d->src.acquire = src_acquire;
	d->src.release = src_release;
	d->src.counters = src_counters;
	d->src.ctx = d;
	d->agent = snmpagent_start(APP, d->cfg->agentx_socket, (int)d->cfg->agentx_retry,
				   &d->src, err, sizeof err);
	if (!d->agent)
		goto fail;
	daemon_notify("READY=1");
	statusline_report(&d->status, d->table, d->sampler, d->agent,
			  d->cfg->agentx_socket, -1);
	daemon_report(&d->report_fd, "OK");
	return 0;
fail:
	start_failed(d, err, sizeof err);
	return -1;
}

static void teardown(struct daemon *d)
{
	if (d->sampler)
		sampler_stop(d->sampler);
	snmpagent_stop(d->agent);
	reload_free(d->reload);
	if (d->sigfd >= 0)
		close(d->sigfd);
	refresh_free(d->refresh);
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

	/* First: the notification socket stays open from here on. */
	daemon_notify_prepare();
	if (open_kernel(d, err, sizeof err) < 0) {
		log_err("daemon", "%s", err);
		return EXIT_RUNTIME;
	}
	if (refresh_dump(d->refresh) < 0) {
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
	while (loop_once(d) == LOOP_GO_ON)
		;
	daemon_notify("STOPPING=1");
	return d->exit_code;
}

int main(int argc, char **argv)
{
	struct daemon d;
	char err[1024], kind[320];
	enum start_resolve resolved = RESOLVE_DONE;
	enum sampler_check checked;
	int rc;

	/* Before anything else, so that no thread or library starts with them
	 * unblocked: a signal during start waits for the loop's signalfd. */
	daemon_block_signals();
	/* One malloc arena: the sampler thread allocates little, and a second
	 * arena would keep its own megabytes of slack. */
	mallopt(M_ARENA_MAX, 1);
	if (argc > 1 && !strcmp(argv[1], "--import"))
		return importcmd_main(argc - 2, argv + 2, stdout, stderr);
	memset(&d, 0, sizeof d);
	d.sigfd = -1;
	d.report_fd = -1;
	switch (parse_opts(argc, argv, &d.o)) {
	case OPTS_RUN: break;
	case OPTS_DONE: return EXIT_OK;
	case OPTS_BAD: return EXIT_CONFIG;
	}
	if (d.o.check || d.o.map)
		daemon_unblock_signals();
	log_init(APP, d.o.foreground || d.o.check || d.o.map, d.o.verbose);
	/* The daemon resolves apart (resolve_at_start); -m needs no collectors. */
	if (reload_read(d.o.conf, d.o.check, &d.cfg, &d.map, err, sizeof err) < 0 ||
	    (!d.o.check && !d.o.map &&
	     (resolved = resolve_at_start(&d, err, sizeof err)) == RESOLVE_FAILED)) {
		fprintf(stderr, "%s\n", err);
		if (!d.o.foreground && !d.o.check && !d.o.map)
			log_err("daemon", "%s", err);
		teardown(&d);
		return EXIT_CONFIG;
	}
	if (resolved == RESOLVE_STOPPED) {
		log_info("daemon", "stop signal while resolving collector names at start: stopping");
		rc = EXIT_OK;
	} else if (d.o.check) {
		note_unmatched_samples(&d);
		if (rateprint_now(stdout, d.cfg, d.map, err, sizeof err) < 0)
			fprintf(stderr, APP ": %s; rates not shown\n", err);
		checked = progcheck_now(d.cfg, d.map, kind, sizeof kind, err, sizeof err);
		if (kind[0])
			printf("capture: %s\n", kind);
		if (checked == SAMPLER_CHECK_REFUSED) {
			fprintf(stderr, "%s\n", err);
			rc = EXIT_CONFIG;
		} else {
			/* Untried (no kernel answer, no socket): a note. */
			if (checked == SAMPLER_CHECK_UNTRIED)
				fprintf(stderr, APP ": %s\n", err);
			printf("%s: configuration OK\n", d.o.conf);
			rc = EXIT_OK;
		}
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
