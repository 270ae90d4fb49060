/* The sampler's table and status: the ports handed to the core (each row
 * with the `sample` line that decides for it), the log lines saying what
 * that changed, and the status text. Sampler thread only (the status text
 * under the lock). */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sflow/capture.h"
#include "sflow/collector.h"
#include "base/log.h"
#include "sflow/sampler.h"
#include "sflow/sampler_int.h"
#include "sflow/core/sflow_agent.h"
#include "sflow/core/sflow_encode.h"
#include "sflow/core/sflow_status.h"
#include "base/util.h"

#define STATUS_EVERY_MS   1000  /* the status text's counts are this fresh */
#define LOG_NAMES_MAX     16    /* names in a log line; then a count */

uint32_t sampler_hash_bytes(const void *p, size_t len, uint32_t h)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619u;
	return h & 0x7fffffffu;
}

uint32_t sampler_hash(const char *t, uint32_t h)
{
	return sampler_hash_bytes(t, t ? strlen(t) : 0, h);
}

/* ---- what the kernel samples ---- */

enum capture_backend sampler_capture_backend(const struct config *cfg)
{
	switch (cfg->capture) {
	case CFG_CAPTURE_PACKET: return CAPTURE_PACKET;
	case CFG_CAPTURE_EBPF: return CAPTURE_EBPF;
	case CFG_CAPTURE_AUTO: break;
	}
	return CAPTURE_AUTO;
}

/* The capture rules of the ports with a rate; at[] their index in ports. */
static size_t rules_of(const struct config *cfg, const struct sfa_port *ports, size_t n,
		       struct capture_rule *r, size_t *at)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct cfg_sample *m;

		if (!ports[i].rate)
			continue;
		m = config_sample_match(cfg, ports[i].name);
		r[k] = (struct capture_rule){ .kindex = ports[i].kindex, .arphrd = ports[i].arphrd,
					      .rate = ports[i].rate,
					      .filter = m ? m->filter : NULL,
					      .line = m ? m->line : 0 };
		at[k++] = i;
	}
	return k;
}

/* "v6, v7: why" for the log: the names the kernel refused, and the first
 * refusal's words. */
static void refusal_text(const struct sfa_port *ports, const size_t *at,
			 const enum capture_refusal *refused, size_t k, const char *why,
			 char *buf, size_t len)
{
	size_t used = 0, named = 0, more = 0;

	buf[0] = '\0';
	for (size_t j = 0; j < k; j++) {
		int w;

		if (refused[j] == CAPTURE_SAMPLED)
			continue;
		if (named == LOG_NAMES_MAX) {
			more++;
			continue;
		}
		w = snprintf(buf + used, len - used, "%s%s (%s)", named ? ", " : "",
			     ports[at[j]].name, capture_refusal_name(refused[j]));
		if (w < 0 || (size_t)w >= len - used)
			return;
		used += (size_t)w;
		named++;
	}
	if (more)
		used += (size_t)snprintf(buf + used, len - used, " and %zu more", more);
	if (used < len)
		snprintf(buf + used, len - used, ": %s", why);
}

int sampler_install(struct sampler *s, const struct sfa_port *ports, size_t n,
		    uint8_t *refused, char *why, size_t whylen)
{
	struct capture_rule *r = calloc(n ? n : 1, sizeof *r);
	enum capture_refusal *no = calloc(n ? n : 1, sizeof *no);
	struct sampler_refusal *keep = calloc(n ? n : 1, sizeof *keep);
	size_t *at = calloc(n ? n : 1, sizeof *at), k, nkeep = 0;
	char said[sizeof s->kernel_said];
	int rc = -1;

	if (!r || !no || !keep || !at) {
		hf_strlcpy(why, "out of memory", whylen);
		goto out;
	}
	k = rules_of(s->cfg, ports, n, r, at);
	if (capture_set_rules(s->cap, r, k, s->self, s->nself, s->cfg->header_bytes, no,
			      why, whylen) < 0)
		goto out;
	for (size_t j = 0; j < k; j++)
		if (no[j] != CAPTURE_SAMPLED) {
			refused[at[j]] = 1;
			keep[nkeep++] = (struct sampler_refusal){ ports[at[j]].kindex, no[j] };
		}
	/* Never silent: the log names what is not sampled and why, once per
	 * change; the status text keeps naming it. */
	refusal_text(ports, at, no, k, why, said, sizeof said);
	if (nkeep && strcmp(said, s->kernel_said))
		log_warn("sampler", "not sampled: %s", said);
	else if (!nkeep && s->kernel_said[0])
		log_info("sampler", "the kernel takes every sampled interface again");
	hf_strlcpy(s->kernel_said, nkeep ? said : "", sizeof s->kernel_said);
	free(s->refusals);
	s->refusals = keep;
	s->n_refusals = nkeep;
	s->cap_refusals = n ? n : 1;   /* keep's room */
	keep = NULL;
	rc = 0;
out:
	free(keep);
	free(at);
	free(no);
	free(r);
	return rc;
}

