/* SPDX-License-Identifier: MIT */
/*
 * nats_bus_spec.c — what the JetStream adapter adds to the bus contract:
 * connecting (URLs, options, errors that name the problem), the publish
 * acknowledgement, server-side de-duplication, the closed bus, and a server
 * that goes away under a connected client.
 *
 * The behaviours every bus shares are in spec/contract/bus_contract_spec.c.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_nats.h"
#include "listenkit.h"
#include "listenkit/nats.h"
#include "nats_server.h"
#include "spec_log.h"
#include "spec_proc.h"

static spec_nats_server server;

typedef struct fixture {
    char stream[64];
    char subject[96];
    lk_nats_opts opts;
    lk_bus *bus;
} fixture;

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
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    spec_nats_unique_name(f->stream, sizeof f->stream, "LKSPEC");
    snprintf(f->subject, sizeof f->subject, "spec.%s.event", f->stream);
    f->opts.stream = f->stream;
    f->opts.publish_timeout_ms = 2000;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    lk_bus_free(f->bus);
    if (server.ok)
        spec_nats_delete_stream(server.url, f->stream);
    free(f);
    return 0;
}

/* Connects the fixture's bus to the spec server (or skips/fails). */
static void connect_bus(fixture *f)
{
    lk_error err = {0};
    spec_nats_server_require(&server);
    lk_status s = lk_nats_bus_connect(&f->bus, server.url, &f->opts, &err);
    if (s != LK_OK)
        fail_msg("connect %s: %s", server.url, err.message);
}

/* A URL where nothing listens: port 1 is privileged, never a NATS server
 * on a test machine, and refuses connections at once. */
static void dead_url(char *buf, size_t size)
{
    snprintf(buf, size, "nats://127.0.0.1:1");
}

/* ---- connect ------------------------------------------------------------------ */

static void test_connect_to_a_port_with_nothing_listening_is_an_io_error_naming_the_url(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    char url[64];
    dead_url(url, sizeof url);
    assert_int_equal(lk_nats_bus_connect(&f->bus, url, &f->opts, &err),
                     LK_ERR_IO);
    assert_null(f->bus);
    assert_int_equal(err.status, LK_ERR_IO);
    assert_non_null(strstr(err.message, url));
}

static void test_connect_rejects_a_url_that_is_not_nats(void **state)
{
    fixture *f = *state;
    static const char *const bad[] = {"http://127.0.0.1:4222", "",
                                      "nats://", "nats://host:notaport",
                                      "nats://host:70000", "127.0.0.1:4222",
                                      "nats://a:1,ftp://b:2", "nats://host:",
                                      "nats://:4222", "nats://host/path",
                                      "nats://host:0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lk_error err = {0};
        lk_status s = lk_nats_bus_connect(&f->bus, bad[i], &f->opts, &err);
        if (s != LK_ERR_INVALID)
            fail_msg("\"%s\": %s (%s)", bad[i], lk_status_name(s), err.message);
        assert_null(f->bus);
        if (bad[i][0] != '\0')
            assert_non_null(strstr(err.message, bad[i]));
        else
            assert_non_null(strstr(err.message, "empty"));
    }
}

