/* SPDX-License-Identifier: MIT */
/*
 * nats_drain_spec.c — lk_bus_free never returns while a handler runs, and
 * drain_timeout_ms bounds the whole drain.
 *
 * A program frees what its handlers use (the store) right after
 * lk_bus_free, so a handler still running then works on freed memory. The
 * handlers here keep their state on the heap and the spec frees it right
 * after lk_bus_free: under ASan a handler that outlived the free is a
 * heap-use-after-free, without ASan its "finished" flag is still 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "listenkit.h"
#include "listenkit/nats.h"
#include "nats_server.h"
#include "spec_proc.h"

static spec_nats_server server;

static int group_setup(void **state)
{
    return spec_nats_group_setup(state, &server);
}

static int group_teardown(void **state)
{
    return spec_nats_group_teardown(state, &server);
}

/* What a handler works on, freed by the spec once lk_bus_free returned. */
typedef struct work {
    int64_t sleep_ms;
    int started;
    int finished;
} work;

static void busy(lk_msg *msg, void *closure)
{
    work *w = closure;
    __atomic_add_fetch(&w->started, 1, __ATOMIC_SEQ_CST);
    spec_sleep_ms((long)w->sleep_ms);
    lk_msg_ack(msg); /* may be refused: the connection closed meanwhile */
    __atomic_add_fetch(&w->finished, 1, __ATOMIC_SEQ_CST);
}

static work *work_new(int64_t sleep)
{
    work *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->sleep_ms = sleep;
    return w;
}

static void wait_started(work *w)
{
    for (int i = 0; i < 300 && __atomic_load_n(&w->started, __ATOMIC_SEQ_CST) == 0; i++)
        spec_sleep_ms(10);
    assert_int_equal(__atomic_load_n(&w->started, __ATOMIC_SEQ_CST), 1);
}

/* Connects to `url`, subscribes `w` on a fresh subject in a fresh stream,
 * publishes one message and waits until the handler runs. */
static lk_bus *bus_with_running_handler(const char *url, lk_nats_opts *opts,
                                        char *stream, size_t stream_size,
                                        work *w)
{
    char subject[128];
    lk_error err = {0};
    lk_bus *bus = NULL;
    lk_subscribe_opts so = {.queue_group = "drainers", .ack_wait_ms = 30000};
    spec_nats_unique_name(stream, stream_size, "LKDRAIN");
    snprintf(subject, sizeof subject, "drain.%s", stream);
    opts->stream = stream;
    if (lk_nats_bus_connect(&bus, url, opts, &err) != LK_OK)
        fail_msg("connect %s: %s", url, err.message);
    assert_int_equal(lk_bus_subscribe(bus, subject, &so, busy, w, &err), LK_OK);
    assert_int_equal(lk_bus_publish(bus, subject, "1", 1, NULL, &err), LK_OK);
    wait_started(w);
    return bus;
}

static void test_free_waits_for_a_handler_that_outlives_the_drain_timeout(void **state)
{
    (void)state;
    char stream[64];
    lk_nats_opts opts = {.drain_timeout_ms = 100};
    spec_nats_server_require(&server);
    work *w = work_new(600);
    lk_bus *bus = bus_with_running_handler(server.url, &opts, stream,
                                           sizeof stream, w);
    lk_bus_free(bus);
    int finished = __atomic_load_n(&w->finished, __ATOMIC_SEQ_CST);
    free(w); /* what program.c does with its store */
    spec_nats_delete_stream(server.url, stream);
    assert_int_equal(finished, 1);
}

static void test_drain_returns_timeout_but_free_still_waits(void **state)
{
    (void)state;
    char stream[64];
    lk_error err = {0};
    lk_nats_opts opts = {.drain_timeout_ms = 100};
    spec_nats_server_require(&server);
    work *w = work_new(500);
    lk_bus *bus = bus_with_running_handler(server.url, &opts, stream,
                                           sizeof stream, w);
    lk_status drained = lk_bus_drain(bus, &err);
    int finished_at_drain = __atomic_load_n(&w->finished, __ATOMIC_SEQ_CST);
    lk_bus_free(bus);
    int finished = __atomic_load_n(&w->finished, __ATOMIC_SEQ_CST);
    free(w);
    spec_nats_delete_stream(server.url, stream);
    assert_int_equal(drained, LK_ERR_TIMEOUT);
    assert_int_equal(finished_at_drain, 0);
    assert_int_equal(finished, 1);
}

