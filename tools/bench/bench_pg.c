/* SPDX-License-Identifier: MIT */
/* bench_pg.c — the PostgreSQL store against raw libpq issuing the same
 * statements on the same data: insert, find by _id, versioned save and a
 * filtered find (one that SQL cannot answer, so every row is fetched and
 * checked: by the core's evaluator in the store, by a hand-written test in
 * the baseline); then how a lookup's cost grows from N=10^3 to 10^5.
 *
 * The server is LK_PG_URL's, else a throwaway cluster started here
 * (spec/support/pg_server: our child, stopped at the end and following
 * this process's death). The tables live in a schema of their own, dropped
 * at the end. Both sides' tables are created by the store, so their layout
 * is the store's; the baseline's SQL is the text the store sends. */
#include "bench.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "listenkit/pg.h"
#include "pg_server.h"

#define FINDS 20            /* filtered finds per run */
#define PRICE_FROM 450.0    /* the filter: price >= 450 (12% of tickets) */
#define TABLE_MAX 160

typedef struct pg_bench {
    const char *url;
    char schema[64];
    lk_store *store;
    PGconn *raw;
} pg_bench;

/* ---- setup -------------------------------------------------------------- */

static bool failed(const char *what, const char *why)
{
    fprintf(stderr, "bench: pg: %s: %s\n", what, why);
    return false;
}

static bool raw_ok(PGresult *r, ExecStatusType want, const char *what)
{
    bool ok = PQresultStatus(r) == want;
    if (!ok)
        failed(what, PQresultErrorMessage(r));
    PQclear(r);
    return ok;
}

/* Opens `name` through the store (creating its table) and writes the
 * table's quoted name, as the store's statements spell it. */
static lk_collection *open_table(pg_bench *b, const char *name, char *table)
{
    lk_collection *coll = NULL;
    lk_error err;
    if (lk_store_collection(b->store, name, NULL, &coll, &err) != LK_OK) {
        failed("collection", err.message);
        return NULL;
    }
    snprintf(table, TABLE_MAX, "\"%s\".\"%s\"", b->schema, name);
    return coll;
}

static bool truncate_table(pg_bench *b, const char *table)
{
    char sql[TABLE_MAX + 16];
    snprintf(sql, sizeof sql, "TRUNCATE %s", table);
    return raw_ok(PQexec(b->raw, sql), PGRES_COMMAND_OK, "truncate");
}

/* ---- the baseline's statements ------------------------------------------ */

static bool raw_insert(PGconn *conn, const char *sql, const bson_t *doc,
                       const bson_oid_t *id)
{
    const char *vals[3] = {(const char *)id->bytes, "0",
                           (const char *)bson_get_data(doc)};
    int lens[3] = {12, 0, (int)doc->len}, fmts[3] = {1, 0, 1};
    return raw_ok(PQexecParams(conn, sql, 3, NULL, vals, lens, fmts, 1),
                  PGRES_COMMAND_OK, "raw insert");
}

/* The document stored under `id`, read straight from the result. */
static bool raw_find(PGconn *conn, const char *sql, const bson_oid_t *id,
                     uint64_t *sum)
{
    const char *vals[1] = {(const char *)id->bytes};
    int lens[1] = {12}, fmts[1] = {1};
    PGresult *r = PQexecParams(conn, sql, 1, NULL, vals, lens, fmts, 1);
    bson_t view;
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
              bson_init_static(&view, (const uint8_t *)PQgetvalue(r, 0, 1),
                               (size_t)PQgetlength(r, 0, 1));
    if (ok)
        *sum = bench_mix(*sum, bench_ticket_sum(&view));
    else
        failed("raw find", PQresultErrorMessage(r));
    PQclear(r);
    return ok;
}

/* Update-if-current by hand: the loaded version (0) must still be stored;
 * the document is stored with version 1. */
