/* SPDX-License-Identifier: MIT */
/* error_spec.c — statuses and the lk_error out-parameter: every status has a
 * name and a text, messages are formatted, truncated safely, prefixed with
 * context, and a NULL lk_error is always fine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <wchar.h>

#include <cmocka.h>

#include "listenkit.h"

static void test_every_status_has_a_distinct_text_and_name(void **state)
{
    (void)state;
    static const struct {
        lk_status status;
        const char *name;
        const char *text;
    } table[] = {
#define ROW(name, text) {LK_##name, #name, text},
        LK_STATUS_MAP(ROW)
#undef ROW
    };
    size_t n = sizeof table / sizeof table[0];
    assert_int_equal(n, LK_STATUS_COUNT_);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(table[i].status, (lk_status)i);
        assert_string_equal(lk_status_str(table[i].status), table[i].text);
        assert_string_equal(lk_status_name(table[i].status), table[i].name);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(lk_status_str(table[i].status),
                                    lk_status_str(table[j].status));
    }
}

static void test_known_statuses_read_as_documented(void **state)
{
    (void)state;
    assert_int_equal(LK_OK, 0);
    assert_string_equal(lk_status_str(LK_OK), "ok");
    assert_string_equal(lk_status_str(LK_ERR_VERSION), "version conflict");
    assert_string_equal(lk_status_name(LK_ERR_VERSION), "ERR_VERSION");
    assert_string_equal(lk_status_name(LK_ERR_TOO_LARGE), "ERR_TOO_LARGE");
    assert_string_equal(lk_status_str(LK_ERR_FORBIDDEN),
                        "not allowed for this caller");
}

static void test_unknown_status_is_named_not_crashed(void **state)
{
    (void)state;
    assert_string_equal(lk_status_str(LK_STATUS_COUNT_), "unknown status");
    assert_string_equal(lk_status_str((lk_status)999), "unknown status");
    assert_string_equal(lk_status_str((lk_status)-1), "unknown status");
    assert_string_equal(lk_status_name((lk_status)999), "UNKNOWN");
    assert_string_equal(lk_status_name(LK_STATUS_COUNT_), "UNKNOWN");
}

/* Wide text outside ASCII cannot be converted in the "C" locale, the one
 * every program starts in: vsnprintf fails on it. */
static const wchar_t unconvertible[] = {0xe9, 0};

static void test_a_message_that_cannot_be_formatted_is_the_status_text(void **state)
{
    (void)state;
    lk_error err;
    assert_int_equal(lk_error_set(&err, LK_ERR_IO, "read %ls", unconvertible),
                     LK_ERR_IO);
    assert_int_equal(err.status, LK_ERR_IO);
    assert_string_equal(err.message, lk_status_str(LK_ERR_IO));
}

static void test_a_prefix_that_cannot_be_formatted_keeps_the_message(void **state)
{
    (void)state;
    lk_error err;
    lk_error_set(&err, LK_ERR_NOT_FOUND, "ticket abc");
    lk_error_prefix(&err, "in %ls", unconvertible);
    assert_int_equal(err.status, LK_ERR_NOT_FOUND);
    assert_string_equal(err.message, "ticket abc");
}

static void test_set_fills_status_and_formatted_message(void **state)
{
    (void)state;
    lk_error err;
    lk_error_clear(&err);
    lk_status s = lk_error_set(&err, LK_ERR_NOT_FOUND, "ticket %s v%d",
                               "abc", 3);
    assert_int_equal(s, LK_ERR_NOT_FOUND);
    assert_int_equal(err.status, LK_ERR_NOT_FOUND);
    assert_string_equal(err.message, "ticket abc v3");
}

static void test_set_tolerates_null_error(void **state)
{
    (void)state;
    assert_int_equal(lk_error_set(NULL, LK_ERR_IO, "lost %d", 1), LK_ERR_IO);
    lk_error_clear(NULL);
    lk_error_prefix(NULL, "ctx"); /* must not crash */
    assert_int_equal(lk_error_set(NULL, LK_ERR_VERSION, NULL), LK_ERR_VERSION);
}

