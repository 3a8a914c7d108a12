/* SPDX-License-Identifier: MIT */
/* ticket_updated_listener_spec.c — the orders service applies each ticket
 * version once and in order (course: ticket-updated-listener.test.ts, "Out-
 * Of-Order Events"; beyond it: duplicates, stale redeliveries, gaps). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "spec_log.h"
#include "ticketing_spec.h"

typedef ticketing_spec_orders fixture; /* msg: version 1, "new concert", 999 */

/* The course's setup(): a listener, a saved replica (version 0), the next
 * version's event, a message. */
static int setup(void **state)
{
    fixture *f = ticketing_spec_orders_new();
    ticketing_spec_orders_init_listener(f, &orders_ticket_updated_listener);
    ticketing_spec_new_id(&f->ticket_id, f->ticket_hex);
    ticketing_spec_insert_replica(&f->svc, &f->ticket_id, "concert", 20, 0);
    f->msg =
        ticketing_spec_ticket_updated(f->ticket_hex, 1, "new concert", 999);
    spec_log_capture_start();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    spec_log_capture_stop();
    return ticketing_spec_orders_teardown(state);
}

/* Dispatches a new message and returns the status; *acked tells the ack. */
static lk_status deliver(fixture *f, int64_t version, const char *title,
                         double price, bool *acked)
{
    lk_msg *msg =
        ticketing_spec_ticket_updated(f->ticket_hex, version, title, price);
    lk_status s = lk_listener_dispatch(&f->listener, msg);
    *acked = lk_fake_msg_acked(msg);
    assert_int_equal(lk_fake_msg_term_count(msg), 0);
    lk_fake_msg_free(msg);
    return s;
}

static void test_updated_listener_finds_updates_and_saves_a_ticket(
    void **state)
{
    fixture *f = *state;
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);
    ticketing_spec_orders_assert_replica(f, "new concert", 999, 1);
}

static void test_updated_listener_acks_the_message(void **state)
{
    fixture *f = *state;
    lk_fake_msg_expect_ack(f->msg);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);
    assert_true(lk_fake_msg_acked(f->msg));
}

static void test_updated_listener_does_not_ack_skipped_version(void **state)
{
    fixture *f = *state;
    bool acked = true;
    assert_int_equal(deliver(f, 10, "new concert", 999, &acked), LK_ERR_RETRY);
    assert_false(acked);
    ticketing_spec_orders_assert_replica(f, "concert", 20, 0);
}

static void test_updated_listener_applies_an_early_version_once_its_turn_came(
    void **state)
{
    fixture *f = *state;
    bool acked = true;
    assert_int_equal(deliver(f, 2, "concert", 15, &acked), LK_ERR_RETRY);
    assert_false(acked);
    assert_int_equal(deliver(f, 1, "concert", 10, &acked), LK_OK);
    assert_true(acked);
    /* The redelivery of version 2, after its ack wait. */
    assert_int_equal(deliver(f, 2, "concert", 15, &acked), LK_OK);
    assert_true(acked);
    ticketing_spec_orders_assert_replica(f, "concert", 15, 2);
}

static void test_updated_listener_acks_a_duplicate_without_change(void **state)
{
    fixture *f = *state;
    bool acked = false;
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    assert_int_equal(deliver(f, 1, "new concert", 999, &acked), LK_OK);

    assert_true(acked);
    ticketing_spec_orders_assert_replica(f, "new concert", 999, 1);
}

/* A redelivery of version 1 after version 2 was applied must neither win
 * (the lost update of the course) nor cycle un-acked until max deliver. */
static void test_updated_listener_acks_a_stale_version_without_change(
    void **state)
{
    fixture *f = *state;
    bool acked = false;
    assert_int_equal(deliver(f, 1, "concert", 10, &acked), LK_OK);
    assert_int_equal(deliver(f, 2, "concert", 15, &acked), LK_OK);

    assert_int_equal(deliver(f, 1, "concert", 10, &acked), LK_OK);

    assert_true(acked);
    ticketing_spec_orders_assert_replica(f, "concert", 15, 2);
}

