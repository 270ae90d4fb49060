/* The sFlow agent core: everything sFlow decides, with no socket, thread or
 * net-snmp in it (as Host sFlow's src/sflow/ is). The sampler thread drives it
 * with the time and its inputs (the interfaces the table serves, captured
 * frames, counters) and it emits finished datagrams through a callback.
 *
 * What it owns: one source per sampled interface (its sequence numbers, sample
 * pool and drops), the counter-polling schedule (staggered), the queue of
 * samples not yet sent and their packing into datagrams of the collectors'
 * size, the datagram sequence and uptime of an agent address (an epoch), and
 * holding samples while SNMP cannot answer for them. */
#ifndef HF_SFLOW_AGENT_H
#define HF_SFLOW_AGENT_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "sflow/core/fwd.h"      /* struct fwd_info: what the route room found */
#include "base/hf_types.h"

#define SFA_FLUSH_AFTER_MS   1000  /* a queued sample waits at most this long */

/* One interface of the table, as the shell hands it over. rate 0: served but
 * not sampled (the core still needs its ifIndex: the other side of a
 * forwarded packet). */
struct sfa_port {
	int kindex;
	uint32_t ifindex;         /* served */
	char name[IFNAMSIZ];
	unsigned arphrd;
	uint32_t iftype;
	uint64_t speed_bps;
	uint8_t admin, oper, promisc;  /* IF-MIB values */
	uint8_t if_direction;     /* sFlow's ifDirection from the duplex: 1 full,
				     2 half, 0 unknown */
	uint32_t rate;            /* 1 in rate; 0 = not sampled */
	int filter_id;            /* opaque for the shell: a change re-installs */
};

/* A sampled frame. */
struct sfa_frame {
	int kindex;               /* where it was seen */
	int outgoing;             /* sent out of kindex (PACKET_OUTGOING) */
	const uint8_t *data;      /* from the link header on (raw IP on tun) */
	uint32_t caplen, len;
	const struct fwd_info *fwd; /* already classified; NULL: the classify callback says */
};

struct sfa_callbacks {
	void *ctx;
	/* A finished datagram for every collector. */
	void (*send)(void *ctx, const uint8_t *buf, size_t len);
	/* Counters of a kernel ifindex; 0, or -1 when it is gone. */
	int (*counters)(void *ctx, int kindex, struct if_counters *out);
	/* Installs the sampling of ports[] in the kernel (the rates and filters
	 * of those with rate > 0). Returns 0 when that is in force except for
	 * the ports the shell sets refused[i] for (the kernel would not take
	 * them; why says so): those are not sampled, and not asked again until
	 * what is wanted changes. -1 when nothing changed (why says why): the
	 * core keeps the rates in force before the call and asks again at the
	 * next sync. refused[] comes zeroed. */
	int (*install)(void *ctx, const struct sfa_port *ports, size_t n, uint8_t *refused,
		       char *why, size_t whylen);
	/* Random numbers for the counter stagger (tests pass their own). */
	uint32_t (*random)(void *ctx);
	/* Forwarded or not (the route room): called for a frame the core will
	 * sample, once its source is found, with the source's link type. 0
	 * with *out filled; -1 not classified (host traffic). NULL: never. */
	int (*classify)(void *ctx, int kindex, unsigned arphrd, int outgoing,
			const uint8_t *data, uint32_t caplen, int64_t now, struct fwd_info *out);
};

struct sfa_settings {
	struct hf_addr agent;     /* family 0: 0.0.0.0 */
	uint32_t sub_agent_id;
	uint32_t polling_interval; /* s; 0 = no counter samples */
	size_t max_datagram;      /* payload bound: the collectors' path */
	int hold;                 /* hold samples while SNMP cannot answer */
	size_t hold_bytes;        /* what holding may keep (encoded bytes) */
};

/* Running totals, for logs and STATUS=. */
struct sfa_stats {
	uint64_t datagrams, flow_samples, counter_samples;
	uint64_t held_dropped;    /* samples dropped because the hold was full */
	uint64_t ring_dropped;    /* frames the kernel ring had no room for */
	uint64_t copied_samples;  /* copied again after their encoding: a datagram laid
				   * out for a larger path MTU or another agent family,
				   * or a reload resizing the queue (each sample is
				   * otherwise written once, where it is sent from) */
	size_t queued_bytes;
	size_t sampled;           /* sources (interfaces) sampled now */
};

