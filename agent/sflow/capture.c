#include "sflow/capture.h"
#include "sflow/capture_ebpf.h"
#include "base/log.h"
#include "sflow/core/bpfprog.h"
#include "sflow/core/pfilter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

/* A 512-byte frame holds the tpacket2 header, the sockaddr_ll, the kernel's
 * alignment padding and HF_MAX_HEADER bytes of packet. */
#define RING_FRAME_SIZE 512u
#define PCAP_MSG_MAX    512   /* libpcap's messages are at most PCAP_ERRBUF_SIZE */
/* A ring must hold the samples that arrive while the sampler is not
 * running: its pause between drains (capture_pause_ms keeps that to an
 * eighth of the ring) plus however long a busy machine keeps the thread off
 * a CPU. A bulk TCP transfer sampled 1 in 2 brings 15-40 thousand samples a
 * second, and a starved thread on a loaded 2-core machine waits 100 ms and
 * more: 512 frames lost a quarter of them. The unbound socket's ring serves
 * every sampled interface, so it is sized for the host's sampled rate
 * (2 MiB); a bound one for one interface's (1 MiB). */
#define RING_ALL_FRAMES 4096u
#define RING_BOUND_FRAMES 2048u
/* The pause aims to find the ring no fuller than this fraction: 1/8. */
#define RING_FILL_SHIFT 3

/* One packet socket and its ring; kindex 0: unbound (every interface). */
struct sock {
	int fd;
	int kindex;
	uint8_t *ring;
	size_t ring_len;
	unsigned frames, head;
};

struct capture {
	int epfd;                        /* what the sampler polls: every socket */
	struct sock s[CAPTURE_BOUND_MAX];
	size_t n;
	unsigned next;                   /* the socket drained first: fairness */
	struct pfilter_cache *filters;
	struct capture_ebpf *ebpf;       /* set: the tc eBPF capture serves every call */
};

static int setup_ring(struct sock *k, unsigned nframes)
{
	int ver = TPACKET_V2;
	long page = sysconf(_SC_PAGESIZE);
	struct tpacket_req req;

	if (page < (long)RING_FRAME_SIZE)
		page = 4096;
	if (setsockopt(k->fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof ver) < 0)
		return -1;
	req.tp_block_size = (unsigned)page;
	req.tp_frame_size = RING_FRAME_SIZE;
	req.tp_frame_nr = nframes;
	req.tp_block_nr = nframes / (req.tp_block_size / RING_FRAME_SIZE);
	if (setsockopt(k->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0)
		return -1;
	k->ring_len = (size_t)req.tp_block_size * req.tp_block_nr;
	k->ring = mmap(NULL, k->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, k->fd, 0);
	if (k->ring == MAP_FAILED) {
		k->ring = NULL;
		return -1;
	}
	k->frames = req.tp_frame_nr;
	return 0;
}

static void sock_close(struct sock *k)
{
	if (k->ring)
		munmap(k->ring, k->ring_len);
	if (k->fd >= 0)
		close(k->fd);
	memset(k, 0, sizeof *k);
	k->fd = -1;
}

static int attach(int fd, const struct sock_filter *prog, size_t len)
{
	struct sock_fprog fp = { .len = (unsigned short)len,
				 .filter = (struct sock_filter *)prog };

	/* The kernel swaps the program atomically: no packet sees neither. */
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp);
}

/* A socket with prog attached before anything is queued (protocol 0 until
 * bind), its ring, bound to kindex (0: every interface). */
static int sock_open(struct sock *k, int kindex, const struct sock_filter *prog,
		     size_t len, char *err, size_t errlen)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = kindex,
	};
	const char *step = "socket(AF_PACKET)";

	memset(k, 0, sizeof *k);
	k->kindex = kindex;
	k->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (k->fd < 0)
		goto fail;
	step = "SO_ATTACH_FILTER";
	if (attach(k->fd, prog, len) < 0)
		goto fail;
	step = "PACKET_RX_RING";
	if (setup_ring(k, kindex ? RING_BOUND_FRAMES : RING_ALL_FRAMES) < 0)
		goto fail;
	step = "bind";
	if (bind(k->fd, (struct sockaddr *)&sll, sizeof sll) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", step, strerror(errno));
	sock_close(k);
	return -1;
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	capture_ebpf_close(c->ebpf);
	for (size_t i = 0; i < c->n; i++)
		sock_close(&c->s[i]);
	if (c->epfd >= 0)
		close(c->epfd);
	pfilter_cache_free(c->filters);
	free(c);
}

struct capture *capture_open_all(uint32_t snaplen, char *err, size_t errlen)
{
	static const struct sock_filter drop_all = BPF_STMT(BPF_RET | BPF_K, 0);
	struct capture *c = calloc(1, sizeof *c);
	struct sock probe;

