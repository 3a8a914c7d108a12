/* SPDX-License-Identifier: MIT */
/* batch.c — the checks and the bookkeeping every batch shares, and the
 * generic batch for buses without one of their own. */
#include "listenkit/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listenkit/bus-private.h"

/* ---- bookkeeping -------------------------------------------------------------- */

/* Out of memory, a failure keeps its index and status with this text in
 * place of the strings it could not copy: counted and findable, never
 * dropped. */
static const char oom_text[] = "(out of memory while recording the failure)";

static const char *copy_text(const char *s)
{
    if (s == NULL)
        return NULL;
    const char *copy = strdup(s);
    return copy != NULL ? copy : oom_text;
}

static void free_text(const char *s)
{
    if (s != oom_text)
        free((char *)s);
}

void lk_batch_init(lk_batch *batch, const lk_batch_ops *ops)
{
    memset(batch, 0, sizeof *batch);
    batch->ops = ops;
    batch->default_timeout_ms = 1;
    batch->sorted = true;
}

void lk_batch_release(lk_batch *batch)
{
    for (size_t i = 0; i < batch->failure_count; i++) {
        lk_batch_failure *f = &batch->failures[i];
        free_text(f->subject);
        free_text(f->msg_id);
        free_text(f->message);
    }
    free(batch->failures);
    batch->failures = NULL;
    batch->failure_count = batch->failure_cap = 0;
    free(batch->checked_subject);
    batch->checked_subject = NULL;
}

void lk_batch_note_acked(lk_batch *batch, size_t n)
{
    batch->acked += n;
}

void lk_batch_note_failure(lk_batch *batch, size_t index, const char *subject,
                           const char *msg_id, lk_status status,
                           const char *message)
{
    if (batch->failure_count == batch->failure_cap) {
        size_t cap = batch->failure_cap ? batch->failure_cap * 2 : 8;
        lk_batch_failure *grown =
            realloc(batch->failures, cap * sizeof *grown);
        if (grown == NULL)
            return; /* cannot even count it: the wait reports the gap */
        batch->failures = grown;
        batch->failure_cap = cap;
    }
    lk_batch_failure f = {index, copy_text(subject), copy_text(msg_id), status,
                          copy_text(message != NULL ? message : "")};
    if (batch->failure_count > 0 &&
        batch->failures[batch->failure_count - 1].index > index)
        batch->sorted = false;
    batch->failures[batch->failure_count++] = f;
}

static int by_index(const void *a, const void *b)
{
    size_t x = ((const lk_batch_failure *)a)->index;
    size_t y = ((const lk_batch_failure *)b)->index;
    return (x > y) - (x < y);
}

/* ---- the public face -------------------------------------------------------------- */

lk_status lk_batch_new(lk_bus *bus, const lk_batch_opts *opts, lk_batch **out,
                       lk_error *err)
{
    if (out == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "batch: out is NULL");
    *out = NULL;
    if (bus == NULL || bus->ops == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "batch: bus is NULL");
    if (bus->ops->batch_new != NULL)
        return bus->ops->batch_new(bus, opts, out, err);
    return lk_batch_new_generic(bus, opts, out, err);
}

lk_status lk_batch_publish(lk_batch *batch, const char *subject,
                           const void *data, size_t len,
                           const lk_publish_opts *opts, lk_error *err)
{
    if (batch == NULL || batch->ops == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "publish: batch is NULL");
    /* A batch mostly publishes on one subject: checking it again for every
     * message was a sixth of the batch's own cost per message. */
    bool known = subject != NULL && batch->checked_subject != NULL &&
                 strcmp(subject, batch->checked_subject) == 0;
    lk_status s = LK_OK;
    if (!known || (data == NULL && len > 0))
        s = lk_bus_check_publish(subject, data, len, err);
    if (s == LK_OK && !known) {
        char *copy = strdup(subject);
        if (copy != NULL) { /* without it, the next one is checked again */
            free(batch->checked_subject);
            batch->checked_subject = copy;
        }
    }
    if (s == LK_OK)
        s = batch->ops->publish(batch, subject, data, len, opts, err);
    if (s == LK_OK)
        batch->published++;
    return s;
}

