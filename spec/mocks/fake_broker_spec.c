/* SPDX-License-Identifier: MIT */
/*
 * fake_broker_spec.c — the fake NATS client in broker mode: delivery, queue
 * groups, the virtual clock, redelivery, dead letters, seeded faults and
 * determinism.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_nats.h"
#include "listenkit.h"

/* ---- a scriptable handler -------------------------------------------------- */

typedef enum action { DO_ACK, DO_NOTHING, DO_NAK, DO_TERM, DO_ACK_TWICE } action;

#define MAX_SEEN 8192

typedef struct probe {
    action act;
    int64_t nak_delay;
    int calls;
    uint64_t seqs[MAX_SEEN];       /* stream seq per call */
    uint64_t counts[MAX_SEEN];     /* delivery count per call */
    int64_t times[MAX_SEEN];       /* virtual time per call */
    char last_subject[64];
    char last_data[256];
    lk_fake_nats *nats;
} probe;

static void probe_handler(lk_msg *msg, void *closure)
{
    probe *p = closure;
    if (p->calls < MAX_SEEN) {
        p->seqs[p->calls] = msg->stream_seq;
        p->counts[p->calls] = msg->delivery_count;
        p->times[p->calls] = p->nats != NULL ? lk_fake_nats_now(p->nats) : 0;
    }
    p->calls++;
    snprintf(p->last_subject, sizeof p->last_subject, "%s", msg->subject);
    snprintf(p->last_data, sizeof p->last_data, "%s", msg->data);
    switch (p->act) {
    case DO_ACK: lk_msg_ack(msg); break;
    case DO_NOTHING: break;
    case DO_NAK: lk_msg_nak(msg, p->nak_delay); break;
    case DO_TERM: lk_msg_term(msg); break;
    case DO_ACK_TWICE:
        assert_int_equal(lk_msg_ack(msg), LK_OK);
        assert_int_equal(lk_msg_ack(msg), LK_OK);
        break;
    }
}

static probe *probe_new(lk_fake_nats *nats, action act)
{
    probe *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->act = act;
    p->nats = nats;
    return p;
}

static void subscribe(lk_fake_nats *nats, const char *subject,
                      const lk_subscribe_opts *opts, probe *p)
{
    lk_error err;
    lk_status s = lk_bus_subscribe(lk_fake_nats_bus(nats), subject, opts,
                                   probe_handler, p, &err);
    if (s != LK_OK)
        fail_msg("subscribe %s: %s", subject, err.message);
}

static void publish(lk_fake_nats *nats, const char *subject, const char *text)
{
    assert_int_equal(lk_bus_publish(lk_fake_nats_bus(nats), subject, text,
                                    strlen(text), NULL, NULL),
                     LK_OK);
}

static lk_fake_nats *broker(uint64_t seed)
{
    lk_fake_broker_opts opts = {.seed = seed, .trace = true};
    lk_fake_nats *nats = lk_fake_nats_new_broker(&opts);
    assert_non_null(nats);
    return nats;
}

/* ---- delivery ------------------------------------------------------------------ */

static void test_message_is_delivered_once_when_acked(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *p = probe_new(nats, DO_ACK);
    subscribe(nats, "ticket:created", NULL, p);
    lk_fake_nats_advance(nats, 1000);
    publish(nats, "ticket:created", "{\"id\":\"t1\"}");
    assert_int_equal(p->calls, 0); /* publish only enqueues */
    assert_int_equal(lk_fake_nats_run_until_idle(nats, 0), 1);
    assert_int_equal(p->calls, 1);
    assert_string_equal(p->last_subject, "ticket:created");
    assert_string_equal(p->last_data, "{\"id\":\"t1\"}");
    assert_int_equal(p->seqs[0], 1);
    assert_int_equal(p->counts[0], 1);
    assert_int_equal(lk_fake_nats_advance(nats, 60000), 0);
    assert_int_equal(p->calls, 1);
    lk_fake_nats_stats s = lk_fake_nats_get_stats(nats);
    assert_int_equal(s.published, 1);
    assert_int_equal(s.delivered, 1);
    assert_int_equal(s.acked, 1);
    assert_int_equal(s.pending, 0);
    free(p);
    lk_fake_nats_free(nats);
}

typedef struct ts_probe { int64_t ts; } ts_probe;
static void timestamp_handler(lk_msg *msg, void *closure)
{
    ((ts_probe *)closure)->ts = msg->timestamp_ms;
    lk_msg_ack(msg);
}

static void test_message_carries_virtual_publish_time(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    ts_probe t = {-1};
    lk_bus_subscribe(lk_fake_nats_bus(nats), "a", NULL, timestamp_handler, &t,
                     NULL);
    lk_fake_nats_advance(nats, 1234);
    publish(nats, "a", "{}");
    lk_fake_nats_advance(nats, 10);
    assert_int_equal(t.ts, 1234);
    lk_fake_nats_free(nats);
}

static void test_stream_sequence_counts_from_one_across_subjects(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *a = probe_new(nats, DO_ACK), *b = probe_new(nats, DO_ACK);
    subscribe(nats, "a", NULL, a);
    subscribe(nats, "b", NULL, b);
    publish(nats, "a", "{}");
    publish(nats, "b", "{}");
    publish(nats, "a", "{}");
    lk_fake_nats_run_until_idle(nats, 0);
    assert_int_equal(a->calls, 2);
    assert_int_equal(a->seqs[0], 1);
    assert_int_equal(a->seqs[1], 3);
    assert_int_equal(b->calls, 1);
    assert_int_equal(b->seqs[0], 2);
    free(a);
    free(b);
    lk_fake_nats_free(nats);
}

