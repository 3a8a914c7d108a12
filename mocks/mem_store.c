/* mem_store.c — the in-memory lk_store: collections, documents, indexes,
 * OCC through lk_occ_check(), and snapshot cursors.
 *
 * Each collection keeps its documents in a doubly linked list (insertion
 * order, O(1) delete) plus a hash index on `_id` and one per unique field.
 * One mutex per store guards everything; every call validates its input and
 * builds what it will store before it changes anything, so a failed call
 * leaves the collection as it was. */
#include "mem_store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mem_filter-private.h"
#include "mem_index-private.h"
#include "mem_value-private.h"

typedef struct mem_key {
    uint8_t *bytes; /* NULL: the field is absent or null, not indexed */
    size_t len;
} mem_key;

typedef struct mem_doc {
    struct mem_doc *prev, *next;
    bson_oid_t id;
    bson_t *doc;   /* as stored: _id first, version as int64 */
    mem_key *keys; /* one per unique field */
} mem_doc;

typedef struct mem_store mem_store;

typedef struct mem_coll {
    lk_collection base;
    mem_store *store;
    size_t n_unique;
    mem_doc *head, *tail;
    int64_t count;
    lk_mem_index by_id;
    lk_mem_index *by_unique; /* n_unique */
} mem_coll;

struct mem_store {
    lk_store base;
    pthread_mutex_t lock;
    mem_coll **colls;
    size_t n_colls;
};

typedef struct mem_cursor {
    lk_cursor base;
    bson_t **docs; /* snapshot copies: iteration needs no lock */
    size_t n, pos;
} mem_cursor;

static const lk_store_ops store_ops;
static const lk_collection_ops coll_ops;
static const lk_cursor_ops cursor_ops;

/* ---- documents ---------------------------------------------------------- */

static const uint8_t *doc_key(const void *item, size_t which, size_t *len)
{
    const mem_doc *d = item;
    if (which == SIZE_MAX) {
        *len = sizeof d->id.bytes;
        return d->id.bytes;
    }
    *len = d->keys[which].len;
    return d->keys[which].bytes;
}

