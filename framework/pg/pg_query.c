/* SPDX-License-Identifier: MIT */
/* pg_query.c — the PostgreSQL store's reads: find, find_one, count,
 * delete (which reads what it deletes) and explain. The pushed-down SELECT
 * (pg_plan.c) fetches candidates in insertion order; every one is
 * re-checked with the core's filter evaluator, so the answer is the memory
 * store's. */
#include "pg_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listenkit/filter-private.h"

/* ---- queries -------------------------------------------------------------------- */

/* Called with each matching document, in insertion order; false stops. */
typedef bool (*row_fn)(void *ctx, const bson_t *doc, int64_t seq);

typedef struct query {
    pg_coll *c;
    const bson_t *filter; /* checked; NULL when empty */
    const char *what;
} query;

static lk_status query_init(query *q, pg_coll *c, const bson_t *filter,
                            const char *what, lk_error *err)
{
    bson_oid_t id;
    q->c = c;
    q->what = what;
    q->filter = filter != NULL && !bson_empty(filter) ? filter : NULL;
    if (q->filter == NULL || lk_filter_is_id(filter, &id))
        return LK_OK;
    lk_status s = lk_filter_check(filter, err);
    if (s != LK_OK)
        lk_error_prefix(err, "%s.%s", c->base.name, what);
    return s;
}

/* Runs the pushed-down SELECT on `conn` and hands every row the evaluator
 * matches to `fn`. skip/limit go to SQL only for an empty filter (with a
 * filter, SQL's rows are candidates, not matches). */
static lk_status scan(const query *q, PGconn *conn, int64_t skip,
                      int64_t limit, bool for_update, row_fn fn, void *ctx,
                      lk_error *err)
{
    pg_coll *c = q->c;
    char sql[SQL_MAX];
    pg_params p = {0};
    pg_where w;
    PGresult *r = NULL;
    lk_status s = pg_where_build(&w, &p, q->filter, c->base.opts.unique,
                                 c->n_unique, c->store->pushdown, err);
    if (s != LK_OK)
        return s;
    bool exact = q->filter == NULL;
    pg_select_sql(sql, sizeof sql, c, &w, exact ? skip : 0,
                  exact ? limit : 0, for_update);
    s = pg_exec(&c->store->cfg, conn, sql, &p, &r, NULL, err);
    pg_where_free(&w);
    for (int i = 0; s == LK_OK && i < PQntuples(r); i++) {
        bson_t view;
        int64_t seq = pg_int8_at(r, i, 0);
        if (!bson_init_static(&view, (const uint8_t *)PQgetvalue(r, i, 1),
                              (size_t)PQgetlength(r, i, 1))) {
            s = lk_error_set(err, LK_ERR_IO,
                             "%s.%s: the stored row %lld is not BSON (the "
                             "table was changed by hand?)",
                             c->base.name, q->what, (long long)seq);
            break;
        }
        if (q->filter != NULL && !lk_filter_match(q->filter, &view))
            continue;
        if (!exact && skip > 0) {
            skip--;
            continue;
        }
        if (!fn(ctx, &view, seq))
            break;
    }
    PQclear(r);
    return s;
}

/* One query on a pooled connection. */
static lk_status scan_pooled(const query *q, int64_t skip, int64_t limit,
                             row_fn fn, void *ctx, lk_error *err)
{
    pg_lease lease;
    lk_status s = pg_pool_take(&q->c->store->pool, &lease, err);
    if (s != LK_OK)
        return s;
    s = scan(q, lease.conn, skip, limit, false, fn, ctx, err);
    pg_pool_give(&q->c->store->pool, &lease, s);
    return s;
}

typedef struct collect {
    bson_t **docs;
    size_t n, cap;
    int64_t limit;
    int64_t *seqs; /* delete: the rows to delete */
    bool oom;
} collect;

static bool grow(collect *k)
{
    if (k->n < k->cap)
        return true;
    size_t cap = k->cap == 0 ? 16 : k->cap * 2;
    bson_t **docs = lk_realloc(k->docs, cap * sizeof *docs);
    if (docs != NULL)
        k->docs = docs;
    int64_t *seqs = docs != NULL ? lk_realloc(k->seqs, cap * sizeof *seqs) : NULL;
    if (seqs != NULL)
        k->seqs = seqs;
    if (docs == NULL || seqs == NULL) {
        k->oom = true;
        return false;
    }
    k->cap = cap;
    return true;
}

static bool collect_doc(void *ctx, const bson_t *doc, int64_t seq)
{
    collect *k = ctx;
    if (!grow(k))
        return false;
    k->seqs[k->n] = seq;
    k->docs[k->n] = bson_copy(doc);
    k->n++;
    return k->limit == 0 || (int64_t)k->n < k->limit;
}

static void collect_free(collect *k)
{
    for (size_t i = 0; i < k->n; i++)
        bson_destroy(k->docs[i]);
    lk_free(k->docs);
    lk_free(k->seqs);
}

