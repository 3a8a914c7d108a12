/* SPDX-License-Identifier: MIT */
/* listener_retry.c — the retry policy a listener applies to an event
 * on_message could not process (listenkit/retry.h): nak with a growing
 * delay, and a dead letter on the last delivery, so an unprocessable event
 * leaves the consumer within a bound instead of stalling it. */
#include "listenkit/listener.h"

#include <stdio.h>
#include <string.h>

#include "listenkit/alloc.h"
#include "listenkit/log.h"

/* Long enough for any valid queue group and subject. */
#define DEAD_LETTER_SUBJECT_MAX 512

int lk_listener_max_deliver(const lk_listener_def *def)
{
    return def != NULL && def->max_deliver > 0 ? def->max_deliver
                                               : LK_RETRY_DEFAULT_MAX_DELIVER;
}

static const char *group_of(const lk_listener *l)
{
    return l != NULL && l->def != NULL && l->def->queue_group != NULL
               ? l->def->queue_group
               : "(no queue group)";
}

/* The def's dead-letter subject, else the default one in `buf`. */
static lk_status dead_letter_subject(const lk_listener *l, const lk_msg *msg,
                                     char *buf, size_t size,
                                     const char **out, lk_error *err)
{
    if (l != NULL && l->def != NULL && l->def->dead_letter_subject != NULL) {
        *out = l->def->dead_letter_subject;
        return LK_OK;
    }
    *out = buf;
    return lk_dead_letter_subject(buf, size, group_of(l), msg->subject, err);
}

/* Publishes the envelope; a msg_id per (group, subject, seq) so that a
 * dead letter published twice (the term after it was lost) is stored
 * once by the server. */
static lk_status publish_dead_letter(lk_listener *l, lk_msg *msg,
                                     const char *to, const char *why,
                                     lk_error *err)
{
    char *env = NULL;
    size_t len = 0;
    char id[DEAD_LETTER_SUBJECT_MAX + 32];
    if (l == NULL || l->client == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "no client to publish the dead letter with");
    lk_status s = lk_dead_letter_encode(msg, group_of(l), why, &env, &len, err);
    snprintf(id, sizeof id, "%s:%llu", to, (unsigned long long)msg->stream_seq);
    lk_publish_opts opts = {.msg_id = id};
    if (s == LK_OK)
        s = lk_bus_publish(l->client, to, env, len, &opts, err);
    lk_free(env);
    return s;
}

lk_status lk_listener_dead_letter(lk_listener *listener, lk_msg *msg,
                                  const lk_error *reason)
{
    if (msg == NULL || msg->ops == NULL || msg->subject == NULL) {
        lk_log(LK_LOG_ERROR, "listener dead letter: message is NULL");
        return LK_ERR_INVALID;
    }
    const char *why = reason != NULL && reason->message[0] != '\0'
                          ? reason->message
                          : "unprocessable event";
    char buf[DEAD_LETTER_SUBJECT_MAX];
    const char *to = NULL;
    lk_error e;
    lk_error_clear(&e);
    lk_status s = dead_letter_subject(listener, msg, buf, sizeof buf, &to, &e);
    if (s == LK_OK)
        s = publish_dead_letter(listener, msg, to, why, &e);
    if (s != LK_OK) {
        /* Never lose it: leave it for a spare delivery (or, on a fake
         * message, for the caller to see). */
        int64_t cap = listener != NULL && listener->def != NULL &&
                              listener->def->retry_max_delay_ms > 0
                          ? listener->def->retry_max_delay_ms
                          : LK_RETRY_DEFAULT_MAX_DELAY_MS;
        int64_t delay = lk_retry_delay_ms(cap, cap, 1);
        lk_status ns = lk_msg_nak(msg, delay);
        lk_log(LK_LOG_ERROR,
               "listener %s: %s seq %llu (delivery %llu): dead letter failed "
               "(%s); %s: %s",
               group_of(listener), msg->subject,
               (unsigned long long)msg->stream_seq,
               (unsigned long long)msg->delivery_count, e.message,
               ns == LK_OK ? "left for redelivery" : "nak failed too",
               why);
        return s;
    }
    lk_status ts = lk_msg_term(msg);
    lk_log(LK_LOG_WARN,
           "listener %s: dead-lettered %s seq %llu (delivery %llu of %d) to "
           "%s: %s%s%s",
           group_of(listener), msg->subject,
           (unsigned long long)msg->stream_seq,
           (unsigned long long)msg->delivery_count,
           lk_listener_max_deliver(listener != NULL ? listener->def : NULL),
           to, why, ts == LK_OK ? "" : "; term failed: ",
           ts == LK_OK ? "" : lk_status_str(ts));
    return LK_OK;
}

lk_status lk_listener_retry(lk_listener *listener, lk_msg *msg,
                            lk_status failed)
{
    if (listener == NULL || listener->def == NULL || msg == NULL ||
        msg->ops == NULL)
        return LK_ERR_INVALID;
    const lk_listener_def *def = listener->def;
    int max = lk_listener_max_deliver(def);
    uint64_t n = msg->delivery_count;
    lk_error reason;
    if (n >= (uint64_t)max) {
        lk_error_set(&reason, failed,
                     "on_message returned %s (%s) on the last delivery",
                     lk_status_name(failed), lk_status_str(failed));
        return lk_listener_dead_letter(listener, msg, &reason);
    }
    int64_t delay =
        lk_retry_delay_ms(def->retry_delay_ms, def->retry_max_delay_ms, n);
    lk_status ns = lk_msg_nak(msg, delay);
    bool quiet = failed == LK_ERR_RETRY && n <= LK_RETRY_WARN_AFTER;
    char after[64];
    if (ns == LK_OK)
        snprintf(after, sizeof after, "redelivery in %lld ms",
                 (long long)delay);
    else
        snprintf(after, sizeof after, "nak failed (%s): redelivery after the "
                 "ack wait", lk_status_name(ns));
    lk_log(quiet ? LK_LOG_DEBUG : LK_LOG_WARN,
           "listener %s: %s seq %llu (delivery %llu of %d) not processed: "
           "on_message returned %s (%s); %s",
           def->queue_group, msg->subject, (unsigned long long)msg->stream_seq,
           (unsigned long long)n, max, lk_status_name(failed),
           lk_status_str(failed), after);
    return ns;
}
