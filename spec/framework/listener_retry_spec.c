/* SPDX-License-Identifier: MIT */
/* listener_retry_spec.c — the retry policy every listener gets
 * (listenkit/retry.h), played on the fake broker: an event on_message
 * cannot process is nak'ed with growing delays, dead-lettered on its last
 * delivery with the reason, logged, and never stalls what comes after. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_msg.h"
#include "fake_nats.h"
#include "listenkit.h"
#include "spec_log.h"

#define SUBJECT "ticket:updated"
#define DEAD "lk.dead-letter.orders-service.ticket:updated"

static const lk_field fields[] = {
    {.name = "ok", .type = LK_FIELD_BOOLEAN, .required = true}, LK_FIELD_END};
static const lk_schema schema = {.subject = SUBJECT, .fields = fields};

typedef enum behaviour {
    RETRY_UNLESS_OK, /* ack {"ok":true}; LK_ERR_RETRY for {"ok":false} */
    NO_REPLY,        /* return LK_OK without a reply (a hung handler) */
    ACK_THEN_FAIL    /* ack, then return LK_ERR_IO */
} behaviour;

typedef struct world {
    lk_fake_nats *nats;
    lk_listener listener;
    lk_listener_def def;
    behaviour act;
    int calls, acked;
    int64_t times[16];
} world;

static lk_status on_message(lk_listener *l, const json_t *data, lk_msg *msg)
{
    world *w = l->ctx;
    if (w->calls < 16)
        w->times[w->calls] = lk_fake_nats_now(w->nats);
    w->calls++;
    switch (w->act) {
    case NO_REPLY:
        return LK_OK;
    case ACK_THEN_FAIL:
        lk_msg_ack(msg);
        return LK_ERR_IO;
    case RETRY_UNLESS_OK:
        break;
    }
    if (!json_is_true(json_object_get(data, "ok")))
        return LK_ERR_RETRY;
    w->acked++;
    return lk_msg_ack(msg);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    if (w == NULL)
        return -1;
    w->nats = lk_fake_nats_new_broker(NULL);
    w->def = (lk_listener_def){.schema = &schema,
                               .queue_group = "orders-service",
                               .on_message = on_message};
    spec_log_capture_start();
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    spec_log_capture_stop();
    lk_fake_nats_free(w->nats);
    free(w);
    return 0;
}

static void listen(world *w)
{
    lk_error err;
    if (lk_listener_init(&w->listener, &w->def, lk_fake_nats_bus(w->nats), w,
                         &err) != LK_OK ||
        lk_listener_listen(&w->listener, &err) != LK_OK)
        fail_msg("listen: %s", err.message);
}

static void publish(world *w, const char *text)
{
    lk_error err;
    if (lk_bus_publish(lk_fake_nats_bus(w->nats), SUBJECT, text, strlen(text),
                       NULL, &err) != LK_OK)
        fail_msg("publish: %s", err.message);
}

/* The dead letters published so far, decoded into `out` (up to `max`). */
static size_t dead_letters(world *w, lk_dead_letter *out, size_t max)
{
    size_t n = 0;
    for (long i = lk_fake_nats_find_published(w->nats, DEAD, 0);
         i >= 0 && n < max;
         i = lk_fake_nats_find_published(w->nats, DEAD, (size_t)i + 1)) {
        size_t len = 0;
        const char *data =
            lk_fake_nats_published_data(w->nats, (size_t)i, &len);
        assert_int_equal(lk_dead_letter_decode(data, len, &out[n], NULL),
                         LK_OK);
        n++;
    }
    return n;
}

