/* hostflowd.conf: one directive a line, parsed into one struct config.
 *
 * Byte rules (a choice, documented in hostflowd.conf(5)): outside comments only
 * printable ASCII, spaces and tabs are accepted, so names, aliases, paths and
 * hosts are plain ASCII and no UTF-8 validation is needed; comments may hold
 * any byte but NUL. A trailing CR is ignored so CRLF files load. */
#include "config/config.h"
#include "base/confwords.h"
#include "base/sockaddr.h"
#include "base/textfile.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_BYTES TEXTFILE_LINE_MAX
#define MAX_COLLECTORS 16
#define UNIX_PATH_MAX  107  /* sizeof(sun_path) - 1 */
#define U32_MAX        4294967295ULL

enum single { S_AGENTX, S_RETRY, S_MAP, S_ADDR, S_IFACE, S_SUBID, S_RATE, S_POLL,
	      S_HEADER, S_USER, S_HOLD, S_HOLD_BYTES, S_CAPTURE, S_COUNT };

struct parser {
	const char *name;
	int line;
	struct config *cfg;
	char *err;
	size_t errlen;
	int seen[S_COUNT];     /* line of each single-valued directive, 0 = not yet */
	size_t cap_ifaces, cap_collectors, cap_samples, cap_speed_rates, cap_link_notify;
};

struct directive {
	const char *name;
	int min_args, max_args;
	int single;            /* enum single, or -1 for repeatable */
	const char *usage;
	int (*fn)(struct parser *p, int argc, struct confword *w); /* NULL: d_number */
	uint64_t min, max;     /* d_number: range */
	size_t off;            /* d_number: uint32_t field of struct config */
};

static int perr(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	textfile_verr(p->err, p->errlen, p->name, p->line, fmt, ap);
	va_end(ap);
	return -1;
}

/* 0: ok; -1: not decimal digits; -2: negative; -3: does not fit in 64 bits. */
static int parse_u64(const char *s, uint64_t *v)
{
	const char *c;
	char *end;

	if (s[0] == '-' && s[1] >= '0' && s[1] <= '9')
		return -2;
	if (!*s)
		return -1;
	for (c = s; *c; c++)
		if (*c < '0' || *c > '9')
			return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno == ERANGE ? -3 : 0;
}

static int parse_num(struct parser *p, const char *what, const char *s,
		     uint64_t min, uint64_t max, uint64_t *v)
{
	static const char *const why[] = { "", "is not a number (decimal digits only)",
					   "is out of range (negative)",
					   "is out of range (too large)" };
	int r = parse_u64(s, v);

	if (r < 0)
		return perr(p, "%s: '%s' %s; allowed %llu..%llu", what, s, why[-r],
			    (unsigned long long)min, (unsigned long long)max);
	if (*v < min || *v > max)
		return perr(p, "%s: '%s' is out of range; allowed %llu..%llu", what, s,
			    (unsigned long long)min, (unsigned long long)max);
	return 0;
}

static int check_ifname(struct parser *p, const char *what, const char *s)
{
	if (textfile_ifname_valid(s, strlen(s)))
		return 0;
	return perr(p, "%s: '%s' is not a valid interface name (1..15 printable "
		    "ASCII bytes, no '/', ':' or space, not '.' or '..')", what, s);
}

/* A config's lists start with room for this many: most configs name fewer. */
#define CONFIG_FIRST_CAP 8

static int d_agentx(struct parser *p, int argc, struct confword *w)
{
	const char *s = w[1].s, *rest, *colon;
	char host[256];
	uint64_t port;
	size_t hl;

	(void)argc;
	if (strlen(s) >= sizeof p->cfg->agentx_socket)
		return perr(p, "agentx_socket: value is longer than %zu bytes",
			    sizeof p->cfg->agentx_socket - 1);
	rest = !strncmp(s, "unix:", 5) ? s + 5 : s;
	if (rest[0] == '/') {
		if (strlen(rest) > UNIX_PATH_MAX)
			return perr(p, "agentx_socket: socket path is longer than %d bytes",
				    UNIX_PATH_MAX);
		goto ok;
	}
	if (strncmp(s, "tcp:", 4))
		goto bad;
	rest = s + 4;
	colon = strrchr(rest, ':');
	if (!colon || parse_u64(colon + 1, &port) || port < 1 || port > 65535)
		return perr(p, "agentx_socket: '%s' needs a port 1..65535 after the "
			    "last ':'", s);
	hl = colon - rest;
	if (hl >= sizeof host)
		goto bad;
	memcpy(host, rest, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		struct in6_addr a6;

		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6) == 1)
			goto ok;
	} else {
		struct in_addr a4;

		if (inet_pton(AF_INET, host, &a4) == 1 || hf_dnsname_valid(host))
			goto ok;
	}
	return perr(p, "agentx_socket: bad host '%.*s' in '%s'", (int)hl, rest, s);
