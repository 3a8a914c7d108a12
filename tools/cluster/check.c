/* SPDX-License-Identifier: MIT */
/*
 * check.c — the judge: every ticket in the tickets service's database
 * against its replica in the orders service's (title, price, version) and
 * against the orders (orderId names the order not cancelled, or none), and
 * every ticket against what the driver was told (an acknowledged version
 * that is missing is lost; a version beyond every command sent is a double
 * apply). And JetStream's own counters, read from the server.
 */
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "listenkit/pg.h"
#include "listenkit/store.h"

typedef struct dbs {
    lk_store *tickets_db, *orders_db;
    lk_collection *tickets, *replicas, *orders;
} dbs;

static void dbs_close(dbs *d)
{
    lk_store_free(d->tickets_db);
    lk_store_free(d->orders_db);
}

static bool dbs_open(dbs *d, const char *url, lk_error *e)
{
    const lk_pg_opts t = {.schema = "tickets", .pool_size = 1};
    const lk_pg_opts o = {.schema = "orders", .pool_size = 1};
    const lk_collection_opts upd = {.occ = LK_OCC_UPDATE_IF_CURRENT};
    const lk_collection_opts ext = {.occ = LK_OCC_EXTERNAL};
    memset(d, 0, sizeof *d);
    lk_status s = lk_pg_store_connect(&d->tickets_db, url, &t, e);
    if (s == LK_OK)
        s = lk_pg_store_connect(&d->orders_db, url, &o, e);
    if (s == LK_OK)
        s = lk_store_collection(d->tickets_db, "tickets", &upd, &d->tickets, e);
    if (s == LK_OK)
        s = lk_store_collection(d->orders_db, "tickets", &ext, &d->replicas, e);
    if (s == LK_OK)
        s = lk_store_collection(d->orders_db, "orders", &upd, &d->orders, e);
    if (s != LK_OK)
        dbs_close(d);
    return s == LK_OK;
}

static const char *str_of(const bson_t *doc, const char *key)
{
    bson_iter_t it;
    if (bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_UTF8(&it))
        return bson_iter_utf8(&it, NULL);
    return NULL;
}

static double num_of(const bson_t *doc, const char *key)
{
    bson_iter_t it;
    return bson_iter_init_find(&it, doc, key) ? bson_iter_as_double(&it) : -1;
}

static int64_t version_of(const bson_t *doc)
{
    int64_t v = -1;
    lk_bson_get_int64(doc, "version", &v, NULL);
    return v;
}

static void problem(cl_check *c, const char *what, const char *id)
{
    if (c->first_problem[0] == '\0')
        snprintf(c->first_problem, sizeof c->first_problem, "ticket %s: %s",
                 id, what);
}

/* Adds the ticket's figures to the first problem, when it is this one's. */
static void problem_detail(cl_check *c, const char *id, int64_t vt,
                           int64_t want, int64_t vr, const char *order,
                           const char *open)
{
    size_t n = strlen(c->first_problem);
    if (strstr(c->first_problem, id) == NULL || strchr(c->first_problem, '(') != NULL)
        return;
    snprintf(c->first_problem + n, sizeof c->first_problem - n,
             " (version %lld, acknowledged %lld, replica %lld, orderId %s, "
             "open order %s)",
             (long long)vt, (long long)want, (long long)vr,
             order != NULL ? order : "none", open[0] ? open : "none");
}

/* The id of the order on ticket `id` that is not cancelled ("" none);
 * false when the orders could not be read. */
static bool open_order(dbs *d, const bson_oid_t *id, char out[25])
{
    bson_t filter = BSON_INITIALIZER;
    lk_cursor *cur = NULL;
    const bson_t *doc;
    bool ok;
    out[0] = '\0';
    BSON_APPEND_OID(&filter, "ticketId", id);
    ok = lk_collection_find(d->orders, &filter, NULL, &cur, NULL) == LK_OK;
    while (ok && lk_cursor_next(cur, &doc)) {
        const char *status = str_of(doc, "status");
        bson_iter_t it;
        if (status != NULL && strcmp(status, "cancelled") != 0 &&
            bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it))
            lk_oid_format(bson_iter_oid(&it), out);
    }
    ok = ok && lk_cursor_error(cur, NULL) == LK_OK;
    lk_cursor_free(cur);
    bson_destroy(&filter);
    return ok;
}

static const cl_ticket *known(const cl_load *load, const char *hex)
{
    for (int i = 0; i < load->n_tickets; i++)
        if (strcmp(load->tickets[i].id, hex) == 0)
            return &load->tickets[i];
    return NULL;
}

