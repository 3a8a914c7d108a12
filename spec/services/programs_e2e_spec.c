/* SPDX-License-Identifier: MIT */
/*
 * programs_e2e_spec.c — the real programs end to end: a throwaway
 * nats-server and PostgreSQL, one tickets and two orders processes
 * (build/bin/tickets, build/bin/orders), driven over HTTP as a user would:
 * create a ticket, update it, order it, cancel the order; then the orders
 * replica in PostgreSQL equals the ticket the tickets service holds.
 * Every process is stopped by its pid on every exit (the teardown), and
 * follows the spec's death.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http/http.h"
#include "http_client.h"
#include "listenkit/pg.h"
#include "nats_server.h"
#include "pg_server.h"
#include "spec_proc.h"

#define KEY "e2e-jwt-key"
#define PROCS 3 /* tickets, orders, orders */
#define WAIT_MS 30000

typedef struct proc {
    pid_t pid;
    int port;
    char log[256];
} proc;

static spec_nats_server nats;
static spec_pg_server pg;
static proc procs[PROCS];
static char tickets_schema[64], orders_schema[64];

static void bin_path(char *buf, size_t size, const char *name)
{
    const char *build = getenv("BUILD");
    snprintf(buf, size, "%s/bin/%s", build != NULL ? build : "build", name);
}

/* Starts program `name` on a free port with the spec's servers. */
static void spawn(proc *p, const char *name, const char *schema)
{
    char bin[256], port[16];
    bin_path(bin, sizeof bin, name);
    assert_true(spec_is_executable(bin));
    p->port = spec_free_port();
    snprintf(port, sizeof port, "%d", p->port);
    snprintf(p->log, sizeof p->log, "/tmp/lk-e2e-%d-%s-%d.log", (int)getpid(),
             name, p->port);
    pid_t parent = getpid();
    fflush(NULL);
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        FILE *log = freopen(p->log, "w", stdout);
        if (log == NULL || dup2(fileno(stdout), STDERR_FILENO) < 0)
            _exit(97);
        spec_follow_parent(parent, SIGKILL);
        setenv("NATS_URL", nats.url, 1);
        setenv("DATABASE_URL", pg.url, 1);
        setenv("DATABASE_SCHEMA", schema, 1);
        setenv("JWT_KEY", KEY, 1);
        setenv("PORT", port, 1);
        setenv("LK_LOG", "info", 1);
        setenv("ACK_WAIT_MS", "1000", 1); /* out-of-order events retry soon */
        execl(bin, bin, (char *)NULL);
        _exit(98);
    }
}

static void print_log(const proc *p)
{
    char line[512];
    FILE *f = fopen(p->log, "r");
    print_message("---- %s\n", p->log);
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        print_message("%s", line);
    if (f != NULL)
        fclose(f);
}

/* Waits up to `ms` for `p` to exit; its exit status, -1 when it did not
 * exit (it is killed then), -2 when a signal ended it. */
static int exit_code(proc *p, long ms)
{
    int status = 0;
    for (long waited = 0; waited < ms; waited += 20) {
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            p->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
        }
        spec_sleep_ms(20);
    }
    spec_stop_child(p->pid, SIGKILL, 1000);
    p->pid = 0;
    return -1;
}

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    spec_nats_server_spawn(&nats);
    spec_pg_server_start(&pg);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < PROCS; i++) {
        if (procs[i].pid > 0)
            spec_stop_child(procs[i].pid, SIGTERM, 15000);
        procs[i].pid = 0;
        if (procs[i].log[0] != '\0')
            unlink(procs[i].log);
    }
    if (pg.ok) {
        spec_pg_drop_schema(pg.url, tickets_schema);
        spec_pg_drop_schema(pg.url, orders_schema);
    }
    spec_nats_server_stop(&nats);
    spec_pg_server_stop(&pg);
    curl_global_cleanup();
    return 0;
}

static void url_of(char *buf, size_t size, const proc *p, const char *path)
{
    snprintf(buf, size, "http://127.0.0.1:%d%s", p->port, path);
}

