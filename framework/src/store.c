/* SPDX-License-Identifier: MIT */
/* store.c — the collection wrappers and the helpers every store shares,
 * above all lk_occ_check(): the one statement of the OCC rule. */
#include "listenkit/store.h"

#include "listenkit/event.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static lk_status check_coll(lk_collection *coll, const char *what,
                            lk_error *err)
{
    if (coll == NULL || coll->ops == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "%s: collection is NULL",
                            what);
    return LK_OK;
}

/* Letters, digits and '_', not starting with a digit: a name every store
 * can use as is (PostgreSQL: a table name, quoted all the same). */
static lk_status check_name(const char *name, lk_error *err)
{
    size_t n = strlen(name);
    bool ok = n <= LK_COLLECTION_NAME_MAX && !(name[0] >= '0' && name[0] <= '9');
    for (size_t i = 0; ok && i < n; i++)
        ok = (name[i] >= 'a' && name[i] <= 'z') ||
             (name[i] >= 'A' && name[i] <= 'Z') ||
             (name[i] >= '0' && name[i] <= '9') || name[i] == '_';
    if (!ok)
        return lk_error_set(err, LK_ERR_INVALID,
                            "collection \"%.64s%s\": a name is 1 to %d "
                            "letters, digits or '_', not starting with a digit",
                            name, n > 64 ? "..." : "", LK_COLLECTION_NAME_MAX);
    return LK_OK;
}

static bool listed(const char *const *list, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], path) == 0)
            return true;
    return false;
}

static lk_status check_unique_paths(const char *name,
                                    const char *const *unique, lk_error *err)
{
    for (size_t i = 0; unique != NULL && unique[i] != NULL; i++) {
        const char *p = unique[i];
        if (i == LK_UNIQUE_MAX)
            return lk_error_set(err, LK_ERR_INVALID,
                                "collection %s: at most %d unique fields",
                                name, LK_UNIQUE_MAX);
        if (p[0] == '\0' || p[0] == '.' || p[strlen(p) - 1] == '.' ||
            strstr(p, "..") != NULL)
            return lk_error_set(err, LK_ERR_INVALID,
                                "collection %s: invalid unique field \"%s\"",
                                name, p);
        if (strcmp(p, "_id") == 0)
            return lk_error_set(err, LK_ERR_INVALID,
                                "collection %s: \"_id\" is always unique; do "
                                "not list it in unique",
                                name);
        if (listed(unique, i, p))
            return lk_error_set(err, LK_ERR_INVALID,
                                "collection %s: unique field \"%s\" listed "
                                "twice",
                                name, p);
    }
    return LK_OK;
}

lk_status lk_store_collection(lk_store *store, const char *name,
                              const lk_collection_opts *opts,
                              lk_collection **out, lk_error *err)
{
    lk_collection_opts defaults = {.occ = LK_OCC_UPDATE_IF_CURRENT};
    if (out != NULL)
        *out = NULL;
    if (store == NULL || store->ops == NULL || out == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "collection: store and out must not be NULL");
    if (name == NULL || name[0] == '\0')
        return lk_error_set(err, LK_ERR_INVALID,
                            "collection: name must not be empty");
    lk_status s = check_name(name, err);
    if (s != LK_OK)
        return s;
    if (opts == NULL)
        opts = &defaults;
    if (opts->occ != LK_OCC_UPDATE_IF_CURRENT && opts->occ != LK_OCC_EXTERNAL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "collection %s: unknown OCC mode %d", name,
                            (int)opts->occ);
    if (opts->version_key != NULL &&
        (opts->version_key[0] == '\0' || strcmp(opts->version_key, "_id") == 0 ||
         strchr(opts->version_key, '.') != NULL))
        return lk_error_set(err, LK_ERR_INVALID,
                            "collection %s: invalid version key \"%s\"", name,
                            opts->version_key);
    s = check_unique_paths(name, opts->unique, err);
    if (s != LK_OK)
        return s;
    return store->ops->collection(store, name, opts, out, err);
}

void lk_store_free(lk_store *store)
{
    if (store != NULL && store->ops != NULL)
        store->ops->free(store);
}

