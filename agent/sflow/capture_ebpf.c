#include "sflow/capture_ebpf.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/hf_types.h"
#include "base/log.h"
#include "base/util.h"
#include "sflow/bpf/sample_abi.h"
#include "sflow/core/tcsample.h"

_Static_assert(HF_MAX_HEADER <= HF_EBPF_SNAP, "a sample holds every byte sFlow may send");

/* The object built from sflow/bpf/sample.bpf.c (sample_embed.S). */
extern const unsigned char hf_sample_bpf_obj[], hf_sample_bpf_obj_end[];

/* tcx (Linux 6.6), which Debian 12's UAPI headers do not name: its attach
 * points, the multi-program flags, and the attach/query attributes as the
 * kernel reads them (include/uapi/linux/bpf.h of 6.6). */
#define TCX_INGRESS  46
#define TCX_EGRESS   47
#define TCX_F_BEFORE (1u << 3)
#define TCX_F_AFTER  (1u << 4)
#define TCX_F_ID     (1u << 5)
/* Programs one hook holds at most (the kernel's bpf_mprog_max()). */
#define TCX_QUERY_MAX 64
/* A stale program's detach names its neighbour and the hook's revision;
 * another program coming or going in between makes the kernel refuse, and
 * we look again, this many times. */
#define STALE_TRIES 4
/* Ids a record keeps: ours (2) and a predecessor's that would not detach. */
#define STALE_MAX 16
/* libbpf's last warning, kept for the message of a failed load. */
#define LIBBPF_MSG_MAX 256
/* A drain's callback stops libbpf's consume loop with this. */
#define DRAIN_FULL (-1)
/* Interfaces refused after the call that brought them (an attach made in
 * steps), kept until the sampler takes them; more are said in the log. */
#define LATE_MAX 64
/* Interfaces attached in the call that brings them (tens of ms); more are
 * attached in steps of WORK_STEP_MS between the sampler's drains. */
#define WORK_AT_ONCE 8
#define WORK_STEP_MS 50

struct tcx_attach_attr {
	__u32 target_ifindex, attach_bpf_fd, attach_type, attach_flags, replace_bpf_fd;
	__u32 relative_id;
	__u64 expected_revision;
};

struct tcx_query_attr {
	__u32 target_ifindex, attach_type, query_flags, attach_flags;
	__u64 prog_ids;
	__u32 count, pad;
	__u64 prog_attach_flags, link_ids, link_attach_flags, revision;
};

/* The drain in progress, for libbpf's callback. */
struct drain_ctx {
	capture_fn fn;
	void *ctx;
	unsigned max, seen;
};

enum port_state {
	PORT_PENDING,              /* its programs are to be attached */
	PORT_ATTACHED,
	PORT_GONE,                 /* it vanished before its attach */
	PORT_FAILED                /* the kernel refused: logged, not sampled */
};

/* One sampled interface: its rate in the kernel's map, its link type here. */
struct port {
	int kindex;                /* the sort key */
	unsigned arphrd;
	uint32_t rate;
	enum port_state state;
};

struct capture_ebpf {
	struct bpf_object *obj;
	int prog[2];               /* [0] ingress, [1] egress */
	uint32_t prog_id[2];
	int direct_fd, far_fd, drops_fd;   /* the thresholds (sample_abi.h), drops */
	struct ring_buffer *rb;
	struct port *ports;        /* sorted by kindex */
	size_t nports;
	struct sock_filter *judge; /* bpfprog's program at rate 1 (owned): tcsample.h */
	size_t judge_len;
	uint32_t snaplen;
	uint64_t drops_seen;
	uint64_t *drop_cpu;        /* one per possible CPU */
	int ncpu;
	uint8_t buf[TCSAMPLE_BUF]; /* a frame with its tag put back */
	int state_fd;              /* the locked record; -1 without one */
	char state_path[64];
	uint32_t stale[STALE_MAX]; /* a predecessor's ids that would not detach */
	size_t nstale;
	struct drain_ctx *drain;   /* the drain in progress (libbpf's callback) */
	int work_fd;               /* eventfd in the ring's epoll set: attaching left */
	int work_pending, work_steps;
	size_t work_next;
	int64_t work_t0;
	int *gone;                 /* kindexes whose programs are still to be detached */
	size_t ngone, capgone;
	int late[LATE_MAX];        /* refused since the rules came, not yet taken */
	size_t nlate;
	unsigned late_lost;        /* beyond LATE_MAX: logged only */
};

