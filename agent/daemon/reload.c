/* Loading and reloading the configuration (reload.h). Reading and parsing
 * the files stays on the agent thread: they are bounded regular files
 * (textfile.c refuses anything else); only name resolution, which may wait
 * on a DNS server for seconds, runs in the resolver's worker. */
#include "daemon/reload.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "config/resolver.h"
#include "daemon/daemon.h"
#include "sflow/core/pfilter.h"

struct reload {
	const char *path;
	void (*apply)(void *ctx, struct config *cfg, struct hf_ifmap *map);
	void *ctx;
	struct resolver *resolving;     /* names being resolved, or NULL */
	struct hf_ifmap *pending_map;   /* that reload's map */
	bool again;                     /* SIGHUP while resolving */
};

int reload_read(const char *path, int resolve, struct config **cfg,
		struct hf_ifmap **map, char *err, size_t errlen)
{
	char from[4200];

	*map = NULL;
	if (config_load(path, cfg, err, errlen) < 0)
		return -1;
	if (pfilter_check_config(*cfg, err, errlen) < 0)
		goto fail;
	snprintf(from, sizeof from, "%s:%d", (*cfg)->path, (*cfg)->ifindex_map_line);
	if ((*cfg)->ifindex_map[0] &&
	    ifmap_load((*cfg)->ifindex_map, from, map, err, errlen) < 0)
		goto fail;
	if (resolve && config_resolve(*cfg, err, errlen) < 0)
		goto fail;
	return 0;
fail:
	ifmap_free(*map);
	*map = NULL;
	config_free(*cfg);
	*cfg = NULL;
	return -1;
}

struct reload *reload_new(const char *path,
			  void (*apply)(void *ctx, struct config *cfg, struct hf_ifmap *map),
			  void *ctx)
{
	struct reload *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->path = path;
	r->apply = apply;
	r->ctx = ctx;
	return r;
}

void reload_free(struct reload *r)
{
	if (!r)
		return;
	/* A worker still waiting on a resolver is not waited for. */
	resolver_abandon(r->resolving);
	ifmap_free(r->pending_map);
	free(r);
}

int reload_fd(const struct reload *r)
{
	return r->resolving ? resolver_fd(r->resolving) : -1;
}

static void keep_running(const char *err)
{
	log_err("reload", "%s; keeping the running configuration", err);
	daemon_notify("READY=1");
}

void reload_begin(struct reload *r)
{
	struct config *cfg;
	struct hf_ifmap *map;
	char err[1024];

	if (r->resolving) {
		/* Queued, not restarted: one worker at a time. The newest files win. */
		r->again = true;
		log_info("config", "SIGHUP while resolving collector names; reading the "
			 "files again once that ends");
		return;
	}
	daemon_notify("RELOADING=1");
	if (reload_read(r->path, 0, &cfg, &map, err, sizeof err) < 0) {
		keep_running(err);
		return;
	}
	r->resolving = resolver_start(cfg, err, sizeof err);
	if (!r->resolving) {
		ifmap_free(map);
		keep_running(err);
		return;
	}
	r->pending_map = map;
}

void reload_finish(struct reload *r, const struct config *running)
{
	struct config *cfg = NULL;
	struct hf_ifmap *map = r->pending_map;
	char err[1024];
	int rc = resolver_finish(r->resolving, &cfg, err, sizeof err);

	r->resolving = NULL;
	r->pending_map = NULL;
	if (r->again) {
		r->again = false;
		if (rc == 0)
			config_free(cfg);
		ifmap_free(map);
		reload_begin(r);
		return;
	}
	if (rc < 0) {
		ifmap_free(map);
		keep_running(err);
		return;
	}
	if (strcmp(cfg->agentx_socket, running->agentx_socket)) {
		log_warn("reload", "agentx_socket changed to %s: takes effect after a restart",
			 cfg->agentx_socket);
		/* What runs is still the old socket: say so in later messages. */
		hf_strlcpy(cfg->agentx_socket, running->agentx_socket, sizeof cfg->agentx_socket);
	}
	if (cfg->agentx_retry != running->agentx_retry) {
		log_warn("reload", "agentx_retry changed to %u s: takes effect after a restart",
			 (unsigned)cfg->agentx_retry);
		cfg->agentx_retry = running->agentx_retry;
	}
	r->apply(r->ctx, cfg, map);
	log_info("reload", "configuration reloaded from %s", r->path);
	daemon_notify("READY=1");
}
