/* SPDX-License-Identifier: MIT */
/* store_open.c — opening a collection in a store's list of open ones
 * (listenkit/store-private.h): the rule every store shares. */
#include "listenkit/store-private.h"

#include <string.h>

#include "listenkit/alloc.h"

size_t lk_paths_count(const char *const *unique)
{
    size_t n = 0;
    while (unique != NULL && unique[n] != NULL)
        n++;
    return n;
}

bool lk_paths_same_set(const char *const *a, const char *const *b)
{
    size_t n = lk_paths_count(a);
    if (lk_paths_count(b) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t j = 0; j < n && !found; j++)
            found = strcmp(a[i], b[j]) == 0;
        if (!found)
            return false;
    }
    return true;
}

/* Same options: OCC mode, version key, and the same set of unique paths
 * (in any order: lk_store_collection has refused a path listed twice). */
static bool same_opts(const lk_collection *c, const lk_collection_opts *opts,
                      const char *vkey)
{
    return c->opts.occ == opts->occ &&
           strcmp(c->opts.version_key, vkey) == 0 &&
           lk_paths_same_set(c->opts.unique, opts->unique);
}

static lk_status open_locked(lk_open_colls *list, void *store,
                             const char *name,
                             const lk_collection_opts *opts,
                             lk_open_make_fn make, lk_collection **out,
                             lk_error *err)
{
    const char *vkey =
        opts->version_key != NULL ? opts->version_key : LK_DEFAULT_VERSION_KEY;
    for (size_t i = 0; i < list->n; i++) {
        lk_collection *c = list->items[i];
        if (strcmp(c->name, name) != 0)
            continue;
        if (!same_opts(c, opts, vkey))
            return lk_error_set(err, LK_ERR_INVALID,
                                "collection %s: already open with other "
                                "options (OCC mode, version key or unique "
                                "fields)",
                                name);
        *out = c;
        return LK_OK;
    }
    lk_collection **items =
        lk_realloc(list->items, (list->n + 1) * sizeof *items);
    if (items == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "collection %s: out of memory",
                            name);
    list->items = items;
    lk_collection *c = NULL;
    lk_status s = make(store, name, opts, vkey, &c, err);
    if (s == LK_OK) {
        list->items[list->n++] = c;
        *out = c;
    }
    return s;
}

lk_status lk_open_colls_open(lk_open_colls *list, pthread_mutex_t *lock,
                             void *store, const char *name,
                             const lk_collection_opts *opts,
                             lk_open_make_fn make, lk_collection **out,
                             lk_error *err)
{
    pthread_mutex_lock(lock);
    lk_status s = open_locked(list, store, name, opts, make, out, err);
    pthread_mutex_unlock(lock);
    return s;
}

void lk_open_colls_free(lk_open_colls *list,
                        void (*free_coll)(lk_collection *coll))
{
    for (size_t i = 0; i < list->n; i++)
        free_coll(list->items[i]);
    lk_free(list->items);
    list->items = NULL;
    list->n = 0;
}