ok:
	hf_strlcpy(p->cfg->agentx_socket, s, sizeof p->cfg->agentx_socket);
	return 0;
bad:
	return perr(p, "agentx_socket: '%s' is not an absolute path, unix:/PATH, "
		    "tcp:HOST:PORT or tcp:[IPv6]:PORT", s);
}

static int d_map(struct parser *p, int argc, struct confword *w)
{
	(void)argc;
	if (strlen(w[1].s) >= sizeof p->cfg->ifindex_map)
		return perr(p, "ifindex_map: path is too long");
	hf_strlcpy(p->cfg->ifindex_map, w[1].s, sizeof p->cfg->ifindex_map);
	p->cfg->ifindex_map_line = p->line;
	return 0;
}

/* A speed as `interface ... speed` and `sampling_rate SPEED N` take it; what
 * starts the message ("interface eth0", "sampling_rate"). */
static int parse_speed(struct parser *p, const char *what, const char *s,
		       uint64_t *bps)
{
	char digits[32];
	size_t len = strlen(s);
	uint64_t mult = 1, v = 0;
	int r;

	if (len && (s[len - 1] == 'k' || s[len - 1] == 'M' || s[len - 1] == 'G')) {
		mult = s[len - 1] == 'k' ? 1000 : s[len - 1] == 'M' ? 1000000 : 1000000000;
		len--;
	}
	if (len == 0 || len >= sizeof digits)
		r = len ? -3 : -1;
	else {
		memcpy(digits, s, len);
		digits[len] = '\0';
		r = parse_u64(digits, &v);
	}
	if (r == 0 && (v == 0 || v > UINT64_MAX / mult))
		r = v ? -3 : -4;
	if (r == 0) {
		*bps = v * mult;
		return 0;
	}
	return perr(p, "%s: speed '%s' %s; expected N, Nk, NM or NG bit/s, "
		    "N > 0", what, s,
		    r == -1 ? "is not a number" : r == -2 ? "is negative" :
		    r == -3 ? "is too large" : "must not be 0");
}

static int d_interface(struct parser *p, int argc, struct confword *w)
{
	struct config *cfg = p->cfg;
	struct cfg_iface *f;
	int i;

	if (check_ifname(p, "interface", w[1].s))
		return -1;
	if (hf_grow(&cfg->ifaces, cfg->n_ifaces, &p->cap_ifaces, sizeof *cfg->ifaces,
		    CONFIG_FIRST_CAP) < 0)
		return perr(p, "out of memory");
	f = &cfg->ifaces[cfg->n_ifaces];
	memset(f, 0, sizeof *f);
	hf_strlcpy(f->name, w[1].s, sizeof f->name);
	f->line = p->line;
	for (i = 2; i < argc; i += 2) {
		const char *opt = w[i].s;

		if (strcmp(opt, "alias") && strcmp(opt, "speed"))
			return perr(p, "interface %s: unknown option '%s' (allowed: "
				    "alias \"TEXT\", speed N[k|M|G])", f->name, opt);
		if ((opt[0] == 'a' && f->has_alias) || (opt[0] == 's' && f->has_speed))
			return perr(p, "interface %s: option '%s' given twice", f->name, opt);
		if (i + 1 >= argc)
			return perr(p, "interface %s: option '%s' needs a value", f->name, opt);
		if (opt[0] == 's') {
			char what[IFNAMSIZ + 16];

			snprintf(what, sizeof what, "interface %s", f->name);
			if (parse_speed(p, what, w[i + 1].s, &f->speed_bps))
				return -1;
			f->has_speed = 1;
			continue;
		}
		if (!w[i + 1].quoted)
			return perr(p, "interface %s: alias must be double-quoted, e.g. "
				    "alias \"Transit: ISP\"", f->name);
		if (strlen(w[i + 1].s) > CFG_ALIAS_MAX)
			return perr(p, "interface %s: alias is longer than %d bytes",
				    f->name, CFG_ALIAS_MAX);
		hf_strlcpy(f->alias, w[i + 1].s, sizeof f->alias);
		f->has_alias = 1;
	}
	cfg->n_ifaces++;
	return 0;
}

static int same_collector(const struct cfg_collector *a, const struct cfg_collector *b)
{
	if (a->port != b->port || !a->addrlen != !b->addrlen)
		return 0;
	if (a->addrlen)
		return a->addrlen == b->addrlen && !memcmp(&a->addr, &b->addr, a->addrlen);
	return !strcasecmp(a->host, b->host);
}