static void test_connect_rejects_bad_options_naming_the_option(void **state)
{
    fixture *f = *state;
    struct {
        lk_nats_opts opts;
        const char *named;
    } cases[] = {
        {{.stream = "has.dot"}, "has.dot"},
        {{.stream = "has space"}, "has space"},
        {{.user = "alice"}, "password"},
        {{.password = "secret"}, "user"},
        {{.user = "a", .password = "b", .token = "t"}, "token"},
        {{.reconnect_attempts = -2}, "reconnect_attempts"},
        {{.reconnect_wait_ms = -1}, "reconnect_wait_ms"},
        {{.publish_timeout_ms = -5}, "publish_timeout_ms"},
        {{.drain_timeout_ms = -5}, "drain_timeout_ms"},
        {{.credentials_file = "/nonexistent/user.creds"}, "/nonexistent/user.creds"},
        {{.tls_ca_file = "/nonexistent/ca.pem"}, "/nonexistent/ca.pem"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lk_error err = {0};
        assert_int_equal(lk_nats_bus_connect(&f->bus, "nats://127.0.0.1:4222",
                                             &cases[i].opts, &err),
                         LK_ERR_INVALID);
        assert_null(f->bus);
        if (strstr(err.message, cases[i].named) == NULL)
            fail_msg("case %zu: \"%s\" does not name %s", i, err.message,
                     cases[i].named);
    }
}

static void test_well_formed_urls_get_as_far_as_the_network(void **state)
{
    fixture *f = *state;
    static const char *const good[] = {"nats://alice:secret@127.0.0.1:1",
                                       "nats://[::1]:1", "tls://127.0.0.1:1",
                                       "nats://127.0.0.1:1,nats://127.0.0.1:2"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        lk_error err = {0};
        lk_status s = lk_nats_bus_connect(&f->bus, good[i], &f->opts, &err);
        if (s != LK_ERR_IO)
            fail_msg("\"%s\": %s (%s)", good[i], lk_status_name(s), err.message);
        char shown[128]; /* the password is never shown (redact.h) */
        lk_redact(good[i], shown, sizeof shown);
        assert_non_null(strstr(err.message, shown));
    }
}

/* NATS_URL may list several servers (a cluster): the first being down,
 * the bus connects to the next. libnats's SetURL took the list as one
 * unreachable URL (found by make demo-cluster --cluster 3). */
static void test_a_url_list_whose_first_server_is_down_connects_to_the_next(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    char urls[300];
    spec_nats_server_require(&server);
    snprintf(urls, sizeof urls, "nats://127.0.0.1:1,%s", server.url);
    lk_status s = lk_nats_bus_connect(&f->bus, urls, &f->opts, &err);
    if (s != LK_OK)
        fail_msg("connect %s: %s", urls, err.message);
    assert_non_null(f->bus);
}

static void test_connect_with_every_plain_option_works_on_an_open_server(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    lk_nats_opts a = f->opts, b = f->opts;
    lk_bus *second = NULL;
    spec_nats_server_require(&server);
    /* A server without authorization accepts any identity. */
    a.name = "spec-client";
    a.user = "alice";
    a.password = "secret";
    a.reconnect_attempts = 3;
    a.reconnect_wait_ms = 50;
    b.token = "t0ken";
    b.reconnect_attempts = -1;
    assert_int_equal(lk_nats_bus_connect(&f->bus, server.url, &a, &err), LK_OK);
    assert_int_equal(lk_nats_bus_connect(&second, server.url, &b, &err), LK_OK);
    assert_int_equal(lk_bus_publish(second, f->subject, "1", 1, NULL, &err), LK_OK);
    lk_bus_free(second);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_a_ca_file_without_certificates_is_an_error_naming_the_option(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    char path[] = "/tmp/listenkit-ca-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "not a certificate\n");
    f->opts.tls_ca_file = path;
    lk_status s = lk_nats_bus_connect(&f->bus, "tls://127.0.0.1:1", &f->opts, &err);
    unlink(path);
    assert_true(s == LK_ERR_IO || s == LK_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "tls_ca_file"));
}

static void test_a_credentials_file_that_is_not_one_fails_the_connect(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    char path[] = "/tmp/listenkit-creds-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "garbage\n");
    spec_nats_server_require(&server);
    f->opts.credentials_file = path;
    lk_status s = lk_nats_bus_connect(&f->bus, server.url, &f->opts, &err);
    unlink(path);
    assert_int_not_equal(s, LK_OK);
    assert_null(f->bus);
    assert_non_null(strstr(err.message, server.url));
}

static void test_connect_without_an_out_pointer_is_invalid(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    assert_int_equal(lk_nats_bus_connect(NULL, NULL, &f->opts, &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "out"));
}

static void test_connect_without_url_uses_nats_url_from_the_environment(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    spec_nats_server_require(&server);
    setenv("NATS_URL", server.url, 1);
    lk_status s = lk_nats_bus_connect(&f->bus, NULL, &f->opts, &err);
    unsetenv("NATS_URL");
    assert_int_equal(s, LK_OK);
    assert_true(lk_nats_bus_is_nats(f->bus));
    assert_int_equal(lk_bus_publish(f->bus, f->subject, "{}", 2, NULL, &err),
                     LK_OK);
}

/* Without a port, or without any URL, the client goes to the default port
 * 4222: whether a server answers there depends on the machine, but the URL
 * is accepted and the error (if any) names where it went. */
static void test_a_url_without_port_and_no_url_at_all_go_to_the_default_port(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    lk_status s = lk_nats_bus_connect(&f->bus, "nats://127.0.0.1", &f->opts, &err);
    if (s != LK_OK && s != LK_ERR_IO)
        fail_msg("nats://127.0.0.1: %s (%s)", lk_status_name(s), err.message);
    if (s == LK_ERR_IO)
        assert_non_null(strstr(err.message, "nats://127.0.0.1"));
    lk_bus_free(f->bus);
    f->bus = NULL;

    setenv("NATS_URL", "", 1); /* empty counts as unset */
    s = lk_nats_bus_connect(&f->bus, NULL, &f->opts, &err);
    unsetenv("NATS_URL");
    if (s != LK_OK && s != LK_ERR_IO)
        fail_msg("default URL: %s (%s)", lk_status_name(s), err.message);
    if (s == LK_ERR_IO)
        assert_non_null(strstr(err.message, LK_NATS_DEFAULT_URL));
}

static void test_connect_without_options_uses_the_defaults(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    spec_nats_server_require(&server);
    assert_int_equal(lk_nats_bus_connect(&f->bus, server.url, NULL, &err), LK_OK);
    assert_true(lk_nats_bus_is_nats(f->bus));
    assert_int_equal(lk_bus_drain(f->bus, &err), LK_OK);
}

static void test_a_server_without_jetstream_is_refused_at_connect(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    spec_nats_server plain;
    spec_nats_server_spawn_without_jetstream(&plain);
    spec_nats_server_require(&plain);
    char url[256];
    snprintf(url, sizeof url, "%s", plain.url);
    lk_status s = lk_nats_bus_connect(&f->bus, url, &f->opts, &err);
    spec_nats_server_stop(&plain);
    assert_int_equal(s, LK_ERR_IO);
    assert_null(f->bus);
    assert_non_null(strstr(err.message, url));
    assert_non_null(strstr(err.message, "is the server started with -js?"));
}

static void test_is_nats_tells_the_adapter_from_other_buses(void **state)
{
    fixture *f = *state;
    lk_fake_nats *fake = lk_fake_nats_new();
    assert_non_null(fake);
    assert_false(lk_nats_bus_is_nats(lk_fake_nats_bus(fake)));
    assert_false(lk_nats_bus_is_nats(NULL));
    lk_fake_nats_free(fake);
    connect_bus(f);
    assert_true(lk_nats_bus_is_nats(f->bus));
    assert_string_equal(f->bus->ops->name, "nats");
}

/* ---- publish -------------------------------------------------------------------- */

static void test_publish_returns_once_the_server_stored_the_message(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    connect_bus(f);
    for (int i = 0; i < 3; i++)
        assert_int_equal(lk_bus_publish(f->bus, f->subject, "{\"n\":1}", 7,
                                        NULL, &err),
                         LK_OK);
    /* No wait: the acknowledgement means it is in the stream already. */
    assert_int_equal(spec_nats_stream_msgs(server.url, f->stream), 3);
}

static void test_publish_with_the_same_msg_id_is_stored_once(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    lk_publish_opts a = {.msg_id = "order-1-v0"}, b = {.msg_id = "order-1-v1"};
    connect_bus(f);
    assert_int_equal(lk_bus_publish(f->bus, f->subject, "x", 1, &a, &err), LK_OK);
    assert_int_equal(lk_bus_publish(f->bus, f->subject, "x", 1, &a, &err), LK_OK);
    assert_int_equal(spec_nats_stream_msgs(server.url, f->stream), 1);
    assert_int_equal(lk_bus_publish(f->bus, f->subject, "x", 1, &b, &err), LK_OK);
    assert_int_equal(spec_nats_stream_msgs(server.url, f->stream), 2);
}

static void test_publish_adds_each_new_subject_to_the_stream(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    char other[128];
    snprintf(other, sizeof other, "%s.other", f->subject);
    connect_bus(f);
    assert_int_equal(lk_bus_publish(f->bus, f->subject, "1", 1, NULL, &err), LK_OK);
    assert_int_equal(lk_bus_publish(f->bus, other, "2", 1, NULL, &err), LK_OK);
    assert_int_equal(spec_nats_stream_msgs(server.url, f->stream), 2);
}

static void test_a_subject_another_stream_owns_is_an_error_naming_it(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    lk_bus *second = NULL;
    lk_nats_opts other = f->opts;
    char stream2[64];
    spec_nats_unique_name(stream2, sizeof stream2, "LKSPEC2");
    other.stream = stream2;
    connect_bus(f);
    assert_int_equal(lk_bus_publish(f->bus, f->subject, "1", 1, NULL, &err), LK_OK);
    assert_int_equal(lk_nats_bus_connect(&second, server.url, &other, &err), LK_OK);
    lk_status s = lk_bus_publish(second, f->subject, "2", 1, NULL, &err);
    lk_bus_free(second);
    spec_nats_delete_stream(server.url, stream2);
    assert_int_equal(s, LK_ERR_IO);
    assert_non_null(strstr(err.message, f->subject));
    assert_non_null(strstr(err.message, stream2));
}

/* An operator may make the stream beforehand, with wildcards or with no
 * subject list (then it captures its own name): the bus uses it as it is. */
static void test_a_stream_made_by_hand_that_captures_the_subject_is_used_as_is(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    spec_nats_server_require(&server);
    assert_true(spec_nats_add_stream(server.url, f->stream, "spec.*.>"));
    connect_bus(f);
    assert_int_equal(lk_bus_publish(f->bus, f->subject, "1", 1, NULL, &err), LK_OK);
    assert_int_equal(spec_nats_stream_subjects(server.url, f->stream), 1);
    assert_int_equal(spec_nats_stream_msgs(server.url, f->stream), 1);

    lk_bus *named = NULL;
    lk_nats_opts opts = f->opts;
    char own[64];
    spec_nats_unique_name(own, sizeof own, "LKSPECOWN");
    opts.stream = own;
    assert_true(spec_nats_add_stream(server.url, own, NULL));
    assert_int_equal(lk_nats_bus_connect(&named, server.url, &opts, &err), LK_OK);
    lk_status s = lk_bus_publish(named, own, "2", 1, NULL, &err);
    lk_bus_free(named);
    int64_t subjects = spec_nats_stream_subjects(server.url, own);
    int64_t msgs = spec_nats_stream_msgs(server.url, own);
    spec_nats_delete_stream(server.url, own);
    assert_int_equal(s, LK_OK);
    assert_int_equal(subjects, 1); /* its name, which the server lists */
    assert_int_equal(msgs, 1);
}

static void test_a_subject_another_stream_owns_is_not_added_to_ours(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    char stream2[64], taken[128];
    spec_nats_server_require(&server);
    spec_nats_unique_name(stream2, sizeof stream2, "LKSPEC2");
    snprintf(taken, sizeof taken, "spec.%s.taken", stream2);
    assert_true(spec_nats_add_stream(server.url, stream2, taken));
    connect_bus(f);
    assert_int_equal(lk_bus_publish(f->bus, f->subject, "1", 1, NULL, &err), LK_OK);
    lk_status s = lk_bus_publish(f->bus, taken, "2", 1, NULL, &err);
    spec_nats_delete_stream(server.url, stream2);
    assert_int_equal(s, LK_ERR_IO);
    assert_non_null(strstr(err.message, "cannot add subject"));
    assert_non_null(strstr(err.message, taken));
    assert_non_null(strstr(err.message, f->stream));
    assert_int_equal(spec_nats_stream_subjects(server.url, f->stream), 1);
}

/* NATS lengths are ints: a longer payload is refused before a byte is
 * read (the buffer here is one byte long). */
static void test_a_payload_nats_cannot_carry_is_too_large(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    const char one = 'x';
    connect_bus(f);
    lk_status s = lk_bus_publish(f->bus, f->subject, &one, (size_t)INT_MAX + 1,
                                 NULL, &err);
    assert_int_equal(s, LK_ERR_TOO_LARGE);
    assert_non_null(strstr(err.message, f->subject));
    assert_non_null(strstr(err.message, "more than NATS carries"));
}

static void test_a_message_over_the_servers_max_payload_is_too_large(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    size_t len = 2u * 1024u * 1024u; /* nats-server's default limit is 1 MiB */
    char *big = calloc(1, len);
    assert_non_null(big);
    connect_bus(f);
    lk_status s = lk_bus_publish(f->bus, f->subject, big, len, NULL, &err);
    free(big);
    assert_int_equal(s, LK_ERR_TOO_LARGE);
    assert_non_null(strstr(err.message, f->subject));
}

static void test_a_stream_deleted_behind_the_bus_is_made_again(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    connect_bus(f);
    assert_int_equal(lk_bus_publish(f->bus, f->subject, "1", 1, NULL, &err), LK_OK);
    spec_nats_delete_stream(server.url, f->stream);
    assert_int_equal(lk_bus_publish(f->bus, f->subject, "2", 1, NULL, &err), LK_OK);
    assert_int_equal(spec_nats_stream_msgs(server.url, f->stream), 1);
}

/* ---- subscribe ------------------------------------------------------------------ */

static void ignore(lk_msg *msg, void *closure)
{
    (void)closure;
    lk_msg_ack(msg);
}

typedef struct counter {
    int calls;
    char last;
} counter;

static void count_and_ack(lk_msg *msg, void *closure)
{
    counter *c = closure;
    c->last = msg->length > 0 ? ((const char *)msg->data)[0] : '\0';
    lk_msg_ack(msg);
    __atomic_add_fetch(&c->calls, 1, __ATOMIC_SEQ_CST);
}

/* No options: an ephemeral consumer that starts at the next message. */
static void test_subscribe_without_options_gets_only_later_messages(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    counter c = {0};
    connect_bus(f);
    assert_int_equal(lk_bus_publish(f->bus, f->subject, "0", 1, NULL, &err), LK_OK);
    assert_int_equal(lk_bus_subscribe(f->bus, f->subject, NULL, count_and_ack, &c,
                                      &err),
                     LK_OK);
    assert_int_equal(lk_bus_publish(f->bus, f->subject, "1", 1, NULL, &err), LK_OK);
    for (int i = 0; i < 500 && __atomic_load_n(&c.calls, __ATOMIC_SEQ_CST) == 0; i++)
        spec_sleep_ms(10);
    spec_sleep_ms(100); /* a delivery of "0" would have come by now */
    assert_int_equal(lk_bus_drain(f->bus, &err), LK_OK);
    assert_int_equal(__atomic_load_n(&c.calls, __ATOMIC_SEQ_CST), 1);
    assert_int_equal(c.last, '1');
}

static void test_subscribe_rejects_a_durable_name_jetstream_cannot_use(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    lk_subscribe_opts opts = {.durable_name = "bad.name"};
    connect_bus(f);
    assert_int_equal(lk_bus_subscribe(f->bus, f->subject, &opts, ignore, NULL, &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "bad.name"));
}

/* Consumer names and stream subjects are made per literal subject, so a
 * wildcard is refused before the stream or a consumer is touched. */
static void test_a_wildcard_subscription_is_unsupported_and_changes_no_stream(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    char wild[160];
    lk_subscribe_opts opts = {.queue_group = "wild"};
    snprintf(wild, sizeof wild, "%s.>", f->subject);
    connect_bus(f);
    assert_int_equal(lk_bus_publish(f->bus, f->subject, "1", 1, NULL, &err), LK_OK);
    assert_int_equal(lk_bus_subscribe(f->bus, wild, &opts, ignore, NULL, &err),
                     LK_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, wild));
    assert_non_null(strstr(err.message, "wildcard subjects are not supported"));
    assert_int_equal(spec_nats_stream_subjects(server.url, f->stream), 1);
}

