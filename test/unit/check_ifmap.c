/* pmacct interfaces.map parsing and the ifIndex assignment rule. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "config/ifmap.h"
#include "base/log.h"
#include "hf_check.h"

static struct hf_ifmap *map_ok(const char *text)
{
	struct hf_ifmap *map = NULL;
	char err[512] = "";

	ck_assert_msg(ifmap_parse("i.map", text, strlen(text), &map, err, sizeof err) == 0,
		      "unexpected error: %s", err);
	ck_assert_ptr_nonnull(map);
	return map;
}

static void map_bad_len(const char *text, size_t len, const char *want)
{
	struct hf_ifmap *map = (struct hf_ifmap *)1;
	char err[512] = "";

	ck_assert_int_eq(ifmap_parse("i.map", text, len, &map, err, sizeof err), -1);
	ck_assert_msg(map == (struct hf_ifmap *)1, "out written on error");
	ck_assert_msg(strstr(err, want), "error '%s' lacks '%s'", err, want);
}

static void map_bad(const char *text, const char *want)
{
	map_bad_len(text, strlen(text), want);
}

START_TEST(t_parse_forms)
{
	struct hf_ifmap *map = map_ok(
		"# pmacct interfaces.map\n"
		"  ! a bang comment\n"
		"\n"
		"ifindex=10 ifname=eth0 direction=in\n"
		"ifname=veth-a ifindex=3 # keys in any order\n"
		"\tdirection=out  ifname=tun0\tifindex=1073741822 !trailing\r\n"
		"ifindex=7 ifname=x#y\n");

	ck_assert_uint_eq(map->n, 4);
	ck_assert_uint_eq(ifmap_lookup(map, "eth0"), 10);
	ck_assert_uint_eq(ifmap_lookup(map, "veth-a"), 3);
	ck_assert_uint_eq(ifmap_lookup(map, "tun0"), 0x3FFFFFFE);
	ck_assert_uint_eq(ifmap_lookup(map, "x#y"), 7);
	ck_assert_uint_eq(ifmap_lookup(map, "eth1"), 0);
	ck_assert_uint_eq(ifmap_lookup(NULL, "eth0"), 0);
	ifmap_free(map);
	ifmap_free(NULL);
}
END_TEST

START_TEST(t_entry_lines)
{
	struct hf_ifmap *map = map_ok("\nifindex=2 ifname=b\nifindex=1 ifname=a\n");
	size_t i;

	ck_assert_uint_eq(map->n, 2);
	for (i = 0; i < map->n; i++)
		ck_assert_int_eq(map->e[i].line, map->e[i].ifindex == 2 ? 2 : 3);
	ifmap_free(map);
}
END_TEST

START_TEST(t_both_directions)
{
	struct hf_ifmap *map = map_ok("ifindex=5 ifname=eth0 direction=in\n"
				   "ifindex=5 ifname=eth0 direction=out\n");

	ck_assert_uint_eq(map->n, 1);
	ck_assert_uint_eq(ifmap_lookup(map, "eth0"), 5);
	ck_assert_int_eq(map->e[0].line, 1);
	ifmap_free(map);
}
END_TEST

/* A name listed with two numbers: first wins, and the warning names both lines. */
START_TEST(t_name_twice_warns)
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	struct hf_ifmap *map;
	char buf[1024] = "";
	size_t n;

	ck_assert_ptr_nonnull(tmp);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	map = map_ok("ifindex=5 ifname=eth0\n#\nifindex=6 ifname=eth0\nifindex=7 ifname=b\n");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, sizeof buf - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	ck_assert_uint_eq(map->n, 2);
	ck_assert_uint_eq(ifmap_lookup(map, "eth0"), 5);
	ck_assert_msg(strstr(buf, "i.map:3: ifname eth0 listed again with ifindex 6; "
			     "keeping ifindex 5 from line 1"), "log: %s", buf);
	ifmap_free(map);
}
END_TEST

