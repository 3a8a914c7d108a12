/* SPDX-License-Identifier: MIT */
/*
 * wiring_fake.c — the embedded bus: one fake broker (mocks/fake_nats.h) that
 * every service instance shares, a virtual clock, seeded faults.
 *
 * Time: the replicas work between commands. After each command (one
 * publish) they make a seeded number of single deliveries, 0 to
 * 2 * SCENARIO_FAKE_KEEP_PACE: on average they keep pace, but now and then a
 * backlog builds, in which the broker picks among the first reorder_window
 * due messages, so an update can overtake the one before it. The virtual
 * clock moves SCENARIO_FAKE_COMMAND_MS whenever the replicas ran out of
 * work; un-acked messages fall due again ack_wait later on that clock, so
 * redeliveries mix with new events as they would on a busy server.
 */
#include <stdlib.h>

#include "fake_nats.h"
#include "scenario/scenario_internal.h"

/* Virtual time between two commands while the replicas are idle. */
#define SCENARIO_FAKE_COMMAND_MS 5
/* Mean deliveries per command (redeliveries and duplicates need more than
 * one per event, so the backlog drains). */
#define SCENARIO_FAKE_KEEP_PACE 1.5

typedef struct fake_wiring {
    scenario_wiring base;
    lk_fake_nats *nats;
} fake_wiring;

/* After one command: 0..3 deliveries, then time passes if they are idle. */
static void fake_pump(scenario_wiring *w, scenario_rng *rng, int commands)
{
    fake_wiring *f = (fake_wiring *)w;
    uint64_t steps = scenario_rng_below(
        rng, (uint64_t)(2.0 * SCENARIO_FAKE_KEEP_PACE * commands) + 1);
    bool idle = false;
    for (uint64_t i = 0; i < steps && !idle; i++)
        idle = !lk_fake_nats_step(f->nats);
    /* advance() delivers everything due on its way, so it runs only when
     * nothing is due now: it then brings just the redeliveries that fall
     * due meanwhile. */
    if (idle)
        lk_fake_nats_advance(f->nats, SCENARIO_FAKE_COMMAND_MS);
}

static lk_status fake_settle(scenario_wiring *w, scenario_probe_fn probe,
                             void *closure, lk_error *err)
{
    fake_wiring *f = (fake_wiring *)w;
    (void)probe;
    (void)closure;
    scenario_report_progress(w->opts, "settling", w->opts->tickets,
                             lk_fake_nats_get_stats(f->nats).delivered);
    lk_fake_nats_run_until_idle(f->nats, 0);
    lk_fake_nats_stats st = lk_fake_nats_get_stats(f->nats);
    if (st.pending != 0)
        return lk_error_set(err, LK_ERR_TIMEOUT,
                            "fake broker: %llu message(s) still pending after "
                            "the run-until-idle bound",
                            (unsigned long long)st.pending);
    return LK_OK;
}

static void fake_counts(scenario_wiring *w, scenario_counts *out)
{
    fake_wiring *f = (fake_wiring *)w;
    lk_fake_nats_stats st = lk_fake_nats_get_stats(f->nats);
    out->published = st.published;
    out->deliveries = st.delivered;
    out->redeliveries = st.redelivered;
    out->duplicates = st.duplicated;
    out->acked = st.acked;
    out->dead_letters = lk_fake_nats_dead_letter_count(f->nats);
    out->virtual_ms = lk_fake_nats_now(f->nats);
}

static void fake_free(scenario_wiring *w)
{
    fake_wiring *f = (fake_wiring *)w;
    if (f == NULL)
        return;
    lk_fake_nats_free(f->nats);
    free(f->base.replica_buses);
    free(f);
}

static const scenario_wiring_ops fake_ops = {
    .name = "fake-nats",
    .pump = fake_pump,
    .settle = fake_settle,
    .counts = fake_counts,
    .free = fake_free,
};

lk_status scenario_wiring_fake(const ticketing_scenario_opts *opts,
                               scenario_wiring **out, lk_error *err)
{
    *out = NULL;
    fake_wiring *f = calloc(1, sizeof *f);
    if (f == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "fake wiring: out of memory");
    f->base.ops = &fake_ops;
    f->base.opts = opts;
    lk_fake_broker_opts bo = {
        .seed = opts->seed,
        .reorder_window = opts->reorder_window,
        .duplicate_rate = opts->duplicate_rate,
    };
    f->nats = lk_fake_nats_new_broker(&bo);
    f->base.replica_buses = calloc((size_t)opts->replicas, sizeof(lk_bus *));
    if (f->nats == NULL || f->base.replica_buses == NULL) {
        fake_free(&f->base);
        return lk_error_set(err, LK_ERR_NOMEM,
                            "fake wiring: cannot create the broker");
    }
    /* One broker, one client: every instance is a subscriber on it, and the
     * orders replicas become members of one queue group. */
    f->base.tickets_bus = lk_fake_nats_bus(f->nats);
    for (int i = 0; i < opts->replicas; i++)
        f->base.replica_buses[i] = f->base.tickets_bus;
    *out = &f->base;
    return LK_OK;
}