static void free_keys(mem_key *keys, size_t n)
{
    if (keys == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(keys[i].bytes);
    free(keys);
}

static void free_doc(mem_doc *d, size_t n_unique)
{
    if (d == NULL)
        return;
    bson_destroy(d->doc);
    free_keys(d->keys, n_unique);
    free(d);
}

/* The document as stored: `_id` first (as MongoDB keeps it), then the
 * caller's fields in their order with the version set to `version`. */
static bson_t *build_stored(const bson_t *doc, const bson_oid_t *id,
                            const char *version_key, int64_t version)
{
    bson_iter_t it;
    bson_t *versioned = lk_bson_with_int64(doc, version_key, version);
    bson_t *out = versioned != NULL ? bson_new() : NULL;
    bool ok = out != NULL && BSON_APPEND_OID(out, "_id", id) &&
              bson_iter_init(&it, versioned);
    while (ok && bson_iter_next(&it))
        if (strcmp(bson_iter_key(&it), "_id") != 0)
            ok = bson_append_iter(out, NULL, 0, &it);
    bson_destroy(versioned);
    if (!ok) {
        bson_destroy(out);
        return NULL;
    }
    return out;
}

/* The unique-index keys of `doc`. Absent and null fields are not indexed
 * (like a PostgreSQL unique index, where NULLs never clash). */
static lk_status unique_keys(const mem_coll *c, const bson_t *doc,
                             mem_key **out, lk_error *err)
{
    *out = NULL;
    if (c->n_unique == 0)
        return LK_OK;
    mem_key *keys = calloc(c->n_unique, sizeof *keys);
    if (keys == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory",
                            c->base.name);
    lk_status s = LK_OK;
    for (size_t i = 0; s == LK_OK && i < c->n_unique; i++) {
        const char *path = c->base.opts.unique[i];
        bson_iter_t it, found;
        if (!bson_iter_init(&it, doc) ||
            !bson_iter_find_descendant(&it, path, &found) ||
            BSON_ITER_HOLDS_NULL(&found))
            continue;
        s = lk_mem_value_key(&found, path, &keys[i].bytes, &keys[i].len,
                             err);
    }
    if (s != LK_OK) {
        free_keys(keys, c->n_unique);
        return s;
    }
    *out = keys;
    return LK_OK;
}

/* LK_ERR_DUPLICATE when another document than `self` holds one of `keys`. */
static lk_status check_unique(const mem_coll *c, const mem_key *keys,
                              const mem_doc *self, const char *what,
                              lk_error *err)
{
    for (size_t i = 0; i < c->n_unique; i++) {
        const mem_doc *other =
            lk_mem_index_get(&c->by_unique[i], keys[i].bytes, keys[i].len);
        if (other != NULL && other != self) {
            char id[25];
            lk_oid_format(&other->id, id);
            return lk_error_set(err, LK_ERR_DUPLICATE,
                                "%s.%s: duplicate value for unique field "
                                "\"%s\" (held by _id %s)",
                                c->base.name, what, c->base.opts.unique[i],
                                id);
        }
    }
    return LK_OK;
}

/* Room for one more document in the unique indexes (and `_id`'s). */
static bool reserve_indexes(mem_coll *c, bool with_id)
{
    if (with_id && !lk_mem_index_reserve(&c->by_id, 1))
        return false;
    for (size_t i = 0; i < c->n_unique; i++)
        if (!lk_mem_index_reserve(&c->by_unique[i], 1))
            return false;
    return true;
}

static void index_unique(mem_coll *c, mem_doc *d, bool add)
{
    for (size_t i = 0; i < c->n_unique; i++) {
        if (add)
            lk_mem_index_put(&c->by_unique[i], d);
        else
            lk_mem_index_remove(&c->by_unique[i], d);
    }
}

static void unlink_doc(mem_coll *c, mem_doc *d)
{
    lk_mem_index_remove(&c->by_id, d);
    index_unique(c, d, false);
    if (d->prev != NULL)
        d->prev->next = d->next;
    else
        c->head = d->next;
    if (d->next != NULL)
        d->next->prev = d->prev;
    else
        c->tail = d->prev;
    c->count--;
}

static lk_status check_bson(const bson_t *doc, const char *coll,
                            const char *what, lk_error *err)
{
    size_t offset = 0;
    if (!bson_validate(doc, BSON_VALIDATE_NONE, &offset))
        return lk_error_set(err, LK_ERR_INVALID,
                            "%s.%s: document is not valid BSON (at byte %zu)",
                            coll, what, offset);
    return LK_OK;
}

static lk_status copy_out(const bson_t *doc, bson_t **out, const char *coll,
                          lk_error *err)
{
    if (out == NULL)
        return LK_OK;
    *out = bson_copy(doc);
    if (*out == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", coll);
    return LK_OK;
}

/* ---- lookup -------------------------------------------------------------- */

/* Calls `fn` on each document matching the (checked) filter, in insertion
 * order, until it returns false. A filter that pins `_id` visits at most
 * the one document the index holds. */
typedef bool (*visit_fn)(mem_coll *c, mem_doc *d, void *ctx);

static void each_match(mem_coll *c, const bson_t *filter, visit_fn fn,
                       void *ctx)
{
    bson_oid_t id;
    if (lk_mem_filter_id(filter, &id)) {
        mem_doc *d = lk_mem_index_get(&c->by_id, id.bytes, sizeof id.bytes);
        if (d != NULL && lk_mem_filter_match(filter, d->doc))
            fn(c, d, ctx);
        return;
    }
    for (mem_doc *d = c->head, *next; d != NULL; d = next) {
        next = d->next; /* fn may unlink d */
        if (lk_mem_filter_match(filter, d->doc) && !fn(c, d, ctx))
            return;
    }
}

static lk_status check_filter(const mem_coll *c, const bson_t *filter,
                              const char *what, lk_error *err)
{
    lk_status s = lk_mem_filter_check(filter, err);
    if (s != LK_OK)
        lk_error_prefix(err, "%s.%s", c->base.name, what);
    return s;
}

/* ---- collection operations --------------------------------------------- */

static lk_status coll_insert(lk_collection *base, const bson_t *doc,
                             bson_t **out, lk_error *err)
{
    mem_coll *c = (mem_coll *)base;
    const char *name = base->name;
    const char *vkey = base->opts.version_key;
    bson_oid_t id;
    bson_iter_t it;
    int64_t version = 0;
    mem_doc *d = NULL;
    bson_t *copy = NULL;

    lk_status s = check_bson(doc, name, "insert", err);
    if (s == LK_OK && bson_iter_init_find(&it, doc, "_id")) {
        if (BSON_ITER_HOLDS_OID(&it))
            bson_oid_copy(bson_iter_oid(&it), &id);
        else
            s = lk_error_set(err, LK_ERR_INVALID,
                             "%s.insert: field \"_id\" must be an ObjectId, "
                             "got %s",
                             name, lk_mem_type_name(bson_iter_type(&it)));
    } else if (s == LK_OK) {
        bson_oid_init(&id, NULL);
    }
    if (s == LK_OK && base->opts.occ == LK_OCC_EXTERNAL) {
        /* The replica's version comes from the owner: it must be there. */
        s = lk_bson_get_int64(doc, vkey, &version, err);
        if (s == LK_ERR_NOT_FOUND)
            s = lk_error_set(err, LK_ERR_INVALID,
                             "field \"%s\" is required (external versions)",
                             vkey);
        if (s == LK_OK && version < 0)
            s = lk_error_set(err, LK_ERR_INVALID,
                             "field \"%s\" must be >= 0, got %lld", vkey,
                             (long long)version);
        if (s != LK_OK)
            lk_error_prefix(err, "%s.insert", name);
    }
    if (s == LK_OK) {
        d = calloc(1, sizeof *d);
        if (d == NULL)
            s = lk_error_set(err, LK_ERR_NOMEM, "%s.insert: out of memory",
                             name);
    }
    if (s == LK_OK) {
        d->id = id;
        d->doc = build_stored(doc, &id, vkey, version);
        if (d->doc == NULL)
            s = lk_error_set(err, LK_ERR_NOMEM, "%s.insert: out of memory",
                             name);
    }
    if (s == LK_OK)
        s = unique_keys(c, d->doc, &d->keys, err);
    if (s == LK_OK)
        s = copy_out(d->doc, out != NULL ? &copy : NULL, name, err);
    if (s != LK_OK) {
        free_doc(d, c->n_unique);
        return s;
    }

    pthread_mutex_lock(&c->store->lock);
    if (lk_mem_index_get(&c->by_id, id.bytes, sizeof id.bytes) != NULL) {
        char hex[25];
        lk_oid_format(&id, hex);
        s = lk_error_set(err, LK_ERR_DUPLICATE, "%s.insert: duplicate _id %s",
                         name, hex);
    }
    if (s == LK_OK)
        s = check_unique(c, d->keys, NULL, "insert", err);
    if (s == LK_OK && !reserve_indexes(c, true))
        s = lk_error_set(err, LK_ERR_NOMEM, "%s.insert: out of memory", name);
    if (s == LK_OK) {
        d->prev = c->tail;
        if (c->tail != NULL)
            c->tail->next = d;
        else
            c->head = d;
        c->tail = d;
        c->count++;
        lk_mem_index_put(&c->by_id, d);
        index_unique(c, d, true);
    }
    pthread_mutex_unlock(&c->store->lock);

    if (s != LK_OK) {
        free_doc(d, c->n_unique);
        bson_destroy(copy);
        return s;
    }
    if (out != NULL)
        *out = copy;
    return LK_OK;
}

static lk_status coll_save(lk_collection *base, const bson_t *doc,
                           bson_t **out, lk_error *err)
{
    mem_coll *c = (mem_coll *)base;
    const char *name = base->name;
    bson_oid_t id;
    int64_t stored = 0, next = 0;
    bson_t *replacement = NULL, *copy = NULL;
    mem_key *keys = NULL;
    char hex[25] = "?";

    lk_status s = check_bson(doc, name, "save", err);
    if (s == LK_OK) {
        s = lk_bson_get_oid(doc, &id, err);
        if (s == LK_ERR_NOT_FOUND)
            s = lk_error_set(err, LK_ERR_INVALID,
                             "field \"_id\" is required (insert new "
                             "documents first)");
        if (s != LK_OK)
            lk_error_prefix(err, "%s.save", name);
        else
            lk_oid_format(&id, hex);
    }
    if (s != LK_OK)
        return s;

    pthread_mutex_lock(&c->store->lock);
    mem_doc *d = lk_mem_index_get(&c->by_id, id.bytes, sizeof id.bytes);
    if (d == NULL)
        s = lk_error_set(err, LK_ERR_NOT_FOUND,
                         "%s.save: no document with _id %s", name, hex);
    if (s == LK_OK)
        s = lk_bson_get_int64(d->doc, base->opts.version_key, &stored, err);
    if (s == LK_OK) {
        s = lk_occ_check(base, doc, stored, &next, err);
        /* lk_occ_check says NOT_FOUND for a document without a version;
         * for save, NOT_FOUND must mean "no such _id", so a missing
         * version is bad input. */
        if (s == LK_ERR_NOT_FOUND) {
            if (err != NULL)
                err->status = LK_ERR_INVALID;
            s = LK_ERR_INVALID;
        }
    }
    if (s == LK_OK) {
        replacement = build_stored(doc, &id, base->opts.version_key, next);
        if (replacement == NULL)
            s = lk_error_set(err, LK_ERR_NOMEM, "%s.save: out of memory",
                             name);
    }
    if (s == LK_OK)
        s = unique_keys(c, replacement, &keys, err);
    if (s == LK_OK)
        s = check_unique(c, keys, d, "save", err);
    if (s == LK_OK && !reserve_indexes(c, false))
        s = lk_error_set(err, LK_ERR_NOMEM, "%s.save: out of memory", name);
    if (s == LK_OK)
        s = copy_out(replacement, out != NULL ? &copy : NULL, name, err);
    if (s == LK_OK) {
        /* Nothing can fail from here on: swap keys and document. */
        index_unique(c, d, false);
        mem_key *old_keys = d->keys;
        bson_t *old_doc = d->doc;
        d->keys = keys;
        d->doc = replacement;
        index_unique(c, d, true);
        keys = old_keys;
        replacement = old_doc;
    }
    pthread_mutex_unlock(&c->store->lock);

    free_keys(keys, c->n_unique);
    bson_destroy(replacement);
    if (s != LK_OK) {
        bson_destroy(copy);
        return s;
    }
    if (out != NULL)
        *out = copy;
    return LK_OK;
}

/* find_one: the first match, copied. */
static bool take_first(mem_coll *c, mem_doc *d, void *ctx)
{
    (void)c;
    *(mem_doc **)ctx = d;
    return false;
}

static lk_status coll_find_one(lk_collection *base, const bson_t *filter,
                               bson_t **out, lk_error *err)
{
    mem_coll *c = (mem_coll *)base;
    mem_doc *found = NULL;
    lk_status s = check_filter(c, filter, "find_one", err);
    if (s != LK_OK)
        return s;
    pthread_mutex_lock(&c->store->lock);
    each_match(c, filter, take_first, &found);
    if (found == NULL)
        s = lk_error_set(err, LK_ERR_NOT_FOUND,
                         "%s.find_one: no document matches", base->name);
    else
        s = copy_out(found->doc, out, base->name, err);
    pthread_mutex_unlock(&c->store->lock);
    return s;
}

/* find: copies of the matches after `skip`, at most `limit`. */
typedef struct collect {
    bson_t **docs;
    size_t n, cap;
    int64_t skip, limit; /* limit 0: none */
    bool oom;
} collect;

static bool collect_doc(mem_coll *c, mem_doc *d, void *ctx)
{
    collect *k = ctx;
    (void)c;
    if (k->skip > 0) {
        k->skip--;
        return true;
    }
    if (k->n == k->cap) {
        size_t cap = k->cap == 0 ? 16 : k->cap * 2;
        bson_t **docs = realloc(k->docs, cap * sizeof *docs);
        if (docs == NULL) {
            k->oom = true;
            return false;
        }
        k->docs = docs;
        k->cap = cap;
    }
    k->docs[k->n] = bson_copy(d->doc);
    if (k->docs[k->n] == NULL) {
        k->oom = true;
        return false;
    }
    k->n++;
    return k->limit == 0 || (int64_t)k->n < k->limit;
}

static void free_docs(bson_t **docs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        bson_destroy(docs[i]);
    free(docs);
}

static lk_status coll_find(lk_collection *base, const bson_t *filter,
                           const lk_find_opts *opts, lk_cursor **out,
                           lk_error *err)
{
    mem_coll *c = (mem_coll *)base;
    collect k = {0};
    mem_cursor *cur = NULL;
    if (opts != NULL) {
        k.skip = opts->skip;
        k.limit = opts->limit;
    }
    lk_status s = check_filter(c, filter, "find", err);
    if (s != LK_OK)
        return s;
    cur = calloc(1, sizeof *cur);
    if (cur == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "%s.find: out of memory",
                            base->name);
    pthread_mutex_lock(&c->store->lock);
    each_match(c, filter, collect_doc, &k);
    pthread_mutex_unlock(&c->store->lock);
    if (k.oom) {
        free_docs(k.docs, k.n);
        free(cur);
        return lk_error_set(err, LK_ERR_NOMEM, "%s.find: out of memory",
                            base->name);
    }
    cur->base.ops = &cursor_ops;
    cur->docs = k.docs;
    cur->n = k.n;
    *out = &cur->base;
    return LK_OK;
}

static bool count_doc(mem_coll *c, mem_doc *d, void *ctx)
{
    (void)c;
    (void)d;
    (*(int64_t *)ctx)++;
    return true;
}

static lk_status coll_count(lk_collection *base, const bson_t *filter,
                            int64_t *out, lk_error *err)
{
    mem_coll *c = (mem_coll *)base;
    int64_t n = 0;
    lk_status s = check_filter(c, filter, "count", err);
    if (s != LK_OK)
        return s;
    pthread_mutex_lock(&c->store->lock);
    if (filter == NULL || bson_empty(filter))
        n = c->count;
    else
        each_match(c, filter, count_doc, &n);
    pthread_mutex_unlock(&c->store->lock);
    *out = n;
    return LK_OK;
}

static bool delete_doc(mem_coll *c, mem_doc *d, void *ctx)
{
    unlink_doc(c, d);
    free_doc(d, c->n_unique);
    (*(int64_t *)ctx)++;
    return true;
}

static lk_status coll_delete(lk_collection *base, const bson_t *filter,
                             int64_t *deleted, lk_error *err)
{
    mem_coll *c = (mem_coll *)base;
    int64_t n = 0;
    lk_status s = check_filter(c, filter, "delete", err);
    if (s != LK_OK)
        return s;
    pthread_mutex_lock(&c->store->lock);
    each_match(c, filter, delete_doc, &n);
    pthread_mutex_unlock(&c->store->lock);
    if (deleted != NULL)
        *deleted = n;
    return LK_OK;
}

static const lk_collection_ops coll_ops = {
    .insert = coll_insert,
    .find_one = coll_find_one,
    .find = coll_find,
    .count = coll_count,
    .save = coll_save,
    .delete_many = coll_delete,
};

/* ---- cursor ------------------------------------------------------------------ */

static bool cursor_next(lk_cursor *base, const bson_t **doc)
{
    mem_cursor *cur = (mem_cursor *)base;
    if (cur->pos >= cur->n)
        return false;
    *doc = cur->docs[cur->pos++];
    return true;
}

static lk_status cursor_error(lk_cursor *base, lk_error *err)
{
    (void)base;
    lk_error_clear(err);
    return LK_OK; /* a snapshot cannot fail half-way */
}

static void cursor_free(lk_cursor *base)
{
    mem_cursor *cur = (mem_cursor *)base;
    free_docs(cur->docs, cur->n);
    free(cur);
}

static const lk_cursor_ops cursor_ops = {
    .next = cursor_next,
    .error = cursor_error,
    .free = cursor_free,
};

/* ---- collections -------------------------------------------------------------- */

static size_t count_unique(const char *const *unique)
{
    size_t n = 0;
    while (unique != NULL && unique[n] != NULL)
        n++;
    return n;
}

static bool has_path(const char *const *list, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], path) == 0)
            return true;
    return false;
}

