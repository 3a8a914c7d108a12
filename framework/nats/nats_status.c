/* nats_status.c — libnats statuses as lk_status, with the library's text. */
#include "nats_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

lk_status lk_nats_status_map(natsStatus s)
{
    switch (s) {
    case NATS_OK:
        return LK_OK;
    case NATS_TIMEOUT:
        return LK_ERR_TIMEOUT;
    case NATS_NO_MEMORY:
        return LK_ERR_NOMEM;
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
    case NATS_INVALID_TIMEOUT:
    case NATS_INVALID_QUEUE_NAME:
    case NATS_ADDRESS_MISSING:
        return LK_ERR_INVALID;
    case NATS_MAX_PAYLOAD:
        return LK_ERR_TOO_LARGE;
    case NATS_NOT_FOUND:
        return LK_ERR_NOT_FOUND;
    case NATS_CONNECTION_CLOSED:
    case NATS_DRAINING:
        return LK_ERR_CLOSED;
    case NATS_ILLEGAL_STATE:
        return LK_ERR_STATE;
    case NATS_NO_SERVER_SUPPORT:
        return LK_ERR_UNSUPPORTED;
    default:
        /* Network, protocol, authentication, TLS, no responders, JetStream
         * API errors: the server or the way to it failed. */
        return LK_ERR_IO;
    }
}

lk_status lk_nats_error(lk_error *err, natsStatus s, jsErrCode jerr,
                        const char *fmt, ...)
{
    lk_status status = lk_nats_status_map(s);
    char context[LK_ERROR_MESSAGE_MAX + 1];
    char detail[LK_ERROR_MESSAGE_MAX + 1] = "";
    va_list ap;

    if (err == NULL)
        return status;
    va_start(ap, fmt);
    vsnprintf(context, sizeof context, fmt, ap);
    va_end(ap);

    /* The thread's last error is more precise than the status text ("No
     * server available for connection", "stream not found"), but only when
     * it belongs to this very failure. */
    natsStatus last = NATS_OK;
    const char *text = nats_GetLastError(&last);
    /* It reads "(conn.c:2088): No server available...": drop the place. */
    if (text != NULL && text[0] == '(' && strstr(text, "): ") != NULL)
        text = strstr(text, "): ") + 3;
    if (text != NULL && text[0] != '\0' && last == s &&
        strcmp(text, natsStatus_GetText(s)) != 0)
        snprintf(detail, sizeof detail, " (%s)", text);
    if (jerr != 0)
        return lk_error_set(err, status, "%s: %s%s [JetStream error %d]",
                            context, natsStatus_GetText(s), detail,
                            (int)jerr);
    return lk_error_set(err, status, "%s: %s%s", context,
                        natsStatus_GetText(s), detail);
}

bool lk_nats_name_is_valid(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return false;
    for (const char *p = name; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c >= 0x7f || strchr(".*>/\\", c) != NULL)
            return false;
    }
    return true;
}