static void test_a_durable_consumer_belongs_to_one_queue_group(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    lk_subscribe_opts a = {.queue_group = "alpha", .durable_name = "shared"};
    lk_subscribe_opts b = {.queue_group = "beta", .durable_name = "shared"};
    connect_bus(f);
    assert_int_equal(lk_bus_subscribe(f->bus, f->subject, &a, ignore, NULL, &err),
                     LK_OK);
    assert_int_equal(lk_bus_subscribe(f->bus, f->subject, &b, ignore, NULL, &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "alpha"));
}

/* ---- drain ------------------------------------------------------------------------ */

static void test_a_drained_bus_refuses_publish_and_subscribe(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    connect_bus(f);
    assert_int_equal(lk_bus_drain(f->bus, &err), LK_OK);
    assert_int_equal(lk_bus_drain(f->bus, &err), LK_OK); /* twice is fine */
    assert_int_equal(lk_bus_publish(f->bus, f->subject, "1", 1, NULL, &err),
                     LK_ERR_CLOSED);
    assert_non_null(strstr(err.message, f->subject));
    assert_int_equal(lk_bus_subscribe(f->bus, f->subject, NULL, ignore, NULL, &err),
                     LK_ERR_CLOSED);
    assert_non_null(strstr(err.message, f->subject));
}

