/* SPDX-License-Identifier: MIT */
/*
 * fake_nats_faults.c — the faults a spec scripts on the fake broker, as
 * librdkafka's mock cluster lets one script a Kafka cluster: per-operation
 * error stacks (with a virtual delay), the connection going down and up,
 * extra connections that can crash, and a log of every request.
 *
 * Everything here is opt-in: a fake that never calls these functions never
 * allocates `faults`, and every hook returns at once on NULL.
 */
#include "fake_nats-private.h"

#include <stdlib.h>
#include <string.h>

#include "listenkit/alloc.h"

/* One scripted failure: wait `delay_ms`, then return `status`. */
typedef struct fk_injected {
    lk_status status;
    int64_t delay_ms;
} fk_injected;

/* A FIFO per operation: entries are taken from `head`. */
typedef struct fk_stack {
    fk_injected *items;
    size_t head, count, cap;
} fk_stack;

struct fk_conn {
    lk_bus bus; /* first: the lk_bus * handed out is the connection */
    lk_fake_nats *nats;
    bool closed; /* drained or aborted: every call is LK_ERR_CLOSED */
};

typedef struct fk_faults {
    fk_stack stacks[LK_FAKE_OP_SUBSCRIBE]; /* the ops that have one */
    bool down;
    uint64_t downs;   /* times the connection went down: a batch message
                         published before the last one lost its ack */
    size_t withheld;  /* publishes whose acknowledgement is still to be
                         withheld (lk_fake_nats_withhold_publish_acks) */
    bool bus_aborted; /* the fake's own bus crashed */
    fk_conn **conns;
    size_t conn_count, conn_cap;
    bool logging;
    lk_fake_request *log;
    size_t log_count, log_cap;
} fk_faults;

static const char *const op_names[LK_FAKE_OP_COUNT] = {
    "publish",   "ack",     "nak",   "term",  "in_progress",
    "subscribe", "deliver", "drain", "abort",
};

const char *lk_fake_op_name(lk_fake_op op)
{
    return (unsigned)op < LK_FAKE_OP_COUNT ? op_names[op] : "?";
}

static fk_faults *faults_of(lk_fake_nats *nats)
{
    if (nats->faults == NULL)
        nats->faults = lk_calloc(1, sizeof *nats->faults);
    return nats->faults;
}

static bool has_stack(lk_fake_op op)
{
    return (unsigned)op < LK_FAKE_OP_SUBSCRIBE;
}

/* ---- error stacks -------------------------------------------------------------- */

lk_status lk_fake_nats_push_errors(lk_fake_nats *nats, lk_fake_op op,
                                   size_t count, lk_status status,
                                   int64_t delay_ms)
{
    if (nats == NULL || !has_stack(op) || delay_ms < 0)
        return LK_ERR_INVALID;
    fk_faults *f = faults_of(nats);
    if (f == NULL)
        return LK_ERR_NOMEM;
    fk_stack *st = &f->stacks[op];
    if (st->head > 0) { /* compact: taken entries are spent */
        memmove(st->items, st->items + st->head,
                (st->count - st->head) * sizeof *st->items);
        st->count -= st->head;
        st->head = 0;
    }
    if (count > SIZE_MAX / sizeof *st->items - st->count)
        return LK_ERR_NOMEM;
    if (st->count + count > st->cap) {
        size_t cap = st->count + count;
        fk_injected *grown = lk_realloc(st->items, cap * sizeof *grown);
        if (grown == NULL)
            return LK_ERR_NOMEM;
        st->items = grown;
        st->cap = cap;
    }
    for (size_t i = 0; i < count; i++)
        st->items[st->count++] = (fk_injected){status, delay_ms};
    return LK_OK;
}

size_t lk_fake_nats_pending_errors(const lk_fake_nats *nats, lk_fake_op op)
{
    if (nats == NULL || nats->faults == NULL || !has_stack(op))
        return 0;
    const fk_stack *st = &nats->faults->stacks[op];
    return st->count - st->head;
}

void lk_fake_nats_clear_errors(lk_fake_nats *nats, lk_fake_op op)
{
    if (nats == NULL || nats->faults == NULL || !has_stack(op))
        return;
    fk_stack *st = &nats->faults->stacks[op];
    st->head = st->count = 0;
}

static bool conn_closed(const fk_faults *f, const fk_conn *conn)
{
    return conn != NULL ? conn->closed : f->bus_aborted;
}

lk_status fk_fault_check_open(const lk_fake_nats *nats, const fk_conn *conn,
                              const char *what, const char *subject,
                              lk_error *err)
{
    const fk_faults *f = nats->faults;
    if (f == NULL)
        return LK_OK;
    if (conn_closed(f, conn))
        return lk_error_set(err, LK_ERR_CLOSED,
                            "fake-nats: %s %s: the connection is closed "
                            "(aborted or drained)",
                            what, subject);
    if (f->down)
        return lk_error_set(err, LK_ERR_IO,
                            "fake-nats: %s %s: not connected (the connection "
                            "is down); nothing was sent",
                            what, subject);
    return LK_OK;
}

