/* SPDX-License-Identifier: MIT */
/*
 * framework/pg/pg_private.h — the PostgreSQL store's parts (see
 * listenkit/pg.h for what it promises):
 *   pg_conn.c   one connection: connect with timeouts, run a statement with
 *               a deadline, turn libpq's failures into lk_error (host and
 *               port named, the password never)
 *   pg_pool.c   the connection pool every thread shares
 *   pg_plan.c   what of a filter goes to SQL (the pushdown)
 *   pg_store.c  the store: connect, schema, opening collections (DDL and
 *               the options table), free
 *   pg_coll.c   the writes: insert and save
 *   pg_query.c  the reads: find (and its cursor), find_one, count, delete,
 *               explain
 * Private to framework/pg/.
 */
#ifndef LISTENKIT_PG_PRIVATE_H
#define LISTENKIT_PG_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "listenkit/alloc.h"
#include "listenkit/pg.h"
#include "listenkit/store-private.h"

/* One column and index per unique path: lk_store_collection refuses more
 * than LK_UNIQUE_MAX. */
#define PG_MAX_UNIQUE LK_UNIQUE_MAX
/* The longest statement text the store builds (names are short: store.h's
 * rule). */
#define SQL_MAX 1024
/* Bound parameters of one statement, at most. */
#define PG_MAX_PARAMS (PG_MAX_UNIQUE + 8)

/* ---- parameters --------------------------------------------------------- */

typedef struct pg_params {
    int n;
    const char *values[PG_MAX_PARAMS];
    int lengths[PG_MAX_PARAMS];
    int formats[PG_MAX_PARAMS]; /* 1: binary (bytea), 0: text */
    char text[PG_MAX_PARAMS][24];
} pg_params;

/* Adds a binary (bytea) parameter; `bytes` stay the caller's and must
 * outlive the statement (NULL: SQL NULL). Returns its number ($n). */
int pg_param_bytes(pg_params *p, const void *bytes, size_t len);

/* Adds an integer as a text parameter. Returns its number. */
int pg_param_int64(pg_params *p, int64_t value);

/* Adds a text parameter (borrowed). Returns its number. */
int pg_param_text(pg_params *p, const char *text);

/* ---- one connection (pg_conn.c) -------------------------------------------- */

typedef struct pg_config {
    char *conninfo;          /* as given (or $DATABASE_URL); "" for none */
    char *password;          /* what to scrub from messages; may be NULL */
    char connect_timeout[24];
    char statement_timeout[48]; /* "SET statement_timeout = N" */
    int64_t deadline_ms;     /* the client's wait for one round trip */
} pg_config;

/* Parses `conninfo` (LK_ERR_INVALID without echoing it: a malformed
 * string may hold a password) and fills `cfg`. */
lk_status pg_config_init(pg_config *cfg, const char *conninfo,
                         int64_t connect_timeout_ms,
                         int64_t statement_timeout_ms, lk_error *err);
void pg_config_free(pg_config *cfg);

/* A new connection with the statement timeout set. LK_ERR_IO naming host
 * and port. */
lk_status pg_connect(const pg_config *cfg, PGconn **out, lk_error *err);

/* What a failed statement reported. */
typedef struct pg_fail {
    char sqlstate[6];
    char constraint[64];
} pg_fail;

/* Runs `sql` with `params` (NULL: none), binary results, waiting at most
 * cfg->deadline_ms. On LK_OK *out holds the result (the caller clears
 * it). Failures: LK_ERR_DUPLICATE (unique violation: fail->constraint
 * says which), LK_ERR_TIMEOUT (statement timeout or the deadline),
 * LK_ERR_IO (connection lost, server error); the message names host and
 * port and what failed. `fail` may be NULL. */
lk_status pg_exec(const pg_config *cfg, PGconn *conn, const char *sql,
                  const pg_params *params, PGresult **out, pg_fail *fail,
                  lk_error *err);

/* A bigint column of a binary result (8 bytes, network order). */
int64_t pg_int8_at(const PGresult *r, int row, int col);

/* The same for a statement whose result is not needed. */
lk_status pg_run(const pg_config *cfg, PGconn *conn, const char *sql,
                 const pg_params *params, pg_fail *fail, lk_error *err);

