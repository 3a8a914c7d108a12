/* SPDX-License-Identifier: MIT */
/*
 * nats_election_spec.c — while a JetStream cluster elects a stream leader,
 * nothing listens on the stream's subjects (a publish gets "no responders")
 * and the stream answers no request (reading it times out). Publishers then
 * ride the election out by retrying with their message id: N of them at
 * once cost about the election's time, not N checks of the stream one after
 * another, and one that outlasts its timeout fails saying so.
 *
 * A real 3-node cluster elects when it pleases; here a plain nats-server
 * (no JetStream) and a stand-in answering the few JetStream requests the
 * bus makes play the stream, so the election starts and ends on cue.
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

#include "listenkit.h"
#include "listenkit/nats.h"
#include "nats_server.h"

#define PUBLISHERS 4
#define PUBLISH_TIMEOUT_MS 3000
#define ELECTION_MS 1200

static spec_nats_server server;

/* The stand-in stream: answers stream info and stores (acks) what is
 * published on its subject, except while electing. */
typedef struct stand_in {
    natsConnection *nc;
    natsSubscription *info_sub, *data_sub;
    char stream[64], subject[128], info_subject[192];
    pthread_mutex_t mu;
    bool electing;
    int infos_unanswered; /* stream info requests while electing */
    int stored;           /* messages acked */
} stand_in;

static void on_info(natsConnection *nc, natsSubscription *sub, natsMsg *m,
                    void *closure)
{
    stand_in *si = closure;
    char reply[1024];
    (void)sub;
    pthread_mutex_lock(&si->mu);
    bool electing = si->electing;
    if (electing)
        si->infos_unanswered++;
    pthread_mutex_unlock(&si->mu);
    if (!electing && natsMsg_GetReply(m) != NULL) {
        /* The bus's default limits, so the bus has nothing to update. */
        snprintf(reply, sizeof reply,
                 "{\"type\":\"io.nats.jetstream.api.v1.stream_info_response\","
                 "\"config\":{\"name\":\"%s\",\"subjects\":[\"%s\"],"
                 "\"retention\":\"limits\",\"max_consumers\":-1,"
                 "\"max_msgs\":-1,\"max_bytes\":1073741824,"
                 "\"max_age\":604800000000000,\"max_msg_size\":-1,"
                 "\"storage\":\"file\",\"discard\":\"old\","
                 "\"num_replicas\":3,\"duplicate_window\":120000000000},"
                 "\"created\":\"2026-01-01T00:00:00Z\",\"state\":{"
                 "\"messages\":0,\"bytes\":0,\"first_seq\":0,\"last_seq\":0,"
                 "\"consumer_count\":0}}",
                 si->stream, si->subject);
        natsConnection_PublishString(nc, natsMsg_GetReply(m), reply);
    }
    natsMsg_Destroy(m);
}

static void on_data(natsConnection *nc, natsSubscription *sub, natsMsg *m,
                    void *closure)
{
    stand_in *si = closure;
    char reply[256];
    (void)sub;
    pthread_mutex_lock(&si->mu);
    int seq = ++si->stored;
    pthread_mutex_unlock(&si->mu);
    snprintf(reply, sizeof reply, "{\"stream\":\"%s\",\"seq\":%d}", si->stream,
             seq);
    if (natsMsg_GetReply(m) != NULL)
        natsConnection_PublishString(nc, natsMsg_GetReply(m), reply);
    natsMsg_Destroy(m);
}

static void listen_on_subject(stand_in *si)
{
    assert_int_equal(natsConnection_Subscribe(&si->data_sub, si->nc,
                                              si->subject, on_data, si),
                     NATS_OK);
    assert_int_equal(natsConnection_Flush(si->nc), NATS_OK);
}

/* Nothing listens on the subject (the server knows it when this returns)
 * and stream info goes unanswered. */
static void start_election(stand_in *si)
{
    pthread_mutex_lock(&si->mu);
    si->electing = true;
    pthread_mutex_unlock(&si->mu);
    assert_int_equal(natsSubscription_Unsubscribe(si->data_sub), NATS_OK);
    natsSubscription_Destroy(si->data_sub);
    si->data_sub = NULL;
    assert_int_equal(natsConnection_Flush(si->nc), NATS_OK);
}

