/* SPDX-License-Identifier: MIT */
/* main.c — the `bench` program: options, then each benchmark, then output. */
#include "bench.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "listenkit/log.h"
#include "nats_server.h"

static const char *const names[BENCH_COUNT_] = {"dispatch", "store", "broker",
                                                "nats", "suite", "pg"};

const char *bench_name(int which)
{
    return which >= 0 && which < BENCH_COUNT_ ? names[which] : "?";
}

typedef struct size_preset {
    const char *name;
    size_t n[BENCH_COUNT_];
    size_t store_scale_max;
    size_t pg_scale_max;
    size_t nats_bulk;
} size_preset;

/* Defaults finish in well under 2 minutes on 2 cores; small is a smoke run. */
static const size_preset presets[] = {
    {"small", {2000, 2000, 2000, 200, 3, 300}, 10000, 10000, 5000},
    {"default", {100000, 100000, 50000, 3000, 20, 3000}, 1000000, 100000,
     100000},
    {"large", {1000000, 1000000, 500000, 50000, 200, 20000}, 1000000,
     1000000, 1000000},
};

static void usage(FILE *out)
{
    fprintf(out,
"usage: bench [options]\n"
"\n"
"Measures listenkit next to the raw libraries it wraps. Every benchmark runs\n"
"its baseline in the same process on the same data and prints the ratio\n"
"listenkit / baseline (median, min and max over the runs).\n"
"\n"
"  dispatch  ticket:updated payloads through lk_listener_dispatch (decode,\n"
"            validate, a listener reading every field, ack of a fake\n"
"            message) vs jansson parsing and reading the same fields by hand\n"
"  store     insert, find by _id and versioned save in the memory store vs\n"
"            an open-addressing hash map of bson_t; lookup cost from N=10^3\n"
"            to 10^6\n"
"  broker    publish -> deliver -> ack through the fake broker, 4 queue\n"
"            members, vs a ring buffer feeding 4 round-robin consumers\n"
"  nats      events published and acked through an lk_listener on a real\n"
"            JetStream server vs libnats js_Publish/js_QueueSubscribe;\n"
"            a backlog consumed by 4 listeners vs 4 js_Subscribe queue\n"
"            consumers; async publish (lk_batch) vs js_PublishAsync\n"
"  suite     ticketing behaviours through the doubles vs the real server\n"
"  pg        insert, find by _id, versioned save and a filtered find in the\n"
"            PostgreSQL store vs raw libpq issuing the same statements;\n"
"            lookup cost from N=10^3 to 10^5 (a throwaway server unless\n"
"            LK_PG_URL is set)\n"
"\n"
"options:\n"
"  --runs R            measured runs per figure (default 5; a warm-up comes\n"
"                      first)\n"
"  --size S            small | default | large: the sizes of every benchmark\n"
"  --n NAME=N          the size of one benchmark (repeatable), e.g.\n"
"                      --n dispatch=500000; NAME=store-scale sets the largest\n"
"                      N of the lookup series, NAME=pg-scale the PostgreSQL\n"
"                      one, NAME=nats-bulk the N of the nats consume and\n"
"                      async publish rows\n"
"  --only NAME[,NAME]  run only these benchmarks\n"
"  --json              print one JSON object instead of the table\n"
"  --nats-url URL      use this JetStream server instead of starting one\n"
"  --quiet             no progress lines on stderr\n"
"  --help              this text\n");
}

static int bench_index(const char *name, size_t len)
{
    for (int i = 0; i < BENCH_COUNT_; i++)
        if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0)
            return i;
    return -1;
}

static bool parse_size_t(const char *text, size_t *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end); /* accepts 1e6 */
    if (errno != 0 || end == text || *end != '\0' || v < 1 || v > 1e9 ||
        v != (double)(size_t)v)
        return false;
    *out = (size_t)v;
    return true;
}

static bool parse_only(const char *text, unsigned *mask)
{
    const char *p = text;
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        int i = bench_index(p, len);
        if (i < 0) {
            fprintf(stderr, "bench: unknown benchmark \"%.*s\" in --only\n",
                    (int)len, p);
            return false;
        }
        *mask |= 1u << i;
        p += len;
        if (*p == ',')
            p++;
    }
    return *mask != 0;
}

static bool parse_n(const char *text, bench_opts *opts)
{
    const char *eq = strchr(text, '=');
    size_t v = 0;
    if (eq == NULL || !parse_size_t(eq + 1, &v)) {
        fprintf(stderr, "bench: --n wants NAME=N with N >= 1, got \"%s\"\n",
                text);
        return false;
    }
    if ((size_t)(eq - text) == strlen("store-scale") &&
        strncmp(text, "store-scale", (size_t)(eq - text)) == 0) {
        opts->store_scale_max = v;
        return true;
    }
    if ((size_t)(eq - text) == strlen("pg-scale") &&
        strncmp(text, "pg-scale", (size_t)(eq - text)) == 0) {
        opts->pg_scale_max = v;
        return true;
    }
    if ((size_t)(eq - text) == strlen("nats-bulk") &&
        strncmp(text, "nats-bulk", (size_t)(eq - text)) == 0) {
        opts->nats_bulk = v;
        return true;
    }
    int i = bench_index(text, (size_t)(eq - text));
    if (i < 0) {
        fprintf(stderr, "bench: unknown benchmark in --n %s\n", text);
        return false;
    }
    opts->n[i] = v;
    return true;
}

