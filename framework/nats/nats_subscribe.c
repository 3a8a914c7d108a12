/* SPDX-License-Identifier: MIT */
/*
 * nats_subscribe.c — JetStream push consumers behind lk_bus_subscribe, and
 * the lk_msg each delivery becomes.
 *
 * Durable subscriptions (a queue group or a durable name) bind to a consumer
 * that nats_consumer.c creates explicitly with js_AddConsumer (the bind
 * tried again while a cluster cannot answer yet). libnats deletes a
 * consumer *it* created when that subscription drains, which would pull the
 * consumer from under the other members of the group (other replicas) and
 * lose the durable position; a consumer created here outlives every
 * subscription, as a durable must. Ephemeral subscriptions (neither) let
 * libnats create the consumer, and it goes away with the subscription.
 *
 * One durable consumer serves one subject, so its name is made of the
 * durable base (durable name, else queue group) and the subject: a queue
 * group listening to two subjects gets two consumers (see nats.h).
 */
#include "nats_private.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "listenkit/log.h"

#define NS_PER_MS INT64_C(1000000)

/* ---- deliveries ------------------------------------------------------------ */

typedef struct nats_delivery {
    lk_msg base; /* first: the handler's lk_msg * is this */
    natsMsg *m;
} nats_delivery;

static natsMsg *delivery_msg(lk_msg *msg)
{
    return ((nats_delivery *)msg)->m;
}

static lk_status reply_status(natsStatus s, const char *what, lk_msg *msg)
{
    if (s == NATS_OK)
        return LK_OK;
    lk_log(LK_LOG_WARN, "nats: %s of %s seq %llu failed: %s", what,
           msg->subject, (unsigned long long)msg->stream_seq,
           natsStatus_GetText(s));
    return lk_nats_status_map(s);
}

static lk_status delivery_ack(lk_msg *msg)
{
    return reply_status(natsMsg_Ack(delivery_msg(msg), NULL), "ack", msg);
}

static lk_status delivery_nak(lk_msg *msg, int64_t delay_ms)
{
    natsMsg *m = delivery_msg(msg);
    natsStatus s = delay_ms > 0 ? natsMsg_NakWithDelay(m, delay_ms, NULL)
                                : natsMsg_Nak(m, NULL);
    return reply_status(s, "nak", msg);
}

static lk_status delivery_term(lk_msg *msg)
{
    return reply_status(natsMsg_Term(delivery_msg(msg), NULL), "term", msg);
}

static lk_status delivery_in_progress(lk_msg *msg)
{
    return reply_status(natsMsg_InProgress(delivery_msg(msg), NULL),
                        "in_progress", msg);
}

static const lk_msg_ops delivery_ops = {
    .ack = delivery_ack,
    .nak = delivery_nak,
    .term = delivery_term,
    .in_progress = delivery_in_progress,
    .free = NULL, /* borrowed by the handler; freed below */
};

/* Runs on the subscription's libnats thread, once per delivery. */
static void on_delivery(natsConnection *nc, natsSubscription *sub, natsMsg *m,
                        void *closure)
{
    lk_nats_sub *ls = closure;
    lk_nats_meta meta;
    (void)nc;
    (void)sub;

    /* Read in place (nats_meta.c); libnats' own reader, which allocates,
     * only for a subject of another shape, and for its error. */
    if (!lk_nats_ack_meta(natsMsg_GetReply(m), &meta)) {
        jsMsgMetaData *jm = NULL;
        natsStatus s = natsMsg_GetMetaData(&jm, m);
        if (s != NATS_OK) {
            lk_log(LK_LOG_WARN,
                   "nats: %s: dropped a delivery without JetStream metadata: "
                   "%s",
                   ls->subject, natsStatus_GetText(s));
            natsMsg_Destroy(m);
            return;
        }
        meta = (lk_nats_meta){jm->Sequence.Stream, jm->NumDelivered,
                              jm->Timestamp};
        jsMsgMetaData_Destroy(jm);
    }
    int len = natsMsg_GetDataLength(m);
    const char *data = natsMsg_GetData(m);
    nats_delivery d = {
        .base = {
            .ops = &delivery_ops,
            .subject = natsMsg_GetSubject(m),
            .data = data != NULL ? data : "",
            .length = len > 0 ? (size_t)len : 0,
            .stream_seq = meta.stream_seq,
            .delivery_count = meta.delivered,
            .timestamp_ms = meta.timestamp_ns / NS_PER_MS,
        },
        .m = m,
    };
    ls->handler(&d.base, ls->closure);
    natsMsg_Destroy(m);
}

