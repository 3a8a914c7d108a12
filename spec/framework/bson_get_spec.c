/* SPDX-License-Identifier: MIT */
/*
 * bson_get_spec.c — lk_bson_get_string and lk_bson_get_double, the getters
 * beside lk_bson_get_int64 that spare a spec the bson_iter boilerplate
 * when it reads a stored document: the value when present and of a fitting
 * type, else a status and a message naming the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "listenkit.h"
#include "lk_assert.h"

static bson_t *sample(void)
{
    return BCON_NEW("title", "concert", "price", BCON_DOUBLE(20.5), "i32",
                    BCON_INT32(7), "i64", BCON_INT64(9000000000), "ticket",
                    "{", "id", "t1", "price", BCON_INT32(15), "}");
}

static void test_get_string_reads_a_field_or_a_dotted_path(void **state)
{
    (void)state;
    bson_t *doc = sample();
    const char *s = NULL;
    assert_lk_ok(lk_bson_get_string(doc, "title", &s, NULL));
    assert_string_equal(s, "concert");
    assert_lk_ok(lk_bson_get_string(doc, "ticket.id", &s, NULL));
    assert_string_equal(s, "t1");
    bson_destroy(doc);
}

static void test_get_string_names_a_missing_or_mistyped_field(void **state)
{
    (void)state;
    bson_t *doc = sample();
    const char *s = "unchanged";
    lk_error err;
    assert_lk_status(lk_bson_get_string(doc, "userId", &s, &err),
                     LK_ERR_NOT_FOUND);
    assert_string_equal(err.message, "field \"userId\" is missing");
    assert_lk_status(lk_bson_get_string(doc, "price", &s, &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "field \"price\": expected a string"));
    assert_string_equal(s, "unchanged");
    assert_lk_status(lk_bson_get_string(NULL, "title", &s, &err),
                     LK_ERR_INVALID);
    assert_string_equal(err.message, "get_string: arguments must not be NULL");
    bson_destroy(doc);
}

static void test_get_double_reads_doubles_and_integers(void **state)
{
    (void)state;
    bson_t *doc = sample();
    double d = 0;
    assert_lk_ok(lk_bson_get_double(doc, "price", &d, NULL));
    assert_true(d == 20.5);
    assert_lk_ok(lk_bson_get_double(doc, "i32", &d, NULL));
    assert_true(d == 7.0);
    assert_lk_ok(lk_bson_get_double(doc, "i64", &d, NULL));
    assert_true(d == 9000000000.0);
    assert_lk_ok(lk_bson_get_double(doc, "ticket.price", &d, NULL));
    assert_true(d == 15.0);
    bson_destroy(doc);
}

static void test_get_double_names_a_missing_or_mistyped_field(void **state)
{
    (void)state;
    bson_t *doc = sample();
    double d = -1;
    lk_error err;
    assert_lk_status(lk_bson_get_double(doc, "title", &d, &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "field \"title\": expected a number"));
    assert_lk_status(lk_bson_get_double(doc, "nope", &d, &err),
                     LK_ERR_NOT_FOUND);
    assert_lk_status(lk_bson_get_double(doc, "price", NULL, &err),
                     LK_ERR_INVALID);
    assert_true(d == -1);
    bson_destroy(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_string_reads_a_field_or_a_dotted_path),
        cmocka_unit_test(test_get_string_names_a_missing_or_mistyped_field),
        cmocka_unit_test(test_get_double_reads_doubles_and_integers),
        cmocka_unit_test(test_get_double_names_a_missing_or_mistyped_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
