/* SPDX-License-Identifier: MIT */
/*
 * scenario.c — ticketing_scenario_run(): wire the services to a bus, issue
 * the commands, let the bus settle, compare the stores.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/ticketing.h"
#include "mem_store.h"
#include "orders/orders.h"
#include "scenario/publish_retry.h"
#include "scenario/scenario_internal.h"
#include "tickets/tickets.h"

/* The user every ticket belongs to (the update command checks the owner). */
#define SCENARIO_USER_ID "scenario-user"

/* ---- one run ----------------------------------------------------------------------- */

/* Everything a run holds; freed in one place. */
typedef struct scenario_run {
    const ticketing_scenario_opts *opts;
    scenario_wiring *wiring;
    lk_store *tickets_store;
    lk_store *orders_store;
    tickets_service tickets;
    orders_service *orders;          /* versioned: opts->replicas */
    scenario_naive_replica *naive;   /* naive: opts->replicas */
    lk_collection *replicas;         /* the orders store's "tickets" */
    uint64_t published_by_commands;
} scenario_run;

static void run_free(scenario_run *run)
{
    /* Buses first: once drained no handler touches the stores. */
    if (run->wiring != NULL)
        run->wiring->ops->free(run->wiring);
    tickets_service_close(&run->tickets);
    for (int i = 0; run->orders != NULL && i < run->opts->replicas; i++)
        orders_service_close(&run->orders[i]);
    lk_store_free(run->tickets_store);
    lk_store_free(run->orders_store);
    free(run->orders);
    free(run->naive);
}

static lk_status probe(void *closure, scenario_diff *diff, lk_error *err)
{
    scenario_run *run = closure;
    return scenario_compare(run->tickets.tickets, run->replicas, diff, err);
}

/* The services: tickets on its bus, R orders replicas (or naive ones) on
 * theirs, one shared orders store. */
static lk_status wire_services(scenario_run *run, lk_error *err)
{
    const ticketing_scenario_opts *o = run->opts;
    scenario_wiring *w = run->wiring;
    lk_status s = LK_OK;
    run->tickets_store = lk_mem_store_new();
    run->orders_store = lk_mem_store_new();
    if (o->naive)
        run->naive = calloc((size_t)o->replicas, sizeof *run->naive);
    else
        run->orders = calloc((size_t)o->replicas, sizeof *run->orders);
    if (run->tickets_store == NULL || run->orders_store == NULL ||
        (run->naive == NULL && run->orders == NULL))
        return lk_error_set(err, LK_ERR_NOMEM, "scenario: out of memory");

    s = tickets_service_init(&run->tickets, w->tickets_bus, run->tickets_store,
                             err);
    if (s == LK_OK && w->relay_in_batches)
        lk_outbox_defer_sends(run->tickets.outbox, true);
    if (s == LK_OK)
        s = tickets_listen_all(&run->tickets, err);
    for (int i = 0; s == LK_OK && i < o->replicas; i++) {
        if (o->naive) {
            s = scenario_naive_replica_init(&run->naive[i],
                                            w->replica_buses[i],
                                            run->orders_store, o->ack_wait_ms,
                                            err);
            if (s == LK_OK)
                s = scenario_naive_replica_listen(&run->naive[i], err);
        } else {
            s = orders_service_init(&run->orders[i], w->replica_buses[i],
                                    run->orders_store, err);
            if (s == LK_OK)
                s = orders_listen_all(&run->orders[i], err);
        }
    }
    if (s == LK_OK)
        run->replicas = o->naive ? run->naive[0].tickets
                                 : run->orders[0].tickets;
    return s;
}

/*
 * The commands, as the course's script issued them: each ticket created
 * (price 5) and then updated U times (10, then 15, ...), one ticket after
 * the other; after every command the wiring lets deliveries progress. On
 * a server (relay_in_batches) the events wait in the outbox and go out in
 * relay passes, one batch each, every SCENARIO_RELAY_EVERY tickets.
 */
