/* SPDX-License-Identifier: MIT */
/*
 * event_refusals_spec.c — the edges of lk_event_decode's refusals
 * (framework/src/event.c): a one_of list too long to quote in full, an
 * object field with no member list (any object will do), and a huge
 * integer under a key jansson gave escaped. Each refusal still names the
 * subject and, where it can, the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "listenkit.h"

#define LONG_A "a-status-name-long-enough-to-fill-most-of-the-quote-buffer-" \
               "of-the-error-message-on-its-own-and-then-some-more-text-here"
static const char *const long_names[] = {LONG_A, LONG_A "-b", LONG_A "-c",
                                         NULL};
static const lk_field fields[] = {
    {.name = "status", .type = LK_FIELD_STRING, .one_of = long_names},
    {.name = "extra", .type = LK_FIELD_OBJECT},
    {.name = "version", .type = LK_FIELD_INTEGER},
    LK_FIELD_END};
static const lk_schema thing_saved = {.subject = "thing:saved",
                                      .fields = fields};

static lk_status decode(const char *json, json_t **out, lk_error *err)
{
    return lk_event_decode(&thing_saved, json, strlen(json), out, err);
}

static void test_a_long_one_of_list_is_quoted_in_part_and_marked_cut(
    void **state)
{
    (void)state;
    json_t *ev = NULL;
    lk_error e;
    assert_int_equal(decode("{\"status\":\"nope\"}", &ev, &e), LK_ERR_INVALID);
    assert_null(ev);
    assert_non_null(strstr(e.message, "thing:saved"));
    assert_non_null(strstr(e.message, "field \"status\""));
    assert_non_null(strstr(e.message, "\"nope\" is not one of \"" LONG_A));
    size_t n = strlen(e.message);
    assert_true(n > 5);
    assert_string_equal(e.message + n - 5, ", ...");
    /* a listed value passes */
    assert_int_equal(decode("{\"status\":\"" LONG_A "-c\"}", &ev, &e), LK_OK);
    json_decref(ev);
}

static void test_an_object_field_without_members_takes_any_object(
    void **state)
{
    (void)state;
    json_t *ev = NULL;
    lk_error e;
    assert_int_equal(
        decode("{\"extra\":{\"any\":[1,{\"deep\":true}],\"x\":null}}", &ev,
               &e),
        LK_OK);
    assert_true(json_is_true(json_object_get(
        json_array_get(json_object_get(json_object_get(ev, "extra"), "any"),
                       1),
        "deep")));
    json_decref(ev);
    assert_int_equal(decode("{\"extra\":[1]}", &ev, &e), LK_ERR_INVALID);
    assert_non_null(strstr(e.message, "field \"extra\""));
}

/* The key is not decoded from the text: the message keeps the position. */
static void test_a_huge_integer_under_an_escaped_key_is_refused_by_position(
    void **state)
{
    (void)state;
    json_t *ev = NULL;
    lk_error e;
    assert_int_equal(decode("{\"ver\\u0073ion\": 99999999999999999999}", &ev,
                            &e),
                     LK_ERR_INVALID);
    assert_null(ev);
    assert_non_null(strstr(e.message, "thing:saved: invalid JSON at line 1"));
    assert_non_null(strstr(e.message, "too big"));
    assert_null(strstr(e.message, "field \""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_a_long_one_of_list_is_quoted_in_part_and_marked_cut),
        cmocka_unit_test(test_an_object_field_without_members_takes_any_object),
        cmocka_unit_test(
            test_a_huge_integer_under_an_escaped_key_is_refused_by_position),
    };
    return cmocka_run_group_tests_name("event_refusals", tests, NULL, NULL);
}
