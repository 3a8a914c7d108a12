/* program_spec.c — the shell both service programs run in
 * (common/program.h): start on a real server, listen until SIGTERM, drain,
 * exit 0; report a start-up failure and exit 1. Each case runs the program
 * in a child process, as a user runs build/bin/tickets. */
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
#include <unistd.h>

#include "common/program.h"
#include "nats_server.h"
#include "orders/orders.h"
#include "tickets/tickets.h"

static spec_nats_server server;

static int group_setup(void **state)
{
    (void)state;
    spec_nats_server_spawn(&server); /* our own: the program uses the
                                        default stream name */
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    spec_nats_server_stop(&server);
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

typedef struct child {
    pid_t pid;
    int out; /* read end: the child's log lines and stderr */
    char seen[8192];
    size_t len;
} child;

static child start_program(const char *name, const char *url)
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
        lk_log_set_handler(log_to_fd, &fd);
        lk_log_set_level(LK_LOG_INFO);
        /* exit(), not _exit(): coverage data and the leak check of the
         * child count too. */
        if (strcmp(name, "tickets") == 0) {
            tickets_service svc;
            exit(ticketing_run_program(name, url, tickets_start, &svc));
        }
        orders_service svc;
        exit(ticketing_run_program(name, url, orders_start, &svc));
    }
    close(fds[1]);
    c.out = fds[0];
    return c;
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
    child c = start_program(name, server.url);
    char listening[64];
    snprintf(listening, sizeof listening, "%s: listening", name);
    if (!wait_for_output(&c, listening))
        kill(c.pid, SIGKILL);
    assert_non_null(strstr(c.seen, listening));

    assert_int_equal(kill(c.pid, SIGTERM), 0);
    assert_int_equal(wait_exit(&c), 0);
    assert_non_null(strstr(c.seen, "draining"));
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
    child c = start_program("tickets", "nats://127.0.0.1:1");
    assert_int_equal(wait_exit(&c), 1);
    assert_non_null(strstr(c.seen, "tickets: connect nats://127.0.0.1:1"));
    assert_null(strstr(c.seen, "listening"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tickets_program_listens_until_sigterm_then_exits_0),
        cmocka_unit_test(test_orders_program_listens_until_sigterm_then_exits_0),
        cmocka_unit_test(test_program_without_a_server_says_why_and_exits_1),
    };
    return cmocka_run_group_tests_name("program", tests, group_setup,
                                       group_teardown);
}
