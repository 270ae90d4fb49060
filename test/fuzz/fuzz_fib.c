/* libFuzzer target: fib_apply() over arbitrary bytes read as a stream of
 * rtnetlink messages (what the route room hands it from dumps and events),
 * then the lookups and cells over addresses taken from the input. The
 * messages' lengths are checked as route.c checks them (NLMSG_OK): the
 * mirror must never read past one, whatever its attributes say. */
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>

#include "sflow/core/fib.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fib *fib = fib_new();
	/* A copy, aligned as a received buffer is. */
	static union {
		struct nlmsghdr align;
		uint8_t b[1 << 16];
	} buf;
	int len = (int)(size < sizeof buf.b ? size : sizeof buf.b);
	int64_t now = 0;

	if (!fib)
		return 0;
	memcpy(buf.b, data, (size_t)len);
	for (struct nlmsghdr *n = &buf.align; NLMSG_OK(n, len); n = NLMSG_NEXT(n, len)) {
		(void)fib_apply(fib, n, now);
		now += 7;
	}
	/* Questions from the input's last bytes, and their cells. */
	for (size_t i = 0; i + 33 <= size && i < 33 * 8; i += 33) {
		const uint8_t *d = data + size - 33 - i, *s = d + 16;
		int family = d[32] & 1 ? AF_INET6 : AF_INET, iif = d[32] >> 1;
		struct fib_answer a;
		uint32_t cell;

		(void)fib_input(fib, family, d, s, iif, now, &a);
		(void)fib_output(fib, family, d, now, &a);
		(void)fib_cell(fib, family, d, &cell);
		(void)fib_generation(fib, now + 100000);
	}
	fib_clear_routes(fib);
	fib_free(fib);
	return 0;
}
