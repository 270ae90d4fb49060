/* The tc eBPF capture: the same sampling as the packet sockets
 * (capture.h), taken by programs on each sampled interface's tcx ingress
 * and egress hooks (Linux 6.6) instead of packet-socket taps. A packet
 * pays an array lookup and a random draw on sampled interfaces only, and
 * nothing is cloned; the drawn packets' first 256 bytes go into ONE ring
 * buffer the sampler polls. Rates are thresholds in maps keyed by ifindex
 * (sflow/bpf/sample_abi.h), so fds and memory do not grow per interface
 * (a fixed 256 KiB array, a hash entry for an ifindex past 65535). The
 * drawn packets are judged in user space by the very classic program the
 * packet socket runs after its draw (tcsample.h: the `sample` lines'
 * filters, our own datagrams and the ICMP errors about them): the draw
 * comes first in both, so the selection stays unbiased, and a drawn packet
 * that is not a sample is counted out of the pool alike.
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

/* Why it could not be had. */
enum capture_ebpf_lack {
	CAPTURE_EBPF_UNAVAILABLE,  /* this kernel lacks it (no tcx, the verifier
				      refused): `capture auto` takes packet sockets */
	CAPTURE_EBPF_NOT_PERMITTED,/* these rights lack it (CAP_BPF, CAP_NET_ADMIN):
				      the same */
	CAPTURE_EBPF_FAILED        /* something ran out (descriptors, memory): a start
				      that cannot have it stops */
};

/* Loads the programs and maps (CAP_BPF, CAP_NET_ADMIN), checks that the
 * kernel has tcx, detaches what a killed predecessor in this network
 * namespace left attached, and records ours. Nothing is attached until
 * capture_ebpf_set_rules(). Returns NULL with the reason in err and *lack. */
struct capture_ebpf *capture_ebpf_open(enum capture_ebpf_lack *lack, char *err, size_t errlen);
/* Whether capture_ebpf_open would load here (tcx, rights, the verifier),
 * touching nothing: loads the programs and frees them (`hostflowd -t`).
 * 0, or -1 with the reason. */
int capture_ebpf_probe(enum capture_ebpf_lack *lack, char *err, size_t errlen);
/* Puts in force the rules capture.c did not refuse (refused[i] ==
 * CAPTURE_SAMPLED): new interfaces get their rate in the map and the
 * programs attached, kept ones their new rate, gone ones are detached;
 * judge[0..judge_len) (bpfprog's program at rate 1, capture.c builds it;
 * ours from now on, also on failure) judges every drawn packet
 * (tcsample.h). Up to 8 new interfaces are attached in the call: one the
 * kernel refuses gets refused[i] = CAPTURE_NO_ATTACH and why says so;
 * more are attached in steps between drains, and those the kernel refuses
 * then are told by capture_ebpf_take_refused. An interface that vanished
 * meanwhile is skipped. -1 (why) when nothing changed. */
int capture_ebpf_set_rules(struct capture_ebpf *e, const struct capture_rule *rules, size_t n,
			   enum capture_refusal *refused, struct sock_filter *judge,
			   size_t judge_len, uint32_t snaplen, char *why, size_t whylen);
/* The kindexes (at most max) whose attach, made in steps after the call
 * of capture_ebpf_set_rules that brought them, the kernel refused since the
 * last call: not sampled (CAPTURE_NO_ATTACH), the log says why. */
size_t capture_ebpf_take_refused(struct capture_ebpf *e, int *kindex, size_t max);
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
