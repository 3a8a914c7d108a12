/* SPDX-License-Identifier: MIT */
/* store_roundtrip_spec.c — the store contract on what documents and names
 * survive, on every store (spec/support/store_impls.h): every BSON type,
 * width and key order comes back as it went in; field and collection names
 * are data, never code; and on a durable store the data outlives the store
 * (freed and reopened, or seen from a second store at once). */
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

typedef struct fixture {
    const spec_store_impl *impl;
    lk_store *store;
} fixture;

static int setup(void **state)
{
    fixture *f = test_calloc(1, sizeof *f);
    f->impl = *state;
    f->store = spec_store_open(f->impl);
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

/* `d` without its `_id` and version: what the caller gave. */
static bson_t *caller_fields(const bson_t *d)
{
    bson_t *out = bson_new();
    bson_copy_to_excluding_noinit(d, out, "_id", "version", NULL);
    return out;
}

/* ---- documents ------------------------------------------------------------------ */

static void test_every_bson_type_comes_back_as_it_went_in(void **state)
{
    fixture *f = *state;
    lk_collection *c = store_spec_collection(f->store, "round_trip", NULL);
    static const uint8_t bytes[] = {0, 1, 2, 0xff};
    bson_oid_t ref;
    bson_decimal128_t dec;
    bson_oid_init_from_string(&ref, "64b000000000000000000abc");
    bson_decimal128_from_string("1.10", &dec);
    /* key order on purpose not alphabetical; numbers of every width */
    bson_t *in = BCON_NEW(
        "z_last_first", BCON_INT32(1), "i64", BCON_INT64(9007199254740993LL),
        "dbl", BCON_DOUBLE(2.5), "negzero", BCON_DOUBLE(-0.0), "int_as_dbl",
        BCON_DOUBLE(3.0), "oid", BCON_OID(&ref), "when",
        BCON_DATE_TIME(1700000000123LL), "bin", BCON_BIN(BSON_SUBTYPE_BINARY,
                                                         bytes, 4),
        "uuid", BCON_BIN(BSON_SUBTYPE_UUID, bytes, 4), "t", BCON_BOOL(true),
        "nothing", BCON_NULL, "s", BCON_UTF8("héllo \"q\" 'x' \\ ;--"),
        "ts", BCON_TIMESTAMP(7, 9), "dec", BCON_DECIMAL128(&dec), "min",
        BCON_MINKEY, "max", BCON_MAXKEY, "nested", "{", "b", BCON_INT32(2),
        "a", "{", "deep", "[", BCON_INT64(1), BCON_DOUBLE(1.0), BCON_INT32(1),
        "]", "}", "}", "arr", "[", "{", "k", BCON_UTF8("v"), "}", "[", "]",
        BCON_NULL, "]", "empty", "{", "}");
    bson_t *stored = NULL;
    assert_int_equal(lk_collection_insert(c, in, &stored, NULL), LK_OK);
    bson_t *loaded = store_spec_load(c, stored);
    /* the document as stored is the document loaded, byte for byte */
    assert_int_equal(loaded->len, stored->len);
    assert_memory_equal(bson_get_data(loaded), bson_get_data(stored),
                        loaded->len);
    /* and, but for _id and version, the caller's: same keys, order, types */
    bson_t *mine = caller_fields(loaded);
    assert_int_equal(mine->len, in->len);
    assert_memory_equal(bson_get_data(mine), bson_get_data(in), in->len);
    /* the same after a save */
    bson_t *saved = NULL;
    assert_int_equal(lk_collection_save(c, loaded, &saved, NULL), LK_OK);
    bson_t *again = store_spec_load(c, saved), *mine_again = caller_fields(again);
    assert_memory_equal(bson_get_data(mine_again), bson_get_data(in), in->len);
    assert_int_equal(store_spec_version(again), 1);
    bson_destroy(mine_again);
    bson_destroy(again);
    bson_destroy(saved);
    bson_destroy(mine);
    bson_destroy(loaded);
    bson_destroy(stored);
    bson_destroy(in);
}

static void test_a_large_document_comes_back_whole(void **state)
{
    fixture *f = *state;
    lk_collection *c = store_spec_collection(f->store, "large", NULL);
    size_t len = 8u << 20; /* 8 MiB: more than any socket buffer */
    char *text = test_malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        text[i] = (char)('a' + i % 26);
    text[len] = '\0';
    bson_t *in = BCON_NEW("blob", BCON_UTF8(text)), *stored = NULL;
    assert_int_equal(lk_collection_insert(c, in, &stored, NULL), LK_OK);
    bson_t *loaded = store_spec_load(c, stored);
    assert_int_equal(loaded->len, stored->len);
    assert_memory_equal(bson_get_data(loaded), bson_get_data(stored),
                        loaded->len);
    bson_destroy(loaded);
    bson_destroy(stored);
    bson_destroy(in);
    test_free(text);
}

/* ---- names ------------------------------------------------------------------------ */

static void test_field_names_are_data_even_when_they_look_like_sql(
    void **state)
{
    fixture *f = *state;
    static const char *const unique[] = {"na'me\"); DROP TABLE x; --", NULL};
    static const lk_collection_opts opts = {.unique = unique};
    lk_collection *c = store_spec_collection(f->store, "hostile", &opts);
    lk_error err;
    bson_t *a = BCON_NEW("na'me\"); DROP TABLE x; --", BCON_UTF8("v1"),
                         "'; DELETE FROM hostile; --", BCON_INT32(1));
    bson_t *b = BCON_NEW("na'me\"); DROP TABLE x; --", BCON_UTF8("v1"));
    assert_int_equal(lk_collection_insert(c, a, NULL, NULL), LK_OK);
    store_spec_assert_refused(lk_collection_insert(c, b, NULL, &err),
                              LK_ERR_DUPLICATE, &err, "DROP TABLE x");
    bson_t *filter = BCON_NEW("'; DELETE FROM hostile; --", BCON_INT32(1));
    int64_t n = -1;
    assert_int_equal(lk_collection_count(c, filter, &n, NULL), LK_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_spec_count(c, "{}"), 1);
    bson_destroy(filter);
    bson_destroy(a);
    bson_destroy(b);
}

static void test_collection_names_follow_one_rule_in_every_store(
    void **state)
{
    fixture *f = *state;
    static const char *const bad[] = {
        "x\"; DROP TABLE y; --", "tickets-v2", "1st", "a b", "é",
        "a123456789012345678901234567890123456789012345678", /* 49 */
    };
    lk_collection *c = NULL;
    lk_error err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        store_spec_assert_refused(
            lk_store_collection(f->store, bad[i], NULL, &c, &err),
            LK_ERR_INVALID, &err, "letters, digits or '_'");
        assert_null(c);
    }
    /* SQL keywords and case are fine: names are quoted */
    static const char *const good[] = {
        "values", "select", "Mixed_Case", "_u",
        "a12345678901234567890123456789012345678901234567", /* 48 */
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        c = store_spec_collection(f->store, good[i], NULL);
        bson_destroy(store_spec_insert(c, "{\"n\": 1}"));
        assert_int_equal(store_spec_count(c, "{\"n\": 1}"), 1);
    }
}

