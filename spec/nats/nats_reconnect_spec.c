/* SPDX-License-Identifier: MIT */
/*
 * nats_reconnect_spec.c — a service stays alive and consuming: a lost
 * connection is retried forever by default with a growing delay, start-up
 * waits a bounded, logged time for a server that is not up yet, and a
 * connection closed for good calls on_closed (a program's cue to exit
 * non-zero) — a drain never does.
 */
#include <pthread.h>
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
#include "spec_log.h"
#include "spec_proc.h"

static void count_closed(void *closure)
{
    __atomic_add_fetch((int *)closure, 1, __ATOMIC_SEQ_CST);
}

/* libnats' own default gives up after 60 tries per server; at 10 ms a
 * round, 1.5 s down is well past that. The bus must still come back. */
static void test_by_default_a_lost_connection_is_retried_past_any_count(void **state)
{
    (void)state;
    char stream[64], subject[96];
    lk_error err = {0};
    lk_bus *bus = NULL;
    spec_nats_server own;
    int closed = 0;
    spec_nats_server_spawn(&own);
    spec_nats_server_require(&own);
    spec_nats_unique_name(stream, sizeof stream, "LKRECO");
    snprintf(subject, sizeof subject, "reco.%s", stream);
    lk_nats_opts opts = {.stream = stream, .reconnect_wait_ms = 10,
                         .reconnect_max_wait_ms = 10,
                         .on_closed = count_closed, .on_closed_closure = &closed};
    assert_int_equal(lk_nats_bus_connect(&bus, own.url, &opts, &err), LK_OK);

    spec_log_capture_start();
    assert_true(spec_nats_server_down(&own));
    spec_sleep_ms(1500);
    bool gave_up = spec_log_contains("closed");
    bool up = spec_nats_server_up(&own);
    spec_log_wait("reconnected to", 5000);
    bool reconnected = spec_log_contains("reconnected to");
    lk_status s = LK_ERR_IO;
    for (int i = 0; i < 50 && s != LK_OK; i++)
        if ((s = lk_bus_publish(bus, subject, "1", 1, NULL, &err)) != LK_OK)
            spec_sleep_ms(100);
    lk_bus_free(bus);
    spec_log_capture_stop();
    spec_nats_server_stop(&own);

    assert_false(gave_up);
    assert_true(up);
    assert_true(reconnected);
    assert_int_equal(s, LK_OK);
    assert_int_equal(__atomic_load_n(&closed, __ATOMIC_SEQ_CST), 0);
}

/* 100, 200, 400, 400, ... ms: after 3 s down the next try is at most the
 * cap away once the server is back (doubling without the cap would be
 * at 1600 ms by then). */
static void test_the_reconnect_delay_grows_but_never_past_its_cap(void **state)
{
    (void)state;
    char stream[64];
    lk_error err = {0};
    lk_bus *bus = NULL;
    spec_nats_server own;
    spec_nats_server_spawn(&own);
    spec_nats_server_require(&own);
    spec_nats_unique_name(stream, sizeof stream, "LKRECO");
    lk_nats_opts opts = {.stream = stream, .reconnect_wait_ms = 100,
                         .reconnect_max_wait_ms = 400};
    assert_int_equal(lk_nats_bus_connect(&bus, own.url, &opts, &err), LK_OK);
    spec_log_capture_start();
    assert_true(spec_nats_server_down(&own));
    spec_sleep_ms(3000);
    assert_true(spec_nats_server_up(&own));
    int64_t t0 = spec_now_ms();
    spec_log_wait("reconnected to", 5000);
    int64_t back_after = spec_now_ms() - t0;
    bool reconnected = spec_log_contains("reconnected to");
    lk_bus_free(bus);
    spec_log_capture_stop();
    spec_nats_server_stop(&own);
    assert_true(reconnected);
    assert_true(back_after < 1000);
}

static void test_the_backoff_doubles_from_the_first_delay_to_the_cap(void **state)
{
    (void)state;
    lk_error err = {0};
    lk_bus *bus = NULL;
    /* seen from the outside: a bound of 3 rounds at 100/200/400 ms gives
     * up after about 700 ms, not 300 (fixed) and not 100 (none) */
    spec_nats_server own;
    int closed = 0;
    spec_nats_server_spawn(&own);
    spec_nats_server_require(&own);
    lk_nats_opts opts = {.reconnect_attempts = 3, .reconnect_wait_ms = 100,
                         .reconnect_max_wait_ms = 400,
                         .on_closed = count_closed, .on_closed_closure = &closed};
    assert_int_equal(lk_nats_bus_connect(&bus, own.url, &opts, &err), LK_OK);
    spec_log_capture_start(); /* the disconnect and the give-up are logged */
    assert_true(spec_nats_server_down(&own));
    int64_t t0 = spec_now_ms();
    for (int i = 0; i < 500 && __atomic_load_n(&closed, __ATOMIC_SEQ_CST) == 0; i++)
        spec_sleep_ms(10);
    int64_t gave_up_after = spec_now_ms() - t0;
    lk_bus_free(bus);
    spec_log_capture_stop();
    spec_nats_server_stop(&own);
    assert_int_equal(__atomic_load_n(&closed, __ATOMIC_SEQ_CST), 1);
    assert_true(gave_up_after >= 550);
    assert_true(gave_up_after < 3000);
}

