/* SPDX-License-Identifier: MIT */
/* bench_nats.c — events published and acked per second on a real JetStream
 * server: through an lk_listener on lk_nats_bus, against libnats' own
 * JetStream calls with the adapter's stream and consumer settings. */
#include "bench.h"
#include "bench_nats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "common/ticketing.h"
#include "listenkit/listener.h"
#include "listenkit/nats.h"

#define QUEUE "bench-nats"
#define PUBLISH_TIMEOUT_MS 5000

typedef struct nats_ctx {
    const char *url;
    bench_payloads payloads;
    waiter w;
    int run_lk, run_raw; /* each run gets its own stream and subject */
} nats_ctx;

/* ---- listenkit ----------------------------------------------------------------- */

static bool run_listenkit(void *vctx, double *fig, uint64_t *sum)
{
    nats_ctx *c = vctx;
    const bench_payloads *p = &c->payloads;
    char stream[64], subject[64];
    int run = c->run_lk++;
    snprintf(stream, sizeof stream, "BENCH_LK_%d", run);
    snprintf(subject, sizeof subject, "bench.lk.%d.ticket:updated", run);

    /* The services' schema, on this run's subject. */
    lk_schema schema = ticketing_ticket_updated;
    schema.subject = subject;
    lk_listener_def def = {
        .schema = &schema, .queue_group = QUEUE, .on_message = bench_nats_on_updated};
    lk_nats_opts nopts = {.stream = stream, .name = "bench-listenkit",
                          .publish_timeout_ms = PUBLISH_TIMEOUT_MS};
    lk_bus *bus = NULL;
    lk_listener listener;
    lk_error err = {0};

    waiter_reset(&c->w, p->count);
    lk_status s = lk_nats_bus_connect(&bus, c->url, &nopts, &err);
    if (s == LK_OK)
        s = lk_listener_init(&listener, &def, bus, &c->w, &err);
    if (s == LK_OK)
        s = lk_listener_listen(&listener, &err);
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; s == LK_OK && i < p->count; i++)
        s = lk_bus_publish(bus, subject, p->data[i], p->len[i], NULL, &err);
    bool ok = s == LK_OK && waiter_wait(&c->w, sum);
    uint64_t t1 = bench_now_ns();
    if (s != LK_OK)
        fprintf(stderr, "bench: nats (listenkit): %s\n", err.message);
    lk_bus_free(bus);
    fig[0] = (double)p->count * 1e9 / (double)(t1 - t0);
    return ok;
}

/* ---- libnats by hand ------------------------------------------------------------ */

/* The stream and durable queue consumer the adapter would make: file
 * storage, explicit ack, 5 s ack wait, unlimited deliveries, deliver all. */
static bool raw_setup(natsConnection *nc, jsCtx *js, const char *stream,
                      const char *subject, const char *durable)
{
    (void)nc;
    return bench_nats_add_stream(js, stream, subject) &&
           bench_nats_add_consumer(js, stream, subject, durable, QUEUE);
}

static bool run_raw(void *vctx, double *fig, uint64_t *sum)
{
    nats_ctx *c = vctx;
    const bench_payloads *p = &c->payloads;
    char stream[64], subject[64], durable[64];
    int run = c->run_raw++;
    snprintf(stream, sizeof stream, "BENCH_RAW_%d", run);
    snprintf(subject, sizeof subject, "bench.raw.%d.ticket:updated", run);
    snprintf(durable, sizeof durable, "%s_raw_%d", QUEUE, run);

    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsSubscription *sub = NULL;
    jsOptions jo;
    jsSubOptions so;
    jsPubOptions po;
    jsErrCode jerr = 0;
    bool ok = true;

    waiter_reset(&c->w, p->count);
    natsStatus s = natsConnection_ConnectTo(&nc, c->url);
    if (s != NATS_OK)
        ok = bench_nats_failed("connect", s, 0);
    if (ok) {
        jsOptions_Init(&jo);
        jo.Wait = PUBLISH_TIMEOUT_MS;
        if ((s = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK)
            ok = bench_nats_failed("JetStream context", s, 0);
    }
    ok = ok && raw_setup(nc, js, stream, subject, durable);
    if (ok) {
        jsSubOptions_Init(&so);
        so.Stream = stream;
        so.Consumer = durable;
        so.ManualAck = true;
        so.Queue = QUEUE; /* libnats 3.4 has no js_QueueSubscribe: this is
                             its queue subscription */
        s = js_Subscribe(&sub, js, subject, bench_nats_on_raw, &c->w, NULL, &so, &jerr);
        if (s != NATS_OK)
            ok = bench_nats_failed("queue subscribe", s, jerr);
    }
    jsPubOptions_Init(&po);
    po.MaxWait = PUBLISH_TIMEOUT_MS;
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; ok && i < p->count; i++) {
        jsPubAck *ack = NULL;
        s = js_Publish(&ack, js, subject, p->data[i], (int)p->len[i], &po,
                       &jerr);
        jsPubAck_Destroy(ack);
        if (s != NATS_OK)
            ok = bench_nats_failed("publish", s, jerr);
    }
    ok = ok && waiter_wait(&c->w, sum);
    uint64_t t1 = bench_now_ns();
    if (sub != NULL) {
        natsSubscription_Unsubscribe(sub);
        natsSubscription_Destroy(sub);
    }
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    fig[0] = (double)p->count * 1e9 / (double)(t1 - t0);
    return ok;
}

static void bench_nats_sync(const bench_opts *opts, bench_report *report)
{
    nats_ctx c = {.url = opts->nats_url};
    size_t n = opts->n[BENCH_NATS];
    bench_row *row = bench_report_add(report, "nats publish+ack", "ev/s");
    if (row == NULL)
        return;
    row->n = n;
    row->target_kind = BENCH_AT_LEAST;
    row->target = 0.9;
    snprintf(row->lk_label, sizeof row->lk_label, "lk_listener on nats");
    snprintf(row->base_label, sizeof row->base_label,
             "libnats js_Publish+Subscribe");
    if (opts->nats_url == NULL) {
        char why[160];
        snprintf(why, sizeof why, "skipped: %s",
                 opts->nats_missing ? opts->nats_missing : "no nats-server");
        bench_row_skip(row, why);
        return;
    }
    if (!bench_payloads_make(&c.payloads, n, 44)) {
        bench_row_skip(row, "skipped: out of memory");
        return;
    }
    waiter_init(&c.w);
    if (bench_run_pairs(opts, row, true, run_listenkit, run_raw, &c))
        bench_row_note(row, "sync publish (waits for the stream's ack), one "
                       "queue member, file storage; each run a fresh stream");
    waiter_destroy(&c.w);
    bench_payloads_free(&c.payloads);
}

void bench_nats(const bench_opts *opts, bench_report *report)
{
    bench_nats_sync(opts, report);
    bench_nats_bulk(opts, report);
}
