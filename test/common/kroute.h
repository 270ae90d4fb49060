/* The kernel's own answers, one RTM_GETROUTE (RTM_F_FIB_MATCH) per
 * question, for tests only: what the daemon asked before it mirrored the
 * routing (sflow/core/fib.h), kept to compare the mirror against the
 * kernel. Blocking netlink round trips; never in the daemon. */
#ifndef HF_KROUTE_H
#define HF_KROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "sflow/core/fib.h"
#include "sflow/core/fwd.h"

struct kroute;

/* Opens a netlink socket in the caller's namespace and dumps the host's
 * addresses. NULL on failure. */
struct kroute *kroute_open(void);
void kroute_close(struct kroute *k);
/* Re-reads the host's addresses (after the test changed them). */
int kroute_reload(struct kroute *k);
/* One question: RTM_GETROUTE for dst (from src when not NULL, arriving on
 * iif when not 0) with RTM_F_FIB_MATCH; for an ECMP entry a second, plain
 * question names the path. FIB_FOUND with *a, FIB_NOROUTE (an error
 * answer), FIB_UNKNOWN (no answer). */
enum fib_verdict kroute_ask(struct kroute *k, int family, const uint8_t *dst,
			    const uint8_t *src, int iif, struct fib_answer *a);
/* fwd_classify's algorithm with kroute_ask for every question. */
int kroute_classify(struct kroute *k, int kindex, unsigned arphrd, int outgoing,
		    const uint8_t *frame, uint32_t caplen, struct fwd_info *out);
/* Questions sent so far. */
uint64_t kroute_questions(const struct kroute *k);

#endif
