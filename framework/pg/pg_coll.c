/* pg_coll.c — the collection operations of the PostgreSQL store: the
 * document is built in the core's stored form (the same bytes the memory
 * store keeps), its unique keys are the core's, and every row a query
 * returns is re-checked with the core's filter evaluator. */
#include "pg_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listenkit/filter-private.h"
#include "listenkit/stored-private.h"

#define SQL_MAX 1024

/* ---- pieces ------------------------------------------------------------------ */

typedef struct built {
    uint8_t *buf;
    lk_stored stored;
    bson_oid_t id;
    uint8_t *keys[PG_MAX_UNIQUE];
    size_t key_lens[PG_MAX_UNIQUE];
} built;

static void built_free(built *b, size_t n_unique)
{
    lk_free(b->buf);
    for (size_t i = 0; i < n_unique; i++)
        lk_free(b->keys[i]);
}

/* The stored form of `doc` and its `_id`; prefixed "<coll>.<what>". */
static lk_status build(pg_coll *c, const bson_t *doc, bool save, built *b,
                       const char *what, lk_error *err)
{
    const char *vkey = c->base.opts.version_key;
    lk_stored_found found;
    size_t size = 0;
    memset(b, 0, sizeof *b);
    lk_status s = lk_stored_size(doc, vkey, &size, err);
    if (s == LK_OK && (b->buf = lk_malloc(size)) == NULL)
        s = lk_error_set(err, LK_ERR_NOMEM, "out of memory");
    if (s == LK_OK)
        s = lk_stored_build(doc, vkey, b->buf, &b->stored, &found, err);
    if (s == LK_OK)
        s = lk_stored_id(&found, save, &b->id, err);
    if (s != LK_OK) {
        lk_error_prefix(err, "%s.%s", c->base.name, what);
        return s;
    }
    lk_stored_set_id(&b->stored, &b->id);
    return LK_OK;
}

/* The unique keys of the built document (final version set). */
static lk_status build_keys(pg_coll *c, built *b, lk_error *err)
{
    bson_t view;
    lk_stored_view(&b->stored, &view);
    lk_status s = LK_OK;
    for (size_t i = 0; s == LK_OK && i < c->n_unique; i++)
        s = lk_stored_unique_key(&view, c->base.opts.unique[i], &b->keys[i],
                                 &b->key_lens[i], err);
    return s;
}

static lk_status copy_out(const lk_stored *stored, bson_t **out,
                          const char *coll, lk_error *err)
{
    if (out == NULL)
        return LK_OK;
    *out = lk_stored_copy(stored);
    if (*out == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", coll);
    return LK_OK;
}

static int64_t int8_at(const PGresult *r, int row, int col)
{
    const uint8_t *p = (const uint8_t *)PQgetvalue(r, row, col);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return (int64_t)v;
}

/* A unique violation, told in the memory store's words: the path and the
 * _id that holds the value (looked up on `conn`; "?" if it went since). */
static lk_status duplicate(pg_coll *c, PGconn *conn, const pg_fail *fail,
                           const built *b, const char *what, lk_error *err)
{
    size_t plen = strlen(c->prefix), i = 0;
    char hex[25] = "?";
    if (strncmp(fail->constraint, c->prefix, plen) == 0 &&
        sscanf(fail->constraint + plen, "__u%zu", &i) == 1 &&
        i < c->n_unique) {
        char sql[SQL_MAX];
        pg_params p = {0};
        PGresult *r = NULL;
        lk_error ignored;
        snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE u%zu = $1",
                 c->table, i);
        pg_param_bytes(&p, b->keys[i], b->key_lens[i]);
        if (pg_exec(&c->store->cfg, conn, sql, &p, &r, NULL, &ignored) ==
                LK_OK &&
            PQntuples(r) == 1 && PQgetlength(r, 0, 0) == 12) {
            bson_oid_t holder;
            memcpy(holder.bytes, PQgetvalue(r, 0, 0), 12);
            lk_oid_format(&holder, hex);
        }
        PQclear(r);
        return lk_error_set(err, LK_ERR_DUPLICATE,
                            "%s.%s: duplicate value for unique field \"%s\" "
                            "(held by _id %s)",
                            c->base.name, what, c->base.opts.unique[i], hex);
    }
    lk_oid_format(&b->id, hex);
    return lk_error_set(err, LK_ERR_DUPLICATE, "%s.%s: duplicate _id %s",
                        c->base.name, what, hex);
}

