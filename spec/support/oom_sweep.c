/* SPDX-License-Identifier: MIT */
/* oom_sweep.c — see oom_sweep.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "failing_alloc.h"
#include "oom_sweep.h"
#include "spec_log.h"

#define MAX_POINTS 5000 /* far above any operation's: a runaway guard */
#define MAX_WHERE 24

typedef struct figures {
    uint64_t points; /* allocations the operation makes */
    uint64_t clean;  /* refused, and the call failed cleanly (NOMEM) */
    uint64_t aborts; /* in libbson: would abort the process */
    size_t n_where;
    char where[MAX_WHERE][192];
    uint64_t where_count[MAX_WHERE];
} figures;

static figures total;

static void add_where(figures *f, const char *where, uint64_t n)
{
    for (size_t i = 0; i < f->n_where; i++)
        if (strcmp(f->where[i], where) == 0) {
            f->where_count[i] += n;
            return;
        }
    if (f->n_where < MAX_WHERE) {
        snprintf(f->where[f->n_where], sizeof f->where[0], "%s", where);
        f->where_count[f->n_where++] = n;
    }
}

static void add_figures(figures *to, const figures *f)
{
    to->points += f->points;
    to->clean += f->clean;
    to->aborts += f->aborts;
    for (size_t i = 0; i < f->n_where; i++)
        add_where(to, f->where[i], f->where_count[i]);
}

static void print_figures(const char *name, const figures *f)
{
    printf("oom sweep: %-46s %4llu points, %4llu clean LK_ERR_NOMEM, %3llu "
           "abort in libbson\n",
           name, (unsigned long long)f->points, (unsigned long long)f->clean,
           (unsigned long long)f->aborts);
    for (size_t i = 0; i < f->n_where; i++)
        printf("oom sweep:     %3llu x %s\n",
               (unsigned long long)f->where_count[i], f->where[i]);
}

/* One round: k = 1, 2, ... until the operation no longer reaches k. */
static void sweep_round(const oom_sweep_op *op,
                        void (*check_committed)(void *state), int round,
                        figures *fig)
{
    figures f = {0};
    uint64_t k;
    for (k = 1; k <= MAX_POINTS; k++) {
        int64_t live = failing_alloc_live();
        void *state = op->setup(round);
        spec_log_clear();
        failing_alloc_arm(k);
        lk_status s = op->run(state);
        failing_alloc_result r = failing_alloc_disarm();
        if (r.failed && s == LK_OK && check_committed != NULL) {
            check_committed(state);
        } else if (r.failed) {
            if (s != LK_ERR_NOMEM)
                fail_msg("%s: allocation %llu refused: got %s, want "
                         "ERR_NOMEM",
                         op->name, (unsigned long long)k, lk_status_name(s));
            f.clean++;
            op->check_failed(state);
        } else {
            if (s != LK_OK)
                fail_msg("%s: allocation %llu not refused: got %s", op->name,
                         (unsigned long long)k, lk_status_name(s));
            op->check_done(state);
        }
        if (r.aborts) {
            f.aborts++;
            add_where(&f, r.where, 1);
        }
        if (spec_log_contains("terminated"))
            fail_msg("%s: allocation %llu: a message was termed:\n%s",
                     op->name, (unsigned long long)k, spec_log_captured());
        op->teardown(state);
        if (failing_alloc_live() != live)
            fail_msg("%s: allocation %llu: %lld block(s) leaked", op->name,
                     (unsigned long long)k,
                     (long long)(failing_alloc_live() - live));
        if (!r.reached)
            break;
    }
    if (k > MAX_POINTS)
        fail_msg("%s: more than %d allocations", op->name, MAX_POINTS);
    f.points = k - 1;
    assert_true(f.points > 0); /* the operation allocates: the sweep ran */
    add_figures(fig, &f);
}

void oom_sweep_committing(const oom_sweep_op *op,
                          void (*check_committed)(void *state))
{
    figures f = {0};
    for (int round = 0; round < (op->rounds > 0 ? op->rounds : 1); round++)
        sweep_round(op, check_committed, round, &f);
    print_figures(op->name, &f);
    add_figures(&total, &f);
}

void oom_sweep(const oom_sweep_op *op) { oom_sweep_committing(op, NULL); }

void oom_sweep_print_total(const char *name) { print_figures(name, &total); }

int oom_sweep_group_setup(void **state)
{
    (void)state;
    spec_log_capture_start();
    return 0;
}

int oom_sweep_group_teardown(void **state)
{
    (void)state;
    spec_log_capture_stop();
    return 0;
}
