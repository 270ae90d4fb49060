/* The sFlow face: its own thread, AF_PACKET captures with an in-kernel 1-in-N
 * filter on each `sample` interface, flow and counter samples sent to the
 * collectors. Reads interface data only through iftable_acquire(); never
 * calls net-snmp. */
#ifndef HF_SAMPLER_H
#define HF_SAMPLER_H

#include <stddef.h>

#include "config.h"
#include "iftable.h"

struct sampler;

/* Starts the thread. The sampler copies what it needs from cfg. Returns NULL
 * with a message in err when the thread cannot start. A config with no
 * `sample` line and no collector still starts (an idle thread). */
struct sampler *sampler_start(struct iftable *t, const struct config *cfg,
			      char *err, size_t errlen);
/* Hands a new, already validated config to the thread (copied). Sequence
 * numbers continue. Called from the agent thread on SIGHUP. */
void sampler_reload(struct sampler *s, const struct config *cfg);
/* The agent thread calls this after publishing a new table snapshot, so the
 * sampler re-checks its captures (an interface that appeared or was re-created). */
void sampler_table_changed(struct sampler *s);
/* An eventfd that becomes readable when the thread ended on its own (an
 * error it cannot recover from), not by sampler_stop(); and why. The agent
 * loop selects on it: a sampler that stopped must not go unnoticed. */
int sampler_exit_fd(struct sampler *s);
const char *sampler_exit_reason(struct sampler *s);
/* Stops and joins the thread, closes everything. */
void sampler_stop(struct sampler *s);

#endif
