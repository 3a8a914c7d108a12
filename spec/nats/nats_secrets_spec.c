/* SPDX-License-Identifier: MIT */
/*
 * nats_secrets_spec.c — a password or token in the server URL never shows
 * in what the adapter logs (connect, disconnect, reconnect) or in its
 * error texts. A server without authorization accepts any credentials, so
 * a throwaway server serves here.
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
#include "spec_log.h"
#include "spec_proc.h"

/* `secret` in the URL as password (with `user`) or token (user NULL). */
static void connect_restart_and_check(const char *user, const char *secret)
{
    char url[128], shown[128], stream[64];
    lk_error err = {0};
    lk_bus *bus = NULL;
    spec_nats_server own;
    spec_nats_server_spawn(&own);
    spec_nats_server_require(&own);
    spec_nats_unique_name(stream, sizeof stream, "LKSECRET");
    lk_nats_opts opts = {.stream = stream, .reconnect_attempts = -1,
                         .reconnect_wait_ms = 50};
    if (user != NULL) {
        snprintf(url, sizeof url, "nats://%s:%s@127.0.0.1:%d", user, secret,
                 own.port);
        snprintf(shown, sizeof shown, "nats://%s:***@127.0.0.1:%d", user,
                 own.port);
    } else {
        snprintf(url, sizeof url, "nats://%s@127.0.0.1:%d", secret, own.port);
        snprintf(shown, sizeof shown, "nats://***@127.0.0.1:%d", own.port);
    }

    spec_log_capture_start();
    lk_status connected = lk_nats_bus_connect(&bus, url, &opts, &err);
    bool restarted = spec_nats_server_restart(&own);
    spec_log_wait("reconnected to", 5000);
    lk_bus_free(bus);
    bool leaked = spec_log_contains(secret);
    bool said_connect = spec_log_contains("connected to") &&
                        spec_log_contains(shown);
    bool said_disconnect = spec_log_contains("disconnected from");
    bool said_reconnect = spec_log_contains("reconnected to");
    spec_log_capture_stop();
    spec_nats_server_stop(&own);

    assert_int_equal(connected, LK_OK);
    assert_true(restarted);
    assert_true(said_connect);
    assert_true(said_disconnect);
    assert_true(said_reconnect);
    assert_false(leaked);
}

static void test_a_password_in_the_url_is_never_logged(void **state)
{
    (void)state;
    connect_restart_and_check("alice", "S3cretPW");
}

static void test_a_token_in_the_url_is_never_logged(void **state)
{
    (void)state;
    connect_restart_and_check(NULL, "t0k3nXYZ");
}

static void test_a_failed_connect_names_the_url_without_its_password(void **state)
{
    (void)state;
    lk_error err = {0};
    lk_bus *bus = NULL;
    spec_log_capture_start();
    lk_status s = lk_nats_bus_connect(&bus, "nats://alice:S3cretPW@127.0.0.1:1",
                                      NULL, &err);
    bool leaked = spec_log_contains("S3cretPW");
    spec_log_capture_stop();
    assert_int_equal(s, LK_ERR_IO);
    assert_null(bus);
    assert_non_null(strstr(err.message, "nats://alice:***@127.0.0.1:1"));
    assert_null(strstr(err.message, "S3cretPW"));
    assert_false(leaked);
}

static void test_a_bad_url_is_refused_without_showing_its_password(void **state)
{
    (void)state;
    lk_error err = {0};
    lk_bus *bus = NULL;
    lk_status s = lk_nats_bus_connect(&bus, "nats://alice:S3cretPW@host:99999",
                                      NULL, &err);
    assert_int_equal(s, LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "bad URL"));
    assert_null(strstr(err.message, "S3cretPW"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_password_in_the_url_is_never_logged),
        cmocka_unit_test(test_a_token_in_the_url_is_never_logged),
        cmocka_unit_test(test_a_failed_connect_names_the_url_without_its_password),
        cmocka_unit_test(test_a_bad_url_is_refused_without_showing_its_password),
    };
    return cmocka_run_group_tests(tests, NULL, spec_nats_library_teardown);
}
