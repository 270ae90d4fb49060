#include "sflow/capture.h"
#include "sflow/capture_ebpf.h"
#include "base/log.h"
#include "sflow/core/bpfprog.h"
#include "sflow/core/pfilter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"

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
/* A replaced socket keeps capturing until it is closed, at the first drain
 * this long after the new one took over (the cut). A frame is stamped when
 * it is delivered, or earlier when the host timestamps packets as they are
 * queued for reception (any program asking for receive timestamps turns
 * that on): a packet stamped before the cut may reach the taps later, when
 * the receive backlog runs, and must still find the old socket there. The
 * new socket skips frames stamped before the cut, the old one those
 * stamped after: no packet counts twice, none is missed. */
#define RETIRE_GRACE_MS 100
/* The first room for replaced sockets: one swap of a few interfaces. */
#define RETIRE_FIRST_CAP 8
#define VLAN_TAG_LEN 4
#define MAC_ADDRS_LEN 12      /* destination and source: the tag goes after */
#define NS_PER_S 1000000000LL

/* One packet socket and its ring; kindex 0: unbound (every interface). */
struct sock {
	int fd;
	int kindex;
	uint8_t *ring;
	size_t ring_len;
	unsigned frames, head;
	struct sock_filter *prog;   /* what it runs (owned): an unchanged program
				       keeps its socket */
	size_t prog_len;
	int64_t from_ns;            /* frames stamped before: the replaced socket's */
	int64_t until_ns;           /* retiring: frames stamped from then on: the new one's */
	int64_t close_ms;           /* retiring: closed at the first drain from then on */
};

struct capture {
	int epfd;                        /* what the sampler polls: every socket */
	struct sock s[CAPTURE_BOUND_MAX];
	size_t n;
	struct sock *old;                /* replaced, drained up to the cut, then closed */
	size_t nold, capold;
	unsigned next;                   /* the socket drained first: fairness */
	uint32_t closed_drops;           /* of sockets replaced since capture_take_drops */
	uint32_t snaplen;                /* bytes of a sample the caller sees */
	struct pfilter_cache *filters;
	uint8_t tagged[HF_MAX_HEADER + VLAN_TAG_LEN];  /* a frame with its tag put back */
	struct capture_ebpf *ebpf;       /* set: the tc eBPF capture serves every call */
};

/* What capture_set_rules would put in force: a program per socket. */
struct plan {
	size_t n;
	int kindex[CAPTURE_BOUND_MAX];
	struct sock_filter *prog[CAPTURE_BOUND_MAX];
	size_t len[CAPTURE_BOUND_MAX];
};

const char *capture_refusal_name(enum capture_refusal r)
{
	switch (r) {
	case CAPTURE_SAMPLED: return "sampled";
	case CAPTURE_BAD_FILTER: return "filter";
	case CAPTURE_TOO_LONG: return "program too long";
	case CAPTURE_NO_OPTMEM: return "optmem_max";
	case CAPTURE_CHECKER: return "refused by the kernel";
	case CAPTURE_NO_ATTACH: return "tcx attach refused";
	}
	return "?";
}

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

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
	free(k->prog);
	memset(k, 0, sizeof *k);
	k->fd = -1;
}

static int attach(int fd, const struct sock_filter *prog, size_t len)
{
	struct sock_fprog fp = { .len = (unsigned short)len,
				 .filter = (struct sock_filter *)prog };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp);
}

/* A socket with prog attached before anything is queued (protocol 0 until
 * bind), its ring, bound to kindex (0: every interface). prog is the
 * socket's from then on, also on failure. */
