/* What `hostflowd -t` says about sampling: each interface present, the rate
 * it gets and the line that decided it (config_rate, the sampler's rule),
 * at the speed the table serves for it. */
#ifndef HF_RATEPRINT_H
#define HF_RATEPRINT_H

#include <stdio.h>

#include "config/config.h"
#include "config/ifmap.h"
#include "table/snapshot.h"

/* One "FILE: NAME: 1 in N (why)" line per row of s, in ifIndex order, and a
 * note when no collector is set (then nothing is sampled). */
void rateprint_rows(FILE *f, const struct config *cfg, const struct if_snapshot *s);
/* The same for the interfaces present now: reads the kernel's links and
 * builds the table the daemon would serve (map and `interface` overrides
 * applied). Returns 0, or -1 with the reason in err. */
int rateprint_now(FILE *f, const struct config *cfg, const struct hf_ifmap *map,
		  char *err, size_t errlen);

#endif
