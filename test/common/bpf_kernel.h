/* Classic BPF as Linux takes it on a packet socket, for the tests and the
 * fuzzers (never the daemon): the checks SO_ATTACH_FILTER makes before it
 * accepts a program (net/core/filter.c: bpf_check_classic and
 * check_load_and_stores), and an interpreter with the kernel's run-time
 * rules (a packet load past the end, or a division by a zero X, ends the
 * program with 0: the packet is dropped). */
#ifndef HF_BPF_KERNEL_H
#define HF_BPF_KERNEL_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

/* 0 when the kernel would attach the program, else -1 and why (with the
 * instruction's index) in err: no program or more than BPF_MAXINSNS
 * instructions, an opcode it does not know, a jump out of the program (all
 * jumps go forward), scratch memory beyond M[15] or read before every path
 * to it stored there, a division or modulo by the constant 0, a shift by
 * 32 or more, an unknown ancillary load, a last instruction that is not a
 * return. */
int kbpf_check(const struct sock_filter *p, size_t n, char *err, size_t errlen);

/* One packet as the program sees it: data from the link header on (the
 * Ethernet header, or the IP header on tun) and the ancillary values. */
struct kbpf_pkt {
	const uint8_t *data;
	uint32_t len;
	uint32_t ifindex;         /* SKF_AD_IFINDEX */
	uint32_t random;          /* SKF_AD_RANDOM */
	uint32_t protocol;        /* SKF_AD_PROTOCOL (ethertype, host order) */
	uint32_t pkttype;         /* SKF_AD_PKTTYPE */
	uint32_t hatype;          /* SKF_AD_HATYPE */
};

/* What one run did, beside its return value. */
struct kbpf_trace {
	size_t steps;             /* instructions executed */
	int fault;                /* ended by a load past the packet or X = 0 */
	size_t fault_pc;          /* where */
	int unsupported;          /* an instruction or ancillary load this
				   * interpreter does not model (the result is
				   * then meaningless): a test must fail */
	size_t unsupported_pc;
};

/* Runs a program that passed kbpf_check on pkt; returns what the kernel
 * would: the bytes to keep, 0 to drop. trace may be NULL. */
uint32_t kbpf_run(const struct sock_filter *p, size_t n, const struct kbpf_pkt *pkt,
		  struct kbpf_trace *trace);

#endif
