/* hostflowd.conf: a line-based file, parsed into one immutable struct.
 * Every error is reported as "FILE:LINE: message", or "FILE: message" when the
 * file itself cannot be read. Nothing here touches the network except
 * config_resolve(). */
#ifndef HF_CONFIG_H
#define HF_CONFIG_H

#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/hf_types.h"
#include "base/refcount.h"

#define CFG_DEFAULT_AGENTX     "/var/agentx/master"
/* Seconds between retries of IF-MIB registrations the AgentX master refused
 * (regwatch.c): each retry costs snmpd one Register per refused subtree, and
 * an operator fixing snmpd waits at most this long; an hour bounds the wait. */
#define CFG_DEFAULT_AGENTX_RETRY 30
#define CFG_MAX_AGENTX_RETRY   3600
#define CFG_DEFAULT_RATE       400
#define CFG_DEFAULT_POLLING    20
#define CFG_DEFAULT_HEADER     128
#define CFG_SFLOW_PORT         6343
#define CFG_DEFAULT_HOLD_BYTES (4u << 20)
#define CFG_MIN_HOLD_BYTES     (64u << 10)
#define CFG_MAX_HOLD_BYTES     (256u << 20)
#define CFG_ALIAS_MAX          HF_ALIAS_MAX
#define CFG_PATTERN_MAX        63   /* bytes of a `sample` or `link_notifications` pattern */
#define CFG_FILTER_MAX         1024 /* bytes of a `filter` expression (PFILTER_EXPR_MAX) */
#define CFG_SPEED_TEXT         24   /* config_speed_text: 20 digits of a uint64_t, NUL */

/* `interface NAME [alias "TEXT"] [speed N[k|M|G]]` */
struct cfg_iface {
	char name[IFNAMSIZ];
	int has_alias;
	char alias[CFG_ALIAS_MAX + 1];
	int has_speed;
	uint64_t speed_bps;
	int line;
};

/* `collector HOST [PORT]`; addr is filled by config_resolve() (or by the
 * parser already when HOST is a numeric address). */
struct cfg_collector {
	char host[256];
	uint16_t port;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int line;
};

/* `sample PATTERN [rate N] [filter "EXPR"]` or `sample PATTERN off`.
 * Kept in file order: the first line whose pattern matches an interface
 * decides for it (config_sample_match). */
struct cfg_sample {
	char name[CFG_PATTERN_MAX + 1]; /* fnmatch(3) pattern; a plain name matches itself */
	int off;                        /* `off`: matching interfaces are not sampled */
	uint32_t rate;                  /* 0 = the global sampling_rate */
	char filter[CFG_FILTER_MAX + 1];/* pcap-filter(7) expression; "" = every packet */
	int line;
};

/* `sampling_rate SPEED N`: the rate of the interfaces served at SPEED bit/s
 * whose `sample` line gives no rate. */
struct cfg_speed_rate {
	uint64_t speed_bps;
	uint32_t rate;
	int line;
};

/* One pattern of `link_notifications PATTERN...`. */
struct cfg_pattern {
	char name[CFG_PATTERN_MAX + 1]; /* fnmatch(3) pattern, as `sample` takes it */
	int line;
};

/* `capture auto|packet|ebpf`: which kernel hook takes the samples
 * (sflow/capture.h). auto: the tc eBPF capture where the kernel and the
 * daemon's rights allow it, else packet sockets. */
enum cfg_capture { CFG_CAPTURE_AUTO, CFG_CAPTURE_PACKET, CFG_CAPTURE_EBPF };

struct config {
	char *path;                  /* as given, for messages */
	char agentx_socket[256];     /* default CFG_DEFAULT_AGENTX */
	uint32_t agentx_retry;       /* s, CFG_DEFAULT_AGENTX_RETRY; read at start only */
	char ifindex_map[4096];      /* "" = none */
	int ifindex_map_line;
	char user[64];               /* `user NAME`: drop to it when started as root; "" = stay */

	struct cfg_iface *ifaces;       size_t n_ifaces;
	struct cfg_collector *collectors; size_t n_collectors;
	struct cfg_sample *samples;     size_t n_samples;
	struct cfg_speed_rate *speed_rates; size_t n_speed_rates; /* sorted by speed */
	struct cfg_pattern *link_notify; size_t n_link_notify; /* none by default */

