/* SPDX-License-Identifier: MIT */
/* pg_store_spec.c — what the PostgreSQL store adds to the contract the
 * store specs hold it to: where it connects (a URL, key=value, NULL for
 * $DATABASE_URL, then libpq's PG* defaults) and that its errors name host
 * and port but never a password; its options refused by name; filters
 * served by an index when pushed down (EXPLAIN), scanned when pushdown is
 * off (option or LK_PG_PUSHDOWN=0); and rows changed by hand reported, not
 * handed out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <pthread.h>

#include "listenkit.h"
#include "listenkit/pg.h"
#include "mem_store.h"
#include "pg_server.h"
#include "store_spec.h"

static spec_pg_server srv;

typedef struct fixture {
    char schema[64];
    lk_store *store;
} fixture;

static lk_store *connect_store(const char *conninfo, const char *schema,
                               lk_pg_pushdown pushdown)
{
    lk_pg_opts opts = {.schema = schema, .pushdown = pushdown};
    lk_store *store = NULL;
    lk_error err;
    if (lk_pg_store_connect(&store, conninfo, &opts, &err) != LK_OK)
        fail_msg("connect: %s", err.message);
    return store;
}

static int setup(void **state)
{
    spec_pg_server_require(&srv);
    fixture *f = test_calloc(1, sizeof *f);
    spec_pg_unique_name(f->schema, sizeof f->schema, "pgspec");
    f->store = connect_store(srv.url, f->schema, LK_PG_PUSHDOWN_ON);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    lk_store_free(f->store);
    spec_pg_drop_schema(srv.url, f->schema);
    test_free(f);
    return 0;
}

static void assert_no_secret(const lk_error *err, const char *secret)
{
    if (strstr(err->message, secret) != NULL)
        fail_msg("the message shows the password: %s", err->message);
}

/* ---- connecting --------------------------------------------------------------- */

static void test_a_refused_connection_names_host_and_port_not_the_password(
    void **state)
{
    (void)state;
    lk_store *store = (lk_store *)1;
    lk_error err;
    /* port 1: nothing listens there */
    assert_int_equal(lk_pg_store_connect(&store,
                                         "postgresql://bob:s3cretpw@127.0.0.1:"
                                         "1/db",
                                         NULL, &err),
                     LK_ERR_IO);
    assert_null(store);
    assert_non_null(strstr(err.message, "127.0.0.1:1"));
    assert_no_secret(&err, "s3cretpw");
    assert_int_equal(
        lk_pg_store_connect(&store,
                            "host=127.0.0.1 port=1 password=s3cretpw "
                            "user=bob",
                            NULL, &err),
        LK_ERR_IO);
    assert_non_null(strstr(err.message, "127.0.0.1:1"));
    assert_no_secret(&err, "s3cretpw");
}

static void test_a_malformed_conninfo_is_invalid_and_not_echoed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "host=x password=s3cretpw junk",
        "postgresql://bob:s3cretpw@127.0.0.1:1/db?nosuchoption=s3cretpw",
        "host='s3cretpw",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lk_store *store = NULL;
        lk_error err;
        store_spec_assert_refused(lk_pg_store_connect(&store, bad[i], NULL,
                                                      &err),
                                  LK_ERR_INVALID, &err, "connection string");
        assert_no_secret(&err, "s3cretpw");
        assert_null(store);
    }
}

