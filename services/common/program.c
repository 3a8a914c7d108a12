/* SPDX-License-Identifier: MIT */
/* program.c — the shell of the service programs (see common/program.h). */
#include "common/program.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/stop_signals.h"
#include "http/server.h"
#include "listenkit/nats.h"
#include "listenkit/pg.h"

/* The ordered shutdown's bounds: a supervisor (make demo-cluster, a
 * container runtime) kills what has not exited 10 s after SIGTERM, so every
 * step is bounded well within that, even with the NATS server gone or
 * stalled (the drain used to wait its default 30 s for a server that did
 * not answer). */
#define HTTP_STOP_TIMEOUT_MS 3000
#define DRAIN_TIMEOUT_MS 3000
#define MAX_RETRY_DELAY_MS 5000

static int bus_closed; /* set on a libnats thread, read on the others */

/* The bus gave up for good (a libnats thread): wake the main thread the
 * way a stop signal would, and let it exit non-zero. */
static void on_bus_closed(void *closure)
{
    (void)closure;
    __atomic_store_n(&bus_closed, 1, __ATOMIC_SEQ_CST);
    kill(getpid(), SIGTERM);
}

/* The relay of the running program, once started (NULL before and after):
 * kicked on a reconnect, so what the outage left in the outbox goes out at
 * once, not at the relay's next backed-off try (up to 30 s later: make
 * demo-cluster --restart-nats had the orders POSTs failing for ~30 s, the
 * tickets' events waiting in their outbox). */
static lk_outbox *relay_to_kick;

