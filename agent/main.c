/* hostflowd: options, startup, the agent thread's loop, signals and reload.
 *
 * Startup leaves nothing half-started: everything that can fail on a bad
 * configuration or a missing kernel facility happens before we daemonize,
 * and the parent exits only once the child says it is up. */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <net-snmp/agent/agent_callbacks.h>
#include <net-snmp/library/large_fd_set.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "ifmap.h"
#include "ifmib.h"
#include "iftable.h"
#include "log.h"
#include "mapprint.h"
#include "netlink.h"
#include "sampler.h"
#include "util.h"

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
#define AGENTX_PING_S 2   /* re-registers within ~2 s of an snmpd restart */

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
	struct ifmib_source src;
	int sigfd;
	int report_fd;          /* pipe to the waiting parent, -1 once reported */
	int64_t last_dump_ms;
	int64_t events_due_ms;  /* publish applied link events then; 0: none pending */
	int64_t published_ms;   /* last table build (dump or events) */
	int connected;          /* AgentX session up (net-snmp callbacks) */
	int announced;          /* what we last logged about it: -1 none */
	int snmp_up;            /* init_agent() was called: snmp_shutdown() due */
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

/* Dumps the kernel's links into a new table snapshot. */
static int refresh(struct daemon *d)
{
	struct nl_link *links = NULL;
	size_t n = 0;
	int64_t now = monotonic_ms();
	int rc;

	if (netlink_dump(d->nl, &links, &n) < 0) {
		log_warn("netlink dump failed; serving the previous table");
		return -1;
	}
	rc = iftable_update(d->table, links, n, d->cfg, d->map, now);
	free(links);
	/* A dump of a thousand links allocates and frees a few MB (libnl's
	 * objects, the old snapshot): hand those pages back, or the daemon's RSS
	 * stays at its high-water mark between polls. */
	malloc_trim(0);
	d->last_dump_ms = now;
	d->events_due_ms = 0;   /* the dump holds every event applied so far */
	d->published_ms = now;
	if (rc == 0 && d->sampler)
		sampler_table_changed(d->sampler);
	return rc;
}

/* Publishes the link list as events left it, without a dump; counters stay
 * as old as the last dump (the snapshot says so). */
static void publish_events(struct daemon *d)
{
	struct nl_link *links = NULL;
	size_t n = 0;

	d->events_due_ms = 0;
	d->published_ms = monotonic_ms();
	if (netlink_links(d->nl, &links, &n) < 0) {
		refresh(d);
		return;
	}
	if (iftable_update_at(d->table, links, n, d->cfg, d->map, monotonic_ms(),
			      d->last_dump_ms) == 0 && d->sampler)
		sampler_table_changed(d->sampler);
	free(links);
}

static struct if_snapshot *src_acquire(void *ctx, int need_counters)
{
	struct daemon *d = ctx;
	struct if_snapshot *s = iftable_acquire(d->table);

	if (need_counters && s &&
	    monotonic_ms() - s->built_ms > IFTABLE_COUNTER_MAX_AGE_MS) {
		iftable_release(d->table, s);
		refresh(d);
		s = iftable_acquire(d->table);
	}
	return s;
}

static void src_release(void *ctx, struct if_snapshot *s)
{
	struct daemon *d = ctx;

	iftable_release(d->table, s);
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

/* ---- systemd notification, without libsystemd --------------------------- */

static void sd_notify_msg(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len >= sizeof sa.sun_path)
		return;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';  /* abstract namespace */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		log_debug("sd_notify %s: %s", msg, strerror(errno));
	close(fd);
}

/* ---- daemonizing ---------------------------------------------------------- */

/* The parent waits for the child's first word: "OK", or the reason it failed. */
static void parent_wait(int fd)
{
	char buf[1024];
	size_t got = 0;
	ssize_t r;

	while (got < sizeof buf - 1 &&
	       ((r = read(fd, buf + got, sizeof buf - 1 - got)) > 0 ||
		(r < 0 && errno == EINTR)))
		got += r > 0 ? (size_t)r : 0;
	buf[got] = '\0';
	if (got >= 2 && !strncmp(buf, "OK", 2))
		_exit(EXIT_OK);
	fprintf(stderr, APP ": %s\n", got ? buf : "daemon exited during startup");
	_exit(EXIT_RUNTIME);
}