static void test_queue_group_gives_each_message_to_exactly_one_member(void **state)
{
    (void)state;
    enum { MESSAGES = 1000, MEMBERS = 4 };
    lk_fake_nats *nats = broker(42);
    probe *m[MEMBERS];
    lk_subscribe_opts q = {.queue_group = "orders-service"};
    for (int i = 0; i < MEMBERS; i++) {
        m[i] = probe_new(nats, DO_ACK);
        subscribe(nats, "ticket:created", &q, m[i]);
    }
    for (int i = 0; i < MESSAGES; i++)
        publish(nats, "ticket:created", "{}");
    assert_int_equal(lk_fake_nats_run_until_idle(nats, 0), MESSAGES);
    static int handled[MESSAGES + 1];
    memset(handled, 0, sizeof handled);
    int total = 0;
    for (int i = 0; i < MEMBERS; i++) {
        assert_true(m[i]->calls > 0); /* every member gets some */
        total += m[i]->calls;
        for (int k = 0; k < m[i]->calls; k++)
            handled[m[i]->seqs[k]]++;
    }
    assert_int_equal(total, MESSAGES);
    for (int seq = 1; seq <= MESSAGES; seq++)
        assert_int_equal(handled[seq], 1);
    for (int i = 0; i < MEMBERS; i++)
        free(m[i]);
    lk_fake_nats_free(nats);
}

static void test_subscriptions_without_queue_group_each_get_every_message(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *a = probe_new(nats, DO_ACK), *b = probe_new(nats, DO_ACK);
    subscribe(nats, "x", NULL, a);
    subscribe(nats, "x", NULL, b);
    publish(nats, "x", "{}");
    publish(nats, "x", "{}");
    lk_fake_nats_run_until_idle(nats, 0);
    assert_int_equal(a->calls, 2);
    assert_int_equal(b->calls, 2);
    free(a);
    free(b);
    lk_fake_nats_free(nats);
}

static void test_queue_group_member_with_other_config_is_refused(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *a = probe_new(nats, DO_ACK);
    subscribe(nats, "x", &(lk_subscribe_opts){.queue_group = "q",
                                              .ack_wait_ms = 1000},
              a);
    lk_error err;
    assert_int_equal(lk_bus_subscribe(lk_fake_nats_bus(nats), "x",
                                      &(lk_subscribe_opts){.queue_group = "q",
                                                           .ack_wait_ms = 2000},
                                      probe_handler, a, &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "queue group \"q\""));
    assert_non_null(strstr(err.message, "ack wait"));
    assert_int_equal(lk_fake_nats_subscription_count(nats), 1);
    free(a);
    lk_fake_nats_free(nats);
}

/* ---- redelivery ------------------------------------------------------------------- */

static void test_unacked_message_comes_again_after_ack_wait_not_before(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *p = probe_new(nats, DO_NOTHING);
    subscribe(nats, "ticket:updated", &(lk_subscribe_opts){.ack_wait_ms = 3000},
              p);
    publish(nats, "ticket:updated", "{\"version\":2}");
    assert_int_equal(lk_fake_nats_advance(nats, 0), 1);
    assert_int_equal(lk_fake_nats_advance(nats, 2999), 0);
    assert_int_equal(p->calls, 1);
    p->act = DO_ACK;
    assert_int_equal(lk_fake_nats_advance(nats, 1), 1);
    assert_int_equal(p->calls, 2);
    assert_int_equal(p->counts[1], 2);
    assert_int_equal(p->seqs[1], 1);
    assert_int_equal(p->times[1], 3000);
    assert_int_equal(lk_fake_nats_run_until_idle(nats, 0), 0);
    lk_fake_nats_stats s = lk_fake_nats_get_stats(nats);
    assert_int_equal(s.delivered, 2);
    assert_int_equal(s.redelivered, 1);
    assert_int_equal(s.acked, 1);
    free(p);
    lk_fake_nats_free(nats);
}

static void test_default_ack_wait_applies_when_zero(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *p = probe_new(nats, DO_NOTHING);
    subscribe(nats, "a", NULL, p);
    publish(nats, "a", "{}");
    lk_fake_nats_advance(nats, LK_DEFAULT_ACK_WAIT_MS - 1);
    assert_int_equal(p->calls, 1);
    lk_fake_nats_advance(nats, 1);
    assert_int_equal(p->calls, 2);
    free(p);
    lk_fake_nats_free(nats);
}

static void test_nak_with_delay_redelivers_after_the_delay(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *p = probe_new(nats, DO_NAK);
    p->nak_delay = 1000;
    subscribe(nats, "a", &(lk_subscribe_opts){.ack_wait_ms = 30000}, p);
    publish(nats, "a", "{}");
    lk_fake_nats_advance(nats, 999);
    assert_int_equal(p->calls, 1);
    p->act = DO_ACK;
    lk_fake_nats_advance(nats, 1);
    assert_int_equal(p->calls, 2);
    assert_int_equal(p->counts[1], 2);
    assert_int_equal(p->times[1], 1000);
    lk_fake_nats_stats s = lk_fake_nats_get_stats(nats);
    assert_int_equal(s.naked, 1);
    assert_int_equal(s.acked, 1);
    free(p);
    lk_fake_nats_free(nats);
}

static void test_nak_without_delay_redelivers_at_once(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *p = probe_new(nats, DO_NAK);
    subscribe(nats, "a", &(lk_subscribe_opts){.max_deliver = 3}, p);
    publish(nats, "a", "{}");
    assert_int_equal(lk_fake_nats_advance(nats, 0), 3);
    assert_int_equal(lk_fake_nats_now(nats), 0);
    free(p);
    lk_fake_nats_free(nats);
}

/* A handler that works 4 s, maybe says in_progress, works 4 s more, acks. */
typedef struct slow {
    lk_fake_nats *nats;
    bool say_in_progress;
    int calls;
    uint64_t last_count;
} slow;

static void slow_handler(lk_msg *msg, void *closure)
{
    slow *s = closure;
    s->calls++;
    s->last_count = msg->delivery_count;
    assert_int_equal(lk_fake_nats_advance(s->nats, 4000), 0);
    if (s->say_in_progress)
        lk_msg_in_progress(msg);
    assert_int_equal(lk_fake_nats_advance(s->nats, 4000), 0);
    lk_msg_ack(msg);
}

static void test_in_progress_restarts_the_ack_wait(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    slow s = {nats, true, 0, 0};
    lk_bus_subscribe(lk_fake_nats_bus(nats), "a",
                     &(lk_subscribe_opts){.ack_wait_ms = 5000}, slow_handler,
                     &s, NULL);
    publish(nats, "a", "{}");
    assert_int_equal(lk_fake_nats_run_until_idle(nats, 0), 1);
    assert_int_equal(lk_fake_nats_now(nats), 8000);
    assert_int_equal(s.calls, 1);
    assert_int_equal(lk_fake_nats_get_stats(nats).acked, 1);
    lk_fake_nats_free(nats);
}

