/* SPDX-License-Identifier: MIT */
/* nats_status.c — libnats statuses as lk_status, with the library's text. */
#include "nats_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* libnats statuses with a listenkit meaning of their own. Everything else
 * (network, protocol, authentication, TLS, no responders, JetStream API
 * errors) means the server or the way to it failed: LK_ERR_IO. */
static const struct {
    natsStatus nats;
    lk_status lk;
} status_map[] = {
    {NATS_OK, LK_OK},
    {NATS_TIMEOUT, LK_ERR_TIMEOUT},
    {NATS_NO_MEMORY, LK_ERR_NOMEM},
    {NATS_INVALID_ARG, LK_ERR_INVALID},
    {NATS_INVALID_SUBJECT, LK_ERR_INVALID},
    {NATS_INVALID_TIMEOUT, LK_ERR_INVALID},
    {NATS_INVALID_QUEUE_NAME, LK_ERR_INVALID},
    {NATS_ADDRESS_MISSING, LK_ERR_INVALID},
    {NATS_MAX_PAYLOAD, LK_ERR_TOO_LARGE},
    {NATS_NOT_FOUND, LK_ERR_NOT_FOUND},
    {NATS_CONNECTION_CLOSED, LK_ERR_CLOSED},
    {NATS_DRAINING, LK_ERR_CLOSED},
    {NATS_ILLEGAL_STATE, LK_ERR_STATE},
    {NATS_NO_SERVER_SUPPORT, LK_ERR_UNSUPPORTED},
};

lk_status lk_nats_status_map(natsStatus s)
{
    for (size_t i = 0; i < sizeof status_map / sizeof status_map[0]; i++)
        if (status_map[i].nats == s)
            return status_map[i].lk;
    return LK_ERR_IO;
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