static void test_an_unprocessable_event_is_retried_with_growing_delays_then_dead_lettered(
    void **state)
{
    world *w = *state;
    listen(w);
    publish(w, "{\"ok\": false}");
    lk_fake_nats_run_until_idle(w->nats, 100);

    assert_int_equal(w->calls, LK_RETRY_DEFAULT_MAX_DELIVER);
    const int64_t gaps[] = {1000, 2000, 4000, 8000, 16000};
    for (int i = 1; i < LK_RETRY_DEFAULT_MAX_DELIVER; i++)
        assert_int_equal(w->times[i] - w->times[i - 1], gaps[i - 1]);
    lk_dead_letter dl[2];
    assert_int_equal(dead_letters(w, dl, 2), 1);
    assert_string_equal(dl[0].subject, SUBJECT);
    assert_string_equal(dl[0].data, "{\"ok\": false}");
    assert_int_equal(dl[0].stream_seq, 1);
    assert_int_equal(dl[0].deliveries, LK_RETRY_DEFAULT_MAX_DELIVER);
    assert_string_equal(dl[0].queue_group, "orders-service");
    assert_non_null(strstr(dl[0].reason, "ERR_RETRY"));
    lk_dead_letter_clear(&dl[0]);
    /* the event itself was termed: nothing is pending */
    lk_fake_nats_stats st = lk_fake_nats_get_stats(w->nats);
    assert_int_equal(st.termed, 1);
    assert_int_equal(st.naked, LK_RETRY_DEFAULT_MAX_DELIVER - 1);
    assert_int_equal(st.pending, 0);
    assert_true(spec_log_contains(
        "listener orders-service: dead-lettered ticket:updated seq 1 "
        "(delivery 6 of 6) to " DEAD ": on_message returned ERR_RETRY"));
}

static void test_retries_log_at_debug_first_then_at_warn(void **state)
{
    world *w = *state;
    lk_log_set_level(LK_LOG_WARN);
    listen(w);
    publish(w, "{\"ok\": false}");
    lk_fake_nats_run_until_idle(w->nats, 100);
    /* deliveries 4 and 5 warn; the dead letter warns; 1..3 stay quiet */
    assert_int_equal(spec_log_line_count(), 3);
    assert_true(spec_log_contains("(delivery 4 of 6) not processed"));
    assert_true(spec_log_contains("(delivery 5 of 6) not processed"));
    assert_false(spec_log_contains("(delivery 3 of 6)"));
    assert_true(spec_log_contains("dead-lettered"));
}

static void test_ten_thousand_poison_events_all_leave_and_valid_ones_still_flow(
    void **state)
{
    enum { POISON = 10000 };
    world *w = *state;
    lk_log_set_level(LK_LOG_ERROR);
    listen(w);
    for (int i = 0; i < POISON; i++)
        publish(w, "{\"ok\": false}");
    publish(w, "{\"ok\": true}");
    lk_fake_nats_run_until_idle(w->nats, 0);

    lk_fake_nats_stats st = lk_fake_nats_get_stats(w->nats);
    assert_int_equal(w->acked, 1);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.termed, POISON);
    assert_int_equal(lk_fake_nats_published_count_on(w->nats, DEAD), POISON);
    /* within the bound: six calls per poison event, one for the valid one */
    assert_int_equal(w->calls, POISON * LK_RETRY_DEFAULT_MAX_DELIVER + 1);
    assert_int_equal(lk_fake_nats_dead_letter_count(w->nats), POISON);
}

static void test_a_delivery_past_max_deliver_is_dead_lettered_without_a_call(
    void **state)
{
    world *w = *state;
    w->act = NO_REPLY; /* hangs: the ack wait runs out every time */
    listen(w);
    publish(w, "{\"ok\": false}");
    lk_fake_nats_run_until_idle(w->nats, 100);
    assert_int_equal(w->calls, LK_RETRY_DEFAULT_MAX_DELIVER);
    lk_dead_letter dl[1];
    assert_int_equal(dead_letters(w, dl, 1), 1);
    assert_int_equal(dl[0].deliveries, LK_RETRY_DEFAULT_MAX_DELIVER + 1);
    assert_non_null(strstr(dl[0].reason, "past max deliver 6"));
    lk_dead_letter_clear(&dl[0]);
    assert_int_equal(lk_fake_nats_get_stats(w->nats).pending, 0);
}