struct sflow_agent;

/* now: uptime 0 of the first epoch. */
struct sflow_agent *sfa_new(const struct sfa_settings *set, const struct sfa_callbacks *cb,
			    int64_t now);
void sfa_free(struct sflow_agent *a);

/* New settings (a reload). Sequence numbers continue; a new agent address
 * starts a new epoch (datagram sequence and uptime restart); what is queued
 * is sent first under the old settings when SNMP can answer. */
void sfa_configure(struct sflow_agent *a, const struct sfa_settings *set, int64_t now);
/* The agent address alone (agent_interface follows an interface). */
void sfa_set_agent(struct sflow_agent *a, const struct hf_addr *agent, int64_t now);
/* The collectors' payload bound changed (path MTU). */
void sfa_set_max_datagram(struct sflow_agent *a, size_t max);

/* The table's interfaces (sorted or not), all of them: sources appear,
 * change rate, disappear; an interface re-created under the same served
 * ifIndex (another kernel ifindex) restarts its sequence numbers and pool.
 * Calls install() when what is sampled changed. Returns 0, or -1 when the
 * kernel refused (the previous sampling stays in force; why says it). */
int sfa_sync(struct sflow_agent *a, const struct sfa_port *ports, size_t n, int64_t now,
	     char *why, size_t whylen);

/* The next sfa_sync asks the kernel again for the ports it refused, even
 * when nothing else changed (a reload: net.core.optmem_max may have been
 * raised). */
void sfa_retry_refused(struct sflow_agent *a);
/* The kernel refused port kindex after the install that put it in force
 * returned (an attach made in steps): it is no longer sampled, and not
 * asked again until what is wanted changes, as a refusal the install
 * reported. Returns 1 when that changed what is sampled, 0 when kindex was
 * not in force. */
int sfa_refused_later(struct sflow_agent *a, int kindex, int64_t now);

/* Whether SNMP answers for the table now (registered with the master). While
 * not, samples are held (when settings.hold) up to hold_bytes; a sample that
 * does not fit is dropped and counted in its source's drops. */
void sfa_set_answerable(struct sflow_agent *a, int answerable, int64_t now);

/* A sampled frame; frames of interfaces not sampled are ignored. Its
 * kernel ifindex is looked up once: the source found gives the link type
 * the classify callback needs. */
void sfa_frame(struct sflow_agent *a, const struct sfa_frame *f, int64_t now);
/* A packet of kindex the kernel drew 1 in rate but did not hand over as a
 * sample (its filter did not match, or it is the daemon's own): it could
 * not have been sampled, so it counts `rate` packets out of the sample pool.
 * sFlow's pool is the packets that could have been sampled, and with this
 * pool / samples estimates the rate on every source: the interface's
 * packet counters, less rate for each drawn packet that is not a sample
 * here (also the egress copies of forwarded packets that sfa_frame skips). */
void sfa_rejected(struct sflow_agent *a, int kindex);
/* Frames the kernel dropped before we saw them: counted in the drops of the
 * next flow sample (a shared ring cannot tell whose they were). */
void sfa_ring_drops(struct sflow_agent *a, uint32_t n);

/* Counter polls and flushes that are due. Returns the time of the next
 * thing due (for the shell's poll timeout). */
int64_t sfa_tick(struct sflow_agent *a, int64_t now);
/* Sends what is queued now (when SNMP can answer), e.g. before stopping. */
void sfa_flush(struct sflow_agent *a, int64_t now);

/* Is kernel ifindex sampled now? */
int sfa_is_sampled(const struct sflow_agent *a, int kindex);
void sfa_get_stats(const struct sflow_agent *a, struct sfa_stats *out);
/* The sampled interfaces: at most max of them, name and rate. */
size_t sfa_sampled(const struct sflow_agent *a, struct sfa_port *out, size_t max);
/* The interfaces a `sample` line wants (rate > 0) that are not sampled:
 * refused by the kernel, or waiting for an install that failed. At most
 * max, sorted by kindex; returns how many there are in all. */
size_t sfa_unsampled(const struct sflow_agent *a, struct sfa_port *out, size_t max);

#endif
