/* hostflowd --import: an hsflowd.conf or a pmacctd.conf read as it is, and
 * the hostflowd.conf that does the same written out, each setting of the
 * source quoted in a comment above its equivalent or above why it has none.
 * Pure: text in, text out; the files a source names (pmacctd's interfaces
 * map) and libpcap's verdict on a filter come through struct import_io, so
 * that the unit tests and the fuzzers drive the parsers without I/O. The
 * shell (daemon/importcmd.c) reads the files and prints. */
#ifndef HF_IMPORT_H
#define HF_IMPORT_H

#include <stddef.h>
#include <stdint.h>

/* What an importer asks of its caller. */
struct import_io {
	void *ctx;
	/* The text of a file the source names: 0 with a malloc'd *text of *len
	 * bytes (the importer frees it), or -1 with "PATH: cannot read: why".
	 * NULL: no file can be read (the importer says so as an error). */
	int (*read_file)(void *ctx, const char *path, char **text, size_t *len,
			 char *err, size_t errlen);
	/* 0 when hostflowd compiles the pcap-filter(7) expression, else -1 with
	 * libpcap's message. NULL: taken unchecked. */
	int (*check_filter)(void *ctx, const char *expr, char *err, size_t errlen);
};

/* Each reads text (len bytes) as if from the file called name. Returns 0
 * and a malloc'd NUL-terminated hostflowd.conf in *out (the caller frees),
 * which config_parse accepts; or -1 with "NAME:LINE: message" (a file the
 * source names: "THAT:LINE: message") in err, *out untouched. */
int import_hsflowd(const char *name, const char *text, size_t len,
		   const struct import_io *io, char **out, char *err, size_t errlen);
int import_pmacctd(const char *name, const char *text, size_t len,
		   const struct import_io *io, char **out, char *err, size_t errlen);

/* ---- shared by import_hsflowd.c and import_pmacctd.c (import.c) ----
 * A plan: the source's settings in file order, each with the hostflowd
 * lines it becomes and the notes that explain; rendered once whole, so
 * that "the last one wins" (both sources keep the last of a repeated
 * setting, hostflowd refuses a repeat) and the collector and sample limits
 * are decided with the file in view. */

#define IMPORT_MAX_COLLECTORS 16   /* config.c's MAX_COLLECTORS */

struct import_plan;
struct import_item;

struct import_plan *import_plan_new(const char *name, const char *source_kind);
void import_plan_free(struct import_plan *p);
/* A setting of the source from line `line` to `last`, quoted as echo. */
struct import_item *import_item(struct import_plan *p, int line, int last,
				const char *echo, size_t echolen);
/* The hostflowd line(s) it becomes ('\n' between lines). A non-empty key
 * makes it single-valued: only the last item of that key is written, the
 * earlier ones say that line replaced them. */
void import_directive(struct import_item *it, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Makes the item single-valued under key without a line of its own (a
 * setting whose value hostflowd cannot take still replaces earlier ones). */
void import_key(struct import_item *it, const char *key);
/* A note under the item (wrapped, as comment lines). */
void import_note(struct import_item *it, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* `collector HOST PORT`; a repeat of an earlier one, or the 17th, becomes a
 * note. host must satisfy import_host_ok. */
void import_collector(struct import_item *it, const char *host, uint16_t port);
/* `sample PATTERN [rate N] [filter "EXPR"]` for interface ifname (see
 * import_ifname_why), rate 0: none; a repeated name becomes a note. */
void import_sample(struct import_item *it, const char *ifname, uint32_t rate,
		   const char *filter);
/* `sample *` (every interface), with the filter, if any. */
void import_sample_all(struct import_item *it, const char *filter);
/* Lines and notes after the source's settings, for what the source did
 * without a setting (hsflowd's rate by speed, pmacctd's defaults). */
struct import_item *import_tail(struct import_plan *p, const char *title);
/* The text, checked by config_parse: 0 with *out, or -1 with err. */
int import_render(struct import_plan *p, char **out, char *err, size_t errlen);

/* Bytes of the source quoted in an error message made printable ('?'). */
void import_printable(char *msg);
/* Whether s is an interface name a sample line can name: NULL, or why not. */
const char *import_ifname_why(const char *s);
/* A collector host hostflowd takes as written: numeric IPv4 or IPv6, or a
 * DNS name. */
int import_host_ok(const char *s);
/* An address agent_address takes (a literal IPv4 or IPv6 address). */
int import_addr_ok(const char *s);
/* A pcap-filter(7) expression a sample line can carry: NULL, or why not. */
const char *import_filter_why(const char *expr);

#endif
