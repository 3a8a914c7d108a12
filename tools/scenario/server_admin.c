/* SPDX-License-Identifier: MIT */
/* server_admin.c — the run's consumers as the server sees them (see
 * scenario/server_admin.h). */
#include "scenario/server_admin.h"

#include <string.h>

#include "listenkit/nats.h"

/* Each admin request waits this long: a paused server costs one poll. */
#define ADMIN_WAIT_MS 1000

static lk_status admin_error(lk_error *err, natsStatus s, const char *what)
{
    lk_status st = s == NATS_TIMEOUT ? LK_ERR_TIMEOUT
                   : s == NATS_NO_MEMORY ? LK_ERR_NOMEM
                                         : LK_ERR_IO;
    return lk_error_set(err, st, "scenario: server admin: %s: %s", what,
                        natsStatus_GetText(s));
}

lk_status scenario_admin_open(scenario_admin *a, const char *url,
                              lk_error *err)
{
    natsOptions *no = NULL;
    memset(a, 0, sizeof *a);
    natsStatus s = natsOptions_Create(&no);
    if (s == NATS_OK)
        s = natsOptions_SetURL(no, url != NULL ? url : LK_NATS_DEFAULT_URL);
    if (s == NATS_OK)
        s = natsOptions_SetName(no, "ticketing-scenario admin");
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(no, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(no, 100);
    if (s == NATS_OK)
        s = natsOptions_SetFailRequestsOnDisconnect(no, true);
    if (s == NATS_OK)
        s = natsConnection_Connect(&a->nc, no);
    natsOptions_Destroy(no);
    if (s == NATS_OK) {
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Wait = ADMIN_WAIT_MS;
        s = natsConnection_JetStream(&a->js, a->nc, &jo);
    }
    if (s != NATS_OK) {
        scenario_admin_close(a);
        return admin_error(err, s, "connect");
    }
    return LK_OK;
}

/* The names of `stream`'s consumers that carry `run_id`, or NULL. */
static natsStatus run_consumers(scenario_admin *a, const char *stream,
                                jsConsumerNamesList **out)
{
    jsErrCode jerr = 0;
    *out = NULL;
    natsStatus s = js_ConsumerNames(out, a->js, stream, NULL, &jerr);
    if (s == NATS_NOT_FOUND) /* no consumer (or stream) yet */
        s = NATS_OK;
    return s;
}

lk_status scenario_admin_backlog(scenario_admin *a, const char *stream,
                                 const char *run_id, scenario_backlog *out,
                                 lk_error *err)
{
    jsConsumerNamesList *names = NULL;
    memset(out, 0, sizeof *out);
    natsStatus s = run_consumers(a, stream, &names);
    for (int i = 0; s == NATS_OK && names != NULL && i < names->Count; i++) {
        if (strstr(names->List[i], run_id) == NULL)
            continue;
        jsConsumerInfo *ci = NULL;
        jsErrCode jerr = 0;
        s = js_GetConsumerInfo(&ci, a->js, stream, names->List[i], NULL, &jerr);
        if (s == NATS_OK) {
            out->consumers++;
            out->pending += (int64_t)ci->NumPending;
            out->ack_pending += ci->NumAckPending;
        }
        jsConsumerInfo_Destroy(ci);
    }
    jsConsumerNamesList_Destroy(names);
    return s == NATS_OK ? LK_OK : admin_error(err, s, "consumer info");
}

void scenario_admin_delete_run(scenario_admin *a, const char *stream,
                               const char *run_id)
{
    jsConsumerNamesList *names = NULL;
    natsStatus s = a->js != NULL ? run_consumers(a, stream, &names)
                                 : NATS_CONNECTION_CLOSED;
    for (int i = 0; s == NATS_OK && names != NULL && i < names->Count; i++) {
        jsErrCode jerr = 0;
        if (strstr(names->List[i], run_id) != NULL)
            s = js_DeleteConsumer(a->js, stream, names->List[i], NULL, &jerr);
    }
    if (s != NATS_OK && s != NATS_NOT_FOUND)
        lk_log(LK_LOG_WARN,
               "scenario: could not delete this run's consumers (%s): %s",
               run_id, natsStatus_GetText(s));
    jsConsumerNamesList_Destroy(names);
}

void scenario_admin_close(scenario_admin *a)
{
    jsCtx_Destroy(a->js);
    natsConnection_Destroy(a->nc);
    a->js = NULL;
    a->nc = NULL;
}
