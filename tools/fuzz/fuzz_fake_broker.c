/* SPDX-License-Identifier: MIT */
/*
 * fuzz_fake_broker.c — libFuzzer target: any bytes, read as a sequence of
 * operations on the fake broker (publish, subscribe, step, advance, run,
 * scripted faults: error stacks, connection down/up, extra connections and
 * their crashes and drains), with handlers whose replies the bytes choose
 * too (ack, nak with a delay, term, none, in_progress, a second reply, a
 * slow reply after the ack wait). After every operation it checks:
 *   - every published message ends acked, termed, dead-lettered or
 *     pending: for the (message, consumer) pairs owed, counted here as
 *     publishes and subscriptions succeed, acked + dead-lettered (termed
 *     included) + pending is exactly that count;
 *   - a failed call changes nothing: a refused publish or subscribe leaves
 *     every stat, record and subscription as it was; a delivery whose only
 *     reply failed is settled as if no reply came (no ack, nak or term is
 *     counted for it).
 *
 * Input: byte 0 seeds the broker, byte 1 its faults (reorder window,
 * duplicate rate), bytes 2..9 the handlers' reply table, then two bytes
 * per operation (op, argument), at most MAX_OPS of them.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_nats.h"
#include "listenkit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS 96
#define MAX_CONNS 4
#define SUBJECTS 2
#define GROUPS 3 /* none (ephemeral), "g1", "g2" */
#define REPLIES 8
#define RUN_STEPS 200

static const char *const subjects[SUBJECTS] = {"ticket:created",
                                               "ticket:updated"};
static const char *const groups[GROUPS] = {NULL, "g1", "g2"};

typedef enum reply_kind {
    R_ACK,
    R_NAK,
    R_TERM,
    R_NONE,
    R_PROGRESS_ACK, /* in_progress, then ack */
    R_TWICE,        /* ack, then term: only the first counts */
    R_SLOW_ACK,     /* works past the ack wait, then acks (too late) */
    R_KINDS
} reply_kind;

typedef struct world {
    lk_fake_nats *nats;
    lk_bus *conns[MAX_CONNS];
    size_t conn_count;
    uint8_t replies[REPLIES];
    uint64_t owed;             /* (message, consumer) pairs ever owed */
    uint64_t stored[SUBJECTS]; /* messages stored per subject */
    uint64_t consumers[SUBJECTS];
    bool durable[SUBJECTS][GROUPS]; /* consumer of (subject, group) made */
    /* the check a delivery whose replies all failed leaves for after its
     * settle */
    bool check_unreplied;
    lk_fake_nats_stats before;
} world;

static void check_settled_unreplied(world *w)
{
    if (!w->check_unreplied)
        return;
    lk_fake_nats_stats now = lk_fake_nats_get_stats(w->nats);
    if (now.acked != w->before.acked || now.naked != w->before.naked ||
        now.termed != w->before.termed)
        abort(); /* a failed reply took effect */
    w->check_unreplied = false;
}

/* A reply's outcome: did it take (LK_OK), or fail changing nothing. */
static bool took(lk_status s)
{
    return s == LK_OK;
}

static void handler(lk_msg *msg, void *closure)
{
    world *w = closure;
    check_settled_unreplied(w); /* the previous delivery has settled */
    lk_fake_nats_stats entry = lk_fake_nats_get_stats(w->nats);
    reply_kind kind = (reply_kind)(w->replies[(msg->stream_seq * 3 +
                                               msg->delivery_count) %
                                              REPLIES] %
                                   R_KINDS);
    /* Never 0: a message nak'ed at once, forever (max deliver 0), would
     * keep lk_fake_nats_advance at one instant for good, as it keeps a
     * real consumer busy; a delay lets the clock move. */
    int64_t delay =
        50 + (int64_t)(w->replies[msg->stream_seq % REPLIES] % 4) * 50;
    bool any = false; /* some reply took */
    switch (kind) {
    case R_ACK: any = took(lk_msg_ack(msg)); break;
    case R_NAK: any = took(lk_msg_nak(msg, delay)); break;
    case R_TERM: any = took(lk_msg_term(msg)); break;
    case R_NONE: any = true; /* nothing to fail */ break;
    case R_PROGRESS_ACK:
        (void)lk_msg_in_progress(msg);
        any = took(lk_msg_ack(msg));
        break;
    case R_TWICE:
        any = took(lk_msg_ack(msg));
        any = took(lk_msg_term(msg)) || any;
        break;
    case R_SLOW_ACK:
        lk_fake_nats_advance(w->nats, 1000); /* ack waits are <= 400 */
        any = true; /* late, not failed */
        (void)lk_msg_ack(msg);
        break;
    case R_KINDS: break;
    }
    if (!any) {
        w->before = entry;
        w->check_unreplied = true;
    }
}

/* ---- checked operations ----------------------------------------------------- */

static void check_accounts(world *w)
{
    lk_fake_nats_stats s = lk_fake_nats_get_stats(w->nats);
    if (s.acked + s.dead_lettered + s.pending != w->owed)
        abort(); /* a message was lost or counted twice */
    if (s.termed > s.dead_lettered ||
        lk_fake_nats_dead_letter_count(w->nats) > s.dead_lettered)
        abort();
}