static void test_a_failed_dead_letter_is_naked_and_tried_again(void **state)
{
    world *w = *state;
    w->def.max_deliver = 2;
    w->def.retry_delay_ms = 10;
    w->def.retry_max_delay_ms = 50;
    listen(w);
    publish(w, "{\"ok\": false}");
    lk_fake_nats_step(w->nats); /* delivery 1: nak(10) */
    lk_fake_nats_push_errors(w->nats, LK_FAKE_OP_PUBLISH, 1, LK_ERR_IO, 0);
    lk_fake_nats_run_until_idle(w->nats, 100);
    assert_int_equal(w->calls, 2); /* on_message only within max deliver */
    assert_true(spec_log_contains("dead letter failed"));
    assert_true(spec_log_contains("left for redelivery"));
    assert_int_equal(lk_fake_nats_published_count_on(w->nats, DEAD), 1);
    assert_int_equal(lk_fake_nats_get_stats(w->nats).pending, 0);
}

static void test_a_failed_nak_leaves_the_message_for_the_ack_wait(void **state)
{
    world *w = *state;
    listen(w);
    lk_fake_nats_push_errors(w->nats, LK_FAKE_OP_NAK, 1, LK_ERR_IO, 0);
    publish(w, "{\"ok\": false}");
    lk_fake_nats_run_until_idle(w->nats, 2);
    assert_true(spec_log_contains("nak failed (ERR_IO): redelivery after the "
                                  "ack wait"));
    assert_int_equal(w->times[1] - w->times[0], LK_DEFAULT_ACK_WAIT_MS);
}

static void test_a_dead_letter_whose_term_failed_is_stored_once(void **state)
{
    world *w = *state;
    w->def.max_deliver = 1;
    listen(w);
    lk_fake_nats_push_errors(w->nats, LK_FAKE_OP_TERM, 1, LK_ERR_IO, 0);
    publish(w, "{\"ok\": false}");
    lk_fake_nats_run_until_idle(w->nats, 100);
    assert_true(spec_log_contains("; term failed: "));
    /* the spare delivery dead-letters it again (two publishes recorded);
     * the msg_id makes the stream keep one */
    assert_int_equal(lk_fake_nats_published_count_on(w->nats, DEAD), 2);
    assert_int_equal(lk_fake_nats_get_stats(w->nats).deduplicated, 1);
    assert_int_equal(lk_fake_nats_get_stats(w->nats).termed, 1);
    assert_int_equal(w->calls, 1);
}

static void test_custom_delays_and_dead_letter_subject_are_used(void **state)
{
    world *w = *state;
    w->def.max_deliver = 3;
    w->def.retry_delay_ms = 100;
    w->def.retry_max_delay_ms = 150;
    w->def.dead_letter_subject = "poison.orders";
    listen(w);
    publish(w, "{\"ok\": false}");
    lk_fake_nats_run_until_idle(w->nats, 100);
    assert_int_equal(w->calls, 3);
    assert_int_equal(w->times[1] - w->times[0], 100);
    assert_int_equal(w->times[2] - w->times[1], 150);
    assert_int_equal(lk_fake_nats_published_count_on(w->nats, "poison.orders"),
                     1);
    assert_int_equal(lk_fake_nats_subscription(w->nats, 0)->max_deliver,
                     3 + LK_RETRY_SPARE_DELIVERIES);
}

static void test_an_error_after_a_reply_is_logged_not_retried(void **state)
{
    world *w = *state;
    w->act = ACK_THEN_FAIL;
    listen(w);
    publish(w, "{\"ok\": true}");
    lk_fake_nats_run_until_idle(w->nats, 100);
    assert_int_equal(w->calls, 1);
    assert_int_equal(lk_fake_nats_get_stats(w->nats).acked, 1);
    assert_int_equal(lk_fake_nats_get_stats(w->nats).naked, 0);
    assert_true(spec_log_contains("on_message replied, then returned ERR_IO"));
}

