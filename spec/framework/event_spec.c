/* SPDX-License-Identifier: MIT */
/* event_spec.c — what a listener and a publisher rely on from event schemas:
 * bad bytes never get through decode, bad events never get out of encode,
 * and every refusal names the subject, the field and the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "listenkit.h"

/* ---- schemas under test ----------------------------------------------------- */

static const lk_field ticket_fields[] = {
    {.name = "id", .type = LK_FIELD_STRING, .required = true},
    {.name = "price", .type = LK_FIELD_NUMBER, .required = true,
     .has_range = true, .min = 0, .max = 1000000},
    LK_FIELD_END};
static const lk_schema ticket_ref = {.fields = ticket_fields};

static const lk_field order_fields[] = {
    {.name = "id", .type = LK_FIELD_STRING, .required = true,
     .max_length = 24},
    {.name = "version", .type = LK_FIELD_INTEGER, .required = true,
     .has_range = true, .min = 0, .max = INT64_MAX},
    {.name = "paid", .type = LK_FIELD_BOOLEAN, .required = true},
    {.name = "ticket", .type = LK_FIELD_OBJECT, .required = true,
     .object = &ticket_ref},
    {.name = "tags", .type = LK_FIELD_ARRAY},
    {.name = "meta", .type = LK_FIELD_OBJECT},
    {.name = "note", .type = LK_FIELD_STRING, .max_length = 10},
    LK_FIELD_END};
static const lk_schema order_created = {.subject = "order:created",
                                        .fields = order_fields};

static const lk_schema ticket_strict_ref = {.fields = ticket_fields,
                                            .strict = true};
static const lk_field strict_fields[] = {
    {.name = "id", .type = LK_FIELD_STRING, .required = true},
    {.name = "ticket", .type = LK_FIELD_OBJECT, .object = &ticket_strict_ref},
    LK_FIELD_END};
static const lk_schema strict_event = {.subject = "order:cancelled",
                                       .fields = strict_fields,
                                       .strict = true};

static const lk_field small_fields[] = {
    {.name = "id", .type = LK_FIELD_STRING}, LK_FIELD_END};
static const lk_schema small_limit = {.subject = "tiny:event",
                                      .fields = small_fields,
                                      .max_payload = 16};

#define GOOD_ORDER                                                            \
    "{\"id\":\"abc\",\"version\":3,\"paid\":false,"                           \
    "\"ticket\":{\"id\":\"t1\",\"price\":20.5}}"

/* ---- helpers ------------------------------------------------------------------- */

static void assert_message_has(const lk_error *err, const char *needle)
{
    if (strstr(err->message, needle) == NULL)
        fail_msg("error message \"%s\" does not contain \"%s\"", err->message,
                 needle);
}

/* Decodes `len` bytes that must be refused with `want`, a message naming
 * `needle`, and *out left NULL. */
static void refuse_bytes(const lk_schema *schema, const char *data, size_t len,
                         lk_status want, const char *needle)
{
    lk_error err;
    json_t *out = json_object(); /* must be overwritten with NULL */
    json_t *sentinel = out;
    lk_error_clear(&err);
    lk_status s = lk_event_decode(schema, data, len, &out, &err);
    json_decref(sentinel);
    if (s != want)
        fail_msg("decode of '%.60s' returned %s, expected %s (%s)",
                 data != NULL ? data : "(null)", lk_status_name(s),
                 lk_status_name(want), err.message);
    assert_int_equal(err.status, want);
    assert_null(out);
    assert_message_has(&err, needle);
}

static void refuse(const lk_schema *schema, const char *json, lk_status want,
                   const char *needle)
{
    refuse_bytes(schema, json, strlen(json), want, needle);
}

/* Both the subject and the problem: the user-facing format. */
static void refuse_order(const char *json, const char *needle)
{
    refuse(&order_created, json, LK_ERR_INVALID, needle);
    refuse(&order_created, json, LK_ERR_INVALID, "order:created: ");
}

static json_t *decode_ok(const lk_schema *schema, const char *json)
{
    lk_error err;
    json_t *out = NULL;
    lk_status s = lk_event_decode(schema, json, strlen(json), &out, &err);
    if (s != LK_OK)
        fail_msg("decode of '%s' failed: %s", json, err.message);
    assert_non_null(out);
    return out;
}

static json_t *load(const char *json)
{
    json_error_t je;
    json_t *v = json_loads(json, JSON_DECODE_ANY, &je);
    if (v == NULL)
        fail_msg("bad fixture '%s': %s", json, je.text);
    return v;
}

/* ---- decode: refusals, byte level ----------------------------------------------- */

