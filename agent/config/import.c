/* What the two importers share: the plan of the source's settings and its
 * rendering as hostflowd.conf, checked by config_parse before it is handed
 * out (see import.h). */
#include "config/import.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/sockaddr.h"
#include "base/textfile.h"
#include "base/util.h"
#include "config/config.h"

#define ECHO_MAX     200   /* bytes of a source setting quoted in a comment */
#define WRAP_COLUMNS 78    /* comment lines are wrapped to this width */
#define NOTE_PREFIX  "#   "

struct import_coll {
	char host[256];
	uint16_t port;
};

struct import_samp {
	char name[IFNAMSIZ];
	int all;               /* `sample *` rather than the name */
	uint32_t rate;         /* 0: none */
	char *filter;          /* NULL: none */
};

struct import_item {
	struct import_plan *plan;
	int line, last;        /* 0: a tail item */
	char *echo;            /* the source's text, as written */
	char *title;           /* tail items */
	char key[64];          /* "" = repeatable */
	char *directive;       /* NULL: none */
	char *notes;           /* paragraphs separated by '\n' */
	struct import_coll *coll;
	size_t ncoll;
	struct import_samp *samp;
	size_t nsamp;
};

struct import_plan {
	char *name, *kind;
	struct import_item **items;
	size_t n, cap;
	int oom;
	/* What the setters are handed after an allocation failed: they write
	 * into it, and render() reports the failure. */
	struct import_item lost;
};

/* A growing text; oom is sticky, so callers check once at the end. */
struct text {
	char *buf;
	size_t len, cap;
	int oom;
};