static const uint32_t tcx_type[2] = { TCX_INGRESS, TCX_EGRESS };
static const char *const tcx_name[2] = { "ingress", "egress" };

static __thread char libbpf_msg[LIBBPF_MSG_MAX];

/* libbpf's messages go to the debug log; the last warning is kept for the
 * error of a failed load (the verifier's verdict is in it). */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[LIBBPF_MSG_MAX];
	size_t n;

	vsnprintf(line, sizeof line, fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	if (level <= LIBBPF_WARN && n)
		hf_strlcpy(libbpf_msg, line, sizeof libbpf_msg);
	if (level <= LIBBPF_INFO)
		log_debug("capture", "%s", line);
	return 0;
}

static int sys_bpf(int cmd, void *attr, size_t size)
{
	return (int)syscall(__NR_bpf, cmd, attr, size);
}

static int tcx_attach(int prog_fd, int ifindex, uint32_t type, uint32_t flags)
{
	struct tcx_attach_attr a = { .target_ifindex = (__u32)ifindex,
				     .attach_bpf_fd = (__u32)prog_fd,
				     .attach_type = type, .attach_flags = flags };

	return sys_bpf(BPF_PROG_ATTACH, &a, sizeof a);
}

static int tcx_detach(int prog_fd, int ifindex, uint32_t type)
{
	struct tcx_attach_attr a = { .target_ifindex = (__u32)ifindex,
				     .attach_bpf_fd = (__u32)prog_fd, .attach_type = type };

	return sys_bpf(BPF_PROG_DETACH, &a, sizeof a);
}

/* The ids on a hook, in order, and its revision. */
static int tcx_query(int ifindex, uint32_t type, uint32_t *ids, uint32_t *n, uint64_t *rev)
{
	struct tcx_query_attr q = { .target_ifindex = (__u32)ifindex, .attach_type = type,
				    .prog_ids = (__u64)(uintptr_t)ids, .count = *n };

	if (sys_bpf(BPF_PROG_QUERY, &q, sizeof q) < 0)
		return -1;
	*n = q.count < *n ? q.count : *n;
	*rev = q.revision;
	return 0;
}

/* Detaches the program of that id from a hook without a descriptor of it
 * (only CAP_SYS_ADMIN may open a program by id): the kernel is told to take
 * the first program, or the one after its predecessor's id, at the
 * revision just read. Returns 1 when detached, 0 when not there, -1. */
static int tcx_detach_id(int ifindex, uint32_t type, uint32_t id)
{
	for (int t = 0; t < STALE_TRIES; t++) {
		uint32_t ids[TCX_QUERY_MAX], n = TCX_QUERY_MAX, i;
		uint64_t rev;
		struct tcx_attach_attr a = { .target_ifindex = (__u32)ifindex, .attach_type = type };

		if (tcx_query(ifindex, type, ids, &n, &rev) < 0)
			return errno == ENODEV ? 0 : -1;
		for (i = 0; i < n && ids[i] != id; i++)
			;
		if (i == n)
			return 0;
		a.attach_flags = i ? TCX_F_AFTER | TCX_F_ID : TCX_F_BEFORE;
		a.relative_id = i ? ids[i - 1] : 0;
		a.expected_revision = rev;
		if (sys_bpf(BPF_PROG_DETACH, &a, sizeof a) == 0)
			return 1;
		if (errno != ESTALE && errno != ENOENT)
			return -1;
	}
	errno = ESTALE;
	return -1;
}

/* ---- the record of attached programs ---- */

/* The ids a record lists. It lives in /run, which a boot starts empty, as
 * program ids are unique only within one boot. */
static size_t parse_record(const char *text, uint32_t *ids, size_t max)
{
	const char *p;
	size_t n = 0;

	if (strncmp(text, "ids", 3))
		return 0;
	p = text + 3;
	while (n < max) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);

		if (end == p || v == 0 || v > UINT32_MAX)
			break;
		ids[n++] = (uint32_t)v;
		p = end;
	}
	return n;
}

/* Writes ours (unless 0: detached at a stop) and the predecessor's that
 * would not detach. */
