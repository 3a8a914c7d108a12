/* SPDX-License-Identifier: MIT */
/*
 * fake_nats_faults_spec.c — the faults a spec can script on the fake
 * broker: per-operation error stacks with a virtual delay, the connection
 * going down and up, crashed connections, and the request log.
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

#define SUBJECT "ticket:updated"
#define ACK_WAIT 1000

/* ---- a handler that records and replies as told ------------------------------ */

typedef enum action { DO_ACK, DO_NOTHING, DO_NAK, DO_TERM, DO_GO_DOWN } action;

typedef struct probe {
    action act;
    int calls;
    uint64_t counts[16];
    int64_t times[16];
    lk_status replied; /* what the last reply returned */
    lk_fake_nats *nats;
} probe;

static void probe_handler(lk_msg *msg, void *closure)
{
    probe *p = closure;
    if (p->calls < 16) {
        p->counts[p->calls] = msg->delivery_count;
        p->times[p->calls] = lk_fake_nats_now(p->nats);
    }
    p->calls++;
    switch (p->act) {
    case DO_ACK: p->replied = lk_msg_ack(msg); break;
    case DO_NOTHING: break;
    case DO_NAK: p->replied = lk_msg_nak(msg, 0); break;
    case DO_TERM: p->replied = lk_msg_term(msg); break;
    case DO_GO_DOWN:
        lk_fake_nats_connection_down(p->nats);
        p->replied = lk_msg_ack(msg);
        p->act = DO_ACK;
        break;
    }
}

typedef struct world {
    lk_fake_nats *nats;
    probe p, q;
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    if (w == NULL)
        return -1;
    w->nats = lk_fake_nats_new_broker(NULL);
    w->p.nats = w->q.nats = w->nats;
    *state = w;
    return w->nats != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    world *w = *state;
    lk_fake_nats_free(w->nats);
    free(w);
    return 0;
}

static const lk_subscribe_opts group = {.queue_group = "orders-service",
                                        .ack_wait_ms = ACK_WAIT};

static void subscribe_on(lk_bus *bus, probe *p)
{
    lk_error err;
    if (lk_bus_subscribe(bus, SUBJECT, &group, probe_handler, p, &err) != LK_OK)
        fail_msg("subscribe: %s", err.message);
}

static lk_status publish_on(lk_bus *bus, const char *text, lk_error *err)
{
    return lk_bus_publish(bus, SUBJECT, text, strlen(text), NULL, err);
}

/* ---- error stacks ------------------------------------------------------------- */

static void test_the_next_n_publishes_fail_after_the_delay_and_store_nothing(
    void **state)
{
    world *w = *state;
    lk_bus *bus = lk_fake_nats_bus(w->nats);
    lk_error err;
    assert_int_equal(lk_fake_nats_push_errors(w->nats, LK_FAKE_OP_PUBLISH, 2,
                                              LK_ERR_TIMEOUT, 5000),
                     LK_OK);
    assert_int_equal(lk_fake_nats_pending_errors(w->nats, LK_FAKE_OP_PUBLISH),
                     2);
    subscribe_on(bus, &w->p);
    assert_int_equal(publish_on(bus, "{}", &err), LK_ERR_TIMEOUT);
    assert_non_null(strstr(err.message, SUBJECT));
    assert_int_equal(lk_fake_nats_now(w->nats), 5000); /* the call blocked */
    assert_int_equal(publish_on(bus, "{}", &err), LK_ERR_TIMEOUT);
    assert_int_equal(lk_fake_nats_now(w->nats), 10000);
    assert_int_equal(lk_fake_nats_published_count(w->nats), 0);
    assert_int_equal(lk_fake_nats_get_stats(w->nats).published, 0);
    assert_int_equal(w->p.calls, 0); /* nothing delivered while blocked */
    assert_int_equal(publish_on(bus, "{}", &err), LK_OK);
    assert_int_equal(lk_fake_nats_run_until_idle(w->nats, 0), 1);
    assert_int_equal(w->p.calls, 1);
    assert_int_equal(lk_fake_nats_pending_errors(w->nats, LK_FAKE_OP_PUBLISH),
                     0);
}

