/* SPDX-License-Identifier: MIT */
/*
 * nats_join_spec.c — how a member joins its durable consumer: a server that
 * cannot answer for a moment (a cluster electing, the create race) is asked
 * again a bounded number of times and the last error then says so; members
 * on one bus ask the server once, not each; members on several buses
 * creating the same durable at the same moment all join. The retry rule
 * itself on a counted stub, the rest on a spawned nats-server -js (spawned,
 * not LK_NATS_URL: one test stops it for a moment).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>

#include <cmocka.h>
#include <nats/nats.h>

#include "../../framework/nats/nats_private.h"
#include "listenkit.h"
#include "listenkit/nats.h"
#include "nats_server.h"

static spec_nats_server server;

/* ---- the retry rule ----------------------------------------------------------- */

typedef struct stub {
    int calls;
    int fail_first; /* transient failures before success; -1: forever */
    bool final;     /* fail for good on the first call */
} stub;

static lk_status stub_attempt(void *ctx, bool *again, lk_error *err)
{
    stub *s = ctx;
    s->calls++;
    if (s->final)
        return lk_error_set(err, LK_ERR_INVALID, "consumer c: other settings");
    if (s->fail_first < 0 || s->calls <= s->fail_first) {
        *again = true;
        return lk_error_set(err, LK_ERR_TIMEOUT,
                            "consumer c: timeout (try %d)", s->calls);
    }
    return LK_OK;
}

static void test_a_join_that_keeps_timing_out_gives_up_after_the_bound(
    void **state)
{
    (void)state;
    stub s = {.fail_first = -1};
    lk_error err = {0};
    lk_status st = lk_nats_retry(4, 1, 2, stub_attempt, &s, &err);
    assert_int_equal(st, LK_ERR_TIMEOUT);
    assert_int_equal(s.calls, 4);
    assert_string_equal(err.message,
                        "consumer c: timeout (try 4) (gave up after 4 "
                        "attempts)");
    assert_int_equal(err.status, LK_ERR_TIMEOUT);
}

static void test_a_join_that_times_out_twice_then_answers_succeeds(
    void **state)
{
    (void)state;
    stub s = {.fail_first = 2};
    lk_error err = {0};
    assert_int_equal(lk_nats_retry(5, 1, 2, stub_attempt, &s, &err), LK_OK);
    assert_int_equal(s.calls, 3);
}

static void test_a_refusal_waiting_cannot_change_is_not_tried_again(
    void **state)
{
    (void)state;
    stub s = {.final = true};
    lk_error err = {0};
    assert_int_equal(lk_nats_retry(5, 1, 2, stub_attempt, &s, &err),
                     LK_ERR_INVALID);
    assert_int_equal(s.calls, 1);
    assert_string_equal(err.message, "consumer c: other settings");
}

static void test_timeouts_and_a_cluster_without_leader_count_as_transient(
    void **state)
{
    (void)state;
    assert_true(lk_nats_join_transient(NATS_TIMEOUT, 0));
    assert_true(lk_nats_join_transient(NATS_NO_RESPONDERS, 0));
    assert_true(lk_nats_join_transient(NATS_ERR, JSClusterNotAvailErr));
    assert_true(lk_nats_join_transient(NATS_ERR, JSClusterNotLeaderErr));
    assert_false(lk_nats_join_transient(NATS_ERR, JSConsumerNameExistErr));
    assert_false(lk_nats_join_transient(NATS_CONNECTION_CLOSED, 0));
    assert_false(lk_nats_join_transient(NATS_INVALID_ARG, 0));
}

/* ---- on a server ------------------------------------------------------------- */

typedef struct world {
    char stream[64];
    char subject[128];
    lk_bus *bus;
    pthread_mutex_t mu;
    int delivered;
    int lookups;
} world;

static int group_setup(void **state)
{
    (void)state;
    lk_log_set_level(LK_LOG_OFF);
    spec_nats_server_spawn(&server);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    spec_nats_server_stop(&server);
    spec_nats_library_close();
    return 0;
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    if (w == NULL)
        return -1;
    pthread_mutex_init(&w->mu, NULL);
    spec_nats_unique_name(w->stream, sizeof w->stream, "LKJOIN");
    snprintf(w->subject, sizeof w->subject, "join.%s", w->stream);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    spec_nats_server_resume(&server); /* a failed assert may leave it */
    lk_bus_free(w->bus);
    if (server.ok)
        spec_nats_delete_stream(server.url, w->stream);
    pthread_mutex_destroy(&w->mu);
    free(w);
    return 0;
}

static lk_bus *connect_bus(world *w, int64_t timeout_ms)
{
    lk_error err = {0};
    lk_bus *bus = NULL;
    lk_nats_opts opts = {.stream = w->stream, .publish_timeout_ms = timeout_ms};
    spec_nats_server_require(&server);
    if (lk_nats_bus_connect(&bus, server.url, &opts, &err) != LK_OK)
        fail_msg("connect %s: %s", server.url, err.message);
    return bus;
}

static void on_msg(lk_msg *msg, void *closure)
{
    world *w = closure;
    if (lk_msg_ack(msg) == LK_OK) {
        pthread_mutex_lock(&w->mu);
        w->delivered++;
        pthread_mutex_unlock(&w->mu);
    }
}

