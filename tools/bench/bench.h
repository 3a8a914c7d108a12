/* SPDX-License-Identifier: MIT */
/*
 * tools/bench/bench.h — what the benchmark files share.
 *
 * The `bench` program measures what listenkit's layers cost next to the raw
 * libraries they wrap. Each benchmark runs listenkit and a hand-written
 * baseline in the same process, on the same data, run after run (the order
 * alternates so drift favours neither), and reports the median, min and max
 * of each side plus the median of the per-run ratios. Shared machines are
 * noisy; a paired ratio is what survives the noise.
 *
 * Every measured loop folds its results into a checksum (bench_sum), and the
 * driver checks that both sides computed the same one: the compiler cannot
 * drop the work, and a baseline that does less work than listenkit shows up
 * as a mismatch instead of a flattering ratio.
 */
#ifndef LISTENKIT_BENCH_H
#define LISTENKIT_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>
#include <jansson.h>

#include "listenkit/error.h"

/* ---- options ---------------------------------------------------------- */

enum {
    BENCH_DISPATCH,
    BENCH_STORE,
    BENCH_BROKER,
    BENCH_NATS,
    BENCH_SUITE,
    BENCH_PG,
    BENCH_COUNT_
};

typedef struct bench_opts {
    int runs;                  /* measured runs per figure (after a warm-up) */
    bool json;                 /* one JSON object instead of the table */
    bool quiet;                /* no progress lines on stderr */
    unsigned only;             /* bit mask of BENCH_*; all when 0 */
    size_t n[BENCH_COUNT_];    /* the size of each benchmark */
    size_t store_scale_max;    /* largest N of the lookup-growth series */
    size_t pg_scale_max;       /* the same for the PostgreSQL store */
    size_t nats_bulk;          /* N of the consume and async publish rows */
    const char *nats_url;      /* the JetStream server (given or started) */
    const char *nats_missing;  /* why there is none ("no nats-server") */
} bench_opts;

const char *bench_name(int which);

/* ---- clock and checksums ------------------------------------------------ */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* Mixes `v` into a running checksum (order-sensitive, cheap). */
static inline uint64_t bench_mix(uint64_t sum, uint64_t v)
{
    sum ^= v + 0x9e3779b97f4a7c15ull + (sum << 6) + (sum >> 2);
    return sum;
}

/* A checksum of a string's bytes (so reading a field means touching it). */
uint64_t bench_str_sum(const char *s);

/* Hands a checksum to a volatile sink: the compiler must keep the work. */
void bench_consume(uint64_t sum);

/* A small deterministic generator (xorshift64*), for data and orders. */
typedef struct bench_rng {
    uint64_t state;
} bench_rng;

uint64_t bench_rng_next(bench_rng *rng);
/* Shuffles `n` size_t values in place (Fisher-Yates). */
void bench_shuffle(bench_rng *rng, size_t *v, size_t n);

/* ---- results -------------------------------------------------------------- */

typedef struct bench_stat {
    double median, min, max;
} bench_stat;

typedef enum bench_target_kind {
    BENCH_NO_TARGET,
    BENCH_AT_MOST,  /* ratio <= target */
    BENCH_AT_LEAST  /* ratio >= target */
} bench_target_kind;

typedef struct bench_row {
    char name[48];        /* "dispatch", "store find_by_id", ... */
    char unit[12];        /* "ns/op", "msg/s", "ms" */
    char lk_label[24];    /* what the listenkit column measured */
    char base_label[32];  /* what the baseline column measured */
    size_t n;
    int runs;
    bench_stat lk, base, ratio; /* ratio: per-run lk/base, then median */
    bench_target_kind target_kind;
    double target;
    bool target_on_lk;    /* the target bounds lk.median, not the ratio */
    bool skipped;
    char note[320];       /* skip reason, checksum mismatch, remarks */
} bench_row;

typedef struct bench_report {
    bench_row *rows;
    size_t count, cap;
} bench_report;

/* A new row appended to `report` (zeroed); NULL on OOM. */
bench_row *bench_report_add(bench_report *report, const char *name,
                            const char *unit);
void bench_report_free(bench_report *report);

/* A new ns/op row "<prefix> N=10^k" of size n (a power of ten); NULL on
 * OOM. */
bench_row *bench_report_add_scale(bench_report *report, const char *prefix,
                                  size_t n);

/* Median, min and max of `n` values (sorts `v`). */
bench_stat bench_stat_of(double *v, size_t n);

/* Fills row->lk/base/ratio from per-run figures (lk[i] pairs with
 * base[i]). */
void bench_row_fill(bench_row *row, double *lk, double *base, int runs);

