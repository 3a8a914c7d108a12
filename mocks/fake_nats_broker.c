/* SPDX-License-Identifier: MIT */
/*
 * fake_nats_broker.c — the fake's in-process JetStream: one stream, durable
 * consumers, a virtual clock, and seeded faults.
 *
 * Each consumer keeps the messages it still owes in two places: those
 * delivered at least once in a binary min-heap ordered by (due time, stream
 * sequence), those never delivered in a FIFO (see fk_consumer). One step
 * costs O(consumers + log pending), never a scan of the stream; the split
 * lets max ack pending hold back new messages while redeliveries flow, as
 * JetStream does. Every random choice (queue-group
 * member, reorder window, lost acks) comes from one splitmix64 generator
 * seeded by the options, so a run is a pure function of seed, options and
 * calls.
 */
#include "fake_nats-private.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "listenkit/alloc.h"

/* ---- seeded generator (splitmix64) ----------------------------------------- */

static uint64_t rng_next(lk_fake_nats *nats)
{
    uint64_t z = (nats->rng += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0, without modulo bias. */
static size_t rng_below(lk_fake_nats *nats, size_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = rng_next(nats);
    while (x >= limit);
    return (size_t)(x % n);
}

/* Uniform in [0, 1). */
static double rng_unit(lk_fake_nats *nats)
{
    return (double)(rng_next(nats) >> 11) * 0x1.0p-53;
}

/* ---- the pending heap of a consumer -------------------------------------------- */

static bool pending_before(const fk_pending *a, const fk_pending *b)
{
    if (a->due != b->due)
        return a->due < b->due;
    return a->seq < b->seq;
}

static bool heap_push(fk_consumer *c, fk_pending p)
{
    if (!fk_grow((void **)&c->pending, &c->pending_cap, c->pending_count,
                 sizeof *c->pending))
        return false;
    size_t i = c->pending_count++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!pending_before(&p, &c->pending[parent]))
            break;
        c->pending[i] = c->pending[parent];
        i = parent;
    }
    c->pending[i] = p;
    return true;
}

static fk_pending heap_pop(fk_consumer *c)
{
    fk_pending top = c->pending[0];
    fk_pending last = c->pending[--c->pending_count];
    size_t n = c->pending_count, i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n &&
            pending_before(&c->pending[child + 1], &c->pending[child]))
            child++;
        if (!pending_before(&c->pending[child], &last))
            break;
        c->pending[i] = c->pending[child];
        i = child;
    }
    if (n > 0)
        c->pending[i] = last;
    return top;
}

/* ---- the fresh queue of a consumer -------------------------------------------- */

static size_t fresh_count(const fk_consumer *c)
{
    return c->fresh_end - c->fresh_head;
}

static bool fresh_push(fk_consumer *c, fk_pending p)
{
    if (c->fresh_head == c->fresh_end)
        c->fresh_head = c->fresh_end = 0; /* empty: start over */
    if (c->fresh_end == c->fresh_cap && c->fresh_head > 0 &&
        c->fresh_head >= c->fresh_end / 2) {
        /* Half the array is spent: slide down rather than grow (a push
         * stays O(1) amortised and the array bounded by the backlog). */
        size_t n = fresh_count(c);
        memmove(c->fresh, c->fresh + c->fresh_head, n * sizeof *c->fresh);
        c->fresh_head = 0;
        c->fresh_end = n;
    }
    if (!fk_grow((void **)&c->fresh, &c->fresh_cap, c->fresh_end,
                 sizeof *c->fresh))
        return false;
    c->fresh[c->fresh_end++] = p;
    return true;
}

/* Takes the fresh message `seq` out of the first `within` of the queue,
 * keeping the others in order. */
static void fresh_remove(fk_consumer *c, uint64_t seq, size_t within)
{
    size_t j = 0;
    while (j + 1 < within && c->fresh[c->fresh_head + j].seq != seq)
        j++;
    memmove(c->fresh + c->fresh_head + 1, c->fresh + c->fresh_head,
            j * sizeof *c->fresh);
    c->fresh_head++;
}

/* ---- what a consumer delivers next ------------------------------------------ */