static void test_updated_listener_does_not_ack_for_an_unknown_ticket(
    void **state)
{
    fixture *f = *state;
    char other_hex[25];
    ticketing_spec_new_id(NULL, other_hex);
    lk_msg *msg = ticketing_spec_ticket_updated(other_hex, 1, "concert", 10);

    /* The ticket:created may still come: wait for it. */
    ticketing_spec_assert_not_acked(&f->listener, msg, LK_ERR_RETRY,
                                    other_hex);

    lk_fake_msg_free(msg);
}

static void test_updated_listener_ignores_the_order_id_it_carries(
    void **state)
{
    fixture *f = *state;
    lk_msg *msg =
        ticketing_spec_msg_with(f->msg, "orderId", "\"%s\"", f->ticket_hex);
    assert_int_equal(lk_listener_dispatch(&f->listener, msg), LK_OK);
    assert_true(lk_fake_msg_acked(msg));
    ticketing_spec_orders_assert_replica(f, "new concert", 999, 1);
    lk_fake_msg_free(msg);
}

static void test_updated_listener_publishes_nothing(void **state)
{
    fixture *f = *state;
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
}

/* ---- bad payloads: termed, logged, never acked, nothing changes ---------- */

static void assert_termed(fixture *f, lk_msg *msg, const char *reason)
{
    ticketing_spec_assert_termed(&f->listener, msg, reason);
    ticketing_spec_orders_assert_replica(f, "concert", 20, 0);
}

static void test_updated_listener_terms_malformed_json(void **state)
{
    fixture *f = *state;
    assert_termed(f, lk_fake_msg_new("ticket:updated", "[1, 2"), "JSON");
}

static void test_updated_listener_terms_an_event_without_a_version(
    void **state)
{
    fixture *f = *state;
    assert_termed(f, ticketing_spec_msg_without(f->msg, "version"), "version");
}

static void test_updated_listener_terms_a_negative_version(void **state)
{
    fixture *f = *state;
    assert_termed(f,
                  ticketing_spec_ticket_updated(f->ticket_hex, -1, "concert",
                                                10),
                  "version");
}

static void test_updated_listener_terms_a_version_that_is_not_an_integer(
    void **state)
{
    fixture *f = *state;
    assert_termed(f, ticketing_spec_msg_with(f->msg, "version", "1.5"),
                  "version");
}

static void test_updated_listener_terms_a_title_of_the_wrong_type(
    void **state)
{
    fixture *f = *state;
    assert_termed(f, ticketing_spec_msg_with(f->msg, "title", "7"), "title");
}

static void test_updated_listener_terms_an_id_that_is_no_object_id(
    void **state)
{
    fixture *f = *state;
    assert_termed(f,
                  ticketing_spec_ticket_updated("gggggggggggggggggggggggg", 1,
                                                "concert", 10),
                  "\"id\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_updated_listener_finds_updates_and_saves_a_ticket),
        T(test_updated_listener_acks_the_message),
        T(test_updated_listener_does_not_ack_skipped_version),
        T(test_updated_listener_applies_an_early_version_once_its_turn_came),
        T(test_updated_listener_acks_a_duplicate_without_change),
        T(test_updated_listener_acks_a_stale_version_without_change),
        T(test_updated_listener_does_not_ack_for_an_unknown_ticket),
        T(test_updated_listener_ignores_the_order_id_it_carries),
        T(test_updated_listener_publishes_nothing),
        T(test_updated_listener_terms_malformed_json),
        T(test_updated_listener_terms_an_event_without_a_version),
        T(test_updated_listener_terms_a_negative_version),
        T(test_updated_listener_terms_a_version_that_is_not_an_integer),
        T(test_updated_listener_terms_a_title_of_the_wrong_type),
        T(test_updated_listener_terms_an_id_that_is_no_object_id),
#undef T
    };
    return cmocka_run_group_tests_name("orders_ticket_updated_listener", tests,
                                       NULL, NULL);
}