static int collector_host(struct parser *p, struct cfg_collector *c, const char *s)
{
	size_t len = strlen(s);

	if (s[0] == '[') {
		if (len < 3 || s[len - 1] != ']' || len - 2 >= sizeof c->host)
			goto bad;
		memcpy(c->host, s + 1, len - 2);
		c->host[len - 2] = '\0';
		if (!strchr(c->host, ':') ||
		    !hf_sockaddr_numeric(c->host, c->port, &c->addr, &c->addrlen))
			goto bad;
		return 0;
	}
	if (len >= sizeof c->host)
		goto bad;
	memcpy(c->host, s, len + 1);
	if (hf_sockaddr_numeric(s, c->port, &c->addr, &c->addrlen))
		return 0;
	if (strchr(s, ':') && strchr(s, ':') == strrchr(s, ':'))
		return perr(p, "collector: bad address '%s' (give the port as a "
			    "separate argument: collector HOST PORT)", s);
	if (!strchr(s, ':') && hf_dnsname_valid(s))
		return 0;
bad:
	return perr(p, "collector: bad address '%s' (expected an IPv4 address, an "
		    "IPv6 address, [IPv6] or a DNS name)", s);
}

static int d_collector(struct parser *p, int argc, struct confword *w)
{
	struct config *cfg = p->cfg;
	struct cfg_collector *c;
	uint64_t port = CFG_SFLOW_PORT;
	size_t i;

	if (cfg->n_collectors >= MAX_COLLECTORS)
		return perr(p, "collector: too many collectors (at most %d)",
			    MAX_COLLECTORS);
	if (argc > 2 && parse_num(p, "collector port", w[2].s, 1, 65535, &port))
		return -1;
	if (hf_grow(&cfg->collectors, cfg->n_collectors, &p->cap_collectors,
		    sizeof *cfg->collectors, CONFIG_FIRST_CAP) < 0)
		return perr(p, "out of memory");
	c = &cfg->collectors[cfg->n_collectors];
	memset(c, 0, sizeof *c);
	c->port = (uint16_t)port;
	c->line = p->line;
	if (collector_host(p, c, w[1].s))
		return -1;
	for (i = 0; i < cfg->n_collectors; i++)
		if (same_collector(&cfg->collectors[i], c))
			return perr(p, "collector %s port %u: already defined on line %d",
				    w[1].s, c->port, cfg->collectors[i].line);
	cfg->n_collectors++;
	return 0;
}

static int d_agent_address(struct parser *p, int argc, struct confword *w)
{
	struct hf_addr *a = &p->cfg->agent_address;

	(void)argc;
	if (p->seen[S_IFACE])
		return perr(p, "agent_address: cannot be combined with agent_interface "
			    "(line %d); use one of them", p->seen[S_IFACE]);
	if (inet_pton(AF_INET, w[1].s, a->a) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, w[1].s, a->a) == 1)
		a->family = AF_INET6;
	else
		return perr(p, "agent_address: '%s' is not an IPv4 or IPv6 address "
			    "(a literal is required; agent_interface takes a name)", w[1].s);
	return 0;
}

static int d_agent_interface(struct parser *p, int argc, struct confword *w)
{
	(void)argc;
	if (p->seen[S_ADDR])
		return perr(p, "agent_interface: cannot be combined with agent_address "
			    "(line %d); use one of them", p->seen[S_ADDR]);
	if (check_ifname(p, "agent_interface", w[1].s))
		return -1;
	hf_strlcpy(p->cfg->agent_interface, w[1].s, sizeof p->cfg->agent_interface);
	return 0;
}

/* The plain numeric directives: the table gives range and field. */
static int d_number(struct parser *p, const struct directive *d, struct confword *w)
{
	uint64_t v;

	if (parse_num(p, d->name, w[1].s, d->min, d->max, &v))
		return -1;
	*(uint32_t *)((char *)p->cfg + d->off) = (uint32_t)v;
	return 0;
}

/* `sampling_rate N` (once) or `sampling_rate SPEED N` (once per speed: a
 * repeated speed is found by check_names, after sorting). */
static int d_sampling_rate(struct parser *p, int argc, struct confword *w)
{
	struct config *cfg = p->cfg;
	struct cfg_speed_rate tmp = { .line = p->line };
	uint64_t v;

	if (argc == 2) {
		if (p->seen[S_RATE])
			return perr(p, "sampling_rate: already set on line %d", p->seen[S_RATE]);
		if (parse_num(p, "sampling_rate", w[1].s, 1, U32_MAX, &v))
			return -1;
		cfg->sampling_rate = (uint32_t)v;
		cfg->sampling_rate_line = p->seen[S_RATE] = p->line;
		return 0;
	}
	if (parse_speed(p, "sampling_rate", w[1].s, &tmp.speed_bps))
		return -1;
	if (parse_num(p, "sampling_rate rate", w[2].s, 1, U32_MAX, &v))
		return -1;
	tmp.rate = (uint32_t)v;
	if (hf_grow(&cfg->speed_rates, cfg->n_speed_rates, &p->cap_speed_rates,
		    sizeof *cfg->speed_rates, CONFIG_FIRST_CAP) < 0)
		return perr(p, "out of memory");
	cfg->speed_rates[cfg->n_speed_rates++] = tmp;
	return 0;
}