static void end_election(stand_in *si)
{
    listen_on_subject(si);
    pthread_mutex_lock(&si->mu);
    si->electing = false;
    pthread_mutex_unlock(&si->mu);
}

typedef struct world {
    stand_in si;
    lk_bus *bus;
} world;

static int group_setup(void **state)
{
    (void)state;
    lk_log_set_level(LK_LOG_OFF);
    spec_nats_server_spawn_without_jetstream(&server);
    return 0;
}

static int group_teardown(void **state)
{
    spec_nats_server_stop(&server);
    return spec_nats_library_teardown(state);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    if (w == NULL)
        return -1;
    pthread_mutex_init(&w->si.mu, NULL);
    spec_nats_unique_name(w->si.stream, sizeof w->si.stream, "LKELECT");
    snprintf(w->si.subject, sizeof w->si.subject, "elect.%s", w->si.stream);
    snprintf(w->si.info_subject, sizeof w->si.info_subject,
             "$JS.API.STREAM.INFO.%s", w->si.stream);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    lk_bus_free(w->bus);
    natsSubscription_Destroy(w->si.info_sub);
    natsSubscription_Destroy(w->si.data_sub);
    natsConnection_Destroy(w->si.nc);
    pthread_mutex_destroy(&w->si.mu);
    free(w);
    return 0;
}

/* The stand-in up, a bus connected with `timeout_ms`, one message through
 * (the bus now knows the stream captures the subject). */
