/* SPDX-License-Identifier: MIT */
/* bench_suite.c — why the doubles exist: the same ticketing behaviours, as
 * a spec would run them (fresh bus and stores per behaviour), through the
 * fake broker and memory stores, and through a real JetStream server.
 *
 * One behaviour is the course's whole flow: create a ticket, the orders
 * replica gets ticket:created; update it, the replica gets ticket:updated;
 * order it, the tickets service reserves it and the replica follows; cancel
 * the order, the ticket is freed and the replica follows. Every event is
 * acked by its listener, and the replica ends at version 3. */
#include "bench.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "fake_nats.h"
#include "listenkit/nats.h"
#include "mem_store.h"
#include "orders/orders.h"
#include "tickets/tickets.h"

#define STREAM "BENCH_SUITE"
#define SELLER "bench-seller"
#define BUYER "bench-buyer"
#define EXPIRES_AT_MS INT64_C(4102444800000) /* 2100-01-01 */
#define WAIT_NS UINT64_C(10000000000)        /* 10 s per expected event */

typedef struct suite_ctx {
    size_t behaviours;
    const char *url;
    natsConnection *admin; /* deletes the stream after each real behaviour */
    jsCtx *admin_js;
} suite_ctx;

/* Where a behaviour runs: the doubles, or the real server. */
typedef struct world {
    bool real;
    lk_fake_nats *broker;
    lk_bus *tickets_bus, *orders_bus; /* one fake bus, or two connections */
    lk_store *tickets_store, *orders_store;
    tickets_service tickets;
    orders_service orders;
} world;

static bool failed(const char *what, const lk_error *err)
{
    fprintf(stderr, "bench: suite: %s: %s\n", what, err->message);
    return false;
}

static bool world_open(world *w, const suite_ctx *c, bool real)
{
    lk_error err = {0};
    lk_status s = LK_OK;
    memset(w, 0, sizeof *w);
    w->real = real;
    if (real) {
        lk_nats_opts o = {.stream = STREAM, .name = "bench-suite"};
        s = lk_nats_bus_connect(&w->tickets_bus, c->url, &o, &err);
        if (s == LK_OK)
            s = lk_nats_bus_connect(&w->orders_bus, c->url, &o, &err);
    } else {
        w->broker = lk_fake_nats_new_broker(NULL);
        w->tickets_bus = w->orders_bus = lk_fake_nats_bus(w->broker);
        if (w->broker == NULL)
            s = lk_error_set(&err, LK_ERR_NOMEM, "no fake broker");
    }
    w->tickets_store = lk_mem_store_new();
    w->orders_store = lk_mem_store_new();
    if (s == LK_OK && (w->tickets_store == NULL || w->orders_store == NULL))
        s = lk_error_set(&err, LK_ERR_NOMEM, "no memory store");
    if (s == LK_OK)
        s = tickets_service_init(&w->tickets, w->tickets_bus, w->tickets_store,
                                 &err);
    if (s == LK_OK)
        s = orders_service_init(&w->orders, w->orders_bus, w->orders_store,
                                &err);
    if (s == LK_OK)
        s = tickets_listen_all(&w->tickets, &err);
    if (s == LK_OK)
        s = orders_listen_all(&w->orders, &err);
    return s == LK_OK || failed("setup", &err);
}

static void world_close(world *w, const suite_ctx *c)
{
    if (w->real) {
        lk_bus_free(w->tickets_bus);
        lk_bus_free(w->orders_bus);
        /* The next behaviour starts from an empty server, as after a
         * spec's teardown. */
        if (c->admin_js != NULL)
            js_DeleteStream(c->admin_js, STREAM, NULL, NULL);
    } else {
        lk_fake_nats_free(w->broker);
    }
    tickets_service_close(&w->tickets);
    orders_service_close(&w->orders);
    lk_store_free(w->tickets_store);
    lk_store_free(w->orders_store);
}

/* Waits until the orders replica of `id` is at `version`: the doubles
 * deliver everything due; the real server is polled. */
static bool wait_replica(world *w, const bson_oid_t *id, int64_t version,
                         bson_t **out)
{
    lk_error err = {0};
    uint64_t start = bench_now_ns();
    for (;;) {
        int64_t have = -1;
        if (!w->real)
            lk_fake_nats_run_until_idle(w->broker, 0);
        if (orders_ticket_find(&w->orders, id, out, &err) == LK_OK) {
            lk_bson_get_int64(*out, "version", &have, NULL);
            if (have == version)
                return true;
            bson_destroy(*out);
            *out = NULL;
        }
        if (!w->real || bench_now_ns() - start > WAIT_NS) {
            fprintf(stderr, "bench: suite (%s): replica at version %lld, "
                    "expected %lld\n", w->real ? "nats" : "doubles",
                    (long long)have, (long long)version);
            return false;
        }
        struct timespec pause = {0, 200000}; /* 0.2 ms */
        nanosleep(&pause, NULL);
    }
}