static int sock_open(struct sock *k, int kindex, struct sock_filter *prog,
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
	k->prog = prog;
	k->prog_len = len;
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
	for (size_t i = 0; i < c->nold; i++)
		sock_close(&c->old[i]);
	free(c->old);
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
	struct sock_filter *prog;

	(void)snaplen;   /* every frame holds HF_MAX_HEADER; rules set the snap */
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->filters = pfilter_cache_new();
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	prog = malloc(sizeof drop_all);
	if (!c->filters || c->epfd < 0 || !prog) {
		snprintf(err, errlen, "capture: %s%s", c->epfd < 0 ? "epoll_create1: " : "",
			 c->epfd < 0 ? strerror(errno) : "out of memory");
		free(prog);
		capture_close(c);
		return NULL;
	}
	*prog = drop_all;
	/* A socket opened and closed at once: a missing CAP_NET_RAW stops the
	 * start here, not a running sampler later. Until rules arrive there is
	 * no socket at all, so nothing is on any packet's path. */
	if (sock_open(&probe, 0, prog, 1, err, errlen) < 0) {
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
	enum capture_ebpf_lack lack;
	struct capture_ebpf *e;
	struct capture *c;

	if (want == CAPTURE_PACKET)
		return capture_open_all(snaplen, err, errlen);
	e = capture_ebpf_open(&lack, why, sizeof why);
	if (!e && (want == CAPTURE_EBPF || lack == CAPTURE_EBPF_FAILED)) {
		snprintf(err, errlen, "capture: tc eBPF: %s", why);
		return NULL;
	}
	if (!e) {
		log_info("capture", "tc eBPF capture not available (%s): packet sockets", why);
		return capture_open_all(snaplen, err, errlen);
	}
	c = calloc(1, sizeof *c);
	if (!c || !(c->filters = pfilter_cache_new())) {
		free(c);
		capture_ebpf_close(e);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->epfd = -1;
	c->ebpf = e;
	return c;
}

const char *capture_kind_name(enum capture_backend kind)
{
	return kind == CAPTURE_EBPF ? "tc eBPF" : "packet sockets";
}

const char *capture_kind(const struct capture *c)
{
	return capture_kind_name(c->ebpf ? CAPTURE_EBPF : CAPTURE_PACKET);
}

enum capture_picked capture_pick(enum capture_backend want, enum capture_backend *kind,
				 char *why, size_t whylen)
{
	enum capture_ebpf_lack lack;
	char msg[256];

	why[0] = '\0';
	*kind = CAPTURE_PACKET;
	if (want == CAPTURE_PACKET)
		return CAPTURE_PICKED;
	if (capture_ebpf_probe(&lack, msg, sizeof msg) == 0) {
		*kind = CAPTURE_EBPF;
		return CAPTURE_PICKED;
	}
	if (want == CAPTURE_EBPF || lack == CAPTURE_EBPF_FAILED) {
		snprintf(why, whylen, "capture: tc eBPF: %s", msg);
		return want == CAPTURE_EBPF && lack == CAPTURE_EBPF_UNAVAILABLE ?
			CAPTURE_PICK_LACKING : CAPTURE_PICK_UNTRIED;
	}
	hf_strlcpy(why, msg, whylen);
	return CAPTURE_PICKED;
}

/* ---- what the kernel takes ---- */

static void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->prog[i]);
	p->n = 0;
}

static enum bpfprog_link link_of(unsigned arphrd)
{
	return pfilter_dlt_for_arphrd(arphrd) == PFILTER_DLT_EN10MB ? BPFPROG_LINK_ETHER
								     : BPFPROG_LINK_IP;
}

/* Tries prog on the throwaway socket (the kernel's checker, and the charge
 * against net.core.optmem_max of a socket holding nothing else); 0 or the
 * errno. Detached after, so the next try is charged alone. */
static int try_prog(int probe, const struct sock_filter *prog, size_t len)
{
	int e = 0;

	if (attach(probe, prog, len) < 0)
		return errno ? errno : EINVAL;
	if (setsockopt(probe, SOL_SOCKET, SO_DETACH_FILTER, &e, sizeof e) < 0)
		return errno;
	return 0;
}

