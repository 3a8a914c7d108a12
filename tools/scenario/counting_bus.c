/* SPDX-License-Identifier: MIT */
/*
 * counting_bus.c — see counting_bus.h. The wrapper hands each handler a
 * message of its own (same fields, replies forwarded to the real message)
 * so it can see the reply without the handler knowing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/counting_bus.h"
#include "scenario/publish_retry.h"

typedef struct counted_sub {
    struct counted_sub *next;
    lk_msg_handler handler;
    void *closure;
    int max_deliver;
    scenario_bus_counters *counters;
} counted_sub;

typedef struct counting_bus {
    lk_bus base;
    lk_bus *inner;
    scenario_bus_counters *counters;
    pthread_mutex_t lock; /* guards subs */
    counted_sub *subs;
    char *run_id;         /* NULL: durable names as given */
    int64_t retry_budget_ms; /* > 0: publishes retried (publish_retry.h) */
    uint64_t published_ids;  /* message ids handed out (atomic) */
} counting_bus;

typedef struct counted_msg {
    lk_msg base;
    lk_msg *inner;
    counted_sub *sub;
    bool replied; /* acked, termed or nak'ed: not given up by silence */
} counted_msg;

/* ---- counters -------------------------------------------------------------- */

lk_status scenario_bus_counters_init(scenario_bus_counters *c, lk_error *err)
{
    memset(c, 0, sizeof *c);
    if (pthread_mutex_init(&c->lock, NULL) != 0)
        return lk_error_set(err, LK_ERR_NOMEM, "counters: cannot make a lock");
    return LK_OK;
}

void scenario_bus_counters_destroy(scenario_bus_counters *c)
{
    if (c == NULL)
        return;
    free(c->acked);
    c->acked = NULL;
    pthread_mutex_destroy(&c->lock);
}

void scenario_bus_counters_get(scenario_bus_counters *c, scenario_counts *out)
{
    pthread_mutex_lock(&c->lock);
    *out = c->counts;
    pthread_mutex_unlock(&c->lock);
}

/* Under the lock. Grows the acked table to hold `seq`; false on OOM. */
static bool acked_reserve(scenario_bus_counters *c, uint64_t seq)
{
    if (seq < c->acked_cap)
        return true;
    size_t cap = c->acked_cap ? c->acked_cap : 1024;
    while (cap <= seq)
        cap *= 2;
    uint8_t *grown = realloc(c->acked, cap);
    if (grown == NULL)
        return false;
    memset(grown + c->acked_cap, 0, cap - c->acked_cap);
    c->acked = grown;
    c->acked_cap = cap;
    return true;
}

/* ---- message replies ------------------------------------------------------------ */

static lk_status cm_ack(lk_msg *msg)
{
    counted_msg *m = (counted_msg *)msg;
    lk_status s = lk_msg_ack(m->inner);
    if (s == LK_OK) {
        scenario_bus_counters *c = m->sub->counters;
        m->replied = true;
        pthread_mutex_lock(&c->lock);
        c->counts.acked++;
        if (acked_reserve(c, msg->stream_seq))
            c->acked[msg->stream_seq] = 1;
        pthread_mutex_unlock(&c->lock);
    }
    return s;
}

static lk_status cm_nak(lk_msg *msg, int64_t delay_ms)
{
    counted_msg *m = (counted_msg *)msg;
    lk_status s = lk_msg_nak(m->inner, delay_ms);
    if (s == LK_OK)
        m->replied = true;
    return s;
}

static lk_status cm_term(lk_msg *msg)
{
    counted_msg *m = (counted_msg *)msg;
    lk_status s = lk_msg_term(m->inner);
    if (s == LK_OK) {
        m->replied = true;
        pthread_mutex_lock(&m->sub->counters->lock);
        m->sub->counters->counts.dead_letters++;
        pthread_mutex_unlock(&m->sub->counters->lock);
    }
    return s;
}

static lk_status cm_in_progress(lk_msg *msg)
{
    return lk_msg_in_progress(((counted_msg *)msg)->inner);
}

