/* SPDX-License-Identifier: MIT */
/*
 * listenkit/error.h — status codes and the optional error out-parameter.
 *
 * Every listenkit call that can fail returns an lk_status and, when the
 * caller passes a non-NULL `lk_error *`, fills it with the same status and a
 * human-readable message that names what went wrong (the field, the subject,
 * the byte offset, the operator...). Passing NULL is always allowed: the
 * status alone is then the answer.
 *
 * The codes and their strings come from one X-macro, LK_STATUS_MAP, so the
 * enum and lk_status_str() can never drift apart.
 */
#ifndef LISTENKIT_ERROR_H
#define LISTENKIT_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define LK_PRINTF(fmt_index, first_arg) \
    __attribute__((format(printf, fmt_index, first_arg)))
#else
#define LK_PRINTF(fmt_index, first_arg)
#endif

/* X(name, description): the status is LK_<name>. */
#define LK_STATUS_MAP(X)                                                      \
    X(OK, "ok")                                                               \
    X(ERR_INVALID, "invalid argument or data")                                \
    X(ERR_NOT_FOUND, "not found")                                             \
    X(ERR_VERSION, "version conflict")                                        \
    X(ERR_DUPLICATE, "duplicate key")                                         \
    X(ERR_IO, "input/output error")                                           \
    X(ERR_NOMEM, "out of memory")                                             \
    X(ERR_TIMEOUT, "timed out")                                               \
    X(ERR_TOO_LARGE, "payload too large")                                     \
    X(ERR_UNSUPPORTED, "not supported")                                       \
    X(ERR_CLOSED, "closed")                                                   \
    X(ERR_RETRY, "not processable yet; leave for redelivery")                 \
    X(ERR_STATE, "call not allowed in the current state")                     \
    X(ERR_FORBIDDEN, "not allowed for this caller")

typedef enum lk_status {
#define LK_STATUS_ENUM(name, text) LK_##name,
    LK_STATUS_MAP(LK_STATUS_ENUM)
#undef LK_STATUS_ENUM
    LK_STATUS_COUNT_ /* not a status: the number of statuses */
} lk_status;

/* The longest message an lk_error keeps (longer ones are truncated). */
#define LK_ERROR_MESSAGE_MAX 255

typedef struct lk_error {
    lk_status status;
    char message[LK_ERROR_MESSAGE_MAX + 1];
} lk_error;

/* A static description of `status` ("version conflict"); never NULL, also
 * for values outside the enum ("unknown status"). */
const char *lk_status_str(lk_status status);

/* The enum name without prefix ("ERR_VERSION"), for logs and reports. */
const char *lk_status_name(lk_status status);

/* Resets `err` to LK_OK with an empty message. NULL is ignored. */
void lk_error_clear(lk_error *err);

/*
 * Fills `err` (if not NULL) with `status` and the printf-formatted message,
 * truncated to LK_ERROR_MESSAGE_MAX bytes; credentials in URLs are
 * redacted (listenkit/redact.h). Returns `status`, so a function
 * can end with `return lk_error_set(err, LK_ERR_INVALID, "...", ...);`.
 */
lk_status lk_error_set(lk_error *err, lk_status status, const char *fmt, ...)
    LK_PRINTF(3, 4);
lk_status lk_error_setv(lk_error *err, lk_status status, const char *fmt,
                        va_list ap) LK_PRINTF(3, 0);

/*
 * Prepends "prefix: " to the message already in `err` (keeps its status);
 * used to add context while an error travels up ("tickets: order:created:
 * field \"id\": ..."). NULL `err` is ignored. It returns nothing on purpose:
 * with a NULL `err` it cannot know the status, so `return
 * lk_error_prefix(...)` would turn an error into success. Keep the status
 * in hand: `if (s != LK_OK) lk_error_prefix(err, "ctx"); return s;`.
 * A prefix that cannot be formatted leaves the message as it was; likewise
 * lk_error_set() falls back to the status text (lk_status_str).
 */
void lk_error_prefix(lk_error *err, const char *fmt, ...) LK_PRINTF(2, 3);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_ERROR_H */