static void test_a_failed_ack_changes_nothing_so_the_message_comes_again(
    void **state)
{
    world *w = *state;
    lk_bus *bus = lk_fake_nats_bus(w->nats);
    lk_fake_nats_push_errors(w->nats, LK_FAKE_OP_ACK, 1, LK_ERR_IO, 0);
    subscribe_on(bus, &w->p);
    assert_int_equal(publish_on(bus, "{}", NULL), LK_OK);
    assert_true(lk_fake_nats_step(w->nats));
    assert_int_equal(w->p.replied, LK_ERR_IO);
    assert_int_equal(lk_fake_nats_get_stats(w->nats).acked, 0);
    lk_fake_nats_run_until_idle(w->nats, 0);
    assert_int_equal(w->p.calls, 2);
    assert_int_equal(w->p.counts[1], 2);
    assert_int_equal(w->p.times[1], ACK_WAIT); /* after the ack wait */
    assert_int_equal(w->p.replied, LK_OK);
    assert_int_equal(lk_fake_nats_get_stats(w->nats).acked, 1);
}

static void test_failed_naks_and_terms_change_nothing_either(void **state)
{
    world *w = *state;
    lk_bus *bus = lk_fake_nats_bus(w->nats);
    lk_fake_nats_push_errors(w->nats, LK_FAKE_OP_TERM, 1, LK_ERR_CLOSED, 0);
    lk_fake_nats_push_errors(w->nats, LK_FAKE_OP_NAK, 1, LK_ERR_TIMEOUT, 0);
    w->p.act = DO_TERM;
    subscribe_on(bus, &w->p);
    publish_on(bus, "{}", NULL);
    assert_true(lk_fake_nats_step(w->nats));
    assert_int_equal(w->p.replied, LK_ERR_CLOSED);
    lk_fake_nats_advance(w->nats, ACK_WAIT); /* not termed: comes again */
    assert_int_equal(w->p.calls, 2);
    assert_int_equal(lk_fake_nats_dead_letter_count(w->nats), 1);
    assert_int_equal(lk_fake_nats_get_stats(w->nats).termed, 1);

    w->p.act = DO_NAK;
    publish_on(bus, "{}", NULL);
    assert_true(lk_fake_nats_step(w->nats));
    assert_int_equal(w->p.replied, LK_ERR_TIMEOUT);
    assert_int_equal(lk_fake_nats_get_stats(w->nats).naked, 0);
    assert_false(lk_fake_nats_step(w->nats)); /* not naked: not due at once */
}

static void test_a_delay_alone_makes_a_slow_ack_that_comes_too_late(
    void **state)
{
    world *w = *state;
    lk_bus *bus = lk_fake_nats_bus(w->nats);
    lk_fake_nats_push_errors(w->nats, LK_FAKE_OP_ACK, 1, LK_OK, ACK_WAIT + 1);
    subscribe_on(bus, &w->p);
    publish_on(bus, "{}", NULL);
    assert_true(lk_fake_nats_step(w->nats));
    assert_int_equal(w->p.replied, LK_OK);
    assert_int_equal(lk_fake_nats_get_stats(w->nats).acked, 0); /* late */
    lk_fake_nats_run_until_idle(w->nats, 0);
    assert_int_equal(w->p.calls, 2);
    assert_int_equal(lk_fake_nats_get_stats(w->nats).acked, 1);
}