static const lk_msg_ops counted_msg_ops = {
    .ack = cm_ack,
    .nak = cm_nak,
    .term = cm_term,
    .in_progress = cm_in_progress,
    .free = NULL, /* lives on the trampoline's stack */
};

static void trampoline(lk_msg *msg, void *closure)
{
    counted_sub *sub = closure;
    scenario_bus_counters *c = sub->counters;
    counted_msg m = {.base = *msg, .inner = msg, .sub = sub};
    m.base.ops = &counted_msg_ops;

    pthread_mutex_lock(&c->lock);
    c->counts.deliveries++;
    if (msg->delivery_count > 1)
        c->counts.redeliveries++;
    if (msg->stream_seq < c->acked_cap && c->acked[msg->stream_seq])
        c->counts.duplicates++;
    pthread_mutex_unlock(&c->lock);

    sub->handler(&m.base, sub->closure);

    /* Silence on the last allowed delivery: the server gives up on it. */
    if (!m.replied && sub->max_deliver > 0 &&
        msg->delivery_count >= (uint64_t)sub->max_deliver) {
        pthread_mutex_lock(&c->lock);
        c->counts.dead_letters++;
        pthread_mutex_unlock(&c->lock);
    }
}

/* ---- bus -------------------------------------------------------------------------- */

static lk_status cb_publish(lk_bus *bus, const char *subject, const void *data,
                            size_t len, const lk_publish_opts *opts,
                            lk_error *err)
{
    counting_bus *b = (counting_bus *)bus;
    lk_status s;
    if (b->retry_budget_ms > 0) {
        char id[160];
        uint64_t n = __atomic_add_fetch(&b->published_ids, 1, __ATOMIC_SEQ_CST);
        snprintf(id, sizeof id, "%s-%p-%llu",
                 b->run_id != NULL ? b->run_id : "pub", (void *)b,
                 (unsigned long long)n);
        s = scenario_publish_retrying(b->inner, subject, data, len, opts, id,
                                      b->retry_budget_ms, NULL, err);
    } else {
        s = lk_bus_publish(b->inner, subject, data, len, opts, err);
    }
    if (s == LK_OK) {
        pthread_mutex_lock(&b->counters->lock);
        b->counters->counts.published++;
        pthread_mutex_unlock(&b->counters->lock);
    }
    return s;
}

/* ---- batches: the inner bus's own, counted ------------------------------------ */

/* A batch on the inner bus (on NATS the adapter's in-flight batch, not the
 * generic synchronous one), whose acknowledged messages count as
 * published. Indices agree with the inner batch's: both count only the
 * messages they took. Failures are handed on for the caller to publish
 * again with their msg ids (the outbox relay does); the counting bus's
 * retries are for synchronous publishes. */
typedef struct counted_batch {
    lk_batch base;
    lk_batch *inner;
    scenario_bus_counters *counters;
    size_t acked_seen, failures_seen;
} counted_batch;

static lk_status cbb_publish(lk_batch *batch, const char *subject,
                             const void *data, size_t len,
                             const lk_publish_opts *opts, lk_error *err)
{
    return lk_batch_publish(((counted_batch *)batch)->inner, subject, data,
                            len, opts, err);
}

static lk_status cbb_wait(lk_batch *batch, int64_t timeout_ms, lk_error *err)
{
    counted_batch *b = (counted_batch *)batch;
    (void)lk_batch_wait(b->inner, timeout_ms, err); /* outcomes below */
    size_t acked = lk_batch_acked(b->inner) - b->acked_seen;
    b->acked_seen += acked;
    lk_batch_note_acked(batch, acked);
    for (; b->failures_seen < lk_batch_failure_count(b->inner);
         b->failures_seen++) {
        const lk_batch_failure *f =
            lk_batch_failure_at(b->inner, b->failures_seen);
        lk_batch_note_failure(batch, f->index, f->subject, f->msg_id,
                              f->status, f->message);
    }
    pthread_mutex_lock(&b->counters->lock);
    b->counters->counts.published += acked;
    pthread_mutex_unlock(&b->counters->lock);
    return LK_OK;
}

static void cbb_free(lk_batch *batch)
{
    counted_batch *b = (counted_batch *)batch;
    lk_batch_free(b->inner);
    lk_batch_release(batch);
    free(b);
}