/* An fnmatch(3) pattern over interface names: the bytes of a name plus
 * `*`, `?`, `[...]` (closed) and `\` escapes; 1..CFG_PATTERN_MAX bytes. */
static int check_pattern(struct parser *p, const char *what, const char *s)
{
	size_t len = strlen(s), i;
	const char *why = NULL;

	if (len > CFG_PATTERN_MAX)
		return perr(p, "%s: pattern '%s' is longer than %d bytes", what, s,
			    CFG_PATTERN_MAX);
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		why = "'.' and '..' are not interface names";
	for (i = 0; !why && i < len; i++) {
		if (s[i] == '/' || s[i] == ':') {
			why = "'/' and ':' never occur in interface names";
		} else if (s[i] == '\\') {
			if (++i == len)
				why = "it ends in a lone '\\'";
		} else if (s[i] == '[') {
			size_t j = i + 1;

			if (j < len && (s[j] == '!' || s[j] == '^'))
				j++;
			if (j < len && s[j] == ']')
				j++;
			while (j < len && s[j] != ']' && s[j] != '/' && s[j] != ':')
				j++;
			if (j >= len || s[j] != ']')
				why = "a '[' is not closed by ']'";
			i = j;
		}
	}
	if (!why)
		return 0;
	return perr(p, "%s: '%s' is not a valid pattern (%s; a shell pattern of "
		    "interface names: *, ?, [...])", what, s, why);
}

/* The expression's syntax is libpcap's business, checked where it is
 * compiled (pfilter_check_config), so that this parser links no libpcap. */
static int sample_filter(struct parser *p, struct cfg_sample *s, const struct confword *w)
{
	if (!w->quoted)
		return perr(p, "sample %s: filter must be double-quoted, e.g. "
			    "filter \"not udp port 41641\"", s->name);
	if (strlen(w->s) > CFG_FILTER_MAX)
		return perr(p, "sample %s: filter is longer than %d bytes", s->name,
			    CFG_FILTER_MAX);
	hf_strlcpy(s->filter, w->s, sizeof s->filter);
	return 0;
}

static int d_sample(struct parser *p, int argc, struct confword *w)
{
	struct config *cfg = p->cfg;
	struct cfg_sample tmp = { .line = p->line };
	int has_rate = 0, has_filter = 0;
	uint64_t rate = 0;

	if (check_pattern(p, "sample", w[1].s))
		return -1;
	hf_strlcpy(tmp.name, w[1].s, sizeof tmp.name);
	if (argc >= 3 && !strcmp(w[2].s, "off") && !w[2].quoted) {
		if (argc > 3)
			return perr(p, "sample %s: 'off' takes no other option (usage: "
				    "sample PATTERN off)", tmp.name);
		tmp.off = 1;
	}
	for (int i = 2; !tmp.off && i < argc; i += 2) {
		const char *opt = w[i].s;
		int is_rate = !strcmp(opt, "rate");

		if ((!is_rate && strcmp(opt, "filter")) || w[i].quoted)
			return perr(p, "sample %s: unknown option '%s' (allowed: rate N, "
				    "filter \"EXPR\", or off alone)", tmp.name, opt);
		if (is_rate ? has_rate : has_filter)
			return perr(p, "sample %s: option '%s' given twice", tmp.name, opt);
		if (i + 1 >= argc)
			return perr(p, "sample %s: %s needs a value (usage: sample PATTERN "
				    "[rate N] [filter \"EXPR\"])", tmp.name, opt);
		if (is_rate) {
			if (parse_num(p, "sample rate", w[i + 1].s, 1, U32_MAX, &rate))
				return -1;
			has_rate = 1;
		} else {
			if (sample_filter(p, &tmp, &w[i + 1]))
				return -1;
			has_filter = 1;
		}
	}
	tmp.rate = (uint32_t)rate;
	if (hf_grow(&cfg->samples, cfg->n_samples, &p->cap_samples, sizeof *cfg->samples,
		    CONFIG_FIRST_CAP) < 0)
		return perr(p, "out of memory");
	cfg->samples[cfg->n_samples++] = tmp;
	return 0;
}

/* `link_notifications PATTERN...`: repeatable; every pattern adds to the set
 * (a name matching any of them notifies), so a repeated one is harmless. */
static int d_link_notify(struct parser *p, int argc, struct confword *w)
{
	struct config *cfg = p->cfg;

	for (int i = 1; i < argc; i++) {
		struct cfg_pattern *a;

		if (check_pattern(p, "link_notifications", w[i].s))
			return -1;
		if (hf_grow(&cfg->link_notify, cfg->n_link_notify, &p->cap_link_notify,
			    sizeof *cfg->link_notify, CONFIG_FIRST_CAP) < 0)
			return perr(p, "out of memory");
		a = &cfg->link_notify[cfg->n_link_notify++];
		hf_strlcpy(a->name, w[i].s, sizeof a->name);
		a->line = p->line;
	}
	return 0;
}

