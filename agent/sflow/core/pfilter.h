/* pcap-filter(7) expressions compiled to classic BPF by libpcap, the
 * well-kept compiler (pcap_open_dead + pcap_compile: no capture, no socket).
 * Pure apart from libpcap's own name look-ups: an expression naming a host
 * (`host example.org`) is resolved by libpcap while compiling, so callers on
 * the agent thread should expect numeric addresses to be the fast case. */
#ifndef HF_PFILTER_H
#define HF_PFILTER_H

#include <linux/filter.h>
#include <stddef.h>

#define PFILTER_EXPR_MAX 1024   /* bytes of one expression, without the NUL */

/* Link types (pcap DLT_*) a filter is compiled for. */
enum { PFILTER_DLT_EN10MB = 1, PFILTER_DLT_RAW = 12 };

/* The link type a packet socket shows for an interface of type ARPHRD_*:
 * Ethernet framing for ETHER and LOOPBACK, bare IP for everything else
 * (NONE = tun, 65534 = wireguard, IPIP, ...). */
int pfilter_dlt_for_arphrd(unsigned arphrd);

/* Compiles expr for link type dlt. Returns 0 and a malloc'd program in
 * *prog (caller frees) of *len instructions, or -1 with libpcap's message
 * (or "expression longer than N bytes") in err. */
int pfilter_compile(const char *expr, int dlt, struct sock_filter **prog, size_t *len,
		    char *err, size_t errlen);

struct config;
/* Compiles every `sample ... filter` of cfg (for Ethernet; the sampler
 * compiles each again for the link type of the interfaces it applies to).
 * Returns 0, or -1 with "FILE:LINE: filter "EXPR": libpcap's message". The
 * daemon runs it after config_load, for -t, a start and a reload alike. */
int pfilter_check_config(const struct config *cfg, char *err, size_t errlen);

/* Compiled programs kept per (expression, link type), so that a reload or a
 * new interface does not recompile what is already known. */
struct pfilter_cache;

struct pfilter_cache *pfilter_cache_new(void);
void pfilter_cache_free(struct pfilter_cache *pc);
/* The program of (expr, dlt), compiled on first use; the pointer stays valid
 * until pfilter_cache_prune() drops the entry or the cache is freed.
 * Returns NULL with libpcap's message in err. */
const struct sock_filter *pfilter_cache_get(struct pfilter_cache *pc, const char *expr,
					    int dlt, size_t *len, char *err, size_t errlen);
/* Frees entries not returned by pfilter_cache_get() since the last prune. */
void pfilter_cache_prune(struct pfilter_cache *pc);

#endif
