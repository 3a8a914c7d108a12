/* SPDX-License-Identifier: MIT */
/* pg_store.c — the PostgreSQL lk_store: connecting, the schema, opening
 * collections (their table, unique indexes and recorded options), explain
 * and free. The operations themselves are in pg_coll.c. */
#include "pg_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_POOL 4
#define MAX_POOL 64
#define DEFAULT_CONNECT_MS 10000
#define DEFAULT_STATEMENT_MS 30000

/* The options table: one row per collection of the schema. Its name has a
 * '-', which no collection name can have. */
#define META "\"lk-collections\""

void pg_quote_ident(char *out, size_t size, const char *name)
{
    size_t n = 0;
    out[n++] = '"';
    for (const char *p = name; *p != '\0' && n + 3 < size; p++) {
        if (*p == '"')
            out[n++] = '"';
        out[n++] = *p;
    }
    out[n++] = '"';
    out[n] = '\0';
}

void pg_select_sql(char *sql, size_t size, const pg_coll *c,
                   const pg_where *w, int64_t skip, int64_t limit,
                   bool for_update)
{
    int n = snprintf(sql, size, "SELECT seq, doc FROM %s%s ORDER BY seq",
                     c->table, w->sql);
    if (limit > 0)
        n += snprintf(sql + n, size - (size_t)n, " LIMIT %lld",
                      (long long)limit);
    if (skip > 0)
        n += snprintf(sql + n, size - (size_t)n, " OFFSET %lld",
                      (long long)skip);
    if (for_update)
        snprintf(sql + n, size - (size_t)n, " FOR UPDATE");
}

/* ---- opening a collection ------------------------------------------------------ */

/* The unique paths as one bytea value: each path and its NUL. */
static char *join_paths(const char *const *unique, size_t n, size_t *len)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += strlen(unique[i]) + 1;
    char *out = lk_malloc(total + 1);
    if (out == NULL)
        return NULL;
    *len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(unique[i]) + 1;
        memcpy(out + *len, unique[i], l);
        *len += l;
    }
    return out;
}

/* Splits a recorded path list into base.opts.unique (NULL-terminated,
 * owned by the collection). */
static lk_status split_paths(pg_coll *c, const char *bytes, size_t len,
                             lk_error *err)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += bytes[i] == '\0';
    char **paths = lk_calloc(n + 1, sizeof *paths);
    if (paths == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "pg: out of memory");
    c->base.opts.unique = (const char *const *)paths;
    for (size_t i = 0, at = 0; i < n; i++) {
        paths[i] = lk_strdup(bytes + at);
        if (paths[i] == NULL)
            return lk_error_set(err, LK_ERR_NOMEM, "pg: out of memory");
        at += strlen(bytes + at) + 1;
    }
    c->n_unique = n;
    if (n == 0) { /* as the caller's NULL: no unique paths */
        lk_free(paths);
        c->base.opts.unique = NULL;
    }
    return LK_OK;
}

static void coll_free(pg_coll *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; c->base.opts.unique != NULL && c->base.opts.unique[i];
         i++)
        lk_free((char *)c->base.opts.unique[i]);
    lk_free((char **)c->base.opts.unique);
    lk_free((char *)c->base.opts.version_key);
    lk_free((char *)c->base.name);
    lk_free(c);
}

/* In one transaction, under a lock per schema: the options table, this
 * collection's row (recorded on first use, compared after), its table and
 * indexes. Fills c->base.opts.unique in the recorded order. */
