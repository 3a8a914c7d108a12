/* SPDX-License-Identifier: MIT */
/* value_spec.c — how the stores compare and index BSON values
 * (framework/src/value.c)
 * of every type, through the public collection API: MongoDB's ordering
 * within each type (dates, timestamps, binary, minKey/maxKey, symbols,
 * NaN, doubles beyond int64, sub-documents element by element), values of
 * different types never matching a comparison, unique-index keys for every
 * indexable type, and error messages that name the BSON type given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "listenkit.h"
#include "store_impls.h"
#include "store_spec.h"

#define OID_1 "5f1d7f1e2a3b4c5d6e7f8091"
#define OID_2 "5f1d7f1e2a3b4c5d6e7f8092"

/* One document per value of `v`, inserted in this order; specs name them
 * by "name". */
static const struct {
    const char *name, *v;
} VALUES[] = {
    {"min", "{\"$minKey\": 1}"},
    {"null", "null"},
    {"int", "5"},
    {"i64max", "{\"$numberLong\": \"9223372036854775807\"}"},
    {"half", "0.5"},
    {"nan", "{\"$numberDouble\": \"NaN\"}"},
    {"str", "\"abc\""},
    {"sym", "{\"$symbol\": \"abc\"}"},
    {"doc1", "{\"a\": 1}"},
    {"docx", "{\"a\": \"x\"}"},
    {"docb", "{\"b\": 0}"},
    {"doc11", "{\"a\": 1, \"b\": 1}"},
    {"bin2", "{\"$binary\": {\"base64\": \"AAE=\", \"subType\": \"00\"}}"},
    {"bin2u", "{\"$binary\": {\"base64\": \"AAE=\", \"subType\": \"80\"}}"},
    {"bin2z", "{\"$binary\": {\"base64\": \"AAI=\", \"subType\": \"00\"}}"},
    {"bin3", "{\"$binary\": {\"base64\": \"AAAA\", \"subType\": \"00\"}}"},
    {"oid", "{\"$oid\": \"" OID_1 "\"}"},
    {"bool", "true"},
    {"d1", "{\"$date\": {\"$numberLong\": \"1000\"}}"},
    {"d2", "{\"$date\": {\"$numberLong\": \"2000\"}}"},
    {"ts51", "{\"$timestamp\": {\"t\": 5, \"i\": 1}}"},
    {"ts52", "{\"$timestamp\": {\"t\": 5, \"i\": 2}}"},
    {"ts60", "{\"$timestamp\": {\"t\": 6, \"i\": 0}}"},
    {"max", "{\"$maxKey\": 1}"},
};

typedef struct fixture {
    lk_store *store;
    lk_collection *values; /* VALUES */
    lk_collection *keyed;  /* unique "k", empty */
} fixture;

