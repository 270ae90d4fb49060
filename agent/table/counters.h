/* The table's counters, apart from the rows' structure: one entry per
 * kernel link with the moment it was read, shared by every thread (inside
 * the table room; the faces use iftable_counters() in snapshot.h).
 *
 * Counters never go back. Reads by different threads overlap in time, so
 * each entry carries the interval of its read as two tickets of one
 * counter: one taken before the kernel was asked, one after it answered. A
 * new reading replaces an entry only when it began after that entry's
 * reading ended; an overlapping or older one is dropped, and the reader is
 * answered with what the store then holds. So whatever any thread served
 * (an SNMP answer, an sFlow counter sample) is never followed by a smaller
 * value, on either face. */
#ifndef HF_COUNTERS_H
#define HF_COUNTERS_H

#include <stdint.h>

#include "base/hf_types.h"
#include "table/netlink.h"
#include "table/snapshot.h"

struct ctr_store;

struct ctr_store *ctr_store_new(void);
void ctr_store_free(struct ctr_store *cs);

/* iftable_counters (snapshot.h) at now_ms. */
int ctr_store_get(struct ctr_store *cs, struct link_stats *ls, int kindex,
		  int64_t max_age_ms, int64_t now_ms, struct if_counters *out,
		  enum ctr_from *from);
/* iftable_counters_refresh (iftable.h): one dump of every link's counters,
 * merged by the rule above; links the dump no longer lists are forgotten. */
int ctr_store_refresh(struct ctr_store *cs, struct link_stats *ls, int64_t now_ms);

/* The parts, for the tests: a ticket, and one reading made between tickets
 * first and last at read_ms, kept by the rule above. *out is what the
 * store holds for kindex afterwards. */
uint64_t ctr_store_ticket(struct ctr_store *cs);
void ctr_store_put(struct ctr_store *cs, int kindex, uint64_t first, uint64_t last,
		   int64_t read_ms, const struct if_counters *c, struct if_counters *out);
/* The entries held (links known). */
size_t ctr_store_size(struct ctr_store *cs);

#endif
