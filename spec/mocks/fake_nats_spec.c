/* SPDX-License-Identifier: MIT */
/*
 * fake_nats_spec.c — the fake NATS client in recording mode: what a service
 * published, what it subscribed to, injected failures, and the closed bus.
 * (Delivery is specified in fake_broker_spec.c.)
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_nats.h"
#include "listenkit.h"
#include "spec_log.h"

static int setup(void **state)
{
    *state = lk_fake_nats_new();
    return *state != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    lk_fake_nats_free(*state);
    return 0;
}

static lk_status publish_text(lk_fake_nats *nats, const char *subject,
                              const char *text, lk_error *err)
{
    return lk_bus_publish(lk_fake_nats_bus(nats), subject, text, strlen(text),
                          NULL, err);
}

static int handler_calls;
static void count_handler(lk_msg *msg, void *closure)
{
    (void)msg;
    (void)closure;
    handler_calls++;
}

static void test_publish_is_recorded_with_subject_bytes_and_json(void **state)
{
    lk_fake_nats *nats = *state;
    lk_error err;
    assert_int_equal(publish_text(nats, "ticket:created",
                                  "{\"id\":\"t1\",\"price\":20}", &err),
                     LK_OK);
    assert_int_equal(lk_fake_nats_published_count(nats), 1);
    assert_string_equal(lk_fake_nats_published_subject(nats, 0),
                        "ticket:created");
    size_t len = 0;
    const char *data = lk_fake_nats_published_data(nats, 0, &len);
    assert_string_equal(data, "{\"id\":\"t1\",\"price\":20}");
    assert_int_equal(len, strlen(data));
    const json_t *ev = lk_fake_nats_published_json(nats, 0);
    assert_non_null(ev);
    assert_string_equal(json_string_value(json_object_get(ev, "id")), "t1");
    assert_int_equal(json_integer_value(json_object_get(ev, "price")), 20);
    assert_int_equal(lk_fake_nats_get_stats(nats).published, 1);
}

static void test_published_data_is_a_copy(void **state)
{
    lk_fake_nats *nats = *state;
    char text[] = "{\"v\":1}";
    assert_int_equal(publish_text(nats, "s", text, NULL), LK_OK);
    text[5] = '9';
    assert_string_equal(lk_fake_nats_published_data(nats, 0, NULL),
                        "{\"v\":1}");
}

static void test_non_json_publish_keeps_bytes_and_has_no_json(void **state)
{
    lk_fake_nats *nats = *state;
    const char raw[] = {'a', '\0', 'b'};
    assert_int_equal(lk_bus_publish(lk_fake_nats_bus(nats), "raw", raw,
                                    sizeof raw, NULL, NULL),
                     LK_OK);
    size_t len = 0;
    const char *data = lk_fake_nats_published_data(nats, 0, &len);
    assert_int_equal(len, sizeof raw);
    assert_memory_equal(data, raw, sizeof raw);
    assert_int_equal(data[len], '\0');
    assert_null(lk_fake_nats_published_json(nats, 0));
}

static void test_published_json_is_the_same_value_on_every_read(void **state)
{
    lk_fake_nats *nats = *state;
    publish_text(nats, "a", "{\"v\":1}", NULL);
    publish_text(nats, "b", "not json", NULL);
    publish_text(nats, "c", "42", NULL); /* any JSON value, not only objects */
    const json_t *first = lk_fake_nats_published_json(nats, 0);
    assert_non_null(first);
    /* a read is cached: the same value, not a fresh parse per call */
    assert_ptr_equal(lk_fake_nats_published_json(nats, 0), first);
    assert_int_equal(json_integer_value(json_object_get(first, "v")), 1);
    assert_null(lk_fake_nats_published_json(nats, 1));
    assert_null(lk_fake_nats_published_json(nats, 1));
    assert_int_equal(json_integer_value(lk_fake_nats_published_json(nats, 2)),
                     42);
    /* a publish after a read gets its own value */
    publish_text(nats, "a", "{\"v\":2}", NULL);
    assert_int_equal(json_integer_value(json_object_get(
                         lk_fake_nats_published_json(nats, 3), "v")),
                     2);
    assert_ptr_equal(lk_fake_nats_published_json(nats, 0), first);
}

