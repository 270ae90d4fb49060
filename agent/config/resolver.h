/* Collector names resolved off the agent thread: getaddrinfo() may wait for
 * a resolver for many seconds, and the agent thread must keep answering
 * SNMP meanwhile. One short-lived detached worker per resolution; the caller
 * learns it is done from an fd in its select(). */
#ifndef HF_RESOLVER_H
#define HF_RESOLVER_H

#include <stddef.h>

#include "config/config.h"

struct resolver;

/* Starts resolving cfg's collector names (config_resolve) in a worker;
 * takes cfg. NULL with a message in err when no thread can start (cfg is
 * freed then). */
struct resolver *resolver_start(struct config *cfg, char *err, size_t errlen);
/* Readable once the resolution is over. */
int resolver_fd(const struct resolver *r);
/* Once resolver_fd() is readable: 0 and the resolved config in *cfg, or -1
 * and config_resolve's "FILE:LINE: ..." in err (the config freed). Frees r. */
int resolver_finish(struct resolver *r, struct config **cfg, char *err, size_t errlen);
/* Gives the resolution up without waiting for it: the worker frees
 * everything when getaddrinfo() returns. NULL is a no-op. */
void resolver_abandon(struct resolver *r);

#endif