/* ---- subscriptions ------------------------------------------------------- */

/* libnats refuses a second subscriber on a push consumer without deliver
 * group with this text (there is no status of its own for it). */
static bool already_bound(natsStatus s)
{
    natsStatus last = NATS_OK;
    const char *text = nats_GetLastError(&last);
    return last == s && text != NULL && strstr(text, "already bound") != NULL;
}

/* libnats calls this once the subscription is closed and its handler has
 * returned for the last time; from then on `ls` and its closure are ours
 * to free. */
static void on_sub_complete(void *closure)
{
    lk_nats_sub *ls = closure;
    lk_nats_bus *b = ls->bus;
    pthread_mutex_lock(&b->mu);
    ls->complete = true;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->mu);
}

/* One try at binding a durable subscription (see lk_nats_retry). */
typedef struct join {
    lk_nats_bus *b;
    lk_nats_sub *ls;
    const lk_subscribe_opts *opts;
    const char *name;
    jsSubOptions *so;
} join;

static lk_status join_once(void *ctx, bool *again, lk_error *err)
{
    join *j = ctx;
    const char *subject = j->ls->subject;
    lk_status st = LK_OK;
    /* Only queue members skip the lookup: a second subscriber to a durable
     * without a group is refused by libnats when the server reports the
     * consumer bound, which it does a moment after the first one's
     * subscribe; the lookup gives it that moment. */
    bool group = j->opts->queue_group != NULL;
    if (!group || !lk_nats_consumer_known(j->b, j->name, subject, j->opts))
        st = lk_nats_consumer_ensure(j->b, j->name, subject, j->opts, again,
                                     err);
    if (st != LK_OK)
        return st;
    jsErrCode jerr = 0;
    natsStatus s = js_Subscribe(&j->ls->sub, j->b->js, subject, on_delivery,
                                j->ls, NULL, j->so, &jerr);
    if (s == NATS_OK) {
        if (group)
            lk_nats_consumer_remember(j->b, j->name, subject, j->opts);
        return LK_OK;
    }
    if (j->opts->queue_group == NULL && already_bound(s))
        return lk_error_set(err, LK_ERR_INVALID,
                            "subscribe %s: durable \"%s\" already has a "
                            "subscriber; members sharing a durable need a "
                            "queue group",
                            subject, j->opts->durable_name);
    /* Not found: deleted since this bus checked it, or, on a cluster, not
     * visible from here yet: read (or make) it again. */
    bool gone = s == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr;
    if (gone)
        lk_nats_consumer_forget(j->b, j->name);
    *again = gone || lk_nats_join_transient(s, jerr);
    return lk_nats_error(err, s, jerr, "subscribe %s: consumer %s", subject,
                         j->name);
}