static long optmem_max(void)
{
	FILE *f = fopen("/proc/sys/net/core/optmem_max", "re");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* The words of each kind of refusal (its first), and the rule the first
 * words are about (the rest are in refused[]). */
struct notes {
	char *why;
	size_t whylen;
	size_t blame;
	int set;
	unsigned kinds;     /* bit per enum capture_refusal already said */
};

static void note(struct notes *nt, enum capture_refusal kind, size_t rule,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void note(struct notes *nt, enum capture_refusal kind, size_t rule,
		 const char *fmt, ...)
{
	size_t used = nt->set ? strlen(nt->why) : 0;
	va_list ap;

	if (nt->kinds & (1u << kind))
		return;
	nt->kinds |= 1u << kind;
	if (!nt->set)
		nt->blame = rule;
	if (used && used + 2 < nt->whylen) {
		memcpy(nt->why + used, "; ", 3);
		used += 2;
	}
	nt->set = 1;
	va_start(ap, fmt);
	if (used < nt->whylen)
		vsnprintf(nt->why + used, nt->whylen - used, fmt, ap);
	va_end(ap);
}

/* Words for a program the kernel did not take (errno e from try_prog). */
static enum capture_refusal kernel_refusal(int e, size_t len, size_t nrules,
					   struct notes *nt, size_t rule)
{
	if (e == ENOMEM) {
		long max = optmem_max();
		char size[32] = "";

		/* The shipped unit's ProcSubset=pid hides /proc/sys. */
		if (max >= 0)
			snprintf(size, sizeof size, " (%ld bytes)", max);
		note(nt, CAPTURE_NO_OPTMEM, rule, "a program of %zu instructions for %zu "
		     "interface%s needs more kernel memory than net.core.optmem_max%s lets "
		     "a socket hold", len, nrules, nrules == 1 ? "" : "s", size);
		return CAPTURE_NO_OPTMEM;
	}
	note(nt, CAPTURE_CHECKER, rule, "the kernel refused a program of %zu "
	     "instructions for %zu interface%s: %s", len, nrules, nrules == 1 ? "" : "s",
	     strerror(e));
	return CAPTURE_CHECKER;
}

/* The active rule of the last config line with the lowest index. */
static size_t last_line(const struct capture_rule *rules, size_t n,
			const enum capture_refusal *refused)
{
	size_t at = 0;
	int last = -1;

	for (size_t i = 0; i < n; i++)
		if (refused[i] == CAPTURE_SAMPLED && rules[i].line > last) {
			last = rules[i].line;
			at = i;
		}
	return at;
}

/* Refuses the active rules of the last config line (the others may fit). */
static void refuse_line(const struct capture_rule *rules, size_t n,
			enum capture_refusal *refused, int line, enum capture_refusal why)
{
	for (size_t i = 0; i < n; i++)
		if (refused[i] == CAPTURE_SAMPLED && rules[i].line == line)
			refused[i] = why;
}

/* A system failure (no socket, no memory): nothing is decided. */
static int is_system_errno(int e)
{
	return e != ENOMEM && e != EINVAL && e != E2BIG && e != ERANGE;
}

/* Each active rule on a socket of its own. Returns 0, or -1 on a system
 * failure (why says). */
static int fit_bound(const struct capture_rule *rules, const struct bpfprog_rule *br,
		     size_t n, const struct bpfprog_self *self, size_t nself, uint32_t snap,
		     int probe, enum capture_refusal *refused, struct plan *plan,
		     struct notes *nt)
{
	char msg[512];

	for (size_t i = 0; i < n; i++) {
		struct sock_filter *prog = NULL;
		size_t len = 0;
		enum bpfprog_built b;
		int e;

		if (refused[i] != CAPTURE_SAMPLED)
			continue;
		b = bpfprog_build(&br[i], 1, self, nself, snap, &prog, &len, msg, sizeof msg);
		if (b == BPFPROG_TOO_LONG) {
			refused[i] = CAPTURE_TOO_LONG;
			note(nt, CAPTURE_TOO_LONG, i, "%s", msg);
			continue;
		}
		if (b != BPFPROG_BUILT) {
			refused[i] = CAPTURE_BAD_FILTER;
			note(nt, CAPTURE_BAD_FILTER, i, "filter \"%s\": %s",
			     rules[i].filter ? rules[i].filter : "", msg);
			continue;
		}
		e = try_prog(probe, prog, len);
		if (e && is_system_errno(e)) {
			snprintf(nt->why, nt->whylen, "SO_ATTACH_FILTER: %s", strerror(e));
			free(prog);
			return -1;
		}
		if (e) {
			refused[i] = kernel_refusal(e, len, 1, nt, i);
			free(prog);
			continue;
		}
		plan->kindex[plan->n] = rules[i].kindex;
		plan->prog[plan->n] = prog;
		plan->len[plan->n++] = len;
	}
	return 0;
}

/* Where the programs run. */
enum fit_for {
	FIT_SOCKETS,     /* in the kernel, on packet sockets: the draw, the filters and
			    our own datagrams; BPF_MAXINSNS and optmem_max */
	FIT_USER         /* in user space on what tc eBPF drew (cbpf.h): one program,
			    every rule at rate 1, BPFPROG_USER_MAXINSNS */
};

/* Decides what the kernel takes: refused[] for every rule, the plan for the
 * rest. Returns 0, or -1 on a system failure (why says; nothing decided). */
static int fit(struct pfilter_cache *pc, const struct capture_rule *rules, size_t n,
	       const struct bpfprog_self *self, size_t nself, uint32_t snap,
	       enum fit_for where, enum capture_refusal *refused, struct plan *plan,
	       struct notes *nt)
{
	struct bpfprog_rule *br = calloc(n ? n : 1, sizeof *br);
	char msg[PCAP_MSG_MAX];
	int probe = -1, rc = -1;

	nt->why[0] = '\0';
	plan->n = 0;
	/* The kernel's checker and optmem_max, asked on a throwaway socket. */
	if (where == FIT_SOCKETS)
		probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (!br || (where == FIT_SOCKETS && probe < 0)) {
		snprintf(nt->why, nt->whylen, "%s", br ? strerror(errno) : "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct capture_rule *r = &rules[i];
		int dlt = pfilter_dlt_for_arphrd(r->arphrd);

		refused[i] = CAPTURE_SAMPLED;
		/* tc eBPF drew in the kernel already: the program only judges. */
		br[i] = (struct bpfprog_rule){ .kindex = r->kindex,
					       .rate = where == FIT_USER ? 1 : r->rate,
					       .link = link_of(r->arphrd) };
		if (!r->filter || !r->filter[0])
			continue;
		br[i].filter = pfilter_cache_get(pc, r->filter, dlt, &br[i].filter_len, msg,
						 sizeof msg);
		if (!br[i].filter) {
			refused[i] = CAPTURE_BAD_FILTER;
			note(nt, CAPTURE_BAD_FILTER, i, "filter \"%s\" for %s: %s", r->filter,
			     dlt == PFILTER_DLT_EN10MB ? "Ethernet" : "raw IP", msg);
		}
	}
	for (;;) {
		struct sock_filter *prog = NULL;
		size_t active = 0, len = 0, k = 0, at;
		struct bpfprog_rule *sub;
		enum bpfprog_built b;
		int e;

		for (size_t i = 0; i < n; i++)
			active += refused[i] == CAPTURE_SAMPLED;
		if (where == FIT_SOCKETS && active <= CAPTURE_BOUND_MAX) {
			if (fit_bound(rules, br, n, self, nself, snap, probe, refused, plan,
				      nt) < 0)
				goto out;
			break;
		}
		sub = calloc(active, sizeof *sub);
		if (!sub) {
			snprintf(nt->why, nt->whylen, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			if (refused[i] == CAPTURE_SAMPLED)
				sub[k++] = br[i];
		b = bpfprog_build_max(sub, active, self, nself, snap,
				      where == FIT_USER ? BPFPROG_USER_MAXINSNS : BPF_MAXINSNS,
				      &prog, &len, msg, sizeof msg);
		free(sub);
		at = last_line(rules, n, refused);
		if (b == BPFPROG_TOO_LONG) {
			note(nt, CAPTURE_TOO_LONG, at, "%s", msg);
			refuse_line(rules, n, refused, rules[at].line, CAPTURE_TOO_LONG);
			continue;
		}
		if (b != BPFPROG_BUILT) {
			snprintf(nt->why, nt->whylen, "%s", msg);
			goto out;
		}
		e = where == FIT_SOCKETS ? try_prog(probe, prog, len) : 0;
		if (e)
			free(prog);
		if (e && is_system_errno(e)) {
			snprintf(nt->why, nt->whylen, "SO_ATTACH_FILTER: %s", strerror(e));
			goto out;
		}
		if (e) {
			refuse_line(rules, n, refused, rules[at].line,
				    kernel_refusal(e, len, active, nt, at));
			continue;
		}
		plan->kindex[0] = 0;
		plan->prog[0] = prog;
		plan->len[0] = len;
		plan->n = 1;
		break;
	}
	rc = 0;
out:
	if (rc < 0)
		plan_free(plan);
	if (probe >= 0)
		close(probe);
	free(br);
	return rc;
}

int capture_check_rules(enum capture_backend kind, const struct capture_rule *rules,
			size_t n, const struct bpfprog_self *self, size_t nself,
			uint32_t snaplen, enum capture_refusal *refused, size_t *blame,
			char *why, size_t whylen)
{
	struct pfilter_cache *pc = pfilter_cache_new();
	struct notes nt = { why, whylen, 0, 0, 0 };
	struct plan plan = { 0 };
	int rc;

	if (!pc) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	rc = fit(pc, rules, n, self, nself, snaplen < BPFPROG_MIN_SNAP ? BPFPROG_MIN_SNAP :
		 snaplen, kind == CAPTURE_EBPF ? FIT_USER : FIT_SOCKETS, refused, &plan, &nt);
	*blame = nt.blame;
	plan_free(&plan);
	pfilter_cache_free(pc);
	return rc;
}

/* ---- putting programs in force ---- */

static struct sock *find_sock(struct capture *c, int kindex)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->s[i].kindex == kindex)
			return &c->s[i];
	return NULL;
}

static int same_prog(const struct sock *k, const struct sock_filter *p, size_t len)
{
	return k->prog_len == len && !memcmp(k->prog, p, len * sizeof *p);
}

static uint32_t take_drops(const struct sock *k);

/* Room for n more replaced sockets (they wait for a drain: a few swaps'
 * worth at most, as swaps follow table changes at most every 200 ms). */
static int retire_room(struct capture *c, size_t n)
{
	if (!n)
		return 0;
	return hf_grow(&c->old, c->nold + n - 1, &c->capold, sizeof *c->old, RETIRE_FIRST_CAP);
}

/* k stops being the capture's: it goes on capturing until closed, and
 * what it holds up to the cut is drained first. Its drops so far are the
 * capture's; those after are of frames the new socket has (its ring may
 * fill with them before its last drain). */
static void retire(struct capture *c, struct sock *k, int64_t cut_ns)
{
	c->closed_drops += take_drops(k);
	k->until_ns = cut_ns;
	k->close_ms = monotonic_ms() + RETIRE_GRACE_MS;
	c->old[c->nold++] = *k;
	memset(k, 0, sizeof *k);
	k->fd = -1;
}

int capture_set_rules(struct capture *c, const struct capture_rule *rules, size_t n,
		      const struct bpfprog_self *self, size_t nself, uint32_t snaplen,
		      enum capture_refusal *refused, char *why, size_t whylen)
{
	struct plan plan = { 0 };
	struct sock next[CAPTURE_BOUND_MAX];
	int fresh[CAPTURE_BOUND_MAX] = { 0 }, kept[CAPTURE_BOUND_MAX] = { 0 };
	struct notes nt = { why, whylen, 0, 0, 0 };
	char first[512];
	size_t i;
	int64_t cut;

	if (snaplen < 1 || snaplen > HF_MAX_HEADER) {
		snprintf(why, whylen, "snap length %u not in 1..%d", snaplen, HF_MAX_HEADER);
		return -1;
	}
	/* A sample's snap is at least 2 bytes: 1 is the rejected frames' mark. */
	if (fit(c->filters, rules, n, self, nself,
		snaplen < BPFPROG_MIN_SNAP ? BPFPROG_MIN_SNAP : snaplen,
		c->ebpf ? FIT_USER : FIT_SOCKETS, refused, &plan, &nt) < 0)
		return -1;
	if (c->ebpf) {
		/* One program, the capture's from here on. */
		if (capture_ebpf_set_rules(c->ebpf, rules, n, refused, plan.prog[0], plan.len[0],
					   snaplen, why, whylen) < 0)
			return -1;
		pfilter_cache_prune(c->filters);
		return 0;
	}
	hf_strlcpy(first, why, sizeof first);
	for (i = 0; i < plan.n; i++) {
		struct sock *old = find_sock(c, plan.kindex[i]);
		struct sock_filter *prog = plan.prog[i];

		plan.prog[i] = NULL;   /* the socket's now, or freed */
		if (old && same_prog(old, prog, plan.len[i])) {
			next[i] = *old;
			kept[old - c->s] = 1;
			free(prog);
		} else if (sock_open(&next[i], plan.kindex[i], prog, plan.len[i], why,
				     whylen) < 0) {
			i++;
			goto undo;
		} else {
			fresh[i] = 1;
		}
	}
	for (i = 0; i < plan.n; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };

		if (fresh[i] && epoll_ctl(c->epfd, EPOLL_CTL_ADD, next[i].fd, &ev) < 0) {
			snprintf(why, whylen, "epoll_ctl: %s", strerror(errno));
			i = plan.n;
			goto undo;
		}
	}
	if (retire_room(c, c->n) < 0) {
		snprintf(why, whylen, "out of memory");
		i = plan.n;
		goto undo;
	}
	/* Every new socket captures now: from here on a packet is theirs. */
	cut = realtime_ns();
	for (i = 0; i < plan.n; i++)
		if (fresh[i])
			next[i].from_ns = cut;
	for (size_t j = 0; j < c->n; j++)
		if (!kept[j])
			retire(c, &c->s[j], cut);
	memcpy(c->s, next, plan.n * sizeof *next);
	c->n = plan.n;
	c->next = 0;
	c->snaplen = snaplen;
	/* Only now: a failed call keeps what the programs in force were built from. */
	pfilter_cache_prune(c->filters);
	hf_strlcpy(why, first, whylen);
	return 0;
undo:
	for (size_t j = 0; j < i; j++)
		if (fresh[j])
			sock_close(&next[j]);
	for (size_t j = i; j < plan.n; j++)
		free(plan.prog[j]);
	return -1;
}

size_t capture_ring_bytes(const struct capture *c)
{
	size_t total = 0;

	if (c->ebpf)
		return capture_ebpf_ring_bytes(c->ebpf);
	for (size_t i = 0; i < c->n; i++)
		total += c->s[i].ring_len;
	for (size_t i = 0; i < c->nold; i++)
		total += c->old[i].ring_len;
	return total;
}

size_t capture_take_refused(struct capture *c, int *kindex, size_t max)
{
	return c->ebpf ? capture_ebpf_take_refused(c->ebpf, kindex, max) : 0;
}

unsigned capture_fds_spare(const struct capture *c)
{
	return c->ebpf ? 0 : 2 * CAPTURE_BOUND_MAX + 1;
}

int capture_fd(const struct capture *c)
{
	if (c->ebpf)
		return capture_ebpf_fd(c->ebpf);
	return c->epfd;
}

size_t capture_sockets(const struct capture *c)
{
	if (c->ebpf)
		return 0;
	return c->n;
}

/* ---- frames ---- */

/* The frame as the packet was: the outer VLAN tag the kernel stripped
 * before the tap (802.1Q or 802.1ad, from the ring's metadata) goes back
 * after the MAC addresses, as libpcap puts it back, and counts in the
 * length. */
static void put_tag_back(struct capture *c, const struct tpacket2_hdr *h,
			 struct capture_frame *f)
{
	uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ? h->tp_vlan_tpid
								    : ETH_P_8021Q;
	uint32_t got = h->tp_snaplen;

	memcpy(c->tagged, f->data, MAC_ADDRS_LEN);
	c->tagged[12] = (uint8_t)(tpid >> 8);
	c->tagged[13] = (uint8_t)tpid;
	c->tagged[14] = (uint8_t)(h->tp_vlan_tci >> 8);
	c->tagged[15] = (uint8_t)h->tp_vlan_tci;
	memcpy(c->tagged + MAC_ADDRS_LEN + VLAN_TAG_LEN, f->data + MAC_ADDRS_LEN,
	       got - MAC_ADDRS_LEN);
	f->data = c->tagged;
	f->caplen = got + VLAN_TAG_LEN < c->snaplen ? got + VLAN_TAG_LEN : c->snaplen;
	f->len += VLAN_TAG_LEN;
}

static void frame_view(struct capture *c, struct tpacket2_hdr *h, struct capture_frame *f)
{
	const struct sockaddr_ll *sll = (const struct sockaddr_ll *)
		((uint8_t *)h + TPACKET_ALIGN(sizeof *h));

	f->kindex = sll->sll_ifindex;
	f->data = (const uint8_t *)h + h->tp_mac;
	f->len = h->tp_len;
	f->outgoing = sll->sll_pkttype == PACKET_OUTGOING;
	f->rejected = h->tp_snaplen == BPFPROG_MARK && h->tp_len > BPFPROG_MARK;
	if (f->rejected) {
		f->caplen = 0;
		return;
	}
	/* The kernel copied at least BPFPROG_MIN_SNAP bytes: the caller's snap. */
	f->caplen = h->tp_snaplen < c->snaplen ? h->tp_snaplen : c->snaplen;
	if ((h->tp_status & TP_STATUS_VLAN_VALID) && sll->sll_hatype == ARPHRD_ETHER &&
	    h->tp_snaplen >= MAC_ADDRS_LEN && h->tp_snaplen <= HF_MAX_HEADER)
		put_tag_back(c, h, f);
}

static int64_t frame_ns(const struct tpacket2_hdr *h)
{
	return (int64_t)h->tp_sec * NS_PER_S + h->tp_nsec;
}

/* Hands k's ready frames to fn, those of its share of time only (see
 * retire); returns how many frames it took from the ring. */
static unsigned drain_sock(struct capture *c, struct sock *k, unsigned max, capture_fn fn,
			   void *ctx)
{
	unsigned done = 0;

	while (done < max) {
		struct tpacket2_hdr *h = (struct tpacket2_hdr *)
			(k->ring + (size_t)k->head * RING_FRAME_SIZE);
		struct capture_frame f;
		int64_t ts;

		/* Acquire: the frame's bytes are the kernel's until status says USER. */
		if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			break;
		ts = frame_ns(h);
		if ((!k->until_ns || ts < k->until_ns) && ts >= k->from_ns &&
		    h->tp_mac + (size_t)h->tp_snaplen <= RING_FRAME_SIZE) {
			frame_view(c, h, &f);
			fn(ctx, &f);
		}
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		k->head = (k->head + 1) % k->frames;
		done++;
	}
	return done;
}

/* Replaced sockets first: their frames are older. One is closed once its
 * grace is over and a drain left its ring empty (its drops kept). */
static unsigned drain_retired(struct capture *c, unsigned max, capture_fn fn, void *ctx)
{
	unsigned done = 0;
	int64_t now = monotonic_ms();
	size_t j = 0;

	for (size_t i = 0; i < c->nold; i++) {
		unsigned got = drain_sock(c, &c->old[i], max - done, fn, ctx);

		done += got;
		if (done < max && now >= c->old[i].close_ms) {
			sock_close(&c->old[i]);
			continue;
		}
		c->old[j++] = c->old[i];
	}
	c->nold = j;
	return done;
}

unsigned capture_drain(struct capture *c, unsigned max, capture_fn fn, void *ctx)
{
	unsigned done;

	if (c->ebpf)
		return capture_ebpf_drain(c->ebpf, max, fn, ctx);
	done = drain_retired(c, max, fn, ctx);

	/* Round robin from a moving start: no ring starves another. */
	for (size_t i = 0; i < c->n && done < max; i++)
		done += drain_sock(c, &c->s[(c->next + i) % c->n], max - done, fn, ctx);
	if (c->n)
		c->next = (c->next + 1) % (unsigned)c->n;
	return done;
}

static int clear_one(const struct sock *k)
{
	int e = 0;
	socklen_t len = sizeof e;

	if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		e = errno;
	return e;
}

int capture_clear_error(struct capture *c)
{
	int first = 0;

	if (c->ebpf)
		return 0;
	for (size_t i = 0; i < c->n; i++) {
		int e = clear_one(&c->s[i]);

		if (e && !first)
			first = e;
	}
	for (size_t i = 0; i < c->nold; i++)
		clear_one(&c->old[i]);
	return first;
}

int64_t capture_retire_due_ms(const struct capture *c)
{
	int64_t due = 0;

	for (size_t i = 0; i < c->nold; i++)
		if (!due || c->old[i].close_ms < due)
			due = c->old[i].close_ms;
	return due;
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

static uint32_t take_drops(const struct sock *k)
{
	struct tpacket_stats st;
	socklen_t len = sizeof st;

	/* The kernel resets both counters on every read. */
	if (getsockopt(k->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
		return st.tp_drops;
	return 0;
}

uint32_t capture_take_drops(struct capture *c)
{
	uint32_t total = c->closed_drops;

	if (c->ebpf)
		return capture_ebpf_take_drops(c->ebpf);
	c->closed_drops = 0;
	for (size_t i = 0; i < c->n; i++)
		total += take_drops(&c->s[i]);
	return total;
}