static bool raw_save(PGconn *conn, const char *sql, const bson_t *doc,
                     const bson_oid_t *id)
{
    bson_t next;
    bson_init(&next);
    bson_copy_to_excluding_noinit(doc, &next, "version", NULL);
    bool ok = BSON_APPEND_INT64(&next, "version", 1);
    const char *vals[4] = {(const char *)id->bytes, "0", "1",
                           (const char *)bson_get_data(&next)};
    int lens[4] = {12, 0, 0, (int)next.len}, fmts[4] = {1, 0, 0, 1};
    PGresult *r = ok ? PQexecParams(conn, sql, 4, NULL, vals, lens, fmts, 1)
                     : NULL;
    ok = ok && PQresultStatus(r) == PGRES_COMMAND_OK &&
         strcmp(PQcmdTuples(r), "1") == 0;
    if (!ok)
        failed("raw save", r != NULL ? PQresultErrorMessage(r) : "no memory");
    PQclear(r);
    bson_destroy(&next);
    return ok;
}

/* Every row, in insertion order, tested by hand for price >= PRICE_FROM. */
static bool raw_filtered(PGconn *conn, const char *sql, uint64_t *sum)
{
    PGresult *r = PQexecParams(conn, sql, 0, NULL, NULL, NULL, NULL, 1);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    for (int i = 0; ok && i < PQntuples(r); i++) {
        bson_t view;
        bson_iter_t it;
        ok = bson_init_static(&view, (const uint8_t *)PQgetvalue(r, i, 1),
                              (size_t)PQgetlength(r, i, 1));
        if (ok && bson_iter_init_find(&it, &view, "price") &&
            BSON_ITER_HOLDS_NUMBER(&it) &&
            bson_iter_as_double(&it) >= PRICE_FROM)
            *sum = bench_mix(*sum, bench_ticket_sum(&view));
    }
    if (!ok)
        failed("raw find", PQresultErrorMessage(r));
    PQclear(r);
    return ok;
}

/* ---- interleaved pairs -------------------------------------------------- */

/*
 * On a shared machine the load changes from second to second, and a
 * round trip to the server is mostly waiting for a CPU: whole runs of one
 * side then of the other measure the load as much as the code. So here
 * both sides take turns operation by operation (which goes first
 * alternates with every operation and every run), and each run yields one
 * figure per side and its ratio, as bench_run_pairs's runs do.
 */

/* Operation number i of one side; adds what it read to *sum. */
typedef bool (*op_fn)(void *ctx, size_t i, uint64_t *sum);

/* Runs operations 0..n-1 of both sides in turns, adding each side's time
 * to ns[0] (listenkit) and ns[1] (baseline) and its checksum to sum[]. */
static bool interleave(op_fn lk, op_fn base, void *ctx, size_t n,
                       size_t run, uint64_t ns[2], uint64_t sum[2])
{
    op_fn fn[2] = {lk, base};
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < 2; k++) {
            size_t side = (i + run + k) % 2;
            uint64_t t0 = bench_now_ns();
            if (!fn[side](ctx, i, &sum[side]))
                return false;
            ns[side] += bench_now_ns() - t0;
        }
    return true;
}

/* One run: figure j of each side in lk[j] and base[j]. */
typedef bool (*run_fn)(void *ctx, size_t run, double *lk, double *base,
                       uint64_t sum[2]);

#define MAX_ROWS 4

/* A warm-up run, then opts->runs measured ones filling the `k` rows; both
 * sides' checksums must agree on every run. */
