/* SPDX-License-Identifier: MIT */
/* redact_spec.c — a URL's password or token never reaches a log line or
 * an error text: lk_redact, and the two places every text passes through
 * (lk_log, lk_error_set / lk_error_prefix). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "listenkit.h"
#include "spec_log.h"

static void expect_redacted(const char *in, const char *want)
{
    char out[256];
    size_t n = lk_redact(in, out, sizeof out);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
    assert_int_equal(lk_redact_needed(in), strcmp(in, want) != 0);
}

static void test_a_password_becomes_stars_and_the_user_stays(void **state)
{
    (void)state;
    expect_redacted("nats://alice:S3cretPW@host:4222",
                    "nats://alice:***@host:4222");
    expect_redacted("connect tls://bob:pw@10.0.0.1: refused",
                    "connect tls://bob:***@10.0.0.1: refused");
}

static void test_a_token_becomes_stars(void **state)
{
    (void)state;
    expect_redacted("nats://s3cr3tT0ken@127.0.0.1:4222",
                    "nats://***@127.0.0.1:4222");
}

static void test_every_url_of_a_list_is_redacted(void **state)
{
    (void)state;
    expect_redacted("nats://a:b@h1:1,nats://c:d@h2:2,nats://h3:3",
                    "nats://a:***@h1:1,nats://c:***@h2:2,nats://h3:3");
}

static void test_a_password_holding_an_at_sign_is_redacted_whole(void **state)
{
    (void)state;
    expect_redacted("nats://alice:p@ss@host", "nats://alice:***@host");
}

static void test_text_without_credentials_is_unchanged(void **state)
{
    (void)state;
    expect_redacted("nats://host:4222 and mail me@example.com",
                    "nats://host:4222 and mail me@example.com");
    expect_redacted("http://host/path@x", "http://host/path@x");
    expect_redacted("no url at all", "no url at all");
    expect_redacted("", "");
}

static void test_a_short_buffer_is_cut_and_the_length_still_told(void **state)
{
    (void)state;
    char out[12];
    size_t n = lk_redact("nats://a:pw@host", out, sizeof out);
    assert_int_equal(n, strlen("nats://a:***@host"));
    assert_string_equal(out, "nats://a:**");
    assert_int_equal(lk_redact("x://u:p@h", NULL, 0), strlen("x://u:***@h"));
}

static void test_log_lines_never_carry_the_password(void **state)
{
    (void)state;
    spec_log_capture_start();
    lk_log(LK_LOG_WARN, "nats: disconnected from %s; reconnecting",
           "nats://alice:S3cretPW@127.0.0.1:4222");
    lk_log(LK_LOG_INFO, "token url %s", "nats://t0k3n@127.0.0.1:4222");
    bool leaked = spec_log_contains("S3cretPW") || spec_log_contains("t0k3n");
    bool shown = spec_log_contains("nats://alice:***@127.0.0.1:4222") &&
                 spec_log_contains("nats://***@127.0.0.1:4222");
    spec_log_capture_stop();
    assert_false(leaked);
    assert_true(shown);
}

static void test_error_texts_never_carry_the_password(void **state)
{
    (void)state;
    lk_error err = {0};
    assert_int_equal(lk_error_set(&err, LK_ERR_IO, "connect %s: refused",
                                  "nats://alice:S3cretPW@h:1"),
                     LK_ERR_IO);
    assert_string_equal(err.message, "connect nats://alice:***@h:1: refused");
    lk_error_set(&err, LK_ERR_IO, "refused");
    lk_error_prefix(&err, "via %s", "tls://t0k3n@h");
    assert_string_equal(err.message, "via tls://***@h: refused");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_password_becomes_stars_and_the_user_stays),
        cmocka_unit_test(test_a_token_becomes_stars),
        cmocka_unit_test(test_every_url_of_a_list_is_redacted),
        cmocka_unit_test(test_a_password_holding_an_at_sign_is_redacted_whole),
        cmocka_unit_test(test_text_without_credentials_is_unchanged),
        cmocka_unit_test(test_a_short_buffer_is_cut_and_the_length_still_told),
        cmocka_unit_test(test_log_lines_never_carry_the_password),
        cmocka_unit_test(test_error_texts_never_carry_the_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
