/* Reading the configuration files, and reloading them on SIGHUP in two
 * halves on the agent thread around a worker that resolves the collector
 * names (config/resolver.h), so SNMP is answered while a resolver takes its
 * time. Agent thread only. */
#ifndef HF_RELOAD_H
#define HF_RELOAD_H

#include <stddef.h>

#include "config/config.h"
#include "config/ifmap.h"

/* The config at path, then its ifindex map; collector names resolved only
 * when resolve is set (-m needs no collectors, the daemon resolves in a
 * worker). 0, or -1 with "FILE:LINE: message" in err and nothing held. */
int reload_read(const char *path, int resolve, struct config **cfg,
		struct hf_ifmap **map, char *err, size_t errlen);

struct reload;

/* Reloads path (borrowed). apply(ctx, cfg, map) installs a good new config
 * and map, both owned by the callee from then on (it frees the old ones).
 * NULL when out of memory. */
struct reload *reload_new(const char *path,
			  void (*apply)(void *ctx, struct config *cfg, struct hf_ifmap *map),
			  void *ctx);
/* Abandons a resolution in flight (never waited for) and frees r. */
void reload_free(struct reload *r);
/* SIGHUP: reads and checks the files and starts resolving; a bad file is
 * logged and the running config kept. During a resolution the request is
 * queued: the files are read again once it ends. */
void reload_begin(struct reload *r);
/* To select on: readable when the resolution is over; -1 when none runs. */
int reload_fd(const struct reload *r);
/* reload_fd() is readable: the second half (apply, or keep the running
 * config and say why, or start over for a queued SIGHUP). running is the
 * config in force. */
void reload_finish(struct reload *r, const struct config *running);

#endif