lk_status fk_fault_call(lk_fake_nats *nats, const fk_conn *conn, lk_fake_op op,
                        const char *subject, lk_error *err)
{
    fk_faults *f = nats->faults;
    const char *what = lk_fake_op_name(op);
    lk_status open = fk_fault_check_open(nats, conn, what, subject, err);
    if (f == NULL || open != LK_OK)
        return open;
    if (!has_stack(op))
        return LK_OK;
    fk_stack *st = &f->stacks[op];
    if (st->head == st->count)
        return LK_OK;
    fk_injected inj = st->items[st->head++];
    if (inj.delay_ms > INT64_MAX - nats->now)
        nats->now = INT64_MAX;
    else
        nats->now += inj.delay_ms; /* the call blocks: nothing is delivered */
    if (inj.status == LK_OK)
        return LK_OK;
    fk_trace(nats, "t=%lld %s %s: injected %s\n", (long long)nats->now, what,
             subject, lk_status_name(inj.status));
    return lk_error_set(err, inj.status,
                        "fake-nats: %s %s: injected failure (push_errors): %s",
                        what, subject, lk_status_str(inj.status));
}

/* ---- connection down and up ------------------------------------------------------ */

void lk_fake_nats_connection_down(lk_fake_nats *nats)
{
    fk_faults *f = nats != NULL ? faults_of(nats) : NULL;
    if (f != NULL && !f->down) {
        f->down = true;
        f->downs++;
        fk_trace(nats, "t=%lld connection down\n", (long long)nats->now);
    }
}

void lk_fake_nats_connection_up(lk_fake_nats *nats)
{
    if (nats != NULL && nats->faults != NULL && nats->faults->down) {
        nats->faults->down = false;
        fk_trace(nats, "t=%lld connection up\n", (long long)nats->now);
    }
}

bool lk_fake_nats_is_connected(const lk_fake_nats *nats)
{
    return nats != NULL && (nats->faults == NULL || !nats->faults->down);
}

bool fk_fault_paused(const lk_fake_nats *nats)
{
    return nats->faults != NULL && nats->faults->down;
}

uint64_t fk_fault_downs(const lk_fake_nats *nats)
{
    return nats->faults != NULL ? nats->faults->downs : 0;
}

/* ---- publish acknowledgements withheld ---------------------------------------------- */

lk_status lk_fake_nats_withhold_publish_acks(lk_fake_nats *nats, size_t count)
{
    fk_faults *f = nats != NULL ? faults_of(nats) : NULL;
    if (nats == NULL)
        return LK_ERR_INVALID;
    if (f == NULL)
        return LK_ERR_NOMEM;
    f->withheld = count > SIZE_MAX - f->withheld ? SIZE_MAX
                                                 : f->withheld + count;
    return LK_OK;
}

size_t lk_fake_nats_pending_withheld_acks(const lk_fake_nats *nats)
{
    return nats != NULL && nats->faults != NULL ? nats->faults->withheld : 0;
}

bool fk_fault_take_withheld(lk_fake_nats *nats)
{
    fk_faults *f = nats->faults;
    if (f == NULL || f->withheld == 0)
        return false;
    f->withheld--;
    fk_trace(nats, "t=%lld publish acknowledgement withheld\n",
             (long long)nats->now);
    return true;
}

/* ---- connections ------------------------------------------------------------------ */

static fk_conn *conn_of(lk_bus *bus);

static lk_status conn_publish(lk_bus *bus, const char *subject,
                              const void *data, size_t len,
                              const lk_publish_opts *opts, lk_error *err)
{
    fk_conn *conn = (fk_conn *)bus;
    return fk_publish_waiting(conn->nats, conn, subject, data, len, opts, err);
}

static lk_status conn_batch_new(lk_bus *bus, const lk_batch_opts *opts,
                                lk_batch **out, lk_error *err)
{
    fk_conn *conn = (fk_conn *)bus;
    return fk_batch_new(conn->nats, conn, opts, out, err);
}

static lk_status conn_subscribe(lk_bus *bus, const char *subject,
                                const lk_subscribe_opts *opts,
                                lk_msg_handler handler, void *closure,
                                lk_error *err)
{
    fk_conn *conn = (fk_conn *)bus;
    return fk_subscribe(conn->nats, conn, subject, opts, handler, closure,
                        err);
}

/* Drain: the members leave, nothing more is delivered to them. A fake's
 * handler never runs across a call, so nothing is in flight. */
static lk_status conn_drain(lk_bus *bus, lk_error *err)
{
    (void)err;
    fk_conn *conn = (fk_conn *)bus;
    if (!conn->closed) {
        fk_broker_remove_members(conn->nats, conn);
        conn->closed = true;
        fk_request(conn->nats, LK_FAKE_OP_DRAIN, NULL, 0, 0, NULL, LK_OK);
    }
    return LK_OK;
}

