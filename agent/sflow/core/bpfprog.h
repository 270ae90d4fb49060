/* The one classic BPF program of the shared packet socket, built from the
 * sampling rules: pure (no I/O), so it is tested by interpretation.
 *
 *   ld ifindex (SKF_AD_IFINDEX)
 *   binary search over the sorted kindexes, down to buckets of a few `jeq`s;
 *   an unlisted interface drops at once
 *   per distinct (rate, filter, exclude) group, shared by its interfaces:
 *     ld rand; mod #rate; jeq #0, else drop  (none for rate 1): first, so the
 *       filters below run on 1 packet in rate (the draw is independent of
 *       the packet: a matching one is still kept with probability 1/rate)
 *     the rule's pcap filter inlined (its `ret`s turned into jumps):
 *       no match -> drop
 *     the exclude program inlined: match -> drop
 *     ret #snaplen
 *   drop: ret #0
 *
 * Conditional jumps carry 8-bit offsets, so every far target is reached
 * through a 32-bit `ja`. */
#ifndef HF_BPFPROG_H
#define HF_BPFPROG_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

struct bpfprog_rule {
	int kindex;                          /* > 0, unique among the rules */
	uint32_t rate;                       /* 1 in rate, >= 1 */
	const struct sock_filter *filter;    /* pcap program for the link type; NULL = all */
	size_t filter_len;
	const struct sock_filter *exclude;   /* never sampled when it matches; NULL = none */
	size_t exclude_len;
};

/* Builds the program into a malloc'd array (*out, *out_len; caller frees).
 * Rules with equal rate and equal filter and exclude programs share one
 * block. Returns -1 with a message in err for a bad rule, a duplicate
 * kindex, a filter with an unsupported instruction, or a program longer
 * than BPF_MAXINSNS. n = 0 gives `ret #0`. */
int bpfprog_build(const struct bpfprog_rule *rules, size_t n, uint32_t snaplen,
		  struct sock_filter **out, size_t *out_len, char *err, size_t errlen);

#endif