/* Same options: OCC mode, version key, and the same set of unique paths. */
static bool same_opts(const mem_coll *c, const lk_collection_opts *opts,
                      const char *vkey)
{
    size_t n = count_unique(opts->unique);
    if (c->base.opts.occ != opts->occ ||
        strcmp(c->base.opts.version_key, vkey) != 0 || n != c->n_unique)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!has_path(c->base.opts.unique, c->n_unique, opts->unique[i]))
            return false;
    return true;
}

static lk_status check_unique_paths(const char *name,
                                    const char *const *unique, lk_error *err)
{
    size_t n = count_unique(unique);
    for (size_t i = 0; i < n; i++) {
        const char *p = unique[i];
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
        if (has_path(unique, i, p))
            return lk_error_set(err, LK_ERR_INVALID,
                                "collection %s: unique field \"%s\" listed "
                                "twice",
                                name, p);
    }
    return LK_OK;
}

static void coll_free(mem_coll *c)
{
    if (c == NULL)
        return;
    for (mem_doc *d = c->head, *next; d != NULL; d = next) {
        next = d->next;
        free_doc(d, c->n_unique);
    }
    lk_mem_index_destroy(&c->by_id);
    for (size_t i = 0; c->by_unique != NULL && i < c->n_unique; i++)
        lk_mem_index_destroy(&c->by_unique[i]);
    free(c->by_unique);
    if (c->base.opts.unique != NULL) {
        for (size_t i = 0; i < c->n_unique; i++)
            free((char *)c->base.opts.unique[i]);
        free((char **)c->base.opts.unique);
    }
    free((char *)c->base.opts.version_key);
    free((char *)c->base.name);
    free(c);
}

