#include "sflow/agentaddr.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>

/* Global: not unspecified, loopback, link-local, multicast or v4-mapped. */
static int addr_is_global(const struct sockaddr *sa, struct hf_addr *out)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		uint32_t a = ntohl(in->sin_addr.s_addr);

		if (a == 0 || (a >> 24) == 127 || (a >> 16) == 0xA9FE || (a >> 28) == 0xE)
			return 0;
		out->family = AF_INET;
		memcpy(out->a, &in->sin_addr, 4);
		return 1;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 =
			&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		if (IN6_IS_ADDR_UNSPECIFIED(a6) || IN6_IS_ADDR_LOOPBACK(a6) ||
		    IN6_IS_ADDR_LINKLOCAL(a6) || IN6_IS_ADDR_MULTICAST(a6) ||
		    IN6_IS_ADDR_V4MAPPED(a6))
			return 0;
		out->family = AF_INET6;
		memcpy(out->a, a6, 16);
		return 1;
	}
	return 0;
}

/* First global address of ifname, or of any up non-loopback interface when
 * ifname is NULL. */
static int find_global(const struct ifaddrs *list, const char *ifname, struct hf_addr *out)
{
	for (const struct ifaddrs *i = list; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (ifname && strcmp(i->ifa_name, ifname) != 0)
			continue;
		if (!ifname && (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)))
			continue;
		if (addr_is_global(i->ifa_addr, out))
			return 1;
	}
	return 0;
}

enum agentaddr_source agentaddr_choose(const struct hf_addr *configured,
				       const char *ifname, struct hf_addr *out)
{
	enum agentaddr_source src = AGENTADDR_LOOPBACK;
	struct ifaddrs *list = NULL;

	memset(out, 0, sizeof *out);
	if (configured && configured->family) {
		out->family = configured->family;
		memcpy(out->a, configured->a, out->family == AF_INET6 ? 16 : 4);
		return AGENTADDR_CHOSEN;
	}
	if (getifaddrs(&list) == 0) {
		if (ifname && ifname[0] && find_global(list, ifname, out))
			src = AGENTADDR_CHOSEN;
		else if (find_global(list, NULL, out))
			src = ifname && ifname[0] ? AGENTADDR_OTHER : AGENTADDR_CHOSEN;
		freeifaddrs(list);
	}
	if (src == AGENTADDR_LOOPBACK) {
		memset(out, 0, sizeof *out);
		out->family = AF_INET;
		out->a[0] = 127;
		out->a[3] = 1;
	}
	return src;
}
