/* SPDX-License-Identifier: MIT */
/*
 * main.c — lk-cluster: drives the real programs with the course's manual
 * test, waits for the orders replicas to converge, and reports in
 * Jepsen's terms. Exit 0 only when nothing acknowledged was lost, nothing
 * was applied twice and every replica equals its ticket.
 *
 *   lk-cluster --tickets-url URL --orders-url URL[,URL...] --key KEY \
 *              --db PG_URL --nats NATS_URL [--tickets N] [--updates K]
 *              [--clients P] [--orders M] [--converge-s S] [--logs DIR]
 *              [--half-file PATH] [--fault TEXT] [--json]
 *   lk-cluster --make-stream NATS_URL REPLICAS   (before the programs start)
 *
 * The servers and programs are tools/cluster/demo-cluster.sh's; this
 * program only talks to them.
 */
#include "cluster.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <nats/nats.h>

typedef struct opts {
    cl_load load;
    const char *db, *nats, *logs, *fault;
    int converge_s;
    bool json;
} opts;

static char *orders_copy;
static atomic_bool loading;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: lk-cluster --tickets-url URL --orders-url URL[,URL...] "
            "--key KEY --db PG_URL --nats NATS_URL [--tickets N] [--updates K] "
            "[--clients P] [--orders M] [--converge-s S] [--logs DIR] "
            "[--half-file PATH] [--fault TEXT] [--json]\n");
}

static bool parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->load.n_tickets = 200;
    o->load.updates = 3;
    o->load.clients = 8;
    o->load.n_orders = 40;
    /* A "not yet" update (its predecessor not applied yet) is nak'ed with
     * growing delays capped at 30 s (listenkit/retry.h), so after a fault
     * one replica may rightly wait more than 30 s for its last redelivery:
     * the window covers that cap twice. It ends as soon as all converged. */
    o->converge_s = 60;
    o->fault = "none";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) { o->json = true; continue; }
        if (v == NULL) return false;
        i++;
        if (strcmp(a, "--tickets-url") == 0) o->load.tickets_url = v;
        else if (strcmp(a, "--orders-url") == 0) {
            free(orders_copy);
            orders_copy = strdup(v);
            for (char *save = NULL, *p = strtok_r(orders_copy, ",", &save);
                 p != NULL && o->load.n_orders_urls < CL_MAX_REPLICAS;
                 p = strtok_r(NULL, ",", &save))
                o->load.orders_urls[o->load.n_orders_urls++] = p;
        }
        else if (strcmp(a, "--key") == 0) o->load.key = v;
        else if (strcmp(a, "--db") == 0) o->db = v;
        else if (strcmp(a, "--nats") == 0) o->nats = v;
        else if (strcmp(a, "--logs") == 0) o->logs = v;
        else if (strcmp(a, "--half-file") == 0) o->load.half_file = v;
        else if (strcmp(a, "--fault") == 0) o->fault = v;
        else if (strcmp(a, "--tickets") == 0) o->load.n_tickets = atoi(v);
        else if (strcmp(a, "--updates") == 0) o->load.updates = atoi(v);
        else if (strcmp(a, "--clients") == 0) o->load.clients = atoi(v);
        else if (strcmp(a, "--orders") == 0) o->load.n_orders = atoi(v);
        else if (strcmp(a, "--converge-s") == 0) o->converge_s = atoi(v);
        else return false;
    }
    if (o->load.n_orders > o->load.n_tickets)
        o->load.n_orders = o->load.n_tickets;
    return o->load.tickets_url && o->load.n_orders_urls > 0 && o->load.key &&
           o->db && o->nats && o->load.n_tickets > 0 && o->load.updates >= 0 &&
           o->load.clients > 0 && o->load.n_orders >= 0 && o->converge_s > 0;
}