static void on_bus_reconnected(void *closure)
{
    (void)closure;
    lk_outbox_kick(__atomic_load_n(&relay_to_kick, __ATOMIC_SEQ_CST));
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps `ms` unless a stop signal comes first (then true). */
static bool stopped_while_waiting(const sigset_t *stop, int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    return sigtimedwait(stop, NULL, &ts) > 0;
}

/* PostgreSQL, waiting up to cfg->connect_wait_ms for a server to answer. */
static lk_status connect_store(const char *name, const ticketing_config *cfg,
                               const sigset_t *stop, lk_store **out,
                               lk_error *err)
{
    const lk_pg_opts opts = {.schema = cfg->database_schema};
    int64_t waited = 0, delay = 250;
    for (;;) {
        lk_status s =
            lk_pg_store_connect(out, cfg->database_url, &opts, err);
        if (s != LK_ERR_IO || waited >= cfg->connect_wait_ms)
            return s;
        lk_log(LK_LOG_WARN,
               "%s: waiting for PostgreSQL (%s); next try in %lld ms", name,
               err != NULL ? err->message : "", (long long)delay);
        if (stopped_while_waiting(stop, delay))
            return lk_error_set(err, LK_ERR_CLOSED,
                                "stopped while waiting for PostgreSQL");
        waited += delay;
        delay = delay * 2 < MAX_RETRY_DELAY_MS ? delay * 2 : MAX_RETRY_DELAY_MS;
    }
}

static lk_status connect_bus(const char *name, const ticketing_config *cfg,
                             lk_bus **out, lk_error *err)
{
    const lk_nats_opts opts = {.name = name,
                               .user = cfg->nats_user,
                               .password = cfg->nats_password,
                               .token = cfg->nats_token,
                               .credentials_file = cfg->nats_creds,
                               .tls_ca_file = cfg->nats_ca,
                               .connect_wait_ms = cfg->connect_wait_ms,
                               .reconnect_attempts = cfg->reconnect_attempts,
                               .drain_timeout_ms = DRAIN_TIMEOUT_MS,
                               .on_closed = on_bus_closed,
                               .on_reconnected = on_bus_reconnected};
    return lk_nats_bus_connect(out, cfg->nats_url, &opts, err);
}

/* What /healthz reads: the bus and a collection of the store. */
typedef struct health_probe {
    const lk_bus *bus;
    lk_collection *probe;
} health_probe;

/* /healthz: the bus connected (not reconnecting, not closed), and the
 * store answering. */
static lk_status health(void *ctx, lk_error *err)
{
    const health_probe *hp = ctx;
    bson_oid_t none;
    bson_t *doc = NULL;
    if (!lk_nats_bus_is_connected(hp->bus))
        return lk_error_set(err, LK_ERR_IO, "nats: not connected");
    bson_oid_init_from_string(&none, "000000000000000000000000");
    lk_status s = lk_collection_find_by_id(hp->probe, &none, &doc, err);
    if (doc != NULL)
        bson_destroy(doc);
    if (s == LK_OK || s == LK_ERR_NOT_FOUND)
        return LK_OK;
    lk_error_prefix(err, "database");
    return s;
}

static lk_status serve(const ticketing_program *p,
                       const ticketing_config *cfg,
                       const health_probe *hp,
                       ticketing_http_server **srv, lk_error *err)
{
    const ticketing_http_server_opts o = {
        .port = cfg->port,
        .routes = p->routes,
        .svc = p->svc,
        .jwt_key = (const unsigned char *)cfg->jwt_key,
        .jwt_key_len = strlen(cfg->jwt_key),
        .health = health,
        .health_ctx = (void *)hp};
    return ticketing_http_server_start(&o, srv, err);
}

/* Everything after the configuration: connect, run, stop. */
static int run_program(const ticketing_program *p,
                       const ticketing_config *cfg)
{
    lk_store *store = NULL;
    lk_bus *bus = NULL;
    ticketing_http_server *srv = NULL;
    ticketing_running run = {0};
    sigset_t stop;
    lk_error err;

    lk_error_clear(&err);
    /* First, before libnats starts threads: they inherit the mask. */
    lk_status s = ticketing_block_stop_signals(&stop, &err);
    if (s == LK_OK)
        s = connect_store(p->name, cfg, &stop, &store, &err);
    if (s == LK_OK)
        s = connect_bus(p->name, cfg, &bus, &err);
    if (s == LK_OK)
        s = p->start(p->svc, bus, store, cfg, &run, &err);
    if (s == LK_OK)
        s = lk_outbox_start(run.outbox, &err);
    if (s == LK_OK)
        __atomic_store_n(&relay_to_kick, run.outbox, __ATOMIC_SEQ_CST);
    health_probe hp = {bus, run.probe}; /* outlives the server below */
    if (s == LK_OK)
        s = serve(p, cfg, &hp, &srv, &err);
    if (s == LK_OK) {
        lk_log(LK_LOG_INFO, "%s: listening on port %u", p->name,
               (unsigned)ticketing_http_server_port(srv));
        int sig = ticketing_wait_for_stop_signal(&stop);
        if (__atomic_load_n(&bus_closed, __ATOMIC_SEQ_CST))
            s = lk_error_set(&err, LK_ERR_CLOSED,
                             "the NATS connection is closed for good; "
                             "exiting so the supervisor restarts us");
        else
            lk_log(LK_LOG_INFO, "%s: signal %d, draining", p->name, sig);
    }
    int64_t stopping_at = monotonic_ms();
    ticketing_http_server_stop(srv, HTTP_STOP_TIMEOUT_MS);
    __atomic_store_n(&relay_to_kick, NULL, __ATOMIC_SEQ_CST);
    lk_outbox_stop(run.outbox);
    lk_bus_free(bus); /* drains: in-flight handlers finish first */
    p->stop(p->svc);
    lk_store_free(store);
    lk_nats_library_close(); /* libnats' threads and memory */
    if (srv != NULL)
        lk_log(LK_LOG_INFO, "%s: stopped in %lld ms", p->name,
               (long long)(monotonic_ms() - stopping_at));
    if (s == LK_ERR_CLOSED && !__atomic_load_n(&bus_closed, __ATOMIC_SEQ_CST))
        return 0; /* stopped during start-up, as asked */
    if (s != LK_OK)
        fprintf(stderr, "%s: %s\n", p->name, err.message);
    return s == LK_OK ? 0 : 1;
}

int ticketing_main(const ticketing_program *p, int argc, char **argv)
{
    ticketing_config cfg;
    lk_error err;
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
                     strcmp(argv[1], "-h") == 0)) {
        printf("usage: %s [--help]\n\nThe %s service: its HTTP API on PORT, "
               "its events on NATS JetStream, its records in PostgreSQL.\n\n"
               "%s",
               p->name, p->name, ticketing_config_usage());
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "%s: unknown argument \"%.64s\" (see --help)\n",
                p->name, argv[1]);
        return 2;
    }
    if (ticketing_config_read(p->name, NULL, NULL, &cfg, &err) != LK_OK) {
        fprintf(stderr, "%s: configuration: %s (see --help)\n", p->name,
                err.message);
        return 2;
    }
    lk_log_set_level(cfg.log_level);
    return run_program(p, &cfg);
}
