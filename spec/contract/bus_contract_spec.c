/* SPDX-License-Identifier: MIT */
/*
 * bus_contract_spec.c — one table of bus behaviours, run against every
 * implementation: the fake broker of mocks/ and a real nats-server -js.
 *
 * A double is only as good as its agreement with the real server. Each
 * behaviour is written once, against a small factory that abstracts the
 * one thing the two differ in, time:
 *
 *   fake:  virtual time; "let 300 ms pass" is lk_fake_nats_advance(300),
 *          "wait for N deliveries" steps the broker until N or the virtual
 *          deadline. Handlers run on this thread.
 *   nats:  real time; waiting is a condition variable signalled by handlers
 *          on libnats threads, bounded by a deadline.
 *
 * Ack waits are short (ACK_WAIT_MS) so the real run stays fast. Every test
 * gets its own subjects (and, on the server, its own stream), so runs and
 * tests never see each other's messages.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <nats/nats.h>

#include "fake_nats.h"
#include "listenkit.h"
#include "listenkit/nats.h"
#include "nats_server.h"

#define ACK_WAIT_MS 300
#define WAIT_MS 10000    /* bound on any wait for deliveries */
#define MAX_RECORDS 4096 /* deliveries a recorder keeps */
#define QUEUE_MESSAGES 1000
#define QUEUE_MEMBERS 4

/* ---- a recorder: what a handler saw, and how it replies ------------------------ */

typedef enum reply {
    REPLY_ACK,          /* ack every delivery */
    REPLY_NONE,         /* never reply */
    REPLY_ACK_SECOND,   /* no reply to the first delivery, ack the next */
    REPLY_NAK_FIRST,    /* nak(nak_delay_ms) the first, ack the next */
    REPLY_TERM,         /* term every delivery */
    REPLY_NAK,          /* nak(0) every delivery */
    REPLY_NAK_THEN_ACK  /* first delivery: nak(0), then ack at once; later
                           deliveries: ack */
} reply;

typedef struct record {
    uint64_t seq, count;
    int64_t at_ms; /* impl's clock when delivered */
    int member;
    char data[32];
} record;

typedef struct contract contract;
typedef struct recorder recorder;

/* What a handler's closure points to: the recorder and who "we" are. */
typedef struct member {
    recorder *r;
    int id;
} member;

struct recorder {
    contract *c;
    reply policy;
    int64_t nak_delay_ms;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    lk_status first_reply, second_reply; /* REPLY_NAK_THEN_ACK */
    size_t n;
    record rec[MAX_RECORDS];
    member members[QUEUE_MEMBERS];
    /* for listener behaviours: the listener lives as long as the bus */
    lk_listener listener;
    lk_listener_def def;
    lk_schema schema;
};

/* ---- the factory ------------------------------------------------------------------ */

typedef struct impl {
    const char *name;
    /* Makes c->bus. Returns false (after skip()/fail) when impossible. */
    bool (*open)(contract *c);
    void (*close)(contract *c);
    /* Lets `ms` of the implementation's time pass. */
    void (*pass)(contract *c, int64_t ms);
    /* Waits until r->n >= n or `ms` passed; true when reached. */
    bool (*wait)(contract *c, recorder *r, size_t n, int64_t ms);
    int64_t (*now)(contract *c);
    /* Asynchronous publishing: make publishes on `subject` fail from now
     * on (fake: an injected LK_ERR_IO; server: the stream stops capturing
     * it behind the bus's back) and mend it again. */
    void (*break_subject)(contract *c, const char *subject);
    void (*mend_subject)(contract *c, const char *subject);
    /* Moves c->bus to a connection that can be cut (server: a server of
     * its own, reconnecting bus), cuts it mid-batch, and returns once it
     * is back (fake: publishes fail with LK_ERR_IO while it is cut). */
    void (*use_cuttable)(contract *c);
    void (*cut)(contract *c);
    void (*heal)(contract *c);
} impl;

#define MAX_RECORDERS 4

/* Recorders belong to the contract, not to a behaviour's stack: a failed
 * assertion leaves the behaviour at once, while the bus may still deliver
 * until teardown closes it. */
struct contract {
    const impl *impl;
    recorder *recorders[MAX_RECORDERS];
    size_t n_recorders;
    lk_bus *bus;
    lk_bus *other; /* a second connection (connect_other), or NULL */
    lk_fake_nats *fake;
    spec_nats_server own; /* use_cuttable's server (nats) */
    char stream[64];
    char subject[128];
};

static spec_nats_server server;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* fake broker */

static bool fake_open(contract *c)
{
    c->fake = lk_fake_nats_new_broker(NULL);
    assert_non_null(c->fake);
    c->bus = lk_fake_nats_bus(c->fake);
    return true;
}

static void fake_close(contract *c)
{
    c->other = NULL; /* a connection of the fake: freed with it */
    lk_fake_nats_free(c->fake);
    c->fake = NULL;
    c->bus = NULL;
}

static void fake_pass(contract *c, int64_t ms)
{
    lk_fake_nats_advance(c->fake, ms);
}

static bool fake_wait(contract *c, recorder *r, size_t n, int64_t ms)
{
    int64_t deadline = lk_fake_nats_now(c->fake) + ms;
    while (r->n < n) {
        if (lk_fake_nats_step(c->fake))
            continue;
        if (lk_fake_nats_now(c->fake) >= deadline)
            return false;
        lk_fake_nats_advance(c->fake, 1);
    }
    return true;
}

static int64_t fake_now(contract *c)
{
    return lk_fake_nats_now(c->fake);
}

static void fake_break_subject(contract *c, const char *subject)
{
    lk_fake_nats_fail_subject(c->fake, subject, LK_ERR_IO);
}

static void fake_mend_subject(contract *c, const char *subject)
{
    lk_fake_nats_fail_subject(c->fake, subject, LK_OK);
}

/* The fake's scripted outage: while down, a batch refuses publishes with
 * LK_ERR_IO ("nothing was sent"), and the messages it had in flight when
 * the connection went down fail with LK_ERR_IO at the wait, though the
 * broker stored them (as a server may have). */
static void fake_use_cuttable(contract *c) { (void)c; }
static void fake_cut(contract *c) { lk_fake_nats_connection_down(c->fake); }
static void fake_heal(contract *c) { lk_fake_nats_connection_up(c->fake); }

/* real server */

static bool nats_open(contract *c)
{
    lk_error err = {0};
    lk_nats_opts opts = {.stream = c->stream, .publish_timeout_ms = 5000};
    spec_nats_server_require(&server);
    if (lk_nats_bus_connect(&c->bus, server.url, &opts, &err) != LK_OK)
        fail_msg("connect %s: %s", server.url, err.message);
    return true;
}

static void nats_close(contract *c)
{
    lk_bus_free(c->other);
    c->other = NULL;
    lk_bus_free(c->bus); /* drains: no handler runs after this */
    c->bus = NULL;
    if (c->own.ok || c->own.pid > 0)
        spec_nats_server_stop(&c->own);
    else if (server.ok)
        spec_nats_delete_stream(server.url, c->stream);
}

static void nats_pass(contract *c, int64_t ms)
{
    (void)c;
    sleep_ms(ms);
}

static bool nats_wait(contract *c, recorder *r, size_t n, int64_t ms)
{
    struct timespec deadline;
    (void)c;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += (time_t)(ms / 1000);
    deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->mu);
    int rc = 0;
    while (r->n < n && rc == 0)
        rc = pthread_cond_timedwait(&r->cond, &r->mu, &deadline);
    bool reached = r->n >= n;
    pthread_mutex_unlock(&r->mu);
    return reached;
}

static int64_t nats_now(contract *c)
{
    (void)c;
    return mono_ms();
}

/* Rewrites c->stream's subject list to every subject but `drop`, or adds
 * `add`, as an operator would behind the bus's back. */
