/* SPDX-License-Identifier: MIT */
/* outbox_relay.c — the relay: one pass over every outbox entry, and the
 * thread that runs passes (see listenkit/outbox.h). */
#include <stdlib.h>
#include <string.h>

#include "listenkit/alloc.h"
#include "listenkit/batch.h"
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

/* An entry of this pass that is to go out. */
typedef enum item_state {
    ITEM_TODO,    /* not published yet in this pass */
    ITEM_IN_WAVE, /* in the batch, its outcome not known yet */
    ITEM_SENT,    /* acknowledged, entry deleted */
    ITEM_FAILED   /* not acknowledged: stays pending for the next pass */
} item_state;

typedef struct relay_item {
    const bson_t *entry; /* the pass's copy */
    lk_outbox_message m; /* borrowed from entry */
    bson_oid_t doc_id;
    size_t index;        /* read order */
    size_t prev;         /* the previous item of the same document; NONE */
    item_state state;
} relay_item;

#define NONE ((size_t)-1)
/* Failures logged one by one per pass; the rest are summed up. */
#define LOG_EACH 5

/* One entry: *take when its document names it (it is to be sent), dropped
 * when it is an orphan, else left alone. */
static lk_status classify(lk_outbox *ob, const bson_t *entry, relay_item *item,
                          bool *take, lk_error *err)
{
    bson_iter_t it;
    bson_oid_t id;
    int64_t version = 0, stored = -1, at = 0;
    bson_t *doc = NULL;
    char hex[25];
    *take = false;
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
    bson_oid_copy(bson_iter_oid(&it), &item->doc_id);
    if (bson_iter_init_find(&it, entry, "at") &&
        BSON_ITER_HOLDS_DATE_TIME(&it))
        at = bson_iter_date_time(&it);

    lk_status s = lk_collection_find_by_id(coll, &item->doc_id, &doc, err);
    if (s == LK_OK && lk_outbox_names_(doc, &id)) {
        lk_error e;
        if (lk_outbox_entry_message_(entry, &item->m, &e) == LK_OK) {
            item->entry = entry;
            *take = true;
        } else { /* it can never go out: sending it again would loop */
            lk_log(LK_LOG_WARN, "outbox: entry %s: %s; dropped", hex,
                   e.message);
            drop(ob, &id);
        }
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

static int by_document(const void *a, const void *b)
{
    const relay_item *x = *(relay_item *const *)a;
    const relay_item *y = *(relay_item *const *)b;
    int c = bson_oid_compare(&x->doc_id, &y->doc_id);
    return c != 0 ? c : (x->index > y->index) - (x->index < y->index);
}

/* Links each item to the previous one of its document (O(n log n)). */
static lk_status link_documents(relay_item *items, size_t n, lk_error *err)
{
    relay_item **order = lk_calloc(n, sizeof *order);
    if (order == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "outbox: relay");
    for (size_t i = 0; i < n; i++) {
        order[i] = &items[i];
        items[i].prev = NONE;
    }
    qsort(order, n, sizeof *order, by_document);
    for (size_t i = 1; i < n; i++)
        if (bson_oid_equal(&order[i]->doc_id, &order[i - 1]->doc_id))
            order[i]->prev = order[i - 1]->index;
    lk_free(order);
    return LK_OK;
}

/* What a pass tells at its end. */
typedef struct pass_report {
    size_t sent, failed, logged;
    lk_status first;  /* the first failure's status; LK_OK: none */
    lk_error first_err;
} pass_report;

static void note_failed(pass_report *r, relay_item *item, lk_status status,
                        const char *why)
{
    item->state = ITEM_FAILED;
    r->failed++;
    if (r->first == LK_OK) {
        r->first = status;
        lk_error_set(&r->first_err, status, "outbox: event %s: %s",
                     item->m.hex, why);
    }
    if (r->logged++ < LOG_EACH)
        lk_log(LK_LOG_WARN, "outbox: event %s (%s) not sent, stays pending: "
               "%s", item->m.hex, item->m.subject, why);
}

/*
 * One wave: every item whose document has no earlier item still unsent in
 * this pass goes into the batch, then one wait settles them all; what was
 * acknowledged is marked sent, what failed stays pending. Taking one item
 * per document per wave keeps the events of a document in order on the
 * bus even when one of them fails: its later ones wait for the next pass.
 * Returns how many items the wave published; *stop after a publish the
 * batch refused (the bus is closed, down, or stalled: the rest can wait).
 */
static size_t wave(lk_batch *batch, relay_item *items, size_t n,
                   relay_item **in_wave, pass_report *r, bool *stop,
                   lk_outbox *ob)
{
    size_t first = lk_batch_published(batch);
    size_t acked_before = lk_batch_acked(batch);
    size_t failed_before = lk_batch_failure_count(batch);
    size_t taken = 0;
    for (size_t i = 0; i < n && !*stop; i++) {
        relay_item *item = &items[i];
        if (item->state != ITEM_TODO ||
            (item->prev != NONE && items[item->prev].state != ITEM_SENT))
            continue;
        const lk_publish_opts po = {.msg_id = item->m.hex};
        lk_error e;
        lk_status s = lk_batch_publish(batch, item->m.subject, item->m.data,
                                       item->m.len, &po, &e);
        if (s == LK_OK) {
            item->state = ITEM_IN_WAVE;
            in_wave[taken++] = item;
        } else {
            note_failed(r, item, s, e.message);
            *stop = true;
        }
    }
    if (taken == 0)
        return 0;
    lk_error e;
    lk_status ws = lk_batch_wait(batch, 0, &e);
    size_t nf = lk_batch_failure_count(batch);
    for (size_t k = failed_before; k < nf; k++) {
        const lk_batch_failure *f = lk_batch_failure_at(batch, k);
        if (f->index >= first && f->index - first < taken)
            note_failed(r, in_wave[f->index - first], f->status, f->message);
    }
    bool all_known = lk_batch_acked(batch) - acked_before + (nf - failed_before)
                     == taken;
    for (size_t k = 0; k < taken; k++) {
        relay_item *item = in_wave[k];
        if (item->state != ITEM_IN_WAVE)
            continue;
        if (!all_known) { /* outcomes lost (OOM): sent again next pass */
            note_failed(r, item, ws, e.message);
            continue;
        }
        item->state = ITEM_SENT;
        r->sent++;
        lk_outbox_mark_sent_(ob, &item->m);
    }
    return taken;
}

/* Publishes `items` through one batch, wave after wave. */
static lk_status send_items(lk_outbox *ob, relay_item *items, size_t n,
                            size_t *sent, lk_error *err)
{
    if (ob->bus == NULL)
        return lk_error_set(err, LK_ERR_CLOSED,
                            "outbox: %s %s: no bus to publish on",
                            items[0].m.subject, items[0].m.hex);
    lk_batch *batch = NULL;
    relay_item **in_wave = NULL;
    pass_report r = {0};
    bool stop = false;
    lk_status s = link_documents(items, n, err);
    if (s == LK_OK) {
        in_wave = lk_calloc(n, sizeof *in_wave);
        if (in_wave == NULL)
            s = lk_error_set(err, LK_ERR_NOMEM, "outbox: relay");
    }
    if (s == LK_OK) {
        s = lk_batch_new(ob->bus, NULL, &batch, err);
        if (s != LK_OK)
            lk_error_prefix(err, "outbox: relay");
    }
    while (s == LK_OK && !stop && wave(batch, items, n, in_wave, &r, &stop, ob))
        ;
    lk_batch_free(batch);
    lk_free(in_wave);
    *sent = r.sent;
    if (s != LK_OK || r.first == LK_OK)
        return s;
    size_t waiting = n - r.sent - r.failed;
    if (r.logged > LOG_EACH || waiting > 0)
        lk_log(LK_LOG_WARN, "outbox: %zu event(s) not sent (%zu logged above)"
               ", %zu later event(s) of their documents wait for them; all "
               "stay pending", r.failed, r.logged < LOG_EACH ? r.logged
                                                            : LOG_EACH,
               waiting);
    if (err != NULL)
        *err = r.first_err;
    return r.first;
}

lk_status lk_outbox_relay(lk_outbox *ob, size_t *sent, lk_error *err)
{
    const lk_find_opts opts = {.limit = RELAY_BATCH};
    bson_t all = BSON_INITIALIZER;
    lk_cursor *cur = NULL;
    const bson_t *doc = NULL;
    bson_t **read = NULL;
    relay_item *items = NULL;
    size_t n = 0, taken = 0, count = 0;
    if (sent != NULL)
        *sent = 0;
    if (ob == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "outbox: relay of NULL");
    /* Copies first: entries are deleted as they go out. */
    lk_status s = lk_collection_find(ob->events, &all, &opts, &cur, err);
    if (s == LK_OK) {
        read = lk_calloc(RELAY_BATCH, sizeof *read);
        items = lk_calloc(RELAY_BATCH, sizeof *items);
        if (read == NULL || items == NULL)
            s = lk_error_set(err, LK_ERR_NOMEM, "outbox: relay");
    }
    while (s == LK_OK && n < RELAY_BATCH && lk_cursor_next(cur, &doc))
        read[n++] = bson_copy(doc);
    if (s == LK_OK)
        s = lk_cursor_error(cur, err);
    lk_cursor_free(cur);
    for (size_t i = 0; s == LK_OK && i < n; i++) {
        bool take = false;
        s = classify(ob, read[i], &items[taken], &take, err);
        if (take) {
            items[taken].index = taken;
            taken++;
        }
    }
    if (s == LK_OK && taken > 0)
        s = send_items(ob, items, taken, &count, err);
    for (size_t i = 0; i < n; i++)
        bson_destroy(read[i]);
    lk_free(read);
    lk_free(items);
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
    bool kicked = false; /* this pass was asked for, not timed */
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
            /* Only the timed tries back off: every write during an outage
             * kicks a pass, and doubling per kick reached 30 s in a second
             * (the relay then slept through the server's return). */
            if (!kicked)
                delay = delay * 2 < MAX_RETRY_MS ? delay * 2 : MAX_RETRY_MS;
            lk_log(LK_LOG_WARN, "outbox: relay: %s; next try in %lld ms",
                   e.message, (long long)delay);
        }
        pthread_mutex_lock(&ob->mu);
        struct timespec until = deadline_in(delay);
        while (!ob->stopping && !ob->kicked &&
               pthread_cond_timedwait(&ob->wake, &ob->mu, &until) == 0)
            ;
        kicked = ob->kicked;
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
