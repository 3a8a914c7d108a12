/* SPDX-License-Identifier: MIT */
/* bus_spec.c — the lk_bus wrappers: they refuse what no implementation
 * could handle (NULL bus, malformed subject, NULL handler, negative
 * options) before the ops table is called, and forward everything else
 * unchanged, wildcard subscriptions included. A tiny
 * spec-local bus records the calls that got through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "listenkit.h"

typedef struct rec_bus {
    lk_bus base;
    int publishes, subscribes, drains, frees;
    const char *subject;
    const void *data;
    size_t len;
    const lk_publish_opts *popts;
    lk_subscribe_opts sopts;
    lk_msg_handler handler;
    void *closure;
    lk_status fail; /* what the next op returns */
} rec_bus;

static lk_status rec_publish(lk_bus *bus, const char *subject,
                             const void *data, size_t len,
                             const lk_publish_opts *opts, lk_error *err)
{
    rec_bus *b = (rec_bus *)bus;
    b->publishes++;
    b->subject = subject;
    b->data = data;
    b->len = len;
    b->popts = opts;
    return b->fail == LK_OK ? LK_OK
                            : lk_error_set(err, b->fail, "rec: failed");
}

static lk_status rec_subscribe(lk_bus *bus, const char *subject,
                               const lk_subscribe_opts *opts,
                               lk_msg_handler handler, void *closure,
                               lk_error *err)
{
    rec_bus *b = (rec_bus *)bus;
    b->subscribes++;
    b->subject = subject;
    b->sopts = *opts;
    b->handler = handler;
    b->closure = closure;
    return b->fail == LK_OK ? LK_OK
                            : lk_error_set(err, b->fail, "rec: failed");
}

static lk_status rec_drain(lk_bus *bus, lk_error *err)
{
    rec_bus *b = (rec_bus *)bus;
    b->drains++;
    return b->fail == LK_OK ? LK_OK
                            : lk_error_set(err, b->fail, "rec: drain failed");
}

static void rec_free(lk_bus *bus) { ((rec_bus *)bus)->frees++; }

static const lk_bus_ops rec_ops = {"rec", rec_publish, rec_subscribe,
                                   rec_drain, rec_free, NULL};

static void handler(lk_msg *msg, void *closure)
{
    (void)msg;
    (void)closure;
}

static void assert_message_has(const lk_error *err, const char *needle)
{
    if (strstr(err->message, needle) == NULL)
        fail_msg("error message \"%s\" does not contain \"%s\"", err->message,
                 needle);
}

/* ---- subject and name rules ------------------------------------------------------ */

/* Fails naming the first text `rule` judges wrongly; NULL is never valid. */
static void assert_rule(bool (*rule)(const char *), const char *const *good,
                        size_t n_good, const char *const *bad, size_t n_bad)
{
    for (size_t i = 0; i < n_good; i++)
        if (!rule(good[i]))
            fail_msg("\"%s\" should be valid", good[i]);
    for (size_t i = 0; i < n_bad; i++)
        if (rule(bad[i]))
            fail_msg("\"%s\" should be invalid", bad[i]);
    assert_false(rule(NULL));
}

#define ASSERT_RULE(rule, good, bad)                                        \
    assert_rule(rule, good, sizeof good / sizeof good[0], bad,              \
                sizeof bad / sizeof bad[0])

static void test_subject_validity_follows_nats_rules(void **state)
{
    (void)state;
    static const char *const good[] = {"ticket:created", "a",
                                       "orders.v1.created", "x-y_z", "UPPER"};
    static const char *const bad[] = {"",    "a b", "a\tb", "a..b",
                                      ".a",  "a.",  "a.*",  "a.>",
                                      "*",   ">",   "a\x7f", "caf\xc3\xa9"};
    ASSERT_RULE(lk_subject_is_valid, good, bad);
}

static void test_subscription_subjects_may_use_whole_token_wildcards(void **state)
{
    (void)state;
    static const char *const good[] = {"ticket:created", "orders.*",
                                       "orders.>",       "*",
                                       ">",              "*.created",
                                       "a.*.c.>"};
    static const char *const bad[] = {"",    "a..b", "a.>.b", ">.a",
                                      "a*",  "a>",   "*a.b",  "a.",
                                      ".a",  "a b",  "a.*\x7f",
                                      "caf\xc3\xa9.*"};
    ASSERT_RULE(lk_subject_filter_is_valid, good, bad);
}

/* ---- publish ------------------------------------------------------------------- */

static void test_publish_forwards_arguments(void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops};
    lk_publish_opts opts = {.msg_id = "m1"};
    lk_error err;
    assert_int_equal(
        lk_bus_publish(&b.base, "ticket:created", "{}", 2, &opts, &err),
        LK_OK);
    assert_int_equal(b.publishes, 1);
    assert_string_equal(b.subject, "ticket:created");
    assert_int_equal(b.len, 2);
    assert_memory_equal(b.data, "{}", 2);
    assert_ptr_equal(b.popts, &opts);
}

