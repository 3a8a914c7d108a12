/* SPDX-License-Identifier: MIT */
/* alloc-private.h — what the core needs to know about failed allocations
 * that happened inside a dependency (jansson, libbson), which only answers
 * "failed" without saying why. */
#ifndef LISTENKIT_ALLOC_PRIVATE_H
#define LISTENKIT_ALLOC_PRIVATE_H

#include <stddef.h>

/* How many allocations the allocator in force has refused on this thread
 * so far. A caller compares the count before and after a dependency's call
 * to tell "out of memory" from "bad input". Only allocations that went
 * through lk_set_allocator's bridges are counted. */
unsigned long lk_alloc_failures_(void);

/* `size` bytes aligned to `alignment` (a power of two; size a multiple of
 * it) from the allocator in force, as listenkit's (LK_ALLOC_LISTENKIT);
 * released with lk_free(). For listenkit's own structs holding a bson_t
 * (128-byte aligned), so they need no libbson allocation, which aborts on
 * failure. NULL when out of memory. */
void *lk_aligned_alloc_(size_t alignment, size_t size);

#endif /* LISTENKIT_ALLOC_PRIVATE_H */
