/* SPDX-License-Identifier: MIT */
/*
 * wiring_nats.c — the scenario on a real NATS JetStream server: one
 * connection for the tickets service and one per orders replica, as
 * separate processes would have. Reordering and duplicates come from the
 * real thing (replicas on their own delivery threads); nothing is seeded.
 *
 * The stream is the adapter's default one (a stream captures its subjects
 * exclusively, so a stream per run would collide with the last run's). What
 * is per run is the consumers: every durable gets the run's id in its name
 * and starts at the next message (see counting_bus.h), so a rerun neither
 * shares an earlier run's position nor replays its events. Durable
 * consumers outlive their subscriptions (as they must), so the run deletes
 * its own when it ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "listenkit/nats.h"
#include "scenario/counting_bus.h"
#include "scenario/scenario_internal.h"
#include "scenario/server_admin.h"

/* How often the settling loop looks at the replicas. */
#define SCENARIO_NATS_POLL_MS 50

typedef struct nats_wiring {
    scenario_wiring base;
    scenario_bus_counters counters;
    bool counters_ready;
    char run_id[64];
    scenario_admin admin; /* asks the server about this run's consumers */
} nats_wiring;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The server delivers on its own; the publisher just keeps publishing. */
static void nats_pump(scenario_wiring *w, scenario_rng *rng, int burst)
{
    (void)w;
    (void)rng;
    (void)burst;
}

/*
 * Settled means the server says so: every consumer of this run has nothing
 * pending and nothing waiting for an ack, on two polls in a row (an ack
 * is sent without waiting; the second look confirms). The replicas' view
 * cannot tell a late event from a lost one: after a server pause nothing
 * changes for a while, and a quiet spell used to count as settled. While
 * the server does not answer (paused, restarting) it is not settled. Past
 * opts->timeout_ms the run fails, naming what is still there, rather than
 * report late updates as lost.
 */
static lk_status nats_settle(scenario_wiring *w, scenario_probe_fn probe,
                             void *closure, lk_error *err)
{
    nats_wiring *n = (nats_wiring *)w;
    int64_t start = now_ms();
    int zero_polls = 0;
    scenario_backlog last = {0};
    lk_error why = {0};
    for (;;) {
        sleep_ms(SCENARIO_NATS_POLL_MS);
        scenario_diff d;
        lk_status s = probe(closure, &d, err); /* for progress; final later */
        if (s != LK_OK)
            return s;
        scenario_backlog b;
        s = scenario_admin_backlog(&n->admin, LK_NATS_DEFAULT_STREAM,
                                   n->run_id, &b, &why);
        if (s == LK_OK)
            last = b;
        zero_polls = s == LK_OK && b.consumers > 0 && b.pending == 0 &&
                             b.ack_pending == 0
                         ? zero_polls + 1
                         : 0;
        scenario_counts c;
        scenario_bus_counters_get(&n->counters, &c);
        scenario_report_progress(w->opts, "settling", w->opts->tickets,
                                 c.deliveries);
        if (zero_polls >= 2)
            return LK_OK;
        if (now_ms() - start >= w->opts->timeout_ms)
            return lk_error_set(
                err, LK_ERR_TIMEOUT,
                "scenario: not settled within %lld ms: the server holds %lld "
                "pending and %lld un-acked messages for this run's %lld "
                "consumers%s%s",
                (long long)w->opts->timeout_ms, (long long)last.pending,
                (long long)last.ack_pending, (long long)last.consumers,
                s != LK_OK ? "; last poll: " : "", s != LK_OK ? why.message : "");
    }
}

static void nats_counts(scenario_wiring *w, scenario_counts *out)
{
    scenario_bus_counters_get(&((nats_wiring *)w)->counters, out);
    out->virtual_ms = 0;
}

static void nats_free(scenario_wiring *w)
{
    nats_wiring *n = (nats_wiring *)w;
    if (n == NULL)
        return;
    /* Replicas first: they stop taking deliveries before the store goes. */
    if (n->base.replica_buses != NULL)
        for (int i = 0; i < n->base.opts->replicas; i++)
            lk_bus_free(n->base.replica_buses[i]);
    lk_bus_free(n->base.tickets_bus);
    /* Durable consumers outlive their subscriptions: delete this run's. */
    if (n->admin.nc != NULL)
        scenario_admin_delete_run(&n->admin, LK_NATS_DEFAULT_STREAM,
                                  n->run_id);
    scenario_admin_close(&n->admin);
    free(n->base.replica_buses);
    if (n->counters_ready)
        scenario_bus_counters_destroy(&n->counters);
    free(n);
}

static const scenario_wiring_ops nats_ops = {
    .name = "nats",
    .pump = nats_pump,
    .settle = nats_settle,
    .counts = nats_counts,
    .free = nats_free,
};

/* One counted connection named `who`. */
static lk_status connect_one(nats_wiring *n, const char *who, lk_bus **out,
                             lk_error *err)
{
    char name[96];
    snprintf(name, sizeof name, "ticketing-scenario %s", who);
    lk_nats_opts o = {.name = name};
    lk_bus *inner = NULL;
    lk_status s = lk_nats_bus_connect(&inner, n->base.opts->nats_url, &o, err);
    if (s == LK_OK)
        s = scenario_counting_bus_new(inner, &n->counters, n->run_id, out,
                                      err);
    /* A server pause or restart delays events; it must not end the run. */
    if (s == LK_OK)
        scenario_counting_bus_retry_publishes(*out, n->base.opts->timeout_ms);
    if (s != LK_OK)
        lk_error_prefix(err, "nats %s (%s)", who,
                        n->base.opts->nats_url ? n->base.opts->nats_url
                                               : "default url");
    return s;
}

lk_status scenario_wiring_nats(const ticketing_scenario_opts *opts,
                               scenario_wiring **out, lk_error *err)
{
    *out = NULL;
    nats_wiring *n = calloc(1, sizeof *n);
    if (n == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "nats wiring: out of memory");
    n->base.ops = &nats_ops;
    n->base.opts = opts;
    n->base.relay_in_batches = true; /* the adapter's in-flight batch */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(n->run_id, sizeof n->run_id, "scenario%ld-%lld%09ld",
             (long)getpid(), (long long)ts.tv_sec, ts.tv_nsec);

    lk_status s = scenario_bus_counters_init(&n->counters, err);
    n->counters_ready = s == LK_OK;
    if (s == LK_OK) {
        n->base.replica_buses = calloc((size_t)opts->replicas, sizeof(lk_bus *));
        if (n->base.replica_buses == NULL)
            s = lk_error_set(err, LK_ERR_NOMEM, "nats wiring: out of memory");
    }
    if (s == LK_OK)
        s = connect_one(n, "tickets", &n->base.tickets_bus, err);
    if (s == LK_OK)
        s = scenario_admin_open(&n->admin, opts->nats_url, err);
    for (int i = 0; s == LK_OK && i < opts->replicas; i++) {
        char who[32];
        snprintf(who, sizeof who, "orders-%d", i + 1);
        s = connect_one(n, who, &n->base.replica_buses[i], err);
    }
    if (s != LK_OK) {
        nats_free(&n->base);
        return s;
    }
    *out = &n->base;
    return LK_OK;
}