static int write_record(struct capture_ebpf *e)
{
	char text[512] = "ids";
	size_t w = 3;
	uint32_t all[2 + STALE_MAX];
	size_t n = 0;

	for (int d = 0; d < 2; d++)
		if (e->prog_id[d])
			all[n++] = e->prog_id[d];
	for (size_t i = 0; i < e->nstale; i++)
		all[n++] = e->stale[i];
	for (size_t i = 0; i < n && w < sizeof text; i++)
		w += (size_t)snprintf(text + w, sizeof text - w, " %u", all[i]);
	if (w + 2 > sizeof text)
		return -1;
	text[w++] = '\n';
	if (ftruncate(e->state_fd, 0) < 0 || pwrite(e->state_fd, text, w, 0) != (ssize_t)w)
		return -1;
	return 0;
}

/* Detaches the stale ids from every hook of this namespace; keeps in
 * e->stale those that would not go. */
static void detach_stale(struct capture_ebpf *e, const uint32_t *ids, size_t n)
{
	struct if_nameindex *ifs = if_nameindex();
	unsigned done = 0, where = 0;
	int failed = 0;

	if (!ifs) {
		log_warn("capture", "cannot list interfaces to detach a killed hostflowd's "
			 "tc programs: %s", strerror(errno));
		memcpy(e->stale, ids, n * sizeof *ids);
		e->nstale = n;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int left = 0;

		for (struct if_nameindex *p = ifs; p->if_index; p++)
			for (int d = 0; d < 2; d++) {
				int rc = tcx_detach_id((int)p->if_index, tcx_type[d], ids[i]);

				done += rc == 1;
				where += rc == 1 && d == 0;
				if (rc < 0) {
					left = 1;
					if (!failed++)
						log_warn("capture", "tc program %u left by a killed "
							 "hostflowd on %s %s: %s", ids[i], p->if_name,
							 tcx_name[d], strerror(errno));
				}
			}
		if (left && e->nstale < STALE_MAX - 2)
			e->stale[e->nstale++] = ids[i];
	}
	if_freenameindex(ifs);
	if (done)
		log_info("capture", "detached %u tc programs a killed hostflowd left (%u "
			 "ingress hooks)", done, where);
}

/* Opens and locks the record of this namespace, detaches what it lists,
 * and records ours. Without it the capture still works, but a killed
 * daemon's programs stay until a start that can: said once. */
