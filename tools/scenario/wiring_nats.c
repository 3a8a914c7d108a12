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

#include <nats/nats.h>

#include "listenkit/nats.h"
#include "scenario/counting_bus.h"
#include "scenario/scenario_internal.h"

/* How often the settling loop looks at the replicas. */
#define SCENARIO_NATS_POLL_MS 50
/* Unchanged replicas for this long past the longest ack wait: settled. */
#define SCENARIO_NATS_QUIET_EXTRA_MS 2000

typedef struct nats_wiring {
    scenario_wiring base;
    scenario_bus_counters counters;
    bool counters_ready;
    char run_id[64];
    bool connected; /* the tickets connection came up: consumers may exist */
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
 * Polls the replicas until they all match (and stay so for one poll), or
 * until nothing changed for longer than a redelivery takes (an un-acked
 * out-of-order event comes back after its ack wait), or the timeout.
 */
static lk_status nats_settle(scenario_wiring *w, scenario_probe_fn probe,
                             void *closure, lk_error *err)
{
    nats_wiring *n = (nats_wiring *)w;
    int64_t ack_wait = w->opts->ack_wait_ms > LK_DEFAULT_ACK_WAIT_MS
                           ? w->opts->ack_wait_ms
                           : LK_DEFAULT_ACK_WAIT_MS;
    int64_t quiet_ms = ack_wait + SCENARIO_NATS_QUIET_EXTRA_MS;
    int64_t start = now_ms(), last_change = start;
    uint64_t last_fp = 0;
    int matched_polls = 0;
    for (;;) {
        sleep_ms(SCENARIO_NATS_POLL_MS);
        scenario_diff d;
        lk_status s = probe(closure, &d, err);
        if (s != LK_OK)
            return s;
        int64_t t = now_ms();
        if (d.fingerprint != last_fp) {
            last_fp = d.fingerprint;
            last_change = t;
        }
        matched_polls = scenario_diff_mismatches(&d) == 0 ? matched_polls + 1
                                                          : 0;
        scenario_counts c;
        scenario_bus_counters_get(&n->counters, &c);
        scenario_report_progress(w->opts, "settling", w->opts->tickets,
                                 c.deliveries);
        if (matched_polls >= 2 || t - last_change >= quiet_ms ||
            t - start >= w->opts->timeout_ms)
            return LK_OK;
    }
}

static void nats_counts(scenario_wiring *w, scenario_counts *out)
{
    scenario_bus_counters_get(&((nats_wiring *)w)->counters, out);
    out->virtual_ms = 0;
}

/* Deletes the durable consumers this run made (their names carry the run
 * id) from the adapter's default stream. Best effort: a failure is logged,
 * the run's result stands. */
static void delete_run_consumers(const nats_wiring *n)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsConsumerNamesList *names = NULL;
    jsErrCode jerr = 0;
    natsStatus s = natsConnection_ConnectTo(&nc, n->base.opts->nats_url);
    if (s == NATS_OK)
        s = natsConnection_JetStream(&js, nc, NULL);
    if (s == NATS_OK)
        s = js_ConsumerNames(&names, js, LK_NATS_DEFAULT_STREAM, NULL, &jerr);
    for (int i = 0; s == NATS_OK && i < names->Count; i++)
        if (strstr(names->List[i], n->run_id) != NULL)
            s = js_DeleteConsumer(js, LK_NATS_DEFAULT_STREAM, names->List[i],
                                  NULL, &jerr);
    if (s != NATS_OK && s != NATS_NOT_FOUND)
        lk_log(LK_LOG_WARN,
               "scenario: could not delete this run's consumers (%s): %s",
               n->run_id, natsStatus_GetText(s));
    jsConsumerNamesList_Destroy(names);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
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
    if (n->connected)
        delete_run_consumers(n);
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
    n->connected = s == LK_OK;
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