static const lk_batch_ops counted_batch_ops = {
    .publish = cbb_publish,
    .wait = cbb_wait,
    .free = cbb_free,
};

static lk_status cb_batch_new(lk_bus *bus, const lk_batch_opts *opts,
                              lk_batch **out, lk_error *err)
{
    counting_bus *cb = (counting_bus *)bus;
    counted_batch *b = calloc(1, sizeof *b);
    if (b == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "batch: out of memory");
    lk_status s = lk_batch_new(cb->inner, opts, &b->inner, err);
    if (s != LK_OK) {
        free(b);
        return s;
    }
    lk_batch_init(&b->base, &counted_batch_ops);
    b->base.default_timeout_ms = b->inner->default_timeout_ms;
    b->counters = cb->counters;
    *out = &b->base;
    return LK_OK;
}

static lk_status cb_subscribe(lk_bus *bus, const char *subject,
                              const lk_subscribe_opts *opts,
                              lk_msg_handler handler, void *closure,
                              lk_error *err)
{
    counting_bus *b = (counting_bus *)bus;
    counted_sub *sub = calloc(1, sizeof *sub);
    if (sub == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "subscribe %s: out of memory",
                            subject);
    sub->handler = handler;
    sub->closure = closure;
    sub->max_deliver = opts != NULL ? opts->max_deliver : 0;
    sub->counters = b->counters;
    /* Kept until the bus is freed: the inner bus may deliver until then. */
    pthread_mutex_lock(&b->lock);
    sub->next = b->subs;
    b->subs = sub;
    pthread_mutex_unlock(&b->lock);

    lk_subscribe_opts own = opts != NULL ? *opts : (lk_subscribe_opts){0};
    const char *base = own.durable_name != NULL ? own.durable_name
                                                : own.queue_group;
    char durable[128];
    if (b->run_id != NULL && base != NULL) {
        int n = snprintf(durable, sizeof durable, "%s-%s", base, b->run_id);
        if (n < 0 || (size_t)n >= sizeof durable)
            return lk_error_set(err, LK_ERR_INVALID,
                                "subscribe %s: durable name \"%s-%s\" too long",
                                subject, base, b->run_id);
        own.durable_name = durable;
        own.deliver_all = false;
    }
    return lk_bus_subscribe(b->inner, subject, &own, trampoline, sub, err);
}

static lk_status cb_drain(lk_bus *bus, lk_error *err)
{
    return lk_bus_drain(((counting_bus *)bus)->inner, err);
}

static void cb_free(lk_bus *bus)
{
    counting_bus *b = (counting_bus *)bus;
    lk_bus_free(b->inner); /* drains: no handler runs after this */
    for (counted_sub *s = b->subs, *next; s != NULL; s = next) {
        next = s->next;
        free(s);
    }
    pthread_mutex_destroy(&b->lock);
    free(b->run_id);
    free(b);
}

static const lk_bus_ops counting_bus_ops = {
    .name = "counting",
    .publish = cb_publish,
    .subscribe = cb_subscribe,
    .drain = cb_drain,
    .free = cb_free,
    .batch_new = cb_batch_new,
};

lk_status scenario_counting_bus_new(lk_bus *inner,
                                    scenario_bus_counters *counters,
                                    const char *run_id, lk_bus **out,
                                    lk_error *err)
{
    *out = NULL;
    counting_bus *b = calloc(1, sizeof *b);
    char *id = run_id != NULL ? strdup(run_id) : NULL;
    if (b == NULL || (run_id != NULL && id == NULL) ||
        pthread_mutex_init(&b->lock, NULL) != 0) {
        free(id);
        free(b);
        lk_bus_free(inner);
        return lk_error_set(err, LK_ERR_NOMEM,
                            "counting bus: out of memory");
    }
    b->base.ops = &counting_bus_ops;
    b->inner = inner;
    b->counters = counters;
    b->run_id = id;
    *out = &b->base;
    return LK_OK;
}

void scenario_counting_bus_retry_publishes(lk_bus *bus, int64_t budget_ms)
{
    ((counting_bus *)bus)->retry_budget_ms = budget_ms;
}