static void test_publish_refuses_null_bus(void **state)
{
    (void)state;
    lk_error err;
    assert_int_equal(lk_bus_publish(NULL, "s", "{}", 2, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "publish: bus is NULL");
    lk_bus no_ops = {.ops = NULL};
    assert_int_equal(lk_bus_publish(&no_ops, "s", "{}", 2, NULL, &err),
                     LK_ERR_INVALID);
}

static void test_publish_refuses_invalid_subject_naming_it(void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops};
    lk_error err;
    assert_int_equal(lk_bus_publish(&b.base, "a b", "{}", 2, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "invalid subject \"a b\"");
    assert_int_equal(lk_bus_publish(&b.base, NULL, "{}", 2, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "invalid subject \"(null)\"");
    assert_int_equal(b.publishes, 0);
}

static void test_publish_refuses_null_data_with_length(void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops};
    lk_error err;
    assert_int_equal(lk_bus_publish(&b.base, "s", NULL, 3, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "publish s: data is NULL but length is 3");
    assert_int_equal(b.publishes, 0);
}

static void test_publish_allows_empty_message(void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops};
    assert_int_equal(lk_bus_publish(&b.base, "s", NULL, 0, NULL, NULL), LK_OK);
    assert_int_equal(b.publishes, 1);
}

static void test_publish_returns_implementation_error(void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops, .fail = LK_ERR_TIMEOUT};
    lk_error err;
    assert_int_equal(lk_bus_publish(&b.base, "s", "x", 1, NULL, &err),
                     LK_ERR_TIMEOUT);
    assert_message_has(&err, "rec: failed");
}

/* ---- subscribe ----------------------------------------------------------------- */

static void test_subscribe_forwards_options_handler_and_closure(void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops};
    int closure;
    lk_subscribe_opts opts = {.queue_group = "orders-service",
                              .durable_name = "orders",
                              .ack_wait_ms = 250,
                              .max_deliver = 4,
                              .deliver_all = true};
    assert_int_equal(lk_bus_subscribe(&b.base, "ticket:created", &opts,
                                      handler, &closure, NULL),
                     LK_OK);
    assert_int_equal(b.subscribes, 1);
    assert_string_equal(b.subject, "ticket:created");
    assert_string_equal(b.sopts.queue_group, "orders-service");
    assert_string_equal(b.sopts.durable_name, "orders");
    assert_int_equal(b.sopts.ack_wait_ms, 250);
    assert_int_equal(b.sopts.max_deliver, 4);
    assert_true(b.sopts.deliver_all);
    assert_ptr_equal(b.handler, handler);
    assert_ptr_equal(b.closure, &closure);
}

static void test_subscribe_with_null_options_passes_zero_defaults(void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops};
    assert_int_equal(
        lk_bus_subscribe(&b.base, "s", NULL, handler, NULL, NULL), LK_OK);
    assert_int_equal(b.subscribes, 1);
    assert_null(b.sopts.queue_group);
    assert_int_equal(b.sopts.ack_wait_ms, 0);
    assert_false(b.sopts.deliver_all);
}

static void test_subscribe_refuses_bad_arguments(void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops};
    lk_error err;
    lk_subscribe_opts neg_wait = {.ack_wait_ms = -1};
    lk_subscribe_opts neg_max = {.max_deliver = -2};
    lk_subscribe_opts neg_pending = {.max_ack_pending = -4};
    lk_subscribe_opts bad_group = {.queue_group = "orders service"};

    assert_int_equal(lk_bus_subscribe(NULL, "s", NULL, handler, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "subscribe: bus is NULL");
    assert_int_equal(
        lk_bus_subscribe(&b.base, "a.>.b", NULL, handler, NULL, &err),
        LK_ERR_INVALID);
    assert_message_has(&err, "subscribe: invalid subject \"a.>.b\"");
    assert_int_equal(
        lk_bus_subscribe(&b.base, NULL, NULL, handler, NULL, &err),
        LK_ERR_INVALID);
    assert_message_has(&err, "invalid subject \"(null)\"");
    assert_int_equal(lk_bus_subscribe(&b.base, "s", NULL, NULL, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "subscribe s: handler is NULL");
    assert_int_equal(
        lk_bus_subscribe(&b.base, "s", &neg_wait, handler, NULL, &err),
        LK_ERR_INVALID);
    assert_message_has(&err, "ack_wait_ms must be >= 0, got -1");
    assert_int_equal(
        lk_bus_subscribe(&b.base, "s", &neg_max, handler, NULL, &err),
        LK_ERR_INVALID);
    assert_message_has(&err, "max_deliver must be >= 0, got -2");
    assert_int_equal(
        lk_bus_subscribe(&b.base, "s", &neg_pending, handler, NULL, &err),
        LK_ERR_INVALID);
    assert_message_has(&err, "subscribe s: max_ack_pending must be >= 0, got -4");
    assert_int_equal(
        lk_bus_subscribe(&b.base, "s", &bad_group, handler, NULL, &err),
        LK_ERR_INVALID);
    assert_message_has(&err, "invalid queue group \"orders service\"");
    assert_int_equal(b.subscribes, 0);
}

static void test_subscribe_leaves_wildcards_to_the_implementation(void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops};
    assert_int_equal(
        lk_bus_subscribe(&b.base, "orders.>", NULL, handler, NULL, NULL),
        LK_OK);
    assert_int_equal(b.subscribes, 1);
    assert_string_equal(b.subject, "orders.>");
    b.fail = LK_ERR_UNSUPPORTED; /* an implementation without wildcards */
    lk_error err;
    assert_int_equal(
        lk_bus_subscribe(&b.base, "orders.*", NULL, handler, NULL, &err),
        LK_ERR_UNSUPPORTED);
    assert_message_has(&err, "rec: failed");
}

