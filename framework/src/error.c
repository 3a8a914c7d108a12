/* SPDX-License-Identifier: MIT */
/* error.c — status strings and the lk_error out-parameter. */
#include "listenkit/error.h"
#include "listenkit/redact.h"

#include <stdio.h>
#include <string.h>

const char *lk_status_str(lk_status status)
{
    switch (status) {
#define LK_STATUS_TEXT(name, text) case LK_##name: return text;
        LK_STATUS_MAP(LK_STATUS_TEXT)
#undef LK_STATUS_TEXT
    case LK_STATUS_COUNT_:
        break;
    }
    return "unknown status";
}

const char *lk_status_name(lk_status status)
{
    switch (status) {
#define LK_STATUS_NAME(name, text) case LK_##name: return #name;
        LK_STATUS_MAP(LK_STATUS_NAME)
#undef LK_STATUS_NAME
    case LK_STATUS_COUNT_:
        break;
    }
    return "UNKNOWN";
}

void lk_error_clear(lk_error *err)
{
    if (err == NULL)
        return;
    err->status = LK_OK;
    err->message[0] = '\0';
}

/* A URL's password or token never reaches an error text (redact.h). */
static void redact_message(lk_error *err)
{
    char redacted[sizeof err->message];
    if (lk_redact_needed(err->message)) {
        lk_redact(err->message, redacted, sizeof redacted);
        memcpy(err->message, redacted, sizeof redacted);
    }
}

lk_status lk_error_setv(lk_error *err, lk_status status, const char *fmt,
                        va_list ap)
{
    if (err == NULL)
        return status;
    err->status = status;
    if (fmt == NULL) {
        snprintf(err->message, sizeof err->message, "%s",
                 lk_status_str(status));
        return status;
    }
    /* vsnprintf truncates safely; a formatting failure leaves the generic
     * text rather than garbage. */
    if (vsnprintf(err->message, sizeof err->message, fmt, ap) < 0)
        snprintf(err->message, sizeof err->message, "%s",
                 lk_status_str(status));
    redact_message(err);
    return status;
}

lk_status lk_error_set(lk_error *err, lk_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lk_error_setv(err, status, fmt, ap);
    va_end(ap);
    return status;
}

void lk_error_prefix(lk_error *err, const char *fmt, ...)
{
    char prefix[LK_ERROR_MESSAGE_MAX + 1];
    char old[LK_ERROR_MESSAGE_MAX + 1];
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    int n_prefix = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    if (n_prefix < 0) /* cannot be formatted: keep the message as it is */
        return;
    memcpy(old, err->message, sizeof old);
    /* Truncation is the documented behaviour: assemble by hand so the
     * compiler need not be told it is intended. */
    size_t cap = sizeof err->message - 1;
    size_t n = strnlen(prefix, cap);
    memcpy(err->message, prefix, n);
    const char *parts[2] = {": ", old};
    for (int i = 0; i < 2; i++) {
        size_t k = strlen(parts[i]);
        if (k > cap - n)
            k = cap - n;
        memcpy(err->message + n, parts[i], k);
        n += k;
    }
    err->message[n] = '\0';
    redact_message(err);
}