lk_status lk_batch_wait(lk_batch *batch, int64_t timeout_ms, lk_error *err)
{
    if (batch == NULL || batch->ops == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "batch wait: batch is NULL");
    if (timeout_ms < 0)
        return lk_error_set(err, LK_ERR_INVALID,
                            "batch wait: timeout_ms must be >= 0, got %lld",
                            (long long)timeout_ms);
    if (timeout_ms == 0)
        timeout_ms = batch->default_timeout_ms;
    lk_status s = batch->ops->wait(batch, timeout_ms, err);
    if (s != LK_OK)
        return s;
    if (!batch->sorted) {
        qsort(batch->failures, batch->failure_count, sizeof *batch->failures,
              by_index);
        batch->sorted = true;
    }
    size_t settled = batch->acked + batch->failure_count;
    if (settled < batch->published)
        /* Only when a failure could not even be recorded (OOM). */
        return lk_error_set(err, LK_ERR_NOMEM,
                            "batch: %zu of %zu messages settled; the "
                            "outcome of the others was lost to out of memory",
                            settled, batch->published);
    if (batch->failure_count == 0)
        return LK_OK;
    const lk_batch_failure *first = &batch->failures[0];
    return lk_error_set(err, first->status,
                        "batch: %zu of %zu messages failed; first, #%zu: %s",
                        batch->failure_count, batch->published, first->index,
                        first->message);
}

size_t lk_batch_published(const lk_batch *batch)
{
    return batch != NULL ? batch->published : 0;
}

size_t lk_batch_acked(const lk_batch *batch)
{
    return batch != NULL ? batch->acked : 0;
}

size_t lk_batch_failure_count(const lk_batch *batch)
{
    return batch != NULL ? batch->failure_count : 0;
}

const lk_batch_failure *lk_batch_failure_at(const lk_batch *batch, size_t i)
{
    if (batch == NULL || i >= batch->failure_count)
        return NULL;
    return &batch->failures[i];
}

void lk_batch_free(lk_batch *batch)
{
    if (batch != NULL && batch->ops != NULL)
        batch->ops->free(batch);
}

/* ---- the generic batch ---------------------------------------------------------- */

typedef struct generic_batch {
    lk_batch base;
    lk_bus *bus;
} generic_batch;

/* Refusals that no later attempt can change, or that say the message never
 * left: returned at once, as the NATS adapter returns them. Anything else
 * (a refusal by the server, a lost connection, an injected fault) is the
 * message's outcome, reported by wait. */
static bool refused_before_sending(lk_status s)
{
    return s == LK_ERR_INVALID || s == LK_ERR_CLOSED || s == LK_ERR_TOO_LARGE ||
           s == LK_ERR_NOMEM || s == LK_ERR_UNSUPPORTED;
}

static lk_status generic_publish(lk_batch *batch, const char *subject,
                                 const void *data, size_t len,
                                 const lk_publish_opts *opts, lk_error *err)
{
    generic_batch *g = (generic_batch *)batch;
    lk_error e;
    lk_error_clear(&e);
    lk_status s = g->bus->ops->publish(g->bus, subject, data, len, opts, &e);
    if (s == LK_OK) {
        lk_batch_note_acked(batch, 1);
        return LK_OK;
    }
    if (refused_before_sending(s))
        return lk_error_set(err, s, "%s", e.message);
    lk_batch_note_failure(batch, batch->published, subject,
                          opts != NULL ? opts->msg_id : NULL, s, e.message);
    return LK_OK;
}

static lk_status generic_wait(lk_batch *batch, int64_t timeout_ms,
                              lk_error *err)
{
    (void)batch;
    (void)timeout_ms;
    (void)err;
    return LK_OK; /* every publish settled before it returned */
}

static void generic_free(lk_batch *batch)
{
    lk_batch_release(batch);
    free(batch);
}

static const lk_batch_ops generic_ops = {
    .publish = generic_publish,
    .wait = generic_wait,
    .free = generic_free,
};

lk_status lk_batch_new_generic(lk_bus *bus, const lk_batch_opts *opts,
                               lk_batch **out, lk_error *err)
{
    (void)opts; /* nothing is ever in flight */
    if (out == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "batch: out is NULL");
    *out = NULL;
    if (bus == NULL || bus->ops == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "batch: bus is NULL");
    generic_batch *g = calloc(1, sizeof *g);
    if (g == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "batch: out of memory");
    lk_batch_init(&g->base, &generic_ops);
    g->bus = bus;
    *out = &g->base;
    return LK_OK;
}