static void test_more_unique_paths_than_any_store_indexes_are_refused(
    void **state)
{
    fixture *f = *state;
    const char *many[LK_UNIQUE_MAX + 2];
    char names[LK_UNIQUE_MAX + 1][16];
    for (int i = 0; i <= LK_UNIQUE_MAX; i++) {
        snprintf(names[i], sizeof names[i], "f%d", i);
        many[i] = names[i];
    }
    many[LK_UNIQUE_MAX + 1] = NULL;
    lk_collection_opts opts = {.unique = many};
    lk_collection *c = NULL;
    lk_error err;
    store_spec_assert_refused(
        lk_store_collection(f->store, "wide", &opts, &c, &err),
        LK_ERR_INVALID, &err, "at most 16");
    /* LK_UNIQUE_MAX itself is fine */
    many[LK_UNIQUE_MAX] = NULL;
    c = store_spec_collection(f->store, "wide", &opts);
    bson_destroy(store_spec_insert(c, "{\"f0\": 1, \"f15\": 2}"));
    assert_int_equal(store_spec_count(c, "{\"f15\": 2}"), 1);
}

/* ---- durability (durable rows only) ------------------------------------------------ */

static void test_durable_data_outlives_the_store(void **state)
{
    fixture *f = *state;
    static const char *const unique[] = {"email", NULL};
    static const lk_collection_opts opts = {.unique = unique};
    static const lk_collection_opts other = {.occ = LK_OCC_EXTERNAL,
                                             .unique = unique};
    lk_collection *c = store_spec_collection(f->store, "kept", &opts);
    lk_error err;
    for (int i = 1; i <= 4; i++) {
        char json[64];
        snprintf(json, sizeof json, "{\"email\": \"u%d@x\", \"n\": %d}", i, i);
        bson_destroy(store_spec_insert(c, json));
    }
    bson_t *first = NULL, *f1 = store_spec_doc("{\"n\": 1}");
    assert_int_equal(lk_collection_find_one(c, f1, &first, NULL), LK_OK);
    assert_int_equal(lk_collection_save(c, first, NULL, NULL), LK_OK);
    bson_t *three = store_spec_doc("{\"n\": 3}");
    assert_int_equal(lk_collection_delete(c, three, NULL, NULL), LK_OK);

    f->store = spec_store_reopen(f->impl, f->store);
    /* other options than the recorded ones are refused, also after reopening */
    store_spec_assert_refused(
        lk_store_collection(f->store, "kept", &other, &c, &err),
        LK_ERR_INVALID, &err, "other options");
    c = store_spec_collection(f->store, "kept", &opts);
    assert_string_equal(store_spec_find(c, "{}", "n", 0, 0), "1 2 4");
    bson_t *now = store_spec_load(c, first);
    assert_int_equal(store_spec_version(now), 1);
    /* the unique index came back too */
    store_spec_assert_refused(
        store_spec_insert_status(c, "{\"email\": \"u2@x\"}", &err),
        LK_ERR_DUPLICATE, &err, "\"email\"");
    bson_destroy(now);
    bson_destroy(three);
    bson_destroy(f1);
    bson_destroy(first);
}

