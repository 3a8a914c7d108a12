/* SPDX-License-Identifier: MIT */
/* mem_store.c — the in-memory lk_store: collections, documents, indexes,
 * OCC through lk_occ_check(), and snapshot cursors.
 *
 * Each collection keeps its documents in a doubly linked list (insertion
 * order, O(1) delete) plus a hash index on `_id` and one per unique field.
 * One mutex per store guards everything; every call validates its input and
 * builds what it will store before it changes anything, so a failed call
 * leaves the collection as it was. Documents are kept in their stored form
 * (mem_stored-private.h): plain BSON bytes, read through bson_t views. */
#include "mem_store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "listenkit/alloc-private.h"
#include "listenkit/alloc.h"
#include "listenkit/filter-private.h"
#include "mem_index-private.h"
#include "listenkit/store-private.h"
#include "listenkit/stored-private.h"
#include "listenkit/value-private.h"

typedef struct mem_key {
    uint8_t *bytes; /* NULL: the field is absent or null, not indexed */
    size_t len;
} mem_key;

typedef struct mem_doc {
    struct mem_doc *prev, *next;
    bson_oid_t id;
    lk_stored stored; /* _id first, version as int64; in `own` until
                             a save replaces it with a buffer of its own */
    mem_key *keys;        /* one per unique field */
    uint8_t own[];        /* the inserted bytes: one allocation with the node */
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
    lk_open_colls colls; /* of mem_coll */
};

/* The snapshot is plain copies of the stored bytes, in listenkit's own
 * allocations, read through one view: a bson_t per copy would be a
 * libbson allocation, which aborts the process when memory runs out. */
typedef struct mem_cursor {
    lk_cursor base;
    lk_stored *docs; /* snapshot copies: iteration needs no lock */
    size_t n, pos;
    bson_t view;     /* the document next() handed out last */
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
        lk_free(keys[i].bytes);
    lk_free(keys);
}

static void free_doc(mem_doc *d, size_t n_unique)
{
    if (d->stored.data != d->own)
        lk_free(d->stored.data);
    free_keys(d->keys, n_unique);
    lk_free(d);
}

/* The unique-index keys of `doc`. Absent and null fields are not indexed
 * (like a PostgreSQL unique index, where NULLs never clash). */