lk_status pg_coll_find_one(lk_collection *base, const bson_t *filter,
                               bson_t **out, lk_error *err)
{
    pg_coll *c = (pg_coll *)base;
    collect k = {.limit = 1};
    query q;
    lk_status s = query_init(&q, c, filter, "find_one", err);
    if (s == LK_OK)
        s = scan_pooled(&q, 0, 1, collect_doc, &k, err);
    if (s == LK_OK && k.oom)
        s = lk_error_set(err, LK_ERR_NOMEM, "%s.find_one: out of memory",
                         base->name);
    if (s == LK_OK && k.n == 0)
        s = lk_error_set(err, LK_ERR_NOT_FOUND,
                         "%s.find_one: no document matches", base->name);
    if (s == LK_OK) {
        *out = k.docs[0];
        k.n = 0;
    }
    collect_free(&k);
    return s;
}

/* ---- the cursor: a snapshot, as the memory store's ------------------------------- */

typedef struct pg_cursor {
    lk_cursor base;
    collect rows;
    size_t pos;
} pg_cursor;

static bool cursor_next(lk_cursor *base, const bson_t **doc)
{
    pg_cursor *cur = (pg_cursor *)base;
    if (cur->pos >= cur->rows.n)
        return false;
    *doc = cur->rows.docs[cur->pos++];
    return true;
}

static lk_status cursor_error(lk_cursor *base, lk_error *err)
{
    (void)base;
    lk_error_clear(err);
    return LK_OK; /* every row was fetched by find */
}

static void cursor_free(lk_cursor *base)
{
    pg_cursor *cur = (pg_cursor *)base;
    collect_free(&cur->rows);
    lk_free(cur);
}

static const lk_cursor_ops cursor_ops = {
    .next = cursor_next,
    .error = cursor_error,
    .free = cursor_free,
};

lk_status pg_coll_find(lk_collection *base, const bson_t *filter,
                           const lk_find_opts *opts, lk_cursor **out,
                           lk_error *err)
{
    pg_coll *c = (pg_coll *)base;
    int64_t skip = opts != NULL ? opts->skip : 0;
    query q;
    lk_status s = query_init(&q, c, filter, "find", err);
    if (s != LK_OK)
        return s;
    pg_cursor *cur = lk_calloc(1, sizeof *cur);
    if (cur == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "%s.find: out of memory",
                            base->name);
    cur->base.ops = &cursor_ops;
    cur->rows.limit = opts != NULL ? opts->limit : 0;
    s = scan_pooled(&q, skip, cur->rows.limit, collect_doc, &cur->rows, err);
    if (s == LK_OK && cur->rows.oom)
        s = lk_error_set(err, LK_ERR_NOMEM, "%s.find: out of memory",
                         base->name);
    if (s != LK_OK) {
        cursor_free(&cur->base);
        return s;
    }
    *out = &cur->base;
    return LK_OK;
}

/* ---- count and delete ---------------------------------------------------------------- */

static bool count_row(void *ctx, const bson_t *doc, int64_t seq)
{
    (void)doc;
    (void)seq;
    (*(int64_t *)ctx)++;
    return true;
}

/* One statement whose answer is a number: count(*) or a command's rows. */
static lk_status run_number(pg_coll *c, const char *sql, const pg_params *p,
                            bool tuples, int64_t *n, lk_error *err)
{
    pg_lease lease;
    PGresult *r = NULL;
    lk_status s = pg_pool_take(&c->store->pool, &lease, err);
    if (s == LK_OK) {
        s = pg_exec(&c->store->cfg, lease.conn, sql, p, &r, NULL, err);
        pg_pool_give(&c->store->pool, &lease, s);
    }
    if (s == LK_OK)
        *n = tuples ? pg_int8_at(r, 0, 0) : strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return s;
}

lk_status pg_coll_count(lk_collection *base, const bson_t *filter,
                            int64_t *out, lk_error *err)
{
    pg_coll *c = (pg_coll *)base;
    char sql[SQL_MAX];
    int64_t n = 0;
    query q;
    lk_status s = query_init(&q, c, filter, "count", err);
    if (s == LK_OK && q.filter == NULL) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", c->table);
        s = run_number(c, sql, NULL, true, &n, err);
    } else if (s == LK_OK) {
        s = scan_pooled(&q, 0, 0, count_row, &n, err);
    }
    if (s == LK_OK)
        *out = n;
    return s;
}

static bool collect_seq(void *ctx, const bson_t *doc, int64_t seq)
{
    collect *k = ctx;
    (void)doc;
    if (!grow(k))
        return false;
    k->docs[k->n] = NULL;
    k->seqs[k->n++] = seq;
    return true;
}

/* The matches, locked (FOR UPDATE) so a concurrent save cannot change
 * them between the check and the DELETE, then deleted by seq. */