typedef struct slow_handler {
    int started, finished;
} slow_handler;

static void slow(lk_msg *msg, void *closure)
{
    slow_handler *h = closure;
    __atomic_add_fetch(&h->started, 1, __ATOMIC_SEQ_CST);
    spec_sleep_ms(300);
    lk_msg_ack(msg);
    __atomic_add_fetch(&h->finished, 1, __ATOMIC_SEQ_CST);
}

/* Subscribes the slow handler, publishes one message, waits until the
 * handler is running, then drains: drain must return only once it finished. */
static void drain_while_slow_handler_runs(fixture *f, slow_handler *h,
                                          const char *group,
                                          int64_t ack_wait_ms)
{
    lk_error err = {0};
    lk_subscribe_opts opts = {.queue_group = group, .ack_wait_ms = ack_wait_ms};
    connect_bus(f);
    assert_int_equal(lk_bus_subscribe(f->bus, f->subject, &opts, slow, h, &err),
                     LK_OK);
    assert_int_equal(lk_bus_publish(f->bus, f->subject, "1", 1, NULL, &err), LK_OK);
    for (int i = 0; i < 200 && __atomic_load_n(&h->started, __ATOMIC_SEQ_CST) == 0; i++)
        spec_sleep_ms(10);
    assert_int_equal(__atomic_load_n(&h->started, __ATOMIC_SEQ_CST), 1);
    assert_int_equal(lk_bus_drain(f->bus, &err), LK_OK);
    assert_int_equal(__atomic_load_n(&h->finished, __ATOMIC_SEQ_CST), 1);
}

