/* The kernel's routing, mirrored: the routes of every table, the policy
 * rules, the links' names, groups and flags, the IPv4 per-interface switches
 * (forwarding, rp_filter, accept_local, route_localnet) and which links hold
 * IPv4 addresses, kept from rtnetlink dumps and events (route.c feeds them
 * in, in the order the kernel sent them), and the kernel's lookups answered
 * from them without a system call: what RTM_GETROUTE with RTM_F_FIB_MATCH
 * says for a packet arriving on an interface (ip_route_input: the rules,
 * the tables' longest match, the martian, forwarding and reverse-path
 * checks) or sent by the host (ip_route_output).
 *
 * Pure: no I/O, no clock (callers pass the time). Bounded: at most
 * FIB_MAX_ROUTES routes and FIB_MAX_RULES rules; past that a family's
 * answers are FIB_UNKNOWN until a re-dump fits again.
 *
 * What is not mirrored (the answer is then the kernel's ordinary one as if
 * it were absent, or FIB_UNKNOWN where said): the path an ECMP route hashes
 * a flow to (the answer says multipath: the output and next hop are known
 * only when every path shares them); VRF (l3mdev) rules, which never match
 * here; rule selectors on ports, protocol, TOS and marks are evaluated for a
 * flow with all of them 0, as RTM_GETROUTE asks; IPv6 neighbour reachability
 * (only consulted by the kernel while IPv6 forwarding is off); the kernel's
 * choice among equal-metric IPv4 default routes by neighbour state. */
#ifndef HF_FIB_H
#define HF_FIB_H

#include <linux/netlink.h>
#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hf_types.h"

/* Bounds: a host's routing, with room for a few thousand containers or
 * tailnet peers; a full BGP table does not fit (its family's lookups say
 * unknown, and the log says why). About 100 bytes a route. */
#define FIB_MAX_ROUTES 65536
#define FIB_MAX_RULES  1024
#define FIB_MAX_PATHS  64     /* of one multipath route: the kernel allows more */

struct fib;

/* One next hop of a route. */
struct fib_path {
	int oif;                  /* 0: none (a reject route) */
	struct hf_addr gw;        /* family 0: on-link */
	uint8_t flags;            /* RTNH_F_DEAD, RTNH_F_LINKDOWN */
};

/* One route (a FIB alias): what an RTM_NEWROUTE describes. */
struct fib_route {
	uint8_t family;           /* AF_INET, AF_INET6 */
	uint8_t dst_len, src_len; /* src_len: IPv6 source routing only */
	uint8_t tos;
	uint8_t type;             /* RTN_* */
	uint8_t scope, protocol;
	uint8_t pref;             /* IPv6 router preference (RTA_PREF) */
	uint32_t table, priority;
	uint8_t dst[16], src[16];
	struct hf_addr prefsrc;   /* family 0: none */
	int64_t expires_ms;       /* IPv6 routes that expire (router advertisements): when; 0 never */
	uint32_t nh_id;           /* a nexthop object (RTA_NH_ID); 0 none */
	size_t npaths;            /* 0 for reject routes without a device */
	struct fib_path path[FIB_MAX_PATHS];
};

/* One policy rule: what an RTM_NEWRULE describes. */
struct fib_rule {
	uint8_t family;
	uint8_t action;           /* FR_ACT_* */
	uint8_t src_len, dst_len, tos, ip_proto;
	uint8_t invert, l3mdev;
	uint32_t priority, table, target;   /* target: FR_ACT_GOTO's priority */
	uint32_t mark, mask;
	int32_t suppress_prefixlen, suppress_ifgroup;   /* -1: none */
	uint32_t uid_start, uid_end;
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;  /* 0, 0: any */
	uint64_t tun_id;
	uint8_t src[16], dst[16];
	char iifname[IFNAMSIZ], oifname[IFNAMSIZ];   /* "": any */
};

/* What a change did to the mirror. */
enum fib_change {
	FIB_SAME = 0,             /* nothing the lookups depend on */
	FIB_CHANGED = 1,          /* applied: earlier answers may be stale */
	FIB_REDUMP = 2,           /* the kernel changed routes without telling
				   * (a link down or away, an address gone): the
				   * routes must be dumped again (with FIB_CHANGED) */
	FIB_RESYNC = 4,           /* the mirror could not take what it was told (out of
				   * memory): everything must be read again into a new
				   * one; its answers are unknown meanwhile */
};