lk_status lk_collection_insert(lk_collection *coll, const bson_t *doc,
                               bson_t **out, lk_error *err)
{
    if (out != NULL)
        *out = NULL;
    lk_status s = check_coll(coll, "insert", err);
    if (s == LK_OK && doc == NULL)
        s = lk_error_set(err, LK_ERR_INVALID, "%s.insert: document is NULL",
                         coll->name);
    if (s == LK_OK)
        s = coll->ops->insert(coll, doc, out, err);
    return s;
}

lk_status lk_collection_find_one(lk_collection *coll, const bson_t *filter,
                                 bson_t **out, lk_error *err)
{
    if (out != NULL)
        *out = NULL;
    lk_status s = check_coll(coll, "find_one", err);
    if (s == LK_OK && out == NULL)
        s = lk_error_set(err, LK_ERR_INVALID, "%s.find_one: out is NULL",
                         coll->name);
    if (s == LK_OK)
        s = coll->ops->find_one(coll, filter, out, err);
    return s;
}

lk_status lk_collection_find(lk_collection *coll, const bson_t *filter,
                             const lk_find_opts *opts, lk_cursor **out,
                             lk_error *err)
{
    if (out != NULL)
        *out = NULL;
    lk_status s = check_coll(coll, "find", err);
    if (s == LK_OK && out == NULL)
        s = lk_error_set(err, LK_ERR_INVALID, "%s.find: out is NULL",
                         coll->name);
    if (s == LK_OK && opts != NULL && (opts->limit < 0 || opts->skip < 0))
        s = lk_error_set(err, LK_ERR_INVALID,
                         "%s.find: limit and skip must be >= 0", coll->name);
    if (s == LK_OK)
        s = coll->ops->find(coll, filter, opts, out, err);
    return s;
}

lk_status lk_collection_count(lk_collection *coll, const bson_t *filter,
                              int64_t *out, lk_error *err)
{
    lk_status s = check_coll(coll, "count", err);
    if (s == LK_OK && out == NULL)
        s = lk_error_set(err, LK_ERR_INVALID, "%s.count: out is NULL",
                         coll->name);
    if (s == LK_OK)
        s = coll->ops->count(coll, filter, out, err);
    return s;
}

lk_status lk_collection_save(lk_collection *coll, const bson_t *doc,
                             bson_t **out, lk_error *err)
{
    if (out != NULL)
        *out = NULL;
    lk_status s = check_coll(coll, "save", err);
    if (s == LK_OK && doc == NULL)
        s = lk_error_set(err, LK_ERR_INVALID, "%s.save: document is NULL",
                         coll->name);
    if (s == LK_OK)
        s = coll->ops->save(coll, doc, out, err);
    return s;
}

lk_status lk_collection_delete(lk_collection *coll, const bson_t *filter,
                               int64_t *deleted, lk_error *err)
{
    if (deleted != NULL)
        *deleted = 0;
    lk_status s = check_coll(coll, "delete", err);
    if (s == LK_OK && filter == NULL)
        s = lk_error_set(err, LK_ERR_INVALID,
                         "%s.delete: filter is NULL (pass {} to delete all)",
                         coll->name);
    if (s == LK_OK)
        s = coll->ops->delete_many(coll, filter, deleted, err);
    return s;
}

lk_status lk_collection_find_by_id(lk_collection *coll, const bson_oid_t *id,
                                   bson_t **out, lk_error *err)
{
    if (id == NULL) {
        if (out != NULL)
            *out = NULL;
        return lk_error_set(err, LK_ERR_INVALID, "find_by_id: id is NULL");
    }
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_OID(&filter, "_id", id);
    lk_status s = lk_collection_find_one(coll, &filter, out, err);
    bson_destroy(&filter);
    return s;
}

bool lk_cursor_next(lk_cursor *cursor, const bson_t **doc)
{
    if (doc != NULL)
        *doc = NULL;
    if (cursor == NULL || doc == NULL)
        return false;
    return cursor->ops->next(cursor, doc);
}

lk_status lk_cursor_error(lk_cursor *cursor, lk_error *err)
{
    if (cursor == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "cursor is NULL");
    return cursor->ops->error(cursor, err);
}

void lk_cursor_free(lk_cursor *cursor)
{
    if (cursor != NULL)
        cursor->ops->free(cursor);
}

