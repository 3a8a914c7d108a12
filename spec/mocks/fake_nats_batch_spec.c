/* SPDX-License-Identifier: MIT */
/*
 * fake_nats_batch_spec.c — the fake's own lk_batch (mocks/fake_nats.h,
 * "Batches"): messages stored at publish time, acknowledgements settled at
 * the wait or when max_in_flight is reached, and the faults a user's spec
 * scripts on it: withheld acknowledgements, a connection that drops while
 * messages are in flight, the publish error stack.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_nats.h"
#include "listenkit.h"
#include "listenkit/batch.h"

#define SUBJECT "ticket:updated"

typedef struct world {
    lk_fake_nats *nats;
    lk_batch *batch;
    char got[16][16]; /* what the consumer was delivered, in order */
    size_t n;
} world;

static void on_msg(lk_msg *msg, void *closure)
{
    world *w = closure;
    if (w->n < 16)
        snprintf(w->got[w->n], sizeof w->got[0], "%.*s", (int)msg->length,
                 (const char *)msg->data);
    w->n++;
    lk_msg_ack(msg);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->nats = lk_fake_nats_new_broker(NULL);
    assert_non_null(w->nats);
    const lk_subscribe_opts so = {.queue_group = "readers"};
    assert_int_equal(lk_bus_subscribe(lk_fake_nats_bus(w->nats), SUBJECT, &so,
                                      on_msg, w, NULL),
                     LK_OK);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    lk_batch_free(w->batch);
    lk_fake_nats_free(w->nats);
    free(w);
    return 0;
}

static lk_batch *open_batch(world *w, size_t max_in_flight)
{
    lk_batch_opts bo = {.max_in_flight = max_in_flight};
    lk_error e;
    assert_int_equal(lk_batch_new(lk_fake_nats_bus(w->nats), &bo, &w->batch, &e),
                     LK_OK);
    return w->batch;
}

/* Publishes "<i>" with msg id "m<i>". */
static lk_status send(world *w, int i, lk_error *err)
{
    char text[16], id[16];
    snprintf(text, sizeof text, "%d", i);
    snprintf(id, sizeof id, "m%d", i);
    const lk_publish_opts po = {.msg_id = id};
    return lk_batch_publish(w->batch, SUBJECT, text, strlen(text), &po, err);
}

/* ---- the happy path -------------------------------------------------------- */

