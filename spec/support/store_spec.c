/* SPDX-License-Identifier: MIT */
/* store_spec.c — helpers shared by the store specs (see store_spec.h). */
#include "store_spec.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

bson_t *store_spec_doc(const char *json)
{
    bson_error_t e;
    bson_t *b = bson_new_from_json((const uint8_t *)json, -1, &e);
    if (b == NULL)
        fail_msg("bad JSON in spec: %s: %s", json, e.message);
    return b;
}

lk_collection *store_spec_collection(lk_store *store, const char *name,
                                     const lk_collection_opts *opts)
{
    lk_collection *c = NULL;
    lk_error err;
    if (lk_store_collection(store, name, opts, &c, &err) != LK_OK)
        fail_msg("open collection %s: %s", name, err.message);
    return c;
}

bson_t *store_spec_insert(lk_collection *c, const char *json)
{
    bson_t *in = store_spec_doc(json), *out = NULL;
    lk_error err;
    if (lk_collection_insert(c, in, &out, &err) != LK_OK)
        fail_msg("insert %s: %s", json, err.message);
    bson_destroy(in);
    return out;
}

lk_status store_spec_insert_status(lk_collection *c, const char *json,
                                   lk_error *err)
{
    bson_t *in = store_spec_doc(json);
    lk_status s = lk_collection_insert(c, in, NULL, err);
    bson_destroy(in);
    return s;
}

void store_spec_seed(lk_collection *c, const char *const *jsons, size_t n)
{
    for (size_t i = 0; i < n; i++)
        bson_destroy(store_spec_insert(c, jsons[i]));
}

void store_spec_insert_numbers(lk_collection *c, int from, int to)
{
    for (int i = from; i <= to; i++) {
        char json[64];
        snprintf(json, sizeof json, "{\"n\": %d, \"odd\": %s}", i,
                 i % 2 ? "true" : "false");
        bson_destroy(store_spec_insert(c, json));
    }
}

bson_t *store_spec_load(lk_collection *c, const bson_t *like)
{
    bson_oid_t id;
    bson_t *out = NULL;
    assert_int_equal(lk_bson_get_oid(like, &id, NULL), LK_OK);
    assert_int_equal(lk_collection_find_by_id(c, &id, &out, NULL), LK_OK);
    return out;
}

int64_t store_spec_version(const bson_t *d)
{
    int64_t v = -1;
    assert_int_equal(lk_bson_get_int64(d, "version", &v, NULL), LK_OK);
    return v;
}

const char *store_spec_str(const bson_t *d, const char *key)
{
    bson_iter_t it;
    if (!bson_iter_init_find(&it, d, key) || !BSON_ITER_HOLDS_UTF8(&it))
        return "(missing)";
    return bson_iter_utf8(&it, NULL);
}

bson_t *store_spec_with_str(const bson_t *d, const char *key, const char *value)
{
    bson_t *out = bson_new();
    bson_copy_to_excluding_noinit(d, out, key, NULL);
    BSON_APPEND_UTF8(out, key, value);
    return out;
}

int64_t store_spec_count(lk_collection *c, const char *filter_json)
{
    bson_t *filter = store_spec_doc(filter_json);
    int64_t n = -1;
    lk_error err;
    if (lk_collection_count(c, filter, &n, &err) != LK_OK)
        fail_msg("count %s: %s", filter_json, err.message);
    bson_destroy(filter);
    return n;
}

/* Appends the value of `field` in `d` to `buf` (a string as is, a number
 * as an integer). */
static void append_field(char *buf, size_t size, const bson_t *d,
                         const char *field)
{
    bson_iter_t it;
    char one[64];
    int64_t n = 0;
    size_t len = strlen(buf);
    if (bson_iter_init_find(&it, d, field) && BSON_ITER_HOLDS_UTF8(&it))
        snprintf(one, sizeof one, "%s", bson_iter_utf8(&it, NULL));
    else if (lk_bson_get_int64(d, field, &n, NULL) == LK_OK)
        snprintf(one, sizeof one, "%lld", (long long)n);
    else
        fail_msg("spec: a found document has no \"%s\"", field);
    snprintf(buf + len, size - len, "%s%s", len ? " " : "", one);
}

const char *store_spec_find(lk_collection *c, const char *filter_json,
                            const char *field, int64_t skip, int64_t limit)
{
    static char buf[512];
    bson_t *filter = store_spec_doc(filter_json);
    lk_find_opts opts = {.skip = skip, .limit = limit};
    lk_cursor *cur = NULL;
    const bson_t *d;
    lk_error err;
    int64_t seen = 0;
    buf[0] = '\0';
    if (lk_collection_find(c, filter, &opts, &cur, &err) != LK_OK)
        fail_msg("find %s: %s", filter_json, err.message);
    while (lk_cursor_next(cur, &d)) {
        append_field(buf, sizeof buf, d, field);
        seen++;
    }
    assert_int_equal(lk_cursor_error(cur, NULL), LK_OK);
    lk_cursor_free(cur);
    bson_destroy(filter);
    if (skip == 0 && limit == 0)
        assert_int_equal(store_spec_count(c, filter_json), seen);
    return buf;
}

void store_spec_assert_refused(lk_status got, lk_status want,
                               const lk_error *err, const char *needle)
{
    assert_int_equal(got, want);
    assert_int_equal(err->status, want);
    if (needle != NULL && strstr(err->message, needle) == NULL)
        fail_msg("message \"%s\" does not name \"%s\"", err->message, needle);
}