static void text_add(struct text *t, const char *s, size_t n)
{
	if (t->oom)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t ncap = t->cap ? t->cap : 1024;
		char *nb;

		while (ncap < t->len + n + 1)
			ncap *= 2;
		nb = realloc(t->buf, ncap);
		if (!nb) {
			t->oom = 1;
			return;
		}
		t->buf = nb;
		t->cap = ncap;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void text_puts(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

static void text_vprintf(struct text *t, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void text_vprintf(struct text *t, const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0) {
		t->oom = 1;
		return;
	}
	text_puts(t, s);
	free(s);
}

static void text_printf(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void text_printf(struct text *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	text_vprintf(t, fmt, ap);
	va_end(ap);
}

/* Source text in a comment: printable ASCII as it is, anything else as
 * \xNN, at most ECHO_MAX bytes of it. */
static void text_sanitized(struct text *t, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < ECHO_MAX; i++) {
		unsigned char c = (unsigned char)s[i];
		char hex[5];

		if (c == '\t')
			c = ' ';
		if (c >= ' ' && c <= '~') {
			text_add(t, (const char *)&c, 1);
		} else {
			snprintf(hex, sizeof hex, "\\x%02x", c);
			text_puts(t, hex);
		}
	}
	if (i < n)
		text_puts(t, "...");
}

/* One paragraph as comment lines of at most WRAP_COLUMNS (a longer word
 * stands alone). */
static void text_wrapped(struct text *t, const char *prefix, const char *s, size_t n)
{
	size_t col = 0, i = 0, plen = strlen(prefix);

	while (i < n) {
		size_t w = i;

		while (w < n && s[w] != ' ')
			w++;
		if (col && col + 1 + (w - i) > WRAP_COLUMNS) {
			text_puts(t, "\n");
			col = 0;
		}
		if (!col) {
			text_puts(t, prefix);
			col = plen;
		} else {
			text_puts(t, " ");
			col++;
		}
		text_sanitized(t, s + i, w - i);
		col += w - i;
		i = w;
		while (i < n && s[i] == ' ')
			i++;
	}
	if (col)
		text_puts(t, "\n");
}

static char *vfmt(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static char *vfmt(const char *fmt, va_list ap)
{
	char *s = NULL;

	return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

/* ---- the plan ---- */

struct import_plan *import_plan_new(const char *name, const char *source_kind)
{
	struct import_plan *p = calloc(1, sizeof *p);

	if (!p)
		return NULL;
	p->lost.plan = p;
	p->name = strdup(name);
	p->kind = strdup(source_kind);
	if (!p->name || !p->kind) {
		import_plan_free(p);
		return NULL;
	}
	return p;
}

static void item_clear(struct import_item *it)
{
	free(it->echo);
	free(it->title);
	free(it->directive);
	free(it->notes);
	free(it->coll);
	for (size_t i = 0; i < it->nsamp; i++)
		free(it->samp[i].filter);
	free(it->samp);
}

void import_plan_free(struct import_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		item_clear(p->items[i]);
		free(p->items[i]);
	}
	free(p->items);
	item_clear(&p->lost);
	free(p->name);
	free(p->kind);
	free(p);
}

static struct import_item *add_item(struct import_plan *p)
{
	struct import_item *it;

	if (hf_grow(&p->items, p->n, &p->cap, sizeof *p->items, 32) < 0) {
		p->oom = 1;
		return &p->lost;
	}
	it = calloc(1, sizeof *it);
	if (!it) {
		p->oom = 1;
		return &p->lost;
	}
	it->plan = p;
	p->items[p->n++] = it;
	return it;
}

struct import_item *import_item(struct import_plan *p, int line, int last,
				const char *echo, size_t echolen)
{
	struct import_item *it = add_item(p);

	if (it == &p->lost)
		return it;
	it->line = line;
	it->last = last > line ? last : line;
	it->echo = strndup(echo, echolen);
	if (!it->echo)
		p->oom = 1;
	return it;
}

struct import_item *import_tail(struct import_plan *p, const char *title)
{
	struct import_item *it = add_item(p);

	if (it == &p->lost)
		return it;
	it->title = strdup(title);
	if (!it->title)
		p->oom = 1;
	return it;
}

/* Appends a formatted paragraph to *field ('\n' between paragraphs). */
static void append_para(struct import_item *it, char **field, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void append_para(struct import_item *it, char **field, const char *fmt, va_list ap)
{
	char *s = vfmt(fmt, ap), *joined = NULL;

	if (!s) {
		it->plan->oom = 1;
		return;
	}
	if (!*field) {
		*field = s;
		return;
	}
	if (asprintf(&joined, "%s\n%s", *field, s) < 0) {
		it->plan->oom = 1;
		free(s);
		return;
	}
	free(*field);
	free(s);
	*field = joined;
}

void import_directive(struct import_item *it, const char *key, const char *fmt, ...)
{
	va_list ap;

	if (key)
		hf_strlcpy(it->key, key, sizeof it->key);
	va_start(ap, fmt);
	append_para(it, &it->directive, fmt, ap);
	va_end(ap);
}

void import_key(struct import_item *it, const char *key)
{
	hf_strlcpy(it->key, key, sizeof it->key);
}

void import_note(struct import_item *it, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	append_para(it, &it->notes, fmt, ap);
	va_end(ap);
}

void import_collector(struct import_item *it, const char *host, uint16_t port)
{
	struct import_coll *v = realloc(it->coll, (it->ncoll + 1) * sizeof *v);

	if (!v) {
		it->plan->oom = 1;
		return;
	}
	it->coll = v;
	hf_strlcpy(v[it->ncoll].host, host, sizeof v->host);
	v[it->ncoll++].port = port;
}

void import_sample_all(struct import_item *it, const char *filter)
{
	import_sample(it, "*", 0, filter);
	if (it->nsamp)
		it->samp[it->nsamp - 1].all = 1;
}

void import_sample(struct import_item *it, const char *ifname, uint32_t rate,
		   const char *filter)
{
	struct import_samp *v = realloc(it->samp, (it->nsamp + 1) * sizeof *v);

	if (!v) {
		it->plan->oom = 1;
		return;
	}
	it->samp = v;
	v[it->nsamp].all = 0;
	hf_strlcpy(v[it->nsamp].name, ifname, sizeof v->name);
	v[it->nsamp].rate = rate;
	v[it->nsamp].filter = filter && *filter ? strdup(filter) : NULL;
	if (filter && *filter && !v[it->nsamp].filter)
		it->plan->oom = 1;
	it->nsamp++;
}

void import_printable(char *msg)
{
	for (; *msg; msg++)
		if (*msg < ' ' || *msg > '~')
			*msg = '?';
}

/* ---- what hostflowd takes ---- */

const char *import_ifname_why(const char *s)
{
	if (!textfile_ifname_valid(s, strlen(s)))
		return "not an interface name (1 to 15 printable ASCII bytes, no '/', "
		       "':' or blank, not '.' or '..')";
	if (strpbrk(s, "#\""))
		return "a '#' or '\"' cannot be written in a sample pattern";
	return NULL;
}

int import_host_ok(const char *s)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (strlen(s) >= sizeof ((struct import_coll *)0)->host)
		return 0;
	if (hf_sockaddr_numeric(s, CFG_SFLOW_PORT, &ss, &len))
		return 1;
	return !strchr(s, ':') && hf_dnsname_valid(s);
}

int import_addr_ok(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

const char *import_filter_why(const char *expr)
{
	if (strlen(expr) > CFG_FILTER_MAX)
		return "longer than hostflowd's 1024 bytes";
	for (const char *c = expr; *c; c++)
		if (*c < ' ' || *c > '~')
			return "bytes other than printable ASCII";
	return NULL;
}

/* ---- rendering ---- */

/* config.c's rule for "the same collector": one socket address, or one
 * name (any case) and port. */
static int same_coll(const struct import_coll *a, const struct import_coll *b)
{
	struct sockaddr_storage sa, sb;
	socklen_t la, lb;
	int na, nb;

	if (a->port != b->port)
		return 0;
	na = hf_sockaddr_numeric(a->host, a->port, &sa, &la);
	nb = hf_sockaddr_numeric(b->host, b->port, &sb, &lb);
	if (na != nb)
		return 0;
	if (na)
		return la == lb && !memcmp(&sa, &sb, la);
	return !strcasecmp(a->host, b->host);
}

/* A name as a sample pattern matching only itself. */
static void pattern_of(const char *name, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *name && o + 2 < outlen; name++) {
		if (strchr("*?[\\", *name))
			out[o++] = '\\';
		out[o++] = *name;
	}
	out[o] = '\0';
}

static void put_paras(struct text *t, const char *paras)
{
	const char *s = paras;

	while (s && *s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);

		text_wrapped(t, NOTE_PREFIX, s, n);
		s = nl ? nl + 1 : NULL;
	}
}

/* Line of the last item with the same key after index i, or 0. */
static int replaced_by(const struct import_plan *p, size_t i)
{
	int line = 0;

	for (size_t j = i + 1; j < p->n; j++)
		if (!strcmp(p->items[j]->key, p->items[i]->key))
			line = p->items[j]->line;
	return line;
}

struct seen {
	struct import_coll coll[IMPORT_MAX_COLLECTORS];
	size_t ncoll;
	char (*names)[2 * IFNAMSIZ];   /* the patterns written */
	size_t nnames, capnames;
	int oom;
};

static void put_collectors(struct text *t, struct seen *sn, const struct import_item *it)
{
	for (size_t c = 0; c < it->ncoll; c++) {
		const struct import_coll *k = &it->coll[c];
		size_t j;

		for (j = 0; j < sn->ncoll && !same_coll(&sn->coll[j], k); j++)
			;
		if (j < sn->ncoll) {
			text_printf(t, NOTE_PREFIX "%s port %u is a collector already, above: "
				    "once is enough\n", k->host, k->port);
			continue;
		}
		if (sn->ncoll == IMPORT_MAX_COLLECTORS) {
			text_printf(t, NOTE_PREFIX "not taken: hostflowd sends to at most %d "
				    "collectors\n#collector %s %u\n", IMPORT_MAX_COLLECTORS,
				    k->host, k->port);
			continue;
		}
		sn->coll[sn->ncoll++] = *k;
		text_printf(t, "collector %s %u\n", k->host, k->port);
	}
}

static void put_samples(struct text *t, struct seen *sn, const struct import_item *it)
{
	for (size_t s = 0; s < it->nsamp; s++) {
		const struct import_samp *k = &it->samp[s];
		char pat[2 * IFNAMSIZ];
		size_t j;

		/* "*" stands for every interface, "\\*" for one named so. */
		if (k->all)
			hf_strlcpy(pat, "*", sizeof pat);
		else
			pattern_of(k->name, pat, sizeof pat);
		for (j = 0; j < sn->nnames && strcmp(sn->names[j], pat); j++)
			;
		if (j < sn->nnames) {
			text_printf(t, NOTE_PREFIX "%s is sampled already, above\n", k->name);
			continue;
		}
		if (hf_grow(&sn->names, sn->nnames, &sn->capnames, sizeof *sn->names, 16) < 0) {
			sn->oom = 1;
			return;
		}
		hf_strlcpy(sn->names[sn->nnames++], pat, sizeof *sn->names);
		text_printf(t, "sample %s", pat);
		if (k->rate)
			text_printf(t, " rate %u", k->rate);
		if (k->filter) {
			text_puts(t, " filter \"");
			for (const char *c = k->filter; *c; c++) {
				if (*c == '"' || *c == '\\')
					text_puts(t, "\\");
				text_add(t, c, 1);
			}
			text_puts(t, "\"");
		}
		text_puts(t, "\n");
	}
}

static void put_item(struct text *t, struct seen *sn, const struct import_plan *p, size_t i)
{
	const struct import_item *it = p->items[i];
	int by = it->key[0] ? replaced_by(p, i) : 0;

	text_puts(t, "\n");
	if (it->title) {
		text_wrapped(t, "# ", it->title, strlen(it->title));
	} else {
		text_puts(t, "# ");
		text_sanitized(t, p->name, strlen(p->name));
		text_printf(t, ":%d", it->line);
		if (it->last > it->line)
			text_printf(t, "-%d", it->last);
		text_puts(t, ": ");
		text_sanitized(t, it->echo, strlen(it->echo));
		text_puts(t, "\n");
	}
	put_paras(t, it->notes);
	if (by) {
		text_printf(t, NOTE_PREFIX "replaced by line %d (%s keeps the last)\n", by,
			    p->kind);
	} else if (it->directive) {
		text_puts(t, it->directive);
		text_puts(t, "\n");
	}
	put_collectors(t, sn, it);
	put_samples(t, sn, it);
}

int import_render(struct import_plan *p, char **out, char *err, size_t errlen)
{
	struct text t = { 0 };
	struct seen sn = { 0 };
	struct config *cfg = NULL;
	char why[512];

	if (p->oom) {
		snprintf(err, errlen, "%s: out of memory", p->name);
		return -1;
	}
	text_printf(&t, "# hostflowd.conf written by hostflowd --import %s from\n# ", p->kind);
	text_sanitized(&t, p->name, strlen(p->name));
	text_printf(&t, "\n# Each setting of the %s file is quoted (# FILE:LINE: ...), "
		    "followed by\n# what does the same in hostflowd, or by why nothing "
		    "does.\n# Check it with: hostflowd -t -c THIS_FILE\n", p->kind);
	text_puts(&t, "\n# The AgentX socket of snmpd (not in the source): hostflowd's "
		  "default is\n# /var/agentx/master; Debian's snmpd with the guide's "
		  "snmpd.conf uses:\n#agentx_socket /run/agentx/master\n");
	for (size_t i = 0; i < p->n; i++)
		put_item(&t, &sn, p, i);
	free(sn.names);
	if (t.oom || sn.oom) {
		free(t.buf);
		snprintf(err, errlen, "%s: out of memory", p->name);
		return -1;
	}
	/* What -t reads first: a text config_parse refuses is our bug. */
	if (config_parse(p->name, t.buf, t.len, &cfg, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s: internal error: the hostflowd.conf written "
			 "is refused: %s", p->name, why);
		free(t.buf);
		return -1;
	}
	config_free(cfg);
	*out = t.buf;
	return 0;
}
