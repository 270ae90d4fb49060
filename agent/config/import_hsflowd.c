/* hsflowd.conf read as hsflowd reads it (src/Linux/hsflowconfig.c): '#'
 * ends a line, blanks, '=' and ';' separate words, '{' and '}' are words of
 * their own, double quotes make one word, names are case-insensitive, and
 * everything sits in one `sflow { ... }`. A setting hsflowd would refuse is
 * an error here too; one it takes without a hostflowd equivalent becomes a
 * comment saying why. hsflowd keeps the last of a repeated setting. */
#include "config/import.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/textfile.h"
#include "base/util.h"
#include "config/config.h"

#define HS_LINE_MAX    2047  /* hsflowd reads a line into 2048 bytes */
#define HS_TOKEN_MAX   255   /* HSP_MAX_TOKEN_LEN */
#define HS_DEPTH_MAX   3     /* HSP_MAX_CONFIG_DEPTH: sflow { a { b { } } } */
#define HS_SEPARATORS  " \t\r=;"
#define HS_DEFAULT_RATE   400        /* SFL_DEFAULT_SAMPLING_RATE */
#define HS_SPEED_RATIO    1000000ULL /* HSP_SPEED_SAMPLING_RATIO: N = speed / this */
#define HS_SPEED_MIN_RATE 100        /* HSP_SPEED_SAMPLING_MIN */
#define HS_SPEED_KEY_MAX  32         /* "18446744073709551615" and a unit */

/* The usual link speeds, for which hsflowd's rate by speed is written out
 * (it derives one for any speed; hostflowd looks speeds up exactly). */
static const uint64_t usual_speeds[] = {
	10000000ULL, 100000000ULL, 1000000000ULL, 2500000000ULL, 5000000000ULL,
	10000000000ULL, 20000000000ULL, 25000000000ULL, 40000000000ULL,
	50000000000ULL, 100000000000ULL, 200000000000ULL, 400000000000ULL,
	800000000000ULL,
};

struct tok {
	char *s;
	int line;
	int quoted;
};

/* A `sampling.<speed> = N`, the last of its key. */
struct speed_entry {
	char key[HS_SPEED_KEY_MAX];
	uint64_t bps;          /* the speed the key names exactly; 0: none */
	uint32_t rate;
	struct import_item *it;
};

struct hs {
	const char *name;
	char *err;
	size_t errlen;
	const char *text;
	size_t len;
	/* the text of each line before '#', for the quotes */
	const char **code;
	size_t *codelen;
	size_t nlines;
	struct tok *t;
	size_t n, cap, i;
	struct import_plan *plan;

	struct import_item *agent_ip, *agent_dev;   /* the last of each */
	int agent_ip_ok, agent_dev_ok;              /* ... hostflowd takes it */
	int agent_ip_line;
	char agent_ip_s[64], agent_dev_s[IFNAMSIZ];
	struct speed_entry *speeds;
	size_t nspeeds;
	int have_bps_ratio;
	uint32_t bps_ratio;
	uint32_t global_rate;     /* `sampling`, 0: not given */
	int samples, collectors;
};

