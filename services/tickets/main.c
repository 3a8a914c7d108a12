/*
 * main.c — the tickets service as a program: the NATS JetStream bus and,
 * until a real document store exists (the PostgreSQL store is still to
 * come), the memory store of mocks/, so tickets live as long as the process.
 *
 *     tickets [nats-url]      (default: $NATS_URL, else nats://127.0.0.1:4222)
 *
 * Listens until SIGINT or SIGTERM, then drains the bus and exits. The HTTP
 * routes that would call tickets_create/tickets_update are not part of it.
 */
#include <stdio.h>

#include "common/stop_signals.h"
#include "listenkit/nats.h"
#include "mem_store.h"
#include "tickets/tickets.h"

int main(int argc, char **argv)
{
    const lk_nats_opts opts = {.name = "tickets"};
    lk_store *store = lk_mem_store_new();
    lk_bus *bus = NULL;
    tickets_service svc;
    sigset_t stop;
    lk_error err;

    lk_error_clear(&err);
    lk_status s = ticketing_block_stop_signals(&stop, &err);
    if (s == LK_OK && store == NULL)
        s = lk_error_set(&err, LK_ERR_NOMEM, "memory store");
    if (s == LK_OK)
        s = lk_nats_bus_connect(&bus, argc > 1 ? argv[1] : NULL, &opts, &err);
    if (s == LK_OK)
        s = tickets_service_init(&svc, bus, store, &err);
    if (s == LK_OK)
        s = tickets_listen_all(&svc, &err);
    if (s == LK_OK) {
        lk_log(LK_LOG_INFO, "tickets: listening");
        int sig = ticketing_wait_for_stop_signal(&stop);
        lk_log(LK_LOG_INFO, "tickets: signal %d, draining", sig);
    }
    lk_bus_free(bus); /* drains: in-flight handlers finish first */
    lk_store_free(store);
    if (s != LK_OK)
        fprintf(stderr, "tickets: %s\n", err.message);
    return s == LK_OK ? 0 : 1;
}
