/* What the test-only tc tools share (test/tools/tcxfill.c, test/bench/
 * tcfloor.c): the tcx attach points, and holding what they attached until
 * told to stop. Header-only: each tool is one file, built on its own (the
 * Makefile, bench_bighost.sh). */
#ifndef HF_TCXHOLD_H
#define HF_TCXHOLD_H

#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* The tcx attach points of kernel 6.6 (enum bpf_attach_type), which
 * Debian 12's headers do not name. */
#define TCXHOLD_INGRESS 46
#define TCXHOLD_EGRESS  47
/* How often the hold looks at the stop flag and the clock. */
#define TCXHOLD_POLL_US 100000

static volatile sig_atomic_t tcxhold_stop;

static void tcxhold_on_signal(int sig)
{
	(void)sig;
	tcxhold_stop = 1;
}

/* Prints "ready" (the caller's cue: everything is attached) and returns on
 * SIGTERM, SIGINT or at end. */
static void tcxhold_until(time_t end)
{
	signal(SIGTERM, tcxhold_on_signal);
	signal(SIGINT, tcxhold_on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!tcxhold_stop && time(NULL) < end)
		usleep(TCXHOLD_POLL_US);
}

#endif