/* JetStream hands a consumer's new messages out only while fewer than max
 * ack pending deliveries await a reply; redeliveries are not held back. */
static bool under_ack_limit(const fk_consumer *c)
{
    return c->pending_count < (size_t)c->max_ack_pending;
}

/* The earlier by (due, seq) of the first redelivery and, when `fresh_ok`,
 * the first fresh message. NULL: nothing to deliver. */
static const fk_pending *peek_next(const fk_consumer *c, bool fresh_ok)
{
    const fk_pending *r = c->pending_count > 0 ? &c->pending[0] : NULL;
    const fk_pending *f =
        fresh_ok && fresh_count(c) > 0 ? &c->fresh[c->fresh_head] : NULL;
    if (f == NULL || (r != NULL && pending_before(r, f)))
        return r;
    return f;
}

static const fk_pending *next_of(const fk_consumer *c)
{
    return peek_next(c, under_ack_limit(c));
}

/* Removes and returns what peek_next() shows (which must not be NULL).
 * Fresh messages are the ones never delivered. */
static fk_pending pop_next(fk_consumer *c, bool fresh_ok)
{
    if (peek_next(c, fresh_ok)->deliveries == 0)
        return c->fresh[c->fresh_head++];
    return heap_pop(c);
}

/* ---- de-duplication ids ------------------------------------------------------- */

static uint64_t hash_text(const char *s)
{
    uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a */
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return h;
}