/* Debian's default NAME_REGEX, plus upper case. */
static int d_user(struct parser *p, int argc, struct confword *w)
{
	const char *s = w[1].s, *c;
	size_t len = strlen(s);
	int ok = len >= 1 && len <= 32 && !(s[0] >= '0' && s[0] <= '9') && s[0] != '-';

	(void)argc;
	for (c = s; ok && *c; c++)
		ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		     (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '.' ||
		     (*c == '$' && !c[1]);
	if (!ok)
		return perr(p, "user: '%s' is not a valid user name (1..32 of "
			    "letters, digits, '_', '-', '.', not starting with a digit "
			    "or '-')", s);
	hf_strlcpy(p->cfg->user, s, sizeof p->cfg->user);
	return 0;
}

/* `hold_samples on|off`: off for collectors that never poll SNMP. */
static int d_hold(struct parser *p, int argc, struct confword *w)
{
	(void)argc;
	if (!strcmp(w[1].s, "on"))
		p->cfg->hold_samples = 1;
	else if (!strcmp(w[1].s, "off"))
		p->cfg->hold_samples = 0;
	else
		return perr(p, "hold_samples: '%s' is neither on nor off", w[1].s);
	return 0;
}

/* `capture auto|packet|ebpf`: packet forces the packet sockets (and ebpf
 * the tc eBPF capture, failing the start where it cannot load). */
static int d_capture(struct parser *p, int argc, struct confword *w)
{
	(void)argc;
	if (!strcmp(w[1].s, "auto"))
		p->cfg->capture = CFG_CAPTURE_AUTO;
	else if (!strcmp(w[1].s, "packet"))
		p->cfg->capture = CFG_CAPTURE_PACKET;
	else if (!strcmp(w[1].s, "ebpf"))
		p->cfg->capture = CFG_CAPTURE_EBPF;
	else
		return perr(p, "capture: '%s' is none of auto, packet, ebpf", w[1].s);
	p->cfg->capture_line = p->line;
	return 0;
}

#define DIR(name, lo, hi, single, usage, fn) \
	{ name, lo, hi, single, usage, fn, 0, 0, 0 }
#define NUM(name, single, usage, lo, hi, field) \
	{ name, 1, 1, single, usage, NULL, lo, hi, offsetof(struct config, field) }

static const struct directive directives[] = {
	DIR("agentx_socket", 1, 1, S_AGENTX, "agentx_socket PATH|unix:PATH|tcp:HOST:PORT", d_agentx),
	NUM("agentx_retry", S_RETRY, "agentx_retry SECONDS (1..3600)", 1, CFG_MAX_AGENTX_RETRY,
	    agentx_retry),
	DIR("ifindex_map", 1, 1, S_MAP, "ifindex_map PATH", d_map),
	DIR("interface", 1, 5, -1, "interface NAME [alias \"TEXT\"] [speed N[k|M|G]]", d_interface),
	DIR("collector", 1, 2, -1, "collector HOST [PORT]", d_collector),
	DIR("agent_address", 1, 1, S_ADDR, "agent_address IP", d_agent_address),
	DIR("agent_interface", 1, 1, S_IFACE, "agent_interface NAME", d_agent_interface),
	NUM("sub_agent_id", S_SUBID, "sub_agent_id N (0..4294967295)", 0, U32_MAX, sub_agent_id),
	DIR("sampling_rate", 1, 2, -1, "sampling_rate N | sampling_rate SPEED N (N "
	    "1..4294967295, SPEED as interface ... speed takes it: 100M, 1G, 10G, ...)",
	    d_sampling_rate),
	NUM("polling_interval", S_POLL, "polling_interval SECONDS (0..86400, 0 = off)",
	    0, 86400, polling_interval),
	NUM("header_bytes", S_HEADER, "header_bytes N (1..256)", 1, HF_MAX_HEADER, header_bytes),
	DIR("sample", 1, 5, -1, "sample PATTERN [rate N] [filter \"EXPR\"] | sample PATTERN off",
	    d_sample),
	DIR("link_notifications", 1, CONFWORDS_MAX - 1, -1, "link_notifications PATTERN...",
	    d_link_notify),
	DIR("user", 1, 1, S_USER, "user NAME", d_user),
	DIR("hold_samples", 1, 1, S_HOLD, "hold_samples on|off", d_hold),
	NUM("hold_bytes", S_HOLD_BYTES, "hold_bytes N (65536..268435456)",
	    CFG_MIN_HOLD_BYTES, CFG_MAX_HOLD_BYTES, hold_bytes),
	DIR("capture", 1, 1, S_CAPTURE, "capture auto|packet|ebpf", d_capture),
};

static int run_directive(struct parser *p, int argc, struct confword *w)
{
	const struct directive *d = NULL;
	size_t i;

	for (i = 0; i < sizeof directives / sizeof directives[0]; i++)
		if (!strcmp(w[0].s, directives[i].name))
			d = &directives[i];
	if (!d || w[0].quoted)
		return perr(p, "unknown directive '%s' (known: agentx_socket, "
			    "agentx_retry, ifindex_map, interface, collector, agent_address, "
			    "agent_interface, sub_agent_id, sampling_rate, "
			    "polling_interval, header_bytes, sample, "
			    "link_notifications, user, hold_samples, hold_bytes, "
			    "capture)", w[0].s);
	if (argc - 1 < d->min_args)
		return perr(p, "%s: missing argument (usage: %s)", d->name, d->usage);
	if (argc - 1 > d->max_args)
		return perr(p, "%s: extra argument '%s' (usage: %s)", d->name,
			    w[d->max_args + 1].s, d->usage);
	for (i = 1; i < (size_t)argc; i++)
		if (w[i].quoted && !(d->fn == d_interface && i >= 3 &&
				     !strcmp(w[i - 1].s, "alias")) &&
		    !(d->fn == d_sample && i >= 3 && !strcmp(w[i - 1].s, "filter")))
			return perr(p, "%s: quotes are only allowed around an alias or a "
				    "filter", d->name);
	if (d->single >= 0 && p->seen[d->single])
		return perr(p, "%s: already set on line %d", d->name, p->seen[d->single]);
	if (d->fn ? d->fn(p, argc, w) : d_number(p, d, w))
		return -1;
	if (d->single >= 0)
		p->seen[d->single] = p->line;
	return 0;
}

static int parse_line(struct parser *p, const char *line, size_t len)
{
	char buf[LINE_MAX_BYTES + CONFWORDS_MAX + 1], why[160];
	struct confword w[CONFWORDS_MAX];
	int argc;

	if (memchr(line, '\0', len))
		return perr(p, "NUL byte in line");
	if (len > LINE_MAX_BYTES)
		return perr(p, "line is longer than %d bytes", LINE_MAX_BYTES);
	if (len && line[len - 1] == '\r')
		len--;
	argc = confwords_split(line, len, buf, w, why, sizeof why);
	if (argc < 0)
		return perr(p, "%s", why);
	return argc ? run_directive(p, argc, w) : 0;
}

static int cmp_iface(const void *a, const void *b)
{
	const struct cfg_iface *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : x->line - y->line;
}

static int cmp_sample_ptr(const void *a, const void *b)
{
	const struct cfg_sample *x = *(const struct cfg_sample *const *)a;
	const struct cfg_sample *y = *(const struct cfg_sample *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : x->line - y->line;
}

static int cmp_speed_rate(const void *a, const void *b)
{
	const struct cfg_speed_rate *x = a, *y = b;

	if (x->speed_bps != y->speed_bps)
		return x->speed_bps < y->speed_bps ? -1 : 1;
	return x->line - y->line;
}

/* Sorts ifaces by name (config_iface() searches them; samples stay in file
 * order, which decides) and the speed table by speed, and finds the earliest
 * line repeating a name, a pattern or a speed: -1 with the error, else 0. */
static int check_names(struct parser *p)
{
	struct config *cfg = p->cfg;
	const char *kind = NULL, *name = NULL;
	const struct cfg_sample **sorted = NULL;
	char speed[CFG_SPEED_TEXT];
	int bad = 0, first = 0;
	size_t i;

	if (cfg->n_ifaces > 1)
		qsort(cfg->ifaces, cfg->n_ifaces, sizeof *cfg->ifaces, cmp_iface);
	if (cfg->n_samples > 1) {
		sorted = malloc(cfg->n_samples * sizeof *sorted);
		if (!sorted)
			return perr(p, "out of memory");
		for (i = 0; i < cfg->n_samples; i++)
			sorted[i] = &cfg->samples[i];
		qsort(sorted, cfg->n_samples, sizeof *sorted, cmp_sample_ptr);
	}
	for (i = 1; i < cfg->n_ifaces; i++) {
		const struct cfg_iface *a = &cfg->ifaces[i - 1], *b = a + 1;

		if (!strcmp(a->name, b->name) && (!bad || b->line < bad) &&
		    (i < 2 || strcmp(a[-1].name, a->name))) {
			bad = b->line, first = a->line, kind = "interface", name = a->name;
		}
	}
	for (i = 1; i < cfg->n_samples; i++) {
		const struct cfg_sample *a = sorted[i - 1], *b = sorted[i];

		if (!strcmp(a->name, b->name) && (!bad || b->line < bad) &&
		    (i < 2 || strcmp(sorted[i - 2]->name, a->name))) {
			bad = b->line, first = a->line, kind = "sample", name = a->name;
		}
	}
	free(sorted);
	if (cfg->n_speed_rates > 1)
		qsort(cfg->speed_rates, cfg->n_speed_rates, sizeof *cfg->speed_rates,
		      cmp_speed_rate);
	for (i = 1; i < cfg->n_speed_rates; i++) {
		const struct cfg_speed_rate *a = &cfg->speed_rates[i - 1], *b = a + 1;

		if (a->speed_bps == b->speed_bps && (!bad || b->line < bad) &&
		    (i < 2 || a[-1].speed_bps != a->speed_bps)) {
			config_speed_text(a->speed_bps, speed, sizeof speed);
			bad = b->line, first = a->line, kind = "sampling_rate", name = speed;
		}
	}
	if (!bad)
		return 0;
	p->line = bad;
	return perr(p, "%s %s: already defined on line %d", kind, name, first);
}

static struct config *config_new(const char *name)
{
	struct config *cfg = calloc(1, sizeof *cfg);

	if (!cfg)
		return NULL;
	cfg->path = strdup(name);
	if (!cfg->path) {
		free(cfg);
		return NULL;
	}
	refcount_init(&cfg->refs);
	hf_strlcpy(cfg->agentx_socket, CFG_DEFAULT_AGENTX, sizeof cfg->agentx_socket);
	cfg->agentx_retry = CFG_DEFAULT_AGENTX_RETRY;
	cfg->hold_samples = 1;
	cfg->hold_bytes = CFG_DEFAULT_HOLD_BYTES;
	cfg->capture = CFG_CAPTURE_AUTO;
	cfg->sampling_rate = CFG_DEFAULT_RATE;
	cfg->polling_interval = CFG_DEFAULT_POLLING;
	cfg->header_bytes = CFG_DEFAULT_HEADER;
	return cfg;
}

int config_parse(const char *name, const char *text, size_t len,
		 struct config **out, char *err, size_t errlen)
{
	struct parser p = { .name = name, .err = err, .errlen = errlen };
	size_t pos = 0;
	int rc = 0;

	p.cfg = config_new(name);
	if (!p.cfg)
		return perr(&p, "out of memory");
	while (pos < len && !rc) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - text) - pos : len - pos;

		p.line++;
		rc = parse_line(&p, text + pos, l);
		pos += l + 1;
	}
	/* A repeated name always comes before the line that failed. */
	if (check_names(&p))
		rc = -1;
	if (rc) {
		config_free(p.cfg);
		return -1;
	}
	*out = p.cfg;
	return 0;
}

