/* orders_listen_all_spec.c — the orders service listens to every ticket
 * event, in its own queue group, and its replicas share the work. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "fake_nats.h"
#include "mem_store.h"
#include "orders/orders.h"
#include "tickets/tickets.h"

#define REPLICAS 3

typedef struct fixture {
    lk_store *store;
    lk_fake_nats *nats;
    orders_service svc[REPLICAS];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->store = lk_mem_store_new();
    f->nats = lk_fake_nats_new_broker(NULL);
    assert_non_null(f->nats);
    for (int i = 0; i < REPLICAS; i++)
        assert_int_equal(orders_service_init(&f->svc[i],
                                             lk_fake_nats_bus(f->nats),
                                             f->store, NULL),
                         LK_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    lk_fake_nats_free(f->nats);
    lk_store_free(f->store);
    free(f);
    return 0;
}

static void test_listen_all_subscribes_to_ticket_created_in_the_orders_group(
    void **state)
{
    fixture *f = *state;
    assert_int_equal(orders_listen_all(&f->svc[0], NULL), LK_OK);
    assert_true(lk_fake_nats_has_subscription(f->nats, "ticket:created",
                                              "orders-service"));
}

static void test_listen_all_subscribes_to_ticket_updated_in_the_orders_group(
    void **state)
{
    fixture *f = *state;
    assert_int_equal(orders_listen_all(&f->svc[0], NULL), LK_OK);
    assert_true(lk_fake_nats_has_subscription(f->nats, "ticket:updated",
                                              "orders-service"));
}

static void test_listen_all_subscribes_durably_from_the_stream_start(
    void **state)
{
    fixture *f = *state;
    assert_int_equal(orders_listen_all(&f->svc[0], NULL), LK_OK);

    assert_int_equal(lk_fake_nats_subscription_count(f->nats), 2);
    for (size_t i = 0; i < 2; i++) {
        const lk_fake_subscription_info *sub =
            lk_fake_nats_subscription(f->nats, i);
        assert_non_null(sub);
        assert_string_equal(sub->queue_group, TICKETING_ORDERS_QUEUE);
        assert_true(sub->deliver_all);
        assert_true(sub->ack_wait_ms > 0);
    }
}

static void test_listen_all_reports_a_closed_bus(void **state)
{
    fixture *f = *state;
    lk_error e;
    assert_int_equal(lk_bus_drain(lk_fake_nats_bus(f->nats), NULL), LK_OK);

    assert_int_equal(orders_listen_all(&f->svc[0], &e), LK_ERR_CLOSED);
    assert_non_null(strstr(e.message, "ticket:created"));
}

/* Through the broker, with replicas of the orders service in one queue group
 * sharing one store: each event is handled once, the replica follows the
 * tickets service. */
static void test_listen_all_replicas_keep_the_ticket_replica_in_step(
    void **state)
{
    fixture *f = *state;
    tickets_service tickets;
    bson_oid_t id;
    bson_t *replica = NULL;
    int64_t version = -1;
    for (int i = 0; i < REPLICAS; i++)
        assert_int_equal(orders_listen_all(&f->svc[i], NULL), LK_OK);
    assert_int_equal(lk_fake_nats_subscription_count(f->nats), 2 * REPLICAS);
    lk_store *tickets_store = lk_mem_store_new(); /* its own database */
    assert_int_equal(tickets_service_init(&tickets, lk_fake_nats_bus(f->nats),
                                          tickets_store, NULL),
                     LK_OK);
    assert_int_equal(tickets_create(&tickets, "concert", 5, "u", &id, NULL),
                     LK_OK);
    assert_int_equal(tickets_update(&tickets, &id, "u", "concert", 10, NULL),
                     LK_OK);
    assert_int_equal(tickets_update(&tickets, &id, "u", "concert", 15, NULL),
                     LK_OK);

    lk_fake_nats_run_until_idle(f->nats, 0);

    assert_int_equal(orders_ticket_find(&f->svc[0], &id, &replica, NULL),
                     LK_OK);
    assert_true(ticketing_doc_number(replica, "price", -1) == 15.0);
    assert_int_equal(lk_bson_get_int64(replica, "version", &version, NULL),
                     LK_OK);
    assert_int_equal(version, 2);
    bson_destroy(replica);
    lk_fake_nats_stats stats = lk_fake_nats_get_stats(f->nats);
    assert_int_equal(stats.acked, 3);
    assert_int_equal(stats.pending, 0);
    assert_int_equal(lk_fake_nats_dead_letter_count(f->nats), 0);
    lk_store_free(tickets_store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_listen_all_subscribes_to_ticket_created_in_the_orders_group),
        T(test_listen_all_subscribes_to_ticket_updated_in_the_orders_group),
        T(test_listen_all_subscribes_durably_from_the_stream_start),
        T(test_listen_all_reports_a_closed_bus),
        T(test_listen_all_replicas_keep_the_ticket_replica_in_step),
#undef T
    };
    return cmocka_run_group_tests_name("orders_listen_all", tests, NULL, NULL);
}
