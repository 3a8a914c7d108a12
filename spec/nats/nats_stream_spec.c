/* SPDX-License-Identifier: MIT */
/*
 * nats_stream_spec.c — the stream the adapter makes is bounded: max age,
 * max bytes and a discard policy, with documented defaults, applied on a
 * real nats-server -js (also to a stream found without them); bad limits
 * are refused by name. Also the crash switch specs use, lk_nats_bus_abort.
 */
#include <setjmp.h>
#include <stdarg.h>
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
#include "spec_proc.h"

static spec_nats_server server;

typedef struct world {
    char stream[64];
    char subject[128];
    lk_bus *bus;
} world;

static int group_setup(void **state)
{
    return spec_nats_group_setup(state, &server);
}

static int group_teardown(void **state)
{
    return spec_nats_group_teardown(state, &server);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    if (w == NULL)
        return -1;
    spec_nats_unique_name(w->stream, sizeof w->stream, "LKLIMITS");
    snprintf(w->subject, sizeof w->subject, "limits.%s", w->stream);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    lk_bus_free(w->bus);
    if (server.ok)
        spec_nats_delete_stream(server.url, w->stream);
    free(w);
    return 0;
}

static void connect_with(world *w, const lk_nats_stream_limits *limits)
{
    lk_error err = {0};
    lk_nats_opts opts = {.stream = w->stream};
    spec_nats_server_require(&server);
    if (limits != NULL)
        opts.stream_limits = *limits;
    if (lk_nats_bus_connect(&w->bus, server.url, &opts, &err) != LK_OK)
        fail_msg("connect %s: %s", server.url, err.message);
}

static lk_status publish(world *w, const char *text, lk_error *err)
{
    return lk_bus_publish(w->bus, w->subject, text, strlen(text), NULL, err);
}

/* The stream's configuration and state as the server reports them. */
typedef struct stream_facts {
    int64_t max_age_ms, max_bytes;
    jsDiscardPolicy discard;
    uint64_t msgs, bytes, first_seq;
} stream_facts;

static stream_facts read_stream(const world *w)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    stream_facts f = {0};
    assert_int_equal(natsConnection_ConnectTo(&nc, server.url), NATS_OK);
    assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    assert_int_equal(js_GetStreamInfo(&si, js, w->stream, NULL, NULL),
                     NATS_OK);
    f.max_age_ms = si->Config->MaxAge / 1000000;
    f.max_bytes = si->Config->MaxBytes;
    f.discard = si->Config->Discard;
    f.msgs = si->State.Msgs;
    f.bytes = si->State.Bytes;
    f.first_seq = si->State.FirstSeq;
    jsStreamInfo_Destroy(si);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return f;
}

/* ---- limits ------------------------------------------------------------------- */

static void test_the_stream_gets_the_default_limits(void **state)
{
    world *w = *state;
    connect_with(w, NULL);
    assert_int_equal(publish(w, "one", NULL), LK_OK);
    stream_facts f = read_stream(w);
    assert_int_equal(f.max_age_ms, LK_NATS_DEFAULT_MAX_AGE_MS);
    assert_int_equal(f.max_age_ms, 7 * 24 * 3600 * INT64_C(1000));
    assert_int_equal(f.max_bytes, LK_NATS_DEFAULT_MAX_BYTES);
    assert_int_equal(f.discard, js_DiscardOld);
}

static void test_a_full_stream_with_discard_old_drops_the_oldest(void **state)
{
    enum { LIMIT = 4096 };
    world *w = *state;
    lk_nats_stream_limits limits = {.max_bytes = LIMIT};
    char text[200];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    connect_with(w, &limits);
    for (int i = 0; i < 100; i++) /* ~ 20 KB: five times the limit */
        assert_int_equal(publish(w, text, NULL), LK_OK);
    stream_facts f = read_stream(w);
    assert_int_equal(f.max_bytes, LIMIT);
    assert_true(f.bytes <= LIMIT);
    assert_true(f.first_seq > 1); /* the oldest went */
    assert_true(f.msgs < 100);
}

