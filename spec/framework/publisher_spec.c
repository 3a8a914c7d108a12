/* SPDX-License-Identifier: MIT */
/* publisher_spec.c — lk_publish validates, encodes (sorted, compact) and
 * publishes on the schema's subject; invalid events never reach the bus, and
 * bus failures come back with the subject in the message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "listenkit.h"

/* A spec-local bus that keeps a copy of the last published message. */
typedef struct rec_bus {
    lk_bus base;
    int publishes;
    char subject[64];
    char data[256];
    size_t len;
    const char *msg_id;
    lk_status fail;
    const char *fail_text;
} rec_bus;

static lk_status bus_publish(lk_bus *bus, const char *subject,
                             const void *data, size_t len,
                             const lk_publish_opts *opts, lk_error *err)
{
    rec_bus *b = (rec_bus *)bus;
    if (b->fail != LK_OK)
        return lk_error_set(err, b->fail, "%s", b->fail_text);
    b->publishes++;
    snprintf(b->subject, sizeof b->subject, "%s", subject);
    snprintf(b->data, sizeof b->data, "%.*s", (int)len, (const char *)data);
    b->len = len;
    b->msg_id = opts != NULL ? opts->msg_id : NULL;
    return LK_OK;
}

static lk_status bus_subscribe(lk_bus *bus, const char *subject,
                               const lk_subscribe_opts *opts,
                               lk_msg_handler handler, void *closure,
                               lk_error *err)
{
    (void)bus, (void)subject, (void)opts, (void)handler, (void)closure;
    return lk_error_set(err, LK_ERR_UNSUPPORTED, "not in this spec");
}

static lk_status bus_drain(lk_bus *bus, lk_error *err)
{
    (void)bus, (void)err;
    return LK_OK;
}
static void bus_free(lk_bus *bus) { (void)bus; }
static const lk_bus_ops rec_ops = {"rec", bus_publish, bus_subscribe,
                                   bus_drain, bus_free, NULL};

static const lk_field fields[] = {
    {.name = "id", .type = LK_FIELD_STRING, .required = true},
    {.name = "version", .type = LK_FIELD_INTEGER, .required = true},
    {.name = "price", .type = LK_FIELD_NUMBER, .required = true},
    LK_FIELD_END};
static const lk_schema ticket_updated = {.subject = "ticket:updated",
                                         .fields = fields};

static json_t *event(const char *json)
{
    json_t *v = json_loads(json, 0, NULL);
    assert_non_null(v);
    return v;
}

static void assert_message_has(const lk_error *err, const char *needle)
{
    if (strstr(err->message, needle) == NULL)
        fail_msg("error message \"%s\" does not contain \"%s\"", err->message,
                 needle);
}

static void test_publishes_on_schema_subject_as_sorted_compact_json(void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops};
    json_t *v = event("{ \"version\": 2, \"price\": 15, \"id\": \"t1\" }");
    lk_error err;
    assert_int_equal(lk_publish(&b.base, &ticket_updated, v, &err), LK_OK);
    assert_int_equal(b.publishes, 1);
    assert_string_equal(b.subject, "ticket:updated");
    assert_string_equal(b.data, "{\"id\":\"t1\",\"price\":15,\"version\":2}");
    assert_int_equal(b.len, strlen(b.data));
    assert_null(b.msg_id);
    json_decref(v);
}

static void test_publish_with_passes_options_to_the_bus(void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops};
    json_t *v = event("{\"version\":0,\"price\":1,\"id\":\"t\"}");
    lk_publish_opts opts = {.msg_id = "ticket:updated:t:0"};
    assert_int_equal(
        lk_publish_with(&b.base, &ticket_updated, v, &opts, NULL), LK_OK);
    assert_string_equal(b.msg_id, "ticket:updated:t:0");
    json_decref(v);
}

static void test_invalid_event_is_refused_and_nothing_published(void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops};
    json_t *v = event("{\"id\":\"t\",\"version\":\"2\",\"price\":1}");
    lk_error err;
    assert_int_equal(lk_publish(&b.base, &ticket_updated, v, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "ticket:updated: field \"version\": expected "
                             "integer, got string");
    assert_int_equal(b.publishes, 0);
    json_decref(v);
}

static void test_missing_field_is_refused_without_error_out(void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops};
    json_t *v = event("{\"id\":\"t\",\"version\":2}");
    assert_int_equal(lk_publish(&b.base, &ticket_updated, v, NULL),
                     LK_ERR_INVALID);
    assert_int_equal(b.publishes, 0);
    json_decref(v);
}

static void test_bus_failure_propagates_with_subject(void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops, .fail = LK_ERR_TIMEOUT,
                 .fail_text = "no publish ack within 2000 ms"};
    json_t *v = event("{\"id\":\"t\",\"version\":2,\"price\":1}");
    lk_error err;
    assert_int_equal(lk_publish(&b.base, &ticket_updated, v, &err),
                     LK_ERR_TIMEOUT);
    assert_int_equal(err.status, LK_ERR_TIMEOUT);
    assert_string_equal(err.message, "publish ticket:updated: no publish ack "
                                     "within 2000 ms");
    json_decref(v);
}

