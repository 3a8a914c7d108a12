/* SPDX-License-Identifier: MIT */
/* outbox.c — the transactional outbox (see listenkit/outbox.h): entries in
 * LK_OUTBOX_COLLECTION, committed by the document that names them. */
#include "listenkit/outbox.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "listenkit/alloc.h"
#include "listenkit/log.h"
#include "listenkit/outbox-private.h"

#define DEFAULT_ORPHAN_MS 60000
#define DEFAULT_INTERVAL_MS 1000

int64_t lk_outbox_wall_ms_(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static lk_status push_id(lk_outbox_ids *l, const bson_oid_t *id, lk_error *err)
{
    if (l->len == l->cap) {
        size_t cap = l->cap != 0 ? l->cap * 2 : 4;
        bson_oid_t *grown = lk_realloc(l->ids, cap * sizeof *grown);
        if (grown == NULL)
            return lk_error_set(err, LK_ERR_NOMEM, "outbox: event ids");
        l->ids = grown;
        l->cap = cap;
    }
    bson_oid_copy(id, &l->ids[l->len++]);
    return LK_OK;
}

/* The ObjectIds in `doc`'s LK_OUTBOX_FIELD (none when absent). */
lk_status lk_outbox_named_ids_(const bson_t *doc, lk_outbox_ids *out, lk_error *err)
{
    bson_iter_t it, child;
    lk_status s = LK_OK;
    if (!bson_iter_init_find(&it, doc, LK_OUTBOX_FIELD) ||
        !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &child))
        return LK_OK;
    while (s == LK_OK && bson_iter_next(&child))
        if (BSON_ITER_HOLDS_OID(&child))
            s = push_id(out, bson_iter_oid(&child), err);
    return s;
}

/* Reads the array in place: with a copy, running out of memory read as
 * "not named", and the relay dropped a committed event as an orphan. */
bool lk_outbox_names_(const bson_t *doc, const bson_oid_t *id)
{
    bson_iter_t it, child;
    if (!bson_iter_init_find(&it, doc, LK_OUTBOX_FIELD) ||
        !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &child))
        return false;
    while (bson_iter_next(&child))
        if (BSON_ITER_HOLDS_OID(&child) &&
            bson_oid_equal(bson_iter_oid(&child), id))
            return true;
    return false;
}

lk_collection *lk_outbox_watched_(const lk_outbox *ob, const char *name)
{
    for (size_t i = 0; name != NULL && i < ob->nwatched; i++)
        if (strcmp(ob->watched[i]->name, name) == 0)
            return ob->watched[i];
    return NULL;
}

/* ---- life ---------------------------------------------------------------- */

lk_status lk_outbox_new(lk_store *store, lk_bus *bus,
                        const lk_outbox_opts *opts, lk_outbox **out,
                        lk_error *err)
{
    if (out != NULL)
        *out = NULL;
    if (store == NULL || out == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "outbox: store and out must not be NULL");
    lk_outbox_opts o = opts != NULL ? *opts : (lk_outbox_opts){0};
    if (o.orphan_ms < 0 || o.interval_ms < 0)
        return lk_error_set(err, LK_ERR_INVALID,
                            "outbox: orphan_ms and interval_ms must be >= 0");
    o.orphan_ms = o.orphan_ms != 0 ? o.orphan_ms : DEFAULT_ORPHAN_MS;
    o.interval_ms = o.interval_ms != 0 ? o.interval_ms : DEFAULT_INTERVAL_MS;
    lk_outbox *ob = lk_calloc(1, sizeof *ob);
    if (ob == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "outbox");
    ob->bus = bus;
    ob->opts = o;
    lk_status s = lk_store_collection(store, LK_OUTBOX_COLLECTION, NULL,
                                      &ob->events, err);
    if (s != LK_OK) {
        lk_free(ob);
        lk_error_prefix(err, "outbox");
        return s;
    }
    pthread_mutex_init(&ob->mu, NULL);
    pthread_cond_init(&ob->wake, NULL);
    *out = ob;
    return LK_OK;
}

