/* SPDX-License-Identifier: MIT */
/* tickets_listen_all_spec.c — the tickets service listens to every order
 * event, in its own queue group (course: "Don't Forget to Listen!"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ticketing_spec.h"

typedef ticketing_spec_tickets fixture;

static int setup(void **state)
{
    *state = ticketing_spec_tickets_new_broker();
    return 0;
}

static void test_listen_all_subscribes_to_order_created_in_the_tickets_group(
    void **state)
{
    fixture *f = *state;
    assert_int_equal(tickets_listen_all(&f->svc, NULL), LK_OK);
    assert_true(lk_fake_nats_has_subscription(f->nats, "order:created",
                                              "tickets-service"));
}

static void test_listen_all_subscribes_to_order_cancelled_in_the_tickets_group(
    void **state)
{
    fixture *f = *state;
    assert_int_equal(tickets_listen_all(&f->svc, NULL), LK_OK);
    assert_true(lk_fake_nats_has_subscription(f->nats, "order:cancelled",
                                              "tickets-service"));
}

static void test_listen_all_subscribes_durably_from_the_stream_start(
    void **state)
{
    fixture *f = *state;
    assert_int_equal(tickets_listen_all(&f->svc, NULL), LK_OK);

    ticketing_spec_assert_group_subscriptions(f->nats, 2,
                                              TICKETING_TICKETS_QUEUE);
}

static void test_listen_all_takes_the_ack_wait_and_max_deliver_it_is_given(
    void **state)
{
    fixture *f = *state;
    f->svc.listen.ack_wait_ms = 1500;
    f->svc.listen.max_deliver = 7;
    assert_int_equal(tickets_listen_all(&f->svc, NULL), LK_OK);
    ticketing_spec_assert_listen_opts(f->nats, 1500, 7);
}

static void test_listen_all_keeps_the_defaults_without_options(void **state)
{
    fixture *f = *state;
    assert_int_equal(tickets_listen_all(&f->svc, NULL), LK_OK);
    ticketing_spec_assert_listen_opts(f->nats, 0, 0);
}

static void test_listen_all_reports_a_closed_bus(void **state)
{
    fixture *f = *state;
    lk_error e;
    assert_int_equal(lk_bus_drain(lk_fake_nats_bus(f->nats), NULL), LK_OK);

    assert_int_equal(tickets_listen_all(&f->svc, &e), LK_ERR_CLOSED);
    assert_non_null(strstr(e.message, "order:created"));
}

/* Through the broker: an order:created published on the bus reaches the
 * listener, which reserves the ticket, publishes and acks. */
static void test_listen_all_reserves_a_ticket_when_an_order_is_created(
    void **state)
{
    fixture *f = *state;
    assert_int_equal(tickets_listen_all(&f->svc, NULL), LK_OK);
    assert_int_equal(
        tickets_create(&f->svc, "concert", 10, "user-1", &f->ticket_id, NULL),
        LK_OK);
    lk_oid_format(&f->ticket_id, f->ticket_hex);
    ticketing_spec_new_id(NULL, f->order_hex);
    json_t *ev = json_pack("{s:s, s:i, s:s, s:s, s:s, s:{s:s, s:f}}", "id",
                           f->order_hex, "version", 0, "status", "created",
                           "userId", "user-2", "expiresAt",
                           "2030-01-01T00:00:00.000Z", "ticket", "id",
                           f->ticket_hex, "price", 10.0);
    assert_int_equal(
        lk_publish(lk_fake_nats_bus(f->nats), &ticketing_order_created, ev,
                   NULL),
        LK_OK);
    json_decref(ev);

    lk_fake_nats_run_until_idle(f->nats, 0);

    bson_t *doc = ticketing_spec_tickets_stored(f);
    assert_string_equal(ticketing_doc_string(doc, "orderId"), f->order_hex);
    bson_destroy(doc);
    lk_fake_nats_stats stats = lk_fake_nats_get_stats(f->nats);
    assert_int_equal(stats.acked, 1);
    assert_int_equal(stats.pending, 0);
    assert_int_equal(
        lk_fake_nats_published_count_on(f->nats, "ticket:updated"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name)                                                                \
    cmocka_unit_test_setup_teardown(name, setup,                               \
                                    ticketing_spec_tickets_teardown)
        T(test_listen_all_subscribes_to_order_created_in_the_tickets_group),
        T(test_listen_all_subscribes_to_order_cancelled_in_the_tickets_group),
        T(test_listen_all_subscribes_durably_from_the_stream_start),
        T(test_listen_all_takes_the_ack_wait_and_max_deliver_it_is_given),
        T(test_listen_all_keeps_the_defaults_without_options),
        T(test_listen_all_reports_a_closed_bus),
        T(test_listen_all_reserves_a_ticket_when_an_order_is_created),
#undef T
    };
    return cmocka_run_group_tests_name("tickets_listen_all", tests, NULL,
                                       NULL);
}
