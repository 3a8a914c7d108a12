/* SPDX-License-Identifier: MIT */
/*
 * pg_pool_spec.c — the connection pool a PostgreSQL store shares between
 * threads (framework/pg/pg_pool.c), on a real server: when every
 * connection stays busy a call waits its deadline and then says so
 * (LK_ERR_TIMEOUT, naming the pool's size and the wait) instead of
 * blocking; a connection given back is reused; and a call that ended in
 * LK_ERR_IO closes the idle connections too (the server likely went away),
 * so the next call connects afresh; a connection still busy with a command
 * refuses the next one (framework/pg/pg_conn.c) as LK_ERR_IO.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "../../framework/pg/pg_private.h"
#include "listenkit.h"
#include "pg_server.h"

static spec_pg_server srv;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void open_pool(pg_config *cfg, pg_pool *pool, int max)
{
    lk_error e;
    spec_pg_server_require(&srv);
    if (pg_config_init(cfg, srv.url, 5000, 0, &e) != LK_OK)
        fail_msg("config: %s", e.message);
    cfg->deadline_ms = 200; /* how long a take waits for a busy pool */
    assert_int_equal(pg_pool_init(pool, cfg, max, &e), LK_OK);
}

static void test_a_busy_pool_times_out_after_its_deadline_and_reuses_a_given_one(
    void **state)
{
    (void)state;
    pg_config cfg;
    pg_pool pool;
    pg_lease a, b;
    lk_error e;
    open_pool(&cfg, &pool, 1);
    assert_int_equal(pg_pool_take(&pool, &a, &e), LK_OK);
    assert_int_equal(PQstatus(a.conn), CONNECTION_OK);

    int64_t t0 = now_ms();
    assert_int_equal(pg_pool_take(&pool, &b, &e), LK_ERR_TIMEOUT);
    int64_t waited = now_ms() - t0;
    assert_null(b.conn);
    assert_true(waited >= 150 && waited < 5000);
    assert_string_equal(e.message,
                        "pg: all 1 connections stayed busy for 200 ms");

    PGconn *first = a.conn;
    pg_pool_give(&pool, &a, LK_OK);
    assert_null(a.conn);
    assert_int_equal(pg_pool_take(&pool, &b, &e), LK_OK);
    assert_ptr_equal(b.conn, first); /* the idle one, not a new one */
    pg_pool_give(&pool, &b, LK_OK);
    assert_int_equal(pool.n_idle, 1);
    pg_pool_destroy(&pool);
    pg_config_free(&cfg);
}

static void test_an_io_failure_closes_the_idle_connections_and_the_next_take_reconnects(
    void **state)
{
    (void)state;
    pg_config cfg;
    pg_pool pool;
    pg_lease a, b, c;
    lk_error e;
    open_pool(&cfg, &pool, 2);
    assert_int_equal(pg_pool_take(&pool, &a, &e), LK_OK);
    assert_int_equal(pg_pool_take(&pool, &b, &e), LK_OK);
    assert_int_equal(pool.open, 2);
    pg_pool_give(&pool, &a, LK_OK);
    assert_int_equal(pool.n_idle, 1);

    pg_pool_give(&pool, &b, LK_ERR_IO);
    assert_int_equal(pool.n_idle, 0);
    assert_int_equal(pool.open, 0);

    assert_int_equal(pg_pool_take(&pool, &c, &e), LK_OK);
    assert_int_equal(PQstatus(c.conn), CONNECTION_OK);
    assert_int_equal(pg_run(&cfg, c.conn, "SELECT 1", NULL, NULL, &e), LK_OK);
    pg_pool_give(&pool, &c, LK_OK);
    /* giving back an empty lease changes nothing */
    pg_pool_give(&pool, &c, LK_ERR_IO);
    assert_int_equal(pool.n_idle, 1);
    pg_pool_destroy(&pool);
    pg_config_free(&cfg);
}

/* libpq takes one command at a time: a second one is refused before
 * anything is sent, as LK_ERR_IO with libpq's reason, and the pool then
 * closes that connection. */
static void test_a_connection_busy_with_a_command_refuses_the_next_as_io(
    void **state)
{
    (void)state;
    pg_config cfg;
    pg_pool pool;
    pg_lease a;
    lk_error e;
    open_pool(&cfg, &pool, 1);
    assert_int_equal(pg_pool_take(&pool, &a, &e), LK_OK);
    assert_true(PQsendQuery(a.conn, "SELECT pg_sleep(0.05)"));
    lk_status s = pg_run(&cfg, a.conn, "SELECT 1", NULL, NULL, &e);
    assert_int_equal(s, LK_ERR_IO);
    assert_true(strncmp(e.message, "pg ", 3) == 0);
    assert_non_null(strstr(e.message, ": cannot send: "));
    assert_non_null(strstr(e.message, "another command is already in progress"));
    pg_pool_give(&pool, &a, s);
    assert_int_equal(pool.open, 0);
    assert_int_equal(pool.n_idle, 0);
    pg_pool_destroy(&pool);
    pg_config_free(&cfg);
}

int main(void)
{
    spec_pg_server_spawn(&srv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_a_busy_pool_times_out_after_its_deadline_and_reuses_a_given_one),
        cmocka_unit_test(
            test_an_io_failure_closes_the_idle_connections_and_the_next_take_reconnects),
        cmocka_unit_test(
            test_a_connection_busy_with_a_command_refuses_the_next_as_io),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    spec_pg_server_stop(&srv);
    return rc;
}
