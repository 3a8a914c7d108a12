/*
 * common/program.h — the shell both service programs run in.
 *
 * A service program is: block SIGINT/SIGTERM, connect the NATS JetStream bus,
 * make a store, start the service (its init + listen_all), wait for a stop
 * signal, drain and free. Only the "start the service" step differs between
 * tickets and orders, so it is the one callback.
 *
 * Until a real document store exists (the PostgreSQL store is still to
 * come) the store is the memory store of mocks/, so records live as long as
 * the process.
 */
#ifndef TICKETING_PROGRAM_H
#define TICKETING_PROGRAM_H

#include "listenkit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Starts the service `svc` on `bus` and `store` (init, then listen_all). */
typedef lk_status (*ticketing_start_fn)(void *svc, lk_bus *bus,
                                        lk_store *store, lk_error *err);

/* Releases what start made, once the bus is drained (also after a start
 * that failed half-way). */
typedef void (*ticketing_stop_fn)(void *svc);

/*
 * Runs the program `name` until SIGINT or SIGTERM: `url` may be NULL
 * ($NATS_URL, else nats://127.0.0.1:4222). At start-up it waits for a
 * server that is not up yet, up to $NATS_CONNECT_WAIT_MS (default 60000;
 * 0: not at all), logging each try; a lost connection is retried forever
 * (or $NATS_RECONNECT_ATTEMPTS times per server, when set > 0).
 * Returns the process exit status: 0 after a clean stop, 1 when start-up
 * failed or the connection was closed for good (the reason on stderr), so
 * a supervisor restarts it instead of it running on, consuming nothing.
 */
int ticketing_run_program(const char *name, const char *url,
                          ticketing_start_fn start, ticketing_stop_fn stop,
                          void *svc);

#ifdef __cplusplus
}
#endif

#endif /* TICKETING_PROGRAM_H */