static void test_null_conninfo_is_database_url_then_libpq_defaults(
    void **state)
{
    spec_pg_server_require(&srv);
    (void)state;
    char schema[64];
    lk_error err;
    lk_store *store = NULL;
    spec_pg_unique_name(schema, sizeof schema, "pgspec");
    lk_pg_opts opts = {.schema = schema};

    setenv("DATABASE_URL", "postgresql://127.0.0.1:1/nowhere", 1);
    assert_int_equal(lk_pg_store_connect(&store, NULL, &opts, &err),
                     LK_ERR_IO);
    assert_non_null(strstr(err.message, "127.0.0.1:1"));
    setenv("DATABASE_URL", srv.url, 1);
    assert_int_equal(lk_pg_store_connect(&store, NULL, &opts, &err), LK_OK);
    lk_store_free(store);

    /* without DATABASE_URL: PGHOST, PGPORT... as libpq reads them */
    unsetenv("DATABASE_URL");
    char *why = NULL;
    PQconninfoOption *parsed = PQconninfoParse(srv.url, &why);
    assert_non_null(parsed);
    static const struct {
        const char *keyword, *env;
    } vars[] = {{"host", "PGHOST"}, {"port", "PGPORT"}, {"user", "PGUSER"},
                {"dbname", "PGDATABASE"}, {"password", "PGPASSWORD"}};
    for (PQconninfoOption *o = parsed; o->keyword != NULL; o++)
        for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
            if (strcmp(o->keyword, vars[i].keyword) == 0 && o->val != NULL)
                setenv(vars[i].env, o->val, 1);
    PQconninfoFree(parsed);
    assert_int_equal(lk_pg_store_connect(&store, NULL, &opts, &err), LK_OK);
    lk_store_free(store);
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i].env);
    spec_pg_drop_schema(srv.url, schema);
}

/* `keyword` of srv.url as libpq parses it ("" when unset). */
static void url_part(const char *keyword, char *out, size_t size)
{
    char *why = NULL;
    PQconninfoOption *parsed = PQconninfoParse(srv.url, &why);
    assert_non_null(parsed);
    out[0] = '\0';
    for (PQconninfoOption *o = parsed; o->keyword != NULL; o++)
        if (strcmp(o->keyword, keyword) == 0 && o->val != NULL)
            snprintf(out, size, "%s", o->val);
    PQconninfoFree(parsed);
}

static void test_a_password_the_server_repeats_is_masked(void **state)
{
    (void)state;
    spec_pg_server_require(&srv);
    char host[256], port[16], conninfo[600];
    lk_store *store = NULL;
    lk_error err;
    url_part("host", host, sizeof host);
    url_part("port", port, sizeof port);
    /* the server names the role in its refusal: here, the password too */
    snprintf(conninfo, sizeof conninfo,
             "host=%s port=%s dbname=postgres user=s3cretpw password=s3cretpw",
             host, port);
    assert_int_equal(lk_pg_store_connect(&store, conninfo, NULL, &err),
                     LK_ERR_IO);
    assert_no_secret(&err, "s3cretpw");
    assert_non_null(strstr(err.message, "***"));
    /* the same when the password comes from PGPASSWORD */
    setenv("PGPASSWORD", "s3cretpw", 1);
    snprintf(conninfo, sizeof conninfo,
             "host=%s port=%s dbname=postgres user=s3cretpw", host, port);
    assert_int_equal(lk_pg_store_connect(&store, conninfo, NULL, &err),
                     LK_ERR_IO);
    unsetenv("PGPASSWORD");
    assert_no_secret(&err, "s3cretpw");
    assert_null(store);
}

