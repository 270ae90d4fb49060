/* pmacctd.conf read as pmacctd 1.7.7 reads it (src/cfg.c): one `key: value`
 * a line, `key[name]: value` for the plugin called name, blanks inside the
 * key ignored, keys lower-cased, '!' or '#' first on a line makes it a
 * comment; the first `plugins:` line declares the plugins. A key applies
 * to every plugin, or to the named one; of repeated lines the last that
 * pmacctd takes wins, and a value it cannot read is ignored (with a warning
 * there, a note here). A line it refuses (no ':', unbalanced brackets) is
 * an error here too. Only the sfprobe plugin has an equivalent: hostflowd
 * is an sFlow agent. */
#include "config/import.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/textfile.h"
#include "base/util.h"
#include "config/config.h"
#include "config/ifmap.h"

#define PM_LINE_MAX    10239  /* pmacctd reads a line into 10240 bytes */
#define PM_KEY_MAX     63     /* no pmacct key is longer */
#define PM_NAME_MAX    63     /* plugin names we keep */
#define PM_PLUGINS_MAX 32     /* plugins of one daemon we look at */
#define PM_MIN_SNAPLEN 68     /* DEFAULT_SNAPLEN: pmacctd ignores a smaller snaplen */
#define PM_DEFAULT_RECEIVER "127.0.0.1"  /* sfprobe's default collector */

struct pm_line {
	int line;
	char key[PM_KEY_MAX + 1];
	char name[PM_NAME_MAX + 1];   /* "" = every plugin */
	int named;
	char *value;                  /* trimmed, NUL-terminated copy */
	const char *raw;
	size_t rawlen;
	struct import_item *it;
	int effective;                /* the line in force for some plugin */
};

struct pm_plugin {
	char type[16];
	char name[PM_NAME_MAX + 1];
	int line;
};

struct pm {
	const char *name;
	char *err;
	size_t errlen;
	const struct import_io *io;
	struct import_plan *plan;
	struct pm_line *l;
	size_t n;
	struct pm_plugin plugins[PM_PLUGINS_MAX];
	size_t nplugins;
	int plugins_line;
};

static int pmerr(struct pm *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int pmerr(struct pm *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	textfile_verr(p->err, p->errlen, p->name, line, fmt, ap);
	va_end(ap);
	import_printable(p->err);
	return -1;
}

/* ---- lines ---- */

static int is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* key[name] before the first ':' (pmacctd's sanitize_cfg rules). */
static int split_key(struct pm *p, struct pm_line *e, const char *s, size_t n)
{
	size_t k = 0, m = 0, i;
	int depth = 0, closed = 0, letter = 0;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '[') {
			if (depth || closed)
				return pmerr(p, e->line, "nested or repeated [ ] in the key "
					     "(pmacctd refuses it too)");
			if (!letter)
				return pmerr(p, e->line, "[ ] not after a key (pmacctd "
					     "refuses it too)");
			depth = 1;
			continue;
		}
		if (c == ']') {
			if (!depth)
				return pmerr(p, e->line, "']' without '[' in the key "
					     "(pmacctd refuses it too)");
			depth = 0;
			closed = 1;
			continue;
		}
		if (depth) {
			if (m == PM_NAME_MAX)
				return pmerr(p, e->line, "plugin name longer than %d bytes",
					     PM_NAME_MAX);
			if (!is_blank(c))
				e->name[m++] = c;
			continue;
		}
		if (is_blank(c))
			continue;
		if (closed)
			return pmerr(p, e->line, "text after the key's [ ]");
		if (k == PM_KEY_MAX)
			return pmerr(p, e->line, "key longer than %d bytes (no pmacct key "
				     "is)", PM_KEY_MAX);
		letter |= isalpha((unsigned char)c);
		e->key[k++] = (char)tolower((unsigned char)c);
	}
	if (depth)
		return pmerr(p, e->line, "'[' without ']' in the key (pmacctd refuses it "
			     "too)");
	if (!k)
		return pmerr(p, e->line, "missing key before ':' (pmacctd refuses it too)");
	e->key[k] = '\0';
	e->name[m] = '\0';
	e->named = closed;
	if (closed && !m)
		return pmerr(p, e->line, "empty plugin name in [ ]");
	return 0;
}

