/* SPDX-License-Identifier: MIT */
/*
 * fake_nats_assert_spec.c — lk_fake_nats_assert_published compares only the
 * fields the expected JSON lists, and a failure names each differing field
 * with expected and actual, at the test's line. Failures run in a child
 * (spec_child.h) so their text can be read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_nats.h"
#include "listenkit.h"
#include "spec_child.h"

static const char ID[] = "5f1d7f1e2a3b4c5d6e7f8091";
static lk_fake_nats *child_nats;

/* A recording fake holding two publishes, the first a ticket:updated. */
static lk_fake_nats *two_publishes(void)
{
    lk_fake_nats *nats = lk_fake_nats_new();
    char data[256];
    int n = snprintf(data, sizeof data,
                     "{\"id\":\"t1\",\"orderId\":\"%s\",\"version\":1,"
                     "\"price\":15,\"tags\":[1,2],\"ticket\":{\"id\":\"t1\","
                     "\"price\":15}}",
                     ID);
    lk_bus *bus = lk_fake_nats_bus(nats);
    assert_int_equal(lk_bus_publish(bus, "ticket:updated", data, (size_t)n,
                                    NULL, NULL),
                     LK_OK);
    assert_int_equal(lk_bus_publish(bus, "raw:bytes", "not json", 8, NULL,
                                    NULL),
                     LK_OK);
    return nats;
}

static int child_teardown(void **state)
{
    (void)state;
    lk_fake_nats_free(child_nats);
    child_nats = NULL;
    return 0;
}

static void child_wrong_version(void **state)
{
    (void)state;
    child_nats = two_publishes();
    lk_fake_nats_assert_published(child_nats, 0, "ticket:updated",
                                  "{\"orderId\": \"%s\", \"version\": 2}", ID);
}

static void child_missing_and_nested(void **state)
{
    (void)state;
    child_nats = two_publishes();
    lk_fake_nats_assert_published(child_nats, 0, "ticket:updated",
                                  "{\"userId\": \"u1\", \"ticket\": {\"price\": "
                                  "20}, \"tags\": [1]}");
}

static void child_wrong_subject(void **state)
{
    (void)state;
    child_nats = two_publishes();
    lk_fake_nats_assert_published(child_nats, 0, "ticket:created", NULL);
}

static void child_out_of_range(void **state)
{
    (void)state;
    child_nats = two_publishes();
    lk_fake_nats_assert_published(child_nats, 2, "order:created", "{}");
}

static void child_not_json(void **state)
{
    (void)state;
    child_nats = two_publishes();
    lk_fake_nats_assert_published(child_nats, 1, "raw:bytes", "{}");
}

static void child_bad_expected(void **state)
{
    (void)state;
    child_nats = two_publishes();
    lk_fake_nats_assert_published(child_nats, 0, NULL, "{\"version\": }");
}

static void expect_failure(CMUnitTestFunction fn, const char *const *want)
{
    spec_child_result r;
    spec_run_in_child(fn, "child", child_teardown, &r);
    assert_int_equal(r.exit_code, 1);
    if (strstr(r.output, "fake_nats_assert_spec.c:") == NULL)
        fail_msg("the failure does not point at the spec:\n%s", r.output);
    for (; *want != NULL; want++)
        if (strstr(r.output, *want) == NULL)
            fail_msg("no \"%s\" in:\n%s", *want, r.output);
}

static void test_listed_fields_that_match_pass_whatever_else_the_event_holds(void **state)
{
    (void)state;
    lk_fake_nats *nats = two_publishes();
    lk_fake_nats_assert_published(nats, 0, "ticket:updated",
                                  "{\"orderId\": \"%s\", \"version\": 1.0}", ID);
    lk_fake_nats_assert_published(nats, 0, NULL,
                                  "{\"ticket\": {\"id\": \"t1\"}, \"tags\": "
                                  "[1, 2]}");
    lk_fake_nats_assert_published(nats, 1, "raw:bytes", NULL);
    lk_fake_nats_free(nats);
}

static void test_a_differing_field_shows_expected_and_actual(void **state)
{
    (void)state;
    const char *want[] = {
        "publish #0 on \"ticket:updated\" differs in 1 listed field(s)",
        "field \"version\": expected 2, got 1",
        "expected (listed fields only): {\"orderId\":\"5f1d7f1e2a3b4c5d6e7f8091\","
        "\"version\":2}",
        "actual:", "\"price\":15", NULL};
    expect_failure(child_wrong_version, want);
}

static void test_missing_nested_and_array_fields_are_each_named(void **state)
{
    (void)state;
    const char *want[] = {"differs in 3 listed field(s)",
                          "field \"userId\": expected \"u1\", missing",
                          "field \"ticket.price\": expected 20, got 15",
                          "field \"tags\": expected 1 element(s), got 2",
                          NULL};
    expect_failure(child_missing_and_nested, want);
}

static void test_a_wrong_subject_names_both_subjects(void **state)
{
    (void)state;
    const char *want[] = {"publish #0 went to \"ticket:updated\", expected "
                          "\"ticket:created\"",
                          NULL};
    expect_failure(child_wrong_subject, want);
}

static void test_an_index_past_the_end_lists_what_was_published(void **state)
{
    (void)state;
    const char *want[] = {"expected publish #2 on \"order:created\", but only "
                          "2 message(s) were published",
                          "#0 ticket:updated", "#1 raw:bytes", NULL};
    expect_failure(child_out_of_range, want);
}

static void test_data_that_is_not_json_is_shown(void **state)
{
    (void)state;
    const char *want[] = {"publish #1 on \"raw:bytes\" is not JSON: not json",
                          NULL};
    expect_failure(child_not_json, want);
}

static void test_expected_text_that_does_not_parse_says_so(void **state)
{
    (void)state;
    const char *want[] = {"the expected JSON does not parse", NULL};
    expect_failure(child_bad_expected, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listed_fields_that_match_pass_whatever_else_the_event_holds),
        cmocka_unit_test(test_a_differing_field_shows_expected_and_actual),
        cmocka_unit_test(test_missing_nested_and_array_fields_are_each_named),
        cmocka_unit_test(test_a_wrong_subject_names_both_subjects),
        cmocka_unit_test(test_an_index_past_the_end_lists_what_was_published),
        cmocka_unit_test(test_data_that_is_not_json_is_shown),
        cmocka_unit_test(test_expected_text_that_does_not_parse_says_so),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
