/* SPDX-License-Identifier: MIT */
/*
 * failing_alloc.h — an allocator for specs that fails the k-th allocation.
 *
 * Installed through lk_set_allocator(), it sees every allocation listenkit,
 * jansson and libbson make, counts them while armed, and refuses the k-th:
 *
 *     failing_alloc_install();              first thing in main()
 *     failing_alloc_arm(k);
 *     lk_status s = ...the call under test...;
 *     failing_alloc_result r = failing_alloc_disarm();
 *     if (r.failed) assert_int_equal(s, LK_ERR_NOMEM);
 *
 * Sweeping k = 1, 2, ... until an armed call no longer reaches the k-th
 * allocation tries every allocation point of that call. libbson aborts the
 * process on a NULL (alloc.h), so a k-th allocation libbson asks for is
 * not refused: it is reported (r.aborts, r.where) and the call goes on, so
 * a sweep can count the points that would abort and name them.
 *
 * It also counts the blocks allocated and not yet freed through it
 * (failing_alloc_live), so a spec can assert that a failed call left
 * nothing behind without a leak checker.
 *
 * Counters are atomic; arm/disarm from the spec's thread.
 */
#ifndef FAILING_ALLOC_H
#define FAILING_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "listenkit/alloc.h"

typedef struct failing_alloc_result {
    uint64_t attempts;      /* allocations seen while armed */
    bool reached;           /* the k-th allocation happened */
    bool failed;            /* ... and was refused (not libbson's) */
    bool aborts;            /* ... was libbson's: it would have aborted */
    lk_alloc_caller caller; /* who asked for the k-th (when reached) */
    char where[192];        /* for `aborts`: the libbson function called
                               ("bson_copy") and the caller's offset in the
                               program, for addr2line */
} failing_alloc_result;

/* Installs the counting allocator (over the C library's); disarmed. */
void failing_alloc_install(void);

/* Restores the C library's allocator (lk_set_allocator(NULL)). */
void failing_alloc_uninstall(void);

/* Starts counting from 0; the k-th allocation (from 1) fails. k = 0 only
 * counts. */
void failing_alloc_arm(uint64_t k);

/* Stops counting and says what happened since arm(). */
failing_alloc_result failing_alloc_disarm(void);

/* Blocks allocated through the allocator and not freed yet (since
 * install; may be negative when blocks from before are freed). */
int64_t failing_alloc_live(void);

#endif /* FAILING_ALLOC_H */
