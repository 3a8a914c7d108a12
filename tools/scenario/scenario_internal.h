/* SPDX-License-Identifier: MIT */
/*
 * scenario/scenario_internal.h — the pieces ticketing_scenario_run() is made
 * of. Not installed; shared by the files of tools/scenario/ only.
 *
 *   wiring     the buses (embedded fake broker, or one NATS connection per
 *              service instance) and how time passes on them
 *   naive      the course's first orders listeners, without version checks
 *   compare    tickets store against the orders replica store
 *   rng        the schedule's seeded generator
 */
#ifndef TICKETING_SCENARIO_INTERNAL_H
#define TICKETING_SCENARIO_INTERNAL_H

#include <stdint.h>

#include "listenkit.h"
#include "scenario/scenario.h"

/* ---- rng: splitmix64, so a seed gives the same schedule everywhere -------- */

typedef struct scenario_rng {
    uint64_t state;
} scenario_rng;

void scenario_rng_seed(scenario_rng *rng, uint64_t seed);
uint64_t scenario_rng_next(scenario_rng *rng);
/* Uniform in [0, bound); 0 when bound is 0. */
uint64_t scenario_rng_below(scenario_rng *rng, uint64_t bound);

/* ---- compare ----------------------------------------------------------------- */

typedef struct scenario_diff {
    uint64_t checked;      /* tickets in the tickets store */
    uint64_t missing;
    uint64_t stale;
    uint64_t version_only;
    uint64_t fingerprint;  /* changes whenever a replica is saved */
} scenario_diff;

static inline uint64_t scenario_diff_mismatches(const scenario_diff *d)
{
    return d->missing + d->stale + d->version_only;
}

/* Compares every document of `tickets` (the tickets service's records) with
 * the document of the same _id in `replicas`: title, price, version. */
lk_status scenario_compare(lk_collection *tickets, lk_collection *replicas,
                           scenario_diff *out, lk_error *err);

/* ---- counts a wiring reports ---------------------------------------------------- */

typedef struct scenario_counts {
    uint64_t published;
    uint64_t deliveries;
    uint64_t redeliveries;
    uint64_t duplicates;
    uint64_t acked;
    uint64_t dead_letters;
    int64_t virtual_ms;
} scenario_counts;

/* ---- wiring ------------------------------------------------------------------------ */

/* Tells the wiring how far the replicas are: fills *diff. */
typedef lk_status (*scenario_probe_fn)(void *closure, scenario_diff *diff,
                                       lk_error *err);

typedef struct scenario_wiring scenario_wiring;

typedef struct scenario_wiring_ops {
    const char *name; /* "fake-nats", "nats" */
    /* Lets deliveries make progress after `commands` commands were issued
     * (each published one event). */
    void (*pump)(scenario_wiring *w, scenario_rng *rng, int commands);
    /* Returns once nothing is left to deliver (fake) or the replicas match
     * or stopped changing, within opts.timeout_ms (NATS). */
    lk_status (*settle)(scenario_wiring *w, scenario_probe_fn probe,
                        void *closure, lk_error *err);
    void (*counts)(scenario_wiring *w, scenario_counts *out);
    /* Drains and frees every bus; handlers are done when it returns. */
    void (*free)(scenario_wiring *w);
} scenario_wiring_ops;

struct scenario_wiring {
    const scenario_wiring_ops *ops;
    const ticketing_scenario_opts *opts; /* borrowed for the run */
    lk_bus *tickets_bus;                 /* the tickets service's client */
    lk_bus **replica_buses;              /* opts->replicas entries */
    /* The tickets service's events wait in its outbox and go out in
     * relay passes, one batch each (lk_outbox_defer_sends), every
     * SCENARIO_RELAY_EVERY tickets; false: each command publishes its
     * event at once (the fake: its seeded interleaving depends on it). */
    bool relay_in_batches;
};

/* Tickets whose commands are issued between two relay passes. */
#define SCENARIO_RELAY_EVERY 50

/* The embedded fake broker: one bus for everyone. */
lk_status scenario_wiring_fake(const ticketing_scenario_opts *opts,
                               scenario_wiring **out, lk_error *err);

/* A NATS server at opts->nats_url: one connection per service instance, on a
 * stream named for this run. */
lk_status scenario_wiring_nats(const ticketing_scenario_opts *opts,
                               scenario_wiring **out, lk_error *err);

/* Progress report helper (no-op without a callback). */
void scenario_report_progress(const ticketing_scenario_opts *opts,
                              const char *phase, int done, uint64_t deliveries);

/* ---- naive orders listeners ------------------------------------------------------ */

/* The replica collection the naive listeners keep: "tickets" in the orders
 * store, update-if-current, as the course's orders service had before it
 * learned about versions. */
#define SCENARIO_NAIVE_COLLECTION "tickets"

/* The course's listeners had no max deliver, so a duplicate ticket:created
 * (its insert fails on the taken _id) would come back forever; bounded here
 * so such a message ends as a dead letter the report shows. */
#define SCENARIO_NAIVE_MAX_DELIVER 10

typedef struct scenario_naive_replica {
    lk_bus *bus;
    lk_collection *tickets;
    lk_listener_def defs[2]; /* per replica: the ack wait is an option */
    lk_listener listeners[2];
} scenario_naive_replica;

/* Opens the replica collection in `store` and prepares the ticket:created and
 * ticket:updated listeners (queue group "orders-service") on `bus`.
 * `ack_wait_ms` 0: the default. */
lk_status scenario_naive_replica_init(scenario_naive_replica *replica,
                                      lk_bus *bus, lk_store *store,
                                      int64_t ack_wait_ms, lk_error *err);

/* Subscribes both listeners. */
lk_status scenario_naive_replica_listen(scenario_naive_replica *replica,
                                        lk_error *err);

#endif /* TICKETING_SCENARIO_INTERNAL_H */