int config_load(const char *path, struct config **out, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	if (textfile_read(path, &text, &len, err, errlen))
		return -1;
	r = config_parse(path, text, len, out, err, errlen);
	free(text);
	return r;
}

struct config *config_ref(struct config *cfg)
{
	refcount_get(&cfg->refs);
	return cfg;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	if (!refcount_put(&cfg->refs))
		return;
	free(cfg->path);
	free(cfg->ifaces);
	free(cfg->collectors);
	free(cfg->samples);
	free(cfg->speed_rates);
	free(cfg->link_notify);
	free(cfg);
}

static int cmp_name_iface(const void *key, const void *elem)
{
	return strcmp(key, ((const struct cfg_iface *)elem)->name);
}

const struct cfg_iface *config_iface(const struct config *cfg, const char *name)
{
	if (!cfg || !cfg->n_ifaces)
		return NULL;
	return bsearch(name, cfg->ifaces, cfg->n_ifaces, sizeof *cfg->ifaces,
		       cmp_name_iface);
}

static int cmp_speed_key(const void *key, const void *elem)
{
	uint64_t k = *(const uint64_t *)key, e = ((const struct cfg_speed_rate *)elem)->speed_bps;

	return (k > e) - (k < e);
}

const struct cfg_speed_rate *config_speed_rate(const struct config *cfg, uint64_t speed_bps)
{
	if (!cfg->n_speed_rates)
		return NULL;
	return bsearch(&speed_bps, cfg->speed_rates, cfg->n_speed_rates,
		       sizeof *cfg->speed_rates, cmp_speed_key);
}

