/* SPDX-License-Identifier: MIT */
/* pg_failure_spec.c — the PostgreSQL store when the server misbehaves:
 * a server that goes away gives LK_ERR_IO naming host and port and the
 * next call reconnects (the data still there); a statement stuck behind a
 * lock ends at the statement timeout (LK_ERR_TIMEOUT); a server process
 * that stops answering altogether does too, a second later, since the
 * client keeps its own deadline — no call blocks forever. These specs stop
 * and start the server, so they always spawn one of their own. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "listenkit.h"
#include "listenkit/pg.h"
#include "pg_server.h"
#include "spec_proc.h"
#include "store_spec.h"

static spec_pg_server srv;

static lk_store *connect_store(int64_t statement_timeout_ms, int pool)
{
    lk_pg_opts opts = {.schema = "failures",
                       .statement_timeout_ms = statement_timeout_ms,
                       .pool_size = pool};
    lk_store *store = NULL;
    lk_error err;
    if (lk_pg_store_connect(&store, srv.url, &opts, &err) != LK_OK)
        fail_msg("connect: %s", err.message);
    return store;
}

static void test_a_server_that_goes_away_is_io_and_the_next_call_reconnects(
    void **state)
{
    (void)state;
    spec_pg_server_require(&srv);
    lk_store *store = connect_store(0, 4);
    lk_collection *c = store_spec_collection(store, "gone", NULL);
    bson_destroy(store_spec_insert(c, "{\"n\": 1}"));
    char where[32];
    snprintf(where, sizeof where, "127.0.0.1:%d", srv.port);

    spec_pg_server_halt(&srv);
    int64_t n = -1;
    lk_error err;
    bson_t *doc = store_spec_doc("{\"n\": 2}");
    store_spec_assert_refused(lk_collection_insert(c, doc, NULL, &err),
                              LK_ERR_IO, &err, where);
    /* while it is down, every call says so; none hangs */
    store_spec_assert_refused(lk_collection_count(c, NULL, &n, &err),
                              LK_ERR_IO, &err, where);

    assert_true(spec_pg_server_restart(&srv));
    assert_int_equal(lk_collection_insert(c, doc, NULL, &err), LK_OK);
    assert_string_equal(store_spec_find(c, "{}", "n", 0, 0), "1 2");
    bson_destroy(doc);
    lk_store_free(store);
}

static void test_a_statement_stuck_behind_a_lock_times_out(void **state)
{
    (void)state;
    spec_pg_server_require(&srv);
    lk_store *store = connect_store(300, 4);
    lk_collection *c = store_spec_collection(store, "locked", NULL);
    bson_destroy(store_spec_insert(c, "{\"n\": 1}"));

    /* another session holds the table */
    PGconn *other = PQconnectdb(srv.url);
    assert_int_equal(PQstatus(other), CONNECTION_OK);
    PQclear(PQexec(other, "BEGIN"));
    PGresult *r = PQexec(other, "LOCK TABLE failures.locked IN ACCESS "
                                "EXCLUSIVE MODE");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);

    int64_t n = -1, started = spec_now_ms();
    lk_error err;
    store_spec_assert_refused(lk_collection_count(c, NULL, &n, &err),
                              LK_ERR_TIMEOUT, &err, "57014");
    int64_t took = spec_now_ms() - started;
    if (took < 250 || took > 5000)
        fail_msg("timed out after %lld ms, want about 300", (long long)took);

    PQclear(PQexec(other, "ROLLBACK"));
    PQfinish(other);
    assert_int_equal(lk_collection_count(c, NULL, &n, &err), LK_OK);
    assert_int_equal(n, 1);
    lk_store_free(store);
}

/* The pid of the server process serving the store's one connection. */
static long backend_pid(void)
{
    PGconn *conn = PQconnectdb(srv.url);
    long pid = -1;
    PGresult *r = PQexec(conn, "SELECT pid FROM pg_stat_activity WHERE "
                               "application_name = 'listenkit'");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        pid = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(conn);
    return pid;
}

static void test_a_server_that_stops_answering_times_out_on_the_client(
    void **state)
{
    (void)state;
    spec_pg_server_require(&srv);
    lk_store *store = connect_store(300, 1);
    lk_collection *c = store_spec_collection(store, "frozen", NULL);
    bson_destroy(store_spec_insert(c, "{\"n\": 1}"));
    long pid = backend_pid();
    assert_true(pid > 0);

    /* frozen: it cannot even run its own statement timeout */
    assert_int_equal(kill((pid_t)pid, SIGSTOP), 0);
    int64_t n = -1, started = spec_now_ms();
    lk_error err;
    lk_status s = lk_collection_count(c, NULL, &n, &err);
    int64_t took = spec_now_ms() - started;
    kill((pid_t)pid, SIGCONT);
    store_spec_assert_refused(s, LK_ERR_TIMEOUT, &err, "did not answer");
    if (took < 1000 || took > 5000)
        fail_msg("gave up after %lld ms, want about 1300", (long long)took);

    /* the frozen connection was dropped: the next call has a new one */
    assert_int_equal(lk_collection_count(c, NULL, &n, &err), LK_OK);
    assert_int_equal(n, 1);
    lk_store_free(store);
}

int main(void)
{
    spec_pg_server_spawn(&srv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_a_server_that_goes_away_is_io_and_the_next_call_reconnects),
        cmocka_unit_test(test_a_statement_stuck_behind_a_lock_times_out),
        cmocka_unit_test(
            test_a_server_that_stops_answering_times_out_on_the_client),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    spec_pg_server_stop(&srv);
    return rc;
}