static void test_bad_options_are_refused_by_name(void **state)
{
    (void)state;
    static const struct {
        lk_pg_opts opts;
        const char *names;
    } bad[] = {
        {{.schema = "no-dashes"}, "schema"},
        {{.schema = ""}, "schema"},
        {{.pool_size = -1}, "pool_size"},
        {{.pool_size = 65}, "pool_size"},
        {{.statement_timeout_ms = -5}, "timeouts"},
        {{.connect_timeout_ms = -5}, "timeouts"},
        {{.pushdown = (lk_pg_pushdown)9}, "pushdown"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lk_store *store = NULL;
        lk_error err;
        store_spec_assert_refused(
            lk_pg_store_connect(&store, "host=127.0.0.1 port=1", &bad[i].opts,
                                &err),
            LK_ERR_INVALID, &err, bad[i].names);
        assert_null(store);
    }
    lk_error err;
    store_spec_assert_refused(lk_pg_store_connect(NULL, NULL, NULL, &err),
                              LK_ERR_INVALID, &err, "out");
}

static void test_the_default_schema_is_the_connections_current_one(
    void **state)
{
    fixture *f = *state;
    char url[700];
    /* search_path pointed at our schema: opts.schema NULL lands there */
    snprintf(url, sizeof url, "%s%soptions=-csearch_path%%3D%s", srv.url,
             strchr(srv.url, '?') != NULL ? "&" : "?", f->schema);
    lk_store *store = connect_store(url, NULL, LK_PG_PUSHDOWN_ON);
    lk_collection *c = store_spec_collection(store, "defaults", NULL);
    bson_destroy(store_spec_insert(c, "{\"n\": 1}"));
    lk_store_free(store);
    lk_collection *same = store_spec_collection(f->store, "defaults", NULL);
    assert_int_equal(store_spec_count(same, "{}"), 1);
    /* and a search_path naming no schema that exists is refused */
    snprintf(url, sizeof url, "%s%soptions=-csearch_path%%3Dnope_nope",
             srv.url, strchr(srv.url, '?') != NULL ? "&" : "?");
    lk_pg_opts opts = {0};
    lk_error err;
    store = NULL;
    store_spec_assert_refused(lk_pg_store_connect(&store, url, &opts, &err),
                              LK_ERR_INVALID, &err, "schema");
}

/* ---- pushdown ------------------------------------------------------------------ */

static char *explain(lk_collection *c, const char *filter_json)
{
    bson_t *filter = store_spec_doc(filter_json);
    char *plan = NULL;
    lk_error err;
    if (lk_pg_collection_explain(c, filter, &plan, &err) != LK_OK)
        fail_msg("explain %s: %s", filter_json, err.message);
    bson_destroy(filter);
    return plan;
}

static void assert_plan(lk_collection *c, const char *filter, const char *want)
{
    char *plan = explain(c, filter);
    if (strstr(plan, want) == NULL)
        fail_msg("%s: plan lacks \"%s\":\n%s", filter, want, plan);
    lk_free(plan);
}

/* Every row read, in insertion order (a Seq Scan, or the seq index
 * without a condition): nothing of the filter went to SQL. */
static void assert_full_scan(lk_collection *c, const char *filter)
{
    char *plan = explain(c, filter);
    if (strstr(plan, "Index Cond") != NULL || strstr(plan, "Filter") != NULL)
        fail_msg("%s: expected a full scan, got:\n%s", filter, plan);
    lk_free(plan);
}

/* 300 users, analyzed, so the planner's choice reflects the indexes. */
static lk_collection *users(lk_store *store, const char *schema)
{
    static const char *const unique[] = {"email", "profile.handle", NULL};
    static const lk_collection_opts opts = {.unique = unique};
    lk_collection *c = store_spec_collection(store, "users", &opts);
    char sql[160];
    for (int i = 0; i < 300; i++) {
        char json[128];
        snprintf(json, sizeof json,
                 "{\"_id\": {\"$oid\": \"%024x\"}, \"email\": \"u%d@x\", "
                 "\"n\": %d}",
                 i + 1, i, i % 7);
        bson_destroy(store_spec_insert(c, json));
    }
    snprintf(sql, sizeof sql, "ANALYZE \"%s\".users", schema);
    assert_true(spec_pg_exec(srv.url, sql));
    return c;
}

static void test_id_and_unique_equality_are_index_scans(void **state)
{
    fixture *f = *state;
    lk_collection *c = users(f->store, f->schema);
    assert_plan(c, "{\"_id\": {\"$oid\": \"00000000000000000000002a\"}}",
                "Index Scan using users_pkey");
    assert_plan(c,
                "{\"_id\": {\"$eq\": {\"$oid\": \"00000000000000000000002a\"}}, "
                "\"n\": 1}",
                "Index Scan using users_pkey");
    assert_plan(c, "{\"email\": \"u42@x\"}", "Index Scan using users__u0");
    assert_plan(c, "{\"email\": {\"$eq\": \"u42@x\"}, \"n\": {\"$gt\": 0}}",
                "users__u0");
    /* what SQL cannot answer exactly stays a scan, re-checked row by row */
    assert_full_scan(c, "{\"n\": 3}");
    assert_full_scan(c, "{\"profile.handle\": \"h\"}");
    assert_full_scan(c, "{\"email\": {\"$in\": [\"u1@x\"]}}");
    assert_full_scan(c, "{\"email\": null}");
    /* and the answers are the evaluator's */
    assert_int_equal(store_spec_count(c, "{\"email\": \"u42@x\"}"), 1);
    assert_int_equal(store_spec_count(c, "{\"email\": \"u42@x\", \"n\": 9}"),
                     0);
    assert_string_equal(
        store_spec_find(c,
                        "{\"_id\": {\"$oid\": \"00000000000000000000002b\"}}",
                        "email", 0, 0),
        "u42@x");
}

static void test_pushdown_off_scans_by_option_or_environment(void **state)
{
    fixture *f = *state;
    users(f->store, f->schema);
    lk_store *off = connect_store(srv.url, f->schema, LK_PG_PUSHDOWN_OFF);
    static const char *const unique[] = {"email", "profile.handle", NULL};
    static const lk_collection_opts opts = {.unique = unique};
    lk_collection *c = store_spec_collection(off, "users", &opts);
    assert_full_scan(c, "{\"email\": \"u42@x\"}");
    assert_int_equal(store_spec_count(c, "{\"email\": \"u42@x\"}"), 1);
    lk_store_free(off);

    setenv("LK_PG_PUSHDOWN", "0", 1);
    lk_store *env = connect_store(srv.url, f->schema, LK_PG_PUSHDOWN_ENV);
    unsetenv("LK_PG_PUSHDOWN");
    c = store_spec_collection(env, "users", &opts);
    assert_full_scan(c, "{\"_id\": {\"$oid\": \"00000000000000000000002a\"}}");
    lk_store_free(env);
}

static void test_explain_refuses_bad_filters_and_other_stores(void **state)
{
    fixture *f = *state;
    lk_collection *c = store_spec_collection(f->store, "plain", NULL);
    bson_t *bad = store_spec_doc("{\"n\": {\"$where\": 1}}");
    char *plan = (char *)1;
    lk_error err;
    store_spec_assert_refused(lk_pg_collection_explain(c, bad, &plan, &err),
                              LK_ERR_INVALID, &err, "$where");
    assert_null(plan);
    lk_store *mem = lk_mem_store_new();
    lk_collection *m = store_spec_collection(mem, "plain", NULL);
    store_spec_assert_refused(lk_pg_collection_explain(m, NULL, &plan, &err),
                              LK_ERR_INVALID, &err, "PostgreSQL");
    store_spec_assert_refused(lk_pg_collection_explain(c, NULL, NULL, &err),
                              LK_ERR_INVALID, &err, "PostgreSQL");
    lk_store_free(mem);
    bson_destroy(bad);
}

/* ---- the pool ----------------------------------------------------------------- */

typedef struct counter {
    lk_collection *coll;
    int ok;
} counter;

static void *count_often(void *arg)
{
    counter *k = arg;
    for (int i = 0; i < 25; i++) {
        int64_t n = -1;
        if (lk_collection_count(k->coll, NULL, &n, NULL) == LK_OK && n == 1)
            k->ok++;
    }
    return NULL;
}

static void test_a_pool_of_one_connection_serves_many_threads_in_turn(
    void **state)
{
    fixture *f = *state;
    lk_pg_opts opts = {.schema = f->schema, .pool_size = 1};
    lk_store *store = NULL;
    assert_int_equal(lk_pg_store_connect(&store, srv.url, &opts, NULL), LK_OK);
    lk_collection *c = store_spec_collection(store, "pooled", NULL);
    bson_destroy(store_spec_insert(c, "{\"n\": 1}"));
    pthread_t threads[4];
    counter counters[4];
    for (int t = 0; t < 4; t++) {
        counters[t] = (counter){.coll = c};
        assert_int_equal(
            pthread_create(&threads[t], NULL, count_often, &counters[t]), 0);
    }
    for (int t = 0; t < 4; t++)
        pthread_join(threads[t], NULL);
    /* every call waited its turn for the one connection, none failed */
    for (int t = 0; t < 4; t++)
        assert_int_equal(counters[t].ok, 25);
    lk_store_free(store);
}

/* ---- services starting at once ---------------------------------------------------- */

typedef struct racer {
    const char *schema;
    lk_status status;
    char message[256];
} racer;

static void *connect_store_thread(void *arg)
{
    racer *r = arg;
    lk_pg_opts opts = {.schema = r->schema, .pool_size = 1};
    lk_store *store = NULL;
    lk_error err = {0};
    r->status = lk_pg_store_connect(&store, srv.url, &opts, &err);
    snprintf(r->message, sizeof r->message, "%s", err.message);
    lk_store_free(store);
    return NULL;
}

static void exec_ok(PGconn *conn, const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(conn));
    PQclear(r);
}

