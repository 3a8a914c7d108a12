/* SPDX-License-Identifier: MIT */
/*
 * program_faults_spec.c — a service program (build/bin/tickets) rides out
 * a NATS server that goes away, as make demo-cluster --restart-nats found
 * it did not: what it wrote while the server was down goes out within
 * seconds of the server's return (not at its outbox relay's next
 * backed-off try, up to 30 s later), and SIGTERM while the server is down
 * or stalled ends the program within a few seconds, saying why the drain
 * was cut short (it used to wait 30 s for a server that did not answer,
 * and got killed -9 by its supervisor). A PostgreSQL restart fails writes
 * only while the server is down: the first one after it is back succeeds.
 * Each case has a nats-server of its own (it stops or pauses it); every
 * process is stopped by its pid on every exit and follows the spec's death.
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
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <nats/nats.h>

#include "http/http.h"
#include "http_client.h"
#include "nats_server.h"
#include "pg_server.h"
#include "spec_proc.h"

#define KEY "faults-jwt-key"

typedef struct fixture {
    spec_nats_server nats;
    pid_t pid;
    int port;
    char log[256];
    char schema[64];
    char *token;
} fixture;

static spec_pg_server pg;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    spec_pg_server_spawn(&pg); /* our own: a case restarts it */
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    spec_pg_server_stop(&pg);
    curl_global_cleanup();
    nats_CloseAndWait(5000);
    return 0;
}

/* The program's log so far ("" when none); the caller frees it. */
static char *read_log(const fixture *f)
{
    FILE *in = fopen(f->log, "r");
    char *text = calloc(1, 1 << 16);
    if (in != NULL && text != NULL)
        text[fread(text, 1, (1 << 16) - 1, in)] = '\0';
    if (in != NULL)
        fclose(in);
    return text;
}

static bool logged(const fixture *f, const char *needle)
{
    char *text = read_log(f);
    bool found = text != NULL && strstr(text, needle) != NULL;
    free(text);
    return found;
}

static void print_log(const fixture *f)
{
    char *text = read_log(f);
    print_message("---- %s\n%s", f->log, text != NULL ? text : "");
    free(text);
}

/* build/bin/tickets on a free port with the case's servers, healthy. */
static void start_tickets(fixture *f)
{
    char bin[256], port[16];
    const char *build = getenv("BUILD");
    snprintf(bin, sizeof bin, "%s/bin/tickets", build != NULL ? build : "build");
    assert_true(spec_is_executable(bin));
    f->port = spec_free_port();
    snprintf(port, sizeof port, "%d", f->port);
    snprintf(f->log, sizeof f->log, "/tmp/lk-faults-%d-%d.log", (int)getpid(),
             f->port);
    pid_t parent = getpid();
    fflush(NULL);
    f->pid = fork();
    assert_true(f->pid >= 0);
    if (f->pid == 0) {
        FILE *log = freopen(f->log, "w", stdout);
        if (log == NULL || dup2(fileno(stdout), STDERR_FILENO) < 0)
            _exit(97);
        spec_follow_parent(parent, SIGKILL);
        setenv("NATS_URL", f->nats.url, 1);
        setenv("DATABASE_URL", pg.url, 1);
        setenv("DATABASE_SCHEMA", f->schema, 1);
        setenv("JWT_KEY", KEY, 1);
        setenv("PORT", port, 1);
        setenv("LK_LOG", "info", 1);
        execl(bin, bin, (char *)NULL);
        _exit(98);
    }
    char url[96];
    reply r = {0};
    snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz", f->port);
    for (int waited = 0; waited < 20000; waited += 100) {
        if (perform(&(request){"GET", url, NULL, NULL, false}, &r) &&
            r.status == 200)
            return;
        spec_sleep_ms(100);
    }
    print_log(f);
    fail_msg("%s never became healthy", url);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    const ticketing_user u = {.id = "user-faults", .email = "f@x.test"};
    assert_non_null(f);
    spec_nats_server_spawn(&f->nats);
    spec_pg_unique_name(f->schema, sizeof f->schema, "faults");
    f->token = ticketing_http_sign_user(&u, (const unsigned char *)KEY,
                                        sizeof KEY - 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->pid > 0)
        spec_stop_child(f->pid, SIGKILL, 2000);
    if (f->log[0] != '\0')
        unlink(f->log);
    if (pg.ok)
        spec_pg_drop_schema(pg.url, f->schema);
    spec_nats_server_stop(&f->nats);
    free(f->token);
    free(f);
    return 0;
}

/* POST /api/tickets: its status. */
static long create_ticket(const fixture *f, const char *title)
{
    char url[96], body[96];
    reply r = {0};
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/tickets", f->port);
    snprintf(body, sizeof body, "{\"title\":\"%s\",\"price\":10}", title);
    perform(&(request){"POST", url, body, f->token, false}, &r);
    return r.status;
}

/* Messages in the program's stream, -1 when it cannot be read now. */
static long stream_messages(const fixture *f)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    long n = -1;
    if (natsConnection_ConnectTo(&nc, f->nats.url) == NATS_OK &&
        natsConnection_JetStream(&js, nc, NULL) == NATS_OK &&
        js_GetStreamInfo(&si, js, "LISTENKIT", NULL, NULL) == NATS_OK)
        n = (long)si->State.Msgs;
    jsStreamInfo_Destroy(si);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return n;
}

