/* SPDX-License-Identifier: MIT */
/* batch_spec.c — lk_batch's wrappers and bookkeeping, and the generic
 * batch a bus without asynchronous publishing gets: argument checks as
 * lk_bus_publish's, every publish counted as acked or as one failure with
 * its index, refusals that say "not sent" returned at once. (Both real
 * batches are held to the bus contract: spec/contract.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "listenkit.h"

/* A bus whose publishes fail with the statuses a spec lines up. */
typedef struct script_bus {
    lk_bus base;
    lk_status next[8]; /* statuses of the next publishes (LK_OK: works) */
    size_t n_next, at;
    int publishes;
} script_bus;

static lk_status script_publish(lk_bus *bus, const char *subject,
                                const void *data, size_t len,
                                const lk_publish_opts *opts, lk_error *err)
{
    script_bus *b = (script_bus *)bus;
    (void)data, (void)len, (void)opts;
    lk_status s = b->at < b->n_next ? b->next[b->at] : LK_OK;
    b->at++;
    if (s != LK_OK)
        return lk_error_set(err, s, "publish %s: scripted %s", subject,
                            lk_status_name(s));
    b->publishes++;
    return LK_OK;
}

static lk_status script_subscribe(lk_bus *bus, const char *subject,
                                  const lk_subscribe_opts *opts,
                                  lk_msg_handler handler, void *closure,
                                  lk_error *err)
{
    (void)bus, (void)subject, (void)opts, (void)handler, (void)closure;
    return lk_error_set(err, LK_ERR_UNSUPPORTED, "not in this spec");
}

static lk_status script_drain(lk_bus *bus, lk_error *err)
{
    (void)bus, (void)err;
    return LK_OK;
}

static void script_free(lk_bus *bus) { (void)bus; }

static const lk_bus_ops script_ops = {"script", script_publish,
                                      script_subscribe, script_drain,
                                      script_free, NULL};

static void assert_message_has(const char *message, const char *needle)
{
    if (strstr(message, needle) == NULL)
        fail_msg("message \"%s\" does not contain \"%s\"", message, needle);
}

static void test_new_refuses_a_null_bus_or_out(void **state)
{
    (void)state;
    script_bus b = {.base.ops = &script_ops};
    lk_batch *batch = (lk_batch *)&b; /* must be reset to NULL */
    lk_error err;
    assert_int_equal(lk_batch_new(NULL, NULL, &batch, &err), LK_ERR_INVALID);
    assert_null(batch);
    assert_message_has(err.message, "batch: bus is NULL");
    assert_int_equal(lk_batch_new(&b.base, NULL, NULL, &err), LK_ERR_INVALID);
    assert_message_has(err.message, "batch: out is NULL");
    assert_int_equal(lk_batch_new_generic(NULL, NULL, &batch, &err),
                     LK_ERR_INVALID);
    assert_int_equal(lk_batch_new_generic(&b.base, NULL, NULL, &err),
                     LK_ERR_INVALID);
}

