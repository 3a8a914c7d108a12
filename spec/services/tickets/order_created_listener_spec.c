/* SPDX-License-Identifier: MIT */
/* order_created_listener_spec.c — the tickets service reserves a ticket when
 * an order is created for it (course: order-created-listener.test.ts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "spec_log.h"
#include "ticketing_spec.h"

typedef ticketing_spec_tickets fixture;

/* The course's setup(): a listener, a saved ticket, the event, a message. */
static int setup(void **state)
{
    fixture *f = ticketing_spec_tickets_new();
    assert_int_equal(
        tickets_create(&f->svc, "concert", 99, "asdf", &f->ticket_id, NULL),
        LK_OK);
    lk_fake_nats_reset(f->nats); /* forget ticket:created */
    ticketing_spec_tickets_init_listener(f, &tickets_order_created_listener);
    lk_oid_format(&f->ticket_id, f->ticket_hex);
    ticketing_spec_new_id(NULL, f->order_hex);
    f->msg = ticketing_spec_order_created(f->order_hex, f->ticket_hex);
    spec_log_capture_start();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    spec_log_capture_stop();
    return ticketing_spec_tickets_teardown(state);
}

static void test_order_created_listener_sets_the_order_id_of_the_ticket(
    void **state)
{
    fixture *f = *state;
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    bson_t *doc = ticketing_spec_tickets_stored(f);
    assert_string_equal(ticketing_doc_string(doc, "orderId"), f->order_hex);
    assert_string_equal(ticketing_doc_string(doc, "title"), "concert");
    bson_destroy(doc);
    assert_int_equal(ticketing_spec_tickets_stored_version(f), 1);
}

static void test_order_created_listener_acks_the_message(void **state)
{
    fixture *f = *state;
    lk_fake_msg_expect_ack(f->msg);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);
    assert_true(lk_fake_msg_acked(f->msg));
    assert_int_equal(lk_fake_msg_term_count(f->msg), 0);
}

static void
test_order_created_listener_publishes_ticket_updated_carrying_the_order_id(
    void **state)
{
    fixture *f = *state;
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    const json_t *ev = ticketing_spec_only_published(f->nats, "ticket:updated");
    assert_string_equal(lk_event_string(ev, "orderId"), f->order_hex);
    assert_string_equal(lk_event_string(ev, "id"), f->ticket_hex);
    assert_int_equal(lk_event_int(ev, "version"), 1);
    assert_string_equal(lk_event_string(ev, "title"), "concert");
    assert_true(lk_event_number(ev, "price") == 99.0);
    assert_string_equal(lk_event_string(ev, "userId"), "asdf");
}

/* The order's cancel came first (its consumer is another one): the late
 * order:created is acked and leaves the ticket free. */
static void
test_order_created_listener_leaves_free_a_ticket_its_order_already_released(
    void **state)
{
    fixture *f = *state;
    bson_t *doc = NULL;
    ticketing_spec_reserve(&f->svc, &f->ticket_id, f->order_hex);
    doc = ticketing_spec_tickets_stored(f);
    assert_int_equal(tickets_save_order_id(&f->svc, doc, NULL, NULL, NULL),
                     LK_OK);
    bson_destroy(doc);
    lk_fake_nats_reset(f->nats);

    lk_fake_msg_expect_ack(f->msg);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    assert_true(lk_fake_msg_acked(f->msg));
    doc = ticketing_spec_tickets_stored(f);
    assert_null(ticketing_doc_string(doc, "orderId"));
    bson_destroy(doc);
    assert_int_equal(ticketing_spec_tickets_stored_version(f), 2);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
}

static void test_order_created_listener_does_not_ack_for_an_unknown_ticket(
    void **state)
{
    fixture *f = *state;
    char unknown_hex[25];
    ticketing_spec_new_id(NULL, unknown_hex);
    lk_msg *msg = ticketing_spec_order_created(f->order_hex, unknown_hex);

    ticketing_spec_assert_not_acked(&f->listener, msg, LK_ERR_NOT_FOUND,
                                    unknown_hex);

    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
    lk_fake_msg_free(msg);
}

/* The reservation and its ticket:updated are one step (the service's
 * outbox): a publish that fails after the save does not keep the message
 * (its redelivery would change nothing); the relay sends the event, with
 * the reservation's version, and the orders replica gets it. */
