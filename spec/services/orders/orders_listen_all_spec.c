/* SPDX-License-Identifier: MIT */
/* orders_listen_all_spec.c — the orders service listens to every ticket
 * event, in its own queue group, and its replicas share the work. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "mem_store.h"
#include "ticketing_spec.h"

#define REPLICAS 3

typedef ticketing_spec_orders fixture;

static int setup(void **state)
{
    *state = ticketing_spec_orders_new_broker();
    return 0;
}

static void test_listen_all_subscribes_to_ticket_created_in_the_orders_group(
    void **state)
{
    fixture *f = *state;
    assert_int_equal(orders_listen_all(&f->svc, NULL), LK_OK);
    assert_true(lk_fake_nats_has_subscription(f->nats, "ticket:created",
                                              "orders-service"));
}

static void test_listen_all_subscribes_to_ticket_updated_in_the_orders_group(
    void **state)
{
    fixture *f = *state;
    assert_int_equal(orders_listen_all(&f->svc, NULL), LK_OK);
    assert_true(lk_fake_nats_has_subscription(f->nats, "ticket:updated",
                                              "orders-service"));
}

static void test_listen_all_subscribes_durably_from_the_stream_start(
    void **state)
{
    fixture *f = *state;
    assert_int_equal(orders_listen_all(&f->svc, NULL), LK_OK);

    ticketing_spec_assert_group_subscriptions(f->nats, 2,
                                              TICKETING_ORDERS_QUEUE);
}

static void test_listen_all_takes_the_ack_wait_and_max_deliver_it_is_given(
    void **state)
{
    fixture *f = *state;
    f->svc.listen.ack_wait_ms = 250;
    f->svc.listen.max_deliver = 3;
    assert_int_equal(orders_listen_all(&f->svc, NULL), LK_OK);
    ticketing_spec_assert_listen_opts(f->nats, 250, 3);
}

static void test_listen_all_reports_a_closed_bus(void **state)
{
    fixture *f = *state;
    lk_error e;
    assert_int_equal(lk_bus_drain(lk_fake_nats_bus(f->nats), NULL), LK_OK);

    assert_int_equal(orders_listen_all(&f->svc, &e), LK_ERR_CLOSED);
    assert_non_null(strstr(e.message, "ticket:created"));
}

/* Through the broker, with replicas of the orders service in one queue group
 * sharing one store (the fixture's service and REPLICAS - 1 more): each
 * event is handled once, the replica follows the tickets service. */
static void test_listen_all_replicas_keep_the_ticket_replica_in_step(
    void **state)
{
    fixture *f = *state;
    orders_service more[REPLICAS - 1];
    tickets_service tickets;
    assert_int_equal(orders_listen_all(&f->svc, NULL), LK_OK);
    for (int i = 0; i < REPLICAS - 1; i++) {
        assert_int_equal(orders_service_init(&more[i],
                                             lk_fake_nats_bus(f->nats),
                                             f->store, NULL),
                         LK_OK);
        assert_int_equal(orders_listen_all(&more[i], NULL), LK_OK);
    }
    assert_int_equal(lk_fake_nats_subscription_count(f->nats), 2 * REPLICAS);
    lk_store *tickets_store = lk_mem_store_new(); /* its own database */
    assert_int_equal(tickets_service_init(&tickets, lk_fake_nats_bus(f->nats),
                                          tickets_store, NULL),
                     LK_OK);
    assert_int_equal(
        tickets_create(&tickets, "concert", 5, "u", &f->ticket_id, NULL),
        LK_OK);
    assert_int_equal(
        tickets_update(&tickets, &f->ticket_id, "u", "concert", 10, NULL),
        LK_OK);
    assert_int_equal(
        tickets_update(&tickets, &f->ticket_id, "u", "concert", 15, NULL),
        LK_OK);

    lk_fake_nats_run_until_idle(f->nats, 0);

    ticketing_spec_orders_assert_replica(f, "concert", 15, 2);
    lk_fake_nats_stats stats = lk_fake_nats_get_stats(f->nats);
    assert_int_equal(stats.acked, 3);
    assert_int_equal(stats.pending, 0);
    assert_int_equal(lk_fake_nats_dead_letter_count(f->nats), 0);
    /* The replicas in `more` end here: their subscriptions end first. */
    assert_int_equal(lk_bus_drain(lk_fake_nats_bus(f->nats), NULL), LK_OK);
    for (int i = 0; i < REPLICAS - 1; i++)
        orders_service_close(&more[i]);
    tickets_service_close(&tickets);
    lk_store_free(tickets_store);
}

/* Issue 13's repro: updates for tickets that never existed used to fill
 * the consumer's 1000 un-acked slots for good. Now each leaves as a dead
 * letter within max deliver, and a later ticket still replicates. */
static void test_updates_for_unknown_tickets_are_dead_lettered_and_the_rest_flows(
    void **state)
{
    enum { POISON = 10000 };
    fixture *f = *state;
    lk_bus *bus = lk_fake_nats_bus(f->nats);
    char hex[25];
    lk_log_set_level(LK_LOG_ERROR);
    assert_int_equal(orders_listen_all(&f->svc, NULL), LK_OK);
    for (int i = 0; i < POISON; i++) {
        ticketing_spec_new_id(NULL, hex);
        lk_msg *m = ticketing_spec_ticket_updated(hex, 1, "ghost", 1);
        assert_int_equal(lk_bus_publish(bus, m->subject, m->data, m->length,
                                        NULL, NULL),
                         LK_OK);
        lk_msg_free(m);
    }
    ticketing_spec_new_id(&f->ticket_id, f->ticket_hex);
    lk_msg *created = ticketing_spec_ticket_created(f->ticket_hex, "late", 7);
    assert_int_equal(lk_bus_publish(bus, created->subject, created->data,
                                    created->length, NULL, NULL),
                     LK_OK);
    lk_msg_free(created);

    lk_fake_nats_run_until_idle(f->nats, 0);

    ticketing_spec_orders_assert_replica(f, "late", 7, 0);
    lk_fake_nats_stats stats = lk_fake_nats_get_stats(f->nats);
    assert_int_equal(stats.pending, 0);
    assert_int_equal(stats.termed, POISON);
    assert_int_equal(
        lk_fake_nats_published_count_on(
            f->nats, LK_DEAD_LETTER_PREFIX "." TICKETING_ORDERS_QUEUE
                     ".ticket:updated"),
        POISON);
    /* within the bound: no event was delivered more than max deliver */
    assert_int_equal(stats.delivered,
                     POISON * LK_RETRY_DEFAULT_MAX_DELIVER + 1);
    lk_log_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name)                                                                \
    cmocka_unit_test_setup_teardown(name, setup,                               \
                                    ticketing_spec_orders_teardown)
        T(test_listen_all_subscribes_to_ticket_created_in_the_orders_group),
        T(test_listen_all_subscribes_to_ticket_updated_in_the_orders_group),
        T(test_listen_all_subscribes_durably_from_the_stream_start),
        T(test_listen_all_takes_the_ack_wait_and_max_deliver_it_is_given),
        T(test_listen_all_reports_a_closed_bus),
        T(test_listen_all_replicas_keep_the_ticket_replica_in_step),
        T(test_updates_for_unknown_tickets_are_dead_lettered_and_the_rest_flows),
#undef T
    };
    return cmocka_run_group_tests_name("orders_listen_all", tests, NULL, NULL);
}
