/* SPDX-License-Identifier: MIT */
/* listener.c — the dispatch every listener shares: decode, validate, hand
 * over, and make sure bad data is termed and logged rather than cycled. */
#include "listenkit/listener.h"

#include <stdint.h>
#include <string.h>

#include "listenkit/log.h"

/* JetStream durable (consumer) names must not contain '.', wildcards or
 * whitespace; they name a server-side object, not a subject. */
static const char *def_subject(const lk_listener_def *def)
{
    return def != NULL && def->schema != NULL && def->schema->subject != NULL
               ? def->schema->subject
               : "(no subject)";
}

/* The retry policy's fields (retry.h). */
static lk_status check_retry(const lk_listener_def *def, const char *subject,
                             lk_error *err)
{
    if (def->retry_delay_ms < 0 || def->retry_max_delay_ms < 0)
        return lk_error_set(err, LK_ERR_INVALID,
                            "listener %s: retry_delay_ms and "
                            "retry_max_delay_ms must be >= 0, got %lld and "
                            "%lld",
                            subject, (long long)def->retry_delay_ms,
                            (long long)def->retry_max_delay_ms);
    if (def->max_deliver > INT32_MAX - LK_RETRY_SPARE_DELIVERIES)
        return lk_error_set(err, LK_ERR_INVALID,
                            "listener %s: max_deliver %d leaves no room for "
                            "the %d spare deliveries",
                            subject, def->max_deliver,
                            LK_RETRY_SPARE_DELIVERIES);
    int64_t first = lk_retry_delay_ms(def->retry_delay_ms,
                                      def->retry_max_delay_ms, 1);
    if (def->retry_max_delay_ms > 0 && def->retry_delay_ms > 0 &&
        first < def->retry_delay_ms)
        return lk_error_set(err, LK_ERR_INVALID,
                            "listener %s: retry_max_delay_ms %lld is below "
                            "retry_delay_ms %lld",
                            subject, (long long)def->retry_max_delay_ms,
                            (long long)def->retry_delay_ms);
    const char *dl = def->dead_letter_subject;
    if (dl != NULL && (!lk_subject_is_valid(dl) || strcmp(dl, subject) == 0))
        return lk_error_set(err, LK_ERR_INVALID,
                            "listener %s: invalid dead_letter_subject \"%s\" "
                            "(a valid subject other than the listener's)",
                            subject, dl);
    return LK_OK;
}

static lk_status check_def(const lk_listener_def *def, lk_error *err)
{
    if (def == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "listener: def is NULL");
    if (def->schema == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "listener: schema is NULL");
    const char *subject = def_subject(def);
    if (!lk_subject_is_valid(def->schema->subject))
        return lk_error_set(err, LK_ERR_INVALID,
                            "listener: invalid subject \"%s\"", subject);
    if (def->queue_group == NULL || def->queue_group[0] == '\0')
        return lk_error_set(err, LK_ERR_INVALID,
                            "listener %s: queue group is required", subject);
    if (def->on_message == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "listener %s: on_message is NULL", subject);
    if (def->ack_wait_ms < 0)
        return lk_error_set(err, LK_ERR_INVALID,
                            "listener %s: ack_wait_ms must be >= 0, got %lld",
                            subject, (long long)def->ack_wait_ms);
    if (def->max_deliver < 0)
        return lk_error_set(err, LK_ERR_INVALID,
                            "listener %s: max_deliver must be >= 0, got %d",
                            subject, def->max_deliver);
    if (def->max_ack_pending < 0)
        return lk_error_set(err, LK_ERR_INVALID,
                            "listener %s: max_ack_pending must be >= 0, got %d",
                            subject, def->max_ack_pending);
    lk_status rs = check_retry(def, subject, err);
    if (rs != LK_OK)
        return rs;
    /* JetStream names consumers after the durable name, and libnats checks
     * the queue group by the same rule even when a durable name is given:
     * both must be valid names. */
    const char *names[2] = {def->queue_group, def->durable_name};
    for (int i = 0; i < 2; i++) {
        if (names[i] != NULL && !lk_jetstream_name_is_valid(names[i]))
            return lk_error_set(err, LK_ERR_INVALID,
                                "listener %s: invalid %s \"%s\" for "
                                "JetStream (no '.', '*', '>', '/', '\\' or "
                                "spaces)",
                                subject, i == 0 ? "queue group" : "durable name",
                                names[i]);
    }
    return LK_OK;
}