static void test_slow_handler_without_in_progress_is_redelivered(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    slow s = {nats, false, 0, 0};
    lk_bus_subscribe(lk_fake_nats_bus(nats), "a",
                     &(lk_subscribe_opts){.ack_wait_ms = 5000,
                                          .max_deliver = 2},
                     slow_handler, &s, NULL);
    publish(nats, "a", "{}");
    lk_fake_nats_run_until_idle(nats, 0);
    /* Its ack came after the ack wait: too late, so it came again. */
    assert_int_equal(s.calls, 2);
    assert_int_equal(s.last_count, 2);
    assert_non_null(strstr(lk_fake_nats_trace(nats), "late"));
    lk_fake_nats_free(nats);
}

static void test_term_stops_redelivery_and_dead_letters(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *p = probe_new(nats, DO_TERM);
    subscribe(nats, "order:created", &(lk_subscribe_opts){.queue_group = "tickets"},
              p);
    publish(nats, "order:created", "not json");
    lk_fake_nats_run_until_idle(nats, 0);
    assert_int_equal(lk_fake_nats_advance(nats, 600000), 0);
    assert_int_equal(p->calls, 1);
    assert_int_equal(lk_fake_nats_dead_letter_count(nats), 1);
    const lk_fake_dead_letter *d = lk_fake_nats_dead_letter(nats, 0);
    assert_string_equal(d->reason, "terminated");
    assert_string_equal(d->subject, "order:created");
    assert_string_equal(d->data, "not json");
    assert_int_equal(d->length, strlen("not json"));
    assert_int_equal(d->stream_seq, 1);
    assert_string_equal(d->queue_group, "tickets");
    assert_null(lk_fake_nats_dead_letter(nats, 1));
    lk_fake_nats_stats s = lk_fake_nats_get_stats(nats);
    assert_int_equal(s.termed, 1);
    assert_int_equal(s.dead_lettered, 1);
    assert_int_equal(s.pending, 0);
    free(p);
    lk_fake_nats_free(nats);
}

static void test_dead_letter_after_max_deliver_with_reason(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *p = probe_new(nats, DO_NOTHING);
    subscribe(nats, "ticket:updated",
              &(lk_subscribe_opts){.ack_wait_ms = 1000, .max_deliver = 5}, p);
    publish(nats, "ticket:updated", "{\"version\":9}");
    assert_int_equal(lk_fake_nats_run_until_idle(nats, 0), 5);
    assert_int_equal(p->calls, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(p->counts[i], (uint64_t)i + 1);
        assert_int_equal(p->times[i], 1000 * i);
    }
    assert_int_equal(lk_fake_nats_dead_letter_count(nats), 1);
    const lk_fake_dead_letter *d = lk_fake_nats_dead_letter(nats, 0);
    assert_string_equal(d->reason, "max deliver (5) reached");
    assert_null(d->queue_group);
    assert_string_equal(d->data, "{\"version\":9}");
    lk_fake_nats_stats s = lk_fake_nats_get_stats(nats);
    assert_int_equal(s.dead_lettered, 1);
    assert_int_equal(s.termed, 0);
    assert_int_equal(s.redelivered, 4);
    free(p);
    lk_fake_nats_free(nats);
}

static void test_acking_twice_is_harmless(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *p = probe_new(nats, DO_ACK_TWICE);
    subscribe(nats, "a", NULL, p);
    publish(nats, "a", "{}");
    lk_fake_nats_run_until_idle(nats, 0);
    lk_fake_nats_advance(nats, 60000);
    assert_int_equal(p->calls, 1);
    assert_int_equal(lk_fake_nats_get_stats(nats).acked, 1);
    assert_non_null(strstr(lk_fake_nats_trace(nats), "ignored: already ack"));
    free(p);
    lk_fake_nats_free(nats);
}

/* ---- where a consumer starts ------------------------------------------------------ */

static void test_deliver_all_sees_earlier_messages_and_new_only_does_not(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    publish(nats, "ticket:created", "{\"n\":1}");
    publish(nats, "other", "{}");
    publish(nats, "ticket:created", "{\"n\":2}");
    probe *all = probe_new(nats, DO_ACK), *fresh = probe_new(nats, DO_ACK);
    subscribe(nats, "ticket:created", &(lk_subscribe_opts){.deliver_all = true},
              all);
    subscribe(nats, "ticket:created", NULL, fresh);
    publish(nats, "ticket:created", "{\"n\":3}");
    lk_fake_nats_run_until_idle(nats, 0);
    assert_int_equal(all->calls, 3);
    assert_int_equal(all->seqs[0], 1);
    assert_int_equal(all->seqs[1], 3);
    assert_int_equal(all->seqs[2], 4);
    assert_int_equal(fresh->calls, 1);
    assert_int_equal(fresh->seqs[0], 4);
    free(all);
    free(fresh);
    lk_fake_nats_free(nats);
}

static void test_new_queue_member_shares_the_groups_position(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    lk_subscribe_opts q = {.queue_group = "g", .deliver_all = true};
    probe *first = probe_new(nats, DO_ACK), *second = probe_new(nats, DO_ACK);
    publish(nats, "a", "{}");
    subscribe(nats, "a", &q, first);
    lk_fake_nats_run_until_idle(nats, 0);
    assert_int_equal(first->calls, 1);
    subscribe(nats, "a", &q, second); /* joins: no replay of seq 1 */
    lk_fake_nats_run_until_idle(nats, 0);
    assert_int_equal(first->calls + second->calls, 1);
    for (int i = 0; i < 20; i++)
        publish(nats, "a", "{}");
    lk_fake_nats_run_until_idle(nats, 0);
    assert_int_equal(first->calls + second->calls, 21);
    assert_true(second->calls > 0);
    free(first);
    free(second);
    lk_fake_nats_free(nats);
}

/* ---- durables: keyed like JetStream consumers ---------------------------------------- */

static lk_status try_subscribe(lk_fake_nats *nats, const char *subject,
                               const lk_subscribe_opts *opts, probe *p,
                               lk_error *err)
{
    return lk_bus_subscribe(lk_fake_nats_bus(nats), subject, opts,
                            probe_handler, p, err);
}