static bool same_stats(const lk_fake_nats_stats *a, const lk_fake_nats_stats *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

static lk_bus *bus_for(world *w, uint8_t arg)
{
    size_t pick = (size_t)(arg >> 4) % (w->conn_count + 1);
    return pick == 0 ? lk_fake_nats_bus(w->nats) : w->conns[pick - 1];
}

static void do_publish(world *w, uint8_t arg)
{
    size_t subject = arg & 1;
    char text[32];
    lk_publish_opts opts = {.msg_id = text};
    snprintf(text, sizeof text, "{\"n\":%u}", (unsigned)(arg >> 1) % 8);
    lk_fake_nats_stats before = lk_fake_nats_get_stats(w->nats);
    size_t records = lk_fake_nats_published_count(w->nats);
    lk_status s = lk_bus_publish(bus_for(w, arg), subjects[subject], text,
                                 strlen(text), (arg & 2) ? &opts : NULL, NULL);
    lk_fake_nats_stats after = lk_fake_nats_get_stats(w->nats);
    if (s != LK_OK) {
        if (!same_stats(&before, &after) ||
            lk_fake_nats_published_count(w->nats) != records)
            abort(); /* a failed publish changed something */
        return;
    }
    if (after.deduplicated == before.deduplicated) {
        w->stored[subject]++;
        w->owed += w->consumers[subject];
    }
}

static void do_subscribe(world *w, uint8_t arg)
{
    size_t subject = arg & 1, group = (size_t)(arg >> 1) % GROUPS;
    /* A durable's settings follow from its key, except when bit 3 asks
     * for others: then joining it must be refused. */
    bool odd = (arg & 8) != 0;
    lk_subscribe_opts opts = {
        .queue_group = groups[group],
        .ack_wait_ms = 100 + 100 * (int64_t)((subject + group) % 4),
        .max_deliver = (int)((subject + group + (odd ? 1 : 0)) % 4),
        .deliver_all = (arg & 0x40) != 0,
    };
    lk_fake_nats_stats before = lk_fake_nats_get_stats(w->nats);
    size_t subs = lk_fake_nats_subscription_count(w->nats);
    lk_status s = lk_bus_subscribe(bus_for(w, arg), subjects[subject], &opts,
                                   handler, w, NULL);
    if (s != LK_OK) {
        lk_fake_nats_stats after = lk_fake_nats_get_stats(w->nats);
        if (!same_stats(&before, &after) ||
            lk_fake_nats_subscription_count(w->nats) != subs)
            abort();
        return;
    }
    bool joined = group != 0 && w->durable[subject][group];
    if (joined)
        return;
    if (group != 0)
        w->durable[subject][group] = true;
    w->consumers[subject]++;
    if (opts.deliver_all)
        w->owed += w->stored[subject];
}

static void do_push_errors(world *w, uint8_t arg)
{
    static const lk_status statuses[] = {LK_ERR_IO, LK_ERR_TIMEOUT, LK_OK,
                                         LK_ERR_CLOSED};
    lk_fake_op op = (lk_fake_op)(arg % 5); /* the ops with a stack */
    size_t count = 1 + (size_t)((arg >> 3) & 1);
    int64_t delay = (int64_t)((arg >> 4) & 3) * 150;
    if (lk_fake_nats_push_errors(w->nats, op, count, statuses[(arg >> 6) & 3],
                                 delay) != LK_OK)
        abort();
}

static void do_connect(world *w)
{
    if (w->conn_count == MAX_CONNS)
        return;
    lk_bus *conn = lk_fake_nats_connect(w->nats);
    if (conn == NULL)
        abort();
    w->conns[w->conn_count++] = conn;
}

static void run_op(world *w, uint8_t op, uint8_t arg)
{
    switch (op % 12) {
    case 0: case 1: do_publish(w, arg); break;
    case 2: do_subscribe(w, arg); break;
    case 3: (void)lk_fake_nats_step(w->nats); break;
    case 4: (void)lk_fake_nats_advance(w->nats, (int64_t)arg * 10); break;
    case 5: (void)lk_fake_nats_run_until_idle(w->nats, RUN_STEPS); break;
    case 6: do_push_errors(w, arg); break;
    case 7: lk_fake_nats_connection_down(w->nats); break;
    case 8: lk_fake_nats_connection_up(w->nats); break;
    case 9: do_connect(w); break;
    case 10: (void)lk_fake_nats_abort(w->nats, bus_for(w, arg)); break;
    case 11:
        if (w->conn_count > 0)
            lk_bus_drain(w->conns[arg % w->conn_count], NULL);
        break;
    }
    check_settled_unreplied(w);
    check_accounts(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum { HEADER = 2 + REPLIES };
    if (size < HEADER)
        return 0;
    lk_fake_broker_opts opts = {
        .seed = data[0],
        .reorder_window = (size_t)(data[1] & 3),
        .duplicate_rate = (double)(data[1] >> 4) / 40.0, /* <= 0.375 */
    };
    world w = {.nats = lk_fake_nats_new_broker(&opts)};
    if (w.nats == NULL)
        abort();
    memcpy(w.replies, data + 2, REPLIES);
    lk_log_set_level(LK_LOG_OFF);
    size_t ops = (size - HEADER) / 2;
    for (size_t i = 0; i < ops && i < MAX_OPS; i++)
        run_op(&w, data[HEADER + 2 * i], data[HEADER + 2 * i + 1]);
    /* Whatever was left: up, and let everything settle. */
    lk_fake_nats_connection_up(w.nats);
    lk_fake_nats_clear_errors(w.nats, LK_FAKE_OP_PUBLISH);
    for (lk_fake_op op = LK_FAKE_OP_ACK; op <= LK_FAKE_OP_IN_PROGRESS; op++)
        lk_fake_nats_clear_errors(w.nats, op);
    (void)lk_fake_nats_run_until_idle(w.nats, 20 * RUN_STEPS);
    check_settled_unreplied(&w);
    check_accounts(&w);
    lk_fake_nats_free(w.nats);
    return 0;
}
