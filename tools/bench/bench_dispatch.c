/* SPDX-License-Identifier: MIT */
/* bench_dispatch.c — one delivery's cost: decode + validate + a listener
 * reading every field + ack, against jansson and the same reads by hand. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/ticketing.h"
#include "fake_msg.h"
#include "listenkit/listener.h"

typedef struct dispatch_ctx {
    bench_payloads payloads;
    lk_msg **msgs; /* one fake message per payload, made before timing */
    lk_listener listener;
    uint64_t sum;  /* what the listener read */
} dispatch_ctx;

static lk_status on_updated(lk_listener *l, const json_t *data, lk_msg *msg)
{
    dispatch_ctx *ctx = l->ctx;
    ctx->sum = bench_mix(ctx->sum, bench_read_ticket_lk(data));
    return lk_msg_ack(msg);
}

static const lk_listener_def updated_def = {
    .schema = &ticketing_ticket_updated,
    .queue_group = "bench-dispatch",
    .on_message = on_updated,
};

static bool run_listenkit(void *vctx, double *figure, uint64_t *sum)
{
    dispatch_ctx *ctx = vctx;
    size_t n = ctx->payloads.count;
    ctx->sum = 0;
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++)
        if (lk_listener_dispatch(&ctx->listener, ctx->msgs[i]) != LK_OK) {
            fprintf(stderr, "bench: dispatch of payload %zu failed: %s\n", i,
                    ctx->payloads.data[i]);
            return false;
        }
    uint64_t t1 = bench_now_ns();
    *figure = (double)(t1 - t0) / (double)n;
    *sum = ctx->sum;
    return true;
}

/* The baseline's message: a reply through a function pointer, as an
 * lk_msg's ops table does, that only counts. */
typedef struct raw_msg {
    int (*ack)(struct raw_msg *msg);
    int acks;
} raw_msg;

static int raw_ack(raw_msg *msg)
{
    msg->acks++;
    return 0;
}

static bool run_baseline(void *vctx, double *figure, uint64_t *sum)
{
    dispatch_ctx *ctx = vctx;
    size_t n = ctx->payloads.count;
    raw_msg msg = {.ack = raw_ack};
    uint64_t total = 0;
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++) {
        json_error_t jerr;
        json_t *data = json_loadb(ctx->payloads.data[i], ctx->payloads.len[i],
                                  0, &jerr);
        uint64_t s = 0;
        bool ok = data != NULL && bench_read_ticket_raw(data, &s);
        json_decref(data);
        if (!ok) {
            fprintf(stderr, "bench: baseline refused payload %zu\n", i);
            return false;
        }
        total = bench_mix(total, s);
        msg.ack(&msg);
    }
    uint64_t t1 = bench_now_ns();
    *figure = (double)(t1 - t0) / (double)n;
    *sum = total;
    return msg.acks == (int)n;
}

void bench_dispatch(const bench_opts *opts, bench_report *report)
{
    size_t n = opts->n[BENCH_DISPATCH];
    bench_row *row = bench_report_add(report, "dispatch ticket:updated",
                                      "ns/op");
    if (row == NULL)
        return;
    row->n = n;
    row->target_kind = BENCH_AT_MOST;
    row->target = 1.3;
    snprintf(row->lk_label, sizeof row->lk_label, "lk_listener_dispatch");
    snprintf(row->base_label, sizeof row->base_label,
             "json_loadb + reads by hand");

    dispatch_ctx ctx = {0};
    lk_error err;
    bool ok = bench_payloads_make(&ctx.payloads, n, 42);
    ok = ok && (ctx.msgs = calloc(n, sizeof *ctx.msgs)) != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = (ctx.msgs[i] = lk_fake_msg_new_bytes(
                  ticketing_ticket_updated.subject, ctx.payloads.data[i],
                  ctx.payloads.len[i])) != NULL;
    if (ok && lk_listener_init(&ctx.listener, &updated_def, NULL, &ctx,
                               &err) != LK_OK) {
        fprintf(stderr, "bench: lk_listener_init: %s\n", err.message);
        ok = false;
    }
    if (!ok)
        bench_row_skip(row, "skipped: setup failed (see stderr)");
    else
        ok = bench_run_pairs(opts, row, true, run_listenkit, run_baseline,
                             &ctx);
    /* Every delivery was acked exactly once per pass (warm-up included). */
    for (size_t i = 0; ok && i < n; i++)
        if (lk_fake_msg_ack_count(ctx.msgs[i]) != opts->runs + 1) {
            bench_row_note(row, "ACK COUNT WRONG: payload %zu acked %d times",
                           i, lk_fake_msg_ack_count(ctx.msgs[i]));
            ok = false;
        }
    if (ok)
        bench_row_note(row, "%.0f bytes/payload; every message acked once "
                       "per pass; the baseline checks types and version >= 0, "
                       "the schema also lengths, ranges, unknown fields, "
                       "duplicate keys and NUL bytes",
                       (double)ctx.payloads.total_bytes / (double)n);
    for (size_t i = 0; ctx.msgs != NULL && i < n; i++)
        lk_fake_msg_free(ctx.msgs[i]);
    free(ctx.msgs);
    bench_payloads_free(&ctx.payloads);
}
