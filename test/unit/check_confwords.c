/* The two pure rooms config.c leans on: the words of a line (confwords.c)
 * and the address rules (sockaddr.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "base/confwords.h"
#include "base/sockaddr.h"
#include "hf_check.h"

static char buf[512], why[160];
static struct confword w[CONFWORDS_MAX];

static int split(const char *line)
{
	why[0] = '\0';
	return confwords_split(line, strlen(line), buf, w, why, sizeof why);
}

START_TEST(test_words)
{
	ck_assert_int_eq(split("  sample\tveth*  rate 10 # a comment"), 4);
	ck_assert_str_eq(w[0].s, "sample");
	ck_assert_str_eq(w[1].s, "veth*");
	ck_assert_str_eq(w[3].s, "10");
	ck_assert_int_eq(w[1].quoted, 0);
	ck_assert_int_eq(split("# only a comment \x01 \xff"), 0);
	ck_assert_int_eq(split(""), 0);
	ck_assert_int_eq(split("x#y"), 1);
	ck_assert_str_eq(w[0].s, "x");
}
END_TEST

START_TEST(test_quotes)
{
	ck_assert_int_eq(split("interface eth0 alias \"up \\\"link\\\" \\\\ 1\" # c"), 4);
	ck_assert_str_eq(w[3].s, "up \"link\" \\ 1");
	ck_assert_int_eq(w[3].quoted, 1);
	ck_assert_int_eq(split("a \"\""), 2);
	ck_assert_str_eq(w[1].s, "");
	ck_assert_int_eq(w[1].quoted, 1);
}
END_TEST

START_TEST(test_errors)
{
	static const struct {
		const char *line, *why;
	} bad[] = {
		{ "a \"open", "unterminated quoted text" },
		{ "a \"x\"y", "text right after a closing quote" },
		{ "a b\"c", "unexpected '\"' inside a word" },
		{ "a \"\\n\"", "unknown escape '\\n'" },
		{ "a \x01", "byte 0x01 is not allowed" },
		{ "a \"\xc3\xa9\"", "byte 0xc3 is not allowed" },
		{ "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", "too many words" },
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(split(bad[i].line) == -1, "accepted: %s", bad[i].line);
		ck_assert_msg(strstr(why, bad[i].why), "'%s': said '%s'", bad[i].line, why);
	}
	ck_assert_int_eq(split("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"), CONFWORDS_MAX);
}
END_TEST

START_TEST(test_addresses)
{
	struct sockaddr_storage a, b;
	socklen_t len;
	char text[64];

	ck_assert_int_eq(hf_sockaddr_numeric("192.0.2.1", 6343, &a, &len), 1);
	ck_assert_int_eq(len, sizeof(struct sockaddr_in));
	hf_sockaddr_format(&a, text, sizeof text);
	ck_assert_str_eq(text, "192.0.2.1:6343");
	ck_assert_int_eq(hf_sockaddr_numeric("2001:db8::1", 6343, &b, &len), 1);
	hf_sockaddr_format(&b, text, sizeof text);
	ck_assert_str_eq(text, "[2001:db8::1]:6343");
	ck_assert_int_eq(hf_sockaddr_same(&a, &b), 0);
	ck_assert_int_eq(hf_sockaddr_numeric("192.0.2.1", 6343, &b, &len), 1);
	ck_assert_int_eq(hf_sockaddr_same(&a, &b), 1);
	ck_assert_int_eq(hf_sockaddr_numeric("192.0.2.1", 6344, &b, &len), 1);
	ck_assert_int_eq(hf_sockaddr_same(&a, &b), 0);
	/* Not numeric: inet_aton's short forms and names. */
	ck_assert_int_eq(hf_sockaddr_numeric("192.0.2", 1, &a, &len), 0);
	ck_assert_int_eq(hf_sockaddr_numeric("collector.example", 1, &a, &len), 0);
	ck_assert_int_eq(hf_dnsname_valid("collector.example."), 1);
	ck_assert_int_eq(hf_dnsname_valid("a-b.c"), 1);
	ck_assert_int_eq(hf_dnsname_valid("999.1.1.1"), 0);
	ck_assert_int_eq(hf_dnsname_valid("-a.b"), 0);
	ck_assert_int_eq(hf_dnsname_valid("a..b"), 0);
	ck_assert_int_eq(hf_dnsname_valid("a_b"), 0);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("confwords");
	TCase *tc = tcase_create("pure");

	tcase_add_test(tc, test_words);
	tcase_add_test(tc, test_quotes);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_addresses);
	suite_add_tcase(su, tc);
	return hf_run(su, CK_FORK_GETENV);
}