static void test_a_bound_on_attempts_closes_for_good_and_calls_on_closed(void **state)
{
    (void)state;
    char stream[64], subject[96];
    lk_error err = {0};
    lk_bus *bus = NULL;
    spec_nats_server own;
    int closed = 0;
    spec_nats_server_spawn(&own);
    spec_nats_server_require(&own);
    spec_nats_unique_name(stream, sizeof stream, "LKRECO");
    snprintf(subject, sizeof subject, "reco.%s", stream);
    lk_nats_opts opts = {.stream = stream, .reconnect_attempts = 2,
                         .reconnect_wait_ms = 20,
                         .on_closed = count_closed, .on_closed_closure = &closed};
    assert_int_equal(lk_nats_bus_connect(&bus, own.url, &opts, &err), LK_OK);
    spec_log_capture_start();
    spec_nats_server_stop(&own);
    for (int i = 0; i < 300 && __atomic_load_n(&closed, __ATOMIC_SEQ_CST) == 0; i++)
        spec_sleep_ms(10);
    lk_status s = lk_bus_publish(bus, subject, "1", 1, NULL, &err);
    bool logged = spec_log_contains("reconnect attempts exhausted");
    lk_bus_free(bus);
    spec_log_capture_stop();
    assert_int_equal(__atomic_load_n(&closed, __ATOMIC_SEQ_CST), 1);
    assert_true(logged);
    assert_int_equal(s, LK_ERR_CLOSED);
}

static void test_a_drain_never_calls_on_closed(void **state)
{
    (void)state;
    char stream[64];
    lk_error err = {0};
    lk_bus *bus = NULL;
    spec_nats_server own;
    int closed = 0;
    spec_nats_server_spawn(&own);
    spec_nats_server_require(&own);
    spec_nats_unique_name(stream, sizeof stream, "LKRECO");
    lk_nats_opts opts = {.stream = stream, .on_closed = count_closed,
                         .on_closed_closure = &closed};
    assert_int_equal(lk_nats_bus_connect(&bus, own.url, &opts, &err), LK_OK);
    assert_int_equal(lk_bus_drain(bus, &err), LK_OK);
    lk_bus_free(bus);
    spec_nats_server_stop(&own);
    assert_int_equal(closed, 0);
}

typedef struct late_connect {
    char url[256]; /* a copy: up() rewrites the server's while we connect */
    lk_nats_opts opts;
    lk_bus *bus;
    lk_status status;
    lk_error err;
    int64_t took;
} late_connect;

/* Connects on its own thread: the spec's thread brings the server up (a
 * server follows the thread that started it: PR_SET_PDEATHSIG). */
static void *connect_in_thread(void *arg)
{
    late_connect *c = arg;
    int64_t t0 = spec_now_ms();
    c->status = lk_nats_bus_connect(&c->bus, c->url, &c->opts, &c->err);
    c->took = spec_now_ms() - t0;
    return NULL;
}

static void test_start_up_waits_for_a_server_that_comes_up_late(void **state)
{
    (void)state;
    char stream[64];
    spec_nats_server own;
    pthread_t t;
    spec_nats_server_spawn(&own);
    spec_nats_server_require(&own);
    assert_true(spec_nats_server_down(&own));
    spec_nats_unique_name(stream, sizeof stream, "LKRECO");
    late_connect c = {.opts = {.stream = stream, .connect_wait_ms = 10000,
                               .reconnect_wait_ms = 50,
                               .reconnect_max_wait_ms = 200}};
    snprintf(c.url, sizeof c.url, "%s", own.url);
    spec_log_capture_start();
    assert_int_equal(pthread_create(&t, NULL, connect_in_thread, &c), 0);
    spec_sleep_ms(700);
    bool up = spec_nats_server_up(&own);
    pthread_join(t, NULL);
    bool tries_logged = spec_log_contains("no server at") &&
                        spec_log_contains("trying again in");
    lk_bus_free(c.bus);
    spec_log_capture_stop();
    spec_nats_server_stop(&own);
    assert_true(up);
    if (c.status != LK_OK)
        fail_msg("connect: %s", c.err.message);
    assert_true(c.took >= 600);
    assert_true(c.took < 5000);
    assert_true(tries_logged);
}