static void test_out_of_range_index_gives_null(void **state)
{
    lk_fake_nats *nats = *state;
    size_t len = 99;
    assert_null(lk_fake_nats_published_subject(nats, 0));
    assert_null(lk_fake_nats_published_data(nats, 3, &len));
    assert_int_equal(len, 0);
    assert_null(lk_fake_nats_published_json(nats, 0));
    assert_null(lk_fake_nats_subscription(nats, 0));
    assert_int_equal(lk_fake_nats_published_count(NULL), 0);
    assert_null(lk_fake_nats_published_subject(NULL, 0));
}

static void test_find_published_by_subject_from_an_index(void **state)
{
    lk_fake_nats *nats = *state;
    publish_text(nats, "ticket:created", "{}", NULL);
    publish_text(nats, "ticket:updated", "{\"version\":1}", NULL);
    publish_text(nats, "ticket:updated", "{\"version\":2}", NULL);
    assert_int_equal(lk_fake_nats_find_published(nats, "ticket:updated", 0), 1);
    assert_int_equal(lk_fake_nats_find_published(nats, "ticket:updated", 2), 2);
    assert_int_equal(lk_fake_nats_find_published(nats, "ticket:updated", 3), -1);
    assert_int_equal(lk_fake_nats_find_published(nats, "order:created", 0), -1);
    assert_int_equal(lk_fake_nats_published_count_on(nats, "ticket:updated"), 2);
    assert_int_equal(lk_fake_nats_published_count_on(nats, "ticket:created"), 1);
    assert_int_equal(lk_fake_nats_published_count_on(nats, "nope"), 0);
}

static void test_reset_forgets_published_records(void **state)
{
    lk_fake_nats *nats = *state;
    publish_text(nats, "a", "{}", NULL);
    publish_text(nats, "b", "{}", NULL);
    lk_fake_nats_reset(nats);
    assert_int_equal(lk_fake_nats_published_count(nats), 0);
    assert_null(lk_fake_nats_published_subject(nats, 0));
    publish_text(nats, "c", "{}", NULL);
    assert_int_equal(lk_fake_nats_published_count(nats), 1);
    assert_string_equal(lk_fake_nats_published_subject(nats, 0), "c");
}

static void test_fail_next_publish_fails_once_and_records_nothing(void **state)
{
    lk_fake_nats *nats = *state;
    lk_error err;
    lk_fake_nats_fail_next_publish(nats, LK_ERR_TIMEOUT);
    assert_int_equal(publish_text(nats, "order:created", "{}", &err),
                     LK_ERR_TIMEOUT);
    assert_int_equal(err.status, LK_ERR_TIMEOUT);
    assert_non_null(strstr(err.message, "order:created"));
    assert_non_null(strstr(err.message, "injected"));
    assert_int_equal(lk_fake_nats_published_count(nats), 0);
    assert_int_equal(publish_text(nats, "order:created", "{}", &err), LK_OK);
    assert_int_equal(lk_fake_nats_published_count(nats), 1);
}

static void test_fail_subject_fails_every_publish_there_until_lifted(void **state)
{
    lk_fake_nats *nats = *state;
    lk_error err;
    lk_fake_nats_fail_subject(nats, "ticket:updated", LK_ERR_IO);
    assert_int_equal(publish_text(nats, "ticket:updated", "{}", &err),
                     LK_ERR_IO);
    assert_non_null(strstr(err.message, "ticket:updated"));
    assert_int_equal(publish_text(nats, "ticket:updated", "{}", NULL),
                     LK_ERR_IO);
    assert_int_equal(publish_text(nats, "ticket:created", "{}", NULL), LK_OK);
    assert_int_equal(lk_fake_nats_published_count(nats), 1);
    lk_fake_nats_fail_subject(nats, "ticket:updated", LK_OK);
    assert_int_equal(publish_text(nats, "ticket:updated", "{}", NULL), LK_OK);
    assert_int_equal(lk_fake_nats_published_count_on(nats, "ticket:updated"), 1);
}