void lk_outbox_defer_sends(lk_outbox *ob, bool on)
{
    if (ob != NULL)
        ob->defer = on;
}

void lk_outbox_free(lk_outbox *ob)
{
    if (ob == NULL)
        return;
    lk_outbox_stop(ob);
    pthread_cond_destroy(&ob->wake);
    pthread_mutex_destroy(&ob->mu);
    lk_free(ob);
}

lk_status lk_outbox_watch(lk_outbox *ob, lk_collection *coll, lk_error *err)
{
    if (ob == NULL || coll == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "outbox: watch needs an outbox and a collection");
    if (lk_outbox_watched_(ob, coll->name) == coll)
        return LK_OK;
    if (lk_outbox_watched_(ob, coll->name) != NULL || coll == ob->events ||
        ob->nwatched == LK_OUTBOX_MAX_WATCHED)
        return lk_error_set(err, LK_ERR_INVALID,
                            "outbox: cannot watch %s (another collection of "
                            "that name, the outbox itself, or more than %d)",
                            coll->name, LK_OUTBOX_MAX_WATCHED);
    ob->watched[ob->nwatched++] = coll;
    return LK_OK;
}

/* ---- sending ---------------------------------------------------------------- */

lk_status lk_outbox_entry_message_(const bson_t *entry, lk_outbox_message *out,
                                   lk_error *err)
{
    bson_iter_t it;
    uint32_t len = 0;
    memset(out, 0, sizeof *out);
    if (bson_iter_init_find(&it, entry, "subject") && BSON_ITER_HOLDS_UTF8(&it))
        out->subject = bson_iter_utf8(&it, NULL);
    if (bson_iter_init_find(&it, entry, "data") && BSON_ITER_HOLDS_UTF8(&it))
        out->data = bson_iter_utf8(&it, &len);
    out->len = len;
    lk_status s = lk_bson_get_oid(entry, &out->id, err);
    if (s == LK_OK && (out->subject == NULL || out->data == NULL))
        s = lk_error_set(err, LK_ERR_INVALID,
                         "outbox: entry lacks its subject or data");
    if (s == LK_OK)
        lk_oid_format(&out->id, out->hex);
    return s;
}

void lk_outbox_mark_sent_(lk_outbox *ob, const lk_outbox_message *m)
{
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_OID(&filter, "_id", &m->id);
    lk_error e;
    if (lk_collection_delete(ob->events, &filter, NULL, &e) != LK_OK)
        /* It went out; the next relay sends it again, which the
         * de-duplication absorbs. */
        lk_log(LK_LOG_WARN, "outbox: %s %s sent, not marked: %s", m->subject,
               m->hex, e.message);
    bson_destroy(&filter);
}

/* Publishes `entry` with its id as Nats-Msg-Id, then deletes it. */
lk_status lk_outbox_send_entry_(lk_outbox *ob, const bson_t *entry, lk_error *err)
{
    lk_outbox_message m;
    lk_status s = lk_outbox_entry_message_(entry, &m, err);
    if (s != LK_OK)
        return s;
    if (ob->bus == NULL)
        return lk_error_set(err, LK_ERR_CLOSED,
                            "outbox: %s %s: no bus to publish on", m.subject,
                            m.hex);
    const lk_publish_opts popts = {.msg_id = m.hex};
    s = lk_bus_publish(ob->bus, m.subject, m.data, m.len, &popts, err);
    if (s != LK_OK) {
        lk_error_prefix(err, "outbox: event %s", m.hex);
        return s;
    }
    lk_outbox_mark_sent_(ob, &m);
    return LK_OK;
}

