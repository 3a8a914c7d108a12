/* SPDX-License-Identifier: MIT */
/*
 * listenkit/publisher.h — publishing events by their schema.
 *
 * lk_publish() validates `data` against `schema`, encodes it (compact JSON,
 * sorted keys) and publishes it on the schema's subject. Invalid data is
 * refused before anything reaches the bus, so no service emits an event its
 * listeners would have to term.
 */
#ifndef LISTENKIT_PUBLISHER_H
#define LISTENKIT_PUBLISHER_H

#include <jansson.h>

#include "listenkit/batch.h"
#include "listenkit/bus.h"
#include "listenkit/error.h"
#include "listenkit/event.h"

#ifdef __cplusplus
extern "C" {
#endif

/* `data` is borrowed. Errors carry the subject: validation errors as
 * lk_event_encode() words them, bus errors prefixed with "publish <subject>". */
lk_status lk_publish(lk_bus *client, const lk_schema *schema,
                     const json_t *data, lk_error *err);

/* The same, with publish options (e.g. a de-duplication id). */
lk_status lk_publish_with(lk_bus *client, const lk_schema *schema,
                          const json_t *data, const lk_publish_opts *opts,
                          lk_error *err);

/* The same into a batch (listenkit/batch.h): validated and encoded now,
 * sent without waiting for the acknowledgement, settled by lk_batch_wait.
 * Invalid data is refused here (LK_ERR_INVALID, nothing sent, no index),
 * as is anything lk_batch_publish refuses; errors read as lk_publish's. */
lk_status lk_publish_async(lk_batch *batch, const lk_schema *schema,
                           const json_t *data, const lk_publish_opts *opts,
                           lk_error *err);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_PUBLISHER_H */