static void test_order_created_listener_acks_and_leaves_a_failed_publish_to_the_relay(
    void **state)
{
    fixture *f = *state;
    lk_fake_nats_fail_next_publish(f->nats, LK_ERR_IO);

    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    assert_true(lk_fake_msg_acked(f->msg));
    assert_int_equal(ticketing_spec_tickets_stored_version(f), 1);
    const json_t *ev = ticketing_spec_assert_relayed(f->svc.outbox, f->nats,
                                                     "ticket:updated");
    assert_int_equal(lk_event_int(ev, "version"), 1);
    assert_string_equal(lk_event_string(ev, "orderId"), f->order_hex);
}

/* A redelivery of an event already applied changes nothing and publishes
 * nothing: the event of the change went out with the change. */
static void test_order_created_listener_publishes_nothing_for_a_redelivery(
    void **state)
{
    fixture *f = *state;
    lk_msg *again = ticketing_spec_order_created(f->order_hex, f->ticket_hex);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);
    lk_fake_msg_set_delivery_count(again, 2);

    assert_int_equal(lk_listener_dispatch(&f->listener, again), LK_OK);

    assert_true(lk_fake_msg_acked(again));
    assert_int_equal(lk_fake_nats_published_count(f->nats), 1);
    lk_fake_msg_free(again);
}

static void
test_order_created_listener_acks_a_duplicate_without_a_new_version(
    void **state)
{
    fixture *f = *state;
    lk_msg *dup = ticketing_spec_order_created(f->order_hex, f->ticket_hex);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    assert_int_equal(lk_listener_dispatch(&f->listener, dup), LK_OK);

    assert_true(lk_fake_msg_acked(dup));
    assert_int_equal(ticketing_spec_tickets_stored_version(f), 1);
    lk_fake_msg_free(dup);
}

/* ---- bad payloads: termed, logged, never acked, nothing changes ---------- */

static void assert_termed(fixture *f, lk_msg *msg, const char *reason)
{
    ticketing_spec_assert_termed(&f->listener, msg, reason);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
    bson_t *doc = ticketing_spec_tickets_stored(f);
    assert_null(ticketing_doc_string(doc, "orderId"));
    bson_destroy(doc);
    assert_int_equal(ticketing_spec_tickets_stored_version(f), 0);
}

static void test_order_created_listener_terms_malformed_json(void **state)
{
    fixture *f = *state;
    assert_termed(f, lk_fake_msg_new("order:created", "{\"id\": \"abc\""),
                  "JSON");
}

static void test_order_created_listener_terms_an_event_without_its_ticket(
    void **state)
{
    fixture *f = *state;
    assert_termed(f, ticketing_spec_msg_without(f->msg, "ticket"), "ticket");
}

static void test_order_created_listener_terms_a_version_of_the_wrong_type(
    void **state)
{
    fixture *f = *state;
    assert_termed(f, ticketing_spec_msg_with(f->msg, "version", "\"0\""),
                  "version");
}

static void test_order_created_listener_terms_a_ticket_id_that_is_no_object_id(
    void **state)
{
    fixture *f = *state;
    assert_termed(f,
                  ticketing_spec_order_created(f->order_hex,
                                               "not-an-object-id"),
                  "ticket.id");
}

static void test_order_created_listener_terms_an_order_id_that_is_no_object_id(
    void **state)
{
    fixture *f = *state;
    assert_termed(f,
                  ticketing_spec_order_created("zzzzzzzzzzzzzzzzzzzzzzzz",
                                               f->ticket_hex),
                  "\"id\"");
}

static void test_order_created_listener_terms_a_field_the_event_does_not_have(
    void **state)
{
    fixture *f = *state;
    assert_termed(f, ticketing_spec_msg_with(f->msg, "admin", "true"), "admin");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_order_created_listener_sets_the_order_id_of_the_ticket),
        T(test_order_created_listener_acks_the_message),
        T(test_order_created_listener_leaves_free_a_ticket_its_order_already_released),
        T(test_order_created_listener_publishes_ticket_updated_carrying_the_order_id),
        T(test_order_created_listener_does_not_ack_for_an_unknown_ticket),
        T(test_order_created_listener_acks_and_leaves_a_failed_publish_to_the_relay),
        T(test_order_created_listener_publishes_nothing_for_a_redelivery),
        T(test_order_created_listener_acks_a_duplicate_without_a_new_version),
        T(test_order_created_listener_terms_malformed_json),
        T(test_order_created_listener_terms_an_event_without_its_ticket),
        T(test_order_created_listener_terms_a_version_of_the_wrong_type),
        T(test_order_created_listener_terms_a_ticket_id_that_is_no_object_id),
        T(test_order_created_listener_terms_an_order_id_that_is_no_object_id),
        T(test_order_created_listener_terms_a_field_the_event_does_not_have),
#undef T
    };
    return cmocka_run_group_tests_name("tickets_order_created_listener", tests,
                                       NULL, NULL);
}
