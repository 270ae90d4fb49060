/* Classic BPF as Linux takes and runs it; see bpf_kernel.h. Written from
 * the kernel's rules (net/core/filter.c), not from its code. */
#include "bpf_kernel.h"

#include <stdio.h>
#include <stdlib.h>

/* The opcodes SO_ATTACH_FILTER accepts (the kernel's chk_code_allowed). */
static int code_allowed(uint16_t c)
{
	switch (c) {
	case BPF_ALU | BPF_ADD | BPF_K: case BPF_ALU | BPF_ADD | BPF_X:
	case BPF_ALU | BPF_SUB | BPF_K: case BPF_ALU | BPF_SUB | BPF_X:
	case BPF_ALU | BPF_MUL | BPF_K: case BPF_ALU | BPF_MUL | BPF_X:
	case BPF_ALU | BPF_DIV | BPF_K: case BPF_ALU | BPF_DIV | BPF_X:
	case BPF_ALU | BPF_MOD | BPF_K: case BPF_ALU | BPF_MOD | BPF_X:
	case BPF_ALU | BPF_AND | BPF_K: case BPF_ALU | BPF_AND | BPF_X:
	case BPF_ALU | BPF_OR | BPF_K: case BPF_ALU | BPF_OR | BPF_X:
	case BPF_ALU | BPF_XOR | BPF_K: case BPF_ALU | BPF_XOR | BPF_X:
	case BPF_ALU | BPF_LSH | BPF_K: case BPF_ALU | BPF_LSH | BPF_X:
	case BPF_ALU | BPF_RSH | BPF_K: case BPF_ALU | BPF_RSH | BPF_X:
	case BPF_ALU | BPF_NEG:
	case BPF_LD | BPF_W | BPF_ABS: case BPF_LD | BPF_H | BPF_ABS: case BPF_LD | BPF_B | BPF_ABS:
	case BPF_LD | BPF_W | BPF_LEN:
	case BPF_LD | BPF_W | BPF_IND: case BPF_LD | BPF_H | BPF_IND: case BPF_LD | BPF_B | BPF_IND:
	case BPF_LD | BPF_IMM: case BPF_LD | BPF_MEM:
	case BPF_LDX | BPF_W | BPF_LEN: case BPF_LDX | BPF_B | BPF_MSH:
	case BPF_LDX | BPF_IMM: case BPF_LDX | BPF_MEM:
	case BPF_ST: case BPF_STX:
	case BPF_MISC | BPF_TAX: case BPF_MISC | BPF_TXA:
	case BPF_RET | BPF_K: case BPF_RET | BPF_A:
	case BPF_JMP | BPF_JA:
	case BPF_JMP | BPF_JEQ | BPF_K: case BPF_JMP | BPF_JEQ | BPF_X:
	case BPF_JMP | BPF_JGE | BPF_K: case BPF_JMP | BPF_JGE | BPF_X:
	case BPF_JMP | BPF_JGT | BPF_K: case BPF_JMP | BPF_JGT | BPF_X:
	case BPF_JMP | BPF_JSET | BPF_K: case BPF_JMP | BPF_JSET | BPF_X:
		return 1;
	}
	return 0;
}

static int is_cond_jump(uint16_t c)
{
	return BPF_CLASS(c) == BPF_JMP && BPF_OP(c) != BPF_JA;
}

/* SKF_AD_OFF + a multiple of 4 below SKF_AD_MAX: the ancillary loads the
 * kernel knows (protocol, pkttype, ifindex, ... random, vlan_tpid). */
static int known_ancillary(uint32_t k)
{
	uint32_t off = k - (uint32_t)SKF_AD_OFF;

	return off < SKF_AD_MAX && off % 4 == 0;
}

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

/* Scratch memory read only where every path stored it first. */
static int check_memory(const struct sock_filter *p, size_t n, char *err, size_t errlen)
{
	uint16_t *masks = malloc(n * sizeof *masks), valid = 0;

	if (!masks)
		FAIL("out of memory");
	for (size_t pc = 0; pc < n; pc++)
		masks[pc] = 0xffff;
	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *f = &p[pc];

		valid &= masks[pc];
		if (f->code == BPF_ST || f->code == BPF_STX) {
			valid |= (uint16_t)(1u << f->k);
		} else if (f->code == (BPF_LD | BPF_MEM) || f->code == (BPF_LDX | BPF_MEM)) {
			if (!(valid & (1u << f->k))) {
				free(masks);
				FAIL("instruction %zu: reads M[%u] before a store on some path", pc, f->k);
			}
		} else if (f->code == (BPF_JMP | BPF_JA)) {
			masks[pc + 1 + f->k] &= valid;
			valid = 0xffff;
		} else if (is_cond_jump(f->code)) {
			masks[pc + 1 + f->jt] &= valid;
			masks[pc + 1 + f->jf] &= valid;
			valid = 0xffff;
		}
	}
	free(masks);
	return 0;
}