static void nats_edit_subjects(contract *c, const char *drop, const char *add)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    const char *url = c->own.ok ? c->own.url : server.url;
    natsStatus s = natsConnection_ConnectTo(&nc, url);
    if (s == NATS_OK)
        s = natsConnection_JetStream(&js, nc, NULL);
    if (s == NATS_OK)
        s = js_GetStreamInfo(&si, js, c->stream, NULL, &jerr);
    if (s == NATS_OK) {
        jsStreamConfig *cfg = si->Config;
        const char *subjects[16];
        int n = 0;
        for (int i = 0; i < cfg->SubjectsLen && n < 15; i++)
            if (drop == NULL || strcmp(cfg->Subjects[i], drop) != 0)
                subjects[n++] = cfg->Subjects[i];
        if (add != NULL)
            subjects[n++] = add;
        const char **saved = cfg->Subjects;
        int saved_len = cfg->SubjectsLen;
        cfg->Subjects = subjects;
        cfg->SubjectsLen = n;
        s = js_UpdateStream(NULL, js, cfg, NULL, &jerr);
        cfg->Subjects = saved;
        cfg->SubjectsLen = saved_len;
    }
    jsStreamInfo_Destroy(si);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    if (s != NATS_OK)
        fail_msg("[nats] stream %s: cannot change its subjects: %s (%d)",
                 c->stream, natsStatus_GetText(s), (int)jerr);
}

static void nats_break_subject(contract *c, const char *subject)
{
    nats_edit_subjects(c, subject, NULL);
}

static void nats_mend_subject(contract *c, const char *subject)
{
    /* Nothing to do: the batch made sure of the subject again after the
     * server said no stream captures it; the contract checks exactly
     * that by publishing again. */
    (void)c;
    (void)subject;
}

static void nats_use_cuttable(contract *c)
{
    lk_error err = {0};
    lk_nats_opts opts = {.stream = c->stream, .publish_timeout_ms = 1000,
                         .reconnect_attempts = -1, .reconnect_wait_ms = 50};
    spec_nats_server_require(&server); /* a server binary is there */
    if (!spec_nats_server_spawn(&c->own))
        fail_msg("[nats] cannot spawn a server of its own: %s", c->own.reason);
    lk_bus_free(c->bus);
    spec_nats_delete_stream(server.url, c->stream);
    c->bus = NULL;
    if (lk_nats_bus_connect(&c->bus, c->own.url, &opts, &err) != LK_OK)
        fail_msg("connect %s: %s", c->own.url, err.message);
}

static void nats_cut(contract *c)
{
    /* Kill and start again on the same port and store: the bus sees its
     * connection drop and reconnects. */
    if (!spec_nats_server_restart(&c->own))
        fail_msg("[nats] restart: %s", c->own.reason);
}

/* Back once a batch can be made, i.e. the bus is connected again. */
static void nats_heal(contract *c)
{
    int64_t until = mono_ms() + WAIT_MS;
    for (;;) {
        lk_batch *probe = NULL;
        lk_status s = lk_batch_new(c->bus, NULL, &probe, NULL);
        lk_batch_free(probe);
        if (s == LK_OK)
            return;
        if (mono_ms() >= until)
            fail_msg("[nats] not reconnected within %d ms", WAIT_MS);
        sleep_ms(20);
    }
}

static const impl fake_impl = {
    "fake", fake_open, fake_close, fake_pass, fake_wait, fake_now,
    fake_break_subject, fake_mend_subject, fake_use_cuttable, fake_cut,
    fake_heal};
static const impl nats_impl = {
    "nats", nats_open, nats_close, nats_pass, nats_wait, nats_now,
    nats_break_subject, nats_mend_subject, nats_use_cuttable, nats_cut,
    nats_heal};

/* ---- recorder ------------------------------------------------------------------- */

static recorder *recorder_new(contract *c, reply policy)
{
    recorder *r = calloc(1, sizeof *r);
    assert_non_null(r);
    assert_true(c->n_recorders < MAX_RECORDERS);
    c->recorders[c->n_recorders++] = r;
    r->c = c;
    r->policy = policy;
    for (int i = 0; i < QUEUE_MEMBERS; i++)
        r->members[i] = (member){r, i};
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cond, NULL);
    return r;
}

