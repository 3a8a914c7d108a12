/* SPDX-License-Identifier: MIT */
/* bench_nats_bulk.c — the two real-server figures that a round trip per
 * message would hide:
 *
 *   nats consume+ack, 4 listeners
 *       N events already in a stream, consumed by 4 lk_listeners in one
 *       queue group (decode, validate, read every field, ack) vs 4 libnats
 *       js_Subscribe queue consumers parsing the same JSON with jansson and
 *       reading the same fields; same ack wait and max ack pending, a
 *       fresh durable consumer (deliver all) per run on the same stream.
 *   nats async publish
 *       N events published without waiting, then every acknowledgement
 *       awaited: lk_batch (lk_batch_publish + lk_batch_wait) vs
 *       js_PublishAsync + js_PublishAsyncComplete with an error handler
 *       (so that failures are not lost either), the same max in flight;
 *       each run a fresh stream.
 */
#include "bench.h"
#include "bench_nats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../framework/nats/nats_private.h" /* lk_nats_consumer_name */
#include "common/ticketing.h"
#include "listenkit/batch.h"
#include "listenkit/nats.h"

#define MEMBERS 4
#define MAX_IN_FLIGHT 1024
#define TIMEOUT_MS 60000

typedef struct bulk_ctx {
    const char *url;
    bench_payloads payloads;
    waiter w;
    natsConnection *nc; /* for setup: streams, the consume backlog */
    jsCtx *js;
    char stream[64], subject[96]; /* the consume backlog */
    int run_lk, run_raw;
} bulk_ctx;

/* ---- setup -------------------------------------------------------------------- */

static void pae_count(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    (void)js;
    (void)pae;
    waiter_add(closure, 0, false);
}

/* js_PublishAsync of every payload on a context with `max` in flight and
 * an error handler, then js_PublishAsyncComplete: the raw side of the
 * async row, and how the consume backlog is filled. */
static bool raw_publish_all(bulk_ctx *c, const char *subject, uint64_t *sum)
{
    const bench_payloads *p = &c->payloads;
    jsCtx *js = NULL;
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.MaxPending = MAX_IN_FLIGHT;
    jo.PublishAsync.StallWait = TIMEOUT_MS;
    jo.PublishAsync.ErrHandler = pae_count;
    jo.PublishAsync.ErrHandlerClosure = &c->w;
    waiter_reset(&c->w, 0);
    natsStatus s = natsConnection_JetStream(&js, c->nc, &jo);
    for (size_t i = 0; s == NATS_OK && i < p->count; i++)
        s = js_PublishAsync(js, subject, p->data[i], (int)p->len[i], NULL);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = TIMEOUT_MS;
    if (s == NATS_OK)
        s = js_PublishAsyncComplete(js, &po);
    jsCtx_Destroy(js);
    pthread_mutex_lock(&c->w.mu);
    bool failed = c->w.failed;
    pthread_mutex_unlock(&c->w.mu);
    if (s != NATS_OK || failed)
        return s != NATS_OK ? bench_nats_failed("async publish", s, 0)
                            : bench_nats_failed("async publish ack",
                                                NATS_ERR, 0);
    *sum = bench_mix(0, p->count);
    return true;
}

/* ---- consume -------------------------------------------------------------------- */

static bool consume_listenkit(void *vctx, double *fig, uint64_t *sum)
{
    bulk_ctx *c = vctx;
    size_t n = c->payloads.count;
    char group[64];
    snprintf(group, sizeof group, "bench-lk-%d", c->run_lk++);
    lk_schema schema = ticketing_ticket_updated;
    schema.subject = c->subject;
    lk_listener_def def = {.schema = &schema,
                           .queue_group = group,
                           .on_message = bench_nats_on_updated,
                           .max_ack_pending = LK_DEFAULT_MAX_ACK_PENDING};
    lk_nats_opts nopts = {.stream = c->stream, .name = "bench-listenkit"};
    lk_bus *bus = NULL;
    lk_listener members[MEMBERS];
    lk_error err = {0};

    waiter_reset(&c->w, n);
    lk_status s = lk_nats_bus_connect(&bus, c->url, &nopts, &err);
    uint64_t t0 = bench_now_ns();
    for (int i = 0; s == LK_OK && i < MEMBERS; i++) {
        s = lk_listener_init(&members[i], &def, bus, &c->w, &err);
        if (s == LK_OK)
            s = lk_listener_listen(&members[i], &err);
    }
    bool ok = s == LK_OK && waiter_wait(&c->w, sum);
    uint64_t t1 = bench_now_ns();
    if (s != LK_OK)
        fprintf(stderr, "bench: nats consume (listenkit): %s\n", err.message);
    lk_bus_free(bus);
    fig[0] = (double)n * 1e9 / (double)(t1 - t0);
    return ok;
}