/* ---- helpers ------------------------------------------------------------ */

/* Points `it` at `key` (a dotted path allowed) for the lk_bson_get_*
 * getters: LK_ERR_INVALID for NULL arguments, LK_ERR_NOT_FOUND when absent.
 * `what` names the getter in the NULL-argument message. */
static lk_status find_key(const bson_t *doc, const char *key, const void *out,
                          const char *what, bson_iter_t *it, lk_error *err)
{
    if (doc == NULL || key == NULL || out == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "%s: arguments must not be NULL", what);
    /* A plain key (the version key always is) needs no path walk: it is
     * read on every save, and the walk costs several times the lookup. */
    bool found = strchr(key, '.') == NULL
                     ? bson_iter_init_find(it, doc, key)
                     : bson_iter_init(it, doc) &&
                           bson_iter_find_descendant(it, key, it);
    if (!found)
        return lk_error_set(err, LK_ERR_NOT_FOUND, "field \"%s\" is missing",
                            key);
    return LK_OK;
}

lk_status lk_bson_get_string(const bson_t *doc, const char *key,
                             const char **out, lk_error *err)
{
    bson_iter_t it;
    lk_status s = find_key(doc, key, out, "get_string", &it, err);
    if (s != LK_OK)
        return s;
    if (!BSON_ITER_HOLDS_UTF8(&it))
        return lk_error_set(err, LK_ERR_INVALID,
                            "field \"%s\": expected a string, got BSON type "
                            "0x%02x",
                            key, (unsigned)bson_iter_type(&it));
    *out = bson_iter_utf8(&it, NULL);
    return LK_OK;
}

lk_status lk_bson_get_double(const bson_t *doc, const char *key, double *out,
                             lk_error *err)
{
    bson_iter_t it;
    lk_status s = find_key(doc, key, out, "get_double", &it, err);
    if (s != LK_OK)
        return s;
    switch (bson_iter_type(&it)) {
    case BSON_TYPE_DOUBLE: *out = bson_iter_double(&it); return LK_OK;
    case BSON_TYPE_INT32: *out = bson_iter_int32(&it); return LK_OK;
    case BSON_TYPE_INT64: *out = (double)bson_iter_int64(&it); return LK_OK;
    default:
        return lk_error_set(err, LK_ERR_INVALID,
                            "field \"%s\": expected a number, got BSON type "
                            "0x%02x",
                            key, (unsigned)bson_iter_type(&it));
    }
}

lk_status lk_bson_get_int64(const bson_t *doc, const char *key, int64_t *out,
                            lk_error *err)
{
    bson_iter_t it;
    lk_status s = find_key(doc, key, out, "get_int64", &it, err);
    if (s != LK_OK)
        return s;
    switch (bson_iter_type(&it)) {
    case BSON_TYPE_INT32:
        *out = bson_iter_int32(&it);
        return LK_OK;
    case BSON_TYPE_INT64:
        *out = bson_iter_int64(&it);
        return LK_OK;
    case BSON_TYPE_DOUBLE: {
        double d = bson_iter_double(&it);
        /* 2^63 is the first double outside int64; inside the range the
         * cast is defined, and a round trip tells integral values apart
         * (without floor(), so static users need no -lm). */
        if (isfinite(d) && d >= -9223372036854775808.0 &&
            d < 9223372036854775808.0 && d == (double)(int64_t)d) {
            *out = (int64_t)d;
            return LK_OK;
        }
        return lk_error_set(err, LK_ERR_INVALID,
                            "field \"%s\": expected an integer, got %g", key,
                            d);
    }
    default:
        return lk_error_set(err, LK_ERR_INVALID,
                            "field \"%s\": expected an integer, got BSON type "
                            "0x%02x",
                            key, (unsigned)bson_iter_type(&it));
    }
}

lk_status lk_bson_get_oid(const bson_t *doc, bson_oid_t *out, lk_error *err)
{
    bson_iter_t it;
    if (doc == NULL || out == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "get_oid: arguments must not be NULL");
    if (!bson_iter_init_find(&it, doc, "_id"))
        return lk_error_set(err, LK_ERR_NOT_FOUND, "field \"_id\" is missing");
    if (!BSON_ITER_HOLDS_OID(&it))
        return lk_error_set(err, LK_ERR_INVALID,
                            "field \"_id\": expected an ObjectId, got BSON "
                            "type 0x%02x",
                            (unsigned)bson_iter_type(&it));
    bson_oid_copy(bson_iter_oid(&it), out);
    return LK_OK;
}

