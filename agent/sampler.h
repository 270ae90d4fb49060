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
/* Any thread: what the sampler does, for STATUS= and the log, e.g.
 * "sampling 2 (veth0 1:10, tailscale0 1:100); 198.18.0.2:6343 sent 120 err 0".
 * A copy, taken under the sampler's mutex, of a text the sampler thread
 * refreshes after every change of sources and every datagram sent. */
void sampler_status(struct sampler *s, char *buf, size_t len);
/* Stops and joins the thread, closes everything. */
void sampler_stop(struct sampler *s);

#endif
