/* Fills one tcx hook of an interface, so that the kernel refuses the next
 * attach there (a hook holds at most 63 programs: bpf_mprog_max(), ERANGE):
 * the integration tests' way to have the kernel really refuse hostflowd's
 * tc eBPF capture on one interface. Loads COUNT programs that return
 * TC_ACT_UNSPEC (the next program decides: the packets go on as without
 * them) and attaches each to IFNAME's ingress or egress hook.
 *
 *   tcxfill IFNAME ingress|egress COUNT MAX_SECONDS
 *
 * Prints "ready" once attached; detaches them on SIGTERM, SIGINT or after
 * MAX_SECONDS (deleting the interface detaches them too). Test-only: never
 * part of the daemon. */
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tcxhold.h"

#define TCXFILL_MAX     64

int main(int argc, char **argv)
{
	static const struct bpf_insn next[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = TC_ACT_UNSPEC },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int prog[TCXFILL_MAX], n, done = 0, idx, rc = 0;
	unsigned type;
	time_t end;

	if (argc != 5 || (strcmp(argv[2], "ingress") && strcmp(argv[2], "egress"))) {
		fprintf(stderr, "usage: tcxfill IFNAME ingress|egress COUNT MAX_SECONDS\n");
		return 2;
	}
	idx = (int)if_nametoindex(argv[1]);
	n = atoi(argv[3]);
	if (!idx || n < 1 || n > TCXFILL_MAX) {
		fprintf(stderr, "tcxfill: %s: no such interface, or COUNT not in 1..%d\n", argv[1],
			TCXFILL_MAX);
		return 2;
	}
	type = strcmp(argv[2], "ingress") ? TCXHOLD_EGRESS : TCXHOLD_INGRESS;
	end = time(NULL) + atoi(argv[4]);
	for (; done < n; done++) {
		prog[done] = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "tcxfill", "GPL", next,
					   sizeof next / sizeof *next, NULL);
		if (prog[done] < 0) {
			rc = prog[done];
			break;
		}
		rc = bpf_prog_attach(prog[done], idx, type, 0);
		if (rc) {
			close(prog[done]);
			break;
		}
	}
	if (rc) {
		fprintf(stderr, "tcxfill: program %d: %s\n", done + 1, strerror(rc < 0 ? -rc : errno));
	} else {
		tcxhold_until(end);
	}
	for (int i = 0; i < done; i++) {
		bpf_prog_detach2(prog[i], idx, type);
		close(prog[i]);
	}
	return rc ? 1 : 0;
}
