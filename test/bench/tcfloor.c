/* A reference for the big-host benchmark (part E): the floor of a tc eBPF
 * capture. Attaches one program on the ingress and the egress of each named
 * interface, in hostflowd's namespace, and nothing else: no map, no ring.
 *
 *   tcfloor bare|draw|lookup clsact|tcx MAX_SECONDS IFNAME...
 *
 * bare: `r0 = TC_ACT_OK; exit`, what the hook itself costs a packet.
 * draw: bpf_get_prandom_u32() % 100, compared with 0, then TC_ACT_OK: the
 *       1-in-N draw every packet pays in hostflowd's program.
 * lookup: the interface's entry in a hash map keyed by ifindex (as
 *       hostflowd's rate map), then the draw.
 * clsact: a clsact qdisc and a direct-action cls_bpf filter (libbpf's
 *       bpf_tc_*: what Debian 12's kernel 6.1 offers); tcx: the program
 *       attached with BPF_PROG_ATTACH to tcx (kernel 6.6+).
 * Prints "ready" once every attachment is made; removes them on SIGTERM,
 * SIGINT or after MAX_SECONDS. Test-only: never part of the daemon. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tools/tcxhold.h"

#define TCFLOOR_MAX_IF      8

/* A hash map of the interfaces' ifindexes, as hostflowd's rate map. */
static int rate_map(const int *idx, int n)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "tcfloor_rates", 4, 8, 65536, NULL);
	uint64_t rate = 100;

	for (int i = 0; fd >= 0 && i < n; i++)
		bpf_map_update_elem(fd, &idx[i], &rate, BPF_ANY);
	return fd;
}

static int load(const char *mode, int map)
{
	static const struct bpf_insn bare[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = TC_ACT_OK },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	static const struct bpf_insn draw[] = {
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_prandom_u32 },
		{ .code = BPF_ALU | BPF_MOD | BPF_K, .dst_reg = BPF_REG_0, .imm = 100 },
		{ .code = BPF_JMP | BPF_JNE | BPF_K, .dst_reg = BPF_REG_0, .off = 1, .imm = 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = TC_ACT_OK },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = TC_ACT_OK },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct bpf_insn lookup[] = {
		{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_1, .src_reg = BPF_REG_1,
		  .off = offsetof(struct __sk_buff, ifindex) },
		{ .code = BPF_STX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_10, .src_reg = BPF_REG_1,
		  .off = -4 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_2, .imm = -4 },
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = map },
		{ 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_map_lookup_elem },
		{ .code = BPF_JMP | BPF_JEQ | BPF_K, .dst_reg = BPF_REG_0, .off = 3, .imm = 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_prandom_u32 },
		{ .code = BPF_ALU | BPF_MOD | BPF_K, .dst_reg = BPF_REG_0, .imm = 100 },
		{ .code = BPF_JMP | BPF_JNE | BPF_K, .dst_reg = BPF_REG_0, .off = 0, .imm = 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = TC_ACT_OK },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int isdraw = !strcmp(mode, "draw");

	if (!strcmp(mode, "lookup"))
		return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "tcfloor_lookup", "GPL", lookup,
				     sizeof lookup / sizeof *lookup, NULL);
	return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, isdraw ? "tcfloor_draw" : "tcfloor_bare",
			     "GPL", isdraw ? draw : bare,
			     isdraw ? sizeof draw / sizeof *draw : sizeof bare / sizeof *bare, NULL);
}

int main(int argc, char **argv)
{
	struct bpf_tc_hook hooks[TCFLOOR_MAX_IF];
	int idx[TCFLOOR_MAX_IF], n = argc - 4, prog, map, tcx, rc = 0;
	time_t end;

	if (argc < 5 || n > TCFLOOR_MAX_IF) {
		fprintf(stderr, "usage: tcfloor bare|draw|lookup clsact|tcx MAX_SECONDS IFNAME...\n");
		return 2;
	}
	tcx = !strcmp(argv[2], "tcx");
	end = time(NULL) + atoi(argv[3]);
	for (int i = 0; i < n; i++) {
		idx[i] = (int)if_nametoindex(argv[4 + i]);
		if (!idx[i]) {
			fprintf(stderr, "tcfloor: %s: no such interface\n", argv[4 + i]);
			return 1;
		}
	}
	map = rate_map(idx, n);
	prog = map < 0 ? map : load(argv[1], map);
	if (prog < 0) {
		fprintf(stderr, "tcfloor: load: %s\n", strerror(-prog));
		return 1;
	}
	for (int i = 0; i < n && !rc; i++) {
		if (tcx) {
			rc = bpf_prog_attach(prog, idx[i], TCXHOLD_INGRESS, 0);
			if (!rc)
				rc = bpf_prog_attach(prog, idx[i], TCXHOLD_EGRESS, 0);
			continue;
		}
		memset(&hooks[i], 0, sizeof hooks[i]);
		hooks[i].sz = sizeof hooks[i];
		hooks[i].ifindex = idx[i];
		hooks[i].attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		rc = bpf_tc_hook_create(&hooks[i]);
		for (int d = 0; d < 2 && !rc; d++) {
			struct bpf_tc_hook h = hooks[i];
			struct bpf_tc_opts o = { .sz = sizeof o, .prog_fd = prog, .handle = 1,
						 .priority = 1 };

			h.attach_point = d ? BPF_TC_EGRESS : BPF_TC_INGRESS;
			rc = bpf_tc_attach(&h, &o);
		}
	}
	if (rc) {
		fprintf(stderr, "tcfloor: attach: %s\n", strerror(rc < 0 ? -rc : errno));
	} else {
		tcxhold_until(end);
	}
	for (int i = 0; i < n; i++) {
		if (tcx) {
			bpf_prog_detach2(prog, idx[i], TCXHOLD_INGRESS);
			bpf_prog_detach2(prog, idx[i], TCXHOLD_EGRESS);
		} else {
			hooks[i].attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hooks[i]);
		}
	}
	close(prog);
	close(map);
	return rc ? 1 : 0;
}