/* The memory stays with the fake (see fake_nats.h). */
static void conn_free(lk_bus *bus) { conn_drain(bus, NULL); }

static const lk_bus_ops conn_ops = {
    .name = "fake-nats",
    .publish = conn_publish,
    .subscribe = conn_subscribe,
    .drain = conn_drain,
    .free = conn_free,
    .batch_new = conn_batch_new,
};

static fk_conn *conn_of(lk_bus *bus)
{
    return bus != NULL && bus->ops == &conn_ops ? (fk_conn *)bus : NULL;
}

lk_bus *lk_fake_nats_connect(lk_fake_nats *nats)
{
    if (nats == NULL || !nats->broker)
        return NULL;
    fk_faults *f = faults_of(nats);
    fk_conn *conn = f != NULL ? lk_calloc(1, sizeof *conn) : NULL;
    if (conn == NULL || !fk_grow((void **)&f->conns, &f->conn_cap,
                                 f->conn_count, sizeof *f->conns)) {
        lk_free(conn);
        return NULL;
    }
    conn->bus.ops = &conn_ops;
    conn->nats = nats;
    f->conns[f->conn_count++] = conn;
    return &conn->bus;
}

size_t fk_broker_remove_members(lk_fake_nats *nats, const fk_conn *conn)
{
    size_t removed = 0;
    for (size_t i = 0; i < nats->consumer_count; i++) {
        fk_consumer *c = nats->consumers[i];
        size_t kept = 0;
        for (size_t k = 0; k < c->member_count; k++)
            if (c->members[k].conn != conn)
                c->members[kept++] = c->members[k];
        removed += c->member_count - kept;
        c->member_count = kept;
    }
    return removed;
}

size_t lk_fake_nats_abort(lk_fake_nats *nats, lk_bus *bus)
{
    if (nats == NULL || bus == NULL)
        return 0;
    fk_conn *conn = conn_of(bus);
    if (conn != NULL && conn->nats != nats)
        return 0;
    if (conn == NULL && bus != lk_fake_nats_bus(nats))
        return 0;
    fk_faults *f = faults_of(nats);
    if (f == NULL || conn_closed(f, conn))
        return 0;
    size_t removed = fk_broker_remove_members(nats, conn);
    if (conn != NULL)
        conn->closed = true;
    else
        f->bus_aborted = true;
    fk_trace(nats, "t=%lld abort %s: %zu members gone\n", (long long)nats->now,
             conn != NULL ? "connection" : "bus", removed);
    fk_request(nats, LK_FAKE_OP_ABORT, NULL, 0, 0, NULL, LK_OK);
    return removed;
}

/* ---- the request log ---------------------------------------------------------------- */

void lk_fake_nats_log_requests(lk_fake_nats *nats, bool on)
{
    fk_faults *f = nats != NULL ? faults_of(nats) : NULL;
    if (f != NULL)
        f->logging = on;
}

void fk_request(lk_fake_nats *nats, lk_fake_op op, const char *subject,
                uint64_t seq, uint64_t deliveries, const char *consumer,
                lk_status status)
{
    fk_faults *f = nats->faults;
    if (f == NULL || !f->logging ||
        !fk_grow((void **)&f->log, &f->log_cap, f->log_count, sizeof *f->log))
        return; /* a diagnostic: losing an entry to OOM beats failing */
    lk_fake_request r = {nats->now, op,   fk_strdup(subject), seq, deliveries,
                         fk_strdup(consumer), status};
    if ((subject != NULL && r.subject == NULL) ||
        (consumer != NULL && r.consumer == NULL)) {
        lk_free((char *)(uintptr_t)r.subject);
        lk_free((char *)(uintptr_t)r.consumer);
        return;
    }
    f->log[f->log_count++] = r;
}

size_t lk_fake_nats_request_count(const lk_fake_nats *nats)
{
    return nats != NULL && nats->faults != NULL ? nats->faults->log_count : 0;
}

const lk_fake_request *lk_fake_nats_request(const lk_fake_nats *nats,
                                            size_t i)
{
    if (nats == NULL || nats->faults == NULL || i >= nats->faults->log_count)
        return NULL;
    return &nats->faults->log[i];
}

/* ---- release ---------------------------------------------------------------------- */

void fk_faults_free(lk_fake_nats *nats)
{
    fk_faults *f = nats->faults;
    if (f == NULL)
        return;
    for (size_t i = 0; i < LK_FAKE_OP_SUBSCRIBE; i++)
        lk_free(f->stacks[i].items);
    for (size_t i = 0; i < f->conn_count; i++)
        lk_free(f->conns[i]);
    lk_free(f->conns);
    for (size_t i = 0; i < f->log_count; i++) {
        lk_free((char *)(uintptr_t)f->log[i].subject);
        lk_free((char *)(uintptr_t)f->log[i].consumer);
    }
    lk_free(f->log);
    lk_free(f);
    nats->faults = NULL;
}