static void test_start_up_gives_up_after_its_bound_naming_the_url(void **state)
{
    (void)state;
    lk_error err = {0};
    lk_bus *bus = NULL;
    lk_nats_opts opts = {.connect_wait_ms = 400, .reconnect_wait_ms = 50};
    spec_log_capture_start();
    int64_t t0 = spec_now_ms();
    lk_status s = lk_nats_bus_connect(&bus, "nats://127.0.0.1:1", &opts, &err);
    int64_t took = spec_now_ms() - t0;
    size_t lines = spec_log_line_count();
    spec_log_capture_stop();
    assert_int_equal(s, LK_ERR_IO);
    assert_null(bus);
    assert_non_null(strstr(err.message, "nats://127.0.0.1:1"));
    assert_true(took >= 380);
    assert_true(took < 1500);
    assert_true(lines >= 2); /* each try said so */
}

static void test_without_a_start_up_wait_connect_fails_at_once(void **state)
{
    (void)state;
    lk_error err = {0};
    lk_bus *bus = NULL;
    int64_t t0 = spec_now_ms();
    lk_status s = lk_nats_bus_connect(&bus, "nats://127.0.0.1:1", NULL, &err);
    assert_int_equal(s, LK_ERR_IO);
    assert_true(spec_now_ms() - t0 < 1000);
}

static void test_negative_waits_are_refused_naming_the_option(void **state)
{
    (void)state;
    lk_error err = {0};
    lk_bus *bus = NULL;
    lk_nats_opts opts = {.connect_wait_ms = -1};
    assert_int_equal(lk_nats_bus_connect(&bus, NULL, &opts, &err), LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "connect_wait_ms"));
    opts = (lk_nats_opts){.reconnect_max_wait_ms = -5};
    assert_int_equal(lk_nats_bus_connect(&bus, NULL, &opts, &err), LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "reconnect_max_wait_ms"));
}

/* What /healthz asks: up while connected, down while the server is gone
 * (reconnecting), up again once it is back; never for a non-NATS bus. */
static bool wait_connected(const lk_bus *bus, bool want)
{
    for (int i = 0; i < 100 && lk_nats_bus_is_connected(bus) != want; i++)
        spec_sleep_ms(50);
    return lk_nats_bus_is_connected(bus) == want;
}

static void test_is_connected_follows_the_connection_through_an_outage(void **state)
{
    (void)state;
    char stream[64];
    lk_error err = {0};
    lk_bus *bus = NULL;
    spec_nats_server own;
    spec_nats_server_spawn(&own);
    spec_nats_server_require(&own);
    spec_nats_unique_name(stream, sizeof stream, "LKCONN");
    lk_nats_opts opts = {.stream = stream, .reconnect_wait_ms = 10,
                         .reconnect_max_wait_ms = 50};
    assert_int_equal(lk_nats_bus_connect(&bus, own.url, &opts, &err), LK_OK);
    bool at_start = lk_nats_bus_is_connected(bus);
    bool down = spec_nats_server_down(&own);
    bool off_while_down = wait_connected(bus, false);
    bool up = spec_nats_server_up(&own);
    bool on_again = wait_connected(bus, true);
    lk_bus_free(bus);
    spec_nats_server_stop(&own);

    assert_true(at_start);
    assert_true(down);
    assert_true(off_while_down);
    assert_true(up);
    assert_true(on_again);
    assert_false(lk_nats_bus_is_connected(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_default_a_lost_connection_is_retried_past_any_count),
        cmocka_unit_test(test_the_reconnect_delay_grows_but_never_past_its_cap),
        cmocka_unit_test(test_the_backoff_doubles_from_the_first_delay_to_the_cap),
        cmocka_unit_test(test_a_bound_on_attempts_closes_for_good_and_calls_on_closed),
        cmocka_unit_test(test_a_drain_never_calls_on_closed),
        cmocka_unit_test(test_start_up_waits_for_a_server_that_comes_up_late),
        cmocka_unit_test(test_start_up_gives_up_after_its_bound_naming_the_url),
        cmocka_unit_test(test_without_a_start_up_wait_connect_fails_at_once),
        cmocka_unit_test(test_negative_waits_are_refused_naming_the_option),
        cmocka_unit_test(test_is_connected_follows_the_connection_through_an_outage),
    };
    return cmocka_run_group_tests(tests, NULL, spec_nats_library_teardown);
}
