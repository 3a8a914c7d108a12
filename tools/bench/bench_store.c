/* SPDX-License-Identifier: MIT */
/* bench_store.c — the memory store against a plain hash map of bson_t:
 * insert, find by _id, versioned save; then how a lookup's cost grows with
 * the collection (it must not: lookups by _id never scan). */
#include "bench.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listenkit/store.h"
#include "mem_store.h"
#include "oid_map.h"

#define COLLECTION "tickets"

static lk_collection *open_collection(lk_store *store)
{
    lk_collection *coll = NULL;
    lk_error err;
    if (store != NULL &&
        lk_store_collection(store, COLLECTION, NULL, &coll, &err) != LK_OK)
        fprintf(stderr, "bench: store collection: %s\n", err.message);
    return coll;
}

/* ---- the baseline's operations, written by hand -------------------------- */

static bool raw_insert(oid_map *map, const bson_t *doc)
{
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_OID(&it))
        return false;
    bson_t *copy = bson_copy(doc);
    if (copy != NULL && oid_map_put(map, bson_iter_oid(&it), copy))
        return true;
    bson_destroy(copy);
    return false;
}

/* A copy of the document, as the memory store hands out. */
static bson_t *raw_find(const oid_map *map, const bson_oid_t *id)
{
    oid_map_slot *slot = oid_map_get(map, id);
    return slot != NULL ? bson_copy(slot->doc) : NULL;
}

/* Update-if-current: the document carries the version it was loaded with;
 * it must still be the stored one, and is stored incremented. */
static bool raw_save(oid_map *map, const bson_t *doc)
{
    bson_iter_t it;
    oid_map_slot *slot = NULL;
    int64_t loaded, stored;
    if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it))
        slot = oid_map_get(map, bson_iter_oid(&it));
    if (slot == NULL || !bson_iter_init_find(&it, doc, "version"))
        return false;
    loaded = bson_iter_as_int64(&it);
    if (!bson_iter_init_find(&it, slot->doc, "version"))
        return false;
    stored = bson_iter_as_int64(&it);
    if (loaded != stored)
        return false;
    bson_t *next = bson_sized_new(doc->len);
    bson_copy_to_excluding_noinit(doc, next, "version", NULL);
    if (!BSON_APPEND_INT64(next, "version", stored + 1)) {
        bson_destroy(next);
        return false;
    }
    bson_destroy(slot->doc);
    slot->doc = next;
    return true;
}

/* ---- insert / find / save, N each --------------------------------------- */

/* The tickets to insert, look up and save (ticket_docs.c). */
typedef bench_tickets ops_ctx;

static bool ops_listenkit(void *vctx, double *fig, uint64_t *sum)
{
    ops_ctx *c = vctx;
    lk_store *store = lk_mem_store_new();
    lk_collection *coll = open_collection(store);
    lk_error err = {0};
    lk_status s = coll != NULL ? LK_OK : LK_ERR_NOMEM;
    bson_t *out = NULL;
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; s == LK_OK && i < c->n; i++)
        s = lk_collection_insert(coll, c->docs[i], NULL, &err);
    uint64_t t1 = bench_now_ns();
    for (size_t i = 0; s == LK_OK && i < c->n; i++) {
        s = lk_collection_find_by_id(coll, &c->ids[c->order[i]], &out, &err);
        if (s == LK_OK)
            *sum = bench_mix(*sum, bench_ticket_sum(out));
        bson_destroy(out);
    }
    uint64_t t2 = bench_now_ns();
    for (size_t i = 0; s == LK_OK && i < c->n; i++)
        s = lk_collection_save(coll, c->saves[i], NULL, &err);
    uint64_t t3 = bench_now_ns();
    /* Untimed: the saves stored what the baseline stores. */
    for (size_t i = 0; s == LK_OK && i < c->n; i += c->n / 7 + 1) {
        s = lk_collection_find_by_id(coll, &c->ids[i], &out, &err);
        if (s == LK_OK)
            *sum = bench_mix(*sum, bench_ticket_sum(out));
        bson_destroy(out);
    }
    lk_store_free(store);
    if (s != LK_OK) {
        fprintf(stderr, "bench: memory store: %s\n", err.message);
        return false;
    }
    fig[0] = (double)(t1 - t0) / (double)c->n;
    fig[1] = (double)(t2 - t1) / (double)c->n;
    fig[2] = (double)(t3 - t2) / (double)c->n;
    return true;
}