/* ---- the pool (pg_pool.c) ----------------------------------------------------- */

typedef struct pg_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    const pg_config *cfg;
    PGconn **idle;
    int n_idle, open, max;
    unsigned generation; /* bumped by pg_pool_reset */
} pg_pool;

typedef struct pg_lease {
    PGconn *conn;
    unsigned generation;
} pg_lease;

lk_status pg_pool_init(pg_pool *pool, const pg_config *cfg, int max,
                       lk_error *err);
void pg_pool_destroy(pg_pool *pool); /* closes every idle connection */

/* A connection for one call: an idle one, a new one while fewer than max
 * are open, else the first one given back within cfg->deadline_ms
 * (LK_ERR_TIMEOUT). */
lk_status pg_pool_take(pg_pool *pool, pg_lease *lease, lk_error *err);

/* Gives the connection back. `status` is how the call ended: after
 * LK_ERR_IO or LK_ERR_TIMEOUT the connection is closed and so is every
 * idle one (the server likely went away), so the next call reconnects. A
 * connection left inside a transaction is closed too. */
void pg_pool_give(pg_pool *pool, pg_lease *lease, lk_status status);

/* ---- pushdown (pg_plan.c) ----------------------------------------------------------- */

typedef struct pg_where {
    char sql[32 + PG_MAX_PARAMS * 24]; /* "" or " WHERE id = $1 AND u0 = $2" */
    uint8_t keys[PG_MAX_UNIQUE + 1][40]; /* parameter bytes (short keys) */
    uint8_t *long_keys[PG_MAX_UNIQUE + 1]; /* longer ones, malloc'd */
    int n_long;
} pg_where;

/* What of `filter` (checked) SQL can answer exactly, as a WHERE clause on
 * `params`: equality on `_id` and on the top-level paths of `unique`
 * (n_unique, column u<i> each). Empty when `pushdown` is false or nothing
 * qualifies. Free with pg_where_free. */
lk_status pg_where_build(pg_where *w, pg_params *params, const bson_t *filter,
                         const char *const *unique, size_t n_unique,
                         bool pushdown, lk_error *err);
void pg_where_free(pg_where *w);

/* ---- the store and its collections (pg_store.c, pg_coll.c) ------------------------ */

typedef struct pg_store pg_store;

typedef struct pg_coll {
    lk_collection base;
    pg_store *store;
    char table[160];  /* "schema"."name", quoted */
    char prefix[64];  /* the name, for index names: <name>__u<i> */
    size_t n_unique;  /* base.opts.unique: as recorded, column order */
} pg_coll;

struct pg_store {
    lk_store base;
    pg_config cfg;
    pg_pool pool;
    char schema[LK_COLLECTION_NAME_MAX + 1];
    bool pushdown;
    pthread_mutex_t lock; /* guards colls */
    lk_open_colls colls;  /* of pg_coll */
};

extern const lk_collection_ops pg_coll_ops;

/* The reads of pg_coll_ops (pg_query.c). */
lk_status pg_coll_find_one(lk_collection *base, const bson_t *filter,
                           bson_t **out, lk_error *err);
lk_status pg_coll_find(lk_collection *base, const bson_t *filter,
                       const lk_find_opts *opts, lk_cursor **out,
                       lk_error *err);
lk_status pg_coll_count(lk_collection *base, const bson_t *filter,
                        int64_t *out, lk_error *err);
lk_status pg_coll_delete(lk_collection *base, const bson_t *filter,
                         int64_t *deleted, lk_error *err);

/* Builds the SELECT find runs (into `sql`, `size` bytes): the columns
 * seq and doc of the rows `where` selects, in insertion order, with
 * LIMIT/OFFSET when `limit`/`skip` may go to SQL (> 0). */
void pg_select_sql(char *sql, size_t size, const pg_coll *c,
                   const pg_where *w, int64_t skip, int64_t limit,
                   bool for_update);

/* Quotes an identifier for SQL ("name", with '"' doubled). */
void pg_quote_ident(char *out, size_t size, const char *name);

#endif /* LISTENKIT_PG_PRIVATE_H */
