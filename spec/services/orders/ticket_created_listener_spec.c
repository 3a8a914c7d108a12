/* SPDX-License-Identifier: MIT */
/* ticket_created_listener_spec.c — the orders service builds its replica of
 * a ticket when it is created (course: ticket-created-listener.test.ts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "spec_log.h"
#include "ticketing_spec.h"

typedef ticketing_spec_orders fixture;

/* The course's setup(): a listener, a fake data event, a fake message. */
static int setup(void **state)
{
    fixture *f = ticketing_spec_orders_new();
    ticketing_spec_orders_init_listener(f, &orders_ticket_created_listener);
    ticketing_spec_new_id(&f->ticket_id, f->ticket_hex);
    f->msg = ticketing_spec_ticket_created(f->ticket_hex, "concert", 10);
    spec_log_capture_start();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    spec_log_capture_stop();
    return ticketing_spec_orders_teardown(state);
}

static int64_t replica_count(fixture *f)
{
    return ticketing_spec_count(f->svc.tickets);
}

static void test_created_listener_creates_and_saves_a_ticket(void **state)
{
    fixture *f = *state;
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    /* Same _id as in the tickets service (the course's "ID adjustment"). */
    ticketing_spec_orders_assert_replica(f, "concert", 10, 0);
    assert_int_equal(replica_count(f), 1);
}

static void test_created_listener_acks_the_message(void **state)
{
    fixture *f = *state;
    lk_fake_msg_expect_ack(f->msg);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);
    assert_true(lk_fake_msg_acked(f->msg));
}

static void test_created_listener_publishes_nothing(void **state)
{
    fixture *f = *state;
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
}

/* Beyond the course: a redelivered ticket:created (its ack was lost) must
 * be acked, not fail on the taken _id until max deliver. */
static void test_created_listener_acks_a_duplicate_without_change(void **state)
{
    fixture *f = *state;
    lk_msg *dup = ticketing_spec_ticket_created(f->ticket_hex, "changed", 99);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    assert_int_equal(lk_listener_dispatch(&f->listener, dup), LK_OK);

    assert_true(lk_fake_msg_acked(dup));
    ticketing_spec_orders_assert_replica(f, "concert", 10, 0);
    assert_int_equal(replica_count(f), 1);
    lk_fake_msg_free(dup);
}

static void
test_created_listener_acks_a_late_duplicate_after_updates_without_change(
    void **state)
{
    fixture *f = *state;
    lk_listener updated;
    lk_msg *update =
        ticketing_spec_ticket_updated(f->ticket_hex, 1, "concert", 15);
    lk_msg *dup = ticketing_spec_ticket_created(f->ticket_hex, "concert", 10);
    assert_int_equal(lk_listener_init(&updated,
                                      &orders_ticket_updated_listener,
                                      lk_fake_nats_bus(f->nats), &f->svc, NULL),
                     LK_OK);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);
    assert_int_equal(lk_listener_dispatch(&updated, update), LK_OK);

    assert_int_equal(lk_listener_dispatch(&f->listener, dup), LK_OK);

    assert_true(lk_fake_msg_acked(dup));
    ticketing_spec_orders_assert_replica(f, "concert", 15, 1);
    lk_fake_msg_free(update);
    lk_fake_msg_free(dup);
}

/* ---- bad payloads: termed, logged, never acked, nothing saved ------------ */

static void assert_termed(fixture *f, lk_msg *msg, const char *reason)
{
    ticketing_spec_assert_termed(&f->listener, msg, reason);
    assert_int_equal(replica_count(f), 0);
}

static void test_created_listener_terms_malformed_json(void **state)
{
    fixture *f = *state;
    assert_termed(f, lk_fake_msg_new("ticket:created", "{\"id\":"), "JSON");
}

static void test_created_listener_terms_an_empty_payload(void **state)
{
    fixture *f = *state;
    assert_termed(f, lk_fake_msg_new("ticket:created", ""), "empty");
}

static void test_created_listener_terms_an_event_without_a_price(void **state)
{
    fixture *f = *state;
    assert_termed(f, ticketing_spec_msg_without(f->msg, "price"), "price");
}

static void test_created_listener_terms_a_price_of_the_wrong_type(
    void **state)
{
    fixture *f = *state;
    assert_termed(f, ticketing_spec_msg_with(f->msg, "price", "\"10\""),
                  "price");
}

static void test_created_listener_terms_a_negative_price(void **state)
{
    fixture *f = *state;
    assert_termed(f,
                  ticketing_spec_ticket_created(f->ticket_hex, "concert", -1),
                  "price");
}

static void test_created_listener_terms_an_id_that_is_no_object_id(
    void **state)
{
    fixture *f = *state;
    assert_termed(f, ticketing_spec_ticket_created("abc", "concert", 10),
                  "\"id\"");
}

static void test_created_listener_terms_a_title_over_the_limit(void **state)
{
    fixture *f = *state;
    char title[TICKETING_TITLE_MAX + 2];
    memset(title, 'x', sizeof title - 1);
    title[sizeof title - 1] = '\0';
    assert_termed(f, ticketing_spec_ticket_created(f->ticket_hex, title, 10),
                  "title");
}

static void test_created_listener_terms_a_field_the_event_does_not_have(
    void **state)
{
    fixture *f = *state;
    assert_termed(
        f, ticketing_spec_msg_with(f->msg, "orderId", "\"%s\"", f->ticket_hex),
        "orderId");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_created_listener_creates_and_saves_a_ticket),
        T(test_created_listener_acks_the_message),
        T(test_created_listener_publishes_nothing),
        T(test_created_listener_acks_a_duplicate_without_change),
        T(test_created_listener_acks_a_late_duplicate_after_updates_without_change),
        T(test_created_listener_terms_malformed_json),
        T(test_created_listener_terms_an_empty_payload),
        T(test_created_listener_terms_an_event_without_a_price),
        T(test_created_listener_terms_a_price_of_the_wrong_type),
        T(test_created_listener_terms_a_negative_price),
        T(test_created_listener_terms_an_id_that_is_no_object_id),
        T(test_created_listener_terms_a_title_over_the_limit),
        T(test_created_listener_terms_a_field_the_event_does_not_have),
#undef T
    };
    return cmocka_run_group_tests_name("orders_ticket_created_listener", tests,
                                       NULL, NULL);
}
