/* SPDX-License-Identifier: MIT */
/*
 * fake_nats.c — the fake NATS client's lk_bus face and its records: what was
 * published, what was subscribed, and the failures a spec asked for.
 *
 * Delivery (broker mode) lives in fake_nats_broker.c; this file only hands
 * publishes and subscriptions over to it.
 */
#include "fake_nats-private.h"

#include "listenkit/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "listenkit/alloc.h"

static lk_status bus_publish(lk_bus *bus, const char *subject,
                             const void *data, size_t len,
                             const lk_publish_opts *opts, lk_error *err);
static lk_status bus_subscribe(lk_bus *bus, const char *subject,
                               const lk_subscribe_opts *opts,
                               lk_msg_handler handler, void *closure,
                               lk_error *err);
static lk_status bus_drain(lk_bus *bus, lk_error *err);
static void bus_free(lk_bus *bus);
static lk_status bus_batch_new(lk_bus *bus, const lk_batch_opts *opts,
                               lk_batch **out, lk_error *err);

static const lk_bus_ops fake_bus_ops = {
    .name = "fake-nats",
    .publish = bus_publish,
    .subscribe = bus_subscribe,
    .drain = bus_drain,
    .free = bus_free,
    .batch_new = bus_batch_new,
};

/* ---- small shared helpers ---------------------------------------------------- */

bool fk_grow(void **items, size_t *cap, size_t count, size_t size)
{
    if (count < *cap)
        return true;
    size_t next = *cap == 0 ? 8 : *cap * 2;
    void *grown = lk_realloc(*items, next * size);
    if (grown == NULL)
        return false;
    *items = grown;
    *cap = next;
    return true;
}

char *fk_strdup(const char *s) { return lk_strdup(s); }