static lk_status start_subscription(lk_nats_bus *b, lk_nats_sub *ls,
                                    const lk_subscribe_opts *opts,
                                    lk_error *err)
{
    const char *base = opts->durable_name != NULL ? opts->durable_name
                                                  : opts->queue_group;
    jsSubOptions so;
    lk_status st = LK_OK;

    jsSubOptions_Init(&so);
    so.Stream = b->stream;
    so.ManualAck = true;
    if (base != NULL) {
        char *name = lk_nats_consumer_name(base, ls->subject);
        if (name == NULL)
            return lk_error_set(err, LK_ERR_NOMEM, "subscribe %s: out of memory",
                                ls->subject);
        so.Consumer = name;
        so.Queue = opts->queue_group;
        join j = {.b = b, .ls = ls, .opts = opts, .name = name, .so = &so};
        st = lk_nats_retry(LK_NATS_JOIN_ATTEMPTS, LK_NATS_JOIN_FIRST_PAUSE_MS,
                           LK_NATS_JOIN_MAX_PAUSE_MS, join_once, &j, err);
        free(name);
    } else {
        jsErrCode jerr = 0;
        lk_nats_consumer_config(&so.Config, ls->subject, opts);
        natsStatus s = js_Subscribe(&ls->sub, b->js, ls->subject, on_delivery,
                                    ls, NULL, &so, &jerr);
        if (s != NATS_OK)
            st = lk_nats_error(err, s, jerr, "subscribe %s", ls->subject);
    }
    /* Refused only when the subscription is closed already (the connection
     * went away in between): then no handler is left to wait for. */
    if (st == LK_OK &&
        natsSubscription_SetOnCompleteCB(ls->sub, on_sub_complete, ls) != NATS_OK)
        ls->complete = true;
    return st;
}

static lk_status remember(lk_nats_bus *b, lk_nats_sub *ls, lk_error *err)
{
    lk_status st = LK_OK;
    pthread_mutex_lock(&b->mu);
    if (b->n_subs == b->cap_subs) {
        size_t cap = b->cap_subs ? b->cap_subs * 2 : 8;
        lk_nats_sub **grown = realloc(b->subs, cap * sizeof *grown);
        if (grown == NULL)
            st = lk_error_set(err, LK_ERR_NOMEM, "subscribe: out of memory");
        else {
            b->subs = grown;
            b->cap_subs = cap;
        }
    }
    if (st == LK_OK)
        b->subs[b->n_subs++] = ls;
    pthread_mutex_unlock(&b->mu);
    return st;
}

/* Waits for `ls`'s on-complete, up to `deadline_ms` (negative: forever).
 * True when it ran. */
static bool wait_complete(lk_nats_bus *b, lk_nats_sub *ls, int64_t deadline_ms)
{
    pthread_mutex_lock(&b->mu);
    while (!ls->complete) {
        if (deadline_ms < 0) {
            pthread_cond_wait(&b->cond, &b->mu);
            continue;
        }
        int64_t left = deadline_ms - lk_nats_now_ms();
        if (left <= 0)
            break;
        /* cond uses CLOCK_REALTIME: wait in short steps against the
         * monotonic deadline, so a clock jump cannot stretch it. */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t step = left < 50 ? left : 50;
        until.tv_nsec += (long)(step * 1000000);
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&b->cond, &b->mu, &until);
    }
    bool complete = ls->complete;
    pthread_mutex_unlock(&b->mu);
    return complete;
}

static void sub_free(lk_nats_sub *ls)
{
    natsSubscription_Destroy(ls->sub);
    free(ls->subject);
    free(ls);
}