static bool ops_baseline(void *vctx, double *fig, uint64_t *sum)
{
    ops_ctx *c = vctx;
    oid_map map;
    bool ok = oid_map_init(&map);
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; ok && i < c->n; i++)
        ok = raw_insert(&map, c->docs[i]);
    uint64_t t1 = bench_now_ns();
    for (size_t i = 0; ok && i < c->n; i++) {
        bson_t *out = raw_find(&map, &c->ids[c->order[i]]);
        ok = out != NULL;
        if (ok)
            *sum = bench_mix(*sum, bench_ticket_sum(out));
        bson_destroy(out);
    }
    uint64_t t2 = bench_now_ns();
    for (size_t i = 0; ok && i < c->n; i++)
        ok = raw_save(&map, c->saves[i]);
    uint64_t t3 = bench_now_ns();
    for (size_t i = 0; ok && i < c->n; i += c->n / 7 + 1) {
        bson_t *out = raw_find(&map, &c->ids[i]);
        ok = out != NULL;
        if (ok)
            *sum = bench_mix(*sum, bench_ticket_sum(out));
        bson_destroy(out);
    }
    oid_map_free(&map);
    if (!ok) {
        fprintf(stderr, "bench: baseline hash map refused an operation\n");
        return false;
    }
    fig[0] = (double)(t1 - t0) / (double)c->n;
    fig[1] = (double)(t2 - t1) / (double)c->n;
    fig[2] = (double)(t3 - t2) / (double)c->n;
    return true;
}

static void bench_store_ops(const bench_opts *opts, bench_report *report)
{
    static const char *const names[3] = {"store insert", "store find_by_id",
                                         "store save (OCC)"};
    ops_ctx c = {.n = opts->n[BENCH_STORE]};
    bench_row *rows[3];
    for (int i = 0; i < 3; i++) {
        rows[i] = bench_report_add(report, names[i], "ns/op");
        if (rows[i] == NULL)
            return;
        rows[i]->n = c.n;
        rows[i]->target_kind = BENCH_AT_MOST;
        rows[i]->target = 2;
        snprintf(rows[i]->lk_label, sizeof rows[i]->lk_label, "memory store");
        snprintf(rows[i]->base_label, sizeof rows[i]->base_label,
                 "hash map of bson_t");
    }
    bool ok = bench_tickets_make(&c, c.n, 7);
    if (ok)
        bench_run_pairs_k(opts, rows, 3, true, ops_listenkit, ops_baseline,
                          &c);
    else
        for (int i = 0; i < 3; i++)
            bench_row_skip(rows[i], "skipped: out of memory");
    bench_row_note(rows[1], "random order; both hand out a copy");
    bench_row_note(rows[2], "update-if-current: version checked and "
                            "incremented");
    bench_tickets_free(&c);
}

/* ---- lookup cost as the collection grows ----------------------------------- */

typedef struct lookup_ctx {
    size_t n, m;       /* documents, lookups per measurement */
    bson_oid_t *ids;
    size_t *order;
    lk_collection *coll;
    oid_map map;
} lookup_ctx;

static bool lookup_listenkit(void *vctx, double *fig, uint64_t *sum)
{
    lookup_ctx *c = vctx;
    lk_status s = LK_OK;
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; s == LK_OK && i < c->m; i++) {
        bson_t *out = NULL;
        s = lk_collection_find_by_id(c->coll, &c->ids[c->order[i % c->n]],
                                     &out, NULL);
        if (s == LK_OK)
            *sum = bench_mix(*sum, bench_ticket_sum(out));
        bson_destroy(out);
    }
    fig[0] = (double)(bench_now_ns() - t0) / (double)c->m;
    return s == LK_OK;
}

