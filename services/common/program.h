/* SPDX-License-Identifier: MIT */
/*
 * common/program.h — the shell both service programs run in.
 *
 *     int main(int argc, char **argv)
 *     {
 *         tickets_service svc = {0};
 *         const ticketing_program p = {"tickets", &svc, tickets_start,
 *                                      tickets_stop, tickets_routes};
 *         return ticketing_main(&p, argc, argv);
 *     }
 *
 * What ticketing_main does:
 *   1. `--help`: the usage (common/config.h's variables) on stdout, exit 0;
 *      any other argument, or bad configuration: a message on stderr naming
 *      the variable, exit 2;
 *   2. blocks SIGINT/SIGTERM (before any thread starts), then connects the
 *      PostgreSQL store (DATABASE_URL, schema DATABASE_SCHEMA) and the NATS
 *      bus, each waiting up to CONNECT_WAIT_MS for a server that is not up
 *      yet, every try logged at warn with the next delay (doubling up to
 *      5 s); a stop signal while waiting for PostgreSQL ends the wait;
 *   3. starts the service (init + listen_all with ACK_WAIT_MS and
 *      MAX_DELIVER), its outbox's relay thread, and the HTTP server on PORT
 *      (GET /healthz: 200 while the NATS connection is up — not while it
 *      reconnects — and the database answers; else 503 with the reason);
 *      a NATS reconnect kicks the relay, so what the outage left in the
 *      outbox goes out at once;
 *   4. on SIGINT/SIGTERM: stops accepting connections and lets requests in
 *      flight finish (up to 3 s), stops the relay (a pass under way ends
 *      first), drains the bus (in-flight handlers finish, up to 3 s; the
 *      log says why when it is cut short: the server not connected or not
 *      answering), closes the service and the store, logs "stopped in N
 *      ms" and exits 0: within a supervisor's usual 10 s even with the
 *      NATS server gone or stalled;
 *   5. when the NATS connection is closed for good (the adapter's
 *      on_closed) it shuts down the same way and exits 1, so a supervisor
 *      restarts it; a start-up failure exits 1 too, the reason on stderr.
 * The programs link the product only (framework, its NATS and PostgreSQL
 * adapters, services/): never mocks/.
 */
#ifndef TICKETING_PROGRAM_H
#define TICKETING_PROGRAM_H

#include "listenkit.h"

#include "common/config.h"
#include "http/http.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the shell needs of a started service. */
typedef struct ticketing_running {
    lk_outbox *outbox;     /* the service's: the relay thread runs on it */
    lk_collection *probe;  /* read by /healthz: "the database answers" */
} ticketing_running;

/* Starts the service `svc` on `bus` and `store` as `cfg` says (init, then
 * listen_all); fills `out`. */
typedef lk_status (*ticketing_start_fn)(void *svc, lk_bus *bus,
                                        lk_store *store,
                                        const ticketing_config *cfg,
                                        ticketing_running *out,
                                        lk_error *err);

/* Releases what start made, once the bus is drained (also after a start
 * that failed half-way). */
typedef void (*ticketing_stop_fn)(void *svc);

typedef struct ticketing_program {
    const char *name; /* "tickets": logs, the NATS connection, the schema */
    void *svc;        /* zeroed service struct */
    ticketing_start_fn start;
    ticketing_stop_fn stop;
    const ticketing_http_route *routes; /* the service's HTTP routes */
} ticketing_program;

/* Runs the program (above); returns the exit status. */
int ticketing_main(const ticketing_program *p, int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif /* TICKETING_PROGRAM_H */
