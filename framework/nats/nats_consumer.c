/* SPDX-License-Identifier: MIT */
/*
 * nats_consumer.c — the durable consumer a subscription binds to: its name,
 * its settings, made once or checked, and tried again a bounded number of
 * times while JetStream cannot answer yet.
 *
 * Why the retries: on a JetStream cluster, several processes creating the
 * same durable at the same moment race through the meta leader; reading the
 * consumer right then can time out, or find it not there yet although the
 * create said it exists. Each is a matter of a few hundred milliseconds, so
 * a member tries again (LK_NATS_JOIN_ATTEMPTS at most, with a growing
 * pause) rather than failing its service's start; a refusal that waiting
 * cannot change (other settings, another queue group) is final at once.
 *
 * Why the cache: members of one queue group often share one bus (a service
 * running several listeners, the bench's four). The first member reads or
 * creates the consumer; members after it with the same settings bind
 * without asking the server again.
 */
#include "nats_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "listenkit/log.h"

#define NS_PER_MS INT64_C(1000000)

/* What this bus has seen the server hold for a consumer (guarded by
 * b->stream_mu). */
struct lk_nats_known {
    struct lk_nats_known *next;
    char *name;
    char *group; /* NULL: no deliver group */
    jsConsumerConfig want; /* only the compared numbers are meaningful */
};

char *lk_nats_consumer_name(const char *base, const char *subject)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    size_t n = strlen(base) + strlen(subject) + 12;
    char *name = malloc(n);
    if (name == NULL)
        return NULL;
    for (const char *p = subject; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    int w = snprintf(name, n, "%s_", base);
    for (const char *p = subject; *p != '\0'; p++) {
        char c = *p;
        int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c >= '0' && c <= '9') || c == '-' || c == '_';
        name[w++] = keep ? c : '_';
    }
    snprintf(name + w, n - (size_t)w, "_%08x", (unsigned)h);
    return name;
}

void lk_nats_consumer_config(jsConsumerConfig *cc, const char *subject,
                             const lk_subscribe_opts *opts)
{
    int64_t ack_wait = opts->ack_wait_ms > 0 ? opts->ack_wait_ms
                                             : LK_DEFAULT_ACK_WAIT_MS;
    jsConsumerConfig_Init(cc);
    cc->AckPolicy = js_AckExplicit;
    cc->AckWait = ack_wait * NS_PER_MS;
    cc->MaxDeliver = opts->max_deliver > 0 ? opts->max_deliver : -1;
    cc->MaxAckPending = opts->max_ack_pending > 0 ? opts->max_ack_pending
                                                  : LK_DEFAULT_MAX_ACK_PENDING;
    cc->DeliverPolicy = opts->deliver_all ? js_DeliverAll : js_DeliverNew;
    cc->FilterSubject = subject;
}

bool lk_nats_join_transient(natsStatus s, jsErrCode jerr)
{
    return s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS ||
           jerr == JSClusterNotAvailErr || jerr == JSClusterNotLeaderErr;
}

lk_status lk_nats_retry(int attempts, int64_t first_ms, int64_t max_ms,
                        lk_nats_attempt_fn attempt, void *ctx, lk_error *err)
{
    lk_status st = LK_OK;
    for (int i = 1; i <= attempts; i++) {
        bool again = false;
        st = attempt(ctx, &again, err);
        if (st == LK_OK || !again)
            return st;
        if (i == attempts)
            break;
        int64_t ms = lk_nats_backoff_ms(i, first_ms, max_ms);
        struct timespec pause = {.tv_sec = (time_t)(ms / 1000),
                                 .tv_nsec = (long)(ms % 1000) * 1000000L};
        nanosleep(&pause, NULL);
    }
    if (err != NULL) {
        size_t n = strlen(err->message);
        snprintf(err->message + n, sizeof err->message - n,
                 " (gave up after %d attempts)", attempts);
    }
    return st;
}

/* ---- what this bus learned ------------------------------------------------ */

static bool same_group(const char *a, const char *b)
{
    return (a == NULL) == (b == NULL) && (a == NULL || strcmp(a, b) == 0);
}

/* The settings check_same_settings compares, and the deliver policy. */
static bool same_settings(const jsConsumerConfig *a, const jsConsumerConfig *b)
{
    return a->AckWait == b->AckWait && a->MaxDeliver == b->MaxDeliver &&
           a->MaxAckPending == b->MaxAckPending &&
           a->DeliverPolicy == b->DeliverPolicy;
}

bool lk_nats_consumer_known(lk_nats_bus *b, const char *name,
                            const char *subject, const lk_subscribe_opts *opts)
{
    jsConsumerConfig want;
    lk_nats_consumer_config(&want, subject, opts);
    bool known = false;
    pthread_mutex_lock(&b->stream_mu);
    for (const struct lk_nats_known *k = b->known; k != NULL && !known; k = k->next)
        known = strcmp(k->name, name) == 0 &&
                same_group(k->group, opts->queue_group) &&
                same_settings(&k->want, &want);
    pthread_mutex_unlock(&b->stream_mu);
    return known;
}

/* Out of memory here only costs a later member a round trip: not an
 * error. */
