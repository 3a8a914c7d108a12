/* SPDX-License-Identifier: MIT */
/* oom_dispatch_sweep_spec.c — the services' listeners with each allocation
 * of a dispatch refused in turn (spec/support/oom_sweep.h): decode, the
 * store calls, the publish and the reply all allocate. What a user relies
 * on when memory runs out mid-dispatch:
 *   - dispatch returns LK_ERR_NOMEM and the message is neither acked nor
 *     termed (no "terminated" line either): it comes again;
 *   - nothing was published, and the store holds the state before;
 *   - tickets only: a refusal after the reservation was saved with its
 *     ticket:updated (the outbox's commit) leaves the event pending, acks,
 *     and the relay sends it;
 *   - that redelivery, with memory back, is acked and ends in the state a
 *     clean run ends in;
 *   - nothing leaked.
 * insert, save and publish alone are oom_sweep_spec.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "failing_alloc.h"
#include "oom_sweep.h"
#include "ticketing_spec.h"

/* A dispatch that did not go through is not replied to, and comes again. */
static void assert_left_for_redelivery(lk_msg *msg)
{
    assert_int_equal(lk_fake_msg_ack_count(msg), 0);
    assert_int_equal(lk_fake_msg_term_count(msg), 0);
}

/* The redelivery, with memory back: acked once, as a clean run is. */
static void redeliver(lk_listener *listener, lk_msg *msg)
{
    lk_fake_msg_set_delivery_count(msg, 2);
    assert_int_equal(lk_listener_dispatch(listener, msg), LK_OK);
    assert_int_equal(lk_fake_msg_ack_count(msg), 1);
    assert_int_equal(lk_fake_msg_term_count(msg), 0);
}

/* ---- orders: ticket:created inserts the replica ----------------------------- */

static void *created_setup(int round)
{
    (void)round;
    ticketing_spec_orders *f = ticketing_spec_orders_new();
    ticketing_spec_orders_init_listener(f, &orders_ticket_created_listener);
    ticketing_spec_new_id(&f->ticket_id, f->ticket_hex);
    f->msg = ticketing_spec_ticket_created(f->ticket_hex, "concert", 10);
    return f;
}

static lk_status orders_run(void *state)
{
    ticketing_spec_orders *f = state;
    return lk_listener_dispatch(&f->listener, f->msg);
}

static void created_failed(void *state)
{
    ticketing_spec_orders *f = state;
    assert_left_for_redelivery(f->msg);
    assert_int_equal(ticketing_spec_count(f->svc.tickets), 0);
    redeliver(&f->listener, f->msg);
    ticketing_spec_orders_assert_replica(f, "concert", 10, 0);
}

static void created_done(void *state)
{
    ticketing_spec_orders *f = state;
    assert_int_equal(lk_fake_msg_ack_count(f->msg), 1);
    ticketing_spec_orders_assert_replica(f, "concert", 10, 0);
}

static void orders_teardown(void *state)
{
    ticketing_spec_orders_free(state);
}

/* ---- orders: ticket:updated finds the replica and saves it --------------------- */

static void *updated_setup(int round)
{
    (void)round;
    ticketing_spec_orders *f = ticketing_spec_orders_new();
    ticketing_spec_orders_init_listener(f, &orders_ticket_updated_listener);
    ticketing_spec_new_id(&f->ticket_id, f->ticket_hex);
    ticketing_spec_insert_replica(&f->svc, &f->ticket_id, "concert", 10, 0);
    f->msg = ticketing_spec_ticket_updated(f->ticket_hex, 1, "opera", 25);
    return f;
}

static void updated_failed(void *state)
{
    ticketing_spec_orders *f = state;
    assert_left_for_redelivery(f->msg);
    ticketing_spec_orders_assert_replica(f, "concert", 10, 0);
    redeliver(&f->listener, f->msg);
    ticketing_spec_orders_assert_replica(f, "opera", 25, 1);
}

static void updated_done(void *state)
{
    ticketing_spec_orders *f = state;
    assert_int_equal(lk_fake_msg_ack_count(f->msg), 1);
    ticketing_spec_orders_assert_replica(f, "opera", 25, 1);
}

/* ---- tickets: order:created finds, saves and publishes -------------------------- */