static void run_interleaved(const bench_opts *opts, bench_row *const *rows,
                            size_t k, run_fn fn, void *ctx)
{
    size_t runs = (size_t)opts->runs;
    double *lk = calloc(runs * k, sizeof *lk);
    double *base = calloc(runs * k, sizeof *base);
    double a[MAX_ROWS], b[MAX_ROWS];
    uint64_t sum[2] = {0, 0};
    bool ok = lk != NULL && base != NULL && k <= MAX_ROWS &&
              fn(ctx, 0, a, b, sum);
    for (size_t r = 0; ok && r < runs; r++) {
        sum[0] = sum[1] = 0;
        ok = fn(ctx, r + 1, a, b, sum);
        for (size_t j = 0; ok && j < k; j++) {
            lk[j * runs + r] = a[j];
            base[j * runs + r] = b[j];
        }
        if (ok && sum[0] != sum[1])
            for (size_t j = 0; j < k; j++)
                bench_row_note(rows[j], "CHECKSUM MISMATCH on run %zu: "
                               "listenkit and baseline did different work",
                               r + 1);
        bench_consume(sum[0] ^ sum[1]);
    }
    for (size_t j = 0; j < k; j++) {
        if (ok)
            bench_row_fill(rows[j], &lk[j * runs], &base[j * runs],
                           opts->runs);
        else
            bench_row_skip(rows[j], "skipped: a run failed (see stderr)");
    }
    free(lk);
    free(base);
}

/* ---- insert / find / save / filtered find ------------------------------- */

typedef struct ops_ctx {
    pg_bench *b;
    bench_tickets t;
    bson_t filter;  /* {price: {$gte: PRICE_FROM}} */
    lk_collection *coll;
    char lk_table[TABLE_MAX], raw_table[TABLE_MAX];
    char sql_insert[256], sql_find[256], sql_save[256], sql_scan[256];
} ops_ctx;

static bool lk_failed(lk_status s, const lk_error *err)
{
    return s == LK_OK || failed("store", err->message);
}

static bool lk_insert_op(void *vctx, size_t i, uint64_t *sum)
{
    ops_ctx *c = vctx;
    lk_error err;
    (void)sum;
    return lk_failed(lk_collection_insert(c->coll, c->t.docs[i], NULL, &err),
                     &err);
}

static bool lk_find_at(ops_ctx *c, size_t at, uint64_t *sum)
{
    bson_t *out = NULL;
    lk_error err;
    lk_status s = lk_collection_find_by_id(c->coll, &c->t.ids[at], &out, &err);
    if (s == LK_OK)
        *sum = bench_mix(*sum, bench_ticket_sum(out));
    bson_destroy(out);
    return lk_failed(s, &err);
}

static bool lk_find_op(void *vctx, size_t i, uint64_t *sum)
{
    ops_ctx *c = vctx;
    return lk_find_at(c, c->t.order[i], sum);
}

static bool lk_save_op(void *vctx, size_t i, uint64_t *sum)
{
    ops_ctx *c = vctx;
    lk_error err;
    (void)sum;
    return lk_failed(lk_collection_save(c->coll, c->t.saves[i], NULL, &err),
                     &err);
}

static bool lk_filtered_op(void *vctx, size_t i, uint64_t *sum)
{
    ops_ctx *c = vctx;
    lk_cursor *cur = NULL;
    const bson_t *doc;
    lk_error err;
    (void)i;
    lk_status s = lk_collection_find(c->coll, &c->filter, NULL, &cur, &err);
    while (s == LK_OK && lk_cursor_next(cur, &doc))
        *sum = bench_mix(*sum, bench_ticket_sum(doc));
    if (s == LK_OK)
        s = lk_cursor_error(cur, &err);
    lk_cursor_free(cur);
    return lk_failed(s, &err);
}

/* Untimed: the saves stored what the baseline stores. */
static bool lk_readback_op(void *vctx, size_t i, uint64_t *sum)
{
    ops_ctx *c = vctx;
    return lk_find_at(c, i * c->t.n / 8, sum);
}

static bool raw_insert_op(void *vctx, size_t i, uint64_t *sum)
{
    ops_ctx *c = vctx;
    (void)sum;
    return raw_insert(c->b->raw, c->sql_insert, c->t.docs[i], &c->t.ids[i]);
}

static bool raw_find_op(void *vctx, size_t i, uint64_t *sum)
{
    ops_ctx *c = vctx;
    return raw_find(c->b->raw, c->sql_find, &c->t.ids[c->t.order[i]], sum);
}

