/* SPDX-License-Identifier: MIT */
/*
 * spec_child.h — run one cmocka test in a forked child and keep what it
 * printed, so a spec can assert that a failing case really fails, and with
 * which text, without failing itself:
 *
 *     spec_child_result r;
 *     spec_run_in_child(child_missing_ack, "missing_ack", NULL, &r);
 *     assert_int_equal(r.exit_code, 1);
 *     assert_non_null(strstr(r.output, "stream seq 7"));
 *
 * The child runs `test` as the only test of a nested group named "child"
 * (with `teardown` as the group teardown, which runs even when the case
 * failed half-way) and exits with cmocka's failure count: 0 passed, 1
 * failed. Its stdout and stderr go to `output` (truncated to fit).
 */
#ifndef SPEC_CHILD_H
#define SPEC_CHILD_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

typedef struct spec_child_result {
    int exit_code; /* -1: did not exit normally */
    char output[8192];
} spec_child_result;

void spec_run_in_child(CMUnitTestFunction test, const char *name,
                       CMFixtureFunction teardown, spec_child_result *out);

#endif /* SPEC_CHILD_H */
