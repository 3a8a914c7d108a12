/* SPDX-License-Identifier: MIT */
/* order_cancelled_listener_spec.c — the tickets service frees a ticket when
 * the order that reserved it is cancelled (course:
 * order-cancelled-listener.test.ts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "spec_log.h"
#include "ticketing_spec.h"

typedef ticketing_spec_tickets fixture;

/* The course's setup(): a listener, a ticket reserved by an order, the
 * event, a message. */
static int setup(void **state)
{
    fixture *f = ticketing_spec_tickets_new();
    assert_int_equal(
        tickets_create(&f->svc, "concert", 20, "asdf", &f->ticket_id, NULL),
        LK_OK);
    lk_oid_format(&f->ticket_id, f->ticket_hex);
    ticketing_spec_new_id(NULL, f->order_hex);
    /* Reserved for the order, as order:created did: version 1. */
    ticketing_spec_reserve(&f->svc, &f->ticket_id, f->order_hex);
    lk_fake_nats_reset(f->nats);
    ticketing_spec_tickets_init_listener(f, &tickets_order_cancelled_listener);
    f->msg = ticketing_spec_order_cancelled(f->order_hex, f->ticket_hex);
    spec_log_capture_start();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    spec_log_capture_stop();
    return ticketing_spec_tickets_teardown(state);
}

static void test_order_cancelled_listener_clears_the_order_id(void **state)
{
    fixture *f = *state;
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    bson_t *doc = ticketing_spec_tickets_stored(f);
    assert_null(ticketing_doc_string(doc, "orderId"));
    bson_destroy(doc);
    assert_int_equal(ticketing_spec_tickets_stored_version(f), 2);
}

static void test_order_cancelled_listener_publishes_ticket_updated_without_order_id(
    void **state)
{
    fixture *f = *state;
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    const json_t *ev = ticketing_spec_only_published(f->nats, "ticket:updated");
    assert_string_equal(lk_event_string(ev, "id"), f->ticket_hex);
    assert_int_equal(lk_event_int(ev, "version"), 2);
    assert_false(lk_event_has(ev, "orderId"));
    assert_string_equal(lk_event_string(ev, "title"), "concert");
}

static void test_order_cancelled_listener_acks_the_message(void **state)
{
    fixture *f = *state;
    lk_fake_msg_expect_ack(f->msg);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);
    assert_true(lk_fake_msg_acked(f->msg));
}

static void test_order_cancelled_listener_does_not_ack_for_an_unknown_ticket(
    void **state)
{
    fixture *f = *state;
    char unknown_hex[25];
    ticketing_spec_new_id(NULL, unknown_hex);
    lk_msg *msg = ticketing_spec_order_cancelled(f->order_hex, unknown_hex);

    ticketing_spec_assert_not_acked(&f->listener, msg, LK_ERR_NOT_FOUND,
                                    unknown_hex);

    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
    lk_fake_msg_free(msg);
}

/* A late cancel of an earlier order must not free a ticket that another
 * order holds now. */
static void
test_order_cancelled_listener_keeps_a_ticket_another_order_reserved(
    void **state)
{
    fixture *f = *state;
    char other_hex[25];
    ticketing_spec_new_id(NULL, other_hex);
    lk_msg *msg = ticketing_spec_order_cancelled(other_hex, f->ticket_hex);

    assert_int_equal(lk_listener_dispatch(&f->listener, msg), LK_OK);

    assert_true(lk_fake_msg_acked(msg));
    bson_t *doc = ticketing_spec_tickets_stored(f);
    assert_string_equal(ticketing_doc_string(doc, "orderId"), f->order_hex);
    bson_destroy(doc);
    assert_int_equal(ticketing_spec_tickets_stored_version(f), 1);
    lk_fake_msg_free(msg);
}

