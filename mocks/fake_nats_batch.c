/* SPDX-License-Identifier: MIT */
/*
 * fake_nats_batch.c — the fake's own lk_batch (listenkit/batch.h): messages
 * are stored at publish time, in publish order, while their
 * acknowledgements stay "in flight" until lk_batch_wait, or until
 * max_in_flight of them wait and the next publish needs room. That keeps a
 * batch on the fake as close to the NATS adapter's as a single-threaded,
 * virtual-time double can be, so a spec sees the outcomes a user meets on
 * a server: a message the broker stored whose acknowledgement never came
 * (LK_ERR_TIMEOUT, lk_fake_nats_withhold_publish_acks), one whose
 * connection dropped before its acknowledgement (LK_ERR_IO: the connection
 * went down after it was published, or its connection crashed), one the
 * server refused (an error
 * stack entry, fail_subject: nothing stored).
 */
#include "fake_nats-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listenkit/alloc.h"

/* As the NATS adapter: above this the adapter refuses the batch. */
#define MAX_IN_FLIGHT_LIMIT 65536

/* A message published, its outcome not noted in the lk_batch yet. */
typedef struct fk_flight {
    size_t index;
    char *subject, *msg_id;
    uint64_t downs;   /* fk_fault_downs when it was published */
    bool withheld;    /* its acknowledgement never comes */
    lk_status status; /* LK_OK: stored; else refused, with `message` */
    char *message;
} fk_flight;

typedef struct fk_batch {
    lk_batch base;
    lk_fake_nats *nats;
    fk_conn *conn;
    size_t max_in_flight;
    fk_flight *flights;
    size_t count, cap;
} fk_batch;

static void flight_free(fk_flight *f)
{
    lk_free(f->subject);
    lk_free(f->msg_id);
    lk_free(f->message);
}

/* Notes the outcome of flight `f`; false when it is still in flight (its
 * acknowledgement is withheld and `timed_out` is false). */
static bool settle_one(fk_batch *b, fk_flight *f, bool timed_out,
                       int64_t timeout_ms)
{
    char message[LK_ERROR_MESSAGE_MAX + 1];
    lk_status status = f->status;
    if (status != LK_OK) {
        snprintf(message, sizeof message, "%s", f->message);
    } else if (f->downs != fk_fault_downs(b->nats) ||
               fk_fault_paused(b->nats) ||
               fk_fault_check_open(b->nats, b->conn, "", "", NULL) != LK_OK) {
        status = LK_ERR_IO;
        snprintf(message, sizeof message,
                 "publish %s: the connection was lost before the "
                 "acknowledgement; the server may have stored it",
                 f->subject);
    } else if (f->withheld) {
        if (!timed_out)
            return false;
        status = LK_ERR_TIMEOUT;
        snprintf(message, sizeof message,
                 "publish %s: no acknowledgement within %lld ms; the server "
                 "may still have stored it",
                 f->subject, (long long)timeout_ms);
    }
    if (status == LK_OK)
        lk_batch_note_acked(&b->base, 1);
    else
        lk_batch_note_failure(&b->base, f->index, f->subject, f->msg_id,
                              status, message);
    flight_free(f);
    return true;
}

/* Settles what can be settled; with `timed_out` every flight. */
static void settle(fk_batch *b, bool timed_out, int64_t timeout_ms)
{
    size_t kept = 0;
    for (size_t i = 0; i < b->count; i++)
        if (!settle_one(b, &b->flights[i], timed_out, timeout_ms))
            b->flights[kept++] = b->flights[i];
    b->count = kept;
}

/* Refusals that say the message never left, as from the adapter: returned
 * by lk_batch_publish itself. Anything else is the message's outcome. */
static bool refused_at_once(lk_status s)
{
    return s == LK_ERR_INVALID || s == LK_ERR_CLOSED || s == LK_ERR_TOO_LARGE ||
           s == LK_ERR_NOMEM || s == LK_ERR_UNSUPPORTED;
}

