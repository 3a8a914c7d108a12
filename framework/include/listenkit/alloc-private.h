/* alloc-private.h — what the core needs to know about failed allocations
 * that happened inside a dependency (jansson, libbson), which only answers
 * "failed" without saying why. */
#ifndef LISTENKIT_ALLOC_PRIVATE_H
#define LISTENKIT_ALLOC_PRIVATE_H

/* How many allocations the allocator in force has refused on this thread
 * so far. A caller compares the count before and after a dependency's call
 * to tell "out of memory" from "bad input". Only allocations that went
 * through lk_set_allocator's bridges are counted. */
unsigned long lk_alloc_failures_(void);

#endif /* LISTENKIT_ALLOC_PRIVATE_H */