static void test_a_durable_without_queue_group_takes_one_subscriber(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *a = probe_new(nats, DO_ACK), *b = probe_new(nats, DO_ACK);
    lk_subscribe_opts solo = {.durable_name = "solo"};
    lk_error err;
    subscribe(nats, "a", &solo, a);
    assert_int_equal(try_subscribe(nats, "a", &solo, b, &err), LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "\"solo\""));
    assert_non_null(strstr(err.message, "queue group"));
    assert_int_equal(lk_fake_nats_subscription_count(nats), 1);
    /* the same durable name on another subject is another consumer */
    subscribe(nats, "b", &solo, b);
    publish(nats, "a", "{}");
    publish(nats, "b", "{}");
    lk_fake_nats_run_until_idle(nats, 0);
    assert_int_equal(a->calls, 1);
    assert_string_equal(a->last_subject, "a");
    assert_int_equal(b->calls, 1);
    assert_string_equal(b->last_subject, "b");
    free(a);
    free(b);
    lk_fake_nats_free(nats);
}

static void test_a_durable_belongs_to_one_queue_group(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *p = probe_new(nats, DO_ACK);
    lk_error err;
    subscribe(nats, "a",
              &(lk_subscribe_opts){.queue_group = "alpha", .durable_name = "shared"},
              p);
    assert_int_equal(
        try_subscribe(nats, "a",
                      &(lk_subscribe_opts){.queue_group = "beta",
                                           .durable_name = "shared"},
                      p, &err),
        LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "\"shared\""));
    assert_non_null(strstr(err.message, "\"alpha\""));
    assert_non_null(strstr(err.message, "\"beta\""));
    assert_int_equal(try_subscribe(nats, "a",
                                   &(lk_subscribe_opts){.durable_name = "shared"},
                                   p, &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "not \"(none)\""));
    /* and a durable made without a group takes no group later */
    subscribe(nats, "b", &(lk_subscribe_opts){.durable_name = "lone"}, p);
    assert_int_equal(
        try_subscribe(nats, "b",
                      &(lk_subscribe_opts){.queue_group = "g",
                                           .durable_name = "lone"},
                      p, &err),
        LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "queue group \"(none)\", not \"g\""));
    assert_int_equal(lk_fake_nats_subscription_count(nats), 2);
    free(p);
    lk_fake_nats_free(nats);
}

static void test_durables_sharing_a_queue_group_are_separate_consumers(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *first = probe_new(nats, DO_ACK), *second = probe_new(nats, DO_TERM);
    subscribe(nats, "a",
              &(lk_subscribe_opts){.queue_group = "group", .durable_name = "first"},
              first);
    subscribe(nats, "a",
              &(lk_subscribe_opts){.queue_group = "group", .durable_name = "second"},
              second);
    publish(nats, "a", "{}");
    publish(nats, "a", "{}");
    lk_fake_nats_run_until_idle(nats, 0);
    assert_int_equal(first->calls, 2);
    assert_int_equal(second->calls, 2);
    /* the dead letters say which consumer they died in */
    assert_int_equal(lk_fake_nats_dead_letter_count(nats), 2);
    const lk_fake_dead_letter *d = lk_fake_nats_dead_letter(nats, 0);
    assert_string_equal(d->durable, "second");
    assert_string_equal(d->queue_group, "group");
    assert_non_null(strstr(lk_fake_nats_trace(nats), "deliver #1 a to second"));
    assert_non_null(strstr(lk_fake_nats_trace(nats), "deliver #1 a to first"));
    free(first);
    free(second);
    lk_fake_nats_free(nats);
}

static void test_a_queue_group_without_durable_name_is_its_durable(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *a = probe_new(nats, DO_ACK), *b = probe_new(nats, DO_ACK);
    /* {group "orders"} and {group "orders", durable "orders"}: one consumer,
     * as the NATS adapter names both "orders_<subject>..." */
    subscribe(nats, "a", &(lk_subscribe_opts){.queue_group = "orders"}, a);
    subscribe(nats, "a",
              &(lk_subscribe_opts){.queue_group = "orders", .durable_name = "orders"},
              b);
    for (int i = 0; i < 50; i++)
        publish(nats, "a", "{}");
    lk_fake_nats_run_until_idle(nats, 0);
    assert_int_equal(a->calls + b->calls, 50);
    assert_true(a->calls > 0 && b->calls > 0);
    /* an ephemeral consumer's dead letters name no durable */
    probe *e = probe_new(nats, DO_TERM);
    subscribe(nats, "e", NULL, e);
    publish(nats, "e", "{}");
    lk_fake_nats_run_until_idle(nats, 0);
    assert_null(lk_fake_nats_dead_letter(nats, 0)->durable);
    assert_null(lk_fake_nats_dead_letter(nats, 0)->queue_group);
    free(a);
    free(b);
    free(e);
    lk_fake_nats_free(nats);
}

/* ---- max ack pending ------------------------------------------------------------- */

enum { LIMIT = LK_FAKE_NATS_MAX_ACK_PENDING, BACKLOG = LIMIT + 100 };

static int out_of_order(const probe *p); /* with the faults, below */

/* `p` handled BACKLOG messages without replying; now it settles them with
 * `act` on their second delivery, and the held 100 follow. */
static void held_messages_follow_a_settled_one(action act)
{
    lk_fake_nats *nats = broker(1);
    probe *p = probe_new(nats, DO_NOTHING);
    subscribe(nats, "a", &(lk_subscribe_opts){.ack_wait_ms = 1000}, p);
    for (int i = 0; i < BACKLOG; i++)
        publish(nats, "a", "{}");
    assert_int_equal(lk_fake_nats_advance(nats, 999), LIMIT);
    for (int i = 0; i < LIMIT; i++)
        assert_int_equal(p->seqs[i], (uint64_t)i + 1);
    assert_int_equal(lk_fake_nats_get_stats(nats).pending, BACKLOG);

    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    lk_fake_nats_dump(nats, out, 0);
    fclose(out);
    assert_non_null(strstr(text, "consumer sub0 on a: 1000 un-acked (max ack "
                                 "pending reached), 100 not delivered yet"));
    free(text);

    p->act = act;
    lk_fake_nats_run_until_idle(nats, 0);
    assert_int_equal(p->calls, LIMIT + BACKLOG);
    for (int i = LIMIT; i < p->calls; i++)
        if (p->seqs[i] > LIMIT) {
            /* a held message: first delivered once a slot was freed */
            assert_int_equal(p->counts[i], 1);
            assert_true(p->times[i] >= 1000);
        }
    lk_fake_nats_stats s = lk_fake_nats_get_stats(nats);
    assert_int_equal(s.pending, 0);
    assert_int_equal(s.acked + s.termed, BACKLOG);
    free(p);
    lk_fake_nats_free(nats);
}

