/* SPDX-License-Identifier: MIT */
/* filter_spec.c — the store filter language (framework/src/filter.c, the
 * reference evaluator of store.h), through the public collection API: equality (numbers across types, null, nested
 * paths, arrays, sub-documents), every operator positive and negative, the
 * `_id` index path, and bad filters refused with the problem named — also
 * on an empty collection, before any matching. */
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

#define OID_A "5f1d7f1e2a3b4c5d6e7f8001"
#define OID_E "5f1d7f1e2a3b4c5d6e7f8005"
#define OID_REF "64b000000000000000000abc"

/* Five documents, inserted in this order; specs name them by "name". */
static const char *const DOCS[] = {
    "{\"_id\": {\"$oid\": \"" OID_A "\"}, \"name\": \"a\", \"n\": 1, "
    "\"s\": \"apple\", \"b\": true, "
    "\"nested\": {\"x\": 1, \"y\": {\"z\": \"deep\"}}, "
    "\"tags\": [\"red\", \"blue\"], \"arr\": [1, 2, 3], "
    "\"sub\": {\"k\": 1, \"j\": \"v\"}, \"items\": [{\"p\": 1}, {\"p\": 2}]}",

    "{\"name\": \"b\", \"n\": 2.5, \"s\": \"banana\", \"b\": false, "
    "\"nested\": {\"x\": 2}, \"tags\": [\"green\"], \"arr\": [[1, 2], 3], "
    "\"sub\": {\"j\": \"v\", \"k\": 1}, \"nul\": null, "
    "\"items\": [{\"p\": 3}]}",

    "{\"name\": \"c\", \"n\": {\"$numberLong\": \"3\"}, \"s\": \"cherry\", "
    "\"b\": true, \"nested\": {\"x\": {\"$numberLong\": \"1\"}}, "
    "\"tags\": [], \"sub\": {\"k\": 1.0, \"j\": \"v\"}, "
    "\"big\": {\"$numberLong\": \"9007199254740993\"}}",

    "{\"name\": \"d\", \"s\": \"10\"}",

    "{\"_id\": {\"$oid\": \"" OID_E "\"}, \"name\": \"e\", \"n\": -1, "
    "\"ref\": {\"$oid\": \"" OID_REF "\"}}",
};

typedef struct fixture {
    lk_store *store;
    lk_collection *things; /* the five documents */
    lk_collection *empty;
} fixture;