static lk_status delete_matches(const query *q, PGconn *conn, int64_t *n,
                                lk_error *err)
{
    const pg_config *cfg = &q->c->store->cfg;
    collect k = {0};
    PGresult *r = NULL;
    lk_status s = pg_run(cfg, conn, "BEGIN", NULL, NULL, err);
    if (s == LK_OK)
        s = scan(q, conn, 0, 0, true, collect_seq, &k, err);
    if (s == LK_OK && k.oom)
        s = lk_error_set(err, LK_ERR_NOMEM, "%s.delete: out of memory",
                         q->c->base.name);
    if (s == LK_OK && k.n > 0) {
        /* "{1,2,3}": one array parameter however many rows */
        size_t cap = k.n * 21 + 3, len = 0;
        char *list = lk_malloc(cap), sql[SQL_MAX];
        pg_params p = {0};
        if (list == NULL)
            s = lk_error_set(err, LK_ERR_NOMEM, "%s.delete: out of memory",
                             q->c->base.name);
        for (size_t i = 0; s == LK_OK && i < k.n; i++)
            len += (size_t)snprintf(list + len, cap - len, "%c%lld",
                                    i == 0 ? '{' : ',', (long long)k.seqs[i]);
        if (s == LK_OK) {
            snprintf(list + len, cap - len, "}");
            pg_param_text(&p, list);
            snprintf(sql, sizeof sql,
                     "DELETE FROM %s WHERE seq = ANY ($1::bigint[])",
                     q->c->table);
            s = pg_exec(cfg, conn, sql, &p, &r, NULL, err);
        }
        if (s == LK_OK)
            *n = strtoll(PQcmdTuples(r), NULL, 10);
        PQclear(r);
        lk_free(list);
    }
    if (s == LK_OK)
        s = pg_run(cfg, conn, "COMMIT", NULL, NULL, err);
    else if (PQtransactionStatus(conn) == PQTRANS_INERROR ||
             PQtransactionStatus(conn) == PQTRANS_INTRANS) {
        lk_error ignored;
        pg_run(cfg, conn, "ROLLBACK", NULL, NULL, &ignored);
    }
    collect_free(&k);
    return s;
}

lk_status pg_coll_delete(lk_collection *base, const bson_t *filter,
                             int64_t *deleted, lk_error *err)
{
    pg_coll *c = (pg_coll *)base;
    int64_t n = 0;
    query q;
    lk_status s = query_init(&q, c, filter, "delete", err);
    if (s == LK_OK && q.filter == NULL) {
        char sql[SQL_MAX];
        snprintf(sql, sizeof sql, "DELETE FROM %s", c->table);
        s = run_number(c, sql, NULL, false, &n, err);
    } else if (s == LK_OK) {
        pg_lease lease;
        s = pg_pool_take(&c->store->pool, &lease, err);
        if (s == LK_OK) {
            s = delete_matches(&q, lease.conn, &n, err);
            pg_pool_give(&c->store->pool, &lease, s);
        }
    }
    if (s == LK_OK && deleted != NULL)
        *deleted = n;
    return s;
}

lk_status lk_pg_collection_explain(lk_collection *coll, const bson_t *filter,
                                   char **plan, lk_error *err)
{
    if (plan != NULL)
        *plan = NULL;
    if (coll == NULL || plan == NULL || coll->ops != &pg_coll_ops)
        return lk_error_set(err, LK_ERR_INVALID,
                            "pg explain: needs a collection of a PostgreSQL "
                            "store and somewhere to put the plan");
    pg_coll *c = (pg_coll *)coll;
    lk_status s = lk_filter_check(filter, err);
    if (s != LK_OK) {
        lk_error_prefix(err, "%s.explain", coll->name);
        return s;
    }
    pg_params p = {0};
    pg_where w;
    char sql[1024] = "EXPLAIN ";
    s = pg_where_build(&w, &p, filter, c->base.opts.unique, c->n_unique,
                       c->store->pushdown, err);
    if (s != LK_OK)
        return s;
    pg_select_sql(sql + 8, sizeof sql - 8, c, &w, 0, 0, false);
    pg_lease lease;
    PGresult *r = NULL;
    s = pg_pool_take(&c->store->pool, &lease, err);
    if (s == LK_OK) {
        s = pg_exec(&c->store->cfg, lease.conn, sql, &p, &r, NULL, err);
        pg_pool_give(&c->store->pool, &lease, s);
    }
    pg_where_free(&w);
    size_t total = 1;
    for (int i = 0; s == LK_OK && i < PQntuples(r); i++)
        total += (size_t)PQgetlength(r, i, 0) + 1;
    char *text = s == LK_OK ? lk_malloc(total) : NULL;
    if (s == LK_OK && text == NULL)
        s = lk_error_set(err, LK_ERR_NOMEM, "pg explain: out of memory");
    if (s == LK_OK) {
        size_t n = 0;
        for (int i = 0; i < PQntuples(r); i++) {
            size_t len = (size_t)PQgetlength(r, i, 0);
            memcpy(text + n, PQgetvalue(r, i, 0), len);
            n += len;
            text[n++] = '\n';
        }
        text[n] = '\0';
        *plan = text;
    }
    PQclear(r);
    return s;
}