static void recorder_free(recorder *r)
{
    if (r == NULL)
        return;
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static size_t recorded(recorder *r)
{
    pthread_mutex_lock(&r->mu);
    size_t n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

static void on_message(lk_msg *msg, void *closure)
{
    member *m = closure;
    recorder *r = m->r;
    int64_t at = r->c->impl->now(r->c);

    pthread_mutex_lock(&r->mu);
    if (r->n < MAX_RECORDS) {
        record *rec = &r->rec[r->n];
        rec->seq = msg->stream_seq;
        rec->count = msg->delivery_count;
        rec->at_ms = at;
        rec->member = m->id;
        snprintf(rec->data, sizeof rec->data, "%.*s",
                 (int)(msg->length < 31 ? msg->length : 31), msg->data);
    }
    r->n++;
    pthread_mutex_unlock(&r->mu);

    switch (r->policy) {
    case REPLY_ACK:
        lk_msg_ack(msg);
        break;
    case REPLY_NONE:
        break;
    case REPLY_ACK_SECOND:
        if (msg->delivery_count >= 2)
            lk_msg_ack(msg);
        break;
    case REPLY_NAK_FIRST:
        if (msg->delivery_count == 1)
            lk_msg_nak(msg, r->nak_delay_ms);
        else
            lk_msg_ack(msg);
        break;
    case REPLY_TERM:
        lk_msg_term(msg);
        break;
    case REPLY_NAK:
        lk_msg_nak(msg, 0);
        break;
    case REPLY_NAK_THEN_ACK:
        if (msg->delivery_count == 1) {
            lk_status a = lk_msg_nak(msg, 0), b = lk_msg_ack(msg);
            pthread_mutex_lock(&r->mu);
            r->first_reply = a;
            r->second_reply = b;
            pthread_mutex_unlock(&r->mu);
        } else {
            lk_msg_ack(msg);
        }
        break;
    }
    /* Signal after the reply, so a waiter sees the reply made. */
    pthread_mutex_lock(&r->mu);
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
}

/* ---- helpers for behaviours ----------------------------------------------------------- */

/* Subscribes member `id` of recorder `r`. */
static void subscribe(contract *c, const char *subject,
                      const lk_subscribe_opts *opts, recorder *r, int id)
{
    lk_error err = {0};
    member *m = &r->members[id];
    lk_status s = lk_bus_subscribe(c->bus, subject, opts, on_message, m, &err);
    if (s != LK_OK)
        fail_msg("[%s] subscribe %s: %s", c->impl->name, subject, err.message);
}

static void publish_with(contract *c, const char *subject, const char *text,
                         const lk_publish_opts *opts)
{
    lk_error err = {0};
    lk_status s = lk_bus_publish(c->bus, subject, text, strlen(text), opts, &err);
    if (s != LK_OK)
        fail_msg("[%s] publish %s: %s", c->impl->name, subject, err.message);
}

static void await(contract *c, recorder *r, size_t n)
{
    if (!c->impl->wait(c, r, n, WAIT_MS))
        fail_msg("[%s] waited %d ms for %zu deliveries, got %zu",
                 c->impl->name, WAIT_MS, n, recorded(r));
}

/* Lets `ms` pass, then asserts that exactly `n` deliveries happened. */
static void settle_at(contract *c, recorder *r, int64_t ms, size_t n)
{
    c->impl->pass(c, ms);
    size_t got = recorded(r);
    if (got != n)
        fail_msg("[%s] expected %zu deliveries in all, got %zu",
                 c->impl->name, n, got);
}

static void publish(contract *c, const char *subject, const char *text)
{
    publish_with(c, subject, text, NULL);
}

/* ---- the behaviours ------------------------------------------------------------------- */

static void publish_is_delivered_once(contract *c)
{
    recorder *r = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts opts = {.queue_group = "once", .ack_wait_ms = ACK_WAIT_MS};
    subscribe(c, c->subject, &opts, r, 0);
    publish(c, c->subject, "hello");
    await(c, r, 1);
    settle_at(c, r, 3 * ACK_WAIT_MS, 1);
    assert_string_equal(r->rec[0].data, "hello");
    assert_int_equal(r->rec[0].count, 1);
    assert_int_equal(r->rec[0].seq, 1); /* a fresh stream starts at 1 */
}

static void one_member_of_a_queue_group_gets_each_message(contract *c)
{
    recorder *r = recorder_new(c, REPLY_ACK);
    /* Long enough that a busy machine cannot make an acked message due. */
    lk_subscribe_opts opts = {.queue_group = "workers", .ack_wait_ms = 1000};
    for (int i = 0; i < QUEUE_MEMBERS; i++)
        subscribe(c, c->subject, &opts, r, i);
    for (int i = 0; i < QUEUE_MESSAGES; i++) {
        char text[16];
        snprintf(text, sizeof text, "%d", i);
        publish(c, c->subject, text);
    }
    await(c, r, QUEUE_MESSAGES);
    settle_at(c, r, 1200, QUEUE_MESSAGES);

    static int seen[QUEUE_MESSAGES];
    int per_member[QUEUE_MEMBERS] = {0};
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < QUEUE_MESSAGES; i++) {
        int k = atoi(r->rec[i].data);
        assert_in_range(k, 0, QUEUE_MESSAGES - 1);
        seen[k]++;
        per_member[r->rec[i].member]++;
        assert_int_equal(r->rec[i].count, 1);
    }
    for (int k = 0; k < QUEUE_MESSAGES; k++)
        if (seen[k] != 1)
            fail_msg("[%s] message %d handled %d times", c->impl->name, k,
                     seen[k]);
    int busy = 0;
    for (int i = 0; i < QUEUE_MEMBERS; i++)
        busy += per_member[i] > 0;
    if (busy < 2)
        fail_msg("[%s] the group's work went to %d member(s), want >= 2",
                 c->impl->name, busy);
}

static void subscribers_without_a_queue_group_each_get_every_message(contract *c)
{
    recorder *a = recorder_new(c, REPLY_ACK), *b = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts opts = {.ack_wait_ms = ACK_WAIT_MS};
    subscribe(c, c->subject, &opts, a, 0);
    subscribe(c, c->subject, &opts, b, 0);
    publish(c, c->subject, "one");
    publish(c, c->subject, "two");
    await(c, a, 2);
    await(c, b, 2);
    settle_at(c, a, 2 * ACK_WAIT_MS, 2);
    assert_int_equal(recorded(b), 2);
    assert_string_equal(a->rec[0].data, "one");
    assert_string_equal(b->rec[1].data, "two");
}

static void an_unacked_message_comes_again_after_ack_wait_with_count_2(contract *c)
{
    recorder *r = recorder_new(c, REPLY_ACK_SECOND);
    lk_subscribe_opts opts = {.queue_group = "slow", .ack_wait_ms = ACK_WAIT_MS};
    subscribe(c, c->subject, &opts, r, 0);
    publish(c, c->subject, "again");
    await(c, r, 2);
    settle_at(c, r, 3 * ACK_WAIT_MS, 2);
    assert_int_equal(r->rec[0].count, 1);
    assert_int_equal(r->rec[1].count, 2);
    assert_int_equal(r->rec[1].seq, r->rec[0].seq);
    assert_string_equal(r->rec[1].data, "again");
    int64_t gap = r->rec[1].at_ms - r->rec[0].at_ms;
    if (gap < ACK_WAIT_MS - 20)
        fail_msg("[%s] redelivered after %lld ms, before the ack wait of %d",
                 c->impl->name, (long long)gap, ACK_WAIT_MS);
}

static void nak_redelivers_at_once(contract *c)
{
    recorder *r = recorder_new(c, REPLY_NAK_FIRST);
    /* A long ack wait: a redelivery before it can only be the nak's. */
    lk_subscribe_opts opts = {.queue_group = "nak", .ack_wait_ms = 5000};
    subscribe(c, c->subject, &opts, r, 0);
    publish(c, c->subject, "retry");
    await(c, r, 2);
    assert_int_equal(r->rec[0].count, 1);
    assert_int_equal(r->rec[1].count, 2);
    assert_int_equal(r->rec[1].seq, r->rec[0].seq);
    int64_t gap = r->rec[1].at_ms - r->rec[0].at_ms;
    if (gap >= 1000)
        fail_msg("[%s] nak redelivered after %lld ms", c->impl->name,
                 (long long)gap);
    settle_at(c, r, ACK_WAIT_MS, 2);
}

static void nak_with_delay_redelivers_after_the_delay(contract *c)
{
    recorder *r = recorder_new(c, REPLY_NAK_FIRST);
    lk_subscribe_opts opts = {.queue_group = "later", .ack_wait_ms = 5000};
    r->nak_delay_ms = 400;
    subscribe(c, c->subject, &opts, r, 0);
    publish(c, c->subject, "later");
    await(c, r, 2);
    int64_t gap = r->rec[1].at_ms - r->rec[0].at_ms;
    if (gap < 400 - 20 || gap >= 5000)
        fail_msg("[%s] nak(400) redelivered after %lld ms", c->impl->name,
                 (long long)gap);
    assert_int_equal(r->rec[1].count, 2);
    settle_at(c, r, ACK_WAIT_MS, 2);
}

static void term_stops_redelivery(contract *c)
{
    recorder *r = recorder_new(c, REPLY_TERM);
    lk_subscribe_opts opts = {.queue_group = "term", .ack_wait_ms = ACK_WAIT_MS};
    subscribe(c, c->subject, &opts, r, 0);
    publish(c, c->subject, "poison");
    await(c, r, 1);
    settle_at(c, r, 4 * ACK_WAIT_MS, 1);
}

static void max_deliver_stops_redelivery(contract *c)
{
    recorder *r = recorder_new(c, REPLY_NONE);
    lk_subscribe_opts opts = {.queue_group = "max", .ack_wait_ms = ACK_WAIT_MS,
                              .max_deliver = 3};
    subscribe(c, c->subject, &opts, r, 0);
    publish(c, c->subject, "ignored");
    await(c, r, 3);
    settle_at(c, r, 4 * ACK_WAIT_MS, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(r->rec[i].count, i + 1);
}

static void a_late_durable_subscriber_gets_everything_published_before(contract *c)
{
    recorder *r = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts opts = {.durable_name = "late", .deliver_all = true,
                              .ack_wait_ms = ACK_WAIT_MS};
    for (int i = 0; i < 5; i++) {
        char text[16];
        snprintf(text, sizeof text, "m%d", i);
        publish(c, c->subject, text);
    }
    subscribe(c, c->subject, &opts, r, 0);
    await(c, r, 5);
    settle_at(c, r, 2 * ACK_WAIT_MS, 5);
    for (int i = 0; i < 5; i++) {
        char text[16];
        snprintf(text, sizeof text, "m%d", i);
        assert_string_equal(r->rec[i].data, text);
        if (i > 0)
            assert_true(r->rec[i].seq > r->rec[i - 1].seq);
    }
}

static void a_subscriber_without_deliver_all_starts_at_the_next_message(contract *c)
{
    recorder *r = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts opts = {.queue_group = "fresh", .ack_wait_ms = ACK_WAIT_MS};
    publish(c, c->subject, "before");
    subscribe(c, c->subject, &opts, r, 0);
    publish(c, c->subject, "after");
    await(c, r, 1);
    settle_at(c, r, 2 * ACK_WAIT_MS, 1);
    assert_string_equal(r->rec[0].data, "after");
}

static void one_publishers_messages_arrive_in_publish_order(contract *c)
{
    enum { N = 200 };
    recorder *r = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts opts = {.queue_group = "ordered", .ack_wait_ms = 2000};
    subscribe(c, c->subject, &opts, r, 0);
    for (int i = 0; i < N; i++) {
        char text[16];
        snprintf(text, sizeof text, "%d", i);
        publish(c, c->subject, text);
    }
    await(c, r, N);
    for (int i = 0; i < N; i++) {
        if (atoi(r->rec[i].data) != i)
            fail_msg("[%s] delivery %d carried message %s", c->impl->name, i,
                     r->rec[i].data);
        if (i > 0)
            assert_true(r->rec[i].seq > r->rec[i - 1].seq);
    }
}

static void a_repeated_msg_id_is_stored_and_delivered_once(contract *c)
{
    recorder *r = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts opts = {.queue_group = "dedup", .ack_wait_ms = ACK_WAIT_MS};
    lk_publish_opts id1 = {.msg_id = "ticket-1-v1"}, id2 = {.msg_id = "ticket-1-v2"};
    subscribe(c, c->subject, &opts, r, 0);
    publish_with(c, c->subject, "v1", &id1);
    publish_with(c, c->subject, "v1 again", &id1);
    publish_with(c, c->subject, "v2", &id2);
    await(c, r, 2);
    settle_at(c, r, 2 * ACK_WAIT_MS, 2);
    assert_string_equal(r->rec[0].data, "v1");
    assert_string_equal(r->rec[1].data, "v2");
    assert_int_equal(r->rec[1].seq, 2); /* the duplicate took no sequence */
}

static void one_queue_group_can_listen_on_two_subjects(contract *c)
{
    recorder *a = recorder_new(c, REPLY_ACK), *b = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts opts = {.queue_group = "service", .ack_wait_ms = ACK_WAIT_MS};
    char created[160], updated[160];
    snprintf(created, sizeof created, "%s.created", c->subject);
    snprintf(updated, sizeof updated, "%s.updated", c->subject);
    subscribe(c, created, &opts, a, 0);
    subscribe(c, updated, &opts, b, 0);
    publish(c, created, "c");
    publish(c, updated, "u");
    await(c, a, 1);
    await(c, b, 1);
    settle_at(c, a, 2 * ACK_WAIT_MS, 1);
    assert_int_equal(recorded(b), 1);
    assert_string_equal(a->rec[0].data, "c");
    assert_string_equal(b->rec[0].data, "u");
}

static void naks_count_toward_max_deliver(contract *c)
{
    recorder *r = recorder_new(c, REPLY_NAK);
    lk_subscribe_opts opts = {.queue_group = "naks", .ack_wait_ms = ACK_WAIT_MS,
                              .max_deliver = 3};
    subscribe(c, c->subject, &opts, r, 0);
    publish(c, c->subject, "hopeless");
    await(c, r, 3);
    settle_at(c, r, 4 * ACK_WAIT_MS, 3);
    assert_int_equal(r->rec[2].count, 3);
}

static void only_the_first_reply_to_a_delivery_counts(contract *c)
{
    recorder *r = recorder_new(c, REPLY_NAK_THEN_ACK);
    lk_subscribe_opts opts = {.queue_group = "twice", .ack_wait_ms = 5000};
    subscribe(c, c->subject, &opts, r, 0);
    publish(c, c->subject, "x");
    await(c, r, 2); /* the nak won: it came again, before the ack wait */
    settle_at(c, r, ACK_WAIT_MS, 2);
    assert_int_equal(r->rec[1].count, 2);
    assert_int_equal(r->first_reply, LK_OK);
    assert_int_equal(r->second_reply, LK_OK); /* ignored, not an error */
}

static void a_queue_member_asking_for_another_ack_wait_is_refused(contract *c)
{
    recorder *r = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts first = {.queue_group = "cfg", .ack_wait_ms = ACK_WAIT_MS};
    lk_subscribe_opts other = {.queue_group = "cfg", .ack_wait_ms = 2 * ACK_WAIT_MS};
    lk_error err = {0};
    subscribe(c, c->subject, &first, r, 0);
    assert_int_equal(lk_bus_subscribe(c->bus, c->subject, &other, on_message,
                                      &r->members[1], &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "ack wait"));
    assert_non_null(strstr(err.message, "300"));
    /* the first member still works */
    publish(c, c->subject, "still");
    await(c, r, 1);
}

/* ---- durables and max ack pending ---------------------------------------------------
 * Found here as differences (the fake once took these differently); the
 * server's answer is the contract. */

static void a_durable_without_a_queue_group_takes_one_subscriber(contract *c)
{
    recorder *r = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts opts = {.durable_name = "solo", .ack_wait_ms = ACK_WAIT_MS};
    lk_error err = {0};
    subscribe(c, c->subject, &opts, r, 0);
    assert_int_equal(lk_bus_subscribe(c->bus, c->subject, &opts, on_message,
                                      &r->members[1], &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "solo"));
    publish(c, c->subject, "one");
    await(c, r, 1);
    settle_at(c, r, 2 * ACK_WAIT_MS, 1);
    assert_int_equal(r->rec[0].member, 0);
}

static void two_durables_in_one_queue_group_each_get_every_message(contract *c)
{
    recorder *a = recorder_new(c, REPLY_ACK), *b = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts da = {.queue_group = "group", .durable_name = "first",
                            .ack_wait_ms = ACK_WAIT_MS};
    lk_subscribe_opts db = {.queue_group = "group", .durable_name = "second",
                            .ack_wait_ms = ACK_WAIT_MS};
    subscribe(c, c->subject, &da, a, 0);
    subscribe(c, c->subject, &db, b, 0);
    publish(c, c->subject, "1");
    publish(c, c->subject, "2");
    await(c, a, 2);
    await(c, b, 2);
    settle_at(c, a, 2 * ACK_WAIT_MS, 2);
    assert_int_equal(recorded(b), 2);
}

static void at_most_1000_deliveries_await_an_ack_per_consumer(contract *c)
{
    enum { N = 1100, MAX_ACK_PENDING = 1000 };
    recorder *r = recorder_new(c, REPLY_NONE);
    lk_subscribe_opts opts = {.queue_group = "backlog", .ack_wait_ms = 5000};
    subscribe(c, c->subject, &opts, r, 0);
    for (int i = 0; i < N; i++)
        publish(c, c->subject, "x");
    await(c, r, MAX_ACK_PENDING);
    /* well inside the ack wait: nothing was acked, nothing more comes */
    settle_at(c, r, 500, MAX_ACK_PENDING);
}

static void a_held_message_comes_once_an_ack_frees_room(contract *c)
{
    enum { N = 1100, MAX_ACK_PENDING = 1000 };
    /* No reply to a first delivery, an ack to the second: the first 1000
     * fill the consumer, and only their acks after the ack wait let the
     * last 100 out. */
    recorder *r = recorder_new(c, REPLY_ACK_SECOND);
    lk_subscribe_opts opts = {.queue_group = "held", .ack_wait_ms = 1000};
    subscribe(c, c->subject, &opts, r, 0);
    for (int i = 0; i < N; i++)
        publish(c, c->subject, "x");
    await(c, r, 2 * N);
    settle_at(c, r, 1200, 2 * N);

    static int firsts[N + 1], seconds[N + 1];
    memset(firsts, 0, sizeof firsts);
    memset(seconds, 0, sizeof seconds);
    size_t first_redelivery = 2 * N, first_held = 2 * N;
    for (size_t i = 0; i < 2 * N; i++) {
        uint64_t seq = r->rec[i].seq;
        assert_in_range(seq, 1, N);
        if (r->rec[i].count == 1)
            firsts[seq]++;
        else
            seconds[seq]++;
        if (r->rec[i].count == 2 && first_redelivery == 2 * N)
            first_redelivery = i;
        if (seq > MAX_ACK_PENDING && first_held == 2 * N)
            first_held = i;
    }
    for (int seq = 1; seq <= N; seq++)
        if (firsts[seq] != 1 || seconds[seq] != 1)
            fail_msg("[%s] message %d: %d first and %d second deliveries",
                     c->impl->name, seq, firsts[seq], seconds[seq]);
    if (first_held < first_redelivery)
        fail_msg("[%s] message %d came (delivery %zu) before any ack freed "
                 "room (first ack at delivery %zu)",
                 c->impl->name, MAX_ACK_PENDING + 1, first_held,
                 first_redelivery);
}

static void max_ack_pending_holds_back_new_messages(contract *c)
{
    enum { N = 8, LIMIT = 3 };
    recorder *r = recorder_new(c, REPLY_NONE);
    lk_subscribe_opts opts = {.queue_group = "narrow", .ack_wait_ms = 5000,
                              .max_ack_pending = LIMIT};
    subscribe(c, c->subject, &opts, r, 0);
    for (int i = 0; i < N; i++) {
        char text[16];
        snprintf(text, sizeof text, "%d", i);
        publish(c, c->subject, text);
    }
    await(c, r, LIMIT);
    /* well inside the ack wait: nothing was acked, nothing more comes */
    settle_at(c, r, 500, LIMIT);
    for (int i = 0; i < LIMIT; i++)
        assert_int_equal(r->rec[i].seq, (uint64_t)i + 1);
}

static void acks_let_the_next_messages_past_max_ack_pending(contract *c)
{
    enum { N = 20, LIMIT = 2 };
    recorder *r = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts opts = {.queue_group = "trickle", .ack_wait_ms = 5000,
                              .max_ack_pending = LIMIT};
    subscribe(c, c->subject, &opts, r, 0);
    for (int i = 0; i < N; i++)
        publish(c, c->subject, "x");
    await(c, r, N);
    settle_at(c, r, ACK_WAIT_MS, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(r->rec[i].count, 1);
}

static void a_queue_member_asking_for_another_max_ack_pending_is_refused(
    contract *c)
{
    recorder *r = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts first = {.queue_group = "pend", .ack_wait_ms = ACK_WAIT_MS,
                               .max_ack_pending = 10};
    lk_subscribe_opts other = first;
    lk_subscribe_opts defaulted = first;
    lk_error err = {0};
    other.max_ack_pending = 20;
    defaulted.max_ack_pending = 0; /* the default, 1000: another value */
    subscribe(c, c->subject, &first, r, 0);
    assert_int_equal(lk_bus_subscribe(c->bus, c->subject, &other, on_message,
                                      &r->members[1], &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "max ack pending"));
    assert_non_null(strstr(err.message, "10"));
    assert_non_null(strstr(err.message, "20"));
    assert_int_equal(lk_bus_subscribe(c->bus, c->subject, &defaulted,
                                      on_message, &r->members[2], &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "1000"));
    /* the same value joins */
    subscribe(c, c->subject, &first, r, 3);
    publish(c, c->subject, "still");
    await(c, r, 1);
}

static void a_durable_belongs_to_one_queue_group(contract *c)
{
    recorder *r = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts alpha = {.queue_group = "alpha", .durable_name = "shared",
                               .ack_wait_ms = ACK_WAIT_MS};
    lk_subscribe_opts beta = {.queue_group = "beta", .durable_name = "shared",
                              .ack_wait_ms = ACK_WAIT_MS};
    lk_error err = {0};
    subscribe(c, c->subject, &alpha, r, 0);
    assert_int_equal(lk_bus_subscribe(c->bus, c->subject, &beta, on_message,
                                      &r->members[1], &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "alpha"));
    assert_non_null(strstr(err.message, "beta"));
    publish(c, c->subject, "one");
    await(c, r, 1);
    settle_at(c, r, 2 * ACK_WAIT_MS, 1);
    assert_int_equal(r->rec[0].member, 0);
}

static void a_name_jetstream_cannot_use_is_refused(contract *c)
{
    recorder *r = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts dotted = {.durable_name = "bad.name",
                                .ack_wait_ms = ACK_WAIT_MS};
    lk_subscribe_opts group = {.queue_group = "orders.service",
                               .ack_wait_ms = ACK_WAIT_MS};
    /* libnats checks the queue group as a name too, durable name or not */
    lk_subscribe_opts named = {.queue_group = "orders.service",
                               .durable_name = "orders",
                               .ack_wait_ms = ACK_WAIT_MS};
    lk_subscribe_opts fine = {.queue_group = "orders-service",
                              .ack_wait_ms = ACK_WAIT_MS};
    const lk_subscribe_opts *refused[] = {&dotted, &group, &named};
    const char *named_in_error[] = {"bad.name", "orders.service",
                                    "orders.service"};
    for (size_t i = 0; i < 3; i++) {
        lk_error err = {0};
        lk_status s = lk_bus_subscribe(c->bus, c->subject, refused[i],
                                       on_message, &r->members[0], &err);
        if (s != LK_ERR_INVALID || strstr(err.message, named_in_error[i]) == NULL)
            fail_msg("[%s] case %zu: %s: %s", c->impl->name, i,
                     lk_status_str(s), err.message);
    }
    subscribe(c, c->subject, &fine, r, 0);
    publish(c, c->subject, "ok");
    await(c, r, 1);
    settle_at(c, r, 2 * ACK_WAIT_MS, 1);
}

/* Neither implementation serves wildcards (the adapter names consumers and
 * stream subjects per literal subject); both say so and keep nothing of
 * the attempt, while a malformed subject is simply invalid. */
static void a_wildcard_subscription_is_unsupported_and_a_malformed_one_invalid(
    contract *c)
{
    recorder *r = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts opts = {.queue_group = "wild", .ack_wait_ms = ACK_WAIT_MS};
    char star[160], tail[160];
    snprintf(star, sizeof star, "%s.*", c->subject);
    snprintf(tail, sizeof tail, "%s.>", c->subject);
    const struct {
        const char *subject;
        lk_status want;
    } cases[] = {
        {star, LK_ERR_UNSUPPORTED}, {tail, LK_ERR_UNSUPPORTED},
        {"a..b", LK_ERR_INVALID},   {"a.>.b", LK_ERR_INVALID},
        {"", LK_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char quoted[170];
        lk_error err = {0};
        lk_status s = lk_bus_subscribe(c->bus, cases[i].subject, &opts,
                                       on_message, &r->members[0], &err);
        snprintf(quoted, sizeof quoted, "\"%s\"", cases[i].subject);
        const char *named = cases[i].want == LK_ERR_INVALID
                                ? strstr(err.message, quoted)
                                : strstr(err.message, cases[i].subject);
        if (s != cases[i].want || named == NULL)
            fail_msg("[%s] subscribe \"%s\": want %s naming it, got %s: %s",
                     c->impl->name, cases[i].subject,
                     lk_status_str(cases[i].want), lk_status_str(s),
                     err.message);
    }
    subscribe(c, c->subject, &opts, r, 0);
    publish(c, c->subject, "literal");
    await(c, r, 1);
    settle_at(c, r, 2 * ACK_WAIT_MS, 1);
    assert_string_equal(r->rec[0].data, "literal");
}

static void a_message_over_the_max_payload_is_too_large(contract *c)
{
    size_t len = 2u * 1024u * 1024u; /* the server's default is 1 MiB */
    recorder *r = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts opts = {.queue_group = "big", .ack_wait_ms = ACK_WAIT_MS};
    lk_error err = {0};
    char *big = calloc(1, len);
    assert_non_null(big);
    subscribe(c, c->subject, &opts, r, 0);
    lk_status s = lk_bus_publish(c->bus, c->subject, big, len, NULL, &err);
    free(big);
    assert_int_equal(s, LK_ERR_TOO_LARGE);
    assert_non_null(strstr(err.message, c->subject));
    publish(c, c->subject, "small");
    await(c, r, 1);
    settle_at(c, r, 2 * ACK_WAIT_MS, 1);
    assert_string_equal(r->rec[0].data, "small");
    assert_int_equal(r->rec[0].seq, 1); /* the refused one took none */
}

/* ---- crashes: a second connection, closed without draining -------------------------
 * The fake's lk_fake_nats_connect/abort and the adapter's lk_nats_bus_abort
 * play a killed process the same way. */

static lk_bus *connect_other(contract *c)
{
    lk_error err = {0};
    lk_nats_opts opts = {.stream = c->stream, .publish_timeout_ms = 5000};
    if (c->impl == &fake_impl)
        c->other = lk_fake_nats_connect(c->fake);
    else if (lk_nats_bus_connect(&c->other, server.url, &opts, &err) != LK_OK)
        fail_msg("connect %s: %s", server.url, err.message);
    assert_non_null(c->other);
    return c->other;
}

static void crash(contract *c, lk_bus *bus)
{
    if (c->impl == &fake_impl)
        assert_int_equal(lk_fake_nats_abort(c->fake, bus), 1);
    else
        assert_int_equal(lk_nats_bus_abort(bus), LK_OK);
}

static void a_crashed_members_unacked_message_comes_to_another_after_ack_wait(
    contract *c)
{
    enum { WAIT = 1000 }; /* room to subscribe the second member in time */
    recorder *crashy = recorder_new(c, REPLY_NONE);
    recorder *healthy = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts opts = {.queue_group = "crash", .ack_wait_ms = WAIT};
    lk_error err = {0};
    lk_bus *other = connect_other(c);
    if (lk_bus_subscribe(other, c->subject, &opts, on_message,
                         &crashy->members[0], &err) != LK_OK)
        fail_msg("[%s] subscribe: %s", c->impl->name, err.message);
    publish(c, c->subject, "in flight");
    await(c, crashy, 1);
    subscribe(c, c->subject, &opts, healthy, 0);
    crash(c, other);
    assert_int_equal(lk_bus_publish(other, c->subject, "x", 1, NULL, &err),
                     LK_ERR_CLOSED);
    await(c, healthy, 1);
    settle_at(c, healthy, WAIT / 2, 1);
    assert_int_equal(recorded(crashy), 1);
    assert_string_equal(healthy->rec[0].data, "in flight");
    assert_int_equal(healthy->rec[0].seq, crashy->rec[0].seq);
    assert_int_equal(healthy->rec[0].count, 2);
    int64_t gap = healthy->rec[0].at_ms - crashy->rec[0].at_ms;
    if (gap < WAIT - 20)
        fail_msg("[%s] redelivered %lld ms after the crashed delivery, before "
                 "the ack wait of %d",
                 c->impl->name, (long long)gap, WAIT);
}

/* ---- the listener retry policy (retry.h) on both -------------------------------------
 * A listener's on_message that keeps failing: naks with growing delays,
 * then a dead letter on the bus, and what comes after still flows. */

static const lk_field any_fields[] = {LK_FIELD_END};

/* Records like on_message; "poison" is never processable, the rest is. */
static lk_status retrying_on_message(lk_listener *l, const json_t *data,
                                     lk_msg *msg)
{
    recorder *r = l->ctx;
    on_message(msg, &r->members[0]); /* r->policy is REPLY_NONE */
    if (json_is_true(json_object_get(data, "poison")))
        return LK_ERR_RETRY;
    return lk_msg_ack(msg);
}

/* Records a dead letter as the event it holds: its seq, deliveries and
 * data (so a record says what died, not the envelope's first bytes). */
static void on_dead_letter(lk_msg *msg, void *closure)
{
    recorder *r = ((member *)closure)->r;
    lk_dead_letter dl;
    lk_status s = lk_dead_letter_decode(msg->data, msg->length, &dl, NULL);
    pthread_mutex_lock(&r->mu);
    if (r->n < MAX_RECORDS && s == LK_OK) {
        r->rec[r->n].seq = dl.stream_seq;
        r->rec[r->n].count = dl.deliveries;
        snprintf(r->rec[r->n].data, sizeof r->rec[r->n].data, "%s", dl.data);
    }
    r->n++;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
    lk_dead_letter_clear(&dl);
    lk_msg_ack(msg);
}

static void a_listener_dead_letters_what_it_cannot_process_and_goes_on(
    contract *c)
{
    enum { DELAY = 100, CAP = 150, MAX = 3 };
    char dead[160];
    lk_error err = {0};
    recorder *seen = recorder_new(c, REPLY_NONE);
    recorder *letters = recorder_new(c, REPLY_ACK);
    snprintf(dead, sizeof dead, "%s.dead", c->subject);
    seen->schema = (lk_schema){.subject = c->subject, .fields = any_fields};
    seen->def = (lk_listener_def){.schema = &seen->schema,
                                  .queue_group = "poison",
                                  .on_message = retrying_on_message,
                                  .max_deliver = MAX,
                                  .retry_delay_ms = DELAY,
                                  .retry_max_delay_ms = CAP,
                                  .dead_letter_subject = dead};
    lk_subscribe_opts dl_opts = {.queue_group = "readers",
                                 .ack_wait_ms = ACK_WAIT_MS};
    if (lk_bus_subscribe(c->bus, dead, &dl_opts, on_dead_letter,
                         &letters->members[0], &err) != LK_OK)
        fail_msg("[%s] subscribe %s: %s", c->impl->name, dead, err.message);
    if (lk_listener_init(&seen->listener, &seen->def, c->bus, seen, &err) !=
            LK_OK ||
        lk_listener_listen(&seen->listener, &err) != LK_OK)
        fail_msg("[%s] listen: %s", c->impl->name, err.message);
    publish(c, c->subject, "{\"poison\": true}");
    publish(c, c->subject, "{\"poison\": false}");
    await(c, letters, 1);
    await(c, seen, MAX + 1);
    settle_at(c, seen, 2 * CAP, MAX + 1);
    assert_int_equal(recorded(letters), 1);

    int64_t prev = -1;
    size_t tries = 0;
    for (size_t i = 0; i < MAX + 1; i++) {
        if (seen->rec[i].seq != 1)
            continue; /* the valid one, processed on its first delivery */
        tries++;
        assert_int_equal(seen->rec[i].count, tries);
        int64_t want = tries == 2 ? DELAY : CAP;
        if (prev >= 0 && seen->rec[i].at_ms - prev < want - 20)
            fail_msg("[%s] delivery %zu came %lld ms after the last, want "
                     ">= %lld",
                     c->impl->name, tries, (long long)(seen->rec[i].at_ms - prev),
                     (long long)want);
        prev = seen->rec[i].at_ms;
    }
    assert_int_equal(tries, MAX);
    /* the dead letter is the poison event with the facts of its end */
    assert_string_equal(letters->rec[0].data, "{\"poison\": true}");
    assert_int_equal(letters->rec[0].seq, 1);
    assert_int_equal(letters->rec[0].count, MAX);
}

/* ---- asynchronous publishing (lk_batch) -------------------------------------------- */

static lk_batch *batch_new(contract *c, size_t max_in_flight)
{
    lk_batch *b = NULL;
    lk_error err = {0};
    lk_batch_opts opts = {.max_in_flight = max_in_flight};
    if (lk_batch_new(c->bus, &opts, &b, &err) != LK_OK)
        fail_msg("[%s] batch: %s", c->impl->name, err.message);
    return b;
}

static void batch_send(contract *c, lk_batch *b, const char *subject,
                       const char *text, const char *msg_id)
{
    lk_error err = {0};
    lk_publish_opts opts = {.msg_id = msg_id};
    if (lk_batch_publish(b, subject, text, strlen(text), &opts, &err) != LK_OK)
        fail_msg("[%s] batch publish %s: %s", c->impl->name, subject,
                 err.message);
}

static void batch_settle(contract *c, lk_batch *b)
{
    lk_error err = {0};
    if (lk_batch_wait(b, 0, &err) != LK_OK)
        fail_msg("[%s] batch wait: %s", c->impl->name, err.message);
    assert_int_equal(lk_batch_acked(b), lk_batch_published(b));
}

static void a_batchs_messages_arrive_in_publish_order(contract *c)
{
    enum { N = 500 };
    recorder *r = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts opts = {.queue_group = "batch", .ack_wait_ms = 2000};
    subscribe(c, c->subject, &opts, r, 0);
    lk_batch *b = batch_new(c, 64); /* fewer in flight than published */
    for (int i = 0; i < N; i++) {
        char text[16];
        snprintf(text, sizeof text, "%d", i);
        batch_send(c, b, c->subject, text, NULL);
    }
    assert_int_equal(lk_batch_published(b), N);
    batch_settle(c, b);
    assert_int_equal(lk_batch_failure_count(b), 0);
    lk_batch_free(b);
    await(c, r, N);
    for (int i = 0; i < N; i++) {
        if (atoi(r->rec[i].data) != i)
            fail_msg("[%s] delivery %d carried message %s", c->impl->name, i,
                     r->rec[i].data);
        assert_int_equal(r->rec[i].seq, (uint64_t)i + 1);
    }
}

static void every_failed_message_of_a_batch_is_reported_with_its_subject(
    contract *c)
{
    recorder *r = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts opts = {.queue_group = "mixed", .ack_wait_ms = ACK_WAIT_MS};
    char good[160], bad[160];
    snprintf(good, sizeof good, "%s.good", c->subject);
    snprintf(bad, sizeof bad, "%s.bad", c->subject);
    subscribe(c, good, &opts, r, 0);
    publish(c, bad, "before"); /* the bus makes sure of both subjects */
    c->impl->break_subject(c, bad);

    lk_batch *b = batch_new(c, 0);
    for (int i = 0; i < 3; i++) {
        char id[32];
        snprintf(id, sizeof id, "bad-%d", i);
        batch_send(c, b, good, "fine", NULL);
        batch_send(c, b, bad, "lost?", id);
    }
    lk_error err = {0};
    lk_status s = lk_batch_wait(b, 0, &err);
    assert_int_equal(s, LK_ERR_IO);
    assert_non_null(strstr(err.message, "3 of 6"));
    assert_non_null(strstr(err.message, bad));
    assert_int_equal(lk_batch_acked(b), 3);
    assert_int_equal(lk_batch_failure_count(b), 3);
    for (size_t k = 0; k < 3; k++) {
        const lk_batch_failure *f = lk_batch_failure_at(b, k);
        char id[32];
        snprintf(id, sizeof id, "bad-%zu", k);
        assert_int_equal(f->index, 2 * k + 1);
        assert_string_equal(f->subject, bad);
        assert_string_equal(f->msg_id, id);
        assert_int_equal(f->status, LK_ERR_IO);
        assert_non_null(strstr(f->message, bad));
    }
    assert_null(lk_batch_failure_at(b, 3));
    await(c, r, 3);

    /* Mended, the failed ones go through when published again. */
    c->impl->mend_subject(c, bad);
    for (size_t k = 0; k < 3; k++) {
        const lk_batch_failure *f = lk_batch_failure_at(b, k);
        batch_send(c, b, f->subject, "again", f->msg_id);
    }
    assert_int_equal(lk_batch_wait(b, 0, &err), LK_ERR_IO); /* the old ones */
    assert_int_equal(lk_batch_acked(b), 6);
    assert_int_equal(lk_batch_failure_count(b), 3);
    lk_batch_free(b);
    settle_at(c, r, 2 * ACK_WAIT_MS, 3);
}

static void a_repeated_msg_id_in_a_batch_is_stored_and_delivered_once(
    contract *c)
{
    recorder *r = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts opts = {.queue_group = "bdedup", .ack_wait_ms = ACK_WAIT_MS};
    subscribe(c, c->subject, &opts, r, 0);
    lk_batch *b = batch_new(c, 0);
    batch_send(c, b, c->subject, "v1", "ticket-1-v1");
    batch_send(c, b, c->subject, "v1 again", "ticket-1-v1");
    batch_send(c, b, c->subject, "v2", "ticket-1-v2");
    batch_settle(c, b); /* the duplicate is acknowledged, not stored */
    lk_batch_free(b);
    await(c, r, 2);
    settle_at(c, r, 2 * ACK_WAIT_MS, 2);
    assert_string_equal(r->rec[0].data, "v1");
    assert_string_equal(r->rec[1].data, "v2");
    assert_int_equal(r->rec[1].seq, 2);
}

/* The outbox relay's story: the connection drops in the middle of a
 * batch; every message is acknowledged, refused at once or reported
 * failed (none vanishes), and republishing the others with their msg_ids
 * stores each message exactly once. */
static void a_disconnect_mid_batch_loses_nothing_and_republishing_stores_once(
    contract *c)
{
    enum { N = 300, ROUNDS = 10 };
    static bool done[N];
    memset(done, 0, sizeof done);
    c->impl->use_cuttable(c);

    size_t left = N, refused = 0, failed = 0;
    for (int round = 0; round < ROUNDS && left > 0; round++) {
        lk_batch *b = batch_new(c, 32);
        size_t index_of[N], n = 0;
        for (size_t i = 0; i < N; i++) {
            if (done[i])
                continue;
            if (round == 0 && i == N / 2)
                c->impl->cut(c);
            char text[16], id[16];
            snprintf(text, sizeof text, "%zu", i);
            snprintf(id, sizeof id, "m-%zu", i);
            lk_publish_opts po = {.msg_id = id};
            lk_error err = {0};
            lk_status s = lk_batch_publish(b, c->subject, text, strlen(text),
                                           &po, &err);
            if (s == LK_OK)
                index_of[n++] = i;
            else if (s == LK_ERR_IO || s == LK_ERR_TIMEOUT)
                refused++; /* not sent: published again next round */
            else
                fail_msg("[%s] publish %zu: %s", c->impl->name, i,
                         err.message);
        }
        (void)lk_batch_wait(b, 0, NULL);
        size_t nf = lk_batch_failure_count(b);
        if (lk_batch_acked(b) + nf != n)
            fail_msg("[%s] round %d: %zu published, %zu acked, %zu failed",
                     c->impl->name, round, n, lk_batch_acked(b), nf);
        for (size_t k = 0; k < n; k++)
            done[index_of[k]] = true;
        for (size_t k = 0; k < nf; k++) {
            const lk_batch_failure *f = lk_batch_failure_at(b, k);
            assert_true(f->index < n);
            assert_true(f->status == LK_ERR_IO || f->status == LK_ERR_TIMEOUT);
            done[index_of[f->index]] = false;
        }
        failed += nf;
        lk_batch_free(b);
        if (round == 0)
            c->impl->heal(c);
        left = 0;
        for (size_t i = 0; i < N; i++)
            left += !done[i];
    }
    if (left > 0)
        fail_msg("[%s] %zu messages still not acknowledged after %d rounds",
                 c->impl->name, left, ROUNDS);
    print_message("[%s] outage: %zu refused at once, %zu failed in flight\n",
                  c->impl->name, refused, failed);

    /* Each message is in the stream once. */
    recorder *r = recorder_new(c, REPLY_ACK);
    lk_subscribe_opts opts = {.durable_name = "audit", .deliver_all = true,
                              .ack_wait_ms = 2000};
    subscribe(c, c->subject, &opts, r, 0);
    await(c, r, N);
    settle_at(c, r, ACK_WAIT_MS, N);
    static int seen[N];
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < N; i++) {
        int k = atoi(r->rec[i].data);
        assert_in_range(k, 0, N - 1);
        if (++seen[k] > 1)
            fail_msg("[%s] message %d stored twice", c->impl->name, k);
    }
}

static void a_batch_refuses_at_once_what_cannot_be_sent(contract *c)
{
    size_t len = 2u * 1024u * 1024u;
    char *big = calloc(1, len);
    lk_error err = {0};
    assert_non_null(big);
    lk_batch *b = batch_new(c, 0);
    lk_status s = lk_batch_publish(b, c->subject, big, len, NULL, &err);
    free(big);
    assert_int_equal(s, LK_ERR_TOO_LARGE);
    assert_non_null(strstr(err.message, c->subject));
    assert_int_equal(lk_batch_publish(b, "a..b", "x", 1, NULL, &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "a..b"));
    assert_int_equal(lk_batch_published(b), 0);
    assert_int_equal(lk_batch_wait(b, 0, &err), LK_OK);
    lk_batch_free(b);
    /* a drained bus takes nothing */
    assert_int_equal(lk_bus_drain(c->bus, &err), LK_OK);
    lk_batch *after = NULL;
    s = lk_batch_new(c->bus, NULL, &after, &err);
    if (s == LK_OK)
        s = lk_batch_publish(after, c->subject, "x", 1, NULL, &err);
    assert_int_equal(s, LK_ERR_CLOSED);
    lk_batch_free(after);
}

/* ---- the table: every behaviour x every implementation ----------------------------- */

typedef void (*behaviour)(contract *c);

static int group_setup(void **state)
{
    (void)state;
    lk_log_set_level(LK_LOG_OFF);
    spec_nats_server_start(&server);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    spec_nats_server_stop(&server);
    spec_nats_library_close();
    return 0;
}

static int setup_with(void **state, const impl *im)
{
    contract *c = calloc(1, sizeof *c);
    if (c == NULL)
        return -1;
    c->impl = im;
    spec_nats_unique_name(c->stream, sizeof c->stream, "LKCONTRACT");
    snprintf(c->subject, sizeof c->subject, "contract.%s.events", c->stream);
    *state = c;
    return 0;
}

static int setup_fake(void **state) { return setup_with(state, &fake_impl); }
static int setup_nats(void **state) { return setup_with(state, &nats_impl); }

static int teardown(void **state)
{
    contract *c = *state;
    if (c->bus != NULL)
        c->impl->close(c); /* no handler runs after this */
    for (size_t i = 0; i < c->n_recorders; i++)
        recorder_free(c->recorders[i]);
    free(c);
    return 0;
}

static void run(void **state, behaviour b)
{
    contract *c = *state;
    c->impl->open(c);
    b(c);
}

#define BEHAVIOUR(name)                                                     \
    static void test_##name(void **state) { run(state, name); }
BEHAVIOUR(publish_is_delivered_once)
BEHAVIOUR(one_member_of_a_queue_group_gets_each_message)
BEHAVIOUR(subscribers_without_a_queue_group_each_get_every_message)
BEHAVIOUR(an_unacked_message_comes_again_after_ack_wait_with_count_2)
BEHAVIOUR(nak_redelivers_at_once)
BEHAVIOUR(nak_with_delay_redelivers_after_the_delay)
BEHAVIOUR(term_stops_redelivery)
BEHAVIOUR(max_deliver_stops_redelivery)
BEHAVIOUR(a_late_durable_subscriber_gets_everything_published_before)
BEHAVIOUR(a_subscriber_without_deliver_all_starts_at_the_next_message)
BEHAVIOUR(one_publishers_messages_arrive_in_publish_order)
BEHAVIOUR(a_repeated_msg_id_is_stored_and_delivered_once)
BEHAVIOUR(one_queue_group_can_listen_on_two_subjects)
BEHAVIOUR(naks_count_toward_max_deliver)
BEHAVIOUR(only_the_first_reply_to_a_delivery_counts)
BEHAVIOUR(a_queue_member_asking_for_another_ack_wait_is_refused)
BEHAVIOUR(a_durable_without_a_queue_group_takes_one_subscriber)
BEHAVIOUR(two_durables_in_one_queue_group_each_get_every_message)
BEHAVIOUR(at_most_1000_deliveries_await_an_ack_per_consumer)
BEHAVIOUR(a_held_message_comes_once_an_ack_frees_room)
BEHAVIOUR(max_ack_pending_holds_back_new_messages)
BEHAVIOUR(acks_let_the_next_messages_past_max_ack_pending)
BEHAVIOUR(a_queue_member_asking_for_another_max_ack_pending_is_refused)
BEHAVIOUR(a_durable_belongs_to_one_queue_group)
BEHAVIOUR(a_name_jetstream_cannot_use_is_refused)
BEHAVIOUR(a_message_over_the_max_payload_is_too_large)
BEHAVIOUR(a_wildcard_subscription_is_unsupported_and_a_malformed_one_invalid)
BEHAVIOUR(a_crashed_members_unacked_message_comes_to_another_after_ack_wait)
BEHAVIOUR(a_listener_dead_letters_what_it_cannot_process_and_goes_on)
BEHAVIOUR(a_batchs_messages_arrive_in_publish_order)
BEHAVIOUR(every_failed_message_of_a_batch_is_reported_with_its_subject)
BEHAVIOUR(a_repeated_msg_id_in_a_batch_is_stored_and_delivered_once)
BEHAVIOUR(a_disconnect_mid_batch_loses_nothing_and_republishing_stores_once)
BEHAVIOUR(a_batch_refuses_at_once_what_cannot_be_sent)
#undef BEHAVIOUR

/* Each behaviour once per implementation; the name says which. */
#define ON_BOTH(name)                                                       \
    {"test_" #name " [fake]", test_##name, setup_fake, teardown, NULL},     \
    {"test_" #name " [nats]", test_##name, setup_nats, teardown, NULL}
/* For a behaviour the fake does not have yet (report it to the fake's
 * owner): the server only, until the fake agrees. None today. */
#define ON_SERVER_ONLY(name)                                                \
    {"test_" #name " [nats]", test_##name, setup_nats, teardown, NULL}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ON_BOTH(publish_is_delivered_once),
        ON_BOTH(one_member_of_a_queue_group_gets_each_message),
        ON_BOTH(subscribers_without_a_queue_group_each_get_every_message),
        ON_BOTH(an_unacked_message_comes_again_after_ack_wait_with_count_2),
        ON_BOTH(nak_redelivers_at_once),
        ON_BOTH(nak_with_delay_redelivers_after_the_delay),
        ON_BOTH(term_stops_redelivery),
        ON_BOTH(max_deliver_stops_redelivery),
        ON_BOTH(a_late_durable_subscriber_gets_everything_published_before),
        ON_BOTH(a_subscriber_without_deliver_all_starts_at_the_next_message),
        ON_BOTH(one_publishers_messages_arrive_in_publish_order),
        ON_BOTH(a_repeated_msg_id_is_stored_and_delivered_once),
        ON_BOTH(one_queue_group_can_listen_on_two_subjects),
        ON_BOTH(naks_count_toward_max_deliver),
        ON_BOTH(only_the_first_reply_to_a_delivery_counts),
        ON_BOTH(a_queue_member_asking_for_another_ack_wait_is_refused),
        ON_BOTH(a_durable_without_a_queue_group_takes_one_subscriber),
        ON_BOTH(two_durables_in_one_queue_group_each_get_every_message),
        ON_BOTH(at_most_1000_deliveries_await_an_ack_per_consumer),
        ON_BOTH(a_held_message_comes_once_an_ack_frees_room),
        ON_BOTH(max_ack_pending_holds_back_new_messages),
        ON_BOTH(acks_let_the_next_messages_past_max_ack_pending),
        ON_BOTH(a_queue_member_asking_for_another_max_ack_pending_is_refused),
        ON_BOTH(a_durable_belongs_to_one_queue_group),
        ON_BOTH(a_name_jetstream_cannot_use_is_refused),
        ON_BOTH(a_message_over_the_max_payload_is_too_large),
        ON_BOTH(a_wildcard_subscription_is_unsupported_and_a_malformed_one_invalid),
        ON_BOTH(a_crashed_members_unacked_message_comes_to_another_after_ack_wait),
        ON_BOTH(a_listener_dead_letters_what_it_cannot_process_and_goes_on),
        ON_BOTH(a_batchs_messages_arrive_in_publish_order),
        ON_BOTH(every_failed_message_of_a_batch_is_reported_with_its_subject),
        ON_BOTH(a_repeated_msg_id_in_a_batch_is_stored_and_delivered_once),
        ON_BOTH(a_disconnect_mid_batch_loses_nothing_and_republishing_stores_once),
        ON_BOTH(a_batch_refuses_at_once_what_cannot_be_sent),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