	(void)snaplen;   /* every frame holds HF_MAX_HEADER; rules set the snap */
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->filters = pfilter_cache_new();
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!c->filters || c->epfd < 0) {
		snprintf(err, errlen, "%s", c->filters ? strerror(errno) : "out of memory");
		capture_close(c);
		return NULL;
	}
	/* A socket opened and closed at once: a missing CAP_NET_RAW stops the
	 * start here, not a running sampler later. Until rules arrive there is
	 * no socket at all, so nothing is on any packet's path. */
	if (sock_open(&probe, 0, &drop_all, 1, err, errlen) < 0) {
		capture_close(c);
		return NULL;
	}
	sock_close(&probe);
	return c;
}

/* The selection: the tc eBPF capture in place of the sockets where it
 * loads (capture_ebpf.h says what it needs), packet sockets otherwise. */
struct capture *capture_open(enum capture_backend want, uint32_t snaplen, char *err,
			     size_t errlen)
{
	char why[256];
	struct capture_ebpf *e;
	struct capture *c;

	if (want == CAPTURE_PACKET)
		return capture_open_all(snaplen, err, errlen);
	e = capture_ebpf_open(why, sizeof why);
	if (!e && want == CAPTURE_EBPF) {
		snprintf(err, errlen, "capture ebpf: %s", why);
		return NULL;
	}
	if (!e) {
		log_info("capture", "tc eBPF capture not available (%s): packet sockets", why);
		return capture_open_all(snaplen, err, errlen);
	}
	c = calloc(1, sizeof *c);
	if (!c) {
		capture_ebpf_close(e);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->epfd = -1;
	c->ebpf = e;
	return c;
}

const char *capture_kind(const struct capture *c)
{
	return c->ebpf ? "tc eBPF (tcx)" : "packet sockets";
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

/* The program for rules[0..n) (compiled filters in br). */
static int program(const struct bpfprog_rule *br, size_t n, uint32_t snaplen,
		   struct sock_filter **prog, size_t *len, char *err, size_t errlen)
{
	return bpfprog_build(br, n, snaplen, prog, len, err, errlen);
}

static struct sock *find_sock(struct capture *c, int kindex)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->s[i].kindex == kindex)
			return &c->s[i];
	return NULL;
}

/* The new socket set: want[i] bound to kindex[i] (0: unbound) with progs[i].
 * Sockets kept get their new program; new ones are opened first, and only
 * when every one opened are the old ones closed, so a failure leaves the
 * set in force as it was. (While the two sets overlap, for a few
 * microseconds, a packet may be a candidate on both.) */
static int swap_sockets(struct capture *c, const int *kindex, struct sock_filter **progs,
			const size_t *lens, size_t n, char *err, size_t errlen)
{
	struct sock next[CAPTURE_BOUND_MAX];
	int fresh[CAPTURE_BOUND_MAX] = { 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		struct sock *old = find_sock(c, kindex[i]);

		if (old) {
			next[i] = *old;
			continue;
		}
		if (sock_open(&next[i], kindex[i], progs[i], lens[i], err, errlen) < 0)
			goto undo;
		fresh[i] = 1;
	}
	for (i = 0; i < n; i++)
		if (!fresh[i] && attach(next[i].fd, progs[i], lens[i]) < 0) {
			snprintf(err, errlen, "SO_ATTACH_FILTER (%zu instructions): %s",
				 lens[i], strerror(errno));
			/* Programs already swapped on kept sockets stay: they
			 * are the new rules' and the next call retries. */
			i = n;
			goto undo;
		}
	for (i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };

		if (fresh[i] && epoll_ctl(c->epfd, EPOLL_CTL_ADD, next[i].fd, &ev) < 0) {
			snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
			i = n;
			goto undo;
		}
	}
	for (size_t j = 0; j < c->n; j++) {
		int kept = 0;

		for (i = 0; i < n; i++)
			kept |= !fresh[i] && next[i].fd == c->s[j].fd;
		if (!kept)
			sock_close(&c->s[j]);   /* close() leaves the epoll set too */
	}
	memcpy(c->s, next, n * sizeof *next);
	c->n = n;
	c->next = 0;
	return 0;
undo:
	for (size_t j = 0; j < n && j < i; j++)
		if (fresh[j])
			sock_close(&next[j]);
	return -1;
}