/* One ticket row against the driver, its replica and its orders. */
static void check_ticket(dbs *d, const cl_load *load, const bson_t *t,
                         bool final, cl_check *c)
{
    bson_iter_t it;
    char hex[25], open[25];
    bson_t *r = NULL;
    if (!bson_iter_init_find(&it, t, "_id") || !BSON_ITER_HOLDS_OID(&it))
        return;
    const bson_oid_t *id = bson_iter_oid(&it);
    lk_oid_format(id, hex);
    int64_t vt = version_of(t), want = -1;
    const cl_ticket *k = known(load, hex);
    open[0] = '\0';
    if (k != NULL) {
        want = k->acked_version + k->order_events;
        if (vt < want) {
            c->lost += want - vt;
            problem(c, "the tickets service lost acknowledged versions", hex);
        } else if (vt > want + k->unacked) {
            c->applied_twice += vt - want - k->unacked;
            problem(c, "more versions than commands sent", hex);
        }
    }
    lk_collection_find_by_id(d->replicas, id, &r, NULL);
    int64_t vr = r != NULL ? version_of(r) : -1;
    if (r != NULL)
        c->applied += vr + 1;
    if (vr > vt) {
        c->applied_twice += vr - vt;
        problem(c, "replica ahead of the ticket", hex);
    } else if (vr < vt) {
        if (final) {
            c->lost += vt - vr;
            problem(c, "replica never caught up", hex);
        } else {
            c->pending++;
        }
    } else {
        const char *oid = str_of(t, "orderId");
        bool same = strcmp(str_of(t, "title") ? str_of(t, "title") : "",
                           str_of(r, "title") ? str_of(r, "title") : "") == 0 &&
                    num_of(t, "price") == num_of(r, "price");
        bool order_ok = open_order(d, id, open) &&
                        strcmp(oid != NULL ? oid : "", open) == 0;
        if (same && order_ok) {
            c->converged++;
        } else if (!same || final) {
            c->mismatches++;
            problem(c, same ? "orderId differs from the open order"
                            : "title or price differs from the replica", hex);
        } else {
            c->pending++;
        }
    }
    problem_detail(c, hex, vt, want, vr, str_of(t, "orderId"), open);
    bson_destroy(r);
}

bool cl_check_run(const char *pg_url, const cl_load *load, bool final,
                  cl_check *c)
{
    dbs d;
    lk_cursor *cur = NULL;
    const bson_t *doc;
    lk_error e;
    lk_error_clear(&e);
    memset(c, 0, sizeof *c);
    if (!dbs_open(&d, pg_url, &e)) {
        snprintf(c->first_problem, sizeof c->first_problem, "%s", e.message);
        return false;
    }
    bool ok = lk_collection_find(d.tickets, NULL, NULL, &cur, &e) == LK_OK;
    while (ok && lk_cursor_next(cur, &doc)) {
        c->tickets_seen++;
        check_ticket(&d, load, doc, final, c);
    }
    ok = ok && lk_cursor_error(cur, &e) == LK_OK;
    lk_cursor_free(cur);
    int64_t n = 0;
    if (ok && lk_collection_count(d.replicas, NULL, &n, &e) == LK_OK)
        c->replicas_seen = (long)n;
    if (ok && c->replicas_seen > c->tickets_seen) {
        c->mismatches += c->replicas_seen - c->tickets_seen;
        problem(c, "replicas of tickets that do not exist", "-");
    }
    /* an acknowledged create whose ticket is not in the database at all */
    for (int i = 0; ok && i < load->n_tickets; i++) {
        bson_oid_t id;
        bson_t *t = NULL;
        if (load->tickets[i].id[0] == '\0' ||
            lk_oid_parse(load->tickets[i].id, &id, NULL) != LK_OK)
            continue;
        if (lk_collection_find_by_id(d.tickets, &id, &t, NULL) ==
            LK_ERR_NOT_FOUND) {
            c->lost += load->tickets[i].acked_version + 1;
            problem(c, "acknowledged, not in the tickets database",
                    load->tickets[i].id);
        }
        bson_destroy(t);
    }
    if (!ok)
        snprintf(c->first_problem, sizeof c->first_problem, "%s", e.message);
    dbs_close(&d);
    return ok;
}

/* natsOptions for `urls` ("nats://a,nats://b"): libnats takes a list as
 * an array of servers, not as one comma-separated URL. */
static natsStatus options_for(natsOptions **no, const char *urls)
{
    char copy[1024];
    const char *list[16];
    int n = 0;
    snprintf(copy, sizeof copy, "%s", urls);
    for (char *save = NULL, *p = strtok_r(copy, ",", &save); p != NULL && n < 16;
         p = strtok_r(NULL, ",", &save))
        list[n++] = p;
    natsStatus s = natsOptions_Create(no);
    if (s == NATS_OK)
        s = natsOptions_SetServers(*no, list, n);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(*no, 2000);
    return s;
}