static void test_set_with_null_format_uses_status_text(void **state)
{
    (void)state;
    lk_error err;
    /* Called through a pointer: the format attribute would make the
     * compiler refuse a NULL format (clang's -Wformat-security), and a
     * NULL format at run time is exactly what this spec checks. */
    lk_status (*set)(lk_error *, lk_status, const char *, ...) = lk_error_set;
    assert_int_equal(set(&err, LK_ERR_TIMEOUT, NULL), LK_ERR_TIMEOUT);
    assert_string_equal(err.message, "timed out");
}

static void test_set_truncates_long_messages(void **state)
{
    (void)state;
    char longtext[600];
    memset(longtext, 'x', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    lk_error err;
    lk_error_set(&err, LK_ERR_INVALID, "field %s", longtext);
    assert_int_equal(strlen(err.message), LK_ERROR_MESSAGE_MAX);
    assert_memory_equal(err.message, "field xxx", 9);
    assert_int_equal(err.status, LK_ERR_INVALID);
}

static lk_status set_via_va_list(lk_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lk_status s = lk_error_setv(err, LK_ERR_DUPLICATE, fmt, ap);
    va_end(ap);
    return s;
}

static void test_setv_formats_from_a_va_list(void **state)
{
    (void)state;
    lk_error err;
    assert_int_equal(set_via_va_list(&err, "key %s=%d", "id", 7),
                     LK_ERR_DUPLICATE);
    assert_string_equal(err.message, "key id=7");
}

static void test_clear_resets_to_ok(void **state)
{
    (void)state;
    lk_error err;
    lk_error_set(&err, LK_ERR_IO, "broken");
    lk_error_clear(&err);
    assert_int_equal(err.status, LK_OK);
    assert_string_equal(err.message, "");
}

static void test_prefix_adds_context_and_keeps_status(void **state)
{
    (void)state;
    lk_error err;
    lk_error_set(&err, LK_ERR_VERSION, "field \"version\": stale");
    lk_error_prefix(&err, "tickets: %s", "order:created");
    assert_int_equal(err.status, LK_ERR_VERSION);
    assert_string_equal(err.message,
                        "tickets: order:created: field \"version\": stale");
}

static void test_prefix_truncates_to_the_limit(void **state)
{
    (void)state;
    char body[250];
    memset(body, 'b', sizeof body - 1);
    body[sizeof body - 1] = '\0';
    lk_error err;
    lk_error_set(&err, LK_ERR_IO, "%s", body);
    lk_error_prefix(&err, "context-that-pushes-past-the-end");
    assert_int_equal(strlen(err.message), LK_ERROR_MESSAGE_MAX);
    assert_memory_equal(err.message, "context-that-pushes-past-the-end: bbb",
                        37);
    assert_int_equal(err.status, LK_ERR_IO);
}

static void test_prefix_longer_than_limit_is_cut(void **state)
{
    (void)state;
    char pre[400];
    memset(pre, 'p', sizeof pre - 1);
    pre[sizeof pre - 1] = '\0';
    lk_error err;
    lk_error_set(&err, LK_ERR_IO, "tail");
    lk_error_prefix(&err, "%s", pre);
    assert_int_equal(strlen(err.message), LK_ERROR_MESSAGE_MAX);
    assert_null(strstr(err.message, "tail"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_status_has_a_distinct_text_and_name),
        cmocka_unit_test(test_known_statuses_read_as_documented),
        cmocka_unit_test(test_unknown_status_is_named_not_crashed),
        cmocka_unit_test(test_set_fills_status_and_formatted_message),
        cmocka_unit_test(test_set_tolerates_null_error),
        cmocka_unit_test(test_set_with_null_format_uses_status_text),
        cmocka_unit_test(test_set_truncates_long_messages),
        cmocka_unit_test(test_setv_formats_from_a_va_list),
        cmocka_unit_test(test_a_message_that_cannot_be_formatted_is_the_status_text),
        cmocka_unit_test(test_a_prefix_that_cannot_be_formatted_keeps_the_message),
        cmocka_unit_test(test_clear_resets_to_ok),
        cmocka_unit_test(test_prefix_adds_context_and_keeps_status),
        cmocka_unit_test(test_prefix_truncates_to_the_limit),
        cmocka_unit_test(test_prefix_longer_than_limit_is_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