static void state_open(struct capture_ebpf *e)
{
	char text[512];
	uint32_t ids[STALE_MAX];
	struct stat ns;
	ssize_t got;
	size_t n;

	e->state_fd = -1;
	if (stat("/proc/self/ns/net", &ns) < 0) {
		log_warn("capture", "cannot name this network namespace (%s): tc programs are "
			 "not recorded, a killed hostflowd's stay attached", strerror(errno));
		return;
	}
	snprintf(e->state_path, sizeof e->state_path, "%s/tcx-%llu", CAPTURE_EBPF_STATE_DIR,
		 (unsigned long long)ns.st_ino);
	/* Twice: another daemon's clean stop may remove the empty directory
	 * between our mkdir and our open. */
	for (int t = 0; t < 2 && e->state_fd < 0; t++) {
		if (mkdir(CAPTURE_EBPF_STATE_DIR, 0700) < 0 && errno != EEXIST)
			goto fail;
		e->state_fd = open(e->state_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
	if (e->state_fd < 0)
		goto fail;
	if (flock(e->state_fd, LOCK_EX | LOCK_NB) < 0) {
		log_warn("capture", "%s is held by another hostflowd in this network namespace: "
			 "its tc programs are left alone, ours are not recorded", e->state_path);
		close(e->state_fd);
		e->state_fd = -1;
		return;
	}
	got = pread(e->state_fd, text, sizeof text - 1, 0);
	text[got > 0 ? got : 0] = '\0';
	n = parse_record(text, ids, STALE_MAX);
	if (n)
		detach_stale(e, ids, n);
	if (write_record(e) < 0)
		goto fail;
	return;
fail:
	log_warn("capture", "cannot record the tc programs in %s (%s): if hostflowd is "
		 "killed they stay attached until a start that can", e->state_path[0] ?
		 e->state_path : CAPTURE_EBPF_STATE_DIR, strerror(errno));
	if (e->state_fd >= 0)
		close(e->state_fd);
	e->state_fd = -1;
}

/* ---- open, close ---- */

static int load(struct capture_ebpf *e, char *err, size_t errlen)
{
	static const char *const names[2] = { "hf_sample_in", "hf_sample_out" };
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "hf_sample");
	int rc;

	libbpf_set_print(libbpf_print);
	libbpf_msg[0] = '\0';
	e->obj = bpf_object__open_mem(hf_sample_bpf_obj,
				      (size_t)(hf_sample_bpf_obj_end - hf_sample_bpf_obj), &oo);
	if (!e->obj) {
		snprintf(err, errlen, "BPF object: %s", strerror(errno));
		return -1;
	}
	rc = bpf_object__load(e->obj);
	if (rc) {
		snprintf(err, errlen, "loading the tc programs: %s%s%s", strerror(-rc),
			 libbpf_msg[0] ? "; " : "", libbpf_msg);
		errno = -rc;
		return -1;
	}
	for (int d = 0; d < 2; d++) {
		struct bpf_program *p = bpf_object__find_program_by_name(e->obj, names[d]);
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof info;

		e->prog[d] = p ? bpf_program__fd(p) : -1;
		if (e->prog[d] < 0 || bpf_obj_get_info_by_fd(e->prog[d], &info, &len) < 0) {
			snprintf(err, errlen, "program %s: %s", names[d], strerror(errno));
			return -1;
		}
		e->prog_id[d] = info.id;
	}
	e->direct_fd = bpf_object__find_map_fd_by_name(e->obj, "hf_direct");
	e->far_fd = bpf_object__find_map_fd_by_name(e->obj, "hf_far");
	e->drops_fd = bpf_object__find_map_fd_by_name(e->obj, "hf_drops");
	if (e->direct_fd < 0 || e->far_fd < 0 || e->drops_fd < 0) {
		snprintf(err, errlen, "the BPF object lacks its maps");
		return -1;
	}
	return 0;
}

static int on_record(void *ctx, void *data, size_t size);

/* What a failure to open says about this host: a kernel or rights without
 * what the capture needs, or something that ran out. */
static enum capture_ebpf_lack lack_of(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOMEM ? CAPTURE_EBPF_FAILED
							 : CAPTURE_EBPF_UNAVAILABLE;
}

/* The kernel side: tcx there, the programs loaded (the verifier's word). */
static int open_kernel(struct capture_ebpf *e, enum capture_ebpf_lack *lack, char *err,
		       size_t errlen)
{
	uint32_t ids[1], n = 1;
	uint64_t rev;
	int lo;

	/* Read from /sys: a descriptor, which may be what ran out. */
	e->ncpu = libbpf_num_possible_cpus();
	if (e->ncpu <= 0) {
		*lack = lack_of(e->ncpu < 0 ? -e->ncpu : EINVAL);
		snprintf(err, errlen, "the possible CPUs: %s",
			 strerror(e->ncpu < 0 ? -e->ncpu : EINVAL));
		return -1;
	}
	if (!(e->drop_cpu = calloc((size_t)e->ncpu, sizeof *e->drop_cpu))) {
		*lack = CAPTURE_EBPF_FAILED;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* tcx is what pays only on sampled interfaces, without a clone: a
	 * query of lo's ingress hook says whether the kernel has it. */
	lo = (int)if_nametoindex("lo");
	if (tcx_query(lo ? lo : 1, TCX_INGRESS, ids, &n, &rev) < 0) {
		*lack = errno == EPERM ? CAPTURE_EBPF_NOT_PERMITTED : lack_of(errno);
		if (errno == EINVAL)
			snprintf(err, errlen, "the kernel has no tcx (Linux 6.6 or later)");
		else if (errno == EPERM)
			snprintf(err, errlen, "not permitted (CAP_BPF and CAP_NET_ADMIN needed)");
		else
			snprintf(err, errlen, "tcx query: %s", strerror(errno));
		return -1;
	}
	if (load(e, err, errlen) < 0) {
		*lack = lack_of(errno);
		return -1;
	}
	return 0;
}

static struct capture_ebpf *new_capture(void)
{
	struct capture_ebpf *e = calloc(1, sizeof *e);

	if (!e)
		return NULL;
	e->state_fd = e->work_fd = -1;
	e->prog[0] = e->prog[1] = e->direct_fd = e->far_fd = e->drops_fd = -1;
	e->snaplen = HF_MAX_HEADER;
	return e;
}

struct capture_ebpf *capture_ebpf_open(enum capture_ebpf_lack *lack, char *err, size_t errlen)
{
	struct capture_ebpf *e = new_capture();

	*lack = CAPTURE_EBPF_FAILED;
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (open_kernel(e, lack, err, errlen) < 0)
		goto fail;
	*lack = CAPTURE_EBPF_FAILED;
	e->rb = ring_buffer__new(bpf_object__find_map_fd_by_name(e->obj, "hf_ring"), on_record,
				 e, NULL);
	if (!e->rb) {
		snprintf(err, errlen, "ring buffer: %s", strerror(errno));
		goto fail;
	}
	e->work_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->work_fd < 0 || epoll_ctl(ring_buffer__epoll_fd(e->rb), EPOLL_CTL_ADD, e->work_fd,
					&(struct epoll_event){ .events = EPOLLIN }) < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	state_open(e);
	return e;
fail:
	capture_ebpf_close(e);
	return NULL;
}

int capture_ebpf_probe(enum capture_ebpf_lack *lack, char *err, size_t errlen)
{
	struct capture_ebpf *e = new_capture();
	int rc;

	*lack = CAPTURE_EBPF_FAILED;
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = open_kernel(e, lack, err, errlen);
	capture_ebpf_close(e);
	return rc;
}

static void detach_kindex(struct capture_ebpf *e, int kindex);
static void clear_rate(struct capture_ebpf *e, int kindex);

void capture_ebpf_close(struct capture_ebpf *e)
{
	size_t n = 0;
	int64_t t0;

	if (!e)
		return;
	/* Every program inert at once (no rate: it returns after one lookup),
	 * then detached one grace period at a time. */
	for (size_t i = 0; i < e->nports; i++)
		if (e->ports[i].state == PORT_ATTACHED)
			clear_rate(e, e->ports[i].kindex);
	t0 = monotonic_ms();
	for (size_t i = 0; i < e->nports; i++)
		if (e->ports[i].state == PORT_ATTACHED) {
			detach_kindex(e, e->ports[i].kindex);
			n++;
		}
	while (e->ngone)
		detach_kindex(e, e->gone[--e->ngone]);
	if (n > WORK_AT_ONCE)
		log_info("capture", "tc programs detached from %zu interfaces in %lld ms", n,
			 (long long)(monotonic_ms() - t0));
	/* Nothing of ours is attached now; the record goes unless it still
	 * names a predecessor's program that would not detach. */
	if (e->state_fd >= 0) {
		/* The directory goes with the last record (unless systemd's
		 * RuntimeDirectory holds it: /run is not ours to write then). */
		if (e->nstale == 0) {
			unlink(e->state_path);
			rmdir(CAPTURE_EBPF_STATE_DIR);
		} else {
			e->prog_id[0] = e->prog_id[1] = 0;
			write_record(e);
		}
		close(e->state_fd);
	}
	if (e->work_fd >= 0)
		close(e->work_fd);
	ring_buffer__free(e->rb);
	bpf_object__close(e->obj);
	free(e->judge);
	free(e->ports);
	free(e->gone);
	free(e->drop_cpu);
	free(e);
}

/* ---- rules ---- */

static int port_cmp(const void *a, const void *b)
{
	const struct port *x = a, *y = b;

	return (x->kindex > y->kindex) - (x->kindex < y->kindex);
}

static struct port *find_port(struct port *v, size_t n, int kindex)
{
	struct port key = { .kindex = kindex };

	return n ? bsearch(&key, v, n, sizeof *v, port_cmp) : NULL;
}

/* The new table: the rules capture.c did not refuse. */
static int build(const struct capture_rule *rules, size_t n,
		 const enum capture_refusal *refused, struct port *out, size_t *nout,
		 char *err, size_t errlen)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct capture_rule *c = &rules[i];

		if (refused[i] != CAPTURE_SAMPLED)
			continue;
		if (c->kindex <= 0 || c->rate < 1) {
			snprintf(err, errlen, "kindex %d: bad rule (rate %u)", c->kindex, c->rate);
			return -1;
		}
		out[k++] = (struct port){ .kindex = c->kindex, .arphrd = c->arphrd,
					  .rate = c->rate };
	}
	qsort(out, k, sizeof *out, port_cmp);
	for (size_t i = 1; i < k; i++)
		if (out[i].kindex == out[i - 1].kindex) {
			snprintf(err, errlen, "kindex %d: two rules", out[i].kindex);
			return -1;
		}
	*nout = k;
	return 0;
}

