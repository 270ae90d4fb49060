/* The daemon's life: signals, detaching, sd_notify, the privilege drop. */
#include "daemon/daemon.h"
#include "base/log.h"
#include "sflow/capture_ebpf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- signals -------------------------------------------------------------- */

/* The signals taken through the signalfd; SIGPIPE is only blocked (a send
 * error is an errno). SIGUSR1 logs the status line (statusline.c). */
static void our_sigset(sigset_t *set, int with_pipe)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGUSR1);
	if (with_pipe)
		sigaddset(set, SIGPIPE);
}

void daemon_block_signals(void)
{
	sigset_t set;

	our_sigset(&set, 1);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

void daemon_unblock_signals(void)
{
	sigset_t set;

	our_sigset(&set, 1);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int daemon_stop_pending(void)
{
	sigset_t set;

	return sigpending(&set) == 0 &&
	       (sigismember(&set, SIGTERM) == 1 || sigismember(&set, SIGINT) == 1);
}

int daemon_signalfd(void)
{
	sigset_t set;

	our_sigset(&set, 0);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int daemon_stop_signalfd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* ---- systemd notification, without libsystemd --------------------------- */

/* Opened first thing and kept: a daemon short of file descriptors can
 * still say so before it exits. */
static int notify_fd = -1;

/* The socket, opened at the first call (daemon_notify_prepare or a message). */
static int notify_socket(void)
{
	if (notify_fd < 0 && getenv("NOTIFY_SOCKET"))
		notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return notify_fd;
}

void daemon_notify_prepare(void)
{
	notify_socket();
}

void daemon_notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;

	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len >= sizeof sa.sun_path)
		return;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';  /* abstract namespace */
	if (notify_socket() < 0) {
		static int warned;

		if (!warned++)
			log_warn("daemon", "sd_notify: socket: %s; systemd hears nothing",
				 strerror(errno));
		return;
	}
	if (sendto(notify_fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		log_debug("daemon", "sd_notify %s: %s", msg, strerror(errno));
}

/* ---- file descriptors ------------------------------------------------------ */

int daemon_fd_headroom(unsigned need, char *err, size_t errlen)
{
	struct rlimit rl;
	DIR *d = opendir("/proc/self/fd");
	unsigned used = 0;
	struct dirent *e;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY) {
		if (d)
			closedir(d);
		return 0;
	}
	if (!d) {
		snprintf(err, errlen, "no file descriptor left: %s", strerror(errno));
		return -1;
	}
	while ((e = readdir(d)))
		used += e->d_name[0] != '.';
	closedir(d);
	used -= used > 0;   /* the directory's own */
	if (rl.rlim_cur >= (rlim_t)used + need)
		return 0;
	snprintf(err, errlen, "too few file descriptors: %u of RLIMIT_NOFILE %llu in use, "
		 "and %u more are needed for what the configuration will open (AgentX, "
		 "reloads, captures replaced); raise LimitNOFILE= (ulimit -n) to at least %u",
		 used, (unsigned long long)rl.rlim_cur, need, used + need);
	return -1;
}

/* ---- daemonizing ---------------------------------------------------------- */

/* The parent waits for the child's first word: "OK", or the reason it failed.
 * Our signals are blocked here too: one sent to the parent meanwhile is
 * passed on to the child, which takes it once its loop runs. */
static void parent_wait(const char *app, int fd, pid_t child)
{
	struct signalfd_siginfo si;
	struct pollfd p[2];
	char buf[1024];
	size_t got = 0;
	ssize_t r;

	p[0].fd = fd;
	p[0].events = POLLIN;
	p[1].fd = daemon_signalfd();
	p[1].events = POLLIN;
	while (got < sizeof buf - 1) {
		if (poll(p, p[1].fd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		while (p[1].fd >= 0 && read(p[1].fd, &si, sizeof si) == (ssize_t)sizeof si)
			kill(child, (int)si.ssi_signo);
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = read(fd, buf + got, sizeof buf - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	if (got >= 2 && !strncmp(buf, "OK", 2))
		_exit(0);
	fprintf(stderr, "%s: %s\n", app, got ? buf : "daemon exited during startup");
	_exit(2);
}

int daemon_detach(const char *app)
{
	int p[2], null;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		parent_wait(app, p[0], pid);
	}
	close(p[0]);
	if (setsid() < 0 || chdir("/") < 0)
		goto fail;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		goto fail;
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	if (null > 2)
		close(null);
	return p[1];
fail:
	close(p[1]);
	return -1;
}

void daemon_report(int *fd, const char *msg)
{
	if (*fd < 0)
		return;
	if (write(*fd, msg, strlen(msg)) < 0)
		log_debug("daemon", "cannot report to the parent: %s", strerror(errno));
	close(*fd);
	*fd = -1;
}

/* ---- privileges ------------------------------------------------------------ */

/* The highest capability the running kernel knows: CAP_BPF (39) came with
 * Linux 5.8, and capset refuses a bit the kernel does not know. */
static int cap_last(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* `user NAME` when started as root: become NAME keeping only CAP_NET_RAW
 * (the sampler's packet sockets), and where the tc eBPF capture may be used
 * CAP_BPF and CAP_NET_ADMIN (loading and attaching its programs; its record
 * directory, in /run, is made NAME's first). Raw capset(2): no libcap.
 * Netlink and syslog are already open; the AgentX socket must be reachable
 * by NAME. */
int daemon_drop_privileges(const char *user, int ebpf, char *err, size_t len)
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
	ebpf = ebpf && cap_last() >= CAP_BPF;
	if (ebpf) {
		caps[0].effective |= 1u << CAP_NET_ADMIN;
		caps[0].permitted |= 1u << CAP_NET_ADMIN;
		caps[CAP_TO_INDEX(CAP_BPF)].effective |= CAP_TO_MASK(CAP_BPF);
		caps[CAP_TO_INDEX(CAP_BPF)].permitted |= CAP_TO_MASK(CAP_BPF);
		/* Made here, the user's; one that exists (another daemon's, or
		 * systemd's RuntimeDirectory) is left as it is. */
		if (mkdir(CAPTURE_EBPF_STATE_DIR, 0700) == 0) {
			if (chown(CAPTURE_EBPF_STATE_DIR, pw->pw_uid, pw->pw_gid) < 0)
				log_warn("daemon", "%s: %s: a killed hostflowd's tc programs "
					 "cannot be recorded", CAPTURE_EBPF_STATE_DIR,
					 strerror(errno));
		} else if (errno != EEXIST) {
			log_warn("daemon", "%s: %s: a killed hostflowd's tc programs cannot be "
				 "recorded", CAPTURE_EBPF_STATE_DIR, strerror(errno));
		}
	}
	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0 || setgid(pw->pw_gid) < 0 ||
	    initgroups(user, pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0 ||
	    syscall(SYS_capset, &hdr, caps) < 0 ||
	    prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) < 0) {
		snprintf(err, len, "user %s: %s", user, strerror(errno));
		return -1;
	}
	if (ebpf) {
		log_info("daemon", "running as %s with CAP_NET_RAW, CAP_BPF and CAP_NET_ADMIN",
			 user);
		return 0;
	}
	log_info("daemon", "running as %s with CAP_NET_RAW only", user);
	return 0;
}