static int daemonize(struct daemon *d)
{
	int p[2], null;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		parent_wait(p[0]);
	}
	close(p[0]);
	d->report_fd = p[1];
	if (setsid() < 0 || chdir("/") < 0)
		return -1;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return -1;
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	if (null > 2)
		close(null);
	return 0;
}

static void report(struct daemon *d, const char *msg)
{
	if (d->report_fd < 0)
		return;
	if (write(d->report_fd, msg, strlen(msg)) < 0)
		log_debug("cannot report to the parent: %s", strerror(errno));
	close(d->report_fd);
	d->report_fd = -1;
}

/* ---- net-snmp --------------------------------------------------------------- */

/* net-snmp's log goes through ours (stderr with -f, else syslog), minus the
 * version banner it prints on every AgentX connect. */
static int snmp_log_cb(int major, int minor, void *serverarg, void *clientarg)
{
	const struct snmp_log_message *m = serverarg;
	char line[512];
	size_t n;

	(void)major; (void)minor; (void)clientarg;
	if (!m || !m->msg || strstr(m->msg, "NET-SNMP version"))
		return 0;
	n = hf_strlcpy(line, m->msg, sizeof line);
	if (n >= sizeof line)
		n = sizeof line - 1;
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n)
		log_msg(m->priority & 7, "net-snmp: %s", line);
	return 0;
}

/* A hung master must not stall the agent thread for long: AgentX calls are
 * synchronous, so bound every session at 1 s with no retry. The subagent's
 * session ignores NETSNMP_DS_AGENT_AGENTX_TIMEOUT/RETRIES (those configure
 * the master side), hence this hook, as keepalived does. */
static int session_init_cb(int major, int minor, void *serverarg, void *clientarg)
{
	netsnmp_session *sess = serverarg;

	(void)major; (void)minor; (void)clientarg;
	if (sess) {
		sess->timeout = ONE_SEC;
		sess->retries = 0;
	}
	return 0;
}

static int index_cb(int major, int minor, void *serverarg, void *clientarg)
{
	struct daemon *d = clientarg;

	(void)major; (void)serverarg;
	d->connected = minor == SNMPD_CALLBACK_INDEX_START;
	return 0;
}

/* Logs connection changes once each, from the loop (not from inside
 * net-snmp's callbacks). */
static void announce(struct daemon *d)
{
	const char *path = d->cfg->agentx_socket;

	if (d->announced == d->connected)
		return;
	if (d->connected)
		log_info("registered with AgentX master at %s", path);
	else if (d->announced < 0)
		log_warn("AgentX master at %s not reachable; retrying every %d s",
			 path, AGENTX_PING_S);
	else
		log_warn("lost the AgentX master at %s; retrying every %d s",
			 path, AGENTX_PING_S);
	d->announced = d->connected;
}

static int snmp_start(struct daemon *d)
{
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
	netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET,
			      d->cfg->agentx_socket);
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID,
			       NETSNMP_DS_AGENT_NO_CONNECTION_WARNINGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
			       NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
			       NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	/* We serve numeric OIDs and print none: parse no MIB files. */
	setenv("MIBS", "", 1);
	setenv("MIBDIRS", "", 1);
	netsnmp_register_loghandler(NETSNMP_LOGHANDLER_CALLBACK, LOG_DEBUG);
	snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING,
			       snmp_log_cb, NULL);
	snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_SESSION_INIT,
			       session_init_cb, NULL);
	snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_START,
			       index_cb, d);
	snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_STOP,
			       index_cb, d);
	d->snmp_up = 1;
	if (init_agent(APP) != 0)
		return -1;
	/* init_agent() resets it; 0 would mean never reconnecting. */
	netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID,
			   NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL, AGENTX_PING_S);
	d->src.acquire = src_acquire;
	d->src.release = src_release;
	d->src.ctx = d;
	if (ifmib_register(&d->src) < 0)
		return -1;
	init_snmp(APP);  /* first connection attempt happens here */
	return 0;
}