static lk_status unique_keys(const mem_coll *c, const bson_t *doc,
                             mem_key **out, lk_error *err)
{
    *out = NULL;
    if (c->n_unique == 0)
        return LK_OK;
    mem_key *keys = lk_calloc(c->n_unique, sizeof *keys);
    if (keys == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory",
                            c->base.name);
    lk_status s = LK_OK;
    for (size_t i = 0; s == LK_OK && i < c->n_unique; i++)
        s = lk_stored_unique_key(doc, c->base.opts.unique[i], &keys[i].bytes,
                                 &keys[i].len, err);
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

/* ---- lookup -------------------------------------------------------------- */

/* How a call finds its documents: through the `_id` index when the
 * filter pins one id, and without matching at all when the filter is
 * exactly {_id: oid} (lk_collection_find_by_id), since the index hit is
 * then the answer. */
typedef struct plan {
    const bson_t *filter;
    bool by_id;   /* the one candidate is the index entry for `id` */
    bool id_only; /* ... and it matches by construction */
    bson_oid_t id;
} plan;

/* Checks the filter (unless it is exactly {_id: oid}, which is well-formed
 * by then) and plans the lookup. */
static lk_status plan_filter(const mem_coll *c, const bson_t *filter,
                             const char *what, plan *p, lk_error *err)
{
    p->filter = filter;
    p->id_only = lk_filter_is_id(filter, &p->id);
    p->by_id = p->id_only;
    if (p->id_only)
        return LK_OK;
    lk_status s = lk_filter_check(filter, err);
    if (s != LK_OK) {
        lk_error_prefix(err, "%s.%s", c->base.name, what);
        return s;
    }
    p->by_id = lk_filter_id(filter, &p->id);
    return LK_OK;
}

static bool doc_matches(const bson_t *filter, const mem_doc *d)
{
    bson_t view;
    lk_stored_view(&d->stored, &view);
    return lk_filter_match(filter, &view);
}

/* Calls `fn` on each document matching the planned filter, in insertion
 * order, until it returns false. A filter that pins `_id` visits at most
 * the one document the index holds. */
typedef bool (*visit_fn)(mem_coll *c, mem_doc *d, void *ctx);

static void each_match(mem_coll *c, const plan *p, visit_fn fn, void *ctx)
{
    if (p->by_id) {
        mem_doc *d =
            lk_mem_index_get(&c->by_id, p->id.bytes, sizeof p->id.bytes);
        if (d != NULL && (p->id_only || doc_matches(p->filter, d)))
            fn(c, d, ctx);
        return;
    }
    for (mem_doc *d = c->head, *next; d != NULL; d = next) {
        next = d->next; /* fn may unlink d */
        if (doc_matches(p->filter, d) && !fn(c, d, ctx))
            return;
    }
}

/* ---- collection operations --------------------------------------------- */

static lk_status coll_insert(lk_collection *base, const bson_t *doc,
                             bson_t **out, lk_error *err)
{
    mem_coll *c = (mem_coll *)base;
    const char *name = base->name;
    const char *vkey = base->opts.version_key;
    lk_stored_found found;
    bson_oid_t id;
    bson_t view;
    size_t size = 0;
    int64_t version = 0;
    mem_doc *d = NULL;
    bson_t *copy = NULL;

    lk_status s = lk_stored_size(doc, vkey, &size, err);
    if (s == LK_OK) {
        d = lk_malloc(sizeof *d + size);
        if (d == NULL)
            s = lk_error_set(err, LK_ERR_NOMEM, "out of memory");
    }
    if (s == LK_OK) {
        memset(d, 0, sizeof *d);
        s = lk_stored_build(doc, vkey, d->own, &d->stored, &found, err);
    }
    if (s == LK_OK)
        s = lk_stored_id(&found, false, &id, err);
    if (s == LK_OK && base->opts.occ == LK_OCC_EXTERNAL)
        s = lk_stored_external_version(doc, vkey, &version, err);
    if (s != LK_OK) {
        lk_free(d);
        lk_error_prefix(err, "%s.insert", name);
        return s;
    }
    d->id = id;
    lk_stored_set_id(&d->stored, &id);
    lk_stored_set_version(&d->stored, version);
    lk_stored_view(&d->stored, &view);
    s = unique_keys(c, &view, &d->keys, err);
    if (s == LK_OK)
        s = lk_stored_copy_out(&d->stored, out != NULL ? &copy : NULL, name,
                               err);
    if (s != LK_OK) {
        free_doc(d, c->n_unique);
        return s;
    }

    pthread_mutex_lock(&c->store->lock);
    if (!reserve_indexes(c, true))
        s = lk_error_set(err, LK_ERR_NOMEM, "%s.insert: out of memory", name);
    /* The _id goes in first (one probe finds a taken one); it comes out
     * again if a unique field is taken. */
    if (s == LK_OK && lk_mem_index_put_new(&c->by_id, d) != NULL) {
        char hex[25];
        lk_oid_format(&id, hex);
        s = lk_error_set(err, LK_ERR_DUPLICATE, "%s.insert: duplicate _id %s",
                         name, hex);
    } else if (s == LK_OK) {
        s = check_unique(c, d->keys, NULL, "insert", err);
        if (s != LK_OK)
            lk_mem_index_remove(&c->by_id, d);
    }
    if (s == LK_OK) {
        d->prev = c->tail;
        if (c->tail != NULL)
            c->tail->next = d;
        else
            c->head = d;
        c->tail = d;
        c->count++;
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
    lk_stored repl = {0};
    bson_oid_t id;
    bson_t view;
    int64_t next = 0;
    uint8_t *buf = NULL, *unused = NULL;
    bson_t *copy = NULL;
    mem_key *keys = NULL;

    /* The replacement is built outside the lock; only its version waits
     * for the stored one. */
    lk_status s = lk_stored_new(base, doc, true, "save", &buf, &repl, &id, err);
    if (s != LK_OK)
        return s;
    lk_stored_view(&repl, &view);

    pthread_mutex_lock(&c->store->lock);
    mem_doc *d = lk_mem_index_get(&c->by_id, id.bytes, sizeof id.bytes);
    if (d == NULL) {
        char hex[25];
        lk_oid_format(&id, hex);
        s = lk_error_set(err, LK_ERR_NOT_FOUND,
                         "%s.save: no document with _id %s", name, hex);
    }
    if (s == LK_OK)
        s = lk_occ_check(base, doc, lk_stored_version(&d->stored),
                         &next, err);
    if (s == LK_OK) {
        lk_stored_set_version(&repl, next);
        s = unique_keys(c, &view, &keys, err);
    }
    if (s == LK_OK)
        s = check_unique(c, keys, d, "save", err);
    if (s == LK_OK && !reserve_indexes(c, false))
        s = lk_error_set(err, LK_ERR_NOMEM, "%s.save: out of memory", name);
    if (s == LK_OK)
        s = lk_stored_copy_out(&repl, out != NULL ? &copy : NULL, name, err);
    unused = buf;
    if (s == LK_OK) {
        /* Nothing can fail from here on: swap keys and document. */
        index_unique(c, d, false);
        mem_key *old_keys = d->keys;
        unused = d->stored.data != d->own ? d->stored.data : NULL;
        d->keys = keys;
        d->stored = repl;
        index_unique(c, d, true);
        keys = old_keys;
    }
    pthread_mutex_unlock(&c->store->lock);

    free_keys(keys, c->n_unique);
    lk_free(unused);
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
    plan p;
    lk_status s = plan_filter(c, filter, "find_one", &p, err);
    if (s != LK_OK)
        return s;
    pthread_mutex_lock(&c->store->lock);
    each_match(c, &p, take_first, &found);
    if (found == NULL)
        s = lk_error_set(err, LK_ERR_NOT_FOUND,
                         "%s.find_one: no document matches", base->name);
    else
        s = lk_stored_copy_out(&found->stored, out, base->name, err);
    pthread_mutex_unlock(&c->store->lock);
    return s;
}

/* find: copies of the matches after `skip`, at most `limit`. */
typedef struct collect {
    lk_stored *docs;
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
        lk_stored *docs = lk_realloc(k->docs, cap * sizeof *docs);
        if (docs == NULL) {
            k->oom = true;
            return false;
        }
        k->docs = docs;
        k->cap = cap;
    }
    lk_stored copy = d->stored;
    copy.data = lk_malloc(copy.len);
    if (copy.data == NULL) {
        k->oom = true;
        return false;
    }
    memcpy(copy.data, d->stored.data, copy.len);
    k->docs[k->n++] = copy;
    return k->limit == 0 || (int64_t)k->n < k->limit;
}

static void free_docs(lk_stored *docs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        lk_free(docs[i].data);
    lk_free(docs);
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
    plan p;
    lk_status s = plan_filter(c, filter, "find", &p, err);
    if (s != LK_OK)
        return s;
    cur = lk_aligned_alloc_(_Alignof(mem_cursor), sizeof *cur);
    if (cur == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "%s.find: out of memory",
                            base->name);
    memset(cur, 0, sizeof *cur);
    pthread_mutex_lock(&c->store->lock);
    each_match(c, &p, collect_doc, &k);
    pthread_mutex_unlock(&c->store->lock);
    if (k.oom) {
        free_docs(k.docs, k.n);
        lk_free(cur);
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
    plan p;
    lk_status s = plan_filter(c, filter, "count", &p, err);
    if (s != LK_OK)
        return s;
    pthread_mutex_lock(&c->store->lock);
    if (filter == NULL || bson_empty(filter))
        n = c->count;
    else
        each_match(c, &p, count_doc, &n);
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
    plan p;
    lk_status s = plan_filter(c, filter, "delete", &p, err);
    if (s != LK_OK)
        return s;
    pthread_mutex_lock(&c->store->lock);
    each_match(c, &p, delete_doc, &n);
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
    lk_stored_view(&cur->docs[cur->pos++], &cur->view);
    *doc = &cur->view;
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
    lk_free(cur);
}

static const lk_cursor_ops cursor_ops = {
    .next = cursor_next,
    .error = cursor_error,
    .free = cursor_free,
};

/* ---- collections -------------------------------------------------------------- */

static void coll_free(mem_coll *c)
{
    for (mem_doc *d = c->head, *next; d != NULL; d = next) {
        next = d->next;
        free_doc(d, c->n_unique);
    }
    lk_mem_index_destroy(&c->by_id);
    for (size_t i = 0; c->by_unique != NULL && i < c->n_unique; i++)
        lk_mem_index_destroy(&c->by_unique[i]);
    lk_free(c->by_unique);
    if (c->base.opts.unique != NULL) {
        for (size_t i = 0; i < c->n_unique; i++)
            lk_free((char *)c->base.opts.unique[i]);
        lk_free((char **)c->base.opts.unique);
    }
    lk_free((char *)c->base.opts.version_key);
    lk_free((char *)c->base.name);
    lk_free(c);
}

static mem_coll *coll_new(mem_store *st, const char *name,
                          const lk_collection_opts *opts, const char *vkey)
{
    size_t n = lk_paths_count(opts->unique);
    mem_coll *c = lk_calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->base.ops = &coll_ops;
    c->base.store = &st->base;
    c->base.opts.occ = opts->occ;
    c->store = st;
    c->n_unique = n;
    lk_mem_index_init(&c->by_id, doc_key, SIZE_MAX);
    c->base.name = lk_strdup(name);
    c->base.opts.version_key = lk_strdup(vkey);
    bool ok = c->base.name != NULL && c->base.opts.version_key != NULL;
    if (ok && n > 0) {
        char **paths = lk_calloc(n + 1, sizeof *paths);
        c->base.opts.unique = (const char *const *)paths;
        c->by_unique = lk_calloc(n, sizeof *c->by_unique);
        ok = paths != NULL && c->by_unique != NULL;
        for (size_t i = 0; ok && i < n; i++) {
            paths[i] = lk_strdup(opts->unique[i]);
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

/* lk_open_make_fn */
static lk_status coll_make(void *store, const char *name,
                           const lk_collection_opts *opts, const char *vkey,
                           lk_collection **out, lk_error *err)
{
    mem_coll *c = coll_new(store, name, opts, vkey);
    if (c == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "collection %s: out of memory",
                            name);
    *out = &c->base;
    return LK_OK;
}

static lk_status store_collection(lk_store *base, const char *name,
                                  const lk_collection_opts *opts,
                                  lk_collection **out, lk_error *err)
{
    mem_store *st = (mem_store *)base;
    /* lk_store_collection has refused bad names, empty, "_id" and dotted
     * version keys (the stored form writes the version as a top-level
     * field) and bad unique paths. */
    return lk_open_colls_open(&st->colls, &st->lock, st, name, opts,
                              coll_make, out, err);
}

/* ---- store ------------------------------------------------------------------ */

/* lk_open_colls_free's free_coll */
static void coll_drop(lk_collection *base)
{
    coll_free((mem_coll *)base);
}

static void store_free(lk_store *base)
{
    mem_store *st = (mem_store *)base;
    lk_open_colls_free(&st->colls, coll_drop);
    pthread_mutex_destroy(&st->lock);
    lk_free(st);
}

static const lk_store_ops store_ops = {
    .name = "memory",
    .collection = store_collection,
    .free = store_free,
};

lk_store *lk_mem_store_new(void)
{
    mem_store *st = lk_calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    if (pthread_mutex_init(&st->lock, NULL) != 0) {
        lk_free(st);
        return NULL;
    }
    st->base.ops = &store_ops;
    return &st->base;
}
