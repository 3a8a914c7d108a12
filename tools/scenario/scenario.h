/* SPDX-License-Identifier: MIT */
/*
 * scenario/scenario.h — the course's concurrency scenario, as a library.
 *
 * One tickets service and R replicas of the orders service in the
 * "orders-service" queue group, sharing one orders store. The scenario
 * creates T tickets and updates each U times (prices 5, then 10, 15, 20, ...:
 * the course's "10 then 15" are the first two updates), lets the bus deliver
 * with reordering, duplicate delivery and redelivery of un-acked messages,
 * waits until nothing is left to deliver, then compares every ticket of the
 * tickets service with its replica in the orders store (title, price,
 * version; a missing replica counts too).
 *
 * Two kinds of orders listeners:
 *   versioned (default)  the orders service's own listeners (orders_listen_all):
 *                        apply an update only when it is the replica's next
 *                        version, leave it un-acked otherwise;
 *   naive (opts.naive)   the course's first version: find by id, set title and
 *                        price, save, ack. Out-of-order updates really
 *                        overwrite newer ones: the lost update is not
 *                        simulated, it happens in the store.
 *
 * Two buses: the embedded fake broker of mocks/fake_nats.h (default; virtual
 * clock, seeded, deterministic: the same options give the same result), or a
 * real NATS JetStream server (opts.nats_url), one connection per replica;
 * there a server pause or restart delays the run, it does not end it.
 * Both share the services, the schedule, the comparison and the report.
 *
 *     ticketing_scenario_opts opts;
 *     ticketing_scenario_opts_init(&opts);
 *     opts.seed = 42;
 *     ticketing_scenario_result r;
 *     if (ticketing_scenario_run(&opts, &r, &err) == LK_OK && r.converged) ...
 *
 * Threads: run() is not re-entrant per opts/result pair, but separate runs
 * share nothing (no global state). With NATS, handlers run on libnats
 * threads; the scenario's counters and the memory store are thread-safe.
 */
#ifndef TICKETING_SCENARIO_H
#define TICKETING_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "listenkit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults (shown by --help). Tuned so that the naive listeners lose updates
 * for typical seeds while a default run stays well under a second. */
#define TICKETING_SCENARIO_DEFAULT_REPLICAS 4
#define TICKETING_SCENARIO_DEFAULT_TICKETS 500
#define TICKETING_SCENARIO_DEFAULT_UPDATES 2
#define TICKETING_SCENARIO_DEFAULT_SEED 1
#define TICKETING_SCENARIO_DEFAULT_REORDER_WINDOW 4
#define TICKETING_SCENARIO_DEFAULT_DUPLICATE_RATE 0.02
#define TICKETING_SCENARIO_DEFAULT_TIMEOUT_MS 60000

/* Bounds the options are checked against (keep a run finite). */
#define TICKETING_SCENARIO_MAX_REPLICAS 64
#define TICKETING_SCENARIO_MAX_TICKETS 1000000
#define TICKETING_SCENARIO_MAX_UPDATES 1000
#define TICKETING_SCENARIO_MAX_REORDER_WINDOW 1000

/* Price of a ticket after `update` updates (0: as created): 5, 10, 15, ... */
#define TICKETING_SCENARIO_PRICE(update) (5.0 + 5.0 * (double)(update))

typedef struct ticketing_scenario_progress {
    const char *phase;       /* "publishing" or "settling" */
    int tickets_done;        /* tickets whose create+updates were issued */
    int tickets;
    uint64_t deliveries;     /* so far */
} ticketing_scenario_progress;

/* Called now and then while a run goes (on the caller's thread). */
typedef void (*ticketing_scenario_progress_fn)(
    const ticketing_scenario_progress *progress, void *closure);

typedef struct ticketing_scenario_opts {
    int replicas;           /* orders replicas in the queue group, >= 1 */
    int tickets;            /* tickets to create, >= 1 */
    int updates;            /* updates per ticket, >= 0 */
    uint64_t seed;          /* the fake broker's and the schedule's seed */
    size_t reorder_window;  /* fake broker: 0/1 keep stream order */
    double duplicate_rate;  /* fake broker: 0.0 .. 1.0 */
    bool naive;             /* naive orders listeners instead of versioned */
    const char *nats_url;   /* NULL: the embedded fake broker */
    /* Ack wait of the naive listeners (the versioned ones are the orders
     * service's, with its own); 0: LK_DEFAULT_ACK_WAIT_MS. */
    int64_t ack_wait_ms;
    /* NATS only: how long to wait for the run to settle (the server holds
     * nothing pending or un-acked for its consumers; past it the run fails
     * with LK_ERR_TIMEOUT), and how long one publish is retried through a
     * transient fault (timeout, disconnect), with a message id. */
    int64_t timeout_ms;
    ticketing_scenario_progress_fn progress; /* NULL: none */
    void *progress_closure;
} ticketing_scenario_opts;