/* ---- insert and save ------------------------------------------------------------- */

static lk_status coll_insert(lk_collection *base, const bson_t *doc,
                             bson_t **out, lk_error *err)
{
    pg_coll *c = (pg_coll *)base;
    int64_t version = 0;
    built b;
    lk_status s = build(c, doc, false, &b, "insert", err);
    if (s == LK_OK && base->opts.occ == LK_OCC_EXTERNAL) {
        s = lk_stored_external_version(doc, base->opts.version_key, &version,
                                       err);
        if (s != LK_OK)
            lk_error_prefix(err, "%s.insert", base->name);
    }
    if (s == LK_OK) {
        lk_stored_set_version(&b.stored, version);
        s = build_keys(c, &b, err);
    }
    if (s == LK_OK) {
        char sql[SQL_MAX];
        pg_params p = {0};
        pg_fail fail;
        pg_lease lease;
        int n = snprintf(sql, sizeof sql,
                         "INSERT INTO %s (id, version, doc", c->table);
        for (size_t i = 0; i < c->n_unique; i++)
            n += snprintf(sql + n, sizeof sql - (size_t)n, ", u%zu", i);
        n += snprintf(sql + n, sizeof sql - (size_t)n,
                      ") VALUES ($1, $2, $3");
        for (size_t i = 0; i < c->n_unique; i++)
            n += snprintf(sql + n, sizeof sql - (size_t)n, ", $%zu", i + 4);
        snprintf(sql + n, sizeof sql - (size_t)n, ")");
        pg_param_bytes(&p, b.id.bytes, 12);
        pg_param_int64(&p, version);
        pg_param_bytes(&p, b.stored.data, b.stored.len);
        for (size_t i = 0; i < c->n_unique; i++)
            pg_param_bytes(&p, b.keys[i], b.key_lens[i]);
        s = pg_pool_take(&c->store->pool, &lease, err);
        if (s == LK_OK) {
            s = pg_run(&c->store->cfg, lease.conn, sql, &p, &fail, err);
            if (s == LK_ERR_DUPLICATE)
                s = duplicate(c, lease.conn, &fail, &b, "insert", err);
            pg_pool_give(&c->store->pool, &lease, s);
        }
    }
    if (s == LK_OK)
        s = copy_out(&b.stored, out, base->name, err);
    built_free(&b, c->n_unique);
    return s;
}

/* What the memory store would say of saving `doc` over the row now
 * stored: LK_ERR_NOT_FOUND when there is none, else lk_occ_check's verdict
 * on its version. */
static lk_status check_against_row(pg_coll *c, PGconn *conn,
                                   const bson_t *doc, const built *b,
                                   lk_error *err)
{
    char sql[SQL_MAX], hex[25];
    pg_params p = {0};
    PGresult *r = NULL;
    int64_t next = 0;
    snprintf(sql, sizeof sql, "SELECT version FROM %s WHERE id = $1",
             c->table);
    pg_param_bytes(&p, b->id.bytes, 12);
    lk_status s = pg_exec(&c->store->cfg, conn, sql, &p, &r, NULL, err);
    if (s != LK_OK)
        return s;
    lk_oid_format(&b->id, hex);
    if (PQntuples(r) == 0)
        s = lk_error_set(err, LK_ERR_NOT_FOUND,
                         "%s.save: no document with _id %s", c->base.name,
                         hex);
    else
        s = lk_occ_check(&c->base, doc, int8_at(r, 0, 0), &next, err);
    PQclear(r);
    return s;
}

/* After an UPDATE that changed nothing: is the document gone, or was the
 * version not the one the save needed? */
static lk_status why_not_saved(pg_coll *c, PGconn *conn, const bson_t *doc,
                               const built *b, lk_error *err)
{
    lk_status s = check_against_row(c, conn, doc, b, err);
    if (s == LK_OK) { /* another save landed between the two statements */
        char hex[25];
        lk_oid_format(&b->id, hex);
        s = lk_error_set(err, LK_ERR_VERSION,
                         "%s.save %s: stale document: the stored version "
                         "changed during the save",
                         c->base.name, hex);
    }
    return s;
}