static int add_line(struct pm *p, int line, const char *raw, size_t len, size_t *cap)
{
	struct pm_line *e;
	const char *colon = memchr(raw, ':', len);
	size_t vs, ve;

	if (hf_grow(&p->l, p->n, cap, sizeof *p->l, 32) < 0)
		return pmerr(p, line, "out of memory");
	e = &p->l[p->n];
	memset(e, 0, sizeof *e);
	e->line = line;
	e->raw = raw;
	e->rawlen = len;
	if (!colon)
		return pmerr(p, line, "missing ':' (pmacctd refuses it too: key: value)");
	if (split_key(p, e, raw, (size_t)(colon - raw)))
		return -1;
	vs = (size_t)(colon - raw) + 1;
	ve = len;
	while (vs < ve && is_blank(raw[vs]))
		vs++;
	while (ve > vs && is_blank(raw[ve - 1]))
		ve--;
	e->value = strndup(raw + vs, ve - vs);
	if (!e->value)
		return pmerr(p, line, "out of memory");
	p->n++;
	return 0;
}

static int read_lines(struct pm *p, const char *text, size_t len)
{
	size_t pos = 0, cap = 0;
	int line = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - text) - pos : len - pos;
		const char *s = text + pos;
		size_t i = 0;

		line++;
		pos += l + 1;
		if (memchr(s, '\0', l))
			return pmerr(p, line, "NUL byte in line");
		if (l > PM_LINE_MAX)
			return pmerr(p, line, "line longer than %d bytes (pmacctd cuts it)",
				     PM_LINE_MAX);
		while (i < l && (is_blank(s[i])))
			i++;
		if (i == l || s[i] == '!' || s[i] == '#')
			continue;
		if (add_line(p, line, s + i, l - i, &cap))
			return -1;
	}
	return 0;
}

/* ---- values as pmacctd reads them ---- */

/* parse_truefalse: 1, 0, or -1 (pmacctd ignores the line). */
static int truefalse(const char *v)
{
	if (!strcasecmp(v, "true"))
		return 1;
	if (!strcasecmp(v, "false"))
		return 0;
	return -1;
}

/* atoi: the leading digits; -1 when there are none. */
static long long leading_number(const char *v)
{
	long long n = 0;
	int any = 0;

	if (*v == '+')
		v++;
	for (; *v >= '0' && *v <= '9'; v++) {
		any = 1;
		if (n < 100000000000LL)
			n = n * 10 + (*v - '0');
	}
	return any ? n : -1;
}

static const struct pm_plugin *plugin_named(const struct pm *p, const char *name)
{
	for (size_t i = 0; i < p->nplugins; i++)
		if (!strcmp(p->plugins[i].name, name))
			return &p->plugins[i];
	return NULL;
}

/* The first `plugins:` line: type[name], ... */
static void read_plugins(struct pm *p, struct pm_line *e)
{
	char *list = strdup(e->value), *tok, *save = NULL;

	p->plugins_line = e->line;
	if (!list) {
		import_note(e->it, "out of memory");
		return;
	}
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct pm_plugin pl = { .line = e->line };
		char *br = strchr(tok, '['), *end = br ? strchr(br, ']') : NULL;
		char *t = tok;
		size_t n;

		if (br && end && end > br + 1) {
			*end = '\0';
			snprintf(pl.name, sizeof pl.name, "%.*s", PM_NAME_MAX, br + 1);
			*br = '\0';
		}
		while (is_blank(*t))
			t++;
		n = strlen(t);
		while (n && is_blank(t[n - 1]))
			t[--n] = '\0';
		for (size_t i = 0; i < n; i++)
			t[i] = (char)tolower((unsigned char)t[i]);
		if (!n)
			continue;
		snprintf(pl.type, sizeof pl.type, "%.*s", (int)sizeof pl.type - 1, t);
		if (!pl.name[0])
			snprintf(pl.name, sizeof pl.name, "default_%.*s", PM_NAME_MAX - 8, t);
		if (strcmp(pl.type, "sfprobe")) {
			import_note(e->it, "%s[%s]: no equivalent: hostflowd is an sFlow agent "
				    "only; pmacctd's %s plugin stays pmacctd's", pl.type,
				    pl.name, pl.type);
			continue;
		}
		if (plugin_named(p, pl.name)) {
			import_note(e->it, "sfprobe[%s] again: pmacctd keeps the first", pl.name);
			continue;
		}
		if (p->nplugins == PM_PLUGINS_MAX) {
			import_note(e->it, "sfprobe[%s]: not taken: more than %d sfprobe "
				    "plugins", pl.name, PM_PLUGINS_MAX);
			continue;
		}
		p->plugins[p->nplugins++] = pl;
		import_note(e->it, "sfprobe[%s]: sFlow to its sfprobe_receiver, as hostflowd "
			    "sends to its collectors", pl.name);
	}
	free(list);
}