static void test_order_cancelled_listener_acks_a_duplicate_without_a_new_version(
    void **state)
{
    fixture *f = *state;
    lk_msg *dup = ticketing_spec_order_cancelled(f->order_hex, f->ticket_hex);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    assert_int_equal(lk_listener_dispatch(&f->listener, dup), LK_OK);

    assert_true(lk_fake_msg_acked(dup));
    assert_int_equal(ticketing_spec_tickets_stored_version(f), 2);
    lk_fake_msg_free(dup);
}

static void test_order_cancelled_listener_acks_and_leaves_a_failed_publish_to_the_relay(
    void **state)
{
    fixture *f = *state;
    lk_fake_nats_fail_next_publish(f->nats, LK_ERR_TIMEOUT);

    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    assert_true(lk_fake_msg_acked(f->msg));
    const json_t *ev = ticketing_spec_assert_relayed(f->svc.outbox, f->nats,
                                                     "ticket:updated");
    assert_false(lk_event_has(ev, "orderId"));
}

/* Each subject has its own consumer, so a cancel can be processed before
 * its order:created (found by make demo-cluster: the ticket stayed
 * reserved by a cancelled order). It waits for it, unacked. */
static void
test_order_cancelled_listener_retries_a_cancel_that_comes_before_its_order_created(
    void **state)
{
    fixture *f = *state;
    char early_hex[25];
    ticketing_spec_new_id(NULL, early_hex);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);
    lk_fake_nats_reset(f->nats);
    lk_msg *early = ticketing_spec_order_cancelled(early_hex, f->ticket_hex);

    ticketing_spec_assert_not_acked(&f->listener, early, LK_ERR_RETRY,
                                    "before its order:created");

    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
    assert_int_equal(ticketing_spec_tickets_stored_version(f), 2);
    lk_fake_msg_free(early);
}

/* Order A held the ticket and was cancelled, then order B held it and was
 * cancelled; a repeat of A's cancel (a redelivery whose ack was lost) is
 * stale: acked with a logged reason, nothing saved, not retried until max
 * deliver (found by make demo-cluster). */
static void
test_order_cancelled_listener_acks_a_stale_cancel_after_a_later_order_was_released(
    void **state)
{
    fixture *f = *state;
    char later_hex[25];
    ticketing_spec_new_id(NULL, later_hex);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);
    ticketing_spec_reserve(&f->svc, &f->ticket_id, later_hex); /* version 3 */
    lk_msg *later = ticketing_spec_order_cancelled(later_hex, f->ticket_hex);
    assert_int_equal(lk_listener_dispatch(&f->listener, later), LK_OK);
    assert_int_equal(ticketing_spec_tickets_stored_version(f), 4);
    lk_fake_nats_reset(f->nats);
    lk_msg *repeat = ticketing_spec_order_cancelled(f->order_hex, f->ticket_hex);

    assert_int_equal(lk_listener_dispatch(&f->listener, repeat), LK_OK);

    assert_true(lk_fake_msg_acked(repeat));
    assert_true(spec_log_contains("a stale cancel, acked"));
    assert_true(spec_log_contains(f->order_hex));
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
    assert_int_equal(ticketing_spec_tickets_stored_version(f), 4);
    bson_t *doc = ticketing_spec_tickets_stored(f);
    assert_null(ticketing_doc_string(doc, "orderId"));
    bson_destroy(doc);
    lk_fake_msg_free(later);
    lk_fake_msg_free(repeat);
}

/* The list of released orders is bounded: a ticket ordered and cancelled
 * many times keeps only the last TICKETS_RELEASED_MAX. */
