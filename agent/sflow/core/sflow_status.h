/* What the sampler says about itself, in STATUS= (after the daemon's own
 * part, daemon/status.h) and at SIGUSR1, e.g.
 *   "sampling 2 (veth0 1:10, tailscale0 1:100; waiting for eth9);
 *    198.18.0.2:6343 sent 120 err 0; holding samples"
 * The one formatter of that text. Pure: the sampler thread calls
 * sflow_status_of (sampler_table.c), the tests call it as it does. */
#ifndef HF_SFLOW_STATUS_H
#define HF_SFLOW_STATUS_H

#include <stddef.h>

#include "sflow/core/sflow_agent.h"

/* Sampled interfaces named in the text; the others are counted ("2 more"):
 * a host sampling 1000 veths must not push the collectors out of it. */
#define SFLOW_STATUS_SHOWN 8

struct sflow_status {
	size_t sampled;                 /* interfaces sampled now */
	const struct sfa_port *shown;   /* the first of them (name, rate) */
	size_t nshown;                  /* at most SFLOW_STATUS_SHOWN are named */
	const char *waiting;            /* `sample` patterns matching no interface; NULL or "": none */
	const char *collectors;         /* collectors_describe()'s text; NULL or "": left out */
	int holding;                    /* samples held: SNMP cannot answer for them now */
};

/* Writes the text into buf (always terminated, truncated to len - 1 bytes);
 * returns its length. Each part in parentheses is one list ("a 1:10, b 1:100",
 * "waiting for ..."), so a new kind of interface is one more list. */
size_t sflow_status_format(const struct sflow_status *in, char *buf, size_t len);

/* The text the sampler publishes for core a: its sampled interfaces, and
 * what the shell adds (waiting patterns, collectors, holding; see struct
 * sflow_status). Returns the length, as sflow_status_format. */
size_t sflow_status_of(const struct sflow_agent *a, const char *waiting,
		       const char *collectors, int holding, char *buf, size_t len);

#endif