static lk_status fb_publish(lk_batch *batch, const char *subject,
                            const void *data, size_t len,
                            const lk_publish_opts *opts, lk_error *err)
{
    fk_batch *b = (fk_batch *)batch;
    lk_fake_nats *nats = b->nats;
    const char *msg_id = opts != NULL ? opts->msg_id : NULL;
    if (nats->closed)
        return lk_error_set(err, LK_ERR_CLOSED,
                            "fake-nats: publish %s: the bus is drained",
                            subject);
    /* A connection that is down sends nothing: refused at once. */
    lk_status s = fk_fault_check_open(nats, b->conn, "publish", subject, err);
    if (s != LK_OK)
        return s;
    if (b->count == b->max_in_flight) /* room: the acknowledgements come */
        settle(b, false, 0);
    if (b->count == b->max_in_flight) { /* all withheld: the stall wait */
        int64_t wait = b->base.default_timeout_ms;
        nats->now = nats->now > INT64_MAX - wait ? INT64_MAX : nats->now + wait;
        return lk_error_set(err, LK_ERR_TIMEOUT,
                            "fake-nats: publish %s: %zu messages still "
                            "unacknowledged after %lld ms; nothing was sent",
                            subject, b->count, (long long)wait);
    }
    if (!fk_grow((void **)&b->flights, &b->cap, b->count, sizeof *b->flights))
        return lk_error_set(err, LK_ERR_NOMEM,
                            "fake-nats: publish %s: out of memory", subject);
    fk_flight f = {.index = b->base.published,
                   .subject = fk_strdup(subject),
                   .msg_id = msg_id != NULL ? fk_strdup(msg_id) : NULL,
                   .downs = fk_fault_downs(nats)};
    if (f.subject == NULL || (msg_id != NULL && f.msg_id == NULL)) {
        flight_free(&f);
        return lk_error_set(err, LK_ERR_NOMEM,
                            "fake-nats: publish %s: out of memory", subject);
    }
    lk_error e;
    lk_error_clear(&e);
    s = fk_publish(nats, b->conn, subject, data, len, opts, &e);
    if (s != LK_OK && refused_at_once(s)) {
        flight_free(&f);
        return lk_error_set(err, s, "%s", e.message);
    }
    if (s == LK_OK) {
        f.withheld = fk_fault_take_withheld(nats);
    } else {
        f.status = s;
        f.message = fk_strdup(e.message);
        if (f.message == NULL) {
            /* Nothing was stored, and the failure cannot be kept. */
            flight_free(&f);
            return lk_error_set(err, s, "%s", e.message);
        }
    }
    b->flights[b->count++] = f;
    return LK_OK;
}

/* Every acknowledgement that is coming comes now; withheld ones make the
 * wait last its whole timeout, in virtual time (the call blocks: nothing
 * is delivered meanwhile), and then fail. */
static lk_status fb_wait(lk_batch *batch, int64_t timeout_ms, lk_error *err)
{
    fk_batch *b = (fk_batch *)batch;
    (void)err;
    settle(b, false, timeout_ms);
    if (b->count > 0) {
        lk_fake_nats *nats = b->nats;
        nats->now = nats->now > INT64_MAX - timeout_ms ? INT64_MAX
                                                       : nats->now + timeout_ms;
        settle(b, true, timeout_ms);
    }
    return LK_OK;
}

static void fb_free(lk_batch *batch)
{
    fk_batch *b = (fk_batch *)batch;
    for (size_t i = 0; i < b->count; i++) /* abandoned, as documented */
        flight_free(&b->flights[i]);
    lk_free(b->flights);
    lk_batch_release(batch);
    lk_free(b);
}

static const lk_batch_ops fake_batch_ops = {
    .publish = fb_publish,
    .wait = fb_wait,
    .free = fb_free,
};

lk_status fk_batch_new(lk_fake_nats *nats, fk_conn *conn,
                       const lk_batch_opts *opts, lk_batch **out,
                       lk_error *err)
{
    size_t max = opts != NULL && opts->max_in_flight > 0
                     ? opts->max_in_flight
                     : LK_DEFAULT_MAX_IN_FLIGHT;
    if (max > MAX_IN_FLIGHT_LIMIT)
        return lk_error_set(err, LK_ERR_INVALID,
                            "batch: max_in_flight must be <= %d, got %zu",
                            MAX_IN_FLIGHT_LIMIT, max);
    if (nats->closed)
        return lk_error_set(err, LK_ERR_CLOSED,
                            "fake-nats: batch: the bus is drained");
    lk_status s = fk_fault_check_open(nats, conn, "batch", "(new)", err);
    if (s != LK_OK)
        return s;
    fk_batch *b = lk_calloc(1, sizeof *b);
    if (b == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "batch: out of memory");
    lk_batch_init(&b->base, &fake_batch_ops);
    b->base.default_timeout_ms = LK_FAKE_NATS_PUBLISH_TIMEOUT_MS;
    b->nats = nats;
    b->conn = conn;
    b->max_in_flight = max;
    *out = &b->base;
    return LK_OK;
}
