/* SPDX-License-Identifier: MIT */
/*
 * fake_msg_spec.c — the fake message: what it carries, what it counts, and
 * strict mode failing a test through cmocka itself.
 *
 * Strict-mode failures are proven in a child process: the child runs one
 * nested cmocka test and exits with cmocka's failure count, so the parent can
 * assert that the failing case really fails (and the passing one passes)
 * without failing itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <cmocka.h>

#include "fake_msg.h"
#include "listenkit.h"
#include "spec_child.h"

/* The message of the case running in the child; freed by the child group's
 * teardown, which runs even when the case failed half-way. */
static lk_msg *child_msg;

static int child_teardown(void **state)
{
    (void)state;
    lk_fake_msg_free(child_msg);
    child_msg = NULL;
    return 0;
}

typedef spec_child_result child_result;

static void run_in_child(CMUnitTestFunction test, const char *name,
                         child_result *out)
{
    spec_run_in_child(test, name, child_teardown, out);
}

/* ---- cases the children run ---------------------------------------------- */


static void child_expect_ack_and_ack_once(void **state)
{
    (void)state;
    lk_msg *msg = child_msg = lk_fake_msg_new("ticket:created", "{}");
    lk_fake_msg_expect_ack(msg);
    assert_int_equal(lk_msg_ack(msg), LK_OK);
}

static void child_expect_ack_but_none(void **state)
{
    (void)state;
    lk_msg *msg = child_msg = lk_fake_msg_new("ticket:created", "{}");
    lk_fake_msg_set_stream_seq(msg, 7);
    lk_fake_msg_expect_ack(msg);
    child_msg = NULL; /* freed here: the failure comes from the free */
    lk_fake_msg_free(msg);
}

static void child_expect_ack_but_none_never_freed(void **state)
{
    (void)state;
    child_msg = lk_fake_msg_new("ticket:created", "{}");
    lk_fake_msg_expect_ack(child_msg); /* no ack: cmocka notices at the end */
}

static void child_expect_ack_but_two(void **state)
{
    (void)state;
    lk_msg *msg = child_msg = lk_fake_msg_new("ticket:created", "{}");
    lk_fake_msg_expect_ack(msg);
    lk_msg_ack(msg);
    lk_msg_ack(msg); /* fails here */
}

static void child_expect_no_ack_but_ack(void **state)
{
    (void)state;
    lk_msg *msg = child_msg = lk_fake_msg_new("ticket:updated", "{}");
    lk_fake_msg_set_stream_seq(msg, 42);
    lk_fake_msg_expect_no_ack(msg);
    lk_msg_ack(msg); /* fails here */
}

static void child_outcome_mismatch(void **state)
{
    (void)state;
    lk_msg *msg = child_msg = lk_fake_msg_new("ticket:updated", "{}");
    lk_fake_msg_set_stream_seq(msg, 3);
    assert_lk_outcome(msg, LK_FAKE_TERMED); /* nothing replied yet */
}

static void child_expect_no_ack_and_nak(void **state)
{
    (void)state;
    lk_msg *msg = child_msg = lk_fake_msg_new("ticket:updated", "{}");
    lk_fake_msg_expect_no_ack(msg);
    assert_int_equal(lk_msg_nak(msg, 0), LK_OK);
    assert_int_equal(lk_msg_term(msg), LK_OK);
}

/* ---- specs ------------------------------------------------------------------ */

static void test_new_message_carries_subject_data_and_first_delivery(void **state)
{
    (void)state;
    lk_msg *msg = lk_fake_msg_new("ticket:created", "{\"id\":\"a\"}");
    assert_non_null(msg);
    assert_true(lk_fake_msg_is_fake(msg));
    assert_string_equal(msg->subject, "ticket:created");
    assert_string_equal(msg->data, "{\"id\":\"a\"}");
    assert_int_equal(msg->length, strlen("{\"id\":\"a\"}"));
    assert_int_equal(msg->stream_seq, 1);
    assert_int_equal(msg->delivery_count, 1);
    assert_int_equal(msg->timestamp_ms, 0);
    assert_int_equal(lk_fake_msg_ack_count(msg), 0);
    assert_int_equal(lk_fake_msg_nak_count(msg), 0);
    assert_int_equal(lk_fake_msg_term_count(msg), 0);
    assert_int_equal(lk_fake_msg_in_progress_count(msg), 0);
    assert_int_equal(lk_fake_msg_last_nak_delay(msg), -1);
    assert_false(lk_fake_msg_acked(msg));
    lk_msg_free(msg); /* the generic free reaches the fake */
}

