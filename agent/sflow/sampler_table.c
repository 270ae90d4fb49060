/* The sampler's table and status: the ports handed to the core (each row
 * with the `sample` line that decides for it), the log lines saying what
 * that changed, and the status text. Sampler thread only (the status text
 * under the lock). */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sflow/collector.h"
#include "base/log.h"
#include "sflow/sampler_int.h"
#include "sflow/core/sflow_agent.h"
#include "sflow/core/sflow_status.h"
#include "base/util.h"

#define STATUS_EVERY_MS   1000  /* the status text's counts are this fresh */

uint32_t sampler_hash(const char *t, uint32_t h)
{
	for (; t && *t; t++)
		h = (h ^ (uint8_t)*t) * 16777619u;
	return h & 0x7fffffffu;
}

/* ---- status, for STATUS= and SIGUSR1 ---- */

void sampler_publish_status(struct sampler *s)
{
	struct sfa_stats st;
	char coll[STATUS_MAX], buf[STATUS_MAX];

	sfa_get_stats(s->core, &st);
	collectors_describe(s->coll, coll, sizeof coll);
	sflow_status_of(s->core, s->waiting, coll, !s->answerable && s->cfg->hold_samples,
			buf, sizeof buf);
	pthread_mutex_lock(&s->lock);
	memcpy(s->status, buf, sizeof s->status);
	pthread_mutex_unlock(&s->lock);
	s->status_ms = monotonic_ms();
	s->status_dgrams = st.datagrams;
}

/* ---- the table ---- */

/* The ports the core needs: every row, with the rate of the `sample` line
 * that decides for it (rate 0 when none, or no collector). The rate follows
 * the row's served speed (config_sample_rate): a new speed, from the kernel
 * or a reload, reaches the core as a reload's new rate does, through
 * sfa_sync, after the ring's frames were taken at the old one. */
static struct sfa_port *ports_of(struct sampler *s, const struct if_snapshot *snap)
{
	struct sfa_port *v = calloc(snap->n ? snap->n : 1, sizeof *v);

	if (!v)
		return NULL;
	for (size_t i = 0; i < snap->n; i++) {
		const struct if_row *r = &snap->rows[i];
		const struct cfg_sample *m = config_sample_match(s->cfg, r->name);

		v[i].kindex = r->kindex;
		v[i].ifindex = r->ifindex;
		hf_strlcpy(v[i].name, r->name, sizeof v[i].name);
		v[i].arphrd = r->arphrd;
		v[i].iftype = r->iftype;
		v[i].speed_bps = r->speed_bps;
		v[i].admin = r->admin;
		v[i].oper = r->oper;
		v[i].promisc = r->promisc;
		if (m && s->cfg->n_collectors) {
			v[i].rate = config_sample_rate(s->cfg, m, r->speed_bps);
			v[i].filter_id = (int)sampler_hash(m->filter, s->salt);
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

void sampler_sync_table(struct sampler *s, int force, int64_t now)
{
	struct if_snapshot *snap = iftable_acquire(s->table);
	struct sfa_port *ports, *before;
	size_t nbefore;
	char why[512] = "";

	if (!snap)
		return;
	if (!force && s->synced && snap->generation == s->generation) {
		iftable_release(s->table, snap);
		return;
	}
	nbefore = sampled_list(s, &before);
	ports = ports_of(s, snap);
	if (!ports) {
		log_err("sampler", "out of memory; the table's change waits");
		iftable_release(s->table, snap);
		free(before);
		return;
	}
	if (sfa_sync(s->core, ports, snap->n, now, why, sizeof why) < 0) {
		/* The kernel keeps what it had, and so do the samples' rates. */
		if (strcmp(why, s->refused))
			log_warn("sampler", "new sampling refused (%s); the rates in "
				 "force stay", why);
		hf_strlcpy(s->refused, why, sizeof s->refused);
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