static const struct {
	const char *text;
	const char *err;
} bad_cases[] = {
	{ "ifindex=1 ifname=a\nifindex=2 ifname=b color=red\n", "i.map:2: unknown key 'color'" },
	{ "ifindex=1 ifname=a ifindex=1\n", "i.map:1: key 'ifindex' given twice on one line" },
	{ "ifindex=1 ifname=a ifname=b\n", "i.map:1: key 'ifname' given twice on one line" },
	{ "ifindex=1 ifname=a direction=in direction=in\n", "i.map:1: key 'direction' given twice" },
	{ "\nifname=a\n", "i.map:2: missing ifindex=" },
	{ "ifindex=4 direction=in\n", "i.map:1: missing ifname=" },
	{ "ifindex=0 ifname=a\n", "i.map:1: ifindex '0' is not a number in 1..1073741822" },
	{ "ifindex=1073741823 ifname=a\n", "i.map:1: ifindex '1073741823' is not a number" },
	{ "ifindex=-1 ifname=a\n", "ifindex '-1' is not a number" },
	{ "ifindex=+1 ifname=a\n", "ifindex '+1' is not a number" },
	{ "ifindex=18446744073709551616 ifname=a\n", "ifindex '18446744073709551616' is not a number" },
	{ "ifindex= ifname=a\n", "ifindex '' is not a number" },
	{ "ifindex=1 ifname=\n", "i.map:1: ifname '' is not a valid interface name" },
	{ "ifindex=1 ifname=abcdefghijklmnop\n", "ifname 'abcdefghijklmnop' is not a valid interface name" },
	{ "ifindex=1 ifname=a/b\n", "ifname 'a/b' is not a valid" },
	{ "ifindex=1 ifname=..\n", "ifname '..' is not a valid" },
	{ "ifindex=1 ifname=a direction=both\n", "i.map:1: direction 'both' must be in or out" },
	{ "ifindex=1 eth0\n", "i.map:1: 'eth0' is not key=value" },
	{ "ifindex 1 ifname eth0\n", "i.map:1: 'ifindex' is not key=value" },
	{ "ifindex=1 ifname=caf\xc3\xa9\n", "i.map:1: byte 0xc3 is not allowed" },
	{ "ifindex=5 ifname=a\nifindex=6 ifname=b\nifindex=5 ifname=c\n",
	  "i.map:3: ifindex 5 is already given to ifname a on line 1" },
	{ "ifindex=5 ifname=a\nifindex=5 ifname=c\nifindex=5 ifname=d\n",
	  "i.map:2: ifindex 5 is already given to ifname a on line 1" },
	/* The earliest conflict wins, whatever the numbers. */
	{ "ifindex=9 ifname=a\nifindex=1 ifname=b\nifindex=1 ifname=c\nifindex=9 ifname=d\n",
	  "i.map:3: ifindex 1 is already given to ifname b on line 2" },
	/* A conflict before a syntax error is reported first. */
	{ "ifindex=5 ifname=a\nifindex=5 ifname=c\nbogus\n", "i.map:2: ifindex 5" },
	{ "bogus\nifindex=5 ifname=a\nifindex=5 ifname=c\n", "i.map:1: 'bogus' is not key=value" },
};

START_TEST(t_bad)
{
	map_bad(bad_cases[_i].text, bad_cases[_i].err);
}
END_TEST

START_TEST(t_dropped_entry_frees_number)
{
	/* a's second line is ignored, so 6 stays free for b. */
	struct hf_ifmap *map = map_ok("ifindex=5 ifname=a\nifindex=6 ifname=a\nifindex=6 ifname=b\n");

	ck_assert_uint_eq(ifmap_lookup(map, "b"), 6);
	ifmap_free(map);
}
END_TEST

START_TEST(t_nul_and_long)
{
	static const char nul[] = "ifindex=1 ifname=a\n# \0\n";
	char *text = malloc(5000);

	map_bad_len(nul, sizeof nul - 1, "i.map:2: NUL byte in line");
	ck_assert_ptr_nonnull(text);
	memset(text, '#', 4096);
	strcpy(text + 4096, "\n");
	map_bad(text, "i.map:1: line is longer than 4095 bytes");
	free(text);
}
END_TEST