static void test_new_message_copies_its_inputs(void **state)
{
    (void)state;
    char subject[] = "order:created";
    char json[] = "{\"v\":1}";
    lk_msg *msg = lk_fake_msg_new(subject, json);
    subject[0] = 'X';
    json[1] = 'X';
    assert_string_equal(msg->subject, "order:created");
    assert_string_equal(msg->data, "{\"v\":1}");
    lk_fake_msg_free(msg);
}

static void test_new_message_without_subject_or_data_is_null(void **state)
{
    (void)state;
    assert_null(lk_fake_msg_new(NULL, "{}"));
    assert_null(lk_fake_msg_new("a", NULL));
    assert_null(lk_fake_msg_new_bytes(NULL, "x", 1));
    assert_null(lk_fake_msg_new_bytes("a", NULL, 3));
    assert_null(lk_fake_msg_newf(NULL, "%d", 1));
    lk_fake_msg_free(NULL); /* ignored */
}

static void test_bytes_message_keeps_nuls_and_length(void **state)
{
    (void)state;
    const char raw[] = {'{', '\0', 'x', '\xff', '}'};
    lk_msg *msg = lk_fake_msg_new_bytes("bad:data", raw, sizeof raw);
    assert_non_null(msg);
    assert_int_equal(msg->length, sizeof raw);
    assert_memory_equal(msg->data, raw, sizeof raw);
    assert_int_equal(msg->data[sizeof raw], '\0');
    lk_fake_msg_free(msg);

    lk_msg *empty = lk_fake_msg_new_bytes("empty", NULL, 0);
    assert_non_null(empty);
    assert_int_equal(empty->length, 0);
    assert_string_equal(empty->data, "");
    lk_fake_msg_free(empty);
}

static void test_formatted_message_holds_the_formatted_text(void **state)
{
    (void)state;
    lk_msg *msg = lk_fake_msg_newf("ticket:updated",
                                   "{\"id\":\"%s\",\"version\":%d}", "t1", 3);
    assert_non_null(msg);
    assert_string_equal(msg->data, "{\"id\":\"t1\",\"version\":3}");
    assert_int_equal(msg->length, strlen(msg->data));
    lk_fake_msg_free(msg);
}

static void test_text_that_cannot_be_formatted_gives_null(void **state)
{
    (void)state;
    /* In the C locale an e-acute has no multibyte form: vsnprintf fails
     * (EILSEQ), and newf says so with NULL rather than a half message. */
    static const wchar_t accented[] = {0xe9, 0};
    assert_null(lk_fake_msg_newf("a", "%ls", accented));
}

static void test_setters_change_sequence_delivery_count_and_timestamp(void **state)
{
    (void)state;
    lk_msg *msg = lk_fake_msg_new("s", "{}");
    lk_fake_msg_set_stream_seq(msg, 77);
    lk_fake_msg_set_delivery_count(msg, 4);
    lk_fake_msg_set_timestamp(msg, 1700000000123);
    assert_int_equal(msg->stream_seq, 77);
    assert_int_equal(msg->delivery_count, 4);
    assert_int_equal(msg->timestamp_ms, 1700000000123);
    lk_fake_msg_free(msg);
}

