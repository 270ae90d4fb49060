/* rtnetlink messages built as the kernel sends them, applied to a routing
 * mirror (sflow/core/fib.h): how the tests fill one. Tests only. */
#ifndef HF_FIBMSG_H
#define HF_FIBMSG_H

#include <linux/rtnetlink.h>
#include <stddef.h>
#include <stdint.h>

#include "sflow/core/fib.h"

/* A message being built: fibmsg_begin, then its attributes, then
 * fib_apply(f, &m.n, now). */
struct fibmsg {
	union {
		struct nlmsghdr n;
		uint8_t b[4096];
	};
};

/* Starts m as a message of type with flags and a family header of hdr
 * bytes (zeroed), which it returns. */
void *fibmsg_begin(struct fibmsg *m, uint16_t type, uint16_t flags, size_t hdr);
/* Appends attribute type of len bytes from d (left zero when d is NULL);
 * NULL when m has no room for it. */
struct rtattr *fibmsg_attr(struct fibmsg *m, unsigned short type, const void *d, size_t len);
struct rtattr *fibmsg_u32(struct fibmsg *m, unsigned short type, uint32_t v);
/* An address's length in family. */
size_t fibmsg_alen(int family);

/* An RTM_NEWROUTE / RTM_DELROUTE of r (RTA_MULTIPATH when it has several
 * paths), with nlmsg_flags flags, at time now. */
enum fib_change fibmsg_route(struct fib *f, uint16_t type, uint16_t flags, const struct fib_route *r,
			     int64_t now);
/* An RTM_NEWRULE / RTM_DELRULE of r. */
enum fib_change fibmsg_rule(struct fib *f, uint16_t type, const struct fib_rule *r);
/* An RTM_NEWLINK / RTM_DELLINK. */
enum fib_change fibmsg_link(struct fib *f, uint16_t type, int kindex, const char *name,
			    unsigned flags);
/* An RTM_NEWNETCONF of family for kindex (-1: all); a switch < 0 is left out. */
enum fib_change fibmsg_netconf(struct fib *f, int family, int kindex, int forwarding,
			       int rp_filter);
/* An RTM_NEWADDR / RTM_DELADDR of address a (IFA_LOCAL) on kindex. */
enum fib_change fibmsg_addr(struct fib *f, uint16_t type, int family, int kindex,
			    const uint8_t *a);
/* A rule to a table at a priority, as `ip rule add pref P table T` makes. */
enum fib_change fibmsg_rule_to(struct fib *f, int family, uint32_t priority, uint32_t table);

#endif