/* Sends the pending events `doc` names, in order; stops at a failure. */
static lk_status send_named(lk_outbox *ob, const bson_t *doc, lk_error *err)
{
    lk_outbox_ids l = {0};
    lk_status s = lk_outbox_named_ids_(doc, &l, err);
    for (size_t i = 0; s == LK_OK && i < l.len; i++) {
        bson_t *entry = NULL;
        s = lk_collection_find_by_id(ob->events, &l.ids[i], &entry, err);
        if (s == LK_OK)
            s = lk_outbox_send_entry_(ob, entry, err);
        else if (s == LK_ERR_NOT_FOUND)
            s = LK_OK; /* sent already */
        if (entry != NULL)
            bson_destroy(entry);
    }
    lk_free(l.ids);
    return s;
}

/* ---- staging ------------------------------------------------------------------ */

/* The version the store will give `doc` (store.h's OCC contract). */
static lk_status next_version(const lk_collection *coll, const bson_t *doc,
                              bool insert, int64_t *out, lk_error *err)
{
    int64_t v = 0;
    *out = 0;
    if (insert && coll->opts.occ == LK_OCC_UPDATE_IF_CURRENT)
        return LK_OK;
    lk_status s = lk_bson_get_int64(doc, coll->opts.version_key, &v, err);
    if (s != LK_OK) {
        lk_error_prefix(err, "outbox: %s", coll->name);
        return s == LK_ERR_NOT_FOUND ? LK_ERR_INVALID : s;
    }
    *out = !insert && coll->opts.occ == LK_OCC_UPDATE_IF_CURRENT ? v + 1 : v;
    return LK_OK;
}

/* The entry for `ev` about `shaped` (the document as it will be stored). */
static lk_status build_entry(const lk_collection *coll, const bson_t *shaped,
                             const bson_oid_t *doc_id, int64_t version,
                             const lk_outbox_event *ev,
                             const bson_oid_t *event_id, bson_t *entry,
                             lk_error *err)
{
    json_t *data = NULL;
    char *text = NULL;
    size_t len = 0;
    lk_status s = ev->build(shaped, ev->ctx, &data, err);
    if (s == LK_OK)
        s = lk_event_encode(ev->schema, data, &text, &len, err);
    if (s == LK_OK) {
        BSON_APPEND_OID(entry, "_id", event_id);
        BSON_APPEND_UTF8(entry, "collection", coll->name);
        BSON_APPEND_OID(entry, "docId", doc_id);
        BSON_APPEND_INT64(entry, "docVersion", version);
        BSON_APPEND_UTF8(entry, "subject", ev->schema->subject);
        bson_append_utf8(entry, "data", 4, text, (int)len);
        BSON_APPEND_DATE_TIME(entry, "at", lk_outbox_wall_ms_());
    }
    json_decref(data);
    lk_free(text);
    return s;
}

/* Of the ids `doc` names, those still pending: they travel on. */
static lk_status still_pending(lk_outbox *ob, const bson_t *doc,
                               lk_outbox_ids *out, lk_error *err)
{
    lk_outbox_ids l = {0};
    lk_status s = lk_outbox_named_ids_(doc, &l, err);
    for (size_t i = 0; s == LK_OK && i < l.len; i++) {
        int64_t n = 0;
        bson_t filter = BSON_INITIALIZER;
        BSON_APPEND_OID(&filter, "_id", &l.ids[i]);
        s = lk_collection_count(ob->events, &filter, &n, err);
        bson_destroy(&filter);
        if (s == LK_OK && n > 0)
            s = push_id(out, &l.ids[i], err);
    }
    lk_free(l.ids);
    return s;
}

static void append_ids(bson_t *doc, const lk_outbox_ids *l)
{
    bson_t arr;
    char key[16];
    const char *k = NULL;
    BSON_APPEND_ARRAY_BEGIN(doc, LK_OUTBOX_FIELD, &arr);
    for (size_t i = 0; i < l->len; i++) {
        bson_uint32_to_string((uint32_t)i, &k, key, sizeof key);
        bson_append_oid(&arr, k, -1, &l->ids[i]);
    }
    bson_append_array_end(doc, &arr);
}

