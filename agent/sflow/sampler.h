/* The sFlow face: its own thread, one packet socket for every sampled
 * interface, flow and counter samples sent to the collectors. The decisions
 * are the pure core's (sflow_agent.h); this is its shell. Reads interface data
 * only through iftable_acquire(); never calls net-snmp. Every function here
 * is for the agent thread. */
#ifndef HF_SAMPLER_H
#define HF_SAMPLER_H

#include <stddef.h>

#include "config/config.h"
#include "table/snapshot.h"

struct sampler;

/* Opens the collectors and the capture, puts the first sampling of t in
 * force, and starts the thread, holding a reference to cfg. Returns NULL with
 * a message in err when any of it fails (a collector's socket, the capture's
 * sockets; nothing is left started). Interfaces the kernel refuses are not a
 * failure: the status names them. A config with no `sample` line and no
 * collector still starts (an idle thread). Samples are held until
 * sampler_set_registered(s, 1) unless the config says `hold_samples off`. */
struct sampler *sampler_start(struct iftable *t, struct config *cfg,
			      char *err, size_t errlen);
/* File descriptors the sampler started with cfg may open beyond those it
 * holds once started: what its capture may still open (packet sockets: a
 * swap's replacement sockets while the old ones drain; tc eBPF: none), and
 * a reload's collectors before the old ones close. */
unsigned sampler_fds_spare(const struct sampler *s, const struct config *cfg);
/* Hands a new, already validated and resolved config to the thread (a
 * reference is taken). Sequence numbers continue. */
void sampler_reload(struct sampler *s, struct config *cfg);
/* After publishing a new table snapshot: interfaces appeared, went, changed. */
void sampler_table_changed(struct sampler *s);
/* Whether snmpd answers for our table now (registered with the master). */
void sampler_set_registered(struct sampler *s, int registered);
/* Readable (an eventfd) once the thread ended on its own, by an error it
 * cannot recover from; the reason is then sampler_exit_reason()'s. */
int sampler_exit_fd(const struct sampler *s);
void sampler_exit_reason(struct sampler *s, char *buf, size_t len);
/* One line of figures: interfaces sampled and their rates, holding, each
 * collector's datagrams sent, lost and errors (for STATUS= and SIGUSR1). */
void sampler_status(struct sampler *s, char *buf, size_t len);
/* For -t: the capture the daemon would open here with these rights (kind:
 * "tc eBPF", or "packet sockets" with why not tc eBPF under `capture auto`)
 * and the programs the sampler would install for the interfaces of snap:
 * for packet sockets built and tried on a throwaway socket (the kernel's
 * checker and its net.core.optmem_max), for tc eBPF the one program that
 * judges the drawn packets in user space. REFUSED with "FILE:LINE: sample
 * PATTERN: ..." in err when the kernel would not take one of them (a filter
 * that does not compile for an interface's link type, too many
 * instructions, too much socket memory), or "FILE:LINE: capture: tc eBPF:
 * ..." when `capture ebpf` cannot load here; UNTRIED (err says why) when no
 * socket could be had. */
enum sampler_check { SAMPLER_CHECK_OK, SAMPLER_CHECK_REFUSED, SAMPLER_CHECK_UNTRIED };
enum sampler_check sampler_check_programs(const struct config *cfg,
					  const struct if_snapshot *snap, char *kind,
					  size_t kindlen, char *err, size_t errlen);
/* Stops and joins the thread, closes everything, logs the totals. */
void sampler_stop(struct sampler *s);

#endif