static void test_decode_refuses_null_data(void **state)
{
    (void)state;
    refuse_bytes(&order_created, NULL, 10, LK_ERR_INVALID,
                 "order:created: empty payload");
}

static void test_decode_refuses_zero_length(void **state)
{
    (void)state;
    refuse_bytes(&order_created, "{}", 0, LK_ERR_INVALID, "empty payload");
}

static void test_decode_refuses_null_schema(void **state)
{
    (void)state;
    refuse(NULL, GOOD_ORDER, LK_ERR_INVALID, "schema");
}

static void test_decode_refuses_null_out(void **state)
{
    (void)state;
    lk_error err;
    assert_int_equal(lk_event_decode(&order_created, "{}", 2, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "out");
}

static void test_decode_refuses_payload_over_schema_limit(void **state)
{
    (void)state;
    refuse(&small_limit, "{\"id\":\"0123456789\"}", LK_ERR_TOO_LARGE,
           "tiny:event: payload of 19 bytes exceeds the limit of 16 bytes");
}

static void test_decode_accepts_payload_exactly_at_limit(void **state)
{
    (void)state;
    json_t *v = decode_ok(&small_limit, "{\"id\":\"0123456\"}"); /* 16 */
    assert_string_equal(lk_event_string(v, "id"), "0123456");
    json_decref(v);
}

static void test_decode_refuses_payload_over_default_limit(void **state)
{
    (void)state;
    size_t len = LK_DEFAULT_MAX_PAYLOAD + 1;
    char *big = malloc(len + 1);
    assert_non_null(big);
    /* {"note":"xxxx...x"} of exactly len bytes */
    memset(big, 'x', len);
    memcpy(big, "{\"note\":\"", 9);
    memcpy(big + len - 2, "\"}", 2);
    big[len] = '\0';
    refuse_bytes(&order_created, big, len, LK_ERR_TOO_LARGE,
                 "exceeds the limit of 1048576 bytes");
    free(big);
}

static void test_decode_refuses_truncated_json_with_position(void **state)
{
    (void)state;
    refuse_order("{\"id\": ", "invalid JSON at line 1, column 7 (byte 7)");
}

static void test_decode_reports_line_of_syntax_error(void **state)
{
    (void)state;
    refuse_order("{\n\"id\": \"a\",\n\"version\": 1,,\n}",
                 "invalid JSON at line 3");
}

static void test_decode_refuses_invalid_utf8(void **state)
{
    (void)state;
    refuse_order("{\"id\":\"caf\xc3\x28\"}", "invalid UTF-8 at line 1");
}

static void test_decode_refuses_embedded_nul_byte(void **state)
{
    (void)state;
    static const char bytes[] = "{\"id\":\0\"x\"}";
    refuse_bytes(&order_created, bytes, sizeof bytes - 1, LK_ERR_INVALID,
                 "NUL byte at byte 6");
}

static void test_decode_refuses_escaped_nul_in_string(void **state)
{
    (void)state;
    refuse_order("{\"id\":\"a\\u0000b\"}", "invalid JSON");
}

static void test_decode_refuses_trailing_garbage(void **state)
{
    (void)state;
    refuse_order(GOOD_ORDER " x", "end of file expected");
}

static void test_decode_refuses_two_objects(void **state)
{
    (void)state;
    refuse_order(GOOD_ORDER GOOD_ORDER, "end of file expected");
}

static void test_decode_refuses_duplicate_keys(void **state)
{
    (void)state;
    refuse_order("{\"id\":\"a\",\"id\":\"b\"}", "duplicate object key");
}

static void test_decode_refuses_top_level_array(void **state)
{
    (void)state;
    refuse_order("[1,2]", "expected a JSON object, got array");
}

static void test_decode_refuses_top_level_string(void **state)
{
    (void)state;
    refuse_order("\"hello\"", "expected a JSON object, got string");
}

static void test_decode_refuses_top_level_null(void **state)
{
    (void)state;
    refuse_order("null", "expected a JSON object, got null");
}

/* ---- decode: refusals, schema level ------------------------------------------------ */

static void test_decode_refuses_missing_required_field(void **state)
{
    (void)state;
    refuse_order("{\"id\":\"a\",\"paid\":true,\"ticket\":{\"id\":\"t\","
                 "\"price\":1}}",
                 "order:created: field \"version\": required integer is "
                 "missing");
}

static void test_decode_refuses_null_required_field(void **state)
{
    (void)state;
    refuse_order("{\"id\":null,\"version\":1,\"paid\":true,"
                 "\"ticket\":{\"id\":\"t\",\"price\":1}}",
                 "field \"id\": required string is null");
}

static void test_decode_refuses_string_for_integer(void **state)
{
    (void)state;
    refuse_order("{\"id\":\"a\",\"version\":\"1\",\"paid\":true,"
                 "\"ticket\":{\"id\":\"t\",\"price\":1}}",
                 "order:created: field \"version\": expected integer, got "
                 "string");
}

static void test_decode_refuses_real_for_integer(void **state)
{
    (void)state;
    refuse_order("{\"id\":\"a\",\"version\":1.5,\"paid\":true,"
                 "\"ticket\":{\"id\":\"t\",\"price\":1}}",
                 "field \"version\": expected integer, got real");
}

static void test_decode_refuses_number_for_boolean(void **state)
{
    (void)state;
    refuse_order("{\"id\":\"a\",\"version\":1,\"paid\":1,"
                 "\"ticket\":{\"id\":\"t\",\"price\":1}}",
                 "field \"paid\": expected boolean, got integer");
}

static void test_decode_refuses_integer_below_range(void **state)
{
    (void)state;
    refuse_order("{\"id\":\"a\",\"version\":-1,\"paid\":true,"
                 "\"ticket\":{\"id\":\"t\",\"price\":1}}",
                 "field \"version\": -1 is out of range [0, "
                 "9223372036854775807]");
}

static void test_decode_refuses_integer_beyond_int64(void **state)
{
    (void)state;
    refuse_order("{\"id\":\"a\",\"version\":9223372036854775808,"
                 "\"paid\":true,\"ticket\":{\"id\":\"t\",\"price\":1}}",
                 "order:created: field \"version\": integer out of range "
                 "(does not fit int64)");
    refuse_order("{\"version\" : 99999999999999999999 }",
                 "order:created: field \"version\": integer out of range");
}

static void test_decode_refuses_negative_integer_beyond_int64(void **state)
{
    (void)state;
    refuse_order("{\"id\":\"a\",\"version\":-9223372036854775809}",
                 "order:created: field \"version\": integer out of range "
                 "(does not fit int64)");
}

static void test_decode_names_the_member_key_of_a_nested_huge_integer(
    void **state)
{
    (void)state;
    refuse_order("{\"id\":\"a\",\"ticket\":{\"id\":\"t\",\n"
                 "  \"price\":\t99999999999999999999}}",
                 "field \"price\": integer out of range (does not fit "
                 "int64)");
}

static void test_decode_gives_the_position_of_a_huge_integer_in_an_array(
    void **state)
{
    (void)state;
    /* An element has no key to name: where it is, and what is wrong. */
    refuse_order("{\"tags\":[1, 99999999999999999999]}",
                 "order:created: invalid JSON at line 1, column 32 "
                 "(byte 32): too big integer");
    refuse_order("99999999999999999999",
                 "invalid JSON at line 1, column 20 (byte 20): too big "
                 "integer");
}

static void test_decode_keeps_the_position_when_the_key_has_escapes(
    void **state)
{
    (void)state;
    /* The key is not decoded by hand: the position message stays. */
    refuse_order("{\"ver\\\"sion\":99999999999999999999}",
                 "invalid JSON at line 1, column 33 (byte 33): too big "
                 "integer");
}

static void test_decode_refuses_real_number_above_range(void **state)
{
    (void)state;
    refuse_order("{\"id\":\"a\",\"version\":1,\"paid\":true,"
                 "\"ticket\":{\"id\":\"t\",\"price\":1000000.5}}",
                 "field \"ticket.price\": 1000000.5 is out of range [0, 1000000]");
}

static void test_decode_refuses_string_over_max_length(void **state)
{
    (void)state;
    refuse_order("{\"id\":\"0123456789012345678901234\",\"version\":1,"
                 "\"paid\":true,\"ticket\":{\"id\":\"t\",\"price\":1}}",
                 "field \"id\": string of 25 bytes is longer than max "
                 "length 24");
}

static void test_decode_refuses_wrong_type_in_optional_field(void **state)
{
    (void)state;
    refuse_order("{\"id\":\"a\",\"version\":1,\"paid\":true,"
                 "\"ticket\":{\"id\":\"t\",\"price\":1},\"tags\":{}}",
                 "field \"tags\": expected array, got object");
}

static void test_decode_refuses_optional_string_over_max_length(void **state)
{
    (void)state;
    refuse_order("{\"id\":\"a\",\"version\":1,\"paid\":true,"
                 "\"ticket\":{\"id\":\"t\",\"price\":1},"
                 "\"note\":\"eleven bytes\"}",
                 "field \"note\": string of 12 bytes is longer than max "
                 "length 10");
}

static void test_decode_names_nested_path_of_wrong_type(void **state)
{
    (void)state;
    refuse_order("{\"id\":\"a\",\"version\":1,\"paid\":true,"
                 "\"ticket\":{\"id\":\"t\",\"price\":\"10\"}}",
                 "order:created: field \"ticket.price\": expected number, "
                 "got string");
}

static void test_decode_names_nested_path_of_missing_field(void **state)
{
    (void)state;
    refuse_order("{\"id\":\"a\",\"version\":1,\"paid\":true,"
                 "\"ticket\":{\"price\":10}}",
                 "field \"ticket.id\": required string is missing");
}

/* Several problems: the first member met, in the payload's order, wins; a
 * missing required field comes after every member (see event.h). */
static void test_decode_reports_first_problem_in_member_order(void **state)
{
    (void)state;
    refuse_order("{\"version\":\"1\",\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
                 "\"paid\":true,\"ticket\":{\"id\":\"t\",\"price\":1}}",
                 "field \"version\": expected integer, got string");
    refuse_order("{\"version\":1,\"paid\":\"yes\","
                 "\"ticket\":{\"id\":\"t\",\"price\":1}}",
                 "field \"paid\": expected boolean, got string");
}

static void test_decode_refuses_array_for_nested_object(void **state)
{
    (void)state;
    refuse_order("{\"id\":\"a\",\"version\":1,\"paid\":true,\"ticket\":[]}",
                 "field \"ticket\": expected object, got array");
}

static void test_decode_refuses_unknown_field_when_strict(void **state)
{
    (void)state;
    refuse(&strict_event, "{\"id\":\"a\",\"extra\":1}", LK_ERR_INVALID,
           "order:cancelled: field \"extra\": unknown field (the schema is "
           "strict)");
}

static void test_decode_refuses_unknown_nested_field_when_strict(void **state)
{
    (void)state;
    refuse(&strict_event,
           "{\"id\":\"a\",\"ticket\":{\"id\":\"t\",\"price\":1,\"x\":2}}",
           LK_ERR_INVALID, "field \"ticket.x\": unknown field");
}

/* {"<key>":{"<key>":...{}...}} with `levels` objects in all. */
static char *nested_json(const char *key, int levels)
{
    size_t k = strlen(key);
    char *s = malloc((size_t)levels * (k + 5) + 1);
    size_t n = 0;
    assert_non_null(s);
    for (int i = 1; i < levels; i++) {
        s[n++] = '{';
        s[n++] = '"';
        memcpy(s + n, key, k);
        n += k;
        s[n++] = '"';
        s[n++] = ':';
    }
    s[n++] = '{';
    for (int i = 0; i < levels; i++)
        s[n++] = '}';
    s[n] = '\0';
    return s;
}

static void test_decode_refuses_nesting_deeper_than_limit(void **state)
{
    (void)state;
    char *deep = nested_json("a", LK_MAX_NESTING + 1);
    refuse(&order_created, deep, LK_ERR_INVALID,
           "nesting deeper than 32 levels");
    free(deep);
}

static void test_decode_accepts_nesting_at_limit(void **state)
{
    (void)state;
    static const lk_schema any = {.subject = "any:event"};
    char *deep = nested_json("a", LK_MAX_NESTING);
    json_t *v = decode_ok(&any, deep);
    assert_true(json_is_object(lk_event_get(v, "a.a.a")));
    json_decref(v);
    free(deep);
}

/* A schema may describe a tree by naming itself; the depth bound holds
 * along its fields too. */
static const lk_schema tree_event;
static const lk_field tree_fields[] = {
    {.name = "child", .type = LK_FIELD_OBJECT, .object = &tree_event},
    LK_FIELD_END};
static const lk_schema tree_event = {.subject = "tree:event",
                                     .fields = tree_fields};

static void test_decode_bounds_nesting_of_a_schema_that_names_itself(void **state)
{
    (void)state;
    char *ok = nested_json("child", LK_MAX_NESTING);
    json_t *v = decode_ok(&tree_event, ok);
    assert_true(json_is_object(lk_event_get(v, "child.child.child")));
    json_decref(v);
    free(ok);
    char *deep = nested_json("child", LK_MAX_NESTING + 1);
    refuse(&tree_event, deep, LK_ERR_INVALID,
           "tree:event: field \"child.child.child");
    refuse(&tree_event, deep, LK_ERR_INVALID, "nesting deeper than 32 levels");
    free(deep);
}

static void test_decode_refuses_deep_arrays_too(void **state)
{
    (void)state;
    char buf[2 * (LK_MAX_NESTING + 2) + 16];
    size_t n = 0;
    memcpy(buf, "{\"x\":", 5);
    n = 5;
    for (int i = 0; i < LK_MAX_NESTING; i++)
        buf[n++] = '[';
    for (int i = 0; i < LK_MAX_NESTING; i++)
        buf[n++] = ']';
    buf[n++] = '}';
    buf[n] = '\0';
    refuse(&order_created, buf, LK_ERR_INVALID, "nesting deeper than");
}

/* ---- decode: acceptance ---------------------------------------------------------- */

static void test_decode_accepts_valid_event_and_reads_it(void **state)
{
    (void)state;
    json_t *v = decode_ok(&order_created, GOOD_ORDER);
    assert_string_equal(lk_event_string(v, "id"), "abc");
    assert_int_equal(lk_event_int(v, "version"), 3);
    assert_false(lk_event_bool(v, "paid"));
    assert_string_equal(lk_event_string(v, "ticket.id"), "t1");
    assert_true(lk_event_number(v, "ticket.price") == 20.5);
    json_decref(v);
}

static void test_decode_accepts_absent_and_null_optional_fields(void **state)
{
    (void)state;
    json_t *v = decode_ok(&order_created,
                          "{\"id\":\"a\",\"version\":0,\"paid\":true,"
                          "\"ticket\":{\"id\":\"t\",\"price\":0},"
                          "\"note\":null}");
    assert_false(lk_event_has(v, "note"));
    assert_false(lk_event_has(v, "tags"));
    assert_null(lk_event_string(v, "note"));
    json_decref(v);
}

static void test_decode_accepts_integer_for_number(void **state)
{
    (void)state;
    json_t *v = decode_ok(&order_created,
                          "{\"id\":\"a\",\"version\":1,\"paid\":true,"
                          "\"ticket\":{\"id\":\"t\",\"price\":1000000}}");
    assert_true(lk_event_number(v, "ticket.price") == 1000000.0);
    json_decref(v);
}

static void test_decode_accepts_range_bounds(void **state)
{
    (void)state;
    json_t *v = decode_ok(&order_created,
                          "{\"id\":\"a\",\"version\":9223372036854775807,"
                          "\"paid\":true,\"ticket\":{\"id\":\"t\","
                          "\"price\":0}}");
    assert_true(lk_event_int(v, "version") == INT64_MAX);
    json_decref(v);
}

static void test_decode_ignores_unknown_fields_when_not_strict(void **state)
{
    (void)state;
    json_t *v = decode_ok(&order_created,
                          "{\"id\":\"a\",\"version\":1,\"paid\":true,"
                          "\"ticket\":{\"id\":\"t\",\"price\":1,\"x\":1},"
                          "\"future\":\"field\"}");
    assert_string_equal(lk_event_string(v, "future"), "field");
    json_decref(v);
}

static void test_decode_accepts_strict_event_with_listed_fields(void **state)
{
    (void)state;
    json_t *v = decode_ok(&strict_event,
                          "{\"id\":\"a\",\"ticket\":{\"id\":\"t\","
                          "\"price\":2}}");
    assert_string_equal(lk_event_string(v, "ticket.id"), "t");
    json_decref(v);
}

static void test_decode_accepts_multibyte_utf8(void **state)
{
    (void)state;
    json_t *v = decode_ok(&order_created,
                          "{\"id\":\"caf\xc3\xa9\",\"version\":1,"
                          "\"paid\":true,\"ticket\":{\"id\":\"t\","
                          "\"price\":1}}");
    assert_string_equal(lk_event_string(v, "id"), "caf\xc3\xa9");
    json_decref(v);
}

/* ---- validate ------------------------------------------------------------------------ */

static void test_validate_refuses_null_schema_and_data(void **state)
{
    (void)state;
    lk_error err;
    json_t *v = load("{}");
    assert_int_equal(lk_event_validate(NULL, v, &err), LK_ERR_INVALID);
    assert_message_has(&err, "schema is NULL");
    assert_int_equal(lk_event_validate(&order_created, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "order:created: event data is NULL");
    json_decref(v);
}

static void test_validate_refuses_nul_byte_inside_a_listed_array(void **state)
{
    (void)state;
    lk_error err;
    json_t *v = load("{\"id\":\"o\",\"version\":1,\"paid\":true,"
                     "\"ticket\":{\"id\":\"t\",\"price\":5},"
                     "\"tags\":[\"vip\"]}");
    assert_int_equal(lk_event_validate(&order_created, v, &err), LK_OK);
    json_array_append_new(json_object_get(v, "tags"), json_stringn("a\0b", 3));
    assert_int_equal(lk_event_validate(&order_created, v, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "field \"tags[1]\": string contains a NUL byte");
    json_decref(v);
}

/* A field type outside the enum (a schema built from bad data) matches no
 * value, and the message says so rather than accepting the field. */
static void test_validate_refuses_every_value_for_an_unknown_field_type(void **state)
{
    (void)state;
    static const lk_field odd_fields[] = {
        {.name = "id", .type = (lk_field_type)99}, LK_FIELD_END};
    static const lk_schema odd = {.subject = "odd:event", .fields = odd_fields};
    lk_error err;
    json_t *v = load("{\"id\":\"x\"}");
    assert_int_equal(lk_event_validate(&odd, v, &err), LK_ERR_INVALID);
    assert_message_has(&err, "field \"id\": expected unknown type, got string");
    json_decref(v);
}

static void test_validate_works_without_error_out(void **state)
{
    (void)state;
    json_t *v = load("{\"id\":1}");
    assert_int_equal(lk_event_validate(&order_created, v, NULL),
                     LK_ERR_INVALID);
    json_decref(v);
}

/* ---- encode -------------------------------------------------------------------------- */

static void test_encode_sorts_keys_compactly(void **state)
{
    (void)state;
    json_t *v = load("{ \"version\": 2, \"ticket\": {\"price\": 5, "
                     "\"id\": \"t\"}, \"paid\": true, \"id\": \"o\" }");
    char *out = NULL;
    size_t len = 0;
    lk_error err;
    assert_int_equal(lk_event_encode(&order_created, v, &out, &len, &err),
                     LK_OK);
    assert_string_equal(out, "{\"id\":\"o\",\"paid\":true,\"ticket\":"
                             "{\"id\":\"t\",\"price\":5},\"version\":2}");
    assert_int_equal(len, strlen(out));
    free(out);
    json_decref(v);
}

static void test_encode_then_decode_round_trips(void **state)
{
    (void)state;
    json_t *v = decode_ok(&order_created, GOOD_ORDER);
    char *out = NULL;
    assert_int_equal(lk_event_encode(&order_created, v, &out, NULL, NULL),
                     LK_OK);
    json_t *again = decode_ok(&order_created, out);
    assert_true(json_equal(v, again));
    free(out);
    json_decref(again);
    json_decref(v);
}

static void refuse_encode(const lk_schema *schema, const json_t *v,
                          lk_status want, const char *needle)
{
    char *out = (char *)"sentinel";
    size_t len = 99;
    lk_error err;
    lk_error_clear(&err);
    assert_int_equal(lk_event_encode(schema, v, &out, &len, &err), want);
    assert_int_equal(err.status, want);
    assert_null(out);
    assert_int_equal(len, 0);
    assert_message_has(&err, needle);
}

static void test_encode_refuses_missing_required_field(void **state)
{
    (void)state;
    json_t *v = load("{\"id\":\"o\",\"paid\":true,\"ticket\":{\"id\":\"t\","
                     "\"price\":5}}");
    refuse_encode(&order_created, v, LK_ERR_INVALID,
                  "order:created: field \"version\": required integer is "
                  "missing");
    json_decref(v);
}

static void test_encode_refuses_wrong_nested_type(void **state)
{
    (void)state;
    json_t *v = load("{\"id\":\"o\",\"version\":1,\"paid\":true,"
                     "\"ticket\":{\"id\":7,\"price\":5}}");
    refuse_encode(&order_created, v, LK_ERR_INVALID,
                  "field \"ticket.id\": expected string, got integer");
    json_decref(v);
}

static void test_encode_refuses_null_data(void **state)
{
    (void)state;
    refuse_encode(&order_created, NULL, LK_ERR_INVALID, "event data is NULL");
}

static void test_encode_refuses_non_object(void **state)
{
    (void)state;
    json_t *v = load("[]");
    refuse_encode(&order_created, v, LK_ERR_INVALID,
                  "expected a JSON object, got array");
    json_decref(v);
}

static void test_encode_refuses_string_with_nul_byte(void **state)
{
    (void)state;
    json_t *v = load("{\"id\":\"o\",\"version\":1,\"paid\":true,"
                     "\"ticket\":{\"id\":\"t\",\"price\":5}}");
    json_object_set_new(v, "note", json_stringn("a\0b", 3));
    refuse_encode(&order_created, v, LK_ERR_INVALID,
                  "field \"note\": string contains a NUL byte");
    json_decref(v);
}

/* jansson's allocator, failing: encode must report it, not crash. */
static void *no_memory(size_t size)
{
    (void)size;
    return NULL;
}

static void test_encode_reports_lack_of_memory(void **state)
{
    (void)state;
    json_t *v = load(GOOD_ORDER);
    lk_error err;
    char *out = (char *)"sentinel";
    size_t len = 7;
    json_set_alloc_funcs(no_memory, free);
    lk_status s = lk_event_encode(&order_created, v, &out, &len, &err);
    json_set_alloc_funcs(malloc, free);
    assert_int_equal(s, LK_ERR_NOMEM);
    assert_string_equal(err.message, "order:created: cannot encode the event");
    assert_null(out);
    assert_int_equal(len, 0);
    json_decref(v);
}

static void test_encode_refuses_unknown_field_when_strict(void **state)
{
    (void)state;
    json_t *v = load("{\"id\":\"o\",\"oops\":1}");
    refuse_encode(&strict_event, v, LK_ERR_INVALID,
                  "order:cancelled: field \"oops\": unknown field");
    json_decref(v);
}

static void test_encode_refuses_output_over_limit(void **state)
{
    (void)state;
    json_t *v = load("{\"id\":\"0123456789abcdef\"}");
    refuse_encode(&small_limit, v, LK_ERR_TOO_LARGE,
                  "tiny:event: encoded event of 25 bytes exceeds the limit "
                  "of 16 bytes");
    json_decref(v);
}

static void test_encode_refuses_null_out(void **state)
{
    (void)state;
    lk_error err;
    json_t *v = load("{}");
    assert_int_equal(lk_event_encode(&order_created, v, NULL, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "out must not be NULL");
    json_decref(v);
}

/* ---- getters and names ------------------------------------------------------------- */

static void test_getters_fall_back_for_absent_or_other_types(void **state)
{
    (void)state;
    json_t *v = load("{\"s\":\"x\",\"i\":5,\"r\":2.5,\"b\":true,"
                     "\"o\":{\"n\":null}}");
    assert_null(lk_event_string(v, "i"));
    assert_null(lk_event_string(v, "missing"));
    assert_int_equal(lk_event_int(v, "s"), 0);
    assert_int_equal(lk_event_int(v, "r"), 0); /* a real is no integer */
    assert_true(lk_event_number(v, "i") == 5.0);
    assert_true(lk_event_number(v, "s") == 0.0);
    assert_true(lk_event_bool(v, "b"));
    assert_false(lk_event_bool(v, "i"));
    assert_null(lk_event_get(v, "s.deeper")); /* through a non-object */
    assert_null(lk_event_get(v, "o.n.x"));
    assert_false(lk_event_has(v, "o.n"));     /* null counts as absent */
    assert_true(lk_event_has(v, "o"));
    assert_null(lk_event_get(NULL, "s"));
    assert_null(lk_event_get(v, NULL));
    assert_null(lk_event_get(v, "o."));       /* empty last segment */
    json_decref(v);
}

static void test_getters_read_dotted_paths(void **state)
{
    (void)state;
    json_t *v = load("{\"a\":{\"b\":{\"c\":42}}}");
    assert_int_equal(lk_event_int(v, "a.b.c"), 42);
    assert_true(json_is_object(lk_event_get(v, "a.b")));
    json_decref(v);
}

static void test_type_names_are_human(void **state)
{
    (void)state;
    assert_string_equal(lk_field_type_str(LK_FIELD_STRING), "string");
    assert_string_equal(lk_field_type_str(LK_FIELD_INTEGER), "integer");
    assert_string_equal(lk_field_type_str(LK_FIELD_NUMBER), "number");
    assert_string_equal(lk_field_type_str(LK_FIELD_BOOLEAN), "boolean");
    assert_string_equal(lk_field_type_str(LK_FIELD_OBJECT), "object");
    assert_string_equal(lk_field_type_str(LK_FIELD_ARRAY), "array");
    assert_string_equal(lk_field_type_str((lk_field_type)99), "unknown type");

    json_t *v = load("{\"o\":{},\"a\":[],\"s\":\"\",\"i\":1,\"r\":1.0,"
                     "\"t\":true,\"f\":false,\"n\":null}");
    const char *want[][2] = {{"o", "object"}, {"a", "array"},
                             {"s", "string"}, {"i", "integer"},
                             {"r", "real"},   {"t", "boolean"},
                             {"f", "boolean"}, {"n", "null"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_string_equal(lk_json_type_str(json_object_get(v, want[i][0])),
                            want[i][1]);
    assert_string_equal(lk_json_type_str(NULL), "nothing");
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_refuses_null_data),
        cmocka_unit_test(test_decode_refuses_zero_length),
        cmocka_unit_test(test_decode_refuses_null_schema),
        cmocka_unit_test(test_decode_refuses_null_out),
        cmocka_unit_test(test_decode_refuses_payload_over_schema_limit),
        cmocka_unit_test(test_decode_accepts_payload_exactly_at_limit),
        cmocka_unit_test(test_decode_refuses_payload_over_default_limit),
        cmocka_unit_test(test_decode_refuses_truncated_json_with_position),
        cmocka_unit_test(test_decode_reports_line_of_syntax_error),
        cmocka_unit_test(test_decode_refuses_invalid_utf8),
        cmocka_unit_test(test_decode_refuses_embedded_nul_byte),
        cmocka_unit_test(test_decode_refuses_escaped_nul_in_string),
        cmocka_unit_test(test_decode_refuses_trailing_garbage),
        cmocka_unit_test(test_decode_refuses_two_objects),
        cmocka_unit_test(test_decode_refuses_duplicate_keys),
        cmocka_unit_test(test_decode_refuses_top_level_array),
        cmocka_unit_test(test_decode_refuses_top_level_string),
        cmocka_unit_test(test_decode_refuses_top_level_null),
        cmocka_unit_test(test_decode_refuses_missing_required_field),
        cmocka_unit_test(test_decode_refuses_null_required_field),
        cmocka_unit_test(test_decode_refuses_string_for_integer),
        cmocka_unit_test(test_decode_refuses_real_for_integer),
        cmocka_unit_test(test_decode_refuses_number_for_boolean),
        cmocka_unit_test(test_decode_refuses_integer_below_range),
        cmocka_unit_test(test_decode_refuses_integer_beyond_int64),
        cmocka_unit_test(test_decode_refuses_negative_integer_beyond_int64),
        cmocka_unit_test(
            test_decode_names_the_member_key_of_a_nested_huge_integer),
        cmocka_unit_test(
            test_decode_gives_the_position_of_a_huge_integer_in_an_array),
        cmocka_unit_test(
            test_decode_keeps_the_position_when_the_key_has_escapes),
        cmocka_unit_test(test_decode_refuses_real_number_above_range),
        cmocka_unit_test(test_decode_refuses_string_over_max_length),
        cmocka_unit_test(test_decode_refuses_wrong_type_in_optional_field),
        cmocka_unit_test(test_decode_refuses_optional_string_over_max_length),
        cmocka_unit_test(test_decode_names_nested_path_of_wrong_type),
        cmocka_unit_test(test_decode_names_nested_path_of_missing_field),
        cmocka_unit_test(test_decode_reports_first_problem_in_member_order),
        cmocka_unit_test(test_decode_refuses_array_for_nested_object),
        cmocka_unit_test(test_decode_refuses_unknown_field_when_strict),
        cmocka_unit_test(test_decode_refuses_unknown_nested_field_when_strict),
        cmocka_unit_test(test_decode_refuses_nesting_deeper_than_limit),
        cmocka_unit_test(test_decode_accepts_nesting_at_limit),
        cmocka_unit_test(test_decode_bounds_nesting_of_a_schema_that_names_itself),
        cmocka_unit_test(test_decode_refuses_deep_arrays_too),
        cmocka_unit_test(test_decode_accepts_valid_event_and_reads_it),
        cmocka_unit_test(test_decode_accepts_absent_and_null_optional_fields),
        cmocka_unit_test(test_decode_accepts_integer_for_number),
        cmocka_unit_test(test_decode_accepts_range_bounds),
        cmocka_unit_test(test_decode_ignores_unknown_fields_when_not_strict),
        cmocka_unit_test(test_decode_accepts_strict_event_with_listed_fields),
        cmocka_unit_test(test_decode_accepts_multibyte_utf8),
        cmocka_unit_test(test_validate_refuses_null_schema_and_data),
        cmocka_unit_test(test_validate_refuses_nul_byte_inside_a_listed_array),
        cmocka_unit_test(test_validate_refuses_every_value_for_an_unknown_field_type),
        cmocka_unit_test(test_validate_works_without_error_out),
        cmocka_unit_test(test_encode_sorts_keys_compactly),
        cmocka_unit_test(test_encode_then_decode_round_trips),
        cmocka_unit_test(test_encode_refuses_missing_required_field),
        cmocka_unit_test(test_encode_refuses_wrong_nested_type),
        cmocka_unit_test(test_encode_refuses_null_data),
        cmocka_unit_test(test_encode_refuses_non_object),
        cmocka_unit_test(test_encode_refuses_string_with_nul_byte),
        cmocka_unit_test(test_encode_reports_lack_of_memory),
        cmocka_unit_test(test_encode_refuses_unknown_field_when_strict),
        cmocka_unit_test(test_encode_refuses_output_over_limit),
        cmocka_unit_test(test_encode_refuses_null_out),
        cmocka_unit_test(test_getters_fall_back_for_absent_or_other_types),
        cmocka_unit_test(test_getters_read_dotted_paths),
        cmocka_unit_test(test_type_names_are_human),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
