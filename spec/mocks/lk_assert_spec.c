/* SPDX-License-Identifier: MIT */
/*
 * lk_assert_spec.c — assert_lk_status / assert_lk_ok fail with the statuses'
 * names and the lk_error message, at the test's line; they pass silently
 * when the status is the expected one. Failures are run in a child (see
 * spec_child.h) so this spec can read their text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "listenkit.h"
#include "lk_assert.h"
#include "spec_child.h"

static void child_retry_expected_got_ok(void **state)
{
    (void)state;
    lk_status s = LK_OK;
    assert_lk_status(s, LK_ERR_RETRY);
}

static void child_ok_expected_got_invalid_with_error(void **state)
{
    (void)state;
    lk_error err;
    lk_status s = lk_error_set(&err, LK_ERR_INVALID,
                               "ticket:updated: field \"version\": expected "
                               "integer, got string");
    assert_lk_ok(s, &err);
}

static void child_status_with_error_argument(void **state)
{
    (void)state;
    lk_error err;
    lk_status s = lk_error_set(&err, LK_ERR_VERSION, "tickets: stale");
    assert_lk_status(s, LK_ERR_NOT_FOUND, &err);
}

static void child_unknown_status(void **state)
{
    (void)state;
    assert_lk_status((lk_status)99, LK_OK);
}

static void expect_failure(CMUnitTestFunction fn, const char *const *want)
{
    spec_child_result r;
    spec_run_in_child(fn, "child", NULL, &r);
    assert_int_equal(r.exit_code, 1);
    for (; *want != NULL; want++)
        if (strstr(r.output, *want) == NULL)
            fail_msg("no \"%s\" in:\n%s", *want, r.output);
}

static void test_status_mismatch_prints_both_names_and_texts_at_the_test_line(void **state)
{
    (void)state;
    const char *want[] = {
        "assert_lk_status(s, LK_ERR_RETRY)",
        "LK_OK (ok) != LK_ERR_RETRY (not processable yet; leave for "
        "redelivery)",
        "lk_assert_spec.c:", NULL};
    expect_failure(child_retry_expected_got_ok, want);
}

static void test_ok_mismatch_prints_the_error_message(void **state)
{
    (void)state;
    const char *want[] = {
        "assert_lk_ok(s, &err)",
        "LK_ERR_INVALID (invalid argument or data) != LK_OK (ok)",
        "error: ticket:updated: field \"version\": expected integer, got "
        "string",
        NULL};
    expect_failure(child_ok_expected_got_invalid_with_error, want);
}

static void test_status_with_error_argument_prints_the_message(void **state)
{
    (void)state;
    const char *want[] = {
        "LK_ERR_VERSION (version conflict) != LK_ERR_NOT_FOUND (not found)",
        "error: tickets: stale", NULL};
    expect_failure(child_status_with_error_argument, want);
}

static void test_unknown_status_prints_its_number(void **state)
{
    (void)state;
    const char *want[] = {"lk_status 99 (unknown status) != LK_OK (ok)", NULL};
    expect_failure(child_unknown_status, want);
}

static void test_matching_statuses_pass_with_or_without_an_error(void **state)
{
    (void)state;
    lk_error err;
    lk_error_clear(&err);
    assert_lk_status(LK_ERR_RETRY, LK_ERR_RETRY);
    assert_lk_status(LK_OK, LK_OK, &err);
    assert_lk_ok(LK_OK);
    assert_lk_ok(LK_OK, NULL);
    char buf[80];
    assert_string_equal(lk_status_describe(LK_ERR_IO, buf, sizeof buf),
                        "LK_ERR_IO (input/output error)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_mismatch_prints_both_names_and_texts_at_the_test_line),
        cmocka_unit_test(test_ok_mismatch_prints_the_error_message),
        cmocka_unit_test(test_status_with_error_argument_prints_the_message),
        cmocka_unit_test(test_unknown_status_prints_its_number),
        cmocka_unit_test(test_matching_statuses_pass_with_or_without_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
