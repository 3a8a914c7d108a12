/* SPDX-License-Identifier: MIT */
/* pg_coll.c — the PostgreSQL store's writes, insert and save: the
 * document is built in the core's stored form (the same bytes the memory
 * store keeps), its unique keys are the core's, and a refusal is told in
 * the memory store's words and order. The reads are in pg_query.c. */
#include "pg_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listenkit/stored-private.h"

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
    memset(b, 0, sizeof *b);
    return lk_stored_new(&c->base, doc, save, what, &b->buf, &b->stored,
                         &b->id, err);
}

/* Sets the built document's final `version`, then its unique keys. */
static lk_status build_keys(pg_coll *c, built *b, int64_t version,
                            lk_error *err)
{
    bson_t view;
    lk_stored_set_version(&b->stored, version);
    lk_stored_view(&b->stored, &view);
    lk_status s = LK_OK;
    for (size_t i = 0; s == LK_OK && i < c->n_unique; i++)
        s = lk_stored_unique_key(&view, c->base.opts.unique[i], &b->keys[i],
                                 &b->key_lens[i], err);
    return s;
}

/* The document and its unique keys, the last parameters of an INSERT or
 * UPDATE of a row. */
static void bind_doc(pg_params *p, const pg_coll *c, const built *b)
{
    pg_param_bytes(p, b->stored.data, b->stored.len);
    for (size_t i = 0; i < c->n_unique; i++)
        pg_param_bytes(p, b->keys[i], b->key_lens[i]);
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
    if (s == LK_OK)
        s = build_keys(c, &b, version, err);
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
        bind_doc(&p, c, &b);
        s = pg_pool_take(&c->store->pool, &lease, err);
        if (s == LK_OK) {
            s = pg_run(&c->store->cfg, lease.conn, sql, &p, &fail, err);
            if (s == LK_ERR_DUPLICATE)
                s = duplicate(c, lease.conn, &fail, &b, "insert", err);
            pg_pool_give(&c->store->pool, &lease, s);
        }
    }
    if (s == LK_OK)
        s = lk_stored_copy_out(&b.stored, out, base->name, err);
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
        s = lk_occ_check(&c->base, doc, pg_int8_at(r, 0, 0), &next, err);
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
    if (s == LK_OK)
        s = build_keys(c, &b, next, err);
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
        bind_doc(&p, c, &b);
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
        s = lk_stored_copy_out(&b.stored, out, base->name, err);
    built_free(&b, c->n_unique);
    return s;
}

const lk_collection_ops pg_coll_ops = {
    .insert = coll_insert,
    .find_one = pg_coll_find_one,
    .find = pg_coll_find,
    .count = pg_coll_count,
    .save = coll_save,
    .delete_many = pg_coll_delete,
};
