/* SPDX-License-Identifier: MIT */
/*
 * scenario_faults_spec.c — the scenario on a real server that misbehaves
 * for a while, as production servers do: paused (SIGSTOP, a stalled
 * process: publishes time out) while the tickets are published, restarted
 * meanwhile (publishes fail "disconnected"), paused while the replicas
 * settle (nothing changes for longer than an ack wait). Each run must end
 * converged: a transient fault delays events, it loses none, and "settled"
 * is what the server says (nothing pending, nothing un-acked), not a quiet
 * spell.
 *
 * Every server here is a throwaway of this spec; the fault is injected
 * from the scenario's progress callback (on the scenario's thread), the
 * server is resumed or restarted from the spec's thread (which started it).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "nats_server.h"
#include "scenario/scenario.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int group_setup(void **state)
{
    (void)state;
    lk_log_set_level(LK_LOG_OFF); /* retries are logged at warn, on purpose */
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    spec_nats_library_close();
    lk_log_reset();
    return 0;
}

typedef enum fault { FAULT_PAUSE, FAULT_RESTART } fault;

typedef struct faulty_run {
    spec_nats_server srv;
    char url[256];        /* the run's copy: restart rewrites srv.url */
    fault kind;
    const char *phase;    /* inject when this phase reports ... */
    int at_ticket;        /* ... at least this many tickets done */
    int fired;            /* atomic: the fault is in */
    int released;         /* atomic: the spec's thread undid it */
    ticketing_scenario_opts opts;
    ticketing_scenario_result result;
    lk_status status;
    lk_error err;
} faulty_run;

/* On the scenario's thread. A pause is made here (any thread may stop a
 * process); a restart is the spec thread's (the server follows the thread
 * that started it), so this waits until it is under way, while publishing
 * goes on into a server that is gone. */
static void inject(const ticketing_scenario_progress *p, void *closure)
{
    faulty_run *f = closure;
    if (__atomic_load_n(&f->fired, __ATOMIC_SEQ_CST) ||
        strcmp(p->phase, f->phase) != 0 || p->tickets_done < f->at_ticket)
        return;
    if (f->kind == FAULT_PAUSE)
        spec_nats_server_pause(&f->srv);
    __atomic_store_n(&f->fired, 1, __ATOMIC_SEQ_CST);
    if (f->kind == FAULT_RESTART)
        for (int i = 0; i < 500 && !__atomic_load_n(&f->released, __ATOMIC_SEQ_CST); i++)
            sleep_ms(10);
}

static void *run_scenario(void *arg)
{
    faulty_run *f = arg;
    f->status = ticketing_scenario_run(&f->opts, &f->result, &f->err);
    return NULL;
}

/* Runs the versioned scenario on a fresh server with `kind` injected at
 * (`phase`, `at_ticket`) and held for `hold_ms`, then undone. */
static void run_with_fault(faulty_run *f, fault kind, const char *phase,
                           int at_ticket, long hold_ms)
{
    pthread_t t;
    f->kind = kind;
    f->phase = phase;
    f->at_ticket = at_ticket;
    spec_nats_server_spawn(&f->srv);
    spec_nats_server_require(&f->srv);
    snprintf(f->url, sizeof f->url, "%s", f->srv.url);
    ticketing_scenario_opts_init(&f->opts);
    f->opts.nats_url = f->url;
    f->opts.replicas = 2;
    f->opts.tickets = 100;
    f->opts.updates = 2;
    f->opts.timeout_ms = 60000;
    f->opts.progress = inject;
    f->opts.progress_closure = f;
    assert_int_equal(pthread_create(&t, NULL, run_scenario, f), 0);
    for (int i = 0; i < 3000 && !__atomic_load_n(&f->fired, __ATOMIC_SEQ_CST); i++)
        sleep_ms(10);
    bool fired = __atomic_load_n(&f->fired, __ATOMIC_SEQ_CST);
    bool undone = false;
    if (fired && kind == FAULT_PAUSE) {
        sleep_ms(hold_ms);
        undone = spec_nats_server_resume(&f->srv);
    } else if (fired) {
        undone = spec_nats_server_down(&f->srv);
        __atomic_store_n(&f->released, 1, __ATOMIC_SEQ_CST);
        sleep_ms(hold_ms);
        undone = spec_nats_server_up(&f->srv) && undone;
    }
    __atomic_store_n(&f->released, 1, __ATOMIC_SEQ_CST);
    pthread_join(t, NULL);
    spec_nats_server_stop(&f->srv);
    assert_true(fired);
    assert_true(undone);
}

static void assert_converged(const faulty_run *f)
{
    if (f->status != LK_OK)
        fail_msg("the run failed: %s", f->err.message);
    const ticketing_scenario_result *r = &f->result;
    if (!r->converged)
        fail_msg("%llu mismatches (stale %llu, version only %llu, missing "
                 "%llu) after the fault",
                 (unsigned long long)r->mismatches,
                 (unsigned long long)r->stale,
                 (unsigned long long)r->version_only,
                 (unsigned long long)r->missing);
    /* every command's event reached the stream once (message ids) */
    assert_int_equal(r->published_by_commands, 300);
    assert_true(r->acked >= 300);
}

/* 6 s: longer than the 5 s publish timeout, so a publish times out. */
static void test_a_server_paused_while_publishing_delays_but_loses_nothing(void **state)
{
    (void)state;
    faulty_run *f = calloc(1, sizeof *f);
    assert_non_null(f);
    run_with_fault(f, FAULT_PAUSE, "publishing", 20, 6000);
    assert_converged(f);
    free(f);
}

static void test_a_server_restarted_while_publishing_delays_but_loses_nothing(void **state)
{
    (void)state;
    faulty_run *f = calloc(1, sizeof *f);
    assert_non_null(f);
    run_with_fault(f, FAULT_RESTART, "publishing", 20, 500);
    assert_converged(f);
    free(f);
}

/* Right after the last publish the replicas still have events to take;
 * 10 s of a silent server used to look settled (quiet past the ack wait)
 * and the late events were reported as lost updates. */
static void test_a_server_paused_while_settling_is_waited_for(void **state)
{
    (void)state;
    faulty_run *f = calloc(1, sizeof *f);
    assert_non_null(f);
    run_with_fault(f, FAULT_PAUSE, "publishing", 100, 10000);
    assert_converged(f);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_server_paused_while_publishing_delays_but_loses_nothing),
        cmocka_unit_test(test_a_server_restarted_while_publishing_delays_but_loses_nothing),
        cmocka_unit_test(test_a_server_paused_while_settling_is_waited_for),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
