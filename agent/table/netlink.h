/* The kernel side: links of this network namespace through libnl-route-3.
 * Produces plain structs; knows nothing of SNMP, sFlow or ifIndex policy. */
#ifndef HF_NETLINK_H
#define HF_NETLINK_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hf_types.h"

/* One link as the kernel reports it. */
struct kernel_link {
	int kindex;
	char name[IFNAMSIZ];
	char alias[256];          /* IFLA_IFALIAS, "" when none */
	unsigned arphrd;          /* ARPHRD_* */
	uint32_t iftype;          /* IANAifType, from netlink_iftype() */
	uint32_t mtu;
	uint8_t mac[32];
	uint8_t maclen;
	int admin_up;             /* IFF_UP */
	int promisc;              /* IFF_PROMISC */
	int oper;                 /* IF-MIB ifOperStatus 1..7, netlink_oper_status() */
	uint64_t speed_bps;       /* ethtool; 0 when unknown */
	enum if_duplex duplex;    /* ethtool; unknown when it does not say */
	struct if_counters ctr;
};

struct netlink;

/* Opens the event socket (RTNLGRP_LINK) and the dump socket. */
struct netlink *netlink_open(char *err, size_t errlen);
void netlink_close(struct netlink *nl);
/* fd to poll for link events. */
int netlink_event_fd(const struct netlink *nl);
/* Reads all pending events without blocking and applies them to the link
 * list kept here (RTM_NEWLINK carries the whole link; RTM_DELLINK removes
 * it). Returns 1 when links changed (netlink_links() has them), 0 when
 * nothing did, -1 when events were lost (ENOBUFS) or could not be applied:
 * the caller must dump. Links changed by events keep the counters of the
 * last dump (an event may be older than the dump): counters come from
 * dumps. */
int netlink_drain_events(struct netlink *nl);
/* Dumps every link of the namespace, one entry per kernel ifindex (libnl can
 * hold a second AF_INET6 object per ifindex: de-duplicated here), and makes
 * it the list events update. Speed is read with ethtool only for new links
 * and links whose flags, operstate or name changed since last seen. *out is
 * malloc'd, caller frees. Returns 0 or -1. Logs one debug line per dump. */
int netlink_dump(struct netlink *nl, struct kernel_link **out, size_t *n);
/* The list as the last dump and the events since left it, sorted by kindex:
 * a malloc'd copy, caller frees. Returns 0 or -1. */
int netlink_links(struct netlink *nl, struct kernel_link **out, size_t *n);

/* ifOperStatus (1..7) for IFLA_OPERSTATE and the link's IFF_* flags: the one
 * rule (IF-MIB and the sFlow counter sample's ifStatus). Admin down: down(2);
 * UNKNOWN: up(1) with IFF_UP and IFF_LOWER_UP (carrier), else down(2). */
int netlink_oper_status(uint8_t operstate, unsigned flags);

/* IANAifType for an ARPHRD_* value: the one mapping used by IF-MIB and sFlow. */
uint32_t netlink_iftype(unsigned arphrd);

#endif