int kbpf_check(const struct sock_filter *p, size_t n, char *err, size_t errlen)
{
	if (!p || n == 0 || n > BPF_MAXINSNS)
		FAIL("%zu instructions: the kernel takes 1 to %d", p ? n : 0, BPF_MAXINSNS);
	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *f = &p[pc];

		if (!code_allowed(f->code))
			FAIL("instruction %zu: opcode 0x%x not allowed", pc, f->code);
		switch (f->code) {
		case BPF_ALU | BPF_DIV | BPF_K:
		case BPF_ALU | BPF_MOD | BPF_K:
			if (f->k == 0)
				FAIL("instruction %zu: division by the constant 0", pc);
			break;
		case BPF_ALU | BPF_LSH | BPF_K:
		case BPF_ALU | BPF_RSH | BPF_K:
			if (f->k >= 32)
				FAIL("instruction %zu: shift by %u", pc, f->k);
			break;
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
		case BPF_ST:
		case BPF_STX:
			if (f->k >= BPF_MEMWORDS)
				FAIL("instruction %zu: M[%u] beyond scratch memory", pc, f->k);
			break;
		case BPF_JMP | BPF_JA:
			if (f->k >= n - pc - 1)
				FAIL("instruction %zu: ja +%u leaves the program", pc, f->k);
			break;
		case BPF_LD | BPF_W | BPF_ABS:
		case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_B | BPF_ABS:
			if (f->k >= (uint32_t)SKF_AD_OFF && !known_ancillary(f->k))
				FAIL("instruction %zu: unknown ancillary load %u", pc,
				     f->k - (uint32_t)SKF_AD_OFF);
			break;
		default:
			if (is_cond_jump(f->code) && (pc + f->jt + 1 >= n || pc + f->jf + 1 >= n))
				FAIL("instruction %zu: jump +%u/+%u leaves the program", pc, f->jt, f->jf);
		}
	}
	if (p[n - 1].code != (BPF_RET | BPF_K) && p[n - 1].code != (BPF_RET | BPF_A))
		FAIL("the last instruction (%zu) is not a return", n - 1);
	return check_memory(p, n, err, errlen);
}

/* ---- the interpreter ---- */

enum step { GO_ON, FAULT, UNSUPPORTED };

/* A load of size bytes at off (an int in the kernel: negative offsets are
 * its link- and network-header areas, which nothing here uses). */
static enum step load(const struct kbpf_pkt *k, uint32_t off, unsigned size, uint32_t *v)
{
	if ((int32_t)off < 0)
		return (int32_t)off >= SKF_LL_OFF ? UNSUPPORTED : FAULT;
	if ((uint64_t)off + size > k->len)
		return FAULT;
	*v = 0;
	for (unsigned i = 0; i < size; i++)
		*v = *v << 8 | k->data[off + i];
	return GO_ON;
}

static enum step ancillary(const struct kbpf_pkt *k, uint32_t off, uint32_t *v)
{
	switch (off - (uint32_t)SKF_AD_OFF) {
	case SKF_AD_IFINDEX: *v = k->ifindex; return GO_ON;
	case SKF_AD_RANDOM: *v = k->random; return GO_ON;
	case SKF_AD_PROTOCOL: *v = k->protocol; return GO_ON;
	case SKF_AD_PKTTYPE: *v = k->pkttype; return GO_ON;
	case SKF_AD_HATYPE: *v = k->hatype; return GO_ON;
	}
	return UNSUPPORTED;
}

