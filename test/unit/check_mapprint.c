/* -m output: pmacct lines and Akvorado JSON (shape, escaping, speed in Mb/s,
 * description = alias when set, the configured agent address as subnet);
 * -t's rate lines (rateprint.c): the served speed of each row decides. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/mapprint.h"
#include "daemon/rateprint.h"
#include "hf_check.h"

static struct if_snapshot *snap2(void)
{
	struct if_snapshot *s = calloc(1, sizeof *s + 2 * sizeof(struct if_row));

	s->n = 2;
	s->rows[0].ifindex = 1;
	strcpy(s->rows[0].name, "lo");
	s->rows[1].ifindex = 1000;
	strcpy(s->rows[1].name, "tailscale0");
	strcpy(s->rows[1].alias, "Transit: \"Tail\\scale\"\x01");
	s->rows[1].speed_bps = 1000000000ull;
	return s;
}

static char *capture(void (*fn)(FILE *, const struct config *, const struct if_snapshot *),
		     const struct config *cfg, const struct if_snapshot *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, cfg, s);
	fclose(f);
	return buf;
}

static void pmacct(FILE *f, const struct config *cfg, const struct if_snapshot *s)
{
	(void)cfg;
	mapprint_pmacct(f, s);
}

static void akvorado(FILE *f, const struct config *cfg, const struct if_snapshot *s)
{
	mapprint_akvorado(f, cfg, "host\"1", s);
}

START_TEST(test_pmacct)
{
	struct if_snapshot *s = snap2();
	char *out = capture(pmacct, NULL, s);

	ck_assert_ptr_nonnull(strstr(out, "\nifindex=1 ifname=lo direction=in\n"
				      "ifindex=1000 ifname=tailscale0 direction=in\n"));
	ck_assert_int_eq(out[0], '#');
	free(out);
	free(s);
}
END_TEST

START_TEST(test_akvorado)
{
	struct if_snapshot *s = snap2();
	struct config cfg = { 0 };
	char *out;

	cfg.agent_address.family = AF_INET6;
	cfg.agent_address.a[0] = 0xfd;
	cfg.agent_address.a[1] = 0x7a;
	cfg.agent_address.a[15] = 1;
	out = capture(akvorado, &cfg, s);
	ck_assert_str_eq(out,
		"{\"exporters\":[{\"exportersubnet\":\"fd7a::1/128\",\"name\":\"host\\\"1\","
		"\"interfaces\":[\n"
		"{\"ifindex\":1,\"name\":\"lo\",\"description\":\"lo\",\"speed\":0},\n"
		"{\"ifindex\":1000,\"name\":\"tailscale0\","
		"\"description\":\"Transit: \\\"Tail\\\\scale\\\"\\u0001\",\"speed\":1000}]}]}\n");
	free(out);
	free(s);
}
END_TEST

static struct config *conf(const char *text)
{
	struct config *cfg = NULL;
	char err[256] = "";

	ck_assert_msg(config_parse("r.conf", text, strlen(text), &cfg, err, sizeof err) == 0,
		      "%s", err);
	return cfg;
}

START_TEST(test_rates)
{
	struct if_snapshot *s = snap2();
	struct config *cfg = conf("collector 192.0.2.1\nsampling_rate 1G 5\n"
				  "sampling_rate 10\nsample *\n");
	char *out = capture(rateprint_rows, cfg, s);

	ck_assert_str_eq(out,
		"r.conf: lo: 1 in 10 (sampling_rate 10, line 3; speed unknown, not in the "
		"speed table; sample *, line 4)\n"
		"r.conf: tailscale0: 1 in 5 (sampling_rate 1G 5, line 2; speed 1G; "
		"sample *, line 4)\n");
	free(out);
	config_free(cfg);
	/* No collector: the rates, and the note that nothing is sampled. */
	cfg = conf("sample tailscale0 rate 3\n");
	out = capture(rateprint_rows, cfg, s);
	ck_assert_str_eq(out,
		"r.conf: lo: not sampled (no sample line matches)\n"
		"r.conf: tailscale0: 1 in 3 (sample tailscale0 rate 3, line 1)\n"
		"r.conf: note: no collector is set, so no interface is sampled until one is\n");
	free(out);
	config_free(cfg);
	free(s);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("mapprint");
	TCase *tc = tcase_create("formats");

	tcase_add_test(tc, test_pmacct);
	tcase_add_test(tc, test_akvorado);
	tcase_add_test(tc, test_rates);
	suite_add_tcase(su, tc);
	return hf_run(su, CK_FORK_GETENV);
}