static int setup(void **state)
{
    static const char *const unique[] = {"k", NULL};
    static const lk_collection_opts keyed = {.unique = unique};
    fixture *f = test_calloc(1, sizeof *f);
    f->store = spec_store_open(*state);
    f->values = store_spec_collection(f->store, "values", NULL);
    f->keyed = store_spec_collection(f->store, "keyed", &keyed);
    for (size_t i = 0; i < sizeof VALUES / sizeof VALUES[0]; i++) {
        char json[256];
        snprintf(json, sizeof json, "{\"name\": \"%s\", \"v\": %s}",
                 VALUES[i].name, VALUES[i].v);
        bson_destroy(store_spec_insert(f->values, json));
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    spec_store_close(f->store);
    test_free(f);
    return 0;
}

/* The names of the documents whose `v` passes {v: <condition_json>}, in
 * insertion order, as "a b". */
static const char *names(fixture *f, const char *condition_json)
{
    char json[256];
    snprintf(json, sizeof json, "{\"v\": %s}", condition_json);
    return store_spec_find(f->values, json, "name", 0, 0);
}

#define assert_finds(f, condition, expected) \
    assert_string_equal(names((f), (condition)), (expected))

/* ---- ordering within a type -------------------------------------------- */

static void test_comparisons_never_match_values_of_another_type(void **state)
{
    fixture *f = *state;
    /* numbers only: no string, date, bool... is "greater than 0" */
    assert_finds(f, "{\"$gt\": 0}", "int i64max half");
    assert_finds(f, "{\"$gte\": \"\"}", "str sym");
    assert_finds(f, "{\"$lt\": true}", "");
    assert_finds(f, "{\"$lte\": true}", "bool");
}

static void test_dates_compare_by_time(void **state)
{
    fixture *f = *state;
    assert_finds(f, "{\"$gt\": {\"$date\": {\"$numberLong\": \"1500\"}}}",
                 "d2");
    assert_finds(f, "{\"$lte\": {\"$date\": {\"$numberLong\": \"1000\"}}}",
                 "d1");
    assert_finds(f, "{\"$gte\": {\"$date\": {\"$numberLong\": \"0\"}}}",
                 "d1 d2");
}

static void test_timestamps_compare_by_time_then_increment(void **state)
{
    fixture *f = *state;
    assert_finds(f, "{\"$gt\": {\"$timestamp\": {\"t\": 5, \"i\": 1}}}",
                 "ts52 ts60");
    assert_finds(f, "{\"$lt\": {\"$timestamp\": {\"t\": 6, \"i\": 0}}}",
                 "ts51 ts52");
    assert_finds(f, "{\"$timestamp\": {\"t\": 5, \"i\": 2}}", "ts52");
}

static void test_binary_orders_by_length_then_subtype_then_bytes(void **state)
{
    fixture *f = *state;
    const char *b2 = "{\"$binary\": {\"base64\": \"AAE=\", \"subType\": "
                     "\"00\"}}";
    char cond[128];
    /* longer is greater whatever the bytes; then the subtype; then bytes */
    snprintf(cond, sizeof cond, "{\"$gt\": %s}", b2);
    assert_finds(f, cond, "bin2u bin2z bin3");
    snprintf(cond, sizeof cond, "{\"$lte\": %s}", b2);
    assert_finds(f, cond, "bin2");
    assert_finds(f, "{\"$lt\": {\"$binary\": {\"base64\": \"AAE=\", "
                    "\"subType\": \"80\"}}}",
                 "bin2 bin2z");
    assert_finds(f, "{\"$lt\": {\"$binary\": {\"base64\": \"AAAA\", "
                    "\"subType\": \"00\"}}}",
                 "bin2 bin2u bin2z");
}

static void test_min_and_max_keys_equal_only_themselves(void **state)
{
    fixture *f = *state;
    assert_finds(f, "{\"$minKey\": 1}", "min");
    assert_finds(f, "{\"$maxKey\": 1}", "max");
    assert_finds(f, "{\"$gte\": {\"$maxKey\": 1}}", "max");
}

static void test_symbols_compare_as_strings(void **state)
{
    fixture *f = *state;
    assert_finds(f, "\"abc\"", "str sym");
    assert_finds(f, "{\"$symbol\": \"abc\"}", "str sym");
    assert_finds(f, "{\"$lt\": \"abd\"}", "str sym");
}

static void test_nan_equals_only_nan_and_is_never_greater_or_less(
    void **state)
{
    fixture *f = *state;
    assert_finds(f, "{\"$numberDouble\": \"NaN\"}", "nan");
    assert_finds(f, "{\"$gte\": {\"$numberDouble\": \"NaN\"}}", "nan");
    assert_finds(f, "{\"$gt\": {\"$numberDouble\": \"NaN\"}}", "");
    assert_finds(f, "{\"$lt\": {\"$numberDouble\": \"Infinity\"}}",
                 "int i64max half");
    assert_finds(f, "{\"$ne\": {\"$numberDouble\": \"NaN\"}}",
                 "min null int i64max half str sym doc1 docx docb doc11 bin2 "
                 "bin2u bin2z bin3 oid bool d1 d2 ts51 ts52 ts60 max");
}

static void test_doubles_beyond_the_int64_range_compare_with_integers(
    void **state)
{
    fixture *f = *state;
    /* 2^63 as a double is above every int64, -2^64 below every one */
    assert_finds(f, "{\"$lt\": 9223372036854775808.0}", "int i64max half");
    assert_finds(f, "{\"$gte\": 9223372036854775808.0}", "");
    assert_finds(f, "{\"$gt\": -18446744073709551616.0}",
                 "int i64max half");
}

static void test_sub_documents_compare_by_type_then_name_then_value(
    void **state)
{
    fixture *f = *state;
    /* {a: "x"}: a string after a number; {b: 0}: "b" after "a";
     * {a: 1, b: 1}: longer after its prefix. The type decides before the
     * name: {b: 0} is below {a: "x"} */
    assert_finds(f, "{\"$gt\": {\"a\": 1}}", "docx docb doc11");
    assert_finds(f, "{\"$lt\": {\"a\": \"x\"}}", "doc1 docb doc11");
    assert_finds(f, "{\"$lte\": {\"a\": 1}}", "doc1");
}

/* ---- unique-index keys -------------------------------------------------- */

static lk_status insert_k(fixture *f, const char *k_json, lk_error *err)
{
    char json[256];
    snprintf(json, sizeof json, "{\"k\": %s}", k_json);
    return store_spec_insert_status(f->keyed, json, err);
}

static void test_unique_keys_clash_for_equal_values_of_every_indexable_type(
    void **state)
{
    fixture *f = *state;
    /* pairs of distinct values of one type: both fit, a repeat clashes */
    static const char *const pairs[][2] = {
        {"\"abc\"", "\"abd\""},
        {"true", "false"},
        {"{\"$oid\": \"" OID_1 "\"}", "{\"$oid\": \"" OID_2 "\"}"},
        {"{\"$date\": {\"$numberLong\": \"1000\"}}",
         "{\"$date\": {\"$numberLong\": \"2000\"}}"},
        {"1.5", "2.5"},
        {"{\"$numberDouble\": \"NaN\"}", "{\"$numberDouble\": \"Infinity\"}"},
        {"{\"$numberDouble\": \"-Infinity\"}", "9223372036854775808.0"},
        {"-18446744073709551616.0", "0.5"},
    };
    lk_error err;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        for (int j = 0; j < 2; j++)
            if (insert_k(f, pairs[i][j], &err) != LK_OK)
                fail_msg("%s: %s", pairs[i][j], err.message);
        for (int j = 0; j < 2; j++) {
            assert_int_equal(insert_k(f, pairs[i][j], &err),
                             LK_ERR_DUPLICATE);
            assert_non_null(strstr(err.message, "\"k\""));
        }
    }
}

