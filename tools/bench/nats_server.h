/* SPDX-License-Identifier: MIT */
/*
 * tools/bench/nats_server.h — the JetStream server the nats and suite
 * benchmarks run against: one started for the run (tools/nats-server.sh),
 * unless --nats-url or LK_NATS_URL names one.
 */
#ifndef LISTENKIT_BENCH_NATS_SERVER_H
#define LISTENKIT_BENCH_NATS_SERVER_H

#include <stdbool.h>

typedef struct bench_nats_server {
    bool started;     /* by us: stop it afterwards */
    char url[128];
    char pid[32];
    char dir[512];
    char script[4000];
    char why[128];    /* why there is none, when start failed */
} bench_nats_server;

/* Starts a server on a free loopback port; false with srv->why set when
 * there is no nats-server or it did not come up. */
bool bench_nats_server_start(bench_nats_server *srv);

/* Stops a server this program started; otherwise does nothing. */
void bench_nats_server_stop(bench_nats_server *srv);

#endif /* LISTENKIT_BENCH_NATS_SERVER_H */
