/* The pure parts of base/ config.c leans on: the words of a line
 * (confwords.c), the address rules (sockaddr.c) and the growth of its lists
 * (util.c's hf_grow). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "base/confwords.h"
#include "base/sockaddr.h"
#include "base/util.h"
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

/* The room for index i from `first` (4) doubled: 4, 8, 16, ... */
static size_t room_for(size_t i)
{
	size_t c = 4;

	while (c <= i)
		c *= 2;
	return c;
}

/* Appends one at a time: the room doubles only when index n does not fit,
 * and what was stored comes along. */
START_TEST(test_grow_appends)
{
	int *a = NULL;
	size_t cap = 0, grown = 0;

	for (size_t i = 0; i < 100; i++) {
		int *before = a;
		size_t had = cap;

		ck_assert_int_eq(hf_grow(&a, i, &cap, sizeof *a, 4), 0);
		ck_assert_uint_eq(cap, room_for(i));
		if (i < had)
			ck_assert_ptr_eq(a, before);   /* room left: untouched */
		else
			grown++;
		a[i] = (int)i * 7;
	}
	ck_assert_uint_eq(cap, 128);
	ck_assert_uint_eq(grown, 6);   /* 4, 8, 16, 32, 64, 128 */
	for (size_t i = 0; i < 100; i++)
		ck_assert_int_eq(a[i], (int)i * 7);
	free(a);
}
END_TEST

/* With room left hf_grow calls no realloc: an array said to have room whose
 * pointer is NULL stays NULL (realloc(NULL, ...) would allocate). */
START_TEST(test_grow_room_left)
{
	int *a = NULL;
	size_t cap = 8;

	ck_assert_int_eq(hf_grow(&a, 0, &cap, sizeof *a, 4), 0);
	ck_assert_int_eq(hf_grow(&a, 7, &cap, sizeof *a, 4), 0);
	ck_assert_ptr_null(a);
	ck_assert_uint_eq(cap, 8);
}
END_TEST

/* A batch asks for its last index at once: one call, the room doubled as
 * often as it takes, the contents kept, the last index writable. */
START_TEST(test_grow_batch)
{
	int *a = NULL;
	size_t cap = 0;

	ck_assert_int_eq(hf_grow(&a, 2, &cap, sizeof *a, 4), 0);
	ck_assert_uint_eq(cap, 4);
	a[0] = 11, a[1] = 22, a[2] = 33;
	ck_assert_int_eq(hf_grow(&a, 1000, &cap, sizeof *a, 4), 0);
	ck_assert_uint_eq(cap, 1024);
	ck_assert_int_eq(a[0], 11);
	ck_assert_int_eq(a[1], 22);
	ck_assert_int_eq(a[2], 33);
	a[1000] = 44;
	/* Index == room: exactly full, so one doubling. */
	ck_assert_int_eq(hf_grow(&a, 1024, &cap, sizeof *a, 4), 0);
	ck_assert_uint_eq(cap, 2048);
	ck_assert_int_eq(a[1000], 44);
	free(a);
	/* Empty, a batch of 4 from first 4: index 3 fits, 4 does not. */
	a = NULL, cap = 0;
	ck_assert_int_eq(hf_grow(&a, 4, &cap, sizeof *a, 4), 0);
	ck_assert_uint_eq(cap, 8);
	free(a);
}
END_TEST

/* Sizes that cannot be had fail with -1 and leave the array as it was. */
START_TEST(test_grow_overflow)
{
	int *a = NULL;
	size_t cap = 0;

	/* The doubling would pass SIZE_MAX. */
	ck_assert_int_eq(hf_grow(&a, SIZE_MAX, &cap, 1, 4), -1);
	ck_assert_ptr_null(a);
	ck_assert_uint_eq(cap, 0);
	/* The room fits a size_t but its bytes do not. */
	ck_assert_int_eq(hf_grow(&a, 0, &cap, SIZE_MAX / 2, 4), -1);
	ck_assert_int_eq(hf_grow(&a, (SIZE_MAX >> 2) + 1, &cap, 4, 4), -1);
	ck_assert_ptr_null(a);
	ck_assert_uint_eq(cap, 0);
	/* No first room or no element size: nothing to double. */
	ck_assert_int_eq(hf_grow(&a, 0, &cap, sizeof *a, 0), -1);
	ck_assert_int_eq(hf_grow(&a, 0, &cap, 0, 4), -1);
	/* A failure after growth keeps the array and its contents. */
	ck_assert_int_eq(hf_grow(&a, 3, &cap, sizeof *a, 4), 0);
	a[3] = 5;
	{
		int *before = a;

		ck_assert_int_eq(hf_grow(&a, SIZE_MAX, &cap, sizeof *a, 4), -1);
		ck_assert_ptr_eq(a, before);
	}
	ck_assert_uint_eq(cap, 4);
	ck_assert_int_eq(a[3], 5);
	free(a);
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
	tcase_add_test(tc, test_grow_appends);
	tcase_add_test(tc, test_grow_room_left);
	tcase_add_test(tc, test_grow_batch);
	tcase_add_test(tc, test_grow_overflow);
	suite_add_tcase(su, tc);
	return hf_run(su, CK_FORK_GETENV);
}
