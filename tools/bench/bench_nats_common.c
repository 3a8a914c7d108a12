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
