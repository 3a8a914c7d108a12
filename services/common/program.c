/* program.c — the shell of the service programs (see common/program.h). */
#include "common/program.h"

#include <stdio.h>

#include "common/stop_signals.h"
#include "listenkit/nats.h"
#include "mem_store.h"

int ticketing_run_program(const char *name, const char *url,
                          ticketing_start_fn start, void *svc)
{
    const lk_nats_opts opts = {.name = name};
    lk_store *store = lk_mem_store_new();
    lk_bus *bus = NULL;
    sigset_t stop;
    lk_error err;

    lk_error_clear(&err);
    /* First, before libnats starts threads: they inherit the mask. */
    lk_status s = ticketing_block_stop_signals(&stop, &err);
    if (s == LK_OK && store == NULL)
        s = lk_error_set(&err, LK_ERR_NOMEM, "memory store");
    if (s == LK_OK)
        s = lk_nats_bus_connect(&bus, url, &opts, &err);
    if (s == LK_OK)
        s = start(svc, bus, store, &err);
    if (s == LK_OK) {
        lk_log(LK_LOG_INFO, "%s: listening", name);
        int sig = ticketing_wait_for_stop_signal(&stop);
        lk_log(LK_LOG_INFO, "%s: signal %d, draining", name, sig);
    }
    lk_bus_free(bus); /* drains: in-flight handlers finish first */
    lk_store_free(store);
    if (s != LK_OK)
        fprintf(stderr, "%s: %s\n", name, err.message);
    return s == LK_OK ? 0 : 1;
}