/* Refusals that came after the install (tc eBPF's attaches made in
 * steps): the core stops sampling those interfaces, and the log and the
 * status name them, as they name the install's own refusals. */
void sampler_take_late_refusals(struct sampler *s, int64_t now)
{
	int k[LOG_NAMES_MAX];
	size_t n;

	while ((n = capture_take_refused(s->cap, k, LOG_NAMES_MAX)) > 0) {
		struct if_snapshot *snap = iftable_acquire(s->table);
		char names[512] = "";
		size_t used = 0;

		for (size_t i = 0; i < n; i++) {
			const struct if_row *r = snap ? snap_find_kindex(snap, k[i]) : NULL;
			int w;

			if (!sfa_refused_later(s->core, k[i], now))
				continue;
			/* Without room the status says "no capture" for it. */
			if (hf_grow(&s->refusals, s->n_refusals, &s->cap_refusals,
				    sizeof *s->refusals, LOG_NAMES_MAX) == 0)
				s->refusals[s->n_refusals++] =
					(struct sampler_refusal){ k[i], CAPTURE_NO_ATTACH };
			w = snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "",
				     r ? r->name : "?");
			if (w > 0 && (size_t)w < sizeof names - used)
				used += (size_t)w;
		}
		if (snap)
			iftable_release(s->table, snap);
		if (used)
			log_warn("sampler", "not sampled: %s (%s)", names,
				 capture_refusal_name(CAPTURE_NO_ATTACH));
		sampler_publish_status(s);
	}
}

/* ---- status, for STATUS= and SIGUSR1 ---- */

/* Why a wanted interface is not sampled: the kernel's refusal, or an
 * install that failed altogether (sflow_status_shell.unsampled_why). */
static const char *unsampled_why(const void *ctx, int kindex)
{
	const struct sampler *s = ctx;

	for (size_t i = 0; i < s->n_refusals; i++)
		if (s->refusals[i].kindex == kindex)
			return capture_refusal_name(s->refusals[i].why);
	return "no capture";
}

void sampler_publish_status(struct sampler *s)
{
	struct sfa_stats st;
	char coll[STATUS_MAX], buf[STATUS_MAX];
	struct sflow_status_shell sh = { .waiting = s->waiting, .collectors = coll,
					 .holding = !s->answerable && s->cfg->hold_samples,
					 .capture = capture_kind(s->cap),
					 .unsampled_why = unsampled_why, .ctx = s };

	sfa_get_stats(s->core, &st);
	collectors_describe(s->coll, coll, sizeof coll);
	sflow_status_of(s->core, &sh, buf, sizeof buf);
	pthread_mutex_lock(&s->lock);
	memcpy(s->status, buf, sizeof s->status);
	pthread_mutex_unlock(&s->lock);
	s->status_ms = monotonic_ms();
	s->status_dgrams = st.datagrams;
}

/* ---- the table ---- */

static uint8_t if_direction(enum if_duplex d)
{
	return d == IF_DUPLEX_FULL ? SFLOW_DIR_FULL : d == IF_DUPLEX_HALF ? SFLOW_DIR_HALF
								   : SFLOW_DIR_UNKNOWN;
}

/* The ports the core needs: every row, with the rate and filter of the
 * `sample` line that decides for it (rate 0 when none, or no collector).
 * The rate follows the row's served speed (config_sample_rate): a new
 * speed, from the kernel or a reload, reaches the core as a reload's new
 * rate does, through sfa_sync, after the ring's frames were taken at the
 * old one. */