static mem_coll *coll_new(mem_store *st, const char *name,
                          const lk_collection_opts *opts, const char *vkey)
{
    size_t n = count_unique(opts->unique);
    mem_coll *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->base.ops = &coll_ops;
    c->base.store = &st->base;
    c->base.opts.occ = opts->occ;
    c->store = st;
    c->n_unique = n;
    lk_mem_index_init(&c->by_id, doc_key, SIZE_MAX);
    c->base.name = strdup(name);
    c->base.opts.version_key = strdup(vkey);
    bool ok = c->base.name != NULL && c->base.opts.version_key != NULL;
    if (ok && n > 0) {
        char **paths = calloc(n + 1, sizeof *paths);
        c->base.opts.unique = (const char *const *)paths;
        c->by_unique = calloc(n, sizeof *c->by_unique);
        ok = paths != NULL && c->by_unique != NULL;
        for (size_t i = 0; ok && i < n; i++) {
            paths[i] = strdup(opts->unique[i]);
            ok = paths[i] != NULL;
            lk_mem_index_init(&c->by_unique[i], doc_key, i);
        }
    }
    if (!ok) {
        coll_free(c);
        return NULL;
    }
    return c;
}

static lk_status store_collection(lk_store *base, const char *name,
                                  const lk_collection_opts *opts,
                                  lk_collection **out, lk_error *err)
{
    mem_store *st = (mem_store *)base;
    const char *vkey =
        opts->version_key != NULL ? opts->version_key : LK_DEFAULT_VERSION_KEY;
    lk_status s = LK_OK;

    /* Versions are written with lk_bson_with_int64, which sets a top-level
     * field: a dotted version key could not be kept. */
    if (strchr(vkey, '.') != NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "collection %s: version key \"%s\" must be a "
                            "top-level field",
                            name, vkey);
    s = check_unique_paths(name, opts->unique, err);
    if (s != LK_OK)
        return s;

    pthread_mutex_lock(&st->lock);
    mem_coll *c = NULL;
    for (size_t i = 0; i < st->n_colls && c == NULL; i++)
        if (strcmp(st->colls[i]->base.name, name) == 0)
            c = st->colls[i];
    if (c != NULL) {
        if (!same_opts(c, opts, vkey))
            s = lk_error_set(err, LK_ERR_INVALID,
                             "collection %s: already open with other options "
                             "(OCC mode, version key or unique fields)",
                             name);
    } else {
        mem_coll **colls =
            realloc(st->colls, (st->n_colls + 1) * sizeof *colls);
        if (colls != NULL)
            st->colls = colls;
        c = colls != NULL ? coll_new(st, name, opts, vkey) : NULL;
        if (c == NULL)
            s = lk_error_set(err, LK_ERR_NOMEM, "collection %s: out of memory",
                             name);
        else
            st->colls[st->n_colls++] = c;
    }
    pthread_mutex_unlock(&st->lock);
    if (s == LK_OK)
        *out = &c->base;
    return s;
}

/* ---- store ------------------------------------------------------------------ */

static void store_free(lk_store *base)
{
    mem_store *st = (mem_store *)base;
    for (size_t i = 0; i < st->n_colls; i++)
        coll_free(st->colls[i]);
    free(st->colls);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

static const lk_store_ops store_ops = {
    .name = "memory",
    .collection = store_collection,
    .free = store_free,
};

lk_store *lk_mem_store_new(void)
{
    mem_store *st = calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    if (pthread_mutex_init(&st->lock, NULL) != 0) {
        free(st);
        return NULL;
    }
    st->base.ops = &store_ops;
    return &st->base;
}
