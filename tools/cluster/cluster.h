/* SPDX-License-Identifier: MIT */
/*
 * cluster.h — the pieces of lk-cluster (tools/cluster/), the load driver
 * and checker behind `make demo-cluster` (tools/cluster/demo-cluster.sh
 * starts the servers and programs; this program drives and judges them).
 *
 *   load.c   plays the course's manual test over HTTP from P threads
 *   check.c  reads both databases (lk_pg_store) and JetStream's counters
 *   main.c   options, the convergence loop, the report (table or --json)
 */
#ifndef LK_CLUSTER_H
#define LK_CLUSTER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define CL_MAX_REPLICAS 8

/* What a request got, for the report: which status the programs answer
 * while a fault lasts (404: an orders replica without the ticket yet). */
typedef enum cl_answer {
    CL_ANSWER_NONE, /* no answer: refused, reset, or the 10 s timeout */
    CL_ANSWER_2XX,
    CL_ANSWER_404,
    CL_ANSWER_4XX,  /* other 4xx */
    CL_ANSWER_5XX,
    CL_ANSWER_KINDS
} cl_answer;

/* "no answer", "2xx", "404", "4xx", "5xx". */
const char *cl_answer_name(cl_answer a);

/* What the driver knows of one ticket it created. */
typedef struct cl_ticket {
    char id[25];            /* "" when the create was not acknowledged */
    char title[48];
    double price;           /* of the last acknowledged create/update */
    int64_t acked_version;  /* highest version an acknowledgement named */
    int64_t order_events;   /* ticket versions the acked order commands imply */
    int unacked;            /* commands on it that got no acknowledgement */
    bool order_open;        /* an order was acked and its cancel was not */
    char order_id[25];
} cl_ticket;

typedef struct cl_load {
    /* in */
    const char *tickets_url;               /* http://127.0.0.1:PORT */
    const char *orders_urls[CL_MAX_REPLICAS];
    int n_orders_urls;
    const char *key;                       /* JWT_KEY */
    int n_tickets, updates, clients, n_orders;
    const char *half_file;                 /* touched at half the commands */
    /* out (counters are updated by the threads, read by the progress line) */
    cl_ticket *tickets;
    atomic_long attempted, acknowledged, requests;
    atomic_long answers[CL_ANSWER_KINDS];  /* requests by answer: cl_answer */
    atomic_long total_commands;            /* what the run will attempt */
    double seconds;
} cl_load;

/* Runs the whole load; false when it could not start (no token, no memory). */
bool cl_load_run(cl_load *load);

/* One check of the databases against what the driver knows. */
typedef struct cl_check {
    long tickets_seen;      /* rows in the tickets service's database */
    long replicas_seen;
    long converged;         /* tickets whose replica equals them */
    long lost;              /* acknowledged versions never applied */
    long applied;           /* ticket versions the replicas hold (v+1 each) */
    long applied_twice;     /* versions beyond what was acknowledged */
    long mismatches;        /* same version, other title/price/orderId */
    long pending;           /* replicas behind their ticket (not yet lost) */
    char first_problem[256];
} cl_check;

/* Compares the tickets schema with the orders schema on `pg_url`. `final`:
 * replicas still behind count as lost (the wait is over). */
bool cl_check_run(const char *pg_url, const cl_load *load, bool final,
                  cl_check *out);

/* JetStream's own counts, from its consumer and stream info. */
typedef struct cl_stream_stats {
    bool ok;
    char error[160];
    long published;         /* messages in the streams */
    long deliveries;        /* every delivery, first or not */
    long redeliveries;      /* deliveries beyond the first, -1 not counted */
    long ack_pending, num_pending;
    int consumers;
} cl_stream_stats;

void cl_stream_stats_read(const char *nats_url, cl_stream_stats *out);

/* Creates the programs' stream (LISTENKIT, their four subjects) with
 * `replicas` copies before they start, for a cluster run: they add to a
 * stream that exists and keep its replicas. Retries while the cluster
 * elects a leader (10 s); false with the reason in `error`. */
bool cl_make_stream(const char *nats_url, int replicas, char *error,
                    size_t size);

#endif /* LK_CLUSTER_H */