static void test_fail_subject_can_change_status_and_ignores_null(void **state)
{
    lk_fake_nats *nats = *state;
    lk_fake_nats_fail_subject(nats, "a", LK_ERR_IO);
    lk_fake_nats_fail_subject(nats, "b", LK_ERR_IO);
    lk_fake_nats_fail_subject(nats, "b", LK_ERR_TIMEOUT); /* replaces */
    lk_fake_nats_fail_subject(nats, NULL, LK_ERR_IO);     /* ignored */
    lk_fake_nats_fail_subject(nats, "c", LK_OK);          /* nothing to lift */
    assert_int_equal(publish_text(nats, "b", "{}", NULL), LK_ERR_TIMEOUT);
    lk_fake_nats_fail_subject(nats, "b", LK_OK);
    assert_int_equal(publish_text(nats, "b", "{}", NULL), LK_OK);
    assert_int_equal(publish_text(nats, "a", "{}", NULL), LK_ERR_IO);
    assert_int_equal(publish_text(nats, "c", "{}", NULL), LK_OK);
    lk_fake_nats_fail_next_publish(NULL, LK_ERR_IO); /* ignored */
    lk_fake_nats_fail_subject(NULL, "a", LK_ERR_IO);
    lk_fake_nats_reset(NULL);
    assert_int_equal(lk_fake_nats_find_published(nats, NULL, 0), -1);
    assert_int_equal(lk_fake_nats_published_count_on(nats, NULL), 0);
    assert_int_equal(lk_fake_nats_subscription_count(NULL), 0);
    assert_false(lk_fake_nats_has_subscription(nats, NULL, NULL));
}

static void test_subscriptions_are_recorded_with_their_options(void **state)
{
    lk_fake_nats *nats = *state;
    lk_bus *bus = lk_fake_nats_bus(nats);
    lk_subscribe_opts qo = {.queue_group = "orders-service",
                            .durable_name = "orders-durable",
                            .ack_wait_ms = 2000,
                            .max_deliver = 5,
                            .deliver_all = true};
    assert_int_equal(lk_bus_subscribe(bus, "ticket:created", &qo,
                                      count_handler, NULL, NULL),
                     LK_OK);
    assert_int_equal(lk_bus_subscribe(bus, "ticket:updated", NULL,
                                      count_handler, NULL, NULL),
                     LK_OK);
    assert_int_equal(lk_fake_nats_subscription_count(nats), 2);
    const lk_fake_subscription_info *a = lk_fake_nats_subscription(nats, 0);
    assert_string_equal(a->subject, "ticket:created");
    assert_string_equal(a->queue_group, "orders-service");
    assert_string_equal(a->durable_name, "orders-durable");
    assert_int_equal(a->ack_wait_ms, 2000);
    assert_int_equal(a->max_deliver, 5);
    assert_true(a->deliver_all);
    const lk_fake_subscription_info *b = lk_fake_nats_subscription(nats, 1);
    assert_string_equal(b->subject, "ticket:updated");
    assert_null(b->queue_group);
    assert_null(b->durable_name);
    assert_int_equal(b->ack_wait_ms, LK_DEFAULT_ACK_WAIT_MS);
    assert_int_equal(b->max_deliver, 0);
    assert_false(b->deliver_all);
    assert_true(lk_fake_nats_has_subscription(nats, "ticket:created",
                                              "orders-service"));
    assert_true(lk_fake_nats_has_subscription(nats, "ticket:updated", NULL));
    assert_false(lk_fake_nats_has_subscription(nats, "ticket:created", NULL));
    assert_false(lk_fake_nats_has_subscription(nats, "ticket:updated",
                                               "orders-service"));
    assert_false(lk_fake_nats_has_subscription(nats, "order:created", NULL));
}

static void test_recording_mode_never_delivers(void **state)
{
    lk_fake_nats *nats = *state;
    handler_calls = 0;
    lk_bus_subscribe(lk_fake_nats_bus(nats), "a", NULL, count_handler, NULL,
                     NULL);
    publish_text(nats, "a", "{}", NULL);
    assert_false(lk_fake_nats_step(nats));
    assert_int_equal(lk_fake_nats_advance(nats, 60000), 0);
    assert_int_equal(lk_fake_nats_run_until_idle(nats, 0), 0);
    assert_int_equal(handler_calls, 0);
    assert_int_equal(lk_fake_nats_get_stats(nats).delivered, 0);
}

static void test_wildcard_subscription_is_unsupported(void **state)
{
    lk_fake_nats *nats = *state;
    lk_bus *bus = lk_fake_nats_bus(nats);
    lk_error err;
    assert_int_equal(lk_bus_subscribe(bus, "ticket.*", NULL, count_handler,
                                      NULL, &err),
                     LK_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "ticket.*"));
    assert_non_null(strstr(err.message, "wildcard"));
    assert_int_equal(lk_bus_subscribe(bus, "ticket.>", NULL, count_handler,
                                      NULL, &err),
                     LK_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "ticket.>"));
    assert_int_equal(lk_fake_nats_subscription_count(nats), 0);
}

