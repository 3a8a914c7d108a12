/* SPDX-License-Identifier: MIT */
/*
 * event_fields_spec.c — the field kinds a real service's schemas need
 * beyond plain types: string enums (one_of), ObjectId fields (24 hex
 * digits, read with lk_event_oid), and nested objects described by their
 * field list alone (no nested lk_schema, no dummy subject). Each refusal
 * names the subject, the field path and what was wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "listenkit.h"
#include "lk_assert.h"

static const char *const statuses[] = {"created", "cancelled",
                                       "awaiting:payment", "complete", NULL};
static const lk_field ticket_ref[] = {
    {.name = "id", .type = LK_FIELD_OBJECTID, .required = true},
    {.name = "price", .type = LK_FIELD_NUMBER},
    LK_FIELD_END};
static const lk_field order_fields[] = {
    {.name = "id", .type = LK_FIELD_OBJECTID, .required = true},
    {.name = "status", .type = LK_FIELD_STRING, .required = true,
     .one_of = statuses},
    {.name = "ticket", .type = LK_FIELD_OBJECT, .required = true,
     .fields = ticket_ref, .strict = true},
    {.name = "loose", .type = LK_FIELD_OBJECT, .fields = ticket_ref},
    LK_FIELD_END};
static const lk_schema order_created = {.subject = "order:created",
                                        .fields = order_fields};

#define ID "5f1d7f1e2a3b4c5d6e7f8091"

/* Decodes `json`; on LK_OK frees the event, on refusal copies the message. */
static lk_status decode(const char *json, lk_error *err)
{
    json_t *v = NULL;
    lk_error_clear(err);
    lk_status s = lk_event_decode(&order_created, json, strlen(json), &v, err);
    json_decref(v);
    return s;
}

static void assert_refused(const char *json, const char *message)
{
    lk_error err;
    assert_lk_status(decode(json, &err), LK_ERR_INVALID, &err);
    assert_string_equal(err.message, message);
}

static void test_a_listed_status_passes(void **state)
{
    (void)state;
    lk_error err;
    assert_lk_ok(decode("{\"id\":\"" ID "\",\"status\":\"awaiting:payment\","
                        "\"ticket\":{\"id\":\"" ID "\"}}",
                        &err),
                 &err);
}

static void test_a_status_outside_the_enum_names_the_allowed_values(void **state)
{
    (void)state;
    assert_refused("{\"id\":\"" ID "\",\"status\":\"shipped\","
                   "\"ticket\":{\"id\":\"" ID "\"}}",
                   "order:created: field \"status\": \"shipped\" is not one "
                   "of \"created\", \"cancelled\", \"awaiting:payment\", "
                   "\"complete\"");
}

static void test_an_objectid_must_be_24_hex_digits(void **state)
{
    (void)state;
    assert_refused("{\"id\":\"abc\",\"status\":\"created\","
                   "\"ticket\":{\"id\":\"" ID "\"}}",
                   "order:created: field \"id\": expected a 24-character hex "
                   "ObjectId, got \"abc\"");
    assert_refused("{\"id\":\"5f1d7f1e2a3b4c5d6e7f809g\",\"status\":\"created\","
                   "\"ticket\":{\"id\":\"" ID "\"}}",
                   "order:created: field \"id\": expected a 24-character hex "
                   "ObjectId, got \"5f1d7f1e2a3b4c5d6e7f809g\"");
    assert_refused("{\"id\":7,\"status\":\"created\","
                   "\"ticket\":{\"id\":\"" ID "\"}}",
                   "order:created: field \"id\": expected ObjectId, got "
                   "integer");
    lk_error err;
    assert_lk_ok(decode("{\"id\":\"5F1D7F1E2A3B4C5D6E7F8091\",\"status\":"
                        "\"created\",\"ticket\":{\"id\":\"" ID "\"}}",
                        &err),
                 &err);
}

static void test_nested_fields_are_checked_without_a_nested_schema(void **state)
{
    (void)state;
    assert_refused("{\"id\":\"" ID "\",\"status\":\"created\",\"ticket\":{}}",
                   "order:created: field \"ticket.id\": required ObjectId is "
                   "missing");
    assert_refused("{\"id\":\"" ID "\",\"status\":\"created\",\"ticket\":"
                   "{\"id\":\"" ID "\",\"title\":\"x\"}}",
                   "order:created: field \"ticket.title\": unknown field (the "
                   "schema is strict)");
    /* not strict: unlisted members pass, listed ones are still checked */
    lk_error err;
    assert_lk_ok(decode("{\"id\":\"" ID "\",\"status\":\"created\",\"ticket\":"
                        "{\"id\":\"" ID "\"},\"loose\":{\"id\":\"" ID "\","
                        "\"extra\":1}}",
                        &err),
                 &err);
    assert_refused("{\"id\":\"" ID "\",\"status\":\"created\",\"ticket\":"
                   "{\"id\":\"" ID "\"},\"loose\":{\"id\":\"" ID "\","
                   "\"price\":\"ten\"}}",
                   "order:created: field \"loose.price\": expected number, "
                   "got string");
}

static void test_encode_refuses_what_decode_refuses(void **state)
{
    (void)state;
    json_t *ev = json_pack("{s:s, s:s, s:{s:s}}", "id", ID, "status", "lost",
                           "ticket", "id", ID);
    char *out = NULL;
    lk_error err;
    assert_lk_status(lk_event_encode(&order_created, ev, &out, NULL, &err),
                     LK_ERR_INVALID);
    assert_null(out);
    assert_non_null(strstr(err.message, "\"lost\" is not one of"));
    json_decref(ev);
}

static void test_event_oid_reads_an_objectid_field_and_names_a_bad_one(void **state)
{
    (void)state;
    json_t *ev = json_pack("{s:s, s:{s:s}, s:i}", "id", ID, "ticket", "id",
                           "nope", "n", 1);
    bson_oid_t oid;
    char hex[25];
    lk_error err;
    assert_lk_ok(lk_event_oid(ev, "id", &oid, &err), &err);
    lk_oid_format(&oid, hex);
    assert_string_equal(hex, ID);
    assert_lk_status(lk_event_oid(ev, "ticket.id", &oid, &err), LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "field \"ticket.id\": id: expected a "
                                        "24-character hex ObjectId"));
    assert_lk_status(lk_event_oid(ev, "n", &oid, &err), LK_ERR_INVALID);
    assert_string_equal(err.message, "field \"n\": expected an ObjectId string");
    assert_lk_status(lk_event_oid(ev, NULL, &oid, &err), LK_ERR_INVALID);
    assert_string_equal(lk_field_type_str(LK_FIELD_OBJECTID), "ObjectId");
    json_decref(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_listed_status_passes),
        cmocka_unit_test(test_a_status_outside_the_enum_names_the_allowed_values),
        cmocka_unit_test(test_an_objectid_must_be_24_hex_digits),
        cmocka_unit_test(test_nested_fields_are_checked_without_a_nested_schema),
        cmocka_unit_test(test_encode_refuses_what_decode_refuses),
        cmocka_unit_test(test_event_oid_reads_an_objectid_field_and_names_a_bad_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
