/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mem_filter.c — libFuzzer target: any bytes, read as BSON, used as a
 * filter on the memory store (find, count, delete). A bad filter must be
 * refused with LK_ERR_INVALID and a message; a good one must match without
 * crashing; count and find must agree.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "listenkit.h"
#include "mem_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void seed_documents(lk_collection *coll)
{
    static const char *const docs[] = {
        "{\"title\":\"concert\",\"price\":10,\"tags\":[\"a\",\"b\"],"
        "\"ticket\":{\"id\":\"x\",\"price\":10.5}}",
        "{\"title\":\"play\",\"price\":{\"$numberLong\":\"15\"},\"n\":null}",
        "{\"title\":\"game\",\"price\":20.0,\"flag\":true,\"tags\":[]}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        bson_t *doc = bson_new_from_json((const uint8_t *)docs[i], -1, NULL);
        if (doc == NULL || lk_collection_insert(coll, doc, NULL, NULL) != LK_OK)
            abort();
        bson_destroy(doc);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bson_t filter;
    if (!bson_init_static(&filter, data, size))
        return 0; /* not even a BSON frame: nothing a caller could pass */

    lk_store *store = lk_mem_store_new();
    lk_collection *coll = NULL;
    if (store == NULL ||
        lk_store_collection(store, "docs", NULL, &coll, NULL) != LK_OK)
        abort();
    seed_documents(coll);

    int64_t counted = -1;
    lk_error err;
    lk_status s = lk_collection_count(coll, &filter, &counted, &err);
    if (s != LK_OK && (s != LK_ERR_INVALID || err.message[0] == '\0'))
        abort();
    if (s == LK_OK) {
        lk_cursor *cursor = NULL;
        const bson_t *doc = NULL;
        int64_t found = 0;
        if (lk_collection_find(coll, &filter, NULL, &cursor, NULL) != LK_OK)
            abort();
        while (lk_cursor_next(cursor, &doc))
            found++;
        lk_cursor_free(cursor);
        int64_t deleted = -1;
        if (found != counted ||
            lk_collection_delete(coll, &filter, &deleted, NULL) != LK_OK ||
            deleted != counted)
            abort();
    }
    lk_store_free(store);
    return 0;
}