typedef struct ticketing_scenario_result {
    bool naive;
    const char *bus;          /* "fake-nats" or "nats" (static string) */
    int replicas, tickets, updates;
    uint64_t seed;
    size_t reorder_window;
    double duplicate_rate;

    uint64_t published;              /* every event the bus took */
    uint64_t published_by_commands;  /* tickets_create / tickets_update */
    uint64_t published_by_listeners; /* published - published_by_commands */
    uint64_t deliveries;             /* handler calls, redeliveries included */
    uint64_t redeliveries;           /* deliveries with delivery count > 1 */
    uint64_t duplicates;             /* deliveries of an already-acked message
                                        (fake: injected duplicates) */
    uint64_t acked;
    uint64_t dead_letters;           /* termed or max deliver reached */

    uint64_t mismatches;   /* tickets whose replica is missing or differs */
    uint64_t missing;      /*   no replica at all */
    uint64_t stale;        /*   title or price differ (a lost update) */
    uint64_t version_only; /*   same title and price, other version */

    bool converged;        /* mismatches == 0 */
    double elapsed_s;      /* wall clock */
    double deliveries_per_s;
    int64_t virtual_ms;    /* fake broker's clock at the end; 0 for NATS */
} ticketing_scenario_result;

/* Fills `opts` with the defaults above (embedded, versioned). */
void ticketing_scenario_opts_init(ticketing_scenario_opts *opts);

/* Checks every option against its bounds. LK_ERR_INVALID naming the option
 * ("replicas: must be between 1 and 64, got 0"). */
lk_status ticketing_scenario_opts_check(const ticketing_scenario_opts *opts,
                                        lk_error *err);

/*
 * Runs the scenario and fills *out. Returns LK_OK when the run completed,
 * whatever its outcome (read out->converged); an error when it could not run
 * (bad options, a service or bus failure, NATS unreachable: the message
 * says which).
 */
lk_status ticketing_scenario_run(const ticketing_scenario_opts *opts,
                                 ticketing_scenario_result *out,
                                 lk_error *err);

/* "naive" or "versioned". */
const char *ticketing_scenario_mode(const ticketing_scenario_result *r);

/* The result as one JSON object (new reference; NULL on OOM). Keys: mode,
 * bus, seed, replicas, tickets, updates, reorder_window, duplicate_rate,
 * published, published_by_commands, published_by_listeners, deliveries,
 * redeliveries, duplicates, acked, dead_letters, mismatches, missing, stale,
 * version_only, converged, elapsed_s, deliveries_per_s, virtual_ms. seed,
 * reorder_window, duplicate_rate and virtual_ms are null on a real server
 * (they belong to the embedded broker). */
json_t *ticketing_scenario_result_json(const ticketing_scenario_result *r);

/* The same, encoded compactly (caller frees with free(); NULL on OOM). */
char *ticketing_scenario_result_json_text(const ticketing_scenario_result *r);

/* Writes the result as a two-column table to `out`. */
void ticketing_scenario_print_table(const ticketing_scenario_result *r,
                                    FILE *out);

/* ---- the command line ---------------------------------------------------- */

typedef struct ticketing_scenario_cli {
    ticketing_scenario_opts opts;
    bool json; /* --json */
    bool help; /* --help: print usage, run nothing */
} ticketing_scenario_cli;

/*
 * Parses the ticketing-scenario command line (argv[0] is the program) into
 * `cli`, starting from the defaults. Accepts "--opt value" and "--opt=value".
 * LK_ERR_INVALID, naming the option and the problem, for an unknown option,
 * a missing or malformed value, or a value out of bounds. `cli->opts.nats_url`
 * points into argv.
 */
lk_status ticketing_scenario_parse_args(int argc, char **argv,
                                        ticketing_scenario_cli *cli,
                                        lk_error *err);

/* Writes the usage text, defaults included. */
void ticketing_scenario_usage(FILE *out, const char *program);

#ifdef __cplusplus
}
#endif

#endif /* TICKETING_SCENARIO_H */
