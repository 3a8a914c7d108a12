/* SPDX-License-Identifier: MIT */
/*
 * opts.c — the scenario's options (defaults, bounds), its seeded schedule
 * generator and progress reports: what the run and the command line share.
 */
#include <string.h>

#include "scenario/scenario_internal.h"

/* ---- rng ----------------------------------------------------------------------- */

void scenario_rng_seed(scenario_rng *rng, uint64_t seed)
{
    /* Not the broker's stream of numbers: a schedule of its own. */
    rng->state = seed ^ 0x5ce7a10c0ffee5ull;
}

uint64_t scenario_rng_next(scenario_rng *rng)
{
    uint64_t z = (rng->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t scenario_rng_below(scenario_rng *rng, uint64_t bound)
{
    return bound == 0 ? 0 : scenario_rng_next(rng) % bound;
}

/* ---- options --------------------------------------------------------------------- */

void ticketing_scenario_opts_init(ticketing_scenario_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->replicas = TICKETING_SCENARIO_DEFAULT_REPLICAS;
    opts->tickets = TICKETING_SCENARIO_DEFAULT_TICKETS;
    opts->updates = TICKETING_SCENARIO_DEFAULT_UPDATES;
    opts->seed = TICKETING_SCENARIO_DEFAULT_SEED;
    opts->reorder_window = TICKETING_SCENARIO_DEFAULT_REORDER_WINDOW;
    opts->duplicate_rate = TICKETING_SCENARIO_DEFAULT_DUPLICATE_RATE;
    opts->timeout_ms = TICKETING_SCENARIO_DEFAULT_TIMEOUT_MS;
}

lk_status ticketing_scenario_opts_check(const ticketing_scenario_opts *opts,
                                        lk_error *err)
{
    if (opts == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "scenario: opts is NULL");
    if (opts->replicas < 1 || opts->replicas > TICKETING_SCENARIO_MAX_REPLICAS)
        return lk_error_set(err, LK_ERR_INVALID,
                            "replicas: must be between 1 and %d, got %d",
                            TICKETING_SCENARIO_MAX_REPLICAS, opts->replicas);
    if (opts->tickets < 1 || opts->tickets > TICKETING_SCENARIO_MAX_TICKETS)
        return lk_error_set(err, LK_ERR_INVALID,
                            "tickets: must be between 1 and %d, got %d",
                            TICKETING_SCENARIO_MAX_TICKETS, opts->tickets);
    if (opts->updates < 0 || opts->updates > TICKETING_SCENARIO_MAX_UPDATES)
        return lk_error_set(err, LK_ERR_INVALID,
                            "updates: must be between 0 and %d, got %d",
                            TICKETING_SCENARIO_MAX_UPDATES, opts->updates);
    if (opts->reorder_window > TICKETING_SCENARIO_MAX_REORDER_WINDOW)
        return lk_error_set(err, LK_ERR_INVALID,
                            "reorder-window: must be between 0 and %d, got %zu",
                            TICKETING_SCENARIO_MAX_REORDER_WINDOW,
                            opts->reorder_window);
    if (!(opts->duplicate_rate >= 0.0 && opts->duplicate_rate <= 1.0))
        return lk_error_set(err, LK_ERR_INVALID,
                            "duplicate-rate: must be between 0 and 1, got %g",
                            opts->duplicate_rate);
    /* A rate of 1 would duplicate every delivery forever. */
    if (opts->duplicate_rate >= 1.0)
        return lk_error_set(err, LK_ERR_INVALID,
                            "duplicate-rate: must be below 1 (every delivery "
                            "duplicated never ends), got %g",
                            opts->duplicate_rate);
    if (opts->ack_wait_ms < 0)
        return lk_error_set(err, LK_ERR_INVALID,
                            "ack-wait: must be >= 0 ms, got %lld",
                            (long long)opts->ack_wait_ms);
    if (opts->nats_url != NULL && opts->timeout_ms <= 0)
        return lk_error_set(err, LK_ERR_INVALID,
                            "timeout: must be > 0 ms with --nats, got %lld",
                            (long long)opts->timeout_ms);
    if (opts->nats_url != NULL && opts->nats_url[0] == '\0')
        return lk_error_set(err, LK_ERR_INVALID, "nats: the URL is empty");
    return LK_OK;
}

void scenario_report_progress(const ticketing_scenario_opts *opts,
                              const char *phase, int done, uint64_t deliveries)
{
    if (opts->progress == NULL)
        return;
    ticketing_scenario_progress p = {.phase = phase,
                                     .tickets_done = done,
                                     .tickets = opts->tickets,
                                     .deliveries = deliveries};
    opts->progress(&p, opts->progress_closure);
}

const char *ticketing_scenario_mode(const ticketing_scenario_result *r)
{
    return r->naive ? "naive" : "versioned";
}
