/* SPDX-License-Identifier: MIT */
/* program_spec.c — the shell both service programs run in
 * (common/program.h): configuration from the environment (--help, exit 2
 * for bad configuration), start on real servers (NATS and PostgreSQL),
 * serve HTTP, listen until SIGTERM, drain, exit 0; report a start-up
 * failure or a connection closed for good and exit 1. Each case runs
 * ticketing_main in a child process, as a user runs build/bin/tickets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/program.h"
#include "nats_server.h"
#include "pg_server.h"
#include "spec_proc.h"
#include "orders/orders.h"
#include "tickets/tickets.h"

static spec_nats_server server;
static spec_pg_server pg;

static int group_setup(void **state)
{
    (void)state;
    spec_nats_server_spawn(&server); /* our own: the program uses the
                                        default stream name */
    spec_pg_server_start(&pg);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    spec_nats_server_stop(&server);
    spec_pg_server_stop(&pg);
    return 0;
}

/* The child's log lines go to the pipe so the parent can wait for them. */
static void log_to_fd(void *closure, lk_log_level level, const char *line)
{
    int fd = *(int *)closure;
    char buf[1200];
    int n = snprintf(buf, sizeof buf, "%s: %s\n", lk_log_level_str(level),
                     line);
    if (n > 0 && write(fd, buf, (size_t)n) < 0)
        _exit(99);
}

#if defined(__SANITIZE_THREAD__)
#define SPEC_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SPEC_UNDER_TSAN 1
#endif
#endif
#ifndef SPEC_UNDER_TSAN
#define SPEC_UNDER_TSAN 0
#endif

/* Threads of this process now (/proc), -1 when unknown. */
static long thread_count(void)
{
    char line[256];
    long threads = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "Threads: %ld", &threads) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return threads;
}

/* "threads left: N": once the program returned, libnats' threads must be
 * gone (it called nats_Close), or a leak checker sees their memory. N
 * counts those beyond the ones the child had before it ran the program
 * (a sanitizer's own thread). */
static void report_threads_left(int fd, long before)
{
    char out[64];
#if SPEC_UNDER_TSAN
    before += 1; /* TSan starts a background thread of its own, lazily */
#endif
    /* A thread libnats joined or detached may take a moment to leave the
     * count; give it up to a second. */
    long threads = thread_count() - before;
    for (int i = 0; i < 100 && threads > 0; i++) {
        struct timespec tick = {0, 10 * 1000000L};
        nanosleep(&tick, NULL);
        threads = thread_count() - before;
    }
    int n = snprintf(out, sizeof out, "threads left: %ld\n", threads);
    if (n > 0 && write(fd, out, (size_t)n) < 0)
        _exit(99);
}

typedef struct child {
    pid_t pid;
    int out; /* read end: the child's log lines and stderr */
    char seen[8192];
    size_t len;
} child;

/* The environment of a program that can start: the spec's servers, a
 * schema of its own, a free port. `nats_url` NULL: the spec's server. */
static void set_good_env(const char *nats_url)
{
    char schema[64], port[16];
    spec_pg_unique_name(schema, sizeof schema, "program");
    snprintf(port, sizeof port, "%d", spec_free_port());
    setenv("NATS_URL", nats_url != NULL ? nats_url : server.url, 1);
    setenv("DATABASE_URL", pg.url, 1);
    setenv("DATABASE_SCHEMA", schema, 1);
    setenv("JWT_KEY", "program-spec-key", 1);
    setenv("PORT", port, 1);
    setenv("LK_LOG", "info", 1);
    setenv("CONNECT_WAIT_MS", "0", 1);
}

/* Runs ticketing_main(name, arg) in a child with the environment as it is
 * (set_good_env, then the case's changes), then restores nothing: each
 * case sets what it needs. */
static child start_program_args(const char *name, const char *arg)
{
    int fds[2];
    child c = {0};
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    c.pid = fork();
    assert_true(c.pid >= 0);
    if (c.pid == 0) {
        static int fd;
        fd = fds[1];
        close(fds[0]);
        dup2(fd, STDERR_FILENO);
        dup2(fd, STDOUT_FILENO);
        lk_log_set_handler(log_to_fd, &fd);
        char *argv[] = {(char *)name, (char *)arg, NULL};
        int argc = arg != NULL ? 2 : 1;
        /* exit(), not _exit(): coverage data and the leak check of the
         * child count too. */
        int code;
        long before = thread_count();
        if (strcmp(name, "tickets") == 0) {
            tickets_service svc = {0};
            const ticketing_program p = {"tickets", &svc, tickets_start,
                                         tickets_stop, tickets_routes};
            code = ticketing_main(&p, argc, argv);
        } else {
            orders_service svc = {0};
            const ticketing_program p = {"orders", &svc, orders_start,
                                         orders_stop, orders_routes};
            code = ticketing_main(&p, argc, argv);
        }
        fflush(stdout);
        report_threads_left(fd, before);
        exit(code);
    }
    close(fds[1]);
    c.out = fds[0];
    return c;
}