static void test_bus_error_naming_the_subject_is_not_prefixed_twice(void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops, .fail = LK_ERR_CLOSED,
                 .fail_text = "publish ticket:updated: bus is closed"};
    json_t *v = event("{\"id\":\"t\",\"version\":2,\"price\":1}");
    lk_error err;
    assert_int_equal(lk_publish(&b.base, &ticket_updated, v, &err),
                     LK_ERR_CLOSED);
    assert_string_equal(err.message, "publish ticket:updated: bus is closed");
    json_decref(v);
}

static void test_refuses_null_client_schema_and_data(void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops};
    json_t *v = event("{\"id\":\"t\",\"version\":2,\"price\":1}");
    lk_error err;
    assert_int_equal(lk_publish(NULL, &ticket_updated, v, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "publish ticket:updated: client is NULL");
    assert_int_equal(lk_publish(&b.base, NULL, v, &err), LK_ERR_INVALID);
    assert_message_has(&err, "schema");
    assert_int_equal(lk_publish(&b.base, &ticket_updated, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "ticket:updated: event data is NULL");
    assert_int_equal(b.publishes, 0);
    json_decref(v);
}

static void test_schema_with_invalid_subject_is_refused_by_the_bus(void **state)
{
    (void)state;
    static const lk_schema bad = {.subject = "ticket updated",
                                  .fields = fields};
    rec_bus b = {.base.ops = &rec_ops};
    json_t *v = event("{\"id\":\"t\",\"version\":2,\"price\":1}");
    lk_error err;
    assert_int_equal(lk_publish(&b.base, &bad, v, &err), LK_ERR_INVALID);
    assert_message_has(&err, "invalid subject \"ticket updated\"");
    assert_int_equal(b.publishes, 0);
    json_decref(v);
}

static void test_publish_async_validates_then_hands_the_event_to_the_batch(
    void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops};
    json_t *v = event("{ \"version\": 2, \"price\": 15, \"id\": \"t1\" }");
    json_t *bad = event("{\"id\":\"t\",\"version\":\"2\",\"price\":1}");
    lk_batch *batch = NULL;
    lk_publish_opts opts = {.msg_id = "ticket:updated:t1:2"};
    lk_error err;
    assert_int_equal(lk_batch_new(&b.base, NULL, &batch, &err), LK_OK);
    assert_int_equal(lk_publish_async(batch, &ticket_updated, v, &opts, &err),
                     LK_OK);
    assert_int_equal(lk_publish_async(batch, &ticket_updated, bad, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "field \"version\"");
    assert_int_equal(lk_batch_wait(batch, 0, &err), LK_OK);
    assert_int_equal(lk_batch_published(batch), 1); /* the invalid one: none */
    assert_int_equal(lk_batch_acked(batch), 1);
    assert_string_equal(b.data, "{\"id\":\"t1\",\"price\":15,\"version\":2}");
    assert_string_equal(b.msg_id, "ticket:updated:t1:2");
    assert_int_equal(lk_publish_async(NULL, &ticket_updated, v, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "publish ticket:updated: batch is NULL");
    lk_batch_free(batch);
    json_decref(v);
    json_decref(bad);
}

static void test_publish_async_failures_are_the_batchs_outcome(void **state)
{
    (void)state;
    rec_bus b = {.base.ops = &rec_ops, .fail = LK_ERR_TIMEOUT,
                 .fail_text = "publish ticket:updated: no ack within 5 ms"};
    json_t *v = event("{\"id\":\"t\",\"version\":2,\"price\":1}");
    lk_batch *batch = NULL;
    lk_error err;
    assert_int_equal(lk_batch_new(&b.base, NULL, &batch, &err), LK_OK);
    assert_int_equal(lk_publish_async(batch, &ticket_updated, v, NULL, &err),
                     LK_OK);
    assert_int_equal(lk_batch_wait(batch, 0, &err), LK_ERR_TIMEOUT);
    assert_message_has(&err, "1 of 1 messages failed");
    assert_string_equal(lk_batch_failure_at(batch, 0)->subject,
                        "ticket:updated");
    lk_batch_free(batch);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publishes_on_schema_subject_as_sorted_compact_json),
        cmocka_unit_test(test_publish_with_passes_options_to_the_bus),
        cmocka_unit_test(test_invalid_event_is_refused_and_nothing_published),
        cmocka_unit_test(test_missing_field_is_refused_without_error_out),
        cmocka_unit_test(test_bus_failure_propagates_with_subject),
        cmocka_unit_test(test_bus_error_naming_the_subject_is_not_prefixed_twice),
        cmocka_unit_test(test_refuses_null_client_schema_and_data),
        cmocka_unit_test(test_schema_with_invalid_subject_is_refused_by_the_bus),
        cmocka_unit_test(test_publish_async_validates_then_hands_the_event_to_the_batch),
        cmocka_unit_test(test_publish_async_failures_are_the_batchs_outcome),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