static void test_drain_lets_a_running_handler_finish(void **state)
{
    slow_handler h = {0};
    drain_while_slow_handler_runs(*state, &h, "slow", 5000);
}

/* What a handler sends while the bus drains reaches the server before the
 * connection closes: its ack is not left pending for redelivery. */
static void test_drain_delivers_what_a_finishing_handler_sent(void **state)
{
    fixture *f = *state;
    slow_handler h = {0};
    drain_while_slow_handler_runs(f, &h, "acks", 30000);
    assert_int_equal(spec_nats_ack_pending(server.url, f->stream), 0);
}

static int stuck_done;
static lk_status stuck_ack;

/* Outlives the drain bound, then acks on a connection closed meanwhile. */
static void stuck(lk_msg *msg, void *closure)
{
    (void)closure;
    spec_sleep_ms(800);
    stuck_ack = lk_msg_ack(msg);
    __atomic_store_n(&stuck_done, 1, __ATOMIC_SEQ_CST);
}

static void test_drain_gives_up_on_a_stuck_handler_after_its_timeout(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    lk_subscribe_opts opts = {.queue_group = "stuck", .ack_wait_ms = 5000};
    f->opts.drain_timeout_ms = 200;
    connect_bus(f);
    assert_int_equal(lk_bus_subscribe(f->bus, f->subject, &opts, stuck, NULL, &err),
                     LK_OK);
    assert_int_equal(lk_bus_publish(f->bus, f->subject, "1", 1, NULL, &err), LK_OK);
    spec_sleep_ms(100); /* the handler is running */
    int64_t t0 = spec_now_ms();
    lk_status s = lk_bus_drain(f->bus, &err);
    int64_t took = spec_now_ms() - t0;
    for (int i = 0; i < 200 && !__atomic_load_n(&stuck_done, __ATOMIC_SEQ_CST); i++)
        spec_sleep_ms(10);
    assert_int_equal(s, LK_ERR_TIMEOUT);
    assert_non_null(strstr(err.message, "200 ms"));
    assert_true(took < 800);
    assert_int_equal(__atomic_load_n(&stuck_done, __ATOMIC_SEQ_CST), 1);
    assert_int_equal(stuck_ack, LK_ERR_CLOSED); /* the late ack is refused */
}