static const size_preset *find_preset(const char *name)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (strcmp(presets[i].name, name) == 0)
            return &presets[i];
    return NULL;
}

/* Returns 0 to go on, 1 for --help, 2 on a usage error. */
static int parse_args(int argc, char **argv, bench_opts *opts)
{
    /* Sizes first, so --n overrides --size whatever the order. */
    const size_preset *preset = find_preset("default");
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            preset = find_preset(argv[i + 1]);
            if (preset == NULL) {
                fprintf(stderr, "bench: --size wants small, default or "
                                "large, got \"%s\"\n", argv[i + 1]);
                return 2;
            }
        }
    memcpy(opts->n, preset->n, sizeof opts->n);
    opts->store_scale_max = preset->store_scale_max;
    opts->pg_scale_max = preset->pg_scale_max;
    opts->nats_bulk = preset->nats_bulk;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return 1;
        if (strcmp(a, "--json") == 0)
            opts->json = true;
        else if (strcmp(a, "--quiet") == 0)
            opts->quiet = true;
        else if (next == NULL && (strcmp(a, "--runs") == 0 ||
                                  strcmp(a, "--size") == 0 ||
                                  strcmp(a, "--n") == 0 ||
                                  strcmp(a, "--only") == 0 ||
                                  strcmp(a, "--nats-url") == 0)) {
            fprintf(stderr, "bench: %s needs a value\n", a);
            return 2;
        } else if (strcmp(a, "--runs") == 0) {
            size_t r = 0;
            if (!parse_size_t(next, &r) || r > 1000) {
                fprintf(stderr, "bench: --runs wants 1..1000, got \"%s\"\n",
                        next);
                return 2;
            }
            opts->runs = (int)r;
            i++;
        } else if (strcmp(a, "--size") == 0) {
            i++; /* read above */
        } else if (strcmp(a, "--n") == 0) {
            if (!parse_n(next, opts))
                return 2;
            i++;
        } else if (strcmp(a, "--only") == 0) {
            if (!parse_only(next, &opts->only))
                return 2;
            i++;
        } else if (strcmp(a, "--nats-url") == 0) {
            opts->nats_url = next;
            i++;
        } else {
            fprintf(stderr, "bench: unknown option \"%s\" (try --help)\n", a);
            return 2;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    bench_opts opts = {.runs = 5};
    int rc = parse_args(argc, argv, &opts);
    if (rc == 1) {
        usage(stdout);
        return 0;
    }
    if (rc != 0)
        return 2;
    if (opts.nats_url == NULL)
        opts.nats_url = getenv("LK_NATS_URL");

    /* Keep freed memory in the process: otherwise every run pays page
     * faults for memory the previous one gave back, which is noise (the
     * same for both sides, but it swamps the difference). glibc-specific. */
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_MMAP_THRESHOLD, 1 << 30);

    /* Benchmarks feed only valid data; a warning would be a finding. */
    lk_log_set_level(LK_LOG_WARN);

    static void (*const run[BENCH_COUNT_])(const bench_opts *,
                                           bench_report *) = {
        bench_dispatch, bench_store, bench_broker, bench_nats, bench_suite,
        bench_pg};
    /* One server for the benchmarks that need one. */
    bench_nats_server server = {0};
    unsigned need_nats = (1u << BENCH_NATS) | (1u << BENCH_SUITE);
    bool use_nats = opts.only == 0 || (opts.only & need_nats) != 0;
    if (use_nats && opts.nats_url == NULL) {
        bench_progress(&opts, "starting nats-server ...");
        if (bench_nats_server_start(&server))
            opts.nats_url = server.url;
        else
            opts.nats_missing = server.why;
    }

    bench_report report = {0};
    for (int i = 0; i < BENCH_COUNT_; i++)
        if (opts.only == 0 || (opts.only & (1u << i))) {
            bench_progress(&opts, "%s ...", names[i]);
            run[i](&opts, &report);
        }

    if (opts.json) {
        json_t *root = bench_report_json(&report, &opts);
        char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                         JSON_REAL_PRECISION(6));
        if (text != NULL)
            puts(text);
        free(text);
        json_decref(root);
    } else {
        bench_print_table(&report, &opts);
    }
    bench_report_free(&report);
    bench_nats_server_stop(&server);
    if (use_nats)
        nats_Close(); /* libnats' own threads and memory */
    return 0;
}