/* ---- one key, as the plugins see it ---- */

/* A key of the sfprobe plugins: the names it goes by (pmacct groups
 * nfprobe_ and sfprobe_ keys that share a field). */
struct pkey {
	const char *names[3];
	int (*valid)(const char *value);   /* NULL: any */
};

static int valid_rate(const char *v)
{
	return leading_number(v) >= 1;
}

static int valid_number(const char *v)
{
	return leading_number(v) >= 0;
}

static const struct pkey K_RECEIVER = { { "sfprobe_receiver", NULL, NULL }, NULL };
static const struct pkey K_AGENTIP = { { "sfprobe_agentip", NULL, NULL }, NULL };
static const struct pkey K_SUBID = { { "sfprobe_agentsubid", NULL, NULL }, valid_number };
static const struct pkey K_RATE = { { "sampling_rate", NULL, NULL }, valid_rate };

static int key_is(const struct pkey *k, const char *key)
{
	for (int i = 0; i < 3 && k->names[i]; i++)
		if (!strcmp(k->names[i], key))
			return 1;
	return 0;
}

/* The line in force for plugin pl: the last that applies to it and that
 * pmacctd can read; NULL when none. */
static struct pm_line *in_force(struct pm *p, const struct pkey *k, const struct pm_plugin *pl)
{
	struct pm_line *found = NULL;

	for (size_t i = 0; i < p->n; i++) {
		struct pm_line *e = &p->l[i];

		if (!key_is(k, e->key) || (e->named && strcmp(e->name, pl->name)))
			continue;
		if (k->valid && !k->valid(e->value))
			continue;
		found = e;
	}
	return found;
}

/* Notes for the lines of key k that are in force for no sfprobe plugin. */
static void unused_lines(struct pm *p, const struct pkey *k)
{
	for (size_t i = 0; i < p->n; i++) {
		struct pm_line *e = &p->l[i];
		const struct pm_plugin *pl;

		if (!key_is(k, e->key) || e->effective)
			continue;
		pl = e->named ? plugin_named(p, e->name) : NULL;
		if (k->valid && !k->valid(e->value))
			import_note(e->it, "pmacctd ignores it: '%s' is not a value it takes",
				    e->value);
		else if (!p->nplugins)
			import_note(e->it, "no sfprobe plugin is declared (plugins:), so "
				    "pmacctd sent no sFlow with it");
		else if (e->named && !pl)
			import_note(e->it, "for plugin %s, which is no sfprobe plugin of "
				    "plugins: (line %d): no equivalent", e->name,
				    p->plugins_line);
		else
			import_note(e->it, "replaced by a later line for the same plugin "
				    "(pmacctd keeps the last)");
	}
}

/* `host:port`, `[host]:port` or `host` (*port 0: none given); 0, or -1
 * and why. */
static int receiver(const char *v, char *host, size_t hostlen, long *port, const char **why)
{
	const char *colon;
	size_t hl;

	*port = 0;
	if (v[0] == '[') {
		const char *close = strchr(v, ']');

		if (!close) {
			*why = "'[' without ']'";
			return -1;
		}
		hl = (size_t)(close - v) - 1;
		if (hl >= hostlen || !hl) {
			*why = "no address inside [ ]";
			return -1;
		}
		memcpy(host, v + 1, hl);
		host[hl] = '\0';
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] && !colon) {
			*why = "text after ']' other than :port";
			return -1;
		}
	} else {
		colon = strchr(v, ':');
		if (colon && strchr(colon + 1, ':')) {
			*why = "an IPv6 address needs brackets: [ADDRESS]:PORT";
			return -1;
		}
		hl = colon ? (size_t)(colon - v) : strlen(v);
		if (hl >= hostlen || !hl) {
			*why = "no address";
			return -1;
		}
		memcpy(host, v, hl);
		host[hl] = '\0';
	}
	if (colon) {
		char *end;

		*port = strtol(colon + 1, &end, 10);
		if (!colon[1] || *end || *port < 1 || *port > 65535) {
			*why = "the port is not a number 1..65535";
			return -1;
		}
	}
	return 0;
}

/* ---- the sfprobe plugins ---- */