static int setup(void **state)
{
    fixture *f = test_calloc(1, sizeof *f);
    f->store = spec_store_open(*state);
    f->things = store_spec_collection(f->store, "things", NULL);
    f->empty = store_spec_collection(f->store, "empty", NULL);
    store_spec_seed(f->things, DOCS, sizeof DOCS / sizeof DOCS[0]);
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

/* The names of the documents `filter` finds, as "a c" (the count agrees
 * with find: store_spec_find checks). */
#define assert_finds(f, filter, expected)                                      \
    assert_string_equal(store_spec_find((f)->things, (filter), "name", 0, 0),  \
                        (expected))

static void expect_invalid(fixture *f, lk_collection *c, const char *json,
                           const char *want1, const char *want2);

/* ---- equality ------------------------------------------------------------- */

static void test_equality_on_strings_and_bools(void **state)
{
    fixture *f = *state;
    assert_finds(f, "{\"s\": \"banana\"}", "b");
    assert_finds(f, "{\"s\": \"Banana\"}", "");
    assert_finds(f, "{\"b\": true}", "a c");
    assert_finds(f, "{\"b\": false}", "b");
    assert_finds(f, "{\"b\": true, \"s\": \"cherry\"}", "c");
    assert_finds(f, "{}", "a b c d e");
}

static void test_equality_on_object_ids(void **state)
{
    fixture *f = *state;
    assert_finds(f, "{\"ref\": {\"$oid\": \"" OID_REF "\"}}", "e");
    assert_finds(f, "{\"ref\": \"" OID_REF "\"}", ""); /* a string is not */
    assert_finds(f, "{\"_id\": {\"$oid\": \"" OID_A "\"}}", "a");
}

static void test_numbers_match_across_int32_int64_and_double(void **state)
{
    fixture *f = *state;
    assert_finds(f, "{\"n\": 1.0}", "a");
    assert_finds(f, "{\"n\": {\"$numberLong\": \"1\"}}", "a");
    assert_finds(f, "{\"n\": 3}", "c");
    assert_finds(f, "{\"n\": 3.0}", "c");
    assert_finds(f, "{\"n\": 2.5}", "b");
    assert_finds(f, "{\"n\": 2}", "");
    assert_finds(f, "{\"nested.x\": 1}", "a c");
    assert_finds(f, "{\"s\": 10}", ""); /* "10" is a string */
}

static void test_large_integers_are_not_rounded_through_doubles(void **state)
{
    fixture *f = *state;
    /* 2^53 + 1 has no double; 2^53 must not match it */
    assert_finds(f, "{\"big\": {\"$numberLong\": \"9007199254740993\"}}", "c");
    assert_finds(f, "{\"big\": 9007199254740992.0}", "");
    assert_finds(f, "{\"big\": {\"$gt\": 9007199254740992.0}}", "c");
}

static void test_integers_compare_exactly_with_fractional_doubles(
    void **state)
{
    fixture *f = *state;
    /* nested.x: a 1 (int32), b 2 (int32), c 1 (int64) */
    assert_finds(f, "{\"nested.x\": 2.5}", "");
    assert_finds(f, "{\"nested.x\": {\"$lt\": 2.5}}", "a b c");
    assert_finds(f, "{\"nested.x\": {\"$gt\": 1.5}}", "b");
    assert_finds(f, "{\"nested.x\": {\"$lte\": 1.5}}", "a c");
    assert_finds(f, "{\"nested.x\": {\"$gte\": 2.0}}", "b");
    assert_finds(f, "{\"n\": {\"$gt\": -1.5, \"$lt\": -0.5}}", "e");
}

static void test_null_matches_null_and_missing_fields(void **state)
{
    fixture *f = *state;
    assert_finds(f, "{\"nul\": null}", "a b c d e");
    assert_finds(f, "{\"n\": null}", "d");
    assert_finds(f, "{\"nested.x\": null}", "d e");
    assert_finds(f, "{\"nul\": {\"$ne\": null}}", "");
    assert_finds(f, "{\"n\": {\"$ne\": null}}", "a b c e");
}

static void test_dotted_paths_reach_into_sub_documents(void **state)
{
    fixture *f = *state;
    assert_finds(f, "{\"nested.y.z\": \"deep\"}", "a");
    assert_finds(f, "{\"nested.x\": 2}", "b");
    assert_finds(f, "{\"nested.y.z.w\": \"deep\"}", "");
    assert_finds(f, "{\"s.length\": 5}", ""); /* through a scalar: missing */
}

static void test_arrays_match_an_element_or_the_whole_array(void **state)
{
    fixture *f = *state;
    assert_finds(f, "{\"tags\": \"red\"}", "a");
    assert_finds(f, "{\"tags\": [\"red\", \"blue\"]}", "a");
    assert_finds(f, "{\"tags\": [\"blue\", \"red\"]}", "");
    assert_finds(f, "{\"tags\": []}", "c");
    assert_finds(f, "{\"arr\": 3}", "a b");
    assert_finds(f, "{\"arr\": [1, 2]}", "b"); /* an element of b */
    assert_finds(f, "{\"arr\": 1}", "a");      /* not inside b's [1, 2] */
}

static void test_paths_go_through_arrays_by_index_and_into_elements(
    void **state)
{
    fixture *f = *state;
    /* b's arr.0 is [1, 2], which contains 1 */
    assert_finds(f, "{\"arr.0\": 1}", "a b");
    assert_finds(f, "{\"arr.0\": [1, 2]}", "b");
    assert_finds(f, "{\"arr.1\": 3}", "b");
    assert_finds(f, "{\"items.p\": 2}", "a");
    assert_finds(f, "{\"items.p\": 3}", "b");
    assert_finds(f, "{\"items.1.p\": 2}", "a");
    assert_finds(f, "{\"items.1.p\": 1}", "");
}

static void test_sub_document_equality_is_exact_and_ordered(void **state)
{
    fixture *f = *state;
    /* c stores k as 1.0: numbers still compare by value */
    assert_finds(f, "{\"sub\": {\"k\": 1, \"j\": \"v\"}}", "a c");
    assert_finds(f, "{\"sub\": {\"j\": \"v\", \"k\": 1}}", "b");
    assert_finds(f, "{\"sub\": {\"k\": 1}}", "");
    assert_finds(f, "{\"nested\": {\"x\": 2}}", "b");
}

/* ---- operators -------------------------------------------------------------- */

static void test_eq_and_ne(void **state)
{
    fixture *f = *state;
    assert_finds(f, "{\"s\": {\"$eq\": \"apple\"}}", "a");
    assert_finds(f, "{\"tags\": {\"$eq\": \"green\"}}", "b");
    assert_finds(f, "{\"n\": {\"$ne\": 1}}", "b c d e");
    assert_finds(f, "{\"tags\": {\"$ne\": \"red\"}}", "b c d e");
    assert_finds(f, "{\"s\": {\"$ne\": \"zzz\"}}", "a b c d e");
}

static void test_gt_gte_lt_lte_compare_numbers_across_types(void **state)
{
    fixture *f = *state;
    assert_finds(f, "{\"n\": {\"$gt\": 1}}", "b c");
    assert_finds(f, "{\"n\": {\"$gte\": 1.0}}", "a b c");
    assert_finds(f, "{\"n\": {\"$lt\": 2.5}}", "a e");
    assert_finds(f, "{\"n\": {\"$lte\": 2.5}}", "a b e");
    assert_finds(f, "{\"n\": {\"$gt\": {\"$numberLong\": \"3\"}}}", "");
    assert_finds(f, "{\"n\": {\"$gt\": 1, \"$lt\": 3}}", "b");
}

static void test_comparisons_on_strings_and_across_types(void **state)
{
    fixture *f = *state;
    assert_finds(f, "{\"s\": {\"$gt\": \"b\"}}", "b c");
    assert_finds(f, "{\"s\": {\"$lte\": \"apple\"}}", "a d");
    /* different types never compare: no match, no error */
    assert_finds(f, "{\"s\": {\"$gt\": 5}}", "");
    assert_finds(f, "{\"n\": {\"$lt\": \"z\"}}", "");
    assert_finds(f, "{\"b\": {\"$gt\": false}}", "a c");
}

static void test_comparisons_on_arrays_match_any_element(void **state)
{
    fixture *f = *state;
    assert_finds(f, "{\"arr\": {\"$gt\": 2}}", "a b");
    assert_finds(f, "{\"arr\": {\"$lt\": 2}}", "a");
    assert_finds(f, "{\"items.p\": {\"$gte\": 2}}", "a b");
}

static void test_in_and_nin(void **state)
{
    fixture *f = *state;
    assert_finds(f, "{\"s\": {\"$in\": [\"apple\", \"cherry\"]}}", "a c");
    assert_finds(f, "{\"n\": {\"$in\": [1.0, {\"$numberLong\": \"3\"}]}}",
                 "a c");
    assert_finds(f, "{\"tags\": {\"$in\": [\"green\", \"blue\"]}}", "a b");
    assert_finds(f, "{\"n\": {\"$in\": [null]}}", "d");
    assert_finds(f, "{\"n\": {\"$in\": []}}", "");
    assert_finds(f, "{\"n\": {\"$nin\": [1, 2.5]}}", "c d e");
    assert_finds(f, "{\"n\": {\"$nin\": []}}", "a b c d e");
}

static void test_exists(void **state)
{
    fixture *f = *state;
    assert_finds(f, "{\"n\": {\"$exists\": true}}", "a b c e");
    assert_finds(f, "{\"n\": {\"$exists\": false}}", "d");
    /* null is a value: the field exists */
    assert_finds(f, "{\"nul\": {\"$exists\": 1}}", "b");
    assert_finds(f, "{\"nul\": {\"$exists\": 0}}", "a c d e");
    assert_finds(f, "{\"items.p\": {\"$exists\": true}}", "a b");
    /* a number counts as its truth: 0 is false, anything else true */
    assert_finds(f, "{\"n\": {\"$exists\": 0.0}}", "d");
    assert_finds(f, "{\"n\": {\"$exists\": {\"$numberLong\": \"2\"}}}",
                 "a b c e");
}

static void test_not_negates_its_operators(void **state)
{
    fixture *f = *state;
    assert_finds(f, "{\"n\": {\"$not\": {\"$gt\": 1}}}", "a d e");
    assert_finds(f, "{\"s\": {\"$not\": {\"$in\": [\"apple\"]}}}", "b c d e");
    assert_finds(f, "{\"n\": {\"$not\": {\"$exists\": true}}}", "d");
}

static void test_and_or_combine_clauses(void **state)
{
    fixture *f = *state;
    assert_finds(f, "{\"$or\": [{\"name\": \"a\"}, {\"n\": {\"$gt\": 2.5}}]}",
                 "a c");
    assert_finds(f, "{\"$and\": [{\"b\": true}, {\"n\": {\"$gt\": 1}}]}", "c");
    assert_finds(f, "{\"$and\": [{\"b\": true}, {\"b\": false}]}", "");
    assert_finds(f,
                 "{\"$or\": [{\"$and\": [{\"b\": true}, {\"s\": \"cherry\"}]},"
                 " {\"name\": \"e\"}]}",
                 "c e");
    assert_finds(f, "{\"b\": true, \"$or\": [{\"n\": 1}, {\"n\": 2.5}]}",
                 "a");
}

static void test_id_filter_uses_the_index_and_keeps_other_conditions(
    void **state)
{
    fixture *f = *state;
    assert_finds(f, "{\"_id\": {\"$oid\": \"" OID_A "\"}, \"name\": \"a\"}",
                 "a");
    assert_finds(f, "{\"_id\": {\"$oid\": \"" OID_A "\"}, \"name\": \"b\"}",
                 "");
    assert_finds(f, "{\"_id\": {\"$eq\": {\"$oid\": \"" OID_E "\"}}}", "e");
    assert_finds(f, "{\"_id\": {\"$oid\": \"" OID_REF "\"}}", "");
    assert_finds(f, "{\"_id\": {\"$in\": [{\"$oid\": \"" OID_A "\"}, "
                    "{\"$oid\": \"" OID_E "\"}]}}",
                 "a e");
}

static void test_id_filters_with_other_operators_scan_and_match(void **state)
{
    fixture *f = *state;
    /* not one pinned id: every document is tried */
    assert_finds(f, "{\"_id\": {\"$eq\": {\"$oid\": \"" OID_A "\"}, "
                    "\"$ne\": {\"$oid\": \"" OID_E "\"}}}",
                 "a");
    assert_finds(f, "{\"_id\": {\"$gt\": {\"$oid\": \"" OID_A "\"}}}",
                 "b c d e");
    assert_finds(f, "{\"_id\": {\"$eq\": \"" OID_A "\"}}", "");
    assert_finds(f, "{\"_id\": \"" OID_A "\"}", "");
}

static void test_filter_that_is_not_valid_bson_is_refused(void **state)
{
    fixture *f = *state;
    bson_oid_t id;
    bson_t *ok = bson_new(), bad;
    uint8_t bytes[32];
    bson_t *out = NULL;
    lk_cursor *cur = NULL;
    lk_error err;

    /* {_id: oid} is 22 bytes; a stray last byte makes it no document */
    bson_oid_init_from_string(&id, OID_A);
    BSON_APPEND_OID(ok, "_id", &id);
    assert_int_equal(ok->len, 22);
    memcpy(bytes, bson_get_data(ok), ok->len);
    assert_true(bson_init_static(&bad, bytes, ok->len));
    bytes[21] = 1;
    assert_int_equal(lk_collection_find_one(f->things, &bad, &out, &err),
                     LK_ERR_INVALID);
    assert_null(out);
    assert_non_null(strstr(err.message, "things.find_one: filter"));
    assert_non_null(strstr(err.message, "not valid BSON"));

    /* a sub-document whose string runs past its end */
    bson_t *nested = store_spec_doc("{\"sub\": {\"j\": \"v\"}}");
    memcpy(bytes, bson_get_data(nested), nested->len);
    assert_true(bson_init_static(&bad, bytes, nested->len));
    bytes[nested->len - 8] = 99; /* the length of "v" */
    assert_int_equal(lk_collection_find(f->things, &bad, NULL, &cur, &err),
                     LK_ERR_INVALID);
    assert_null(cur);
    assert_non_null(strstr(err.message, "not valid BSON"));
    bson_destroy(nested);
    bson_destroy(ok);
}

/* {n: {$not: {$not: ... {$eq: 1}}}} with `levels` $not, built level by
 * level (libbson's JSON reader stops at 100 levels). */
static void append_nots(bson_t *into, int levels)
{
    bson_t child;
    if (levels == 0) {
        BSON_APPEND_INT32(into, "$eq", 1);
        return;
    }
    BSON_APPEND_DOCUMENT_BEGIN(into, "$not", &child);
    append_nots(&child, levels - 1);
    bson_append_document_end(into, &child);
}

static bson_t *nots(int levels)
{
    bson_t *filter = bson_new(), ops;
    BSON_APPEND_DOCUMENT_BEGIN(filter, "n", &ops);
    append_nots(&ops, levels);
    bson_append_document_end(filter, &ops);
    return filter;
}

static void test_filters_nest_at_most_100_levels(void **state)
{
    fixture *f = *state;
    /* the filter, n's operators and 98 $not: 100 levels; an even count of
     * $not means n = 1 */
    bson_t *ok = nots(98), *deep = nots(99), *out = NULL;
    lk_error err;
    assert_int_equal(lk_collection_find_one(f->things, ok, &out, &err),
                     LK_OK);
    bson_t *none = NULL;
    assert_int_equal(lk_collection_find_one(f->things, deep, &none, &err),
                     LK_ERR_INVALID);
    assert_null(none);
    assert_non_null(strstr(err.message, "things.find_one: filter"));
    assert_non_null(strstr(err.message, "nested more than 100 levels"));
    bson_iter_t it;
    assert_true(bson_iter_init_find(&it, out, "name"));
    assert_string_equal(bson_iter_utf8(&it, NULL), "a");
    bson_destroy(out);
    bson_destroy(ok);
    bson_destroy(deep);
}

/* ---- bad filters --------------------------------------------------------------- */

static void expect_invalid(fixture *f, lk_collection *c, const char *json,
                           const char *want1, const char *want2)
{
    bson_t *filter = store_spec_doc(json), *one = NULL;
    lk_cursor *cur = NULL;
    int64_t n = -1;
    lk_error err;
    lk_status s[4];

    s[0] = lk_collection_find(c, filter, NULL, &cur, &err);
    assert_null(cur);
    if (strstr(err.message, want1) == NULL ||
        (want2 != NULL && strstr(err.message, want2) == NULL))
        fail_msg("%s: message \"%s\" lacks \"%s\"/\"%s\"", json, err.message,
                 want1, want2 ? want2 : "");
    s[1] = lk_collection_count(c, filter, &n, NULL);
    s[2] = lk_collection_find_one(c, filter, &one, NULL);
    assert_null(one);
    s[3] = lk_collection_delete(c, filter, &n, NULL);
    for (int i = 0; i < 4; i++)
        if (s[i] != LK_ERR_INVALID)
            fail_msg("%s: call %d returned %s", json, i, lk_status_name(s[i]));
    bson_destroy(filter);
    /* nothing was deleted */
    assert_finds(f, "{}", "a b c d e");
}

/* ($regex is refused too, but JSON cannot spell it: libbson reads
 * {"$regex": ...} as a regular expression value; see the test below.) */
static const struct {
    const char *json, *want1, *want2;
} BAD[] = {
    {"{\"$where\": \"this.n > 1\"}", "$where", NULL},
    {"{\"tags\": {\"$elemMatch\": {\"$eq\": \"red\"}}}", "$elemMatch",
     "\"tags\""},
    {"{\"tags\": {\"$size\": 1}}", "$size", "\"tags\""},
    {"{\"$nor\": [{\"n\": 1}]}", "$nor", NULL},
    {"{\"n\": {\"$in\": 1}}", "$in", "array"},
    {"{\"n\": {\"$nin\": \"x\"}}", "$nin", "array"},
    {"{\"$and\": {\"n\": 1}}", "$and", "array"},
    {"{\"$and\": []}", "$and", "empty"},
    {"{\"$or\": [1]}", "$or", "element 0"},
    {"{\"n\": {\"$exists\": \"yes\"}}", "$exists", "\"n\""},
    {"{\"n\": {\"$not\": 5}}", "$not", "\"n\""},
    {"{\"n\": {\"$not\": {\"x\": 1}}}", "$not", "\"n\""},
    {"{\"n\": {\"$gt\": 1, \"x\": 2}}", "\"x\"", "mixed"},
    {"{\"n\": {\"$and\": [{\"n\": 1}]}}", "$and", "\"n\""},
    {"{\"$gt\": 1}", "$gt", "field"},
    {"{\"s\": {\"$regularExpression\": {\"pattern\": \"^a\", "
     "\"options\": \"\"}}}",
     "regex", "\"s\""},
    {"{\"n\": {\"$eq\": {\"$numberDecimal\": \"1\"}}}", "decimal128", "\"n\""},
    {"{\"a..b\": 1}", "a..b", NULL},
    {"{\"\": 1}", "empty field", NULL},
    {"{\"tags.$\": \"red\"}", "positional", NULL},
    {"{\"a.\": 1}", "\"a.\"", "empty segment"},
    {"{\".a\": 1}", "\".a\"", "empty segment"},
    {"{\"sub\": {\"k\": {\"$regularExpression\": {\"pattern\": \"a\", "
     "\"options\": \"\"}}}}",
     "regex", "\"sub\""},
    {"{\"n\": {\"$in\": {\"$oid\": \"" OID_A "\"}}}", "$in",
     "got ObjectId"},
};

static void test_bad_filters_are_invalid_and_name_the_problem(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++)
        expect_invalid(f, f->things, BAD[i].json, BAD[i].want1, BAD[i].want2);
}