static void test_integral_doubles_clash_with_integers_and_fractions_do_not(
    void **state)
{
    fixture *f = *state;
    lk_error err;
    assert_int_equal(insert_k(f, "1", &err), LK_OK);
    assert_int_equal(insert_k(f, "1.0", &err), LK_ERR_DUPLICATE);
    assert_int_equal(insert_k(f, "{\"$numberLong\": \"1\"}", &err),
                     LK_ERR_DUPLICATE);
    assert_int_equal(insert_k(f, "1.25", &err), LK_OK);
    /* a NaN with another payload is still NaN */
    assert_int_equal(insert_k(f, "{\"$numberDouble\": \"NaN\"}", &err),
                     LK_OK);
    bson_t *d = bson_new();
    uint64_t bits = 0x7ff8000000000abcULL;
    double other_nan;
    memcpy(&other_nan, &bits, sizeof other_nan);
    BSON_APPEND_DOUBLE(d, "k", other_nan);
    assert_int_equal(lk_collection_insert(f->keyed, d, NULL, &err),
                     LK_ERR_DUPLICATE);
    bson_destroy(d);
}

/* ---- type names --------------------------------------------------------- */

static void test_errors_name_the_bson_type_given(void **state)
{
    fixture *f = *state;
    /* an `_id` of each type that is not an ObjectId */
    static const struct {
        const char *json, *name;
    } ids[] = {
        {"1.5", "double"},
        {"\"x\"", "string"},
        {"{\"a\": 1}", "document"},
        {"[1]", "array"},
        {"{\"$binary\": {\"base64\": \"AA==\", \"subType\": \"00\"}}",
         "binary"},
        {"{\"$undefined\": true}", "undefined"},
        {"true", "bool"},
        {"{\"$date\": {\"$numberLong\": \"1\"}}", "date"},
        {"null", "null"},
        {"{\"$regularExpression\": {\"pattern\": \"a\", \"options\": \"\"}}",
         "regex"},
        {"{\"$dbPointer\": {\"$ref\": \"c\", \"$id\": {\"$oid\": \"" OID_1
         "\"}}}",
         "DBPointer"},
        {"{\"$code\": \"f()\"}", "code"},
        {"{\"$symbol\": \"s\"}", "symbol"},
        {"{\"$code\": \"f()\", \"$scope\": {}}", "code with scope"},
        {"1", "int32"},
        {"{\"$timestamp\": {\"t\": 1, \"i\": 1}}", "timestamp"},
        {"{\"$numberLong\": \"1\"}", "int64"},
        {"{\"$numberDecimal\": \"1\"}", "decimal128"},
        {"{\"$maxKey\": 1}", "maxKey"},
        {"{\"$minKey\": 1}", "minKey"},
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char json[256], want[64];
        lk_error err;
        snprintf(json, sizeof json, "{\"_id\": %s}", ids[i].json);
        snprintf(want, sizeof want, "ObjectId, got %s", ids[i].name);
        store_spec_assert_refused(
            store_spec_insert_status(f->values, json, &err), LK_ERR_INVALID,
            &err, want);
    }
}

static void test_unique_field_names_the_type_it_cannot_index(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *json, *name;
    } bad[] = {
        {"{\"a\": 1}", "document"},
        {"{\"$binary\": {\"base64\": \"AA==\", \"subType\": \"00\"}}",
         "binary"},
        {"{\"$timestamp\": {\"t\": 1, \"i\": 1}}", "timestamp"},
        {"{\"$minKey\": 1}", "minKey"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lk_error err;
        assert_int_equal(insert_k(f, bad[i].json, &err), LK_ERR_INVALID);
        assert_non_null(strstr(err.message, "\"k\""));
        assert_non_null(strstr(err.message, bad[i].name));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_comparisons_never_match_values_of_another_type),
        T(test_dates_compare_by_time),
        T(test_timestamps_compare_by_time_then_increment),
        T(test_binary_orders_by_length_then_subtype_then_bytes),
        T(test_min_and_max_keys_equal_only_themselves),
        T(test_symbols_compare_as_strings),
        T(test_nan_equals_only_nan_and_is_never_greater_or_less),
        T(test_doubles_beyond_the_int64_range_compare_with_integers),
        T(test_sub_documents_compare_by_type_then_name_then_value),
        T(test_unique_keys_clash_for_equal_values_of_every_indexable_type),
        T(test_integral_doubles_clash_with_integers_and_fractions_do_not),
        T(test_errors_name_the_bson_type_given),
        T(test_unique_field_names_the_type_it_cannot_index),
#undef T
    };
    return spec_store_run(tests, sizeof tests / sizeof tests[0]);
}