static struct import_item *tail_of(struct pm *p, struct import_item **tail)
{
	if (!*tail)
		*tail = import_tail(p->plan, "What pmacctd did without a setting:");
	return *tail;
}

static long long rate_of(const struct pm_line *e)
{
	long long n = e ? leading_number(e->value) : 1;

	return n > UINT32_MAX ? UINT32_MAX : n;
}

static int probes(struct pm *p)
{
	struct import_item *tail = NULL;
	struct pm_line *rate0 = p->nplugins ? in_force(p, &K_RATE, &p->plugins[0]) : NULL;

	/* One rate for every collector: the first sfprobe's. */
	if (rate0) {
		rate0->effective = 1;
		import_directive(rate0->it, NULL, "sampling_rate %lld", rate_of(rate0));
	} else if (p->nplugins) {
		import_note(tail_of(p, &tail), "sfprobe[%s] had no sampling_rate: it sent "
			    "every packet (1 in 1, as measured with pmacctd 1.7.7). The same "
			    "here; a busy interface wants a larger N:", p->plugins[0].name);
		import_directive(tail_of(p, &tail), NULL, "sampling_rate 1");
	}
	for (size_t i = 0; i < p->nplugins; i++) {
		const struct pm_plugin *pl = &p->plugins[i];
		struct pm_line *rcv = in_force(p, &K_RECEIVER, pl);
		struct pm_line *rate = in_force(p, &K_RATE, pl);
		char host[256];
		long port;
		const char *why = NULL;

		if (rcv) {
			rcv->effective = 1;
			if (receiver(rcv->value, host, sizeof host, &port, &why) < 0)
				return pmerr(p, rcv->line, "sfprobe_receiver: '%s': %s",
					     rcv->value, why);
			if (!port) {
				import_note(rcv->it, "no port: sFlow's %d", CFG_SFLOW_PORT);
				port = CFG_SFLOW_PORT;
			}
			if (!import_host_ok(host))
				import_note(rcv->it, "not taken: '%s' is neither an IP address "
					    "nor a DNS name hostflowd can write", host);
			else
				import_collector(rcv->it, host, (uint16_t)port);
		} else {
			import_note(tail_of(p, &tail), "sfprobe[%s] had no sfprobe_receiver: "
				    "it sent to %s:%d", pl->name, PM_DEFAULT_RECEIVER,
				    CFG_SFLOW_PORT);
			import_collector(tail_of(p, &tail), PM_DEFAULT_RECEIVER, CFG_SFLOW_PORT);
		}
		if (i && rate)
			rate->effective = 1;
		if (i && rate_of(rate) != rate_of(rate0))
			import_note(rate ? rate->it : tail_of(p, &tail), "sfprobe[%s]'s rate "
				    "(1 in %lld) is not taken: hostflowd samples an interface at "
				    "one rate for all its collectors (sfprobe[%s]'s, 1 in %lld)",
				    pl->name, rate_of(rate), p->plugins[0].name, rate_of(rate0));
	}
	unused_lines(p, &K_RECEIVER);
	unused_lines(p, &K_RATE);
	return 0;
}

/* sfprobe_agentip, sfprobe_agentsubid: one value for the agent. */
static void agent(struct pm *p)
{
	struct pm_line *ip = NULL, *sub = NULL;

	for (size_t i = 0; i < p->nplugins; i++) {
		struct pm_line *a = in_force(p, &K_AGENTIP, &p->plugins[i]);
		struct pm_line *s = in_force(p, &K_SUBID, &p->plugins[i]);

		if (a && !ip) {
			ip = a;
			a->effective = 1;
			if (import_addr_ok(a->value))
				import_directive(a->it, NULL, "agent_address %s", a->value);
			else
				import_note(a->it, "not taken: hostflowd's agent_address is a "
					    "literal IP address: write the address pmacctd "
					    "resolved '%s' to", a->value);
		} else if (a && a != ip) {
			a->effective = 1;
			import_note(a->it, "not taken: hostflowd has one agent address "
				    "(line %d's)", ip->line);
		}
		if (s && !sub) {
			sub = s;
			s->effective = 1;
			import_directive(s->it, NULL, "sub_agent_id %lld",
					 leading_number(s->value) > UINT32_MAX ?
					 (long long)UINT32_MAX : leading_number(s->value));
		} else if (s && s != sub) {
			s->effective = 1;
			import_note(s->it, "not taken: hostflowd has one sub-agent id (line "
				    "%d's)", sub->line);
		}
	}
	unused_lines(p, &K_AGENTIP);
	unused_lines(p, &K_SUBID);
	if (p->nplugins && !ip) {
		struct import_item *t = import_tail(p->plan, "The agent address:");

		import_note(t, "pmacctd's sfprobe sent 127.0.0.1 without sfprobe_agentip; "
			    "hostflowd sends the first global address of an up interface. A "
			    "collector polls SNMP at the agent address, so name it: "
			    "agent_interface tailscale0 or agent_address IP.");
	}
}

