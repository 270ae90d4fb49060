/* -m output: pmacct lines and Akvorado JSON (shape, escaping, speed in Mb/s,
 * description = alias when set, the configured agent address as subnet). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/mapprint.h"
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

int main(void)
{
	Suite *su = suite_create("mapprint");
	TCase *tc = tcase_create("formats");

	tcase_add_test(tc, test_pmacct);
	tcase_add_test(tc, test_akvorado);
	suite_add_tcase(su, tc);
	return hf_run(su, CK_FORK_GETENV);
}
