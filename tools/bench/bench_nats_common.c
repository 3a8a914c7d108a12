/* SPDX-License-Identifier: MIT */
/* bench_nats_common.c — see bench_nats.h. */
#include "bench_nats.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "bench.h"

void waiter_init(waiter *w)
{
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->acked = w->want = 0;
    w->sum = 0;
    w->failed = false;
}

void waiter_destroy(waiter *w)
{
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
}

void waiter_reset(waiter *w, size_t want)
{
    pthread_mutex_lock(&w->mu);
    w->acked = 0;
    w->want = want;
    w->sum = 0;
    w->failed = false;
    pthread_mutex_unlock(&w->mu);
}

void waiter_add(waiter *w, uint64_t sum, bool ok)
{
    pthread_mutex_lock(&w->mu);
    w->sum += sum;
    if (ok)
        w->acked++;
    else
        w->failed = true;
    if (w->acked >= w->want || w->failed)
        pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

bool waiter_wait(waiter *w, uint64_t *sum)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAITER_TIMEOUT_S;
    pthread_mutex_lock(&w->mu);
    int rc = 0;
    while (w->acked < w->want && !w->failed && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&w->cv, &w->mu, &until);
    bool ok = w->acked >= w->want && !w->failed;
    *sum = w->sum;
    if (!ok)
        fprintf(stderr, "bench: nats: %zu of %zu events acked%s\n", w->acked,
                w->want, w->failed ? " (an ack failed)" : " (timeout)");
    pthread_mutex_unlock(&w->mu);
    return ok;
}

lk_status bench_nats_on_updated(lk_listener *l, const json_t *data,
                                lk_msg *msg)
{
    waiter *w = l->ctx;
    uint64_t sum = bench_read_ticket_lk(data);
    lk_status s = lk_msg_ack(msg);
    waiter_add(w, sum, s == LK_OK);
    return s;
}

void bench_nats_on_raw(natsConnection *nc, natsSubscription *sub, natsMsg *m,
                       void *closure)
{
    waiter *w = closure;
    uint64_t sum = 0;
    json_error_t jerr;
    (void)nc;
    (void)sub;
    json_t *data = json_loadb(natsMsg_GetData(m),
                              (size_t)natsMsg_GetDataLength(m), 0, &jerr);
    bool ok = data != NULL && bench_read_ticket_raw(data, &sum);
    json_decref(data);
    /* As the adapter does: bad data is termed, good data acked. */
    natsStatus s = ok ? natsMsg_Ack(m, NULL) : natsMsg_Term(m, NULL);
    waiter_add(w, sum, ok && s == NATS_OK);
    natsMsg_Destroy(m);
}

bool bench_nats_failed(const char *what, natsStatus s, jsErrCode jerr)
{
    fprintf(stderr, "bench: nats (libnats): %s: %s (JetStream error %d)\n",
            what, natsStatus_GetText(s), (int)jerr);
    return false;
}

bool bench_nats_add_stream(jsCtx *js, const char *stream, const char *subject)
{
    jsStreamConfig sc;
    jsErrCode jerr = 0;
    const char *subjects[1] = {subject};
    jsStreamConfig_Init(&sc);
    sc.Name = stream;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    natsStatus s = js_AddStream(NULL, js, &sc, NULL, &jerr);
    return s == NATS_OK || bench_nats_failed("add stream", s, jerr);
}

bool bench_nats_add_consumer(jsCtx *js, const char *stream,
                             const char *subject, const char *durable,
                             const char *group)
{
    jsConsumerConfig cc;
    jsErrCode jerr = 0;
    char inbox[64];
    natsInbox *ib = NULL;
    natsStatus s = natsInbox_Create(&ib);
    if (s != NATS_OK)
        return bench_nats_failed("inbox", s, 0);
    snprintf(inbox, sizeof inbox, "%s", (const char *)ib);
    natsInbox_Destroy(ib);
    jsConsumerConfig_Init(&cc);
    cc.Durable = durable;
    cc.DeliverSubject = inbox;
    cc.DeliverGroup = group;
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = (int64_t)LK_DEFAULT_ACK_WAIT_MS * 1000000;
    cc.MaxAckPending = LK_DEFAULT_MAX_ACK_PENDING;
    cc.MaxDeliver = -1;
    cc.DeliverPolicy = js_DeliverAll;
    cc.FilterSubject = subject;
    s = js_AddConsumer(NULL, js, stream, &cc, NULL, &jerr);
    return s == NATS_OK || bench_nats_failed("add consumer", s, jerr);
}
