/* SPDX-License-Identifier: MIT */
/*
 * nats_status_spec.c — how the JetStream adapter reports libnats failures:
 * every status libnats can return becomes the lk_status callers branch on
 * (a timeout stays a timeout, a closed connection LK_ERR_CLOSED, the rest
 * LK_ERR_IO), and the message says what was being done, libnats' text and
 * the JetStream error code. Also which names JetStream accepts for streams
 * and consumers. No server needed: these are the adapter's private helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../framework/nats/nats_private.h"
#include "nats_server.h"

static void test_every_status_with_a_meaning_maps_to_it(void **state)
{
    (void)state;
    static const struct {
        natsStatus nats;
        lk_status lk;
    } want[] = {
        {NATS_OK, LK_OK},
        {NATS_TIMEOUT, LK_ERR_TIMEOUT},
        {NATS_NO_MEMORY, LK_ERR_NOMEM},
        {NATS_INVALID_ARG, LK_ERR_INVALID},
        {NATS_INVALID_SUBJECT, LK_ERR_INVALID},
        {NATS_INVALID_TIMEOUT, LK_ERR_INVALID},
        {NATS_INVALID_QUEUE_NAME, LK_ERR_INVALID},
        {NATS_ADDRESS_MISSING, LK_ERR_INVALID},
        {NATS_MAX_PAYLOAD, LK_ERR_TOO_LARGE},
        {NATS_NOT_FOUND, LK_ERR_NOT_FOUND},
        {NATS_CONNECTION_CLOSED, LK_ERR_CLOSED},
        {NATS_DRAINING, LK_ERR_CLOSED},
        {NATS_ILLEGAL_STATE, LK_ERR_STATE},
        {NATS_NO_SERVER_SUPPORT, LK_ERR_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (lk_nats_status_map(want[i].nats) != want[i].lk)
            fail_msg("natsStatus %d (%s) maps to %s, expected %s",
                     (int)want[i].nats, natsStatus_GetText(want[i].nats),
                     lk_status_name(lk_nats_status_map(want[i].nats)),
                     lk_status_name(want[i].lk));
}

/* The server or the way to it failed: callers retry or give up, as for any
 * I/O error. */
static void test_network_protocol_and_server_failures_are_io_errors(void **state)
{
    (void)state;
    static const natsStatus io[] = {
        NATS_ERR,          NATS_PROTOCOL_ERROR,   NATS_IO_ERROR,
        NATS_NO_SERVER,    NATS_STALE_CONNECTION, NATS_CONNECTION_DISCONNECTED,
        NATS_CONNECTION_AUTH_FAILED, NATS_NOT_PERMITTED, NATS_SSL_ERROR,
        NATS_SLOW_CONSUMER, NATS_NO_RESPONDERS, NATS_MISMATCH,
    };
    for (size_t i = 0; i < sizeof io / sizeof io[0]; i++)
        if (lk_nats_status_map(io[i]) != LK_ERR_IO)
            fail_msg("natsStatus %d (%s) maps to %s, expected ERR_IO",
                     (int)io[i], natsStatus_GetText(io[i]),
                     lk_status_name(lk_nats_status_map(io[i])));
}

static void test_error_names_the_operation_and_libnats_text(void **state)
{
    (void)state;
    lk_error err;
    lk_status s = lk_nats_error(&err, NATS_TIMEOUT, 0, "publish %s to %s",
                                "ticket:created", "nats://127.0.0.1:4222");
    assert_int_equal(s, LK_ERR_TIMEOUT);
    assert_int_equal(err.status, LK_ERR_TIMEOUT);
    assert_string_equal(err.message,
                        "publish ticket:created to nats://127.0.0.1:4222: "
                        "Timeout");
}

static void test_error_carries_the_jetstream_error_code(void **state)
{
    (void)state;
    lk_error err;
    lk_status s = lk_nats_error(&err, NATS_ERR, JSStreamNotFoundErr,
                                "stream %s: cannot read it", "ORDERS");
    assert_int_equal(s, LK_ERR_IO);
    assert_non_null(strstr(err.message, "stream ORDERS: cannot read it: "));
    assert_non_null(strstr(err.message, "[JetStream error 10059]"));
}

static void test_error_without_an_out_parameter_still_maps(void **state)
{
    (void)state;
    assert_int_equal(lk_nats_error(NULL, NATS_CONNECTION_CLOSED, 0, "ack"),
                     LK_ERR_CLOSED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_status_with_a_meaning_maps_to_it),
        cmocka_unit_test(test_network_protocol_and_server_failures_are_io_errors),
        cmocka_unit_test(test_error_names_the_operation_and_libnats_text),
        cmocka_unit_test(test_error_carries_the_jetstream_error_code),
        cmocka_unit_test(test_error_without_an_out_parameter_still_maps),
    };
    /* libnats keeps per-thread error state: released for the leak check */
    return cmocka_run_group_tests(tests, NULL, spec_nats_library_teardown);
}