/* The interface's draw threshold where the program looks for it. */
static int set_rate(struct capture_ebpf *e, int kindex, uint32_t rate)
{
	uint32_t key = (uint32_t)kindex, t = hf_ebpf_threshold(rate);

	return bpf_map_update_elem(key < HF_EBPF_DIRECT ? e->direct_fd : e->far_fd, &key, &t,
				   BPF_ANY);
}

/* 0 (or no entry): the program lets every packet of the interface pass. */
static void clear_rate(struct capture_ebpf *e, int kindex)
{
	uint32_t key = (uint32_t)kindex, zero = 0;

	if (key < HF_EBPF_DIRECT)
		bpf_map_update_elem(e->direct_fd, &key, &zero, BPF_ANY);
	else
		bpf_map_delete_elem(e->far_fd, &key);
}

/* Detaches both programs from an interface; one that is gone took them. */
static void detach_kindex(struct capture_ebpf *e, int kindex)
{
	for (int d = 0; d < 2; d++)
		if (tcx_detach(e->prog[d], kindex, tcx_type[d]) < 0 && errno != ENODEV &&
		    errno != ENOENT)
			log_debug("capture", "kindex %d: tcx detach (%s): %s", kindex, tcx_name[d],
				  strerror(errno));
}

/* Rate first, then the programs: ingress first among the hook's programs
 * (a packet socket sees a packet before tc can drop it), egress last (it
 * sees what is sent, after tc). An interface the kernel refuses is named
 * in the log and left unsampled; one that vanished meanwhile is let be. */