static void test_error_stacks_refuse_what_they_cannot_take(void **state)
{
    world *w = *state;
    assert_int_equal(lk_fake_nats_push_errors(w->nats, LK_FAKE_OP_DELIVER, 1,
                                              LK_ERR_IO, 0),
                     LK_ERR_INVALID);
    assert_int_equal(lk_fake_nats_push_errors(w->nats, LK_FAKE_OP_ACK, 1,
                                              LK_ERR_IO, -1),
                     LK_ERR_INVALID);
    assert_int_equal(lk_fake_nats_push_errors(NULL, LK_FAKE_OP_ACK, 1,
                                              LK_ERR_IO, 0),
                     LK_ERR_INVALID);
    /* taken entries make room for new ones; the order is kept */
    lk_bus *bus = lk_fake_nats_bus(w->nats);
    lk_fake_nats_push_errors(w->nats, LK_FAKE_OP_PUBLISH, 2, LK_ERR_IO, 0);
    assert_int_equal(publish_on(bus, "{}", NULL), LK_ERR_IO);
    lk_fake_nats_push_errors(w->nats, LK_FAKE_OP_PUBLISH, 1, LK_ERR_TIMEOUT,
                             INT64_MAX);
    assert_int_equal(lk_fake_nats_pending_errors(w->nats, LK_FAKE_OP_PUBLISH),
                     2);
    assert_int_equal(publish_on(bus, "{}", NULL), LK_ERR_IO);
    assert_int_equal(publish_on(bus, "{}", NULL), LK_ERR_TIMEOUT);
    assert_int_equal(lk_fake_nats_now(w->nats), INT64_MAX); /* clamped */
    lk_fake_nats_push_errors(w->nats, LK_FAKE_OP_NAK, 3, LK_ERR_IO, 0);
    lk_fake_nats_clear_errors(w->nats, LK_FAKE_OP_NAK);
    assert_int_equal(lk_fake_nats_pending_errors(w->nats, LK_FAKE_OP_NAK), 0);
    assert_int_equal(lk_fake_nats_pending_errors(w->nats, LK_FAKE_OP_DRAIN), 0);
    assert_string_equal(lk_fake_op_name(LK_FAKE_OP_IN_PROGRESS), "in_progress");
    assert_string_equal(lk_fake_op_name(LK_FAKE_OP_COUNT), "?");
}

/* ---- connection down and up ----------------------------------------------------- */

static void test_while_down_calls_fail_with_io_and_nothing_is_delivered(
    void **state)
{
    world *w = *state;
    lk_bus *bus = lk_fake_nats_bus(w->nats);
    lk_error err;
    subscribe_on(bus, &w->p);
    publish_on(bus, "before", NULL);
    lk_fake_nats_connection_down(w->nats);
    assert_false(lk_fake_nats_is_connected(w->nats));
    assert_int_equal(publish_on(bus, "during", &err), LK_ERR_IO);
    assert_non_null(strstr(err.message, "not connected"));
    assert_int_equal(lk_bus_subscribe(bus, SUBJECT, &group, probe_handler,
                                      &w->q, &err),
                     LK_ERR_IO);
    assert_false(lk_fake_nats_step(w->nats));
    assert_int_equal(lk_fake_nats_advance(w->nats, 10 * ACK_WAIT), 0);
    assert_int_equal(lk_fake_nats_run_until_idle(w->nats, 0), 0);
    assert_int_equal(w->p.calls, 0);

    lk_fake_nats_connection_up(w->nats);
    assert_true(lk_fake_nats_is_connected(w->nats));
    assert_int_equal(lk_fake_nats_run_until_idle(w->nats, 0), 1);
    assert_int_equal(w->p.counts[0], 1); /* each message once */
    assert_int_equal(lk_fake_nats_published_count(w->nats), 1);
}

static void test_an_ack_sent_while_down_is_lost_and_the_message_comes_again(
    void **state)
{
    world *w = *state;
    lk_bus *bus = lk_fake_nats_bus(w->nats);
    w->p.act = DO_GO_DOWN;
    subscribe_on(bus, &w->p);
    publish_on(bus, "{}", NULL);
    assert_true(lk_fake_nats_step(w->nats));
    assert_int_equal(w->p.replied, LK_ERR_IO);
    lk_fake_nats_advance(w->nats, 3 * ACK_WAIT);
    assert_int_equal(w->p.calls, 1);
    lk_fake_nats_connection_up(w->nats);
    lk_fake_nats_run_until_idle(w->nats, 0);
    assert_int_equal(w->p.calls, 2);
    assert_int_equal(w->p.counts[1], 2);
    assert_int_equal(lk_fake_nats_get_stats(w->nats).acked, 1);
}

/* ---- connections and crashes ------------------------------------------------------- */