/* ---- the agent loop ----------------------------------------------------- */

static void reload(struct daemon *d)
{
	struct config *cfg, *old_cfg = d->cfg;
	struct hf_ifmap *map, *old_map = d->map;
	char err[1024];

	sd_notify_msg("RELOADING=1");
	if (load_all(d->o.conf, 1, &cfg, &map, err, sizeof err) < 0) {
		log_err("%s; keeping the running configuration", err);
		sd_notify_msg("READY=1");
		return;
	}
	if (strcmp(cfg->agentx_socket, old_cfg->agentx_socket)) {
		log_warn("agentx_socket changed to %s: takes effect after a restart",
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
	log_info("configuration reloaded from %s", d->o.conf);
	sd_notify_msg("READY=1");
}

/* Returns 1 to go on, 0 on a stop signal. */
static int take_signals(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP) {
			reload(d);
		} else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			log_info("signal %u: stopping", si.ssi_signo);
			return 0;
		}
	}
	return 1;
}

static void on_netlink(struct daemon *d)
{
	int rc = netlink_drain_events(d->nl);

	if (rc < 0) {
		log_debug("netlink events lost; dumping");
		refresh(d);
	} else if (rc > 0 && !d->events_due_ms) {
		int64_t now = monotonic_ms(), next = d->published_ms + EVENT_PUBLISH_MS;

		d->events_due_ms = next > now ? next : now;
		if (d->events_due_ms == now)
			publish_events(d);
	}
}

/* Our wakeup: applied events to publish, else the next safety re-dump. */
static struct timeval our_timeout(const struct daemon *d)
{
	int64_t left = d->last_dump_ms + SAFETY_DUMP_MS - monotonic_ms();
	struct timeval tv;

	if (d->events_due_ms && d->events_due_ms - monotonic_ms() < left)
		left = d->events_due_ms - monotonic_ms();
	if (left < 0)
		left = 0;
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	return tv;
}

static int loop_once(struct daemon *d)
{
	netsnmp_large_fd_set fds;
	struct timeval ours = our_timeout(d), tv = ours;
	int numfds = 0, block = 0, count, nlfd = netlink_event_fd(d->nl), go = 1;

	netsnmp_large_fd_set_init(&fds, FD_SETSIZE);
	NETSNMP_LARGE_FD_ZERO(&fds);
	/* Re-read net-snmp's fds every time: a reconnected AgentX socket may
	 * have a new number, or the same number for a new socket. */
	snmp_select_info2(&numfds, &fds, &tv, &block);
	if (block || timercmp(&ours, &tv, <))
		tv = ours;
	NETSNMP_LARGE_FD_SET(nlfd, &fds);
	NETSNMP_LARGE_FD_SET(d->sigfd, &fds);
	if (nlfd >= numfds)
		numfds = nlfd + 1;
	if (d->sigfd >= numfds)
		numfds = d->sigfd + 1;
	count = netsnmp_large_fd_set_select(numfds, &fds, NULL, NULL, &tv);
	if (count > 0) {
		if (NETSNMP_LARGE_FD_ISSET(d->sigfd, &fds))
			go = take_signals(d);
		if (NETSNMP_LARGE_FD_ISSET(nlfd, &fds))
			on_netlink(d);
		snmp_read2(&fds);
	} else if (count == 0) {
		snmp_timeout();
	} else if (errno != EINTR) {
		log_err("select: %s", strerror(errno));
	}
	if (monotonic_ms() - d->last_dump_ms >= SAFETY_DUMP_MS)
		refresh(d);
	else if (d->events_due_ms && monotonic_ms() >= d->events_due_ms)
		publish_events(d);
	run_alarms();
	netsnmp_check_outstanding_agent_requests();
	announce(d);
	netsnmp_large_fd_set_cleanup(&fds);
	return go;
}

/* ---- startup and shutdown ------------------------------------------------ */

