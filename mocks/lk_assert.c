/* SPDX-License-Identifier: MIT */
/*
 * lk_assert.c — status assertions that fail a cmocka test with names, not
 * numbers (see lk_assert.h).
 */
#include "lk_assert.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

char *lk_status_describe(lk_status status, char *buf, size_t size)
{
    if ((int)status >= 0 && (int)status < (int)LK_STATUS_COUNT_)
        snprintf(buf, size, "LK_%s (%s)", lk_status_name(status),
                 lk_status_str(status));
    else
        snprintf(buf, size, "lk_status %d (%s)", (int)status,
                 lk_status_str(status));
    return buf;
}

static void check(const char *file, int line, const char *expr,
                  lk_status actual, lk_status expected, const lk_error *err)
{
    if (actual == expected)
        return;
    char a[96], e[96];
    print_error("%s\n  %s != %s\n", expr,
                lk_status_describe(actual, a, sizeof a),
                lk_status_describe(expected, e, sizeof e));
    if (err != NULL && err->message[0] != '\0')
        print_error("  error: %s\n", err->message);
    _fail(file, line);
}

void lk_assert_status_at(const char *file, int line, const char *expr,
                         lk_status actual, lk_status expected, ...)
{
    va_list ap;
    va_start(ap, expected);
    const lk_error *err = va_arg(ap, const lk_error *);
    va_end(ap);
    check(file, line, expr, actual, expected, err);
}

void lk_assert_ok_at(const char *file, int line, const char *expr,
                     lk_status actual, ...)
{
    va_list ap;
    va_start(ap, actual);
    const lk_error *err = va_arg(ap, const lk_error *);
    va_end(ap);
    check(file, line, expr, actual, LK_OK, err);
}
