/* libFuzzer target: config_parse() over arbitrary bytes.
 * Never crash, leak or hang; errors name the file and an existing line; a
 * parsed config keeps the documented ranges and its lookups find what it
 * holds. */
#include "config/config.h"
#include "fuzz_check.h"

#define NAME "fuzz.conf"

static void check_ranges(const struct config *cfg)
{
	FUZZ_CHECK(cfg->sampling_rate >= 1, "%u", cfg->sampling_rate);
	FUZZ_CHECK(cfg->polling_interval <= 86400, "%u", cfg->polling_interval);
	FUZZ_CHECK(cfg->header_bytes >= 1 && cfg->header_bytes <= HF_MAX_HEADER,
		   "%u", cfg->header_bytes);
	FUZZ_CHECK(!strcmp(cfg->path, NAME), "%s", cfg->path);
	FUZZ_CHECK(cfg->agent_address.family == 0 || !cfg->agent_interface[0],
		   "agent_address and agent_interface both set");
}

/* config_iface() must find every parsed interface (names are unique) and
 * nothing that cannot be an interface name. */
static void check_ifaces(const struct config *cfg)
{
	const struct cfg_iface *f;
	size_t i;

	for (i = 0; i < cfg->n_ifaces; i++) {
		const struct cfg_iface *want = &cfg->ifaces[i];

		FUZZ_CHECK(want->name[0] && strlen(want->name) < IFNAMSIZ, "name");
		FUZZ_CHECK(strlen(want->alias) <= CFG_ALIAS_MAX, "alias");
		FUZZ_CHECK(!want->has_speed || want->speed_bps > 0, "speed 0");
		f = config_iface(cfg, want->name);
		FUZZ_CHECK(f == want, "config_iface(%s) found %p, not entry %zu",
			   want->name, (const void *)f, i);
	}
	FUZZ_CHECK(config_iface(cfg, "") == NULL, "empty name found");
	FUZZ_CHECK(config_iface(cfg, "a/b") == NULL, "invalid name found");
}

static void check_samples(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_samples; i++) {
		const struct cfg_sample *s = &cfg->samples[i];
		uint32_t r = config_sample_rate(cfg, s, 0);

		FUZZ_CHECK(r >= 1, "sample %s rate 0", s->name);
		/* Speed 0 (unknown) is never in the speed table. */
		FUZZ_CHECK(r == (s->rate ? s->rate : cfg->sampling_rate),
			   "sample %s rate %u", s->name, r);
		FUZZ_CHECK(s->line >= 1, "sample %s line %d", s->name, s->line);
		FUZZ_CHECK(s->name[0] && strlen(s->name) <= CFG_PATTERN_MAX, "pattern");
		FUZZ_CHECK(strlen(s->filter) <= CFG_FILTER_MAX, "filter length");
		FUZZ_CHECK(!s->off || (!s->rate && !s->filter[0]), "off with options");
		FUZZ_CHECK(i == 0 || s->line > cfg->samples[i - 1].line, "not in file order");
	}
	/* The deciding line of a name is the first matching one: never a later
	 * line than one whose pattern is that very name. */
	for (i = 0; i < cfg->n_samples; i++) {
		const struct cfg_sample *s = &cfg->samples[i], *m;

		if (strpbrk(s->name, "*?[\\"))
			continue;
		m = config_sample_match(cfg, s->name);
		FUZZ_CHECK(m ? m->line <= s->line : 1, "sample %s decided by line %d", s->name,
			   m->line);
		FUZZ_CHECK(m || s->off || i > 0, "sample %s matches nothing", s->name);
	}
}

/* The speed table: sorted, unique, every entry found by its speed and
 * deciding for a sample line without a rate; its rates are allowed ones. */
static void check_speed_rates(const struct config *cfg)
{
	char buf[512];

	for (size_t i = 0; i < cfg->n_speed_rates; i++) {
		const struct cfg_speed_rate *e = &cfg->speed_rates[i];
		struct cfg_rate r;

		FUZZ_CHECK(e->speed_bps > 0 && e->rate >= 1 && e->line >= 1, "entry %zu", i);
		FUZZ_CHECK(i == 0 || e[-1].speed_bps < e->speed_bps, "not sorted, unique");
		FUZZ_CHECK(config_speed_rate(cfg, e->speed_bps) == e, "lookup %zu", i);
		for (size_t j = 0; j < cfg->n_samples; j++) {
			const struct cfg_sample *s = &cfg->samples[j];

			if (s->off)
				continue;
			FUZZ_CHECK(config_sample_rate(cfg, s, e->speed_bps) ==
				   (s->rate ? s->rate : e->rate), "sample %s", s->name);
		}
		config_rate(cfg, "eth0", e->speed_bps, &r);
		FUZZ_CHECK(r.by != CFG_RATE_GLOBAL, "entry %zu unused", i);
		config_rate_describe(cfg, "eth0", e->speed_bps, buf, sizeof buf);
		FUZZ_CHECK(!strncmp(buf, "eth0: ", 6), "%s", buf);
	}
}

/* link_notifications: every pattern kept in file order, and a plain name
 * among them matches itself. */
static void check_link_notify(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_link_notify; i++) {
		const struct cfg_pattern *p = &cfg->link_notify[i];

		FUZZ_CHECK(p->name[0] && strlen(p->name) <= CFG_PATTERN_MAX, "pattern");
		FUZZ_CHECK(p->line >= 1, "link_notifications %s line %d", p->name, p->line);
		FUZZ_CHECK(i == 0 || p->line >= cfg->link_notify[i - 1].line, "not in file order");
		FUZZ_CHECK(strpbrk(p->name, "*?[\\") || config_link_notify(cfg, p->name),
			   "link_notifications %s does not match itself", p->name);
	}
}

static void check_collectors(const struct config *cfg)
{
	size_t i;

	FUZZ_CHECK(cfg->n_collectors <= 16, "%zu collectors", cfg->n_collectors);
	for (i = 0; i < cfg->n_collectors; i++) {
		const struct cfg_collector *c = &cfg->collectors[i];

		FUZZ_CHECK(c->port >= 1, "collector %s port 0", c->host);
		FUZZ_CHECK(memchr(c->host, '\0', sizeof c->host), "host");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	char err[512];

	memset(err, 0xff, sizeof err);
	if (config_parse(NAME, (const char *)data, size, &cfg, err, sizeof err)) {
		FUZZ_CHECK(cfg == NULL, "*out written on error");
		fuzz_check_error(NAME, err, sizeof err, data, size);
		return 0;
	}
	FUZZ_CHECK(cfg != NULL, "success without a config");
	check_ranges(cfg);
	check_ifaces(cfg);
	check_samples(cfg);
	check_speed_rates(cfg);
	check_link_notify(cfg);
	check_collectors(cfg);
	config_free(cfg);
	return 0;
}
