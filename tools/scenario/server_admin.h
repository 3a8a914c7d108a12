/* SPDX-License-Identifier: MIT */
/*
 * scenario/server_admin.h — what the scenario asks the NATS server itself:
 * how much its run's consumers still hold (pending: not yet delivered;
 * ack-pending: delivered, not yet acked), and deleting them at the end.
 *
 * The replicas' view cannot tell "done" from "late": after a server pause
 * nothing changes for a while, and a quiet spell looked settled. Only the
 * server knows that every event of the run was delivered and acked. The
 * admin connection reconnects forever, like the services' buses, so a
 * paused or restarted server only delays the answer.
 */
#ifndef TICKETING_SCENARIO_SERVER_ADMIN_H
#define TICKETING_SCENARIO_SERVER_ADMIN_H

#include <stdint.h>

#include <nats/nats.h>

#include "listenkit.h"

typedef struct scenario_admin {
    natsConnection *nc;
    jsCtx *js;
} scenario_admin;

/* The backlog of a run's consumers, summed. */
typedef struct scenario_backlog {
    int64_t consumers;   /* consumers whose name carries the run id */
    int64_t pending;     /* messages not yet delivered */
    int64_t ack_pending; /* delivered, not acked yet */
} scenario_backlog;

/* Connects to `url` (NULL: the adapter's default). */
lk_status scenario_admin_open(scenario_admin *a, const char *url,
                              lk_error *err);

/* Reads the backlog of every consumer of `stream` whose name contains
 * `run_id`. LK_ERR_IO / LK_ERR_TIMEOUT while the server does not answer. */
lk_status scenario_admin_backlog(scenario_admin *a, const char *stream,
                                 const char *run_id, scenario_backlog *out,
                                 lk_error *err);

/* Deletes those consumers (best effort: a failure is logged). */
void scenario_admin_delete_run(scenario_admin *a, const char *stream,
                               const char *run_id);

/* Closes the connection; safe on one never opened. */
void scenario_admin_close(scenario_admin *a);

#endif /* TICKETING_SCENARIO_SERVER_ADMIN_H */
