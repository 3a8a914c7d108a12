/* SPDX-License-Identifier: MIT */
/*
 * outbox-private.h — what outbox.c (staging, sending) and outbox_relay.c
 * (the relay pass and its thread) share. Not installed.
 */
#ifndef LISTENKIT_OUTBOX_PRIVATE_H
#define LISTENKIT_OUTBOX_PRIVATE_H

#include <pthread.h>

#include "listenkit/outbox.h"


struct lk_outbox {
    lk_bus *bus;            /* borrowed; NULL: nothing goes out */
    lk_collection *events;  /* LK_OUTBOX_COLLECTION */
    lk_collection *watched[LK_OUTBOX_MAX_WATCHED];
    size_t nwatched;
    lk_outbox_opts opts;
    bool defer;             /* saves leave their events to the relay */
    pthread_mutex_t mu;     /* guards the thread state below */
    pthread_cond_t wake;
    pthread_t thread;
    bool running, stopping, kicked;
};

/* The ids a document names in LK_OUTBOX_FIELD. */
typedef struct lk_outbox_ids {
    bson_oid_t *ids;
    size_t len, cap;
} lk_outbox_ids;

/* Wall-clock milliseconds: entries' "at". */
int64_t lk_outbox_wall_ms_(void);

/* Appends the ObjectIds `doc` names in LK_OUTBOX_FIELD to `out`. */
lk_status lk_outbox_named_ids_(const bson_t *doc, lk_outbox_ids *out, lk_error *err);

/* True when `doc` names event `id` (allocates nothing). */
bool lk_outbox_names_(const bson_t *doc, const bson_oid_t *id);

/* The watched collection called `name`, or NULL. */
lk_collection *lk_outbox_watched_(const lk_outbox *ob, const char *name);

/* What an entry publishes: borrowed from the entry it was read from. */
typedef struct lk_outbox_message {
    bson_oid_t id;       /* the event id: its Nats-Msg-Id */
    char hex[25];        /* id as text */
    const char *subject;
    const char *data;
    size_t len;
} lk_outbox_message;

/* Reads `entry`'s id, subject and data into *out; LK_ERR_INVALID when it
 * lacks one. */
lk_status lk_outbox_entry_message_(const bson_t *entry, lk_outbox_message *out,
                                   lk_error *err);

/* Deletes the entry of a message the server acknowledged ("marked sent");
 * a failure is logged (the next relay sends it again, de-duplicated). */
void lk_outbox_mark_sent_(lk_outbox *ob, const lk_outbox_message *m);

/* Publishes `entry` (Nats-Msg-Id = its _id), then deletes it. */
lk_status lk_outbox_send_entry_(lk_outbox *ob, const bson_t *entry,
                                lk_error *err);

#endif /* LISTENKIT_OUTBOX_PRIVATE_H */