uint32_t config_sample_rate(const struct config *cfg, const struct cfg_sample *s,
			    uint64_t speed_bps)
{
	const struct cfg_speed_rate *e;

	if (s->rate)
		return s->rate;
	e = config_speed_rate(cfg, speed_bps);
	return e ? e->rate : cfg->sampling_rate;
}

/* The first line matching ifname, `off` included. */
static const struct cfg_sample *first_match(const struct config *cfg, const char *ifname)
{
	for (size_t i = 0; cfg && i < cfg->n_samples; i++)
		if (fnmatch(cfg->samples[i].name, ifname, 0) == 0)
			return &cfg->samples[i];
	return NULL;
}

const struct cfg_sample *config_sample_match(const struct config *cfg, const char *ifname)
{
	const struct cfg_sample *s = first_match(cfg, ifname);

	return s && !s->off ? s : NULL;
}

void config_rate(const struct config *cfg, const char *ifname, uint64_t speed_bps,
		 struct cfg_rate *out)
{
	const struct cfg_sample *s = first_match(cfg, ifname);

	memset(out, 0, sizeof *out);
	out->sample = s;
	if (!s) {
		out->by = CFG_RATE_NONE;
		return;
	}
	if (s->off) {
		out->by = CFG_RATE_OFF;
		out->line = s->line;
		return;
	}
	if (s->rate) {
		out->by = CFG_RATE_SAMPLE;
		out->rate = s->rate;
		out->line = s->line;
		return;
	}
	out->speed = config_speed_rate(cfg, speed_bps);
	if (out->speed) {
		out->by = CFG_RATE_SPEED;
		out->rate = out->speed->rate;
		out->line = out->speed->line;
		return;
	}
	out->by = CFG_RATE_GLOBAL;
	out->rate = cfg->sampling_rate;
	out->line = cfg->sampling_rate_line;
}