static void attach_port(struct capture_ebpf *e, struct port *p)
{
	static const uint32_t where[2] = { TCX_F_BEFORE, 0 };
	int d, saved;

	if (set_rate(e, p->kindex, p->rate) < 0) {
		saved = errno;
		d = -1;
	} else {
		for (d = 0; d < 2; d++)
			/* EEXIST: still there from before it was let go. */
			if (tcx_attach(e->prog[d], p->kindex, tcx_type[d], where[d]) < 0 &&
			    errno != EEXIST)
				break;
		if (d == 2) {
			p->state = PORT_ATTACHED;
			return;
		}
		saved = errno;
	}
	if (saved != ENODEV) {
		char name[IF_NAMESIZE] = "?";

		if_indextoname((unsigned)p->kindex, name);
		log_warn("capture", "%s (kindex %d): %s: %s: not sampled", name, p->kindex,
			 d < 0 ? "rate map" : d ? "tcx attach (egress)" : "tcx attach (ingress)",
			 strerror(saved));
	}
	if (d == 1)
		tcx_detach(e->prog[0], p->kindex, tcx_type[0]);
	clear_rate(e, p->kindex);
	p->state = saved == ENODEV ? PORT_GONE : PORT_FAILED;
	/* Said to the sampler (capture_ebpf_take_refused): never silent. */
	if (p->state == PORT_FAILED) {
		if (e->nlate < LATE_MAX)
			e->late[e->nlate++] = p->kindex;
		else
			e->late_lost++;
	}
}

/* Attaching or detaching a tcx program waits for an RCU grace period (the
 * kernel swaps the hook's program array under rtnl): ~2-20 ms, so 1000
 * interfaces take tens of seconds. The sampler does this work in steps of
 * budget_ms (0: all of it) between drains, never in one long stall.
 * Returns 1 while work is left. */
static int do_work(struct capture_ebpf *e, int64_t budget_ms)
{
	int64_t t0 = monotonic_ms();

	while (e->ngone) {
		if (budget_ms && monotonic_ms() - t0 >= budget_ms)
			return 1;
		detach_kindex(e, e->gone[--e->ngone]);
	}
	for (; e->work_next < e->nports; e->work_next++) {
		struct port *p = &e->ports[e->work_next];

		if (p->state != PORT_PENDING)
			continue;
		if (budget_ms && monotonic_ms() - t0 >= budget_ms)
			return 1;
		attach_port(e, p);
	}
	return 0;
}

