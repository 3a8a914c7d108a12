/* SPDX-License-Identifier: MIT */
/*
 * counting_bus_spec.c — the scenario's counting bus (tools/scenario/
 * counting_bus.c) hands batches to the bus it wraps: a batch made through
 * it is the inner bus's own (on a server the adapter's in-flight batch, not
 * the generic synchronous one), its acknowledged messages count as
 * published, and its failures reach the caller with index and msg id.
 * Shown on the fake, whose batch keeps acknowledgements in flight until the
 * wait (the generic batch would have settled each one at publish).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fake_nats.h"
#include "scenario/counting_bus.h"

typedef struct world {
    lk_fake_nats *nats;
    scenario_bus_counters counters;
    lk_bus *bus; /* counting, over the fake's bus */
} world;

static int setup(void **state)
{
    static world w;
    memset(&w, 0, sizeof w);
    w.nats = lk_fake_nats_new_broker(NULL);
    assert_non_null(w.nats);
    assert_int_equal(scenario_bus_counters_init(&w.counters, NULL), LK_OK);
    /* The counting bus owns the inner bus: freeing it frees the fake. */
    assert_int_equal(scenario_counting_bus_new(lk_fake_nats_bus(w.nats),
                                               &w.counters, NULL, &w.bus,
                                               NULL),
                     LK_OK);
    *state = &w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    lk_bus_free(w->bus);
    scenario_bus_counters_destroy(&w->counters);
    return 0;
}

static uint64_t published(world *w)
{
    scenario_counts c;
    scenario_bus_counters_get(&w->counters, &c);
    return c.published;
}

static void test_a_batch_through_it_is_the_inner_bus_own_and_counts_acks(
    void **state)
{
    world *w = *state;
    lk_batch *b = NULL;
    assert_int_equal(lk_batch_new(w->bus, NULL, &b, NULL), LK_OK);
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "m%d", i);
        const lk_publish_opts po = {.msg_id = id};
        assert_int_equal(lk_batch_publish(b, "ticket:updated", "{}", 2, &po,
                                          NULL),
                         LK_OK);
    }
    /* Stored, acknowledgements still in flight: the fake's batch. */
    assert_int_equal(lk_fake_nats_published_count(w->nats), 3);
    assert_int_equal(lk_batch_acked(b), 0);
    assert_int_equal(published(w), 0);

    assert_int_equal(lk_batch_wait(b, 0, NULL), LK_OK);
    assert_int_equal(lk_batch_acked(b), 3);
    assert_int_equal(published(w), 3);
    lk_batch_free(b);
}

static void test_failures_reach_the_caller_and_are_not_counted(void **state)
{
    world *w = *state;
    lk_batch *b = NULL;
    lk_error e;
    assert_int_equal(lk_batch_new(w->bus, NULL, &b, NULL), LK_OK);
    lk_fake_nats_withhold_publish_acks(w->nats, 1);
    const lk_publish_opts first = {.msg_id = "first"};
    const lk_publish_opts second = {.msg_id = "second"};
    assert_int_equal(lk_batch_publish(b, "ticket:updated", "{}", 2, &first,
                                      NULL),
                     LK_OK);
    assert_int_equal(lk_batch_publish(b, "ticket:updated", "{}", 2, &second,
                                      NULL),
                     LK_OK);
    assert_int_equal(lk_batch_wait(b, 0, &e), LK_ERR_TIMEOUT);
    assert_non_null(strstr(e.message, "1 of 2"));
    assert_int_equal(lk_batch_failure_count(b), 1);
    const lk_batch_failure *f = lk_batch_failure_at(b, 0);
    assert_int_equal(f->index, 0);
    assert_string_equal(f->msg_id, "first");
    assert_int_equal(f->status, LK_ERR_TIMEOUT);
    assert_int_equal(published(w), 1);
    lk_batch_free(b);

    lk_fake_nats_connection_down(w->nats); /* refused by the inner bus */
    assert_int_equal(lk_batch_new(w->bus, NULL, &b, &e), LK_ERR_IO);
    assert_null(b);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_a_batch_through_it_is_the_inner_bus_own_and_counts_acks),
        T(test_failures_reach_the_caller_and_are_not_counted),
    };
#undef T
    return cmocka_run_group_tests_name("counting_bus", tests, NULL, NULL);
}