/* The slot of `id`, or of the empty slot where it would go. */
static size_t msg_id_slot(char **slots, size_t cap, const char *id)
{
    size_t i = (size_t)(hash_text(id) & (cap - 1));
    while (slots[i] != NULL && strcmp(slots[i], id) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

static bool msg_id_seen(const lk_fake_nats *nats, const char *id)
{
    if (nats->msg_id_cap == 0)
        return false;
    return nats->msg_ids[msg_id_slot(nats->msg_ids, nats->msg_id_cap, id)] !=
           NULL;
}

static bool msg_id_add(lk_fake_nats *nats, const char *id)
{
    if ((nats->msg_id_count + 1) * 2 > nats->msg_id_cap) {
        size_t cap = nats->msg_id_cap == 0 ? 64 : nats->msg_id_cap * 2;
        char **slots = lk_calloc(cap, sizeof *slots);
        if (slots == NULL)
            return false;
        for (size_t i = 0; i < nats->msg_id_cap; i++)
            if (nats->msg_ids[i] != NULL)
                slots[msg_id_slot(slots, cap, nats->msg_ids[i])] =
                    nats->msg_ids[i];
        lk_free(nats->msg_ids);
        nats->msg_ids = slots;
        nats->msg_id_cap = cap;
    }
    char *copy = fk_strdup(id);
    if (copy == NULL)
        return false;
    nats->msg_ids[msg_id_slot(nats->msg_ids, nats->msg_id_cap, id)] = copy;
    nats->msg_id_count++;
    return true;
}

/* ---- publish ------------------------------------------------------------------ */

lk_status fk_broker_publish(lk_fake_nats *nats, const char *subject,
                            const void *data, size_t len, const char *msg_id,
                            lk_error *err)
{
    if (msg_id != NULL && msg_id_seen(nats, msg_id)) {
        /* JetStream accepts the duplicate and does not store it again. */
        nats->stats.deduplicated++;
        fk_trace(nats, "t=%lld publish %s duplicate msg id \"%s\" dropped\n",
                 (long long)nats->now, subject, msg_id);
        return LK_OK;
    }
    /* The msg_id last: once added, nothing may fail, or the id would stay
     * remembered for a message never stored. */
    fk_stored m = {fk_strdup(subject), lk_malloc(len + 1), len, nats->now};
    if (m.subject == NULL || m.data == NULL ||
        !fk_grow((void **)&nats->stream, &nats->stream_cap,
                 nats->stream_count, sizeof *nats->stream) ||
        (msg_id != NULL && !msg_id_add(nats, msg_id))) {
        lk_free(m.subject);
        lk_free(m.data);
        return lk_error_set(err, LK_ERR_NOMEM,
                            "fake-nats: publish %s: out of memory", subject);
    }
    if (len > 0)
        memcpy(m.data, data, len);
    m.data[len] = '\0';
    nats->stream[nats->stream_count++] = m;
    uint64_t seq = nats->stream_count;
    fk_trace(nats, "t=%lld publish #%" PRIu64 " %s %zu bytes\n",
             (long long)nats->now, seq, subject, len);
    for (size_t i = 0; i < nats->consumer_count; i++) {
        fk_consumer *c = nats->consumers[i];
        if (strcmp(c->subject, subject) == 0 &&
            !fresh_push(c, (fk_pending){nats->now, seq, 0}))
            return lk_error_set(err, LK_ERR_NOMEM,
                                "fake-nats: publish %s: out of memory",
                                subject);
    }
    return LK_OK;
}

/* ---- subscribe ---------------------------------------------------------------- */

/* The durable consumer `durable` on `subject`, or NULL. */
static fk_consumer *find_durable(const lk_fake_nats *nats, const char *subject,
                                 const char *durable)
{
    for (size_t i = 0; i < nats->consumer_count; i++) {
        fk_consumer *c = nats->consumers[i];
        if (c->durable != NULL && strcmp(c->durable, durable) == 0 &&
            strcmp(c->subject, subject) == 0)
            return c;
    }
    return NULL;
}

/* What JetStream refuses (as the NATS adapter reports it, in its order) when
 * a subscription binds to an existing durable consumer. */
static lk_status check_join(const fk_consumer *c,
                            const lk_fake_subscription_info *info,
                            lk_error *err)
{
    const char *group = c->queue_group;
    if (!fk_same_text(group, info->queue_group))
        return lk_error_set(
            err, LK_ERR_INVALID,
            "fake-nats: subscribe %s: durable \"%s\" belongs to queue group "
            "\"%s\", not \"%s\"",
            info->subject, c->durable, group != NULL ? group : "(none)",
            info->queue_group != NULL ? info->queue_group : "(none)");
    if (c->ack_wait_ms != info->ack_wait_ms ||
        c->max_deliver != info->max_deliver ||
        c->max_ack_pending != info->max_ack_pending)
        /* JetStream keeps the first configuration of a durable. */
        return lk_error_set(
            err, LK_ERR_INVALID,
            "fake-nats: subscribe %s: %s \"%s\"%s%s%s already has ack wait "
            "%lld ms, max deliver %d and max ack pending %d, not %lld ms, %d "
            "and %d",
            info->subject, group != NULL ? "queue group" : "durable",
            group != NULL ? group : c->durable,
            group != NULL ? " (durable \"" : "", group != NULL ? c->durable : "",
            group != NULL ? "\")" : "", (long long)c->ack_wait_ms,
            c->max_deliver, c->max_ack_pending, (long long)info->ack_wait_ms,
            info->max_deliver, info->max_ack_pending);
    if (group == NULL)
        /* A push consumer without deliver group takes one subscriber. */
        return lk_error_set(err, LK_ERR_INVALID,
                            "fake-nats: subscribe %s: durable \"%s\" already "
                            "has a subscriber; members sharing a durable need "
                            "a queue group",
                            info->subject, c->durable);
    return LK_OK;
}

/* `c` is never NULL: every caller holds one it made. */
static void consumer_free(fk_consumer *c)
{
    lk_free(c->subject);
    lk_free(c->queue_group);
    lk_free(c->durable);
    lk_free(c->name);
    lk_free(c->members);
    lk_free(c->pending);
    lk_free(c->fresh);
    lk_free(c);
}

static fk_consumer *consumer_new(lk_fake_nats *nats,
                                 const lk_fake_subscription_info *info,
                                 const char *durable)
{
    char name[32];
    fk_consumer *c = lk_calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    snprintf(name, sizeof name, "sub%zu", nats->sub_count - 1);
    c->index = nats->consumer_count;
    c->subject = fk_strdup(info->subject);
    c->queue_group = fk_strdup(info->queue_group);
    c->durable = fk_strdup(durable);
    c->name = fk_strdup(durable != NULL ? durable : name);
    c->ack_wait_ms = info->ack_wait_ms;
    c->max_deliver = info->max_deliver;
    c->max_ack_pending = info->max_ack_pending;
    bool ok = c->subject != NULL && c->name != NULL &&
              (info->queue_group == NULL || c->queue_group != NULL) &&
              (durable == NULL || c->durable != NULL);
    /* Where the consumer starts: the whole stream, or after its end. */
    for (size_t i = 0; ok && info->deliver_all && i < nats->stream_count; i++)
        if (strcmp(nats->stream[i].subject, c->subject) == 0)
            ok = fresh_push(c, (fk_pending){nats->now, i + 1, 0});
    if (!ok) {
        consumer_free(c);
        return NULL;
    }
    return c;
}

lk_status fk_broker_subscribe(lk_fake_nats *nats, const fk_subscription *sub,
                              lk_msg_handler handler, void *closure,
                              fk_conn *conn, lk_error *err)
{
    const lk_fake_subscription_info *info = &sub->info;
    /* Named as the NATS adapter names JetStream consumers. */
    const char *durable =
        info->durable_name != NULL ? info->durable_name : info->queue_group;
    fk_consumer *c =
        durable != NULL ? find_durable(nats, info->subject, durable) : NULL;
    bool created = false;
    if (c != NULL) {
        lk_status s = check_join(c, info, err);
        if (s != LK_OK)
            return s;
    } else if (fk_grow((void **)&nats->consumers, &nats->consumer_cap,
                       nats->consumer_count, sizeof *nats->consumers)) {
        c = consumer_new(nats, info, durable);
        created = c != NULL;
    }
    if (c == NULL || !fk_grow((void **)&c->members, &c->member_cap,
                              c->member_count, sizeof *c->members)) {
        if (created)
            consumer_free(c);
        return lk_error_set(err, LK_ERR_NOMEM,
                            "fake-nats: subscribe %s: out of memory",
                            info->subject);
    }
    c->members[c->member_count++] = (fk_member){handler, closure, conn};
    if (created)
        nats->consumers[nats->consumer_count++] = c;
    fk_trace(nats, "t=%lld subscribe %s consumer %s member %zu%s\n",
             (long long)nats->now, info->subject, c->name,
             c->member_count - 1,
             created && info->deliver_all ? " deliver all" : "");
    return LK_OK;
}

/* ---- dead letters ------------------------------------------------------------- */

static void dead_letter(lk_fake_nats *nats, const fk_consumer *c, uint64_t seq,
                        const char *reason)
{
    const fk_stored *m = &nats->stream[seq - 1];
    fk_trace(nats, "t=%lld dead-letter #%" PRIu64 " %s in %s: %s\n",
             (long long)nats->now, seq, m->subject, c->name, reason);
    nats->stats.dead_lettered++;
    lk_fake_dead_letter *d = lk_malloc(sizeof *d);
    char *why = fk_strdup(reason);
    if (d == NULL || why == NULL ||
        !fk_grow((void **)&nats->dead, &nats->dead_cap, nats->dead_count,
                 sizeof *nats->dead)) {
        lk_free(d);
        lk_free(why);
        return; /* counted in the stats; the list entry is lost to OOM */
    }
    *d = (lk_fake_dead_letter){m->subject, m->data, m->length, seq,
                               c->queue_group, why, c->durable};
    nats->dead[nats->dead_count++] = d;
}

size_t lk_fake_nats_dead_letter_count(const lk_fake_nats *nats)
{
    return nats != NULL ? nats->dead_count : 0;
}

const lk_fake_dead_letter *lk_fake_nats_dead_letter(const lk_fake_nats *nats,
                                                    size_t i)
{
    if (nats == NULL || i >= nats->dead_count)
        return NULL;
    return nats->dead[i];
}

/* ---- one delivery ------------------------------------------------------------- */

typedef enum reply_kind { REPLY_NONE, REPLY_ACK, REPLY_NAK, REPLY_TERM } reply_kind;

static const char *const reply_names[] = {"none", "ack", "nak", "term"};

/* The lk_msg a handler gets; borrowed until the handler returns. */
typedef struct delivery {
    lk_msg base;
    lk_fake_nats *nats;
    const fk_consumer *consumer;
    const fk_conn *conn; /* of the member it went to */
    reply_kind reply;
    int64_t nak_delay;
    int64_t deadline; /* when the ack wait runs out */
} delivery;

static const lk_fake_op reply_ops[] = {LK_FAKE_OP_IN_PROGRESS, LK_FAKE_OP_ACK,
                                       LK_FAKE_OP_NAK, LK_FAKE_OP_TERM};

/* A scripted fault for this reply (fake_nats_faults.c), logged; LK_OK: none. */
static lk_status reply_fault(delivery *d, lk_fake_op op)
{
    lk_status s = fk_fault_call(d->nats, d->conn, op, d->base.subject, NULL);
    fk_request(d->nats, op, d->base.subject, d->base.stream_seq,
               d->base.delivery_count, d->consumer->name, s);
    return s;
}

/* Records the first of ack/nak/term; later ones change nothing. */
static lk_status reply(lk_msg *msg, reply_kind kind, int64_t delay)
{
    delivery *d = (delivery *)msg;
    lk_fake_nats *nats = d->nats;
    lk_status fs = reply_fault(d, reply_ops[kind]);
    if (fs != LK_OK)
        return fs; /* failed: as if never sent */
    if (d->reply != REPLY_NONE) {
        fk_trace(nats, "t=%lld %s #%" PRIu64 " in %s ignored: already %s\n",
                 (long long)nats->now, reply_names[kind], msg->stream_seq,
                 d->consumer->name, reply_names[d->reply]);
        return LK_OK;
    }
    d->reply = kind;
    d->nak_delay = delay < 0 ? 0 : delay;
    if (kind == REPLY_NAK)
        fk_trace(nats, "t=%lld nak #%" PRIu64 " in %s delay %lld\n",
                 (long long)nats->now, msg->stream_seq, d->consumer->name,
                 (long long)d->nak_delay);
    else
        fk_trace(nats, "t=%lld %s #%" PRIu64 " in %s\n", (long long)nats->now,
                 reply_names[kind], msg->stream_seq, d->consumer->name);
    return LK_OK;
}

static lk_status delivery_ack(lk_msg *msg) { return reply(msg, REPLY_ACK, 0); }
static lk_status delivery_term(lk_msg *msg) { return reply(msg, REPLY_TERM, 0); }
static lk_status delivery_nak(lk_msg *msg, int64_t delay_ms)
{
    return reply(msg, REPLY_NAK, delay_ms);
}

static lk_status delivery_in_progress(lk_msg *msg)
{
    delivery *d = (delivery *)msg;
    lk_fake_nats *nats = d->nats;
    lk_status fs = reply_fault(d, LK_FAKE_OP_IN_PROGRESS);
    if (fs != LK_OK)
        return fs;
    if (d->reply != REPLY_NONE || nats->now > d->deadline) {
        fk_trace(nats, "t=%lld in_progress #%" PRIu64 " in %s ignored: %s\n",
                 (long long)nats->now, msg->stream_seq, d->consumer->name,
                 d->reply != REPLY_NONE ? "already replied" : "ack wait over");
        return LK_OK;
    }
    d->deadline = nats->now + d->consumer->ack_wait_ms;
    fk_trace(nats, "t=%lld in_progress #%" PRIu64 " in %s until %lld\n",
             (long long)nats->now, msg->stream_seq, d->consumer->name,
             (long long)d->deadline);
    return LK_OK;
}

static const lk_msg_ops delivery_ops = {
    .ack = delivery_ack,
    .nak = delivery_nak,
    .term = delivery_term,
    .in_progress = delivery_in_progress,
    .free = NULL, /* the broker frees its messages itself */
};

/* Puts `p` back as due at `due`, or dead-letters it when max deliver is
 * used up. */
static void requeue(lk_fake_nats *nats, fk_consumer *c, fk_pending p,
                    int64_t due)
{
    if (c->max_deliver > 0 && p.deliveries >= (uint64_t)c->max_deliver) {
        char reason[64];
        snprintf(reason, sizeof reason, "max deliver (%d) reached",
                 c->max_deliver);
        dead_letter(nats, c, p.seq, reason);
        return;
    }
    p.due = due;
    if (!heap_push(c, p))
        dead_letter(nats, c, p.seq, "out of memory in the fake broker");
}

/* Applies the handler's reply to `p` once the handler has returned. */
static void settle(lk_fake_nats *nats, fk_consumer *c, fk_pending p,
                   const delivery *d)
{
    reply_kind r = d->reply;
    if (r != REPLY_NONE && nats->now > d->deadline) {
        /* The clock passed the ack wait while the handler worked: the server
         * has redelivered meanwhile, so this reply lost the race. */
        fk_trace(nats, "t=%lld %s #%" PRIu64 " in %s late: ack wait ran out "
                 "at %lld\n",
                 (long long)nats->now, reply_names[r], p.seq, c->name,
                 (long long)d->deadline);
        r = REPLY_NONE;
    }
    switch (r) {
    case REPLY_ACK: {
        bool lost = nats->opts.duplicate_rate > 0.0 &&
                    rng_unit(nats) < nats->opts.duplicate_rate &&
                    (c->max_deliver == 0 ||
                     p.deliveries < (uint64_t)c->max_deliver);
        if (!lost) {
            nats->stats.acked++;
            return;
        }
        nats->stats.duplicated++;
        fk_trace(nats, "t=%lld ack #%" PRIu64 " in %s lost: duplicate\n",
                 (long long)nats->now, p.seq, c->name);
        requeue(nats, c, p, nats->now);
        return;
    }
    case REPLY_NAK:
        nats->stats.naked++;
        requeue(nats, c, p, nats->now + d->nak_delay);
        return;
    case REPLY_TERM:
        nats->stats.termed++;
        dead_letter(nats, c, p.seq, "terminated");
        return;
    case REPLY_NONE:
        requeue(nats, c, p, d->deadline);
        return;
    }
}

/* Takes the next message of `c` due now: the first, or with a reorder
 * window a seeded pick among the first `window` due ones. */
static fk_pending take_next(lk_fake_nats *nats, fk_consumer *c)
{
    /* Decided once: popping the window lowers pending_count, acks do not. */
    bool fresh_ok = under_ack_limit(c);
    size_t window = nats->opts.reorder_window;
    if (window <= 1)
        return pop_next(c, fresh_ok);
    size_t n = 0, fresh_taken = 0;
    const fk_pending *next;
    while (n < window && (next = peek_next(c, fresh_ok)) != NULL &&
           next->due <= nats->now) {
        fk_pending p = pop_next(c, fresh_ok);
        fresh_taken += p.deliveries == 0;
        nats->window[n++] = p;
    }
    size_t pick = n > 1 ? rng_below(nats, n) : 0;
    fk_pending chosen = nats->window[pick];
    /* The fresh ones taken are still in place, in order: step back over
     * them, then take out the chosen one if it is one of them. */
    c->fresh_head -= fresh_taken;
    for (size_t i = 0; i < n; i++)
        if (i != pick && nats->window[i].deliveries > 0)
            heap_push(c, nats->window[i]); /* room: they were just popped */
    if (chosen.deliveries == 0)
        fresh_remove(c, chosen.seq, fresh_taken);
    return chosen;
}

static void deliver(lk_fake_nats *nats, fk_consumer *c)
{
    fk_pending p = take_next(nats, c);
    p.deliveries++;
    size_t member = c->member_count > 1 ? rng_below(nats, c->member_count) : 0;
    fk_member to = c->members[member]; /* copy: a handler may add members */
    const fk_stored *m = &nats->stream[p.seq - 1];

    delivery *d = lk_malloc(sizeof *d);
    if (d == NULL) { /* cannot hand it out: try again after the ack wait */
        requeue(nats, c, p, nats->now + c->ack_wait_ms);
        return;
    }
    *d = (delivery){
        .base = {&delivery_ops, m->subject, m->data, m->length, p.seq,
                 p.deliveries, m->timestamp_ms},
        .nats = nats,
        .consumer = c,
        .conn = to.conn,
        .reply = REPLY_NONE,
        .deadline = nats->now + c->ack_wait_ms,
    };
    nats->stats.delivered++;
    if (p.deliveries > 1)
        nats->stats.redelivered++;
    fk_trace(nats, "t=%lld deliver #%" PRIu64 " %s to %s member %zu "
             "delivery %" PRIu64 "\n",
             (long long)nats->now, p.seq, m->subject, c->name, member,
             p.deliveries);
    fk_request(nats, LK_FAKE_OP_DELIVER, m->subject, p.seq, p.deliveries,
               c->name, LK_OK);

    nats->in_handler++;
    to.handler(&d->base, to.closure);
    nats->in_handler--;

    settle(nats, c, p, d);
    lk_free(d);
}

/* ---- the clock ---------------------------------------------------------------- */

/* The consumer whose next message comes first: (due, seq, creation order),
 * with its due time in *due. NULL when nothing can be delivered anywhere. */
static fk_consumer *earliest(const lk_fake_nats *nats, int64_t *due)
{
    fk_consumer *best = NULL;
    const fk_pending *best_next = NULL;
    for (size_t i = 0; i < nats->consumer_count; i++) {
        fk_consumer *c = nats->consumers[i];
        /* A consumer whose members all crashed keeps its messages. */
        const fk_pending *next = c->member_count > 0 ? next_of(c) : NULL;
        if (next != NULL &&
            (best_next == NULL || pending_before(next, best_next))) {
            best = c;
            best_next = next;
        }
    }
    if (best_next != NULL)
        *due = best_next->due;
    return best;
}

static bool can_deliver(const lk_fake_nats *nats)
{
    return nats != NULL && nats->broker && !nats->closed &&
           nats->in_handler == 0 && !fk_fault_paused(nats);
}

int64_t lk_fake_nats_now(const lk_fake_nats *nats)
{
    return nats != NULL ? nats->now : 0;
}

bool lk_fake_nats_step(lk_fake_nats *nats)
{
    if (!can_deliver(nats))
        return false;
    int64_t due = 0;
    fk_consumer *c = earliest(nats, &due);
    if (c == NULL || due > nats->now)
        return false;
    deliver(nats, c);
    return true;
}

static int64_t add_clamped(int64_t a, int64_t b)
{
    return b > INT64_MAX - a ? INT64_MAX : a + b;
}

size_t lk_fake_nats_advance(lk_fake_nats *nats, int64_t ms)
{
    if (nats == NULL || ms < 0)
        return 0;
    int64_t target = add_clamped(nats->now, ms);
    size_t n = 0;
    while (can_deliver(nats)) {
        int64_t due = 0;
        fk_consumer *c = earliest(nats, &due);
        if (c == NULL || due > target)
            break;
        if (due > nats->now)
            nats->now = due;
        deliver(nats, c);
        n++;
    }
    /* Inside a handler this only moves the clock: the handler "works". A
     * handler that worked past `target` leaves the clock where it got. */
    if (nats->now < target)
        nats->now = target;
    return n;
}

size_t lk_fake_nats_run_until_idle(lk_fake_nats *nats, size_t max_steps)
{
    size_t bound = max_steps != 0 ? max_steps : 10000000u;
    size_t n = 0;
    while (n < bound && can_deliver(nats)) {
        int64_t due = 0;
        fk_consumer *c = earliest(nats, &due);
        if (c == NULL)
            break;
        if (due > nats->now)
            nats->now = due; /* nothing due: jump */
        deliver(nats, c);
        n++;
    }
    return n;
}

/* ---- outcome ------------------------------------------------------------------ */

lk_fake_nats_stats lk_fake_nats_get_stats(const lk_fake_nats *nats)
{
    lk_fake_nats_stats s = {0};
    if (nats == NULL)
        return s;
    s = nats->stats;
    s.pending = (uint64_t)nats->in_handler; /* the one being handled */
    for (size_t i = 0; i < nats->consumer_count; i++)
        s.pending += nats->consumers[i]->pending_count +
                     fresh_count(nats->consumers[i]);
    return s;
}

const char *lk_fake_nats_trace(const lk_fake_nats *nats)
{
    if (nats == NULL || nats->trace == NULL)
        return "";
    return nats->trace;
}

/* Start of the last `lines` lines of `text` (of length `len`). */
static const char *last_lines(const char *text, size_t len, size_t lines)
{
    size_t i = len;
    if (i > 0 && text[i - 1] == '\n')
        i--;
    while (i > 0) {
        if (text[i - 1] == '\n' && --lines == 0)
            break;
        i--;
    }
    return text + i;
}

void lk_fake_nats_dump(const lk_fake_nats *nats, FILE *out, size_t last_n)
{
    enum { MAX_PENDING_LINES = 100 };
    if (nats == NULL || out == NULL)
        return;
    lk_fake_nats_stats s = lk_fake_nats_get_stats(nats);
    fprintf(out,
            "fake-nats %s at t=%lld%s: published %" PRIu64
            " (deduplicated %" PRIu64 "), delivered %" PRIu64
            " (redelivered %" PRIu64 ", duplicated %" PRIu64 "), acked %" PRIu64
            ", naked %" PRIu64 ", termed %" PRIu64 ", dead-lettered %" PRIu64
            ", pending %" PRIu64 "\n",
            nats->broker ? "broker" : "recorder", (long long)nats->now,
            nats->closed ? " (drained)" : "", s.published, s.deduplicated,
            s.delivered, s.redelivered, s.duplicated, s.acked, s.naked,
            s.termed, s.dead_lettered, s.pending);
    size_t shown = 0, owed = 0;
    for (size_t i = 0; i < nats->consumer_count; i++) {
        const fk_consumer *c = nats->consumers[i];
        size_t n = c->pending_count + fresh_count(c);
        owed += n;
        fprintf(out, "  consumer %s on %s: %zu un-acked%s, %zu not delivered "
                "yet\n", c->name, c->subject, c->pending_count,
                under_ack_limit(c) ? "" : " (max ack pending reached)",
                fresh_count(c));
        for (size_t k = 0; k < n && shown < MAX_PENDING_LINES; k++, shown++) {
            const fk_pending *p = k < c->pending_count
                                      ? &c->pending[k]
                                      : &c->fresh[c->fresh_head + k -
                                                  c->pending_count];
            fprintf(out, "  pending #%" PRIu64 " %s in %s: delivered %" PRIu64
                    " times, due at %lld\n",
                    p->seq, nats->stream[p->seq - 1].subject, c->name,
                    p->deliveries, (long long)p->due);
        }
    }
    if (owed > shown)
        fprintf(out, "  ... %zu more pending not shown\n", owed - shown);
    for (size_t i = 0; i < nats->dead_count; i++)
        fprintf(out, "  dead letter #%" PRIu64 " %s: %s\n",
                nats->dead[i]->stream_seq, nats->dead[i]->subject,
                nats->dead[i]->reason);
    if (!nats->opts.trace) {
        fprintf(out, "  (no trace: create the broker with opts.trace)\n");
        return;
    }
    if (last_n > 0 && nats->trace_len > 0) {
        fprintf(out, "last %zu trace lines:\n", last_n);
        fputs(last_lines(nats->trace, nats->trace_len, last_n), out);
    }
}

/* ---- release ------------------------------------------------------------------ */

void fk_broker_free(lk_fake_nats *nats)
{
    for (size_t i = 0; i < nats->consumer_count; i++)
        consumer_free(nats->consumers[i]);
    lk_free(nats->consumers);
    for (size_t i = 0; i < nats->stream_count; i++) {
        lk_free(nats->stream[i].subject);
        lk_free(nats->stream[i].data);
    }
    lk_free(nats->stream);
    for (size_t i = 0; i < nats->msg_id_cap; i++)
        lk_free(nats->msg_ids[i]);
    lk_free(nats->msg_ids);
    for (size_t i = 0; i < nats->dead_count; i++) {
        lk_free((char *)(uintptr_t)nats->dead[i]->reason);
        lk_free(nats->dead[i]);
    }
    lk_free(nats->dead);
}
