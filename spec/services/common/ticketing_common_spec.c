/* SPDX-License-Identifier: MIT */
/* ticketing_common_spec.c — what both services' listeners and commands lean
 * on from common/ticketing.h: reading ids out of events, terming events that
 * can never be processed, reading stored documents, checking text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/ticketing.h"
#include "ticketing_spec.h"

static void test_event_oid_reads_a_nested_object_id(void **state)
{
    (void)state;
    bson_oid_t oid;
    char hex[25];
    json_t *ev = json_pack("{s:{s:s}}", "ticket", "id",
                           "5f1a2b3c4d5e6f7a8b9c0d1e");
    assert_int_equal(ticketing_event_oid(ev, "ticket.id", &oid, NULL), LK_OK);
    lk_oid_format(&oid, hex);
    assert_string_equal(hex, "5f1a2b3c4d5e6f7a8b9c0d1e");
    json_decref(ev);
}

static void test_event_oid_refuses_an_absent_or_non_string_id(void **state)
{
    (void)state;
    bson_oid_t oid;
    lk_error e;
    json_t *ev = json_pack("{s:i}", "id", 7);
    ticketing_spec_assert_refused(ticketing_event_oid(ev, "id", &oid, &e), &e,
                                  LK_ERR_INVALID, "field \"id\"");
    ticketing_spec_assert_refused(
        ticketing_event_oid(ev, "ticket.id", &oid, &e), &e, LK_ERR_INVALID,
        "field \"ticket.id\"");
    json_decref(ev);
}

static void test_event_oid_refuses_text_that_is_no_object_id(void **state)
{
    (void)state;
    bson_oid_t oid;
    lk_error e;
    json_t *ev = json_pack("{s:s}", "orderId", "order-42");
    ticketing_spec_assert_refused(ticketing_event_oid(ev, "orderId", &oid, &e),
                                  &e, LK_ERR_INVALID, "field \"orderId\"");
    assert_non_null(strstr(e.message, "order-42"));
    json_decref(ev);
}

static void test_doc_readers_give_the_fallback_for_absent_or_other_types(
    void **state)
{
    (void)state;
    bson_t *doc = BCON_NEW("title", BCON_UTF8("concert"), "n32",
                           BCON_INT32(3), "n64", BCON_INT64(4), "price",
                           BCON_DOUBLE(2.5));
    assert_string_equal(ticketing_doc_string(doc, "title"), "concert");
    assert_null(ticketing_doc_string(doc, "price"));
    assert_null(ticketing_doc_string(doc, "absent"));
    assert_null(ticketing_doc_string(NULL, "title"));
    assert_true(ticketing_doc_number(doc, "price", -1) == 2.5);
    assert_true(ticketing_doc_number(doc, "n32", -1) == 3.0);
    assert_true(ticketing_doc_number(doc, "n64", -1) == 4.0);
    assert_true(ticketing_doc_number(doc, "title", -1) == -1.0);
    assert_true(ticketing_doc_number(doc, "absent", -2) == -2.0);
    bson_destroy(doc);
}

static void test_check_text_refuses_empty_long_and_invalid_utf8_text(
    void **state)
{
    (void)state;
    lk_error e;
    ticketing_spec_assert_refused(ticketing_check_text("title", NULL, 5, &e),
                                  &e, LK_ERR_INVALID,
                                  "title must not be empty");
    ticketing_spec_assert_refused(ticketing_check_text("title", "", 5, &e), &e,
                                  LK_ERR_INVALID, "title must not be empty");
    ticketing_spec_assert_refused(
        ticketing_check_text("title", "abcdef", 5, &e), &e, LK_ERR_INVALID,
        "longer than 5 bytes");
    ticketing_spec_assert_refused(
        ticketing_check_text("user id", "a\xff", 5, &e), &e, LK_ERR_INVALID,
        "user id is not valid UTF-8");
    assert_int_equal(ticketing_check_text("title", "abcde", 5, NULL), LK_OK);
}

static void test_schemas_refuse_payloads_over_a_few_kilobytes(void **state)
{
    (void)state;
    char big[8192];
    json_t *out = NULL;
    lk_error e;
    memset(big, ' ', sizeof big);
    big[0] = '{';
    big[sizeof big - 1] = '}';
    assert_int_equal(lk_event_decode(&ticketing_ticket_updated, big,
                                     sizeof big, &out, &e),
                     LK_ERR_TOO_LARGE);
    assert_null(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_oid_reads_a_nested_object_id),
        cmocka_unit_test(test_event_oid_refuses_an_absent_or_non_string_id),
        cmocka_unit_test(test_event_oid_refuses_text_that_is_no_object_id),
        cmocka_unit_test(
            test_doc_readers_give_the_fallback_for_absent_or_other_types),
        cmocka_unit_test(
            test_check_text_refuses_empty_long_and_invalid_utf8_text),
        cmocka_unit_test(test_schemas_refuse_payloads_over_a_few_kilobytes),
    };
    return cmocka_run_group_tests_name("ticketing_common", tests, NULL, NULL);
}