static void test_at_most_1000_deliveries_await_a_reply_and_an_ack_frees_one(void **state)
{
    (void)state;
    held_messages_follow_a_settled_one(DO_ACK);
}

static void test_a_term_frees_a_max_ack_pending_slot(void **state)
{
    (void)state;
    held_messages_follow_a_settled_one(DO_TERM);
}

static void test_redeliveries_flow_at_max_ack_pending_and_max_deliver_frees_a_slot(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *p = probe_new(nats, DO_NAK);
    p->nak_delay = 500;
    subscribe(nats, "a", &(lk_subscribe_opts){.max_deliver = 2}, p);
    for (int i = 0; i < BACKLOG; i++)
        publish(nats, "a", "{}");
    assert_int_equal(lk_fake_nats_advance(nats, 0), LIMIT); /* naks settle none */
    assert_int_equal(lk_fake_nats_advance(nats, 499), 0);
    assert_true(lk_fake_nats_step(nats) == false);
    /* at t=500 every redelivery comes (none is held back at the limit), and
     * each one's end (max deliver) frees the slot a held message takes */
    assert_int_equal(lk_fake_nats_advance(nats, 1), BACKLOG);
    assert_int_equal(p->seqs[LIMIT], 1);
    assert_int_equal(p->counts[LIMIT], 2);
    assert_int_equal(p->seqs[LIMIT + 1], LIMIT + 1);
    assert_int_equal(p->counts[LIMIT + 1], 1);
    lk_fake_nats_run_until_idle(nats, 0);
    assert_int_equal(p->calls, 2 * BACKLOG);
    assert_int_equal(lk_fake_nats_dead_letter_count(nats), BACKLOG);
    free(p);
    lk_fake_nats_free(nats);
}

static void test_reordering_never_passes_max_ack_pending(void **state)
{
    (void)state;
    lk_fake_broker_opts opts = {.seed = 9, .reorder_window = 4};
    lk_fake_nats *nats = lk_fake_nats_new_broker(&opts);
    probe *p = probe_new(nats, DO_NOTHING);
    subscribe(nats, "a", NULL, p);
    for (int i = 0; i < LIMIT + 10; i++)
        publish(nats, "a", "{}");
    assert_int_equal(lk_fake_nats_advance(nats, 0), LIMIT);
    static int seen[LIMIT + 11];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < LIMIT; i++)
        seen[p->seqs[i]]++;
    for (int seq = 1; seq <= LIMIT + 10; seq++)
        assert_true(seen[seq] <= 1);
    assert_true(out_of_order(p) > 0);
    p->act = DO_ACK;
    lk_fake_nats_run_until_idle(nats, 0);
    assert_int_equal(lk_fake_nats_get_stats(nats).acked, LIMIT + 10);
    free(p);
    lk_fake_nats_free(nats);
}

static void test_a_long_backlog_keeps_stream_order(void **state)
{
    (void)state;
    enum { ROUNDS = 60, IN = 7, OUT = 5 };
    lk_fake_nats *nats = broker(1);
    probe *p = probe_new(nats, DO_ACK);
    subscribe(nats, "a", NULL, p);
    /* the backlog grows and is consumed from at once, as a busy stream */
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < IN; i++)
            publish(nats, "a", "{}");
        for (int i = 0; i < OUT; i++)
            assert_true(lk_fake_nats_step(nats));
    }
    lk_fake_nats_run_until_idle(nats, 0);
    assert_int_equal(p->calls, ROUNDS * IN);
    for (int i = 0; i < p->calls; i++)
        assert_int_equal(p->seqs[i], (uint64_t)i + 1);
    free(p);
    lk_fake_nats_free(nats);
}

/* ---- handlers that publish, drain ------------------------------------------------ */

typedef struct relay {
    lk_fake_nats *nats;
    int depth, max_depth, calls;
} relay;

static void relay_handler(lk_msg *msg, void *closure)
{
    relay *r = closure;
    r->depth++;
    r->calls++;
    if (r->depth > r->max_depth)
        r->max_depth = r->depth;
    if (strcmp(msg->subject, "a") == 0) {
        size_t before = lk_fake_nats_get_stats(r->nats).delivered;
        publish(r->nats, "b", "{}");
        /* enqueued only: nothing was delivered meanwhile */
        assert_int_equal(lk_fake_nats_get_stats(r->nats).delivered, before);
        assert_false(lk_fake_nats_step(r->nats));
    }
    lk_msg_ack(msg);
    r->depth--;
}

static void test_handler_that_publishes_only_enqueues(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    relay r = {nats, 0, 0, 0};
    lk_bus *bus = lk_fake_nats_bus(nats);
    lk_bus_subscribe(bus, "a", NULL, relay_handler, &r, NULL);
    lk_bus_subscribe(bus, "b", NULL, relay_handler, &r, NULL);
    publish(nats, "a", "{}");
    assert_int_equal(lk_fake_nats_run_until_idle(nats, 0), 2);
    assert_int_equal(r.calls, 2);
    assert_int_equal(r.max_depth, 1);
    lk_fake_nats_free(nats);
}

static void test_drain_stops_deliveries(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *p = probe_new(nats, DO_ACK);
    subscribe(nats, "a", NULL, p);
    publish(nats, "a", "{}");
    assert_int_equal(lk_bus_drain(lk_fake_nats_bus(nats), NULL), LK_OK);
    assert_int_equal(lk_fake_nats_run_until_idle(nats, 0), 0);
    assert_false(lk_fake_nats_step(nats));
    assert_int_equal(p->calls, 0);
    assert_int_equal(lk_fake_nats_get_stats(nats).pending, 1);
    assert_int_equal(lk_bus_publish(lk_fake_nats_bus(nats), "a", "{}", 2, NULL,
                                    NULL),
                     LK_ERR_CLOSED);
    free(p);
    lk_fake_nats_free(nats);
}

