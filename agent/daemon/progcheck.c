#include "daemon/progcheck.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/util.h"
#include "table/iftable.h"
#include "table/netlink.h"

enum sampler_check progcheck_now(const struct config *cfg, const struct hf_ifmap *map,
				 char *kind, size_t kindlen, char *err, size_t errlen)
{
	struct netlink *nl;
	struct iftable *t;
	struct kernel_link *links = NULL;
	struct if_snapshot *s = NULL;
	size_t n = 0;
	enum sampler_check rc = SAMPLER_CHECK_UNTRIED;

	kind[0] = '\0';
	/* No `sample` line: no program to try. */
	if (!cfg->n_samples)
		return SAMPLER_CHECK_OK;
	nl = netlink_open(err, errlen);
	t = iftable_new();
	if (!nl || !t || netlink_dump(nl, &links, &n) < 0 ||
	    iftable_update(t, links, n, cfg, map, monotonic_ms()) < 0 ||
	    !(s = iftable_acquire(t))) {
		snprintf(err, errlen, "cannot read the kernel's interfaces; the sampling "
			 "programs were not tried");
		goto out;
	}
	rc = sampler_check_programs(cfg, s, kind, kindlen, err, errlen);
	iftable_release(t, s);
out:
	free(links);
	iftable_free(t);
	if (nl)
		netlink_close(nl);
	return rc;
}