lk_status lk_oid_parse(const char *hex, bson_oid_t *out, lk_error *err)
{
    if (hex == NULL || out == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "id: expected a 24-character hex ObjectId, got "
                            "NULL");
    size_t len = strnlen(hex, 25);
    if (len != 24 || !bson_oid_is_valid(hex, len))
        return lk_error_set(err, LK_ERR_INVALID,
                            "id: expected a 24-character hex ObjectId, got "
                            "\"%.32s%s\"",
                            hex, strnlen(hex, 33) > 32 ? "..." : "");
    bson_oid_init_from_string(out, hex);
    return LK_OK;
}

lk_status lk_event_oid(const json_t *data, const char *path, bson_oid_t *out,
                       lk_error *err)
{
    if (path == NULL || out == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "event_oid: arguments must not be NULL");
    const char *hex = lk_event_string(data, path);
    if (hex == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "field \"%s\": expected an ObjectId string", path);
    lk_status s = lk_oid_parse(hex, out, err);
    if (s != LK_OK)
        lk_error_prefix(err, "field \"%s\"", path);
    return s;
}

void lk_oid_format(const bson_oid_t *oid, char buf[25])
{
    bson_oid_to_string(oid, buf);
}

bson_t *lk_bson_with_int64(const bson_t *doc, const char *key, int64_t value)
{
    bson_iter_t it;
    bson_t *copy = bson_new(); /* never NULL: libbson aborts on OOM */
    bool replaced = false;

    if (doc != NULL && bson_iter_init(&it, doc)) {
        while (bson_iter_next(&it)) {
            if (strcmp(bson_iter_key(&it), key) == 0) {
                BSON_APPEND_INT64(copy, key, value);
                replaced = true;
            } else {
                bson_append_iter(copy, NULL, 0, &it);
            }
        }
    }
    if (!replaced)
        BSON_APPEND_INT64(copy, key, value);
    return copy;
}

lk_status lk_occ_check(const lk_collection *coll, const bson_t *doc,
                       int64_t stored, int64_t *next, lk_error *err)
{
    char id[25] = "?";
    bson_oid_t oid;
    int64_t carried = 0;

    if (coll == NULL || doc == NULL || next == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "occ_check: arguments must not be NULL");
    /* An implementation that forgot to default the key still gets the
     * documented one. */
    const char *key = coll->opts.version_key != NULL
                          ? coll->opts.version_key
                          : LK_DEFAULT_VERSION_KEY;
    if (lk_bson_get_oid(doc, &oid, NULL) == LK_OK)
        lk_oid_format(&oid, id);
    lk_status s = lk_bson_get_int64(doc, key, &carried, err);
    if (s == LK_ERR_NOT_FOUND) /* for save, NOT_FOUND means "no such _id" */
        s = lk_error_set(err, LK_ERR_INVALID, "field \"%s\" is missing", key);
    if (s != LK_OK) {
        lk_error_prefix(err, "%s.save %s", coll->name, id);
        return s;
    }

    if (coll->opts.occ == LK_OCC_UPDATE_IF_CURRENT) {
        if (carried != stored)
            return lk_error_set(err, LK_ERR_VERSION,
                                "%s.save %s: stale document: loaded version "
                                "%lld, stored version %lld",
                                coll->name, id, (long long)carried,
                                (long long)stored);
        if (stored == INT64_MAX)
            return lk_error_set(err, LK_ERR_INVALID,
                                "%s.save %s: version overflow", coll->name,
                                id);
        *next = stored + 1;
        return LK_OK;
    }
    /* External: the document carries the new version; it must follow the
     * stored one directly. */
    if (stored == INT64_MAX || carried != stored + 1)
        return lk_error_set(err, LK_ERR_VERSION,
                            "%s.save %s: version %lld does not follow stored "
                            "version %lld",
                            coll->name, id, (long long)carried,
                            (long long)stored);
    *next = carried;
    return LK_OK;
}