lk_status lk_listener_init(lk_listener *listener, const lk_listener_def *def,
                           lk_bus *client, void *ctx, lk_error *err)
{
    if (listener == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "listener: listener is NULL");
    memset(listener, 0, sizeof *listener);
    lk_status s = check_def(def, err);
    if (s != LK_OK)
        return s;
    listener->def = def;
    listener->client = client;
    listener->ctx = ctx;
    return LK_OK;
}

lk_subscribe_opts lk_listener_subscribe_opts(const lk_listener_def *def)
{
    lk_subscribe_opts opts = {.deliver_all = true,
                              .ack_wait_ms = LK_DEFAULT_ACK_WAIT_MS};
    if (def == NULL)
        return opts;
    opts.queue_group = def->queue_group;
    opts.durable_name =
        def->durable_name != NULL ? def->durable_name : def->queue_group;
    if (def->ack_wait_ms > 0)
        opts.ack_wait_ms = def->ack_wait_ms;
    /* Spare deliveries: one that comes after a hung last delivery, or after
     * a dead letter that could not be published, is dead-lettered then. */
    opts.max_deliver = lk_listener_max_deliver(def) + LK_RETRY_SPARE_DELIVERIES;
    opts.max_ack_pending = def->max_ack_pending;
    return opts;
}

/* What the bus calls: the listener travels as the closure. */
static void on_delivery(lk_msg *msg, void *closure)
{
    (void)lk_listener_dispatch(closure, msg);
}

lk_status lk_listener_listen(lk_listener *listener, lk_error *err)
{
    if (listener == NULL || listener->def == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "listen: listener is not initialised");
    const lk_listener_def *def = listener->def;
    if (listener->client == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "listener %s: no client to listen on",
                            def_subject(def));
    lk_subscribe_opts opts = lk_listener_subscribe_opts(def);
    lk_status s = lk_bus_subscribe(listener->client, def->schema->subject,
                                   &opts, on_delivery, listener, err);
    if (s != LK_OK)
        lk_error_prefix(err, "listener %s", def->queue_group);
    return s;
}

/* Decode errors start with the subject; the log line names it already. */
static const char *reason_without_subject(const char *reason,
                                          const char *subject)
{
    size_t n = strlen(subject);
    if (strncmp(reason, subject, n) == 0 && strncmp(reason + n, ": ", 2) == 0)
        return reason + n + 2;
    return reason;
}

lk_status lk_listener_term(lk_listener *listener, lk_msg *msg,
                           const lk_error *reason)
{
    if (msg == NULL || msg->ops == NULL) {
        lk_log(LK_LOG_ERROR, "listener term: message is NULL");
        return LK_ERR_INVALID;
    }
    const char *subject = msg->subject != NULL ? msg->subject : "(null)";
    const char *why = reason != NULL && reason->message[0] != '\0'
                          ? reason_without_subject(reason->message, subject)
                          : "invalid event";
    const char *group = listener != NULL && listener->def != NULL &&
                                listener->def->queue_group != NULL
                            ? listener->def->queue_group
                            : NULL;
    lk_status ts = lk_msg_term(msg);
    lk_log(LK_LOG_WARN,
           "%s%s%sterminated %s seq %llu (delivery %llu): %s%s%s",
           group != NULL ? "listener " : "", group != NULL ? group : "",
           group != NULL ? ": " : "", subject,
           (unsigned long long)msg->stream_seq,
           (unsigned long long)msg->delivery_count, why,
           ts == LK_OK ? "" : "; term failed: ",
           ts == LK_OK ? "" : lk_status_str(ts));
    return ts;
}

/* What on_message gets: the delivery, plus a note of whether it replied,
 * so the retry policy never naks a message that was acked or termed. */
typedef struct tracked_msg {
    lk_msg base; /* first: on_message's lk_msg * is this */
    lk_msg *inner;
    bool replied;
} tracked_msg;