static bool consume_raw(void *vctx, double *fig, uint64_t *sum)
{
    bulk_ctx *c = vctx;
    size_t n = c->payloads.count;
    char base[32];
    snprintf(base, sizeof base, "bench-raw-%d", c->run_raw++);
    /* Named as listenkit names the listeners' durable (nats.h: base,
     * subject, hash), bases of the same length: every delivery's reply
     * subject and every ack carry the name, and a name 40 bytes shorter
     * than the other side's made the baseline ~15% cheaper in server and
     * client CPU by bytes alone (measured), which is no part of what the
     * row compares. */
    char *durable = lk_nats_consumer_name(base, c->subject);
    if (durable == NULL)
        return false;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsSubscription *subs[MEMBERS] = {NULL};
    bool ok = true;

    waiter_reset(&c->w, n);
    natsStatus s = natsConnection_ConnectTo(&nc, c->url);
    if (s == NATS_OK)
        s = natsConnection_JetStream(&js, nc, NULL);
    if (s != NATS_OK)
        ok = bench_nats_failed("connect", s, 0);
    uint64_t t0 = bench_now_ns();
    ok = ok && bench_nats_add_consumer(c->js, c->stream, c->subject, durable,
                                     base);
    for (int i = 0; ok && i < MEMBERS; i++) {
        jsSubOptions so;
        jsErrCode jerr = 0;
        jsSubOptions_Init(&so);
        so.Stream = c->stream;
        so.Consumer = durable;
        so.Queue = base;
        so.ManualAck = true;
        s = js_Subscribe(&subs[i], js, c->subject, bench_nats_on_raw, &c->w,
                         NULL, &so, &jerr);
        if (s != NATS_OK)
            ok = bench_nats_failed("queue subscribe", s, jerr);
    }
    ok = ok && waiter_wait(&c->w, sum);
    uint64_t t1 = bench_now_ns();
    for (int i = 0; i < MEMBERS; i++) {
        if (subs[i] != NULL)
            natsSubscription_Drain(subs[i]);
    }
    for (int i = 0; i < MEMBERS; i++) {
        if (subs[i] != NULL)
            natsSubscription_WaitForDrainCompletion(subs[i], 5000);
        natsSubscription_Destroy(subs[i]);
    }
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    free(durable);
    fig[0] = (double)n * 1e9 / (double)(t1 - t0);
    return ok;
}

/* ---- async publish ----------------------------------------------------------------- */

static bool apub_stream(bulk_ctx *c, const char *side, int run, char *stream,
                        size_t ssize, char *subject, size_t subsize)
{
    snprintf(stream, ssize, "BENCH_APUB_%s_%d_%d", side, (int)getpid(), run);
    snprintf(subject, subsize, "bench.apub.%s.%d.ticket:updated", side, run);
    return bench_nats_add_stream(c->js, stream, subject);
}

static bool apub_listenkit(void *vctx, double *fig, uint64_t *sum)
{
    bulk_ctx *c = vctx;
    const bench_payloads *p = &c->payloads;
    char stream[64], subject[96];
    if (!apub_stream(c, "LK", c->run_lk++, stream, sizeof stream, subject,
                     sizeof subject))
        return false;
    lk_nats_opts nopts = {.stream = stream, .name = "bench-listenkit",
                          .publish_timeout_ms = TIMEOUT_MS};
    lk_batch_opts bo = {.max_in_flight = MAX_IN_FLIGHT};
    lk_bus *bus = NULL;
    lk_batch *batch = NULL;
    lk_error err = {0};
    lk_status s = lk_nats_bus_connect(&bus, c->url, &nopts, &err);
    uint64_t t0 = bench_now_ns();
    if (s == LK_OK)
        s = lk_batch_new(bus, &bo, &batch, &err);
    for (size_t i = 0; s == LK_OK && i < p->count; i++)
        s = lk_batch_publish(batch, subject, p->data[i], p->len[i], NULL,
                             &err);
    if (s == LK_OK)
        s = lk_batch_wait(batch, 0, &err);
    uint64_t t1 = bench_now_ns();
    bool ok = s == LK_OK && lk_batch_acked(batch) == p->count;
    if (s != LK_OK)
        fprintf(stderr, "bench: nats async publish (listenkit): %s\n",
                err.message);
    *sum = bench_mix(0, lk_batch_acked(batch));
    lk_batch_free(batch);
    lk_bus_free(bus);
    js_DeleteStream(c->js, stream, NULL, NULL);
    fig[0] = (double)p->count * 1e9 / (double)(t1 - t0);
    return ok;
}

