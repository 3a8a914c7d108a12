/* program.c — the shell of the service programs (see common/program.h). */
#include "common/program.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/stop_signals.h"
#include "listenkit/nats.h"
#include "mem_store.h"

/* How long start-up waits for a server that is not up yet. */
#define DEFAULT_CONNECT_WAIT_MS 60000

static int bus_closed; /* set on a libnats thread, read on the main one */

/* The bus gave up for good (a libnats thread): wake the main thread the
 * way a stop signal would, and let it exit non-zero. */
static void on_bus_closed(void *closure)
{
    (void)closure;
    __atomic_store_n(&bus_closed, 1, __ATOMIC_SEQ_CST);
    kill(getpid(), SIGTERM);
}

static int64_t env_number(const char *name, int64_t fallback)
{
    const char *env = getenv(name);
    return env != NULL && env[0] != '\0' ? strtoll(env, NULL, 10) : fallback;
}

int ticketing_run_program(const char *name, const char *url,
                          ticketing_start_fn start, ticketing_stop_fn close_svc,
                          void *svc)
{
    const lk_nats_opts opts = {
        .name = name,
        .connect_wait_ms = env_number("NATS_CONNECT_WAIT_MS",
                                      DEFAULT_CONNECT_WAIT_MS),
        .reconnect_attempts = (int)env_number("NATS_RECONNECT_ATTEMPTS", 0),
        .on_closed = on_bus_closed};
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
        if (__atomic_load_n(&bus_closed, __ATOMIC_SEQ_CST))
            s = lk_error_set(&err, LK_ERR_CLOSED,
                             "the NATS connection is closed for good; "
                             "exiting so the supervisor restarts us");
        else
            lk_log(LK_LOG_INFO, "%s: signal %d, draining", name, sig);
    }
    lk_bus_free(bus); /* drains: in-flight handlers finish first */
    close_svc(svc);
    lk_store_free(store);
    lk_nats_library_close(); /* libnats' threads and memory */
    if (s != LK_OK)
        fprintf(stderr, "%s: %s\n", name, err.message);
    return s == LK_OK ? 0 : 1;
}