static void test_messages_are_stored_at_publish_and_acknowledged_at_the_wait(
    void **state)
{
    world *w = *state;
    open_batch(w, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(send(w, i, NULL), LK_OK);
    /* Stored and recorded already, acknowledgements still in flight. */
    assert_int_equal(lk_fake_nats_published_count(w->nats), 3);
    assert_int_equal(lk_batch_published(w->batch), 3);
    assert_int_equal(lk_batch_acked(w->batch), 0);

    assert_int_equal(lk_batch_wait(w->batch, 0, NULL), LK_OK);
    assert_int_equal(lk_batch_acked(w->batch), 3);
    assert_int_equal(lk_batch_failure_count(w->batch), 0);
    assert_int_equal(lk_fake_nats_now(w->nats), 0); /* nothing waited */
    lk_fake_nats_run_until_idle(w->nats, 0);
    assert_int_equal(w->n, 3);
    for (int i = 0; i < 3; i++) {
        char want[16];
        snprintf(want, sizeof want, "%d", i);
        assert_string_equal(w->got[i], want); /* in publish order */
    }
}

static void test_acknowledgements_come_when_max_in_flight_is_reached(
    void **state)
{
    world *w = *state;
    open_batch(w, 2);
    assert_int_equal(send(w, 0, NULL), LK_OK);
    assert_int_equal(send(w, 1, NULL), LK_OK);
    assert_int_equal(lk_batch_acked(w->batch), 0);
    assert_int_equal(send(w, 2, NULL), LK_OK); /* needs room: two settle */
    assert_int_equal(lk_batch_acked(w->batch), 2);
    assert_int_equal(send(w, 3, NULL), LK_OK);
    assert_int_equal(send(w, 4, NULL), LK_OK);
    assert_int_equal(lk_batch_acked(w->batch), 4);
    assert_int_equal(lk_batch_wait(w->batch, 0, NULL), LK_OK);
    assert_int_equal(lk_batch_acked(w->batch), 5);
}

static void test_a_repeated_msg_id_is_acknowledged_and_stored_once(
    void **state)
{
    world *w = *state;
    open_batch(w, 0);
    assert_int_equal(send(w, 1, NULL), LK_OK);
    assert_int_equal(send(w, 1, NULL), LK_OK);
    assert_int_equal(lk_batch_wait(w->batch, 0, NULL), LK_OK);
    assert_int_equal(lk_batch_acked(w->batch), 2);
    assert_int_equal(lk_fake_nats_get_stats(w->nats).deduplicated, 1);
    lk_fake_nats_run_until_idle(w->nats, 0);
    assert_int_equal(w->n, 1);
}

/* ---- withheld acknowledgements --------------------------------------------------- */

static void test_withheld_acks_time_out_though_the_broker_stored_the_messages(
    void **state)
{
    world *w = *state;
    lk_error e;
    open_batch(w, 0);
    assert_int_equal(lk_fake_nats_withhold_publish_acks(w->nats, 2), LK_OK);
    assert_int_equal(lk_fake_nats_pending_withheld_acks(w->nats), 2);
    for (int i = 0; i < 4; i++)
        assert_int_equal(send(w, i, NULL), LK_OK);
    assert_int_equal(lk_fake_nats_pending_withheld_acks(w->nats), 0);

    assert_int_equal(lk_batch_wait(w->batch, 0, &e), LK_ERR_TIMEOUT);
    assert_non_null(strstr(e.message, "2 of 4"));
    /* The wait lasted its timeout, in virtual time. */
    assert_int_equal(lk_fake_nats_now(w->nats), LK_FAKE_NATS_PUBLISH_TIMEOUT_MS);
    assert_int_equal(lk_batch_acked(w->batch), 2);
    assert_int_equal(lk_batch_failure_count(w->batch), 2);
    for (size_t k = 0; k < 2; k++) {
        const lk_batch_failure *f = lk_batch_failure_at(w->batch, k);
        char id[32];
        snprintf(id, sizeof id, "m%zu", k);
        assert_int_equal(f->index, k);
        assert_int_equal(f->status, LK_ERR_TIMEOUT);
        assert_string_equal(f->msg_id, id);
        assert_non_null(strstr(f->message, "may still have stored it"));
        assert_non_null(strstr(f->message, SUBJECT));
    }
    /* It did store them: republishing with the same ids stores nothing. */
    assert_int_equal(send(w, 0, NULL), LK_OK);
    assert_int_equal(send(w, 1, NULL), LK_OK);
    assert_int_equal(lk_batch_wait(w->batch, 0, NULL), LK_ERR_TIMEOUT);
    assert_int_equal(lk_batch_acked(w->batch), 4); /* the old two stay */
    assert_int_equal(lk_fake_nats_get_stats(w->nats).deduplicated, 2);
    lk_fake_nats_run_until_idle(w->nats, 0);
    assert_int_equal(w->n, 4);
}

static void test_a_wait_with_its_own_timeout_lasts_that_long(void **state)
{
    world *w = *state;
    open_batch(w, 0);
    lk_fake_nats_withhold_publish_acks(w->nats, 1);
    assert_int_equal(send(w, 0, NULL), LK_OK);
    assert_int_equal(lk_batch_wait(w->batch, 250, NULL), LK_ERR_TIMEOUT);
    assert_int_equal(lk_fake_nats_now(w->nats), 250);
    assert_non_null(strstr(lk_batch_failure_at(w->batch, 0)->message,
                           "within 250 ms"));
}

static void test_max_in_flight_withheld_acks_stall_the_next_publish(
    void **state)
{
    world *w = *state;
    lk_error e;
    open_batch(w, 1);
    lk_fake_nats_withhold_publish_acks(w->nats, 1);
    assert_int_equal(send(w, 0, NULL), LK_OK);
    assert_int_equal(send(w, 1, &e), LK_ERR_TIMEOUT);
    assert_non_null(strstr(e.message, "nothing was sent"));
    assert_int_equal(lk_fake_nats_now(w->nats), LK_FAKE_NATS_PUBLISH_TIMEOUT_MS);
    assert_int_equal(lk_batch_published(w->batch), 1);
    assert_int_equal(lk_fake_nats_published_count(w->nats), 1);
}

static void test_a_withheld_ack_makes_a_plain_publish_time_out_after_storing(
    void **state)
{
    world *w = *state;
    lk_error e;
    lk_fake_nats_withhold_publish_acks(w->nats, 1);
    assert_int_equal(lk_bus_publish(lk_fake_nats_bus(w->nats), SUBJECT, "x", 1,
                                    NULL, &e),
                     LK_ERR_TIMEOUT);
    assert_non_null(strstr(e.message, "withheld"));
    assert_int_equal(lk_fake_nats_published_count(w->nats), 1);
    assert_int_equal(lk_bus_publish(lk_fake_nats_bus(w->nats), SUBJECT, "y", 1,
                                    NULL, NULL),
                     LK_OK); /* only the one */
    lk_fake_nats_run_until_idle(w->nats, 0);
    assert_int_equal(w->n, 2);
    assert_int_equal(lk_fake_nats_withhold_publish_acks(NULL, 1),
                     LK_ERR_INVALID);
}

/* ---- the connection and the error stack -------------------------------------------- */

static void test_a_drop_while_in_flight_fails_those_messages_with_io(
    void **state)
{
    world *w = *state;
    lk_error e;
    open_batch(w, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(send(w, i, NULL), LK_OK);
    lk_fake_nats_connection_down(w->nats);
    assert_int_equal(send(w, 3, &e), LK_ERR_IO); /* refused: nothing sent */
    assert_non_null(strstr(e.message, "nothing was sent"));
    lk_fake_nats_connection_up(w->nats); /* back before the wait */
    assert_int_equal(send(w, 4, NULL), LK_OK);

    assert_int_equal(lk_batch_wait(w->batch, 0, &e), LK_ERR_IO);
    assert_int_equal(lk_batch_published(w->batch), 4);
    assert_int_equal(lk_batch_acked(w->batch), 1); /* the one after */
    assert_int_equal(lk_batch_failure_count(w->batch), 3);
    for (size_t k = 0; k < 3; k++) {
        const lk_batch_failure *f = lk_batch_failure_at(w->batch, k);
        assert_int_equal(f->index, k);
        assert_int_equal(f->status, LK_ERR_IO);
        assert_non_null(strstr(f->message, "connection was lost"));
    }
    lk_fake_nats_run_until_idle(w->nats, 0);
    assert_int_equal(w->n, 4); /* the three were stored all the same */
}

static void test_the_error_stack_fails_single_messages_at_the_wait(
    void **state)
{
    world *w = *state;
    open_batch(w, 0);
    lk_fake_nats_push_errors(w->nats, LK_FAKE_OP_PUBLISH, 1, LK_OK, 0);
    lk_fake_nats_push_errors(w->nats, LK_FAKE_OP_PUBLISH, 1, LK_ERR_TIMEOUT, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(send(w, i, NULL), LK_OK);
    assert_int_equal(lk_fake_nats_published_count(w->nats), 2);
    assert_int_equal(lk_batch_wait(w->batch, 0, NULL), LK_ERR_TIMEOUT);
    assert_int_equal(lk_batch_failure_count(w->batch), 1);
    const lk_batch_failure *f = lk_batch_failure_at(w->batch, 0);
    assert_int_equal(f->index, 1);
    assert_string_equal(f->msg_id, "m1");
    assert_non_null(strstr(f->message, "injected"));
    lk_fake_nats_run_until_idle(w->nats, 0);
    assert_int_equal(w->n, 2); /* not stored */
}

static void test_batches_are_refused_where_the_adapter_refuses_them(
    void **state)
{
    world *w = *state;
    lk_batch *b = NULL;
    lk_error e;
    lk_bus *bus = lk_fake_nats_bus(w->nats);
    lk_batch_opts huge = {.max_in_flight = 70000};
    assert_int_equal(lk_batch_new(bus, &huge, &b, &e), LK_ERR_INVALID);
    assert_non_null(strstr(e.message, "max_in_flight"));
    lk_fake_nats_connection_down(w->nats);
    assert_int_equal(lk_batch_new(bus, NULL, &b, &e), LK_ERR_IO);
    lk_fake_nats_connection_up(w->nats);

    /* A connection of its own: an aborted one refuses. */
    lk_bus *conn = lk_fake_nats_connect(w->nats);
    assert_int_equal(lk_batch_new(conn, NULL, &b, NULL), LK_OK);
    assert_int_equal(lk_batch_publish(b, SUBJECT, "c", 1, NULL, NULL), LK_OK);
    lk_fake_nats_abort(w->nats, conn);
    assert_int_equal(lk_batch_publish(b, SUBJECT, "d", 1, NULL, &e),
                     LK_ERR_CLOSED);
    /* "c" was stored, its acknowledgement lost with the connection. */
    assert_int_equal(lk_batch_wait(b, 0, NULL), LK_ERR_IO);
    lk_batch_free(b);
    b = NULL;
    assert_int_equal(lk_batch_new(conn, NULL, &b, NULL), LK_ERR_CLOSED);

    open_batch(w, 0);
    assert_int_equal(lk_bus_drain(bus, NULL), LK_OK);
    assert_int_equal(send(w, 0, &e), LK_ERR_CLOSED);
    assert_int_equal(lk_batch_new(bus, NULL, &b, NULL), LK_ERR_CLOSED);
    assert_null(b);
}

static void test_a_batch_works_in_recording_mode_too(void **state)
{
    (void)state;
    lk_fake_nats *rec = lk_fake_nats_new();
    lk_batch *b = NULL;
    assert_int_equal(lk_batch_new(lk_fake_nats_bus(rec), NULL, &b, NULL), LK_OK);
    assert_int_equal(lk_batch_publish(b, SUBJECT, "{\"v\":1}", 7, NULL, NULL),
                     LK_OK);
    assert_int_equal(lk_batch_wait(b, 0, NULL), LK_OK);
    assert_int_equal(lk_batch_acked(b), 1);
    assert_int_equal(lk_fake_nats_published_count(rec), 1);
    lk_batch_free(b);
    lk_fake_nats_free(rec);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_messages_are_stored_at_publish_and_acknowledged_at_the_wait),
        T(test_acknowledgements_come_when_max_in_flight_is_reached),
        T(test_a_repeated_msg_id_is_acknowledged_and_stored_once),
        T(test_withheld_acks_time_out_though_the_broker_stored_the_messages),
        T(test_a_wait_with_its_own_timeout_lasts_that_long),
        T(test_max_in_flight_withheld_acks_stall_the_next_publish),
        T(test_a_withheld_ack_makes_a_plain_publish_time_out_after_storing),
        T(test_a_drop_while_in_flight_fails_those_messages_with_io),
        T(test_the_error_stack_fails_single_messages_at_the_wait),
        T(test_batches_are_refused_where_the_adapter_refuses_them),
        T(test_a_batch_works_in_recording_mode_too),
    };
#undef T
    return cmocka_run_group_tests_name("fake_nats_batch", tests, NULL, NULL);
}