/* ---- the server goes away ------------------------------------------------------ */

static void test_publish_while_disconnected_fails_fast_and_is_logged(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    spec_nats_server own;
    lk_nats_opts opts = f->opts;

    spec_nats_server_spawn(&own);
    spec_nats_server_require(&own);
    opts.reconnect_attempts = -1;
    opts.reconnect_wait_ms = 100;
    opts.publish_timeout_ms = 1000;
    assert_int_equal(lk_nats_bus_connect(&f->bus, own.url, &opts, &err), LK_OK);
    assert_int_equal(lk_bus_publish(f->bus, f->subject, "1", 1, NULL, &err), LK_OK);

    spec_log_capture_start();
    spec_nats_server_stop(&own);
    spec_log_wait("disconnected", 3000);
    int64_t t0 = spec_now_ms();
    lk_status s = lk_bus_publish(f->bus, f->subject, "2", 1, NULL, &err);
    int64_t took = spec_now_ms() - t0;
    bool logged = spec_log_contains("disconnected from") &&
                  spec_log_contains(own.url);
    /* drain while disconnected closes without waiting for the server */
    lk_status drained = lk_bus_drain(f->bus, NULL);
    spec_log_capture_stop();

    assert_true(s == LK_ERR_IO || s == LK_ERR_TIMEOUT);
    assert_non_null(strstr(err.message, f->subject));
    assert_true(took <= opts.publish_timeout_ms + 500);
    assert_true(logged);
    assert_int_equal(drained, LK_OK);
}

