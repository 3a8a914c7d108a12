/* SPDX-License-Identifier: MIT */
/*
 * oom_sweep.h — refuse every allocation an operation makes, one at a time.
 *
 * For k = 1, 2, ... oom_sweep() builds fresh state (setup), fails the k-th
 * allocation (failing_alloc.h), runs the operation once, and asserts what a
 * user relies on when memory runs out:
 *   - a refused allocation makes the call return LK_ERR_NOMEM, and then
 *     check_failed() holds (the spec's "nothing half-written");
 *   - a run in which nothing was refused returns LK_OK and check_done()
 *     holds;
 *   - no log line says "terminated" (log capture must be on: spec_log.h);
 *   - after teardown() the allocator holds as many blocks as before setup:
 *     nothing leaked, also on the failure paths.
 * The sweep ends at the first k the operation no longer reaches. A k that
 * lands in libbson is not refused (bson_malloc aborts the process on NULL,
 * by design: listenkit/alloc.h); it is counted and named instead.
 *
 * Each sweep prints one line of figures ("oom sweep: <name>: N points, ...")
 * and adds them to the running total oom_sweep_print_total() prints.
 * failing_alloc_install() must have run first.
 */
#ifndef OOM_SWEEP_H
#define OOM_SWEEP_H

#include "listenkit/error.h"

typedef struct oom_sweep_op {
    const char *name;
    /* Fresh state for round `round` (0 .. rounds-1): a sweep may run
     * several rounds (say, with 0..N records there before, to reach the
     * allocations a container makes when it grows); their figures add up
     * into one line. */
    void *(*setup)(int round);
    int rounds; /* 0 means 1 */
    lk_status (*run)(void *state);
    void (*check_failed)(void *state);
    void (*check_done)(void *state);
    void (*teardown)(void *state);
} oom_sweep_op;

void oom_sweep(const oom_sweep_op *op);

/* The same for an operation with a commit point (a save through the
 * outbox, listenkit/outbox.h): an allocation refused after it leaves the
 * change made and its event pending, and the call returns LK_OK; then
 * check_committed(state) must hold. (oom_sweep counts LK_OK after a
 * refusal as a failure.) */
void oom_sweep_committing(const oom_sweep_op *op,
                          void (*check_committed)(void *state));

/* Prints the sum over every sweep so far, and where libbson would abort. */
void oom_sweep_print_total(const char *name);

/* cmocka group setup and teardown for a sweep spec: log capture on (the
 * sweep reads it) for the whole group. */
int oom_sweep_group_setup(void **state);
int oom_sweep_group_teardown(void **state);

#endif /* OOM_SWEEP_H */
