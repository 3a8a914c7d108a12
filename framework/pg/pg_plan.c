/* SPDX-License-Identifier: MIT */
/* pg_plan.c — the part of a filter PostgreSQL answers (FerretDB v1's
 * design: push down only what SQL decides exactly, fetch those rows, and
 * re-check every one with the core's evaluator).
 *
 * Pushed down: a top-level `_id` equal to an ObjectId ({_id: oid} or
 * {_id: {$eq: oid}}), and a top-level unique path without dots equal to a
 * value its unique index keys (number, string, ObjectId, bool, date). Both
 * are exact: `_id` is always an ObjectId, and a unique path's value is
 * always a scalar (an insert or save with an array there is refused), so
 * the index key of the operand matches exactly the rows that hold an equal
 * value. A dotted unique path is not pushed down: {a.b: 1} also matches
 * {a: [{b: 1}]}, where the index has no key. The top-level fields of a
 * filter are ANDed, so each qualifying one adds a condition. */
#include "pg_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listenkit/value-private.h"

/* The operand of an equality: `it` itself, or the one $eq of an operator
 * document. False when the condition is anything else. */
static bool equality_operand(const bson_iter_t *it, bson_iter_t *operand)
{
    if (!BSON_ITER_HOLDS_DOCUMENT(it)) {
        *operand = *it;
        return true;
    }
    bson_iter_t op;
    if (!bson_iter_recurse(it, &op) || !bson_iter_next(&op) ||
        strcmp(bson_iter_key(&op), "$eq") != 0)
        return false;
    *operand = op;
    if (BSON_ITER_HOLDS_DOCUMENT(&op) || BSON_ITER_HOLDS_ARRAY(&op))
        return false;
    return !bson_iter_next(&op);
}

static bool keyable(const bson_iter_t *v)
{
    switch (bson_iter_type(v)) {
    case BSON_TYPE_INT32: case BSON_TYPE_INT64: case BSON_TYPE_DOUBLE:
    case BSON_TYPE_UTF8: case BSON_TYPE_OID: case BSON_TYPE_BOOL:
    case BSON_TYPE_DATE_TIME:
        return true;
    default:
        return false;
    }
}

static void add_condition(pg_where *w, const char *column, int param)
{
    size_t n = strlen(w->sql);
    snprintf(w->sql + n, sizeof w->sql - n, "%s%s = $%d",
             n == 0 ? " WHERE " : " AND ", column, param);
}

/* Copies a key into the where's own storage (it must outlive the
 * statement) and binds it. */
static lk_status bind_key(pg_where *w, pg_params *params, size_t slot,
                          const uint8_t *key, size_t len, const char *column,
                          lk_error *err)
{
    const uint8_t *bytes = key;
    if (len <= sizeof w->keys[slot]) {
        memcpy(w->keys[slot], key, len);
        bytes = w->keys[slot];
    } else {
        uint8_t *copy = lk_malloc(len);
        if (copy == NULL)
            return lk_error_set(err, LK_ERR_NOMEM, "pg: out of memory");
        memcpy(copy, key, len);
        w->long_keys[w->n_long++] = copy;
        bytes = copy;
    }
    add_condition(w, column, pg_param_bytes(params, bytes, len));
    return LK_OK;
}

lk_status pg_where_build(pg_where *w, pg_params *params, const bson_t *filter,
                         const char *const *unique, size_t n_unique,
                         bool pushdown, lk_error *err)
{
    bson_iter_t it, operand;
    bool used[PG_MAX_UNIQUE + 1] = {false};
    lk_status s = LK_OK;

    memset(w, 0, sizeof *w);
    if (!pushdown || filter == NULL || !bson_iter_init(&it, filter))
        return LK_OK;
    while (s == LK_OK && bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        if (!equality_operand(&it, &operand))
            continue;
        if (strcmp(key, "_id") == 0) {
            if (BSON_ITER_HOLDS_OID(&operand) && !used[PG_MAX_UNIQUE]) {
                used[PG_MAX_UNIQUE] = true;
                s = bind_key(w, params, PG_MAX_UNIQUE,
                             bson_iter_oid(&operand)->bytes, 12, "id", err);
            }
            continue;
        }
        for (size_t i = 0; i < n_unique; i++) {
            if (used[i] || strchr(unique[i], '.') != NULL ||
                strcmp(unique[i], key) != 0 || !keyable(&operand))
                continue;
            uint8_t *bytes = NULL;
            size_t len = 0;
            char column[24];
            used[i] = true;
            snprintf(column, sizeof column, "u%zu", i);
            s = lk_value_key(&operand, key, &bytes, &len, err);
            if (s == LK_OK)
                s = bind_key(w, params, i, bytes, len, column, err);
            lk_free(bytes);
            break;
        }
    }
    if (s != LK_OK)
        pg_where_free(w);
    return s;
}

void pg_where_free(pg_where *w)
{
    for (int i = 0; i < w->n_long; i++)
        lk_free(w->long_keys[i]);
    w->n_long = 0;
}