static void start(world *w, int64_t timeout_ms)
{
    lk_error err = {0};
    spec_nats_server_require(&server);
    assert_int_equal(natsConnection_ConnectTo(&w->si.nc, server.url), NATS_OK);
    assert_int_equal(natsConnection_Subscribe(&w->si.info_sub, w->si.nc,
                                              w->si.info_subject, on_info,
                                              &w->si),
                     NATS_OK);
    listen_on_subject(&w->si);
    lk_nats_opts opts = {.stream = w->si.stream,
                         .publish_timeout_ms = timeout_ms};
    if (lk_nats_bus_connect(&w->bus, server.url, &opts, &err) != LK_OK)
        fail_msg("connect %s: %s", server.url, err.message);
    if (lk_bus_publish(w->bus, w->si.subject, "first", 5, NULL, &err) != LK_OK)
        fail_msg("first publish: %s", err.message);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

typedef struct publisher {
    pthread_t thread;
    lk_bus *bus;
    const char *subject;
    char id[32];
    lk_status status;
    lk_error err;
    int64_t took_ms;
} publisher;

static void *publish_one(void *arg)
{
    publisher *p = arg;
    const lk_publish_opts opts = {.msg_id = p->id};
    int64_t t0 = now_ms();
    p->status = lk_bus_publish(p->bus, p->subject, p->id, strlen(p->id), &opts,
                               &p->err);
    p->took_ms = now_ms() - t0;
    return NULL;
}

static void test_publishers_ride_out_an_election_together(void **state)
{
    world *w = *state;
    publisher p[PUBLISHERS];
    start(w, PUBLISH_TIMEOUT_MS);
    start_election(&w->si);

    int64_t t0 = now_ms();
    for (int i = 0; i < PUBLISHERS; i++) {
        p[i] = (publisher){.bus = w->bus, .subject = w->si.subject};
        snprintf(p[i].id, sizeof p[i].id, "during-%d", i);
        assert_int_equal(pthread_create(&p[i].thread, NULL, publish_one, &p[i]),
                         0);
    }
    sleep_ms(ELECTION_MS);
    end_election(&w->si);
    for (int i = 0; i < PUBLISHERS; i++)
        pthread_join(p[i].thread, NULL);
    int64_t took = now_ms() - t0;

    for (int i = 0; i < PUBLISHERS; i++) {
        print_message("publisher %d: %s in %lld ms\n", i,
                      lk_status_str(p[i].status), (long long)p[i].took_ms);
        if (p[i].status != LK_OK)
            fail_msg("publisher %d: %s", i, p[i].err.message);
        /* done soon after the election, never before it ended */
        assert_true(p[i].took_ms >= ELECTION_MS - 50);
    }
    /* Together about the election, within one publish timeout (they used
     * to take a stream-check timeout each, one after another, and fail). */
    print_message("%d publishers during a %d ms election: %lld ms\n",
                  PUBLISHERS, ELECTION_MS, (long long)took);
    assert_true(took < PUBLISH_TIMEOUT_MS);
    pthread_mutex_lock(&w->si.mu);
    int stored = w->si.stored, unanswered = w->si.infos_unanswered;
    pthread_mutex_unlock(&w->si.mu);
    assert_int_equal(stored, 1 + PUBLISHERS); /* each once, and "first" */
    /* one shared look at the stream (two if one publisher was late) */
    assert_in_range(unanswered, 1, 2);
}

static void test_an_election_longer_than_the_timeout_fails_the_publish(
    void **state)
{
    world *w = *state;
    lk_error err = {0};
    const int64_t timeout = 800;
    start(w, timeout);
    start_election(&w->si);

    int64_t t0 = now_ms();
    const lk_publish_opts opts = {.msg_id = "never"};
    lk_status st = lk_bus_publish(w->bus, w->si.subject, "x", 1, &opts, &err);
    int64_t took = now_ms() - t0;

    assert_int_equal(st, LK_ERR_IO);
    assert_non_null(strstr(err.message, w->si.subject));
    assert_non_null(strstr(err.message, "no stream answered"));
    /* bounded by the timeout (plus a pause), not a multiple of it */
    assert_true(took >= timeout / 2);
    assert_true(took < timeout + 500);
    pthread_mutex_lock(&w->si.mu);
    assert_int_equal(w->si.stored, 1);
    pthread_mutex_unlock(&w->si.mu);

    /* The stream is still known: once elected, a publish goes through. */
    end_election(&w->si);
    assert_int_equal(lk_bus_publish(w->bus, w->si.subject, "x", 1, &opts, &err),
                     LK_OK);
}

/* The outbox relay's path: an asynchronous batch during the election
 * reports every message as failed, without waiting out a stream check per
 * failure, and keeps the stream known, so publishing the same messages
 * again once a leader is elected works. */
static void test_a_batch_during_an_election_reports_each_failure_promptly(
    void **state)
{
    world *w = *state;
    lk_error err = {0};
    lk_batch *batch = NULL;
    char id[3][32];
    start(w, PUBLISH_TIMEOUT_MS);
    start_election(&w->si);

    assert_int_equal(lk_batch_new(w->bus, NULL, &batch, &err), LK_OK);
    for (int i = 0; i < 3; i++) {
        snprintf(id[i], sizeof id[i], "batch-%d", i);
        const lk_publish_opts opts = {.msg_id = id[i]};
        assert_int_equal(lk_batch_publish(batch, w->si.subject, id[i],
                                          strlen(id[i]), &opts, &err),
                         LK_OK);
    }
    int64_t t0 = now_ms();
    assert_int_equal(lk_batch_wait(batch, 0, &err), LK_ERR_IO);
    int64_t took = now_ms() - t0;
    print_message("batch wait during the election: %lld ms\n",
                  (long long)took);
    assert_int_equal(lk_batch_failure_count(batch), 3);
    for (size_t i = 0; i < 3; i++) {
        const lk_batch_failure *f = lk_batch_failure_at(batch, i);
        assert_int_equal(f->status, LK_ERR_IO);
        assert_string_equal(f->msg_id, id[i]);
        assert_non_null(strstr(f->message, "no stream captures"));
    }
    /* one short look at the stream (a re-check waits at most 1 s), not a
     * whole publish timeout (it took 3 s) */
    assert_true(took < 2000);
    lk_batch_free(batch);

    end_election(&w->si);
    assert_int_equal(lk_batch_new(w->bus, NULL, &batch, &err), LK_OK);
    for (int i = 0; i < 3; i++) {
        const lk_publish_opts opts = {.msg_id = id[i]};
        assert_int_equal(lk_batch_publish(batch, w->si.subject, id[i],
                                          strlen(id[i]), &opts, &err),
                         LK_OK);
    }
    if (lk_batch_wait(batch, 0, &err) != LK_OK)
        fail_msg("after the election: %s", err.message);
    assert_int_equal(lk_batch_acked(batch), 3);
    lk_batch_free(batch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_publishers_ride_out_an_election_together),
        T(test_an_election_longer_than_the_timeout_fails_the_publish),
        T(test_a_batch_during_an_election_reports_each_failure_promptly),
#undef T
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