/* A save whose version field or unique values are refused: the memory
 * store looks the document up first, so a missing one is LK_ERR_NOT_FOUND
 * and a stale one LK_ERR_VERSION before anything is said about its fields.
 * Keep that order: look, then say what the lookup found, or the refusal
 * already in `err`. */
static lk_status invalid_after_lookup(pg_coll *c, const bson_t *doc,
                                      const built *b, lk_error *err)
{
    lk_error scratch;
    lk_error_clear(&scratch);
    lk_error *keep = err != NULL ? err : &scratch;
    lk_error first = *keep;
    pg_lease lease;
    lk_status s = pg_pool_take(&c->store->pool, &lease, keep);
    if (s == LK_OK) {
        s = check_against_row(c, lease.conn, doc, b, keep);
        pg_pool_give(&c->store->pool, &lease, s);
    }
    if (s != LK_OK)
        return s;
    *keep = first;
    return LK_ERR_INVALID;
}

static lk_status coll_save(lk_collection *base, const bson_t *doc,
                           bson_t **out, lk_error *err)
{
    pg_coll *c = (pg_coll *)base;
    int64_t carried = 0, expected = 0, next = 0;
    built b;
    lk_status s = build(c, doc, true, &b, "save", err);
    bool have_id = s == LK_OK; /* from here on, a refusal waits for a lookup */
    /* The version the row must hold for this save to apply; lk_occ_check
     * then refuses a bad version field in the memory store's words and
     * says what the new version is. */
    if (s == LK_OK &&
        lk_bson_get_int64(doc, base->opts.version_key, &carried, NULL) ==
            LK_OK)
        expected = base->opts.occ == LK_OCC_EXTERNAL && carried > INT64_MIN
                       ? carried - 1
                       : carried;
    if (s == LK_OK)
        s = lk_occ_check(base, doc, expected, &next, err);
    if (s == LK_OK) {
        lk_stored_set_version(&b.stored, next);
        s = build_keys(c, &b, err);
    }
    if (s == LK_OK) {
        char sql[SQL_MAX];
        pg_params p = {0};
        pg_fail fail;
        pg_lease lease;
        PGresult *r = NULL;
        int n = snprintf(sql, sizeof sql,
                         "UPDATE %s SET version = $3, doc = $4", c->table);
        for (size_t i = 0; i < c->n_unique; i++)
            n += snprintf(sql + n, sizeof sql - (size_t)n, ", u%zu = $%zu", i,
                          i + 5);
        snprintf(sql + n, sizeof sql - (size_t)n,
                 " WHERE id = $1 AND version = $2");
        pg_param_bytes(&p, b.id.bytes, 12);
        pg_param_int64(&p, expected);
        pg_param_int64(&p, next);
        pg_param_bytes(&p, b.stored.data, b.stored.len);
        for (size_t i = 0; i < c->n_unique; i++)
            pg_param_bytes(&p, b.keys[i], b.key_lens[i]);
        s = pg_pool_take(&c->store->pool, &lease, err);
        if (s == LK_OK) {
            s = pg_exec(&c->store->cfg, lease.conn, sql, &p, &r, &fail, err);
            if (s == LK_OK && strcmp(PQcmdTuples(r), "1") != 0)
                s = why_not_saved(c, lease.conn, doc, &b, err);
            if (s == LK_ERR_DUPLICATE)
                s = duplicate(c, lease.conn, &fail, &b, "save", err);
            PQclear(r);
            pg_pool_give(&c->store->pool, &lease, s);
        }
    } else if (s == LK_ERR_INVALID && have_id) {
        s = invalid_after_lookup(c, doc, &b, err);
    }
    if (s == LK_OK)
        s = copy_out(&b.stored, out, base->name, err);
    built_free(&b, c->n_unique);
    return s;
}

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
        int64_t seq = int8_at(r, i, 0);
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

static lk_status coll_find_one(lk_collection *base, const bson_t *filter,
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

static lk_status coll_find(lk_collection *base, const bson_t *filter,
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
        *n = tuples ? int8_at(r, 0, 0) : strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return s;
}

static lk_status coll_count(lk_collection *base, const bson_t *filter,
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

static lk_status coll_delete(lk_collection *base, const bson_t *filter,
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

const lk_collection_ops pg_coll_ops = {
    .insert = coll_insert,
    .find_one = coll_find_one,
    .find = coll_find,
    .count = coll_count,
    .save = coll_save,
    .delete_many = coll_delete,
};