static int block_signals(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGPIPE);
	/* Before any thread starts, so every thread inherits the mask. */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	sigdelset(&set, SIGPIPE);
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return d->sigfd < 0 ? -1 : 0;
}

/* `user NAME` when started as root: become NAME keeping only CAP_NET_RAW
 * (the sampler's packet sockets). Raw capset(2): no libcap. Netlink and
 * syslog are already open; the AgentX socket must be reachable by NAME. */
static int drop_privileges(const char *user, char *err, size_t len)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
	struct passwd *pw;

	if (!user[0] || geteuid() != 0)
		return 0;
	pw = getpwnam(user);
	if (!pw) {
		snprintf(err, len, "user %s: no such user", user);
		return -1;
	}
	memset(caps, 0, sizeof caps);
	caps[0].effective = caps[0].permitted = 1u << CAP_NET_RAW;
	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0 || setgid(pw->pw_gid) < 0 ||
	    initgroups(user, pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0 ||
	    syscall(SYS_capset, &hdr, caps) < 0 ||
	    prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) < 0) {
		snprintf(err, len, "user %s: %s", user, strerror(errno));
		return -1;
	}
	log_info("running as %s with CAP_NET_RAW only", user);
	return 0;
}

/* Everything after the fork: the parent hears "OK" or the reason. */
static int start_running(struct daemon *d)
{
	char err[512] = "";

	if (drop_privileges(d->cfg->user, err, sizeof err) < 0)
		goto fail;
	if (block_signals(d) < 0) {
		snprintf(err, sizeof err, "signals: %s", strerror(errno));
		goto fail;
	}
	d->sampler = sampler_start(d->table, d->cfg, err, sizeof err);
	if (!d->sampler)
		goto fail;
	if (snmp_start(d) < 0) {
		snprintf(err, sizeof err, "cannot register the IF-MIB handlers");
		goto fail;
	}
	announce(d);
	sd_notify_msg("READY=1");
	report(d, "OK");
	return 0;
fail:
	log_err("%s", err);
	report(d, err);
	return -1;
}

static void teardown(struct daemon *d)
{
	if (d->sampler)
		sampler_stop(d->sampler);
	if (d->snmp_up) {
		/* net-snmp frees every callback's clientarg at shutdown: take
		 * back the two that point at us first. */
		snmp_unregister_callback(SNMP_CALLBACK_APPLICATION,
					 SNMPD_CALLBACK_INDEX_START, index_cb, d, 1);
		snmp_unregister_callback(SNMP_CALLBACK_APPLICATION,
					 SNMPD_CALLBACK_INDEX_STOP, index_cb, d, 1);
		snmp_shutdown(APP);
		shutdown_agent();
	}
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
		log_err("%s", err);
		return EXIT_RUNTIME;
	}
	if (refresh(d) < 0) {
		log_err("cannot read the kernel's interfaces");
		return EXIT_RUNTIME;
	}
	if (!d->o.foreground && daemonize(d) < 0) {
		log_err("daemonize: %s", strerror(errno));
		report(d, "cannot daemonize");
		return EXIT_RUNTIME;
	}
	if (start_running(d) < 0) {
		sd_notify_msg("STOPPING=1");
		return EXIT_RUNTIME;
	}
	log_info(APP " " HOSTFLOW_VERSION " running");
	while (loop_once(d))
		;
	sd_notify_msg("STOPPING=1");
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct daemon d;
	char err[1024];
	int rc;

	/* One malloc arena: the sampler thread allocates little, and a second
	 * arena would keep its own megabytes of slack. */
	mallopt(M_ARENA_MAX, 1);
	memset(&d, 0, sizeof d);
	d.sigfd = -1;
	d.report_fd = -1;
	d.announced = -1;
	rc = parse_opts(argc, argv, &d.o);
	if (rc >= 0)
		return rc;
	log_init(APP, d.o.foreground || d.o.check || d.o.map, d.o.verbose);
	if (load_all(d.o.conf, !d.o.map, &d.cfg, &d.map, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		if (!d.o.foreground && !d.o.check && !d.o.map)
			log_err("%s", err);
		return EXIT_CONFIG;
	}
	if (d.o.check) {
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