static bool raw_save_op(void *vctx, size_t i, uint64_t *sum)
{
    ops_ctx *c = vctx;
    (void)sum;
    return raw_save(c->b->raw, c->sql_save, c->t.saves[i], &c->t.ids[i]);
}

static bool raw_filtered_op(void *vctx, size_t i, uint64_t *sum)
{
    ops_ctx *c = vctx;
    (void)i;
    return raw_filtered(c->b->raw, c->sql_scan, sum);
}

static bool raw_readback_op(void *vctx, size_t i, uint64_t *sum)
{
    ops_ctx *c = vctx;
    return raw_find(c->b->raw, c->sql_find, &c->t.ids[i * c->t.n / 8], sum);
}

static bool ops_run(void *vctx, size_t run, double *lk, double *base,
                    uint64_t sum[2])
{
    ops_ctx *c = vctx;
    uint64_t ns[MAX_ROWS][2] = {{0}}, untimed[2] = {0};
    bool ok = truncate_table(c->b, c->lk_table) &&
              truncate_table(c->b, c->raw_table) &&
              interleave(lk_insert_op, raw_insert_op, c, c->t.n, run, ns[0],
                         sum) &&
              interleave(lk_find_op, raw_find_op, c, c->t.n, run, ns[1], sum) &&
              interleave(lk_save_op, raw_save_op, c, c->t.n, run, ns[2], sum) &&
              interleave(lk_filtered_op, raw_filtered_op, c, FINDS, run,
                         ns[3], sum) &&
              interleave(lk_readback_op, raw_readback_op, c, 8, run, untimed,
                         sum);
    for (size_t j = 0; ok && j < MAX_ROWS; j++) {
        /* ns per operation; us per filtered find */
        double per = j < 3 ? (double)c->t.n : FINDS * 1000.0;
        lk[j] = (double)ns[j][0] / per;
        base[j] = (double)ns[j][1] / per;
    }
    return ok;
}

/* The statements the store sends for these operations on `table`. */
static void ops_sql(ops_ctx *c)
{
    const char *t = c->raw_table;
    snprintf(c->sql_insert, sizeof c->sql_insert,
             "INSERT INTO %s (id, version, doc) VALUES ($1, $2, $3)", t);
    snprintf(c->sql_find, sizeof c->sql_find,
             "SELECT seq, doc FROM %s WHERE id = $1 ORDER BY seq", t);
    snprintf(c->sql_save, sizeof c->sql_save,
             "UPDATE %s SET version = $3, doc = $4 WHERE id = $1 AND "
             "version = $2", t);
    snprintf(c->sql_scan, sizeof c->sql_scan,
             "SELECT seq, doc FROM %s ORDER BY seq", t);
}