static void test_every_reply_is_counted_with_the_last_nak_delay(void **state)
{
    (void)state;
    lk_msg *msg = lk_fake_msg_new("s", "{}");
    assert_int_equal(lk_msg_nak(msg, 250), LK_OK);
    assert_int_equal(lk_msg_nak(msg, 1000), LK_OK);
    assert_int_equal(lk_msg_in_progress(msg), LK_OK);
    assert_int_equal(lk_msg_term(msg), LK_OK);
    assert_int_equal(lk_msg_ack(msg), LK_OK);
    assert_int_equal(lk_msg_ack(msg), LK_OK);
    assert_int_equal(lk_fake_msg_nak_count(msg), 2);
    assert_int_equal(lk_fake_msg_last_nak_delay(msg), 1000);
    assert_int_equal(lk_fake_msg_in_progress_count(msg), 1);
    assert_int_equal(lk_fake_msg_term_count(msg), 1);
    assert_int_equal(lk_fake_msg_ack_count(msg), 2);
    assert_true(lk_fake_msg_acked(msg));
    lk_fake_msg_free(msg);
}

static void test_failed_ack_returns_the_status_once_and_is_not_acked(void **state)
{
    (void)state;
    lk_msg *msg = lk_fake_msg_new("s", "{}");
    lk_fake_msg_fail_ack(msg, LK_ERR_IO);
    assert_int_equal(lk_msg_ack(msg), LK_ERR_IO);
    assert_int_equal(lk_fake_msg_ack_count(msg), 1);
    assert_false(lk_fake_msg_acked(msg));
    assert_int_equal(lk_msg_ack(msg), LK_OK); /* only the next one failed */
    assert_int_equal(lk_fake_msg_ack_count(msg), 2);
    assert_true(lk_fake_msg_acked(msg));
    lk_fake_msg_free(msg);
}

static void test_fail_ack_with_ok_clears_the_failure(void **state)
{
    (void)state;
    lk_msg *msg = lk_fake_msg_new("s", "{}");
    lk_fake_msg_fail_ack(msg, LK_ERR_TIMEOUT);
    lk_fake_msg_fail_ack(msg, LK_OK);
    assert_int_equal(lk_msg_ack(msg), LK_OK);
    assert_true(lk_fake_msg_acked(msg));
    lk_fake_msg_free(msg);
}

static lk_status other_reply(lk_msg *m) { (void)m; return LK_ERR_IO; }
static lk_status other_nak(lk_msg *m, int64_t d) { (void)m; (void)d; return LK_ERR_IO; }

static void test_functions_ignore_messages_that_are_not_fakes(void **state)
{
    (void)state;
    static const lk_msg_ops ops = {other_reply, other_nak, other_reply,
                                   other_reply, NULL};
    lk_msg other = {&ops, "s", "{}", 2, 9, 3, 0};
    assert_false(lk_fake_msg_is_fake(&other));
    assert_false(lk_fake_msg_is_fake(NULL));
    lk_fake_msg_set_stream_seq(&other, 1);
    lk_fake_msg_set_delivery_count(&other, 1);
    lk_fake_msg_expect_ack(&other); /* not registered with cmocka */
    lk_fake_msg_expect_no_ack(&other);
    lk_fake_msg_fail_ack(&other, LK_ERR_IO);
    lk_fake_msg_set_timestamp(&other, 5);
    assert_int_equal(lk_fake_msg_nak_count(&other), 0);
    assert_int_equal(lk_fake_msg_term_count(&other), 0);
    assert_int_equal(lk_fake_msg_in_progress_count(&other), 0);
    assert_int_equal(other.timestamp_ms, 0);
    assert_int_equal(other.stream_seq, 9);
    assert_int_equal(other.delivery_count, 3);
    assert_int_equal(lk_fake_msg_ack_count(&other), 0);
    assert_int_equal(lk_fake_msg_last_nak_delay(&other), -1);
    assert_false(lk_fake_msg_acked(&other));
    lk_fake_msg_free(&other); /* ignored, not freed */
}

static void test_strict_expect_ack_passes_with_exactly_one_ack(void **state)
{
    (void)state;
    lk_msg *msg = lk_fake_msg_new("ticket:created", "{}");
    lk_fake_msg_expect_ack(msg);
    assert_int_equal(lk_msg_ack(msg), LK_OK);
    lk_fake_msg_free(msg);
}