/* ---- the capture: interfaces, map, filter ---- */

/* The last line of a daemon-wide key (or its older name, alias) that
 * pmacctd takes (valid: NULL = any value). */
static struct pm_line *global_key2(struct pm *p, const char *key, const char *alias,
				   int (*valid)(const char *))
{
	struct pm_line *found = NULL;

	for (size_t i = 0; i < p->n; i++) {
		struct pm_line *e = &p->l[i];

		if (strcmp(e->key, key) && (!alias || strcmp(e->key, alias)))
			continue;
		if (valid && !valid(e->value)) {
			import_note(e->it, "pmacctd ignores it: '%s' is not a value it takes",
				    e->value);
			continue;
		}
		import_key(e->it, key);
		if (e->named)
			import_note(e->it, "pmacctd reads this key for the whole daemon: [%s] "
				    "does not narrow it", e->name);
		found = e;
	}
	return found;
}

static struct pm_line *global_key(struct pm *p, const char *key, int (*valid)(const char *))
{
	return global_key2(p, key, NULL, valid);
}

static int valid_ifindex(const char *v)
{
	return !strcasecmp(v, "sys") || !strcasecmp(v, "hash") || !strcasecmp(v, "map") ||
	       !strcasecmp(v, "none");
}

static int valid_direction(const char *v)
{
	return !strcasecmp(v, "in") || !strcasecmp(v, "out");
}

static int valid_bool(const char *v)
{
	return truefalse(v) >= 0;
}

static int valid_snaplen(const char *v)
{
	return leading_number(v) >= PM_MIN_SNAPLEN;
}

/* A path hostflowd.conf can hold as one word. */
static int path_writable(const char *s)
{
	if (!*s || strlen(s) >= sizeof ((struct config *)0)->ifindex_map)
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~' || *s == '#' || *s == '"')
			return 0;
	return 1;
}

static int cmp_entry_line(const void *a, const void *b)
{
	return ((const struct ifmap_entry *)a)->line - ((const struct ifmap_entry *)b)->line;
}

/* What the map's lines did in pmacctd 1.7.7 (FIELD-NOTES.md): one capture
 * per line, each reported as ingress; a line without direction=in loses
 * its ifindex or its egress. Words as ifmap.c reads them. */
static void map_notes(struct pm_line *e, const char *text, size_t len)
{
	char names[32][IFNAMSIZ], twice[160] = "";
	int count[32] = { 0 };
	size_t nnames = 0, pos = 0;
	int not_in = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - text) - pos : len - pos, i = 0;
		const char *s = text + pos;
		char nm[IFNAMSIZ] = "";
		int in = 0, any = 0;

		pos += l + 1;
		while (i < l) {
			size_t w;

			while (i < l && is_blank(s[i]))
				i++;
			if (i == l || s[i] == '#' || s[i] == '!')
				break;
			for (w = i; w < l && !is_blank(s[w]); w++)
				;
			if (w - i > 7 && !memcmp(s + i, "ifname=", 7) && w - i - 7 < IFNAMSIZ) {
				memcpy(nm, s + i + 7, w - i - 7);
				nm[w - i - 7] = '\0';
			}
			if (w - i == 12 && !memcmp(s + i, "direction=in", 12))
				in = 1;
			any = 1;
			i = w;
		}
		if (!any || !nm[0])
			continue;
		not_in |= !in;
		for (i = 0; i < nnames && strcmp(names[i], nm); i++)
			;
		if (i == nnames && nnames < 32)
			memcpy(names[nnames++], nm, IFNAMSIZ);
		if (i < 32)
			count[i]++;
	}
	for (size_t i = 0; i < nnames; i++)
		if (count[i] > 1 && strlen(twice) + strlen(names[i]) + 3 < sizeof twice) {
			if (twice[0])
				strcat(twice, ", ");
			strcat(twice, names[i]);
		}
	if (twice[0])
		import_note(e->it, "pmacctd 1.7.7 opens one capture per line of this map and "
			    "reports each as ingress: %s, listed twice (in and out), had "
			    "every packet counted twice and none reported leaving. hostflowd "
			    "samples each listed interface once, in both directions, and "
			    "labels each sample's direction from the packet.", twice);
	else if (not_in)
		import_note(e->it, "pmacctd 1.7.7 captures only what enters with "
			    "direction=in, and a line without direction= loses its ifindex; "
			    "hostflowd samples each listed interface in both directions, "
			    "with its direction from the packet.");
}

