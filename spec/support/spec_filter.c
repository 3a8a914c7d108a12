/* SPDX-License-Identifier: MIT */
/*
 * spec_filter.c — `make test ONLY=<test>`: spec/run exports the test name
 * (cmocka wildcards allowed) as LK_SPEC_ONLY, and this constructor hands it
 * to cmocka before main() runs, so every spec binary can run one test by
 * name without a line of its own. The Makefile links this object into each
 * spec binary explicitly (an archive member nobody calls would be dropped).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

__attribute__((constructor)) static void spec_filter_from_env(void)
{
    const char *only = getenv("LK_SPEC_ONLY");
    if (only != NULL && only[0] != '\0')
        cmocka_set_test_filter(only);
}