static void test_strict_expect_ack_works_through_a_function_pointer(void **state)
{
    (void)state;
    void (*expect)(lk_msg *) = lk_fake_msg_expect_ack; /* the function */
    lk_msg *msg = lk_fake_msg_new("ticket:created", "{}");
    expect(msg);
    expect(msg); /* two expected */
    assert_int_equal(lk_msg_ack(msg), LK_OK);
    assert_int_equal(lk_msg_ack(msg), LK_OK);
    assert_int_equal(lk_fake_msg_ack_count(msg), 2);
    lk_fake_msg_free(msg);
}

static void test_strict_expect_no_ack_allows_nak_and_term(void **state)
{
    (void)state;
    child_result r;
    run_in_child(child_expect_no_ack_and_nak, "no_ack_and_nak", &r);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.output, "[  PASSED  ] 1 test"));
}

static void test_strict_child_harness_passes_a_passing_case(void **state)
{
    (void)state;
    child_result r;
    run_in_child(child_expect_ack_and_ack_once, "ack_once", &r);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.output, "[  PASSED  ] 1 test"));
}

/* The failure points at this spec (the test's own line, which the
 * expect_* macro captured), not at mocks/fake_msg.c. */
static void assert_points_at_the_spec(const char *text)
{
    if (strstr(text, "fake_msg_spec.c:") == NULL ||
        strstr(text, "mocks/fake_msg.c") != NULL)
        fail_msg("the failure does not point at the spec:\n%s", text);
}

static void test_strict_missing_ack_fails_at_free_naming_message_and_line(void **state)
{
    (void)state;
    child_result r;
    run_in_child(child_expect_ack_but_none, "missing_ack", &r);
    assert_int_equal(r.exit_code, 1);
    assert_non_null(strstr(r.output, "[  FAILED  ] 1 test"));
    assert_non_null(strstr(r.output,
                           "\"ticket:created\" (stream seq 7) got 0 of the 1 "
                           "ack(s) lk_fake_msg_expect_ack() expected"));
    assert_points_at_the_spec(r.output);
    /* cmocka's own (broken) text for the same miss does not follow. */
    assert_null(strstr(r.output, "expected to be called but was not"));
}

static void test_strict_missing_ack_never_freed_still_fails_at_its_end(void **state)
{
    (void)state;
    child_result r;
    run_in_child(child_expect_ack_but_none_never_freed, "missing_ack", &r);
    assert_int_equal(r.exit_code, 1);
    assert_non_null(strstr(r.output, "[  FAILED  ] 1 test"));
    /* The note points at this spec, where the ack was expected. */
    assert_non_null(strstr(r.output, "fake_msg_spec.c:"));
    assert_non_null(strstr(r.output, ": note: remaining item"));
}

static void test_strict_extra_ack_fails_the_test_at_the_call(void **state)
{
    (void)state;
    child_result r;
    run_in_child(child_expect_ack_but_two, "extra_ack", &r);
    assert_int_equal(r.exit_code, 1);
    assert_non_null(strstr(r.output, "[  FAILED  ] 1 test"));
    assert_non_null(strstr(r.output, "ack number 2 on \"ticket:created\""));
    assert_points_at_the_spec(r.output);
}

static void test_strict_unwanted_ack_fails_the_test(void **state)
{
    (void)state;
    child_result r;
    run_in_child(child_expect_no_ack_but_ack, "unwanted_ack", &r);
    assert_int_equal(r.exit_code, 1);
    assert_non_null(strstr(r.output, "[  FAILED  ] 1 test"));
    assert_non_null(strstr(r.output, "\"ticket:updated\" (stream seq 42)"));
    assert_non_null(strstr(r.output, "lk_fake_msg_expect_no_ack"));
    /* at the test's line, not inside mocks/fake_msg.c */
    assert_points_at_the_spec(r.output);
}

/* ---- outcome ---------------------------------------------------------------- */