static void test_duplicate_msg_id_is_stored_once(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *p = probe_new(nats, DO_ACK);
    subscribe(nats, "a", NULL, p);
    lk_bus *bus = lk_fake_nats_bus(nats);
    lk_publish_opts id = {.msg_id = "ticket-1-v0"};
    assert_int_equal(lk_bus_publish(bus, "a", "{}", 2, &id, NULL), LK_OK);
    assert_int_equal(lk_bus_publish(bus, "a", "{}", 2, &id, NULL), LK_OK);
    lk_publish_opts other = {.msg_id = "ticket-1-v1"};
    assert_int_equal(lk_bus_publish(bus, "a", "{}", 2, &other, NULL), LK_OK);
    lk_fake_nats_run_until_idle(nats, 0);
    assert_int_equal(p->calls, 2);
    assert_int_equal(p->seqs[1], 2);
    assert_int_equal(lk_fake_nats_published_count(nats), 3); /* calls */
    lk_fake_nats_stats s = lk_fake_nats_get_stats(nats);
    assert_int_equal(s.published, 3);
    assert_int_equal(s.deduplicated, 1);
    free(p);
    lk_fake_nats_free(nats);
}

/* ---- seeded faults ---------------------------------------------------------------- */

static int out_of_order(const probe *p)
{
    int n = 0;
    for (int i = 1; i < p->calls; i++)
        if (p->seqs[i] < p->seqs[i - 1])
            n++;
    return n;
}

static void test_reordering_happens_with_a_window_and_never_without(void **state)
{
    (void)state;
    for (size_t window = 0; window <= 4; window += 4) {
        lk_fake_broker_opts opts = {.seed = 7, .reorder_window = window};
        lk_fake_nats *nats = lk_fake_nats_new_broker(&opts);
        probe *p = probe_new(nats, DO_ACK);
        subscribe(nats, "a", NULL, p);
        for (int i = 0; i < 200; i++)
            publish(nats, "a", "{}");
        assert_int_equal(lk_fake_nats_run_until_idle(nats, 0), 200);
        if (window == 0) {
            assert_int_equal(out_of_order(p), 0);
        } else {
            assert_true(out_of_order(p) > 10);
            /* never further than the window allows */
            for (int i = 0; i < p->calls; i++)
                assert_true(p->seqs[i] <= (uint64_t)i + window);
        }
        free(p);
        lk_fake_nats_free(nats);
    }
}

static void test_duplicates_are_delivered_at_the_configured_rate(void **state)
{
    (void)state;
    enum { MESSAGES = 1000 };
    lk_fake_broker_opts opts = {.seed = 3, .duplicate_rate = 0.25};
    lk_fake_nats *nats = lk_fake_nats_new_broker(&opts);
    probe *p = probe_new(nats, DO_ACK);
    subscribe(nats, "a", NULL, p);
    for (int i = 0; i < MESSAGES; i++)
        publish(nats, "a", "{}");
    lk_fake_nats_run_until_idle(nats, 0);
    lk_fake_nats_stats s = lk_fake_nats_get_stats(nats);
    /* 1000 acks lose with p = 0.25, their redeliveries again: ~333 */
    assert_true(s.duplicated > 250 && s.duplicated < 420);
    assert_int_equal(s.delivered, MESSAGES + s.duplicated);
    assert_int_equal(s.redelivered, s.duplicated);
    assert_int_equal(s.acked, MESSAGES);
    assert_int_equal((uint64_t)p->calls, s.delivered);
    free(p);
    lk_fake_nats_free(nats);

    lk_fake_broker_opts none = {.seed = 3};
    nats = lk_fake_nats_new_broker(&none);
    p = probe_new(nats, DO_ACK);
    subscribe(nats, "a", NULL, p);
    for (int i = 0; i < MESSAGES; i++)
        publish(nats, "a", "{}");
    lk_fake_nats_run_until_idle(nats, 0);
    assert_int_equal(lk_fake_nats_get_stats(nats).duplicated, 0);
    assert_int_equal(p->calls, MESSAGES);
    free(p);
    lk_fake_nats_free(nats);
}

/* A small workload touching every random choice; returns its trace (the
 * caller frees it). */
static char *run_workload(uint64_t seed)
{
    lk_fake_broker_opts opts = {.seed = seed, .reorder_window = 3,
                                .duplicate_rate = 0.1, .trace = true};
    lk_fake_nats *nats = lk_fake_nats_new_broker(&opts);
    probe *m[3];
    for (int i = 0; i < 3; i++) {
        m[i] = probe_new(nats, i == 2 ? DO_NOTHING : DO_ACK);
        subscribe(nats, "ticket:updated",
                  &(lk_subscribe_opts){.queue_group = "orders",
                                       .ack_wait_ms = 500,
                                       .max_deliver = 4},
                  m[i]);
    }
    for (int i = 0; i < 100; i++) {
        char text[32];
        snprintf(text, sizeof text, "{\"version\":%d}", i);
        publish(nats, "ticket:updated", text);
    }
    lk_fake_nats_run_until_idle(nats, 0);
    char *trace = strdup(lk_fake_nats_trace(nats));
    for (int i = 0; i < 3; i++)
        free(m[i]);
    lk_fake_nats_free(nats);
    return trace;
}

static void test_same_seed_gives_the_same_trace_byte_for_byte(void **state)
{
    (void)state;
    char *a = run_workload(2024), *b = run_workload(2024),
         *c = run_workload(2025);
    assert_true(strlen(a) > 1000);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    free(a);
    free(b);
    free(c);
}

static void test_run_until_idle_stops_at_its_bound(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *p = probe_new(nats, DO_NOTHING); /* never acks, no max deliver */
    subscribe(nats, "a", &(lk_subscribe_opts){.ack_wait_ms = 10}, p);
    publish(nats, "a", "{}");
    assert_int_equal(lk_fake_nats_run_until_idle(nats, 50), 50);
    assert_int_equal(p->calls, 50);
    assert_int_equal(p->counts[49], 50);
    assert_int_equal(lk_fake_nats_now(nats), 490); /* jumped, never slept */
    assert_int_equal(lk_fake_nats_get_stats(nats).pending, 1);
    free(p);
    lk_fake_nats_free(nats);
}

