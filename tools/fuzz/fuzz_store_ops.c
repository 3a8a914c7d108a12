/* SPDX-License-Identifier: MIT */
/*
 * fuzz_store_ops.c — libFuzzer target: any bytes, read as a sequence of
 * inserts, saves, deletes and finds on a memory-store collection (unique
 * "sku", update-if-current versions), checked against a model kept here:
 *   - every call returns what the model says (LK_OK, LK_ERR_DUPLICATE,
 *     LK_ERR_VERSION, LK_ERR_NOT_FOUND) or, in out-of-memory mode,
 *     LK_ERR_NOMEM;
 *   - a failed call changes nothing: the collection reads, byte for byte,
 *     as it did before the call;
 *   - count, find and find_one agree with each other and with the model.
 * The first byte's low bit turns on out-of-memory mode: from then on the
 * allocation numbered by each op's last byte is refused (libbson's are
 * never refused: bson_malloc would abort, see listenkit/alloc.h).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listenkit.h"
#include "mem_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DOCS 16
#define MAX_OPS 64
#define NO_SKU -1

/* ---- an allocator that refuses the k-th allocation -------------------------- */

static uint64_t alloc_count, fail_at; /* fail_at 0: never */
static bool refused;                  /* fail_at was reached and refused */

static bool refuse(lk_alloc_caller caller)
{
    alloc_count++;
    if (fail_at == 0 || alloc_count != fail_at || caller == LK_ALLOC_LIBBSON)
        return false;
    refused = true;
    return true;
}

/* LK_OK when the store said what the model says; else what it said
 * (LK_ERR_STATE when it succeeded where it should not have). */
static lk_status verdict(lk_status s, lk_status want)
{
    if (s == want)
        return LK_OK;
    return s == LK_OK ? LK_ERR_STATE : s;
}

static void *fz_malloc(size_t size, lk_alloc_caller caller, void *ctx)
{
    (void)ctx;
    return refuse(caller) ? NULL : malloc(size);
}

static void *fz_realloc(void *ptr, size_t size, lk_alloc_caller caller,
                        void *ctx)
{
    (void)ctx;
    return refuse(caller) ? NULL : realloc(ptr, size);
}

static void *fz_aligned(size_t alignment, size_t size,
                        lk_alloc_caller caller, void *ctx)
{
    (void)ctx;
    return refuse(caller) ? NULL : aligned_alloc(alignment, size);
}

static void fz_free(void *ptr, void *ctx)
{
    (void)ctx;
    free(ptr);
}

/* ---- the model ---------------------------------------------------------------- */

typedef struct model_doc {
    bson_oid_t id;
    int sku; /* NO_SKU: absent */
    int n;
    int64_t version;
    bool live;
} model_doc;

typedef struct model {
    model_doc docs[MAX_DOCS];
    size_t n_docs; /* ever inserted (deleted ones stay, !live) */
} model;

static bool sku_taken(const model *m, int sku, const model_doc *self)
{
    if (sku == NO_SKU)
        return false;
    for (size_t i = 0; i < m->n_docs; i++)
        if (m->docs[i].live && &m->docs[i] != self && m->docs[i].sku == sku)
            return true;
    return false;
}

static int64_t model_count_below(const model *m, int limit)
{
    int64_t c = 0;
    for (size_t i = 0; i < m->n_docs; i++)
        c += m->docs[i].live && m->docs[i].n < limit;
    return c;
}

static bson_t *doc_for(const bson_oid_t *id, int sku, int n, int64_t version)
{
    bson_t *d = bson_new();
    if (id != NULL)
        BSON_APPEND_OID(d, "_id", id);
    if (sku != NO_SKU)
        BSON_APPEND_INT32(d, "sku", sku);
    BSON_APPEND_INT32(d, "n", n);
    BSON_APPEND_INT64(d, "version", version);
    return d;
}

/* ---- checks --------------------------------------------------------------------- */

