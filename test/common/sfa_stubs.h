/* Callbacks for an sFlow core (sflow/core/sflow_agent.h) in a test: a
 * kernel that takes every program and knows no counters, and no random
 * stagger. The datagrams' sink is each test's own. */
#ifndef HF_SFA_STUBS_H
#define HF_SFA_STUBS_H

#include <stddef.h>
#include <stdint.h>

#include "sflow/core/sflow_agent.h"

int sfa_stub_no_counters(void *ctx, int kindex, struct if_counters *out);
int sfa_stub_accept_install(void *ctx, const struct sfa_port *ports, size_t n,
			    uint8_t *refused, char *why, size_t whylen);
uint32_t sfa_stub_random(void *ctx);

#endif