static enum step alu(uint16_t op, uint32_t *a, uint32_t b)
{
	switch (op) {
	case BPF_ADD: *a += b; break;
	case BPF_SUB: *a -= b; break;
	case BPF_MUL: *a *= b; break;
	case BPF_DIV: if (!b) return FAULT; *a /= b; break;
	case BPF_MOD: if (!b) return FAULT; *a %= b; break;
	case BPF_OR: *a |= b; break;
	case BPF_AND: *a &= b; break;
	case BPF_XOR: *a ^= b; break;
	/* A shift by X of 32 or more has no defined result in the kernel. */
	case BPF_LSH: if (b >= 32) return UNSUPPORTED; *a <<= b; break;
	case BPF_RSH: if (b >= 32) return UNSUPPORTED; *a >>= b; break;
	case BPF_NEG: *a = -*a; break;
	default: return UNSUPPORTED;
	}
	return GO_ON;
}

static const unsigned size_of[] = { [BPF_W] = 4, [BPF_H] = 2, [BPF_B] = 1 };

uint32_t kbpf_run(const struct sock_filter *p, size_t n, const struct kbpf_pkt *pkt,
		  struct kbpf_trace *trace)
{
	struct kbpf_trace local;
	struct kbpf_trace *t = trace ? trace : &local;
	uint32_t A = 0, X = 0, M[BPF_MEMWORDS] = { 0 }, v = 0;
	size_t pc = 0;

	*t = (struct kbpf_trace){ 0 };
	while (pc < n) {
		struct sock_filter in = p[pc];
		uint16_t c = in.code;
		enum step st = GO_ON;

		t->steps++;
		switch (BPF_CLASS(c)) {
		case BPF_LD:
			switch (BPF_MODE(c)) {
			case BPF_ABS:
				st = in.k >= (uint32_t)SKF_AD_OFF ? ancillary(pkt, in.k, &v)
								  : load(pkt, in.k, size_of[BPF_SIZE(c)], &v);
				A = v;
				break;
			case BPF_IND:
				st = load(pkt, X + in.k, size_of[BPF_SIZE(c)], &v);
				A = v;
				break;
			case BPF_LEN: A = pkt->len; break;
			case BPF_IMM: A = in.k; break;
			case BPF_MEM:
				if (in.k >= BPF_MEMWORDS)
					st = UNSUPPORTED;
				else
					A = M[in.k];
				break;
			default: st = UNSUPPORTED;
			}
			break;
		case BPF_LDX:
			switch (BPF_MODE(c)) {
			case BPF_IMM: X = in.k; break;
			case BPF_LEN: X = pkt->len; break;
			case BPF_MEM:
				if (in.k >= BPF_MEMWORDS)
					st = UNSUPPORTED;
				else
					X = M[in.k];
				break;
			case BPF_MSH:
				st = load(pkt, in.k, 1, &v);
				X = (v & 0xf) << 2;
				break;
			default: st = UNSUPPORTED;
			}
			break;
		case BPF_ST:
		case BPF_STX:
			if (in.k >= BPF_MEMWORDS)
				st = UNSUPPORTED;
			else
				M[in.k] = BPF_CLASS(c) == BPF_ST ? A : X;
			break;
		case BPF_ALU:
			st = alu(BPF_OP(c), &A, BPF_SRC(c) == BPF_X ? X : in.k);
			break;
		case BPF_JMP: {
			uint32_t b = BPF_SRC(c) == BPF_X ? X : in.k;
			int taken;

			switch (BPF_OP(c)) {
			case BPF_JA: pc += in.k; goto next;
			case BPF_JEQ: taken = A == b; break;
			case BPF_JGT: taken = A > b; break;
			case BPF_JGE: taken = A >= b; break;
			case BPF_JSET: taken = (A & b) != 0; break;
			default: st = UNSUPPORTED; taken = 0;
			}
			pc += taken ? in.jt : in.jf;
			break;
		}
		case BPF_RET:
			return BPF_RVAL(c) == BPF_A ? A : in.k;
		case BPF_MISC:
			if (BPF_MISCOP(c) == BPF_TAX)
				X = A;
			else
				A = X;
			break;
		}
		if (st == FAULT) {
			t->fault = 1;
			t->fault_pc = pc;
			return 0;
		}
		if (st == UNSUPPORTED) {
			t->unsupported = 1;
			t->unsupported_pc = pc;
			return 0;
		}
next:
		pc++;
	}
	/* Off the end: kbpf_check rejects such a program. */
	t->unsupported = 1;
	t->unsupported_pc = pc;
	return 0;
}