static void test_a_ticket_remembers_only_its_last_released_orders(void **state)
{
    fixture *f = *state;
    char first_hex[25], last_hex[25] = "";
    snprintf(first_hex, sizeof first_hex, "%s", f->order_hex);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);
    for (int i = 0; i < TICKETS_RELEASED_MAX; i++) {
        ticketing_spec_new_id(NULL, last_hex);
        ticketing_spec_reserve(&f->svc, &f->ticket_id, last_hex);
        lk_msg *m = ticketing_spec_order_cancelled(last_hex, f->ticket_hex);
        assert_int_equal(lk_listener_dispatch(&f->listener, m), LK_OK);
        lk_fake_msg_free(m);
    }

    bson_t *doc = ticketing_spec_tickets_stored(f);
    bson_iter_t it, item;
    int n = 0;
    assert_true(bson_iter_init_find(&it, doc, TICKETS_RELEASED));
    assert_true(bson_iter_recurse(&it, &item));
    while (bson_iter_next(&item))
        n++;
    assert_int_equal(n, TICKETS_RELEASED_MAX);
    assert_true(tickets_released(doc, last_hex));
    assert_false(tickets_released(doc, first_hex));
    bson_destroy(doc);
}

/* ---- bad payloads: termed, logged, never acked, nothing changes ---------- */

static void assert_termed(fixture *f, lk_msg *msg, const char *reason)
{
    ticketing_spec_assert_termed(&f->listener, msg, reason);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
    bson_t *doc = ticketing_spec_tickets_stored(f);
    assert_string_equal(ticketing_doc_string(doc, "orderId"), f->order_hex);
    bson_destroy(doc);
    assert_int_equal(ticketing_spec_tickets_stored_version(f), 1);
}

static void test_order_cancelled_listener_terms_malformed_json(void **state)
{
    fixture *f = *state;
    assert_termed(f, lk_fake_msg_new("order:cancelled", "not json at all"),
                  "JSON");
}

static void test_order_cancelled_listener_terms_an_event_without_a_version(
    void **state)
{
    fixture *f = *state;
    assert_termed(f, ticketing_spec_msg_without(f->msg, "version"), "version");
}

static void test_order_cancelled_listener_terms_a_ticket_of_the_wrong_type(
    void **state)
{
    fixture *f = *state;
    assert_termed(
        f, ticketing_spec_msg_with(f->msg, "ticket", "\"%s\"", f->ticket_hex),
        "ticket");
}

static void test_order_cancelled_listener_terms_a_ticket_id_that_is_no_object_id(
    void **state)
{
    fixture *f = *state;
    assert_termed(f, ticketing_spec_order_cancelled(f->order_hex, "12345"),
                  "ticket.id");
}

static void test_order_cancelled_listener_terms_an_order_id_that_is_no_object_id(
    void **state)
{
    fixture *f = *state;
    assert_termed(f, ticketing_spec_order_cancelled("", f->ticket_hex),
                  "\"id\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_order_cancelled_listener_clears_the_order_id),
        T(test_order_cancelled_listener_publishes_ticket_updated_without_order_id),
        T(test_order_cancelled_listener_acks_the_message),
        T(test_order_cancelled_listener_does_not_ack_for_an_unknown_ticket),
        T(test_order_cancelled_listener_keeps_a_ticket_another_order_reserved),
        T(test_order_cancelled_listener_acks_a_duplicate_without_a_new_version),
        T(test_order_cancelled_listener_acks_and_leaves_a_failed_publish_to_the_relay),
        T(test_order_cancelled_listener_retries_a_cancel_that_comes_before_its_order_created),
        T(test_order_cancelled_listener_acks_a_stale_cancel_after_a_later_order_was_released),
        T(test_a_ticket_remembers_only_its_last_released_orders),
        T(test_order_cancelled_listener_terms_malformed_json),
        T(test_order_cancelled_listener_terms_an_event_without_a_version),
        T(test_order_cancelled_listener_terms_a_ticket_of_the_wrong_type),
        T(test_order_cancelled_listener_terms_a_ticket_id_that_is_no_object_id),
        T(test_order_cancelled_listener_terms_an_order_id_that_is_no_object_id),
#undef T
    };
    return cmocka_run_group_tests_name("tickets_order_cancelled_listener",
                                       tests, NULL, NULL);
}