static void test_durable_a_second_store_sees_each_write_at_once(void **state)
{
    fixture *f = *state;
    lk_store *other = spec_store_open_again(f->impl, f->store);
    lk_collection *a = store_spec_collection(f->store, "shared", NULL);
    lk_collection *b = store_spec_collection(other, "shared", NULL);
    bson_t *d = store_spec_insert(a, "{\"title\": \"t\"}");
    bson_t *seen = store_spec_load(b, d);
    assert_int_equal(lk_collection_save(b, seen, NULL, NULL), LK_OK);
    /* a's copy is now stale: the version moved in the other store */
    lk_error err;
    store_spec_assert_refused(lk_collection_save(a, d, NULL, &err),
                              LK_ERR_VERSION, &err, "stale");
    assert_int_equal(store_spec_count(a, "{}"), 1);
    bson_destroy(seen);
    bson_destroy(d);
    spec_store_close(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_every_bson_type_comes_back_as_it_went_in),
        T(test_a_large_document_comes_back_whole),
        T(test_field_names_are_data_even_when_they_look_like_sql),
        T(test_collection_names_follow_one_rule_in_every_store),
        T(test_more_unique_paths_than_any_store_indexes_are_refused),
        T(test_durable_data_outlives_the_store),
        T(test_durable_a_second_store_sees_each_write_at_once),
#undef T
    };
    return spec_store_run(tests, sizeof tests / sizeof tests[0]);
}
