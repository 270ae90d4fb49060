#include "sflow/agentaddr.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* The first room for the host's addresses: a VM has a handful. */
#define AGENTADDR_FIRST_CAP 16

/* Global: not unspecified, loopback, link-local, multicast or v4-mapped. */
static int addr_is_global(const struct hf_addr *a)
{
	if (a->family == AF_INET) {
		uint32_t v = (uint32_t)a->a[0] << 24 | (uint32_t)a->a[1] << 16 |
			     (uint32_t)a->a[2] << 8 | a->a[3];

		return !(v == 0 || (v >> 24) == 127 || (v >> 16) == 0xA9FE || (v >> 28) == 0xE);
	}
	if (a->family == AF_INET6) {
		const struct in6_addr *a6 = (const struct in6_addr *)(const void *)a->a;

		return !(IN6_IS_ADDR_UNSPECIFIED(a6) || IN6_IS_ADDR_LOOPBACK(a6) ||
			 IN6_IS_ADDR_LINKLOCAL(a6) || IN6_IS_ADDR_MULTICAST(a6) ||
			 IN6_IS_ADDR_V4MAPPED(a6));
	}
	return 0;
}

/* First global address of ifname, or of any up non-loopback interface when
 * ifname is NULL. */
static const struct hf_addr *find_global(const struct agentaddr_cand *c, size_t n,
					 const char *ifname)
{
	for (size_t i = 0; i < n; i++) {
		if (ifname && strcmp(c[i].ifname, ifname) != 0)
			continue;
		if (!ifname && (!(c[i].flags & IFF_UP) || (c[i].flags & IFF_LOOPBACK)))
			continue;
		if (addr_is_global(&c[i].addr))
			return &c[i].addr;
	}
	return NULL;
}

static void take(struct hf_addr *out, const struct hf_addr *a)
{
	out->family = a->family;
	memcpy(out->a, a->a, a->family == AF_INET6 ? 16 : 4);
}

enum agentaddr_source agentaddr_pick(const struct hf_addr *configured, const char *ifname,
				     const struct agentaddr_cand *c, size_t n, struct hf_addr *out)
{
	const struct hf_addr *a;

	memset(out, 0, sizeof *out);
	if (configured && configured->family) {
		take(out, configured);
		return AGENTADDR_CHOSEN;
	}
	if (ifname && ifname[0] && (a = find_global(c, n, ifname))) {
		take(out, a);
		return AGENTADDR_CHOSEN;
	}
	if ((a = find_global(c, n, NULL))) {
		take(out, a);
		return ifname && ifname[0] ? AGENTADDR_OTHER : AGENTADDR_CHOSEN;
	}
	out->family = AF_INET;
	out->a[0] = 127;
	out->a[3] = 1;
	return AGENTADDR_LOOPBACK;
}

enum agentaddr_source agentaddr_choose(const struct hf_addr *configured,
				       const char *ifname, struct hf_addr *out)
{
	struct ifaddrs *list = NULL;
	struct agentaddr_cand *c = NULL;
	size_t n = 0, cap = 0;
	enum agentaddr_source src;

	if (!(configured && configured->family) && getifaddrs(&list) == 0) {
		for (const struct ifaddrs *i = list; i; i = i->ifa_next) {
			const struct sockaddr *sa = i->ifa_addr;

			if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
				continue;
			/* Out of memory: chosen among those read so far. */
			if (hf_grow(&c, n, &cap, sizeof *c, AGENTADDR_FIRST_CAP) < 0)
				break;
			memset(&c[n], 0, sizeof c[n]);
			hf_strlcpy(c[n].ifname, i->ifa_name, sizeof c[n].ifname);
			c[n].flags = i->ifa_flags;
			c[n].addr.family = sa->sa_family;
			if (sa->sa_family == AF_INET)
				memcpy(c[n].addr.a, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
			else
				memcpy(c[n].addr.a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
			n++;
		}
		freeifaddrs(list);
	}
	src = agentaddr_pick(configured, ifname, c, n, out);
	free(c);
	return src;
}
