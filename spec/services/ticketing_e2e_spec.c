/* SPDX-License-Identifier: MIT */
/*
 * ticketing_e2e_spec.c — the course's concurrency scenario in miniature, end
 * to end on the fake broker: one tickets service and 4 orders replicas in the
 * orders-service queue group sharing one store; 50 tickets, each created and
 * then updated twice (prices 10, then 15); reordering, duplicate delivery and
 * redelivery of un-acked messages switched on; run until idle; every replica
 * equals the tickets service's record (title, price, version).
 *
 * The wiring, the commands and the comparison are the scenario library's
 * (tools/scenario), the same code `make demo` runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "scenario/scenario.h"

#define SEEDS 100

static int quiet_logs(void **state)
{
    (void)state;
    lk_log_set_level(LK_LOG_OFF); /* "not yet" retries are expected here */
    return 0;
}

static int restore_logs(void **state)
{
    (void)state;
    lk_log_reset();
    return 0;
}

static ticketing_scenario_opts course_scenario(uint64_t seed)
{
    ticketing_scenario_opts o;
    ticketing_scenario_opts_init(&o);
    o.replicas = 4;
    o.tickets = 50;
    o.updates = 2; /* created at 5, then 10, then 15 */
    o.seed = seed;
    o.reorder_window = 4;
    o.duplicate_rate = 0.05;
    return o;
}

static void test_every_replica_equals_its_ticket_for_every_seed(void **state)
{
    (void)state;
    uint64_t redeliveries = 0, duplicates = 0;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        ticketing_scenario_opts o = course_scenario(seed);
        ticketing_scenario_result r;
        lk_error err;
        if (ticketing_scenario_run(&o, &r, &err) != LK_OK)
            fail_msg("seed %llu: %s", (unsigned long long)seed, err.message);
        if (r.mismatches != 0)
            fail_msg("seed %llu: %llu of 50 replicas differ (title/price %llu, "
                     "version %llu, missing %llu)",
                     (unsigned long long)seed,
                     (unsigned long long)r.mismatches,
                     (unsigned long long)r.stale,
                     (unsigned long long)r.version_only,
                     (unsigned long long)r.missing);
        assert_true(r.converged);
        assert_int_equal(r.published_by_commands, 50 * 3);
        redeliveries += r.redeliveries;
        duplicates += r.duplicates;
    }
    /* The faults were really there: out-of-order updates came back after
     * their ack wait, and lost acks gave duplicate deliveries. */
    assert_true(redeliveries > 0);
    assert_true(duplicates > 0);
}

static void test_the_same_scenario_loses_updates_without_versions(
    void **state)
{
    (void)state;
    /* The control: the very same runs with the course's first listeners. */
    uint64_t stale = 0;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        ticketing_scenario_opts o = course_scenario(seed);
        o.naive = true;
        ticketing_scenario_result r;
        assert_int_equal(ticketing_scenario_run(&o, &r, NULL), LK_OK);
        stale += r.stale;
    }
    assert_true(stale > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_replica_equals_its_ticket_for_every_seed),
        cmocka_unit_test(test_the_same_scenario_loses_updates_without_versions),
    };
    return cmocka_run_group_tests(tests, quiet_logs, restore_logs);
}
