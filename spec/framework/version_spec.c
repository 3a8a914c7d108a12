/* SPDX-License-Identifier: MIT */
/* version_spec.c — a program can tell which listenkit it runs against: the
 * linked library reports the version its header announces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "listenkit.h"

static void test_linked_version_is_the_headers(void **state)
{
    (void)state;
    assert_non_null(lk_version());
    assert_string_equal(lk_version(), LK_VERSION_STRING);
}

static void test_version_string_is_major_minor_patch(void **state)
{
    (void)state;
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", LK_VERSION_MAJOR, LK_VERSION_MINOR,
             LK_VERSION_PATCH);
    assert_string_equal(LK_VERSION_STRING, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linked_version_is_the_headers),
        cmocka_unit_test(test_version_string_is_major_minor_patch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