/* The collection as text, in order: what "changed nothing" compares. */
static char *snapshot(lk_collection *coll)
{
    bson_t all = BSON_INITIALIZER;
    lk_cursor *cur = NULL;
    if (lk_collection_find(coll, &all, NULL, &cur, NULL) != LK_OK)
        abort();
    size_t len = 0;
    char *out = calloc(1, 1);
    const bson_t *doc;
    while (out != NULL && lk_cursor_next(cur, &doc)) {
        char *j = bson_as_relaxed_extended_json(doc, NULL);
        size_t n = strlen(j);
        char *grown = realloc(out, len + n + 2);
        if (grown == NULL)
            abort();
        out = grown;
        memcpy(out + len, j, n);
        out[len + n] = '\n';
        len += n + 1;
        out[len] = '\0';
        bson_free(j);
    }
    lk_cursor_free(cur);
    return out;
}

static void check_against_model(lk_collection *coll, const model *m)
{
    for (size_t i = 0; i < m->n_docs; i++) {
        const model_doc *md = &m->docs[i];
        bson_t *got = NULL;
        lk_status s = lk_collection_find_by_id(coll, &md->id, &got, NULL);
        if (!md->live) {
            if (s != LK_ERR_NOT_FOUND)
                abort();
            continue;
        }
        int64_t v = -1, n = -1, sku = NO_SKU;
        if (s != LK_OK ||
            lk_bson_get_int64(got, "version", &v, NULL) != LK_OK ||
            lk_bson_get_int64(got, "n", &n, NULL) != LK_OK)
            abort();
        (void)lk_bson_get_int64(got, "sku", &sku, NULL);
        if (v != md->version || n != md->n || sku != md->sku)
            abort();
        bson_destroy(got);
    }
}

/* count and find of {n: {$lt: limit}} agree with each other and the model
 * (or fail with what the store said: out of memory, which the caller
 * checks was a refused allocation). */
static lk_status check_queries(lk_collection *coll, const model *m, int limit)
{
    bson_t *filter = BCON_NEW("n", "{", "$lt", BCON_INT32(limit), "}");
    int64_t counted = -1, found = 0;
    lk_cursor *cur = NULL;
    const bson_t *doc;
    lk_status s = lk_collection_count(coll, filter, &counted, NULL);
    if (s == LK_OK)
        s = lk_collection_find(coll, filter, NULL, &cur, NULL);
    if (s == LK_OK) {
        while (lk_cursor_next(cur, &doc))
            found++;
        s = lk_cursor_error(cur, NULL);
    }
    lk_cursor_free(cur);
    bson_destroy(filter);
    if (s == LK_OK && (counted != found || counted != model_count_below(m, limit)))
        abort();
    return s;
}

/* ---- one op ---------------------------------------------------------------------- */

/* The status the model expects, and the model changed as the store should
 * be when the call succeeds (applied only then). */
static lk_status do_insert(lk_collection *coll, model *m, const uint8_t *op)
{
    int sku = op[1] % 9 == 8 ? NO_SKU : op[1] % 9;
    int n = op[2] % 32;
    bool reuse_id = (op[1] & 0x80) != 0 && m->n_docs > 0;
    const model_doc *same = reuse_id ? &m->docs[op[2] % m->n_docs] : NULL;
    bson_t *doc = doc_for(same != NULL ? &same->id : NULL, sku, n, 7);
    bson_t *out = NULL;
    lk_status s = lk_collection_insert(coll, doc, &out, NULL);
    bson_destroy(doc);
    lk_status want = (same != NULL && same->live) || sku_taken(m, sku, NULL)
                         ? LK_ERR_DUPLICATE
                         : LK_OK;
    /* a deleted _id may come back: the store forgets it */
    if (s == LK_OK && want == LK_OK) {
        bson_oid_t id;
        if (lk_bson_get_oid(out, &id, NULL) != LK_OK)
            abort();
        model_doc *md = same != NULL ? (model_doc *)same
                        : m->n_docs < MAX_DOCS ? &m->docs[m->n_docs++]
                                               : NULL;
        if (md == NULL) { /* the model is full: forget the oldest slot */
            md = &m->docs[0];
            if (md->live) /* keep the store in step: delete it */
                abort();
        }
        *md = (model_doc){id, sku, n, 0, true};
    }
    bson_destroy(out);
    return verdict(s, want);
}