	struct hf_addr agent_address;   /* family 0 = unset */
	char agent_interface[IFNAMSIZ]; /* "" = unset */
	uint32_t sub_agent_id;          /* 0 */
	uint32_t sampling_rate;         /* 400, >= 1 */
	int sampling_rate_line;         /* its line; 0 = the default */
	uint32_t polling_interval;      /* 20 s, 0 = off */
	uint32_t header_bytes;          /* 128, 1..256 */
	int hold_samples;               /* `hold_samples on|off`: 1 */
	uint32_t hold_bytes;            /* what holding keeps at most: 4 MiB */
	enum cfg_capture capture;       /* auto; read at start only */
	int capture_line;               /* 0: not set */

	refcount_t refs;                /* config_ref()/config_free() */
};

/* Reads and parses PATH. On error returns -1 and writes "FILE:LINE: message"
 * into err; *out is untouched. */
int config_load(const char *path, struct config **out, char *err, size_t errlen);
/* Parses text of len bytes (may contain NULs: they are an error) as if read
 * from a file called name. Used by config_load, the unit tests and the fuzzer. */
int config_parse(const char *name, const char *text, size_t len,
		 struct config **out, char *err, size_t errlen);
/* Resolves every collector HOST that is not numeric (getaddrinfo), then
 * refuses two collectors at one address and port ("FILE:LINE: collector
 * HOST resolves to ADDR:PORT, the same as line N"). Thread-safe on a config
 * no other thread touches (resolver.c runs it in a worker). */
int config_resolve(struct config *cfg, char *err, size_t errlen);
/* A config is immutable once parsed and may be shared between threads:
 * config_ref() takes a reference, config_free() drops one (the last frees). */
struct config *config_ref(struct config *cfg);
void config_free(struct config *cfg);

const struct cfg_iface *config_iface(const struct config *cfg, const char *name);

/* THE rate rule. An interface is sampled by the first `sample` line that
 * matches it (not `off`), at that line's `rate N`; without one, at the N of
 * `sampling_rate SPEED N` whose SPEED equals the interface's served speed
 * (the speed SNMP serves: `interface ... speed`, else the kernel's; 0 =
 * unknown, never in the table); else at the plain `sampling_rate N` (400). */
enum cfg_rate_by {
	CFG_RATE_NONE,     /* no `sample` line matches: not sampled */
	CFG_RATE_OFF,      /* the first matching line says `off`: not sampled */
	CFG_RATE_SAMPLE,   /* that line's `rate N` */
	CFG_RATE_SPEED,    /* `sampling_rate SPEED N` for the served speed */
	CFG_RATE_GLOBAL,   /* `sampling_rate N`, or its default (line 0) */
};

struct cfg_rate {
	uint32_t rate;                      /* 0: not sampled */
	enum cfg_rate_by by;
	const struct cfg_sample *sample;    /* the first matching line; NULL: none */
	const struct cfg_speed_rate *speed; /* by == CFG_RATE_SPEED: its entry */
	int line;                           /* of the line giving the rate; 0: the default */
};

/* The rate of interface ifname served at speed_bps, and why. */
void config_rate(const struct config *cfg, const char *ifname, uint64_t speed_bps,
		 struct cfg_rate *out);
/* The rate of sample line s (not `off`) for an interface served at speed_bps. */
uint32_t config_sample_rate(const struct config *cfg, const struct cfg_sample *s,
			    uint64_t speed_bps);
/* The `sampling_rate SPEED N` entry for speed_bps; NULL when none. */
const struct cfg_speed_rate *config_speed_rate(const struct config *cfg, uint64_t speed_bps);
/* For -t: "NAME: 1 in N (why, with line numbers)" (no newline) in buf,
 * truncated to buflen; see hostflowd.8 for the forms. */
void config_rate_describe(const struct config *cfg, const char *ifname, uint64_t speed_bps,
			  char *buf, size_t buflen);
/* A speed as the config writes it: "10G", "100M", "1k", plain bit/s when
 * no unit divides it, "unknown" for 0. */
void config_speed_text(uint64_t bps, char *buf, size_t buflen);
/* The sample line deciding for interface ifname: the first in file order
 * whose pattern matches it; NULL when none matches or that line is `off`. */
const struct cfg_sample *config_sample_match(const struct config *cfg, const char *ifname);
/* 1 when a `link_notifications` pattern matches interface ifname: its row
 * serves ifLinkUpDownTrapEnable enabled(1) and sends linkUp/linkDown. */
int config_link_notify(const struct config *cfg, const char *ifname);
/* For -t: one "FILE:LINE: note: sample PATTERN matches no interface now\n"
 * in buf (truncated to buflen) per sample line matching none of names[0..n).
 * Returns the number of such lines. */
size_t config_sample_notes(const struct config *cfg, const char *const *names, size_t n,
			   char *buf, size_t buflen);

#endif