static lk_status join(world *w, lk_bus *bus, lk_error *err)
{
    lk_subscribe_opts so = {.queue_group = "joiners", .deliver_all = true};
    return lk_bus_subscribe(bus, w->subject, &so, on_msg, w, err);
}

/* Publishes `n` events on w->bus and waits (5 s at most) until `total`
 * were delivered and acked in all. */
static void expect_deliveries(world *w, int n, int total)
{
    lk_error err = {0};
    for (int i = 0; i < n; i++)
        if (lk_bus_publish(w->bus, w->subject, "{}", 2, NULL, &err) != LK_OK)
            fail_msg("publish: %s", err.message);
    int got = 0;
    for (int tries = 0; tries < 500 && got < total; tries++) {
        struct timespec pause = {0, 10 * 1000000L};
        nanosleep(&pause, NULL);
        pthread_mutex_lock(&w->mu);
        got = w->delivered;
        pthread_mutex_unlock(&w->mu);
    }
    assert_int_equal(got, total);
}

static void *resume_later(void *arg)
{
    (void)arg;
    struct timespec pause = {0, 900 * 1000000L};
    nanosleep(&pause, NULL);
    spec_nats_server_resume(&server);
    return NULL;
}

/* Each JetStream request waits 300 ms here: the second member's bind times
 * out (twice) while the server is stopped, then joins once it answers. */
static void test_a_member_joins_once_a_stalled_server_answers_again(
    void **state)
{
    world *w = *state;
    lk_error err = {0};
    w->bus = connect_bus(w, 300);
    assert_int_equal(join(w, w->bus, &err), LK_OK);
    assert_true(spec_nats_server_pause(&server));
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, resume_later, NULL), 0);
    lk_status st = join(w, w->bus, &err);
    pthread_join(t, NULL);
    assert_int_equal(st, LK_OK);
    expect_deliveries(w, 4, 4);
}

/* Counts JetStream consumer-info requests on w->stream. */
static void count_info(natsConnection *nc, natsSubscription *sub, natsMsg *m,
                       void *closure)
{
    (void)nc;
    (void)sub;
    world *w = closure;
    pthread_mutex_lock(&w->mu);
    w->lookups++;
    pthread_mutex_unlock(&w->mu);
    natsMsg_Destroy(m);
}

static void test_members_on_one_bus_do_not_each_look_the_consumer_up(
    void **state)
{
    world *w = *state;
    lk_error err = {0};
    w->bus = connect_bus(w, 0);
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL;
    char watch[160];
    snprintf(watch, sizeof watch, "$JS.API.CONSUMER.INFO.%s.>", w->stream);
    assert_int_equal(natsConnection_ConnectTo(&nc, server.url), NATS_OK);
    assert_int_equal(natsConnection_Subscribe(&sub, nc, watch, count_info, w),
                     NATS_OK);
    assert_int_equal(natsConnection_Flush(nc), NATS_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(join(w, w->bus, &err), LK_OK);
    assert_int_equal(natsConnection_Flush(nc), NATS_OK);
    pthread_mutex_lock(&w->mu);
    int lookups = w->lookups;
    pthread_mutex_unlock(&w->mu);
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    /* libnats' bind reads the consumer once per member; the adapter adds
     * one read for the first member only (it then creates it). */
    assert_in_range(lookups, 4, 5);
    expect_deliveries(w, 8, 8);
}

typedef struct racer {
    world *w;
    lk_bus *bus;
    lk_status st;
    lk_error err;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    r->st = join(r->w, r->bus, &r->err);
    return NULL;
}

static void test_members_on_several_buses_creating_one_durable_all_join(
    void **state)
{
    world *w = *state;
    enum { N = 4 };
    racer r[N];
    pthread_t t[N];
    w->bus = connect_bus(w, 0);
    /* An event first (it makes the stream), so that the racers race for
     * the consumer only. */
    lk_error err = {0};
    assert_int_equal(
        lk_bus_publish(w->bus, w->subject, "{}", 2, NULL, &err), LK_OK);
    for (int i = 0; i < N; i++) {
        r[i] = (racer){.w = w, .bus = connect_bus(w, 0)};
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < N; i++)
        if (r[i].st != LK_OK)
            fail_msg("member %d: %s", i, r[i].err.message);
    expect_deliveries(w, 7, 8); /* 1 before the join, 7 after */
    for (int i = 0; i < N; i++)
        lk_bus_free(r[i].bus);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_a_join_that_keeps_timing_out_gives_up_after_the_bound),
        cmocka_unit_test(
            test_a_join_that_times_out_twice_then_answers_succeeds),
        cmocka_unit_test(
            test_a_refusal_waiting_cannot_change_is_not_tried_again),
        cmocka_unit_test(
            test_timeouts_and_a_cluster_without_leader_count_as_transient),
        cmocka_unit_test_setup_teardown(
            test_a_member_joins_once_a_stalled_server_answers_again, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_members_on_one_bus_do_not_each_look_the_consumer_up, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_members_on_several_buses_creating_one_durable_all_join,
            setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