bool fk_same_text(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

void fk_trace(lk_fake_nats *nats, const char *fmt, ...)
{
    if (!nats->opts.trace)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t need = nats->trace_len + (size_t)n + 1;
    if (need > nats->trace_cap) {
        size_t cap = nats->trace_cap == 0 ? 4096 : nats->trace_cap;
        while (cap < need)
            cap *= 2;
        char *grown = lk_realloc(nats->trace, cap);
        if (grown == NULL)
            return; /* the trace is a diagnostic: losing a line beats failing */
        nats->trace = grown;
        nats->trace_cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(nats->trace + nats->trace_len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    nats->trace_len += (size_t)n;
}

/* ---- life ------------------------------------------------------------------ */

static lk_fake_nats *fake_new(bool broker, const lk_fake_broker_opts *opts)
{
    lk_fake_nats *nats = lk_calloc(1, sizeof *nats);
    if (nats == NULL)
        return NULL;
    nats->bus.ops = &fake_bus_ops;
    nats->broker = broker;
    nats->fail_next = LK_OK;
    if (opts != NULL)
        nats->opts = *opts;
    nats->rng = nats->opts.seed;
    if (nats->opts.reorder_window > 1) {
        nats->window = lk_calloc(nats->opts.reorder_window, sizeof *nats->window);
        if (nats->window == NULL) {
            lk_free(nats);
            return NULL;
        }
    }
    return nats;
}

lk_fake_nats *lk_fake_nats_new(void) { return fake_new(false, NULL); }

lk_status lk_fake_broker_opts_check(const lk_fake_broker_opts *opts,
                                    lk_error *err)
{
    /* Written so that NaN is refused too. */
    if (opts != NULL &&
        !(opts->duplicate_rate >= 0.0 && opts->duplicate_rate <= 1.0))
        return lk_error_set(err, LK_ERR_INVALID,
                            "fake-nats: broker option duplicate_rate must be "
                            "within 0.0 .. 1.0, got %g",
                            opts->duplicate_rate);
    return LK_OK;
}

lk_fake_nats *lk_fake_nats_new_broker(const lk_fake_broker_opts *opts)
{
    lk_error err;
    if (lk_fake_broker_opts_check(opts, &err) != LK_OK) {
        /* The constructor can only return NULL: say why where it shows. */
        lk_log(LK_LOG_ERROR, "%s", err.message);
        return NULL;
    }
    return fake_new(true, opts);
}

static void free_records(lk_fake_nats *nats)
{
    for (size_t i = 0; i < nats->record_count; i++) {
        lk_free(nats->records[i].subject);
        lk_free(nats->records[i].data);
        json_decref(nats->records[i].json);
    }
    nats->record_count = 0;
}

/* `sub` is never NULL: every caller holds a recorded one. */
static void subscription_free(fk_subscription *sub)
{
    lk_free(sub->subject);
    lk_free(sub->queue_group);
    lk_free(sub->durable_name);
    lk_free(sub);
}

void lk_fake_nats_free(lk_fake_nats *nats)
{
    if (nats == NULL)
        return;
    free_records(nats);
    lk_free(nats->records);
    for (size_t i = 0; i < nats->fail_subject_count; i++)
        lk_free(nats->fail_subjects[i].subject);
    lk_free(nats->fail_subjects);
    for (size_t i = 0; i < nats->sub_count; i++)
        subscription_free(nats->subs[i]);
    lk_free(nats->subs);
    fk_broker_free(nats);
    fk_faults_free(nats);
    lk_free(nats->window);
    lk_free(nats->trace);
    lk_free(nats);
}

lk_bus *lk_fake_nats_bus(lk_fake_nats *nats)
{
    return nats != NULL ? &nats->bus : NULL;
}

lk_fake_nats *lk_fake_nats_from_bus(lk_bus *bus)
{
    if (bus == NULL || bus->ops != &fake_bus_ops)
        return NULL;
    return (lk_fake_nats *)bus;
}

/* ---- publish --------------------------------------------------------------- */

static lk_status injected_failure(lk_fake_nats *nats, const char *subject,
                                  lk_error *err)
{
    lk_status s = nats->fail_next;
    if (s != LK_OK) {
        nats->fail_next = LK_OK; /* one shot */
        return lk_error_set(err, s,
                            "fake-nats: publish %s: injected failure "
                            "(fail_next_publish): %s",
                            subject, lk_status_str(s));
    }
    for (size_t i = 0; i < nats->fail_subject_count; i++)
        if (strcmp(nats->fail_subjects[i].subject, subject) == 0)
            return lk_error_set(err, nats->fail_subjects[i].status,
                                "fake-nats: publish %s: injected failure "
                                "(fail_subject): %s",
                                subject,
                                lk_status_str(nats->fail_subjects[i].status));
    return LK_OK;
}

/* The record of a publish, built before the broker stores the message:
 * once the stream holds it nothing may fail, or a publish that returned an
 * error would still be delivered. The caller appends it or frees it. */
static lk_status record_prepare(lk_fake_nats *nats, const char *subject,
                                const void *data, size_t len, fk_record *r,
                                lk_error *err)
{
    *r = (fk_record){fk_strdup(subject), lk_malloc(len + 1), len, NULL, false};
    if (r->subject == NULL || r->data == NULL ||
        !fk_grow((void **)&nats->records, &nats->record_cap,
                 nats->record_count, sizeof *nats->records))
        return lk_error_set(err, LK_ERR_NOMEM, "fake-nats: publish %s: "
                            "out of memory", subject);
    if (len > 0)
        memcpy(r->data, data, len);
    r->data[len] = '\0';
    return LK_OK;
}

static lk_status publish_checked(lk_fake_nats *nats, const fk_conn *conn,
                                 const char *subject, const void *data,
                                 size_t len, const lk_publish_opts *opts,
                                 lk_error *err)
{
    if (nats->closed)
        return lk_error_set(err, LK_ERR_CLOSED,
                            "fake-nats: publish %s: the bus is drained",
                            subject);
    lk_status s = fk_fault_call(nats, conn, LK_FAKE_OP_PUBLISH, subject, err);
    if (s != LK_OK)
        return s;
    if (len > LK_FAKE_NATS_MAX_PAYLOAD)
        return lk_error_set(err, LK_ERR_TOO_LARGE,
                            "fake-nats: publish %s: %zu bytes, over the "
                            "server's max payload of %d",
                            subject, len, LK_FAKE_NATS_MAX_PAYLOAD);
    fk_record r = {0};
    s = injected_failure(nats, subject, err);
    if (s == LK_OK)
        s = record_prepare(nats, subject, data, len, &r, err);
    if (s == LK_OK && nats->broker)
        s = fk_broker_publish(nats, subject, data, len,
                              opts != NULL ? opts->msg_id : NULL, err);
    if (s == LK_OK) {
        nats->records[nats->record_count++] = r;
        nats->stats.published++;
    } else {
        lk_free(r.subject);
        lk_free(r.data);
    }
    return s;
}

lk_status fk_publish(lk_fake_nats *nats, fk_conn *conn, const char *subject,
                     const void *data, size_t len, const lk_publish_opts *opts,
                     lk_error *err)
{
    size_t stored = nats->stream_count;
    lk_status s = publish_checked(nats, conn, subject, data, len, opts, err);
    fk_request(nats, LK_FAKE_OP_PUBLISH, subject,
               nats->stream_count > stored ? nats->stream_count : 0, 0, NULL,
               s);
    return s;
}

lk_status fk_publish_waiting(lk_fake_nats *nats, fk_conn *conn,
                             const char *subject, const void *data, size_t len,
                             const lk_publish_opts *opts, lk_error *err)
{
    lk_status s = fk_publish(nats, conn, subject, data, len, opts, err);
    if (s == LK_OK && fk_fault_take_withheld(nats))
        s = lk_error_set(err, LK_ERR_TIMEOUT,
                         "fake-nats: publish %s: no acknowledgement "
                         "(withheld); the server may still have stored it "
                         "(it did)",
                         subject);
    return s;
}

static lk_status bus_publish(lk_bus *bus, const char *subject,
                             const void *data, size_t len,
                             const lk_publish_opts *opts, lk_error *err)
{
    return fk_publish_waiting((lk_fake_nats *)bus, NULL, subject, data, len,
                              opts, err);
}

static lk_status bus_batch_new(lk_bus *bus, const lk_batch_opts *opts,
                               lk_batch **out, lk_error *err)
{
    return fk_batch_new((lk_fake_nats *)bus, NULL, opts, out, err);
}

/* ---- what was published ------------------------------------------------------ */

size_t lk_fake_nats_published_count(const lk_fake_nats *nats)
{
    return nats != NULL ? nats->record_count : 0;
}

static const fk_record *record_at(const lk_fake_nats *nats, size_t i)
{
    if (nats == NULL || i >= nats->record_count)
        return NULL;
    return &nats->records[i];
}

const char *lk_fake_nats_published_subject(const lk_fake_nats *nats, size_t i)
{
    const fk_record *r = record_at(nats, i);
    return r != NULL ? r->subject : NULL;
}

const char *lk_fake_nats_published_data(const lk_fake_nats *nats, size_t i,
                                        size_t *len)
{
    const fk_record *r = record_at(nats, i);
    if (len != NULL)
        *len = r != NULL ? r->length : 0;
    return r != NULL ? r->data : NULL;
}

const json_t *lk_fake_nats_published_json(const lk_fake_nats *nats, size_t i)
{
    if (nats == NULL || i >= nats->record_count)
        return NULL;
    /* Parsed on first use and cached (see fk_record): the records array is
     * not const even through a const handle. */
    fk_record *r = &nats->records[i];
    if (!r->parsed) {
        r->json = json_loadb(r->data, r->length, JSON_DECODE_ANY, NULL);
        r->parsed = true;
    }
    return r->json;
}

long lk_fake_nats_find_published(const lk_fake_nats *nats,
                                 const char *subject, size_t from)
{
    if (nats == NULL || subject == NULL)
        return -1;
    for (size_t i = from; i < nats->record_count; i++)
        if (strcmp(nats->records[i].subject, subject) == 0)
            return (long)i;
    return -1;
}

size_t lk_fake_nats_published_count_on(const lk_fake_nats *nats,
                                       const char *subject)
{
    size_t n = 0;
    if (nats == NULL || subject == NULL)
        return 0;
    for (size_t i = 0; i < nats->record_count; i++)
        if (strcmp(nats->records[i].subject, subject) == 0)
            n++;
    return n;
}

void lk_fake_nats_reset(lk_fake_nats *nats)
{
    if (nats != NULL)
        free_records(nats);
}

/* ---- fault injection ------------------------------------------------------------ */

void lk_fake_nats_fail_next_publish(lk_fake_nats *nats, lk_status status)
{
    if (nats != NULL)
        nats->fail_next = status;
}

void lk_fake_nats_fail_subject(lk_fake_nats *nats, const char *subject,
                               lk_status status)
{
    if (nats == NULL || subject == NULL)
        return;
    for (size_t i = 0; i < nats->fail_subject_count; i++) {
        fk_fail_subject *f = &nats->fail_subjects[i];
        if (strcmp(f->subject, subject) != 0)
            continue;
        if (status != LK_OK) {
            f->status = status;
            return;
        }
        lk_free(f->subject); /* lifted: keep the list dense */
        *f = nats->fail_subjects[--nats->fail_subject_count];
        return;
    }
    if (status == LK_OK ||
        !fk_grow((void **)&nats->fail_subjects, &nats->fail_subject_cap,
                 nats->fail_subject_count, sizeof *nats->fail_subjects))
        return;
    char *copy = fk_strdup(subject);
    if (copy != NULL)
        nats->fail_subjects[nats->fail_subject_count++] =
            (fk_fail_subject){copy, status};
}

/* ---- subscriptions ------------------------------------------------------------- */

static fk_subscription *record_subscription(lk_fake_nats *nats,
                                            const char *subject,
                                            const lk_subscribe_opts *opts)
{
    if (!fk_grow((void **)&nats->subs, &nats->sub_cap, nats->sub_count,
                 sizeof *nats->subs))
        return NULL;
    fk_subscription *sub = lk_calloc(1, sizeof *sub);
    if (sub == NULL)
        return NULL;
    sub->subject = fk_strdup(subject);
    sub->queue_group = fk_strdup(opts->queue_group);
    sub->durable_name = fk_strdup(opts->durable_name);
    if (sub->subject == NULL ||
        (opts->queue_group != NULL && sub->queue_group == NULL) ||
        (opts->durable_name != NULL && sub->durable_name == NULL)) {
        subscription_free(sub);
        return NULL;
    }
    sub->info = (lk_fake_subscription_info){
        .subject = sub->subject,
        .queue_group = sub->queue_group,
        .durable_name = sub->durable_name,
        .ack_wait_ms = opts->ack_wait_ms > 0 ? opts->ack_wait_ms
                                             : LK_DEFAULT_ACK_WAIT_MS,
        .max_deliver = opts->max_deliver,
        .max_ack_pending = opts->max_ack_pending > 0
                               ? opts->max_ack_pending
                               : LK_DEFAULT_MAX_ACK_PENDING,
        .deliver_all = opts->deliver_all,
    };
    nats->subs[nats->sub_count++] = sub;
    return sub;
}

static lk_status subscribe_checked(lk_fake_nats *nats, fk_conn *conn,
                                   const char *subject,
                                   const lk_subscribe_opts *opts,
                                   lk_msg_handler handler, void *closure,
                                   lk_error *err)
{
    lk_subscribe_opts defaults = {0};
    if (opts == NULL)
        opts = &defaults;
    if (nats->closed)
        return lk_error_set(err, LK_ERR_CLOSED,
                            "fake-nats: subscribe %s: the bus is drained",
                            subject);
    lk_status fs = fk_fault_call(nats, conn, LK_FAKE_OP_SUBSCRIBE, subject, err);
    if (fs != LK_OK)
        return fs;
    if (strpbrk(subject, "*>") != NULL)
        return lk_error_set(err, LK_ERR_UNSUPPORTED,
                            "fake-nats: subscribe %s: wildcard subjects are "
                            "not supported by the fake",
                            subject);
    /* Names were checked by lk_bus_subscribe, as for every bus. */
    fk_subscription *sub = record_subscription(nats, subject, opts);
    if (sub == NULL)
        return lk_error_set(err, LK_ERR_NOMEM,
                            "fake-nats: subscribe %s: out of memory", subject);
    lk_status s = nats->broker ? fk_broker_subscribe(nats, sub, handler,
                                                     closure, conn, err)
                               : LK_OK;
    if (s != LK_OK) /* only subscriptions that worked are recorded */
        subscription_free(nats->subs[--nats->sub_count]);
    return s;
}

lk_status fk_subscribe(lk_fake_nats *nats, fk_conn *conn, const char *subject,
                       const lk_subscribe_opts *opts, lk_msg_handler handler,
                       void *closure, lk_error *err)
{
    lk_status s =
        subscribe_checked(nats, conn, subject, opts, handler, closure, err);
    const char *durable = opts != NULL && opts->durable_name != NULL
                              ? opts->durable_name
                              : opts != NULL ? opts->queue_group : NULL;
    fk_request(nats, LK_FAKE_OP_SUBSCRIBE, subject, 0, 0, durable, s);
    return s;
}

static lk_status bus_subscribe(lk_bus *bus, const char *subject,
                               const lk_subscribe_opts *opts,
                               lk_msg_handler handler, void *closure,
                               lk_error *err)
{
    return fk_subscribe((lk_fake_nats *)bus, NULL, subject, opts, handler,
                        closure, err);
}

size_t lk_fake_nats_subscription_count(const lk_fake_nats *nats)
{
    return nats != NULL ? nats->sub_count : 0;
}

const lk_fake_subscription_info *
lk_fake_nats_subscription(const lk_fake_nats *nats, size_t i)
{
    if (nats == NULL || i >= nats->sub_count)
        return NULL;
    return &nats->subs[i]->info;
}

bool lk_fake_nats_has_subscription(const lk_fake_nats *nats,
                                   const char *subject,
                                   const char *queue_group)
{
    if (nats == NULL || subject == NULL)
        return false;
    for (size_t i = 0; i < nats->sub_count; i++) {
        const lk_fake_subscription_info *info = &nats->subs[i]->info;
        if (strcmp(info->subject, subject) == 0 &&
            fk_same_text(info->queue_group, queue_group))
            return true;
    }
    return false;
}

/* ---- drain and free ------------------------------------------------------------ */

static lk_status bus_drain(lk_bus *bus, lk_error *err)
{
    (void)err;
    lk_fake_nats *nats = (lk_fake_nats *)bus;
    if (!nats->closed) {
        fk_trace(nats, "t=%lld drain\n", (long long)nats->now);
        fk_request(nats, LK_FAKE_OP_DRAIN, NULL, 0, 0, NULL, LK_OK);
    }
    nats->closed = true;
    return LK_OK;
}

static void bus_free(lk_bus *bus) { lk_fake_nats_free((lk_fake_nats *)bus); }