static void test_a_crashed_connection_leaves_its_durable_messages_waiting(
    void **state)
{
    world *w = *state;
    lk_bus *conn = lk_fake_nats_connect(w->nats);
    lk_error err;
    assert_non_null(conn);
    w->p.act = DO_NOTHING;
    subscribe_on(conn, &w->p);
    assert_int_equal(publish_on(conn, "held", NULL), LK_OK);
    assert_true(lk_fake_nats_step(w->nats));
    assert_int_equal(lk_fake_nats_abort(w->nats, conn), 1);
    assert_int_equal(lk_fake_nats_abort(w->nats, conn), 0); /* safe twice */
    assert_int_equal(publish_on(conn, "x", &err), LK_ERR_CLOSED);
    assert_int_equal(lk_bus_subscribe(conn, SUBJECT, &group, probe_handler,
                                      &w->p, &err),
                     LK_ERR_CLOSED);
    /* no member left: the durable keeps the message */
    assert_int_equal(lk_fake_nats_run_until_idle(w->nats, 0), 0);
    assert_int_equal(lk_fake_nats_get_stats(w->nats).pending, 1);
    subscribe_on(lk_fake_nats_bus(w->nats), &w->q);
    lk_fake_nats_run_until_idle(w->nats, 0);
    assert_int_equal(w->p.calls, 1);
    assert_int_equal(w->q.calls, 1);
    assert_int_equal(w->q.counts[0], 2);
    assert_true(w->q.times[0] >= ACK_WAIT);
    lk_bus_free(conn); /* a closed connection: harmless */
}

static void test_aborting_the_fakes_own_bus_keeps_serving_other_connections(
    void **state)
{
    world *w = *state;
    lk_bus *bus = lk_fake_nats_bus(w->nats);
    lk_bus *conn = lk_fake_nats_connect(w->nats);
    lk_fake_nats *other = lk_fake_nats_new_broker(NULL);
    subscribe_on(bus, &w->p);
    subscribe_on(conn, &w->q);
    assert_int_equal(lk_fake_nats_abort(other, bus), 0); /* not its bus */
    assert_int_equal(lk_fake_nats_abort(other, conn), 0);
    lk_fake_nats_free(other);
    assert_int_equal(lk_fake_nats_abort(w->nats, bus), 1);
    assert_int_equal(publish_on(bus, "x", NULL), LK_ERR_CLOSED);
    assert_int_equal(publish_on(conn, "one", NULL), LK_OK);
    lk_fake_nats_run_until_idle(w->nats, 0);
    assert_int_equal(w->p.calls, 0);
    assert_int_equal(w->q.calls, 1);
}

static void test_freeing_a_connection_drains_it(void **state)
{
    world *w = *state;
    lk_bus *conn = lk_fake_nats_connect(w->nats);
    subscribe_on(conn, &w->p);
    subscribe_on(lk_fake_nats_bus(w->nats), &w->q);
    lk_bus_free(conn);
    for (int i = 0; i < 4; i++)
        publish_on(lk_fake_nats_bus(w->nats), "{}", NULL);
    lk_fake_nats_run_until_idle(w->nats, 0);
    assert_int_equal(w->p.calls, 0);
    assert_int_equal(w->q.calls, 4);
    assert_null(lk_fake_nats_connect(NULL));
    lk_fake_nats *recorder = lk_fake_nats_new();
    assert_null(lk_fake_nats_connect(recorder)); /* no broker to share */
    lk_fake_nats_free(recorder);
}

/* ---- the request log ------------------------------------------------------------------ */