/* The sampler polls the ring's epoll fd: the work eventfd in it keeps it
 * readable while attaching is left to do. */
static void work_step(struct capture_ebpf *e, int64_t budget_ms)
{
	uint64_t v;

	if (!e->work_pending)
		return;
	e->work_steps++;
	if (do_work(e, budget_ms))
		return;
	e->work_pending = 0;
	if (read(e->work_fd, &v, sizeof v) < 0 && errno != EAGAIN)
		log_debug("capture", "work eventfd: %s", strerror(errno));
	if (e->work_steps > 1)
		log_info("capture", "tc programs attached to %zu interfaces in %lld ms",
			 capture_ebpf_attached(e), (long long)(monotonic_ms() - e->work_t0));
	e->work_steps = 0;
}

static void start_work(struct capture_ebpf *e, size_t pending)
{
	uint64_t one = 1;

	if (!pending && !e->ngone)
		return;
	if (!e->work_pending)
		e->work_t0 = monotonic_ms();
	e->work_pending = 1;
	e->work_next = 0;
	/* A few interfaces (a VM, a new container) at once, so they are
	 * sampled when the log says so; more in steps. */
	work_step(e, pending + e->ngone <= WORK_AT_ONCE ? 0 : WORK_STEP_MS);
	if (e->work_pending && write(e->work_fd, &one, sizeof one) < 0 && errno != EAGAIN)
		log_debug("capture", "work eventfd: %s", strerror(errno));
}

/* Kindexes whose detach waits for a step: a first room of this many. */
#define GONE_FIRST 64

static int push_gone(struct capture_ebpf *e, int kindex)
{
	if (hf_grow(&e->gone, e->ngone, &e->capgone, sizeof *e->gone, GONE_FIRST) < 0)
		return -1;
	e->gone[e->ngone++] = kindex;
	return 0;
}

int capture_ebpf_set_rules(struct capture_ebpf *e, const struct capture_rule *rules, size_t n,
			   enum capture_refusal *refused, struct sock_filter *judge,
			   size_t judge_len, uint32_t snaplen, char *why, size_t whylen)
{
	struct port *next = calloc(n ? n : 1, sizeof *next);
	size_t i, pending = 0, k, nnext = 0;
	int said = 0;

	if (!next) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	if (snaplen < 1 || snaplen > HF_MAX_HEADER) {
		snprintf(why, whylen, "snap length %u not in 1..%d", snaplen, HF_MAX_HEADER);
		goto fail;
	}
	if (build(rules, n, refused, next, &nnext, why, whylen) < 0)
		goto fail;
	/* Let go first: a program detached later, but inert at once. */
	for (i = 0; i < e->nports; i++) {
		const struct port *p = &e->ports[i];

		if (find_port(next, nnext, p->kindex) || p->state != PORT_ATTACHED)
			continue;
		clear_rate(e, p->kindex);
		if (push_gone(e, p->kindex) < 0) {
			detach_kindex(e, p->kindex);   /* no room to defer: now */
			log_warn("capture", "out of memory: detached kindex %d at once",
				 p->kindex);
		}
	}
	/* Taken again before its detach came: not to be detached. */
	for (i = k = 0; i < e->ngone; i++)
		if (!find_port(next, nnext, e->gone[i]))
			e->gone[k++] = e->gone[i];
	e->ngone = k;
	for (i = 0; i < nnext; i++) {
		struct port *old = find_port(e->ports, e->nports, next[i].kindex);

		if (old && old->state == PORT_ATTACHED) {
			next[i].state = PORT_ATTACHED;
			if (old->rate != next[i].rate && set_rate(e, next[i].kindex, next[i].rate) < 0)
				log_warn("capture", "kindex %d: rate map: %s", next[i].kindex,
					 strerror(errno));
		} else {
			next[i].state = PORT_PENDING;
			pending++;
		}
	}
	free(e->ports);
	e->ports = next;
	e->nports = nnext;
	free(e->judge);
	e->judge = judge;
	e->judge_len = judge_len;
	e->snaplen = snaplen;
	/* What an earlier call's steps refused is of rules no longer in force. */
	e->nlate = 0;
	e->late_lost = 0;
	start_work(e, pending);
	/* Those refused in this call's own attaches are its refusals. */
	for (i = 0; i < n; i++) {
		const struct port *p;

		if (refused[i] != CAPTURE_SAMPLED)
			continue;
		p = find_port(e->ports, e->nports, rules[i].kindex);
		if (p && p->state == PORT_FAILED) {
			refused[i] = CAPTURE_NO_ATTACH;
			if (!said++ && !why[0])
				snprintf(why, whylen, "the kernel refused a tc program's attach (the "
					 "log says why)");
		}
	}
	e->nlate = 0;
	return 0;
fail:
	free(next);
	free(judge);
	return -1;
}

