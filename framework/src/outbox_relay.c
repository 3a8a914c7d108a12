/* SPDX-License-Identifier: MIT */
/* outbox_relay.c — the relay: one pass over every outbox entry, and the
 * thread that runs passes (see listenkit/outbox.h). */
#include <string.h>

#include "listenkit/alloc.h"
#include "listenkit/log.h"
#include "listenkit/outbox-private.h"

#define MAX_RETRY_MS 30000
/* Entries read per pass; a larger backlog takes several passes. */
#define RELAY_BATCH 1000

static const char *entry_string(const bson_t *entry, const char *key)
{
    bson_iter_t it;
    if (bson_iter_init_find(&it, entry, key) && BSON_ITER_HOLDS_UTF8(&it))
        return bson_iter_utf8(&it, NULL);
    return NULL;
}

static void drop(lk_outbox *ob, const bson_oid_t *id)
{
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_OID(&filter, "_id", id);
    lk_collection_delete(ob->events, &filter, NULL, NULL);
    bson_destroy(&filter);
}

/* One entry: send it when its document names it, drop it when it is an
 * orphan, else leave it. */
static lk_status relay_entry(lk_outbox *ob, const bson_t *entry, size_t *sent,
                             lk_error *err)
{
    bson_iter_t it;
    bson_oid_t id, doc_id;
    int64_t version = 0, stored = -1, at = 0;
    bson_t *doc = NULL;
    char hex[25];
    lk_collection *coll = lk_outbox_watched_(ob, entry_string(entry,
                                                              "collection"));
    if (coll == NULL || lk_bson_get_oid(entry, &id, NULL) != LK_OK)
        return LK_OK; /* another service's, sharing the store */
    lk_oid_format(&id, hex);
    bool sound = bson_iter_init_find(&it, entry, "docId") &&
                 BSON_ITER_HOLDS_OID(&it) &&
                 lk_bson_get_int64(entry, "docVersion", &version, NULL) ==
                     LK_OK;
    if (!sound) {
        lk_log(LK_LOG_WARN, "outbox: entry %s is malformed; dropped", hex);
        drop(ob, &id);
        return LK_OK;
    }
    bson_oid_copy(bson_iter_oid(&it), &doc_id);
    if (bson_iter_init_find(&it, entry, "at") &&
        BSON_ITER_HOLDS_DATE_TIME(&it))
        at = bson_iter_date_time(&it);

    lk_status s = lk_collection_find_by_id(coll, &doc_id, &doc, err);
    if (s == LK_OK && lk_outbox_names_(doc, &id)) {
        s = lk_outbox_send_entry_(ob, entry, err);
        if (s == LK_OK)
            (*sent)++;
    } else if (s == LK_OK || s == LK_ERR_NOT_FOUND) {
        if (doc != NULL)
            lk_bson_get_int64(doc, coll->opts.version_key, &stored, NULL);
        s = LK_OK;
        if (stored >= version ||
            lk_outbox_wall_ms_() - at >= ob->opts.orphan_ms) {
            lk_log(LK_LOG_INFO,
                   "outbox: event %s (%s, version %lld) was never committed "
                   "by its save; dropped",
                   hex, coll->name, (long long)version);
            drop(ob, &id);
        }
    }
    if (doc != NULL)
        bson_destroy(doc);
    return s;
}

lk_status lk_outbox_relay(lk_outbox *ob, size_t *sent, lk_error *err)
{
    const lk_find_opts opts = {.limit = RELAY_BATCH};
    bson_t all = BSON_INITIALIZER;
    lk_cursor *cur = NULL;
    const bson_t *doc = NULL;
    bson_t **batch = NULL;
    size_t n = 0, count = 0;
    if (sent != NULL)
        *sent = 0;
    if (ob == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "outbox: relay of NULL");
    /* Copies first: entries are deleted as they go out. */
    lk_status s = lk_collection_find(ob->events, &all, &opts, &cur, err);
    if (s == LK_OK) {
        batch = lk_calloc(RELAY_BATCH, sizeof *batch);
        if (batch == NULL)
            s = lk_error_set(err, LK_ERR_NOMEM, "outbox: relay");
    }
    while (s == LK_OK && lk_cursor_next(cur, &doc))
        batch[n++] = bson_copy(doc);
    if (s == LK_OK)
        s = lk_cursor_error(cur, err);
    lk_cursor_free(cur);
    for (size_t i = 0; s == LK_OK && i < n; i++)
        s = relay_entry(ob, batch[i], &count, err);
    for (size_t i = 0; i < n; i++)
        bson_destroy(batch[i]);
    lk_free(batch);
    bson_destroy(&all);
    if (sent != NULL)
        *sent = count;
    return s;
}

lk_status lk_outbox_pending(lk_outbox *ob, int64_t *out, lk_error *err)
{
    if (ob == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "outbox: pending of NULL");
    return lk_collection_count(ob->events, NULL, out, err);
}

/* ---- the thread -------------------------------------------------------------- */

static struct timespec deadline_in(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void *relay_main(void *arg)
{
    lk_outbox *ob = arg;
    int64_t delay = ob->opts.interval_ms;
    pthread_mutex_lock(&ob->mu);
    while (!ob->stopping) {
        pthread_mutex_unlock(&ob->mu);
        size_t sent = 0;
        lk_error e;
        if (lk_outbox_relay(ob, &sent, &e) == LK_OK) {
            delay = ob->opts.interval_ms;
            if (sent > 0)
                lk_log(LK_LOG_INFO, "outbox: relayed %zu event(s)", sent);
        } else {
            delay = delay * 2 < MAX_RETRY_MS ? delay * 2 : MAX_RETRY_MS;
            lk_log(LK_LOG_WARN, "outbox: relay: %s; next try in %lld ms",
                   e.message, (long long)delay);
        }
        pthread_mutex_lock(&ob->mu);
        struct timespec until = deadline_in(delay);
        while (!ob->stopping && !ob->kicked &&
               pthread_cond_timedwait(&ob->wake, &ob->mu, &until) == 0)
            ;
        ob->kicked = false;
    }
    pthread_mutex_unlock(&ob->mu);
    return NULL;
}

lk_status lk_outbox_start(lk_outbox *ob, lk_error *err)
{
    if (ob == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "outbox: start of NULL");
    pthread_mutex_lock(&ob->mu);
    lk_status s = LK_OK;
    if (ob->running)
        s = lk_error_set(err, LK_ERR_STATE, "outbox: the relay runs already");
    else if (pthread_create(&ob->thread, NULL, relay_main, ob) != 0)
        s = lk_error_set(err, LK_ERR_NOMEM, "outbox: no relay thread");
    else {
        ob->running = true;
        ob->stopping = false;
    }
    pthread_mutex_unlock(&ob->mu);
    return s;
}

void lk_outbox_kick(lk_outbox *ob)
{
    if (ob == NULL)
        return;
    pthread_mutex_lock(&ob->mu);
    ob->kicked = true;
    pthread_cond_signal(&ob->wake);
    pthread_mutex_unlock(&ob->mu);
}

void lk_outbox_stop(lk_outbox *ob)
{
    if (ob == NULL)
        return;
    pthread_mutex_lock(&ob->mu);
    bool running = ob->running;
    ob->stopping = true;
    pthread_cond_signal(&ob->wake);
    pthread_mutex_unlock(&ob->mu);
    if (running)
        pthread_join(ob->thread, NULL);
    pthread_mutex_lock(&ob->mu);
    ob->running = false;
    ob->stopping = false;
    pthread_mutex_unlock(&ob->mu);
}
