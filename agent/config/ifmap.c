/* pmacct's interfaces.map and the one ifIndex rule.
 *
 * File rules are those of hostflowd.conf: lines of at most 4095 bytes, no NUL,
 * at most 1 MiB, printable ASCII outside comments. The parsed entries are kept
 * sorted by name so that lookups are a binary search. */
#include "config/ifmap.h"
#include "base/log.h"
#include "base/textfile.h"
#include "base/util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES TEXTFILE_LINE_MAX
#define MAP_MAX_INDEX  (IFMAP_MAX_INDEX - 1)

struct mparser {
	const char *name;
	int line;
	char *err;
	size_t errlen;
	struct ifmap_entry *e;
	size_t n, cap;
};

static int merr(struct mparser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int merr(struct mparser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	textfile_verr(p->err, p->errlen, p->name, p->line, fmt, ap);
	va_end(ap);
	return -1;
}

static int parse_index(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
		if (v > MAP_MAX_INDEX)
			return -1;
	}
	if (v < 1)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* One key=value word of length len into the entry; seen is a bit per key. */
static int map_word(struct mparser *p, const char *w, size_t len,
		    struct ifmap_entry *e, unsigned *seen)
{
	static const char *const keys[] = { "ifindex", "ifname", "direction" };
	const char *eq = memchr(w, '=', len), *v;
	size_t k, kl, vl;

	if (!eq)
		return merr(p, "'%.*s' is not key=value (keys: ifindex, ifname, "
			    "direction)", (int)len, w);
	kl = eq - w;
	v = eq + 1;
	vl = len - kl - 1;
	for (k = 0; k < 3; k++)
		if (strlen(keys[k]) == kl && !memcmp(w, keys[k], kl))
			break;
	if (k == 3)
		return merr(p, "unknown key '%.*s' (keys: ifindex, ifname, direction)",
			    (int)kl, w);
	if (*seen & (1u << k))
		return merr(p, "key '%s' given twice on one line", keys[k]);
	*seen |= 1u << k;
	if (k == 0 && parse_index(v, vl, &e->ifindex))
		return merr(p, "ifindex '%.*s' is not a number in 1..%u", (int)vl, v,
			    MAP_MAX_INDEX);
	if (k == 1 && !textfile_ifname_valid(v, vl))
		return merr(p, "ifname '%.*s' is not a valid interface name (1..15 "
			    "printable ASCII bytes, no '/' or ':', not '.' or '..')",
			    (int)vl, v);
	if (k == 1)
		memcpy(e->name, v, vl);
	if (k == 2 && !(vl == 2 && !memcmp(v, "in", 2)) &&
	    !(vl == 3 && !memcmp(v, "out", 3)))
		return merr(p, "direction '%.*s' must be in or out", (int)vl, v);
	return 0;
}

static int map_line(struct mparser *p, const char *line, size_t len)
{
	struct ifmap_entry e = { .line = p->line };
	unsigned seen = 0;
	size_t i = 0, start;

	if (memchr(line, '\0', len))
		return merr(p, "NUL byte in line");
	if (len > LINE_MAX_BYTES)
		return merr(p, "line is longer than %d bytes", LINE_MAX_BYTES);
	for (;;) {
		while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
			i++;
		/* '#' or '!' starts a comment at the start of a word only. */
		if (i == len || line[i] == '#' || line[i] == '!')
			break;
		for (start = i; i < len && line[i] != ' ' && line[i] != '\t' &&
		     line[i] != '\r'; i++)
			if ((unsigned char)line[i] < ' ' || (unsigned char)line[i] > '~')
				return merr(p, "byte 0x%02x is not allowed outside comments "
					    "(printable ASCII only)", (unsigned char)line[i]);
		if (map_word(p, line + start, i - start, &e, &seen))
			return -1;
	}
	if (!seen)
		return 0;
	if (!(seen & 1) || !(seen & 2))
		return merr(p, "missing %s (each line needs ifindex=N and ifname=NAME)",
			    seen & 1 ? "ifname=" : "ifindex=");
	if (hf_grow(&p->e, p->n, &p->cap, sizeof *p->e, 16) < 0)
		return merr(p, "out of memory");
	p->e[p->n++] = e;
	return 0;
}

static int cmp_name_line(const void *a, const void *b)
{
	const struct ifmap_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : x->line - y->line;
}

static int cmp_index_line(const void *a, const void *b)
{
	const struct ifmap_entry *x = a, *y = b;

	if (x->ifindex != y->ifindex)
		return x->ifindex < y->ifindex ? -1 : 1;
	return x->line - y->line;
}

/* Keeps the first entry of each name (warn is set to log the others), then
 * rejects a number shared by two names, at the earliest later line. */
static int map_dedup(struct mparser *p, int warn)
{
	size_t i, k = 0;
	int bad = 0, first = 0;
	uint32_t num = 0;
	char other[IFNAMSIZ] = "";

	if (p->n < 2)
		return 0;
	qsort(p->e, p->n, sizeof *p->e, cmp_name_line);
	for (i = 0; i < p->n; i++) {
		const struct ifmap_entry *w = &p->e[k ? k - 1 : 0];

		if (k && !strcmp(w->name, p->e[i].name)) {
			if (warn && w->ifindex != p->e[i].ifindex)
				log_warn("ifmap", "%s:%d: ifname %s listed again with ifindex %u; "
					 "keeping ifindex %u from line %d", p->name,
					 p->e[i].line, w->name, p->e[i].ifindex,
					 w->ifindex, w->line);
			continue;
		}
		p->e[k++] = p->e[i];
	}
	p->n = k;
	qsort(p->e, p->n, sizeof *p->e, cmp_index_line);
	for (i = 1; i < p->n; i++)
		if (p->e[i].ifindex == p->e[i - 1].ifindex &&
		    (!bad || p->e[i].line < bad) &&
		    (i < 2 || p->e[i - 2].ifindex != p->e[i].ifindex)) {
			bad = p->e[i].line;
			first = p->e[i - 1].line;
			num = p->e[i].ifindex;
			memcpy(other, p->e[i - 1].name, IFNAMSIZ);
		}
	qsort(p->e, p->n, sizeof *p->e, cmp_name_line);
	if (!bad)
		return 0;
	p->line = bad;
	return merr(p, "ifindex %u is already given to ifname %s on line %d (one "
		    "number cannot serve two interfaces)", num, other, first);
}

int ifmap_parse(const char *name, const char *text, size_t len,
		struct hf_ifmap **out, char *err, size_t errlen)
{
	struct mparser p = { .name = name, .err = err, .errlen = errlen };
	struct hf_ifmap *map;
	size_t pos = 0;
	int rc = 0;

	while (pos < len && !rc) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - text) - pos : len - pos;

		p.line++;
		rc = map_line(&p, text + pos, l);
		pos += l + 1;
	}
	/* Entries only come from lines before the failing one. */
	if (map_dedup(&p, !rc))
		rc = -1;
	map = rc ? NULL : malloc(sizeof *map);
	if (!rc && !map)
		rc = merr(&p, "out of memory");
	if (rc) {
		free(p.e);
		return -1;
	}
	map->e = p.e;
	map->n = p.n;
	*out = map;
	return 0;
}

