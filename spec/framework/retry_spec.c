/* SPDX-License-Identifier: MIT */
/* retry_spec.c — the retry schedule and the dead-letter envelope that
 * listeners share (listenkit/retry.h): delays grow and stop at the cap, the
 * envelope keeps the event's exact bytes, and a replay puts them back. */
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

static void test_delays_double_from_the_first_and_stop_at_the_cap(void **state)
{
    (void)state;
    const struct {
        int64_t first, cap;
        uint64_t delivery;
        int64_t want;
    } cases[] = {
        {0, 0, 1, 1000},       {0, 0, 2, 2000},    {0, 0, 5, 16000},
        {0, 0, 6, 30000},      {0, 0, 1000, 30000}, {0, 0, 0, 1000},
        {100, 250, 2, 200},    {100, 250, 3, 250}, {5000, 1000, 1, 1000},
        {INT64_MAX / 2 + 1, INT64_MAX, 64, INT64_MAX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t got = lk_retry_delay_ms(cases[i].first, cases[i].cap,
                                        cases[i].delivery);
        if (got != cases[i].want)
            fail_msg("case %zu: delay %lld, want %lld", i, (long long)got,
                     (long long)cases[i].want);
    }
}

static void test_the_default_dead_letter_subject_names_group_and_subject(
    void **state)
{
    (void)state;
    char buf[64], tiny[8];
    lk_error err;
    assert_int_equal(lk_dead_letter_subject(buf, sizeof buf, "orders-service",
                                            "ticket:updated", &err),
                     LK_OK);
    assert_string_equal(buf, "lk.dead-letter.orders-service.ticket:updated");
    assert_true(lk_subject_is_valid(buf));
    assert_int_equal(lk_dead_letter_subject(tiny, sizeof tiny, "g", "s", &err),
                     LK_ERR_TOO_LARGE);
    assert_non_null(strstr(err.message, "does not fit"));
    assert_int_equal(lk_dead_letter_subject(buf, sizeof buf, "", "s", &err),
                     LK_ERR_INVALID);
    assert_int_equal(lk_dead_letter_subject(buf, sizeof buf, "g", NULL, NULL),
                     LK_ERR_INVALID);
}

static void test_an_envelope_keeps_the_exact_bytes_and_the_delivery_facts(
    void **state)
{
    (void)state;
    const char *text = "{\"id\": \"t\\\"1\",  \"title\": \"caf\xc3\xa9\"}";
    lk_msg *msg = lk_fake_msg_new("ticket:updated", text);
    lk_fake_msg_set_stream_seq(msg, 42);
    lk_fake_msg_set_delivery_count(msg, 6);
    char *env = NULL;
    size_t len = 0;
    lk_dead_letter dl;
    assert_int_equal(lk_dead_letter_encode(msg, "orders-service",
                                           "not processable", &env, &len,
                                           NULL),
                     LK_OK);
    assert_int_equal(len, strlen(env));
    assert_int_equal(lk_dead_letter_decode(env, len, &dl, NULL), LK_OK);
    assert_string_equal(dl.subject, "ticket:updated");
    assert_int_equal(dl.length, strlen(text));
    assert_memory_equal(dl.data, text, dl.length);
    assert_int_equal(dl.stream_seq, 42);
    assert_int_equal(dl.deliveries, 6);
    assert_string_equal(dl.queue_group, "orders-service");
    assert_string_equal(dl.reason, "not processable");
    lk_dead_letter_clear(&dl);
    assert_null(dl.subject);
    lk_dead_letter_clear(NULL);
    lk_free(env);

    /* without a queue group */
    assert_int_equal(lk_dead_letter_encode(msg, NULL, NULL, &env, &len, NULL),
                     LK_OK);
    assert_int_equal(lk_dead_letter_decode(env, len, &dl, NULL), LK_OK);
    assert_null(dl.queue_group);
    assert_string_equal(dl.reason, "");
    lk_dead_letter_clear(&dl);
    lk_free(env);
    lk_msg_free(msg);
}

static void test_an_envelope_refuses_bytes_json_cannot_carry(void **state)
{
    (void)state;
    lk_msg *msg = lk_fake_msg_new("ticket:updated", "\xff\xfe");
    char *env = NULL;
    size_t len = 0;
    lk_error err;
    assert_int_equal(lk_dead_letter_encode(msg, "g", "r", &env, &len, &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "not UTF-8"));
    assert_null(env);
    assert_int_equal(lk_dead_letter_encode(NULL, "g", "r", &env, &len, &err),
                     LK_ERR_INVALID);
    lk_msg_free(msg);
}

static void test_decode_names_what_is_wrong_with_an_envelope(void **state)
{
    (void)state;
    const struct {
        const char *text, *named;
    } cases[] = {
        {"not json", "not a JSON object"},
        {"{\"data\": \"x\"}", "\"subject\""},
        {"{\"subject\": \"s\", \"data\": 1}", "\"data\""},
        {"{\"subject\": \"s\", \"data\": \"x\", \"reason\": \"r\", "
         "\"stream_seq\": -1}",
         "\"stream_seq\""},
        {"{\"subject\": \"s\", \"data\": \"x\", \"reason\": \"r\", "
         "\"stream_seq\": 1, \"deliveries\": 2}",
         "\"timestamp_ms\""},
        {"{\"subject\": \"s\", \"data\": \"x\", \"reason\": \"r\", "
         "\"queue_group\": 7}",
         "\"queue_group\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lk_dead_letter dl;
        lk_error err;
        lk_status s = lk_dead_letter_decode(cases[i].text,
                                            strlen(cases[i].text), &dl, &err);
        if (s != LK_ERR_INVALID || strstr(err.message, cases[i].named) == NULL)
            fail_msg("case %zu: %s: %s", i, lk_status_name(s), err.message);
        assert_null(dl.subject); /* nothing half-filled */
        assert_null(dl.data);
    }
    assert_int_equal(lk_dead_letter_decode("{}", 2, NULL, NULL),
                     LK_ERR_INVALID);
    lk_dead_letter dl;
    assert_int_equal(lk_dead_letter_decode(NULL, 0, &dl, NULL),
                     LK_ERR_INVALID);
}

static void test_replay_publishes_the_event_again_on_its_own_subject(
    void **state)
{
    (void)state;
    const char *text = "{\"id\":\"t1\",\"version\":3}";
    lk_msg *msg = lk_fake_msg_new("ticket:updated", text);
    lk_fake_nats *nats = lk_fake_nats_new();
    char *env = NULL;
    size_t len = 0;
    lk_error err;
    assert_int_equal(lk_dead_letter_encode(msg, "g", "r", &env, &len, NULL),
                     LK_OK);
    assert_int_equal(lk_dead_letter_replay(lk_fake_nats_bus(nats), env, len,
                                           &err),
                     LK_OK);
    assert_int_equal(lk_fake_nats_published_count(nats), 1);
    assert_string_equal(lk_fake_nats_published_subject(nats, 0),
                        "ticket:updated");
    assert_string_equal(lk_fake_nats_published_data(nats, 0, NULL), text);

    lk_fake_nats_fail_next_publish(nats, LK_ERR_IO);
    assert_int_equal(lk_dead_letter_replay(lk_fake_nats_bus(nats), env, len,
                                           &err),
                     LK_ERR_IO);
    assert_non_null(strstr(err.message, "dead letter replay"));
    assert_int_equal(lk_dead_letter_replay(lk_fake_nats_bus(nats), "{}", 2,
                                           &err),
                     LK_ERR_INVALID);
    assert_int_equal(lk_fake_nats_published_count(nats), 1);
    lk_free(env);
    lk_fake_nats_free(nats);
    lk_msg_free(msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delays_double_from_the_first_and_stop_at_the_cap),
        cmocka_unit_test(
            test_the_default_dead_letter_subject_names_group_and_subject),
        cmocka_unit_test(
            test_an_envelope_keeps_the_exact_bytes_and_the_delivery_facts),
        cmocka_unit_test(test_an_envelope_refuses_bytes_json_cannot_carry),
        cmocka_unit_test(test_decode_names_what_is_wrong_with_an_envelope),
        cmocka_unit_test(
            test_replay_publishes_the_event_again_on_its_own_subject),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
