/* The table the daemon would serve, read from the kernel once, for `-t`
 * (rateprint.c's rates, progcheck.c's programs): the links present now with
 * the config's `interface` overrides and the map applied, as refresh.c
 * builds it. */
#ifndef HF_TABLENOW_H
#define HF_TABLENOW_H

#include <stddef.h>

#include "config/config.h"
#include "config/ifmap.h"
#include "table/iftable.h"
#include "table/snapshot.h"

struct tablenow {
	struct iftable *t;
	struct if_snapshot *s;      /* acquired from t */
};

/* Fills tn (the caller's, freed by tablenow_free); 0, or -1 with the reason
 * in err and nothing left to free. */
int tablenow_read(const struct config *cfg, const struct hf_ifmap *map,
		  struct tablenow *tn, char *err, size_t errlen);
void tablenow_free(struct tablenow *tn);

#endif