static child start_program(const char *name, const char *url)
{
    set_good_env(url);
    return start_program_args(name, NULL);
}

/* Reads the child's output until `needle` shows or 20 s pass. */
static bool wait_for_output(child *c, const char *needle)
{
    for (int waited = 0; waited < 20000 && strstr(c->seen, needle) == NULL;) {
        struct pollfd p = {.fd = c->out, .events = POLLIN};
        int r = poll(&p, 1, 100);
        waited += 100;
        if (r > 0) {
            ssize_t n = read(c->out, c->seen + c->len,
                             sizeof c->seen - 1 - c->len);
            if (n <= 0)
                break; /* the child closed its end */
            c->len += (size_t)n;
            c->seen[c->len] = '\0';
        }
    }
    return strstr(c->seen, needle) != NULL;
}

static int wait_exit(child *c)
{
    int status = 0;
    assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
    wait_for_output(c, "\x01"); /* drain what is left: never matches */
    close(c->out);
    assert_true(WIFEXITED(status)); /* not killed by the signal */
    return WEXITSTATUS(status);
}

static void check_listens_then_stops_cleanly(const char *name)
{
    spec_nats_server_require(&server);
    spec_pg_server_require(&pg);
    child c = start_program(name, server.url);
    char listening[64];
    snprintf(listening, sizeof listening, "%s: listening", name);
    if (!wait_for_output(&c, listening))
        kill(c.pid, SIGKILL);
    assert_non_null(strstr(c.seen, listening));

    assert_int_equal(kill(c.pid, SIGTERM), 0);
    assert_int_equal(wait_exit(&c), 0);
    assert_non_null(strstr(c.seen, "draining"));
    assert_non_null(strstr(c.seen, "threads left: 0\n"));
}

static void test_tickets_program_listens_until_sigterm_then_exits_0(
    void **state)
{
    (void)state;
    check_listens_then_stops_cleanly("tickets");
}

static void test_orders_program_listens_until_sigterm_then_exits_0(
    void **state)
{
    (void)state;
    check_listens_then_stops_cleanly("orders");
}

static void test_program_without_a_server_says_why_and_exits_1(void **state)
{
    (void)state;
    spec_pg_server_require(&pg);
    set_good_env("nats://127.0.0.1:1");
    setenv("CONNECT_WAIT_MS", "300", 1);
    child c = start_program_args("tickets", NULL);
    assert_int_equal(wait_exit(&c), 1);
    assert_non_null(strstr(c.seen, "tickets: connect nats://127.0.0.1:1"));
    assert_non_null(strstr(c.seen, "no server at nats://127.0.0.1:1 yet"));
    assert_null(strstr(c.seen, "listening"));
}

/* Deployed together, the service may start before the server: it waits
 * (logging each try) instead of failing at once. */
static void test_program_started_before_the_server_waits_for_it(void **state)
{
    (void)state;
    spec_nats_server own;
    spec_nats_server_spawn(&own);
    spec_nats_server_require(&own);
    spec_pg_server_require(&pg);
    assert_true(spec_nats_server_down(&own));
    set_good_env(own.url);
    setenv("CONNECT_WAIT_MS", "20000", 1);
    child c = start_program_args("orders", NULL);
    struct timespec pause = {0, 700 * 1000000L};
    nanosleep(&pause, NULL);
    bool up = spec_nats_server_up(&own); /* from this thread: see up() */
    bool listening = wait_for_output(&c, "orders: listening");
    kill(c.pid, listening ? SIGTERM : SIGKILL);
    int code = wait_exit(&c);
    spec_nats_server_stop(&own);
    assert_true(up);
    assert_true(listening);
    assert_non_null(strstr(c.seen, "no server at"));
    assert_int_equal(code, 0);
}

/* Alive but dead is worse than dead: once the connection is closed for
 * good the program exits 1, so its supervisor restarts it. */
static void test_program_exits_1_when_the_connection_is_closed_for_good(void **state)
{
    (void)state;
    spec_nats_server own;
    spec_nats_server_spawn(&own);
    spec_nats_server_require(&own);
    spec_pg_server_require(&pg);
    set_good_env(own.url);
    setenv("NATS_RECONNECT_ATTEMPTS", "1", 1);
    child c = start_program_args("tickets", NULL);
    unsetenv("NATS_RECONNECT_ATTEMPTS");
    bool listening = wait_for_output(&c, "tickets: listening");
    spec_nats_server_stop(&own);
    if (!listening || !wait_for_output(&c, "closed for good"))
        kill(c.pid, SIGKILL);
    int code = wait_exit(&c);
    assert_true(listening);
    assert_int_equal(code, 1);
    assert_non_null(strstr(c.seen, "tickets: the NATS connection is closed for good"));
}

/* ---- configuration ------------------------------------------------------- */

