/* libFuzzer target: ifmap_parse() over arbitrary bytes, then the ifIndex
 * rule over links made from what was parsed. The input is the map text; the
 * links' kernel indexes, previous numbers and extra names are derived from a
 * hash of it, so every map the fuzzer finds also tries many link sets. */
#include "config/ifmap.h"
#include "fuzz_check.h"

#define NAME      "fuzz.map"
#define MAX_LINKS 48
#define N_EXTRA   6

struct linkset {
	struct ifmap_link l[MAX_LINKS];
	char names[MAX_LINKS][IFNAMSIZ];
	size_t n;
};

/* xorshift64: cheap, deterministic per input. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t fnv1a(const uint8_t *d, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ d[i]) * 1099511628211ull;
	return h | 1;
}

/* A kernel index that collides with something often: a map number, a
 * neighbour of one, a small number, or an invalid one. */
static int pick_kindex(const struct hf_ifmap *map, uint64_t r)
{
	uint32_t m = map->n ? map->e[(r >> 8) % map->n].ifindex : 1;

	switch (r % 6) {
	case 0: return (int)m;
	case 1: return (int)m + 1;
	case 2: return (int)((r >> 16) % 8) + 1;
	case 3: return (int)((r >> 16) % 64) + 1;
	case 4: return (r >> 16) & 1 ? 0 : -1;
	default: return (int)(IFMAP_MAX_INDEX - (r >> 16) % 3);
	}
}

static void add_link(struct linkset *ls, const char *name, int kindex, uint32_t prev)
{
	struct ifmap_link *l = &ls->l[ls->n];

	snprintf(ls->names[ls->n], IFNAMSIZ, "%s", name);
	l->name = ls->names[ls->n];
	l->kindex = kindex;
	l->prev = prev;
	ls->n++;
}

static void build_links(const struct hf_ifmap *map, uint64_t seed, struct linkset *ls)
{
	char extra[IFNAMSIZ];
	size_t i;

	ls->n = 0;
	for (i = 0; i < map->n && ls->n < MAX_LINKS - N_EXTRA; i++) {
		uint64_t r = next_rand(&seed);
		uint32_t prev = r & 0x100000 ? (uint32_t)pick_kindex(map, r >> 24) : 0;

		add_link(ls, map->e[i].name, pick_kindex(map, r), prev);
	}
	for (i = 0; i < N_EXTRA; i++) {
		uint64_t r = next_rand(&seed);

		/* Some extras reuse a mapped name under another kindex. */
		if (map->n && r & 0x200000)
			snprintf(extra, sizeof extra, "%s", map->e[(r >> 40) % map->n].name);
		else
			snprintf(extra, sizeof extra, "fz%zu", i);
		add_link(ls, extra, pick_kindex(map, r), r & 0x100000 ?
			 (uint32_t)((r >> 24) % 64) : 0);
	}
}

static int name_count(const struct linkset *ls, const char *name)
{
	int c = 0;
	size_t i;

	for (i = 0; i < ls->n; i++)
		c += !strcmp(ls->l[i].name, name);
	return c;
}

static void check_assignment(const struct hf_ifmap *map, const struct linkset *ls)
{
	size_t i, j;

	for (i = 0; i < ls->n; i++) {
		const struct ifmap_link *a = &ls->l[i];
		uint32_t m = ifmap_lookup(map, a->name);

		FUZZ_CHECK(a->served != 0, "link %s/%d served 0", a->name, a->kindex);
		FUZZ_CHECK(a->served < IFMAP_MAX_INDEX, "link %s served %u",
			   a->name, a->served);
		for (j = i + 1; j < ls->n; j++)
			FUZZ_CHECK(a->served != ls->l[j].served, "%s/%d and %s/%d both %u",
				   a->name, a->kindex, ls->l[j].name, ls->l[j].kindex,
				   a->served);
		/* The map's number wins for a name only one link carries. */
		if (m && name_count(ls, a->name) == 1)
			FUZZ_CHECK(a->served == m, "mapped %s served %u, map %u",
				   a->name, a->served, m);
		FUZZ_CHECK(a->relocated == (a->served != (m ? m : (uint32_t)a->kindex)),
			   "link %s relocated %d", a->name, a->relocated);
	}
}

/* The numbers just served, fed back as prev, must come out unchanged. */
static void check_sticky(const struct hf_ifmap *map, struct linkset *ls)
{
	uint32_t before[MAX_LINKS];
	size_t i;

	for (i = 0; i < ls->n; i++) {
		before[i] = ls->l[i].served;
		ls->l[i].prev = ls->l[i].served;
	}
	ifmap_assign(map, ls->l, ls->n);
	for (i = 0; i < ls->n; i++)
		FUZZ_CHECK(ls->l[i].served == before[i], "%s/%d moved %u -> %u",
			   ls->l[i].name, ls->l[i].kindex, before[i], ls->l[i].served);
}

static void check_map(const struct hf_ifmap *map)
{
	size_t i;

	for (i = 0; i < map->n; i++) {
		const struct ifmap_entry *e = &map->e[i];

		FUZZ_CHECK(e->ifindex >= 1 && e->ifindex < IFMAP_MAX_INDEX, "%u", e->ifindex);
		FUZZ_CHECK(ifmap_lookup(map, e->name) == e->ifindex, "lookup %s", e->name);
		if (i)
			FUZZ_CHECK(strcmp(map->e[i - 1].name, e->name) < 0, "order");
	}
	FUZZ_CHECK(ifmap_lookup(map, "") == 0, "empty name");
	FUZZ_CHECK(ifmap_lookup(NULL, "x") == 0, "NULL map");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct linkset ls;
	struct hf_ifmap *map = NULL;
	char err[512];

	memset(err, 0xff, sizeof err);
	if (ifmap_parse(NAME, (const char *)data, size, &map, err, sizeof err)) {
		FUZZ_CHECK(map == NULL, "*out written on error");
		fuzz_check_error(NAME, err, sizeof err, data, size);
		return 0;
	}
	FUZZ_CHECK(map != NULL, "success without a map");
	check_map(map);
	build_links(map, fnv1a(data, size), &ls);
	ifmap_assign(map, ls.l, ls.n);
	check_assignment(map, &ls);
	check_sticky(map, &ls);
	ifmap_assign(NULL, ls.l, ls.n);
	check_assignment(NULL, &ls);
	ifmap_free(map);
	return 0;
}