static void test_a_connection_that_gives_up_reconnecting_behaves_as_closed(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    spec_nats_server own;
    lk_nats_opts opts = f->opts;

    spec_nats_server_spawn(&own);
    spec_nats_server_require(&own);
    char url[256];
    snprintf(url, sizeof url, "%s", own.url);
    opts.reconnect_attempts = 1;
    opts.reconnect_wait_ms = 50;
    assert_int_equal(lk_nats_bus_connect(&f->bus, url, &opts, &err), LK_OK);

    spec_log_capture_start();
    spec_nats_server_stop(&own);
    spec_log_wait("reconnect attempts exhausted", 5000);
    bool logged = spec_log_contains("reconnect attempts exhausted") &&
                  spec_log_contains(url);
    lk_status s = lk_bus_publish(f->bus, f->subject, "1", 1, NULL, &err);
    lk_status drained = lk_bus_drain(f->bus, NULL);
    spec_log_capture_stop();

    assert_true(logged);
    assert_int_equal(s, LK_ERR_CLOSED);
    assert_non_null(strstr(err.message, "is closed"));
    assert_non_null(strstr(err.message, url));
    assert_int_equal(drained, LK_OK);
}

static void test_after_the_server_comes_back_publishing_works_again(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    spec_nats_server own;
    lk_nats_opts opts = f->opts;

    spec_nats_server_spawn(&own);
    spec_nats_server_require(&own);
    opts.reconnect_attempts = -1;
    opts.reconnect_wait_ms = 100;
    assert_int_equal(lk_nats_bus_connect(&f->bus, own.url, &opts, &err), LK_OK);
    assert_int_equal(lk_bus_publish(f->bus, f->subject, "1", 1, NULL, &err), LK_OK);

    spec_log_capture_start();
    bool restarted = spec_nats_server_restart(&own);
    spec_log_wait("reconnected to", 5000);
    bool logged = spec_log_contains("disconnected from") &&
                  spec_log_contains("reconnected to");
    lk_status s = LK_ERR_IO;
    /* JetStream may need a moment after the listener is back */
    for (int i = 0; i < 50 && s != LK_OK; i++) {
        s = lk_bus_publish(f->bus, f->subject, "2", 1, NULL, &err);
        if (s != LK_OK)
            spec_sleep_ms(100);
    }
    lk_bus_free(f->bus);
    f->bus = NULL;
    spec_log_capture_stop();
    int64_t stored = spec_nats_stream_msgs(own.url, f->stream);
    spec_nats_server_stop(&own);

    assert_true(restarted);
    assert_true(logged);
    assert_int_equal(s, LK_OK);
    assert_int_equal(stored, 2); /* the store survived the restart */
}

