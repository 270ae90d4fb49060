/* link_stats: the sampler's pool read (a link's counters now) allocates
 * nothing: 1,000 reads of lo's counters with malloc, calloc and realloc
 * counted. No root: any process may read its namespace's counters. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hf_check.h"
#include "table/netlink.h"   /* link_stats_read */
#include "table/snapshot.h"

static int counting;
static unsigned long calls;

#if defined(__SANITIZE_ADDRESS__)
#define HF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HF_ASAN 1
#endif
#endif

#ifdef HF_ASAN
/* Under AddressSanitizer its allocator counts, through its hooks (the
 * program may not replace malloc there). */
int __sanitizer_install_malloc_and_free_hooks(void (*on_malloc)(const volatile void *, size_t),
					      void (*on_free)(const volatile void *));

static void on_malloc(const volatile void *p, size_t n)
{
	(void)p;
	(void)n;
	calls += counting;
}

static void on_free(const volatile void *p)
{
	(void)p;
}

static void count_allocations(void)
{
	__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}
#else
/* The test binary's allocator entries come first for every caller (libnl's
 * included); while counting they say how often they were called. */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

void *malloc(size_t n)
{
	calls += counting;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	calls += counting;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	calls += counting;
	return __libc_realloc(p, n);
}

static void count_allocations(void)
{
}
#endif

#define LO 1   /* the loopback interface's kernel ifindex, in every namespace */

START_TEST(reads_allocate_nothing)
{
	struct link_stats *st;
	struct if_counters c, prev;

	count_allocations();
	st = link_stats_open();

	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(link_stats_read(st, LO, &prev), 0);
	calls = 0;
	for (int i = 0; i < 1000; i++) {
		int rc;

		/* Only the read is counted: the check framework's assertions
		 * allocate for themselves. */
		counting = 1;
		rc = link_stats_read(st, LO, &c);
		counting = 0;
		ck_assert_int_eq(rc, 0);
		/* counters only grow */
		ck_assert_uint_ge(c.in_ucast + c.in_mcast, prev.in_ucast + prev.in_mcast);
		ck_assert_uint_ge(c.out_octets, prev.out_octets);
		prev = c;
	}
	ck_assert_msg(calls == 0, "%lu allocations in 1000 reads", calls);
	/* A link that is not there. */
	ck_assert_int_eq(link_stats_read(st, 0x7ffffff0, &c), -1);
	ck_assert_int_eq(link_stats_read(st, 0, &c), -1);
	link_stats_close(st);
	link_stats_close(NULL);
}
END_TEST

static Suite *linkstats_suite(void)
{
	Suite *s = suite_create("linkstats");
	TCase *tc = tcase_create("read");

	tcase_add_test(tc, reads_allocate_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hf_run(linkstats_suite(), CK_FORK_GETENV);
}