/* Several programs (tickets and four orders replicas) start against one
 * new schema at the same moment. Here the race is made certain: another
 * store (played by hand, with the lock a store takes) is half-way through
 * creating the schema when this one connects. CREATE SCHEMA IF NOT EXISTS
 * alone would then fail on the catalog's unique index once the other
 * commits; the store must wait for it and use the schema. */
static void test_a_store_connecting_while_another_creates_the_schema_succeeds(
    void **state)
{
    (void)state;
    spec_pg_server_require(&srv);
    char schema[64], sql[256];
    spec_pg_unique_name(schema, sizeof schema, "pgrace");
    PGconn *other = PQconnectdb(srv.url);
    assert_int_equal(PQstatus(other), CONNECTION_OK);
    exec_ok(other, "BEGIN");
    snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(hashtext('%s'))",
             schema);
    exec_ok(other, sql);
    snprintf(sql, sizeof sql, "CREATE SCHEMA \"%s\"", schema);
    exec_ok(other, sql);

    racer r = {.schema = schema};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, connect_store_thread, &r),
                     0);
    struct timespec pause = {.tv_nsec = 300 * 1000 * 1000};
    nanosleep(&pause, NULL); /* the store is now waiting on the other */
    exec_ok(other, "COMMIT");
    pthread_join(thread, NULL);
    PQfinish(other);
    spec_pg_drop_schema(srv.url, schema);
    if (r.status != LK_OK)
        fail_msg("connect while another store creates the schema: %s",
                 r.message);
}

