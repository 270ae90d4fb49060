#include "daemon/rateprint.h"

#include <stdlib.h>

#include "base/util.h"
#include "table/iftable.h"
#include "table/netlink.h"

#define RATE_LINE_MAX 512   /* config_rate_describe's longest line, and room */

void rateprint_rows(FILE *f, const struct config *cfg, const struct if_snapshot *s)
{
	char line[RATE_LINE_MAX];

	for (size_t i = 0; i < s->n; i++) {
		config_rate_describe(cfg, s->rows[i].name, s->rows[i].speed_bps, line,
				     sizeof line);
		fprintf(f, "%s: %s\n", cfg->path, line);
	}
	/* The sampler samples nothing without a collector (ports_of). */
	if (!cfg->n_collectors && cfg->n_samples)
		fprintf(f, "%s: note: no collector is set, so no interface is sampled "
			"until one is\n", cfg->path);
}

int rateprint_now(FILE *f, const struct config *cfg, const struct hf_ifmap *map,
		  char *err, size_t errlen)
{
	struct netlink *nl = netlink_open(err, errlen);
	struct iftable *t = iftable_new();
	struct kernel_link *links = NULL;
	struct if_snapshot *s = NULL;
	size_t n = 0;
	int rc = -1;

	if (!nl)
		goto out;
	if (!t || netlink_dump(nl, &links, &n) < 0 ||
	    iftable_update(t, links, n, cfg, map, monotonic_ms()) < 0 ||
	    !(s = iftable_acquire(t))) {
		snprintf(err, errlen, "cannot read the kernel's interfaces");
		goto out;
	}
	rateprint_rows(f, cfg, s);
	iftable_release(t, s);
	rc = 0;
out:
	free(links);
	iftable_free(t);
	if (nl)
		netlink_close(nl);
	return rc;
}