static int capture(struct pm *p)
{
	/* `interface` is pcap_interface's name in older pmacct versions. */
	struct pm_line *dev = global_key2(p, "pcap_interface", "interface", NULL);
	struct pm_line *map = global_key(p, "pcap_interfaces_map", NULL);
	struct pm_line *idx = global_key(p, "pcap_ifindex", valid_ifindex);
	struct pm_line *flt = global_key(p, "pcap_filter", NULL);
	const char *filter = NULL, *why;
	char msg[512];
	int use_map = idx && !strcasecmp(idx->value, "map");

	if (dev && map)
		return pmerr(p, dev->line > map->line ? dev->line : map->line,
			     "pcap_interface (line %d) and pcap_interfaces_map (line %d) "
			     "cannot be combined (pmacctd refuses it too)", dev->line,
			     map->line);
	if (flt) {
		why = import_filter_why(flt->value);
		if (!why && p->io->check_filter &&
		    p->io->check_filter(p->io->ctx, flt->value, msg, sizeof msg) < 0)
			why = msg;
		if (why) {
			import_note(flt->it, "not taken: %s; the interfaces are sampled "
				    "without it", why);
		} else {
			filter = flt->value;
			import_note(flt->it, "on every sample line: only matching packets are "
				    "sampled (the random choice first, then the filter, which "
				    "keeps samples x N unbiased)");
		}
	}
	if (idx) {
		const char *v = idx->value;

		if (!strcasecmp(v, "map") && !map)
			import_note(idx->it, "without pcap_interfaces_map there is no map");
		else if (!strcasecmp(v, "map"))
			import_note(idx->it, "the map's numbers are served by IF-MIB as well "
				    "(ifindex_map below), so a collector polling SNMP at the "
				    "sampled ifIndex finds the interface");
		else if (!strcasecmp(v, "sys"))
			import_note(idx->it, "the kernel's ifindex: hostflowd's too");
		else if (!strcasecmp(v, "hash"))
			import_note(idx->it, "no equivalent: pmacctd hashed the name; hostflowd "
				    "reports the kernel's ifindex, the number SNMP serves");
		else
			import_note(idx->it, "pmacctd's sfprobe then reported one fixed ifIndex "
				    "(sfprobe_ifindex, else 1); hostflowd reports each "
				    "interface's own, the number SNMP serves");
	}
	if (dev) {
		if (!strcmp(dev->value, "any")) {
			import_note(dev->it, "libpcap's any: every interface");
			import_sample_all(dev->it, filter);
		} else if ((why = import_ifname_why(dev->value))) {
			import_note(dev->it, "not taken: '%s' is %s", dev->value, why);
		} else {
			import_sample(dev->it, dev->value, 0, filter);
		}
		if (!idx && strcmp(dev->value, "any"))
			import_note(dev->it, "without pcap_ifindex pmacctd's sfprobe reported "
				    "one fixed ifIndex (sfprobe_ifindex, else 1); hostflowd "
				    "reports the interface's own, the number SNMP serves");
	}
	if (map) {
		char *text = NULL, err[512];
		size_t len = 0;
		struct hf_ifmap *m = NULL;

		if (!map->value[0] || strlen(map->value) > TEXTFILE_LINE_MAX)
			return pmerr(p, map->line, "pcap_interfaces_map: %s path",
				     map->value[0] ? "too long a" : "no");
		if (!p->io->read_file)
			return pmerr(p, map->line, "pcap_interfaces_map: %s: cannot be read "
				     "here", map->value);
		if (p->io->read_file(p->io->ctx, map->value, &text, &len, err, sizeof err) < 0)
			return pmerr(p, map->line, "pcap_interfaces_map: %s", err);
		if (ifmap_parse(map->value, text, len, &m, p->err, p->errlen) < 0) {
			import_printable(p->err);
			free(text);
			return -1;
		}
		map_notes(map, text, len);
		free(text);
		if (m->n > 1)
			qsort(m->e, m->n, sizeof *m->e, cmp_entry_line);
		if (!use_map)
			import_note(map->it, "its numbers are not used (pcap_ifindex is not "
				    "map): the kernel's ifindex is served, as pmacctd did");
		else if (!path_writable(map->value))
			import_note(map->it, "hostflowd.conf cannot hold this path as one word "
				    "(blanks, '#' or '\"'): copy the map and write ifindex_map "
				    "with the copy's path");
		else
			import_directive(map->it, NULL, "ifindex_map %s", map->value);
		for (size_t i = 0; i < m->n; i++) {
			why = import_ifname_why(m->e[i].name);
			if (why)
				import_note(map->it, "%s: not taken: %s", m->e[i].name, why);
			else
				import_sample(map->it, m->e[i].name, 0, filter);
		}
		if (!m->n)
			import_note(map->it, "the map lists no interface");
		ifmap_free(m);
	}
	if (!dev && !map && p->nplugins) {
		struct import_item *t = import_tail(p->plan, "The interfaces:");

		import_note(t, "without pcap_interface or pcap_interfaces_map pmacctd "
			    "captured on libpcap's default device (the first up interface "
			    "that is not loopback); name it here, e.g. sample eth0, or "
			    "hostflowd samples nothing.");
	}
	return 0;
}

