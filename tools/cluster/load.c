/* SPDX-License-Identifier: MIT */
/*
 * load.c — the course's manual test, played from P client threads: each
 * thread takes the next ticket, creates it, then updates it K times (each
 * update waits for the one before: the versions must climb); then a sample
 * of tickets is ordered on the orders replicas (round robin) and the
 * orders cancelled. A command is acknowledged when its answer is 2xx.
 * Creates and updates are sent once (a lost answer may still have been
 * applied: it counts as unacknowledged, not as a failure of the system);
 * an order is retried on another replica when one is down or has no
 * replica of the ticket yet (404), for a bounded time.
 */
#include "cluster.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http/http.h"

#define ORDER_RETRY_MS 20000

typedef struct body {
    char buf[4096];
    size_t len;
} body;

typedef struct worker {
    cl_load *load;
    CURL *curl;
    struct curl_slist *headers;
} worker;

static atomic_long next_ticket, next_order, done_commands;
static atomic_bool half_touched;

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    body *b = ud;
    size_t len = size * n, room = sizeof b->buf - 1 - b->len;
    memcpy(b->buf + b->len, p, len < room ? len : room);
    b->len += len < room ? len : room;
    b->buf[b->len] = '\0';
    return len;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One request; the HTTP status, 0 when the connection failed. *out (when
 * not NULL) is the parsed JSON answer. */
static long call(worker *w, const char *method, const char *url,
                 const char *payload, json_t **out)
{
    body b = {.len = 0};
    long status = 0;
    b.buf[0] = '\0';
    curl_easy_reset(w->curl);
    curl_easy_setopt(w->curl, CURLOPT_URL, url);
    curl_easy_setopt(w->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, w->headers);
    curl_easy_setopt(w->curl, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, &b);
    if (payload != NULL)
        curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, payload);
    atomic_fetch_add(&w->load->requests, 1);
    if (curl_easy_perform(w->curl) == CURLE_OK)
        curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status);
    cl_answer a = status >= 200 && status < 300 ? CL_ANSWER_2XX
                  : status == 404               ? CL_ANSWER_404
                  : status >= 400 && status < 500 ? CL_ANSWER_4XX
                  : status >= 500               ? CL_ANSWER_5XX
                                                : CL_ANSWER_NONE;
    atomic_fetch_add(&w->load->answers[a], 1);
    if (out != NULL)
        *out = b.len > 0 ? json_loads(b.buf, 0, NULL) : NULL;
    return status;
}

const char *cl_answer_name(cl_answer a)
{
    static const char *const names[CL_ANSWER_KINDS] = {"no answer", "2xx",
                                                       "404", "4xx", "5xx"};
    return (int)a >= 0 && a < CL_ANSWER_KINDS ? names[a] : "?";
}

/* Counts one command and touches the half-way file when its time comes
 * (the orchestrator injects its fault then). */
static void count(cl_load *load, bool acked)
{
    atomic_fetch_add(&load->attempted, 1);
    if (acked)
        atomic_fetch_add(&load->acknowledged, 1);
    long done = atomic_fetch_add(&done_commands, 1) + 1;
    if (load->half_file != NULL && done * 2 >= load->total_commands &&
        !atomic_exchange(&half_touched, true)) {
        int fd = open(load->half_file, O_WRONLY | O_CREAT, 0644);
        if (fd >= 0)
            close(fd);
    }
}

/* A create or update's answer: its version and fields when 2xx. */
static void take_ticket(cl_ticket *t, long status, json_t *j, long want)
{
    if (status == want && json_is_object(j)) {
        const char *id = json_string_value(json_object_get(j, "id"));
        if (id != NULL && t->id[0] == '\0')
            snprintf(t->id, sizeof t->id, "%s", id);
        json_int_t v = json_integer_value(json_object_get(j, "version"));
        if (v > t->acked_version)
            t->acked_version = v;
    } else {
        t->unacked++;
    }
}

static void run_ticket(worker *w, long i)
{
    cl_load *load = w->load;
    cl_ticket *t = &load->tickets[i];
    char url[160], payload[128];
    json_t *j = NULL;
    snprintf(t->title, sizeof t->title, "concert %ld", i);
    t->price = 10;
    snprintf(payload, sizeof payload, "{\"title\":\"%s\",\"price\":%g}",
             t->title, t->price);
    snprintf(url, sizeof url, "%s/api/tickets", load->tickets_url);
    long st = call(w, "POST", url, payload, &j);
    take_ticket(t, st, j, 201);
    json_decref(j);
    count(load, st == 201);
    for (int k = 1; k <= load->updates; k++) {
        if (t->id[0] == '\0') { /* nothing to update: count them as not sent */
            t->unacked++;
            count(load, false);
            continue;
        }
        char title[48];
        double price = 10 + k;
        snprintf(title, sizeof title, "concert %ld v%d", i, k);
        snprintf(payload, sizeof payload, "{\"title\":\"%s\",\"price\":%g}",
                 title, price);
        snprintf(url, sizeof url, "%s/api/tickets/%s", load->tickets_url,
                 t->id);
        st = call(w, "PUT", url, payload, &j);
        if (st == 200) {
            snprintf(t->title, sizeof t->title, "%s", title);
            t->price = price;
        }
        take_ticket(t, st, j, 200);
        json_decref(j);
        count(load, st == 200);
    }
}