size_t capture_ebpf_take_refused(struct capture_ebpf *e, int *kindex, size_t max)
{
	size_t n = e->nlate < max ? e->nlate : max;

	memcpy(kindex, e->late, n * sizeof *kindex);
	memmove(e->late, e->late + n, (e->nlate - n) * sizeof *e->late);
	e->nlate -= n;
	if (!e->nlate && e->late_lost) {
		log_warn("capture", "%u more interfaces refused by tcx attach are not named in "
			 "the status", e->late_lost);
		e->late_lost = 0;
	}
	return n;
}

/* ---- the ring ---- */

static int on_record(void *ctx, void *data, size_t size)
{
	struct capture_ebpf *e = ctx;
	struct drain_ctx *d = e->drain;
	const struct port *p = find_port(e->ports, e->nports, tcsample_kindex(data, size));
	struct tcsample_judge judge = { e->judge, e->judge_len };
	struct tcsample_frame tf;

	d->seen++;
	/* A sample of an interface no longer sampled was taken under the
	 * old rules: nobody reports it any more. */
	if (p && e->judge) {
		enum tcsample_verdict v = tcsample_frame(data, size, p->arphrd, &judge, e->snaplen,
							 e->buf, &tf);
		struct capture_frame f = { .kindex = tf.kindex, .data = tf.data,
					   .caplen = tf.caplen, .len = tf.len,
					   .outgoing = tf.outgoing,
					   .rejected = v == TCSAMPLE_REJECTED };

		/* Drawn but not a sample: counted out of the pool, as the
		 * packet socket's marks are. */
		if (v != TCSAMPLE_BAD)
			d->fn(d->ctx, &f);
	}
	return d->seen >= d->max ? DRAIN_FULL : 0;
}

unsigned capture_ebpf_drain(struct capture_ebpf *e, unsigned max, capture_fn fn, void *ctx)
{
	struct drain_ctx d = { fn, ctx, max, 0 };
	int rc;

	work_step(e, WORK_STEP_MS);
	if (!max)
		return 0;
	e->drain = &d;
	rc = ring_buffer__consume(e->rb);
	e->drain = NULL;
	if (rc < 0 && rc != DRAIN_FULL)
		log_debug("capture", "ring buffer: %s", strerror(-rc));
	return d.seen;
}

int capture_ebpf_fd(const struct capture_ebpf *e)
{
	return ring_buffer__epoll_fd(e->rb);
}

uint32_t capture_ebpf_take_drops(struct capture_ebpf *e)
{
	uint32_t key = 0;
	uint64_t total = 0, d;

	if (bpf_map_lookup_elem(e->drops_fd, &key, e->drop_cpu) < 0)
		return 0;
	for (int i = 0; i < e->ncpu; i++)
		total += e->drop_cpu[i];
	d = total - e->drops_seen;
	e->drops_seen = total;
	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

unsigned capture_ebpf_ring_frames(const struct capture_ebpf *e)
{
	/* A record is its 8-byte header and the sample, rounded to 8. */
	(void)e;
	return HF_EBPF_RING_BYTES / (8 + ((sizeof(struct hf_ebpf_sample) + 7) & ~7u));
}

size_t capture_ebpf_ring_bytes(const struct capture_ebpf *e)
{
	(void)e;
	return HF_EBPF_RING_BYTES;
}

size_t capture_ebpf_attached(const struct capture_ebpf *e)
{
	size_t n = 0;

	for (size_t i = 0; i < e->nports; i++)
		n += e->ports[i].state == PORT_ATTACHED;
	return n;
}