static void *reserve_setup(int round)
{
    (void)round;
    ticketing_spec_tickets *f = ticketing_spec_tickets_new();
    assert_int_equal(
        tickets_create(&f->svc, "concert", 99, "asdf", &f->ticket_id, NULL),
        LK_OK);
    lk_fake_nats_reset(f->nats); /* forget ticket:created */
    ticketing_spec_tickets_init_listener(f, &tickets_order_created_listener);
    lk_oid_format(&f->ticket_id, f->ticket_hex);
    ticketing_spec_new_id(NULL, f->order_hex);
    f->msg = ticketing_spec_order_created(f->order_hex, f->ticket_hex);
    return f;
}

static lk_status tickets_run(void *state)
{
    ticketing_spec_tickets *f = state;
    return lk_listener_dispatch(&f->listener, f->msg);
}

/* The ticket reserved for the fixture's order, at version 1, and one
 * ticket:updated saying so: where every run must end. */
static void assert_reserved_and_published(ticketing_spec_tickets *f)
{
    bson_t *doc = ticketing_spec_tickets_stored(f);
    assert_string_equal(ticketing_doc_string(doc, "orderId"), f->order_hex);
    bson_destroy(doc);
    assert_int_equal(ticketing_spec_tickets_stored_version(f), 1);
    const json_t *ev = ticketing_spec_only_published(f->nats, "ticket:updated");
    assert_string_equal(lk_event_string(ev, "orderId"), f->order_hex);
    assert_int_equal(lk_event_int(ev, "version"), 1);
}

static void reserve_failed(void *state)
{
    ticketing_spec_tickets *f = state;
    assert_left_for_redelivery(f->msg);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
    /* before the save: the reservation and its event are one step */
    bson_t *doc = ticketing_spec_tickets_stored(f);
    assert_null(ticketing_doc_string(doc, "orderId"));
    assert_int_equal(ticketing_spec_version_of(doc), 0);
    bson_destroy(doc);
    redeliver(&f->listener, f->msg);
    assert_reserved_and_published(f);
}

/* Refused after the commit: acked, reserved, and the ticket:updated went out
 * or waits in the outbox, from where the relay sends it. */
static void reserve_committed(void *state)
{
    ticketing_spec_tickets *f = state;
    int64_t pending = -1;
    assert_int_equal(lk_fake_msg_ack_count(f->msg), 1);
    assert_int_equal(lk_outbox_pending(f->svc.outbox, &pending, NULL), LK_OK);
    if (pending > 0)
        ticketing_spec_assert_relayed(f->svc.outbox, f->nats,
                                      "ticket:updated");
    assert_reserved_and_published(f);
}

static void reserve_done(void *state)
{
    ticketing_spec_tickets *f = state;
    assert_int_equal(lk_fake_msg_ack_count(f->msg), 1);
    assert_reserved_and_published(f);
}

static void tickets_teardown(void *state)
{
    ticketing_spec_tickets_free(state);
}

/* ---- the specs ------------------------------------------------------------------- */

static void test_ticket_created_out_of_memory_is_redelivered_never_termed(
    void **s)
{
    (void)s;
    const oom_sweep_op op = {"dispatch ticket:created (orders insert)",
                             created_setup, 0, orders_run, created_failed,
                             created_done, orders_teardown};
    oom_sweep(&op);
}

static void test_ticket_updated_out_of_memory_is_redelivered_never_termed(
    void **s)
{
    (void)s;
    const oom_sweep_op op = {"dispatch ticket:updated (orders save)",
                             updated_setup, 0, orders_run, updated_failed,
                             updated_done, orders_teardown};
    oom_sweep(&op);
}

static void test_order_created_out_of_memory_is_redelivered_never_termed(
    void **s)
{
    (void)s;
    const oom_sweep_op op = {"dispatch order:created (tickets save+publish)",
                             reserve_setup, 0, tickets_run, reserve_failed,
                             reserve_done, tickets_teardown};
    oom_sweep_committing(&op, reserve_committed);
}

int main(void)
{
    failing_alloc_install(); /* before anything allocates (alloc.h) */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_ticket_created_out_of_memory_is_redelivered_never_termed),
        cmocka_unit_test(
            test_ticket_updated_out_of_memory_is_redelivered_never_termed),
        cmocka_unit_test(
            test_order_created_out_of_memory_is_redelivered_never_termed),
    };
    int failed = cmocka_run_group_tests(tests, oom_sweep_group_setup,
                                        oom_sweep_group_teardown);
    oom_sweep_print_total("dispatch, all three listeners");
    failing_alloc_uninstall();
    return failed;
}
