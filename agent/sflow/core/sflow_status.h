/* What the sampler says about itself, in STATUS= (after the daemon's own
 * part, daemon/status.h) and at SIGUSR1, e.g.
 *   "sampling 2 (veth0 1:10, tailscale0 1:100; waiting for eth9;
 *    not sampled: v6, v7 (optmem_max), v9 (filter)) by tc eBPF;
 *    198.18.0.2:6343 sent 120 err 0; holding samples"
 * The one formatter of that text. Pure: the sampler thread calls
 * sflow_status_of (sampler_table.c), the tests call it as it does. */
#ifndef HF_SFLOW_STATUS_H
#define HF_SFLOW_STATUS_H

#include <stddef.h>

#include "sflow/core/sflow_agent.h"

/* Sampled interfaces named in the text; the others are counted ("2 more"):
 * a host sampling 1000 veths must not push the collectors out of it. The
 * same bound for those not sampled. */
#define SFLOW_STATUS_SHOWN 8

/* An interface a `sample` line wants that is not sampled, and why in the
 * shell's few words ("optmem_max", "filter", "no capture"; NULL: none). */
struct sflow_unsampled {
	const char *name;
	const char *why;
};

struct sflow_status {
	size_t sampled;                 /* interfaces sampled now */
	const struct sfa_port *shown;   /* the first of them (name, rate) */
	size_t nshown;                  /* at most SFLOW_STATUS_SHOWN are named */
	const char *waiting;            /* `sample` patterns matching no interface; NULL or "": none */
	size_t unsampled;               /* interfaces wanted but not sampled (the kernel refused) */
	const struct sflow_unsampled *unsampled_shown; /* the first of them, with why */
	size_t n_unsampled_shown;       /* at most SFLOW_STATUS_SHOWN are named */
	const char *capture;            /* the capture in use ("tc eBPF", "packet sockets");
					   NULL or "": left out */
	const char *collectors;         /* collectors_describe()'s text; NULL or "": left out */
	int holding;                    /* samples held: SNMP cannot answer for them now */
};

/* Writes the text into buf (always terminated, truncated to len - 1 bytes);
 * returns its length. Each part in parentheses is one list ("a 1:10, b 1:100",
 * "waiting for ...", "not sampled: ..."), so a new kind of interface is one
 * more list. In the list of those not sampled, a run of interfaces with the
 * same why names it once, after the last of them. */
size_t sflow_status_format(const struct sflow_status *in, char *buf, size_t len);

/* What the shell adds to a core's figures (see struct sflow_status). */
struct sflow_status_shell {
	const char *waiting;
	const char *capture;
	const char *collectors;
	int holding;
	/* Why the wanted interface of kernel ifindex kindex is not sampled;
	 * NULL (the function or its answer): the name alone. */
	const char *(*unsampled_why)(const void *ctx, int kindex);
	const void *ctx;
};

/* The text the sampler publishes for core a: its sampled interfaces, those
 * it wants but the kernel does not sample (sfa_unsampled), and what the
 * shell adds. Returns the length, as sflow_status_format. */
size_t sflow_status_of(const struct sflow_agent *a, const struct sflow_status_shell *sh,
		       char *buf, size_t len);

#endif
