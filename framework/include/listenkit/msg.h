/* SPDX-License-Identifier: MIT */
/*
 * listenkit/msg.h — one delivery of one message.
 *
 * An lk_msg is what a bus hands to a subscription handler: the subject, the
 * raw bytes, where the message sits in the stream and how many times it has
 * been delivered, plus the four replies a consumer can give:
 *
 *   ack          processed; never deliver again
 *   nak(delay)   not processed; deliver again after `delay_ms` (0: soon)
 *   term         never deliver again, it cannot be processed (bad data)
 *   in_progress  still working; restart the ack-wait timer
 *
 * A message that gets no reply is delivered again once its ack wait runs
 * out, with delivery_count + 1, until the subscription's max deliver.
 *
 * Implementations put `const lk_msg_ops *ops` first and embed lk_msg as
 * their first member; callers use the inline wrappers below.
 *
 * Lifetime: a message handed to a handler is borrowed and valid until the
 * handler returns; the bus frees it. A message made by a double
 * (lk_fake_msg_new) belongs to whoever made it and is released with
 * lk_msg_free().
 */
#ifndef LISTENKIT_MSG_H
#define LISTENKIT_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "listenkit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lk_msg lk_msg;

typedef struct lk_msg_ops {
    lk_status (*ack)(lk_msg *msg);
    lk_status (*nak)(lk_msg *msg, int64_t delay_ms);
    lk_status (*term)(lk_msg *msg);
    lk_status (*in_progress)(lk_msg *msg);
    void (*free)(lk_msg *msg); /* NULL: the bus frees its messages itself */
} lk_msg_ops;

struct lk_msg {
    const lk_msg_ops *ops;
    const char *subject;     /* NUL-terminated */
    const char *data;        /* `length` bytes, NUL-terminated for convenience */
    size_t length;
    uint64_t stream_seq;     /* position in the stream, from 1 */
    uint64_t delivery_count; /* 1 on first delivery */
    int64_t timestamp_ms;    /* publish time, ms since the epoch (or virtual) */
};

static inline lk_status lk_msg_ack(lk_msg *msg) { return msg->ops->ack(msg); }

static inline lk_status lk_msg_nak(lk_msg *msg, int64_t delay_ms)
{
    return msg->ops->nak(msg, delay_ms);
}

static inline lk_status lk_msg_term(lk_msg *msg) { return msg->ops->term(msg); }

static inline lk_status lk_msg_in_progress(lk_msg *msg)
{
    return msg->ops->in_progress(msg);
}

/* Releases a message its caller owns (see Lifetime above). NULL is ignored. */
static inline void lk_msg_free(lk_msg *msg)
{
    if (msg != NULL && msg->ops->free != NULL)
        msg->ops->free(msg);
}

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_MSG_H */