static void test_publish_checks_arguments_as_the_bus_does(void **state)
{
    (void)state;
    script_bus b = {.base.ops = &script_ops};
    lk_batch *batch = NULL;
    lk_error err;
    assert_int_equal(lk_batch_new(&b.base, NULL, &batch, &err), LK_OK);
    assert_int_equal(lk_batch_publish(NULL, "s", "x", 1, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(err.message, "publish: batch is NULL");
    assert_int_equal(lk_batch_publish(batch, "a b", "x", 1, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(err.message, "invalid subject \"a b\"");
    assert_int_equal(lk_batch_publish(batch, "s", NULL, 3, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(err.message, "publish s: data is NULL but length is 3");
    /* A subject that passed once is not checked again, the data is. */
    assert_int_equal(lk_batch_publish(batch, "s", "x", 1, NULL, &err), LK_OK);
    assert_int_equal(lk_batch_publish(batch, "s", NULL, 2, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(err.message, "publish s: data is NULL but length is 2");
    assert_int_equal(lk_batch_publish(batch, "s.", "x", 1, NULL, &err),
                     LK_ERR_INVALID);
    assert_int_equal(lk_batch_publish(batch, NULL, "x", 1, NULL, &err),
                     LK_ERR_INVALID);
    assert_int_equal(lk_batch_wait(batch, -1, &err), LK_ERR_INVALID);
    assert_message_has(err.message, "timeout_ms must be >= 0, got -1");
    assert_int_equal(lk_batch_wait(NULL, 0, &err), LK_ERR_INVALID);
    assert_int_equal(lk_batch_published(batch), 1);
    assert_int_equal(b.publishes, 1);
    lk_batch_free(batch);
}

static void test_a_batch_counts_every_message_as_acked_or_failed(void **state)
{
    (void)state;
    script_bus b = {.base.ops = &script_ops,
                    .next = {LK_OK, LK_ERR_IO, LK_OK, LK_ERR_TIMEOUT, LK_OK},
                    .n_next = 5};
    lk_batch *batch = NULL;
    lk_publish_opts with_id = {.msg_id = "id-3"};
    lk_error err;
    assert_int_equal(lk_batch_new(&b.base, NULL, &batch, &err), LK_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(lk_batch_publish(batch, i == 3 ? "other" : "s", "x",
                                          1, i == 3 ? &with_id : NULL, &err),
                         LK_OK);
    assert_int_equal(lk_batch_wait(batch, 0, &err), LK_ERR_IO);
    assert_message_has(err.message, "2 of 5 messages failed; first, #1");
    assert_message_has(err.message, "publish s: scripted ERR_IO");
    assert_int_equal(lk_batch_published(batch), 5);
    assert_int_equal(lk_batch_acked(batch), 3);
    assert_int_equal(lk_batch_failure_count(batch), 2);
    const lk_batch_failure *f = lk_batch_failure_at(batch, 0);
    assert_int_equal(f->index, 1);
    assert_string_equal(f->subject, "s");
    assert_null(f->msg_id);
    assert_int_equal(f->status, LK_ERR_IO);
    f = lk_batch_failure_at(batch, 1);
    assert_int_equal(f->index, 3);
    assert_string_equal(f->subject, "other");
    assert_string_equal(f->msg_id, "id-3");
    assert_int_equal(f->status, LK_ERR_TIMEOUT);
    assert_null(lk_batch_failure_at(batch, 2));
    /* It goes on: indices continue, failures stay. */
    assert_int_equal(lk_batch_publish(batch, "s", "y", 1, NULL, &err), LK_OK);
    assert_int_equal(lk_batch_wait(batch, 10, &err), LK_ERR_IO);
    assert_int_equal(lk_batch_acked(batch), 4);
    assert_int_equal(lk_batch_published(batch), 6);
    lk_batch_free(batch);
}

static void test_refusals_that_mean_not_sent_come_back_at_once(void **state)
{
    (void)state;
    const lk_status at_once[] = {LK_ERR_CLOSED, LK_ERR_TOO_LARGE,
                                 LK_ERR_INVALID, LK_ERR_NOMEM,
                                 LK_ERR_UNSUPPORTED};
    for (size_t i = 0; i < sizeof at_once / sizeof at_once[0]; i++) {
        script_bus b = {.base.ops = &script_ops, .next = {at_once[i]},
                        .n_next = 1};
        lk_batch *batch = NULL;
        lk_error err;
        assert_int_equal(lk_batch_new(&b.base, NULL, &batch, &err), LK_OK);
        assert_int_equal(lk_batch_publish(batch, "s", "x", 1, NULL, &err),
                         at_once[i]);
        assert_message_has(err.message, "publish s: scripted");
        assert_int_equal(lk_batch_published(batch), 0);
        assert_int_equal(lk_batch_wait(batch, 0, &err), LK_OK);
        assert_int_equal(lk_batch_failure_count(batch), 0);
        lk_batch_free(batch);
    }
}

static void test_failures_noted_out_of_order_are_sorted_by_wait(void **state)
{
    (void)state;
    script_bus b = {.base.ops = &script_ops};
    lk_batch *batch = NULL;
    lk_error err;
    assert_int_equal(lk_batch_new(&b.base, NULL, &batch, &err), LK_OK);
    /* What an implementation with acks on another thread does. */
    batch->published = 3;
    lk_batch_note_failure(batch, 2, "s", NULL, LK_ERR_IO, "publish s: late");
    lk_batch_note_failure(batch, 0, "s", "m0", LK_ERR_TIMEOUT, NULL);
    lk_batch_note_acked(batch, 1);
    assert_int_equal(lk_batch_wait(batch, 0, &err), LK_ERR_TIMEOUT);
    assert_int_equal(lk_batch_failure_at(batch, 0)->index, 0);
    assert_string_equal(lk_batch_failure_at(batch, 0)->message, "");
    assert_int_equal(lk_batch_failure_at(batch, 1)->index, 2);
    lk_batch_free(batch);
}

static void test_a_batch_missing_outcomes_says_so(void **state)
{
    (void)state;
    script_bus b = {.base.ops = &script_ops};
    lk_batch *batch = NULL;
    lk_error err;
    assert_int_equal(lk_batch_new(&b.base, NULL, &batch, &err), LK_OK);
    batch->published = 2; /* one outcome lost (as to OOM) */
    lk_batch_note_acked(batch, 1);
    assert_int_equal(lk_batch_wait(batch, 0, &err), LK_ERR_NOMEM);
    assert_message_has(err.message, "1 of 2 messages settled");
    lk_batch_free(batch);
    lk_batch_free(NULL);
    assert_int_equal(lk_batch_published(NULL), 0);
    assert_int_equal(lk_batch_acked(NULL), 0);
    assert_int_equal(lk_batch_failure_count(NULL), 0);
    assert_null(lk_batch_failure_at(NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_refuses_a_null_bus_or_out),
        cmocka_unit_test(test_publish_checks_arguments_as_the_bus_does),
        cmocka_unit_test(test_a_batch_counts_every_message_as_acked_or_failed),
        cmocka_unit_test(test_refusals_that_mean_not_sent_come_back_at_once),
        cmocka_unit_test(test_failures_noted_out_of_order_are_sorted_by_wait),
        cmocka_unit_test(test_a_batch_missing_outcomes_says_so),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
