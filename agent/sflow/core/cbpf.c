#include "sflow/core/cbpf.h"

/* Scratch memory words of classic BPF (BPF_MEMWORDS). */
#define CBPF_MEMWORDS 16

/* Bytes at pkt[off..off+size) as a big-endian number, or -1 past caplen. */
static int load(const uint8_t *pkt, uint32_t caplen, uint64_t off, unsigned size,
		uint32_t *out)
{
	uint32_t v = 0;

	if (off + size > caplen)
		return -1;
	for (unsigned i = 0; i < size; i++)
		v = v << 8 | pkt[off + i];
	*out = v;
	return 0;
}

static int ancillary(uint32_t k, const struct cbpf_aux *aux, uint32_t *out)
{
	switch ((int32_t)(k - (uint32_t)SKF_AD_OFF)) {
	case SKF_AD_PROTOCOL:
		*out = aux->protocol;
		return 0;
	case SKF_AD_PKTTYPE:
		*out = aux->pkttype;
		return 0;
	case SKF_AD_IFINDEX:
		*out = aux->ifindex;
		return 0;
	case SKF_AD_HATYPE:
		*out = aux->hatype;
		return 0;
	case SKF_AD_VLAN_TAG:
		*out = aux->vlan_tci;
		return 0;
	case SKF_AD_VLAN_TAG_PRESENT:
		*out = aux->vlan_present != 0;
		return 0;
	case SKF_AD_VLAN_TPID:
		*out = aux->vlan_tpid;
		return 0;
	default:
		return -1;   /* marks, hashes, queues: not recorded */
	}
}

static uint32_t alu(uint16_t op, uint32_t a, uint32_t v, int *bad)
{
	switch (op) {
	case BPF_ADD: return a + v;
	case BPF_SUB: return a - v;
	case BPF_MUL: return a * v;
	case BPF_DIV:
		if (!v)
			*bad = 1;
		return v ? a / v : 0;
	case BPF_MOD:
		if (!v)
			*bad = 1;
		return v ? a % v : 0;
	case BPF_AND: return a & v;
	case BPF_OR: return a | v;
	case BPF_XOR: return a ^ v;
	/* The kernel masks a shift count to the register's 5 bits. */
	case BPF_LSH: return a << (v & 31);
	case BPF_RSH: return a >> (v & 31);
	case BPF_NEG: return -a;
	default:
		*bad = 1;
		return 0;
	}
}

uint32_t cbpf_run(const struct sock_filter *prog, size_t len, const uint8_t *pkt,
		  uint32_t caplen, uint32_t wirelen, const struct cbpf_aux *aux)
{
	uint32_t a = 0, x = 0, mem[CBPF_MEMWORDS] = { 0 };
	size_t pc = 0;

	while (pc < len) {
		const struct sock_filter in = prog[pc++];
		uint16_t c = in.code;
		uint32_t v = 0;
		int bad = 0;

		switch (BPF_CLASS(c)) {
		case BPF_LD:
		case BPF_LDX: {
			unsigned size = BPF_SIZE(c) == BPF_W ? 4 : BPF_SIZE(c) == BPF_H ? 2 : 1;
			uint64_t off = in.k;

			switch (BPF_MODE(c)) {
			case BPF_IMM:
				v = in.k;
				break;
			case BPF_MEM:
				if (in.k >= CBPF_MEMWORDS)
					return 0;
				v = mem[in.k];
				break;
			case BPF_LEN:
				v = wirelen;
				break;
			case BPF_IND:
				off = (uint64_t)x + in.k;
				/* fall through */
			case BPF_ABS:
				if (BPF_CLASS(c) != BPF_LD)
					return 0;
				if (BPF_MODE(c) == BPF_ABS && in.k >= (uint32_t)SKF_AD_OFF) {
					if (ancillary(in.k, aux, &v) < 0)
						return 0;
					break;
				}
				/* SKF_NET_OFF and SKF_LL_OFF are far past any capture. */
				if (load(pkt, caplen, off, size, &v) < 0)
					return 0;
				break;
			case BPF_MSH:
				if (BPF_CLASS(c) != BPF_LDX || load(pkt, caplen, off, 1, &v) < 0)
					return 0;
				v = (v & 0xf) << 2;
				break;
			default:
				return 0;
			}
			if (BPF_CLASS(c) == BPF_LD)
				a = v;
			else
				x = v;
			break;
		}
		case BPF_ST:
		case BPF_STX:
			if (in.k >= CBPF_MEMWORDS)
				return 0;
			mem[in.k] = BPF_CLASS(c) == BPF_ST ? a : x;
			break;
		case BPF_ALU:
			a = alu(BPF_OP(c), a, BPF_SRC(c) == BPF_X ? x : in.k, &bad);
			if (bad)
				return 0;
			break;
		case BPF_JMP: {
			uint32_t cmp = BPF_SRC(c) == BPF_X ? x : in.k;
			size_t step;
			int t;

			switch (BPF_OP(c)) {
			case BPF_JA:
				step = in.k;
				goto jump;
			case BPF_JEQ: t = a == cmp; break;
			case BPF_JGT: t = a > cmp; break;
			case BPF_JGE: t = a >= cmp; break;
			case BPF_JSET: t = (a & cmp) != 0; break;
			default: return 0;
			}
			step = t ? in.jt : in.jf;
jump:
			if (step >= len - pc)
				return 0;
			pc += step;
			break;
		}
		case BPF_RET:
			return BPF_RVAL(c) == BPF_A ? a : BPF_RVAL(c) == BPF_K ? in.k : 0;
		case BPF_MISC:
			if (BPF_MISCOP(c) == BPF_TAX)
				x = a;
			else if (BPF_MISCOP(c) == BPF_TXA)
				a = x;
			else
				return 0;
			break;
		default:
			return 0;
		}
	}
	return 0;   /* ran off the end: the kernel never loads such a program */
}
