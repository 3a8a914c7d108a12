/* SPDX-License-Identifier: MIT */
/* ticket_docs.c — the ticket documents the store benchmarks (memory and
 * PostgreSQL) insert, look up and save, and what a caller reads from one. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bson_t *bench_ticket_doc(const bson_oid_t *id, size_t i, const char *title,
                         int64_t version)
{
    char text[64], user[32];
    bson_t *doc = bson_new();
    snprintf(text, sizeof text, "%s #%zu", title, i);
    snprintf(user, sizeof user, "user-%zu", i % 977);
    if (doc == NULL || !BSON_APPEND_OID(doc, "_id", id) ||
        !BSON_APPEND_UTF8(doc, "title", text) ||
        !BSON_APPEND_DOUBLE(doc, "price", 10.0 + (double)(i % 500)) ||
        !BSON_APPEND_UTF8(doc, "userId", user) ||
        !BSON_APPEND_INT64(doc, "version", version)) {
        bson_destroy(doc);
        return NULL;
    }
    return doc;
}

uint64_t bench_ticket_sum(const bson_t *doc)
{
    bson_iter_t it;
    uint64_t sum = doc->len;
    if (bson_iter_init_find(&it, doc, "title") && BSON_ITER_HOLDS_UTF8(&it))
        sum = bench_mix(sum, bench_str_sum(bson_iter_utf8(&it, NULL)));
    if (bson_iter_init_find(&it, doc, "version"))
        sum = bench_mix(sum, (uint64_t)bson_iter_as_int64(&it));
    return sum;
}

void bench_make_ids(bson_oid_t *ids, size_t n)
{
    bson_context_t *ctx = bson_context_new(BSON_CONTEXT_NONE);
    for (size_t i = 0; i < n; i++)
        bson_oid_init(&ids[i], ctx);
    bson_context_destroy(ctx);
}

size_t *bench_shuffled(size_t n, uint64_t seed)
{
    bench_rng rng = {seed};
    size_t *order = malloc(n * sizeof *order);
    for (size_t i = 0; order != NULL && i < n; i++)
        order[i] = i;
    if (order != NULL)
        bench_shuffle(&rng, order, n);
    return order;
}

bool bench_tickets_make(bench_tickets *t, size_t n, uint64_t seed)
{
    memset(t, 0, sizeof *t);
    t->n = n;
    t->ids = calloc(n, sizeof *t->ids);
    t->docs = calloc(n, sizeof *t->docs);
    t->saves = calloc(n, sizeof *t->saves);
    t->order = bench_shuffled(n, seed);
    bool ok = t->ids && t->docs && t->saves && t->order;
    if (ok)
        bench_make_ids(t->ids, n);
    for (size_t i = 0; ok && i < n; i++) {
        t->docs[i] = bench_ticket_doc(&t->ids[i], i, "Concert", 0);
        t->saves[i] = bench_ticket_doc(&t->ids[i], i, "Concert (moved)", 0);
        ok = t->docs[i] != NULL && t->saves[i] != NULL;
    }
    return ok;
}

void bench_tickets_free(bench_tickets *t)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->docs != NULL)
            bson_destroy(t->docs[i]);
        if (t->saves != NULL)
            bson_destroy(t->saves[i]);
    }
    free(t->ids);
    free(t->docs);
    free(t->saves);
    free(t->order);
    memset(t, 0, sizeof *t);
}
