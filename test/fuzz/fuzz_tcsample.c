/* libFuzzer target: what the tc eBPF capture does with a ring record in
 * user space (sflow/core/tcsample.c): the record judged by the program
 * bpfprog builds for the packet socket at rate 1 (with a filter or not,
 * with our own flows or not) and made into a frame; and the classic BPF
 * interpreter that runs it (sflow/core/cbpf.c) on any program at all. The
 * input: one byte of choices, then a record (short inputs are short
 * records), whose bytes are also read as a program run on the record's
 * data. Where the whole packet was captured, the verdict is the packet
 * socket's as the kernel runs it (test/common/bpf_kernel.c): a sample
 * where it keeps one, rejected where it marks or drops. */
#include <arpa/inet.h>
#include <linux/if_arp.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include "fuzz_check.h"
#include "bpf_kernel.h"
#include "sflow/core/bpfprog.h"
#include "sflow/core/cbpf.h"
#include "sflow/core/pfilter.h"
#include "sflow/core/tcsample.h"

/* Filters of the kinds operators write, compiled once for Ethernet and for
 * bare IP (where `vlan` and `inbound` do not compile: left out). */
static const char *const exprs[] = {
	"udp port 9", "not (udp dst port 6343 and src host 127.0.0.1)", "inbound",
	"vlan 5 and tcp", "ip6 and tcp port 22", "tcp[tcpflags] & tcp-syn != 0", "greater 100",
};
#define NEXPR (sizeof exprs / sizeof *exprs)
#define SNAP_MAX HF_EBPF_SNAP

static struct sock_filter *progs[NEXPR][2];
static size_t lens[NEXPR][2];
/* Our flows as a daemon with collectors on lo has them. */
static struct bpfprog_self self[2];

static void init(void)
{
	static int done;
	char err[256];

	if (done)
		return;
	done = 1;
	for (size_t i = 0; i < NEXPR; i++)
		for (int d = 0; d < 2; d++)
			if (pfilter_compile(exprs[i], d ? PFILTER_DLT_RAW : PFILTER_DLT_EN10MB,
					    &progs[i][d], &lens[i][d], err, sizeof err) < 0 && !d)
				abort();
	self[0] = (struct bpfprog_self){ .family = AF_INET, .sport = 40000, .dport = 6343,
					 .addr = { 127, 0, 0, 1 } };
	self[1] = (struct bpfprog_self){ .family = AF_INET6, .sport = 40001, .dport = 6343,
					 .addr = { [15] = 1 } };
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hf_ebpf_sample rec;
	struct bpfprog_rule r = { .rate = 1 };
	struct tcsample_frame f;
	struct tcsample_judge j;
	struct sock_filter *p = NULL;
	uint8_t buf[TCSAMPLE_BUF], choice;
	size_t reclen, n = 0;
	uint32_t snaplen;
	unsigned arphrd;
	enum tcsample_verdict v;
	char err[256];
	struct cbpf_aux aux = { .ifindex = 3 };

	init();
	if (size < 1)
		return 0;
	choice = data[0];
	reclen = size - 1 < sizeof rec ? size - 1 : sizeof rec;
	memset(&rec, 0, sizeof rec);
	memcpy(&rec, data + 1, reclen);
	r.kindex = rec.kindex > 0 && rec.kindex <= INT32_MAX ? (int)rec.kindex : 1;
	r.link = choice & 1 ? BPFPROG_LINK_ETHER : BPFPROG_LINK_IP;
	arphrd = choice & 1 ? ARPHRD_ETHER : ARPHRD_NONE;
	if (choice & 2) {
		size_t e = (choice >> 2) % NEXPR;

		r.filter = progs[e][!(choice & 1)];
		r.filter_len = lens[e][!(choice & 1)];
	}
	snaplen = 1 + (choice * 37u) % SNAP_MAX;
	FUZZ_CHECK(bpfprog_build_max(&r, 1, self, choice & 0x80 ? 2 : 0,
				     snaplen < BPFPROG_MIN_SNAP ? BPFPROG_MIN_SNAP : snaplen,
				     BPFPROG_USER_MAXINSNS, &p, &n, err, sizeof err) == BPFPROG_BUILT,
		   "judge not built: %s", err);
	FUZZ_CHECK(kbpf_check(p, n, err, sizeof err) == 0, "a judge the kernel refuses: %s", err);
	j = (struct tcsample_judge){ p, n };
	FUZZ_CHECK(tcsample_kindex(&rec, reclen) == (reclen >= 24 ? (int)rec.kindex : 0),
		   "kindex of a %zu-byte record", reclen);
	v = tcsample_frame(&rec, reclen, arphrd, &j, snaplen, buf, &f);
	if (v != TCSAMPLE_BAD) {
		FUZZ_CHECK(reclen == sizeof rec, "judged a %zu-byte record", reclen);
		FUZZ_CHECK(f.kindex == (int)rec.kindex, "kindex %d of %u", f.kindex, rec.kindex);
		FUZZ_CHECK(f.outgoing == !!(rec.flags & HF_EBPF_EGRESS), "direction");
	}
	if (v == TCSAMPLE_TAKE) {
		unsigned sum = 0;

		FUZZ_CHECK(f.caplen >= 1 && f.caplen <= snaplen && f.caplen <= f.len,
			   "caplen %u, snaplen %u, len %u", f.caplen, snaplen, f.len);
		FUZZ_CHECK(f.len == rec.len || f.len == rec.len + 4, "len %u of %u", f.len, rec.len);
		/* Every byte of the frame is readable (ASan sees an overrun). */
		for (uint32_t i = 0; i < f.caplen; i++)
			sum += f.data[i];
		(void)sum;
	}
	/* The whole packet in the record: the packet socket's verdict. */
	if (v != TCSAMPLE_BAD && rec.caplen >= 1 && rec.caplen == rec.len) {
		struct kbpf_pkt kp = { .data = rec.data, .len = rec.caplen, .ifindex = rec.kindex,
				       .protocol = ntohs(rec.protocol),
				       .pkttype = rec.flags & HF_EBPF_EGRESS ? PACKET_OUTGOING
									     : rec.pkt_type,
				       .hatype = arphrd };
		struct kbpf_trace t;
		uint32_t kv = kbpf_run(p, n, &kp, &t);

		if (!t.unsupported)
			FUZZ_CHECK((kv >= BPFPROG_MIN_SNAP) == (v == TCSAMPLE_TAKE),
				   "kernel %u, tc verdict %d", kv, v);
	}
	free(p);
	/* The same bytes as a program: whatever it is, the run ends. */
	cbpf_run((const struct sock_filter *)rec.data, sizeof rec.data / sizeof(struct sock_filter),
		 rec.data, rec.caplen % (HF_EBPF_SNAP + 1), rec.len, &aux);
	return 0;
}