lk_status lk_nats_subscribe(lk_bus *bus, const char *subject,
                            const lk_subscribe_opts *opts,
                            lk_msg_handler handler, void *closure,
                            lk_error *err)
{
    lk_nats_bus *b = (lk_nats_bus *)bus;
    lk_subscribe_opts defaults = {0};
    lk_status st = LK_OK;
    if (opts == NULL)
        opts = &defaults;

    pthread_mutex_lock(&b->mu);
    if (b->state != LK_NATS_OPEN)
        st = lk_error_set(err, LK_ERR_CLOSED,
                          "subscribe %s: the bus is drained or closed",
                          subject);
    pthread_mutex_unlock(&b->mu);
    /* lk_bus_subscribe let a well-formed wildcard through ('*' and '>'
     * appear only as whole tokens now); the adapter serves none. */
    if (st == LK_OK && strpbrk(subject, "*>") != NULL)
        st = lk_error_set(err, LK_ERR_UNSUPPORTED,
                          "nats: subscribe %s: wildcard subjects are not "
                          "supported by the NATS adapter (it names durable "
                          "consumers and adds stream subjects per literal "
                          "subject); subscribe to each subject",
                          subject);
    if (st == LK_OK)
        st = lk_nats_stream_ensure(b, subject, false, err);

    lk_nats_sub *ls = NULL;
    if (st == LK_OK) {
        ls = calloc(1, sizeof *ls);
        if (ls == NULL || (ls->subject = strdup(subject)) == NULL)
            st = lk_error_set(err, LK_ERR_NOMEM, "subscribe %s: out of memory",
                              subject);
    }
    if (st == LK_OK) {
        ls->bus = b;
        ls->handler = handler;
        ls->closure = closure;
        st = start_subscription(b, ls, opts, err);
    }
    if (st == LK_OK)
        st = remember(b, ls, err);
    if (st != LK_OK && ls != NULL) {
        if (ls->sub != NULL && natsSubscription_Unsubscribe(ls->sub) == NATS_OK)
            wait_complete(b, ls, -1);
        sub_free(ls);
    }
    return st;
}

int64_t lk_nats_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool lk_nats_subs_wait_complete(lk_nats_bus *b, int64_t deadline_ms)
{
    pthread_mutex_lock(&b->mu);
    size_t n = b->n_subs;
    pthread_mutex_unlock(&b->mu);
    bool all = true;
    for (size_t i = 0; i < n && all; i++)
        all = wait_complete(b, b->subs[i], deadline_ms);
    return all;
}

void lk_nats_subs_free(lk_nats_bus *b)
{
    for (size_t i = 0; i < b->n_subs; i++) {
        lk_nats_sub *ls = b->subs[i];
        /* A handler past the drain bound is still running on its closure
         * (the caller's state): free must not return before it does. Say
         * so once per drain bound, so a hung handler shows in the log. */
        while (!wait_complete(b, ls, lk_nats_now_ms() + b->drain_timeout_ms))
            lk_log(LK_LOG_WARN,
                   "nats: free: still waiting for a handler of %s to return",
                   ls->subject);
        sub_free(ls);
    }
    free(b->subs);
    b->subs = NULL;
    b->n_subs = b->cap_subs = 0;
    lk_nats_consumers_free(b);
}

bool lk_nats_subs_drain(lk_nats_bus *b, int64_t deadline_ms)
{
    bool finished = true;
    /* No subscription is added once the state left OPEN (subscribe checks
     * it), so the list is stable here; start all drains, then wait, each
     * wait for what is left of the one bound (not a bound per
     * subscription). */
    pthread_mutex_lock(&b->mu);
    size_t n = b->n_subs;
    pthread_mutex_unlock(&b->mu);
    int64_t left = deadline_ms - lk_nats_now_ms();
    for (size_t i = 0; i < n; i++)
        natsSubscription_DrainTimeout(b->subs[i]->sub, left > 0 ? left : 1);
    for (size_t i = 0; i < n; i++) {
        left = deadline_ms - lk_nats_now_ms();
        natsStatus s = natsSubscription_WaitForDrainCompletion(
            b->subs[i]->sub, left > 0 ? left : 1);
        if (s == NATS_OK)
            s = natsSubscription_DrainCompletionStatus(b->subs[i]->sub);
        if (s == NATS_TIMEOUT)
            finished = false;
        if (s != NATS_OK && s != NATS_INVALID_SUBSCRIPTION)
            lk_log(LK_LOG_WARN, "nats: drain of %s: %s", b->subs[i]->subject,
                   natsStatus_GetText(s));
    }
    return finished;
}