typedef struct long_handler {
    int calls;
    lk_status progress;
} long_handler;

/* Works 3 x 200 ms on a 300 ms ack wait, saying so in between. */
static void works_long(lk_msg *msg, void *closure)
{
    long_handler *h = closure;
    __atomic_add_fetch(&h->calls, 1, __ATOMIC_SEQ_CST);
    for (int i = 0; i < 2; i++) {
        spec_sleep_ms(200);
        lk_status s = lk_msg_in_progress(msg);
        if (s != LK_OK)
            h->progress = s;
    }
    spec_sleep_ms(200);
    lk_msg_ack(msg);
}

static void test_in_progress_keeps_a_long_handlers_message_from_coming_again(void **state)
{
    fixture *f = *state;
    lk_error err = {0};
    long_handler h = {0, LK_OK};
    lk_subscribe_opts opts = {.queue_group = "long", .ack_wait_ms = 300};
    connect_bus(f);
    assert_int_equal(lk_bus_subscribe(f->bus, f->subject, &opts, works_long, &h, &err),
                     LK_OK);
    assert_int_equal(lk_bus_publish(f->bus, f->subject, "1", 1, NULL, &err), LK_OK);
    spec_sleep_ms(1500);
    assert_int_equal(lk_bus_drain(f->bus, &err), LK_OK);
    assert_int_equal(__atomic_load_n(&h.calls, __ATOMIC_SEQ_CST), 1);
    assert_int_equal(h.progress, LK_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_connect_to_a_port_with_nothing_listening_is_an_io_error_naming_the_url),
        T(test_connect_rejects_a_url_that_is_not_nats),
        T(test_connect_rejects_bad_options_naming_the_option),
        T(test_well_formed_urls_get_as_far_as_the_network),
        T(test_connect_with_every_plain_option_works_on_an_open_server),
        T(test_a_url_list_whose_first_server_is_down_connects_to_the_next),
        T(test_a_ca_file_without_certificates_is_an_error_naming_the_option),
        T(test_a_credentials_file_that_is_not_one_fails_the_connect),
        T(test_connect_without_an_out_pointer_is_invalid),
        T(test_connect_without_url_uses_nats_url_from_the_environment),
        T(test_a_url_without_port_and_no_url_at_all_go_to_the_default_port),
        T(test_connect_without_options_uses_the_defaults),
        T(test_a_server_without_jetstream_is_refused_at_connect),
        T(test_is_nats_tells_the_adapter_from_other_buses),
        T(test_publish_returns_once_the_server_stored_the_message),
        T(test_publish_with_the_same_msg_id_is_stored_once),
        T(test_publish_adds_each_new_subject_to_the_stream),
        T(test_a_subject_another_stream_owns_is_an_error_naming_it),
        T(test_a_stream_made_by_hand_that_captures_the_subject_is_used_as_is),
        T(test_a_subject_another_stream_owns_is_not_added_to_ours),
        T(test_a_payload_nats_cannot_carry_is_too_large),
        T(test_a_message_over_the_servers_max_payload_is_too_large),
        T(test_a_stream_deleted_behind_the_bus_is_made_again),
        T(test_subscribe_without_options_gets_only_later_messages),
        T(test_subscribe_rejects_a_durable_name_jetstream_cannot_use),
        T(test_a_wildcard_subscription_is_unsupported_and_changes_no_stream),
        T(test_a_durable_consumer_belongs_to_one_queue_group),
        T(test_a_drained_bus_refuses_publish_and_subscribe),
        T(test_drain_lets_a_running_handler_finish),
        T(test_drain_delivers_what_a_finishing_handler_sent),
        T(test_drain_gives_up_on_a_stuck_handler_after_its_timeout),
        T(test_publish_while_disconnected_fails_fast_and_is_logged),
        T(test_a_connection_that_gives_up_reconnecting_behaves_as_closed),
        T(test_after_the_server_comes_back_publishing_works_again),
        T(test_in_progress_keeps_a_long_handlers_message_from_coming_again),
#undef T
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