int capture_set_rules(struct capture *c, const struct capture_rule *rules, size_t n,
		      const char *exclude, uint32_t snaplen, char *err, size_t errlen)
{
	if (c->ebpf)
		return capture_ebpf_set_rules(c->ebpf, rules, n, exclude, snaplen, err, errlen);
	struct bpfprog_rule *br = calloc(n ? n : 1, sizeof *br);
	struct sock_filter *progs[CAPTURE_BOUND_MAX] = { 0 };
	size_t lens[CAPTURE_BOUND_MAX] = { 0 };
	int kindex[CAPTURE_BOUND_MAX] = { 0 };
	size_t nsock = 0;
	int rc = -1;

	if (!br) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (snaplen < 1 || snaplen > HF_MAX_HEADER) {
		snprintf(err, errlen, "snap length %u not in 1..%d", snaplen, HF_MAX_HEADER);
		goto out;
	}
	if (compile_rules(c, rules, n, exclude, br, err, errlen))
		goto out;
	/* A few interfaces: a socket bound to each, on no other interface's
	 * packet path (an unbound tap is on every packet of the host, and the
	 * kernel clones each transmitted one for it: a router forwarding
	 * between unsampled interfaces pays that). More: one unbound socket,
	 * whose program picks the interfaces, so fds do not grow with them. */
	if (n > 0 && n <= CAPTURE_BOUND_MAX) {
		for (; nsock < n; nsock++) {
			kindex[nsock] = rules[nsock].kindex;
			if (program(&br[nsock], 1, snaplen, &progs[nsock], &lens[nsock],
				    err, errlen))
				goto out;
		}
	} else if (n > 0) {
		if (program(br, n, snaplen, &progs[0], &lens[0], err, errlen))
			goto out;
		nsock = 1;
	}
	if (swap_sockets(c, kindex, progs, lens, nsock, err, errlen) < 0)
		goto out;
	/* Only now: a failed call keeps what the program in force was built from. */
	pfilter_cache_prune(c->filters);
	rc = 0;
out:
	for (size_t i = 0; i < CAPTURE_BOUND_MAX; i++)
		free(progs[i]);
	free(br);
	return rc;
}

size_t capture_ring_bytes(const struct capture *c)
{
	size_t total = 0;

	if (c->ebpf)
		return capture_ebpf_ring_bytes(c->ebpf);

	for (size_t i = 0; i < c->n; i++)
		total += c->s[i].ring_len;
	return total;
}

int capture_fd(const struct capture *c)
{
	if (c->ebpf)
		return capture_ebpf_fd(c->ebpf);
	return c->epfd;
}

size_t capture_sockets(const struct capture *c)
{
	return c->n;
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

static unsigned drain_sock(struct sock *k, unsigned max, capture_fn fn, void *ctx)
{
	unsigned done = 0;

	while (done < max) {
		struct tpacket2_hdr *h = (struct tpacket2_hdr *)
			(k->ring + (size_t)k->head * RING_FRAME_SIZE);
		struct capture_frame f;

		/* Acquire: the frame's bytes are the kernel's until status says USER. */
		if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			break;
		frame_view(h, &f);
		if (h->tp_mac + (size_t)f.caplen <= RING_FRAME_SIZE)
			fn(ctx, &f);
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		k->head = (k->head + 1) % k->frames;
		done++;
	}
	return done;
}

unsigned capture_drain(struct capture *c, unsigned max, capture_fn fn, void *ctx)
{
	unsigned done = 0;

	if (c->ebpf)
		return capture_ebpf_drain(c->ebpf, max, fn, ctx);

	/* Round robin from a moving start: no ring starves another. */
	for (size_t i = 0; i < c->n && done < max; i++)
		done += drain_sock(&c->s[(c->next + i) % c->n], max - done, fn, ctx);
	if (c->n)
		c->next = (c->next + 1) % (unsigned)c->n;
	return done;
}

int capture_clear_error(struct capture *c)
{
	int first = 0;

	for (size_t i = 0; i < c->n; i++) {
		int e = 0;
		socklen_t len = sizeof e;

		if (getsockopt(c->s[i].fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
			e = errno;
		if (e && !first)
			first = e;
	}
	return first;
}

unsigned capture_ring_frames(const struct capture *c)
{
	unsigned least = 0;

	if (c->ebpf)
		return capture_ebpf_ring_frames(c->ebpf);

	for (size_t i = 0; i < c->n; i++)
		if (!least || c->s[i].frames < least)
			least = c->s[i].frames;
	return least;
}

int64_t capture_pause_ms(unsigned got, int64_t since_ms, unsigned ring_frames, int64_t max_ms)
{
	int64_t target = ring_frames >> RING_FILL_SHIFT, pause;

	if (!got || since_ms <= 0)
		return got ? 0 : max_ms;
	/* got frames in since_ms: target of them take target * since / got. */
	pause = target * since_ms / got;
	return pause < max_ms ? pause : max_ms;
}

uint32_t capture_take_drops(struct capture *c)
{
	uint32_t total = 0;

	if (c->ebpf)
		return capture_ebpf_take_drops(c->ebpf);

	for (size_t i = 0; i < c->n; i++) {
		struct tpacket_stats st;
		socklen_t len = sizeof st;

		/* The kernel resets both counters on every read. */
		if (getsockopt(c->s[i].fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
			total += st.tp_drops;
	}
	return total;
}