static void test_names_jetstream_cannot_use_are_refused(void **state)
{
    lk_fake_nats *nats = *state;
    static const struct {
        lk_subscribe_opts opts;
        const char *named;
    } bad[] = {
        {{.durable_name = ""}, "invalid durable name \"\""},
        {{.durable_name = "bad.name"}, "invalid durable name \"bad.name\""},
        {{.durable_name = "bad name"}, "invalid durable name \"bad name\""},
        {{.durable_name = "a/b", .queue_group = "ok"}, "\"a/b\""},
        {{.queue_group = "orders.service"}, "invalid queue group \"orders.service\""},
        /* libnats checks the queue group as a name even beside a durable */
        {{.queue_group = "orders.service", .durable_name = "orders"},
         "invalid queue group \"orders.service\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lk_error err = {0};
        assert_int_equal(lk_bus_subscribe(lk_fake_nats_bus(nats), "a",
                                          &bad[i].opts, count_handler, NULL,
                                          &err),
                         LK_ERR_INVALID);
        assert_non_null(strstr(err.message, bad[i].named));
    }
    assert_int_equal(lk_fake_nats_subscription_count(nats), 0);
    lk_subscribe_opts fine = {.queue_group = "orders-service",
                              .durable_name = "orders_1"};
    assert_int_equal(lk_bus_subscribe(lk_fake_nats_bus(nats), "a", &fine,
                                      count_handler, NULL, NULL),
                     LK_OK);
}

static void test_a_publish_over_the_max_payload_is_too_large(void **state)
{
    lk_fake_nats *nats = *state;
    size_t len = LK_FAKE_NATS_MAX_PAYLOAD;
    char *big = calloc(1, len + 1);
    assert_non_null(big);
    lk_error err = {0};
    assert_int_equal(lk_bus_publish(lk_fake_nats_bus(nats), "big", big,
                                    len + 1, NULL, &err),
                     LK_ERR_TOO_LARGE);
    assert_non_null(strstr(err.message, "big"));
    assert_non_null(strstr(err.message, "max payload"));
    assert_int_equal(lk_fake_nats_published_count(nats), 0);
    /* exactly the limit is fine */
    assert_int_equal(lk_bus_publish(lk_fake_nats_bus(nats), "big", big, len,
                                    NULL, &err),
                     LK_OK);
    assert_int_equal(lk_fake_nats_published_count(nats), 1);
    assert_int_equal(lk_fake_nats_get_stats(nats).published, 1);
    free(big);
}

static void test_drained_bus_refuses_publish_and_subscribe(void **state)
{
    lk_fake_nats *nats = *state;
    lk_bus *bus = lk_fake_nats_bus(nats);
    lk_error err;
    assert_int_equal(lk_bus_drain(bus, NULL), LK_OK);
    assert_int_equal(lk_bus_drain(bus, NULL), LK_OK); /* twice is fine */
    assert_int_equal(publish_text(nats, "a", "{}", &err), LK_ERR_CLOSED);
    assert_non_null(strstr(err.message, "drained"));
    assert_int_equal(lk_bus_subscribe(bus, "a", NULL, count_handler, NULL,
                                      &err),
                     LK_ERR_CLOSED);
    assert_non_null(strstr(err.message, "subscribe a"));
    assert_int_equal(lk_fake_nats_published_count(nats), 0);
    assert_int_equal(lk_fake_nats_subscription_count(nats), 0);
}

static void test_bus_face_leads_back_to_the_fake(void **state)
{
    lk_fake_nats *nats = *state;
    lk_bus *bus = lk_fake_nats_bus(nats);
    assert_non_null(bus);
    assert_string_equal(bus->ops->name, "fake-nats");
    assert_ptr_equal(lk_fake_nats_from_bus(bus), nats);
    assert_null(lk_fake_nats_from_bus(NULL));
    static const lk_bus_ops other_ops = {.name = "other"};
    lk_bus other = {&other_ops};
    assert_null(lk_fake_nats_from_bus(&other));
    assert_null(lk_fake_nats_bus(NULL));
}

static void test_bus_free_releases_the_fake(void **state)
{
    (void)state;
    lk_fake_nats *nats = lk_fake_nats_new();
    publish_text(nats, "a", "{\"x\":1}", NULL);
    lk_bus_subscribe(lk_fake_nats_bus(nats), "a",
                     &(lk_subscribe_opts){.queue_group = "q"}, count_handler,
                     NULL, NULL);
    lk_fake_nats_fail_subject(nats, "b", LK_ERR_IO);
    lk_bus_free(lk_fake_nats_bus(nats)); /* LSan proves nothing is left */
    lk_fake_nats_free(NULL);
    assert_null(lk_fake_nats_from_bus(NULL));
}

static void test_broker_options_check_names_a_duplicate_rate_outside_zero_to_one(void **state)
{
    (void)state;
    static const double bad[] = {1.5, -0.1, NAN};
    static const char *const named[] = {"got 1.5", "got -0.1", "got nan"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lk_fake_broker_opts opts = {.duplicate_rate = bad[i]};
        lk_error err = {0};
        assert_int_equal(lk_fake_broker_opts_check(&opts, &err),
                         LK_ERR_INVALID);
        assert_non_null(strstr(err.message, "duplicate_rate"));
        assert_non_null(strstr(err.message, named[i]));
    }
    lk_fake_broker_opts edges[] = {{.duplicate_rate = 0.0},
                                   {.duplicate_rate = 1.0}};
    assert_int_equal(lk_fake_broker_opts_check(&edges[0], NULL), LK_OK);
    assert_int_equal(lk_fake_broker_opts_check(&edges[1], NULL), LK_OK);
    assert_int_equal(lk_fake_broker_opts_check(NULL, NULL), LK_OK);
}

static void test_broker_refuses_bad_options_and_logs_why(void **state)
{
    (void)state;
    spec_log_capture_start();
    lk_log_set_level(LK_LOG_ERROR); /* keep only error lines */
    lk_fake_broker_opts bad = {.duplicate_rate = 1.5};
    lk_fake_nats *refused = lk_fake_nats_new_broker(&bad);
    lk_fake_broker_opts good = {.duplicate_rate = 1.0};
    lk_fake_nats *nats = lk_fake_nats_new_broker(&good);
    size_t lines = spec_log_line_count();
    bool named = spec_log_contains("duplicate_rate") &&
                 spec_log_contains("got 1.5");
    spec_log_capture_stop();
    lk_fake_nats_free(nats);
    assert_null(refused);
    assert_non_null(nats);
    assert_int_equal(lines, 1); /* the good one logs nothing */
    assert_true(named);
}

static void test_broker_mode_records_publishes_too(void **state)
{
    (void)state;
    lk_fake_nats *nats = lk_fake_nats_new_broker(NULL);
    publish_text(nats, "ticket:created", "{\"id\":\"x\"}", NULL);
    assert_int_equal(lk_fake_nats_published_count(nats), 1);
    assert_string_equal(
        json_string_value(json_object_get(lk_fake_nats_published_json(nats, 0),
                                          "id")),
        "x");
    lk_fake_nats_free(nats);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_publish_is_recorded_with_subject_bytes_and_json),
        T(test_published_data_is_a_copy),
        T(test_non_json_publish_keeps_bytes_and_has_no_json),
        T(test_published_json_is_the_same_value_on_every_read),
        T(test_out_of_range_index_gives_null),
        T(test_find_published_by_subject_from_an_index),
        T(test_reset_forgets_published_records),
        T(test_fail_next_publish_fails_once_and_records_nothing),
        T(test_fail_subject_fails_every_publish_there_until_lifted),
        T(test_fail_subject_can_change_status_and_ignores_null),
        T(test_subscriptions_are_recorded_with_their_options),
        T(test_recording_mode_never_delivers),
        T(test_wildcard_subscription_is_unsupported),
        T(test_names_jetstream_cannot_use_are_refused),
        T(test_a_publish_over_the_max_payload_is_too_large),
        T(test_drained_bus_refuses_publish_and_subscribe),
        T(test_bus_face_leads_back_to_the_fake),
        cmocka_unit_test(test_bus_free_releases_the_fake),
        cmocka_unit_test(test_broker_options_check_names_a_duplicate_rate_outside_zero_to_one),
        cmocka_unit_test(test_broker_refuses_bad_options_and_logs_why),
        cmocka_unit_test(test_broker_mode_records_publishes_too),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
