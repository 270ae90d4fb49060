/* The daemon's life as the system sees it: detaching with the parent waiting
 * for the child's word, systemd notification, the privilege drop, and the
 * signals (blocked from the first instruction, taken through a signalfd).
 * No net-snmp, no threads of its own. */
#ifndef HF_DAEMON_H
#define HF_DAEMON_H

#include <stddef.h>

/* First thing in main, before any thread starts (every thread inherits the
 * mask): blocks SIGHUP, SIGTERM, SIGINT, SIGUSR1 and SIGPIPE, so a signal in
 * the first milliseconds stays pending instead of killing us. */
void daemon_block_signals(void);
/* For -t and -m, short commands: back to the default actions. */
void daemon_unblock_signals(void);
/* SIGTERM or SIGINT is pending (not consumed). */
int daemon_stop_pending(void);
/* A non-blocking signalfd for SIGHUP, SIGTERM, SIGINT, SIGUSR1; -1 on error. */
int daemon_signalfd(void);
/* One for SIGTERM and SIGINT only (a SIGHUP stays pending for later). */
int daemon_stop_signalfd(void);

/* Forks; the parent waits until the child reports (daemon_report) and exits
 * 0 on "OK", else prints "APP: reason" and exits 2; it passes on our signals
 * to the child meanwhile. In the child: new session, cwd /, stdio on
 * /dev/null; returns the report fd, or -1 with errno. */
int daemon_detach(const char *app);
/* Tells the waiting parent msg ("OK" or why not) once; *fd becomes -1.
 * No-op when *fd < 0 (foreground). */
void daemon_report(int *fd, const char *msg);

/* sd_notify(3) without libsystemd: msg to $NOTIFY_SOCKET if set. The socket
 * stays open from the first message on (one fd). */
void daemon_notify(const char *msg);
/* Opens that socket now (when $NOTIFY_SOCKET is set), before anything else
 * can take the last descriptors. */
void daemon_notify_prepare(void);

/* 0 when `need` more file descriptors can be opened under RLIMIT_NOFILE;
 * else -1 with "too few file descriptors: ... raise LimitNOFILE=". */
int daemon_fd_headroom(unsigned need, char *err, size_t errlen);

/* When root and user is not "": become user keeping only CAP_NET_RAW, and
 * with ebpf also CAP_BPF and CAP_NET_ADMIN (the tc eBPF capture loads and
 * attaches programs), its record directory made the user's. */
int daemon_drop_privileges(const char *user, int ebpf, char *err, size_t len);

#endif