static lk_status check_args(lk_outbox *ob, lk_collection *coll,
                            const bson_t *doc, const lk_outbox_event *ev,
                            lk_error *err)
{
    if (ob == NULL || coll == NULL || doc == NULL || ev == NULL ||
        ev->schema == NULL || ev->schema->subject == NULL || ev->build == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "outbox: outbox, collection, document and an "
                            "event with schema and build are required");
    if (lk_outbox_watched_(ob, coll->name) != coll)
        return lk_error_set(err, LK_ERR_INVALID,
                            "outbox: collection %s is not watched",
                            coll->name);
    return LK_OK;
}

static lk_status stage(lk_outbox *ob, lk_collection *coll, const bson_t *doc,
                       const lk_outbox_event *ev, bool insert, bson_t **out,
                       lk_error *err)
{
    bson_oid_t doc_id, event_id;
    bson_t base = BSON_INITIALIZER, entry = BSON_INITIALIZER;
    bson_t *shaped = NULL, *stored = NULL;
    lk_outbox_ids ids = {0};
    int64_t version = 0;
    bool entry_in = false;

    if (out != NULL)
        *out = NULL;
    lk_status s = check_args(ob, coll, doc, ev, err);
    if (s != LK_OK)
        return s;
    /* The document without the ids it carried, with an _id for sure. */
    s = lk_bson_get_oid(doc, &doc_id, err);
    if (s == LK_ERR_NOT_FOUND && insert) {
        bson_oid_init(&doc_id, NULL);
        BSON_APPEND_OID(&base, "_id", &doc_id);
        s = LK_OK;
    }
    if (s == LK_OK) {
        bson_copy_to_excluding_noinit(doc, &base, LK_OUTBOX_FIELD, NULL);
        s = next_version(coll, &base, insert, &version, err);
    }
    if (s == LK_OK) {
        shaped = lk_bson_with_int64(&base, coll->opts.version_key, version);
        bson_oid_init(&event_id, NULL);
        s = build_entry(coll, shaped, &doc_id, version, ev, &event_id, &entry,
                        err);
    }
    if (s == LK_OK && !insert)
        s = still_pending(ob, doc, &ids, err);
    if (s == LK_OK)
        s = push_id(&ids, &event_id, err);
    if (s == LK_OK) {
        s = lk_collection_insert(ob->events, &entry, NULL, err);
        entry_in = s == LK_OK;
    }
    if (s == LK_OK) {
        append_ids(&base, &ids);
        s = insert ? lk_collection_insert(coll, &base, &stored, err)
                   : lk_collection_save(coll, &base, &stored, err);
    }
    if (s != LK_OK && entry_in) {
        /* Never committed: drop the entry now (else the relay would, as an
         * orphan). */
        bson_t filter = BSON_INITIALIZER;
        BSON_APPEND_OID(&filter, "_id", &event_id);
        lk_collection_delete(ob->events, &filter, NULL, NULL);
        bson_destroy(&filter);
    }
    if (s == LK_OK && ob->defer) {
        lk_outbox_kick(ob);
    } else if (s == LK_OK) {
        lk_error e;
        if (send_named(ob, stored, &e) != LK_OK) {
            lk_log(LK_LOG_WARN, "outbox: %s not sent yet (the relay will): %s",
                   ev->schema->subject, e.message);
            lk_outbox_kick(ob);
        }
    }
    if (s == LK_OK && out != NULL)
        *out = stored;
    else if (stored != NULL)
        bson_destroy(stored);
    if (shaped != NULL)
        bson_destroy(shaped);
    bson_destroy(&base);
    bson_destroy(&entry);
    lk_free(ids.ids);
    return s;
}

lk_status lk_outbox_insert(lk_outbox *ob, lk_collection *coll,
                           const bson_t *doc, const lk_outbox_event *ev,
                           bson_t **out, lk_error *err)
{
    return stage(ob, coll, doc, ev, true, out, err);
}

lk_status lk_outbox_save(lk_outbox *ob, lk_collection *coll,
                         const bson_t *doc, const lk_outbox_event *ev,
                         bson_t **out, lk_error *err)
{
    return stage(ob, coll, doc, ev, false, out, err);
}
