#include "sflow/core/pfilter.h"
#include "base/util.h"

#include <net/if_arp.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

/* Any non-zero snap length means "matched" to the program builder. */
#define COMPILE_SNAPLEN 65535

_Static_assert(PFILTER_DLT_EN10MB == DLT_EN10MB && PFILTER_DLT_RAW == DLT_RAW,
	       "pfilter.h's link types are pcap's");

int pfilter_dlt_for_arphrd(unsigned arphrd)
{
	return arphrd == ARPHRD_ETHER || arphrd == ARPHRD_LOOPBACK ? PFILTER_DLT_EN10MB
								   : PFILTER_DLT_RAW;
}

int pfilter_compile(const char *expr, int dlt, struct sock_filter **prog, size_t *len,
		    char *err, size_t errlen)
{
	struct bpf_program bp;
	pcap_t *p;
	int rc = -1;

	if (strlen(expr) > PFILTER_EXPR_MAX) {
		snprintf(err, errlen, "expression longer than %d bytes", PFILTER_EXPR_MAX);
		return -1;
	}
	p = pcap_open_dead(dlt, COMPILE_SNAPLEN);
	if (!p) {
		snprintf(err, errlen, "pcap_open_dead failed (out of memory)");
		return -1;
	}
	if (pcap_compile(p, &bp, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "%s", pcap_geterr(p));
		goto out;
	}
	/* struct bpf_insn and struct sock_filter have the same layout. */
	*prog = calloc(bp.bf_len ? bp.bf_len : 1, sizeof **prog);
	if (!*prog) {
		snprintf(err, errlen, "out of memory");
	} else {
		for (unsigned i = 0; i < bp.bf_len; i++) {
			(*prog)[i].code = bp.bf_insns[i].code;
			(*prog)[i].jt = bp.bf_insns[i].jt;
			(*prog)[i].jf = bp.bf_insns[i].jf;
			(*prog)[i].k = bp.bf_insns[i].k;
		}
		*len = bp.bf_len;
		rc = 0;
	}
	pcap_freecode(&bp);
out:
	pcap_close(p);
	return rc;
}

struct pf_entry {
	char *expr;
	int dlt;
	int used;
	struct sock_filter *prog;
	size_t len;
};

/* The cache's first room: a config names a few distinct filters. */
#define PFILTER_FIRST_CAP 8

struct pfilter_cache {
	struct pf_entry *v;
	size_t n, cap;
};

struct pfilter_cache *pfilter_cache_new(void)
{
	return calloc(1, sizeof(struct pfilter_cache));
}

void pfilter_cache_free(struct pfilter_cache *pc)
{
	if (!pc)
		return;
	for (size_t i = 0; i < pc->n; i++) {
		free(pc->v[i].expr);
		free(pc->v[i].prog);
	}
	free(pc->v);
	free(pc);
}

const struct sock_filter *pfilter_cache_get(struct pfilter_cache *pc, const char *expr,
					    int dlt, size_t *len, char *err, size_t errlen)
{
	struct pf_entry e = { .dlt = dlt, .used = 1 };

	for (size_t i = 0; i < pc->n; i++)
		if (pc->v[i].dlt == dlt && !strcmp(pc->v[i].expr, expr)) {
			pc->v[i].used = 1;
			*len = pc->v[i].len;
			return pc->v[i].prog;
		}
	if (hf_grow(&pc->v, pc->n, &pc->cap, sizeof *pc->v, PFILTER_FIRST_CAP) < 0) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (pfilter_compile(expr, dlt, &e.prog, &e.len, err, errlen) < 0)
		return NULL;
	e.expr = strdup(expr);
	if (!e.expr) {
		free(e.prog);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pc->v[pc->n++] = e;
	*len = e.len;
	return e.prog;
}

void pfilter_cache_prune(struct pfilter_cache *pc)
{
	size_t j = 0;

	for (size_t i = 0; i < pc->n; i++) {
		if (!pc->v[i].used) {
			free(pc->v[i].expr);
			free(pc->v[i].prog);
			continue;
		}
		pc->v[i].used = 0;
		pc->v[j++] = pc->v[i];
	}
	pc->n = j;
}

int pfilter_check_config(const struct config *cfg, char *err, size_t errlen)
{
	char msg[512];

	for (size_t i = 0; i < cfg->n_samples; i++) {
		const struct cfg_sample *c = &cfg->samples[i];
		struct sock_filter *prog = NULL;
		size_t len;

		if (!c->filter[0])
			continue;
		if (pfilter_compile(c->filter, PFILTER_DLT_EN10MB, &prog, &len, msg,
				    sizeof msg) < 0) {
			snprintf(err, errlen, "%s:%d: filter \"%s\": %s", cfg->path, c->line,
				 c->filter, msg);
			return -1;
		}
		free(prog);
	}
	return 0;
}