static void test_outcome_is_the_first_final_reply(void **state)
{
    (void)state;
    lk_msg *none = lk_fake_msg_new("a:b", "{}");
    lk_msg *acked = lk_fake_msg_new("a:b", "{}");
    lk_msg *termed = lk_fake_msg_new("a:b", "{}");
    lk_msg *naked = lk_fake_msg_new("a:b", "{}");
    lk_msg *flaky = lk_fake_msg_new("a:b", "{}");
    assert_int_equal(lk_msg_in_progress(none), LK_OK);
    assert_int_equal(lk_msg_ack(acked), LK_OK);
    assert_int_equal(lk_msg_term(acked), LK_OK); /* too late: acked stays */
    assert_int_equal(lk_msg_term(termed), LK_OK);
    assert_int_equal(lk_msg_nak(naked, 100), LK_OK);
    lk_fake_msg_fail_ack(flaky, LK_ERR_IO); /* a failed ack is no reply */
    assert_int_equal(lk_msg_ack(flaky), LK_ERR_IO);
    assert_int_equal(lk_fake_msg_outcome(none), LK_FAKE_UNANSWERED);
    assert_int_equal(lk_fake_msg_outcome(acked), LK_FAKE_ACKED);
    assert_int_equal(lk_fake_msg_outcome(termed), LK_FAKE_TERMED);
    assert_int_equal(lk_fake_msg_outcome(naked), LK_FAKE_NAKED);
    assert_int_equal(lk_fake_msg_outcome(flaky), LK_FAKE_UNANSWERED);
    assert_lk_outcome(acked, LK_FAKE_ACKED);
    assert_string_equal(lk_fake_outcome_str(LK_FAKE_UNANSWERED),
                        "left for redelivery");
    assert_string_equal(lk_fake_outcome_str((lk_fake_outcome)99),
                        "unknown outcome");
    lk_fake_msg_free(none);
    lk_fake_msg_free(acked);
    lk_fake_msg_free(termed);
    lk_fake_msg_free(naked);
    lk_fake_msg_free(flaky);
}

static void test_outcome_mismatch_names_message_both_outcomes_and_line(void **state)
{
    (void)state;
    child_result r;
    run_in_child(child_outcome_mismatch, "outcome", &r);
    assert_int_equal(r.exit_code, 1);
    assert_non_null(strstr(r.output, "\"ticket:updated\" (stream seq 3) was "
                                     "left for redelivery, expected termed"));
    assert_non_null(strstr(r.output, "fake_msg_spec.c:"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_message_carries_subject_data_and_first_delivery),
        cmocka_unit_test(test_new_message_copies_its_inputs),
        cmocka_unit_test(test_new_message_without_subject_or_data_is_null),
        cmocka_unit_test(test_bytes_message_keeps_nuls_and_length),
        cmocka_unit_test(test_formatted_message_holds_the_formatted_text),
        cmocka_unit_test(test_text_that_cannot_be_formatted_gives_null),
        cmocka_unit_test(test_setters_change_sequence_delivery_count_and_timestamp),
        cmocka_unit_test(test_every_reply_is_counted_with_the_last_nak_delay),
        cmocka_unit_test(test_failed_ack_returns_the_status_once_and_is_not_acked),
        cmocka_unit_test(test_fail_ack_with_ok_clears_the_failure),
        cmocka_unit_test(test_functions_ignore_messages_that_are_not_fakes),
        cmocka_unit_test(test_strict_expect_ack_passes_with_exactly_one_ack),
        cmocka_unit_test(test_strict_expect_ack_works_through_a_function_pointer),
        cmocka_unit_test(test_strict_expect_no_ack_allows_nak_and_term),
        cmocka_unit_test(test_strict_child_harness_passes_a_passing_case),
        cmocka_unit_test(test_strict_missing_ack_fails_at_free_naming_message_and_line),
        cmocka_unit_test(test_strict_missing_ack_never_freed_still_fails_at_its_end),
        cmocka_unit_test(test_strict_extra_ack_fails_the_test_at_the_call),
        cmocka_unit_test(test_strict_unwanted_ack_fails_the_test),
        cmocka_unit_test(test_outcome_is_the_first_final_reply),
        cmocka_unit_test(test_outcome_mismatch_names_message_both_outcomes_and_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
