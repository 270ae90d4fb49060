#include "daemon/progcheck.h"

#include <stdio.h>

#include "daemon/tablenow.h"

enum sampler_check progcheck_now(const struct config *cfg, const struct hf_ifmap *map,
				 char *kind, size_t kindlen, char *err, size_t errlen)
{
	struct tablenow tn;
	enum sampler_check rc;

	kind[0] = '\0';
	/* No `sample` line: no program to try. */
	if (!cfg->n_samples)
		return SAMPLER_CHECK_OK;
	if (tablenow_read(cfg, map, &tn, err, errlen) < 0) {
		snprintf(err, errlen, "cannot read the kernel's interfaces; the sampling "
			 "programs were not tried");
		return SAMPLER_CHECK_UNTRIED;
	}
	rc = sampler_check_programs(cfg, tn.s, kind, kindlen, err, errlen);
	tablenow_free(&tn);
	return rc;
}