/* Waits until `p` answers /healthz with 200. */
static void wait_healthy(const proc *p)
{
    char u[128];
    reply r = {0};
    url_of(u, sizeof u, p, "/healthz");
    for (int waited = 0; waited < WAIT_MS; waited += 100) {
        if (perform(&(request){"GET", u, NULL, NULL, false}, &r) &&
            r.status == 200)
            return;
        spec_sleep_ms(100);
    }
    print_log(p);
    fail_msg("%s never became healthy", u);
}

/* `method path` on `p` until it answers `want` (the events it depends on
 * may not have come yet); returns the last reply's body as JSON. */
static json_t *call_until(const proc *p, const char *method, const char *path,
                          const char *body, const char *token, long want)
{
    char u[160];
    reply r = {0};
    url_of(u, sizeof u, p, path);
    for (int waited = 0; waited < WAIT_MS; waited += 100) {
        if (perform(&(request){method, u, body, token, false}, &r) &&
            r.status == want)
            return r.len > 0 ? json_loads(r.body, 0, NULL) : json_null();
        spec_sleep_ms(100);
    }
    print_log(p);
    fail_msg("%s %s: %ld (%s), wanted %ld", method, u, r.status, r.body, want);
    return NULL;
}

/* The orders replica of ticket `hex`, as stored in PostgreSQL. */
static bson_t *stored_replica(const char *hex)
{
    lk_store *store = NULL;
    lk_collection *tickets = NULL;
    bson_oid_t id;
    bson_t *doc = NULL;
    const lk_pg_opts o = {.schema = orders_schema};
    const lk_collection_opts replica = {.occ = LK_OCC_EXTERNAL};
    assert_int_equal(lk_pg_store_connect(&store, pg.url, &o, NULL), LK_OK);
    assert_int_equal(
        lk_store_collection(store, "tickets", &replica, &tickets, NULL),
        LK_OK);
    assert_int_equal(lk_oid_parse(hex, &id, NULL), LK_OK);
    lk_collection_find_by_id(tickets, &id, &doc, NULL);
    lk_store_free(store);
    return doc;
}

static bool replica_equals(const json_t *ticket)
{
    bson_t *doc = stored_replica(json_string_value(
        json_object_get(ticket, "id")));
    bson_iter_t it;
    int64_t version = -1;
    bool same = doc != NULL &&
                lk_bson_get_int64(doc, "version", &version, NULL) == LK_OK &&
                version == json_integer_value(
                               json_object_get(ticket, "version")) &&
                bson_iter_init_find(&it, doc, "title") &&
                strcmp(bson_iter_utf8(&it, NULL),
                       json_string_value(json_object_get(ticket, "title"))) ==
                    0 &&
                bson_iter_init_find(&it, doc, "price") &&
                bson_iter_as_double(&it) ==
                    json_number_value(json_object_get(ticket, "price"));
    if (doc != NULL)
        bson_destroy(doc);
    return same;
}

/* Waits until the orders replica of ticket `hex` holds `version`: an order
 * placed before that takes the price the replica had then. */
static void wait_replica_version(const char *hex, int64_t version)
{
    int64_t have = -1;
    for (int waited = 0; waited < WAIT_MS; waited += 100) {
        bson_t *doc = stored_replica(hex);
        have = -1;
        if (doc != NULL) {
            lk_bson_get_int64(doc, "version", &have, NULL);
            bson_destroy(doc);
        }
        if (have == version)
            return;
        spec_sleep_ms(100);
    }
    fail_msg("replica of %s: version %lld, wanted %lld", hex, (long long)have,
             (long long)version);
}

/* Waits until the tickets service shows the ticket at `path` reserved by
 * order `order_id` (its order:created listener has run). */
static void wait_reserved(const proc *tickets, const char *path,
                          const char *order_id)
{
    for (int waited = 0; waited < WAIT_MS; waited += 100) {
        json_t *t = call_until(tickets, "GET", path, NULL, NULL, 200);
        const char *have = json_string_value(json_object_get(t, "orderId"));
        bool reserved = have != NULL && strcmp(have, order_id) == 0;
        json_decref(t);
        if (reserved)
            return;
        spec_sleep_ms(100);
    }
    fail_msg("%s: never reserved by order %s", path, order_id);
}

