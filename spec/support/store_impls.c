/* SPDX-License-Identifier: MIT */
/* store_impls.c — the store rows of the store specs (store_impls.h). */
#include "store_impls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listenkit/pg.h"
#include "mem_store.h"
#include "pg_server.h"

#define MAX_STORES 64 /* open PostgreSQL stores at once, per program */
#define MAX_SCHEMAS 4096

struct spec_store_impl {
    const char *name;
    bool pg;
    lk_pg_pushdown pushdown;
};

static const spec_store_impl ROWS[] = {
    {"memory", false, LK_PG_PUSHDOWN_ENV},
    {"postgres", true, LK_PG_PUSHDOWN_ON},
    {"postgres-nopushdown", true, LK_PG_PUSHDOWN_OFF},
};
#define N_ROWS (sizeof ROWS / sizeof ROWS[0])

static spec_pg_server server;
static bool server_tried;

/* Which schema each open PostgreSQL store uses, and every schema made
 * (dropped at exit when the server is shared). */
static struct {
    const lk_store *store;
    char schema[64];
} open_stores[MAX_STORES];
static char (*schemas)[64];
static size_t n_schemas;

static void cleanup(void)
{
    if (server.ok && server.external)
        for (size_t i = 0; i < n_schemas; i++)
            spec_pg_drop_schema(server.url, schemas[i]);
    free(schemas);
    spec_pg_server_stop(&server);
}

static bool pg_available(void)
{
    if (!server_tried) {
        server_tried = true;
        spec_pg_server_start(&server);
        atexit(cleanup);
    }
    return server.ok;
}

const char *spec_store_name(const spec_store_impl *impl)
{
    return impl->name;
}

bool spec_store_durable(const spec_store_impl *impl)
{
    return impl->pg;
}

const char *spec_store_pg_url(const spec_store_impl *impl)
{
    return impl->pg ? server.url : NULL;
}

static int slot_of(const lk_store *store)
{
    for (int i = 0; i < MAX_STORES; i++)
        if (open_stores[i].store == store)
            return i;
    return -1;
}

const char *spec_store_pg_schema(const spec_store_impl *impl,
                                 const lk_store *store)
{
    int i = impl->pg && store != NULL ? slot_of(store) : -1;
    return i >= 0 ? open_stores[i].schema : NULL;
}

static lk_store *pg_connect(const spec_store_impl *impl, const char *schema)
{
    lk_pg_opts opts = {.schema = schema, .pushdown = impl->pushdown};
    lk_store *store = NULL;
    lk_error err;
    int slot = slot_of(NULL);
    if (slot < 0)
        fail_msg("store_impls: more than %d PostgreSQL stores open",
                 MAX_STORES);
    if (lk_pg_store_connect(&store, server.url, &opts, &err) != LK_OK)
        fail_msg("%s: connect: %s", impl->name, err.message);
    open_stores[slot].store = store;
    snprintf(open_stores[slot].schema, sizeof open_stores[slot].schema, "%s",
             schema);
    return store;
}

lk_store *spec_store_open(const spec_store_impl *impl)
{
    if (!impl->pg) {
        lk_store *store = lk_mem_store_new();
        assert_non_null(store);
        return store;
    }
    spec_pg_server_require(&server);
    if (schemas == NULL)
        schemas = calloc(MAX_SCHEMAS, sizeof *schemas);
    if (schemas == NULL || n_schemas == MAX_SCHEMAS)
        fail_msg("store_impls: no room for another schema");
    spec_pg_unique_name(schemas[n_schemas], sizeof schemas[n_schemas],
                        "lkspec");
    return pg_connect(impl, schemas[n_schemas++]);
}

static void forget(const lk_store *store)
{
    int i = slot_of(store);
    if (i >= 0)
        open_stores[i].store = NULL;
}

lk_store *spec_store_open_again(const spec_store_impl *impl,
                                const lk_store *store)
{
    const char *schema = spec_store_pg_schema(impl, store);
    if (schema == NULL)
        fail_msg("%s: only a durable store can be opened again", impl->name);
    char copy[64];
    snprintf(copy, sizeof copy, "%s", schema);
    return pg_connect(impl, copy);
}

void spec_store_close(lk_store *store)
{
    forget(store);
    lk_store_free(store);
}

lk_store *spec_store_reopen(const spec_store_impl *impl, lk_store *store)
{
    lk_store *again = spec_store_open_again(impl, store);
    spec_store_close(store);
    return again;
}

/* A row without its store: fails under CI, else skips loudly. */
static void test_store_not_available(void **state)
{
    (void)state;
    spec_pg_server_require(&server);
    fail_msg("store_impls: the server came up after all");
}

int spec_store_run(const struct CMUnitTest *tests, size_t n)
{
    struct CMUnitTest *all = calloc(N_ROWS * n, sizeof *all);
    char(*names)[160] = calloc(N_ROWS * n, sizeof *names);
    size_t k = 0;
    if (all == NULL || names == NULL) {
        fprintf(stderr, "store_impls: out of memory\n");
        return 1;
    }
    for (size_t r = 0; r < N_ROWS; r++) {
        bool up = !ROWS[r].pg || pg_available();
        for (size_t t = 0; t < n; t++) {
            const char *name = tests[t].name;
            if (strncmp(name, "test_", 5) == 0)
                name += 5;
            if (!ROWS[r].pg && strncmp(name, "durable_", 8) == 0)
                continue;
            snprintf(names[k], sizeof names[k], "%s: %s", ROWS[r].name, name);
            all[k] = tests[t];
            all[k].name = names[k];
            all[k].initial_state = (void *)&ROWS[r];
            if (!up) {
                all[k].test_func = test_store_not_available;
                all[k].setup_func = NULL;
                all[k].teardown_func = NULL;
            }
            k++;
        }
    }
    int rc = _cmocka_run_group_tests("store", all, k, NULL, NULL);
    free(all);
    free(names);
    return rc;
}
