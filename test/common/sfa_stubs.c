/* See sfa_stubs.h. */
#include "sfa_stubs.h"

int sfa_stub_no_counters(void *ctx, int kindex, struct if_counters *out)
{
	(void)ctx;
	(void)kindex;
	(void)out;
	return -1;
}

int sfa_stub_accept_install(void *ctx, const struct sfa_port *ports, size_t n,
			    uint8_t *refused, char *why, size_t whylen)
{
	(void)ctx;
	(void)ports;
	(void)n;
	(void)refused;
	(void)why;
	(void)whylen;
	return 0;
}

uint32_t sfa_stub_random(void *ctx)
{
	(void)ctx;
	return 4;
}