static void test_create_update_order_cancel_then_the_replica_equals_the_ticket(
    void **state)
{
    (void)state;
    char path[96], body[96];
    const ticketing_user alice = {.id = "user-e2e", .email = "e2e@x.test"};
    spec_nats_server_require(&nats);
    spec_pg_server_require(&pg);
    spec_pg_unique_name(tickets_schema, sizeof tickets_schema, "e2e_tickets");
    spec_pg_unique_name(orders_schema, sizeof orders_schema, "e2e_orders");
    spawn(&procs[0], "tickets", tickets_schema);
    spawn(&procs[1], "orders", orders_schema);
    spawn(&procs[2], "orders", orders_schema);
    for (int i = 0; i < PROCS; i++)
        wait_healthy(&procs[i]);
    char *token = ticketing_http_sign_user(
        &alice, (const unsigned char *)KEY, sizeof KEY - 1);
    assert_non_null(token);

    /* create, then update: version 1 */
    json_t *t = call_until(&procs[0], "POST", "/api/tickets",
                           "{\"title\":\"concert\",\"price\":20}", token, 201);
    const char *id = json_string_value(json_object_get(t, "id"));
    snprintf(path, sizeof path, "/api/tickets/%s", id);
    json_t *u = call_until(&procs[0], "PUT", path,
                           "{\"title\":\"concert\",\"price\":25}", token, 200);
    assert_int_equal(json_integer_value(json_object_get(u, "version")), 1);

    /* order it on one orders process once its replica has the update (an
     * order takes the price the replica holds at that moment) */
    wait_replica_version(id, 1);
    snprintf(body, sizeof body, "{\"ticketId\":\"%s\"}", id);
    json_t *o = call_until(&procs[1], "POST", "/api/orders", body, token, 201);
    assert_true(json_number_value(json_object_get(
                    json_object_get(o, "ticket"), "price")) == 25);
    /* the tickets service reserves it: then editing is refused (asked once:
     * an edit sent before the reservation arrived would succeed) */
    wait_reserved(&procs[0], path, json_string_value(json_object_get(o, "id")));
    json_decref(call_until(&procs[0], "PUT", path,
                           "{\"title\":\"x\",\"price\":1}", token, 400));

    /* cancel it on the other orders process: they share the database */
    char order_path[96];
    snprintf(order_path, sizeof order_path, "/api/orders/%s",
             json_string_value(json_object_get(o, "id")));
    json_decref(
        call_until(&procs[2], "DELETE", order_path, NULL, token, 204));

    /* the ticket is freed (version 3: reserved at 2, freed at 3) and the
     * replica in PostgreSQL catches up with it */
    json_t *final = NULL;
    for (int waited = 0; waited < WAIT_MS; waited += 200) {
        json_decref(final);
        final = call_until(&procs[0], "GET", path, NULL, NULL, 200);
        if (json_integer_value(json_object_get(final, "version")) == 3 &&
            replica_equals(final))
            break;
        spec_sleep_ms(200);
    }
    assert_int_equal(json_integer_value(json_object_get(final, "version")), 3);
    assert_null(json_object_get(final, "orderId"));
    if (!replica_equals(final)) {
        for (int i = 0; i < PROCS; i++)
            print_log(&procs[i]);
        fail_msg("the orders replica differs from the ticket");
    }

    /* every process stops cleanly on SIGTERM */
    for (int i = 0; i < PROCS; i++) {
        assert_int_equal(kill(procs[i].pid, SIGTERM), 0);
        int code = exit_code(&procs[i], 15000);
        if (code != 0) {
            print_log(&procs[i]);
            fail_msg("process %d exited %d after SIGTERM", (int)procs[i].pid,
                     code);
        }
    }
    json_decref(final);
    json_decref(o);
    json_decref(u);
    json_decref(t);
    free(token);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_create_update_order_cancel_then_the_replica_equals_the_ticket),
    };
    return cmocka_run_group_tests_name("programs_e2e", tests, group_setup,
                                       group_teardown);
}