/* Acks, naks, terms or ignores by stream sequence, so every path is used. */
static void mixed_handler(lk_msg *msg, void *closure)
{
    (void)closure;
    switch (msg->stream_seq % 4) {
    case 0: lk_msg_ack(msg); break;
    case 1: lk_msg_term(msg); break;
    case 2: if (msg->delivery_count >= 2) lk_msg_ack(msg); else lk_msg_nak(msg, 10); break;
    default: break; /* never replies: dead letter after max deliver */
    }
}

static void test_stats_add_up(void **state)
{
    (void)state;
    enum { MESSAGES = 400 };
    lk_fake_broker_opts opts = {.seed = 11, .reorder_window = 2,
                                .duplicate_rate = 0.05};
    lk_fake_nats *nats = lk_fake_nats_new_broker(&opts);
    lk_bus *bus = lk_fake_nats_bus(nats);
    lk_subscribe_opts q = {.queue_group = "g", .ack_wait_ms = 100,
                           .max_deliver = 3};
    lk_bus_subscribe(bus, "a", &q, mixed_handler, NULL, NULL);
    lk_bus_subscribe(bus, "a", &q, mixed_handler, NULL, NULL);
    lk_bus_subscribe(bus, "a", &(lk_subscribe_opts){.max_deliver = 3,
                                                    .ack_wait_ms = 100},
                     mixed_handler, NULL, NULL);
    for (int i = 0; i < MESSAGES; i++)
        publish(nats, "a", "{}");
    lk_fake_nats_stats mid = lk_fake_nats_get_stats(nats);
    assert_int_equal(mid.pending, 2 * MESSAGES); /* two consumers owe all */
    lk_fake_nats_run_until_idle(nats, 0);
    lk_fake_nats_stats s = lk_fake_nats_get_stats(nats);
    assert_int_equal(s.published, MESSAGES);
    assert_int_equal(s.pending, 0);
    /* every (message, consumer) pair ends acked or dead */
    assert_int_equal(s.acked + s.dead_lettered, 2 * MESSAGES);
    assert_int_equal(s.termed, 2 * MESSAGES / 4);
    assert_int_equal(s.dead_lettered, s.termed + 2 * MESSAGES / 4);
    assert_int_equal(lk_fake_nats_dead_letter_count(nats), s.dead_lettered);
    /* every delivery is a first one or a redelivery */
    assert_int_equal(s.delivered - s.redelivered, 2 * MESSAGES);
    assert_true(s.naked >= 2 * MESSAGES / 4);
    assert_true(s.duplicated > 0);
    lk_fake_nats_free(nats);
}

static void test_scenario_sized_load_runs_to_idle(void **state)
{
    (void)state;
    /* ~500 tickets x 3 events x 4 replicas, with faults on */
    lk_fake_broker_opts opts = {.seed = 5, .reorder_window = 8,
                                .duplicate_rate = 0.05};
    lk_fake_nats *nats = lk_fake_nats_new_broker(&opts);
    probe *m[4];
    for (int i = 0; i < 4; i++) {
        m[i] = probe_new(nats, DO_ACK);
        subscribe(nats, "ticket:created", &(lk_subscribe_opts){.queue_group = "orders"}, m[i]);
        subscribe(nats, "ticket:updated", &(lk_subscribe_opts){.queue_group = "orders"}, m[i]);
    }
    for (int i = 0; i < 500; i++) {
        publish(nats, "ticket:created", "{}");
        publish(nats, "ticket:updated", "{}");
        publish(nats, "ticket:updated", "{}");
    }
    size_t n = lk_fake_nats_run_until_idle(nats, 0);
    lk_fake_nats_stats s = lk_fake_nats_get_stats(nats);
    assert_int_equal(s.acked, 1500);
    assert_int_equal(n, s.delivered);
    assert_int_equal(s.pending, 0);
    for (int i = 0; i < 4; i++)
        free(m[i]);
    lk_fake_nats_free(nats);
}

static void test_dump_shows_stats_pending_and_last_trace_lines(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *p = probe_new(nats, DO_NOTHING);
    subscribe(nats, "ticket:updated", &(lk_subscribe_opts){.queue_group = "orders"}, p);
    publish(nats, "ticket:updated", "{}");
    lk_fake_nats_advance(nats, 0);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    lk_fake_nats_dump(nats, out, 2);
    fclose(out);
    assert_non_null(strstr(text, "delivered 1"));
    assert_non_null(strstr(text, "pending #1 ticket:updated in orders"));
    assert_non_null(strstr(text, "last 2 trace lines"));
    assert_non_null(strstr(text, "deliver #1 ticket:updated to orders"));
    assert_null(strstr(text, "subscribe ticket:updated")); /* not in last 2 */
    free(text);
    free(p);
    lk_fake_nats_free(nats);
}

static void test_step_delivers_one_due_message_at_a_time(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *p = probe_new(nats, DO_ACK);
    subscribe(nats, "a", NULL, p);
    assert_false(lk_fake_nats_step(nats));
    publish(nats, "a", "{}");
    publish(nats, "a", "{}");
    assert_true(lk_fake_nats_step(nats));
    assert_int_equal(p->calls, 1);
    assert_true(lk_fake_nats_step(nats));
    assert_false(lk_fake_nats_step(nats));
    assert_int_equal(p->calls, 2);
    assert_false(lk_fake_nats_step(NULL));
    free(p);
    lk_fake_nats_free(nats);
}

static void test_step_does_not_move_the_clock(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    probe *p = probe_new(nats, DO_NAK);
    p->nak_delay = 100;
    subscribe(nats, "a", NULL, p);
    publish(nats, "a", "{}");
    assert_true(lk_fake_nats_step(nats));
    assert_false(lk_fake_nats_step(nats)); /* due at 100, now is 0 */
    assert_int_equal(lk_fake_nats_get_stats(nats).pending, 1);
    assert_int_equal(lk_fake_nats_advance(nats, -5), 0); /* refused */
    assert_int_equal(lk_fake_nats_now(nats), 0);
    free(p);
    lk_fake_nats_free(nats);
}

static void ack_then_in_progress_handler(lk_msg *msg, void *closure)
{
    (void)closure;
    lk_msg_ack(msg);
    assert_int_equal(lk_msg_in_progress(msg), LK_OK);
    assert_int_equal(lk_msg_nak(msg, 5), LK_OK);
}