/* ---- everything else ---- */

struct known {
	const char *key;
	const char *why;     /* NULL: handled elsewhere */
};

static const struct known known_keys[] = {
	{ "plugins", NULL }, { "sfprobe_receiver", NULL }, { "sfprobe_agentip", NULL },
	{ "sfprobe_agentsubid", NULL }, { "sampling_rate", NULL },
	{ "pcap_interface", NULL }, { "interface", NULL }, { "pcap_interfaces_map", NULL },
	{ "pcap_ifindex", NULL }, { "pcap_filter", NULL }, { "snaplen", NULL },
	{ "daemonize", "hostflowd detaches unless started with -f; its systemd unit "
	  "runs it in the foreground" },
	{ "pidfile", "hostflowd writes no pid file: systemd, or whoever started it with "
	  "-f, knows its pid" },
	{ "syslog", "hostflowd logs to syslog (facility daemon) when detached, to "
	  "standard error with -f" },
	{ "logfile", "hostflowd logs to syslog, or to standard error with -f" },
	{ "debug", "start hostflowd with -d (repeat it for more)" },
	{ "aggregate", "pmacctd's own plugins add up traffic by these; its sfprobe, and "
	  "hostflowd, send the sampled packet headers whatever it says (the collector "
	  "aggregates)" },
	{ "pcap_interface_wait", "hostflowd samples an interface that a sample line names "
	  "whenever it appears, without a setting" },
	{ "pcap_direction", "hostflowd samples both directions of an interface and labels "
	  "each sample's direction from the packet" },
	{ "promisc", "hostflowd never puts an interface in promiscuous mode" },
	{ "pcap_savefile", "hostflowd samples live interfaces only" },
	{ "pcap_savefile_wait", "hostflowd samples live interfaces only" },
	{ "pcap_savefile_delay", "hostflowd samples live interfaces only" },
	{ "pcap_savefile_replay", "hostflowd samples live interfaces only" },
	{ "pmacctd_ext_sampling_rate", "hostflowd samples the packets itself and reports "
	  "the rate it used" },
	{ "sfprobe_ifspeed", "hostflowd reports each interface's speed, the one SNMP "
	  "serves (interface NAME speed N sets both)" },
	{ "sfprobe_direction", "hostflowd reports each sample's direction from the packet" },
	{ "nfprobe_direction", "hostflowd reports each sample's direction from the packet" },
	{ "sfprobe_ifindex", "hostflowd reports each interface's ifIndex, the one SNMP "
	  "serves" },
	{ "nfprobe_ifindex", "hostflowd reports each interface's ifIndex, the one SNMP "
	  "serves" },
	{ "sfprobe_ipprec", "hostflowd leaves its datagrams' DSCP at 0" },
	{ "sfprobe_peer_as", "hostflowd sends no AS numbers (extended_gateway)" },
};