int ifmap_load(const char *path, const char *from, struct hf_ifmap **out,
	       char *err, size_t errlen)
{
	char *text = NULL, why[512];
	size_t len = 0;
	int r;

	if (textfile_read(path, &text, &len, why, sizeof why)) {
		if (from)
			snprintf(err, errlen, "%s: ifindex_map: %s", from, why);
		else
			snprintf(err, errlen, "%s", why);
		return -1;
	}
	r = ifmap_parse(path, text, len, out, err, errlen);
	free(text);
	return r;
}

void ifmap_free(struct hf_ifmap *map)
{
	if (!map)
		return;
	free(map->e);
	free(map);
}

static int cmp_key_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ifmap_entry *)elem)->name);
}

uint32_t ifmap_lookup(const struct hf_ifmap *map, const char *name)
{
	const struct ifmap_entry *e;

	if (!map || !map->n || !name)
		return 0;
	e = bsearch(name, map->e, map->n, sizeof *map->e, cmp_key_name);
	return e ? e->ifindex : 0;
}

/* A set of served numbers: open addressing, 0 marks an empty slot. */
struct numset {
	uint32_t *slot;
	size_t mask;
};

static int numset_init(struct numset *s, size_t n)
{
	size_t size = 64;

	while (size < 2 * n)
		size *= 2;
	s->slot = calloc(size, sizeof *s->slot);
	s->mask = size - 1;
	return s->slot ? 0 : -1;
}

static size_t numset_pos(const struct numset *s, uint32_t v)
{
	size_t i = (v * 2654435761u) & s->mask;

	while (s->slot[i] && s->slot[i] != v)
		i = (i + 1) & s->mask;
	return i;
}

static int numset_has(const struct numset *s, uint32_t v)
{
	return s->slot[numset_pos(s, v)] == v;
}