/* Appends a remark to row->note ("; "-separated, truncated when full). */
void bench_row_note(bench_row *row, const char *fmt, ...) LK_PRINTF(2, 3);

/* Marks the row skipped with `reason` ("skipped: no nats-server"). */
void bench_row_skip(bench_row *row, const char *reason);

/* "ok", "MISSED", "-" (no target) or "skipped". */
const char *bench_row_verdict(const bench_row *row);

void bench_print_table(const bench_report *report, const bench_opts *opts);
/* New reference. */
json_t *bench_report_json(const bench_report *report, const bench_opts *opts);

/* Progress on stderr unless quiet. */
void bench_progress(const bench_opts *opts, const char *fmt, ...)
    LK_PRINTF(2, 3);

/* ---- the paired-run driver ------------------------------------------------ */

/*
 * One side of a pair: does the work once and writes its figures (ns per
 * operation, or a rate; one per row it feeds), adding its checksum to *sum.
 * Returns false when the run failed (the rows are then marked skipped).
 */
typedef bool (*bench_side_fn)(void *ctx, double *figures, uint64_t *sum);

/*
 * Runs a warm-up pair (when `warmup`), then opts->runs measured pairs,
 * alternating which side goes first, and fills the `k` rows (figure i of
 * each side goes to rows[i]). The checksums of both sides must agree on
 * every run; a mismatch is written to the rows' notes. Returns false when a
 * side failed.
 */
bool bench_run_pairs_k(const bench_opts *opts, bench_row *const *rows,
                       size_t k, bool warmup, bench_side_fn lk,
                       bench_side_fn base, void *ctx);

/* The same for one row. */
bool bench_run_pairs(const bench_opts *opts, bench_row *row, bool warmup,
                     bench_side_fn lk, bench_side_fn base, void *ctx);

/* ---- ticket:updated payloads and the field reads both sides do ----------- */

typedef struct bench_payloads {
    char **data;   /* NUL-terminated JSON texts */
    size_t *len;
    size_t count;
    size_t total_bytes;
} bench_payloads;

/* `count` ticket:updated events as the tickets service publishes them
 * (compact, sorted keys; every other one carries an orderId). */
bool bench_payloads_make(bench_payloads *p, size_t count, uint64_t seed);
void bench_payloads_free(bench_payloads *p);

/* Reads every ticket:updated field of a decoded event with the lk_event_*
 * getters and returns their checksum. */
uint64_t bench_read_ticket_lk(const json_t *data);

/* The same fields read, and checked, by hand with jansson: what a listener
 * without listenkit does. Returns false when the event is not valid. */
bool bench_read_ticket_raw(const json_t *data, uint64_t *sum);

/* ---- ticket documents (ticket_docs.c) ------------------------------------ */

/* A ticket as the tickets service stores it: _id, title "<title> #i",
 * price, userId, version (int64, last). New; NULL on OOM. */
bson_t *bench_ticket_doc(const bson_oid_t *id, size_t i, const char *title,
                         int64_t version);

/* What a caller reads from a found ticket: its size, title, version. */
uint64_t bench_ticket_sum(const bson_t *doc);

/* `n` fresh ObjectIds. */
void bench_make_ids(bson_oid_t *ids, size_t n);

/* 0..n-1 shuffled (malloc'd; NULL on OOM). */
size_t *bench_shuffled(size_t n, uint64_t seed);

/* What the insert/find/save benchmarks work on: n tickets, their saves
 * (new titles, carrying the loaded version 0) and a random lookup order. */
typedef struct bench_tickets {
    size_t n;
    bson_oid_t *ids;
    bson_t **docs;  /* to insert, version 0 */
    bson_t **saves; /* new titles, carrying the loaded version 0 */
    size_t *order;  /* lookup order */
} bench_tickets;

/* Fills *t (false on OOM; free it with bench_tickets_free either way). */
bool bench_tickets_make(bench_tickets *t, size_t n, uint64_t seed);
void bench_tickets_free(bench_tickets *t);

/* ---- benchmarks ----------------------------------------------------------- */

/* Each appends its rows to `report`. */
void bench_dispatch(const bench_opts *opts, bench_report *report);
void bench_store(const bench_opts *opts, bench_report *report);
void bench_broker(const bench_opts *opts, bench_report *report);
void bench_nats(const bench_opts *opts, bench_report *report);
/* The consume and async publish rows (bench_nats runs them). */
void bench_nats_bulk(const bench_opts *opts, bench_report *report);
void bench_suite(const bench_opts *opts, bench_report *report);
void bench_pg(const bench_opts *opts, bench_report *report);

#endif /* LISTENKIT_BENCH_H */