static void test_a_replayed_dead_letter_is_processed_as_a_new_event(
    void **state)
{
    world *w = *state;
    listen(w);
    publish(w, "{\"ok\": false}");
    lk_fake_nats_run_until_idle(w->nats, 100);
    long i = lk_fake_nats_find_published(w->nats, DEAD, 0);
    assert_true(i >= 0);
    /* "the cause is fixed": replay an envelope whose event now passes */
    lk_msg *fixed = lk_fake_msg_new(SUBJECT, "{\"ok\": true}");
    char *env = NULL;
    size_t len = 0;
    assert_int_equal(lk_dead_letter_encode(fixed, "orders-service", "fixed",
                                           &env, &len, NULL),
                     LK_OK);
    assert_int_equal(lk_dead_letter_replay(lk_fake_nats_bus(w->nats), env, len,
                                           NULL),
                     LK_OK);
    lk_free(env);
    lk_msg_free(fixed);
    lk_fake_nats_run_until_idle(w->nats, 100);
    assert_int_equal(w->acked, 1);
    assert_int_equal(lk_fake_nats_get_stats(w->nats).pending, 0);
}

static void test_dead_letter_without_a_client_naks_and_says_so(void **state)
{
    world *w = *state;
    lk_error reason;
    assert_int_equal(lk_listener_init(&w->listener, &w->def, NULL, w, NULL),
                     LK_OK);
    lk_msg *msg = lk_fake_msg_new(SUBJECT, "{\"ok\": false}");
    lk_fake_msg_set_delivery_count(msg, LK_RETRY_DEFAULT_MAX_DELIVER);
    lk_error_set(&reason, LK_ERR_RETRY, "hopeless");
    assert_int_equal(lk_listener_dead_letter(&w->listener, msg, &reason),
                     LK_ERR_INVALID);
    assert_int_equal(lk_fake_msg_term_count(msg), 0);
    assert_int_equal(lk_fake_msg_nak_count(msg), 1);
    assert_true(spec_log_contains("no client to publish the dead letter"));
    assert_int_equal(lk_listener_dead_letter(&w->listener, NULL, &reason),
                     LK_ERR_INVALID);
    assert_int_equal(lk_listener_retry(NULL, msg, LK_ERR_RETRY),
                     LK_ERR_INVALID);
    lk_msg_free(msg);
}

static void test_init_refuses_a_retry_policy_that_cannot_work(void **state)
{
    world *w = *state;
    const struct {
        int64_t delay, cap;
        const char *dead, *named;
    } cases[] = {
        {-1, 0, NULL, "retry_delay_ms"},
        {0, -5, NULL, "retry_max_delay_ms"},
        {500, 100, NULL, "below retry_delay_ms"},
        {0, 0, "bad subject", "dead_letter_subject"},
        {0, 0, SUBJECT, "other than the listener's"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lk_listener_def d = w->def;
        lk_error err;
        d.retry_delay_ms = cases[i].delay;
        d.retry_max_delay_ms = cases[i].cap;
        d.dead_letter_subject = cases[i].dead;
        lk_status s = lk_listener_init(&w->listener, &d, NULL, NULL, &err);
        if (s != LK_ERR_INVALID || strstr(err.message, cases[i].named) == NULL)
            fail_msg("case %zu: %s: %s", i, lk_status_name(s), err.message);
    }
    lk_listener_def big = w->def;
    lk_error err;
    big.max_deliver = INT32_MAX;
    assert_int_equal(lk_listener_init(&w->listener, &big, NULL, NULL, &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "spare deliveries"));
    assert_int_equal(lk_listener_max_deliver(NULL),
                     LK_RETRY_DEFAULT_MAX_DELIVER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_an_unprocessable_event_is_retried_with_growing_delays_then_dead_lettered),
        T(test_retries_log_at_debug_first_then_at_warn),
        T(test_ten_thousand_poison_events_all_leave_and_valid_ones_still_flow),
        T(test_a_delivery_past_max_deliver_is_dead_lettered_without_a_call),
        T(test_a_failed_dead_letter_is_naked_and_tried_again),
        T(test_a_failed_nak_leaves_the_message_for_the_ack_wait),
        T(test_a_dead_letter_whose_term_failed_is_stored_once),
        T(test_custom_delays_and_dead_letter_subject_are_used),
        T(test_an_error_after_a_reply_is_logged_not_retried),
        T(test_a_replayed_dead_letter_is_processed_as_a_new_event),
        T(test_dead_letter_without_a_client_naks_and_says_so),
        T(test_init_refuses_a_retry_policy_that_cannot_work),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