static void test_help_lists_the_configuration_and_exits_0(void **state)
{
    (void)state;
    child c = start_program_args("tickets", "--help");
    assert_int_equal(wait_exit(&c), 0);
    assert_non_null(strstr(c.seen, "usage: tickets [--help]"));
    assert_non_null(strstr(c.seen, "DATABASE_URL"));
    assert_non_null(strstr(c.seen, "JWT_KEY"));
    assert_non_null(strstr(c.seen, "NATS_CREDS"));
}

static void test_an_unknown_argument_exits_2(void **state)
{
    (void)state;
    child c = start_program_args("orders", "--port=3");
    assert_int_equal(wait_exit(&c), 2);
    assert_non_null(strstr(c.seen, "unknown argument \"--port=3\""));
}

/* Each bad setting: exit 2 before anything connects, naming the variable
 * and never echoing a secret. */
static void check_bad_config(const char *var, const char *value,
                             const char *needle)
{
    set_good_env(NULL);
    if (value != NULL)
        setenv(var, value, 1);
    else
        unsetenv(var);
    child c = start_program_args("tickets", NULL);
    unsetenv(var); /* set_good_env puts back the required ones */
    assert_int_equal(wait_exit(&c), 2);
    if (strstr(c.seen, needle) == NULL)
        fail_msg("no \"%s\" in:\n%s", needle, c.seen);
    assert_null(strstr(c.seen, "listening"));
    assert_null(strstr(c.seen, "s3cret")); /* secrets stay out of errors */
}

static void test_bad_configuration_says_which_and_exits_2(void **state)
{
    (void)state;
    check_bad_config("JWT_KEY", NULL, "JWT_KEY is required");
    check_bad_config("DATABASE_URL", "", "DATABASE_URL is required");
    check_bad_config("PORT", "http", "PORT must be a whole number");
    check_bad_config("PORT", "70000", "PORT must be a whole number");
    check_bad_config("LK_LOG", "loud", "LK_LOG must be debug");
    check_bad_config("ACK_WAIT_MS", "-5", "ACK_WAIT_MS must be");
    setenv("NATS_TOKEN", "s3cret-token", 1);
    check_bad_config("NATS_USER", "me", "give one of them");
    unsetenv("NATS_TOKEN");
    check_bad_config("NATS_USER", "me", "NATS_USER and NATS_PASSWORD go");
}

/* A good environment but a DATABASE_URL nothing listens at, waited for
 * `wait_ms` (CONNECT_WAIT_MS). */
static void set_unanswered_database(const char *wait_ms)
{
    char url[64];
    snprintf(url, sizeof url, "postgresql://127.0.0.1:%d/none",
             spec_free_port());
    set_good_env(NULL);
    setenv("DATABASE_URL", url, 1);
    setenv("CONNECT_WAIT_MS", wait_ms, 1);
}

static void test_a_database_that_does_not_answer_is_waited_for_then_exit_1(
    void **state)
{
    (void)state;
    set_unanswered_database("600");
    child c = start_program_args("orders", NULL);
    assert_int_equal(wait_exit(&c), 1);
    assert_non_null(strstr(c.seen, "orders: waiting for PostgreSQL"));
    assert_null(strstr(c.seen, "listening"));
}

static void test_sigterm_while_waiting_for_the_database_exits_0(void **state)
{
    (void)state;
    set_unanswered_database("60000");
    child c = start_program_args("tickets", NULL);
    bool waiting = wait_for_output(&c, "waiting for PostgreSQL");
    kill(c.pid, SIGTERM);
    assert_true(waiting);
    assert_int_equal(wait_exit(&c), 0);
}

/* Running: /healthz answers 200 over HTTP while both servers are there. */
static void test_a_running_program_is_healthy_over_http(void **state)
{
    (void)state;
    spec_nats_server_require(&server);
    spec_pg_server_require(&pg);
    set_good_env(NULL);
    const char *port = getenv("PORT");
    int p = atoi(port);
    child c = start_program_args("tickets", NULL);
    bool listening = wait_for_output(&c, "tickets: listening on port");
    bool accepts = listening && spec_port_accepts(p);
    kill(c.pid, SIGTERM);
    assert_int_equal(wait_exit(&c), 0);
    assert_true(listening);
    assert_true(accepts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tickets_program_listens_until_sigterm_then_exits_0),
        cmocka_unit_test(test_orders_program_listens_until_sigterm_then_exits_0),
        cmocka_unit_test(test_program_without_a_server_says_why_and_exits_1),
        cmocka_unit_test(test_program_started_before_the_server_waits_for_it),
        cmocka_unit_test(test_program_exits_1_when_the_connection_is_closed_for_good),
        cmocka_unit_test(test_help_lists_the_configuration_and_exits_0),
        cmocka_unit_test(test_an_unknown_argument_exits_2),
        cmocka_unit_test(test_bad_configuration_says_which_and_exits_2),
        cmocka_unit_test(
            test_a_database_that_does_not_answer_is_waited_for_then_exit_1),
        cmocka_unit_test(test_sigterm_while_waiting_for_the_database_exits_0),
        cmocka_unit_test(test_a_running_program_is_healthy_over_http),
    };
    return cmocka_run_group_tests_name("program", tests, group_setup,
                                       group_teardown);
}