static bool apub_raw(void *vctx, double *fig, uint64_t *sum)
{
    bulk_ctx *c = vctx;
    char stream[64], subject[96];
    if (!apub_stream(c, "RAW", c->run_raw++, stream, sizeof stream, subject,
                     sizeof subject))
        return false;
    uint64_t t0 = bench_now_ns();
    bool ok = raw_publish_all(c, subject, sum);
    uint64_t t1 = bench_now_ns();
    js_DeleteStream(c->js, stream, NULL, NULL);
    fig[0] = (double)c->payloads.count * 1e9 / (double)(t1 - t0);
    return ok;
}

/* ---- the rows ---------------------------------------------------------------------- */

static bench_row *bulk_row(bench_report *report, const char *name, size_t n,
                           const char *lk_label, const char *base_label)
{
    bench_row *row = bench_report_add(report, name, "ev/s");
    if (row == NULL)
        return NULL;
    row->n = n;
    row->target_kind = BENCH_AT_LEAST;
    row->target = 0.9;
    snprintf(row->lk_label, sizeof row->lk_label, "%s", lk_label);
    snprintf(row->base_label, sizeof row->base_label, "%s", base_label);
    return row;
}

static bool bulk_setup(bulk_ctx *c, size_t n)
{
    natsStatus s = natsConnection_ConnectTo(&c->nc, c->url);
    if (s == NATS_OK)
        s = natsConnection_JetStream(&c->js, c->nc, NULL);
    if (s != NATS_OK)
        return bench_nats_failed("connect", s, 0);
    if (!bench_payloads_make(&c->payloads, n, 45))
        return false;
    snprintf(c->stream, sizeof c->stream, "BENCH_CONSUME_%d", (int)getpid());
    snprintf(c->subject, sizeof c->subject, "bench.consume.%d.ticket:updated",
             (int)getpid());
    uint64_t sum = 0;
    return bench_nats_add_stream(c->js, c->stream, c->subject) &&
           raw_publish_all(c, c->subject, &sum);
}

void bench_nats_bulk(const bench_opts *opts, bench_report *report)
{
    size_t n = opts->nats_bulk;
    bench_row *consume = bulk_row(report, "nats consume+ack, 4 listeners", n,
                                  "4 lk_listeners", "4 js_Subscribe+jansson");
    bench_row *apub = bulk_row(report, "nats async publish", n,
                               "lk_batch", "js_PublishAsync+Complete");
    if (consume == NULL || apub == NULL)
        return;
    if (opts->nats_url == NULL) {
        char why[160];
        snprintf(why, sizeof why, "skipped: %s",
                 opts->nats_missing ? opts->nats_missing : "no nats-server");
        bench_row_skip(consume, why);
        bench_row_skip(apub, why);
        return;
    }
    bulk_ctx c = {.url = opts->nats_url};
    waiter_init(&c.w);
    if (!bulk_setup(&c, n)) {
        bench_row_skip(consume, "skipped: setup failed (see above)");
        bench_row_skip(apub, "skipped: setup failed (see above)");
    } else {
        if (bench_run_pairs(opts, consume, true, consume_listenkit,
                            consume_raw, &c))
            bench_row_note(consume, "one stream, a fresh durable per run, "
                           "named by listenkit's rule on both; ack wait "
                           "5 s, max ack pending 1000 on both");
        c.run_lk = c.run_raw = 0;
        if (bench_run_pairs(opts, apub, true, apub_listenkit, apub_raw, &c))
            bench_row_note(apub, "%d in flight; each run a fresh stream, "
                           "file storage", MAX_IN_FLIGHT);
    }
    if (c.js != NULL && c.stream[0] != '\0')
        js_DeleteStream(c.js, c.stream, NULL, NULL);
    jsCtx_Destroy(c.js);
    natsConnection_Destroy(c.nc);
    bench_payloads_free(&c.payloads);
    waiter_destroy(&c.w);
}
