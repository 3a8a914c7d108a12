/* SPDX-License-Identifier: MIT */
/* nats_meta_spec.c — a delivery's stream sequence, delivery count and
 * timestamp read in place from its JetStream reply subject, in both of the
 * subject's shapes, and anything else refused (the adapter then asks
 * libnats, which names the problem). The bus contract checks the numbers
 * on a real server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../framework/nats/nats_private.h"

static void test_reads_the_v1_subject(void **state)
{
    (void)state;
    lk_nats_meta m = {0};
    assert_true(lk_nats_ack_meta(
        "$JS.ACK.ORDERS.orders-service_x_1a2b3c4d.3.1042.77."
        "1700000000123456789.5",
        &m));
    assert_int_equal(m.delivered, 3);
    assert_int_equal(m.stream_seq, 1042);
    assert_int_equal(m.timestamp_ns, INT64_C(1700000000123456789));
}

static void test_reads_the_v2_subject_with_domain_hash_and_more(void **state)
{
    (void)state;
    lk_nats_meta m = {0};
    assert_true(lk_nats_ack_meta("$JS.ACK.hub.ACCHASH.S.C.1.9.9.123.0", &m));
    assert_int_equal(m.delivered, 1);
    assert_int_equal(m.stream_seq, 9);
    assert_int_equal(m.timestamp_ns, 123);
    /* tokens after <pending> are not read */
    assert_true(lk_nats_ack_meta("$JS.ACK._.H.S.C.2.18446744073709551615.4."
                                 "99.0.rNd.extra",
                                 &m));
    assert_int_equal(m.delivered, 2);
    assert_int_equal(m.stream_seq, UINT64_MAX);
}

static void test_refuses_what_is_not_an_ack_subject(void **state)
{
    (void)state;
    lk_nats_meta m = {.stream_seq = 7};
    const char *bad[] = {
        NULL,
        "",
        "_INBOX.abc",
        "$JS.ACK.",
        "$JS.ACK.S.C.1.2.3.4",             /* 6 tokens */
        "$JS.ACK.S.C.1.2.3.4.5.6",         /* 8 tokens */
        "$JS.ACK.S.C.x.2.3.4.5",           /* not a number */
        "$JS.ACK.S.C.1.2.3.4x.5",          /* nor this */
        "$JS.ACK.S.C.1..3.4.5",            /* an empty number */
        "$JS.ACK.S.C.1.2.3.-4.5",          /* a sign */
        "$JS.ACK.S.C.1.18446744073709551616.3.4.5", /* over 2^64 - 1 */
        "$JS.ACK.S.C.1.118446744073709551615.3.4.5", /* 21 digits */
        "$JS.ACK.S.C.1.1844674407370955161x.3.4.5", /* a 20th not a digit */
        "$JS.ACK.S.C.1.2.3.9223372036854775808.5",  /* a time over int64 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (lk_nats_ack_meta(bad[i], &m))
            fail_msg("took \"%s\"", bad[i] != NULL ? bad[i] : "(null)");
    assert_int_equal(m.stream_seq, 7); /* untouched */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_the_v1_subject),
        cmocka_unit_test(test_reads_the_v2_subject_with_domain_hash_and_more),
        cmocka_unit_test(test_refuses_what_is_not_an_ack_subject),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
