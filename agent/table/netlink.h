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
};

struct netlink;

/* Opens the event socket (RTNLGRP_LINK) and the dump socket. */
struct netlink *netlink_open(char *err, size_t errlen);
void netlink_close(struct netlink *nl);
/* fd to poll for link events. */
int netlink_event_fd(const struct netlink *nl);
/* What a drain of the events did to the link list. */
enum netlink_events {
	NETLINK_UNCHANGED,    /* nothing that changes a link */
	NETLINK_CHANGED,      /* links changed: netlink_links() has them */
	NETLINK_LOST,         /* events lost (ENOBUFS) or not applied: dump */
};
/* Reads all pending events without blocking and applies them to the link
 * list kept here (RTM_NEWLINK carries the whole link; RTM_DELLINK removes
 * it). */
enum netlink_events netlink_drain_events(struct netlink *nl);
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

/* The kernel's struct rtnl_link_stats64 as IF-MIB and sFlow counters: the
 * one mapping (netlink.c says which field is which). */
struct rtnl_link_stats64;
void netlink_counters(const struct rtnl_link_stats64 *st, struct if_counters *c);

/* Counters, apart from the links' structure, through a struct link_stats
 * (opened by link_stats_open, snapshot.h): a plain rtnetlink socket asking
 * for IFLA_STATS_LINK_64 only (RTM_GETSTATS), never a link dump. */
struct link_stats;
/* Counters of kernel ifindex kindex now: 0, or -1 when the link is gone. */
int link_stats_read(struct link_stats *s, int kindex, struct if_counters *out);
/* Every link's counters in one dump: fn(ctx, kindex, counters) per link.
 * 0, or -1 when the kernel did not answer in full. */
int link_stats_dump(struct link_stats *s,
		    void (*fn)(void *ctx, int kindex, const struct if_counters *c), void *ctx);

#endif
