/* The tc eBPF capture: the same sampling as the packet sockets
 * (capture.h), taken by programs on each sampled interface's tcx ingress
 * and egress hooks (Linux 6.6) instead of packet-socket taps. A packet
 * pays an array lookup and a random draw on sampled interfaces only, and
 * nothing is cloned; the drawn packets' first 256 bytes go into ONE ring
 * buffer the sampler polls. Rates are thresholds in maps keyed by ifindex
 * (sflow/bpf/sample_abi.h), so fds and memory do not grow per interface
 * (a fixed 256 KiB array, a hash entry for an ifindex past 65535). Filters
 * run in user space on the drawn packets (tcsample.h): the draw comes first,
 * as in the packet sockets' program, so the selection stays unbiased.
 *
 * The attachments outlive a killed daemon (tcx's attach without a link
 * holds no fd): the programs' ids are recorded in
 * CAPTURE_EBPF_STATE_DIR/tcx-NETNS, locked while the daemon runs, and the
 * next start in the same network namespace detaches the ids it finds
 * there. Reached through capture.c (capture_open), owned by the sampler
 * thread. */
#ifndef HF_CAPTURE_EBPF_H
#define HF_CAPTURE_EBPF_H

#include <stddef.h>
#include <stdint.h>

#include "sflow/capture.h"

/* Where the attached programs are recorded: /run's lifetime is the boot's,
 * as a program id's is. systemd's RuntimeDirectory=hostflow. */
#define CAPTURE_EBPF_STATE_DIR "/run/hostflow"

struct capture_ebpf;

/* Loads the programs and maps (CAP_BPF, CAP_NET_ADMIN), checks that the
 * kernel has tcx, detaches what a killed predecessor in this network
 * namespace left attached, and records ours. Nothing is attached until
 * capture_ebpf_set_rules(). Returns NULL with the reason in err. */
struct capture_ebpf *capture_ebpf_open(char *err, size_t errlen);
/* As capture_set_rules(): new interfaces get their rate in the map and
 * the programs attached (a failure detaches what this call attached and
 * keeps the rules in force), kept ones their new rate, gone ones are
 * detached. An interface that vanished meanwhile is skipped. */
int capture_ebpf_set_rules(struct capture_ebpf *e, const struct capture_rule *rules, size_t n,
			   const struct bpfprog_self *self, size_t nself, uint32_t snaplen,
			   enum capture_refusal *refused, char *err, size_t errlen);
/* Detaches everything, removes the record, frees. */
void capture_ebpf_close(struct capture_ebpf *e);
/* The ring buffer's fd to poll for POLLIN. */
int capture_ebpf_fd(const struct capture_ebpf *e);
/* Consumes at most max samples in ring order, handing those that pass
 * their interface's filter and the exclusion to fn; returns how many
 * samples it consumed. */
unsigned capture_ebpf_drain(struct capture_ebpf *e, unsigned max, capture_fn fn, void *ctx);
/* Samples the ring had no room for since the last call. */
uint32_t capture_ebpf_take_drops(struct capture_ebpf *e);
/* Samples the ring holds; its bytes. */
unsigned capture_ebpf_ring_frames(const struct capture_ebpf *e);
size_t capture_ebpf_ring_bytes(const struct capture_ebpf *e);
/* Interfaces with the programs attached now. */
size_t capture_ebpf_attached(const struct capture_ebpf *e);

#endif
