/* SPDX-License-Identifier: MIT */
/* bench_broker.c — messages per second through the fake broker (publish ->
 * deliver to one of 4 queue members -> ack), against the least that moves
 * the same bytes: a ring buffer feeding 4 round-robin consumers. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_nats.h"
#include "listenkit/bus.h"

#define MEMBERS 4
#define BATCH 100 /* published, then delivered until idle: a busy service */
#define SUBJECT "ticket:updated"

typedef struct broker_ctx {
    bench_payloads payloads;
} broker_ctx;

/* What a consumer does with a delivery on both sides: read every byte. The
 * sum is order-free, since the sides may deliver in different orders. */
typedef struct member {
    uint64_t sum;
    size_t delivered;
} member;

/* ---- listenkit: the fake broker ------------------------------------------- */

static void on_delivery(lk_msg *msg, void *closure)
{
    member *m = closure;
    m->sum += bench_str_sum(msg->data);
    m->delivered++;
    lk_msg_ack(msg);
}

static bool run_listenkit(void *vctx, double *fig, uint64_t *sum)
{
    broker_ctx *c = vctx;
    const bench_payloads *p = &c->payloads;
    lk_fake_nats *nats = lk_fake_nats_new_broker(NULL);
    lk_bus *bus = lk_fake_nats_bus(nats);
    member members[MEMBERS] = {{0, 0}};
    lk_subscribe_opts opts = {.queue_group = "bench-broker",
                              .deliver_all = true};
    lk_error err = {0};
    lk_status s = nats != NULL ? LK_OK : LK_ERR_NOMEM;
    for (int i = 0; s == LK_OK && i < MEMBERS; i++)
        s = lk_bus_subscribe(bus, SUBJECT, &opts, on_delivery, &members[i],
                             &err);
    size_t delivered = 0;
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; s == LK_OK && i < p->count; i++) {
        s = lk_bus_publish(bus, SUBJECT, p->data[i], p->len[i], NULL, &err);
        if ((i + 1) % BATCH == 0 || i + 1 == p->count)
            delivered += lk_fake_nats_run_until_idle(nats, 0);
    }
    uint64_t t1 = bench_now_ns();
    lk_fake_nats_stats st = lk_fake_nats_get_stats(nats);
    lk_fake_nats_free(nats);
    if (s != LK_OK || delivered != p->count || st.acked != p->count) {
        fprintf(stderr, "bench: fake broker: %s (delivered %zu, acked %llu "
                "of %zu)\n", s != LK_OK ? err.message : "lost messages",
                delivered, (unsigned long long)st.acked, p->count);
        return false;
    }
    for (int i = 0; i < MEMBERS; i++)
        *sum += members[i].sum;
    fig[0] = (double)p->count * 1e9 / (double)(t1 - t0);
    return true;
}

/* ---- baseline: a byte ring ------------------------------------------------- */

/* Records are [length: 4 bytes][bytes], wrapping around the end. */
typedef struct ring {
    unsigned char *buf;
    size_t cap, head, tail; /* head: write position; tail: oldest unacked */
} ring;

static void ring_write(ring *r, const void *src, size_t len)
{
    size_t at = r->head % r->cap, first = r->cap - at;
    if (first > len)
        first = len;
    memcpy(r->buf + at, src, first);
    memcpy(r->buf, (const unsigned char *)src + first, len - first);
    r->head += len;
}

static void ring_read(const ring *r, size_t pos, void *dst, size_t len)
{
    size_t at = pos % r->cap, first = r->cap - at;
    if (first > len)
        first = len;
    memcpy(dst, r->buf + at, first);
    memcpy((unsigned char *)dst + first, r->buf, len - first);
}

static bool ring_publish(ring *r, const char *data, size_t len)
{
    uint32_t n = (uint32_t)len;
    if (r->head - r->tail + sizeof n + len > r->cap)
        return false; /* full: the caller delivers first */
    ring_write(r, &n, sizeof n);
    ring_write(r, data, len);
    return true;
}

/* The baseline's message, and its ack releasing the record. */
typedef struct ring_msg {
    ring *ring;
    size_t end; /* where the record ends */
    size_t length;
    char data[4097];
} ring_msg;

static void ring_ack(ring_msg *msg) { msg->ring->tail = msg->end; }

typedef void (*ring_handler)(ring_msg *msg, member *m);

static void on_ring_delivery(ring_msg *msg, member *m)
{
    m->sum += bench_str_sum(msg->data);
    m->delivered++;
    ring_ack(msg);
}

/* Delivers every record, round robin; returns how many. */
static size_t ring_deliver(ring *r, ring_msg *msg, member *members,
                           size_t *next, ring_handler handler)
{
    size_t n = 0;
    while (r->tail != r->head) {
        uint32_t len;
        ring_read(r, r->tail, &len, sizeof len);
        if (len >= sizeof msg->data)
            return n;
        ring_read(r, r->tail + sizeof len, msg->data, len);
        msg->data[len] = '\0';
        msg->length = len;
        msg->end = r->tail + sizeof len + len;
        handler(msg, &members[*next]);
        *next = (*next + 1) % MEMBERS;
        n++;
    }
    return n;
}

static bool run_baseline(void *vctx, double *fig, uint64_t *sum)
{
    broker_ctx *c = vctx;
    const bench_payloads *p = &c->payloads;
    ring r = {.cap = 1u << 20};
    ring_msg *msg = malloc(sizeof *msg);
    r.buf = malloc(r.cap);
    member members[MEMBERS] = {{0, 0}};
    ring_handler handler = on_ring_delivery;
    size_t next = 0, delivered = 0;
    bool ok = r.buf != NULL && msg != NULL;
    if (ok)
        msg->ring = &r;
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; ok && i < p->count; i++) {
        ok = ring_publish(&r, p->data[i], p->len[i]);
        if ((i + 1) % BATCH == 0 || i + 1 == p->count)
            delivered += ring_deliver(&r, msg, members, &next, handler);
    }
    uint64_t t1 = bench_now_ns();
    free(r.buf);
    free(msg);
    if (!ok || delivered != p->count) {
        fprintf(stderr, "bench: ring baseline lost messages\n");
        return false;
    }
    for (int i = 0; i < MEMBERS; i++)
        *sum += members[i].sum;
    fig[0] = (double)p->count * 1e9 / (double)(t1 - t0);
    return true;
}

void bench_broker(const bench_opts *opts, bench_report *report)
{
    broker_ctx c;
    size_t n = opts->n[BENCH_BROKER];
    bench_row *row = bench_report_add(report, "fake broker pub/deliver/ack",
                                      "msg/s");
    if (row == NULL)
        return;
    row->n = n;
    snprintf(row->lk_label, sizeof row->lk_label, "fake broker");
    snprintf(row->base_label, sizeof row->base_label, "ring buffer");
    if (!bench_payloads_make(&c.payloads, n, 43)) {
        bench_row_skip(row, "skipped: out of memory");
        return;
    }
    if (bench_run_pairs(opts, row, true, run_listenkit, run_baseline, &c))
        bench_row_note(row, "%d queue members, batches of %d; no target: "
                       "the fake also records and schedules every message "
                       "(virtual clock, redelivery; JSON parsed only when a "
                       "spec reads it)", MEMBERS, BATCH);
    bench_payloads_free(&c.payloads);
}