/* Messages on `filter` in `si` (NULL or "": all), -1 when not listed. */
static long msgs_on(const jsStreamInfo *si, const char *filter)
{
    if (filter == NULL || filter[0] == '\0')
        return (long)si->State.Msgs;
    for (int i = 0; si->State.Subjects != NULL && i < si->State.Subjects->Count; i++)
        if (strcmp(si->State.Subjects->List[i].Subject, filter) == 0)
            return (long)si->State.Subjects->List[i].Msgs;
    return strpbrk(filter, "*>") != NULL ? -1 : 0;
}

void cl_stream_stats_read(const char *nats_url, cl_stream_stats *out)
{
    natsConnection *nc = NULL;
    natsOptions *no = NULL;
    jsCtx *js = NULL;
    jsStreamInfoList *streams = NULL;
    jsOptions jo;
    jsErrCode jerr = 0;
    memset(out, 0, sizeof *out);
    natsStatus s = options_for(&no, nats_url);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(no, 0);
    if (s == NATS_OK)
        s = natsConnection_Connect(&nc, no);
    if (s == NATS_OK)
        s = jsOptions_Init(&jo);
    if (s == NATS_OK) {
        jo.Wait = 5000;
        s = natsConnection_JetStream(&js, nc, &jo);
    }
    if (s == NATS_OK)
        s = js_Streams(&streams, js, NULL, &jerr);
    for (int i = 0; s == NATS_OK && i < streams->Count; i++) {
        jsStreamInfo *si = NULL;
        jsConsumerInfoList *cons = NULL;
        jsOptions so;
        jsOptions_Init(&so);
        so.Stream.Info.SubjectsFilter = ">";
        s = js_GetStreamInfo(&si, js, streams->List[i]->Config->Name, &so, &jerr);
        if (s == NATS_OK)
            s = js_Consumers(&cons, js, si->Config->Name, NULL, &jerr);
        for (int k = 0; s == NATS_OK && k < cons->Count; k++) {
            const jsConsumerInfo *ci = cons->List[k];
            long on = msgs_on(si, ci->Config->FilterSubject);
            out->consumers++;
            out->deliveries += (long)ci->Delivered.Consumer;
            out->ack_pending += (long)ci->NumAckPending;
            out->num_pending += (long)ci->NumPending;
            if (on < 0 || out->redeliveries < 0)
                out->redeliveries = -1;
            else
                out->redeliveries += (long)ci->Delivered.Consumer -
                                     (on - (long)ci->NumPending);
        }
        if (s == NATS_OK)
            for (int k = 0; si->State.Subjects != NULL && k < si->State.Subjects->Count; k++)
                if (strncmp(si->State.Subjects->List[k].Subject, "lk.dead-letter.", 15) != 0)
                    out->published += (long)si->State.Subjects->List[k].Msgs;
        jsConsumerInfoList_Destroy(cons);
        jsStreamInfo_Destroy(si);
    }
    out->ok = s == NATS_OK;
    if (!out->ok)
        snprintf(out->error, sizeof out->error, "%s (JetStream error %d)",
                 natsStatus_GetText(s), (int)jerr);
    jsStreamInfoList_Destroy(streams);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(no);
}

bool cl_make_stream(const char *nats_url, int replicas, char *error,
                    size_t size)
{
    natsConnection *nc = NULL;
    natsOptions *no = NULL;
    jsCtx *js = NULL;
    jsStreamConfig cfg;
    jsErrCode jerr = 0;
    const char *subjects[] = {"ticket:created", "ticket:updated",
                              "order:created", "order:cancelled"};
    natsStatus s = options_for(&no, nats_url);
    if (s == NATS_OK)
        s = natsConnection_Connect(&nc, no);
    if (s == NATS_OK)
        s = natsConnection_JetStream(&js, nc, NULL);
    if (s == NATS_OK)
        s = jsStreamConfig_Init(&cfg);
    if (s == NATS_OK) {
        cfg.Name = "LISTENKIT"; /* the programs' stream: they add to it */
        cfg.Subjects = subjects;
        cfg.SubjectsLen = 4;
        cfg.Storage = js_FileStorage;
        cfg.Replicas = replicas;
    }
    /* a new cluster may take a few seconds to elect its JetStream leader */
    for (int i = 0; s == NATS_OK && i < 50; i++) {
        jerr = 0;
        if (js_AddStream(NULL, js, &cfg, NULL, &jerr) == NATS_OK)
            break;
        if (i == 49)
            s = NATS_TIMEOUT;
        nanosleep(&(struct timespec){0, 200000000L}, NULL);
    }
    if (s != NATS_OK)
        snprintf(error, size, "%s (JetStream error %d)", natsStatus_GetText(s),
                 (int)jerr);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(no);
    return s == NATS_OK;
}