static void test_replies_after_the_first_are_ignored(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    lk_bus_subscribe(lk_fake_nats_bus(nats), "a", NULL,
                     ack_then_in_progress_handler, NULL, NULL);
    publish(nats, "a", "{}");
    lk_fake_nats_run_until_idle(nats, 0);
    lk_fake_nats_stats s = lk_fake_nats_get_stats(nats);
    assert_int_equal(s.delivered, 1);
    assert_int_equal(s.acked, 1);
    assert_int_equal(s.naked, 0);
    const char *trace = lk_fake_nats_trace(nats);
    assert_non_null(strstr(trace, "in_progress #1 in sub0 ignored"));
    assert_non_null(strstr(trace, "nak #1 in sub0 ignored: already ack"));
    lk_fake_nats_free(nats);
}

static void test_many_msg_ids_are_all_remembered(void **state)
{
    (void)state;
    lk_fake_nats *nats = broker(1);
    lk_bus *bus = lk_fake_nats_bus(nats);
    char id[32];
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 300; i++) {
            snprintf(id, sizeof id, "id-%d", i);
            lk_publish_opts o = {.msg_id = id};
            assert_int_equal(lk_bus_publish(bus, "a", "{}", 2, &o, NULL), LK_OK);
        }
    lk_fake_nats_stats s = lk_fake_nats_get_stats(nats);
    assert_int_equal(s.published, 600);
    assert_int_equal(s.deduplicated, 300);
    lk_fake_nats_free(nats);
}

static void test_dump_lists_dead_letters_and_says_when_there_is_no_trace(void **state)
{
    (void)state;
    lk_fake_nats *nats = lk_fake_nats_new_broker(NULL); /* no trace */
    probe *p = probe_new(nats, DO_TERM);
    subscribe(nats, "a", NULL, p);
    for (int i = 0; i < 150; i++)
        publish(nats, "a", "{}");
    lk_fake_nats_step(nats);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    lk_fake_nats_dump(nats, out, 10);
    lk_fake_nats_dump(NULL, out, 10); /* ignored */
    fclose(out);
    assert_non_null(strstr(text, "dead letter #1 a: terminated"));
    assert_non_null(strstr(text, "more pending not shown"));
    assert_non_null(strstr(text, "no trace"));
    assert_string_equal(lk_fake_nats_trace(nats), "");
    free(text);
    free(p);
    lk_fake_nats_free(nats);
}

static void test_null_broker_reads_as_empty(void **state)
{
    (void)state;
    lk_fake_nats_stats s = lk_fake_nats_get_stats(NULL);
    assert_int_equal(s.published + s.delivered + s.pending, 0);
    assert_string_equal(lk_fake_nats_trace(NULL), "");
    assert_int_equal(lk_fake_nats_now(NULL), 0);
    assert_int_equal(lk_fake_nats_dead_letter_count(NULL), 0);
    assert_null(lk_fake_nats_dead_letter(NULL, 0));
    assert_int_equal(lk_fake_nats_advance(NULL, 10), 0);
    assert_int_equal(lk_fake_nats_run_until_idle(NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_message_is_delivered_once_when_acked),
        cmocka_unit_test(test_message_carries_virtual_publish_time),
        cmocka_unit_test(test_stream_sequence_counts_from_one_across_subjects),
        cmocka_unit_test(test_queue_group_gives_each_message_to_exactly_one_member),
        cmocka_unit_test(test_subscriptions_without_queue_group_each_get_every_message),
        cmocka_unit_test(test_queue_group_member_with_other_config_is_refused),
        cmocka_unit_test(test_unacked_message_comes_again_after_ack_wait_not_before),
        cmocka_unit_test(test_default_ack_wait_applies_when_zero),
        cmocka_unit_test(test_nak_with_delay_redelivers_after_the_delay),
        cmocka_unit_test(test_nak_without_delay_redelivers_at_once),
        cmocka_unit_test(test_in_progress_restarts_the_ack_wait),
        cmocka_unit_test(test_slow_handler_without_in_progress_is_redelivered),
        cmocka_unit_test(test_term_stops_redelivery_and_dead_letters),
        cmocka_unit_test(test_dead_letter_after_max_deliver_with_reason),
        cmocka_unit_test(test_acking_twice_is_harmless),
        cmocka_unit_test(test_deliver_all_sees_earlier_messages_and_new_only_does_not),
        cmocka_unit_test(test_new_queue_member_shares_the_groups_position),
        cmocka_unit_test(test_a_durable_without_queue_group_takes_one_subscriber),
        cmocka_unit_test(test_a_durable_belongs_to_one_queue_group),
        cmocka_unit_test(test_durables_sharing_a_queue_group_are_separate_consumers),
        cmocka_unit_test(test_a_queue_group_without_durable_name_is_its_durable),
        cmocka_unit_test(test_at_most_1000_deliveries_await_a_reply_and_an_ack_frees_one),
        cmocka_unit_test(test_a_term_frees_a_max_ack_pending_slot),
        cmocka_unit_test(test_redeliveries_flow_at_max_ack_pending_and_max_deliver_frees_a_slot),
        cmocka_unit_test(test_reordering_never_passes_max_ack_pending),
        cmocka_unit_test(test_a_long_backlog_keeps_stream_order),
        cmocka_unit_test(test_handler_that_publishes_only_enqueues),
        cmocka_unit_test(test_drain_stops_deliveries),
        cmocka_unit_test(test_duplicate_msg_id_is_stored_once),
        cmocka_unit_test(test_reordering_happens_with_a_window_and_never_without),
        cmocka_unit_test(test_duplicates_are_delivered_at_the_configured_rate),
        cmocka_unit_test(test_same_seed_gives_the_same_trace_byte_for_byte),
        cmocka_unit_test(test_run_until_idle_stops_at_its_bound),
        cmocka_unit_test(test_stats_add_up),
        cmocka_unit_test(test_scenario_sized_load_runs_to_idle),
        cmocka_unit_test(test_dump_shows_stats_pending_and_last_trace_lines),
        cmocka_unit_test(test_step_delivers_one_due_message_at_a_time),
        cmocka_unit_test(test_step_does_not_move_the_clock),
        cmocka_unit_test(test_replies_after_the_first_are_ignored),
        cmocka_unit_test(test_many_msg_ids_are_all_remembered),
        cmocka_unit_test(test_dump_lists_dead_letters_and_says_when_there_is_no_trace),
        cmocka_unit_test(test_null_broker_reads_as_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
