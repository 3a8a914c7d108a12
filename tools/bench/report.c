/* SPDX-License-Identifier: MIT */
/* report.c — figures, the paired-run driver, and the table / JSON output. */
#include "bench.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "listenkit/version.h"

/* ---- clock, checksums, random ------------------------------------------- */

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t bench_str_sum(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    if (s == NULL)
        return 0;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static volatile uint64_t bench_sink;

void bench_consume(uint64_t sum) { bench_sink ^= sum; }

uint64_t bench_rng_next(bench_rng *rng)
{
    uint64_t x = rng->state != 0 ? rng->state : 0x2545f4914f6cdd1dull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng->state = x;
    return x * 0x2545f4914f6cdd1dull;
}

void bench_shuffle(bench_rng *rng, size_t *v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(bench_rng_next(rng) % i);
        size_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

void bench_progress(const bench_opts *opts, const char *fmt, ...)
{
    if (opts->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- rows ----------------------------------------------------------------- */

bench_row *bench_report_add(bench_report *report, const char *name,
                            const char *unit)
{
    if (report->count == report->cap) {
        size_t cap = report->cap ? report->cap * 2 : 16;
        bench_row *rows = realloc(report->rows, cap * sizeof *rows);
        if (rows == NULL)
            return NULL;
        report->rows = rows;
        report->cap = cap;
    }
    bench_row *row = &report->rows[report->count++];
    memset(row, 0, sizeof *row);
    snprintf(row->name, sizeof row->name, "%s", name);
    snprintf(row->unit, sizeof row->unit, "%s", unit);
    return row;
}

bench_row *bench_report_add_scale(bench_report *report, const char *prefix,
                                  size_t n)
{
    char name[48];
    int exp = 0;
    for (size_t k = n; k >= 10; k /= 10)
        exp++;
    snprintf(name, sizeof name, "%.30s N=10^%d", prefix, exp);
    bench_row *row = bench_report_add(report, name, "ns/op");
    if (row != NULL)
        row->n = n;
    return row;
}

void bench_report_free(bench_report *report)
{
    free(report->rows);
    report->rows = NULL;
    report->count = report->cap = 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

bench_stat bench_stat_of(double *v, size_t n)
{
    bench_stat s = {NAN, NAN, NAN};
    if (n == 0)
        return s;
    qsort(v, n, sizeof *v, cmp_double);
    s.min = v[0];
    s.max = v[n - 1];
    s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
    return s;
}

void bench_row_fill(bench_row *row, double *lk, double *base, int runs)
{
    double *ratio = calloc((size_t)(runs > 0 ? runs : 1), sizeof *ratio);
    row->runs = runs;
    for (int i = 0; ratio != NULL && i < runs; i++)
        ratio[i] = base[i] > 0 ? lk[i] / base[i] : NAN;
    row->ratio = ratio != NULL ? bench_stat_of(ratio, (size_t)runs)
                               : (bench_stat){NAN, NAN, NAN};
    row->lk = bench_stat_of(lk, (size_t)runs);
    row->base = bench_stat_of(base, (size_t)runs);
    free(ratio);
}

const char *bench_row_verdict(const bench_row *row)
{
    if (row->skipped)
        return "skipped";
    if (row->target_kind == BENCH_NO_TARGET)
        return "-";
    double v = row->target_on_lk ? row->lk.median : row->ratio.median;
    if (isnan(v))
        return "MISSED";
    if (row->target_kind == BENCH_AT_MOST)
        return v <= row->target ? "ok" : "MISSED";
    return v >= row->target ? "ok" : "MISSED";
}

/* ---- the paired-run driver --------------------------------------------- */

void bench_row_skip(bench_row *row, const char *reason)
{
    row->skipped = true;
    bench_row_note(row, "%s", reason);
}

void bench_row_note(bench_row *row, const char *fmt, ...)
{
    size_t used = strlen(row->note);
    if (used >= sizeof row->note - 1)
        return;
    if (used > 0)
        used += (size_t)snprintf(row->note + used, sizeof row->note - used,
                                 "; ");
    if (used >= sizeof row->note - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(row->note + used, sizeof row->note - used, fmt, ap);
    va_end(ap);
}

#define BENCH_MAX_FIGURES 8

static bool run_pair(bench_side_fn first, bench_side_fn second, void *ctx,
                     double *f1, double *f2, uint64_t *s1, uint64_t *s2)
{
    *s1 = *s2 = 0;
    return first(ctx, f1, s1) && second(ctx, f2, s2);
}

bool bench_run_pairs_k(const bench_opts *opts, bench_row *const *rows,
                       size_t k, bool warmup, bench_side_fn lk,
                       bench_side_fn base, void *ctx)
{
    size_t runs = (size_t)opts->runs;
    /* fig[side][run * k + row] */
    double *lk_fig = calloc(runs * k, sizeof *lk_fig);
    double *base_fig = calloc(runs * k, sizeof *base_fig);
    bool ok = lk_fig != NULL && base_fig != NULL && k <= BENCH_MAX_FIGURES;
    uint64_t s_lk = 0, s_base = 0;
    double a[BENCH_MAX_FIGURES], b[BENCH_MAX_FIGURES];

    if (ok && warmup)
        ok = run_pair(lk, base, ctx, a, b, &s_lk, &s_base);
    for (size_t i = 0; ok && i < runs; i++) {
        /* Alternate who goes first: caches and clock drift favour neither. */
        if (i % 2 == 0)
            ok = run_pair(lk, base, ctx, a, b, &s_lk, &s_base);
        else
            ok = run_pair(base, lk, ctx, b, a, &s_base, &s_lk);
        for (size_t j = 0; ok && j < k; j++) {
            lk_fig[j * runs + i] = a[j];
            base_fig[j * runs + i] = b[j];
        }
        if (ok && s_lk != s_base)
            for (size_t j = 0; j < k; j++)
                bench_row_note(rows[j], "CHECKSUM MISMATCH on run %zu: "
                               "listenkit and baseline did different work",
                               i + 1);
        bench_consume(s_lk ^ s_base);
    }
    for (size_t j = 0; j < k; j++) {
        if (ok)
            bench_row_fill(rows[j], &lk_fig[j * runs], &base_fig[j * runs],
                           opts->runs);
        else
            bench_row_skip(rows[j], "skipped: a run failed (see stderr)");
    }
    free(lk_fig);
    free(base_fig);
    return ok;
}

bool bench_run_pairs(const bench_opts *opts, bench_row *row, bool warmup,
                     bench_side_fn lk, bench_side_fn base, void *ctx)
{
    return bench_run_pairs_k(opts, &row, 1, warmup, lk, base, ctx);
}

/* ---- output ------------------------------------------------------------------ */

/* A figure in 4 significant characters with an SI suffix for big rates. */
static void fmt_value(char *buf, size_t size, double v)
{
    if (isnan(v))
        snprintf(buf, size, "n/a");
    else if (v >= 1e9)
        snprintf(buf, size, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, size, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, size, "%.1fk", v / 1e3);
    else if (v >= 100)
        snprintf(buf, size, "%.0f", v);
    else if (v >= 10)
        snprintf(buf, size, "%.1f", v);
    else
        snprintf(buf, size, "%.2f", v);
}

static void fmt_stat(char *buf, size_t size, bench_stat s)
{
    char m[16], lo[16], hi[16];
    fmt_value(m, sizeof m, s.median);
    /* A derived figure, or a single run: no spread to show. */
    if (isnan(s.min) || isnan(s.max) || s.min == s.max) {
        snprintf(buf, size, "%s", m);
        return;
    }
    fmt_value(lo, sizeof lo, s.min);
    fmt_value(hi, sizeof hi, s.max);
    snprintf(buf, size, "%s [%s..%s]", m, lo, hi);
}

/* Ratios near 1 with two decimals; tiny ones (doubles vs a server) with
 * two significant digits, so they do not print as 0.00. */
static void fmt_ratio_value(char *buf, size_t size, double v)
{
    snprintf(buf, size, v >= 0.1 || isnan(v) ? "%.2f" : "%.2g", v);
}

static void fmt_ratio(char *buf, size_t size, bench_stat s)
{
    char m[16], lo[16], hi[16];
    fmt_ratio_value(m, sizeof m, s.median);
    if (isnan(s.min) || isnan(s.max) || s.min == s.max) {
        snprintf(buf, size, "%s", m);
        return;
    }
    fmt_ratio_value(lo, sizeof lo, s.min);
    fmt_ratio_value(hi, sizeof hi, s.max);
    snprintf(buf, size, "%s [%s..%s]", m, lo, hi);
}

static void fmt_n(char *buf, size_t size, size_t n)
{
    if (n >= 1000000 && n % 1000000 == 0)
        snprintf(buf, size, "%zuM", n / 1000000);
    else if (n >= 1000 && n % 1000 == 0)
        snprintf(buf, size, "%zuk", n / 1000);
    else
        snprintf(buf, size, "%zu", n);
}

static void fmt_target(char *buf, size_t size, const bench_row *row)
{
    if (row->target_kind == BENCH_AT_MOST)
        snprintf(buf, size, "<= %g", row->target);
    else if (row->target_kind == BENCH_AT_LEAST)
        snprintf(buf, size, ">= %g", row->target);
    else
        snprintf(buf, size, "-");
}

/* The 1-minute load average and the CPU count: a busy machine explains
 * wide [min..max] ranges. false when unknown. */
static bool machine_load(double *load, long *cpus)
{
    FILE *f = fopen("/proc/loadavg", "r");
    bool ok = f != NULL && fscanf(f, "%lf", load) == 1;
    if (f != NULL)
        fclose(f);
    *cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return ok && *cpus > 0;
}

void bench_print_table(const bench_report *report, const bench_opts *opts)
{
    double load = 0;
    long cpus = 0;
    printf("listenkit %s benchmarks: median [min..max] of %d run%s; ratio = "
           "listenkit / baseline per run, same process, same data",
           lk_version(), opts->runs, opts->runs == 1 ? "" : "s");
    if (machine_load(&load, &cpus))
        printf("; load %.1f on %ld CPUs", load, cpus);
    printf("\n");
    if (opts->runs < 5)
        printf("fewer than 5 runs: a smoke test of the benchmarks, not a "
               "measurement (verdicts are indicative only)\n");
    printf("\n");
    /* the name column as wide as the widest name, so every row lines up */
    int w = (int)strlen("benchmark");
    for (size_t i = 0; i < report->count; i++)
        if ((int)strlen(report->rows[i].name) > w)
            w = (int)strlen(report->rows[i].name);
    printf("%-*s %6s %-6s %-24s %-24s %-20s %-7s %s\n", w, "benchmark", "N",
           "unit", "listenkit", "baseline", "ratio", "target", "verdict");
    for (size_t i = 0; i < report->count; i++) {
        const bench_row *r = &report->rows[i];
        char n[24], lk[64], base[64], ratio[64], target[16];
        fmt_n(n, sizeof n, r->n);
        fmt_target(target, sizeof target, r);
        if (r->skipped) {
            printf("%-*s %6s %-6s %s\n", w, r->name, n, r->unit,
                   r->note[0] ? r->note : "skipped");
            continue;
        }
        fmt_stat(lk, sizeof lk, r->lk);
        fmt_stat(base, sizeof base, r->base);
        fmt_ratio(ratio, sizeof ratio, r->ratio);
        printf("%-*s %6s %-6s %-24s %-24s %-20s %-7s %s\n", w, r->name, n,
               r->unit, lk, base, ratio, target, bench_row_verdict(r));
    }
    bool header = false;
    for (size_t i = 0; i < report->count; i++) {
        const bench_row *r = &report->rows[i];
        if (r->skipped || (r->note[0] == '\0' && r->base_label[0] == '\0'))
            continue;
        if (!header) {
            printf("\nnotes:\n");
            header = true;
        }
        printf("  %s:", r->name);
        if (r->lk_label[0] != '\0' || r->base_label[0] != '\0')
            printf(" %s vs %s.", r->lk_label[0] ? r->lk_label : "listenkit",
                   r->base_label[0] ? r->base_label : "baseline");
        if (r->note[0] != '\0')
            printf(" %s", r->note);
        printf("\n");
    }
}

static json_t *stat_json(bench_stat s)
{
    json_t *o = json_object();
    json_object_set_new(o, "median", isnan(s.median) ? json_null()
                                                     : json_real(s.median));
    json_object_set_new(o, "min", isnan(s.min) ? json_null() : json_real(s.min));
    json_object_set_new(o, "max", isnan(s.max) ? json_null() : json_real(s.max));
    return o;
}

json_t *bench_report_json(const bench_report *report, const bench_opts *opts)
{
    json_t *root = json_object();
    json_t *rows = json_array();
    json_object_set_new(root, "listenkit_version", json_string(lk_version()));
    json_object_set_new(root, "runs", json_integer(opts->runs));
    double load = 0;
    long cpus = 0;
    if (machine_load(&load, &cpus)) {
        json_object_set_new(root, "load_average", json_real(load));
        json_object_set_new(root, "cpus", json_integer(cpus));
    }
    json_object_set_new(root, "ratio",
                        json_string("listenkit / baseline, per run, median"));
    for (size_t i = 0; i < report->count; i++) {
        const bench_row *r = &report->rows[i];
        json_t *o = json_object();
        char target[16];
        fmt_target(target, sizeof target, r);
        json_object_set_new(o, "name", json_string(r->name));
        json_object_set_new(o, "unit", json_string(r->unit));
        json_object_set_new(o, "n", json_integer((json_int_t)r->n));
        json_object_set_new(o, "verdict", json_string(bench_row_verdict(r)));
        if (r->note[0] != '\0')
            json_object_set_new(o, "note", json_string(r->note));
        if (!r->skipped) {
            json_object_set_new(o, "runs", json_integer(r->runs));
            json_object_set_new(o, "listenkit", stat_json(r->lk));
            json_object_set_new(o, "baseline", stat_json(r->base));
            json_object_set_new(o, "ratio", stat_json(r->ratio));
            if (r->lk_label[0] != '\0')
                json_object_set_new(o, "listenkit_is",
                                    json_string(r->lk_label));
            if (r->base_label[0] != '\0')
                json_object_set_new(o, "baseline_is",
                                    json_string(r->base_label));
        }
        if (r->target_kind != BENCH_NO_TARGET)
            json_object_set_new(o, "target", json_string(target));
        json_array_append_new(rows, o);
    }
    json_object_set_new(root, "benchmarks", rows);
    return root;
}
