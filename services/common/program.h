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

/*
 * Runs the program `name` until SIGINT or SIGTERM: `url` may be NULL
 * ($NATS_URL, else nats://127.0.0.1:4222). Returns the process exit status:
 * 0 after a clean stop, 1 when start-up failed (the reason on stderr).
 */
int ticketing_run_program(const char *name, const char *url,
                          ticketing_start_fn start, void *svc);

#ifdef __cplusplus
}
#endif

#endif /* TICKETING_PROGRAM_H */