static int hserr(struct hs *h, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int hserr(struct hs *h, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	textfile_verr(h->err, h->errlen, h->name, line, fmt, ap);
	va_end(ap);
	import_printable(h->err);
	return -1;
}

/* ---- words ---- */

static int add_tok(struct hs *h, const char *s, size_t n, int line, int quoted)
{
	if (n > HS_TOKEN_MAX)
		return hserr(h, line, "a word of more than %d bytes (hsflowd cuts it)",
			     HS_TOKEN_MAX);
	if (hf_grow(&h->t, h->n, &h->cap, sizeof *h->t, 64) < 0)
		return hserr(h, line, "out of memory");
	h->t[h->n].s = strndup(s, n);
	if (!h->t[h->n].s)
		return hserr(h, line, "out of memory");
	h->t[h->n].line = line;
	h->t[h->n].quoted = quoted;
	h->n++;
	return 0;
}

static int split_line(struct hs *h, const char *c, size_t n, int line)
{
	size_t i = 0;

	while (i < n) {
		size_t j;

		if (strchr(HS_SEPARATORS, c[i])) {
			i++;
		} else if (c[i] == '{' || c[i] == '}') {
			if (add_tok(h, c + i, 1, line, 0))
				return -1;
			i++;
		} else if (c[i] == '"') {
			const char *q = memchr(c + i + 1, '"', n - i - 1);

			if (!q)
				return hserr(h, line, "unterminated quoted text (missing '\"')");
			if (add_tok(h, c + i + 1, (size_t)(q - c) - i - 1, line, 1))
				return -1;
			i = (size_t)(q - c) + 1;
		} else {
			for (j = i; j < n && !strchr(HS_SEPARATORS "{}\"", c[j]); j++)
				;
			if (add_tok(h, c + i, j - i, line, 0))
				return -1;
			i = j;
		}
	}
	return 0;
}

static int split(struct hs *h)
{
	size_t pos = 0, cap = 0;
	int line = 0;

	if (memchr(h->text, '\0', h->len)) {
		const char *z = memchr(h->text, '\0', h->len);

		for (const char *c = h->text; c < z; c++)
			line += *c == '\n';
		return hserr(h, line + 1, "NUL byte in line");
	}
	while (pos < h->len) {
		const char *nl = memchr(h->text + pos, '\n', h->len - pos);
		size_t l = nl ? (size_t)(nl - h->text) - pos : h->len - pos;
		const char *c = h->text + pos, *hash = memchr(c, '#', l);
		size_t code = hash ? (size_t)(hash - c) : l;

		line++;
		if (l > HS_LINE_MAX)
			return hserr(h, line, "line longer than %d bytes (hsflowd cuts it)",
				     HS_LINE_MAX);
		if (h->nlines == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			const char **v = realloc(h->code, ncap * sizeof *v);
			size_t *w;

			if (!v)
				return hserr(h, line, "out of memory");
			h->code = v;
			w = realloc(h->codelen, ncap * sizeof *w);
			if (!w)
				return hserr(h, line, "out of memory");
			h->codelen = w;
			cap = ncap;
		}
		h->code[h->nlines] = c;
		h->codelen[h->nlines++] = code;
		if (split_line(h, c, code, line))
			return -1;
		pos += l + 1;
	}
	return 0;
}

/* ---- reading the words ---- */

static struct tok *peek(struct hs *h)
{
	return h->i < h->n ? &h->t[h->i] : NULL;
}

static int is(const struct tok *t, const char *word)
{
	return t && !t->quoted && !strcasecmp(t->s, word);
}

static int last_line(const struct hs *h)
{
	return h->n ? h->t[h->n - 1].line : (int)(h->nlines ? h->nlines : 1);
}

/* The value after key t: any word but a brace. */
static struct tok *value(struct hs *h, const struct tok *key)
{
	struct tok *v = peek(h);

	if (!v || (!v->quoted && (!strcmp(v->s, "{") || !strcmp(v->s, "}")))) {
		hserr(h, key->line, "%s: missing value", key->s);
		return NULL;
	}
	h->i++;
	return v;
}

/* hsflowd's expectInteger32: digits with an optional K, M or G (10^3..10^9);
 * it reads a leading 0 as octal and 0x as hex, which are refused here
 * rather than guessed. */
static int integer(struct hs *h, const struct tok *key, const struct tok *v, uint32_t *out)
{
	uint64_t n = 0, mult = 1;
	size_t len = strlen(v->s), i;
	char last = len ? v->s[len - 1] : 0;

	if (last == 'k' || last == 'K')
		mult = 1000;
	else if (last == 'm' || last == 'M')
		mult = 1000000;
	else if (last == 'g' || last == 'G')
		mult = 1000000000;
	if (mult > 1)
		len--;
	for (i = 0; i < len && v->s[i] >= '0' && v->s[i] <= '9'; i++)
		if (n <= UINT32_MAX)
			n = n * 10 + (uint64_t)(v->s[i] - '0');
	if (!len || i < len)
		return hserr(h, v->line, "%s: '%s' is not a whole number", key->s, v->s);
	if (len > 1 && v->s[0] == '0')
		return hserr(h, v->line, "%s: '%s' starts with 0, which hsflowd reads as "
			     "octal; write the number without it", key->s, v->s);
	if (n > UINT32_MAX || n * mult > UINT32_MAX)
		return hserr(h, v->line, "%s: '%s' is out of range", key->s, v->s);
	*out = (uint32_t)(n * mult);
	return 0;
}

static struct import_item *item_from(struct hs *h, size_t first_tok)
{
	int a = h->t[first_tok].line, b = h->t[h->i ? h->i - 1 : 0].line;
	char echo[HS_LINE_MAX * 2 + 8];
	size_t used = 0;

	for (int l = a; l <= b && l >= 1 && (size_t)l <= h->nlines; l++) {
		const char *c = h->code[l - 1];
		size_t n = h->codelen[l - 1];

		while (n && strchr(" \t\r", *c))
			c++, n--;
		while (n && strchr(" \t\r", c[n - 1]))
			n--;
		if (!n)
			continue;
		if (used && used < sizeof echo - 1)
			echo[used++] = ' ';
		if (n > sizeof echo - 1 - used)
			n = sizeof echo - 1 - used;
		memcpy(echo + used, c, n);
		used += n;
	}
	return import_item(h->plan, a, b, echo, used);
}

/* ---- speeds, as hsflowd names them (printSpeed) ---- */

/* printSpeed: the digits, cut to K, M, G or T when longer than 3, 6, 9, 12
 * (1000000000 is 1G, 2500000000 is 2G too). */
static void hs_speed_key(uint64_t bps, char *out, size_t outlen)
{
	char d[24];
	int n = snprintf(d, sizeof d, "%llu", (unsigned long long)bps), chop = 0;
	char unit = 0;

	if (n > 12)
		chop = 12, unit = 'T';
	else if (n > 9)
		chop = 9, unit = 'G';
	else if (n > 6)
		chop = 6, unit = 'M';
	else if (n > 3)
		chop = 3, unit = 'K';
	if (chop)
		snprintf(out, outlen, "%.*s%c", n - chop, d, unit);
	else
		snprintf(out, outlen, "%s", d);
}

/* The speed a `sampling.<key>` names when hsflowd can match it: 0 when it
 * is no speed it ever writes (1000M, 1g, 01G). */
static uint64_t speed_of_key(const char *key)
{
	uint64_t v = 0, mult = 1;
	size_t len = strlen(key), i;
	char back[HS_SPEED_KEY_MAX];

	if (!len || len >= HS_SPEED_KEY_MAX - 1)
		return 0;
	switch (key[len - 1]) {
	case 'K': mult = 1000ULL; len--; break;
	case 'M': mult = 1000000ULL; len--; break;
	case 'G': mult = 1000000000ULL; len--; break;
	case 'T': mult = 1000000000000ULL; len--; break;
	}
	for (i = 0; i < len; i++) {
		if (key[i] < '0' || key[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(key[i] - '0');
	}
	if (!len || !v || v > UINT64_MAX / mult)
		return 0;
	v *= mult;
	hs_speed_key(v, back, sizeof back);
	return strcmp(back, key) ? 0 : v;
}

static int speed_like(const char *key)
{
	return key[0] >= '0' && key[0] <= '9';
}

/* ---- the settings ---- */

struct plain {
	const char *name;
	const char *why;       /* no equivalent: why */
};

/* sflow-level settings hsflowd takes that hostflowd has nothing for. */
static const struct plain plain_none[] = {
	{ "datagramBytes", "hostflowd sizes each datagram to the path MTU towards its "
	  "collector, at most 1400 bytes (1232 over a 1280-byte tailnet)" },
	{ "uuid", "the UUID goes into sFlow host structures, which hostflowd does not send" },
	{ "loopback", "hsflowd itself ignores it" },
	{ "samplingDirection", "hsflowd itself ignores it; hostflowd samples both "
	  "directions and labels each sample's from the packet" },
	{ "refreshAdaptors", "hostflowd follows netlink's link events instead of "
	  "re-reading the interfaces on a timer" },
	{ "checkAdaptors", "hostflowd follows netlink's link events instead of "
	  "re-reading the interfaces on a timer" },
	{ "refreshVMs", "hostflowd reports interfaces, not virtual machines or containers" },
	{ "forgetVMs", "hostflowd reports interfaces, not virtual machines or containers" },
	{ "modules", "hsflowd's module directory; hostflowd has no modules" },
	{ "DNSSD", "hostflowd takes its collectors and rates from this file, not "
	  "from DNS-SD: write them as collector and sampling_rate lines" },
	{ "DNSSD_domain", "hostflowd takes its collectors and rates from this file, "
	  "not from DNS-SD: write them as collector and sampling_rate lines" },
	{ "ulogGroup", "ULOG sampling takes the packets an iptables rule sends; "
	  "hostflowd samples interfaces with packet sockets" },
	{ "ulogProbability", "ULOG sampling takes the packets an iptables rule sends; "
	  "hostflowd samples interfaces with packet sockets" },
	{ "nflogGroup", "NFLOG sampling takes the packets an iptables rule sends; "
	  "hostflowd samples interfaces with packet sockets" },
	{ "nflogProbability", "NFLOG sampling takes the packets an iptables rule sends; "
	  "hostflowd samples interfaces with packet sockets" },
	{ "jsonPort", "hostflowd takes no application metrics over JSON" },
	{ "jsonFIFO", "hostflowd takes no application metrics over JSON" },
	{ "xen.update.dominfo", "hostflowd reports interfaces, not virtual machines" },
	{ "xen.dsk", "hostflowd reports interfaces, not virtual machines" },
};

/* Modules (`NAME { ... }`) hostflowd has nothing for. */
static const struct plain modules_none[] = {
	{ "dns-sd", "hostflowd takes its collectors and rates from this file, not from "
	  "DNS-SD: write them as collector and sampling_rate lines" },
	{ "psample", "psample takes the packets a tc sample action or a switch ASIC hands "
	  "over; hostflowd samples interfaces itself with packet sockets: name them "
	  "in sample lines" },
	{ "dropmon", "hostflowd sends no dropped-packet notifications" },
	{ "tcp", "hostflowd adds no TCP round-trip or loss records to its samples" },
	{ "json", "hostflowd takes no application metrics over JSON" },
	{ "kvm", "hostflowd reports interfaces, not virtual machines" },
	{ "xen", "hostflowd reports interfaces, not virtual machines" },
	{ "docker", "hostflowd reports interfaces, not containers (it samples their "
	  "veths when a sample line names them, e.g. sample veth*)" },
	{ "containerd", "hostflowd reports interfaces, not containers (it samples their "
	  "veths when a sample line names them, e.g. sample veth*)" },
	{ "k8s", "hostflowd reports interfaces, not pods (it samples their veths when a "
	  "sample line names them)" },
	{ "systemd", "hostflowd reports interfaces, not services" },
	{ "nvml", "hostflowd reports interfaces, not GPUs" },
	{ "dbus", "hostflowd is configured by this file only" },
	{ "ovs", "Open vSwitch's own sFlow agent is configured by hsflowd; hostflowd "
	  "samples Linux interfaces itself" },
	{ "cumulus", "switch ASIC sampling; hostflowd samples Linux interfaces itself" },
	{ "dent", "switch ASIC sampling; hostflowd samples Linux interfaces itself" },
	{ "os10", "switch ASIC sampling; hostflowd samples Linux interfaces itself" },
	{ "opx", "switch ASIC sampling; hostflowd samples Linux interfaces itself" },
	{ "sonic", "switch ASIC sampling; hostflowd samples Linux interfaces itself" },
	{ "eapi", "Arista's switch configuration; hostflowd is configured by this file only" },
	{ "vpp", "VPP's interfaces are not the kernel's; hostflowd samples kernel interfaces" },
	{ "nlroute", "hostflowd looks routes up for forwarded packets by itself "
	  "(extended_router), without a setting" },
};

static const char *why_in(const struct plain *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(v[i].name, name))
			return v[i].why;
	return NULL;
}

#define COUNT(a) (sizeof a / sizeof a[0])

/* A module without equivalent: its body is skipped (braces balanced, at
 * most HS_DEPTH_MAX deep); nflog's and ulog's probability is read for the
 * note. */
static int module_none(struct hs *h, size_t first, const char *why, int depth)
{
	const struct tok *key = &h->t[first];
	const char *group = NULL, *prob = NULL;
	struct import_item *it;

	while (depth > 1) {
		struct tok *t = peek(h);

		if (!t)
			return hserr(h, key->line, "the '{' of %s is not closed", key->s);
		h->i++;
		if (is(t, "{")) {
			if (++depth > HS_DEPTH_MAX)
				return hserr(h, t->line, "more than %d levels of '{' "
					     "(hsflowd refuses it too)", HS_DEPTH_MAX);
		} else if (is(t, "}")) {
			depth--;
		} else if (depth == 2 && (is(t, "probability") || is(t, "group"))) {
			struct tok *v = value(h, t);

			if (!v)
				return -1;
			*(is(t, "group") ? &group : &prob) = v->s;
		}
	}
	it = item_from(h, first);
	if ((is(key, "nflog") || is(key, "ulog")) && prob) {
		double p = strtod(prob, NULL);

		import_note(it, "no equivalent: %s samples the packets an iptables rule sends "
			    "to group %s, each with probability %s; hostflowd samples "
			    "whole interfaces with packet sockets and cannot tell which "
			    "packets that rule covers: add a sample line for each interface "
			    "it matched", key->s, group ? group : "?", prob);
		if (p > 0 && p <= 1)
			import_note(it, "(a probability of %s is 1 in %.0f: sample NAME rate "
				    "%.0f)", prob, 1 / p, 1 / p);
	} else if (is(key, "nflog") || is(key, "ulog")) {
		import_note(it, "no equivalent: %s samples the packets an iptables rule "
			    "sends; hostflowd samples whole interfaces with packet sockets: "
			    "add a sample line for each interface that rule matched", key->s);
	} else {
		import_note(it, "no equivalent: %s", why);
	}
	return 0;
}

static int collector(struct hs *h, size_t first)
{
	const struct tok *key = &h->t[first];
	const char *ip = NULL, *dev = NULL, *ns = NULL;
	uint32_t port = CFG_SFLOW_PORT;
	struct import_item *it;

	for (;;) {
		struct tok *t = peek(h), *v;

		if (!t)
			return hserr(h, key->line, "the '{' of collector is not closed");
		h->i++;
		if (is(t, "}"))
			break;
		if (is(t, "{"))
			return hserr(h, t->line, "unexpected '{' in collector { }");
		v = value(h, t);
		if (!v)
			return -1;
		if (is(t, "ip")) {
			ip = v->s;
		} else if (is(t, "udpport")) {
			if (integer(h, t, v, &port))
				return -1;
			if (port < 1 || port > 65535)
				return hserr(h, v->line, "udpport: %u is not a port 1..65535",
					     port);
		} else if (is(t, "dev")) {
			dev = v->s;
		} else if (is(t, "namespace")) {
			ns = v->s;
		} else {
			return hserr(h, t->line, "collector { }: '%s' is not one of ip, "
				     "udpport, dev, namespace", t->s);
		}
	}
	if (!ip)
		return hserr(h, key->line, "collector { } without ip (hsflowd refuses it "
			     "too)");
	it = item_from(h, first);
	if (dev)
		import_note(it, "dev %s: hostflowd sends through the routing table, with "
			    "no device of its own per collector", dev);
	if (ns)
		import_note(it, "namespace %s: hostflowd sends from its own network "
			    "namespace: run it there", ns);
	if (!import_host_ok(ip)) {
		import_note(it, "not taken: '%s' is neither an IP address nor a DNS name "
			    "hostflowd can write", ip);
		return 0;
	}
	import_collector(it, ip, (uint16_t)port);
	h->collectors++;
	return 0;
}

static int pcap(struct hs *h, size_t first)
{
	const struct tok *key = &h->t[first];
	const char *dev = NULL, *speed = NULL, *promisc = NULL, *vport = NULL;
	uint32_t rate = 0;
	int has_rate = 0;
	struct import_item *it;
	const char *why;

	for (;;) {
		struct tok *t = peek(h), *v;

		if (!t)
			return hserr(h, key->line, "the '{' of pcap is not closed");
		h->i++;
		if (is(t, "}"))
			break;
		if (is(t, "{"))
			return hserr(h, t->line, "unexpected '{' in pcap { }");
		v = value(h, t);
		if (!v)
			return -1;
		if (is(t, "dev")) {
			dev = v->s;
		} else if (is(t, "speed")) {
			speed = v->s;
		} else if (is(t, "promisc")) {
			promisc = v->s;
		} else if (is(t, "vport")) {
			vport = v->s;
		} else if (is(t, "sampling")) {
			if (integer(h, t, v, &rate))
				return -1;
			has_rate = 1;
		} else {
			return hserr(h, t->line, "pcap { }: '%s' is not one of dev, speed, "
				     "promisc, vport, sampling", t->s);
		}
	}
	it = item_from(h, first);
	if (promisc)
		import_note(it, "promisc %s: hostflowd never puts an interface in "
			    "promiscuous mode", promisc);
	if (vport)
		import_note(it, "vport %s: hostflowd takes each packet's direction from "
			    "the packet socket, on any device", vport);
	if (speed && !dev) {
		import_note(it, "no equivalent: hsflowd samples every interface whose speed "
			    "is in %s; hostflowd chooses interfaces by name: write a sample "
			    "line for each", speed);
		return 0;
	}
	if (speed)
		import_note(it, "speed %s: hostflowd samples %s whatever its speed", speed,
			    dev);
	if (!dev) {
		import_note(it, "no equivalent: a pcap { } without dev samples nothing");
		return 0;
	}
	why = import_ifname_why(dev);
	if (why) {
		import_note(it, "not taken: '%s' is %s", dev, why);
		return 0;
	}
	if (has_rate && !rate) {
		import_note(it, "sampling 0: hsflowd did not sample %s; hostflowd does not "
			    "either without a sample line", dev);
		return 0;
	}
	if (!has_rate)
		import_note(it, "%s is sampled at the rate of its speed, as in hsflowd "
			    "(sampling_rate lines)", dev);
	import_sample(it, dev, rate, NULL);
	h->samples++;
	return 0;
}

static int sampling_dot(struct hs *h, size_t first, const struct tok *key,
			const struct tok *v)
{
	const char *app = key->s + strlen("sampling.");
	struct import_item *it;
	uint32_t n;

	if (integer(h, key, v, &n))
		return -1;
	it = item_from(h, first);
	if (!strcasecmp(app, "bps_ratio")) {
		h->have_bps_ratio = 1;
		h->bps_ratio = n;
		import_note(it, "hsflowd's rate for a link of a speed without sampling.<speed>: "
			    "%s; written out for the usual speeds at the end",
			    n ? "its speed divided by this" : "sampling (the ratio is off)");
		return 0;
	}
	{
		char key_of[HS_SPEED_KEY_MAX + 16];

		/* hsflowd keeps the last value of a key. */
		snprintf(key_of, sizeof key_of, "sampling.%.*s", HS_SPEED_KEY_MAX, app);
		import_key(it, key_of);
	}
	if (!speed_like(app)) {
		import_note(it, "no equivalent: sampling by application (sFlow-APPLICATION); "
			    "hostflowd samples packets only");
		return 0;
	}
	for (size_t i = 0; i < h->nspeeds; i++)
		if (!strcmp(h->speeds[i].key, app)) {
			h->speeds[i].rate = n;
			h->speeds[i].it = it;
			return 0;
		}
	{
		struct speed_entry *e = realloc(h->speeds, (h->nspeeds + 1) * sizeof *e);

		if (!e)
			return hserr(h, key->line, "out of memory");
		h->speeds = e;
		e = &h->speeds[h->nspeeds++];
		memset(e, 0, sizeof *e);
		snprintf(e->key, sizeof e->key, "%s", app);
		e->bps = strlen(app) < sizeof e->key ? speed_of_key(app) : 0;
		e->rate = n;
		e->it = it;
	}
	return 0;
}

static int cidr_ok(const char *s)
{
	const char *slash;
	char addr[64];
	unsigned char a[16];
	char *end;
	long bits;
	int v6;

	if (*s == '!')
		s++;
	slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof addr)
		return 0;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	v6 = inet_pton(AF_INET6, addr, a) == 1;
	if (!v6 && inet_pton(AF_INET, addr, a) != 1)
		return 0;
	bits = strtol(slash + 1, &end, 10);
	return slash[1] && !*end && bits >= 0 && bits <= (v6 ? 128 : 32);
}

/* One setting inside sflow { }. */
static int setting(struct hs *h)
{
	size_t first = h->i;
	struct tok *key = &h->t[h->i++], *v;
	struct import_item *it;
	const char *why;
	uint32_t n;

	if (is(key, "{"))
		return hserr(h, key->line, "unexpected '{'");
	if (!key->quoted && (why = why_in(modules_none, COUNT(modules_none), key->s))) {
		if (!is(peek(h), "{"))
			return hserr(h, key->line, "%s: expected '{'", key->s);
		h->i++;
		return module_none(h, first, why, 2);
	}
	if (is(key, "collector") || is(key, "pcap") || is(key, "nflog") ||
	    is(key, "ulog")) {
		if (!is(peek(h), "{"))
			return hserr(h, key->line, "%s: expected '{'", key->s);
		h->i++;
		if (is(key, "collector"))
			return collector(h, first);
		if (is(key, "pcap"))
			return pcap(h, first);
		return module_none(h, first, NULL, 2);
	}
	v = value(h, key);
	if (!v)
		return -1;
	if (!key->quoted && !strncasecmp(key->s, "sampling.", 9))
		return sampling_dot(h, first, key, v);
	if (!key->quoted && !strncasecmp(key->s, "polling.", 8)) {
		if (integer(h, key, v, &n))
			return -1;
		it = item_from(h, first);
		import_note(it, "no equivalent: polling by application; hostflowd sends the "
			    "counters of sampled interfaces every polling_interval");
		return 0;
	}
	if (is(key, "sampling") || is(key, "packetSamplingRate")) {
		if (integer(h, key, v, &n))
			return -1;
		it = item_from(h, first);
		h->global_rate = n;
		if (!n) {
			import_note(it, "sampling 0: hsflowd did not sample links of unknown "
				    "speed; hostflowd has no rate 0: they take the default "
				    "sampling_rate 400 unless a sample line says off");
			import_key(it, "sampling");
		} else {
			import_note(it, "hsflowd used it for links of unknown speed (0); "
				    "hostflowd for those and for speeds without a "
				    "sampling_rate of their own");
			import_directive(it, "sampling", "sampling_rate %u", n);
		}
		return 0;
	}
	if (is(key, "polling") || is(key, "counterPollingInterval")) {
		if (integer(h, key, v, &n))
			return -1;
		it = item_from(h, first);
		import_key(it, "polling");
		if (n > 86400)
			import_note(it, "not taken: hostflowd polls at most every 86400 s");
		else
			import_directive(it, "polling", "polling_interval %u", n);
		return 0;
	}
	if (is(key, "headerBytes")) {
		if (integer(h, key, v, &n))
			return -1;
		it = item_from(h, first);
		import_key(it, "header");
		if (n < 1 || n > 256)
			import_note(it, "not taken: hostflowd sends 1 to 256 bytes of each "
				    "header (default 128)");
		else
			import_directive(it, "header", "header_bytes %u", n);
		return 0;
	}
	if (is(key, "subAgentId")) {
		if (integer(h, key, v, &n))
			return -1;
		it = item_from(h, first);
		import_directive(it, "subagent", "sub_agent_id %u", n);
		return 0;
	}
	if (is(key, "agent")) {
		it = item_from(h, first);
		import_key(it, "agent");
		why = import_ifname_why(v->s);
		h->agent_dev = it;
		h->agent_dev_ok = !why;
		if (why)
			import_note(it, "not taken: '%s' is %s", v->s, why);
		else
			snprintf(h->agent_dev_s, sizeof h->agent_dev_s, "%s", v->s);
		return 0;
	}
	if (is(key, "agentIP")) {
		it = item_from(h, first);
		import_key(it, "agentIP");
		h->agent_ip = it;
		h->agent_ip_line = key->line;
		h->agent_ip_ok = import_addr_ok(v->s);
		if (!h->agent_ip_ok)
			import_note(it, "not taken: hostflowd's agent_address is a literal IP "
				    "address, and hsflowd resolved '%s' when it started: write "
				    "agent_address with that address", v->s);
		else
			snprintf(h->agent_ip_s, sizeof h->agent_ip_s, "%s", v->s);
		return 0;
	}
	if (is(key, "agent.cidr")) {
		if (!cidr_ok(v->s))
			return hserr(h, v->line, "agent.cidr: '%s' is not an address/prefix "
				     "length", v->s);
		it = item_from(h, first);
		import_note(it, "no equivalent: hostflowd does not choose the agent address "
			    "by prefix; name the interface that has it (agent_interface) "
			    "or the address itself (agent_address)");
		return 0;
	}
	if (!key->quoted && (why = why_in(plain_none, COUNT(plain_none), key->s))) {
		it = item_from(h, first);
		import_note(it, "no equivalent: %s", why);
		return 0;
	}
	return hserr(h, key->line, "'%s' is not an hsflowd setting this import knows "
		     "(hsflowd refuses unknown settings too)", key->s);
}

static int parse(struct hs *h)
{
	int seen = 0;

	while (h->i < h->n) {
		struct tok *t = &h->t[h->i];

		if (seen)
			return hserr(h, t->line, "'%s' after the end of sflow { } (hsflowd "
				     "reads one sflow { } and nothing else)", t->s);
		if (!is(t, "sflow") || h->i + 1 >= h->n || !is(&h->t[h->i + 1], "{"))
			return hserr(h, t->line, "expected 'sflow {', found '%s' (every "
				     "hsflowd setting is inside sflow { ... })", t->s);
		h->i += 2;
		seen = t->line;
		for (;;) {
			struct tok *k = peek(h);

			if (!k)
				return hserr(h, seen, "the '{' of sflow is not closed");
			if (is(k, "}")) {
				h->i++;
				break;
			}
			if (setting(h))
				return -1;
		}
	}
	if (!seen)
		return hserr(h, last_line(h), "no sflow { ... } in the file (hsflowd "
			     "refuses it too)");
	return 0;
}

/* ---- what the whole file decides ---- */

/* hsflowd takes agentIP first, then agent; hostflowd one of the two. */
static void agent_choice(struct hs *h)
{
	if (h->agent_ip_ok) {
		import_directive(h->agent_ip, "agentIP", "agent_address %s", h->agent_ip_s);
		if (h->agent_dev_ok)
			import_note(h->agent_dev, "not taken: hsflowd uses agentIP (line %d) "
				    "first, and hostflowd takes one of agent_address and "
				    "agent_interface", h->agent_ip_line);
	} else if (h->agent_dev_ok) {
		import_directive(h->agent_dev, "agent", "agent_interface %s", h->agent_dev_s);
	}
}

static int speed_has_key(const struct hs *h, uint64_t bps)
{
	char k[HS_SPEED_KEY_MAX];

	hs_speed_key(bps, k, sizeof k);
	for (size_t i = 0; i < h->nspeeds; i++)
		if (!strcmp(h->speeds[i].key, k))
			return 1;
	return 0;
}

static void speed_table(struct hs *h)
{
	for (size_t i = 0; i < h->nspeeds; i++) {
		const struct speed_entry *e = &h->speeds[i];
		char text[CFG_SPEED_TEXT], k[HS_SPEED_KEY_MAX];

		if (!e->bps) {
			import_note(e->it, "no equivalent: hsflowd names speeds like 100M, 1G, "
				    "10G (upper case, cut to the unit: 2.5G is 2G) and never "
				    "matched a link with sampling.%s", e->key);
			continue;
		}
		if (!e->rate) {
			import_note(e->it, "sampling 0: hsflowd did not sample %s links; "
				    "hostflowd cannot turn sampling off by speed: write sample "
				    "NAME off for those interfaces", e->key);
			continue;
		}
		config_speed_text(e->bps, text, sizeof text);
		import_directive(e->it, NULL, "sampling_rate %s %u", text, e->rate);
		for (size_t s = 0; s < COUNT(usual_speeds); s++) {
			hs_speed_key(usual_speeds[s], k, sizeof k);
			if (usual_speeds[s] == e->bps || strcmp(k, e->key))
				continue;
			config_speed_text(usual_speeds[s], text, sizeof text);
			import_note(e->it, "hsflowd also took it for %s links (it names their "
				    "speed %s)", text, e->key);
			import_directive(e->it, NULL, "sampling_rate %s %u", text, e->rate);
		}
	}
}

static void tail(struct hs *h)
{
	struct import_item *it = import_tail(h->plan, "What hsflowd did without a setting:");
	uint64_t ratio = h->have_bps_ratio ? h->bps_ratio : HS_SPEED_RATIO;
	uint32_t min = h->have_bps_ratio ? 1 : HS_SPEED_MIN_RATE;

	if (h->have_bps_ratio && !h->bps_ratio) {
		import_note(it, "a link whose speed has no sampling.<speed> was sampled at "
			    "sampling (%u), as hostflowd does with sampling_rate",
			    h->global_rate ? h->global_rate : HS_DEFAULT_RATE);
	} else {
		import_note(it, "a link whose speed has no sampling.<speed> was sampled at "
			    "its speed / %llu, at least %u (lookupPacketSamplingRate); "
			    "hostflowd looks speeds up exactly, so here are the usual ones "
			    "(another speed gets sampling_rate):", (unsigned long long)ratio,
			    min);
		for (size_t s = 0; s < COUNT(usual_speeds); s++) {
			char text[CFG_SPEED_TEXT];
			uint64_t n = usual_speeds[s] / ratio;

			if (speed_has_key(h, usual_speeds[s]))
				continue;
			if (n < min)
				n = min;
			if (n > UINT32_MAX)
				n = UINT32_MAX;
			config_speed_text(usual_speeds[s], text, sizeof text);
			import_directive(it, NULL, "sampling_rate %s %llu", text,
					 (unsigned long long)n);
		}
	}
	it = import_tail(h->plan, "And what differs:");
	import_note(it, "hsflowd sent counter samples for every interface; hostflowd "
		    "sends them for the interfaces it samples, with the counters and "
		    "ifIndex SNMP serves.");
	if (!h->samples)
		import_note(it, "No interface was sampled by name (pcap { dev = }), so no "
			    "sample line is written and hostflowd samples nothing until one "
			    "is added: sample lo off, then sample eth0, sample tailscale0 "
			    "(or sample * for all).");
	if (!h->collectors)
		import_note(it, "No collector was taken: hostflowd samples nothing until a "
			    "collector line names one.");
	if (!h->agent_ip_ok && !h->agent_dev_ok)
		import_note(it, "hostflowd's agent address is then the first global address "
			    "of an up interface; a collector polls SNMP there, so name it: "
			    "agent_interface tailscale0 or agent_address IP.");
}

int import_hsflowd(const char *name, const char *text, size_t len,
		   const struct import_io *io, char **out, char *err, size_t errlen)
{
	struct hs h = { .name = name, .err = err, .errlen = errlen, .text = text,
			.len = len };
	int rc = -1;

	(void)io;
	h.plan = import_plan_new(name, "hsflowd");
	if (!h.plan) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	if (split(&h) == 0 && parse(&h) == 0) {
		agent_choice(&h);
		speed_table(&h);
		tail(&h);
		rc = import_render(h.plan, out, err, errlen);
	}
	for (size_t i = 0; i < h.n; i++)
		free(h.t[i].s);
	free(h.t);
	free(h.code);
	free(h.codelen);
	free(h.speeds);
	import_plan_free(h.plan);
	return rc;
}