static lk_status do_save(lk_collection *coll, model *m, const uint8_t *op)
{
    if (m->n_docs == 0)
        return LK_OK;
    model_doc *md = &m->docs[op[1] % m->n_docs];
    int sku = op[2] % 9 == 8 ? NO_SKU : op[2] % 9;
    int64_t version = md->version + (op[2] & 0x80 ? (op[1] & 1 ? 1 : -1) : 0);
    int n = (op[1] >> 2) % 32;
    bson_t *doc = doc_for(&md->id, sku, n, version);
    lk_status s = lk_collection_save(coll, doc, NULL, NULL);
    bson_destroy(doc);
    lk_status want = !md->live                  ? LK_ERR_NOT_FOUND
                     : version != md->version   ? LK_ERR_VERSION
                     : sku_taken(m, sku, md)    ? LK_ERR_DUPLICATE
                                                : LK_OK;
    if (s == LK_OK && want == LK_OK) {
        md->sku = sku;
        md->n = n;
        md->version++;
    }
    return verdict(s, want);
}

static lk_status do_delete(lk_collection *coll, model *m, const uint8_t *op)
{
    int sku = op[1] % 9;
    bson_t *filter = BCON_NEW("sku", BCON_INT32(sku));
    int64_t deleted = -1;
    lk_status s = lk_collection_delete(coll, filter, &deleted, NULL);
    bson_destroy(filter);
    if (s != LK_OK)
        return s;
    int64_t want = 0;
    for (size_t i = 0; i < m->n_docs; i++)
        if (m->docs[i].live && m->docs[i].sku == sku) {
            m->docs[i].live = false;
            want++;
        }
    if (deleted != want)
        abort();
    return LK_OK;
}

/* Runs one op; a status other than the model's is LK_ERR_NOMEM (checked
 * by the caller) or a bug. */
static lk_status run_op(lk_collection *coll, model *m, const uint8_t *op)
{
    switch (op[0] % 4) {
    case 0: return do_insert(coll, m, op);
    case 1: return do_save(coll, m, op);
    case 2: return do_delete(coll, m, op);
    default: return check_queries(coll, m, op[1] % 33);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const lk_allocator fz = {fz_malloc, fz_realloc, fz_aligned,
                                    fz_free, NULL};
    static bool installed;
    if (!installed) {
        if (lk_set_allocator(&fz, NULL) != LK_OK)
            abort();
        installed = true;
    }
    if (size < 1)
        return 0;
    bool oom = (data[0] & 1) != 0;
    data++, size--;

    lk_store *store = lk_mem_store_new();
    static const char *const unique[] = {"sku", NULL};
    lk_collection_opts opts = {.occ = LK_OCC_UPDATE_IF_CURRENT,
                               .unique = unique};
    lk_collection *coll = NULL;
    if (store == NULL ||
        lk_store_collection(store, "items", &opts, &coll, NULL) != LK_OK)
        abort();
    model m = {0};

    for (size_t i = 0; i + 4 <= size && i / 4 < MAX_OPS; i += 4) {
        const uint8_t *op = data + i;
        /* the model only holds MAX_DOCS: a full one takes no new inserts */
        if (op[0] % 4 == 0 && m.n_docs == MAX_DOCS && m.docs[0].live)
            continue;
        char *before = snapshot(coll);
        alloc_count = 0;
        refused = false;
        fail_at = oom ? (uint64_t)op[3] + 1 : 0;
        lk_status s = run_op(coll, &m, op);
        fail_at = 0;
        if (s != LK_OK) {
            /* not what the model said: only a refused allocation excuses it */
            if (s != LK_ERR_NOMEM || !refused)
                abort();
            char *after = snapshot(coll);
            if (strcmp(before, after) != 0)
                abort(); /* a failed call changed the collection */
            free(after);
        }
        free(before);
        check_against_model(coll, &m);
    }
    lk_store_free(store);
    return 0;
}