static struct sfa_port *ports_of(const struct config *cfg, uint32_t salt,
				 const struct if_snapshot *snap)
{
	struct sfa_port *v = calloc(snap->n ? snap->n : 1, sizeof *v);

	if (!v)
		return NULL;
	for (size_t i = 0; i < snap->n; i++) {
		const struct if_row *r = &snap->rows[i];
		const struct cfg_sample *m = config_sample_match(cfg, r->name);

		v[i].kindex = r->kindex;
		v[i].ifindex = r->ifindex;
		hf_strlcpy(v[i].name, r->name, sizeof v[i].name);
		v[i].arphrd = r->arphrd;
		v[i].iftype = r->iftype;
		v[i].speed_bps = r->speed_bps;
		v[i].admin = r->admin;
		v[i].oper = r->oper;
		v[i].promisc = r->promisc;
		v[i].if_direction = if_direction(r->duplex);
		if (m && cfg->n_collectors) {
			v[i].rate = config_sample_rate(cfg, m, r->speed_bps);
			v[i].filter_id = (int)sampler_hash(m->filter, salt);
		}
	}
	return v;
}

/* The sample lines (not `off`) that match no interface of the snapshot. */
static void find_waiting(struct sampler *s, const struct if_snapshot *snap)
{
	size_t used = 0;

	s->waiting[0] = '\0';
	for (size_t i = 0; i < s->cfg->n_samples && used < sizeof s->waiting; i++) {
		const struct cfg_sample *c = &s->cfg->samples[i];
		size_t r = 0;
		int w;

		if (c->off)
			continue;
		while (r < snap->n && fnmatch(c->name, snap->rows[r].name, 0) != 0)
			r++;
		if (r < snap->n)
			continue;
		w = snprintf(s->waiting + used, sizeof s->waiting - used, "%s%s",
			     used ? ", " : "", c->name);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

#define LOG_CHANGES_MAX 8   /* per-interface lines per change; then a count */

static size_t sampled_list(struct sampler *s, struct sfa_port **out)
{
	struct sfa_stats st;

	sfa_get_stats(s->core, &st);
	*out = calloc(st.sampled ? st.sampled : 1, sizeof **out);
	return *out ? sfa_sampled(s->core, *out, st.sampled) : 0;
}

/* Says what changed between two sampled lists (both sorted by kindex):
 * interfaces taken, let go, or sampled at another rate. */
static void log_changes(const struct sfa_port *a, size_t na, const struct sfa_port *b,
			size_t nb)
{
	size_t i = 0, j = 0, said = 0, more = 0;

	while (i < na || j < nb) {
		int d = i == na ? 1 : j == nb ? -1 :
			(a[i].kindex > b[j].kindex) - (a[i].kindex < b[j].kindex);
		int note = d != 0 || a[i].rate != b[j].rate;

		if (note && said >= LOG_CHANGES_MAX)
			more++;
		else if (d < 0)
			log_info("sampler", "%s no longer sampled", a[i].name);
		else if (d > 0)
			log_info("sampler", "sampling %s (ifIndex %u) 1 in %u", b[j].name,
				 b[j].ifindex, b[j].rate);
		else if (note)
			log_info("sampler", "%s now 1 in %u", b[j].name, b[j].rate);
		said += note;
		i += d <= 0;
		j += d >= 0;
	}
	if (more)
		log_info("sampler", "and %zu more interface changes", more);
}

static void log_sampling(struct sampler *s, const struct sfa_port *before, size_t nbefore,
			 int force)
{
	struct sfa_port *after;
	size_t n = sampled_list(s, &after);

	log_changes(before, nbefore, after, n);
	if (n != nbefore || force)
		log_info("sampler", "sampling %zu interface%s", n, n == 1 ? "" : "s");
	free(after);
}

int sampler_sync_table(struct sampler *s, int force, int64_t now, char *err, size_t errlen)
{
	struct if_snapshot *snap = iftable_acquire(s->table);
	struct sfa_port *ports, *before;
	size_t nbefore;
	char why[512] = "";
	int rc = 0;

	if (!snap)
		return 0;
	if (!force && s->synced && snap->generation == s->generation) {
		iftable_release(s->table, snap);
		return 0;
	}
	nbefore = sampled_list(s, &before);
	ports = ports_of(s->cfg, s->salt, snap);
	if (!ports) {
		log_err("sampler", "out of memory; the table's change waits");
		iftable_release(s->table, snap);
		free(before);
		snprintf(err, errlen, "sampler: out of memory");
		return -1;
	}
	if (sfa_sync(s->core, ports, snap->n, now, why, sizeof why) < 0) {
		/* The kernel keeps what it had, and so do the samples' rates. */
		if (strcmp(why, s->refused))
			log_warn("sampler", "new sampling refused (%s); the rates in "
				 "force stay", why);
		hf_strlcpy(s->refused, why, sizeof s->refused);
		snprintf(err, errlen, "sampler: capture: %s", why);
		rc = -1;
	} else {
		s->refused[0] = '\0';
	}
	s->generation = snap->generation;
	s->synced = 1;
	find_waiting(s, snap);
	free(ports);
	iftable_release(s->table, snap);
	log_sampling(s, before, nbefore, force);
	free(before);
	sampler_publish_status(s);
	return rc;
}

int64_t sampler_refresh_status(struct sampler *s, int64_t now, int64_t next)
{
	struct sfa_stats st;

	sfa_get_stats(s->core, &st);
	if (st.datagrams == s->status_dgrams)
		return next;
	if (now - s->status_ms >= STATUS_EVERY_MS) {
		sampler_publish_status(s);
		return next;
	}
	return next < s->status_ms + STATUS_EVERY_MS ? next : s->status_ms + STATUS_EVERY_MS;
}

/* ---- -t: what the kernel would take ---- */

enum sampler_check sampler_check_programs(const struct config *cfg,
					  const struct if_snapshot *snap, char *kind,
					  size_t kindlen, char *err, size_t errlen)
{
	struct sfa_port *ports = ports_of(cfg, SAMPLER_HASH_SEED, snap);
	struct capture_rule *r = calloc(snap->n ? snap->n : 1, sizeof *r);
	enum capture_refusal *no = calloc(snap->n ? snap->n : 1, sizeof *no);
	size_t *at = calloc(snap->n ? snap->n : 1, sizeof *at);
	struct bpfprog_self self[BPFPROG_SELF_MAX];
	size_t k, nself, blame = 0, refused = 0;
	enum sampler_check rc = SAMPLER_CHECK_UNTRIED;
	enum capture_backend use;
	char why[512];

	kind[0] = '\0';
	if (!ports || !r || !no || !at) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* The capture the daemon would open here, with these rights. */
	switch (capture_pick(sampler_capture_backend(cfg), &use, why, sizeof why)) {
	case CAPTURE_PICKED:
		break;
	case CAPTURE_PICK_LACKING:
		/* `capture ebpf` on a kernel without it: the config's error. */
		snprintf(err, errlen, "%s:%d: %s", cfg->path, cfg->capture_line, why);
		rc = SAMPLER_CHECK_REFUSED;
		goto out;
	case CAPTURE_PICK_UNTRIED:
		/* -t's rights or this run's descriptors: a note. */
		snprintf(err, errlen, "the capture could not be tried: %s", why);
		goto out;
	}
	if (why[0])
		snprintf(kind, kindlen, "%s (tc eBPF: %s)", capture_kind_name(use), why);
	else
		snprintf(kind, kindlen, "%s", capture_kind_name(use));
	k = rules_of(cfg, ports, snap->n, r, at);
	nself = collectors_planned_self(cfg->collectors, cfg->n_collectors, self,
					BPFPROG_SELF_MAX);
	if (capture_check_rules(use, r, k, self, nself, cfg->header_bytes, no, &blame, why,
				sizeof why) < 0) {
		snprintf(err, errlen, "the sampling programs could not be tried: %s", why);
		goto out;
	}
	rc = SAMPLER_CHECK_OK;
	for (size_t j = 0; j < k; j++)
		refused += no[j] != CAPTURE_SAMPLED;
	if (refused) {
		const struct cfg_sample *m = config_sample_match(cfg, ports[at[blame]].name);

		snprintf(err, errlen, "%s:%d: sample %s: %s%s cannot be sampled (%zu of %zu "
			 "sampled interfaces refused): %s", cfg->path, r[blame].line,
			 m ? m->name : "?", ports[at[blame]].name,
			 refused > 1 ? " and others" : "", refused, k, why);
		rc = SAMPLER_CHECK_REFUSED;
	}
out:
	free(at);
	free(no);
	free(r);
	free(ports);
	return rc;
}