/* NULL when out of memory. */
struct fib *fib_new(void);
void fib_free(struct fib *f);

/* ---- filling it ---- */

/* Applies one rtnetlink message of the kinds the mirror keeps, from a dump
 * or an event: RTM_NEWROUTE, RTM_DELROUTE (NLM_F_REPLACE and NLM_F_APPEND
 * place a new route as the kernel did), RTM_NEWRULE, RTM_DELRULE,
 * RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR, RTM_DELADDR, RTM_NEWNETCONF,
 * RTM_DELNETCONF; anything else is FIB_SAME. Cloned and cached routes are
 * ignored. now: monotonic ms (IPv6 expiry times). Pure: n is read only up to
 * n->nlmsg_len, which the caller has checked against what it received. */
enum fib_change fib_apply(struct fib *f, const struct nlmsghdr *n, int64_t now);
/* Forgets every route of both families (before a re-dump). */
void fib_clear_routes(struct fib *f);
/* IPv4 switches the kernel announces no change of: accept_local and
 * route_localnet of kindex (0: "all"), read by the shell from /proc. */
void fib_set_v4_conf(struct fib *f, int kindex, int accept_local, int route_localnet);

/* Whether the mirror knows link kindex (has had its link message). */
int fib_link_known(const struct fib *f, int kindex);
/* A known link's name (into name, len bytes) and IFF_* flags: 1, or 0. */
int fib_link_info(const struct fib *f, int kindex, char *name, size_t len, unsigned *flags);
/* While set, every answer is FIB_UNKNOWN: a re-dump failed half way. */
void fib_set_incomplete(struct fib *f, int incomplete);

/* Routes held, of one family (statistics). */
size_t fib_route_count(const struct fib *f, int family);

/* ---- asking it ---- */

enum fib_verdict {
	FIB_FOUND = 0,            /* *a is filled */
	FIB_NOROUTE = 1,          /* the kernel would say: no route (an error) */
	FIB_UNKNOWN = 2,          /* the mirror cannot tell (overflowed) */
};

/* The kernel's answer to one question. */
struct fib_answer {
	uint8_t type;             /* RTN_UNICAST, RTN_LOCAL, RTN_BROADCAST, ... */
	uint8_t dst_len;          /* the matching route's prefix length */
	uint8_t multipath;        /* several paths: oif and gw below only when shared */
	uint8_t gw_known;         /* 0: the path (so the next hop) is not known */
	int oif;                  /* 0: unknown or none */
	struct hf_addr gw;        /* family 0 with gw_known: on-link */
};

/* A packet from src to dst arriving on kernel ifindex iif: what
 * RTM_GETROUTE with RTA_DST, RTA_SRC, RTA_IIF and RTM_F_FIB_MATCH answers
 * (ip_route_input: for IPv4 the martian, forwarding and reverse-path checks
 * included, which turn into FIB_NOROUTE). */
enum fib_verdict fib_input(const struct fib *f, int family, const uint8_t *dst,
			   const uint8_t *src, int iif, int64_t now, struct fib_answer *a);
/* The route the host itself would send a packet to dst by (no source, no
 * interface: ip_route_output). */
enum fib_verdict fib_output(const struct fib *f, int family, const uint8_t *dst,
			    int64_t now, struct fib_answer *a);

/* ---- the cells: where answers stay the same ---- */

/* Every answer above depends on dst and src only through which route
 * prefixes and rule selectors (and special ranges: loopback, multicast...)
 * cover them. The address space is cut at every such prefix's edges into
 * cells; two addresses of one cell get the same answers. The cell of an
 * address in *cell (a number, valid until the generation changes): 0, or
 * -1 when out of memory. */
int fib_cell(struct fib *f, int family, const uint8_t *a, uint32_t *cell);
/* Changes whenever an answer may have: every applied change, and when an
 * IPv6 route expires (now passes its time). */
uint64_t fib_generation(struct fib *f, int64_t now);

#endif
