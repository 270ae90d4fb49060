#include "capture.h"
#include "bpfprog.h"
#include "pfilter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

/* A 512-byte frame holds the tpacket2 header, the sockaddr_ll, the kernel's
 * alignment padding and HF_MAX_HEADER bytes of packet. */
#define RING_FRAME_SIZE 512u
#define PCAP_MSG_MAX    512   /* libpcap's messages are at most PCAP_ERRBUF_SIZE */
/* The shared ring of capture_open_all(): one for every sampled interface,
 * so sized for the host's sampled rate, not per interface (1 MiB). */
#define RING_ALL_FRAMES 2048u

struct capture {
	int fd;
	uint8_t *ring;
	size_t ring_len;
	unsigned frame_size, frames, head;
	struct pfilter_cache *filters;   /* capture_open_all() only */
};

static int setup_ring(struct capture *c, unsigned nframes)
{
	int ver = TPACKET_V2;
	long page = sysconf(_SC_PAGESIZE);
	struct tpacket_req req;

	if (page < (long)RING_FRAME_SIZE)
		page = 4096;
	if (setsockopt(c->fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof ver) < 0)
		return -1;
	req.tp_block_size = (unsigned)page;
	req.tp_frame_size = RING_FRAME_SIZE;
	req.tp_frame_nr = nframes;
	req.tp_block_nr = nframes / (req.tp_block_size / RING_FRAME_SIZE);
	if (setsockopt(c->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0)
		return -1;
	c->ring_len = (size_t)req.tp_block_size * req.tp_block_nr;
	c->ring = mmap(NULL, c->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (c->ring == MAP_FAILED) {
		c->ring = NULL;
		return -1;
	}
	c->frame_size = req.tp_frame_size;
	c->frames = req.tp_frame_nr;
	return 0;
}

static int bind_link(struct capture *c, int kindex)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = kindex,
	};

	return bind(c->fd, (struct sockaddr *)&sll, sizeof sll);
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	if (c->ring)
		munmap(c->ring, c->ring_len);
	if (c->fd >= 0)
		close(c->fd);
	pfilter_cache_free(c->filters);
	free(c);
}

static int attach(struct capture *c, const struct sock_filter *prog, size_t len)
{
	struct sock_fprog fp = { .len = (unsigned short)len,
				 .filter = (struct sock_filter *)prog };

	/* The kernel swaps the program atomically: no packet sees neither. */
	return setsockopt(c->fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp);
}

struct capture *capture_open_all(uint32_t snaplen, char *err, size_t errlen)
{
	static const struct sock_filter drop_all = BPF_STMT(BPF_RET | BPF_K, 0);
	struct capture *c = calloc(1, sizeof *c);
	const char *step;

	(void)snaplen;   /* every frame holds HF_MAX_HEADER; rules set the snap */
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->filters = pfilter_cache_new();
	step = "socket(AF_PACKET)";
	c->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0 || !c->filters)
		goto fail;
	step = "SO_ATTACH_FILTER";
	if (attach(c, &drop_all, 1) < 0)
		goto fail;
	step = "PACKET_RX_RING";
	if (setup_ring(c, RING_ALL_FRAMES) < 0)
		goto fail;
	/* ifindex 0: every interface of the namespace; the program picks. */
	step = "bind";
	if (bind_link(c, 0) < 0)
		goto fail;
	return c;
fail:
	snprintf(err, errlen, "%s: %s", step, c->filters ? strerror(errno) : "out of memory");
	capture_close(c);
	return NULL;
}

/* Fills the builder's rules from the capture rules: filters compiled (or
 * found in the cache) for each rule's link type. */
static int compile_rules(struct capture *c, const struct capture_rule *rules, size_t n,
			 const char *exclude, struct bpfprog_rule *out, char *err, size_t errlen)
{
	char msg[PCAP_MSG_MAX];

	for (size_t i = 0; i < n; i++) {
		const struct capture_rule *r = &rules[i];
		int dlt = pfilter_dlt_for_arphrd(r->arphrd);

		out[i] = (struct bpfprog_rule){ .kindex = r->kindex, .rate = r->rate };
		if (r->filter && r->filter[0]) {
			out[i].filter = pfilter_cache_get(c->filters, r->filter, dlt,
							  &out[i].filter_len, msg, sizeof msg);
			if (!out[i].filter) {
				snprintf(err, errlen, "kindex %d: filter \"%s\": %s", r->kindex,
					 r->filter, msg);
				return -1;
			}
		}
		if (exclude && exclude[0]) {
			out[i].exclude = pfilter_cache_get(c->filters, exclude, dlt,
							   &out[i].exclude_len, msg, sizeof msg);
			if (!out[i].exclude) {
				snprintf(err, errlen, "exclude \"%s\": %s", exclude, msg);
				return -1;
			}
		}
	}
	return 0;
}

int capture_set_rules(struct capture *c, const struct capture_rule *rules, size_t n,
		      const char *exclude, uint32_t snaplen, char *err, size_t errlen)
{
	struct bpfprog_rule *br = calloc(n ? n : 1, sizeof *br);
	struct sock_filter *prog = NULL;
	size_t len = 0;
	int rc = -1;

	if (!br) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (snaplen < 1 || snaplen > HF_MAX_HEADER) {
		snprintf(err, errlen, "snap length %u not in 1..%d", snaplen, HF_MAX_HEADER);
		goto out;
	}
	if (compile_rules(c, rules, n, exclude, br, err, errlen) ||
	    bpfprog_build(br, n, snaplen, &prog, &len, err, errlen))
		goto out;
	if (attach(c, prog, len) < 0) {
		snprintf(err, errlen, "SO_ATTACH_FILTER (%zu instructions): %s", len,
			 strerror(errno));
		goto out;
	}
	/* Only now: a failed call keeps what the program in force was built from. */
	pfilter_cache_prune(c->filters);
	rc = 0;
out:
	free(prog);
	free(br);
	return rc;
}

size_t capture_ring_bytes(const struct capture *c)
{
	return c->ring_len;
}

int capture_fd(const struct capture *c)
{
	return c->fd;
}

static void frame_view(struct tpacket2_hdr *h, struct capture_frame *f)
{
	const struct sockaddr_ll *sll = (const struct sockaddr_ll *)
		((uint8_t *)h + TPACKET_ALIGN(sizeof *h));

	f->kindex = sll->sll_ifindex;
	f->data = (const uint8_t *)h + h->tp_mac;
	f->caplen = h->tp_snaplen;
	f->len = h->tp_len;
	f->outgoing = sll->sll_pkttype == PACKET_OUTGOING;
}

unsigned capture_drain(struct capture *c, unsigned max, capture_fn fn, void *ctx)
{
	unsigned done = 0;

	while (done < max) {
		struct tpacket2_hdr *h = (struct tpacket2_hdr *)
			(c->ring + (size_t)c->head * c->frame_size);
		struct capture_frame f;

		/* Acquire: the frame's bytes are the kernel's until status says USER. */
		if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			break;
		frame_view(h, &f);
		if (h->tp_mac + (size_t)f.caplen <= c->frame_size)
			fn(ctx, &f);
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		c->head = (c->head + 1) % c->frames;
		done++;
	}
	return done;
}

int capture_clear_error(struct capture *c)
{
	int e = 0;
	socklen_t len = sizeof e;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		return errno;
	return e;
}

uint32_t capture_take_drops(struct capture *c)
{
	struct tpacket_stats st;
	socklen_t len = sizeof st;

	/* The kernel resets both counters on every read. */
	if (getsockopt(c->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
		return 0;
	return st.tp_drops;
}