static const struct known prefixes[] = {
	{ "nfprobe_", "NetFlow export (nfprobe): hostflowd exports sFlow only" },
	{ "print_", "for pmacctd's print plugin: hostflowd exports sFlow only" },
	{ "sql_", "for pmacctd's SQL plugins: hostflowd exports sFlow only" },
	{ "kafka_", "for pmacctd's Kafka plugin: hostflowd exports sFlow only" },
	{ "amqp_", "for pmacctd's AMQP plugin: hostflowd exports sFlow only" },
	{ "mongo_", "for pmacctd's MongoDB plugin: hostflowd exports sFlow only" },
	{ "imt_", "for pmacctd's memory plugin: hostflowd exports sFlow only" },
	{ "bgp_", "hostflowd has no BGP daemon" },
	{ "bmp_", "hostflowd has no BMP daemon" },
	{ "plugin_", "pmacctd's plugin queues; hostflowd has one sampler thread" },
	{ "networks_", "hostflowd sends no network masks or AS numbers from a file" },
	{ "pre_tag", "hostflowd does not tag samples" },
	{ "post_tag", "hostflowd does not tag samples" },
};

static void others(struct pm *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct pm_line *e = &p->l[i];
		const char *why = NULL;
		size_t k;

		for (k = 0; k < sizeof known_keys / sizeof known_keys[0]; k++)
			if (!strcmp(known_keys[k].key, e->key))
				break;
		if (k < sizeof known_keys / sizeof known_keys[0]) {
			if (known_keys[k].why)
				import_note(e->it, "no equivalent: %s", known_keys[k].why);
			continue;
		}
		for (k = 0; !why && k < sizeof prefixes / sizeof prefixes[0]; k++)
			if (!strncmp(e->key, prefixes[k].key, strlen(prefixes[k].key)))
				why = prefixes[k].why;
		import_note(e->it, "no equivalent: %s", why ? why :
			    "not something hostflowd does");
	}
}

static void snaplen(struct pm *p)
{
	struct pm_line *e = global_key(p, "snaplen", valid_snaplen);
	long long n;

	if (!e)
		return;
	n = leading_number(e->value);
	if (n > HF_MAX_HEADER) {
		import_note(e->it, "hostflowd sends at most %d bytes of each header",
			    HF_MAX_HEADER);
		n = HF_MAX_HEADER;
	}
	import_note(e->it, "the bytes pmacctd captured of each packet, which its sfprobe "
		    "sent as the sampled header");
	import_directive(e->it, NULL, "header_bytes %lld", n);
}

int import_pmacctd(const char *name, const char *text, size_t len,
		   const struct import_io *io, char **out, char *err, size_t errlen)
{
	static const struct import_io none = { NULL, NULL, NULL };
	struct pm p = { .name = name, .err = err, .errlen = errlen, .io = io ? io : &none };
	int rc = -1;

	p.plan = import_plan_new(name, "pmacctd");
	if (!p.plan) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	if (read_lines(&p, text, len))
		goto out;
	for (size_t i = 0; i < p.n; i++) {
		struct pm_line *e = &p.l[i];

		e->it = import_item(p.plan, e->line, e->line, e->raw, e->rawlen);
		if (!strcmp(e->key, "plugins") && !e->named && !p.plugins_line)
			read_plugins(&p, e);
		else if (!strcmp(e->key, "plugins"))
			import_note(e->it, "pmacctd reads the first plugins line only (line "
				    "%d)", p.plugins_line);
	}
	if (!p.plugins_line && p.n) {
		struct import_item *t = import_tail(p.plan, "The plugins:");

		import_note(t, "no plugins line: pmacctd ran its memory plugin and sent no "
			    "sFlow, so no collector is written");
	}
	if (probes(&p) || capture(&p))
		goto out;
	agent(&p);
	snaplen(&p);
	(void)global_key(&p, "daemonize", valid_bool);
	(void)global_key(&p, "promisc", valid_bool);
	(void)global_key(&p, "pcap_interface_wait", valid_bool);
	(void)global_key(&p, "pcap_direction", valid_direction);
	others(&p);
	{
		struct import_item *t = import_tail(p.plan, "And what differs:");

		import_note(t, "pmacctd copied every packet to user space and sampled there; "
			    "hostflowd samples in the kernel, so unsampled packets cost "
			    "nothing.");
		import_note(t, "sfprobe sent every sample from one data source (0:1) with "
			    "counters it added up itself; hostflowd sends one source per "
			    "sampled interface, its ifIndex, with the interface's own "
			    "counters (the ones SNMP serves) every polling_interval (20 s, "
			    "as sfprobe).");
	}
	rc = import_render(p.plan, out, err, errlen);
out:
	for (size_t i = 0; i < p.n; i++)
		free(p.l[i].value);
	free(p.l);
	import_plan_free(p.plan);
	return rc;
}