/* The replica's fields, for the checksum both worlds must agree on. */
static uint64_t replica_sum(const bson_t *doc)
{
    int64_t version = -1;
    lk_bson_get_int64(doc, "version", &version, NULL);
    uint64_t sum = bench_str_sum(ticketing_doc_string(doc, "title"));
    sum = bench_mix(sum, (uint64_t)version);
    return bench_mix(sum, (uint64_t)ticketing_doc_number(doc, "price", -1));
}

static bool step(world *w, const bson_oid_t *id, int64_t version,
                 uint64_t *sum)
{
    bson_t *replica = NULL;
    if (!wait_replica(w, id, version, &replica))
        return false;
    *sum = bench_mix(*sum, replica_sum(replica));
    bson_destroy(replica);
    return true;
}

static bool behaviour(world *w, size_t k, uint64_t *sum)
{
    char title[64], moved[80];
    bson_oid_t ticket, order;
    lk_error err = {0};
    snprintf(title, sizeof title, "Concert #%zu", k);
    snprintf(moved, sizeof moved, "%s (moved)", title);

    if (tickets_create(&w->tickets, title, 20.0 + (double)k, SELLER, &ticket,
                       &err) != LK_OK)
        return failed("create ticket", &err);
    if (!step(w, &ticket, 0, sum))
        return false;
    if (tickets_update(&w->tickets, &ticket, SELLER, moved, 30.0 + (double)k,
                       &err) != LK_OK)
        return failed("update ticket", &err);
    if (!step(w, &ticket, 1, sum))
        return false;
    if (orders_create(&w->orders, BUYER, &ticket, EXPIRES_AT_MS, &order,
                      &err) != LK_OK)
        return failed("create order", &err);
    if (!step(w, &ticket, 2, sum)) /* reserved by the tickets service */
        return false;
    if (orders_cancel(&w->orders, &order, &err) != LK_OK)
        return failed("cancel order", &err);
    return step(w, &ticket, 3, sum); /* freed again */
}

static bool run_suite(suite_ctx *c, bool real, double *fig, uint64_t *sum)
{
    bool ok = true;
    uint64_t t0 = bench_now_ns();
    for (size_t k = 0; ok && k < c->behaviours; k++) {
        world w;
        ok = world_open(&w, c, real) && behaviour(&w, k, sum);
        world_close(&w, c);
    }
    fig[0] = (double)(bench_now_ns() - t0) / 1e6;
    return ok;
}

static bool run_doubles(void *c, double *fig, uint64_t *sum)
{
    return run_suite(c, false, fig, sum);
}

static bool run_real(void *c, double *fig, uint64_t *sum)
{
    return run_suite(c, true, fig, sum);
}

void bench_suite(const bench_opts *opts, bench_report *report)
{
    suite_ctx c = {.behaviours = opts->n[BENCH_SUITE], .url = opts->nats_url};
    bench_row *row = bench_report_add(report, "ticketing suite wall time",
                                      "ms");
    if (row == NULL)
        return;
    row->n = c.behaviours;
    snprintf(row->lk_label, sizeof row->lk_label, "doubles");
    snprintf(row->base_label, sizeof row->base_label, "real nats-server");
    if (opts->nats_url == NULL) {
        char why[160];
        snprintf(why, sizeof why, "skipped: %s",
                 opts->nats_missing ? opts->nats_missing : "no nats-server");
        bench_row_skip(row, why);
        return;
    }
    natsStatus s = natsConnection_ConnectTo(&c.admin, c.url);
    if (s == NATS_OK)
        s = natsConnection_JetStream(&c.admin_js, c.admin, NULL);
    if (s != NATS_OK) {
        bench_row_skip(row, "skipped: cannot connect to nats-server");
    } else {
        js_DeleteStream(c.admin_js, STREAM, NULL, NULL); /* a stale one */
        if (bench_run_pairs(opts, row, true, run_doubles, run_real, &c))
            bench_row_note(row, "N behaviours, each: fresh bus + stores, "
                           "create/update ticket, order, cancel; replica "
                           "checked after each of its 4 events; doubles %.0fx "
                           "faster", 1.0 / row->ratio.median);
    }
    jsCtx_Destroy(c.admin_js);
    natsConnection_Destroy(c.admin);
}
