/* SPDX-License-Identifier: MIT */
/*
 * dispatch_outcome_spec.c — what a spec reads after lk_listener_dispatch:
 * the message's outcome (lk_fake_msg_outcome) is the one answer to "what
 * became of it", whoever replied. Bad data termed by the schema and an
 * event on_message terms itself both read "termed", although dispatch's
 * status differs (LK_ERR_INVALID for the first, the term's LK_OK for the
 * second); an on_message that returns an error without replying reads
 * "naked" (the retry policy's nak, listenkit/retry.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_msg.h"
#include "listenkit.h"
#include "lk_assert.h"

static const lk_field fields[] = {
    {.name = "action", .type = LK_FIELD_STRING, .required = true},
    LK_FIELD_END};
static const lk_schema schema = {.subject = "demo:event", .fields = fields};

/* Does what the event's "action" says. */
static lk_status on_message(lk_listener *l, const json_t *data, lk_msg *msg)
{
    const char *action = lk_event_string(data, "action");
    if (strcmp(action, "ack") == 0)
        return lk_msg_ack(msg);
    if (strcmp(action, "term") == 0) {
        lk_error why;
        lk_error_set(&why, LK_ERR_INVALID, "can never be processed");
        return lk_listener_term(l, msg, &why);
    }
    return LK_ERR_RETRY;
}

static const lk_listener_def def = {
    .schema = &schema, .queue_group = "demo-service", .on_message = on_message};

static void run(const char *json, lk_status status, lk_fake_outcome outcome)
{
    lk_listener l;
    lk_log_set_level(LK_LOG_ERROR); /* the term lines are expected here */
    assert_lk_ok(lk_listener_init(&l, &def, NULL, NULL, NULL));
    lk_msg *msg = lk_fake_msg_new("demo:event", json);
    assert_lk_status(lk_listener_dispatch(&l, msg), status);
    assert_lk_outcome(msg, outcome);
    lk_fake_msg_free(msg);
    lk_log_reset();
}

static void test_schema_and_on_message_terms_read_the_same(void **state)
{
    (void)state;
    run("{\"action\": 7}", LK_ERR_INVALID, LK_FAKE_TERMED);  /* the schema */
    run("{\"action\": \"term\"}", LK_OK, LK_FAKE_TERMED);    /* on_message */
}

static void test_an_ack_reads_acked_and_an_error_naked_by_the_retry_policy(void **state)
{
    (void)state;
    run("{\"action\": \"ack\"}", LK_OK, LK_FAKE_ACKED);
    run("{\"action\": \"later\"}", LK_ERR_RETRY, LK_FAKE_NAKED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_and_on_message_terms_read_the_same),
        cmocka_unit_test(test_an_ack_reads_acked_and_an_error_naked_by_the_retry_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
