/* SPDX-License-Identifier: MIT */
/*
 * scenario/counting_bus.h — an lk_bus decorator that counts what passes
 * through it: publishes, deliveries, redeliveries, acks, deliveries of
 * already-acked messages (duplicates) and messages given up (termed, or left
 * un-acked on their last allowed delivery).
 *
 * The fake broker counts all this itself; a real server does not tell, so
 * the NATS wiring wraps each connection in one of these, all sharing one
 * scenario_bus_counters. Thread-safe: handlers run on libnats threads.
 *
 * Batches (lk_batch_new on the wrapper) are the inner bus's own — on a
 * server the adapter's in-flight batch — counted as published once
 * acknowledged; their failures go back to the caller (the outbox relay
 * publishes them again with their msg ids), not through the retries below.
 */
#ifndef TICKETING_SCENARIO_COUNTING_BUS_H
#define TICKETING_SCENARIO_COUNTING_BUS_H

#include <pthread.h>
#include <stdint.h>

#include "listenkit.h"
#include "scenario/scenario_internal.h"

typedef struct scenario_bus_counters {
    pthread_mutex_t lock;
    scenario_counts counts;
    uint8_t *acked;    /* acked[seq] != 0: stream sequence seq was acked */
    size_t acked_cap;
} scenario_bus_counters;

/* Initialises / releases the shared counters. */
lk_status scenario_bus_counters_init(scenario_bus_counters *c, lk_error *err);
void scenario_bus_counters_destroy(scenario_bus_counters *c);

/* A snapshot, taken under the lock. */
void scenario_bus_counters_get(scenario_bus_counters *c, scenario_counts *out);

/*
 * Wraps `inner` (ownership moves to the wrapper: lk_bus_free() of the
 * wrapper frees it, also when this call fails). `counters` is borrowed and
 * must outlive the wrapper. *out is NULL on failure.
 *
 * `run_id` (NULL: none; copied) makes durable subscriptions belong to this
 * run only: their durable name becomes "<durable or queue group>-<run_id>"
 * and they start at the next message published, so a run on a server that
 * keeps earlier runs' streams and consumers neither shares their position
 * nor replays their events.
 */
lk_status scenario_counting_bus_new(lk_bus *inner,
                                    scenario_bus_counters *counters,
                                    const char *run_id, lk_bus **out,
                                    lk_error *err);

/* From now on publishes through `bus` (a counting bus) that fail with a
 * transient error are tried again for up to `budget_ms`, each with a
 * message id of its own (publish_retry.h); 0 turns it off. */
void scenario_counting_bus_retry_publishes(lk_bus *bus, int64_t budget_ms);

#endif /* TICKETING_SCENARIO_COUNTING_BUS_H */