/* SIGTERM, then the exit status within `ms` (-1: still running, killed). */
static int stop_within(fixture *f, long ms)
{
    int status = 0;
    kill(f->pid, SIGTERM);
    for (long waited = 0; waited < ms; waited += 20) {
        if (waitpid(f->pid, &status, WNOHANG) == f->pid) {
            f->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
        }
        spec_sleep_ms(20);
    }
    print_log(f);
    return -1;
}

static void test_tickets_written_while_nats_is_down_go_out_soon_after_it_is_back(
    void **state)
{
    fixture *f = *state;
    spec_nats_server_require(&f->nats);
    spec_pg_server_require(&pg);
    start_tickets(f);
    assert_int_equal(create_ticket(f, "before"), 201);
    for (int i = 0; i < 50 && stream_messages(f) != 1; i++)
        spec_sleep_ms(100);
    assert_int_equal(stream_messages(f), 1);

    /* Down for 2 s, with writes: each one's send fails and kicks the
     * relay, whose pass fails too. They are committed all the same. */
    assert_true(spec_nats_server_down(&f->nats));
    for (int i = 0; i < 8; i++) {
        char title[32];
        snprintf(title, sizeof title, "while down %d", i);
        assert_int_equal(create_ticket(f, title), 201);
        spec_sleep_ms(100);
    }
    spec_sleep_ms(1200);
    assert_true(spec_nats_server_up(&f->nats));
    int64_t back = now_ms();
    while (stream_messages(f) != 9 && now_ms() - back < 15000)
        spec_sleep_ms(100);
    int64_t took = now_ms() - back;

    if (stream_messages(f) != 9 || took > 4000)
        print_log(f);
    assert_int_equal(stream_messages(f), 9);
    assert_true(took <= 4000); /* reconnect (<= 1 s here), then a pass */
    assert_int_equal(stop_within(f, 10000), 0);
}

static void test_sigterm_while_nats_is_stalled_exits_within_5_s_saying_why(
    void **state)
{
    fixture *f = *state;
    spec_nats_server_require(&f->nats);
    spec_pg_server_require(&pg);
    start_tickets(f);
    assert_true(spec_nats_server_pause(&f->nats)); /* connected, silent */

    int64_t t0 = now_ms();
    int code = stop_within(f, 10000);
    int64_t took = now_ms() - t0;

    assert_int_equal(code, 0);
    assert_true(took < 5000);
    assert_true(logged(f, "not finished within 3000 ms"));
    assert_true(logged(f, "tickets: stopped in"));
}

static void test_sigterm_while_nats_is_down_exits_at_once_saying_why(
    void **state)
{
    fixture *f = *state;
    spec_nats_server_require(&f->nats);
    spec_pg_server_require(&pg);
    start_tickets(f);
    assert_true(spec_nats_server_down(&f->nats));
    for (int i = 0; i < 100 && !logged(f, "disconnected"); i++)
        spec_sleep_ms(20);

    int64_t t0 = now_ms();
    int code = stop_within(f, 10000);
    int64_t took = now_ms() - t0;

    assert_int_equal(code, 0);
    assert_true(took < 2000);
    assert_true(logged(f, "not connected; closing without draining"));
}

/* GET /healthz: its status. */
static long health(const fixture *f)
{
    char url[96];
    reply r = {0};
    snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz", f->port);
    perform(&(request){"GET", url, NULL, NULL, false}, &r);
    return r.status;
}

static void test_a_postgresql_restart_fails_writes_only_while_it_is_down(
    void **state)
{
    fixture *f = *state;
    spec_nats_server_require(&f->nats);
    spec_pg_server_require(&pg);
    start_tickets(f);
    assert_int_equal(create_ticket(f, "before"), 201);

    spec_pg_server_halt(&pg);
    long while_down = create_ticket(f, "while down");
    long health_down = health(f);
    bool back = spec_pg_server_restart(&pg);
    long after = create_ticket(f, "after"); /* the first try, at once */
    long health_after = health(f);
    for (int i = 0; i < 50 && stream_messages(f) != 2; i++)
        spec_sleep_ms(100);

    assert_int_equal(while_down, 500);
    assert_int_equal(health_down, 503);
    assert_true(back);
    if (after != 201)
        print_log(f);
    assert_int_equal(after, 201);
    assert_int_equal(health_after, 200);
    assert_int_equal(stream_messages(f), 2); /* nothing of the failed one */
    assert_int_equal(stop_within(f, 10000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_tickets_written_while_nats_is_down_go_out_soon_after_it_is_back,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_sigterm_while_nats_is_stalled_exits_within_5_s_saying_why,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_sigterm_while_nats_is_down_exits_at_once_saying_why, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_a_postgresql_restart_fails_writes_only_while_it_is_down,
            setup, teardown),
    };
    return cmocka_run_group_tests_name("program_faults", tests, group_setup,
                                       group_teardown);
}