static lk_status tracked_reply(lk_msg *msg, lk_status s)
{
    if (s == LK_OK)
        ((tracked_msg *)msg)->replied = true;
    return s;
}

static lk_status tracked_ack(lk_msg *msg)
{
    return tracked_reply(msg, lk_msg_ack(((tracked_msg *)msg)->inner));
}

static lk_status tracked_nak(lk_msg *msg, int64_t delay_ms)
{
    return tracked_reply(msg,
                         lk_msg_nak(((tracked_msg *)msg)->inner, delay_ms));
}

static lk_status tracked_term(lk_msg *msg)
{
    return tracked_reply(msg, lk_msg_term(((tracked_msg *)msg)->inner));
}

static lk_status tracked_in_progress(lk_msg *msg)
{
    return lk_msg_in_progress(((tracked_msg *)msg)->inner);
}

static const lk_msg_ops tracked_ops = {
    .ack = tracked_ack,
    .nak = tracked_nak,
    .term = tracked_term,
    .in_progress = tracked_in_progress,
    .free = NULL, /* on the dispatcher's stack */
};

lk_status lk_listener_dispatch(lk_listener *listener, lk_msg *msg)
{
    if (listener == NULL || listener->def == NULL || msg == NULL ||
        msg->ops == NULL) {
        lk_log(LK_LOG_ERROR, "dispatch: %s is NULL",
               msg == NULL || msg->ops == NULL ? "message" : "listener");
        return LK_ERR_INVALID;
    }
    const lk_listener_def *def = listener->def;
    const char *subject = def->schema->subject;

    /* A bus that routes a subject here that the schema does not describe
     * would have the data validated against the wrong schema. */
    if (msg->subject == NULL || strcmp(msg->subject, subject) != 0) {
        lk_error reason;
        lk_error_set(&reason, LK_ERR_INVALID,
                     "unknown subject (this listener handles %s)", subject);
        (void)lk_listener_term(listener, msg, &reason);
        return LK_ERR_INVALID;
    }

    json_t *data = NULL;
    lk_error e;
    lk_error_clear(&e);
    lk_status s = lk_event_decode(def->schema, msg->data, msg->length, &data,
                                  &e);
    /* Out of memory says nothing about the event: it stays for
     * redelivery, like an on_message that failed. */
    if (s != LK_OK && s != LK_ERR_NOMEM) {
        (void)lk_listener_term(listener, msg, &e);
        return s; /* the decode status: the event was invalid */
    }

    if (s != LK_OK) {
        lk_log(LK_LOG_WARN,
               "listener %s: %s seq %llu (delivery %llu) left un-acked for "
               "redelivery: decode ran out of memory: %s (%s)",
               def->queue_group, subject, (unsigned long long)msg->stream_seq,
               (unsigned long long)msg->delivery_count, lk_status_name(s),
               lk_status_str(s));
        return s;
    }

    if (msg->delivery_count > (uint64_t)lk_listener_max_deliver(def)) {
        /* A spare delivery: the last one hung, or its dead letter failed. */
        json_decref(data);
        lk_error_set(&e, LK_ERR_RETRY,
                     "delivery %llu is past max deliver %d (the last one got "
                     "no reply or could not be dead-lettered)",
                     (unsigned long long)msg->delivery_count,
                     lk_listener_max_deliver(def));
        return lk_listener_dead_letter(listener, msg, &e);
    }

    tracked_msg t = {.base = *msg, .inner = msg, .replied = false};
    t.base.ops = &tracked_ops;
    s = def->on_message(listener, data, &t.base);
    json_decref(data);
    if (s != LK_OK && !t.replied)
        (void)lk_listener_retry(listener, msg, s);
    else if (s != LK_OK)
        lk_log(LK_LOG_WARN,
               "listener %s: %s seq %llu (delivery %llu): on_message replied, "
               "then returned %s (%s)",
               def->queue_group, subject, (unsigned long long)msg->stream_seq,
               (unsigned long long)msg->delivery_count, lk_status_name(s),
               lk_status_str(s));
    return s;
}