/* POST then DELETE one order, each retried on the next replica while the
 * answer is no answer, 404 (replica not there yet) or 5xx. */
static void run_order(worker *w, long i)
{
    cl_load *load = w->load;
    cl_ticket *t = &load->tickets[i];
    char url[160], payload[64];
    json_t *j = NULL;
    long st = 0;
    int r = (int)(i % load->n_orders_urls);
    if (t->id[0] == '\0') {
        count(load, false);
        count(load, false);
        return;
    }
    snprintf(payload, sizeof payload, "{\"ticketId\":\"%s\"}", t->id);
    double until = now_s() + ORDER_RETRY_MS / 1000.0;
    do {
        snprintf(url, sizeof url, "%s/api/orders",
                 load->orders_urls[r++ % load->n_orders_urls]);
        st = call(w, "POST", url, payload, &j);
        if (st == 201)
            break;
        json_decref(j);
        j = NULL;
        sleep_ms(100);
    } while ((st == 0 || st == 404 || st >= 500) && now_s() < until);
    const char *oid = json_string_value(json_object_get(j, "id"));
    count(load, st == 201 && oid != NULL);
    if (st != 201 || oid == NULL) {
        t->unacked++;
        json_decref(j);
        count(load, false); /* its cancel is never sent */
        t->unacked++;
        return;
    }
    snprintf(t->order_id, sizeof t->order_id, "%s", oid);
    json_decref(j);
    t->order_events++; /* order:created reserves the ticket: one version */
    t->order_open = true;
    until = now_s() + ORDER_RETRY_MS / 1000.0;
    do {
        snprintf(url, sizeof url, "%s/api/orders/%s",
                 load->orders_urls[r++ % load->n_orders_urls], t->order_id);
        st = call(w, "DELETE", url, NULL, NULL);
        if (st == 204)
            break;
        sleep_ms(100);
    } while ((st == 0 || st >= 500) && now_s() < until);
    count(load, st == 204);
    if (st == 204) {
        t->order_events++; /* order:cancelled frees it: one more */
        t->order_open = false;
    } else {
        t->unacked++;
    }
}

static void *client(void *arg)
{
    worker *w = arg;
    cl_load *load = w->load;
    long i;
    while ((i = atomic_fetch_add(&next_ticket, 1)) < load->n_tickets)
        run_ticket(w, i);
    return NULL;
}

static void *orderer(void *arg)
{
    worker *w = arg;
    cl_load *load = w->load;
    long i;
    while ((i = atomic_fetch_add(&next_order, 1)) < load->n_orders)
        run_order(w, i * load->n_tickets / (load->n_orders > 0 ? load->n_orders : 1));
    return NULL;
}

static bool run_phase(cl_load *load, worker *ws, void *(*fn)(void *))
{
    pthread_t th[64];
    int n = load->clients > 64 ? 64 : load->clients, started = 0;
    for (; started < n; started++)
        if (pthread_create(&th[started], NULL, fn, &ws[started]) != 0)
            break;
    for (int k = 0; k < started; k++)
        pthread_join(th[k], NULL);
    return started > 0;
}

bool cl_load_run(cl_load *load)
{
    ticketing_user user = {.id = "cluster-driver", .email = "load@x.test"};
    char *token = ticketing_http_sign_user(
        &user, (const unsigned char *)load->key, strlen(load->key));
    char auth[1024];
    worker ws[64];
    int n = load->clients > 64 ? 64 : load->clients;
    bool ok = token != NULL && n > 0 && load->n_orders_urls > 0;
    if (!ok) {
        free(token);
        return false;
    }
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    free(token);
    for (int k = 0; k < n; k++) {
        ws[k].load = load;
        ws[k].curl = curl_easy_init();
        ws[k].headers = curl_slist_append(NULL, auth);
        ws[k].headers =
            curl_slist_append(ws[k].headers, "Content-Type: application/json");
    }
    load->total_commands =
        (long)load->n_tickets * (1 + load->updates) + 2L * load->n_orders;
    double start = now_s();
    ok = run_phase(load, ws, client) && run_phase(load, ws, orderer);
    load->seconds = now_s() - start;
    for (int k = 0; k < n; k++) {
        curl_slist_free_all(ws[k].headers);
        curl_easy_cleanup(ws[k].curl);
    }
    return ok;
}