static lk_status issue_commands(scenario_run *run, lk_error *err)
{
    const ticketing_scenario_opts *o = run->opts;
    scenario_rng rng;
    scenario_rng_seed(&rng, o->seed);
    lk_status s = LK_OK;
    int progress_every = o->tickets / 100 > 0 ? o->tickets / 100 : 1;
    for (int t = 0; s == LK_OK && t < o->tickets; t++) {
        char title[64];
        bson_oid_t id;
        snprintf(title, sizeof title, "concert %d", t + 1);
        s = tickets_create(&run->tickets, title, TICKETING_SCENARIO_PRICE(0),
                           SCENARIO_USER_ID, &id, err);
        if (s == LK_OK) {
            run->published_by_commands++;
            run->wiring->ops->pump(run->wiring, &rng, 1);
        }
        for (int u = 1; s == LK_OK && u <= o->updates; u++) {
            snprintf(title, sizeof title, "concert %d (v%d)", t + 1, u);
            s = tickets_update(&run->tickets, &id, SCENARIO_USER_ID, title,
                               TICKETING_SCENARIO_PRICE(u), err);
            if (s == LK_OK) {
                run->published_by_commands++;
                run->wiring->ops->pump(run->wiring, &rng, 1);
            }
        }
        /* The events of the last tickets, through one batch per pass;
         * a pass that meets a fault is tried again (msg ids make that
         * safe) within the run's timeout. */
        if (s == LK_OK && run->wiring->relay_in_batches &&
            ((t + 1) % SCENARIO_RELAY_EVERY == 0 || t + 1 == o->tickets))
            s = scenario_relay_retrying(run->tickets.outbox, o->timeout_ms,
                                        NULL, err);
        if (s == LK_OK && (t + 1) % progress_every == 0) {
            scenario_counts c;
            run->wiring->ops->counts(run->wiring, &c);
            scenario_report_progress(o, "publishing", t + 1, c.deliveries);
        }
    }
    if (s != LK_OK)
        lk_error_prefix(err, "scenario commands");
    return s;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) +
           (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void fill_result(const scenario_run *run, const scenario_counts *c,
                        const scenario_diff *d, double elapsed,
                        ticketing_scenario_result *out)
{
    const ticketing_scenario_opts *o = run->opts;
    memset(out, 0, sizeof *out);
    out->naive = o->naive;
    out->bus = run->wiring->ops->name;
    out->replicas = o->replicas;
    out->tickets = o->tickets;
    out->updates = o->updates;
    out->seed = o->seed;
    out->reorder_window = o->reorder_window;
    out->duplicate_rate = o->duplicate_rate;
    out->published = c->published;
    out->published_by_commands = run->published_by_commands;
    out->published_by_listeners = c->published >= run->published_by_commands
                                      ? c->published -
                                            run->published_by_commands
                                      : 0;
    out->deliveries = c->deliveries;
    out->redeliveries = c->redeliveries;
    out->duplicates = c->duplicates;
    out->acked = c->acked;
    out->dead_letters = c->dead_letters;
    out->missing = d->missing;
    out->stale = d->stale;
    out->version_only = d->version_only;
    out->mismatches = scenario_diff_mismatches(d);
    out->converged = out->mismatches == 0;
    out->elapsed_s = elapsed;
    out->deliveries_per_s = elapsed > 0 ? (double)c->deliveries / elapsed : 0;
    out->virtual_ms = c->virtual_ms;
}

lk_status ticketing_scenario_run(const ticketing_scenario_opts *opts,
                                 ticketing_scenario_result *out,
                                 lk_error *err)
{
    if (out == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "scenario: result is NULL");
    memset(out, 0, sizeof *out);
    lk_status s = ticketing_scenario_opts_check(opts, err);
    if (s != LK_OK)
        return s;

    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    scenario_run run = {.opts = opts};
    s = opts->nats_url != NULL ? scenario_wiring_nats(opts, &run.wiring, err)
                               : scenario_wiring_fake(opts, &run.wiring, err);
    if (s == LK_OK)
        s = wire_services(&run, err);
    if (s == LK_OK)
        s = issue_commands(&run, err);
    if (s == LK_OK)
        s = run.wiring->ops->settle(run.wiring, probe, &run, err);
    scenario_diff diff;
    if (s == LK_OK)
        s = scenario_compare(run.tickets.tickets, run.replicas, &diff, err);
    if (s == LK_OK) {
        scenario_counts counts;
        run.wiring->ops->counts(run.wiring, &counts);
        fill_result(&run, &counts, &diff, seconds_since(&start), out);
    }
    run_free(&run);
    return s;
}