static lk_status create_table(pg_store *st, PGconn *conn, pg_coll *c,
                              const lk_collection_opts *opts, lk_error *err)
{
    const pg_config *cfg = &st->cfg;
    char sql[1024], ident[160];
    size_t n_paths = lk_paths_count(opts->unique), joined_len = 0;
    char *joined = join_paths(opts->unique, n_paths, &joined_len);
    PGresult *r = NULL;
    pg_params p = {0};

    if (joined == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "pg: out of memory");
    pg_quote_ident(ident, sizeof ident, st->schema);
    lk_status s = pg_run(cfg, conn, "BEGIN", NULL, NULL, err);
    if (s == LK_OK) {
        pg_param_text(&p, st->schema);
        s = pg_run(cfg, conn, "SELECT pg_advisory_xact_lock(hashtext($1))", &p,
                   NULL, err);
    }
    if (s == LK_OK) {
        snprintf(sql, sizeof sql,
                 "CREATE TABLE IF NOT EXISTS %s." META " (name text PRIMARY "
                 "KEY, occ int NOT NULL, version_key text NOT NULL, unique_paths "
                 "bytea NOT NULL)",
                 ident);
        s = pg_run(cfg, conn, sql, NULL, NULL, err);
    }
    if (s == LK_OK) {
        memset(&p, 0, sizeof p);
        pg_param_text(&p, c->base.name);
        pg_param_int64(&p, (int64_t)opts->occ);
        pg_param_text(&p, c->base.opts.version_key);
        pg_param_bytes(&p, joined, joined_len);
        snprintf(sql, sizeof sql,
                 "INSERT INTO %s." META " VALUES ($1, $2, $3, $4) ON CONFLICT "
                 "(name) DO NOTHING",
                 ident);
        s = pg_run(cfg, conn, sql, &p, NULL, err);
    }
    if (s == LK_OK) {
        memset(&p, 0, sizeof p);
        pg_param_text(&p, c->base.name);
        snprintf(sql, sizeof sql,
                 "SELECT occ::text, version_key, unique_paths FROM %s." META
                 " WHERE name = $1",
                 ident);
        s = pg_exec(cfg, conn, sql, &p, &r, NULL, err);
    }
    if (s == LK_OK && PQntuples(r) != 1)
        s = lk_error_set(err, LK_ERR_IO, "pg: collection %s: its options "
                                         "row is missing", c->base.name);
    if (s == LK_OK) {
        /* binary results: int as text was asked for, text and bytea raw */
        bool same_occ = atoi(PQgetvalue(r, 0, 0)) == (int)opts->occ;
        bool same_key = (size_t)PQgetlength(r, 0, 1) ==
                            strlen(c->base.opts.version_key) &&
                        memcmp(PQgetvalue(r, 0, 1), c->base.opts.version_key,
                               (size_t)PQgetlength(r, 0, 1)) == 0;
        s = split_paths(c, PQgetvalue(r, 0, 2), (size_t)PQgetlength(r, 0, 2),
                        err);
        if (s == LK_OK &&
            (!same_occ || !same_key ||
             !lk_paths_same_set(c->base.opts.unique, opts->unique)))
            s = lk_error_set(err, LK_ERR_INVALID,
                             "collection %s: already recorded in schema %s "
                             "with other options (OCC mode, version key or "
                             "unique fields)",
                             c->base.name, st->schema);
    }
    PQclear(r);
    if (s == LK_OK) {
        int n = snprintf(sql, sizeof sql,
                         "CREATE TABLE IF NOT EXISTS %s (seq bigint GENERATED "
                         "ALWAYS AS IDENTITY, id bytea PRIMARY KEY, version "
                         "bigint NOT NULL, doc bytea NOT NULL",
                         c->table);
        for (size_t i = 0; i < c->n_unique; i++)
            n += snprintf(sql + n, sizeof sql - (size_t)n, ", u%zu bytea", i);
        snprintf(sql + n, sizeof sql - (size_t)n, ")");
        s = pg_run(cfg, conn, sql, NULL, NULL, err);
    }
    for (size_t i = 0; s == LK_OK && i <= c->n_unique; i++) {
        char index[96], quoted[100];
        if (i < c->n_unique)
            snprintf(index, sizeof index, "%s__u%zu", c->prefix, i);
        else
            snprintf(index, sizeof index, "%s__seq", c->prefix);
        pg_quote_ident(quoted, sizeof quoted, index);
        if (i < c->n_unique)
            snprintf(sql, sizeof sql,
                     "CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (u%zu)",
                     quoted, c->table, i);
        else
            snprintf(sql, sizeof sql,
                     "CREATE INDEX IF NOT EXISTS %s ON %s (seq)", quoted,
                     c->table);
        s = pg_run(cfg, conn, sql, NULL, NULL, err);
    }
    if (s == LK_OK)
        s = pg_run(cfg, conn, "COMMIT", NULL, NULL, err);
    else if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
        lk_error ignored;
        pg_run(cfg, conn, "ROLLBACK", NULL, NULL, &ignored);
    }
    lk_free(joined);
    return s;
}

