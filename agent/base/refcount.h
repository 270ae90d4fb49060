/* One reference count for shared immutable values (a config, a table
 * snapshot): taken by any thread, the last release frees. */
#ifndef HF_REFCOUNT_H
#define HF_REFCOUNT_H

#include <stdatomic.h>

typedef struct {
	atomic_long n;
} refcount_t;

static inline void refcount_init(refcount_t *r)
{
	atomic_init(&r->n, 1);
}

/* The caller already holds a reference, so no ordering is needed. */
static inline void refcount_get(refcount_t *r)
{
	atomic_fetch_add_explicit(&r->n, 1, memory_order_relaxed);
}

/* Returns 1 when this was the last reference: the caller frees. acq_rel so
 * that every write made under the other references happens before the free. */
static inline int refcount_put(refcount_t *r)
{
	return atomic_fetch_sub_explicit(&r->n, 1, memory_order_acq_rel) == 1;
}

#endif