/* ---- rows changed under the store ------------------------------------------------ */

static void test_a_row_that_is_not_bson_is_an_error_not_a_document(
    void **state)
{
    fixture *f = *state;
    lk_collection *c = store_spec_collection(f->store, "tampered", NULL);
    char sql[200];
    bson_destroy(store_spec_insert(c, "{\"n\": 1}"));
    snprintf(sql, sizeof sql, "UPDATE \"%s\".tampered SET doc = '\\x0102'",
             f->schema);
    assert_true(spec_pg_exec(srv.url, sql));
    lk_cursor *cur = NULL;
    lk_error err;
    store_spec_assert_refused(lk_collection_find(c, NULL, NULL, &cur, &err),
                              LK_ERR_IO, &err, "not BSON");
    assert_null(cur);
}

int main(void)
{
    spec_pg_server_start(&srv);
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        cmocka_unit_test(
            test_a_refused_connection_names_host_and_port_not_the_password),
        cmocka_unit_test(test_a_malformed_conninfo_is_invalid_and_not_echoed),
        cmocka_unit_test(
            test_null_conninfo_is_database_url_then_libpq_defaults),
        cmocka_unit_test(test_a_password_the_server_repeats_is_masked),
        cmocka_unit_test(test_bad_options_are_refused_by_name),
        T(test_the_default_schema_is_the_connections_current_one),
        T(test_id_and_unique_equality_are_index_scans),
        T(test_pushdown_off_scans_by_option_or_environment),
        T(test_explain_refuses_bad_filters_and_other_stores),
        T(test_a_pool_of_one_connection_serves_many_threads_in_turn),
        T(test_a_row_that_is_not_bson_is_an_error_not_a_document),
        cmocka_unit_test(
            test_a_store_connecting_while_another_creates_the_schema_succeeds),
#undef T
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    spec_pg_server_stop(&srv);
    return rc;
}