static bool lookup_baseline(void *vctx, double *fig, uint64_t *sum)
{
    lookup_ctx *c = vctx;
    bool ok = true;
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; ok && i < c->m; i++) {
        bson_t *out = raw_find(&c->map, &c->ids[c->order[i % c->n]]);
        ok = out != NULL;
        if (ok)
            *sum = bench_mix(*sum, bench_ticket_sum(out));
        bson_destroy(out);
    }
    fig[0] = (double)(bench_now_ns() - t0) / (double)c->m;
    return ok;
}

/* Fills both stores with `n` documents (made one by one, not kept). */
static bool fill(lookup_ctx *c)
{
    bool ok = true;
    for (size_t i = 0; ok && i < c->n; i++) {
        bson_t *doc = bench_ticket_doc(&c->ids[i], i, "Concert", 0);
        ok = doc != NULL &&
             lk_collection_insert(c->coll, doc, NULL, NULL) == LK_OK &&
             raw_insert(&c->map, doc);
        bson_destroy(doc);
    }
    return ok;
}

static void bench_store_growth(const bench_opts *opts, bench_report *report)
{
    size_t max = opts->store_scale_max;
    /* Enough lookups per figure to time reliably, the same at every N. */
    size_t m = max >= 1000000 ? 100000 : 20000;
    double first_lk = 0, first_base = 0, last_lk = 0, last_base = 0;
    size_t first_n = 0, last_n = 0;

    for (size_t n = 1000; n <= max; n *= 10) {
        bench_row *row = bench_report_add_scale(report, "store lookup", n);
        if (row == NULL)
            return;
        bench_progress(opts, "store lookups at N=%zu", n);

        lookup_ctx c = {.n = n, .m = m};
        lk_store *store = lk_mem_store_new();
        c.coll = open_collection(store);
        c.ids = calloc(n, sizeof *c.ids);
        c.order = bench_shuffled(n, n);
        bool ok = c.coll && c.ids && c.order && oid_map_init(&c.map);
        if (ok) {
            bench_make_ids(c.ids, n);
            ok = fill(&c);
        }
        if (ok)
            ok = bench_run_pairs(opts, row, true, lookup_listenkit,
                                 lookup_baseline, &c);
        else
            bench_row_skip(row, "skipped: could not fill the stores");
        if (ok && first_n == 0) {
            first_n = n;
            first_lk = row->lk.median;
            first_base = row->base.median;
        }
        if (ok) {
            last_n = n;
            last_lk = row->lk.median;
            last_base = row->base.median;
        }
        lk_store_free(store);
        oid_map_free(&c.map);
        free(c.ids);
        free(c.order);
    }
    if (last_n <= first_n || first_lk <= 0 || first_base <= 0)
        return;

    /* How much slower a lookup gets from the smallest to the largest N.
     * Caches make every structure somewhat slower; a scan would be ~N/N0
     * slower. The ratio compares the growth with the hash map's. */
    bench_row *g = bench_report_add(report, "store lookup growth", "x");
    if (g == NULL)
        return;
    g->n = last_n;
    g->runs = opts->runs;
    g->lk = (bench_stat){last_lk / first_lk, NAN, NAN};
    g->base = (bench_stat){last_base / first_base, NAN, NAN};
    g->ratio = (bench_stat){g->lk.median / g->base.median, NAN, NAN};
    g->target_kind = BENCH_AT_MOST;
    g->target = 2;
    snprintf(g->lk_label, sizeof g->lk_label, "memory store");
    snprintf(g->base_label, sizeof g->base_label, "hash map of bson_t");
    bench_row_note(g, "lookup time at N=%zu / at N=%zu (a scan would be "
                   "~%zux); flat when the store grows like the hash map",
                   last_n, first_n, last_n / first_n);
}

void bench_store(const bench_opts *opts, bench_report *report)
{
    bench_store_ops(opts, report);
    bench_store_growth(opts, report);
}
