/* SPDX-License-Identifier: MIT */
/* dead_letter_oom_spec.c — a dead letter's envelope (framework/src/retry.c)
 * with its allocations refused in turn: encoding and decoding say
 * LK_ERR_NOMEM, hand out nothing half-written and leak nothing; the run
 * that reaches no refusal round-trips the message. A listener gives up on
 * a message exactly when things go wrong, so these paths must hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "failing_alloc.h"
#include "fake_msg.h"
#include "listenkit.h"

static const char TEXT[] = "{\"id\": \"t1\", \"title\": \"caf\xc3\xa9\"}";

static void test_encoding_out_of_memory_is_nomem_with_no_envelope(void **s)
{
    (void)s;
    int refused = 0;
    lk_msg *msg = lk_fake_msg_new("ticket:updated", TEXT);
    assert_non_null(msg);
    lk_fake_msg_set_stream_seq(msg, 9);
    for (uint64_t k = 1; k < 100; k++) {
        int64_t live = failing_alloc_live();
        char *env = (char *)&env; /* must be reset */
        size_t len = 7;
        lk_error e;
        failing_alloc_arm(k);
        lk_status st = lk_dead_letter_encode(msg, "orders-service", "gave up",
                                             &env, &len, &e);
        failing_alloc_result r = failing_alloc_disarm();
        if (r.failed) {
            refused++;
            assert_int_equal(st, LK_ERR_NOMEM);
            assert_null(env);
            assert_int_equal(len, 0);
            assert_non_null(strstr(e.message, "out of memory"));
            assert_int_equal(failing_alloc_live(), live);
            continue;
        }
        assert_int_equal(st, LK_OK);
        lk_dead_letter dl;
        assert_int_equal(lk_dead_letter_decode(env, len, &dl, NULL), LK_OK);
        assert_string_equal(dl.subject, "ticket:updated");
        assert_memory_equal(dl.data, TEXT, strlen(TEXT));
        assert_int_equal(dl.stream_seq, 9);
        lk_dead_letter_clear(&dl);
        lk_free(env);
        assert_int_equal(failing_alloc_live(), live);
        if (!r.reached)
            break;
    }
    lk_fake_msg_free(msg);
    assert_true(refused >= 2); /* the data, the envelope, its text */
}

/* Refuses each copy the decoder makes of the envelope's fields (the
 * allocations after the parse). The parse itself is not swept: jansson
 * 2.14's lexer corrupts its heap when an allocation fails mid-string. */
static void test_decoding_out_of_memory_is_nomem_and_clears_the_letter(
    void **s)
{
    (void)s;
    lk_msg *msg = lk_fake_msg_new("ticket:updated", TEXT);
    char *env = NULL;
    size_t len = 0;
    lk_dead_letter dl;
    assert_int_equal(lk_dead_letter_encode(msg, "orders-service", "gave up",
                                           &env, &len, NULL),
                     LK_OK);
    failing_alloc_arm(0); /* count only */
    assert_int_equal(lk_dead_letter_decode(env, len, &dl, NULL), LK_OK);
    failing_alloc_result all = failing_alloc_disarm();
    lk_dead_letter_clear(&dl);
    const uint64_t copies = 4; /* subject, data, reason, queue_group */
    assert_true(all.attempts > copies);
    for (uint64_t k = all.attempts - copies + 1; k <= all.attempts; k++) {
        int64_t live = failing_alloc_live();
        lk_error e;
        failing_alloc_arm(k);
        lk_status st = lk_dead_letter_decode(env, len, &dl, &e);
        failing_alloc_result r = failing_alloc_disarm();
        assert_true(r.failed);
        assert_int_equal(r.caller, LK_ALLOC_LISTENKIT);
        assert_int_equal(st, LK_ERR_NOMEM);
        assert_non_null(strstr(e.message, "out of memory"));
        assert_null(dl.subject); /* nothing half-decoded handed out */
        assert_null(dl.data);
        assert_null(dl.queue_group);
        assert_null(dl.reason);
        assert_int_equal(failing_alloc_live(), live);
    }
    lk_free(env);
    lk_fake_msg_free(msg);
}

int main(void)
{
    failing_alloc_install(); /* before anything allocates (alloc.h) */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_encoding_out_of_memory_is_nomem_with_no_envelope),
        cmocka_unit_test(
            test_decoding_out_of_memory_is_nomem_and_clears_the_letter),
    };
    int failed = cmocka_run_group_tests_name("dead_letter_oom", tests, NULL,
                                             NULL);
    failing_alloc_uninstall();
    return failed;
}
