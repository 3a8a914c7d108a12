/* SPDX-License-Identifier: MIT */
/*
 * mocks/lk_assert.h — cmocka assertions that print listenkit statuses by
 * name, with the lk_error message when there is one:
 *
 *     assert_lk_status(s, LK_ERR_RETRY);
 *     assert_lk_status(s, LK_OK, &err);   the error's message is printed too
 *     assert_lk_ok(s, &err);              the same as the line above
 *
 * A failure reads (at the test's own line):
 *
 *     spec/x_spec.c:31: assert_lk_status(s, LK_ERR_RETRY)
 *       LK_OK (ok) != LK_ERR_RETRY (not processable yet; leave for redelivery)
 *
 * and with an error whose message is set:
 *
 *       LK_ERR_INVALID (invalid argument or data) != LK_OK (ok)
 *       error: ticket:updated: field "version": expected integer, got string
 *
 * The third argument is optional (a `const lk_error *`, may be NULL).
 * Include <cmocka.h> (with its prerequisites) first, as for every double.
 */
#ifndef LISTENKIT_MOCKS_LK_ASSERT_H
#define LISTENKIT_MOCKS_LK_ASSERT_H

#include <stddef.h>

#include "listenkit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The trailing null pointer stands for the optional error when the caller
 * gave none; when they gave one, it is read first and the null ignored. */
#define assert_lk_status(...)                                                 \
    lk_assert_status_at(__FILE__, __LINE__, "assert_lk_status(" #__VA_ARGS__ \
                        ")", __VA_ARGS__, (const lk_error *)0)
#define assert_lk_ok(...)                                                     \
    lk_assert_ok_at(__FILE__, __LINE__, "assert_lk_ok(" #__VA_ARGS__ ")",     \
                    __VA_ARGS__, (const lk_error *)0)

/* What the macros call; use the macros. The variadic part is one
 * `const lk_error *` (maybe null), then the macro's null. Each fails the
 * running cmocka test (and does not return) when the status is not the
 * expected one. */
void lk_assert_status_at(const char *file, int line, const char *expr,
                         lk_status actual, lk_status expected, ...);
void lk_assert_ok_at(const char *file, int line, const char *expr,
                     lk_status actual, ...);

/* "LK_ERR_RETRY (not processable yet; leave for redelivery)" into `buf`;
 * an unknown value prints as "lk_status 99 (unknown status)". Returns buf. */
char *lk_status_describe(lk_status status, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_MOCKS_LK_ASSERT_H */
