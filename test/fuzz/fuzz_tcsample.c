/* libFuzzer target: what the tc eBPF capture does with a ring record in
 * user space (sflow/core/tcsample.c), and the classic BPF interpreter it
 * runs filters with (sflow/core/cbpf.c) on any program at all. The input:
 * one byte of choices, then a record (short inputs are short records),
 * whose bytes are also read as a program run on the record's data. */
#include <linux/if_arp.h>

#include "fuzz_check.h"
#include "sflow/core/cbpf.h"
#include "sflow/core/pfilter.h"
#include "sflow/core/tcsample.h"

/* Filters of the kinds operators write and the daemon builds, compiled once
 * for Ethernet and for bare IP (where `vlan` does not compile: left out). */
static const char *const exprs[] = {
	"udp port 9", "not (udp dst port 6343 and src host 127.0.0.1)", "inbound",
	"vlan 5 and tcp", "ip6 and tcp port 22", "tcp[tcpflags] & tcp-syn != 0", "greater 100",
};
#define NEXPR (sizeof exprs / sizeof *exprs)

static struct sock_filter *progs[NEXPR][2];
static size_t lens[NEXPR][2];

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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hf_ebpf_sample rec;
	struct tcsample_rule r = { 0 };
	struct tcsample_frame f;
	uint8_t buf[TCSAMPLE_BUF], choice;
	size_t reclen;
	uint32_t snaplen;
	struct cbpf_aux aux = { .ifindex = 3 };

	init();
	if (size < 1)
		return 0;
	choice = data[0];
	reclen = size - 1 < sizeof rec ? size - 1 : sizeof rec;
	memset(&rec, 0, sizeof rec);
	memcpy(&rec, data + 1, reclen);
	r.kindex = (int)rec.kindex;
	r.arphrd = choice & 1 ? ARPHRD_ETHER : ARPHRD_NONE;
	if (choice & 2) {
		size_t e = (choice >> 2) % NEXPR;

		r.filter = progs[e][!(choice & 1)];
		r.filter_len = lens[e][!(choice & 1)];
	}
	if (choice & 0x80) {
		r.exclude = progs[1][!(choice & 1)];
		r.exclude_len = lens[1][!(choice & 1)];
	}
	snaplen = 1 + (choice * 37u) % HF_EBPF_SNAP;
	FUZZ_CHECK(tcsample_kindex(&rec, reclen) == (reclen >= 24 ? (int)rec.kindex : 0),
		   "kindex of a %zu-byte record", reclen);
	if (tcsample_frame(&rec, reclen, &r, snaplen, buf, &f) == TCSAMPLE_TAKE) {
		unsigned sum = 0;

		FUZZ_CHECK(reclen == sizeof rec, "took a %zu-byte record", reclen);
		FUZZ_CHECK(f.caplen >= 1 && f.caplen <= snaplen && f.caplen <= f.len,
			   "caplen %u, snaplen %u, len %u", f.caplen, snaplen, f.len);
		FUZZ_CHECK(f.len == rec.len || f.len == rec.len + 4, "len %u of %u", f.len, rec.len);
		FUZZ_CHECK(f.outgoing == !!(rec.flags & HF_EBPF_EGRESS), "direction");
		/* Every byte of the frame is readable (ASan sees an overrun). */
		for (uint32_t i = 0; i < f.caplen; i++)
			sum += f.data[i];
		(void)sum;
	}
	/* The same bytes as a program: whatever it is, the run ends. */
	cbpf_run((const struct sock_filter *)rec.data, sizeof rec.data / sizeof(struct sock_filter),
		 rec.data, rec.caplen % (HF_EBPF_SNAP + 1), rec.len, &aux);
	return 0;
}