static void test_a_full_stream_with_discard_new_refuses_the_publish(
    void **state)
{
    enum { LIMIT = 4096 };
    world *w = *state;
    lk_nats_stream_limits limits = {.max_bytes = LIMIT,
                                    .discard = LK_NATS_DISCARD_NEW};
    char text[200];
    lk_error err = {0};
    lk_status s = LK_OK;
    int stored = 0;
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    connect_with(w, &limits);
    for (int i = 0; i < 100 && s == LK_OK; i++)
        if ((s = publish(w, text, &err)) == LK_OK)
            stored++;
    assert_int_not_equal(s, LK_OK);
    assert_non_null(strstr(err.message, w->subject));
    stream_facts f = read_stream(w);
    assert_int_equal(f.discard, js_DiscardNew);
    assert_int_equal(f.first_seq, 1); /* nothing stored was dropped */
    assert_int_equal(f.msgs, (uint64_t)stored);
    assert_true(f.bytes <= LIMIT);
}

static void test_messages_older_than_max_age_leave_the_stream(void **state)
{
    world *w = *state;
    lk_nats_stream_limits limits = {.max_age_ms = 500};
    connect_with(w, &limits);
    assert_int_equal(publish(w, "old", NULL), LK_OK);
    assert_int_equal(read_stream(w).msgs, 1);
    uint64_t msgs = 1;
    for (int i = 0; i < 40 && msgs > 0; i++) { /* bounded: 4 s */
        spec_sleep_ms(100);
        msgs = read_stream(w).msgs;
    }
    assert_int_equal(msgs, 0);
    assert_int_equal(read_stream(w).max_age_ms, 500);
}

static void test_limits_can_be_lifted(void **state)
{
    world *w = *state;
    lk_nats_stream_limits none = {.max_age_ms = -1, .max_bytes = -1};
    connect_with(w, &none);
    assert_int_equal(publish(w, "kept", NULL), LK_OK);
    stream_facts f = read_stream(w);
    assert_int_equal(f.max_age_ms, 0); /* JetStream's "no limit" */
    assert_int_equal(f.max_bytes, -1);
}

static void test_a_stream_found_without_limits_gets_them(void **state)
{
    world *w = *state;
    spec_nats_server_require(&server);
    assert_true(spec_nats_add_stream(server.url, w->stream, w->subject));
    assert_int_equal(read_stream(w).max_bytes, -1); /* as an operator made it */
    connect_with(w, NULL);
    assert_int_equal(publish(w, "one", NULL), LK_OK);
    stream_facts f = read_stream(w);
    assert_int_equal(f.max_bytes, LK_NATS_DEFAULT_MAX_BYTES);
    assert_int_equal(f.max_age_ms, LK_NATS_DEFAULT_MAX_AGE_MS);
    assert_int_equal(f.msgs, 1);
}

static void test_bad_limits_are_refused_by_name(void **state)
{
    (void)state;
    const struct {
        lk_nats_stream_limits limits;
        const char *named;
    } cases[] = {
        {{.max_age_ms = -2}, "max_age_ms"},
        {{.max_age_ms = INT64_MAX}, "max_age_ms"},
        {{.max_bytes = -5}, "max_bytes"},
        {{.discard = (lk_nats_discard)7}, "discard"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lk_bus *bus = NULL;
        lk_error err = {0};
        lk_nats_opts opts = {.stream_limits = cases[i].limits};
        lk_status s = lk_nats_bus_connect(&bus, "nats://127.0.0.1:1", &opts,
                                          &err);
        if (s != LK_ERR_INVALID || strstr(err.message, cases[i].named) == NULL)
            fail_msg("case %zu: %s: %s", i, lk_status_name(s), err.message);
        assert_null(bus);
    }
}

/* ---- abort -------------------------------------------------------------------- */

static void test_abort_closes_at_once_and_only_once(void **state)
{
    world *w = *state;
    lk_error err = {0};
    connect_with(w, NULL);
    assert_int_equal(publish(w, "before", NULL), LK_OK);
    assert_int_equal(lk_nats_bus_abort(w->bus), LK_OK);
    assert_int_equal(publish(w, "after", &err), LK_ERR_CLOSED);
    assert_int_equal(lk_nats_bus_abort(w->bus), LK_ERR_CLOSED);
    assert_int_equal(lk_nats_bus_abort(NULL), LK_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_the_stream_gets_the_default_limits),
        T(test_a_full_stream_with_discard_old_drops_the_oldest),
        T(test_a_full_stream_with_discard_new_refuses_the_publish),
        T(test_messages_older_than_max_age_leave_the_stream),
        T(test_limits_can_be_lifted),
        T(test_a_stream_found_without_limits_gets_them),
        T(test_bad_limits_are_refused_by_name),
        T(test_abort_closes_at_once_and_only_once),
#undef T
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