void config_speed_text(uint64_t bps, char *buf, size_t buflen)
{
	static const struct { uint64_t mult; char unit; } units[] = {
		{ 1000000000, 'G' }, { 1000000, 'M' }, { 1000, 'k' },
	};

	if (!bps) {
		snprintf(buf, buflen, "unknown");
		return;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (bps % units[i].mult == 0) {
			snprintf(buf, buflen, "%llu%c",
				 (unsigned long long)(bps / units[i].mult), units[i].unit);
			return;
		}
	snprintf(buf, buflen, "%llu", (unsigned long long)bps);
}

void config_rate_describe(const struct config *cfg, const char *ifname, uint64_t speed_bps,
			  char *buf, size_t buflen)
{
	struct cfg_rate r;
	char speed[CFG_SPEED_TEXT], entry[CFG_SPEED_TEXT];

	config_rate(cfg, ifname, speed_bps, &r);
	config_speed_text(speed_bps, speed, sizeof speed);
	switch (r.by) {
	case CFG_RATE_NONE:
		snprintf(buf, buflen, "%s: not sampled (no sample line matches)", ifname);
		break;
	case CFG_RATE_OFF:
		snprintf(buf, buflen, "%s: not sampled (sample %s off, line %d)", ifname,
			 r.sample->name, r.line);
		break;
	case CFG_RATE_SAMPLE:
		snprintf(buf, buflen, "%s: 1 in %u (sample %s rate %u, line %d)", ifname,
			 r.rate, r.sample->name, r.rate, r.line);
		break;
	case CFG_RATE_SPEED:
		config_speed_text(r.speed->speed_bps, entry, sizeof entry);
		snprintf(buf, buflen, "%s: 1 in %u (sampling_rate %s %u, line %d; speed %s; "
			 "sample %s, line %d)", ifname, r.rate, entry, r.rate, r.line, speed,
			 r.sample->name, r.sample->line);
		break;
	case CFG_RATE_GLOBAL:
		/* The speed matters only when there is a table to look it up in. */
		if (r.line)
			snprintf(entry, sizeof entry, ", line %d", r.line);
		else
			entry[0] = '\0';
		snprintf(buf, buflen, "%s: 1 in %u (%ssampling_rate %u%s%s%s%s; sample %s, "
			 "line %d)", ifname, r.rate, r.line ? "" : "the default ", r.rate,
			 entry, cfg->n_speed_rates ? "; speed " : "",
			 cfg->n_speed_rates ? speed : "",
			 cfg->n_speed_rates ? ", not in the speed table" : "",
			 r.sample->name, r.sample->line);
		break;
	}
}

int config_link_notify(const struct config *cfg, const char *ifname)
{
	for (size_t i = 0; cfg && i < cfg->n_link_notify; i++)
		if (fnmatch(cfg->link_notify[i].name, ifname, 0) == 0)
			return 1;
	return 0;
}

size_t config_sample_notes(const struct config *cfg, const char *const *names, size_t n,
			   char *buf, size_t buflen)
{
	size_t notes = 0, used = 0;

	if (buflen)
		buf[0] = '\0';
	for (size_t i = 0; i < cfg->n_samples; i++) {
		const struct cfg_sample *s = &cfg->samples[i];
		size_t j;
		int w;

		for (j = 0; j < n && fnmatch(s->name, names[j], 0) != 0; j++)
			;
		if (j < n)
			continue;
		notes++;
		if (used >= buflen)
			continue;
		w = snprintf(buf + used, buflen - used, "%s:%d: note: sample %s matches no "
			     "interface now\n", cfg->path, s->line, s->name);
		used = w < 0 ? buflen : used + (size_t)w;
	}
	return notes;
}
