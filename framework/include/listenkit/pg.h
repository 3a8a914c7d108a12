/* SPDX-License-Identifier: MIT */
/*
 * listenkit/pg.h — the PostgreSQL lk_store (liblistenkit-pg, pkg-config
 * module listenkit-pg; links libpq).
 *
 *     lk_store *store = NULL;
 *     lk_pg_opts opts = {.schema = "tickets_service"};
 *     if (lk_pg_store_connect(&store, NULL, &opts, &err) != LK_OK)  // $DATABASE_URL
 *         ... err.message names host and port, never the password ...
 *     lk_store_collection(store, "tickets", NULL, &tickets, &err);
 *     ...
 *     lk_store_free(store);
 *
 * It keeps the whole contract of listenkit/store.h (both OCC modes, the
 * filter language, insertion order), held to the memory store by
 * spec/contract/store_contract_spec.c. How:
 *   - One table per collection, named as the collection (store.h's name
 *     rule; quoted all the same), in opts.schema, with columns
 *       seq      bigint identity  insertion order (`find` sorts by it; a
 *                                 save keeps it, as the memory store does)
 *       id       bytea PRIMARY KEY  the 12 ObjectId bytes of `_id`
 *       version  bigint            the stored version (OCC)
 *       doc      bytea             the document's BSON bytes, exactly as
 *                                  handed back: every type, key order and
 *                                  number width survives the round trip
 *       u0, u1.. bytea UNIQUE      one per unique path: the core's index
 *                                  key of the value (1, 1L and 1.0 clash;
 *                                  absent or null is NULL, never clashing)
 *     and a table "lk-collections" recording each collection's options,
 *     so a second process (or a reopened store) opening it with other
 *     options gets LK_ERR_INVALID. Every value is a bound parameter; no
 *     field name ever reaches SQL text.
 *   - Filters: pushed down to SQL where SQL answers exactly — equality on
 *     `_id` and on top-level unique paths (an index scan on the primary key
 *     or the path's unique index; lk_pg_collection_explain shows it) — and
 *     every row SQL returns is re-checked with the core's evaluator, so the
 *     answer is the memory store's. Pushdown off (opts.pushdown or
 *     LK_PG_PUSHDOWN=0) scans the table in insertion order and evaluates
 *     every row: the way to tell a pushdown bug from an evaluator bug.
 *   - save is one statement, UPDATE ... WHERE id = $1 AND version = $2;
 *     when it changes no row, one more SELECT tells LK_ERR_VERSION from
 *     LK_ERR_NOT_FOUND. delete locks the rows it re-checks (SELECT ... FOR
 *     UPDATE in one transaction), so it deletes exactly what matched.
 *
 * Thread-safety: a pool of at most opts.pool_size connections, shared by
 * every thread. Each call takes one connection for its duration (waiting at
 * most opts.statement_timeout_ms for a free one: LK_ERR_TIMEOUT), so
 * handlers on several libnats threads may share one store. A cursor holds
 * no connection (its rows were fetched by find). lk_store_free() must not
 * race with other calls on the same store.
 *
 * Failures: a server that cannot be reached or goes away mid-call gives
 * LK_ERR_IO naming host and port; the pool then drops its connections and
 * the next call connects again. A statement over opts.statement_timeout_ms
 * gives LK_ERR_TIMEOUT (the server cancels it; the client stops waiting a
 * second later whatever the server does, so no call blocks forever).
 */
#ifndef LISTENKIT_PG_H
#define LISTENKIT_PG_H

#include <stdint.h>

#include "listenkit/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lk_pg_pushdown {
    LK_PG_PUSHDOWN_ENV = 0, /* $LK_PG_PUSHDOWN: "0" turns it off; else on */
    LK_PG_PUSHDOWN_ON,
    LK_PG_PUSHDOWN_OFF
} lk_pg_pushdown;

typedef struct lk_pg_opts {
    /* The schema holding the tables; created when missing. A name by the
     * collection name rule. NULL: the connection's current schema (the
     * first of its search_path that exists). */
    const char *schema;
    int pool_size;                /* connections at most; 0: 4 */
    int64_t connect_timeout_ms;   /* 0: 10000 (libpq counts whole seconds,
                                     at least 2) */
    int64_t statement_timeout_ms; /* 0: 30000 */
    lk_pg_pushdown pushdown;
} lk_pg_opts;

/* Connects (one connection now, to fail early; the pool grows on demand)
 * and returns a new store in *out (NULL on failure; free it with
 * lk_store_free). `conninfo` is a libpq URL ("postgresql://user@host:port/db")
 * or key=value string ("host=... dbname=..."); NULL means $DATABASE_URL,
 * and when that is unset or empty, libpq's own defaults (PGHOST, PGPORT,
 * PGUSER, ...). `opts` may be NULL. Errors: LK_ERR_INVALID for a
 * malformed conninfo or options, LK_ERR_IO when the server cannot be
 * reached or refuses us; messages name host and port, never a password. */
lk_status lk_pg_store_connect(lk_store **out, const char *conninfo,
                              const lk_pg_opts *opts, lk_error *err);

/* The plan PostgreSQL makes for the query `find` runs with `filter` on
 * `coll` (a collection of a PostgreSQL store): EXPLAIN's text, one line
 * per plan node, in *plan (the caller frees it with lk_free()). For checking
 * that a filter is served by an index. LK_ERR_INVALID for a bad filter or
 * a collection of another store. */
lk_status lk_pg_collection_explain(lk_collection *coll, const bson_t *filter,
                                   char **plan, lk_error *err);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_PG_H */