static void bench_pg_ops(pg_bench *b, const bench_opts *opts,
                         bench_report *report, const char *skip)
{
    static const char *const names[MAX_ROWS] = {
        "pg insert", "pg find_by_id", "pg save (OCC)", "pg find (filter)"};
    ops_ctx c = {.b = b};
    size_t n = opts->n[BENCH_PG];
    bench_row *rows[MAX_ROWS];
    for (int i = 0; i < MAX_ROWS; i++) {
        rows[i] = bench_report_add(report, names[i], i < 3 ? "ns/op"
                                                           : "us/op");
        if (rows[i] == NULL)
            return;
        rows[i]->n = n;
        rows[i]->target_kind = BENCH_AT_MOST;
        rows[i]->target = 1.3;
        snprintf(rows[i]->lk_label, sizeof rows[i]->lk_label,
                 "PostgreSQL store");
        snprintf(rows[i]->base_label, sizeof rows[i]->base_label,
                 "raw libpq, same SQL");
    }
    if (skip != NULL) {
        for (int i = 0; i < MAX_ROWS; i++)
            bench_row_skip(rows[i], skip);
        return;
    }
    bson_init(&c.filter);
    bson_t price;
    BSON_APPEND_DOCUMENT_BEGIN(&c.filter, "price", &price);
    BSON_APPEND_DOUBLE(&price, "$gte", PRICE_FROM);
    bson_append_document_end(&c.filter, &price);
    bool ok = bench_tickets_make(&c.t, n, 11);
    ok = ok && (c.coll = open_table(b, "ops_lk", c.lk_table)) != NULL &&
         open_table(b, "ops_raw", c.raw_table) != NULL;
    if (ok) {
        ops_sql(&c);
        run_interleaved(opts, rows, MAX_ROWS, ops_run, &c);
    } else {
        for (int i = 0; i < MAX_ROWS; i++)
            bench_row_skip(rows[i], "skipped: setup failed (see stderr)");
    }
    bench_row_note(rows[0], "one INSERT each; the sides take turns "
                            "operation by operation");
    bench_row_note(rows[1], "random order; the store hands out a copy, the "
                            "baseline reads the result");
    bench_row_note(rows[2], "one UPDATE ... WHERE id AND version each");
    bench_row_note(rows[3], "{price: {$gte: 450}} over N rows (12%% match): "
                            "SQL fetches every row, the store re-checks "
                            "with the core evaluator, the baseline by hand");
    bson_destroy(&c.filter);
    bench_tickets_free(&c.t);
}

/* ---- lookup cost as the table grows ------------------------------------- */

typedef struct lookup_ctx {
    pg_bench *b;
    size_t n, m; /* documents in the table, lookups per figure */
    bson_oid_t *ids;
    size_t *order;
    lk_collection *coll;
    char sql_find[256];
} lookup_ctx;

static bool lk_lookup_op(void *vctx, size_t i, uint64_t *sum)
{
    lookup_ctx *c = vctx;
    bson_t *out = NULL;
    lk_error err;
    lk_status s = lk_collection_find_by_id(
        c->coll, &c->ids[c->order[i % c->n]], &out, &err);
    if (s == LK_OK)
        *sum = bench_mix(*sum, bench_ticket_sum(out));
    bson_destroy(out);
    return lk_failed(s, &err);
}

static bool raw_lookup_op(void *vctx, size_t i, uint64_t *sum)
{
    lookup_ctx *c = vctx;
    return raw_find(c->b->raw, c->sql_find, &c->ids[c->order[i % c->n]],
                    sum);
}

static bool lookup_run(void *vctx, size_t run, double *lk, double *base,
                       uint64_t sum[2])
{
    lookup_ctx *c = vctx;
    uint64_t ns[2] = {0, 0};
    if (!interleave(lk_lookup_op, raw_lookup_op, c, c->m, run, ns, sum))
        return false;
    lk[0] = (double)ns[0] / (double)c->m;
    base[0] = (double)ns[1] / (double)c->m;
    return true;
}

static void growth_row(bench_report *report, const bench_opts *opts,
                       const bench_row *first, const bench_row *last)
{
    bench_row *g = bench_report_add(report, "pg lookup growth", "x");
    if (g == NULL)
        return;
    g->n = last->n;
    g->runs = opts->runs;
    g->lk = (bench_stat){last->lk.median / first->lk.median, NAN, NAN};
    g->base = (bench_stat){last->base.median / first->base.median, NAN, NAN};
    g->ratio = (bench_stat){g->lk.median / g->base.median, NAN, NAN};
    g->target_kind = BENCH_AT_MOST;
    g->target = 1.5;
    g->target_on_lk = true;
    snprintf(g->lk_label, sizeof g->lk_label, "PostgreSQL store");
    snprintf(g->base_label, sizeof g->base_label, "raw libpq, same SQL");
    bench_row_note(g, "lookup time at N=%zu / at N=%zu; the target bounds "
                   "the store's own growth (a scan would be ~%zux)",
                   last->n, first->n, last->n / first->n);
}