START_TEST(t_load)
{
	char dir[] = "/tmp/check_ifmap.XXXXXX", path[256], err[512];
	struct hf_ifmap *map = NULL;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/missing.map", dir);
	ck_assert_int_eq(ifmap_load(path, "h.conf:7", &map, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "h.conf:7: ifindex_map: ") == err, "%s", err);
	ck_assert_msg(strstr(err, "missing.map: cannot read: No such file or directory"), "%s", err);
	ck_assert_int_eq(ifmap_load(dir, NULL, &map, err, sizeof err), -1);
	ck_assert_msg(strstr(err, ": not a regular file"), "%s", err);
	/* A FIFO must not block open() waiting for a writer. */
	snprintf(path, sizeof path, "%s/fifo.map", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(ifmap_load(path, "h.conf:3", &map, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "h.conf:3: ifindex_map: ") == err, "%s", err);
	ck_assert_msg(strstr(err, "fifo.map: not a regular file"), "%s", err);
	unlink(path);
	ck_assert_int_eq(ifmap_load("/dev/null", NULL, &map, err, sizeof err), -1);
	ck_assert_str_eq(err, "/dev/null: not a regular file");
	snprintf(path, sizeof path, "%s/i.map", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("ifindex=3 ifname=eth0\nifindex=x ifname=b\n", f);
	fclose(f);
	ck_assert_int_eq(ifmap_load(path, NULL, &map, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "i.map:2: ifindex 'x'"), "%s", err);
	f = fopen(path, "w");
	fputs("ifindex=3 ifname=eth0\n", f);
	fclose(f);
	ck_assert_int_eq(ifmap_load(path, NULL, &map, err, sizeof err), 0);
	ck_assert_uint_eq(ifmap_lookup(map, "eth0"), 3);
	ifmap_free(map);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* Links given as (kindex, name, prev); returns nothing, fills served. */
static void assign(const struct hf_ifmap *map, struct ifmap_link *l, size_t n)
{
	size_t i, j;

	ifmap_assign(map, l, n);
	for (i = 0; i < n; i++) {
		ck_assert_uint_ne(l[i].served, 0);
		ck_assert_uint_lt(l[i].served, IFMAP_MAX_INDEX);
		for (j = 0; j < i; j++)
			ck_assert_uint_ne(l[i].served, l[j].served);
	}
}

START_TEST(t_assign_no_map)
{
	struct ifmap_link l[] = { { 1, "lo", 0, 0, 0 }, { 4, "eth0", 0, 0, 0 },
				  { 2, "veth0", 0, 0, 0 } };

	assign(NULL, l, 3);
	ck_assert_uint_eq(l[0].served, 1);
	ck_assert_uint_eq(l[1].served, 4);
	ck_assert_uint_eq(l[2].served, 2);
	ck_assert_int_eq(l[0].relocated + l[1].relocated + l[2].relocated, 0);
}
END_TEST

START_TEST(t_assign_map_renumbers)
{
	struct hf_ifmap *map = map_ok("ifindex=100 ifname=eth0 direction=in\n");
	struct ifmap_link l[] = { { 1, "lo", 0, 0, 0 }, { 2, "eth0", 0, 0, 0 } };

	assign(map, l, 2);
	ck_assert_uint_eq(l[0].served, 1);
	ck_assert_uint_eq(l[1].served, 100);
	ck_assert_int_eq(l[1].relocated, 0);
	ifmap_free(map);
}
END_TEST

/* The measured pmacct case: the map gives veth ifIndex 3, another link has
 * kernel index 3, and 1 belongs to a listed interface that is absent. */
START_TEST(t_assign_collision)
{
	struct hf_ifmap *map = map_ok("ifindex=3 ifname=veth-b\nifindex=1 ifname=gone\n");
	struct ifmap_link l[] = { { 4, "veth-b", 0, 0, 0 }, { 3, "veth-a", 0, 0, 0 },
				  { 2, "eth0", 0, 0, 0 } };

	assign(map, l, 3);
	ck_assert_uint_eq(l[0].served, 3);
	ck_assert_int_eq(l[0].relocated, 0);
	ck_assert_uint_eq(l[2].served, 2);
	/* Not 1 (gone's), not 2, 3 (taken), not 4 (veth-b's kernel index). */
	ck_assert_uint_eq(l[1].served, 5);
	ck_assert_int_eq(l[1].relocated, 1);
	ifmap_free(map);
}
END_TEST

START_TEST(t_assign_lowest_free)
{
	struct hf_ifmap *map = map_ok("ifindex=1 ifname=a\n");
	struct ifmap_link l[] = { { 2, "a", 0, 0, 0 }, { 1, "b", 0, 0, 0 },
				  { 3, "c", 0, 0, 0 }, { 6, "d", 0, 0, 0 } };

	assign(map, l, 4);
	ck_assert_uint_eq(l[0].served, 1);
	ck_assert_uint_eq(l[1].served, 4);
	ck_assert_uint_eq(l[2].served, 3);
	ck_assert_uint_eq(l[3].served, 6);
	ifmap_free(map);
}
END_TEST

START_TEST(t_assign_sticky)
{
	struct hf_ifmap *map = map_ok("ifindex=9 ifname=m\n");
	/* b was moved to 7 before and keeps it; c's prev 9 now belongs to the map. */
	struct ifmap_link l[] = { { 3, "b", 7, 0, 0 }, { 5, "c", 9, 0, 0 },
				  { 8, "m", 0, 0, 0 }, { 2, "d", 2, 0, 0 } };

	assign(map, l, 4);
	ck_assert_uint_eq(l[0].served, 7);
	ck_assert_int_eq(l[0].relocated, 1);
	ck_assert_uint_eq(l[1].served, 5);
	ck_assert_int_eq(l[1].relocated, 0);
	ck_assert_uint_eq(l[2].served, 9);
	ck_assert_uint_eq(l[3].served, 2);
	ck_assert_int_eq(l[3].relocated, 0);
	ifmap_free(map);
}
END_TEST

/* A sticky number is kept even when it is another link's kernel index. */
START_TEST(t_assign_sticky_before_kernel)
{
	struct ifmap_link l[] = { { 4, "c", 0, 0, 0 }, { 3, "b", 4, 0, 0 } };

	assign(NULL, l, 2);
	ck_assert_uint_eq(l[1].served, 4);
	ck_assert_uint_eq(l[0].served, 1);
	ck_assert_int_eq(l[0].relocated, 1);
}
END_TEST

START_TEST(t_assign_odd_kindex)
{
	struct ifmap_link l[] = { { 0, "zero", 0, 0, 0 }, { -5, "neg", 0, 0, 0 },
				  { 0x3FFFFFFF, "big", 0, 0, 0 }, { 1, "lo", 0, 0, 0 },
				  { 7, "dupname", 0, 0, 0 }, { 8, "dupname", 0, 0, 0 } };
	struct hf_ifmap *map = map_ok("ifindex=50 ifname=dupname\n");

	assign(map, l, 6);
	ck_assert_uint_eq(l[1].served, 2);  /* kindex order: -5, 0, 1, ... */
	ck_assert_uint_eq(l[0].served, 3);
	ck_assert_uint_eq(l[2].served, 4);
	ck_assert_uint_eq(l[3].served, 1);
	ck_assert_uint_eq(l[4].served, 50);
	ck_assert_uint_eq(l[5].served, 8);
	ck_assert_int_eq(l[5].relocated, 1);
	ifmap_free(map);
}
END_TEST

#define NBIG 10000

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* 10000 links, half listed with numbers that collide with kernel indexes. */
START_TEST(t_assign_10000)
{
	static struct ifmap_link l[NBIG];
	static char names[NBIG][IFNAMSIZ];
	static uint32_t served[NBIG];
	char *text = malloc(NBIG * 40), *t = text;
	struct hf_ifmap *map;
	size_t i;

	ck_assert_ptr_nonnull(text);
	for (i = 0; i < NBIG; i++) {
		snprintf(names[i], IFNAMSIZ, "l%zu", i);
		l[i] = (struct ifmap_link){ (int)i + 1, names[i], 0, 0, 0 };
		if (i % 2)
			t += sprintf(t, "ifindex=%zu ifname=l%zu\n", NBIG - i, i);
	}
	map = map_ok(text);
	ifmap_assign(map, l, NBIG);
	for (i = 0; i < NBIG; i++) {
		ck_assert_uint_ne(l[i].served, 0);
		if (i % 2)
			ck_assert_uint_eq(l[i].served, NBIG - i);
		served[i] = l[i].served;
	}
	qsort(served, NBIG, sizeof *served, cmp_u32);
	for (i = 1; i < NBIG; i++)
		ck_assert_uint_ne(served[i], served[i - 1]);
	ifmap_free(map);
	free(text);
}
END_TEST

/* The same links in any order get the same numbers. */
START_TEST(t_assign_deterministic)
{
	static const char *const names[] = { "a", "b", "c", "d", "e", "f" };
	static const int kidx[] = { 3, 1, 9, 2, 7, 4 };
	struct hf_ifmap *map = map_ok("ifindex=3 ifname=f\nifindex=1 ifname=x\n");
	struct ifmap_link ref[6], l[6];
	unsigned seed;
	size_t i, j;

	for (i = 0; i < 6; i++)
		ref[i] = (struct ifmap_link){ kidx[i], names[i], 0, 0, 0 };
	assign(map, ref, 6);
	/* b (kindex 1, taken by x) and a (kindex 3, taken by f) are moved, a first. */
	ck_assert_uint_eq(ref[1].served, 5);
	ck_assert_uint_eq(ref[0].served, 6);
	for (seed = 1; seed < 50; seed++) {
		memcpy(l, ref, sizeof l);
		srand(seed);
		for (i = 5; i > 0; i--) {
			struct ifmap_link tmp = l[i];

			j = (size_t)rand() % (i + 1);
			l[i] = l[j];
			l[j] = tmp;
		}
		assign(map, l, 6);
		for (i = 0; i < 6; i++)
			for (j = 0; j < 6; j++)
				if (!strcmp(l[i].name, ref[j].name))
					ck_assert_uint_eq(l[i].served, ref[j].served);
	}
	ifmap_free(map);
}
END_TEST

START_TEST(t_print_line)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ifmap_print_line(f, 42, "tailscale0");
	fclose(f);
	ck_assert_str_eq(buf, "ifindex=42 ifname=tailscale0 direction=in\n");
	free(buf);
}
END_TEST

static Suite *ifmap_suite(void)
{
	Suite *s = suite_create("ifmap");
	TCase *tp = tcase_create("parse");
	TCase *ta = tcase_create("assign");

	tcase_add_test(tp, t_parse_forms);
	tcase_add_test(tp, t_entry_lines);
	tcase_add_test(tp, t_both_directions);
	tcase_add_test(tp, t_name_twice_warns);
	tcase_add_loop_test(tp, t_bad, 0, sizeof bad_cases / sizeof bad_cases[0]);
	tcase_add_test(tp, t_dropped_entry_frees_number);
	tcase_add_test(tp, t_nul_and_long);
	tcase_add_test(tp, t_load);
	suite_add_tcase(s, tp);
	tcase_add_test(ta, t_assign_no_map);
	tcase_add_test(ta, t_assign_map_renumbers);
	tcase_add_test(ta, t_assign_collision);
	tcase_add_test(ta, t_assign_lowest_free);
	tcase_add_test(ta, t_assign_sticky);
	tcase_add_test(ta, t_assign_sticky_before_kernel);
	tcase_add_test(ta, t_assign_odd_kindex);
	tcase_add_test(ta, t_assign_10000);
	tcase_add_test(ta, t_assign_deterministic);
	tcase_add_test(ta, t_print_line);
	suite_add_tcase(s, ta);
	return s;
}

int main(void)
{
	log_init("check_ifmap", 1, 0);
	return hf_run(ifmap_suite(), CK_FORK_GETENV);
}