static void test_bad_filters_fail_on_an_empty_collection_too(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++)
        expect_invalid(f, f->empty, BAD[i].json, BAD[i].want1, BAD[i].want2);
}

static void test_regex_operator_is_refused_by_name(void **state)
{
    fixture *f = *state;
    bson_t filter = BSON_INITIALIZER, ops;
    lk_cursor *cur = NULL;
    lk_error err;
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "s", &ops);
    BSON_APPEND_UTF8(&ops, "$regex", "^a");
    bson_append_document_end(&filter, &ops);
    assert_int_equal(lk_collection_find(f->things, &filter, NULL, &cur, &err),
                     LK_ERR_INVALID);
    assert_null(cur);
    assert_non_null(strstr(err.message, "\"$regex\""));
    assert_non_null(strstr(err.message, "\"s\""));
    bson_destroy(&filter);
}

static void test_bad_filter_inside_or_is_found_before_matching(void **state)
{
    fixture *f = *state;
    /* the first clause matches everything; the second is still checked */
    expect_invalid(f, f->things,
                   "{\"$or\": [{}, {\"n\": {\"$mod\": [2, 0]}}]}", "$mod",
                   "\"n\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_equality_on_strings_and_bools),
        T(test_equality_on_object_ids),
        T(test_numbers_match_across_int32_int64_and_double),
        T(test_large_integers_are_not_rounded_through_doubles),
        T(test_integers_compare_exactly_with_fractional_doubles),
        T(test_null_matches_null_and_missing_fields),
        T(test_dotted_paths_reach_into_sub_documents),
        T(test_arrays_match_an_element_or_the_whole_array),
        T(test_paths_go_through_arrays_by_index_and_into_elements),
        T(test_sub_document_equality_is_exact_and_ordered),
        T(test_eq_and_ne),
        T(test_gt_gte_lt_lte_compare_numbers_across_types),
        T(test_comparisons_on_strings_and_across_types),
        T(test_comparisons_on_arrays_match_any_element),
        T(test_in_and_nin),
        T(test_exists),
        T(test_not_negates_its_operators),
        T(test_and_or_combine_clauses),
        T(test_id_filter_uses_the_index_and_keeps_other_conditions),
        T(test_id_filters_with_other_operators_scan_and_match),
        T(test_filter_that_is_not_valid_bson_is_refused),
        T(test_filters_nest_at_most_100_levels),
        T(test_bad_filters_are_invalid_and_name_the_problem),
        T(test_bad_filters_fail_on_an_empty_collection_too),
        T(test_regex_operator_is_refused_by_name),
        T(test_bad_filter_inside_or_is_found_before_matching),
#undef T
    };
    return spec_store_run(tests, sizeof tests / sizeof tests[0]);
}