static void bench_pg_growth(pg_bench *b, const bench_opts *opts,
                            bench_report *report, const char *skip)
{
    size_t max = opts->pg_scale_max;
    lookup_ctx c = {.b = b, .m = opts->n[BENCH_PG]};
    char table[TABLE_MAX];
    size_t first = SIZE_MAX, last = SIZE_MAX, filled = 0;
    bool ok = skip == NULL;
    if (ok) {
        c.ids = calloc(max, sizeof *c.ids);
        c.coll = open_table(b, "lookup", table);
        ok = c.ids != NULL && c.coll != NULL;
    }
    if (ok) {
        bench_make_ids(c.ids, max);
        snprintf(c.sql_find, sizeof c.sql_find,
                 "SELECT seq, doc FROM %s WHERE id = $1 ORDER BY seq", table);
    }
    for (size_t n = 1000; n <= max; n *= 10) {
        bench_row *row = bench_report_add_scale(report, "pg lookup", n);
        if (row == NULL)
            break;
        if (!ok) {
            bench_row_skip(row, skip != NULL ? skip
                                             : "skipped: setup failed");
            continue;
        }
        bench_progress(opts, "pg lookups at N=%zu (filling the table)", n);
        /* The table grows through the store, one insert per document. */
        for (; ok && filled < n; filled++) {
            bson_t *doc = bench_ticket_doc(&c.ids[filled], filled, "Concert",
                                           0);
            lk_error err;
            ok = doc != NULL &&
                 lk_collection_insert(c.coll, doc, NULL, &err) == LK_OK;
            if (!ok)
                failed("fill", doc != NULL ? err.message : "no memory");
            bson_destroy(doc);
        }
        c.n = n;
        free(c.order);
        c.order = bench_shuffled(n, n);
        ok = ok && c.order != NULL;
        if (ok)
            run_interleaved(opts, &row, 1, lookup_run, &c);
        ok = ok && !row->skipped;
        if (!ok) {
            if (!row->skipped)
                bench_row_skip(row, "skipped: a run failed (see stderr)");
            continue;
        }
        if (first == SIZE_MAX)
            first = report->count - 1;
        last = report->count - 1;
    }
    if (first != SIZE_MAX && last != first)
        growth_row(report, opts, &report->rows[first], &report->rows[last]);
    free(c.ids);
    free(c.order);
}

void bench_pg(const bench_opts *opts, bench_report *report)
{
    static spec_pg_server srv;
    pg_bench b = {0};
    lk_error err = {0};
    char skip[600] = "";
    if (getenv("LK_PG_URL") == NULL)
        bench_progress(opts, "starting a throwaway PostgreSQL ...");
    if (!spec_pg_server_start(&srv)) {
        snprintf(skip, sizeof skip, "skipped: no PostgreSQL: %.400s",
                 srv.reason);
    } else {
        b.url = srv.url;
        spec_pg_unique_name(b.schema, sizeof b.schema, "lk_bench");
        lk_pg_opts o = {.schema = b.schema, .pushdown = LK_PG_PUSHDOWN_ON};
        if (lk_pg_store_connect(&b.store, b.url, &o, &err) != LK_OK)
            snprintf(skip, sizeof skip, "skipped: %.400s", err.message);
        b.raw = PQconnectdb(b.url);
        if (skip[0] == '\0' && PQstatus(b.raw) != CONNECTION_OK)
            snprintf(skip, sizeof skip, "skipped: raw libpq: %.400s",
                     PQerrorMessage(b.raw));
    }
    const char *why = skip[0] != '\0' ? skip : NULL;
    bench_pg_ops(&b, opts, report, why);
    bench_pg_growth(&b, opts, report, why);
    lk_store_free(b.store);
    PQfinish(b.raw);
    if (srv.ok && b.schema[0] != '\0')
        spec_pg_drop_schema(srv.url, b.schema);
    spec_pg_server_stop(&srv);
}
