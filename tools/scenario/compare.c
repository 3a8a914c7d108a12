/* SPDX-License-Identifier: MIT */
/*
 * compare.c — does every replica equal its ticket? The one comparison both
 * buses and both listener kinds are judged by.
 */
#include <string.h>

#include "common/ticketing.h"
#include "scenario/scenario_internal.h"

static bool same_string(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Classifies one ticket against its replica (NULL: missing). */
static void classify(const bson_t *ticket, const bson_t *replica,
                     scenario_diff *d)
{
    if (replica == NULL) {
        d->missing++;
        return;
    }
    /* Prices are whole multiples of 5 written and read as doubles: exact. */
    bool same_data =
        same_string(ticketing_doc_string(ticket, "title"),
                    ticketing_doc_string(replica, "title")) &&
        ticketing_doc_number(ticket, "price", -1.0) ==
            ticketing_doc_number(replica, "price", -2.0);
    int64_t tv = -1, rv = -2;
    lk_bson_get_int64(ticket, LK_DEFAULT_VERSION_KEY, &tv, NULL);
    lk_bson_get_int64(replica, LK_DEFAULT_VERSION_KEY, &rv, NULL);
    if (!same_data)
        d->stale++;
    else if (tv != rv)
        d->version_only++;
}

/* A hash of (id order, version) over the replicas: any save changes it. */
static lk_status fingerprint(lk_collection *replicas, uint64_t *out,
                             lk_error *err)
{
    lk_cursor *cur = NULL;
    bson_t all = BSON_INITIALIZER;
    lk_status s = lk_collection_find(replicas, &all, NULL, &cur, err);
    uint64_t h = 1469598103934665603ull; /* FNV-1a offset basis */
    const bson_t *doc;
    while (s == LK_OK && lk_cursor_next(cur, &doc)) {
        int64_t v = -1;
        lk_bson_get_int64(doc, LK_DEFAULT_VERSION_KEY, &v, NULL);
        h = (h ^ (uint64_t)v ^ 0x9e3779b97f4a7c15ull) * 1099511628211ull;
    }
    if (s == LK_OK)
        s = lk_cursor_error(cur, err);
    lk_cursor_free(cur);
    bson_destroy(&all);
    *out = h;
    return s;
}

lk_status scenario_compare(lk_collection *tickets, lk_collection *replicas,
                           scenario_diff *out, lk_error *err)
{
    if (tickets == NULL || replicas == NULL || out == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "compare: collections and result are required");
    memset(out, 0, sizeof *out);
    lk_cursor *cur = NULL;
    bson_t all = BSON_INITIALIZER;
    lk_status s = lk_collection_find(tickets, &all, NULL, &cur, err);
    const bson_t *ticket;
    while (s == LK_OK && lk_cursor_next(cur, &ticket)) {
        bson_oid_t id;
        s = lk_bson_get_oid(ticket, &id, err);
        bson_t *replica = NULL;
        if (s == LK_OK) {
            lk_status f = lk_collection_find_by_id(replicas, &id, &replica,
                                                   err);
            if (f != LK_OK && f != LK_ERR_NOT_FOUND)
                s = f;
        }
        if (s == LK_OK) {
            out->checked++;
            classify(ticket, replica, out);
        }
        bson_destroy(replica);
    }
    if (s == LK_OK)
        s = lk_cursor_error(cur, err);
    lk_cursor_free(cur);
    bson_destroy(&all);
    if (s == LK_OK)
        s = fingerprint(replicas, &out->fingerprint, err);
    if (s != LK_OK)
        lk_error_prefix(err, "compare %s with %s", tickets->name,
                        replicas->name);
    else
        lk_error_clear(err);
    return s;
}