static void *progress(void *arg)
{
    cl_load *load = arg;
    while (atomic_load(&loading)) {
        if (load->total_commands == 0) { /* not started yet */
            struct timespec wait = {0, 50000000L};
            nanosleep(&wait, NULL);
            continue;
        }
        fprintf(stderr, "\rlk-cluster: load %ld/%ld commands, %ld acknowledged",
                (long)atomic_load(&load->attempted), (long)atomic_load(&load->total_commands),
                (long)atomic_load(&load->acknowledged));
        struct timespec ts = {0, 250000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* Dead letters, from the programs' logs (the listener logs each one with
 * its reason): the count, and the first reason in `reason`. */
static long dead_letters(const char *dir, char *reason, size_t size)
{
    long n = 0;
    DIR *d = dir != NULL ? opendir(dir) : NULL;
    struct dirent *ent;
    reason[0] = '\0';
    while (d != NULL && (ent = readdir(d)) != NULL) {
        char path[1024], line[1024];
        size_t len = strlen(ent->d_name);
        if (len < 4 || strcmp(ent->d_name + len - 4, ".log") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        FILE *f = fopen(path, "r");
        while (f != NULL && fgets(line, sizeof line, f) != NULL) {
            char *hit = strstr(line, "dead-lettered");
            if (hit == NULL)
                continue;
            if (n++ == 0)
                snprintf(reason, size, "%.*s", (int)strcspn(hit, "\n"), hit);
        }
        if (f != NULL)
            fclose(f);
    }
    if (d != NULL)
        closedir(d);
    return n;
}

static const char *HEADER =
    "applied = ticket versions the orders replicas hold (version v stands for "
    "v+1 events applied in order: the replica's OCC takes version v only on "
    "v-1); applied twice = versions beyond every command sent, in either "
    "database (the programs keep no per-apply log, so a duplicate shows only "
    "this way); deliveries and redeliveries are JetStream's consumer counts; "
    "dead letters are read from the programs' logs";

int main(int argc, char **argv)
{
    opts o;
    if (argc == 4 && strcmp(argv[1], "--make-stream") == 0) {
        char error[200];
        bool made = cl_make_stream(argv[2], atoi(argv[3]), error, sizeof error);
        if (!made)
            fprintf(stderr, "lk-cluster: cannot make the stream: %s\n", error);
        nats_Close();
        return made ? 0 : 1;
    }
    if (!parse(argc, argv, &o)) {
        usage();
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    o.load.tickets = calloc((size_t)o.load.n_tickets, sizeof *o.load.tickets);
    if (o.load.tickets == NULL)
        return 2;
    pthread_t prog;
    atomic_store(&loading, true);
    bool prog_ok = pthread_create(&prog, NULL, progress, &o.load) == 0;
    bool ran = cl_load_run(&o.load);
    atomic_store(&loading, false);
    if (prog_ok)
        pthread_join(prog, NULL);
    fprintf(stderr, "\n");
    if (!ran) {
        fprintf(stderr, "lk-cluster: the load could not start\n");
        return 2;
    }

    /* converge: every replica equal and JetStream holding nothing back */
    cl_check c;
    cl_stream_stats st;
    double start = now_s(), converged_s = -1;
    while (now_s() - start < o.converge_s) {
        bool read = cl_check_run(o.db, &o.load, false, &c);
        cl_stream_stats_read(o.nats, &st);
        fprintf(stderr, "\rlk-cluster: converging: %ld/%ld tickets equal, "
                        "%ld behind, %ld un-acked deliveries   ",
                c.converged, c.tickets_seen, c.pending,
                st.ok ? st.ack_pending + st.num_pending : -1);
        if (read && st.ok && c.pending == 0 && c.mismatches == 0 &&
            st.ack_pending == 0 && st.num_pending == 0) {
            converged_s = now_s() - start;
            break;
        }
        struct timespec ts = {0, 250000000L};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "\n");
    bool read = cl_check_run(o.db, &o.load, true, &c);
    cl_stream_stats_read(o.nats, &st);
    char reason[512];
    long dead = dead_letters(o.logs, reason, sizeof reason);
    double total_s = o.load.seconds + (converged_s >= 0 ? converged_s : o.converge_s);
    bool pass = read && c.lost == 0 && c.applied_twice == 0 && c.mismatches == 0;

    json_t *j = json_pack(
        "{s:s, s:s, s:i, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
        "s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:b, s:s, s:s}",
        "fault", o.fault, "counts", HEADER, "tickets", o.load.n_tickets,
        "updates", o.load.updates, "clients", o.load.clients,
        "replicas", o.load.n_orders_urls,
        "attempted", (json_int_t)atomic_load(&o.load.attempted),
        "acknowledged", (json_int_t)atomic_load(&o.load.acknowledged),
        "http_requests", (json_int_t)atomic_load(&o.load.requests),
        "published", (json_int_t)(st.ok ? st.published : -1),
        "deliveries", (json_int_t)(st.ok ? st.deliveries : -1),
        "redeliveries", (json_int_t)(st.ok ? st.redeliveries : -1),
        "applied", (json_int_t)c.applied, "lost", (json_int_t)c.lost,
        "applied_twice", (json_int_t)c.applied_twice,
        "mismatches", (json_int_t)c.mismatches, "dead_letters", (json_int_t)dead,
        "load_seconds", o.load.seconds, "converge_seconds", converged_s,
        "commands_per_s", (double)atomic_load(&o.load.acknowledged) / o.load.seconds,
        "events_per_s", st.ok ? (double)st.published / total_s : -1.0,
        "pass", pass, "first_problem", c.first_problem,
        "dead_letter_reason", reason);
    json_t *answers = json_object();
    char answers_line[160] = "";
    for (int a = 0; a < CL_ANSWER_KINDS; a++) {
        long n = atomic_load(&o.load.answers[a]);
        json_object_set_new(answers, cl_answer_name((cl_answer)a),
                            json_integer(n));
        size_t used = strlen(answers_line);
        snprintf(answers_line + used, sizeof answers_line - used, "%s%s %ld",
                 a > 0 ? ", " : "", cl_answer_name((cl_answer)a), n);
    }
    json_object_set_new(j, "http_answers", answers);
    if (o.json) {
        char *text = json_dumps(j, JSON_INDENT(2));
        printf("%s\n", text != NULL ? text : "{}");
        free(text);
    } else {
        printf("lk-cluster: fault %s; %d tickets x (1 create + %d updates), "
               "%d orders, %d clients, 1 tickets + %d orders processes\n"
               "  (%s)\n",
               o.fault, o.load.n_tickets, o.load.updates, o.load.n_orders,
               o.load.clients, o.load.n_orders_urls, HEADER);
        printf("  %-36s %ld\n", "commands attempted", (long)atomic_load(&o.load.attempted));
        printf("  %-36s %ld\n", "commands acknowledged", (long)atomic_load(&o.load.acknowledged));
        printf("  %-36s %ld\n", "http requests (with retries)", (long)atomic_load(&o.load.requests));
        printf("  %-36s %s\n", "http answers", answers_line);
        if (st.ok) {
            printf("  %-36s %ld\n", "events published (in the streams)", st.published);
            printf("  %-36s %ld\n", "deliveries", st.deliveries);
            if (st.redeliveries >= 0)
                printf("  %-36s %ld\n", "redeliveries", st.redeliveries);
            else
                printf("  %-36s not counted (wildcard filter)\n", "redeliveries");
        } else {
            printf("  %-36s not read: %s\n", "JetStream counts", st.error);
        }
        printf("  %-36s %ld\n", "applied (replica versions held)", c.applied);
        printf("  %-36s %ld\n", "LOST (acknowledged, never applied)", c.lost);
        printf("  %-36s %ld\n", "APPLIED TWICE", c.applied_twice);
        printf("  %-36s %ld\n", "MISMATCHES", c.mismatches);
        printf("  %-36s %ld%s%s\n", "dead letters", dead, dead ? ": " : "", reason);
        if (converged_s >= 0)
            printf("  %-36s %.2f s\n", "time to converge (after the load)", converged_s);
        else
            printf("  %-36s did not within %d s\n", "time to converge", o.converge_s);
        printf("  %-36s %.2f s, %.0f commands/s, %.0f events/s\n", "load",
               o.load.seconds, (double)atomic_load(&o.load.acknowledged) / o.load.seconds,
               st.ok ? (double)st.published / total_s : 0.0);
        if (c.first_problem[0] != '\0')
            printf("  first problem: %s\n", c.first_problem);
        printf("lk-cluster: %s\n", pass ? "PASS (lost 0, applied twice 0, mismatches 0)" : "FAIL");
    }
    json_decref(j);
    free(o.load.tickets);
    free(orders_copy);
    nats_Close();
    curl_global_cleanup();
    return pass ? 0 : 1;
}