static void test_the_request_log_has_every_operation_with_its_virtual_time(
    void **state)
{
    world *w = *state;
    lk_bus *bus = lk_fake_nats_bus(w->nats);
    lk_fake_nats_log_requests(w->nats, true);
    lk_fake_nats_push_errors(w->nats, LK_FAKE_OP_PUBLISH, 1, LK_ERR_IO, 250);
    w->p.act = DO_NOTHING;
    subscribe_on(bus, &w->p);
    publish_on(bus, "lost", NULL);
    publish_on(bus, "kept", NULL);
    lk_fake_nats_advance(w->nats, ACK_WAIT + 250);
    lk_fake_nats_log_requests(w->nats, false);
    publish_on(bus, "not logged", NULL);
    lk_bus_drain(bus, NULL);

    const struct {
        lk_fake_op op;
        int64_t at;
        uint64_t seq, count;
        lk_status status;
    } want[] = {
        {LK_FAKE_OP_SUBSCRIBE, 0, 0, 0, LK_OK},
        {LK_FAKE_OP_PUBLISH, 250, 0, 0, LK_ERR_IO},
        {LK_FAKE_OP_PUBLISH, 250, 1, 0, LK_OK},
        {LK_FAKE_OP_DELIVER, 250, 1, 1, LK_OK},
        {LK_FAKE_OP_DELIVER, 250 + ACK_WAIT, 1, 2, LK_OK},
    };
    size_t n = sizeof want / sizeof want[0];
    assert_int_equal(lk_fake_nats_request_count(w->nats), n);
    for (size_t i = 0; i < n; i++) {
        const lk_fake_request *r = lk_fake_nats_request(w->nats, i);
        if (r->op != want[i].op || r->at_ms != want[i].at ||
            r->stream_seq != want[i].seq || r->delivery_count != want[i].count ||
            r->status != want[i].status)
            fail_msg("request %zu: %s at %lld seq %llu count %llu %s", i,
                     lk_fake_op_name(r->op), (long long)r->at_ms,
                     (unsigned long long)r->stream_seq,
                     (unsigned long long)r->delivery_count,
                     lk_status_name(r->status));
        assert_string_equal(r->subject, SUBJECT);
    }
    assert_string_equal(lk_fake_nats_request(w->nats, 0)->consumer,
                        "orders-service");
    assert_null(lk_fake_nats_request(w->nats, n));
}

static void test_replies_and_drain_are_logged_with_what_they_returned(
    void **state)
{
    world *w = *state;
    lk_bus *bus = lk_fake_nats_bus(w->nats);
    lk_fake_nats_log_requests(w->nats, true);
    lk_fake_nats_push_errors(w->nats, LK_FAKE_OP_ACK, 1, LK_ERR_IO, 0);
    subscribe_on(bus, &w->p);
    publish_on(bus, "{}", NULL);
    lk_fake_nats_run_until_idle(w->nats, 0);
    lk_bus_drain(bus, NULL);
    size_t n = lk_fake_nats_request_count(w->nats);
    /* subscribe, publish, deliver, ack (failed), deliver, ack, drain */
    assert_int_equal(n, 7);
    const lk_fake_request *failed = lk_fake_nats_request(w->nats, 3);
    assert_int_equal(failed->op, LK_FAKE_OP_ACK);
    assert_int_equal(failed->status, LK_ERR_IO);
    assert_string_equal(failed->consumer, "orders-service");
    assert_int_equal(lk_fake_nats_request(w->nats, 5)->status, LK_OK);
    assert_int_equal(lk_fake_nats_request(w->nats, 5)->at_ms, ACK_WAIT);
    assert_int_equal(lk_fake_nats_request(w->nats, 6)->op, LK_FAKE_OP_DRAIN);
    assert_null(lk_fake_nats_request(w->nats, 6)->subject);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_the_next_n_publishes_fail_after_the_delay_and_store_nothing),
        T(test_a_failed_ack_changes_nothing_so_the_message_comes_again),
        T(test_failed_naks_and_terms_change_nothing_either),
        T(test_a_delay_alone_makes_a_slow_ack_that_comes_too_late),
        T(test_error_stacks_refuse_what_they_cannot_take),
        T(test_while_down_calls_fail_with_io_and_nothing_is_delivered),
        T(test_an_ack_sent_while_down_is_lost_and_the_message_comes_again),
        T(test_a_crashed_connection_leaves_its_durable_messages_waiting),
        T(test_aborting_the_fakes_own_bus_keeps_serving_other_connections),
        T(test_freeing_a_connection_drains_it),
        T(test_the_request_log_has_every_operation_with_its_virtual_time),
        T(test_replies_and_drain_are_logged_with_what_they_returned),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