static void numset_add(struct numset *s, uint32_t v)
{
	s->slot[numset_pos(s, v)] = v;
}

static int cmp_link(const void *a, const void *b)
{
	const struct ifmap_link *x = *(const struct ifmap_link *const *)a;
	const struct ifmap_link *y = *(const struct ifmap_link *const *)b;

	if (x->kindex != y->kindex)
		return x->kindex < y->kindex ? -1 : 1;
	return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int usable(int64_t v)
{
	return v >= 1 && v <= MAP_MAX_INDEX;
}

/* Step 4: the lowest numbers used by no map entry, no row and no kernel
 * index of a present link, handed out in kindex order. */
static int assign_rest(const struct hf_ifmap *map, struct ifmap_link **ord, size_t n)
{
	size_t nmap = map ? map->n : 0, nu = 0, i, j = 0;
	uint32_t *used = malloc((nmap + 2 * n + 1) * sizeof *used), cand = 1;

	if (!used)
		return -1;
	for (i = 0; i < nmap; i++)
		used[nu++] = map->e[i].ifindex;
	for (i = 0; i < n; i++) {
		if (ord[i]->served)
			used[nu++] = ord[i]->served;
		if (usable(ord[i]->kindex))
			used[nu++] = (uint32_t)ord[i]->kindex;
	}
	qsort(used, nu, sizeof *used, cmp_u32);
	for (i = 0; i < n; i++) {
		if (ord[i]->served)
			continue;
		while (j < nu && used[j] <= cand) {
			if (used[j] == cand)
				cand++;
			j++;
		}
		if (cand > MAP_MAX_INDEX)
			break;
		ord[i]->served = cand++;
	}
	free(used);
	return 0;
}

/* Steps 1-3 of the rule; each pass walks the links in ascending kindex. */
static void assign_known(const struct hf_ifmap *map, struct ifmap_link **ord,
			 size_t n, struct numset *taken, struct numset *given)
{
	size_t i;
	uint32_t m;

	for (i = 0; i < n; i++) {
		m = ifmap_lookup(map, ord[i]->name);
		if (m && !numset_has(given, m)) {
			ord[i]->served = m;
			numset_add(given, m);
		}
	}
	/* Sticky first, so a link that was moved aside is not moved again. */
	for (i = 0; i < n; i++)
		if (!ord[i]->served && usable(ord[i]->prev) &&
		    !numset_has(taken, ord[i]->prev)) {
			ord[i]->served = ord[i]->prev;
			numset_add(taken, ord[i]->served);
		}
	for (i = 0; i < n; i++)
		if (!ord[i]->served && usable(ord[i]->kindex) &&
		    !numset_has(taken, (uint32_t)ord[i]->kindex)) {
			ord[i]->served = (uint32_t)ord[i]->kindex;
			numset_add(taken, ord[i]->served);
		}
}

void ifmap_assign(const struct hf_ifmap *map, struct ifmap_link *links, size_t n)
{
	size_t i, nmap = map ? map->n : 0;
	struct numset taken = { 0 }, given = { 0 };
	struct ifmap_link **ord = n ? malloc(n * sizeof *ord) : NULL;
	uint32_t m;

	for (i = 0; i < n; i++) {
		links[i].served = 0;
		links[i].relocated = 0;
	}
	if (!n)
		return;
	if (!ord || numset_init(&taken, n + nmap) || numset_init(&given, nmap))
		goto nomem;
	for (i = 0; i < n; i++)
		ord[i] = &links[i];
	qsort(ord, n, sizeof *ord, cmp_link);
	/* Every map number stays reserved, even for names not present now. */
	for (i = 0; i < nmap; i++)
		numset_add(&taken, map->e[i].ifindex);
	assign_known(map, ord, n, &taken, &given);
	if (assign_rest(map, ord, n))
		goto nomem;
	for (i = 0; i < n; i++) {
		m = ifmap_lookup(map, links[i].name);
		links[i].relocated = links[i].served &&
			links[i].served != (m ? m : (uint32_t)links[i].kindex);
	}
	goto out;
nomem:
	/* Serving nothing is safe; serving a number twice is not. */
	log_err("ifmap", "out of memory assigning %zu interface numbers", n);
	for (i = 0; i < n; i++)
		links[i].served = 0;
out:
	free(taken.slot);
	free(given.slot);
	free(ord);
}

void ifmap_print_line(FILE *f, uint32_t ifindex, const char *name)
{
	/* pmacctd 1.7.7 attributes traffic only for one direction=in line. */
	fprintf(f, "ifindex=%u ifname=%s direction=in\n", ifindex, name);
}