static pg_coll *coll_new(pg_store *st, const char *name,
                         const lk_collection_opts *opts, const char *vkey)
{
    char quoted_schema[80], quoted_name[80];
    pg_coll *c = lk_calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->base.ops = &pg_coll_ops;
    c->base.store = &st->base;
    c->base.opts.occ = opts->occ;
    c->store = st;
    c->base.name = lk_strdup(name);
    c->base.opts.version_key = lk_strdup(vkey);
    if (c->base.name == NULL || c->base.opts.version_key == NULL) {
        coll_free(c);
        return NULL;
    }
    pg_quote_ident(quoted_schema, sizeof quoted_schema, st->schema);
    pg_quote_ident(quoted_name, sizeof quoted_name, name);
    snprintf(c->table, sizeof c->table, "%s.%s", quoted_schema, quoted_name);
    snprintf(c->prefix, sizeof c->prefix, "%s", name);
    return c;
}

/* lk_open_make_fn: the collection's options row, table and indexes, then
 * its pg_coll. */
static lk_status coll_make(void *store, const char *name,
                           const lk_collection_opts *opts, const char *vkey,
                           lk_collection **out, lk_error *err)
{
    pg_store *st = store;
    pg_lease lease;
    lk_status s = LK_OK;
    pg_coll *c = coll_new(st, name, opts, vkey);
    if (c == NULL)
        s = lk_error_set(err, LK_ERR_NOMEM, "collection %s: out of memory",
                         name);
    if (s == LK_OK)
        s = pg_pool_take(&st->pool, &lease, err);
    if (s == LK_OK) {
        s = create_table(st, lease.conn, c, opts, err);
        pg_pool_give(&st->pool, &lease, s);
    }
    if (s == LK_OK)
        *out = &c->base;
    else
        coll_free(c);
    return s;
}

static lk_status store_collection(lk_store *base, const char *name,
                                  const lk_collection_opts *opts,
                                  lk_collection **out, lk_error *err)
{
    pg_store *st = (pg_store *)base;
    /* Opening is rare: one at a time, so two threads opening the same new
     * collection make one table and one pg_coll. */
    return lk_open_colls_open(&st->colls, &st->lock, st, name, opts,
                              coll_make, out, err);
}

/* ---- the store ------------------------------------------------------------------ */

/* lk_open_colls_free's free_coll */
static void coll_drop(lk_collection *base)
{
    coll_free((pg_coll *)base);
}

static void store_free(lk_store *base)
{
    pg_store *st = (pg_store *)base;
    lk_open_colls_free(&st->colls, coll_drop);
    pg_pool_destroy(&st->pool);
    pg_config_free(&st->cfg);
    pthread_mutex_destroy(&st->lock);
    lk_free(st);
}

static const lk_store_ops store_ops = {
    .name = "postgres",
    .collection = store_collection,
    .free = store_free,
};

