/* SPDX-License-Identifier: MIT */
/*
 * nats_batch.c — lk_batch on JetStream: libnats' asynchronous publish.
 *
 * Each batch has a jsCtx of its own, so the in-flight limit, the wait for
 * completion and the pending list libnats keeps per context are the
 * batch's alone. libnats reports every acknowledgement (or error) to an
 * ack handler on its reply thread; the handler finds the message's index in
 * an open-addressing table keyed by the natsMsg pointer (unique while the
 * message is in flight) and notes the outcome under the batch's mutex.
 * publish and wait move what was noted into the lk_batch on the caller's
 * thread, so the batch never calls back and its public counters have one
 * writer.
 *
 * No per-message timer (jsPubOptions.MaxWait would add an allocation and a
 * sorted-list insert per message): wait takes what is still pending at its
 * deadline, or as soon as the connection is down, from libnats
 * (js_PublishAsyncGetPendingList) and fails it.
 */
#include "nats_private.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listenkit/batch.h"

/* Above this, the index table alone would be tens of megabytes. */
#define MAX_IN_FLIGHT_LIMIT 65536
/* How often wait looks at the connection while acknowledgements are due. */
#define WAIT_SLICE_MS 50
/* Bound on the wait for ack handlers already running (they are short). */
#define HANDLER_GRACE_MS 5000

typedef struct slot {
    natsMsg *m; /* NULL: empty */
    size_t index;
} slot;

/* An outcome noted on libnats' thread, not yet in the lk_batch. */
typedef struct noted {
    size_t index;
    lk_status status;
    bool no_stream; /* NATS_NO_RESPONDERS: no stream captures the subject */
    char *subject, *msg_id, *message;
} noted;

typedef struct nats_batch {
    lk_batch base;
    lk_nats_bus *bus;
    jsCtx *js;
    int64_t timeout_ms; /* stall wait and wait(0) */
    size_t max_in_flight;

    pthread_mutex_t mu; /* guards everything below */
    slot *slots;
    size_t mask; /* capacity - 1; capacity a power of two */
    size_t acked;
    noted *noted;
    size_t noted_count, noted_cap;

    /* Caller's thread only: the last subject made sure of (the bus's own
     * cache costs a lock and a scan per message). */
    char *ensured;
} nats_batch;

/* ---- the index table (caller holds mu) --------------------------------------- */

static size_t slot_home(const nats_batch *nb, const natsMsg *m)
{
    uint64_t h = (uint64_t)(uintptr_t)m * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & nb->mask;
}

/* Never full: capacity is at least four times what can be in flight. */
static void slot_put(nats_batch *nb, natsMsg *m, size_t index)
{
    size_t i = slot_home(nb, m);
    while (nb->slots[i].m != NULL)
        i = (i + 1) & nb->mask;
    nb->slots[i] = (slot){m, index};
}

/* Removes `m` (backward-shift deletion keeps probes short without
 * tombstones); false when it is not there. */