/* JetStream takes both as names, so the wrapper refuses for every bus what
 * the server would: naming which one, and the name. */
static void test_subscribe_refuses_names_jetstream_cannot_use(void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops};
    static const struct {
        lk_subscribe_opts opts;
        const char *named;
    } bad[] = {
        {{.queue_group = "orders.service"},
         "subscribe s: invalid queue group \"orders.service\""},
        {{.queue_group = "orders.service", .durable_name = "orders"},
         "subscribe s: invalid queue group \"orders.service\""},
        {{.durable_name = "bad name"},
         "subscribe s: invalid durable name \"bad name\""},
        {{.durable_name = "", .queue_group = "orders"},
         "subscribe s: invalid durable name \"\""},
        {{.durable_name = "a/b"}, "invalid durable name \"a/b\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lk_error err = {0};
        assert_int_equal(lk_bus_subscribe(&b.base, "s", &bad[i].opts, handler,
                                          NULL, &err),
                         LK_ERR_INVALID);
        assert_message_has(&err, bad[i].named);
        assert_message_has(&err, "JetStream names have no spaces");
    }
    assert_int_equal(b.subscribes, 0);
}

/* ---- drain and free -------------------------------------------------------------- */

static void test_drain_forwards_and_refuses_null(void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops};
    lk_error err;
    assert_int_equal(lk_bus_drain(&b.base, &err), LK_OK);
    assert_int_equal(b.drains, 1);
    assert_int_equal(lk_bus_drain(NULL, &err), LK_ERR_INVALID);
    assert_message_has(&err, "drain: bus is NULL");
    b.fail = LK_ERR_CLOSED;
    assert_int_equal(lk_bus_drain(&b.base, &err), LK_ERR_CLOSED);
    assert_message_has(&err, "drain failed");
}

static void test_free_calls_implementation_and_accepts_null(void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops};
    lk_bus_free(NULL);
    lk_bus_free(&b.base);
    assert_int_equal(b.frees, 1);
}

static void test_jetstream_names_refuse_separators_wildcards_and_non_ascii(void **state)
{
    (void)state;
    static const char *const good[] = {"ORDERS", "orders-service", "a_b", "x"};
    static const char *const bad[] = {"",      "orders.service", "a b", "a*",
                                      "a>",    "a/b",            "a\\b",
                                      "tab\t", "\x7f",           "\xc3\xa9"};
    ASSERT_RULE(lk_jetstream_name_is_valid, good, bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subject_validity_follows_nats_rules),
        cmocka_unit_test(test_subscription_subjects_may_use_whole_token_wildcards),
        cmocka_unit_test(test_publish_forwards_arguments),
        cmocka_unit_test(test_publish_refuses_null_bus),
        cmocka_unit_test(test_publish_refuses_invalid_subject_naming_it),
        cmocka_unit_test(test_publish_refuses_null_data_with_length),
        cmocka_unit_test(test_publish_allows_empty_message),
        cmocka_unit_test(test_publish_returns_implementation_error),
        cmocka_unit_test(test_subscribe_forwards_options_handler_and_closure),
        cmocka_unit_test(test_subscribe_with_null_options_passes_zero_defaults),
        cmocka_unit_test(test_subscribe_refuses_bad_arguments),
        cmocka_unit_test(test_subscribe_leaves_wildcards_to_the_implementation),
        cmocka_unit_test(test_subscribe_refuses_names_jetstream_cannot_use),
        cmocka_unit_test(test_drain_forwards_and_refuses_null),
        cmocka_unit_test(test_free_calls_implementation_and_accepts_null),
        cmocka_unit_test(test_jetstream_names_refuse_separators_wildcards_and_non_ascii),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