static bool valid_schema(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > LK_COLLECTION_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static lk_status check_opts(const lk_pg_opts *o, lk_error *err)
{
    if (o->schema != NULL && !valid_schema(o->schema))
        return lk_error_set(err, LK_ERR_INVALID,
                            "pg: schema \"%.64s\": 1 to %d letters, digits or "
                            "'_', not starting with a digit",
                            o->schema, LK_COLLECTION_NAME_MAX);
    if (o->pool_size < 0 || o->pool_size > MAX_POOL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "pg: pool_size must be 0 (default) to %d, got %d",
                            MAX_POOL, o->pool_size);
    if (o->connect_timeout_ms < 0 || o->statement_timeout_ms < 0)
        return lk_error_set(err, LK_ERR_INVALID,
                            "pg: timeouts must be >= 0 (0: default)");
    if (o->pushdown != LK_PG_PUSHDOWN_ENV && o->pushdown != LK_PG_PUSHDOWN_ON &&
        o->pushdown != LK_PG_PUSHDOWN_OFF)
        return lk_error_set(err, LK_ERR_INVALID, "pg: unknown pushdown %d",
                            (int)o->pushdown);
    return LK_OK;
}

/* Creates opts->schema, or finds the connection's current one. */
static lk_status settle_schema(pg_store *st, PGconn *conn, const char *schema,
                               lk_error *err)
{
    char sql[128], ident[80];
    if (schema != NULL) {
        snprintf(st->schema, sizeof st->schema, "%s", schema);
        pg_quote_ident(ident, sizeof ident, schema);
        snprintf(sql, sizeof sql, "CREATE SCHEMA IF NOT EXISTS %s", ident);
        /* IF NOT EXISTS is no guard against a concurrent creator: two
         * services starting at once both miss the schema and the second
         * fails on pg_namespace's unique index. The advisory lock (the
         * one create_table takes) makes the second wait and then see it. */
        pg_params p = {0};
        pg_param_text(&p, st->schema);
        lk_status s = pg_run(&st->cfg, conn, "BEGIN", NULL, NULL, err);
        if (s == LK_OK)
            s = pg_run(&st->cfg, conn,
                       "SELECT pg_advisory_xact_lock(hashtext($1))", &p, NULL,
                       err);
        if (s == LK_OK)
            s = pg_run(&st->cfg, conn, sql, NULL, NULL, err);
        if (s == LK_OK)
            s = pg_run(&st->cfg, conn, "COMMIT", NULL, NULL, err);
        else if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
            lk_error ignored;
            pg_run(&st->cfg, conn, "ROLLBACK", NULL, NULL, &ignored);
        }
        return s;
    }
    PGresult *r = NULL;
    lk_status s =
        pg_exec(&st->cfg, conn, "SELECT current_schema()", NULL, &r, NULL, err);
    if (s == LK_OK && (PQgetisnull(r, 0, 0) ||
                       (size_t)PQgetlength(r, 0, 0) >= sizeof st->schema ||
                       !valid_schema(PQgetvalue(r, 0, 0))))
        s = lk_error_set(err, LK_ERR_INVALID,
                         "pg: no usable current schema (search_path names "
                         "none that exists, or an unusual name): set "
                         "lk_pg_opts.schema");
    if (s == LK_OK)
        snprintf(st->schema, sizeof st->schema, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return s;
}

lk_status lk_pg_store_connect(lk_store **out, const char *conninfo,
                              const lk_pg_opts *opts, lk_error *err)
{
    static const lk_pg_opts defaults;
    if (out == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "pg: out is NULL");
    *out = NULL;
    if (opts == NULL)
        opts = &defaults;
    lk_status s = check_opts(opts, err);
    if (s != LK_OK)
        return s;
    pg_store *st = lk_calloc(1, sizeof *st);
    if (st == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "pg: out of memory");
    st->base.ops = &store_ops;
    if (opts->pushdown == LK_PG_PUSHDOWN_ENV) {
        const char *env = getenv("LK_PG_PUSHDOWN");
        st->pushdown = env == NULL || strcmp(env, "0") != 0;
    } else {
        st->pushdown = opts->pushdown == LK_PG_PUSHDOWN_ON;
    }
    s = pg_config_init(&st->cfg, conninfo,
                       opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
                                                    : DEFAULT_CONNECT_MS,
                       opts->statement_timeout_ms > 0
                           ? opts->statement_timeout_ms
                           : DEFAULT_STATEMENT_MS,
                       err);
    if (s != LK_OK) {
        lk_free(st);
        return s;
    }
    pthread_mutex_init(&st->lock, NULL); /* default attributes: cannot fail */
    s = pg_pool_init(&st->pool, &st->cfg,
                     opts->pool_size > 0 ? opts->pool_size : DEFAULT_POOL, err);
    if (s != LK_OK) {
        pthread_mutex_destroy(&st->lock);
        pg_config_free(&st->cfg);
        lk_free(st);
        return s;
    }
    pg_lease lease;
    s = pg_pool_take(&st->pool, &lease, err);
    if (s == LK_OK) {
        s = settle_schema(st, lease.conn, opts->schema, err);
        pg_pool_give(&st->pool, &lease, s);
    }
    if (s != LK_OK) {
        store_free(&st->base);
        return s;
    }
    *out = &st->base;
    return LK_OK;
}