static bool slot_take(nats_batch *nb, const natsMsg *m, size_t *index)
{
    size_t i = slot_home(nb, m);
    while (nb->slots[i].m != m) {
        if (nb->slots[i].m == NULL)
            return false;
        i = (i + 1) & nb->mask;
    }
    *index = nb->slots[i].index;
    for (size_t j = (i + 1) & nb->mask; nb->slots[j].m != NULL;
         j = (j + 1) & nb->mask) {
        size_t home = slot_home(nb, nb->slots[j].m);
        /* Move j into the hole at i unless its home lies in (i, j]. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            nb->slots[i] = nb->slots[j];
            i = j;
        }
    }
    nb->slots[i].m = NULL;
    return true;
}

/* ---- outcomes ------------------------------------------------------------------ */

/* Notes message `m` (index `index`) as failed; caller holds mu. */
static void note_failure(nats_batch *nb, size_t index, natsMsg *m,
                         lk_status status, bool no_stream, const char *why)
{
    const char *subject = natsMsg_GetSubject(m);
    const char *id = NULL;
    char message[LK_ERROR_MESSAGE_MAX + 1];
    if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK)
        id = NULL;
    snprintf(message, sizeof message, "publish %s: %s", subject, why);
    if (nb->noted_count == nb->noted_cap) {
        size_t cap = nb->noted_cap ? nb->noted_cap * 2 : 16;
        noted *grown = realloc(nb->noted, cap * sizeof *grown);
        if (grown == NULL)
            return; /* lk_batch_wait reports the gap as LK_ERR_NOMEM */
        nb->noted = grown;
        nb->noted_cap = cap;
    }
    nb->noted[nb->noted_count++] = (noted){
        index, status, no_stream, strdup(subject),
        id != NULL ? strdup(id) : NULL, strdup(message)};
}

/* What a negative acknowledgement says, in words. */
static void describe(char *buf, size_t size, const jsPubAckErr *pae)
{
    if (pae->Err == NATS_NO_RESPONDERS)
        snprintf(buf, size, "no stream captures the subject (changed or "
                            "deleted since the bus made sure of it)");
    else if (pae->ErrCode != 0)
        snprintf(buf, size, "%s (%s) [JetStream error %d]",
                 natsStatus_GetText(pae->Err),
                 pae->ErrText != NULL ? pae->ErrText : "",
                 (int)pae->ErrCode);
    else
        snprintf(buf, size, "%s", natsStatus_GetText(pae->Err));
}

/* libnats' reply thread, once per message published by this batch. */
static void on_ack(jsCtx *js, natsMsg *m, jsPubAck *pa, jsPubAckErr *pae,
                   void *closure)
{
    nats_batch *nb = closure;
    size_t index = 0;
    char why[LK_ERROR_MESSAGE_MAX];
    (void)js;
    if (pa == NULL && pae != NULL)
        describe(why, sizeof why, pae);
    pthread_mutex_lock(&nb->mu);
    if (slot_take(nb, m, &index)) {
        if (pa != NULL)
            nb->acked++;
        else
            note_failure(nb, index, m,
                         pae != NULL ? lk_nats_status_map(pae->Err) : LK_ERR_IO,
                         pae != NULL && pae->Err == NATS_NO_RESPONDERS,
                         pae != NULL ? why : "no acknowledgement");
    }
    pthread_mutex_unlock(&nb->mu);
    natsMsg_Destroy(m);
}

/* Moves what the ack handler noted into the lk_batch; caller holds mu.
 * Returns the first subject that no stream captured any more (a copy, to
 * free), or NULL. */
static char *move_noted(nats_batch *nb)
{
    char *no_stream = NULL;
    lk_batch_note_acked(&nb->base, nb->acked);
    nb->acked = 0;
    for (size_t i = 0; i < nb->noted_count; i++) {
        noted *n = &nb->noted[i];
        lk_batch_note_failure(&nb->base, n->index, n->subject, n->msg_id,
                              n->status, n->message);
        if (n->no_stream && no_stream == NULL && n->subject != NULL)
            no_stream = n->subject;
        else
            free(n->subject);
        free(n->msg_id);
        free(n->message);
    }
    nb->noted_count = 0;
    return no_stream;
}

/* After "no stream captures it": make sure of the subject again, so that
 * republishing works (the synchronous publish retries by itself). Outside
 * mu: it asks the server. An error only means the republish fails too. */
static void ensure_again(nats_batch *nb, char *subject)
{
    if (subject == NULL)
        return;
    free(nb->ensured);
    nb->ensured = NULL;
    (void)lk_nats_stream_ensure(nb->bus, subject, true, NULL);
    free(subject);
}

static lk_status ensure_subject(nats_batch *nb, const char *subject,
                                lk_error *err)
{
    if (nb->ensured != NULL && strcmp(nb->ensured, subject) == 0)
        return LK_OK;
    lk_status st = lk_nats_stream_ensure(nb->bus, subject, false, err);
    if (st == LK_OK) {
        char *copy = strdup(subject);
        if (copy != NULL) {
            free(nb->ensured);
            nb->ensured = copy;
        }
    }
    return st;
}

/* ---- ops ----------------------------------------------------------------------- */

static lk_status nb_publish(lk_batch *batch, const char *subject,
                            const void *data, size_t len,
                            const lk_publish_opts *opts, lk_error *err)
{
    nats_batch *nb = (nats_batch *)batch;
    lk_status st = lk_nats_check_open(nb->bus, subject, err);
    if (st == LK_OK && len > (size_t)INT_MAX)
        st = lk_error_set(err, LK_ERR_TOO_LARGE,
                          "publish %s: %zu bytes is more than NATS carries",
                          subject, len);
    if (st == LK_OK)
        st = ensure_subject(nb, subject, err);
    if (st != LK_OK)
        return st;

    natsMsg *m = NULL;
    natsStatus s = natsMsg_Create(&m, subject, NULL, data, (int)len);
    if (s != NATS_OK)
        return lk_nats_error(err, s, 0, "publish %s", subject);
    natsMsg *sent = m;
    pthread_mutex_lock(&nb->mu);
    /* In the table before libnats has it: the ack may come back before
     * js_PublishMsgAsync returns. */
    slot_put(nb, m, batch->published);
    char *no_stream = move_noted(nb);
    pthread_mutex_unlock(&nb->mu);
    ensure_again(nb, no_stream);

    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = opts != NULL ? opts->msg_id : NULL;
    s = js_PublishMsgAsync(nb->js, &m, &po);
    if (s == NATS_OK)
        return LK_OK;
    /* libnats did not take it: no acknowledgement will come. */
    size_t unused = 0;
    pthread_mutex_lock(&nb->mu);
    (void)slot_take(nb, sent, &unused);
    pthread_mutex_unlock(&nb->mu);
    natsMsg_Destroy(m);
    if (s == NATS_TIMEOUT)
        return lk_error_set(err, LK_ERR_TIMEOUT,
                            "publish %s: %zu messages in flight and none "
                            "acknowledged within %lld ms; not sent",
                            subject, nb->max_in_flight,
                            (long long)nb->timeout_ms);
    return lk_nats_error(err, s, 0, "publish %s", subject);
}

/* Fails every message libnats still waits for, with `status` and `why`,
 * then waits for ack handlers already running. */
static void fail_pending(nats_batch *nb, lk_status status, const char *why)
{
    natsMsgList list = {0};
    if (nb->base.published == 0)
        return; /* libnats made no pending list yet (and trips on none) */
    if (js_PublishAsyncGetPendingList(&list, nb->js) == NATS_OK) {
        pthread_mutex_lock(&nb->mu);
        for (int i = 0; i < list.Count; i++) {
            size_t index = 0;
            if (slot_take(nb, list.Msgs[i], &index))
                note_failure(nb, index, list.Msgs[i], status, false, why);
        }
        pthread_mutex_unlock(&nb->mu);
        natsMsgList_Destroy(&list);
    }
    /* Only handlers that had their message before the list was taken
     * remain counted by libnats: they are running now. */
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = HANDLER_GRACE_MS;
    (void)js_PublishAsyncComplete(nb->js, &po);
}

static lk_status nb_wait(lk_batch *batch, int64_t timeout_ms, lk_error *err)
{
    nats_batch *nb = (nats_batch *)batch;
    char why[160];
    (void)err;
    for (int64_t waited = 0;;) {
        jsPubOptions po;
        jsPubOptions_Init(&po);
        int64_t slice = timeout_ms - waited;
        po.MaxWait = slice < WAIT_SLICE_MS ? (slice > 0 ? slice : 1)
                                           : WAIT_SLICE_MS;
        int64_t started = nats_Now();
        natsStatus s = js_PublishAsyncComplete(nb->js, &po);
        waited += nats_Now() - started;
        if (s == NATS_OK)
            break;
        if (natsConnection_Status(nb->bus->nc) != NATS_CONN_STATUS_CONNECTED) {
            fail_pending(nb, LK_ERR_IO,
                         "the connection was lost before the acknowledgement; "
                         "the server may have stored it (republish with the "
                         "same msg_id to be sure)");
            break;
        }
        if (s != NATS_TIMEOUT || waited >= timeout_ms) {
            snprintf(why, sizeof why,
                     "no acknowledgement within %lld ms; the server may "
                     "still store it (republish with the same msg_id to be "
                     "sure)",
                     (long long)timeout_ms);
            fail_pending(nb, LK_ERR_TIMEOUT, why);
            break;
        }
    }
    pthread_mutex_lock(&nb->mu);
    char *no_stream = move_noted(nb);
    pthread_mutex_unlock(&nb->mu);
    ensure_again(nb, no_stream);
    return LK_OK;
}

static void nb_free(lk_batch *batch)
{
    nats_batch *nb = (nats_batch *)batch;
    if (nb->js != NULL && nb->base.published > 0) {
        /* Abandon what is in flight: after this no ack handler starts, and
         * the grace wait lets running ones finish before `nb` goes. */
        natsMsgList list = {0};
        if (js_PublishAsyncGetPendingList(&list, nb->js) == NATS_OK)
            natsMsgList_Destroy(&list);
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = HANDLER_GRACE_MS;
        (void)js_PublishAsyncComplete(nb->js, &po);
    }
    jsCtx_Destroy(nb->js);
    pthread_mutex_lock(&nb->mu);
    free(move_noted(nb));
    pthread_mutex_unlock(&nb->mu);
    free(nb->noted);
    free(nb->slots);
    free(nb->ensured);
    pthread_mutex_destroy(&nb->mu);
    lk_batch_release(&nb->base);
    free(nb);
}

static const lk_batch_ops nats_batch_ops = {
    .publish = nb_publish,
    .wait = nb_wait,
    .free = nb_free,
};

lk_status lk_nats_batch_new(lk_bus *bus, const lk_batch_opts *opts,
                            lk_batch **out, lk_error *err)
{
    lk_nats_bus *b = (lk_nats_bus *)bus;
    size_t max = opts != NULL && opts->max_in_flight > 0
                     ? opts->max_in_flight
                     : LK_DEFAULT_MAX_IN_FLIGHT;
    if (max > MAX_IN_FLIGHT_LIMIT)
        return lk_error_set(err, LK_ERR_INVALID,
                            "batch: max_in_flight must be <= %d, got %zu",
                            MAX_IN_FLIGHT_LIMIT, max);
    lk_status st = lk_nats_check_open(b, "(batch)", err);
    if (st != LK_OK)
        return st;
    nats_batch *nb = calloc(1, sizeof *nb);
    size_t cap = 64;
    while (cap < 4 * (max + 1))
        cap *= 2;
    if (nb == NULL || (nb->slots = calloc(cap, sizeof *nb->slots)) == NULL) {
        free(nb);
        return lk_error_set(err, LK_ERR_NOMEM, "batch: out of memory");
    }
    lk_batch_init(&nb->base, &nats_batch_ops);
    nb->bus = b;
    nb->mask = cap - 1;
    nb->max_in_flight = max;
    nb->timeout_ms = b->publish_timeout_ms;
    nb->base.default_timeout_ms = b->publish_timeout_ms;
    pthread_mutex_init(&nb->mu, NULL);

    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = b->publish_timeout_ms;
    jo.PublishAsync.MaxPending = (int64_t)max;
    jo.PublishAsync.StallWait = b->publish_timeout_ms;
    jo.PublishAsync.AckHandler = on_ack;
    jo.PublishAsync.AckHandlerClosure = nb;
    natsStatus s = natsConnection_JetStream(&nb->js, b->nc, &jo);
    if (s != NATS_OK) {
        nb->js = NULL;
        nb_free(&nb->base);
        return lk_nats_error(err, s, 0, "batch: JetStream context");
    }
    *out = &nb->base;
    return LK_OK;
}