/* The server goes away while the handler runs: the bus is reconnecting
 * when it is freed, and must still wait for the handler. */
static void test_free_while_reconnecting_waits_for_the_running_handler(void **state)
{
    (void)state;
    char stream[64];
    spec_nats_server own;
    lk_nats_opts opts = {.reconnect_attempts = -1, .reconnect_wait_ms = 50,
                         .drain_timeout_ms = 100};
    spec_nats_server_spawn(&own);
    spec_nats_server_require(&own);
    work *w = work_new(700);
    lk_bus *bus = bus_with_running_handler(own.url, &opts, stream,
                                           sizeof stream, w);
    spec_nats_server_stop(&own);
    spec_sleep_ms(100); /* the client notices and starts reconnecting */
    lk_bus_free(bus);
    int finished = __atomic_load_n(&w->finished, __ATOMIC_SEQ_CST);
    free(w);
    assert_int_equal(finished, 1);
}

/* Two subscriptions, each with a handler stuck past the bound: the drain
 * gives up once, after drain_timeout_ms, not once per subscription. */
static void test_the_drain_timeout_bounds_the_whole_drain(void **state)
{
    (void)state;
    char stream[64], subject[2][128];
    lk_error err = {0};
    lk_bus *bus = NULL;
    lk_nats_opts opts = {.drain_timeout_ms = 300};
    lk_subscribe_opts so = {.queue_group = "bound", .ack_wait_ms = 30000};
    work *w[2];
    spec_nats_server_require(&server);
    spec_nats_unique_name(stream, sizeof stream, "LKDRAIN");
    opts.stream = stream;
    assert_int_equal(lk_nats_bus_connect(&bus, server.url, &opts, &err), LK_OK);
    for (int i = 0; i < 2; i++) {
        w[i] = work_new(1500);
        snprintf(subject[i], sizeof subject[i], "drain.%s.%d", stream, i);
        assert_int_equal(lk_bus_subscribe(bus, subject[i], &so, busy, w[i], &err),
                         LK_OK);
        assert_int_equal(lk_bus_publish(bus, subject[i], "1", 1, NULL, &err),
                         LK_OK);
    }
    wait_started(w[0]);
    wait_started(w[1]);
    int64_t t0 = spec_now_ms();
    lk_status drained = lk_bus_drain(bus, &err);
    int64_t took = spec_now_ms() - t0;
    lk_bus_free(bus);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(__atomic_load_n(&w[i]->finished, __ATOMIC_SEQ_CST), 1);
        free(w[i]);
    }
    spec_nats_delete_stream(server.url, stream);
    assert_int_equal(drained, LK_ERR_TIMEOUT);
    assert_true(took >= 280);
    assert_true(took < 560); /* was 2 x 300 ms: 601 */
}

/* A handler that finishes within the bound: drain waits for it and says
 * LK_OK, also when the server went away meanwhile. */
static void test_drain_while_reconnecting_lets_the_handler_finish_in_time(void **state)
{
    (void)state;
    char stream[64];
    lk_error err = {0};
    spec_nats_server own;
    lk_nats_opts opts = {.reconnect_attempts = -1, .reconnect_wait_ms = 50,
                         .drain_timeout_ms = 2000};
    spec_nats_server_spawn(&own);
    spec_nats_server_require(&own);
    work *w = work_new(400);
    lk_bus *bus = bus_with_running_handler(own.url, &opts, stream,
                                           sizeof stream, w);
    spec_nats_server_stop(&own);
    spec_sleep_ms(50);
    lk_status drained = lk_bus_drain(bus, &err);
    int finished = __atomic_load_n(&w->finished, __ATOMIC_SEQ_CST);
    lk_bus_free(bus);
    free(w);
    assert_int_equal(drained, LK_OK);
    assert_int_equal(finished, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_waits_for_a_handler_that_outlives_the_drain_timeout),
        cmocka_unit_test(test_drain_returns_timeout_but_free_still_waits),
        cmocka_unit_test(test_free_while_reconnecting_waits_for_the_running_handler),
        cmocka_unit_test(test_the_drain_timeout_bounds_the_whole_drain),
        cmocka_unit_test(test_drain_while_reconnecting_lets_the_handler_finish_in_time),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
