/* The one ifIndex rule, and pmacct's interfaces.map format.
 *
 * Served ifIndex of a link = the map's number when the map lists its name,
 * else its kernel ifindex, unless that number is taken (by a map entry or by
 * another row), in which case the link gets the lowest free number and a
 * warning. Assignments are sticky: a link keeps the number it was served
 * under as long as it keeps its kernel ifindex and name. */
#ifndef HF_IFMAP_H
#define HF_IFMAP_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define IFMAP_MAX_INDEX 0x3FFFFFFFu  /* keep < 2^30: the compact sFlow in/out word */

struct ifmap_entry {
	uint32_t ifindex;
	char name[IFNAMSIZ];
	int line;
};

/* hf_ifmap, not ifmap: glibc's <net/if.h> already has a struct ifmap. */
struct hf_ifmap {
	struct ifmap_entry *e;   /* one per interface name; first entry wins */
	size_t n;
};

/* Parses pmacct's interfaces.map: `ifindex=N ifname=NAME [direction=in|out]`,
 * keys in any order, `#` or `!` comments. Errors: "FILE:LINE: message"; when
 * the file itself cannot be read, "FROM: ifindex_map: PATH: cannot read: ..."
 * where FROM names the config line that points here (NULL: no prefix). */
int ifmap_load(const char *path, const char *from, struct hf_ifmap **out,
	       char *err, size_t errlen);
int ifmap_parse(const char *name, const char *text, size_t len,
		struct hf_ifmap **out, char *err, size_t errlen);
void ifmap_free(struct hf_ifmap *map);
/* The map's number for an interface name, 0 when not listed (map may be NULL). */
uint32_t ifmap_lookup(const struct hf_ifmap *map, const char *name);

/* One link as seen by the assignment rule. */
struct ifmap_link {
	int kindex;              /* in: kernel ifindex */
	const char *name;        /* in */
	uint32_t prev;           /* in: number served under in the previous table for
				    this (kindex, name), 0 if none */
	uint32_t served;         /* out: the number to serve */
	int relocated;           /* out: 1 when served != kindex and the map does not list it */
};

/* Assigns served numbers to n links; no two links get the same number. */
void ifmap_assign(const struct hf_ifmap *map, struct ifmap_link *links, size_t n);

/* One line of pmacct's format for what is served: "ifindex=N ifname=NAME direction=in\n". */
void ifmap_print_line(FILE *f, uint32_t ifindex, const char *name);

#endif
