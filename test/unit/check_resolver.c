/* resolver.c: names resolved in a worker, done signalled on an fd; results,
 * errors and an abandoned resolution. Uses localhost (/etc/hosts, no DNS). */
#include <check.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/resolver.h"
#include "hf_check.h"

static struct config *parse(const char *text)
{
	struct config *cfg = NULL;
	char err[512] = "";

	ck_assert_msg(config_parse("r.conf", text, strlen(text), &cfg, err, sizeof err) == 0,
		      "%s", err);
	return cfg;
}

/* Waits (5 s at most) for the worker's fd. */
static void wait_done(struct resolver *r)
{
	struct pollfd p = { .fd = resolver_fd(r), .events = POLLIN };

	ck_assert_int_eq(poll(&p, 1, 5000), 1);
}

START_TEST(t_resolves)
{
	struct config *cfg = NULL;
	char err[512] = "";
	struct resolver *r = resolver_start(parse("collector localhost 7000\n"), err,
					    sizeof err);
	const struct sockaddr_in *sin;

	ck_assert_msg(r != NULL, "%s", err);
	wait_done(r);
	ck_assert_msg(resolver_finish(r, &cfg, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_gt(cfg->collectors[0].addrlen, 0);
	sin = (const void *)&cfg->collectors[0].addr;
	ck_assert_uint_eq(ntohs(sin->sin_port), 7000);
	config_free(cfg);
}
END_TEST

/* An error comes back as config_resolve's FILE:LINE message. */
START_TEST(t_error)
{
	struct config *cfg = (struct config *)1;
	char err[512] = "";
	struct resolver *r = resolver_start(parse("collector 127.0.0.1\ncollector localhost\n"),
					    err, sizeof err);

	ck_assert_ptr_nonnull(r);
	wait_done(r);
	ck_assert_int_eq(resolver_finish(r, &cfg, err, sizeof err), -1);
	ck_assert_msg(cfg == (struct config *)1, "cfg written on error");
	ck_assert_str_eq(err, "r.conf:2: collector localhost resolves to 127.0.0.1:6343, "
			 "the same as line 1");
}
END_TEST

/* Abandoned before and after the worker ends: nothing leaks, nothing waits
 * (valgrind and ASan runs check the first half). */
START_TEST(t_abandon)
{
	char err[512] = "";
	struct resolver *r = resolver_start(parse("collector localhost\n"), err, sizeof err);

	ck_assert_ptr_nonnull(r);
	resolver_abandon(r);
	r = resolver_start(parse("collector localhost\n"), err, sizeof err);
	ck_assert_ptr_nonnull(r);
	wait_done(r);
	resolver_abandon(r);
	resolver_abandon(NULL);
}
END_TEST

static Suite *resolver_suite(void)
{
	Suite *s = suite_create("resolver");
	TCase *tc = tcase_create("worker");

	tcase_add_test(tc, t_resolves);
	tcase_add_test(tc, t_error);
	tcase_add_test(tc, t_abandon);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hf_run(resolver_suite(), CK_FORK_GETENV);
}