void lk_nats_consumer_remember(lk_nats_bus *b, const char *name,
                               const char *subject,
                               const lk_subscribe_opts *opts)
{
    if (lk_nats_consumer_known(b, name, subject, opts))
        return;
    struct lk_nats_known *k = calloc(1, sizeof *k);
    if (k == NULL || (k->name = strdup(name)) == NULL ||
        (opts->queue_group != NULL &&
         (k->group = strdup(opts->queue_group)) == NULL)) {
        if (k != NULL)
            free(k->name);
        free(k);
        return;
    }
    lk_nats_consumer_config(&k->want, subject, opts);
    k->want.FilterSubject = NULL; /* not ours to keep */
    pthread_mutex_lock(&b->stream_mu);
    k->next = b->known;
    b->known = k;
    pthread_mutex_unlock(&b->stream_mu);
}

void lk_nats_consumer_forget(lk_nats_bus *b, const char *name)
{
    pthread_mutex_lock(&b->stream_mu);
    struct lk_nats_known **at = &b->known;
    while (*at != NULL) {
        struct lk_nats_known *k = *at;
        if (strcmp(k->name, name) == 0) {
            *at = k->next;
            free(k->name);
            free(k->group);
            free(k);
        } else {
            at = &k->next;
        }
    }
    pthread_mutex_unlock(&b->stream_mu);
}

void lk_nats_consumers_free(lk_nats_bus *b)
{
    while (b->known != NULL) {
        struct lk_nats_known *k = b->known;
        b->known = k->next;
        free(k->name);
        free(k->group);
        free(k);
    }
}

/* ---- create or check -------------------------------------------------------- */

/* A member joining an existing durable must ask for what it has: JetStream
 * keeps the first settings, so a silent bind would run the member with an
 * ack wait, max deliver or max ack pending it did not ask for (the fake
 * refuses it too). */
static lk_status check_same_settings(const jsConsumerConfig *have,
                                     const char *name, const char *subject,
                                     const lk_subscribe_opts *opts,
                                     lk_error *err)
{
    const char *group = have->DeliverGroup;
    const char *want_group = opts->queue_group;
    if (!same_group(group, want_group))
        return lk_error_set(
            err, LK_ERR_INVALID,
            "subscribe %s: durable consumer %s belongs to queue group "
            "\"%s\", not \"%s\"",
            subject, name, group ? group : "(none)",
            want_group ? want_group : "(none)");
    jsConsumerConfig want;
    lk_nats_consumer_config(&want, subject, opts);
    int64_t have_max = have->MaxDeliver > 0 ? have->MaxDeliver : -1;
    if (have->AckWait == want.AckWait && have_max == want.MaxDeliver &&
        have->MaxAckPending == want.MaxAckPending)
        return LK_OK;
    return lk_error_set(err, LK_ERR_INVALID,
                        "subscribe %s: durable consumer %s already has ack "
                        "wait %lld ms, max deliver %lld and max ack pending "
                        "%lld, not %lld ms, %d and %lld",
                        subject, name, (long long)(have->AckWait / NS_PER_MS),
                        (long long)(have_max > 0 ? have_max : 0),
                        (long long)have->MaxAckPending,
                        (long long)(want.AckWait / NS_PER_MS),
                        opts->max_deliver, (long long)want.MaxAckPending);
}

lk_status lk_nats_consumer_ensure(lk_nats_bus *b, const char *name,
                                  const char *subject,
                                  const lk_subscribe_opts *opts, bool *again,
                                  lk_error *err)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetConsumerInfo(&ci, b->js, b->stream, name, NULL, &jerr);
    if (s == NATS_OK) {
        /* It exists: keep its position; say so when its settings differ,
         * since JetStream keeps the first ones. */
        lk_status st = check_same_settings(ci->Config, name, subject, opts, err);
        jsConsumerInfo_Destroy(ci);
        return st;
    }
    if (s != NATS_NOT_FOUND && jerr != JSConsumerNotFoundErr) {
        *again = lk_nats_join_transient(s, jerr);
        return lk_nats_error(err, s, jerr,
                             "subscribe %s: cannot read consumer %s", subject,
                             name);
    }

    /* The deliver subject follows from the stream and the consumer's name,
     * not a fresh inbox: members racing to create the durable then send
     * the same configuration, which JetStream accepts as the consumer that
     * exists rather than refusing or re-pointing it. A 64-bit hash of
     * both, not the names themselves: every delivery carries it, and the
     * bytes count (as short as a libnats inbox). Under _INBOX., where
     * client permissions usually allow replies. */
    uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a, 64 bits */
    for (const char *p = b->stream; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * UINT64_C(1099511628211);
    h = (h ^ '.') * UINT64_C(1099511628211);
    for (const char *p = name; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * UINT64_C(1099511628211);
    char deliver[40];
    snprintf(deliver, sizeof deliver, "_INBOX.lk.%016llx",
             (unsigned long long)h);
    jsConsumerConfig cc;
    lk_nats_consumer_config(&cc, subject, opts);
    cc.Durable = name;
    cc.DeliverSubject = deliver;
    cc.DeliverGroup = opts->queue_group;
    jerr = 0;
    s = js_AddConsumer(NULL, b->js, b->stream, &cc, NULL, &jerr);
    if (s == NATS_OK) {
        lk_log(LK_LOG_INFO, "nats: created durable consumer %s on %s", name,
               subject);
        return LK_OK;
    }
    /* Another member made it meanwhile with other settings (or the server
     * compares more than these): read it again, and check what it has. */
    *again = jerr == JSConsumerNameExistErr ||
             jerr == JSConsumerExistingActiveErr ||
             lk_nats_join_transient(s, jerr);
    return lk_nats_error(err, s, jerr,
                         "subscribe %s: cannot create consumer %s", subject,
                         name);
}
