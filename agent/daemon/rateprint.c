#include "daemon/rateprint.h"

#include "daemon/tablenow.h"

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
	struct tablenow tn;

	if (tablenow_read(cfg, map, &tn, err, errlen) < 0)
		return -1;
	rateprint_rows(f, cfg, tn.s);
	tablenow_free(&tn);
	return 0;
}
